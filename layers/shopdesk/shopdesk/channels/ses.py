"""Amazon SES: inbound receipt notifications, delivery receipts, and replies as raw MIME.

Inbound mail arrives as an SES receipt notification - through SNS (``Message`` JSON, see
``channels.sns``) or as a Lambda receipt-rule action event - naming either the S3 object the S3
action wrote or carrying the message itself (SNS action ``content``, UTF-8 or Base64). Bounce,
Complaint and Delivery notifications (``notificationType``, or ``eventType`` for configuration-set
event publishing) become StatusUpdates keyed by the SES MessageId our send returned.

Sending uses SES v2 ``SendEmail`` with ``Content.Raw``: only raw MIME can carry ``In-Reply-To`` and
``References`` so the customer's client threads the answer, and v2 takes messages up to 40 MB
(v1 ``SendRawEmail``: 10 MB). SES replaces our Message-ID (and Date), so the MessageId it returns
is what we store and match replies against.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr
from typing import Any

from aws_lambda_powertools import Logger

from shopdesk.bounds import loads
from shopdesk.channels.base import Media, OutboundFile, OutboundRequest, SendResult
from shopdesk.channels.email import ShopAddresses
from shopdesk.channels.subjects import reply_subject
from shopdesk.errors import BadRequest, ProviderError
from shopdesk.models.message import MessageError, StatusUpdate

PROVIDER = "email"
logger = Logger(child=True)

# ------------------------------------------------------------------------------- notifications

BOUNCE_REASONS = {
    ("Permanent", "General"): "The customer's mail server permanently rejected the address",
    ("Permanent", "NoEmail"): "The customer's email address does not exist",
    ("Permanent", "Suppressed"): "Not sent: the address is on the SES suppression list after earlier hard bounces",
    ("Permanent", "OnAccountSuppressionList"): "Not sent: the address is on this account's SES suppression list",
    ("Transient", "General"): "The customer's mail server refused the message for now; a later message may get through",
    ("Transient", "MailboxFull"): "The customer's mailbox is full",
    ("Transient", "MessageTooLarge"): "The message was too large for the customer's mail server",
    ("Transient", "ContentRejected"): "The customer's mail server rejected the message content",
    ("Transient", "AttachmentRejected"): "The customer's mail server rejected an attachment",
    ("Undetermined", "Undetermined"): "The message bounced for a reason SES could not determine",
}
BOUNCE_TYPE_REASONS = {
    "Permanent": "The customer's mail server permanently rejected the message",
    "Transient": "The customer's mail server refused the message for now",
    "Undetermined": "The message bounced for a reason SES could not determine",
}


@dataclass(frozen=True)
class S3Location:
    bucket: str
    key: str


@dataclass(frozen=True)
class ReceivedEmail:
    """An inbound email SES accepted: where to read it (``s3``) or the message itself (``content``).
    With a Lambda action neither is set: the rule's S3 action wrote it to ``<prefix><ses_message_id>``."""

    ses_message_id: str
    recipients: tuple[str, ...] = ()            # SMTP envelope recipients (Bcc included)
    action: str | None = None                   # S3, SNS, Lambda, ...
    s3: S3Location | None = None
    content: bytes | None = None
    timestamp: str | None = None
    source: str | None = None                   # envelope MAIL FROM
    verdicts: Mapping[str, str] = field(default_factory=dict)   # spam, virus, spf, dkim, dmarc -> PASS/FAIL/...
    topic_arn: str | None = None

    @property
    def is_spam(self) -> bool:
        return self.verdicts.get("spam") == "FAIL"

    @property
    def has_virus(self) -> bool:
        return self.verdicts.get("virus") == "FAIL"


SesNotification = ReceivedEmail | StatusUpdate | None


def notification_from_sns(envelope: Mapping[str, Any]) -> dict[str, Any]:
    """The SES notification inside an SNS ``Notification`` (its ``Message`` is JSON)."""
    message = envelope.get("Message")
    if not isinstance(message, str):
        raise BadRequest("the SNS notification has no Message")
    body = loads(message, "the SNS Message")
    if not isinstance(body, dict):
        raise BadRequest("the SNS Message is not a JSON object")
    return body


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _mail_id(message: Mapping[str, Any]) -> str:
    ident = _dict(message.get("mail")).get("messageId")
    if not isinstance(ident, str) or not ident:
        raise BadRequest("the SES notification has no mail.messageId")
    return ident


