"""The audit trail of the reads that reveal customers and of the changes to conversations: a conversation opened,
the conversation list, a search, the privacy requests, the CSAT comments report; labels, routing, macros and order
actions with their before and after (docs/security.md, section 9)."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from shopdesk import clock
from shopdesk.privacy import audit
from tests.integration.helpers import agent, customer_writes, online
from tests.integration.test_admin_api import admin_call
from tests.integration.test_canned import whatsapp_from
from tests.integration.test_commerce import agent_call, sandbox, shop  # noqa: F401  (fixtures)
from tests.integration.test_labels_macros import catalogue, wismo  # noqa: F401  (fixtures)
from tests.integration.test_privacy import admin, scan
from tests.integration.test_sla_rules import at, berlin_office
from tests.integration.test_transcripts import _email_conversation

DANA, ERIK, FREYA = "+31655501301", "+31655501302", "+31655501303"


def trail(desk: Any, query: str) -> list[dict[str, Any]]:
    status, page = admin(desk, "GET", "/admin/audit", query=query)
    assert status == 200, page
    return page["items"]


def actions(desk: Any, action: str, query: str = "") -> list[dict[str, Any]]:
    return [r for r in trail(desk, query) if r["action"] == action]


def customer_of(desk: Any, conv: str) -> str:
    return desk.item(f"CONV#{conv}")["customer"]["id"]


def routed(desk: Any, phone: str, sid: str, text: str = "Hello") -> str:
    conv = customer_writes(desk, phone, text, sid)
    desk.drain_queue(desk.work_queue_url, "router")
    return conv


# ------------------------------------------------------------------------------ reads that reveal customers

def test_the_sla_board_is_one_record_naming_the_customers_it_shows_and_again_only_when_it_shows_others(desk):
    berlin_office(desk)
    online(desk, "alice")
    at("2026-11-23T08:00:00+00:00")
    conv = routed(desk, DANA, "SMtrail05")
    dana = customer_of(desk, conv)

    def listed() -> list[dict[str, Any]]:
        return actions(desk, "sla_events.listed", "actor=lead")
    # Given the sweep warned about Dana's conversation
    at("2026-11-23T09:00:30+00:00")
    desk.invoke("sla_sweep", {})
    # When a supervisor reads the board (the customers' names, or phones when they have none)
    status, board = admin_call(desk, "GET", "/admin/sla-events", "[supervisors]", query="hours=24")
    assert status == 200 and [e["customer_name"] for e in board["items"]] == [DANA], board
    # Then one record names whom it showed, and how it was asked for, never the name or phone
    [record] = listed()
    assert record["details"] == {"customers": [dana], "hours": 24, "events": 1}
    assert record.get("customer_id") is None and DANA not in json.dumps(record)
    # and the board reloading the same within the window adds none
    assert admin_call(desk, "GET", "/admin/sla-events", "[supervisors]", query="hours=24")[0] == 200
    assert len(listed()) == 1
    # but once it shows another customer, it is recorded again
    other = routed(desk, ERIK, "SMtrail06")
    at("2026-11-23T10:30:00+00:00")
    desk.invoke("sla_sweep", {})
    assert admin_call(desk, "GET", "/admin/sla-events", "[supervisors]", query="hours=24")[0] == 200
    assert listed()[0]["details"]["customers"] == sorted([dana, customer_of(desk, other)])


def test_a_reply_preview_is_recorded_under_the_customer_with_the_order_it_read(desk, shop):  # noqa: F811
    conv = whatsapp_from(desk, "+14155550101", "Dana Rivera", "Hi, where is my order #1001?", "SM" + "t7" * 16)
    dana = customer_of(desk, conv)
    # When alice previews a reply that names the order (its number, status and tracking)
    status, preview = agent_call(desk, shop, "POST", f"/agent/conversations/{conv}/preview",
                                 body={"text": "{{order.name}} is {{order.status}}: {{order.tracking_number}}"})
    assert status == 200 and preview["text"].startswith("#1001"), preview
    # Then it is in Dana's trail as the order panel's read is, naming the order it read and nothing of its words
    [record] = actions(desk, "reply.previewed", f"customer_id={dana}")
    assert (record["actor"], record["conversation_id"]) == ("alice", conv)
    panel = agent_call(desk, shop, "GET", f"/agent/conversations/{conv}/orders")[1]
    assert record["details"] == {"order": next(o["id"] for o in panel["items"] if o["name"] == "#1001")}
    assert "1Z999AA10123456784" not in json.dumps(record) and "Dana" not in json.dumps(record)
    # and a preview without the order reads none: recorded all the same (it shows the customer's name)
    assert agent_call(desk, shop, "POST", f"/agent/conversations/{conv}/preview",
                      body={"text": "Hi {{customer.first_name}}"})[0] == 200
    latest = actions(desk, "reply.previewed", f"customer_id={dana}")[0]
    assert latest["id"] != record["id"] and latest.get("details") is None

def test_a_conversation_read_without_its_panels_is_recorded_once_per_agent_and_window(desk):
    online(desk, "alice")
    conv = routed(desk, DANA, "SMtrail01")
    dana = customer_of(desk, conv)

    def opened() -> list[dict[str, Any]]:
        return actions(desk, "conversation.opened", f"customer_id={dana}")
    # When alice reads the conversation (its messages, the customer's name and phone) without the panels
    assert agent(desk, "GET", f"/agent/conversations/{conv}", "alice")[0] == 200
    # Then a record says she saw it, about whom
    [record] = opened()
    assert (record["actor"], record["conversation_id"], record["status"]) == ("alice", conv, 200)
    assert "included" not in (record.get("details") or {})
    # and the inbox reading it again after each notice adds none within the window
    for _ in range(3):
        assert agent(desk, "GET", f"/agent/conversations/{conv}", "alice", query="include=assist")[0] == 200
    assert len(opened()) == 1
    # but another agent's read is theirs
    assert agent(desk, "GET", f"/agent/conversations/{conv}", "root", groups="[admins]")[0] == 200
    assert [r["actor"] for r in opened()] == ["root", "alice"]
    # and an opening with the customer's panels is recorded every time
    for _ in range(2):
        assert agent(desk, "GET", f"/agent/conversations/{conv}", "alice", query="include=customer")[0] == 200
    assert [r["details"]["included"] for r in opened()[:2]] == [["customer"]] * 2
    # and once the window is over, a plain read is recorded again
    clock.set_offset(16 * 60)
    assert agent(desk, "GET", f"/agent/conversations/{conv}", "alice")[0] == 200
    latest = opened()[0]
    assert latest["actor"] == "alice" and latest.get("details") is None


def test_the_conversation_list_is_one_record_naming_its_customers_and_again_only_when_it_shows_others(desk):
    online(desk, "alice")
    convs = [routed(desk, phone, f"SMtrail1{i}") for i, phone in enumerate((DANA, ERIK))]

    def listed() -> list[dict[str, Any]]:
        return actions(desk, "conversations.listed", "actor=alice")
    # When alice lists every conversation
    status, page = agent(desk, "GET", "/agent/conversations", "alice", query="view=all&status=open")
    assert status == 200 and len(page["items"]) == 2
    # Then one record names the list's filters and the customers it showed, under none of them
    [record] = listed()
    assert record["details"] == {"view": "all", "status": "open", "conversations": 2,
                                 "customers": sorted(customer_of(desk, c) for c in convs)}
    assert record["customer_id"] is None
    # and the inbox listing it again on each notice adds none
    for _ in range(3):
        assert agent(desk, "GET", "/agent/conversations", "alice", query="view=all&status=open")[0] == 200
    assert len(listed()) == 1
    # until the list shows another customer
    third = routed(desk, FREYA, "SMtrail12")
    assert agent(desk, "GET", "/agent/conversations", "alice", query="view=all&status=open")[0] == 200
    assert [len(r["details"]["customers"]) for r in listed()] == [3, 2]
    assert customer_of(desk, third) in listed()[0]["details"]["customers"]
    # and a page that shows nobody reveals nothing
    assert agent(desk, "GET", "/agent/conversations", "alice", query="view=all&status=resolved")[1]["items"] == []
    assert len(listed()) == 2


def test_asked_with_lists_the_customers_trail_holds_the_lists_that_showed_them_too(desk):
    online(desk, "alice")
    convs = [routed(desk, phone, f"SMtrail3{i}") for i, phone in enumerate((DANA, ERIK))]
    dana, erik = (customer_of(desk, c) for c in convs)
    # Given alice listed both conversations, and root opened Dana's and Erik's
    assert agent(desk, "GET", "/agent/conversations", "alice", query="view=all&status=open")[0] == 200
    for conv in convs:
        assert agent(desk, "GET", f"/agent/conversations/{conv}", "root", groups="[admins]")[0] == 200
    # When an admin asks for Dana's trail with the lists that showed her
    mine = trail(desk, f"customer_id={dana}&lists=true")
    # Then it holds root's opening of her conversation and alice's list, newest first, and nothing of Erik's own
    assert [(r["actor"], r["action"]) for r in mine] == [("root", "conversation.opened"),
                                                         ("alice", "conversations.listed")]
    assert dana in mine[1]["details"]["customers"] and all(r.get("customer_id") != erik for r in mine)
    # while her trail without it holds only what is filed under her
    assert [r["action"] for r in trail(desk, f"customer_id={dana}")] == ["conversation.opened"]
    # and kept to an actor, only theirs
    assert [r["action"] for r in trail(desk, f"customer_id={dana}&lists=true&actor=alice")] == ["conversations.listed"]
    # and pages of one read on from where the last stopped
    query = f"customer_id={dana}&lists=true&limit=1"
    first = admin(desk, "GET", "/admin/audit", query=query)[1]
    rest = admin(desk, "GET", "/admin/audit", query=f"{query}&cursor={first['next_cursor']}")[1]
    assert [r["id"] for r in first["items"] + rest["items"]] == [r["id"] for r in mine]
    # Lists need a customer, and are read day by day: at most 92 days
    assert admin(desk, "GET", "/admin/audit", query="lists=true")[0] == 400
    assert admin(desk, "GET", "/admin/audit",
                 query=f"customer_id={dana}&lists=true&from=2026-01-01T00:00:00Z&to=2026-06-01T00:00:00Z")[0] == 400


def test_a_search_is_in_the_trail_of_each_customer_it_showed_without_the_text_typed(desk):
    online(desk, "alice")
    conv = routed(desk, DANA, "SMtrail20")
    dana = customer_of(desk, conv)
    # When bob looks Dana up by her phone
    status, found = agent(desk, "GET", "/agent/search", "bob", query="q=%2B31655501301", groups="[admins]")
    assert status == 200 and [c["id"] for c in found["customers"]] == [dana]
    # Then Dana's trail says who searched for her and what the text was read as, never the text
    [record] = actions(desk, "search", f"customer_id={dana}")
    assert record["actor"] == "bob"
    assert record["details"] == {"query": ["phone"],
                                 "found": {"conversations": 1, "customers": 1}}
    # and a search that found nobody is one record under nobody
    assert agent(desk, "GET", "/agent/search", "bob", query="q=nobody%40example.com", groups="[admins]")[0] == 200
    nobody = [r for r in actions(desk, "search", "actor=bob") if r["details"]["query"] == ["email"]]
    assert len(nobody) == 1 and nobody[0]["customer_id"] is None
    audit = json.dumps([i for i in scan(desk) if i.get("type") == "audit"])
    assert DANA not in audit and "31655501301" not in audit and "nobody@example.com" not in audit


def test_the_privacy_requests_list_and_the_csat_comments_report_are_recorded(desk):
    from tests.integration.test_analytics import Lake
    from tests.integration.test_csat import _resolved_sms_conversation, _settings, _sms

    # When an admin lists the shop platform's privacy requests
    assert admin(desk, "GET", "/admin/privacy-requests")[0] == 200
    # Then a record says so
    [record] = actions(desk, "privacy_requests.read", "actor=root")
    assert record["details"] == {"requests": [], "customers": []}
    # Given a customer's comment with their rating
    lake = Lake(desk)
    _settings(desk)
    _resolved_sms_conversation(desk, "+31612340231", "SMtrail31")
    _sms(desk, "+31612340231", "👍", "SMtrail31a")
    _sms(desk, "+31612340231", "The courier was late", "SMtrail31b")
    desk.drain_queue(desk.work_queue_url, "router")
    lake.pump()
    day = time.strftime("%Y-%m-%d", time.gmtime())
    period = f"from={day}&to={day}T23:59:59Z&tz=UTC"
    # When a supervisor reads the comments, in JSON and as a file, and another metric
    for query in ("metric=csat_comments&" + period, "metric=csat_comments&format=csv&" + period,
                  "metric=csat&" + period):
        status, _ = lake.report("/reports/metrics", query)
        assert status == 200, query
    # Then each read of the comments is a record naming the period, whose and how many; the figures none
    records = actions(desk, "csat_comments.read")
    assert [r["details"]["format"] for r in records] == ["csv", "json"]
    assert all(r["details"]["comments"] == 1 and r["details"]["start"].startswith(day) for r in records)
    assert "courier" not in json.dumps(records)


def test_likely_duplicates_are_in_the_trail_of_each_customer_they_showed(desk):
    from tests.integration.test_customers import _customer_id, _email
    # Given a customer known by email, and one writing by SMS who gives that address
    _email(desk, "Bo <bo@example.com>", "hello", "e-bo")
    bo = _customer_id(desk, "email", "bo@example.com")
    conv = routed(desk, "+31633000001", "SMdup1", "It's me, Bo: bo@example.com")
    sms = customer_of(desk, conv)
    # When alice reads the SMS customer's duplicates, then opens the conversation with its duplicates panel
    [dup] = agent(desk, "GET", f"/agent/customers/{sms}/duplicates", "alice")[1]["items"]
    assert dup["customer"]["id"] == bo
    assert agent(desk, "GET", f"/agent/conversations/{conv}", "alice", query="include=duplicates")[0] == 200
    # Then each read is on Bo's trail too (his name and address were shown), one record each with the request's id
    for action in ("customer.duplicates", "conversation.opened"):
        records = actions(desk, action, "actor=alice")
        assert {r["customer_id"] for r in records} == {sms, bo}, action
        assert len({r["request_id"] for r in records}) == 1 and all(r["details"]["customers"] == [bo] for r in records)
    assert {r["action"] for r in trail(desk, f"customer_id={bo}&actor=alice")} >= {"customer.duplicates",
                                                                                   "conversation.opened"}
    # and a read that shows nobody is filed under the customer asked about alone
    lone = routed(desk, "+31633000009", "SMdup2", "Hello")
    assert agent(desk, "GET", f"/agent/customers/{customer_of(desk, lone)}/duplicates", "alice")[1]["items"] == []
    [alone] = actions(desk, "customer.duplicates", f"customer_id={customer_of(desk, lone)}")
    assert alone["details"] is None


def test_reopening_a_conversation_files_it_under_its_customers_duplicates_once_a_window(desk):
    from tests.integration.test_customers import _customer_id, _email
    # Given an SMS customer who gave the address of a customer known by email: a likely duplicate
    _email(desk, "Bo <bo@example.com>", "hello", "e-bo2")
    bo = _customer_id(desk, "email", "bo@example.com")
    conv = routed(desk, "+31633000002", "SMdup3", "It's me, Bo: bo@example.com")
    sms = customer_of(desk, conv)
    opening = "include=customer,duplicates"
    # When alice opens the conversation with its panels three times within the window
    for _ in range(3):
        assert agent(desk, "GET", f"/agent/conversations/{conv}", "alice", query=opening)[0] == 200
    # Then each opening is on the customer's trail, and on Bo's once: one write a reopening, not one per duplicate
    assert len(actions(desk, "conversation.opened", f"customer_id={sms}&actor=alice")) == 3
    [filed] = actions(desk, "conversation.opened", f"customer_id={bo}&actor=alice")
    assert filed["details"]["customers"] == [bo]
    # and another agent's opening, or alice's past the window, is filed under Bo again
    assert agent(desk, "GET", f"/agent/conversations/{conv}", "root", query=opening, groups="[admins]")[0] == 200
    assert len(actions(desk, "conversation.opened", f"customer_id={bo}")) == 2
    clock.set_offset(audit.REPEAT_WINDOW_SECONDS + 1)
    assert agent(desk, "GET", f"/agent/conversations/{conv}", "alice", query=opening)[0] == 200
    assert len(actions(desk, "conversation.opened", f"customer_id={bo}&actor=alice")) == 2


def test_the_audit_trail_read_is_recorded_naming_its_filters(desk):
    # When an admin reads one customer's refused attempts of an actor in a period, and then the whole trail
    query = "actor=vera&customer_id=u_01ABC&outcome=denied&from=2026-12-01T00:00:00Z&to=2026-12-02T00:00:00Z&lists=true"
    assert admin(desk, "GET", "/admin/audit", query=query)[0] == 200
    assert admin(desk, "GET", "/admin/audit")[0] == 200
    # Then each read is a record naming its filters and how many it showed, under no customer
    unfiltered, filtered = actions(desk, "audit.read", "actor=root")[:2]
    assert filtered["details"] == {"actor": "vera", "customer": "u_01ABC", "outcome": "denied",
                                   "from": "2026-12-01T00:00:00.000Z", "to": "2026-12-02T00:00:00.000Z",
                                   "lists": True, "records": 0}
    assert filtered["customer_id"] is None
    assert unfiltered["details"] == {"records": 1}


def test_a_reply_sent_again_and_a_template_are_recorded_with_their_message_channel_and_files(desk):
    from tests.integration.test_dispatch import _refused_for_good
    from tests.support import FakeTwilio, http_event, sample
    # Given alice's reply the provider refused for good
    twilio = FakeTwilio()
    try:
        conv, failed = _refused_for_good(desk, twilio)
    finally:
        twilio.close()
    # When she sends it again
    status, again = agent(desk, "POST", f"/agent/conversations/{conv}/replies/{failed['id']}/retry", "alice")
    assert status == 202, again
    # Then its record names the new message, its channel and how many files, as a reply's does
    [record] = actions(desk, "POST /agent/conversations/<conversation_id>/replies/<message_id>/retry", "actor=alice")
    assert record["details"] == {"message": again["id"], "channel": "sms", "files": 0}, record
    # And a WhatsApp template sent to a customer past the 24 hours is recorded alike
    body, sidecar = sample("meta_whatsapp", "text")
    desk.invoke("inbound_whatsapp", http_event("POST", "/webhooks/whatsapp", body, {
        "x-hub-signature-256": sidecar["http"]["headers"]["X-Hub-Signature-256"]}))
    listed = agent(desk, "GET", "/agent/conversations", "alice", query="view=all")[1]["items"]
    [whatsapp] = [c["id"] for c in listed if c["id"] != conv]
    status, sent = agent(desk, "POST", f"/agent/conversations/{whatsapp}/templates", "alice",
                         {"name": "order_update", "language": "en_US", "parameters": ["#1001", "shipped"]})
    assert status == 202, sent
    [record] = actions(desk, "POST /agent/conversations/<conversation_id>/templates", "actor=alice")
    assert record["details"] == {"message": sent["id"], "channel": "whatsapp", "files": 0}, record
    assert "shipped" not in json.dumps(record)


def test_a_reply_the_outbound_queue_refused_is_recorded_as_failed_with_its_message_channel_and_files(desk,
                                                                                                      monkeypatch):
    conv = routed(desk, "+14155550177", "SMtrail31", "where is my parcel?")
    # Given the outbound queue refusing every message (SQS: the queue does not exist)
    outbound = desk.handler("agent_api").inbox.outbound
    monkeypatch.setattr(outbound, "url", outbound.url + "-gone")
    # When alice replies
    status, problem = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice",
                            {"text": "It left the warehouse today"})
    # Then the answer says the reply is marked failed
    assert status == 503 and "marked failed" in problem["detail"], problem
    [failed] = [m for m in agent(desk, "GET", f"/agent/conversations/{conv}", "alice")[1]["messages"]
                if m["direction"] == "outbound"]
    assert failed["status"] == "failed"
    # and its record says so: the answer's status, the message it stored, its channel and files, not its words
    [record] = actions(desk, "POST /agent/conversations/<conversation_id>/replies", "actor=alice")
    assert record["status"] == 503 and record["outcome"] == "failed", record
    assert record["details"] == {"message": failed["id"], "channel": "sms", "files": 0}, record
    assert record["conversation_id"] == conv and record["customer_id"] == customer_of(desk, conv)
    assert "warehouse" not in json.dumps(record)
    # and it is an allowed action, not a refused attempt, to the trail's filter
    assert record["id"] in [r["id"] for r in trail(desk, "actor=alice&outcome=allowed")]
    assert record["id"] not in [r["id"] for r in trail(desk, "actor=alice&outcome=denied")]
    # When the queue answers again and she sends it again, that reply is recorded as every reply is
    monkeypatch.undo()
    status, again = agent(desk, "POST", f"/agent/conversations/{conv}/replies/{failed['id']}/retry", "alice")
    assert status == 202, again
    [record] = actions(desk, "POST /agent/conversations/<conversation_id>/replies/<message_id>/retry", "actor=alice")
    assert (record["status"], record["outcome"]) == (202, "allowed")
    assert record["details"] == {"message": again["id"], "channel": "sms", "files": 0}
    # and an admin asking for the failed actions alone is shown that one failed reply, and nothing else
    assert [(r["action"], r["outcome"]) for r in trail(desk, "outcome=failed")] == [
        ("POST /agent/conversations/<conversation_id>/replies", "failed")]


# ------------------------------------------------------------------------------ changes: before and after

def test_label_and_routing_changes_are_recorded_with_before_and_after(catalogue):  # noqa: F811
    desk = catalogue
    conv = customer_writes(desk, DANA, "Hello", "SMtrail40")
    path = f"/agent/conversations/{conv}"
    assert agent(desk, "POST", path + "/labels", "root", {"add": ["vip", "shipping"]}, groups="[admins]")[0] == 200
    assert agent(desk, "POST", path + "/labels", "root", {"remove": ["vip"]}, groups="[admins]")[0] == 200
    status, body = agent(desk, "PUT", path + "/routing", "root", {"priority": "urgent", "note": "Dana is upset"},
                         groups="[admins]")
    assert status == 200, body
    records = [r for r in trail(desk, f"customer_id={customer_of(desk, conv)}") if r["actor"] == "root"]
    routing, removed, added = records[:3]
    assert (added["before"], added["after"]) == ({"labels": []}, {"labels": ["shipping", "vip"]})
    assert (removed["before"], removed["after"]) == ({"labels": ["shipping", "vip"]}, {"labels": ["shipping"]})
    assert (routing["before"], routing["after"]) == ({"priority": "normal"}, {"priority": "urgent"})
    assert len(routing["details"]["note"]) == 16 and "upset" not in json.dumps(routing)


def test_a_macro_applied_is_recorded_with_what_it_changed_on_each_conversation(wismo):  # noqa: F811
    desk = wismo
    convs = [customer_writes(desk, phone, "where is my order?", f"SMtrail5{i}") for i, phone in enumerate((DANA, ERIK))]
    status, body = agent(desk, "POST", "/agent/macros/wismo/apply", "sam",
                         {"conversation_ids": [*convs, "c_01MISSING00000000000000000"]}, groups="[supervisors]")
    assert status == 200 and body["applied"] == 2, body
    [record] = [r for r in actions(desk, "POST /agent/macros/<macro_id>/apply", "actor=sam")
                if r.get("outcome") != "denied"]
    for conv in convs:
        assert record["before"][conv] == {"labels": [], "priority": "normal", "status": "open"}
        after = record["after"][conv]
        assert (after["labels"], after["priority"], after["status"]) == (["shipping"], "high", "snoozed")
        assert after["snoozed_until"] == desk.item(f"CONV#{conv}")["snoozed_until"]
        assert [c["change"] for c in record["details"]["applied"][conv]] == [
            "reply", "labels_added", "priority", "note", "status"]
        # and its reply as every reply's record names it: the message, its channel, how many files
        [reply] = [m for m in agent(desk, "GET", f"/agent/conversations/{conv}", "sam", groups="[supervisors]")[1][
            "messages"] if m["direction"] == "outbound"]
        assert record["details"]["replies"][conv] == {"message": reply["id"], "channel": "sms", "files": 0}
    assert record["details"]["refused"] == {"c_01MISSING00000000000000000": 404}
    assert record["details"]["version"] == 1
    assert "Told them it shipped" not in json.dumps(record)


def test_an_order_cancel_is_recorded_with_the_order_before_and_after_and_what_was_asked(desk, shop):  # noqa: F811
    conv = customer_writes(desk, "+14155550101", "please cancel my cap order", "SMtrail60")
    panel = agent_call(desk, shop, "GET", f"/agent/conversations/{conv}/orders")[1]
    cap = next(o for o in panel["items"] if o["name"] == "#1004")
    path = f"/agent/conversations/{conv}/orders/{cap['id']}/cancel"
    status, done = agent_call(desk, shop, "POST", path, body={"confirm": True, "reason": "customer",
                                                              "staff_note": "Cap for Dana Rivera"})
    assert status == 200, done
    [record] = actions(desk, "POST /agent/conversations/<conversation_id>/orders/<order_id>/cancel", "actor=alice")
    assert record["before"]["cancelled"] is False and record["after"]["cancelled"] is True
    assert (record["before"]["name"], record["after"]["financial_status"]) == ("#1004", "refunded")
    request = record["details"]["request"]
    assert (request["reason"], request["restock"], request["notify_customer"]) == ("customer", True, True)
    assert len(request["staff_note"]) == 16 and record["details"]["order"] == cap["id"]
    assert "Dana" not in json.dumps(record) and "+14155550101" not in json.dumps(record)


def test_a_transcript_a_snooze_and_a_hand_off_note_are_recorded_with_what_they_did(desk):
    conv = _email_conversation(desk, "Ada <ada.a@customer.example>", "trail-80")
    path = f"/agent/conversations/{conv}"
    # When alice emails the transcript
    status, sent = agent(desk, "POST", f"{path}/transcript", "alice")
    assert status == 202, sent
    # Then its record says how it went (by email, the timeline's entry naming the address) and how much it held
    [record] = actions(desk, "POST /agent/conversations/<conversation_id>/transcript", "actor=alice")
    transcript = record["details"]["transcript"]
    assert (transcript["channel"], transcript["language"], transcript["messages"]) == ("email", "en", sent["messages"])
    timeline = agent(desk, "GET", path, "alice")[1]["messages"]
    [entry] = [m for m in timeline if m["id"] == transcript["message"]]
    assert "ada.a@customer.example" in json.dumps(entry) and transcript["provider_id"]
    # and nothing derived from the address, which would outlive the customer's erase: no hash of it, keyed or not
    assert set(transcript) == {"channel", "message", "language", "messages", "provider_id"}
    kept = json.dumps(record)
    assert "ada.a@" not in kept and hashlib.sha256(b"ada.a@customer.example").hexdigest()[:16] not in kept
    # When she snoozes it until a time, then moves the snooze
    until = "2030-01-07T09:00:00+00:00"
    assert agent(desk, "POST", f"{path}/status", "alice", {"status": "snoozed", "until": until})[0] == 200
    assert agent(desk, "POST", f"{path}/status", "alice",
                 {"status": "snoozed", "until": "2030-01-08T09:00:00+00:00"})[0] == 200
    # Then the records say until when, before and after
    moved, snoozed = actions(desk, "POST /agent/conversations/<conversation_id>/status", "actor=alice")[:2]
    assert snoozed["after"] == {"status": "snoozed", "snoozed_until": "2030-01-07T09:00:00.000Z"}
    assert moved["before"] == {"status": "snoozed", "snoozed_until": "2030-01-07T09:00:00.000Z"}
    assert moved["after"] == {"status": "snoozed", "snoozed_until": "2030-01-08T09:00:00.000Z"}
    # When she hands it to bob with a note
    online(desk, "bob")
    status, _ = agent(desk, "POST", f"{path}/assignment", "alice", {"agent_id": "bob", "note": "over to you, Ada"})
    assert status == 200
    # Then the record keeps the note as a fingerprint, as a routing note is, not its words
    [handed] = actions(desk, "POST /agent/conversations/<conversation_id>/assignment", "actor=alice")
    assert handed["details"] == {"note": audit.fingerprint("over to you, Ada")}
    assert "over to you" not in json.dumps(handed)


def test_a_transcript_whose_timeline_entry_was_not_written_is_recorded_without_it(desk, monkeypatch):
    conv = _email_conversation(desk, "Ada <ada.b@customer.example>", "trail-81")
    transcripts = desk.handler("agent_api").transcripts
    mail = transcripts.send_mail

    def sent_then_erasing(*args: Any) -> str:
        # the customer's erase starts while the email goes: the timeline takes no entry from then on
        provider_id = mail(*args)
        desk.client("dynamodb").update_item(TableName=desk.table_name, Key={"PK": {"S": f"CONV#{conv}"},
                                            "SK": {"S": "META"}}, UpdateExpression="SET erasing = :t",
                                            ExpressionAttributeValues={":t": {"BOOL": True}})
        return provider_id

    monkeypatch.setattr(transcripts, "send_mail", sent_then_erasing)
    # When alice emails the transcript and its entry cannot be written on the timeline
    status, sent = agent(desk, "POST", f"/agent/conversations/{conv}/transcript", "alice")
    assert status == 202, sent
    # Then its record says the email went, and names no timeline entry, since none was written
    [record] = actions(desk, "POST /agent/conversations/<conversation_id>/transcript", "actor=alice")
    transcript = record["details"]["transcript"]
    assert set(transcript) == {"channel", "language", "messages", "provider_id"}, transcript
    assert transcript["provider_id"] and transcript["messages"] == sent["messages"]
    assert not [i for i in scan(desk) if i["PK"] == f"CONV#{conv}" and transcript["provider_id"] in json.dumps(
        i, default=str)]


def test_a_reply_a_note_and_a_presence_change_are_recorded_with_what_they_did_and_whom_a_mention_let_in(desk):
    from tests.integration.test_attachments import PNG, upload
    from tests.integration.test_mentions import _shop
    conv = _shop(desk)         # alice (team default) holds it; carol is in team billing, bob in default
    path = f"/agent/conversations/{conv}"
    assert agent(desk, "GET", path, "carol")[0] == 404
    # When alice writes a note naming carol (of another team: it lets her in) and bob (of the team: it does not)
    status, note = agent(desk, "POST", f"{path}/notes", "alice", {"text": "@carol diaz and @bob, the refund?"})
    assert status == 201, note
    # Then the note's record names the note, both agents mentioned, and carol as the one granted access
    [noted] = actions(desk, "POST /agent/conversations/<conversation_id>/notes", "actor=alice")
    assert noted["details"] == {"message": note["id"], "mentioned": ["bob", "carol"], "granted": ["carol"]}
    assert noted["customer_id"] == customer_of(desk, conv) and "refund" not in json.dumps(noted)
    assert agent(desk, "GET", path, "carol")[0] == 200
    # and a note naming nobody records the note alone
    assert agent(desk, "POST", f"{path}/notes", "alice", {"text": "called the carrier"})[0] == 201
    plain = actions(desk, "POST /agent/conversations/<conversation_id>/notes", "actor=alice")[0]
    assert set(plain["details"]) == {"message"} and plain["details"]["message"] != note["id"]
    # When she replies with a file, and with text alone
    file = upload(desk, "label.png", "image/png", PNG, conv)
    status, with_file = agent(desk, "POST", f"{path}/replies", "alice", {"text": "Your label", "attachments": [file]})
    assert status == 202, with_file
    status, text = agent(desk, "POST", f"{path}/replies", "alice", {"text": "Anything else?"})
    assert status == 202, text
    # Then each reply's record names the message, its channel and how many files, never the words or the file name
    plain, filed = actions(desk, "POST /agent/conversations/<conversation_id>/replies", "actor=alice")
    assert filed["details"] == {"message": with_file["id"], "channel": "sms", "files": 1}
    assert plain["details"] == {"message": text["id"], "channel": "sms", "files": 0}
    assert "label" not in json.dumps(filed).lower() and "Anything" not in json.dumps(plain)
    # When bob goes away and back online
    for presence in ("away", "online"):
        assert agent(desk, "PUT", "/agent/me/presence", "bob", {"presence": presence})[0] == 200
    # Then each record says his presence before and after
    back, away = actions(desk, "PUT /agent/me/presence", "actor=bob")[:2]
    assert (away["before"], away["after"]) == ({"presence": "online"}, {"presence": "away"})
    assert (back["before"], back["after"]) == ({"presence": "away"}, {"presence": "online"})
