"""Helpers shared by the test suites: signed provider requests and API Gateway / SQS events."""

from __future__ import annotations

import base64
import json
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import boto3
from botocore.exceptions import ReadTimeoutError

from shopdesk.channels import twilio

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "tests" / "samples"      # providers' real requests, copied with their sidecars
EVENTS = ROOT / "events"
AUTH_TOKEN = "fake-twilio-auth-token"


def bench_in_own_process(call: str, timeout: int = 600) -> Any:
    """A bench's ``call`` (``"module.function(args)"``) run in a process of its own (a bench installs its meter in
    botocore, freezes the layer's clock or points the clients at a moto server it stops): its JSON answer."""
    import json
    import os
    import subprocess
    import sys

    module = call.split("(", 1)[0].rsplit(".", 1)[0]
    code = f"import json, {module}; print(json.dumps({call}, default=str))"
    path = os.pathsep.join([str(ROOT / "layers" / "shopdesk"), str(ROOT)])
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, check=False,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": path})
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def sample(provider: str, name: str) -> tuple[str, dict[str, Any]]:
    """A provider's real sample request body and its sidecar."""
    folder = SAMPLES / provider
    body_file = next(p for p in folder.iterdir() if p.stem == name and not p.name.endswith(".meta.json"))
    return body_file.read_text(encoding="utf-8"), json.loads((folder / f"{name}.meta.json").read_text())


def twilio_form(**fields: str) -> str:
    base = {"ApiVersion": "2010-04-01", "AccountSid": "AC00000000000000000000000000000000", "NumMedia": "0",
            "SmsStatus": "received"}
    return urlencode({**base, **fields})


def signed_twilio(url: str, body: str, token: str = AUTH_TOKEN) -> str:
    return twilio.sign(url, twilio.parse_form(body), token)


def http_event(method: str, path: str, body: str | None = None, headers: dict[str, str] | None = None,
               query: str = "", claims: dict[str, str] | None = None, domain: str = "desk.example.com",
               path_parameters: dict[str, str] | None = None) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event as API Gateway builds it."""
    event: dict[str, Any] = {
        "version": "2.0", "routeKey": f"{method} {path}", "rawPath": path, "rawQueryString": query,
        "headers": {k.lower(): v for k, v in (headers or {}).items()},
        "requestContext": {
            "accountId": "123456789012", "apiId": "api", "domainName": domain, "domainPrefix": "desk",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9",
                     "userAgent": "test"},
            "requestId": str(uuid.uuid4()), "routeKey": f"{method} {path}", "stage": "$default",
            "time": "22/Nov/2026:22:00:00 +0000", "timeEpoch": 1795384800000,
        },
        "isBase64Encoded": False,
    }
    if query:
        from urllib.parse import parse_qsl
        event["queryStringParameters"] = dict(parse_qsl(query, keep_blank_values=True))
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body is not None:
        event["body"] = body
    if claims is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    return event


def presigned_seconds(url: str) -> int:
    """How long a presigned S3 URL is valid, as the URL itself says (SigV4's ``X-Amz-Expires``)."""
    [seconds] = parse_qs(urlsplit(url).query)["X-Amz-Expires"]
    return int(seconds)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """A Lambda SQS event from ReceiveMessage results."""
    records = []
    for m in messages:
        attributes = dict(m.get("Attributes", {}))
        records.append({
            "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
            "attributes": attributes, "messageAttributes": {}, "md5OfBody": m.get("MD5OfBody", ""),
            "eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": "us-east-1",
        })
    return {"Records": records}


class FakeContext:
    function_name = "test"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
    aws_request_id = "req-1"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30000


class LoopbackServer:
    """An HTTP server on a free loopback port, answering from a thread until ``close``."""

    def serve(self, handler: type[BaseHTTPRequestHandler], poll_interval: float = 0.5) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": poll_interval},
                         daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class FakeTwilio(LoopbackServer):
    """A Twilio Messages API stand-in on loopback for integration tests: scripted answers, recorded requests."""

    def __init__(self) -> None:
        from email.utils import format_datetime
        from urllib.parse import parse_qsl, urlsplit

        from shopdesk import clock

        self.requests: list[dict[str, Any]] = []
        self.script: list[tuple[int, dict[str, Any]]] = []   # answers to give before the default 201
        self.created: list[dict[str, Any]] = []               # the messages it accepted, as Twilio lists them
        self.lookups: list[dict[str, str]] = []               # the Messages list queries it answered
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                form = dict(parse_qsl(body))
                with fake._lock:
                    fake.requests.append({"path": self.path, "form": form,
                                          "pairs": parse_qsl(body),      # repeated fields (MediaUrl) in order
                                          "auth": self.headers.get("Authorization")})
                    status, payload = fake.script.pop(0) if fake.script else (
                        201, {"sid": f"SM{uuid.uuid4().hex}", "status": "queued"})
                    if status == 201:           # what the Messages list answers from now on
                        fake.created.append({
                            "sid": payload.get("sid"), "status": payload.get("status"), "to": form.get("To"),
                            "from": form.get("From"), "body": form.get("Body", ""),
                            "num_media": str(sum(1 for k, _ in parse_qsl(body) if k == "MediaUrl")),
                            "date_created": format_datetime(clock.now().replace(microsecond=0), usegmt=True)})
                self._answer(status, payload)

            def do_GET(self) -> None:
                """The Messages list (To and From filters, newest first), as the dispatcher's lookup reads it."""
                query = dict(parse_qsl(urlsplit(self.path).query))
                with fake._lock:
                    fake.lookups.append(query)
                    found = [m for m in reversed(fake.created)
                             if m["to"] == query.get("To") and m["from"] == query.get("From")]
                self._answer(200, {"messages": found[:int(query.get("PageSize") or 50)]})

            def _answer(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.serve(Handler)


class FakeHttp(LoopbackServer):
    """A provider API stand-in on loopback: records JSON requests, answers from a script or a default."""

    def __init__(self, default: Any) -> None:

        self.requests: list[dict[str, Any]] = []
        self.script: list[tuple[int, Any]] = []
        self.default = default           # (status, body) or a callable(path, json) -> (status, body)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw) if raw else None
                except json.JSONDecodeError:
                    body = raw.decode("utf-8", "replace")
                fake.requests.append({"method": self.command, "path": self.path, "json": body,
                                      "auth": self.headers.get("Authorization"), "raw": raw,
                                      "content_type": self.headers.get("Content-Type")})
                if fake.script:
                    status, answer = fake.script.pop(0)
                elif callable(fake.default):
                    status, answer = fake.default(self.path, body)
                else:
                    status, answer = fake.default
                data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

            def log_message(self, *args: Any) -> None:
                pass

        self.serve(Handler)


@contextmanager
def service_hangs(monkeypatch: Any, *clients: Any) -> Iterator[list[socket.socket]]:
    """A service that hangs, while the block runs: the layer's ``clients`` (``dal.aws.client``'s, each with its own
    configuration) pointed at a server on a free loopback port that accepts every connection and never answers. The
    connections it accepted: one an attempt."""
    from shopdesk.dal import aws

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.1)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.getsockname()[1]}"
    for made in {id(c): c for c in clients}.values():
        key = next(key for key, found in aws._clients.items() if found is made)
        monkeypatch.setitem(aws._clients, key, boto3.session.Session().client(
            made.meta.service_model.service_name, region_name=made.meta.region_name, endpoint_url=url,
            config=made.meta.config))
    try:
        yield held
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        server.close()


