"""SQS FIFO queues: the work queue (routing) and the outbound queue (reply dispatch)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError
from botocore.retries.standard import DEFAULT_MAX_ATTEMPTS

from shopdesk.dal.aws import client

# botocore's standard retry mode (botocore.retries.standard.ExponentialBackoff) waits before retry i (from 1) at most
# min(base * 2 ** (i - 1), 20) s, base 1 s after a throttling error (50 ms after others), raised by an
# x-amz-retry-after header to at most 5 s more
MAX_BACKOFF_SECONDS = 20
THROTTLING_BASE_SECONDS = 1
RETRY_AFTER_EXTRA_SECONDS = 5


def send_worst_seconds(sqs: Any = None) -> float:
    """The longest one ``Queue.send`` can take before it answers or raises, from the SQS client's configuration
    (``dal.aws``, or ``sqs``): every attempt waiting out its connect and its read timeout, and the longest wait the
    standard retry mode puts before each retry. With the layer's configuration (4 attempts, 3 s and 10 s): 74 s; with
    the one for functions answering a request (``client(..., answering=True)``: 2 attempts, 1 s and 2 s): 12 s; with
    the webhooks' (``client(..., webhook=True)``: 1 attempt, 1 s and 2 s): 3 s."""
    config = (sqs or client("sqs")).meta.config
    attempts = int((config.retries or {}).get("total_max_attempts") or DEFAULT_MAX_ATTEMPTS)
    waits = sum(min(THROTTLING_BASE_SECONDS * 2 ** (i - 1), MAX_BACKOFF_SECONDS) + RETRY_AFTER_EXTRA_SECONDS
                for i in range(1, attempts))
    return float(attempts * (config.connect_timeout + config.read_timeout) + waits)


class Queue:
    """``answering``: sent to while a request waits for its answer (the admin and agent APIs), with the bounded SQS
    client (``dal.aws``), so a queue that hangs is a refusal within the function's time, not its timeout;
    ``webhook``: sent to by a provider's webhook (and the web chat), with the client bounded for their shorter time."""

    def __init__(self, url: str, *, answering: bool = False, webhook: bool = False):
        self.url = url
        self.answering = answering
        self.webhook = webhook

    @property
    def sqs(self) -> Any:
        return client("sqs", answering=self.answering, webhook=self.webhook)

    def send_worst_seconds(self) -> float:
        """The longest one ``send`` can take, with this queue's client."""
        return send_worst_seconds(self.sqs)

    def for_request(self) -> Queue:
        """This queue for the sends of one request (a provider's batch of messages): once one of them waited out its
        client's timeouts, the others are not tried (``NotTried``), so a queue that hangs costs the request one send
        at its worst, not one a message. The caller makes good what is not sent as it does a refusal."""
        return _OneRequest(self)

    def send(self, body: Mapping[str, Any], *, group: str, dedup_id: str) -> None:
        self.sqs.send_message(QueueUrl=self.url, MessageBody=json.dumps(body, separators=(",", ":")),
                                   MessageGroupId=group, MessageDeduplicationId=dedup_id[:128])

    def delay_retries(self, receipts: Mapping[str, int]) -> None:
        """Hide failed messages for their backoff delay (receipt handle -> seconds)."""
        entries = [{"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": max(0, min(seconds, 43200))}
                   for i, (handle, seconds) in enumerate(receipts.items())]
        for start in range(0, len(entries), 10):
            self.sqs.change_message_visibility_batch(QueueUrl=self.url, Entries=entries[start:start + 10])


class NotTried(Exception):
    """A send not tried: one to the same queue in the same request ran out of time (``Queue.for_request``)."""


# what a send that ran out of time raises: the connection not made, or no answer read, within the client's timeouts
_TIMED_OUT = (ConnectTimeoutError, ReadTimeoutError, EndpointConnectionError)


class _OneRequest(Queue):
    def __init__(self, queue: Queue):
        super().__init__(queue.url, answering=queue.answering, webhook=queue.webhook)
        self.queue = queue
        self.timed_out: Exception | None = None

    def send(self, body: Mapping[str, Any], *, group: str, dedup_id: str) -> None:
        if self.timed_out is not None:
            raise NotTried("not tried: a send to this queue ran out of time in this request") from self.timed_out
        try:
            self.queue.send(body, group=group, dedup_id=dedup_id)
        except _TIMED_OUT as exc:
            self.timed_out = exc
            raise
