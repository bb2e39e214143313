"""Commerce sandbox: a shop that answers like Shopify's Admin GraphQL API and WooCommerce's REST API.

* ``/_sandbox/shopify/admin/api/<version>/graphql.json`` - the Admin GraphQL API. The schema subset
  shopdesk uses (``SCHEMA`` below: customerByIdentifier, order, orders, orderCancel, refundCreate,
  suggestedRefund) is built with graphql-core, so real queries are parsed and validated: a field or
  argument Shopify would not know is answered with Shopify-style ``errors``. Every answer carries
  ``extensions.cost`` (requested and actual query cost, ``throttleStatus``) from a leaky bucket
  (1,000 points, 50 restored per second); a query the bucket cannot pay for is answered
  ``THROTTLED``. ``X-Shopify-Access-Token`` must be SHOPIFY_ACCESS_TOKEN, else 401. refundCreate refuses
  more of a line than its ``refundableQuantity``, needs the ``@idempotent(key:)`` directive (as 2026-04 does)
  and answers a repeat of a key with the refund it made then.
* ``/_sandbox/woocommerce/wp-json/wc/v3/...`` - customers (``?email=``), orders (``?customer=``,
  ``?search=``), an order (GET, PUT status), refunds (GET with their line items, POST), notes (POST); HTTP
  Basic auth with WOOCOMMERCE_CONSUMER_KEY / WOOCOMMERCE_CONSUMER_SECRET, WooCommerce's error bodies. Like
  ``wc_create_refund``, a refund is refused only for an amount above what is left ("Invalid refund amount.",
  an HTTP 500), never for a line's quantity.

Both shops are seeded with the same demo customers and orders (``DEMO_CUSTOMERS``, ``DEMO_ORDERS``),
matching the README walkthrough's customers: the one who asks about order #1001 from +14155550101
owns it. ``deliver`` sends a webhook signed like the platform (``POST /_local/commerce/webhooks``);
a cancel or refund through the API also sends the platform's webhook, as the real shops do.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import logging
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from graphql import GraphQLError, build_schema, execute, parse, validate
from graphql.execution.values import get_directive_values
from graphql.language import FieldNode, FragmentSpreadNode, InlineFragmentNode, OperationDefinitionNode, VariableNode

from local.sandbox import Outbox, redacted_headers, timestamp

log = logging.getLogger("sandbox")

SHOP_DOMAIN = "shopdesk-demo.myshopify.com"
BUCKET_SIZE = 1000.0
RESTORE_RATE = 50.0

SCHEMA_SDL = """
directive @idempotent(key: String!) on FIELD
scalar DateTime
scalar Decimal
scalar Money
scalar URL
scalar UnsignedInt64

enum CurrencyCode { USD EUR GBP BRL PLN TRY IDR CZK }
enum OrderDisplayFinancialStatus { AUTHORIZED EXPIRED PAID PARTIALLY_PAID PARTIALLY_REFUNDED PENDING REFUNDED VOIDED }
enum OrderDisplayFulfillmentStatus { FULFILLED IN_PROGRESS ON_HOLD OPEN PARTIALLY_FULFILLED PENDING_FULFILLMENT
  RESTOCKED SCHEDULED UNFULFILLED }
enum FulfillmentStatus { CANCELLED ERROR FAILURE OPEN PENDING SUCCESS }
enum FulfillmentDisplayStatus { ATTEMPTED_DELIVERY CANCELED CONFIRMED DELIVERED FAILURE FULFILLED IN_TRANSIT
  LABEL_PRINTED LABEL_PURCHASED NOT_DELIVERED OUT_FOR_DELIVERY PICKED_UP READY_FOR_PICKUP SUBMITTED }
enum OrderCancelReason { CUSTOMER DECLINED FRAUD INVENTORY OTHER STAFF }
enum OrderCancelUserErrorCode { INVALID NOT_FOUND NO_REFUND_PERMISSION }
enum OrderSortKeys { CREATED_AT ID PROCESSED_AT UPDATED_AT }
enum OrderTransactionKind { AUTHORIZATION CAPTURE CHANGE EMV_AUTHORIZATION REFUND SALE SUGGESTED_REFUND VOID }
enum SuggestedOrderTransactionKind { SUGGESTED_REFUND }
enum RefundLineItemRestockType { CANCEL NO_RESTOCK RETURN }

type MoneyV2 { amount: Decimal! currencyCode: CurrencyCode! }
type MoneyBag { shopMoney: MoneyV2! presentmentMoney: MoneyV2! }
type UserError { field: [String!] message: String! }
type Job { id: ID! done: Boolean! }

type MailingAddress { name: String company: String address1: String address2: String city: String zip: String
  province: String countryCodeV2: String }
type LineItem { id: ID! title: String! quantity: Int! refundableQuantity: Int! sku: String variantTitle: String
  originalUnitPriceSet: MoneyBag! }
type LineItemConnection { nodes: [LineItem!]! }
type FulfillmentTrackingInfo { number: String url: URL company: String }
type Fulfillment { id: ID! status: FulfillmentStatus! displayStatus: FulfillmentDisplayStatus createdAt: DateTime!
  updatedAt: DateTime! trackingInfo(first: Int): [FulfillmentTrackingInfo!]! }
type Refund { id: ID! createdAt: DateTime note: String totalRefundedSet: MoneyBag!
  refundLineItems(first: Int): RefundLineItemConnection! }
type OrderTransaction { id: ID! }
type RefundLineItem { lineItem: LineItem! quantity: Int! }
type RefundLineItemConnection { nodes: [RefundLineItem!]! }
type SuggestedOrderTransaction { amountSet: MoneyBag! gateway: String kind: SuggestedOrderTransactionKind!
  parentTransaction: OrderTransaction }
type SuggestedRefund { amountSet: MoneyBag! refundLineItems: [RefundLineItem!]!
  suggestedTransactions: [SuggestedOrderTransaction!]! }
type Customer { id: ID! firstName: String lastName: String numberOfOrders: UnsignedInt64!
  orders(first: Int, sortKey: OrderSortKeys, reverse: Boolean): OrderConnection! }
type Order { id: ID! legacyResourceId: UnsignedInt64! name: String! createdAt: DateTime! updatedAt: DateTime!
  cancelledAt: DateTime test: Boolean! email: String phone: String
  displayFinancialStatus: OrderDisplayFinancialStatus displayFulfillmentStatus: OrderDisplayFulfillmentStatus!
  totalPriceSet: MoneyBag! customer: Customer lineItems(first: Int): LineItemConnection!
  shippingAddress: MailingAddress fulfillments(first: Int): [Fulfillment!]! refunds(first: Int): [Refund!]!
  suggestedRefund(refundLineItems: [RefundLineItemInput!], refundShipping: Boolean,
                  suggestFullRefund: Boolean = false): SuggestedRefund }
