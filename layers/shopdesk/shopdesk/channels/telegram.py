"""Telegram bots: webhook secret token, update parsing, sending, file downloads.

Behaviour follows the Telegram Bot API documentation:

- Authenticity: ``setWebhook(secret_token=...)`` makes Telegram send the token in the header
  ``X-Telegram-Bot-Api-Secret-Token`` on every webhook request (1-256 characters of ``A-Z a-z 0-9 _ -``).
  There is no HMAC; the header is compared in constant time and a missing header is a rejection.
- Redelivery: Telegram repeats an update after any non-2xx answer, so the dedupe key of everything
  parsed from an update is its ``update_id`` (``InboundMessage.provider_id`` / ``TimelineEvent.event_id``).
  ``update_id`` is per bot: two bots can send the same number.
- Message ids are only unique within a chat, so a Telegram message is named ``"<chat_id>:<message_id>"``
  (``message_ref``): that is ``SendResult.provider_id`` of what we send and ``target_provider_id`` of
  edits, reactions and deletions, so a reaction to one of our replies finds it exactly, and a target
  can never be mistaken for an inbound ``update_id``; an inbound ``reply_context`` (the message the
  customer quoted, or the one under the button they pressed) is named the same way. The inbound
  message's own ``message_id`` is kept in ``payload["message_id"]``; a reply quotes it through
  ``OutboundRequest.reply_context`` (a bare message id, or a ``message_ref`` of the same chat).
- Only private chats are customer conversations. Updates from groups, supergroups and channels
  (``channel_post``, group messages, reactions counted in channels, the bot being added to a group...)
  are acknowledged and produce nothing: a group is not one customer, and answering it from the inbox
  would write to everyone in it.
- Language: the sender's ``from.language_code`` (the IETF tag of their Telegram app's language) is kept in a
  message's and a button press's ``payload["language_code"]``, where the understanding layer reads it as a hint.
- Telegram Business: a ``business_message`` arrives through a business connection (the shop's own
  Telegram account with the bot attached). Replies must go out with the same ``business_connection_id``,
  so such messages get ``shop_address == "business:<connection id>"`` and the sender turns that
  ``OutboundRequest.sender`` back into the parameter. Messages the shop's account itself wrote in that
  chat (``from.id != chat.id``) are echoes, not customer messages.
- Sending: ``sendMessage`` takes 1-4096 characters (Telegram counts UTF-16 code units), captions
  0-1024; media go by URL through ``sendPhoto`` (JPEG/PNG/WebP, Telegram fetches at most 5 MB) or
  ``sendDocument`` (other files; by URL Telegram only accepts PDF, ZIP and GIF, up to 20 MB).
  Telegram has no delivery receipts: a send that returns a message id is final (``"sent"``).
- Errors: ``{"ok": false, "error_code", "description", "parameters": {"retry_after"}}``; 429 and 5xx
  are retryable (429 with ``retry_after`` seconds), everything else is not.
- Files: ``getFile`` returns a ``file_path`` valid for at least an hour, downloaded from
  ``/file/bot<token>/<file_path>``; bots can download at most 20 MB (larger: "file is too big").
"""

from __future__ import annotations

import hmac
import json
import mimetypes
import posixpath
import re
import time
import urllib.parse
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any

from shopdesk.bounds import loads
from shopdesk.channels.base import (
    Media,
    OutboundFile,
    OutboundRequest,
    SendResult,
    http_bytes,
    http_json,
    item_or_unsupported,
    timeline_event,
    unsupported,
    usable_id,
)
from shopdesk.errors import BadRequest, ProviderError
from shopdesk.models.message import Attachment, InboundMessage, SystemEvent, TimelineEvent, WebhookItem

PROVIDER = "telegram"
CHANNEL = "telegram"
IDENTITY_KIND = "telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
DEFAULT_BASE_URL = "https://api.telegram.org"
DEFAULT_SHOP_ADDRESS = "bot"
BUSINESS_PREFIX = "business:"

MAX_TEXT = 4096                      # sendMessage text, UTF-16 code units
MAX_CAPTION = 1024                   # sendPhoto / sendDocument caption
MAX_BOT_DOWNLOAD = 20 * 1024 * 1024  # getFile: "bots can download files of up to 20MB in size"
PHOTO_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")

_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_TOKEN_RE = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{1,200}")
_CHAT_ID_RE = re.compile(r"-?[0-9]{1,20}")
_LANGUAGE_TAG_RE = re.compile(r"[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8}){0,7}")   # an IETF language tag's shape

