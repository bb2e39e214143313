"""Item shapes: how domain models are laid out in the one table (see docs/data-model.md)."""

from __future__ import annotations

import hashlib
import zlib
from typing import Any, get_args

from aws_lambda_powertools import Logger

from shopdesk import clock
from shopdesk.bounds import bound, bound_text, key_part
from shopdesk.models import (
    Agent,
    Attachment,
    Conversation,
    ConversationStatus,
    CustomerRef,
    Direction,
    Message,
    MessageError,
    Presence,
    Priority,
    ReplyRoute,
    SendIntent,
    Sla,
    SystemEvent,
)
from shopdesk.models.agent import Role
from shopdesk.models.customer import Customer

logger = Logger(child=True)

META = "META"


def conv_pk(conversation_id: str) -> str:
    return f"CONV#{conversation_id}"


def reply_key_pk(conversation_id: str) -> str:
    """The partition of one conversation's reply keys (``Idempotency-Key``: docs/data-model.md), every caller's: the
    customer's erase reads them with one Query."""
    return f"REPLYKEY#{conversation_id}"


def reply_key_sk(caller_id: str, key: str) -> str:
    """A caller's reply key in its conversation: ``<caller>#<key>``, the caller with no ``#`` in it (``%23``, and
    ``%`` is ``%25``; a digest when longer than 256 bytes), so two callers' equal keys, or a caller whose id has a
    ``#``, never share an item."""
    caller = caller_id.replace("%", "%25").replace("#", "%23")
    if len(caller.encode("utf-8")) > 256:
        caller = "sha256:" + hashlib.sha256(caller_id.encode("utf-8")).hexdigest()
    return f"{caller}#{key_part(key)}"


def message_sk(message: Message) -> str:
    return f"MSG#{clock.iso(message.created_at)}#{message.id}"


def deadline_sk(target: str) -> str:
    return f"DEADLINE#{target}"


def identity_pk(kind: str, address: str) -> str:
    return f"IDENTITY#{kind}#{key_part(address)}"


def customer_pk(customer_id: str) -> str:
    return f"CUSTOMER#{customer_id}"


def marker_pk(provider: str, provider_id: str) -> str:
    return f"EXTMSG#{provider}#{key_part(provider_id)}"


def erased_marker_pk(provider: str, provider_id: str) -> str:
    """What an erase leaves of a provider's marker: a hash of the id, enough to refuse a replay."""
    return f"ERASEDMSG#{provider}#sha256:{hashlib.sha256(provider_id.encode()).hexdigest()}"


def event_marker_pk(provider: str, event_id: str) -> str:
    return f"EXTEVT#{provider}#{key_part(event_id)}"


def unsupported_pk(day: str) -> str:
    return f"UNSUPPORTED#{day}"


def agent_pk(agent_id: str) -> str:
    return f"AGENT#{agent_id}"


def team_sk(team: str) -> str:
    return f"TEAM#{team}"


def inbox_pk(agent_id: str) -> str:
    return f"INBOX#{agent_id}"


def queue_pk(team: str) -> str:
    return f"QUEUE#{team}"


def pool_pk(team: str) -> str:
    return f"POOL#{team}"


def access_team(team: str) -> str:
    """The Access index partition of a team's conversations."""
    return f"TEAM#{team}"


def access_of(team: str, unrouted: bool) -> str | None:
    """A conversation's Access index partition: its team's once routed. One the router has not routed yet
    (``unrouted``) is in no partition (no ``AccessPK``: the index is sparse), so no agent's list or count reads it
    (admins list it through ByStatus), and the routing's write puts it in its team's (``access_team``) instead of
    moving it there from another partition (one index write instead of two, and none at ingest)."""
    return None if unrouted else access_team(team)


def access_grant(agent_id: str) -> str:
    """The Access index partition of the conversations granted to an agent."""
    return f"GRANT#{agent_id}"


def grant_sk(agent_id: str) -> str:
    return f"GRANT#{agent_id}"


