"""Messenger and Instagram messaging (Meta): the ``messaging[]`` webhook and the Send API. Both
products share one payload and one Send API shape; ``provider`` (``"messenger"`` or
``"instagram"``) names which, and is also the channel and the identity kind.

Followed from Meta's Messenger webhook-event and Instagram messaging references: one POST carries
``entry[]`` x ``messaging[]`` (``standby[]`` while another app has thread control); the customer is
``sender.id`` (PSID / IGSID) and the Page or Instagram account ``recipient.id`` - except on echoes
of what the business sent, where the two are swapped. ``timestamp`` is in milliseconds. Attachments
carry a CDN ``payload.url`` that needs no token (and expires). Delivery and read receipts name
message ids (``mids`` / ``mid``) or only a ``watermark`` timestamp.
Signature and handshake: ``shopdesk.channels.meta``.
"""

from __future__ import annotations

import hashlib
import posixpath
import urllib.parse
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import partial
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
from shopdesk.channels.meta import OBJECT_BY_PROVIDER, GraphClient
from shopdesk.errors import BadRequest, ProviderError
from shopdesk.ids import parse_reference
from shopdesk.models.message import (
    Attachment,
    InboundMessage,
    StatusUpdate,
    SystemEvent,
    TimelineEvent,
    UnsupportedItem,
    WebhookItem,
)

PROVIDERS = ("messenger", "instagram")
STANDARD_WINDOW = timedelta(hours=24)    # replies allowed within 24 h of the customer's last message
HUMAN_AGENT_WINDOW = timedelta(days=7)   # with the HUMAN_AGENT tag, a person may answer for 7 days

# Content type family of each attachment type (the real type comes with the download).
_FAMILIES = {
    "image": "image/*", "sticker": "image/*", "video": "video/*", "reel": "video/*", "ig_reel": "video/*",
    "audio": "audio/*", "file": "application/octet-stream",
}
# What an agent reads for attachments that are not files of their own.
_DESCRIBED = {
    "story_mention": "📣 Mentioned you in their story", "share": "🔗 Shared a post", "ig_post": "🔗 Shared a post",
    "post": "🔗 Shared a post", "reel": "🎬 Shared a reel", "ig_reel": "🎬 Shared a reel",
    "template": "[template]", "appointment_booking": "📅 Appointment booking",
}
_SEND_TYPES = {
    ".jpg": "image", ".jpeg": "image", ".png": "image", ".gif": "image", ".webp": "image",
    ".mp4": "video", ".mov": "video", ".ogg": "audio", ".mp3": "audio", ".m4a": "audio", ".aac": "audio",
    ".wav": "audio",
}
_ENVELOPE = {"sender", "recipient", "timestamp"}








_dicts, _str, _text = meta.dicts, meta.as_str, meta.text

def _id(party: Any) -> str | None:
    return usable_id(party.get("id")) if isinstance(party, dict) else None


