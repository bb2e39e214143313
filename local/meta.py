"""Meta's Graph API sandbox (``/_sandbox/meta``): WhatsApp Cloud API, Messenger and Instagram sends.

Paths as on ``graph.facebook.com`` (the version segment is optional, as it is there):

* ``POST /<version>/<phone_number_id>/messages`` with ``messaging_product: whatsapp`` - the WhatsApp
  Cloud API: text (body up to 4,096 characters), template (name and language.code), image,
  document, audio, video and sticker (``link`` or ``id``), interactive, location, contacts,
  reaction; and mark-as-read (``status: read``). Magic recipients: ``15550001047`` answers
  131047 (re-engagement: outside the 24 h window), ``15550001026`` 131026 (undeliverable). After a
  success the sandbox posts ``sent`` then ``delivered`` status webhooks to ``PUBLIC_BASE_URL`` +
  ``/webhooks/whatsapp``, signed ``X-Hub-Signature-256`` with META_APP_SECRET, as Meta does
  (SANDBOX_STATUS_CALLBACKS=0 turns them off).
* ``POST /<version>/me/messages`` and ``/<version>/<page_or_ig_id>/messages`` with ``recipient`` -
  the Messenger / Instagram Send API: ``messaging_type`` RESPONSE, UPDATE or MESSAGE_TAG (with a
  ``tag``), ``message.text`` or ``message.attachment``, or a ``sender_action``. The outbox says
  ``instagram`` when the path id starts with ``1784`` (Instagram professional account ids do),
  else ``messenger``: the sandbox cannot know which kind of id a Page token's ``/me`` is. Magic
  recipient ``5550002018278`` answers code 10 / subcode 2018278 (outside the allowed window),
  ``5550000000551`` code 551 (person not available). Messenger sends get a signed ``delivery``
  webhook at ``/webhooks/messenger``.
* ``GET /<version>/<media_id>`` - media metadata whose ``url`` is ``/_sandbox/meta/media/<id>``;
  ``GET /media/<id>`` - the bytes (a small JPEG, different per id; ids ``big-*`` stream about
  26.9 MB, over WhatsApp's 25 MB media limit).

Every call needs META_ACCESS_TOKEN as ``Authorization: Bearer`` or an ``access_token`` parameter
(query or body), else 401 with OAuthException 190. Errors have Graph's shape; faults injected for
``whatsapp_cloud``, ``messenger`` or ``instagram`` answer that provider's next calls, media
downloads excepted (429: code 80007 for WhatsApp, code 4 for the Send API). Every call is
recorded in the outbox (token redacted, parsed body under ``json``), media downloads too (their
size, not their bytes). Messenger delivery webhooks are sent only for numeric Page ids in the path.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import secrets
import urllib.parse
from collections.abc import Callable
from datetime import datetime
from http import HTTPStatus
from typing import Any

from local.sandbox import (
    Faults,
    Outbox,
    StreamedResponse,
    big_jpeg_chunks,
    big_jpeg_sha256,
    big_jpeg_size,
    jpeg,
    post_in_background,
    redacted_headers,
    timestamp,
)

log = logging.getLogger("sandbox")

WABA_ID = "102290129340398"  # the WhatsApp Business Account id status webhooks carry
DISPLAY_PHONE_NUMBER = "15550783881"
MAX_TEXT = 4096
SEND_API_TEXT_LIMITS = {"messenger": 2000, "instagram": 1000}
MEDIA_TYPES = ("image", "document", "audio", "video", "sticker")
WHATSAPP_TYPES = (*MEDIA_TYPES, "text", "template", "interactive", "location", "contacts", "reaction")
MESSAGING_TYPES = ("RESPONSE", "UPDATE", "MESSAGE_TAG")
MESSAGE_TAGS = ("CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "ACCOUNT_UPDATE", "HUMAN_AGENT")
ATTACHMENT_TYPES = ("image", "audio", "video", "file", "template")
_WHATSAPP_MAGIC = {
    "15550001047": (
        131047,
        "(#131047) Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer last "
        "replied to this number.",
    ),
    "15550001026": (131026, "(#131026) Message Undeliverable.", "Message Undeliverable."),
}
_SEND_API_MAGIC = {
    "5550002018278": (
        10,
        2018278,
        "(#10) This message is sent outside of allowed window. Learn more about the new policy here: "
        "https://developers.facebook.com/docs/messenger-platform/policy-overview",
    ),
    "5550000000551": (551, 1545041, "This person isn't available right now."),
}
_VERSION = r"(?:/v\d+\.\d+)?"
_MESSAGES = re.compile(rf"^{_VERSION}/(?P<id>[^/]+)/messages/?$")
_MEDIA_INFO = re.compile(rf"^{_VERSION}/(?P<id>[^/]+)/?$")
_MEDIA_FILE = re.compile(r"^/media/(?P<id>[^/]+)$")

Answer = tuple[int, dict[str, str], Any]


class GraphError(Exception):
    def __init__(self, status: int, code: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.document = graph_error(code, message, **extra)


def graph_error(
    code: int,
    message: str,
    *,
    kind: str = "OAuthException",
    subcode: int | None = None,
    details: str | None = None,
    transient: bool | None = None,
) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "type": kind, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    if transient is not None:
        error["is_transient"] = transient
    if details is not None:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    error["fbtrace_id"] = "A" + secrets.token_urlsafe(16)[:22]
    return {"error": error}


def hub_signature(app_secret: str, body: bytes) -> str:
    """``X-Hub-Signature-256``: sha256= and the hex HMAC-SHA256 of the raw body with the app secret."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def _invalid(message: str, details: str | None = None) -> GraphError:
    return GraphError(400, 100, message, details=details)


