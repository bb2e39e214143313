"""Requests the agent, admin and widget APIs cannot read are refused with a problem, never a function error.

A JSON body nested a hundred thousand levels (Python's decoder gives up with a RecursionError) or holding an integer
of more than 4,300 digits (a ValueError) is read as the webhooks read theirs: a 400 problem. Anyone may send one to
POST /widget/sessions, without an Origin or a token: a function error there is one any visitor can cause. A time
with no zone, which Python will not compare with the aware times the desk keeps, is refused (422) where it is given.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest

from shopdesk.channels import webchat
from tests.integration.helpers import customer_writes
from tests.support import http_event

DEEP = "[" * 100_000 + "]" * 100_000
HUGE_INTEGER = '{"text": "hi", "client_message_id": ' + "9" * 5_000 + "}"
ORIGIN = "https://shop.example"
JSON = {"content-type": "application/json"}
AGENT = {"cognito:username": "bob", "name": "Bob"}
ADMIN = {"cognito:username": "lead", "cognito:groups": "[admins]"}


def _invoke(desk: Any, function: str, method: str, path: str, body: str, headers: dict[str, str] | None = None,
            claims: dict[str, str] | None = None) -> dict[str, Any]:
    return desk.invoke(function, http_event(method, path, body, {**JSON, **(headers or {})}, claims=claims))


def _refused(result: dict[str, Any], detail: str) -> dict[str, Any]:
    assert result["statusCode"] == 400, result
    assert result["headers"]["Content-Type"] == "application/problem+json"
    problem = json.loads(result["body"])
    assert (problem["type"], problem["status"]) == ("/problems/bad-request", 400)
    assert detail in problem["detail"], problem
    return problem


@pytest.mark.parametrize(("body", "detail"), [(DEEP, "the body is nested too deeply to read"),
                                              (HUGE_INTEGER, "the body holds a number too long to read")])
def test_the_widget_refuses_a_body_it_cannot_read_with_a_problem(desk, body, detail):
    # Given no Origin and no token at all: the session route reads the body first
    _refused(_invoke(desk, "webchat", "POST", "/widget/sessions", body), detail)
    # And from the shop's page, with the CORS headers the widget's script needs to read the problem
    result = _invoke(desk, "webchat", "POST", "/widget/messages", body, {"origin": ORIGIN})
    _refused(result, detail)
    assert result["headers"]["Access-Control-Allow-Origin"] == ORIGIN


@pytest.mark.parametrize(("body", "detail"), [(DEEP, "the body is nested too deeply to read"),
                                              (HUGE_INTEGER, "the body holds a number too long to read")])
def test_the_agent_api_refuses_a_body_it_cannot_read_with_a_problem(desk, body, detail):
    conversation = customer_writes(desk, "+31620000101", "hello", "SMunreadable1")
    for method, path in (("POST", f"/agent/conversations/{conversation}/notes"), ("POST", "/agent/attachments"),
                         ("PUT", "/agent/macros/x"), ("PUT", "/agent/me/presence")):
        _refused(_invoke(desk, "agent_api", method, path, body, claims=AGENT), detail)


@pytest.mark.parametrize(("body", "detail"), [(DEEP, "the body is nested too deeply to read"),
                                              (HUGE_INTEGER, "the body holds a number too long to read")])
def test_the_admin_api_refuses_a_body_it_cannot_read_with_a_problem(desk, body, detail):
    for method, path in (("PUT", "/admin/routing"), ("PUT", "/admin/privacy/settings"), ("PUT", "/admin/teams/t1"),
                         ("PUT", "/admin/macros/x")):
        _refused(_invoke(desk, "admin_api", method, path, body, claims=ADMIN), detail)


NOT_UTF8 = b'{"visitor_token": "\xff\xfe", "text": "\xc3("}'


def _bytes(desk: Any, function: str, method: str, path: str, body: bytes, headers: dict[str, str],
           claims: dict[str, str] | None = None) -> dict[str, Any]:
    """A body as API Gateway hands over one it does not read as text (no Content-Type, or not a text type): base64."""
    event = http_event(method, path, None, headers, claims=claims)
    event.update(body=base64.b64encode(body).decode(), isBase64Encoded=True)
    return desk.invoke(function, event)


@pytest.mark.parametrize("headers", [{}, JSON], ids=["no content type", "json"])
def test_a_body_that_is_not_utf8_is_a_400_problem_even_before_any_origin_or_token(desk, headers):
    # Given bytes that are not UTF-8 text, which JSON must be (RFC 8259), from anyone: no Origin, no token
    detail = "the body is not UTF-8 text"
    _refused(_bytes(desk, "webchat", "POST", "/widget/sessions", NOT_UTF8, headers), detail)
    # and on the agents' and the admins' APIs, and the knowledge base's import, which reads its text itself
    _refused(_bytes(desk, "agent_api", "PUT", "/agent/me/presence", NOT_UTF8, headers, AGENT), detail)
    _refused(_bytes(desk, "admin_api", "PUT", "/admin/routing", NOT_UTF8, headers, ADMIN), detail)
    _refused(_bytes(desk, "admin_api", "POST", "/admin/kb/import", NOT_UTF8,
                    {"content-type": "application/x-ndjson"}, ADMIN), detail)


def test_a_body_that_is_not_json_or_is_deep_but_readable_is_still_the_validation_problem(desk):
    result = _invoke(desk, "agent_api", "PUT", "/agent/me/presence", '{"presence": ', claims=AGENT)
    assert result["statusCode"] == 422 and json.loads(result["body"])["errors"][0]["type"] == "json_invalid"
    readable = '{"presence": ' + "[" * 900 + "]" * 900 + ', "other": ' + "[" * 900 + "]" * 900 + "}"
    result = _invoke(desk, "agent_api", "PUT", "/agent/me/presence", readable, claims=AGENT)
    assert result["statusCode"] == 422 and sorted((e["loc"], e["type"]) for e in json.loads(result["body"])["errors"]) \
        == [(["body", "other"], "extra_forbidden"), (["body", "presence"], "enum")]      # a field it does not know


def test_a_knowledge_base_import_names_each_line_it_cannot_read(desk):
    # Given JSON Lines, which the import reads line by line itself (the body is not JSON)
    good = '{"id": "a1", "title": "Returns", "body": "Send it back within 30 days.", "language": "en"}'
    body = "\n".join([good, "[" * 100_000, '{"id": "a2", "n": ' + "9" * 5_000 + "}"])
    result = desk.invoke("admin_api", http_event("POST", "/admin/kb/import", body,
                                                 {"content-type": "application/x-ndjson"}, claims=ADMIN))
    # Then the file is refused whole, naming each line it could not read, as for any bad line
    assert result["statusCode"] == 422, result
    errors = json.loads(result["body"])["errors"]
    assert [(e["loc"][:2], e["msg"]) for e in errors] == [
        (["body", 2], "the line is nested too deeply to read"),
        (["body", 3], "the line holds a number too long to read (more than 4,300 digits)")], errors


# ------------------------------------------------------------------------------ times without a zone

def test_the_widget_refuses_a_time_with_no_zone_and_takes_one_with_its_zone(desk):
    # Given a visitor with a conversation (its messages' times are what ``after`` is compared with)
    token = webchat.sign_visitor_token({"visitor_id": "naive-1", "exp": int(time.time()) + 600}, "test-visitor-secret")
    session = json.loads(_invoke(desk, "webchat", "POST", "/widget/sessions", json.dumps({"visitor_token": token}),
                                 {"origin": ORIGIN})["body"])["session"]
    visitor = {"origin": ORIGIN, "authorization": f"Bearer {session}"}
    sent = _invoke(desk, "webchat", "POST", "/widget/messages", json.dumps({"client_message_id": "n1", "text": "hi"}),
                   visitor)
    assert sent["statusCode"] == 201, sent
    # When it polls after a time with no zone: a problem the widget may read, not a TypeError
    result = desk.invoke("webchat", http_event("GET", "/widget/messages", None, visitor,
                                               query="after=2026-12-06T00:00:00"))
    assert result["statusCode"] == 422 and result["headers"]["Access-Control-Allow-Origin"] == ORIGIN, result
    [error] = json.loads(result["body"])["errors"]
    assert (error["loc"], error["type"]) == (["query", "after"], "timezone_aware")
    # And with its zone it answers as before
    result = desk.invoke("webchat", http_event("GET", "/widget/messages", None, visitor,
                                               query="after=2000-01-01T00:00:00Z"))
    assert result["statusCode"] == 200 and [m["text"] for m in json.loads(result["body"])["items"]] == ["hi"]


@pytest.mark.parametrize("query", ["from=2026-12-06T00:00:00", "from=2026-12-06T00:00:00Z&to=2026-12-07T00:00:00",
                                   "customer_id=u_1&from=2026-12-06T00:00:00"])
def test_the_audit_trail_refuses_a_time_with_no_zone(desk, query):
    result = desk.invoke("admin_api", http_event("GET", "/admin/audit", None, JSON, query=query, claims=ADMIN))
    assert result["statusCode"] == 422, result
    assert {e["type"] for e in json.loads(result["body"])["errors"]} == {"timezone_aware"}


# ------------------------------------------------------------------------------ times at the calendar's edge
# A time a caller names is one from 2000 to 2100 (clock.AwareInstant): at the calendar's edge Python cannot convert
# one to UTC (OverflowError), and nothing the desk does needs one outside.

EDGES = ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59Z",
         "1999-12-31T23:59:59Z", "2101-01-01T00:00:00Z", "2100-12-31T23:30:00-01:00"]


@pytest.mark.parametrize("moment", EDGES)
@pytest.mark.parametrize("name", ["from", "to"])
def test_the_audit_trail_refuses_a_time_outside_the_years_it_keeps(desk, name, moment):
    query = f"{name}={moment.replace('+', '%2B')}" + ("&to=2026-12-07T00:00:00Z" if name == "from" else "")
    result = desk.invoke("admin_api", http_event("GET", "/admin/audit", None, JSON, query=query, claims=ADMIN))
    assert result["statusCode"] == 422, result
    [error] = json.loads(result["body"])["errors"]
    assert (error["loc"], error["type"]) == (["query", name], "datetime_range"), error
    assert "2000-01-01T00:00:00Z" in error["msg"]


def test_the_audit_trail_takes_the_first_and_last_times_of_its_years(desk):
    for query in ("from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z", "actor=bob&from=2000-01-01T01:00:00%2B01:00",
                  "from=2100-12-31T00:00:00Z&to=2100-12-31T23:59:59.999999Z"):
        result = desk.invoke("admin_api", http_event("GET", "/admin/audit", None, JSON, query=query, claims=ADMIN))
        assert result["statusCode"] == 200, (query, result)


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00%2B14:00", "9999-12-31T23:59:59-01:00", "2101-01-01T00:00:00Z"])
def test_the_widget_refuses_a_time_outside_the_years_it_keeps(desk, moment):
    token = webchat.sign_visitor_token({"visitor_id": "edge-1", "exp": int(time.time()) + 600}, "test-visitor-secret")
    session = json.loads(_invoke(desk, "webchat", "POST", "/widget/sessions", json.dumps({"visitor_token": token}),
                                 {"origin": ORIGIN})["body"])["session"]
    visitor = {"origin": ORIGIN, "authorization": f"Bearer {session}"}
    sent = _invoke(desk, "webchat", "POST", "/widget/messages", json.dumps({"client_message_id": "e1", "text": "hi"}),
                   visitor)
    assert sent["statusCode"] == 201, sent
    result = desk.invoke("webchat", http_event("GET", "/widget/messages", None, visitor, query=f"after={moment}"))
    assert result["statusCode"] == 422 and result["headers"]["Access-Control-Allow-Origin"] == ORIGIN, result
    [error] = json.loads(result["body"])["errors"]
    assert (error["loc"], error["type"]) == (["query", "after"], "datetime_range")


@pytest.mark.parametrize("until", ["9999-12-31T23:59:59-01:00", "9999-12-31T23:59:59Z", "2101-01-01T00:00:00Z",
                                   "0001-01-01T00:00:00+14:00"])
def test_a_snooze_until_a_time_outside_the_years_the_desk_keeps_is_refused(desk, until):
    # Given a conversation any agent may snooze
    conversation = customer_writes(desk, "+31620000102", "hello", "SMedge1")
    status = f"/agent/conversations/{conversation}/status"
    # When bob snoozes it until the calendar's edge: a problem, and nothing changes
    result = _invoke(desk, "agent_api", "POST", status, json.dumps({"status": "snoozed", "until": until}),
                     claims=AGENT)
    assert result["statusCode"] == 400, result
    assert "until must be a time from 2000-01-01T00:00:00Z" in json.loads(result["body"])["detail"]
    assert desk.item(f"CONV#{conversation}")["status"] == "open"
    # And until the end of 2100 (in its own zone, the next year in UTC's) it is snoozed
    result = _invoke(desk, "agent_api", "POST", status, json.dumps({"status": "snoozed",
                                                                    "until": "2100-12-31T23:59:59+14:00"}),
                     claims=AGENT)
    assert result["statusCode"] == 200 and json.loads(result["body"])["snoozed_until"].startswith("2100-12-31T09"), \
        result


# ------------------------------------------------------------------------------ cursors

def test_a_cursor_nested_too_deeply_to_decode_is_refused_like_any_cursor_that_is_not_ours(desk):
    deep = base64.urlsafe_b64encode(b"[" * 2_000).decode()          # within the 4,096 characters a cursor may have
    result = desk.invoke("agent_api", http_event("GET", "/agent/conversations", None, JSON, query=f"cursor={deep}",
                                                 claims=AGENT))
    assert result["statusCode"] == 400 and "cursor" in json.loads(result["body"])["detail"], result
    result = desk.invoke("admin_api", http_event("GET", "/admin/audit", None, JSON,
                                                 query=f"actor=bob&cursor={deep}", claims=ADMIN))
    assert result["statusCode"] == 400 and "cursor" in json.loads(result["body"])["detail"], result


def test_a_cursor_that_decodes_but_is_no_key_of_ours_is_refused_on_every_list_that_pages(desk):
    # Given a customer with a conversation, and cursors that are base64 JSON objects but hold no DynamoDB key: a
    # name whose value is not an attribute value, and a key of the right names with values of the wrong types
    conversation = customer_writes(desk, "+31620000103", "hello", "SMcursor1")
    customer = desk.item(f"CONV#{conversation}")["customer"]["id"]
    cursors = [base64.urlsafe_b64encode(json.dumps(value).encode()).decode()
               for value in ({"a": 1}, {"PK": 5, "SK": [1]}, {"inbox:open": {"PK": "x"}}, {"open": {"PK": 5}})]
    lists = [("agent_api", "/agent/conversations", "view=mine&status=open", AGENT),
             ("agent_api", "/agent/conversations", "view=mine", AGENT),
             ("agent_api", "/agent/conversations", "view=granted", AGENT),
             ("agent_api", "/agent/conversations", "view=mentions", AGENT),
             ("agent_api", "/agent/conversations", "view=all&status=open", ADMIN),
             ("agent_api", "/agent/conversations", "view=all", ADMIN),
             ("agent_api", f"/agent/customers/{customer}", "", ADMIN),
             ("admin_api", "/admin/audit", "actor=bob", ADMIN),
             ("admin_api", "/admin/audit", f"customer_id={customer}", ADMIN),
             ("admin_api", "/admin/privacy-requests", "", ADMIN)]
    for function, path, query, claims in lists:
        for cursor in cursors:
            # When the list is asked for the page after it: a 400 problem naming the cursor, not a function error
            result = desk.invoke(function, http_event("GET", path, None, JSON,
                                                      query="&".join(filter(None, [query, f"cursor={cursor}"])),
                                                      claims=claims))
            assert result["statusCode"] == 400, (path, query, base64.urlsafe_b64decode(cursor), result)
            assert "cursor is not valid" in json.loads(result["body"])["detail"], (path, query, result)


def test_a_twilio_webhook_body_that_is_not_utf8_is_a_400_before_any_signature_is_checked(desk):
    # Twilio posts a form (base64 to the function: not a text type); anyone can post bytes that are not UTF-8 to it
    form = {"content-type": "application/x-www-form-urlencoded", "x-twilio-signature": "forged"}
    for path in ("/webhooks/twilio", "/webhooks/twilio/status"):
        result = _bytes(desk, "inbound_twilio", "POST", path, b"Body=\xff\xfe&From=%2B31600000000", form)
        assert result["statusCode"] == 400, result
