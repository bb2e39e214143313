"""Event lake figures: how many events a desk's work writes per inbound message, and how long each report's
SQL takes on DuckDB over a million events.

- ``analytics.events_per_message``: the scenario of the event-lake tests (``tests/analytics_scenario.py``:
  conversations on SMS and WhatsApp, replies, follow-ups, pauses, resolves, reopens) played through the real
  handlers on moto with the clock frozen at each step; the table's stream, as the writer's filters pass it, through its
  derivation.
  Events derived / inbound messages, with the count by type.
- ``analytics.report_ms``: one million synthetic events (DuckDB generates them: 20,000 conversations over a
  year, eight agents, three teams, four channels, the event mix of a real desk) in the DuckDB lake; every
  statement of ``analytics/sql.py`` for a 7-day and a 90-day period, ungrouped and by each group, timed five
  times each. p50 / p95 over all runs, and the slowest statement.
- ``analytics.report_ms.supervisor``: the same statements, ungrouped and by agent, three times each, as a supervisor
  of one of the three teams reads them (``Scope``: every statement first finds the conversations whose latest team
  is theirs, over the whole lake) beside the desk's own (an admin's) of the same statements: p50 / p95 of each.

    python -m bench.analytics [--events N] [--conversations N]
    writes the "analytics" key of bench/results.json
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import median, quantiles
from typing import Any

HERE = Path(__file__).resolve().parent

GENERATE = """
INSERT INTO events
SELECT
  md5(i::VARCHAR) AS event_id,
  t.type, 1 AS version,
  strftime(to_timestamp(ms / 1000), '%Y-%m-%dT%H:%M:%S.000Z') AS occurred_at, ms AS at_ms,
  'c_' || (i % {conversations}) AS conversation_id, 'u_' || (i % {conversations}) AS customer_id,
  ['sms', 'whatsapp', 'email', 'webchat'][1 + (i % {conversations}) % 4] AS channel,
  ['default', 'returns', 'vip'][1 + (i % {conversations}) % 3] AS team,
  ['en', 'es', 'pt', 'de'][1 + (i % {conversations}) % 4] AS language, 'normal' AS priority,
  CASE WHEN t.type IN ('first_human_reply', 'next_human_reply', 'message_sent', 'status_changed')
       THEN 'agent' || (hash(i) % 8) END AS agent_id,
  'system' AS actor, 'm_' || i AS message_id,
  CASE WHEN t.type = 'status_changed' THEN (CASE WHEN i % 9 = 0 THEN 'resolved' ELSE 'open' END) END AS from_value,
  CASE WHEN t.type = 'status_changed' THEN (CASE WHEN i % 9 = 0 THEN 'open' ELSE 'resolved' END) END AS to_value,
  CASE WHEN t.type IN ('sla_met', 'sla_breached')
       THEN ['first_response', 'next_response', 'resolution'][1 + i % 3] END AS target,
  NULL AS reason, ms - 3600000 AS started_at_ms,
  CASE WHEN t.type IN ('first_human_reply', 'next_human_reply', 'status_changed') THEN (hash(i) % 86400)::DOUBLE END,
  CASE WHEN t.type IN ('first_human_reply', 'next_human_reply', 'status_changed') THEN (hash(i) % 28800)::DOUBLE END,
  CASE WHEN t.type = 'csat_answered' THEN 1 + (hash(i) % 5)::INTEGER END AS rating,
  NULL AS detail, NULL AS topic,
  strftime(to_timestamp(ms / 1000), '%Y-%m-%d') AS day
FROM (
  SELECT i, {start_ms} + (i * {step_ms})::BIGINT AS ms, hash(i * 7) % 100 AS pick FROM range({events}) r(i)
) g
JOIN (VALUES
  (0, 8, 'conversation_opened'), (8, 30, 'message_received'), (30, 50, 'message_sent'),
  (50, 60, 'message_delivered'), (60, 66, 'first_human_reply'), (66, 72, 'next_human_reply'),
  (72, 82, 'status_changed'), (82, 86, 'assigned'), (86, 90, 'conversation_classified'),
  (90, 94, 'sla_met'), (94, 96, 'sla_breached'), (96, 97, 'bot_answered'), (97, 98, 'bot_handed_off'),
  (98, 99, 'csat_asked'), (99, 100, 'csat_answered')
) t(lo, hi, type) ON g.pick >= t.lo AND g.pick < t.hi
"""


def events_per_message(conversations: int) -> dict[str, Any]:
    """The test scenario through the real handlers, its stream through the writer's derivation."""
    from datetime import datetime as dt

    from tests import analytics_scenario as scenario
    from tests.integration.conftest import make_desk
    from tests.integration.test_analytics import Frozen, _filters, play

    from bench.harness import moto_server
    from local.streams import lambda_record, pattern_matches
    from shopdesk import clock
    from shopdesk.analytics.events import derive
    from shopdesk.dal.table import deserialize

    with moto_server() as endpoint:
        os.environ.update({"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing",
                           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
                           "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled"})
        desk = make_desk(endpoint)
        script = scenario.make(conversations)
        frozen, real = Frozen(), clock.time
        clock.time = frozen                 # type: ignore[assignment]
        try:
            play(desk, script, frozen)
        finally:
            clock.time = real                # type: ignore[assignment]
        streams = desk.client("dynamodbstreams")
        arn = desk.client("dynamodb").describe_table(TableName=desk.table_name)["Table"]["LatestStreamArn"]
        kinds: Counter[str] = Counter()
        records = 0
        writes = _filters()           # what the writer's event source passes on (template.yaml's filters)
        for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            while True:
                answer = streams.get_records(ShardIterator=iterator, Limit=1000)
                iterator = answer["NextShardIterator"]
                if not answer["Records"]:
                    break
                for raw in answer["Records"]:
                    record = lambda_record(raw, arn)
                    if not any(pattern_matches(p, record) for p in writes):
                        continue      # not the writer's (the knowledge base's articles, agents, config...)
                    data = record["dynamodb"]
                    records += 1
                    for event in derive(record["eventName"], deserialize(data["Keys"]),
                                        deserialize(data["NewImage"]) if "NewImage" in data else None,
                                        deserialize(data["OldImage"]) if "OldImage" in data else None,
                                        dt.fromtimestamp(data["ApproximateCreationDateTime"], UTC)):
                        kinds[event.type.value] += 1
    inbound = sum(1 for s in script.steps if s.kind == "write")
    total = sum(kinds.values())
    return {"conversations": conversations, "inbound_messages": inbound, "stream_records": records,
            "events": total, "events_per_message": round(total / inbound, 2),
            "events_per_conversation": round(total / conversations, 2), "by_type": dict(sorted(kinds.items()))}