type OrderConnection { nodes: [Order!]! }
type OrderCancelUserError { field: [String!] message: String! code: OrderCancelUserErrorCode }
type OrderCancelPayload { job: Job orderCancelUserErrors: [OrderCancelUserError!]! userErrors: [UserError!]! }
type RefundCreatePayload { refund: Refund order: Order userErrors: [UserError!]! }

input CustomerIdentifierInput { emailAddress: String phoneNumber: String id: ID }
input RefundLineItemInput { lineItemId: ID! quantity: Int! restockType: RefundLineItemRestockType locationId: ID }
input OrderTransactionInput { amount: Money! gateway: String! kind: OrderTransactionKind! orderId: ID! parentId: ID }
input ShippingRefundInput { amount: Money fullRefund: Boolean }
input RefundInput { orderId: ID! note: String notify: Boolean refundLineItems: [RefundLineItemInput!]
  transactions: [OrderTransactionInput!] shipping: ShippingRefundInput }

type Query {
  customerByIdentifier(identifier: CustomerIdentifierInput!): Customer
  order(id: ID!): Order
  orders(first: Int, query: String, sortKey: OrderSortKeys, reverse: Boolean): OrderConnection!
}
type Mutation {
  orderCancel(orderId: ID!, reason: OrderCancelReason!, restock: Boolean!, refund: Boolean!, notifyCustomer: Boolean,
              staffNote: String): OrderCancelPayload
  refundCreate(input: RefundInput!): RefundCreatePayload
}
"""
SCHEMA = build_schema(SCHEMA_SDL)

# The demo shop: customers of the README walkthrough and their orders (neutral shape, money as strings).
DEMO_CUSTOMERS: list[dict[str, Any]] = [
    {"id": 7001, "first_name": "Dana", "last_name": "Rivera", "email": "dana.rivera@example.com",
     "phone": "+14155550101"},
    {"id": 7002, "first_name": "Sam", "last_name": "Lee", "email": "sam.lee@example.com", "phone": "+14155550102"},
    {"id": 7003, "first_name": "Ana", "last_name": "Souza", "email": "ana.souza@example.com",
     "phone": "+14155550103"},
]


def _address(customer: dict[str, Any], street: str, city: str, zip_code: str, province: str) -> dict[str, Any]:
    return {"name": f"{customer['first_name']} {customer['last_name']}", "company": None, "address1": street,
            "address2": None, "city": city, "zip": zip_code, "province": province, "country_code": "US"}


def _line(line_id: int, title: str, quantity: int, price: str, sku: str) -> dict[str, Any]:
    return {"id": line_id, "title": title, "quantity": quantity, "price": price, "sku": sku, "variant_title": None}


DEMO_ORDERS: list[dict[str, Any]] = [
    {"number": 1001, "customer": 7001, "created_at": "2026-11-20T10:00:00Z", "updated_at": "2026-11-22T09:30:00Z",
     "financial": "PAID", "fulfillment": "FULFILLED", "total": "119.00", "currency": "USD",
     "lines": [_line(11001, "Trail running shoes", 1, "99.00", "SHOE-TR-42"), _line(11002, "Wool socks", 2, "10.00",
                                                                                    "SOCK-W-M")],
     "address": ("1 Market St", "San Francisco", "94105", "CA"),
     "fulfillments": [{"id": 31001, "status": "SUCCESS", "display": "IN_TRANSIT", "created_at": "2026-11-22T09:30:00Z",
                       "updated_at": "2026-11-22T09:30:00Z",
                       "tracking": [{"number": "1Z999AA10123456784", "company": "UPS",
                                     "url": "https://www.ups.com/track?tracknum=1Z999AA10123456784"}]}]},
    {"number": 1004, "customer": 7001, "created_at": "2026-12-01T15:00:00Z", "updated_at": "2026-12-01T15:00:00Z",
     "financial": "PAID", "fulfillment": "UNFULFILLED", "total": "45.00", "currency": "USD",
     "lines": [_line(14001, "Running cap", 1, "25.00", "CAP-R"), _line(14002, "Water bottle", 1, "20.00", "BTL-1")],
     "address": ("1 Market St", "San Francisco", "94105", "CA"), "fulfillments": []},
    {"number": 1002, "customer": 7002, "created_at": "2026-11-25T12:00:00Z", "updated_at": "2026-11-27T08:00:00Z",
     "financial": "PAID", "fulfillment": "PARTIALLY_FULFILLED", "total": "80.00", "currency": "USD",
     "lines": [_line(12001, "Rain jacket", 1, "60.00", "JKT-R-M"), _line(12002, "Beanie", 1, "20.00", "BEA-1")],
     "address": ("200 Main St", "Oakland", "94607", "CA"),
     "fulfillments": [{"id": 32001, "status": "SUCCESS", "display": "IN_TRANSIT", "created_at": "2026-11-27T08:00:00Z",
                       "updated_at": "2026-11-27T08:00:00Z",
                       "tracking": [{"number": "1234567890", "company": "DHL Express",
                                     "url": "https://www.dhl.com/en/express/tracking.html?AWB=1234567890"}]}]},
    {"number": 1003, "customer": 7003, "created_at": "2026-11-15T18:00:00Z", "updated_at": "2026-11-18T11:00:00Z",
     "financial": "PAID", "fulfillment": "FULFILLED", "total": "140.00", "currency": "USD",
     "lines": [_line(13001, "Leather shoes", 1, "140.00", "SHOE-L-39")],
     "address": ("9 Ocean Ave", "Santa Cruz", "95060", "CA"),
     "fulfillments": [{"id": 33001, "status": "SUCCESS", "display": "DELIVERED", "created_at": "2026-11-17T10:00:00Z",
                       "updated_at": "2026-11-18T11:00:00Z",
                       "tracking": [{"number": "9400111899223100000000", "company": "USPS",
                                     "url": "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111899223100000000"}
                                    ]}]},
]
SHOPIFY_ORDER_BASE = 5_500_000_000_000     # Shopify order id = base + number (ids are large, as Shopify's are)


def _now_iso(now: Callable[[], datetime]) -> str:
    return now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Shop:
    """One platform's demo shop state: customers and orders in a neutral shape, changed by actions."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self.now = now
        self.lock = threading.RLock()
        self.customers = {c["id"]: copy.deepcopy(c) for c in DEMO_CUSTOMERS}
        self.orders: dict[int, dict[str, Any]] = {}
        for seed in DEMO_ORDERS:
            order = copy.deepcopy(seed)
            customer = self.customers[order["customer"]]
            order["address"] = _address(customer, *order["address"])
            order.update(cancelled_at=None, refunds=[], test=False,
                         transactions=[{"id": 90000 + order["number"], "gateway": "shopify_payments",
                                        "amount": order["total"], "kind": "SALE"}])
            self.orders[order["number"]] = order

    def customer_by(self, *, email: str | None = None, phone: str | None = None) -> dict[str, Any] | None:
        for customer in self.customers.values():
            if (email and customer["email"] == email.lower()) or (phone and customer["phone"] == phone):
                return customer
        return None

    def orders_of(self, customer_id: int) -> list[dict[str, Any]]:
        return sorted((o for o in self.orders.values() if o["customer"] == customer_id),
                      key=lambda o: o["created_at"], reverse=True)

    def refunded(self, order: dict[str, Any]) -> Decimal:
        return sum((Decimal(r["amount"]) for r in order["refunds"]), Decimal("0"))

    @staticmethod
    def refunded_quantity(order: dict[str, Any], line_id: int) -> int:
        return sum(q for r in order["refunds"] for i, q in r.get("lines") or [] if i == line_id)

    def touch(self, order: dict[str, Any]) -> None:
        order["updated_at"] = _now_iso(self.now)

    def cancel(self, order: dict[str, Any]) -> str | None:
        """Cancel like Shopify: refused when cancelled already or fulfilled; else voided/refunded."""
        if order["cancelled_at"]:
            return "Order has already been cancelled."
        if order["fulfillment"] in ("FULFILLED", "PARTIALLY_FULFILLED") or order["fulfillments"]:
            return "Cannot cancel an order that has fulfillments. Cancel the fulfillments first."
        order["cancelled_at"] = _now_iso(self.now)
        remaining = Decimal(order["total"]) - self.refunded(order)
        if remaining > 0:
            order["refunds"].append({"id": 80000 + len(order["refunds"]) + order["number"] * 10,
                                     "created_at": order["cancelled_at"], "amount": f"{remaining:.2f}",
                                     "note": "Order cancelled"})
        order["financial"] = "REFUNDED" if remaining > 0 else "VOIDED"
        self.touch(order)
        return None

    def refund(self, order: dict[str, Any], lines: list[tuple[int, int]] | None, note: str | None,
               amount: Decimal | None = None, *, check_lines: bool = True) -> tuple[dict[str, Any] | None, str | None]:
        """Refund ``amount`` (the money that moves), else the chosen lines' value, else what is left.
        ``check_lines`` (Shopify): a line must exist and have that many left to refund; WooCommerce checks the
        amount alone and skips a line the order lacks."""
        by_id = {li["id"]: li for li in order["lines"]}
        if lines is not None and not check_lines:
            lines = [(i, q) for i, q in lines if i in by_id]
        if lines is not None:
            for line_id, quantity in lines:
                if line_id not in by_id:
                    return None, f"Line item {line_id} does not exist on this order."
                if check_lines and quantity > by_id[line_id]["quantity"] - self.refunded_quantity(order, line_id):
                    return None, "Quantity cannot refund more items than were purchased."
            if amount is None:
                amount = sum((Decimal(by_id[i]["price"]) * q for i, q in lines), Decimal("0"))
        remaining = Decimal(order["total"]) - self.refunded(order)
        amount = remaining if amount is None else amount
        if remaining <= 0 or order["financial"] in ("REFUNDED", "VOIDED"):
            return None, "Order has no refundable amount."
        if amount > remaining:
            return None, f"Refund amount {amount:.2f} exceeds the refundable amount {remaining:.2f}."
        refund = {"id": 80000 + len(order["refunds"]) + order["number"] * 10, "created_at": _now_iso(self.now),
                  "amount": f"{amount:.2f}", "note": note, "lines": [(i, q) for i, q in lines or [] if q > 0]}
        order["refunds"].append(refund)
        order["financial"] = "REFUNDED" if amount == remaining else "PARTIALLY_REFUNDED"
        self.touch(order)
        return refund, None


