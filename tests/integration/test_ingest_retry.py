"""Twilio delivers a webhook once (then its Fallback URL, if set) and never again: a verified request the table
could not take is kept in the ingest-retry queue, answered 200, and replayed from there until it is stored, once."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

from shopdesk import clock
from shopdesk.channels import twilio
from shopdesk.logs import FunctionFailed
from shopdesk.privacy.settings import PrivacyPolicy, PrivacySettings
from tests.integration.helpers import STATUS_URL, agent, customer_writes, online, post_twilio
from tests.support import FakeTwilio, twilio_form

THROTTLED = {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "Rate of requests exceeds"}}


@pytest.fixture
def throttled(desk, monkeypatch):
    """The table throttles every write of the Twilio function (as after the SDK's own retries); off when called."""
    table = desk.handler("inbound_twilio").processor.conversations.table

    def refuse(*args, **kwargs):
        raise ClientError(THROTTLED, "TransactWriteItems")

    for name in ("transact", "update", "put"):
        monkeypatch.setattr(table, name, refuse)
    yield lambda: monkeypatch.undo()
    monkeypatch.undo()


def _kept(desk) -> list[dict]:
    sqs = desk.client("sqs")
    url = desk.env["INGEST_RETRY_QUEUE_URL"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def _replay(desk) -> int:
    return desk.drain_queue(desk.env["INGEST_RETRY_QUEUE_URL"], "inbound_twilio")


def _inbound(desk, phone: str) -> list[str]:
    """The provider ids of the customer's messages stored in their conversation (read from the table)."""
    identity = desk.item(f"IDENTITY#phone#{phone}")
    if identity is None:
        return []
    items = desk.client("dynamodb").query(
        TableName=desk.table_name, KeyConditionExpression="PK = :pk AND begins_with(SK, :msg)",
        ExpressionAttributeValues={":pk": {"S": f"CONV#{identity['open_conversation_id']}"}, ":msg": {"S": "MSG#"}},
        ConsistentRead=True)["Items"]
    return [i["provider_id"]["S"] for i in items if i["direction"]["S"] == "inbound"]


def test_a_message_the_table_throttled_is_answered_200_kept_and_stored_once_by_its_replay(desk, throttled):
    # Given the table throttling every write while a customer's message comes in
    body = twilio_form(MessageSid="SMkept01", From="+31612000001", To="+14155550100", Body="Where is my parcel?")
    answer = post_twilio(desk, body)
    # Then Twilio, which never delivers it again, is answered 200, and the request is kept as it came
    assert answer["statusCode"] == 200 and json.loads(answer["headers"]["X-Shopdesk-Outcome"])["kept"] == 1
    assert _inbound(desk, "+31612000001") == []
    [kept] = _kept(desk)
    assert (kept["provider"], kept["route"], kept["body"]) == ("twilio", "message", body)
    # When the table takes writes again, the replay stores it, once
    throttled()
    assert _replay(desk) == 1
    assert _inbound(desk, "+31612000001") == ["SMkept01"]
    assert _kept(desk) == []
    # and Twilio's Fallback URL calling the same endpoint with the same message is a duplicate
    fallback = twilio_form(MessageSid="SMkept01", From="+31612000001", To="+14155550100", Body="Where is my parcel?",
                           ErrorCode="11200", ErrorUrl="https://desk.example.com/webhooks/twilio")
    answer = post_twilio(desk, fallback)
    assert answer["statusCode"] == 200 and json.loads(answer["headers"]["X-Shopdesk-Outcome"])["duplicates"] == 1
    assert _inbound(desk, "+31612000001") == ["SMkept01"]


def test_a_replay_that_fails_again_is_retried_later_and_the_message_is_not_stored_twice(desk, throttled):
    body = twilio_form(MessageSid="SMkept02", From="+31612000002", To="+14155550100", Body="Hello?")
    assert post_twilio(desk, body)["statusCode"] == 200
    # the table still throttles the replay: the record fails and waits out its backoff (5 s) in the queue
    assert _replay(desk) == 1
    assert _inbound(desk, "+31612000002") == []
    assert _kept(desk) == []                        # hidden for its backoff, not deleted
    sqs, url = desk.client("sqs"), desk.env["INGEST_RETRY_QUEUE_URL"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])
    assert attributes["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "1"
    # once the table takes writes and the backoff is over, the next replay stores it, once
    throttled()
    deadline = time.monotonic() + 10
    while not _inbound(desk, "+31612000002") and time.monotonic() < deadline:
        time.sleep(0.5)
        _replay(desk)
    assert _inbound(desk, "+31612000002") == ["SMkept02"]
    time.sleep(0.5)
    _replay(desk)
    assert _inbound(desk, "+31612000002") == ["SMkept02"] and _kept(desk) == []


def test_a_receipt_the_table_throttled_is_kept_and_applied_by_its_replay(desk):
    twilio = FakeTwilio()
    try:
        online(desk, "alice")
        body = twilio_form(MessageSid="SMin03", From="+31612000003", To="+14155550100", Body="hi")
        assert post_twilio(desk, body)["statusCode"] == 200
        desk.drain_queue(desk.work_queue_url, "router")
        conv = desk.item("IDENTITY#phone#+31612000003")["open_conversation_id"]
        agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "On its way"})
        desk.drain_queue(desk.outbound_queue_url, "dispatcher", TWILIO_API_BASE_URL=twilio.url)
        sid = next(m for m in agent(desk, "GET", f"/agent/conversations/{conv}", "alice")[1]["messages"]
                   if m["direction"] == "outbound")["provider_id"]
        table = desk.handler("inbound_twilio").processor.conversations.table
        receipt = twilio_form(MessageSid=sid, MessageStatus="delivered", To="+31612000003", From="+14155550100")
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(table, "update", lambda *a, **k: (_ for _ in ()).throw(ClientError(THROTTLED, "UpdateItem")))
            answer = post_twilio(desk, receipt, url=STATUS_URL)
        assert answer["statusCode"] == 200 and json.loads(answer["headers"]["X-Shopdesk-Outcome"])["kept"] == 1
        _replay(desk)
        [out] = [m for m in agent(desk, "GET", f"/agent/conversations/{conv}", "alice")[1]["messages"]
                 if m["direction"] == "outbound"]
        assert out["status"] == "delivered"
    finally:
        twilio.close()


