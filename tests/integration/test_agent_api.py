"""The agent API as an inbox front end uses it: clear answers, clear 4xx, one history per conversation."""

from __future__ import annotations

import json
from datetime import timedelta

from shopdesk import clock
from tests.integration.helpers import agent, customer_writes, handed_over, online
from tests.support import http_event


def test_conversation_shows_customer_channel_sla_and_messages_oldest_first(desk):
    online(desk, "alice")
    conv = customer_writes(desk, "+31612340001", "first", "SMa1", channel="whatsapp")
    customer_writes(desk, "+31612340001", "second", "SMa2", channel="whatsapp")
    desk.drain_queue(desk.work_queue_url, "router")
    agent(desk, "POST", f"/agent/conversations/{conv}/notes", "alice", {"text": "VIP, be quick"})
    status, body = agent(desk, "GET", f"/agent/conversations/{conv}", "alice")
    assert status == 200
    assert body["channel"] == "whatsapp" and body["status"] == "open" and body["priority"] == "normal"
    assert body["assignee"] == "alice"
    assert body["customer"]["identities"] == [{"kind": "phone", "address": "+31612340001"}]
    assert body["sla"]["first_response_due_at"] and body["sla"]["breaches"] == []
    kinds = [(m["direction"], m["text"]) for m in body["messages"]]
    assert kinds[:2] == [("inbound", "first"), ("inbound", "second")]
    assert ("note", "VIP, be quick") in kinds
    assert any(d == "system" and t.startswith("Assigned to") for d, t in kinds)
    times = [m["created_at"] for m in body["messages"]]
    assert times == sorted(times)


def test_system_entries_carry_their_event_beside_their_text(desk):
    # Given a conversation the router gave alice, which she transfers to bob with a note and bob snoozes
    conv, holder, other = handed_over(desk, "+31612340011", "where is my order?", "SMev1", "VIP, call back")
    until = clock.iso(clock.now() + timedelta(hours=2))
    assert agent(desk, "POST", f"/agent/conversations/{conv}/status", other,
                 {"status": "snoozed", "until": until})[0] == 200
    # When the inbox reads it
    status, body = agent(desk, "GET", f"/agent/conversations/{conv}", other)
    assert status == 200
    # Then each system entry has its English text and the same said as a kind with ids and ISO times
    system = [(m["text"], m["event"]) for m in body["messages"] if m["direction"] == "system"]
    assert (f"Assigned to {holder.title()}", {"kind": "assigned", "params": {"agent": holder}}) in system
    assert (f"Transferred from {holder.title()} to {other.title()} by {holder.title()}. Hand-off note: VIP, call back",
            {"kind": "transferred", "params": {"from": holder, "to": other, "by": holder,
                                               "note": "VIP, call back"}}) in system
    assert (f"Snoozed until {until} by {other.title()}",
            {"kind": "snoozed", "params": {"until": until, "by": other}}) in system
    # (the snooze is one entry, saying until when: not "Marked snoozed" besides)
    assert [e["kind"] for _, e in system].count("status_changed") == 0
    # and a customer's message has none
    assert [m["event"] for m in body["messages"] if m["direction"] == "inbound"] == [None]


def test_empty_reply_is_a_clear_422_and_nothing_is_queued(desk):
    conv = customer_writes(desk, "+31612340002", "hi", "SMb1")
    status, body = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "   "})
    assert status == 422
    assert "text" in body["detail"] and body["errors"][0]["loc"][-1] == "text"
    sqs = desk.client("sqs")
    assert "Messages" not in sqs.receive_message(QueueUrl=desk.outbound_queue_url, WaitTimeSeconds=0)


def test_a_reply_longer_than_its_channel_takes_is_a_422_naming_the_limit_and_nothing_is_queued(desk):
    # Twilio takes 1,600 characters of SMS (21617 beyond): the agent hears it now, not from a failed send
    conv = customer_writes(desk, "+31612340012", "Tell me everything about your returns", "SMlong1")
    status, body = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "x" * 1601})
    assert status == 422, body
    [error] = body["errors"]
    assert error["loc"] == ["body", "text"]
    assert error["msg"] == "the reply is 1,601 characters; SMS (Twilio MMS) takes at most 1,600 in one message: " \
                           "shorten it"
    sqs = desk.client("sqs")
    assert "Messages" not in sqs.receive_message(QueueUrl=desk.outbound_queue_url, WaitTimeSeconds=0)
    # the rendered text is what counts: exactly 1,600 is sent
    assert agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "y" * 1600})[0] == 202