# ------------------------------------------------------------------------------ Shopify renderings

def _money(amount: str, currency: str) -> dict[str, Any]:
    money = {"amount": amount, "currencyCode": currency}
    return {"shopMoney": money, "presentmentMoney": money}


def _first(items: list[Any], first: int | None) -> list[Any]:
    return items[:first] if first is not None else items


def _connection(nodes: list[Any]) -> Callable[..., dict[str, Any]]:
    """A connection field's resolver: its ``first`` nodes."""
    return lambda info, first=None: {"nodes": _first(nodes, first)}


def shopify_id(number: int) -> int:
    return SHOPIFY_ORDER_BASE + number


def _gql_order(shop: Shop, order: dict[str, Any]) -> dict[str, Any]:
    currency = order["currency"]
    customer = shop.customers.get(order["customer"])
    lines = [{"id": f"gid://shopify/LineItem/{li['id']}", "title": li["title"], "quantity": li["quantity"],
              "refundableQuantity": li["quantity"] - shop.refunded_quantity(order, li["id"]),
              "sku": li["sku"], "variantTitle": li["variant_title"],
              "originalUnitPriceSet": _money(li["price"], currency)} for li in order["lines"]]
    by_line = {li["id"]: x for li, x in zip(order["lines"], lines, strict=True)}
    fulfillments = [{"id": f"gid://shopify/Fulfillment/{f['id']}", "status": f["status"],
                     "displayStatus": f.get("display"), "createdAt": f["created_at"], "updatedAt": f["updated_at"],
                     "trackingInfo": (lambda info, first=None, t=f["tracking"]: _first(t, first))}
                    for f in order["fulfillments"]]
    refunds = [{"id": f"gid://shopify/Refund/{r['id']}", "createdAt": r["created_at"], "note": r["note"],
                "totalRefundedSet": _money(r["amount"], currency),
                "refundLineItems": _connection([{"lineItem": by_line[i], "quantity": q}
                                                for i, q in r.get("lines") or [] if i in by_line])}
               for r in order["refunds"]]
    address = order["address"]

    def suggested(info: Any, refundLineItems: list[dict[str, Any]] | None = None,
                  refundShipping: bool | None = None, suggestFullRefund: bool = False) -> dict[str, Any]:
        # As Shopify suggests: the lines given (every line still refundable, with suggestFullRefund) and, with
        # refundShipping, the shipping not refunded yet (what is left beyond the refundable lines' worth).
        by_id = {li["id"]: li for li in order["lines"]}
        left = {li["id"]: li["quantity"] - shop.refunded_quantity(order, li["id"]) for li in order["lines"]}
        chosen = [(int(str(x["lineItemId"]).rsplit("/", 1)[-1]), int(x["quantity"])) for x in refundLineItems or []]
        if suggestFullRefund:
            chosen = [(i, q) for i, q in left.items() if q > 0]
        amount = sum((Decimal(by_id[i]["price"]) * q for i, q in chosen if i in by_id), Decimal("0"))
        remaining = Decimal(order["total"]) - shop.refunded(order)
        if refundShipping:
            items_left = sum((Decimal(by_id[i]["price"]) * q for i, q in left.items()), Decimal("0"))
            amount += max(Decimal("0"), remaining - items_left)
        amount = min(amount, remaining)
        sale = order["transactions"][0]
        return {"amountSet": _money(f"{amount:.2f}", currency),
                "refundLineItems": [{"lineItem": next(x for x in lines if x["id"].endswith(f"/{i}")), "quantity": q}
                                    for i, q in chosen if i in by_id],
                "suggestedTransactions": [{"amountSet": _money(f"{amount:.2f}", currency), "gateway": sale["gateway"],
                                           "kind": "SUGGESTED_REFUND",
                                           "parentTransaction": {"id": f"gid://shopify/OrderTransaction/{sale['id']}"}}]
                if amount > 0 else []}

    return {
        "id": f"gid://shopify/Order/{shopify_id(order['number'])}",
        "legacyResourceId": str(shopify_id(order["number"])),
        "name": f"#{order['number']}", "createdAt": order["created_at"], "updatedAt": order["updated_at"],
        "cancelledAt": order["cancelled_at"], "test": order["test"],
        "email": customer["email"] if customer else None, "phone": customer["phone"] if customer else None,
        "displayFinancialStatus": order["financial"], "displayFulfillmentStatus": order["fulfillment"],
        "totalPriceSet": _money(order["total"], currency),
        "customer": _gql_customer(shop, customer) if customer else None,
        "lineItems": lambda info, first=None: {"nodes": _first(lines, first)},
        "shippingAddress": {"name": address["name"], "company": address["company"], "address1": address["address1"],
                            "address2": address["address2"], "city": address["city"], "zip": address["zip"],
                            "province": address["province"], "countryCodeV2": address["country_code"]},
        "fulfillments": lambda info, first=None: _first(fulfillments, first),
        "refunds": lambda info, first=None: _first(refunds, first),
        "suggestedRefund": suggested,
    }


