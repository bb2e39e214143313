"""Platform webhooks, from raw request to cached order: verify, dedupe, apply in order.

Shopify signs the raw body with the app's client secret (``X-Shopify-Hmac-Sha256``: base64 HMAC-SHA256,
no prefix); WooCommerce with the webhook's secret (``X-WC-Webhook-Signature``, the same scheme). Nothing
is stored unless the signature holds. Each delivery id (``X-Shopify-Webhook-Id``,
``X-WC-Webhook-Delivery-ID``) is written as a marker in the same transaction as what it changes, so a
re-delivery is a no-op; updates are merged newest-wins (``ordering.merge``), so deliveries may come in
any order. An order or a customer record is stored with its texts masked (``commerce.masking``), its email and phone
as sent (the identity rules read them). Shopify's privacy topics become privacy requests, kept until the shop acts on
them. A privacy request whose work could not start (the table or the privacy queue refusing: the cached records not
deleted, a job not queued) fails its delivery with a 503, its delivery marker noted ``not_started`` so that Shopify's
retry is not a duplicate but runs the same request again, and is counted in ``PrivacyRequestsNotStarted``, which pages
(template.yaml). A Shopify delivery that names another shop than the desk's (``X-Shopify-Shop-Domain`` or the body's
``shop_domain``: an app installed on several stores signs them all with one secret) is acknowledged and ignored: its
marker stored, nothing else, and a privacy request kept as ``other_shop`` with nothing of the person.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from shopdesk import clock, metrics
from shopdesk.bounds import bound, loads
from shopdesk.commerce import ordering, shopify, woocommerce
from shopdesk.commerce.models import Order, PrivacyRequest, ShopCustomer, WebhookOrderPart, WebhookRecord
from shopdesk.dal.commerce import CommerceStore, Duplicate, Replayed
from shopdesk.errors import BadRequest, InvalidSignature, ShopdeskError

logger = Logger(child=True)

Result = Literal["applied", "stale", "duplicate", "ignored", "recorded", "ping", "replay_refused"]
OTHER_SHOP = "other_shop"        # a privacy request about another shop's customer: nothing started
PRIVACY_TOPICS = ("customers/data_request", "customers/redact", "shop/redact")
SHOPIFY_ORDER_TOPICS = ("orders/create", "orders/updated", "orders/cancelled", "orders/fulfilled", "orders/paid",
                        "orders/partially_fulfilled", "orders/edited")
WOOCOMMERCE_TOPICS = ("order.created", "order.updated", "order.restored", "order.deleted", "customer.created",
                      "customer.updated", "customer.restored")
_WC_PING = re.compile(rb"^webhook_id=[0-9]+$")
# A signed body of another shape (an object where a list is documented, an amount that is not a
# number): a 400, never a 500 the platform would retry.
_NOT_WHAT_WE_READ = (KeyError, TypeError, ValueError, AttributeError, ArithmeticError, ValidationError)
RECORD_BYTES = 300_000       # an order's or customer's JSON in its item (400 KB with the keys and the rest)
NOT_STARTED_METRIC = "PrivacyRequestsNotStarted"   # a privacy request whose work could not start: its delivery a 503


class PrivacyNotStarted(ShopdeskError):
    """A privacy request recorded whose work could not start: the delivery is answered 503 and Shopify sends it again.
    Its delivery marker is kept, noted ``not_started`` (the request's sort key: ``CommerceStore.privacy_not_started``),
    so the retry is not a duplicate: it finds the note, takes it off in a conditional write (one retry takes it) and
    runs the same recorded request again (``privacy_retry``)."""


def sign(secret: str, body: bytes) -> str:
    """base64(HMAC-SHA256(secret, body)): both platforms' scheme."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def verify(body: bytes, header: str | None, secrets: Sequence[str]) -> bool:
    """The header against each secret (Shopify may sign with the old one for an hour after a rotation).
    Compares decoded bytes in constant time; never raises."""
    if not header:
        return False
    try:
        given = base64.b64decode(header.strip(), validate=True)
    except ValueError:
        return False
    return any(secret and hmac.compare_digest(given, hmac.new(secret.encode(), body, hashlib.sha256).digest())
               for secret in secrets)


@dataclass(frozen=True)
class Outcome:
    result: Result
    topic: str
    delivery_id: str
    order: Order | None = None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), None)


