"""What the shop's platforms send of orders and customers is stored masked, as a customer's message is: a card
number, an IBAN or one of the shop's patterns typed into an order's note, a line item's property or title, a name or
an address line never reaches the table. Through the real handlers, with the providers' own sample payloads (the
webhooks) and the commerce sandbox (read-throughs, actions); the ids, numbers, emails and phones the lookups use stay
as the platform sent them, and the lookups find the orders as before."""

from __future__ import annotations

import json
from typing import Any

from local.commerce import shopify_rest_order
from shopdesk.commerce.lookup import OrderLookup
from shopdesk.commerce.webhooks import sign
from shopdesk.dal.commerce import CommerceStore
from shopdesk.dal.table import Table
from shopdesk.models import Identity
from tests.commerce_support import SHOPIFY_TEST_SECRET, WC_TEST_SECRET, CommerceSandboxServer, commerce_sample
from tests.integration.helpers import customer_writes
from tests.integration.test_commerce import ORDER_ID, _post, _stored, agent_call, sandbox, shop  # noqa: F401 (fixtures)
from tests.integration.test_privacy import admin, scan

CARD_NOTE = "4111 1111 1111 1111"          # kept: 1111
CARD_PROPERTY = "5555555555554444"         # kept: 4444
CARD_NAME = "4012-8888-8888-1881"          # kept: 1881
IBAN = "NL91 ABNA 0417 1643 00"            # kept: 4300
BSN = "BSN 123456782"                      # the shop's own pattern; kept: 6782
IN_CLEAR = ("4111 1111 1111 1111", "4111111111111111", "5555555555554444", "4012-8888-8888-1881",
            "4012888888881881", "NL91 ABNA", "NL91ABNA", "0417 1643", "123456782")


def _shop_pattern(desk: Any) -> None:
    """The shop's own pattern (a Dutch citizen number), saved before any commerce function starts."""
    status, saved = admin(desk, "PUT", "/admin/privacy/settings",
                          {"masking_patterns": [{"name": "BSN", "pattern": r"BSN:?\s?\d{9}"}]})
    assert status == 200, saved


def _nothing_in_clear(desk: Any) -> None:
    stored = json.dumps(scan(desk), default=str, ensure_ascii=False)
    for secret in IN_CLEAR:
        assert secret not in stored, secret


def _shopify(desk: Any, shop: dict[str, str], name: str, change: Any, delivery: str) -> dict[str, Any]:  # noqa: F811
    raw, meta = commerce_sample("shopify", name)
    payload = json.loads(raw)
    change(payload)
    body = json.dumps(payload).encode()
    headers = {**meta["http"]["headers"], "X-Shopify-Webhook-Id": delivery,
               "X-Shopify-Hmac-Sha256": sign(SHOPIFY_TEST_SECRET, body)}
    status, answer = _post(desk, shop, "inbound_shopify", "/webhooks/shopify", body, headers)
    assert status == 200, answer
    return answer


def _woocommerce(desk: Any, shop: dict[str, str], name: str, change: Any, delivery: str) -> dict[str, Any]:  # noqa: F811
    raw, meta = commerce_sample("woocommerce", name)
    payload = json.loads(raw)
    change(payload)
    body = json.dumps(payload).encode()
    headers = {**meta["http"]["headers"], "X-WC-Webhook-Delivery-ID": delivery,
               "X-WC-Webhook-Signature": sign(WC_TEST_SECRET, body)}
    status, answer = _post(desk, shop, "inbound_woocommerce", "/webhooks/woocommerce", body, headers)
    assert status == 200, answer
    return answer


def _cache(desk: Any, platform: str) -> OrderLookup:
    """The order lookup over the cache alone (no platform to read through): what the panel finds there."""
    store = CommerceStore(Table(desk.table_name), platform, order_ttl_seconds=86400, lookup_ttl_seconds=86400)
    return OrderLookup(store, None)


