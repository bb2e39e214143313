"""Conversations with their messages and SLA deadlines. Identities (``dal.identities``) and customers
(``dal.customers``) have their own modules; their parts of a conversation's transactions come from there.

Every write that must stay consistent with another is one TransactWriteItems, so an inbound
message costs one GetItem (where does it belong?) and one transaction (store it), nothing more.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from shopdesk import clock
from shopdesk.dal import items as it
from shopdesk.dal.customers import Customers
from shopdesk.dal.erased import (
    ERASING,
    NOT_ERASING,
    CustomerErasing,
    SenderErased,
    holds,
    let_go,
    marks_met,
    timeline_check_op,
    transact_unless_held,
)
from shopdesk.dal.identities import Identities, IdentityRecord, split_key
from shopdesk.dal.retention import INACTIVE_TIMER, TimelineRetention
from shopdesk.dal.sla_events import SlaEvent, event_item
from shopdesk.dal.table import ConditionFailed, Table, TransactionCancelled, Update
from shopdesk.errors import Conflict, DuplicateDelivery, conversation_not_found
from shopdesk.ids import parse_reference
from shopdesk.models import Agent, Conversation, ConversationStatus, Message, Priority, delivery_rank

MAX_TRANSACTION_OPS = 100             # DynamoDB's limit per TransactWriteItems
MARKER_TTL_SECONDS = 90 * 24 * 3600   # providers re-deliver for up to 7 days; receipts arrive for weeks
FAILED = frozenset({"failed", "undelivered"})   # a receipt's statuses that say the customer does not have the reply
SNOOZE_TIMER = "snooze_wake"           # the end of a snooze: a timer in the due index (shopdesk.logic.snooze)
ROUTING_GRACE_SECONDS = 120           # the router confirms within seconds; the sweep re-sends what it did not
REPLY_GRACE_SECONDS = 120             # the dispatcher takes a reply up within seconds; the sweep queues what it did not
REPLY_TARGET = "reply"                # a reply's own item in the Due index, until a delivery takes it up
PAGE_OF_MESSAGES = 100                # a conversation's messages read a page at a time, newest first (find_message)


_UNKNOWN = object()                    # a due-index item that may or may not be there (``_held_index``)


@dataclass(frozen=True)
class Later:
    """What a timer's runner answers when it is not time yet after all: the sweep moves the timer to ``due_at``
    (an inactive customer who wrote meanwhile, under a period lengthened since the timer was set)."""
    due_at: str


@dataclass(frozen=True)
class Deadline:
    conversation_id: str
    target: str
    due_at: str
    state: str
    due_pk: str
    due_sk: str
    warn_at: str | None = None
    agent_id: str | None = None
    kind: str = "deadline"                 # or "timer" (routing: assignee silence, agent offline), "marker", or
                                           # "reply" (a reply no delivery took up yet: ``Conversations._unqueued``)
    pk: str = ""                           # the item's own key
    sk: str = ""
    work: str | None = None                # a marker's unconfirmed routing work (JSON)
    # an announcement the sweep owes (``breach``, ``warning`` or ``risk``): its events as the flag's sweep made them
    announce: str | None = None
    detected_at: str | None = None
    escalated_to: str | None = None
    risk: float | None = None              # a risk warning's chance and team (logic.breach_risk)
    team: str | None = None
    failures: int = 0                      # a timer's runs in a row that raised (``Conversations.retry_timer``)


@dataclass(frozen=True)
class ClockRead:
    """One consistent read of a conversation's SLA state."""
    conversation: Conversation
    clocks: Any                            # ConversationClocks, or None before the conversation has any
    version: int
    warned: dict[str, str]                 # target -> due time whose warning went out
    done: dict[str, str]                   # target -> due time already flagged as breached
    stored_clocks: str | None = None       # the clocks as read (callers change ``clocks`` in place)


class ChangeRefused(Exception):
    """The change of a message written with a timeline entry was refused by its condition (the message changed
    meanwhile, or is gone): nothing was written."""


class StaleConversation(Exception):
    """The conversation the identity pointed at was resolved meanwhile."""


class IdentityRace(Exception):
    """Another message of the same new customer created the conversation first."""