def test_when_the_queue_refuses_it_too_twilio_is_answered_5xx(desk, throttled, monkeypatch):
    # Given the table throttling and the ingest-retry queue refusing sends: nothing can keep the message
    app = desk.handler("inbound_twilio")

    def refused(*args, **kwargs):
        raise ClientError({"Error": {"Code": "InternalFailure", "Message": "SQS is down"}}, "SendMessage")

    monkeypatch.setattr(app.retry_queue, "send", refused)
    body = twilio_form(MessageSid="SMkept04", From="+31612000004", To="+14155550100", Body="Hello?")
    # Then the webhook fails (API Gateway answers 500) and Twilio calls the Fallback URL, if one is set
    with pytest.raises(FunctionFailed) as failed:
        post_twilio(desk, body)
    assert isinstance(failed.value.__context__, ClientError)
    assert failed.value.__context__.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    assert _kept(desk) == []


def test_a_request_whose_signature_does_not_match_is_refused_not_kept(desk, throttled):
    # only what Twilio signed is kept: anything else is a 403, and the queue never sees it
    body = twilio_form(MessageSid="SMkept05", From="+31612000005", To="+14155550100", Body="x")
    assert post_twilio(desk, body, signature="forged")["statusCode"] == 403
    assert _kept(desk) == []


CARD, IBAN = "4242 4242 4242 4242", "NL91 ABNA 0417 1643 00"


def _messages(desk, phone: str) -> list[dict]:
    """The customer's conversation as an admin reads it: its messages, oldest first."""
    conv = desk.item(f"IDENTITY#phone#{phone}")["open_conversation_id"]
    status, body = agent(desk, "GET", f"/agent/conversations/{conv}", "lead", groups="[admins]")
    assert status == 200, body
    return body


