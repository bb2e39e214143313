"""End-to-end fixtures: the local stack (``python -m local``) as a subprocess, driven over HTTP.

``stack`` runs the project's template.yaml; ``stack_launcher`` starts a stack from any template
(the stack's own tests use a throwaway one). Each stack gets a free port and a clean environment,
and its stderr is kept in a file under the pytest temporary directory for debugging.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
HEALTH_TIMEOUT_SECONDS = 120.0    # one stack took 64 s to start on a busy machine (load average 14)
_KEPT_ENV = ("PATH", "HOME", "LANG", "SYSTEMROOT")


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


@dataclass
class StackClient:
    """A running local stack and small helpers to drive it (urllib only)."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    _tokens: dict[str, str] = field(default_factory=dict)

    # -- HTTP

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        data: dict[str, Any] | str | bytes | None = None,
        headers: dict[str, str] | None = None,
        token: str | None = None,
        timeout: float = 30,
    ) -> Response:
        sent_headers = dict(headers or {})
        body: bytes | None = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            sent_headers.setdefault("Content-Type", "application/json")
        elif isinstance(data, dict):
            body = urllib.parse.urlencode(data, doseq=True).encode()
            sent_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        elif isinstance(data, str):
            body = data.encode()
        elif isinstance(data, bytes):
            body = data
        if token is not None:
            sent_headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.url + path, data=body, headers=sent_headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:  # loopback
                return Response(
                    answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read()
                )
        except urllib.error.HTTPError as error:
            return Response(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())

    def download(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, int, str]:
        """GET a large body chunk by chunk: (status, size, sha256 hex), without holding it."""
        request = urllib.request.Request(self.url + path, headers=headers or {})
        digest, size = hashlib.sha256(), 0
        with urllib.request.urlopen(request, timeout=60) as answer:  # loopback
            while chunk := answer.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
            return answer.status, size, digest.hexdigest()

    def get(self, path: str, token: str | None = None, **kwargs: Any) -> Response:
        return self.request("GET", path, token=token, **kwargs)

    def post(
        self,
        path: str,
        json: Any = None,  # mirrors common HTTP client APIs
        data: dict[str, Any] | str | bytes | None = None,
        headers: dict[str, str] | None = None,
        token: str | None = None,
    ) -> Response:
        return self.request("POST", path, json_body=json, data=data, headers=headers, token=token)

    def put(self, path: str, json: Any = None, token: str | None = None) -> Response:
        return self.request("PUT", path, json_body=json, token=token)

    def delete(self, path: str) -> Response:
        return self.request("DELETE", path)

    # -- local routes

    def token(self, agent: str) -> str:
        if agent not in self._tokens:
            answer = self.get(f"/_local/token?agent={urllib.parse.quote(agent)}")
            assert answer.status == 200, answer.text
            self._tokens[agent] = answer.json()["token"]
        return self._tokens[agent]

    def advance(self, seconds: float) -> dict[str, Any]:
        answer = self.post("/_local/clock", json={"advance_seconds": seconds})
        assert answer.status == 200, answer.text
        return answer.json()

    def run_schedule(self, logical_id: str) -> Any:
        answer = self.post(f"/_local/schedules/{logical_id}/run")
        assert answer.status == 200, answer.text
        return answer.json()["result"]

    @property
    def websocket_url(self) -> str:
        """The template's WebSocket API as the stack serves it (ws://127.0.0.1:<port>/<stage>)."""
        answer = self.get("/_local/websocket")
        assert answer.status == 200 and answer.json()["url"], answer.text
        return str(answer.json()["url"])

    def outbox(self) -> list[dict[str, Any]]:
        return self.get("/_local/outbox").json()["items"]

    def events(self) -> list[dict[str, Any]]:
        return self.get("/_local/events").json()["items"]

    @staticmethod
    def wait_for(predicate: Callable[[], Any], timeout: float = 15, interval: float = 0.2) -> Any:
        """Poll until ``predicate()`` is truthy and return its value; fail after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met within {timeout} s")
            time.sleep(interval)

    def logs(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_healthy(client: StackClient) -> None:
    deadline = time.monotonic() + HEALTH_TIMEOUT_SECONDS
    last = "no answer"
    while time.monotonic() < deadline:
        if client.process.poll() is not None:
            last = f"the stack exited with code {client.process.returncode}"
            break
        try:
            answer = client.get("/_local/health", timeout=2)
            last = f"{answer.status} {answer.text}"
            if answer.status == 200:
                return
            if answer.json().get("status") == "error":
                break  # it will not recover by itself
        except (OSError, ValueError):
            pass
        time.sleep(0.25)
    client.process.terminate()
    client.process.wait(timeout=15)
    sys.stderr.write(f"\n---- local stack stderr ({client.log_path}) ----\n{client.logs()}\n")
    pytest.fail(f"the local stack did not become healthy: {last}")


def launch_stack(template: Path, workdir: Path, env: dict[str, str] | None = None) -> StackClient:
    port = free_port()
    clean = {name: os.environ[name] for name in _KEPT_ENV if name in os.environ}
    clean.update({"PORT": str(port), "WS_PORT": "0", "SHOP_PORT": "0", "TEMPLATE": str(template)})
    clean.update(env or {})
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / f"local-stack-{port}.log"
    process = subprocess.Popen(  # the project's own entry point
        [sys.executable, "-m", "local"],
        cwd=REPO,
        env=clean,
        stdout=subprocess.DEVNULL,
        stderr=log_path.open("wb"),
    )
    client = StackClient(url=f"http://127.0.0.1:{port}", process=process, log_path=log_path)
    _wait_healthy(client)
    return client


def stop_stack(client: StackClient) -> None:
    client.process.terminate()
    try:
        client.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        client.process.kill()
        client.process.wait()


@pytest.fixture(scope="session")
def stack_launcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., StackClient]]:
    """Start a stack from a given template (and extra environment); all are stopped at the end."""
    started: list[StackClient] = []

    def launch(template: Path, env: dict[str, str] | None = None) -> StackClient:
        client = launch_stack(template, tmp_path_factory.mktemp("local-stack"), env)
        started.append(client)
        return client

    yield launch
    for client in started:
        stop_stack(client)


@pytest.fixture(scope="session")
def stack(stack_launcher: Callable[..., StackClient]) -> StackClient:
    """The project's template.yaml running locally (E2E_TEMPLATE overrides the path)."""
    template = Path(os.environ.get("E2E_TEMPLATE") or REPO / "template.yaml")
    missing = [
        str(d.relative_to(REPO))
        for d in sorted((REPO / "functions").glob("*/"))
        if not (d / "app.py").exists()
    ]
    if template == REPO / "template.yaml" and missing:
        pytest.skip(f"functions not written yet: {', '.join(missing)}")
    return stack_launcher(template)


