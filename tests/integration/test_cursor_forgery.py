"""Cursors a caller edits or carries over from another query: a page never reads beyond what the caller's own
query names, and a cursor outside it is a 400 problem, never a function error or a walk without end."""

from __future__ import annotations

import base64
import json
import urllib.parse
from datetime import timedelta
from typing import Any

from shopdesk import clock
from shopdesk.dal.audit import AuditLog
from shopdesk.dal.table import Table
from tests.integration.helpers import agent, customer_writes, teams
from tests.support import http_event

ADMIN = {"cognito:username": "lead", "cognito:groups": "[admins]"}
JSON = {"content-type": "application/json"}


def _cursor(value: Any) -> str:
    return urllib.parse.quote(base64.urlsafe_b64encode(json.dumps(value).encode()).decode())


def _audit(desk: Any, query: str) -> tuple[int, dict[str, Any]]:
    result = desk.invoke("admin_api", http_event("GET", "/admin/audit", None, JSON, query=query, claims=ADMIN))
    return result["statusCode"], json.loads(result["body"])


def test_an_audit_cursor_naming_a_day_outside_the_search_is_a_400_not_a_walk_day_by_day_to_it(desk):
    # Given a search of the audit trail by time alone (the last seven days, read one day's partition at a time)
    now = clock.now()
    status, body = _audit(desk, "limit=5")
    assert status == 200, body
    # When its cursor is edited to name a day after the search's last one (one in 2100 had the function read some
    # 27,000 empty partitions, one after another, until its time ran out)
    for day in (now + timedelta(days=3), now + timedelta(days=27_000)):
        status, body = _audit(desk, f"limit=5&cursor={_cursor({'day': day.date().isoformat()})}")
        # Then it is a 400 problem naming the cursor, and nothing is read
        assert status == 400 and "cursor is not valid" in body["detail"], (day, body)
    # And a cursor of the search's own days still pages; one before its first day has nothing left
    status, body = _audit(desk, f"limit=5&cursor={_cursor({'day': now.date().isoformat()})}")
    assert status == 200 and body["items"], body
    status, body = _audit(desk, f"limit=5&cursor={_cursor({'day': (now - timedelta(days=30)).date().isoformat()})}")
    assert status == 200 and body == {"items": [], "next_cursor": None}, body


def test_a_survivors_audit_cursor_edited_past_the_searchs_end_reads_nothing_after_it(desk):
    # Given a survivor with a customer merged into them (their records read from both indexes, one cursor), and a
    # record about the survivor from a minute ago
    keep_conv = customer_writes(desk, "+31620000201", "hello", "SMforge1")
    gone_conv = customer_writes(desk, "+31620000202", "hello", "SMforge2")
    keep = desk.item(f"CONV#{keep_conv}")["customer"]["id"]
    gone = desk.item(f"CONV#{gone_conv}")["customer"]["id"]
    status, merge = agent(desk, "POST", f"/agent/customers/{keep}/merge", "alice", {"other_id": gone, "reason": "same"})
    assert status == 200, merge
    now = clock.now()
    AuditLog(Table(desk.table_name)).append({"id": "a_recent", "at": clock.iso(now - timedelta(minutes=1)),
                                             "action": "customer.read", "actor": "alice", "customer_id": keep}, None)
    until = urllib.parse.quote(clock.iso(now - timedelta(hours=1)))
    status, body = _audit(desk, f"customer_id={keep}&to={until}")
    assert status == 200 and body["items"] == [], body
    # When an admin searches until an hour ago with a cursor edited to stand after that hour
    status, body = _audit(desk, f"customer_id={keep}&to={until}&cursor={_cursor({'below': '9999'})}")
    # Then it is a 400 problem naming the cursor, and no record after the search's end is listed
    assert status == 400 and "cursor is not valid" in body["detail"], body
    # And one edited to stand before the search's first moment has nothing left (DynamoDB refuses a BETWEEN whose
    # lower bound is above its upper: it is never asked one)
    status, body = _audit(desk, f"customer_id={keep}&to={until}&cursor={_cursor({'below': '0'})}")
    assert status == 200 and body == {"items": [], "next_cursor": None}, body


AGENT = {"cognito:username": "bob", "name": "Bob"}


def test_a_cursor_whose_key_values_are_not_strings_is_a_400_on_every_list_that_pages(desk):
    # Given a customer with a conversation, and cursors shaped as our lists' own, whose key values are not the
    # strings every key of the table is: a number that is none, bytes, a list (the local stack's DynamoDB
    # compared them with the items' strings and failed: a function error)
    conversation = customer_writes(desk, "+31620000203", "hello", "SMforge3")
    customer = desk.item(f"CONV#{conversation}")["customer"]["id"]
    odd = [{"N": "abc"}, {"B": "AAAA"}, {"L": []}]
    lists = [("agent_api", "/agent/conversations", "view=all", AGENT, lambda v: {"team:default:open": {"AccessPK": v}}),
             ("agent_api", "/agent/conversations", "view=unassigned", AGENT, lambda v: {"default": {"QueueSK": v}}),
             ("agent_api", "/agent/conversations", "view=mine&status=open", AGENT, lambda v: {"InboxSK": v}),
             ("agent_api", f"/agent/customers/{customer}", "", ADMIN, lambda v: {"CustomerSK": v}),
             ("admin_api", "/admin/audit", "actor=bob", ADMIN, lambda v: {"InboxSK": v}),
             ("admin_api", "/admin/audit", "", ADMIN, lambda v: {"key": {"SK": v}}),
             ("admin_api", "/admin/privacy-requests", "", ADMIN, lambda v: {"SK": v})]
    for function, path, query, claims, shape in lists:
        for value in odd:
            cursor = _cursor(shape(value))
            # When the list is asked for the page after it
            result = desk.invoke(function, http_event("GET", path, None, JSON,
                                                      query="&".join(filter(None, [query, f"cursor={cursor}"])),
                                                      claims=claims))
            # Then it is a 400 problem naming the cursor, not a function error
            assert result["statusCode"] == 400, (path, query, value, result)
            assert "cursor is not valid" in json.loads(result["body"])["detail"], (path, query, result)