# Human-readable reasons, matched against Telegram's ``description`` (lower-cased substring): the
# error_code alone does not tell "blocked" from "never started" (both 403).
ERROR_REASONS: tuple[tuple[str, str], ...] = (
    ("bot was blocked by the user", "The customer blocked the bot; they must write to it again"),
    ("user is deactivated", "The customer's Telegram account was deleted"),
    ("bot can't initiate conversation", "The customer never started the bot; a bot can only answer people "
                                        "who wrote to it first"),
    ("bot was kicked", "The bot was removed from this chat"),
    ("chat not found", "Telegram does not know this chat (wrong chat id, or the customer never wrote to this bot)"),
    ("peer_id_invalid", "Telegram does not know this chat (wrong chat id, or the customer never wrote to this bot)"),
    ("business_connection", "The shop's Telegram Business connection is no longer active; reconnect the bot "
                            "in Telegram Business settings"),
    ("message is too long", "The message is longer than Telegram allows (4096 characters)"),
    ("message caption is too long", "The caption is longer than Telegram allows (1024 characters)"),
    ("message text is empty", "The message has no text"),
    ("wrong file identifier/http url", "Telegram could not use the attachment URL (it must be public; photos "
                                       "up to 5 MB, other files up to 20 MB)"),
    ("failed to get http url content", "Telegram could not download the attachment from its URL (it must be "
                                       "public; photos up to 5 MB, other files up to 20 MB)"),
    ("wrong type of the web page content", "Telegram refused the attachment's type (by URL it sends photos, "
                                           "PDF, ZIP and GIF files only)"),
    ("file is too big", "The file is larger than 20 MB, the most Telegram lets a bot download"),
    ("wrong file_id", "Telegram no longer has this file"),
    ("invalid file_id", "Telegram no longer has this file"),
)
CODE_REASONS = {
    401: "Telegram refused the bot token (check the token in the shop's Telegram settings)",
    404: "Telegram refused the bot token (check the token in the shop's Telegram settings)",
    429: "Telegram rate limit reached",
}


def reason(error_code: int | None, description: str | None) -> str:
    """What an agent reads for a Telegram error."""
    text = (description or "").lower()
    for needle, human in ERROR_REASONS:
        if needle in text:
            return human
    if error_code in CODE_REASONS:
        return CODE_REASONS[error_code]
    if error_code is not None and error_code >= 500:
        return "Telegram had a server error"
    return f"Telegram refused the message: {description}" if description else "Telegram refused the message"


# ------------------------------------------------------------------------------- authenticity

def verify_secret(header: str | None, secret: str) -> bool:
    """``X-Telegram-Bot-Api-Secret-Token`` against the configured ``secret_token``, constant time.
    False when the header is missing or the configured secret is empty or not a valid secret_token."""
    if not header or not secret or not _SECRET_RE.fullmatch(secret):
        return False
    return hmac.compare_digest(header.encode("utf-8", "surrogatepass"), secret.encode())


def bot_id(bot_token: str) -> str:
    """The bot's own user id: the number before the colon of its token (not secret)."""
    return bot_token.split(":", 1)[0]


# ------------------------------------------------------------------------------- inbound

def parse_body(body: str | bytes) -> list[WebhookItem]:
    """A raw webhook body: JSON (read through ``bounds.loads``), then ``parse``."""
    return parse(loads(body, "Telegram update"))


def parse(update: Any, *, shop_address: str = DEFAULT_SHOP_ADDRESS) -> list[WebhookItem]:
    """One Telegram ``Update`` as provider-neutral items (at most one field besides ``update_id`` is set).

    ``shop_address`` names the bot the customer wrote to (``"bot"`` by default; ``bot_id(token)`` when
    one deployment serves several bots). Returns ``[]`` for updates that are acknowledged and ignored
    (group and channel chats). Raises ``BadRequest`` for a body that is not an update (no integer
    ``update_id``); an update whose parts are not what the Bot API documents is one UnsupportedItem.
    """
    if not isinstance(update, dict):
        raise BadRequest("Telegram update is not a JSON object")
    update_id = update.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        raise BadRequest("Telegram update has no update_id")
    for field, handler in _HANDLERS.items():
        if field in update:
            value = update[field]
            if not isinstance(value, dict):
                return [unsupported(PROVIDER, f"the update's {field} is not an object", update, update_id)]
            # One update is one item: a part of it that is not what the Bot API documents makes the
            # update unsupported (kept and logged by the webhook), never an error.
            chat = value.get("chat")
            private = isinstance(chat, dict) and _is_int(chat.get("id")) and chat["id"] > 0
            return item_or_unsupported(PROVIDER, update, partial(handler, update_id, value, update, shop_address),
                                       update_id, (IDENTITY_KIND, str(chat["id"])) if private else None)
    field = next((key for key in update if key != "update_id"), None)
    return _unknown(update_id, field, update.get(field) if field else None, update)


