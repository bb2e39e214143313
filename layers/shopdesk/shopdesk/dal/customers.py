"""Customers: the record each identity points to (``CUSTOMER#<id>``), their history, their timeline (merges,
unmerges, links), the addresses seen in their messages and orders (duplicate evidence), and the merge records.

The record is created with the customer's first conversation (``Conversations.start_conversation``); an
identity (``IDENTITY#<kind>#<address>``, ``dal.identities``) names its customer and their open conversation.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from shopdesk import clock
from shopdesk.bounds import key_part
from shopdesk.dal import items as it
from shopdesk.dal.erased import ERASING, holds
from shopdesk.dal.identities import Identities
from shopdesk.dal.table import ConditionFailed, Table, TransactionCancelled, Update
from shopdesk.errors import Conflict, NotFound
from shopdesk.models import Conversation, CustomerRef
from shopdesk.models.customer import Customer, CustomerEvent, Evidence, MergeRecord
from shopdesk.phone import to_e164

MAX_TRANSACTION_OPS = 100


def merge_pk(merge_id: str) -> str:
    return f"MERGE#{merge_id}"


def event_sk(at: str, event_id: str) -> str:
    return f"EVENT#{at}#{event_id}"


def seen_sk(kind: str, address: str) -> str:
    return f"SEEN#{kind}#{key_part(address)}"


def mention_pk(kind: str, address: str) -> str:
    return f"MENTION#{kind}#{key_part(address)}"


class Customers:
    def __init__(self, table: Table):
        self.table = table
        self.identities = Identities(table)

    # ------------------------------------------------------------------ the record
    def create_op(self, customer: CustomerRef, created_at: datetime) -> dict[str, Any]:
        """A new customer's record (a part of the transaction of their first conversation)."""
        return self.table.put_op(
            {"PK": it.customer_pk(customer.id), "SK": it.META, "type": "customer", "id": customer.id,
             "name": customer.name, "identities": [i.model_dump() for i in customer.identities],
             "created_at": clock.iso(created_at)},
            condition="attribute_not_exists(PK)")

    def get(self, customer_id: str) -> Customer | None:
        item = self.table.get(it.customer_pk(customer_id), it.META)
        return it.customer_from_item(item) if item else None

    def slot_keys(self, conv: Conversation) -> list[str]:
        """The identities (``kind#address``) of the conversation's customer, all their channels (the one it started
        from when their record is gone): each holds their one open conversation, so a reopen takes the slot back on
        them all, none holding another (``Identities.reopen_ops``). One GetItem."""
        customer = self.get(conv.customer.id)
        return [i.key for i in (customer.identities if customer else conv.customer.identities[:1])]

    def tier(self, customer_id: str) -> str | None:
        """The customer's tier now (one GetItem); None without one, or without a record."""
        customer = self.get(customer_id)
        return customer.tier if customer else None

    def find(self, kind: str, address: str) -> Customer | None:
        """The customer of an identity: one GetItem of the identity, one of the customer."""
        identity = self.identities.get(kind, address)
        return self.get(identity.customer_id) if identity else None

    def set_language(self, customer_id: str, language: str) -> None:
        """The language the customer writes in (the router, when it is sure); nothing for an unknown customer."""
        try:
            self.table.update(it.customer_pk(customer_id), it.META,
                              Update().set("language", language).when("attribute_exists(PK)"))
        except ConditionFailed:
            return

    def set_tier(self, customer_id: str, tier: str | None) -> Customer:
        """Give the customer ``tier`` (None: take it away). NotFound for an unknown customer."""
        update = Update().set("tier", tier).when("attribute_exists(PK)")
        try:
            item = self.table.update(it.customer_pk(customer_id), it.META, update, return_new=True)
        except ConditionFailed as exc:
            raise NotFound(f"customer {customer_id} does not exist") from exc
        if item is None:           # UpdateItem with ALL_NEW always answers the item
            raise NotFound(f"customer {customer_id} does not exist")
        return it.customer_from_item(item)

    def open_conversations(self, customer: Customer) -> list[str]:
        """The conversations the customer's identities hold open (open, pending or snoozed): one
        BatchGetItem of the identities, which all hold the same one."""
        found = self.identities.get_many(customer.identities).values()
        return list(dict.fromkeys(r.open_conversation_id for r in found if r.open_conversation_id))

    # ------------------------------------------------------------------ history and timeline
    def conversations(self, customer_id: str, limit: int, cursor: str | None = None
                      ) -> tuple[list[Conversation], str | None]:
        """The customer's conversations on every channel, newest first (the ByCustomer index)."""
        page = self.table.query_items(index="ByCustomer", key_condition="CustomerPK = :pk",
                                      values={":pk": it.customer_pk(customer_id)}, limit=limit, cursor=cursor,
                                      forward=False)
        return [it.conversation_from_item(i) for i in page.items], page.cursor

    def all_conversations(self, customer_id: str) -> list[Conversation]:
        rows = self.table.query_all_items(index="ByCustomer", key_condition="CustomerPK = :pk",
                                          values={":pk": it.customer_pk(customer_id)})
        return [it.conversation_from_item(i) for i in rows]

    def timeline(self, customer_id: str, limit: int = 50) -> list[CustomerEvent]:
        """Merges, unmerges and links of the customer, newest first."""
        page = self.table.query(index=None, key_condition="PK = :pk AND begins_with(SK, :event)", names={},
                                values={":pk": it.customer_pk(customer_id), ":event": "EVENT#"}, limit=limit,
                                forward=False, consistent=True)
        return [CustomerEvent.model_validate(row["event"]) for row in page.items]

    def event_op(self, customer_id: str, event: CustomerEvent) -> dict[str, Any]:
        return self.table.put_op({"PK": it.customer_pk(customer_id), "SK": event_sk(clock.iso(event.at), event.id),
                                  "type": "customer_event", "event": event.model_dump(mode="json", exclude_none=True)})

    # ------------------------------------------------------------------ duplicate evidence
    def record_evidence(self, customer_id: str, evidence: Iterable[Evidence]) -> None:
        """Addresses seen in the customer's messages or orders: under the customer (what they wrote) and
        under the address (who wrote it), so duplicates are found from either side by key."""
        for e in evidence:
            body = e.model_dump(mode="json", exclude_none=True)
            self.table.transact([
                self.table.put_op({"PK": it.customer_pk(customer_id), "SK": seen_sk(e.kind, e.address),
                                   "type": "seen", "evidence": body}),
                self.table.put_op({"PK": mention_pk(e.kind, e.address), "SK": it.customer_pk(customer_id),
                                   "type": "mention", "customer_id": customer_id, "evidence": body}),
            ])

    def seen(self, customer_id: str) -> list[Evidence]:
        rows = self.table.query_all(index=None, key_condition="PK = :pk AND begins_with(SK, :seen)", names={},
                                    values={":pk": it.customer_pk(customer_id), ":seen": "SEEN#"}, consistent=True)
        return [Evidence.model_validate(r["evidence"]) for r in rows]

    def mentioned_by(self, kind: str, address: str) -> list[tuple[str, Evidence]]:
        """Customers who wrote this address (in a message body or an order), with what they wrote."""
        rows = self.table.query_all(index=None, key_condition="PK = :pk", names={},
                                    values={":pk": mention_pk(kind, address)}, consistent=True)
        return [(r["customer_id"], Evidence.model_validate(r["evidence"])) for r in rows]

    # ------------------------------------------------------------------ merges
    def get_merge(self, merge_id: str) -> MergeRecord | None:
        item = self.table.get(merge_pk(merge_id), it.META)
        return MergeRecord.model_validate(item["merge"]) if item else None

    def merge_op(self, record: MergeRecord, *, expect_status: str | None) -> dict[str, Any]:
        """The merge record, written once (``expect_status`` None) or moved on from the status read."""
        item = {"PK": merge_pk(record.id), "SK": it.META, "type": "merge", "status": record.status,
                "merge": record.model_dump(mode="json", exclude_none=True)}
        if expect_status is None:
            return self.table.put_op(item, condition="attribute_not_exists(PK)")
        op = self.table.put_op(item, condition="#status = :was")
        op["Put"]["ExpressionAttributeNames"] = {"#status": "status"}
        op["Put"]["ExpressionAttributeValues"] = {":was": {"S": expect_status}}
        return op

    def record_op(self, customer: Customer, *, merged_into: str | None, merge_id: str | None,
                  expect_merged_into: str | None) -> dict[str, Any]:
        """Rewrite a customer's record (its identities, name, merged_into), conditioned on merged_into as
        read, so two merges of the same customer cannot both happen, and on no erase holding the record
        (``erasing``: what the erase gathered would be moved, or left behind, meanwhile)."""
        update = (Update().set("identities", [i.model_dump() for i in customer.identities])
                  .set("name", customer.name))
        if merged_into:
            update.set("merged_into", merged_into).set("merge_id", merge_id)
        else:
            update.remove("merged_into").remove("merge_id")
        if expect_merged_into:
            update.when("merged_into = :into", into=expect_merged_into)
        else:
            update.when("attribute_exists(PK) AND attribute_not_exists(merged_into)")
        update.when("attribute_not_exists(erasing)")
        return self.table.update_op(it.customer_pk(customer.id), it.META, update)

    def let_go_failed_hold(self, customer_id: str) -> bool:
        """The customer's record held by an erase whose job reads failed or is gone (its release refused by the table
        too: ``dal.erased.holds``) holds them no more: ``erasing`` removed while it names that job (a new erase that
        took it over keeps it). One GetItem; with such a hold, one of the job and one UpdateItem. Whether it let
        one go."""
        held = (self.table.get(it.customer_pk(customer_id), it.META) or {}).get(ERASING)
        if not held or holds(self.table, [str(held)]):
            return False
        try:
            self.table.update(it.customer_pk(customer_id), it.META,
                              Update().remove(ERASING).when(f"{ERASING} = :job", job=str(held)))
        except ConditionFailed:
            return False
        return True

    def name_conversation(self, conversation_id: str, name: str | None, *, was: str | None = None) -> None:
        """The customer's name on a conversation that shows none (a merge named them), or ``name`` None: the name
        ``was`` taken away again (its unmerge). One gone or named otherwise meanwhile is left alone."""
        update = Update().when("attribute_exists(PK)")
        if name:
            update.set_if_missing("customer.name", name)
        else:
            update.remove("customer.name").when("#customer.#name = :was", was=was)
        with contextlib.suppress(ConditionFailed):
            self.table.update(it.conv_pk(conversation_id), it.META, update)

    def drop_routes(self, conversation_id: str, owners: set[str]) -> None:
        """An unmerge: the conversation answers no more at the addresses of ``owners`` (identities, ``kind#address``:
        the other side's), whose messages came into it while the customers were one. Each such route goes while it
        still answers that address, and a reply channel among them moves to the channel of the conversation's
        customer who wrote last. One GetItem, and one UpdateItem when a route is theirs; one gone or changed meanwhile
        is left alone."""
        item = self.table.get(it.conv_pk(conversation_id), it.META, consistent=True) or {}
        routes = {c: r for c, r in (item.get("routes") or {}).items() if isinstance(r, dict) and r.get("to")}
        gone = {c: str(r["to"]) for c, r in routes.items() if route_identity(c, str(r["to"])) in owners}
        if not gone:
            return
        update = Update().when("attribute_exists(PK)")
        for index, (channel, to) in enumerate(sorted(gone.items())):
            update.remove(f"routes.{channel}").when(f"#routes.#{channel}.#to = :to{index}", **{f"to{index}": to})
        kept = [(str(r.get("last_inbound_at") or ""), c) for c, r in routes.items() if c not in gone]
        if item.get("channel") in gone and kept:
            update.set("channel", max(kept)[1]).when("channel = :was", was=item["channel"])
        with contextlib.suppress(ConditionFailed):
            self.table.update(it.conv_pk(conversation_id), it.META, update)

    def move_conversation_op(self, conversation_id: str, *, from_id: str, to_id: str) -> dict[str, Any]:
        """A conversation changes customer (and history partition), if it still belongs to ``from_id``."""
        update = (Update().set("customer.id", to_id).set("CustomerPK", it.customer_pk(to_id))
                  .when("#customer.#id = :from", **{"from": from_id}))
        return self.table.update_op(it.conv_pk(conversation_id), it.META, update)

    def write(self, core: list[dict[str, Any]], moves: list[dict[str, Any]]) -> None:
        """A merge or unmerge: the identities, records, merge record and timeline in one transaction with as
        many conversation moves as fit; the rest follow in further transactions (each move conditioned on
        the conversation's customer, so a repeat is harmless). Conflict when anything changed since read."""
        if len(core) > MAX_TRANSACTION_OPS:
            raise Conflict("too many identities to merge in one step")
        room = MAX_TRANSACTION_OPS - len(core)
        try:
            self.table.transact([*core, *moves[:room]])
        except TransactionCancelled as exc:
            raise Conflict("the customers changed meanwhile (a new message, another merge, an erase); "
                           "read them again and retry") from exc
        for op in moves[room:]:        # one at a time: a conversation moved or deleted meanwhile is skipped alone
            with contextlib.suppress(TransactionCancelled):
                self.table.transact([op])


def route_identity(channel: str, to: str) -> str:
    """The identity a reply route's address is (``kind#address``): a phone number for SMS and WhatsApp, an email
    address, else the channel's own id (Messenger, Instagram, Telegram, the web chat's visitor)."""
    if channel in ("sms", "whatsapp"):
        return f"phone#{to_e164(to) or to}"
    if channel == "email":
        return f"email#{to.strip().lower()}"
    return f"{channel}#{to}"
