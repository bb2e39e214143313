"""The shop's website chat widget: visitor and session tokens, origin checks, rate limits, uploads,
and the inbound message a widget post becomes. No provider: the widget and its API are ours; this
module is the pure logic the widget API is built from (no I/O, every clock passed in).

Visitor tokens (signed by the shop's backend)
---------------------------------------------
A shop that knows who its visitor is (a logged-in customer) signs a short-lived visitor token on its
own server with the per-shop widget secret and hands it to the widget, which starts a session with
it. The format is deliberately tiny so any language can produce it without a JWT library::

    token   = B64(payload) + "." + B64(signature)
    payload = UTF-8 JSON object: {"visitor_id": "...", "exp": <Unix seconds>, "name"?: "...", "email"?: "..."}
    signature = HMAC-SHA256(key = UTF-8 bytes of the widget secret, message = ASCII bytes of B64(payload))
    B64     = base64url without "=" padding (RFC 4648 section 5)

Rules: ``visitor_id`` is 1-128 characters of ``A-Z a-z 0-9 _ . : @ -``, not only dots (``.`` and ``..`` name
folders in a path, and the id names the visitor's folder of uploads), and must be stable for one customer (their
id in the shop); a signed token whose ``visitor_id`` breaks these rules is a 400 naming them; ``exp`` is an
integer at most 24 hours ahead (tokens are meant to be minted per page view, 1 hour is typical); ``name`` up to
200 characters, ``email`` an address. Unknown claims are ignored. Sign on the server only: the secret must never
reach the browser.

Python::

    import base64, hashlib, hmac, json, time

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    def visitor_token(secret: str, visitor_id: str, name: str | None = None, email: str | None = None) -> str:
        claims = {"visitor_id": visitor_id, "exp": int(time.time()) + 3600}
        claims.update({k: v for k, v in {"name": name, "email": email}.items() if v})
        payload = b64(json.dumps(claims).encode())
        signature = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()
        return payload + "." + b64(signature)

JavaScript (Node.js)::

    const crypto = require("crypto");

    function visitorToken(secret, visitorId, name, email) {
      const claims = { visitor_id: visitorId, exp: Math.floor(Date.now() / 1000) + 3600 };
      if (name) claims.name = name;
      if (email) claims.email = email;
      const payload = Buffer.from(JSON.stringify(claims)).toString("base64url");
      const signature = crypto.createHmac("sha256", secret).update(payload).digest("base64url");
      return `${payload}.${signature}`;
    }

Session tokens (ours)
---------------------
After the start call the widget holds a session token in the same shape, signed with the server's
own secret over ``"shopdesk-session." + B64(payload)`` (so neither kind of token passes for the
other), carrying the visitor, the conversation once there is one, issued-at and a 1 hour expiry.

Everything that fails a check raises ``InvalidSignature`` (tokens) or ``BadRequest`` (input, and a signed
visitor token whose ``visitor_id`` is not one) with a reason that is safe to show to the shop's developer; nothing
here logs or echoes a secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import re
import unicodedata
import urllib.parse
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from shopdesk.errors import BadRequest, InvalidSignature
from shopdesk.models.message import Attachment, InboundMessage

PROVIDER = "webchat"
CHANNEL = "webchat"
IDENTITY_KIND = "webchat"

MAX_TOKEN_CHARS = 4096
MAX_VISITOR_TOKEN_LIFETIME = timedelta(hours=24)
SESSION_TTL_S = 3600
MIN_SECRET_CHARS = 16
MAX_TEXT = 5000
MAX_ATTACHMENTS = 10
MAX_UPLOAD_BYTES = 10_000_000
MAX_FILENAME = 100

_SESSION_CONTEXT = b"shopdesk-session."
_VISITOR_ID_RE = re.compile(r"[A-Za-z0-9_.:@-]{1,128}")
VISITOR_ID_RULE = "visitor_id must be 1-128 characters of A-Z a-z 0-9 _ . : @ -, not only dots"
_CLIENT_MESSAGE_ID_RE = re.compile(r"[A-Za-z0-9_.-]{1,128}")
_EMAIL_RE = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")
_B64URL_RE = re.compile(r"[A-Za-z0-9_-]+")


# ------------------------------------------------------------------------------- token format

def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes:
    """Strict base64url without padding: only the canonical spelling of a byte string decodes."""
    if not _B64URL_RE.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64encode(data) != text:
        raise ValueError("not canonical base64url")
    return data


def _mac(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def _seal(claims: Mapping[str, Any], secret: str, context: bytes) -> str:
    payload = _b64encode(json.dumps(dict(claims), ensure_ascii=False, separators=(",", ":")).encode())
    return f"{payload}.{_b64encode(_mac(secret, context + payload.encode()))}"


def _open(token: Any, secret: str, context: bytes, what: str) -> dict[str, Any]:
    """The claims of a token whose signature holds (format first, then the MAC, only then JSON)."""
    if not secret:
        raise InvalidSignature(f"{what} cannot be checked: no secret is configured")
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
        raise InvalidSignature(f"{what} is malformed (expected <payload>.<signature>)")
    payload, signature = token.split(".")
    try:
        given = _b64decode(signature)
        _b64decode(payload)
    except (ValueError, binascii.Error) as exc:
        raise InvalidSignature(f"{what} is malformed (not base64url)") from exc
    if not hmac.compare_digest(given, _mac(secret, context + payload.encode())):
        raise InvalidSignature(f"{what} signature does not match")
    try:
        claims = json.loads(_b64decode(payload).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidSignature(f"{what} payload is not JSON") from exc
    if not isinstance(claims, dict):
        raise InvalidSignature(f"{what} payload is not a JSON object")
    return claims


def _timestamp(now: datetime) -> float:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.timestamp()


def _check_secret(secret: str) -> None:
    if not isinstance(secret, str) or len(secret) < MIN_SECRET_CHARS:
        raise ValueError(f"a signing secret needs at least {MIN_SECRET_CHARS} characters")


# ------------------------------------------------------------------------------- claims

def usable_visitor_id(value: object) -> bool:
    """Whether ``value`` may name a visitor: the id is their identity's address, part of their keys in the table
    and the folder of their uploads in the media bucket (``media/webchat/<visitor_id>/``, ``dal.media``), so
    besides the characters allowed (no ``/``) it is not a path's ``.`` or ``..`` (nor any run of dots only)."""
    return isinstance(value, str) and bool(_VISITOR_ID_RE.fullmatch(value)) and value.strip(".") != ""


