"""Assignment within capacity: least loaded first, waiting oldest first, refill when capacity frees."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from tests.integration.helpers import agent, customer_writes, online, route_records


def _agent_item(desk, agent_id):
    return desk.item(f"AGENT#{agent_id}")


def test_new_conversations_go_to_the_least_loaded_agent(desk):
    online(desk, "alice", "bob")
    first = customer_writes(desk, "+31600000001", "hello", "SM1")
    desk.drain_queue(desk.work_queue_url, "router")
    second = customer_writes(desk, "+31600000002", "hello", "SM2")
    desk.drain_queue(desk.work_queue_url, "router")
    owners = {desk.item(f"CONV#{c}")["assignee"] for c in (first, second)}
    assert owners == {"alice", "bob"}


def test_capacity_is_never_exceeded_under_concurrent_arrivals(desk):
    # Given 20 customers who wrote at the same moment, routed into the queue, and then two agents
    # with capacity 3 coming online
    phones = [f"+3161000{i:04d}" for i in range(20)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        conversations = list(pool.map(lambda p: customer_writes(desk, p, "hi", "SM" + p[1:]), phones))
    desk.routes_before_agents = False         # the drains below are the test's
    desk.drain_queue(desk.work_queue_url, "router", rounds=40)
    online(desk, "alice", "bob")
    # When many routers drain at once (as parallel Lambda invocations would)
    handler = desk.handler("router")
    from shopdesk.logic.assign import drain
    barrier = threading.Barrier(8)

    def race(_):
        barrier.wait()
        return drain("default", handler.conversations, handler.agents)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = [a for batch in pool.map(race, range(8)) for a in batch]
    # Then each agent holds exactly its capacity, no conversation twice, the rest wait
    assert sorted(_agent_item(desk, a)["active"] for a in ("alice", "bob")) == [3, 3]
    assigned = [a.conversation_id for a in results]
    assert len(assigned) == len(set(assigned)) == 6
    owners = [desk.item(f"CONV#{c}").get("assignee") for c in conversations]
    assert sum(o is not None for o in owners) == 6
    status, waiting = agent(desk, "GET", "/agent/conversations", "alice", query="view=unassigned")
    assert status == 200 and len(waiting["items"]) == 14


def test_waiting_conversation_is_assigned_oldest_first_when_capacity_frees(desk):
    # Given alice full (capacity 3) and two customers waiting
    online(desk, "alice")
    held = [customer_writes(desk, f"+3162000000{i}", "hi", f"SMh{i}") for i in range(3)]
    desk.drain_queue(desk.work_queue_url, "router")
    older = customer_writes(desk, "+31630000001", "first in line", "SMw1")
    newer = customer_writes(desk, "+31630000002", "second in line", "SMw2")
    desk.drain_queue(desk.work_queue_url, "router")
    assert desk.item(f"CONV#{older}").get("assignee") is None
    # When alice resolves one conversation
    status, _ = agent(desk, "POST", f"/agent/conversations/{held[0]}/status", "alice", {"status": "resolved"})
    assert status == 200
    desk.drain_queue(desk.work_queue_url, "router")
    # Then the oldest waiting conversation is hers and the newer one still waits
    assert desk.item(f"CONV#{older}")["assignee"] == "alice"
    assert desk.item(f"CONV#{newer}").get("assignee") is None
    assert _agent_item(desk, "alice")["active"] == 3


def test_waiting_conversation_is_assigned_when_an_agent_comes_online(desk):
    waiting = customer_writes(desk, "+31640000001", "anyone there?", "SMo1")
    desk.drain_queue(desk.work_queue_url, "router")
    assert desk.item(f"CONV#{waiting}").get("assignee") is None
    online(desk, "bob")
    desk.drain_queue(desk.work_queue_url, "router")
    assert desk.item(f"CONV#{waiting}")["assignee"] == "bob"


def test_away_agent_gets_no_new_conversations(desk):
    online(desk, "alice")
    assert agent(desk, "PUT", "/agent/me/presence", "alice", {"presence": "away"})[0] == 200
    conv = customer_writes(desk, "+31650000001", "hi", "SMa1")
    desk.drain_queue(desk.work_queue_url, "router")
    assert desk.item(f"CONV#{conv}").get("assignee") is None


def test_transfer_moves_capacity_and_leaves_a_note(desk):
    online(desk, "alice", "bob")
    conv = customer_writes(desk, "+31660000001", "hi", "SMt1")
    desk.drain_queue(desk.work_queue_url, "router")
    owner = desk.item(f"CONV#{conv}")["assignee"]
    other = "bob" if owner == "alice" else "alice"
    status, body = agent(desk, "POST", f"/agent/conversations/{conv}/assignment", owner,
                         {"agent_id": other, "note": "Wants a refund, order #1001; I promised an answer today."})
    assert status == 200 and body["assignee"] == other
    assert _agent_item(desk, owner)["active"] == 0 and _agent_item(desk, other)["active"] == 1
    _, detail = agent(desk, "GET", f"/agent/conversations/{conv}", other)
    [handoff] = [m for m in detail["messages"] if m["direction"] == "system" and "Transferred" in m["text"]]
    assert "Hand-off note: Wants a refund, order #1001" in handoff["text"]
    assert [m["direction"] for m in detail["messages"]].count("inbound") == 1      # the whole history came along


def test_transfer_to_a_full_agent_is_refused(desk):
    # Given four conversations routed to default while nobody was online, waiting there
    desk.routes_before_agents = False
    convs = [customer_writes(desk, f"+3167000000{i}", "hi", f"SMf{i}") for i in range(4)]
    route_records(desk)
    online(desk, "alice", "bob")
    for c in convs[:3]:
        assert agent(desk, "POST", f"/agent/conversations/{c}/assignment", "alice", {"agent_id": "bob"})[0] == 200
    status, body = agent(desk, "POST", f"/agent/conversations/{convs[3]}/assignment", "alice", {"agent_id": "bob"})
    assert status == 409 and "capacity" in body["detail"]
    # in words an agent reads: who, and how full (not "does not exist or has no free capacity")
    assert body["detail"].startswith("Bob has no free capacity (3 of 3 conversations)"), body["detail"]
    assert (body["code"], body["params"]) == ("no_capacity", {"agent": "Bob", "active": "3", "capacity": "3"})


def test_customer_reply_to_resolved_conversation_opens_a_new_one(desk):
    online(desk, "alice")
    first = customer_writes(desk, "+31680000001", "order 1", "SMr1")
    desk.drain_queue(desk.work_queue_url, "router")
    assert agent(desk, "POST", f"/agent/conversations/{first}/status", "alice", {"status": "resolved"})[0] == 200
    second = customer_writes(desk, "+31680000001", "order 2", "SMr2")
    assert second != first
    assert desk.item(f"CONV#{first}")["status"] == "resolved"
    assert desk.item(f"CONV#{second}")["customer"]["id"] == desk.item(f"CONV#{first}")["customer"]["id"]


def test_customer_answer_reopens_a_pending_conversation(desk):
    online(desk, "alice")
    conv = customer_writes(desk, "+31690000001", "hi", "SMp1")
    desk.drain_queue(desk.work_queue_url, "router")
    assert agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "pending"})[0] == 200
    assert customer_writes(desk, "+31690000001", "here is my order number", "SMp2") == conv
    assert desk.item(f"CONV#{conv}")["status"] == "open"
    _status, mine = agent(desk, "GET", "/agent/conversations", "alice", query="view=mine&status=open")
    assert [c["id"] for c in mine["items"]] == [conv]


def test_the_next_message_of_a_conversation_being_worked_reads_no_queue_and_a_new_one_still_goes(desk):
    from bench.harness import count_layer_requests
    # Given alice working a customer's conversation
    online(desk, "alice")
    conv = customer_writes(desk, "+31600000301", "Where is my order?", "SMq1")
    desk.drain_queue(desk.work_queue_url, "router")
    assert desk.item(f"CONV#{conv}")["assignee"] == "alice"
    # When the customer writes again, the router reads neither the team's agents nor its queue
    customer_writes(desk, "+31600000301", "It was due yesterday", "SMq2")
    with count_layer_requests() as counted:
        desk.drain_queue(desk.work_queue_url, "router")
    queries = [op for op in counted.snapshot().elements() if op == "dynamodb.Query"]
    assert queries == [], counted.snapshot()
    # while a new customer's first message is still handed to her at once
    other = customer_writes(desk, "+31600000302", "Do you ship to Iceland?", "SMq3")
    desk.drain_queue(desk.work_queue_url, "router")
    assert desk.item(f"CONV#{other}")["assignee"] == "alice"
