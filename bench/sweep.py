"""The SLA sweep: the real sla_sweep handler over a seeded table, moto in a process of its own.

* ``run``: N open conversations with SLA clocks as the router starts them (the default policy, normal
  priority), 1% of them past their first-response deadline. A sweep that reads only what is due reads
  one index item and one conversation per due deadline, however large N grows; a Scan or a filter
  would read them all.
* ``capacity``: 10,000 conversations due at once. One sweep runs with the function's own time limit
  (template.yaml's Timeout, counted down as Lambda does); whatever it cannot do stays in the index for
  the next sweep. moto serialises every DynamoDB request, so the wall time here is moto's; the CPU time
  of this process (moto runs in another) is what the sweep itself costs, on any backend.
"""

from __future__ import annotations

import random
import time
from datetime import timedelta
from typing import Any

from bench.harness import (
    boto_client,
    count_layer_requests,
    create_stack,
    function_resource,
    load_handler,
    scheduled_event,
    use_layer,
)

DUE_SHARE = 0.01
COUNTED = ("dynamodb", "sqs", "events", "sns")


class LambdaContext:
    """A context whose remaining time counts down from the function's timeout, as Lambda's does."""

    function_name = "sla_sweep"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:sla_sweep"
    aws_request_id = "bench-sweep"

    def __init__(self, timeout_s: float):
        self.deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def seed(endpoint: str, table_name: str, env: dict[str, str], conversations: int, due: int,
         rng_seed: int = 11) -> None:
    """N conversations with running clocks and their deadline items, laid out by the layer's own code."""
    use_layer()
    from shopdesk import clock
    from shopdesk.config import SweepSettings
    from shopdesk.dal.conversations import Conversations
    from shopdesk.dal.table import Table, serialize
    from shopdesk.ids import new_id
    from shopdesk.logic.business_time import ConversationClocks
    from shopdesk.logic.sla_engine import default_policy
    from shopdesk.models import Conversation, CustomerRef, Identity, Priority, ReplyRoute, Sla

    settings = SweepSettings.model_validate(env)
    target = settings.first_response_targets[Priority.NORMAL]
    fresh = ConversationClocks.for_policy(default_policy(settings.first_response_targets), Priority.NORMAL)
    rng = random.Random(rng_seed)
    layout = Conversations(Table(table_name), settings.due_shards)
    passed = set(rng.sample(range(conversations), due))
    now = clock.now()
    requests: list[dict[str, Any]] = []
    for i in range(conversations):
        # passed up to an hour ago, or due in 1-4 hours: none falls due while a large table is seeded
        offset = -rng.uniform(1, 3600) if i in passed else rng.uniform(3600, 14_400)
        created = now + timedelta(seconds=offset - target)
        clocks = fresh.model_copy(deep=True)
        clocks.on_customer_message(created)
        phone = f"+1303{i:07d}"
        conv = Conversation(
            id=new_id("c_"), customer=CustomerRef(id=new_id("u_"), identities=[Identity(kind="phone", address=phone)]),
            channel="sms", route=ReplyRoute(channel="sms", to=phone, sender="+14155550100"),
            sla=Sla(first_response_due_at=created + timedelta(seconds=target)), created_at=created,
            updated_at=created, waiting_since=created, last_message_preview="Where is my order?", message_count=1)
        requests.extend({"PutRequest": {"Item": serialize(item)}} for item in layout.opening_items(conv, clocks))
    ddb = boto_client("dynamodb", endpoint)
    while requests:
        chunk, requests = requests[:25], requests[25:]
        unprocessed = ddb.batch_write_item(RequestItems={table_name: chunk}).get("UnprocessedItems", {})
        requests = unprocessed.get(table_name, []) + requests


def _sweep_once(handler: Any, timeout_s: float) -> tuple[dict[str, Any], dict[str, Any]]:
    with count_layer_requests(COUNTED) as counter:
        cpu, started = time.process_time(), time.perf_counter()
        report = handler.lambda_handler(scheduled_event(), LambdaContext(timeout_s))
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    requests = dict(sorted(counter.requests.items()))
    return report, {"queries": requests.get("dynamodb.Query", 0), "scans": requests.get("dynamodb.Scan", 0),
                    "index_items_read": counter.query_items["ScannedCount"],
                    "conversations_read": sum(counter.items_got.values()),
                    "requests": requests, "seconds": round(seconds, 3), "cpu_seconds": round(cpu, 3)}


def _prepare(endpoint: str, conversations: int, due: int) -> tuple[Any, float, float]:
    stack = create_stack(endpoint)
    env = stack.env("sla_sweep")
    started = time.perf_counter()
    seed(endpoint, stack.table_name, env, conversations, due)
    seed_seconds = time.perf_counter() - started
    timeout = float(function_resource("sla_sweep")["Properties"]["Timeout"])
    return load_handler("sla_sweep", env), timeout, seed_seconds


UNLIMITED_S = 3600.0   # moto walks the whole table for each shard's Query (about a minute at 100,000):
                       # the items-read runs lift the time limit; the capacity run keeps the real one


