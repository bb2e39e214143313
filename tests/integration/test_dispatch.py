"""Replies leave through Twilio in order; failures retry with backoff and end visible, never lost."""

from __future__ import annotations

import time

import pytest

from shopdesk import clock
from shopdesk.ids import send_reference
from tests.integration.helpers import STATUS_URL, agent, customer_writes, online, post_twilio
from tests.support import FakeTwilio, twilio_form


@pytest.fixture
def twilio():
    fake = FakeTwilio()
    yield fake
    fake.close()


def _dispatch(desk, twilio, rounds=1):
    return desk.drain_queue(desk.outbound_queue_url, "dispatcher", rounds=rounds, TWILIO_API_BASE_URL=twilio.url)


def _messages(desk, conv, agent_id="alice"):
    return agent(desk, "GET", f"/agent/conversations/{conv}", agent_id)[1]["messages"]


def _outbound(desk, conv):
    return [m for m in _messages(desk, conv) if m["direction"] == "outbound"]


def _conversation_with_alice(desk, phone="+31611111111", channel="sms"):
    online(desk, "alice")
    conv = customer_writes(desk, phone, "where is my parcel?", "SMin" + phone[1:], channel=channel)
    desk.drain_queue(desk.work_queue_url, "router")
    return conv


def test_reply_is_sent_through_twilio_with_the_provider_id_recorded(desk, twilio):
    conv = _conversation_with_alice(desk, channel="whatsapp")
    status, reply = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "On its way!"})
    assert status == 202 and reply["status"] == "queued"
    _dispatch(desk, twilio)
    [sent] = twilio.requests
    assert sent["path"] == "/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages.json"
    assert sent["form"]["To"] == "whatsapp:+31611111111"
    assert sent["form"]["From"] == "whatsapp:+14155550100"
    assert sent["form"]["Body"] == "On its way!"
    # the status callback carries our reference to the reply (#14: a receipt can confirm an unrecorded send)
    reference = sent["form"]["StatusCallback"].removeprefix(STATUS_URL + "?ref=")
    assert reference.startswith(conv + "-") and reference.endswith("-0")
    assert sent["auth"].startswith("Basic ")
    [out] = _outbound(desk, conv)
    assert out["status"] == "queued" and out["attempts"] == 1
    assert desk.item(f"CONV#{conv}")["sla"]["first_response_at"]


def test_replies_leave_in_the_order_they_were_written(desk, twilio):
    conv = _conversation_with_alice(desk)
    for text in ("one", "two", "three"):
        agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": text})
    twilio.script = [(503, {"code": 20500, "message": "Internal error"})]   # "one" fails once
    _dispatch(desk, twilio)
    assert [r["form"]["Body"] for r in twilio.requests] == ["one"]          # two and three held back
    deadline = time.monotonic() + 10
    while len(twilio.requests) < 4 and time.monotonic() < deadline:        # backoff: 1-2 s
        _dispatch(desk, twilio, rounds=5)
        time.sleep(0.3)
    assert [r["form"]["Body"] for r in twilio.requests] == ["one", "one", "two", "three"]


def test_delivery_status_never_moves_backwards(desk, twilio):
    conv = _conversation_with_alice(desk)
    agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "hi"})
    _dispatch(desk, twilio)
    sid = _outbound(desk, conv)[0]["provider_id"]
    for status in ("delivered", "sent"):
        body = twilio_form(MessageSid=sid, MessageStatus=status, SmsStatus=status, To="+31611111111",
                           From="+14155550100")
        assert post_twilio(desk, body, url=STATUS_URL)["statusCode"] == 200
    assert _outbound(desk, conv)[0]["status"] == "delivered"


def test_receipt_arriving_before_the_send_is_recorded_is_applied(desk, twilio):
    conv = _conversation_with_alice(desk)
    agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "fast"})
    sid = "SM" + "f" * 32
    twilio.script = [(201, {"sid": sid, "status": "queued"})]
    early = twilio_form(MessageSid=sid, MessageStatus="delivered", To="+31611111111", From="+14155550100")
    assert post_twilio(desk, early, url=STATUS_URL)["statusCode"] == 200   # Twilio was quicker than us
    _dispatch(desk, twilio)
    assert _outbound(desk, conv)[0]["status"] == "delivered"