def _private_chat(obj: Mapping[str, Any], *, required: bool = True) -> dict[str, Any] | None:
    """The object's chat when it is a private chat; None for groups and channels (and a missing
    chat when not required). A chat without an id is malformed."""
    chat = obj.get("chat")
    if chat is None and not required:
        return None
    if not isinstance(chat, dict) or not _is_int(chat.get("id")):
        raise BadRequest("Telegram object has no chat id")
    kind = chat.get("type") or ("private" if chat["id"] > 0 else "group")
    return chat if kind == "private" else None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def message_ref(chat_id: int | str, message_id: int | str) -> str:
    """A Telegram message's name across chats: ``"<chat_id>:<message_id>"``."""
    return f"{chat_id}:{message_id}"


def _int(value: Any) -> int:
    return value if _is_int(value) else 0


def _message_id(message: Mapping[str, Any]) -> int:
    message_id = message.get("message_id")
    if not _is_int(message_id):
        raise BadRequest("Telegram message has no message_id")
    return message_id


def _name(user: Any) -> str | None:
    if not isinstance(user, dict):
        return None
    full = " ".join(str(user[k]).strip() for k in ("first_name", "last_name") if user.get(k)).strip()
    return full or (str(user["username"]) if user.get("username") else None)


def language_code(user: Any) -> str | None:
    """The sender's ``language_code`` (the IETF tag of their Telegram app's language, ``"es"``, ``"pt-br"``) when it
    is one; the understanding layer reads it from the message's payload as a hint of their language."""
    code = user.get("language_code") if isinstance(user, dict) else None
    return code if isinstance(code, str) and len(code) <= 35 and _LANGUAGE_TAG_RE.fullmatch(code) else None


def _sent_at(message: Mapping[str, Any]) -> datetime | None:
    date = message.get("date")
    return datetime.fromtimestamp(date, UTC) if _is_int(date) and 0 < date < 32_503_680_000 else None   # < year 3000


def _shop(message: Mapping[str, Any], default: str) -> str:
    connection = message.get("business_connection_id")
    return f"{BUSINESS_PREFIX}{connection}" if isinstance(connection, str) and connection else default


def _from_shop(message: Mapping[str, Any], chat: Mapping[str, Any]) -> bool:
    """In a business chat, messages written by the shop's own account (or a bot acting for it)."""
    sender = message.get("from")
    return bool(message.get("sender_business_bot")) or (isinstance(sender, dict) and sender.get("id") != chat["id"])


def _on_message(update_id: int, message: dict[str, Any], raw: dict[str, Any], shop_address: str) -> list[WebhookItem]:
    chat = _private_chat(message)
    if chat is None:
        return []
    message_id = _message_id(message)
    kind, text, attachments, content = _content(message)
    if message.get("business_connection_id") and _from_shop(message, chat):
        return [_event(str(update_id), "echo", chat, f'The shop wrote from its Telegram account: "{text or kind}"',
                       raw, timeline_event("echo", channel=CHANNEL, text=text or None,
                                           content=None if text else kind), message_id)]
    payload: dict[str, Any] = {"message_id": message_id, "chat_id": chat["id"], **content}
    for key in ("business_connection_id", "media_group_id"):
        if message.get(key):
            payload[key] = message[key]
    if isinstance(message.get("forward_origin"), dict):
        payload["forwarded"] = True
    if language_code(message.get("from")):
        payload["language_code"] = language_code(message.get("from"))
    reply = message.get("reply_to_message")
    quoted = reply.get("message_id") if isinstance(reply, dict) else None
    reply_context = message_ref(chat["id"], quoted) if _is_int(quoted) else None
    return [InboundMessage(
        provider=PROVIDER, provider_id=str(update_id), channel=CHANNEL, identity_kind=IDENTITY_KIND,
        customer_address=str(chat["id"]), shop_address=_shop(message, shop_address), reply_to=str(chat["id"]),
        text=text, attachments=attachments, profile_name=_name(message.get("from")) or _name(chat), kind=kind,
        payload=payload, reply_context=reply_context, sent_at=_sent_at(message), raw=raw,
    )]


# Message content in the order Telegram's own clients resolve it: an animation also carries a
# ``document`` (for old clients), a venue also carries its ``location``.
_FILES: tuple[tuple[str, str | None], ...] = (
    ("animation", "video/mp4"),
    ("video", "video/mp4"),
    ("video_note", "video/mp4"),
    ("voice", "audio/ogg"),
    ("audio", "audio/mpeg"),
    ("document", None),
)
# Content we recognise but cannot show; anything else unknown is "a message".
_UNSUPPORTED = ("poll", "dice", "game", "story", "invoice", "successful_payment", "paid_media", "giveaway",
                "giveaway_winners", "checklist", "web_app_data", "users_shared", "chat_shared", "passport_data")


def _string(value: Any) -> str | None:
    """A field the Bot API documents as a string; anything else (a number, an object...) is absent."""
    return value if isinstance(value, str) and value else None


