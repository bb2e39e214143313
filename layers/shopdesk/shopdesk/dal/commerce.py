"""The commerce cache: orders and shop customers kept from the platform's webhooks and read-throughs,
delivery markers that make re-deliveries no-ops, and privacy requests (see docs/data-model.md).

An order or a shop customer is stored masked (``commerce.masking``: card numbers, IBANs and the shop's patterns in its
texts; its ids, number, email and phone as sent): ``apply_order``, ``cache_orders`` and ``apply_customer`` mask what
the platform said before it is merged with what is stored, so the merge compares masked with masked.

Item shapes (``<p>`` is the platform, ``shopify`` or ``woocommerce``):

- ``ORDER#<p>#<order id> / META``: the order (``body``, JSON), its ``updated_at`` and a ``version`` for
  optimistic concurrency; TTL.
- ``COMMERCE#<p>#<kind>#<value> / ORDER#<created_at>#<order id>``: a pointer from an email, an E.164 phone
  or an order number to the order, newest first in a Query; TTL. ``/ CUSTOMER#<id>`` points to a shop
  customer; ``/ SYNC`` says the platform was asked about this value (the cache is complete for it); it sorts
  before the pointers in a descending Query, so one page holds it.
- ``SHOPCUSTOMER#<p>#<id> / META``: the platform's customer record (email and phone together); TTL.
- ``EXTHOOK#<p>#<delivery id> / META``: a webhook delivery already applied; TTL.
- ``PRIVACY / <received_at>#<delivery id>``: a privacy request (never expires).
- ``PRIVACYBODY#<p>#<sha256 of the signed body> / META``: a privacy request's body accepted once, with the delivery
  id it came under (never expires): the same body under another id is a replay, refused.
- ``REFUNDGUARD#<p>#<order id> / <lines>``: a refund of these lines (``all``, or ``<line id>x<quantity>``
  joined by ``,``) under way or just made, by whom and when: an identical refund meanwhile is refused; TTL.
  ``/ INFLIGHT``: some refund of the order is being made (another waits for its answer); TTL.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from shopdesk import clock
from shopdesk.bounds import key_part
from shopdesk.commerce.masking import RecordMasking
from shopdesk.commerce.models import Order, PrivacyRequest, RefundLine, RequestJob, ShopCustomer
from shopdesk.dal.config import ConfigStore
from shopdesk.dal.table import ConditionFailed, Table, TransactionCancelled, Update
from shopdesk.privacy.settings import PrivacyPolicies

DELIVERY_TTL_SECONDS = 30 * 24 * 3600      # Shopify retries for 4 hours; a month is ample
PRIVACY_PK = "PRIVACY"
_MAX_ATTEMPTS = 4
# A refund's guard: held while the platform is asked (at most this long, should the function die meanwhile) ...
REFUND_IN_FLIGHT_SECONDS = 120
# ... and kept this long once it is made, so the same refund sent again (a second tab, a retry) is refused
REFUND_JUST_MADE_SECONDS = 120
REFUND_IN_FLIGHT_SK = "INFLIGHT"           # the order's guard while any refund of it is being made


def order_pk(platform: str, order_id: str) -> str:
    return f"ORDER#{platform}#{key_part(order_id)}"


def ref_pk(platform: str, kind: str, value: str) -> str:
    return f"COMMERCE#{platform}#{kind}#{key_part(value)}"


def shop_customer_pk(platform: str, customer_id: str) -> str:
    return f"SHOPCUSTOMER#{platform}#{key_part(customer_id)}"


def delivery_pk(platform: str, delivery_id: str) -> str:
    return f"EXTHOOK#{platform}#{key_part(delivery_id)}"


def privacy_body_pk(platform: str, digest: str) -> str:
    return f"PRIVACYBODY#{platform}#{key_part(digest)}"


class Duplicate(Exception):
    """The delivery was applied before."""


class Replayed(Exception):
    """A privacy request's signed body was accepted before under another delivery id (``first``): a replay."""

    def __init__(self, first: str) -> None:
        super().__init__(f"this body was accepted before as delivery {first[:64]}")
        self.first = first


def refund_lines_key(lines: Sequence[RefundLine] | None) -> str:
    """The same lines (in any order) give the same key; ``all`` for everything left."""
    if lines is None:
        return "all"
    return ",".join(f"{line.line_item_id}x{line.quantity}" for line in
                    sorted(lines, key=lambda x: (x.line_item_id, x.quantity)))


