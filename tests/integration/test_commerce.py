"""Commerce on moto: the webhook functions (verify, dedupe, order, privacy), the order panel (cache hit
and miss against the commerce sandbox) and order actions (allowed, refused, the platform refusing)."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest

from local.commerce import shopify_rest_order, shopify_wire
from shopdesk.commerce.webhooks import sign
from tests.commerce_support import (
    SHOPIFY_TEST_SECRET,
    SHOPIFY_TOKEN,
    WC_KEY,
    WC_SECRET,
    WC_TEST_SECRET,
    CommerceSandboxServer,
    commerce_sample,
    sample_names,
)
from tests.integration.helpers import customer_writes
from tests.support import http_event

ORDER_ID = "820982911946154508"


@pytest.fixture
def sandbox() -> Iterator[CommerceSandboxServer]:
    server = CommerceSandboxServer()
    yield server
    server.close()


@pytest.fixture
def shop(desk: Any, sandbox: CommerceSandboxServer) -> dict[str, str]:
    """Commerce secrets in Secrets Manager and the environment the commerce functions get."""
    sm = desk.client("secretsmanager")
    shopify = sm.create_secret(Name=f"shopify-{desk.table_name}", SecretString=json.dumps(
        {"access_token": SHOPIFY_TOKEN, "client_secret": SHOPIFY_TEST_SECRET, "previous_client_secret": ""}))["ARN"]
    woo = sm.create_secret(Name=f"woocommerce-{desk.table_name}", SecretString=json.dumps(
        {"consumer_key": WC_KEY, "consumer_secret": WC_SECRET, "webhook_secret": WC_TEST_SECRET}))["ARN"]
    return {"SHOPIFY_SECRET_ARN": shopify, "WOOCOMMERCE_SECRET_ARN": woo, "COMMERCE_PLATFORM": "shopify",
            "SHOPIFY_ADMIN_BASE_URL": sandbox.shopify_url, "WOOCOMMERCE_BASE_URL": sandbox.woocommerce_url}


def _post(desk: Any, shop: dict[str, str], function: str, path: str, body: bytes,
          headers: dict[str, str]) -> tuple[int, Any]:
    event = http_event("POST", path, base64.b64encode(body).decode(), headers)
    event["isBase64Encoded"] = True
    result = desk.invoke(function, event, **shop)
    return result["statusCode"], json.loads(result["body"]) if result.get("body") else None


def shopify_sample(desk: Any, shop: dict[str, str], name: str, **header_changes: str) -> tuple[int, Any]:
    body, meta = commerce_sample("shopify", name)
    headers = {**meta["http"]["headers"], **header_changes}
    return _post(desk, shop, "inbound_shopify", "/webhooks/shopify", body, headers)


def woo_sample(desk: Any, shop: dict[str, str], name: str, **header_changes: str) -> tuple[int, Any]:
    body, meta = commerce_sample("woocommerce", name)
    return _post(desk, shop, "inbound_woocommerce", "/webhooks/woocommerce", body,
                 {**meta["http"]["headers"], **header_changes})


def _stored(desk: Any, platform: str, order_id: str) -> dict[str, Any] | None:
    item = desk.item(f"ORDER#{platform}#{order_id}")
    return json.loads(item["body"]) if item else None


# ------------------------------------------------------------------------------ webhooks

def test_bad_shopify_signature_is_refused_with_401_and_nothing_is_stored(desk: Any, shop: dict[str, str]) -> None:
    body, meta = commerce_sample("shopify", "orders_create")
    status, _ = shopify_sample(desk, shop, "orders_create", **{"X-Shopify-Hmac-Sha256": sign("wrong", body)})
    assert status == 401
    status, _ = _post(desk, shop, "inbound_shopify", "/webhooks/shopify", body.replace(b"jon@", b"eve@"),
                      meta["http"]["headers"])
    assert status == 401
    assert _stored(desk, "shopify", ORDER_ID) is None
    assert desk.item(f"EXTHOOK#shopify#{meta['http']['headers']['X-Shopify-Webhook-Id']}") is None


def test_after_a_rotation_shopifys_previous_secret_is_accepted_for_as_long_as_it_is_set(desk: Any,
                                                                                         shop: dict[str, str]) -> None:
    sm = desk.client("secretsmanager")

    def shopify_secret(name: str, previous: str) -> str:
        return sm.create_secret(Name=f"shopify-{name}-{desk.table_name}", SecretString=json.dumps(
            {"access_token": SHOPIFY_TOKEN, "client_secret": "the-new-secret",
             "previous_client_secret": previous}))["ARN"]

    body, meta = commerce_sample("shopify", "orders_create")        # signed with the secret before the rotation
    # Given a rotated client secret with the old one kept in previous_client_secret
    rotating = {**shop, "SHOPIFY_SECRET_ARN": shopify_secret("rotating", SHOPIFY_TEST_SECRET)}
    # Then a delivery signed with the old secret is applied, and one signed with the new secret too
    assert _post(desk, rotating, "inbound_shopify", "/webhooks/shopify", body, meta["http"]["headers"])[0] == 200
    assert _stored(desk, "shopify", ORDER_ID) is not None
    renamed = body.replace(b"jon@", b"joe@")
    headers = {**meta["http"]["headers"], "X-Shopify-Hmac-Sha256": sign("the-new-secret", renamed),
               "X-Shopify-Webhook-Id": "rotation-new-secret"}
    assert _post(desk, rotating, "inbound_shopify", "/webhooks/shopify", renamed, headers)[0] == 200
    # and once previous_client_secret is emptied, the old secret is refused
    rotated = {**shop, "SHOPIFY_SECRET_ARN": shopify_secret("rotated", "")}
    headers = {**meta["http"]["headers"], "X-Shopify-Webhook-Id": "rotation-old-secret"}
    assert _post(desk, rotated, "inbound_shopify", "/webhooks/shopify", body, headers)[0] == 401


def test_every_shopify_sample_is_verified_applied_and_its_redelivery_is_a_no_op(desk: Any,
                                                                                 shop: dict[str, str]) -> None:
    first = {name: shopify_sample(desk, shop, name) for name in sample_names("shopify")}
    assert all(status == 200 for status, _ in first.values()), first
    assert first["customers_redact"][1]["status"] == "recorded"
    assert first["orders_fulfilled_multi_fulfillment"][1]["status"] == "applied"
    again = {name: shopify_sample(desk, shop, name) for name in sample_names("shopify")}
    assert {answer["status"] for _, answer in again.values()} == {"duplicate"}
    stored = _stored(desk, "shopify", ORDER_ID)
    assert stored is not None
    tracking = [t["number"] for f in stored["fulfillments"] for t in f["tracking"]]
    assert tracking == ["1Z999AA10123456784", "1Z999AA10123456795", "1234567890"]
    assert [r["amount"] for r in stored["refunds"]] == ["85.00"]
    # the fulfilment of an order never seen made a partial order, not a lost update
    partial = _stored(desk, "shopify", "4782097891581")
    assert partial is not None and partial["partial"] and partial["name"] == "#1005"
    assert json.loads(desk.item("SHOPCUSTOMER#shopify#706405506930370084")["body"])["phone"] == "+16135550142"


@pytest.mark.parametrize("order", [("orders_updated_arrives_first", "orders_create_arrives_second"),
                                   ("orders_create_arrives_second", "orders_updated_arrives_first")])
def test_out_of_order_updates_end_in_the_newest_state(desk: Any, shop: dict[str, str], order: tuple[str, str]) -> None:
    answers = [shopify_sample(desk, shop, name) for name in order]
    assert [status for status, _ in answers] == [200, 200]
    stored = _stored(desk, "shopify", ORDER_ID)
    assert stored is not None
    assert stored["financial_status"] == "paid"
    assert stored["updated_at"] == "2026-03-02T15:16:41.000000Z"      # the shop's 10:16:41-05:00, kept in UTC
    assert desk.item(f"ORDER#shopify#{ORDER_ID}")["updated_at"] == "2026-03-02T15:16:41.000Z"   # compared in UTC
    if order[0] == "orders_updated_arrives_first":
        assert answers[1][1]["status"] == "stale"        # the older create changed nothing


def test_privacy_requests_are_recorded_once_and_listed_for_admins(desk: Any, shop: dict[str, str]) -> None:
    assert shopify_sample(desk, shop, "customers_redact")[1]["status"] == "recorded"
    assert shopify_sample(desk, shop, "customers_redact")[1]["status"] == "duplicate"
    assert shopify_sample(desk, shop, "customers_redact", **{"X-Shopify-Hmac-Sha256": "AAAA"})[0] == 401

    def admin(groups: str) -> tuple[int, Any]:
        event = http_event("GET", "/admin/privacy-requests", claims={"cognito:username": "alice",
                                                                     "cognito:groups": groups})
        result = desk.invoke("admin_api", event, **shop)
        return result["statusCode"], json.loads(result["body"])

    status, listing = admin("[admins]")
    assert status == 200 and len(listing["items"]) == 1
    request = listing["items"][0]
    # (nobody of ours has John's address: nothing to erase, and the request says so rather than stay open, keeping
    # a hash of each identifier, not John's address, his orders or the payload)
    assert request["topic"] == "customers/redact" and request["orders"] == [] and request["customer"] is None
    assert set(request["identifiers"]) == {"id", "email", "phone"} and "john@example.com" not in json.dumps(request)
    assert request["status"] == "nothing_held" and request["job_id"] is None
    assert admin("[supervisors]")[0] == 403


def test_woocommerce_ping_order_lifecycle_and_bad_signature(desk: Any, shop: dict[str, str]) -> None:
    body, meta = commerce_sample("woocommerce", "webhook_ping")
    status, answer = _post(desk, shop, "inbound_woocommerce", "/webhooks/woocommerce", body, meta["http"]["headers"])
    assert (status, answer["status"]) == (200, "ping")
    assert woo_sample(desk, shop, "order_created", **{"X-WC-Webhook-Signature": "bm9wZQ=="})[0] == 401
    assert _stored(desk, "woocommerce", "727") is None
    assert woo_sample(desk, shop, "order_created")[1]["status"] == "applied"
    assert woo_sample(desk, shop, "order_created")[1]["status"] == "duplicate"
    assert woo_sample(desk, shop, "order_deleted")[1]["status"] == "applied"
    stored = _stored(desk, "woocommerce", "727")
    assert stored is not None and stored["platform_status"] == "trash"
    assert woo_sample(desk, shop, "customer_created")[1]["status"] == "applied"
    assert woo_sample(desk, shop, "order_updated_partial_refund_nonascii")[1]["status"] == "applied"


def test_a_topic_we_do_not_use_is_acknowledged_once(desk: Any, shop: dict[str, str]) -> None:
    body = b'{"id":548380009,"name":"Example Shop"}'
    headers = {"X-Shopify-Topic": "app/uninstalled", "X-Shopify-Webhook-Id": "w-uninstall",
               "X-Shopify-Hmac-Sha256": sign(SHOPIFY_TEST_SECRET, body)}
    assert _post(desk, shop, "inbound_shopify", "/webhooks/shopify", body, headers)[1]["status"] == "ignored"
    assert _post(desk, shop, "inbound_shopify", "/webhooks/shopify", body, headers)[1]["status"] == "duplicate"


def test_woocommerce_takes_no_unsigned_body_but_its_ping_and_the_ping_stores_nothing(desk: Any,
                                                                                     shop: dict[str, str]) -> None:
    # WooCommerce sends its ping unsigned when a webhook is saved: that exact form is answered, and stores nothing
    def items() -> int:
        return desk.client("dynamodb").scan(TableName=desk.table_name, Select="COUNT")["Count"]

    before = items()
    ping, ping_meta = commerce_sample("woocommerce", "webhook_ping")
    status, answer = _post(desk, shop, "inbound_woocommerce", "/webhooks/woocommerce", ping,
                           ping_meta["http"]["headers"])
    assert (status, answer["status"]) == (200, "ping") and items() == before
    # any other body without a signature is refused, one that starts as a ping included
    order, meta = commerce_sample("woocommerce", "order_created")
    unsigned = {k: v for k, v in meta["http"]["headers"].items() if k.lower() != "x-wc-webhook-signature"}
    for body in (order, ping.strip() + b"&topic=order.created", b"webhook_id=1\n" + order):
        assert _post(desk, shop, "inbound_woocommerce", "/webhooks/woocommerce", body, unsigned)[0] == 401
    assert items() == before and _stored(desk, "woocommerce", "727") is None

@pytest.mark.parametrize("given", [b"null", b"1e400"])
def test_a_signed_order_or_customer_without_a_usable_id_is_refused_and_nothing_is_stored(
        desk: Any, shop: dict[str, str], given: bytes) -> None:
    body = b'{"id":' + given + b',"customer":"x","status":"processing","total":"1.00"}'
    status, problem = _post(desk, shop, "inbound_woocommerce", "/webhooks/woocommerce", body, {
        "X-WC-Webhook-Topic": "order.updated", "X-WC-Webhook-Delivery-ID": "d-" + given.decode(),
        "X-WC-Webhook-Signature": sign(WC_TEST_SECRET, body)})
    assert status == 400 and "order.updated body is not what WooCommerce sends: id must be" in json.dumps(problem)
    body = b'{"id":' + given + b',"email":"a@example.com","phone":"+31611112222"}'
    status, _ = _post(desk, shop, "inbound_shopify", "/webhooks/shopify", body, {
        "X-Shopify-Topic": "customers/update", "X-Shopify-Webhook-Id": "w-" + given.decode(),
        "X-Shopify-Hmac-Sha256": sign(SHOPIFY_TEST_SECRET, body)})
    assert status == 400
    items = desk.client("dynamodb").scan(TableName=desk.table_name)["Items"]
    assert [i["PK"]["S"] for i in items if i["PK"]["S"].startswith(("ORDER#", "SHOPCUSTOMER#", "COMMERCE#"))] == []


def test_unsigned_json_without_a_topic_is_refused(desk: Any, shop: dict[str, str]) -> None:
    body = b'{"id": 1}'
    status, _ = _post(desk, shop, "inbound_shopify", "/webhooks/shopify", body,
                      {"X-Shopify-Hmac-Sha256": sign(SHOPIFY_TEST_SECRET, body)})
    assert status == 400
    status, _ = _post(desk, shop, "inbound_shopify", "/webhooks/shopify", b"not json",
                      {"X-Shopify-Hmac-Sha256": sign(SHOPIFY_TEST_SECRET, b"not json"),
                       "X-Shopify-Topic": "orders/create"})
    assert status == 400


# ------------------------------------------------------------------------------ the order panel and actions

def agent_call(desk: Any, shop: dict[str, str], method: str, path: str, agent_id: str = "alice",
               body: Any = None, groups: str | None = "[admins]", query: str = "") -> tuple[int, Any]:
    claims = {"cognito:username": agent_id, "name": agent_id.title()}
    if groups is not None:
        claims["cognito:groups"] = groups
    event = http_event(method, path, json.dumps(body) if body is not None else None,
                       {"content-type": "application/json"}, query=query, claims=claims)
    result = desk.invoke("agent_api", event, **shop)
    return result["statusCode"], json.loads(result["body"]) if result.get("body") else None


def test_order_panel_reads_through_on_a_miss_then_answers_from_the_cache(
        desk: Any, shop: dict[str, str], sandbox: CommerceSandboxServer) -> None:
    conv = customer_writes(desk, "+14155550101", "Hi! Where is order #1003? And pedido 1001", "SM" + "c1" * 16)
    status, panel = agent_call(desk, shop, "GET", f"/agent/conversations/{conv}/orders")
    assert status == 200, panel
    assert panel["source"] == "platform" and panel["numbers"] == ["1003", "1001"]
    assert [(o["name"], sorted(o["matched_by"])) for o in panel["items"]] == \
        [("#1004", ["phone"]), ("#1001", ["number", "phone"]), ("#1003", ["number"])]
    shipped = panel["items"][1]
    assert shipped["tracking"] == [{"number": "1Z999AA10123456784", "company": "UPS",
                                    "url": "https://www.ups.com/track?tracknum=1Z999AA10123456784"}]
    calls = sandbox.calls("shopify")
    status, again = agent_call(desk, shop, "GET", f"/agent/conversations/{conv}/orders")
    assert status == 200 and again["source"] == "cache" and again["items"] == panel["items"]
    assert sandbox.calls("shopify") == calls                 # a hit asks the platform nothing


def test_the_panel_says_whether_the_caller_may_act_on_its_orders(desk: Any, shop: dict[str, str]) -> None:
    conv = customer_writes(desk, "+14155550101", "cancel order #1004 please", "SM" + "c7" * 16)
    path = f"/agent/conversations/{conv}/orders"
    # an admin may (ORDER_ACTION_GROUPS: supervisors and admins by default) ...
    status, panel = agent_call(desk, shop, "GET", path)
    assert status == 200 and panel["actions_allowed"] is True
    # ... the assigned agent in no such group sees the orders but not the actions
    status, panel = agent_call(desk, shop, "GET", path, groups=None)
    assert status == 200 and panel["items"] and panel["actions_allowed"] is False
    # ... and with no platform connected nobody may
    status, panel = agent_call(desk, {**shop, "COMMERCE_PLATFORM": "none"}, "GET", path)
    assert status == 200 and panel["actions_allowed"] is False


def test_a_webhook_update_shows_in_the_cached_panel(desk: Any, shop: dict[str, str],
                                                    sandbox: CommerceSandboxServer) -> None:
    conv = customer_writes(desk, "+14155550102", "where is my jacket", "SM" + "c2" * 16)
    assert agent_call(desk, shop, "GET", f"/agent/conversations/{conv}/orders")[1]["source"] == "platform"
    with sandbox.shopify.shop.lock:
        order = sandbox.shopify.shop.orders[1002]
        order["fulfillments"][0]["tracking"].append({"number": "JJD000390007", "company": "DHL Express", "url": None})
        order["fulfillments"][0]["updated_at"] = order["updated_at"] = "2026-11-28T08:00:00Z"
        body = shopify_wire(shopify_rest_order(sandbox.shopify.shop, order))
    status, answer = _post(desk, shop, "inbound_shopify", "/webhooks/shopify", body, {
        "X-Shopify-Topic": "orders/updated", "X-Shopify-Webhook-Id": "w-1002",
        "X-Shopify-Hmac-Sha256": sign(SHOPIFY_TEST_SECRET, body)})
    assert (status, answer["status"]) == (200, "applied")
    panel = agent_call(desk, shop, "GET", f"/agent/conversations/{conv}/orders")[1]
    assert panel["source"] == "cache"
    assert [t["number"] for t in panel["items"][0]["tracking"]] == ["1234567890", "JJD000390007"]


def test_cancel_is_two_step_role_checked_and_on_the_timeline(desk: Any, shop: dict[str, str]) -> None:
    conv = customer_writes(desk, "+14155550101", "please cancel my cap order", "SM" + "c3" * 16)
    panel = agent_call(desk, shop, "GET", f"/agent/conversations/{conv}/orders")[1]
    cap = next(o for o in panel["items"] if o["name"] == "#1004")
    path = f"/agent/conversations/{conv}/orders/{cap['id']}/cancel"
    status, preview = agent_call(desk, shop, "POST", path, body={})
    assert status == 409 and preview["code"] == "confirmation_required"
    assert preview["preview"]["refund_amount"] == "45.00" and "confirm" in preview["detail"]
    assert agent_call(desk, shop, "POST", path, agent_id="bob", body={"confirm": True}, groups=None)[0] == 403
    status, done = agent_call(desk, shop, "POST", path, body={"confirm": True, "reason": "customer"})
    assert status == 200, done
    assert done["order"]["cancelled_at"] and done["order"]["financial_status"] == "refunded"
    timeline = agent_call(desk, shop, "GET", f"/agent/conversations/{conv}")[1]["messages"]
    note = next(m for m in timeline if m["id"] == done["timeline_message_id"])
    assert note["direction"] == "system" and note["text"] == "Order #1004 cancelled by Alice (reason: customer)"
    assert note["event"] == {"kind": "order_cancelled", "params": {"order": "#1004", "by": "alice",
                                                                    "reason": "customer"}}
    assert note["author"] == "alice"
    status, again = agent_call(desk, shop, "POST", path, body={"confirm": True})
    assert status == 409 and "already cancelled" in again["detail"]


def test_refund_refusals_in_words_and_a_partial_refund(desk: Any, shop: dict[str, str],
                                                        sandbox: CommerceSandboxServer) -> None:
    conv = customer_writes(desk, "+14155550101", "one pair of socks was torn", "SM" + "c4" * 16)
    panel = agent_call(desk, shop, "GET", f"/agent/conversations/{conv}/orders")[1]
    shoes = next(o for o in panel["items"] if o["name"] == "#1001")
    path = f"/agent/conversations/{conv}/orders/{shoes['id']}/refund"
    cancel = f"/agent/conversations/{conv}/orders/{shoes['id']}/cancel"
    assert agent_call(desk, shop, "POST", cancel, body={"confirm": True})[1]["detail"].startswith(
        "order #1001 has been fulfilled")
    status, wrong = agent_call(desk, shop, "POST", path, body={"confirm": True, "line_items": [
        {"line_item_id": "99999", "quantity": 1}]})
    assert status == 422 and wrong["code"] == "invalid_line_items" and "11001" in wrong["detail"]
    socks = {"line_items": [{"line_item_id": "11002", "quantity": 1}], "note": "torn"}
    status, preview = agent_call(desk, shop, "POST", path, body=socks)
    assert status == 409 and preview["preview"]["refund_amount"] == "10.00"
    sandbox.shopify.refusals.append("The payment gateway declined the refund")
    status, refused = agent_call(desk, shop, "POST", path, body={**socks, "confirm": True})
    assert status == 422 and refused["code"] == "platform_refused"
    assert refused["reasons"] == ["The payment gateway declined the refund"]
    status, done = agent_call(desk, shop, "POST", path, body={**socks, "confirm": True})
    assert status == 200 and done["message"] == "Refunded 10.00 USD on #1001"
    assert done["order"]["financial_status"] == "partially_refunded"
    system = [m for m in agent_call(desk, shop, "GET", f"/agent/conversations/{conv}")[1]["messages"]
              if m["direction"] == "system"]
    texts = [m["text"] for m in system]
    assert any("tried to refund order #1001" in t and "declined" in t for t in texts)
    assert "Refunded 10.00 USD on #1001 by Alice (1 x Wool socks)" in texts
    events = {m["event"]["kind"]: m["event"]["params"] for m in system if m["event"]}
    assert events["order_refund_failed"]["order"] == "#1001" and "declined" in events["order_refund_failed"]["error"]
    assert events["order_refunded"] == {"order": "#1001", "by": "alice", "amount": "10.00", "currency": "USD",
                                        "items": [{"title": "Wool socks", "quantity": 1}]}


def test_actions_only_on_the_conversations_own_orders(desk: Any, shop: dict[str, str]) -> None:
    conv = customer_writes(desk, "+14155550103", "hello", "SM" + "c5" * 16)
    status, answer = agent_call(desk, shop, "POST", f"/agent/conversations/{conv}/orders/5500000001004/cancel",
                                body={"confirm": True})
    assert status == 404 and "not among this conversation's orders" in answer["detail"]
    assert agent_call(desk, shop, "GET", "/agent/conversations/nope/orders")[0] == 404


def test_an_unreachable_platform_shows_the_cached_orders_and_says_so(desk: Any, shop: dict[str, str],
                                                                      sandbox: CommerceSandboxServer) -> None:
    down = {**shop, "SHOPIFY_ADMIN_BASE_URL": "http://127.0.0.1:9"}
    conv = customer_writes(desk, "+14155550102", "where is order 1002?", "SM" + "c7" * 16)
    with sandbox.shopify.shop.lock:
        body = shopify_wire(shopify_rest_order(sandbox.shopify.shop, sandbox.shopify.shop.orders[1002]))
    _post(desk, shop, "inbound_shopify", "/webhooks/shopify", body, {
        "X-Shopify-Topic": "orders/create", "X-Shopify-Webhook-Id": "w-down",
        "X-Shopify-Hmac-Sha256": sign(SHOPIFY_TEST_SECRET, body)})
    status, panel = agent_call(desk, down, "GET", f"/agent/conversations/{conv}/orders")
    assert status == 200 and [o["name"] for o in panel["items"]] == ["#1002"]
    assert panel["source"] == "cache" and "could not be asked" in panel["warnings"][0]


def test_a_conversation_opened_with_its_panels_answers_each_as_its_own_route(desk: Any, shop: dict[str, str]) -> None:
    # Given a customer asking about an order, whose panel has been read once (so both reads below are cached)
    conv = customer_writes(desk, "+14155550104", "where is my order 1002?", "SM" + "c8" * 16)
    path = f"/agent/conversations/{conv}"
    assert agent_call(desk, shop, "GET", path + "/orders")[0] == 200
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    for who, groups in (("alice", "[]"), ("root", "[admins]")):
        # When the conversation is opened with every panel
        status, opened = agent_call(desk, shop, "GET", path, who, groups=groups,
                                    query="include=assist,orders,customer,duplicates")
        assert status == 200, opened
        included = opened.pop("included")
        # Then the conversation is what a plain read answers, and each panel what its own route answers
        plain = agent_call(desk, shop, "GET", path, who, groups=groups)[1]
        assert plain.pop("included") is None and opened == plain
        assert included == {
            "customer": agent_call(desk, shop, "GET", f"/agent/customers/{customer}", who, groups=groups)[1],
            "duplicates": agent_call(desk, shop, "GET", f"/agent/customers/{customer}/duplicates", who,
                                     groups=groups)[1],
            "orders": agent_call(desk, shop, "GET", path + "/orders", who, groups=groups)[1],
            "assist": agent_call(desk, shop, "GET", path + "/assist", who, groups=groups)[1]}
        assert [o["name"] for o in included["orders"]["items"]] == ["#1002"]
        assert included["orders"]["actions_allowed"] is (who == "root")
    # and only what was asked for is answered
    only = agent_call(desk, shop, "GET", path, query="include=assist")[1]["included"]
    assert only["assist"] is not None and only["customer"] is only["duplicates"] is only["orders"] is None


def test_a_conversation_opened_with_its_panels_never_waits_for_the_shop(desk: Any, shop: dict[str, str]) -> None:
    # Given a customer whose orders nobody has read yet (not cached)
    conv = customer_writes(desk, "+14155550106", "where is my order 1002?", "SM" + "d1" * 16)
    path = f"/agent/conversations/{conv}"
    # When the conversation is opened with every panel
    status, opened = agent_call(desk, shop, "GET", path, query="include=customer,duplicates,orders,assist")
    # Then the orders are left out (the platform was not asked), the rest answered
    assert status == 200 and opened["included"]["orders"] is None
    assert opened["included"]["customer"] is not None and opened["included"]["assist"] is not None
    # and the panel's own route reads them through the platform, after which an opening has them from the cache
    panel = agent_call(desk, shop, "GET", path + "/orders")[1]
    assert panel["source"] == "platform" and [o["name"] for o in panel["items"]] == ["#1002"]
    again = agent_call(desk, shop, "GET", path, query="include=orders")[1]["included"]["orders"]
    assert again["source"] == "cache" and [o["name"] for o in again["items"]] == ["#1002"]


@pytest.mark.parametrize("include", ["orders,everything", "customer;orders", "x" * 65])
def test_an_include_that_names_no_panel_is_refused(desk: Any, shop: dict[str, str], include: str) -> None:
    conv = customer_writes(desk, "+14155550105", "hello", "SM" + "c9" * 16)
    status, problem = agent_call(desk, shop, "GET", f"/agent/conversations/{conv}", query=f"include={include}")
    assert status in (400, 422) and problem["status"] == status, problem


def test_without_a_platform_the_panel_is_empty_and_actions_say_why(desk: Any, shop: dict[str, str]) -> None:
    none = {**shop, "COMMERCE_PLATFORM": "none"}
    conv = customer_writes(desk, "+14155550101", "order #1001?", "SM" + "c6" * 16)
    status, panel = agent_call(desk, none, "GET", f"/agent/conversations/{conv}/orders")
    assert status == 200 and panel["items"] == [] and panel["source"] == "none" and panel["numbers"] == ["1001"]
    status, answer = agent_call(desk, none, "POST", f"/agent/conversations/{conv}/orders/1/cancel", body={})
    assert status == 409 and "no shop platform" in answer["detail"]


def test_the_commerce_routes_and_models_are_in_the_openapi_document(desk: Any, shop: dict[str, str]) -> None:
    result = desk.invoke("agent_api", http_event("GET", "/agent/openapi.json"), **shop)
    doc = json.loads(result["body"])
    paths = doc["paths"]
    assert "get" in paths["/agent/conversations/{conversation_id}/orders"]
    assert "post" in paths["/agent/conversations/{conversation_id}/orders/{order_id}/cancel"]
    assert "post" in paths["/agent/conversations/{conversation_id}/orders/{order_id}/refund"]
    assert {"OrderPanelOut", "OrderOut", "CancelIn", "RefundIn", "ActionOut"} <= set(doc["components"]["schemas"])


def test_shopifys_redact_request_erases_the_customer_it_names(desk: Any, shop: dict[str, str]) -> None:
    from tests.integration.test_email import _deliver, _eml
    # Given John, who wrote by email (the raw mail kept in S3, as SES stores it)
    raw = _eml(sender="John Doe <john@example.com>", body="Hi, John here about my order\n")
    _deliver(desk, raw, "john-1")
    assert desk.item("IDENTITY#email#john@example.com") is not None
    # When Shopify sends customers/redact for john@example.com and the privacy function runs
    status, answer = shopify_sample(desk, shop, "customers_redact")
    assert (status, answer["status"]) == (200, "recorded")
    event = http_event("GET", "/admin/privacy-requests",
                       claims={"cognito:username": "root", "cognito:groups": "[admins]"})
    [running] = json.loads(desk.invoke("admin_api", event, **shop)["body"])["items"]
    assert running["status"] == "running" and running["job_id"]
    desk.drain_queue(desk.env["PRIVACY_QUEUE_URL"], "privacy")
    # Then John is gone from the table and his raw mail from S3, and the request stays without his data,
    # done, with the erase that answered it
    assert desk.item("IDENTITY#email#john@example.com") is None
    assert desk.client("s3").list_objects_v2(Bucket=desk.env["MAIL_BUCKET"]).get("KeyCount") == 0
    [request] = json.loads(desk.invoke("admin_api", event, **shop)["body"])["items"]
    assert request["topic"] == "customers/redact" and request["customer"] is None
    assert "john@example.com" not in json.dumps(request)
    assert request["status"] == "done" and request["job_id"] == running["job_id"]


@pytest.mark.parametrize("topic", ["customers/redact", "customers/data_request"])
def test_a_signed_privacy_request_sent_again_under_a_new_id_is_a_replay_refused_that_starts_nothing(
        desk: Any, shop: dict[str, str], topic: str) -> None:
    # Given a customer who texts, and Shopify's request about their number, answered
    phone = "+31612340088"
    customer_writes(desk, phone, "Hi, where is my parcel?", "SMreplay1")
    first = desk.item(f"IDENTITY#phone#{phone}")["customer_id"]
    named = {"id": 5550088, "email": None, "phone": phone}
    status, answer = _shopify_privacy(desk, shop, topic, named, "privacy-genuine")
    assert (status, answer["status"]) == (200, "recorded"), answer
    assert desk.drain_queue(desk.env["PRIVACY_QUEUE_URL"], "privacy") == 1
    # and whoever texts from that number afterwards (after a redact: someone new to the desk)
    customer_writes(desk, phone, "Hello, is the shop open on Sunday?", "SMreplay2")
    now = desk.item(f"IDENTITY#phone#{phone}")["customer_id"]
    assert (now != first) == (topic == "customers/redact")
    # When the same signed body is sent again under an id Shopify never gave (the id header is not signed)
    status, answer = _shopify_privacy(desk, shop, topic, named, "privacy-replayed")
    # Then it is answered 200 (nothing to retry) as a replay refused, and starts nothing: no job, no request kept
    assert (status, answer["status"]) == (200, "replay_refused"), answer
    assert desk.drain_queue(desk.env["PRIVACY_QUEUE_URL"], "privacy") == 0
    assert desk.item(f"IDENTITY#phone#{phone}")["customer_id"] == now and desk.item(f"CUSTOMER#{now}") is not None
    assert [r["id"] for r in _privacy_requests(desk, shop)] == ["privacy-genuine"]
    assert desk.item("EXTHOOK#shopify#privacy-replayed") is None
    # and the trail says so, under the id it came with, naming nobody
    trail = _audit_of(desk, "system:shopify")
    assert sorted((r["action"], r["target"]) for r in trail if r["action"] != "privacy.request.nothing_held") == [
        ("privacy.request.received", "privacy-genuine"), ("privacy.request.replay_refused", "privacy-replayed")]
    assert phone.removeprefix("+") not in json.dumps(trail)
    # while Shopify's own retry of the first delivery (the same id) is the duplicate it always was
    assert _shopify_privacy(desk, shop, topic, named, "privacy-genuine")[1]["status"] == "duplicate"
    # and the marker that refused it holds the body's digest and Shopify's first id, nothing of the person
    marker = next(i for i in desk.client("dynamodb").scan(TableName=desk.table_name)["Items"]
                  if i["PK"]["S"].startswith("PRIVACYBODY#"))
    assert phone.removeprefix("+") not in json.dumps(marker) and "ttl" not in marker


def test_a_shop_redact_sent_again_under_a_new_id_is_a_replay_refused(desk: Any, shop: dict[str, str]) -> None:
    body = json.dumps({"shop_id": 954889, "shop_domain": "example-shop.myshopify.com"}).encode()

    def deliver(delivery: str) -> tuple[int, Any]:
        return _post(desk, shop, "inbound_shopify", "/webhooks/shopify", body, {
            "Content-Type": "application/json", "X-Shopify-Topic": "shop/redact", "X-Shopify-Webhook-Id": delivery,
            "X-Shopify-Shop-Domain": "example-shop.myshopify.com",
            "X-Shopify-Hmac-Sha256": sign(SHOPIFY_TEST_SECRET, body)})

    assert deliver("shop-redact-genuine")[1]["status"] == "recorded"
    assert desk.drain_queue(desk.env["PRIVACY_QUEUE_URL"], "privacy") >= 1
    # a shop that installs the app again and fills the cache is not emptied by the old request sent again
    assert shopify_sample(desk, shop, "orders_create")[0] == 200
    assert deliver("shop-redact-replayed") == (200, {"status": "replay_refused", "topic": "shop/redact",
                                                     "delivery_id": "shop-redact-replayed"})
    assert desk.drain_queue(desk.env["PRIVACY_QUEUE_URL"], "privacy") == 0
    assert _commerce_items(desk)
    assert deliver("shop-redact-genuine")[1]["status"] == "duplicate"


def test_an_order_naming_someone_elses_phone_never_joins_its_email_to_them(desk: Any, shop: dict[str, str]) -> None:
    # Given a customer who writes by SMS about her delivery
    from tests.integration.test_email import _deliver, _eml
    victim_phone = "+31612340001"
    victim_conv = customer_writes(desk, victim_phone, "Please deliver to my new address, Keizersgracht 1", "SMvic1")
    victim = desk.item(f"IDENTITY#phone#{victim_phone}")["customer_id"]
    # When anyone places an order with their own email and her phone (a checkout does not verify either)
    order = json.loads(commerce_sample("shopify", "orders_create")[0])
    order.update({"id": 820982911946150001, "name": "#7001", "email": "mallory@evil.example",
                  "contact_email": "mallory@evil.example", "phone": victim_phone})
    body = json.dumps(order).encode()
    headers = {"Content-Type": "application/json", "X-Shopify-Topic": "orders/create",
               "X-Shopify-Webhook-Id": "w-mallory", "X-Shopify-Hmac-Sha256": sign(SHOPIFY_TEST_SECRET, body)}
    status, answer = _post(desk, shop, "inbound_shopify", "/webhooks/shopify", body, headers)
    assert status == 200 and answer["status"] == "applied", answer
    # Then the email is not made hers: the order is evidence for an agent, not a link
    assert desk.item("IDENTITY#email#mallory@evil.example") is None
    assert [i["kind"] for i in desk.item(f"CUSTOMER#{victim}")["identities"]] == ["phone"]
    # and mail from that address is a stranger's, never a message in her conversation (nor a way to her replies)
    result = _deliver(desk, _eml(
        sender="Mallory <mallory@evil.example>", subject="Any news?", body="What did you tell me earlier?",
        message_id="<m-mallory@evil.example>"), "m-mallory")
    assert not (result or {}).get("batchItemFailures"), result
    mallory = desk.item("IDENTITY#email#mallory@evil.example")
    assert mallory["customer_id"] != victim and mallory["open_conversation_id"] != victim_conv
    # while an agent is shown the two as likely the same person, with the order as the evidence
    status, found = agent_call(desk, shop, "GET", f"/agent/customers/{victim}/duplicates")
    assert status == 200, found
    assert [(d["customer"]["id"], d["evidence"][0]["order"]) for d in found["items"]] == [
        (mallory["customer_id"], "#7001")]


def test_an_order_found_only_by_the_number_a_customer_typed_is_not_theirs_to_cancel_or_refund(
        desk: Any, shop: dict[str, str], sandbox: CommerceSandboxServer) -> None:
    # Given someone who writes another customer's order number (numbers are short, and on every parcel)
    conv = customer_writes(desk, "+14155550103", "Cancel order #1004 please, and refund it", "SM" + "c9" * 16)
    status, panel = agent_call(desk, shop, "GET", f"/agent/conversations/{conv}/orders")
    assert status == 200, panel
    [found] = [o for o in panel["items"] if o["name"] == "#1004"]
    assert found["matched_by"] == ["number"]           # the panel shows it, saying how it was found
    # When an agent who may act tries to cancel or refund it
    for action in ("cancel", "refund"):
        status, answer = agent_call(desk, shop, "POST", f"/agent/conversations/{conv}/orders/{found['id']}/{action}",
                                    body={"confirm": True})
        # Then it is refused in words, and nothing reaches the shop
        assert status == 409 and "found only by the number" in answer["detail"], answer
    with sandbox.shopify.shop.lock:
        order = sandbox.shopify.shop.orders[1004]
        assert not order.get("cancelled_at") and not order.get("refunds"), order


# ------------------------------------------------------------------------ Shopify's privacy requests: every customer


def _shopify_privacy(desk: Any, shop: dict[str, str], topic: str, customer: dict[str, Any], delivery: str,
                     **extra: Any) -> tuple[int, Any]:
    """A signed customers/redact or customers/data_request as Shopify sends it (customer {id, email, phone})."""
    orders = "orders_to_redact" if topic == "customers/redact" else "orders_requested"
    body = json.dumps({"shop_id": 954889, "shop_domain": "example-shop.myshopify.com", "customer": customer,
                       orders: [], **extra}).encode()
    return _post(desk, shop, "inbound_shopify", "/webhooks/shopify", body, {
        "Content-Type": "application/json", "X-Shopify-Topic": topic, "X-Shopify-Webhook-Id": delivery,
        "X-Shopify-Shop-Domain": "example-shop.myshopify.com",
        "X-Shopify-Hmac-Sha256": sign(SHOPIFY_TEST_SECRET, body)})


def _privacy_requests(desk: Any, shop: dict[str, str]) -> list[dict[str, Any]]:
    event = http_event("GET", "/admin/privacy-requests", claims={"cognito:username": "root",
                                                                 "cognito:groups": "[admins]"})
    return list(json.loads(desk.invoke("admin_api", event, **shop)["body"])["items"])


def _one_person_twice(desk: Any) -> tuple[str, str, str, str]:
    """Jane writes by email and by SMS: two customers of ours, not merged. (email, phone, their ids)."""
    from tests.integration.test_email import _deliver, _eml
    _deliver(desk, _eml(sender="Jane Roe <jane@example.com>", body="Hi, Jane here about my order\n",
                        message_id="<jane-1@example.com>"), "jane-1")
    customer_writes(desk, "+31612340077", "Jane again, by text: where is my parcel?", "SMjane1")
    by_mail = desk.item("IDENTITY#email#jane@example.com")["customer_id"]
    by_text = desk.item("IDENTITY#phone#+31612340077")["customer_id"]
    assert by_mail != by_text
    return "jane@example.com", "+31612340077", by_mail, by_text


def test_shopifys_redact_naming_an_email_and_a_phone_erases_both_customers(desk: Any, shop: dict[str, str]) -> None:
    # Given Jane as two customers of ours: one by email, one by SMS
    email, phone, by_mail, by_text = _one_person_twice(desk)
    # When Shopify asks to redact the shop customer with both
    status, answer = _shopify_privacy(desk, shop, "customers/redact", {"id": 5550077, "email": email, "phone": phone},
                                      "redact-jane")
    assert (status, answer["status"]) == (200, "recorded")
    [running] = _privacy_requests(desk, shop)
    assert running["status"] == "running"
    assert sorted(j["customer_id"] for j in running["jobs"]) == sorted([by_mail, by_text])
    desk.drain_queue(desk.env["PRIVACY_QUEUE_URL"], "privacy")
    # Then both are erased, and the request is done with an erase for each
    for gone in (f"IDENTITY#email#{email}", f"IDENTITY#phone#{phone}", f"CUSTOMER#{by_mail}", f"CUSTOMER#{by_text}"):
        assert desk.item(gone) is None, gone
    [request] = _privacy_requests(desk, shop)
    assert request["status"] == "done"
    assert sorted((j["customer_id"], j["status"]) for j in request["jobs"]) == sorted(
        [(by_mail, "done"), (by_text, "done")])
    assert all(j["job_id"] for j in request["jobs"])


def test_shopifys_data_request_naming_an_email_and_a_phone_exports_both_customers(desk: Any,
                                                                                   shop: dict[str, str]) -> None:
    import io
    import zipfile
    # Given Jane as two customers of ours
    email, phone, by_mail, by_text = _one_person_twice(desk)
    # When Shopify asks for her data
    _shopify_privacy(desk, shop, "customers/data_request", {"id": 5550077, "email": email, "phone": phone},
                     "data-jane", data_request={"id": 9999})
    desk.drain_queue(desk.env["PRIVACY_QUEUE_URL"], "privacy")
    # Then each customer has their archive, and the request names both exports
    [request] = _privacy_requests(desk, shop)
    assert request["status"] == "done"
    words = {}
    for job in request["jobs"]:
        body = desk.client("s3").get_object(Bucket=desk.env["EXPORT_BUCKET"], Key=f"exports/{job['job_id']}.zip")
        words[job["customer_id"]] = zipfile.ZipFile(io.BytesIO(body["Body"].read())).read("data.json").decode()
    assert set(words) == {by_mail, by_text}
    assert "Jane here about my order" in words[by_mail] and "where is my parcel" in words[by_text]


def test_shopifys_redact_finds_a_customer_by_a_phone_only_shopify_names(desk: Any, shop: dict[str, str]) -> None:
    # Given a customer who wrote by SMS, whose email the desk never saw
    customer_writes(desk, "+31612340088", "Piet here, by text", "SMpiet1")
    piet = desk.item("IDENTITY#phone#+31612340088")["customer_id"]
    # When Shopify names them by an email of theirs and the phone as typed at the checkout (a Dutch national number)
    _shopify_privacy(desk, shop, "customers/redact",
                     {"id": 5550088, "email": "piet@example.com", "phone": "06 1234 0088"}, "redact-piet")
    desk.drain_queue(desk.env["PRIVACY_QUEUE_URL"], "privacy")
    # Then the SMS customer is erased and the request says so
    assert desk.item("IDENTITY#phone#+31612340088") is None and desk.item(f"CUSTOMER#{piet}") is None
    [request] = _privacy_requests(desk, shop)
    assert request["status"] == "done" and [j["customer_id"] for j in request["jobs"]] == [piet]


def test_shopifys_redact_by_its_customer_id_finds_the_phone_of_the_shop_customer_record(desk: Any,
                                                                                      shop: dict[str, str]) -> None:
    # Given the shop's customer record (email and phone) and a customer of ours who wrote from that phone
    assert shopify_sample(desk, shop, "customers_create_phone_only")[0] == 200
    record = json.loads(commerce_sample("shopify", "customers_create_phone_only")[0])
    stored = json.loads(desk.item(f"SHOPCUSTOMER#shopify#{record['id']}")["body"])
    customer_writes(desk, stored["phone"], "Hello by text", "SMrec1")
    ours = desk.item(f"IDENTITY#phone#{stored['phone']}")["customer_id"]
    # When Shopify names the customer by its id alone
    _shopify_privacy(desk, shop, "customers/redact", {"id": record["id"], "email": None, "phone": None}, "redact-id")
    desk.drain_queue(desk.env["PRIVACY_QUEUE_URL"], "privacy")
    # Then the customer of that phone is erased
    assert desk.item(f"CUSTOMER#{ours}") is None
    [request] = _privacy_requests(desk, shop)
    assert request["status"] == "done" and [j["customer_id"] for j in request["jobs"]] == [ours]


def test_merged_customers_named_twice_are_erased_once(desk: Any, shop: dict[str, str]) -> None:
    # Given Jane's two customers merged into one
    email, phone, by_mail, by_text = _one_person_twice(desk)
    from tests.integration.helpers import agent
    status, merged = agent(desk, "POST", f"/agent/customers/{by_mail}/merge", "alice",
                           body={"other_id": by_text, "reason": "same person"}, groups="[admins]")
    assert status == 200, merged
    # When Shopify names her by both
    _shopify_privacy(desk, shop, "customers/redact", {"id": 5550077, "email": email, "phone": phone}, "redact-merged")
    # Then one erase of the survivor answers it
    [request] = _privacy_requests(desk, shop)
    assert [j["customer_id"] for j in request["jobs"]] == [by_mail]
    desk.drain_queue(desk.env["PRIVACY_QUEUE_URL"], "privacy")
    assert desk.item(f"IDENTITY#phone#{phone}") is None and desk.item(f"CUSTOMER#{by_text}") is None
    assert _privacy_requests(desk, shop)[0]["status"] == "done"


def test_a_request_is_done_only_when_every_customer_it_names_is_and_keeps_no_address(desk: Any,
                                                                                   shop: dict[str, str]) -> None:
    import hashlib
    # Given Jane's two customers and Shopify's redact naming both
    email, phone, by_mail, by_text = _one_person_twice(desk)
    _shopify_privacy(desk, shop, "customers/redact", {"id": 5550077, "email": email, "phone": phone},
                     "redact-slow")
    [request] = _privacy_requests(desk, shop)
    jobs = {j["customer_id"]: j["job_id"] for j in request["jobs"]}
    # When the email customer's erase has run and the phone customer's not yet
    privacy = desk.handler("privacy")
    assert privacy.worker.run(jobs[by_mail]) == "done"
    # Then the request still says running, names what is left, and holds neither address
    [halfway] = _privacy_requests(desk, shop)
    assert halfway["status"] == "running"
    assert {j["customer_id"]: j["status"] for j in halfway["jobs"]} == {by_mail: "done", by_text: "running"}
    item = desk.client("dynamodb").query(TableName=desk.table_name, KeyConditionExpression="PK = :pk",
                                         ExpressionAttributeValues={":pk": {"S": "PRIVACY"}})["Items"]
    for kept in (json.dumps(item), json.dumps(halfway)):
        assert email not in kept and phone not in kept and phone.removeprefix("+") not in kept
    # (what a follow-up needs: a hash of each identifier Shopify named)
    assert halfway["identifiers"]["phone"] == "sha256:" + hashlib.sha256(phone.encode()).hexdigest()
    assert halfway["identifiers"]["email"] == "sha256:" + hashlib.sha256(email.encode()).hexdigest()
    # When the other one has run as well, then it is done
    assert privacy.worker.run(jobs[by_text]) == "done"
    [done] = _privacy_requests(desk, shop)
    assert done["status"] == "done" and {j["status"] for j in done["jobs"]} == {"done"}
    assert desk.item(f"IDENTITY#phone#{phone}") is None


def test_an_erase_stripping_the_request_keeps_what_another_of_its_jobs_wrote_meanwhile(desk: Any,
                                                                                       shop: dict[str, str]) -> None:
    from shopdesk.privacy.subject import gather
    # Given Shopify's redact naming Jane's two customers
    email, phone, by_mail, by_text = _one_person_twice(desk)
    _shopify_privacy(desk, shop, "customers/redact", {"id": 5550077, "email": email, "phone": phone}, "redact-race")
    jobs = {j["customer_id"]: j["job_id"] for j in _privacy_requests(desk, shop)[0]["jobs"]}
    privacy = desk.handler("privacy")
    # When the email customer's erase has read the request, the phone customer's erase ends, and then the first
    # strips the request
    subject = gather(privacy.data, by_mail, None)
    assert subject is not None and subject.privacy_requests
    assert privacy.worker.run(jobs[by_text]) == "done"
    privacy.worker.eraser.erase(subject, jobs[by_mail], None)
    # Then the request still holds that the phone customer's erase is done, and is stripped
    [item] = desk.client("dynamodb").query(TableName=desk.table_name, KeyConditionExpression="PK = :pk",
                                           ExpressionAttributeValues={":pk": {"S": "PRIVACY"}})["Items"]
    assert item["jobs"]["M"][by_text]["M"]["status"]["S"] == "done"
    assert json.loads(item["body"]["S"])["customer"] is None


def _commerce_items(desk: Any) -> list[dict[str, Any]]:
    """Every item of the commerce cache (orders, shop customers, their pointers), as stored."""
    items = desk.client("dynamodb").scan(TableName=desk.table_name)["Items"]
    return [i for i in items if i["PK"]["S"].split("#")[0] in ("ORDER", "SHOPCUSTOMER", "COMMERCE")]


def test_a_redact_deletes_the_shops_customer_record_and_orders_when_nobody_of_ours_is_named(
        desk: Any, shop: dict[str, str]) -> None:
    # Given the shop's customer record (known only from customers/create) and an order it placed with an email
    assert shopify_sample(desk, shop, "customers_create_phone_only")[0] == 200
    record = json.loads(commerce_sample("shopify", "customers_create_phone_only")[0])
    assert shopify_sample(desk, shop, "orders_create")[0] == 200
    assert desk.item(f"SHOPCUSTOMER#shopify#{record['id']}") and desk.item(f"ORDER#shopify#{ORDER_ID}")
    assert _commerce_items(desk)
    # When Shopify asks to redact that customer (by id and phone), naming the order (placed with another email)
    status, answer = _shopify_privacy(desk, shop, "customers/redact",
                                      {"id": record["id"], "email": None, "phone": record["phone"]}, "redact-cache",
                                      orders_to_redact=[int(ORDER_ID)])
    assert (status, answer["status"]) == (200, "recorded")
    # Then no customer of ours is held, and nothing of the shop's records of them is left: record, order, pointers
    [request] = _privacy_requests(desk, shop)
    assert request["status"] == "nothing_held"
    assert _commerce_items(desk) == []


def test_a_redact_deletes_the_orders_it_names_beside_the_customer_it_erases(desk: Any, shop: dict[str, str]) -> None:
    # Given a customer of ours by SMS, and an order in the cache placed with another email (jon@example.com)
    customer_writes(desk, "+14155550177", "Hi, about my order", "SMorder1")
    ours = desk.item("IDENTITY#phone#+14155550177")["customer_id"]
    assert shopify_sample(desk, shop, "orders_create")[0] == 200
    # When Shopify's redact names that phone and the order
    _shopify_privacy(desk, shop, "customers/redact", {"id": 5550177, "email": None, "phone": "+14155550177"},
                     "redact-order", orders_to_redact=[int(ORDER_ID)])
    desk.drain_queue(desk.env["PRIVACY_QUEUE_URL"], "privacy")
    # Then the customer is erased and the order, its pointers from its email and number, are gone too
    assert desk.item(f"CUSTOMER#{ours}") is None
    assert desk.item(f"ORDER#shopify#{ORDER_ID}") is None
    assert _commerce_items(desk) == []
    assert _privacy_requests(desk, shop)[0]["status"] == "done"


@pytest.mark.parametrize("topic", ["customers/redact", "customers/data_request"])
def test_a_request_about_nobody_of_ours_keeps_only_hashes(desk: Any, shop: dict[str, str], topic: str) -> None:
    import hashlib
    # When Shopify names someone the desk never heard of
    email, phone = "nobody.here@example.com", "+14155550199"
    _shopify_privacy(desk, shop, topic, {"id": 5550199, "email": email, "phone": phone}, "about-nobody",
                     data_request={"id": 7777})
    # Then the request says nothing is held, and keeps neither address, nor the payload: a hash of each
    [request] = _privacy_requests(desk, shop)
    assert request["status"] == "nothing_held"
    items = desk.client("dynamodb").query(TableName=desk.table_name, KeyConditionExpression="PK = :pk",
                                          ExpressionAttributeValues={":pk": {"S": "PRIVACY"}})["Items"]
    for kept in (json.dumps(items), json.dumps(request)):
        assert email not in kept and phone.removeprefix("+") not in kept and "5550199" not in kept, kept
    assert request["customer"] is None and request["orders"] == [] and request["payload"] == {"erased": True}
    assert request["identifiers"]["email"] == "sha256:" + hashlib.sha256(email.encode()).hexdigest()
    if topic == "customers/data_request":           # what the shop answers Shopify with stays
        assert request["data_request_id"] == "7777"


def test_a_done_data_request_keeps_only_hashes(desk: Any, shop: dict[str, str]) -> None:
    # Given Jane's two customers, and Shopify's data request naming them
    email, phone, _, _ = _one_person_twice(desk)
    _shopify_privacy(desk, shop, "customers/data_request", {"id": 5550077, "email": email, "phone": phone},
                     "data-done", data_request={"id": 9998})
    # When both exports are done
    desk.drain_queue(desk.env["PRIVACY_QUEUE_URL"], "privacy")
    [request] = _privacy_requests(desk, shop)
    assert request["status"] == "done"
    # Then the request keeps what it was, its jobs, and a hash of each identifier: neither address
    assert email not in json.dumps(request) and phone.removeprefix("+") not in json.dumps(request)
    assert request["data_request_id"] == "9998" and len(request["jobs"]) == 2
    assert set(request["identifiers"]) == {"email", "phone", "id"}


def _signed_from(desk: Any, shop: dict[str, str], topic: str, body: dict[str, Any], delivery: str,
                 header_shop: str) -> tuple[int, Any]:
    raw = json.dumps(body).encode()
    return _post(desk, shop, "inbound_shopify", "/webhooks/shopify", raw, {
        "Content-Type": "application/json", "X-Shopify-Topic": topic, "X-Shopify-Webhook-Id": delivery,
        "X-Shopify-Shop-Domain": header_shop, "X-Shopify-Hmac-Sha256": sign(SHOPIFY_TEST_SECRET, raw)})


@pytest.mark.parametrize(("header_shop", "body_shop"), [
    ("some-other-store.myshopify.com", "some-other-store.myshopify.com"),
    ("example-shop.myshopify.com", "some-other-store.myshopify.com"),      # the body names another shop
    ("some-other-store.myshopify.com", "example-shop.myshopify.com"),      # the header does
])
def test_a_signed_privacy_request_of_another_shop_erases_nobody_and_is_kept_as_such(
        desk: Any, shop: dict[str, str], header_shop: str, body_shop: str) -> None:
    ours = {**shop, "SHOPIFY_SHOP_DOMAIN": "Example-Shop.myshopify.com"}
    # Given a customer of ours who texts from +14155550133
    customer_writes(desk, "+14155550133", "Hello from my phone", "SMother1")
    customer_id = desk.item("IDENTITY#phone#+14155550133")["customer_id"]
    # When a redact signed with the app's secret, but about another shop the app is installed on, names that phone
    status, answer = _signed_from(desk, ours, "customers/redact", {
        "shop_id": 1, "shop_domain": body_shop, "customer": {"id": 42, "email": None, "phone": "+14155550133"},
        "orders_to_redact": []}, "redact-other-shop", header_shop)
    # Then it is answered (Shopify retries anything else) but starts nothing: the customer stays
    assert (status, answer["status"]) == (200, "ignored"), answer
    desk.drain_queue(desk.env["PRIVACY_QUEUE_URL"], "privacy")
    assert desk.item(f"CUSTOMER#{customer_id}") is not None
    # and the request is listed as another shop's, with nothing of the person: not the phone, nor a hash of it (another
    # shop's customer is none of the desk's business, and an unsalted phone hash is undone by trying every number)
    [request] = _privacy_requests(desk, ours)
    assert request["status"] == "other_shop" and request["jobs"] == [] and request["customer"] is None
    assert "4155550133" not in json.dumps(request) and request["identifiers"] == {}, request
    hashed = hashlib.sha256(b"+14155550133").hexdigest()
    assert not [i for i in desk.client("dynamodb").scan(TableName=desk.table_name)["Items"] if hashed in json.dumps(i)]
    # (a redelivery is a duplicate)
    assert _signed_from(desk, ours, "customers/redact", {"shop_domain": body_shop}, "redact-other-shop",
                        header_shop)[1]["status"] == "duplicate"


def test_a_signed_order_or_customer_of_another_shop_is_not_stored(desk: Any, shop: dict[str, str]) -> None:
    ours = {**shop, "SHOPIFY_SHOP_DOMAIN": "example-shop.myshopify.com"}
    # When the samples (signed by jsmith.myshopify.com) reach a desk serving example-shop.myshopify.com
    for name in ("orders_create", "customers_create_phone_only"):
        body, meta = commerce_sample("shopify", name)
        assert meta["http"]["headers"]["X-Shopify-Shop-Domain"] != "example-shop.myshopify.com"
        status, answer = _post(desk, ours, "inbound_shopify", "/webhooks/shopify", body, meta["http"]["headers"])
        # Then each is acknowledged and nothing of it is stored
        assert (status, answer["status"]) == (200, "ignored"), (name, answer)
    assert _commerce_items(desk) == []
    # while the same order from our own shop is applied
    body, meta = commerce_sample("shopify", "orders_create")
    headers = {**meta["http"]["headers"], "X-Shopify-Shop-Domain": "example-shop.myshopify.com",
               "X-Shopify-Webhook-Id": "ours-1"}
    assert _post(desk, ours, "inbound_shopify", "/webhooks/shopify", body, headers)[1]["status"] == "applied"
    assert desk.item(f"ORDER#shopify#{ORDER_ID}") is not None


def test_a_privacy_request_of_our_own_shop_still_erases(desk: Any, shop: dict[str, str]) -> None:
    ours = {**shop, "SHOPIFY_SHOP_DOMAIN": "example-shop.myshopify.com"}
    customer_writes(desk, "+14155550134", "Hello from my phone", "SMours1")
    customer_id = desk.item("IDENTITY#phone#+14155550134")["customer_id"]
    status, answer = _signed_from(desk, ours, "customers/redact", {
        "shop_id": 1, "shop_domain": "example-shop.myshopify.com",
        "customer": {"id": 43, "email": None, "phone": "+14155550134"}, "orders_to_redact": []}, "redact-ours",
        "example-shop.myshopify.com")
    assert (status, answer["status"]) == (200, "recorded")
    desk.drain_queue(desk.env["PRIVACY_QUEUE_URL"], "privacy")
    assert desk.item(f"CUSTOMER#{customer_id}") is None
    assert _privacy_requests(desk, ours)[0]["status"] == "done"


# ------------------------------------------------------------------------------ privacy requests whose work fails

@pytest.fixture
def refuse(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``refuse(service, operation, code)``: that AWS operation refused with ``code`` (after the SDK's retries), every
    other call made as before; ``refuse(None)`` lets them through again."""
    from botocore.exceptions import ClientError

    from shopdesk.dal import aws
    refused: dict[str, tuple[str, str]] = {}

    def install(service: str | None, operation: str = "", code: str = "ThrottlingException") -> None:
        if service is None:
            refused.clear()
            return
        # the layer's client and its bounded ones (dal.aws: the APIs', the webhooks')
        clients = {id(c): c for c in (aws.client(service), aws.client(service, answering=True),
                                      aws.client(service, webhook=True))}
        if service not in refused:
            for client in clients.values():
                def call(name: str, kwargs: dict[str, Any], real: Any = client._make_api_call) -> Any:
                    if refused.get(service, ("", ""))[0] == name:
                        raise ClientError({"Error": {"Code": refused[service][1], "Message": "injected"}}, name)
                    return real(name, kwargs)
                monkeypatch.setattr(client, "_make_api_call", call)
        refused[service] = (operation, code)
    return install


