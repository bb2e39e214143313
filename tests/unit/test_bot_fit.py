"""The bot's answer held to the channel's limit (shopdesk.bot.fit): cut at a sentence, else a word, with an
ellipsis; the link and the closing question whole; nothing cut that cannot be cut sensibly."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shopdesk.bot import waited_on
from shopdesk.bot.decide import Decision, article_answer
from shopdesk.bot.fit import ELLIPSIS, MIN_EXCERPT_CHARS, excerpt, fit_answer
from shopdesk.kb import Article
from shopdesk.models import Direction, Message
from shopdesk.understanding import Understanding

SENTENCE = "Standard delivery takes two to four working days and costs 4.95 EUR within the country. "   # 88 chars
CLOSING = "\n\nDid this answer your question? Reply SOLVED, or tell us what is still missing."
URL = "https://help.example.com/en/shipping"


def understood() -> Understanding:
    return Understanding(language="en", language_confidence=1.0, sentiment="neutral", emotion=None, urgent=False,
                         intents=frozenset())


def answer(body: str, url: str | None = URL, action: str = "answer") -> Decision:
    article = Article(id="faq", title="Shipping", body=body, language="en", url=url)
    return Decision(action, understood(), "en", "faq", article=article if action == "answer" else None,  # type: ignore[arg-type]
                    text=article_answer(body, url, "en"), url=url)


def test_a_text_that_fits_is_left_whole():
    assert excerpt("Short and sweet.", 100) == "Short and sweet."
    assert fit_answer(answer("Short."), CLOSING, 1600) == (f"Short.\n\nMore: {URL}{CLOSING}", False)


def test_a_long_text_is_cut_after_the_last_whole_sentence_that_fits():
    text = SENTENCE * 20
    cut = excerpt(text, 500)
    assert cut is not None and len(cut) <= 500 and cut.endswith(". " + ELLIPSIS)
    assert text.startswith(cut.removesuffix(" " + ELLIPSIS))
    assert len(cut) > 500 - len(SENTENCE) - 2              # as many whole sentences as fit


def test_without_a_sentence_end_in_reach_it_is_cut_after_a_word():
    text = "word, " * 200                                     # one long sentence
    cut = excerpt(text, 300)
    assert cut is not None and len(cut) <= 300 and cut.endswith("word" + ELLIPSIS)    # no comma before the dots


def test_a_sentence_end_keeping_too_little_gives_way_to_a_word_boundary():
    text = "A" * 150 + ". " + "long words " * 100
    cut = excerpt(text, 600)
    assert cut is not None and cut.endswith(("long" + ELLIPSIS, "words" + ELLIPSIS)) and len(cut) > 500


def test_a_paragraph_end_is_a_sentence_end():
    text = ("Returns are free within thirty days of delivery for every item bought in the online shop " * 3).strip() \
        + "\n\n" + "More text " * 100
    cut = excerpt(text, 400)
    assert cut is not None and cut.endswith("online shop " + ELLIPSIS)


def test_full_width_sentence_ends_need_no_space():
    text = "配送には二日から四日かかります。" * 40
    cut = excerpt(text, 300)
    assert cut is not None and cut.endswith("。 " + ELLIPSIS) and len(cut) <= 300


@pytest.mark.parametrize("text", ["x" * 2000, "配送には二日から四日かかります" * 50])
def test_no_boundary_no_excerpt(text):
    assert excerpt(text, 500) is None


def test_room_for_less_than_the_minimum_is_no_excerpt():
    assert excerpt(SENTENCE * 10, MIN_EXCERPT_CHARS) is None


def test_the_whole_message_fits_with_the_link_and_the_question_whole():
    body = SENTENCE * 30
    message, cut = fit_answer(answer(body), CLOSING, 1600) or ("", False)
    assert cut and len(message) <= 1600
    head, link, question = message.split("\n\n")
    assert head.endswith(". " + ELLIPSIS) and link == f"More: {URL}" and "\n\n" + question == CLOSING


@pytest.mark.parametrize(("decision", "most"), [
    (answer(SENTENCE * 30, url=None), 1600),                    # no link: the rest would be lost
    (answer(SENTENCE * 30, url="https://example.com/" + "a" * 1400), 1600),   # the link leaves no room
    (answer(SENTENCE * 30, action="order"), 1600),              # an order's state: nothing to leave out
])
def test_what_cannot_be_cut_sensibly_is_not_sent(decision, most):
    assert fit_answer(decision, CLOSING, most) is None


def test_the_messages_a_conversation_waits_on_are_the_bots_answers_and_questions_not_its_closing_words():
    def bot(action: str | None, kind: str = "bot", author: str | None = "bot") -> Message:
        return Message(id="m_1", conversation_id="c_1", direction=Direction.OUTBOUND, text="x", kind=kind,
                       author=author, created_at=datetime(2026, 1, 1, tzinfo=UTC),
                       payload={"bot": {"action": action}} if action else {})
    assert [waited_on(bot(a)) for a in ("answer", "order", "verify", "resolve")] == [True, True, True, False]
    assert not waited_on(bot("answer", kind="acknowledgement", author=None))
    assert not waited_on(bot(None))
