"""SES: receipt notifications, delivery receipts, raw MIME replies, and the sender (moto / Stubber)."""

from __future__ import annotations

import base64
import email
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from email import policy
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from shopdesk.channels import ses
from shopdesk.channels.base import Media, OutboundRequest
from shopdesk.channels.email import parse_email
from shopdesk.errors import BadRequest, ProviderError
from shopdesk.models.message import StatusUpdate

MAIL = {"timestamp": "2026-11-22T20:32:33.936Z", "source": "support@shop.example",
        "messageId": "0100018e2f3a4b5c-ses-1", "destination": ["anna@example.com"]}
RAW = b"From: Anna <anna@example.com>\r\nTo: support@shop.example\r\nSubject: Hi\r\n" \
      b"Message-ID: <a-1@example.com>\r\n\r\nHallo \xc3\xa4\r\n"


def received(action: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"notificationType": "Received", "mail": MAIL,
            "receipt": {"timestamp": "2026-11-22T20:32:33.936Z", "recipients": ["Support@Shop.Example"],
                        "spamVerdict": {"status": "FAIL"}, "virusVerdict": {"status": "PASS"},
                        "action": action}, **extra}


# ------------------------------------------------------------------------------- received

def test_received_with_s3_action() -> None:
    result = ses.parse_ses_notification(received(
        {"type": "S3", "topicArn": "arn:aws:sns:eu-west-1:1:t", "bucketName": "inbound-mail",
         "objectKeyPrefix": "mail/", "objectKey": "mail/0100018e2f3a4b5c-ses-1"}))
    assert isinstance(result, ses.ReceivedEmail)
    assert result.ses_message_id == "0100018e2f3a4b5c-ses-1"
    assert result.s3 == ses.S3Location("inbound-mail", "mail/0100018e2f3a4b5c-ses-1")
    assert result.content is None and result.action == "S3"
    assert result.recipients == ("support@shop.example",)
    assert result.is_spam and not result.has_virus
    assert result.topic_arn == "arn:aws:sns:eu-west-1:1:t"


def test_received_s3_action_without_object_key_uses_prefix_and_id() -> None:
    result = ses.parse_ses_notification(received({"type": "S3", "bucketName": "b", "objectKeyPrefix": "in/"}))
    assert result.s3 == ses.S3Location("b", "in/0100018e2f3a4b5c-ses-1")


def test_received_with_sns_action_utf8() -> None:
    result = ses.parse_ses_notification(received({"type": "SNS", "topicArn": "t", "encoding": "UTF8"},
                                                 content=RAW.decode()))
    assert result.content == RAW and result.s3 is None
    assert parse_email(result.content).message.text == "Hallo ä"


def test_received_with_sns_action_base64() -> None:
    latin1 = RAW.replace(b"\xc3\xa4", b"\xe4").replace(b"Subject: Hi", b"Content-Type: text/plain; charset=latin-1")
    result = ses.parse_ses_notification(received({"type": "SNS", "encoding": "BASE64"},
                                                 content=base64.b64encode(latin1).decode()))
    assert result.content == latin1                                  # 8-bit bytes survive Base64
    assert parse_email(result.content).message.text == "Hallo ä"


def test_received_as_json_text() -> None:
    text = json.dumps(received({"type": "SNS"}, content="From: a@example.com\r\n\r\nx"))
    assert ses.parse_ses_notification(text).content == b"From: a@example.com\r\n\r\nx"
    assert ses.parse_ses_notification(text.encode()).content == b"From: a@example.com\r\n\r\nx"


def test_received_without_message_id_is_bad_request() -> None:
    with pytest.raises(BadRequest):
        ses.parse_ses_notification({"notificationType": "Received", "mail": {}, "receipt": {}})


def test_invalid_base64_content_is_bad_request() -> None:
    with pytest.raises(BadRequest):
        ses.parse_ses_notification(received({"type": "SNS", "encoding": "BASE64"}, content="@@@@="))