def test_malformed_json_and_unknown_status_are_4xx(desk):
    conv = customer_writes(desk, "+31612340003", "hi", "SMc1")
    status, _ = agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", raw="{not json")
    assert status == 422
    status, body = agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "archived"})
    assert status == 422 and "status" in body["detail"]
    status, _ = agent(desk, "GET", "/agent/conversations", "alice", query="view=everything")
    assert status == 422
    status, _ = agent(desk, "GET", "/agent/conversations", "alice", query="limit=1000")
    assert status == 422


def test_unknown_conversation_is_404(desk):
    status, body = agent(desk, "GET", "/agent/conversations/c_nope", "alice")
    assert status == 404 and "does not exist" in body["detail"]
    status, _ = agent(desk, "POST", "/agent/conversations/c_nope/replies", "alice", {"text": "hi"})
    assert status == 404


def test_a_request_without_an_agent_in_the_token_is_refused(desk):
    status, body = agent(desk, "GET", "/agent/conversations", None)
    assert status == 403 and "agent" in body["detail"]


def test_assigning_to_an_unknown_agent_is_404(desk):
    conv = customer_writes(desk, "+31612340004", "hi", "SMd1")
    status, body = agent(desk, "POST", f"/agent/conversations/{conv}/assignment", "alice", {"agent_id": "zed"})
    assert status == 404 and "zed" in body["detail"]


def test_views_mine_unassigned_and_all_with_status_filter(desk):
    online(desk, "alice")
    mine = customer_writes(desk, "+31612340005", "hi", "SMe1")
    desk.drain_queue(desk.work_queue_url, "router")
    assert agent(desk, "PUT", "/agent/me/presence", "alice", {"presence": "offline"})[0] == 200
    waiting = customer_writes(desk, "+31612340006", "hi", "SMe2")
    desk.drain_queue(desk.work_queue_url, "router")

    def ids(query):
        status, body = agent(desk, "GET", "/agent/conversations", "alice", query=query)
        assert status == 200
        return [c["id"] for c in body["items"]]

    assert ids("view=mine") == [mine]
    assert ids("view=unassigned") == [waiting]
    assert set(ids("view=all")) == {mine, waiting}
    assert ids("view=all&status=resolved") == []
    agent(desk, "POST", f"/agent/conversations/{mine}/status", "alice", {"status": "resolved"})
    assert ids("view=all&status=resolved") == [mine]
    assert ids("view=mine&status=open") == []


def test_mine_lists_what_alice_still_holds_before_what_she_resolved_since(desk):
    # Given alice holding a conversation from the morning, then answering and resolving three newer ones
    online(desk, "alice")
    morning = customer_writes(desk, "+31612340090", "hi", "SMm0")
    desk.drain_queue(desk.work_queue_url, "router")
    done = []
    for i in range(1, 4):
        conv = customer_writes(desk, f"+3161234009{i}", "hi", f"SMm{i}")
        desk.drain_queue(desk.work_queue_url, "router")
        assert agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "resolved"})[0] == 200
        done.append(conv)
    # When her inbox asks for its first page without naming a status
    status, body = agent(desk, "GET", "/agent/conversations", "alice", query="view=mine&limit=2")
    # Then the one she still holds comes first, and paging on brings the resolved ones, newest first, once each
    assert status == 200 and [c["id"] for c in body["items"]] == [morning, done[-1]]
    seen, cursor = [c["id"] for c in body["items"]], body.get("next_cursor")
    while cursor:
        status, body = agent(desk, "GET", "/agent/conversations", "alice", query=f"view=mine&limit=2&cursor={cursor}")
        seen, cursor = seen + [c["id"] for c in body["items"]], body.get("next_cursor")
    assert seen == [morning, *reversed(done)]


