"""Requests the agent, admin and widget APIs cannot read are refused with a problem, never a function error.

A JSON body nested a hundred thousand levels (Python's decoder gives up with a RecursionError) or holding an integer
of more than 4,300 digits (a ValueError) is read as the webhooks read theirs: a 400 problem. Anyone may send one to
POST /widget/sessions, without an Origin or a token: a function error there is one any visitor can cause.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

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


def test_a_body_that_is_not_json_or_is_deep_but_readable_is_still_the_validation_problem(desk):
    result = _invoke(desk, "agent_api", "PUT", "/agent/me/presence", '{"presence": ', claims=AGENT)
    assert result["statusCode"] == 422 and json.loads(result["body"])["errors"][0]["type"] == "json_invalid"
    readable = '{"presence": ' + "[" * 900 + "]" * 900 + ', "other": ' + "[" * 900 + "]" * 900 + "}"
    result = _invoke(desk, "agent_api", "PUT", "/agent/me/presence", readable, claims=AGENT)
    assert result["statusCode"] == 422 and [e["loc"] for e in json.loads(result["body"])["errors"]] == \
        [["body", "presence"]]
