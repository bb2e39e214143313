"""Configuration items (teams, calendars, SLA policies, routing settings), with optimistic versions.

Teams and SLA policies are picked by name: each one's name is one of a kind, held by a marker item written in the
same transaction as the item (shopdesk.dal.names).

An item other settings name (a calendar an SLA policy measures in; a team agents, routing, the bot's and the
survey's settings and policies name) is deleted only once nothing names it, and no save naming it can slip in
between the look and the delete: the save names it in its own transaction (``naming``, ``naming_op``: the named item
must exist, and its ``named_version`` moves), and the delete (``delete_unnamed``) is conditioned on the
``named_version`` it read before it looked, so it looks again when a save came in between."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from shopdesk.dal.names import Names
from shopdesk.dal.table import ConditionFailed, PartFailed, Table, TransactionCancelled, Update
from shopdesk.errors import Conflict, NotFound, version_conflict

NAMED = {"team": "team", "sla-policy": "SLA policy"}     # the kinds whose ``name`` is one of a kind, as said
ATTEMPTS = 3        # a save without ?version= over another admin's save of the same item is made again this often
NAMED_VERSION = "named_version"     # moved by each save that names the item (``naming``); not part of its value
HIDDEN = ("PK", "SK", "type", NAMED_VERSION)
Named = tuple[str, str]             # (kind, key) of an item a save names


class ConfigStore:
    def __init__(self, table: Table):
        self.table = table

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        item = self.table.get(f"CONFIG#{kind}", key)
        return _value(item) if item else None

    def list(self, kind: str) -> list[dict[str, Any]]:
        rows = self.table.query_all(index=None, key_condition="PK = :pk", names={}, values={":pk": f"CONFIG#{kind}"},
                                    consistent=True)
        return [_value(r) for r in rows]

    def put(self, kind: str, key: str, value: dict[str, Any], expected_version: int | None,
            naming: Iterable[Named] = ()) -> int:
        """Write a configuration item and return its new version. With ``expected_version`` the write
        only succeeds over that version (0: only if new), so two supervisors cannot lose each other's
        change; without it, last write wins. A named kind's item is written with its name's marker (a Conflict
        ``name_taken`` when another has the name), over the version read: a save in between is read again.
        ``naming``: the items this one names (a policy's calendar), each of which must exist when it is written
        (NotFound otherwise: deleted meanwhile), in the same transaction (``naming_op``). Two saves naming one item
        at the same moment meet on it (DynamoDB cancels one transaction: TransactionConflict): that one is sent
        again after a short pause, and is Busy (503, nothing written) if it keeps meeting others
        (``Table.transact(retry_conflicts=True)``)."""
        naming = list(naming)
        also = [self.naming_op(*named) for named in naming]
        if kind in NAMED:
            return self._put_named(kind, key, value, expected_version, also, naming)
        current_version = (self.get(kind, key) or {}).get("version", 0)
        version = (expected_version if expected_version is not None else current_version) + 1
        item = {"PK": f"CONFIG#{kind}", "SK": key, "type": "config", **value, "version": version}
        condition, values = ((None, None) if expected_version is None else
                             ("attribute_not_exists(PK)", None) if expected_version == 0 else
                             ("version = :v", {":v": expected_version}))
        try:
            if also:
                self.table.transact([self.table.put_op(item, condition, values=values), *also], retry_conflicts=True)
            else:
                self.table.put(item, condition=condition, values=values)
        except TransactionCancelled as exc:
            if 0 not in exc.failed:
                raise gone(naming[exc.failed[-1] - 1]) from exc
            now = (self.get(kind, key) or {}).get("version", 0)
            raise version_conflict(kind, key, expected_version, now) from exc
        except ConditionFailed as exc:
            now = (self.get(kind, key) or {}).get("version", 0)
            raise version_conflict(kind, key, expected_version, now) from exc
        return version

    def naming_op(self, kind: str, key: str) -> dict[str, Any]:
        """The part of a save that names the item ``kind``/``key`` (of this store, or another's transaction: an
        agent's teams): the save happens only while the item exists, and moves its ``named_version`` (so a delete
        that read it before looking for what names it looks again). A failed one is NamedGone (``gone``)."""
        return self.table.update_op(f"CONFIG#{kind}", key,
                                    Update().add(NAMED_VERSION, 1).when("attribute_exists(PK)"))

    def _put_named(self, kind: str, key: str, value: dict[str, Any], expected_version: int | None,
                   also: list[dict[str, Any]], naming: list[Named]) -> int:
        for attempt in range(ATTEMPTS):
            current = self.get(kind, key)
            read = int((current or {}).get("version", 0))
            over = expected_version if expected_version is not None else read
            item = {"PK": f"CONFIG#{kind}", "SK": key, "type": "config", **value, "version": over + 1}
            op = (self.table.put_op(item, "attribute_not_exists(PK)") if over == 0 else
                  self.table.put_op(item, "version = :v", values={":v": over}))
            try:
                self._names(kind).write(op, key, str(value["name"]), (current or {}).get("name"), also)
                return over + 1
            except PartFailed as exc:
                raise gone(naming[exc.index]) from exc
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

    def delete_unnamed(self, kind: str, key: str, expected_version: int | None, check: Callable[[], None]
                       ) -> dict[str, Any]:
        """Delete a configuration item once ``check()`` (which raises while anything names it) passes, as
        ``delete`` does, and so that no save naming it (``put(..., naming=...)``) races the check: the item is read
        before the check and deleted only if its ``named_version`` did not move since; a save that named it
        meanwhile moved it, and the item is read and checked again (the check then sees that save). A save after
        the delete finds no item to name and is refused."""
        for _ in range(ATTEMPTS):
            item = self.table.get(f"CONFIG#{kind}", key)
            if item is None:
                raise NotFound(f"{kind} {key} does not exist")
            current = _value(item)
            version = current.get("version", 0) if expected_version is None else expected_version
            check()
            named = item.get(NAMED_VERSION)
            condition = "version = :v AND " + ("named_version = :n" if named is not None
                                              else "attribute_not_exists(named_version)")
            values = {":v": version, **({":n": named} if named is not None else {})}
            try:
                if kind in NAMED:
                    op = self.table.delete_op(f"CONFIG#{kind}", key, condition, values=values)
                    self._names(kind).write(op, key, None, current.get("name"))
                else:
                    self.table.delete_if(f"CONFIG#{kind}", key, condition=condition, values=values)
                return current
            except ConditionFailed as exc:
                now = self.table.get(f"CONFIG#{kind}", key)
                if now is None or now.get("version", 0) != version:
                    raise Conflict(f"{kind} {key} changed meanwhile; reload it before deleting it") from exc
        raise Conflict(f"{kind} {key} is being named by other saves; try again")

    def _names(self, kind: str) -> Names:
        return Names(self.table, kind, NAMED[kind], lambda holder: (self.get(kind, holder) or {}).get("name"))


def _value(item: dict[str, Any]) -> dict[str, Any]:
    """A configuration item as the use cases see it: without its keys and its ``named_version``."""
    return {k: v for k, v in item.items() if k not in HIDDEN}


class NamedGone(NotFound):
    """An item a save names was deleted meanwhile (``kind``, ``key``): nothing was written."""

    def __init__(self, kind: str, key: str):
        super().__init__(f"{kind} {key} does not exist; create it first")
        self.kind, self.key = kind, key


def gone(named: Named) -> NamedGone:
    return NamedGone(*named)
