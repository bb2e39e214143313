"""Commerce over HTTP: the sandbox's signed webhooks reach the cache, the order panel shows them with
tracking, an order action goes through the sandbox's Admin API, and the samples replay byte for byte."""

from __future__ import annotations

import json

import boto3
import pytest
from tests.commerce_support import commerce_sample, sample_names
from tests.e2e.conftest import SAMPLE_SECRETS
from tests.support import twilio_form

from local.commerce import SHOP_DOMAIN
from shopdesk.channels import twilio
from shopdesk.commerce.webhooks import sign

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_inboxes")]

AUTH_TOKEN = "fake-twilio-auth-token"  # the local stack's documented default
PLACEHOLDER_SHOP = "{shop}.myshopify.com"    # Shopify's docs' example of a compliance webhook names no shop


def text_in(stack, phone: str, body: str, sid: str) -> str:
    """A customer's SMS through the signed webhook; returns the conversation it landed in."""
    form = twilio_form(MessageSid=sid, From=phone, To="+14155550199", Body=body)
    signature = twilio.sign(stack.url + "/webhooks/twilio", twilio.parse_form(form), AUTH_TOKEN)
    answer = stack.post("/webhooks/twilio", data=form, headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})
    assert answer.status == 200, answer.text

    def landed():
        items = stack.get("/agent/conversations?view=all&status=open&limit=100", token=stack.token("alice")).json()
        return next((c["id"] for c in items["items"]
                     if {"kind": "phone", "address": phone} in c["customer"]["identities"]), None)

    return stack.wait_for(landed)


def forget_lookups(stack, *values: tuple[str, str]) -> None:
    """As if the platform had not been asked about these (kind, value) within the lookup TTL (a day): earlier tests
    on this stack looked the demo customers up. Their ``SYNC`` markers go, through ``GET /_local/aws``."""
    from shopdesk.dal.commerce import ref_pk
    where = stack.get("/_local/aws").json()
    dynamodb = boto3.client("dynamodb", endpoint_url=where["endpoint"], region_name=where["region"],
                            aws_access_key_id="local", aws_secret_access_key="local")
    for table in dynamodb.list_tables()["TableNames"]:
        for kind, value in values:
            key = {"PK": {"S": ref_pk("shopify", kind, value)}, "SK": {"S": "SYNC"}}
            dynamodb.delete_item(TableName=table, Key=key)


def panel(stack, conv: str) -> dict:
    answer = stack.get(f"/agent/conversations/{conv}/orders", token=stack.token("alice"))
    assert answer.status == 200, answer.text
    return answer.json()


def test_sandbox_webhook_is_cached_and_the_panel_shows_its_tracking(stack):
    conv = text_in(stack, "+14155550102", "Hi, where is order 1002? The beanie is missing", "SM" + "e1" * 16)
    forget_lookups(stack, ("phone", "+14155550102"), ("number", "1002"))
    first = panel(stack, conv)
    assert first["source"] == "platform" and first["numbers"] == ["1002"]
    assert [o["name"] for o in first["items"]] == ["#1002"]
    assert [t["number"] for t in first["items"][0]["tracking"]] == ["1234567890"]

    shipped = stack.post("/_local/commerce/webhooks", json={
        "platform": "shopify", "topic": "fulfillments/create", "order": "1002",
        "fulfillment": {"tracking_number": "JJD0099887766", "tracking_company": "DHL Express",
                        "tracking_url": "https://www.dhl.com/track?AWB=JJD0099887766"}})
    assert shipped.status == 200, shipped.text
    assert shipped.json()["status"] == 200 and shipped.json()["answer"]["status"] == "applied"

    second = panel(stack, conv)
    assert second["source"] == "cache"                     # answered from the table, kept fresh by the webhook
    tracking = second["items"][0]["tracking"]
    assert {"number": "JJD0099887766", "company": "DHL Express",
            "url": "https://www.dhl.com/track?AWB=JJD0099887766"} in tracking
    assert len(tracking) == 2


def test_a_confirmed_cancel_goes_through_the_platform_and_its_webhook_updates_the_cache(stack):
    conv = text_in(stack, "+14155550101", "Please cancel the cap I ordered yesterday", "SM" + "e2" * 16)
    cap = next(o for o in panel(stack, conv)["items"] if o["name"] == "#1004")
    path = f"/agent/conversations/{conv}/orders/{cap['id']}/cancel"
    preview = stack.post(path, json={}, token=stack.token("alice"))
    assert preview.status == 409 and preview.json()["code"] == "confirmation_required"
    assert stack.post(path, json={"confirm": True}, token=stack.token("bob")).status == 403
    done = stack.post(path, json={"confirm": True}, token=stack.token("alice"))
    assert done.status == 200, done.text
    assert done.json()["order"]["cancelled_at"]
    messages = stack.get(f"/agent/conversations/{conv}", token=stack.token("alice")).json()["messages"]
    assert any(m["text"] == "Order #1004 cancelled by Alice Example (reason: customer)" for m in messages)

    def cached_cancelled():
        order = next(o for o in panel(stack, conv)["items"] if o["name"] == "#1004")
        return order["cancelled_at"] and order["financial_status"] == "refunded"

    assert stack.wait_for(cached_cancelled)


