"""Captures every event put on the template's EventBridge buses, as a rule target would see it.

Each bus gets a catch-all rule (``{"source": [{"prefix": ""}]}``) targeting a local SQS queue in
moto; a background thread drains the queue, so ``GET /_local/events`` lists the event envelopes
exactly as EventBridge delivered them, oldest first.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

from local.aws import Aws
from local.settings import STACK_NAME

log = logging.getLogger("events")

CATCH_ALL = json.dumps({"source": [{"prefix": ""}]})


class EventCapture:
    def __init__(self, aws: Aws, buses: list[str]) -> None:
        self.aws = aws
        self.buses = buses
        self.stop = threading.Event()
        self._items: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._queues: list[str] = []

    def start(self) -> None:
        events, sqs = self.aws.client("events"), self.aws.client("sqs")
        for index, bus in enumerate(self.buses):
            url = sqs.create_queue(QueueName=f"{STACK_NAME}-captured-events-{index}")["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            rule = f"{STACK_NAME}-capture-all"
            events.put_rule(Name=rule, EventBusName=bus, EventPattern=CATCH_ALL, State="ENABLED")
            events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "local-capture", "Arn": arn}])
            self._queues.append(url)
            threading.Thread(target=self._drain, args=(url, bus), daemon=True, name=f"events {bus}").start()
            log.info("capturing every event on bus %s", bus)

    def _drain(self, url: str, bus: str) -> None:
        def keep(body: str) -> None:
            try:
                envelope = json.loads(body)
            except json.JSONDecodeError:
                envelope = {"unparsed": body}
            with self._lock:
                self._items.append(envelope)
            log.info("event on %s: %s / %s", bus, envelope.get("source"), envelope.get("detail-type"))

        self.aws.drain(url, self.stop, f"events {bus}", keep)

    def items(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def close(self) -> None:
        self.stop.set()
