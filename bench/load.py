"""A minute of heavy traffic on the local stack: 2,000 messages from 500 customers, zero loss, zero duplicates.

500 customers (half on SMS, half on WhatsApp through Twilio) write four messages each: 2,000 signed
webhooks offered evenly over 60 seconds from 32 threads, each customer's messages in order. A message
not answered with a 2xx is delivered again, as a retrying provider would (at most five times); one in
twenty is also delivered twice on purpose, as providers do. Then the stack's table is read (a Scan of
the message items through the local AWS endpoint, ``GET /_local/aws``) and every customer's inbound
provider ids are compared with what was sent: each accepted message exactly once, none missing, none
twice, and every conversation routed (clocks started or an agent assigned).

The local stack runs every function in worker processes on this machine's cores, so it accepts what its
CPU allows, not what Lambda would. A machine that cannot keep up makes the webhooks wait (the threads block;
nothing is dropped), so the run is bounded: no delivery starts after ``--budget`` seconds (those not started
are ``not_sent``, and the loss and duplicate checks cover every message that was), and routing gets
``--drain`` seconds more to catch up. The figure is the achieved rate (accepted messages per minute from the
first send to the last answer), the loss and duplicate counts, and where the CPU went: each process of the
stack (moto with the gateway and pollers; each function's workers) from /proc, with the load average.

    python -m bench.load [--customers 500] [--messages 4] [--seconds 60] [--budget 180] [--drain 120]
    writes the "load" key of bench/results.json
"""

from __future__ import annotations

import argparse
import os
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


def run(customers: int = 500, messages: int = 4, seconds: float = 60.0, threads: int = 32, budget: float = 180.0,
        drain: float = 120.0) -> dict[str, Any]:
    plan = [(f"+3162{c:07d}", "whatsapp" if c % 2 else "sms", m) for m in range(messages) for c in range(customers)]
    sent: dict[str, str] = {}                  # sid -> phone
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    retried = 0
    not_sent = 0
    last_answer = 0.0
    lock = threading.Lock()
    with local_stack() as stack:
        cpu_before = cpu_by_process(stack.process.pid)
        load_before = _load()
        started = time.perf_counter()

        def deliver(index: int) -> None:
            nonlocal retried, not_sent, last_answer
            phone, channel, n = plan[index]
            due = started + seconds * index / len(plan)
            time.sleep(max(0.0, due - time.perf_counter()))
            if time.perf_counter() - started > budget:       # the machine is behind: bounded, and said so
                with lock:
                    not_sent += 1
                return
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
                            last_answer = max(last_answer, time.perf_counter() - started)
                        break
                    time.sleep(0.5)

        # one customer's messages go out in order: the plan interleaves customers, and each message is due
        # a customer-count of slots after the previous one
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(deliver, range(len(plan))))
        sending = time.perf_counter() - started
        load_sending = _load()
        endpoint = stack.get("/_local/aws").json()
        drained = time.perf_counter()
        stored, routed, conversations = _read_table(endpoint, deadline=time.perf_counter() + drain,
                                                    expected=set(sent))
        caught_up = time.perf_counter() - drained
        backlog = _queue_backlog(endpoint)
        dead = _dead_letters(endpoint, backlog)
        cpu = cpu_by_process(stack.process.pid, cpu_before)
    duplicates = sum(1 for sid, n in _inbound_counts(stored).items() if n > 1)
    missing = sorted(set(sent) - set(_inbound_counts(stored)))
    wrong_customer = sorted(sid for sid, phone in sent.items() if sid in stored and stored[sid] != phone)
    accepted_per_minute = round(len(sent) / last_answer * 60, 1) if last_answer else 0.0
    return {"customers": customers, "messages_planned": len(plan),
            "offered_per_minute": round(len(plan) / seconds * 60), "budget_s": budget, "not_sent": not_sent,
            "messages_sent": len(plan) - not_sent, "accepted": len(sent), "accepted_per_minute": accepted_per_minute,
            "reached_target_rate": not_sent == 0 and last_answer <= seconds * 1.1,
            "deliveries": sum(statuses.values()), "statuses": {str(k): v for k, v in sorted(statuses.items())},
            "redelivered_after_error": retried, "seconds_sending": round(sending, 1),
            "webhook_p50_ms": _ms(percentile(latencies, 50)), "webhook_p95_ms": _ms(percentile(latencies, 95)),
            "stored": len(_inbound_counts(stored)), "lost": len(missing), "duplicates": duplicates,
            "wrong_customer": len(wrong_customer), "conversations": conversations,
            "unrouted_conversations": conversations - routed, "seconds_to_catch_up": round(caught_up, 1),
            "queued_at_end": backlog, "dead_letters": dead,
            "cpu_seconds": cpu, "load_average_1min": {"before": load_before, "after_sending": load_sending},
            "cpu_count": os.cpu_count(), "environment": ENVIRONMENT}


