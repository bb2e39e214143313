"""Provider sandbox: stands in for Twilio's Messages API over HTTP and records every request.

This module also holds what every provider sandbox shares: the outbox (which also lists, through
its sources, the mail moto's SES accepted), fault injection, signed webhook delivery and the
deterministic media files the Meta and Telegram sandboxes serve.

It answers like Twilio: HTTP Basic auth with the account SID and auth token (401, code 20003),
Twilio's validation errors (21604 no To, 21603 no From, 21602 no Body/MediaUrl, 21617 body over
1,600 characters), its magic test numbers (To +15005550001 -> 21211, +15005550009 -> 21614,
+15005550004 -> 21610) and a 201 Message resource. After a successful send with a StatusCallback
it posts ``sent`` then ``delivered`` to that URL, form-encoded and signed with
``X-Twilio-Signature`` as Twilio does. ``GET .../Messages.json?To=&From=`` lists the messages it accepted,
newest first, as the dispatcher's lookup of an unrecorded send reads them. Faults can be injected to make
the next sends fail.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import math
import re
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from datetime import datetime
from email.utils import format_datetime
from http import HTTPStatus
from typing import Any, Protocol

log = logging.getLogger("sandbox")

API_VERSION = "2010-04-01"
MAX_BODY = 1600
MAX_LISTED = 1000            # messages the sandbox's Messages list remembers
CALLBACK_INTERVAL_SECONDS = 0.2
_MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>[^/]+)/Messages\.json$")
_MAGIC_TO = {
    "+15005550001": (21211, "The 'To' number +15005550001 is not a valid phone number."),
    "+15005550009": (21614, "'To' number is not a valid mobile number"),
    "+15005550004": (21610, "Attempt to send to unsubscribed recipient"),
}
_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = set("^{}\\[~]|€\f")

Response = tuple[int, dict[str, str], bytes]
# A sandbox answer; the body may be a stream of chunks (then headers carry Content-Length).
StreamedResponse = tuple[int, dict[str, str], "bytes | Iterator[bytes]"]


def twilio_signature(url: str, params: dict[str, list[str]], auth_token: str) -> str:
    """base64(HMAC-SHA1(auth token, URL + each param name + value, names sorted, values sorted))."""
    payload = url + "".join(name + value for name in sorted(params) for value in sorted(params[name]))
    digest = hmac.new(auth_token.encode(), payload.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def segments(body: str) -> int:
    """SMS segments: GSM-7 160 (153 when split), otherwise UCS-2 70 (67 when split)."""
    if not body:
        return 1
    if all(ch in _GSM7 or ch in _GSM7_EXTENDED for ch in body):
        length = len(body) + sum(1 for ch in body if ch in _GSM7_EXTENDED)
        return 1 if length <= 160 else math.ceil(length / 153)
    units = len(body.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)


def twilio_error(status: int, code: int, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def timestamp(moment: datetime) -> str:
    """The outbox's ``received_at``: ISO 8601 UTC with milliseconds and Z (sorts as text)."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def redacted_headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: ("[redacted]" if k.lower() == "authorization" else v) for k, v in headers.items()}


class OutboxSource(Protocol):
    """Something else that sends (moto's SES): its items carry ``received_at`` like the outbox's."""

    def items(self) -> list[dict[str, Any]]: ...

    def clear(self) -> None: ...


class Outbox:
    """Every request the sandboxes received, plus the items of its sources, oldest first."""

    def __init__(self) -> None:
        self._items: list[dict[str, Any]] = []
        self._sources: list[OutboxSource] = []
        self._lock = threading.Lock()

    def add_source(self, source: OutboxSource) -> None:
        self._sources.append(source)

    def add(self, item: dict[str, Any]) -> None:
        with self._lock:
            self._items.append(item)

    def items(self) -> list[dict[str, Any]]:
        with self._lock:
            items = list(self._items)
        for source in self._sources:
            items.extend(source.items())
        return sorted(items, key=lambda item: str(item.get("received_at", "")))  # stable: ties keep order

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
        for source in self._sources:
            source.clear()


class Faults:
    """Statuses the next sends of a provider answer with, each used once."""

    PROVIDERS = ("twilio", "whatsapp_cloud", "messenger", "instagram", "telegram")

    def __init__(self) -> None:
        self._pending: dict[str, list[int]] = {}
        self._lock = threading.Lock()

    def add(self, provider: str, status: int, times: int) -> None:
        if provider not in self.PROVIDERS:
            raise ValueError(f"unknown provider {provider!r}; known: {', '.join(self.PROVIDERS)}")
        if not 400 <= status <= 599 or times < 1:
            raise ValueError("status must be 4xx/5xx and times at least 1")
        with self._lock:
            self._pending.setdefault(provider, []).extend([status] * times)

    def take(self, provider: str) -> int | None:
        with self._lock:
            pending = self._pending.get(provider)
            return pending.pop(0) if pending else None

    def describe(self) -> dict[str, list[int]]:
        with self._lock:
            return {provider: list(statuses) for provider, statuses in self._pending.items() if statuses}

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()


