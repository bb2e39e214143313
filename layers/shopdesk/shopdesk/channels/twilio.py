"""Twilio SMS, MMS and WhatsApp: webhook signatures, inbound parsing, delivery receipts, sending.

Signature rules follow twilio-python's RequestValidator: HMAC-SHA1 over the full public URL plus
the POST parameters sorted by name (each distinct value, sorted), base64, with and without the
default port, compared in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Literal

from shopdesk.channels.base import OutboundRequest, SendResult
from shopdesk.errors import BadRequest, ProviderError
from shopdesk.models.message import Attachment, InboundMessage, MessageError, StatusUpdate
from shopdesk.phone import to_e164

PROVIDER = "twilio"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
MAX_BODY = 1600
LOOKUP_PAGE = 20             # the newest messages between the two addresses the lookup reads (#14)
LOOKUP_SKEW_SECONDS = 5      # our clock and Twilio's may differ by this much

# Human-readable reasons for the error codes agents meet most (Twilio's error pages).
ERROR_REASONS = {
    "20003": "Twilio refused our credentials (check the account SID and auth token)",
    "20429": "Twilio rate limit reached",
    "21211": "The customer's number is not a valid phone number",
    "21408": "Sending to this region is not enabled on the Twilio account",
    "21602": "The message has no text and no media",
    "21604": "The message has no recipient",
    "21610": "The customer unsubscribed (replied STOP); they must opt in again before we can write",
    "21614": "The customer's number is not a mobile number and cannot receive SMS",
    "21617": "The message is longer than 1600 characters",
    "30003": "The customer's phone is unreachable (switched off or out of coverage)",
    "30004": "The customer blocked messages from this number",
    "30005": "The customer's number is unknown or no longer exists",
    "30006": "The number is a landline or its carrier cannot be reached",
    "30007": "The carrier filtered the message as spam",
    "30008": "The carrier reported an unknown delivery error",
    "63016": "WhatsApp's 24-hour window is closed: only an approved template can be sent now",
    "63018": "WhatsApp rate limit reached",
}


# Twilio's own keywords (its "support for opt-out keywords" page): a message that is only one of them, in any
# case, unsubscribes the customer's number from ours (Twilio answers it itself and refuses our sends with 21610)
# or subscribes it again. With Advanced Opt-Out a Messaging Service names the kind in ``OptOutType``, also for
# keywords of its own and for WhatsApp senders; without it only SMS has them.
OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN_WORDS = frozenset({"START", "YES", "UNSTOP"})


# The fields of Twilio's webhooks that name, count or point rather than say something: ids, addresses, statuses,
# codes and media links. A request kept for a replay keeps these as Twilio sent them; every other value (Body, a
# button's or a location's text, whatever Twilio adds) is masked like a message's text first (``is_text``).
NOT_TEXT = frozenset({"MessageSid", "SmsMessageSid", "SmsSid", "AccountSid", "MessagingServiceSid", "From", "To",
                      "WaId", "NumMedia", "NumSegments", "SmsStatus", "MessageStatus", "ErrorCode", "ErrorUrl",
                      "OptOutType", "ApiVersion", "MessageType", "ChannelPrefix", "ChannelInstallSid",
                      "ChannelToAddress", "OriginalRepliedMessageSid", "OriginalRepliedMessageSender",
                      "ReferralNumMedia"})
NOT_TEXT_PREFIXES = ("MediaUrl", "MediaContentType")
# The fields that name someone: masked as ingest masks a name (``mask_name``), not as a text
NAMES = frozenset({"ProfileName"})


def is_text(name: str) -> bool:
    """Whether a form field may hold what someone wrote (``NOT_TEXT``)."""
    return name not in NOT_TEXT and not name.startswith(NOT_TEXT_PREFIXES)


def reason(code: str | None, fallback: str = "The provider reported an error") -> str:
    return ERROR_REASONS.get(code or "", fallback)


# ------------------------------------------------------------------------------- signatures

def _signature(url: str, params: Iterable[tuple[str, str]], auth_token: str) -> str:
    grouped: dict[str, set[str]] = {}
    for name, value in params:
        grouped.setdefault(name, set()).add(value)
    payload = url + "".join(name + value for name in sorted(grouped) for value in sorted(grouped[name]))
    digest = hmac.new(auth_token.encode(), payload.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _port_variants(url: str) -> list[str]:
    """Twilio may have signed the URL with or without the scheme's default port."""
    parts = urllib.parse.urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    if default is None or not parts.hostname:
        return [url]
    host = parts.hostname
    if parts.port is None:
        with_port = parts._replace(netloc=f"{host}:{default}").geturl()
        return [url, with_port]
    if parts.port == default:
        return [url, parts._replace(netloc=host).geturl()]
    return [url]


