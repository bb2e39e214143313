"""Orders as shopdesk shows them, whichever platform they come from (Shopify, WooCommerce).

Ids are strings: Shopify's exceed 2^53 and must never pass through a float. Money amounts are decimal
strings, as both platforms send them. Statuses use Shopify's GraphQL names, lower-cased
(``paid``, ``partially_refunded``, ``unfulfilled``, ``partially_fulfilled``...); WooCommerce's are mapped
onto them and its own status is kept in ``platform_status``.
"""

from __future__ import annotations

import hashlib
import json
import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, field_validator

from shopdesk.clock import Instant
from shopdesk.phone import shop_phone
from shopdesk.web import is_web_address

Platform = Literal["shopify", "woocommerce"]
Amount = Annotated[str, Field(pattern=r"^-?[0-9]+(\.[0-9]+)?$")]
_DIGITS = re.compile(r"[1-9][0-9]{0,19}")
_ID_LIMIT = 2**64      # WooCommerce's ids are unsigned 64-bit, Shopify's signed


def platform_id(value: Any) -> str:
    """A platform's id as a webhook's body carries it, as the string it is stored under: a positive integer
    below 2^64 (both platforms send a JSON integer; a string of its digits is taken too). Anything else (null,
    a fraction, 1e400, a word, true) is a ValueError naming what came."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        number = int(value)
    else:
        number = 0
    if not 0 < number < _ID_LIMIT:
        shown = str(value) if isinstance(value, Decimal) else json.dumps(value, default=str)
        raise ValueError(f"must be a positive integer below 2^64, not {shown[:40]}")
    return str(number)


PlatformId = Annotated[str, BeforeValidator(platform_id)]


class WebhookRecord(BaseModel):
    """What a webhook's body names its record by (an order, a customer): checked before the body is read, so a
    body without a usable id is refused (400) instead of stored under "None" or "1E+400"."""

    id: PlatformId


class WebhookOrderPart(WebhookRecord):
    """A fulfilment's or a refund's body: its own id and its order's."""

    order_id: PlatformId


class LineItem(BaseModel):
    id: str | None = None               # the platform's line-item id (a refund names it)
    title: str
    quantity: int = 1
    sku: str | None = None
    variant_title: str | None = None
    price: Amount | None = None         # unit price
    refunded_quantity: int = 0          # how many the platform's refunds have refunded so far
    refundable_quantity: int | None = None  # Shopify's own count of what may still be refunded (GraphQL only)

    @property
    def left_to_refund(self) -> int:
        """How many may still be refunded: Shopify's count when it said, else purchased minus refunded."""
        if self.refundable_quantity is not None:
            return max(0, self.refundable_quantity)
        return max(0, self.quantity - self.refunded_quantity)


class Address(BaseModel):
    name: str | None = None
    company: str | None = None
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    zip: str | None = None
    province: str | None = None
    country_code: str | None = None


class Tracking(BaseModel):
    number: str | None = None
    url: str | None = None
    company: str | None = None

    @field_validator("url")
    @classmethod
    def _web_address(cls, url: str | None) -> str | None:
        """Only an http(s) address is kept: the inbox makes it a link and replies and the bot send it to the
        customer, so a ``javascript:`` or ``data:`` one a fulfilment app wrote never reaches either."""
        return url.strip() if url is not None and is_web_address(url) else None


class Fulfillment(BaseModel):
    id: str
    status: str | None = None               # success, cancelled, ...
    shipment_status: str | None = None      # in_transit, delivered, ...
    created_at: Instant | None = None
    updated_at: Instant | None = None
    tracking: list[Tracking] = Field(default_factory=list)


class RefundedLine(BaseModel):
    """A line item a refund refunded, and how many of it."""

    line_item_id: str
    quantity: int


class Refund(BaseModel):
    id: str
    created_at: Instant | None = None
    amount: Amount | None = None
    note: str | None = None
    # the line items it refunded; None when the platform did not say (WooCommerce's order resource, Shopify's order
    # lists): the count of a line's refunded items then stays as last known
    line_items: list[RefundedLine] | None = None


class Order(BaseModel):
    platform: Platform
    id: str                                  # the platform's order id (Shopify's numeric id, not the GID)
    name: str                                # what the customer sees: "#1001"
    number: str                              # "1001"
    created_at: Instant
    updated_at: Instant                     # orders are applied newest-wins on this
    cancelled_at: Instant | None = None
    financial_status: str | None = None
    fulfillment_status: str | None = None
    platform_status: str | None = None       # WooCommerce's own status (processing, completed...)
    total: Amount | None = None
    currency: str | None = None
    email: str | None = None
    phone: str | None = None                 # E.164 when it could be read as one
    customer_id: str | None = None
    line_items: list[LineItem] = Field(default_factory=list)
    shipping_address: Address | None = None
    fulfillments: list[Fulfillment] = Field(default_factory=list)
    refunds: list[Refund] = Field(default_factory=list)
    test: bool = False
    partial: bool = False                    # made from a fulfilment or refund that came before its order

    @property
    def tracking(self) -> list[Tracking]:
        return [t for f in self.fulfillments for t in f.tracking]

    @property
    def cancelled(self) -> bool:
        return self.cancelled_at is not None or self.platform_status in {"cancelled", "trash"}

    @property
    def fulfilled_any(self) -> bool:
        return self.fulfillment_status not in (None, "unfulfilled") or any(
            f.status not in ("cancelled", "failure", "error") for f in self.fulfillments)


