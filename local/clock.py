"""The stack's movable clock: an offset every worker applies before each invocation."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime


class Clock:
    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    @property
    def offset(self) -> float:
        with self._lock:
            return self._offset

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds
            return self._offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(time.time() + self.offset, UTC)

    def describe(self) -> dict[str, object]:
        offset = self.offset
        moment = datetime.fromtimestamp(time.time() + offset, UTC)
        return {
            "offset_seconds": offset,
            "now": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }
