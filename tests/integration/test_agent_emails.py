"""Agents with no name: their colleagues know them by their work email (GET /agent/agents), and the timeline's English
text says them by name, else "an agent", never by their id nor their work email: that text is the customer's too (their
export holds it)."""

from __future__ import annotations

import io
import json
import urllib.request
import zipfile
from datetime import timedelta
from typing import Any

from shopdesk import clock
from tests.integration.helpers import agent, customer_writes
from tests.integration.test_labels_macros import admin
from tests.integration.test_privacy import _job
from tests.integration.test_privacy import admin as root
from tests.support import http_event


def signed_in(desk: Any, method: str, path: str, agent_id: str, email: str | None, body: Any = None,
              groups: str | None = None, verified: str = "true") -> tuple[int, Any]:
    """A request of an agent whose token has no name (an admin made them with an email alone), and their email (one
    Cognito verified, as API Gateway hands the claim on: "true")."""
    claims = {"cognito:username": agent_id, **({"email": email, "email_verified": verified} if email else {}),
              **({"cognito:groups": groups} if groups else {})}
    event = http_event(method, path, json.dumps(body) if body is not None else None,
                       {"content-type": "application/json"}, claims=claims)
    result = desk.invoke("agent_api", event)
    return result["statusCode"], json.loads(result["body"]) if result.get("body") else None


def test_colleagues_with_no_name_are_listed_with_their_work_email(desk):
    # Given two agents with no name who signed in with their work emails, and one who signed in with neither
    for agent_id, email in (("u_7f3a", "ana@shop.example"), ("u_9c1d", "ben@shop.example"), ("u_0b2e", None)):
        assert signed_in(desk, "PUT", "/agent/me/presence", agent_id, email, {"presence": "online"})[0] == 200
    # When a colleague reads whom to transfer to
    status, body = agent(desk, "GET", "/agent/agents", "alice")
    # Then each comes with their email: two colleagues with no name read apart
    assert status == 200
    emails = {a["id"]: (a["name"], a["email"]) for a in body["items"]}
    assert emails["u_7f3a"] == (None, "ana@shop.example")
    assert emails["u_9c1d"] == (None, "ben@shop.example")
    assert emails["u_0b2e"] == (None, None)


def test_an_agent_s_email_is_kept_as_their_sign_in_says_it_now(desk):
    # Given an agent whose record was made before their token carried an email
    assert signed_in(desk, "GET", "/agent/me", "u_7f3a", None)[1]["email"] is None
    # When they sign in with one, and later with another
    assert signed_in(desk, "GET", "/agent/me", "u_7f3a", "ana@shop.example")[1]["email"] == "ana@shop.example"
    assert signed_in(desk, "GET", "/agent/me", "u_7f3a", "ana.s@shop.example")[1]["email"] == "ana.s@shop.example"
    # Then their colleagues read the one they use now
    listed = {a["id"]: a["email"] for a in agent(desk, "GET", "/agent/agents", "alice")[1]["items"]}
    assert listed["u_7f3a"] == "ana.s@shop.example"


def test_an_email_cognito_has_not_verified_is_never_taken_the_one_kept_stays(desk):
    # Given an agent whose verified work email is kept on their record
    assert signed_in(desk, "GET", "/agent/me", "u_7f3a", "ana@shop.example")[1]["email"] == "ana@shop.example"
    # When they set their own email to a colleague's (Cognito lets a user change their attributes; the new one is
    # unverified until proven) and sign in with it, or with a token whose claim says nothing of verification
    assert signed_in(desk, "GET", "/agent/me", "u_7f3a", "ben@shop.example", verified="false")[1]["email"] == (
        "ana@shop.example")
    assert signed_in(desk, "PUT", "/agent/me/presence", "u_7f3a", "ben@shop.example", {"presence": "online"},
                     verified="")[1]["email"] == "ana@shop.example"
    # Then their colleagues still read the email Cognito verified, never the colleague's; and one with no verified
    # email at all has none kept
    assert signed_in(desk, "GET", "/agent/me", "u_9c1d", "ana@shop.example", verified="false")[1]["email"] is None
    listed = {a["id"]: a["email"] for a in agent(desk, "GET", "/agent/agents", "alice")[1]["items"]}
    assert listed["u_7f3a"] == "ana@shop.example" and listed["u_9c1d"] is None