def test_shopifys_order_customer_and_refund_webhooks_store_what_customers_typed_masked(
        desk: Any, shop: dict[str, str]) -> None:  # noqa: F811
    # Given the shop's own pattern, and Shopify's sample order with a card number and an IBAN in its note, a note
    # attribute (a gift message), a line item's property and title, the shipping name and an address line
    _shop_pattern(desk)

    def order(payload: dict[str, Any]) -> None:
        payload["note"] = f"my card {CARD_NOTE}, refund to {IBAN}"
        payload["note_attributes"] = [{"name": "gift_message", "value": f"{CARD_PROPERTY} {IBAN}"}]
        line = payload["line_items"][0]
        line["properties"] = [{"name": "Engraving", "value": f"{CARD_PROPERTY} / {IBAN}"}]
        line["title"] = line["name"] = f"Aviator sunglasses, engraved {CARD_PROPERTY}"
        payload["shipping_address"]["name"] = f"Steve {CARD_NAME}"
        payload["shipping_address"]["address1"] = f"123 Shipping Street {IBAN}"
        payload["shipping_address"]["address2"] = BSN
        payload["customer"]["first_name"] = f"John {CARD_NAME}"

    def customer(payload: dict[str, Any]) -> None:
        payload["first_name"], payload["last_name"] = f"Bob {CARD_NAME}", f"Biller {IBAN}"
        payload["note"] = f"pays with {CARD_NOTE}"

    def refund(payload: dict[str, Any]) -> None:
        payload["note"] = f"Things were damaged; refund to {IBAN}, not the card {CARD_NOTE}"

    # When Shopify delivers the order, a refund of it and a customer record
    assert _shopify(desk, shop, "orders_create", order, "w-mask-order")["status"] == "applied"
    assert _shopify(desk, shop, "refunds_create_partial", refund, "w-mask-refund")["status"] == "applied"
    assert _shopify(desk, shop, "customers_create_phone_only", customer, "w-mask-customer")["status"] == "applied"

    # Then the table holds none of them in clear ...
    _nothing_in_clear(desk)
    # ... but masked where each is kept, the last four left
    stored = _stored(desk, "shopify", ORDER_ID)
    assert stored is not None
    assert stored["line_items"][0]["title"] == "Aviator sunglasses, engraved [card •••• 4444]"
    assert stored["shipping_address"]["name"] == "Steve [card •••• 1881]"
    assert stored["shipping_address"]["address1"] == "123 Shipping Street [IBAN •••• 4300]"
    assert stored["shipping_address"]["address2"] == "[BSN •••• 6782]"
    assert stored["refunds"][0]["note"] == \
        "Things were damaged; refund to [IBAN •••• 4300], not the card [card •••• 1111]"
    record = json.loads(desk.item("SHOPCUSTOMER#shopify#706405506930370084")["body"])
    assert (record["first_name"], record["last_name"]) == ("Bob [card •••• 1881]", "Biller [IBAN •••• 4300]")
    # and what names the order and the customer is as Shopify sent it
    assert (stored["id"], stored["name"], stored["number"], stored["email"]) == (ORDER_ID, "#9999", "9999",
                                                                              "jon@example.com")
    assert [li["id"] for li in stored["line_items"]][:1] == ["487817672276298554"]
    assert record["phone"] == "+16135550142"
    # so the lookups find them as before: the order by its email and its number, the record by its phone
    panel = _cache(desk, "shopify").find([Identity(kind="email", address="jon@example.com")], ["9999"])
    assert [(f.order.id, sorted(f.matched_by)) for f in panel.orders] == [(ORDER_ID, ["email", "number"])]
    assert desk.item("COMMERCE#shopify#phone#+16135550142", "CUSTOMER#706405506930370084") is not None
    # and the same delivery again is a no-op, the same order sent again changes nothing (masked compares with masked)
    assert _shopify(desk, shop, "orders_create", order, "w-mask-order")["status"] == "duplicate"
    assert _shopify(desk, shop, "orders_create", order, "w-mask-order-again")["status"] == "stale"


