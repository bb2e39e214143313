"""Routing a support lead can trust: skills, language, sticky agents, priority refill, round robin."""

from __future__ import annotations

import pytest

from tests.integration.helpers import agent, customer_writes, online, teams
from tests.integration.test_admin_api import admin_call


@pytest.fixture(autouse=True)
def _router_run_by_the_tests(desk):
    """These tests run the router themselves, at the moments they test (``Desk.routes_before_agents``)."""
    desk.routes_before_agents = False


def _owner(desk, conv):
    return desk.item(f"CONV#{conv}").get("assignee")


def test_a_conversation_needing_a_skill_goes_only_to_an_agent_with_it(desk):
    online(desk, "alice", "bob")
    admin_call(desk, "PUT", "/admin/routing", "[admins]", {"skill_keywords": {"returns": ["refund", "return"]}})
    admin_call(desk, "PUT", "/admin/agents/bob", "[admins]", {"capacity": 3, "skills": ["returns"]})
    conv = customer_writes(desk, "+31630000001", "I want a REFUND for order 7", "SMk1")
    desk.drain_queue(desk.work_queue_url, "router")
    assert desk.item(f"CONV#{conv}")["skills"] == ["returns"]
    assert _owner(desk, conv) == "bob"


def test_a_skill_nobody_online_has_keeps_the_conversation_waiting_without_blocking_others(desk):
    online(desk, "alice")
    admin_call(desk, "PUT", "/admin/routing", "[admins]", {"skill_keywords": {"wholesale": ["pallet"]}})
    special = customer_writes(desk, "+31630000002", "price for a pallet?", "SMk2")
    ordinary = customer_writes(desk, "+31630000003", "where is my order", "SMk3")
    desk.drain_queue(desk.work_queue_url, "router")
    assert _owner(desk, special) is None and _owner(desk, ordinary) == "alice"


def test_agents_who_speak_the_customers_language_are_preferred(desk):
    online(desk, "alice", "bob")
    admin_call(desk, "PUT", "/admin/agents/alice", "[admins]", {"capacity": 3, "languages": ["en"]})
    admin_call(desk, "PUT", "/admin/agents/bob", "[admins]", {"capacity": 3, "languages": ["en", "de"]})
    conv = customer_writes(desk, "+31630000004", "Hallo, wo ist meine Bestellung? Danke!", "SMl1")
    desk.drain_queue(desk.work_queue_url, "router")
    assert desk.item(f"CONV#{conv}")["language"] == "de"
    assert _owner(desk, conv) == "bob"


def test_a_returning_customer_goes_back_to_their_previous_agent(desk):
    online(desk, "alice", "bob")
    first = customer_writes(desk, "+31630000005", "hi", "SMt1")
    desk.drain_queue(desk.work_queue_url, "router")
    helper = _owner(desk, first)
    other = "bob" if helper == "alice" else "alice"
    # the helper is now busier than the other agent: least-loaded alone would pick the other one
    customer_writes(desk, "+31630000006", "hi", "SMt2")
    desk.drain_queue(desk.work_queue_url, "router")
    agent(desk, "POST", f"/agent/conversations/{first}/status", helper, {"status": "resolved"})
    desk.drain_queue(desk.work_queue_url, "router")
    busy = [customer_writes(desk, f"+3163000010{i}", "hi", f"SMt3{i}") for i in range(2)]
    desk.drain_queue(desk.work_queue_url, "router")
    assert desk.item(f"AGENT#{helper}")["active"] >= desk.item(f"AGENT#{other}")["active"] or busy
    again = customer_writes(desk, "+31630000005", "me again", "SMt4")
    assert desk.item(f"CONV#{again}")["previous_agent"] == helper
    desk.drain_queue(desk.work_queue_url, "router")
    assert _owner(desk, again) == helper


def test_sticky_routing_can_be_switched_off(desk):
    online(desk, "alice", "bob")
    admin_call(desk, "PUT", "/admin/routing", "[admins]", {"sticky_days": 0})
    first = customer_writes(desk, "+31630000007", "hi", "SMu1")
    desk.drain_queue(desk.work_queue_url, "router")
    helper = _owner(desk, first)
    agent(desk, "POST", f"/agent/conversations/{first}/status", helper, {"status": "resolved"})
    # the helper takes two other customers, so the other agent is the least loaded
    for i in range(2):
        c = customer_writes(desk, f"+3163000020{i}", "hi", f"SMu2{i}")
        agent(desk, "POST", f"/agent/conversations/{c}/assignment", helper, {"agent_id": helper})
    again = customer_writes(desk, "+31630000007", "me again", "SMu3")
    desk.drain_queue(desk.work_queue_url, "router")
    assert _owner(desk, again) != helper


