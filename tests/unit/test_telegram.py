"""Telegram: webhook secret, updates into provider-neutral items, the Bot API sender, file downloads."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from shopdesk.channels import telegram
from shopdesk.channels.base import OutboundRequest
from shopdesk.channels.telegram import TelegramSender, fetch_media, parse, parse_body, split_text, verify_secret
from shopdesk.errors import BadRequest, ProviderError
from shopdesk.models import InboundMessage, SystemEvent, TimelineEvent, UnsupportedItem
from tests.support import LoopbackServer, sample

SECRET = "test_secret_token-1"
TOKEN = "123456789:AAH-test_token"
CHAT = 3527065
USER = {"id": CHAT, "is_bot": False, "first_name": "Nic", "last_name": "Pottier", "username": "nicpottier",
        "language_code": "en"}
PRIVATE = {"id": CHAT, "first_name": "Nic", "last_name": "Pottier", "username": "nicpottier", "type": "private"}
GROUP = {"id": -1001234567890, "title": "Shop fans", "type": "supergroup"}


def _message(**content: Any) -> dict[str, Any]:
    base = {"message_id": 41, "from": USER, "chat": PRIVATE, "date": 1_700_000_000}
    return {**base, **content}


def _update(update_id: int = 500, **fields: Any) -> dict[str, Any]:
    return {"update_id": update_id, **fields}


def _one(update: dict[str, Any]) -> Any:
    items = parse(update)
    assert len(items) == 1
    return items[0]


# ------------------------------------------------------------------------------ samples

def test_text_sample_produces_its_expected_values():
    # Given the captured text update and its sidecar
    body, meta = sample("telegram", "text_captured")
    expect = meta["expect"]
    # When it is parsed
    (message,) = parse_body(body)
    # Then it is one customer message keyed by update_id, from the private chat
    assert isinstance(message, InboundMessage)
    assert message.provider_id == str(expect["update_id"])
    assert message.customer_address == str(expect["chat_id"]) == message.reply_to
    assert message.text == expect["text"]
    assert (message.provider, message.channel, message.identity_kind) == ("telegram", "telegram", "telegram")
    assert message.shop_address == "bot"
    assert message.kind == "text"
    assert message.profile_name == "Nic Pottier"
    assert message.payload == {"message_id": 41, "chat_id": expect["chat_id"]}
    assert message.sent_at is not None and message.sent_at.timestamp() == 1454119029
    assert message.raw == json.loads(body)


def test_photo_sample_produces_its_caption_and_the_largest_size():
    body, meta = sample("telegram", "photo_with_caption")
    (message,) = parse_body(body)
    assert message.text == meta["expect"]["caption"]
    assert message.kind == "media"
    (attachment,) = message.attachments
    assert attachment.media_id == "AgADAQADtKcxG4LRUUQSQVUjfJIiiF8G6C8ABA9NJzFdXskaincBAAEC"   # 720x1280, the last
    assert attachment.content_type == "image/jpeg"
    assert attachment.size == 104737
    assert message.provider_id == "900946525"
    assert message.payload["message_id"] == 85


# ------------------------------------------------------------------------------ secret token

def test_secret_header_must_match_the_configured_secret_exactly():
    assert verify_secret("test_secret_token-1", SECRET)
    assert not verify_secret("test_secret_token-2", SECRET)
    assert not verify_secret("test_secret_token-1 ", SECRET)
    assert not verify_secret("TEST_SECRET_TOKEN-1", SECRET)


@pytest.mark.parametrize("header", [None, ""])
def test_a_missing_secret_header_is_rejected(header):
    assert not verify_secret(header, SECRET)


@pytest.mark.parametrize("configured", ["", "has space", "x" * 257, "ünïcode", "semi;colon"])
def test_an_empty_or_invalid_configured_secret_rejects_everything(configured):
    assert not verify_secret(configured, configured)


def test_a_non_ascii_header_is_rejected_without_raising():
    assert not verify_secret("tëst_secret_token-1", SECRET)
    assert not verify_secret("\udcff", SECRET)


def test_bot_id_is_the_token_prefix():
    assert telegram.bot_id(TOKEN) == "123456789"


# ------------------------------------------------------------------------------ messages

def test_the_same_update_twice_parses_to_the_same_dedupe_key():
    update = _update(777, message=_message(text="hi"))
    first, second = _one(update), _one(json.loads(json.dumps(update)))
    assert first.provider_id == second.provider_id == "777"
    assert _one(_update(778, message=_message(text="hi"))).provider_id == "778"


def test_non_ascii_text_and_names_come_through_unchanged():
    text = "Привет! Где мой заказ? 📦 مرحبا 你好"
    user = {**USER, "first_name": "Zoë", "last_name": "Ñúñez"}
    message = _one(_update(message=_message(text=text, **{"from": user})))
    assert message.text == text
    assert message.profile_name == "Zoë Ñúñez"


def test_parse_body_accepts_utf8_bytes():
    body = json.dumps(_update(message=_message(text="Grüße")), ensure_ascii=False).encode()
    assert parse_body(body)[0].text == "Grüße"


def test_profile_name_falls_back_to_the_username():
    user = {"id": CHAT, "is_bot": False, "username": "shopper"}
    message = _one(_update(message=_message(text="x", **{"from": user}, chat={"id": CHAT, "type": "private"})))
    assert message.profile_name == "shopper"


def test_a_reply_names_the_quoted_message():
    quoted = {"message_id": 40, "from": {"id": 1, "is_bot": True, "first_name": "Shop"}, "chat": PRIVATE,
              "date": 1_699_999_000, "text": "Your order shipped"}
    message = _one(_update(message=_message(text="thanks!", reply_to_message=quoted)))
    assert message.reply_context == f"{CHAT}:40"


def test_a_document_keeps_file_id_name_type_and_size():
    document = {"file_name": "invoice 42.pdf", "mime_type": "application/pdf", "file_id": "BQACAgQAAxkBAAIB",
                "file_unique_id": "AgADeQ", "file_size": 48213}
    message = _one(_update(message=_message(document=document, caption="my invoice")))
    assert message.kind == "media"
    assert message.text == "my invoice"
    (attachment,) = message.attachments
    assert (attachment.media_id, attachment.filename, attachment.content_type, attachment.size) == \
        ("BQACAgQAAxkBAAIB", "invoice 42.pdf", "application/pdf", 48213)


@pytest.mark.parametrize(("field", "obj", "content_type"), [
    ("voice", {"file_id": "AwACAgQ", "file_unique_id": "u1", "duration": 3, "mime_type": "audio/ogg",
               "file_size": 9000}, "audio/ogg"),
    ("voice", {"file_id": "AwACAgQ", "file_unique_id": "u1", "duration": 3}, "audio/ogg"),
    ("audio", {"file_id": "CQACAgQ", "file_unique_id": "u2", "duration": 200, "performer": "Band", "title": "Song",
               "file_name": "song.mp3", "mime_type": "audio/mpeg", "file_size": 3_000_000}, "audio/mpeg"),
    ("video", {"file_id": "BAACAgQ", "file_unique_id": "u3", "width": 640, "height": 360, "duration": 10,
               "mime_type": "video/quicktime", "file_size": 1_000_000}, "video/quicktime"),
    ("video_note", {"file_id": "DQACAgQ", "file_unique_id": "u4", "length": 240, "duration": 5,
                    "file_size": 300_000}, "video/mp4"),
])
def test_voice_audio_video_and_video_notes_become_attachments(field, obj, content_type):
    message = _one(_update(message=_message(**{field: obj})))
    assert message.kind == "media"
    assert message.text is None
    (attachment,) = message.attachments
    assert attachment.media_id == obj["file_id"]
    assert attachment.content_type == content_type
    assert attachment.size == obj.get("file_size")


def test_an_animation_is_one_attachment_not_also_its_compatibility_document():
    animation = {"file_id": "CgACAgQ-anim", "file_unique_id": "u5", "width": 320, "height": 240, "duration": 2,
                 "file_name": "funny.mp4", "mime_type": "video/mp4", "file_size": 50_000}
    document = {"file_id": "CgACAgQ-anim", "file_unique_id": "u5", "file_name": "funny.mp4",
                "mime_type": "video/mp4", "file_size": 50_000}
    message = _one(_update(message=_message(animation=animation, document=document)))
    assert len(message.attachments) == 1
    assert message.attachments[0].media_id == "CgACAgQ-anim"


def test_a_static_sticker_is_its_emoji_with_the_image():
    sticker = {"file_id": "CAACAgIAAxkB", "file_unique_id": "u6", "type": "regular", "width": 512, "height": 512,
               "is_animated": False, "is_video": False, "emoji": "😂", "set_name": "Funny", "file_size": 20_000}
    message = _one(_update(message=_message(sticker=sticker)))
    assert message.text == "😂"
    assert message.attachments[0].content_type == "image/webp"
    assert message.payload["sticker"]["set_name"] == "Funny"


def test_an_animated_sticker_is_only_its_emoji():
    sticker = {"file_id": "CAACAgIAAxkC", "file_unique_id": "u7", "type": "regular", "width": 512, "height": 512,
               "is_animated": True, "is_video": False, "emoji": "👍"}
    message = _one(_update(message=_message(sticker=sticker)))
    assert (message.kind, message.text, message.attachments) == ("text", "👍", [])


def test_a_location_is_readable_and_structured():
    message = _one(_update(message=_message(location={"latitude": 52.370216, "longitude": 4.895168})))
    assert message.kind == "location"
    assert message.text == "📍 Location: 52.370216, 4.895168"
    assert message.payload["location"] == {"latitude": 52.370216, "longitude": 4.895168}


def test_a_live_location_says_so():
    location = {"latitude": 1.5, "longitude": 2.5, "live_period": 900, "horizontal_accuracy": 20}
    message = _one(_update(message=_message(location=location)))
    assert message.text.startswith("📍 Live location")
    assert message.payload["location"]["live_period"] == 900


def test_a_venue_names_the_place():
    location = {"latitude": 48.8584, "longitude": 2.2945}
    venue = {"location": location, "title": "Eiffel Tower", "address": "Champ de Mars, Paris"}
    message = _one(_update(message=_message(venue=venue, location=location)))
    assert message.kind == "location"
    assert message.text == "📍 Eiffel Tower, Champ de Mars, Paris (48.8584, 2.2945)"
    assert message.payload["location"]["name"] == "Eiffel Tower"


def test_a_contact_is_readable_and_structured():
    contact = {"phone_number": "+31612345678", "first_name": "Anna", "last_name": "de Vries", "user_id": 99}
    message = _one(_update(message=_message(contact=contact)))
    assert message.kind == "contacts"
    assert message.text == "👤 Contact: Anna de Vries, +31612345678"
    assert message.payload["contacts"] == [{"name": "Anna de Vries", "phone_number": "+31612345678", "user_id": 99}]


def test_known_content_without_support_becomes_a_placeholder_with_the_raw_update():
    update = _update(message=_message(dice={"emoji": "🎲", "value": 4}))
    message = _one(update)
    assert message.kind == "unsupported"
    assert "dice" in message.text
    assert message.raw == update


def test_unknown_content_becomes_a_generic_placeholder():
    message = _one(_update(message=_message(hologram={"id": 1}, some_future_flag=True)))
    assert message.kind == "unsupported"
    assert message.text == "[The customer sent a Telegram message that cannot be shown here]"


def test_an_absurd_date_is_dropped_not_fatal():
    assert _one(_update(message=_message(text="x", date=10**20))).sent_at is None


def test_unknown_fields_around_a_known_message_do_not_break_parsing():
    update = _update(message=_message(text="hi", has_sparkles=True, link_preview_options={"is_disabled": True},
                                      entities=[{"type": "bold", "offset": 0, "length": 2}]),
                     future_top_level_field=None)
    assert _one(update).text == "hi"


# ------------------------------------------------------------------------------ other updates

def test_an_edit_is_a_timeline_event_about_the_original_message():
    edited = _message(text="Where is order #1043?", edit_date=1_700_000_100)
    event = _one(_update(901, edited_message=edited))
    assert isinstance(event, TimelineEvent)
    assert (event.kind, event.event_id, event.target_provider_id) == ("edit", "901", f"{CHAT}:41")
    assert event.text == 'Edited: "Where is order #1043?"'
    assert event.customer_address == str(CHAT)
    assert event.event == SystemEvent(kind="edit", params={"text": "Where is order #1043?"})


def test_an_edited_file_without_a_caption_has_no_text_in_its_event():
    edited = _message(photo=[{"file_id": "p1", "file_unique_id": "u1", "width": 1, "height": 1}], edit_date=1)
    event = _one(_update(edited_message=edited))
    assert event.text == 'Edited: "[media without caption]"'
    assert event.event == SystemEvent(kind="edit")


def test_a_button_press_is_the_customer_answering_with_the_label_they_tapped():
    keyboard = {"inline_keyboard": [[{"text": "✅ Yes, cancel it", "callback_data": "cancel:1043"},
                                     {"text": "No", "callback_data": "keep:1043"}]]}
    bot_message = {"message_id": 60, "from": {"id": 123456789, "is_bot": True, "first_name": "Shop"},
                   "chat": PRIVATE, "date": 1_700_000_000, "text": "Cancel order 1043?", "reply_markup": keyboard}
    query = {"id": "4382bfdwdsb323b2d9", "from": USER, "message": bot_message, "chat_instance": "-12345",
             "data": "cancel:1043"}
    update = _update(902, callback_query=query)
    message = _one(update)
    assert isinstance(message, InboundMessage)
    assert (message.kind, message.text, message.provider_id) == ("interactive", "✅ Yes, cancel it", "902")
    assert message.customer_address == message.reply_to == str(CHAT)
    assert message.reply_context == f"{CHAT}:60"
    assert message.payload == {"callback_query_id": "4382bfdwdsb323b2d9", "data": "cancel:1043",
                               "label": "✅ Yes, cancel it", "message_id": 60,
                               "language_code": "en"}              # their app's language: a hint of theirs
    assert telegram.webhook_answer(update) == {"method": "answerCallbackQuery",
                                               "callback_query_id": "4382bfdwdsb323b2d9"}


def test_a_button_press_without_a_findable_label_uses_the_data():
    query = {"id": "q2", "from": USER, "chat_instance": "-1", "data": "size:M",
             "message": {"message_id": 61, "chat": PRIVATE, "date": 0}}     # an inaccessible message
    message = _one(_update(callback_query=query))
    assert message.text == "size:M"


def test_a_button_press_from_an_inline_message_uses_the_user():
    query = {"id": "q3", "from": USER, "inline_message_id": "AAAA", "chat_instance": "-1", "data": "x"}
    message = _one(_update(callback_query=query))
    assert message.customer_address == str(CHAT)
    assert message.reply_context is None


def test_no_webhook_answer_for_ordinary_updates():
    assert telegram.webhook_answer(_update(message=_message(text="hi"))) is None
    assert telegram.webhook_answer("nonsense") is None


def test_a_reaction_is_a_timeline_event():
    reaction = {"chat": PRIVATE, "message_id": 60, "user": USER, "date": 1_700_000_200,
                "old_reaction": [], "new_reaction": [{"type": "emoji", "emoji": "👍"}]}
    event = _one(_update(903, message_reaction=reaction))
    assert (event.kind, event.target_provider_id, event.text) == ("reaction", f"{CHAT}:60", "Reacted 👍")
    assert event.event_id == "903"
    assert event.event == SystemEvent(kind="reaction", params={"action": "added", "emoji": "👍"})


def test_custom_emoji_are_counted_beside_the_emoji_they_have_none_of():
    reaction = {"chat": PRIVATE, "message_id": 60, "user": USER, "date": 1, "old_reaction": [],
                "new_reaction": [{"type": "emoji", "emoji": "🔥"}, {"type": "custom_emoji", "custom_emoji_id": "5"},
                                 {"type": "paid"}]}
    event = _one(_update(message_reaction=reaction))
    assert event.text == "Reacted 🔥 a custom emoji ⭐"
    assert event.event == SystemEvent(kind="reaction", params={"action": "added", "emoji": "🔥 ⭐", "custom_emoji": 1})


def test_a_reaction_to_our_reply_names_it_exactly_as_the_send_result_did(api):
    sent = TelegramSender(api.url, TOKEN).send(_request())
    reaction = {"chat": PRIVATE, "message_id": int(sent.provider_id.split(":")[1]), "user": USER, "date": 1,
                "old_reaction": [], "new_reaction": [{"type": "emoji", "emoji": "❤"}]}
    assert _one(_update(message_reaction=reaction)).target_provider_id == sent.provider_id


def test_removing_a_reaction_says_which():
    reaction = {"chat": PRIVATE, "message_id": 60, "user": USER, "date": 1_700_000_300,
                "old_reaction": [{"type": "emoji", "emoji": "👍"}], "new_reaction": []}
    event = _one(_update(message_reaction=reaction))
    assert event.text == "Removed the reaction 👍"
    assert event.event == SystemEvent(kind="reaction", params={"action": "removed", "emoji": "👍"})


def _member_update(old: str, new: str, chat: dict[str, Any] = PRIVATE) -> dict[str, Any]:
    bot = {"id": 123456789, "is_bot": True, "first_name": "Shop", "username": "shop_bot"}
    return {"chat": chat, "from": USER, "date": 1_700_000_400, "old_chat_member": {"user": bot, "status": old},
            "new_chat_member": {"user": bot, "status": new, "until_date": 0}}


def test_a_member_update_with_odd_statuses_is_still_readable():
    update = _update(my_chat_member={"chat": PRIVATE, "from": USER, "date": 1, "old_chat_member": "weird",
                                     "new_chat_member": {"status": "restricted"}})
    event = _one(update)
    assert event.text == "The bot's status in the chat changed from unknown to restricted"
    assert event.event == SystemEvent(kind="bot_status_changed", params={"to": "restricted"})


def test_blocking_the_bot_is_shown_on_the_timeline():
    event = _one(_update(904, my_chat_member=_member_update("member", "kicked")))
    assert (event.kind, event.text) == ("unknown", "The customer blocked the bot")
    assert event.customer_address == str(CHAT)
    assert event.event == SystemEvent(kind="bot_blocked")


def test_unblocking_the_bot_is_shown_on_the_timeline():
    event = _one(_update(my_chat_member=_member_update("kicked", "member")))
    assert event.text == "The customer unblocked the bot" and event.event == SystemEvent(kind="bot_unblocked")


def test_an_unhandled_update_type_is_kept_raw_for_its_customer():
    update = _update(905, poll_answer={"poll_id": "p1", "user": USER, "option_ids": [1]})
    event = _one(update)
    assert (event.kind, event.customer_address, event.event_id) == ("unknown", str(CHAT), "905")
    assert "poll answer" in event.text
    assert event.raw == update
    assert event.event == SystemEvent(kind="unknown", params={"channel": "telegram", "name": "poll_answer"})


def test_a_future_update_type_is_kept_raw():
    event = _one(_update(906, brand_new_thing={"from": USER, "stuff": [1, 2]}))
    assert event.kind == "unknown" and event.customer_address == str(CHAT)


def test_an_update_with_nothing_but_its_id_is_acknowledged():
    event = _one(_update(907))
    assert event.kind == "unknown" and event.customer_address is None
    assert event.event == SystemEvent(kind="unknown", params={"channel": "telegram"})


@pytest.mark.parametrize("update", [
    _update(message=_message(text="hello group", chat=GROUP)),
    _update(edited_message=_message(text="edit in group", chat=GROUP)),
    _update(channel_post={"message_id": 1, "chat": {"id": -100999, "title": "News", "type": "channel"},
                          "date": 1_700_000_000, "text": "post"}),
    _update(my_chat_member=_member_update("left", "member", GROUP)),
    _update(message_reaction_count={"chat": GROUP, "message_id": 5, "date": 1, "reactions": []}),
    _update(chat_join_request={"chat": GROUP, "from": USER, "user_chat_id": CHAT, "date": 1}),
    _update(callback_query={"id": "q", "from": USER, "chat_instance": "-1", "data": "x",
                            "message": {"message_id": 5, "chat": GROUP, "date": 1}}),
])
def test_group_and_channel_updates_are_acknowledged_and_ignored(update):
    assert parse(update) == []


def test_a_business_message_is_answered_through_its_business_connection():
    message = _one(_update(business_message=_message(text="Do you ship to Belgium?",
                                                      business_connection_id="bc-7f3a")))
    assert message.shop_address == "business:bc-7f3a"
    assert message.payload["business_connection_id"] == "bc-7f3a"
    assert message.text == "Do you ship to Belgium?"


def test_a_business_message_written_by_the_shop_is_an_echo():
    owner = {"id": 555, "is_bot": False, "first_name": "Shop owner"}
    event = _one(_update(business_message=_message(text="Yes we do", business_connection_id="bc-7f3a",
                                                    **{"from": owner})))
    assert isinstance(event, TimelineEvent)
    assert event.kind == "echo" and "Yes we do" in event.text
    assert event.event == SystemEvent(kind="echo", params={"channel": "telegram", "text": "Yes we do"})


def test_deleted_business_messages_are_one_event_each():
    deleted = {"business_connection_id": "bc-7f3a", "chat": PRIVATE, "message_ids": [10, 11]}
    events = parse(_update(908, deleted_business_messages=deleted))
    assert [(e.kind, e.event_id, e.target_provider_id) for e in events] == \
        [("unsend", "908:10", f"{CHAT}:10"), ("unsend", "908:11", f"{CHAT}:11")]
    assert [e.event for e in events] == [SystemEvent(kind="unsend", params={"channel": "telegram"})] * 2


@pytest.mark.parametrize("update", [
    [1, 2], "update", None, {}, {"message": _message(text="x")}, {"update_id": "12"}, {"update_id": True},
])
def test_bodies_that_are_not_updates_are_bad_requests(update):
    with pytest.raises(BadRequest):
        parse(update)


@pytest.mark.parametrize("update", [
    _update(message="hello"), _update(message={"message_id": 1, "date": 1, "text": "no chat"}),
    _update(message={"chat": PRIVATE, "date": 1, "text": "no id"}),
    _update(callback_query={"id": "q", "data": "x"}),
    _update(message=_message(photo=[{"file_id": "f1", "mime_type": {"odd": 1}, "file_name": 7, "width": 1}])),
])
def test_an_update_whose_parts_are_not_what_telegram_documents_is_kept_as_unsupported(update):
    [item] = parse(update)
    if isinstance(item, UnsupportedItem):
        assert item.item_id == str(update["update_id"]) and item.raw == update and item.reason
    else:       # media fields of the wrong type are read as absent: the photo still arrives
        assert isinstance(item, InboundMessage) and item.attachments[0].content_type == "image/jpeg"
        assert item.attachments[0].filename is None


def test_a_body_that_is_not_json_is_a_bad_request():
    with pytest.raises(BadRequest):
        parse_body(b"{not json")


# ------------------------------------------------------------------------------ fake Bot API

class FakeBotApi(LoopbackServer):
    """The Bot API on loopback: scripted answers per method, recorded requests, files to download."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.script: dict[str, list[tuple[int, Any]]] = {}
        self.files: dict[str, bytes] = {}
        self.next_message_id = 100
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                method = self.path.rsplit("/", 1)[-1]
                fake.requests.append({"path": self.path, "method": method, "json": json.loads(raw or b"{}"),
                                      "content_type": self.headers.get("Content-Type")})
                queue = fake.script.get(method)
                if queue:
                    status, answer = queue.pop(0)
                else:
                    fake.next_message_id += 1
                    status, answer = 200, {"ok": True, "result": {"message_id": fake.next_message_id,
                                                                   "date": 1_700_000_000, "chat": PRIVATE}}
                data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                self._answer(status, data, "application/json")

            def do_GET(self) -> None:
                fake.requests.append({"path": self.path, "method": "GET"})
                content = fake.files.get(self.path)
                if content is None:
                    self._answer(404, b'{"ok":false,"error_code":404,"description":"Not Found"}', "application/json")
                else:
                    self._answer(200, content, "application/octet-stream")

            def _answer(self, status: int, data: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.serve(Handler, poll_interval=0.01)

    def calls(self) -> list[tuple[str, dict[str, Any]]]:
        return [(r["method"], r["json"]) for r in self.requests if r["method"] != "GET"]


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    fake = FakeBotApi()
    yield fake
    fake.close()


def _error(code: int, description: str, **parameters: Any) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return code, body


def _request(text: str | None = "Your order shipped today.", **fields: Any) -> OutboundRequest:
    return OutboundRequest(**{"channel": "telegram", "to": str(CHAT), "sender": "bot", "text": text, **fields})


class _Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


# ------------------------------------------------------------------------------ sending

def test_text_goes_to_send_message_under_the_bot_token(api):
    result = TelegramSender(api.url, TOKEN).send(_request())
    (request,) = api.requests
    assert request["path"] == f"/bot{TOKEN}/sendMessage"
    assert request["content_type"] == "application/json"
    assert request["json"] == {"chat_id": CHAT, "text": "Your order shipped today."}
    assert result.provider_id == f"{CHAT}:101"
    assert result.status == "sent"


def test_a_reply_quotes_the_customer_message_without_failing_if_it_is_gone(api):
    TelegramSender(api.url, TOKEN).send(_request(reply_context="41"))
    assert api.calls()[0][1]["reply_parameters"] == {"message_id": 41, "allow_sending_without_reply": True}


def test_a_reply_context_in_our_own_chat_and_id_form_is_understood(api):
    TelegramSender(api.url, TOKEN).send(_request(reply_context=f"{CHAT}:41"))
    assert api.calls()[0][1]["reply_parameters"]["message_id"] == 41


@pytest.mark.parametrize("context", ["SM123", "", "999:41", "4x"])
def test_a_reply_context_that_is_not_a_message_of_this_chat_is_ignored(api, context):
    TelegramSender(api.url, TOKEN).send(_request(reply_context=context))
    assert "reply_parameters" not in api.calls()[0][1]


def test_a_username_chat_id_is_sent_as_a_string(api):
    TelegramSender(api.url, TOKEN).send(_request(to="@shop_news"))
    assert api.calls()[0][1]["chat_id"] == "@shop_news"


def test_a_business_reply_goes_out_through_the_business_connection(api):
    TelegramSender(api.url, TOKEN).send(_request(sender="business:bc-7f3a"))
    assert api.calls()[0][1]["business_connection_id"] == "bc-7f3a"


def test_long_text_is_split_into_ordered_parts_and_the_first_is_returned(api):
    paragraphs = [f"Paragraph {i}: " + "lorem ipsum dolor sit amet " * 40 for i in range(1, 10)]
    text = "\n\n".join(paragraphs)
    assert len(text) > 2 * 4096
    result = TelegramSender(api.url, TOKEN).send(_request(text, reply_context="41"))
    calls = api.calls()
    assert len(calls) == 3
    assert all(method == "sendMessage" and len(body["text"]) <= 4096 for method, body in calls)
    assert " ".join(" ".join(body["text"].split()) for _, body in calls) == " ".join(text.split())
    assert calls[0][1]["text"].startswith("Paragraph 1:")
    assert "reply_parameters" in calls[0][1]
    assert all("reply_parameters" not in body for _, body in calls[1:])
    assert result.provider_id == f"{CHAT}:101"


def test_split_counts_utf16_units_like_telegram():
    text = "😀" * 3000          # 6000 UTF-16 code units
    parts = split_text(text)
    assert [len(p) for p in parts] == [2048, 952]
    assert "".join(parts) == text


def test_split_prefers_word_breaks_and_keeps_short_text_whole():
    assert split_text("short") == ["short"]
    assert split_text("ab cd ef gh", 5) == ["ab cd", "ef gh"]
    assert split_text("abcdefghij", 4) == ["abcd", "efgh", "ij"]


def test_a_photo_url_goes_to_send_photo_with_the_text_as_caption(api):
    TelegramSender(api.url, TOKEN).send(_request("Here is your receipt", media_urls=("https://cdn.example.com/r.JPG",),
                                                 reply_context="41"))
    ((method, body),) = api.calls()
    assert method == "sendPhoto"
    assert body["photo"] == "https://cdn.example.com/r.JPG"
    assert body["caption"] == "Here is your receipt"
    assert body["reply_parameters"]["message_id"] == 41


def test_other_files_go_to_send_document_and_only_the_first_carries_the_caption(api):
    media = ("https://cdn.example.com/invoice.pdf?sig=abc", "https://cdn.example.com/photo.png")
    TelegramSender(api.url, TOKEN).send(_request("Invoice and photo", media_urls=media))
    assert [(m, b.get("document") or b.get("photo"), b.get("caption")) for m, b in api.calls()] == [
        ("sendDocument", media[0], "Invoice and photo"), ("sendPhoto", media[1], None)]


def test_text_too_long_for_a_caption_is_sent_before_the_media(api):
    TelegramSender(api.url, TOKEN).send(_request("x" * 1500, media_urls=("https://cdn.example.com/a.png",)))
    assert [(m, "caption" in b) for m, b in api.calls()] == [("sendMessage", False), ("sendPhoto", False)]


def test_media_without_text_is_sent_alone(api):
    TelegramSender(api.url, TOKEN).send(_request(None, media_urls=("https://cdn.example.com/a.png",)))
    ((method, body),) = api.calls()
    assert method == "sendPhoto" and "caption" not in body


def test_an_empty_reply_is_refused_before_any_request(api):
    with pytest.raises(ProviderError) as caught:
        TelegramSender(api.url, TOKEN).send(_request("   "))
    assert caught.value.code == "empty" and not caught.value.retryable
    assert api.requests == []


def test_a_malformed_bot_token_is_refused():
    with pytest.raises(ValueError, match="bot token"):
        TelegramSender(telegram.DEFAULT_BASE_URL, "not-a-token/../x")
    with pytest.raises(ValueError, match="bot token"):           # arguments swapped
        TelegramSender(TOKEN, telegram.DEFAULT_BASE_URL)


def test_a_rate_limit_is_retryable_after_the_seconds_telegram_asks_for(api):
    api.script["sendMessage"] = [_error(429, "Too Many Requests: retry after 7", retry_after=7)]
    with pytest.raises(ProviderError) as caught:
        TelegramSender(api.url, TOKEN).send(_request())
    error = caught.value
    assert error.retryable and error.retry_after == 7.0
    assert error.code == "429" and error.http_status == 429
    assert error.message == "Telegram rate limit reached"


@pytest.mark.parametrize("answer", [_error(500, "Internal Server Error"), (502, b"<html>Bad Gateway</html>")])
def test_server_errors_are_retryable(api, answer):
    api.script["sendMessage"] = [answer]
    with pytest.raises(ProviderError) as caught:
        TelegramSender(api.url, TOKEN).send(_request())
    assert caught.value.retryable


def test_a_blocked_bot_is_final_with_a_reason_an_agent_understands(api):
    api.script["sendMessage"] = [_error(403, "Forbidden: bot was blocked by the user")]
    with pytest.raises(ProviderError) as caught:
        TelegramSender(api.url, TOKEN).send(_request())
    assert not caught.value.retryable
    assert caught.value.code == "403"
    assert caught.value.message == "The customer blocked the bot; they must write to it again"


@pytest.mark.parametrize(("answer", "expected"), [
    (_error(400, "Bad Request: chat not found"), "Telegram does not know this chat"),
    (_error(403, "Forbidden: user is deactivated"), "account was deleted"),
    (_error(403, "Forbidden: bot can't initiate conversation with a user"), "never started the bot"),
    (_error(400, "Bad Request: wrong type of the web page content"), "attachment's type"),
    (_error(401, "Unauthorized"), "refused the bot token"),
    (_error(400, "Bad Request: something new"), "Telegram refused the message: Bad Request: something new"),
])
def test_other_refusals_are_final_with_a_human_reason(api, answer, expected):
    api.script["sendMessage"] = [answer]
    with pytest.raises(ProviderError) as caught:
        TelegramSender(api.url, TOKEN).send(_request())
    assert not caught.value.retryable
    assert expected in caught.value.message


def test_an_unreachable_api_is_retryable():
    with socket.socket() as probe:            # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ProviderError) as caught:
        TelegramSender(f"http://127.0.0.1:{port}", TOKEN, timeout=2).send(_request())
    assert caught.value.retryable


def test_a_rate_limit_on_a_later_part_is_waited_out_instead_of_repeating_the_first(api):
    api.script["sendMessage"] = [(200, {"ok": True, "result": {"message_id": 7}}),
                                 _error(429, "Too Many Requests: retry after 1", retry_after=1)]
    sleeps = _Sleeps()
    result = TelegramSender(api.url, TOKEN, sleep=sleeps).send(_request("a" * 5000))
    assert sleeps == [1.0]
    assert [m for m, _ in api.calls()] == ["sendMessage"] * 3
    assert result.provider_id == f"{CHAT}:7"


def test_a_later_part_that_fails_for_good_is_reported_without_a_retry(api):
    api.script["sendMessage"] = [(200, {"ok": True, "result": {"message_id": 7}}),
                                 _error(403, "Forbidden: bot was blocked by the user")]
    with pytest.raises(ProviderError) as caught:
        TelegramSender(api.url, TOKEN, sleep=_Sleeps()).send(_request("a" * 5000))
    assert not caught.value.retryable
    assert caught.value.message.startswith("Only 1 of 2 parts of the reply reached the customer")


def test_a_long_rate_limit_on_a_later_part_is_not_slept_through(api):
    api.script["sendMessage"] = [(200, {"ok": True, "result": {"message_id": 7}}),
                                 _error(429, "Too Many Requests: retry after 30", retry_after=30)]
    sleeps = _Sleeps()
    with pytest.raises(ProviderError) as caught:
        TelegramSender(api.url, TOKEN, sleep=sleeps).send(_request("a" * 5000))
    assert sleeps == [] and not caught.value.retryable


def test_success_without_a_message_id_is_not_retried(api):
    api.script["sendMessage"] = [(200, {"ok": True, "result": True})]
    with pytest.raises(ProviderError) as caught:
        TelegramSender(api.url, TOKEN).send(_request())
    assert not caught.value.retryable


# ------------------------------------------------------------------------------ files

def test_fetch_media_asks_for_the_path_then_downloads_the_file(api):
    api.script["getFile"] = [(200, {"ok": True, "result": {"file_id": "AgAD", "file_unique_id": "u",
                                                            "file_size": 5, "file_path": "photos/file_12.jpg"}})]
    api.files[f"/file/bot{TOKEN}/photos/file_12.jpg"] = b"\xff\xd8\xff\xe0!"
    media = fetch_media(api.url, TOKEN, "AgAD", 1_000_000)
    assert api.requests[0]["path"] == f"/bot{TOKEN}/getFile"
    assert api.requests[0]["json"] == {"file_id": "AgAD"}
    assert api.requests[1]["path"] == f"/file/bot{TOKEN}/photos/file_12.jpg"
    assert media.content == b"\xff\xd8\xff\xe0!"
    assert media.content_type == "image/jpeg"          # guessed: Telegram serves octet-stream
    assert media.filename == "file_12.jpg"


def test_a_file_over_the_limit_is_not_downloaded(api):
    api.script["getFile"] = [(200, {"ok": True, "result": {"file_id": "BQAD", "file_size": 2_000_000,
                                                            "file_path": "documents/file_3.pdf"}})]
    with pytest.raises(ProviderError) as caught:
        fetch_media(api.url, TOKEN, "BQAD", 1_000_000)
    assert (caught.value.code, caught.value.retryable) == ("too_large", False)
    assert [r["path"] for r in api.requests] == [f"/bot{TOKEN}/getFile"]


def test_telegram_refusing_a_file_over_20_mb_is_too_large(api):
    api.script["getFile"] = [_error(400, "Bad Request: file is too big")]
    with pytest.raises(ProviderError) as caught:
        fetch_media(api.url, TOKEN, "BAAD", 50_000_000)
    assert (caught.value.code, caught.value.retryable) == ("too_large", False)
    assert "20 MB" in caught.value.message


def test_a_download_bigger_than_announced_is_cut_off(api):
    api.script["getFile"] = [(200, {"ok": True, "result": {"file_id": "x", "file_path": "videos/v.mp4"}})]
    api.files[f"/file/bot{TOKEN}/videos/v.mp4"] = b"0" * 2048
    with pytest.raises(ProviderError) as caught:
        fetch_media(api.url, TOKEN, "x", 1024)
    assert caught.value.code == "too_large"


def test_an_unknown_file_id_is_final(api):
    api.script["getFile"] = [_error(400, "Bad Request: invalid file_id")]
    with pytest.raises(ProviderError) as caught:
        fetch_media(api.url, TOKEN, "nope", 1_000_000)
    assert not caught.value.retryable
    assert caught.value.message == "Telegram no longer has this file"
