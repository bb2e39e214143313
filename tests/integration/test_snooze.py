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
    assert status_of(desk, conv)[1][-1] == f"Snoozed until {until} by Alice"

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
    assert [m["event"] for m in body["messages"] if m["direction"] == "system"][-2:] == [
        {"kind": "snoozed", "params": {"until": until, "by": "alice"}}, {"kind": "snooze_ended", "params": {}}]


def test_a_sweep_short_of_time_leaves_the_wake_up_for_the_next_one(desk):
    from tests.integration.test_sla_sweep import Context
    # Given alice's conversation snoozed for an hour, and the hour passed
    online(desk, "alice")
    conv = customer_writes(desk, "+31612348009", "Back in an hour", "SMsz9")
    desk.drain_queue(desk.work_queue_url, "router")
    until = clock.iso(clock.now() + timedelta(hours=1))
    agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "snoozed", "until": until})
    offset = clock.offset()
    clock.set_offset(offset + 3700)
    sweep = desk.handler("sla_sweep")
    try:
        # When a sweep has no time left, it runs no timer and the wake-up stays due
        assert sweep.lambda_handler({}, Context(seconds=9))["deferred"] >= 1
        assert status_of(desk, conv)[0] == "snoozed"
        assert desk.item(f"CONV#{conv}", "DEADLINE#snooze_wake") is not None
        # Then the next sweep with time opens it again
        assert sweep.lambda_handler({}, Context(seconds=50))["released"] == 0
    finally:
        clock.set_offset(offset)
    assert status_of(desk, conv)[0] == "open"


def test_a_snooze_set_again_while_the_sweep_wakes_the_last_one_is_not_lost(desk, monkeypatch):
    import shopdesk.logic.sla as sla
    # Given alice's conversation snoozed for an hour, and the hour passed
    online(desk, "alice")
    conv = customer_writes(desk, "+31612348010", "Back in an hour", "SMsz10")
    desk.drain_queue(desk.work_queue_url, "router")
    until = clock.iso(clock.now() + timedelta(hours=1))
    agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "snoozed", "until": until})
    offset = clock.offset()
    clock.set_offset(offset + 3700)
    again = clock.iso(clock.now() + timedelta(hours=2))
    woken = sla.wake

    def wake_then_snooze_again(conversations, book, conversation_id):   # alice, the moment it opens
        woken(conversations, book, conversation_id)
        assert agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice",
                     {"status": "snoozed", "until": again})[0] == 200

    monkeypatch.setattr(sla, "wake", wake_then_snooze_again)
    try:
        # When the sweep wakes it and alice snoozes it again before the sweep finishes its timers
        desk.invoke("sla_sweep", {})
        # Then her new wake-up is still in the due index, and opens the conversation when its time comes
        assert desk.item(f"CONV#{conv}", "DEADLINE#snooze_wake")["due_at"] == again
        monkeypatch.setattr(sla, "wake", woken)
        clock.set_offset(offset + 3700 + 2 * 3600 + 60)
        desk.invoke("sla_sweep", {})
    finally:
        clock.set_offset(offset)
    assert status_of(desk, conv)[0] == "open"


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


def test_a_snooze_is_one_timeline_entry_and_moving_it_or_snoozing_a_resolved_one_says_so(desk):
    # Given alice's conversation
    online(desk, "alice")
    conv = customer_writes(desk, "+31612348006", "Ring me next week", "SMsz6")
    desk.drain_queue(desk.work_queue_url, "router")
    before = len(status_of(desk, conv)[1])
    first, later = (clock.iso(clock.now() + timedelta(hours=h)) for h in (1, 3))

    def snooze(until: str) -> None:
        status, body = agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice",
                             {"status": "snoozed", "until": until})
        assert status == 200, body

    # When she snoozes it, then moves the snooze to a later time
    snooze(first)
    assert status_of(desk, conv)[1][before:] == [f"Snoozed until {first} by Alice"]      # one entry, not two
    snooze(later)
    # Then the move is one more entry, and the timer follows it
    assert status_of(desk, conv)[1][before:] == [f"Snoozed until {first} by Alice", f"Snoozed until {later} by Alice"]
    assert desk.item(f"CONV#{conv}", "DEADLINE#snooze_wake")["due_at"] == later
    # And a resolved conversation snoozed says it was reopened, then until when
    assert agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "resolved"})[0] == 200
    snooze(first)
    assert status_of(desk, conv)[1][-2:] == ["Reopened by Alice", f"Snoozed until {first} by Alice"]
    assert status_of(desk, conv)[0] == "snoozed"


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


