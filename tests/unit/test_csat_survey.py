"""The survey's rules: who gets one, on which channel with buttons or words, the messaging windows, the language,
and a button's answer read back (pure: no AWS)."""

# ruff: noqa: RUF001 - customer words and emoji on purpose

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from shopdesk.api.bodies import forbidding
from shopdesk.channels.base import OutboundRequest
from shopdesk.channels.whatsapp_cloud import WhatsAppSender
from shopdesk.config import TemplateSpec
from shopdesk.csat import CsatSettings, texts
from shopdesk.csat.answer import is_comment, pressed, rating_of
from shopdesk.csat.survey import applies, plan
from shopdesk.dal.csat import Pending, Resolution
from shopdesk.models import (
    Conversation,
    ConversationStatus,
    CustomerRef,
    Direction,
    Identity,
    Message,
    ReplyRoute,
    SystemEvent,
)

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
ON = CsatSettings(enabled=True)


def _resolution(channel: str = "sms", provider: str = "twilio", *, wrote_ago: timedelta = timedelta(hours=1),
                resolved_by: str | None = "alice", team: str = "default", language: str | None = "en") -> Resolution:
    route = ReplyRoute(channel=channel, to="+31600000000", sender="+14155550100", provider=provider,
                       last_inbound_at=NOW - wrote_ago)
    conv = Conversation(id="c_1", status=ConversationStatus.RESOLVED, team=team, language=language,
                        customer=CustomerRef(id="u_1", name="Ada", identities=[Identity(kind="phone",
                                                                                        address="+31600000000")]),
                        channel=channel, route=route, created_at=NOW - timedelta(days=1), updated_at=NOW)
    return Resolution(conversation=conv, resolved_by=resolved_by, resolved_at=NOW.isoformat(),
                      cycle=(NOW - timedelta(days=1)).isoformat(), handed_off=False)


# ---------------------------------------------------------------- who gets one

def test_only_a_persons_resolve_gets_a_survey_when_the_settings_are_on():
    assert applies(ON, _resolution())
    assert not applies(CsatSettings(), _resolution())                       # off by default
    assert not applies(ON, _resolution(resolved_by="bot"))                  # the bot resolved it alone
    assert not applies(ON, _resolution(resolved_by="system"))


def test_the_settings_choose_channels_or_teams():
    by_channel = CsatSettings(enabled=True, when="channels", channels=["whatsapp"])
    assert applies(by_channel, _resolution("whatsapp", "whatsapp_cloud"))
    assert not applies(by_channel, _resolution("sms"))
    by_team = CsatSettings(enabled=True, when="teams", teams=["vip"])
    assert applies(by_team, _resolution(team="vip")) and not applies(by_team, _resolution(team="default"))
    with pytest.raises(ValidationError):
        CsatSettings(enabled=True, when="teams")
    # a field it does not know: refused in a body (the route's forbidding copy), ignored in stored settings
    with pytest.raises(ValidationError):
        forbidding(CsatSettings).model_validate({"enabled": True, "colour": "blue"})
    assert CsatSettings.model_validate({"enabled": True, "colour": "blue"}).model_dump() == \
        CsatSettings(enabled=True).model_dump()


# ---------------------------------------------------------------- buttons or words, and the windows

@pytest.mark.parametrize(("channel", "provider"), [("whatsapp", "whatsapp_cloud"), ("messenger", "messenger"),
                                                   ("instagram", "instagram"), ("telegram", "telegram")])
def test_channels_with_buttons_get_five_of_them(channel, provider):
    chosen = plan(ON, _resolution(channel, provider), "en", [], NOW)
    assert chosen.kind == "survey" and chosen.text == texts.text("en", "question")
    assert [c["id"] for c in chosen.choices] == ["csat:1", "csat:2", "csat:3", "csat:4", "csat:5"]
    assert all(len(c["title"]) <= 20 for lang in texts.LANGUAGES for c in texts.choices(lang))


@pytest.mark.parametrize(("channel", "provider"), [("sms", "twilio"), ("email", "ses"), ("whatsapp", "twilio")])
def test_channels_without_buttons_get_words(channel, provider):
    chosen = plan(ON, _resolution(channel, provider), "en", [], NOW)
    assert chosen.kind == "survey" and not chosen.choices
    assert "Reply with a number from 1 (very bad) to 5 (very good)." in chosen.text


def test_the_widget_gets_the_buttons_and_the_words():
    chosen = plan(ON, _resolution("webchat", "webchat"), "en", [], NOW)
    assert len(chosen.choices) == 5 and "number from 1" in chosen.text


