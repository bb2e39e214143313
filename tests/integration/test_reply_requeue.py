"""A reply stored but never queued (its function stopped between the transaction that stores it and its send to the
outbound queue) is queued by the sweep a few minutes on, with or without an Idempotency-Key, and sent once
(docs/architecture.md, "Sending exactly once, or saying so")."""

from __future__ import annotations

from typing import Any

import pytest

from shopdesk import clock
from shopdesk.dal.table import deserialize
from tests.integration.helpers import agent, customer_writes, outbound_sent
from tests.integration.test_reply_idempotency import (
    ORDER_UPDATE,
    keyed_template,
    replies_in,
    stopped_before_queueing,
    whatsapp_past_the_window,
)
from tests.integration.test_sla_sweep import Context
from tests.support import FakeTwilio


@pytest.fixture
def provider():
    fake = FakeTwilio()
    yield fake
    fake.close()


def dispatched(desk: Any, provider: FakeTwilio) -> None:
    """The dispatcher takes what waits on the outbound queue and sends it through the Twilio stand-in."""
    desk.drain_queue(desk.outbound_queue_url, "dispatcher", TWILIO_API_BASE_URL=provider.url)


def sweep(desk: Any, seconds: float = 50) -> dict[str, Any]:
    return desk.handler("sla_sweep").lambda_handler({}, Context(seconds=seconds))


def later(seconds: float) -> None:
    clock.set_offset(clock.offset() + seconds)


def reply_item(desk: Any, conv: str, message_id: str) -> dict[str, Any]:
    """The reply's item as the table holds it."""
    rows = desk.client("dynamodb").query(TableName=desk.table_name, KeyConditionExpression="PK = :pk",
                                         ExpressionAttributeValues={":pk": {"S": f"CONV#{conv}"}})["Items"]
    [item] = [deserialize(i) for i in rows if i.get("id", {}).get("S") == message_id]
    return item


def stored_unqueued(desk: Any, monkeypatch: pytest.MonkeyPatch, conv: str, text: str) -> dict[str, Any]:
    """A reply sent without an Idempotency-Key by a function stopped right after the transaction that stores it:
    stored, queued, and never sent to the outbound queue; the inbox's tab closed, nothing repeats it."""
    monkeypatch.setattr(desk.handler("agent_api").inbox.outbound, "send", stopped_before_queueing)
    with pytest.raises(KeyboardInterrupt):
        agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": text})
    monkeypatch.undo()
    [stored] = replies_in(desk, conv)
    assert stored["status"] == "queued" and outbound_sent(desk) == []
    return stored


def test_a_reply_stored_by_a_function_stopped_before_it_queued_it_is_queued_by_the_sweep_and_sent_once(
        desk, monkeypatch, provider):
    # Given a reply stored and never queued
    conv = customer_writes(desk, "+31612349301", "where is my order?", "SMrq1")
    outbound_sent(desk)
    stored = stored_unqueued(desk, monkeypatch, conv, "It ships today")
    # When the sweep runs within the grace, nothing is queued: a delivery may be on it
    assert sweep(desk)["requeued"] == 0
    # Then a sweep past it queues it, and a second sweep right after does not queue it again
    later(150)
    assert sweep(desk)["requeued"] == 1
    assert sweep(desk)["requeued"] == 0
    dispatched(desk, provider)
    assert [r["form"]["Body"] for r in provider.requests] == ["It ships today"]      # the customer gets it once
    [sent] = replies_in(desk, conv)
    assert sent["id"] == stored["id"] and sent["provider_id"] == provider.created[0]["sid"]
    # And taken up, it is out of the Due index: later sweeps find nothing of it
    assert "DuePK" not in reply_item(desk, conv, stored["id"])
    later(600)
    assert sweep(desk)["requeued"] == 0
    dispatched(desk, provider)
    assert len(provider.requests) == 1


def test_a_template_stored_by_a_function_stopped_before_it_queued_it_is_queued_by_the_sweep(desk, monkeypatch):
    conv = whatsapp_past_the_window(desk, "+31612349302", "SMrq2")
    monkeypatch.setattr(desk.handler("agent_api").inbox.outbound, "send", stopped_before_queueing)
    with pytest.raises(KeyboardInterrupt):
        keyed_template(desk, conv, "alice", ORDER_UPDATE, "rq-template-1")
    monkeypatch.undo()
    [stored] = replies_in(desk, conv)
    assert stored["kind"] == "template" and outbound_sent(desk) == []

    later(150)
    assert sweep(desk)["requeued"] == 1

    assert outbound_sent(desk) == [stored["id"]]


def test_a_reply_waiting_in_the_queue_and_queued_again_by_the_sweep_is_sent_once(desk, monkeypatch, provider):
    # Given a reply queued as always, still waiting in the queue past the grace (a backlog)
    conv = customer_writes(desk, "+31612349303", "where is my order?", "SMrq3")
    outbound_sent(desk)
    status, reply = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "It ships today"})
    assert status == 202, reply
    later(150)
    # When the sweep queues it again more than five minutes after the first send, the queue keeps the copy (the local
    # stack's queue would drop it against the record still on it, so the copy goes under another deduplication id)
    outbound = desk.handler("sla_sweep").outbound
    send = outbound.send
    monkeypatch.setattr(outbound, "send", lambda body, *, group, dedup_id: send(body, group=group,
                                                                                dedup_id=dedup_id + "+5min"))
    assert sweep(desk)["requeued"] == 1
    monkeypatch.undo()
    waiting = desk.client("sqs").get_queue_attributes(QueueUrl=desk.outbound_queue_url,
                                                      AttributeNames=["ApproximateNumberOfMessages"])
    assert waiting["Attributes"]["ApproximateNumberOfMessages"] == "2"
    # Then the dispatcher takes both and the provider gets it once
    dispatched(desk, provider)
    assert len(provider.requests) == 1 and outbound_sent(desk) == []
    [sent] = replies_in(desk, conv)
    assert sent["id"] == reply["id"] and sent["provider_id"] == provider.created[0]["sid"]
    assert sent["possibly_duplicate"] is False


