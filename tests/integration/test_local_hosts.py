"""Every listener the local stack opens answers only requests addressed to it by a name it serves, as the gateway
does (local/hosts.py): the emulated AWS, the WebSocket API's server and the demo shop refuse a hostile page whose own
name now resolves to 127.0.0.1 (DNS rebinding) with a 403 before any work, and the clients the stack and its tests use
(boto3, the websockets library, a browser at 127.0.0.1 or localhost) go through."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.sync.client import connect

from local.aws import Aws
from local.live import LiveApis, WebSocketApi, WsRoute
from local.runtime import Invocation
from local.shop import DemoShop

FOREIGN = ("evil.example", "evil.example:{port}", "127.0.0.1.evil.example:{port}", "localhost.:{port}", "127.0.0.1:1")


def _get(port: int, path: str, hosts: list[str], headers: dict[str, str] | None = None) -> tuple[int, str, bytes]:
    """A GET to 127.0.0.1:<port> whose Host header values are ``hosts`` (as a browser sends the name it resolved)."""
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        client.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
        for host in hosts:
            client.putheader("Host", host)
        for name, value in (headers or {}).items():
            client.putheader(name, value)
        client.endheaders()
        answer = client.getresponse()
        return answer.status, answer.getheader("Content-Type") or "", answer.read()
    finally:
        client.close()


def _assert_refused(port: int, path: str, headers: dict[str, str] | None = None) -> None:
    for foreign in FOREIGN:
        host = foreign.format(port=port)
        status, content_type, body = _get(port, path, [host], headers)
        assert status == 403, (host, status, body[:200])
        assert content_type == "application/problem+json"
        problem = json.loads(body)
        assert problem["status"] == 403 and "addressed to it" in problem["detail"] and repr(host) in problem["detail"]
    # a second Host after the listener's own is no name it serves
    status, _, _ = _get(port, path, [f"127.0.0.1:{port}", "evil.example"], headers)
    assert status == 403


# ---------------------------------------------------------------- the emulated AWS (moto's server)


@pytest.fixture(scope="module")
def aws() -> Iterator[Aws]:
    stack = Aws("us-east-1")
    stack.start()
    yield stack
    stack.stop()


def _port(endpoint: str) -> int:
    return int(endpoint.rsplit(":", 1)[1])


def test_the_emulated_aws_refuses_a_request_addressed_to_another_name(aws: Aws) -> None:
    # Given a table with an item in the emulated AWS
    dynamodb = aws.client("dynamodb")
    dynamodb.create_table(TableName="hosts", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                          BillingMode="PAY_PER_REQUEST")
    dynamodb.put_item(TableName="hosts", Item={"pk": {"S": "secret"}})
    port = _port(aws.endpoint)
    # When a rebound page reads moto's dashboard or its S3 listing, Then it is refused before moto sees it
    _assert_refused(port, "/moto-api/data.json")
    _assert_refused(port, "/")
    # And so is a signed DynamoDB read sent to a foreign name (the straight way to moto's handler)
    def foreign_host(request: Any, **_: Any) -> None:
        request.headers["Host"] = "evil.example"
    client = aws._session.client("dynamodb", endpoint_url=aws.endpoint)
    client.meta.events.register("before-send.dynamodb.Scan", foreign_host)
    with pytest.raises(Exception) as refused:
        client.scan(TableName="hosts")
    assert "403" in str(refused.value)


def test_the_emulated_aws_serves_its_own_clients_and_names(aws: Aws) -> None:
    # Given the stack's boto3 clients (Host: 127.0.0.1:<port>)
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="hosts-media")
    s3.put_object(Bucket="hosts-media", Key="a.txt", Body=b"hello")
    # When a browser fetches a presigned URL, by 127.0.0.1 or by localhost
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "hosts-media", "Key": "a.txt"})
    assert url.startswith(f"http://127.0.0.1:{_port(aws.endpoint)}/")
    with urllib.request.urlopen(url, timeout=10) as answer:
        assert answer.read() == b"hello"
    port = _port(aws.endpoint)
    for host in (f"localhost:{port}", f"[::1]:{port}", f"127.0.0.1:{port}"):
        # past the check to moto itself: its dump of every backend answers 200 alone, and may answer its own 500 when
        # other tests in this process left state it cannot write; never the check's 403 problem
        status, content_type, _ = _get(port, "/moto-api/data.json", [host])
        assert status != 403 and content_type != "application/problem+json", (host, status)
    # Then the SQS queue URLs moto builds from the Host still name the endpoint
    sqs = aws.client("sqs")
    queue = sqs.create_queue(QueueName="hosts")["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody="x")
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=queue).get("Messages", [])] == ["x"]


# ---------------------------------------------------------------- the WebSocket API's server


class _Runtime:
    def __init__(self) -> None:
        self.events: list[str] = []
        self.lock = threading.Lock()

    def invoke(self, function: str, event: dict[str, Any]) -> Invocation:
        with self.lock:
            self.events.append(event["requestContext"]["routeKey"])
        return Invocation(True, {"statusCode": 200})


@pytest.fixture
def live() -> Iterator[tuple[LiveApis, _Runtime]]:
    runtime = _Runtime()
    api = WebSocketApi("LiveApi", "localws", "dev", "$request.body.action", {
        "$connect": WsRoute("$connect", "Connections", None),
        "$disconnect": WsRoute("$disconnect", "Connections", None)})
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    apis = LiveApis([api], runtime, port, "us-east-1")   # type: ignore[arg-type]
    apis.start()
    yield apis, runtime
    apis.close()


def test_the_websocket_server_refuses_the_upgrade_addressed_to_another_name(live: tuple[LiveApis, _Runtime]) -> None:
    apis, runtime = live
    upgrade = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Origin": "http://evil.example"}
    # When a rebound page opens a socket to it, Then the upgrade is refused before $connect runs
    for foreign in FOREIGN:
        host = foreign.format(port=apis.port)
        status, _, body = _get(apis.port, "/dev", [host], upgrade)
        assert status == 403, (host, status, body[:200])
        assert "addressed to it" in body.decode() and repr(host) in body.decode()
    assert runtime.events == []


def test_the_websocket_server_serves_its_own_names(live: tuple[LiveApis, _Runtime]) -> None:
    apis, runtime = live
    # The websockets library sends Host: 127.0.0.1:<port>, a browser at localhost sends localhost:<port>
    for url in (apis.url, f"ws://localhost:{apis.port}/dev"):
        assert url is not None
        with connect(url, open_timeout=10):
            pass
    deadline = time.monotonic() + 5
    while runtime.events.count("$disconnect") < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert runtime.events.count("$connect") == 2


# ---------------------------------------------------------------- the demo shop's site


@pytest.fixture
def shop() -> Iterator[DemoShop]:
    served = DemoShop(0, "http://127.0.0.1:3000", "fake-webchat-visitor-secret", time.time)
    served.start()
    yield served
    served.close()


def test_the_demo_shop_refuses_a_request_addressed_to_another_name(shop: DemoShop) -> None:
    # When a rebound page reads the shop's page or signs itself a visitor token, Then it is refused
    _assert_refused(shop.port, "/")
    _assert_refused(shop.port, "/visitor-token")
    client = http.client.HTTPConnection("127.0.0.1", shop.port, timeout=10)
    try:
        client.request("POST", "/sign-in", body=b"email=a%40example.com", headers={"Host": "evil.example"})
        assert client.getresponse().status == 403
    finally:
        client.close()


def test_the_demo_shop_serves_its_own_names(shop: DemoShop) -> None:
    # Its URL is http://localhost:<port>; a browser at 127.0.0.1 works too
    for host in (f"localhost:{shop.port}", f"127.0.0.1:{shop.port}"):
        status, _, body = _get(shop.port, "/visitor-token", [host])
        assert status == 200 and "visitor_token" in json.loads(body), host
    with urllib.request.urlopen(f"{shop.url}/", timeout=10) as page:
        assert b"Demo shop" in page.read()


def test_public_base_urls_host_is_served_by_the_demo_shop_too() -> None:
    # Given a stack reached through a tunnel at PUBLIC_BASE_URL
    served = DemoShop(0, "http://127.0.0.1:3000", "fake-webchat-visitor-secret", time.time,
                      public_base_url="https://desk.example.test")
    served.start()
    try:
        # Then the tunnel's name is the shop's own, and another still is not
        assert _get(served.port, "/visitor-token", ["desk.example.test"])[0] == 200
        assert _get(served.port, "/visitor-token", ["evil.example"])[0] == 403
    finally:
        served.close()