def test_a_cursor_naming_other_keys_than_its_lists_read_is_a_400_on_every_list_that_pages(desk):
    # Given a customer with a conversation, and cursors of string values whose names are not the key of the read
    # they are sent to: a name of no key, the table's key alone where an index is read, one name more
    conversation = customer_writes(desk, "+31620000204", "hello", "SMforge4")
    customer = desk.item(f"CONV#{conversation}")["customer"]["id"]
    keys = [{"Foo": {"S": "x"}}, {"PK": {"S": "x"}, "SK": {"S": "y"}},
            {"PK": {"S": "x"}, "SK": {"S": "y"}, "QueuePK": {"S": "z"}, "QueueSK": {"S": "w"}, "Extra": {"S": "q"}}]
    lists = [("agent_api", "/agent/conversations", "view=all", AGENT, lambda v: {"team:default:open": v}),
             ("agent_api", "/agent/conversations", "view=unassigned", AGENT, lambda v: {"default": v}),
             ("agent_api", f"/agent/customers/{customer}", "", ADMIN, lambda v: v),
             ("admin_api", "/admin/audit", "actor=bob", ADMIN, lambda v: v)]
    for function, path, query, claims, shape in lists:
        for key in keys:
            # When the list is asked for the page after it (the local stack's DynamoDB failed on an index's read)
            result = desk.invoke(function, http_event("GET", path, None, JSON, query="&".join(
                filter(None, [query, f"cursor={_cursor(shape(key))}"])), claims=claims))
            # Then it is a 400 problem naming the cursor, not a function error
            assert result["statusCode"] == 400, (path, query, key, result)
            assert "cursor is not valid" in json.loads(result["body"])["detail"], (path, query, result)

def test_a_cursor_is_bound_to_the_callers_own_query_another_teams_or_an_edited_one_reads_nothing_of_theirs(desk):
    # Given two conversations waiting in team returns and one in team default; vera is in returns, bob in default
    teams(desk, "returns")
    for who in ("vera", "bob"):
        assert agent(desk, "GET", "/agent/me", who)[0] == 200
    assert agent(desk, "GET", "/agent/me", "lead", groups="[admins]")[0] == 200
    status, _ = _admin(desk, "PUT", "/admin/agents/vera", {"capacity": 3, "teams": ["returns"]})
    assert status == 200
    theirs = [customer_writes(desk, f"+3162000021{n}", "where is my parcel", f"SMforge2{n}") for n in range(2)]
    for conversation in theirs:
        status, body = agent(desk, "PUT", f"/agent/conversations/{conversation}/routing", "lead",
                             {"team": "returns"}, groups="[admins]")
        assert status == 200, body
    ours = customer_writes(desk, "+31620000219", "hello", "SMforge29")
    # When vera pages her team's queue one at a time, and bob sends her cursor as his own
    status, page = agent(desk, "GET", "/agent/conversations", "vera", query="view=unassigned&limit=1")
    assert status == 200 and page["items"][0]["id"] in theirs and page["next_cursor"], page
    status, body = agent(desk, "GET", "/agent/conversations", "bob",
                         query=f"view=unassigned&limit=1&cursor={urllib.parse.quote(page['next_cursor'])}")
    # Then it is a 400: the cursor names a queue bob's query does not read
    assert status == 400 and "cursor is not valid" in body["detail"], body
    # And when bob edits it to stand in his own team's queue at her position, his page holds only his team's
    position = json.loads(base64.urlsafe_b64decode(urllib.parse.unquote(page["next_cursor"])))
    status, body = agent(desk, "GET", "/agent/conversations", "bob",
                         query=f"view=unassigned&limit=5&cursor={_cursor({'default': position['returns']})}")
    assert status in (200, 400), body
    if status == 200:       # the local stack's DynamoDB reads his partition; AWS refuses another's start key
        assert not {c["id"] for c in body["items"]} & set(theirs) and body["next_cursor"] is None, body
    status, body = agent(desk, "GET", "/agent/conversations", "bob", query="view=unassigned")
    assert [c["id"] for c in body["items"]] == [ours], body


def _admin(desk: Any, method: str, path: str, body: Any) -> tuple[int, Any]:
    result = desk.invoke("admin_api", http_event(method, path, json.dumps(body), JSON, claims=ADMIN))
    return result["statusCode"], json.loads(result["body"])
