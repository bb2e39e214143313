"""Configuration items (teams, calendars, SLA policies, routing settings), with optimistic versions.

Teams and SLA policies are picked by name: each one's name is one of a kind, held by a marker item written in the
same transaction as the item (shopdesk.dal.names)."""

from __future__ import annotations

from typing import Any

from shopdesk.dal.names import Names
from shopdesk.dal.table import ConditionFailed, Table
from shopdesk.errors import Conflict, NotFound, version_conflict

NAMED = {"team": "team", "sla-policy": "SLA policy"}     # the kinds whose ``name`` is one of a kind, as said
ATTEMPTS = 3        # a save without ?version= over another admin's save of the same item is made again this often


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
        change; without it, last write wins. A named kind's item is written with its name's marker (a Conflict
        ``name_taken`` when another has the name), over the version read: a save in between is read again."""
        if kind in NAMED:
            return self._put_named(kind, key, value, expected_version)
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

    def _put_named(self, kind: str, key: str, value: dict[str, Any], expected_version: int | None) -> int:
        for attempt in range(ATTEMPTS):
            current = self.get(kind, key)
            read = int((current or {}).get("version", 0))
            over = expected_version if expected_version is not None else read
            item = {"PK": f"CONFIG#{kind}", "SK": key, "type": "config", **value, "version": over + 1}
            op = (self.table.put_op(item, "attribute_not_exists(PK)") if over == 0 else
                  self.table.put_op(item, "version = :v", values={":v": over}))
            try:
                self._names(kind).write(op, key, str(value["name"]), (current or {}).get("name"))
                return over + 1
            except ConditionFailed as exc:
                if expected_version is None and attempt < ATTEMPTS - 1:
                    continue
                now = (self.get(kind, key) or {}).get("version", 0)
                raise version_conflict(kind, key, expected_version, now) from exc
        raise AssertionError("unreachable")

    def delete(self, kind: str, key: str, expected_version: int | None) -> dict[str, Any]:
        """Delete a configuration item and return what it was. With ``expected_version`` only that version is
        deleted (Conflict if someone changed it meanwhile); NotFound when there is none. A named kind's marker
        goes with it, in the same transaction."""
        current = self.get(kind, key)
        if current is None:
            raise NotFound(f"{kind} {key} does not exist")
        version = current.get("version", 0) if expected_version is None else expected_version
        try:
            if kind in NAMED:
                op = self.table.delete_op(f"CONFIG#{kind}", key, "version = :v", values={":v": version})
                self._names(kind).write(op, key, None, current.get("name"))
            else:
                self.table.delete_if(f"CONFIG#{kind}", key, condition="version = :v", values={":v": version})
        except ConditionFailed as exc:
            raise Conflict(f"{kind} {key} changed meanwhile; reload it before deleting it") from exc
        return current

    def _names(self, kind: str) -> Names:
        return Names(self.table, kind, NAMED[kind], lambda holder: (self.get(kind, holder) or {}).get("name"))
