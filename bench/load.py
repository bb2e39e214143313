"""A minute of heavy traffic on the local stack: 2,000 messages from 500 customers, zero loss, zero duplicates.

500 customers (half on SMS, half on WhatsApp through Twilio) write four messages each: 2,000 signed
webhooks spread evenly over 60 seconds from 32 threads, each customer's messages in order. A message
not answered with a 2xx is delivered again, as a retrying provider would (at most five times); one in
twenty is also delivered twice on purpose, as providers do. Then the stack's table is read (a Scan of
the message items through the local AWS endpoint, ``GET /_local/aws``) and every customer's inbound
provider ids are compared with what was sent: each accepted message exactly once, none missing, none
twice, and every conversation routed (clocks started or an agent assigned).

    python -m bench.load [--customers 500] [--messages 4] [--seconds 60]
    writes the "load" key of bench/results.json
"""

from __future__ import annotations

import argparse
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3

from bench.assignment import ENVIRONMENT, SHOP_NUMBER, local_stack, percentile
from bench.harness import save_result, twilio_form

HERE = Path(__file__).resolve().parent
RETRIES = 5


def run(customers: int = 500, messages: int = 4, seconds: float = 60.0, threads: int = 32) -> dict[str, Any]:
    plan = [(f"+3162{c:07d}", "whatsapp" if c % 2 else "sms", m) for m in range(messages) for c in range(customers)]
    sent: dict[str, str] = {}                  # sid -> phone
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    retried = 0
    lock = threading.Lock()
    with local_stack() as stack:
        started = time.perf_counter()

        def deliver(index: int) -> None:
            nonlocal retried
            phone, channel, n = plan[index]
            due = started + seconds * index / len(plan)
            time.sleep(max(0.0, due - time.perf_counter()))
            sid = f"SMload{index:06d}"
            prefix = "whatsapp:" if channel == "whatsapp" else ""
            form = twilio_form(MessageSid=sid, From=prefix + phone, To=prefix + SHOP_NUMBER,
                               Body=f"Message {n + 1} of {messages}: where is my order?")
            copies = 2 if index % 20 == 0 else 1
            for _ in range(copies):
                for attempt in range(RETRIES):
                    t0 = time.perf_counter()
                    answer = stack.send_twilio(form)
                    with lock:
                        statuses[answer.status] += 1
                        if attempt:
                            retried += 1
                    if 200 <= answer.status < 300:
                        with lock:
                            latencies.append(time.perf_counter() - t0)
                            sent[sid] = phone
                        break
                    time.sleep(0.5)

        # one customer's messages go out in order: the plan interleaves customers, and each message is due
        # a customer-count of slots after the previous one
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(deliver, range(len(plan))))
        sending = time.perf_counter() - started
        endpoint = stack.get("/_local/aws").json()
        stored, routed, conversations = _read_table(endpoint, deadline=time.perf_counter() + 120,
                                                    expected=set(sent))
    duplicates = sum(1 for sid, n in _inbound_counts(stored).items() if n > 1)
    missing = sorted(set(sent) - set(_inbound_counts(stored)))
    wrong_customer = sorted(sid for sid, phone in sent.items() if sid in stored and stored[sid] != phone)
    return {"customers": customers, "messages_sent": len(plan), "accepted": len(sent),
            "deliveries": sum(statuses.values()), "statuses": {str(k): v for k, v in sorted(statuses.items())},
            "redelivered_after_error": retried, "seconds_sending": round(sending, 1),
            "webhook_p50_ms": _ms(percentile(latencies, 50)), "webhook_p95_ms": _ms(percentile(latencies, 95)),
            "stored": len(_inbound_counts(stored)), "lost": len(missing), "duplicates": duplicates,
            "wrong_customer": len(wrong_customer), "conversations": conversations,
            "unrouted_conversations": conversations - routed, "environment": ENVIRONMENT}


def _inbound_counts(stored: dict[str, str]) -> Counter[str]:
    return Counter(sid.split("#", 1)[0] for sid in stored)


def _read_table(endpoint: dict[str, str], *, deadline: float, expected: set[str]) -> tuple[dict[str, str], int, int]:
    """(message key "<sid>#<n>" -> the customer's phone, routed conversations, conversations), read with Scans
    until every expected message is there and every conversation routed, or the deadline passes."""
    dynamodb = boto3.resource("dynamodb", endpoint_url=endpoint["endpoint"], region_name=endpoint["region"],
                              aws_access_key_id="local", aws_secret_access_key="local")  # noqa: S106
    table = next(t for t in dynamodb.tables.all() if t.name.startswith("shopdesk-"))
    while True:
        items: list[dict[str, Any]] = []
        scan: dict[str, Any] = {}
        while True:
            page = table.scan(**scan)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                break
            scan = {"ExclusiveStartKey": page["LastEvaluatedKey"]}
        convs = {i["PK"]: i for i in items if str(i["PK"]).startswith("CONV#") and i["SK"] == "META"}
        phones = {pk: next((x["address"] for x in (c.get("customer", {}).get("identities") or [])), None)
                  for pk, c in convs.items()}
        stored: dict[str, str] = {}
        seen: Counter[str] = Counter()
        for item in items:
            if str(item["SK"]).startswith("MSG#") and item.get("direction") == "inbound" and item.get("provider_id"):
                sid = str(item["provider_id"])
                seen[sid] += 1
                stored[f"{sid}#{seen[sid]}"] = str(phones.get(item["PK"]) or "")
        routed = sum(1 for c in convs.values() if c.get("assignee") or c.get("waiting_since")
                     or (c.get("sla") or {}).get("first_response_due_at"))
        if (expected <= set(seen) and routed == len(convs)) or time.perf_counter() > deadline:
            return stored, routed, len(convs)
        time.sleep(2)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def report(result: dict[str, Any]) -> str:
    return (f"load: {result['messages_sent']:,} messages from {result['customers']} customers in "
            f"{result['seconds_sending']} s ({result['deliveries']:,} deliveries, statuses {result['statuses']}, "
            f"{result['redelivered_after_error']} redelivered after an error)\n"
            f"  stored {result['stored']:,}, lost {result['lost']}, duplicates {result['duplicates']}, "
            f"wrong customer {result['wrong_customer']}; {result['conversations']} conversations, "
            f"unrouted {result['unrouted_conversations']}; webhook p50 {result['webhook_p50_ms']} ms, "
            f"p95 {result['webhook_p95_ms']} ms")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--messages", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    result = run(args.customers, args.messages, args.seconds)
    print(report(result))
    save_result("load", result)


if __name__ == "__main__":
    main()