def _file(obj: Mapping[str, Any], default_type: str | None) -> Attachment | None:
    file_id = usable_id(obj.get("file_id"))
    if not isinstance(obj.get("file_id"), str) or file_id is None:
        return None
    size = obj.get("file_size")
    return Attachment(media_id=file_id, content_type=_string(obj.get("mime_type")) or default_type,
                      filename=_string(obj.get("file_name")), size=size if _is_int(size) else None)


def _content(message: Mapping[str, Any]) -> tuple[str, str | None, list[Attachment], dict[str, Any]]:
    """(kind, text, attachments, payload) of a message."""
    caption = message.get("caption") if isinstance(message.get("caption"), str) else None
    if isinstance(message.get("text"), str):
        return "text", message["text"], [], {}
    photo = message.get("photo")
    if isinstance(photo, list) and photo:
        sizes = [p for p in photo if isinstance(p, dict)]
        # Sizes come smallest first; take the largest (by pixels, then bytes) for the agent.
        largest = max(sizes, key=lambda p: (_int(p.get("width")) * _int(p.get("height")), _int(p.get("file_size"))),
                      default=None)
        attachment = _file(largest, "image/jpeg") if largest else None
        if attachment is not None:
            return "media", caption, [attachment], {}
    for field, default_type in _FILES:
        obj = message.get(field)
        if isinstance(obj, dict) and (attachment := _file(obj, default_type)) is not None:
            return "media", caption, [attachment], {}
    sticker = message.get("sticker")
    if isinstance(sticker, dict):
        return _sticker(sticker)
    venue = message.get("venue")
    if isinstance(venue, dict) and isinstance(venue.get("location"), dict):
        place = ", ".join(str(venue[k]) for k in ("title", "address") if venue.get(k))
        lat, lon = venue["location"].get("latitude"), venue["location"].get("longitude")
        payload = {"location": {"latitude": lat, "longitude": lon, "name": venue.get("title"),
                                "address": venue.get("address")}}
        return "location", f"📍 {place} ({lat}, {lon})" if place else f"📍 {lat}, {lon}", [], payload
    location = message.get("location")
    if isinstance(location, dict):
        lat, lon = location.get("latitude"), location.get("longitude")
        live = location.get("live_period")
        payload = {"location": {k: location[k] for k in ("latitude", "longitude", "horizontal_accuracy",
                                                          "live_period") if k in location}}
        return "location", f"📍 {'Live location' if live else 'Location'}: {lat}, {lon}", [], payload
    contact = message.get("contact")
    if isinstance(contact, dict):
        name = _name(contact) or "Unnamed contact"
        phone = contact.get("phone_number")
        card = {"name": name, "phone_number": phone, "user_id": contact.get("user_id"), "vcard": contact.get("vcard")}
        text = f"👤 Contact: {name}" + (f", {phone}" if phone else "")
        return "contacts", text, [], {"contacts": [{k: v for k, v in card.items() if v is not None}]}
    what = next((field for field in _UNSUPPORTED if field in message), None)
    label = f"a Telegram {what.replace('_', ' ')}" if what else "a Telegram message"
    return "unsupported", f"[The customer sent {label} that cannot be shown here]", [], \
        {"unsupported": what or "unknown"}


def _sticker(sticker: Mapping[str, Any]) -> tuple[str, str | None, list[Attachment], dict[str, Any]]:
    emoji = sticker.get("emoji") if isinstance(sticker.get("emoji"), str) else None
    payload = {"sticker": {k: sticker[k] for k in ("emoji", "set_name", "is_animated", "is_video") if k in sticker}}
    # Animated (.tgs Lottie) stickers cannot be shown in a browser; static (WebP) and video (WebM) can.
    if sticker.get("is_animated"):
        return "text", emoji or "[sticker]", [], payload
    attachment = _file(sticker, "video/webm" if sticker.get("is_video") else "image/webp")
    if attachment is None:
        return "text", emoji or "[sticker]", [], payload
    return "media", emoji, [attachment], payload


def _event(event_id: str, kind: str, chat: Mapping[str, Any], text: str, raw: dict[str, Any], said: SystemEvent,
           message_id: int | None = None, at: datetime | None = None) -> TimelineEvent:
    """A timeline event in a customer's private chat, about one of its messages when ``message_id`` is given."""
    return TimelineEvent(provider=PROVIDER, event_id=event_id, kind=kind, identity_kind=IDENTITY_KIND,
                         customer_address=str(chat["id"]), text=text, raw=raw, event=said, at=at,
                         target_provider_id=message_ref(chat["id"], message_id) if message_id is not None else None)


