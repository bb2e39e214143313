"""WhatsApp Cloud, Messenger, Instagram and Telegram webhooks through the real handlers, with the
providers' sample requests and their real signatures (app secret test_app_secret, secret token
test_secret_token-1)."""

from __future__ import annotations

import json

import pytest

from shopdesk.channels import meta
from tests.integration.helpers import agent
from tests.support import http_event, sample

PATHS = {"meta_whatsapp": ("inbound_whatsapp", "/webhooks/whatsapp"),
         "meta_messenger": ("inbound_messenger", "/webhooks/messenger"),
         "meta_instagram": ("inbound_instagram", "/webhooks/instagram")}


def _post_meta(desk, provider_dir, body: bytes, signature: str | None):
    function, path = PATHS[provider_dir]
    headers = {"content-type": "application/json"}
    if signature is not None:
        headers["x-hub-signature-256"] = signature
    return desk.invoke(function, http_event("POST", path, body.decode("utf-8"), headers))


def _conversations(desk):
    status, body = agent(desk, "GET", "/agent/conversations", "alice", query="view=all")
    assert status == 200
    return body["items"]


def _inbound_texts(desk):
    texts = []
    for conv in _conversations(desk):
        detail = agent(desk, "GET", f"/agent/conversations/{conv['id']}", "alice")[1]
        texts += [(m["channel"], m["text"], m["kind"]) for m in detail["messages"] if m["direction"] == "inbound"]
    return texts


@pytest.mark.parametrize(("provider_dir", "name", "channel", "text"), [
    ("meta_whatsapp", "text", "whatsapp", "Does it come in another color?"),
    ("meta_whatsapp", "image", "whatsapp", "Taj Mahal"),
    ("meta_whatsapp", "interactive_button_reply", "whatsapp", "Cancel"),
    ("meta_messenger", "text", "messenger", "Hello World"),
    ("meta_instagram", "text", "instagram", "Hello World"),
])
def test_meta_sample_is_one_customer_message_refused_when_forged_and_a_no_op_when_repeated(
        desk, provider_dir, name, channel, text):
    body, sidecar = sample(provider_dir, name)
    raw, signature = body.encode(), sidecar["http"]["headers"]["X-Hub-Signature-256"]
    forged = _post_meta(desk, provider_dir, raw, "sha256=" + "0" * 64)
    assert forged["statusCode"] == 403 and _conversations(desk) == []
    assert _post_meta(desk, provider_dir, raw, None)["statusCode"] == 403
    assert _post_meta(desk, provider_dir, raw, signature)["statusCode"] == 200
    assert _post_meta(desk, provider_dir, raw, signature)["statusCode"] == 200
    texts = _inbound_texts(desk)
    assert len(texts) == 1 and texts[0][0] == channel and texts[0][1] == text


def test_whatsapp_cloud_customer_is_the_same_customer_as_on_twilio_sms(desk):
    from tests.integration.helpers import customer_writes
    sms_conv = customer_writes(desk, "+16505551234", "by sms first", "SMx1")
    body, sidecar = sample("meta_whatsapp", "text")
    _post_meta(desk, "meta_whatsapp", body.encode(), sidecar["http"]["headers"]["X-Hub-Signature-256"])
    detail = agent(desk, "GET", f"/agent/conversations/{sms_conv}", "alice")[1]
    assert [m["channel"] for m in detail["messages"] if m["direction"] == "inbound"] == ["sms", "whatsapp"]
    assert detail["channels"] == ["sms", "whatsapp"]


@pytest.mark.parametrize(("provider_dir", "name"), [
    ("meta_whatsapp", "status_delivered"), ("meta_whatsapp", "status_failed_131049"),
    ("meta_messenger", "delivery"),
])
def test_receipts_create_no_customer_message(desk, provider_dir, name):
    body, sidecar = sample(provider_dir, name)
    result = _post_meta(desk, provider_dir, body.encode(), sidecar["http"]["headers"]["X-Hub-Signature-256"])
    assert result["statusCode"] == 200
    assert _conversations(desk) == []


