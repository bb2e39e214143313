"""A merge of two customers who both had an open conversation, undone, as the event lake reports it (through the
real handlers on moto, the table's stream through the writer, the reports API on DuckDB): the conversation merged
away was resolved by nobody and met no target, the unmerge reopened nothing and started no new cycle, SLA outcomes
are the holder's, and a warning is dated when the sweep raised it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import pytest

from shopdesk import clock
from shopdesk.analytics.events import EventType, derive
from shopdesk.dal.table import deserialize
from shopdesk.logic.business_time import ClockState, ConversationClocks
from tests.integration.helpers import agent, customer_writes, online
from tests.integration.test_admin_api import admin_call
from tests.integration.test_analytics import Frozen, Lake

TARGETS = {"first_response": 600, "next_response": 600, "resolution": 3600}
QUERY = "from=2026-11-23&to=2026-11-24&tz=UTC"
ANNA, BEN = "+31611000301", "+31611000302"


def _events(lake: Lake) -> list[Any]:
    found = []
    for record in lake.records:
        data = record["dynamodb"]
        found += derive(record["eventName"], deserialize(data["Keys"]),
                        deserialize(data["NewImage"]) if "NewImage" in data else None,
                        deserialize(data["OldImage"]) if "OldImage" in data else None,
                        datetime.fromtimestamp(data["ApproximateCreationDateTime"]))
    return found


@pytest.fixture
def frozen() -> Iterator[Frozen]:
    """The one clock stopped at the instants the story names (durations to the millisecond)."""
    stopped, real = Frozen(), clock.time
    clock.time = stopped              # type: ignore[assignment]
    try:
        yield stopped
    finally:
        clock.time = real             # type: ignore[assignment]


@pytest.fixture
def merged_and_undone(desk, frozen):
    """Ben writes Monday 09:00:00 and Anna 09:00:30 (two customers, each an open conversation, both alice's);
    alice merges Ben into Anna at 09:01:40 (Ben's conversation goes into Anna's) and undoes it at 09:03:10; the
    sweep runs at 09:06:00 (both first responses half used: warned); alice answers Ben at 09:06:40 and resolves
    his conversation at 09:08:20. Clocks always open: first response 10 minutes, resolution an hour."""
    status, body = admin_call(desk, "PUT", "/admin/sla-policies/standard", "[admins]", {
        "id": "standard", "name": "Standard", "warning_fraction": 0.5,
        "targets": {p: TARGETS for p in ("urgent", "high", "normal", "low")}})
    assert status == 200, body

    def at(iso: str) -> None:
        frozen.now = datetime.fromisoformat(iso).timestamp()
    at("2026-11-23T08:59:00+00:00")
    online(desk, "alice")
    at("2026-11-23T09:00:00+00:00")
    ben_conv = customer_writes(desk, BEN, "Where is my parcel?", "SMmerge1")
    desk.drain_queue(desk.work_queue_url, "router")
    at("2026-11-23T09:00:30+00:00")
    anna_conv = customer_writes(desk, ANNA, "Can I change my address?", "SMmerge2")
    desk.drain_queue(desk.work_queue_url, "router")
    anna, ben = (desk.item(f"IDENTITY#phone#{p}")["customer_id"] for p in (ANNA, BEN))
    at("2026-11-23T09:01:40+00:00")
    status, merge = agent(desk, "POST", f"/agent/customers/{anna}/merge", "alice", {"other_id": ben, "reason": "same"})
    assert status == 200, merge
    assert desk.item(f"CONV#{ben_conv}")["folded_into"] == anna_conv
    at("2026-11-23T09:03:10+00:00")
    status, undone = agent(desk, "POST", f"/agent/customers/{anna}/unmerge", "alice",
                           {"merge_id": merge["id"], "reason": "not the same person"})
    assert status == 200, undone
    given_back = desk.item(f"CONV#{ben_conv}")
    desk.drain_queue(desk.work_queue_url, "router")
    if desk.item(f"CONV#{ben_conv}").get("assignee") != "alice":
        assert agent(desk, "POST", f"/agent/conversations/{ben_conv}/assignment", "alice",
                     {"agent_id": "alice"})[0] == 200
    at("2026-11-23T09:06:00+00:00")
    assert desk.invoke("sla_sweep", {})["warned"] >= 1
    at("2026-11-23T09:06:40+00:00")
    assert agent(desk, "POST", f"/agent/conversations/{ben_conv}/replies", "alice", {"text": "It ships today."})[0] \
        == 202
    at("2026-11-23T09:08:20+00:00")
    assert agent(desk, "POST", f"/agent/conversations/{ben_conv}/status", "alice", {"status": "resolved"})[0] == 200
    lake = Lake(desk)
    lake.pump()
    return SimpleNamespace(lake=lake, ben_conv=ben_conv, anna_conv=anna_conv, given_back=given_back)


def test_an_undone_merge_is_no_resolve_no_reopen_and_no_new_cycle(merged_and_undone):
    lake, ben_conv = merged_and_undone.lake, merged_and_undone.ben_conv
    status, summary = lake.report("/reports/summary", QUERY)
    assert status == 200, summary
    # Then Ben's conversation was resolved once, by alice; the merge resolved nothing and the unmerge reopened nothing
    assert (summary["resolution"]["resolved"], summary["resolution"]["reopened"]) == (1, 0)
    assert summary["resolution"]["reopen_rate"] == 0.0
    # and its first response and resolution are measured from Ben's message, not from the unmerge
    assert (summary["first_response"]["count"], summary["first_response"]["median_s"]) == (1, 400.0)
    assert (summary["resolution"]["count"], summary["resolution"]["median_s"]) == (1, 500.0)
    changes = [(e.from_value, e.to_value, e.reason) for e in _events(lake)
               if e.type is EventType.STATUS_CHANGED and e.conversation_id == ben_conv]
    assert changes == [("open", "resolved", "merged"), ("resolved", "open", "unmerged"), ("open", "resolved", None)]


def test_the_conversation_given_back_goes_on_with_its_cycle_and_its_waiting_customer(merged_and_undone):
    item = merged_and_undone.given_back
    # Then, right after the unmerge, Ben's conversation is open, no longer merged, in the cycle of his message, and
    # Ben (nobody answered him in Anna's meanwhile) waits since his message, first in the queue by it
    assert item["status"] == "open" and "folded_into" not in item and "folded_awaiting_since" not in item
    assert item["cycle_started_at"] == item["created_at"] == "2026-11-23T09:00:00.000Z"
    assert item["awaiting_since"] == item["waiting_since"] == "2026-11-23T09:00:00.000Z"
    # and its clocks are the ones it had, running since his message
    clocks = ConversationClocks.model_validate_json(item["clocks_json"])
    assert clocks.first_response is not None and clocks.first_response.state is ClockState.RUNNING
    assert clocks.first_response.started_at == datetime.fromisoformat("2026-11-23T09:00:00+00:00")


def test_a_customer_answered_while_merged_no_longer_waits_when_the_merge_is_undone(desk, frozen):
    # Given Ben's conversation merged into Anna's, where alice answered (on SMS, which reaches them both) meanwhile
    online(desk, "alice")
    ben_conv = customer_writes(desk, BEN, "Where is my parcel?", "SMmerge3")
    anna_conv = customer_writes(desk, ANNA, "Can I change my address?", "SMmerge4")
    desk.drain_queue(desk.work_queue_url, "router")
    anna, ben = (desk.item(f"IDENTITY#phone#{p}")["customer_id"] for p in (ANNA, BEN))
    status, merge = agent(desk, "POST", f"/agent/customers/{anna}/merge", "alice", {"other_id": ben, "reason": "same"})
    assert status == 200 and desk.item(f"CONV#{ben_conv}")["folded_into"] == anna_conv, merge
    assert agent(desk, "POST", f"/agent/conversations/{anna_conv}/replies", "alice", {"text": "On its way."})[0] == 202
    # When the merge is undone
    assert agent(desk, "POST", f"/agent/customers/{anna}/unmerge", "alice",
                 {"merge_id": merge["id"], "reason": "not the same person"})[0] == 200
    # Then Ben's conversation is back in its cycle, but nobody owes him an answer since his message any more
    item = desk.item(f"CONV#{ben_conv}")
    assert item["status"] == "open" and item["cycle_started_at"] == item["created_at"]
    assert "awaiting_since" not in item


def test_the_merge_meets_no_target_and_every_outcome_is_the_holders(merged_and_undone):
    lake, ben_conv = merged_and_undone.lake, merged_and_undone.ben_conv
    status, body = lake.report("/reports/metrics", f"metric=sla_compliance&{QUERY}&group_by=agent")
    assert status == 200, body
    # Then Ben's first response (400 s of 600) and resolution (500 s of an hour) were met, alice's, once each: the
    # merge ended neither, and no outcome fell to nobody
    assert [(r["key"], r["target"], r["met"], r["breached"]) for r in body["items"]] == [
        ("alice", "first_response", 1, 0), ("alice", "resolution", 1, 0)]
    outcomes = [(e.target, e.business_s) for e in _events(lake)
                if e.type in (EventType.SLA_MET, EventType.SLA_BREACHED) and e.conversation_id == ben_conv]
    assert sorted(outcomes) == [("first_response", 400.0), ("resolution", 500.0)]


def test_by_agent_the_figures_nobody_is_credited_with_are_refused(merged_and_undone):
    lake = merged_and_undone.lake
    for name in ("conversations", "messages_received"):
        status, body = lake.report("/reports/metrics", f"metric={name}&{QUERY}&group_by=agent")
        assert status == 400 and "group_by=team" in body["detail"], body
    status, body = lake.report("/reports/metrics", f"metric=conversations&{QUERY}&group_by=channel")
    assert status == 200 and body["items"] == [{"key": "sms", "value": 2}], body


def test_a_warning_is_dated_when_the_sweep_raised_it(merged_and_undone):
    lake, ben_conv, anna_conv = merged_and_undone.lake, merged_and_undone.ben_conv, merged_and_undone.anna_conv
    warned = {(e.conversation_id, e.target): e.occurred_at for e in _events(lake) if e.type is EventType.SLA_WARNED}
    # Then both first responses were warned at the sweep's 09:06, not at their conversations' last change (09:03)
    assert warned == {(ben_conv, "first_response"): "2026-11-23T09:06:00.000Z",
                      (anna_conv, "first_response"): "2026-11-23T09:06:00.000Z"}
