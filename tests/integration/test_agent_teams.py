"""Agents in several teams: each conversation stays in its team, capacity is one number across them,
and freed capacity goes to the most urgent, longest waiting conversation of any of the agent's teams."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.integration.helpers import agent, customer_writes, online
from tests.integration.helpers import teams as create_teams
from tests.integration.test_admin_api import admin_call


@pytest.fixture(autouse=True)
def _router_run_by_the_tests(desk):
    """These tests run the router themselves, at the moments they test (``Desk.routes_before_agents``)."""
    desk.routes_before_agents = False

# SMS goes to billing, WhatsApp to returns
TEAMS_BY_CHANNEL = {"default_team": "billing", "team_by_channel": {"whatsapp": "returns"}}


def _owner(desk, conv):
    return desk.item(f"CONV#{conv}").get("assignee")


def _set_agent(desk, agent_id, **settings):
    agent(desk, "GET", "/agent/me", agent_id)                       # signs in: the agent exists
    status, body = admin_call(desk, "PUT", f"/admin/agents/{agent_id}", "[admins]", {"capacity": 3, **settings})
    assert status == 200, body
    return body


def _billing(desk, phone, sid):
    return customer_writes(desk, phone, "about my invoice", sid)


def _returns(desk, phone, sid):
    return customer_writes(desk, phone, "about my return", sid, channel="whatsapp")


def _escalate(desk, conv):
    """Raise a waiting conversation to high priority, as the sweep does on a breach."""
    queue_sk = desk.item(f"CONV#{conv}")["QueueSK"]
    desk.client("dynamodb").update_item(
        TableName=desk.table_name, Key={"PK": {"S": f"CONV#{conv}"}, "SK": {"S": "META"}},
        UpdateExpression="SET priority = :p, QueueSK = :q",
        ExpressionAttributeValues={":p": {"S": "high"}, ":q": {"S": "1#" + queue_sk.split("#", 1)[1]}})


def _memberships(desk, agent_id):
    rows = desk.client("dynamodb").query(
        TableName=desk.table_name, KeyConditionExpression="PK = :pk AND begins_with(SK, :team)",
        ExpressionAttributeValues={":pk": {"S": f"AGENT#{agent_id}"}, ":team": {"S": "TEAM#"}},
        ConsistentRead=True)["Items"]
    return {r["SK"]["S"].removeprefix("TEAM#"): r["PoolSK"]["S"] for r in rows}


@pytest.fixture
def teams(desk):
    create_teams(desk, "billing", "returns")
    assert admin_call(desk, "PUT", "/admin/routing", "[admins]", TEAMS_BY_CHANNEL)[0] == 200
    return desk


def _create_team(desk, team_id, name, **more):
    status, body = admin_call(desk, "PUT", f"/admin/teams/{team_id}", "[admins]", {"id": team_id, "name": name, **more})
    assert status == 200, body


def test_agents_read_every_team_by_its_name_and_nothing_more(teams):
    desk = teams
    # Given returns created with a description, vip created, and billing created by the fixture
    _create_team(desk, "returns", "Returns & exchanges", description="Only the warehouse crew handles these")
    _create_team(desk, "vip", "VIP desk")
    # When an agent of no team reads the teams
    status, body = agent(desk, "GET", "/agent/teams", "vera")
    # Then each has its id and name, by name; no description, no version (a team only routing settings name has
    # its id as its name: test_a_team_only_a_label_routes_to_is_a_team_too; so has the default team, one of the
    # desk's always, though the routing settings send new conversations to billing)
    assert status == 200, body
    assert body == {"items": [{"id": "billing", "name": "Billing"}, {"id": "default", "name": "default"},
                              {"id": "returns", "name": "Returns & exchanges"}, {"id": "vip", "name": "VIP desk"}]}


def test_every_listed_team_is_one_a_conversation_can_be_sent_to(teams):
    desk = teams
    _create_team(desk, "vip", "VIP desk")
    conv = _billing(desk, "+31640000091", "SMt1")
    _, listed = agent(desk, "GET", "/agent/teams", "root", groups="[admins]")
    for team in [t["id"] for t in listed["items"]]:
        status, body = agent(desk, "PUT", f"/agent/conversations/{conv}/routing", "root", {"team": team},
                             groups="[admins]")
        assert (status, body["team"]) == (200, team), body


def test_a_team_only_a_label_routes_to_is_a_team_too(desk):
    # Given routing settings, saved before saves checked their teams, that send conversations labelled "damaged"
    # to claims, a team nobody created
    desk.client("dynamodb").put_item(TableName=desk.table_name, Item={
        "PK": {"S": "CONFIG#routing"}, "SK": {"S": "settings"}, "type": {"S": "config"}, "version": {"N": "1"},
        "team_by_label": {"M": {"damaged": {"S": "claims"}}}})
    # (saving them again as they are is not refused for it; a new team nobody created is)
    assert admin_call(desk, "PUT", "/admin/routing", "[admins]", {"sticky_days": 3})[0] == 200
    status, problem = admin_call(desk, "PUT", "/admin/routing", "[admins]", {"team_by_label": {"lost": "claimz"}})
    assert status == 422 and problem["errors"][0]["loc"] == ["body", "team_by_label", "lost"], problem
    assert "'claimz' is not a team of this desk" in problem["errors"][0]["msg"] and "claims" in problem["detail"]
    conv = _billing(desk, "+31640000095", "SMt5")
    # Then agents see it among the teams, a conversation may be sent there, and the sweep drains its queue
    _, listed = agent(desk, "GET", "/agent/teams", "vera")
    assert {"id": "claims", "name": "claims"} in listed["items"]
    status, body = agent(desk, "PUT", f"/agent/conversations/{conv}/routing", "root", {"team": "claims"},
                         groups="[admins]")
    assert (status, body["team"]) == (200, "claims"), body
    assert "claims" in desk.handler("sla_sweep").book.teams()


def test_an_agent_in_two_teams_gets_conversations_from_both(teams):
    desk = teams
    _set_agent(desk, "alice", teams=["billing", "returns"])
    online(desk, "alice")
    invoice = _billing(desk, "+31640000001", "SMa1")
    parcel = _returns(desk, "+31640000002", "SMa2")
    desk.drain_queue(desk.work_queue_url, "router")
    assert (desk.item(f"CONV#{invoice}")["team"], desk.item(f"CONV#{parcel}")["team"]) == ("billing", "returns")
    assert (_owner(desk, invoice), _owner(desk, parcel)) == ("alice", "alice")
    assert desk.item("AGENT#alice")["active"] == 2


def test_a_conversation_never_goes_to_an_agent_only_in_another_team(teams):
    desk = teams
    # Given alice in both teams with her one seat taken, and bob online and idle, only in billing
    _set_agent(desk, "alice", teams=["billing", "returns"], capacity=1)
    _set_agent(desk, "bob", teams=["billing"])
    online(desk, "alice")
    held = _billing(desk, "+31640000011", "SMb1")
    desk.drain_queue(desk.work_queue_url, "router")
    online(desk, "bob")
    # When a returns conversation arrives, it waits for the returns team
    parcel = _returns(desk, "+31640000012", "SMb2")
    desk.drain_queue(desk.work_queue_url, "router")
    assert (_owner(desk, held), _owner(desk, parcel)) == ("alice", None)
    assert desk.item(f"CONV#{parcel}")["QueuePK"] == "QUEUE#returns"
    # Then alice's freed seat takes it, though the refill of her teams also sees bob, who waited longer
    assert agent(desk, "POST", f"/agent/conversations/{held}/status", "alice", {"status": "resolved"})[0] == 200
    desk.drain_queue(desk.work_queue_url, "router")
    assert _owner(desk, parcel) == "alice"
    # and billing work still goes to bob
    invoice = _billing(desk, "+31640000013", "SMb3")
    desk.drain_queue(desk.work_queue_url, "router")
    assert _owner(desk, invoice) == "bob" and desk.item("AGENT#bob")["active"] == 1


def test_refill_across_two_teams_takes_the_most_urgent_then_the_longest_waiting(teams):
    desk = teams
    # Given alice in both teams with one seat, taken
    _set_agent(desk, "alice", teams=["billing", "returns"], capacity=1)
    online(desk, "alice")
    held = _billing(desk, "+31640000021", "SMc1")
    desk.drain_queue(desk.work_queue_url, "router")
    assert _owner(desk, held) == "alice"
    # and waiting: the oldest in returns, a newer one in billing, the newest in billing but escalated
    oldest = _returns(desk, "+31640000022", "SMc2")
    newer = _billing(desk, "+31640000023", "SMc3")
    urgent = _billing(desk, "+31640000024", "SMc4")
    desk.drain_queue(desk.work_queue_url, "router")
    _escalate(desk, urgent)
    # When alice resolves: the most urgent, whatever its team
    assert agent(desk, "POST", f"/agent/conversations/{held}/status", "alice", {"status": "resolved"})[0] == 200
    desk.drain_queue(desk.work_queue_url, "router")
    assert (_owner(desk, urgent), _owner(desk, oldest), _owner(desk, newer)) == ("alice", None, None)
    # When she resolves again: the longest waiting, from the other team than the one she just served
    assert agent(desk, "POST", f"/agent/conversations/{urgent}/status", "alice", {"status": "resolved"})[0] == 200
    desk.drain_queue(desk.work_queue_url, "router")
    assert (_owner(desk, oldest), _owner(desk, newer)) == ("alice", None)
    assert desk.item("AGENT#alice")["active"] == 1


def test_capacity_is_shared_across_teams_and_never_exceeded_under_concurrent_drains(teams):
    desk = teams
    # Given alice in both teams (3 seats), bob in returns (2), carol in billing (2), all offline
    seats = {"alice": 3, "bob": 2, "carol": 2}
    for name, agent_teams in (("alice", ["billing", "returns"]), ("bob", ["returns"]), ("carol", ["billing"])):
        _set_agent(desk, name, teams=agent_teams, capacity=seats[name])
    # and 20 customers of both teams waiting
    phones = [f"+3164100{i:04d}" for i in range(20)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        convs = list(pool.map(lambda p: (_returns if int(p[-1]) % 2 else _billing)(desk, p, "SM" + p[1:]), phones))
    desk.drain_queue(desk.work_queue_url, "router", rounds=40)
    online(desk, "alice", "bob", "carol")
    # When many routers drain one team, the other or both at once
    handler = desk.handler("router")
    from shopdesk.logic.assign import drain
    barrier = threading.Barrier(9)
    kinds = [["billing"], ["returns"], ["billing", "returns"]] * 3

    def race(teams_to_drain):
        barrier.wait()
        return drain(teams_to_drain, handler.conversations, handler.agents)

    with ThreadPoolExecutor(max_workers=9) as pool:
        results = [a for batch in pool.map(race, kinds) for a in batch]
    # Then every agent holds exactly its seats, whatever the teams, and nobody holds a conversation twice
    assert {a: desk.item(f"AGENT#{a}")["active"] for a in seats} == seats
    assigned = [a.conversation_id for a in results]
    assert len(assigned) == len(set(assigned)) == sum(seats.values())
    held = {c: desk.item(f"CONV#{c}") for c in convs}
    for name, count in seats.items():
        mine = [c for c in held.values() if c.get("assignee") == name]
        assert len(mine) == count
        assert {c["team"] for c in mine} <= set(desk.item(f"AGENT#{name}")["teams"])
    assert sum(c.get("assignee") is None for c in held.values()) == 20 - sum(seats.values())


def test_removing_an_agent_from_a_team_stops_new_assignments_from_it(teams):
    desk = teams
    _set_agent(desk, "alice", teams=["billing", "returns"])
    online(desk, "alice")
    before = _returns(desk, "+31640000031", "SMd1")
    desk.drain_queue(desk.work_queue_url, "router")
    assert _owner(desk, before) == "alice"
    stale = desk.handler("router").agents.get("alice")          # what a router read a moment ago
    # When a supervisor takes her out of returns
    body = _set_agent(desk, "alice", teams=["billing"])
    assert body["teams"] == ["billing"]
    assert set(_memberships(desk, "alice")) == {"billing"}
    # Then she keeps what she has, gets billing work, and no new returns work
    parcel = _returns(desk, "+31640000032", "SMd2")
    invoice = _billing(desk, "+31640000033", "SMd3")
    desk.drain_queue(desk.work_queue_url, "router")
    assert (_owner(desk, before), _owner(desk, parcel), _owner(desk, invoice)) == ("alice", None, "alice")
    # and even a router that still believes she is in returns cannot give it to her
    from shopdesk.dal.conversations import AgentUnavailable
    from shopdesk.logic.timeline import system_message
    conversations = desk.handler("router").conversations
    with pytest.raises(AgentUnavailable):
        conversations.assign(conversations.get_meta(parcel), stale, system_message(parcel, "Assigned to alice"))
    assert _owner(desk, parcel) is None and desk.item("AGENT#alice")["active"] == 2


def test_an_agent_item_from_before_teams_still_routes_and_is_converted_on_its_next_change(desk):
    # Given an agent item as written before agents had several teams: one team, Pool keys on the item
    desk.client("dynamodb").put_item(TableName=desk.table_name, Item={
        "PK": {"S": "AGENT#olga"}, "SK": {"S": "META"}, "type": {"S": "agent"}, "id": {"S": "olga"},
        "name": {"S": "Olga"}, "presence": {"S": "online"}, "capacity": {"N": "2"}, "active": {"N": "0"},
        "team": {"S": "default"}, "PoolPK": {"S": "POOL#default"}, "PoolSK": {"S": "online#olga"},
        "StatusPK": {"S": "AGENTS"}, "StatusSK": {"S": "olga"}})
    # Then she gets conversations of her team and is listed with it
    first = customer_writes(desk, "+31640000041", "hi", "SMe1")
    desk.drain_queue(desk.work_queue_url, "router")
    assert _owner(desk, first) == "olga"
    _, listing = admin_call(desk, "GET", "/admin/agents", "[supervisors]")
    assert [(a["id"], a["teams"], a["active"]) for a in listing["items"]] == [("olga", ["default"], 1)]
    # When she goes away and back, her item takes the new layout: teams, and a membership per team
    assert agent(desk, "PUT", "/agent/me/presence", "olga", {"presence": "away"})[0] == 200
    item = desk.item("AGENT#olga")
    assert (item["teams"], "team" in item, "PoolPK" in item) == (["default"], False, False)
    assert _memberships(desk, "olga") == {"default": "away#olga"}
    second = customer_writes(desk, "+31640000042", "hi", "SMe2")
    desk.drain_queue(desk.work_queue_url, "router")
    assert _owner(desk, second) is None                                  # away: nothing new
    online(desk, "olga")
    desk.drain_queue(desk.work_queue_url, "router")
    assert _owner(desk, second) == "olga" and desk.item("AGENT#olga")["active"] == 2


def test_the_admin_api_sets_and_shows_teams_and_still_takes_one_team(desk):
    create_teams(desk, "billing", "returns", "vip")
    agent(desk, "GET", "/agent/me", "alice")
    status, body = admin_call(desk, "PUT", "/admin/agents/alice", "[admins]",
                              {"capacity": 4, "teams": ["billing", "returns"]})
    assert status == 200 and (body["teams"], body["capacity"]) == (["billing", "returns"], 4)
    assert _memberships(desk, "alice") == {"billing": "offline#alice", "returns": "offline#alice"}
    status, me = agent(desk, "GET", "/agent/me", "alice")
    assert status == 200 and me["teams"] == ["billing", "returns"]
    # the older single team still works, and replaces the list
    status, body = admin_call(desk, "PUT", "/admin/agents/alice", "[admins]", {"capacity": 4, "team": "vip"})
    assert status == 200 and body["teams"] == ["vip"] and "team" not in body
    assert _memberships(desk, "alice") == {"vip": "offline#alice"}
    _, listing = admin_call(desk, "GET", "/admin/agents", "[supervisors]")
    assert [a["teams"] for a in listing["items"]] == [["vip"]]
    for bad in ({"teams": []}, {"teams": ["vip", "vip"]}, {"teams": ["VIP desk"]}, {"teams": ["a"], "team": "b"}):
        status, problem = admin_call(desk, "PUT", "/admin/agents/alice", "[admins]", bad)
        assert status == 422 and "team" in problem["detail"], (bad, problem)
    assert desk.item("AGENT#alice")["teams"] == ["vip"]


def test_concurrent_presence_and_team_changes_leave_memberships_that_match_the_agent(desk):
    # Two writers race on the agent's item: the agent API's presence change and the admin API's team change, each
    # through the logic its route calls. (Not through the HTTP handlers: Powertools keeps the event being handled
    # on a class attribute, which Lambda's one-event-at-a-time containers never share but threads here would.)
    # Both functions are imported before the race: importing one swaps os.environ (tests/integration/conftest.py).
    from shopdesk.errors import Conflict
    from shopdesk.logic.access import ADMIN
    from shopdesk.models.admin import AgentSettings
    from shopdesk.models.agent import Presence

    create_teams(desk, "billing", "returns")
    agent(desk, "GET", "/agent/me", "alice")
    agents_api, admin_api = desk.handler("agent_api"), desk.handler("admin_api")
    choices = [["billing"], ["returns"], ["billing", "returns"]]
    barrier = threading.Barrier(8)

    def change(i):
        barrier.wait()
        try:
            if i % 2:
                agents_api.inbox.set_presence("alice", "Alice", Presence.ONLINE if i % 4 == 1 else Presence.AWAY)
            else:
                admin_api.admin.set_agent(frozenset({ADMIN}), "alice", AgentSettings(teams=choices[i % 3]))
        except Conflict:
            return 409
        return 200

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(change, range(8)))
    assert set(statuses) <= {200, 409}                 # a change that lost every retry says so
    item = desk.item("AGENT#alice")
    assert _memberships(desk, "alice") == {t: f"{item['presence']}#alice" for t in item["teams"]}
