"""Every channel over HTTP on the local stack: the providers' samples replayed with their real
signatures, and replies leaving through each provider's API (the sandbox)."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from datetime import datetime
from email.message import EmailMessage

import pytest
from tests.support import SAMPLES, presigned_seconds, sample

from shopdesk.channels import meta, webchat

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_inboxes")]

FAKE_META_SECRET = "fake-meta-app-secret"            # the local stack's documented defaults
FAKE_TELEGRAM_SECRET = "fake-telegram-secret-token"
FAKE_VISITOR_SECRET = "fake-webchat-visitor-secret"
WIDGET_ORIGIN = "http://localhost:8080"
TURKISH_NAME = "\u015eule Y\u0131lmaz"      # a Turkish name with a dotless i

META_SAMPLES = [  # (folder, sample, webhook path, what the agent must see)
    ("meta_whatsapp", "text", "/webhooks/whatsapp", "Does it come in another color?"),
    ("meta_whatsapp", "image", "/webhooks/whatsapp", "Taj Mahal"),
    ("meta_whatsapp", "interactive_button_reply", "/webhooks/whatsapp", "Cancel"),
    ("meta_messenger", "text", "/webhooks/messenger", "Hello World"),
    ("meta_messenger", "attachment_image", "/webhooks/messenger", None),
    ("meta_instagram", "text", "/webhooks/instagram", "Hello World"),
    ("meta_instagram", "attachment_image", "/webhooks/instagram", None),
]
WAMID_TEXT = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
WAMID_BUTTON = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTZBQzg0MzQ4QjRCM0NGNkVGOAA="
RECEIPT_SAMPLES = [("meta_whatsapp", "status_delivered", "/webhooks/whatsapp"),
                   ("meta_whatsapp", "status_failed_131049", "/webhooks/whatsapp"),
                   ("meta_messenger", "delivery", "/webhooks/messenger")]


def _all(stack):
    answer = stack.get("/agent/conversations?view=all&limit=100", token=stack.token("alice"))
    assert answer.status == 200, answer.text
    return answer.json()["items"]


def _detail(stack, conv_id):
    return stack.get(f"/agent/conversations/{conv_id}", token=stack.token("alice")).json()


def _inbound(stack):
    return {(m["channel"], m["provider_id"]): m for c in _all(stack) for m in _detail(stack, c["id"])["messages"]
            if m["direction"] == "inbound"}


def _post_json(stack, path, raw: bytes, headers):
    return stack.post(path, data=raw, headers={"Content-Type": "application/json", **headers})


def test_every_meta_and_telegram_sample_replayed_is_exactly_its_messages(samples_stack):
    stack = samples_stack
    before = set(_inbound(stack))
    for folder, name, path, _text in META_SAMPLES:
        body, sidecar = sample(folder, name)
        raw, signature = body.encode(), sidecar["http"]["headers"]["X-Hub-Signature-256"]
        assert _post_json(stack, path, raw, {"X-Hub-Signature-256": "sha256=" + "0" * 64}).status == 403, name
        assert _post_json(stack, path, raw, {}).status == 403, name
        for _ in range(2):                                         # the second delivery is a no-op
            answer = _post_json(stack, path, raw, {"X-Hub-Signature-256": signature})
            assert answer.status == 200, (name, answer.text)
    for folder, name, path in RECEIPT_SAMPLES:
        body, sidecar = sample(folder, name)
        signature = sidecar["http"]["headers"]["X-Hub-Signature-256"]
        assert _post_json(stack, path, body.encode(), {"X-Hub-Signature-256": signature}).status == 200
    for name in ("text_captured", "photo_with_caption"):
        body, _ = sample("telegram", name)
        assert _post_json(stack, "/webhooks/telegram", body.encode(),
                          {"X-Telegram-Bot-Api-Secret-Token": "wrong"}).status == 403
        for _ in range(2):
            assert _post_json(stack, "/webhooks/telegram", body.encode(),
                              {"X-Telegram-Bot-Api-Secret-Token": "test_secret_token-1"}).status == 200
    # The providers' documentation reuses message ids across its examples (the WhatsApp text and
    # image share one wamid; every Messenger/Instagram example is mid "external_id"): a repeated id
    # is a re-delivery, so each id is one message, as first received. Receipts made none.
    expected = {
        ("whatsapp", WAMID_TEXT): "Does it come in another color?",
        ("whatsapp", WAMID_BUTTON): "Cancel",
        ("messenger", "external_id"): "Hello World",
        ("instagram", "external_id"): "Hello World",
        ("telegram", "174114370"): "Hello World",
        ("telegram", "900946525"): "Photo Caption",
    }
    # The "all" list reads each status's index partition in turn (eventually consistent in AWS): a conversation
    # the router moves between statuses during that read is missed by it, and listed by the next one.
    deadline = time.monotonic() + 15
    while True:
        new = {key: m["text"] for key, m in _inbound(stack).items() if key not in before}
        if new == expected or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert new == expected


def test_meta_verification_handshake(samples_stack):
    handshake = "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhock"
    ok = samples_stack.get(f"/webhooks/whatsapp?{handshake}")
    assert ok.status == 200 and ok.text == "1158201444"
    bad = samples_stack.get("/webhooks/instagram?hub.mode=subscribe&hub.challenge=1&hub.verify_token=nope")
    assert bad.status == 403


def _whatsapp_text(wa_id: str, wamid: str, text: str) -> bytes:
    payload = {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550783881",
                                                      "phone_number_id": "106540352242922"},
        "contacts": [{"profile": {"name": TURKISH_NAME}, "wa_id": wa_id}],
        "messages": [{"from": wa_id, "id": wamid, "timestamp": str(int(time.time())), "type": "text",
                      "text": {"body": text}}]}}]}]}
    return json.dumps(payload, ensure_ascii=False).encode()


def _owner(stack, address):
    for agent in ("alice", "bob"):
        items = stack.get("/agent/conversations?view=mine", token=stack.token(agent)).json()["items"]
        for conv in items:
            if any(i["address"] == address for i in conv["customer"]["identities"]):
                return agent, conv
    return None


def _outbound(stack, agent, conv_id):
    return [m for m in stack.get(f"/agent/conversations/{conv_id}", token=stack.token(agent)).json()["messages"]
            if m["direction"] == "outbound" and m["kind"] != "acknowledgement"]


def test_whatsapp_cloud_reply_goes_out_and_comes_back_delivered(stack):
    raw = _whatsapp_text("4915112345678", "wamid.E2E-1", "Merhaba, siparişim nerede?")
    assert _post_json(stack, "/webhooks/whatsapp", raw, {"X-Hub-Signature-256": meta.sign(raw, FAKE_META_SECRET)}
                      ).status == 200
    agent, conv = stack.wait_for(lambda: _owner(stack, "+4915112345678"))
    assert conv["customer"]["name"] == TURKISH_NAME
    assert stack.post(f"/agent/conversations/{conv['id']}/replies", json={"text": "Bugün kargoda."},
                      token=stack.token(agent)).status == 202
    sent = stack.wait_for(lambda: [r for r in stack.outbox() if r["provider"] == "whatsapp_cloud"
                                   and "Bugün kargoda." in json.dumps(r.get("body"), ensure_ascii=False)])
    assert sent[0]["url"].endswith("/106540352242922/messages")
    stack.wait_for(lambda: _outbound(stack, agent, conv["id"])[0]["status"] == "delivered")


def test_whatsapp_window_closed_free_text_refused_template_sent(stack):
    raw = _whatsapp_text("4915112340000", "wamid.E2E-2", "hi")
    _post_json(stack, "/webhooks/whatsapp", raw, {"X-Hub-Signature-256": meta.sign(raw, FAKE_META_SECRET)})
    agent, conv = stack.wait_for(lambda: _owner(stack, "+4915112340000"))
    stack.advance(25 * 3600)
    refused = stack.post(f"/agent/conversations/{conv['id']}/replies", json={"text": "still there?"},
                         token=stack.token(agent))
    assert refused.status == 409 and "template" in refused.json()["detail"]
    sent = stack.post(f"/agent/conversations/{conv['id']}/templates", token=stack.token(agent),
                      json={"name": "order_update", "language": "en_US", "parameters": ["#77", "shipped"]})
    assert sent.status == 202, sent.text
    stack.wait_for(lambda: [r for r in stack.outbox() if r["provider"] == "whatsapp_cloud"
                            and "order_update" in json.dumps(r.get("body"))])


def test_messenger_and_telegram_replies_leave_through_their_apis(stack):
    psid = "990011"
    payload = {"object": "page", "entry": [{"id": "1234567890", "time": 1, "messaging": [
        {"sender": {"id": psid}, "recipient": {"id": "1234567890"}, "timestamp": 1,
         "message": {"mid": "m_E2E-1", "text": "Hi page"}}]}]}
    raw = json.dumps(payload).encode()
    assert _post_json(stack, "/webhooks/messenger", raw, {"X-Hub-Signature-256": meta.sign(raw, FAKE_META_SECRET)}
                      ).status == 200
    update = {"update_id": 880001, "message": {"message_id": 5, "date": int(time.time()), "text": "Hi bot",
                                               "from": {"id": 4242, "first_name": "Tele"},
                                               "chat": {"id": 4242, "type": "private", "first_name": "Tele"}}}
    assert _post_json(stack, "/webhooks/telegram", json.dumps(update).encode(),
                      {"X-Telegram-Bot-Api-Secret-Token": FAKE_TELEGRAM_SECRET}).status == 200
    for address, text in ((psid, "Hello from the page"), ("4242", "Hello from the bot")):
        agent, conv = stack.wait_for(lambda a=address: _owner(stack, a))
        assert stack.post(f"/agent/conversations/{conv['id']}/replies", json={"text": text},
                          token=stack.token(agent)).status == 202
    stack.wait_for(lambda: [r for r in stack.outbox() if r["provider"] in ("messenger", "instagram")
                            and "Hello from the page" in json.dumps(r.get("body"))])
    stack.wait_for(lambda: [r for r in stack.outbox() if r["provider"] == "telegram"
                            and "Hello from the bot" in json.dumps(r.get("body"))])


def test_telegram_photo_is_downloaded_and_shown_through_a_short_lived_link(stack):
    update = {"update_id": 880002, "message": {
        "message_id": 6, "date": int(time.time()), "caption": "my parcel", "from": {"id": 4343, "first_name": "P"},
        "chat": {"id": 4343, "type": "private"},
        "photo": [{"file_id": "small-1", "file_size": 100, "width": 90, "height": 90},
                  {"file_id": "large-1", "file_size": 2000, "width": 800, "height": 800}]}}
    _post_json(stack, "/webhooks/telegram", json.dumps(update).encode(),
               {"X-Telegram-Bot-Api-Secret-Token": FAKE_TELEGRAM_SECRET})
    agent, conv = stack.wait_for(lambda: _owner(stack, "4343"))

    def stored():
        messages = stack.get(f"/agent/conversations/{conv['id']}", token=stack.token(agent)).json()["messages"]
        [message] = [m for m in messages if m["direction"] == "inbound"]
        [attachment] = message["attachments"]
        return attachment if attachment["url"] and "X-Amz-Signature" in attachment["url"] else None

    attachment = stack.wait_for(stored)
    assert presigned_seconds(attachment["url"]) == 300       # short-lived: five minutes
    with urllib.request.urlopen(attachment["url"], timeout=10) as answer:   # the stack's own S3 (moto)
        assert answer.status == 200 and len(answer.read()) > 0


def _email(sender, to, subject, body, message_id, **headers):
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Message-ID"] = sender, to, subject, message_id
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return bytes(msg)


def test_email_in_through_ses_reply_out_threaded_and_the_answer_joins_the_conversation(stack):
    raw = _email("Ada <ada@customer.example>", "support@shop.example", "Order 1001", "Where is it?",
                 "<e2e-1@customer.example>")
    answer = stack.post("/_local/email?wait=1", data=raw, headers={"Content-Type": "message/rfc822"})
    assert answer.status == 202, answer.text
    agent, conv = stack.wait_for(lambda: _owner(stack, "ada@customer.example"))
    assert stack.post(f"/agent/conversations/{conv['id']}/replies", json={"text": "It ships today."},
                      token=stack.token(agent)).status == 202
    [sent] = stack.wait_for(lambda: [r for r in stack.outbox() if r["provider"] == "ses"
                                     and "ada@customer.example" in r["form"].get("To", "")
                                     and "It ships today." in r["body"]])       # the reply, not the acknowledgement
    assert sent["form"]["Subject"] == "Re: Order 1001"
    assert sent["form"]["In-Reply-To"] == "<e2e-1@customer.example>"
    assert f"reply+{conv['id']}@shop.example" in sent["form"]["Reply-To"]
    reply = _email("ada@customer.example", f"reply+{conv['id']}@shop.example", "Re: Order 1001",
                   "Great, thanks!\n\nOn Sun, Shop wrote:\n> It ships today.\n", "<e2e-2@customer.example>",
                   In_Reply_To=sent["form"]["Message-ID"])
    assert stack.post("/_local/email?wait=1", data=reply, headers={"Content-Type": "message/rfc822"}).status == 202
    messages = stack.get(f"/agent/conversations/{conv['id']}", token=stack.token(agent)).json()["messages"]
    assert [m["text"] for m in messages if m["direction"] == "inbound"] == ["Where is it?", "Great, thanks!"]


@pytest.mark.parametrize(("case", "to", "mailbox"), [
    ("Bcc", "Friend <friend@example.org>", "support@shop.example"),
    ("an alias forwarding to another mailbox of ours", "Info <info@brand.example>", "sales@shop.example"),
])
def test_email_that_reached_the_shop_only_through_the_envelope_is_answered_from_the_shop_address(stack, case, to,
                                                                                                 mailbox):
    # Given mail whose To names someone else, received by SES for one of our mailboxes (the envelope)
    customer = f"ada-{uuid.uuid4().hex[:8]}@customer.example"
    raw = _email(f"Ada <{customer}>", to, "Order 1002", "Where is it?", f"<{uuid.uuid4().hex}@customer.example>")
    answer = stack.post(f"/_local/email?wait=1&to={mailbox}", data=raw, headers={"Content-Type": "message/rfc822"})
    assert answer.status == 202 and answer.json()["recipients"] == [mailbox], answer.text
    agent, conv = stack.wait_for(lambda: _owner(stack, customer))
    # When an agent answers
    assert stack.post(f"/agent/conversations/{conv['id']}/replies", json={"text": "It ships today."},
                      token=stack.token(agent)).status == 202
    # Then SES accepts it (it refuses senders that are not verified) from the mailbox the mail came to
    [sent] = stack.wait_for(lambda: [r for r in stack.outbox() if r["provider"] == "ses"
                                     and customer in (r["form"].get("To") or "") and "It ships today." in r["body"]])
    assert sent["envelope"]["from"] == mailbox and mailbox in sent["form"]["From"], case
    assert f"reply+{conv['id']}@shop.example" in sent["form"]["Reply-To"]
    [reply] = stack.wait_for(lambda: [m for m in _outbound(stack, agent, conv["id"]) if m["status"] == "accepted"])
    assert reply["text"] == "It ships today."


def test_email_delivered_twice_is_reported_as_a_duplicate_and_stored_once(stack):
    customer = f"bea-{uuid.uuid4().hex[:8]}@customer.example"
    raw = _email(customer, "support@shop.example", "Order 1003", "Any news?", f"<{uuid.uuid4().hex}@customer.example>")
    answers = [stack.post("/_local/email?wait=1", data=raw, headers={"Content-Type": "message/rfc822"}).json()
               for _ in range(2)]
    assert [a["invocations"][0]["result"] for a in answers] == [{"stored": 1, "duplicates": 0},
                                                                 {"stored": 0, "duplicates": 1}]
    _, conv = stack.wait_for(lambda: _owner(stack, customer))
    assert [m["text"] for m in _detail(stack, conv["id"])["messages"] if m["direction"] == "inbound"] == ["Any news?"]


def test_email_sample_from_the_providers_docs(stack):
    raw = (SAMPLES / "ses" / "eml" / "plain_text_apple_mail.eml").read_bytes()
    assert stack.post("/_local/email?wait=1&to=support@shop.example", data=raw,
                      headers={"Content-Type": "message/rfc822"}).status == 202
    _, conv = stack.wait_for(lambda: _owner(stack, "test@lindsaar.net"))
    [message] = [m for m in _detail(stack, conv["id"])["messages"] if m["direction"] == "inbound"]
    assert message["subject"] == "Testing 123" and message["channel"] == "email"


def test_web_chat_visitor_and_agent_talk_through_the_widget_api(stack):
    now = stack.get("/_local/clock").json()["now"]          # the shop's server and the stack share a clock
    exp = int(datetime.fromisoformat(now.replace("Z", "+00:00")).timestamp()) + 600
    token = webchat.sign_visitor_token({"visitor_id": "e2e-visitor", "name": "Vera", "exp": exp}, FAKE_VISITOR_SECRET)
    headers = {"Origin": WIDGET_ORIGIN}
    start = stack.post("/widget/sessions", json={"visitor_token": token}, headers=headers)
    assert start.status == 201, start.text
    session = {"Origin": WIDGET_ORIGIN, "Authorization": f"Bearer {start.json()['session']}"}
    assert stack.post("/widget/messages", json={"client_message_id": "c1", "text": "Is this in stock?"},
                      headers=session).status == 201
    assert stack.post("/widget/sessions", json={"visitor_token": token},
                      headers={"Origin": "https://evil.example"}).status == 403
    agent, conv = stack.wait_for(lambda: _owner(stack, "e2e-visitor"))
    stack.post(f"/agent/conversations/{conv['id']}/replies", json={"text": "Yes, 3 left."}, token=stack.token(agent))

    def replies():
        items = stack.get("/widget/messages", headers=session).json()["items"]
        texts = [m["text"] for m in items if m["from"] == "agent"]
        return texts if "Yes, 3 left." in texts else None

    texts = stack.wait_for(replies)
    # the visitor sees the automatic acknowledgement first, then the agent's answer
    assert texts[-1] == "Yes, 3 left." and "Vera" in texts[0]