@pytest.fixture
def metered(desk: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Powertools reads the service dimension from the environment when it writes a line: the template's (Globals)."""
    for name in ("POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE"):
        monkeypatch.setenv(name, desk.env[name])


def _not_started(out: str) -> list[float]:
    """The ``PrivacyRequestsNotStarted`` figures written (EMF lines on stdout), each as the template's alarm reads it:
    its namespace, and the dimensions the line has, with their values."""
    from pathlib import Path

    from local.template import load_template
    resources = load_template(Path(__file__).resolve().parents[2] / "template.yaml")["Resources"]
    [alarm] = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"
               and r["Properties"].get("MetricName") == "PrivacyRequestsNotStarted"]
    figures = [json.loads(line) for line in out.splitlines() if line.startswith("{") and '"_aws"' in line]
    lines = [f for f in figures if "PrivacyRequestsNotStarted" in f]
    for line in lines:
        [emitted] = line["_aws"]["CloudWatchMetrics"]
        assert emitted["Namespace"] == alarm["Namespace"]
        assert emitted["Dimensions"] == [[d["Name"] for d in alarm["Dimensions"]]]
        assert {d["Name"]: d["Value"] for d in alarm["Dimensions"]} == {d: line[d] for d in emitted["Dimensions"][0]}
    return [v for line in lines for v in line["PrivacyRequestsNotStarted"]]


