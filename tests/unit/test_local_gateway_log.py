"""The local gateway's line per request names the path without its query, as the HTTP API's access log does
($context.path): a query holds search terms, addresses, a socket's token."""

from __future__ import annotations

import io
import logging
from types import SimpleNamespace

import pytest

from local.gateway import Gateway, Reply


def test_a_request_is_logged_by_its_path_without_its_query(caplog: pytest.LogCaptureFixture) -> None:
    # Given the gateway (without a stack: the request goes to a route that answers 200)
    gateway = object.__new__(Gateway)
    gateway.stack = SimpleNamespace(settings=SimpleNamespace(port=3000, public_base_url=""))
    gateway.dispatch = lambda request: Reply.json(200, {}, "AgentApiFunction")   # type: ignore[method-assign]
    sent: list[int] = []
    handler = SimpleNamespace(command="GET", path="/agent/search?q=ada%40customer.example&token=eyJsecret",
                              headers={"Host": "127.0.0.1:3000"}, rfile=io.BytesIO(), wfile=io.BytesIO(),
                              client_address=("127.0.0.1", 50000), send_response=sent.append,
                              send_header=lambda name, value: None, end_headers=lambda: None)
    # When it serves a search whose query names an address and a token
    with caplog.at_level(logging.INFO, logger="http"):
        gateway.serve(handler)   # type: ignore[arg-type]
    # Then its line names the path and the answer, nothing of the query
    assert sent == [200]
    [line] = [r.getMessage() for r in caplog.records if r.name == "http"]
    assert line.startswith("GET /agent/search -> 200 AgentApiFunction")
    assert "?" not in line and "ada" not in line and "token" not in line and "eyJ" not in line
