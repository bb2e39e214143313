"""No silent resend (#14): the dispatcher stops between a provider accepting a reply and its own record of it,
the outbound record comes back, and the reply reaches the customer once where the provider lets us find out,
or goes again flagged ``possibly_duplicate`` (or failed for a person) where it does not."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from shopdesk.channels import meta
from tests.integration.helpers import agent, customer_writes, online
from tests.support import FakeHttp, FakeTwilio, http_event, sample, signed_twilio, twilio_form


class Crash(RuntimeError):
    """The function dies here (a timeout, an out-of-memory kill): nothing after this line runs."""


class Crashing:
    """The dispatcher's senders, with a fault injected around the first provider call: after the provider took
    the message (``after=True``) or just before calling it."""

    def __init__(self, senders: Any, *, after: bool = True):
        self.senders, self.after, self.crashed = senders, after, False

    def __call__(self, provider: str) -> Any:
        return _Faulty(self.senders(provider), self)


class _Faulty:
    def __init__(self, real: Any, fault: Crashing):
        self.real, self.fault = real, fault

    def send(self, request: Any) -> Any:
        if not self.fault.crashed and not self.fault.after:
            self.fault.crashed = True
            raise Crash("before the provider call")
        result = self.real.send(request)
        if not self.fault.crashed:
            self.fault.crashed = True
            raise Crash("after the provider accepted")
        return result

    def __getattr__(self, name: str) -> Any:       # find(), where the real sender has one
        return getattr(self.real, name)


def _outbound(desk, conv) -> list[dict[str, Any]]:
    return [m for m in agent(desk, "GET", f"/agent/conversations/{conv}", "alice")[1]["messages"]
            if m["direction"] == "outbound"]


def _until_settled(desk, conv, **env: str) -> dict[str, Any]:
    """Deliver the outbound record again and again (a failed one comes back after the 1 s backoff) until the
    reply is recorded as sent or failed."""
    deadline = time.monotonic() + 20
    while True:
        desk.drain_queue(desk.outbound_queue_url, "dispatcher", rounds=1, **env)
        [out] = _outbound(desk, conv)
        if out["provider_id"] or out["status"] == "failed" or time.monotonic() > deadline:
            return out
        time.sleep(0.3)


def _reply_item(desk, conv) -> dict[str, Any]:
    from shopdesk.dal.table import deserialize
    items = desk.client("dynamodb").query(
        TableName=desk.table_name, KeyConditionExpression="PK = :pk AND begins_with(SK, :msg)",
        ExpressionAttributeValues={":pk": {"S": f"CONV#{conv}"}, ":msg": {"S": "MSG#"}}, ConsistentRead=True)["Items"]
    [reply] = [deserialize(i) for i in items if i.get("direction", {}).get("S") == "outbound"]
    return reply


def _crash_first_delivery(desk, conv, *, after: bool = True, **env: str) -> None:
    module = desk.handler("dispatcher", **env)
    real = module.senders
    module.senders = Crashing(real, after=after)
    try:
        desk.drain_queue(desk.outbound_queue_url, "dispatcher", rounds=1, **env)
    finally:
        module.senders = real              # the next delivery is a fresh start of the function


# ------------------------------------------------------------------------------ Twilio: the lookup reconciles

@pytest.fixture
def twilio():
    fake = FakeTwilio()
    yield fake
    fake.close()


def _sms_reply(desk, text="On its way") -> str:
    online(desk, "alice")
    conv = customer_writes(desk, "+31611112222", "where is my parcel?", "SMin31611112222")
    desk.drain_queue(desk.work_queue_url, "router")
    assert agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": text})[0] == 202
    return conv


def test_twilio_reply_accepted_before_a_crash_is_found_and_not_sent_again(desk, twilio):
    conv = _sms_reply(desk)
    env = {"TWILIO_API_BASE_URL": twilio.url}
    _crash_first_delivery(desk, conv, **env)
    # Twilio has the message; our reply only has the intent
    assert len(twilio.requests) == 1
    intent = _reply_item(desk, conv)["sending"]
    assert intent["part"] == 0 and "provider_id" not in _reply_item(desk, conv)
    assert twilio.requests[0]["form"]["StatusCallback"].endswith("?ref=" + intent["reference"])
    # When the record comes back, the lookup finds it: one provider message, recorded, not flagged
    out = _until_settled(desk, conv, **env)
    assert len(twilio.requests) == 1
    assert out["provider_id"] == twilio.created[0]["sid"] and out["possibly_duplicate"] is False
    assert twilio.lookups and twilio.lookups[0]["To"] == "+31611112222"


def test_twilio_reply_that_never_reached_twilio_is_sent_once(desk, twilio):
    conv = _sms_reply(desk)
    env = {"TWILIO_API_BASE_URL": twilio.url}
    _crash_first_delivery(desk, conv, after=False, **env)
    assert twilio.requests == []
    out = _until_settled(desk, conv, **env)
    assert len(twilio.requests) == 1 and twilio.lookups
    assert out["provider_id"] == twilio.created[0]["sid"] and out["possibly_duplicate"] is False


def test_twilio_status_callback_carrying_our_reference_confirms_the_send_without_a_lookup(desk, twilio):
    conv = _sms_reply(desk)
    env = {"TWILIO_API_BASE_URL": twilio.url}
    _crash_first_delivery(desk, conv, **env)
    callback = twilio.requests[0]["form"]["StatusCallback"]        # ours, with ?ref=<reference>
    sid = twilio.created[0]["sid"]
    # Twilio calls that URL (signed over it, query included) before the record is delivered again
    body = twilio_form(MessageSid=sid, MessageStatus="sent", SmsStatus="sent", To="+31611112222",
                       From="+14155550100")
    path, _, query = callback.removeprefix("https://desk.example.com").partition("?")
    headers = {"content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signed_twilio(callback, body)}
    assert desk.invoke("inbound_twilio", http_event("POST", path, body, headers, query=query))["statusCode"] == 200
    out = _until_settled(desk, conv, **env)
    assert len(twilio.requests) == 1 and twilio.lookups == []       # confirmed: no need to ask Twilio
    assert out["provider_id"] == sid and out["status"] == "sent" and out["possibly_duplicate"] is False


# ------------------------------------------------------------------------------ WhatsApp: receipts reconcile

@pytest.fixture
def graph():
    fake = FakeHttp(lambda path, body: (200, {"messaging_product": "whatsapp", "messages": [{"id": "wamid.ONCE"}]}))
    yield fake
    fake.close()


def _whatsapp_reply(desk) -> str:
    body, sidecar = sample("meta_whatsapp", "text")
    desk.invoke("inbound_whatsapp", http_event("POST", "/webhooks/whatsapp", body, {
        "x-hub-signature-256": sidecar["http"]["headers"]["X-Hub-Signature-256"]}))
    [conv] = agent(desk, "GET", "/agent/conversations", "alice", query="view=all")[1]["items"]
    status, _ = agent(desk, "POST", f"/agent/conversations/{conv['id']}/replies", "alice", {"text": "Yes, in blue."})
    assert status == 202
    return conv["id"]


def _whatsapp_status(desk, wamid: str, status: str, reference: str) -> None:
    payload = {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "statuses": [{"id": wamid, "status": status, "timestamp": str(int(time.time())),
                          "recipient_id": "16505551234", "biz_opaque_callback_data": reference}]}}]}]}
    raw = json.dumps(payload)
    headers = {"content-type": "application/json", "x-hub-signature-256": meta.sign(raw.encode(), "test_app_secret")}
    assert desk.invoke("inbound_whatsapp", http_event("POST", "/webhooks/whatsapp", raw, headers))["statusCode"] == 200


def test_whatsapp_receipt_carrying_our_reference_confirms_the_send_a_crash_left_unrecorded(desk, graph):
    conv = _whatsapp_reply(desk)
    env = {"META_GRAPH_BASE_URL": graph.url, "DISPATCH_RECONCILE_SECONDS": "600"}
    _crash_first_delivery(desk, conv, **env)
    [sent] = graph.requests
    reference = _reply_item(desk, conv)["sending"]["reference"]
    assert sent["json"]["biz_opaque_callback_data"] == reference
    # Meta's "sent" status comes back with our reference before the record is delivered again
    _whatsapp_status(desk, "wamid.ONCE", "sent", reference)
    out = _until_settled(desk, conv, **env)
    assert len(graph.requests) == 1
    assert out["provider_id"] == "wamid.ONCE" and out["status"] == "sent" and out["possibly_duplicate"] is False
    # and later receipts find the reply as usual
    _whatsapp_status(desk, "wamid.ONCE", "delivered", reference)
    assert _outbound(desk, conv)[0]["status"] == "delivered"


def test_whatsapp_send_nobody_confirmed_goes_again_after_the_wait_flagged_for_the_agent(desk, graph):
    conv = _whatsapp_reply(desk)
    env = {"META_GRAPH_BASE_URL": graph.url, "DISPATCH_RECONCILE_SECONDS": "1"}
    _crash_first_delivery(desk, conv, **env)
    out = _until_settled(desk, conv, **env)
    assert len(graph.requests) == 2                     # the customer may have it twice...
    assert out["provider_id"] == "wamid.ONCE" and out["possibly_duplicate"] is True   # ...and the agent sees so


def test_messenger_echo_carrying_our_metadata_confirms_the_send_a_crash_left_unrecorded(desk):
    fake = FakeHttp((200, {"recipient_id": "5678", "message_id": "m_ONCE"}))
    try:
        body, sidecar = sample("meta_messenger", "text")
        desk.invoke("inbound_messenger", http_event("POST", "/webhooks/messenger", body, {
            "x-hub-signature-256": sidecar["http"]["headers"]["X-Hub-Signature-256"]}))
        [conv] = agent(desk, "GET", "/agent/conversations", "alice", query="view=all")[1]["items"]
        assert agent(desk, "POST", f"/agent/conversations/{conv['id']}/replies", "alice", {"text": "Hi!"})[0] == 202
        env = {"META_GRAPH_BASE_URL": fake.url, "DISPATCH_RECONCILE_SECONDS": "600"}
        _crash_first_delivery(desk, conv["id"], **env)
        [sent] = fake.requests
        reference = sent["json"]["message"]["metadata"]
        # Messenger echoes the message with our metadata before the record is delivered again
        echo = {"object": "page", "entry": [{"id": "1234567890", "time": 1, "messaging": [{
            "sender": {"id": "1234567890"}, "recipient": {"id": "5678"}, "timestamp": int(time.time() * 1000),
            "message": {"mid": "m_ONCE", "is_echo": True, "app_id": 1, "metadata": reference, "text": "Hi!"}}]}]}
        raw = json.dumps(echo)
        headers = {"content-type": "application/json",
                   "x-hub-signature-256": meta.sign(raw.encode(), "test_app_secret")}
        assert desk.invoke("inbound_messenger", http_event("POST", "/webhooks/messenger", raw, headers))[
            "statusCode"] == 200
        out = _until_settled(desk, conv["id"], **env)
        assert len(fake.requests) == 1
        assert out["provider_id"] == "m_ONCE" and out["status"] == "sent" and out["possibly_duplicate"] is False
    finally:
        fake.close()


# ------------------------------------------------------------------------------ Telegram: nothing to ask

def test_telegram_reply_after_a_crash_goes_again_at_once_flagged(desk):
    fake = FakeHttp((200, {"ok": True, "result": {"message_id": 77, "chat": {"id": 3527065}}}))
    try:
        body, _ = sample("telegram", "text_captured")
        desk.invoke("inbound_telegram", http_event("POST", "/webhooks/telegram", body, {
            "x-telegram-bot-api-secret-token": "test_secret_token-1"}))
        [conv] = agent(desk, "GET", "/agent/conversations", "alice", query="view=all")[1]["items"]
        assert agent(desk, "POST", f"/agent/conversations/{conv['id']}/replies", "alice", {"text": "Hello"})[0] == 202
        env = {"TELEGRAM_API_BASE_URL": fake.url, "DISPATCH_RECONCILE_SECONDS": "600"}
        _crash_first_delivery(desk, conv["id"], **env)
        out = _until_settled(desk, conv["id"], **env)
        assert [r["path"].rsplit("/", 1)[1] for r in fake.requests] == ["sendMessage", "sendMessage"]
        assert out["status"] == "sent" and out["possibly_duplicate"] is True
    finally:
        fake.close()