def _queue_backlog(endpoint: dict[str, str]) -> dict[str, int]:
    """Messages still in each queue (visible + in flight) when the check ends: work not yet done is there, not lost."""
    sqs = boto3.client("sqs", endpoint_url=endpoint["endpoint"], region_name=endpoint["region"],
                       aws_access_key_id="local", aws_secret_access_key="local")  # noqa: S106
    out = {}
    for url in sqs.list_queues().get("QueueUrls", []):
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        waiting = sum(int(attributes[name]) for name in ("ApproximateNumberOfMessages",
                                                          "ApproximateNumberOfMessagesNotVisible"))
        if waiting:
            out[url.rsplit("/", 1)[1]] = waiting
    return out


def _dead_letters(endpoint: dict[str, str], backlog: dict[str, int]) -> list[dict[str, str]]:
    """What each message left in a dead-letter queue says of its failure (the attributes the scheduler and the
    event sources set: error code and message), read without taking it (a zero visibility timeout)."""
    sqs = boto3.client("sqs", endpoint_url=endpoint["endpoint"], region_name=endpoint["region"],
                       aws_access_key_id="local", aws_secret_access_key="local")  # noqa: S106
    found = []
    for name in (n for n in backlog if "dlq" in n.lower() or "dead" in n.lower()):
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0,
                                           MessageAttributeNames=["All"]).get("Messages", []):
            attributes = {k: v.get("StringValue", "") for k, v in (message.get("MessageAttributes") or {}).items()}
            found.append({"queue": name, "error": attributes.get("ERROR_CODE", "?"),
                          "message": attributes.get("ERROR_MESSAGE", "")[:300],
                          "retries": attributes.get("RETRY_ATTEMPTS", "?")})
    return found


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def _proc_cpu(pid: int) -> tuple[str, float] | None:
    """(what the process runs, its user + system CPU seconds) from /proc; None if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        cwd = Path(os.readlink(f"/proc/{pid}/cwd"))
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    seconds = (int(fields[11]) + int(fields[12])) / ticks          # utime, stime
    name = cwd.name if cwd.parent.name == "functions" else "stack"
    return name, seconds


def cpu_by_process(stack_pid: int, before: dict[str, float] | None = None) -> dict[str, float]:
    """CPU seconds of the local stack's process (moto, the gateway, the pollers) and of each function's workers
    (its children, grouped by the function folder they run in); with ``before``, what was spent since. Workers that
    exited in between are not counted (the stack keeps them for its lifetime unless one dies)."""
    totals: dict[str, float] = {}
    pids = [stack_pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            if ppid == stack_pid:
                pids.append(int(entry.name))
    for pid in pids:
        found = _proc_cpu(pid)
        if found:
            totals[found[0]] = totals.get(found[0], 0.0) + found[1]
    if before is None:
        return totals
    spent = {name: round(value - before.get(name, 0.0), 1) for name, value in totals.items()}
    return dict(sorted(spent.items(), key=lambda kv: -kv[1]))


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
        time.sleep(5)             # a Scan of the whole table loads the stack that is catching up: not too often


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def report(result: dict[str, Any]) -> str:
    cpu = ", ".join(f"{name} {s} s" for name, s in result["cpu_seconds"].items() if s)
    return (f"load: {result['messages_sent']:,} of {result['messages_planned']:,} messages from {result['customers']} "
            f"customers sent in {result['seconds_sending']} s (offered {result['offered_per_minute']}/min, accepted "
            f"{result['accepted_per_minute']}/min, {result['not_sent']} not sent within the {result['budget_s']:g} s "
            f"budget; {result['deliveries']:,} deliveries, statuses {result['statuses']}, "
            f"{result['redelivered_after_error']} redelivered after an error)\n"
            f"  load average {result['load_average_1min']} on {result['cpu_count']} CPUs; CPU: {cpu}\n"
            f"  stored {result['stored']:,}, lost {result['lost']}, duplicates {result['duplicates']}, "
            f"wrong customer {result['wrong_customer']}; {result['conversations']} conversations, "
            f"unrouted {result['unrouted_conversations']} (queued at the end: {result['queued_at_end']});\n"
            f"  dead letters: {result['dead_letters'] or 'none'}\n"
            f"  webhook p50 {result['webhook_p50_ms']} ms, "
            f"p95 {result['webhook_p95_ms']} ms")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--messages", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--budget", type=float, default=180.0, help="no delivery starts after this many seconds")
    parser.add_argument("--drain", type=float, default=120.0, help="seconds routing may take to catch up after")
    args = parser.parse_args()
    result = run(args.customers, args.messages, args.seconds, budget=args.budget, drain=args.drain)
    print(report(result))
    save_result("load", result)


if __name__ == "__main__":
    main()
