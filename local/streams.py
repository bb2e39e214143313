"""DynamoDB-stream event-source mappings: read the table's stream in moto and invoke like Lambda.

As in Lambda, per shard and in order: records are read with GetRecords four times a second, those
the mapping's ``FilterCriteria`` reject are dropped, and up to BatchSize reach the function as the
exact ``Records`` event (``eventSourceARN`` added, ``ApproximateCreationDateTime`` in epoch
seconds, binary values base64). With ``ReportBatchItemFailures`` a response naming sequence numbers
checkpoints before the lowest one and the rest of the batch is retried from it; an error, a timeout
or a malformed response retries the whole batch (halved first when ``BisectBatchOnFunctionError``,
which does not count as a retry). After ``MaximumRetryAttempts`` the batch's description (shard,
first and last sequence numbers, stream) goes to the ``OnFailure`` SQS destination and the shard moves
on. A retry waits a little longer each time (up to 5 s), so a failing record never spins.

Every mapping of one shard reads through one ``ShardReader``: a GetRecords made for any of them hands its
records to all of them (each keeps its own position, filters and retries, as separate mappings do in AWS).
Four mappings read the table's stream; reading it once instead of four times took most of the local stack's
time under load (moto serialises each record's images field by field). The reader's GetRecords is still a botocore
call (signed, retried, its errors parsed), but a 200's records are read from the JSON moto wrote, which is already the
Lambda event's form, instead of being parsed attribute by attribute against the service model and written back
(a tenth of the stack's time under load, profiled); a test compares the two for every attribute type.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import time
from datetime import UTC, datetime
from typing import Any

from local.aws import Aws
from local.functions import StreamSource
from local.runtime import Invocation, Runtime

log = logging.getLogger("streams")

POLL_SECONDS = 0.25
READ_LIMIT = 1000           # GetRecords' most
_MISSING = object()


# ---------------------------------------------------------------- records and filters


def _attribute(value: dict[str, Any]) -> dict[str, Any]:
    """An AttributeValue as the Lambda event carries it (binary as base64 text)."""
    ((kind, inner),) = value.items()
    if kind == "B":
        return {"B": base64.b64encode(inner).decode()}
    if kind == "BS":
        return {"BS": [base64.b64encode(b).decode() for b in inner]}
    if kind == "M":
        return {"M": {k: _attribute(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [_attribute(v) for v in inner]}
    return {kind: inner}


def _wire_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """An AttributeValue of GetRecords' JSON as the Lambda event carries it: binary as the base64 text botocore's
    parse and ``_attribute`` give (decoded, then encoded again)."""
    ((kind, inner),) = value.items()
    if kind == "B":
        return {"B": base64.b64encode(base64.b64decode(inner)).decode()}
    if kind == "BS":
        return {"BS": [base64.b64encode(base64.b64decode(b)).decode() for b in inner]}
    if kind == "M":
        return {"M": {k: _wire_attribute(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [_wire_attribute(v) for v in inner]}
    return {kind: inner}


def _keep_records_unparsed(response_dict: dict[str, Any], customized_response_dict: dict[str, Any],
                           **_: Any) -> None:
    """botocore's ``before-parse`` of GetRecords: a 200's records are kept as the JSON moto wrote
    (``RAW_RECORDS``) and only the rest of the answer is parsed. botocore's parse walks each record's images
    attribute by attribute against the service model, then ``lambda_record`` walked them again to write them back
    (most of the stream's reading time under load); ``lambda_record`` reads the JSON instead, to the same event. An
    error's answer is parsed as before."""
    if response_dict.get("status_code") != 200:
        return
    body = json.loads(response_dict["body"])
    records = body.pop("Records", None) or []
    customized_response_dict[RAW_RECORDS] = (records, _BINARY.search(response_dict["body"]) is not None)
    response_dict["body"] = json.dumps(body).encode()


RAW_RECORDS = "LocalRecordsAsSent"
_BINARY = re.compile(rb'"BS?"\s*:')      # a binary value's type anywhere in the answer (a text's quote is escaped)
_RECORD_MEMBERS = ("ApproximateCreationDateTime", "Keys", "NewImage", "OldImage", "SequenceNumber", "SizeBytes",
                   "StreamViewType")        # GetRecords' StreamRecord, in the service model's order


def lambda_record(record: dict[str, Any], stream_arn: str, *, wire: bool = False,
                  binary: bool = True) -> dict[str, Any]:
    """One record of the Lambda DynamoDB-stream event, from a GetRecords result; ``wire``: from its JSON as sent
    (``_keep_records_unparsed``: only the service model's members, as botocore keeps; ``binary``: the answer holds
    a binary value somewhere)."""
    if wire:
        found = record["dynamodb"]
        data = {name: found[name] for name in _RECORD_MEMBERS if name in found}
        if "ApproximateCreationDateTime" in data:
            created = datetime.fromtimestamp(data["ApproximateCreationDateTime"], UTC)   # as botocore reads it
            data["ApproximateCreationDateTime"] = int(created.timestamp())
        if binary:
            for name in ("Keys", "NewImage", "OldImage"):
                if name in data:
                    data[name] = {k: _wire_attribute(v) for k, v in data[name].items()}
    else:
        data = dict(record["dynamodb"])
        created = data.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            data["ApproximateCreationDateTime"] = int(created.timestamp())
        for name in ("Keys", "NewImage", "OldImage"):
            if name in data:
                data[name] = {k: _attribute(v) for k, v in data[name].items()}
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": record.get("awsRegion", ""),
        "dynamodb": data,
        "eventSourceARN": stream_arn,
    }