def test_woocommerces_order_and_customer_webhooks_store_what_customers_typed_masked(
        desk: Any, shop: dict[str, str]) -> None:  # noqa: F811
    # Given WooCommerce's sample order with a card number and an IBAN in the customer's note, a line item's meta (a
    # custom field), the shipping name and an address line, and its sample customer with one in the name
    _shop_pattern(desk)

    def order(payload: dict[str, Any]) -> None:
        payload["customer_note"] = f"my card {CARD_NOTE}, refund to {IBAN}"
        line = payload["line_items"][0]
        line["name"] = f"{line['name']} engraved {CARD_PROPERTY}"
        line["meta_data"] = [*(line.get("meta_data") or []),
                             {"id": 901, "key": "Gift message", "value": f"{CARD_PROPERTY} {IBAN}"}]
        payload["shipping"]["first_name"] = f"John {CARD_NAME}"
        payload["shipping"]["address_1"] = f"969 Market {IBAN}"
        payload["shipping"]["company"] = BSN

    def customer(payload: dict[str, Any]) -> None:
        payload["first_name"], payload["last_name"] = f"John {CARD_NAME}", f"Doe {IBAN}"

    # When WooCommerce delivers them
    assert _woocommerce(desk, shop, "order_created", order, "wc-mask-order")["status"] == "applied"
    assert _woocommerce(desk, shop, "customer_created", customer, "wc-mask-customer")["status"] == "applied"

    # Then nothing of them is in the table in clear, and each is kept masked with its last four
    _nothing_in_clear(desk)
    stored = _stored(desk, "woocommerce", "727")
    assert stored is not None
    assert stored["line_items"][0]["title"].endswith("engraved [card •••• 4444]")
    assert stored["shipping_address"]["name"] == "John [card •••• 1881] Doe"
    assert stored["shipping_address"]["address1"] == "969 Market [IBAN •••• 4300]"
    assert stored["shipping_address"]["company"] == "[BSN •••• 6782]"
    record = json.loads(desk.item("SHOPCUSTOMER#woocommerce#25")["body"])
    assert (record["first_name"], record["last_name"]) == ("John [card •••• 1881]", "Doe [IBAN •••• 4300]")
    # and the lookups find the order by its email and its number, the record by its email, as WooCommerce sent them
    assert (stored["number"], stored["email"], record["email"]) == ("727", "john.doe@example.com",
                                                                    "john.doe@example.com")
    panel = _cache(desk, "woocommerce").find([Identity(kind="email", address="john.doe@example.com")], ["727"])
    assert [(f.order.id, sorted(f.matched_by)) for f in panel.orders] == [("727", ["email", "number"])]
    assert desk.item("COMMERCE#woocommerce#email#john.doe@example.com", "CUSTOMER#25") is not None