def test_an_agent_s_email_change_is_audited_with_before_and_after_and_only_when_it_changed(desk):
    def trail() -> list[tuple[str, Any, Any]]:
        items = root(desk, "GET", "/admin/audit", query="actor=u_7f3a")[1]["items"]
        return [(r["action"], r.get("before"), r.get("after")) for r in reversed(items)]

    # Given an agent whose record was made before their token carried an email (nothing audited: it changed nothing)
    assert signed_in(desk, "GET", "/agent/me", "u_7f3a", None)[0] == 200
    assert trail() == []
    # When they sign in with one, again with the same, then go online with another, and again with that one
    assert signed_in(desk, "GET", "/agent/me", "u_7f3a", "ana@shop.example")[0] == 200
    assert signed_in(desk, "GET", "/agent/me", "u_7f3a", "ana@shop.example")[0] == 200
    for presence in ("online", "away"):
        assert signed_in(desk, "PUT", "/agent/me/presence", "u_7f3a", "ana.s@shop.example",
                         {"presence": presence})[0] == 200
    # Then each change of the email is recorded, who (the actor), what, before and after; the same email again
    # writes no record of a GET, and a presence change says the presence alone
    assert trail() == [
        ("agent.email_changed", {}, {"email": "ana@shop.example"}),        # none before
        ("PUT /agent/me/presence", {"email": "ana@shop.example", "presence": "offline"},
         {"email": "ana.s@shop.example", "presence": "online"}),
        ("PUT /agent/me/presence", {"presence": "online"}, {"presence": "away"}),
    ]


def test_assignment_texts_say_an_agent_with_no_name_as_an_agent_never_by_email_nor_id(desk):
    # Given an agent with no name but an email, the only one online: the router gives them a conversation
    assert signed_in(desk, "PUT", "/agent/me/presence", "u_7f3a", "ana@shop.example", {"presence": "online"})[0] == 200
    conv = customer_writes(desk, "+31612349001", "where is my parcel?", "SMnn1")
    desk.drain_queue(desk.work_queue_url, "router")
    # When they hand it to an agent with neither a name nor an email, and alice takes it from that one
    assert signed_in(desk, "PUT", "/agent/me/presence", "u_0b2e", None, {"presence": "online"})[0] == 200
    assert signed_in(desk, "POST", f"/agent/conversations/{conv}/assignment", "u_7f3a", "ana@shop.example",
                     {"agent_id": "u_0b2e"})[0] == 200
    assert agent(desk, "PUT", "/agent/me/presence", "alice", {"presence": "online"})[0] == 200
    assert agent(desk, "POST", f"/agent/conversations/{conv}/assignment", "alice", {"agent_id": "alice"},
                 groups="[supervisors]")[0] == 200
    # Then the texts say them as "an agent" (never by email) and alice by name; the events keep the ids
    status, body = agent(desk, "GET", f"/agent/conversations/{conv}", "alice", groups="[supervisors]")
    assert status == 200
    system = [(m["text"], m["event"]["params"]) for m in body["messages"] if m["direction"] == "system"]
    assert system == [
        ("Assigned to an agent", {"agent": "u_7f3a"}),
        ("Transferred from an agent to an agent by an agent",
         {"from": "u_7f3a", "to": "u_0b2e", "by": "u_7f3a"}),
        ("Transferred from an agent to Alice by Alice", {"from": "u_0b2e", "to": "alice", "by": "alice"}),
    ]
    assert not any("u_7f3a" in text or "u_0b2e" in text for text, _ in system)


def test_status_snooze_and_label_texts_say_an_agent_with_no_name_as_an_agent_never_by_email_nor_id(desk):
    # Given a label, and a conversation the router gave to an agent with no name but an email
    assert admin(desk, "PUT", "/admin/labels/vip", {"name": "VIP", "color": "#f2c94c"})[0] == 200
    assert signed_in(desk, "PUT", "/agent/me/presence", "u_7f3a", "ana@shop.example", {"presence": "online"})[0] == 200
    conv = customer_writes(desk, "+31612349002", "call me back tomorrow", "SMnn2")
    desk.drain_queue(desk.work_queue_url, "router")
    path = f"/agent/conversations/{conv}"
    until = clock.iso(clock.now() + timedelta(hours=1))
    # When she labels it, marks it pending, snoozes it and resolves it, and a supervisor with neither a name nor an
    # email reopens it
    assert signed_in(desk, "POST", f"{path}/labels", "u_7f3a", "ana@shop.example", {"add": ["vip"]})[0] == 200
    for body in ({"status": "pending"}, {"status": "snoozed", "until": until}, {"status": "resolved"}):
        assert signed_in(desk, "POST", f"{path}/status", "u_7f3a", "ana@shop.example", body)[0] == 200
    assert signed_in(desk, "POST", f"{path}/status", "u_0b2e", None, {"status": "open"},
                     groups="[supervisors]")[0] == 200
    # Then the texts say each as "an agent", never by email; the events keep the ids
    status, body = agent(desk, "GET", path, "alice", groups="[supervisors]")
    assert status == 200
    system = [(m["text"], m["event"]["params"].get("by")) for m in body["messages"] if m["direction"] == "system"]
    assert [entry for entry in system if entry[1]] == [
        ("Labels changed by an agent: labels +vip", "u_7f3a"),
        ("Marked pending by an agent", "u_7f3a"),
        (f"Snoozed until {until} by an agent", "u_7f3a"),
        ("Marked resolved by an agent", "u_7f3a"),
        ("Reopened by an agent", "u_0b2e"),
    ]
    assert not any("u_7f3a" in text or "u_0b2e" in text for text, _ in system)