def _leaf_matches(rule: Any, value: Any) -> bool:
    if isinstance(rule, dict):
        if "prefix" in rule:
            return isinstance(value, str) and value.startswith(str(rule["prefix"]))
        if "exists" in rule:
            return (value is not _MISSING) == bool(rule["exists"])
        if "anything-but" in rule:
            excluded = rule["anything-but"]
            excluded = excluded if isinstance(excluded, list) else [excluded]
            return value is not _MISSING and value not in excluded
        raise ValueError(f"filter rule {rule} is not supported by the local stack")
    return value == rule


def pattern_matches(pattern: Any, value: Any) -> bool:
    """Lambda event filtering: every key of the pattern matches; a list matches if one rule does."""
    if isinstance(pattern, dict):
        if not isinstance(value, dict):
            return False
        return all(pattern_matches(rule, value.get(key, _MISSING)) for key, rule in pattern.items())
    if isinstance(pattern, list):
        return any(_leaf_matches(rule, value) for rule in pattern)
    raise ValueError(f"filter pattern values must be objects or arrays, not {pattern!r}")


def passes(source: StreamSource, record: dict[str, Any]) -> bool:
    return not source.filters or any(pattern_matches(p, record) for p in source.filters)


def failed_position(invocation: Invocation, batch: list[dict[str, Any]], report_failures: bool) -> int | None:
    """Index of the first record to retry, len(batch) when all succeeded, None when the batch failed."""
    if not invocation.ok:
        return None
    result = invocation.result
    if not report_failures or result is None:
        return len(batch)
    if not isinstance(result, dict):
        return None
    failures = result.get("batchItemFailures")
    if failures is None or failures == []:
        return len(batch)
    if not isinstance(failures, list):
        return None
    positions = {r["dynamodb"]["SequenceNumber"]: i for i, r in enumerate(batch)}
    found = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if identifier not in positions:
            return None  # Lambda treats an unknown or empty identifier as a failure of the whole batch
        found.append(positions[identifier])
    return min(found)


# ---------------------------------------------------------------- the pollers


