"""Faults on the local stack, as AWS gives them (local.aws_faults): DynamoDB throttling and SQS errors while
customers write. Twilio delivers a message once, then calls its Fallback URL (the same endpoint) if the answer
was not a 2xx, and never again: a verified message the table could not take is kept in the ingest-retry queue and
answered 200, and stored once when the table takes writes again. Every message a 2xx accepted is stored once, none
twice, and every conversation is routed, even when the send to the work queue failed after the message was
stored (answered 200: the sweep sends that work)."""

from __future__ import annotations

import json
import time
import urllib.parse

import pytest
from tests.support import twilio_form

from shopdesk.channels import twilio

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_inboxes")]

AUTH_TOKEN = "fake-twilio-auth-token"  # the local stack's documented default


def _conversations_of(stack, phone: str) -> list[dict]:
    token = stack.token("alice")
    hits = stack.get("/agent/search?q=" + urllib.parse.quote(phone), token=token).json()["conversations"]
    return [stack.get(f"/agent/conversations/{c['id']}", token=token).json() for c in hits]


def _inbound_ids(stack, phone: str) -> list[str]:
    return sorted(m["provider_id"] for conv in _conversations_of(stack, phone) for m in conv["messages"]
                  if m["direction"] == "inbound")


def _routed(conv: dict) -> bool:
    return conv["assignee"] is not None or conv["sla"]["first_response_due_at"] is not None


@pytest.fixture
def faults(stack):
    yield lambda **rule: stack.post("/_local/aws/faults", json=rule)
    stack.delete("/_local/aws/faults")


def _post_once(stack, phone: str, sid: str, text: str, **extra: str):
    """One delivery, as Twilio makes it (no retry): the answer."""
    body = twilio_form(MessageSid=sid, From=phone, To="+14155550100", Body=text, **extra)
    path = "/webhooks/twilio"
    signature = twilio.sign(stack.url + path, twilio.parse_form(body), AUTH_TOKEN)
    return stack.post(path, data=body, headers={"Content-Type": "application/x-www-form-urlencoded",
                                                "X-Twilio-Signature": signature})


def test_twilio_messages_during_a_throttle_storm_are_stored_exactly_once_after_it(stack, faults):
    # Given a storm: every transaction throttled, past the SDK's own retries, until it ends
    assert faults(operation="dynamodb:TransactWriteItems", error="ProvisionedThroughputExceededException",
                  times=100_000).status == 201
    customers = {f"+3161220{n:04d}": [f"SMthr{n:02d}a", f"SMthr{n:02d}b"] for n in range(4)}
    # When Twilio delivers each message once during it
    for phone, sids in customers.items():
        for sid in sids:
            answer = _post_once(stack, phone, sid, f"Hello, message {sid}")
            # Then each is answered 200 (Twilio would not deliver it again), kept, not stored
            assert answer.status == 200, (sid, answer.status)
            assert json.loads(answer.headers["x-shopdesk-outcome"])["kept"] == 1
    time.sleep(1)                                     # replays during the storm fail too, and back off
    assert all(_inbound_ids(stack, phone) == [] for phone in customers)
    # and once the storm is over, the replays store every message, once
    stack.delete("/_local/aws/faults")
    for phone, sids in customers.items():
        assert stack.wait_for(lambda p=phone, s=sids: _inbound_ids(stack, p) == sorted(s) or None,
                              timeout=60), phone
    time.sleep(2)                                     # nothing replayed twice, nothing left to store again
    for phone, sids in customers.items():
        assert _inbound_ids(stack, phone) == sorted(sids), phone
        assert stack.wait_for(lambda p=phone: all(_routed(c) for c in _conversations_of(stack, p)) or None,
                              timeout=30), phone


def test_when_the_retry_queue_refuses_too_twilios_fallback_call_stores_the_message_once(stack, faults):
    # Given the table throttled and SQS refusing sends: the message cannot be stored nor kept
    faults(operation="dynamodb:TransactWriteItems", error="ProvisionedThroughputExceededException", times=100_000)
    faults(operation="sqs:SendMessage", error="InternalFailure", times=100_000)
    assert _post_once(stack, "+31612300001", "SMfallback1", "Is anyone there?").status >= 500
    # When Twilio calls the Fallback URL (set to the same endpoint: README) once the outage is over
    stack.delete("/_local/aws/faults")
    answer = _post_once(stack, "+31612300001", "SMfallback1", "Is anyone there?", ErrorCode="11200",
                        ErrorUrl=stack.url + "/webhooks/twilio")
    # Then the message is stored, once
    assert answer.status == 200 and json.loads(answer.headers["x-shopdesk-outcome"])["stored"] == 1
    assert _inbound_ids(stack, "+31612300001") == ["SMfallback1"]


