"""schemathesis against every published OpenAPI document (agent, admin, widget, reports) on a local stack.

Each document is fuzzed by schemathesis' own runner (all its phases: examples, coverage, fuzzing, stateful) with
the checks that say an API keeps its word: no server error, and every answer's status code, content type and body
as the document declares them. The agent, admin and reports documents are fuzzed once with an agent's token (bob)
and once with an admin's (alice); the widget's with a fresh visitor session per case (see ``api_fuzz_hooks``).

``make test`` runs a few examples per operation with a fixed seed (tests/e2e/test_api_contracts.py);
``make fuzz-api`` runs many more and records the figures:

    make fuzz-api [EXAMPLES=50] [ARGS='--seed N']
    PYTHONPATH=layers/shopdesk:. python -m tests.e2e.api_fuzz [--examples 50] [--seed N] [--results bench/results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.e2e.conftest import REPO, StackClient, launch_stack, stop_stack

from local.settings import secret_values
from shopdesk.channels import twilio

CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance", "response_schema_conformance")
WIDGET_ORIGIN = "http://localhost:8080"       # one of the local stack's WidgetAllowedOrigins
LOCAL_TWILIO_AUTH_TOKEN = "fake-twilio-auth-token"   # the local stack's documented fake default
AGENT, ADMIN = "bob", "alice"                 # the local stack's demo agents: bob an agent, alice an admin


@dataclass(frozen=True)
class Target:
    api: str
    document: str
    caller: str | None           # the agent whose token is sent; None: the widget (a visitor session per case)

    @property
    def label(self) -> str:
        return f"{self.api} as {self.caller or 'a visitor'}"


TARGETS = (Target("agent", "/agent/openapi.json", AGENT), Target("agent", "/agent/openapi.json", ADMIN),
           Target("admin", "/admin/openapi.json", AGENT), Target("admin", "/admin/openapi.json", ADMIN),
           Target("widget", "/widget/openapi.json", None),
           Target("reports", "/reports/openapi.json", AGENT), Target("reports", "/reports/openapi.json", ADMIN))


@dataclass
class Outcome:
    target: Target
    cases: int
    failed_cases: int
    failures: list[str] = field(default_factory=list)     # "<code> <title>: <operations>"
    errors: list[str] = field(default_factory=list)       # schemathesis could not run something
    output: str = ""                                       # schemathesis' own report, for a failing test

    @property
    def clean(self) -> bool:
        return self.failed_cases == 0 and not self.failures and not self.errors and self.cases > 0


def seed_conversations(client: StackClient, count: int = 2) -> list[str]:
    """Conversations for the fuzzer to act on (customers writing by SMS), so it reaches past 404."""
    sent = []
    for i in range(count):
        phone = f"+3161239{i:04d}"
        body = (f"MessageSid=SM{'f' * 26}{i:06d}&From={phone.replace('+', '%2B')}&To=%2B14155550199"
                f"&Body=fuzz+me+{i}&NumMedia=0")
        signature = twilio.sign(client.url + "/webhooks/twilio", twilio.parse_form(body), LOCAL_TWILIO_AUTH_TOKEN)
        answer = client.post("/webhooks/twilio", data=body, headers={
            "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})
        assert answer.status == 200, answer.text
        sent.append(phone)

    def listed() -> list[str]:
        items = client.get("/agent/conversations?view=all&limit=100", token=client.token(ADMIN)).json()["items"]
        mine = [c["id"] for c in items if {i["address"] for i in c["customer"]["identities"]} & set(sent)]
        return mine if len(mine) == count else []

    return list(client.wait_for(listed))


def fuzz_all(client: StackClient, plan: dict[Target, str | None], *, examples: int, seed: int, workdir: Path,
             conversations: list[str], parallel: int = 3) -> dict[Target, Outcome]:
    """Several runs at once: each API is its own function on the stack, so they do not wait for each other."""
    for target in plan:
        if target.caller:
            client.token(target.caller)           # fetched once, before the threads share the client
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        futures = {target: pool.submit(fuzz, client, target, examples=examples, seed=seed, workdir=workdir,
                                       conversations=conversations, phases=phases)
                   for target, phases in plan.items()}
        return {target: future.result() for target, future in futures.items()}


def fuzz(client: StackClient, target: Target, *, examples: int, seed: int, workdir: Path,
         conversations: list[str], phases: str | None = None) -> Outcome:
    """One schemathesis run of one document as one caller (``phases``: all by default); the outcome from its JSON
    report. One worker: schemathesis' own threads share generation caches that are not safe to share."""
    scratch = workdir / f"{target.api}-{target.caller or 'visitor'}"
    scratch.mkdir(parents=True, exist_ok=True)
    report = scratch / "report.json"
    command = [sys.executable, "-m", "schemathesis.cli", "run", client.url + target.document,
               "--checks", ",".join(CHECKS), "--seed", str(seed), "--max-examples", str(examples),
               "--workers", "1", "--generation-database", "none", "--no-color",
               "--report", "json", "--report-json-path", str(report)]
    if phases:
        command += ["--phases", phases]
    if target.caller:
        command += ["--header", f"Authorization: Bearer {client.token(target.caller)}"]
    else:
        command += ["--header", f"Origin: {WIDGET_ORIGIN}"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "layers" / "shopdesk")]),
           "SCHEMATHESIS_HOOKS": "tests.e2e.api_fuzz_hooks", "SHOPDESK_FUZZ_BASE_URL": client.url,
           "SHOPDESK_FUZZ_ORIGIN": WIDGET_ORIGIN, "SHOPDESK_FUZZ_CONVERSATIONS": ",".join(conversations),
           "SHOPDESK_FUZZ_VISITOR_SECRET": (secret_values("WebchatSecret") or {})["visitor_secret"]}
    run = subprocess.run(command, cwd=scratch, env=env, capture_output=True, text=True, timeout=3600)
    output = run.stdout + run.stderr
    if not report.exists():
        return Outcome(target, 0, 0, errors=[f"schemathesis exited {run.returncode} without a report"], output=output)
    data = json.loads(report.read_text(encoding="utf-8"))
    cases = data["test_cases"]
    failures = [f"{f['code']} {f['title']}: {', '.join(f['operations'])}" for f in data.get("failures", [])]
    errors = [json.dumps(e)[:500] for e in data.get("errors", [])]
    return Outcome(target, int(cases["generated"]), int(cases["with_failures"]), failures, errors, output)