def status_pk(status: str) -> str:
    return f"STATUS#{status}"


def due_pk(conversation_id: str, shards: int) -> str:
    return f"DUE#{zlib.crc32(conversation_id.encode()) % shards:03d}"


def due_sk(due_at: str, conversation_id: str, target: str) -> str:
    return f"{due_at}#{conversation_id}#{target}"


def queue_sk(priority: Priority, waiting_since: str, conversation_id: str) -> str:
    return f"{priority.rank}#{waiting_since}#{conversation_id}"


# ------------------------------------------------------------------------------ conversations

def _iso(value: Any) -> str | None:
    return clock.iso(value) if value is not None else None


def conversation_item(conv: Conversation) -> dict[str, Any]:
    updated = clock.iso(conv.updated_at)
    item: dict[str, Any] = {
        "PK": conv_pk(conv.id), "SK": META, "type": "conversation",
        "id": conv.id, "status": conv.status.value, "priority": conv.priority.value, "team": conv.team,
        "assignee": conv.assignee, "language": conv.language, "skills": list(conv.skills) or None,
        "sentiment": conv.sentiment, "urgent": conv.urgent or None,
        "previous_agent": conv.previous_agent, "previous_agent_at": _iso(conv.previous_agent_at),
        "last_acknowledged_at": _iso(conv.last_acknowledged_at), "passed_over": list(conv.passed_over) or None,
        "labels": set(conv.labels) or None,
        "customer": conv.customer.model_dump(mode="json"),
        # the route replies take is the one of the channel the customer wrote on last (``routes[channel]``)
        "channel": conv.channel,
        "routes": {ch: r.model_dump(mode="json") for ch, r in {**conv.routes, conv.channel: conv.route}.items()},
        "sla": {"first_response_due_at": _iso(conv.sla.first_response_due_at),
                "first_response_at": _iso(conv.sla.first_response_at)},
        "sla_breaches": set(conv.sla.breaches) or None,
        "sla_warned": {}, "sla_done": {},           # target -> due time already warned / breached
        "created_at": clock.iso(conv.created_at), "updated_at": updated,
        "waiting_since": _iso(conv.waiting_since),
        "last_message_preview": conv.last_message_preview, "message_count": conv.message_count,
        "StatusPK": status_pk(conv.status.value), "StatusSK": updated,
        "CustomerPK": customer_pk(conv.customer.id), "CustomerSK": clock.iso(conv.created_at),
        "InboxSK": f"{conv.status.value}#{updated}",
        # what the event lake derives durations and actors from (shopdesk.analytics.events)
        "cycle_started_at": clock.iso(conv.created_at), "changed_by": "customer",
    }
    # the Access index: TEAM#<team> / <status>#<updated_at>, from the routing on
    access = access_of(conv.team, not conv.routed)
    if access is not None:
        item["AccessPK"] = access
    else:
        # no team's until the router routes it (``Conversations.classify``): no team's agent lists, opens or
        # hears of it (shopdesk.logic.access, shopdesk.logic.live)
        item["unrouted"] = True
    if conv.status is ConversationStatus.OPEN and not conv.sla.first_response_at:
        item["awaiting_since"] = clock.iso(conv.created_at)   # a customer waits for a person's reply
    if conv.assignee:
        item["InboxPK"] = inbox_pk(conv.assignee)
    elif conv.status is ConversationStatus.OPEN and conv.waiting_since is not None:
        item["QueuePK"] = queue_pk(conv.team)
        item["QueueSK"] = queue_sk(conv.priority, clock.iso(conv.waiting_since), conv.id)
    return item


