"""The agent and admin APIs read and write the table while a person waits for the answer: a table that hangs is a
503 within the function's time (the layer's bounded DynamoDB client, ``dal.aws``), not a timeout API Gateway answers
with a bare 5xx. The functions behind queues keep the longer client: their work is delivered again."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from shopdesk.dal.aws import client
from shopdesk.dal.queues import send_worst_seconds
from tests.integration.conftest import TEMPLATE
from tests.integration.helpers import agent
from tests.support import http_event, service_hangs

# what an API needs at least after a table call that took its worst, to answer
ANSWER_MARGIN_SECONDS = 10


def _timeout(function: str) -> int:
    """The function's Timeout, as template.yaml says."""
    return int(TEMPLATE["Resources"][function]["Properties"]["Timeout"])


def test_the_apis_table_calls_take_at_worst_less_than_their_functions_time_with_room_to_answer(desk):
    bounded = client("dynamodb", answering=True)
    # Given the bounded DynamoDB client: 2 attempts of 1 s to connect and 5 s to read (DynamoDB answers in
    # milliseconds: a Query's 1 MB page or a transaction of 100 items is cut by none of it), and the wait before
    # the retry: 18 s at worst, where the layer's client may take 74 s
    config = bounded.meta.config
    assert (config.retries["total_max_attempts"], config.connect_timeout, config.read_timeout) == (2, 1, 5)
    assert send_worst_seconds(bounded) == 2 * (1 + 5) + (1 + 5) == 18
    assert send_worst_seconds(client("dynamodb")) == 74
    # Then the agent and admin APIs read and write with it, and one call at its worst leaves them time to answer
    for name, function in (("agent_api", "AgentApiFunction"), ("admin_api", "AdminApiFunction")):
        module = desk.handler(name)
        assert module.table._client is bounded, name
        assert send_worst_seconds(bounded) + ANSWER_MARGIN_SECONDS <= _timeout(function), function
    # and the router, behind its queue, keeps the longer client
    assert desk.handler("router").conversations.table._client is client("dynamodb")


def test_an_agent_s_read_and_an_admin_s_write_while_the_table_hangs_are_answered_503_in_the_function_s_time(
        desk, monkeypatch):
    desk.handler("agent_api")
    desk.handler("admin_api")            # loaded before the clock starts, as a warm function is
    with service_hangs(monkeypatch, client("dynamodb", answering=True)) as held:
        # When alice lists her conversations
        began = time.monotonic()
        status, problem = agent(desk, "GET", "/agent/conversations", "alice")
        took = time.monotonic() - began
        # Then the answer is a 503 saying nothing was read, within the function's Timeout with room to spare
        assert status == 503 and problem["code"] == "not_answered", problem
        assert "nothing was read" in problem["detail"]
        assert took + ANSWER_MARGIN_SECONDS <= _timeout("AgentApiFunction"), took
        assert len(held) == 2                # two attempts
        # When an admin writes a label
        began = time.monotonic()
        result = desk.invoke("admin_api", http_event(
            "PUT", "/admin/labels/vip", '{"name": "VIP", "color": "#f2c94c"}', {"content-type": "application/json"},
            claims={"cognito:username": "ada", "cognito:groups": "[admins]"}))
        took = time.monotonic() - began
    # Then a 503 too, saying the write may be done or not
    assert result["statusCode"] == 503, result
    assert "may be done or not" in result["body"]
    assert took + ANSWER_MARGIN_SECONDS <= _timeout("AdminApiFunction"), took


def test_the_admin_api_s_privacy_and_audit_routes_use_only_the_bounded_table_client_even_through_the_layer_s_tables(
        desk, monkeypatch):
    from shopdesk.dal import table as table_module

    admin_api = desk.handler("admin_api")
    asked: list[tuple[str, bool]] = []
    real = table_module.client

    def recording(service: str, **kwargs: Any) -> Any:
        asked.append((service, bool(kwargs.get("answering"))))
        return real(service, **kwargs)

    monkeypatch.setattr(table_module, "client", recording)
    admins = {"cognito:username": "ada", "cognito:groups": "[admins]"}
    # When an admin reads the shop platform's privacy requests (a table the layer builds: commerce.platform.store_for),
    # the audit trail, a job's status, and starts an export and an erase of a customer we do not hold
    for method, path in (("GET", "/admin/privacy-requests"), ("GET", "/admin/audit"),
                         ("GET", "/admin/privacy/jobs/nojob"), ("POST", "/admin/customers/nobody/export"),
                         ("POST", "/admin/customers/nobody/erase")):
        result = desk.invoke("admin_api", http_event(method, path, claims=admins))
        assert result["statusCode"] < 500, (path, result)
    # Then every DynamoDB call went through the bounded client, the privacy store's as the function's table's
    assert asked and set(asked) == {("dynamodb", True)}, asked
    assert admin_api.privacy_store.table._client is client("dynamodb", answering=True)
    # and the agent API's commerce store (an order panel, a customer's orders), built in the layer too
    assert desk.handler("agent_api").order_lookup.store.table._client is client("dynamodb", answering=True)


def test_an_admin_s_read_through_the_layer_s_store_and_a_privacy_export_while_the_table_hangs_are_answered_503(
        desk, monkeypatch):
    desk.handler("admin_api")            # loaded before the clock starts, as a warm function is
    admins = {"cognito:username": "ada", "cognito:groups": "[admins]"}
    with service_hangs(monkeypatch, client("dynamodb", answering=True)):
        # When an admin reads the shop platform's privacy requests (the store commerce.platform.store_for builds; the
        # route reads the function's table first, so which client the store has is the test above's to show)
        began = time.monotonic()
        read = desk.invoke("admin_api", http_event("GET", "/admin/privacy-requests", claims=admins))
        read_took = time.monotonic() - began
        # and starts a customer's export
        began = time.monotonic()
        export = desk.invoke("admin_api", http_event("POST", "/admin/customers/c1/export", claims=admins))
        export_took = time.monotonic() - began
    # Then each is a 503 within the function's Timeout with room to spare, not a function error at its end
    assert read["statusCode"] == 503 and "nothing was read" in read["body"], read
    assert export["statusCode"] == 503 and "may be done or not" in export["body"], export
    for took in (read_took, export_took):
        assert took + ANSWER_MARGIN_SECONDS <= _timeout("AdminApiFunction"), took


@pytest.mark.parametrize(("function", "prefix"), [("agent_api", "/agent"), ("admin_api", "/admin")])
def test_every_route_of_the_apis_lists_the_not_answered_503_in_its_document(desk, function, prefix):
    # every route of the two APIs reads the caller's agent record with the bounded client before it runs
    # (api.admission), so any can answer the 503 not_answered, and each one's document says so, as it says its other
    # answers: schemathesis checks the answers against it, and the inbox's types are made from it
    result = desk.invoke(function, http_event("GET", f"{prefix}/openapi.json"))
    assert result["statusCode"] == 200, result
    document = json.loads(result["body"])
    operations = [(method, path, operation) for path, operations in document["paths"].items()
                  for method, operation in operations.items()]
    assert operations
    for method, path, operation in operations:
        unavailable = operation["responses"].get("503")
        assert unavailable, (method, path, sorted(operation["responses"]))
        schema = unavailable["content"]["application/problem+json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/Problem"}, (method, path)
        # in the words the answer says: a read read nothing, a write may be done or not
        words = unavailable["description"]
        said = "nothing was read" if method in ("get", "head") else "may be done or not"
        assert "not_answered" in words and said in words, (method, path, words)
