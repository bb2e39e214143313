"""SQS event-source mappings: poll, invoke with the Lambda SQS event, delete what succeeded.

As in Lambda: a batch of up to BatchSize messages is received (long poll, all attributes), the
function gets the exact ``Records`` event, and on success the batch is deleted. With
``ReportBatchItemFailures`` only the records not named in ``batchItemFailures`` are deleted; an
error, a crash, a timeout or a malformed response deletes none. Failed messages are left alone:
they come back when their visibility timeout (or the function's own ChangeMessageVisibility)
expires, and moto's RedrivePolicy moves them to the DLQ after maxReceiveCount. FIFO group order
is moto's, patched to hold a group while any of its messages is in flight, whichever poller took it
(local/moto_patches.py). Lambda scales pollers with the backlog: one poller per source idles, more join while
batches keep arriving, up to LOCAL_CONCURRENCY (or the mapping's MaximumConcurrency).
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from typing import Any

from local.aws import Aws
from local.functions import SqsSource
from local.runtime import Invocation, Runtime

log = logging.getLogger("sqs")

WAIT_SECONDS = 1


def lambda_record(message: dict[str, Any], source: SqsSource, region: str) -> dict[str, Any]:
    """One record of the Lambda SQS event, from a ReceiveMessage result."""
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": dict(message.get("Attributes") or {}),
        "messageAttributes": {
            name: _message_attribute(value)
            for name, value in (message.get("MessageAttributes") or {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": source.queue_arn,
        "awsRegion": region,
    }
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    converted: dict[str, Any] = {
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": value["DataType"],
    }
    if "StringValue" in value:
        converted["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        converted["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    return converted


def failed_ids(
    invocation: Invocation, records: list[dict[str, Any]], report_failures: bool
) -> set[str] | None:
    """Message ids to keep, or None when the whole batch failed (nothing is deleted)."""
    if not invocation.ok:
        return None
    if not report_failures:
        return set()
    result = invocation.result
    if result is None:
        return set()
    if not isinstance(result, dict):
        return None
    failures = result.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return None
    known = {record["messageId"] for record in records}
    keep: set[str] = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in known:
            return None  # Lambda treats an unknown or empty identifier as a failure of the whole batch
        keep.add(identifier)
    return keep


class SourcePoller:
    """All pollers of one event source."""

    def __init__(
        self, source: SqsSource, aws: Aws, runtime: Runtime, limit: int, stop: threading.Event
    ) -> None:
        self.source = source
        self.aws = aws
        self.runtime = runtime
        self.limit = min(limit, source.max_concurrency or limit)
        self.stop = stop
        self.label = f"{source.queue_url.rsplit('/', 1)[-1]} -> {source.function}"
        self._active = 0
        self._lock = threading.Lock()

    def start(self) -> None:
        self._launch(primary=True)

    def _launch(self, primary: bool) -> None:
        with self._lock:
            if self._active >= self.limit:
                return
            self._active += 1
        threading.Thread(target=self._run, args=(primary,), daemon=True, name=f"poller {self.label}").start()

    def _run(self, primary: bool) -> None:
        sqs = self.aws.client("sqs")
        try:
            while not self.stop.is_set():
                try:
                    response = sqs.receive_message(
                        QueueUrl=self.source.queue_url,
                        MaxNumberOfMessages=min(10, self.source.batch_size),
                        WaitTimeSeconds=WAIT_SECONDS,
                        AttributeNames=["All"],
                        MessageSystemAttributeNames=["All"],
                        MessageAttributeNames=["All"],
                    )
                except Exception as error:  # keep polling, like the Lambda service
                    if self.stop.is_set():
                        return
                    log.warning("%s: receive failed: %s", self.label, error)
                    time.sleep(1)
                    continue
                messages = response.get("Messages") or []
                if not messages:
                    if not primary:
                        return  # the backlog is gone: scale back in
                    continue
                self._launch(primary=False)  # more may be waiting: scale out
                self._process(sqs, messages)
        finally:
            with self._lock:
                self._active -= 1

    def _process(self, sqs: Any, messages: list[dict[str, Any]]) -> None:
        records = [lambda_record(message, self.source, self.aws.region) for message in messages]
        invocation = self.runtime.invoke(self.source.function, {"Records": records})
        keep = failed_ids(invocation, records, self.source.report_failures)
        if self.stop.is_set():
            return  # shutting down: the messages come back after their visibility timeout
        if keep is None:
            reason = invocation.error_summary or f"malformed response {str(invocation.result)[:200]}"
            log.warning(
                "%s: batch of %d failed (%.0f ms): %s; none deleted",
                self.label,
                len(records),
                invocation.duration_ms,
                reason,
            )
            return
        done = [record for record in records if record["messageId"] not in keep]
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            entries = [{"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(chunk)]
            try:
                result = sqs.delete_message_batch(QueueUrl=self.source.queue_url, Entries=entries)
                for failure in result.get("Failed") or []:
                    log.warning("%s: delete failed: %s", self.label, failure)
            except Exception as error:  # the messages will simply come back
                log.warning("%s: delete failed: %s", self.label, error)
        log.info(
            "%s: batch of %d, %d done, %d failed (%.0f ms)",
            self.label,
            len(records),
            len(done),
            len(keep),
            invocation.duration_ms,
        )


class Pollers:
    def __init__(self, sources: list[SqsSource], aws: Aws, runtime: Runtime, limit: int) -> None:
        self.stop = threading.Event()
        self.pollers = [
            SourcePoller(source, aws, runtime, limit, self.stop) for source in sources if source.enabled
        ]

    def start(self) -> None:
        for poller in self.pollers:
            poller.start()

    def close(self) -> None:
        self.stop.set()
