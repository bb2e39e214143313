"""WooCommerce: the REST API v3 adapter and the mapping of its webhook bodies (the REST resources).

``{site}/wp-json/wc/v3`` with the consumer key and secret as HTTP Basic auth (HTTPS). An order's
status maps onto Shopify's financial / fulfilment names; the status itself stays in
``platform_status``. An order's resource lists its refunds without their line items; those come from
``GET /orders/{id}/refunds`` (each refund's line items, with a negative quantity and the order's line item
in ``_refunded_item_id``), asked only for an order that has refunds. Tracking numbers come from the
Shipment Tracking extension's order meta (``_wc_shipment_tracking_items``) when the shop uses it; core
WooCommerce has none.
"""

from __future__ import annotations

import base64
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
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
)
from shopdesk.errors import ProviderError
from shopdesk.models import Identity
from shopdesk.phone import shop_phone

FINANCIAL = {"pending": "pending", "on-hold": "pending", "processing": "paid", "completed": "paid",
             "cancelled": "voided", "refunded": "refunded", "failed": "failed", "checkout-draft": "pending",
             "draft": "pending", "trash": "voided"}
TRACKING_META = "_wc_shipment_tracking_items"


def _gmt(value: Any) -> datetime | None:
    """WooCommerce's ``*_gmt`` dates carry no offset: they are UTC."""
    if not value:
        return None
    moment = datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _email(value: Any) -> str | None:
    return str(value).strip().lower() if value and "@" in str(value) else None


def order_from_rest(body: Mapping[str, Any], refunds: Sequence[Mapping[str, Any]] | None = None) -> Order:
    """The order resource (a webhook's body or the API's answer); ``refunds`` the order's refunds as
    ``GET /orders/{id}/refunds`` lists them, when asked (else the refunds' line items are not known)."""
    status = str(body.get("status") or "")
    total = Decimal(str(body.get("total") or "0"))
    refunded = -sum((Decimal(str(r.get("total") or "0")) for r in body.get("refunds") or []), Decimal("0"))
    financial = FINANCIAL.get(status, status or None)
    if financial == "paid" and refunded > 0:
        financial = "refunded" if refunded >= total else "partially_refunded"
    billing, shipping = body.get("billing") or {}, body.get("shipping") or {}
    created = _gmt(body.get("date_created_gmt")) or _gmt(body.get("date_created"))
    modified = _gmt(body.get("date_modified_gmt")) or created
    tracking = _tracking(body.get("meta_data") or [])
    fulfillments = [Fulfillment(id=f"tracking-{i}", status="success", tracking=[t]) for i, t in enumerate(tracking)]
    name = " ".join(p for p in (shipping.get("first_name"), shipping.get("last_name")) if p) or None
    order = Order(
        platform="woocommerce", id=str(body["id"]), name=f"#{body.get('number') or body['id']}",
        number=str(body.get("number") or body["id"]), created_at=created or datetime(1970, 1, 1, tzinfo=UTC),
        updated_at=modified or datetime(1970, 1, 1, tzinfo=UTC),
        cancelled_at=modified if status in ("cancelled", "trash") else None, financial_status=financial,
        fulfillment_status="fulfilled" if status == "completed" else "unfulfilled", platform_status=status or None,
        total=_text(body.get("total")), currency=_text(body.get("currency")), email=_email(billing.get("email")),
        phone=shop_phone(str(billing["phone"])) if billing.get("phone") else None,
        customer_id=str(body["customer_id"]) if body.get("customer_id") else None,
        line_items=[LineItem(id=str(li["id"]) if li.get("id") is not None else None, title=str(li.get("name") or ""),
                             quantity=int(li.get("quantity") or 0), sku=_text(li.get("sku")),
                             price=_text(li.get("price")))
                    for li in body.get("line_items") or []],
        shipping_address=Address(name=name, company=_text(shipping.get("company")),
                                 address1=_text(shipping.get("address_1")), address2=_text(shipping.get("address_2")),
                                 city=_text(shipping.get("city")), zip=_text(shipping.get("postcode")),
                                 province=_text(shipping.get("state")), country_code=_text(shipping.get("country")))
        if shipping else None,
        fulfillments=fulfillments,
        refunds=[refund_from_rest(r) for r in refunds] if refunds is not None else
        [Refund(id=str(r["id"]), amount=f"{-Decimal(str(r.get('total') or '0')):.2f}", note=_text(r.get("reason")))
         for r in body.get("refunds") or []])
    return count_refunded(order)