def _delivery_id(given: str | None, body: bytes) -> str:
    """The platform's delivery id; without one, the body's hash (a byte-identical re-delivery is then a no-op)."""
    return given.strip() if given and given.strip() else "sha256:" + hashlib.sha256(body).hexdigest()


def _json(body: bytes) -> dict[str, Any]:
    """Depth-bounded (``bounds.loads``): a signed body nested hundreds of levels is read, not a RecursionError."""
    parsed = loads(body, "the body", parse_float=Decimal)
    if not isinstance(parsed, dict):
        raise BadRequest("the body is not a JSON object")
    return parsed


def _named(payload: dict[str, Any], shape: type[WebhookRecord] = WebhookRecord) -> None:
    """The ids the body names its record by (``models.platform_id``); a ValueError naming the first that is not
    one, or missing (the receiver's 400)."""
    try:
        shape.model_validate(payload)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"])
        why = "is missing" if error["type"] == "missing" else error["msg"].removeprefix("Value error, ")
        raise ValueError(f"{field} {why}") from None


def _domain(value: str) -> str:
    """A shop's myshopify.com domain as compared: lower-cased, without a scheme or a trailing slash."""
    return value.strip().lower().removeprefix("https://").removeprefix("http://").rstrip("/")


def _fits(record: Order | ShopCustomer | PrivacyRequest, topic: str) -> None:
    """A record is stored as its JSON in one item: one larger than an item holds is refused (400)."""
    if len(record.model_dump_json()) > RECORD_BYTES:
        raise BadRequest(f"{topic}: {record.id[:64]} is larger than one item can hold")


def _privacy_request(topic: str, delivery: str, payload: dict[str, Any], shop: str | None) -> PrivacyRequest:
    """A privacy topic's body as the request kept, with a hash of each identifier (what an erase leaves of them)."""
    customer = payload.get("customer") or None
    request = PrivacyRequest(
        id=delivery, platform="shopify", topic=topic, shop_domain=payload.get("shop_domain") or shop,
        received_at=clock.now(),
        customer={k: (str(customer[k]) if customer.get(k) is not None else None)
                  for k in ("id", "email", "phone")} if isinstance(customer, dict) else None,
        orders=[str(o) for o in payload.get("orders_to_redact") or payload.get("orders_requested") or []],
        data_request_id=str((payload.get("data_request") or {}).get("id") or "") or None,
        payload=bound(json.loads(json.dumps(payload, default=str))).value)
    request.identifiers = request.hashed()
    _fits(request, topic)
    return request


Contact = Callable[[str | None, str | None, str | None], None]     # (email, phone, order name)