class MetaSandbox:
    def __init__(
        self,
        access_token: str,
        app_secret: str,
        outbox: Outbox,
        faults: Faults,
        callbacks: bool,
        webhook_base_url: str,
        base_url: str,
        now: Callable[[], datetime],
    ) -> None:
        self.access_token = access_token
        self.app_secret = app_secret
        self.outbox = outbox
        self.faults = faults
        self.callbacks = callbacks
        self.webhook_base_url = webhook_base_url
        self.base_url = base_url
        self.now = now

    def handle(
        self, method: str, path: str, query: str, url: str, headers: dict[str, str], body: bytes
    ) -> StreamedResponse:
        """Serve one request to ``/_sandbox/meta<path>`` and record it in the outbox."""
        params = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        provider, document = "whatsapp_cloud", None
        try:
            provider, document = self._route(method, path, headers, body)
            if isinstance(document, dict) and "access_token" in document:  # Graph takes it in the body too
                params.setdefault("access_token", str(document.pop("access_token")))
            status, extra, answer = self._answer(provider, method, path, params, headers, document)
        except GraphError as error:
            status, extra, answer = error.status, {}, error.document
        recorded_url = re.sub(r"(access_token=)[^&]*", r"\1[redacted]", url)
        item: dict[str, Any] = {
            "provider": provider,
            "method": method,
            "url": recorded_url,
            "headers": redacted_headers(headers),
            "body": re.sub(r"(access_token=)[^&]*", r"\1[redacted]", body.decode("utf-8", errors="replace")),
            "json": document,
            "response": {"status": status, "body": answer if not isinstance(answer, _Download) else None},
            "received_at": timestamp(self.now()),
        }
        if isinstance(answer, _Download):
            item["response"]["bytes"] = answer.size
            self.outbox.add(item)
            return status, {"Content-Type": "image/jpeg", "Content-Length": str(answer.size)}, answer.body
        self.outbox.add(item)
        return status, {"Content-Type": "application/json", **extra}, json.dumps(answer).encode()

    # -- routing

    def _route(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[str, Any]:
        """Which provider the call is for, and its parsed body (JSON, or form fields as Graph takes)."""
        document = _parse_body(headers, body)
        found = _MESSAGES.match(path)
        if found is None or method != "POST":
            return "whatsapp_cloud", document
        if isinstance(document, dict) and "recipient" in document:
            return ("instagram" if found.group("id").startswith("1784") else "messenger"), document
        return "whatsapp_cloud", document

    def _answer(
        self,
        provider: str,
        method: str,
        path: str,
        params: dict[str, str],
        headers: dict[str, str],
        document: Any,
    ) -> Answer:
        download = _MEDIA_FILE.match(path)
        if download is None:
            fault = self.faults.take(provider)
            if fault is not None:
                return _fault(provider, fault)
        if not self._authenticated(params, headers):
            raise GraphError(401, 190, "Invalid OAuth access token - Cannot parse access token")
        if download is not None:
            if method != "GET":
                raise GraphError(405, 100, "Unsupported method")
            return 200, {}, _Download.of(download.group("id"))
        messages = _MESSAGES.match(path)
        if messages is not None and method == "POST":
            if not isinstance(document, dict):
                raise _invalid("(#100) Invalid parameter", "The request body must be a JSON object.")
            if provider == "whatsapp_cloud":
                return self._whatsapp(messages.group("id"), document)
            return self._send_api(provider, messages.group("id"), document)
        media = _MEDIA_INFO.match(path)
        if media is not None and method == "GET" and messages is None:
            return 200, {}, self._media_info(media.group("id"))
        raise GraphError(
            400,
            2500,
            f"Unknown path components: {path}",
            kind="OAuthException" if method == "GET" else "GraphMethodException",
        )

    def _authenticated(self, params: dict[str, str], headers: dict[str, str]) -> bool:
        value = headers.get("authorization", "")
        token = value[7:].strip() if value.lower().startswith("bearer ") else params.get("access_token", "")
        return bool(token) and hmac.compare_digest(token.encode(), self.access_token.encode())

    # -- WhatsApp Cloud API

    def _whatsapp(self, phone_number_id: str, message: dict[str, Any]) -> Answer:
        product = message.get("messaging_product")
        if not product:
            raise _invalid("(#100) The parameter messaging_product is required.")
        if product != "whatsapp":
            raise _invalid(f'(#100) Param messaging_product must be one of {{WHATSAPP}} - got "{product}".')
        if message.get("status") == "read":
            if not message.get("message_id"):
                raise _invalid("(#100) The parameter message_id is required.")
            return 200, {}, {"success": True}
        to = str(message.get("to") or "")
        if not to:
            raise _invalid("(#100) The parameter to is required.")
        kind = str(message.get("type") or "text")
        if kind not in WHATSAPP_TYPES:
            allowed = ", ".join(t.upper() for t in sorted(WHATSAPP_TYPES))
            raise _invalid(f'(#100) Param type must be one of {{{allowed}}} - got "{kind}".')
        content = message.get(kind)
        if not isinstance(content, dict):
            raise _invalid(f"(#100) The parameter {kind} is required.")
        _validate_whatsapp_content(kind, content)
        magic = _WHATSAPP_MAGIC.get(to.lstrip("+"))
        if magic is not None:
            raise GraphError(400, magic[0], magic[1], details=magic[2])
        wa_id = re.sub(r"\D", "", to)
        wamid = _wamid(wa_id)
        if self.callbacks:
            opaque = message.get("biz_opaque_callback_data")
            self._status_webhooks(phone_number_id, wa_id, wamid, kind, opaque if isinstance(opaque, str) else None)
        return (
            200,
            {},
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": wa_id}],
                "messages": [{"id": wamid, "message_status": "accepted"}],
            },
        )

    def _status_webhooks(self, phone_number_id: str, wa_id: str, wamid: str, kind: str,
                         opaque: str | None = None) -> None:
        """``sent`` then ``delivered``, each carrying the send's ``biz_opaque_callback_data`` back as Meta does."""
        conversation = {
            "id": secrets.token_hex(16),
            "origin": {"type": "utility" if kind == "template" else "service"},
        }
        bodies = []
        for status in ("sent", "delivered"):
            moment = int(self.now().timestamp())
            entry: dict[str, Any] = {
                "id": wamid,
                "status": status,
                "timestamp": str(moment),
                "recipient_id": wa_id,
                "conversation": (
                    {**conversation, "expiration_timestamp": str(moment + 86400)}
                    if status == "sent"
                    else conversation
                ),
                "pricing": {
                    "billable": True,
                    "pricing_model": "PMP",
                    "category": conversation["origin"]["type"],
                },
            }
            if opaque:
                entry["biz_opaque_callback_data"] = opaque
            payload = {
                "object": "whatsapp_business_account",
                "entry": [
                    {
                        "id": WABA_ID,
                        "changes": [
                            {
                                "value": {
                                    "messaging_product": "whatsapp",
                                    "metadata": {
                                        "display_phone_number": DISPLAY_PHONE_NUMBER,
                                        "phone_number_id": phone_number_id,
                                    },
                                    "statuses": [entry],
                                },
                                "field": "messages",
                            }
                        ],
                    }
                ],
            }
            bodies.append(self._signed(payload))
        post_in_background(f"whatsapp status {wamid}", self.webhook_base_url + "/webhooks/whatsapp", bodies)

    def _signed(self, payload: Any) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(payload, separators=(",", ":")).encode()  # compact, \\u-escaped like Meta's
        return body, {
            "Content-Type": "application/json",
            "User-Agent": "facebookexternalua",
            "X-Hub-Signature": "sha1=" + hmac.new(self.app_secret.encode(), body, hashlib.sha1).hexdigest(),
            "X-Hub-Signature-256": hub_signature(self.app_secret, body),
        }

    # -- Messenger / Instagram Send API

    def _send_api(self, provider: str, path_id: str, request: dict[str, Any]) -> Answer:
        recipient = request.get("recipient")
        if not isinstance(recipient, dict) or not any(
            recipient.get(k) for k in ("id", "user_ref", "comment_id", "post_id")
        ):
            raise _invalid("(#100) The parameter recipient is required")
        recipient_id = str(recipient.get("id") or recipient.get("user_ref") or "")
        message, action = request.get("message"), request.get("sender_action")
        if message is None and action is None:
            raise _invalid("(#100) Must send either message or state")
        if message is not None:
            _validate_send_api_message(provider, request, message)
        elif action not in ("typing_on", "typing_off", "mark_seen"):
            raise _invalid("(#100) Param sender_action must be one of {MARK_SEEN, TYPING_ON, TYPING_OFF}")
        magic = _SEND_API_MAGIC.get(recipient_id)
        if magic is not None:
            raise GraphError(400, magic[0], magic[2], subcode=magic[1])
        if message is None:
            return 200, {}, {"recipient_id": recipient_id}
        mid = "m_" + base64.urlsafe_b64encode(secrets.token_bytes(60)).decode().rstrip("=")
        if provider == "messenger" and self.callbacks and path_id.isdigit() and recipient.get("id"):
            self._delivery_webhook(path_id, recipient_id, mid)
        return 200, {}, {"recipient_id": recipient_id, "message_id": mid}

    def _delivery_webhook(self, page_id: str, psid: str, mid: str) -> None:
        now_ms = int(self.now().timestamp() * 1000)
        payload = {
            "object": "page",
            "entry": [
                {
                    "id": page_id,
                    "time": now_ms,
                    "messaging": [
                        {
                            "sender": {"id": psid},
                            "recipient": {"id": page_id},
                            "timestamp": now_ms,
                            "delivery": {"mids": [mid], "watermark": now_ms},
                        }
                    ],
                }
            ],
        }
        post_in_background(
            f"messenger delivery {mid[:16]}",
            self.webhook_base_url + "/webhooks/messenger",
            [self._signed(payload)],
        )

    # -- media

    def _media_info(self, media_id: str) -> dict[str, Any]:
        download = _Download.of(media_id)
        return {
            "url": f"{self.base_url}/_sandbox/meta/media/{urllib.parse.quote(media_id, safe='')}",
            "mime_type": "image/jpeg",
            "sha256": download.sha256,
            "file_size": download.size,
            "id": media_id,
            "messaging_product": "whatsapp",
        }


