"""Agents in several teams: the model, its items, the admin settings and the routing choices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from shopdesk.dal import items as it
from shopdesk.dal.table import deserialize, serialize
from shopdesk.logic.assign import MAX_PER_DRAIN, choose, eligible, waiting_in
from shopdesk.models import Agent, Conversation, CustomerRef, Presence, Priority, ReplyRoute
from shopdesk.models.admin import AgentSettings

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def _agent(agent_id: str = "alice", **changes: Any) -> Agent:
    return Agent(**{"id": agent_id, "presence": Presence.ONLINE, "capacity": 3, **changes})


def _conv(conv_id: str = "c_1", team: str = "default", priority: Priority = Priority.NORMAL,
          waiting: timedelta = timedelta(0), **changes: Any) -> Conversation:
    return Conversation(**{"id": conv_id, "status": "open", "priority": priority, "team": team,
                           "customer": CustomerRef(id="u_1"), "channel": "sms",
                           "route": ReplyRoute(channel="sms", to="+31600000000", sender="+14155550100"),
                           "created_at": T0, "updated_at": T0, "waiting_since": T0 + waiting, **changes})


# ------------------------------------------------------------------------------ the model and its items

def test_a_new_agent_is_in_the_default_team():
    assert Agent(id="carol").teams == ["default"]


def test_an_agent_has_at_least_one_team():
    with pytest.raises(ValidationError):
        Agent(id="carol", teams=[])


def test_the_agent_item_holds_the_teams_and_is_in_no_pool_itself():
    item = it.agent_item(_agent(teams=["billing", "returns"]))
    assert (item["PK"], item["SK"], item["teams"]) == ("AGENT#alice", "META", ["billing", "returns"])
    assert "PoolPK" not in item and "PoolSK" not in item and "team" not in item
    assert item["membership_version"] == 1


def test_a_membership_puts_the_agent_in_one_teams_pool_under_its_presence():
    item = it.membership_item("alice", "returns", Presence.ONLINE)
    assert (item["PK"], item["SK"]) == ("AGENT#alice", "TEAM#returns")
    assert (item["PoolPK"], item["PoolSK"]) == ("POOL#returns", "online#alice")


def test_an_agent_round_trips_through_its_item():
    agent = _agent(teams=["billing", "returns"], skills=["refunds"], languages=["de"], active=2)
    assert it.agent_from_item(deserialize(serialize(it.agent_item(agent)))) == agent


def test_an_item_from_before_agents_had_several_teams_reads_as_one_team():
    # Given an agent item as it was written when an agent had one team (Pool keys on the item itself)
    old = {"PK": "AGENT#bob", "SK": "META", "type": "agent", "id": "bob", "presence": "online", "capacity": 3,
           "active": 1, "team": "returns", "PoolPK": "POOL#returns", "PoolSK": "online#bob"}
    # Then it reads as an agent of that one team
    assert it.agent_from_item(old).teams == ["returns"]
    assert it.agent_from_item({**old, "team": None}).teams == ["default"]


# ------------------------------------------------------------------------------ admin settings

def test_settings_take_several_teams():
    assert AgentSettings.model_validate({"teams": ["billing", "returns"]}).teams == ["billing", "returns"]


def test_settings_still_take_one_team_as_before_and_show_it_as_teams():
    settings = AgentSettings.model_validate({"capacity": 2, "team": "returns"})
    assert settings.teams == ["returns"]
    assert settings.model_dump() == {"name": None, "capacity": 2, "teams": ["returns"], "skills": [], "languages": []}


@pytest.mark.parametrize(("body", "why"), [
    ({"teams": []}, "at least 1"),
    ({"teams": ["returns", "returns"]}, "must not repeat"),
    ({"teams": ["Returns Team"]}, "pattern"),
    ({"teams": ["-x"]}, "pattern"),
    ({"teams": [f"t{i}" for i in range(21)]}, "at most 20"),
    ({"teams": ["billing"], "team": "returns"}, "not both"),
])
def test_settings_refuse_teams_that_make_no_sense(body, why):
    with pytest.raises(ValidationError, match=why):
        AgentSettings.model_validate(body)


# ------------------------------------------------------------------------------ who may take what

def test_an_agent_takes_conversations_of_every_team_they_are_in_and_of_no_other():
    agent = _agent(teams=["billing", "returns"])
    assert eligible(agent, _conv(team="billing")) and eligible(agent, _conv(team="returns"))
    assert not eligible(agent, _conv(team="default"))


def test_a_conversation_is_never_given_to_an_agent_outside_its_team_even_if_they_are_free():
    busy_member = _agent("alice", teams=["returns"], active=2)
    idle_outsider = _agent("bob", teams=["billing"])
    assert choose([busy_member, idle_outsider], _conv(team="returns"), None) is busy_member
    assert choose([idle_outsider], _conv(team="returns"), None) is None


def test_a_sticky_previous_agent_who_left_the_team_is_not_chosen():
    conv = _conv(team="returns", previous_agent="bob", previous_agent_at=T0)
    member = _agent("alice", teams=["returns"])
    left = _agent("bob", teams=["billing"])
    assert choose([member, left], conv, timedelta(days=3650)) is member


class _Queues:
    def __init__(self, by_team: dict[str, list[Conversation]]):
        self.by_team = by_team

    def list_queue(self, team: str, limit: int, cursor: str | None = None) -> tuple[list[Conversation], None]:
        return self.by_team.get(team, [])[:limit], None


def test_waiting_conversations_of_several_teams_are_merged_most_urgent_then_longest_waiting():
    # Given each team's queue in its own order (as the Queue index returns it)
    billing = [_conv("c_b_high", "billing", Priority.HIGH, timedelta(minutes=30)),
               _conv("c_b_old", "billing", waiting=timedelta(minutes=5)),
               _conv("c_b_new", "billing", waiting=timedelta(minutes=40))]
    returns = [_conv("c_r_high", "returns", Priority.HIGH, timedelta(minutes=20)),
               _conv("c_r_oldest", "returns", waiting=timedelta(minutes=1))]
    # When they are read for a drain of both teams
    merged = waiting_in(["billing", "returns"], _Queues({"billing": billing, "returns": returns}))  # type: ignore
    # Then the high ones come first, longest waiting first, then the normal ones the same way
    assert [c.id for c in merged] == ["c_r_high", "c_b_high", "c_r_oldest", "c_b_old", "c_b_new"]


def test_a_merged_queue_is_cut_to_the_most_one_drain_takes():
    many = {t: [_conv(f"c_{t}_{i:03d}", t, waiting=timedelta(seconds=i)) for i in range(MAX_PER_DRAIN)]
            for t in ("billing", "returns")}
    merged = waiting_in(["billing", "returns"], _Queues(many))  # type: ignore[arg-type]
    assert len(merged) == MAX_PER_DRAIN
    assert merged[:2] == [many["billing"][0], many["returns"][0]]