def test_whatsapp_receipt_updates_our_reply_and_keeps_the_error(desk):
    from tests.integration.helpers import customer_writes
    conv = customer_writes(desk, "+16505551234", "hi", "SMy1")
    body, sidecar = sample("meta_whatsapp", "text")
    _post_meta(desk, "meta_whatsapp", body.encode(), sidecar["http"]["headers"]["X-Hub-Signature-256"])
    status, reply = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "It does!"})
    assert status == 202
    failed, _ = sample("meta_whatsapp", "status_failed_131049")
    wamid = json.loads(failed)["entry"][0]["changes"][0]["value"]["statuses"][0]["id"]
    sk = f"MSG#{reply['created_at'][:23]}Z#{reply['id']}"
    desk.client("dynamodb").update_item(
        TableName=desk.table_name, Key={"PK": {"S": f"CONV#{conv}"}, "SK": {"S": sk}},
        UpdateExpression="SET provider_id = :p", ExpressionAttributeValues={":p": {"S": wamid}})
    desk.client("dynamodb").put_item(TableName=desk.table_name, Item={
        "PK": {"S": f"EXTMSG#whatsapp_cloud#{wamid}"}, "SK": {"S": "META"}, "conversation_id": {"S": conv},
        "message_sk": {"S": sk}})
    _post_meta(desk, "meta_whatsapp", failed.encode(), meta.sign(failed.encode(), "test_app_secret"))
    [out] = [m for m in agent(desk, "GET", f"/agent/conversations/{conv}", "alice")[1]["messages"]
             if m["direction"] == "outbound"]
    assert out["status"] == "failed" and out["error"]["code"] == "131049"


def test_meta_handshake_echoes_the_challenge_only_with_the_verify_token(desk):
    ok = desk.invoke("inbound_whatsapp", http_event(
        "GET", "/webhooks/whatsapp", query="hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhock"))
    assert ok["statusCode"] == 200 and ok["body"] == "1158201444"
    bad = desk.invoke("inbound_messenger", http_event(
        "GET", "/webhooks/messenger", query="hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=nope"))
    assert bad["statusCode"] == 403


def test_meta_batch_of_messages_and_non_message_events(desk):
    entry = {"id": "1234567890", "time": 1, "messaging": [
        {"sender": {"id": "5678"}, "recipient": {"id": "1234567890"}, "timestamp": 1,
         "message": {"mid": "m1", "text": "first"}},
        {"sender": {"id": "5678"}, "recipient": {"id": "1234567890"}, "timestamp": 2,
         "message": {"mid": "m1", "text": "first"}},                                  # duplicate inside the POST
        {"sender": {"id": "5678"}, "recipient": {"id": "1234567890"}, "timestamp": 3,
         "message": {"mid": "m2", "text": "Grüße 👋 ça va?"}},
        {"sender": {"id": "5678"}, "recipient": {"id": "1234567890"}, "timestamp": 4,
         "reaction": {"mid": "m1", "action": "react", "emoji": "❤"}},
        {"sender": {"id": "1234567890"}, "recipient": {"id": "5678"}, "timestamp": 5,
         "message": {"mid": "m3", "text": "echo of the page", "is_echo": True}},
        {"sender": {"id": "5678"}, "recipient": {"id": "1234567890"}, "timestamp": 6, "brand_new_event": {}},
    ]}
    raw = json.dumps({"object": "page", "entry": [entry, {"id": "1234567890", "time": 2, "messaging": []}]},
                     ensure_ascii=False).encode()
    assert _post_meta(desk, "meta_messenger", raw, meta.sign(raw, "test_app_secret"))["statusCode"] == 200
    assert _post_meta(desk, "meta_messenger", raw, meta.sign(raw, "test_app_secret"))["statusCode"] == 200
    [conv] = _conversations(desk)
    messages = agent(desk, "GET", f"/agent/conversations/{conv['id']}", "alice")[1]["messages"]
    assert [m["text"] for m in messages if m["direction"] == "inbound"] == ["first", "Grüße 👋 ça va?"]
    kinds = [m["kind"] for m in messages if m["direction"] == "system"]
    assert "reaction" in kinds and "echo" in kinds
    # each with its structured event beside the English text, for the inbox to word in the agent's language
    events = {m["kind"]: (m["text"], m["event"]) for m in messages if m["direction"] == "system"}
    assert events["reaction"] == ("Reacted ❤", {"kind": "reaction", "params": {"action": "added", "emoji": "❤"}})
    assert events["echo"] == ("Sent by the business: echo of the page",
                              {"kind": "echo", "params": {"channel": "messenger", "text": "echo of the page"}})
    assert events["unknown"][1] == {"kind": "unknown", "params": {"channel": "messenger", "name": "brand_new_event"}}