def test_forged_commerce_webhooks_are_refused_with_401(stack):
    body, meta = commerce_sample("shopify", "orders_create")     # signed with the test secret, not the stack's
    assert stack.post("/webhooks/shopify", data=body, headers=meta["http"]["headers"]).status == 401
    body, meta = commerce_sample("woocommerce", "order_created")
    assert stack.post("/webhooks/woocommerce", data=body, headers=meta["http"]["headers"]).status == 401


def test_commerce_samples_replayed_byte_for_byte_with_their_own_signatures(samples_stack):
    # Each Shopify sample was sent by another store (jsmith, chaoscodes, ...), which the stack's shop check ignores:
    # X-Shopify-Shop-Domain is not signed, so it names the stack's shop and the body goes byte for byte, signed as it
    # came, through the real parsing and into the cache; never "ignored".
    answers = {}
    for name in sample_names("shopify"):
        body, meta = commerce_sample("shopify", name)
        if json.loads(body).get("shop_domain") == PLACEHOLDER_SHOP:
            continue        # below: its signed body names Shopify's docs placeholder, not a shop
        headers = {**meta["http"]["headers"], "X-Shopify-Shop-Domain": SHOP_DOMAIN}
        answer = samples_stack.post("/webhooks/shopify", data=body, headers=headers)
        assert answer.status == 200, (name, answer.text)
        answers[name] = answer.json()["status"]
        again = samples_stack.post("/webhooks/shopify", data=body, headers=headers)
        assert again.json()["status"] == "duplicate", name
    # stale: several samples are the same order, an older version of it after a newer one
    assert set(answers.values()) == {"applied", "stale"}, answers

    # customers/redact's body names "{shop}.myshopify.com" (the docs' placeholder), signed: byte for byte it is not
    # the stack's shop and is ignored, kept as other_shop; with the body naming the stack's shop (signed again with
    # the samples' secret) it is parsed and recorded as a privacy request of ours
    body, meta_redact = commerce_sample("shopify", "customers_redact")
    assert json.loads(body)["shop_domain"] == PLACEHOLDER_SHOP
    headers = {**meta_redact["http"]["headers"], "X-Shopify-Shop-Domain": SHOP_DOMAIN}
    answer = samples_stack.post("/webhooks/shopify", data=body, headers=headers)
    assert (answer.status, answer.json()["status"]) == (200, "ignored"), answer.text
    ours = body.replace(PLACEHOLDER_SHOP.encode(), SHOP_DOMAIN.encode())
    headers = {**headers, "X-Shopify-Hmac-Sha256": sign(SAMPLE_SECRETS["SHOPIFY_WEBHOOK_SECRET"], ours),
               "X-Shopify-Webhook-Id": meta_redact["http"]["headers"]["X-Shopify-Webhook-Id"] + "-ours"}
    answer = samples_stack.post("/webhooks/shopify", data=ours, headers=headers)
    assert (answer.status, answer.json()["status"]) == (200, "recorded"), answer.text

    # and another shop's delivery, as it came (its own X-Shopify-Shop-Domain), is still ignored
    body, meta = commerce_sample("shopify", "orders_create")
    headers = {**meta["http"]["headers"], "X-Shopify-Webhook-Id": meta["http"]["headers"]["X-Shopify-Webhook-Id"]
               + "-elsewhere"}
    assert headers["X-Shopify-Shop-Domain"] != SHOP_DOMAIN
    answer = samples_stack.post("/webhooks/shopify", data=body, headers=headers)
    assert (answer.status, answer.json()["status"]) == (200, "ignored"), answer.text

    for name in sample_names("woocommerce"):
        body, meta = commerce_sample("woocommerce", name)
        answer = samples_stack.post("/webhooks/woocommerce", data=body, headers=meta["http"]["headers"])
        assert answer.status == 200, (name, answer.text)
        assert answer.json()["status"] != "ignored", (name, answer.text)
    admin = samples_stack.get("/admin/privacy-requests", token=samples_stack.token("alice"))
    assert admin.status == 200
    requests = {r["id"]: r for r in admin.json()["items"]}
    redact = meta_redact["http"]["headers"]["X-Shopify-Webhook-Id"]
    assert sorted(requests) == [redact, redact + "-ours"], requests
    assert requests[redact]["status"] == "other_shop", requests
    assert requests[redact + "-ours"]["status"] != "other_shop", requests
    assert requests[redact + "-ours"]["shop_domain"] == SHOP_DOMAIN, requests