def _content(content: Any, encoding: Any) -> bytes | None:
    if not isinstance(content, str) or not content:
        return None
    label = re.sub(r"[^a-z0-9]", "", str(encoding or "").lower())
    if label == "base64":
        try:
            return base64.b64decode(re.sub(r"\s+", "", content), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BadRequest("the SES content is not valid Base64") from exc
    return content.encode("utf-8", "surrogateescape")


def _received(mail: Mapping[str, Any], receipt: Mapping[str, Any], content: Any = None,
              *, bucket: str | None = None, key_prefix: str = "") -> ReceivedEmail:
    ses_id = mail.get("messageId")
    if not isinstance(ses_id, str) or not ses_id:
        raise BadRequest("the SES notification has no mail.messageId")
    action = _dict(receipt.get("action"))
    action_type = action.get("type") if isinstance(action.get("type"), str) else None
    s3 = None
    if action.get("bucketName"):
        key = action.get("objectKey") or f"{action.get('objectKeyPrefix') or ''}{ses_id}"
        s3 = S3Location(str(action["bucketName"]), str(key))
    elif bucket:
        s3 = S3Location(bucket, f"{key_prefix}{ses_id}")
    verdicts = {name.removesuffix("Verdict"): str(_dict(value).get("status"))
                for name, value in receipt.items() if name.endswith("Verdict") and _dict(value).get("status")}
    return ReceivedEmail(
        ses_message_id=ses_id,
        recipients=tuple(str(r).lower() for r in _list(receipt.get("recipients")) if isinstance(r, str)),
        action=action_type,
        s3=s3,
        content=_content(content, action.get("encoding")),
        timestamp=receipt.get("timestamp") or mail.get("timestamp"),
        source=mail.get("source") if isinstance(mail.get("source"), str) else None,
        verdicts=verdicts,
        topic_arn=action.get("topicArn") if isinstance(action.get("topicArn"), str) else None,
    )


def _bounce(message: Mapping[str, Any]) -> StatusUpdate:
    bounce = _dict(message.get("bounce"))
    kind = str(bounce.get("bounceType") or "Undetermined")
    sub = str(bounce.get("bounceSubType") or "Undetermined")
    reason = BOUNCE_REASONS.get((kind, sub)) or BOUNCE_TYPE_REASONS.get(kind, "The message bounced")
    details = []
    for recipient in _list(bounce.get("bouncedRecipients")):
        recipient = _dict(recipient)
        detail = recipient.get("diagnosticCode") or recipient.get("status")
        if detail:
            details.append(str(detail))
    if details:
        reason = f"{reason} ({'; '.join(details)[:500]})"
    return StatusUpdate(provider=PROVIDER, provider_id=_mail_id(message), status="failed",
                        error=MessageError(code=f"{kind}/{sub}", message=reason))


def _complaint(message: Mapping[str, Any]) -> StatusUpdate:
    complaint = _dict(message.get("complaint"))
    feedback = complaint.get("complaintFeedbackType")
    if complaint.get("complaintSubType") == "OnAccountSuppressionList":
        # SES did not send: the address complained before and is on the account's suppression list
        return StatusUpdate(provider=PROVIDER, provider_id=_mail_id(message), status="failed",
                            error=MessageError(code="complaint", message="Not sent: the customer earlier marked "
                                               "our email as spam and is on this account's suppression list"))
    reason = "The customer marked the email as spam; do not write to them by email again unless they write first"
    if feedback:
        reason += f" (feedback: {feedback})"
    # A complaint marks the reply failed (the shop's rule: a complaint ends email to that address),
    # with the reason for the agent; it outranks an earlier Delivery.
    return StatusUpdate(provider=PROVIDER, provider_id=_mail_id(message), status="failed",
                        error=MessageError(code="complaint", message=reason))


def _reject(message: Mapping[str, Any]) -> StatusUpdate:
    reason = _dict(message.get("reject")).get("reason") or "SES rejected the message"
    return StatusUpdate(provider=PROVIDER, provider_id=_mail_id(message), status="failed",
                        error=MessageError(code="rejected", message=f"SES rejected the message: {reason}"))


def _rendering_failure(message: Mapping[str, Any]) -> StatusUpdate:
    reason = _dict(message.get("failure")).get("errorMessage") or "template rendering failed"
    return StatusUpdate(provider=PROVIDER, provider_id=_mail_id(message), status="failed",
                        error=MessageError(code="rendering_failure", message=str(reason)))


REFERENCE_TAG = "shopdesk-ref"       # the message tag our sends carry (SES event publishing returns it in mail.tags)


def _reference(message: Mapping[str, Any]) -> str | None:
    values = _dict(_dict(message.get("mail")).get("tags")).get(REFERENCE_TAG)
    value = values[0] if isinstance(values, list) and values else None
    return value if isinstance(value, str) and value else None


def parse_ses_notification(message: Mapping[str, Any] | str | bytes) -> SesNotification:
    """An SES notification, with the reference our send tagged it with on a StatusUpdate (``_parse``)."""
    if isinstance(message, str | bytes | bytearray):
        message = loads(message, "the SES notification")
    if not isinstance(message, Mapping):
        raise BadRequest("the SES notification is not a JSON object")
    parsed = _parse(message)
    if isinstance(parsed, StatusUpdate):
        parsed.reference = _reference(message)
    elif parsed is None and (message.get("eventType") == "Send") and _reference(message):
        # SES took one of our replies (event publishing): the dispatcher's record of it may be missing (#14)
        return StatusUpdate(provider=PROVIDER, provider_id=_mail_id(message), status="accepted",
                            reference=_reference(message))
    return parsed


def _parse(message: Mapping[str, Any]) -> SesNotification:
    """An SES notification (the SNS ``Message``, as a mapping or its JSON text).

    ``Received`` -> ReceivedEmail; ``Bounce`` -> StatusUpdate failed (code ``<type>/<subtype>``);
    ``Complaint`` -> StatusUpdate delivered with error code ``complaint`` (failed when SES suppressed
    the send); ``Delivery`` -> StatusUpdate delivered; ``Reject``/``Rendering Failure`` -> failed.
    Everything else (Send, Open, Click, DeliveryDelay, Subscription, AmazonSnsSubscriptionSucceeded,
    unknown) -> None: acknowledge and move on. Opens are not "read": privacy proxies open every mail.
    A ``Send`` event that carries our reference tag is a StatusUpdate ``accepted`` (``parse_ses_notification``)."""
    kind = message.get("notificationType") or message.get("eventType")
    if kind == "Received":
        return _received(_dict(message.get("mail")), _dict(message.get("receipt")), message.get("content"))
    if kind == "Bounce":
        return _bounce(message)
    if kind == "Complaint":
        return _complaint(message)
    if kind == "Delivery":
        return StatusUpdate(provider=PROVIDER, provider_id=_mail_id(message), status="delivered")
    if kind == "Reject":
        return _reject(message)
    if kind == "Rendering Failure":
        return _rendering_failure(message)
    return None


def parse_ses_lambda_event(event: Mapping[str, Any], *, bucket: str | None = None,
                           key_prefix: str = "") -> list[ReceivedEmail]:
    """The records of a receipt-rule Lambda action invocation (``Records[].ses``). The event names
    the message but does not carry it: when the action gives no S3 location, ``bucket`` and
    ``key_prefix`` (of the rule's S3 action, which runs first) say where it is."""
    if not isinstance(event, Mapping):
        raise BadRequest("the SES event is not a JSON object")
    out: list[ReceivedEmail] = []
    for record in _list(event.get("Records")):
        record = _dict(record)
        if record.get("eventSource") not in (None, "aws:ses") or not isinstance(record.get("ses"), Mapping):
            continue
        ses = record["ses"]
        out.append(_received(_dict(ses.get("mail")), _dict(ses.get("receipt")), bucket=bucket,
                             key_prefix=key_prefix))
    return out


# ------------------------------------------------------------------------------- outbound MIME

_MAX_REFERENCES = 20


def _msg_id(value: str | None) -> str | None:
    ident = (value or "").strip().strip("<>").strip()
    if not ident or len(ident) > 900 or re.search(r"[\s<>]", ident):
        return None
    return ident


def _address(value: str, what: str) -> str:
    name, addr = parseaddr(value or "")
    if not addr or "@" not in addr or re.search(r"[\s<>\r\n]", addr) or "\n" in value or "\r" in value:
        raise BadRequest(f"{what} is not an email address: {value!r}")
    return formataddr((name, addr)) if name else addr


def build_raw_email(req: OutboundRequest, *, from_address: str, message_id_domain: str,
                    files: Sequence[Media] = ()) -> bytes:
    """An agent's reply as RFC 5322 bytes (CRLF), ready for SES ``Content.Raw``.

    Threading: ``In-Reply-To: <req.in_reply_to>``, ``References: <req.references...> <in_reply_to>``
    (long chains keep the first and the latest ids), ``Subject: Re: ...`` when answering.
    ``Reply-To`` is ``req.reply_address`` (the plus-addressed conversation address) when set.
    ``Auto-Submitted: <req.auto_submitted>`` (RFC 3834) and ``X-Auto-Response-Suppress: All`` (Exchange's) on what
    shopdesk writes by itself (an acknowledgement, the bot, a survey): no out-of-office answers them. None on an
    agent's answer, a human message (``no`` is the default).
    Text is UTF-8, quoted-printable when it is not plain ASCII of short lines.
    Files are not fetched here: pass already downloaded ``files`` to attach them; otherwise
    ``req.media_urls`` are listed as links under the text."""
    text = (req.text or "").replace("\r\n", "\n").replace("\r", "\n")
    links_only = [f.url for f in req.outbound_files()] if not files else []
    if not text.strip() and not links_only and not files:
        raise BadRequest("the reply has no text and no files")
    if links_only:
        links = "\n".join(f"- {url}" for url in links_only)
        text = f"{text.rstrip()}\n\nAttachments:\n{links}" if text.strip() else f"Attachments:\n{links}"
    if not text.endswith("\n"):
        text += "\n"

    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = _address(from_address, "from_address")
    msg["To"] = _address(req.to, "the recipient")
    if req.reply_address:
        msg["Reply-To"] = _address(req.reply_address, "reply_address")
    in_reply_to = _msg_id(req.in_reply_to)
    references = [ref for ref in (_msg_id(r) for r in req.references) if ref]
    if in_reply_to and in_reply_to not in references:
        references.append(in_reply_to)
    if len(references) > _MAX_REFERENCES:
        references = references[:1] + references[-(_MAX_REFERENCES - 1):]
    answering = bool(in_reply_to or references)
    subject = reply_subject(req.subject) if answering else re.sub(r"\s+", " ", req.subject or "").strip()
    if subject:
        msg["Subject"] = subject
    msg["Date"] = formatdate(usegmt=True)
    domain = re.sub(r"[^A-Za-z0-9.-]", "", message_id_domain) or "localhost"
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@{domain}>"
    if in_reply_to:
        msg["In-Reply-To"] = f"<{in_reply_to}>"
    if references:
        msg["References"] = " ".join(f"<{ref}>" for ref in references)
    if req.auto_submitted:
        msg["Auto-Submitted"] = req.auto_submitted
        msg["X-Auto-Response-Suppress"] = "All"
    plain_ascii = text.isascii() and all(len(line) <= 76 for line in text.split("\n"))
    msg.set_content(text, charset="utf-8", cte="7bit" if plain_ascii else "quoted-printable")
    for index, media in enumerate(files, start=1):
        maintype, _, subtype = (media.content_type or "application/octet-stream").partition("/")
        msg.add_attachment(media.content, maintype=maintype or "application",
                           subtype=subtype or "octet-stream", filename=media.filename or f"attachment-{index}")
    return msg.as_bytes(policy=policy.SMTP)


# ------------------------------------------------------------------------------- sender

RETRYABLE_CODES = {"Throttling", "ThrottlingException", "TooManyRequestsException", "LimitExceededException",
                   "ServiceUnavailable", "ServiceUnavailableException", "InternalFailure", "InternalServerError",
                   "InternalServiceErrorException", "RequestTimeout", "RequestTimeoutException"}
ERROR_REASONS = {
    "MessageRejected": "SES rejected the message",
    "MailFromDomainNotVerified": "The sending domain's MAIL FROM is not verified in SES",
    "MailFromDomainNotVerifiedException": "The sending domain's MAIL FROM is not verified in SES",
    "AccountSuspendedException": "SES sending is suspended for this AWS account",
    "SendingPausedException": "SES sending is paused for this account or configuration set",
    "AccountSendingPausedException": "SES sending is paused for this account",
    "ConfigurationSetSendingPausedException": "SES sending is paused for the configuration set",
    "ConfigurationSetDoesNotExist": "The SES configuration set does not exist",
    "NotFoundException": "The SES configuration set or identity does not exist",
    "BadRequestException": "SES refused the request as invalid",
    "AccessDenied": "This function may not send through SES (IAM)",
    "AccessDeniedException": "This function may not send through SES (IAM)",
}
QUOTA_RETRY_AFTER = 600.0       # AWS: after a throttling error wait up to 10 minutes and retry


def provider_error(code: str | None, message: str, http_status: int | None = None) -> ProviderError:
    """An SES error as a ProviderError: rate limits and quotas retryable, the rest with a clear reason."""
    text = message or ""
    lowered = text.lower()
    if "daily message quota exceeded" in lowered:
        return ProviderError("SES daily sending quota exceeded", code=code,
                             retryable=True, http_status=http_status, retry_after=QUOTA_RETRY_AFTER)
    if "maximum sending rate exceeded" in lowered or code in RETRYABLE_CODES or (http_status or 0) >= 500 \
            or http_status == 429:
        retry_after = 1.0 if "sending rate" in lowered else None
        return ProviderError(f"SES is busy or throttling ({code or http_status}: {text})".strip(), code=code,
                             retryable=True, http_status=http_status, retry_after=retry_after)
    if "not verified" in lowered or "not authorized to send" in lowered or "did not have authority" in lowered:
        reason = ("SES refused an unverified address (in the SES sandbox the customer's address must be "
                  "verified too; otherwise verify the sending identity)")
    else:
        reason = ERROR_REASONS.get(code or "", "SES refused the message")
    return ProviderError(f"{reason}: {text}" if text else reason, code=code, retryable=False,
                         http_status=http_status)


MAX_RAW_BYTES = 40_000_000      # SES v2 message size limit (v1: 10 MB)


class SesSender:
    """Replies through SES v2 ``SendEmail`` with raw MIME. ``from_address`` may carry a display name
    (``Shop <support@shop.example>``); ``req.sender``, when it is an email address (the shop mailbox
    the customer wrote to), is used instead with the same display name - but only when it is ours:
    ``from_address`` or one of ``shop_addresses`` (addresses and domains, see ``ShopAddresses``).
    Any other sender (a conversation stored before its mailbox was known, a misconfiguration)
    leaves from ``from_address`` with a warning: SES would refuse it (MessageRejected). Either must
    be a verified SES identity or on a verified domain.

    ``fetch_media`` (e.g. ``lambda url: http_bytes(url, max_bytes=...)``), when given, downloads
    ``req.media_urls`` so they go out as real attachments; without it they are listed as links. ``read_file``
    reads an agent's attachments (``req.files``) from the media bucket, so they go out attached."""

    def __init__(self, from_address: str, configuration_set: str | None = None, *,
                 shop_addresses: Iterable[str] = (), message_id_domain: str | None = None, client: Any = None,
                 region_name: str | None = None, fetch_media: Callable[[str], Media] | None = None,
                 read_file: Callable[[OutboundFile], bytes] | None = None) -> None:
        self.from_address = from_address
        self.shops = ShopAddresses([from_address, *shop_addresses])
        self.configuration_set = configuration_set
        self._domain = message_id_domain or (parseaddr(from_address)[1].partition("@")[2] or "localhost")
        self._client = client
        self._region = region_name
        self._fetch_media = fetch_media
        self._read_file = read_file       # an agent's attachment from the media bucket, attached as it is

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            self._client = boto3.client("sesv2", region_name=self._region, config=Config(
                connect_timeout=5, read_timeout=15, retries={"mode": "standard", "total_max_attempts": 2}))
        return self._client

    def _from(self, req: OutboundRequest) -> str:
        name, default = parseaddr(self.from_address)
        sender = (req.sender or "").strip()
        _, address = parseaddr(sender)
        if not address or "@" not in address or address.lower() == default.lower() or "\n" in sender:
            return self.from_address
        mailbox = self.shops.mailbox(address)
        if mailbox is None or mailbox == default.lower():
            if mailbox is None:
                logger.warning("the reply's sender is not a shop address; it leaves from the default one",
                               extra={"sender": address, "from_address": default})
            return self.from_address
        return str(Address(display_name=name, addr_spec=mailbox)) if name else mailbox

    def send(self, req: OutboundRequest) -> SendResult:
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ParamValidationError

        if req.files and self._read_file is not None:
            files = [Media(self._read_file(f), f.content_type, f.filename) for f in req.files]
        else:
            files = [self._fetch_media(f.url) for f in req.outbound_files()] if self._fetch_media else []
        from_address = self._from(req)
        try:
            raw = build_raw_email(req, from_address=from_address, message_id_domain=self._domain, files=files)
        except (BadRequest, ValueError) as exc:
            raise ProviderError(f"The reply cannot be sent as email: {exc}", code="invalid_request",
                                retryable=False) from exc
        if len(raw) > MAX_RAW_BYTES:
            raise ProviderError(f"The email with its attachments is larger than {MAX_RAW_BYTES // 1_000_000} MB",
                                code="too_large", retryable=False)
        params: dict[str, Any] = {
            "FromEmailAddress": parseaddr(from_address)[1],
            "Destination": {"ToAddresses": [parseaddr(req.to)[1]]},
            "Content": {"Raw": {"Data": raw}},
        }
        if self.configuration_set:
            params["ConfigurationSetName"] = self.configuration_set
        if req.reference:
            params["EmailTags"] = [{"Name": REFERENCE_TAG, "Value": req.reference}]
        try:
            answer = self.client.send_email(**params)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            raise provider_error(error.get("Code"), error.get("Message") or "", status) from exc
        except (NoCredentialsError, ParamValidationError) as exc:
            raise ProviderError(f"SES could not be called: {exc}", code=None, retryable=False) from exc
        except BotoCoreError as exc:
            raise ProviderError(f"SES could not be reached: {exc}", code=None, retryable=True) from exc
        message_id = answer.get("MessageId")
        if not message_id:
            raise ProviderError("SES accepted the message but returned no MessageId", code=None, retryable=True)
        return SendResult(provider_id=message_id, status="accepted")


def text_mailer(from_address: str) -> Callable[[str, str, str], None]:
    """Send a short plain-text mail from the shop (a one-time code): ``send(to, subject, text)``."""
    from shopdesk.dal.aws import client

    def send(to: str, subject: str, text: str) -> None:
        client("sesv2").send_email(
            FromEmailAddress=parseaddr(from_address)[1], Destination={"ToAddresses": [to]},
            Content={"Simple": {"Subject": {"Data": subject, "Charset": "UTF-8"},
                                "Body": {"Text": {"Data": text, "Charset": "UTF-8"}}}})
    return send


def html_mailer(from_address: str, configuration_set: str | None = None) -> Callable[[str, str, str, str], str]:
    """Send a mail with a text and an HTML part from the shop (a transcript): ``send(to, subject, text, html)``
    returns SES's MessageId. SES's errors become ProviderErrors as a reply's do."""
    from botocore.exceptions import ClientError

    from shopdesk.dal.aws import client

    def send(to: str, subject: str, text: str, html: str) -> str:
        params: dict[str, Any] = {
            "FromEmailAddress": parseaddr(from_address)[1], "Destination": {"ToAddresses": [to]},
            "Content": {"Simple": {"Subject": {"Data": subject, "Charset": "UTF-8"},
                                   "Body": {"Text": {"Data": text, "Charset": "UTF-8"},
                                            "Html": {"Data": html, "Charset": "UTF-8"}}}}}
        if configuration_set:
            params["ConfigurationSetName"] = configuration_set
        try:
            return str(client("sesv2").send_email(**params)["MessageId"])
        except ClientError as exc:
            error = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            raise provider_error(error.get("Code"), error.get("Message") or "", status) from exc
    return send