def _gql_customer(shop: Shop, customer: dict[str, Any]) -> dict[str, Any]:
    def orders(info: Any, first: int | None = None, sortKey: str | None = None,
               reverse: bool | None = None) -> dict[str, Any]:
        found = shop.orders_of(customer["id"])          # newest first
        if not reverse:
            found = list(reversed(found))
        return {"nodes": [_gql_order(shop, o) for o in _first(found, first)]}

    return {"id": f"gid://shopify/Customer/{customer['id']}", "firstName": customer["first_name"],
            "lastName": customer["last_name"], "numberOfOrders": str(len(shop.orders_of(customer["id"]))),
            "orders": orders}


def shopify_rest_order(shop: Shop, order: dict[str, Any]) -> dict[str, Any]:
    """The order as Shopify's order webhooks carry it (the REST resource)."""
    customer = shop.customers.get(order["customer"]) or {}
    rest_fulfillment = {"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial"}.get(order["fulfillment"])
    oid = shopify_id(order["number"])
    return {
        "id": oid, "admin_graphql_api_id": f"gid://shopify/Order/{oid}", "name": f"#{order['number']}",
        "order_number": order["number"], "created_at": order["created_at"], "updated_at": order["updated_at"],
        "cancelled_at": order["cancelled_at"], "financial_status": order["financial"].lower(),
        "fulfillment_status": rest_fulfillment, "total_price": order["total"], "current_total_price": order["total"],
        "currency": order["currency"], "email": customer.get("email"), "phone": customer.get("phone"),
        "test": order["test"],
        "customer": {"id": customer.get("id"), "email": customer.get("email"), "phone": customer.get("phone"),
                     "first_name": customer.get("first_name"), "last_name": customer.get("last_name")},
        "line_items": [{"id": li["id"], "title": li["title"], "name": li["title"], "quantity": li["quantity"],
                        "price": li["price"], "sku": li["sku"], "variant_title": li["variant_title"]}
                       for li in order["lines"]],
        "shipping_address": order["address"],
        "fulfillments": [shopify_rest_fulfillment(order, f) for f in order["fulfillments"]],
        "refunds": [{"id": r["id"], "order_id": oid, "created_at": r["created_at"], "note": r["note"],
                     "transactions": [{"amount": r["amount"], "kind": "refund", "status": "success"}],
                     "refund_line_items": [{"id": r["id"] * 100 + n, "line_item_id": i, "quantity": q,
                                            "restock_type": "no_restock"}
                                           for n, (i, q) in enumerate(r.get("lines") or [])]}
                    for r in order["refunds"]],
    }


def shopify_rest_fulfillment(order: dict[str, Any], fulfillment: dict[str, Any]) -> dict[str, Any]:
    tracking = fulfillment["tracking"]
    return {"id": fulfillment["id"], "order_id": shopify_id(order["number"]), "status": fulfillment["status"].lower(),
            "created_at": fulfillment["created_at"], "updated_at": fulfillment["updated_at"],
            "name": f"#{order['number']}.{order['fulfillments'].index(fulfillment) + 1}",
            "shipment_status": (fulfillment.get("display") or "").lower() or None,
            "tracking_company": tracking[0]["company"] if tracking else None,
            "tracking_number": tracking[0]["number"] if tracking else None,
            "tracking_numbers": [t["number"] for t in tracking],
            "tracking_url": tracking[0]["url"] if tracking else None, "tracking_urls": [t["url"] for t in tracking]}


