"""Assignment under a burst, end to end on the local stack over HTTP.

Agents a01..a10 are seeded online with the default capacity (3), so there are 30 seats. 200 customers
write at once: signed Twilio webhooks from a pool of 50 threads. A monitor thread polls every ~100 ms
``GET /admin/agents`` (as alice, the local admin): each agent's ``active`` against its ``capacity``.
An agent whose load changed has its inbox (``view=mine``) read at once, to see which conversation it
got; every 5 s every inbox is read, to check that no conversation is in two inboxes and no inbox
holds more than the capacity.

When the seats are full, each agent resolves its oldest conversation, waits until a waiting one takes
the freed seat, and repeats, until every conversation was assigned once or the time limit passes.
Latencies seen from outside include the poll period and the reads' own time:

- on arrival: from the webhook's 200 to the first read that shows the conversation assigned;
- refill: from the 200 of the resolve that freed the seat to the first read showing the new one there.

The same two are taken on the server's own clock too, from each conversation's timeline: the
``Assigned to ...`` system message minus the customer's message (arrival) or minus the ``Marked
resolved by ...`` message of the conversation whose seat it took (refill).

The launcher here (``local_stack``) is also used by ``bench.detection``. It never imports the tests.
"""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from statistics import median
from typing import Any

from bench.harness import ROOT, twilio_form, use_layer

LOCAL_TWILIO_AUTH_TOKEN = "fake-twilio-auth-token"  # noqa: S105 (the local stack's documented fake default)
ADMIN = "alice"                 # the local stack always creates alice, in the admins group
SHOP_NUMBER = "+14155550199"
HEALTH_TIMEOUT_SECONDS = 240.0     # up, then the demo knowledge base seeded (a loaded machine: minutes)
ENVIRONMENT = ("local stack (python -m local: moto behind an endpoint URL, each function in its own worker "
               f"processes) on one machine with {os.cpu_count()} CPUs; not AWS")
_KEPT_ENV = ("PATH", "HOME", "LANG", "SYSTEMROOT")


# ------------------------------------------------------------------------------ the local stack