def test_waiting_conversations_are_refilled_most_urgent_first(desk):
    online(desk, "alice")
    admin_call(desk, "PUT", "/admin/agents/alice", "[admins]", {"capacity": 1})
    held = customer_writes(desk, "+31630000008", "hi", "SMv1")
    desk.drain_queue(desk.work_queue_url, "router")
    older = customer_writes(desk, "+31630000009", "normal, older", "SMv2")
    urgent = customer_writes(desk, "+31630000010", "will be urgent", "SMv3")
    desk.drain_queue(desk.work_queue_url, "router")           # both wait: alice is full
    desk.client("dynamodb").update_item(   # a breach escalated this one (the sweep does this)
        TableName=desk.table_name, Key={"PK": {"S": f"CONV#{urgent}"}, "SK": {"S": "META"}},
        UpdateExpression="SET priority = :p, QueueSK = :q",
        ExpressionAttributeValues={":p": {"S": "urgent"},
                                   ":q": {"S": "0#" + desk.item(f"CONV#{urgent}")["QueueSK"].split("#", 1)[1]}})
    desk.drain_queue(desk.work_queue_url, "router")
    agent(desk, "POST", f"/agent/conversations/{held}/status", "alice", {"status": "resolved"})
    desk.drain_queue(desk.work_queue_url, "router")
    assert _owner(desk, urgent) == "alice" and _owner(desk, older) is None


def test_an_assignee_silent_too_long_loses_the_conversation_to_the_next_agent(desk):
    from shopdesk import clock
    admin_call(desk, "PUT", "/admin/routing", "[admins]", {"reassign_after_silence_seconds": 900})
    online(desk, "alice", "bob")
    conv = customer_writes(desk, "+31630000011", "anyone?", "SMw1")
    desk.drain_queue(desk.work_queue_url, "router")
    first = _owner(desk, conv)
    other = "bob" if first == "alice" else "alice"
    clock.set_offset(14 * 60)
    assert desk.invoke("sla_sweep", {})["released"] == 0                 # still in time
    clock.set_offset(16 * 60)
    assert desk.invoke("sla_sweep", {})["released"] == 1
    assert desk.item(f"AGENT#{first}")["active"] == 0
    desk.drain_queue(desk.work_queue_url, "router")
    assert _owner(desk, conv) == other                                    # the next agent, not the silent one
    system = [m for m in agent(desk, "GET", f"/agent/conversations/{conv}", other)[1]["messages"]
              if m["direction"] == "system"]
    assert any(f"No reply from {first.title()}" in m["text"] for m in system)
    assert {"kind": "assignee_silent", "params": {"agent": first}} in [m["event"] for m in system]


def test_a_reply_in_time_keeps_the_conversation(desk):
    from shopdesk import clock
    admin_call(desk, "PUT", "/admin/routing", "[admins]", {"reassign_after_silence_seconds": 900})
    online(desk, "alice")
    conv = customer_writes(desk, "+31630000012", "hi", "SMw2")
    desk.drain_queue(desk.work_queue_url, "router")
    agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "On it"})
    clock.set_offset(3600)
    assert desk.invoke("sla_sweep", {})["released"] == 0
    assert _owner(desk, conv) == "alice"


def _transact_ops_of(monkeypatch, call):
    """The operations of every TransactWriteItems ``call()`` makes, deserialized keys and all."""
    from boto3.dynamodb.types import TypeDeserializer
    from botocore.client import BaseClient

    made, real, plain = [], BaseClient._make_api_call, TypeDeserializer()

    def recorded(self, operation, params):
        if operation == "TransactWriteItems":
            made.extend((kind, {k: plain.deserialize(v) for k, v in (op.get("Key") or op.get("Item")).items()})
                        for item in params["TransactItems"] for kind, op in item.items())
        return real(self, operation, params)

    with monkeypatch.context() as patch:
        patch.setattr(BaseClient, "_make_api_call", recorded)
        call()
    return made


def test_a_reply_deletes_no_silence_timer_it_would_pay_two_write_units_for(desk, monkeypatch):
    # Given a desk without silence reassignment, and one with it: a reply leaves the timer to its runner either way
    online(desk, "alice")
    conv = customer_writes(desk, "+31630000015", "hi", "SMw4")
    desk.drain_queue(desk.work_queue_url, "router")
    ops = _transact_ops_of(monkeypatch, lambda: agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice",
                                                      {"text": "On it"}))
    assert ops and not [key for kind, key in ops if key["SK"] == "DEADLINE#assignee_silence"], ops