class ShardReader:
    """One shard read once for every mapping of it: a mapping that has nothing buffered makes the GetRecords,
    and the records it gets are buffered for the others. A mapping is caught up only after a read found nothing,
    with nothing buffered for it. A read that reached the shard's end (fewer records than its limit) answers
    another mapping that asks, its buffer empty, less than POLL_SECONDS after the read started: nothing new as of
    that start (each mapping polling on its own made a GetRecords four times a second per mapping, most of them
    finding nothing: the shard is now read about four times a second in all, as each mapping still sees, and a
    busy shard's records reach a mapping in fuller batches). A mapping's own read never answers it again."""

    def __init__(self, stream_arn: str, shard_id: str, starting_position: str, aws: Aws) -> None:
        self.stream_arn = stream_arn
        self.shard_id = shard_id
        self.starting_position = starting_position
        self.aws = aws
        self._lock = threading.Lock()
        self._iterator: str | None = None
        self._unparsed = False
        self._buffers: dict[int, list[dict[str, Any]]] = {}
        self._read_to_end: tuple[float, int] | None = None     # the last read's start and reader, if it reached the end

    def subscribe(self) -> int:
        with self._lock:
            key = len(self._buffers)
            self._buffers[key] = []
            return key

    def read(self, key: int) -> tuple[list[dict[str, Any]], float | None]:
        """Records not yet handed to ``key`` (Lambda's event form), and when the read that found them started
        (None when they came from the buffer)."""
        with self._lock:
            if self._buffers[key]:
                records, self._buffers[key] = self._buffers[key], []
                return records, None
            if self._read_to_end is not None:
                started, reader = self._read_to_end
                if reader != key and time.monotonic() - started < POLL_SECONDS:
                    return [], started
            streams = self.aws.client("dynamodbstreams")
            events = getattr(getattr(streams, "meta", None), "events", None)
            if events is not None and not self._unparsed:      # botocore keeps one per client (shared)
                self._unparsed = True
                events.register(f"before-parse.{streams.meta.service_model.service_id.hyphenize()}.GetRecords",
                                _keep_records_unparsed, unique_id="local-stream-records-unparsed")
            if self._iterator is None:
                self._iterator = streams.get_shard_iterator(StreamArn=self.stream_arn, ShardId=self.shard_id,
                                                            ShardIteratorType=self.starting_position)["ShardIterator"]
            asked = time.monotonic()
            answer = streams.get_records(ShardIterator=self._iterator, Limit=READ_LIMIT)
            self._iterator = answer["NextShardIterator"]
            if RAW_RECORDS in answer:
                sent, binary = answer[RAW_RECORDS]
                records = [lambda_record(raw, self.stream_arn, wire=True, binary=binary) for raw in sent]
            else:
                records = [lambda_record(raw, self.stream_arn) for raw in answer.get("Records") or []]
            for other, buffer in self._buffers.items():
                if other != key:
                    buffer.extend(records)
            self._read_to_end = (asked, key) if len(records) < READ_LIMIT else None
            return records, asked


