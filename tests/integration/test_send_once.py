"""No silent resend (#14): the dispatcher stops between a provider accepting a reply and its own record of it,
the outbound record comes back, and the reply reaches the customer once where the provider lets us find out,
or goes again flagged ``possibly_duplicate`` (or failed for a person) where it does not."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.exceptions import ClientError

from shopdesk.channels import meta
from shopdesk.ids import send_reference
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


@contextmanager
def _reply_record_refused(table: Any, conv: str) -> Iterator[None]:
    """``record_send`` writes the provider id's marker but not the reply: DynamoDB refuses that second write (past
    the SDK's retries), as it would if the function died between the two."""
    real = table.update

    def update(pk: str, sk: str, change: Any, **kwargs: Any) -> Any:
        if pk == f"CONV#{conv}" and sk.startswith("MSG#") and "provider_id" in change.sets:
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "injected"}}, "UpdateItem")
        return real(pk, sk, change, **kwargs)

    table.update = update
    try:
        yield
    finally:
        del table.update                   # the next delivery finds DynamoDB answering again


def _fail_reply_record_of_first_delivery(desk, conv, **env: str) -> None:
    """The first delivery sends, and its record of the send reaches the marker only."""
    with _reply_record_refused(desk.handler("dispatcher", **env).conversations.table, conv):
        desk.drain_queue(desk.outbound_queue_url, "dispatcher", rounds=1, **env)


def _marker(desk, provider: str, provider_id: str) -> dict[str, Any]:
    return desk.item(f"EXTMSG#{provider}#{provider_id}") or {}


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


def test_twilio_status_callback_confirms_a_send_whose_record_reached_only_the_marker(desk, twilio):
    conv = _sms_reply(desk)
    env = {"TWILIO_API_BASE_URL": twilio.url}
    _fail_reply_record_of_first_delivery(desk, conv, **env)
    sid = twilio.created[0]["sid"]
    assert _marker(desk, "twilio", sid)["recorded"] is True and "provider_id" not in _reply_item(desk, conv)
    callback = twilio.requests[0]["form"]["StatusCallback"]
    body = twilio_form(MessageSid=sid, MessageStatus="sent", SmsStatus="sent", To="+31611112222",
                       From="+14155550100")
    path, _, query = callback.removeprefix("https://desk.example.com").partition("?")
    headers = {"content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signed_twilio(callback, body)}
    assert desk.invoke("inbound_twilio", http_event("POST", path, body, headers, query=query))["statusCode"] == 200
    assert _reply_item(desk, conv)["confirmed"] == {"0": sid}
    out = _until_settled(desk, conv, **env)
    assert len(twilio.requests) == 1 and twilio.lookups == []       # confirmed by the callback, not the lookup
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


def test_whatsapp_statuses_confirm_a_send_whose_record_reached_only_the_marker(desk, graph):
    conv = _whatsapp_reply(desk)
    env = {"META_GRAPH_BASE_URL": graph.url, "DISPATCH_RECONCILE_SECONDS": "1"}
    _fail_reply_record_of_first_delivery(desk, conv, **env)
    # the marker says the send is recorded; the reply does not know its id
    assert _marker(desk, "whatsapp_cloud", "wamid.ONCE")["recorded"] is True
    reference = _reply_item(desk, conv)["sending"]["reference"]
    assert "provider_id" not in _reply_item(desk, conv)
    # Meta's statuses come back with our reference; each finds the reply and the first confirms the part
    _whatsapp_status(desk, "wamid.ONCE", "sent", reference)
    _whatsapp_status(desk, "wamid.ONCE", "delivered", reference)
    assert _reply_item(desk, conv)["confirmed"] == {"0": "wamid.ONCE"}
    out = _until_settled(desk, conv, **env)
    assert len(graph.requests) == 1
    assert out["provider_id"] == "wamid.ONCE" and out["status"] == "delivered" and out["possibly_duplicate"] is False


def test_a_receipt_stale_for_the_reply_still_confirms_its_part_when_the_record_reached_only_the_markers(desk):
    # Given a reply sent in two provider messages whose record reached the two markers but not the reply
    online(desk, "alice")
    conv = customer_writes(desk, "+31611112222", "a photo please", "SMin31611112222")
    agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "here"})
    conversations = desk.handler("dispatcher").conversations
    sk, _ = conversations.find_message(conv, lambda m: m.direction.value == "outbound")
    assert conversations.record_intent(conv, sk, part=1, attempt=1, reference=send_reference(conv, sk, 1))
    with _reply_record_refused(conversations.table, conv), pytest.raises(ClientError):
        conversations.record_send(conv, sk, provider="twilio", provider_id="SMpart0", status="accepted",
                                  attempts=1, other_ids=["SMpart1"])
    # When the first part's "delivered" comes, then the second's (stale for the reply, delivered already)
    assert conversations.apply_receipt("twilio", "SMpart0", "delivered", None,
                                       reference=send_reference(conv, sk, 0)) == "applied"
    assert conversations.apply_receipt("twilio", "SMpart1", "delivered", None,
                                       reference=send_reference(conv, sk, 1)) == "stale"
    # Then each confirmed its part: the next delivery finds the second part sent
    reply = _reply_item(desk, conv)
    assert reply["confirmed"] == {"0": "SMpart0", "1": "SMpart1"} and reply["status"] == "delivered"