def shopify_wire(payload: Any) -> bytes:
    """One line, '/' escaped as '\\/' and non-ASCII kept raw: how Shopify's deliveries look."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).replace("/", "\\/").encode()


def woocommerce_wire(payload: Any) -> bytes:
    """wp_json_encode: compact, '/' escaped, non-ASCII as \\uXXXX."""
    return json.dumps(payload, separators=(",", ":")).replace("/", "\\/").encode()


# ------------------------------------------------------------------------------ WooCommerce renderings

_WC_STATUS = {("PAID", "FULFILLED"): "completed", ("PAID", "UNFULFILLED"): "processing",
              ("PAID", "PARTIALLY_FULFILLED"): "processing", ("PARTIALLY_REFUNDED", "FULFILLED"): "completed",
              ("PARTIALLY_REFUNDED", "UNFULFILLED"): "processing", ("PENDING", "UNFULFILLED"): "pending"}


def woocommerce_order(shop: Shop, order: dict[str, Any]) -> dict[str, Any]:
    customer = shop.customers.get(order["customer"]) or {}
    if order["cancelled_at"]:
        status = "cancelled"
    elif order["financial"] == "REFUNDED":
        status = "refunded"
    else:
        status = _WC_STATUS.get((order["financial"], order["fulfillment"]), "processing")
    address = order["address"]
    first, _, last = address["name"].partition(" ")
    tracking = [{"tracking_provider": t["company"], "tracking_number": t["number"], "custom_tracking_link": t["url"]}
                for f in order["fulfillments"] for t in f["tracking"]]
    return {
        "id": order["number"], "number": str(order["number"]), "status": status, "currency": order["currency"],
        "date_created": order["created_at"].rstrip("Z"), "date_created_gmt": order["created_at"].rstrip("Z"),
        "date_modified": order["updated_at"].rstrip("Z"), "date_modified_gmt": order["updated_at"].rstrip("Z"),
        "total": order["total"], "customer_id": customer.get("id", 0),
        "billing": {"first_name": customer.get("first_name", ""), "last_name": customer.get("last_name", ""),
                    "email": customer.get("email", ""), "phone": customer.get("phone", "")},
        "shipping": {"first_name": first, "last_name": last, "company": "", "address_1": address["address1"],
                     "address_2": "", "city": address["city"], "state": address["province"],
                     "postcode": address["zip"], "country": address["country_code"]},
        "line_items": [{"id": li["id"], "name": li["title"], "quantity": li["quantity"], "sku": li["sku"],
                        "price": float(li["price"]), "total": f"{Decimal(li['price']) * li['quantity']:.2f}"}
                       for li in order["lines"]],
        "refunds": [{"id": r["id"], "reason": r["note"] or "", "total": f"-{r['amount']}"} for r in order["refunds"]],
        "meta_data": [{"id": 1, "key": "_wc_shipment_tracking_items", "value": tracking}] if tracking else [],
    }


def woocommerce_refunds(order: dict[str, Any]) -> list[dict[str, Any]]:
    """``GET /orders/{id}/refunds``: newest first; a refund's line items carry a negative quantity and the
    order's line item in the ``_refunded_item_id`` meta."""
    by_id = {li["id"]: li for li in order["lines"]}
    return [{"id": r["id"], "date_created": r["created_at"].rstrip("Z"),
             "date_created_gmt": r["created_at"].rstrip("Z"),
             "amount": r["amount"], "reason": r["note"] or "", "refunded_by": 1, "refunded_payment": True,
             "meta_data": [],
             "line_items": [{"id": r["id"] * 100 + n, "name": by_id[i]["title"], "quantity": -q,
                             "sku": by_id[i]["sku"], "price": -float(by_id[i]["price"]),
                             "total": f"-{Decimal(by_id[i]['price']) * q:.2f}", "subtotal":
                             f"-{Decimal(by_id[i]['price']) * q:.2f}",
                             "meta_data": [{"id": r["id"] * 100 + n, "key": "_refunded_item_id", "value": str(i),
                                            "display_key": "_refunded_item_id", "display_value": str(i)}]}
                            for n, (i, q) in enumerate(r.get("lines") or [])]}
            for r in reversed(order["refunds"])]


def woocommerce_customer(customer: dict[str, Any]) -> dict[str, Any]:
    return {"id": customer["id"], "email": customer["email"], "first_name": customer["first_name"],
            "last_name": customer["last_name"], "date_created_gmt": "2026-01-01T00:00:00",
            "date_modified_gmt": "2026-01-01T00:00:00",
            "billing": {"email": customer["email"], "phone": customer["phone"]}}


# ------------------------------------------------------------------------------ query cost

def _field_cost(node: Any, fragments: dict[str, Any], variables: dict[str, Any]) -> float:
    """Shopify's rule of thumb: each object or connection field costs 1, a connection's children times ``first``."""
    total = 0.0
    for selection in getattr(getattr(node, "selection_set", None), "selections", []) or []:
        if isinstance(selection, FragmentSpreadNode):
            total += _field_cost(fragments[selection.name.value], fragments, variables)
        elif isinstance(selection, InlineFragmentNode):
            total += _field_cost(selection, fragments, variables)
        elif isinstance(selection, FieldNode) and selection.selection_set is not None:
            first = next((a.value for a in selection.arguments or [] if a.name.value == "first"), None)
            if isinstance(first, VariableNode):
                times = float(variables.get(first.name.value) or 1)
            else:
                times = float(getattr(first, "value", None) or 1)
            total += 1 + times * _field_cost(selection, fragments, variables)
    return total


def _actual_cost(node: Any, fragments: dict[str, Any], data: Any) -> float:
    """What a query cost for what it returned, as Shopify counts it after running it: each object or connection
    field returned 1, a connection's children once per node returned (Shopify refunds the rest of the requested
    cost to the bucket)."""
    total = 0.0
    for selection in getattr(getattr(node, "selection_set", None), "selections", []) or []:
        if isinstance(selection, FragmentSpreadNode):
            total += _actual_cost(fragments[selection.name.value], fragments, data)
        elif isinstance(selection, InlineFragmentNode):
            total += _actual_cost(selection, fragments, data)
        elif isinstance(selection, FieldNode) and selection.selection_set is not None:
            key = selection.alias.value if selection.alias else selection.name.value
            value = data.get(key) if isinstance(data, dict) else None
            if value is None:
                continue
            total += 1 + sum(_actual_cost(selection, fragments, item)
                             for item in (value if isinstance(value, list) else [value]))
    return total