class TwilioSandbox:
    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        outbox: Outbox,
        faults: Faults,
        callbacks: bool,
        now: Callable[[], datetime],
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.outbox = outbox
        self.faults = faults
        self.callbacks = callbacks
        self.now = now
        self.created: list[dict[str, Any]] = []     # what the Messages list answers (the dispatcher's lookup)
        self._lock = threading.Lock()

    def handle(self, method: str, path: str, url: str, headers: dict[str, str], body: bytes) -> Response:
        """Serve one request to ``/_sandbox/twilio<path>`` and record it in the outbox."""
        text = body.decode("utf-8", errors="replace")
        form = urllib.parse.parse_qs(text, keep_blank_values=True)
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query, keep_blank_values=True)
        status, extra_headers, document = self._answer(method, path, headers, form, query)
        self.outbox.add(
            {
                "provider": "twilio",
                "method": method,
                "url": url,
                "headers": redacted_headers(headers),
                "body": text,
                "form": {k: v[0] if len(v) == 1 else v for k, v in form.items()},
                "response": {"status": status, "body": document},
                "received_at": timestamp(self.now()),
            }
        )
        if status == 201 and self.callbacks and _first(form, "StatusCallback"):
            self._send_callbacks(document, _first(form, "StatusCallback"))
        return status, {"Content-Type": "application/json", **extra_headers}, json.dumps(document).encode()

    def _answer(
        self, method: str, path: str, headers: dict[str, str], form: dict[str, list[str]],
        query: dict[str, list[str]] | None = None,
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        fault = self.faults.take("twilio") if method == "POST" else None     # faults are for sends
        if fault is not None:
            if fault == 429:
                return 429, {"Retry-After": "1"}, twilio_error(429, 20429, "Too Many Requests")
            return fault, {}, twilio_error(fault, 20000 + fault, HTTPStatus(fault).phrase)
        if not self._authenticated(headers):
            return (
                401,
                {"WWW-Authenticate": 'Basic realm="Twilio API"'},
                twilio_error(401, 20003, "Authenticate"),
            )
        match = _MESSAGES_PATH.match(path)
        if match is None:
            return 404, {}, twilio_error(404, 20404, f"The requested resource {path} was not found")
        if match.group("sid") != self.account_sid:
            return 401, {}, twilio_error(401, 20003, "Authenticate")
        if method == "GET":
            return 200, {}, self._list_messages(query or {})
        if method != "POST":
            return 405, {}, twilio_error(405, 20405, "Method not allowed")
        status, extra, message = self._create_message(form)
        if status == 201:
            with self._lock:
                self.created.append(message)
                del self.created[:-MAX_LISTED]
        return status, extra, message

    def _list_messages(self, query: dict[str, list[str]]) -> dict[str, Any]:
        """The Messages list filtered by To and From, newest first, one page (``PageSize``, at most 1,000)."""
        to, sender = _first(query, "To"), _first(query, "From")
        size = _first(query, "PageSize")
        size_n = min(int(size), 1000) if size and size.isdigit() and int(size) > 0 else 50
        with self._lock:
            found = [m for m in reversed(self.created)
                     if (not to or m["to"] == to) and (not sender or m["from"] == sender)]
        return {"messages": found[:size_n], "page_size": size_n, "page": 0}

    def _authenticated(self, headers: dict[str, str]) -> bool:
        value = headers.get("authorization", "")
        if not value.lower().startswith("basic "):
            return False
        try:
            user, _, password = base64.b64decode(value[6:]).decode().partition(":")
        except ValueError:
            return False
        return hmac.compare_digest(user, self.account_sid) and hmac.compare_digest(password, self.auth_token)

    def _create_message(self, form: dict[str, list[str]]) -> tuple[int, dict[str, str], dict[str, Any]]:
        to, sender = _first(form, "To"), _first(form, "From")
        service, body = _first(form, "MessagingServiceSid"), _first(form, "Body") or ""
        media = [url for url in form.get("MediaUrl", []) if url]
        if not to:
            return 400, {}, twilio_error(400, 21604, "A 'To' phone number is required.")
        if not sender and not service:
            return 400, {}, twilio_error(400, 21603, "A 'From' phone number is required.")
        if not body and not media:
            return 400, {}, twilio_error(400, 21602, "Message body is required.")
        if len(body) > MAX_BODY:
            return (
                400,
                {},
                twilio_error(400, 21617, "The concatenated message body exceeds the 1600 character limit."),
            )
        magic = _MAGIC_TO.get(to.removeprefix("whatsapp:"))
        if magic is not None:
            return 400, {}, twilio_error(400, magic[0], magic[1])
        sid = "SM" + secrets.token_hex(16)
        created = format_datetime(self.now().replace(microsecond=0))
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}.json"
        message = {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": body,
            "date_created": created,
            "date_sent": None,
            "date_updated": created,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": sender or None,
            "messaging_service_sid": service or None,
            "num_media": str(len(media)),
            "num_segments": str(segments(body)),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued" if sender else "accepted",
            "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
            "to": to,
            "uri": uri,
        }
        return 201, {}, message

    def _send_callbacks(self, message: dict[str, Any], callback_url: str) -> None:
        """``sent`` then ``delivered``, signed as Twilio signs them, from a thread."""
        bodies = []
        for status in ("sent", "delivered"):
            params = {
                "MessageSid": message["sid"],
                "SmsSid": message["sid"],
                "SmsStatus": status,
                "MessageStatus": status,
                "AccountSid": self.account_sid,
                "From": message["from"] or "",
                "To": message["to"],
                "ApiVersion": API_VERSION,
            }
            if str(message["to"]).startswith("whatsapp:"):
                params["ChannelPrefix"] = "whatsapp"
            signature = twilio_signature(callback_url, {k: [v] for k, v in params.items()}, self.auth_token)
            headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature,
                       "User-Agent": "TwilioProxy/1.1"}
            bodies.append((urllib.parse.urlencode(params).encode(), headers))
        post_in_background(f"twilio status callback {message['sid']}", callback_url, bodies)