def test_a_receipt_for_a_recorded_reply_writes_the_marker_and_the_reply_only(desk):
    # Given a reply whose send is recorded
    online(desk, "alice")
    conv = customer_writes(desk, "+31611112222", "where is it?", "SMin31611112222")
    agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "on its way"})
    conversations = desk.handler("dispatcher").conversations
    sk, _ = conversations.find_message(conv, lambda m: m.direction.value == "outbound")
    assert conversations.record_intent(conv, sk, part=0, attempt=1, reference=send_reference(conv, sk, 0))
    conversations.record_send(conv, sk, provider="twilio", provider_id="SMrecorded", status="accepted",
                              attempts=1)
    writes: list[str] = []
    real = conversations.table.update
    conversations.table.update = lambda pk, sk, change, **kw: writes.append(pk) or real(pk, sk, change, **kw)
    try:
        # When its statuses come with our reference
        for status in ("sent", "delivered", "read"):
            conversations.apply_receipt("twilio", "SMrecorded", status, None,
                                        reference=send_reference(conv, sk, 0))
    finally:
        del conversations.table.update
    # Then each costs the marker's write and the reply's, no confirmation
    assert writes == ["EXTMSG#twilio#SMrecorded", f"CONV#{conv}"] * 3
    assert _reply_item(desk, conv)["confirmed"] == {} and _reply_item(desk, conv)["status"] == "read"


def test_whatsapp_send_nobody_confirmed_goes_again_after_the_wait_flagged_for_the_agent(desk, graph):
    conv = _whatsapp_reply(desk)
    env = {"META_GRAPH_BASE_URL": graph.url, "DISPATCH_RECONCILE_SECONDS": "1"}
    _crash_first_delivery(desk, conv, **env)
    out = _until_settled(desk, conv, **env)
    assert len(graph.requests) == 2                     # the customer may have it twice...
    assert out["provider_id"] == "wamid.ONCE" and out["possibly_duplicate"] is True   # ...and the agent sees so


@pytest.fixture
def messenger_graph():
    fake = FakeHttp((200, {"recipient_id": "5678", "message_id": "m_ONCE"}))
    yield fake
    fake.close()


def _messenger_reply(desk) -> str:
    body, sidecar = sample("meta_messenger", "text")
    desk.invoke("inbound_messenger", http_event("POST", "/webhooks/messenger", body, {
        "x-hub-signature-256": sidecar["http"]["headers"]["X-Hub-Signature-256"]}))
    [conv] = agent(desk, "GET", "/agent/conversations", "alice", query="view=all")[1]["items"]
    assert agent(desk, "POST", f"/agent/conversations/{conv['id']}/replies", "alice", {"text": "Hi!"})[0] == 202
    return conv["id"]


def _messenger_echo(desk, mid: str, reference: str) -> None:
    """Messenger echoes the message with our metadata (the Page's ``message_echoes`` field)."""
    echo = {"object": "page", "entry": [{"id": "1234567890", "time": 1, "messaging": [{
        "sender": {"id": "1234567890"}, "recipient": {"id": "5678"}, "timestamp": int(time.time() * 1000),
        "message": {"mid": mid, "is_echo": True, "app_id": 1, "metadata": reference, "text": "Hi!"}}]}]}
    raw = json.dumps(echo)
    headers = {"content-type": "application/json", "x-hub-signature-256": meta.sign(raw.encode(), "test_app_secret")}
    answer = desk.invoke("inbound_messenger", http_event("POST", "/webhooks/messenger", raw, headers))
    assert answer["statusCode"] == 200


def test_messenger_echo_carrying_our_metadata_confirms_the_send_a_crash_left_unrecorded(desk, messenger_graph):
    conv = _messenger_reply(desk)
    env = {"META_GRAPH_BASE_URL": messenger_graph.url, "DISPATCH_RECONCILE_SECONDS": "600"}
    _crash_first_delivery(desk, conv, **env)
    [sent] = messenger_graph.requests
    # the echo comes before the record is delivered again
    _messenger_echo(desk, "m_ONCE", sent["json"]["message"]["metadata"])
    out = _until_settled(desk, conv, **env)
    assert len(messenger_graph.requests) == 1
    assert out["provider_id"] == "m_ONCE" and out["status"] == "sent" and out["possibly_duplicate"] is False


def test_messenger_echo_confirms_a_send_whose_record_reached_only_the_marker(desk, messenger_graph):
    conv = _messenger_reply(desk)
    env = {"META_GRAPH_BASE_URL": messenger_graph.url, "DISPATCH_RECONCILE_SECONDS": "1"}
    _fail_reply_record_of_first_delivery(desk, conv, **env)
    [sent] = messenger_graph.requests
    assert _marker(desk, "messenger", "m_ONCE")["recorded"] is True and "provider_id" not in _reply_item(desk, conv)
    _messenger_echo(desk, "m_ONCE", sent["json"]["message"]["metadata"])
    out = _until_settled(desk, conv, **env)
    assert len(messenger_graph.requests) == 1
    assert out["provider_id"] == "m_ONCE" and out["status"] == "sent" and out["possibly_duplicate"] is False


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
