"""The event lake and its reports (docs/metrics.md defines every figure).

- ``events``: the schema and how events are derived from the table's stream (the writer function).
- ``firehose``: the sink the writer puts events to (Kinesis Data Firehose; S3 behind it).
- ``sql``: each report's SQL, written once in DuckDB's dialect; ``athena`` runs its Trino form.
- ``reports``: the use case behind ``GET /reports/...`` (periods, groups, figures).

The port is ``Lake``: run one of ``sql``'s statements and answer its rows. ``duckdb_lake`` (local stack,
tests, benchmarks) reads the events the sink wrote to S3 with DuckDB; ``athena`` queries the Glue table in
an Athena workgroup. The adapter is chosen from settings once per cold start (``lake_for``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from shopdesk.errors import ShopdeskError

if TYPE_CHECKING:
    from shopdesk.config import AnalyticsSettings


class LakeUnavailable(ShopdeskError):
    """The lake could not answer now (Athena failed, hit the workgroup's scan limit, or took too long)."""


class Lake(Protocol):
    def rows(self, sql: str) -> list[dict[str, Any]]:
        """Run a statement written in DuckDB's dialect whose events table is ``{events}`` and whose deletion list
        (the ids of erased customers and their conversations, ``dal/lake.py``) is ``{erased}``."""
        ...


def lake_for(settings: AnalyticsSettings) -> Lake:
    if settings.engine == "athena":
        from shopdesk.analytics.athena import AthenaLake
        return AthenaLake(settings.athena_workgroup, settings.athena_database, settings.athena_table,
                          erased=settings.athena_erased_table)
    from shopdesk.analytics.duckdb_lake import S3DuckDbLake
    return S3DuckDbLake(settings.bucket, settings.prefix)