def refund_from_rest(body: Mapping[str, Any]) -> Refund:
    """One of ``GET /orders/{id}/refunds``: its line items carry a negative quantity and name the order's line
    item in the ``_refunded_item_id`` meta (``line_item_id`` in newer answers)."""
    lines = []
    for item in body.get("line_items") or []:
        meta = {m.get("key"): m.get("value") for m in item.get("meta_data") or [] if isinstance(m, dict)}
        refunded = item.get("line_item_id") or meta.get("_refunded_item_id")
        if refunded:
            lines.append(RefundedLine(line_item_id=str(refunded), quantity=abs(int(item.get("quantity") or 0))))
    return Refund(id=str(body["id"]), created_at=_gmt(body.get("date_created_gmt")),
                  amount=_text(body.get("amount")), note=_text(body.get("reason")), line_items=lines)


def _tracking(meta: Sequence[Mapping[str, Any]]) -> list[Tracking]:
    for entry in meta:
        if entry.get("key") == TRACKING_META and isinstance(entry.get("value"), list):
            return [Tracking(number=_text(t.get("tracking_number")),
                             company=_text(t.get("tracking_provider") or t.get("custom_tracking_provider")),
                             url=_text(t.get("custom_tracking_link")))
                    for t in entry["value"] if isinstance(t, dict)]
    return []


def customer_from_rest(body: Mapping[str, Any]) -> ShopCustomer:
    billing = body.get("billing") or {}
    return ShopCustomer(platform="woocommerce", id=str(body["id"]),
                        email=_email(body.get("email") or billing.get("email")),
                        phone=shop_phone(str(billing["phone"])) if billing.get("phone") else None,
                        first_name=_text(body.get("first_name")), last_name=_text(body.get("last_name")),
                        updated_at=_gmt(body.get("date_modified_gmt")) or _gmt(body.get("date_created_gmt"))
                        or datetime(1970, 1, 1, tzinfo=UTC))


