"""A request's sends to a queue with the webhooks' client (``Queue.for_request``): a send refused with an error
botocore retries is tried again while one more attempt at its worst still fits in the request's time; a hang is
waited out once and the request's other sends are not tried."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, NoCredentialsError, ReadTimeoutError

from shopdesk.dal.queues import REQUEST_SEND_ATTEMPTS, REQUEST_SEND_SECONDS, NotTried, Queue, _OneRequest, retryable

URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/work.fifo"

# the webhooks' client's configuration (dal.aws): one attempt, 1 s to connect and 2 s to read
SQS = boto3.session.Session().client("sqs", region_name="eu-west-1", config=Config(
    retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=1, read_timeout=2))


def _refused(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "refused"},
                        "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}}}, "SendMessage")


def throttled() -> ClientError:
    return _refused("RequestThrottled", 403)        # what SQS answers a send it throttles


def failed() -> ClientError:
    return _refused("InternalError", 500)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.waits: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


class ScriptedQueue(Queue):
    """A queue whose sends each take the next of ``takes`` seconds of the clock and then raise the next of ``answers``
    (None: sent); the last of each is kept for the sends after."""

    def __init__(self, clock: Clock, answers: list[Exception | None], *, takes: list[float] | None = None,
                 webhook: bool = True) -> None:
        super().__init__(URL, answering=not webhook, webhook=webhook)
        self.clock, self.answers, self.takes = clock, answers, takes or [0.02]
        self.sent: list[str] = []
        self.attempts = 0

    @property
    def sqs(self) -> Any:
        return SQS

    def send(self, body: Any, *, group: str, dedup_id: str) -> None:
        self.attempts += 1
        self.clock.now += self.takes.pop(0) if len(self.takes) > 1 else self.takes[0]
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if answer is not None:
            raise answer
        self.sent.append(dedup_id)


def _request(queue: ScriptedQueue) -> _OneRequest:
    return _OneRequest(queue, monotonic=queue.clock.monotonic, sleep=queue.clock.sleep)


def test_botocore_s_retryable_errors_are_throttles_5xx_and_connection_resets_not_a_refusal_of_the_request():
    assert retryable(SQS, throttled())
    assert retryable(SQS, failed())
    assert retryable(SQS, _refused("ServiceUnavailable", 503))
    assert retryable(SQS, ConnectionClosedError(endpoint_url=URL))
    assert not retryable(SQS, _refused("QueueDoesNotExist", 400))
    assert not retryable(SQS, _refused("InvalidMessageContents", 400))
    assert not retryable(SQS, _refused("AccessDenied", 403))
    assert not retryable(SQS, NoCredentialsError())
    assert not retryable(SQS, ValueError("not botocore's"))


@pytest.mark.parametrize("refusal", [throttled, failed, lambda: ConnectionClosedError(endpoint_url=URL)],
                         ids=["throttled", "5xx", "connection reset"])
def test_a_send_refused_quickly_once_is_tried_again_after_a_short_wait_and_sent(refusal):
    # Given a queue that refuses a send quickly once, then takes it
    clock = Clock()
    queue = ScriptedQueue(clock, [refusal(), None])
    # When a request sends to it
    _request(queue).send({"kind": "inbound"}, group="c1", dedup_id="m1")
    # Then the send is tried again after a short wait (50 ms at most before the first retry), and sent
    assert queue.attempts == 2 and queue.sent == ["m1"]
    assert len(clock.waits) == 1 and 0.025 <= clock.waits[0] <= 0.05, clock.waits


def test_a_queue_that_keeps_refusing_quickly_is_tried_a_bounded_number_of_times_then_once_a_send():
    # Given a queue that refuses every send quickly
    clock = Clock()
    queue = ScriptedQueue(clock, [failed()])
    request = _request(queue)
    # When a request sends to it twice
    with pytest.raises(ClientError):
        request.send({"kind": "inbound"}, group="c1", dedup_id="m1")
    first = queue.attempts
    with pytest.raises(ClientError):
        request.send({"kind": "inbound"}, group="c2", dedup_id="m2")
    # Then the first send is tried REQUEST_SEND_ATTEMPTS times and refused, the second once (the queue is down)
    assert (first, queue.attempts - first) == (REQUEST_SEND_ATTEMPTS, 1)
    assert clock.now - 100.0 < 1


def test_a_send_is_tried_again_only_while_one_more_attempt_at_its_worst_fits_in_the_request_s_time():
    # Given a queue that refuses each send with a 503 after 1.5 s (slow, but answered)
    clock = Clock()
    queue = ScriptedQueue(clock, [_refused("ServiceUnavailable", 503)], takes=[1.5])
    # When a request sends to it
    with pytest.raises(ClientError):
        _request(queue).send({"kind": "inbound"}, group="c1", dedup_id="m1")
    # Then it is tried again after 1.5 s (1.5 s, the wait and one attempt at its worst, 3 s, end within the request's
    # 5 s), not after 3 s (3 s and 3 s more would not), and the request's sends end within its time
    assert queue.attempts == 2
    assert queue.send_worst_seconds() == 3
    assert clock.now - 100.0 <= REQUEST_SEND_SECONDS


def test_a_send_that_ran_out_of_time_is_not_tried_again_nor_the_request_s_next():
    # Given a queue that answers nothing until the client stops waiting
    clock = Clock()
    queue = ScriptedQueue(clock, [ReadTimeoutError(endpoint_url=URL)], takes=[3.0])
    request = _request(queue)
    # When a request sends to it twice
    with pytest.raises(ReadTimeoutError):
        request.send({"kind": "inbound"}, group="c1", dedup_id="m1")
    with pytest.raises(NotTried):
        request.send({"kind": "inbound"}, group="c2", dedup_id="m2")
    # Then it waited out one attempt, and tried nothing more
    assert queue.attempts == 1 and clock.waits == []


def test_a_refusal_botocore_does_not_retry_or_another_client_s_is_not_tried_again():
    clock = Clock()
    # a queue that does not exist
    missing = ScriptedQueue(clock, [_refused("QueueDoesNotExist", 400)])
    with pytest.raises(ClientError):
        _request(missing).send({"kind": "inbound"}, group="c1", dedup_id="m1")
    # the agents' bounded client (two attempts of its own): the request adds none
    answering = ScriptedQueue(clock, [throttled(), None], webhook=False)
    with pytest.raises(ClientError):
        _request(answering).send({"kind": "inbound"}, group="c1", dedup_id="m1")
    # botocore's own refusal, before anything was sent: raised as it came
    unsigned = ScriptedQueue(clock, [NoCredentialsError()])
    with pytest.raises(NoCredentialsError):
        _request(unsigned).send({"kind": "inbound"}, group="c1", dedup_id="m1")
    assert (missing.attempts, answering.attempts, unsigned.attempts) == (1, 1, 1)


def test_a_send_tried_again_that_then_runs_out_of_time_ends_the_request_s_sends_within_its_time():
    # Given a queue that throttles a send, then answers nothing until the client stops waiting (3 s)
    clock = Clock()
    queue = ScriptedQueue(clock, [throttled(), ReadTimeoutError(endpoint_url=URL)], takes=[0.02, 3.0])
    request = _request(queue)
    # When a request sends to it twice
    with pytest.raises(ReadTimeoutError):
        request.send({"kind": "inbound"}, group="c1", dedup_id="m1")
    with pytest.raises(NotTried):
        request.send({"kind": "inbound"}, group="c2", dedup_id="m2")
    # Then the send was tried twice, the second waited out, the next not tried: all within the request's time
    assert queue.attempts == 2
    assert clock.now - 100.0 <= REQUEST_SEND_SECONDS
