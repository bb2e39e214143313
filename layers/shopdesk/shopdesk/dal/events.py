"""EventBridge: domain events on the shop's bus (detail types are listed in docs/architecture.md)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from shopdesk.dal.aws import client

SOURCE = "shopdesk"


class EventPublishError(Exception):
    pass


class EventBus:
    def __init__(self, name: str):
        self.name = name

    def publish(self, events: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
        """Publish (detail_type, detail) pairs; raises when any entry is refused."""
        entries = [{"Source": SOURCE, "DetailType": detail_type, "EventBusName": self.name,
                    "Detail": json.dumps(detail, separators=(",", ":"))} for detail_type, detail in events]
        for start in range(0, len(entries), 10):
            response = client("events").put_events(Entries=entries[start:start + 10])
            if response.get("FailedEntryCount"):
                raise EventPublishError(f"{response['FailedEntryCount']} events refused by {self.name}")
