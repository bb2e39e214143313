"""Twilio webhook bodies into provider-neutral messages and receipts."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from shopdesk.channels.twilio import ERROR_REASONS, parse_form, parse_inbound, parse_status
from shopdesk.errors import BadRequest
from shopdesk.models import Attachment
from tests.support import sample


def _sample_params(name: str) -> tuple[list[tuple[str, str]], dict]:
    body, meta = sample("twilio", name)
    return parse_form(body), meta["expect"]


def _form(**fields: str) -> list[tuple[str, str]]:
    base = {"MessageSid": "SM00000000000000000000000000000001", "From": "+31612345678", "To": "+14155550100",
            "Body": "hello", "NumMedia": "0"}
    return parse_form(urlencode({**base, **fields}))


def _without(params: list[tuple[str, str]], *names: str) -> list[tuple[str, str]]:
    return [(k, v) for k, v in params if k not in names]


# ------------------------------------------------------------------------------ inbound samples

def test_sms_sample_parses_to_its_expected_values():
    # Given the inbound SMS sample
    params, expect = _sample_params("sms_inbound_text")
    # When it is parsed
    message = parse_inbound(params)
    # Then every value the sidecar expects comes out, the sender in E.164
    assert message.provider == "twilio"
    assert message.provider_id == expect["MessageSid"]
    assert message.customer_address == expect["From"] == "+14133881111"
    assert message.reply_to == expect["From"]
    assert message.shop_address == expect["To"]
    assert message.text == expect["Body"]
    assert len(message.attachments) == int(expect["NumMedia"]) == 0
    assert message.channel == "sms"
    assert message.identity_kind == "phone"


def test_whatsapp_sample_parses_to_its_expected_values():
    params, expect = _sample_params("whatsapp_inbound_text")
    message = parse_inbound(params)
    assert message.channel == "whatsapp"
    assert message.customer_address == "+31612345678"
    assert message.reply_to == expect["From"] == "whatsapp:+31612345678"
    assert message.shop_address == expect["To"] == "whatsapp:+14123456789"
    assert message.text == expect["Body"]
    assert message.provider_id == "SM892512e202b34d4109b10a3893fa9640"


def test_mms_sample_parses_its_image_with_url_and_content_type():
    params, expect = _sample_params("sms_inbound_mms_image")
    message = parse_inbound(params)
    assert message.provider_id == expect["MessageSid"]
    assert message.text == expect["Body"]
    assert message.channel == "sms"
    assert message.customer_address == "+12032572584"
    assert message.attachments == [Attachment(
        url="https://api.twilio.com/2010-04-01/Accounts/ACe2cdfdaa687e260e98c3f81f7896ce97/Messages/"
            "MM1c05a7205210e96eac11f4e1a484d3f2/Media/MEfb1d3ef549ca3899527125e69466bf8a",
        content_type=expect["MediaContentType0"])]
    assert len(message.attachments) == int(expect["NumMedia"])


def test_inbound_sample_keeps_every_param_in_raw():
    params, _ = _sample_params("sms_inbound_text")
    message = parse_inbound(params)
    assert message.raw == dict(params)
    assert message.raw["FromCity"] == "CHICOPEE"


# ------------------------------------------------------------------------------ constructed inbound

def test_several_media_are_all_attached_in_order():
    # Given three media with their content types
    params = _form(NumMedia="3", Body="",
                   MediaUrl0="https://m/0", MediaContentType0="image/jpeg",
                   MediaUrl1="https://m/1", MediaContentType1="image/png",
                   MediaUrl2="https://m/2", MediaContentType2="application/pdf")
    # When parsed
    message = parse_inbound(params)
    # Then each is an attachment in index order, and an empty body is no text
    assert message.attachments == [Attachment(url="https://m/0", content_type="image/jpeg"),
                                   Attachment(url="https://m/1", content_type="image/png"),
                                   Attachment(url="https://m/2", content_type="application/pdf")]
    assert message.text is None


def test_media_beyond_num_media_are_not_attached():
    params = _form(NumMedia="1", MediaUrl0="https://m/0", MediaUrl1="https://m/1")
    assert [a.url for a in parse_inbound(params).attachments] == ["https://m/0"]


def test_media_without_content_type_is_attached_without_one():
    params = _form(NumMedia="1", MediaUrl0="https://m/0")
    assert parse_inbound(params).attachments == [Attachment(url="https://m/0", content_type=None)]


def test_at_most_ten_media_are_attached():
    media = {f"MediaUrl{i}": f"https://m/{i}" for i in range(12)}
    params = _form(NumMedia="12", **media)
    assert len(parse_inbound(params).attachments) == 10


def test_unknown_extra_params_are_ignored():
    # Given newer WhatsApp fields and a field nobody has heard of
    params = _form(From="whatsapp:+31612345678", To="whatsapp:+14155550100", WaId="31612345678",
                   MessageType="text", ReferralNumMedia="0", SomethingNew="surprise")
    # When parsed
    message = parse_inbound(params)
    # Then the message is what the known fields say
    assert (message.channel, message.customer_address, message.text) == ("whatsapp", "+31612345678", "hello")
    assert message.raw["SomethingNew"] == "surprise"


def test_profile_name_is_kept():
    params = _form(ProfileName="Zoë Jansen")
    assert parse_inbound(params).profile_name == "Zoë Jansen"


def test_blank_profile_name_is_no_name():
    assert parse_inbound(_form(ProfileName="")).profile_name is None


def test_non_ascii_body_is_kept_exactly():
    assert parse_inbound(_form(Body="Grüße 👋 ")).text == "Grüße 👋 "


def test_legacy_sid_names_stand_in_for_message_sid():
    params = _without(_form(SmsMessageSid="SMlegacy"), "MessageSid")
    assert parse_inbound(params).provider_id == "SMlegacy"


@pytest.mark.parametrize("field", ["From", "To"])
def test_missing_address_is_a_bad_request(field):
    with pytest.raises(BadRequest):
        parse_inbound(_without(_form(), field))


@pytest.mark.parametrize("field", ["From", "To"])
def test_blank_address_is_a_bad_request(field):
    with pytest.raises(BadRequest):
        parse_inbound(_form(**{field: ""}))


def test_missing_message_sid_is_a_bad_request():
    # Given a body with none of MessageSid / SmsMessageSid / SmsSid
    params = _without(_form(), "MessageSid", "SmsMessageSid", "SmsSid")
    with pytest.raises(BadRequest, match="MessageSid"):
        parse_inbound(params)


def test_sender_that_is_not_a_phone_number_is_a_bad_request():
    with pytest.raises(BadRequest, match="phone number"):
        parse_inbound(_form(From="messenger:1234567890abc"))


@pytest.mark.parametrize("value", ["one", "1.0", "0x1"])
def test_non_numeric_num_media_is_a_bad_request(value):
    with pytest.raises(BadRequest, match="NumMedia"):
        parse_inbound(_form(NumMedia=value))


# ------------------------------------------------------------------------------ status callbacks

def test_undelivered_status_sample_gives_status_and_readable_error():
    # Given the undelivered callback with ErrorCode 30003 and no ErrorMessage
    params, expect = _sample_params("sms_status_undelivered_30003")
    # When parsed
    update = parse_status(params)
    # Then the status and code come through with a reason an agent can read
    assert update.provider == "twilio"
    assert update.provider_id == "SM0cec4ed334e74bcbb64eb8b6684e9654"
    assert update.status == expect["MessageStatus"] == "undelivered"
    assert update.error is not None
    assert update.error.code == expect["ErrorCode"] == "30003"
    assert update.error.message == ERROR_REASONS["30003"]
    assert "unreachable" in update.error.message


def test_delivered_status_sample_has_no_error():
    params, expect = _sample_params("whatsapp_status_delivered")
    update = parse_status(params)
    assert update.status == expect["MessageStatus"] == "delivered"
    assert update.provider_id == "SMdf55df64a2ff4920bb0748193cfbb640"
    assert update.error is None


def test_status_error_message_from_twilio_wins_over_the_built_in_reason():
    params = _form(MessageStatus="failed", ErrorCode="30007", ErrorMessage="Carrier says no")
    assert parse_status(params).error.message == "Carrier says no"


def test_status_with_unknown_error_code_gets_a_generic_reason():
    error = parse_status(_form(MessageStatus="failed", ErrorCode="99999")).error
    assert (error.code, error.message) == ("99999", "The provider reported an error")


def test_status_is_lowercased():
    assert parse_status(_form(MessageStatus="Delivered")).status == "delivered"


def test_status_without_message_status_is_a_bad_request():
    with pytest.raises(BadRequest):
        parse_status(_form())


# ------------------------------------------------------------------------------ form bodies

@pytest.mark.parametrize("body", [
    "MessageSid",                     # a name without '='
    "MessageSid=SM1&&Body=x",          # an empty field
    "MessageSid=SM1&",                 # a trailing separator
    "Body=%FF%FE",                     # percent-encoded bytes that are not UTF-8
])
def test_malformed_form_body_is_a_bad_request(body):
    with pytest.raises(BadRequest):
        parse_form(body)


def test_form_keeps_blank_values_and_order():
    assert parse_form("ToCity=&Body=&To=%2B1") == [("ToCity", ""), ("Body", ""), ("To", "+1")]


def test_form_keeps_repeated_names():
    assert parse_form("MediaUrl=a&MediaUrl=b") == [("MediaUrl", "a"), ("MediaUrl", "b")]


def test_form_decodes_plus_as_space_and_percent_escapes():
    assert parse_form("Body=Gr%C3%BC%C3%9Fe+%F0%9F%91%8B") == [("Body", "Grüße 👋")]


def test_empty_form_body_has_no_params():
    assert parse_form("") == []


def test_the_status_callback_url_carries_our_reference_and_gives_it_back():
    from shopdesk.channels.twilio import callback_reference, with_reference

    url = with_reference("https://desk.example.com/webhooks/twilio/status", "c_1-20260501090000000-m_1-0")
    assert url == "https://desk.example.com/webhooks/twilio/status?ref=c_1-20260501090000000-m_1-0"
    assert callback_reference(url) == "c_1-20260501090000000-m_1-0"
    assert callback_reference("https://desk.example.com/webhooks/twilio/status") is None
    assert with_reference("https://x.example/s?a=1", "r") == "https://x.example/s?a=1&ref=r"


# ------------------------------------------------------------------------------ consent keywords

@pytest.mark.parametrize(("body", "expected"), [
    ("STOP", "stop"), (" stop\n", "stop"), ("Unsubscribe", "stop"), ("cancel", "stop"), ("QUIT", "stop"),
    ("optout", "stop"), ("START", "start"), ("yes", "start"), ("unstop", "start"),
    ("Stop please", None), ("HELP", None), ("stop.", None), ("", None), ("Please cancel my order", None)])
def test_a_message_that_is_only_one_of_twilios_keywords_is_a_consent_change_on_sms(body, expected):
    assert parse_inbound(_form(Body=body)).consent == expected


def test_whatsapp_has_keywords_only_where_advanced_opt_out_names_them():
    whatsapp = {"From": "whatsapp:+31612345678", "To": "whatsapp:+14155550100"}
    assert parse_inbound(_form(Body="STOP", **whatsapp)).consent is None
    assert parse_inbound(_form(Body="Basta", OptOutType="STOP", **whatsapp)).consent == "stop"
    assert parse_inbound(_form(Body="Volver", OptOutType="START", **whatsapp)).consent == "start"
    # the Messaging Service's own word list decides where it is on: its HELP (or anything else) changes nothing
    assert parse_inbound(_form(Body="STOP", OptOutType="HELP")).consent is None
