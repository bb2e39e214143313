"""What WhatsApp Cloud API, Messenger and Instagram share: Meta's webhook signature and handshake,
Graph API errors with human-readable reasons, and a small Graph API client.

Rules followed (Meta Graph API "Webhooks: Getting started", WhatsApp and Messenger error-code pages):

- ``X-Hub-Signature-256: sha256=<lowercase hex HMAC-SHA256(app secret, raw body)>``. Meta signs the bytes
  it sends (an escaped-unicode rendering), so the hash is taken over the request body exactly as
  received, never over a ``json.loads`` + ``json.dumps`` round trip. The legacy SHA-1 header is not
  accepted: it is weaker and every Meta webhook also carries the SHA-256 one.
- The subscription handshake is a GET with ``hub.mode=subscribe``, ``hub.verify_token`` and
  ``hub.challenge``; the answer is ``200`` with the raw challenge, else ``403``. PHP front ends turn
  the dots into underscores (``hub_mode``), so both spellings are read.
- Graph API errors arrive as ``{"error": {"message", "type", "code", "error_subcode", "is_transient",
  "error_data": {"details"}, "fbtrace_id"}}``. Rate limits, 5xx and ``is_transient`` are retryable;
  everything else another attempt cannot fix.
"""

from __future__ import annotations

import hashlib
import hmac
import urllib.parse
from collections.abc import Iterator, Mapping
from typing import Any

from shopdesk.bounds import loads
from shopdesk.channels.base import Media, http_bytes, http_json
from shopdesk.errors import BadRequest, ProviderError

SIGNATURE_HEADER = "X-Hub-Signature-256"
GRAPH_URL = "https://graph.facebook.com"
GRAPH_VERSION = "v21.0"
MAX_MEDIA_BYTES = 20_000_000

# The webhook ``object`` of each product, and the provider id our channel modules use for it.
PROVIDER_BY_OBJECT = {"whatsapp_business_account": "whatsapp_cloud", "page": "messenger", "instagram": "instagram"}
OBJECT_BY_PROVIDER = {provider: obj for obj, provider in PROVIDER_BY_OBJECT.items()}

# Human-readable reasons for the Graph API errors agents meet most. Keys are the error ``code``, or
# ``code/subcode`` where the subcode changes the meaning (Messenger 10/2018278).
ERROR_REASONS = {
    # WhatsApp Cloud API (Meta's WhatsApp error-codes page)
    "131047": "The 24-hour window is closed: send an approved template",
    "131026": "The message could not be delivered: the number is not on WhatsApp, or the customer's app is "
              "too old or has not accepted WhatsApp's terms",
    "131049": "WhatsApp held back this marketing message to keep engagement healthy (per-customer limit); "
              "wait at least 24 hours before trying again",
    "131050": "The customer stopped marketing messages from this business",
    "131051": "WhatsApp does not support this message type",
    "131060": "WhatsApp could not make this message available",
    "131052": "WhatsApp could not download the customer's media; ask them to send it again",
    "131053": "WhatsApp could not upload our media; check the file's type and size",
    "130429": "WhatsApp's throughput limit for this number was reached",
    "131056": "Too many messages to this customer in a short time",
    "131048": "WhatsApp restricted this number after spam reports; business-initiated messages are paused",
    "80007": "The WhatsApp Business Account reached its API rate limit",
    "132000": "The number of template parameters does not match the approved template",
    "132001": "The template does not exist in this language or is not approved yet",
    "132015": "The template is paused because of low quality ratings",
    "132016": "The template is disabled because of low quality ratings",
    "131000": "WhatsApp failed to send the message for an unknown reason",
    "131016": "WhatsApp is temporarily unavailable",
    "131021": "The recipient is the business number itself",
    "131031": "The WhatsApp Business Account is locked",
    "131042": "The WhatsApp Business Account has a payment problem",
    "131062": "This message cannot be sent to a customer known only by their WhatsApp user id",
    "133010": "The business phone number is not registered with the WhatsApp Cloud API",
    # Messenger / Instagram (Meta's Messenger error-codes page)
    "10/2018278": "The 24-hour window is closed: reply with the HUMAN_AGENT tag (up to 7 days) or wait for "
                  "the customer to write again",
    "10": "The Meta app lacks the permission for this message",
    "551": "This person isn't available right now",
    "613": "Meta's rate limit was reached",
    "100/2018001": "No matching user found: this person cannot be messaged from this account",
    # Graph API, any product
    "4": "Meta's API rate limit for the app was reached",
    "17": "Meta's API rate limit for the user was reached",
    "32": "Meta's API rate limit for the Page was reached",
    "2": "Meta's service is temporarily unavailable",
    "100": "Meta rejected a parameter of the request",
    "190": "Meta refused the access token (expired or revoked): reconnect the channel",
    "200": "The Meta app lacks the permission for this message",
    "368": "Meta temporarily blocked this account for policy violations",
}

