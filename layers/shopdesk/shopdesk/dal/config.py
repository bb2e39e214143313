"""Configuration items (teams, calendars, SLA policies, routing settings), with optimistic versions."""

from __future__ import annotations

from typing import Any

from shopdesk.dal.table import ConditionFailed, Table
from shopdesk.errors import Conflict, NotFound, version_conflict


class ConfigStore:
    def __init__(self, table: Table):
        self.table = table

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        item = self.table.get(f"CONFIG#{kind}", key)
        return {k: v for k, v in item.items() if k not in ("PK", "SK", "type")} if item else None

    def list(self, kind: str) -> list[dict[str, Any]]:
        rows = self.table.query_all(index=None, key_condition="PK = :pk", names={}, values={":pk": f"CONFIG#{kind}"},
                                    consistent=True)
        return [{k: v for k, v in r.items() if k not in ("PK", "SK", "type")} for r in rows]

    def put(self, kind: str, key: str, value: dict[str, Any], expected_version: int | None) -> int:
        """Write a configuration item and return its new version. With ``expected_version`` the write
        only succeeds over that version (0: only if new), so two supervisors cannot lose each other's
        change; without it, last write wins."""
        current_version = (self.get(kind, key) or {}).get("version", 0)
        version = (expected_version if expected_version is not None else current_version) + 1
        item = {"PK": f"CONFIG#{kind}", "SK": key, "type": "config", **value, "version": version}
        try:
            if expected_version is None:
                self.table.put(item)
            elif expected_version == 0:
                self.table.put(item, condition="attribute_not_exists(PK)")
            else:
                self.table.put(item, condition="version = :v", values={":v": expected_version})
        except ConditionFailed as exc:
            now = (self.get(kind, key) or {}).get("version", 0)
            raise version_conflict(kind, key, expected_version, now) from exc
        return version

    def delete(self, kind: str, key: str, expected_version: int | None) -> dict[str, Any]:
        """Delete a configuration item and return what it was. With ``expected_version`` only that version is
        deleted (Conflict if someone changed it meanwhile); NotFound when there is none."""
        current = self.get(kind, key)
        if current is None:
            raise NotFound(f"{kind} {key} does not exist")
        version = current.get("version", 0) if expected_version is None else expected_version
        try:
            self.table.delete_if(f"CONFIG#{kind}", key, condition="version = :v", values={":v": version})
        except ConditionFailed as exc:
            raise Conflict(f"{kind} {key} changed meanwhile; reload it before deleting it") from exc
        return current