class VisitorClaims(BaseModel):
    """Who the shop says the visitor is."""

    model_config = ConfigDict(frozen=True, extra="ignore", strict=True)

    visitor_id: str
    exp: int
    name: str | None = None
    email: str | None = None

    @field_validator("visitor_id")
    @classmethod
    def _visitor_id(cls, value: str) -> str:
        if not usable_visitor_id(value):
            raise ValueError(VISITOR_ID_RULE)
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is None:
            return None
        cleaned = " ".join(_printable(value).split())
        if len(cleaned) > 200:
            raise ValueError("name is longer than 200 characters")
        return cleaned or None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if len(value) > 254 or not _EMAIL_RE.fullmatch(value):
            raise ValueError("email is not an email address")
        return value


class SessionClaims(BaseModel):
    """What a widget session token carries."""

    model_config = ConfigDict(frozen=True, extra="ignore", strict=True)

    typ: str
    visitor_id: str
    iat: int
    exp: int
    shop: str | None = None
    conversation_id: str | None = None
    name: str | None = None
    email: str | None = None

    @property
    def visitor(self) -> VisitorClaims:
        return VisitorClaims(visitor_id=self.visitor_id, exp=self.exp, name=self.name, email=self.email)


def _claims_error(what: str, exc: ValidationError) -> InvalidSignature:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first.get("loc", ())) or "claims"
    message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    return InvalidSignature(f"{what} claim {field} is invalid: {message}")


# ------------------------------------------------------------------------------- visitor tokens

def sign_visitor_token(claims: VisitorClaims | Mapping[str, Any], secret: str) -> str:
    """A visitor token as the shop's backend makes it (tests, tooling, a shop on Python)."""
    _check_secret(secret)
    try:
        model = claims if isinstance(claims, VisitorClaims) else VisitorClaims.model_validate(dict(claims))
    except ValidationError as exc:
        raise ValueError(str(_claims_error("visitor token", exc))) from exc
    return _seal(model.model_dump(exclude_none=True), secret, b"")


