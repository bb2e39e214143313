"""WhatsApp Cloud API webhooks: every sample parses to what its sidecar expects, and the constructed
cases cover the documented range (batches, duplicates, every message type, statuses with errors,
unknown types and fields, non-ASCII text)."""

# ruff: noqa: RUF001 - Turkish and Arabic customer text on purpose

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from shopdesk.channels import whatsapp_cloud
from shopdesk.channels.meta import parse_json
from shopdesk.channels.whatsapp_cloud import SERVICE_WINDOW, parse
from shopdesk.errors import BadRequest
from shopdesk.models.message import InboundMessage, StatusUpdate, SystemEvent, TimelineEvent, UnsupportedItem
from tests.support import SAMPLES, sample

PHONE_ID = "106540352242922"
FROM = "16505551234"


def _sample(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    _, meta = sample("meta_whatsapp", name)
    return parse_json((SAMPLES / "meta_whatsapp" / meta["file"]).read_bytes()), meta.get("expect", {})


def _value(messages: list[dict[str, Any]] | None = None, statuses: list[dict[str, Any]] | None = None,
           contacts: list[dict[str, Any]] | None = None, phone_id: str = PHONE_ID, **extra: Any) -> dict[str, Any]:
    value: dict[str, Any] = {"messaging_product": "whatsapp",
                             "metadata": {"display_phone_number": "15550783881", "phone_number_id": phone_id}}
    if contacts is not None:
        value["contacts"] = contacts
    if messages is not None:
        value["messages"] = messages
    if statuses is not None:
        value["statuses"] = statuses
    return {**value, **extra}


def _payload(*values: dict[str, Any], field: str = "messages") -> dict[str, Any]:
    return {"object": "whatsapp_business_account",
            "entry": [{"id": "102290129340398", "changes": [{"value": v, "field": field} for v in values]}]}


def _msg(mtype: str, body: Any = None, mid: str = "wamid.1", sender: str = FROM, **extra: Any) -> dict[str, Any]:
    message = {"from": sender, "id": mid, "timestamp": "1749416383", "type": mtype, **extra}
    if body is not None:
        message[mtype] = body
    return message


def _one(message: dict[str, Any], **kwargs: Any) -> Any:
    items = parse(_payload(_value([message], **kwargs)))
    assert len(items) == 1
    return items[0]


def _contact(wa_id: str = FROM, name: str = "Sheena Nelson") -> dict[str, Any]:
    return {"profile": {"name": name}, "wa_id": wa_id}


# ------------------------------------------------------------------------------ provider samples

def test_text_sample():
    payload, expect = _sample("text")
    [item] = parse(payload)
    assert isinstance(item, InboundMessage)
    assert item.provider == "whatsapp_cloud" and item.channel == "whatsapp" and item.kind == "text"
    assert item.provider_id == expect["message_id"]
    assert item.reply_to == expect["from"]
    assert item.customer_address == "+" + expect["from"]
    assert item.identity_kind == "phone"
    assert item.text == expect["text"]
    assert item.shop_address == expect["phone_number_id"]
    assert item.profile_name == "Sheena Nelson"
    assert item.sent_at == datetime.fromtimestamp(1749416383, tz=UTC)
    assert item.raw["id"] == expect["message_id"]


def test_image_sample():
    payload, expect = _sample("image")
    [item] = parse(payload)
    assert isinstance(item, InboundMessage) and item.kind == "media"
    [attachment] = item.attachments
    assert attachment.media_id == expect["media_id"]
    assert attachment.content_type == expect["mime_type"]
    assert item.text == expect["caption"]
    assert attachment.url is None          # the lookaside URL needs the token: fetched via media_id


def test_interactive_button_reply_sample():
    payload, expect = _sample("interactive_button_reply")
    [item] = parse(payload)
    assert isinstance(item, InboundMessage) and item.kind == "interactive"
    assert item.text == expect["title"]
    assert item.payload == {"type": "button_reply", "id": expect["reply_id"], "title": expect["title"]}
    assert item.reply_context == "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MEM2RUJFNkI0RENGQTVDRjUA"


def test_status_delivered_sample():
    payload, expect = _sample("status_delivered")
    [item] = parse(payload)
    assert item == StatusUpdate(provider="whatsapp_cloud", provider_id="wamid.xyzxyz", status=expect["status"])


def test_status_failed_sample_has_code_and_human_reason():
    payload, expect = _sample("status_failed_131049")
    [item] = parse(payload)
    assert isinstance(item, StatusUpdate)
    assert item.status == expect["status"]
    assert item.error is not None and item.error.code == str(expect["error_code"])
    assert "marketing" in item.error.message and "24 hours" in item.error.message


def test_same_customer_as_on_twilio_sms():
    from shopdesk.channels.twilio import parse_inbound
    payload, _ = _sample("text")
    [wa] = parse(payload)
    sms = parse_inbound([("MessageSid", "SM1"), ("From", "+16505551234"), ("To", "+15550783881"), ("Body", "hi")])
    assert (wa.identity_kind, wa.customer_address) == (sms.identity_kind, sms.customer_address)


# ------------------------------------------------------------------------------ batches and duplicates

def test_batch_of_entries_changes_messages_and_statuses_keeps_everything_in_order():
    def change(n: int) -> dict[str, Any]:
        return _value(
            messages=[_msg("text", {"body": f"m{n}a"}, mid=f"wamid.{n}a", sender=f"3161234567{n}"),
                      _msg("text", {"body": f"m{n}b"}, mid=f"wamid.{n}b", sender=f"3161234567{n}")],
            statuses=[{"id": f"wamid.out{n}", "status": "sent", "timestamp": "1", "recipient_id": "1"},
                      {"id": f"wamid.out{n}", "status": "delivered", "timestamp": "2", "recipient_id": "1"}],
            contacts=[_contact(f"3161234567{n}", f"Customer {n}")])
    payload = {"object": "whatsapp_business_account", "entry": [
        {"id": "waba1", "changes": [{"field": "messages", "value": change(1)},
                                    {"field": "messages", "value": change(2)}]},
        {"id": "waba2", "changes": [{"field": "messages", "value": change(3)},
                                    {"field": "messages", "value": change(4)}]},
    ]}
    items = parse(payload)
    messages = [i for i in items if isinstance(i, InboundMessage)]
    statuses = [i for i in items if isinstance(i, StatusUpdate)]
    assert len(items) == 16
    assert [m.text for m in messages] == ["m1a", "m1b", "m2a", "m2b", "m3a", "m3b", "m4a", "m4b"]
    assert [m.profile_name for m in messages[::2]] == ["Customer 1", "Customer 2", "Customer 3", "Customer 4"]
    assert [m.customer_address for m in messages[::2]] == ["+31612345671", "+31612345672", "+31612345673",
                                                          "+31612345674"]
    assert [(s.provider_id, s.status) for s in statuses[:2]] == [("wamid.out1", "sent"), ("wamid.out1", "delivered")]


def test_same_message_id_twice_in_one_post_is_emitted_once():
    message = _msg("text", {"body": "hello"}, mid="wamid.dup")
    payload = {"object": "whatsapp_business_account", "entry": [
        {"id": "w", "changes": [{"field": "messages", "value": _value([message, message])}]},
        {"id": "w", "changes": [{"field": "messages", "value": _value([message])}]},
    ]}
    assert [i.provider_id for i in parse(payload)] == ["wamid.dup"]


def test_same_status_twice_is_one_item_but_each_status_of_a_message_counts():
    statuses = [{"id": "wamid.o", "status": "read"}, {"id": "wamid.o", "status": "delivered"},
                {"id": "wamid.o", "status": "read"}, {"id": "wamid.o", "status": "sent"}]
    items = parse(_payload(_value(statuses=statuses)))
    assert [(i.provider_id, i.status) for i in items] == [("wamid.o", "read"), ("wamid.o", "delivered"),
                                                         ("wamid.o", "sent")]


def test_profile_name_comes_from_the_matching_contact():
    messages = [_msg("text", {"body": "a"}, mid="w1", sender="31611111111"),
                _msg("text", {"body": "b"}, mid="w2", sender="31622222222"),
                _msg("text", {"body": "c"}, mid="w3", sender="31633333333")]
    contacts = [_contact("31622222222", "Bea"), _contact("31611111111", "Ali")]
    items = parse(_payload(_value(messages, contacts=contacts)))
    assert [i.profile_name for i in items] == ["Ali", "Bea", None]


# ------------------------------------------------------------------------------ every message type

@pytest.mark.parametrize(("mtype", "body", "filename"), [
    ("image", {"id": "m1", "mime_type": "image/jpeg", "sha256": "x", "caption": "Look"}, None),
    ("video", {"id": "m2", "mime_type": "video/mp4", "caption": "Clip"}, None),
    ("audio", {"id": "m3", "mime_type": "audio/ogg; codecs=opus", "voice": True}, None),
    ("document", {"id": "m4", "mime_type": "application/pdf", "filename": "factuur 12.pdf", "caption": "Bill"},
     "factuur 12.pdf"),
    ("sticker", {"id": "m5", "mime_type": "image/webp", "animated": False}, None),
])
def test_media_messages_keep_media_id_type_caption_and_filename(mtype, body, filename):
    item = _one(_msg(mtype, body))
    assert isinstance(item, InboundMessage) and item.kind == "media"
    [attachment] = item.attachments
    assert (attachment.media_id, attachment.content_type, attachment.filename) == (body["id"], body["mime_type"],
                                                                                     filename)
    assert item.text == body.get("caption")
    assert item.payload["type"] == mtype


def test_voice_note_is_flagged():
    item = _one(_msg("audio", {"id": "m3", "mime_type": "audio/ogg", "voice": True}))
    assert item.payload == {"type": "audio", "voice": True} and item.text is None


def test_location_is_readable_and_structured():
    body = {"latitude": 41.0082, "longitude": 28.9784, "name": "Kapalıçarşı", "address": "Beyazıt, İstanbul",
            "url": "https://example.com"}
    item = _one(_msg("location", body))
    assert item.kind == "location"
    assert item.text == "📍 Kapalıçarşı, Beyazıt, İstanbul (41.0082, 28.9784)"
    assert item.payload == body


def test_location_without_name_shows_coordinates():
    item = _one(_msg("location", {"latitude": 52.37, "longitude": 4.89}))
    assert item.text == "📍 (52.37, 4.89)"


def test_contacts_are_readable_and_structured():
    cards = [{"name": {"formatted_name": "Barbara Johnson", "first_name": "Barbara"},
              "phones": [{"phone": "+1 (940) 555-1234", "type": "HOME", "wa_id": "19405551234"}],
              "emails": [{"email": "bjohnson@example.com", "type": "WORK"}]},
             {"name": {"formatted_name": "محمد"}}]
    item = parse(_payload(_value([{"from": FROM, "id": "w", "timestamp": "1", "type": "contacts",
                                   "contacts": cards}])))[0]
    assert item.kind == "contacts"
    assert item.text == "👤 Barbara Johnson: +1 (940) 555-1234, bjohnson@example.com\n👤 محمد"
    assert item.payload == {"contacts": cards}


def test_list_reply_uses_the_title():
    body = {"type": "list_reply", "list_reply": {"id": "size-m", "title": "Medium", "description": "EU 38-40"}}
    item = _one(_msg("interactive", body))
    assert item.kind == "interactive" and item.text == "Medium"
    assert item.payload == {"type": "list_reply", "id": "size-m", "title": "Medium", "description": "EU 38-40"}


def test_template_quick_reply_button_uses_its_text():
    item = _one(_msg("button", {"payload": "STOP_PROMOS", "text": "Stop promotions"},
                     context={"from": "15550783881", "id": "wamid.template"}))
    assert item.kind == "interactive" and item.text == "Stop promotions"
    assert item.payload == {"type": "button", "id": "STOP_PROMOS", "title": "Stop promotions"}
    assert item.reply_context == "wamid.template"


def test_flow_reply_is_an_interactive_message_with_the_answers():
    body = {"type": "nfm_reply", "nfm_reply": {"name": "flow", "body": "Sent",
                                                "response_json": '{"size": "M", "flow_token": "t"}'}}
    item = _one(_msg("interactive", body))
    assert item.kind == "interactive" and item.text == "Sent"
    assert item.payload["response"] == {"size": "M", "flow_token": "t"}


def test_order_is_a_readable_message():
    order = {"catalog_id": "cat1", "text": "Gift wrap please",
             "product_items": [{"product_retailer_id": "SKU-1", "quantity": 2, "item_price": 12.5, "currency": "EUR"},
                               {"product_retailer_id": "SKU-2", "quantity": 1, "item_price": 5, "currency": "EUR"}]}
    item = _one(_msg("order", order))
    assert isinstance(item, InboundMessage) and item.kind == "order"
    assert item.text == "🛒 Order: 2 x SKU-1 at 12.5 EUR; 1 x SKU-2 at 5 EUR\nGift wrap please"
    assert item.payload == order


def test_unsupported_message_is_a_placeholder_with_the_errors_kept():
    errors = [{"code": 131051, "title": "Message type unknown", "message": "Message type unknown",
               "error_data": {"details": "Message type is currently not supported."}}]
    item = _one(_msg("unsupported", {"type": "poll_creation"}, errors=errors))
    assert isinstance(item, InboundMessage) and item.kind == "unsupported"
    assert item.text == "[unsupported message type: poll_creation]"
    assert item.payload == {"type": "poll_creation", "errors": errors}
    assert item.raw["errors"] == errors


@pytest.mark.parametrize("mtype", ["unknown", "hologram", "poll"])
def test_unknown_message_types_do_not_break_parsing(mtype):
    item = _one(_msg(mtype, {"something": [1, 2, {"deep": None}]}, new_field={"x": 1}))
    assert item.kind == "unsupported" and item.text == f"[unsupported message type: {mtype}]"
    assert item.raw["new_field"] == {"x": 1}


def test_reaction_is_a_timeline_event_never_a_message():
    item = _one(_msg("reaction", {"message_id": "wamid.ours", "emoji": "👍"}, mid="wamid.reaction"))
    assert item == TimelineEvent(provider="whatsapp_cloud", event_id="wamid.reaction", kind="reaction",
                                 identity_kind="phone", customer_address="+16505551234",
                                 target_provider_id="wamid.ours", text="Reacted 👍", raw=item.raw,
                                 event=SystemEvent(kind="reaction", params={"action": "added", "emoji": "👍"}))


def test_removed_reaction_has_an_empty_emoji():
    item = _one(_msg("reaction", {"message_id": "wamid.ours", "emoji": ""}))
    assert isinstance(item, TimelineEvent) and item.text == "Removed a reaction"
    assert item.event == SystemEvent(kind="reaction", params={"action": "removed"})


def test_number_change_is_a_system_event():
    system = {"body": "User A changed from 16505551234 to 16505559999", "wa_id": "16505559999",
              "type": "user_changed_number"}
    item = _one(_msg("system", system))
    assert isinstance(item, TimelineEvent) and item.kind == "system"
    assert item.customer_address == "+16505551234" and item.text == system["body"]
    assert item.event == SystemEvent(kind="account_changed", params={"channel": "whatsapp", "number": "+16505559999",
                                                                     "detail": system["body"]})


def test_an_account_change_without_words_is_still_structured():
    item = _one(_msg("system", {"type": "customer_identity_changed"}))
    assert item.text == "WhatsApp reported a change of the customer's account"
    assert item.event == SystemEvent(kind="account_changed", params={"channel": "whatsapp"})


def test_welcome_request_is_not_a_customer_message():
    item = _one(_msg("request_welcome"))
    assert isinstance(item, TimelineEvent)
    assert item.event == SystemEvent(kind="chat_opened", params={"channel": "whatsapp"})


def test_ad_referral_and_forwarded_flags_are_kept_on_the_message():
    referral = {"source_url": "https://fb.me/x", "source_type": "ad", "source_id": "1", "headline": "Sale"}
    item = _one(_msg("text", {"body": "Is this in stock?"}, referral=referral,
                     context={"forwarded": True}))
    assert item.text == "Is this in stock?"
    assert item.payload == {"forwarded": True, "referral": referral}
    assert item.reply_context is None


def test_product_inquiry_keeps_the_referred_product():
    item = _one(_msg("text", {"body": "Price?"},
                     context={"from": "15550783881", "id": "wamid.p",
                              "referred_product": {"catalog_id": "c", "product_retailer_id": "SKU"}}))
    assert item.payload == {"referred_product": {"catalog_id": "c", "product_retailer_id": "SKU"}}
    assert item.reply_context == "wamid.p"


@pytest.mark.parametrize("text", ["Şişli'deki mağazada beden değişimi yapabilir miyim? İğne ğüşıöç",
                                  "مرحبا، هل يمكنني إرجاع الطلب؟", "👍🏽👨‍👩‍👧 ok", "  spaced  \n lines  "])
def test_non_ascii_and_whitespace_text_is_preserved_exactly(text):
    raw = json.dumps(_payload(_value([_msg("text", {"body": text})])), ensure_ascii=True).encode()
    [item] = parse(parse_json(raw))
    assert item.text == text


def test_business_scoped_user_without_phone_is_known_by_user_id():
    message = {"from_user_id": "US.13491208655302741918", "id": "w", "timestamp": "1", "type": "text",
               "text": {"body": "hi"}}
    contacts = [{"profile": {"name": "Jo"}, "user_id": "US.13491208655302741918", "username": "@jo"}]
    [item] = parse(_payload(_value([message], contacts=contacts)))
    assert (item.identity_kind, item.customer_address, item.reply_to) == ("whatsapp", "US.13491208655302741918",
                                                                          "US.13491208655302741918")
    assert item.profile_name == "Jo"


def test_phone_wins_over_business_scoped_user_id():
    item = _one(_msg("text", {"body": "hi"}, from_user_id="NL.123"))
    assert (item.identity_kind, item.customer_address) == ("phone", "+16505551234")


def test_message_without_id_or_usable_sender_is_kept_as_unsupported_not_dropped():
    messages = [{"from": FROM, "timestamp": "1", "type": "text", "text": {"body": "no id"}},
                {"id": "w2", "timestamp": "1", "type": "text", "text": {"body": "no sender"}},
                {"id": "w4", "from": "not-a-phone", "timestamp": "1", "type": "text", "text": {"body": "odd sender"}},
                _msg("text", {"body": "fine"}, mid="w3")]
    items = parse(_payload(_value(messages)))
    unsupported = [i for i in items if isinstance(i, UnsupportedItem)]
    assert [i.provider_id for i in items if isinstance(i, InboundMessage)] == ["w3"]
    assert [(u.item_id, u.raw["text"]["body"]) for u in unsupported] == [(None, "no id"), ("w2", "no sender"),
                                                                         ("w4", "odd sender")]
    assert "usable" in unsupported[1].reason


def test_one_unreadable_message_does_not_fail_the_others():
    messages = [7, {"id": "x" * 300, "from": FROM, "type": "text", "text": {"body": "id too long"}},
                _msg("text", {"body": "fine"}, mid="w3"), _msg("image", {"id": {"a": 1}}, mid="w5")]
    items = parse(_payload(_value(messages)))
    assert [type(i).__name__ for i in items] == ["UnsupportedItem", "UnsupportedItem", "InboundMessage",
                                                 "InboundMessage"]


def test_bad_timestamp_leaves_sent_at_empty():
    item = _one({**_msg("text", {"body": "x"}), "timestamp": "soon"})
    assert item.sent_at is None


# ------------------------------------------------------------------------------ statuses

def test_failed_status_131047_says_the_window_closed():
    status = {"id": "wamid.out", "status": "failed", "timestamp": "1", "recipient_id": FROM,
              "errors": [{"code": 131047, "title": "Re-engagement message",
                          "message": "Re-engagement message",
                          "error_data": {"details": "Message failed to send because more than 24 hours have passed"}}]}
    [item] = parse(_payload(_value(statuses=[status])))
    assert item.error.code == "131047"
    assert item.error.message == "The 24-hour window is closed: send an approved template"


def test_failed_status_with_an_unknown_code_keeps_meta_details():
    status = {"id": "wamid.out", "status": "failed",
              "errors": [{"code": 999999, "title": "Odd", "error_data": {"details": "Something specific"}}]}
    [item] = parse(_payload(_value(statuses=[status])))
    assert (item.error.code, item.error.message) == ("999999", "Something specific")


@pytest.mark.parametrize("status", ["sent", "delivered", "read", "failed", "READ"])
def test_each_status_is_one_update(status):
    [item] = parse(_payload(_value(statuses=[{"id": "wamid.o", "status": status, "timestamp": "1"}])))
    assert isinstance(item, StatusUpdate) and item.status == status.lower() and item.error is None


def test_status_without_id_is_kept_as_unsupported():
    [item] = parse(_payload(_value(statuses=[{"status": "read"}])))
    assert isinstance(item, UnsupportedItem) and item.raw == {"status": "read"} and "id" in item.reason


# ------------------------------------------------------------------------------ other fields and robustness

def test_value_level_errors_become_error_events_without_a_customer():
    value = _value(errors=[{"code": 130429, "title": "Rate limit hit", "message": "(#130429) Rate limit hit"}])
    [item] = parse(_payload(value))
    assert isinstance(item, TimelineEvent) and item.kind == "error" and item.customer_address is None
    assert "throughput" in item.text
    assert parse(_payload(value))[0].event_id == item.event_id       # stable across re-deliveries


def test_coexistence_echo_is_a_timeline_event_about_the_customer():
    value = _value(message_echoes=[{"from": "15550783881", "to": FROM, "id": "wamid.echo", "timestamp": "1",
                                    "type": "text", "text": {"body": "Sent from the phone"}}])
    [item] = parse(_payload(value, field="smb_message_echoes"))
    assert isinstance(item, TimelineEvent) and item.kind == "echo"
    assert item.customer_address == "+16505551234" and "Sent from the phone" in item.text
    assert item.event == SystemEvent(kind="echo", params={"channel": "whatsapp", "text": "Sent from the phone"})


def test_a_coexistence_echo_without_text_names_its_type():
    value = _value(message_echoes=[{"from": "15550783881", "to": FROM, "id": "wamid.echo3", "timestamp": "1",
                                    "type": "image", "image": {"id": "media-1", "mime_type": "image/jpeg"}}])
    [item] = parse(_payload(value, field="smb_message_echoes"))
    assert item.event == SystemEvent(kind="echo", params={"channel": "whatsapp", "content": "image"})


def test_marketing_opt_out_is_a_timeline_event():
    value = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": PHONE_ID},
             "user_preferences": [{"wa_id": FROM, "detail": "User requested to stop marketing messages",
                                   "category": "marketing_messages", "value": "stop", "timestamp": 1}]}
    [item] = parse(_payload(value, field="user_preferences"))
    assert isinstance(item, TimelineEvent) and item.text == "The customer stopped marketing messages"
    assert item.event == SystemEvent(kind="preference", params={
        "choice": "stop", "category": "marketing_messages", "detail": "User requested to stop marketing messages"})


