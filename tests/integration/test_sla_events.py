"""SLA warnings and breaches recorded as the sweep flags them, and read back for the supervisor board."""

from __future__ import annotations

import json
import threading

import pytest

from shopdesk import clock
from tests.integration.helpers import agent, customer_writes, online
from tests.integration.test_admin_api import admin_call
from tests.integration.test_sla_rules import at, berlin_office
from tests.integration.test_sla_sweep import Context
from tests.support import http_event


@pytest.fixture
def office(desk):
    return berlin_office(desk)


def _events(desk, query: str = "", groups: str = "[supervisors]") -> tuple[int, dict]:
    return admin_call(desk, "GET", "/admin/sla-events", groups, query=query)


def test_each_warning_and_breach_is_recorded_once_and_listed_newest_first(office):
    desk = office
    # Given two customers write on Monday 09:00 Berlin (first response due in two business hours, warned at one)
    online(desk, "alice")
    at("2026-11-23T08:00:00+00:00")
    held = customer_writes(desk, "+31611100001", "hi", "SMev1")
    desk.drain_queue(desk.work_queue_url, "router")
    online(desk, "alice")
    admin_call(desk, "PUT", "/admin/agents/alice", "[admins]", {"capacity": 1, "teams": ["default"]})
    waiting = customer_writes(desk, "+31611100002", "hello?", "SMev2")     # alice is full: it waits
    desk.drain_queue(desk.work_queue_url, "router")
    assert desk.item(f"CONV#{waiting}").get("assignee") is None
    # When the sweep runs at the warning time, twice
    at("2026-11-23T09:00:30+00:00")
    desk.invoke("sla_sweep", {})
    desk.invoke("sla_sweep", {})
    # Then one warning per conversation is recorded
    status, body = _events(desk)
    assert status == 200, body
    assert sorted((e["kind"], e["conversation_id"], e["target"]) for e in body["items"]) == sorted(
        [("warning", held, "first_response"), ("warning", waiting, "first_response")])
    assert body["more"] is False
    # When the deadline passes and the sweep flags the breaches
    at("2026-11-23T10:00:30+00:00")
    desk.invoke("sla_sweep", {})
    desk.client("dynamodb").update_item(         # the customer is named meanwhile: the board shows the name now
        TableName=desk.table_name, Key={"PK": {"S": f"CONV#{held}"}, "SK": {"S": "META"}},
        UpdateExpression="SET customer.#n = :n", ExpressionAttributeNames={"#n": "name"},
        ExpressionAttributeValues={":n": {"S": "Ada Lovelace"}})
    status, body = _events(desk)
    kinds = [(e["kind"], e["conversation_id"]) for e in body["items"]]
    assert sorted(kinds[:2]) == sorted([("breach", held), ("breach", waiting)])          # newest first
    assert sorted(kinds[2:]) == sorted([("warning", held), ("warning", waiting)])
    breach = next(e for e in body["items"] if e["kind"] == "breach" and e["conversation_id"] == held)
    assert breach["team"] == "default" and breach["assignee"] == "alice" and breach["priority"] == "high"
    assert next(e for e in body["items"] if e["conversation_id"] == waiting)["assignee"] is None
    assert breach["customer_name"] == "Ada Lovelace"                       # read from the conversation, not stored
    # a customer with no name is named as the inbox names them, by their phone (not by the conversation's id)
    assert next(e for e in body["items"] if e["conversation_id"] == waiting)["customer_name"] == "+31611100002"
    assert breach["at"].startswith("2026-11-23T10:00") and breach["due_at"].startswith("2026-11-23T10:00:00")
    # And half an hour later a window of one hour holds only the breaches; a limit of one says there is more
    at("2026-11-23T10:30:00+00:00")
    assert {e["kind"] for e in _events(desk, "hours=1")[1]["items"]} == {"breach"}
    status, one = _events(desk, "limit=1")
    assert len(one["items"]) == 1 and one["more"] is True
    # And the records expire two days after
    item = desk.client("dynamodb").query(TableName=desk.table_name, KeyConditionExpression="PK = :pk",
                                         ExpressionAttributeValues={":pk": {"S": "SLAEVENT#2026-11-23"}})["Items"][0]
    assert int(item["ttl"]["N"]) == int(clock.parse_iso(item["at"]["S"]).timestamp()) + 2 * 86400
    assert "customer_name" not in item and "customer" not in item           # nothing personal in the record


