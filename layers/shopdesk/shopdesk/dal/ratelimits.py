"""Token-bucket state for rate limits, one small item per key (expires on its own)."""

from __future__ import annotations

from shopdesk.channels.webchat import BucketState
from shopdesk.dal import items as it
from shopdesk.dal.table import Table

TTL_SECONDS = 3600


class RateLimits:
    def __init__(self, table: Table):
        self.table = table

    def get(self, key: str) -> BucketState | None:
        item = self.table.get(f"RATE#{key}", it.META, consistent=True)
        return BucketState(float(item["tokens"]), float(item["updated_at"])) if item else None

    def put(self, key: str, state: BucketState) -> None:
        self.table.put({"PK": f"RATE#{key}", "SK": it.META, "type": "rate", "tokens": state.tokens,
                        "updated_at": state.updated_at, "ttl": int(state.updated_at) + TTL_SECONDS})
