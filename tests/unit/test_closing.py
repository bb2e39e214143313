"""Whether a message only thanks (shopdesk.understanding.closing): kept on a resolved conversation when it does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shopdesk.understanding.closing import MAX_WORDS, only_thanks

EVAL = Path(__file__).resolve().parents[1] / "eval" / "thanks_after_resolve.jsonl"


def test_no_message_of_the_evaluation_set_that_asks_for_something_is_taken_for_thanks():
    # the costly mistake: a request kept on a resolved conversation, unseen (bench.thanks measures the rest)
    rows = [json.loads(line) for line in EVAL.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert [r["text"] for r in rows if not r["only_thanks"] and only_thanks(r["text"])] == []


@pytest.mark.parametrize("text", ["thanks!", "Muchas gracias", "obrigado 🙏", "Vielen Dank!", "teşekkürler",
                                  "terima kasih", "ďakujem", "👍", "🙏🏽", "ok, thank you, bye"])
def test_thanks_and_closing_emojis_in_any_of_the_languages(text):
    assert only_thanks(text)


@pytest.mark.parametrize("text", [
    None, "", "ok", "👎", "thanks 😤", "thanks?", "¿gracias?", "Thank you. Where is the invoice",
    "thanks, wrong colour", "no thanks", "thanks, I want to talk to a person", "thanks " + "so " * MAX_WORDS,
    "danke, aber es ist kaputt"])
def test_anything_more_than_thanks_or_an_unhappy_one_is_not(text):
    assert not only_thanks(text)
