"""The real handlers emit the operator's figures: messages received per channel, replies sent per provider."""

from __future__ import annotations

import json

from tests.integration.helpers import agent, customer_writes, online
from tests.support import FakeTwilio


def _figures(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{") and '"_aws"' in line]


def test_inbound_and_replies_are_counted(desk, capsys):
    twilio = FakeTwilio()
    try:
        online(desk, "alice")
        conv = customer_writes(desk, "+31611300001", "hello", "SMmet1")
        received = [f for f in _figures(capsys.readouterr().out) if "MessagesReceived" in f]
        assert [(f["channel"], f["MessagesReceived"]) for f in received] in ([("sms", 1.0)], [("sms", [1.0])])
        desk.drain_queue(desk.work_queue_url, "router")
        status, _ = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "Hi!"})
        assert status in (201, 202)
        capsys.readouterr()
        desk.drain_queue(desk.outbound_queue_url, "dispatcher", TWILIO_API_BASE_URL=twilio.url)
        sent = [f for f in _figures(capsys.readouterr().out) if "RepliesSent" in f]
        assert {f.get("provider") for f in sent} >= {"twilio", None}
    finally:
        twilio.close()


def test_stop_start_and_a_kept_thank_you_are_counted(desk, capsys):
    from tests.integration.helpers import post_twilio
    from tests.support import twilio_form

    customer_writes(desk, "+31611300002", "STOP", "SMmet2")
    customer_writes(desk, "+31611300002", "START", "SMmet3")
    post_twilio(desk, twilio_form(MessageSid="SMmet3", From="+31611300002", To="+14155550100", Body="START"))
    figures = _figures(capsys.readouterr().out)
    assert [f["channel"] for f in figures if "OptOuts" in f] == ["sms"]
    assert [f["channel"] for f in figures if "OptIns" in f] == ["sms"]          # the retry counted nothing
    online(desk, "alice")
    desk.drain_queue(desk.work_queue_url, "router")
    # a STOP and a START ask nothing: the router resolved their conversation (logic.consent)
    identity = desk.item("IDENTITY#phone#+31611300002")
    assert "open_conversation_id" not in identity
    assert desk.item(f"CONV#{identity['last_conversation_id']}")["status"] == "resolved"
    customer_writes(desk, "+31611300002", "Where is my order?", "SMmet3b")
    desk.drain_queue(desk.work_queue_url, "router")
    conv = desk.item("IDENTITY#phone#+31611300002")["open_conversation_id"]
    assert agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "resolved"})[0] == 200
    post_twilio(desk, twilio_form(MessageSid="SMmet4", From="+31611300002", To="+14155550100", Body="thank you!"))
    assert [f["channel"] for f in _figures(capsys.readouterr().out) if "ThanksKeptResolved" in f] == ["sms"]


def test_a_poison_reply_is_logged_with_its_cause_and_counted(desk, capsys, caplog):
    sent = desk.client("sqs").send_message(QueueUrl=desk.outbound_queue_url, MessageBody="{not json",
                                           MessageGroupId="c_poison", MessageDeduplicationId="poison-1")
    capsys.readouterr()
    desk.drain_queue(desk.outbound_queue_url, "dispatcher")
    [line] = [r for r in caplog.records if r.getMessage().startswith("record failed")]
    assert line.levelname == "WARNING" and line.message_id == sent["MessageId"]
    assert line.error_type == "json.decoder.JSONDecodeError" and line.message_group_id == "c_poison"
    figures = _figures(capsys.readouterr().out)
    assert [f["function"] for f in figures if "RecordsFailed" in f and "function" in f] == ["test"]