def test_a_kept_request_holds_the_customers_text_masked_and_its_replay_stores_it_masked(desk, throttled, monkeypatch):
    # Given the privacy settings read at cold start with a pattern of the shop's own
    privacy = desk.handler("inbound_twilio").processor.privacy
    settings = PrivacySettings(masking_patterns=[{"name": "BSN", "pattern": r"BSN \d{9}"}])
    monkeypatch.setattr(privacy, "_policy", PrivacyPolicy.of(settings))
    monkeypatch.setattr(privacy, "_read_at", time.monotonic())
    text = f"Pay with {CARD}, or from {IBAN}; my BSN 123456789"
    body = twilio_form(MessageSid="SMkept06", From="+31612000006", To="+14155550100", Body=text)
    # When the table cannot take the message, the request is kept with the customer's words masked
    assert json.loads(post_twilio(desk, body)["headers"]["X-Shopdesk-Outcome"])["kept"] == 1
    [kept] = _kept(desk)
    form = dict(twilio.parse_form(kept["body"]))
    for secret in ("4242", "NL91", "ABNA", "123456789"):
        assert secret not in form["Body"].replace("4242]", "").replace("4300]", "").replace("6789]", "")
    assert "4242+4242" not in kept["body"] and "4242424242424242" not in kept["body"]
    assert "123456789" not in kept["body"] and "0417" not in kept["body"]
    assert (form["MessageSid"], form["From"], form["To"]) == ("SMkept06", "+31612000006", "+14155550100")
    assert kept["masked"] == ["card", "IBAN", "BSN"]
    # Then its replay stores the text masked as ingest masks it, saying what was masked
    throttled()
    _replay(desk)
    [stored] = [m for m in _messages(desk, "+31612000006")["messages"] if m["direction"] == "inbound"]
    assert stored["text"] == "Pay with [card •••• 4242], or from [IBAN •••• 4300]; my [BSN •••• 6789]"
    assert stored["masked"] == ["card", "IBAN", "BSN"]


def test_a_kept_request_holds_a_profile_name_masked_as_ingest_masks_a_name(desk, throttled):
    # When the table cannot take a WhatsApp message whose profile name joins a card number to a word by a hyphen
    body = twilio_form(MessageSid="SMkept08", From="whatsapp:+31612000008", To="whatsapp:+14155550100",
                       Body="Hello", ProfileName="Jan-5425233430109903")
    assert json.loads(post_twilio(desk, body)["headers"]["X-Shopdesk-Outcome"])["kept"] == 1
    # Then the kept request holds the name masked as ingest masks a name (mask_name), not as a text is
    [kept] = _kept(desk)
    assert "5425233430109903" not in kept["body"]
    assert dict(twilio.parse_form(kept["body"]))["ProfileName"] == "Jan-[card •••• 9903]"
    assert kept["masked"] == ["card"]


def test_a_request_kept_before_any_settings_were_read_is_masked_without_the_table(desk, throttled, monkeypatch):
    # Given a function that could not read its privacy settings at start, and the table refusing reads too
    app = desk.handler("inbound_twilio")
    monkeypatch.setattr(app.processor.privacy, "_policy", None)
    monkeypatch.setattr(app.processor.conversations.table, "get", lambda *a, **k: (_ for _ in ()).throw(
        ClientError(THROTTLED, "GetItem")))
    body = twilio_form(MessageSid="SMkept07", From="+31612000007", To="+14155550100", Body=f"Card {CARD}")
    # Then the request is still kept, its card number masked by the masking that never needs settings
    answer = post_twilio(desk, body)
    assert answer["statusCode"] == 200 and json.loads(answer["headers"]["X-Shopdesk-Outcome"])["kept"] == 1
    [kept] = _kept(desk)
    assert dict(twilio.parse_form(kept["body"]))["Body"] == "Card [card •••• 4242]"