@contextmanager
def sends_hang(queue_url: str, *clients: Any) -> Iterator[list[str]]:
    """A queue that hangs, while the block runs: each SendMessage to ``queue_url``, whichever of the SQS ``clients``
    sends it, answers nothing until its client stops waiting (its read timeout) and drops the connection, as urllib3
    does; the other queues answer. The sends met (their bodies)."""
    hung: list[str] = []
    hooked = []
    for sqs in {id(c): c for c in clients}.values():
        def hang(request: Any, _sqs: Any = sqs, **kwargs: Any) -> None:
            body = request.body.decode() if isinstance(request.body, bytes) else str(request.body or "")
            if queue_url in body:
                hung.append(body)
                time.sleep(_sqs.meta.config.read_timeout)
                raise ReadTimeoutError(endpoint_url=request.url)

        sqs.meta.events.register_first("before-send.sqs.SendMessage", hang)
        hooked.append((sqs, hang))
    try:
        yield hung
    finally:
        for sqs, hang in hooked:
            sqs.meta.events.unregister("before-send.sqs.SendMessage", hang)


def ses_recipients(message: Any) -> list[str]:
    """Whom a mail moto's SES accepted is for: a formatted mail names ToAddresses, a raw one (with files) lists
    every recipient."""
    destinations = getattr(message, "destinations", None) or {}
    return destinations.get("ToAddresses", []) if isinstance(destinations, dict) else list(destinations)


def template_refs(value: Any) -> set[str]:
    """The logical ids a template value refers to: Ref, GetAtt, and ``${Name}`` / ``${Name.Attr}`` in a Sub string and
    its variables (pseudo parameters such as ``AWS::Region`` come out as ``AWS``; callers keep what they look for)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                found.add(inner[0] if isinstance(inner, list) else str(inner).split(".")[0])
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                found |= set(re.findall(r"\$\{([A-Za-z0-9]+)", text))
                found |= template_refs(inner[1] if isinstance(inner, list) else {})
            else:
                found |= template_refs(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= template_refs(inner)
    return found