def verify_visitor_token(token: str, secret: str, *, now: datetime, leeway_s: float = 30) -> VisitorClaims:
    """The visitor a shop vouches for. ``InvalidSignature`` when the token is malformed, signed with
    another secret, tampered with, expired (beyond ``leeway_s`` of clock skew), or valid for more
    than 24 hours from ``now``."""
    claims = _open(token, secret, b"", "visitor token")
    try:
        visitor = VisitorClaims.model_validate(claims)
    except ValidationError as exc:
        if "visitor_id" in claims and not usable_visitor_id(claims["visitor_id"]):
            # the shop signed it (the signature holds): not a question of who the caller is, but of what was sent
            raise BadRequest(f"visitor token claim visitor_id is invalid: {VISITOR_ID_RULE}") from exc
        raise _claims_error("visitor token", exc) from exc
    moment = _timestamp(now)
    if visitor.exp + leeway_s < moment:
        raise InvalidSignature("visitor token expired")
    if visitor.exp - leeway_s > moment + MAX_VISITOR_TOKEN_LIFETIME.total_seconds():
        raise InvalidSignature("visitor token expires more than 24 hours from now; mint one per page view")
    return visitor


# ------------------------------------------------------------------------------- session tokens

def issue_session(visitor: VisitorClaims, secret: str, *, now: datetime, conversation_id: str | None = None,
                  shop: str | None = None, ttl_s: int = SESSION_TTL_S) -> str:
    """A session token for the widget (1 hour by default). Issue a new one when the conversation
    becomes known or the old one nears its end."""
    _check_secret(secret)
    if not 0 < ttl_s <= SESSION_TTL_S:
        raise ValueError(f"a session lasts at most {SESSION_TTL_S} seconds")
    issued = math.floor(_timestamp(now))
    claims = SessionClaims(typ="session", visitor_id=visitor.visitor_id, iat=issued, exp=issued + ttl_s, shop=shop,
                           conversation_id=conversation_id, name=visitor.name, email=visitor.email)
    return _seal(claims.model_dump(exclude_none=True), secret, _SESSION_CONTEXT)


def verify_session(token: str, secret: str, *, now: datetime, shop: str | None = None,
                   leeway_s: float = 30) -> SessionClaims:
    """The session a widget request carries. ``InvalidSignature`` when malformed, forged, expired,
    issued in the future, or issued for another shop (when ``shop`` is given)."""
    claims = _open(token, secret, _SESSION_CONTEXT, "session token")
    try:
        session = SessionClaims.model_validate(claims)
    except ValidationError as exc:
        raise _claims_error("session token", exc) from exc
    if session.typ != "session" or not usable_visitor_id(session.visitor_id):
        raise InvalidSignature("session token is not a widget session")
    moment = _timestamp(now)
    if session.exp + leeway_s < moment:
        raise InvalidSignature("session token expired")
    if session.iat - leeway_s > moment or session.exp - session.iat > SESSION_TTL_S:
        raise InvalidSignature("session token times are not valid")
    if shop is not None and session.shop != shop:
        raise InvalidSignature("session token belongs to another shop")
    return session


# ------------------------------------------------------------------------------- origins

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(value: str) -> tuple[str, str, int] | None:
    """(scheme, lower-case host, port) of a serialized origin; None when it is not one."""
    try:
        parts = urllib.parse.urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname or parts.username is not None \
            or parts.password is not None or parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    scheme = parts.scheme.lower()
    return scheme, parts.hostname.lower().rstrip("."), port if port is not None else _DEFAULT_PORTS[scheme]


def origin_allowed(origin: str | None, allowed: Collection[str]) -> bool:
    """Whether a browser ``Origin`` may use the widget API.

    ``allowed`` entries are origins: ``https://shop.example.com``, ``http://localhost:3000``; an entry
    without a scheme means ``https``. A ``*.`` host (``https://*.example.com``) matches subdomains at
    any depth but not ``example.com`` itself (list that too). Scheme and port must match exactly
    (default ports are implied); hosts compare case-insensitively. Never allowed: a missing origin,
    ``null`` (sandboxed frames, ``file:``), a bare ``*`` entry, or a wildcard over a single label
    (``*.com``).
    """
    if not origin or origin.strip().lower() == "null":
        return False
    seen = _origin(origin)
    if seen is None:
        return False
    scheme, host, port = seen
    for entry in allowed:
        entry = (entry or "").strip()
        if not entry or entry == "*":
            continue
        if "://" not in entry:
            entry = "https://" + entry
        wildcard = "://*." in entry
        rule = _origin(entry.replace("://*.", "://", 1) if wildcard else entry)
        if rule is None or rule[0] != scheme or rule[2] != port:
            continue
        if not wildcard and rule[1] == host:
            return True
        if wildcard and "." in rule[1] and host.endswith("." + rule[1]):
            return True
    return False