def test_a_replayed_message_is_dated_when_twilio_delivered_it(desk, throttled):
    # Given two customers' messages kept while the table throttled
    for n in ("08", "09"):
        body = twilio_form(MessageSid=f"SMkept{n}", From=f"+316120000{n}", To="+14155550100", Body="Where is it?")
        assert post_twilio(desk, body)["statusCode"] == 200
    received = {dict(twilio.parse_form(k["body"]))["From"]: clock.parse_iso(k["received_at"]) for k in _kept(desk)}
    # When the table takes writes again an hour later, and the second customer's next message is stored before
    # the replays
    throttled()
    clock.set_offset(3600)
    later = twilio_form(MessageSid="SMkept09b", From="+31612000009", To="+14155550100", Body="Hello??")
    assert json.loads(post_twilio(desk, later)["headers"]["X-Shopdesk-Outcome"])["stored"] == 1
    _replay(desk)
    desk.drain_queue(desk.work_queue_url, "router")
    # Then each kept message is dated when Twilio delivered it, and the first one's clocks start from then
    first = _messages(desk, "+31612000008")
    [message] = [m for m in first["messages"] if m["direction"] == "inbound"]
    assert abs((clock.parse_iso(message["created_at"]) - received["+31612000008"]).total_seconds()) < 1
    target = json.loads(desk.env["SLA_FIRST_RESPONSE_TARGETS"])["normal"]
    due = clock.parse_iso(first["sla"]["first_response_due_at"])
    assert due <= received["+31612000008"] + timedelta(seconds=target, minutes=1), due
    # and the second customer's kept message comes before the one they wrote later
    inbound = [m for m in _messages(desk, "+31612000009")["messages"] if m["direction"] == "inbound"]
    assert [m["provider_id"] for m in inbound] == ["SMkept09", "SMkept09b"]
    assert abs((clock.parse_iso(inbound[0]["created_at"]) - received["+31612000009"]).total_seconds()) < 1


def test_a_message_replayed_after_a_newer_one_leaves_the_conversation_on_the_newer(desk, throttled):
    # Given a customer's conversation, and their next message kept while the table throttled
    first = twilio_form(MessageSid="SMkept10a", From="+31612000010", To="+14155550100", Body="Hello")
    throttled()
    assert json.loads(post_twilio(desk, first)["headers"]["X-Shopdesk-Outcome"])["stored"] == 1
    conv = desk.item("IDENTITY#phone#+31612000010")["open_conversation_id"]
    table = desk.handler("inbound_twilio").processor.conversations.table
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(table, "transact", lambda *a, **k: (_ for _ in ()).throw(ClientError(THROTTLED, "Transact")))
        kept = twilio_form(MessageSid="SMkept10b", From="+31612000010", To="+14155550100", Body="Where is it?")
        assert json.loads(post_twilio(desk, kept)["headers"]["X-Shopdesk-Outcome"])["kept"] == 1
    # When the customer writes again (on WhatsApp) a minute later, stored at once, and the kept message is replayed
    clock.set_offset(60)
    newer = twilio_form(MessageSid="SMkept10c", From="whatsapp:+31612000010", To="whatsapp:+14155550100",
                        Body="Any news??")
    assert json.loads(post_twilio(desk, newer)["headers"]["X-Shopdesk-Outcome"])["stored"] == 1
    latest = desk.item(f"CONV#{conv}")
    _replay(desk)
    # Then the replayed message is in the conversation, dated when it came, before the newer one
    inbound = [m for m in _messages(desk, "+31612000010")["messages"] if m["direction"] == "inbound"]
    assert [m["provider_id"] for m in inbound] == ["SMkept10a", "SMkept10b", "SMkept10c"]
    # and the conversation still says the customer last wrote the newer message, on WhatsApp: the time the bot and
    # the router read, the channel a reply takes and its window, the preview
    after = desk.item(f"CONV#{conv}")
    assert after["last_inbound_at"] == latest["last_inbound_at"]
    assert after["channel"] == "whatsapp" and after["routes"] == latest["routes"]
    assert after["last_message_preview"] == latest["last_message_preview"]
    assert after["message_count"] == 3


