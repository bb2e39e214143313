"""The local gateway holds a request's body to the HTTP API's payload quota (10 MB, not raisable) and answers what
goes past it as API Gateway does, before any route or function sees it."""

from __future__ import annotations

import http.client
import io
import socket
import threading
from types import SimpleNamespace
from typing import Any

from local.gateway import PAYLOAD_LIMIT_BYTES, Gateway, Reply, _Server


class _Body(io.BytesIO):
    """A request's body that remembers the largest piece read from it at once."""

    def __init__(self, size: int) -> None:
        super().__init__(b"x" * size)
        self.largest = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.largest = max(self.largest, len(chunk))
        return chunk


def _gateway(seen: list[Any]) -> Gateway:
    """The gateway without a stack: every request that reaches routing is answered 200 and kept in ``seen``."""
    gateway = object.__new__(Gateway)
    gateway.stack = SimpleNamespace(settings=SimpleNamespace(port=3000, public_base_url=""))

    def dispatch(request: Any) -> Reply:
        seen.append(request)
        return Reply.json(200, {}, "WebchatFunction")

    gateway.dispatch = dispatch   # type: ignore[method-assign]
    return gateway


def _serve(path: str, length: int) -> tuple[list[int], dict[str, str], bytes, list[Any], Any]:
    seen: list[Any] = []
    gateway = _gateway(seen)
    sent: list[int] = []
    headers: dict[str, str] = {}
    out = io.BytesIO()
    handler = SimpleNamespace(command="POST", path=path, rfile=_Body(length), wfile=out,
                              headers={"Host": "127.0.0.1:3000", "Content-Length": str(length)},
                              client_address=("127.0.0.1", 50000), send_response=sent.append,
                              send_header=headers.__setitem__, end_headers=lambda: None, close_connection=False)
    gateway.serve(handler)   # type: ignore[arg-type]
    return sent, headers, out.getvalue(), seen, handler


def test_a_body_over_ten_megabytes_is_a_413_before_any_route_and_is_never_held() -> None:
    # When a client posts one byte more than the HTTP API's payload quota to an API route
    sent, headers, body, seen, handler = _serve("/widget/messages", PAYLOAD_LIMIT_BYTES + 1)
    # Then the gateway answers 413 with its own words, as API Gateway does, and no route or function ran
    assert PAYLOAD_LIMIT_BYTES == 10 * 1024 * 1024
    assert sent == [413] and seen == []
    assert body == b"HTTP content length exceeded 10485760 bytes."
    assert headers["Content-Type"] == "text; charset=utf-8"
    # and the body was read to its end in small pieces and dropped, never held whole
    assert handler.rfile.read() == b"" and handler.rfile.largest <= 1 << 16


def test_a_client_still_sending_a_body_past_the_limit_reads_the_413() -> None:
    # Given the gateway on a socket
    seen: list[Any] = []
    server = _Server(("127.0.0.1", 0), _gateway(seen)._handler_class())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        # When a client sends eleven megabytes in one request, then another request on the same connection
        client = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=30)
        client.request("POST", "/widget/messages", body=b"x" * (11 * 1024 * 1024),
                       headers={"Content-Type": "application/json"})
        answer = client.getresponse()
        # Then it reads the 413 (not a connection reset while it was still writing)
        assert (answer.status, answer.read()) == (413, b"HTTP content length exceeded 10485760 bytes.")
        # and the connection serves the next request as its own
        client.request("POST", "/widget/messages", body=b"{}", headers={"Content-Type": "application/json"})
        assert client.getresponse().status == 200 and [r.body for r in seen] == [b"{}"]
        client.close()
    finally:
        server.shutdown()
        server.server_close()


def test_a_body_of_exactly_ten_megabytes_reaches_its_route() -> None:
    sent, _, _, seen, _ = _serve("/widget/messages", PAYLOAD_LIMIT_BYTES)
    assert sent == [200] and len(seen[0].body) == PAYLOAD_LIMIT_BYTES


def test_the_local_only_routes_are_not_api_gateways_and_take_a_larger_body() -> None:
    # a raw email handed to the local SES receipt (SES takes mail up to 40 MB) is no HTTP API request
    sent, _, _, seen, _ = _serve("/_local/email", PAYLOAD_LIMIT_BYTES + 1)
    assert sent == [200] and len(seen[0].body) == PAYLOAD_LIMIT_BYTES + 1


def test_a_content_length_that_is_not_a_number_is_a_400_before_any_route_and_the_connection_closes() -> None:
    # Given the gateway on a socket
    seen: list[Any] = []
    server = _Server(("127.0.0.1", 0), _gateway(seen)._handler_class())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for length in ("abc", "1e3", "-1", "5, 7"):
            # When a client sends a Content-Length that is no length (HTTP/1.1: 1*DIGIT)
            with socket.create_connection(server.server_address, timeout=10) as client:
                client.sendall(f"POST /widget/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                               f"Content-Length: {length}\r\n\r\n{{}}".encode())
                answer = b""
                while chunk := client.recv(4096):     # the server closes the connection: the body's end is unknown
                    answer += chunk
            # Then it is answered 400, and no route or function ran
            assert answer.startswith(b"HTTP/1.1 400 "), (length, answer)
            assert b"\r\nConnection: close\r\n" in answer, answer
        assert seen == []
    finally:
        server.shutdown()
        server.server_close()


def test_a_chunked_body_is_never_read_as_a_request_of_its_own_and_the_connection_closes() -> None:
    # Given the gateway on a socket
    seen: list[Any] = []
    server = _Server(("127.0.0.1", 0), _gateway(seen)._handler_class())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        # When a client sends a body in chunks (no Content-Length) whose bytes are another request, a local-only one
        hidden = b"GET /_local/token?agent=root HTTP/1.1\r\nHost: x\r\n\r\n"
        chunked = f"{len(hidden):x}\r\n".encode() + hidden + b"\r\n0\r\n\r\n"
        with socket.create_connection(server.server_address, timeout=10) as client:
            client.sendall(b"POST /widget/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                           b"Transfer-Encoding: chunked\r\n\r\n" + chunked)
            answer = b""
            while chunk := client.recv(4096):         # the server closes the connection: nothing after it is read
                answer += chunk
        # Then it is refused before any route, as a transfer coding the gateway does not read, and the body's bytes
        # were never taken for a request of their own
        assert answer.startswith(b"HTTP/1.1 501 "), answer
        assert answer.count(b"HTTP/1.1 ") == 1 and b"\r\nConnection: close\r\n" in answer, answer
        assert seen == []
    finally:
        server.shutdown()
        server.server_close()