def test_a_macro_s_text_says_whom_it_assigned_by_the_record_it_read_never_by_email(desk):
    # Given a conversation the router gave to an agent with neither a name nor an email, a colleague with no name
    # but an email, and a shared macro that assigns to that colleague
    assert signed_in(desk, "PUT", "/agent/me/presence", "u_0b2e", None, {"presence": "online"})[0] == 200
    conv = customer_writes(desk, "+31612349003", "hello?", "SMnn3")
    desk.drain_queue(desk.work_queue_url, "router")
    assert signed_in(desk, "PUT", "/agent/me/presence", "u_9c1d", "ben@shop.example", {"presence": "online"})[0] == 200
    assign = [{"type": "assign", "agent_id": "u_9c1d"}]
    assert admin(desk, "PUT", "/admin/macros/toben", {"name": "To Ben", "actions": assign})[0] == 200
    # When a supervisor applies it
    status, body = agent(desk, "POST", "/agent/macros/toben/apply", "sam", {"conversation_ids": [conv]},
                         groups="[supervisors]")
    assert status == 200 and body["results"][0]["result"] == "applied", body
    # Then its text says the supervisor by name and the colleague with no name as "an agent"; the event keeps the ids
    shown = agent(desk, "GET", f"/agent/conversations/{conv}", "sam", groups="[supervisors]")[1]["messages"]
    applied = [(m["text"], m["event"]["params"]) for m in shown if m["event"] and m["event"]["kind"] == "macro_applied"]
    assert applied == [("Macro “To Ben” applied by Sam: assigned to an agent",
                        {"macro": "To Ben", "macro_id": "toben", "by": "sam",
                         "changes": [{"change": "assigned", "agent": "u_9c1d"}]})]


def test_merge_texts_say_an_agent_with_no_name_who_merged_and_unmerged_never_by_email(desk):
    # Given two customers, each with an open conversation, and an agent with no name but an email
    assert signed_in(desk, "PUT", "/agent/me/presence", "u_7f3a", "ana@shop.example", {"presence": "online"})[0] == 200
    first = customer_writes(desk, "+31612349004", "Where is my parcel?", "SMnn4")
    second = customer_writes(desk, "+31612349005", "Can I change my address?", "SMnn5")
    desk.drain_queue(desk.work_queue_url, "router")
    keep, other = (desk.item(f"IDENTITY#phone#{p}")["customer_id"] for p in ("+31612349005", "+31612349004"))
    # When she merges them (the two conversations become one) and takes them apart again
    status, merge = signed_in(desk, "POST", f"/agent/customers/{keep}/merge", "u_7f3a", "ana@shop.example",
                              {"other_id": other, "reason": "same"}, groups="[supervisors]")
    assert status == 200, merge
    assert desk.item(f"CONV#{first}")["folded_into"] == second
    assert signed_in(desk, "POST", f"/agent/customers/{keep}/unmerge", "u_7f3a", "ana@shop.example",
                     {"merge_id": merge["id"], "reason": "not the same"}, groups="[supervisors]")[0] == 200
    # Then each conversation's merge and unmerge texts say her as "an agent", never by email nor id
    said = [m["text"] for conv in (first, second)
            for m in agent(desk, "GET", f"/agent/conversations/{conv}", "alice", groups="[supervisors]")[1]["messages"]
            if m["direction"] == "system" and m["event"]["kind"] in ("folded", "folded_into", "unfolded")]
    assert sorted(said) == sorted([
        f"Merged into conversation {second} with its customer by an agent: it goes on there",
        f"Conversation {second} taken apart from this one: its customers were unmerged by an agent",
        f"Conversation {first} (SMS, 1 message) merged into this one with its customer by an agent: its "
        "messages show here",
        f"Conversation {first} taken apart from this one: its customers were unmerged by an agent"])


def test_a_customer_s_export_holds_no_work_email_of_the_agents_who_handled_their_conversation(desk):
    # Given an agent with no name but a work email, given a conversation by the router, who marks it pending
    assert signed_in(desk, "PUT", "/agent/me/presence", "u_7f3a", "ana@shop.example", {"presence": "online"})[0] == 200
    conv = customer_writes(desk, "+31612349006", "where is my parcel?", "SMnn6")
    desk.drain_queue(desk.work_queue_url, "router")
    assert signed_in(desk, "POST", f"/agent/conversations/{conv}/status", "u_7f3a", "ana@shop.example",
                     {"status": "pending"})[0] == 200
    # When an admin exports the customer's data (GDPR)
    job = _job(desk, "export", desk.item(f"CONV#{conv}")["customer"]["id"])
    with urllib.request.urlopen(job["download_url"], timeout=10) as answer:   # moto's presigned URL
        data = zipfile.ZipFile(io.BytesIO(answer.read())).read("data.json").decode()
    # Then the timeline's entries are in it, saying her as "an agent": her work email is the desk's, not theirs
    texts = [m.get("text") for c in json.loads(data)["conversations"] for m in c["messages"]]
    assert "Assigned to an agent" in texts and "Marked pending by an agent" in texts
    assert "ana@shop.example" not in data
