"""The writer's sink: events as JSON lines into Kinesis Data Firehose (which converts them to Parquet through
the Glue table's schema and writes them to S3 by day; locally moto writes the lines as they are).

PutRecordBatch takes 500 records and 4 MiB a call; records it reports failed are sent again (three tries),
and what still fails raises, so the stream batch is retried (ids make the repeat harmless)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shopdesk.analytics.events import Event
from shopdesk.dal.aws import client

MAX_RECORDS = 500
MAX_BYTES = 4 * 1024 * 1024 - 64 * 1024
ATTEMPTS = 3


class SinkFailed(RuntimeError):
    """Firehose kept refusing some records."""


def line(event: Event) -> bytes:
    return (event.model_dump_json(exclude_none=True) + "\n").encode()


class FirehoseSink:
    def __init__(self, stream_name: str, firehose: Any = None):
        if not stream_name:
            raise ValueError("the event writer needs EVENTS_STREAM_NAME")
        self.stream_name = stream_name
        self._firehose = firehose

    @property
    def firehose(self) -> Any:
        if self._firehose is None:
            self._firehose = client("firehose")
        return self._firehose

    def put(self, events: Sequence[Event]) -> int:
        """Send every event; answers the number of PutRecordBatch calls."""
        calls = 0
        for chunk in _chunks([line(e) for e in events]):
            pending = chunk
            for _ in range(ATTEMPTS):
                answer = self.firehose.put_record_batch(DeliveryStreamName=self.stream_name,
                                                        Records=[{"Data": data} for data in pending])
                calls += 1
                if not answer.get("FailedPutCount"):
                    pending = []
                    break
                pending = [data for data, result in zip(pending, answer["RequestResponses"], strict=True)
                           if result.get("ErrorCode")]
            if pending:
                raise SinkFailed(f"Firehose refused {len(pending)} event(s) after {ATTEMPTS} tries")
        return calls


def _chunks(lines: list[bytes]) -> list[list[bytes]]:
    chunks: list[list[bytes]] = []
    current: list[bytes] = []
    size = 0
    for data in lines:
        if current and (len(current) == MAX_RECORDS or size + len(data) > MAX_BYTES):
            chunks.append(current)
            current, size = [], 0
        current.append(data)
        size += len(data)
    if current:
        chunks.append(current)
    return chunks
