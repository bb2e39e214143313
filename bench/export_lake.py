"""What a customer's export reads of the event lake, with and without the day bound (``privacy.export.first_day``).

A lake of ``--days`` days (400: the default retention) of ``--per-day`` events each (other customers', each in a day
of their own), and the rows of two customers: one whose first record is 120 days old (with a customer merged into
them, their own first record 30 days old), and one who wrote today for the first time. Their export's statement
(``analytics.sql.customer_events``) runs unbounded (as before) and from ``first_day``, on DuckDB in two forms:

- ``memory``: the local stack's lake (``DuckDbLake``: one in-memory table, loaded in the order the objects were
  written, by day): rows and row groups the scan read (DuckDB's profile; it skips a row group whose ``day`` range is
  before the bound);
- ``parquet``: the layout Firehose writes and Athena reads (one Parquet file per ``day=YYYY-MM-DD/`` partition,
  ``day`` from the path): files and bytes read (the profile's ``io.total_bytes_read``), the days pruned from the
  path alone, as Athena prunes the Glue table's projected partitions.

Both forms answer the same rows bounded and unbounded (checked).

    python -m bench.export_lake [--days N] [--per-day N]
    writes the "export_lake" key of bench/results.json
"""

from __future__ import annotations

import argparse
import json
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# Other customers' events: the lake's columns, ``u_<n>`` a customer of 50 consecutive events (within one day).
GENERATE = """
INSERT INTO events
SELECT md5(i::VARCHAR), 'message_received', 1,
  strftime(to_timestamp(ms / 1000), '%Y-%m-%dT%H:%M:%S.000Z'), ms,
  'c_' || (i // 50), 'u_' || (i // 50), 'sms', 'default', 'en', 'normal', NULL, 'customer', 'm_' || i,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  strftime(to_timestamp(ms / 1000), '%Y-%m-%d')
FROM (SELECT i, {start_ms} + (i * {step_ms})::BIGINT AS ms FROM range({events}) r(i)) g
"""


def _subjects(now: datetime) -> dict[str, Any]:
    from shopdesk import clock
    from shopdesk.privacy.subject import Subject

    def subject(customer: str, since: dict[str, datetime]) -> Subject:
        found = Subject(customer, customer_ids=list(since), conversation_ids=[f"c_{c}" for c in since])
        for cid, at in since.items():
            found.add([{"PK": f"CUSTOMER#{cid}", "SK": "META", "type": "customer", "id": cid,
                        "created_at": clock.iso(at)},
                       {"PK": f"CONV#c_{cid}", "SK": "META", "type": "conversation", "id": f"c_{cid}",
                        "created_at": clock.iso(at)},
                       {"PK": f"CONV#c_{cid}", "SK": "MSG#1", "type": "message", "created_at": clock.iso(at)}])
        return found

    return {"merged_120_days": subject("u_ana", {"u_ana": now - timedelta(days=30),
                                                 "u_ben": now - timedelta(days=120)}),
            "new_today": subject("u_new", {"u_new": now - timedelta(minutes=5)})}


def _their_events(subjects: dict[str, Any], now: datetime) -> list[Any]:
    """Each customer's conversation: an event a day from its first record to now (their customer id on the
    conversation's events, none on its messages')."""
    from shopdesk import clock
    from shopdesk.analytics.events import Event

    out = []
    for found in subjects.values():
        for cid in found.customer_ids:
            at = clock.parse_iso(found.items[(f"CUSTOMER#{cid}", "META")]["created_at"])
            n = 0
            while at <= now:
                out.append(Event(event_id=f"{cid}-{n}", type="message_received", occurred_at=clock.iso(at),
                                 at_ms=int(at.timestamp() * 1000), day=at.astimezone(UTC).date().isoformat(),
                                 conversation_id=f"c_{cid}", customer_id=cid if n % 2 else None))
                at, n = at + timedelta(days=1), n + 1
    return out


def _scans(profile: dict[str, Any]) -> dict[str, int]:
    """Rows, row groups and files the profile's scans of the events read."""
    totals = {"rows_scanned": 0, "row_groups_scanned": 0, "row_groups": 0, "files_read": 0}

    def walk(node: dict[str, Any]) -> None:
        info = node.get("extra_info") or {}
        if node.get("type") == "TABLE_SCAN" and ("events" in str(info.get("Table", "")) or "Total Files Read" in info
                                                 or "READ_PARQUET" in str(info.get("Function", ""))):
            totals["rows_scanned"] += int(node.get("rows_scanned") or node.get("operator_rows_scanned") or 0)
            totals["row_groups_scanned"] += int(node.get("row_groups_scanned") or 0)
            totals["row_groups"] += int(node.get("total_row_groups_to_scan") or 0)
            totals["files_read"] += int(info.get("Total Files Read") or 0)
        for child in node.get("children") or []:
            walk(child)

    for root in profile.get("operator") or []:
        walk(root)
    return totals


