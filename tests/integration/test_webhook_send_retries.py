"""A webhook's routing send that SQS refuses quickly with an error worth trying again (a throttle, a 5xx, a connection
reset) is tried again within the request (``Queue.for_request``), so one transient refusal no longer leaves the
message's routing to the sweep; a queue that keeps refusing is tried a bounded number of times, the request answered
in its function's time and the routing left to the sweep as before. A hang is waited out once
(tests/integration/test_webhook_sends_in_time.py)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectionClosedError

from shopdesk.channels import meta
from shopdesk.dal.aws import client
from shopdesk.dal.queues import REQUEST_SEND_SECONDS, send_worst_seconds
from tests.integration.conftest import TEMPLATE
from tests.integration.helpers import post_twilio
from tests.integration.test_webhook_sends_in_time import ANSWER_MARGIN_SECONDS, _webhook_timeouts
from tests.support import http_event, twilio_form


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **kwargs: Any) -> Iterator[bytes]:
        yield self.data


def _answer(request: Any, kind: str) -> AWSResponse:
    """What SQS answers a send it refuses: a throttle (403 ``RequestThrottled``, as SQS answers one) or a 500."""
    code, status = ("RequestThrottled", 403) if kind == "throttle" else ("InternalError", 500)
    data = json.dumps({"__type": f"com.amazonaws.sqs#{code}", "message": "refused"}).encode()
    return AWSResponse(request.url, status, {"content-type": "application/x-amz-json-1.0",
                                             "x-amzn-query-error": f"{code};{'Sender' if status < 500 else 'Receiver'}",
                                             "x-amzn-requestid": "refused", "content-length": str(len(data))},
                       _Body(data))


@contextmanager
def _work_queue_refuses(desk: Any, refusals: list[str]) -> Iterator[list[str]]:
    """The sends to the work queue with the webhooks' client, each answered by the next of ``refusals`` ("throttle",
    "5xx", "reset": the connection reset before an answer; "sent": the queue takes it), the last for every send
    after. The answers given, one an attempt."""
    given: list[str] = []
    sqs = client("sqs", webhook=True)

    def refuse(request: Any, **kwargs: Any) -> AWSResponse | None:
        body = request.body.decode() if isinstance(request.body, bytes) else str(request.body or "")
        if desk.work_queue_url not in body:
            return None
        kind = refusals.pop(0) if len(refusals) > 1 else refusals[0]
        given.append(kind)
        if kind == "reset":
            raise ConnectionClosedError(endpoint_url=request.url)
        return None if kind == "sent" else _answer(request, kind)

    sqs.meta.events.register_first("before-send.sqs.SendMessage", refuse)
    try:
        yield given
    finally:
        sqs.meta.events.unregister("before-send.sqs.SendMessage", refuse)


def _not_sent(out: str) -> int:
    """The ``RoutingWorkNotSent`` counted in all (EMF lines on stdout)."""
    figures = [json.loads(line) for line in out.splitlines() if line.startswith("{") and '"_aws"' in line]
    return sum(int(sum(f["RoutingWorkNotSent"])) for f in figures if "RoutingWorkNotSent" in f and "work" not in f)


def _waiting(desk: Any) -> list[dict[str, Any]]:
    """The routing work waiting on the work queue."""
    got = desk.client("sqs").receive_message(QueueUrl=desk.work_queue_url, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in got.get("Messages", [])]


def test_a_request_s_sends_tried_again_end_in_its_function_s_time_with_room_to_answer(desk):
    # Given the webhooks' functions and the web chat's, which send through Queue.for_request with the webhooks' client
    timeouts = _webhook_timeouts()
    timeouts["WebchatFunction"] = int(TEMPLATE["Resources"]["WebchatFunction"]["Properties"].get(
        "Timeout", TEMPLATE["Globals"]["Function"]["Timeout"]))
    # Then one more attempt at its worst (3 s) fits in a request's time for its sends, after a quick refusal
    assert send_worst_seconds(client("sqs", webhook=True)) == 3 < REQUEST_SEND_SECONDS
    # and that time leaves each function the room it needs besides (Timeouts of 10 s to 14 s)
    assert all(t >= REQUEST_SEND_SECONDS + ANSWER_MARGIN_SECONDS for t in timeouts.values()), timeouts


@pytest.mark.parametrize("refusal", ["throttle", "5xx", "reset"])
def test_a_twilio_message_whose_routing_send_is_refused_once_is_sent_in_the_request_not_left_to_the_sweep(
        desk, capsys, refusal):
    timeout = _webhook_timeouts()["InboundTwilioFunction"]
    phone = "+31612349181"
    desk.handler("inbound_twilio")        # loaded before the clock starts, as a warm function is
    capsys.readouterr()
    # Given the work queue refusing the first send quickly (a throttle, a 500, a connection reset), then taking them
    with _work_queue_refuses(desk, [refusal, "sent"]) as given:
        # When a customer's SMS comes
        began = time.monotonic()
        result = post_twilio(desk, twilio_form(MessageSid=f"SMretry{refusal}", From=phone, To="+14155550100",
                                               Body="where is my order?"))
        took = time.monotonic() - began
    # Then it is answered 200 with the message stored, in the function's time with room to spare
    assert result["statusCode"] == 200, result
    assert json.loads(result["headers"]["X-Shopdesk-Outcome"])["stored"] == 1
    assert took + ANSWER_MARGIN_SECONDS <= timeout, took
    # and its routing was sent on the second attempt: it waits on the work queue, nothing left to the sweep
    conversation = desk.item(f"IDENTITY#phone#{phone}")["open_conversation_id"]
    assert given == [refusal, "sent"], given
    assert [w["conversation_id"] for w in _waiting(desk)] == [conversation]
    assert _not_sent(capsys.readouterr().out) == 0


@pytest.mark.parametrize("refusal", ["throttle", "5xx", "reset"])
def test_a_messenger_batch_whose_queue_keeps_refusing_is_tried_a_bounded_number_of_times_and_left_to_the_sweep(
        desk, capsys, refusal):
    timeout = _webhook_timeouts()["InboundMessengerFunction"]
    # Given a Messenger batch of four customers' messages
    entry = {"id": "1234567890", "time": 1, "messaging": [
        {"sender": {"id": f"57{n}"}, "recipient": {"id": "1234567890"}, "timestamp": n,
         "message": {"mid": f"m.refused{refusal}{n}", "text": f"where is order {n}?"}} for n in range(4)]}
    raw = json.dumps({"object": "page", "entry": [entry]}).encode()
    event = http_event("POST", "/webhooks/messenger", raw.decode(), {
        "content-type": "application/json", "x-hub-signature-256": meta.sign(raw, "test_app_secret")})
    desk.handler("inbound_messenger")
    capsys.readouterr()
    # and the work queue refusing every send quickly
    with _work_queue_refuses(desk, [refusal]) as given:
        # When the batch comes
        began = time.monotonic()
        result = desk.invoke("inbound_messenger", event)
        took = time.monotonic() - began
    # Then every message is stored and the batch answered 200 in the function's time with room to spare
    assert result["statusCode"] == 200, result
    assert json.loads(result["body"])["stored"] == 4
    assert took + ANSWER_MARGIN_SECONDS <= timeout, took
    # having tried the first send three times and, the queue refusing all three, each other once: six attempts
    assert len(given) == 3 + 1 + 1 + 1, given
    # and the four messages' routing is the sweep's, counted (and paged) as before
    assert _waiting(desk) == []
    assert _not_sent(capsys.readouterr().out) == 4
