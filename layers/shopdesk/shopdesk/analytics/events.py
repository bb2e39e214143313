"""The event lake's schema, and how events are derived from the table's stream (item images, NEW and OLD).

Every fact is one immutable event of a stable schema (``SCHEMA_VERSION``; a field is only ever added, never
renamed or retyped; a change of meaning takes a new ``type``). Events are derived from what the table
writes, never from the handlers, so no code path can forget one and the lake can be rebuilt by replaying
the stream. The derivation is stateless: one stream record (its keys and both images) gives every event
it carries. Ids are deterministic (a digest of the fact, not of the delivery), so a retried batch or a
replayed stream gives the same ids, and readers keep one row per id (``analytics/sql.py``). Events carry ids
and machine values, never words a customer or an agent wrote (a name, a comment, a merge's reason).

Where a figure needs a duration (first and next response, resolution) the event carries it, in calendar
seconds and in business seconds of the calendar the conversation's SLA clocks use (``clocks_json``), so
reports never re-derive cycles from raw rows. docs/metrics.md defines every figure.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shopdesk.logic import topics
from shopdesk.logic.business_time import ClockState, ConversationClocks, business_seconds_between
from shopdesk.models.sla import BusinessHours

SCHEMA_VERSION = 1


class EventType(StrEnum):
    CONVERSATION_OPENED = "conversation_opened"
    CONVERSATION_CLASSIFIED = "conversation_classified"   # its language or team set or changed
    MESSAGE_RECEIVED = "message_received"          # a customer's message
    MESSAGE_SENT = "message_sent"                  # anything we send: a reply, a template, an acknowledgement
    MESSAGE_DELIVERED = "message_delivered"
    MESSAGE_FAILED = "message_failed"
    # the same failure dated as the message itself: withdraws what its insert counted (message_sent, bot_answered,
    # csat_asked) from the figures of the period, day and hour they fell in (``analytics.sql.NOT_REFUSED``)
    MESSAGE_REFUSED = "message_refused"
    ASSIGNED = "assigned"
    TRANSFERRED = "transferred"
    UNASSIGNED = "unassigned"
    STATUS_CHANGED = "status_changed"              # to resolved: carries the resolution time of the cycle
    FIRST_HUMAN_REPLY = "first_human_reply"        # the first reply of a person in a cycle
    NEXT_HUMAN_REPLY = "next_human_reply"          # a later reply that answered a waiting customer
    SLA_WARNED = "sla_warned"
    SLA_BREACHED = "sla_breached"
    SLA_MET = "sla_met"
    CUSTOMER_MERGED = "customer_merged"
    CUSTOMER_UNMERGED = "customer_unmerged"
    ORDER_ACTION = "order_action"
    BOT_ANSWERED = "bot_answered"                  # produced from message kinds the bot writes (below)
    BOT_HANDED_OFF = "bot_handed_off"
    BOT_RESOLVED = "bot_resolved"
    CSAT_ASKED = "csat_asked"
    CSAT_ANSWERED = "csat_answered"
    TOPIC_ADDED = "topic_added"                    # a contact reason named (shopdesk.logic.topics): ``topic``
    TOPIC_REMOVED = "topic_removed"                # its label taken off, and no other source names it
    CSAT_COMMENTED = "csat_commented"              # the comment a customer added after their rating
    PRESENCE_CHANGED = "presence_changed"          # an agent went online, away or offline (from/to_value)


# Who may be credited as an agent: anyone but these actors.
NOT_AGENTS = frozenset({None, "", "system", "customer", "router", "bot"})
# Outbound kinds that are not a person's answer.
AUTOMATIC_KINDS = frozenset({"acknowledgement", "auto_reply", "bot_answer", "csat_survey", "csat_follow_up"})
# Message kinds other capabilities write, and the event each one is (payload fields documented in metrics.md).
KIND_EVENTS = {
    "bot_answer": EventType.BOT_ANSWERED,
    "bot_handoff": EventType.BOT_HANDED_OFF,
    "csat_survey": EventType.CSAT_ASKED,
    "csat_answer": EventType.CSAT_ANSWERED,
    "csat_comment": EventType.CSAT_COMMENTED,
    "order_action": EventType.ORDER_ACTION,
}
# What a message kind's event keeps of its payload in ``detail``: ids and machine values only, those its kind writes.
# The payload also holds what the customer wrote (a CSAT comment: ``commented`` says there is one; the words stay on
# the survey record, which retention and an erase remove) and, on a rating or a comment, the channel's own fields of
# the customer's message (an email's headers, where its raw mail is, whatever a provider named ``reason`` or
# ``order``): none of those reach the lake.
DETAIL_KEYS = ("action", "agent_id", "cycle", "done", "language", "order", "rating", "rating_source", "reason",
               "team")
CSAT_KEYS = ("agent_id", "cycle", "language", "rating", "rating_source", "team")
KIND_DETAIL_KEYS = {
    EventType.ORDER_ACTION: ("action", "agent_id", "done", "order"),
    EventType.BOT_ANSWERED: ("action", "language", "reason", "team"),
    EventType.BOT_HANDED_OFF: ("action", "language", "reason", "team"),
    EventType.CSAT_ASKED: CSAT_KEYS, EventType.CSAT_ANSWERED: CSAT_KEYS, EventType.CSAT_COMMENTED: CSAT_KEYS,
}
# Where a message kind's event takes its ``reason`` from: an order action's action, a hand-over's reason (the
# bot's machine values); a survey's events have none.
KIND_REASON = {EventType.ORDER_ACTION: "action", EventType.BOT_ANSWERED: "reason", EventType.BOT_HANDED_OFF: "reason"}
# What the bot's own messages (``payload.bot``, shopdesk.bot.converse) give their event's ``detail``.
BOT_DETAIL_KEYS = ("action", "article_id", "confidence", "handoff_reason", "order_number")
DELIVERED = frozenset({"delivered", "read"})
FAILED = frozenset({"failed", "undelivered"})


class Event(BaseModel):
    """One row of the lake. Flat, so the Glue table, Parquet and both SQL dialects read it as it is."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    type: EventType
    version: int = SCHEMA_VERSION
    occurred_at: str                          # ISO 8601 UTC, milliseconds
    at_ms: int                                # the same instant in epoch milliseconds (what SQL compares)
    day: str                                  # the UTC date of ``at``: the partition
    conversation_id: str | None = None
    customer_id: str | None = None
    channel: str | None = None
    team: str | None = None
    language: str | None = None
    priority: str | None = None
    agent_id: str | None = None               # the agent credited (docs/metrics.md, attribution)
    actor: str | None = None                  # who caused it: an agent, customer, system, router, bot
    message_id: str | None = None
    from_value: str | None = None             # status or assignee before
    to_value: str | None = None               # status or assignee after
    target: str | None = None                 # SLA target: first_response, next_response, resolution
    reason: str | None = None
    started_at_ms: int | None = None          # where a measured duration starts
    duration_s: float | None = None           # calendar seconds
    business_s: float | None = None           # business seconds in the conversation's SLA calendar
    rating: int | None = Field(default=None, ge=1, le=5)
    detail: str | None = None                 # JSON of anything else, for reading, not for grouping
    topic: str | None = None                  # topic_added / topic_removed: the normalised topic (reason: source)


