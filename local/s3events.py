"""S3 event notifications to functions, delivered as S3 and Lambda's asynchronous invocation do.

moto's S3 sends event notifications to SQS queues (and SNS topics) in-process, but not to Lambda
(that needs Docker). So for every ``Type: S3`` event of a function (and every LambdaConfiguration
a bucket of the template names) the stack creates a private queue, gives the bucket one
notification configuration holding those queues plus the template's own Queue/Topic
configurations, and drains the queues. Only objects created (or removed...) after start are
events; S3's filter rules (prefix/suffix) and event types are moto's. moto's record lacks
userIdentity, requestParameters, responseElements, bucket.ownerIdentity and object.sequencer and
URL-encodes ``/`` in the key, so the stack rebuilds each record as S3 sends it (key URL-encoded
with spaces as ``+`` and ``/`` kept; eventTime on the stack's clock). moto's ``s3:TestEvent`` is
dropped.

Invocations are asynchronous, as Lambda's: each event is invoked once, a failed invocation is
retried MaximumRetryAttempts times (EventInvokeConfig, default 2) within MaximumEventAgeInSeconds,
after 1 s and then 2 s (Lambda waits about one and two minutes), then the event goes to the
OnFailure destination (SQS or SNS: Lambda's invocation record) and to the DeadLetterQueue (SQS or
SNS: the event, with RequestID, ErrorCode and ErrorMessage attributes); with neither it is logged
as lost. ``expect(bucket, key)`` lets ``POST /_local/email?wait=1`` wait for the first attempts.
"""

from __future__ import annotations

import base64
import itertools
import json
import logging
import secrets
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from local.aws import Aws
from local.clock import Clock
from local.functions import Destination, FunctionSpec, S3Source, s3_source
from local.runtime import Runtime
from local.settings import STACK_NAME

log = logging.getLogger("s3")

RETRY_DELAYS_SECONDS = (1.0, 2.0)  # Lambda: about 1 minute, then 2 minutes
OWNER_ID = "A3NL1KOZZKExample"
PRINCIPAL_ID = "AWS:AIDAJDPLRKLG7UEXAMPLE"


def s3_key(key: str) -> str:
    """An object key as S3 event notifications carry it: URL-encoded, spaces as ``+``, ``/`` kept."""
    return urllib.parse.quote_plus(key, safe="/*")


_sequence = itertools.count(1)


def sequencer() -> str:
    """S3's ``sequencer``: upper-case hex that grows with each event on a key."""
    return f"{time.time_ns() // 1000:014X}{next(_sequence) % 0x10000:04X}"