@dataclass
class Answer:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class LocalStack:
    """A running ``python -m local`` and the few calls the benchmarks make (urllib, loopback only)."""

    def __init__(self, url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
        self.url = url
        self.process = process
        self.log_path = log_path
        self._tokens: dict[str, str] = {}

    def request(self, method: str, path: str, body: Any = None, *, form: str | None = None,
                headers: dict[str, str] | None = None, token: str | None = None, timeout: float = 60) -> Answer:
        sent = dict(headers or {})
        data: bytes | None = None
        if form is not None:
            data = form.encode()
            sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
        elif body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.url + path, data=data, headers=sent, method=method)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:  # loopback
                return Answer(answer.status, answer.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.read())

    def get(self, path: str, token: str | None = None) -> Answer:
        return self.request("GET", path, token=token)

    def post(self, path: str, body: Any = None, token: str | None = None) -> Answer:
        return self.request("POST", path, body, token=token)

    def ok(self, answer: Answer, what: str) -> Any:
        if answer.status != 200:
            raise RuntimeError(f"{what}: {answer.status} {answer.text[:300]}")
        return answer.json()

    def token(self, agent: str) -> str:
        if agent not in self._tokens:
            path = f"/_local/token?agent={urllib.parse.quote(agent)}"
            self._tokens[agent] = self.ok(self.get(path), path)["token"]
        return self._tokens[agent]

    def clock(self, advance: float = 0.0) -> dict[str, Any]:
        """Move the stack's clock forward (0: just read it): ``{"offset_seconds", "now"}``."""
        return self.ok(self.post("/_local/clock", {"advance_seconds": advance}), "POST /_local/clock")

    def run_schedule(self, logical_id: str) -> Any:
        path = f"/_local/schedules/{logical_id}/run"
        return self.ok(self.post(path), path)["result"]

    def send_twilio(self, form: str, path: str = "/webhooks/twilio") -> Answer:
        """A Twilio webhook, signed as Twilio signs it for the URL it calls."""
        use_layer()
        from shopdesk.channels import twilio

        signature = twilio.sign(self.url + path, twilio.parse_form(form), LOCAL_TWILIO_AUTH_TOKEN)
        return self.request("POST", path, form=form, headers={"X-Twilio-Signature": signature})

    def pages(self, path: str, token: str) -> Iterator[tuple[list[dict[str, Any]], float]]:
        """Every page of a conversation list, with the monotonic time each page arrived."""
        cursor: str | None = None
        while True:
            answer = self.get(path + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else ""), token)
            arrived = time.monotonic()
            page = self.ok(answer, path)
            yield page["items"], arrived
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def log_count(self, fragment: str) -> int:
        return self.log_path.read_text(encoding="utf-8", errors="replace").count(fragment)

    def wait_healthy(self) -> None:
        """Until the stack is up and has seeded its demo knowledge base: the seeding (35 articles embedded through
        the admin API, and the stream work their writes make) runs after the stack reports ready, and a bench
        measured from then would count it (about 10 s of the admin API's CPU under bench.load)."""
        deadline = time.monotonic() + HEALTH_TIMEOUT_SECONDS
        last = "no answer"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                last = f"the stack exited with code {self.process.returncode}"
                break
            try:
                answer = self.request("GET", "/_local/health", timeout=2)
                last = f"{answer.status} {answer.text[:300]}"
                if answer.status == 200 and (answer.json() or {}).get("knowledge_base") != "seeding":
                    return
                if (answer.json() or {}).get("status") == "error":
                    break
            except (OSError, ValueError):
                pass
            time.sleep(0.25)
        raise RuntimeError(f"the local stack did not become healthy: {last}\n{self.log_tail()}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def local_stack(env: dict[str, str] | None = None, template: Path | None = None) -> Iterator[LocalStack]:
    """``python -m local`` on a free port with a clean environment; stopped (and its log removed) on exit."""
    with tempfile.TemporaryDirectory(prefix="shopdesk-bench-stack-") as workdir:
        port = free_port()
        clean = {name: os.environ[name] for name in _KEPT_ENV if name in os.environ}
        clean.update({"PORT": str(port), "WS_PORT": "0", "TEMPLATE": str(template or ROOT / "template.yaml")})
        clean.update(env or {})
        log_path = Path(workdir) / "local-stack.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen([sys.executable, "-m", "local"], cwd=ROOT, env=clean,
                                       stdout=subprocess.DEVNULL, stderr=log)
        stack = LocalStack(f"http://127.0.0.1:{port}", process, log_path)
        try:
            stack.wait_healthy()
            yield stack
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# ------------------------------------------------------------------------------ figures