# ---------------------------------------------------------------------------------------------------------------
# helpers

def _instant(value: Any) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _digest(*parts: Any) -> str:
    return hashlib.sha256("|".join("" if p is None else str(p) for p in parts).encode()).hexdigest()[:32]


def _seconds(start: datetime, end: datetime) -> float:
    return round((end - start).total_seconds(), 3)


def _clocks(image: Mapping[str, Any] | None) -> ConversationClocks | None:
    raw = (image or {}).get("clocks_json")
    if not raw:
        return None
    try:
        return ConversationClocks.model_validate_json(raw)
    except ValueError:
        return None


def _hours(image: Mapping[str, Any] | None) -> BusinessHours:
    clocks = _clocks(image)
    return clocks.hours if clocks is not None else BusinessHours.always_open()


def _agent(value: Any) -> str | None:
    return None if value in NOT_AGENTS else str(value)


class _Context:
    """What every event of one conversation record carries, taken from the image after the change."""

    def __init__(self, image: Mapping[str, Any]):
        self.image = image
        customer = image.get("customer") or {}
        self.common = {
            "conversation_id": image.get("id") or str(image.get("PK", "")).removeprefix("CONV#") or None,
            "customer_id": customer.get("id"), "channel": image.get("channel"), "team": image.get("team"),
            "language": image.get("language"), "priority": image.get("priority"),
        }

    def event(self, kind: EventType, at: datetime, key: tuple[Any, ...], **fields: Any) -> Event:
        values = {**self.common, **fields}
        return Event(event_id=_digest(kind.value, values.get("conversation_id"), *key), type=kind,
                     occurred_at=_iso(at), at_ms=_ms(at), day=at.astimezone(UTC).date().isoformat(), **values)