class ShardPoller:
    def __init__(
        self,
        source: StreamSource,
        shard_id: str,
        aws: Aws,
        runtime: Runtime,
        queues: dict[str, str],
        stop: threading.Event,
        reader: ShardReader | None = None,
    ) -> None:
        self.source = source
        self.shard_id = shard_id
        self.aws = aws
        self.reader = reader or ShardReader(source.stream_arn, shard_id, source.starting_position, aws)
        self.key = self.reader.subscribe()
        self.runtime = runtime
        self.queues = queues
        self.stop = stop
        self.label = f"stream {source.stream_arn.rsplit('/', 3)[-3]} -> {source.function}"
        self.pending: list[dict[str, Any]] = []
        self.invocations = 0
        self.caught_up_at = 0.0  # monotonic time of the last read that found nothing new with nothing pending

    def run(self) -> None:
        limit, attempts = self.source.batch_size, 0
        while not self.stop.is_set():
            if len(self.pending) < self.source.batch_size:
                try:
                    records, asked = self.reader.read(self.key)
                    if not records and not self.pending and asked is not None:
                        self.caught_up_at = asked
                    self.pending.extend(record for record in records if passes(self.source, record))
                except Exception as error:  # keep polling, like the Lambda service
                    if self.stop.is_set():
                        return
                    log.warning("%s: GetRecords failed: %s", self.label, error)
                    self.stop.wait(1)
                    continue
            if not self.pending:
                self.stop.wait(POLL_SECONDS)
                continue
            batch = self.pending[:limit]
            invocation = self.runtime.invoke(self.source.function, {"Records": batch})
            self.invocations += 1
            if self.stop.is_set():
                return
            position = failed_position(invocation, batch, self.source.report_failures)
            if position == len(batch):
                self.pending = self.pending[len(batch) :]
                limit, attempts = self.source.batch_size, 0
                log.info("%s: batch of %d done (%.0f ms)", self.label, len(batch), invocation.duration_ms)
                continue
            if position is None and self.source.bisect and len(batch) > 1:
                limit = max(1, len(batch) // 2)
                log.warning(
                    "%s: batch of %d failed (%s); bisecting",
                    self.label,
                    len(batch),
                    invocation.error_summary or "malformed response",
                )
                continue
            if position:
                self.pending = self.pending[position:]  # checkpoint before the first failure
                batch = batch[position:]
            attempts += 1
            reason = invocation.error_summary or "records reported failed"
            if 0 <= self.source.max_retries < attempts:
                self._give_up(batch, reason)
                self.pending = self.pending[len(batch) :]
                limit, attempts = self.source.batch_size, 0
                continue
            log.warning("%s: %d record(s) to retry (attempt %d): %s", self.label, len(batch), attempts, reason)
            self.stop.wait(min(5.0, 0.2 * 2**attempts))

    def _give_up(self, batch: list[dict[str, Any]], reason: str) -> None:
        log.error(
            "%s: %d record(s) given up after %d retries: %s", self.label, len(batch), self.source.max_retries, reason
        )
        if not self.source.on_failure_arn:
            return
        url = self.queues.get(self.source.on_failure_arn)
        if url is None:
            log.warning(
                "%s: on-failure destination %s is not a queue of the template", self.label, self.source.on_failure_arn
            )
            return
        first, last = batch[0], batch[-1]
        document = {
            "requestContext": {
                "requestId": first["eventID"],
                "functionArn": self.source.function,
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": self.source.max_retries + 1,
            },
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": reason},
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(),
            "DDBStreamBatchInfo": {
                "shardId": self.shard_id,
                "startSequenceNumber": first["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": last["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": first["dynamodb"].get("ApproximateCreationDateTime"),
                "approximateArrivalOfLastRecord": last["dynamodb"].get("ApproximateCreationDateTime"),
                "batchSize": len(batch),
                "streamArn": self.source.stream_arn,
            },
        }
        try:
            self.aws.client("sqs").send_message(QueueUrl=url, MessageBody=json.dumps(document, default=str))
        except Exception as error:  # reported; the shard moves on as Lambda's would
            log.warning("%s: on-failure destination refused the record: %s", self.label, error)


class StreamPollers:
    def __init__(self, sources: list[StreamSource], aws: Aws, runtime: Runtime, queues: dict[str, str]) -> None:
        self.sources = [source for source in sources if source.enabled]
        self.aws = aws
        self.runtime = runtime
        self.queues = queues
        self.stop = threading.Event()
        self.pollers: list[ShardPoller] = []

    def start(self) -> None:
        streams = self.aws.client("dynamodbstreams")
        readers: dict[tuple[str, str, str], ShardReader] = {}
        for source in self.sources:
            shards = streams.describe_stream(StreamArn=source.stream_arn)["StreamDescription"].get("Shards") or []
            for shard in shards:
                where = (source.stream_arn, shard["ShardId"], source.starting_position)
                reader = readers.setdefault(where, ShardReader(*where, self.aws))
                poller = ShardPoller(source, shard["ShardId"], self.aws, self.runtime, self.queues, self.stop, reader)
                self.pollers.append(poller)
                threading.Thread(target=poller.run, daemon=True, name=f"stream {source.function}").start()
            log.info(
                "stream %s -> %s (%d shard(s), batch %d, from %s)",
                source.stream_arn.rsplit("/", 1)[-1],
                source.function,
                len(shards),
                source.batch_size,
                source.starting_position,
            )

    def drain(self, functions: set[str], timeout: float = 10.0) -> bool:
        """Wait until the pollers of ``functions`` have handled every record written before the call (a read
        that started after it found nothing new and nothing was pending); False on timeout."""
        since = time.monotonic()
        pollers = [p for p in self.pollers if p.source.function in functions]
        deadline = since + timeout
        while time.monotonic() < deadline:
            if all(p.caught_up_at > since for p in pollers):
                return True
            self.stop.wait(POLL_SECONDS / 5)
        return False

    def close(self) -> None:
        self.stop.set()