def conversation_from_item(item: dict[str, Any], messages: list[Message] | None = None) -> Conversation:
    sla = item.get("sla") or {}
    return Conversation(
        id=item["id"], status=item["status"], priority=item.get("priority", "normal"),
        team=item.get("team", "default"), routed=not item.get("unrouted"), assignee=item.get("assignee"),
        language=item.get("language"),
        sentiment=item.get("sentiment"), urgent=bool(item.get("urgent")),
        skills=item.get("skills") or [], previous_agent=item.get("previous_agent"),
        previous_agent_at=item.get("previous_agent_at"), last_acknowledged_at=item.get("last_acknowledged_at"),
        passed_over=item.get("passed_over") or [], granted=sorted(item.get("granted") or []),
        mentions_unread=sorted(item.get("mentions_unread") or []),
        snoozed_until=item.get("snoozed_until"),
        labels=sorted(item.get("labels") or []),
        # the sweep's estimate, only while the conversation waits in a queue (stale once it is assigned)
        breach_risk=float(item["breach_risk"]) if item.get("breach_risk") is not None and item.get("QueuePK")
        else None,
        risk_raised=dict(item.get("sla_risk") or {}), sla_warned=dict(item.get("sla_warned") or {}),
        last_inbound_at=item.get("last_inbound_at"), last_outbound_at=item.get("last_outbound_at"),
        replied_at=item.get("replied_at"), assigned_at=item.get("assigned_at"),
        handed_off_at=item.get("handed_off_at"),
        customer=CustomerRef.model_validate(item["customer"]), channel=item["channel"],
        route=ReplyRoute.model_validate((item.get("routes") or {}).get(item["channel"]) or item["route"]),
        routes={ch: ReplyRoute.model_validate(r) for ch, r in (item.get("routes") or {}).items()},
        sla=Sla(first_response_due_at=sla.get("first_response_due_at"),
                first_response_at=sla.get("first_response_at"), deadlines=sla.get("deadlines") or None,
                paused=bool(sla.get("paused")),
                breaches=sorted(item.get("sla_breaches") or [])),
        created_at=item["created_at"], updated_at=item["updated_at"], waiting_since=item.get("waiting_since"),
        last_message_preview=item.get("last_message_preview"), message_count=item.get("message_count", 0),
        messages=messages or [],
        bot=item.get("bot"),
        folded=sorted(item.get("folded") or []), folded_into=item.get("folded_into"),
    )


def label_pk(label_id: str) -> str:
    """The ByLabel index partition of a label's conversations."""
    return f"LABEL#{label_id}"


def label_sk(label_id: str) -> str:
    """The conversation's item for one of its labels (its entry in the ByLabel index)."""
    return f"LABEL#{label_id}"


def label_index_sk(status: str, updated_at: str, conversation_id: str) -> str:
    """A labelled conversation's place in the ByLabel index: by status, then latest activity (as InboxSK)."""
    return f"{status}#{updated_at}#{conversation_id}"


def label_item(conversation_id: str, label_id: str, status: str, updated_at: str) -> dict[str, Any]:
    """One per label of a conversation, under the conversation: the conversation in the label's ByLabel
    partition, by status and latest activity. ``at`` is the conversation's ``updated_at`` the key was made
    from, so the label indexer (functions/label_indexer) never moves a key back to an older state."""
    return {"PK": conv_pk(conversation_id), "SK": label_sk(label_id), "type": "label",
            "conversation_id": conversation_id, "label_id": label_id, "at": updated_at,
            "LabelPK": label_pk(label_id), "LabelSK": label_index_sk(status, updated_at, conversation_id)}


def grant_item(conversation_id: str, agent_id: str, granted_at: str) -> dict[str, Any]:
    """An agent's access to a conversation, whatever its team (shopdesk.logic.access): in the Access index
    under the agent, newest grant first. The conversation's ``granted`` set is what the check reads."""
    return {"PK": conv_pk(conversation_id), "SK": grant_sk(agent_id), "type": "grant",
            "conversation_id": conversation_id, "agent_id": agent_id, "granted_at": granted_at,
            "AccessPK": access_grant(agent_id), "InboxSK": f"{granted_at}#{conversation_id}"}


# ------------------------------------------------------------------------------ customers