def cycle_start(image: Mapping[str, Any]) -> datetime:
    """Where a person's part of the current cycle starts: the customer's first message (``created_at``) or
    the reopen (``cycle_started_at``), or the bot's hand-over when that came later (``handed_off_at``)."""
    start = _instant(image.get("cycle_started_at")) or _instant(image.get("created_at"))
    handed = _instant(image.get("handed_off_at"))
    assert start is not None
    return max(start, handed) if handed else start


# ---------------------------------------------------------------------------------------------------------------
# derivation

def derive(event_name: str, keys: Mapping[str, Any], new: Mapping[str, Any] | None,
           old: Mapping[str, Any] | None, written_at: datetime | None = None) -> list[Event]:
    """Every event one stream record carries (deserialised images); [] for items that carry none.
    ``written_at`` is the record's time (``ApproximateCreationDateTime``): when a delivery receipt, which
    the message item does not date, was applied."""
    pk, sk = str(keys.get("PK", "")), str(keys.get("SK", ""))
    if event_name == "REMOVE" or not new:
        return []                          # expiry and erasure are not facts of the desk's work
    if pk.startswith("CONV#") and sk == "META":
        return _conversation(new, old if event_name == "MODIFY" else None, written_at)
    if pk.startswith("CONV#") and sk.startswith("MSG#"):
        return _message(new, old if event_name == "MODIFY" else None, written_at)
    if pk.startswith("CUSTOMER#") and sk.startswith("EVENT#") and event_name == "INSERT":
        return _customer_event(new)
    if pk.startswith("AGENT#") and sk == "META":
        return _presence(new, old if event_name == "MODIFY" else None, written_at)
    return []


