"""Cold start of every function relative to the cheapest useful Lambda: ``import boto3`` + one client.

Each sample is a fresh interpreter (bench/probe.py) given only the function's environment from
template.yaml and fake credentials. ``init_ms`` times the import of functions/<name>/app.py (its
module-level settings, Logger, resolver and repositories included); ``first_call_ms`` then times its
first invocation against moto, which is where the lazily created boto3 clients are paid for.
Samples are interleaved (one of each target per round) after one discarded warm-up round.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from statistics import median
from typing import Any

from bench.harness import (
    FAKE_AWS_ENV,
    FUNCTIONS,
    ROOT,
    create_stack,
    http_event,
    scheduled_event,
    signed_twilio_event,
    sqs_event,
    twilio_form,
)

PROBE = Path(__file__).with_name("probe.py")


def first_event(function: str, sample: int) -> dict[str, Any] | None:
    """A cheap, realistic first invocation, for the functions that have one here (else None: import only)."""
    if function == "inbound_twilio":       # a new customer's SMS: secret, GetItem, transaction, SendMessage
        sid = "SM" + uuid.uuid4().hex
        return signed_twilio_event("/webhooks/twilio", twilio_form(
            MessageSid=sid, SmsMessageSid=sid, SmsSid=sid, From=f"+1404555{sample:04d}", To="+14155550100",
            Body="Hello"))
    if function == "agent_api":            # an agent opens the inbox: GET /agent/me (creates the agent)
        return http_event("GET", "/agent/me", claims={"cognito:username": f"agent{sample}", "name": "Agent"})
    if function == "router":               # a drain request: Pool query, nobody online
        return sqs_event([{"kind": "drain", "team": "default", "reason": "probe"}], group="drain#default")
    if function == "dispatcher":           # a reply record whose message is gone: one GetItem, no provider call
        return sqs_event([{"conversation_id": "c_probe", "message_id": "m_probe",
                           "message_sk": "MSG#2026-11-22T22:00:00.000Z#m_probe"}], group="c_probe")
    if function == "sla_sweep":            # a scheduled sweep: 16 shard queries, one SendMessage
        return scheduled_event()
    return None


def _probe(target: str, env: dict[str, str], event: dict[str, Any] | None, workdir: Path) -> dict[str, Any]:
    args = [sys.executable, str(PROBE), target]
    if event is not None:
        event_file = workdir / f"{target}-{uuid.uuid4().hex}.json"
        event_file.write_text(json.dumps(event))
        args.append(str(event_file))
    base = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "SYSTEMROOT") if name in os.environ}
    done = subprocess.run(args, env={**base, **env}, cwd=ROOT, capture_output=True, text=True, timeout=120,
                          check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"probe {target} failed ({done.returncode}): {done.stderr[-2000:]}")
    return json.loads(lines[-1])     # handlers may log JSON lines before it


def _median_counts(samples: list[dict[str, int]]) -> dict[str, float]:
    services = sorted({service for sample in samples for service in sample})
    return {service: median(sample.get(service, 0) for sample in samples) for service in services}


def run(endpoint: str, samples: int) -> dict[str, Any]:
    stack = create_stack(endpoint)
    envs: dict[str, dict[str, str]] = {"boto3": dict(FAKE_AWS_ENV)}
    with tempfile.TemporaryDirectory(prefix="shopdesk-bench-") as tmp:
        for function in FUNCTIONS:
            envs[function] = {**FAKE_AWS_ENV, **stack.env(function), "AWS_ENDPOINT_URL": endpoint}
            if envs[function].get("SEARCH_ENGINE") == "none":
                # the search indexer exists only with search on (template: SearchOn); timed with the local index
                envs[function] |= {"SEARCH_ENGINE": "sqlite", "SEARCH_INDEX_PATH": str(Path(tmp) / "search.sqlite3")}
        seen: dict[str, list[dict[str, Any]]] = {target: [] for target in envs}
        for round_ in range(samples + 1):             # round 0 warms the file system and bytecode caches
            for target, env in envs.items():
                event = None if target == "boto3" else first_event(target, round_)
                result = _probe(target, env, event, Path(tmp))
                if round_:
                    seen[target].append(result)

    baseline = median(r["init_ms"] for r in seen["boto3"])
    out: dict[str, Any] = {"samples": samples, "boto3_baseline_ms": round(baseline, 1),
                           "boto3_baseline_samples": [round(r["init_ms"], 1) for r in seen["boto3"]],
                           "boto3_baseline_modules_imported": seen["boto3"][0]["modules"]}
    for function in FUNCTIONS:
        results = seen[function]
        init = median(r["init_ms"] for r in results)
        out[function] = {
            "init_ms": round(init, 1), "ratio_to_boto3": round(init / baseline, 2),
            "init_ms_samples": [round(r["init_ms"], 1) for r in results],
            "modules_imported": results[0]["modules"],
        }
        if "first_call_ms" in results[0]:
            out[function].update({
                "first_call_ms": round(median(r["first_call_ms"] for r in results), 1),
                "first_call_result": results[0]["first_call_result"],
                "first_call_clients_created": _median_counts([r["first_call_clients"] for r in results]),
            })
    out["first_call_note"] = "first invocation against moto on this machine, including the boto3 clients it creates"
    return out
