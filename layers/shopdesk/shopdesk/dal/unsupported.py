"""Unsupported webhook items: what a provider sent, signed, that cannot be stored as a message,
receipt or event. One record per request and day (``PK=UNSUPPORTED#<day>``, ``SK=<provider>#<digest>``),
with a bounded copy of each item; a re-delivery writes the same record again (same digest)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from shopdesk import clock
from shopdesk.bounds import bound
from shopdesk.dal import items as it
from shopdesk.dal.table import Table
from shopdesk.models import UnsupportedItem

RETENTION_SECONDS = 90 * 24 * 3600


class UnsupportedLog:
    def __init__(self, table: Table):
        self.table = table

    def record(self, provider: str, items: list[UnsupportedItem]) -> tuple[str, str]:
        """Store the items of one request; returns the record's key."""
        now = clock.now()
        entries = bound([{k: v for k, v in item.model_dump(exclude={"provider"}).items() if v is not None}
                         for item in items])
        digest = hashlib.sha256(json.dumps(entries.value, sort_keys=True, ensure_ascii=True,
                                           default=str).encode()).hexdigest()[:32]
        record: dict[str, Any] = {
            "PK": it.unsupported_pk(clock.iso(now)[:10]), "SK": f"{provider}#{digest}", "type": "unsupported",
            "provider": provider, "received_at": clock.iso(now), "count": len(items), "items": entries.value,
            "truncated": ["items"] if entries.truncated else None,
            "ttl": int(now.timestamp()) + RETENTION_SECONDS,
        }
        self.table.put(record)
        return record["PK"], record["SK"]

    def list_day(self, day: str) -> list[dict[str, Any]]:
        """Every unsupported record of a day (``YYYY-MM-DD``), oldest provider first."""
        return self.table.query_all(index=None, key_condition="#pk = :pk", names={"#pk": "PK"},
                                    values={":pk": it.unsupported_pk(day)}, consistent=True)
