"""Schedules: moto stores EventBridge schedules but never fires them, so the stack does.

``rate(N minute|minutes|hour|hours|day|days)`` schedules fire on real time, one period after start.
A ``ScheduleV2`` (EventBridge Scheduler) target receives the schedule's ``Input`` (``{}`` without
one); a ``Schedule`` (EventBridge rule) target receives the ``Scheduled Event`` envelope unless it
has an ``Input``. A failed invocation is retried per RetryPolicy (MaximumRetryAttempts, within
MaximumEventAgeInSeconds, backing off), then the event goes to the DeadLetterConfig queue with the
Scheduler's error attributes. ``cron(...)`` expressions are not timed locally: run them by hand.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from typing import Any

from local.aws import Aws
from local.clock import Clock
from local.functions import Schedule
from local.runtime import Invocation, Runtime

log = logging.getLogger("schedule")

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
MAX_RETRY_DELAY_SECONDS = 60.0


def rate_seconds(expression: str) -> float | None:
    match = _RATE.match(expression.strip())
    if match is None:
        return None
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]


class Scheduler:
    def __init__(self, schedules: list[Schedule], aws: Aws, runtime: Runtime, clock: Clock) -> None:
        self.schedules = schedules
        self.aws = aws
        self.runtime = runtime
        self.clock = clock
        self.stop = threading.Event()

    def start(self) -> None:
        for schedule in self.schedules:
            period = rate_seconds(schedule.expression)
            if not schedule.enabled:
                log.info("%s.%s is disabled", schedule.function, schedule.event)
            elif period is None:
                log.warning(
                    "%s.%s: %s is not fired on a timer locally; use POST /_local/schedules/%s/run",
                    schedule.function,
                    schedule.event,
                    schedule.expression,
                    schedule.function,
                )
            else:
                threading.Thread(
                    target=self._timer,
                    args=(schedule, period),
                    daemon=True,
                    name=f"schedule {schedule.function}",
                ).start()

    def close(self) -> None:
        self.stop.set()

    def for_function(self, logical_id: str) -> list[Schedule]:
        return [s for s in self.schedules if s.function == logical_id]

    def event(self, schedule: Schedule) -> Any:
        if schedule.input is not None:
            return schedule.input
        if schedule.kind == "ScheduleV2":
            return {}
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": self.aws.account_id,
            "time": self.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.aws.region,
            "resources": [self.aws.arn("events", f"rule/{schedule.function}{schedule.event}")],
            "detail": {},
        }

    def run_now(self, schedule: Schedule) -> Invocation:
        """One invocation, no retries (``POST /_local/schedules/<id>/run``)."""
        invocation = self.runtime.invoke(schedule.function, self.event(schedule))
        self._log(schedule, invocation, "run by hand")
        return invocation

    def _timer(self, schedule: Schedule, period: float) -> None:
        next_fire = time.monotonic() + period
        while not self.stop.wait(max(0.0, next_fire - time.monotonic())):
            next_fire += period
            self._fire(schedule)

    def _fire(self, schedule: Schedule) -> None:
        event = self.event(schedule)
        first = time.monotonic()
        attempt = 0
        while True:
            invocation = self.runtime.invoke(schedule.function, event)
            self._log(schedule, invocation, "fired" if attempt == 0 else f"retry {attempt}")
            if invocation.ok or self.stop.is_set():
                return
            delay = min(MAX_RETRY_DELAY_SECONDS, 2.0**attempt)
            too_old = time.monotonic() - first + delay > schedule.max_event_age
            if attempt >= schedule.max_retries or too_old:
                self._dead_letter(schedule, event, invocation, attempt)
                return
            attempt += 1
            if self.stop.wait(delay):
                return

    def _dead_letter(self, schedule: Schedule, event: Any, invocation: Invocation, retries: int) -> None:
        if schedule.dlq_url is None:
            log.warning(
                "%s.%s: giving up after %d retries; no dead-letter queue",
                schedule.function,
                schedule.event,
                retries,
            )
            return
        error = invocation.error or {}
        attributes = {
            "ERROR_CODE": str(error.get("errorType", "Unknown")),
            "ERROR_MESSAGE": str(error.get("errorMessage", ""))[:1000] or "-",
            "RETRY_ATTEMPTS": str(retries),
            "TARGET_ARN": self.runtime.pools[schedule.function].spec.arn,
            "SCHEDULE_ARN": self.aws.arn(
                "scheduler", f"schedule/default/{schedule.function}{schedule.event}"
            ),
        }
        request: dict[str, Any] = {
            "QueueUrl": schedule.dlq_url,
            "MessageBody": json.dumps(event),
            "MessageAttributes": {k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
        }
        if schedule.dlq_url.endswith(".fifo"):
            request.update(MessageGroupId=schedule.function, MessageDeduplicationId=str(uuid.uuid4()))
        self.aws.client("sqs").send_message(**request)
        log.warning(
            "%s.%s: sent to the dead-letter queue after %d retries",
            schedule.function,
            schedule.event,
            retries,
        )

    @staticmethod
    def _log(schedule: Schedule, invocation: Invocation, how: str) -> None:
        if invocation.ok:
            log.info("%s.%s %s: ok (%.0f ms)", schedule.function, schedule.event, how, invocation.duration_ms)
        else:
            log.warning(
                "%s.%s %s: failed (%.0f ms): %s",
                schedule.function,
                schedule.event,
                how,
                invocation.duration_ms,
                invocation.error_summary,
            )
