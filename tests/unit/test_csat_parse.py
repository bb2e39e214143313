"""Survey replies understood as a score 1-5 (cases apart from the evaluation set in tests/eval)."""



from __future__ import annotations

import pytest

from shopdesk.csat.parse import parse_rating


@pytest.mark.parametrize(("text", "score"), [
    ("csat:3", 3), ("5️⃣", 5), ("3/5 could be faster", 3), ("2 von 5", 2), ("rating: 4", 4),
    ("⭐️⭐️⭐️⭐️", 4), ("not bad at all", 3), ("Muito obrigado, excelente", 5), ("bagus sekali", 5),
    ("really bad", 1), ("no muy bueno", 2), ("çok güzel", 5), ("veľmi slabé", 1), ("👌", 4),
    ("everything was great!", 5), ("Sehr zufrieden", 5), ("biasa", 3),
])
def test_answers_are_understood(text, score):
    found = parse_rating(text)
    assert found is not None and found.score == score, found


@pytest.mark.parametrize("text", [
    "", "   ", "5 items arrived broken", "6", "10/10", "1001", "Can I change the address?",
    "I ordered 3 shirts and got 2", "is it good quality?", "hello, my order #1001 has not arrived yet, "
    "can you check the tracking number for me please because it has been a week and it is not good",
])
def test_messages_that_are_not_answers_are_left_alone(text):
    assert parse_rating(text) is None


def test_the_comment_is_the_whole_reply_when_it_says_more_than_the_rating():
    assert parse_rating("4 - quick, but the parcel was damaged").comment == "4 - quick, but the parcel was damaged"
    assert parse_rating("4 stars").comment is None
    assert parse_rating("⭐⭐⭐⭐⭐ Ana was lovely").comment == "⭐⭐⭐⭐⭐ Ana was lovely"
    assert parse_rating("very good").comment is None


def test_a_button_payload_is_exact():
    assert parse_rating("csat:5").source == "button"
    assert parse_rating("csat:9") is None