def percentile(values: Iterable[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100); None without values."""
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def phone_of(conversation: dict[str, Any]) -> str | None:
    for identity in conversation.get("customer", {}).get("identities", []):
        if identity.get("kind") == "phone":
            return identity.get("address")
    return None


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# ------------------------------------------------------------------------------ the monitor

MINE = "/agent/conversations?view=mine&status=open&limit=100"


@dataclass
class Seat:
    """A seat an agent freed by resolving a conversation."""

    agent: str
    resolved: str
    sent: float
    done: float | None = None
    refilled_by: str | None = None
    refilled_seen: float | None = None


@dataclass
class Monitor:
    """Polls the stack from its own thread and keeps what it saw (all under ``lock``).

    Every poll reads ``GET /admin/agents``: each agent's ``active`` against its ``capacity``. An agent
    whose ``active`` or ``last_assigned_at`` changed since the last poll has its inbox read at once, to
    see which conversation it got. Every ``inbox_every`` seconds every inbox is read (in parallel):
    no conversation may be in two, and none may hold more than the capacity.
    """

    stack: LocalStack
    agents: list[str]
    tokens: dict[str, str]
    admin_token: str
    interval: float = 0.1
    inbox_every: float = 5.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    first_seen: dict[str, tuple[float, str]] = field(default_factory=dict)     # conversation -> (when, agent)
    holding: dict[str, dict[str, float]] = field(default_factory=lambda: defaultdict(dict))  # agent -> seen held
    phone: dict[str, str] = field(default_factory=dict)                        # conversation -> customer phone
    refill_seat: dict[str, Seat] = field(default_factory=dict)                 # conversation -> seat it took
    free_seats: dict[str, deque[Seat]] = field(default_factory=lambda: defaultdict(deque))
    active: dict[str, int] = field(default_factory=dict)
    capacity: dict[str, int] = field(default_factory=dict)
    last_assigned: dict[str, str | None] = field(default_factory=dict)
    capacity_violations: int = 0
    inbox_over_capacity: int = 0
    double_inbox: int = 0
    examples: list[str] = field(default_factory=list)
    max_active_seen: int = 0
    polls: int = 0
    poll_seconds: list[float] = field(default_factory=list)
    inbox_reads: int = 0
    inbox_checks: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="assignment monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=120)

    def _loop(self) -> None:
        next_check = time.monotonic()
        with ThreadPoolExecutor(max_workers=len(self.agents)) as pool:
            while not self._stop.is_set():
                began = time.monotonic()
                try:
                    changed = self.poll()
                    if began >= next_check:
                        self.check_inboxes(pool)
                        next_check = began + self.inbox_every
                    elif changed:
                        list(pool.map(self.read_inbox, changed))
                except Exception as exc:  # a failed poll is counted; the next one tries again
                    self.errors[f"{type(exc).__name__}: {str(exc)[:120]}"] += 1
                self.poll_seconds.append(time.monotonic() - began)
                self._stop.wait(max(0.0, self.interval - (time.monotonic() - began)))

    def _example(self, text: str) -> None:
        if len(self.examples) < 10:
            self.examples.append(text)

    def poll(self) -> list[str]:
        """Check every agent's load; return the agents that were assigned something since the last poll."""
        roster = self.stack.ok(self.stack.get("/admin/agents", self.admin_token), "GET /admin/agents")["items"]
        changed = []
        with self.lock:
            self.polls += 1
            for agent in roster:
                name = agent["id"]
                if name not in self.agents:
                    continue
                if (agent["active"], agent.get("last_assigned_at")) != \
                        (self.active.get(name), self.last_assigned.get(name)) and agent["active"]:
                    changed.append(name)
                self.active[name], self.capacity[name] = agent["active"], agent["capacity"]
                self.last_assigned[name] = agent.get("last_assigned_at")
                self.max_active_seen = max(self.max_active_seen, agent["active"])
                if agent["active"] > agent["capacity"]:
                    self.capacity_violations += 1
                    self._example(f"poll {self.polls}: {name} active {agent['active']} > "
                                  f"capacity {agent['capacity']}")
        return changed

    def read_inbox(self, agent: str) -> list[dict[str, Any]]:
        held: list[dict[str, Any]] = []
        for page, arrived in self.stack.pages(MINE, self.tokens[agent]):
            self.observe(page, arrived)
            held += page
        with self.lock:
            self.inbox_reads += 1
        return held

    def check_inboxes(self, pool: ThreadPoolExecutor) -> None:
        owners: dict[str, list[str]] = defaultdict(list)
        with self.lock:
            self.inbox_checks += 1
            check = self.inbox_checks
        for agent, held in zip(self.agents, pool.map(self.read_inbox, self.agents), strict=True):
            ids = {c["id"] for c in held}
            for conversation_id in ids:
                owners[conversation_id].append(agent)
            with self.lock:
                if len(ids) > self.capacity.get(agent, len(ids)):
                    self.inbox_over_capacity += 1
                    self._example(f"inbox check {check}: {agent} holds {len(ids)} open")
        with self.lock:
            for conversation_id, agents in owners.items():
                if len(agents) > 1:
                    self.double_inbox += 1
                    self._example(f"inbox check {check}: {conversation_id} in {', '.join(agents)}")

    def observe(self, items: list[dict[str, Any]], arrived: float) -> None:
        """Record conversations as listed at ``arrived``: the first time each is seen assigned, and
        which freed seat (if any) it took."""
        with self.lock:
            for item in items:
                agent = item.get("assignee")
                if not agent or item["id"] in self.first_seen:
                    continue
                self.first_seen[item["id"]] = (arrived, agent)
                self.holding[agent][item["id"]] = arrived
                self.phone[item["id"]] = phone_of(item) or ""
                if self.free_seats[agent]:
                    seat = self.free_seats[agent].popleft()
                    seat.refilled_by, seat.refilled_seen = item["id"], arrived
                    self.refill_seat[item["id"]] = seat

    def oldest_held(self, agent: str) -> str | None:
        with self.lock:
            held = self.holding[agent]
            return min(held, key=held.__getitem__) if held else None

    def free_seat(self, agent: str, resolved: str) -> Seat:
        seat = Seat(agent, resolved, time.monotonic())
        with self.lock:
            self.holding[agent].pop(resolved, None)
            self.free_seats[agent].append(seat)
        return seat

    def seat_kept(self, seat: Seat) -> None:
        """The resolve failed: the seat was never freed."""
        with self.lock:
            if seat in self.free_seats[seat.agent]:
                self.free_seats[seat.agent].remove(seat)

    def seen(self) -> int:
        with self.lock:
            return len(self.first_seen)

    def load(self) -> int:
        with self.lock:
            return sum(self.active.values())


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def timeline(conversation: dict[str, Any]) -> dict[str, datetime]:
    """The server's own times: first customer message, first assignment, resolution."""
    times: dict[str, datetime] = {}
    for message in conversation["messages"]:
        text = message.get("text") or ""
        kind = ("inbound" if message["direction"] == "inbound" else
                "assigned" if message["direction"] == "system" and text.startswith("Assigned to") else
                "resolved" if message["direction"] == "system" and text.startswith("Marked resolved by") else None)
        if kind and kind not in times:
            times[kind] = parse_time(message["created_at"])
    return times


def final_drift(stack: LocalStack, monitor: Monitor, admin_token: str, tries: int = 5) -> dict[str, Any]:
    """Agents whose ``active`` differs from what their inbox holds. An agent whose ``active`` changed
    while its inbox was read (the router still assigning) is read again, up to ``tries`` times."""
    def roster() -> dict[str, int]:
        items = stack.ok(stack.get("/admin/agents", admin_token), "GET /admin/agents")["items"]
        return {a["id"]: a["active"] for a in items}

    pending, drift = list(monitor.agents), {}
    for _ in range(tries):
        before = roster()
        held = {name: monitor.read_inbox(name) for name in pending}
        after = roster()
        for name in list(pending):
            if before.get(name) == after.get(name):
                pending.remove(name)
                if before.get(name) != len(held[name]):
                    drift[name] = {"active": before.get(name), "inbox": sorted(c["id"] for c in held[name])}
        if not pending:
            break
        time.sleep(1)
    return {**drift, **({"unsettled": pending} if pending else {})}


# ------------------------------------------------------------------------------ the benchmark

def run(arrivals: int = 200, agents: int = 10, concurrency: int = 50, time_limit: float = 100.0,
        interval: float = 0.1, refill_timeout: float = 20.0) -> dict[str, Any]:
    use_layer()
    names = [f"a{i:02d}" for i in range(1, agents + 1)]
    launched = time.perf_counter()
    with local_stack({"SEED_AGENTS": ",".join(names)}) as stack:
        startup_s = time.perf_counter() - launched
        tokens = {name: stack.token(name) for name in names}
        admin_token = stack.token(ADMIN)
        roster = {a["id"]: a for a in stack.ok(stack.get("/admin/agents", admin_token), "GET /admin/agents")["items"]}
        offline = [n for n in names if roster.get(n, {}).get("presence") != "online"]
        if offline:
            raise RuntimeError(f"seeded agents not online: {', '.join(offline)}")
        seats = sum(roster[n]["capacity"] for n in names)
        monitor = Monitor(stack, names, tokens, admin_token, interval=interval)
        monitor.start()

        # 1. the burst
        phones = [f"+1415600{i:04d}" for i in range(arrivals)]
        answered: dict[str, float] = {}
        webhook_s: list[float] = []
        statuses: Counter[str] = Counter()
        retried: Counter[bool] = Counter()

        def send(i: int) -> None:
            form = twilio_form(MessageSid=f"SM{i + 1:032x}", From=phones[i], To=SHOP_NUMBER,
                               Body=f"Hello! Where is my order #{1000 + i}?")
            began = time.monotonic()
            for attempt in range(3):        # a refused or reset connection is tried again (a no-op if it got in)
                try:
                    status = str(stack.send_twilio(form).status)
                    break
                except OSError as exc:        # refused, reset, or no answer within the client's timeout
                    status = type(exc).__name__
                    if attempt < 2:
                        retried[True] += 1
                        time.sleep(1 + attempt)
            done = time.monotonic()
            answered[phones[i]] = done
            webhook_s.append(done - began)
            statuses[status] += 1

        burst_began = time.monotonic()
        deadline = burst_began + time_limit
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(send, range(arrivals)))
        burst_s = time.monotonic() - burst_began
        expected = min(arrivals, statuses["200"]) if statuses["200"] else arrivals

        # 2. until the seats are full (or everyone is assigned)
        wait_until(lambda: monitor.load() >= seats or monitor.seen() >= expected,
                   timeout=max(1.0, min(30.0, deadline - time.monotonic())))
        filled_s = time.monotonic() - burst_began

        # 3. each agent resolves its oldest conversation, waits until the seat is taken again, and repeats,
        # until every conversation was assigned once (or the time limit)
        resolve_status: Counter[str] = Counter()
        refill_timeouts = 0

        def work(agent: str) -> None:
            nonlocal refill_timeouts
            while monitor.seen() < expected and time.monotonic() < deadline:
                oldest = monitor.oldest_held(agent)     # the monitor reads an inbox whenever its load changes
                if oldest is None:
                    time.sleep(interval)
                    continue
                seat = monitor.free_seat(agent, oldest)
                try:
                    status = str(stack.post(f"/agent/conversations/{oldest}/status", {"status": "resolved"},
                                            tokens[agent]).status)
                except OSError as exc:
                    status = type(exc).__name__
                seat.done = time.monotonic()
                resolve_status[status] += 1
                if status != "200":
                    monitor.seat_kept(seat)
                    continue
                limit = max(0.0, min(refill_timeout, deadline - time.monotonic()))
                if not wait_until(lambda s=seat: s.refilled_by is not None or monitor.seen() >= expected, limit):
                    refill_timeouts += 1

        with ThreadPoolExecutor(max_workers=len(names)) as pool:
            list(pool.map(work, names))
        measured_s = time.monotonic() - burst_began
        monitor.stop()
        tail_began = time.monotonic()

        # 4. the end state: every conversation, and each agent's active against what its inbox holds
        created = sum(len(page) for status in ("open", "resolved") for page, _ in
                      stack.pages(f"/agent/conversations?view=all&status={status}&limit=100", admin_token))
        drift = final_drift(stack, monitor, admin_token)

        # 5. the server's own timeline of every conversation assigned
        with monitor.lock:
            first_seen = dict(monitor.first_seen)
            refill_seat = dict(monitor.refill_seat)
            phone_by_conversation = dict(monitor.phone)
        wanted = set(first_seen) | {seat.resolved for seat in refill_seat.values()}

        def read(conversation_id: str) -> tuple[str, dict[str, datetime]]:
            path = f"/agent/conversations/{conversation_id}"
            return conversation_id, timeline(stack.ok(stack.get(path, admin_token), path))

        with ThreadPoolExecutor(max_workers=4) as pool:
            times = dict(pool.map(read, sorted(wanted)))
        tail_s = time.monotonic() - tail_began

    # figures: from outside (webhook / resolve answered -> first read showing it assigned)
    on_arrival = [c for c in first_seen if c not in refill_seat]
    arrival_latency: list[float] = []
    seen_before_answer = 0
    for conversation_id in on_arrival:
        seen, _ = first_seen[conversation_id]
        done = answered.get(phone_by_conversation.get(conversation_id, ""))
        if done is None:
            continue
        seen_before_answer += seen < done
        arrival_latency.append(max(0.0, seen - done))
    refill_latency: list[float] = []
    refill_before_answer = 0
    for seat in refill_seat.values():
        assert seat.refilled_seen is not None
        if seat.done is None or seat.refilled_seen < seat.done:
            refill_before_answer += 1
        refill_latency.append(max(0.0, seat.refilled_seen - (seat.done or seat.refilled_seen)))
    # ... and on the server's clock (its timeline messages)
    server_arrival = [(t["assigned"] - t["inbound"]).total_seconds() for c in on_arrival
                      if {"assigned", "inbound"} <= (t := times.get(c, {})).keys()]
    server_refill = [(times[c]["assigned"] - times[s.resolved]["resolved"]).total_seconds()
                     for c, s in refill_seat.items()
                     if "assigned" in times.get(c, {}) and "resolved" in times.get(s.resolved, {})]
    polls = monitor.poll_seconds
    return {
        "environment": ENVIRONMENT,
        "arrivals": arrivals, "agents": agents, "seats": seats, "webhook_threads": concurrency,
        "webhook_answers": dict(statuses), "webhook_retries": retried[True],
        "conversations_created": created,
        "webhook_p50_ms": ms(percentile(webhook_s, 50)), "webhook_p99_ms": ms(percentile(webhook_s, 99)),
        "burst_seconds": round(burst_s, 2),
        "assigned": len(first_seen), "assigned_on_arrival": len(arrival_latency), "refilled": len(refill_latency),
        "p50_ms": ms(percentile(arrival_latency, 50)), "p99_ms": ms(percentile(arrival_latency, 99)),
        "max_ms": ms(max(arrival_latency, default=None)),
        "seen_before_webhook_answer": seen_before_answer,
        "refill_p50_ms": ms(percentile(refill_latency, 50)), "refill_p99_ms": ms(percentile(refill_latency, 99)),
        "refill_max_ms": ms(max(refill_latency, default=None)),
        "refill_seen_before_resolve_answer": refill_before_answer,
        "server_p50_ms": ms(percentile(server_arrival, 50)), "server_p99_ms": ms(percentile(server_arrival, 99)),
        "server_refill_p50_ms": ms(percentile(server_refill, 50)),
        "server_refill_p99_ms": ms(percentile(server_refill, 99)),
        "capacity_violations": monitor.capacity_violations,
        "inbox_over_capacity": monitor.inbox_over_capacity,
        "double_inbox": monitor.double_inbox,
        "violation_examples": monitor.examples,
        "max_active_seen": monitor.max_active_seen,
        "final_active_drift": drift,
        "polls": monitor.polls, "inbox_checks": monitor.inbox_checks, "inbox_reads": monitor.inbox_reads,
        "poll_p50_ms": ms(median(polls) if polls else None), "poll_p99_ms": ms(percentile(polls, 99)),
        "poll_errors": dict(monitor.errors),
        "resolves": dict(resolve_status), "refill_timeouts": refill_timeouts,
        "seats_filled_seconds": round(filled_s, 2), "seconds": round(measured_s, 1),
        "time_limit_seconds": time_limit, "timed_out": len(first_seen) < expected,
        "stack_startup_seconds": round(startup_s, 1), "final_checks_seconds": round(tail_s, 1),
    }