def test_a_replayed_message_newer_than_the_conversations_last_moves_it_as_any_message(desk, throttled):
    # Given a customer's conversation, and their next message kept while the table throttled
    first = twilio_form(MessageSid="SMkept11a", From="+31612000011", To="+14155550100", Body="Hello")
    throttled()
    assert json.loads(post_twilio(desk, first)["headers"]["X-Shopdesk-Outcome"])["stored"] == 1
    conv = desk.item("IDENTITY#phone#+31612000011")["open_conversation_id"]
    table = desk.handler("inbound_twilio").processor.conversations.table
    clock.set_offset(30)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(table, "transact", lambda *a, **k: (_ for _ in ()).throw(ClientError(THROTTLED, "Transact")))
        kept = twilio_form(MessageSid="SMkept11b", From="+31612000011", To="+14155550100", Body="Where is it?")
        assert json.loads(post_twilio(desk, kept)["headers"]["X-Shopdesk-Outcome"])["kept"] == 1
    [held] = _kept(desk)
    # When it is replayed with nothing newer stored
    clock.set_offset(90)
    _replay(desk)
    # Then the conversation's last message is the replayed one, dated when it came
    after = desk.item(f"CONV#{conv}")
    assert abs((clock.parse_iso(after["last_inbound_at"]) - clock.parse_iso(held["received_at"])).total_seconds()) < 1
    assert after["last_message_preview"] == "Where is it?" and after["message_count"] == 2


def test_a_first_message_replayed_after_the_next_one_opened_the_conversation_leaves_it_on_the_next(desk, throttled):
    # Given a customer's first message kept while the table throttled, and their next one opening the conversation
    kept = twilio_form(MessageSid="SMkept12a", From="+31612000012", To="+14155550100", Body="Hello")
    assert json.loads(post_twilio(desk, kept)["headers"]["X-Shopdesk-Outcome"])["kept"] == 1
    throttled()
    clock.set_offset(60)
    newer = twilio_form(MessageSid="SMkept12b", From="+31612000012", To="+14155550100", Body="Anyone there?")
    assert json.loads(post_twilio(desk, newer)["headers"]["X-Shopdesk-Outcome"])["stored"] == 1
    conv = desk.item("IDENTITY#phone#+31612000012")["open_conversation_id"]
    opened = desk.item(f"CONV#{conv}")
    # When the first message is replayed
    _replay(desk)
    # Then the conversation's last message is still the next one: the first is older
    after = desk.item(f"CONV#{conv}")
    assert after["last_inbound_at"] == opened["created_at"]
    assert after["routes"] == opened["routes"] and after["last_message_preview"] == "Anyone there?"
    assert after["message_count"] == 2


def test_a_thank_you_replayed_after_a_newer_one_on_the_resolved_conversation_leaves_it_on_the_newer(desk, throttled):
    from tests.integration.test_thanks_after_resolve import _resolved
    # Given a conversation a person resolved, a thank-you kept while the table throttled, and a newer one stored
    throttled()
    conv = _resolved(desk, "+31612000013", "SMkept13a")
    table = desk.handler("inbound_twilio").processor.conversations.table
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(table, "transact", lambda *a, **k: (_ for _ in ()).throw(ClientError(THROTTLED, "Transact")))
        kept = twilio_form(MessageSid="SMkept13b", From="+31612000013", To="+14155550100", Body="Thanks!")
        assert json.loads(post_twilio(desk, kept)["headers"]["X-Shopdesk-Outcome"])["kept"] == 1
    clock.set_offset(60)
    newer = twilio_form(MessageSid="SMkept13c", From="+31612000013", To="+14155550100", Body="Thank you so much")
    assert json.loads(post_twilio(desk, newer)["headers"]["X-Shopdesk-Outcome"])["stored"] == 1
    latest = desk.item(f"CONV#{conv}")
    # When the kept one is replayed
    _replay(desk)
    # Then both are kept on the resolved conversation, and its last message is still the newer
    after = desk.item(f"CONV#{conv}")
    assert after["status"] == "resolved" and after["message_count"] == latest["message_count"] + 1
    assert after["last_inbound_at"] == latest["last_inbound_at"]


def _throttled_once(desk, body: str) -> None:
    """The customer's message delivered while the table throttles the Twilio function: kept for a replay."""
    table = desk.handler("inbound_twilio").processor.conversations.table
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(table, "transact", lambda *a, **k: (_ for _ in ()).throw(ClientError(THROTTLED, "Transact")))
        assert json.loads(post_twilio(desk, body)["headers"]["X-Shopdesk-Outcome"])["kept"] == 1