def _profiled(db: Any, sql: str, path: Path) -> tuple[list[tuple[Any, ...]], dict[str, Any]]:
    db.execute("PRAGMA enable_profiling = 'json'")
    db.execute(f"PRAGMA profiling_output = '{path}'")
    rows = db.execute(sql).fetchall()
    db.execute("PRAGMA disable_profiling")
    profile = json.loads(path.read_text())
    return rows, {**_scans(profile), "bytes_read": int((profile.get("io") or {}).get("total_bytes_read") or 0)}


def run(days: int, per_day: int) -> dict[str, Any]:
    from shopdesk import clock
    from shopdesk.analytics.duckdb_lake import ERASED, TABLE, DuckDbLake
    from shopdesk.analytics.events import COLUMNS
    from shopdesk.analytics.sql import customer_events
    from shopdesk.privacy.export import first_day

    now = clock.now()
    start = datetime.combine((now - timedelta(days=days - 1)).date(), datetime.min.time(), UTC)
    lake = DuckDbLake()
    events = days * per_day
    lake.db.execute(GENERATE.format(events=events, start_ms=int(start.timestamp() * 1000),
                                    step_ms=86_400_000 / per_day))
    subjects = _subjects(now)
    lake.add(_their_events(subjects, now))
    # the table in the order the sink's objects are listed and loaded: by day
    lake.db.execute(f"CREATE TABLE ordered AS SELECT * FROM {TABLE} ORDER BY day, at_ms")  # noqa: S608
    lake.db.execute(f"DROP TABLE {TABLE}")
    lake.db.execute(f"ALTER TABLE ordered RENAME TO {TABLE}")
    total_rows = lake.db.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0]  # noqa: S608
    result: dict[str, Any] = {"days": days, "events": total_rows, "subjects": {}}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        names = ", ".join(name for name, _, _ in COLUMNS if name != "day")
        lake.db.execute(f"COPY (SELECT {names}, day FROM {TABLE}) TO '{root / 'events'}' "  # noqa: S608
                        "(FORMAT parquet, PARTITION_BY (day), COMPRESSION snappy)")
        files = sorted((root / "events").glob("day=*/*.parquet"))
        result["parquet"] = {"files": len(files), "bytes": sum(f.stat().st_size for f in files)}
        parquet = (f"read_parquet('{root / 'events'}/*/*.parquet', hive_partitioning = true, "
                   "hive_types_autocast = false)")     # ``day`` a string, as the Glue table's partition key
        for name, found in subjects.items():
            bound = first_day(found)
            assert bound is not None
            measured: dict[str, Any] = {"first_day": bound.isoformat(),
                                        "days_read": (now.date() - bound).days + 1}
            for label, day in (("unbounded", None), ("bounded", bound)):
                sql = customer_events(found.customer_ids, found.conversation_ids, day).replace("{erased}", ERASED)
                memory_rows, memory = _profiled(lake.db, sql.replace("{events}", TABLE), root / "memory.json")
                file_rows, files_read = _profiled(lake.db, sql.replace("{events}", parquet), root / "parquet.json")
                assert memory_rows == file_rows and memory_rows, (name, label)
                measured[label] = {"rows_answered": len(memory_rows), "memory": memory, "parquet": files_read}
                measured.setdefault("answers", []).append(memory_rows)
            same = measured.pop("answers")
            assert same[0] == same[1], f"{name}: the bound changed what the export finds"
            measured["same_rows"] = True
            result["subjects"][name] = measured
    return result


def report(result: dict[str, Any]) -> str:
    lines = [f"lake: {result['days']} days, {result['events']:,} events; Parquet {result['parquet']['files']} files, "
             f"{result['parquet']['bytes']:,} bytes"]
    for name, m in result["subjects"].items():
        lines.append(f"{name}: first_day {m['first_day']} ({m['days_read']} days), {m['bounded']['rows_answered']} "
                     "rows answered, the same bounded and not")
        for label in ("unbounded", "bounded"):
            memory, files = m[label]["memory"], m[label]["parquet"]
            lines.append(f"  {label:9}  memory: {memory['rows_scanned']:,} rows, {memory['row_groups_scanned']} of "
                         f"{memory['row_groups']} row groups;  parquet: {files['files_read']} files, "
                         f"{files['bytes_read']:,} bytes, {files['rows_scanned']:,} rows")
    return "\n".join(lines)


def main() -> None:
    from bench.harness import save_result, use_layer

    parser = argparse.ArgumentParser(prog="python -m bench.export_lake", description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=400)
    parser.add_argument("--per-day", type=int, default=2_500)
    args = parser.parse_args()
    use_layer()
    result = run(args.days, args.per_day)
    print(report(result))
    save_result("export_lake", result)


if __name__ == "__main__":
    main()
