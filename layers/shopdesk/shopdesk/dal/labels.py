"""The shop's labels: one partition of configuration items (``CONFIG#label``, SK the label id), read in one
Query; a label is never deleted, only retired, so the conversations that carry it keep showing its name."""

from __future__ import annotations

from typing import Any

from shopdesk import clock
from shopdesk.dal.table import ConditionFailed, Table, Update, versioned
from shopdesk.models.labels import Label, LabelContent

PK = "CONFIG#label"


def _from_item(item: dict[str, Any]) -> Label:
    return Label(id=item["SK"], name=item["name"], color=item["color"], retired=bool(item.get("retired")),
                 updated_at=item.get("updated_at"), updated_by=item.get("updated_by"),
                 version=int(item.get("version") or 0))


class Labels:
    def __init__(self, table: Table):
        self.table = table

    def get(self, label_id: str) -> Label | None:
        item = self.table.get(PK, label_id)
        return _from_item(item) if item else None

    def put(self, label_id: str, content: LabelContent, by: str, expected_version: int | None = None) -> Label:
        """Create, rename or recolour (one UpdateItem; a retired label stays retired); with ``expected_version``
        only over that version (0: only a new one): ConditionFailed otherwise."""
        update = (Update().set("type", "config").set("name", content.name).set("color", content.color)
                  .set("updated_at", clock.now_iso()).set("updated_by", by).set_if_missing("retired", False))
        item = self.table.update(PK, label_id, versioned(update, expected_version), return_new=True)
        assert item is not None             # ALL_NEW always answers the item
        return _from_item(item)

    def set_retired(self, label_id: str, retired: bool, by: str) -> Label | None:
        """Retire (or bring back) a label; None when there is no such label."""
        update = versioned(Update().set("retired", retired).set("updated_at", clock.now_iso()).set("updated_by", by)
                           .when("attribute_exists(PK)"), None)
        try:
            item = self.table.update(PK, label_id, update, return_new=True)
        except ConditionFailed:
            return None
        return _from_item(item) if item else None

    def list(self) -> list[Label]:
        """Every label, retired ones too (one Query: a shop has tens)."""
        rows = self.table.query_all(index=None, key_condition="PK = :pk", names={}, values={":pk": PK},
                                    consistent=True)
        return [_from_item(r) for r in rows]
