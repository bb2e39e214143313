"""SES on one machine: inbound mail through the template's receipt rule, sent mail in the outbox.

Inbound (``POST /_local/email``): the body is a raw RFC 5322 message, taken byte for byte. The
stack does what SES's receipt rule does with it: the first enabled ``AWS::SES::ReceiptRule`` of
the template that has an ``S3Action`` and whose ``Recipients`` match (an address, a domain, or
``.domain`` for its subdomains; no Recipients matches everything) stores the bytes at
``<BucketName>/<ObjectKeyPrefix><message id>``, with an SES-like inbound message id (40
lower-case base-32 characters). The recipients are the ``to`` query parameters (the SMTP
envelope: Bcc, a forwarding rule, an alias), else the message's To and Cc; the rule's recipients
are those it matches. The bucket's S3 notifications then invoke the subscribed functions
(local.s3events). Other actions of the rule (SNS, Lambda, Bounce...) are not emulated.

Like SES, the stack puts a ``Received`` header on top of the stored message (``from ... by
inbound-smtp.<region>.amazonaws.com with SMTP id <message id> for <recipient>; <date>``): it is
how a function reading the S3 object learns the envelope recipient. The ``for`` clause is written
when the rule matched exactly one recipient (SMTP's Received names one). The posted bytes follow
unchanged; the Return-Path and X-SES-* headers real SES adds too are not written.

Outbound: moto's SES accepts mail only from verified identities; the stack verifies the
``SesFromAddress`` parameter (and its domain) after provisioning. moto keeps what it accepted in
``ses_backends[account][region].sent_messages`` (v1 and v2 share one backend); ``SesOutbox``
lists those messages in the outbox as ``provider: ses`` with their raw MIME and parsed headers.
``DELETE /_local/outbox`` only moves a high-water mark: moto's list is never changed.
"""

from __future__ import annotations

import email.utils
import logging
import secrets
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser, Parser
from typing import Any

from local.aws import Aws
from local.provision import ReceiptRule
from local.sandbox import timestamp
from local.settings import ACCOUNT_ID

log = logging.getLogger("ses")

_BASE32HEX = "0123456789abcdefghijklmnopqrstuv"
FORM_HEADERS = ("From", "To", "Cc", "Subject", "In-Reply-To", "References", "Reply-To", "Message-ID")


def inbound_message_id() -> str:
    """An id like SES gives received mail (``o3vhd1d2ovsvpeg2u4n7jd8qhrnulsn0tmnb0ro1``)."""
    return "".join(secrets.choice(_BASE32HEX) for _ in range(40))


def message_recipients(raw: bytes) -> list[str]:
    headers = BytesHeaderParser(policy=policy.compat32).parsebytes(raw)
    values = [str(v) for name in ("To", "Cc") for v in headers.get_all(name, [])]
    return [address for _, address in email.utils.getaddresses(values) if address]


class UnknownRecipient(Exception):
    pass


def received_header(message_id: str, recipients: list[str], region: str, now: datetime, newline: bytes) -> bytes:
    """The Received header SES's inbound SMTP server puts on top of a message it accepted."""
    recipient = f"{newline.decode()} for {recipients[0]};" if len(recipients) == 1 else ";"
    return (f"Received: from localhost (localhost [127.0.0.1]){newline.decode()} by inbound-smtp.{region}"
            f".amazonaws.com with SMTP id {message_id}{recipient}{newline.decode()} "
            f"{email.utils.format_datetime(now.astimezone(UTC))} (UTC)").encode() + newline


