"""The raw mail SES stored, whichever way its notice came, goes with the customer's erase and is in their export; and
an erase whose file deletes S3 refused is not done."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from shopdesk.dal.aws import client
from tests.integration.test_email import EVENTS_TOPIC, _deliver, _eml, _post_sns, signer  # noqa: F401 (signer: a fixture)
from tests.integration.test_privacy import admin, run_jobs, scan
from tests.integration.test_privacy_mail_source import _archive, _inbound, _raw
from tests.integration.test_unsupported_items import _records
from tests.support import sqs_event


def _customer(desk: Any, address: str) -> str:
    return desk.item(f"IDENTITY#email#{address}")["customer_id"]


def _erase(desk: Any, customer: str) -> dict[str, Any]:
    status, started = admin(desk, "POST", f"/admin/customers/{customer}/erase")
    assert status == 202, started
    run_jobs(desk)
    return admin(desk, "GET", f"/admin/privacy/jobs/{started['job_id']}")[1]


def test_a_mail_told_over_sns_with_its_s3_location_is_exported_and_erased(desk, signer):  # noqa: F811
    sign, pem = signer
    bucket = desk.env["MAIL_BUCKET"]
    # Given a mail the receipt rule's S3 action stored, told to the email function by SNS (the notice names the bucket
    # and the key, not the content), and another customer's mail stored alike
    for ses_id, sender in (("sesid-lee-1", "Lee <lee@customer.example>"),
                           ("sesid-max-1", "Max <max@customer.example>")):
        raw = _eml(sender=sender, subject="Parcel", body="Where is my parcel?\n", message_id=f"<{ses_id}@x.example>")
        desk.client("s3").put_object(Bucket=bucket, Key=f"raw/{ses_id}", Body=raw)
        received = {"notificationType": "Received",
                    "mail": {"messageId": ses_id, "destination": ["support@shop.example"]},
                    "receipt": {"recipients": ["support@shop.example"],
                                "action": {"type": "S3", "bucketName": bucket, "objectKeyPrefix": "raw/",
                                           "objectKey": f"raw/{ses_id}",
                                           "topicArn": "arn:aws:sns:us-east-1:1:in"}}}
        envelope = sign({"Type": "Notification", "MessageId": f"n-{ses_id}", "TopicArn": EVENTS_TOPIC,
                         "Message": json.dumps(received), "Timestamp": "2026-11-22T22:00:00.000Z"})
        assert _post_sns(desk, envelope, pem)["statusCode"] == 200
    # Then the message names where its mail is, as a mail told by the bucket's event does
    lee, _max = _inbound(desk)
    assert lee["payload"]["source"] == {"bucket": bucket, "key": "raw/sesid-lee-1"}
    # And the customer's export holds it, and their erase takes it away; the other customer's mail stays
    customer = _customer(desk, "lee@customer.example")
    assert "files/raw/sesid-lee-1.eml" in _archive(desk, customer).namelist()
    assert _erase(desk, customer)["status"] == "done"
    assert _raw(desk, bucket) == {"raw/sesid-max-1"}


def test_a_mail_kept_as_unsupported_goes_with_the_erase_of_the_customer_it_names(desk):
    bucket = desk.env["MAIL_BUCKET"]
    # Given a customer who mailed the shop, then a mail with no From that names them (kept as unsupported: its copy
    # says where SES stored it), and one that names no one
    assert _deliver(desk, _eml(sender="Lee <lee@customer.example>", message_id="<u1@customer.example>"), "u1")[
        "stored"] == 1
    nameless = b"To: support@shop.example\r\nReply-To: lee@customer.example\r\nSubject: again\r\n\r\nmy order?\r\n"
    _deliver(desk, nameless, "u2")
    _deliver(desk, b"To: support@shop.example\r\nSubject: who\r\n\r\nhello\r\n", "u3")
    assert sorted(i["raw"]["key"] for r in _records(desk) for i in r["items"]) == ["raw/u2", "raw/u3"]
    customer = _customer(desk, "lee@customer.example")
    # When an admin exports the customer, then erases them
    assert "files/raw/u2.eml" in _archive(desk, customer).namelist()
    assert _erase(desk, customer)["status"] == "done"
    # Then the unsupported mail's raw copy is gone with theirs; the one naming no one stays
    assert _raw(desk, bucket) == {"raw/u3"}


def test_a_mail_kept_as_unsupported_is_written_again_masked_in_the_mail_bucket(desk):
    from email import policy
    from email.parser import BytesParser

    from tests.integration.test_privacy import _deliver_notice
    s3, bucket = desk.client("s3"), desk.env["MAIL_BUCKET"]
    # Given a mail with no From (kept as unsupported) whose body holds a card number and an IBAN
    nameless = (b"To: support@shop.example\r\nReply-To: lee@customer.example\r\nSubject: refund\r\n\r\n"
                b"Refund to my card 4111 1111 1111 1111 or IBAN NL91 ABNA 0417 1643 00 please\r\n")
    assert _deliver(desk, nameless, "um1") == {"stored": 0, "duplicates": 0}
    [record] = _records(desk)
    assert [i["raw"]["key"] for i in record["items"]] == ["raw/um1"]
    # Then the mail SES stored is the same mail with both masked, marked as written by us, as a supported one's is
    stored = s3.get_object(Bucket=bucket, Key="raw/um1")
    body = BytesParser(policy=policy.default).parsebytes(stored["Body"].read()).get_body(("plain",)).get_content()
    assert "[card •••• 1111]" in body and "[IBAN •••• 4300]" in body, body
    assert "4111 1111 1111 1111" not in body and "NL91 ABNA" not in body
    assert stored["Metadata"] == {"shopdesk-masked": "1"}
    # and its record in the table holds neither
    everything = json.dumps(scan(desk), default=str)
    assert "4111 1111 1111 1111" not in everything and "NL91 ABNA" not in everything
    # And the notice of the rewrite keeps nothing again (one record, one item)
    assert _deliver_notice(desk, "um1") == {"stored": 0, "duplicates": 0}
    assert [len(r["items"]) for r in _records(desk)] == [1]


@pytest.fixture
def refused_deletes() -> Iterator[dict[str, Any]]:
    """S3 refusing to delete some keys in a DeleteObjects (AccessDenied in the answer's ``Errors``, the request
    itself 200), on the functions' own S3 client: ``keys`` is the set refused, ``calls`` the requests seen."""
    state: dict[str, Any] = {"keys": set(), "calls": 0}

    def keep(params: dict[str, Any], **_: Any) -> None:
        state["calls"] += 1
        objects = params["Delete"]["Objects"]
        state["refused"] = [o["Key"] for o in objects if o["Key"] in state["keys"]]
        params["Delete"]["Objects"] = [o for o in objects if o["Key"] not in state["keys"]] or [{"Key": "none/x"}]

    def answer(parsed: dict[str, Any], **_: Any) -> None:
        parsed["Errors"] = [{"Key": key, "Code": "AccessDenied", "Message": "Access Denied"}
                            for key in state.pop("refused", [])]

    events = client("s3").meta.events
    events.register("before-parameter-build.s3.DeleteObjects", keep, unique_id="refused-deletes-params")
    events.register("after-call.s3.DeleteObjects", answer, unique_id="refused-deletes-answer")
    try:
        yield state
    finally:
        events.unregister("before-parameter-build.s3.DeleteObjects", unique_id="refused-deletes-params")
        events.unregister("after-call.s3.DeleteObjects", unique_id="refused-deletes-answer")