def test_listing_all_pages_through_every_conversation_once(desk):
    created = {customer_writes(desk, f"+316123410{i:02d}", "hi", f"SMpg{i}") for i in range(7)}
    agent(desk, "POST", f"/agent/conversations/{next(iter(created))}/status", "alice", {"status": "pending"})
    seen, cursor = [], None
    for _ in range(10):
        query = "view=all&limit=3" + (f"&cursor={cursor}" if cursor else "")
        status, body = agent(desk, "GET", "/agent/conversations", "alice", query=query)
        assert status == 200 and len(body["items"]) <= 3
        seen += [c["id"] for c in body["items"]]
        cursor = body.get("next_cursor")
        if not cursor:
            break
    assert sorted(seen) == sorted(created)


def test_garbage_cursor_is_400(desk):
    status, body = agent(desk, "GET", "/agent/conversations", "alice", query="view=all&status=open&cursor=%%%")
    assert status == 400 and "cursor" in body["detail"]


def test_reopened_conversation_returns_to_the_queue_with_a_fresh_first_response_clock(desk):
    online(desk, "alice")
    conv = customer_writes(desk, "+31612340007", "hi", "SMf1")
    desk.drain_queue(desk.work_queue_url, "router")
    agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "done"})
    agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "resolved"})
    assert desk.item("AGENT#alice")["active"] == 0
    clock.set_offset(3600)
    status, body = agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "open"})
    assert status == 200 and body["status"] == "open" and body["assignee"] is None
    assert body["sla"]["first_response_at"] is None
    assert body["sla"]["first_response_due_at"] > clock.iso(clock.now())
    assert desk.item("IDENTITY#phone#+31612340007")["open_conversation_id"] == conv
    desk.drain_queue(desk.work_queue_url, "router")
    assert desk.item(f"CONV#{conv}")["assignee"] == "alice"


def test_me_creates_the_agent_on_first_sign_in_with_default_capacity(desk):
    status, body = agent(desk, "GET", "/agent/me", "carol")
    assert status == 200
    assert body == {"id": "carol", "name": "Carol", "email": None, "presence": "offline", "capacity": 3, "active": 0,
                    "teams": ["default"]}


def test_openapi_document_and_swagger_ui_are_served(desk):
    result = desk.invoke("agent_api", http_event("GET", "/agent/openapi.json"))
    assert result["statusCode"] == 200
    doc = json.loads(result["body"])
    assert doc["openapi"].startswith("3.")
    assert "/agent/conversations/{conversation_id}/replies" in doc["paths"]
    page = desk.invoke("agent_api", http_event("GET", "/agent/swagger"))
    assert page["statusCode"] == 200 and "swagger" in page["body"].lower()


def test_a_breached_conversation_is_listed_once_when_paging_all(desk):
    # Given A written first and breached last, then B, then P resolved
    a = customer_writes(desk, "+31612349001", "a", "SMg1")
    b = customer_writes(desk, "+31612349002", "b", "SMg2")
    p = customer_writes(desk, "+31612349003", "p", "SMg3")
    desk.drain_queue(desk.work_queue_url, "router")            # clocks start when the router takes them
    agent(desk, "POST", f"/agent/conversations/{p}/status", "alice", {"status": "resolved"})
    clock.set_offset(4 * 3600 + 1)
    assert desk.invoke("sla_sweep", {})["breached"] == 2          # A and B; resolving stopped P's clock
    # When an agent pages through "all" two at a time
    seen, cursor = [], None
    for _ in range(5):
        query = "view=all&limit=2" + (f"&cursor={cursor}" if cursor else "")
        body = agent(desk, "GET", "/agent/conversations", "alice", query=query)[1]
        seen += [c["id"] for c in body["items"]]
        cursor = body.get("next_cursor")
        if not cursor:
            break
    # Then each conversation comes exactly once
    assert sorted(seen) == sorted([a, b, p])