def _unfolded(new: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    """The change is an unmerge giving back a conversation that was merged into another (logic.fold): it named
    the other before (``folded_into``) and no longer does, written with its status in one update."""
    return bool(old.get("folded_into")) and not new.get("folded_into")


def _conversation(new: Mapping[str, Any], old: Mapping[str, Any] | None,
                  written_at: datetime | None = None) -> list[Event]:
    ctx = _Context(new)
    now = _instant(new.get("updated_at")) or _instant(new.get("created_at"))
    assert now is not None
    actor = new.get("changed_by")
    out: list[Event] = []
    if old is None:
        created = _instant(new.get("created_at")) or now
        out.append(ctx.event(EventType.CONVERSATION_OPENED, created, (), actor="customer",
                             to_value=new.get("status")))
        return out + _topic_changes(ctx, new, None, created) + _clock_outcomes(ctx, new, None)

    before, after = old.get("status"), new.get("status")
    if before != after:
        change = _status_change(ctx, new, old, now)
        out.append(change)
        if change.reason == "bot":
            resolved_at = _instant(change.occurred_at) or now
            out.append(ctx.event(EventType.BOT_RESOLVED, resolved_at, (change.occurred_at,), actor="bot"))
    routed = bool(new.get("classified_at")) and not old.get("classified_at")     # the router's one classification
    if routed or (old.get("language"), old.get("team")) != (new.get("language"), new.get("team")):
        out.append(ctx.event(EventType.CONVERSATION_CLASSIFIED, now, (new.get("language"), new.get("team"),
                                                                     _iso(now), routed),
                             actor="router" if routed else actor,
                             from_value=old.get("team"), to_value=new.get("team")))

    was, now_assignee = old.get("assignee"), new.get("assignee")
    if was != now_assignee:
        at = _instant(new.get("assigned_at")) if now_assignee else now
        at = at or now
        kind = (EventType.ASSIGNED if not was else EventType.UNASSIGNED if not now_assignee
                else EventType.TRANSFERRED)
        reason = None
        if kind is EventType.UNASSIGNED:
            reason = ("released" if before != "resolved" or after == "resolved"
                      else "unmerged" if _unfolded(new, old) else "reopened")
        out.append(ctx.event(kind, at, (was, now_assignee, _iso(at)), agent_id=now_assignee or was, actor=actor,
                             from_value=was, to_value=now_assignee, reason=reason))

    first_before = (old.get("sla") or {}).get("first_response_at")
    first_after = (new.get("sla") or {}).get("first_response_at")
    if first_after and first_after != first_before:     # set, or moved to a later reply (the first was refused)
        at = _instant(first_after)
        assert at is not None
        start = cycle_start(new)
        out.append(ctx.event(EventType.FIRST_HUMAN_REPLY, at, (first_after,),
                             agent_id=_agent(new.get("last_outbound_by")), actor=new.get("last_outbound_by"),
                             message_id=(new.get("sla") or {}).get("first_response_id"),
                             started_at_ms=_ms(start), duration_s=_seconds(start, at),
                             business_s=round(business_seconds_between(start, at, _hours(old)), 3)))
    elif (first_before and old.get("awaiting_since") and not new.get("awaiting_since")
          and new.get("last_outbound_at") and new.get("last_outbound_at") != old.get("last_outbound_at")):
        at, start = _instant(new["last_outbound_at"]), _instant(old["awaiting_since"])
        assert at is not None and start is not None
        out.append(ctx.event(EventType.NEXT_HUMAN_REPLY, at, (new["last_outbound_at"],),
                             agent_id=_agent(new.get("last_outbound_by")), actor=new.get("last_outbound_by"),
                             started_at_ms=_ms(start), duration_s=_seconds(start, at),
                             business_s=round(business_seconds_between(start, at, _hours(old)), 3)))

    # a warning is dated when the sweep raised it (``sla_warned_at``, written with it; the sweep's write leaves
    # ``updated_at`` alone), else, for a record written before that, when the record was written
    raised = new.get("sla_warned_at") if new.get("sla_warned_at") != old.get("sla_warned_at") else None
    warned_at = _instant(raised) or written_at or now
    for target, due in sorted((new.get("sla_warned") or {}).items()):
        if (old.get("sla_warned") or {}).get(target) != due:
            out.append(ctx.event(EventType.SLA_WARNED, warned_at, (target, due), target=target, actor="system",
                                 detail=json.dumps({"due_at": due})))
    return out + _topic_changes(ctx, new, old, now) + _clock_outcomes(ctx, new, old)


def _topic_changes(ctx: _Context, new: Mapping[str, Any], old: Mapping[str, Any] | None, at: datetime
                   ) -> list[Event]:
    """A topic named or withdrawn since the old image (shopdesk.logic.topics). The id keys on the change's
    instant, so the same topic withdrawn and named again later is a new fact, and a replay is not."""
    added, removed = topics.changes(new, old)
    actor = new.get("changed_by")
    return ([ctx.event(EventType.TOPIC_ADDED, at, (topic, _iso(at)), topic=topic, reason=source,
                       actor="router" if source == "intent" else "bot" if source == "article" else actor)
             for topic, source in added.items()]
            + [ctx.event(EventType.TOPIC_REMOVED, at, (topic, _iso(at)), topic=topic, actor=actor)
               for topic in removed])


def _status_change(ctx: _Context, new: Mapping[str, Any], old: Mapping[str, Any], now: datetime) -> Event:
    before, after = old.get("status"), new.get("status")
    actor = new.get("changed_by") or "system"
    if after == "resolved":
        at = _instant(new.get("resolved_at")) or now
        start = cycle_start(new)
        resolver = _agent(actor) or _agent(new.get("assignee"))
        bot = actor == "bot" and not new.get("handed_off_at")
        if new.get("folded_into"):          # merged into the customer's other conversation: nobody resolved it
            return ctx.event(EventType.STATUS_CHANGED, at, (before, after, _iso(at)), actor=actor,
                             from_value=before, to_value=after, reason="merged")
        return ctx.event(EventType.STATUS_CHANGED, at, (before, after, _iso(at)), actor=actor,
                         agent_id=None if bot else resolver, from_value=before, to_value=after,
                         reason="bot" if bot else None, started_at_ms=_ms(start),
                         duration_s=None if bot else _seconds(start, at),
                         business_s=None if bot else round(business_seconds_between(start, at, _hours(old)), 3))
    if before == "resolved" and _unfolded(new, old):    # an unmerge gave it back: nobody reopened it
        return ctx.event(EventType.STATUS_CHANGED, now, (before, after, _iso(now)), actor=actor,
                         from_value=before, to_value=after, reason="unmerged")
    return ctx.event(EventType.STATUS_CHANGED, now, (before, after, _iso(now)), actor=actor,
                     agent_id=_agent(actor), from_value=before, to_value=after)


def _clock_outcomes(ctx: _Context, new: Mapping[str, Any], old: Mapping[str, Any] | None) -> list[Event]:
    """A target met or breached: a clock of ``clocks_json`` that ended so since the old image. Each clock
    ends once (a restarted clock has a new ``started_at``), so every target instance counts exactly once.
    It is credited to the agent who held the conversation when it ended (the assignee after the change; nobody
    when unassigned). A clock that stopped unmeasured (``stopped``: resolved before any reply, merged into another
    conversation) is neither. A first-response clock a person's reply ended names that reply (``message_id``, in
    its id too): when the provider refuses the reply for good, its ``message_refused`` withdraws the outcome, and the
    clock, taken up again (logic.refused), ends anew."""
    after, before = _clocks(new), _clocks(old)
    if after is None:
        return []
    out = []
    for target, clock in after.clocks().items():
        if clock.state not in (ClockState.MET, ClockState.BREACHED) or clock.ended_at is None:
            continue
        previous = before.clocks().get(target) if before is not None else None
        if previous is not None and previous.started_at == clock.started_at and previous.state == clock.state \
                and previous.ended_at == clock.ended_at:
            continue
        kind = EventType.SLA_MET if clock.state is ClockState.MET else EventType.SLA_BREACHED
        start = clock.started_at or clock.ended_at
        reply = _ended_by_reply(new, target, clock.ended_at)
        out.append(ctx.event(kind, clock.ended_at, (target, _iso(start), *((reply,) if reply else ())),
                             target=target, actor="system", message_id=reply,
                             agent_id=_agent(new.get("assignee")), started_at_ms=_ms(start),
                             business_s=round(clock.consumed_seconds, 3),
                             detail=json.dumps({"target_s": clock.target_seconds})))
    return out


def _ended_by_reply(image: Mapping[str, Any], target: str, ended_at: datetime) -> str | None:
    """The reply that ended the first-response clock at ``ended_at``: the conversation's first response
    (``sla.first_response_id``) when its time is that instant (to the millisecond); None for any other ending."""
    sla = image.get("sla") or {}
    first = _instant(sla.get("first_response_at"))
    if target != "first_response" or not sla.get("first_response_id") or first is None:
        return None
    return str(sla["first_response_id"]) if _iso(first) == _iso(ended_at) else None


def _message(new: Mapping[str, Any], old: Mapping[str, Any] | None, written_at: datetime | None) -> list[Event]:
    created = _instant(new.get("created_at"))
    if created is None:
        return []
    ctx = _Context({"id": new.get("conversation_id"), "channel": new.get("channel")})
    direction, kind, author = new.get("direction"), new.get("kind"), new.get("author")
    message_id = new.get("id")
    payload = new.get("payload") or {}
    if old is None:
        special = KIND_EVENTS.get(str(kind))
        if special is not None:
            return [_special(ctx, special, created, message_id, author, payload)]
        if author == "bot" and isinstance(payload.get("bot"), Mapping):
            bot = _bot(ctx, created, message_id, direction, payload["bot"])
            if direction == "system":
                return bot
            return [ctx.event(EventType.MESSAGE_SENT, created, (message_id,), actor="bot", message_id=message_id,
                              reason=kind), *bot]
        if direction == "inbound":
            return [ctx.event(EventType.MESSAGE_RECEIVED, created, (message_id,), actor="customer",
                              message_id=message_id, reason=kind)]
        if direction == "outbound":
            human = _agent(author) if kind not in AUTOMATIC_KINDS else None
            return [ctx.event(EventType.MESSAGE_SENT, created, (message_id,), actor=author or "system",
                              agent_id=human, message_id=message_id, reason=kind)]
        return []
    if direction != "outbound" or new.get("status") == old.get("status"):
        return []
    status = new.get("status")
    at = written_at or created
    if status in DELIVERED and old.get("status") not in DELIVERED:
        return [ctx.event(EventType.MESSAGE_DELIVERED, at, (message_id,), message_id=message_id,
                          agent_id=_agent(author), to_value=status)]
    if status in FAILED and old.get("status") not in FAILED:
        error = new.get("error") or {}
        return [ctx.event(EventType.MESSAGE_FAILED, at, (message_id,), message_id=message_id,
                          agent_id=_agent(author), to_value=status, reason=error.get("code")),
                _refused(ctx, new, created, at)]
    return []


def _refused(ctx: _Context, message: Mapping[str, Any], created: datetime, failed_at: datetime) -> Event:
    """An outbound message that never reached the customer (the provider refused it, or reported it failed on the
    way: ``failed``, ``undelivered``), dated as the message (``created_at``), so it falls in the period, day and hour
    of the events the message's insert made, which the reports then leave out (``analytics.sql.NOT_REFUSED``): a
    reply a person sent, the bot's answer, a survey asked. When the failure was learnt is ``detail.failed_at``
    (``message_failed`` is dated then)."""
    kind, author = message.get("kind"), message.get("author")
    bot = (message.get("payload") or {}).get("bot")
    detail = {"kind": kind, "failed_at": _iso(failed_at),
              "action": bot.get("action") if isinstance(bot, Mapping) else None}
    return ctx.event(EventType.MESSAGE_REFUSED, created, (message.get("id"),), message_id=message.get("id"),
                     actor=author or "system", agent_id=_agent(author) if kind not in AUTOMATIC_KINDS else None,
                     to_value=message.get("status"), reason=(message.get("error") or {}).get("code"),
                     detail=json.dumps({k: v for k, v in detail.items() if v is not None}, sort_keys=True))


def _bot(ctx: _Context, at: datetime, message_id: Any, direction: Any, bot: Mapping[str, Any]) -> list[Event]:
    """What the bot's own messages say (shopdesk.bot.converse): a reply of kind ``bot`` whose ``payload.bot.action``
    answers the customer (anything but the closing words of a resolve) is ``bot_answered``; its system note with
    ``payload.bot.handoff_reason`` is ``bot_handed_off`` with that reason."""
    detail = json.dumps({k: bot[k] for k in BOT_DETAIL_KEYS if k in bot}, default=str, sort_keys=True)
    if direction == "system" and bot.get("handoff_reason"):
        return [ctx.event(EventType.BOT_HANDED_OFF, at, (message_id,), message_id=message_id, actor="bot",
                          reason=str(bot["handoff_reason"]), detail=detail)]
    if direction == "outbound" and bot.get("action") and bot.get("action") != "resolve":
        return [ctx.event(EventType.BOT_ANSWERED, at, (message_id,), message_id=message_id, actor="bot",
                          reason=str(bot["action"]), detail=detail)]
    return []


def _special(ctx: _Context, kind: EventType, at: datetime, message_id: Any, author: Any,
             payload: Mapping[str, Any]) -> Event:
    rating = payload.get("rating")
    # a survey's events carry the team and language the survey was sent for (a message item has neither)
    carried = {k: payload[k] for k in ("team", "language") if isinstance(payload.get(k), str)}
    return ctx.event(kind, at, (message_id,), message_id=message_id, actor=author or "system", **carried,
                     agent_id=_agent(payload.get("agent_id")) or (_agent(author) if kind is EventType.ORDER_ACTION
                                                                  else None),
                     reason=_machine(payload.get(KIND_REASON[kind])) if kind in KIND_REASON else None,
                     rating=int(rating) if isinstance(rating, int | float) and 1 <= rating <= 5 else None,
                     detail=_detail(kind, payload))


def _machine(value: Any) -> Any:
    """A payload's value as the lake keeps it: a number, a flag or a word of ours; None for anything else (a
    structure a provider sent under the same name)."""
    return value if isinstance(value, str | int | float | bool) else None


def _detail(kind: EventType, payload: Mapping[str, Any]) -> str | None:
    kept = {k: payload[k] for k in KIND_DETAIL_KEYS.get(kind, DETAIL_KEYS) if _machine(payload.get(k)) is not None}
    if payload.get("comment"):
        kept["commented"] = True
    return json.dumps(kept, default=str, sort_keys=True) if kept else None


def _customer_event(new: Mapping[str, Any]) -> list[Event]:
    """A merge or an unmerge, as the customer's timeline records it: one row for each customer's timeline event
    (``customer_id`` that customer, the other one in ``detail.other_id``, a merge's side in ``detail.side``), so an
    erase's deletion list, which names customers, hides each customer's own rows. The reason the agent wrote is not
    kept: it is the agent's words about people (the merge record and the timeline keep it, and an erase deletes
    them). The survivor's merge row keeps the id it always had; the merged customer's (``merged_into``) and each side
    of an unmerge have their customer in theirs."""
    event = new.get("event") or {}
    kinds = {"merged": EventType.CUSTOMER_MERGED, "merged_into": EventType.CUSTOMER_MERGED,
             "unmerged": EventType.CUSTOMER_UNMERGED}
    kind = kinds.get(event.get("kind"))
    at = _instant(event.get("at"))
    if kind is None or at is None:
        return []
    customer_id = str(new.get("PK", "")).removeprefix("CUSTOMER#")
    detail = {"merge_id": event.get("merge_id"), "other_id": event.get("other_id")}
    if kind is EventType.CUSTOMER_MERGED:
        detail["side"] = "survivor" if event.get("kind") == "merged" else "merged"
    key = (event.get("merge_id"),) if detail.get("side") == "survivor" else (event.get("merge_id"), customer_id)
    return [Event(event_id=_digest(kind.value, *key), type=kind, occurred_at=_iso(at), at_ms=_ms(at),
                  day=at.astimezone(UTC).date().isoformat(), customer_id=customer_id, actor=event.get("by"),
                  agent_id=_agent(event.get("by")), detail=json.dumps(detail, sort_keys=True))]


def _presence(new: Mapping[str, Any], old: Mapping[str, Any] | None, written_at: datetime | None) -> list[Event]:
    """An agent's presence change: one event when the item's presence differs from before (a new agent counts as
    offline before, so one created offline has none), dated by ``presence_changed_at`` (the clock's time of the
    change; the record's time for an item written before the field existed). The agent item changes far more
    often (its load, its settings): those changes carry no event. Two changes of one agent in the same
    millisecond are ordered by event id in the lake (the clock is milliseconds; people are slower)."""
    before = (old or {}).get("presence")
    after = new.get("presence")
    if not after or after == (before or "offline"):     # an agent who did not exist was offline
        return []
    at = _instant(new.get("presence_changed_at")) or written_at
    if at is None:
        return []
    agent_id = new.get("id") or str(new.get("PK", "")).removeprefix("AGENT#")
    return [Event(event_id=_digest(EventType.PRESENCE_CHANGED.value, agent_id, _ms(at), after),
                  type=EventType.PRESENCE_CHANGED, occurred_at=_iso(at), at_ms=_ms(at),
                  day=at.astimezone(UTC).date().isoformat(), agent_id=agent_id, actor=agent_id,
                  from_value=before, to_value=str(after))]


# The lake's columns in order, with their DuckDB and Glue (Hive) types. The Glue table of template.yaml lists
# the same (tests/unit/test_analytics_events.py checks); ``day`` is the Glue table's partition key.
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("event_id", "VARCHAR", "string"), ("type", "VARCHAR", "string"), ("version", "INTEGER", "int"),
    ("occurred_at", "VARCHAR", "string"), ("at_ms", "BIGINT", "bigint"),
    ("conversation_id", "VARCHAR", "string"), ("customer_id", "VARCHAR", "string"),
    ("channel", "VARCHAR", "string"), ("team", "VARCHAR", "string"), ("language", "VARCHAR", "string"),
    ("priority", "VARCHAR", "string"), ("agent_id", "VARCHAR", "string"), ("actor", "VARCHAR", "string"),
    ("message_id", "VARCHAR", "string"), ("from_value", "VARCHAR", "string"), ("to_value", "VARCHAR", "string"),
    ("target", "VARCHAR", "string"), ("reason", "VARCHAR", "string"), ("started_at_ms", "BIGINT", "bigint"),
    ("duration_s", "DOUBLE", "double"), ("business_s", "DOUBLE", "double"), ("rating", "INTEGER", "int"),
    ("detail", "VARCHAR", "string"), ("topic", "VARCHAR", "string"), ("day", "VARCHAR", "string"),
)