def _audit_of(desk: Any, actor: str) -> list[dict[str, Any]]:
    from urllib.parse import quote
    event = http_event("GET", "/admin/audit", query=f"actor={quote(actor)}",
                       claims={"cognito:username": "root", "cognito:groups": "[admins]"})
    return list(json.loads(desk.invoke("admin_api", event)["body"])["items"])


@pytest.mark.parametrize("code", ["ThrottlingException", "ServiceUnavailable"])
def test_a_redact_whose_shop_records_cannot_be_deleted_fails_its_delivery_until_a_retry_deletes_them(
        desk: Any, shop: dict[str, str], refuse: Any, metered: None, capsys: pytest.CaptureFixture[str],
        code: str) -> None:
    # Given the shop's customer record and an order of theirs in the cache
    assert shopify_sample(desk, shop, "customers_create_phone_only")[0] == 200
    record = json.loads(commerce_sample("shopify", "customers_create_phone_only")[0])
    assert shopify_sample(desk, shop, "orders_create")[0] == 200
    capsys.readouterr()
    # When Shopify's redact of them comes while DynamoDB refuses the deletes
    refuse("dynamodb", "BatchWriteItem", code)
    redact = {"id": record["id"], "email": None, "phone": record["phone"]}
    status, _ = _shopify_privacy(desk, shop, "customers/redact", redact, "redact-refused",
                                 orders_to_redact=[int(ORDER_ID)])
    # Then the delivery fails (Shopify retries it), counted for the alarm, its marker not left as done
    assert status == 503
    assert _not_started(capsys.readouterr().out) == [1.0]
    assert desk.item("EXTHOOK#shopify#redact-refused")["not_started"]
    assert _privacy_requests(desk, shop)[0]["status"] == "open"
    assert _commerce_items(desk)
    # and Shopify's retry, once the table answers, deletes them: not a duplicate
    refuse(None)
    status, answer = _shopify_privacy(desk, shop, "customers/redact", redact, "redact-refused",
                                      orders_to_redact=[int(ORDER_ID)])
    assert (status, answer["status"]) == (200, "recorded")
    [request] = _privacy_requests(desk, shop)
    assert request["status"] == "nothing_held" and _commerce_items(desk) == []
    assert _not_started(capsys.readouterr().out) == []
    # and one more delivery of it is a duplicate
    assert _shopify_privacy(desk, shop, "customers/redact", redact, "redact-refused",
                            orders_to_redact=[int(ORDER_ID)])[1]["status"] == "duplicate"
    # and each delivery's arrival, and the answer nothing held, are on the trail: the request's id, no address
    trail = _audit_of(desk, "system:shopify")
    assert sorted(r["action"] for r in trail) == ["privacy.request.nothing_held", "privacy.request.received",
                                                 "privacy.request.received"]
    assert {(r["target"], r["details"]["topic"]) for r in trail} == {("redact-refused", "customers/redact")}
    assert record["phone"].removeprefix("+") not in json.dumps(trail) and str(record["id"]) not in json.dumps(trail)


