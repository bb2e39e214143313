"""Satisfaction surveys: one record per resolution cycle (``CONV#<id>`` / ``CSAT#<cycle>``) and the survey a
customer's identity waits on (the ``csat`` map of ``IDENTITY#...``), so ingest knows with the GetItem it already
makes that a reply may be an answer.

Every write here is one transaction whose first item is conditioned: the record is created once per cycle
(a retried resolve writes nothing twice), answered once (a redelivered reply counts once), commented once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from shopdesk import clock
from shopdesk.dal import items as it
from shopdesk.dal.conversations import Conversations
from shopdesk.dal.erased import NOT_ERASING, timeline_check_op
from shopdesk.dal.identities import split_key
from shopdesk.dal.table import ConditionFailed, Table, TransactionCancelled, Update, serialize
from shopdesk.models import Conversation, Message


def survey_sk(cycle: str) -> str:
    return f"CSAT#{cycle}"


class SurveyRecords:
    """The survey records as the reports read them: the lake says which ratings have a comment, the words are here
    (so retention and an erase, which remove the conversation's items, remove them from the reports too)."""

    def __init__(self, table: Table):
        self.table = table

    def comments(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """(conversation id, cycle) -> the record's comment (BatchGetItem); a record without one is left out."""
        found = self.table.batch_get([(it.conv_pk(conversation), survey_sk(cycle)) for conversation, cycle in keys])
        return {(item["PK"].removeprefix(it.conv_pk("")), item["SK"].removeprefix(survey_sk(""))): item["comment"]
                for item in found if isinstance(item.get("comment"), str) and item["comment"]}


class AlreadyAsked(Exception):
    """This resolution cycle has its survey (or its decision not to ask) already."""


class SurveyClosed(Exception):
    """The survey was answered (or commented) meanwhile: the message is an ordinary one."""


@dataclass(frozen=True)
class Resolution:
    """The conversation as its resolve left it, with what the survey needs beyond the domain model."""

    conversation: Conversation
    resolved_by: str | None
    resolved_at: str | None
    cycle: str                       # when the cycle that was resolved started (a reopen starts another)
    handed_off: bool                 # the bot handed it to a person in this cycle
    ttl: int | None = None           # when the resolved conversation expires (retention of closed conversations)


@dataclass(frozen=True)
class Pending:
    """The survey an identity waits on (stored on the identity as the ``csat`` map)."""

    conversation_id: str
    cycle: str
    state: str                       # asked (a rating is awaited) or answered (a comment may follow)
    until: str
    agent_id: str | None = None
    team: str | None = None
    channel: str | None = None
    language: str | None = None
    comment_s: int | None = None     # after a rating, how long the next message counts as its comment (0: none)

    def open_at(self, now: str) -> bool:
        return now < self.until

    @classmethod
    def of(cls, raw: Mapping[str, Any] | None) -> Pending | None:
        if not isinstance(raw, Mapping) or not raw.get("conversation_id") or not raw.get("until"):
            return None
        return cls(**{k: raw.get(k) for k in ("conversation_id", "cycle", "state", "until", "agent_id", "team",
                                              "channel", "language", "comment_s")})

    def item(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


class Surveys:
    def __init__(self, conversations: Conversations):
        self.conversations = conversations
        self.table = conversations.table

    def resolution(self, conversation_id: str) -> Resolution:
        item = self.table.get(it.conv_pk(conversation_id), it.META)
        if item is None:
            raise KeyError(conversation_id)
        conv = it.conversation_from_item(item)
        return Resolution(conversation=conv, resolved_by=item.get("resolved_by"), resolved_at=item.get("resolved_at"),
                          cycle=str(item.get("cycle_started_at") or item.get("created_at")),
                          handed_off=bool(item.get("handed_off_at")),
                          ttl=int(item["ttl"]) if item.get("ttl") else None)

    def record(self, conversation_id: str, cycle: str) -> dict[str, Any] | None:
        return self.table.get(it.conv_pk(conversation_id), survey_sk(cycle))

    def waiting_identities(self, conv: Conversation) -> list[str]:
        """The identities a survey of ``conv`` waits on: the one it started from and every one its customer has now
        (one GetItem of the customer record). A merge gives the customer the other's identities and the
        conversation their channels (``logic.fold``), so the survey may go out on one of them and be answered
        there; the conversation's own copy names only the identity it started from."""
        item = self.table.get(it.customer_pk(conv.customer.id), it.META)
        now = it.customer_from_item(item).identities if item else []
        return list(dict.fromkeys(i.key for i in [*conv.customer.identities, *now]))

    def ask(self, conv: Conversation, cycle: str, entry: Message, record: Mapping[str, Any],
            pending: Pending | None, identities: Sequence[str]) -> None:
        """The cycle's survey record (created once, or over the ``scheduled`` one of a delayed survey), with the
        timeline entry (the survey, or the note saying why
        none was sent) and, when a survey was sent, the pending survey on the customer's identities.
        Raises AlreadyAsked when the cycle has its record."""
        first = self.table.put_op({"PK": it.conv_pk(conv.id), "SK": survey_sk(cycle), "type": "csat",
                                   "conversation_id": conv.id, "cycle": cycle,
                                   **{k: v for k, v in record.items() if v is not None}},
                                  condition="attribute_not_exists(PK) OR #state = :scheduled")
        first["Put"].update(ExpressionAttributeNames={"#state": "state"},
                            ExpressionAttributeValues=serialize({":scheduled": "scheduled"}))
        ops = [first, self.table.put_op(it.message_item(entry))]
        if pending is not None:
            ops.extend(self.table.update_op(it.identity_pk(*split_key(key)), it.META,
                                            Update().set("csat", pending.item()).when("attribute_exists(PK)"))
                       for key in identities)
        try:
            self.table.transact(ops)
        except TransactionCancelled as exc:
            if 0 in exc.failed:
                raise AlreadyAsked(conv.id) from exc
            raise

    def schedule(self, conv: Conversation, cycle: str, record: Mapping[str, Any], timer: Mapping[str, Any]) -> bool:
        """A delayed survey: the cycle's record (``scheduled``, created once) and the sweep's timer that sends it,
        while the conversation is there and its customer's erase does not hold it (``timeline_check_op``: an erase's
        final pass under it finds nothing landing later). Raises AlreadyAsked when the cycle has its record; False
        when the conversation is gone or going (nothing written). A transaction that met another on the
        conversation's record (a message stored, the router's write at the resolve) is sent again
        (``retry_conflicts``), so the survey is not dropped for it."""
        try:
            self.table.transact([
                self.table.put_op({"PK": it.conv_pk(conv.id), "SK": survey_sk(cycle), "type": "csat",
                                   "conversation_id": conv.id, "cycle": cycle,
                                   **{k: v for k, v in record.items() if v is not None}},
                                  condition="attribute_not_exists(PK)"),
                self.table.put_op(timer),
                timeline_check_op(self.table, conv.id)], retry_conflicts=True)
        except TransactionCancelled as exc:
            if 0 in exc.failed:
                raise AlreadyAsked(conv.id) from exc
            if 2 in exc.failed:
                return False
            raise
        return True

    def answer(self, *, provider: str, provider_id: str, message: Message, pending: Pending, identity: str,
               score: int, comment: str | None, next_pending: Pending | None,
               work: Mapping[str, Any] | None, unless_erased: Mapping[str, Any] | None = None) -> None:
        """A rating: the customer's message stored on the resolved conversation (the conversation itself is not
        touched: no reopen, no routing), the record answered once, the identity waiting for a comment or nothing.
        ``work`` (a low rating's alert) is kept on the delivery's marker until the router confirms it.
        ``unless_erased``: a replay's check of its sender's erase mark (``Conversations.append_inbound``)."""
        now = clock.iso(message.created_at)
        record = (Update().set("state", "answered").set("score", score).set("answered_at", now)
                  .set("answer_message_id", message.id)
                  .when("attribute_exists(PK) AND #state = :asked", asked="asked"))
        if comment:
            record.set("comment", comment)
        self._reply(provider, provider_id, message, pending, record, identity, next_pending, work, unless_erased)

    def comment(self, *, provider: str, provider_id: str, message: Message, pending: Pending, identity: str,
                unless_erased: Mapping[str, Any] | None = None) -> None:
        """The comment after a rating: stored on the resolved conversation, kept on the record once."""
        record = (Update().set("state", "commented").set("comment", message.text or "")
                  .set("commented_at", clock.iso(message.created_at))
                  .when("attribute_exists(PK) AND #state = :answered", answered="answered"))
        self._reply(provider, provider_id, message, pending, record, identity, None, None, unless_erased)

    def _reply(self, provider: str, provider_id: str, message: Message, pending: Pending, record: Update,
               identity: str, next_pending: Pending | None, work: Mapping[str, Any] | None,
               unless_erased: Mapping[str, Any] | None) -> None:
        # not while the customer's erase runs: refused by a mark (it landed after ingest read the identity), the
        # identity comes back with the refusal (no request more), and ``_store_inbound`` follows the one rule
        waiting = Update().when(f"attribute_exists(PK) AND {NOT_ERASING}")
        if next_pending is None:
            waiting.remove("csat")
        else:
            waiting.set("csat", next_pending.item())
        ops = [self.conversations._marker_op(provider, provider_id, message, work),
               self.table.put_op(it.message_item(message)),
               self.table.update_op(it.conv_pk(pending.conversation_id), survey_sk(pending.cycle), record),
               self.table.update_op(it.identity_pk(*split_key(identity)), it.META, waiting, old_on_failure=True),
               self.conversations._not_erased_op(provider, provider_id)]
        self.conversations._store_inbound(ops, provider_id, SurveyClosed(pending.conversation_id), unless_erased)

    def forget(self, identity: str, pending: Pending) -> None:
        """The identity no longer waits on this survey (its window passed, or it was answered elsewhere)."""
        update = Update().remove("csat").when("#csat.#conversation_id = :c AND #csat.#cycle = :cycle",
                                              c=pending.conversation_id, cycle=pending.cycle)
        with suppress(ConditionFailed):      # another survey (or none) waits there now: leave it
            self.table.update(it.identity_pk(*split_key(identity)), it.META, update)
