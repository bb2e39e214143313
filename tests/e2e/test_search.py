"""Search over HTTP: an SMS becomes findable by a word it holds and by the customer's phone within a few
seconds (the indexer reads the table's stream into the stack's SQLite index), and an order number of the
commerce sandbox finds the conversation of the order's customer."""

from __future__ import annotations

import time
import urllib.parse

import pytest
from tests.support import twilio_form

from shopdesk.channels import twilio

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_inboxes")]

AUTH_TOKEN = "fake-twilio-auth-token"  # the local stack's documented default


def text_in(stack, phone: str, body: str, sid: str) -> None:
    form = twilio_form(MessageSid=sid, From=phone, To="+14155550199", Body=body)
    signature = twilio.sign(stack.url + "/webhooks/twilio", twilio.parse_form(form), AUTH_TOKEN)
    answer = stack.post("/webhooks/twilio", data=form, headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})
    assert answer.status == 200, answer.text


def search(stack, q: str, agent: str = "alice") -> dict:
    answer = stack.get("/agent/search?q=" + urllib.parse.quote(q), token=stack.token(agent))
    assert answer.status == 200, answer.text
    return answer.json()


def test_an_sms_is_found_by_its_words_by_phone_and_by_order_number(stack):
    phone = "+14155550102"
    started = time.monotonic()
    text_in(stack, phone, "Hola, ¿dónde están mis calcetines de lana? Pedido 1002", "SM" + "5e" * 16)

    def found_by_word():
        hits = search(stack, "calcetin")["conversations"]      # singular, no accent: stemmed and folded
        return next((c for c in hits if {"kind": "phone", "address": phone} in c["customer"]["identities"]), None)

    by_word = stack.wait_for(found_by_word, timeout=10)
    assert by_word["matched"] == "text" and by_word["message_id"]
    assert time.monotonic() - started < 10

    by_phone = search(stack, "+1 (415) 555-0102")
    assert by_word["id"] in {c["id"] for c in by_phone["conversations"]}
    assert {c["matched"] for c in by_phone["conversations"]} == {"phone"}
    assert [c["id"] for c in by_phone["customers"]] == [by_word["customer"]["id"]]

    shipped = stack.post("/_local/commerce/webhooks", json={"platform": "shopify", "topic": "orders/updated",
                                                             "order": "1002"})
    assert shipped.status == 200 and shipped.json()["status"] == 200, shipped.text
    by_order = search(stack, "#1002")
    assert by_word["id"] in {c["id"] for c in by_order["conversations"]}
    assert {c["matched"] for c in by_order["conversations"]} == {"order"}


def test_a_search_without_anything_to_look_for_is_400(stack):
    answer = stack.get("/agent/search?q=status%3Aopen", token=stack.token("alice"))
    assert answer.status == 400, answer.text
