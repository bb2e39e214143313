"""Forecast figures: the volume model's MASE by backtest against seasonal naive, on generated shop traffic;
how well the breach-risk probabilities are calibrated on a simulated queue; and the forecast package's size.

The traffic (``traffic``): 20 weeks of hourly conversation counts for four channels, from a seeded
generator that does what shops' traffic does and the model knows nothing of: a daily curve with a late
morning and an evening peak that differ by channel, weekdays busier than weekends, steady growth or
decline per channel, promotion days (one to three a month, 1.4x to 2.2x), a public holiday at a third of
normal, and Poisson noise on top. The backtest forecasts 14 days from 28 daily origins over the last 6
weeks (``volume.backtest``); MASE is scaled by the in-sample error of repeating last week.

The calibration (``calibration``): an M/M/N queue simulated event by event (agents' slots, exponential
holding times and reply delays, Poisson arrivals at 90 % load); at each arrival, the predicted chance of
breaching a 15-minute target is compared with what then happened: Brier score, and predicted vs
observed share per decile of prediction.

    python -m bench.forecast        writes the "forecast" key of bench/results.json
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import time
from pathlib import Path
from typing import Any

from bench.harness import LAYER, save_result, use_layer

HERE = Path(__file__).resolve().parent
WEEK = 168
CHANNELS = {  # name: (mean per hour on a weekday, morning peak hour, evening peak hour, growth per week)
    "whatsapp": (14.0, 11, 20, 0.015),
    "email": (9.0, 10, 15, -0.005),
    "webchat": (6.0, 12, 21, 0.02),
    "instagram": (3.0, 13, 22, 0.01),
}


def _poisson(rng: random.Random, mean: float) -> int:
    if mean > 30:                                       # normal approximation, well inside its accuracy here
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def traffic(channel: str, weeks: int = 20, seed: int = 2026) -> list[int]:
    base, morning, evening, growth = CHANNELS[channel]
    rng = random.Random(f"{seed}-{channel}")
    days = weeks * 7
    promotions = {d: rng.uniform(1.4, 2.2) for d in rng.sample(range(days), k=max(1, days // 15))}
    holiday = rng.randrange(days // 2, days)
    counts: list[int] = []
    for hour in range(weeks * WEEK):
        day, hod = divmod(hour, 24)
        weekday = day % 7
        curve = 0.08 + math.exp(-((hod - morning) ** 2) / 7) + 0.8 * math.exp(-((hod - evening) ** 2) / 5)
        weekly = (1.1, 1.0, 1.0, 0.95, 0.9, 0.6, 0.55)[weekday]
        trend = (1 + growth) ** (hour / WEEK)
        factor = promotions.get(day, 1.0) * (0.33 if day == holiday else 1.0)
        counts.append(_poisson(rng, base * curve * weekly * trend * factor))
    return counts


def volume_figures() -> dict[str, Any]:
    from shopdesk.forecast import volume
    by_channel: dict[str, Any] = {}
    for channel in CHANNELS:
        history = traffic(channel)
        started = time.perf_counter()
        result = volume.backtest(history, horizon=14 * 24, origins=28, step=24)
        by_channel[channel] = {"mase": round(result.mase, 3), "naive_mase": round(result.naive_mase, 3),
                               "mae": round(result.mae, 2), "naive_mae": round(result.naive_mae, 2),
                               "beats_naive": result.beats_naive, "origins": result.origins,
                               "backtest_ms": round((time.perf_counter() - started) * 1000, 1)}
    mase = sum(c["mase"] for c in by_channel.values()) / len(by_channel)
    naive = sum(c["naive_mase"] for c in by_channel.values()) / len(by_channel)
    return {"mase": round(mase, 3), "naive_mase": round(naive, 3),
            "beats_naive": all(c["beats_naive"] for c in by_channel.values()),
            "horizon_days": 14, "history_weeks": 20, "by_channel": by_channel}


def calibration(arrivals: int = 20_000, agents: int = 4, concurrency: int = 3, slot_seconds: float = 1800,
                reply_seconds: float = 90, target_seconds: float = 900, load: float = 0.9,
                seed: int = 11) -> dict[str, Any]:
    """Simulate a first-come-first-served queue of slots and score the breach predictions made at arrival."""
    from shopdesk.forecast.risk import QueueState, breach_probability
    rng = random.Random(seed)
    slots = agents * concurrency
    rate = load * slots / slot_seconds                 # arrivals per second
    free_at: list[float] = [0.0] * slots               # when each slot frees (heap)
    heapq.heapify(free_at)
    now = 0.0
    predictions: list[tuple[float, bool]] = []
    waiting_until: list[float] = []                    # start times of those queued ahead (FIFO)
    for _ in range(arrivals):
        now += rng.expovariate(rate)
        waiting_until = [s for s in waiting_until if s > now]
        free_now = sum(1 for t in free_at if t <= now)
        state = QueueState(ahead=len(waiting_until), free_slots=free_now, busy_slots=slots - free_now,
                           slot_seconds=slot_seconds, reply_after_assignment_seconds=reply_seconds)
        predicted = breach_probability(state, target_seconds)
        start = max(now, heapq.heappop(free_at))
        heapq.heappush(free_at, start + rng.expovariate(1 / slot_seconds))
        if start > now:
            waiting_until.append(start)
        answered = start + rng.expovariate(1 / reply_seconds)
        predictions.append((predicted, answered - now > target_seconds))
    brier = sum((p - float(b)) ** 2 for p, b in predictions) / len(predictions)
    base_rate = sum(b for _, b in predictions) / len(predictions)
    deciles = []
    for low in range(10):
        bucket = [(p, b) for p, b in predictions if low / 10 <= p < (low + 1) / 10 or (low == 9 and p == 1.0)]
        if len(bucket) >= 50:
            deciles.append({"predicted": round(sum(p for p, _ in bucket) / len(bucket), 3),
                            "observed": round(sum(b for _, b in bucket) / len(bucket), 3), "n": len(bucket)})
    return {"arrivals": arrivals, "slots": slots, "load": load, "target_s": target_seconds,
            "brier": round(brier, 4), "brier_of_base_rate": round(base_rate * (1 - base_rate), 4),
            "breach_rate": round(base_rate, 4), "deciles": deciles}


def package_kb() -> float:
    package = LAYER / "shopdesk" / "forecast"
    return round(sum(p.stat().st_size for p in package.glob("*.py")) / 1024, 1)


def run() -> dict[str, Any]:
    use_layer()
    return {**volume_figures(), "risk_calibration": calibration(), "package_kb": package_kb()}


def report(result: dict[str, Any]) -> str:
    lines = [f"forecast: MASE {result['mase']} vs seasonal naive {result['naive_mase']} "
             f"({'beats' if result['beats_naive'] else 'does NOT beat'} naive on every channel), "
             f"14 days ahead, 28 origins"]
    for channel, figures in result["by_channel"].items():
        lines.append(f"  {channel:<10} MASE {figures['mase']:>6}  naive {figures['naive_mase']:>6}  "
                     f"MAE {figures['mae']:>6} vs {figures['naive_mae']:>6}")
    cal = result["risk_calibration"]
    lines.append(f"breach risk: Brier {cal['brier']} (always guessing the base rate: {cal['brier_of_base_rate']}), "
                 f"{cal['arrivals']:,} simulated arrivals at {cal['load']:.0%} load, breach rate {cal['breach_rate']}")
    for d in cal["deciles"]:
        lines.append(f"  predicted {d['predicted']:>5}  observed {d['observed']:>5}  (n={d['n']})")
    lines.append(f"package: {result['package_kb']} KB of Python, no dependencies")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.forecast", description=__doc__.splitlines()[0])
    parser.parse_args()
    result = run()
    print(report(result))
    save_result("forecast", result)


if __name__ == "__main__":
    main()