# The providers' test secrets their sample requests are signed with (see the samples' sidecars).
SAMPLE_SECRETS = {
    "PUBLIC_BASE_URL": "https://example.com",      # Twilio samples were signed for https://example.com/...
    "TWILIO_AUTH_TOKEN": "12345",
    "META_APP_SECRET": "test_app_secret",
    "META_VERIFY_TOKEN": "meatyhamhock",
    "TELEGRAM_SECRET_TOKEN": "test_secret_token-1",
    "SHOPIFY_WEBHOOK_SECRET": "test_shopify_client_secret",
    "WOOCOMMERCE_WEBHOOK_SECRET": "test_wc_webhook_secret",
    "SANDBOX_STATUS_CALLBACKS": "0",               # the public URL is not this machine: send nothing there
}


@pytest.fixture(scope="session")
def samples_stack(stack_launcher: Callable[..., StackClient]) -> StackClient:
    """A second stack whose secrets are the providers' test secrets, to replay samples byte for byte."""
    return stack_launcher(Path(os.environ.get("E2E_TEMPLATE") or REPO / "template.yaml"), dict(SAMPLE_SECRETS))


@pytest.fixture
def fresh_inboxes(stack: StackClient) -> None:
    """alice and bob online and holding nothing, nothing waiting in a queue, and no sandbox faults: a test starts
    from a clean inbox (a conversation an earlier test left waiting would take the seat a resolve frees)."""
    admin = stack.token("alice")          # an admin: the queues of every team
    waiting = stack.get("/agent/conversations?view=unassigned&limit=100", token=admin)
    for conv in waiting.json().get("items", []):
        stack.post(f"/agent/conversations/{conv['id']}/status", json={"status": "resolved"}, token=admin)
    for agent in ("alice", "bob"):
        token = stack.token(agent)
        assert stack.put("/agent/me/presence", json={"presence": "online"}, token=token).status == 200
        for status in ("open", "pending", "snoozed"):
            answer = stack.get(f"/agent/conversations?view=mine&status={status}&limit=100", token=token)
            for conv in answer.json()["items"]:
                stack.post(f"/agent/conversations/{conv['id']}/status", json={"status": "resolved"}, token=token)
    stack.delete("/_local/sandbox/faults")
