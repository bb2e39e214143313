"""Items read per due deadline by the SLA sweep: the real sla_sweep handler over a seeded table.

The table holds N open conversations, each with its first-response deadline on the sparse, sharded
Due index; 1% of the deadlines have passed. A sweep that reads only the due part of the index reads
about one item per due deadline, however large N grows; a Scan or a filter would read them all.
"""

from __future__ import annotations

import random
import time
from datetime import timedelta
from typing import Any

from bench.harness import (
    FakeContext,
    boto_client,
    count_layer_requests,
    create_stack,
    load_handler,
    scheduled_event,
    use_layer,
)

DUE_SHARE = 0.01


def seed(endpoint: str, table_name: str, due_shards: int, conversations: int, due: int, rng_seed: int = 11) -> None:
    """Write N conversation META items and their deadline items, laid out by the layer's own code."""
    use_layer()
    from shopdesk import clock
    from shopdesk.dal import items as it
    from shopdesk.dal.conversations import Conversations
    from shopdesk.dal.table import Table, serialize
    from shopdesk.ids import new_id
    from shopdesk.models import Conversation, CustomerRef, Identity, ReplyRoute, Sla

    rng = random.Random(rng_seed)
    layout = Conversations(Table(table_name), due_shards)
    passed = set(rng.sample(range(conversations), due))
    now = clock.now()
    requests: list[dict[str, Any]] = []
    for i in range(conversations):
        # passed up to an hour ago, or due in 1-4 hours: none falls due while a large table is seeded
        offset = -rng.uniform(1, 3600) if i in passed else rng.uniform(3600, 14_400)
        due_at = now + timedelta(seconds=offset)
        created = due_at - timedelta(seconds=14_400)
        phone = f"+1303{i:07d}"
        conv = Conversation(
            id=new_id("c_"), customer=CustomerRef(id=new_id("u_"), identities=[Identity(kind="phone", address=phone)]),
            channel="sms", route=ReplyRoute(channel="sms", to=phone, sender="+14155550100"),
            sla=Sla(first_response_due_at=due_at), created_at=created, updated_at=created, waiting_since=created,
            last_message_preview="Where is my order?", message_count=1)
        requests.append({"PutRequest": {"Item": serialize(it.conversation_item(conv))}})
        deadline = layout._deadline_item(conv.id, "first_response", clock.iso(due_at))
        requests.append({"PutRequest": {"Item": serialize(deadline)}})
    ddb = boto_client("dynamodb", endpoint)
    while requests:
        chunk, requests = requests[:25], requests[25:]
        unprocessed = ddb.batch_write_item(RequestItems={table_name: chunk}).get("UnprocessedItems", {})
        requests = unprocessed.get(table_name, []) + requests


def _sweep_once(handler: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    with count_layer_requests() as counter:
        started = time.perf_counter()
        report = handler.lambda_handler(scheduled_event(), FakeContext())
        seconds = time.perf_counter() - started
    requests = dict(sorted(counter.requests.items()))
    return report, {"queries": requests.get("dynamodb.Query", 0), "scans": requests.get("dynamodb.Scan", 0),
                    "items_read": counter.query_items["ScannedCount"], "items_returned": counter.query_items["Count"],
                    "requests": requests, "seconds": round(seconds, 3)}


def run(endpoint: str, conversations: int) -> dict[str, Any]:
    stack = create_stack(endpoint)
    env = stack.env("sla_sweep")
    due = max(1, round(conversations * DUE_SHARE))
    started = time.perf_counter()
    seed(endpoint, stack.table_name, int(env["SLA_DUE_SHARDS"]), conversations, due)
    seed_seconds = time.perf_counter() - started

    handler = load_handler("sla_sweep", env)
    report, first = _sweep_once(handler)
    rerun_report, rerun = _sweep_once(handler)     # right after: nothing is due any more
    return {
        "open_conversations": conversations, "due_items": due, "due_shards": int(env["SLA_DUE_SHARDS"]),
        "items_read_per_due_item": round(first["items_read"] / due, 3),
        "queries": first["queries"], "scans": first["scans"],
        "items_read": first["items_read"], "items_returned": first["items_returned"],
        "breached": report["breached"], "events": report["events"],
        "requests": first["requests"],
        "seconds": first["seconds"], "seconds_note": "wall time of one sweep against moto on this machine",
        "seed_seconds": round(seed_seconds, 1),
        "rerun": {"queries": rerun["queries"], "items_read": rerun["items_read"], "breached": rerun_report["breached"],
                  "seconds": rerun["seconds"]},
    }