@pytest.mark.parametrize("field", ["message_template_status_update", "account_update", "phone_number_quality_update",
                                   "brand_new_field"])
def test_business_account_fields_are_acknowledged_without_items(field):
    assert parse(_payload({"event": "APPROVED", "message_template_id": 1}, field=field)) == []


def test_unknown_top_level_and_nested_fields_do_not_break_parsing():
    payload = _payload(_value([_msg("text", {"body": "hi", "new": 1})], contacts=[{**_contact(), "extra": [1]}],
                              brand_new={"a": 1}))
    payload["future"] = True
    payload["entry"][0]["time"] = 1
    payload["entry"][0]["changes"].append({"field": "messages", "value": "not an object"})
    payload["entry"].append("not an entry")
    [item, odd] = parse(payload)
    assert isinstance(odd, UnsupportedItem) and odd.raw["value"] == "not an object"
    assert item.text == "hi" and item.profile_name == "Sheena Nelson"


def test_empty_entry_list_gives_no_items():
    assert parse({"object": "whatsapp_business_account", "entry": []}) == []


@pytest.mark.parametrize("payload", [
    {"object": "page", "entry": []}, {"entry": []}, {"object": "whatsapp_business_account"},
    {"object": "whatsapp_business_account", "entry": {"id": 1}}, [],
])
def test_malformed_bodies_are_bad_requests(payload):
    with pytest.raises(BadRequest):
        parse(payload)