def test_a_reply_taken_up_at_once_leaves_nothing_for_the_sweep(desk, provider):
    conv = customer_writes(desk, "+31612349304", "where is my order?", "SMrq4")
    outbound_sent(desk)
    status, reply = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "It ships today"})
    assert status == 202 and reply_item(desk, conv, reply["id"])["DueSK"].endswith("#reply")
    dispatched(desk, provider)
    assert "DuePK" not in reply_item(desk, conv, reply["id"]) and len(provider.requests) == 1
    later(150)
    assert sweep(desk)["requeued"] == 0
    assert outbound_sent(desk) == []


def test_a_requeue_the_queue_refuses_is_left_for_the_next_sweep(desk, monkeypatch, provider):
    conv = customer_writes(desk, "+31612349305", "where is my order?", "SMrq5")
    outbound_sent(desk)
    stored_unqueued(desk, monkeypatch, conv, "It ships today")
    later(150)
    outbound = desk.handler("sla_sweep").outbound
    monkeypatch.setattr(outbound, "url", outbound.url + "-gone")      # SQS: the queue does not exist
    assert sweep(desk)["requeued"] == 0
    monkeypatch.undo()
    assert sweep(desk)["requeued"] == 1
    dispatched(desk, provider)
    assert len(provider.requests) == 1


def test_a_sweep_short_of_time_leaves_the_reply_for_the_next_one(desk, monkeypatch):
    conv = customer_writes(desk, "+31612349306", "where is my order?", "SMrq6")
    outbound_sent(desk)
    stored = stored_unqueued(desk, monkeypatch, conv, "It ships today")
    later(150)
    assert sweep(desk, seconds=9)["requeued"] == 0
    assert outbound_sent(desk) == []
    assert sweep(desk)["requeued"] == 1
    assert outbound_sent(desk) == [stored["id"]]


def test_a_reply_never_taken_up_for_an_hour_is_left_to_the_inbox_as_stuck(desk, monkeypatch):
    conv = customer_writes(desk, "+31612349307", "where is my order?", "SMrq7")
    outbound_sent(desk)
    stored = stored_unqueued(desk, monkeypatch, conv, "It ships today")
    later(3700)
    assert sweep(desk)["requeued"] == 0
    assert "DuePK" not in reply_item(desk, conv, stored["id"])
    [shown] = replies_in(desk, conv)
    assert shown["stuck"] is True



def test_a_reply_its_customers_erase_holds_is_not_queued_again_nor_once_a_failed_erase_lets_it_go(desk, monkeypatch):
    from shopdesk.dal.privacy import SubjectData
    from shopdesk.dal.table import Table

    # Given a reply never queued, then held by its customer's erase (``privacy.erase`` holds the replies not sent)
    conv = customer_writes(desk, "+31612349308", "where is my order?", "SMrq8")
    outbound_sent(desk)
    stored = stored_unqueued(desk, monkeypatch, conv, "It ships today")
    item = reply_item(desk, conv, stored["id"])
    data = SubjectData(Table(desk.table_name))
    data.hold([(item["PK"], item["SK"])], "job-rq8")
    # When the sweep runs past the grace, it queues nothing: the hold took the reply out of the Due index
    later(150)
    assert "DuePK" not in reply_item(desk, conv, stored["id"])
    assert sweep(desk)["requeued"] == 0
    # Then an erase that fails for good lets it go, and it stays for a person to send again, as the dispatcher leaves it
    data.release([(item["PK"], item["SK"])], "job-rq8")
    later(300)
    assert sweep(desk)["requeued"] == 0
    assert outbound_sent(desk) == []


def test_a_reply_the_sweep_finds_held_by_an_erase_is_not_queued(desk, monkeypatch):
    # Given a reply never queued that reads held by its customer's erase while still in the Due index (the hold's
    # write landed between the sweep's Query and its read of the reply)
    conv = customer_writes(desk, "+31612349309", "where is my order?", "SMrq9")
    outbound_sent(desk)
    stored = stored_unqueued(desk, monkeypatch, conv, "It ships today")
    item = reply_item(desk, conv, stored["id"])
    desk.client("dynamodb").update_item(TableName=desk.table_name,
                                        Key={"PK": {"S": item["PK"]}, "SK": {"S": item["SK"]}},
                                        UpdateExpression="SET erasing = :job",
                                        ExpressionAttributeValues={":job": {"S": "job-rq9"}})
    later(150)
    # When the sweep finds it, it queues nothing and takes it out of the Due index
    assert sweep(desk)["requeued"] == 0
    assert outbound_sent(desk) == []
    assert "DuePK" not in reply_item(desk, conv, stored["id"])
