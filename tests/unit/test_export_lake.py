"""The lake query of a customer's export (shopdesk.privacy.export.events_of): it reads the day partitions from the
first day a row of theirs can be in, and finds every row the whole lake holds about them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from shopdesk import clock
from shopdesk.analytics.duckdb_lake import DuckDbLake
from shopdesk.analytics.events import Event
from shopdesk.analytics.sql import customer_events
from shopdesk.privacy.export import KEPT_DAYS, events_of, first_day
from shopdesk.privacy.subject import Subject


class RecordingLake(DuckDbLake):
    """The DuckDB lake, keeping each statement it is asked."""

    def __init__(self) -> None:
        super().__init__()
        self.statements: list[str] = []

    def rows(self, sql: str) -> list[dict[str, Any]]:
        self.statements.append(sql)
        return super().rows(sql)


def _event(event_id: str, at: datetime, customer: str | None, conversation: str | None) -> Event:
    at = at.astimezone(UTC)
    return Event(event_id=event_id, type="conversation_opened", occurred_at=clock.iso(at),
                 at_ms=int(at.timestamp() * 1000), day=at.date().isoformat(), customer_id=customer,
                 conversation_id=conversation)


def _subject(*, ben_created: str | None = "2026-06-01T00:30:00.000+02:00") -> Subject:
    """Ana (since 2026-11-20) with Ben merged into her (his record from 2026-06-01 00:30 in +02:00, 2026-05-31 in
    UTC), her conversation c_ana and Ben's c_ben (moved to her by the merge), each with a message."""
    subject = Subject("u_ana", customer_ids=["u_ana", "u_ben"], conversation_ids=["c_ana", "c_ben"])
    ben = {"created_at": ben_created} if ben_created else {}
    subject.add([
        {"PK": "CUSTOMER#u_ana", "SK": "META", "type": "customer", "id": "u_ana",
         "created_at": "2026-11-20T09:00:00.000Z"},
        {"PK": "CUSTOMER#u_ben", "SK": "META", "type": "customer", "id": "u_ben", **ben},
        {"PK": "CONV#c_ana", "SK": "META", "type": "conversation", "id": "c_ana",
         "created_at": "2026-11-20T09:00:00.000Z"},
        {"PK": "CONV#c_ana", "SK": "MSG#1", "type": "message", "created_at": "2026-11-20T09:00:00.000Z"},
        {"PK": "CONV#c_ben", "SK": "META", "type": "conversation", "id": "c_ben",
         "created_at": "2026-07-02T10:00:00.000Z"},
        {"PK": "CONV#c_ben", "SK": "MSG#1", "type": "message", "created_at": "2026-07-02T10:00:00.000Z"},
        # an order the shop dated long before: not a record their events follow
        {"PK": "ORDER#shopify#1", "SK": "META", "type": "order", "created_at": "2019-01-01T00:00:00.000Z"},
    ])
    return subject


def test_the_export_reads_the_lake_from_the_first_day_a_row_of_the_customer_can_be_in():
    # Given a lake of every day since 2026-01-01 (someone else's rows), and the customer's rows: the merged-in
    # customer's from his record's first UTC day (2026-05-31, 22:30), one of a message replayed from the dead-letter
    # queue dated KEPT_DAYS before it (its record since expired), one of Ana's conversation today, and one of a
    # conversation of theirs without a customer id
    lake = RecordingLake()
    start, today = datetime(2026, 1, 1, 12, tzinfo=UTC), clock.now()
    lake.add(_event(f"x{n}", start + timedelta(days=n), "u_eve", "c_eve") for n in range((today - start).days + 1))
    ben_first = datetime(2026, 5, 31, 22, 30, tzinfo=UTC)
    kept = datetime(2026, 5, 31 - KEPT_DAYS, 0, 0, tzinfo=UTC)
    lake.add([_event("ben-first", ben_first, "u_ben", "c_old"), _event("kept", kept, "u_ben", "c_kept"),
              _event("ana-today", today, "u_ana", "c_ana"), _event("ben-conv", ben_first + timedelta(days=40), None,
                                                                       "c_ben")])
    # When the export reads the customer's rows
    rows = events_of(lake, _subject())
    # Then the statement reads the days from the first UTC day a row of theirs can be in (the engine prunes the rest)
    [statement] = lake.statements
    assert first_day(_subject()) == date(2026, 5, 31) - timedelta(days=KEPT_DAYS)
    assert f"day >= '{(date(2026, 5, 31) - timedelta(days=KEPT_DAYS)).isoformat()}'" in statement
    # and finds every row of theirs the whole lake holds: the first day's, the merged-in customer's, today's
    assert [r["event_id"] for r in rows] == ["kept", "ben-first", "ben-conv", "ana-today"]
    assert [r["event_id"] for r in rows] == [r["event_id"] for r in lake.rows(
        customer_events(["u_ana", "u_ben"], ["c_ana", "c_ben"], None))]


def test_the_first_day_is_the_earliest_record_s_in_utc_and_none_when_a_customer_has_no_record():
    # A message dated before its conversation (a kept request replayed into it) moves the first day back
    subject = _subject()
    subject.add([{"PK": "CONV#c_ben", "SK": "MSG#0", "type": "message", "created_at": "2026-03-01T23:59:59.999-00:30"}])
    assert first_day(subject) == date(2026, 3, 2) - timedelta(days=KEPT_DAYS)
    # A merged-in customer without a record (or without a date) says nothing of when their rows begin: no bound
    assert first_day(_subject(ben_created=None)) is None
    lake = RecordingLake()
    events_of(lake, _subject(ben_created=None))
    assert "day >=" not in lake.statements[0]