@dataclass
class WebhookReceiver:
    """``on_contact`` hears the email and phone of each applied customer record and order, as the customer
    gave them to the shop: the identity rules decide what they link (``shopdesk.logic.merge``)."""

    store: CommerceStore
    on_contact: Contact | None = None
    on_privacy: Callable[[PrivacyRequest], list[str]] | None = None    # starts the exports or erases it asks for
    on_replay: Callable[[PrivacyRequest], None] | None = None          # hears a privacy request's replay refused
    shop_domain: str = ""       # the desk's shop (SHOPIFY_SHOP_DOMAIN): another's deliveries are ignored; "": no check

    def _other_shop(self, headers: Mapping[str, str], payload: dict[str, Any]) -> str | None:
        """The shop a Shopify delivery names when it is not the desk's (the header or the body's ``shop_domain``,
        either); None when each one given is ours."""
        ours = _domain(self.shop_domain)
        if not ours:
            return None
        for given in (_header(headers, "X-Shopify-Shop-Domain"), payload.get("shop_domain")):
            if given is not None and _domain(str(given)) != ours:
                return str(given)[:255]
        return None

    def _contact(self, email: str | None, phone: str | None, order: str | None) -> None:
        if self.on_contact is None or not (email and phone):
            return
        try:
            self.on_contact(email, phone, order)
        except Exception:       # the record is stored; a link that failed is not worth the platform's retry
            logger.exception("shop contact not linked", extra={"order": order})

    # ------------------------------------------------------------------ Shopify
    def shopify(self, body: bytes, headers: Mapping[str, str], secrets: Sequence[str]) -> Outcome:
        if not verify(body, _header(headers, "X-Shopify-Hmac-Sha256"), secrets):
            raise InvalidSignature("X-Shopify-Hmac-Sha256 does not match")
        topic = (_header(headers, "X-Shopify-Topic") or "").strip()
        if not topic:
            raise BadRequest("X-Shopify-Topic is missing")
        delivery = _delivery_id(_header(headers, "X-Shopify-Webhook-Id"), body)
        payload = _json(body)
        try:
            other = self._other_shop(headers, payload)
            if other is not None:
                return self._elsewhere(topic, delivery, payload, other)
            return self._shopify(topic, delivery, payload, _header(headers, "X-Shopify-Shop-Domain"),
                                 hashlib.sha256(body).hexdigest())
        except Duplicate:
            if topic in PRIVACY_TOPICS and self.on_privacy is not None:
                request = self.store.privacy_retry(delivery)
                if request is not None:         # recorded before, its work never started: started now
                    # as recorded (its key), naming what this delivery names: a request whose erases ended meanwhile
                    # is kept stripped of its identifiers, which deleting the shop's records of them still needs
                    sent = _privacy_request(topic, delivery, payload, _header(headers, "X-Shopify-Shop-Domain"))
                    self._start(request.model_copy(update={"customer": sent.customer, "orders": sent.orders}))
                    return Outcome("recorded", topic, delivery)
            return Outcome("duplicate", topic, delivery)
        except _NOT_WHAT_WE_READ as exc:
            raise BadRequest(f"{topic} body is not what Shopify sends: {exc}") from exc

    def _elsewhere(self, topic: str, delivery: str, payload: dict[str, Any], shop: str) -> Outcome:
        """A signed delivery about another shop: acknowledged (Shopify retries anything else) and ignored. Its marker
        is stored (a redelivery is a duplicate); a privacy request is kept as ``other_shop``, with what it was and
        nothing of the person (no identifier, nor a hash of one: another shop's customer is not the desk's, and an
        unsalted phone hash is undone by trying every number), no orders or payload, and starts nothing."""
        logger.warning("delivery of another shop ignored", extra={"topic": topic, "delivery": delivery, "shop": shop})
        if topic not in PRIVACY_TOPICS:
            self.store.record_delivery(delivery, topic)
            return Outcome("ignored", topic, delivery)
        request = _privacy_request(topic, delivery, payload, shop)
        self.store.record_privacy(request.model_copy(update={
            "status": OTHER_SHOP, "shop_domain": shop, "customer": None, "orders": [], "identifiers": {},
            "payload": {"erased": True}}))
        return Outcome("ignored", topic, delivery)

    def _shopify(self, topic: str, delivery: str, payload: dict[str, Any], shop: str | None, digest: str) -> Outcome:
        if topic in PRIVACY_TOPICS:
            request = _privacy_request(topic, delivery, payload, shop)
            try:
                self.store.record_privacy(request, body_digest=digest)
            except Replayed as exc:
                return self._replayed(request, exc.first)
            logger.info("privacy request recorded", extra={"topic": topic, "delivery": delivery})
            self._start(request)
            return Outcome("recorded", topic, delivery)
        if topic in SHOPIFY_ORDER_TOPICS:
            _named(payload)
            return self._order(topic, delivery, shopify.order_from_rest(payload))
        if topic in ("fulfillments/create", "fulfillments/update"):
            _named(payload, WebhookOrderPart)
            fulfillment = shopify.fulfillment_from_rest(payload)
            incoming = ordering.partial_order("shopify", str(payload["order_id"]), name=payload.get("name"),
                                              created_at=fulfillment.created_at, fulfillment=fulfillment)
            return self._order(topic, delivery, incoming)
        if topic == "refunds/create":
            _named(payload, WebhookOrderPart)
            refund = shopify.refund_from_rest(payload)
            incoming = ordering.partial_order("shopify", str(payload["order_id"]), name=None,
                                              created_at=refund.created_at, refund=refund)
            return self._order(topic, delivery, incoming)
        if topic in ("customers/create", "customers/update"):
            _named(payload)
            customer = shopify.customer_from_rest(payload)
            _fits(customer, topic)
            applied = self.store.apply_customer(customer, delivery, topic)
            if applied:
                self._contact(customer.email, customer.phone, None)
            return Outcome("applied" if applied else "stale", topic, delivery)
        self.store.record_delivery(delivery, topic)
        return Outcome("ignored", topic, delivery)

    def _replayed(self, request: PrivacyRequest, first: str) -> Outcome:
        """A privacy request whose signed body was accepted before under another delivery id: Shopify signs the body,
        not ``X-Shopify-Webhook-Id``, and sends its retries of a delivery under the same id, so this is someone
        sending a captured body again (a redact would erase whoever holds its email or phone now). Answered 200, as
        nothing is worth a retry, and nothing else: no request kept, no job, no marker of this id; warned in the log
        and recorded on the trail (``on_replay``)."""
        logger.warning("privacy request's body replayed under a new delivery id: refused",
                       extra={"topic": request.topic, "delivery": request.id, "first_delivery": first})
        if self.on_replay is not None:
            self.on_replay(request)
        return Outcome("replay_refused", request.topic, request.id)

    def _start(self, request: PrivacyRequest) -> None:
        """The recorded request's work (``on_privacy``). When it fails (the shop's records of the person not deleted,
        a job not queued): counted (``PrivacyRequestsNotStarted``, which pages), its delivery marker noted
        ``not_started`` so that Shopify's retry of the 503 runs the same request again, not a duplicate, and
        PrivacyNotStarted raised (503). A marker that could not be noted is logged: that retry is then a duplicate,
        and the alarm is what tells the operator; the request shows open or failed to admins."""
        if self.on_privacy is None:
            return
        try:
            jobs = self.on_privacy(request)
        except Exception as exc:
            logger.exception("privacy request recorded, its work not started: 503 for Shopify to retry",
                             extra={"topic": request.topic, "delivery": request.id})
            metrics.count(NOT_STARTED_METRIC)
            try:
                self.store.privacy_not_started(request)
            except Exception:
                logger.exception("privacy request's marker not noted as not started: its retry is a duplicate",
                                 extra={"delivery": request.id})
            raise PrivacyNotStarted(f"{request.topic} {request.id}: its work could not start; send it again") from exc
        logger.info("privacy request started its jobs", extra={"topic": request.topic, "job_ids": jobs})

    def _order(self, topic: str, delivery: str, incoming: Order) -> Outcome:
        _fits(incoming, topic)
        written = self.store.apply_order(incoming, ordering.merge, delivery_id=delivery, topic=topic)
        logger.info("order webhook", extra={"topic": topic, "order": incoming.id, "applied": written is not None})
        if written is not None:
            self._contact(incoming.email, incoming.phone, incoming.name)
        return Outcome("applied" if written is not None else "stale", topic, delivery, written)

    # ------------------------------------------------------------------ WooCommerce
    def woocommerce(self, body: bytes, headers: Mapping[str, str], secret: str) -> Outcome:
        signature = _header(headers, "X-WC-Webhook-Signature")
        if signature is None and _WC_PING.match(body.strip()):
            # WooCommerce's unsigned ping when a webhook is saved: answer 200, store nothing.
            return Outcome("ping", "ping", body.decode().split("=", 1)[1])
        if not verify(body, signature, [secret]):
            raise InvalidSignature("X-WC-Webhook-Signature does not match")
        topic = (_header(headers, "X-WC-Webhook-Topic") or "").strip()
        if not topic:
            raise BadRequest("X-WC-Webhook-Topic is missing")
        delivery = _delivery_id(_header(headers, "X-WC-Webhook-Delivery-ID"), body)
        payload = _json(body)
        try:
            return self._woocommerce(topic, delivery, payload)
        except Duplicate:
            return Outcome("duplicate", topic, delivery)
        except _NOT_WHAT_WE_READ as exc:
            raise BadRequest(f"{topic} body is not what WooCommerce sends: {exc}") from exc

    def _woocommerce(self, topic: str, delivery: str, payload: dict[str, Any]) -> Outcome:
        if topic in WOOCOMMERCE_TOPICS:
            _named(payload)
        if topic in ("order.created", "order.updated", "order.restored"):
            return self._order(topic, delivery, woocommerce.order_from_rest(payload))
        if topic == "order.deleted":
            at = clock.now()
            written = self.store.upsert_order(
                str(payload["id"]), lambda stored: ordering.deleted(stored, at) if stored else None,
                delivery_id=delivery, topic=topic)
            return Outcome("applied" if written else "stale", topic, delivery, written)
        if topic in ("customer.created", "customer.updated", "customer.restored"):
            customer = woocommerce.customer_from_rest(payload)
            _fits(customer, topic)
            applied = self.store.apply_customer(customer, delivery, topic)
            if applied:
                self._contact(customer.email, customer.phone, None)
            return Outcome("applied" if applied else "stale", topic, delivery)
        self.store.record_delivery(delivery, topic)
        return Outcome("ignored", topic, delivery)
