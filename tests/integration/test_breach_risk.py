"""Breach risk on the real handlers: the per-minute sweep estimates each waiting conversation's chance of missing
its target from the queue ahead of it, the team's capacity and its handling time, stores it, raises one SlaRisk
event (and a board record) per conversation and deadline once it crosses the threshold before the SLA warning,
and the agent API sorts the waiting conversations by it."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.integration.helpers import agent, customer_writes, online
from tests.integration.test_admin_api import admin_call
from tests.integration.test_sla_rules import at, berlin_office
from tests.integration.test_sla_sweep import OUTAGE


def _risk_events(desk):
    """A rule of this test's own on the desk's bus, copying SlaRisk events to a queue."""
    events, sqs = desk.client("events"), desk.client("sqs")
    suffix = uuid.uuid4().hex[:8]
    queue = sqs.create_queue(QueueName=f"risk-{suffix}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=f"risk-{suffix}", EventBusName=desk.bus_name,
                    EventPattern=json.dumps({"detail-type": ["SlaRisk"]}))
    events.put_targets(Rule=f"risk-{suffix}", EventBusName=desk.bus_name, Targets=[{"Id": "q", "Arn": arn}])

    def read():
        got = []
        while batch := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
            got += [json.loads(m["Body"])["detail"] for m in batch]
            sqs.delete_message_batch(QueueUrl=queue, Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(batch)])
        return got
    return read


def _waiting_by_risk(desk, query="view=unassigned&sort=breach_risk&limit=2"):
    items, cursor = [], None
    while True:
        status, body = agent(desk, "GET", "/agent/conversations", "lead", groups="[supervisors]",
                             query=query + (f"&cursor={cursor}" if cursor else ""))
        assert status == 200, body
        items += body["items"]
        cursor = body["next_cursor"]
        if not cursor:
            return items


def test_a_queue_with_too_little_capacity_raises_risk_and_one_event_per_conversation(desk):
    berlin_office(desk)                                  # first response within 2 business hours
    read = _risk_events(desk)
    # Given one agent with one slot and conversations that hold a slot two hours on average
    online(desk, "alice")
    assert admin_call(desk, "PUT", "/admin/agents/alice", "[admins]", {"capacity": 1, "teams": ["default"]})[0] == 200
    assert admin_call(desk, "PUT", "/admin/routing", "[admins]", {"average_handle_seconds": 7200})[0] == 200
    at("2026-11-23T08:00:00+00:00")                      # Monday 09:00 in Berlin
    convs = [customer_writes(desk, f"+3161777{i:04d}", "Hello, a question about my order", f"SMrisk{i}")
             for i in range(5)]
    desk.drain_queue(desk.work_queue_url, "router")
    # When the sweep runs, before any SLA warning is due
    at("2026-11-23T08:01:00+00:00")
    report = desk.invoke("sla_sweep", {})
    # Then every waiting conversation has a risk, rising with the queue ahead of it
    queue_order = [c["id"] for c in agent(desk, "GET", "/agent/conversations", "lead", groups="[supervisors]",
                                          query="view=unassigned")[1]["items"]]
    assert len(queue_order) == 4 and set(queue_order) < set(convs)
    risks = {c: float(desk.item(f"CONV#{c}")["breach_risk"]) for c in queue_order}
    ordered = [risks[c] for c in queue_order]
    assert ordered == sorted(ordered) and ordered[0] < ordered[-1] and ordered[-1] > 0.9
    # and those at or over the threshold raised one SlaRisk event each, with a record on the board
    likely = {c for c, r in risks.items() if r >= 0.5}
    assert likely and report["at_risk"] == len(likely)
    events = read()
    assert sorted(e["conversation_id"] for e in events) == sorted(likely)
    assert {e["target"] for e in events} == {"first_response"} and all(e["risk"] >= 0.5 for e in events)
    status, board = admin_call(desk, "GET", "/admin/sla-events", "[supervisors]")
    assert status == 200, board
    assert sorted(e["conversation_id"] for e in board["items"] if e["kind"] == "risk") == sorted(likely)
    # When the sweep runs again, nothing is raised twice
    at("2026-11-23T08:02:00+00:00")
    assert desk.invoke("sla_sweep", {})["at_risk"] == 0
    assert read() == []
    # The agent API sorts the waiting conversations by their risk, page by page, and shows it
    by_risk = _waiting_by_risk(desk)
    assert [c["id"] for c in by_risk] == list(reversed(queue_order))
    assert [c["breach_risk"] for c in by_risk] == sorted((c["breach_risk"] for c in by_risk), reverse=True)
    # The assigned conversation shows no risk
    held = next(c for c in convs if c not in queue_order)
    assert agent(desk, "GET", f"/agent/conversations/{held}", "alice")[1]["breach_risk"] is None


def test_a_risk_warning_the_bus_did_not_take_is_announced_by_the_next_sweep_once(desk):
    berlin_office(desk)
    read = _risk_events(desk)
    online(desk, "alice")
    assert admin_call(desk, "PUT", "/admin/agents/alice", "[admins]", {"capacity": 1, "teams": ["default"]})[0] == 200
    assert admin_call(desk, "PUT", "/admin/routing", "[admins]", {"average_handle_seconds": 7200})[0] == 200
    at("2026-11-23T08:00:00+00:00")                      # Monday 09:00 in Berlin
    convs = [customer_writes(desk, f"+3161778{i:04d}", "Hello, a question about my order", f"SMriskbus{i}")
             for i in range(5)]
    desk.drain_queue(desk.work_queue_url, "router")
    # Given the bus gone (an outage) when the sweep raises the risk warnings: it fails after recording them
    at("2026-11-23T08:01:00+00:00")
    with pytest.raises(Exception, match=OUTAGE):
        desk.invoke("sla_sweep", {}, EVENT_BUS_NAME="no-such-bus")
    likely = {c for c in convs if float(desk.item(f"CONV#{c}").get("breach_risk") or 0) >= 0.5}
    assert likely and read() == []
    # When the next sweep runs, the bus back
    at("2026-11-23T08:02:00+00:00")
    report = desk.invoke("sla_sweep", {})
    # Then it announces each of them as detected, and counts them then (the failed sweep reported nothing)
    assert report["at_risk"] == len(likely)
    events = read()
    assert sorted(e["conversation_id"] for e in events) == sorted(likely)
    assert all(e["kind"] == "risk" and e["target"] == "first_response" and e["risk"] >= 0.5 and e["team"] == "default"
               and e["detected_at"].startswith("2026-11-23T08:01") for e in events)
    status, board = admin_call(desk, "GET", "/admin/sla-events", "[supervisors]")
    assert status == 200, board
    assert sorted(e["conversation_id"] for e in board["items"] if e["kind"] == "risk") == sorted(likely)
    # and the sweep after has nothing more to announce
    at("2026-11-23T08:03:00+00:00")
    assert desk.invoke("sla_sweep", {})["at_risk"] == 0
    assert read() == []


def test_sorting_by_risk_is_for_the_waiting_conversations_only(desk):
    status, body = agent(desk, "GET", "/agent/conversations", "alice", query="view=mine&sort=breach_risk")
    assert status == 400 and "view=unassigned" in body["detail"]
    status, body = agent(desk, "GET", "/agent/conversations", "alice",
                         query="view=unassigned&sort=breach_risk&cursor=bm90LWEtY3Vyc29y")
    assert status == 400, body
