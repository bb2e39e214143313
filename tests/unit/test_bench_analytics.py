"""bench.analytics's synthetic lake still fits the lake's columns, and its every statement runs on it, for the desk
and for one team (the figure ``make bench`` prints; it once fell behind a column the events gained)."""

from __future__ import annotations

from bench.analytics import report_ms


def test_the_synthetic_lake_fills_every_column_and_every_report_runs_on_it():
    result = report_ms(events=5_000, conversations=200, repeats=1)
    assert result["events"] == 5_000
    assert result["queries"] > 100 and result["p50_ms"] > 0
    supervisor = result["supervisor"]
    assert supervisor["queries"] > 50 and supervisor["team"]["p50_ms"] > 0 and supervisor["desk"]["p50_ms"] > 0