def sign(url: str, params: Sequence[tuple[str, str]], auth_token: str) -> str:
    """The X-Twilio-Signature Twilio would send for this request."""
    return _signature(url, params, auth_token)


def verify_signature(url: str, params: Sequence[tuple[str, str]], signature: str | None, auth_token: str) -> bool:
    if not signature or not auth_token:
        return False
    query = urllib.parse.urlsplit(url).query
    body_hash = dict(urllib.parse.parse_qsl(query)).get("bodySHA256")
    if body_hash is not None:
        # JSON-body webhooks sign the URL only; the body is bound through bodySHA256 (checked by the caller).
        params = ()
    return any(hmac.compare_digest(_signature(candidate, params, auth_token), signature)
               for candidate in _port_variants(url))


def verify_body_hash(url: str, raw_body: bytes) -> bool:
    query = urllib.parse.urlsplit(url).query
    expected = dict(urllib.parse.parse_qsl(query)).get("bodySHA256")
    return expected is None or hmac.compare_digest(hashlib.sha256(raw_body).hexdigest(), expected)


def parse_form(body: str) -> list[tuple[str, str]]:
    """Form parameters in order, values URL-decoded, empty values kept (they are signed too)."""
    try:
        return urllib.parse.parse_qsl(body, keep_blank_values=True, strict_parsing=bool(body), errors="strict")
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"body is not application/x-www-form-urlencoded: {exc}") from exc


# ------------------------------------------------------------------------------- inbound