def s3_record(moto_record: dict[str, Any], clock_offset: float) -> dict[str, Any]:
    """The record S3 would send, rebuilt from moto's."""
    s3 = moto_record["s3"]
    key = urllib.parse.unquote_plus(s3["object"]["key"])
    event_name = str(moto_record["eventName"])
    try:
        moment = datetime.strptime(moto_record["eventTime"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except (KeyError, ValueError):
        moment = datetime.now(UTC)
    moment += timedelta(seconds=clock_offset)
    obj: dict[str, Any] = {"key": s3_key(key)}
    if event_name.startswith("ObjectCreated"):
        obj.update(size=s3["object"].get("size", 0), eTag=s3["object"].get("eTag", ""))
    obj["sequencer"] = sequencer()
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": moto_record.get("awsRegion", ""),
        "eventTime": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "eventName": event_name,
        "userIdentity": {"principalId": PRINCIPAL_ID},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {
            "x-amz-request-id": secrets.token_hex(8).upper(),
            "x-amz-id-2": base64.b64encode(secrets.token_bytes(56)).decode(),
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": s3.get("configurationId", ""),
            "bucket": {
                "name": s3["bucket"]["name"],
                "ownerIdentity": {"principalId": OWNER_ID},
                "arn": s3["bucket"]["arn"],
            },
            "object": obj,
        },
    }


# ---------------------------------------------------------------- asynchronous invocation


@dataclass
class Attempt:
    """One attempt of an asynchronous invocation, as ``POST /_local/email?wait=1`` reports it."""

    function: str
    attempt: int
    ok: bool
    result: Any = None
    error: dict[str, Any] | None = None
    duration_ms: float = 0.0
    request_id: str = ""
    will_retry: bool = False

    def describe(self) -> dict[str, Any]:
        outcome = {"result": self.result} if self.ok else {"error": self.error}
        return {
            "function": self.function,
            "attempt": self.attempt,
            "ok": self.ok,
            **outcome,
            "duration_ms": round(self.duration_ms, 1),
            "request_id": self.request_id,
            "will_retry": self.will_retry,
        }


class AsyncInvoker:
    """Lambda's event invocation: queue, retry with backoff, then the destinations or the DLQ."""

    def __init__(self, specs: dict[str, FunctionSpec], runtime: Runtime, aws: Aws, workers: int) -> None:
        self.specs = specs
        self.runtime = runtime
        self.aws = aws
        self.stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=max(4, workers * 2), thread_name_prefix="async")

    def submit(self, function: str, event: Any, label: str, listener: Callable[[Attempt], None]) -> None:
        self._pool.submit(self._run, function, event, label, listener)

    def _run(self, function: str, event: Any, label: str, listener: Callable[[Attempt], None]) -> None:
        config = self.specs[function].async_config
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            invocation = self.runtime.invoke(function, event)
            retries_left = attempt <= config.max_retries
            delay = RETRY_DELAYS_SECONDS[min(attempt - 1, len(RETRY_DELAYS_SECONDS) - 1)]
            young = time.monotonic() - started + delay <= config.max_event_age
            will_retry = not invocation.ok and retries_left and young and not self.stop.is_set()
            try:
                listener(
                    Attempt(
                        function,
                        attempt,
                        invocation.ok,
                        invocation.result,
                        invocation.error,
                        invocation.duration_ms,
                        invocation.request_id,
                        will_retry,
                    )
                )
            except Exception:  # a listener must not stop the invocation
                log.exception("listener of %s failed", label)
            if invocation.ok:
                log.info(
                    "%s -> %s: ok (%.0f ms, attempt %d)", label, function, invocation.duration_ms, attempt
                )
                return
            log.warning(
                "%s -> %s: attempt %d failed (%.0f ms): %s%s",
                label,
                function,
                attempt,
                invocation.duration_ms,
                invocation.error_summary,
                f"; retrying in {delay:.0f} s" if will_retry else "",
            )
            if not will_retry:
                if not self.stop.is_set():
                    self._failed(
                        function, event, invocation.request_id, invocation.error or {}, attempt, label
                    )
                return
            if self.stop.wait(delay):
                return

    def _failed(
        self, function: str, event: Any, request_id: str, error: dict[str, Any], attempts: int, label: str
    ) -> None:
        spec = self.specs[function]
        config = spec.async_config
        if config.on_failure is not None:
            record = {
                "version": "1.0",
                "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "requestContext": {
                    "requestId": request_id,
                    "functionArn": f"{spec.arn}:$LATEST",
                    "condition": "RetriesExhausted",
                    "approximateInvokeCount": attempts,
                },
                "requestPayload": event,
                "responseContext": {
                    "statusCode": 200,
                    "executedVersion": "$LATEST",
                    "functionError": "Unhandled",
                },
                "responsePayload": error,
            }
            self._deliver(config.on_failure, json.dumps(record), {}, f"{label} -> {function} OnFailure")
        if config.dead_letter is not None:
            attributes = {
                "RequestID": ("String", request_id),
                "ErrorCode": ("Number", "200"),
                "ErrorMessage": ("String", str(error.get("errorMessage", ""))[:1000] or "-"),
            }
            self._deliver(config.dead_letter, json.dumps(event), attributes, f"{label} -> {function} DLQ")
        if config.on_failure is None and config.dead_letter is None:
            log.error(
                "%s -> %s: lost after %d attempts (the function has no DeadLetterQueue or OnFailure destination)",
                label,
                function,
                attempts,
            )

    def _deliver(
        self, target: Destination, body: str, attributes: dict[str, tuple[str, str]], label: str
    ) -> None:
        try:
            if target.kind == "SQS":
                url = self.aws.client("sqs").get_queue_url(QueueName=target.arn.rsplit(":", 1)[-1])[
                    "QueueUrl"
                ]
                request: dict[str, Any] = {"QueueUrl": url, "MessageBody": body}
                if attributes:
                    request["MessageAttributes"] = {
                        k: {"DataType": t, "StringValue": v} for k, (t, v) in attributes.items()
                    }
                if url.endswith(".fifo"):
                    request.update(MessageGroupId="lambda", MessageDeduplicationId=str(uuid.uuid4()))
                self.aws.client("sqs").send_message(**request)
            elif target.kind == "SNS":
                request = {"TopicArn": target.arn, "Message": body}
                if attributes:
                    request["MessageAttributes"] = {
                        k: {"DataType": t, "StringValue": v} for k, (t, v) in attributes.items()
                    }
                self.aws.client("sns").publish(**request)
            else:
                log.error("%s: %s targets are not delivered locally (%s)", label, target.kind, target.arn)
                return
            log.warning("%s: sent to %s", label, target.arn)
        except Exception as error:  # report, like Lambda's DeadLetterErrors metric
            log.error("%s: delivery to %s failed: %s", label, target.arn, error)

    def close(self) -> None:
        self.stop.set()
        self._pool.shutdown(wait=False, cancel_futures=True)


