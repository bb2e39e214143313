"""The one problem model of the HTTP APIs (RFC 9457): bodies, the 422's field errors, documented answers."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from shopdesk.api import problems
from shopdesk.api.agent import ReplyIn
from shopdesk.api.problems import Problem, ValidationProblem, validation_problem


def test_a_problem_says_its_kind_and_what_went_wrong():
    body = problems.problem(problems.NOT_FOUND, "conversation c_1 does not exist")
    assert body == {"type": "/problems/not-found", "title": "Not found", "status": 404,
                    "detail": "conversation c_1 does not exist"}
    Problem.model_validate(body)


def test_an_answer_is_problem_json_with_the_kind_status():
    answer = problems.answer(problems.CONFLICT, "changed meanwhile", {"Vary": "Origin"})
    assert answer.status_code == 409
    assert answer.headers["Content-Type"] == "application/problem+json" and answer.headers["Vary"] == "Origin"
    assert json.loads(answer.body)["title"] == "Conflict"


def test_every_kind_has_its_own_type_and_the_status_it_is_filed_under():
    assert len({k.type for k in problems.KINDS.values()}) == len(problems.KINDS)
    assert all(status == kind.status for status, kind in problems.KINDS.items())


def test_validation_problem_says_what_is_wrong_and_where():
    errors = [{"loc": ("body", "text"), "msg": "String should have at least 1 character", "type": "string_too_short"},
              {"loc": ("query", "limit"), "type": "less_than_equal"}]
    body = validation_problem(errors)
    assert (body["status"], body["type"], body["title"]) == (422, "/problems/invalid-request", "Invalid request")
    assert body["errors"] == [
        {"loc": ["body", "text"], "msg": "String should have at least 1 character", "type": "string_too_short"},
        {"loc": ["query", "limit"], "msg": "less_than_equal", "type": "less_than_equal"}]
    assert body["detail"] == ("invalid request: body.text: String should have at least 1 character; "
                              "query.limit: less_than_equal")
    ValidationProblem.model_validate(body)


def test_validation_problem_from_a_real_pydantic_error():
    with pytest.raises(ValidationError) as caught:
        ReplyIn(text="")
    body = validation_problem(caught.value.errors())
    assert body["errors"][0]["loc"] == ["text"]
    assert body["errors"][0]["type"] == "string_too_short"
    assert body["errors"][0]["msg"]
    assert body["detail"].startswith("invalid request: text: ")


def test_validation_problem_with_missing_fields_still_has_every_key():
    assert validation_problem([{}])["errors"] == [{"loc": [], "msg": "invalid", "type": "value_error"}]


def test_documented_answers_keep_the_success_and_add_problems_422_the_gateways_401_and_a_deactivated_403():
    documented = problems.responses(202, 404, 409, description="Queued")
    assert set(documented) == {202, 401, 403, 404, 409, 422}
    assert documented[202] == {"description": "Queued"}          # its body: the route's return annotation
    assert documented[404]["content"] == {"application/problem+json": {"model": Problem}}
    assert documented[422]["content"] == {"application/problem+json": {"model": ValidationProblem}}
    assert documented[401]["content"] == {"application/json": {"model": problems.GatewayMessage}}
    # every route behind the agents' token may refuse a caller an admin took off the desk (shopdesk.api.admission)
    assert documented[403]["content"] == {"application/problem+json": {"model": Problem}}
    assert "`deactivated`" in documented[403]["description"]


def test_an_api_without_the_gateways_authorizer_documents_no_gateway_401():
    documented = problems.responses(201, 429, gateway_auth=False, headers={429: {"Retry-After": {}}})
    assert set(documented) == {201, 422, 429} and documented[429]["headers"] == {"Retry-After": {}}
    assert "deactivated" not in problems.responses(200, 403, gateway_auth=False)[403]["description"]
