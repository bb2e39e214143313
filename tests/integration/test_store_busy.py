"""The store throttled or unavailable for a moment (DynamoDB's ServiceUnavailable or throughput exceeded, after the
SDK's own retries): a read is the documented 503 ``/problems/unavailable`` (code ``store_busy``: nothing was read, send
it again), as the inbox retries it, never a plain 500; a write that met it stays a function error (it may have done
part of its work), and any other refusal of AWS is not made a 503."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from shopdesk.dal import aws
from shopdesk.logs import FunctionFailed
from tests.integration.helpers import agent, customer_writes
from tests.support import http_event


@pytest.fixture
def store_down(desk, monkeypatch):
    """``store_down(code)``: every DynamoDB call from now on is refused with that error code (the APIs' bounded
    client's, dal.aws, and the layer's)."""
    clients = (aws.client("dynamodb"), aws.client("dynamodb", answering=True))

    def down(code: str) -> None:
        def refuse(operation, kwargs):
            raise ClientError({"Error": {"Code": code, "Message": "injected"}}, operation)
        for client in clients:
            monkeypatch.setattr(client, "_make_api_call", refuse)
    return down


@pytest.mark.parametrize("code", ["ServiceUnavailable", "ServiceUnavailableException", "InternalServerError",
                                  "InternalFailure", "ProvisionedThroughputExceededException",
                                  "ThrottlingException", "RequestLimitExceeded"])
def test_a_read_that_meets_the_store_busy_is_a_503_to_send_again(desk, store_down, code):
    conv = customer_writes(desk, "+31612349001", "Where is my order?", "SMbusy1")
    assert agent(desk, "GET", "/agent/conversations", "alice", query="view=all")[0] == 200
    store_down(code)
    for path, query in (("/agent/conversations", "view=mine"), (f"/agent/conversations/{conv}", ""),
                        ("/agent/counts", "")):
        status, problem = agent(desk, "GET", path, "alice", query=query)
        assert status == 503, (path, status, problem)
        assert problem["type"] == "/problems/unavailable" and problem["code"] == "store_busy", problem
        assert problem["detail"] == "busy for a moment: nothing was read; try again", problem
    # the admin API too
    event = http_event("GET", "/admin/agents", None, {}, claims={"cognito:username": "lead",
                                                                  "cognito:groups": "[admins]"})
    result = desk.invoke("admin_api", event)
    assert result["statusCode"] == 503 and json.loads(result["body"])["code"] == "store_busy", result


def test_a_write_or_another_refusal_is_not_said_to_be_safe_to_send_again(desk, store_down):
    customer_writes(desk, "+31612349002", "Hello", "SMbusy2")
    store_down("ServiceUnavailable")
    # a function error (500), as before: it may have done part of its work
    with pytest.raises(FunctionFailed) as failed:
        agent(desk, "PUT", "/agent/me/presence", "alice", {"presence": "away"})
    assert isinstance(failed.value.__context__, ClientError)
    store_down("AccessDeniedException")
    with pytest.raises(FunctionFailed) as failed:
        agent(desk, "GET", "/agent/conversations", "alice", query="view=mine")
    assert isinstance(failed.value.__context__, ClientError)


def test_another_services_throttling_on_a_read_is_not_the_stores(desk, monkeypatch):
    """Bedrock throttling the suggestion's embedding (kb/embedder.py invoke_model) on a GET is not the store being
    busy: it stays a function error, never a 503 store_busy saying nothing was read."""
    conv = customer_writes(desk, "+31612349003", "Where is my order?", "SMbusy3")
    app = desk.handler("agent_api")

    def throttled(who, conversation):
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "injected"}}, "InvokeModel")
    monkeypatch.setattr(app.assistant, "for_conversation", throttled)
    with pytest.raises(FunctionFailed) as failed:
        agent(desk, "GET", f"/agent/conversations/{conv}/assist", "alice")
    assert isinstance(failed.value.__context__, ClientError)


@pytest.mark.parametrize(("function", "prefix"), [("agent_api", "/agent"), ("admin_api", "/admin"),
                                                  ("reports_api", "/reports"), ("webchat", "/widget")])
def test_every_read_lists_the_store_busy_503_in_its_document(desk, function, prefix):
    # every GET of every API can answer it (problems.install), so each one's document says so, as it says its other
    # answers: schemathesis checks the answers against it, and the inbox's types are made from it
    result = desk.invoke(function, http_event("GET", f"{prefix}/openapi.json"))
    assert result["statusCode"] == 200, result
    document = json.loads(result["body"])
    reads = [(path, operation) for path, operations in document["paths"].items()
             for method, operation in operations.items() if method in ("get", "head")]
    assert reads
    for path, operation in reads:
        busy = operation["responses"].get("503")
        assert busy, (path, sorted(operation["responses"]))
        assert busy["content"]["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}, path
        assert "store_busy" in busy["description"], (path, busy["description"])
    # and no write says it: a write that met the store busy stays a function error
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method not in ("get", "head") and "503" in operation["responses"]:
                assert "store_busy" not in operation["responses"]["503"]["description"], (method, path)