def customer_from_item(item: dict[str, Any]) -> Customer:
    """A customer record (``CUSTOMER#<id>``, written with the customer's first conversation)."""
    return Customer(id=item["id"], name=item.get("name"), identities=item.get("identities") or [],
                    tier=item.get("tier"), created_at=item.get("created_at"), merged_into=item.get("merged_into"),
                    language=item.get("language"),
                    merge_id=item.get("merge_id"))


# ------------------------------------------------------------------------------ messages

# What one message item may hold of provider-supplied content (shopdesk.bounds; 400 KB per item).
SUBJECT_BYTES = 2_000
ATTACHMENTS_BYTES = 50_000
# A system entry's event (shopdesk.logic.timeline): ids and values, and free text as long as the agent's note that
# the text holds too; a params map cut to its last resort loses its values, and the inbox shows the text instead
EVENT_BYTES = 20_000
EVENT_STRING = 4_000


def message_item(message: Message) -> dict[str, Any]:
    """The message's item; text, subject, attachments and payload are bounded, and the names of the
    fields that had to be cut are listed in ``truncated`` (their values carry the marker too)."""
    text, subject = bound_text(message.text), bound_text(message.subject, SUBJECT_BYTES)
    edited_text = bound_text(message.edited_text)
    attachments = bound([a.model_dump(mode="json", exclude_none=True) for a in message.attachments],
                        max_bytes=ATTACHMENTS_BYTES, max_items=100)
    payload = bound(message.payload or None)
    event = bound(message.event.model_dump(mode="json") if message.event else None, max_depth=6,
                  max_string=EVENT_STRING, max_items=100, max_bytes=EVENT_BYTES)
    truncated = [name for name, cut in (("text", text), ("subject", subject), ("attachments", attachments),
                                        ("payload", payload), ("event", event), ("edited_text", edited_text))
                 if cut.truncated]
    return {
        "PK": conv_pk(message.conversation_id), "SK": message_sk(message), "type": "message",
        "id": message.id, "conversation_id": message.conversation_id, "direction": message.direction.value,
        "channel": message.channel, "text": text.value, "status": message.status,
        "attachments": attachments.value or None,
        "created_at": clock.iso(message.created_at), "author": message.author,
        "provider_id": message.provider_id,
        "error": message.error.model_dump(mode="json") if message.error else None,
        "attempts": message.attempts or None, "to": message.to, "sender": message.sender,
        "provider": message.provider, "kind": message.kind, "subject": subject.value,
        "payload": payload.value or None, "truncated": truncated or None,
        "masked": message.masked or None,
        "ttl": int(message.expires_at.timestamp()) if message.expires_at else None,
        "language": message.language, "sentiment": message.sentiment, "emotion": message.emotion,
        "urgent": message.urgent, "intents": list(message.intents) or None,
        "parts_sent": message.parts_sent or None, "part_ids": message.part_ids or None,
        "sending": message.sending.model_dump(mode="json") if message.sending else None,
        "confirmed": message.confirmed or None, "possibly_duplicate": message.possibly_duplicate or None,
        "attempted_at": clock.iso(message.attempted_at) if message.attempted_at else None,
        "event": event.value,
        "unsent_at": clock.iso(message.unsent_at) if message.unsent_at else None,
        "edited_at": clock.iso(message.edited_at) if message.edited_at else None,
        "edited_text": edited_text.value,
        "sender_unproven": message.sender_unproven or None, "identity": message.identity,
    }


