"""SQS FIFO queues: the work queue (routing) and the outbound queue (reply dispatch)."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools import Logger
from botocore.awsrequest import AWSResponse
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from botocore.retries.standard import DEFAULT_MAX_ATTEMPTS, RetryContext, StandardRetryConditions

from shopdesk.dal.aws import client

logger = Logger(child=True)

# botocore's standard retry mode (botocore.retries.standard.ExponentialBackoff) waits before retry i (from 1) at most
# min(base * 2 ** (i - 1), 20) s, base 1 s after a throttling error (50 ms after others), raised by an
# x-amz-retry-after header to at most 5 s more
MAX_BACKOFF_SECONDS = 20
THROTTLING_BASE_SECONDS = 1
RETRY_AFTER_EXTRA_SECONDS = 5

# A webhook's request (a provider's batch, the web chat's message or merge) sends through ``Queue.for_request`` with
# the webhooks' client: one attempt, 3 s at worst. A send that failed with an error botocore's standard mode retries
# (a throttle, a 5xx, a connection reset: answered, not waited out) is tried again after a short wait, up to
# ``REQUEST_SEND_ATTEMPTS`` attempts, while one more attempt at its worst still ends within ``REQUEST_SEND_SECONDS``
# of the request's ``for_request``: 5 s, what the webhooks' functions (Timeouts of 10 s and 14 s) leave besides the
# signature, the table's work and the answer. A send that ran out of time (a hang) is not tried again.
REQUEST_SEND_SECONDS = 5.0
REQUEST_SEND_ATTEMPTS = 3
RETRY_WAIT_SECONDS = 0.05       # before a send's first retry, doubled before each next; half to all of it (jitter)


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
        at its worst, not one a message. With the webhooks' client (one attempt), a send refused with an error
        botocore retries is tried again while the request's time allows it (``REQUEST_SEND_SECONDS``); after one
        send failed all its attempts, the request's others are tried once. The caller makes good what is not sent
        as it does a refusal."""
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


# botocore's standard mode's notion of an error worth trying again (throttling, transient codes, 5xx, a connection
# error), without its count of attempts (``REQUEST_SEND_ATTEMPTS`` is ours)
_RETRYABLE = StandardRetryConditions(max_attempts=REQUEST_SEND_ATTEMPTS)


def retryable(sqs: Any, exc: Exception, attempt: int = 1) -> bool:
    """Whether botocore's standard retry mode would try again the call that raised ``exc`` (its ``attempt``, from 1,
    under ``REQUEST_SEND_ATTEMPTS``): a throttle, a transient error code, a 5xx, a connection reset. A timeout is
    retryable to botocore; ``_OneRequest`` never asks about one."""
    operation = sqs.meta.service_model.operation_model("SendMessage")     # botocore's checkers read its service
    if isinstance(exc, ClientError):
        meta = exc.response.get("ResponseMetadata") or {}
        answer = AWSResponse(None, meta.get("HTTPStatusCode"), meta.get("HTTPHeaders") or {}, None)
        context = RetryContext(attempt, operation_model=operation, parsed_response=exc.response, http_response=answer)
    elif isinstance(exc, BotoCoreError):
        context = RetryContext(attempt, operation_model=operation, caught_exception=exc)
    else:
        return False
    return bool(_RETRYABLE.is_retryable(context))


class _OneRequest(Queue):
    def __init__(self, queue: Queue, *, monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        super().__init__(queue.url, answering=queue.answering, webhook=queue.webhook)
        self.queue = queue
        self.timed_out: Exception | None = None
        self.gave_up = False                # a send failed all its attempts: the others are tried once
        self.monotonic, self.sleep = monotonic, sleep
        self.began = monotonic()

    def send(self, body: Mapping[str, Any], *, group: str, dedup_id: str) -> None:
        if self.timed_out is not None:
            raise NotTried("not tried: a send to this queue ran out of time in this request") from self.timed_out
        attempt = 1
        while True:
            try:
                self.queue.send(body, group=group, dedup_id=dedup_id)
                return
            except _TIMED_OUT as exc:
                self.timed_out = exc
                raise
            except Exception as exc:
                wait = self._retry_wait(exc, attempt)
                if wait is None:
                    raise
                logger.warning("queue send refused: tried again", extra={
                    "queue": self.url.rsplit("/", 1)[-1], "attempt": attempt, "wait_ms": round(wait * 1000),
                    "error": exc.response.get("Error", {}).get("Code") if isinstance(exc, ClientError)
                    else type(exc).__name__})
                self.sleep(wait)
                attempt += 1

    def _retry_wait(self, exc: Exception, attempt: int) -> float | None:
        """How long to wait before trying the send that raised ``exc`` again, or None: not again (another client
        than the webhooks', an error botocore would not retry, the attempts used up, or no time left in the request
        for one more attempt at its worst)."""
        if not self.queue.webhook or self.gave_up:
            return None
        if attempt >= REQUEST_SEND_ATTEMPTS:
            self.gave_up = True
            return None
        if not retryable(self.queue.sqs, exc, attempt):
            return None
        wait = RETRY_WAIT_SECONDS * 2 ** (attempt - 1) * (0.5 + random.random() / 2)
        if self.monotonic() - self.began + wait + self.queue.send_worst_seconds() > REQUEST_SEND_SECONDS:
            return None
        return wait