def refund_guard_pk(platform: str, order_id: str) -> str:
    return f"REFUNDGUARD#{platform}#{key_part(order_id)}"


@dataclass(frozen=True)
class RefundGuard:
    """A refund under way (``in_flight``) or just made (``made``): who, from which conversation, when."""

    order_id: str
    lines: str                           # refund_lines_key
    key: str                             # this refund's own id (Shopify's idempotency key)
    by: str
    conversation_id: str
    at: datetime                         # when it was started, or made
    state: Literal["in_flight", "made"]


class RefundGuarded(Exception):
    """The same refund is under way or was just made."""

    def __init__(self, guard: RefundGuard) -> None:
        super().__init__(f"refund {guard.lines} of order {guard.order_id} is {guard.state} ({guard.by})")
        self.guard = guard


@dataclass(frozen=True)
class CachedRefs:
    order_ids: list[str]     # newest first
    complete: bool           # the platform was asked about this value within the lookup TTL


class CommerceStore:
    def __init__(self, table: Table, platform: str, *, order_ttl_seconds: int, lookup_ttl_seconds: int,
                 masking: RecordMasking | None = None) -> None:
        self.table = table
        self.platform = platform
        self.order_ttl_seconds = order_ttl_seconds
        self.lookup_ttl_seconds = lookup_ttl_seconds
        # the shop's patterns are read on the first record masked, not when the store is made
        self.masking = masking or RecordMasking(PrivacyPolicies(ConfigStore(table)))

    def _ttl(self, seconds: int) -> int:
        return int(clock.now().timestamp()) + seconds

    # ------------------------------------------------------------------ reads
    def get_order(self, order_id: str) -> Order | None:
        item = self.table.get(order_pk(self.platform, order_id), "META")
        return _order(item) if item and not _expired(item) else None

    def refs(self, kind: str, value: str, limit: int = 10) -> CachedRefs:
        """The orders an email, phone or number points to, newest first: one Query."""
        rows = self.table.query(index=None, key_condition="PK = :pk", names={},
                                values={":pk": ref_pk(self.platform, kind, value)}, forward=False,
                                limit=limit + 1).items
        now = int(clock.now().timestamp())
        complete = any(r["SK"] == "SYNC" and int(r.get("ttl", 0)) > now for r in rows)
        ids = [r["order_id"] for r in rows if r["SK"].startswith("ORDER#") and int(r.get("ttl", 0)) > now][:limit]
        return CachedRefs(ids, complete)

    def get_orders(self, order_ids: Sequence[str]) -> list[Order]:
        if not order_ids:
            return []
        items = self.table.batch_get([(order_pk(self.platform, i), "META") for i in order_ids])
        return [_order(i) for i in items if not _expired(i)]

    # ------------------------------------------------------------------ webhook deliveries
    def seen(self, delivery_id: str) -> bool:
        return self.table.get(delivery_pk(self.platform, delivery_id), "META") is not None

    def _delivery_op(self, delivery_id: str, topic: str) -> dict[str, Any]:
        return self.table.put_op({"PK": delivery_pk(self.platform, delivery_id), "SK": "META", "type": "delivery",
                                  "topic": topic, "received_at": clock.now_iso(),
                                  "ttl": self._ttl(DELIVERY_TTL_SECONDS)},
                                 condition="attribute_not_exists(PK)")

    def record_delivery(self, delivery_id: str, topic: str) -> None:
        """A delivery with nothing to store (a stale update, a topic we only acknowledge); Duplicate if seen."""
        try:
            self.table.transact([self._delivery_op(delivery_id, topic)])
        except TransactionCancelled as exc:
            raise Duplicate(delivery_id) from exc

    def privacy_not_started(self, request: PrivacyRequest) -> None:
        """A privacy request recorded whose work could not start: its delivery marker says so (``not_started``, the
        request's sort key), so that the platform's retry is not a duplicate but runs it again (``privacy_retry``)."""
        self.table.update(delivery_pk(self.platform, request.id), "META", Update().when("attribute_exists(PK)")
                          .set("not_started", privacy_request_key(request)[1]))

    def privacy_retry(self, delivery_id: str) -> PrivacyRequest | None:
        """A redelivery of a privacy request whose work did not start: the request as recorded then (one retry takes
        it: the marker's ``not_started`` goes in a conditional write), else None (a duplicate)."""
        marker = self.table.get(delivery_pk(self.platform, delivery_id), "META")
        sort = (marker or {}).get("not_started")
        item = self.table.get(PRIVACY_PK, str(sort)) if sort else None
        if item is None:
            return None
        try:
            self.table.update(delivery_pk(self.platform, delivery_id), "META",
                              Update().when("not_started = :sort", sort=sort).remove("not_started"))
        except ConditionFailed:
            return None
        return PrivacyRequest.model_validate_json(item["body"])

    def apply_order(self, incoming: Order, merge: Callable[[Order | None, Order], Order | None], *,
                    delivery_id: str | None, topic: str) -> Order | None:
        """What the platform said of an order (a webhook's body, a read-through), masked, merged into the stored
        one by ``merge`` and written as ``upsert_order`` writes. Returns what was written."""
        masked = self.masking.order(incoming)
        return self.upsert_order(masked.id, lambda stored: merge(stored, masked), delivery_id=delivery_id,
                                 topic=topic)

    def upsert_order(self, order_id: str, change: Callable[[Order | None], Order | None], *,
                     delivery_id: str | None, topic: str) -> Order | None:
        """Read the order, apply ``change`` (None: nothing to write) and write it back only if nobody
        wrote it meanwhile, with the delivery marker in the same transaction. Returns what was written.
        Raises Duplicate when the delivery was applied before. ``change`` adds no text the platform sent (a
        new order's comes through ``apply_order``, masked)."""
        for _ in range(_MAX_ATTEMPTS):
            item = self.table.get(order_pk(self.platform, order_id), "META")
            stored = _order(item) if item else None
            changed = change(stored)
            ops = [self._delivery_op(delivery_id, topic)] if delivery_id else []
            if changed is not None:
                ops.extend(self._order_ops(changed, version=int(item.get("version", 0)) if item else None))
            if not ops:
                return None
            try:
                self.table.transact(ops)
            except TransactionCancelled as exc:
                if delivery_id and 0 in exc.failed:
                    raise Duplicate(delivery_id) from exc
                continue            # someone else wrote the order first: read it again and merge again
            return changed
        raise ConditionFailed(f"order {order_id} kept changing while it was applied")

    def _order_ops(self, order: Order, *, version: int | None) -> list[dict[str, Any]]:
        ttl = self._ttl(self.order_ttl_seconds)
        item = {"PK": order_pk(self.platform, order.id), "SK": "META", "type": "order", "id": order.id,
                "number": order.number, "updated_at": clock.iso(order.updated_at), "email": order.email,
                "phone": order.phone, "body": order.model_dump_json(), "version": (version or 0) + 1, "ttl": ttl}
        if version is None:
            ops = [self.table.put_op(item, condition="attribute_not_exists(PK)")]
        else:
            ops = [_conditional(self.table.put_op(item, condition="#version = :version"),
                                names={"#version": "version"}, values={":version": {"N": str(version)}})]
        if not order.partial:
            sk = f"ORDER#{clock.iso(order.created_at)}#{key_part(order.id)}"
            for kind, value in (("email", order.email), ("phone", order.phone), ("number", order.number)):
                if value:
                    ops.append(self.table.put_op({"PK": ref_pk(self.platform, kind, value), "SK": sk,
                                                  "type": "order_ref", "order_id": order.id, "ttl": ttl}))
        return ops

    def cache_orders(self, orders: Sequence[Order], merge: Callable[[Order | None, Order], Order | None],
                     looked_up: tuple[str, str] | None = None) -> list[Order]:
        """Orders read through the platform (newest-wins like webhooks), and the value asked about. Returns the
        orders as the platform said them, masked as they are stored (what the caller shows and answers with)."""
        masked = [self.masking.order(order) for order in orders]
        for order in masked:
            self.upsert_order(order.id, lambda stored, o=order: merge(stored, o), delivery_id=None, topic="read")
        if looked_up is not None:
            kind, value = looked_up
            self.table.put({"PK": ref_pk(self.platform, kind, value), "SK": "SYNC", "type": "order_lookup",
                            "fetched_at": clock.now_iso(), "found": len(orders),
                            "ttl": self._ttl(self.lookup_ttl_seconds)})
        return masked

    # ------------------------------------------------------------------ refund guards
    def guard_refund(self, order_id: str, lines: Sequence[RefundLine] | None, *, by: str,
                     conversation_id: str) -> RefundGuard:
        """Hold this refund's guard before the platform is asked, and the order's ``INFLIGHT`` guard while it
        is: one transaction of two conditional Puts, which only one of two identical refunds sent at once wins,
        and which no other refund of the order passes until the first has its answer. RefundGuarded (with who
        holds it) otherwise. An expired guard DynamoDB has not deleted yet counts as none."""
        now = clock.now()
        guard = RefundGuard(order_id=order_id, lines=refund_lines_key(lines), key=str(uuid.uuid4()), by=by,
                            conversation_id=conversation_id, at=now, state="in_flight")
        until = int(now.timestamp()) + REFUND_IN_FLIGHT_SECONDS
        item = {"PK": refund_guard_pk(self.platform, order_id), "type": "refund_guard", "order_id": order_id,
                "lines": guard.lines, "guard_key": guard.key, "by": by, "conversation_id": conversation_id,
                "at": clock.iso(now), "state": "in_flight", "expires_at": until, "ttl": until}
        free = "attribute_not_exists(PK) OR expires_at <= :now"
        ops = [_conditional(self.table.put_op({**item, "SK": key_part(guard.lines)}, free, old_on_failure=True),
                            values={":now": {"N": str(int(now.timestamp()))}}),
               _conditional(self.table.put_op({**item, "SK": REFUND_IN_FLIGHT_SK}, free, old_on_failure=True),
                            values={":now": {"N": str(int(now.timestamp()))}})]
        try:
            self.table.transact(ops)
        except TransactionCancelled as exc:
            held = exc.old(exc.failed[0])
            raise RefundGuarded(RefundGuard(
                order_id=order_id, lines=str(held["lines"]) if held else guard.lines,
                key=str(held["guard_key"]) if held else "", by=str(held["by"]) if held else "someone",
                conversation_id=str(held.get("conversation_id") or "") if held else "",
                at=clock.parse_iso(held["at"]) if held else now,
                state="made" if held and held.get("state") == "made" else "in_flight")) from None
        return guard

    def refund_made(self, guard: RefundGuard) -> None:
        """The platform made the refund: its guard says so and stays a short while; the order's is let go."""
        now = clock.now()
        until = int(now.timestamp()) + REFUND_JUST_MADE_SECONDS
        update = Update().set("state", "made").set("at", clock.iso(now)).set("expires_at", until).expires(until)
        with contextlib.suppress(ConditionFailed):      # expired and taken meanwhile: then it is its holder's
            self.table.update(refund_guard_pk(self.platform, guard.order_id), key_part(guard.lines),
                              update.when("guard_key = :key", key=guard.key))
        self._let_go(guard, REFUND_IN_FLIGHT_SK)

    def release_refund(self, guard: RefundGuard) -> None:
        """The platform refused: nothing was made, so the same refund may be tried again at once."""
        self._let_go(guard, key_part(guard.lines))
        self._let_go(guard, REFUND_IN_FLIGHT_SK)

    def _let_go(self, guard: RefundGuard, sk: str) -> None:
        with contextlib.suppress(ConditionFailed):
            self.table.delete_if(refund_guard_pk(self.platform, guard.order_id), sk,
                                 condition="guard_key = :key", values={":key": guard.key})

    # ------------------------------------------------------------------ shop customers
    def apply_customer(self, customer: ShopCustomer, delivery_id: str, topic: str) -> bool:
        """Store the platform's customer record (masked) unless a newer one is stored; False when stale."""
        customer = self.masking.customer(customer)
        ttl = self._ttl(self.order_ttl_seconds)
        pk = shop_customer_pk(self.platform, customer.id)
        ops = [self._delivery_op(delivery_id, topic),
               self.table.put_op({"PK": pk, "SK": "META", "type": "shop_customer", "id": customer.id,
                                  "updated_at": clock.iso(customer.updated_at), "email": customer.email,
                                  "phone": customer.phone, "body": customer.model_dump_json(), "ttl": ttl},
                                 condition="attribute_not_exists(PK) OR updated_at < :u")]
        _conditional(ops[1], values={":u": {"S": clock.iso(customer.updated_at)}})
        for kind, value in (("email", customer.email), ("phone", customer.phone)):
            if value:
                ops.append(self.table.put_op({"PK": ref_pk(self.platform, kind, value),
                                              "SK": f"CUSTOMER#{key_part(customer.id)}",
                                              "type": "customer_ref", "customer_id": customer.id, "ttl": ttl}))
        try:
            self.table.transact(ops)
        except TransactionCancelled as exc:
            if 0 in exc.failed:
                raise Duplicate(delivery_id) from exc
            self.record_delivery(delivery_id, topic)
            return False
        return True

    def get_customer(self, customer_id: str) -> ShopCustomer | None:
        item = self.table.get(shop_customer_pk(self.platform, customer_id), "META")
        return ShopCustomer.model_validate_json(item["body"]) if item else None

    # ------------------------------------------------------------------ privacy requests
    def record_privacy(self, request: PrivacyRequest, body_digest: str | None = None) -> None:
        """The request and its delivery marker in one transaction; Duplicate when delivered before. With
        ``body_digest`` (the signed body's sha256), the body's marker too, in the same transaction and written the same
        way (``attribute_not_exists``): Replayed when that body was accepted before under another delivery id (a
        delivery seen before is a Duplicate still, so the platform's retry of one delivery goes on as it did)."""
        item = {"PK": PRIVACY_PK, "SK": privacy_request_key(request)[1],
                "type": "privacy_request", "id": request.id, "platform": request.platform, "topic": request.topic,
                "status": request.status,
                "shop_domain": request.shop_domain, "received_at": clock.iso(request.received_at),
                "body": request.model_dump_json()}
        ops = [self._delivery_op(request.id, request.topic), self.table.put_op(item)]
        if body_digest:
            ops.append(self.table.put_op({"PK": privacy_body_pk(self.platform, body_digest), "SK": "META",
                                          "type": "privacy_body", "topic": request.topic, "delivery_id": request.id,
                                          "received_at": clock.now_iso()},
                                         condition="attribute_not_exists(PK)", old_on_failure=True))
        try:
            self.table.transact(ops)
        except TransactionCancelled as exc:
            if 0 not in exc.failed and 2 in exc.failed:
                raise Replayed(str((exc.old(2) or {}).get("delivery_id") or "")) from exc
            raise Duplicate(request.id) from exc

    def privacy_requests(self, limit: int, cursor: str | None) -> tuple[list[PrivacyRequest], str | None]:
        """Newest first: one Query of the PRIVACY partition."""
        page = self.table.query(index=None, key_condition="PK = :pk", names={}, values={":pk": PRIVACY_PK},
                                forward=False, limit=limit, cursor=cursor)
        # what became of it (its jobs' progress) is on the item, beside the request as delivered
        return [PrivacyRequest.model_validate_json(i["body"]).model_copy(update={
                    **{k: i[k] for k in ("status", "job_id") if i.get(k)},
                    "jobs": [RequestJob(customer_id=c, **e) for c, e in sorted((i.get("jobs") or {}).items())]})
                for i in page.items], page.cursor


