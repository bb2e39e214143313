"""Personalised replies over HTTP: a demo customer of the commerce sandbox gets a reply whose variables
(their first name, their order's tracking link) were filled in before it left, as the provider received it."""

from __future__ import annotations

import pytest
from tests.support import twilio_form

from shopdesk.channels import twilio

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_inboxes")]

AUTH_TOKEN = "fake-twilio-auth-token"  # the local stack's documented default
PHONE = "+14155550103"                  # Ana Souza in the sandbox: order #1003, delivered, USPS tracking
TRACKING = "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111899223100000000"


def whatsapp_in(stack, body: str, sid: str) -> str:
    form = twilio_form(MessageSid=sid, From=f"whatsapp:{PHONE}", To="whatsapp:+14155550199", Body=body,
                       ProfileName="Ana Souza")
    signature = twilio.sign(stack.url + "/webhooks/twilio", twilio.parse_form(form), AUTH_TOKEN)
    answer = stack.post("/webhooks/twilio", data=form, headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})
    assert answer.status == 200, answer.text

    def landed():
        items = stack.get("/agent/conversations?view=all&status=open&limit=100", token=stack.token("alice")).json()
        return next((c["id"] for c in items["items"]
                     if {"kind": "phone", "address": PHONE} in c["customer"]["identities"]), None)

    return stack.wait_for(landed)


def test_a_reply_with_variables_arrives_rendered_at_the_provider(stack):
    conv = whatsapp_in(stack, "Hi, has order #1003 arrived? I can't find it", "SM" + "r1" * 16)
    text = "Hi {{customer.first_name}}, order {{order.name}} shows {{order.status}}: {{order.tracking_url}}"
    expected = f"Hi Ana, order #1003 shows delivered: {TRACKING}"
    token = stack.token("alice")

    preview = stack.post(f"/agent/conversations/{conv}/preview", json={"text": text}, token=token)
    assert preview.status == 200 and preview.json() == {"text": expected}, preview.text

    unknown = stack.post(f"/agent/conversations/{conv}/replies", json={"text": "Hi {{customer.email}}"}, token=token)
    assert unknown.status == 422 and unknown.json()["code"] == "invalid_template", unknown.text

    sent = stack.post(f"/agent/conversations/{conv}/replies", json={"text": text}, token=token)
    assert sent.status == 202, sent.text
    assert sent.json()["text"] == expected

    delivered = stack.wait_for(lambda: [r for r in stack.outbox() if r["provider"] == "twilio"
                                        and r["form"].get("To") == f"whatsapp:{PHONE}"
                                        and r["form"].get("Body") == expected])
    assert "{{" not in delivered[0]["form"]["Body"]
