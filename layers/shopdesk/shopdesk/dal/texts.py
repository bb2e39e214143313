"""The stored items that hold what customers wrote or are called, walked for the masking scan
(``privacy/remask.py``): messages and notes, conversations (the last message's preview, the customer's name, the
mail's subject in its routes, the bot's copy of the question),
customers' records and identities (their name), satisfaction surveys (the customer's comment), and the commerce
cache's orders and shop customers (``dal/commerce.py``: ``CachedRecords``).

A Scan, page by page: these items are on no one index. A write sets only the fields masking changed, each
conditioned on the value read (a field whose value another write changed meanwhile wins, and the item is read
again at the next run); an item deleted meanwhile (an erase, its expiry) fails the same condition, so nothing is
written back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shopdesk.dal.commerce import CACHED_KINDS
from shopdesk.dal.table import Table, Update

TEXT_KINDS = ("message", "conversation", "customer", "identity", "csat")
SCANNED_KINDS = (*TEXT_KINDS, *CACHED_KINDS)
_FILTER = "#type IN ({})".format(", ".join(f":k{i}" for i in range(len(SCANNED_KINDS))))


class StoredTexts:
    """The table's items the masking scan reads (``SCANNED_KINDS``), and its conditioned writes of them."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def page(self, cursor: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        """``limit`` items of the table read, those of ``SCANNED_KINDS`` returned; the cursor to go on from (None:
        the table's end)."""
        page = self.table.scan(filter=_FILTER, names={"#type": "type"},
                               values={f":k{i}": kind for i, kind in enumerate(SCANNED_KINDS)},
                               limit=limit, cursor=cursor)
        return page.items, page.cursor

    def replace(self, item: Mapping[str, Any], changes: Mapping[str, tuple[Any, Any]],
                also: Mapping[str, Any] | None = None) -> None:
        """Set each field of ``changes`` (a path, ``customer.name`` for a nested one: (as read, as written)), only if
        each still holds what was read; ConditionFailed otherwise (changed meanwhile, or the item deleted). ``also``:
        fields that follow them (a message's ``masked``), set with them."""
        update = Update()
        for path, value in (also or {}).items():
            update.set(path, value)
        conditions, read = [], {}
        for i, (path, (was, now)) in enumerate(changes.items()):
            update.set(path, now)
            conditions.append(f"{'.'.join('#' + part for part in path.split('.'))} = :r{i}")
            read[f"r{i}"] = was
        update.when(" AND ".join(conditions), **read)
        self.table.update(str(item["PK"]), str(item["SK"]), update)
