"""One customer across channels over HTTP, on the local stack: an agent merges a web-chat visitor into an SMS
customer and undoes it; a visitor proves an email with the code the shop mailed and joins that customer."""

from __future__ import annotations

import re
from datetime import datetime
from email.message import EmailMessage

import pytest
from tests.e2e.test_core_loop import send_sms
from tests.support import twilio_form

from shopdesk.channels import webchat

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_inboxes")]

VISITOR_SECRET, ORIGIN = "fake-webchat-visitor-secret", "http://localhost:8080"


def _session(stack, visitor_id: str) -> dict[str, str]:
    now = stack.get("/_local/clock").json()["now"]
    exp = int(datetime.fromisoformat(now.replace("Z", "+00:00")).timestamp()) + 600
    token = webchat.sign_visitor_token({"visitor_id": visitor_id, "exp": exp}, VISITOR_SECRET)
    start = stack.post("/widget/sessions", json={"visitor_token": token}, headers={"Origin": ORIGIN})
    assert start.status == 201, start.text
    return {"Origin": ORIGIN, "Authorization": f"Bearer {start.json()['session']}"}


def _conversation_of(stack, token: str, kind: str, address: str):
    for conv in stack.get("/agent/conversations?view=all&limit=100", token=token).json()["items"]:
        if {"kind": kind, "address": address} in conv["customer"]["identities"]:
            return conv
    return None


def test_an_agent_merges_a_visitor_into_an_sms_customer_and_undoes_it(stack):
    alice = stack.token("alice")
    # Given a customer who texts, and a web-chat visitor
    assert send_sms(stack, twilio_form(MessageSid="SMe2eidentity00000000000000000001", From="+14155550181",
                                       To="+14155550199", Body="Where is my parcel?")).status == 200
    sms = stack.wait_for(lambda: _conversation_of(stack, alice, "phone", "+14155550181"))
    visitor = _session(stack, "e2e-merge-visitor")
    assert stack.post("/widget/messages", json={"client_message_id": "m1", "text": "it's me again"},
                      headers=visitor).status == 201
    chat = stack.wait_for(lambda: _conversation_of(stack, alice, "webchat", "e2e-merge-visitor"))
    a, b = sms["customer"]["id"], chat["customer"]["id"]
    # When an agent merges them
    merged = stack.post(f"/agent/customers/{a}/merge", json={"other_id": b, "reason": "same person"}, token=alice)
    assert merged.status == 200, merged.text
    # Then the customer has one history, and the visitor's next message joins the one open conversation
    profile = stack.get(f"/agent/customers/{a}", token=alice).json()
    assert {c["id"] for c in profile["conversations"]} == {sms["id"], chat["id"]}
    sent = stack.post("/widget/messages", json={"client_message_id": "m2", "text": "any news?"}, headers=visitor)
    assert sent.status == 201 and sent.json()["conversation_id"] == sms["id"], sent.text
    # When the agent undoes it, each has their own history again
    undone = stack.post(f"/agent/customers/{a}/unmerge", json={"merge_id": merged.json()["id"]}, token=alice)
    assert undone.status == 200, undone.text
    assert {c["id"] for c in stack.get(f"/agent/customers/{b}", token=alice).json()["conversations"]} == {chat["id"]}
    assert {c["id"] for c in stack.get(f"/agent/customers/{a}", token=alice).json()["conversations"]} == {sms["id"]}


def test_a_visitor_proves_an_email_with_the_mailed_code(stack):
    alice = stack.token("alice")
    # Given a customer who wrote by email
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "Dana <dana.e2e@example.com>", "support@shop.example", "Order"
    mail["Message-ID"] = "<e2e-identity-dana@example.com>"
    mail.set_content("Where is my order?")
    posted = stack.post("/_local/email?wait=1", data=bytes(mail), headers={"Content-Type": "message/rfc822"})
    assert posted.status == 202
    by_mail = stack.wait_for(lambda: _conversation_of(stack, alice, "email", "dana.e2e@example.com"))
    # When a visitor asks for a code for that address and types what the shop mailed
    visitor = _session(stack, "e2e-otp-visitor")
    assert stack.post("/widget/email-verification", json={"email": "dana.e2e@example.com"},
                      headers=visitor).status == 202

    def code():
        mails = [m for m in stack.outbox() if m["provider"] == "ses" and "dana.e2e@example.com" in str(m["body"])
                 and "Your code is" in str(m["body"])]
        return re.search(r"Your code is (\d{6})", str(mails[-1]["body"])).group(1) if mails else None

    confirmed = stack.post("/widget/email-verification/confirm", json={"code": stack.wait_for(code)}, headers=visitor)
    assert confirmed.status == 200 and confirmed.json()["linked"] is True, confirmed.text
    # Then the visitor is that customer: their first chat message lands in the mail conversation
    sent = stack.post("/widget/messages", json={"client_message_id": "m1", "text": "it's Dana"}, headers=visitor)
    assert sent.status == 201 and sent.json()["conversation_id"] == by_mail["id"], sent.text


def _shop_webhook(stack, topic: str, payload: dict) -> None:
    sent = stack.post("/_local/commerce/webhooks", json={"platform": "shopify", "topic": topic, "payload": payload})
    assert sent.status == 200 and sent.json()["answer"]["status"] == "applied", sent.text


def test_the_shops_records_link_nobody_and_a_shared_email_never_merges_two_people(stack):
    alice = stack.token("alice")
    # Given a customer who texts, whose Shopify record carries her phone and the family email
    assert send_sms(stack, twilio_form(MessageSid="SMe2eidentity00000000000000000011", From="+14155550191",
                                       To="+14155550199", Body="hi")).status == 200
    mum = stack.wait_for(lambda: _conversation_of(stack, alice, "phone", "+14155550191"))["customer"]["id"]
    _shop_webhook(stack, "customers/update", {"id": 9101, "email": "family.e2e@example.com",
                                              "phone": "(415) 555-0191", "updated_at": "2026-11-01T10:00:00Z"})
    # Then the record links nothing (whoever checks out types both, unverified): it is evidence for agents
    identities = stack.get(f"/agent/customers/{mum}", token=alice).json()["identities"]
    assert identities == [{"kind": "phone", "address": "+14155550191"}]
    # When her son, who texts from his own phone, orders with the family email
    assert send_sms(stack, twilio_form(MessageSid="SMe2eidentity00000000000000000012", From="+14155550192",
                                       To="+14155550199", Body="hello")).status == 200
    son = stack.wait_for(lambda: _conversation_of(stack, alice, "phone", "+14155550192"))["customer"]["id"]
    _shop_webhook(stack, "orders/create", {
        "id": 9909101, "name": "#9101", "created_at": "2026-11-02T10:00:00Z", "updated_at": "2026-11-02T10:00:00Z",
        "email": "family.e2e@example.com", "phone": "+14155550192", "currency": "USD", "total_price": "5.00",
        "financial_status": "paid", "line_items": [], "customer": {"id": 9102}})
    # Then the two stay apart, each with only their own phone
    for customer, phone in ((mum, "+14155550191"), (son, "+14155550192")):
        profile = stack.get(f"/agent/customers/{customer}", token=alice).json()
        assert profile["merged_into"] is None
        assert {(i["kind"], i["address"]) for i in profile["identities"]} == {("phone", phone)}