class WooCommerce:
    platform = "woocommerce"

    def __init__(self, base_url: str, credentials: Callable[[], tuple[str, str]], *, timeout: float = 8.0) -> None:
        self.base = base_url.rstrip("/") + "/wp-json/wc/v3"
        self.credentials = credentials
        self.timeout = timeout

    def _call(self, method: str, path: str, *, query: Mapping[str, Any] | None = None,
              body: Mapping[str, Any] | None = None, refusal: str | None = None) -> tuple[int, Any]:
        """``refusal``: the error code with which WooCommerce refuses this call in words even as an HTTP 500
        (a refund it will not create), answered rather than taken for an outage."""
        key, secret = self.credentials()
        auth = base64.b64encode(f"{key}:{secret}".encode()).decode()
        url = self.base + path + (f"?{urllib.parse.urlencode(query)}" if query else "")
        try:
            status, answer, _ = http_json(url, method=method, body=body, headers={"Authorization": f"Basic {auth}"},
                                          timeout=self.timeout, provider="WooCommerce")
        except ProviderError as exc:
            raise CommerceUnavailable(exc.message) from exc
        refused = refusal is not None and isinstance(answer, dict) and answer.get("code") == refusal
        if (status >= 500 and not refused) or status in (401, 403, 429):
            raise CommerceUnavailable(f"WooCommerce answered HTTP {status}: {answer.get('message', '')}".strip(": "))
        return status, answer.get("data") if set(answer) == {"data"} else answer

    def _list(self, path: str, query: Mapping[str, Any]) -> list[dict[str, Any]]:
        status, answer = self._call("GET", path, query=query)
        if status >= 400 or not isinstance(answer, list):
            raise CommerceUnavailable(f"WooCommerce answered HTTP {status} to {path}")
        return answer

    def orders_for(self, identity: Identity, limit: int = 5) -> list[Order]:
        if identity.kind not in ("email", "phone"):
            return []
        found: dict[str, Order] = {}
        if identity.kind == "email":
            for customer in self._list("/customers", {"email": identity.address}):
                for body in self._list("/orders", {"customer": customer["id"], "per_page": limit,
                                                   "orderby": "date", "order": "desc"}):
                    found[str(body["id"])] = self._order(body)
        # guest orders (and phones, which the API cannot filter by): search the billing fields, then check
        for body in self._list("/orders", {"search": identity.address, "per_page": limit, "orderby": "date",
                                           "order": "desc"}):
            order = found.get(str(body["id"])) or self._order(body)
            if (identity.kind == "email" and order.email == identity.address) or \
                    (identity.kind == "phone" and order.phone == identity.address):
                found[order.id] = order
        return sorted(found.values(), key=lambda o: o.created_at, reverse=True)[:limit]

    def order_by_number(self, number: str) -> Order | None:
        order = self.get_order(number)           # in WooCommerce the number is the id, unless a plugin renumbers
        if order is not None and order.number == number:
            return order
        for body in self._list("/orders", {"search": number, "per_page": 10}):
            if str(body.get("number")) == number:
                return self._order(body)
        return None

    def get_order(self, order_id: str) -> Order | None:
        if not order_id.isdigit():
            return None
        status, answer = self._call("GET", f"/orders/{order_id}")
        if status == 404:
            return None
        if status >= 400:
            raise CommerceUnavailable(f"WooCommerce answered HTTP {status}")
        return self._order(answer)

    def _order(self, body: Mapping[str, Any]) -> Order:
        """The order with its refunds' line items (one more request, only for an order that has refunds)."""
        if not body.get("refunds"):
            return order_from_rest(body)
        return order_from_rest(body, self._list(f"/orders/{body['id']}/refunds", {"per_page": 100}))

    def _refused(self, action: str, order: Order, answer: Any) -> CommerceRefused:
        reason = answer.get("message") if isinstance(answer, dict) else None
        reason = reason or "no reason given"
        return CommerceRefused(f"WooCommerce refused to {action} {order.name}: {reason}", [reason])

    def cancel(self, order: Order, *, reason: str, restock: bool, notify_customer: bool,
               staff_note: str | None) -> ActionResult:
        status, answer = self._call("PUT", f"/orders/{order.id}", body={"status": "cancelled"})
        if status >= 400:
            raise self._refused("cancel", order, answer)
        if staff_note:
            self._call("POST", f"/orders/{order.id}/notes", body={"note": staff_note, "customer_note": False})
        return ActionResult(order=self._order(answer), message=f"WooCommerce cancelled {order.name}")

    def refund(self, order: Order, lines: Sequence[RefundLine] | None, *, note: str | None,
               notify_customer: bool, idempotency_key: str | None = None) -> ActionResult:
        # WooCommerce checks only the amount against what is left to refund (``wc_create_refund``), never a
        # line's quantity: shopdesk checks that before asking. It takes no idempotency key.
        by_id = {li.id: li for li in order.line_items if li.id}
        if lines is None:
            amount = Decimal(order.total or "0") - sum((Decimal(r.amount or "0") for r in order.refunds), Decimal("0"))
            body: dict[str, Any] = {"amount": f"{amount:.2f}", "reason": note or "", "api_refund": True}
        else:
            wire, amount = [], Decimal("0")
            for line in lines:
                item = by_id.get(line.line_item_id)
                unit = Decimal(item.price or "0") if item else Decimal("0")
                wire.append({"id": line.line_item_id, "quantity": line.quantity,
                             "refund_total": f"{unit * line.quantity:.2f}"})
                amount += unit * line.quantity
            body = {"amount": f"{amount:.2f}", "reason": note or "", "line_items": wire, "api_refund": True}
        status, answer = self._call("POST", f"/orders/{order.id}/refunds", body=body,
                                    refusal="woocommerce_rest_cannot_create_order_refund")
        if status >= 400:
            raise self._refused("refund", order, answer)
        refunded = str(answer.get("amount", body["amount"]))
        return ActionResult(message=f"Refunded {refunded} {order.currency or ''} on {order.name}".replace("  ", " "),
                            reference=_text(answer.get("id")), amount=refunded, currency=order.currency)
