"""A support lead corrects the router: priority, team and skills through PUT /agent/conversations/{id}/routing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from shopdesk import clock
from tests.integration.helpers import agent, customer_writes, online
from tests.integration.test_admin_api import admin_call
from tests.integration.test_sla_rules import at
from tests.support import http_event


@pytest.fixture(autouse=True)
def _router_run_by_the_tests(desk):
    """These tests run the router themselves, at the moments they test (``Desk.routes_before_agents``)."""
    desk.routes_before_agents = False


LEAD = "[supervisors]"


def _route(desk, conv, body, by="lead", groups=LEAD):
    return agent(desk, "PUT", f"/agent/conversations/{conv}/routing", by, body, groups=groups)


def _owner(desk, conv):
    return desk.item(f"CONV#{conv}").get("assignee")


def _system_notes(desk, conv):
    return [m["text"] for m in agent(desk, "GET", f"/agent/conversations/{conv}", "lead",
                                           groups="[admins]")[1]["messages"]
            if m["direction"] == "system"]


def _billing_with(desk, agent_id):
    """A billing team with one online agent in it; nobody else is online."""
    assert admin_call(desk, "PUT", "/admin/teams/billing", "[admins]", {"id": "billing", "name": "Billing"})[0] == 200
    online(desk, agent_id)
    assert admin_call(desk, "PUT", f"/admin/agents/{agent_id}", "[admins]",
                      {"capacity": 3, "team": "billing"})[0] == 200
    desk.drain_queue(desk.work_queue_url, "router")


def test_raising_priority_shortens_the_running_first_response_deadline_and_moves_it_up_the_queue(desk):
    # Given alice full with one conversation and two more waiting, the newer one at normal priority
    online(desk, "alice")
    admin_call(desk, "PUT", "/admin/agents/alice", "[admins]", {"capacity": 1})
    held = customer_writes(desk, "+31640000001", "hi", "SMr1")
    desk.drain_queue(desk.work_queue_url, "router")
    older = customer_writes(desk, "+31640000002", "where is my order", "SMr2")
    newer = customer_writes(desk, "+31640000003", "a question about my order", "SMr3")
    desk.drain_queue(desk.work_queue_url, "router")
    before = desk.item(f"CONV#{newer}", "DEADLINE#first_response")
    started = clock.parse_iso(before["due_at"]) - timedelta(seconds=14400)        # normal: 4 hours
    # When a supervisor makes it urgent five minutes later
    clock.set_offset(300)
    status, body = _route(desk, newer, {"priority": "urgent", "note": "Broken goods, VIP customer"})
    # Then its running first-response deadline is 15 minutes from the start, not 4 hours
    assert status == 200 and body["priority"] == "urgent" and body["assignee"] is None
    after = desk.item(f"CONV#{newer}", "DEADLINE#first_response")
    assert clock.parse_iso(after["due_at"]) == started + timedelta(seconds=900)
    assert after["DueSK"] == f"{clock.iso(started + timedelta(seconds=720))}#{newer}#first_response"   # warning first
    assert clock.parse_iso(body["sla"]["first_response_due_at"]) == started + timedelta(seconds=900)
    # and it waits ahead of the older conversation
    assert desk.item(f"CONV#{newer}")["QueueSK"].startswith("0#")
    waiting = agent(desk, "GET", "/agent/conversations", "alice", query="view=unassigned")[1]["items"]
    assert [c["id"] for c in waiting] == [newer, older]
    assert any(n == "Routing changed by Lead: priority from normal to urgent. Note: Broken goods, VIP customer"
               for n in _system_notes(desk, newer))
    # When alice frees her seat, the urgent one is hers and the older one still waits
    agent(desk, "POST", f"/agent/conversations/{held}/status", "alice", {"status": "resolved"})
    desk.drain_queue(desk.work_queue_url, "router")
    assert (_owner(desk, newer), _owner(desk, older)) == ("alice", None)
    # and the sweep holds it to the shorter target
    at(clock.iso(started + timedelta(seconds=899)))
    assert desk.invoke("sla_sweep", {})["breached"] == 0
    at(clock.iso(started + timedelta(seconds=960)))
    assert desk.invoke("sla_sweep", {})["breached"] == 1


def test_moving_a_waiting_conversation_to_another_team_gets_it_to_that_teams_online_agent(desk):
    # Given bob online in billing and nobody online in the default team
    _billing_with(desk, "bob")
    conv = customer_writes(desk, "+31640000004", "my invoice is wrong", "SMr4")
    desk.drain_queue(desk.work_queue_url, "router")
    assert _owner(desk, conv) is None and desk.item(f"CONV#{conv}")["QueuePK"] == "QUEUE#default"
    # When a supervisor moves it to billing
    status, body = _route(desk, conv, {"team": "billing"})
    # Then it waits in billing's queue, keeping its place in time, and bob gets it at once
    assert status == 200 and body["team"] == "billing"
    item = desk.item(f"CONV#{conv}")
    assert item["QueuePK"] == "QUEUE#billing" and item["QueueSK"].endswith(f"#{conv}")
    desk.drain_queue(desk.work_queue_url, "router")
    assert _owner(desk, conv) == "bob"


def test_moving_to_a_team_with_its_own_sla_policy_rebinds_the_clocks_keeping_the_time_used(desk):
    # Given billing answers within 30 minutes, everyone else within the template's 4 hours
    assert admin_call(desk, "PUT", "/admin/teams/billing", "[admins]", {"id": "billing", "name": "Billing"})[0] == 200
    status, _ = admin_call(desk, "PUT", "/admin/sla-policies/billing-fast", "[admins]", {
        "id": "billing-fast", "name": "Billing", "applies_to": {"teams": ["billing"]},
        "targets": {p: {"first_response": 1800} for p in ("urgent", "high", "normal", "low")}})
    assert status == 200
    conv = customer_writes(desk, "+31640000013", "invoice question", "SMr13")
    desk.drain_queue(desk.work_queue_url, "router")
    started = clock.parse_iso(desk.item(f"CONV#{conv}", "DEADLINE#first_response")["due_at"]) - timedelta(hours=4)
    # When it moves to billing ten minutes in
    clock.set_offset(600)
    assert _route(desk, conv, {"team": "billing"})[0] == 200
    # Then billing's policy applies to the running clock: due 30 minutes after the start, not after the move
    deadline = desk.item(f"CONV#{conv}", "DEADLINE#first_response")
    assert clock.parse_iso(deadline["due_at"]) == started + timedelta(minutes=30)
    assert json.loads(desk.item(f"CONV#{conv}")["clocks_json"])["policy_id"] == "billing-fast"


def test_the_assignee_sending_a_conversation_to_a_team_they_are_not_in_hands_it_over(desk):
    # Given alice (default team) holds a conversation, bob is online in billing
    _billing_with(desk, "bob")
    online(desk, "alice")
    conv = customer_writes(desk, "+31640000005", "I was charged twice", "SMr5")
    desk.drain_queue(desk.work_queue_url, "router")
    assert _owner(desk, conv) == "alice"
    # When alice sends it to billing with a note (no role needed: it is hers)
    status, body = _route(desk, conv, {"team": "billing", "note": "double charge, order 1001"}, by="alice",
                          groups="[]")
    # Then she is released (her seat is free) and bob takes it with her note on the timeline
    assert status == 200 and body["assignee"] is None and body["team"] == "billing"
    assert desk.item("AGENT#alice")["active"] == 0
    desk.drain_queue(desk.work_queue_url, "router")
    assert _owner(desk, conv) == "bob" and desk.item("AGENT#bob")["active"] == 1
    assert ("Routing changed by Alice: team from default to billing. Alice is not in billing: back in the queue. "
            "Note: double charge, order 1001") in _system_notes(desk, conv)
    shown = agent(desk, "GET", f"/agent/conversations/{conv}", "lead", groups="[admins]")[1]["messages"]
    assert {"kind": "routing_changed", "params": {"by": "alice", "note": "double charge, order 1001", "changes": [
        {"change": "team", "from": "default", "to": "billing"},
        {"change": "not_in_team", "agent": "alice", "team": "billing", "queued": True}]}} in [m["event"] for m in shown]


def test_an_assignee_in_both_teams_keeps_the_conversation_they_move(desk):
    # Given alice works in default and billing and holds a conversation of the default team
    assert admin_call(desk, "PUT", "/admin/teams/billing", "[admins]", {"id": "billing", "name": "Billing"})[0] == 200
    online(desk, "alice")
    both = {"capacity": 3, "teams": ["default", "billing"]}
    assert admin_call(desk, "PUT", "/admin/agents/alice", "[admins]", both)[0] == 200
    conv = customer_writes(desk, "+31640000015", "Invoice please", "SMr15")
    desk.drain_queue(desk.work_queue_url, "router")
    assert _owner(desk, conv) == "alice"
    # When she files it under billing
    status, body = _route(desk, conv, {"team": "billing"}, by="alice", groups="[]")
    # Then it stays hers, in billing, her seat still taken once
    assert status == 200 and body["assignee"] == "alice" and body["team"] == "billing"
    assert desk.item("AGENT#alice")["active"] == 1
    assert "Routing changed by Alice: team from default to billing" in _system_notes(desk, conv)


def test_a_skills_change_routes_a_waiting_conversation_to_an_agent_with_those_skills(desk):
    # Given a conversation needing a skill nobody online has, alice and bob online, only bob knows refunds
    online(desk, "alice", "bob")
    admin_call(desk, "PUT", "/admin/routing", "[admins]", {"skill_keywords": {"wholesale": ["pallet"]}})
    admin_call(desk, "PUT", "/admin/agents/bob", "[admins]", {"capacity": 3, "skills": ["refunds"]})
    conv = customer_writes(desk, "+31640000006", "refund for a pallet of mugs", "SMr6")
    desk.drain_queue(desk.work_queue_url, "router")
    assert _owner(desk, conv) is None
    # When a supervisor says it needs refunds instead
    status, body = _route(desk, conv, {"skills": ["refunds", "refunds"]})
    # Then the skills are replaced and bob, the only agent with them, gets it
    assert status == 200 and body["skills"] == ["refunds"]
    desk.drain_queue(desk.work_queue_url, "router")
    assert _owner(desk, conv) == "bob"


def test_only_the_assignee_supervisors_and_admins_may_change_routing_and_only_leads_lower_priority(desk):
    online(desk, "alice")
    conv = customer_writes(desk, "+31640000007", "hello", "SMr7")
    desk.drain_queue(desk.work_queue_url, "router")
    assert _owner(desk, conv) == "alice"
    refused, body = _route(desk, conv, {"priority": "urgent"}, by="carol", groups="[]")
    assert refused == 403 and "assignee" in body["detail"]
    refused, body = _route(desk, conv, {"priority": "low"}, by="alice", groups="[]")
    assert refused == 403 and "supervisors" in body["detail"]
    assert desk.item(f"CONV#{conv}")["priority"] == "normal"
    status, body = _route(desk, conv, {"priority": "high", "skills": ["returns"]}, by="alice", groups="[]")
    assert status == 200 and (body["priority"], body["skills"], body["assignee"]) == ("high", ["returns"], "alice")
    assert _route(desk, conv, {"priority": "low"}, groups="[supervisors]")[1]["priority"] == "low"
    assert _route(desk, conv, {"priority": "normal"}, by="boss", groups="[admins]")[1]["priority"] == "normal"
    # a waiting conversation is nobody's: only leads change it
    agent(desk, "PUT", "/agent/me/presence", "alice", {"presence": "offline"})
    waiting = customer_writes(desk, "+31640000008", "anyone?", "SMr8")
    desk.drain_queue(desk.work_queue_url, "router")
    assert _owner(desk, waiting) is None
    assert _route(desk, waiting, {"priority": "urgent"}, by="alice", groups="[]")[0] == 403
    assert _route(desk, waiting, {"priority": "urgent"})[0] == 200


def test_bad_routing_requests_are_clear_4xx_and_change_nothing(desk):
    conv = customer_writes(desk, "+31640000010", "hi", "SMr10")
    desk.drain_queue(desk.work_queue_url, "router")
    status, body = _route(desk, conv, {})
    assert status == 422 and "priority, team or skills" in body["detail"]
    status, body = _route(desk, conv, {"note": "only a note"})
    assert status == 422
    status, body = _route(desk, conv, {"priority": "critical"})
    assert status == 422 and "priority" in body["detail"]
    assert _route(desk, conv, {"skills": ["Not A Skill"]})[0] == 422
    assert _route(desk, conv, {"prio": "high"})[0] == 422
    status, body = _route(desk, conv, {"team": "nowhere"})
    assert status == 404 and "team nowhere does not exist" in body["detail"]
    assert _route(desk, "c_missing", {"priority": "high"})[0] == 404
    item = desk.item(f"CONV#{conv}")
    assert (item["priority"], item["team"], item.get("skills"), item["QueuePK"]) == (
        "normal", "default", None, "QUEUE#default")
    assert not any(n.startswith("Routing changed") for n in _system_notes(desk, conv))


def test_a_conversation_can_be_moved_back_to_the_default_team_when_routing_sends_new_ones_elsewhere(desk):
    # Given new conversations go to billing by default (no team item named default was ever created)
    assert admin_call(desk, "PUT", "/admin/teams/billing", "[admins]", {"id": "billing", "name": "Billing"})[0] == 200
    assert admin_call(desk, "PUT", "/admin/routing", "[admins]", {"default_team": "billing"})[0] == 200
    conv = customer_writes(desk, "+31640000013", "my invoice is wrong", "SMr13")
    desk.drain_queue(desk.work_queue_url, "router")
    assert desk.item(f"CONV#{conv}")["team"] == "billing"
    # When a lead moves it to the default team, where the agents nobody moved are
    status, body = _route(desk, conv, {"team": "default"}, groups="[admins]")
    # Then it is the default team's, waiting in its queue
    assert status == 200 and body["team"] == "default", body
    assert desk.item(f"CONV#{conv}")["QueuePK"] == "QUEUE#default"


def test_a_change_that_changes_nothing_is_a_422_naming_it_and_writes_nothing_not_even_its_note(desk):
    # Given an urgent conversation with the skill billing
    conv = customer_writes(desk, "+31640000012", "hi", "SMr12")
    desk.drain_queue(desk.work_queue_url, "router")
    assert _route(desk, conv, {"priority": "urgent", "skills": ["billing"]})[0] == 200
    before = desk.item(f"CONV#{conv}")
    entries = len(_system_notes(desk, conv))
    # When a lead asks for what it has already, with a note (priority, team and skills, one, or the same skills
    # in another order)
    for body in ({"priority": "urgent", "note": "customer threatened legal action, escalate"},
                 {"priority": "urgent", "team": "default", "skills": ["billing"]}, {"skills": ["billing", "billing"]}):
        status, problem = _route(desk, conv, body)
        # Then it is refused as a body that changes nothing, with the code the inbox words, saying what it has
        assert status == 422, (body, problem)
        assert problem["code"] == "nothing_to_change" and problem["errors"][0]["type"] == "nothing_to_change"
        assert "priority (urgent), team (default) and skills (billing)" in problem["detail"]
    # and nothing was written: no entry, not even the note, and the conversation as it was
    assert len(_system_notes(desk, conv)) == entries
    assert not any("legal action" in n for n in _system_notes(desk, conv))
    assert desk.item(f"CONV#{conv}") == before


def test_a_resolved_conversation_keeps_its_routing(desk):
    online(desk, "alice")
    conv = customer_writes(desk, "+31640000011", "thanks, all good", "SMr11")
    desk.drain_queue(desk.work_queue_url, "router")
    agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "resolved"})
    status, body = _route(desk, conv, {"priority": "urgent"})
    assert status == 409 and "reopen" in body["detail"]
    assert desk.item(f"CONV#{conv}")["priority"] == "normal"


def test_a_change_racing_an_assignment_is_read_again_and_never_queues_an_assigned_conversation(desk, monkeypatch):
    # Given a waiting conversation and a drain about to give it to alice
    conv = customer_writes(desk, "+31640000012", "hi", "SMr12")
    desk.drain_queue(desk.work_queue_url, "router")
    online(desk, "alice")                                       # enqueues the drain; not run yet
    conversations = desk.handler("agent_api").conversations
    real, calls = conversations.reroute, []

    def assigned_meanwhile(*args, **kwargs):
        calls.append(kwargs["priority"])
        if len(calls) == 1:                                     # between our read and our write
            desk.drain_queue(desk.work_queue_url, "router")
        return real(*args, **kwargs)

    monkeypatch.setattr(conversations, "reroute", assigned_meanwhile)
    # When a supervisor raises its priority over the stale read
    status, _ = _route(desk, conv, {"priority": "high"})
    # Then the first write is refused, the second applies to the assigned conversation
    assert status == 200 and len(calls) == 2
    item = desk.item(f"CONV#{conv}")
    assert (item["assignee"], item["priority"]) == ("alice", "high") and "QueuePK" not in item
    assert sum(n.startswith("Routing changed") for n in _system_notes(desk, conv)) == 1


def test_the_routing_route_and_its_model_are_in_the_openapi_document(desk):
    doc = json.loads(desk.invoke("agent_api", http_event("GET", "/agent/openapi.json"))["body"])
    operation = doc["paths"]["/agent/conversations/{conversation_id}/routing"]["put"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/RoutingIn")
    fields = doc["components"]["schemas"]["RoutingIn"]["properties"]
    assert {"priority", "team", "skills", "note"} <= set(fields)
