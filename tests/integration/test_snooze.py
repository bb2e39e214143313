"""Snoozing until a time: the conversation waits paused and opens again by itself when the time comes."""

from __future__ import annotations

import json
from datetime import timedelta

from shopdesk import clock
from tests.integration.helpers import agent, customer_writes, online


def status_of(desk, conv: str) -> tuple[str, list[str]]:
    _, body = agent(desk, "GET", f"/agent/conversations/{conv}", "alice")
    return body["status"], [m["text"] for m in body["messages"] if m["direction"] == "system"]


def test_a_snooze_until_a_time_opens_the_conversation_again_at_that_time(desk):
    # Given alice's conversation, snoozed for one hour
    online(desk, "alice")
    conv = customer_writes(desk, "+31612348001", "Call me back tomorrow", "SMsz1")
    desk.drain_queue(desk.work_queue_url, "router")
    until = clock.iso(clock.now() + timedelta(hours=1))
    status, body = agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice",
                         {"status": "snoozed", "until": until})
    assert status == 200, body
    assert body["status"] == "snoozed"
    assert body["sla"]["paused"] is True
    assert status_of(desk, conv)[1][-1] == f"Snoozed until {until} by alice"

    # When the sweep runs before the time, nothing happens
    desk.invoke("sla_sweep", {})
    assert status_of(desk, conv)[0] == "snoozed"

    # And when it runs after the time, the conversation is open again, still alice's, clocks running
    offset = clock.offset()
    clock.set_offset(offset + 3700)
    try:
        desk.invoke("sla_sweep", {})
    finally:
        clock.set_offset(offset)
    state, notes = status_of(desk, conv)
    assert state == "open" and notes[-1] == "Snooze ended: open again"
    _, body = agent(desk, "GET", f"/agent/conversations/{conv}", "alice")
    assert body["assignee"] == "alice" and body["sla"]["paused"] is False


def test_changing_the_status_before_the_time_cancels_the_wake_up(desk):
    online(desk, "alice")
    conv = customer_writes(desk, "+31612348002", "hi", "SMsz2")
    desk.drain_queue(desk.work_queue_url, "router")
    until = clock.iso(clock.now() + timedelta(minutes=30))
    agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "snoozed", "until": until})
    agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "pending"})
    assert desk.item(f"CONV#{conv}", "DEADLINE#snooze_wake") is None
    offset = clock.offset()
    clock.set_offset(offset + 3600)
    try:
        desk.invoke("sla_sweep", {})
    finally:
        clock.set_offset(offset)
    assert status_of(desk, conv)[0] == "pending"


def test_until_must_be_a_future_time_with_a_zone_and_only_with_snoozed(desk):
    conv = customer_writes(desk, "+31612348003", "hi", "SMsz3")
    past = clock.iso(clock.now() - timedelta(minutes=1))
    future = clock.iso(clock.now() + timedelta(hours=1))
    cases = [({"status": "snoozed", "until": past}, 400, "future"),
             ({"status": "snoozed", "until": "2030-01-01T09:00:00"}, 400, "time zone"),
             ({"status": "pending", "until": future}, 400, "snoozed"),
             ({"status": "snoozed", "until": "tomorrow"}, 422, "until")]
    for body, expected, words in cases:
        status, answer = agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", body)
        assert status == expected, (body, answer)
        assert words in json.dumps(answer), answer   # problem detail or older message
    assert status_of(desk, conv)[0] == "open"
