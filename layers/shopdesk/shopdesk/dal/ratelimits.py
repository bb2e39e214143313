"""Token-bucket state for rate limits, one small item per key (expires on its own).

Taking a token is a read and a write conditioned on the bucket being as read, again from a fresh read when another
request took one meanwhile: requests at once each take their own token (a read-then-write let a burst of parallel
requests all spend the one token they read)."""

from __future__ import annotations

from collections.abc import Callable

from shopdesk.channels.webchat import BucketState
from shopdesk.dal import items as it
from shopdesk.dal.table import ConditionFailed, Table

TTL_SECONDS = 3600
ATTEMPTS = 5
Consume = Callable[[BucketState | None], tuple[bool, BucketState, float]]


class RateLimits:
    def __init__(self, table: Table):
        self.table = table

    def get(self, key: str) -> BucketState | None:
        item = self.table.get(f"RATE#{key}", it.META, consistent=True)
        return BucketState(float(item["tokens"]), float(item["updated_at"])) if item else None

    def take(self, key: str, consume: Consume) -> tuple[bool, float]:
        """Whether ``consume`` (the limiter, given the bucket as stored) allows the request, and how long to wait
        when it does not. Losing the race for the bucket ``ATTEMPTS`` times over is a refusal for a second."""
        for _ in range(ATTEMPTS):
            state = self.get(key)
            allowed, after, retry_after = consume(state)
            try:
                self._put(key, after, state)
            except ConditionFailed:
                continue
            return allowed, retry_after
        return False, 1.0

    def _put(self, key: str, state: BucketState, expected: BucketState | None) -> None:
        item = {"PK": f"RATE#{key}", "SK": it.META, "type": "rate", "tokens": state.tokens,
                "updated_at": state.updated_at, "ttl": int(state.updated_at) + TTL_SECONDS}
        if expected is None:
            self.table.put(item, condition="attribute_not_exists(PK)")
        else:
            self.table.put(item, condition="#tokens = :tokens AND #at = :at",
                           values={":tokens": expected.tokens, ":at": expected.updated_at},
                           names={"#tokens": "tokens", "#at": "updated_at"})
