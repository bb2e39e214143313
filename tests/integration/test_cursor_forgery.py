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
from tests.integration.helpers import agent, customer_writes
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
