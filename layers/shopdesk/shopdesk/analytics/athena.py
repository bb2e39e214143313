"""The lake in AWS: the reports' SQL transpiled to Trino (``analytics.sql.to_trino``) and run in the
workgroup, whose bytes-scanned limit caps what one query may cost; results are read page by page and typed
from the result set's metadata."""

from __future__ import annotations

import time
from typing import Any

from shopdesk.analytics import LakeUnavailable
from shopdesk.analytics.sql import to_trino
from shopdesk.dal.aws import client

POLL_SECONDS = 0.3
TIMEOUT_SECONDS = 25.0      # within the function's timeout


class QueryFailed(LakeUnavailable):
    """Athena refused or failed the query (syntax, the workgroup's scan limit, a timeout)."""


def _typed(value: str | None, kind: str) -> Any:
    if value is None:
        return None
    if kind in ("integer", "bigint", "smallint", "tinyint"):
        return int(value)
    if kind in ("double", "float", "real", "decimal"):
        return float(value)
    return value


class AthenaLake:
    def __init__(self, workgroup: str, database: str, table: str, athena: Any = None, erased: str = "erased"):
        self.workgroup, self.database, self.table, self.erased = workgroup, database, table, erased
        self._athena = athena

    @property
    def athena(self) -> Any:
        if self._athena is None:
            self._athena = client("athena")
        return self._athena

    def rows(self, sql: str) -> list[dict[str, Any]]:
        query = to_trino(sql.replace("{events}", f'"{self.database}"."{self.table}"')
                         .replace("{erased}", f'"{self.database}"."{self.erased}"'))
        started = self.athena.start_query_execution(QueryString=query, WorkGroup=self.workgroup,
                                                    QueryExecutionContext={"Database": self.database})
        execution_id = started["QueryExecutionId"]
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while True:
            status = self.athena.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]["Status"]
            if status["State"] == "SUCCEEDED":
                break
            if status["State"] in ("FAILED", "CANCELLED"):
                raise QueryFailed(status.get("StateChangeReason") or status["State"])
            if time.monotonic() > deadline:
                self.athena.stop_query_execution(QueryExecutionId=execution_id)
                raise QueryFailed(f"the query took longer than {TIMEOUT_SECONDS:.0f} s")
            time.sleep(POLL_SECONDS)
        out: list[dict[str, Any]] = []
        names: list[tuple[str, str]] = []
        for page in self.athena.get_paginator("get_query_results").paginate(QueryExecutionId=execution_id):
            result = page["ResultSet"]
            if not names:
                names = [(c["Name"], c["Type"]) for c in result["ResultSetMetadata"]["ColumnInfo"]]
                rows = result["Rows"][1:]       # the first row of the first page repeats the header
            else:
                rows = result["Rows"]
            for row in rows:
                values = [cell.get("VarCharValue") for cell in row["Data"]]
                out.append({name: _typed(v, kind) for (name, kind), v in zip(names, values, strict=True)})
        return out
