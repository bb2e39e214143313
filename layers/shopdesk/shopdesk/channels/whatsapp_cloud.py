"""WhatsApp Cloud API (Meta): inbound messages, statuses and other events from the ``messages``
webhook, and sending through ``POST /<PHONE_NUMBER_ID>/messages``.

Followed from Meta's webhook reference: one POST carries ``entry[]`` x ``changes[]`` x
``messages[]`` / ``statuses[]`` / ``errors[]``; ``timestamp`` is a string of Unix seconds; ``from``
is the customer's number in digits without ``+`` (so ``"+" + from`` is E.164 and the customer is the
same person as on Twilio SMS); ``contacts[]`` carries the profile name by ``wa_id``. Customers who
adopt a WhatsApp username may come without a phone number: they are known by their business-scoped
user id (``from_user_id``), which the Messages API accepts as ``recipient`` instead of ``to``.
Media are not inline: ``<type>.id`` is fetched with ``GraphClient.fetch_media``.
Signature and handshake: ``shopdesk.channels.meta``.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
import urllib.parse
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from shopdesk.channels import meta
from shopdesk.channels.base import (
    OutboundFile,
    OutboundRequest,
    SendResult,
    item_or_unsupported,
    timeline_event,
    unsupported,
    usable_id,
)
from shopdesk.channels.meta import GraphClient, error_reason
from shopdesk.errors import BadRequest, ProviderError
from shopdesk.models.message import (
    Attachment,
    InboundMessage,
    MessageError,
    StatusUpdate,
    TimelineEvent,
    UnsupportedItem,
    WebhookItem,
)
from shopdesk.phone import to_e164

PROVIDER = "whatsapp_cloud"
CHANNEL = "whatsapp"
OBJECT = "whatsapp_business_account"
SERVICE_WINDOW = timedelta(hours=24)     # free-form replies only within 24 h of the customer's last message

MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")
_DIGITS = re.compile(r"^[0-9]{6,15}$")

# Outbound media type by file extension (Cloud API supported media types).
_EXTENSION_TYPES = {
    ".jpg": "image", ".jpeg": "image", ".png": "image",
    ".mp4": "video", ".3gp": "video",
    ".aac": "audio", ".amr": "audio", ".mp3": "audio", ".m4a": "audio", ".ogg": "audio", ".opus": "audio",
    ".webp": "sticker",
}
_CAPTIONED = {"image", "video", "document"}


# ------------------------------------------------------------------------------- inbound







_dicts, _str, _text = meta.dicts, meta.as_str, meta.text

def _timestamp(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


class _Customer:
    """Who wrote: E.164 phone when ``from`` is a number, else the business-scoped user id."""

    def __init__(self, message: Mapping[str, Any], contacts: list[dict[str, Any]]) -> None:
        digits = usable_id(message.get("from"))
        user_id = usable_id(message.get("from_user_id"))
        self.phone = to_e164("+" + digits) if digits and _DIGITS.match(digits) else None
        if self.phone:
            self.identity_kind, self.address, self.reply_to = "phone", self.phone, digits or ""
        elif user_id:
            self.identity_kind, self.address, self.reply_to = CHANNEL, user_id, user_id
        else:
            self.identity_kind, self.address, self.reply_to = "", "", ""
        self.profile_name = self._name(contacts, digits, user_id)

    @property
    def known(self) -> bool:
        return bool(self.address)

    @staticmethod
    def _name(contacts: list[dict[str, Any]], digits: str | None, user_id: str | None) -> str | None:
        for contact in contacts:
            if not ((digits and contact.get("wa_id") == digits) or (user_id and contact.get("user_id") == user_id)):
                continue
            profile = contact.get("profile")
            name = _str(profile.get("name")) if isinstance(profile, dict) else None
            if name:
                return name
        return None


def _location_text(loc: Mapping[str, Any]) -> str:
    where = ", ".join(part for part in (_str(loc.get("name")), _str(loc.get("address"))) if part)
    coords = f"({loc.get('latitude')}, {loc.get('longitude')})"
    return f"📍 {where} {coords}" if where else f"📍 {coords}"


def _contacts_text(cards: list[dict[str, Any]]) -> str:
    lines = []
    for card in cards:
        name_obj = card.get("name")
        name = (_str(name_obj.get("formatted_name")) or _str(name_obj.get("first_name"))
                if isinstance(name_obj, dict) else None) or "Contact"
        details = [p for p in (_str(ph.get("phone")) for ph in _dicts(card.get("phones"))) if p]
        details += [e for e in (_str(em.get("email")) for em in _dicts(card.get("emails"))) if e]
        lines.append(f"👤 {name}" + (f": {', '.join(details)}" if details else ""))
    return "\n".join(lines) or "👤 Contact card"


def _order_text(order: Mapping[str, Any]) -> str:
    lines = []
    for item in _dicts(order.get("product_items")):
        price = f" at {item.get('item_price')} {item.get('currency') or ''}".rstrip() \
            if item.get("item_price") is not None else ""
        lines.append(f"{item.get('quantity', 1)} x {item.get('product_retailer_id', '?')}{price}")
    text = "🛒 Order: " + ("; ".join(lines) if lines else "no items")
    note = _str(order.get("text"))
    return f"{text}\n{note}" if note else text


def _content(message: Mapping[str, Any]) -> tuple[str, str | None, list[Attachment], dict[str, Any] | None]:
    """(kind, text, attachments, payload) of one customer message, for every type Meta documents."""
    mtype = _str(message.get("type")) or "unknown"
    body = message.get(mtype) if isinstance(message.get(mtype), dict) else {}
    if mtype == "text":
        return "text", _text(body.get("body")), [], None
    if mtype in MEDIA_TYPES and body.get("id"):
        attachment = Attachment(media_id=str(body["id"]), content_type=_str(body.get("mime_type")),
                                filename=_str(body.get("filename")) if mtype == "document" else None)
        extra = {k: body[k] for k in ("voice", "animated") if k in body}
        return "media", _text(body.get("caption")), [attachment], {"type": mtype, **extra}
    if mtype == "location":
        fields = {k: body.get(k) for k in ("latitude", "longitude", "name", "address", "url") if k in body}
        return "location", _location_text(body), [], fields
    if mtype == "contacts":
        cards = list(_dicts(message.get("contacts")))
        return "contacts", _contacts_text(cards), [], {"contacts": cards}
    if mtype == "interactive":
        itype = _str(body.get("type")) or "unknown"
        reply = body.get(itype) if isinstance(body.get(itype), dict) else {}
        if itype in ("button_reply", "list_reply"):
            payload = {"type": itype, "id": reply.get("id"), "title": reply.get("title")}
            if reply.get("description"):
                payload["description"] = reply["description"]
            return "interactive", _str(reply.get("title")) or _str(reply.get("id")), [], payload
        if itype == "nfm_reply":                 # a WhatsApp Flow submitted
            try:
                answers = json.loads(reply.get("response_json") or "{}")
            except (TypeError, ValueError):
                answers = reply.get("response_json")
            return ("interactive", _str(reply.get("body")) or "📝 Form submitted", [],
                    {"type": itype, "name": reply.get("name"), "response": answers})
        return "interactive", f"[interactive reply: {itype}]", [], {"type": itype, **reply}
    if mtype == "button":                        # quick-reply button of a template
        return ("interactive", _str(body.get("text")) or _str(body.get("payload")), [],
                {"type": "button", "id": body.get("payload"), "title": body.get("text")})
    if mtype == "order":
        return "order", _order_text(body), [], dict(body)
    # unsupported, unknown, and types newer than this module: a placeholder, nothing lost (raw is kept)
    shown = _str(body.get("type")) if mtype == "unsupported" else None
    payload: dict[str, Any] = {"type": shown or mtype}
    errors = list(_dicts(message.get("errors")))
    if errors:
        payload["errors"] = errors
    return "unsupported", f"[unsupported message type: {shown or mtype}]", [], payload


def _context_payload(message: Mapping[str, Any]) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    context = message.get("context")
    if isinstance(context, dict):
        for key in ("forwarded", "frequently_forwarded"):
            if context.get(key):
                extra[key] = True
        if isinstance(context.get("referred_product"), dict):
            extra["referred_product"] = context["referred_product"]
    if isinstance(message.get("referral"), dict):          # arrived through a Click-to-WhatsApp ad
        extra["referral"] = message["referral"]
    return extra


def _reaction(message: Mapping[str, Any], customer: _Customer) -> TimelineEvent:
    reaction = message.get("reaction") if isinstance(message.get("reaction"), dict) else {}
    emoji = _str(reaction.get("emoji"))
    return TimelineEvent(provider=PROVIDER, event_id=str(message["id"]), kind="reaction",
                         identity_kind=customer.identity_kind, customer_address=customer.address,
                         target_provider_id=_str(reaction.get("message_id")),
                         text=f"Reacted {emoji}" if emoji else "Removed a reaction", raw=dict(message),
                         event=timeline_event("reaction", action="added", emoji=emoji) if emoji
                         else timeline_event("reaction", action="removed"))


def _system(message: Mapping[str, Any], customer: _Customer) -> TimelineEvent:
    system = message.get("system") if isinstance(message.get("system"), dict) else {}
    new_id = _str(system.get("wa_id")) or _str(system.get("new_wa_id"))
    body = _str(system.get("body"))
    text = body or (f"The customer changed their number to +{new_id}" if new_id
                    else "WhatsApp reported a change of the customer's account")
    return TimelineEvent(provider=PROVIDER, event_id=str(message["id"]), kind="system",
                         identity_kind=customer.identity_kind, customer_address=customer.address,
                         text=text, raw=dict(message),
                         event=timeline_event("account_changed", channel=CHANNEL, detail=body,
                                              number=f"+{new_id}" if new_id else None))


def _message(message: dict[str, Any], value: Mapping[str, Any], contacts: list[dict[str, Any]]) -> WebhookItem:
    customer = _Customer(message, contacts)
    if not customer.known:                       # nobody to attach it to: kept and logged, never dropped
        return unsupported(PROVIDER, "the sender is neither a usable phone number nor a WhatsApp user id",
                           message, message.get("id"))
    mtype = message.get("type")
    if mtype == "reaction":
        return _reaction(message, customer)
    if mtype == "system":
        return _system(message, customer)
    if mtype == "request_welcome":               # the customer opened the chat for the first time
        return TimelineEvent(provider=PROVIDER, event_id=str(message["id"]), kind="system",
                             identity_kind=customer.identity_kind, customer_address=customer.address,
                             text="The customer opened a chat with the business", raw=message,
                             event=timeline_event("chat_opened", channel=CHANNEL))
    kind, text, attachments, payload = _content(message)
    extra = _context_payload(message)
    if extra:
        payload = {**(payload or {}), **extra}
    metadata = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
    context = message.get("context") if isinstance(message.get("context"), dict) else {}
    return InboundMessage(
        provider=PROVIDER, provider_id=str(message["id"]), channel=CHANNEL,
        identity_kind=customer.identity_kind, customer_address=customer.address,
        shop_address=_str(metadata.get("phone_number_id")) or _str(metadata.get("display_phone_number")) or "",
        reply_to=customer.reply_to, text=text, attachments=attachments, profile_name=customer.profile_name,
        kind=kind, payload=payload, reply_context=_str(context.get("id")),
        sent_at=_timestamp(message.get("timestamp")), raw=message,
    )


def _status(status: dict[str, Any]) -> StatusUpdate:
    error = None
    errors = list(_dicts(status.get("errors")))
    if errors:
        code, message = error_reason(errors[0], "WhatsApp could not deliver the message")
        error = MessageError(code=code, message=message)
    return StatusUpdate(provider=PROVIDER, provider_id=str(status["id"]),
                        status=str(status.get("status") or "").lower(), error=error,
                        reference=usable_id(status.get("biz_opaque_callback_data")))


def _value_error(error: dict[str, Any], value: Mapping[str, Any]) -> TimelineEvent:
    """``value.errors[]``: a problem of the business number (throughput, ...), about no customer."""
    code, message = error_reason(error, "WhatsApp reported an error")
    metadata = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
    digest = hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=True).encode()).hexdigest()[:24]
    return TimelineEvent(provider=PROVIDER, event_id=f"error:{metadata.get('phone_number_id', '')}:{code}:{digest}",
                         kind="error", text=message, raw=error)


def _echo(echo: dict[str, Any]) -> WebhookItem:
    """``smb_message_echoes``: the business wrote from the WhatsApp Business app (coexistence)."""
    digits, mid = usable_id(echo.get("to")), usable_id(echo.get("id"))
    phone = to_e164("+" + digits) if digits and _DIGITS.match(digits) else None
    if not mid or not phone:
        return unsupported(PROVIDER, "a message echo without a usable id or customer number", echo, echo.get("id"))
    _, text, _, _ = _content(echo)
    return TimelineEvent(provider=PROVIDER, event_id=f"echo:{mid}", kind="echo", identity_kind="phone",
                         customer_address=phone, target_provider_id=mid,
                         text=f"Sent from the WhatsApp Business app: {text or '[' + str(echo.get('type')) + ']'}",
                         raw=echo, event=timeline_event("echo", channel=CHANNEL, text=text or None,
                                                        content=None if text else str(echo.get("type"))))


def _preference(pref: dict[str, Any]) -> WebhookItem:
    """``user_preferences``: the customer stopped or resumed marketing messages."""
    digits = usable_id(pref.get("wa_id"))
    phone = to_e164("+" + digits) if digits and _DIGITS.match(digits) else None
    if not phone:
        return unsupported(PROVIDER, "a preference change without a usable customer number", pref)
    choice = _str(pref.get("value")) or "changed"
    category = (_str(pref.get("category")) or "messages").replace("_", " ")
    text = {"stop": f"The customer stopped {category}", "resume": f"The customer resumed {category}"}.get(
        choice, _str(pref.get("detail")) or f"The customer changed their preference for {category}")
    event_id = f"preference:{digits}:{pref.get('category')}:{choice}:{pref.get('timestamp')}"
    return TimelineEvent(provider=PROVIDER, event_id=event_id, kind="unknown", identity_kind="phone",
                         customer_address=phone, text=text, raw=pref,
                         event=timeline_event("preference", choice=choice, detail=_str(pref.get("detail")),
                                              category=_str(pref.get("category")) or "messages"))


def parse(payload: dict[str, Any]) -> list[WebhookItem]:
    """Every item of a WhatsApp Cloud API webhook POST, in order, each once.

    - ``messages[]``: InboundMessage for anything a customer wrote (placeholders for unsupported
      types); TimelineEvent for reactions (``reaction``), number changes (``system``) and first-open
      welcome requests. Duplicated message ids inside one POST are emitted once.
    - ``statuses[]``: one StatusUpdate per ``(id, status)`` with a human-readable error.
    - ``errors[]`` (about the business number, no customer): TimelineEvent ``error``.
    - other fields: ``smb_message_echoes`` becomes TimelineEvent ``echo``, ``user_preferences`` a
      TimelineEvent ``unknown``; account, template and quality updates concern no customer and are
      acknowledged without an item.
    - an element of those lists that is not an object, has no usable id or sender, or that the models
      refuse: an UnsupportedItem (the webhook keeps and logs it); the other elements are unaffected.
    """
    if not isinstance(payload, dict):
        raise BadRequest("webhook body is not a JSON object")
    if payload.get("object") != OBJECT:
        raise BadRequest(f"not a WhatsApp Business Account webhook (object={payload.get('object')!r})")
    if not isinstance(payload.get("entry"), list):
        raise BadRequest("webhook body has no entry list")
    items: list[WebhookItem] = []
    seen: set[tuple[str, ...]] = set()

    def add(key: tuple[str, ...], item: WebhookItem | None) -> None:
        if item is not None and key not in seen:
            seen.add(key)
            items.append(item)

    def each(raw: Any, key: Callable[[dict[str, Any]], tuple[str, ...] | None],
             read: Callable[[dict[str, Any]], WebhookItem | None], what: str) -> None:
        """Every element of one list of a change, each on its own: an element that is not an object,
        has no id, or cannot be read becomes an UnsupportedItem; the others are unaffected."""
        for element in raw if isinstance(raw, list) else ([] if raw is None else [raw]):
            if not isinstance(element, dict):
                add(("unsupported", str(len(items))), unsupported(PROVIDER, f"a {what} that is not an object", element))
                continue
            name = key(element)
            if name in seen:
                continue                         # the same id again in this POST: read once
            if name is None:
                add(("unsupported", str(len(items))), unsupported(PROVIDER, f"a {what} without a usable id", element))
                continue
            for item in item_or_unsupported(PROVIDER, element, lambda e=element: _listed(read(e)), element.get("id"),
                                            _identity(element)):
                add(name if not isinstance(item, UnsupportedItem) else ("unsupported", str(len(items))), item)

    for entry in _dicts(payload["entry"]):
        for change in _dicts(entry.get("changes")):
            value = change.get("value")
            field = change.get("field")
            if not isinstance(value, dict):
                if field in ("messages", "smb_message_echoes", "user_preferences"):
                    add(("unsupported", str(len(items))), unsupported(PROVIDER, f"a {field} change without a value",
                                                                      change))
                continue
            if field == "messages":
                contacts = list(_dicts(value.get("contacts")))
                each(value.get("messages"), lambda m: ("message", i) if (i := usable_id(m.get("id"))) else None,
                     lambda m, v=value, c=contacts: _message(m, v, c), "message")
                each(value.get("statuses"),
                     lambda st: ("status", i, str(st.get("status") or "").lower()) if (i := usable_id(st.get("id")))
                     else None, _status, "status")
                each(value.get("errors"), lambda e: ("error", str(len(items))), lambda e, v=value: _value_error(e, v),
                     "error")
            elif field == "smb_message_echoes":
                each(value.get("message_echoes"), lambda e: ("echo", str(e.get("id"))), _echo, "message echo")
            elif field == "user_preferences":
                each(value.get("user_preferences"), lambda e: ("preference", str(len(items))), _preference,
                     "preference")
    return items


def _identity(element: Mapping[str, Any]) -> tuple[str, str] | None:
    """Who a message came from, as far as can be told without reading the rest of it."""
    customer = _Customer(element, [])
    return (customer.identity_kind, customer.address) if customer.known else None


def _listed(item: WebhookItem | None) -> list[WebhookItem]:
    return [item] if item is not None else []


# ------------------------------------------------------------------------------- outbound

def media_type(url: str) -> str:
    """The Cloud API message type for a media URL, from its extension (documents otherwise)."""
    path = urllib.parse.urlsplit(url).path
    return _EXTENSION_TYPES.get(posixpath.splitext(path)[1].lower(), "document")


def file_media_type(file: OutboundFile) -> str:
    """The Cloud API message type for a file: from its content type when known (jpeg/png images, video,
    audio; anything else a document), else from the URL's extension."""
    kind = (file.content_type or "").lower()
    if not kind:
        return media_type(file.url)
    if kind in ("image/jpeg", "image/png"):
        return "image"
    if kind == "image/webp":
        return "sticker"
    if kind.startswith("video/"):
        return "video"
    if kind.startswith("audio/"):
        return "audio"
    return "document"