@pytest.mark.parametrize("body", ["not json", "[]", b"\xff", 42])
def test_notification_must_be_an_object(body: Any) -> None:
    with pytest.raises(BadRequest):
        ses.parse_ses_notification(body)


def test_notification_from_sns_envelope() -> None:
    assert ses.notification_from_sns({"Message": '{"notificationType": "Delivery"}'}) == {
        "notificationType": "Delivery"}
    for envelope in ({}, {"Message": "not json"}, {"Message": "[1]"}, {"Message": 5}):
        with pytest.raises(BadRequest):
            ses.notification_from_sns(envelope)


# ------------------------------------------------------------------------------- lambda action

def test_lambda_action_event_with_bucket_configuration() -> None:
    event = {"Records": [
        {"eventSource": "aws:ses", "eventVersion": "1.0", "ses": {
            "mail": MAIL, "receipt": {"recipients": ["support@shop.example"],
                                      "action": {"type": "Lambda", "functionArn": "arn:...", "invocationType":
                                                 "Event"}}}},
        {"eventSource": "aws:sqs", "body": "ignored"},
    ]}
    [result] = ses.parse_ses_lambda_event(event, bucket="inbound-mail", key_prefix="mail/")
    assert result.action == "Lambda"
    assert result.s3 == ses.S3Location("inbound-mail", "mail/0100018e2f3a4b5c-ses-1")
    [bare] = ses.parse_ses_lambda_event(event)
    assert bare.s3 is None and bare.content is None


def test_lambda_event_must_be_an_object() -> None:
    with pytest.raises(BadRequest):
        ses.parse_ses_lambda_event([])  # type: ignore[arg-type]
    assert ses.parse_ses_lambda_event({}) == []


# ------------------------------------------------------------------------------- receipts

def bounce(kind: str, sub: str, **recipient: Any) -> dict[str, Any]:
    return {"notificationType": "Bounce", "mail": MAIL, "bounce": {
        "bounceType": kind, "bounceSubType": sub, "timestamp": "2026-11-22T20:33:00.000Z",
        "feedbackId": "0000-1", "reportingMTA": "dns; mx.example.com",
        "bouncedRecipients": [{"emailAddress": "anna@example.com", **recipient}]}}


def test_permanent_bounce() -> None:
    update = ses.parse_ses_notification(bounce("Permanent", "General", status="5.1.1", action="failed",
                                               diagnosticCode="smtp; 550 5.1.1 <anna@example.com>... User"))
    assert update == StatusUpdate(provider="email", provider_id="0100018e2f3a4b5c-ses-1", status="failed",
                                  error=update.error)
    assert update.error.code == "Permanent/General"
    assert update.error.message == ("The customer's mail server permanently rejected the address "
                                    "(smtp; 550 5.1.1 <anna@example.com>... User)")


def test_permanent_no_email_and_suppressed() -> None:
    assert ses.parse_ses_notification(bounce("Permanent", "NoEmail")).error.message == \
        "The customer's email address does not exist"
    suppressed = ses.parse_ses_notification(bounce("Permanent", "OnAccountSuppressionList"))
    assert suppressed.error.code == "Permanent/OnAccountSuppressionList"
    assert "suppression list" in suppressed.error.message


def test_transient_bounce() -> None:
    update = ses.parse_ses_notification(bounce("Transient", "MailboxFull", status="4.2.2"))
    assert update.status == "failed"
    assert update.error.code == "Transient/MailboxFull"
    assert update.error.message == "The customer's mailbox is full (4.2.2)"


def test_unknown_bounce_subtype_falls_back_to_the_type() -> None:
    update = ses.parse_ses_notification(bounce("Transient", "SomethingNew"))
    assert update.error.code == "Transient/SomethingNew"
    assert update.error.message == "The customer's mail server refused the message for now"
    undetermined = ses.parse_ses_notification({"notificationType": "Bounce", "mail": MAIL, "bounce": {}})
    assert undetermined.error.code == "Undetermined/Undetermined"


