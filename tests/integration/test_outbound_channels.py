"""Replies leave through each channel's own API, and each channel's rules are enforced before sending."""

from __future__ import annotations

import json
import time

import pytest

from shopdesk import clock
from shopdesk.channels import meta
from tests.integration.helpers import agent, customer_writes, online
from tests.support import FakeHttp, http_event, sample


def _meta_post(desk, function, path, payload):
    raw = json.dumps(payload).encode()
    headers = {"content-type": "application/json", "x-hub-signature-256": meta.sign(raw, "test_app_secret")}
    assert desk.invoke(function, http_event("POST", path, raw.decode(), headers))["statusCode"] == 200


def _only_conversation(desk):
    [conv] = agent(desk, "GET", "/agent/conversations", "alice", query="view=all")[1]["items"]
    return conv["id"]


def _outbound(desk, conv):
    return [m for m in agent(desk, "GET", f"/agent/conversations/{conv}", "alice")[1]["messages"]
            if m["direction"] == "outbound"]


@pytest.fixture
def graph():
    fake = FakeHttp(lambda path, body: (200, {"messaging_product": "whatsapp", "messages": [{"id": "wamid.OUT1"}]}
                                        if path.endswith("/messages") and "messaging_product" in (body or {})
                                        else {"recipient_id": "5678", "message_id": "m_OUT1"}))
    yield fake
    fake.close()


def _dispatch(desk, fake, **env):
    desk.drain_queue(desk.outbound_queue_url, "dispatcher", META_GRAPH_BASE_URL=fake.url,
                     TELEGRAM_API_BASE_URL=fake.url, **env)


def test_whatsapp_cloud_reply_goes_to_the_phone_number_id_the_customer_wrote_to(desk, graph):
    body, sidecar = sample("meta_whatsapp", "text")
    desk.invoke("inbound_whatsapp", http_event("POST", "/webhooks/whatsapp", body, {
        "x-hub-signature-256": sidecar["http"]["headers"]["X-Hub-Signature-256"]}))
    conv = _only_conversation(desk)
    assert agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "Yes, in blue."})[0] == 202
    _dispatch(desk, graph)
    [request] = graph.requests
    assert request["path"].endswith("/106540352242922/messages") and request["auth"] == "Bearer test-access-token"
    assert request["json"]["to"] == "16505551234" and request["json"]["text"]["body"] == "Yes, in blue."
    [out] = _outbound(desk, conv)
    assert out["provider_id"] == "wamid.OUT1" and out["status"] == "accepted"


def test_whatsapp_free_text_after_24_hours_is_refused_and_a_template_goes_out(desk, graph):
    body, sidecar = sample("meta_whatsapp", "text")
    desk.invoke("inbound_whatsapp", http_event("POST", "/webhooks/whatsapp", body, {
        "x-hub-signature-256": sidecar["http"]["headers"]["X-Hub-Signature-256"]}))
    conv = _only_conversation(desk)
    clock.set_offset(25 * 3600)
    status, refused = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "Still there?"})
    assert status == 409 and "template" in refused["detail"]
    status, templates = agent(desk, "GET", "/agent/templates", "alice")
    assert status == 200 and templates["items"][0]["name"] == "order_update"
    status, sent = agent(desk, "POST", f"/agent/conversations/{conv}/templates", "alice",
                         {"name": "order_update", "language": "en_US", "parameters": ["#1001", "shipped"]})
    assert status == 202 and sent["text"] == "Hi! There is news about your order #1001: shipped"
    assert agent(desk, "POST", f"/agent/conversations/{conv}/templates", "alice",
                 {"name": "order_update", "language": "en_US", "parameters": ["#1001"]})[0] == 400
    _dispatch(desk, graph)
    [request] = graph.requests
    template = request["json"]["template"]
    assert request["json"]["type"] == "template" and template["name"] == "order_update"
    assert [p["text"] for p in template["components"][0]["parameters"]] == ["#1001", "shipped"]


def test_messenger_reply_after_a_day_carries_the_human_agent_tag_and_after_a_week_is_refused(desk, graph):
    body, sidecar = sample("meta_messenger", "text")
    desk.invoke("inbound_messenger", http_event("POST", "/webhooks/messenger", body, {
        "x-hub-signature-256": sidecar["http"]["headers"]["X-Hub-Signature-256"]}))
    conv = _only_conversation(desk)
    assert agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "Hi!"})[0] == 202
    clock.set_offset(2 * 24 * 3600)
    assert agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "Update"})[0] == 202
    _dispatch(desk, graph)
    first, second = graph.requests
    assert first["json"]["messaging_type"] == "RESPONSE" and first["json"]["recipient"] == {"id": "5678"}
    assert second["json"]["messaging_type"] == "MESSAGE_TAG" and second["json"]["tag"] == "HUMAN_AGENT"
    clock.set_offset(8 * 24 * 3600)
    status, refused = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "Hello?"})
    assert status == 409 and "7 days" in refused["detail"]