def _on_edit(update_id: int, message: dict[str, Any], raw: dict[str, Any], _shop_address: str) -> list[WebhookItem]:
    chat = _private_chat(message)
    if chat is None:
        return []
    _, text, _, _ = _content(message)
    new_text = text if text is not None else "[media without caption]"
    return [_event(str(update_id), "edit", chat, f'Edited: "{new_text}"', raw,
                   timeline_event("edit", text=text or None), _message_id(message),
                   _sent_at({"date": message.get("edit_date")}))]


def _on_deleted(update_id: int, deleted: dict[str, Any], raw: dict[str, Any], _shop_address: str) -> list[WebhookItem]:
    chat = _private_chat(deleted)
    if chat is None:
        return []
    ids = [m for m in deleted.get("message_ids") or [] if _is_int(m)]
    return [_event(f"{update_id}:{m}", "unsend", chat, "A message was deleted in the Telegram Business chat", raw,
                   timeline_event("unsend", channel=CHANNEL), m) for m in ids]


def _reactions(reactions: Any) -> tuple[str, dict[str, Any]]:
    """Reactions in English ("👍 a custom emoji"), and as a reaction event's params {emoji?, custom_emoji?}."""
    shown, emoji, custom = [], [], 0
    for r in reactions if isinstance(reactions, list) else []:
        if not isinstance(r, dict):
            continue
        if r.get("type") == "emoji" and r.get("emoji"):
            shown.append(str(r["emoji"]))
            emoji.append(str(r["emoji"]))
        elif r.get("type") == "paid":
            shown.append("⭐")
            emoji.append("⭐")
        else:
            shown.append("a custom emoji")
            custom += 1
    return " ".join(shown), {"emoji": " ".join(emoji) or None, "custom_emoji": custom or None}


def _on_reaction(update_id: int, reaction: dict[str, Any], raw: dict[str, Any], _shop_address: str
                 ) -> list[WebhookItem]:
    chat = _private_chat(reaction)
    if chat is None:
        return []
    (new, added), (old, removed) = _reactions(reaction.get("new_reaction")), _reactions(reaction.get("old_reaction"))
    if new:
        text, said = f"Reacted {new}", timeline_event("reaction", action="added", **added)
    else:
        text = f"Removed the reaction {old}" if old else "Removed a reaction"
        said = timeline_event("reaction", action="removed", **removed)
    return [_event(str(update_id), "reaction", chat, text, raw, said, _message_id(reaction))]


def _button_label(message: Any, data: str | None) -> str | None:
    """The label of the inline button whose callback_data is ``data``, from the message it sits under."""
    if data is None or not isinstance(message, dict) or not isinstance(message.get("reply_markup"), dict):
        return None
    for row in message["reply_markup"].get("inline_keyboard") or []:
        for button in row if isinstance(row, list) else []:
            if isinstance(button, dict) and button.get("callback_data") == data and button.get("text"):
                return str(button["text"])
    return None


def _on_callback(update_id: int, query: dict[str, Any], raw: dict[str, Any], shop_address: str) -> list[WebhookItem]:
    """An inline-keyboard button press: the customer answering. The label they tapped is the text
    (falling back to the button's data); the data and the query id stay in the payload."""
    user = query.get("from")
    if not isinstance(user, dict) or not _is_int(user.get("id")):
        raise BadRequest("Telegram callback_query has no from.id")
    message = query.get("message") if isinstance(query.get("message"), dict) else None
    chat = _private_chat(message, required=False) if message is not None else None
    if message is not None and isinstance(message.get("chat"), dict) and chat is None:
        return []                                    # a button in a group chat
    customer = str(chat["id"]) if chat else str(user["id"])   # a private chat's id is the user's id
    data = query.get("data") if isinstance(query.get("data"), str) else None
    label = _button_label(message, data)
    payload: dict[str, Any] = {"callback_query_id": query.get("id"), "data": data, "label": label}
    if query.get("game_short_name"):
        payload["game_short_name"] = query["game_short_name"]
    message_id = message.get("message_id") if message else None
    if _is_int(message_id):
        payload["message_id"] = message_id
    payload["language_code"] = language_code(user)
    text = label or data or _string(query.get("game_short_name")) or "Pressed a button"
    return [InboundMessage(
        provider=PROVIDER, provider_id=str(update_id), channel=CHANNEL, identity_kind=IDENTITY_KIND,
        customer_address=customer, shop_address=_shop(message or {}, shop_address), reply_to=customer,
        text=text, profile_name=_name(user), kind="interactive", payload={k: v for k, v in payload.items() if v},
        reply_context=message_ref(customer, message_id) if _is_int(message_id) else None, raw=raw,
    )]