def test_a_message_kept_before_its_customer_was_erased_is_dropped_by_its_replay(desk, throttled, capsys, monkeypatch):
    from shopdesk.dal.erased import erased_address_pk
    from shopdesk.logic import webhooks
    from tests.integration.conftest import HASH_KEY
    from tests.integration.test_privacy import _job, scan
    phone = "+31612000014"
    # Given a customer's conversation, and their next message kept while the table throttled
    throttled()
    conv = customer_writes(desk, phone, "Hello", "SMkept14a")
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    _throttled_once(desk, twilio_form(MessageSid="SMkept14b", From=f"whatsapp:{phone}",
                                      To="whatsapp:+14155550100", Body="Gerrit-Jan here, my teapot broke"))
    # When an admin erases the customer, and the kept message is replayed after the erase
    clock.set_offset(60)
    _job(desk, "erase", customer)
    capsys.readouterr()
    logged: list[str] = []
    monkeypatch.setattr(webhooks.logger, "warning", lambda message, **kwargs: logged.append(
        json.dumps([message, kwargs], default=str)))
    _replay(desk)
    # Then it is not stored: no identity, customer or conversation of theirs comes back, and the queue holds it no more
    assert desk.item(f"IDENTITY#phone#{phone}") is None and _kept(desk) == []
    everything = json.dumps(scan(desk), default=str)
    assert "Gerrit-Jan" not in everything and phone not in everything and phone[1:] not in everything
    # and what the erase left of the number is a hash of it keyed with the hash key (not the web chat's session
    # secret, which these functions cannot read) and the erase's time
    [mark] = [i for i in scan(desk) if i.get("type") == "erased_address"]
    assert set(mark) == {"PK", "SK", "type", "erased_at", "ttl"} and mark["PK"] == erased_address_pk(
        HASH_KEY, "phone", phone)
    # and the drop is logged without the number and counted
    [line] = logged
    assert "kept message dropped" in line and phone not in line and phone[1:] not in line
    assert '"WebhooksKeptErased"' in capsys.readouterr().out


def test_a_message_kept_after_its_customer_was_erased_is_a_new_contact(desk, throttled):
    from tests.integration.test_privacy import _job
    phone = "+31612000015"
    # Given a customer erased
    throttled()
    conv = customer_writes(desk, phone, "Hello", "SMkept15a")
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    _job(desk, "erase", customer)
    # When the same number writes again a minute later, kept while the table throttled, and is replayed
    clock.set_offset(60)
    _throttled_once(desk, twilio_form(MessageSid="SMkept15b", From=phone, To="+14155550100", Body="Me again"))
    _replay(desk)
    # Then it is stored, for a new customer
    assert _inbound(desk, phone) == ["SMkept15b"] and _kept(desk) == []
    conv = desk.item(f"IDENTITY#phone#{phone}")["open_conversation_id"]
    assert desk.item(f"CONV#{conv}")["customer"]["id"] != customer


def _erased_between_read_and_store(desk, monkeypatch, erase) -> list[str]:
    """The replay's read of the erase mark finds none, and ``erase()`` runs right after it, before the replay's
    transaction: the race an erase overlapping a replay can win. Answers the reads of the mark, one line each."""
    erased = desk.handler("inbound_twilio").erased
    read = erased.erased_at
    reads: list[str] = []

    def read_then_erase(kind: str, address: str):
        reads.append(kind)
        found = read(kind, address)
        if len(reads) == 1:
            erase()
        return found

    monkeypatch.setattr(erased, "erased_at", read_then_erase)
    return reads


def _sends_to(desk, twilio: FakeTwilio, phone: str) -> list[dict]:
    """What the router and the dispatcher send the number now (an acknowledgement, an answer)."""
    desk.drain_queue(desk.work_queue_url, "router")
    desk.drain_queue(desk.outbound_queue_url, "dispatcher", TWILIO_API_BASE_URL=twilio.url)
    return [r["form"] for r in twilio.requests if phone in r["form"].get("To", "")]