# ---------------------------------------------------------------- notifications


@dataclass(eq=False)
class Expectation:
    """The functions an object's creation will invoke, and their first attempts once they ran."""

    pending: set[str]
    attempts: list[Attempt] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)

    def report(self, attempt: Attempt, lock: threading.Lock) -> None:
        with lock:
            if attempt.function not in self.pending:
                return
            self.pending.discard(attempt.function)
            self.attempts.append(attempt)
            if not self.pending:
                self.done.set()


class S3Notifications:
    def __init__(
        self,
        specs: dict[str, FunctionSpec],
        bucket_configurations: dict[str, dict[str, Any]],
        aws: Aws,
        runtime: Runtime,
        clock: Clock,
        workers: int,
    ) -> None:
        self.aws = aws
        self.clock = clock
        self.sources: list[S3Source] = [source for spec in specs.values() for source in spec.s3]
        self.bucket_configurations = bucket_configurations
        self.invoker = AsyncInvoker(specs, runtime, aws, workers)
        self.stop = self.invoker.stop
        self._by_arn = {spec.arn: lid for lid, spec in specs.items()} | {
            spec.name: lid for lid, spec in specs.items()
        }
        self._expectations: dict[tuple[str, str], list[Expectation]] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        configurations: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for bucket, template_config in self.bucket_configurations.items():
            configurations[bucket] = self._template_configuration(bucket, template_config)
        sqs = self.aws.client("sqs")
        for index, source in enumerate(self.sources):
            name = f"{STACK_NAME}-s3-{index}-{source.function}"[:80]
            url = sqs.create_queue(QueueName=name)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            queue_config: dict[str, Any] = {
                "Id": f"{source.function}-{source.event}"[:200],
                "QueueArn": arn,
                "Events": list(source.events),
            }
            if source.filter_rules:
                queue_config["Filter"] = {
                    "Key": {"FilterRules": [{"Name": n, "Value": v} for n, v in source.filter_rules]}
                }
            configurations.setdefault(source.bucket, {}).setdefault("QueueConfigurations", []).append(
                queue_config
            )
            threading.Thread(
                target=self._drain, args=(source, url), daemon=True, name=f"s3 {source.function}"
            ).start()
            log.info("S3 notifications of %s -> %s", source.describe(), source.function)
        s3 = self.aws.client("s3")
        for bucket, configuration in configurations.items():
            s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=configuration)

    def _template_configuration(self, bucket: str, config: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
        """A bucket's NotificationConfiguration (CloudFormation shape) in the S3 API's shape; its
        LambdaConfigurations become sources of the functions they name."""
        converted: dict[str, list[dict[str, Any]]] = {}
        for kind, target, api_kind, api_target in (
            ("QueueConfigurations", "Queue", "QueueConfigurations", "QueueArn"),
            ("TopicConfigurations", "Topic", "TopicConfigurations", "TopicArn"),
        ):
            for item in config.get(kind) or []:
                entry: dict[str, Any] = {api_target: item[target], "Events": [item["Event"]]}
                rules = ((item.get("Filter") or {}).get("S3Key") or {}).get("Rules") or []
                if rules:
                    entry["Filter"] = {
                        "Key": {
                            "FilterRules": [{"Name": r["Name"].lower(), "Value": r["Value"]} for r in rules]
                        }
                    }
                converted.setdefault(api_kind, []).append(entry)
        for index, item in enumerate(config.get("LambdaConfigurations") or []):
            function = self._by_arn.get(str(item.get("Function", "")).removesuffix(":$LATEST"))
            if function is None:
                log.warning(
                    "%s: LambdaConfiguration for %s, not a function of the template",
                    bucket,
                    item.get("Function"),
                )
                continue
            self.sources.append(
                s3_source(function, f"LambdaConfiguration{index}", {"Bucket": bucket, **item})
            )
        return converted

    def _drain(self, source: S3Source, url: str) -> None:
        def dispatch(body: str) -> None:
            try:
                notification = json.loads(body)
            except json.JSONDecodeError:
                notification = {}
            for moto_record in notification.get("Records") or []:  # an s3:TestEvent has none
                self._dispatch(source, s3_record(moto_record, self.clock.offset))

        self.aws.drain(url, self.stop, source.describe(), dispatch)

    def _dispatch(self, source: S3Source, record: dict[str, Any]) -> None:
        bucket = record["s3"]["bucket"]["name"]
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        label = f"{record['eventName']} s3://{bucket}/{key}"
        with self._lock:
            waiting = list(self._expectations.get((bucket, key), []))

        def listener(attempt: Attempt) -> None:
            if attempt.attempt == 1:
                for expectation in waiting:
                    expectation.report(attempt, self._lock)

        self.invoker.submit(source.function, {"Records": [record]}, label, listener)

    # -- waiting for an object's events

    def expect(self, bucket: str, key: str) -> Expectation:
        """Register before creating the object; then ``wait``."""
        functions = {
            s.function for s in self.sources if s.bucket == bucket and s.matches("s3:ObjectCreated:Put", key)
        }
        expectation = Expectation(pending=functions)
        if not functions:
            expectation.done.set()
        with self._lock:
            self._expectations.setdefault((bucket, key), []).append(expectation)
        return expectation

    def wait(self, bucket: str, key: str, expectation: Expectation, timeout: float) -> bool:
        try:
            return expectation.done.wait(timeout)
        finally:
            with self._lock:
                waiting = self._expectations.get((bucket, key), [])
                if expectation in waiting:
                    waiting.remove(expectation)
                if not waiting:
                    self._expectations.pop((bucket, key), None)

    def timeout_for(self, bucket: str, key: str, specs: dict[str, FunctionSpec]) -> float:
        """Long enough for a cold start and the slowest subscribed function's timeout."""
        timeouts = [
            specs[s.function].timeout for s in self.sources if s.bucket == bucket and s.function in specs
        ]
        return min(900.0, max(timeouts, default=3) + 20.0)

    def close(self) -> None:
        self.invoker.close()