def _on_my_chat_member(update_id: int, change: dict[str, Any], raw: dict[str, Any], _shop_address: str
                       ) -> list[WebhookItem]:
    chat = _private_chat(change)
    if chat is None:
        return []
    new, old = (change[k].get("status") if isinstance(change.get(k), dict) else None
                for k in ("new_chat_member", "old_chat_member"))
    if new == "kicked":
        text, said = "The customer blocked the bot", timeline_event("bot_blocked")
    elif new == "member" and old == "kicked":
        text, said = "The customer unblocked the bot", timeline_event("bot_unblocked")
    else:
        text = f"The bot's status in the chat changed from {old or 'unknown'} to {new or 'unknown'}"
        said = timeline_event("bot_status_changed", to=_string(new), **{"from": _string(old)})
    return [_event(str(update_id), "unknown", chat, text, raw, said)]


def _unknown(update_id: int, field: str | None, value: Any, raw: dict[str, Any]) -> list[WebhookItem]:
    """Any other update: acknowledged, kept raw on the customer's timeline when it names one."""
    customer: str | None = None
    if isinstance(value, dict):
        if isinstance(value.get("chat"), dict) and _is_int(value["chat"].get("id")) \
                and _private_chat(value, required=False) is None:
            return []                                # about a group or channel
        for key in ("from", "user", "chat"):
            obj = value.get(key)
            if isinstance(obj, dict) and _is_int(obj.get("id")):
                customer = str(obj["id"])
                break
    what = f"a {field.replace('_', ' ')} update" if field else "an empty update"
    return [TimelineEvent(provider=PROVIDER, event_id=str(update_id), kind="unknown",
                          identity_kind=IDENTITY_KIND if customer else None, customer_address=customer,
                          text=f"Telegram sent {what} that the inbox does not handle", raw=raw,
                          event=timeline_event("unknown", channel=CHANNEL, name=field))]


_HANDLERS: dict[str, Callable[[int, dict[str, Any], dict[str, Any], str], list[WebhookItem]]] = {
    "message": _on_message,
    "business_message": _on_message,
    "edited_message": _on_edit,
    "edited_business_message": _on_edit,
    "deleted_business_messages": _on_deleted,
    "callback_query": _on_callback,
    "message_reaction": _on_reaction,
    "my_chat_member": _on_my_chat_member,
}


def webhook_answer(update: Any) -> dict[str, Any] | None:
    """The JSON body to answer the webhook with, or None for an empty 200.

    A button press must be answered (``answerCallbackQuery``) or the customer's app keeps a spinner on
    the button; Telegram lets a webhook answer carry one Bot API call in its body (``"method": ...``),
    which saves a request. Telegram does not report whether that call succeeded; it is cosmetic.
    """
    if isinstance(update, dict) and isinstance(update.get("callback_query"), dict):
        query_id = update["callback_query"].get("id")
        if isinstance(query_id, str) and query_id:
            return {"method": "answerCallbackQuery", "callback_query_id": query_id}
    return None


# ------------------------------------------------------------------------------- outbound

def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """``text`` in parts of at most ``limit`` UTF-16 code units (Telegram's measure), in order, cut at
    a paragraph, line or word break in the second half of a part when there is one. Whitespace at the
    cuts is dropped; blank parts are not returned."""
    parts: list[str] = []
    rest = text
    while _utf16_len(rest) > limit:
        units, cut = 0, 0
        for index, char in enumerate(rest):
            units += 2 if ord(char) > 0xFFFF else 1
            if units > limit:
                break
            cut = index + 1
        cut = max(cut, 1)
        window = rest[:cut]
        brk = cut if rest[cut].isspace() else -1      # the window ends exactly at a break
        if brk < 0:
            for separator in ("\n\n", "\n", " "):
                position = window.rfind(separator)
                if position >= cut // 2:
                    brk = position
                    break
        end = brk if brk > 0 else cut
        parts.append(rest[:end].rstrip())
        rest = rest[end:].lstrip() if brk > 0 else rest[end:]
    parts.append(rest)
    return [part for part in parts if part.strip()]


def _chat_id(to: str) -> int | str:
    return int(to) if _CHAT_ID_RE.fullmatch(to) else to


def _reply_message_id(reply_context: str | None, chat: str) -> int | None:
    """The message to quote: a bare message id, or ``"<chat>:<message_id>"`` from the same chat."""
    if not reply_context:
        return None
    ref = reply_context.strip()
    if ":" in ref:
        owner, _, ref = ref.rpartition(":")
        if owner != chat:
            return None
    return int(ref) if ref.isdigit() else None


def _is_photo(url: str) -> bool:
    return urllib.parse.urlsplit(url).path.lower().endswith(PHOTO_EXTENSIONS)


PHOTO_TYPES = frozenset(("image/jpeg", "image/png", "image/webp"))
# "sendDocument by URL will currently only work for GIF, PDF and ZIP files" (Bot API, Sending files): other
# documents are uploaded as multipart/form-data.
DOCUMENT_URL_TYPES = frozenset(("image/gif", "application/pdf", "application/zip"))