def test_unassigned_lists_the_queues_of_the_callers_teams_most_urgent_then_longest_waiting(desk):
    from tests.integration.test_admin_api import admin_call
    lead = "[supervisors]"
    assert admin_call(desk, "PUT", "/admin/teams/billing", "[admins]", {"id": "billing", "name": "Billing"})[0] == 200
    for agent_id in ("alice", "bob"):                     # both sign in, then go offline: everything waits
        assert agent(desk, "PUT", "/agent/me/presence", agent_id, {"presence": "offline"})[0] == 200
    assert admin_call(desk, "PUT", "/admin/agents/bob", "[admins]", {"teams": ["default", "billing"]})[0] == 200
    first = customer_writes(desk, "+31612340101", "hi", "SMq1")
    second = customer_writes(desk, "+31612340102", "hi", "SMq2")
    third = customer_writes(desk, "+31612340103", "hi", "SMq3")
    desk.drain_queue(desk.work_queue_url, "router")
    for conv, body in ((second, {"team": "billing"}), (third, {"team": "billing", "priority": "urgent"})):
        assert agent(desk, "PUT", f"/agent/conversations/{conv}/routing", "lead", body, groups=lead)[0] == 200

    def pages(who, query):
        seen, cursor = [], None
        while True:
            status, body = agent(desk, "GET", "/agent/conversations", who,
                                 query=query + (f"&cursor={cursor}" if cursor else ""))
            assert status == 200
            seen += [c["id"] for c in body["items"]]
            if not (cursor := body["next_cursor"]):
                return seen

    assert pages("bob", "view=unassigned&limit=1") == [third, first, second]     # urgent, then longest waiting
    assert pages("alice", "view=unassigned&limit=1") == [first]                  # default team only
    assert pages("bob", "view=unassigned&team=billing") == [third, second]
    # a team's queue is for its members (and admins): alice is not in billing
    assert agent(desk, "GET", "/agent/conversations", "alice", query="view=unassigned&team=billing")[0] == 403
    status, body = agent(desk, "GET", "/agent/conversations", "root", query="view=unassigned&team=billing",
                         groups="[admins]")
    assert status == 200 and [c["id"] for c in body["items"]] == [third, second]


def test_a_priority_change_leaves_the_conversation_where_its_last_activity_put_it(desk):
    from tests.integration.test_admin_api import admin_call
    lead = "[supervisors]"
    assert admin_call(desk, "PUT", "/admin/teams/billing", "[admins]", {"id": "billing", "name": "Billing"})[0] == 200
    # Given alice holding one conversation and another waiting in the queue, their customers writing an hour ago
    online(desk, "alice")
    held = customer_writes(desk, "+31612340111", "hi", "SMp1")
    desk.drain_queue(desk.work_queue_url, "router")
    assert agent(desk, "PUT", "/agent/me/presence", "alice", {"presence": "offline"})[0] == 200
    waiting = customer_writes(desk, "+31612340112", "hi", "SMp2")
    desk.drain_queue(desk.work_queue_url, "router")
    places = ("updated_at", "InboxSK", "StatusSK")      # its place in the Inbox, Access and ByStatus indexes
    before = {conv: desk.item(f"CONV#{conv}") for conv in (held, waiting)}
    assert before[held]["assignee"] == "alice" and "QueuePK" in before[waiting]
    clock.set_offset(3600)
    # When a lead raises their priority and sets skills
    for conv in (held, waiting):
        body = {"priority": "urgent", "skills": ["refunds"]}
        assert agent(desk, "PUT", f"/agent/conversations/{conv}/routing", "lead", body, groups=lead)[0] == 200
    # Then the priority and the queue's place changed, and nothing the lists sort or filter by moved
    for conv in (held, waiting):
        item = desk.item(f"CONV#{conv}")
        assert item["priority"] == "urgent" and item["skills"] == ["refunds"]
        assert {k: item[k] for k in places} == {k: before[conv][k] for k in places}
    assert desk.item(f"CONV#{waiting}")["QueueSK"] != before[waiting]["QueueSK"]
    status, body = agent(desk, "GET", "/agent/conversations", "alice", query="view=mine")
    assert status == 200 and [c["id"] for c in body["items"]] == [held]
    # while a change of team moves it (the lake dates the change by it)
    moved = agent(desk, "PUT", f"/agent/conversations/{held}/routing", "lead", {"team": "billing"}, groups=lead)
    assert moved[0] == 200
    assert desk.item(f"CONV#{held}")["updated_at"] > before[held]["updated_at"]