def test_a_preset_is_computed_from_the_conversations_calendar_and_shown_until_it_wakes(desk):
    from shopdesk.logic.snooze import SnoozePreset, preset_time
    from shopdesk.models.sla import BusinessHours
    from tests.integration.test_sla_rules import berlin_office

    # Given a conversation whose clocks run on a Berlin office calendar
    berlin_office(desk)
    online(desk, "alice")
    conv = customer_writes(desk, "+31612348004", "Send it next week please", "SMsz4")
    desk.drain_queue(desk.work_queue_url, "router")
    hours = BusinessHours.model_validate({k: v for k, v in desk.item("CONFIG#calendar", "berlin-office").items()
                                          if k in ("time_zone", "weekly", "holidays")})
    # When alice snoozes it until next week
    status, body = agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice",
                         {"status": "snoozed", "preset": "next_week"})
    assert status == 200, body
    # Then it ends at the opening of next week's first business day, in the calendar's zone
    expected = preset_time(SnoozePreset.NEXT_WEEK, clock.now(), hours)
    until = clock.parse_iso(body["snoozed_until"])
    assert abs((until - expected).total_seconds()) < 60          # the same preset, a moment apart
    assert until.astimezone(hours.zone).strftime("%a %H:%M") in (
        "Mon 09:00", "Tue 09:00")                     # Tuesday when Monday is the calendar's holiday
    assert desk.item(f"CONV#{conv}", "DEADLINE#snooze_wake")["due_at"] == clock.iso(until)
    assert status_of(desk, conv)[1][-1] == f"Snoozed until {clock.iso(until)} by Alice"
    # And it is not in alice's open view any more, nor the all view's open filter
    _, mine = agent(desk, "GET", "/agent/conversations", "alice", query="view=mine&status=open")
    assert conv not in [c["id"] for c in mine["items"]]


def test_a_preset_is_checked_like_until(desk):
    conv = customer_writes(desk, "+31612348005", "hi", "SMsz5")
    future = clock.iso(clock.now() + timedelta(hours=1))
    cases = [({"status": "pending", "preset": "later_today"}, 400, "snoozed"),
             ({"status": "snoozed", "preset": "later_today", "until": future}, 400, "not both"),
             ({"status": "snoozed", "preset": "someday"}, 422, "preset")]
    for body, expected, words in cases:
        status, answer = agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", body)
        assert status == expected, (body, answer)
        assert words in json.dumps(answer), answer
    assert status_of(desk, conv)[0] == "open"


def test_the_customer_writing_ends_a_snooze_at_once_and_the_assignee_keeps_it(desk):
    # Given alice's conversation snoozed until tomorrow
    online(desk, "alice")
    conv = customer_writes(desk, "+31612348006", "I will check and come back", "SMsz6")
    desk.drain_queue(desk.work_queue_url, "router")
    status, body = agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice",
                         {"status": "snoozed", "preset": "tomorrow_morning"})
    assert status == 200 and body["snoozed_until"] and body["sla"]["paused"] is True
    # When the customer writes
    customer_writes(desk, "+31612348006", "Found it: order 1234", "SMsz7")
    desk.drain_queue(desk.work_queue_url, "router")
    # Then it is open again at once, still alice's, clocks running, and no longer shows a snooze time
    _, body = agent(desk, "GET", f"/agent/conversations/{conv}", "alice")
    assert body["status"] == "open" and body["assignee"] == "alice"
    assert body["sla"]["paused"] is False and body["snoozed_until"] is None
    # and the sweep's later wake-up changes nothing
    offset = clock.offset()
    clock.set_offset(offset + 3 * 86400)
    try:
        desk.invoke("sla_sweep", {})
    finally:
        clock.set_offset(offset)
    assert status_of(desk, conv)[1][-1] != "Snooze ended: open again"