def test_a_kept_message_whose_customer_is_erased_between_its_replays_read_and_its_store_is_dropped_and_unanswered(
        desk, throttled, capsys, monkeypatch):
    from shopdesk.logic import webhooks
    from tests.integration.test_admin_api import admin_call
    from tests.integration.test_privacy import _job, scan
    phone = "+31612000016"
    twilio = FakeTwilio()
    try:
        # Given acknowledgements on, a customer's conversation, and their next message kept while the table throttled
        throttled()
        assert admin_call(desk, "PUT", "/admin/routing", "[admins]", {"acknowledgements": True})[0] == 200
        conv = customer_writes(desk, phone, "Hello", "SMkept16a")
        customer = desk.item(f"CONV#{conv}")["customer"]["id"]
        sent = _sends_to(desk, twilio, phone)
        _throttled_once(desk, twilio_form(MessageSid="SMkept16b", From=phone, To="+14155550100",
                                          Body="Gerrit-Jan here, my teapot broke"))
        # When its replay reads no mark, and the erase marks the number and erases everything before its store
        clock.set_offset(60)
        reads = _erased_between_read_and_store(desk, monkeypatch, lambda: _job(desk, "erase", customer))
        logged: list[str] = []
        monkeypatch.setattr(webhooks.logger, "warning", lambda message, **kwargs: logged.append(
            json.dumps([message, kwargs], default=str)))
        capsys.readouterr()
        _replay(desk)
        # Then nothing of it is stored (no new customer), the queue holds it no more, and it is counted as dropped
        assert desk.item(f"IDENTITY#phone#{phone}") is None and _kept(desk) == []
        everything = json.dumps(scan(desk), default=str)
        assert "Gerrit-Jan" not in everything and phone not in everything and phone[1:] not in everything
        assert '"WebhooksKeptErased"' in capsys.readouterr().out
        # and the drop is logged as the store's refusal, without the number, the mark read once (not again for the log)
        assert reads == ["phone"]
        [line] = logged
        assert "kept message dropped" in line and '"refused_by": "store"' in line and phone[1:] not in line
        # and nothing more is sent to the erased number (no acknowledgement)
        assert _sends_to(desk, twilio, phone) == sent
    finally:
        twilio.close()


def _open(desk, phone, sid):
    return customer_writes(desk, phone, "Where is my parcel?", sid)


def _resolved_by_a_person(desk, phone, sid):
    from tests.integration.test_thanks_after_resolve import _resolved
    return _resolved(desk, phone, sid)


def _resolved_by_the_bot(desk, phone, sid):
    conv = _resolved_by_a_person(desk, phone, sid)
    ddb = desk.client("dynamodb")
    ddb.update_item(TableName=desk.table_name, Key={"PK": {"S": f"CONV#{conv}"}, "SK": {"S": "META"}},
                    UpdateExpression="SET resolved_by = :bot", ExpressionAttributeValues={":bot": {"S": "bot"}})
    ddb.update_item(TableName=desk.table_name, Key={"PK": {"S": f"IDENTITY#phone#{phone}"}, "SK": {"S": "META"}},
                    UpdateExpression="SET reopenable_conversation_id = :c", ExpressionAttributeValues={
                        ":c": {"S": conv}})
    return conv


def _surveyed(desk, phone, sid):
    from tests.integration.test_csat import _resolved_sms_conversation, _settings
    _settings(desk)
    conv = _resolved_sms_conversation(desk, phone, sid)
    assert desk.item(f"IDENTITY#phone#{phone}").get("csat")        # a survey waits for their answer
    return conv