def run(endpoint: str, conversations: int) -> dict[str, Any]:
    due = max(1, round(conversations * DUE_SHARE))
    handler, _, seed_seconds = _prepare(endpoint, conversations, due)
    report, first = _sweep_once(handler, UNLIMITED_S)
    rerun_report, rerun = _sweep_once(handler, UNLIMITED_S)     # right after: nothing is due any more
    read = first["index_items_read"] + first["conversations_read"]
    return {
        "open_conversations": conversations, "due_items": due, "due_shards": int(handler.settings.due_shards),
        "items_read_per_due_item": round(read / due, 3),
        "index_items_read_per_due_item": round(first["index_items_read"] / due, 3),
        "conversations_read_per_due_item": round(first["conversations_read"] / due, 3),
        "queries": first["queries"], "scans": first["scans"],
        "breached": report["breached"], "events": report["events"], "deferred": report["deferred"],
        "requests": first["requests"],
        "requests_per_due_item": {op: round(n / due, 3) for op, n in first["requests"].items()},
        "seconds": first["seconds"], "cpu_seconds": first["cpu_seconds"],
        "seconds_note": "wall time of one sweep against moto (another process) on this machine, time limit "
                        "lifted; cpu_seconds: the sweep's own CPU time",
        "seed_seconds": round(seed_seconds, 1),
        "rerun": {"queries": rerun["queries"], "index_items_read": rerun["index_items_read"],
                  "breached": rerun_report["breached"], "seconds": rerun["seconds"]},
    }


def capacity(endpoint: str, due: int = 10_000) -> dict[str, Any]:
    """``due`` deadlines passed at once: what one sweep does within its time limit, and how many sweeps
    (a minute apart in production) it takes on moto to flag them all."""
    handler, timeout, seed_seconds = _prepare(endpoint, due, due)
    sweeps: list[dict[str, Any]] = []
    flagged = 0
    while flagged < due and len(sweeps) < 20:
        report, measured = _sweep_once(handler, timeout)
        flagged += report["breached"]
        sweeps.append({"breached": report["breached"], "deferred": report["deferred"], "events": report["events"],
                       "seconds": measured["seconds"], "cpu_seconds": measured["cpu_seconds"],
                       "requests": measured["requests"]})
        if report["breached"] == 0:
            break
    requests: dict[str, int] = {}
    for s in sweeps:
        for op, n in s["requests"].items():
            requests[op] = requests.get(op, 0) + n
    cpu = sum(s["cpu_seconds"] for s in sweeps)
    return {
        "due_items": due, "time_limit_s": timeout, "flagged": flagged, "sweeps": len(sweeps),
        "first_sweep": {k: v for k, v in sweeps[0].items() if k != "requests"},
        "per_sweep": [{k: v for k, v in s.items() if k != "requests"} for s in sweeps],
        "requests_per_due_item": {op: round(n / due, 3) for op, n in sorted(requests.items())},
        "cpu_ms_per_due_item": round(cpu * 1000 / due, 3), "cpu_seconds": round(cpu, 2),
        "seconds_on_moto": round(sum(s["seconds"] for s in sweeps), 1),
        "note": "moto serialises DynamoDB requests: seconds_on_moto is moto's pace; cpu_seconds is the sweep's "
                "own work (moto runs in another process)",
        "seed_seconds": round(seed_seconds, 1),
    }


def risk(endpoint: str, waiting: int = 1000) -> dict[str, Any]:
    """The breach-risk refresh the sweep runs each minute (shopdesk.logic.breach_risk): one team's queue of
    ``waiting`` conversations, two online agents (6 slots, all held), the default handling time. The first pass
    writes every conversation's risk (and raises the risk warnings); the next, a minute later, finds nothing
    moved enough to write."""
    stack = create_stack(endpoint)
    env = stack.env("sla_sweep")
    seed(endpoint, stack.table_name, env, waiting, 0)
    use_layer()
    from shopdesk import clock
    from shopdesk.config import SweepSettings
    from shopdesk.dal.agents import Agents
    from shopdesk.dal.conversations import Conversations
    from shopdesk.dal.events import EventBus
    from shopdesk.dal.table import Table
    from shopdesk.logic.breach_risk import RiskSettings, refresh
    from shopdesk.logic.sla_engine import book_for
    from shopdesk.models import Agent, Presence

    settings = SweepSettings.model_validate(env)
    conversations = Conversations(Table(stack.table_name), settings.due_shards)
    agents = Agents(conversations.table)
    for name in ("ana", "ben"):
        agents.create(Agent(id=name, presence=Presence.ONLINE, capacity=3, active=3, teams=["default"]))
    book = book_for(conversations, settings.first_response_targets)
    passes = []
    for _ in range(2):
        with count_layer_requests(COUNTED) as counter:
            cpu, started = time.process_time(), time.perf_counter()
            found = refresh(conversations, agents, book, EventBus(settings.event_bus_name), ["default"],
                            RiskSettings(threshold=settings.breach_risk_threshold))
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        passes.append({"requests": dict(sorted(counter.requests.items())), "seconds": round(seconds, 3),
                       "cpu_seconds": round(cpu, 3), "written": sum(r.written for r in found),
                       "raised": sum(len(r.raised) for r in found)})
        clock.set_offset(clock.offset() + 60)
    return {"waiting": waiting, "first_pass": passes[0], "next_minute": passes[1],
            "cpu_ms_per_waiting": round(passes[0]["cpu_seconds"] * 1000 / waiting, 3),
            "note": "moto serialises DynamoDB requests: seconds are moto's pace; cpu_seconds the refresh's own"}
