"""Contact reasons (shopdesk.logic.topics): the taxonomy and its normalisation, the lake's topic events derived
from conversation images, and the weekly report's SQL (counts, the week before, rising) on DuckDB and as Trino."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlglot

from shopdesk.analytics.duckdb_lake import DuckDbLake
from shopdesk.analytics.events import EventType, derive
from shopdesk.analytics.sql import Period, to_trino, topics, week_start
from shopdesk.logic.topics import changes, from_article, from_intents, normalise, of_image
from tests.unit.test_analytics_events import CONV, meta


@pytest.mark.parametrize(("name", "topic"), [
    ("Returns & Refunds", "returns_refunds"), ("  Envío  gratis!", "envio_gratis"), ("order-status", "order_status"),
    ("İade", "iade"), ("Vrátenie tovaru", "vratenie_tovaru"), ("---", None), ("x" * 80, "x" * 60),
])
def test_names_are_normalised_to_one_topic(name, topic):
    assert normalise(name) == topic


def test_only_intents_that_are_reasons_become_topics():
    assert from_intents({"order_status", "thanks", "human", "legal"}) == {"intent:order_status", "intent:legal"}


def test_an_article_gives_its_tags_or_else_its_originals_id():
    assert from_article("returns-es", ["Returns", "Refund policy"], "returns") == {"article:returns",
                                                                                 "article:refund_policy"}
    assert from_article("returns-es", [], "returns") == {"article:returns"}
    assert from_article("shipping", []) == {"article:shipping"}


def test_the_strongest_source_names_a_topic_and_labels_join_the_stored_ones():
    image = {"topics": {"intent:order_status", "article:order_status", "article:returns"},
             "labels": {"returns", "vip-customer"}}
    assert of_image(image) == {"order_status": "article", "returns": "label", "vip_customer": "label"}


def test_a_label_taken_off_removes_its_topic_unless_another_source_names_it():
    old = {"topics": {"intent:order_status"}, "labels": {"order-status", "damaged"}}
    new = {"topics": {"intent:order_status"}, "labels": set()}
    assert changes(new, old) == ({}, ["damaged"])


def test_topic_events_are_derived_from_the_images_with_their_source():
    old = meta(labels={"damaged"})
    new = meta(labels={"refund"}, topics={"intent:order_status"}, changed_by="alice",
               updated_at="2026-11-02T09:05:00.000Z")
    events = [e for e in derive("MODIFY", CONV, new, old) if e.topic]
    assert [(e.type, e.topic, e.reason, e.actor) for e in events] == [
        (EventType.TOPIC_ADDED, "order_status", "intent", "router"),
        (EventType.TOPIC_ADDED, "refund", "label", "alice"),
        (EventType.TOPIC_REMOVED, "damaged", None, "alice")]
    assert derive("MODIFY", CONV, new, old)[0].event_id == events[0].event_id   # a replay: the same ids
    opened = derive("INSERT", CONV, meta(labels={"vip"}), None)
    assert [(e.type.value, e.topic) for e in opened] == [("conversation_opened", None), ("topic_added", "vip")]


# ------------------------------------------------------------------------------ the weekly report

TZ = "Europe/Amsterdam"


def _event(kind: str, conversation: str, topic: str, at: str) -> dict:
    moment = datetime.fromisoformat(at)
    return {"event_id": f"{kind}-{conversation}-{topic}-{at}", "type": kind, "version": 1,
            "occurred_at": at, "at_ms": int(moment.timestamp() * 1000),
            "day": moment.astimezone(UTC).date().isoformat(), "conversation_id": conversation, "topic": topic}


@pytest.fixture(scope="module")
def lake():
    from shopdesk.analytics.events import Event
    lake = DuckDbLake()
    rows = [
        # the week before the period (Mon 2026-11-02): one returns
        _event("topic_added", "c1", "returns", "2026-11-04T10:00:00+00:00"),
        # week of 2026-11-09: returns x3 (one of them named twice), order_status x1; a label added then taken off
        _event("topic_added", "c2", "returns", "2026-11-09T08:00:00+00:00"),
        _event("topic_added", "c3", "returns", "2026-11-10T08:00:00+00:00"),
        _event("topic_added", "c4", "returns", "2026-11-11T08:00:00+00:00"),
        _event("topic_added", "c4", "returns", "2026-11-12T08:00:00+00:00"),
        _event("topic_added", "c5", "order_status", "2026-11-12T09:00:00+00:00"),
        _event("topic_added", "c6", "damaged", "2026-11-13T09:00:00+00:00"),
        _event("topic_removed", "c6", "damaged", "2026-11-13T09:30:00+00:00"),
        # Sunday 23:30 in Amsterdam is still that week, though it is Sunday 22:30 UTC
        _event("topic_added", "c7", "order_status", "2026-11-15T22:30:00+00:00"),
        # week of 2026-11-16: returns x1 (falling), order_status x3 (rising), a new topic
        _event("topic_added", "c8", "returns", "2026-11-16T10:00:00+00:00"),
        _event("topic_added", "c9", "order_status", "2026-11-17T10:00:00+00:00"),
        _event("topic_added", "c10", "order_status", "2026-11-17T11:00:00+00:00"),
        _event("topic_added", "c11", "order_status", "2026-11-18T11:00:00+00:00"),
        _event("topic_added", "c12", "payment_account", "2026-11-19T11:00:00+00:00"),
        # after the period: not counted
        _event("topic_added", "c13", "returns", "2026-11-23T10:00:00+00:00"),
    ]
    lake.add(Event.model_validate(r) for r in rows)
    return lake


def test_topics_per_week_with_the_week_before_and_what_is_rising(lake):
    # from a Wednesday: the report starts with that whole week, its "previous" from the week before
    period = Period(datetime(2026, 11, 11, tzinfo=UTC), datetime(2026, 11, 23, tzinfo=UTC), TZ)
    rows = [(r["key"], r["topic"], r["conversations"], r["rank"], r["previous"], r["change"], r["rising"])
            for r in lake.rows(topics(period))]
    assert rows == [
        ("2026-11-09", "returns", 3, 1, 1, 2, True),
        ("2026-11-09", "order_status", 2, 2, 0, 2, True),
        ("2026-11-16", "order_status", 3, 1, 2, 1, True),
        ("2026-11-16", "payment_account", 1, 2, 0, 1, True),
        ("2026-11-16", "returns", 1, 2, 3, -2, False),
    ]


def test_weeks_start_on_monday_in_the_reports_time_zone():
    assert week_start(datetime(2026, 11, 15, 23, 30, tzinfo=UTC), TZ).isoformat() == "2026-11-16T00:00:00+01:00"
    assert week_start(datetime(2026, 11, 15, 22, 30, tzinfo=UTC), TZ).isoformat() == "2026-11-09T00:00:00+01:00"


def test_the_topics_statement_parses_as_trino():
    period = Period(datetime(2026, 11, 11, tzinfo=UTC), datetime(2026, 11, 23, tzinfo=UTC), TZ)
    trino = to_trino(topics(period).replace("{events}", '"shopdesk_dev"."events"'))
    parsed = sqlglot.parse_one(trino, read="trino")
    assert parsed.find(sqlglot.exp.Table) is not None
    assert "date_trunc('week'" in trino.lower() and "max_by(" in trino.lower()