def test_service_window_is_24_hours():
    assert SERVICE_WINDOW.total_seconds() == 24 * 3600
    assert whatsapp_cloud.PROVIDER == "whatsapp_cloud" and whatsapp_cloud.CHANNEL == "whatsapp"


def test_echoes_and_preferences_without_a_usable_customer_number_are_kept_as_unsupported():
    echo = _value(message_echoes=[{"from": "15550783881", "to": "nobody", "id": "wamid.echo2", "type": "text",
                                   "text": {"body": "hi"}}])
    pref = _value(user_preferences=[{"wa_id": None, "value": "stop", "category": "marketing_messages"}])
    [odd_echo] = parse(_payload(echo, field="smb_message_echoes"))
    [odd_pref] = parse(_payload(pref, field="user_preferences"))
    assert isinstance(odd_echo, UnsupportedItem) and odd_echo.item_id == "wamid.echo2"
    assert isinstance(odd_pref, UnsupportedItem) and odd_pref.raw["value"] == "stop"


def test_a_status_carries_back_the_reference_our_send_gave_it():
    payload, _ = _sample("status_delivered")
    payload["entry"][0]["changes"][0]["value"]["statuses"][0]["biz_opaque_callback_data"] = "c_1-2026050109000-m_1-0"
    [item] = parse(payload)
    assert item.reference == "c_1-2026050109000-m_1-0"