def _recipient(to: str) -> dict[str, str]:
    """Phone numbers go in ``to`` (digits); a business-scoped user id goes in ``recipient``."""
    value = to.strip()
    if value.lower().startswith("whatsapp:"):
        value = value.split(":", 1)[1]
    digits = value.lstrip("+")
    if _DIGITS.match(digits):
        return {"to": digits}
    if not value:
        raise BadRequest("the reply has no recipient")
    return {"recipient": value}


class WhatsAppSender:
    """Replies through the Cloud API ``/messages`` endpoint of one business phone number."""

    def __init__(self, graph: GraphClient, phone_number_id: str) -> None:
        self._graph = graph
        self._phone_number_id = phone_number_id

    def _post(self, message: dict[str, Any]) -> str:
        answer = self._graph.post(f"{self._phone_number_id}/messages", message)
        messages = answer.get("messages")
        first = messages[0] if isinstance(messages, list) and messages and isinstance(messages[0], dict) else {}
        if not _str(first.get("id")):
            # Meta took the request; sending again could reach the customer twice.
            raise ProviderError("WhatsApp accepted the request but returned no message id", code=None,
                                retryable=False)
        return str(first["id"])

    def _base(self, request: OutboundRequest) -> dict[str, Any]:
        base: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual",
                                **_recipient(request.to)}
        if request.reply_context:
            base["context"] = {"message_id": request.reply_context}
        return base

    def messages(self, request: OutboundRequest) -> list[dict[str, Any]]:
        """The Cloud API bodies for one reply: a template, or text and/or media (one file per
        message; the text rides as the first file's caption where the type takes one)."""
        base = self._base(request)
        if request.template is not None:
            template: dict[str, Any] = {"name": request.template.name, "language": {"code": request.template.language}}
            if request.template.parameters:
                template["components"] = [{"type": "body", "parameters": [
                    {"type": "text", "text": str(p)} for p in request.template.parameters]}]
            return [{**base, "type": "template", "template": template}]
        text = request.text or None
        bodies: list[dict[str, Any]] = []
        for index, file in enumerate(request.outbound_files()):
            kind = file_media_type(file)
            media: dict[str, Any] = {"link": file.url}
            if kind == "document":
                name = file.filename or urllib.parse.unquote(posixpath.basename(urllib.parse.urlsplit(file.url).path))
                if name:
                    media["filename"] = name
            if index == 0 and text and kind in _CAPTIONED and len(text) <= 1024:
                media["caption"], text = text, None
            bodies.append({**(base if index == 0 else {k: v for k, v in base.items() if k != "context"}),
                           "type": kind, kind: media})
        if text and request.choices and not bodies:
            # reply buttons (at most 3, titles of at most 20 characters) under a body of at most 1,024
            head, _, question = text.rpartition("\n\n")
            if len(text) <= 1024:
                head, question = "", text
            if head:
                bodies.append({**base, "type": "text", "text": {"preview_url": False, "body": head}})
            bodies.append({**{k: v for k, v in base.items() if k != "context" or not head}, "type": "interactive",
                           "interactive": _interactive(question[:1024], request.choices)})
            return bodies
        if text:
            bodies.insert(0, {**base, "type": "text", "text": {"preview_url": False, "body": text}})
        if not bodies:
            raise BadRequest("the reply has no text, media or template")
        return bodies

    def send(self, request: OutboundRequest) -> SendResult:
        """Send one reply; its provider id is the first message's wamid. When a reply needs several
        messages and a later one fails, the error is not retryable (a retry would repeat the first)."""
        first: str | None = None
        for body in self.messages(request):
            if request.reference:            # statuses[] carry it back (#14)
                body = {**body, "biz_opaque_callback_data": request.reference}
            try:
                wamid = self._post(body)
            except ProviderError as exc:
                if first is None:
                    raise
                raise ProviderError(f"Only part of the reply was sent: {exc.message}", code=exc.code,
                                    retryable=False, http_status=exc.http_status) from exc
            first = first or wamid
        return SendResult(provider_id=first or "", status="accepted")

    def mark_read(self, message_id: str) -> None:
        """Blue ticks on a customer's message (and on the ones before it)."""
        self._graph.post(f"{self._phone_number_id}/messages",
                         {"messaging_product": "whatsapp", "status": "read", "message_id": message_id})


def _interactive(body: str, choices: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    """Up to three choices as reply buttons (titles of at most 20 characters); more (a satisfaction survey's
    five) as a list message: one button opens up to ten rows (titles of at most 24 characters), and the row
    the customer taps comes back as a ``list_reply`` with its id, like a button's."""
    if len(choices) <= 3:
        return {"type": "button", "body": {"text": body},
                "action": {"buttons": [{"type": "reply", "reply": {"id": cid[:256], "title": title[:20]}}
                                       for cid, title in choices]}}
    return {"type": "list", "body": {"text": body},
            "action": {"button": "1-5" if choices[0][0].startswith("csat:") else "Choose",
                       "sections": [{"rows": [{"id": cid[:200], "title": title[:24]} for cid, title in choices[:10]]}]}}