# ------------------------------------------------------------------------------- rate limits

@dataclass(frozen=True)
class BucketState:
    """A token bucket as the caller stores it (e.g. two numbers on a DynamoDB item)."""

    tokens: float
    updated_at: float            # seconds, the same clock as ``now``


def consume(state: BucketState | None, now: float, rate_per_s: float, burst: int, cost: int = 1
            ) -> tuple[bool, BucketState, float]:
    """Token bucket: up to ``burst`` requests at once, refilled at ``rate_per_s``.

    Returns (allowed, the state to store, seconds until ``cost`` tokens will be there: 0 when
    allowed). A new bucket (``state`` None) starts full. A clock that went backwards refills nothing.
    A refused request consumes nothing, so retrying after ``retry_after`` succeeds.
    """
    if rate_per_s <= 0 or burst < 1:
        raise ValueError("rate_per_s must be positive and burst at least 1")
    if not 0 < cost <= burst:
        raise ValueError("cost must be between 1 and burst")
    if state is None:
        tokens, last = float(burst), now
    else:
        elapsed = max(0.0, now - state.updated_at)
        tokens, last = min(float(burst), state.tokens + elapsed * rate_per_s), max(now, state.updated_at)
    if tokens >= cost:
        return True, BucketState(tokens - cost, last), 0.0
    return False, BucketState(tokens, last), (cost - tokens) / rate_per_s


@dataclass(frozen=True)
class RateLimiter:
    """One limit (e.g. 1 message/s with bursts of 5 per session), applied with ``consume``."""

    rate_per_s: float
    burst: int

    def consume(self, state: BucketState | None, now: float, cost: int = 1) -> tuple[bool, BucketState, float]:
        return consume(state, now, self.rate_per_s, self.burst, cost)


# ------------------------------------------------------------------------------- inbound

