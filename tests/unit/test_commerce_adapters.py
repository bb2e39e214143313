"""The Shopify and WooCommerce adapters against the local stack's commerce sandbox (on loopback)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator

import pytest

from shopdesk.commerce import CommerceRefused, CommerceUnavailable
from shopdesk.commerce.models import RefundedLine, RefundLine
from shopdesk.commerce.shopify import ORDERS_BY_EMAIL, REFUND_CREATE, GraphQL, ShopifyCommerce
from shopdesk.commerce.woocommerce import WooCommerce
from shopdesk.models import Identity
from tests.commerce_support import SHOPIFY_TOKEN, WC_KEY, WC_SECRET, CommerceSandboxServer


@pytest.fixture
def sandbox() -> Iterator[CommerceSandboxServer]:
    server = CommerceSandboxServer()
    yield server
    server.close()


def _shopify(sandbox: CommerceSandboxServer, token: str = SHOPIFY_TOKEN) -> ShopifyCommerce:
    return ShopifyCommerce(sandbox.shopify_url, lambda: token)


def test_shopify_orders_by_phone_and_email_newest_first_with_tracking(sandbox: CommerceSandboxServer) -> None:
    shopify = _shopify(sandbox)
    by_phone = shopify.orders_for(Identity(kind="phone", address="+14155550101"))
    by_email = shopify.orders_for(Identity(kind="email", address="dana.rivera@example.com"))
    assert [o.name for o in by_phone] == [o.name for o in by_email] == ["#1004", "#1001"]
    shipped = by_phone[1]
    assert (shipped.financial_status, shipped.fulfillment_status) == ("paid", "fulfilled")
    assert [(t.number, t.company) for t in shipped.tracking] == [("1Z999AA10123456784", "UPS")]
    assert shipped.id == "5500000001001" and shipped.line_items[0].id == "11001"
    assert shopify.orders_for(Identity(kind="email", address="nobody@example.com")) == []
    assert shopify.orders_for(Identity(kind="instagram", address="1784")) == []


def test_shopify_order_by_number_and_by_id(sandbox: CommerceSandboxServer) -> None:
    shopify = _shopify(sandbox)
    order = shopify.order_by_number("1002")
    assert order is not None and order.name == "#1002"
    assert shopify.get_order(order.id) == order
    assert shopify.order_by_number("9999") is None


def test_sandbox_validates_queries_against_the_schema(sandbox: CommerceSandboxServer) -> None:
    graphql = GraphQL(sandbox.shopify_url + "/admin/api/2026-04/graphql.json", lambda: SHOPIFY_TOKEN)
    with pytest.raises(CommerceUnavailable, match="Cannot query field 'nickname'"):
        graphql.execute("query { order(id: \"gid://shopify/Order/1\") { nickname } }", {})
    with pytest.raises(CommerceUnavailable, match="refused our access token"):
        _shopify(sandbox, token="wrong").order_by_number("1001")


def test_sandbox_answers_cost_extensions_refunds_what_was_not_returned_and_throttles(
        sandbox: CommerceSandboxServer) -> None:
    # a bucket of about one query's requested cost, restored slowly
    sandbox.shopify.set_bucket(280.0, 0.5)
    request = urllib.request.Request(sandbox.shopify_url + "/admin/api/2026-04/graphql.json", method="POST",
                                     data=json.dumps({"query": ORDERS_BY_EMAIL, "variables": {
                                         "email": "dana.rivera@example.com", "first": 5}}).encode(),
                                     headers={"X-Shopify-Access-Token": SHOPIFY_TOKEN,
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as answer:
        first = json.loads(answer.read())
    cost = first["extensions"]["cost"]
    assert cost["requestedQueryCost"] > 200 and cost["throttleStatus"]["maximumAvailable"] == 280.0
    # the customer has two orders of the five asked for, each with fewer lines than asked: as Shopify does, the
    # bucket is charged what the answer held and gets the rest of the requested cost back
    assert 0 < cost["actualQueryCost"] < cost["requestedQueryCost"] / 2
    assert cost["throttleStatus"]["currentlyAvailable"] >= int(280 - cost["actualQueryCost"]) - 1
    # a second query asks for more than is left (what it requests, not what the first cost): throttled, charged
    # nothing
    with urllib.request.urlopen(request) as answer:
        second = json.loads(answer.read())
    assert second["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert second["extensions"]["cost"]["actualQueryCost"] is None


def test_shopify_adapter_backs_off_when_throttled_and_then_succeeds(sandbox: CommerceSandboxServer) -> None:
    sandbox.shopify.set_bucket(400.0, 400.0)          # one query's worth, restored within a second
    shopify = _shopify(sandbox)
    for _ in range(3):
        assert [o.name for o in shopify.orders_for(Identity(kind="phone", address="+14155550101"))] == \
            ["#1004", "#1001"]
    assert shopify.graphql.bucket.maximum == 400.0


def test_shopify_cancel_refused_in_shopifys_words_then_allowed(sandbox: CommerceSandboxServer) -> None:
    shopify = _shopify(sandbox)
    fulfilled, open_order = shopify.order_by_number("1001"), shopify.order_by_number("1004")
    assert fulfilled is not None and open_order is not None
    with pytest.raises(CommerceRefused, match="Cannot cancel an order that has fulfillments"):
        shopify.cancel(fulfilled, reason="customer", restock=True, notify_customer=True, staff_note=None)
    result = shopify.cancel(open_order, reason="customer", restock=True, notify_customer=False, staff_note="asked")
    assert result.reference and result.reference.startswith("gid://shopify/Job/")
    after = shopify.get_order(open_order.id)
    assert after is not None and after.cancelled and after.financial_status == "refunded"
    with pytest.raises(CommerceRefused, match="already been cancelled"):
        shopify.cancel(open_order, reason="customer", restock=True, notify_customer=True, staff_note=None)


def test_shopify_partial_then_full_refund(sandbox: CommerceSandboxServer) -> None:
    shopify = _shopify(sandbox)
    order = shopify.order_by_number("1001")
    assert order is not None
    partial = shopify.refund(order, [RefundLine(line_item_id="11002", quantity=1)], note="one sock pair torn",
                             notify_customer=True)
    assert partial.message == "Refunded 10.00 USD on #1001"
    after = shopify.get_order(order.id)
    assert after is not None and after.financial_status == "partially_refunded"
    assert shopify.refund(after, None, note=None, notify_customer=False).message == "Refunded 109.00 USD on #1001"
    with pytest.raises(CommerceRefused, match="refused the refund on #1001"):
        shopify.refund(after, None, note=None, notify_customer=False)


def _woo(sandbox: CommerceSandboxServer) -> WooCommerce:
    return WooCommerce(sandbox.woocommerce_url, lambda: (WC_KEY, WC_SECRET))


def test_woocommerce_orders_by_email_and_phone(sandbox: CommerceSandboxServer) -> None:
    woo = _woo(sandbox)
    orders = woo.orders_for(Identity(kind="email", address="dana.rivera@example.com"))
    assert [(o.name, o.platform_status) for o in orders] == [("#1004", "processing"), ("#1001", "completed")]
    assert [t.number for t in orders[1].tracking] == ["1Z999AA10123456784"]
    assert [o.name for o in woo.orders_for(Identity(kind="phone", address="+14155550102"))] == ["#1002"]
    assert woo.order_by_number("1003") is not None and woo.order_by_number("4242") is None


def test_woocommerce_refund_line_items_cancel_and_refusal(sandbox: CommerceSandboxServer) -> None:
    woo = _woo(sandbox)
    order = woo.order_by_number("1002")
    assert order is not None
    assert woo.refund(order, [RefundLine(line_item_id="12002")], note="hat", notify_customer=True).message == \
        "Refunded 20.00 USD on #1002"
    after = woo.get_order("1002")
    assert after is not None and after.financial_status == "partially_refunded"
    assert [(li.id, li.refunded_quantity) for li in after.line_items] == [("12001", 0), ("12002", 1)]
    assert after.refunds[0].line_items is not None and after.refunds[0].created_at is not None
    # WooCommerce checks the amount alone (wc_create_refund): too much is refused in its words, an HTTP 500
    with pytest.raises(CommerceRefused, match=r"Invalid refund amount"):
        woo.refund(after, [RefundLine(line_item_id="12001", quantity=5)], note=None, notify_customer=True)
    cancelled = woo.cancel(woo.get_order("1004"), reason="customer", restock=True, notify_customer=True,  # type: ignore[arg-type]
                           staff_note=None)
    assert cancelled.order is not None and cancelled.order.platform_status == "cancelled"


def test_woocommerce_takes_a_line_refunded_twice_when_the_amount_fits_so_shopdesk_must_check(
        sandbox: CommerceSandboxServer) -> None:
    woo = _woo(sandbox)
    order = woo.get_order("1001")
    assert order is not None
    socks = [RefundLine(line_item_id="11002", quantity=2)]
    woo.refund(order, socks, note=None, notify_customer=False)
    after = woo.get_order("1001")
    assert after is not None and next(li for li in after.line_items if li.id == "11002").left_to_refund == 0
    assert woo.refund(after, socks, note=None, notify_customer=False).message == "Refunded 20.00 USD on #1001"


def test_shopify_says_what_each_line_has_left_and_refuses_more(sandbox: CommerceSandboxServer) -> None:
    shopify = _shopify(sandbox)
    order = shopify.get_order("5500000001001")
    assert order is not None
    shopify.refund(order, [RefundLine(line_item_id="11002", quantity=1)], note=None, notify_customer=False)
    after = shopify.get_order(order.id)
    assert after is not None
    socks = next(li for li in after.line_items if li.id == "11002")
    assert (socks.refunded_quantity, socks.refundable_quantity, socks.left_to_refund) == (1, 1, 1)
    assert after.refunds[0].line_items == [RefundedLine(line_item_id="11002", quantity=1)]
    listed = shopify.orders_for(Identity(kind="phone", address="+14155550101"))[1]     # lists: refundableQuantity
    assert next(li for li in listed.line_items if li.id == "11002").refunded_quantity == 1
    with pytest.raises(CommerceRefused, match="more items than were purchased"):
        shopify.refund(after, [RefundLine(line_item_id="11002", quantity=2)], note=None, notify_customer=False)


def test_shopify_refund_create_needs_an_idempotency_key_and_a_repeat_makes_no_second_refund(
        sandbox: CommerceSandboxServer) -> None:
    shopify = _shopify(sandbox)
    order = shopify.get_order("5500000001001")
    assert order is not None
    line = [RefundLine(line_item_id="11002", quantity=1)]
    first = shopify.refund(order, line, note=None, notify_customer=False, idempotency_key="k-1")
    again = shopify.refund(order, line, note=None, notify_customer=False, idempotency_key="k-1")
    assert first.reference == again.reference and len(sandbox.shopify.shop.orders[1001]["refunds"]) == 1
    with pytest.raises(CommerceUnavailable, match="idempotency key"):
        shopify.graphql.execute(REFUND_CREATE.replace(" @idempotent(key: $idempotencyKey)", "").replace(
            ", $idempotencyKey: String!", ""), {"input": {"orderId": "gid://shopify/Order/5500000001001"}})


def test_woocommerce_wrong_keys_are_unavailable(sandbox: CommerceSandboxServer) -> None:
    with pytest.raises(CommerceUnavailable, match="401"):
        WooCommerce(sandbox.woocommerce_url, lambda: ("ck_wrong", "cs_wrong")).get_order("1001")
