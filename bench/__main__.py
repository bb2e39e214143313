"""Run the benchmarks, print a table, write bench/results.json (or results.quick.json with --quick).

    python -m bench            full run (about 35 minutes on 2 shared cores)
    python -m bench --quick    smaller sizes, a smoke run; results labelled quick
    python -m bench --skip-stack           without the benchmarks that start the local stack
    python -m bench --only assignment,sla  just those (results.partial.json)
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

from bench import (
    analytics,
    assignment,
    bot,
    cold_start,
    commerce,
    cost,
    detection,
    forecast,
    ingest,
    live,
    load,
    macros,
    search,
    sweep,
    understanding,
)
from bench.harness import machine, moto_process, moto_server, use_layer

HERE = Path(__file__).resolve().parent
BENCHMARKS = ("cold_start", "ingest", "sweep", "sweep_capacity", "sweep_risk", "assignment", "sla", "commerce", "live",
              "search", "load", "forecast", "understanding", "macro", "analytics", "bot", "cost")
STACK_BENCHMARKS = ("assignment", "sla", "live", "load")        # these start the local stack (python -m local)


def sizes(quick: bool) -> dict[str, Any]:
    return {"ingest_messages": 100 if quick else 500,
            "sweep_open_conversations": [1000] if quick else [1000, 10_000, 100_000],
            "sweep_capacity_due_items": 1000 if quick else 10_000,
            "sweep_risk_waiting": 200 if quick else 1000,
            "cold_start_samples": 3 if quick else 7, "assignment_arrivals": 60 if quick else 200,
            "assignment_time_limit_s": 45 if quick else 100,
            "sla_conversations": 12 if quick else 30,
            "commerce_conversations": 15 if quick else 60, "commerce_orders": 10 if quick else 40,
            "live_messages": 10 if quick else 50,
            "search_conversations": 500 if quick else 10_000, "search_queries": 100 if quick else 500,
            "load_customers": 50 if quick else 500, "macro_conversations": 20 if quick else 60,
            "analytics_events": 100_000 if quick else 1_000_000, "analytics_conversations": 10 if quick else 30,
            "cost_conversations": 5 if quick else 20}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes; writes bench/results.quick.json")
    parser.add_argument("--skip-stack", action="store_true",
                        help="skip the benchmarks that start the local stack (assignment, sla, live)")
    parser.add_argument("--only", type=lambda v: [n.strip() for n in v.split(",") if n.strip()], default=None,
                        help=f"comma-separated subset of {','.join(BENCHMARKS)}; writes bench/results.partial.json")
    args = parser.parse_args()
    chosen = [n for n in BENCHMARKS if n in (args.only or BENCHMARKS)
              and not (args.skip_stack and n in STACK_BENCHMARKS)]
    if args.only and set(args.only) - set(BENCHMARKS):
        parser.error(f"--only: unknown {', '.join(sorted(set(args.only) - set(BENCHMARKS)))}")
    use_layer()
    plan = sizes(args.quick)
    started = time.perf_counter()
    results: dict[str, Any] = {"mode": "quick" if args.quick else "full", **machine(), "sizes": plan}
    if args.only:
        results["only"] = chosen

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

    if {"cold_start", "ingest"} & set(chosen):
        with moto_server() as endpoint:
            if "cold_start" in chosen:
                results["cold_start"] = measure(
                    f"cold start: {plan['cold_start_samples']} fresh processes per function",
                    lambda: cold_start.run(endpoint, plan["cold_start_samples"]))
            if "ingest" in chosen:
                results["ingest"] = measure(f"ingest: {plan['ingest_messages']} signed Twilio deliveries",
                                            lambda: ingest.run(endpoint, plan["ingest_messages"]))
    # The sweeps measure their own CPU time: moto runs in a process of its own, afresh for each size.
    if "sweep" in chosen:
        results["sweep"] = {}
        for n in plan["sweep_open_conversations"]:
            with moto_process() as endpoint:
                results["sweep"][str(n)] = measure(f"sweep: {n:,} open conversations", partial(sweep.run, endpoint, n))
    if "sweep_capacity" in chosen:
        with moto_process() as endpoint:
            results["sweep_capacity"] = measure(
                f"sweep capacity: {plan['sweep_capacity_due_items']:,} deadlines due at once",
                partial(sweep.capacity, endpoint, plan["sweep_capacity_due_items"]))
    if "sweep_risk" in chosen:
        with moto_process() as endpoint:
            results["sweep_risk"] = measure(
                f"sweep breach risk: a queue of {plan['sweep_risk_waiting']:,} waiting conversations",
                partial(sweep.risk, endpoint, plan["sweep_risk_waiting"]))
    # The local stack runs in its own process with its own moto, after the in-process moto is gone.
    if "assignment" in chosen:
        results["assignment"] = measure(f"assignment: {plan['assignment_arrivals']} customers at once, 10 agents "
                                        "(local stack)", lambda: assignment.run(plan["assignment_arrivals"],
                                                               time_limit=plan["assignment_time_limit_s"]))
    if "sla" in chosen:
        results["sla"] = measure(f"sla detection: {plan['sla_conversations']} deadlines, sweep once a simulated "
                                 "minute (local stack)", lambda: detection.run(plan["sla_conversations"]))
    if "commerce" in chosen:
        with moto_server() as endpoint:
            results["commerce"] = measure(
                f"commerce: order panel of {plan['commerce_conversations']} conversations (hit and miss), "
                f"webhooks of {plan['commerce_orders']} orders, ingest budget",
                lambda: commerce.run(endpoint, plan["commerce_conversations"], plan["commerce_orders"],
                                     min(plan["ingest_messages"], 200)))
    if "live" in chosen:       # inbox.* figures of other benchmarks in the file are kept
        previous = json.loads(live.RESULTS.read_text(encoding="utf-8")).get("inbox", {}) \
            if live.RESULTS.exists() else {}
        results["inbox"] = {**previous, "ws_notice_ms": measure(
            f"live: {plan['live_messages']} SMS -> notice on an open WebSocket (local stack)",
            lambda: live.run(plan["live_messages"]))}
    if "search" in chosen:
        results["search"] = measure(f"search: {plan['search_conversations']:,} conversations, 10 messages each, "
                                    f"{plan['search_queries']} queries (local engine)",
                                    lambda: search.run(plan["search_conversations"], 10, plan["search_queries"]))
    if "load" in chosen:
        results["load"] = measure("load: 2,000 messages from 500 customers in a minute (local stack)",
                                  lambda: load.run(plan["load_customers"]))
    if "forecast" in chosen:
        results["forecast"] = measure("forecast: backtest of 14-day forecasts on 20 weeks of generated traffic, "
                                      "breach-risk calibration on a simulated queue", forecast.run)
    if "understanding" in chosen:
        results["understanding"] = measure("understanding: language, sentiment, urgency on the labelled evaluation set",
                                           understanding.run)
    if "macro" in chosen:
        with moto_server() as endpoint:
            results["macro"] = measure(f"macro: a five-action macro on {plan['macro_conversations']} conversations "
                                       "one by one, then on a selection", lambda: macros.run(
                                           endpoint, plan["macro_conversations"]))
    if "analytics" in chosen:
        results["analytics"] = measure(
            f"analytics: events per inbound message ({plan['analytics_conversations']} conversations played), "
            f"report SQL on {plan['analytics_events']:,} events (DuckDB)",
            lambda: analytics.run(plan["analytics_events"], plan["analytics_conversations"]))
    if "bot" in chosen:
        results["bot"] = measure("bot: precision, coverage, false answers on the labelled evaluation set", bot.run)
    if "cost" in chosen:
        results["cost"] = measure(f"cost: {plan['cost_conversations']} scripted conversations through the real "
                                  "handlers, every AWS request counted and priced, scaled to 1,000",
                                  lambda: cost.run(plan["cost_conversations"]))
    results["runtime_seconds"] = round(time.perf_counter() - started, 1)

    name = "results.partial.json" if args.only else "results.quick.json" if args.quick else "results.json"
    out = HERE / name
    if out.exists():        # `make fuzz` writes its own figures (fuzz.*) into the same file: keep them
        previous = json.loads(out.read_text(encoding="utf-8"))
        if "fuzz" in previous:
            results["fuzz"] = previous["fuzz"]
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
    sections: list[tuple[str, Callable[[Any], str]]] = [
        ("ingest", _ingest), ("sweep", _sweep), ("sweep_capacity", _capacity), ("sweep_risk", _risk),
        ("cold_start", _cold_start),
        ("assignment", _assignment),
        ("sla", _detection), ("commerce", _commerce), ("inbox", _inbox), ("search", _search),
        ("load", _load), ("forecast", _forecast), ("understanding", understanding.report), ("macro", _macro),
        ("analytics", _analytics), ("bot", bot.report), ("cost", _cost)]
    parts += [show(r[key]) for key, show in sections if key in r]
    return "\n".join(parts)


def _cost(result: dict[str, Any]) -> str:
    if "error" in result:
        return f"\nCOST\nFAILED: {result['error']}"
    return "\nCOST - per 1,000 conversations, on-demand list prices (bench/README.md)\n" + cost.report(result)


def _commerce(result: dict[str, Any]) -> str:
    if "error" in result:
        return f"\nCOMMERCE\nFAILED: {result['error']}"
    return "\n" + commerce.report(result)


def _macro(result: dict[str, Any]) -> str:
    if "error" in result:
        return f"\nMACRO\nFAILED: {result['error']}"
    return "\n" + macros.report(result)


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
    rows = [[f"{int(n):,}", s["due_items"], s["queries"], s["scans"], s["index_items_read_per_due_item"],
             s["conversations_read_per_due_item"], s["items_read_per_due_item"], s["breached"], s["seconds"],
             round(s["cpu_seconds"] * 1000 / s["due_items"], 2), s["rerun"]["index_items_read"]]
            for n, s in done.items()]
    lines = ["\nSLA SWEEP - real sla_sweep handler, clocks on every conversation, 1% of deadlines due",
             _table(["open convs", "due", "queries", "scans", "index/due", "convs/due", "read/due", "breached",
                     "s (moto)", "cpu ms/due", "rerun read"], rows)]
    lines += [f"{int(n):,}: FAILED: {s['error']}" for n, s in sweeps.items() if n not in done]
    return "\n".join(lines)


def _risk(r: dict[str, Any]) -> str:
    if "error" in r:
        return f"\nSWEEP BREACH RISK\nFAILED: {r['error']}"
    first, then = r["first_pass"], r["next_minute"]
    return (f"\nSWEEP BREACH RISK - a queue of {r['waiting']:,} waiting conversations\n"
            f"first pass: {first['written']:,} written, {first['raised']:,} raised, requests {first['requests']}, "
            f"CPU {r['cpu_ms_per_waiting']} ms per conversation\n"
            f"a minute later: {then['written']:,} written, requests {then['requests']}, CPU {then['cpu_seconds']} s")


def _capacity(c: dict[str, Any]) -> str:
    if "error" in c:
        return f"\nSWEEP CAPACITY\nFAILED: {c['error']}"
    first = c["first_sweep"]
    per_item = ", ".join(f"{op} {n}" for op, n in c["requests_per_due_item"].items())
    return (f"\nSWEEP CAPACITY - {c['due_items']:,} deadlines due at once, time limit {c['time_limit_s']:g} s\n"
            f"first sweep: {first['breached']:,} flagged, {first['deferred']:,} left for the next, "
            f"{first['seconds']} s on moto\n"
            f"all flagged by {c['sweeps']} sweeps ({c['seconds_on_moto']} s on moto); sweep CPU "
            f"{c['cpu_ms_per_due_item']} ms per due item ({c['cpu_seconds']} s in all)\n"
            f"requests per due item: {per_item}")


def _cold_start(cs: dict[str, Any]) -> str:
    if "error" in cs:
        return f"\nCOLD START\nFAILED: {cs['error']}"
    rows = [[f, cs[f]["init_ms"], cs[f]["ratio_to_boto3"], cs[f]["modules_imported"], cs[f].get("first_call_ms", "-"),
             ", ".join(f"{n:g} {s}" for s, n in cs[f].get("first_call_clients_created", {}).items()) or "-"]
            for f in cs if isinstance(cs[f], dict)]
    return (f"\nCOLD START - fresh process, median of {cs['samples']}; baseline import boto3 + DynamoDB client = "
            f"{cs['boto3_baseline_ms']} ms\n"
            + _table(["function", "init ms", "x boto3", "modules", "first call ms (moto)", "clients made"], rows))


def _analytics(result: dict[str, Any]) -> str:
    if "error" in result:
        return f"\nANALYTICS\nFAILED: {result['error']}"
    return "\nANALYTICS\n" + analytics.report(result)


def _search(result: dict[str, Any]) -> str:
    if "error" in result:
        return f"\nSEARCH\nFAILED: {result['error']}"
    return "\n" + search.report(result)


def _load(result: dict[str, Any]) -> str:
    if "error" in result:
        return f"\nLOAD\nFAILED: {result['error']}"
    return "\n" + load.report(result)


def _forecast(result: dict[str, Any]) -> str:
    if "error" in result:
        return f"\nFORECAST\nFAILED: {result['error']}"
    return "\n" + forecast.report(result)


def _inbox(inbox: dict[str, Any]) -> str:
    title = "\nLIVE INBOX - a customer's SMS accepted -> the notice on an agent's open WebSocket (local stack)"
    notice = inbox.get("ws_notice_ms")
    if not notice:
        return ""
    if "error" in notice:
        return f"{title}\nFAILED: {notice['error']}"
    return (f"{title}\n{notice['messages']} messages: p50 {notice['p50']} ms, p95 {notice['p95']} ms, "
            f"max {notice['max']} ms (target {notice['target_ms']} ms); frames not naming the message: "
            f"{notice['frames_not_naming_the_inbound_message']}")


def _assignment(a: dict[str, Any]) -> str:
    title = "\nASSIGNMENT - local stack over HTTP: a burst of customers, agents resolving to free seats"
    if "error" in a:
        return f"{title}\nFAILED: {a['error']}"
    rows = [["on arrival (webhook 200 -> seen assigned)", a["assigned_on_arrival"], a["p50_ms"], a["p99_ms"],
             a["server_p50_ms"], a["server_p99_ms"]],
            ["refill (resolve 200 -> seen assigned)", a["refilled"], a["refill_p50_ms"], a["refill_p99_ms"],
             a["server_refill_p50_ms"], a["server_refill_p99_ms"]]]
    answers = ", ".join(f"{n} {s}" for s, n in a["webhook_answers"].items())
    return "\n".join([
        f"{title}\n{a['environment']}",
        f"{a['arrivals']} customers from {a['webhook_threads']} threads, {a['agents']} agents, {a['seats']} seats: "
        f"webhooks {answers} (p50 {a['webhook_p50_ms']} ms, p99 {a['webhook_p99_ms']} ms); "
        f"{a['conversations_created']} conversations",
        _table(["latency", "n", "p50 ms", "p99 ms", "server p50 ms", "server p99 ms"], rows),
        f"assigned at least once: {a['assigned']} in {a['seconds']} s (limit {a['time_limit_seconds']} s"
        f"{', reached' if a['timed_out'] else ''}); resolves {a['resolves']}",
        f"capacity violations: {a['capacity_violations']} over {a['polls']} polls (max active seen "
        f"{a['max_active_seen']}); inboxes over capacity: {a['inbox_over_capacity']}, conversations in two "
        f"inboxes: {a['double_inbox']} over {a['inbox_checks']} checks; active drift at the end: "
        f"{a['final_active_drift'] or 'none'}; poll p50 {a['poll_p50_ms']} ms"])


def _detection(d: dict[str, Any]) -> str:
    title = "\nSLA DETECTION - local stack, clock moved 20 s a step, sweep once a simulated minute"
    if "error" in d:
        return f"{title}\nFAILED: {d['error']}"
    return (f"{title}\n{d['flagged']} of {d['conversations']} deadlines flagged by {d['sweeps']} sweeps "
            f"({d['sweep_spacing_s_min']}-{d['sweep_spacing_s_max']} simulated s apart): delay max "
            f"{d['detection_delay_s']} s, median {d['median_delay_s']} s, min {d['min_delay_s']} s "
            f"(expected: {d['expected']})")


if __name__ == "__main__":
    main()
