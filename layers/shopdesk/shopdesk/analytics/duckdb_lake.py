"""The lake read with DuckDB: the local stack, the tests and the benchmarks.

``DuckDbLake`` holds the events in one in-memory DuckDB table (``events``, the columns of
``analytics.events.COLUMNS``). ``S3DuckDbLake`` fills it from the objects the sink's Firehose wrote under a
prefix (JSON lines, as moto writes them, or Parquet, as the real service does), and the deletion list from
``erased/`` (``dal/lake.py``): every query first lists both prefixes and loads only the objects it has not loaded
yet, so a long-running process reads each object once.
DuckDB's own S3 reader (httpfs) is an extension it downloads at run time; boto3 reads the objects instead.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import duckdb

from shopdesk.analytics.events import COLUMNS, Event
from shopdesk.dal.aws import client
from shopdesk.dal.lake import ERASED_PREFIX

TABLE = "events"
ERASED = "erased"           # the deletion list (dal/lake.py): ids of erased customers and their conversations


def _columns_sql() -> str:
    return ", ".join(f"{name} {kind}" for name, kind, _ in COLUMNS)


def _json_columns() -> str:
    return "{" + ", ".join(f"'{name}': '{kind}'" for name, kind, _ in COLUMNS) + "}"


class DuckDbLake:
    def __init__(self) -> None:
        self.db = duckdb.connect(":memory:")
        self.db.execute("SET enable_progress_bar = false")
        self.db.execute(f"CREATE TABLE {TABLE} ({_columns_sql()})")
        self.db.execute(f"CREATE TABLE {ERASED} (id VARCHAR, kind VARCHAR, job_id VARCHAR)")
        self.lock = threading.Lock()

    def rows(self, sql: str) -> list[dict[str, Any]]:
        with self.lock:
            self.refresh()
            # analytics.sql: no caller text
            cursor = self.db.execute(sql.replace("{events}", TABLE).replace("{erased}", ERASED))
            names = [d[0] for d in cursor.description or []]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def refresh(self) -> None:
        """Load what arrived since the last query (nothing here: events are added with ``add``)."""

    def add(self, events: Iterable[Event]) -> None:
        rows = [tuple(e.model_dump(mode="json").get(name) for name, _, _ in COLUMNS) for e in events]
        if rows:
            marks = ", ".join("?" for _ in COLUMNS)
            self.db.executemany(f"INSERT INTO {TABLE} VALUES ({marks})", rows)  # noqa: S608 (our columns)

    def erase(self, ids: Iterable[str]) -> None:
        """Add ids to the deletion list (what an erase writes to the lake's ``erased/`` prefix)."""
        rows = [(i, None, None) for i in ids]
        if rows:
            self.db.executemany(f"INSERT INTO {ERASED} VALUES (?, ?, ?)", rows)  # noqa: S608 (our table)

    def load_erased(self, paths: list[Path]) -> None:
        """Append deletion list files (JSON lines ``{"id", "kind", "job_id"}``)."""
        if paths:
            self.db.execute(f"INSERT INTO {ERASED} SELECT id, kind, job_id FROM read_json(?, format = "  # noqa: S608
                            "'newline_delimited', columns = {'id': 'VARCHAR', 'kind': 'VARCHAR', 'job_id': 'VARCHAR'})",
                            [[str(p) for p in paths]])

    def load_files(self, paths: list[Path]) -> None:
        """Append event files: Parquet (``.parquet``) or JSON lines (anything else)."""
        parquet = [str(p) for p in paths if p.suffix == ".parquet"]
        lines = [str(p) for p in paths if p.suffix != ".parquet"]
        names = ", ".join(name for name, _, _ in COLUMNS)
        if parquet:
            self.db.execute(f"INSERT INTO {TABLE} SELECT {names} FROM read_parquet(?, union_by_name = true)",  # noqa: S608
                            [parquet])
        if lines:
            self.db.execute(f"INSERT INTO {TABLE} SELECT {names} FROM read_json(?, format = 'newline_delimited', "  # noqa: S608
                            f"columns = {_json_columns()})", [lines])


class S3DuckDbLake(DuckDbLake):
    def __init__(self, bucket: str, prefix: str, s3: Any = None):
        super().__init__()
        if not bucket:
            raise ValueError("the DuckDB lake needs EVENTS_BUCKET")
        self.bucket, self.prefix = bucket, prefix
        self._s3 = s3
        self.loaded: set[str] = set()

    @property
    def s3(self) -> Any:
        if self._s3 is None:
            self._s3 = client("s3")
        return self._s3

    def refresh(self) -> None:
        self._load(self.prefix, self.load_files)
        self._load(ERASED_PREFIX, self.load_erased)        # the deletion list, new erases included

    def _load(self, prefix: str, load: Callable[[list[Path]], None]) -> None:
        fresh: list[str] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            fresh.extend(o["Key"] for o in page.get("Contents") or [] if o["Key"] not in self.loaded)
        if not fresh:
            return
        with tempfile.TemporaryDirectory() as folder:
            paths = []
            for index, key in enumerate(fresh):
                path = Path(folder) / f"{index}{'.parquet' if key.endswith('.parquet') else '.jsonl'}"
                path.write_bytes(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())
                if path.stat().st_size:
                    paths.append(path)
            load(paths)
        self.loaded.update(fresh)
