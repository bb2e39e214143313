"""scripts/redrive.py on moto: dead-lettered work goes back to its queue, in order per group, once."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest
from botocore.stub import Stubber
from scripts import redrive


@pytest.fixture
def sqs(moto_endpoint):
    return boto3.client("sqs", endpoint_url=moto_endpoint, region_name="us-east-1")


def _fifo(sqs, name):
    return sqs.create_queue(QueueName=f"{name}-{uuid.uuid4().hex[:8]}.fifo",
                            Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "false"})["QueueUrl"]


def _drain(sqs, url):
    out = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                       MessageSystemAttributeNames=["MessageGroupId"]).get("Messages", []):
        for m in batch:
            out.append((m["Attributes"]["MessageGroupId"], json.loads(m["Body"])["n"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return out


def test_dead_letters_go_back_to_their_queue_in_group_order(sqs):
    dlq, work = _fifo(sqs, "work-dlq"), _fifo(sqs, "work")
    for n in range(13):
        group = f"c_{n % 3}"
        sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps({"n": n}), MessageGroupId=group,
                         MessageDeduplicationId=f"m_{n}")
    result = redrive.move(sqs, dlq, work)
    assert (result.moved, result.failed) == (13, 0)
    moved = _drain(sqs, work)
    assert sorted(n for _, n in moved) == list(range(13))
    for group in ("c_0", "c_1", "c_2"):                 # FIFO order kept within each conversation
        ns = [n for g, n in moved if g == group]
        assert ns == sorted(ns)
    assert _drain(sqs, dlq) == []
    assert redrive.move(sqs, dlq, work).moved == 0       # a second redrive finds nothing to do


def test_a_copy_is_not_dropped_as_a_repeat_of_the_message_that_failed(sqs):
    dlq, work = _fifo(sqs, "out-dlq"), _fifo(sqs, "out")
    sqs.send_message(QueueUrl=work, MessageBody=json.dumps({"n": 1}), MessageGroupId="c",
                     MessageDeduplicationId="m_1")
    _drain(sqs, work)                                    # consumed, failed, dead-lettered within 5 minutes
    sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps({"n": 1}), MessageGroupId="c",
                     MessageDeduplicationId="m_1")
    assert redrive.move(sqs, dlq, work).moved == 1
    assert _drain(sqs, work) == [("c", 1)]


def test_limit_and_dry_run_leave_the_rest(sqs):
    dlq, work = _fifo(sqs, "lim-dlq"), _fifo(sqs, "lim")
    for n in range(5):
        sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps({"n": n}), MessageGroupId=f"g{n}",
                         MessageDeduplicationId=f"d{n}")
    assert redrive.move(sqs, dlq, work, dry_run=True).moved == 5
    assert _drain(sqs, work) == []
    assert redrive.move(sqs, dlq, work, limit=2).moved == 2
    assert len(_drain(sqs, work)) == 2 and len(_drain(sqs, dlq)) == 3


def test_an_asynchronous_invocation_is_invoked_again_and_then_deleted(sqs):
    dlq = sqs.create_queue(QueueName=f"mail-dlq-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    event = {"Records": [{"s3": {"object": {"key": "mail/abc"}}}]}
    sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps(event))
    lam = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(lam) as stub:
        stub.add_response("invoke", {"StatusCode": 202},
                          {"FunctionName": "shopdesk-prod-InboundEmail", "InvocationType": "Event",
                           "Payload": json.dumps(event)})
        result = redrive.invoke(sqs, lam, dlq, "shopdesk-prod-InboundEmail")
        stub.assert_no_pending_responses()
    assert (result.moved, result.failed) == (1, 0)
    assert sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=0).get("Messages", []) == []


def test_a_function_queue_is_refused_without_a_stack(capsys):
    with pytest.raises(SystemExit):
        redrive.main(["--queue", "inbound-mail", "--endpoint-url", "http://127.0.0.1:9"])
    assert "AWS only" in capsys.readouterr().err