def test_a_redact_whose_shop_records_cannot_be_deleted_still_erases_the_customer_and_its_retry_starts_no_second(
        desk: Any, shop: dict[str, str], refuse: Any, metered: None, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a customer of ours who texts from the phone of the shop's customer record, and that record cached
    assert shopify_sample(desk, shop, "customers_create_phone_only")[0] == 200
    record = json.loads(commerce_sample("shopify", "customers_create_phone_only")[0])
    assert shopify_sample(desk, shop, "orders_create")[0] == 200
    customer_writes(desk, record["phone"], "Please forget me", "SMredactfirst1")
    customer_id = desk.item(f"IDENTITY#phone#{record['phone']}")["customer_id"]
    # When Shopify's redact of them comes while DynamoDB refuses the cache's deletes
    refuse("dynamodb", "BatchWriteItem")
    redact = {"id": record["id"], "email": None, "phone": record["phone"]}
    status, _ = _shopify_privacy(desk, shop, "customers/redact", redact, "redact-erase-first",
                                 orders_to_redact=[int(ORDER_ID)])
    # Then the delivery fails (Shopify sends it again), but the customer's erase has started all the same
    assert status == 503
    [request] = _privacy_requests(desk, shop)
    [entry] = request["jobs"]
    assert (entry["customer_id"], entry["status"], request["status"]) == (customer_id, "running", "running"), request
    refuse(None)
    desk.drain_queue(desk.env["PRIVACY_QUEUE_URL"], "privacy")
    assert desk.item(f"CUSTOMER#{customer_id}") is None
    assert _privacy_requests(desk, shop)[0]["status"] == "done"
    # and Shopify's retry deletes the shop's records of them (the stored request is stripped by then: the delivery
    # names them), starting no second erase
    status, answer = _shopify_privacy(desk, shop, "customers/redact", redact, "redact-erase-first",
                                      orders_to_redact=[int(ORDER_ID)])
    assert (status, answer["status"]) == (200, "recorded"), answer
    assert _commerce_items(desk) == []
    [request] = _privacy_requests(desk, shop)
    assert request["jobs"] == [entry | {"status": "done"}] and request["status"] == "done", request
    assert not desk.drain_queue(desk.env["PRIVACY_QUEUE_URL"], "privacy")


def test_a_shop_redact_whose_job_cannot_be_queued_fails_its_delivery_until_a_retry_starts_it(
        desk: Any, shop: dict[str, str], refuse: Any, metered: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert shopify_sample(desk, shop, "orders_create")[0] == 200
    capsys.readouterr()
    body = json.dumps({"shop_id": 954889, "shop_domain": "example-shop.myshopify.com"}).encode()
    headers = {"Content-Type": "application/json", "X-Shopify-Topic": "shop/redact",
               "X-Shopify-Webhook-Id": "shop-redact-refused", "X-Shopify-Shop-Domain": "example-shop.myshopify.com",
               "X-Shopify-Hmac-Sha256": sign(SHOPIFY_TEST_SECRET, body)}
    # When the privacy queue refuses the shop_redact job
    refuse("sqs", "SendMessage", "ServiceUnavailable")
    status, _ = _post(desk, shop, "inbound_shopify", "/webhooks/shopify", body, headers)
    # Then the delivery fails, counted, and no job is left running with nothing to run it
    assert status == 503
    assert _not_started(capsys.readouterr().out) == [1.0]
    assert desk.item("EXTHOOK#shopify#shop-redact-refused")["not_started"]
    [request] = _privacy_requests(desk, shop)
    assert request["status"] == "failed"
    job = desk.item(f"PRIVACYJOB#{request['job_id']}")
    assert job["status"] == "failed"
    # and the retry starts the job, which deletes the shop's cache
    refuse(None)
    status, answer = _post(desk, shop, "inbound_shopify", "/webhooks/shopify", body, headers)
    assert (status, answer["status"]) == (200, "recorded")
    desk.drain_queue(desk.env["PRIVACY_QUEUE_URL"], "privacy")
    assert _privacy_requests(desk, shop)[0]["status"] == "done" and _commerce_items(desk) == []


def test_a_data_request_whose_export_cannot_be_queued_fails_its_delivery_until_a_retry_starts_it(
        desk: Any, shop: dict[str, str], refuse: Any, metered: None, capsys: pytest.CaptureFixture[str]) -> None:
    customer_writes(desk, "+14155550188", "Hi, what do you hold about me?", "SMexport1")
    ours = desk.item("IDENTITY#phone#+14155550188")["customer_id"]
    capsys.readouterr()
    asked = {"id": 5550188, "email": None, "phone": "+14155550188"}
    # When the privacy queue refuses the export
    refuse("sqs", "SendMessage", "ThrottlingException")
    status, _ = _shopify_privacy(desk, shop, "customers/data_request", asked, "export-refused",
                                 data_request={"id": 8888})
    # Then the delivery fails, counted, and the request says its job failed
    assert status == 503
    assert _not_started(capsys.readouterr().out) == [1.0]
    assert desk.item("EXTHOOK#shopify#export-refused")["not_started"]
    assert _privacy_requests(desk, shop)[0]["status"] == "failed"
    # and the retry starts the export, which runs to done
    refuse(None)
    status, answer = _shopify_privacy(desk, shop, "customers/data_request", asked, "export-refused",
                                      data_request={"id": 8888})
    assert (status, answer["status"]) == (200, "recorded")
    desk.drain_queue(desk.env["PRIVACY_QUEUE_URL"], "privacy")
    [request] = _privacy_requests(desk, shop)
    assert request["status"] == "done"
    assert [(j["customer_id"], j["status"]) for j in request["jobs"]] == [(ours, "done")]


def test_a_data_request_whose_job_reads_failed_an_hour_on_starts_again_at_shopifys_next_retry(
        desk: Any, shop: dict[str, str], refuse: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from shopdesk import clock
    from shopdesk.dal.privacy import PrivacyJobStore

    customer_writes(desk, "+14155550189", "Hi, what do you hold about me?", "SMexport2")
    ours = desk.item("IDENTITY#phone#+14155550189")["customer_id"]
    asked = {"id": 5550189, "email": None, "phone": "+14155550189"}

    def refused(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the table refused it")

    marked = PrivacyJobStore.mark_request
    # When the privacy queue refuses the export, and the table refuses its failed marks too (the job's, the request's)
    refuse("sqs", "SendMessage", "ServiceUnavailable")
    monkeypatch.setattr(PrivacyJobStore, "finish", refused)
    monkeypatch.setattr(PrivacyJobStore, "mark_request", lambda self, request, status, *rest, **kw: refused()
                        if status == "failed" else marked(self, request, status, *rest, **kw))
    status, _ = _shopify_privacy(desk, shop, "customers/data_request", asked, "export-unmarked",
                                 data_request={"id": 8889})
    assert status == 503
    refuse(None)
    monkeypatch.undo()
    # Then, an hour on, the job no worker received reads failed, and so does the request
    clock.set_offset(61 * 60)
    [request] = _privacy_requests(desk, shop)
    assert request["status"] == "failed", request
    # and Shopify's next retry of the delivery starts the export again, which runs to done
    status, answer = _shopify_privacy(desk, shop, "customers/data_request", asked, "export-unmarked",
                                      data_request={"id": 8889})
    assert (status, answer["status"]) == (200, "recorded"), answer
    desk.drain_queue(desk.env["PRIVACY_QUEUE_URL"], "privacy")
    [request] = _privacy_requests(desk, shop)
    assert request["status"] == "done", request
    assert [(j["customer_id"], j["status"]) for j in request["jobs"]] == [(ours, "done")]