def test_a_lost_send_to_the_work_queue_is_made_good(stack, faults):
    # the work queue refuses sends until 3 have failed (a webhook's request tries a send refused quickly three times
    # at most, dal.queues): the first message is stored and its routing work refused. Each is answered 200 as stored,
    # once (Twilio does not deliver it again), and the sweep sends the work the message's marker keeps once its grace
    # is over
    assert faults(operation="sqs:SendMessage", error="InternalFailure", times=3).status == 201
    phones = [f"+3161330{n:04d}" for n in range(5)]
    for n, phone in enumerate(phones):
        answer = _post_once(stack, phone, f"SMsqs{n:02d}", "Where is my parcel?")
        assert answer.status == 200, (phone, answer.status)
        assert json.loads(answer.headers["x-shopdesk-outcome"])["stored"] == 1, phone
    assert stack.get("/_local/aws/faults").json()["rules"][0]["left"] == 0       # every refusal was used
    stack.delete("/_local/aws/faults")
    for n, phone in enumerate(phones):
        assert _inbound_ids(stack, phone) == [f"SMsqs{n:02d}"]
    assert not all(_routed(c) for c in _conversations_of(stack, phones[0]))       # its work never went
    stack.advance(180)                                  # past the grace (120 s after the message)
    stack.run_schedule("SlaSweepFunction")
    for n, phone in enumerate(phones):
        assert stack.wait_for(lambda p=phone: all(_routed(c) for c in _conversations_of(stack, p)) or None,
                              timeout=30), phone
        assert _inbound_ids(stack, phone) == [f"SMsqs{n:02d}"]


def test_a_mail_the_table_refused_waits_in_its_dead_letter_queue_and_the_local_redrive_stores_it(
        stack, faults, monkeypatch, capsys):
    import boto3
    from scripts import redrive
    # Given a mail whose function failed its three attempts (the table throttled): its S3 event is dead-lettered
    faults(operation="dynamodb:TransactWriteItems", error="ProvisionedThroughputExceededException", times=100_000)
    raw = (b"From: Grace <grace@customer.example>\r\nTo: support@shop.example\r\nSubject: Parcel\r\n"
           b"Message-ID: <redrive-1@customer.example>\r\n\r\nWhere is my parcel?\r\n")
    assert stack.post("/_local/email?wait=1", data=raw, headers={"Content-Type": "message/rfc822"}).status == 202
    aws = stack.get("/_local/aws").json()
    sqs = boto3.client("sqs", endpoint_url=aws["endpoint"], region_name=aws["region"], aws_access_key_id="local",
                       aws_secret_access_key="local")
    dlq = sqs.get_queue_url(QueueName="shopdesk-dev-inbound-mail-dlq")["QueueUrl"]

    def waiting() -> int:
        return int(sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])
                   ["Attributes"]["ApproximateNumberOfMessages"])

    assert stack.wait_for(lambda: waiting() == 1, timeout=30)
    stack.delete("/_local/aws/faults")
    # When the operator redrives it on the local stack, as the dry run says
    monkeypatch.setenv("PORT", stack.url.rsplit(":", 1)[-1].strip("/"))
    assert redrive.main(["--queue", "inbound-mail", "--dry-run"]) == 0
    assert "inbound-mail: would invoke 1, failed 0" in capsys.readouterr().out
    assert redrive.main(["--queue", "inbound-mail"]) == 0
    assert "inbound-mail: invoked 1, failed 0" in capsys.readouterr().out
    # Then the function runs it again and the mail is stored, once, and the dead-letter queue is empty
    token = stack.token("alice")

    def stored() -> list[str]:
        hits = stack.get("/agent/search?q=grace%40customer.example", token=token).json()["conversations"]
        return [m["text"] for c in hits for m in stack.get(f"/agent/conversations/{c['id']}", token=token).json()
                ["messages"] if m["direction"] == "inbound"]

    assert stack.wait_for(stored, timeout=30) == ["Where is my parcel?"]
    assert waiting() == 0


def test_a_fault_rule_is_checked(stack):
    assert stack.post("/_local/aws/faults", json={"operation": "dynamodb", "error": "Nope"}).status == 400
    assert stack.post("/_local/aws/faults", json={"operation": "dynamodb:GetItem", "error": "Nope"}).status == 400
    assert stack.get("/_local/aws/faults").json() == {"rules": []}
