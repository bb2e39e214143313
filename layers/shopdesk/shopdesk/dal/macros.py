"""Macros in the table: one partition for the shared ones, one per agent for their personal ones.

``MACRO#shared`` / ``MACRO#agent#<agent id>``, SK ``MACRO#<id>``; the actions as a list of maps. Listing reads
one partition (one Query); no Scan anywhere. A macro's name is one of a kind among the shared ones, and among each
agent's own, held by its marker (shopdesk.dal.names).
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from shopdesk import clock
from shopdesk.dal.names import Names
from shopdesk.dal.table import ConditionFailed, Table, Update, as_read, versioned
from shopdesk.models.canned import Scope
from shopdesk.models.macros import Action, Macro, MacroContent

PREFIX = "MACRO#"
ATTEMPTS = 3        # a save without ?version= over another's save of the same macro is made again this often
_actions: TypeAdapter[list[Action]] = TypeAdapter(list[Action])


def macro_pk(scope: Scope, owner: str | None) -> str:
    if scope == "shared":
        return "MACRO#shared"
    if not owner:
        raise ValueError("a personal macro needs its owner")
    return f"MACRO#agent#{owner}"


def _from_item(item: dict[str, Any]) -> Macro:
    return Macro(id=item["SK"].removeprefix(PREFIX), scope=item["scope"], owner=item.get("owner"),
                 name=item["name"], actions=_actions.validate_python(item["actions"]),
                 updated_at=item.get("updated_at"), updated_by=item.get("updated_by"),
                 version=int(item.get("version", 0)))


class Macros:
    def __init__(self, table: Table):
        self.table = table

    def put(self, scope: Scope, owner: str | None, macro_id: str, content: MacroContent, by: str,
            expected_version: int | None = None) -> tuple[Macro | None, Macro]:
        """Create or replace, with its name's marker (shopdesk.dal.names: a Conflict ``name_taken`` when another
        macro of the scope has the name), in one transaction over the version read (a save in between is read
        again); with ``expected_version`` only over that version (0: one that has none): ConditionFailed. Returns
        the macro before and after."""
        for attempt in range(ATTEMPTS):
            before = self.get(scope, owner, macro_id)
            over = expected_version if expected_version is not None else (before.version if before else 0)
            at = clock.now_iso()
            update = (Update().set("type", "macro").set("scope", scope)
                      .set("owner", owner if scope == "personal" else None).set("name", content.name)
                      .set("actions", [a.model_dump(mode="json") for a in content.actions])
                      .set("updated_at", at).set("updated_by", by))
            op = self.table.update_op(macro_pk(scope, owner), PREFIX + macro_id, versioned(update, over))
            try:
                self._names(scope, owner).write(op, macro_id, content.name, before.name if before else None)
            except ConditionFailed:
                if expected_version is None and attempt < ATTEMPTS - 1:
                    continue
                raise
            return before, Macro(id=macro_id, scope=scope, owner=owner if scope == "personal" else None,
                                 name=content.name, actions=content.actions, updated_at=at, updated_by=by,
                                 version=over + 1)
        raise AssertionError("unreachable")

    def _names(self, scope: Scope, owner: str | None) -> Names:
        """The names of one partition: the shared macros, or one agent's own."""
        def borne(holder: str) -> str | None:
            found = self.get(scope, owner, holder)
            return found.name if found else None

        return Names(self.table, "macro#shared" if scope == "shared" else f"macro#agent#{owner}", "macro", borne)

    def get(self, scope: Scope, owner: str | None, macro_id: str) -> Macro | None:
        item = self.table.get(macro_pk(scope, owner), PREFIX + macro_id)
        return _from_item(item) if item else None

    def delete(self, scope: Scope, owner: str | None, macro_id: str) -> bool:
        """True when there was one to delete (GetItem, then a transaction deleting it as read and its name's
        marker); a macro saved meanwhile is read again."""
        for _ in range(ATTEMPTS):
            current = self.get(scope, owner, macro_id)
            if current is None:
                return False
            op = self.table.delete_op(macro_pk(scope, owner), PREFIX + macro_id, **as_read(current.version))
            try:
                self._names(scope, owner).write(op, macro_id, None, current.name)
            except ConditionFailed:
                continue
            return True
        raise ConditionFailed

    def list(self, scope: Scope, owner: str | None) -> list[Macro]:
        items = self.table.query_all(index=None, key_condition="PK = :pk AND begins_with(SK, :sk)",
                                     names={}, values={":pk": macro_pk(scope, owner), ":sk": PREFIX})
        return [_from_item(i) for i in items]