class ShopifySandbox:
    def __init__(self, access_token: str, outbox: Outbox, now: Callable[[], datetime],
                 notify: Callable[[str, Any], None] | None = None) -> None:
        self.access_token = access_token
        self.outbox = outbox
        self.shop = Shop(now)
        self.now = now
        self.notify = notify                       # sends the platform's own webhooks after actions
        self.refusals: list[str] = []          # the next mutations refuse with these messages (tests)
        self.idempotent: dict[str, tuple[str, dict[str, Any]]] = {}     # refundCreate's key: its input, answer
        self.bucket_size = BUCKET_SIZE
        self.restore_rate = RESTORE_RATE
        self._available = BUCKET_SIZE
        self._at = time.monotonic()
        self._lock = threading.Lock()

    def set_bucket(self, size: float, restore_rate: float) -> None:
        with self._lock:
            self.bucket_size, self.restore_rate, self._available, self._at = size, restore_rate, size, time.monotonic()

    def _take(self, cost: float) -> tuple[bool, dict[str, Any]]:
        with self._lock:
            now = time.monotonic()
            self._available = min(self.bucket_size, self._available + (now - self._at) * self.restore_rate)
            self._at = now
            ok = cost <= self._available
            if ok:
                self._available -= cost
            status = {"maximumAvailable": self.bucket_size, "currentlyAvailable": int(self._available),
                      "restoreRate": self.restore_rate}
            return ok, status

    def _refund(self, points: float) -> dict[str, Any]:
        """Give back what a query was charged beyond its actual cost; the bucket as it is then."""
        with self._lock:
            self._available = min(self.bucket_size, self._available + max(0.0, points))
            return {"maximumAvailable": self.bucket_size, "currentlyAvailable": int(self._available),
                    "restoreRate": self.restore_rate}

    def handle(self, method: str, path: str, query: str, url: str, headers: dict[str, str],
               body: bytes) -> tuple[int, dict[str, str], bytes]:
        status, answer = self._answer(method, path, headers, body)
        self.outbox.add({"provider": "shopify", "method": method, "url": url,
                         "headers": {k: ("[redacted]" if k.lower() == "x-shopify-access-token" else v)
                                     for k, v in redacted_headers(headers).items()},
                         "body": body.decode("utf-8", errors="replace"), "response": {"status": status, "body": answer},
                         "received_at": timestamp(self.now())})
        return status, {"Content-Type": "application/json"}, json.dumps(answer).encode()

    def _answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        if not re.fullmatch(r"/admin/api/\d{4}-\d{2}/graphql\.json", path):
            return 404, {"errors": "Not Found"}
        if method != "POST":
            return 405, {"errors": "Method Not Allowed"}
        token = next((v for k, v in headers.items() if k.lower() == "x-shopify-access-token"), "")
        if not hmac.compare_digest(token.encode(), self.access_token.encode()):
            return 401, {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
        try:
            request = json.loads(body or b"{}")
            document = parse(request["query"])
        except (ValueError, KeyError, TypeError, GraphQLError) as error:
            return 400, {"errors": [{"message": f"Parse error: {error}"}]}
        problems = validate(SCHEMA, document)
        if problems:
            return 200, {"errors": [p.formatted for p in problems]}
        fragments = {d.name.value: d for d in document.definitions if not isinstance(d, OperationDefinitionNode)}
        operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
        variables = request.get("variables") or {}
        mutation = 9 if operation.operation.value == "mutation" else 0
        cost = max(1.0, _field_cost(operation, fragments, variables) + mutation)
        ok, throttle = self._take(cost)
        if not ok:
            return 200, {"errors": [{"message": "Throttled", "extensions": {
                "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
                "extensions": {"cost": {"requestedQueryCost": cost, "actualQueryCost": None,
                                        "throttleStatus": throttle}}}
        with self.shop.lock:
            result = execute(SCHEMA, document, root_value=self._root(), variable_values=request.get("variables") or {})
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [e.formatted for e in result.errors]
        actual = min(cost, max(1.0, _actual_cost(operation, fragments, result.data or {}) + mutation))
        throttle = self._refund(cost - actual)
        answer["extensions"] = {
            "cost": {"requestedQueryCost": cost, "actualQueryCost": actual, "throttleStatus": throttle}}
        return 200, answer

    def _order_by_gid(self, gid: str) -> dict[str, Any] | None:
        legacy = str(gid).rsplit("/", 1)[-1]
        if not legacy.isdigit():
            return None
        return self.shop.orders.get(int(legacy) - SHOPIFY_ORDER_BASE)

    def _root(self) -> dict[str, Any]:
        shop = self.shop

        def customer_by_identifier(info: Any, identifier: dict[str, Any]) -> dict[str, Any] | None:
            found = shop.customer_by(email=identifier.get("emailAddress"), phone=identifier.get("phoneNumber"))
            return _gql_customer(shop, found) if found else None

        def order(info: Any, id: str) -> dict[str, Any] | None:
            found = self._order_by_gid(id)
            return _gql_order(shop, found) if found else None

        def orders(info: Any, first: int | None = None, query: str | None = None, sortKey: str | None = None,
                   reverse: bool | None = None) -> dict[str, Any]:
            chosen = sorted(shop.orders.values(), key=lambda o: o["created_at"], reverse=bool(reverse))
            match = re.search(r"name:#?(\d+)", query or "")
            if match:
                chosen = [o for o in chosen if str(o["number"]) == match.group(1)]
            email = re.search(r"email:(\S+)", query or "")
            if email:
                chosen = [o for o in chosen if shop.customers[o["customer"]]["email"] == email.group(1).lower()]
            return {"nodes": [_gql_order(shop, o) for o in _first(chosen, first)]}

        def order_cancel(info: Any, orderId: str, reason: str, restock: bool, refund: bool,
                         notifyCustomer: bool | None = None, staffNote: str | None = None) -> dict[str, Any]:
            found = self._order_by_gid(orderId)
            if found is None:
                return {"job": None, "userErrors": [], "orderCancelUserErrors": [
                    {"field": ["orderId"], "message": "Order does not exist", "code": "NOT_FOUND"}]}
            refusal = self.refusals.pop(0) if self.refusals else shop.cancel(found)
            if refusal:
                return {"job": None, "userErrors": [], "orderCancelUserErrors": [
                    {"field": ["orderId"], "message": refusal, "code": "INVALID"}]}
            self._notify("orders/cancelled", shopify_rest_order(shop, found))
            return {"job": {"id": f"gid://shopify/Job/{uuid.uuid4()}", "done": True}, "orderCancelUserErrors": [],
                    "userErrors": []}

        def refund_create(info: Any, input: dict[str, Any]) -> dict[str, Any]:
            # 2026-04: refundCreate needs @idempotent(key:); a repeat of a key with the same input answers the
            # refund made then, with other input it is refused (IDEMPOTENCY_KEY_PARAMETER_MISMATCH)
            directive = SCHEMA.get_directive("idempotent")
            assert directive is not None
            key = (get_directive_values(directive, info.field_nodes[0], info.variable_values) or {}).get("key")
            if not key:
                raise GraphQLError("The refundCreate mutation requires an idempotency key: add the "
                                   "@idempotent(key:) directive.", extensions={"code": "BAD_REQUEST"})
            seen = self.idempotent.get(key)
            if seen is not None:
                if seen[0] != json.dumps(input, sort_keys=True, default=str):
                    return {"refund": None, "order": None, "userErrors": [
                        {"field": None, "message": "The same idempotency key cannot be used with different "
                                                   "operation parameters."}]}
                return seen[1]
            answer = create(input)
            if answer["refund"] is not None:
                self.idempotent[key] = (json.dumps(input, sort_keys=True, default=str), answer)
            return answer

        def create(input: dict[str, Any]) -> dict[str, Any]:
            found = self._order_by_gid(input["orderId"])
            if found is None:
                return {"refund": None, "order": None, "userErrors": [{"field": ["orderId"],
                                                                        "message": "Order does not exist"}]}
            lines = [(int(str(x["lineItemId"]).rsplit("/", 1)[-1]), int(x["quantity"]))
                     for x in input.get("refundLineItems") or []]
            transactions = input.get("transactions") or []
            amount = sum((Decimal(str(t["amount"])) for t in transactions), Decimal("0")) if transactions else None
            if not transactions:
                return {"refund": None, "order": None, "userErrors": [
                    {"field": ["transactions"], "message": "A refund needs a transaction to return money."}]}
            if self.refusals:
                return {"refund": None, "order": None, "userErrors": [{"field": None, "message": self.refusals.pop(0)}]}
            refund, refusal = shop.refund(found, lines or None, input.get("note"), amount)
            if refusal or refund is None:
                return {"refund": None, "order": None, "userErrors": [{"field": ["refundLineItems"],
                                                                        "message": refusal}]}
            rest = shopify_rest_order(shop, found)
            self._notify("refunds/create", next(r for r in rest["refunds"] if r["id"] == refund["id"]))
            self._notify("orders/updated", rest)
            return {"refund": {"id": f"gid://shopify/Refund/{refund['id']}", "createdAt": refund["created_at"],
                               "note": refund["note"], "totalRefundedSet": _money(refund["amount"], found["currency"])},
                    "order": _gql_order(shop, found), "userErrors": []}

        return {"customerByIdentifier": customer_by_identifier, "order": order, "orders": orders,
                "orderCancel": order_cancel, "refundCreate": refund_create}

    def _notify(self, topic: str, payload: Any) -> None:
        if self.notify is not None:
            self.notify(topic, payload)


class WooCommerceSandbox:
    def __init__(self, consumer_key: str, consumer_secret: str, outbox: Outbox, now: Callable[[], datetime],
                 notify: Callable[[str, Any], None] | None = None) -> None:
        self.expected = "Basic " + base64.b64encode(f"{consumer_key}:{consumer_secret}".encode()).decode()
        self.outbox = outbox
        self.shop = Shop(now)
        self.now = now
        self.notify = notify

    def handle(self, method: str, path: str, query: str, url: str, headers: dict[str, str],
               body: bytes) -> tuple[int, dict[str, str], bytes]:
        status, answer = self._answer(method, path, dict(urllib.parse.parse_qsl(query)), headers, body)
        self.outbox.add({"provider": "woocommerce", "method": method, "url": url, "headers": redacted_headers(headers),
                         "body": body.decode("utf-8", errors="replace"), "response": {"status": status, "body": answer},
                         "received_at": timestamp(self.now())})
        return status, {"Content-Type": "application/json"}, json.dumps(answer).encode()

    @staticmethod
    def _error(status: int, code: str, message: str) -> tuple[int, dict[str, Any]]:
        return status, {"code": code, "message": message, "data": {"status": status}}

    def _answer(self, method: str, path: str, params: dict[str, str], headers: dict[str, str],
                body: bytes) -> tuple[int, Any]:
        auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        if not hmac.compare_digest(auth.encode(), self.expected.encode()):
            return self._error(401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        route = path.removeprefix("/wp-json/wc/v3")
        shop = self.shop
        with shop.lock:
            if route == "/customers" and method == "GET":
                email = params.get("email", "").lower()
                return 200, [woocommerce_customer(c) for c in shop.customers.values()
                             if not email or c["email"] == email]
            if route == "/orders" and method == "GET":
                chosen = sorted(shop.orders.values(), key=lambda o: o["created_at"],
                                reverse=params.get("order") != "asc")
                if params.get("customer"):
                    chosen = [o for o in chosen if str(o["customer"]) == params["customer"]]
                rendered = [woocommerce_order(shop, o) for o in chosen]
                if params.get("search"):
                    needle = params["search"].lower()
                    rendered = [o for o in rendered if needle in json.dumps(o).lower()]
                return 200, rendered[:int(params.get("per_page") or 10)]
            found = re.fullmatch(r"/orders/(\d+)(/refunds|/notes)?", route)
            if not found:
                return self._error(404, "rest_no_route", "No route was found matching the URL and request method.")
            order = shop.orders.get(int(found.group(1)))
            if order is None:
                return self._error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
            document = json.loads(body) if body else {}
            if found.group(2) is None and method == "GET":
                return 200, woocommerce_order(shop, order)
            if found.group(2) is None and method == "PUT":
                if document.get("status") == "cancelled":
                    if order["cancelled_at"]:
                        return 200, woocommerce_order(shop, order)
                    order["cancelled_at"] = _now_iso(self.now)
                shop.touch(order)
                rendered = woocommerce_order(shop, order)
                self._notify("order.updated", rendered)
                return 200, rendered
            if found.group(2) == "/notes" and method == "POST":
                return 201, {"id": int(time.time()), "note": document.get("note", "")}
            if found.group(2) == "/refunds" and method == "GET":
                return 200, woocommerce_refunds(order)
            if found.group(2) == "/refunds" and method == "POST":
                lines = [(int(x["id"]), int(x.get("quantity") or 0)) for x in document.get("line_items") or []]
                refund, refusal = shop.refund(order, lines or None, document.get("reason"),
                                              Decimal(str(document["amount"])) if document.get("amount") else None,
                                              check_lines=False)
                if refusal or refund is None:
                    # wc_create_refund's one refusal of a refund too large, which the REST route answers as a 500
                    return self._error(500, "woocommerce_rest_cannot_create_order_refund", "Invalid refund amount.")
                self._notify("order.updated", woocommerce_order(shop, order))
                return 201, {"id": refund["id"], "amount": refund["amount"], "reason": refund["note"] or ""}
        return self._error(404, "rest_no_route", "No route was found matching the URL and request method.")

    def _notify(self, topic: str, payload: Any) -> None:
        if self.notify is not None:
            self.notify(topic, payload)


# ------------------------------------------------------------------------------ signed webhooks

class WebhookSender:
    """Posts webhooks signed as each platform signs them, to the stack's public webhook URL."""

    def __init__(self, webhook_base_url: str, shopify_secret: str, woocommerce_secret: str,
                 now: Callable[[], datetime]) -> None:
        self.webhook_base_url = webhook_base_url.rstrip("/")
        self.shopify_secret = shopify_secret
        self.woocommerce_secret = woocommerce_secret
        self.now = now

    def shopify(self, topic: str, payload: Any, *, webhook_id: str | None = None,
                raw: bytes | None = None) -> dict[str, Any]:
        body = raw if raw is not None else shopify_wire(payload)
        signature = base64.b64encode(hmac.new(self.shopify_secret.encode(), body, hashlib.sha256).digest()).decode()
        headers = {"Content-Type": "application/json", "X-Shopify-Topic": topic, "X-Shopify-Hmac-Sha256": signature,
                   "X-Shopify-Shop-Domain": SHOP_DOMAIN, "X-Shopify-API-Version": "2026-04",
                   "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()), "X-Shopify-Event-Id": str(uuid.uuid4()),
                   "X-Shopify-Triggered-At": self.now().astimezone(UTC).isoformat().replace("+00:00", "Z"),
                   "User-Agent": "Shopify-Captain-Hook"}
        return self._post(f"{self.webhook_base_url}/webhooks/shopify", body, headers)

    def woocommerce(self, topic: str, payload: Any, *, delivery_id: str | None = None,
                    raw: bytes | None = None) -> dict[str, Any]:
        body = raw if raw is not None else woocommerce_wire(payload)
        signature = base64.b64encode(hmac.new(self.woocommerce_secret.encode(), body, hashlib.sha256).digest()).decode()
        resource, _, event = topic.partition(".")
        headers = {"Content-Type": "application/json", "X-WC-Webhook-Source": "https://shop.example/",
                   "X-WC-Webhook-Topic": topic, "X-WC-Webhook-Resource": resource, "X-WC-Webhook-Event": event,
                   "X-WC-Webhook-Signature": signature, "X-WC-Webhook-ID": "1",
                   "X-WC-Webhook-Delivery-ID": delivery_id or uuid.uuid4().hex,
                   "User-Agent": "WooCommerce/9.8.1 Hookshot (WordPress/6.8.1)"}
        return self._post(f"{self.webhook_base_url}/webhooks/woocommerce", body, headers)

    @staticmethod
    def _post(url: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # the stack's own webhook URL
                status, text = answer.status, answer.read().decode("utf-8", errors="replace")
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode("utf-8", errors="replace")
        except OSError as error:
            status, text = 0, str(error)
        log.info("commerce webhook %s -> %s %s", headers.get("X-Shopify-Topic") or headers.get("X-WC-Webhook-Topic"),
                 url, status)
        try:
            answer_body: Any = json.loads(text)
        except ValueError:
            answer_body = text
        return {"url": url, "status": status, "answer": answer_body,
                "headers": {k: v for k, v in headers.items() if k.lower().startswith("x-")}}


class CommerceSandboxes:
    """Both shops, the webhook sender, and ``POST /_local/commerce/webhooks``."""

    def __init__(self, settings: dict[str, str], webhook_base_url: str, outbox: Outbox,
                 now: Callable[[], datetime]) -> None:
        self.sender = WebhookSender(webhook_base_url, settings.get("shopify_client_secret", ""),
                                    settings.get("woocommerce_webhook_secret", ""), now)
        self.shopify = ShopifySandbox(settings.get("shopify_access_token", ""), outbox, now,
                                      notify=lambda topic, payload: self._background(self.sender.shopify, topic,
                                                                                     payload))
        self.woocommerce = WooCommerceSandbox(settings.get("woocommerce_consumer_key", ""),
                                              settings.get("woocommerce_consumer_secret", ""), outbox, now,
                                              notify=lambda topic, payload: self._background(self.sender.woocommerce,
                                                                                             topic, payload))

    @staticmethod
    def _background(send: Callable[..., Any], topic: str, payload: Any) -> None:
        threading.Thread(target=send, args=(topic, payload), daemon=True, name=f"webhook {topic}").start()

    def deliver(self, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """``{"platform": "shopify", "topic": "orders/updated", "payload": {...}}``, or ``"order": "1001"`` for the
        demo order as the platform would send it, optionally with ``"fulfillment": {"tracking_number",
        "tracking_company", "tracking_url"}`` (added to that order first, as if the shop shipped it);
        ``"webhook_id"`` / ``"delivery_id"`` to repeat a delivery."""
        platform = request.get("platform", "shopify")
        topic = request.get("topic")
        if platform not in ("shopify", "woocommerce") or not isinstance(topic, str) or not topic:
            return 400, {"message": "give platform (shopify or woocommerce) and topic"}
        payload = request.get("payload")
        follow_up: Any = None
        if payload is None:
            number = str(request.get("order", ""))
            shop = self.shopify.shop if platform == "shopify" else self.woocommerce.shop
            with shop.lock:
                order = shop.orders.get(int(number)) if number.isdigit() else None
                if order is None:
                    return 404, {"message": f"no demo order {number!r}; give payload or one of "
                                            f"{sorted(shop.orders)}"}
                shipped = request.get("fulfillment")
                if isinstance(shipped, dict):
                    fulfillment = self._ship(shop, order, shipped)
                    if platform == "shopify" and topic.startswith("fulfillments/"):
                        payload = shopify_rest_fulfillment(order, fulfillment)
                        # Shopify follows a shipment with the order's own update (its fulfilment status)
                        follow_up = shopify_rest_order(shop, order)
                if payload is None:
                    render = shopify_rest_order if platform == "shopify" else woocommerce_order
                    payload = render(shop, order)
        if platform == "shopify":
            answer = self.sender.shopify(topic, payload, webhook_id=request.get("webhook_id"))
            if follow_up is not None:
                self._background(self.sender.shopify, "orders/updated", follow_up)
            return 200, answer
        return 200, self.sender.woocommerce(topic, payload, delivery_id=request.get("delivery_id"))

    @staticmethod
    def _ship(shop: Shop, order: dict[str, Any], shipped: dict[str, Any]) -> dict[str, Any]:
        at = _now_iso(shop.now)
        fulfillment = {"id": 39000 + order["number"] * 10 + len(order["fulfillments"]), "status": "SUCCESS",
                       "display": "IN_TRANSIT", "created_at": at, "updated_at": at,
                       "tracking": [{"number": str(shipped.get("tracking_number") or ""),
                                     "company": shipped.get("tracking_company"), "url": shipped.get("tracking_url")}]}
        order["fulfillments"].append(fulfillment)
        order["fulfillment"] = "FULFILLED"
        shop.touch(order)
        return fulfillment