@pytest.mark.parametrize(("before", "text", "path"), [
    (_open, "And when does it come?", "append_inbound"),
    (_open, "STOP", "append_inbound"),
    (_resolved_by_a_person, "One more question: can I return it?", "start_conversation"),
    (_resolved_by_a_person, "Thanks!", "keep_on_resolved"),
    (_resolved_by_a_person, "STOP", "keep_on_resolved"),
    (_resolved_by_the_bot, "One more question: can I return it?", "reopen_inbound"),
    (_surveyed, "5", "Surveys.answer"),
])
def test_each_store_of_a_replay_is_refused_by_an_erase_mark_written_after_its_read(
        desk, throttled, monkeypatch, before, text, path):
    from shopdesk.dal.csat import Surveys
    from shopdesk.dal.items import marker_pk
    from shopdesk.dal.table import serialize
    from tests.integration.test_admin_api import admin_call
    from tests.integration.test_privacy import scan
    phone = "+31612000017"
    twilio = FakeTwilio()
    try:
        # Given acknowledgements on, the customer's conversation as the path needs, and their next message kept
        throttled()
        assert admin_call(desk, "PUT", "/admin/routing", "[admins]", {"acknowledgements": True})[0] == 200
        before(desk, phone, "SMkept17a")
        sent = _sends_to(desk, twilio, phone)
        identity = desk.item(f"IDENTITY#phone#{phone}")
        _throttled_once(desk, twilio_form(MessageSid="SMkept17b", From=phone, To="+14155550100", Body=text))
        owner = Surveys if path.startswith("Surveys.") else desk.handler("inbound_twilio").processor.conversations
        name = path.removeprefix("Surveys.")
        stores: list[str] = []
        store = getattr(owner, name)
        monkeypatch.setattr(owner, name, lambda *a, **k: (stores.append(path), store(*a, **k))[1])
        # When an erase marks the number after the replay read no mark (and has erased nothing yet)
        clock.set_offset(60)
        erased = desk.handler("inbound_twilio").erased
        _erased_between_read_and_store(desk, monkeypatch, lambda: desk.client("dynamodb").put_item(
            TableName=desk.table_name, Item=serialize(erased.marks([("phone", phone)], clock.now())[0])))
        _replay(desk)
        # Then the replay took that path and its transaction stored nothing: no message, marker or conversation,
        # the identity as it was, the queue holds it no more
        assert stores and set(stores) == {path}
        assert desk.item(marker_pk("twilio", "SMkept17b")) is None and _kept(desk) == []
        assert desk.item(f"IDENTITY#phone#{phone}") == identity
        assert not [i for i in scan(desk) if i.get("provider_id") == "SMkept17b"]
        # and nothing more is sent to the number (no acknowledgement, no answer)
        assert _sends_to(desk, twilio, phone) == sent
    finally:
        twilio.close()


@pytest.mark.parametrize(("before", "index_lags"), [(_open, False), (_resolved_by_a_person, False),
                                                   (_resolved_by_a_person, True)])
def test_a_kept_message_stored_by_its_replay_before_the_erase_marks_the_number_is_erased_with_the_rest(
        desk, throttled, monkeypatch, before, index_lags):
    from shopdesk.dal.items import marker_pk
    from tests.integration.test_privacy import _job, scan
    phone = "+31612000018"
    # Given a customer's conversation (open, or resolved: the replay then opens another under the same customer),
    # and their next message kept while the table throttled
    throttled()
    conv = before(desk, phone, "SMkept18a")
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    _throttled_once(desk, twilio_form(MessageSid="SMkept18b", From=phone, To="+14155550100",
                                      Body="Gerrit-Jan here, my teapot broke"))
    # When the erase has read what to erase, and the replay stores the message just before the erase marks the number
    erased = desk.handler("privacy").erased
    marks = erased.marks

    def replay_then_mark(*args, **kwargs):
        monkeypatch.setattr(erased, "marks", marks)
        assert _replay(desk) == 1 and desk.item(marker_pk("twilio", "SMkept18b")) is not None
        return marks(*args, **kwargs)

    monkeypatch.setattr(erased, "marks", replay_then_mark)
    if index_lags:      # the customer index does not show the conversation the replay opens yet (it is eventual)
        data = desk.handler("privacy").data
        listed = data.conversation_ids
        monkeypatch.setattr(data, "conversation_ids", lambda customer_id: [c for c in listed(customer_id) if c == conv])
    clock.set_offset(60)
    _job(desk, "erase", customer)
    # Then the erase finds what the replay stored and erases it too: nothing of the customer is left
    everything = json.dumps(scan(desk), default=str)
    assert "Gerrit-Jan" not in everything and phone not in everything and phone[1:] not in everything
    assert desk.item(marker_pk("twilio", "SMkept18b")) is None and _kept(desk) == []