@dataclass(frozen=True)
class ShopCache:
    """Everything the commerce cache holds of one platform's shop: its orders, their pointers, its customer records
    and the lookup markers (``ORDER#<p>#…``, ``SHOPCUSTOMER#<p>#…``, ``COMMERCE#<p>#…``), found a page of a Scan at a
    time: what a ``shop/redact`` deletes. Delivery markers (ids only), refund guards (minutes) and privacy requests
    are not the shop's data about anyone and stay until their own expiry."""

    table: Table
    platform: str

    PREFIXES = ("ORDER", "SHOPCUSTOMER", "COMMERCE")

    def page(self, cursor: str | None, limit: int) -> tuple[list[tuple[str, str]], str | None]:
        """The keys of the shop's items among ``limit`` items of the table read; the cursor to go on from (None: the
        table's end)."""
        page = self.table.scan(filter=" OR ".join(f"begins_with(#pk, :p{i})" for i in range(len(self.PREFIXES))),
                               names={"#pk": "PK"}, values={f":p{i}": f"{prefix}#{self.platform}#"
                                                 for i, prefix in enumerate(self.PREFIXES)},
                               limit=limit, cursor=cursor)
        return [(str(i["PK"]), str(i["SK"])) for i in page.items], page.cursor

    def delete(self, keys: Sequence[tuple[str, str]]) -> None:
        self.table.batch_delete(keys)