def test_undelivered_receipt_keeps_the_error_for_the_agent(desk, twilio):
    conv = _conversation_with_alice(desk)
    agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "hi"})
    sid = "SM" + "a" * 32
    twilio.script = [(201, {"sid": sid, "status": "queued"})]
    _dispatch(desk, twilio)
    body = twilio_form(MessageSid=sid, MessageStatus="undelivered", ErrorCode="30003", To="+31611111111",
                       From="+14155550100")
    post_twilio(desk, body, url=STATUS_URL)
    out = _outbound(desk, conv)[0]
    assert out["status"] == "undelivered"
    assert out["error"]["code"] == "30003" and "unreachable" in out["error"]["message"]


def test_permanent_provider_error_marks_the_reply_failed_at_once(desk, twilio):
    _, out = _refused_for_good(desk, twilio)
    assert out["status"] == "failed"
    assert out["error"] == {"code": "21211", "message": "The customer's number is not a valid phone number"}
    assert len(twilio.requests) == 1


def test_retryable_errors_until_the_last_attempt_end_in_failed_with_the_error(desk, twilio):
    conv = _conversation_with_alice(desk)
    agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "hi"})
    twilio.script = [(429, {"code": 20429, "message": "Too Many Requests", "status": 429})] * 3
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and _outbound(desk, conv)[0]["status"] == "queued":
        _dispatch(desk, twilio)
        time.sleep(0.5)
    out = _outbound(desk, conv)[0]
    assert out["status"] == "failed" and out["attempts"] == 3       # DISPATCH_MAX_ATTEMPTS=3 in tests
    assert out["error"]["code"] == "20429"
    assert len(twilio.requests) == 3


def test_provider_outage_keeps_the_reply_queued_for_retry(desk, twilio):
    conv = _conversation_with_alice(desk)
    agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "hi"})
    desk.drain_queue(desk.outbound_queue_url, "dispatcher", rounds=1, TWILIO_API_BASE_URL="http://127.0.0.1:9")
    out = _outbound(desk, conv)[0]
    assert out["status"] == "queued" and out["attempts"] == 1
    assert "could not be reached" in out["error"]["message"]
    deadline = time.monotonic() + 10
    while not twilio.requests and time.monotonic() < deadline:             # backoff: 1-2 s
        _dispatch(desk, twilio)
        time.sleep(0.3)
    assert len(twilio.requests) == 1


def _refused_for_good(desk, twilio):
    """A conversation alice has, with her reply the provider refused for good: (conversation id, the reply)."""
    conv = _conversation_with_alice(desk)
    agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "Your refund is on its way"})
    twilio.script = [(400, {"code": 21211, "message": "The 'To' number is not a valid phone number.",
                            "status": 400})]
    _dispatch(desk, twilio)
    [failed] = _outbound(desk, conv)
    return conv, failed


def test_a_failed_reply_is_sent_again_once_and_its_new_reply_names_it(desk, twilio):
    # Given a reply the provider refused for good
    conv, failed = _refused_for_good(desk, twilio)
    assert failed["status"] == "failed" and failed["retry_of"] is None
    # When the agent sends it again, and it goes
    status, again = agent(desk, "POST", f"/agent/conversations/{conv}/replies/{failed['id']}/retry", "alice")
    assert status == 202 and again["retry_of"] == failed["id"]
    _dispatch(desk, twilio)
    assert len(twilio.requests) == 2
    # Then sending the failed one again a second time (a second click, another tab) is refused and sends nothing
    status, problem = agent(desk, "POST", f"/agent/conversations/{conv}/replies/{failed['id']}/retry", "bob")
    assert status == 409 and again["id"] in problem["detail"]
    _dispatch(desk, twilio)
    assert len(twilio.requests) == 2
    assert [m["id"] for m in _outbound(desk, conv)] == [failed["id"], again["id"]]
    assert _outbound(desk, conv)[1]["retry_of"] == failed["id"]


def test_two_presses_of_send_again_at_once_send_the_reply_once(desk, twilio, monkeypatch):
    # Given a failed reply, and a second press whose read came before the first press's new reply was written
    conv, failed = _refused_for_good(desk, twilio)
    conversations = desk.handler("agent_api").inbox.conversations
    before = conversations.get_with_messages(conv)
    assert agent(desk, "POST", f"/agent/conversations/{conv}/replies/{failed['id']}/retry", "alice")[0] == 202
    monkeypatch.setattr(conversations, "get_with_messages", lambda conversation_id: before)
    # When the second press lands
    status, problem = agent(desk, "POST", f"/agent/conversations/{conv}/replies/{failed['id']}/retry", "bob")
    # Then it is refused: one new reply, one send
    assert status == 409 and "being sent again already" in problem["detail"]
    assert problem["code"] == "sent_again_already"
    monkeypatch.undo()
    _dispatch(desk, twilio)
    assert len(_outbound(desk, conv)) == 2 and len(twilio.requests) == 2