def _printable(text: str) -> str:
    """Text without control characters (tabs and line breaks kept, CRLF as LF)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(c for c in text if c in "\n\t" or unicodedata.category(c) != "Cc")


_CHOICE_RE = re.compile(r"[A-Za-z0-9_.:-]{1,128}")


def webchat_inbound(visitor: VisitorClaims, text: str | None, client_message_id: str, shop_address: str, *,
                    attachments: Sequence[Attachment] = (), sent_at: datetime | None = None,
                    raw: Mapping[str, Any] | None = None, choice: str | None = None,
                    language: str | None = None) -> InboundMessage:
    """A message the visitor posted through the widget.

    ``language``: the code of the first language we answer that the browser's ``Accept-Language`` named
    (``logic.language.from_language_header``), kept as ``payload["accept_language"]`` for the understanding layer;
    the header itself is not kept.

    ``choice``: the id of a button the visitor pressed (one of the ``choices`` a reply offered: the bot's
    yes/no, a satisfaction survey's ``csat:1``..``csat:5``); the text is then the button's title.

    ``text`` is stripped and must be 1-5000 characters, unless the message carries attachments
    (then it may be empty). ``client_message_id`` is the widget's own id for the message, reused
    when it retries a post; the dedupe key is ``"<visitor_id>/<client_message_id>"`` so one visitor's
    ids never collide with another's (neither part can contain ``/``).
    """
    if not isinstance(client_message_id, str) or not _CLIENT_MESSAGE_ID_RE.fullmatch(client_message_id):
        raise BadRequest("client_message_id must be 1-128 characters of A-Z a-z 0-9 _ . -")
    if not shop_address:
        raise BadRequest("shop_address is required")
    body = _printable(text or "").strip()
    if len(body) > MAX_TEXT:
        raise BadRequest(f"The message is longer than {MAX_TEXT} characters")
    files = list(attachments)
    if len(files) > MAX_ATTACHMENTS:
        raise BadRequest(f"A message can carry at most {MAX_ATTACHMENTS} attachments")
    if not body and not files:
        raise BadRequest("The message is empty")
    payload: dict[str, Any] = {"client_message_id": client_message_id}
    if visitor.email:
        payload["email"] = visitor.email
    if choice is not None:
        if not _CHOICE_RE.fullmatch(choice):
            raise BadRequest("choice must be the id of one of the reply's choices (1-128 characters of A-Z a-z 0-9 "
                             "_ . : -)")
        payload["choice"] = choice
    if isinstance(language, str) and 0 < len(language) <= 35:
        payload["accept_language"] = language
    return InboundMessage(
        provider=PROVIDER, provider_id=f"{visitor.visitor_id}/{client_message_id}", channel=CHANNEL,
        identity_kind=IDENTITY_KIND, customer_address=visitor.visitor_id, shop_address=shop_address,
        reply_to=visitor.visitor_id, text=body or None, attachments=files, profile_name=visitor.name,
        kind="interactive" if choice else "text" if body else "media", payload=payload, sent_at=sent_at,
        raw=dict(raw or {}),
    )


# ------------------------------------------------------------------------------- uploads

# Safe to show in an agent's browser: no SVG (scripts), no HTML, no archives or executables.
DEFAULT_UPLOAD_TYPES: tuple[str, ...] = ("image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf",
                                         "text/plain")
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "image/jpeg": (".jpg", ".jpeg", ".jpe", ".jfif"),
    "image/png": (".png",),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
    "application/pdf": (".pdf",),
    "text/plain": (".txt", ".text", ".log"),
}
_TYPE_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg"}
_RESERVED_NAMES = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


@dataclass(frozen=True)
class CheckedUpload:
    filename: str
    content_type: str
    size: int


def sanitize_filename(name: str | None, default: str = "attachment") -> str:
    """A file name safe to store and to put in a Content-Disposition header: the last path part,
    NFC, no control or invisible formatting characters (e.g. right-to-left overrides), no
    ``<>:"|?*``, no leading dots, at most 100 characters with the extension kept."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = re.sub(r'[<>:"|?*]', "_", name)
    name = " ".join(name.split()).strip(" .")
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or len(ext) > 10:
        stem, ext = name, ""
    ext = f".{ext}" if ext else ""
    stem = stem[: MAX_FILENAME - len(ext)].rstrip(" .")
    if stem.upper() in _RESERVED_NAMES:
        stem = f"_{stem}"
    return f"{stem}{ext}" if stem else default


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f}".rstrip("0").rstrip(".") + " MB"


def check_upload(filename: str | None, content_type: str | None, size: int, *, max_bytes: int = MAX_UPLOAD_BYTES,
                 allowed_types: Collection[str] = DEFAULT_UPLOAD_TYPES) -> CheckedUpload:
    """Whether the widget may upload this file, before any byte is accepted: type in the allowed list,
    extension consistent with the type (one is added when the name has none), 1 byte to ``max_bytes``.
    Returns the sanitized name and the normalized type; ``BadRequest`` says what is wrong."""
    declared = (content_type or "").split(";", 1)[0].strip().lower()
    kind = _TYPE_ALIASES.get(declared, declared)
    allowed = {_TYPE_ALIASES.get(t.lower(), t.lower()) for t in allowed_types}
    if not kind:
        raise BadRequest("The file's type is missing")
    if kind not in allowed:
        raise BadRequest(f"Files of type {kind} cannot be sent here (allowed: {', '.join(sorted(allowed))})")
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise BadRequest("The file is empty")
    if size > max_bytes:
        raise BadRequest(f"The file is {_megabytes(size)}; the limit is {_megabytes(max_bytes)}")
    name = sanitize_filename(filename)
    extensions = EXTENSIONS.get(kind)
    if extensions:
        _, dot, ext = name.rpartition(".")
        if not dot or name.startswith(".") or name == ext:
            name = f"{name}{extensions[0]}"
        elif f".{ext.lower()}" not in extensions:
            raise BadRequest(f'"{name}" does not look like a {kind} file (expected {", ".join(extensions)})')
    return CheckedUpload(name, kind, size)