def test_complaint() -> None:
    update = ses.parse_ses_notification({"notificationType": "Complaint", "mail": MAIL, "complaint": {
        "complainedRecipients": [{"emailAddress": "anna@example.com"}], "timestamp": "2026-11-22T21:00:00Z",
        "feedbackId": "f-1", "complaintFeedbackType": "abuse", "userAgent": "ExampleCorp Feedback Loop"}})
    assert update.status == "failed"                    # the issue: bounces and complaints mark the reply failed
    assert update.error.code == "complaint"
    assert update.error.message.startswith("The customer marked the email as spam") and "abuse" in update.error.message


def test_complaint_suppressed_send_failed() -> None:
    update = ses.parse_ses_notification({"notificationType": "Complaint", "mail": MAIL, "complaint": {
        "complainedRecipients": [{"emailAddress": "anna@example.com"}], "complaintSubType":
            "OnAccountSuppressionList"}})
    assert update.status == "failed" and update.error.code == "complaint"


def test_delivery() -> None:
    update = ses.parse_ses_notification({"notificationType": "Delivery", "mail": MAIL, "delivery": {
        "timestamp": "2026-11-22T20:32:35Z", "processingTimeMillis": 546, "recipients": ["anna@example.com"],
        "smtpResponse": "250 ok:  Message 64111812 accepted", "reportingMTA": "a8-70.smtp-out.amazonses.com"}})
    assert update == StatusUpdate(provider="email", provider_id="0100018e2f3a4b5c-ses-1", status="delivered")


def test_event_publishing_shapes() -> None:
    assert ses.parse_ses_notification({"eventType": "Delivery", "mail": MAIL, "delivery": {}}).status == "delivered"
    assert ses.parse_ses_notification({"eventType": "Bounce", "mail": MAIL, "bounce": {
        "bounceType": "Permanent", "bounceSubType": "General"}}).status == "failed"
    reject = ses.parse_ses_notification({"eventType": "Reject", "mail": MAIL, "reject": {"reason": "Bad content"}})
    assert (reject.status, reject.error.code) == ("failed", "rejected")
    assert "Bad content" in reject.error.message


@pytest.mark.parametrize("kind", ["Send", "Open", "Click", "DeliveryDelay", "Subscription",
                                  "AmazonSnsSubscriptionSucceeded", "SomethingNew"])
def test_other_events_are_acknowledged_without_a_result(kind: str) -> None:
    assert ses.parse_ses_notification({"eventType": kind, "mail": MAIL}) is None
    assert ses.parse_ses_notification({"notificationType": kind, "mail": MAIL}) is None


def test_receipt_without_message_id_is_bad_request() -> None:
    with pytest.raises(BadRequest):
        ses.parse_ses_notification({"notificationType": "Delivery", "mail": {}})


# ------------------------------------------------------------------------------- raw MIME

def reply(**fields: Any) -> OutboundRequest:
    base: dict[str, Any] = {"channel": "email", "to": "anna@example.com", "sender": "support@shop.example",
                            "text": "Hello Anna,\n\nyour parcel left today.", "subject": "Your order 123",
                            "in_reply_to": "<CAGmail-1@mail.gmail.com>",
                            "references": ("first-1@example.com", "<second-1@example.com>"),
                            "reply_address": "reply+8f14e45f@shop.example"}
    return OutboundRequest(**{**base, **fields})


def build(req: OutboundRequest, **kwargs: Any) -> email.message.EmailMessage:
    raw = ses.build_raw_email(req, from_address="Shop Support <support@shop.example>",
                              message_id_domain="shop.example", **kwargs)
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")       # CRLF only
    return email.message_from_bytes(raw, policy=policy.default)


def content(msg: email.message.EmailMessage) -> str:
    return msg.get_content().replace("\r\n", "\n")


