"""What the web inbox reads besides conversations: the count of each view and the agents to transfer to."""

from __future__ import annotations

from tests.integration.helpers import agent, customer_writes, online, teams
from tests.integration.test_admin_api import admin_call


def counts(desk, who: str, groups: str | None = None) -> dict[str, int]:
    status, body = agent(desk, "GET", "/agent/conversations/counts", who, groups=groups)
    assert status == 200, body
    return body["views"]


def test_counts_per_view_follow_assignment_status_and_the_callers_teams(desk):
    # Given alice online, then away, and three customers writing
    online(desk, "alice")
    mine = customer_writes(desk, "+31612349001", "hi", "SMov1")
    desk.drain_queue(desk.work_queue_url, "router")
    assert agent(desk, "PUT", "/agent/me/presence", "alice", {"presence": "away"})[0] == 200
    customer_writes(desk, "+31612349002", "hi", "SMov2")
    customer_writes(desk, "+31612349003", "hi", "SMov3")
    desk.drain_queue(desk.work_queue_url, "router")

    # Then the badges say one of hers, two waiting in her team's queue, three in all
    assert counts(desk, "alice") == {"mine": 1, "unassigned": 2, "all": 3, "mentions": 0}

    # When she snoozes hers it still counts as hers; resolved, it is history and counts nowhere
    agent(desk, "POST", f"/agent/conversations/{mine}/status", "alice", {"status": "snoozed"})
    assert counts(desk, "alice")["mine"] == 1
    agent(desk, "POST", f"/agent/conversations/{mine}/status", "alice", {"status": "resolved"})
    assert counts(desk, "alice") == {"mine": 0, "unassigned": 2, "all": 2, "mentions": 0}

    # And an agent of another team counts none of her team's conversations (the lists would not show them)
    agent(desk, "GET", "/agent/me", "carol")
    teams(desk, "billing")
    assert admin_call(desk, "PUT", "/admin/agents/carol", "[admins]", {"capacity": 3, "teams": ["billing"]})[0] == 200
    assert counts(desk, "carol") == {"mine": 0, "unassigned": 0, "all": 0, "mentions": 0}
    assert agent(desk, "GET", "/agent/conversations", "carol", query="view=all")[1]["items"] == []

    # until one is transferred to her: hers, in her "all" too (held in another team), once in alice's
    waiting = agent(desk, "GET", "/agent/conversations", "alice", query="view=unassigned")[1]["items"][0]["id"]
    status, body = agent(desk, "POST", f"/agent/conversations/{waiting}/assignment", "alice", {"agent_id": "carol"})
    assert status == 200, body
    assert counts(desk, "carol") == {"mine": 1, "unassigned": 0, "all": 1, "mentions": 0}
    assert counts(desk, "alice") == {"mine": 0, "unassigned": 1, "all": 2, "mentions": 0}
    # an admin counts every open, pending and snoozed conversation
    assert counts(desk, "root", groups="[admins]")["all"] == 2
    # and a list asked with its counts answers the same badges in the same request (none unless asked)
    status, page = agent(desk, "GET", "/agent/conversations", "alice", query="view=unassigned&counts=true")
    assert status == 200 and page["counts"] == counts(desk, "alice") and len(page["items"]) == 1
    assert agent(desk, "GET", "/agent/conversations", "alice", query="view=unassigned")[1].get("counts") is None
    status, page = agent(desk, "GET", "/agent/conversations", "alice", query="view=mentions&counts=true")
    assert status == 200 and page["counts"]["mentions"] == 0


def test_agents_list_everyone_with_presence_and_load_online_first(desk):
    online(desk, "bob")
    agent(desk, "GET", "/agent/me", "alice")       # signed in once, offline
    customer_writes(desk, "+31612349010", "hi", "SMov10")
    desk.drain_queue(desk.work_queue_url, "router")
    status, body = agent(desk, "GET", "/agent/agents", "alice")
    assert status == 200
    rows = [(a["id"], a["presence"], a["active"]) for a in body["items"]]
    assert rows == [("bob", "online", 1), ("alice", "offline", 0)]
    assert set(body["items"][0]) >= {"id", "name", "presence", "capacity", "active", "teams"}