class InboundMail:
    """What SES's receipt rules do with a message, up to storing it in S3."""

    def __init__(self, aws: Aws, rules: list[ReceiptRule],
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.aws = aws
        self.rules = [rule for rule in rules if rule.s3_action() is not None]
        self.now = now
        self._warned: set[str] = set()

    def rule_for(self, recipients: list[str]) -> ReceiptRule:
        for rule in self.rules:
            if rule.enabled and (not recipients or any(rule.matches(r) for r in recipients)):
                return rule
        described = "; ".join(f"{r.logical_id}: {', '.join(r.recipients) or 'any'}" for r in self.rules)
        raise UnknownRecipient(
            f"no enabled receipt rule with an S3Action matches the recipients {', '.join(recipients)} "
            f"(rules: {described}); pass ?to=<address> to choose the envelope recipient"
        )

    @staticmethod
    def location(rule: ReceiptRule, message_id: str) -> tuple[str, str]:
        """Where the rule's S3Action stores a message: (bucket, ObjectKeyPrefix + message id)."""
        action = rule.s3_action() or {}
        return str(action["BucketName"]), str(action.get("ObjectKeyPrefix") or "") + message_id

    @staticmethod
    def envelope(rule: ReceiptRule, recipients: Sequence[str]) -> list[str]:
        """The recipients the rule matched (SES's ``receipt.recipients``), lower-cased, once each."""
        return list(dict.fromkeys(r.strip().lower() for r in recipients if r.strip() and rule.matches(r.strip())))

    def store(self, rule: ReceiptRule, raw: bytes, message_id: str, recipients: Sequence[str] = ()) -> None:
        """Put the message where the rule's S3Action says: SES's Received header, then the bytes as posted."""
        bucket, key = self.location(rule, message_id)
        first_line = raw.split(b"\n", 1)[0]
        newline = b"\r\n" if first_line.endswith(b"\r") else b"\n"
        header = received_header(message_id, self.envelope(rule, recipients), self.aws.region, self.now(),
                                 newline)
        self.aws.client("s3").put_object(Bucket=bucket, Key=key, Body=header + raw)
        for other in rule.rule.get("Actions") or []:
            kind = next(iter(other), "") if isinstance(other, dict) else ""
            if kind != "S3Action" and kind not in self._warned:
                self._warned.add(kind)
                log.warning("%s: the %s action is not emulated locally", rule.logical_id, kind)
        log.info("received mail %s -> s3://%s/%s (%d bytes)", message_id, bucket, key, len(raw))


def verify_identities(aws: Aws, identities: list[str]) -> None:
    """Verify each address (and its domain) or ``@domain`` in moto's SES; v1 and v2 share them."""
    ses = aws.client("ses")
    for identity in dict.fromkeys(identities):
        _, bare = email.utils.parseaddr(identity) if not identity.startswith("@") else ("", identity)
        local_part, _, domain = bare.rpartition("@")
        if local_part:
            ses.verify_email_identity(EmailAddress=bare)
        if domain:
            ses.verify_domain_identity(Domain=domain)
            log.info("SES identity verified: %s", bare if local_part else domain)


class SesOutbox:
    """The mail moto's SES accepted, as outbox items (``provider: ses``), oldest first."""

    def __init__(self, region: str) -> None:
        self.region = region
        self._mark = 0
        self._lock = threading.Lock()

    def _sent(self) -> list[Any]:
        from moto.ses.models import ses_backends

        return list(ses_backends[ACCOUNT_ID][self.region].sent_messages)

    def items(self) -> list[dict[str, Any]]:
        with self._lock:
            mark = self._mark
        return [self._item(message) for message in self._sent()[mark:]]

    def clear(self) -> None:
        with self._lock:
            self._mark = len(self._sent())

    def _item(self, message: Any) -> dict[str, Any]:
        kind = type(message).__name__
        if kind == "RawMessage":
            raw, method = str(message.raw_data), "SendEmail"
            envelope = list(message.destinations)
        elif kind == "Message":
            raw, method = self._mime(message), "SendEmail"
            envelope = [a for addresses in message.destinations.values() for a in addresses]
        else:  # TemplateMessage, BulkTemplateMessage
            raw, method = str(getattr(message, "template_data", "")), "SendTemplatedEmail"
            envelope = []
        message_id = str(getattr(message, "id", "") or ",".join(getattr(message, "ids", [])))
        parsed = (
            Parser(policy=policy.default).parsestr(raw, headersonly=True)
            if kind != "TemplateMessage"
            else None
        )
        form: dict[str, Any] = {}
        for name in FORM_HEADERS:
            try:
                value = parsed.get(name) if parsed is not None else None
            except Exception:  # a malformed header: give it undecoded
                value = Parser(policy=policy.compat32).parsestr(raw, headersonly=True).get(name)
            form[name] = str(value) if value is not None else None
        # SES replaces any Message-ID with its own; recipients see this one
        form["Message-ID"] = f"<{message_id}@{self._domain()}>"
        sent_at = getattr(message, "local_sent_at", None)
        return {
            "provider": "ses",
            "method": method,
            "url": f"ses://{self.region}",
            "body": raw,
            "form": form,
            "envelope": {"from": getattr(message, "source", None), "to": envelope},
            "response": {"status": 200, "body": {"MessageId": message_id}},
            "received_at": timestamp(sent_at) if sent_at is not None else "",
        }

    def _domain(self) -> str:
        return "email.amazonses.com" if self.region == "us-east-1" else f"{self.region}.amazonses.com"

    @staticmethod
    def _mime(message: Any) -> str:
        """A simple (non-raw) send as MIME: moto keeps source, destinations, subject and one body."""
        mime = EmailMessage()
        mime["From"] = message.source
        for header, key in (("To", "ToAddresses"), ("Cc", "CcAddresses")):
            if message.destinations.get(key):
                mime[header] = ", ".join(message.destinations[key])
        mime["Subject"] = message.subject
        body = str(message.body)
        mime.set_content(body, subtype="html" if body.lstrip().startswith("<") else "plain")
        return mime.as_string(policy=policy.SMTP)