def test_reply_headers() -> None:
    msg = build(reply())
    assert msg["From"] == "Shop Support <support@shop.example>"
    assert msg["To"] == "anna@example.com"
    assert msg["Subject"] == "Re: Your order 123"
    assert msg["In-Reply-To"] == "<CAGmail-1@mail.gmail.com>"
    assert msg["References"].split() == ["<first-1@example.com>", "<second-1@example.com>",
                                         "<CAGmail-1@mail.gmail.com>"]
    assert msg["Reply-To"] == "reply+8f14e45f@shop.example"
    assert msg["Message-ID"].endswith("@shop.example>")
    assert msg["Date"]
    assert msg["Auto-Submitted"] is None                # an agent's answer is human
    assert msg.get_content_type() == "text/plain" and msg.get_content_charset() == "utf-8"
    assert msg["Content-Transfer-Encoding"] == "7bit"
    assert content(msg) == "Hello Anna,\n\nyour parcel left today.\n"


@pytest.mark.parametrize(("kind", "header"), [("acknowledgement", "auto-replied"), ("bot", "auto-replied"),
                                                ("csat_survey", "auto-generated"), ("text", None)])
def test_what_shopdesk_writes_by_itself_says_so_and_asks_for_no_out_of_office(kind: str, header: str | None) -> None:
    from shopdesk.logic.dispatch import outbound_request
    from shopdesk.models import Message
    from shopdesk.models.message import Direction
    stored = Message(id="m1", conversation_id="c1", direction=Direction.OUTBOUND, channel="email", kind=kind,
                     text="We will reply today by 3 PM.", to="anna@example.com", sender="support@shop.example",
                     subject="Your order", author=None if kind != "text" else "alice",
                     created_at=datetime(2026, 12, 6, 9, tzinfo=UTC))
    msg = build(outbound_request(stored, None))
    assert msg["Auto-Submitted"] == header
    assert msg["X-Auto-Response-Suppress"] == ("All" if header else None)


@pytest.mark.parametrize(("subject", "expected"), [
    ("Re: Your order", "Re: Your order"),
    ("RE: Your order", "RE: Your order"),
    ("AW: Ihre Bestellung", "AW: Ihre Bestellung"),
    ("Your order", "Re: Your order"),
    ("  Your\r\n order ", "Re: Your order"),
    (None, "Re:"),
    ("Fwd: Your order", "Re: Fwd: Your order"),
])
def test_reply_subject(subject: str | None, expected: str) -> None:
    assert build(reply(subject=subject))["Subject"] == expected


def test_first_message_keeps_the_subject_and_has_no_threading() -> None:
    msg = build(reply(in_reply_to=None, references=(), subject="Your return"))
    assert msg["Subject"] == "Your return"
    assert msg["In-Reply-To"] is None and msg["References"] is None


def test_no_reply_to_without_reply_address() -> None:
    assert build(reply(reply_address=None))["Reply-To"] is None


def test_non_ascii_is_quoted_printable_and_round_trips() -> None:
    req = reply(text="Grüße aus Köln — danke! 😀", subject="Bestellung ärger", to="Jürgen <j@example.com>")
    raw = ses.build_raw_email(req, from_address="Shöp <support@shop.example>", message_id_domain="shop.example")
    assert raw.isascii()
    assert b"Content-Transfer-Encoding: quoted-printable" in raw
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert content(msg) == "Grüße aus Köln — danke! 😀\n"
    assert msg["Subject"] == "Re: Bestellung ärger"
    assert msg["To"] == "Jürgen <j@example.com>"
    # and our own inbound parser reads it back
    parsed = parse_email(raw, shop_addresses=["support@shop.example"]).message
    assert parsed.text == "Grüße aus Köln — danke! 😀"
    assert parsed.email.in_reply_to == ["CAGmail-1@mail.gmail.com"]
    assert parsed.email.auto_submitted is True           # From our address with Reply-To ours: a loop


def test_long_ascii_lines_are_quoted_printable() -> None:
    msg = build(reply(text="x" * 1200))
    assert msg["Content-Transfer-Encoding"] == "quoted-printable"
    assert content(msg) == "x" * 1200 + "\n"


