"""Messenger and Instagram webhooks: every sample parses to what its sidecar expects; constructed
cases cover the documented event range (attachments, quick replies, replies, postbacks, echoes,
receipts, reactions, edits, unsends, referrals, optins, standby, Instagram specifics)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from shopdesk.channels.base import item_or_unsupported
from shopdesk.channels.messenger import HUMAN_AGENT_WINDOW, STANDARD_WINDOW, parse
from shopdesk.channels.meta import parse_json
from shopdesk.errors import BadRequest
from shopdesk.models.message import InboundMessage, StatusUpdate, SystemEvent, TimelineEvent, UnsupportedItem
from tests.support import SAMPLES, sample

PAGE = "1234567890"
PSID = "5678"
OBJECTS = {"messenger": "page", "instagram": "instagram"}
BOTH = ["messenger", "instagram"]


def _sample(folder: str, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    _, meta = sample(folder, name)
    return parse_json((SAMPLES / folder / meta["file"]).read_bytes()), meta.get("expect", {})


def _event(sender: str = PSID, recipient: str = PAGE, timestamp: int = 1458692752478, **body: Any) -> dict[str, Any]:
    return {"sender": {"id": sender}, "recipient": {"id": recipient}, "timestamp": timestamp, **body}


def _payload(provider: str, *events: dict[str, Any], key: str = "messaging") -> dict[str, Any]:
    return {"object": OBJECTS[provider], "entry": [{"id": PAGE, "time": 1458692752478, key: list(events)}]}


def _one(provider: str, event: dict[str, Any]) -> Any:
    items = parse(_payload(provider, event), provider)
    assert len(items) == 1, items
    return items[0]


# ------------------------------------------------------------------------------ provider samples

@pytest.mark.parametrize(("folder", "provider"), [("meta_messenger", "messenger"), ("meta_instagram", "instagram")])
def test_text_sample(folder, provider):
    payload, expect = _sample(folder, "text")
    [item] = parse(payload, provider)
    assert isinstance(item, InboundMessage)
    assert item.provider == item.channel == item.identity_kind == provider
    assert item.provider_id == expect["mid"] and item.text == expect["text"] and item.kind == "text"
    assert item.customer_address == item.reply_to == expect.get("psid", PSID)
    assert item.shop_address == PAGE
    assert item.sent_at == datetime.fromtimestamp(1459991487.970, tz=UTC)


@pytest.mark.parametrize(("folder", "provider"), [("meta_messenger", "messenger"), ("meta_instagram", "instagram")])
def test_image_attachment_sample(folder, provider):
    payload, _ = _sample(folder, "attachment_image")
    [item] = parse(payload, provider)
    assert isinstance(item, InboundMessage) and item.kind == "media" and item.text is None
    [attachment] = item.attachments
    assert attachment.url == "https://image-url/foo.png" and attachment.content_type == "image/*"


def test_delivery_sample_is_one_status_per_mid():
    payload, expect = _sample("meta_messenger", "delivery")
    items = parse(payload, "messenger")
    assert items == [StatusUpdate(provider="messenger", provider_id=m, status="delivered") for m in expect["mids"]]


def test_sample_of_one_product_is_refused_by_the_other():
    payload, _ = _sample("meta_instagram", "text")
    with pytest.raises(BadRequest):
        parse(payload, "messenger")
    with pytest.raises(BadRequest):
        parse(_sample("meta_messenger", "text")[0], "instagram")


# ------------------------------------------------------------------------------ messages

@pytest.mark.parametrize("provider", BOTH)
@pytest.mark.parametrize(("atype", "family"), [("image", "image/*"), ("video", "video/*"), ("audio", "audio/*"),
                                               ("file", "application/octet-stream")])
def test_file_attachments_keep_url_and_family(provider, atype, family):
    item = _one(provider, _event(message={"mid": "m1", "text": "see this",
                                          "attachments": [{"type": atype, "payload": {"url": f"https://cdn/{atype}"}}]}))
    assert item.kind == "media" and item.text == "see this"
    assert [(a.url, a.content_type) for a in item.attachments] == [(f"https://cdn/{atype}", family)]


def test_several_attachments_are_all_kept():
    attachments = [{"type": "image", "payload": {"url": "https://cdn/1.jpg"}},
                   {"type": "image", "payload": {"url": "https://cdn/2.jpg"}}]
    item = _one("messenger", _event(message={"mid": "m1", "attachments": attachments}))
    assert [a.url for a in item.attachments] == ["https://cdn/1.jpg", "https://cdn/2.jpg"]


def test_sticker_transition_keeps_one_file():
    attachments = [{"type": "sticker", "payload": {"url": "https://cdn/s.png", "sticker_id": 369239263222822}},
                   {"type": "image", "payload": {"url": "https://cdn/s.png", "sticker_id": 369239263222822}}]
    item = _one("messenger", _event(message={"mid": "m1", "attachments": attachments, "sticker_id": 369239263222822}))
    assert [(a.url, a.content_type) for a in item.attachments] == [("https://cdn/s.png", "image/*")]
    assert item.payload == {"sticker_id": 369239263222822}


def test_location_attachment_is_readable_and_structured():
    attachments = [{"type": "location", "title": "Pinned Location", "url": "https://l.facebook.com/x",
                    "payload": {"coordinates": {"lat": 52.37, "long": 4.89}}}]
    item = _one("messenger", _event(message={"mid": "m1", "attachments": attachments}))
    assert item.kind == "location" and item.text == "📍 Pinned Location (52.37, 4.89)"
    assert item.payload["location"]["latitude"] == 52.37 and item.attachments == []


def test_fallback_attachment_shows_the_shared_link():
    attachments = [{"type": "fallback", "title": "Our summer sale", "url": "https://shop.example/sale",
                    "payload": None}]
    item = _one("messenger", _event(message={"mid": "m1", "text": "this one?", "attachments": attachments}))
    assert item.kind == "text" and item.text == "this one?\n🔗 Our summer sale https://shop.example/sale"


def test_fallback_without_payload_is_not_empty():
    item = _one("messenger", _event(message={"mid": "m1", "attachments": [{"type": "fallback"}]}))
    assert item.text == "[unsupported share]"


def test_quick_reply_keeps_its_payload():
    item = _one("messenger", _event(message={"mid": "m1", "text": "Red", "quick_reply": {"payload": "COLOR_RED"}}))
    assert item.kind == "interactive" and item.text == "Red" and item.payload == {"quick_reply": "COLOR_RED"}


def test_reply_to_is_the_reply_context():
    item = _one("messenger", _event(message={"mid": "m2", "text": "yes", "reply_to": {"mid": "m_ours",
                                                                                       "is_self_reply": False}}))
    assert item.reply_context == "m_ours"


def test_unknown_attachment_type_does_not_break_parsing():
    item = _one("messenger", _event(message={"mid": "m1", "attachments": [{"type": "hologram",
                                                                            "payload": {"url": "https://cdn/h"}}]}))
    assert isinstance(item, InboundMessage) and item.text == "[unsupported attachment: hologram]"


def test_message_with_nothing_in_it_is_an_unsupported_placeholder():
    item = _one("messenger", _event(message={"mid": "m1"}))
    assert item.kind == "unsupported" and item.text


@pytest.mark.parametrize("provider", BOTH)
@pytest.mark.parametrize("text", ["Siparişim ne zaman gelir? İyi günler", "أين طلبي؟ شكرا", "❤️🔥 ok 👍🏽"])
def test_non_ascii_text_is_preserved(provider, text):
    raw = json.dumps(_payload(provider, _event(message={"mid": "m1", "text": text})), ensure_ascii=True).encode()
    [item] = parse(parse_json(raw), provider)
    assert item.text == text


# ------------------------------------------------------------------------------ Instagram specifics

def test_instagram_story_mention():
    attachments = [{"type": "story_mention", "payload": {"url": "https://lookaside/story"}}]
    item = _one("instagram", _event(message={"mid": "m1", "attachments": attachments}))
    assert isinstance(item, InboundMessage) and item.kind == "story_mention"
    assert item.text == "📣 Mentioned you in their story"
    assert [a.url for a in item.attachments] == ["https://lookaside/story"]


def test_instagram_story_reply_keeps_the_story():
    message = {"mid": "m1", "text": "Love it!", "reply_to": {"story": {"url": "https://cdn/story", "id": "st1"}}}
    item = _one("instagram", _event(message=message))
    assert item.text == "Love it!" and item.payload == {"story": {"url": "https://cdn/story", "id": "st1"}}
    assert item.reply_context is None


@pytest.mark.parametrize(("atype", "line"), [("ig_reel", "🎬 Shared a reel: Summer drop"),
                                              ("share", "🔗 Shared a post: Summer drop"),
                                              ("ig_post", "🔗 Shared a post: Summer drop")])
def test_instagram_shares_are_described(atype, line):
    attachments = [{"type": atype, "payload": {"url": "https://cdn/x", "title": "Summer drop"}}]
    item = _one("instagram", _event(message={"mid": "m1", "attachments": attachments}))
    assert item.text == line and item.attachments[0].url == "https://cdn/x"


def test_instagram_unsupported_is_a_placeholder():
    item = _one("instagram", _event(message={"mid": "m1", "is_unsupported": True}))
    assert isinstance(item, InboundMessage) and item.kind == "unsupported"
    assert item.text.startswith("[unsupported message type")


def test_instagram_unsend_is_a_timeline_event():
    item = _one("instagram", _event(message={"mid": "m1", "is_deleted": True}))
    assert isinstance(item, TimelineEvent) and item.kind == "unsend"
    assert item.target_provider_id == "m1" and item.customer_address == PSID and item.event_id != "m1"
    assert item.event == SystemEvent(kind="unsend", params={"channel": "instagram"})


def test_instagram_read_names_the_message():
    assert _one("instagram", _event(read={"mid": "m_ours"})) == StatusUpdate(provider="instagram",
                                                                              provider_id="m_ours", status="read")


# ------------------------------------------------------------------------------ postbacks and receipts

def test_postback_is_a_customer_message():
    item = _one("messenger", _event(postback={"title": "Track my order", "payload": "TRACK", "mid": "m_pb"}))
    assert isinstance(item, InboundMessage) and item.kind == "postback"
    assert item.provider_id == "m_pb" and item.text == "Track my order"
    assert item.payload == {"payload": "TRACK", "title": "Track my order"}


def test_postback_without_mid_gets_a_stable_id():
    event = _event(postback={"title": "Get Started", "payload": "GET_STARTED"})
    first, second = _one("messenger", event), _one("messenger", event)
    assert first.provider_id == second.provider_id and first.provider_id.startswith("postback:")


def test_delivery_with_several_mids():
    items = parse(_payload("messenger", _event(delivery={"mids": ["m1", "m2"], "watermark": 1})), "messenger")
    assert [(i.provider_id, i.status) for i in items] == [("m1", "delivered"), ("m2", "delivered")]


@pytest.mark.parametrize("mids", ["m1m2", {"m1": 1, "m2": 2}, 12])
def test_a_delivery_whose_mids_is_no_list_is_one_unsupported_item_not_a_receipt_per_character(mids):
    # Given a signed delivery naming its messages in something other than a list
    items = parse(_payload("messenger", _event(delivery={"mids": mids, "watermark": 1})), "messenger")
    # Then it is kept as unsupported, never read as receipts for ids "m", "1", "m", "2" (or the object's keys)
    assert [type(i) for i in items] == [UnsupportedItem], items
    assert "mids" in items[0].reason


def test_watermark_only_receipts_are_acknowledged_without_items():
    assert parse(_payload("messenger", _event(delivery={"watermark": 1458668856253, "seq": 37}),
                          _event(read={"watermark": 1458668856253, "seq": 38})), "messenger") == []


# ------------------------------------------------------------------------------ never customer messages

@pytest.mark.parametrize("provider", BOTH)
def test_echo_is_about_the_recipient(provider):
    event = _event(sender=PAGE, recipient=PSID, message={"mid": "m_echo", "is_echo": True, "app_id": 1,
                                                          "text": "We shipped it"})
    item = _one(provider, event)
    assert isinstance(item, TimelineEvent) and item.kind == "echo"
    assert item.customer_address == PSID and item.target_provider_id == "m_echo"
    assert "We shipped it" in item.text
    assert item.event == SystemEvent(kind="echo", params={"channel": provider, "text": "We shipped it"})


def test_message_from_the_page_itself_is_treated_as_an_echo():
    item = _one("messenger", _event(sender=PAGE, recipient=PSID, message={"mid": "m_x", "text": "hi"}))
    assert isinstance(item, TimelineEvent) and item.kind == "echo" and item.customer_address == PSID


def test_an_echo_of_a_file_names_the_file_type_not_its_words():
    item = _one("messenger", _event(sender=PAGE, recipient=PSID, message={
        "mid": "m_f", "is_echo": True, "attachments": [{"type": "image", "payload": {"url": "https://cdn/x.jpg"}}]}))
    assert item.event == SystemEvent(kind="echo", params={"channel": "messenger", "content": "image"})


@pytest.mark.parametrize(("reaction", "text", "params"), [
    ({"reaction": "love", "emoji": "❤️", "action": "react", "mid": "m_ours"}, "Reacted ❤️",
     {"action": "added", "emoji": "❤️"}),
    ({"reaction": "other", "action": "react", "mid": "m_ours"}, "Reacted other", {"action": "added", "emoji": "other"}),
    ({"action": "unreact", "mid": "m_ours"}, "Removed a reaction", {"action": "removed"}),
])
def test_reactions_are_timeline_events(reaction, text, params):
    item = _one("messenger", _event(reaction=reaction))
    assert isinstance(item, TimelineEvent) and item.kind == "reaction"
    assert item.text == text and item.target_provider_id == "m_ours" and item.customer_address == PSID
    assert item.event == SystemEvent(kind="reaction", params=params)


def test_edit_carries_the_new_text():
    item = _one("messenger", _event(message_edit={"mid": "m1", "text": "Size 40, not 38", "num_edit": 1}))
    assert isinstance(item, TimelineEvent) and item.kind == "edit"
    assert item.target_provider_id == "m1" and "Size 40, not 38" in item.text
    assert item.event == SystemEvent(kind="edit", params={"text": "Size 40, not 38"})


def test_referral_is_a_timeline_event():
    item = _one("messenger", _event(referral={"ref": "summer", "source": "SHORTLINK", "type": "OPEN_THREAD"}))
    assert isinstance(item, TimelineEvent) and item.kind == "referral"
    assert item.text == "The customer arrived via an m.me link (ref summer)"
    assert item.event == SystemEvent(kind="referral", params={"source": "shortlink", "ref": "summer"})


def test_ad_referral_names_the_ad():
    item = _one("messenger", _event(referral={"source": "ADS", "type": "OPEN_THREAD", "ad_id": "42",
                                              "ads_context_data": {"ad_title": "Summer sale"}}))
    assert item.text == 'The customer arrived via an ad "Summer sale" (ad 42)'
    assert item.event == SystemEvent(kind="referral", params={"source": "ads", "ad_title": "Summer sale",
                                                              "ad_id": "42"})


def test_optin_is_a_timeline_event():
    item = _one("messenger", _event(optin={"type": "notification_messages", "title": "Restock alerts",
                                           "notification_messages_status": "STOP_NOTIFICATIONS"}))
    assert isinstance(item, TimelineEvent) and item.kind == "optin"
    assert item.text == "The customer stopped notification messages"
    assert item.event == SystemEvent(kind="optin", params={"notifications": "stopped"})


def test_an_optin_names_what_the_customer_opted_in_to():
    item = _one("messenger", _event(optin={"type": "notification_messages", "title": "Restock alerts"}))
    assert item.text == "The customer opted in: Restock alerts"
    assert item.event == SystemEvent(kind="optin", params={"title": "Restock alerts"})


def test_optin_by_user_ref_without_sender_is_kept_as_unsupported():
    event = {"recipient": {"id": PAGE}, "timestamp": 1, "optin": {"ref": "x", "user_ref": "u1"}}
    [item] = parse(_payload("messenger", event), "messenger")
    assert isinstance(item, UnsupportedItem) and item.raw == event and "sender" in item.reason


def test_one_unreadable_event_does_not_fail_the_others():
    good = {"sender": {"id": "111"}, "recipient": {"id": PAGE}, "timestamp": 1, "message": {"mid": "m1", "text": "hi"}}
    odd = [{"sender": {"id": "x" * 500}, "recipient": {"id": PAGE}, "message": {"mid": "m2", "text": "long id"}},
           {"sender": {"id": "111"}, "message": {"mid": {"nested": 1}, "text": "odd mid"}}, "not an event"]
    items = parse(_payload("messenger", *odd, good), "messenger")
    assert [type(i).__name__ for i in items] == ["UnsupportedItem"] * 3 + ["InboundMessage"]
    assert items[0].item_id == "m2"
    assert [i.code for i in items[:3]] == ["unreadable"] * 3


def test_an_item_the_models_refuse_is_unsupported_as_invalid_with_where_and_why():
    def refused() -> list:
        return [StatusUpdate.model_validate({"provider": "messenger", "provider_id": "m1", "status": ["sent"]})]
    [item] = item_or_unsupported("messenger", {"x": 1}, refused, "m1", ("messenger", PSID))
    assert isinstance(item, UnsupportedItem) and item.code == "invalid" and item.reason.startswith("status:")
    assert (item.identity_kind, item.customer_address) == ("messenger", PSID)


@pytest.mark.parametrize("key", ["pass_thread_control", "game_play", "brand_new_event"])
def test_unknown_event_keys_are_unknown_timeline_events(key):
    item = _one("messenger", _event(**{key: {"new_owner_app_id": "1"}}))
    assert isinstance(item, TimelineEvent) and item.kind == "unknown" and key in item.text
    assert item.raw[key] == {"new_owner_app_id": "1"}
    assert item.event == SystemEvent(kind="unknown", params={"channel": "messenger", "name": key})


def test_none_of_the_non_message_events_is_an_inbound_message():
    events = [
        _event(sender=PAGE, recipient=PSID, message={"mid": "e1", "is_echo": True, "text": "x"}),
        _event(reaction={"action": "react", "emoji": "👍", "mid": "m"}),
        _event(message_edit={"mid": "m", "text": "y", "num_edit": 1}),
        _event(message={"mid": "m", "is_deleted": True}),
        _event(referral={"ref": "r", "source": "SHORTLINK"}),
        _event(optin={"ref": "r"}),
        _event(delivery={"mids": ["m"], "watermark": 1}),
        _event(read={"watermark": 1}),
        _event(something_new={"a": 1}),
    ]
    items = parse(_payload("messenger", *events), "messenger")
    assert len(items) == 8
    assert not any(isinstance(i, InboundMessage) for i in items)


# ------------------------------------------------------------------------------ batches, duplicates, robustness

def test_batch_of_entries_and_events_in_order():
    payload = {"object": "page", "entry": [
        {"id": PAGE, "time": 1, "messaging": [_event(sender="a", message={"mid": "m1", "text": "one"}),
                                              _event(sender="b", message={"mid": "m2", "text": "two"})]},
        {"id": "999", "time": 2, "messaging": [_event(sender="c", recipient="999", message={"mid": "m3", "text": "3"}),
                                               _event(delivery={"mids": ["o1"], "watermark": 1})]},
    ]}
    items = parse(payload, "messenger")
    assert [getattr(i, "text", None) for i in items] == ["one", "two", "3", None]
    assert [i.shop_address for i in items[:3]] == [PAGE, PAGE, "999"]


def test_same_mid_twice_in_one_post_is_emitted_once():
    event = _event(message={"mid": "m_dup", "text": "hello"})
    payload = {"object": "page", "entry": [{"id": PAGE, "messaging": [event, event]},
                                           {"id": PAGE, "messaging": [event]}]}
    assert [i.provider_id for i in parse(payload, "messenger")] == ["m_dup"]


def test_standby_messages_are_read_too():
    payload = _payload("messenger", _event(message={"mid": "m_sb", "text": "anyone?"}), key="standby")
    [item] = parse(payload, "messenger")
    assert isinstance(item, InboundMessage) and item.payload == {"standby": True}


def test_unknown_fields_do_not_break_parsing():
    payload = _payload("instagram", {**_event(message={"mid": "m1", "text": "hi", "future": [1]}), "extra": 1})
    payload["entry"][0]["changes"] = [{"field": "comments", "value": {"id": "c1", "text": "nice"}}]
    payload["entry"].append("not an entry")
    payload["new"] = {"x": 1}
    [item] = parse(payload, "instagram")
    assert item.text == "hi"


def test_events_without_sender_or_mid_are_skipped():
    events = [{"recipient": {"id": PAGE}, "timestamp": 1, "message": {"mid": "m1", "text": "no sender"}},
              _event(message={"text": "no mid"}), "not an event"]
    items = parse({"object": "page", "entry": [{"id": PAGE, "messaging": events}]}, "messenger")
    assert all(not isinstance(i, InboundMessage) for i in items)


@pytest.mark.parametrize("payload", [{"object": "page"}, {"object": "user", "entry": []}, {"entry": []},
                                     {"object": "page", "entry": "x"}])
def test_malformed_bodies_are_bad_requests(payload):
    with pytest.raises(BadRequest):
        parse(payload, "messenger")


def test_unknown_provider_is_a_programming_error():
    with pytest.raises(ValueError, match="provider"):
        parse({"object": "page", "entry": []}, "whatsapp")


def test_windows():
    assert STANDARD_WINDOW.total_seconds() == 24 * 3600
    assert HUMAN_AGENT_WINDOW.days == 7


def test_the_echo_of_our_own_reply_with_our_reference_is_a_receipt_that_names_it():
    reference = "c_1-20260501090000000-m_1-0"
    event = _event(sender=PAGE, recipient=PSID, message={"mid": "m_ours", "is_echo": True, "app_id": 1,
                                                          "metadata": reference, "text": "We shipped it"})
    assert _one("messenger", event) == StatusUpdate(provider="messenger", provider_id="m_ours", status="sent",
                                                    reference=reference)
    # another app's metadata is not ours: the echo stays an echo
    other = _event(sender=PAGE, recipient=PSID, message={"mid": "m_theirs", "is_echo": True, "metadata": "crm-42",
                                                          "text": "Hello from the CRM"})
    assert isinstance(_one("messenger", other), TimelineEvent)