def test_the_last_24_hours_span_two_day_partitions(office):
    desk = office
    at("2026-11-23T14:30:00+00:00")                # Monday 15:30 Berlin: due Tuesday 09:30
    conv = customer_writes(desk, "+31611100003", "late question", "SMev3")
    desk.drain_queue(desk.work_queue_url, "router")
    at("2026-11-23T15:30:30+00:00")                 # warning at 16:30 Berlin, Monday (UTC day 23)
    desk.invoke("sla_sweep", {})
    at("2026-11-24T08:30:30+00:00")                 # breach at 09:30 Berlin, Tuesday (UTC day 24)
    desk.invoke("sla_sweep", {})
    status, body = _events(desk)
    assert status == 200
    # (the breach-risk warnings the sweep raises before the SLA warning are on the board too: not this test's)
    sla = [e for e in body["items"] if e["kind"] != "risk"]
    assert [(e["kind"], e["at"][:10]) for e in sla] == [("breach", "2026-11-24"), ("warning", "2026-11-23")]
    assert all(e["conversation_id"] == conv for e in body["items"])
    # a day later the warning has left the window, the breach not yet
    at("2026-11-24T16:00:00+00:00")
    assert [e["kind"] for e in _events(desk)[1]["items"] if e["kind"] != "risk"] == ["breach"]
    # and a team filter keeps that team's (an admin may name any team)
    assert _events(desk, "team=vip", groups="[admins]")[1]["items"] == []


def test_overlapping_sweeps_record_each_breach_once(office):
    desk = office
    at("2026-11-23T08:00:00+00:00")
    convs = [customer_writes(desk, f"+316112{i:05d}", "hi", f"SMevo{i}") for i in range(6)]
    desk.drain_queue(desk.work_queue_url, "router")
    at("2026-11-23T10:00:30+00:00")              # past both the warning and the deadline: breaches only
    sweep = desk.handler("sla_sweep")
    offset = clock.offset()

    def run() -> None:
        clock.set_offset(offset)
        sweep.lambda_handler({}, Context(seconds=50))
    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    items = _events(desk, "limit=1000")[1]["items"]
    assert sorted(e["conversation_id"] for e in items if e["kind"] == "breach") == sorted(convs)


def _board(desk, who: str, groups: str, query: str = "") -> tuple[int, dict]:
    event = http_event("GET", "/admin/sla-events", query=query, claims={"cognito:username": who,
                                                                        "cognito:groups": groups})
    result = desk.invoke("admin_api", event)
    return result["statusCode"], json.loads(result["body"])


def test_a_supervisor_s_board_holds_only_their_teams_conversations(office):
    desk = office
    # Given a supervisor of the default team and one of returns (their agent records name their teams)
    assert admin_call(desk, "PUT", "/admin/teams/returns", "[admins]", {"id": "returns", "name": "Returns"})[0] == 200
    for who, team in (("sara", "default"), ("rick", "returns")):
        assert agent(desk, "GET", "/agent/me", who)[0] == 200          # the record made on first use
        assert admin_call(desk, "PUT", f"/admin/agents/{who}", "[admins]", {"teams": [team]})[0] == 200
    # and three conversations of the default team warned by the sweep, one of them moved to returns since
    at("2026-11-23T08:00:00+00:00")
    convs = [customer_writes(desk, f"+316113{i:05d}", "hi", f"SMteam{i}") for i in range(3)]
    desk.drain_queue(desk.work_queue_url, "router")
    at("2026-11-23T09:00:30+00:00")
    desk.invoke("sla_sweep", {})
    status, moved = agent(desk, "PUT", f"/agent/conversations/{convs[2]}/routing", "root", {"team": "returns"},
                          groups="[admins]")
    assert status == 200 and moved["team"] == "returns", moved

    def seen(who: str, groups: str, query: str = "") -> set[str]:
        status, body = _board(desk, who, groups, query)
        assert status == 200, body
        return {e["conversation_id"] for e in body["items"]}
    # Then an admin's board holds all three, each supervisor's only their teams' (a conversation counts under
    # its team now, not the one it had when it was flagged)
    assert seen("root", "[admins]") == set(convs)
    assert seen("sara", "[supervisors]") == set(convs[:2])
    assert seen("rick", "[supervisors]") == {convs[2]}
    # and a supervisor may narrow the board to a team of theirs, not look at another's; an admin at any
    assert seen("sara", "[supervisors]", "team=default") == set(convs[:2])
    status, refused = _board(desk, "rick", "[supervisors]", "team=default")
    assert status == 403 and refused["status"] == 403
    assert seen("root", "[admins]", "team=returns") == {convs[2]}
    # and a limit counts the supervisor's own events: one of two, with more to come
    status, one = _board(desk, "sara", "[supervisors]", "limit=1")
    assert len(one["items"]) == 1 and one["items"][0]["conversation_id"] in convs[:2] and one["more"] is True


def test_only_supervisors_and_admins_read_the_events(desk):
    assert _events(desk, groups="[]")[0] == 403
    assert _events(desk, groups="[admins]")[0] == 200
    assert _events(desk, "hours=0")[0] == 422