def test_media_urls_are_listed_as_links() -> None:
    msg = build(reply(media_urls=("https://files.shop.example/a.pdf", "https://files.shop.example/b.jpg")))
    assert content(msg).endswith(
        "\n\nAttachments:\n- https://files.shop.example/a.pdf\n- https://files.shop.example/b.jpg\n")
    only = build(reply(text=None, media_urls=("https://files.shop.example/a.pdf",)))
    assert content(only) == "Attachments:\n- https://files.shop.example/a.pdf\n"


def test_downloaded_files_are_attached() -> None:
    msg = build(reply(media_urls=("https://x.example/a.pdf",)),
                files=[Media(b"%PDF-1.4", "application/pdf", "Rechnung März.pdf")])
    assert msg.get_content_type() == "multipart/mixed"
    body, attachment = list(msg.iter_parts())
    assert "Attachments:" not in content(body)
    assert attachment.get_filename() == "Rechnung März.pdf"
    assert attachment.get_content() == b"%PDF-1.4"


def test_invalid_thread_ids_are_dropped() -> None:
    msg = build(reply(in_reply_to="<bad id with spaces>", references=("ok@example.com", "<<>>", "")))
    assert msg["In-Reply-To"] is None
    assert msg["References"].strip() == "<ok@example.com>"


def test_long_reference_chains_keep_first_and_latest() -> None:
    refs = tuple(f"r{i}@example.com" for i in range(50))
    ids = build(reply(references=refs))["References"].split()
    assert len(ids) == 20 and ids[0] == "<r0@example.com>" and ids[-1] == "<CAGmail-1@mail.gmail.com>"


@pytest.mark.parametrize("fields", [
    {"to": "anna@example.com\r\nBcc: victim@example.com"},
    {"to": "not an address"},
    {"reply_address": "x@example.com\nBcc: y@example.com"},
    {"text": "", "media_urls": ()},
    {"text": None},
])
def test_invalid_requests_are_bad_request(fields: dict[str, Any]) -> None:
    with pytest.raises(BadRequest):
        ses.build_raw_email(reply(**fields), from_address="support@shop.example", message_id_domain="shop.example")


def test_subject_cannot_inject_headers() -> None:
    msg = build(reply(subject="Hi\r\nBcc: victim@example.com"))
    assert msg["Bcc"] is None
    assert msg["Subject"] == "Re: Hi Bcc: victim@example.com"


# ------------------------------------------------------------------------------- error mapping

@pytest.mark.parametrize(("code", "message", "status", "retryable"), [
    ("ThrottlingException", "Maximum sending rate exceeded.", 400, True),
    ("Throttling", "Daily message quota exceeded.", 400, True),
    ("TooManyRequestsException", "Too many requests", 429, True),
    ("LimitExceededException", "Sending quota exceeded", 400, True),
    ("InternalFailure", "", 500, True),
    ("MessageRejected", "Email address is not verified. The following identities failed the check in region "
                        "EU-WEST-1: anna@example.com", 400, False),
    ("MailFromDomainNotVerifiedException", "MAIL FROM domain not verified", 400, False),
    ("AccountSuspendedException", "suspended", 400, False),
    ("SendingPausedException", "paused", 400, False),
    ("BadRequestException", "Illegal address", 400, False),
    ("NotFoundException", "Configuration set <x> does not exist.", 404, False),
])
def test_provider_error_mapping(code: str, message: str, status: int, retryable: bool) -> None:
    error = ses.provider_error(code, message, status)
    assert error.retryable is retryable
    assert error.code == code
    assert error.message


def test_quota_and_rate_errors_say_when_to_retry() -> None:
    assert ses.provider_error("Throttling", "Daily message quota exceeded.").retry_after == 600
    assert ses.provider_error("Throttling", "Maximum sending rate exceeded.").retry_after == 1
    unverified = ses.provider_error("MessageRejected", "Email address is not verified.")
    assert "unverified address" in unverified.message and "sandbox" in unverified.message


# ------------------------------------------------------------------------------- sender

@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from moto import mock_aws

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "eu-west-1"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