CACHED_KINDS = ("order", "shop_customer")         # the commerce cache's items with the platform's texts in them
_CACHED_FILTER = "#type IN (:order, :shop_customer)"


@dataclass(frozen=True)
class CachedRecord:
    """An order or a shop customer as the cache holds it, with what a write of it again is conditioned on."""

    kind: Literal["order", "shop_customer"]
    pk: str
    record: Order | ShopCustomer
    body: str                    # the stored JSON as read
    version: int                 # an order's version (0 for a shop customer, which has none)


class CachedRecords:
    """The commerce cache's orders and shop customers of every platform, walked page by page (a Scan: they are on
    no index) and written again masked (``privacy/remask.py``). A write is the body alone: its expiry, ``updated_at``
    and pointers stay, since masking changes none of the ids, numbers, emails and phones they are made from."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def page(self, cursor: str | None, limit: int) -> tuple[list[CachedRecord], str | None]:
        """``limit`` items of the table read, the orders and shop customers among them returned; the cursor to go
        on from (None: the table's end)."""
        page = self.table.scan(filter=_CACHED_FILTER, names={"#type": "type"},
                               values={":order": "order", ":shop_customer": "shop_customer"},
                               limit=limit, cursor=cursor)
        return [cached_record(item) for item in page.items], page.cursor

    def get(self, pk: str) -> CachedRecord | None:
        item = self.table.get(pk, "META")
        return cached_record(item) if item and item.get("type") in CACHED_KINDS else None

    def replace(self, cached: CachedRecord, record: Order | ShopCustomer) -> None:
        """Write ``record`` as the body, only if the item is still as read (an order's version, which this moves
        on, so a webhook that read it meanwhile merges again; a shop customer's body); ConditionFailed otherwise."""
        update = Update().set("body", record.model_dump_json())
        if cached.kind == "order":
            update.set("version", cached.version + 1).when("#version = :read", read=cached.version)
        else:
            update.when("#body = :read", read=cached.body)
        self.table.update(cached.pk, "META", update)


def cached_record(item: dict[str, Any]) -> CachedRecord:
    """An order or a shop customer item as ``CachedRecords`` reads it."""
    kind = "order" if item["type"] == "order" else "shop_customer"
    record: Order | ShopCustomer = _order(item) if kind == "order" else ShopCustomer.model_validate_json(item["body"])
    return CachedRecord(kind=kind, pk=str(item["PK"]), record=record, body=str(item["body"]),
                        version=int(item.get("version", 0)))


def privacy_request_key(request: PrivacyRequest) -> tuple[str, str]:
    return PRIVACY_PK, f"{clock.iso(request.received_at)}#{key_part(request.id)}"


def _order(item: dict[str, Any]) -> Order:
    return Order.model_validate(json.loads(item["body"]))


def _expired(item: dict[str, Any]) -> bool:
    ttl = item.get("ttl")
    return ttl is not None and int(ttl) <= int(clock.now().timestamp())


def still_pointing(refs: CachedRefs, found: dict[str, Order], kind: str, value: str) -> list[Order]:
    """The orders of ``refs`` that were found and still carry ``value``: a pointer can outlive the email or
    phone it was made for (the order changed) or its order (expired)."""
    return [found[i] for i in refs.order_ids if i in found and _matches(found[i], kind, value)]


def _matches(order: Order, kind: str, value: str) -> bool:
    """A pointer can outlive the email or phone it was made for (the order changed): check it still holds."""
    return {"email": order.email, "phone": order.phone, "number": order.number}.get(kind) == value


def _conditional(op: dict[str, Any], *, names: dict[str, str] | None = None,
                 values: dict[str, Any] | None = None) -> dict[str, Any]:
    """Give a transaction Put's condition its placeholders (values already in DynamoDB's wire form)."""
    if names:
        op["Put"]["ExpressionAttributeNames"] = names
    if values:
        op["Put"]["ExpressionAttributeValues"] = values
    return op
