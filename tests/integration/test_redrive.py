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


@pytest.fixture
def local_stack(monkeypatch):
    """The local stack's invoke route as a stub (``POST /_local/functions/<id>/invoke``): what was posted, and the
    status it answers."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: dict = {"posted": [], "status": 202}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen["posted"].append((self.path, json.loads(body)))
            self.send_response(seen["status"])
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("PORT", str(server.server_address[1]))
    yield seen
    server.shutdown()


def test_a_function_queue_is_invoked_again_through_the_local_stack(sqs, moto_endpoint, local_stack, capsys):
    # Given two S3 events in the local stack's mail dead-letter queue: one as the OnFailure destination keeps it
    # (Lambda's invocation record, the template's), one as a DeadLetterQueue would (the event itself)
    stage = f"t{uuid.uuid4().hex[:8]}"
    dlq = sqs.create_queue(QueueName=f"shopdesk-{stage}-inbound-mail-dlq")["QueueUrl"]
    events = [{"Records": [{"s3": {"object": {"key": f"raw/{n}"}}}]} for n in range(2)]
    bodies = [{"version": "1.0", "requestContext": {"condition": "RetriesExhausted", "approximateInvokeCount": 3},
               "requestPayload": events[0], "responsePayload": {"errorType": "ClientError"}}, events[1]]

    def dead_letters() -> None:
        for body in bodies:
            sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps(body))

    dead_letters()
    local = ["--queue", "inbound-mail", "--endpoint-url", moto_endpoint, "--stage", stage]
    # When the stack refuses the invocation, the messages stay and the redrive says it failed
    local_stack["status"] = 500
    assert redrive.main(local) == 1
    assert "inbound-mail: invoked 0, failed 2" in capsys.readouterr().out
    assert int(sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])
               ["Attributes"]["ApproximateNumberOfMessagesNotVisible"]) == 2     # kept, out of sight a while
    sqs.purge_queue(QueueUrl=dlq)
    dead_letters()
    local_stack["posted"].clear()
    # When it takes them (202, as Lambda's asynchronous invocation), each event is invoked again and deleted
    local_stack["status"] = 202
    assert redrive.main(local) == 0
    assert "inbound-mail: invoked 2, failed 0" in capsys.readouterr().out
    assert sorted(local_stack["posted"], key=str) == sorted(
        [("/_local/functions/InboundEmailFunction/invoke", e) for e in events], key=str)
    assert _left(sqs, dlq) == []


# ------------------------------------------------------------------------------ seeing, discarding, purging

def _standard(sqs, name):
    return sqs.create_queue(QueueName=f"{name}-{uuid.uuid4().hex[:8]}")["QueueUrl"]


def _visible(sqs, url):
    return int(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
               ["Attributes"]["ApproximateNumberOfMessages"])


def _left(sqs, url):
    found = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                       VisibilityTimeout=30).get("Messages", []):
        found += [m["MessageId"] for m in batch]
    return sorted(found)


def test_a_dry_run_shows_each_message_why_it_failed_and_its_scrubbed_body_and_changes_nothing(sqs, capsys):
    dlq = _standard(sqs, "email-events-dlq")
    ses = {"Type": "Notification", "MessageId": "sns-1", "Message": json.dumps({
        "eventType": "Bounce", "mail": {"messageId": "ses-1", "destination": ["anna@example.com"],
                                        "commonHeaders": {"subject": "Your order 1001", "to": ["anna@example.com"]}}})}
    sent = sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps(ses), MessageAttributes={
        "ErrorCode": {"DataType": "String", "StringValue": "500"},
        "ErrorMessage": {"DataType": "String", "StringValue": "the endpoint answered 500"}})
    work = _fifo(sqs, "work-dlq")
    sqs.send_message(QueueUrl=work, MessageBody=json.dumps({"kind": "inbound", "conversation_id": "c_7",
                                                             "message_id": "m_7"}),
                     MessageGroupId="c_7", MessageDeduplicationId="m_7")

    assert redrive.post(sqs, dlq, "http://127.0.0.1:9/never", dry_run=True).moved == 1
    assert redrive.move(sqs, work, work, dry_run=True).moved == 1
    out = capsys.readouterr().out
    assert f"would post to http://127.0.0.1:9/never {sent['MessageId']}" in out
    assert '"ErrorMessage": "the endpoint answered 500"' in out and "ses-1" in out      # why, and which mail
    assert "anna@example.com" not in out and "Your order" not in out and "[email]" in out   # whose: scrubbed
    assert "group c_7" in out and '"conversation_id": "c_7"' in out                    # ids stay
    assert len(_left(sqs, dlq)) == 1 and len(_left(sqs, work)) == 1                     # nothing changed


def test_a_poison_message_is_discarded_by_its_id_and_printed_and_the_rest_stays(sqs, capsys):
    dlq = _fifo(sqs, "out-dlq")
    ids = [sqs.send_message(QueueUrl=dlq, MessageBody=body, MessageGroupId=group, MessageDeduplicationId=dedup)
           ["MessageId"] for body, group, dedup in [("{not json", "c_1", "p"), ('{"n": 2}', "c_2", "a"),
                                                    ('{"n": 3}', "c_3", "b")]]
    done, missing = redrive.discard(sqs, dlq, [ids[0], "no-such-id"])
    assert (done, missing) == ([ids[0]], ["no-such-id"])
    out = capsys.readouterr().out
    assert f"discarded {ids[0]}  group c_1" in out and "body: {not json" in out          # the audit
    assert sorted(n for _, n in _drain(sqs, dlq)) == [2, 3]


def test_a_queue_with_nothing_to_redrive_is_purged_after_being_shown_and_a_work_queue_is_not(sqs, capsys,
                                                                                           moto_endpoint):
    stage = f"t{uuid.uuid4().hex[:6]}"
    failures = sqs.create_queue(QueueName=f"shopdesk-{stage}-live-failures")["QueueUrl"]
    for n in range(12):
        sqs.send_message(QueueUrl=failures, MessageBody=json.dumps(
            {"requestContext": {"condition": "RetryAttemptsExhausted", "functionError": "Unhandled"},
             "DDBStreamBatchInfo": {"shardId": "shard-1", "startSequenceNumber": str(n)}}))
    local = ["--endpoint-url", moto_endpoint, "--stage", stage, "--region", "us-east-1"]

    assert redrive.main(["--queue", "live-failures", *local]) == 0            # nothing to redrive: says so
    out = capsys.readouterr().out
    assert "nothing to redrive" in out and "12 waiting" in out and "--purge" in out
    assert _visible(sqs, failures) == 12                                      # shown, put back

    assert redrive.main(["--queue", "live-failures", "--purge", *local]) == 0
    out = capsys.readouterr().out
    assert out.count("purged ") == 13 and "RetryAttemptsExhausted" in out and "live-failures: purged 12" in out
    assert _visible(sqs, failures) == 0
    with pytest.raises(SystemExit):
        redrive.main(["--queue", "work", "--purge", *local])
    assert "--discard" in capsys.readouterr().err


def test_email_receipts_sns_could_not_deliver_are_posted_to_the_webhook_again(sqs):
    from http.server import BaseHTTPRequestHandler

    from tests.support import LoopbackServer

    got: list[tuple[str, str, bytes]] = []
    answers = [200, 500]

    class Webhook(BaseHTTPRequestHandler):
        def do_POST(self):
            got.append((self.path, self.headers["x-amz-sns-message-type"],
                        self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(answers.pop(0))
            self.end_headers()

        def log_message(self, *args):
            pass

    server = LoopbackServer()
    server.serve(Webhook, poll_interval=0.05)
    try:
        dlq = _standard(sqs, "email-events-dlq")
        envelope = json.dumps({"Type": "Notification", "MessageId": "sns-9", "TopicArn": "arn:x", "Message": "{}",
                               "Signature": "c2ln"})
        sqs.send_message(QueueUrl=dlq, MessageBody=envelope)
        sqs.send_message(QueueUrl=dlq, MessageBody=envelope.replace("sns-9", "sns-10"))
        result = redrive.post(sqs, dlq, f"{server.url}/webhooks/email/sns")
    finally:
        server.close()
    assert (result.moved, result.failed) == (1, 1)                 # the one the webhook refused stays
    assert [(p, t) for p, t, _ in got] == [("/webhooks/email/sns", "Notification")] * 2
    assert json.loads(got[0][2])["Signature"] == "c2ln"              # the signed envelope, as SNS sent it
    sqs.set_queue_attributes(QueueUrl=dlq, Attributes={"VisibilityTimeout": "0"})
