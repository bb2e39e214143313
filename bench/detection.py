"""SLA breach detection delay, end to end on the local stack with its clock moved.

50 customers write one after another while the clock moves 7 s between them, so their first-response
deadlines (``sla.first_response_due_at``, 4 h for normal priority) fall at 50 different instants,
spread over every phase of a minute. Nobody is online, so nobody answers. The clock then steps
forward 20 s at a time past every deadline, and on every third step (once per simulated minute) the
SLA sweep runs (``POST /_local/schedules/SlaSweepFunction/run``) and the conversations' breach flags
(``sla.breaches``) are read. A conversation's detection delay is the simulated time of the sweep that
first showed its breach minus its deadline.

This measures the sweep's cadence: with a sweep every minute the delay is uniform in [0, 60) s, so
the expected maximum is just under 60 s and the median about 30 s.

The stack runs a copy of ``template.yaml`` whose sweep schedule is disabled (``State: DISABLED``):
the local stack fires ``rate(1 minute)`` on real time, which would sweep at arbitrary simulated
instants between the benchmark's own runs. Nothing else in the copy differs (code paths are made
absolute). The steps aim at exact simulated instants, so the sweeps are 60 simulated seconds apart
however long each request takes; the sweep time is the ``detected_at`` of its ``SlaBreached`` events
(the instant the sweep read its clock), or the stack's clock just before the run if it flagged none.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any

from bench.assignment import ADMIN, ENVIRONMENT, SHOP_NUMBER, LocalStack, local_stack, parse_time
from bench.harness import ROOT, twilio_form, use_layer

SWEEP = "SlaSweepFunction"
LISTING = "/agent/conversations?view=all&status=open&limit=100"


def sweepless_template(directory: Path) -> Path:
    """template.yaml with the SLA sweep's schedule disabled, written to ``directory``."""
    lines = (ROOT / "template.yaml").read_text(encoding="utf-8").splitlines()
    out: list[str] = []
    in_sweep = disabled = False
    for line in lines:
        code = re.match(r"^(\s*(?:CodeUri|ContentUri):\s*)([^\s!#'\"]\S*)\s*$", line)
        if code and not code.group(2).startswith("/"):
            line = code.group(1) + json.dumps((ROOT / code.group(2)).as_posix())
        if re.match(r"^  \S", line):                  # a new resource (two-space indent)
            in_sweep = line.strip() == f"{SWEEP}:"
        out.append(line)
        schedule = re.match(r"^(\s+)ScheduleExpression:", line)
        if in_sweep and schedule and not disabled:
            out.append(f"{schedule.group(1)}State: DISABLED")
            disabled = True
    if not disabled:
        raise RuntimeError(f"no ScheduleExpression found under {SWEEP} in template.yaml")
    path = directory / "template.yaml"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


def sim_now(stack: LocalStack) -> float:
    """The stack's clock now (epoch seconds): real time plus its offset, on the same machine."""
    return time.time() + stack.clock()["offset_seconds"]


def advance_to(stack: LocalStack, target: float) -> float:
    """Move the clock so that it reads ``target`` (epoch seconds) now; returns the offset."""
    offset = stack.clock()["offset_seconds"]
    return stack.clock(max(0.0, target - (time.time() + offset)))["offset_seconds"]


def breached(stack: LocalStack, token: str) -> tuple[dict[str, tuple[float, float | None]], set[str]]:
    """(conversation -> (first-response due, warning), epoch s) and the conversations flagged first_response."""
    due: dict[str, tuple[float, float | None]] = {}
    flagged: set[str] = set()
    for items, _ in stack.pages(LISTING, token):
        for conv in items:
            sla = conv.get("sla") or {}
            if sla.get("first_response_due_at"):
                warn = ((sla.get("deadlines") or {}).get("first_response") or {}).get("warn_at")
                due[conv["id"]] = (parse_time(sla["first_response_due_at"]).timestamp(),
                                   parse_time(warn).timestamp() if warn else None)
            if "first_response" in (sla.get("breaches") or []):
                flagged.add(conv["id"])
    return due, flagged