def _sent_raw() -> list[str]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return [m.raw_data for m in ses_backends[DEFAULT_ACCOUNT_ID]["eu-west-1"].sent_messages]


def test_sender_sends_raw_mime(aws: None) -> None:
    client = boto3.client("sesv2", region_name="eu-west-1")
    client.create_email_identity(EmailIdentity="shop.example")
    sender = ses.SesSender("Shop Support <support@shop.example>", client=client)
    result = sender.send(reply())
    assert result.provider_id and result.status == "accepted"
    [raw] = _sent_raw()
    msg = email.message_from_string(raw, policy=policy.default)
    assert msg["In-Reply-To"] == "<CAGmail-1@mail.gmail.com>"
    assert msg["From"] == "Shop Support <support@shop.example>"
    assert msg["Subject"] == "Re: Your order 123"


def test_sender_uses_the_mailbox_the_customer_wrote_to(aws: None) -> None:
    client = boto3.client("sesv2", region_name="eu-west-1")
    client.create_email_identity(EmailIdentity="shop.example")
    ses.SesSender("Shop Support <support@shop.example>", client=client,
                  shop_addresses=["shop.example"]).send(reply(sender="sales@shop.example"))
    [raw] = _sent_raw()
    assert email.message_from_string(raw, policy=policy.default)["From"] == "Shop Support <sales@shop.example>"


@pytest.mark.parametrize("stored_sender", ["friend@example.org", "sales@shop.example", "reply+c_1@shop.example",
                                           "Support@Shop.Example"])
def test_a_sender_that_is_not_ours_leaves_from_the_default_address(aws: None, stored_sender: str) -> None:
    # Given only the default address verified (SES rejects any other sender) and a reply whose
    # conversation names a mailbox that is not ours (stored before Bcc mail was understood)
    boto3.client("ses", region_name="eu-west-1").verify_email_identity(EmailAddress="support@shop.example")
    sender = ses.SesSender("Shop Support <support@shop.example>",
                           client=boto3.client("sesv2", region_name="eu-west-1"))
    # When it is sent, Then SES accepts it from the default address
    assert sender.send(reply(sender=stored_sender)).status == "accepted"
    [raw] = _sent_raw()
    assert email.message_from_string(raw, policy=policy.default)["From"] == "Shop Support <support@shop.example>"


def test_sender_with_v1_verified_address(aws: None) -> None:
    boto3.client("ses", region_name="eu-west-1").verify_email_identity(EmailAddress="support@shop.example")
    sender = ses.SesSender("support@shop.example", client=boto3.client("sesv2", region_name="eu-west-1"))
    assert sender.send(reply(sender="")).provider_id


def test_unverified_sender_is_not_retryable(aws: None) -> None:
    sender = ses.SesSender("support@shop.example", client=boto3.client("sesv2", region_name="eu-west-1"))
    with pytest.raises(ProviderError) as info:
        sender.send(reply())
    assert info.value.retryable is False
    assert info.value.code == "MessageRejected"
    assert "unverified address" in info.value.message


def test_invalid_request_is_not_retryable(aws: None) -> None:
    sender = ses.SesSender("support@shop.example", client=boto3.client("sesv2", region_name="eu-west-1"))
    with pytest.raises(ProviderError) as info:
        sender.send(reply(to="nobody"))
    assert (info.value.retryable, info.value.code) == (False, "invalid_request")


@pytest.mark.parametrize(("code", "message", "status", "retryable"), [
    ("ThrottlingException", "Maximum sending rate exceeded.", 400, True),
    ("TooManyRequestsException", "Daily message quota exceeded.", 429, True),
    ("MailFromDomainNotVerifiedException", "The MAIL FROM domain is not verified", 400, False),
    ("MessageRejected", "Email address is not verified.", 400, False),
])
def test_sender_maps_client_errors(monkeypatch: pytest.MonkeyPatch, code: str, message: str, status: int,
                                   retryable: bool) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    client = boto3.client("sesv2", region_name="eu-west-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")
    with Stubber(client) as stub:
        stub.add_client_error("send_email", service_error_code=code, service_message=message,
                              http_status_code=status)
        with pytest.raises(ProviderError) as info:
            ses.SesSender("support@shop.example", "shopdesk-replies", client=client).send(reply())
    assert info.value.retryable is retryable
    assert info.value.code == code
    assert info.value.http_status == status