class _Download:
    """The bytes of one media id: small ones in memory, ``big-*`` ones generated as they are sent."""

    def __init__(self, size: int, sha256: str, body: Any) -> None:
        self.size = size
        self.sha256 = sha256
        self.body = body

    @classmethod
    def of(cls, media_id: str) -> _Download:
        if media_id.startswith("big-"):
            return cls(big_jpeg_size(), big_jpeg_sha256(), big_jpeg_chunks())
        data = jpeg(f"meta media {media_id}")
        return cls(len(data), hashlib.sha256(data).hexdigest(), data)


def _parse_body(headers: dict[str, str], body: bytes) -> Any:
    """JSON, or form fields whose values may themselves be JSON (``recipient={"id": ...}``)."""
    if not body:
        return None
    content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    text = body.decode("utf-8", errors="replace")
    if content_type == "application/x-www-form-urlencoded":
        fields: dict[str, Any] = {}
        for name, value in urllib.parse.parse_qsl(text, keep_blank_values=True):
            try:
                fields[name] = json.loads(value) if value[:1] in ("{", "[") else value
            except json.JSONDecodeError:
                fields[name] = value
        return fields
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _validate_whatsapp_content(kind: str, content: dict[str, Any]) -> None:
    if kind == "text":
        text = content.get("body")
        if not isinstance(text, str) or not text:
            raise _invalid("(#100) The parameter text['body'] is required.")
        if len(text) > MAX_TEXT:
            raise _invalid(
                "(#100) Invalid parameter", f"Param text['body'] must be at most {MAX_TEXT} characters long."
            )
    elif kind == "template":
        if not content.get("name"):
            raise _invalid("(#100) The parameter template['name'] is required.")
        if not (content.get("language") or {}).get("code"):
            raise _invalid("(#100) The parameter template['language']['code'] is required.")
    elif kind in MEDIA_TYPES:
        link, media_id = content.get("link"), content.get("id")
        if not link and not media_id:
            raise _invalid("(#100) Invalid parameter", f"Param {kind} must contain either 'id' or 'link'.")
        if link and media_id:
            raise _invalid(
                "(#100) Invalid parameter", f"Param {kind} must contain only one of 'id' or 'link'."
            )
        if link and not str(link).startswith(("http://", "https://")):
            raise _invalid("(#100) Invalid parameter", f"Param {kind}['link'] must be a valid URL.")