def post_in_background(label: str, url: str, bodies: list[tuple[bytes, dict[str, str]]]) -> None:
    """POST each body in turn, CALLBACK_INTERVAL_SECONDS apart, from a thread; log each outcome."""

    def run() -> None:
        for body, headers in bodies:
            time.sleep(CALLBACK_INTERVAL_SECONDS)
            request = urllib.request.Request(url, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=15) as response:  # configured webhook URL
                    outcome = str(response.status)
            except urllib.error.HTTPError as error:
                outcome = str(error.code)
            except OSError as error:
                outcome = f"failed ({error})"
            log.info("%s -> %s %s", label, url, outcome)

    threading.Thread(target=run, daemon=True, name=f"webhook {label}").start()


# ---------------------------------------------------------------- media files served by the sandboxes

_COMMENT_PAYLOAD = 65533  # the most a JPEG COM segment holds
BIG_COMMENTS = 410  # a "big" file: about 26.9 MB (over WhatsApp's and Telegram's download limits)
_JPEG_HEAD = b"\xff\xd8" + b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
# One 8x8 grey block: quantisation table, frame header, minimal DC and AC Huffman tables, one scan.
_JPEG_TAIL = (
    b"\xff\xdb\x00\x43\x00" + b"\x01" * 64
    + b"\xff\xc0\x00\x0b\x08\x00\x08\x00\x08\x01\x01\x11\x00"
    + b"\xff\xc4\x00\x14\x00\x01" + b"\x00" * 15 + b"\x00"
    + b"\xff\xc4\x00\x14\x10\x01" + b"\x00" * 15 + b"\x00"
    + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00" + b"\x3f"
    + b"\xff\xd9"
)  # fmt: skip


def _comment(payload: bytes) -> bytes:
    return b"\xff\xfe" + (len(payload) + 2).to_bytes(2, "big") + payload


def jpeg(label: str) -> bytes:
    """A small valid JPEG (8x8 grey) whose bytes differ per label: the same label, the same bytes."""
    return _JPEG_HEAD + _comment(label.encode("utf-8")[:_COMMENT_PAYLOAD]) + _JPEG_TAIL


def big_jpeg_size() -> int:
    return len(_JPEG_HEAD) + BIG_COMMENTS * (_COMMENT_PAYLOAD + 4) + len(_JPEG_TAIL)


def big_jpeg_chunks() -> Iterator[bytes]:
    """A valid JPEG of ``big_jpeg_size()`` bytes, padded with comment segments, generated chunk by chunk."""
    yield _JPEG_HEAD
    filler = _comment(bytes(range(256)) * (_COMMENT_PAYLOAD // 256) + b"\x00" * (_COMMENT_PAYLOAD % 256))
    for _ in range(BIG_COMMENTS):
        yield filler
    yield _JPEG_TAIL


_big_digest: list[str] = []


def big_jpeg_sha256() -> str:
    if not _big_digest:
        digest = hashlib.sha256()
        for chunk in big_jpeg_chunks():
            digest.update(chunk)
        _big_digest.append(digest.hexdigest())
    return _big_digest[0]


def _first(form: dict[str, list[str]], name: str) -> str:
    values = form.get(name)
    return values[0] if values else ""