def test_a_long_edit_is_bounded_in_its_event_as_other_system_events_are(desk):
    who = {"sender": {"id": "5678"}, "recipient": {"id": "1234567890"}}
    long_text = "size 40 " * 5_000
    for event in ({**who, "timestamp": 1, "message": {"mid": "m1", "text": "first"}},
                  {**who, "timestamp": 2, "message_edit": {"mid": "m1", "num_edit": 1, "text": long_text}}):
        raw = json.dumps({"object": "page", "entry": [{"id": "1234567890", "time": 1, "messaging": [event]}]}).encode()
        assert _post_meta(desk, "meta_messenger", raw, meta.sign(raw, "test_app_secret"))["statusCode"] == 200
    [conv] = _conversations(desk)
    [edit] = [m for m in agent(desk, "GET", f"/agent/conversations/{conv['id']}", "alice")[1]["messages"]
              if m["kind"] == "edit"]
    item = desk.item(f"CONV#{conv['id']}", f"MSG#{edit['created_at'][:23]}Z#{edit['id']}")
    assert item["text"] == f"Edited a message: {long_text}"                  # the text as it always was
    assert item["truncated"] == ["event"] and len(item["event"]["params"]["text"].encode()) <= 4_000
    assert item["event"]["params"]["text"].startswith("size 40 size 40") and edit["event"]["kind"] == "edit"


def _post_telegram(desk, body: str, secret: str | None):
    headers = {"content-type": "application/json"}
    if secret is not None:
        headers["x-telegram-bot-api-secret-token"] = secret
    return desk.invoke("inbound_telegram", http_event("POST", "/webhooks/telegram", body, headers))


@pytest.mark.parametrize(("name", "text"), [("text_captured", "Hello World"), ("photo_with_caption", "Photo Caption")])
def test_telegram_sample_is_one_message_refused_without_the_secret_and_a_no_op_when_repeated(desk, name, text):
    body, _ = sample("telegram", name)
    assert _post_telegram(desk, body, "wrong")["statusCode"] == 403
    assert _post_telegram(desk, body, None)["statusCode"] == 403
    assert _conversations(desk) == []
    assert _post_telegram(desk, body, "test_secret_token-1")["statusCode"] == 200
    assert _post_telegram(desk, body, "test_secret_token-1")["statusCode"] == 200
    assert [(c, t) for c, t, _ in _inbound_texts(desk)] == [("telegram", text)]


def test_telegram_reaction_and_edit_are_on_the_timeline_with_their_events(desk):
    body, _ = sample("telegram", "text_captured")
    assert _post_telegram(desk, body, "test_secret_token-1")["statusCode"] == 200
    chat = {"id": 3527065, "first_name": "Nic", "type": "private"}
    reaction = {"update_id": 174114371, "message_reaction": {
        "chat": chat, "message_id": 41, "user": {"id": 3527065, "first_name": "Nic"}, "date": 1454119100,
        "old_reaction": [], "new_reaction": [{"type": "emoji", "emoji": "👍"}]}}
    edit = {"update_id": 174114372, "edited_message": {"message_id": 41, "from": {"id": 3527065, "first_name": "Nic"},
                                                        "chat": chat, "date": 1454119029, "edit_date": 1454119200,
                                                        "text": "Hello again"}}
    for update in (reaction, edit):
        assert _post_telegram(desk, json.dumps(update), "test_secret_token-1")["statusCode"] == 200
    [conv] = _conversations(desk)
    messages = agent(desk, "GET", f"/agent/conversations/{conv['id']}", "alice")[1]["messages"]
    assert [(m["text"], m["event"]) for m in messages if m["direction"] == "system"] == [
        ("Reacted 👍", {"kind": "reaction", "params": {"action": "added", "emoji": "👍"}}),
        ('Edited: "Hello again"', {"kind": "edit", "params": {"text": "Hello again"}}),
    ]


def test_malformed_bodies_are_400_and_store_nothing(desk):
    raw = b"{not json"
    assert _post_meta(desk, "meta_whatsapp", raw, meta.sign(raw, "test_app_secret"))["statusCode"] == 400
    assert _post_telegram(desk, "[1, 2]", "test_secret_token-1")["statusCode"] == 400
    assert _conversations(desk) == []