def _millis(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _check_provider(provider: str) -> None:
    if provider not in PROVIDERS:
        raise ValueError(f"provider must be one of {PROVIDERS}, not {provider!r}")


# ------------------------------------------------------------------------------- inbound

def _attachments(message: Mapping[str, Any]) -> tuple[list[Attachment], list[str], dict[str, Any]]:
    """(files, lines describing non-file attachments, structured payload) of a message."""
    files: list[Attachment] = []
    lines: list[str] = []
    payload: dict[str, Any] = {}
    urls: set[str] = set()
    items = list(_dicts(message.get("attachments")))
    has_sticker = any(a.get("type") == "sticker" for a in items)
    for item in items:
        atype = _str(item.get("type")) or "unknown"
        body = item.get("payload") if isinstance(item.get("payload"), dict) else {}
        url = _str(body.get("url")) or _str(item.get("url"))
        if atype == "location" and isinstance(body.get("coordinates"), dict):
            coords = body["coordinates"]
            title = _str(item.get("title"))
            lines.append(f"📍 {title + ' ' if title else ''}({coords.get('lat')}, {coords.get('long')})")
            payload["location"] = {"latitude": coords.get("lat"), "longitude": coords.get("long"), "name": title,
                                   "url": url}
            continue
        if atype == "fallback":                 # a shared link, or an unsupported share with no payload
            title = _str(item.get("title")) or _str(body.get("title"))
            lines.append(" ".join(p for p in ("🔗", title, url) if p) if (title or url) else "[unsupported share]")
            continue
        if atype == "image" and has_sticker:    # sticker transition: Meta sends both sticker and image
            continue
        if atype in _DESCRIBED:
            title = _str(body.get("title"))
            lines.append(_DESCRIBED[atype] + (f": {title}" if title else ""))
            payload.setdefault("shares", []).append({"type": atype, **body})
        elif atype not in _FAMILIES:
            lines.append(f"[unsupported attachment: {atype}]")
        if url and url not in urls and (atype in _FAMILIES or atype in ("story_mention", "share", "ig_post", "post")):
            urls.add(url)
            files.append(Attachment(url=url, content_type=_FAMILIES.get(atype)))
        if atype == "sticker" and body.get("sticker_id") is not None:
            payload["sticker_id"] = body["sticker_id"]
    return files, lines, payload


def _inbound(event: Mapping[str, Any], message: dict[str, Any], provider: str, customer: str, shop: str,
             standby: bool) -> InboundMessage:
    mid = str(message["mid"]).strip()
    if message.get("is_unsupported"):
        return InboundMessage(provider=provider, provider_id=mid, channel=provider, identity_kind=provider,
                              customer_address=customer, shop_address=shop, reply_to=customer, kind="unsupported",
                              text=f"[unsupported message type: {provider} did not share this content]",
                              payload={"type": "unsupported"}, sent_at=_millis(event.get("timestamp")),
                              raw=dict(event))
    files, lines, payload = _attachments(message)
    text = _text(message.get("text"))
    if lines and not text:
        text = "\n".join(lines)
    elif lines:
        text = text + "\n" + "\n".join(lines)
    kind = "text"
    if "location" in payload:
        kind = "location"
    elif files:
        kind = "media"
    if any(s.get("type") == "story_mention" for s in payload.get("shares", [])):
        kind = "story_mention"
    quick = message.get("quick_reply")
    if isinstance(quick, dict):
        kind = "interactive"
        payload["quick_reply"] = quick.get("payload")
    reply_to = message.get("reply_to") if isinstance(message.get("reply_to"), dict) else {}
    if isinstance(reply_to.get("story"), dict):        # Instagram: an answer to the business's story
        payload["story"] = reply_to["story"]
    if isinstance(message.get("referral"), dict):      # Instagram Shop product, ad...
        payload["referral"] = message["referral"]
    if standby:
        payload["standby"] = True
    if text is None and not files:
        kind, text = "unsupported", "[unsupported message type: empty]"
    return InboundMessage(
        provider=provider, provider_id=mid, channel=provider, identity_kind=provider, customer_address=customer,
        shop_address=shop, reply_to=customer, text=text, attachments=files, kind=kind, payload=payload or None,
        reply_context=_str(reply_to.get("mid")), sent_at=_millis(event.get("timestamp")), raw=dict(event),
    )


def _postback(event: Mapping[str, Any], provider: str, customer: str, shop: str) -> InboundMessage:
    postback = event["postback"]
    title, data = _text(postback.get("title")), postback.get("payload")
    mid = _str(postback.get("mid"))
    if not mid:                                   # older postbacks carry no mid: stable id from the event
        mid = "postback:" + hashlib.sha256(f"{customer}|{event.get('timestamp')}|{data}".encode()).hexdigest()[:32]
    payload: dict[str, Any] = {"payload": data, "title": title}
    if isinstance(postback.get("referral"), dict):
        payload["referral"] = postback["referral"]
    return InboundMessage(provider=provider, provider_id=mid, channel=provider, identity_kind=provider,
                          customer_address=customer, shop_address=shop, reply_to=customer, kind="postback",
                          text=title or _str(data) or "[button tapped]", payload=payload,
                          sent_at=_millis(event.get("timestamp")), raw=dict(event))


def _event(provider: str, event_id: str, kind: str, customer: str | None, text: str, raw: Mapping[str, Any],
           said: SystemEvent, target: str | None = None) -> TimelineEvent:
    return TimelineEvent(provider=provider, event_id=event_id, kind=kind, identity_kind=provider if customer else None,
                         customer_address=customer, target_provider_id=target, text=text, raw=dict(raw), event=said,
                         at=_millis(raw.get("timestamp")))


_SOURCES = {"ADS": "an ad", "SHORTLINK": "an m.me link", "CUSTOMER_CHAT_PLUGIN": "the chat plugin on the website",
            "DISCOVER_TAB": "Messenger's Discover tab", "PRODUCT": "a product"}


def _referral(ref: Mapping[str, Any]) -> tuple[str, SystemEvent]:
    source = _str(ref.get("source")) or ""
    text = "The customer arrived via " + _SOURCES.get(source.upper(), source.lower().replace("_", " ") or "a link")
    context = ref.get("ads_context_data")
    title = _str(context.get("ad_title")) if isinstance(context, dict) else None
    if title:
        text += f' "{title}"'
    extras = [f"{label} {ref[key]}" for key, label in (("ad_id", "ad"), ("ref", "ref")) if _str(ref.get(key))]
    return text + (f" ({', '.join(extras)})" if extras else ""), timeline_event(
        "referral", source=source.lower() or None, ad_title=title, ad_id=_str(ref.get("ad_id")),
        ref=_str(ref.get("ref")))


_NOTIFICATIONS = {"STOP_NOTIFICATIONS": "stopped", "RESUME_NOTIFICATIONS": "resumed"}


def _optin(optin: Mapping[str, Any]) -> tuple[str, SystemEvent]:
    status = _NOTIFICATIONS.get(_str(optin.get("notification_messages_status")) or "")
    if status:
        return f"The customer {status} notification messages", timeline_event("optin", notifications=status)
    title = _str(optin.get("title")) or _str(optin.get("ref")) or _str(optin.get("type"))
    return "The customer opted in" + (f": {title}" if title else ""), timeline_event("optin", title=title)


def _items(event: dict[str, Any], provider: str, page_id: str | None, standby: bool) -> list[WebhookItem]:
    sender, recipient = _id(event.get("sender")), _id(event.get("recipient"))
    stamp = event.get("timestamp")
    message = event.get("message") if isinstance(event.get("message"), dict) else None
    if message is not None and message.get("mid") is not None:
        mid = usable_id(message.get("mid"))
        if mid is None:
            return [unsupported(provider, "a message without a usable mid", event, message.get("mid"))]
        reference = usable_id(message.get("metadata")) if message.get("is_echo") else None
        if reference and parse_reference(reference):
            # the echo of one of our own replies, carrying our reference: a receipt that names the reply
            return [StatusUpdate(provider=provider, provider_id=mid, status="sent", reference=reference)]
        if message.get("is_echo") or (page_id and sender == page_id):
            # What the business sent (this app, the Page inbox, another app): the customer is the recipient.
            written = _text(message.get("text"))
            text = written or "\n".join(_attachments(message)[1]) or "[attachment]"
            content = None if written else next((_str(a.get("type")) for a in _dicts(message.get("attachments"))
                                                 if _str(a.get("type"))), "attachment")
            return [_event(provider, f"echo:{mid}", "echo", recipient, f"Sent by the business: {text}", event,
                           timeline_event("echo", channel=provider, text=written, content=content), mid)]
        if not sender:
            return [unsupported(provider, "a message without a usable sender id", event, mid)]
        if message.get("is_deleted"):
            return [_event(provider, f"unsend:{mid}", "unsend", sender, "The customer unsent a message", event,
                           timeline_event("unsend", channel=provider), mid)]
        return [_inbound(event, message, provider, sender, recipient or page_id or "", standby)]
    if not sender:                                  # optins by user_ref and the like: nobody to attach it to
        return [unsupported(provider, "an event without a usable sender id", event)]
    shop = recipient or page_id or ""
    if isinstance(event.get("postback"), dict):
        return [_postback(event, provider, sender, shop)]
    if isinstance(event.get("delivery"), dict):
        # One receipt per named message; watermark-only receipts ("everything before T") name no
        # message and are acknowledged without an item.
        named = event["delivery"].get("mids")
        if named is not None and not isinstance(named, list):      # a string is no list of ids, nor an object's keys
            return [unsupported(provider, "a delivery receipt whose mids is not a list", event)]
        mids = [m for m in named or [] if isinstance(m, str) and m]
        return [StatusUpdate(provider=provider, provider_id=m, status="delivered") for m in mids]
    if isinstance(event.get("read"), dict):
        # Instagram names the message read (``mid``); Messenger only a watermark (acknowledged, no item).
        mid = _str(event["read"].get("mid"))
        return [StatusUpdate(provider=provider, provider_id=mid, status="read")] if mid else []
    if isinstance(event.get("reaction"), dict):
        reaction = event["reaction"]
        target = _str(reaction.get("mid"))
        action = _str(reaction.get("action")) or "react"
        emoji = _str(reaction.get("emoji")) or _str(reaction.get("reaction"))
        text = "Removed a reaction" if action == "unreact" else f"Reacted {emoji}" if emoji else "Reacted"
        said = timeline_event("reaction", action="removed") if action == "unreact" else \
            timeline_event("reaction", action="added", emoji=emoji)
        return [_event(provider, f"reaction:{target}:{sender}:{action}:{stamp}", "reaction", sender, text, event,
                       said, target)]
    if isinstance(event.get("message_edit"), dict):
        edit = event["message_edit"]
        target = _str(edit.get("mid"))
        new_text = _text(edit.get("text")) or ""
        return [_event(provider, f"edit:{target}:{edit.get('num_edit')}:{stamp}", "edit", sender,
                       f"Edited a message: {new_text}", event, timeline_event("edit", text=new_text or None), target)]
    if isinstance(event.get("referral"), dict):
        text, said = _referral(event["referral"])
        return [_event(provider, f"referral:{sender}:{stamp}", "referral", sender, text, event, said)]
    if isinstance(event.get("optin"), dict):
        text, said = _optin(event["optin"])
        return [_event(provider, f"optin:{sender}:{stamp}", "optin", sender, text, event, said)]
    keys = sorted(k for k in event if k not in _ENVELOPE)
    if not keys:
        return []
    name = keys[0]
    said = timeline_event("unknown", channel=provider, name=name)
    return [_event(provider, f"unknown:{name}:{sender}:{stamp}", "unknown", sender,
                   f"Unhandled {provider} event: {name}", event, said)]


def parse(payload: dict[str, Any], provider: str) -> list[WebhookItem]:
    """Every item of a Messenger (``object: page``) or Instagram (``object: instagram``) webhook POST.

    - ``message``: InboundMessage (text, files, location, quick reply, story reply, shares);
      ``is_echo`` becomes TimelineEvent ``echo`` about the recipient (the echo of one of our replies that carries
      our reference in ``metadata``: StatusUpdate ``sent`` with it, #14), ``is_deleted`` ``unsend``,
      Instagram's ``is_unsupported`` a placeholder InboundMessage. Each ``mid`` once per POST.
    - ``postback``: InboundMessage kind ``postback`` (title as text, payload kept).
    - ``delivery``: one StatusUpdate ``delivered`` per id in ``mids``; ``read``: StatusUpdate
      ``read`` when it names a ``mid`` (Instagram). Watermark-only receipts are acknowledged and
      produce nothing: they name no message and the delivery state is per message.
    - ``reaction``, ``message_edit``, ``referral``, ``optin``: TimelineEvents; any other event key a
      TimelineEvent ``unknown`` with the raw event kept.
    Instagram ``changes[]`` (comments, mentions) are not direct messages and are acknowledged.
    An event that is not an object, has no usable sender or mid, or that the models refuse becomes an
    UnsupportedItem (the webhook keeps and logs it); the other events of the POST are unaffected.
    """
    _check_provider(provider)
    if not isinstance(payload, dict):
        raise BadRequest("webhook body is not a JSON object")
    if payload.get("object") != OBJECT_BY_PROVIDER[provider]:
        raise BadRequest(f"not a {provider} webhook (object={payload.get('object')!r})")
    if not isinstance(payload.get("entry"), list):
        raise BadRequest("webhook body has no entry list")
    items: list[WebhookItem] = []
    seen: set[tuple[str, str]] = set()
    for entry in _dicts(payload["entry"]):
        page_id = _str(entry.get("id"))
        for key in ("messaging", "standby"):
            events = entry.get(key)
            for event in events if isinstance(events, list) else ([] if events is None else [events]):
                if not isinstance(event, dict):
                    items.append(unsupported(provider, f"a {key} event that is not an object", event))
                    continue
                message = event.get("message")
                mid = message.get("mid") if isinstance(message, dict) else None
                read = partial(_items, event, provider, page_id, standby=key == "standby")
                sender = _id(event.get("sender"))
                for item in item_or_unsupported(provider, event, read, mid, (provider, sender) if sender else None):
                    if isinstance(item, InboundMessage):
                        mark = ("message", item.provider_id)
                    elif isinstance(item, StatusUpdate):
                        mark = ("status:" + item.status, item.provider_id)
                    elif isinstance(item, UnsupportedItem):
                        mark = ("unsupported", str(len(items)))
                    else:
                        mark = ("event", item.event_id)
                    if mark not in seen:
                        seen.add(mark)
                        items.append(item)
    return items


# ------------------------------------------------------------------------------- outbound

def attachment_type(url: str) -> str:
    """Send API attachment type for a file URL, from its extension (``file`` otherwise)."""
    path = urllib.parse.urlsplit(url).path
    return _SEND_TYPES.get(posixpath.splitext(path)[1].lower(), "file")


def file_attachment_type(file: OutboundFile) -> str:
    """Send API attachment type for a file: image, video or audio by its content type, else ``file``."""
    kind = (file.content_type or "").lower()
    if not kind:
        return attachment_type(file.url)
    major = kind.split("/", 1)[0]
    return major if major in ("image", "video", "audio") else "file"


class MessengerSender:
    """Replies through the Send API: ``POST /<version>/me/messages`` (or ``/<page or IG id>/messages``).

    ``messaging_type`` is ``RESPONSE``, or ``MESSAGE_TAG`` with the request's ``tag`` (HUMAN_AGENT...).
    One message carries text or one attachment, so a reply with files is several messages; the
    first one's ``message_id`` identifies the reply. Whether the window allows the reply is decided
    before this is called.
    """

    def __init__(self, graph: GraphClient, page_id: str = "me", provider: str = "messenger") -> None:
        _check_provider(provider)
        self._graph = graph
        self._page_id = page_id or "me"
        self.provider = provider

    def messages(self, request: OutboundRequest) -> list[dict[str, Any]]:
        if not request.to:
            raise BadRequest("the reply has no recipient")
        base: dict[str, Any] = {"recipient": {"id": request.to}}
        if request.tag:
            base.update(messaging_type="MESSAGE_TAG", tag=request.tag)
        else:
            base["messaging_type"] = "RESPONSE"
        message: dict[str, Any] = {"text": request.text}
        files = request.outbound_files()
        if request.choices and not files:          # quick replies under the text (titles ≤ 20)
            message["quick_replies"] = [{"content_type": "text", "title": title[:20], "payload": cid[:1000]}
                                        for cid, title in request.choices[:13]]
        bodies = [{**base, "message": message}] if request.text else []
        bodies += [{**base, "message": {"attachment": {"type": file_attachment_type(file),
                                                       "payload": {"url": file.url, "is_reusable": False}}}}
                   for file in files]
        if not bodies:
            raise BadRequest("the reply has no text or media")
        if request.reference and self.provider == "messenger":
            # Messenger gives it back on the message's echo (#14: a crash between its answer and our record)
            for body in bodies:
                body["message"]["metadata"] = request.reference
        return bodies

    def send(self, request: OutboundRequest) -> SendResult:
        first: str | None = None
        for body in self.messages(request):
            try:
                answer = self._graph.post(f"{self._page_id}/messages", body)
            except ProviderError as exc:
                if first is None:
                    raise
                raise ProviderError(f"Only part of the reply was sent: {exc.message}", code=exc.code,
                                    retryable=False, http_status=exc.http_status) from exc
            mid = _str(answer.get("message_id"))
            if not mid:
                raise ProviderError(f"{self.provider} accepted the request but returned no message id", code=None,
                                    retryable=False)
            first = first or mid
        return SendResult(provider_id=first or "", status="accepted")
