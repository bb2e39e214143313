"""Concurrent load per agent (analytics/sql.py, CONCURRENT_LOAD): the conversations an agent holds (assigned and
open) over each day or hour, time-weighted, with the maximum; checked on hand-made events on DuckDB, and as Trino."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlglot

from shopdesk.analytics.duckdb_lake import DuckDbLake
from shopdesk.analytics.events import Event
from shopdesk.analytics.sql import Period, buckets, concurrent_load, to_trino

N = 0


def _ev(kind: str, conv: str, at: str, to: str | None = None, before: str | None = None) -> Event:
    global N
    N += 1
    moment = datetime.fromisoformat(at + "+00:00")
    return Event(event_id=f"e{N}", type=kind, occurred_at=at, at_ms=int(moment.timestamp() * 1000),
                 day=moment.date().isoformat(), conversation_id=conv, to_value=to, from_value=before)


@pytest.fixture(scope="module")
def lake():
    lake = DuckDbLake()
    lake.add([
        # before the period: carol holds C from the 10th on
        _ev("conversation_opened", "C", "2026-11-10T19:00:00", "open"),
        _ev("assigned", "C", "2026-11-10T20:00:00", "carol"),
        # alice holds A 10-12, it waits for the customer (pending) 12-13, then 13-15 until resolved
        _ev("conversation_opened", "A", "2026-11-11T09:00:00", "open"),
        _ev("assigned", "A", "2026-11-11T10:00:00", "alice"),
        _ev("status_changed", "A", "2026-11-11T12:00:00", "pending", "open"),
        _ev("status_changed", "A", "2026-11-11T13:00:00", "open", "pending"),
        _ev("status_changed", "A", "2026-11-11T15:00:00", "resolved", "open"),
        # alice holds B 11-14, then bob to the end
        _ev("conversation_opened", "B", "2026-11-11T11:00:00", "open"),
        _ev("assigned", "B", "2026-11-11T11:00:00", "alice"),
        _ev("transferred", "B", "2026-11-11T14:00:00", "bob", "alice"),
        # dave 8-9, resolved, reopened at 10 (unassigned at the same instant), erin 10:30-11
        _ev("conversation_opened", "D", "2026-11-11T07:00:00", "open"),
        _ev("assigned", "D", "2026-11-11T08:00:00", "dave"),
        _ev("status_changed", "D", "2026-11-11T09:00:00", "resolved", "open"),
        _ev("unassigned", "D", "2026-11-11T10:00:00", None, "dave"),
        _ev("status_changed", "D", "2026-11-11T10:00:00", "open", "resolved"),
        _ev("assigned", "D", "2026-11-11T10:30:00", "erin"),
        _ev("status_changed", "D", "2026-11-11T11:00:00", "resolved", "open"),
        # a delivery written twice is one event
        _ev("assigned", "E", "2026-11-12T06:00:00", "bob"),
    ])
    dup = _ev("status_changed", "E", "2026-11-12T12:00:00", "resolved", "open")
    lake.add([dup, dup])
    return lake


PERIOD = Period(datetime(2026, 11, 11, tzinfo=UTC), datetime(2026, 11, 13, tzinfo=UTC), "UTC")


def test_each_agents_daily_mean_and_maximum_of_conversations_held(lake):
    got = {(r["key"], r["agent"]): (r["mean"], r["max"]) for r in lake.rows(concurrent_load(PERIOD, "day"))}
    assert got == {
        ("2026-11-11", "alice"): (round(7 / 24, 3), 2),     # A 4 h (not while pending), B 3 h; both 11-12, 13-14
        ("2026-11-11", "bob"): (round(10 / 24, 3), 1),
        ("2026-11-11", "carol"): (1.0, 1),
        ("2026-11-11", "dave"): (round(1 / 24, 3), 1),      # not after the resolve, nor after the reopen
        ("2026-11-11", "erin"): (round(0.5 / 24, 3), 1),
        ("2026-11-12", "bob"): (round((24 + 6) / 24, 3), 2),   # B all day, E 06-12 (an event not read twice)
        ("2026-11-12", "carol"): (1.0, 1),
    }


def test_hours_split_a_span_and_the_period_cuts_the_buckets(lake):
    period = Period(datetime(2026, 11, 11, 10, 30, tzinfo=UTC), datetime(2026, 11, 11, 12, 0, tzinfo=UTC), "UTC")
    got = {(r["key"], r["agent"]): (r["mean"], r["max"]) for r in lake.rows(concurrent_load(period, "hour"))}
    assert got[("2026-11-11 10", "alice")] == (1.0, 1)          # the half hour 10:30-11:00 of the period
    assert got[("2026-11-11 10", "erin")] == (1.0, 1)
    assert got[("2026-11-11 11", "alice")] == (2.0, 2)


def test_days_follow_the_reports_time_zone_across_a_dst_change():
    period = Period(datetime(2026, 10, 24, 22, tzinfo=UTC), datetime(2026, 10, 26, 23, tzinfo=UTC), "Europe/Amsterdam")
    days = buckets(period, "day")
    assert [(k, (b - a) // 3_600_000) for k, a, b in days] == [("2026-10-25", 25), ("2026-10-26", 24)]


def test_the_statement_parses_as_trino():
    trino = to_trino(concurrent_load(PERIOD, "hour").replace("{events}", '"shopdesk_dev"."events"'))
    parsed = sqlglot.parse_one(trino, read="trino")
    assert parsed.find(sqlglot.exp.Table) is not None and "ignore nulls" in trino.lower()
    with pytest.raises(ValueError):
        concurrent_load(PERIOD, "agent")