def test_a_press_of_send_again_cut_short_does_not_block_the_next_one(desk, twilio):
    # Given a failed reply whose claim to be sent again was made long ago and never became a new reply
    conv, failed = _refused_for_good(desk, twilio)
    ddb = desk.client("dynamodb")
    items = ddb.query(TableName=desk.table_name, KeyConditionExpression="PK = :pk",
                      ExpressionAttributeValues={":pk": {"S": f"CONV#{conv}"}})["Items"]
    [sk] = [i["SK"]["S"] for i in items if i["SK"]["S"].endswith(failed["id"])]
    ddb.update_item(TableName=desk.table_name, Key={"PK": {"S": f"CONV#{conv}"}, "SK": {"S": sk}},
                    UpdateExpression="SET sent_again_at = :t",
                    ExpressionAttributeValues={":t": {"S": "2026-01-01T00:00:00+00:00"}})
    # Then the agent can still send it again
    assert agent(desk, "POST", f"/agent/conversations/{conv}/replies/{failed['id']}/retry", "alice")[0] == 202


# ------------------------------------------------------------------------------ a reply stuck in the queue

def _lose_the_queue_record(desk) -> str:
    """Take the reply's record out of the outbound queue, as a move to its dead-letter queue does; its body."""
    sqs = desk.client("sqs")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:                  # it comes back after its backoff (1-2 s)
        for message in sqs.receive_message(QueueUrl=desk.outbound_queue_url, MaxNumberOfMessages=10,
                                           WaitTimeSeconds=1).get("Messages", []):
            sqs.delete_message(QueueUrl=desk.outbound_queue_url, ReceiptHandle=message["ReceiptHandle"])
            return message["Body"]
    raise AssertionError("the reply's record never came back to the queue")


def _message_sk(desk, conv: str, message_id: str) -> str:
    items = desk.client("dynamodb").query(TableName=desk.table_name, KeyConditionExpression="PK = :pk",
                                          ExpressionAttributeValues={":pk": {"S": f"CONV#{conv}"}})["Items"]
    [sk] = [i["SK"]["S"] for i in items if i["SK"]["S"].endswith(message_id)]
    return sk


def _stuck_reply(desk, twilio):
    """A reply the provider refused once (an outage), whose queue record then went to the dead-letter queue:
    (conversation id, the reply as the agent reads it, its record's body)."""
    conv = _conversation_with_alice(desk)
    agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "Your refund is on its way"})
    twilio.script = [(503, {"code": 20503, "message": "Service unavailable"})]
    _dispatch(desk, twilio)
    body = _lose_the_queue_record(desk)
    [reply] = _outbound(desk, conv)
    assert reply["status"] == "queued" and reply["attempts"] == 1 and not reply["stuck"]
    return conv, reply, body


def test_a_reply_nothing_tried_to_send_for_an_hour_is_stuck_and_sent_again_once(desk, twilio):
    # Given a reply whose queue record was lost after one failed attempt
    conv, reply, body = _stuck_reply(desk, twilio)
    clock.set_offset(59 * 60)
    assert not _outbound(desk, conv)[0]["stuck"]         # within the hour it may still come
    status, problem = agent(desk, "POST", f"/agent/conversations/{conv}/replies/{reply['id']}/retry", "alice")
    assert status == 409 and problem["code"] == "not_failed"
    # When an hour passed with no attempt, the agent sees it stuck and sends it again
    clock.set_offset(61 * 60)
    [shown] = _outbound(desk, conv)
    assert shown["status"] == "queued" and shown["stuck"]
    status, again = agent(desk, "POST", f"/agent/conversations/{conv}/replies/{reply['id']}/retry", "alice")
    assert status == 202 and again["retry_of"] == reply["id"] and again["text"] == "Your refund is on its way"
    _dispatch(desk, twilio)
    assert [r["form"]["Body"] for r in twilio.requests] == ["Your refund is on its way"] * 2   # the 503, the copy
    old, new = _outbound(desk, conv)
    assert old["status"] == "failed" and old["error"]["code"] == "stuck" and not old["stuck"]
    assert new["provider_id"] and new["retry_of"] == reply["id"]
    # Then the old record, redriven from the dead-letter queue later, sends nothing
    desk.client("sqs").send_message(QueueUrl=desk.outbound_queue_url, MessageBody=body, MessageGroupId=conv,
                                    MessageDeduplicationId="redrive-" + reply["id"])
    _dispatch(desk, twilio)
    assert len(twilio.requests) == 2
    assert [m["status"] for m in _outbound(desk, conv)] == ["failed", new["status"]]
    # and it cannot be sent again a second time
    status, problem = agent(desk, "POST", f"/agent/conversations/{conv}/replies/{reply['id']}/retry", "bob")
    assert status == 409 and problem["code"] == "sent_again_already"


