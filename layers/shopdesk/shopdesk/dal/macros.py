"""Macros in the table: one partition for the shared ones, one per agent for their personal ones.

``MACRO#shared`` / ``MACRO#agent#<agent id>``, SK ``MACRO#<id>``; the actions as a list of maps. Listing reads
one partition (one Query); no Scan anywhere.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from shopdesk import clock
from shopdesk.dal.table import ConditionFailed, Table, Update, versioned
from shopdesk.models.canned import Scope
from shopdesk.models.macros import Action, Macro, MacroContent

PREFIX = "MACRO#"
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
            expected_version: int | None = None) -> Macro:
        """Create or replace (one UpdateItem); with ``expected_version`` only over that version (0: one that has
        none): ConditionFailed."""
        update = (Update().set("type", "macro").set("scope", scope)
                  .set("owner", owner if scope == "personal" else None).set("name", content.name)
                  .set("actions", [a.model_dump(mode="json") for a in content.actions])
                  .set("updated_at", clock.now_iso()).set("updated_by", by))
        versioned(update, expected_version)
        item = self.table.update(macro_pk(scope, owner), PREFIX + macro_id, update, return_new=True)
        assert item is not None             # ALL_NEW always answers the item
        return _from_item(item)

    def get(self, scope: Scope, owner: str | None, macro_id: str) -> Macro | None:
        item = self.table.get(macro_pk(scope, owner), PREFIX + macro_id)
        return _from_item(item) if item else None

    def delete(self, scope: Scope, owner: str | None, macro_id: str) -> bool:
        """True when there was one to delete (one conditional DeleteItem)."""
        try:
            self.table.delete_if_exists(macro_pk(scope, owner), PREFIX + macro_id)
        except ConditionFailed:
            return False
        return True

    def list(self, scope: Scope, owner: str | None) -> list[Macro]:
        items = self.table.query_all(index=None, key_condition="PK = :pk AND begins_with(SK, :sk)",
                                     names={}, values={":pk": macro_pk(scope, owner), ":sk": PREFIX})
        return [_from_item(i) for i in items]