def test_a_closed_whatsapp_window_sends_the_configured_template_in_the_customers_language():
    templates = [TemplateSpec(name="csat_survey", language="en", body="Hi {{1}}, rate us 1-5", parameters=1),
                 TemplateSpec(name="csat_survey", language="es", body="Hola {{1}}, valora 1-5", parameters=1)]
    settings = CsatSettings(enabled=True, template="csat_survey")
    chosen = plan(settings, _resolution("whatsapp", "whatsapp_cloud", wrote_ago=timedelta(hours=30)), "es",
                  templates, NOW)
    assert chosen.kind == "survey" and chosen.text == "Hola Ada, valora 1-5"
    assert chosen.template == {"name": "csat_survey", "language": "es", "parameters": ["Ada"], "provider_ref": None}
    # a language without one: the English template
    assert plan(settings, _resolution("whatsapp", "whatsapp_cloud", wrote_ago=timedelta(days=2)), "sk",
                templates, NOW).template["language"] == "en"


def test_a_closed_window_without_a_template_is_skipped_with_the_reason():
    chosen = plan(ON, _resolution("whatsapp", "whatsapp_cloud", wrote_ago=timedelta(hours=25)), "en", [], NOW)
    assert chosen.kind == "skip" and "24-hour window is closed" in chosen.text and "no survey template" in chosen.text
    assert chosen.skipped == SystemEvent(kind="csat_skipped", params={"reason": "no_template_configured"})
    named = plan(CsatSettings(enabled=True, template="csat_survey"),
                 _resolution("whatsapp", "whatsapp_cloud", wrote_ago=timedelta(hours=25)), "en", [], NOW)
    assert "no approved template named 'csat_survey'" in named.text
    assert named.skipped == SystemEvent(kind="csat_skipped", params={"reason": "no_template",
                                                                     "template": "csat_survey"})
    messenger = plan(ON, _resolution("messenger", "messenger", wrote_ago=timedelta(days=2)), "en", [], NOW)
    assert messenger.kind == "skip" and "only a person's own reply" in messenger.text
    assert messenger.skipped == SystemEvent(kind="csat_skipped", params={"reason": "window_closed",
                                                                         "channel": "messenger"})
    assert plan(ON, _resolution("sms", wrote_ago=timedelta(days=30)), "en", [], NOW).kind == "survey"


def test_a_customer_who_unsubscribed_from_the_channel_gets_no_survey():
    resolution = _resolution("sms")
    route = resolution.conversation.route.model_copy(update={"opted_out": True})
    conv = resolution.conversation.model_copy(update={"route": route, "routes": {"sms": route}})
    chosen = plan(ON, dataclasses.replace(resolution, conversation=conv), "en", [], NOW)
    assert chosen.kind == "skip" and "unsubscribed from SMS" in chosen.text
    assert chosen.skipped == SystemEvent(kind="csat_skipped", params={"reason": "opted_out", "channel": "sms"})


# ---------------------------------------------------------------- language

@pytest.mark.parametrize(("candidates", "expected"), [(("tr", "en"), "tr"), (("sk-SK", "en"), "sk"),
                                                      ((None, "de"), "de"), (("fr", "es"), "es"),
                                                      (("fr", None), "en")])
def test_the_survey_speaks_the_conversations_language_else_the_shops_else_english(candidates, expected):
    assert texts.language_of(*candidates) == expected


def test_every_language_has_every_text():
    keys = set(texts._texts()["en"])
    for language in texts.LANGUAGES:
        assert set(texts._texts()[language]) == keys, language
        assert len(texts.choices(language)) == 5
    assert plan(ON, _resolution(language="tr"), "tr", [], NOW).text.startswith("Aldığınız yardımı")


# ---------------------------------------------------------------- answers

def _inbound(text: str | None, payload: dict | None = None) -> Message:
    return Message(id="m_1", conversation_id="", direction=Direction.INBOUND, text=text, created_at=NOW,
                   payload=payload)


@pytest.mark.parametrize(("payload", "score"), [
    ({"type": "list_reply", "id": "csat:5", "title": "5 Very good"}, 5),          # WhatsApp list row
    ({"quick_reply": {"payload": "csat:2"}}, 2),                                   # Messenger quick reply
    ({"callback_query_id": "1", "data": "csat:4", "label": "4 Good"}, 4),          # Telegram inline keyboard
    ({"choice": "csat:1"}, 1),                                                     # the widget
    ({"data": "bot_yes"}, None),
])
def test_a_pressed_button_is_its_score_on_every_channel(payload, score):
    assert pressed(payload) == score


def test_a_reply_is_read_as_a_rating_in_words_emoji_or_digits():
    assert rating_of(_inbound("😍")).score == 5
    assert rating_of(_inbound("veľmi spokojný")).score == 5
    assert rating_of(_inbound("4/5 thanks")).score == 4
    assert rating_of(_inbound("where is my order?")) is None
    assert rating_of(_inbound("5 Very good", {"id": "csat:5"})).source == "button"


