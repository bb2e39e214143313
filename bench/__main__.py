"""Run the benchmarks, print a table, write bench/results.json (or results.quick.json with --quick).

    python -m bench            full run (about 3 minutes on 2 cores)
    python -m bench --quick    smaller sizes, a smoke run; results labelled quick
    python -m bench --large    also sweeps 100,000 open conversations (slow: seeding moto)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from bench import cold_start, ingest, sweep
from bench.harness import machine, moto_server, use_layer

HERE = Path(__file__).resolve().parent


def sizes(quick: bool, large: bool) -> dict[str, Any]:
    sweeps = [1000] if quick else [1000, 10_000]
    if large:
        sweeps.append(100_000)
    return {"ingest_messages": 100 if quick else 500, "sweep_open_conversations": sweeps,
            "cold_start_samples": 3 if quick else 7}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes; writes bench/results.quick.json")
    parser.add_argument("--large", action="store_true", help="also sweep 100,000 open conversations")
    args = parser.parse_args()
    use_layer()
    plan = sizes(args.quick, args.large)
    started = time.perf_counter()
    results: dict[str, Any] = {"mode": "quick" if args.quick else "full", **machine(), "sizes": plan}

    failed = False

    def measure(label: str, run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """One benchmark; a failure is recorded and reported, and the others still run."""
        nonlocal failed
        print(f"{label} ...", flush=True)
        try:
            return run()
        except Exception as exc:
            failed = True
            traceback.print_exc()
            return {"error": f"{type(exc).__name__}: {exc}"}

    with moto_server() as endpoint:
        results["cold_start"] = measure(f"cold start: {plan['cold_start_samples']} fresh processes per function",
                                        lambda: cold_start.run(endpoint, plan["cold_start_samples"]))
        results["ingest"] = measure(f"ingest: {plan['ingest_messages']} signed Twilio deliveries",
                                    lambda: ingest.run(endpoint, plan["ingest_messages"]))
        results["sweep"] = {str(n): measure(f"sweep: {n:,} open conversations", partial(sweep.run, endpoint, n))
                            for n in plan["sweep_open_conversations"]}
    results["runtime_seconds"] = round(time.perf_counter() - started, 1)

    out = HERE / ("results.quick.json" if args.quick else "results.json")
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print()
    print(report(results))
    print(f"\nwritten: bench/{out.name}")
    if failed:
        sys.exit("some benchmarks failed: see the errors above and in the results file")


def _table(header: list[str], rows: list[list[Any]]) -> str:
    cells = [header] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
             for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def report(r: dict[str, Any]) -> str:
    parts = [f"shopdesk benchmarks ({r['mode']}) {r['date']}  python {r['python']}  {r['platform']}  "
             f"{r['cpu_count']} CPUs  runtime {r['runtime_seconds']} s"]
    parts.append(_ingest(r["ingest"]))
    parts.append(_sweep(r["sweep"]))
    parts.append(_cold_start(r["cold_start"]))
    return "\n".join(parts)


def _ingest(ing: dict[str, Any]) -> str:
    title = "\nINGEST - requests per inbound message, real inbound_twilio handler"
    if "error" in ing:
        return f"{title}\nFAILED: {ing['error']}"
    target = ing["design_target"]
    rows = [[name, s["messages"], s["dynamodb_requests_per_message"], s["dynamodb_requests_per_message_max"],
             s["sqs_requests_per_message"], s["sqs_requests_per_message_max"], s["non_200_responses"]]
            for name, s in ing["by_scenario"].items()]
    rows.append(["overall", ing["messages"], ing["dynamodb_requests_per_message"],
                 ing["dynamodb_requests_per_message_max"], ing["sqs_requests_per_message"],
                 ing["sqs_requests_per_message_max"], ing["non_200_responses"]])
    lines = [f"{title} (target: <= {target['dynamodb']} DynamoDB, <= {target['sqs']} SQS)",
             _table(["scenario", "messages", "DDB mean", "DDB max", "SQS mean", "SQS max", "non-200"], rows),
             f"Secrets Manager: {ing['cold_start_secrets_requests']} request(s) on the cold start, "
             f"{ing['secrets_requests_after_cold_start']} after; "
             f"{ing['messages_per_second_on_moto']} messages/s on moto"]
    over = ing["over_target"]
    lines.append(f"over target: {over['messages']} message(s)" + "".join(
        f"\n  delivery #{e['delivery']} ({e['scenario']}): "
        + ", ".join(f"{op} x{n}" for op, n in e["requests"].items()) for e in over["examples"]))
    return "\n".join(lines)


def _sweep(sweeps: dict[str, dict[str, Any]]) -> str:
    done = {n: s for n, s in sweeps.items() if "error" not in s}
    rows = [[f"{int(n):,}", s["due_items"], s["queries"], s["scans"], s["items_read"], s["items_read_per_due_item"],
             s["breached"], s["seconds"], s["rerun"]["items_read"]] for n, s in done.items()]
    lines = ["\nSLA SWEEP - real sla_sweep handler, 1% of deadlines due",
             _table(["open convs", "due", "queries", "scans", "items read", "read/due", "breached", "s (moto)",
                     "rerun read"], rows)]
    lines += [f"{int(n):,}: FAILED: {s['error']}" for n, s in sweeps.items() if n not in done]
    return "\n".join(lines)


def _cold_start(cs: dict[str, Any]) -> str:
    if "error" in cs:
        return f"\nCOLD START\nFAILED: {cs['error']}"
    rows = [[f, cs[f]["init_ms"], cs[f]["ratio_to_boto3"], cs[f]["modules_imported"], cs[f].get("first_call_ms", "-"),
             ", ".join(f"{n:g} {s}" for s, n in cs[f].get("first_call_clients_created", {}).items()) or "-"]
            for f in cs if isinstance(cs[f], dict)]
    return (f"\nCOLD START - fresh process, median of {cs['samples']}; baseline import boto3 + DynamoDB client = "
            f"{cs['boto3_baseline_ms']} ms\n"
            + _table(["function", "init ms", "x boto3", "modules", "first call ms (moto)", "clients made"], rows))


if __name__ == "__main__":
    main()