def test_a_stuck_reply_a_delivery_takes_up_meanwhile_is_not_sent_again(desk, twilio, monkeypatch):
    # Given a stuck reply as the agent read it, and its record redriven and being sent since that read
    conv, reply, _ = _stuck_reply(desk, twilio)
    clock.set_offset(61 * 60)
    conversations = desk.handler("agent_api").inbox.conversations
    before = conversations.get_with_messages(conv)
    sk = _message_sk(desk, conv, reply["id"])
    assert conversations.record_intent(conv, sk, part=0, attempt=2, reference=f"{conv}-redriven-0")
    monkeypatch.setattr(conversations, "get_with_messages", lambda conversation_id: before)
    # When the agent sends it again
    status, problem = agent(desk, "POST", f"/agent/conversations/{conv}/replies/{reply['id']}/retry", "alice")
    # Then it is refused, and no copy is queued: the customer gets it once, from the delivery under way
    assert status == 409 and problem["code"] == "not_failed"
    monkeypatch.undo()
    assert [m["id"] for m in _outbound(desk, conv)] == [reply["id"]]
    assert desk.item(f"CONV#{conv}", sk)["status"] == "queued"


def test_a_reply_waiting_behind_one_being_retried_is_not_stuck(desk, twilio):
    # Given two replies, the first retried after an outage while the second waits behind it in the queue
    conv = _conversation_with_alice(desk)
    for text in ("one", "two"):
        agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": text})
    twilio.script = [(503, {"code": 20503, "message": "Service unavailable"})]
    clock.set_offset(50 * 60)           # the first is tried 50 minutes after both were written
    _dispatch(desk, twilio)
    # When an hour has passed since the second was written, but not since its conversation's queue was worked on
    clock.set_offset(70 * 60)
    # Then neither is stuck
    assert [(m["text"], m["stuck"]) for m in _outbound(desk, conv)] == [("one", False), ("two", False)]
    clock.set_offset(111 * 60)
    assert [(m["text"], m["stuck"]) for m in _outbound(desk, conv)] == [("one", True), ("two", True)]


@pytest.mark.parametrize("with_reference", [False, True])
def test_a_failure_a_receipt_left_before_the_send_was_recorded_is_told_by_the_record_once(desk, twilio,
                                                                                           with_reference):
    # Given a queued reply, and the dispatcher's view of the table
    conv = _conversation_with_alice(desk)
    agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "hi"})
    conversations = desk.handler("dispatcher").conversations
    sk, _ = conversations.find_message(conv, lambda m: m.direction.value == "outbound")
    sid = "SM" + ("c" if with_reference else "d") * 32
    # When Twilio's failed receipt comes before the send is recorded: with our reference it names the reply and
    # fails it itself; without, it is kept on the provider id's marker
    applied = conversations.apply_receipt("twilio", sid, "failed", {"code": "30008", "message": "unknown"},
                                          reference=send_reference(conv, sk, 0) if with_reference else None)
    assert applied == ("applied" if with_reference else "pending")
    # Then the record of the send tells the failure only when the receipt could not (the webhook told it), and once:
    # a record written again (a redelivery after a crash) tells nothing more
    record = {"provider": "twilio", "provider_id": sid, "status": "queued", "attempts": 1}
    assert conversations.record_send(conv, sk, **record) == (None if with_reference else "failed")
    assert conversations.record_send(conv, sk, **record) is None
    [out] = _outbound(desk, conv)
    assert out["status"] == "failed" and out["provider_id"] == sid and out["error"]["code"] == "30008"
