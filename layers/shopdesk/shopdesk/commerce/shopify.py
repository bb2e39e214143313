"""Shopify: the Admin GraphQL API adapter and the mapping of Shopify's webhook bodies to orders.

Queries are constants below, sent to ``{admin base}/admin/api/{API_VERSION}/graphql.json`` with the
``X-Shopify-Access-Token`` header. Shopify meters the API as a leaky bucket of query-cost points per
app and shop: every answer carries ``extensions.cost.throttleStatus`` (bucket size, points available,
restore rate). The adapter remembers it and waits before a query the bucket cannot pay for; an answer
``THROTTLED`` is retried after ``(requested - available) / restoreRate`` seconds, within a time budget.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from shopdesk.channels.base import http_json
from shopdesk.commerce import CommerceRefused, CommerceUnavailable
from shopdesk.commerce.models import (
    ActionResult,
    Address,
    Fulfillment,
    LineItem,
    Order,
    Refund,
    RefundedLine,
    RefundLine,
    ShopCustomer,
    Tracking,
    count_refunded,
    refunded_counts,
)
from shopdesk.errors import ProviderError
from shopdesk.models import Identity
from shopdesk.phone import shop_phone

# Pinned: supported until at least 2027-04. orderCancel takes ``refund: Boolean!`` here; 2026-07 replaced
# it with ``refundMethod`` - move the version and the mutation together. From 2026-04 refundCreate must carry
# the ``@idempotent(key:)`` directive (optional since 2026-01): a repeat with the same key and input creates
# no second refund.
API_VERSION = "2026-04"

ORDER_FIELDS = """
fragment OrderFields on Order {
  id legacyResourceId name createdAt updatedAt cancelledAt test email phone
  displayFinancialStatus displayFulfillmentStatus
  totalPriceSet { shopMoney { amount currencyCode } }
  customer { id }
  lineItems(first: 10) { nodes { id title quantity refundableQuantity sku variantTitle
    originalUnitPriceSet { shopMoney { amount currencyCode } } } }
  shippingAddress { name company address1 address2 city zip province countryCodeV2 }
  fulfillments(first: 5) { id status createdAt updatedAt displayStatus
    trackingInfo(first: 5) { number url company } }
  refunds(first: 5) { id createdAt note totalRefundedSet { shopMoney { amount currencyCode } } }
}
"""

ORDERS_BY_EMAIL = ORDER_FIELDS + """
query OrdersByEmail($email: String!, $first: Int!) {
  customerByIdentifier(identifier: {emailAddress: $email}) {
    id
    orders(first: $first, sortKey: CREATED_AT, reverse: true) { nodes { ...OrderFields } }
  }
}
"""

ORDERS_BY_PHONE = ORDER_FIELDS + """
query OrdersByPhone($phone: String!, $first: Int!) {
  customerByIdentifier(identifier: {phoneNumber: $phone}) {
    id
    orders(first: $first, sortKey: CREATED_AT, reverse: true) { nodes { ...OrderFields } }
  }
}
"""

ORDER_BY_NAME = ORDER_FIELDS + """
query OrderByName($query: String!) {
  orders(first: 1, query: $query) { nodes { ...OrderFields } }
}
"""

# One order (the one an action is about to change) also says what each refund refunded: its line items. The
# lists leave them out (five orders' five refunds' ten lines would cost several hundred points); there
# ``refundableQuantity`` says what is left.
ORDER_FIELDS_WITH_REFUND_LINES = ORDER_FIELDS.replace(
    "refunds(first: 5) { id createdAt note ",
    "refunds(first: 5) { id createdAt note refundLineItems(first: 10) { nodes { lineItem { id } quantity } } ")

ORDER_BY_ID = ORDER_FIELDS_WITH_REFUND_LINES + """
query OrderById($id: ID!) {
  order(id: $id) { ...OrderFields }
}
"""

ORDER_CANCEL = """
mutation OrderCancel($orderId: ID!, $reason: OrderCancelReason!, $restock: Boolean!, $refund: Boolean!,
                     $notifyCustomer: Boolean, $staffNote: String) {
  orderCancel(orderId: $orderId, reason: $reason, restock: $restock, refund: $refund,
              notifyCustomer: $notifyCustomer, staffNote: $staffNote) {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}
"""

SUGGESTED_REFUND = """
query SuggestedRefund($id: ID!, $lines: [RefundLineItemInput!], $shipping: Boolean, $full: Boolean) {
  order(id: $id) {
    suggestedRefund(refundLineItems: $lines, refundShipping: $shipping, suggestFullRefund: $full) {
      amountSet { shopMoney { amount currencyCode } }
      refundLineItems { lineItem { id } quantity }
      suggestedTransactions { amountSet { shopMoney { amount currencyCode } } gateway kind
        parentTransaction { id } }
    }
  }
}
"""

REFUND_CREATE = """
mutation RefundCreate($input: RefundInput!, $idempotencyKey: String!) {
  refundCreate(input: $input) @idempotent(key: $idempotencyKey) {
    refund { id createdAt totalRefundedSet { shopMoney { amount currencyCode } } }
    userErrors { field message }
  }
}
"""

CANCEL_REASONS = ("CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "STAFF", "OTHER")


def gid(kind: str, legacy_id: str) -> str:
    return legacy_id if legacy_id.startswith("gid://") else f"gid://shopify/{kind}/{legacy_id}"


def legacy(value: Any) -> str | None:
    """Shopify's numeric id from a GID or a number (as a string: ids exceed 2^53)."""
    if value is None:
        return None
    text = str(value)
    return text.rsplit("/", 1)[-1] if text.startswith("gid://") else text


# ------------------------------------------------------------------------------ throttling

@dataclass
class Bucket:
    """What Shopify last said about our query-cost bucket, and when."""

    maximum: float = 1000.0
    available: float = 1000.0
    restore_rate: float = 50.0
    at: float = 0.0

    def estimate(self, now: float) -> float:
        return min(self.maximum, self.available + max(0.0, now - self.at) * self.restore_rate)

    def wait_for(self, cost: float, now: float) -> float:
        """Seconds to wait until ``cost`` points are available (0 when they are)."""
        missing = min(cost, self.maximum) - self.estimate(now)
        return max(0.0, missing / self.restore_rate) if self.restore_rate > 0 else 0.0


class GraphQL:
    """One shop's Admin GraphQL endpoint, honouring the cost-based rate limit."""

    def __init__(self, endpoint: str, token: Callable[[], str], *, budget_seconds: float = 4.0,
                 max_attempts: int = 4, sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic, timeout: float = 8.0) -> None:
        self.endpoint = endpoint
        self.token = token
        self.budget_seconds = budget_seconds
        self.max_attempts = max_attempts
        self.sleep = sleep
        self.monotonic = monotonic
        self.timeout = timeout
        self.bucket = Bucket(at=monotonic())
        self.costs: dict[str, float] = {}         # requested cost last seen per query text
        self._lock = threading.Lock()

    def execute(self, query: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        """The ``data`` of the answer; CommerceUnavailable when Shopify fails or stays throttled."""
        waited = 0.0
        for attempt in range(1, self.max_attempts + 1):
            with self._lock:
                pause = self.bucket.wait_for(self.costs.get(query, 0.0), self.monotonic())
            if pause > 0:
                if waited + pause > self.budget_seconds:
                    raise CommerceUnavailable("Shopify's API rate limit is exhausted; try again in a moment")
                self.sleep(pause)
                waited += pause
            status, body = self._post(query, variables)
            self._note_cost(query, body)
            errors = body.get("errors") or []
            throttled = status == 429 or any((e.get("extensions") or {}).get("code") == "THROTTLED"
                                             for e in errors if isinstance(e, dict))
            if throttled:
                pause = self._throttled_wait(query, body)
                if attempt == self.max_attempts or waited + pause > self.budget_seconds:
                    raise CommerceUnavailable("Shopify's API rate limit is exhausted; try again in a moment")
                self.sleep(pause)
                waited += pause
                continue
            if status >= 500:
                raise CommerceUnavailable(f"Shopify answered HTTP {status}")
            if status in (401, 403):
                raise CommerceUnavailable(f"Shopify refused our access token (HTTP {status})")
            if errors:
                messages = "; ".join(str(e.get("message")) for e in errors if isinstance(e, dict))
                raise CommerceUnavailable(f"Shopify could not run the query: {messages}")
            if status >= 400:
                raise CommerceUnavailable(f"Shopify answered HTTP {status}")
            return body.get("data") or {}
        raise CommerceUnavailable("Shopify's API rate limit is exhausted; try again in a moment")

    def _post(self, query: str, variables: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        try:
            status, body, _ = http_json(self.endpoint, method="POST", body={"query": query, "variables": variables},
                                        headers={"X-Shopify-Access-Token": self.token()}, timeout=self.timeout,
                                        provider="Shopify")
        except ProviderError as exc:
            raise CommerceUnavailable(exc.message) from exc
        return status, body

    def _note_cost(self, query: str, body: Mapping[str, Any]) -> None:
        cost = (body.get("extensions") or {}).get("cost") or {}
        status = cost.get("throttleStatus") or {}
        with self._lock:
            if cost.get("requestedQueryCost") is not None:
                self.costs[query] = float(cost["requestedQueryCost"])
            if status:
                self.bucket = Bucket(maximum=float(status.get("maximumAvailable", self.bucket.maximum)),
                                     available=float(status.get("currentlyAvailable", self.bucket.available)),
                                     restore_rate=float(status.get("restoreRate", self.bucket.restore_rate)),
                                     at=self.monotonic())

    def _throttled_wait(self, query: str, body: Mapping[str, Any]) -> float:
        """Shopify's rule: (requested - available) / restoreRate seconds, at least a tick."""
        cost = (body.get("extensions") or {}).get("cost") or {}
        status = cost.get("throttleStatus") or {}
        requested = float(cost.get("requestedQueryCost") or self.costs.get(query) or 0.0)
        available = float(status.get("currentlyAvailable", 0.0))
        rate = float(status.get("restoreRate") or self.bucket.restore_rate or 50.0)
        return max(0.05, (requested - available) / rate)


# ------------------------------------------------------------------------------ mapping

def _money(node: Any) -> tuple[str | None, str | None]:
    shop = ((node or {}).get("shopMoney") or {}) if isinstance(node, dict) else {}
    amount = shop.get("amount")
    return (str(amount) if amount is not None else None), shop.get("currencyCode")


def _lower(value: Any) -> str | None:
    return str(value).lower() if value else None


def order_from_graphql(node: Mapping[str, Any]) -> Order:
    total, currency = _money(node.get("totalPriceSet"))
    fulfillments = [Fulfillment(id=legacy(f.get("id")) or "", status=_lower(f.get("status")),
                                shipment_status=_lower(f.get("displayStatus")),
                                created_at=f.get("createdAt"), updated_at=f.get("updatedAt"),
                                tracking=[Tracking(number=t.get("number"), url=t.get("url"), company=t.get("company"))
                                          for t in f.get("trackingInfo") or []])
                    for f in node.get("fulfillments") or []]
    refunds = []
    for r in node.get("refunds") or []:
        amount, _ = _money(r.get("totalRefundedSet"))
        refunded = r.get("refundLineItems")
        refunds.append(Refund(id=legacy(r.get("id")) or "", created_at=r.get("createdAt"), amount=amount,
                              note=r.get("note"), line_items=None if refunded is None else [
                                  RefundedLine(line_item_id=legacy((x.get("lineItem") or {}).get("id")) or "",
                                               quantity=int(x.get("quantity") or 0))
                                  for x in refunded.get("nodes") or []]))
    # refunded so far: the refunds' own lines when every refund said them, else what Shopify says is not refundable
    counts = refunded_counts(refunds) if all(r.line_items is not None for r in refunds) else None
    lines = []
    for li in ((node.get("lineItems") or {}).get("nodes") or []):
        price, _ = _money(li.get("originalUnitPriceSet"))
        quantity, refundable = li.get("quantity") or 0, li.get("refundableQuantity")
        line_id = legacy(li.get("id"))
        refunded = counts.get(line_id or "", 0) if counts is not None else \
            max(0, quantity - int(refundable)) if refundable is not None else 0
        lines.append(LineItem(id=line_id, title=li.get("title") or "", quantity=quantity,
                              sku=li.get("sku"), variant_title=li.get("variantTitle"), price=price,
                              refunded_quantity=refunded,
                              refundable_quantity=int(refundable) if refundable is not None else None))
    address = node.get("shippingAddress")
    name = node.get("name") or ""
    return Order(
        platform="shopify", id=legacy(node.get("legacyResourceId") or node.get("id")) or "", name=name,
        number=name.lstrip("#"), created_at=node["createdAt"], updated_at=node.get("updatedAt") or node["createdAt"],
        cancelled_at=node.get("cancelledAt"), financial_status=_lower(node.get("displayFinancialStatus")),
        fulfillment_status=_lower(node.get("displayFulfillmentStatus")), total=total, currency=currency,
        email=_email(node.get("email")), phone=_phone(node.get("phone")),
        customer_id=legacy((node.get("customer") or {}).get("id")), line_items=lines,
        shipping_address=Address(name=address.get("name"), company=address.get("company"),
                                 address1=address.get("address1"), address2=address.get("address2"),
                                 city=address.get("city"), zip=address.get("zip"), province=address.get("province"),
                                 country_code=address.get("countryCodeV2")) if address else None,
        fulfillments=fulfillments, refunds=refunds, test=bool(node.get("test")))


_REST_FULFILLMENT = {None: "unfulfilled", "partial": "partially_fulfilled", "restocked": "restocked"}


def _email(value: Any) -> str | None:
    return str(value).strip().lower() if value and "@" in str(value) else None


def _phone(value: Any) -> str | None:
    return shop_phone(str(value)) if value else None


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def fulfillment_from_rest(body: Mapping[str, Any]) -> Fulfillment:
    numbers = list(body.get("tracking_numbers") or ([body["tracking_number"]] if body.get("tracking_number") else []))
    urls = list(body.get("tracking_urls") or ([body["tracking_url"]] if body.get("tracking_url") else []))
    tracking = [Tracking(number=str(n), url=urls[i] if i < len(urls) else None, company=body.get("tracking_company"))
                for i, n in enumerate(numbers)]
    if not tracking and urls:
        tracking = [Tracking(url=u, company=body.get("tracking_company")) for u in urls]
    return Fulfillment(id=str(body["id"]), status=_text(body.get("status")),
                       shipment_status=_text(body.get("shipment_status")), created_at=body.get("created_at"),
                       updated_at=body.get("updated_at") or body.get("created_at"), tracking=tracking)


def refund_from_rest(body: Mapping[str, Any]) -> Refund:
    total = sum((Decimal(str(t.get("amount") or "0")) for t in body.get("transactions") or []
                 if t.get("kind") == "refund" and t.get("status") in (None, "success")), Decimal("0"))
    lines = [RefundedLine(line_item_id=str(x.get("line_item_id") or (x.get("line_item") or {}).get("id")),
                          quantity=int(x.get("quantity") or 0))
             for x in body.get("refund_line_items") or [] if x.get("line_item_id") or x.get("line_item")]
    return Refund(id=str(body["id"]), created_at=body.get("created_at"),
                  amount=f"{total:.2f}" if body.get("transactions") else None, note=_text(body.get("note")),
                  line_items=lines if "refund_line_items" in body else None)


def order_from_rest(body: Mapping[str, Any]) -> Order:
    """An order webhook body (the REST resource): orders/create, updated, cancelled, fulfilled."""
    address = body.get("shipping_address") or None
    customer = body.get("customer") or {}
    name = str(body.get("name") or f"#{body.get('order_number', body['id'])}")
    fulfillment = body.get("fulfillment_status")
    return count_refunded(Order(
        platform="shopify", id=str(body["id"]), name=name, number=name.lstrip("#"),
        created_at=body["created_at"], updated_at=body.get("updated_at") or body["created_at"],
        cancelled_at=body.get("cancelled_at"), financial_status=_lower(body.get("financial_status")),
        fulfillment_status=_REST_FULFILLMENT.get(fulfillment, fulfillment),
        total=_text(body.get("current_total_price") or body.get("total_price")), currency=body.get("currency"),
        email=_email(body.get("email") or body.get("contact_email") or customer.get("email")),
        phone=_phone(body.get("phone") or customer.get("phone")),
        customer_id=str(customer["id"]) if customer.get("id") else None,
        line_items=[LineItem(id=str(li["id"]) if li.get("id") is not None else None,
                             title=str(li.get("title") or li.get("name") or ""), quantity=int(li.get("quantity") or 0),
                             sku=_text(li.get("sku")), variant_title=_text(li.get("variant_title")),
                             price=_text(li.get("price")))
                    for li in body.get("line_items") or []],
        shipping_address=Address(name=_text(address.get("name")), company=_text(address.get("company")),
                                 address1=_text(address.get("address1")), address2=_text(address.get("address2")),
                                 city=_text(address.get("city")), zip=_text(address.get("zip")),
                                 province=_text(address.get("province")),
                                 country_code=_text(address.get("country_code"))) if address else None,
        fulfillments=[fulfillment_from_rest(f) for f in body.get("fulfillments") or []],
        refunds=[refund_from_rest(r) for r in body.get("refunds") or []], test=bool(body.get("test"))))


def customer_from_rest(body: Mapping[str, Any]) -> ShopCustomer:
    address = body.get("default_address") or {}
    return ShopCustomer(platform="shopify", id=str(body["id"]), email=_email(body.get("email")),
                        phone=_phone(body.get("phone") or address.get("phone")),
                        first_name=_text(body.get("first_name")), last_name=_text(body.get("last_name")),
                        updated_at=body.get("updated_at") or body.get("created_at") or datetime(1970, 1, 1))


def parse_body(raw: bytes) -> Any:
    """Shopify's JSON without floats: ids above 2^53 stay exact, amounts stay decimal strings."""
    return json.loads(raw, parse_float=Decimal)


# ------------------------------------------------------------------------------ the adapter

class ShopifyCommerce:
    platform = "shopify"

    def __init__(self, admin_base_url: str, token: Callable[[], str], *, graphql: GraphQL | None = None) -> None:
        endpoint = f"{admin_base_url.rstrip('/')}/admin/api/{API_VERSION}/graphql.json"
        self.graphql = graphql or GraphQL(endpoint, token)

    def orders_for(self, identity: Identity, limit: int = 5) -> list[Order]:
        if identity.kind == "email":
            data = self.graphql.execute(ORDERS_BY_EMAIL, {"email": identity.address, "first": limit})
        elif identity.kind == "phone":
            data = self.graphql.execute(ORDERS_BY_PHONE, {"phone": identity.address, "first": limit})
        else:
            return []
        customer = data.get("customerByIdentifier") or {}
        return [order_from_graphql(n) for n in ((customer.get("orders") or {}).get("nodes") or [])]

    def order_by_number(self, number: str) -> Order | None:
        data = self.graphql.execute(ORDER_BY_NAME, {"query": f"name:#{number}"})
        nodes = (data.get("orders") or {}).get("nodes") or []
        found = [order_from_graphql(n) for n in nodes]
        return next((o for o in found if o.number == number), None)

    def get_order(self, order_id: str) -> Order | None:
        node = self.graphql.execute(ORDER_BY_ID, {"id": gid("Order", order_id)}).get("order")
        return order_from_graphql(node) if node else None

    def cancel(self, order: Order, *, reason: str, restock: bool, notify_customer: bool,
               staff_note: str | None) -> ActionResult:
        data = self.graphql.execute(ORDER_CANCEL, {
            "orderId": gid("Order", order.id),
            "reason": reason.upper() if reason.upper() in CANCEL_REASONS else "OTHER",
            "restock": restock, "refund": True, "notifyCustomer": notify_customer, "staffNote": staff_note})
        answer = data.get("orderCancel") or {}
        errors = [e.get("message") for e in answer.get("orderCancelUserErrors") or [] if e.get("message")]
        if errors:
            raise CommerceRefused(f"Shopify refused to cancel {order.name}: {'; '.join(errors)}", errors)
        job = answer.get("job") or {}
        return ActionResult(message=f"Shopify is cancelling {order.name}", reference=job.get("id"))

    def refund(self, order: Order, lines: Sequence[RefundLine] | None, *, note: str | None,
               notify_customer: bool, idempotency_key: str | None = None) -> ActionResult:
        """``idempotency_key``: one per refund meant (a retry of the same one reuses it); Shopify creates no second
        refund for a key it has seen with the same input."""
        # Everything (``lines`` None): Shopify suggests a refund of every refundable line item (suggestFullRefund)
        # and the shipping; its suggested lines are the refund's, so they count as refunded on the order. (Given
        # no lines and no full refund, Shopify suggests the shipping alone.)
        wire_lines = [{"lineItemId": gid("LineItem", line.line_item_id), "quantity": line.quantity}
                      for line in lines or []]
        everything = lines is None
        suggested = (self.graphql.execute(SUGGESTED_REFUND, {"id": gid("Order", order.id), "lines": wire_lines,
                                                             "shipping": everything, "full": everything}
                                          ).get("order") or {})
        suggestion = suggested.get("suggestedRefund") or {}
        if everything:
            wire_lines = [{"lineItemId": (x.get("lineItem") or {}).get("id"), "quantity": x.get("quantity")}
                          for x in suggestion.get("refundLineItems") or []
                          if (x.get("lineItem") or {}).get("id") and x.get("quantity")]
        transactions = [{"orderId": gid("Order", order.id), "parentId": (t.get("parentTransaction") or {}).get("id"),
                         "amount": _money(t.get("amountSet"))[0], "gateway": t.get("gateway"), "kind": "REFUND"}
                        for t in suggestion.get("suggestedTransactions") or []]
        data = self.graphql.execute(REFUND_CREATE, {"idempotencyKey": idempotency_key or str(uuid.uuid4()), "input": {
            "orderId": gid("Order", order.id), "note": note, "notify": notify_customer,
            "refundLineItems": wire_lines, "transactions": transactions,
            **({"shipping": {"fullRefund": True}} if everything else {})}})
        answer = data.get("refundCreate") or {}
        errors = [e.get("message") for e in answer.get("userErrors") or [] if e.get("message")]
        if errors:
            raise CommerceRefused(f"Shopify refused the refund on {order.name}: {'; '.join(errors)}", errors)
        refund = answer.get("refund") or {}
        amount, currency = _money(refund.get("totalRefundedSet"))
        money = f"{amount or '?'} {currency or order.currency or ''}".strip()
        return ActionResult(message=f"Refunded {money} on {order.name}",
                            reference=legacy(refund.get("id")), amount=amount, currency=currency or order.currency)