def test_a_silence_release_that_read_the_conversation_before_a_reply_releases_nothing(desk):
    from shopdesk import clock
    from shopdesk.dal.conversations import Conversations
    from shopdesk.dal.table import Table
    from shopdesk.logic import timeline

    admin_call(desk, "PUT", "/admin/routing", "[admins]", {"reassign_after_silence_seconds": 900})
    online(desk, "alice")
    conv = customer_writes(desk, "+31630000016", "hi", "SMw5")
    desk.drain_queue(desk.work_queue_url, "router")
    conversations = Conversations(Table(desk.table_name), 16)
    read = conversations.get_meta(conv)              # the sweep's runner read it, still unanswered ...
    clock.set_offset(60)
    agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "On it"})   # ... then she answered
    assert desk.item(f"CONV#{conv}", "DEADLINE#assignee_silence") is not None     # the timer left to its runner
    assert not conversations.release(read, "alice", timeline.assignee_silent(conv, "alice", {}), pass_over=True)
    assert _owner(desk, conv) == "alice" and desk.item("AGENT#alice")["active"] == 1


def test_a_reply_stamped_before_its_assignment_but_written_after_it_keeps_the_conversation(desk, monkeypatch):
    # Given a conversation waiting in its team's queue, and alice's reply stamped (created_at) just before the
    # router assigns it to her, but written after that assignment
    from shopdesk import clock
    from shopdesk.dal.conversations import Conversations
    from shopdesk.dal.table import Table
    from shopdesk.logic import timeline

    admin_call(desk, "PUT", "/admin/routing", "[admins]", {"reassign_after_silence_seconds": 900})
    conv = customer_writes(desk, "+31630000019", "hi", "SMw8")
    desk.drain_queue(desk.work_queue_url, "router")
    online(desk, "alice")
    conversations = Conversations(Table(desk.table_name), 16)
    real, stale = Conversations.add_outbound, {}

    def assigned_meanwhile(self, conv_, message, **kw):
        if not stale:
            clock.set_offset(1)                                  # the router's assignment commits after the stamp
            desk.drain_queue(desk.work_queue_url, "router")
            stale["read"] = conversations.get_meta(conv)         # the sweep's runner reads it, still unanswered
            kw.pop("clocks", None)                               # its clocks read is stale: written as the fallback
        return real(self, conv_, message, **kw)

    monkeypatch.setattr(Conversations, "add_outbound", assigned_meanwhile)
    assert agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "On it"})[0] < 300
    item = desk.item(f"CONV#{conv}")
    assert item["assignee"] == "alice" and item["last_outbound_at"] < item["assigned_at"]
    # When her silence timer comes due, Then it releases nothing: she answered after she got it
    clock.set_offset(1 + 16 * 60)
    assert desk.invoke("sla_sweep", {})["released"] == 0
    assert _owner(desk, conv) == "alice"
    # and a release that read the conversation before her reply is refused by its condition too
    assert not conversations.release(stale["read"], "alice", timeline.assignee_silent(conv, "alice", {}),
                                     pass_over=True)
    assert _owner(desk, conv) == "alice" and desk.item("AGENT#alice")["active"] == 1


def test_a_reply_in_time_costs_the_sweep_no_release_it_would_have_refused(desk, monkeypatch):
    from shopdesk import clock
    admin_call(desk, "PUT", "/admin/routing", "[admins]", {"reassign_after_silence_seconds": 900})
    online(desk, "alice")
    conv = customer_writes(desk, "+31630000018", "hi", "SMw7")
    desk.drain_queue(desk.work_queue_url, "router")
    agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "On it"})
    clock.set_offset(3600)
    ops = _transact_ops_of(monkeypatch, lambda: desk.invoke("sla_sweep", {}))
    assert not [key for kind, key in ops if key["PK"] == f"CONV#{conv}"], ops      # the runner saw the reply
    assert desk.item(f"CONV#{conv}", "DEADLINE#assignee_silence") is None          # and the timer is finished
    assert _owner(desk, conv) == "alice"


