"""Who may correct a conversation's routing, and how the timeline says what changed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shopdesk.logic.reroute import RoutingChange, check_allowed, describe, teams_of
from shopdesk.models import Agent, Conversation, ConversationStatus, CustomerRef, Priority, ReplyRoute

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)


def conversation(**fields) -> Conversation:
    return Conversation(id="c_1", customer=CustomerRef(id="u_1"), channel="sms",
                        route=ReplyRoute(channel="sms", to="+31600000000", sender="+14155550100"),
                        created_at=NOW, updated_at=NOW, **fields)


@pytest.mark.parametrize("roles", [{"supervisors"}, {"admins"}, {"admins", "supervisors"}])
def test_leads_may_change_anything_on_any_conversation(roles):
    for conv in (conversation(), conversation(assignee="alice", priority=Priority.URGENT)):
        check_allowed(conv, RoutingChange(priority=Priority.LOW, team="billing", skills=[]), "lead", roles)


def test_the_assignee_may_raise_the_priority_set_skills_and_change_team():
    conv = conversation(assignee="alice")
    for change in (RoutingChange(priority=Priority.URGENT), RoutingChange(priority=Priority.NORMAL),
                   RoutingChange(skills=["refunds"]), RoutingChange(team="billing")):
        check_allowed(conv, change, "alice", set())


def test_the_assignee_may_not_lower_the_priority():
    with pytest.raises(PermissionError, match="supervisors or admins"):
        check_allowed(conversation(assignee="alice", priority=Priority.HIGH), RoutingChange(priority=Priority.NORMAL),
                      "alice", set())


@pytest.mark.parametrize("assignee", [None, "bob"])
def test_anyone_else_may_change_nothing(assignee):
    with pytest.raises(PermissionError, match="assignee"):
        check_allowed(conversation(assignee=assignee), RoutingChange(skills=["refunds"]), "alice", {"agents"})


def test_the_timeline_says_who_changed_what_and_the_note():
    conv = conversation(assignee="alice", skills=["returns"])
    names = {"lead": "Lee Lead", "alice": "alice@shop.example"}       # as access.agent_names says them
    entry = describe(conv, Priority.URGENT, "billing", [], "lead", "alice", "VIP", names)
    assert entry.text == ("Routing changed by Lee Lead: priority from normal to urgent; team from default to billing; "
                          "skills from returns to none. alice@shop.example is not in billing: back in the queue. "
                          "Note: VIP")
    assert entry.author == "lead"
    assert entry.event is not None and entry.event.kind == "routing_changed"
    assert entry.event.params == {"by": "lead", "note": "VIP", "changes": [
        {"change": "priority", "from": "normal", "to": "urgent"},
        {"change": "team", "from": "default", "to": "billing"},
        {"change": "skills", "from": ["returns"], "to": []},
        {"change": "not_in_team", "agent": "alice", "team": "billing", "queued": True}]}
    pending = conversation(status=ConversationStatus.PENDING, assignee="alice")
    entry = describe(pending, Priority.NORMAL, "billing", [], "lead", "alice", None, {})
    assert entry.text == ("Routing changed by an agent: team from default to billing. An agent is not in billing: "
                          "unassigned")
    assert entry.event.params["changes"][-1]["queued"] is False and "note" not in entry.event.params


def test_an_agent_is_in_every_team_of_theirs():
    assert teams_of(Agent(id="alice", teams=["billing", "returns"])) == {"billing", "returns"}