def test_orders_read_through_the_platform_and_updated_by_webhook_are_stored_and_shown_masked(
        desk: Any, shop: dict[str, str], sandbox: CommerceSandboxServer) -> None:  # noqa: F811
    # Given the shop's pattern, and orders on both platforms whose shipping name, address and an item hold secrets
    _shop_pattern(desk)
    for platform_shop in (sandbox.shopify.shop, sandbox.woocommerce.shop):
        with platform_shop.lock:
            order = platform_shop.orders[1002]
            order["address"]["name"] = f"Ann {CARD_NAME}"
            order["address"]["address1"] = f"200 Main St {BSN}"
            order["lines"][0]["title"] = f"Rain jacket, engraved {CARD_PROPERTY}"
    conv = customer_writes(desk, "+14155550102", "where is order 1002?", "SM" + "m1" * 16)
    for platform in ("shopify", "woocommerce"):
        env = {**shop, "COMMERCE_PLATFORM": platform}
        # When the panel reads them through the platform (a miss)
        status, panel = agent_call(desk, env, "GET", f"/agent/conversations/{conv}/orders")
        assert status == 200 and panel["source"] == "platform", panel
        # Then the panel shows them as they are stored: masked, found by the phone and the number as before
        shown = panel["items"][0]
        assert (shown["number"], sorted(shown["matched_by"])) == ("1002", ["number", "phone"])
        assert shown["shipping_address"]["name"] == "Ann [card •••• 1881]"
        assert shown["shipping_address"]["address1"] == "200 Main St [BSN •••• 6782]"
        assert shown["line_items"][0]["title"] == "Rain jacket, engraved [card •••• 4444]"
        stored = _stored(desk, platform, shown["id"])
        assert stored is not None and stored["shipping_address"] == shown["shipping_address"]
    _nothing_in_clear(desk)

    # When Shopify's order webhook brings a newer copy, with a note, a note attribute and a line item property too
    with sandbox.shopify.shop.lock:
        order = sandbox.shopify.shop.orders[1002]
        order["updated_at"] = "2026-11-28T08:00:00Z"
        order["address"]["name"] = f"Ann B. {CARD_NAME}"
        payload = shopify_rest_order(sandbox.shopify.shop, order)
    payload["note"] = f"card {CARD_NOTE}"
    payload["note_attributes"] = [{"name": "gift_message", "value": IBAN}]
    payload["line_items"][0]["properties"] = [{"name": "Engraving", "value": CARD_PROPERTY}]
    body = json.dumps(payload).encode()
    status, answer = _post(desk, shop, "inbound_shopify", "/webhooks/shopify", body, {
        "X-Shopify-Topic": "orders/updated", "X-Shopify-Webhook-Id": "w-mask-1002",
        "X-Shopify-Hmac-Sha256": sign(SHOPIFY_TEST_SECRET, body)})
    assert (status, answer["status"]) == (200, "applied")
    # Then the cached panel shows the update masked, still found by the phone and the number
    status, panel = agent_call(desk, shop, "GET", f"/agent/conversations/{conv}/orders")
    assert status == 200 and panel["source"] == "cache"
    assert panel["items"][0]["shipping_address"]["name"] == "Ann B. [card •••• 1881]"
    assert sorted(panel["items"][0]["matched_by"]) == ["number", "phone"]
    _nothing_in_clear(desk)


def test_an_order_action_stores_and_answers_the_order_masked(
        desk: Any, shop: dict[str, str], sandbox: CommerceSandboxServer) -> None:  # noqa: F811
    # Given an item whose title holds a card number, on an order of Shopify's, and a shipping name holding one on an
    # order of WooCommerce's
    with sandbox.shopify.shop.lock:
        sandbox.shopify.shop.orders[1001]["lines"][1]["title"] = f"Wool socks {CARD_PROPERTY}"
    with sandbox.woocommerce.shop.lock:
        sandbox.woocommerce.shop.orders[1004]["address"]["name"] = f"Jo {CARD_NAME}"
    conv = customer_writes(desk, "+14155550101", "one pair of socks was torn, and cancel the cap", "SM" + "m2" * 16)
    # When an agent refunds the socks (the order read again through Shopify first)
    path = f"/agent/conversations/{conv}/orders/5500000001001/refund"
    assert agent_call(desk, shop, "GET", f"/agent/conversations/{conv}/orders")[0] == 200
    status, done = agent_call(desk, shop, "POST", path, body={
        "line_items": [{"line_item_id": "11002", "quantity": 1}], "confirm": True})
    assert status == 200, done
    # Then the timeline entry names the item as the cache holds it, masked
    texts = [m["text"] for m in agent_call(desk, shop, "GET", f"/agent/conversations/{conv}")[1]["messages"]
             if m["direction"] == "system"]
    assert "Refunded 10.00 USD on #1001 by Alice (1 x Wool socks [card •••• 4444])" in texts
    # When an agent cancels an order on WooCommerce, which answers with the order
    woo = {**shop, "COMMERCE_PLATFORM": "woocommerce"}
    assert agent_call(desk, woo, "GET", f"/agent/conversations/{conv}/orders")[0] == 200
    status, done = agent_call(desk, woo, "POST", f"/agent/conversations/{conv}/orders/1004/cancel",
                              body={"confirm": True, "reason": "customer"})
    # Then the order it answers with is masked as the cache holds it
    assert status == 200, done
    assert done["order"]["shipping_address"]["name"] == "Jo [card •••• 1881]"
    _nothing_in_clear(desk)