def _single(params: Sequence[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in params:
        out.setdefault(name, value)
    return out


def parse_inbound(params: Sequence[tuple[str, str]]) -> InboundMessage:
    """A Twilio "message comes in" webhook as a provider-neutral InboundMessage."""
    form = _single(params)
    sid = form.get("MessageSid") or form.get("SmsMessageSid") or form.get("SmsSid")
    if not sid:
        raise BadRequest("MessageSid is missing")
    sender, recipient = form.get("From", ""), form.get("To", "")
    if not sender or not recipient:
        raise BadRequest("From and To are required")
    channel = "whatsapp" if sender.lower().startswith("whatsapp:") else "sms"
    phone = to_e164(sender)
    if phone is None:
        raise BadRequest(f"From is not a phone number: {sender!r}")
    try:
        num_media = int(form.get("NumMedia") or 0)
    except ValueError as exc:
        raise BadRequest("NumMedia is not a number") from exc
    attachments = [
        Attachment(url=form[f"MediaUrl{i}"], content_type=form.get(f"MediaContentType{i}") or None)
        for i in range(min(num_media, 10))
        if form.get(f"MediaUrl{i}")
    ]
    return InboundMessage(
        provider=PROVIDER,
        provider_id=sid,
        channel=channel,
        identity_kind="phone",
        customer_address=phone,
        shop_address=recipient,
        reply_to=sender,
        text=form.get("Body") or None,
        attachments=attachments,
        profile_name=form.get("ProfileName") or None,
        raw=form,
        consent=consent(form, channel),
    )


def consent(form: dict[str, str], channel: str) -> Literal["stop", "start"] | None:
    """Whether the message is a keyword by which Twilio unsubscribed the number (``stop``) or subscribed it again
    (``start``; YES is one only for a customer who unsubscribed, which ingest knows). ``OptOutType`` says so where
    the Messaging Service has Advanced Opt-Out (HELP is answered by Twilio and changes nothing: a message like any
    other); without it, the whole body is one of Twilio's default keywords, on SMS."""
    kind = (form.get("OptOutType") or "").strip().upper()
    if kind in ("STOP", "START"):
        return "stop" if kind == "STOP" else "start"
    if kind or channel != "sms":
        return None
    word = (form.get("Body") or "").strip().upper()
    if word in OPT_OUT_WORDS:
        return "stop"
    return "start" if word in OPT_IN_WORDS else None


def parse_status(params: Sequence[tuple[str, str]]) -> StatusUpdate:
    form = _single(params)
    sid = form.get("MessageSid") or form.get("SmsSid")
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").lower()
    if not sid or not status:
        raise BadRequest("MessageSid and MessageStatus are required")
    code = form.get("ErrorCode") or None
    error = MessageError(code=code, message=form.get("ErrorMessage") or reason(code)) if code else None
    return StatusUpdate(provider=PROVIDER, provider_id=sid, status=status, error=error)


# ------------------------------------------------------------------------------- outbound

@dataclass(frozen=True)
class Credentials:
    account_sid: str
    auth_token: str


class TwilioSender:
    """Twilio's Messages API over plain HTTPS (no SDK: one request, nothing to initialise)."""

    def __init__(self, credentials: Credentials, base_url: str = "https://api.twilio.com", timeout: float = 10.0):
        self._credentials = credentials
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        token = f"{credentials.account_sid}:{credentials.auth_token}".encode()
        self._auth = "Basic " + base64.b64encode(token).decode()

    def send(self, request: OutboundRequest) -> SendResult:
        fields: list[tuple[str, str]] = [("To", request.to), ("From", request.sender)]
        if request.template is not None:
            if not request.template.provider_ref:
                raise ProviderError(f"template {request.template.name} has no Twilio ContentSid configured",
                                    code="template", retryable=False)
            variables = {str(i): value for i, value in enumerate(request.template.parameters, start=1)}
            fields += [("ContentSid", request.template.provider_ref), ("ContentVariables", json.dumps(variables))]
        elif request.text:
            fields.append(("Body", request.text))
        fields.extend(("MediaUrl", file.url) for file in request.outbound_files())   # up to 10 (channels/limits.py)
        if request.status_callback:
            fields.append(("StatusCallback", with_reference(request.status_callback, request.reference)))
        url = f"{self._base_url}/2010-04-01/Accounts/{self._credentials.account_sid}/Messages.json"
        body = self._call(urllib.request.Request(
            url, data=urllib.parse.urlencode(fields).encode(), method="POST",
            headers={"Authorization": self._auth, "Content-Type": "application/x-www-form-urlencoded",
                     "Accept": "application/json", "User-Agent": "shopdesk"},
        ))
        sid = body.get("sid")
        if not sid:
            raise ProviderError("Twilio accepted the message but returned no sid", code=None, retryable=True)
        return SendResult(provider_id=sid, status=str(body.get("status") or "queued"))


    def find(self, request: OutboundRequest, since: datetime) -> SendResult | None:
        """The message Twilio already has for this request, if any (#14): the Messages list filtered by To and
        From, newest first, one page; a message created since ``since`` (less a few seconds of clock skew) with
        the same body and number of media is the one an earlier delivery sent. ``DateSent`` is not a filter:
        it stays empty while a message is queued, and those are the ones to find."""
        query = urllib.parse.urlencode({"To": request.to, "From": request.sender, "PageSize": LOOKUP_PAGE})
        url = f"{self._base_url}/2010-04-01/Accounts/{self._credentials.account_sid}/Messages.json?{query}"
        body = self._call(urllib.request.Request(url, headers={"Authorization": self._auth,
                                                               "Accept": "application/json",
                                                               "User-Agent": "shopdesk"}))
        text = "" if request.template is not None else (request.text or "")
        media = len(request.outbound_files())
        earliest = since - timedelta(seconds=LOOKUP_SKEW_SECONDS)
        for message in body.get("messages") or []:
            if not isinstance(message, dict) or not message.get("sid"):
                continue
            try:
                created = parsedate_to_datetime(str(message.get("date_created") or ""))
            except (TypeError, ValueError):
                continue
            if created >= earliest and (request.template is not None or (message.get("body") or "") == text) \
                    and int(message.get("num_media") or 0) == media:
                return SendResult(provider_id=str(message["sid"]), status=str(message.get("status") or "queued"))
        return None

    def _call(self, request: urllib.request.Request) -> dict[str, Any]:
        """Twilio's JSON answer to a request, or a ProviderError: its own error, or retryable when out of reach."""
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise _provider_error(exc) from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise ProviderError(f"Twilio could not be reached: {exc}", code=None, retryable=True) from exc
        except json.JSONDecodeError as exc:
            raise ProviderError("Twilio answered with a body that is not JSON", code=None, retryable=True) from exc


def with_reference(callback: str, reference: str | None) -> str:
    """The StatusCallback URL with our reference as a parameter: Twilio calls (and signs) exactly that URL."""
    if not reference:
        return callback
    return callback + ("&" if "?" in callback else "?") + urllib.parse.urlencode({"ref": reference})


def callback_reference(url: str) -> str | None:
    """Our reference from the URL a status callback came to (``with_reference``)."""
    values = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).get("ref")
    return values[0] if values else None


def _provider_error(exc: urllib.error.HTTPError) -> ProviderError:
    try:
        body = json.loads(exc.read() or b"{}")
    except (json.JSONDecodeError, OSError):
        body = {}
    code = str(body["code"]) if body.get("code") is not None else None
    retry_after = exc.headers.get("Retry-After") if exc.headers else None
    retryable = exc.code == 429 or exc.code >= 500 or code in {"20429", "63018"}
    message = reason(code, body.get("message") or f"Twilio answered HTTP {exc.code}")
    return ProviderError(message, code=code, retryable=retryable, http_status=exc.code,
                         retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None)
