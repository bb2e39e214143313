"""Identities: ``IDENTITY#<kind>#<address>`` names the customer an address belongs to and the customer's one
open conversation, so one GetItem tells the inbound path where a message goes.

A customer with several identities (after a link or a merge) has the same ``open_conversation_id`` on every
one of them, and each identity lists the others (``siblings``, as ``kind#address`` keys): a new conversation
started from any of them claims the slot on all of them in the same transaction as the message, so a message
on a newly linked channel joins the open conversation and two channels never open two conversations.

The operations here are parts of other repositories' transactions (a conversation's start and status
changes, a merge); this module is the only one that knows the identity item's shape.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from shopdesk.dal import items as it
from shopdesk.dal.erased import ERASING, NOT_ERASING
from shopdesk.dal.table import ConditionFailed, Table, Update, serialize
from shopdesk.models import Identity

OPTED_OUT = "opted_out_"     # opted_out_<channel>: when the customer unsubscribed on that channel (SMS: STOP)


@dataclass(frozen=True)
class IdentityRecord:
    kind: str
    address: str
    customer_id: str
    customer_name: str | None
    open_conversation_id: str | None
    last_agent: str | None = None
    last_agent_at: str | None = None
    siblings: tuple[str, ...] = field(default=())      # the customer's other identities, "kind#address"
    reopenable_conversation_id: str | None = None      # the bot resolved it: the next message reopens it
    csat: dict[str, Any] | None = None      # a satisfaction survey waiting for this customer's answer (dal.csat)
    last_conversation_id: str | None = None  # the conversation it held last, resolved: what the web chat still shows
    last_resolved_at: str | None = None      # when that conversation was resolved
    opted_out: dict[str, str] = field(default_factory=dict)   # channel -> when the customer unsubscribed there
    erasing: str | None = None      # the customer's erase runs (its job): nothing of theirs is stored (dal/erased.py)

    @property
    def key(self) -> str:
        return f"{self.kind}#{self.address}"


def split_key(key: str) -> tuple[str, str]:
    kind, _, address = key.partition("#")
    return kind, address


def record_from_item(item: dict[str, Any]) -> IdentityRecord:
    return IdentityRecord(kind=item["kind"], address=item["address"], customer_id=item["customer_id"],
                          customer_name=item.get("customer_name"),
                          open_conversation_id=item.get("open_conversation_id"),
                          last_agent=item.get("last_agent"), last_agent_at=item.get("last_agent_at"),
                          siblings=tuple(item.get("siblings") or ()),
                          reopenable_conversation_id=item.get("reopenable_conversation_id"), csat=item.get("csat"),
                          last_conversation_id=item.get("last_conversation_id"),
                          last_resolved_at=item.get("last_resolved_at"), erasing=item.get(ERASING),
                          opted_out={name.removeprefix(OPTED_OUT): str(at) for name, at in item.items()
                                     if name.startswith(OPTED_OUT) and at})


class Identities:
    def __init__(self, table: Table):
        self.table = table

    def get(self, kind: str, address: str) -> IdentityRecord | None:
        item = self.table.get(it.identity_pk(kind, address), it.META)
        if item is None:
            return None
        return record_from_item({"kind": kind, "address": address, **item})

    def get_many(self, identities: Iterable[Identity | tuple[str, str]]) -> dict[str, IdentityRecord]:
        """The identity records that exist, by ``kind#address`` (one BatchGetItem per 100)."""
        pairs = [(i.kind, i.address) if isinstance(i, Identity) else i for i in identities]
        found = self.table.batch_get([(it.identity_pk(k, a), it.META) for k, a in dict.fromkeys(pairs)])
        records = [record_from_item(row) for row in found if "kind" in row]
        return {r.key: r for r in records}

    def set_opted_out(self, kind: str, address: str, channel: str, at: str | None) -> None:
        """The customer unsubscribed from ``channel`` at ``at`` (a STOP, or the provider refusing a send for it),
        or subscribed again (``at`` None). An identity that no longer exists (erased meanwhile) is left alone."""
        update = Update().set(OPTED_OUT + channel, at) if at else Update().remove(OPTED_OUT + channel)
        with contextlib.suppress(ConditionFailed):
            self.table.update(it.identity_pk(kind, address), it.META, update.when("attribute_exists(PK)"))

    # ------------------------------------------------------------------ parts of a conversation's transactions
    def create_op(self, identity: Identity, customer_id: str, customer_name: str | None,
                  open_conversation_id: str | None, siblings: Sequence[str] = ()) -> dict[str, Any]:
        """A new identity (fails if the address already has one)."""
        item: dict[str, Any] = {
            "PK": it.identity_pk(identity.kind, identity.address), "SK": it.META, "type": "identity",
            "kind": identity.kind, "address": identity.address, "customer_id": customer_id,
            "customer_name": customer_name, "siblings": list(siblings) or None}
        if open_conversation_id:
            item["open_conversation_id"] = open_conversation_id
        return self.table.put_op({k: v for k, v in item.items() if v is not None},
                                 condition="attribute_not_exists(PK)")

    def open_ops(self, identity: IdentityRecord, conversation_id: str, customer_name: str | None,
                 expected_open: str | None) -> list[dict[str, Any]]:
        """A new conversation takes the open slot of the identity it started from and of all its siblings,
        each conditioned on holding no other open conversation (or the stale one the caller saw). A survey the
        customer did not answer stops waiting: they wrote about something else. Never while the customer's erase
        runs (``NOT_ERASING``)."""
        ops = []
        for key in (identity.key, *identity.siblings):
            update = (Update().set("open_conversation_id", conversation_id).remove("reopenable_conversation_id")
                      .remove("csat"))
            if key == identity.key and customer_name:
                update.set_if_missing("customer_name", customer_name)
            if expected_open is None:
                update.when("attribute_exists(PK) AND attribute_not_exists(open_conversation_id)")
            else:
                update.when("attribute_exists(PK) AND (attribute_not_exists(open_conversation_id) "
                            "OR open_conversation_id = :expected)", expected=expected_open)
            update.when(NOT_ERASING)
            ops.append(self.table.update_op(it.identity_pk(*split_key(key)), it.META, update, old_on_failure=True))
        return ops

    def release_ops(self, keys: Iterable[str], conversation_id: str, *, last_agent: str | None,
                    at: str, reopenable: bool = False) -> list[dict[str, Any]]:
        """A resolved conversation frees the slot of every identity that holds it; the agent who helped is
        remembered for sticky routing, and the conversation as the identity's last (the web chat goes on showing
        it, its last reply and its survey, until the visitor writes again). ``reopenable`` (the bot resolved it):
        the identity remembers it, so the customer's next message reopens it instead of starting another
        (``take_back_ops``)."""
        ops = []
        for key in keys:
            forget = (Update().remove("open_conversation_id").set("last_conversation_id", conversation_id)
                      .set("last_resolved_at", at).when("open_conversation_id = :c", c=conversation_id))
            if reopenable:
                forget.set("reopenable_conversation_id", conversation_id)
            if last_agent:
                forget.set("last_agent", last_agent).set("last_agent_at", at)
            ops.append(self.table.update_op(it.identity_pk(*split_key(key)), it.META, forget))
        return ops

    def reopen_ops(self, keys: Iterable[str], conversation_id: str) -> list[dict[str, Any]]:
        """A reopened conversation takes the slot back on every identity of the customer (fails when the
        customer has another open conversation meanwhile)."""
        return [self.table.update_op(it.identity_pk(*split_key(key)), it.META,
                                     Update().set("open_conversation_id", conversation_id)
                                     .remove("reopenable_conversation_id")
                                     .when("attribute_exists(PK) AND attribute_not_exists(open_conversation_id)"))
                for key in keys]

    def take_back_ops(self, identity: IdentityRecord, conversation_id: str) -> list[dict[str, Any]]:
        """A customer's message reopens the conversation the bot resolved: the identity it came from takes the
        slot back only if it still remembers that conversation and holds no other; its siblings, if they hold none.
        Never while the customer's erase runs (``NOT_ERASING``)."""
        ops = []
        for key in (identity.key, *identity.siblings):
            update = Update().set("open_conversation_id", conversation_id).remove("reopenable_conversation_id")
            if key == identity.key:
                update.when("attribute_not_exists(open_conversation_id) AND reopenable_conversation_id = :c",
                            c=conversation_id)
            else:
                update.when("attribute_exists(PK) AND attribute_not_exists(open_conversation_id)")
            update.when(NOT_ERASING)
            ops.append(self.table.update_op(it.identity_pk(*split_key(key)), it.META, update, old_on_failure=True))
        return ops

    def rewrite_op(self, record: IdentityRecord, *, customer_id: str, open_conversation_id: str | None,
                   siblings: Sequence[str], expected: IdentityRecord, name: str | None = None,
                   unname: bool = False) -> dict[str, Any]:
        """Point an identity at another customer and open conversation (a merge, an unmerge, a link),
        conditioned on it being as read (``expected``): a message that opened a conversation meanwhile makes
        the whole change fail rather than be lost. ``name``: the customer's, which the identity's next
        conversations take (a merge's: over a name the identity had, such as a web-chat visitor token's; an
        unmerge's: the one it had before); ``unname``: take away the name (an unmerge of the merge that gave it)."""
        update = Update().set("customer_id", customer_id).set("siblings", list(siblings) or None)
        if name:
            update.set("customer_name", name)
        elif unname:
            update.remove("customer_name")
        if open_conversation_id:
            update.set("open_conversation_id", open_conversation_id)
        else:
            update.remove("open_conversation_id")
        if expected.open_conversation_id:
            update.when("customer_id = :was AND open_conversation_id = :open", was=expected.customer_id,
                        open=expected.open_conversation_id)
        else:
            update.when("customer_id = :was AND attribute_not_exists(open_conversation_id)",
                        was=expected.customer_id)
        return self.table.update_op(it.identity_pk(record.kind, record.address), it.META, update)

    def delete_op(self, record: IdentityRecord) -> dict[str, Any]:
        """Take a linked identity away again (an unmerge of a link that created it)."""
        op = self.table.delete_op(it.identity_pk(record.kind, record.address), it.META)
        op["Delete"].update(ConditionExpression="customer_id = :was",
                            ExpressionAttributeValues=serialize({":was": record.customer_id}))
        return op
