"""``make fuzz-webhooks``: the webhook property tests with many more examples, then the figures.

Runs tests/integration/test_webhook_fuzz.py under the ``fuzz`` Hypothesis profile (random, 350
examples per test unless FUZZ_EXAMPLES says otherwise), counts every mutated request tried and every
crash (an exception or a 5xx), and writes ``fuzz.webhook_mutants`` and ``fuzz.webhook_crashes`` into
bench/results.json and the README's figures table. Only those keys are read, changed and written
back: other ``fuzz.*`` figures and the benchmarks' figures stay as they are.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.json"
README = ROOT / "README.md"
TESTS = "tests/integration/test_webhook_fuzz.py"
TABLE_HEADER = "| figure | value | target / meaning |"


def run(examples: int | None = None) -> tuple[dict[str, int], int]:
    """Run the property tests under the fuzz profile; (counts, pytest's exit code)."""
    with tempfile.TemporaryDirectory() as folder:
        stats = Path(folder) / "stats.json"
        env = {**os.environ, "HYPOTHESIS_PROFILE": "fuzz", "FUZZ_STATS": str(stats)}
        if examples:
            env["FUZZ_EXAMPLES"] = str(examples)
        code = subprocess.call([sys.executable, "-m", "pytest", TESTS, "-q", "-p", "no:cacheprovider"],
                               cwd=ROOT, env=env)
        counts = json.loads(stats.read_text()) if stats.exists() else {"mutants": 0, "crashes": 0}
    return counts, code


def write_results(figures: dict[str, Any], path: Path = RESULTS) -> None:
    """Read-modify-write: only the given keys of ``fuzz`` change."""
    results = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    results.setdefault("fuzz", {}).update(figures)
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


def write_readme(rows: dict[str, str], path: Path = README) -> None:
    """Replace (or append to the figures table) one row per figure name."""
    lines = path.read_text(encoding="utf-8").split("\n")
    start = lines.index(TABLE_HEADER)
    end = start + 2
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    for name, row in rows.items():
        found = next((i for i in range(start + 2, end) if re.match(rf"\| `{re.escape(name)}` ", lines[i])), None)
        if found is None:
            lines.insert(end, row)
            end += 1
        else:
            lines[found] = row
    path.write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    counts, code = run()
    figures = {"webhook_mutants": counts["mutants"], "webhook_crashes": counts["crashes"]}
    write_results(figures)
    per_test = os.environ.get("FUZZ_EXAMPLES", "350")
    write_readme({
        "fuzz.webhook_mutants": f"| `fuzz.webhook_mutants` | {counts['mutants']:,} signed, mutated requests "
                                f"(`make fuzz`, {per_test} examples per webhook test) | every sample of every "
                                "webhook, with wrong types, nulls, missing keys, huge strings and arrays, deep "
                                "nesting, odd unicode |",
        "fuzz.webhook_crashes": f"| `fuzz.webhook_crashes` | {counts['crashes']} | 0: no exception and no 5xx "
                                "for any signed request |",
    })
    print(f"fuzz.webhook_mutants = {counts['mutants']}, fuzz.webhook_crashes = {counts['crashes']} "
          f"(written to bench/results.json and README.md)")
    if code or counts["crashes"]:
        sys.exit("webhook fuzzing found crashes: see the failures above")


if __name__ == "__main__":
    main()
