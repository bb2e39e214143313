"""Canned responses in the table: one partition for the shared ones, one per agent for their personal ones.

``CANNED#shared`` / ``CANNED#agent#<agent id>``, SK ``RESPONSE#<id>``. Listing reads one partition (one
Query, paged); using one adds to its counter atomically (UpdateItem ADD). No Scan anywhere.
"""

from __future__ import annotations

import contextlib
from typing import Any

from shopdesk import clock
from shopdesk.dal.names import Names
from shopdesk.dal.table import ConditionFailed, Table, Update, as_read, versioned
from shopdesk.models.canned import CannedContent, CannedFile, CannedResponse, Scope

PREFIX = "RESPONSE#"
ATTEMPTS = 3        # a save without ?version= over another's save of the same response is made again this often


def canned_pk(scope: Scope, owner: str | None) -> str:
    if scope == "shared":
        return "CANNED#shared"
    if not owner:
        raise ValueError("a personal canned response needs its owner")
    return f"CANNED#agent#{owner}"


def _from_item(item: dict[str, Any]) -> CannedResponse:
    return CannedResponse(id=item["SK"].removeprefix(PREFIX), scope=item["scope"], owner=item.get("owner"),
                          title=item["title"], shortcode=item["shortcode"], bodies=item["bodies"],
                          attachments=[CannedFile.model_validate(a) for a in item.get("attachments") or []],
                          uses=int(item.get("uses", 0)), last_used_at=item.get("last_used_at"),
                          updated_at=item.get("updated_at"), updated_by=item.get("updated_by"),
                          version=int(item.get("version", 0)))


class CannedResponses:
    def __init__(self, table: Table):
        self.table = table

    def put(self, scope: Scope, owner: str | None, response_id: str, content: CannedContent,
            by: str, expected_version: int | None = None) -> tuple[CannedResponse | None, CannedResponse]:
        """Create or replace the content; the usage counter is kept. One transaction with the shortcode's marker
        (shopdesk.dal.names: a Conflict ``shortcode_taken`` when another response of the scope has it), over the
        version read (a save in between is read again); with ``expected_version`` only over that version (0: one
        that has none: new, or saved before versions): ConditionFailed. Returns the response before and after."""
        for attempt in range(ATTEMPTS):
            before = self.get(scope, owner, response_id)
            over = expected_version if expected_version is not None else (before.version if before else 0)
            at = clock.iso(clock.now())
            update = (Update().set("scope", scope).set("owner", owner if scope == "personal" else None)
                      .set("title", content.title).set("shortcode", content.shortcode).set("bodies", content.bodies)
                      .set("attachments", [a.model_dump() for a in content.attachments] or None)
                      .set("updated_at", at).set("updated_by", by).set_if_missing("uses", 0))
            op = self.table.update_op(canned_pk(scope, owner), PREFIX + response_id, versioned(update, over))
            try:
                self._names(scope, owner).write(op, response_id, content.shortcode,
                                                before.shortcode if before else None)
            except ConditionFailed:
                if expected_version is None and attempt < ATTEMPTS - 1:
                    continue
                raise
            return before, CannedResponse(
                id=response_id, scope=scope, owner=owner if scope == "personal" else None, title=content.title,
                shortcode=content.shortcode, bodies=content.bodies, attachments=content.attachments,
                uses=before.uses if before else 0, last_used_at=before.last_used_at if before else None,
                updated_at=at, updated_by=by, version=over + 1)
        raise AssertionError("unreachable")

    def _names(self, scope: Scope, owner: str | None) -> Names:
        """The shortcodes of one partition: the shared ones, or one agent's own."""
        def borne(holder: str) -> str | None:
            found = self.get(scope, owner, holder)
            return found.shortcode if found else None

        return Names(self.table, "canned#shared" if scope == "shared" else f"canned#agent#{owner}", "canned response",
                     borne, field="shortcode")

    def get(self, scope: Scope, owner: str | None, response_id: str) -> CannedResponse | None:
        item = self.table.get(canned_pk(scope, owner), PREFIX + response_id)
        return _from_item(item) if item else None

    def delete(self, scope: Scope, owner: str | None, response_id: str) -> bool:
        """True when there was one to delete (GetItem, then a transaction deleting it as read and its shortcode's
        marker); a response saved meanwhile is read again."""
        for _ in range(ATTEMPTS):
            current = self.get(scope, owner, response_id)
            if current is None:
                return False
            op = self.table.delete_op(canned_pk(scope, owner), PREFIX + response_id,
                                      **as_read(current.version))
            try:
                self._names(scope, owner).write(op, response_id, None, current.shortcode)
            except ConditionFailed:
                continue
            return True
        raise ConditionFailed

    def list(self, scope: Scope, owner: str | None) -> list[CannedResponse]:
        """Every response of the partition (one Query a page of 1 MB)."""
        items = self.table.query_all(index=None, key_condition="PK = :pk AND begins_with(SK, :sk)",
                                     names={}, values={":pk": canned_pk(scope, owner), ":sk": PREFIX})
        return [_from_item(i) for i in items]

    def count_use(self, scope: Scope, owner: str | None, response_id: str) -> None:
        """One more use (ADD: atomic under concurrent replies); nothing when it was deleted meanwhile."""
        update = Update().add("uses", 1).set("last_used_at", clock.iso(clock.now())).when("attribute_exists(PK)")
        with contextlib.suppress(ConditionFailed):
            self.table.update(canned_pk(scope, owner), PREFIX + response_id, update)