def test_an_erase_whose_delete_s3_refused_for_one_key_is_not_done_and_runs_again(desk, refused_deletes):
    bucket = desk.env["MAIL_BUCKET"]
    # Given a customer's two mails
    for key in ("e1", "e2"):
        assert _deliver(desk, _eml(sender="Lee <lee@customer.example>", message_id=f"<{key}@customer.example>"),
                        key)["stored"] == 1
    customer = _customer(desk, "lee@customer.example")
    # When their erase runs while S3 refuses to delete one of them
    refused_deletes["keys"] = {"raw/e2"}
    status, started = admin(desk, "POST", f"/admin/customers/{customer}/erase")
    assert status == 202, started
    sqs, queue = desk.client("sqs"), desk.env["PRIVACY_QUEUE_URL"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    [message] = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10,
                                    MessageSystemAttributeNames=["All"])["Messages"]
    result = desk.invoke("privacy", sqs_event([message], arn))
    # Then the attempt fails (the queue gives it again), the job is not done, and the customer is still there
    assert refused_deletes["calls"] and result["batchItemFailures"] == [{"itemIdentifier": message["MessageId"]}]
    job = admin(desk, "GET", f"/admin/privacy/jobs/{started['job_id']}")[1]
    assert job["status"] == "running", job
    assert _raw(desk, bucket) == {"raw/e2"} and desk.item(f"CUSTOMER#{customer}") is not None
    # And when S3 deletes again, the next attempt erases the rest and is done
    refused_deletes["keys"] = set()
    sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    run_jobs(desk)
    job = admin(desk, "GET", f"/admin/privacy/jobs/{started['job_id']}")[1]
    assert job["status"] == "done", job
    assert _raw(desk, bucket) == set() and desk.item(f"CUSTOMER#{customer}") is None
    assert not [i for i in scan(desk) if i.get("type") == "message"]


