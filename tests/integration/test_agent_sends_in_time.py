"""The agent API sends to the work and outbound queues while an agent waits for the answer: a queue that hangs is a
refusal answered within the function's time (the layer's bounded SQS client, ``dal.aws``), not a timeout."""

from __future__ import annotations

import time

from shopdesk.dal.aws import client
from tests.integration.conftest import TEMPLATE
from tests.integration.helpers import agent, customer_writes, outbound_sent
from tests.support import sends_hang

# what the agent API needs at least after a send that took its worst, to mark the reply failed and answer
ANSWER_MARGIN_SECONDS = 10


def _agent_timeout() -> int:
    """The agent API function's Timeout, as template.yaml says."""
    return int(TEMPLATE["Resources"]["AgentApiFunction"]["Properties"]["Timeout"])


def test_the_agent_api_s_sends_to_its_queues_take_at_worst_less_than_its_function_s_time_with_room_to_answer(desk):
    # Given the agent API's queues, and its function's Timeout in template.yaml
    module = desk.handler("agent_api")
    # Then both send with the layer's bounded client
    assert module.inbox.outbound.sqs is module.inbox.work.sqs is client("sqs", answering=True)
    # and one send at its worst leaves the function time to record the failure and answer
    assert module.inbox.outbound.send_worst_seconds() + ANSWER_MARGIN_SECONDS <= _agent_timeout()


def test_a_reply_whose_send_to_the_outbound_queue_hangs_is_answered_503_within_the_function_s_time(desk):
    # Given a customer's conversation, assigned to alice
    conv = customer_writes(desk, "+31612349071", "where is my order?", "SMhang1")
    outbound_sent(desk)
    # and the outbound queue hanging: each send to it answers nothing, until the agent API's client stops waiting
    # (its read timeout) and drops the connection, as urllib3 does
    outbound = desk.handler("agent_api").inbox.outbound
    with sends_hang(outbound.url, outbound.sqs) as hung:
        # When alice replies
        began = time.monotonic()
        status, problem = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice",
                                {"text": "It ships today"})
        took = time.monotonic() - began
    # Then the answer is the documented 503, within the function's Timeout (template.yaml) with room to spare
    assert status == 503 and "marked failed" in problem["detail"], problem
    assert took + ANSWER_MARGIN_SECONDS <= _agent_timeout(), took
    assert len(hung) == 2                # two attempts
    # and the reply reads failed, and nothing went to the customer
    [reply] = [m for m in agent(desk, "GET", f"/agent/conversations/{conv}", "alice")[1]["messages"]
               if m["direction"] == "outbound"]
    assert reply["status"] == "failed", reply
    assert outbound_sent(desk) == []