def message_from_item(item: dict[str, Any]) -> Message:
    return Message(
        id=item["id"], conversation_id=item["conversation_id"], direction=Direction(item["direction"]),
        channel=item.get("channel"), text=item.get("text"), status=item.get("status"),
        attachments=[Attachment.model_validate(a) for a in item.get("attachments") or []],
        created_at=item["created_at"], author=item.get("author"), provider_id=item.get("provider_id"),
        error=MessageError.model_validate(item["error"]) if item.get("error") else None,
        attempts=item.get("attempts") or 0, to=item.get("to"), sender=item.get("sender"),
        provider=item.get("provider"), kind=item.get("kind"), subject=item.get("subject"),
        payload=item.get("payload"), masked=list(item.get("masked") or []),
        language=item.get("language"), sentiment=item.get("sentiment"),
        emotion=item.get("emotion"), urgent=item.get("urgent"), intents=sorted(item.get("intents") or []),
        parts_sent=int(item.get("parts_sent") or 0),
        part_ids=list(item.get("part_ids") or []),
        sending=SendIntent.model_validate(item["sending"]) if item.get("sending") else None,
        confirmed={str(k): str(v) for k, v in (item.get("confirmed") or {}).items()},
        possibly_duplicate=bool(item.get("possibly_duplicate")), attempted_at=item.get("attempted_at"),
        event=_event(item.get("event")),
        unsent_at=item.get("unsent_at"), edited_at=item.get("edited_at"), edited_text=item.get("edited_text"),
        sender_unproven=bool(item.get("sender_unproven")), identity=item.get("identity"),
    )


def _event(stored: Any) -> SystemEvent | None:
    """A stored event as the model reads it; one cut to its last resort (no kind or params left) is none."""
    if not isinstance(stored, dict) or not isinstance(stored.get("kind"), str) \
            or not isinstance(stored.get("params", {}), dict):
        return None
    return SystemEvent(kind=stored["kind"], params=stored.get("params") or {})


# ------------------------------------------------------------------------------ agents

def agent_item(agent: Agent) -> dict[str, Any]:
    """The agent's one item: settings, presence and load. The capacity conditions live on it; its
    team memberships (``membership_item``) put it in each team's pool."""
    return {
        "PK": agent_pk(agent.id), "SK": META, "type": "agent",
        "id": agent.id, "name": agent.name, "email": agent.email, "presence": agent.presence.value,
        "capacity": agent.capacity, "active": agent.active, "teams": list(agent.teams),
        "last_assigned_at": agent.last_assigned_at, "skills": agent.skills or None,
        "languages": agent.languages or None, "membership_version": 1,
        "StatusPK": "AGENTS", "StatusSK": agent.id,       # every agent, for the admin listing
    }


def membership_item(agent_id: str, team: str, presence: Presence) -> dict[str, Any]:
    """One per (agent, team): the agent in the team's pool (Pool index) under its presence."""
    return {
        "PK": agent_pk(agent_id), "SK": team_sk(team), "type": "membership", "agent_id": agent_id, "team": team,
        "PoolPK": pool_pk(team), "PoolSK": f"{presence.value}#{agent_id}",
    }


def agent_from_item(item: dict[str, Any]) -> Agent:
    """An agent item; one written before agents had several teams has ``team`` instead of ``teams``."""
    return Agent(id=item["id"], name=item.get("name"), email=item.get("email"),
                 presence=item.get("presence", "offline"),
                 capacity=item.get("capacity", 0), active=item.get("active", 0),
                 teams=item.get("teams") or [item.get("team") or "default"],
                 last_assigned_at=item.get("last_assigned_at"),
                 skills=item.get("skills") or [], languages=item.get("languages") or [],
                 settings_version=int(item.get("settings_version") or 0),
                 deactivated_at=item.get("deactivated_at"), deactivated_by=item.get("deactivated_by"),
                 max_role=_max_role(item))


def _max_role(item: dict[str, Any]) -> Role | None:
    """The agent's cap as stored, or, when it is no role the desk knows (an item edited by hand: ``Admin``), the lowest,
    ``agent``: never more than an admin meant to let them use, and one agent's item never fails the reads of
    everyone's (the admission, the admin listing, routing). Logged as a warning with the agent's id and the role read,
    never the value stored (a hand-edited field may hold anything)."""
    stored = item.get("max_role")
    if stored is None or stored in get_args(Role):
        return stored
    logger.warning("agent max_role unknown: read as the lowest", extra={"agent_id": item.get("id"), "read_as": "agent"})
    return "agent"