# ---------------------------------------------------------------------------------------------- make fuzz-api

def record(outcomes: list[Outcome], examples: int, seed: int, seconds: float, results: Path, readme: Path) -> None:
    """Write this run's figures into ``fuzz`` of bench/results.json (only our keys) and the README's table."""
    cases = sum(o.cases for o in outcomes)
    failed = sum(o.failed_cases + len(o.errors) for o in outcomes)
    data: dict[str, Any] = json.loads(results.read_text(encoding="utf-8")) if results.exists() else {}
    data.setdefault("fuzz", {}).update({
        "api_cases": cases, "api_failures": failed,
        "api_run": {"examples_per_operation": examples, "seed": seed, "seconds": round(seconds, 1),
                    "runs": {o.target.label: {"cases": o.cases, "failed_cases": o.failed_cases,
                                              "failures": o.failures, "errors": o.errors} for o in outcomes}}})
    results.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    row = (f"| `fuzz.api_cases` / `fuzz.api_failures` | {cases:,} / {failed} (schemathesis, {examples} examples per "
           f"operation and phase, seed {seed}, {seconds:.0f} s: agent, admin and reports documents as an agent and "
           f"as an admin, the widget's as visitors) | failures 0 |")
    text = readme.read_text(encoding="utf-8")
    pattern = re.compile(r"^\| `fuzz\.api_cases` / `fuzz\.api_failures` \|.*$", re.MULTILINE)
    if pattern.search(text):
        readme.write_text(pattern.sub(lambda _: row, text), encoding="utf-8")
    else:
        print(f"README.md has no fuzz.api row; add it to the figures table:\n{row}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.e2e.api_fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=50, help="examples per operation and phase")
    parser.add_argument("--seed", type=int, default=int(time.time()) % 100_000)
    parser.add_argument("--results", type=Path, default=REPO / "bench" / "results.json")
    parser.add_argument("--readme", type=Path, default=REPO / "README.md")
    parser.add_argument("--api", action="append", choices=sorted({t.api for t in TARGETS}),
                        help="only these documents (repeatable); the figures are recorded only for a full run")
    args = parser.parse_args()
    targets = [t for t in TARGETS if not args.api or t.api in args.api]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fuzz-api-") as scratch:
        workdir = Path(scratch)
        client = launch_stack(REPO / "template.yaml", workdir)
        try:
            conversations = seed_conversations(client)
            print(f"fuzzing {', '.join(t.label for t in targets)} on {client.url} ...", flush=True)
            outcomes = list(fuzz_all(client, dict.fromkeys(targets), examples=args.examples, seed=args.seed,
                                     workdir=workdir, conversations=conversations).values())
            for outcome in outcomes:
                print(f"{outcome.target.label}: {outcome.cases} cases, {outcome.failed_cases} failed", flush=True)
                for line in outcome.failures + outcome.errors:
                    print(f"  {line}", flush=True)
                if not outcome.clean:
                    print(outcome.output[-20000:], flush=True)
        finally:
            stop_stack(client)
    if not args.api:
        record(outcomes, args.examples, args.seed, time.perf_counter() - started, args.results, args.readme)
    failed = sum(o.failed_cases + len(o.errors) for o in outcomes)
    print(f"fuzz.api_cases {sum(o.cases for o in outcomes)}, fuzz.api_failures {failed}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