RETRYABLE_CODES = frozenset({"2", "4", "17", "32", "613", "80007", "130429", "131016", "131056"})
WINDOW_CLOSED_CODES = frozenset({"131047", "10/2018278"})


# ------------------------------------------------------------------------------- webhooks


# ------------------------------------------------------------------------------- payload helpers
# Meta's webhook payloads are read defensively: a wrong type is "absent", never an exception.

def dicts(value: Any) -> Iterator[dict[str, Any]]:
    """The objects of a list (anything else yields nothing)."""
    if isinstance(value, list):
        yield from (item for item in value if isinstance(item, dict))


def as_str(value: Any) -> str | None:
    """An id or scalar as a string (trimmed); None when absent or blank."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def text(value: Any) -> str | None:
    """Customer text exactly as written (no trimming); None when blank."""
    return value if isinstance(value, str) and value.strip() else None


def verify_signature(raw_body: bytes, header: str | None, app_secret: str) -> bool:
    """True when ``header`` is ``sha256=<hex HMAC-SHA256(app_secret, raw_body)>``. Never raises."""
    if not header or not app_secret or not isinstance(raw_body, bytes | bytearray):
        return False
    scheme, sep, received = header.strip().partition("=")
    received = received.strip().lower()
    if not sep or scheme.strip().lower() != "sha256" or len(received) != 64:
        return False
    if any(c not in "0123456789abcdef" for c in received):
        return False
    expected = hmac.new(app_secret.encode("utf-8"), bytes(raw_body), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, received)


def sign(raw_body: bytes, app_secret: str) -> str:
    """The ``X-Hub-Signature-256`` value Meta would send for this body (tests and local tools)."""
    return "sha256=" + hmac.new(app_secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()


def _param(params: Mapping[str, str], name: str) -> str | None:
    value = params.get(f"hub.{name}")
    if value is None:
        value = params.get(f"hub_{name}")          # PHP-style mangling of the dotted names
    return value if isinstance(value, str) else None


def verify_handshake(params: Mapping[str, str], verify_token: str) -> str | None:
    """The ``hub.challenge`` to answer (``200``, raw text) when the subscription request is genuine;
    None when it is not (answer ``403``)."""
    if not verify_token:
        return None
    mode, token, challenge = _param(params, "mode"), _param(params, "verify_token"), _param(params, "challenge")
    if mode != "subscribe" or token is None or not challenge:
        return None
    if not hmac.compare_digest(token.encode("utf-8"), verify_token.encode("utf-8")):
        return None
    return challenge


def parse_json(raw_body: bytes) -> dict[str, Any]:
    """The webhook body as a JSON object, read through ``bounds.loads`` (depth-bounded, lone
    surrogates replaced, so parsers can walk it); BadRequest for anything else."""
    parsed = loads(raw_body)
    if not isinstance(parsed, dict):
        raise BadRequest("body is not a JSON object")
    return parsed


def provider_of(payload: Mapping[str, Any]) -> str | None:
    """Which provider a Meta webhook body belongs to (``object`` field), for one shared endpoint."""
    obj = payload.get("object")
    return PROVIDER_BY_OBJECT.get(obj) if isinstance(obj, str) else None


# ------------------------------------------------------------------------------- errors

def error_key(code: Any, subcode: Any = None) -> str | None:
    """Our error code string: ``"131047"``, or ``"10/2018278"`` where the subcode has its own meaning."""
    if code is None or code == "":
        return None
    if subcode not in (None, "") and f"{code}/{subcode}" in ERROR_REASONS:
        return f"{code}/{subcode}"
    return str(code)


def reason(code: str | None, fallback: str = "Meta reported an error") -> str:
    return ERROR_REASONS.get(code or "", fallback)


def _details(error: Mapping[str, Any]) -> str | None:
    data = error.get("error_data")
    details = data.get("details") if isinstance(data, Mapping) else None
    for text in (error.get("error_user_msg"), details, error.get("message"), error.get("title")):
        if isinstance(text, str) and text.strip():
            return text.strip()
    return None


def error_reason(error: Mapping[str, Any], fallback: str = "Meta reported an error") -> tuple[str | None, str]:
    """(code, human reason) of one Graph error object, from a send answer or a webhook ``errors[]``."""
    code = error_key(error.get("code"), error.get("error_subcode"))
    return code, reason(code, _details(error) or fallback)


def graph_error(status: int, body: Mapping[str, Any] | None, headers: Mapping[str, str] | None = None,
                provider: str = "Meta") -> ProviderError:
    """A Graph API error answer as a ProviderError: human reason, Meta's code, retryable or not."""
    error = body.get("error") if isinstance(body, Mapping) else None
    if not isinstance(error, Mapping):
        error = {}
    code, message = error_reason(error, f"{provider} answered HTTP {status}")
    retryable = (status >= 500 or status == 429 or code in RETRYABLE_CODES or error.get("is_transient") is True)
    retry_after = headers.get("Retry-After") if headers else None
    return ProviderError(message, code=code, retryable=retryable, http_status=status,
                         retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None)