def _validate_send_api_message(provider: str, request: dict[str, Any], message: Any) -> None:
    messaging_type = request.get("messaging_type")
    if messaging_type not in MESSAGING_TYPES:
        raise _invalid("(#100) param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}")
    if messaging_type == "MESSAGE_TAG":
        tag = request.get("tag")
        if not tag:
            raise _invalid("(#100) Tag is required for MESSAGE_TAG messaging type.")
        if tag not in MESSAGE_TAGS:
            raise _invalid(f"(#100) Param tag must be one of {{{', '.join(MESSAGE_TAGS)}}}")
    if not isinstance(message, dict) or not (message.get("text") or message.get("attachment")):
        raise _invalid("(#100) Message cannot be empty, must provide valid attachment or text")
    if message.get("text") and message.get("attachment"):
        raise _invalid("(#100) Only one of text or attachment can be specified")
    text = message.get("text")
    limit = SEND_API_TEXT_LIMITS[provider]
    if isinstance(text, str) and len(text) > limit:
        raise _invalid(f"(#100) Length of param message[text] must be less than or equal to {limit}")
    attachment = message.get("attachment")
    if attachment is not None:
        if not isinstance(attachment, dict) or attachment.get("type") not in ATTACHMENT_TYPES:
            raise _invalid(
                "(#100) Param message[attachment][type] must be one of {IMAGE, AUDIO, VIDEO, FILE, TEMPLATE}"
            )
        payload = attachment.get("payload") or {}
        if attachment["type"] == "template":
            if not payload.get("template_type"):
                raise _invalid("(#100) The parameter message[attachment][payload][template_type] is required")
        elif not (payload.get("url") or payload.get("attachment_id")):
            raise _invalid("(#100) Param message[attachment][payload] must contain a url or an attachment_id")


def _fault(provider: str, status: int) -> Answer:
    if status == 429:
        if provider == "whatsapp_cloud":
            error = graph_error(
                80007, "(#80007) Rate limit issues", details="Rate limit hit for the business account."
            )
        else:
            error = graph_error(4, "(#4) Application request limit reached", transient=True)
        return 429, {"Retry-After": "1"}, error
    if status >= 500:
        code, message = (
            (2, "Service temporarily unavailable") if status == 503 else (1, "An unknown error occurred")
        )
        return status, {}, graph_error(code, message, transient=True)
    return status, {}, graph_error(100, f"(#100) {HTTPStatus(status).phrase}")


def _wamid(wa_id: str) -> str:
    """A WhatsApp message id: ``wamid.`` and base64 of the recipient and a random id, like Meta's."""
    number = wa_id.encode()[:255]
    raw = b"\x1c\x18" + bytes([len(number)]) + number + b"\x15\x02\x00\x11\x18\x12"
    return "wamid." + base64.b64encode(raw + secrets.token_hex(9).upper().encode() + b"\x00").decode()
