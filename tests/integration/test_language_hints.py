"""What a provider, a browser or a mail client says of the customer's language reaches the understanding layer:
Telegram's ``from.language_code``, the widget visitor's ``Accept-Language`` and a mail's ``Content-Language``,
through the real handlers with the providers' sample bodies and the real secret token. Every one is a weak hint:
each is written from the app's, browser's or client's own language, not from the text, so a text the detector is
sure of keeps its language, and the hint decides only where the text does not (a word too short to tell its
language by takes the hint's) or agrees with it. A hint naming a language we do not answer, or a header that is
no header, decides nothing and never refuses the message."""

from __future__ import annotations

import json
from email.message import EmailMessage

import pytest

from shopdesk.dal.conversations import Conversations
from shopdesk.dal.table import Table
from shopdesk.logic.understand import hints_of, text_of
from shopdesk.understanding import understand
from tests.integration.helpers import agent
from tests.integration.test_admin_api import admin_call
from tests.integration.test_bot import KB, kb_import
from tests.integration.test_email import _deliver, _eml
from tests.integration.test_widget import _session
from tests.support import http_event, sample

SECRET = "test_secret_token-1"


def _telegram(desk, text: str, language_code: str | None, update_id: int = 174114370) -> None:
    body, _ = sample("telegram", "text_captured")
    update = json.loads(body)
    update["update_id"] = update_id
    update["message"]["text"] = text
    if language_code is not None:
        update["message"]["from"]["language_code"] = language_code
    answer = desk.invoke("inbound_telegram", http_event("POST", "/webhooks/telegram", json.dumps(update), {
        "content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET}))
    assert answer["statusCode"] == 200


def _only_conversation(desk) -> dict:
    status, body = agent(desk, "GET", "/agent/conversations", "alice", query="view=all")
    assert status == 200
    [conv] = body["items"]
    return agent(desk, "GET", f"/agent/conversations/{conv['id']}", "alice")[1]


def _inbound(desk, conversation_id: str):
    conv = Conversations(Table(desk.table_name), 16).get_with_messages(conversation_id)
    [message] = [m for m in conv.messages if m.direction.value == "inbound"]
    return message


def test_a_one_word_telegram_message_takes_the_language_its_app_is_in(desk):
    assert understand("hola").language is None                 # the word alone says no language
    _telegram(desk, "hola", "es")
    conv = _only_conversation(desk)
    assert conv["language"] == "es"
    message = _inbound(desk, conv["id"])
    assert message.payload["language_code"] == "es"
    decided = understand(text_of(message), hints_of(message))
    assert (decided.language, decided.language_confidence) == ("es", 1.0)


def test_a_telegram_language_we_do_not_answer_decides_nothing(desk):
    _telegram(desk, "hola", "fr")
    conv = _only_conversation(desk)
    assert conv["language"] is None
    message = _inbound(desk, conv["id"])
    decided = understand(text_of(message), hints_of(message))
    assert decided.language_confidence < 1.0 and decided.language != "fr"


@pytest.mark.parametrize("code", ["", "x" * 40, "es es", "<es>", 7])
def test_a_telegram_language_code_that_is_no_tag_is_not_kept(desk, code):
    _telegram(desk, "hola", code)                              # type: ignore[arg-type]
    conv = _only_conversation(desk)
    assert "language_code" not in (_inbound(desk, conv["id"]).payload or {})


# -- every hint is weak: an app's or a browser's interface language, like a mail client's locale ----------------

GERMAN = ("Guten Tag, ich habe vor zwei Wochen eine Jacke bestellt und sie ist immer noch nicht angekommen. "
          "Können Sie mir bitte sagen, wo meine Bestellung ist?\n")
ENGLISH = ("Hello, I ordered a jacket two weeks ago and it still has not arrived. "
           "Could you please tell me where my order is?\n")


def test_a_german_paragraph_from_an_english_telegram_app_is_german(desk):
    """Telegram's language_code is the app's interface language, not the text's: a German customer on an
    English-language app who writes German gets a German conversation."""
    _telegram(desk, GERMAN, "en")
    conv = _only_conversation(desk)
    assert conv["language"] == "de"
    message = _inbound(desk, conv["id"])
    assert message.payload["language_code"] == "en" and message.language == "de"
    found = understand(text_of(message), hints_of(message))
    assert found.language == "de" and found.language_confidence >= 0.7


def test_an_english_paragraph_from_a_german_telegram_app_stays_english(desk):
    _telegram(desk, ENGLISH, "de")
    conv = _only_conversation(desk)
    assert conv["language"] == "en"
    assert _inbound(desk, conv["id"]).language == "en"


def _widget_says(desk, text: str, accept_language: str | None) -> dict:
    session = _session(desk)
    headers = {"content-type": "application/json", "origin": "https://shop.example",
               "authorization": f"Bearer {session}"}
    if accept_language is not None:
        headers["accept-language"] = accept_language
    result = desk.invoke("webchat", http_event("POST", "/widget/messages",
                                               json.dumps({"client_message_id": "w1", "text": text}), headers))
    assert result["statusCode"] == 201, result
    return json.loads(result["body"])


def test_a_widget_message_takes_the_language_the_browser_prefers(desk):
    assert understand("oi").language != "pt"                   # the word alone is not read as Portuguese
    sent = _widget_says(desk, "oi", "pt-BR,pt;q=0.9,en;q=0.8")
    conv = _only_conversation(desk)
    assert conv["id"] == sent["conversation_id"] and conv["language"] == "pt"
    message = _inbound(desk, conv["id"])
    assert message.payload["accept_language"] == "pt"          # the language, not the browser's whole list
    decided = understand(text_of(message), hints_of(message))
    assert (decided.language, decided.language_confidence) == ("pt", 1.0)


def test_the_browsers_best_quality_wins_and_a_language_we_do_not_answer_is_passed_over(desk):
    _widget_says(desk, "oi", "fr-FR,fr;q=0.9,en;q=0.2,de;q=0.7")
    conv = _only_conversation(desk)
    assert _inbound(desk, conv["id"]).payload["accept_language"] == "de" and conv["language"] == "de"


def test_a_german_paragraph_from_an_english_browser_is_german(desk):
    """Accept-Language is the browser's (or its system's) interface language, not the text's."""
    _widget_says(desk, GERMAN, "en-US,en;q=0.9")
    conv = _only_conversation(desk)
    assert conv["language"] == "de"
    message = _inbound(desk, conv["id"])
    assert message.payload["accept_language"] == "en" and message.language == "de"


@pytest.mark.parametrize("header", ["fr-FR,fr;q=0.9,it;q=0.8", "*", ";;;q=,,,", "pt;q=abc", "pt;q=0",
                                    "pt-BR," + "x" * 2000, "\u00e9\u00e9-\u00e9\u00e9"])
def test_an_accept_language_naming_none_we_answer_or_malformed_is_ignored(desk, header):
    _widget_says(desk, "oi", header)
    conv = _only_conversation(desk)
    message = _inbound(desk, conv["id"])
    assert "accept_language" not in (message.payload or {})
    assert understand(text_of(message), hints_of(message)).language_confidence < 1.0


def test_the_acknowledgement_answers_a_one_word_telegram_message_in_its_apps_language(desk):
    assert admin_call(desk, "PUT", "/admin/routing", "[admins]", {"acknowledgements": True})[0] == 200
    _telegram(desk, "hola", "es")
    conv = _only_conversation(desk)
    [ack] = [m for m in conv["messages"] if m["kind"] == "acknowledgement"]
    assert "hola" in ack["text"].lower() or "gracias" in ack["text"].lower(), ack["text"]     # Spanish


def test_the_bot_answers_a_one_word_telegram_message_with_the_article_in_its_apps_language(desk):
    bot = desk                                                 # with the bot's tests' knowledge base and settings
    assert kb_import(bot, KB)[0] == 200
    assert admin_call(bot, "PUT", "/admin/bot", "[admins]", {"enabled": True, "fallback_language": "en",
                                                             "confidence_threshold": 0.26})[0] == 200
    article = {"title": "Envoltorio de regalo", "language": "es", "tags": ["regalo"],
               "body": "Envolvemos tu pedido para regalo por 3 EUR: elige «envolver para regalo» al pagar."}
    assert admin_call(bot, "PUT", "/admin/kb/articles/gift_wrap", "[admins]", article)[0] == 200
    assert understand("regalo").language is None
    _telegram(bot, "regalo", "es")
    conv = _only_conversation(bot)
    answers = [m["text"] for m in conv["messages"] if m["author"] == "bot" and m["direction"] == "outbound"]
    assert answers and "Envolvemos tu pedido para regalo" in answers[0], answers


# -- email: Content-Language (RFC 3282), the top-level header, else the chosen text part's -------------------------

def _mail_says(desk, raw: bytes) -> None:
    assert _deliver(desk, raw, "hint") == {"stored": 1, "duplicates": 0}      # never refused for its header


def _with_header(raw: bytes, value: bytes) -> bytes:
    """The mail with a top-level Content-Language written as given (no library re-encoding it)."""
    return raw.replace(b"\nSubject:", b"\nContent-Language: " + value + b"\nSubject:", 1)


def _danke(**parts: str) -> bytes:
    """A one-word German mail whose text part and HTML alternative carry the Content-Language given."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "Ada <ada@customer.example>", "support@shop.example", "Re: #1001"
    msg["Message-ID"] = "<danke@customer.example>"
    msg.set_content("Danke\n")
    msg.add_alternative("<p>Danke</p>", subtype="html")
    plain, html = msg.get_payload()
    for part, key in ((plain, "plain"), (html, "html")):
        if key in parts:
            part["Content-Language"] = parts[key]
    return bytes(msg)


def _decided(message):
    found = understand(text_of(message), hints_of(message))
    return found.language, found.language_confidence


@pytest.mark.parametrize("header", [b"de", b"de-DE, en", b"fr, de-AT"])
def test_a_one_word_mail_takes_the_first_language_we_answer_its_content_language_names(desk, header):
    assert understand("Danke").language_confidence < 1.0           # the text alone is not sure
    _mail_says(desk, _with_header(_eml(subject="Re: #1001", body="Danke\n"), header))
    conv = _only_conversation(desk)
    assert conv["language"] == "de"
    message = _inbound(desk, conv["id"])
    assert message.payload["content_language"] == "de"            # the language, not the header
    assert "accept_language" not in message.payload and hints_of(message) == ["de"]  # its own key, not a browser's
    assert _decided(message) == ("de", 1.0)                        # the hint's confidence: text and hint agree


def test_a_word_the_text_does_not_tell_takes_the_content_languages(desk):
    assert understand("Hallo").language is None                    # the word alone says no language
    _mail_says(desk, _with_header(_eml(subject="Re: #1001", body="Hallo\n"), b"de-DE"))
    conv = _only_conversation(desk)
    assert conv["language"] == "de"
    assert _decided(_inbound(desk, conv["id"])) == ("de", 1.0)


def test_a_german_mail_an_english_locale_client_marked_en_us_is_german(desk):
    """Outlook writes Content-Language from the sender's mailbox or client locale, not from the text."""
    _mail_says(desk, _with_header(_eml(subject="Bestellung", body=GERMAN), b"en-US"))
    conv = _only_conversation(desk)
    assert conv["language"] == "de"
    message = _inbound(desk, conv["id"])
    assert message.payload["content_language"] == "en" and message.language == "de"
    language, confidence = _decided(message)
    assert language == "de" and confidence >= 0.7


def test_an_english_mail_marked_de_stays_english(desk):
    _mail_says(desk, _with_header(_eml(subject="My order", body=ENGLISH), b"de"))
    conv = _only_conversation(desk)
    assert conv["language"] == "en"
    assert _decided(_inbound(desk, conv["id"]))[0] == "en"


@pytest.mark.parametrize("header", [b"de (German)", b"(German) de", b"de (Deutsch (Schweiz)), fr",
                                    b"(en \\) en) de"])
def test_a_content_languages_comments_are_not_read(desk, header):
    """RFC 3282's header is structured: comments (RFC 5322's CFWS, nested, with escapes) say no language."""
    _mail_says(desk, _with_header(_eml(subject="Re: #1001", body="Hallo\n"), header))
    conv = _only_conversation(desk)
    assert _inbound(desk, conv["id"]).payload["content_language"] == "de"
    assert conv["language"] == "de"


@pytest.mark.parametrize("header", [b"fr-FR, it", b"", b";;;,,,", b"*", b"de-DE, " + b"x" * 2000,
                                    "\u00e9\u00e9-\u00e9\u00e9".encode(), b"de de", b"<de>", b"(de)", b"fr (de)"])
def test_a_content_language_naming_none_we_answer_or_malformed_changes_nothing(desk, header):
    _mail_says(desk, _with_header(_eml(subject="Re: #1001", body="Danke\n"), header))
    message = _inbound(desk, _only_conversation(desk)["id"])
    assert "content_language" not in (message.payload or {}) and hints_of(message) == []
    assert understand(text_of(message), hints_of(message)) == understand("Danke")


def test_a_mail_without_content_language_is_read_by_its_text_as_before(desk):
    _mail_says(desk, _eml(subject="Re: #1001", body="Danke\n"))
    message = _inbound(desk, _only_conversation(desk)["id"])
    assert "content_language" not in (message.payload or {}) and hints_of(message) == []


def test_a_multipart_mail_without_one_on_top_takes_its_chosen_text_parts_content_language(desk):
    _mail_says(desk, _danke(plain="de", html="en"))                # text/plain is the part chosen, not the HTML
    message = _inbound(desk, _only_conversation(desk)["id"])
    assert message.payload["content_language"] == "de"
    assert _decided(message) == ("de", 1.0)


def test_the_top_level_content_language_wins_over_the_text_parts(desk):
    _mail_says(desk, _with_header(_danke(plain="tr"), b"de"))
    assert _inbound(desk, _only_conversation(desk)["id"]).payload["content_language"] == "de"


def test_a_content_language_on_the_part_not_chosen_decides_nothing(desk):
    _mail_says(desk, _danke(html="tr"))
    assert "content_language" not in (_inbound(desk, _only_conversation(desk)["id"]).payload or {})


def test_the_bot_reading_a_mail_itself_takes_its_content_language_as_a_hint(desk, monkeypatch):
    """Where the router understood nothing of the message (its reading failed), the bot reads the mail itself with
    the same hints as the router: the Content-Language decides a word the text does not tell."""
    from shopdesk.logic import understand as router_understanding

    def broken(*_args, **_kwargs):
        raise RuntimeError("the router's reading fails")

    monkeypatch.setattr(router_understanding, "understand", broken)
    assert kb_import(desk, KB)[0] == 200
    assert admin_call(desk, "PUT", "/admin/bot", "[admins]", {"enabled": True, "fallback_language": "en",
                                                              "confidence_threshold": 0.26})[0] == 200
    article = {"title": "Envoltorio de regalo", "language": "es", "tags": ["regalo"],
               "body": "Envolvemos tu pedido para regalo por 3 EUR: elige «envolver para regalo» al pagar."}
    assert admin_call(desk, "PUT", "/admin/kb/articles/gift_wrap", "[admins]", article)[0] == 200
    assert understand("regalo").language is None
    _mail_says(desk, _with_header(_eml(subject="Re: #1001", body="regalo\n"), b"es-ES"))
    conv = _only_conversation(desk)
    assert _inbound(desk, conv["id"]).sentiment is None                       # the router understood nothing
    answers = [m["text"] for m in conv["messages"] if m["author"] == "bot" and m["direction"] == "outbound"]
    assert answers and "Envolvemos tu pedido para regalo" in answers[0], answers
