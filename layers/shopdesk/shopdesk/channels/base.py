"""The contract every channel module keeps.

A channel module (``channels/<provider>.py``) is pure where it can be and does I/O only through
plain HTTPS (urllib) or boto3 in its sender:

- ``verify_*``: authenticity of a webhook (signature, secret token, SNS certificate). Never raises
  on bad input; returns False.
- ``parse(...) -> list[WebhookItem]``: every item of a (possibly batched) webhook as
  ``InboundMessage`` (a customer wrote), ``StatusUpdate`` (a receipt for one of our sends) or
  ``TimelineEvent`` (reaction, edit, unsend, echo, referral, unknown) with its English ``text`` and the same
  said structured (``timeline_event``). Unknown fields and types never break parsing; malformed bodies raise
  ``BadRequest``.
- a sender with ``send(OutboundRequest) -> SendResult`` raising ``ProviderError`` (``retryable``
  for rate limits, 5xx and network errors; a human-readable ``message`` and the provider's
  ``code`` otherwise). The ``message`` says what the provider answered, never what happens next (whether the
  reply will be retried): the dispatcher adds that (``logic.dispatch.failure_text``).
- ``fetch_media(...) -> Media`` where the provider keeps files behind its own auth.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from pydantic import ValidationError

from shopdesk.bounds import bound_text
from shopdesk.errors import BadRequest, ProviderError
from shopdesk.models.message import SystemEvent, UnsupportedItem, WebhookItem

MAX_ID_CHARS = 256      # a provider id or address longer than this is not one (Meta's are < 100)


@dataclass(frozen=True)
class Template:
    """An approved message template (WhatsApp) with its parameters."""

    name: str
    language: str
    parameters: list[str] = field(default_factory=list)
    provider_ref: str | None = None           # Twilio's ContentSid for the same template


@dataclass(frozen=True)
class OutboundFile:
    """A file of an agent's reply: ``url`` a presigned GET the provider can fetch for a while, ``key`` our
    copy in the media bucket (for senders that upload the bytes themselves: email, Telegram documents)."""

    url: str
    content_type: str | None = None
    filename: str | None = None
    size: int | None = None
    key: str | None = None


@dataclass(frozen=True)
class OutboundRequest:
    channel: str
    to: str
    sender: str
    text: str | None = None
    media_urls: tuple[str, ...] = ()
    template: Template | None = None
    reply_context: str | None = None          # provider id of the customer message being answered
    tag: str | None = None                    # Messenger/Instagram message tag (HUMAN_AGENT)
    status_callback: str | None = None        # Twilio
    subject: str | None = None                # email
    in_reply_to: str | None = None            # email Message-ID (no brackets)
    references: tuple[str, ...] = ()          # email
    reply_address: str | None = None          # email Reply-To carrying the conversation token
    choices: tuple[tuple[str, str], ...] = ()  # (id, title) reply buttons (WhatsApp Cloud, Messenger, Telegram)
    files: tuple[OutboundFile, ...] = ()      # an agent's attachments (typed); media_urls: bare links
    reference: str | None = None              # ours, for the provider to carry back in its receipts (#14)
    auto_submitted: str | None = None         # email (RFC 3834): auto-replied / auto-generated; None: a person's

    def outbound_files(self) -> tuple[OutboundFile, ...]:
        """The files to send: ``files``, else a file per bare ``media_urls`` link (its type unknown)."""
        return self.files or tuple(OutboundFile(url=url) for url in self.media_urls)


@dataclass(frozen=True)
class SendResult:
    provider_id: str
    status: str = "accepted"


@dataclass(frozen=True)
class Media:
    content: bytes
    content_type: str | None
    filename: str | None = None


class Sender(Protocol):
    def send(self, request: OutboundRequest) -> SendResult: ...


@runtime_checkable
class Lookup(Protocol):
    """A sender whose provider can be asked whether it already has a message (#14): Twilio's Messages list."""

    def find(self, request: OutboundRequest, since: datetime) -> SendResult | None: ...


def http_json(url: str, *, method: str = "GET", body: Mapping[str, Any] | None = None,
              headers: Mapping[str, str] | None = None, timeout: float = 10.0, provider: str = "provider",
              raw: tuple[bytes, str] | None = None) -> tuple[int, dict[str, Any], Mapping[str, str]]:
    """One request answered with JSON. Returns (status, body, headers) for any HTTP answer; raises a retryable
    ProviderError only when the provider could not be reached or answered something not JSON. The body is
    ``body`` as JSON, or ``raw`` (bytes, content type): a multipart form, for instance."""
    data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
    sent = {"Accept": "application/json", "User-Agent": "shopdesk", **(headers or {})}
    if raw is not None:
        data = raw[0]
        sent["Content-Type"] = raw[1]
    if data is not None:
        sent.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(url, data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw, status, answer_headers = response.read(), response.status, response.headers
    except urllib.error.HTTPError as exc:
        raw, status, answer_headers = exc.read(), exc.code, exc.headers
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        raise ProviderError(f"{provider} could not be reached: {exc}", code=None, retryable=True) from exc
    try:
        parsed = json.loads(raw) if raw else {}
    except json.JSONDecodeError as exc:
        raise ProviderError(f"{provider} answered HTTP {status} with a body that is not JSON", code=None,
                            retryable=status >= 500 or status == 429, http_status=status) from exc
    return status, parsed if isinstance(parsed, dict) else {"data": parsed}, answer_headers


def _origin(url: str) -> tuple[str, str, int | None]:
    split = urllib.parse.urlsplit(url)
    return split.scheme.lower(), (split.hostname or "").lower(), split.port


class _Redirects(urllib.request.HTTPRedirectHandler):
    """A download's redirects: credentials (``Authorization``, ``Cookie``) never follow one to another origin
    (urllib's own handler copies every header), an https download is never redirected to plain http, and
    ``follow``, when given, must accept the new address (a ProviderError ``foreign_url`` otherwise)."""

    def __init__(self, provider: str, follow: Callable[[str], bool] | None) -> None:
        self._provider, self._follow = provider, follow

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any,
                         newurl: str) -> urllib.request.Request | None:
        newurl = urllib.parse.urljoin(req.full_url, newurl)
        old, new = _origin(req.full_url), _origin(newurl)
        if (old[0] == "https" and new[0] != "https") or (self._follow is not None and not self._follow(newurl)):
            fp.close()
            raise ProviderError(f"{self._provider} redirected the download to {new[1] or '?'}, which is not trusted",
                                code="foreign_url", retryable=False)
        redirected = super().redirect_request(req, fp, code, msg, headers, newurl)
        if redirected is not None and new != old:
            for name in ("Authorization", "Cookie"):
                redirected.remove_header(name)
        return redirected


def http_bytes(url: str, *, headers: Mapping[str, str] | None = None, timeout: float = 20.0,
               max_bytes: int, provider: str = "provider", follow: Callable[[str], bool] | None = None) -> Media:
    """Download a file, refusing (ProviderError, not retryable) anything over ``max_bytes``. Redirects are
    followed as ``_Redirects`` says: never with the credentials to another origin, only where ``follow`` allows."""
    request = urllib.request.Request(url, headers={"User-Agent": "shopdesk", **(headers or {})})
    opener = urllib.request.build_opener(_Redirects(provider, follow))
    try:
        with opener.open(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise ProviderError(f"file is larger than {max_bytes // 1_000_000} MB", code="too_large",
                                    retryable=False)
            content = response.read(max_bytes + 1)
            if len(content) > max_bytes:
                raise ProviderError(f"file is larger than {max_bytes // 1_000_000} MB", code="too_large",
                                    retryable=False)
            return Media(content, response.headers.get_content_type() if response.headers else None)
    except urllib.error.HTTPError as exc:
        raise ProviderError(f"{provider} refused the download (HTTP {exc.code})", code=str(exc.code),
                            retryable=exc.code == 429 or exc.code >= 500, http_status=exc.code) from exc
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        raise ProviderError(f"{provider} could not be reached: {exc}", code=None, retryable=True) from exc


# ------------------------------------------------------------------------------- inbound items

def usable_id(value: Any) -> str | None:
    """A provider id or address as a string, when it can be one: a non-blank string or number of at
    most ``MAX_ID_CHARS`` characters without control characters. None otherwise."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or len(value) > MAX_ID_CHARS or not value.isprintable():
        return None
    return value


def shown_id(value: Any) -> str | None:
    """A provider's id as the log and the unsupported record show it (bounded), when it has one."""
    if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
        return bound_text(str(value).strip(), 300).value
    return None


def unsupported(provider: str, reason: str, raw: Any, item_id: Any = None, *, identity_kind: str | None = None,
                customer_address: str | None = None, code: str = "unreadable") -> UnsupportedItem:
    return UnsupportedItem(provider=provider, reason=bound_text(reason, 500).value or "unreadable", code=code,
                           item_id=shown_id(item_id), identity_kind=identity_kind,
                           customer_address=customer_address if identity_kind else None, raw=raw)


def timeline_event(kind: str, **params: Any) -> SystemEvent:
    """What a provider's event says, structured (``TimelineEvent.event``), for an inbox to word in its agent's
    language (web/src/timelineEvents.ts) beside the English ``text``; params that are None are left out.

    The kinds and their params (``?``: only when there is one; ``channel`` names the provider as the inbox names
    channels: messenger, instagram, whatsapp, telegram):

    - ``reaction`` {action: added | removed, emoji? (the emoji, several separated by spaces), custom_emoji? (how
      many custom emoji, which have no character)}
    - ``edit`` {text?} (the new text; none: a file without a caption), ``unsend`` {channel}
    - ``echo`` {channel, text? | content?} (what the business sent from elsewhere: its text, else its type)
    - ``referral`` {source? (ads, shortlink, customer_chat_plugin, discover_tab, product, …), ad_title?, ad_id?,
      ref?}, ``optin`` {notifications?: stopped | resumed, title?}
    - WhatsApp: ``account_changed`` {channel, number?, detail? (WhatsApp's words)}, ``chat_opened`` {channel},
      ``preference`` {choice: stop | resume | …, category, detail?}
    - Telegram: ``bot_blocked`` {}, ``bot_unblocked`` {}, ``bot_status_changed`` {from?, to?}
    - ``unknown`` {channel, name?} (the event's field, as the provider names it)
    - made by the webhook for an UnsupportedItem: ``unsupported`` {reason: ``UnsupportedItem.code``, detail}

    Free text in params (an edit's or an echo's text, an ad's title) is the customer's or the provider's as it is:
    ``logic.webhooks`` masks it as it masks ``text``, and the item bounds it (``dal/items.py``).
    """
    return SystemEvent(kind=kind, params={k: v for k, v in params.items() if v is not None})


def item_or_unsupported(provider: str, raw: Any, parse_one: Callable[[], list[WebhookItem]],
                        item_id: Any = None, identity: tuple[str, str] | None = None) -> list[WebhookItem]:
    """One item of a batch: what ``parse_one`` reads, or an UnsupportedItem when the item is not what
    the provider documents (``BadRequest`` from the parser, a ``ValidationError`` from the models).
    ``identity`` (kind, address) names the customer when the caller could tell who wrote, so the
    webhook can show the unsupported item on their open conversation."""
    code = "unreadable"
    try:
        return parse_one()
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        reason, code = f"{where}: {first['msg']}" if where else first["msg"], "invalid"
    except (BadRequest, ValueError) as exc:
        reason = str(exc)
    kind, address = identity or (None, None)
    return [unsupported(provider, reason, raw, item_id, identity_kind=kind, customer_address=address, code=code)]
