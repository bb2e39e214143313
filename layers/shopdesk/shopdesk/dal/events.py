"""EventBridge: domain events on the shop's bus (detail types, and each one's guarantee, are listed in
docs/architecture.md, "Events on the bus")."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from aws_lambda_powertools import Logger

from shopdesk import metrics
from shopdesk.dal.aws import client

logger = Logger(child=True)

SOURCE = "shopdesk"
NOT_PUBLISHED_METRIC = "EventsNotPublished"


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


def publish_or_count(bus: EventBus, events: Sequence[tuple[str, Mapping[str, Any]]], **context: Any) -> bool:
    """Publish events whose work is not failed for them (what they say is recorded already: the bot's events, which a
    work that runs again after a run that died publishes again, ``Bot._publish``, but never for a refusal). When the
    bus refuses them or cannot be reached they are lost, never quietly: logged ("event not published", with
    ``context``) and counted in ``EventsNotPublished`` by detail type and in all, which pages the operator
    (template.yaml, ``EventsNotPublishedAlarm``). True when they went out."""
    try:
        bus.publish(events)
        return True
    except Exception:
        types = [detail_type for detail_type, _ in events]
        logger.exception("event not published", extra={**context, "types": types})
        for detail_type in types:
            metrics.count(NOT_PUBLISHED_METRIC, detail_type=detail_type)
            metrics.count(NOT_PUBLISHED_METRIC)
        return False