def test_an_erase_s3_keeps_refusing_fails_on_its_last_attempt_and_says_why(desk, refused_deletes):
    bucket = desk.env["MAIL_BUCKET"]
    assert _deliver(desk, _eml(sender="Lee <lee@customer.example>", message_id="<f1@customer.example>"),
                    "f1")["stored"] == 1
    customer = _customer(desk, "lee@customer.example")
    refused_deletes["keys"] = {"raw/f1"}
    status, started = admin(desk, "POST", f"/admin/customers/{customer}/erase")
    assert status == 202, started
    sqs, queue = desk.client("sqs"), desk.env["PRIVACY_QUEUE_URL"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    # When every attempt the queue gives is refused
    for _ in range(5):
        [message] = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10,
                                        MessageSystemAttributeNames=["All"])["Messages"]
        desk.invoke("privacy", sqs_event([message], arn))
        sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    # Then the job failed, saying why, and the mail is still there to erase again
    job = admin(desk, "GET", f"/admin/privacy/jobs/{started['job_id']}")[1]
    assert job["status"] == "failed" and "FilesNotDeleted" in job["error"], job
    assert _raw(desk, bucket) == {"raw/f1"}


def _look(job: dict[str, Any]) -> dict[str, Any]:
    """The job's ``last_look`` as given, without the fields it leaves empty."""
    return {k: v for k, v in (job.get("last_look") or {}).items() if v is not None}


def test_an_erase_whose_last_look_at_uploads_keeps_failing_says_it_is_not_complete_until_a_redrive(desk,
                                                                                                    refused_deletes):
    from shopdesk import clock
    from shopdesk.privacy.jobs import UPLOADS_SECONDS
    from tests.integration.test_csat import _SCHEDULED
    media = desk.env["MEDIA_BUCKET"]
    # Given a customer's erase, done, its last look at the conversation's uploads to come
    assert _deliver(desk, _eml(sender="Lee <lee@customer.example>", message_id="<l1@customer.example>"),
                    "l1")["stored"] == 1
    customer = _customer(desk, "lee@customer.example")
    [conv] = {i["PK"].removeprefix("CONV#") for i in scan(desk) if i["PK"].startswith("CONV#")}
    job = _erase(desk, customer)
    finished = clock.parse_iso(job["finished_at"])
    assert job["status"] == "done" and _look(job) == {
        "status": "pending", "due_at": clock.iso(finished + timedelta(seconds=UPLOADS_SECONDS))}, job
    # and a file an agent's link put under the conversation after it, which S3 will not delete
    late = f"media/outbound/{conv}/alice/late.png"
    desk.client("s3").put_object(Bucket=media, Key=late, Body=b"Lee's label")
    refused_deletes["keys"] = {late}
    # When the sweep queues the last look once no link can be used, and every attempt the queue gives fails
    clock.set_offset(UPLOADS_SECONDS + 60)
    desk.invoke("sla_sweep", _SCHEDULED)
    sqs, queue = desk.client("sqs"), desk.env["PRIVACY_QUEUE_URL"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    for attempt in range(1, 6):
        [message] = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10,
                                        MessageSystemAttributeNames=["All"])["Messages"]
        assert json.loads(message["Body"]) == {"job_id": job["job_id"], "uploads": True}
        result = desk.invoke("privacy", sqs_event([message], arn))
        assert result["batchItemFailures"] == [{"itemIdentifier": message["MessageId"]}]
        sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
        seen = admin(desk, "GET", f"/admin/privacy/jobs/{job['job_id']}")[1]
        assert seen["status"] == "done" and seen["last_look"]["status"] == ("failed" if attempt == 5 else "pending")
    # Then the job says the erase is not complete (its status stays done), and why; so does the audit trail
    look = _look(seen)
    assert set(look) == {"status", "finished_at", "error"}, look
    assert "FilesNotDeleted" in look["error"] and "5 attempts" in look["error"], look
    assert {k: v for k, v in seen.items() if k != "last_look"} == {k: v for k, v in job.items() if k != "last_look"}
    trail = admin(desk, "GET", "/admin/audit", query=f"customer_id={customer}")[1]["items"]
    [failed] = [r for r in trail if r["action"] == "customer.erase.last_look.failed"]
    assert failed["actor"] == "system:privacy" and failed["details"]["error"] == "FilesNotDeleted", failed
    assert late in {o["Key"] for o in desk.client("s3").list_objects_v2(Bucket=media).get("Contents", [])}
    # And when S3 deletes again and the operator redrives the message, the last look is done and the file gone
    refused_deletes["keys"] = set()
    sqs.send_message(QueueUrl=queue, MessageBody=message["Body"], MessageGroupId=customer,
                     MessageDeduplicationId=f"{job['job_id']}-redriven")
    run_jobs(desk)
    seen = admin(desk, "GET", f"/admin/privacy/jobs/{job['job_id']}")[1]
    assert _look(seen) == {"status": "done", "finished_at": _look(seen)["finished_at"], "files": 1}, seen
    assert late not in {o["Key"] for o in desk.client("s3").list_objects_v2(Bucket=media).get("Contents", [])}
    trail = admin(desk, "GET", "/admin/audit", query=f"customer_id={customer}")[1]["items"]
    assert [r["details"]["files"] for r in trail if r["action"] == "customer.erase.last_look"] == [1]
    # And a second delivery of the done look (an SQS duplicate past its deduplication, a redrive) keeps the first
    # look's result and writes no second record
    sqs.send_message(QueueUrl=queue, MessageBody=message["Body"], MessageGroupId=customer,
                     MessageDeduplicationId=f"{job['job_id']}-again")
    run_jobs(desk)
    again = admin(desk, "GET", f"/admin/privacy/jobs/{job['job_id']}")[1]
    assert _look(again) == _look(seen), again
    trail = admin(desk, "GET", "/admin/audit", query=f"customer_id={customer}")[1]["items"]
    assert [r["details"]["files"] for r in trail if r["action"] == "customer.erase.last_look"] == [1]