def run(conversations: int = 30, spacing: float = 13.0, step: float = 20.0, steps_per_sweep: int = 3
        ) -> dict[str, Any]:
    use_layer()
    period = step * steps_per_sweep
    started = time.perf_counter()
    quiet = {"SEED_AGENTS": "", "SANDBOX_STATUS_CALLBACKS": "0"}      # nobody online; no delivery callbacks
    with tempfile.TemporaryDirectory(prefix="shopdesk-bench-template-") as workdir, \
            local_stack(quiet, template=sweepless_template(Path(workdir))) as stack:
        token = stack.token(ADMIN)
        stack.run_schedule(SWEEP)               # warm the sweep's worker: its cold start is not the cadence
        background_before = stack.log_count(f"{SWEEP}.EveryMinute fired")

        # 1. customers write at different clock offsets
        non_200 = 0
        for i in range(conversations):
            form = twilio_form(MessageSid=f"SM{0x5000 + i:032x}", From=f"+1415700{i:04d}", To=SHOP_NUMBER,
                               Body=f"Is anyone there? Order #{2000 + i}")
            non_200 += stack.send_twilio(form).status != 200
            if i < conversations - 1:
                stack.clock(spacing)
        written_s = time.perf_counter() - started
        waited_until = time.monotonic() + 60      # the router sets the clocks, asynchronously
        due, _ = breached(stack, token)
        while len(due) < conversations and time.monotonic() < waited_until:
            time.sleep(0.25)
            due, _ = breached(stack, token)
        if len(due) < conversations:
            raise RuntimeError(f"{len(due)} of {conversations} conversations have a first-response deadline")
        warnings = sorted(w for _, w in due.values() if w is not None)

        # 2. the warnings (80% of the target) first, a minute at a time as the timer would send them, so
        # no sweep meets every warning at once (on the unpatched local stack that outlasts the layer's
        # 10 s read timeout). Not measured.
        warning_sweeps = 0
        if warnings:
            moment = warnings[0] + period
            while moment <= warnings[-1] + period:
                advance_to(stack, moment)
                stack.run_schedule(SWEEP)
                warning_sweeps += 1
                moment += period

        # 3. 20 s steps from just before the first deadline; a sweep on every third step
        due_at = {c: d for c, (d, _) in due.items()}
        first, last = min(due_at.values()), max(due_at.values())
        origin = first - period / 2
        advance_to(stack, origin)
        sweeps: list[dict[str, Any]] = []
        shown_by: dict[str, int] = {}           # conversation -> index of the sweep that first showed it
        k = 0
        while True:
            before, began = sim_now(stack), time.perf_counter()
            report = stack.run_schedule(SWEEP)
            took, after = time.perf_counter() - began, sim_now(stack)
            _, flagged = breached(stack, token)
            for conversation_id in flagged - shown_by.keys():
                shown_by[conversation_id] = k
            sweeps.append({"before": before, "after": after, "breached": report.get("breached", 0), "real_s": took})
            k += 1
            if len(shown_by) >= len(due) or origin + k * period > last + 2 * period:
                break
            for j in range(1, steps_per_sweep + 1):
                advance_to(stack, origin + (k - 1) * period + j * step)
        background = stack.log_count(f"{SWEEP}.EveryMinute fired") - background_before
        timer_disabled = stack.log_count(f"{SWEEP}.EveryMinute is disabled") > 0

        # 4. each sweep's own clock reading, from its SlaBreached events
        def detection_times() -> dict[str, float]:
            items = stack.ok(stack.get("/_local/events"), "GET /_local/events")["items"]
            return {e["detail"]["conversation_id"]: parse_time(e["detail"]["detected_at"]).timestamp()
                    for e in items if e.get("detail-type") == "SlaBreached"
                    and e.get("detail", {}).get("target") == "first_response"}

        deadline = time.monotonic() + 10
        detected = detection_times()
        while len(detected) < len(shown_by) and time.monotonic() < deadline:
            time.sleep(0.2)
            detected = detection_times()

    sweep_time: dict[int, float] = {}
    for conversation_id, index in shown_by.items():
        if conversation_id in detected and sweeps[index]["before"] - 1 <= detected[conversation_id] \
                <= sweeps[index]["after"] + 1:
            sweep_time.setdefault(index, detected[conversation_id])
    delays = sorted(sweep_time.get(i, sweeps[i]["before"]) - due_at[c] for c, i in shown_by.items())
    spacing_s = [sweep_time.get(i, s["before"]) - sweep_time.get(i - 1, sweeps[i - 1]["before"])
                 for i, s in enumerate(sweeps) if i]
    return {
        "environment": ENVIRONMENT,
        "conversations": conversations, "webhooks_non_200": non_200,
        "deadline_spacing_s": spacing, "deadlines_span_s": round(last - first, 1),
        "clock_step_s": step, "sweep_every_simulated_s": period,
        "warning_sweeps_before": warning_sweeps, "sweeps": len(sweeps),
        "sweep_real_s_max": round(max(s["real_s"] for s in sweeps), 2),
        "sweep_spacing_s_min": round(min(spacing_s), 3) if spacing_s else None,
        "sweep_spacing_s_max": round(max(spacing_s), 3) if spacing_s else None,
        "flagged": len(shown_by), "not_flagged": len(due) - len(shown_by),
        "breached_by_sweeps": sum(s["breached"] for s in sweeps),
        "detection_delay_s": round(max(delays), 3) if delays else None,
        "median_delay_s": round(median(delays), 3) if delays else None,
        "min_delay_s": round(min(delays), 3) if delays else None,
        "flagged_before_deadline": sum(1 for d in delays if d < 0),
        "sweep_times_from_events": len(sweep_time),
        "expected": f"max just under {period:g} s, median about {period / 2:g} s: the sweep runs once a minute",
        "scheduled_timer": "disabled in a copy of template.yaml" if timer_disabled else "NOT confirmed disabled",
        "background_sweeps_during_run": background,
        "customers_written_after_s": round(written_s, 1),
        "seconds": round(time.perf_counter() - started, 1),
    }