def test_a_pending_survey_is_open_until_its_window_ends():
    pending = Pending.of({"conversation_id": "c_1", "cycle": "x", "state": "asked", "until": "2026-12-10T12:00:00Z"})
    assert pending is not None and pending.open_at("2026-12-10T11:59:59Z") and not pending.open_at(
        "2026-12-10T12:00:00Z")
    assert Pending.of({"state": "asked"}) is None and Pending.of(None) is None


# ---------------------------------------------------------------- WhatsApp: a list for five choices

def test_whatsapp_sends_five_choices_as_a_list_and_three_as_buttons():
    sender = WhatsAppSender(None, "100")  # type: ignore[arg-type]
    five = OutboundRequest(channel="whatsapp", to="31600000000", sender="100", text="How did we do?",
                           choices=tuple((c["id"], c["title"]) for c in texts.choices("de")))
    [body] = sender.messages(five)
    assert body["interactive"]["type"] == "list"
    rows = body["interactive"]["action"]["sections"][0]["rows"]
    assert [r["id"] for r in rows] == [f"csat:{n}" for n in range(1, 6)] and rows[4]["title"] == "5 Sehr gut"
    assert len(body["interactive"]["action"]["button"]) <= 20
    two = OutboundRequest(channel="whatsapp", to="31600000000", sender="100", text="Solved?",
                          choices=(("bot_yes", "Yes"), ("bot_no", "No")))
    [body] = sender.messages(two)
    assert body["interactive"]["type"] == "button" and len(body["interactive"]["action"]["buttons"]) == 2


def test_an_email_survey_stays_in_the_customers_thread():
    from shopdesk.csat.survey import email_thread

    route = ReplyRoute(channel="email", to="ada@example.com", sender="support@shop.example", provider="ses",
                       context={"subject": "My parcel", "message_id": "<a@mail>", "references": ["<a@mail>"]})
    subject, payload = email_thread(route)
    assert subject == "Re: My parcel"
    assert payload == {"email": {"in_reply_to": "<a@mail>", "references": ["<a@mail>"]}}
    assert email_thread(_resolution().conversation.route) == (None, {})


def test_telegram_puts_five_choices_one_per_row():
    from shopdesk.channels.telegram import TelegramSender

    request = OutboundRequest(channel="telegram", to="4242", sender="bot", text="How did we do?",
                              choices=tuple((c["id"], c["title"]) for c in texts.choices("sk")))
    [(method, body)] = TelegramSender("http://127.0.0.1:9", "123:abc")._calls(request)
    assert method == "sendMessage"
    assert [[b["callback_data"] for b in row] for row in body["reply_markup"]["inline_keyboard"]] == [
        [f"csat:{n}"] for n in range(1, 6)]


def test_a_question_after_a_rating_is_a_new_request_not_its_comment():
    assert is_comment("The courier was late though")
    assert not is_comment("And where is my other order?")
    assert not is_comment("¿Y mi otro pedido")
    assert not is_comment("   ") and not is_comment(None)


@pytest.mark.parametrize("text", [
    "Also my other order hasn't arrived", "I need to speak to a person about a refund", "Mi otro pedido no ha llegado",
    "Ich möchte mit einem Mitarbeiter sprechen", "I was charged twice for it", "Meu outro pedido ainda não chegou",
    "I need it urgently for tomorrow"])
def test_a_request_after_a_rating_is_not_its_comment_even_without_a_question_mark(text):
    assert not is_comment(text)


@pytest.mark.parametrize("text", [
    "The courier was late though", "Alice was lovely, very quick", "Muy amables, gracias",
    "Die Lieferung war zu langsam", "Atendimento excelente"])
def test_a_remark_about_the_help_is_its_comment(text):
    assert is_comment(text)


@pytest.mark.parametrize("text", [
    "El agente fue muy amable", "The agent was very kind", "Someone finally helped me, thank you",
    "O atendente foi muito simpático", "Der Mitarbeiter war sehr freundlich", "Müşteri temsilcisi çok nazikti",
    "Admin-nya ramah sekali", "Pracovník bol veľmi milý"])
def test_a_comment_about_the_agent_is_its_comment_not_a_request_for_a_person(text):
    assert is_comment(text)


@pytest.mark.parametrize("text", [
    "agent", "Quiero hablar con una persona", "Me passa pra um atendente", "Verbinden Sie mich mit einem Menschen",
    "temsilci istiyorum", "sambungkan ke admin", "spojte ma s operátorom"])
def test_a_request_for_a_person_after_a_rating_is_not_its_comment(text):
    assert not is_comment(text)