def _file_call(file: OutboundFile) -> tuple[str, str, str | OutboundFile]:
    """The Bot API method, its file field and what goes in it: the URL, or the file itself (multipart)."""
    kind = (file.content_type or "").lower()
    if not kind:
        return ("sendPhoto", "photo", file.url) if _is_photo(file.url) else ("sendDocument", "document", file.url)
    if kind in PHOTO_TYPES:
        return "sendPhoto", "photo", file.url
    if kind in DOCUMENT_URL_TYPES:
        return "sendDocument", "document", file.url
    return "sendDocument", "document", file


class TelegramSender:
    """The Bot API over plain HTTPS.

    One ``OutboundRequest`` may become several Telegram messages: text over 4096 characters is split
    into parts sent in order, and each media URL is its own message (the text rides as the first
    file's caption when it fits in 1024 characters, else it is sent first). The result names the
    *first* message sent (``"<chat_id>:<message_id>"``): the start of the reply, the one a quote of
    "the reply" most naturally means.

    ``base_url`` is ``https://api.telegram.org`` (``DEFAULT_BASE_URL``) or a local stand-in; a token
    that is not ``<bot id>:<secret>`` is refused at once, which also catches the two swapped.

    Once part of a reply is out, retrying the whole request would repeat it to the customer, so a
    later part that hits a rate limit is waited for here (up to ``max_inline_wait`` seconds, a few
    times); if it still fails the error is reported as not retryable, saying how much was sent.
    """

    def __init__(self, base_url: str, bot_token: str, *, timeout: float = 10.0, max_inline_wait: float = 5.0,
                 sleep: Callable[[float], None] = time.sleep,
                 read_file: Callable[[OutboundFile], bytes] | None = None) -> None:
        if not _TOKEN_RE.fullmatch(bot_token or ""):
            raise ValueError("not a Telegram bot token (expected <bot id>:<secret>)")
        self._token = bot_token
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._max_inline_wait = max_inline_wait
        self._sleep = sleep
        self._read_file = read_file       # the bytes of a document Telegram cannot fetch by URL

    def send(self, request: OutboundRequest) -> SendResult:
        calls = self._calls(request)
        first_id: int | None = None
        for index, (method, body) in enumerate(calls):
            try:
                message_id = self._call_with_wait(method, body, inline=first_id is not None)
            except ProviderError as exc:
                if first_id is None:
                    raise
                raise ProviderError(
                    f"Only {index} of {len(calls)} parts of the reply reached the customer; the rest failed: "
                    f"{exc.message}", code=exc.code, retryable=False, http_status=exc.http_status) from exc
            if first_id is None:
                first_id = message_id
        return SendResult(provider_id=message_ref(request.to, first_id), status="sent")

    def _calls(self, request: OutboundRequest) -> list[tuple[str, dict[str, Any]]]:
        text = (request.text or "").strip()
        files = request.outbound_files()
        if not text and not files:
            detail = "Telegram has no message templates" if request.template else "The message has no text and no media"
            raise ProviderError(detail, code="empty", retryable=False)
        base: dict[str, Any] = {"chat_id": _chat_id(request.to)}
        if request.sender.startswith(BUSINESS_PREFIX):
            base["business_connection_id"] = request.sender[len(BUSINESS_PREFIX):]
        calls: list[tuple[str, dict[str, Any]]] = []
        caption = text if text and files and _utf16_len(text) <= MAX_CAPTION else None
        if text and caption is None:
            calls.extend(("sendMessage", {**base, "text": part}) for part in split_text(text))
        for index, file in enumerate(files):
            method, field, value = _file_call(file)
            body = {**base, field: value}
            if index == 0 and caption:
                body["caption"] = caption
            calls.append((method, body))
        if request.choices and calls and calls[-1][0] == "sendMessage":       # an inline keyboard under the text
            buttons = [{"text": title, "callback_data": cid[:64]} for cid, title in request.choices]
            # up to three side by side (yes/no); more (a survey's five) one per row, so no title is cut on a phone
            rows = [buttons] if len(buttons) <= 3 else [[b] for b in buttons]
            calls[-1][1]["reply_markup"] = {"inline_keyboard": rows}
        reply_to = _reply_message_id(request.reply_context, request.to)
        if reply_to is not None:
            calls[0][1]["reply_parameters"] = {"message_id": reply_to, "allow_sending_without_reply": True}
        return calls

    def _call_with_wait(self, method: str, body: dict[str, Any], *, inline: bool) -> int:
        attempts = 3 if inline else 1
        for attempt in range(1, attempts + 1):
            try:
                result = _call(self._base_url, self._token, method, self._multipart(body), self._timeout)
            except ProviderError as exc:
                wait = exc.retry_after if exc.retry_after is not None else 1.0
                if attempt == attempts or not exc.retryable or wait > self._max_inline_wait:
                    raise
                self._sleep(wait)
                continue
            message_id = result.get("message_id") if isinstance(result, dict) else None
            if not _is_int(message_id):
                # Accepted: sending again could show the customer the message twice.
                raise ProviderError("Telegram accepted the message but returned no message id", code=None,
                                    retryable=False)
            return message_id
        raise AssertionError("unreachable")

    def _multipart(self, body: dict[str, Any]) -> dict[str, Any] | tuple[bytes, str]:
        """The body as JSON, or as a multipart form when it carries a file to upload (its other fields as
        form fields, objects as JSON strings, as the Bot API takes them)."""
        uploads = {k: v for k, v in body.items() if isinstance(v, OutboundFile)}
        if not uploads:
            return body
        if self._read_file is None:
            raise ProviderError("Telegram takes this file only as an upload, and the sender cannot read files",
                                code="not_configured", retryable=False)
        from urllib3.filepost import encode_multipart_formdata

        fields: dict[str, Any] = {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()
                                  if k not in uploads}
        for name, file in uploads.items():
            fields[name] = (file.filename or "file", self._read_file(file),
                            file.content_type or "application/octet-stream")
        data, content_type = encode_multipart_formdata(fields)
        return data, content_type