def report_ms(events: int, conversations: int, repeats: int = 5) -> dict[str, Any]:
    from shopdesk.analytics.duckdb_lake import DuckDbLake
    from shopdesk.analytics.sql import GROUPS, STATEMENTS, Period, statement

    lake = DuckDbLake()
    end = datetime(2026, 12, 1, tzinfo=UTC)
    start = end - timedelta(days=365)
    started = time.perf_counter()
    lake.db.execute(GENERATE.format(events=events, conversations=conversations,
                                    start_ms=int(start.timestamp() * 1000),
                                    step_ms=365 * 86_400_000 / events))
    generated = time.perf_counter() - started
    count = lake.db.execute("SELECT count(*) FROM events").fetchone()
    timings: list[float] = []
    slowest: tuple[float, str] = (0.0, "")
    for days in (7, 90):
        span = Period(end - timedelta(days=days), end, "Europe/Amsterdam")
        for name in [*STATEMENTS, "backlog"]:
            for group in (None, *GROUPS):
                if name == "backlog" and group not in ("day", "hour"):
                    continue
                sql = statement(name, span, group)
                for _ in range(repeats):
                    t0 = time.perf_counter()
                    lake.rows(sql)
                    elapsed = (time.perf_counter() - t0) * 1000
                    timings.append(elapsed)
                    slowest = max(slowest, (elapsed, f"{name} by {group or 'nothing'} over {days} days"))
    cuts = quantiles(timings, n=100)
    return {"events": count[0] if count else 0, "generate_s": round(generated, 1), "queries": len(timings),
            "p50_ms": round(median(timings), 1), "p95_ms": round(cuts[94], 1), "max_ms": round(max(timings), 1),
            "slowest": slowest[1], "supervisor": scoped_ms(lake, end)}


def scoped_ms(lake: Any, end: datetime, repeats: int = 3) -> dict[str, Any]:
    """Each statement ungrouped and by agent, over 7 and 90 days, as the desk's (an admin's) and as one team's (a
    supervisor's), alternating, so both see the same machine."""
    from shopdesk.analytics.sql import STATEMENTS, WHOLE_DESK, Period, Scope, statement

    team = Scope.of(["returns"], [f"agent{i}" for i in range(0, 8, 3)])
    timings: dict[str, list[float]] = {"desk": [], "team": []}
    for days in (7, 90):
        span = Period(end - timedelta(days=days), end, "Europe/Amsterdam")
        for name in STATEMENTS:
            for group in (None, "agent"):
                for _ in range(repeats):
                    for who, scope in (("desk", WHOLE_DESK), ("team", team)):
                        t0 = time.perf_counter()
                        lake.rows(statement(name, span, group, scope))
                        timings[who].append((time.perf_counter() - t0) * 1000)

    def figures(values: list[float]) -> dict[str, float]:
        return {"p50_ms": round(median(values), 1), "p95_ms": round(quantiles(values, n=100)[94], 1)}

    return {"queries": len(timings["team"]), "desk": figures(timings["desk"]), "team": figures(timings["team"])}


def run(events: int = 1_000_000, conversations: int = 30, lake_conversations: int = 20_000) -> dict[str, Any]:
    written = events_per_message(conversations)
    timed = report_ms(events, lake_conversations)
    return {"events_per_message": written["events_per_message"], "events_written": written,
            "report_ms": timed}


def report(result: dict[str, Any]) -> str:
    written, timed = result["events_written"], result["report_ms"]
    return "\n".join([
        f"analytics.events_per_message  {result['events_per_message']} ({written['events']} events from "
        f"{written['inbound_messages']} inbound messages, {written['conversations']} conversations)",
        f"analytics.report_ms           p50 {timed['p50_ms']} ms, p95 {timed['p95_ms']} ms, max {timed['max_ms']} ms "
        f"({timed['queries']} queries on {timed['events']:,} events; slowest: {timed['slowest']})",
        f"analytics.report_ms.supervisor one team's p50 {timed['supervisor']['team']['p50_ms']} ms, p95 "
        f"{timed['supervisor']['team']['p95_ms']} ms; the desk's same statements p50 "
        f"{timed['supervisor']['desk']['p50_ms']} ms, p95 {timed['supervisor']['desk']['p95_ms']} ms "
        f"({timed['supervisor']['queries']} queries each)",
    ])


def main() -> None:
    from bench.harness import save_result, use_layer

    parser = argparse.ArgumentParser(prog="python -m bench.analytics", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--conversations", type=int, default=30, help="of the played scenario")
    args = parser.parse_args()
    use_layer()
    result = run(args.events, args.conversations)
    print(report(result))
    save_result("analytics", result)

if __name__ == "__main__":
    main()
