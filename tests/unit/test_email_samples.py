"""The shared SES / email samples produce exactly what their sidecars' ``expect`` blocks say."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shopdesk.channels import ses, sns
from shopdesk.channels.email import parse_email
from tests.support import SAMPLES, sample

SES = SAMPLES / "ses"
EML = SES / "eml"


def _eml(path: Path) -> tuple[bytes, dict[str, Any]]:
    meta = json.loads(path.with_name(path.stem + ".meta.json").read_text())
    return path.read_bytes(), meta


def _check_expect(parsed_message: Any, expect: dict[str, Any]) -> None:
    message = parsed_message
    for key, value in expect.items():
        if key == "subject":
            assert message.email.subject == value
        elif key == "from":
            assert message.customer_address == value
        elif key == "message_id":
            # the sidecar writes the header form; EmailMeta keeps the id without brackets
            assert message.email.message_id == value.strip("<>")
            assert message.provider_id == value.strip("<>")
        elif key == "text":
            assert message.text == value
        elif key == "ses_messageId":
            continue        # checked on the SES notification
        else:
            raise AssertionError(f"unchecked expectation {key}")


@pytest.mark.parametrize("path", sorted(EML.glob("*.eml")), ids=lambda p: p.stem)
def test_eml_samples_match_their_expect(path: Path) -> None:
    raw, meta = _eml(path)
    parsed = parse_email(raw)
    _check_expect(parsed.message, meta["expect"])
    assert parsed.message.provider == "email" and parsed.message.channel == "email"
    assert parsed.message.identity_kind == "email"


def test_multipart_alternative_sample_prefers_plain_text_and_reply_to() -> None:
    raw, _ = _eml(EML / "multipart_alternative_qp_latin1.eml")
    message = parse_email(raw).message
    assert message.text.startswith("Nicolas Fouché has accepted your invitation to Gmail and has chosen the\n")
    assert "<p>" not in message.text and "=20" not in message.text
    assert message.customer_address == "gmail-noreply@google.com"      # who wrote
    assert message.reply_to == "x.y@gmail.com"                          # where the answer goes
    assert message.profile_name == "Gmail Team"
    assert message.shop_address == "a.b@gmail.com"                      # first To without configuration


def test_apple_mail_sample() -> None:
    raw, _ = _eml(EML / "plain_text_apple_mail.eml")
    message = parse_email(raw, shop_addresses=["raasdnil@gmail.com"]).message
    assert message.text == "Plain email.\n\nHope it works well!\n\nMikel"
    assert message.shop_address == "raasdnil@gmail.com"
    assert message.profile_name == "Mikel Lindsaar"
    assert message.sent_at is not None and message.sent_at.isoformat() == "2008-11-22T15:04:59+11:00"
    assert message.email.auto_submitted is False and message.email.quoted_text is None


def test_s3_object_docs_example() -> None:
    raw = (SES / "s3_object_docs_example.eml").read_bytes()
    message = parse_email(raw, shop_addresses=["recipient@example.com"]).message
    assert message.customer_address == "sender@example.com"
    assert message.shop_address == "recipient@example.com"
    assert message.email.subject == "Example subject"
    assert message.text == "Example content"
    assert message.provider_id == "61967230-7A45-4A9D-BEC9-87CBCF2211C9@example.com"


def test_sns_action_sample_end_to_end() -> None:
    body, meta = sample("ses", "sns_ses_received_sns_action")
    envelope = sns.parse_sns_envelope(body.encode())
    assert envelope["Type"] == "Notification"
    received = ses.parse_ses_notification(ses.notification_from_sns(envelope))
    assert isinstance(received, ses.ReceivedEmail)
    expect = meta["expect"]
    assert received.ses_message_id == expect["ses_messageId"]
    assert received.action == "SNS" and received.s3 is None
    assert received.recipients == ("recipient@example.com",)
    assert received.verdicts["spam"] == "PASS" and not received.is_spam and not received.has_virus
    assert received.content is not None and received.content.startswith(b"Return-Path: ")
    message = parse_email(received.content, envelope_recipients=received.recipients,
                          shop_addresses=["recipient@example.com"]).message
    _check_expect(message, expect)
    assert message.shop_address == "recipient@example.com"


def test_sns_action_content_equals_the_s3_object_sample() -> None:
    body, _ = sample("ses", "sns_ses_received_sns_action")
    received = ses.parse_ses_notification(ses.notification_from_sns(sns.parse_sns_envelope(body)))
    assert isinstance(received, ses.ReceivedEmail)
    # the S3 sample is the same message except for the Return-Path SES writes for the S3 copy
    s3_copy = (SES / "s3_object_docs_example.eml").read_bytes()
    assert received.content.split(b"\r\n", 1)[1] == s3_copy.split(b"\r\n", 1)[1]


def test_lambda_event_sample() -> None:
    body, _ = sample("ses", "lambda_event_ses_record_s3_action_shape")
    [received] = ses.parse_ses_lambda_event(json.loads(body))
    assert received.ses_message_id == "d6iitobk75ur44p8kdnnp7g2n800"
    assert received.s3 == ses.S3Location("my-S3-bucket", "email")
    assert received.action == "S3"
    assert received.content is None
    assert received.recipients == ("recipient@example.com",)
    assert received.verdicts == {"spam": "PASS", "virus": "PASS", "spf": "PASS", "dkim": "PASS", "dmarc": "PASS"}