def _call(base_url: str, token: str, method: str, body: Mapping[str, Any] | tuple[bytes, str],
          timeout: float) -> Any:
    """One Bot API call (a JSON body, or a multipart form as (bytes, content type)): its ``result``, or a
    ProviderError with a human reason."""
    raw = body if isinstance(body, tuple) else None
    status, answer, headers = http_json(f"{base_url}/bot{token}/{method}", method="POST",
                                        body=None if raw else body, raw=raw, timeout=timeout, provider="Telegram")
    if 200 <= status < 300 and answer.get("ok") is True:
        return answer.get("result")
    raise _provider_error(status, answer, headers)


def _provider_error(status: int, answer: Mapping[str, Any], headers: Mapping[str, str] | None) -> ProviderError:
    code = answer.get("error_code") if _is_int(answer.get("error_code")) else status
    description = answer.get("description") if isinstance(answer.get("description"), str) else None
    parameters = answer.get("parameters") if isinstance(answer.get("parameters"), dict) else {}
    retry_after: float | None = None
    if isinstance(parameters.get("retry_after"), int | float) and not isinstance(parameters["retry_after"], bool):
        retry_after = float(parameters["retry_after"])
    elif headers is not None and str(headers.get("Retry-After") or "").isdigit():
        retry_after = float(headers["Retry-After"])
    retryable = code == 429 or code >= 500
    if "file is too big" in (description or "").lower():
        return ProviderError(reason(code, description), code="too_large", retryable=False, http_status=status)
    return ProviderError(reason(code, description), code=str(code), retryable=retryable, http_status=status,
                         retry_after=retry_after)


# ------------------------------------------------------------------------------- files

def fetch_media(base_url: str, bot_token: str, file_id: str, max_bytes: int, *, timeout: float = 20.0) -> Media:
    """A file the customer sent, by its ``file_id``: ``getFile`` for the path, then the download.
    Over ``max_bytes`` or Telegram's 20 MB bot limit: ProviderError ``too_large``, not retryable."""
    if not _TOKEN_RE.fullmatch(bot_token or ""):
        raise ValueError("not a Telegram bot token (expected <bot id>:<secret>)")
    base = base_url.rstrip("/")
    limit = min(max_bytes, MAX_BOT_DOWNLOAD)
    too_large = ProviderError(f"The file is larger than {limit // (1024 * 1024)} MB and was not downloaded",
                              code="too_large", retryable=False)
    try:
        result = _call(base, bot_token, "getFile", {"file_id": file_id}, timeout)
    except ProviderError as exc:
        if exc.code == "too_large":         # getFile: "Bad Request: file is too big"
            raise too_large from exc
        raise
    if not isinstance(result, dict):
        raise ProviderError("Telegram returned no file for this file_id", code=None, retryable=False)
    size = result.get("file_size")
    if _is_int(size) and size > limit:
        raise too_large
    file_path = result.get("file_path")
    if not isinstance(file_path, str) or not file_path or ".." in file_path.split("/"):
        raise ProviderError("Telegram returned no downloadable path for this file", code=None, retryable=False)
    url = f"{base}/file/bot{bot_token}/{urllib.parse.quote(file_path, safe='/')}"
    media = http_bytes(url, timeout=timeout, max_bytes=limit, provider="Telegram")
    filename = posixpath.basename(file_path) or None
    guessed = mimetypes.guess_type(filename or "")[0]
    content_type = media.content_type
    if not content_type or content_type == "application/octet-stream":
        content_type = guessed or content_type
    return Media(media.content, content_type, filename)
