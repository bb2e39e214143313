"""The shop's labels: one partition of configuration items (``CONFIG#label``, SK the label id), read in one
Query; a label is never deleted, only retired, so the conversations that carry it keep showing its name. A label's
name is one of a kind (retired ones' too), held by its marker (shopdesk.dal.names)."""

from __future__ import annotations

from typing import Any

from shopdesk import clock
from shopdesk.dal.names import Names
from shopdesk.dal.table import ConditionFailed, Table, Update, versioned
from shopdesk.models.labels import Label, LabelContent

PK = "CONFIG#label"
ATTEMPTS = 3        # a save without ?version= over another admin's save of the same label is made again this often


def _from_item(item: dict[str, Any]) -> Label:
    return Label(id=item["SK"], name=item["name"], color=item["color"], retired=bool(item.get("retired")),
                 updated_at=item.get("updated_at"), updated_by=item.get("updated_by"),
                 version=int(item.get("version") or 0))


class Labels:
    def __init__(self, table: Table):
        self.table = table
        self.names = Names(table, "label", "label", lambda holder: label.name if (label := self.get(holder)) else None)

    def get(self, label_id: str) -> Label | None:
        item = self.table.get(PK, label_id)
        return _from_item(item) if item else None

    def put(self, label_id: str, content: LabelContent, by: str, expected_version: int | None = None
            ) -> tuple[Label | None, Label]:
        """Create, rename or recolour (a retired label stays retired), with its name's marker (shopdesk.dal.names:
        a Conflict ``name_taken`` when another label has the name), in one transaction over the version read (a
        save in between is read again); with ``expected_version`` only over that version (0: only a new one):
        ConditionFailed otherwise. Returns the label before and after."""
        for attempt in range(ATTEMPTS):
            before = self.get(label_id)
            over = expected_version if expected_version is not None else (before.version if before else 0)
            at = clock.now_iso()
            update = (Update().set("type", "config").set("name", content.name).set("color", content.color)
                      .set("updated_at", at).set("updated_by", by).set_if_missing("retired", False))
            try:
                self.names.write(self.table.update_op(PK, label_id, versioned(update, over)), label_id, content.name,
                                 before.name if before else None)
            except ConditionFailed:
                if expected_version is None and attempt < ATTEMPTS - 1:
                    continue
                raise
            return before, Label(id=label_id, name=content.name, color=content.color,
                                 retired=before.retired if before else False, updated_at=at, updated_by=by,
                                 version=over + 1)
        raise AssertionError("unreachable")

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