def test_sender_passes_the_configuration_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    client = boto3.client("sesv2", region_name="eu-west-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")
    with Stubber(client) as stub:
        stub.add_response("send_email", {"MessageId": "0100-abc"}, {
            "FromEmailAddress": "support@shop.example", "Destination": {"ToAddresses": ["anna@example.com"]},
            "Content": {"Raw": {"Data": stub_any()}}, "ConfigurationSetName": "shopdesk-replies"})
        result = ses.SesSender("Shop <support@shop.example>", "shopdesk-replies", client=client).send(reply())
    assert result.provider_id == "0100-abc"


def stub_any() -> Any:
    from botocore.stub import ANY

    return ANY


def test_sender_attaches_fetched_media(aws: None) -> None:
    client = boto3.client("sesv2", region_name="eu-west-1")
    client.create_email_identity(EmailIdentity="shop.example")
    fetched: list[str] = []

    def fetch(url: str) -> Media:
        fetched.append(url)
        return Media(b"%PDF-1.4", "application/pdf", "label.pdf")

    sender = ses.SesSender("support@shop.example", client=client, fetch_media=fetch)
    sender.send(reply(media_urls=("https://files.shop.example/label.pdf",)))
    assert fetched == ["https://files.shop.example/label.pdf"]
    [raw] = _sent_raw()
    msg = email.message_from_string(raw, policy=policy.default)
    [attachment] = list(msg.iter_attachments())
    assert attachment.get_filename() == "label.pdf"


def test_sender_refuses_oversized_mail(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ses, "MAX_RAW_BYTES", 1000)
    sender = ses.SesSender("support@shop.example", client=object(),
                           fetch_media=lambda url: Media(b"x" * 2000, "application/octet-stream", "big.bin"))
    with pytest.raises(ProviderError) as info:
        sender.send(reply(media_urls=("https://files.shop.example/big.bin",)))
    assert (info.value.code, info.value.retryable) == ("too_large", False)


def test_our_reference_tag_comes_back_on_receipts_and_a_send_event_confirms_a_reply() -> None:
    tagged = {**MAIL, "tags": {"ses:configuration-set": ["shop"], ses.REFERENCE_TAG: ["c_1-20260501090000000-m_1-0"]}}
    delivered = ses.parse_ses_notification({"eventType": "Delivery", "mail": tagged, "delivery": {}})
    assert delivered.reference == "c_1-20260501090000000-m_1-0"
    send = ses.parse_ses_notification({"eventType": "Send", "mail": tagged, "send": {}})
    assert send == StatusUpdate(provider="email", provider_id="0100018e2f3a4b5c-ses-1", status="accepted",
                                reference="c_1-20260501090000000-m_1-0")
    # a Send event without our tag is still nothing to act on
    assert ses.parse_ses_notification({"eventType": "Send", "mail": MAIL, "send": {}}) is None


def test_a_reply_carries_its_reference_as_a_message_tag() -> None:
    client = boto3.client("sesv2", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        stub.add_response("send_email", {"MessageId": "ses-1"}, {
            "FromEmailAddress": "support@shop.example", "Destination": {"ToAddresses": ["anna@example.com"]},
            "Content": {"Raw": {"Data": ANY}},
            "EmailTags": [{"Name": ses.REFERENCE_TAG, "Value": "c_1-20260501090000000-m_1-0"}]})
        sender = ses.SesSender("Shop Support <support@shop.example>", client=client)
        result = sender.send(OutboundRequest(channel="email", to="anna@example.com", sender="", text="Hello",
                                             subject="Your order", reference="c_1-20260501090000000-m_1-0"))
    assert result.provider_id == "ses-1"
