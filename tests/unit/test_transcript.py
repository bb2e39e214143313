"""The transcript email (shopdesk.logic.transcript.render): seven languages, messages only, escaped HTML."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources
from zoneinfo import ZoneInfo

import pytest

from shopdesk.logic.transcript import LANGUAGES, customer_messages, language_for, render
from shopdesk.models import Attachment, Conversation, CustomerRef, Direction, Message, ReplyRoute


def _conv(language: str | None = None) -> Conversation:
    at = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
    msgs = [
        Message(id="m1", conversation_id="c_1", direction=Direction.INBOUND, text="Where is <b>my</b> parcel?",
                created_at=at),
        Message(id="m2", conversation_id="c_1", direction=Direction.NOTE, text="VIP, be quick", created_at=at),
        Message(id="m3", conversation_id="c_1", direction=Direction.SYSTEM, text="Assigned to alice", created_at=at),
        Message(id="m4", conversation_id="c_1", direction=Direction.OUTBOUND, text="On its way", status="delivered",
                created_at=at, attachments=[Attachment(filename="label.pdf", content_type="application/pdf")]),
        Message(id="m5", conversation_id="c_1", direction=Direction.OUTBOUND, text="never sent", status="failed",
                created_at=at),
    ]
    return Conversation(id="c_1", customer=CustomerRef(id="u_1", name="Ana & Co"), channel="sms",
                        route=ReplyRoute(channel="sms", to="+1", sender="+2"), created_at=at, updated_at=at,
                        messages=msgs, language=language)


def test_only_what_the_customer_saw_goes_in():
    assert [m.id for m in customer_messages(_conv())] == ["m1", "m4"]


def test_the_html_part_escapes_what_customers_wrote_and_the_text_part_keeps_it():
    out = render(_conv(), "en", "Example Shop", ZoneInfo("Europe/Berlin"))
    assert out.subject == "Your conversation with Example Shop"
    assert "&lt;b&gt;my&lt;/b&gt;" in out.html and "<b>my</b>" not in out.html
    assert "Ana &amp; Co" in out.html and "Ana & Co" in out.text
    assert "Where is <b>my</b> parcel?" in out.text
    assert "2026-12-03 10:30 CET" in out.text                        # the calendar's zone
    assert "label.pdf" in out.text and "reply to this email" in out.text
    for part in (out.text, out.html):
        assert "VIP" not in part and "Assigned" not in part and "never sent" not in part


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_has_every_word_and_renders(language):
    strings = json.loads(resources.files("shopdesk").joinpath("templates/transcript/strings.json").read_text())
    assert set(strings[language]) == set(strings["en"])
    out = render(_conv(), language, "Loja")
    assert "Loja" in out.subject and "On its way" in out.text and f'lang="{language}"' in out.html
    assert "{{" not in out.text and "{{" not in out.html


def test_the_language_is_the_conversations_else_the_shops_else_english():
    assert language_for(_conv("es"), "de") == "es"
    assert language_for(_conv("fr"), "de") == "de"
    assert language_for(_conv(None), "xx") == "en"
