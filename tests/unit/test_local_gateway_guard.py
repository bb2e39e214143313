"""The local gateway answers only requests addressed to it by a name it serves (a hostile page re-pointing its own name
at 127.0.0.1, DNS rebinding, is refused on every route, ``GET /_local/token`` included), and its local-only routes and
sandboxes take no write from another site's page (its ``Origin``: cross-site request forgery). Clients that are no
browser (curl, boto3, the tests, the functions) send no Origin and go through, as the stack's own pages do."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from local.gateway import Gateway, Reply, _Server


class _Stack:
    """The gateway on a socket, without a stack: every request that reaches routing is answered 200 and kept."""

    def __init__(self, public_base_url: str = "") -> None:
        self.seen: list[Any] = []
        gateway = object.__new__(Gateway)
        gateway.stack = SimpleNamespace(settings=SimpleNamespace(port=3000, public_base_url=public_base_url))

        def dispatch(request: Any) -> Reply:
            self.seen.append((request.method, request.path))
            return Reply.json(200, {"ok": True}, "route")

        gateway.dispatch = dispatch   # type: ignore[method-assign]
        self.server = _Server(("127.0.0.1", 0), gateway._handler_class())
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def call(self, method: str, path: str, headers: dict[str, str] | None = None,
             body: bytes | None = None) -> tuple[int, str, Any]:
        client = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            client.request(method, path, body=body, headers=headers or {})
            answer = client.getresponse()
            return answer.status, answer.getheader("Content-Type") or "", json.loads(answer.read() or b"null")
        finally:
            client.close()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stack() -> Iterator[_Stack]:
    served = _Stack()
    yield served
    served.close()


@pytest.mark.parametrize("path", ["/_local/token?agent=alice", "/_local/aws", "/_local/outbox",
                                  "/_sandbox/meta/v21.0/media/1", "/agent/me", "/", "/assets/index.js"])
def test_a_request_addressed_to_another_name_is_refused_on_every_route(stack: _Stack, path: str) -> None:
    # Given a hostile page whose own name now resolves to 127.0.0.1 (DNS rebinding): the browser sends its name
    for host in ("evil.example", f"evil.example:{stack.port}", "127.0.0.1.evil.example", f"localhost.:{stack.port}",
                 "127.0.0.1:1", f"127.0.0.1:{stack.port},evil.example"):
        # When it reads a local-only route, a sandbox, an API or the inbox
        status, content_type, problem = stack.call("GET", path, {"Host": host})
        # Then the gateway refuses it before any route, with a problem that says why
        assert status == 403, (host, path)
        assert content_type == "application/problem+json"
        assert problem["status"] == 403 and problem["title"] == "Forbidden"
        assert "addressed to it" in problem["detail"] and repr(host) in problem["detail"]
    assert stack.seen == []


def test_a_write_from_another_sites_page_to_the_local_routes_or_the_sandboxes_is_refused(stack: _Stack) -> None:
    # Given a page of another site, open in the developer's browser: its POSTs carry its Origin
    own_host = {"Host": f"127.0.0.1:{stack.port}"}
    for method, path in (("POST", "/_local/clock"), ("POST", "/_local/schedules/SlaSweepFunction/run"),
                         ("POST", "/_local/aws/faults"), ("DELETE", "/_local/outbox"), ("PUT", "/_local/clock"),
                         ("PATCH", "/_local/clock"), ("POST", "/_sandbox/twilio/2010-04-01/Accounts/AC1/Calls.json")):
        for origin in ("https://evil.example", "null", f"http://localhost:{stack.port + 1}",
                       f"https://127.0.0.1:{stack.port}", f"http://127.0.0.1:{stack.port}.evil.example"):
            # When it sends a write to a local-only route or a sandbox
            status, content_type, problem = stack.call(method, path, {**own_host, "Origin": origin}, b"{}")
            # Then it is refused before any route, with a problem that says why
            assert (status, content_type) == (403, "application/problem+json"), (method, path, origin)
            assert repr(origin) in problem["detail"] and "another site" in problem["detail"]
    assert stack.seen == []


def test_the_legitimate_callers_go_through(stack: _Stack) -> None:
    # curl, boto3, requests and the tests: the stack's name and port, no Origin
    for host in (f"127.0.0.1:{stack.port}", f"localhost:{stack.port}", f"[::1]:{stack.port}",
                 f"LocalHost:{stack.port}"):
        assert stack.call("POST", "/_local/clock", {"Host": host}, b"{}")[0] == 200, host
        assert stack.call("GET", "/_local/token?agent=alice", {"Host": host})[0] == 200, host
    # the stack's own pages (the inbox it serves), by each of its names
    for origin in (f"http://127.0.0.1:{stack.port}", f"http://localhost:{stack.port}", f"http://[::1]:{stack.port}"):
        assert stack.call("DELETE", "/_local/aws/faults", {"Origin": origin})[0] == 200, origin
    # a read from any page is no write (and the browser keeps its answer from another site's page: no CORS header)
    assert stack.call("GET", "/_local/clock", {"Origin": "https://evil.example"})[0] == 200
    # the demo shop's pages call the widget's API from their own origin, and a shop's page the agents' API: the
    # Origin check is the local routes' and the sandboxes' alone (the APIs have their CORS and tokens)
    shop = {"Origin": f"http://localhost:{stack.port + 2}"}
    assert stack.call("POST", "/widget/sessions", shop, b"{}")[0] == 200
    assert stack.call("OPTIONS", "/widget/sessions", shop)[0] == 200
    assert stack.seen == [("POST", "/_local/clock"), ("GET", "/_local/token")] * 4 + \
        [("DELETE", "/_local/aws/faults")] * 3 + [("GET", "/_local/clock"), ("POST", "/widget/sessions"),
                                                  ("OPTIONS", "/widget/sessions")]


def test_a_request_without_a_host_is_no_browsers_and_goes_through(stack: _Stack) -> None:
    # An HTTP/1.0 client may send no Host; a browser always sends one
    with socket.create_connection(("127.0.0.1", stack.port), timeout=10) as client:
        client.sendall(b"POST /_local/clock HTTP/1.0\r\nContent-Length: 2\r\n\r\n{}")
        answer = b""
        while chunk := client.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200 "), answer
    assert stack.seen == [("POST", "/_local/clock")]


def test_public_base_urls_host_and_origin_are_the_stacks_own() -> None:
    # Given a stack reached through a tunnel (PUBLIC_BASE_URL), which forwards the providers' webhooks with its name
    served = _Stack("https://shopdesk-dev.tunnel.example")
    try:
        # Then requests to that name, and writes from its pages, are the stack's; another name is still refused
        tunnel = {"Host": "shopdesk-dev.tunnel.example"}
        assert served.call("POST", "/webhooks/twilio", tunnel, b"{}")[0] == 200
        assert served.call("POST", "/_local/clock", {**tunnel, "Origin": "https://shopdesk-dev.tunnel.example"},
                           b"{}")[0] == 200
        assert served.call("GET", "/_local/token?agent=alice", {"Host": "shopdesk-dev.tunnel.example:443"})[0] == 200
        assert served.call("GET", "/_local/token?agent=alice", {"Host": "other.tunnel.example"})[0] == 403
        assert served.call("POST", "/_local/clock", {"Origin": "http://shopdesk-dev.tunnel.example"}, b"{}")[0] == 403
    finally:
        served.close()
