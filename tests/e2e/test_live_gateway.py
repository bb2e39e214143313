"""The local WebSocket API server on its own (no stack): the upgrade's authorizer and $connect, frames to
$default, the @connections API (post, get, delete), and $disconnect, with API Gateway's event shapes."""

from __future__ import annotations

import json
import socket as _socket
import threading
import time
from typing import Any

import pytest
from tests.e2e.conftest import free_port
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from local.live import LiveApis, Socket, WebSocketApi, WsAuthorizer, WsRoute
from local.runtime import Invocation

pytestmark = pytest.mark.e2e


class FakeRuntime:
    """Plays the authorizer and the connections function; records every event."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.refuse_connect = False
        self.lock = threading.Lock()

    def invoke(self, function: str, event: dict[str, Any]) -> Invocation:
        with self.lock:
            self.events.append((function, event))
        if function == "Authorizer":
            token = (event.get("queryStringParameters") or {}).get("token")
            if token == "deny":
                return Invocation(True, {"principalId": "x", "policyDocument": {"Statement": [
                    {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": event["methodArn"]}]}})
            if token != "good":
                return Invocation(False, error={"errorMessage": "Unauthorized", "errorType": "Exception"})
            return Invocation(True, {"principalId": "bob", "context": {"agent": "bob", "roles": ""},
                                     "policyDocument": {"Statement": [
                                         {"Action": "execute-api:Invoke", "Effect": "Allow",
                                          "Resource": event["methodArn"]}]}})
        if event["requestContext"]["routeKey"] == "$connect" and self.refuse_connect:
            return Invocation(True, {"statusCode": 403})
        return Invocation(True, {"statusCode": 200})

    def routes(self) -> list[str]:
        return [event["requestContext"]["routeKey"] for function, event in self.events if function == "Connections"]


@pytest.fixture
def live():
    runtime = FakeRuntime()
    authorizer = WsAuthorizer("AgentToken", "Authorizer", ("route.request.querystring.token",))
    api = WebSocketApi("LiveApi", "localws", "dev", "$request.body.action", {
        "$connect": WsRoute("$connect", "Connections", authorizer),
        "$disconnect": WsRoute("$disconnect", "Connections", None),
        "$default": WsRoute("$default", "Connections", None)})
    apis = LiveApis([api], runtime, free_port(), "us-east-1")   # type: ignore[arg-type]
    apis.start()
    yield apis, runtime
    apis.close()


def wait(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met"
        time.sleep(0.02)


def test_the_upgrade_runs_the_authorizer_then_connect(live):
    apis, runtime = live
    for query, status in (("", 401), ("?token=bad", 401), ("?token=deny", 403)):
        with pytest.raises(InvalidStatus) as refused:
            connect(f"{apis.url}{query}").close()
        assert refused.value.response.status_code == status, query
    runtime.refuse_connect = True
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{apis.url}?token=good").close()
    assert refused.value.response.status_code == 403
    with pytest.raises(InvalidStatus) as wrong_path:
        connect(apis.url.replace("/dev", "/prod") + "?token=good").close()
    assert wrong_path.value.response.status_code == 404
    authorizer_event = next(e for f, e in runtime.events if f == "Authorizer" and e["queryStringParameters"])
    assert authorizer_event["type"] == "REQUEST"
    assert authorizer_event["methodArn"] == "arn:aws:execute-api:us-east-1:123456789012:localws/dev/$connect"


def test_frames_connections_api_and_disconnect(live):
    apis, runtime = live
    with connect(f"{apis.url}?token=good") as socket:
        wait(lambda: apis.sockets and next(iter(apis.sockets.values())).connection is not None)
        connection_id = next(iter(apis.sockets))
        connect_event = next(e for f, e in runtime.events if f == "Connections")
        context = connect_event["requestContext"]
        assert context["eventType"] == "CONNECT" and context["connectionId"] == connection_id
        assert context["authorizer"]["agent"] == "bob" and context["authorizer"]["principalId"] == "bob"
        assert connect_event["queryStringParameters"] == {"token": "good"}
        # a frame from the client reaches $default with the connection's context
        socket.send(json.dumps({"type": "ping"}))
        wait(lambda: "$default" in runtime.routes())
        message = next(e for f, e in runtime.events if e["requestContext"]["routeKey"] == "$default")
        assert message["body"] == '{"type": "ping"}' and message["requestContext"]["eventType"] == "MESSAGE"
        # PostToConnection and GetConnection
        assert apis.manage("POST", "localws", "dev", connection_id, b'{"type":"change"}') == (200, {})
        assert json.loads(socket.recv(timeout=5)) == {"type": "change"}
        status, described = apis.manage("GET", "localws", "dev", connection_id, b"")
        assert status == 200 and described["identity"]["sourceIp"] == "127.0.0.1"
        assert apis.manage("POST", "localws", "dev", "unknown=", b"x")[0] == 410
        # DeleteConnection closes the socket; $disconnect follows
        assert apis.manage("DELETE", "localws", "dev", connection_id, b"")[0] == 204
        with pytest.raises(ConnectionClosed):
            socket.recv(timeout=5)
    wait(lambda: "$disconnect" in runtime.routes())
    assert apis.manage("POST", "localws", "dev", connection_id, b"x")[0] == 410


def test_a_frame_nested_too_deeply_to_read_goes_to_default_and_the_socket_stays_open(live):
    # API Gateway routes a frame it cannot evaluate the selection expression on to $default; the gateway here
    # closed the socket with 1011 (a RecursionError choosing the route)
    apis, runtime = live
    deep = "[" * 100_000
    with connect(f"{apis.url}?token=good", max_size=None) as socket:
        socket.send(deep)
        socket.send(json.dumps({"type": "ping"}))
        wait(lambda: runtime.routes().count("$default") == 2)
        bodies = [e["body"] for f, e in runtime.events if e["requestContext"]["routeKey"] == "$default"]
        assert bodies == [deep, '{"type": "ping"}']
        assert next(iter(apis.sockets.values())).connection is not None
    wait(lambda: "$disconnect" in runtime.routes())
    [closed] = [e for f, e in runtime.events if e["requestContext"]["routeKey"] == "$disconnect"]
    assert closed["requestContext"]["disconnectStatusCode"] == 1000


def test_a_post_between_connect_and_the_handshake_waits_for_the_socket_and_is_delivered(live):
    # Given the fan-out posting to a connection the moment $connect has accepted it, before the 101 went out
    apis, _ = live
    original_connect = apis._connect
    posts: list[threading.Thread] = []
    outcome: dict[str, Any] = {}

    def post(socket):
        outcome["attached before the post"] = socket.attached.is_set()
        outcome["answer"] = apis.manage("POST", "localws", "dev", socket.id, b'{"type":"change"}')

    def connect_then_post(socket, route):
        status = original_connect(socket, route)
        posts.append(threading.Thread(target=post, args=(socket,)))
        posts[-1].start()
        time.sleep(0.2)                       # the post is waiting before the upgrade goes on
        return status

    apis._connect = connect_then_post
    with connect(f"{apis.url}?token=good") as socket:
        # Then the post waited for the socket and the frame arrived: the connection was not reported gone
        assert json.loads(socket.recv(timeout=10)) == {"type": "change"}
    posts[0].join(timeout=10)
    assert outcome == {"attached before the post": False, "answer": (200, {})}


def test_a_socket_whose_handshake_never_finishes_is_gone_after_the_wait(live, monkeypatch):
    apis, _ = live
    monkeypatch.setattr("local.live.HANDSHAKE_SECONDS", 0.1)
    socket = Socket(id="half=", api=apis.apis[0], connection=None, headers={}, query={}, source_ip="127.0.0.1",
                    connected_at=0)
    apis.sockets[socket.id] = socket                # accepted by $connect; the client left before the 101
    assert apis.manage("POST", "localws", "dev", "half=", b"x")[0] == 410
    assert "half=" not in apis.sockets


def test_a_client_that_leaves_while_connect_runs_is_disconnected_and_a_post_to_it_is_refused_at_once(live):
    # Given a slow $connect (a cold start) and a page closed while its socket waits for it
    apis, runtime = live
    original_connect = apis._connect
    accepted: list[str] = []

    def slow_connect(socket, route):
        time.sleep(0.5)
        accepted.append(socket.id)
        return original_connect(socket, route)

    apis._connect = slow_connect
    client = _socket.create_connection(("127.0.0.1", apis.port))
    client.sendall(f"GET /dev?token=good HTTP/1.1\r\nHost: 127.0.0.1:{apis.port}\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n".encode())
    time.sleep(0.1)
    client.close()
    # Then once $connect answered, the connection is gone: $disconnect runs (its item can go), and a post to it is
    # refused at once instead of waiting for a handshake that will never come
    wait(lambda: bool(accepted))
    wait(lambda: "$disconnect" in runtime.routes())
    assert runtime.routes() == ["$connect", "$disconnect"]
    started = time.monotonic()
    assert apis.manage("POST", "localws", "dev", accepted[0], b"x")[0] == 410
    assert time.monotonic() - started < 0.5 and accepted[0] not in apis.sockets


# ------------------------------------------------------------------------------ a MOCK $default and the idle timeout

IDLE_S = 2.0      # a frame every quarter of it: a loaded machine may stall the gateway a second


@pytest.fixture
def widget_live():
    """The widget's API as the template has it: $connect and $disconnect a function, $default a MOCK integration;
    sockets closed after IDLE_S without a message (600 s in AWS)."""
    runtime = FakeRuntime()
    api = WebSocketApi("WidgetLiveApi", "localws2", "dev", "$request.body.action", {
        "$connect": WsRoute("$connect", "Connections", None),
        "$disconnect": WsRoute("$disconnect", "Connections", None),
        "$default": WsRoute("$default", None, None, mock=True)})
    apis = LiveApis([api], runtime, free_port(), "us-east-1", idle_timeout=IDLE_S)   # type: ignore[arg-type]
    apis.start()
    yield apis, runtime
    apis.close()


def test_keepalives_to_a_mock_route_invoke_nothing_answer_nothing_and_keep_the_socket_open(widget_live):
    apis, runtime = widget_live
    with connect(apis.url) as socket:
        started = time.monotonic()
        while time.monotonic() - started < 2 * IDLE_S:      # well past the idle timeout
            socket.send(json.dumps({"action": "keepalive"}))
            with pytest.raises(TimeoutError):              # nothing is answered (no "Forbidden", no route response)
                socket.recv(timeout=IDLE_S / 4)
        assert len(apis.sockets) == 1
        assert runtime.routes() == ["$connect"]           # the frames invoked nothing
    wait(lambda: runtime.routes() == ["$connect", "$disconnect"])
    assert runtime.events[-1][1]["requestContext"]["disconnectStatusCode"] == 1000    # the client's own close


def test_a_silent_socket_is_closed_going_away_after_the_idle_timeout_and_disconnect_is_invoked(widget_live):
    apis, runtime = widget_live
    with connect(apis.url) as socket:
        started = time.monotonic()
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=5 * IDLE_S)
        waited = time.monotonic() - started
    assert IDLE_S * 0.9 <= waited < 3 * IDLE_S
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1001, "Going away")   # as API Gateway closes it
    wait(lambda: "$disconnect" in runtime.routes())
    context = runtime.events[-1][1]["requestContext"]
    assert (context["disconnectStatusCode"], context["disconnectReason"]) == (1001, "Going away")
    assert not apis.sockets


def test_a_post_to_the_connection_counts_as_a_message_for_the_idle_timeout(widget_live):
    apis, runtime = widget_live
    with connect(apis.url) as socket:
        wait(lambda: apis.sockets and next(iter(apis.sockets.values())).connection is not None)
        connection_id = next(iter(apis.sockets))
        started = time.monotonic()
        while time.monotonic() - started < 2 * IDLE_S:      # the server speaks, the client never does
            assert apis.manage("POST", "localws2", "dev", connection_id, b'{"type":"changed"}') == (200, {})
            assert json.loads(socket.recv(timeout=IDLE_S)) == {"type": "changed"}
            time.sleep(IDLE_S / 4)
        assert runtime.routes() == ["$connect"]
        with pytest.raises(ConnectionClosed):              # then silence either way: closed
            socket.recv(timeout=5 * IDLE_S)
    wait(lambda: "$disconnect" in runtime.routes())