class Conversations:
    def __init__(self, table: Table, due_shards: int):
        self.table = table
        self.due_shards = due_shards
        self.identities = Identities(table)
        self.customers = Customers(table)
        self.marker_ttl_seconds = MARKER_TTL_SECONDS     # retention of provider markers (privacy settings)
        self.retention = TimelineRetention(table)         # the messages' expiry for timeline entries without one

    # ------------------------------------------------------------------ ingest
    def get_identity(self, kind: str, address: str) -> IdentityRecord | None:
        """Where a message of this address belongs (one GetItem): ``Identities.get``."""
        return self.identities.get(kind, address)

    def let_go_failed_hold(self, identity: IdentityRecord, conversation_ids: Iterable[str | None]) -> bool:
        """A customer's message met their identity saying ``erasing``. True when that erase holds them no more
        (``dal.erased.holds``: its job reads failed or is gone, the release of its hold refused by the table too):
        the mark is let go on the identity, its siblings and these conversations (those the message may be stored
        in), each while it still names that job (``dal.erased.let_go``), and the message is stored as any other.
        False while the erase runs: the message is refused (``CustomerErasing``). One BatchGetItem of the job, and
        only when it holds no more, one UpdateItem per item."""
        job = identity.erasing
        if not job or holds(self.table, [job]):
            return False
        keys = [it.identity_pk(*split_key(key)) for key in (identity.key, *identity.siblings)]
        keys += [it.conv_pk(c) for c in conversation_ids if c]
        let_go(self.table, [(pk, it.META) for pk in keys], job)
        return True

    def _marker_op(self, provider: str, provider_id: str, message: Message,
                   work: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The provider's delivery, once. An inbound message's marker also keeps its routing work until the
        router confirms it (``routed``): it sits in the Due index at ``ROUTING_GRACE_SECONDS`` after the
        message is stored (a replayed one is dated earlier), so a send to the work queue lost between this
        transaction and the SQS call (a crash, an outage) is re-sent by the sweep, or at once by the provider's
        retry (``DuplicateDelivery.unrouted``)."""
        marker = {
            "PK": it.marker_pk(provider, provider_id), "SK": it.META, "type": "marker",
            "conversation_id": message.conversation_id, "message_sk": it.message_sk(message),
            "direction": message.direction.value,
            "ttl": int(clock.now().timestamp()) + self.marker_ttl_seconds,
        }
        if work is not None:
            due = clock.iso(max(message.created_at, clock.now()) + timedelta(seconds=ROUTING_GRACE_SECONDS))
            marker.update({"work": json.dumps(dict(work), separators=(",", ":")), "target": "routing",
                           "due_at": due, "DuePK": it.due_pk(message.conversation_id, self.due_shards),
                           "DueSK": it.due_sk(due, message.conversation_id, "routing")})
        return self.table.put_op(marker, condition="attribute_not_exists(PK)", old_on_failure=work is not None)

    @staticmethod
    def _duplicate(provider_id: str, exc: TransactionCancelled) -> DuplicateDelivery:
        old = exc.old(0) or {}
        return DuplicateDelivery(provider_id, json.loads(old["work"]) if old.get("DuePK") and old.get("work")
                                 else None)

    def routed(self, marker_pk: str) -> None:
        """The router handled a message's work: its marker leaves the Due index (and keeps refusing replays)."""
        with suppress(ConditionFailed):   # the marker expired or was erased: nothing left to confirm
            self.table.update(marker_pk, it.META, Update().remove("DuePK").remove("DueSK").remove("work")
                              .when("attribute_exists(PK)"))

    def reschedule_routing(self, deadline: Deadline, due_at: str) -> bool:
        """The sweep re-sent a message's work: look again at ``due_at`` unless the router confirmed meanwhile."""
        try:
            self.table.update(deadline.pk, deadline.sk, Update().set("due_at", due_at)
                              .set("DueSK", it.due_sk(due_at, deadline.conversation_id, "routing"))
                              .when("DueSK = :seen", seen=deadline.due_sk))
            return True
        except ConditionFailed:
            return False

    def append_inbound(self, *, provider: str, provider_id: str, message: Message, channel: str,
                       route: dict[str, str], preview: str | None, work: Mapping[str, Any] | None = None,
                       asks: bool = True, replayed: bool = False, unless_erased: Mapping[str, Any] | None = None
                       ) -> None:
        """Store a message in the customer's open conversation (marker + message + conversation). ``asks``: False
        for a message that asks nothing (an out-of-office, a STOP, a START: ``logic.work.NOT_WRITTEN``), which
        leaves ``last_inbound_at`` as it was: the work of the customer's message before it still answers that one
        (``logic.work.superseded``).

        ``replayed``: a kept request replayed, dated when it came (``logic.webhooks.replay``), which may be older than
        a message stored since. Its write is conditioned on ``last_inbound_at`` being no later than it; refused, it is
        written again as an older message (``_customer_wrote_before``): ``last_inbound_at``, the channel, its route
        and the preview stay the newer message's. Only a replay pays for that (a second transaction, only then).
        ``unless_erased``: a replay's check of its sender's erase mark (``ErasedAddresses.not_erased_since_op``), in
        each of its transactions: refused, ``SenderErased`` and nothing written. Like every store of a customer's
        message, refused (``StaleConversation``) while the customer's erase runs (``NOT_ERASING``: dal/erased.py)."""
        now = clock.iso(message.created_at)
        wrote = _customer_wrote(now, channel, route, preview, asks=asks)
        if replayed and asks:       # (a conversation holds no last_inbound_at until its second message)
            wrote.when("last_inbound_at <= :at OR (attribute_not_exists(last_inbound_at) AND created_at <= :at)",
                       at=now)
        try:
            self._append(provider, provider_id, message, work, wrote, unless_erased)
        except StaleConversation:
            if not (replayed and asks):
                raise
            # a later message is stored (else resolved or gone meanwhile: refused again, as any message)
            older = _customer_wrote_before(channel, route).when(
                "last_inbound_at > :at OR (attribute_not_exists(last_inbound_at) AND created_at > :at)", at=now)
            self._append(provider, provider_id, message, work, older, unless_erased)

    def _append(self, provider: str, provider_id: str, message: Message, work: Mapping[str, Any] | None,
                update: Update, unless_erased: Mapping[str, Any] | None = None) -> None:
        now = clock.iso(message.created_at)
        update = (update.set_if_missing("awaiting_since", now)
                  .when(f"attribute_exists(PK) AND #status <> :resolved AND {NOT_ERASING}", resolved="resolved"))
        ops = [self._marker_op(provider, provider_id, message, work), self.table.put_op(it.message_item(message)),
               self.table.update_op(it.conv_pk(message.conversation_id), it.META, update, old_on_failure=True),
               self._not_erased_op(provider, provider_id)]
        self._store_inbound(ops, provider_id, StaleConversation(message.conversation_id), unless_erased)

    def reopen_inbound(self, *, provider: str, provider_id: str, message: Message, channel: str,
                       route: dict[str, str], preview: str | None, identity: IdentityRecord, note: Message,
                       work: Mapping[str, Any] | None = None, resolved_by: str = "bot",
                       unless_erased: Mapping[str, Any] | None = None) -> None:
        """Store a message that reopens the conversation the bot resolved (marker + message + conversation +
        the identity's slot taken back + a system entry), in one transaction as ``append_inbound``. Refused
        (``StaleConversation``) unless the conversation is still resolved by the bot and the identity still
        remembers it with no other open: then the message starts a conversation as after any resolve.
        ``unless_erased``: as ``append_inbound``."""
        now = clock.iso(message.created_at)
        update = (_customer_wrote(now, channel, route, preview).set("awaiting_since", now)
                  .set("cycle_started_at", now)
                  .remove("resolved_at").remove("resolved_by").remove("ttl").remove("InboxPK").remove("assignee")
                  .remove("sla.first_response_at").remove("sla.first_response_id")
                  .when(f"attribute_exists(PK) AND #status = :resolved AND resolved_by = :by AND {NOT_ERASING}",
                        resolved="resolved", by=resolved_by))
        ops = [self._marker_op(provider, provider_id, message, work), self.table.put_op(it.message_item(message)),
               self.table.update_op(it.conv_pk(message.conversation_id), it.META, update, old_on_failure=True),
               *self.identities.take_back_ops(identity, message.conversation_id),
               self.table.put_op(it.message_item(note)),
               self._not_erased_op(provider, provider_id)]
        self._store_inbound(ops, provider_id, StaleConversation(message.conversation_id), unless_erased)

    def keep_on_resolved(self, *, provider: str, provider_id: str, message: Message, note: Message,
                         replayed: bool = False, unless_erased: Mapping[str, Any] | None = None) -> None:
        """Store a customer's thank-you on their resolved conversation without reopening it (marker without
        routing work + message + a system entry + the conversation's count), in one transaction refused
        (``StaleConversation``) unless the conversation is still resolved. ``replayed``: a kept request replayed
        (``append_inbound``), which sets ``last_inbound_at`` only when no later message did; ``unless_erased`` as
        there."""
        now = clock.iso(message.created_at)
        update = Update().set("last_inbound_at", now)
        if replayed:
            update.when("attribute_not_exists(last_inbound_at) OR last_inbound_at <= :at", at=now)
        try:
            self._keep(provider, provider_id, message, note, update, unless_erased)
        except StaleConversation:
            if not replayed:
                raise
            self._keep(provider, provider_id, message, note, Update().when("last_inbound_at > :at", at=now),
                       unless_erased)

    def _keep(self, provider: str, provider_id: str, message: Message, note: Message, update: Update,
              unless_erased: Mapping[str, Any] | None = None) -> None:
        update = (update.add("message_count", 1)
                  .when(f"attribute_exists(PK) AND #status = :resolved AND {NOT_ERASING}", resolved="resolved"))
        ops = [self._marker_op(provider, provider_id, message), self.table.put_op(it.message_item(message)),
               self.table.update_op(it.conv_pk(message.conversation_id), it.META, update, old_on_failure=True),
               self.table.put_op(it.message_item(self.retention.stamp(note))),
               self._not_erased_op(provider, provider_id)]
        self._store_inbound(ops, provider_id, StaleConversation(message.conversation_id), unless_erased)

    def name_customer(self, identity: IdentityRecord, name: str, conversation_id: str) -> None:
        """Name a customer who had none (logic.ingest): on the identity (their next conversations), their record
        (profile, search) and the conversation the message went to, each only where no name is yet; what is gone
        meanwhile (erased) is left alone, and nothing is created."""
        for pk, path in ((it.identity_pk(identity.kind, identity.address), "customer_name"),
                         (it.customer_pk(identity.customer_id), "name"),
                         (it.conv_pk(conversation_id), "customer.name")):
            with suppress(ConditionFailed):
                self.table.update(pk, it.META, Update().set_if_missing(path, name).when("attribute_exists(PK)"))

    def _store_inbound(self, ops: list[dict[str, Any]], provider_id: str, refused: Exception,
                       unless_erased: Mapping[str, Any] | None = None) -> None:
        """One inbound message's transaction, its provider marker first and the not-erased check last: a replay
        of either raises ``DuplicateDelivery``, any other refusal ``refused``. With ``unless_erased`` (a replay's
        check of its sender's erase mark) after them: refused, ``SenderErased``, before anything else. Refused by an
        ``erasing`` mark on an identity or the conversation it writes (their updates ask for the item on a failed
        condition: no request more), the one rule is asked (``dal.erased.transact_unless_held``): a mark whose erase
        holds no more is let go and the transaction sent again; one that holds refuses the message,
        ``CustomerErasing``."""
        checked = len(ops) - 1
        if unless_erased is not None:
            ops = [*ops, dict(unless_erased)]
        try:
            transact_unless_held(self.table, ops)
        except TransactionCancelled as exc:
            if unless_erased is not None and len(ops) - 1 in exc.failed:
                raise SenderErased() from exc
            if 0 in exc.failed:
                raise self._duplicate(provider_id, exc) from exc
            if checked in exc.failed:
                raise DuplicateDelivery(provider_id, None) from exc
            if marks_met(exc):
                raise CustomerErasing() from exc
            raise refused from exc

    def _not_erased_op(self, provider: str, provider_id: str) -> dict[str, Any]:
        """A message of a customer who was erased (its marker is only a hash now) is a replay: refused."""
        return self.table.condition_op(it.erased_marker_pk(provider, provider_id), it.META,
                                       "attribute_not_exists(PK)")

    def start_conversation(self, *, provider: str, provider_id: str, conversation: Conversation,
                           message: Message, identity: IdentityRecord | None, expected_open: str | None,
                           clocks: Any = None, work: Mapping[str, Any] | None = None,
                           unless_erased: Mapping[str, Any] | None = None) -> None:
        """Open a conversation with its first message: marker, message, conversation, identity,
        customer (when new) and the first-response deadline in one transaction (``unless_erased``: as
        ``append_inbound``; a replay creates no customer for a number erased since its message came)."""
        customer = conversation.customer
        ident = customer.identities[0]
        identity_key = it.identity_pk(ident.kind, ident.address)
        conv_item, *deadline_items = self.opening_items(conversation, clocks)
        ops = [self._marker_op(provider, provider_id, message, work), self.table.put_op(it.message_item(message)),
               self.table.put_op(conv_item, condition="attribute_not_exists(PK)")]
        if identity is None:
            ops.append(self.identities.create_op(ident, customer.id, customer.name, conversation.id))
            ops.append(self.customers.create_op(customer, conversation.created_at))
        else:
            ops.extend(self.identities.open_ops(identity, conversation.id, customer.name, expected_open))
        ops.extend(self.table.put_op(item) for item in deadline_items)
        ops.append(self._not_erased_op(provider, provider_id))
        self._store_inbound(ops, provider_id, IdentityRace(identity_key), unless_erased)

    def opening_items(self, conversation: Conversation, clocks: Any = None) -> list[dict[str, Any]]:
        """A new conversation's item with its clocks, then one due-index item per running deadline."""
        conv_item = it.conversation_item(conversation)
        deadlines = clocks.deadlines() if clocks is not None else []
        if clocks is not None:
            conv_item.update(clocks_json=clocks.stored_json(), clocks_version=1)
            conv_item["sla"]["deadlines"] = {d.target: {"due_at": clock.iso(d.due_at),
                                                        "warn_at": clock.iso(d.warn_at) if d.warn_at else None}
                                             for d in deadlines} or None
        return [conv_item, *(self._deadline_item(conversation.id, d.target, clock.iso(d.due_at),
                                                 clock.iso(d.warn_at) if d.warn_at else None) for d in deadlines)]

    def _deadline_item(self, conversation_id: str, target: str, due_at: str, warn_at: str | None = None, *,
                       already_warned: bool = False) -> dict[str, Any]:
        """A running deadline in the due index, keyed by when the sweep must next act on it: the
        warning time while the warning is still to come, then the due time."""
        warn_pending = warn_at is not None and warn_at < due_at and not already_warned
        next_at = warn_at if warn_pending and warn_at else due_at
        return {
            "PK": it.conv_pk(conversation_id), "SK": it.deadline_sk(target), "type": "deadline",
            "conversation_id": conversation_id, "target": target, "due_at": due_at, "warn_at": warn_at,
            "state": "pending" if warn_pending else "warned",
            "DuePK": it.due_pk(conversation_id, self.due_shards), "DueSK": it.due_sk(next_at, conversation_id, target),
        }

    # ------------------------------------------------------------------ provider references
    def conversation_of(self, provider: str, provider_id: str) -> str | None:
        """The conversation a provider's message id belongs to (inbound or one of our sends)."""
        item = self.table.get(it.marker_pk(provider, provider_id), it.META)
        return item.get("conversation_id") if item else None

    def conversation_of_any(self, provider: str, provider_ids: list[str]) -> str | None:
        """The conversation of the most recent of several provider ids (email References)."""
        found = self.table.batch_get([(it.marker_pk(provider, pid), it.META) for pid in provider_ids[-50:]])
        by_id = {row["PK"]: row.get("conversation_id") for row in found}
        for pid in reversed(provider_ids[-50:]):
            if by_id.get(it.marker_pk(provider, pid)):
                return by_id[it.marker_pk(provider, pid)]
        return None

    def record_event(self, provider: str, event_id: str, message: Message,
                     change: tuple[str, Update] | None = None) -> bool:
        """Put a timeline event on a conversation once; False when the provider repeated it. ``change``: the key of
        another message of the conversation and an update of it (conditioned as the caller needs: a customer's
        unsend or edit, ``logic.amend``), written in the same transaction; ``ChangeRefused`` when its condition
        fails (nothing is written). The entry names its marker (``event_marker``: an event's id may name the
        customer, a reaction's their Messenger id), which an erase of its conversation deletes with it."""
        marker = {"PK": it.event_marker_pk(provider, event_id), "SK": it.META, "type": "event_marker",
                  "conversation_id": message.conversation_id,
                  "ttl": int(clock.now().timestamp()) + MARKER_TTL_SECONDS}
        ops = [self.table.put_op(marker, condition="attribute_not_exists(PK)"),
               self.table.put_op({**it.message_item(self.retention.stamp(message)), "event_marker": marker["PK"]})]
        if change is not None:
            ops.append(self.table.update_op(it.conv_pk(message.conversation_id), *change))
        try:
            self.table.transact(ops)
        except TransactionCancelled as exc:
            if 0 in exc.failed:
                return False
            raise ChangeRefused(message.conversation_id) from exc
        return True

    def message_of(self, provider: str, provider_id: str, direction: str) -> tuple[str, str] | None:
        """The conversation and key of a message of that ``direction`` (``inbound``: a customer's, unsent or edited;
        ``outbound``: one of our sends, whose receipt said it failed), from its provider id's marker; None when
        there is no marker (never stored, expired, erased) or it names a message the other way."""
        marker = self.table.get(it.marker_pk(provider, provider_id), it.META) or {}
        if marker.get("direction") != direction or not marker.get("conversation_id") or not marker.get("message_sk"):
            return None
        return str(marker["conversation_id"]), str(marker["message_sk"])

    def find_message(self, conversation_id: str, matches: Callable[[Message], bool], *, after: str = "MSG#"
                     ) -> tuple[str, Message] | None:
        """The newest message of a conversation (from ``after``, a sort key) that ``matches``, and its key: a Query a
        page at a time, newest first, stopping at the first found. For a provider whose message ids no marker holds
        (Telegram names a message ``<chat>:<message>``, its marker by the update's id)."""
        found = self.find_messages(conversation_id, matches, after=after, first=True)
        return found[0] if found else None

    def find_messages(self, conversation_id: str, matches: Callable[[Message], bool], *, after: str = "MSG#",
                      first: bool = False) -> list[tuple[str, Message]]:
        """The messages of a conversation from ``after`` (a sort key, excluded unless it is the prefix) that
        ``matches``, newest first, with their keys; ``first``: stop at the first."""
        found: list[tuple[str, Message]] = []
        cursor = None
        while True:
            page = self.table.query(index=None, key_condition="PK = :pk AND SK BETWEEN :after AND :end", names={},
                                    values={":pk": it.conv_pk(conversation_id), ":after": after, ":end": "MSG$"},
                                    limit=PAGE_OF_MESSAGES, cursor=cursor, forward=False, consistent=True)
            for row in page.items:
                if row["SK"] == after:
                    continue
                message = it.message_from_item(row)
                if matches(message):
                    found.append((row["SK"], message))
                    if first:
                        return found
            if not page.cursor:
                return found
            cursor = page.cursor

    def update_message(self, conversation_id: str, sk: str, update: Update) -> bool:
        """One message changed as ``update`` says; False when its condition failed."""
        try:
            self.table.update(it.conv_pk(conversation_id), sk, update)
        except ConditionFailed:
            return False
        return True

    def replace_preview(self, conversation_id: str, was: str | None, now: str | None) -> None:
        """The conversation's preview becomes ``now`` (None: none) where it still shows ``was`` (the words of a message
        the customer unsent or edited); a later message's preview stays."""
        if not was or was == now:
            return
        with suppress(ConditionFailed):
            self.table.update(it.conv_pk(conversation_id), it.META, Update().set("last_message_preview", now)
                              .when("last_message_preview = :was", was=was))

    def update_attachments(self, conversation_id: str, sk: str, attachments: list[dict[str, Any]]) -> None:
        """The files of an inbound message as the router copied them; ``ConditionFailed`` when the message is gone
        or the customer unsent it meanwhile (the caller deletes what it stored)."""
        self.table.update(it.conv_pk(conversation_id), sk, Update().set("attachments", attachments)
                          .when("attribute_exists(PK) AND attribute_not_exists(unsent_at)"))

    # ------------------------------------------------------------------ reads
    def get_meta(self, conversation_id: str) -> Conversation:
        item = self.table.get(it.conv_pk(conversation_id), it.META)
        if item is None:
            raise conversation_not_found(conversation_id)
        return it.conversation_from_item(item)

    def get_with_messages(self, conversation_id: str) -> Conversation:
        """One Query: the conversation item and its messages, oldest first (SK order). A conversation others were
        merged into (``folded``, logic.fold) shows theirs among its own in time order: one Query more for each."""
        rows = self.table.query_all(
            index=None, key_condition="PK = :pk", names={}, values={":pk": it.conv_pk(conversation_id)},
            consistent=True)
        meta = next((r for r in rows if r["SK"] == it.META), None)
        if meta is None:
            raise conversation_not_found(conversation_id)
        found = [r for r in rows if r["SK"].startswith("MSG#")]
        for other in sorted(meta.get("folded") or ()):
            # what was written there (the customer's, replies, notes), not its system entries: its assignments and
            # clocks were its own, and would contradict this one's
            found += [r for r in self.table.query_all(
                index=None, key_condition="PK = :pk AND begins_with(SK, :msg)", names={},
                values={":pk": it.conv_pk(other), ":msg": "MSG#"}, consistent=True) if r.get("direction") != "system"]
            found.sort(key=lambda r: r["SK"])          # MSG#<time>#<id>: time order across the conversations
        return it.conversation_from_item(meta, [it.message_from_item(r) for r in found])

    def awaiting_since(self, conversation_id: str) -> datetime | None:
        """Since when the conversation's customer waits for an answer (their first message not answered yet), if
        they do."""
        item = self.table.get(it.conv_pk(conversation_id), it.META, consistent=True)
        return clock.parse_iso(item["awaiting_since"]) if item and item.get("awaiting_since") else None

    def folded_wait(self, conversation_id: str) -> tuple[datetime, datetime] | None:
        """A conversation merged into another (``mark_folded``) whose customer was waiting for an answer then:
        since when they were, and when it was merged (its resolve); None when they were not waiting."""
        item = self.table.get(it.conv_pk(conversation_id), it.META, consistent=True) or {}
        if not item.get("folded_awaiting_since") or not item.get("resolved_at"):
            return None
        return clock.parse_iso(item["folded_awaiting_since"]), clock.parse_iso(item["resolved_at"])

    def fold(self, target: Conversation, source: Conversation, note: Message,
             awaiting_since: datetime | None = None) -> None:
        """``source``'s messages show in ``target`` from now on (logic.fold): the target lists it and takes the
        routes of the channels it lacks, so its agent answers the customer there too; ``note`` says so on its
        timeline. Idempotent: the list is a set, and a route the target has stays its own."""
        update = Update().add("folded", {source.id}).set("updated_at", clock.iso(note.created_at))
        if awaiting_since is not None:     # its customer waits for an answer: now this one's to give
            update.set_if_missing("awaiting_since", clock.iso(awaiting_since))
        for channel, route in source.routes.items():
            if channel not in target.routes:
                update.set(f"routes.{channel}", route.model_dump(mode="json"))
        if _wrote_later(source, target):   # replies go where the customer wrote last: the merged one's channel
            update.set("channel", source.channel)
        try:
            self.table.transact([
                self.table.update_op(it.conv_pk(target.id), it.META, update.when("attribute_exists(PK)")),
                self.table.put_op(it.message_item(self.retention.stamp(note)))])
        except TransactionCancelled as exc:
            raise conversation_not_found(target.id) from exc

    def mark_folded(self, source_id: str, target_id: str | None, awaiting_since: datetime | None = None) -> None:
        """The conversation was merged into ``target_id`` (None: no longer, its customers unmerged), its customer
        waiting for an answer since ``awaiting_since`` then (kept as ``folded_awaiting_since``: the resolve that
        follows clears ``awaiting_since``, an unmerge gives it back); one gone meanwhile (erased) is left alone."""
        if target_id:
            update = Update().set("folded_into", target_id)
            if awaiting_since is not None:
                update.set("folded_awaiting_since", clock.iso(awaiting_since))
        else:
            update = Update().remove("folded_into").remove("folded_awaiting_since")
        with suppress(ConditionFailed):
            self.table.update(it.conv_pk(source_id), it.META, update.when("attribute_exists(PK)"))

    def unfold(self, target_id: str, source_id: str, channels: Sequence[str], note: Message,
               source: Conversation | None = None) -> None:
        """Undo ``fold``: ``source``'s messages no longer show in the target, which gives back the routes of the
        ``channels`` it took from it, but the one the customer wrote on last (its default route, kept). A reply
        channel the fold moved to the merged one's (``source``: its routes as they were), where nothing came since,
        goes back to the target's own channel its customer wrote on last."""
        target = self.get_meta(target_id)
        update = Update().delete("folded", {source_id}).set("updated_at", clock.iso(note.created_at))
        channel = target.channel
        taken = target.routes.get(channel)
        given = source.routes.get(channel) if source is not None else None
        if channel in channels and taken is not None and given is not None \
                and taken.last_inbound_at == given.last_inbound_at:
            own = [(r.last_inbound_at, c) for c, r in target.routes.items() if c not in channels and r.last_inbound_at]
            if own:
                channel = max(own)[1]
                update.set("channel", channel)
        for given_back in channels:
            route = target.routes.get(given_back)
            if route is not None and given_back != channel:
                update.remove(f"routes.{given_back}")
        try:
            self.table.transact([
                self.table.update_op(it.conv_pk(target_id), it.META, update.when("attribute_exists(PK)")),
                self.table.put_op(it.message_item(self.retention.stamp(note)))])
        except TransactionCancelled as exc:
            raise conversation_not_found(target_id) from exc

    def note_understanding(self, conversation_id: str, sk: str, *, language: str | None, sentiment: str,
                           emotion: str | None, urgent: bool, intents: list[str]) -> None:
        """What the router understood of an inbound message, on the message (idempotent; a message gone meanwhile,
        erased, is left alone). The conversation's part (``mood``) goes with its next change, or ``note_mood``."""
        with suppress(ConditionFailed):
            self.table.update(it.conv_pk(conversation_id), sk,
                              Update().set("language", language).set("sentiment", sentiment)
                              .set("emotion", emotion).set("urgent", urgent).set("intents", intents or None)
                              .when("attribute_exists(PK)"))

    def note_mood(self, conversation_id: str, mood: Update) -> None:
        """The conversation's part of what the router understood (``mood``), alone; a conversation gone meanwhile
        (erased) is left alone."""
        with suppress(ConditionFailed):
            self.table.update(it.conv_pk(conversation_id), it.META, mood.when("attribute_exists(PK)"))

    @staticmethod
    def mood(sentiment: str, urgent: bool, language: str | None, topics: set[str] | None) -> Update:
        """The conversation's latest mood as the router understood a message (its ``sentiment`` and ``urgent``, and
        its ``language`` when given) and the contact reasons it named (``topics``, entries of shopdesk.logic.topics,
        added to the set): an update to write alone or with another change of the conversation."""
        update = Update().set("sentiment", sentiment).set("urgent", urgent or None)
        if language:
            update.set("language", language)
        if topics:
            update.add("topics", set(topics))
        return update

    def get_message(self, conversation_id: str, sk: str) -> Message | None:
        item = self.table.get(it.conv_pk(conversation_id), sk)
        return it.message_from_item(item) if item else None

    def inbound_between(self, conversation_id: str, after: str, before_sk: str) -> list[Message]:
        """The customer's messages stored after the instant ``after`` and before the message ``before_sk``, oldest
        first: one Query of the keys between (``MSG#<time>#<id>``)."""
        rows = self.table.query_all(
            index=None, key_condition="PK = :pk AND SK BETWEEN :after AND :before", names={},
            values={":pk": it.conv_pk(conversation_id), ":after": f"MSG#{after}", ":before": before_sk},
            consistent=True)
        return [it.message_from_item(r) for r in rows if r.get("direction") == "inbound" and r["SK"] != before_sk]

    def list_inbox(self, agent_id: str, status: str | None, limit: int, cursor: str | None
                   ) -> tuple[list[Conversation], str | None]:
        values: dict[str, Any] = {":pk": it.inbox_pk(agent_id)}
        condition = "InboxPK = :pk"
        if status:
            condition += " AND begins_with(InboxSK, :status)"
            values[":status"] = f"{status}#"
        page = self.table.query_items(index="Inbox", key_condition=condition, values=values, limit=limit,
                                      cursor=cursor, forward=False)
        return [it.conversation_from_item(i) for i in page.items], page.cursor

    def list_queue(self, team: str, limit: int, cursor: str | None = None) -> tuple[list[Conversation], str | None]:
        """Waiting conversations of a team: most urgent first, then longest waiting."""
        page = self.table.query(index="Queue", key_condition="QueuePK = :pk", names={},
                                values={":pk": it.queue_pk(team)}, limit=limit, cursor=cursor)
        return [it.conversation_from_item(i) for i in page.items], page.cursor

    def queue_places(self, team: str, limit: int) -> list[tuple[str, int, datetime | None]]:
        """The first ``limit`` waiting conversations of a team, in ``list_queue``'s order, as their id, priority rank
        and waiting time only (one Query projecting those three): what a promise of the wait counts, without a
        hundred whole conversations read, sent and parsed for it."""
        page = self.table.query(index="Queue", key_condition="QueuePK = :pk",
                                names={"#id": "id", "#priority": "priority", "#waiting": "waiting_since"},
                                values={":pk": it.queue_pk(team)}, limit=limit,
                                projection="#id, #priority, #waiting")
        return [(i["id"], Priority(i.get("priority", "normal")).rank,
                 clock.parse_iso(i["waiting_since"]) if i.get("waiting_since") else None) for i in page.items]

    def list_team(self, team: str, status: str, limit: int, cursor: str | None
                  ) -> tuple[list[Conversation], str | None]:
        """A team's conversations of one status, latest activity first (the Access index, #36)."""
        page = self.table.query_items(index="Access",
                                      key_condition="AccessPK = :pk AND begins_with(InboxSK, :status)",
                                      values={":pk": it.access_team(team), ":status": f"{status}#"},
                                      limit=limit, cursor=cursor, forward=False)
        return [it.conversation_from_item(i) for i in page.items], page.cursor

    def list_granted(self, agent_id: str, limit: int, cursor: str | None) -> tuple[list[Conversation], str | None]:
        """The conversations granted to an agent, newest grant first: one Query of the Access index, then one
        BatchGetItem of the conversations (#37)."""
        page = self.table.query(index="Access", key_condition="AccessPK = :pk", names={},
                                values={":pk": it.access_grant(agent_id)}, limit=limit, cursor=cursor, forward=False)
        ids = [g["PK"].removeprefix("CONV#") for g in page.items]       # grants live under their conversation
        found = {i["id"]: it.conversation_from_item(i)
                 for i in self.table.batch_get([(it.conv_pk(c), it.META) for c in ids])}
        return [found[c] for c in ids if c in found], page.cursor

    def list_by_status(self, status: str, limit: int, cursor: str | None) -> tuple[list[Conversation], str | None]:
        page = self.table.query_items(index="ByStatus", key_condition="StatusPK = :pk",
                                      values={":pk": it.status_pk(status)}, limit=limit, cursor=cursor, forward=False)
        return [it.conversation_from_item(i) for i in page.items], page.cursor

    # ------------------------------------------------------------------ routing
    def backfill_access(self, status: str, *, cursor: str | None = None, dry_run: bool = False,
                        page_size: int = 200) -> tuple[int, int, str | None]:
        """Conversations written before the Access index existed get ``AccessPK = TEAM#<team>``: one page of
        one status (the ByStatus index), each written only where it is still missing. One the router has not
        routed yet (``unrouted``) is left without: it is in no partition until the routing puts it in its team's.
        Returns (seen, written, the next page's cursor)."""
        page = self.table.query_items(index="ByStatus", key_condition="StatusPK = :pk",
                                      values={":pk": it.status_pk(status)}, limit=page_size, cursor=cursor)
        written = 0
        for item in page.items:
            if item.get("AccessPK") or item.get("SK") != it.META or item.get("unrouted"):
                continue
            if not dry_run:
                try:
                    access = it.access_team(item.get("team") or "default")
                    self.table.update(item["PK"], it.META, Update().set("AccessPK", access).when(
                        "attribute_exists(PK) AND attribute_not_exists(AccessPK) AND attribute_not_exists(unrouted)"))
                except ConditionFailed:
                    continue                       # written meanwhile (by the app or another run)
            written += 1
        return len(page.items), written, page.cursor

    def classify(self, conversation_id: str, language: str | None, skills: list[str], team: str = "default", *,
                 mood: Update | None = None) -> ClockRead | None:
        """A new conversation's language, skills and team, once: routing work done again (a re-sent copy)
        never overrides what people changed since. ``mood``: the first message's (``mood``, without a language),
        written with them. It is routed from here on (``unrouted`` gone, its team's Access partition): its team
        lists, opens and hears of it (``shopdesk.logic.access``, ``shopdesk.logic.live``). The conversation as the
        write left it (the update returns it: its clocks start from this read, no GetItem more); None when it was
        classified already."""
        try:
            item = self.table.update(it.conv_pk(conversation_id), it.META,
                                     (mood or Update()).set("language", language).set("skills", skills or None)
                                     .set("team", team).set("AccessPK", it.access_team(team)).remove("unrouted")
                                     .set("classified_at", clock.now_iso())
                                     .when("attribute_exists(PK) AND attribute_not_exists(classified_at)"),
                                     return_new=True)
        except ConditionFailed:
            return None
        return _clock_read(item) if item else None

    def ensure_queued(self, conv: Conversation, since: datetime | None = None) -> bool:
        """Put an open, unassigned conversation that is not waiting (new, or it was pending) in the queue."""
        now = clock.iso(since) if since else clock.now_iso()
        update = (Update().set("waiting_since", now).set("QueuePK", it.queue_pk(conv.team))
                  .set("QueueSK", it.queue_sk(conv.priority, now, conv.id))
                  .when("#status = :open AND attribute_not_exists(assignee) AND attribute_not_exists(QueuePK)",
                        open="open"))
        try:
            self.table.update(it.conv_pk(conv.id), it.META, update)
            return True
        except ConditionFailed:
            return False

    def timer_item(self, pk: str, name: str, due_at: str, **fields: Any) -> dict[str, Any]:
        """A routing timer in the due index (the sweep acts on it like on a deadline)."""
        owner = pk.split("#", 1)[1]
        return {"PK": pk, "SK": it.deadline_sk(name), "type": "timer", "target": name, "due_at": due_at,
                "state": "pending", "conversation_id": owner, **fields,
                "DuePK": it.due_pk(owner, self.due_shards), "DueSK": it.due_sk(due_at, owner, name)}

    def set_timer(self, pk: str, name: str, due_at: str) -> None:
        """A timer of any owner (the item key ``pk``: ``<KIND>#<id>``): the sweep runs it by ``name`` with the id."""
        self.table.put(self.timer_item(pk, name, due_at))

    def set_agent_timer(self, agent_id: str, name: str, due_at: str | None) -> None:
        if due_at is None:
            self.table.delete(it.agent_pk(agent_id), it.deadline_sk(name))
        else:
            self.table.put(self.timer_item(it.agent_pk(agent_id), name, due_at, agent_id=agent_id))

    def set_conversation_timer(self, conversation_id: str, name: str, due_at: str | None) -> bool:
        """A timer of one conversation (e.g. the end of a snooze); None removes it. Set only while the conversation
        is there and its customer's erase does not hold it (``timeline_check_op``, in the same request): an erase
        that has made its final pass under the conversation finds nothing landing after it. False when refused so
        (nothing to do: the conversation is gone or going)."""
        if due_at is None:
            self.table.delete(it.conv_pk(conversation_id), it.deadline_sk(name))
            return True
        try:
            transact_unless_held(self.table, [self.table.put_op(self.timer_item(it.conv_pk(conversation_id), name,
                                                                                 due_at)),
                                              timeline_check_op(self.table, conversation_id)], retry_conflicts=True)
        except TransactionCancelled:
            return False
        return True

    def conversation_timer(self, conversation_id: str, name: str) -> str | None:
        """When a timer of one conversation is due (``set_conversation_timer``); None when it is not set."""
        item = self.table.get(it.conv_pk(conversation_id), it.deadline_sk(name))
        return str(item["due_at"]) if item else None

    def set_snooze(self, conversation_id: str, name: str, until: str | None) -> None:
        """The end of a snooze: its wake-up timer and the conversation's ``snoozed_until`` in one transaction;
        None removes both (#125)."""
        meta = Update().when("attribute_exists(PK)")
        if until is None:
            ops = [self.table.delete_op(it.conv_pk(conversation_id), it.deadline_sk(name))]
            meta.remove("snoozed_until")
        else:
            ops = [self.table.put_op(self.timer_item(it.conv_pk(conversation_id), name, until))]
            meta.set("snoozed_until", until)
        ops.append(self.table.update_op(it.conv_pk(conversation_id), it.META, meta))
        try:
            self.table.transact(ops)
        except TransactionCancelled as exc:
            raise conversation_not_found(conversation_id) from exc

    def _expire_closed(self, update: Update, resolved_at: str) -> None:
        """A resolve, whoever makes it (an agent, a macro, the bot, the system), gives the conversation the expiry of
        closed conversations (privacy settings), when there is one."""
        expires = self.retention.closed_ttl(clock.parse_iso(resolved_at))
        if expires:
            update.set("ttl", expires)

    def _inactive_timer_ops(self, conv: Conversation, resolved_at: str) -> list[dict[str, Any]]:
        """A resolve moves the customer's ``inactive_customer`` timer to N days later, when admins erase inactive
        customers (``shopdesk.privacy.inactive`` runs it); nothing otherwise."""
        due = self.retention.inactive_due(clock.parse_iso(resolved_at))
        if due is None:
            return []
        return [self.table.put_op(self.timer_item(it.customer_pk(conv.customer.id), INACTIVE_TIMER, due))]

    # ------------------------------------------------------------------ shared parts of the writes below
    def take_seat_op(self, agent_id: str, at: str) -> dict[str, Any]:
        """A conversation handed to an agent (a transfer, an assignment by an agent): one more active
        conversation, only within their capacity, never to one an admin took off the desk."""
        return self.table.update_op(it.agent_pk(agent_id), it.META, Update().add("active", 1)
                                    .set("last_assigned_at", at)
                                    .when("attribute_exists(PK) AND #active < #capacity AND "
                                          "attribute_not_exists(deactivated_at)"))

    def free_seat_op(self, agent_id: str) -> dict[str, Any]:
        """A conversation an agent no longer works on (resolved, transferred, released): one less active."""
        return self.table.update_op(it.agent_pk(agent_id), it.META,
                                    Update().add("active", -1).when("#active > :zero", zero=0))

    @staticmethod
    def wait_in_queue(update: Update, conversation_id: str, team: str, priority: Priority, since: str) -> Update:
        """The keys of an open, unassigned conversation's place in its team's queue."""
        return (update.set("waiting_since", since).set("QueuePK", it.queue_pk(team))
                .set("QueueSK", it.queue_sk(priority, since, conversation_id)))

    @staticmethod
    def leave_queue(update: Update) -> Update:
        return update.remove("QueuePK").remove("QueueSK").remove("waiting_since")

    def release(self, conv: Conversation, agent_id: str, note: Message, *, pass_over: bool) -> bool:
        """Take a conversation back from an agent into the queue (silence, offline), freeing their
        capacity; False when it is no longer theirs. ``pass_over`` (silence): also False when a reply was
        written since it was assigned (``replied_at``, its write time, not before ``assigned_at``; items written
        before it: ``last_outbound_at``): a reply leaves the assignee's silence timer in place, and this condition is
        what makes it release nothing."""
        now = clock.now_iso()
        update = (Update().remove("assignee").remove("InboxPK").set("waiting_since", now).set("changed_by", "system")
                  .set("QueuePK", it.queue_pk(conv.team)).set("QueueSK", it.queue_sk(conv.priority, now, conv.id))
                  .set("updated_at", now).set("StatusSK", now).set("InboxSK", f"open#{now}")
                  .when("assignee = :agent AND #status = :open", agent=agent_id, open="open"))
        if pass_over:
            update.append("passed_over", [agent_id])
            update.when("attribute_not_exists(assigned_at) OR replied_at < assigned_at OR "
                        "(attribute_not_exists(replied_at) AND "
                        "(attribute_not_exists(last_outbound_at) OR last_outbound_at < assigned_at))")
        try:
            self.table.transact([
                self.table.update_op(it.conv_pk(conv.id), it.META, update),
                self.table.update_op(it.agent_pk(agent_id), it.META, Update().add("active", -1).when("#active > :zero",
                                                                                                     zero=0)),
                self.table.delete_op(it.conv_pk(conv.id), it.deadline_sk("assignee_silence")),
                self.table.put_op(it.message_item(self.retention.stamp(note))),
            ])
        except TransactionCancelled:
            return False
        return True

    def assign(self, conv: Conversation, agent: Agent, note: Message, silence_due: str | None = None) -> None:
        """Assign a waiting conversation: the agent's capacity check and the hand-over are one
        transaction, so capacity holds and nobody gets a conversation twice under any concurrency.
        The agent must still be in the conversation's team (an item from before agents had several
        teams names it in ``team``).

        Raises AgentUnavailable when the agent is full, not online or left the team, NotWaiting when
        the conversation was assigned or closed meanwhile."""
        now = clock.now_iso()
        agent_update = (Update().add("active", 1).set("last_assigned_at", now)
                        .when("#presence = :online AND #active < #capacity", online="online")
                        .when("contains(#teams, :team) OR (attribute_not_exists(#teams) AND #team = :team)",
                              team=conv.team))
        conv_update = (Update().set("assignee", agent.id).set("InboxPK", it.inbox_pk(agent.id))
                       .set("InboxSK", f"open#{now}").set("updated_at", now).set("StatusSK", now)
                       .set("assigned_at", now).remove("QueuePK").remove("QueueSK").remove("waiting_since")
                       .set("changed_by", "router").add("granted", {agent.id})
                       .when("attribute_exists(QueuePK) AND #status = :open AND attribute_not_exists(assignee)",
                             open="open"))
        ops = [self.table.update_op(it.agent_pk(agent.id), it.META, agent_update),
               self.table.update_op(it.conv_pk(conv.id), it.META, conv_update),
               self.table.put_op(it.message_item(self.retention.stamp(note))),
               self.table.put_op(it.grant_item(conv.id, agent.id, now))]
        if silence_due:     # the assignee must answer by then or the conversation goes to someone else
            ops.append(self.table.put_op(self.timer_item(it.conv_pk(conv.id), "assignee_silence", silence_due,
                                                         agent_id=agent.id)))
        try:
            self.table.transact(ops)
        except TransactionCancelled as exc:
            if 1 in exc.failed:
                raise NotWaiting(conv.id) from exc
            raise AgentUnavailable(agent.id) from exc

    def transfer(self, conv: Conversation, to_agent: str, note: Message) -> None:
        """Move a conversation to another agent (within their capacity), freeing the previous one."""
        now = clock.now_iso()
        ops = [self.take_seat_op(to_agent, now)]
        conv_update = self.leave_queue(
            Update().set("assignee", to_agent).set("InboxPK", it.inbox_pk(to_agent))
            .set("InboxSK", f"{conv.status.value}#{now}").set("updated_at", now).set("StatusSK", now)
            .set("assigned_at", now).set("changed_by", note.author or "system")
            .add("granted", {to_agent}))   # keeps access, whatever its team (logic/access.py)
        if conv.assignee:
            conv_update.when("assignee = :previous AND #status <> :resolved", previous=conv.assignee,
                             resolved="resolved")
            ops.append(self.free_seat_op(conv.assignee))
        else:
            conv_update.when("attribute_not_exists(assignee) AND #status <> :resolved", resolved="resolved")
        ops.insert(1, self.table.update_op(it.conv_pk(conv.id), it.META, conv_update))
        ops.append(self.table.put_op(it.message_item(self.retention.stamp(note))))
        ops.append(self.table.put_op(it.grant_item(conv.id, to_agent, now)))
        try:
            self.table.transact(ops)
        except TransactionCancelled as exc:
            if 0 in exc.failed:
                raise Conflict(f"agent {to_agent} does not exist, has no free capacity or was taken off the desk"
                               ) from exc
            raise Conflict("the conversation changed meanwhile; reload it and try again") from exc

    def reroute(self, read: ClockRead, clocks: Any, *, priority: Priority, team: str,
                skills: list[str], release: bool, note: Message) -> None:
        """Set a conversation's priority, team and skills with its clocks (rebound by the caller) and the
        note, in one transaction conditioned on the routing and clocks as read. A waiting conversation
        takes its new place in the (new team's) queue; with ``release`` the assignee gives it up (their
        capacity, the silence timer) and, if open, it waits in the new team's queue from now.
        ClockConflict when the conversation changed meanwhile. A change of priority or skills alone leaves
        ``updated_at`` and the index keys made from it as they were (``_moves_activity``)."""
        conv = read.conversation
        now = clock.now_iso()
        update = (Update().set("priority", priority.value).set("team", team).set("AccessPK", it.access_team(team))
                  .remove("unrouted")                     # a person routed it: its team's from now on
                  .set("skills", skills or None).set("changed_by", note.author or "system")
                  .when("#status = :read_status AND #priority = :read_priority AND #team = :read_team",
                        read_status=conv.status.value, read_priority=conv.priority.value, read_team=conv.team))
        if _moves_activity(conv, team=team, assignee=None if release else conv.assignee):
            update.set("updated_at", now).set("StatusSK", now).set("InboxSK", f"{conv.status.value}#{now}")
        ops = [self.table.put_op(it.message_item(self.retention.stamp(note)))]
        since = clock.iso(conv.waiting_since) if conv.waiting_since and not conv.assignee else None
        if conv.assignee:
            update.when("#assignee = :read_assignee", read_assignee=conv.assignee)
        else:
            update.when("attribute_not_exists(#assignee)")
        if conv.assignee and release:
            update.remove("assignee").remove("InboxPK")
            ops.append(self.free_seat_op(conv.assignee))
            ops.append(self.table.delete_op(it.conv_pk(conv.id), it.deadline_sk("assignee_silence")))
            since = now
        if since and conv.status is ConversationStatus.OPEN:
            self.wait_in_queue(update, conv.id, team, priority, since)
        self.save_clocks(conv.id, clocks, read.version, extra=update, ops=ops, read=read)

    def save_clocks_with_tier(self, read: ClockRead, clocks: Any, tier: str | None) -> None:
        """Save clocks chosen with the customer's ``tier``, as read from their record, and record the tier on
        the conversation (``customer.tier``), in one transaction conditioned on the clocks version read and on
        the customer's record having that tier still: the tier a conversation shows is the one its clocks
        were chosen with, and a tier changed meanwhile makes the caller read again (ClockConflict)."""
        unchanged = self.table.condition_op(
            it.customer_pk(read.conversation.customer.id), it.META,
            "#tier = :tier" if tier is not None else "attribute_not_exists(#tier)", names={"#tier": "tier"},
            values={":tier": tier} if tier is not None else None)
        self.save_clocks(read.conversation.id, clocks, read.version, extra=Update().set("customer.tier", tier),
                         ops=[unchanged], read=read)

    # ------------------------------------------------------------------ composed changes (labels, macros)
    def edit(self, read: ClockRead, clocks: Any, edit: Edit) -> None:
        """Write everything ``edit`` changes on one conversation in one TransactWriteItems, with the clocks the
        caller moved: labels (and their ByLabel items), priority, team, status, assignment, a snooze's timer,
        notes and the timeline entry. Conditioned on the conversation as read: its clocks version (which every
        status, routing, reply and SLA write moves) and its status, priority, team and assignee.

        Raises ClockConflict when the conversation changed meanwhile (read again), Conflict when the new
        assignee has no free capacity or the customer's slot moved (nothing is written either way)."""
        conv = read.conversation
        now = clock.now_iso()
        status = edit.status or conv.status
        priority = edit.priority or conv.priority
        team = edit.team or conv.team
        assignee = conv.assignee if edit.assignee is KEEP else edit.assignee
        labels = sorted(edit.labels) if edit.labels is not None else conv.labels
        update = (Update().set("updated_at", now).set("StatusSK", now).set("InboxSK", f"{status.value}#{now}")
                  .when("#status = :read_status AND #priority = :read_priority AND #team = :read_team",
                        read_status=conv.status.value, read_priority=conv.priority.value, read_team=conv.team))
        if conv.assignee:
            update.when("#assignee = :read_assignee", read_assignee=conv.assignee)
        else:
            update.when("attribute_not_exists(#assignee)")
        ops: list[dict[str, Any]] = []
        if status is not conv.status:
            update.set("status", status.value).set("StatusPK", it.status_pk(status.value))
            if status is ConversationStatus.RESOLVED:
                update.set("resolved_at", now)
                self._expire_closed(update, now)
                # sticky routing remembers who helped this customer last
                ops.extend(self.identities.release_ops(edit.slots, conv.id, last_agent=assignee, at=now))
                ops.extend(self._inactive_timer_ops(conv, now))
        if priority is not conv.priority:
            update.set("priority", priority.value)
        if team != conv.team or (edit.team and not conv.routed):     # a person routed it: its team's from now on
            update.set("team", team).set("AccessPK", it.access_team(team)).remove("unrouted")
        if edit.labels is not None:
            update.set("labels", set(labels) or None)
        if assignee != conv.assignee:
            if assignee:
                update.set("assignee", assignee).set("InboxPK", it.inbox_pk(assignee)).set("assigned_at", now)
                update.add("granted", {assignee})        # keeps access, whatever its team (logic/access.py)
                ops.append(self.table.put_op(it.grant_item(conv.id, assignee, now)))
            else:
                update.remove("assignee").remove("InboxPK")
            ops.append(self.table.delete_op(it.conv_pk(conv.id), it.deadline_sk("assignee_silence")))
        if status is ConversationStatus.OPEN and assignee is None:
            waiting = conv.status is ConversationStatus.OPEN and conv.assignee is None and conv.waiting_since
            self.wait_in_queue(update, conv.id, team, priority, clock.iso(conv.waiting_since) if waiting else now)
        else:
            self.leave_queue(update)
        # an agent's active count: the conversations they hold that are not resolved
        held_before = conv.assignee if conv.status is not ConversationStatus.RESOLVED else None
        held_after = assignee if status is not ConversationStatus.RESOLVED else None
        seat_ops = []
        if held_after != held_before:
            if held_after:
                seat_ops.append(self.take_seat_op(held_after, now))
            if held_before:
                ops.append(self.free_seat_op(held_before))
        if edit.snooze_until is not None:
            ops.append(self.table.put_op(self.timer_item(it.conv_pk(conv.id), SNOOZE_TIMER, edit.snooze_until)))
            update.set("snoozed_until", edit.snooze_until)      # the inbox shows when it wakes (#125)
        elif status is not conv.status:
            ops.append(self.table.delete_op(it.conv_pk(conv.id), it.deadline_sk(SNOOZE_TIMER)))
            update.remove("snoozed_until")
        ops.extend(self.table.put_op(it.label_item(conv.id, label, status.value, now)) for label in labels)
        ops.extend(self.table.delete_op(it.conv_pk(conv.id), it.label_sk(label))
                   for label in sorted(set(conv.labels) - set(labels)))
        ops.extend(self.table.put_op(it.message_item(self.retention.stamp(m))) for m in edit.messages)
        ops.extend(edit.also)
        clock_ops = self._clock_ops(conv.id, clocks, read.version, read.warned, read.done, update, before=read)
        transaction = [*clock_ops, *seat_ops, *ops]
        if len(transaction) > MAX_TRANSACTION_OPS:
            raise Conflict(f"this change needs {len(transaction)} writes, more than one transaction takes")
        try:
            self.table.transact(transaction)
        except TransactionCancelled as exc:
            if 0 in exc.failed:
                raise ClockConflict(conv.id) from exc
            if seat_ops and len(clock_ops) in exc.failed:
                raise Conflict(f"agent {held_after} does not exist or has no free capacity") from exc
            raise Conflict("the customer's open conversation changed meanwhile; reload it and try again") from exc
        except ClientError as exc:           # a concurrent transaction on the same items: read again
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            raise ClockConflict(conv.id) from exc

    def list_labelled(self, label_id: str, status: str, limit: int, cursor: str | None
                      ) -> tuple[list[Conversation], str | None]:
        """A label's conversations of one status, latest activity first: one Query of the ByLabel index, then
        one BatchGetItem of the conversations (#110). An index entry a change has not reached yet (the
        conversation's status or latest activity moved on, or the label was taken off) is skipped, so a
        conversation is listed only at its own place (and a cursor made from it resumes exactly there): a page
        may hold fewer."""
        page = self.table.query(index="ByLabel", key_condition="LabelPK = :pk AND begins_with(LabelSK, :status)",
                                names={}, values={":pk": it.label_pk(label_id), ":status": f"{status}#"},
                                limit=limit, cursor=cursor, forward=False)
        entries = {row["PK"].removeprefix("CONV#"): row["LabelSK"] for row in page.items}
        found = {i["id"]: it.conversation_from_item(i)
                 for i in self.table.batch_get([(it.conv_pk(c), it.META) for c in entries])}
        kept = [conv for c, key in entries.items() if (conv := found.get(c)) is not None
                and label_id in conv.labels
                and key == it.label_index_sk(conv.status.value, clock.iso(conv.updated_at), conv.id)]
        return kept, page.cursor

    def refresh_labels(self, conversation_id: str, labels: Sequence[str], status: str, updated_at: str,
                       expires: int | None = None) -> int:
        """Move the conversation's label items to its current status and activity (the label indexer, #112):
        each only if it still exists (a label taken off is never put back) and was made from an older state.
        ``expires``: the conversation's ``ttl`` (retention of closed conversations), which the items take too, or
        lose with it. Returns how many moved."""
        moved = 0
        for label in labels:
            update = (Update().set("at", updated_at)
                      .set("LabelSK", it.label_index_sk(status, updated_at, conversation_id))
                      .when("attribute_exists(PK) AND #at < :at", at=updated_at).expires(expires))
            try:
                self.table.update(it.conv_pk(conversation_id), it.label_sk(label), update)
                moved += 1
            except ConditionFailed:
                continue
        return moved

    def expire_satellites(self, conversation_id: str, expires: int | None) -> int:
        """The conversation's grants and mentions take its expiry (retention of closed conversations: a resolve
        sets it, a reopen takes it away), each only while it still exists. One Query of the partition per kind;
        only items whose expiry differs are written. Returns how many changed."""
        changed = 0
        for prefix in ("GRANT#", "MENTION#"):
            rows = self.table.query_all(index=None, key_condition="PK = :pk AND begins_with(SK, :kind)", names={},
                                        values={":pk": it.conv_pk(conversation_id), ":kind": prefix},
                                        consistent=True)
            for row in rows:
                if row.get("ttl") == expires:
                    continue
                try:
                    self.table.update(row["PK"], row["SK"], Update().when("attribute_exists(PK)").expires(expires))
                    changed += 1
                except ConditionFailed:
                    continue
        return changed

    # ------------------------------------------------------------------ agent actions
    def add_outbound(self, conv: Conversation, message: Message, *, clocks: tuple[ClockRead, Any] | None = None,
                     also: Sequence[dict[str, Any]] = ()) -> None:
        """An agent's reply on the timeline and its effect on the conversation, in one transaction. With
        ``clocks`` (the read they came from, and the clocks the reply moved) they are written in the same
        transaction, conditioned on their version (ClockConflict: nothing written, read again). Never while the
        customer's erase runs (``NOT_ERASING``): without clocks, NotFound, nothing written (it is not sent either);
        a mark whose erase holds no more is let go and the reply written (``transact_unless_held``, in both ways).
        ``also``: further operations of the same transaction (the reply's Idempotency-Key marked with it:
        ``reply_key_op``)."""
        now = clock.iso(message.created_at)
        update = (Update().set("updated_at", now).set("StatusSK", now)
                  .set("InboxSK", f"{conv.status.value}#{now}").set("last_outbound_at", now)
                  .set("last_message_preview", (message.text or "")[:140] or None)
                  .set_if_missing("sla.first_response_at", now).set_if_missing("sla.first_response_id", message.id)
                  .add("message_count", 1)
                  .set("last_outbound_by", message.author or "system").remove("awaiting_since")
                  .when(f"attribute_exists(PK) AND {NOT_ERASING}"))
        put = self.table.put_op({**it.message_item(self.retention.stamp(message)), **self._unqueued(message)})
        # an assignee's silence timer stays: its runner finds this reply (``replied_at``) and releases nothing;
        # deleting it here cost every reply two write units, mostly for a timer that was never set. ``replied_at`` is
        # the write's time, taken last: ``created_at`` was stamped before the clocks' read (and its retries), so an
        # assignment that commits meanwhile is later than the stamp and earlier than this write
        update.set("replied_at", clock.now_iso())
        if clocks is not None:
            read, moved = clocks
            self.save_clocks(conv.id, moved, read.version, extra=update, ops=[put, *also], read=read)
            return
        try:
            transact_unless_held(self.table, [put, self.table.update_op(it.conv_pk(conv.id), it.META, update,
                                                                        old_on_failure=True), *also])
        except TransactionCancelled as exc:
            raise conversation_not_found(conv.id) from exc

    def _unqueued(self, message: Message) -> dict[str, str]:
        """The Due index's keys a reply is stored with, at ``REPLY_GRACE_SECONDS`` after it: a reply whose function
        stopped between the transaction that stores it and its send to the outbound queue is found there by the sweep
        and queued then (``logic.sla.requeue_replies``). The first delivery that takes it up (``record_intent``, or
        ``record_attempt``) takes them off, in the write it makes anyway: no request more, the index's put and delete
        of the item (docs/data-model.md)."""
        due = clock.iso(max(message.created_at, clock.now()) + timedelta(seconds=REPLY_GRACE_SECONDS))
        return {"DuePK": it.due_pk(message.conversation_id, self.due_shards),
                "DueSK": it.due_sk(due, message.conversation_id, REPLY_TARGET)}

    def reply_to_requeue(self, deadline: Deadline) -> tuple[Message, bool] | None:
        """The reply a Due index row names (``_unqueued``), read again (one GetItem: the index lags), and whether its
        customer's erase holds it (``NOT_ERASING``); None when it is gone."""
        item = self.table.get(deadline.pk, deadline.sk)
        return (it.message_from_item(item), bool(item.get(ERASING))) if item else None

    def requeue_later(self, deadline: Deadline, due_at: str) -> bool:
        """The sweep queued a reply again (``logic.sla.requeue_replies``): look at it again at ``due_at``, unless a
        delivery took it up meanwhile (its keys are gone, or moved)."""
        try:
            self.table.update(deadline.pk, deadline.sk, Update()
                              .set("DueSK", it.due_sk(due_at, deadline.conversation_id, REPLY_TARGET))
                              .when("DueSK = :seen", seen=deadline.due_sk))
            return True
        except ConditionFailed:
            return False

    def leave_requeue(self, deadline: Deadline) -> None:
        """A reply the sweep found taken up already (sent, failed, being sent) or left to the inbox (stuck): out of the
        Due index, as the sweep saw it."""
        with suppress(ConditionFailed):
            self.table.update(deadline.pk, deadline.sk, Update().remove("DuePK").remove("DueSK")
                              .when("DueSK = :seen", seen=deadline.due_sk))

    def take_back_first_response(self, read: ClockRead, clocks: Any, refused: Message, instead: Message | None,
                                 waiting_since: datetime, note: Message | None = None, reopen: bool = False,
                                 slots: Sequence[str] | None = None) -> None:
        """A person's reply that was the conversation's first response never reached the customer (``logic.refused``):
        the first response is ``instead`` (a later reply of a person that went, or is on its way), or there is none
        and the customer waits since ``waiting_since`` again. ``reopen``: the conversation (pending, snoozed or
        resolved) is open again, the same cycle: its assignee's, or the team's queue from ``waiting_since`` (a
        resolved one's assignee was freed: the queue; its customer's open slot taken back on ``slots``, all their
        identities (``Customers.slot_keys``; default: the one it started from), ClockConflict when they have another
        open conversation meanwhile). A resolved one not reopened (its customer has another open conversation) stays
        resolved, waiting on nobody: only its first response goes. With the clocks that follow and the timeline's
        ``note``, in one transaction conditioned on the clocks' version, the status read and on the first response
        being that reply still (ClockConflict: read again)."""
        conv = read.conversation
        update = Update().when("#sla.#first_response_at = :refused", refused=clock.iso(refused.created_at))
        if instead is not None:
            update.set("sla.first_response_at", clock.iso(instead.created_at)).set("sla.first_response_id", instead.id)
        else:
            update.remove("sla.first_response_at").remove("sla.first_response_id")
            if reopen or conv.status is not ConversationStatus.RESOLVED:
                update.set("awaiting_since", clock.iso(waiting_since))
        ops = [self.table.put_op(it.message_item(self.retention.stamp(note)))] if note is not None else []
        if reopen and instead is None and conv.status is not ConversationStatus.OPEN:
            now = clock.now_iso()
            update.set("status", "open").set("updated_at", now).set("StatusPK", it.status_pk("open"))
            update.set("StatusSK", now).set("InboxSK", f"open#{now}").set("changed_by", "system")
            update.remove("snoozed_until").when("#status = :current", current=conv.status.value)
            ops.append(self.table.delete_op(it.conv_pk(conv.id), it.deadline_sk(SNOOZE_TIMER)))
            assignee = conv.assignee
            if conv.status is ConversationStatus.RESOLVED:
                assignee = None
                update.remove("assignee").remove("InboxPK").remove("resolved_at").remove("resolved_by").remove("ttl")
                keys = slots if slots is not None else [i.key for i in conv.customer.identities[:1]]
                ops.extend(self.identities.reopen_ops(keys, conv.id))
            if assignee is None:
                self.wait_in_queue(update, conv.id, conv.team, conv.priority, clock.iso(waiting_since))
        self.save_clocks(conv.id, clocks, read.version, extra=update, ops=ops, read=read)

    def resolved_by(self, conversation_id: str) -> str | None:
        """Who resolved the conversation (``resolved_by``: an agent, ``bot``, ``system``), if it is resolved."""
        return (self.table.get(it.conv_pk(conversation_id), it.META) or {}).get("resolved_by")

    def first_response_key(self, conversation_id: str) -> str | None:
        """The key of the reply that is the conversation's first response (``sla.first_response_id``), if any."""
        sla = (self.table.get(it.conv_pk(conversation_id), it.META) or {}).get("sla") or {}
        if not sla.get("first_response_at") or not sla.get("first_response_id"):
            return None
        return f"MSG#{clock.iso(clock.parse_iso(sla['first_response_at']))}#{sla['first_response_id']}"

    def add_acknowledgement(self, conv: Conversation, message: Message, answers: str | None = None) -> bool:
        """An automatic acknowledgement: sent like a reply, but not an agent's answer (no SLA effect). ``answers``:
        the key of the customer's message it acknowledges, which records it (``acknowledgement``: its key) in the
        same transaction, once: False, nothing written, when that message has one already (an earlier delivery of
        its work) or is gone, or the conversation is, or its customer's erase holds it (``NOT_ERASING``); a mark whose
        erase holds no more is let go and the acknowledgement written (``transact_unless_held``)."""
        ops = [self.table.put_op(it.message_item(self.retention.stamp(message))),
               self.table.update_op(it.conv_pk(conv.id), it.META,
                                    Update().set("last_acknowledged_at", clock.iso(message.created_at))
                                    .add("message_count", 1).when(f"attribute_exists(PK) AND {NOT_ERASING}"),
                                    old_on_failure=True)]
        if answers is not None:
            ops.append(self.table.update_op(it.conv_pk(conv.id), answers, Update().set(
                "acknowledgement", it.message_sk(message)).when(
                "attribute_exists(PK) AND attribute_not_exists(acknowledgement)")))
        try:
            transact_unless_held(self.table, ops)
        except TransactionCancelled:
            return False
        return True

    def acknowledgement_of(self, conversation_id: str, message_sk: str) -> str | None:
        """The key of the acknowledgement a customer's message was given (``add_acknowledgement``), if any."""
        item = self.table.get(it.conv_pk(conversation_id), message_sk) or {}
        return str(item["acknowledgement"]) if item.get("acknowledgement") else None

    def add_message(self, message: Message) -> bool:
        """A note or system message: on the timeline, no effect on the conversation's state. Conditioned on the
        conversation being there and not held by its customer's erase (``timeline_check_op``: one TransactWriteItems,
        as many requests as a PutItem; sent again after a conflict with another write of the conversation): False,
        nothing written, when it is gone or going; a mark whose erase holds no more is let go and the entry written
        (``transact_unless_held``)."""
        try:
            transact_unless_held(self.table, [self.table.put_op(it.message_item(self.retention.stamp(message))),
                                              timeline_check_op(self.table, message.conversation_id)],
                                 retry_conflicts=True)
        except TransactionCancelled:
            return False
        return True

    def set_status(self, conv: Conversation, status: ConversationStatus, note: Message,
                   reopened_deadline: str | None, identities: Sequence[str] | None = None,
                   reopenable: bool = False, clocks: tuple[ClockRead, Any] | None = None,
                   messages: int | None = None, unfolding: bool = False,
                   awaiting_since: datetime | None = None, asked: str | None = None,
                   bot: dict[str, Any] | None = None) -> None:
        """Change a conversation's status with everything that follows from it, in one transaction:
        resolving frees the assignee's capacity and the customer's open-conversation slot; reopening
        takes the slot back and starts a fresh first-response clock; only open, unassigned
        conversations wait in the queue. ``identities`` (``kind#address``): resolving, those that hold the
        slot; reopening, all the customer's (default: the identity the conversation started from).
        ``reopenable`` (resolving): the customer's next message reopens it (``reopen_inbound``). With
        ``clocks`` (the read ``conv`` is, and the clocks the change moved) they go in the same transaction,
        conditioned on their version: ClockConflict when another change of them won (nothing written, read
        again), Conflict as without them when the rest cannot be done. ``messages``: only while the conversation
        holds that many messages (Conflict once the customer wrote again). ``asked``: only while the customer wrote
        nothing that asks after that time (``last_inbound_at``; Conflict once they did). ``unfolding`` (reopening): the
        conversation comes back from a merge that was undone (logic.fold): no longer merged, it goes on with the
        cycle it had (its start and its first response kept, not a new cycle), its customer waiting since
        ``awaiting_since`` if they still are (their place in the queue from then). ``bot``: the conversation's ``bot``
        state written with it (the bot's resolve, ``shopdesk.bot.resolve``)."""
        now = clock.now_iso()
        update = (Update().set("status", status.value).set("updated_at", now)
                  .set("StatusPK", it.status_pk(status.value)).set("StatusSK", now)
                  .set("InboxSK", f"{status.value}#{now}").set("changed_by", note.author or "system")
                  .when("#status = :current", current=conv.status.value))
        if messages is not None:
            update.when("message_count = :messages", messages=messages)
        if asked is not None:
            update.when("attribute_not_exists(last_inbound_at) OR last_inbound_at <= :asked", asked=asked)
        if bot is not None:
            update.set("bot", bot)
        ops: list[dict[str, Any]] = []
        if identities is None:       # the identity the conversation started from
            identities = [i.key for i in conv.customer.identities[:1]]
        reopening = conv.status is ConversationStatus.RESOLVED
        assignee = None if reopening else conv.assignee
        if status is ConversationStatus.RESOLVED:
            # the agent credited with the resolution (and a later CSAT rating): who resolved it, or its assignee
            update.set("resolved_at", now).set("resolved_by", note.author or conv.assignee or "system")
            update.remove("awaiting_since")
            self._expire_closed(update, now)
            if conv.assignee:
                ops.append(self.free_seat_op(conv.assignee))
            # sticky routing remembers who helped this customer last
            ops.extend(self.identities.release_ops(identities, conv.id, last_agent=conv.assignee, at=now,
                                                   reopenable=reopenable))
            ops.extend(self._inactive_timer_ops(conv, now))
        if reopening:
            update.remove("assignee").remove("InboxPK").remove("resolved_at").remove("resolved_by").remove("ttl")
            ops.extend(self.identities.reopen_ops(identities, conv.id))
            if unfolding:                     # the cycle it had goes on (docs/metrics.md, "Cycle")
                update.remove("folded_into").remove("folded_awaiting_since")
                if awaiting_since is not None:
                    update.set("awaiting_since", clock.iso(awaiting_since))
            else:
                update.remove("sla.first_response_at").remove("sla.first_response_id")    # a new cycle
                update.set("cycle_started_at", now)                                           # (metrics.md)
        if status is ConversationStatus.OPEN and assignee is None:
            since = clock.iso(conv.waiting_since) if conv.waiting_since and not reopening else now
            if reopening and unfolding and awaiting_since is not None:
                since = clock.iso(awaiting_since)
            self.wait_in_queue(update, conv.id, conv.team, conv.priority, since)
        else:
            self.leave_queue(update)
        ops.append(self.table.put_op(it.message_item(self.retention.stamp(note))))
        if clocks is None:
            head = [self.table.update_op(it.conv_pk(conv.id), it.META, update)]
        else:
            read, moved = clocks
            head = self._clock_ops(conv.id, moved, read.version, read.warned, read.done, update, before=read)
        try:
            self.table.transact([*head, *ops])
        except TransactionCancelled as exc:
            if 0 in exc.failed and clocks is not None:
                raise ClockConflict(conv.id) from exc
            if 0 not in exc.failed and reopening:
                raise Conflict("the customer already has another open conversation").with_code("another_open") from exc
            raise Conflict("the conversation changed meanwhile; reload it and try again") from exc
        except ClientError as exc:           # a concurrent transaction on the same items: read again
            if clocks is None or exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            raise ClockConflict(conv.id) from exc

    # ------------------------------------------------------------------ reply keys (Idempotency-Key)
    def hold_reply_key(self, agent_id: str, conversation_id: str, key: str, fingerprint: str,
                       ttl_seconds: int, held_seconds: int) -> dict[str, Any] | None:
        """Take ``key`` for one reply of this agent in this conversation before it is queued
        (``REPLYKEY#<conversation>`` / ``<agent>#<key>``: ``items.reply_key_sk``): one conditional PutItem (state
        ``in_flight``, the body's ``fingerprint``, a TTL of ``ttl_seconds``). None when this request took it; else the
        item of the request that holds it (``state`` ``in_flight`` or ``done`` with its ``message_sk``). A key past its
        TTL that DynamoDB has not deleted yet counts as free, and so does one still ``in_flight`` ``held_seconds``
        after it was taken (longer than any request lives: the function that took it was stopped, a timeout, before it
        stored the reply or let the key go: a stored reply marks its key in the same transaction, ``reply_key_op``)."""
        pk, sk = it.reply_key_pk(conversation_id), it.reply_key_sk(agent_id, key)
        for _ in range(3):              # a holder that let go between our write and our read: try again
            now = int(clock.now().timestamp())
            item = {"PK": pk, "SK": sk, "type": "reply_key", "agent_id": agent_id, "conversation_id": conversation_id,
                    "fingerprint": fingerprint, "state": "in_flight", "at": clock.now_iso(), "ttl": now + ttl_seconds,
                    "held_until": now + held_seconds}
            try:
                self.table.put(item, condition="attribute_not_exists(PK) OR #ttl <= :now OR "
                                               "(#state = :in_flight AND held_until <= :now)",
                               names={"#ttl": "ttl", "#state": "state"},
                               values={":now": now, ":in_flight": "in_flight"})
                return None
            except ConditionFailed:
                held = self.table.get(pk, sk)
                if held is not None:
                    return held
        raise Conflict("this reply's key is being taken and let go again; send it again in a moment"
                       ).with_code("reply_key_in_flight")

    def reply_key_op(self, agent_id: str, conversation_id: str, key: str, fingerprint: str,
                     message_sk: str) -> dict[str, Any]:
        """The operation that marks ``key`` used by the reply ``message_sk``, written in the transaction that stores
        the reply (``add_outbound``'s ``also``), before it is queued: a repeat of the request answers that reply,
        even one whose function was stopped after queueing it and before answering (the key is never in flight
        with a reply stored under it, so it is never taken again for a second copy)."""
        update = (Update().set("state", "done").set("message_sk", message_sk)
                  .when("fingerprint = :fingerprint", fingerprint=fingerprint))
        return self.table.update_op(it.reply_key_pk(conversation_id), it.reply_key_sk(agent_id, key), update)

    def release_reply_key(self, agent_id: str, conversation_id: str, key: str, fingerprint: str) -> None:
        """The reply that held ``key`` was refused before anything was queued: the key may be used again."""
        with suppress(ConditionFailed):
            self.table.delete_if(it.reply_key_pk(conversation_id), it.reply_key_sk(agent_id, key),
                                 condition="fingerprint = :fingerprint AND attribute_not_exists(message_sk)",
                                 values={":fingerprint": fingerprint})

    # ------------------------------------------------------------------ deliveries
    def claim_retry(self, conversation_id: str, sk: str, stale_seconds: int) -> bool:
        """Whether this caller may send a failed reply again: the first to claim it (``sent_again_at``), or the
        first after a claim older than ``stale_seconds`` (whose new reply was never written: the caller checked).
        False when another claimed it first."""
        now = clock.now()
        update = (Update().set("sent_again_at", clock.iso(now))
                  .when("attribute_exists(PK) AND (attribute_not_exists(sent_again_at) OR sent_again_at < :stale)",
                        stale=clock.iso(now - timedelta(seconds=stale_seconds))))
        try:
            self.table.update(it.conv_pk(conversation_id), sk, update)
        except ConditionFailed:
            return False
        return True

    def give_up_stuck(self, conversation_id: str, sk: str, quiet_since: datetime, error: dict[str, Any]) -> bool:
        """A reply stuck in the outbound queue (``logic.stuck``) that an agent sends again: marked failed with
        ``error``, so a later delivery of its old queue record (a redrive of the dead-letter queue) sends nothing
        (``record_intent`` refuses a failed reply). Only while it is still not sent and nothing tried to send it since
        ``quiet_since`` (no attempt, no intent since): False when a delivery took it up meanwhile (it is being sent)."""
        quiet = clock.iso(quiet_since)
        update = (Update().set("status", "failed").set("status_rank", delivery_rank("failed")).set("error", error)
                  .remove("DuePK").remove("DueSK")
                  .when("attribute_exists(PK) AND attribute_not_exists(provider_id) AND created_at < :quiet "
                        "AND (attribute_not_exists(attempted_at) OR attempted_at < :quiet) "
                        "AND (attribute_not_exists(#sending) OR #sending.#since < :quiet)", quiet=quiet))
        try:
            self.table.update(it.conv_pk(conversation_id), sk, update)
        except ConditionFailed:
            return False
        return True

    def record_part(self, conversation_id: str, sk: str, parts_sent: int, provider_id: str) -> None:
        """One more part of a reply went out (#106): counted with its provider id, so a retry resumes after it.
        Conditioned on the count as it was: a redelivery that raced another cannot record a part twice."""
        update = (Update().set("parts_sent", parts_sent).append("part_ids", [provider_id])
                  .when("attribute_exists(PK) AND (attribute_not_exists(parts_sent) OR parts_sent < :n)", n=parts_sent))
        with suppress(ConditionFailed):
            self.table.update(it.conv_pk(conversation_id), sk, update)

    def record_intent(self, conversation_id: str, sk: str, *, part: int, attempt: int, reference: str,
                      possibly_duplicate: bool = False) -> bool:
        """A part is about to go to the provider (#14): which, by which delivery, since when, with which reference
        (one UpdateItem before each provider call). Conditioned on the reply not being recorded as sent or failed, nor
        held by its customer's erase (``NOT_ERASING``: ``privacy.erase.held_keys``): False when an earlier delivery
        finished it meanwhile, or the customer is being erased (nothing to send). ``possibly_duplicate`` marks a part
        that goes again although nobody could confirm the earlier try did not reach the customer."""
        now = clock.now_iso()
        update = (Update().set("sending", {"part": part, "attempt": attempt, "since": now, "reference": reference})
                  .set("attempted_at", now).set_if_missing("confirmed", {})
                  .remove("DuePK").remove("DueSK")          # taken up: the sweep queues it no more (``_unqueued``)
                  .when(f"attribute_exists(PK) AND {NOT_ERASING} AND attribute_not_exists(provider_id) "
                        "AND #status <> :failed", failed="failed"))
        if possibly_duplicate:
            update.set("possibly_duplicate", True)
        try:
            self.table.update(it.conv_pk(conversation_id), sk, update)
        except ConditionFailed:
            return False
        return True

    def record_send(self, conversation_id: str, sk: str, *, provider: str, provider_id: str, status: str,
                    attempts: int, other_ids: Sequence[str] = ()) -> str | None:
        """A provider accepted a reply: remember its id (for receipts) and apply any receipt that
        raced ahead of us. A reply sent in several parts has a marker per part (#107): a receipt for any
        of them finds the reply, and the best status any of them reached already counts.

        Returns the failure (``failed``, ``undelivered``) this write gave the reply, else None: a receipt that came
        before the send was recorded, without our reference, found no reply to change and reported nothing
        (``apply_receipt``: "pending"), so the dispatcher reports it. A reply a receipt made failed itself (with our
        reference, or between our two writes) was reported by that receipt's webhook: the write is conditioned on
        the reply not being failed already, so the failure is reported once whichever write comes first."""
        markers = [self.table.update(
            it.marker_pk(provider, pid), it.META,
            Update().set("conversation_id", conversation_id).set("message_sk", sk).set("direction", "outbound")
            .set("type", "marker").set("recorded", True).set("ttl", int(clock.now().timestamp()) + MARKER_TTL_SECONDS),
            return_new=True) or {} for pid in (provider_id, *other_ids)]
        best, error = status, None
        for marker in markers:
            if marker.get("status") and delivery_rank(marker["status"]) > delivery_rank(best):
                best, error = marker["status"], marker.get("error")
        update = (Update().set("provider_id", provider_id).set("status", best).set("status_rank", delivery_rank(best))
                  .set("attempts", attempts).set("error", error)
                  .when("attribute_exists(PK) AND (attribute_not_exists(status_rank) OR status_rank <= :rank)",
                        rank=delivery_rank(best)))
        failure = best if best in FAILED else None
        if failure:
            update.when("NOT #status IN (:failed, :undelivered)", failed="failed", undelivered="undelivered")
        if other_ids:
            update.set("part_ids", [provider_id, *other_ids]).set("parts_sent", 1 + len(other_ids))
        try:
            self.table.update(it.conv_pk(conversation_id), sk, update)
        except ConditionFailed:
            # a receipt got to the message between our two writes (or, with our reference, before them): keep its
            # status, add our id; that receipt reported a failure itself
            try:
                self.table.update(it.conv_pk(conversation_id), sk, Update().set("provider_id", provider_id)
                                  .set("attempts", attempts).when("attribute_exists(PK)"))
            except ConditionFailed:
                # the reply is gone: its customer's erase deleted it after its intent was recorded (the part went
                # out before the erase held it). Nothing is made again, and the markers just written, which name
                # the conversation, go too
                self.table.batch_delete((it.marker_pk(provider, pid), it.META) for pid in (provider_id, *other_ids))
            return None
        return failure

    def record_attempt(self, conversation_id: str, sk: str, *, attempts: int, error: dict[str, Any],
                       failed: bool, keep_intent: bool = False) -> None:
        """A send that failed. The provider's answer settles the part's intent (it is removed); ``keep_intent``
        when no answer came and the provider may have the part after all (the next delivery reconciles)."""
        update = (Update().set("attempts", attempts).set("error", error).set("attempted_at", clock.now_iso())
                  .remove("DuePK").remove("DueSK").when("attribute_exists(PK)"))
        if not keep_intent:
            update.remove("sending")
        if failed:
            update.set("status", "failed").set("status_rank", delivery_rank("failed"))
        self.table.update(it.conv_pk(conversation_id), sk, update)

    def note_opted_out(self, conversation_id: str, channel: str, identity_kind: str, address: str) -> None:
        """The provider refused a send because the customer unsubscribed (Twilio's 21610): the identity remembers
        it, and the conversation's route on that channel says so (its agents see it before writing again)."""
        self.identities.set_opted_out(identity_kind, address, channel, clock.iso(clock.now()))
        with contextlib.suppress(ConditionFailed):      # the route is gone (erased) or never was: the identity is
            self.table.update(it.conv_pk(conversation_id), it.META,    # what later messages read
                              Update().set(f"routes.{channel}.opted_out", True)
                              .when(f"attribute_exists(#routes.#{channel})"))

    def apply_receipt(self, provider: str, provider_id: str, status: str, error: dict[str, Any] | None,
                      reference: str | None = None) -> str:
        """A delivery receipt: kept on the marker (receipts may beat the send's own bookkeeping) and
        applied to the message, never moving it backwards. Returns what happened.

        A receipt that carries our reference (``items.send_reference``) names the reply itself: when the send is
        not recorded yet (a receipt racing the dispatcher, or a dispatcher that stopped between the provider's
        answer and its record) the marker learns where the reply is and the reply learns the part's provider id
        (``confirmed``), so the next delivery of the outbound record finds it instead of sending again. Whether the
        send is recorded is the reply's to say, not the marker's: ``record_send`` writes the marker (``recorded``)
        before the reply, and a failure between the two leaves a marker that says recorded on a reply with no
        provider id. The reply's write returns the reply (as it is after, or as it was when stale), at no extra
        request, and only a reply without a provider id and without this part confirmed costs the one more write."""
        rank = delivery_rank(status)
        where = parse_reference(reference)
        update = (Update().set("status", status).set("status_rank", rank).set("error", error)
                  .set_if_missing("ttl", int(clock.now().timestamp()) + MARKER_TTL_SECONDS)
                  .when("attribute_not_exists(status_rank) OR status_rank < :rank", rank=rank))
        if where:
            update.set_if_missing("conversation_id", where[0]).set_if_missing("message_sk", where[1])
            update.set_if_missing("direction", "outbound").set_if_missing("type", "marker")
        try:
            marker = self.table.update(it.marker_pk(provider, provider_id), it.META, update, return_new=True) or {}
        except ConditionFailed:
            return "stale"        # (with our reference, the receipt that got there first confirmed the part, if
                                  # the reply did not know it)
        if not marker.get("message_sk"):
            return "pending"      # the send is not recorded yet; record_send will apply it
        ours = where is not None and (marker["conversation_id"], marker["message_sk"]) == where[:2]
        message_update = (Update().set("status", status).set("status_rank", rank).set("error", error)
                          .when("attribute_exists(PK) AND (attribute_not_exists(status_rank) OR status_rank < :rank)",
                                rank=rank))
        outcome = "applied"
        try:
            reply = self.table.update(it.conv_pk(marker["conversation_id"]), marker["message_sk"], message_update,
                                      return_new=ours, old_on_failure=ours)
        except ConditionFailed as exc:
            reply, outcome = exc.old, "stale"
        reply = reply or {}
        if where is not None and ours and reply and not reply.get("provider_id") \
                and reply.get("confirmed", {}).get(str(where[2])) != provider_id:
            self.confirm_part(where[0], where[1], where[2], provider_id)    # the reply does not know the part yet
        return outcome

    def confirm_part(self, conversation_id: str, sk: str, part: int, provider_id: str) -> None:
        """The provider confirmed a part of a reply whose send is not recorded (a receipt with our reference).
        Only while the reply is unrecorded: a reply recorded meanwhile already knows its ids."""
        update = (Update().set(f"confirmed.{part}", provider_id)
                  .when("attribute_exists(confirmed) AND attribute_not_exists(provider_id)"))
        with suppress(ConditionFailed):
            self.table.update(it.conv_pk(conversation_id), sk, update)

    # ------------------------------------------------------------------ SLA clocks
    def read_clocks(self, conversation_id: str) -> ClockRead:
        """The conversation, its clocks (None before it has any), their version and the deadlines
        already warned of or flagged, all from one consistent read."""
        item = self.table.get(it.conv_pk(conversation_id), it.META)
        if item is None:
            raise conversation_not_found(conversation_id)
        return _clock_read(item)

    def read_clocks_many(self, conversation_ids: list[str]) -> dict[str, ClockRead]:
        """``read_clocks`` of up to 100 conversations in one BatchGetItem; missing ones are absent."""
        items = self.table.batch_get([(it.conv_pk(c), it.META) for c in conversation_ids])
        return {read.conversation.id: read for read in map(_clock_read, items)}

    def get_clocks(self, conversation_id: str) -> tuple[Conversation, Any, int]:
        """The conversation, its clocks (None before it has any) and their version."""
        read = self.read_clocks(conversation_id)
        return read.conversation, read.clocks, read.version

    def save_clocks(self, conversation_id: str, clocks: Any, version: int, *, extra: Update | None = None,
                    ops: Sequence[dict[str, Any]] = (), read: ClockRead | None = None) -> None:
        """Write the clocks and make the due index hold exactly their running deadlines, in one
        transaction conditioned on the version read (ClockConflict when another event won, or when a
        condition of ``extra`` or of the further ``ops`` failed). Pass the ``read`` the clocks came
        from to spare a second read of the conversation."""
        if read is None:
            conv_item = self.table.get(it.conv_pk(conversation_id), it.META) or {}
            warned, done = conv_item.get("sla_warned") or {}, conv_item.get("sla_done") or {}
        else:
            warned, done = read.warned, read.done
        self._write_clocks(conversation_id, clocks, version, warned, done, extra or Update(), before=read, also=ops)

    def flag_deadlines(self, flags: Sequence[SlaFlag]) -> dict[str, list[Deadline] | None]:
        """The sweep's write: for each conversation, mark warnings sent and deadlines breached (each once
        per due time), save the clocks that follow (breached clocks end, an escalation rebinds them), put
        the notes on the timeline and leave one announcement item per breach in the due index until its
        events are out; each conversation's part conditioned on the version of its clocks. As many
        conversations go into one TransactWriteItems as its 100 operations allow; one whose clocks
        changed since its read is taken out and the rest written. Returns each conversation's
        announcements, or None when it must be read again."""
        results: dict[str, list[Deadline] | None] = {}
        batch: list[tuple[str, list[dict[str, Any]], list[Deadline]]] = []
        for flag in flags:
            part = self._flag_ops(flag)
            if batch and sum(len(ops) for _, ops, _ in batch) + len(part[1]) > MAX_TRANSACTION_OPS:
                self._write_parts(batch, results)
                batch = []
            batch.append(part)
        if batch:
            self._write_parts(batch, results)
        return results

    def _flag_ops(self, flag: SlaFlag) -> tuple[str, list[dict[str, Any]], list[Deadline]]:
        read, conv = flag.read, flag.read.conversation
        update = Update()
        if flag.priority is not None:             # escalation: a waiting conversation moves up the queue
            update.set("priority", flag.priority.value)
            if conv.assignee is None and conv.waiting_since is not None:
                update.set("QueueSK", it.queue_sk(flag.priority, clock.iso(conv.waiting_since), conv.id))
        now = clock.now_iso()
        for target, due in flag.warned.items():
            update.set(f"sla_warned.{target}", due)
        if flag.warned:                           # when (the lake dates the warning by it; updated_at stays)
            update.set("sla_warned_at", now)
        for target, due in flag.breached.items():
            update.set(f"sla_done.{target}", due)
        if flag.breached:
            update.add("sla_breaches", set(flag.breached))
        escalated = {"escalated_to": flag.priority.value} if flag.priority is not None else {}
        announcements = [{**self._deadline_item(conv.id, target, due), "SK": _announcement_sk(target, due),
                          "state": "breached", "breached_at": now, "announce": "breach", "detected_at": now,
                          **escalated} for target, due in flag.breached.items()]
        announcements += [self._warning_item(conv.id, target, due, now) for target, due in flag.warned.items()]
        ops = self._clock_ops(conv.id, flag.clocks, read.version, {**read.warned, **flag.warned},
                              {**read.done, **flag.breached}, update, before=read)
        ops += [self.table.put_op(a) for a in announcements]
        ops += [self.table.put_op(it.message_item(self.retention.stamp(n))) for n in flag.notes]
        priority = (flag.priority or conv.priority).value
        ops += [self.table.put_op(event_item(SlaEvent(
            kind=kind, conversation_id=conv.id, target=target, due_at=due, at=now, team=conv.team,
            assignee=conv.assignee, priority=priority, channel=conv.channel)))
            for kind, flagged in (("breach", flag.breached), ("warning", flag.warned))
            for target, due in flagged.items()]
        return conv.id, ops, [_deadline_from(a) for a in announcements]

    def _warning_item(self, conversation_id: str, target: str, due_at: str, now: str) -> dict[str, Any]:
        """A warning waiting for its announcement: due in the index now, under a key of its own (as a breach's)."""
        return {"PK": it.conv_pk(conversation_id), "SK": f"{it.deadline_sk(target)}#WARNED#{due_at}",
                "type": "deadline", "conversation_id": conversation_id, "target": target, "due_at": due_at,
                "state": "warned", "announce": "warning", "detected_at": now,
                "DuePK": it.due_pk(conversation_id, self.due_shards), "DueSK": it.due_sk(now, conversation_id, target)}

    def _risk_item(self, conv: Conversation, target: str, due_at: str, now: str, risk: float) -> dict[str, Any]:
        """A risk warning waiting for its announcement (the ``SlaRisk`` event): due in the index now, under a key of
        its own, with what the event says."""
        return {"PK": it.conv_pk(conv.id), "SK": f"{it.deadline_sk(target)}#RISK#{due_at}", "type": "deadline",
                "conversation_id": conv.id, "target": target, "due_at": due_at, "state": "risk", "announce": "risk",
                "detected_at": now, "risk": risk, "team": conv.team,
                "DuePK": it.due_pk(conv.id, self.due_shards), "DueSK": it.due_sk(now, conv.id, target)}

    def _write_parts(self, parts: list[tuple[str, list[dict[str, Any]], list[Deadline]]],
                     results: dict[str, list[Deadline] | None]) -> None:
        while parts:
            try:
                self.table.transact([op for _, ops, _ in parts for op in ops])
            except (TransactionCancelled, ClientError) as exc:
                failed = _failed_parts(exc, [len(ops) for _, ops, _ in parts])
                if failed is None:
                    raise
                for i in failed:
                    results[parts[i][0]] = None
                parts = [p for i, p in enumerate(parts) if i not in failed]
                continue
            results.update((conversation_id, announced) for conversation_id, _, announced in parts)
            return

    def _index_items(self, conversation_id: str, clocks: Any, warned: dict[str, str], done: dict[str, str]
                     ) -> dict[str, dict[str, Any] | None]:
        """What the due index holds for these clocks: target -> its deadline item, or None."""
        deadlines = {d.target: d for d in clocks.deadlines()}
        items: dict[str, dict[str, Any] | None] = {}
        for target in ("first_response", "next_response", "resolution"):
            d = deadlines.get(target)
            due = clock.iso(d.due_at) if d else None
            items[target] = None if d is None or done.get(target) == due else self._deadline_item(
                conversation_id, target, due, clock.iso(d.warn_at) if d.warn_at else None,
                already_warned=warned.get(target) == due)
        return items

    def _held_index(self, read: ClockRead) -> dict[str, Any]:
        """What the due index holds for a conversation as read, by target; ``_UNKNOWN`` where it cannot be told.
        Before the conversation has clocks (the router's first write of them) it holds no next-response or
        resolution deadline: those are written only with the clocks (``_clock_ops``, ``opening_items``), and clocks
        are never taken off a conversation; a first-response deadline an earlier ingest wrote may be there."""
        if read.stored_clocks is None:
            return {"first_response": _UNKNOWN, "next_response": None, "resolution": None}
        from shopdesk.logic.business_time import ConversationClocks
        return self._index_items(read.conversation.id, ConversationClocks.model_validate_json(read.stored_clocks),
                                 read.warned, read.done)

    def _clock_ops(self, conversation_id: str, clocks: Any, version: int, warned: dict[str, str],
                   done: dict[str, str], update: Update, *, before: ClockRead | None = None) -> list[dict[str, Any]]:
        """The clocks (conditioned on their version) and the due index items that change. ``before``,
        the read the clocks came from, tells what the index holds now; without it every target's item
        is written."""
        update.set("clocks_json", clocks.stored_json()).set("clocks_version", version + 1)
        deadlines = {d.target: d for d in clocks.deadlines()}
        first = deadlines.get("first_response")
        update.set("sla.first_response_due_at", clock.iso(first.due_at) if first else None)
        update.set("sla.deadlines", {t: {"due_at": clock.iso(d.due_at),
                                          "warn_at": clock.iso(d.warn_at) if d.warn_at else None}
                                      for t, d in deadlines.items()} or None)
        update.set("sla.paused", bool(clocks.paused))
        if version == 0:
            update.when("attribute_exists(PK) AND attribute_not_exists(clocks_version)")
        else:
            update.when("attribute_exists(PK) AND clocks_version = :cv", cv=version)
        ops = [self.table.update_op(it.conv_pk(conversation_id), it.META, update, old_on_failure=True)]
        now_held = self._held_index(before) if before is not None else None
        for target, item in self._index_items(conversation_id, clocks, warned, done).items():
            if now_held is not None and now_held[target] is not _UNKNOWN and now_held[target] == item:
                continue                      # unchanged (or absent before and after: no delete of nothing)
            ops.append(self.table.delete_op(it.conv_pk(conversation_id), it.deadline_sk(target)) if item is None
                       else self.table.put_op(item))
        return ops

    def _write_clocks(self, conversation_id: str, clocks: Any, version: int, warned: dict[str, str],
                      done: dict[str, str], update: Update, *, before: ClockRead | None = None,
                      also: Sequence[dict[str, Any]] = ()) -> None:
        try:
            transact_unless_held(self.table, [*self._clock_ops(conversation_id, clocks, version, warned, done,
                                                               update, before=before), *also])
        except TransactionCancelled as exc:
            raise ClockConflict(conversation_id) from exc
        except ClientError as exc:           # a concurrent transaction on the same items: read again
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            raise ClockConflict(conversation_id) from exc

    # ------------------------------------------------------------------ breach risk (logic/breach_risk.py)
    def waiting(self, team: str, limit: int = 1000) -> list[Conversation]:
        """A team's whole queue in the router's order (most urgent, then longest waiting): the Queue index,
        page after page, at most ``limit`` (#230)."""
        rows: list[dict[str, Any]] = []
        cursor = None
        while len(rows) < limit:
            page = self.table.query(index="Queue", key_condition="QueuePK = :pk", names={},
                                    values={":pk": it.queue_pk(team)}, limit=limit - len(rows), cursor=cursor)
            rows.extend(page.items)
            cursor = page.cursor
            if not cursor:
                break
        return [it.conversation_from_item(i) for i in rows]

    def note_breach_risk(self, conv: Conversation, risk: float, raise_for: tuple[str, str] | None
                         ) -> Deadline | None:
        """Store a waiting conversation's risk (#231); with ``raise_for`` (target, due time) also record the
        risk warning for that target once (``sla_risk``), unless the SLA warning for it went out already, with
        its board record and its announcement (an outbox item in the due index: taken out once its event is
        published, else the next sweep publishes it), in one transaction. The announcement when the warning was
        recorded now, else None. Nothing is written for a conversation no longer waiting."""
        now = clock.now_iso()
        update = (Update().set("breach_risk", risk).set("breach_risk_at", now)
                  .when("attribute_exists(PK) AND attribute_exists(QueuePK)"))
        if raise_for is not None:
            target, due = raise_for
            raised = (Update().set("breach_risk", risk).set("breach_risk_at", now).set("sla_risk", {target: due})
                      .when("attribute_exists(PK) AND attribute_exists(QueuePK) "
                            "AND (attribute_not_exists(sla_risk.#target) OR sla_risk.#target <> :due) "
                            "AND (attribute_not_exists(sla_warned.#target) OR sla_warned.#target <> :due) "
                            "AND (attribute_not_exists(sla_done.#target) OR sla_done.#target <> :due)",
                            due=due))
            raised.names["#target"] = target
            announcement = self._risk_item(conv, target, due, now, risk)
            try:
                self.table.transact([
                    self.table.update_op(it.conv_pk(conv.id), it.META, raised),
                    self.table.put_op(event_item(SlaEvent(
                        kind="risk", conversation_id=conv.id, target=target, due_at=due, at=now, team=conv.team,
                        assignee=None, priority=conv.priority.value, channel=conv.channel))),
                    self.table.put_op(announcement)])
                return _deadline_from(announcement)
            except TransactionCancelled:
                pass                                # raised before, warned already, or no longer waiting
        with suppress(ConditionFailed):
            self.table.update(it.conv_pk(conv.id), it.META, update)
        return None

    # ------------------------------------------------------------------ SLA deadlines
    def due_deadlines(self, shard: int, now_iso: str, limit: int = 1000) -> list[Deadline]:
        """Deadlines of one shard that are due: a key-range read of the sparse Due index."""
        rows = self.table.query_all(index="Due", key_condition="DuePK = :pk AND DueSK < :bound", names={},
                                    values={":pk": f"DUE#{shard:03d}", ":bound": now_iso + "$"}, limit=limit)
        return [_deadline_from(r) for r in rows]

    def flag_warning(self, deadline: Deadline, note: Message) -> Deadline | None:
        """Record that a deadline's warning went out (once per due time), and when (``sla_warned_at``: the sweep's
        write leaves ``updated_at``, the conversation's last change, alone), and move it to its due time; with the
        announcement it owes (returned; None when someone answered or flagged it first)."""
        now = clock.now_iso()
        announcement = self._warning_item(deadline.conversation_id, deadline.target, deadline.due_at, now)
        written = self._flag(deadline, "sla_warned", [
            self.table.update_op(it.conv_pk(deadline.conversation_id), it.deadline_sk(deadline.target),
                                 Update().set("state", "warned")
                                 .set("DueSK", it.due_sk(deadline.due_at, deadline.conversation_id, deadline.target))
                                 .when("#state = :pending AND due_at = :due", pending="pending", due=deadline.due_at)),
            self.table.update_op(it.conv_pk(deadline.conversation_id), it.META,
                                 Update().set(f"sla_warned.{deadline.target}", deadline.due_at)
                                 .set("sla_warned_at", now)
                                 .when("attribute_exists(PK) AND attribute_exists(sla_warned)")),
            self.table.put_op(it.message_item(self.retention.stamp(note))),
            self.table.put_op(event_item(SlaEvent(kind="warning", conversation_id=deadline.conversation_id,
                                                  target=deadline.target, due_at=deadline.due_at, at=now))),
            self.table.put_op(announcement)])
        return _deadline_from(announcement) if written else None

    def flag_breach(self, deadline: Deadline, note: Message) -> bool:
        """Flag a passed deadline exactly once; False when someone answered or flagged it first."""
        return self._flag(deadline, "sla_done", [
            self.table.update_op(it.conv_pk(deadline.conversation_id), it.deadline_sk(deadline.target),
                                 Update().set("state", "breached").set("breached_at", clock.now_iso())
                                 .when("#state IN (:pending, :warned) AND due_at = :due", pending="pending",
                                       warned="warned", due=deadline.due_at)),
            self.table.update_op(it.conv_pk(deadline.conversation_id), it.META,
                                 Update().add("sla_breaches", {deadline.target})
                                 .set(f"sla_done.{deadline.target}", deadline.due_at)
                                 .when("attribute_exists(PK) AND attribute_exists(sla_done)")),
            self.table.put_op(it.message_item(self.retention.stamp(note))),
            self.table.put_op(event_item(SlaEvent(kind="breach", conversation_id=deadline.conversation_id,
                                                  target=deadline.target, due_at=deadline.due_at,
                                                  at=clock.now_iso())))])

    def _flag(self, deadline: Deadline, map_name: str, ops: list[dict[str, Any]]) -> bool:
        for attempt in range(2):
            try:
                self.table.transact(ops)
                return True
            except TransactionCancelled as exc:
                # a conversation from before the SLA engine lacks the map: add it once and try again
                if exc.failed == [1] and attempt == 0 and _safe_missing_map(self.table, deadline.conversation_id,
                                                                             map_name):
                    continue
                return False
        return False

    def finish_deadlines(self, deadlines: list[Deadline]) -> None:
        """Take announced breaches, warnings and risk warnings out of the due index (25 per request): each has a key
        of its own."""
        self.table.batch_delete((d.pk, d.sk) for d in deadlines)

    def finish_timer(self, timer: Deadline) -> None:
        """Take a run timer out of the due index, only if it is still the one run: a timer set again while it ran
        (the conversation snoozed again, the customer's next resolve, ``Later``) has the same key and a new
        due time, and stays. The same write units as a batch delete; one request each."""
        with suppress(ConditionFailed):
            self.table.delete_if(timer.pk, timer.sk, condition="DueSK = :due", values={":due": timer.due_sk})

    def move_timer(self, timer: Deadline, due_at: str) -> None:
        """A run timer's runner said ``Later``: the same timer at ``due_at``, unless it was set again meanwhile."""
        fields = {"agent_id": timer.agent_id} if timer.agent_id else {}
        item = self.timer_item(timer.pk, timer.target, due_at, **fields)
        with suppress(ConditionFailed):
            self.table.put(item, condition="DueSK = :due", values={":due": timer.due_sk})

    def retry_timer(self, timer: Deadline, due_at: str) -> None:
        """A run timer's runner raised: the same timer due again at ``due_at``, its failures in a row counted, in
        one write (``failures``), unless it was set again meanwhile. A timer set again (a fresh put) starts from
        no failures."""
        update = (Update().set("due_at", due_at)
                  .set("DueSK", it.due_sk(due_at, timer.conversation_id, timer.target))
                  .add("failures", 1).set("failed_at", clock.now_iso())
                  .when("DueSK = :due", due=timer.due_sk))
        with suppress(ConditionFailed):
            self.table.update(timer.pk, timer.sk, update)


def _clock_read(item: dict[str, Any]) -> ClockRead:
    from shopdesk.logic.business_time import ConversationClocks
    raw = item.get("clocks_json")
    return ClockRead(conversation=it.conversation_from_item(item),
                     clocks=ConversationClocks.model_validate_json(raw) if raw else None,
                     version=int(item.get("clocks_version", 0)),
                     warned=dict(item.get("sla_warned") or {}), done=dict(item.get("sla_done") or {}),
                     stored_clocks=raw)


def _failed_parts(exc: Exception, sizes: list[int]) -> set[int] | None:
    """Which parts of a cancelled transaction failed (their condition, or a conflict with another
    transaction), from the cancellation reasons; None when the error is not a cancellation."""
    if isinstance(exc, TransactionCancelled):
        reasons = exc.reasons
    elif isinstance(exc, ClientError) and exc.response["Error"]["Code"] == "TransactionCanceledException":
        reasons = exc.response.get("CancellationReasons") or []
    else:
        return None
    owner = [part for part, size in enumerate(sizes) for _ in range(size)]
    failed = {owner[i] for i, r in enumerate(reasons) if i < len(owner) and r.get("Code") not in (None, "None")}
    return failed or set(range(len(sizes)))     # no reason given: none of them is known to be safe


def _announcement_sk(target: str, due_at: str) -> str:
    """A breach waiting for its announcement has a key of its own, so a fresh clock of the same
    target (a reopen, the next reply's clock) can never be taken out with it."""
    return f"{it.deadline_sk(target)}#BREACHED#{due_at}"


def _deadline_from(row: dict[str, Any]) -> Deadline:
    if row.get("type") == "message":      # a reply not taken up yet (``Conversations._unqueued``)
        return Deadline(conversation_id=row["conversation_id"], target=REPLY_TARGET,
                        due_at=row["DueSK"].split("#", 1)[0], state="pending", due_pk=row["DuePK"],
                        due_sk=row["DueSK"], kind="reply", pk=row["PK"], sk=row["SK"])
    state = row.get("state", "pending")
    return Deadline(conversation_id=row["conversation_id"], target=row["target"], due_at=row["due_at"],
                    state=state, due_pk=row["DuePK"], due_sk=row["DueSK"],
                    warn_at=row.get("warn_at"), agent_id=row.get("agent_id"), kind=row.get("type", "deadline"),
                    pk=row["PK"], sk=row["SK"], work=row.get("work"),
                    # a breach flagged before announcements said what they are: an announcement all the same
                    announce=row.get("announce") or ("breach" if state == "breached" else None),
                    detected_at=row.get("detected_at") or row.get("breached_at"), escalated_to=row.get("escalated_to"),
                    risk=float(row["risk"]) if row.get("risk") is not None else None, team=row.get("team"),
                    failures=int(row.get("failures", 0)))


@dataclass(frozen=True)
class SlaFlag:
    """One conversation's part of a sweep write (``Conversations.flag_deadlines``)."""
    read: ClockRead
    clocks: Any                            # after the breaches (and any escalation) were applied
    breached: dict[str, str]               # target -> due time flagged now
    warned: dict[str, str]                 # target -> due time warned of now
    notes: list[Message]
    priority: Priority | None = None       # raised by escalation


class _Keep:
    def __repr__(self) -> str:
        return "KEEP"


KEEP: Any = _Keep()           # Edit.assignee: the assignee stays as read


@dataclass
class Edit:
    """The outcome of several changes to one conversation, written as one transaction (``Conversations.edit``).
    None (KEEP for the assignee) leaves that part as read; ``labels`` is the whole set after the change."""

    labels: Sequence[str] | None = None
    priority: Priority | None = None
    team: str | None = None
    status: ConversationStatus | None = None
    assignee: str | None = KEEP              # None: back to the queue (or unassigned)
    snooze_until: str | None = None          # the snooze's end (a status snoozed until then)
    slots: Sequence[str] = ()                # resolving: the identities (kind#address) holding the customer's slot
    messages: Sequence[Message] = ()         # notes and the one timeline entry
    also: Sequence[dict[str, Any]] = ()      # more writes of the same transaction (a macro's key: reply_key_op)


class NotWaiting(Exception):
    pass


class ClockConflict(Exception):
    """Another event changed the conversation's clocks meanwhile: read them again."""


def _safe_missing_map(table: Table, conversation_id: str, name: str) -> bool:
    """Create an empty map attribute on a conversation that has none; True when it was created."""
    try:
        table.update(it.conv_pk(conversation_id), it.META,
                     Update().set(name, {}).when(f"attribute_exists(PK) AND attribute_not_exists({name})"))
        return True
    except ConditionFailed:
        return False


class AgentUnavailable(Exception):
    pass


def _moves_activity(conv: Conversation, *, team: str, assignee: str | None) -> bool:
    """Whether a routing change (``reroute``) moves the conversation's ``updated_at`` (and ``StatusSK``, ``InboxSK``:
    its place in the Inbox, Access and ByStatus indexes, two write units each). A change of team (or a person
    routing it) or of assignee does: the lake dates those by it (shopdesk.analytics.events: classified, unassigned).
    Priority and skills alone do not: no list sorts or filters by them there (the queue's place has its own key,
    ``QueueSK``), and no fact of the lake is dated by them, so the lists keep it where its last activity put it."""
    return team != conv.team or assignee != conv.assignee or not conv.routed


def _customer_wrote(now: str, channel: str, route: dict[str, str], preview: str | None, *,
                    asks: bool = True) -> Update:
    """The conversation's side of a customer's message: open, on the channel they used, one message more; the
    customer's last message that asks something (``last_inbound_at``) when it does."""
    update = (Update()
              .set("status", ConversationStatus.OPEN.value).set("updated_at", now)
              .set("channel", channel)
              .set(f"routes.{channel}", route).remove("route")        # (items written before routes held it)
              .set("last_message_preview", preview)
              .set("StatusPK", it.status_pk("open")).set("StatusSK", now).set("InboxSK", f"open#{now}")
              .set("changed_by", "customer")
              .add("message_count", 1))
    return update.set("last_inbound_at", now) if asks else update


def _customer_wrote_before(channel: str, route: dict[str, str]) -> Update:
    """The conversation's side of a customer's message older than its last (a kept request replayed after a newer
    one was stored): open, changed now, one message more, its channel's route only where the conversation has none;
    what says which message was last (``last_inbound_at``, the channel and its route, the preview) stays the newer
    one's, and nothing moves back to the older message's time. A conversation the newer message opened holds no
    ``last_inbound_at``: it gets that message's time (``created_at``)."""
    now = clock.iso(clock.now())
    return (Update().copy_if_missing("last_inbound_at", "created_at")
            .set("status", ConversationStatus.OPEN.value).set("updated_at", now)
            .set_if_missing(f"routes.{channel}", route)
            .set("StatusPK", it.status_pk("open")).set("StatusSK", now).set("InboxSK", f"open#{now}")
            .set("changed_by", "customer")
            .add("message_count", 1))


def _wrote_later(source: Conversation, target: Conversation) -> bool:
    """Whether the merged conversation's customer wrote last on its channel, after the target's last message."""
    mine, theirs = target.routes.get(target.channel), source.routes.get(source.channel)
    if theirs is None or theirs.last_inbound_at is None or source.channel == target.channel:
        return False
    return mine is None or mine.last_inbound_at is None or theirs.last_inbound_at > mine.last_inbound_at
