"""Macro figures: how long applying a five-action macro takes, per conversation and for a selection, and
what it costs in requests.

The real handlers (inbound_twilio for the customers' messages, admin_api for the label, the canned response
and the shared macro, agent_api for applying it) run against moto in server mode. The macro replies with a
canned response (rendered with the customer's name), adds a label, raises the priority, adds a note and
snoozes for four hours: one transaction per conversation, then the reply queued. Each apply is timed around
the agent API's handler (wall clock, the handler's whole work), and its requests counted the way
bench/harness.py counts them.

    python -m bench.macros [--conversations N]    writes the "macro" key of bench/results.json
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter
from statistics import mean
from typing import Any

from bench.harness import (
    SHOP_NUMBER,
    FakeContext,
    boto_client,
    count_layer_requests,
    create_stack,
    http_event,
    load_handler,
    moto_server,
    save_result,
    signed_twilio_event,
    twilio_form,
)

ADMIN = {"cognito:username": "root", "name": "Root", "cognito:groups": "[admins]"}
SUPERVISOR = {"cognito:username": "sam", "name": "Sam", "cognito:groups": "[supervisors]"}
FIVE_ACTIONS = [{"type": "reply", "canned_response_id": "shipped"},
                {"type": "add_labels", "labels": ["shipping"]},
                {"type": "set_priority", "priority": "high"},
                {"type": "note", "text": "Sent the tracking link"},
                {"type": "snooze", "duration": "PT4H"}]
SELECTION = 10          # conversations in one bulk apply


def _call(handler: Any, method: str, path: str, body: Any, claims: dict[str, str]) -> tuple[int, Any]:
    event = http_event(method, path, json.dumps(body) if body is not None else None,
                       {"content-type": "application/json"}, claims=claims)
    result = handler.lambda_handler(event, FakeContext())
    return int(result["statusCode"]), json.loads(result["body"]) if result.get("body") else None


def _ok(answer: tuple[int, Any], what: str) -> Any:
    status, body = answer
    if status != 200:
        raise RuntimeError(f"{what}: {status} {body}")
    return body


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))], 1)


def run(endpoint: str, conversations: int) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    stack = create_stack(endpoint)
    inbound = load_handler("inbound_twilio", stack.env("inbound_twilio"))
    admin = load_handler("admin_api", stack.env("admin_api"))
    agent = load_handler("agent_api", stack.env("agent_api"))
    _ok(_call(admin, "PUT", "/admin/labels/shipping", {"name": "Shipping", "color": "#2f80ed"}, ADMIN), "label")
    _ok(_call(admin, "PUT", "/admin/canned-responses/shipped", {
        "title": "Shipped", "shortcode": "shipped",
        "bodies": {"en": "Hi {{customer.name | default: \"there\"}}, your order is on its way."}}, ADMIN), "canned")
    _ok(_call(admin, "PUT", "/admin/macros/wismo", {"name": "Where is my order", "actions": FIVE_ACTIONS}, ADMIN),
        "macro")
    _ok(_call(agent, "GET", "/agent/me", None, SUPERVISOR), "me")

    ids: list[str] = []
    dynamodb = boto_client("dynamodb", endpoint)
    for n in range(conversations + SELECTION):
        phone = f"+1415700{n:04d}"
        form = twilio_form(MessageSid=f"SM{n + 1:032x}", From=phone, To=SHOP_NUMBER, Body="Where is my order?")
        result = inbound.lambda_handler(signed_twilio_event("/webhooks/twilio", form), FakeContext())
        if result["statusCode"] != 200:
            raise RuntimeError(f"inbound: {result}")
        identity = dynamodb.get_item(TableName=stack.table_name, ConsistentRead=True,
                                     Key={"PK": {"S": f"IDENTITY#phone#{phone}"}, "SK": {"S": "META"}})["Item"]
        ids.append(identity["open_conversation_id"]["S"])

    one_ms: list[float] = []
    per_apply: list[Counter[str]] = []
    refused = 0
    with count_layer_requests() as counter:
        for conv in ids[:conversations]:
            before = counter.snapshot()
            began = time.perf_counter()
            body = _ok(_call(agent, "POST", "/agent/macros/wismo/apply", {"conversation_ids": [conv]}, SUPERVISOR),
                       "apply")
            one_ms.append((time.perf_counter() - began) * 1000)
            per_apply.append(counter.snapshot() - before)
            refused += body["refused"]
        began = time.perf_counter()
        bulk = _ok(_call(agent, "POST", "/agent/macros/wismo/apply",
                         {"conversation_ids": ids[conversations:conversations + SELECTION]}, SUPERVISOR), "bulk")
        bulk_ms = (time.perf_counter() - began) * 1000
    warm_ms, warm = one_ms[1:], per_apply[1:]              # the first apply also builds the clients it needs
    operations = sorted({op for c in warm for op in c})
    return {
        "macro_actions": [a["type"] for a in FIVE_ACTIONS],
        "apply_ms": {"p50": _percentile(warm_ms, 50), "p95": _percentile(warm_ms, 95),
                     "max": round(max(warm_ms), 1), "samples": len(warm_ms), "first_ms": round(one_ms[0], 1)},
        "selection": {"conversations": SELECTION, "ms": round(bulk_ms, 1),
                      "ms_per_conversation": round(bulk_ms / SELECTION, 1),
                      "applied": bulk["applied"], "refused": bulk["refused"]},
        "refused": refused,
        "requests_per_apply": {op: round(mean(c[op] for c in warm), 2) for op in operations},
        "environment": "real handlers in this process, moto in server mode on loopback; not AWS",
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def report(result: dict[str, Any]) -> str:
    apply_ms, selection = result["apply_ms"], result["selection"]
    requests = ", ".join(f"{op} {n:g}" for op, n in result["requests_per_apply"].items())
    return "\n".join([
        "MACRO - a five-action macro (reply, add label, priority, note, snooze), real handlers on moto",
        f"  one conversation: p50 {apply_ms['p50']} ms, p95 {apply_ms['p95']} ms, max {apply_ms['max']} ms "
        f"({apply_ms['samples']} applies; refused {result['refused']})",
        f"  a selection of {selection['conversations']}: {selection['ms']} ms "
        f"({selection['ms_per_conversation']} ms each; applied {selection['applied']}, refused {selection['refused']})",
        f"  requests per apply: {requests}"])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.macros", description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=60, help="conversations the macro is applied to")
    args = parser.parse_args()
    with moto_server() as endpoint:
        result = run(endpoint, args.conversations)
    print(report(result))
    save_result("macro", result)


if __name__ == "__main__":
    main()