def test_an_erase_whose_last_look_s_last_attempt_is_killed_says_it_is_overdue_not_pending(desk, refused_deletes):
    from shopdesk import clock
    from shopdesk.privacy.jobs import LOOK_OVERDUE_SECONDS, UPLOADS_SECONDS
    from tests.integration.test_csat import _SCHEDULED
    media = desk.env["MEDIA_BUCKET"]
    # Given a customer's erase, done, and a file an agent's link put under its conversation after it, which S3 will
    # not delete
    assert _deliver(desk, _eml(sender="Kim <kim@customer.example>", message_id="<k1@customer.example>"),
                    "k1")["stored"] == 1
    customer = _customer(desk, "kim@customer.example")
    [conv] = {i["PK"].removeprefix("CONV#") for i in scan(desk) if i["PK"].startswith("CONV#")}
    job = _erase(desk, customer)
    due = _look(job)["due_at"]
    late = f"media/outbound/{conv}/alice/late.png"
    desk.client("s3").put_object(Bucket=media, Key=late, Body=b"Kim's label")
    refused_deletes["keys"] = {late}
    # When the sweep queues its last look, four attempts fail and the fifth is killed (out of time) before it can
    # say so: the queue takes the message off to its dead-letter queue all the same
    clock.set_offset(UPLOADS_SECONDS + 60)
    desk.invoke("sla_sweep", _SCHEDULED)
    sqs, queue = desk.client("sqs"), desk.env["PRIVACY_QUEUE_URL"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    for attempt in range(1, 6):
        [message] = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10,
                                        MessageSystemAttributeNames=["All"])["Messages"]
        if attempt < 5:
            result = desk.invoke("privacy", sqs_event([message], arn))
            assert result["batchItemFailures"] == [{"itemIdentifier": message["MessageId"]}]
        sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    # Then while the queue's attempts may still be going it is pending
    clock.set_offset(UPLOADS_SECONDS + 1800)
    seen = admin(desk, "GET", f"/admin/privacy/jobs/{job['job_id']}")[1]
    assert (seen["status"], _look(seen)) == ("done", {"status": "pending", "due_at": due}), seen
    # and an hour past its due time it says it is overdue (not complete), with when it was due, not pending for good
    clock.set_offset(UPLOADS_SECONDS + LOOK_OVERDUE_SECONDS + 60)
    seen = admin(desk, "GET", f"/admin/privacy/jobs/{job['job_id']}")[1]
    assert (seen["status"], _look(seen)) == ("done", {"status": "overdue", "due_at": due}), seen
    # And once the operator redrives it and S3 deletes again, it is done
    refused_deletes["keys"] = set()
    sqs.send_message(QueueUrl=queue, MessageBody=message["Body"], MessageGroupId=customer,
                     MessageDeduplicationId=f"{job['job_id']}-redriven")
    run_jobs(desk)
    seen = admin(desk, "GET", f"/admin/privacy/jobs/{job['job_id']}")[1]
    assert _look(seen) == {"status": "done", "finished_at": _look(seen)["finished_at"], "files": 1}, seen
