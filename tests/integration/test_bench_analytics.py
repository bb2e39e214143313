"""bench.analytics still runs (it once fell behind a column the events gained, and once read the knowledge base's
binary items the writer never receives): its played scenario, and its synthetic lake with every statement on it, for
the desk and for one team."""

from __future__ import annotations

from bench.analytics import report_ms

from tests.support import bench_in_own_process


def test_the_played_scenario_counts_the_events_the_writer_derives():
    # in a process of its own: the bench points the layer's clients at a moto server it stops afterwards
    result = bench_in_own_process("bench.analytics.events_per_message(2)", timeout=300)
    assert result["inbound_messages"] > 0 and result["events"] > result["inbound_messages"]
    assert result["by_type"]["conversation_opened"] == 2


def test_the_synthetic_lake_fills_every_column_and_every_report_runs_on_it():
    result = report_ms(events=5_000, conversations=200, repeats=1)
    assert result["events"] == 5_000
    assert result["queries"] > 100 and result["p50_ms"] > 0
    supervisor = result["supervisor"]
    assert supervisor["queries"] > 50 and supervisor["team"]["p50_ms"] > 0 and supervisor["desk"]["p50_ms"] > 0
