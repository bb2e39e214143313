"""Who an @ in a note names (shopdesk.logic.mentions.find_mentions)."""

from __future__ import annotations

import pytest

from shopdesk.errors import BadRequest
from shopdesk.logic.mentions import find_mentions
from shopdesk.models import Agent

AGENTS = [Agent(id="ana", name="Ana Lima", capacity=3), Agent(id="bob", name="Bob", capacity=3),
          Agent(id="bo", name="Bo Chen", capacity=3), Agent(id="carl", name="Ana Lima-Souza", capacity=3)]


def ids(text: str, agents=AGENTS) -> list[str]:
    return [a.id for a in find_mentions(text, agents)]


@pytest.mark.parametrize("text,expected", [
    ("@ana please", ["ana"]),
    ("@Ana Lima can you check", ["ana"]),                  # a display name with a space
    ("@ANA LIMA-SOUZA knows", ["carl"]),                   # the longest name wins, any case
    ("@bob and @bo", ["bob", "bo"]),                        # order of first mention
    ("@bobby is not bob", []),                             # a name ends at a word boundary
    ("(@bob), thanks", ["bob"]),
    ("@bob's order", ["bob"]),
    ("mail bob@example.com", []),                          # an address names nobody
    ("@bob @bob @Bob", ["bob"]),                           # once each
    ("@nobody here", []),
    ("@", []),
])
def test_mentions_name_agents_by_id_or_display_name(text, expected):
    assert ids(text) == expected


def test_an_id_wins_over_a_display_name_of_the_same_length():
    agents = [Agent(id="max", name="Maxine", capacity=1), Agent(id="maxine", name="M", capacity=1)]
    assert ids("@maxine hi", agents) == ["maxine"]


def test_a_display_name_two_agents_share_is_refused_naming_them():
    agents = [Agent(id="alex1", name="Alex", capacity=1), Agent(id="alex2", name="Alex", capacity=1)]
    with pytest.raises(BadRequest, match=r"alex1, alex2"):
        find_mentions("@Alex please", agents)
    assert ids("@alex2 please", agents) == ["alex2"]