def test_a_reply_to_an_earlier_assignment_does_not_spare_the_next_assignee_their_silence(desk):
    from shopdesk import clock
    admin_call(desk, "PUT", "/admin/routing", "[admins]",
               {"reassign_after_silence_seconds": 900, "offline_grace_seconds": 300})
    online(desk, "alice")
    conv = customer_writes(desk, "+31630000017", "anyone?", "SMw6")
    desk.drain_queue(desk.work_queue_url, "router")
    agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "On it"})
    agent(desk, "PUT", "/agent/me/presence", "alice", {"presence": "offline"})
    clock.set_offset(301)
    assert desk.invoke("sla_sweep", {})["released"] == 1          # alice's grace is over: back in the queue
    online(desk, "bob")
    desk.drain_queue(desk.work_queue_url, "router")
    assert _owner(desk, conv) == "bob"
    clock.set_offset(301 + 16 * 60)
    assert desk.invoke("sla_sweep", {})["released"] == 1          # bob wrote nothing since he got it
    assert _owner(desk, conv) is None


def test_an_offline_agents_conversations_return_to_the_queue_after_the_grace_period(desk):
    from shopdesk import clock
    admin_call(desk, "PUT", "/admin/routing", "[admins]", {"offline_grace_seconds": 300})
    online(desk, "alice")
    conv = customer_writes(desk, "+31630000013", "hi", "SMx1")
    desk.drain_queue(desk.work_queue_url, "router")
    agent(desk, "PUT", "/agent/me/presence", "alice", {"presence": "offline"})
    clock.set_offset(200)
    assert desk.invoke("sla_sweep", {})["released"] == 0
    clock.set_offset(301)
    assert desk.invoke("sla_sweep", {})["released"] == 1
    assert _owner(desk, conv) is None and desk.item(f"CONV#{conv}")["QueuePK"] == "QUEUE#default"
    online(desk, "bob")
    desk.drain_queue(desk.work_queue_url, "router")
    assert _owner(desk, conv) == "bob"


def test_coming_back_within_the_grace_period_keeps_the_conversations(desk):
    from shopdesk import clock
    online(desk, "alice")
    conv = customer_writes(desk, "+31630000014", "hi", "SMx2")
    desk.drain_queue(desk.work_queue_url, "router")
    agent(desk, "PUT", "/agent/me/presence", "alice", {"presence": "offline"})
    clock.set_offset(60)
    online(desk, "alice")
    clock.set_offset(3600)
    assert desk.invoke("sla_sweep", {})["released"] == 0
    assert _owner(desk, conv) == "alice"


def test_a_channel_can_be_routed_to_its_own_team(desk):
    online(desk, "alice", "bob")
    teams(desk, "whatsapp-team")
    admin_call(desk, "PUT", "/admin/routing", "[admins]", {"team_by_channel": {"whatsapp": "whatsapp-team"}})
    admin_call(desk, "PUT", "/admin/agents/bob", "[admins]", {"capacity": 3, "team": "whatsapp-team"})
    desk.drain_queue(desk.work_queue_url, "router")
    by_whatsapp = customer_writes(desk, "+31630000015", "hi", "SMy1", channel="whatsapp")
    by_sms = customer_writes(desk, "+31630000016", "hi", "SMy2")
    desk.drain_queue(desk.work_queue_url, "router")
    assert desk.item(f"CONV#{by_whatsapp}")["team"] == "whatsapp-team"
    assert (_owner(desk, by_whatsapp), _owner(desk, by_sms)) == ("bob", "alice")


def test_a_breach_can_take_the_conversation_to_the_next_agent(desk):
    from shopdesk import clock
    admin_call(desk, "PUT", "/admin/routing", "[admins]", {"reassign_on_breach": True})
    online(desk, "alice", "bob")
    conv = customer_writes(desk, "+31630000017", "hello?", "SMz9")
    desk.drain_queue(desk.work_queue_url, "router")
    first = _owner(desk, conv)
    clock.set_offset(4 * 3600 + 30)
    assert desk.invoke("sla_sweep", {})["breached"] == 1
    desk.drain_queue(desk.work_queue_url, "router")
    assert _owner(desk, conv) not in (None, first)
    assert desk.item(f"CONV#{conv}")["priority"] == "high"
    # and the timeline says whom it was taken from by name (one GetItem of their record), the event by id
    system = [m for m in agent(desk, "GET", f"/agent/conversations/{conv}", first, groups="[supervisors]")[1][
        "messages"] if m["direction"] == "system"]
    assert ("First response target missed: taken from " + first.title() + " for the next agent",
            {"kind": "sla_missed_reassigned", "params": {"target": "first_response", "agent": first}}) in [
        (m["text"], m["event"]) for m in system]