def refunded_counts(refunds: list[Refund]) -> dict[str, int]:
    """How many of each line item the refunds whose lines are known refunded."""
    counts: dict[str, int] = {}
    for refund in refunds:
        for line in refund.line_items or []:
            counts[line.line_item_id] = counts.get(line.line_item_id, 0) + line.quantity
    return counts


def count_refunded(order: Order, at_least: Order | None = None) -> Order:
    """The order with each line's ``refunded_quantity`` counted from its refunds' line items, never below what
    ``at_least`` (an earlier copy of it) or the line itself said: a refund whose lines are not known leaves the
    count as it was (refunds are never undone)."""
    counts = refunded_counts(order.refunds)
    before = {li.id: li.refunded_quantity for li in (at_least.line_items if at_least else []) if li.id}
    lines = [li.model_copy(update={"refunded_quantity": min(li.quantity, max(
        li.refunded_quantity, counts.get(li.id or "", 0), before.get(li.id or "", 0)))}) for li in order.line_items]
    return order if lines == order.line_items else order.model_copy(update={"line_items": lines})


class ShopCustomer(BaseModel):
    """A customer record of the shop's platform: the evidence that an email and a phone belong together."""

    platform: Platform
    id: str
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    updated_at: Instant


class RequestJob(BaseModel):
    """One customer of ours a privacy request names, and the job that answers it for them."""

    customer_id: str
    job_id: str | None = None                # none yet: not started (open), or the customer was gone (nothing_held)
    status: str = "open"                     # open, running, done, failed, nothing_held


class PrivacyRequest(BaseModel):
    """A privacy webhook (Shopify's customers/data_request, customers/redact, shop/redact), kept until acted on."""

    id: str                                  # the delivery id
    platform: Platform
    topic: str
    shop_domain: str | None = None
    received_at: Instant
    customer: dict[str, str | None] | None = None
    orders: list[str] = Field(default_factory=list)
    data_request_id: str | None = None
    # open (a customer's job not started), running, done, failed (the jobs', ``request_status``; a shop/redact's:
    # its shop_redact job's),
    # nothing_held (no customer of ours has an identifier it names)
    status: str = "open"
    job_id: str | None = None                # the first export or erase it started
    jobs: list[RequestJob] = Field(default_factory=list)    # every customer of ours it names, with their job
    # a SHA-256 of each identifier the platform named (email lower-cased, phone in E.164, the platform's customer
    # id): what is left of them once an erase stripped the request, so an admin can tell which were covered
    identifiers: dict[str, str] = Field(default_factory=dict)
    payload: dict[str, object] = Field(default_factory=dict)

    def email(self) -> str | None:
        """The email address it names, lower-cased as identities keep it."""
        value = str((self.customer or {}).get("email") or "").strip().lower()
        return value or None

    def phone(self) -> str | None:
        """The phone number it names in E.164, a national one read in the shop's region (None: no possible number)."""
        value = str((self.customer or {}).get("phone") or "").strip()
        return shop_phone(value) if value else None

    def platform_customer_id(self) -> str | None:
        value = str((self.customer or {}).get("id") or "").strip()
        return value or None

    def hashed(self) -> dict[str, str]:
        """``identifiers``: a hash of each identifier it names (a phone that is no possible number: as written)."""
        raw_phone = str((self.customer or {}).get("phone") or "").strip()
        named = {"email": self.email(), "phone": self.phone() or raw_phone or None, "id": self.platform_customer_id()}
        return {kind: "sha256:" + hashlib.sha256(value.encode()).hexdigest() for kind, value in named.items() if value}


STRIPPED_STATUSES = ("done", "nothing_held")     # a request's work is over: its body is stripped


def stripped_body(body: str) -> str:
    """A privacy request's stored body once its work is over (an erase, every export done, nobody of ours named):
    what it was and when, and a hash of each identifier it named; never the identifiers, the orders
    or the payload."""
    parsed = json.loads(body or "{}")
    kept = {k: parsed.get(k) for k in ("id", "platform", "topic", "shop_domain", "received_at", "status",
                                        "data_request_id", "identifiers")}
    return json.dumps({**kept, "payload": {"erased": True}, "customer": None, "orders": []})


def request_status(jobs: list[RequestJob]) -> str:
    """A request's status from its customers' jobs: running while any runs, then failed if any failed, open if any
    was never started, done only when every one is done; nothing_held when none of them is held any more."""
    states = {job.status for job in jobs if job.status != "nothing_held"}
    if not states:
        return "nothing_held"
    for status in ("running", "failed", "open"):
        if status in states:
            return status
    return "done"


class RefundLine(BaseModel):
    line_item_id: Annotated[str, Field(min_length=1, max_length=128)]
    quantity: Annotated[int, Field(ge=1, le=10_000)] = 1


class ActionResult(BaseModel):
    """What the platform did: the order afterwards (when it said) and its own words."""

    order: Order | None = None
    message: str
    reference: str | None = None             # the platform's refund or job id
    amount: str | None = None                # a refund: how much, as the platform said it (a decimal string)
    currency: str | None = None