def test_telegram_reply_uses_send_message_with_the_bot_token(desk, graph):
    fake = FakeHttp((200, {"ok": True, "result": {"message_id": 77, "chat": {"id": 3527065}}}))
    try:
        body, _ = sample("telegram", "text_captured")
        desk.invoke("inbound_telegram", http_event("POST", "/webhooks/telegram", body, {
            "x-telegram-bot-api-secret-token": "test_secret_token-1"}))
        conv = _only_conversation(desk)
        agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "Hello Nic"})
        desk.drain_queue(desk.outbound_queue_url, "dispatcher", TELEGRAM_API_BASE_URL=fake.url)
        [request] = fake.requests
        assert request["path"] == "/bot123456789:test-bot-token/sendMessage"
        assert request["json"]["chat_id"] in (3527065, "3527065") and request["json"]["text"] == "Hello Nic"
        [out] = _outbound(desk, conv)
        assert out["status"] == "sent"
    finally:
        fake.close()


def test_telegram_blocked_bot_marks_the_reply_failed_with_the_reason(desk):
    fake = FakeHttp((403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}))
    try:
        body, _ = sample("telegram", "text_captured")
        desk.invoke("inbound_telegram", http_event("POST", "/webhooks/telegram", body, {
            "x-telegram-bot-api-secret-token": "test_secret_token-1"}))
        conv = _only_conversation(desk)
        agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "Hello"})
        desk.drain_queue(desk.outbound_queue_url, "dispatcher", TELEGRAM_API_BASE_URL=fake.url)
        [out] = _outbound(desk, conv)
        assert out["status"] == "failed" and "blocked" in out["error"]["message"]
    finally:
        fake.close()


def test_agent_may_answer_on_another_of_the_customers_channels(desk, graph):
    online(desk, "alice")
    conv = customer_writes(desk, "+16505551234", "by sms", "SMz1")
    body, sidecar = sample("meta_whatsapp", "text")
    desk.invoke("inbound_whatsapp", http_event("POST", "/webhooks/whatsapp", body, {
        "x-hub-signature-256": sidecar["http"]["headers"]["X-Hub-Signature-256"]}))
    status, sent = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice",
                         {"text": "by sms too", "channel": "sms"})
    assert status == 202 and sent["channel"] == "sms"
    status, refused = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice",
                            {"text": "x", "channel": "telegram"})
    assert status == 400 and "telegram" in refused["detail"]


OUTAGES = {   # each provider's answer while it is down: (webhook function, path, sample dir, headers, answer)
    "whatsapp_cloud": ("inbound_whatsapp", "/webhooks/whatsapp", "meta_whatsapp",
                       (503, {"error": {"message": "Service temporarily unavailable", "code": 2}}),
                       "Meta's service is temporarily unavailable"),
    "messenger": ("inbound_messenger", "/webhooks/messenger", "meta_messenger",
                  (503, {"error": {"message": "Service temporarily unavailable", "code": 2}}),
                  "Meta's service is temporarily unavailable"),
    "telegram": ("inbound_telegram", "/webhooks/telegram", "telegram",
                 (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}),
                 "Telegram had a server error"),
}


@pytest.mark.parametrize("provider", sorted(OUTAGES))
def test_a_reply_an_outage_failed_for_good_says_it_was_not_sent_and_can_be_sent_again(desk, provider):
    function, path, samples, down, reason = OUTAGES[provider]
    fake = FakeHttp(down)
    try:
        # Given a customer's message, and the provider down for every attempt the dispatcher makes
        body, sidecar = sample(samples, "text_captured" if provider == "telegram" else "text")
        headers = ({"x-telegram-bot-api-secret-token": "test_secret_token-1"} if provider == "telegram"
                   else {"x-hub-signature-256": sidecar["http"]["headers"]["X-Hub-Signature-256"]})
        desk.invoke(function, http_event("POST", path, body, headers))
        conv = _only_conversation(desk)
        agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "Your parcel left today"})
        # When the first attempt fails, the reply says it will be retried
        _dispatch(desk, fake)
        [out] = _outbound(desk, conv)
        assert out["status"] == "queued"
        assert out["error"]["message"] == f"{reason}; the reply will be retried"
        # and when the last one fails (DISPATCH_MAX_ATTEMPTS=3 in tests), it says it failed and can be sent again
        deadline = time.monotonic() + 15
        while out["status"] == "queued" and time.monotonic() < deadline:
            time.sleep(0.5)
            _dispatch(desk, fake)
            [out] = _outbound(desk, conv)
        assert out["status"] == "failed" and out["attempts"] == 3
        assert out["error"]["message"] == f"{reason}; the reply was not sent after 3 attempts: send it again"
        assert "will be retried" not in out["error"]["message"]
    finally:
        fake.close()