# ------------------------------------------------------------------------------- Graph API

class GraphClient:
    """The Graph API over plain HTTPS: JSON in and out, the token as a Bearer header (or, for those who
    configure it, the ``access_token`` query parameter the Messenger docs show), and
    ``appsecret_proof`` when the app requires it."""

    def __init__(self, base_url: str, access_token: str, version: str = GRAPH_VERSION, *,
                 app_secret: str | None = None, token_in_query: bool = False, timeout: float = 10.0,
                 provider: str = "Meta") -> None:
        self.base_url = base_url.rstrip("/")
        self.version = version.strip("/")
        self.provider = provider
        self._token = access_token
        self._token_in_query = token_in_query
        self._timeout = timeout
        self._proof = (hmac.new(app_secret.encode(), access_token.encode(), hashlib.sha256).hexdigest()
                       if app_secret else None)

    def url(self, path: str) -> str:
        query: dict[str, str] = {}
        if self._token_in_query:
            query["access_token"] = self._token
        if self._proof:
            query["appsecret_proof"] = self._proof
        url = f"{self.base_url}/{self.version}/{path.lstrip('/')}"
        return url + ("?" + urllib.parse.urlencode(query) if query else "")

    def _headers(self) -> dict[str, str]:
        return {} if self._token_in_query else {"Authorization": f"Bearer {self._token}"}

    def request(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        status, answer, headers = http_json(self.url(path), method=method, body=body, headers=self._headers(),
                                            timeout=self._timeout, provider=self.provider)
        if status >= 400 or isinstance(answer.get("error"), Mapping):
            raise graph_error(status, answer, headers, self.provider)
        return answer

    def get(self, path: str) -> dict[str, Any]:
        return self.request("GET", path)

    def post(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self.request("POST", path, body)

    def fetch_media(self, media_id: str, *, max_bytes: int = MAX_MEDIA_BYTES, filename: str | None = None) -> Media:
        """A WhatsApp media file: ``GET /<media_id>`` gives a short-lived ``url`` (plus ``mime_type``
        and ``file_size``), which is then downloaded with the same Bearer token. Files over
        ``max_bytes`` are refused before (declared size) or while downloading."""
        if not media_id or "/" in media_id or "?" in media_id:
            raise BadRequest(f"not a media id: {media_id!r}")
        info = self.get(urllib.parse.quote(media_id, safe=""))
        url = info.get("url")
        if not isinstance(url, str) or urllib.parse.urlsplit(url).scheme not in ("https", "http"):
            raise ProviderError(f"{self.provider} returned no download URL for media {media_id}", code=None,
                                retryable=False)
        size = info.get("file_size")
        if isinstance(size, int | str) and str(size).isdigit() and int(size) > max_bytes:
            raise ProviderError(f"file is larger than {max_bytes // 1_000_000} MB", code="too_large",
                                retryable=False)
        media = http_bytes(url, headers={"Authorization": f"Bearer {self._token}"}, timeout=max(self._timeout, 20.0),
                           max_bytes=max_bytes, provider=self.provider)
        mime = info.get("mime_type")
        return Media(media.content, mime if isinstance(mime, str) and mime else media.content_type, filename)
