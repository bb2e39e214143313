"""Telling the customer what to expect: on the first message and after hours, in their language,
never twice in a burst, never counted as the first response."""

from __future__ import annotations

from shopdesk.dal.conversations import Conversations
from shopdesk.dal.table import Table
from tests.integration.helpers import agent, customer_writes, online, outbound_sent, redrive, route_records
from tests.integration.test_admin_api import admin_call
from tests.integration.test_sla_rules import WEEKDAYS, at
from tests.support import FakeTwilio


def _acks(desk, conv):
    messages = agent(desk, "GET", f"/agent/conversations/{conv}", "alice")[1]["messages"]
    return [m for m in messages if m["kind"] == "acknowledgement"]


def _turn_on(desk, **extra):
    status, _ = admin_call(desk, "PUT", "/admin/routing", "[admins]", {"acknowledgements": True, **extra})
    assert status == 200


def test_first_message_is_acknowledged_in_the_customers_language_without_stopping_the_clock(desk):
    _turn_on(desk)
    at("2026-11-23T08:00:00+00:00")
    conv = customer_writes(desk, "+31640000001", "Hola, ¿dónde está mi pedido? Gracias", "SMa1")
    desk.drain_queue(desk.work_queue_url, "router")
    [ack] = _acks(desk, conv)
    assert ack["direction"] == "outbound" and "Example Shop" in ack["text"]
    assert "gracias" in ack["text"].lower() or "hola" in ack["text"].lower()       # Spanish
    conversation = agent(desk, "GET", f"/agent/conversations/{conv}", "alice")[1]
    assert conversation["sla"]["first_response_at"] is None                          # not an answer
    assert conversation["sla"]["first_response_due_at"]
    # the customer writes again at once: no second acknowledgement in the burst (and we are open)
    customer_writes(desk, "+31640000001", "¿Hola?", "SMa2")
    desk.drain_queue(desk.work_queue_url, "router")
    assert len(_acks(desk, conv)) == 1


def test_after_hours_messages_are_told_when_the_shop_opens(desk):
    admin_call(desk, "PUT", "/admin/calendars/office", "[admins]", {"time_zone": "Europe/Berlin", "weekly": WEEKDAYS})
    admin_call(desk, "PUT", "/admin/sla-policies/standard", "[admins]", {
        "id": "standard", "name": "Standard", "calendar_id": "office",
        "targets": {p: {"first_response": 3600} for p in ("urgent", "high", "normal", "low")}})
    _turn_on(desk)
    online(desk, "alice")
    at("2026-11-27T20:00:00+00:00")                          # Friday 21:00 in Berlin
    conv = customer_writes(desk, "+31640000002", "Where is my order?", "SMb1")
    desk.drain_queue(desk.work_queue_url, "router")
    [ack] = _acks(desk, conv)
    assert "closed" in ack["text"] and "Monday" in ack["text"] and "10:00" in ack["text"]
    assert "10:00 AM (CET)" in ack["text"]                    # the shop's zone: the customer may live elsewhere


def test_acknowledgement_leaves_through_the_customers_channel(desk):
    twilio = FakeTwilio()
    try:
        _turn_on(desk)
        conv = customer_writes(desk, "+31640000003", "hello", "SMc1", channel="whatsapp")
        desk.drain_queue(desk.work_queue_url, "router")
        desk.drain_queue(desk.outbound_queue_url, "dispatcher", TWILIO_API_BASE_URL=twilio.url)
        [sent] = twilio.requests
        assert sent["form"]["To"] == "whatsapp:+31640000003" and "Example Shop" in sent["form"]["Body"]
        assert _acks(desk, conv)[0]["provider_id"]
    finally:
        twilio.close()


def test_acknowledgements_can_be_switched_off(desk):
    _turn_on(desk)
    admin_call(desk, "PUT", "/admin/routing", "[admins]", {"acknowledgements": False})
    conv = customer_writes(desk, "+31640000004", "hello", "SMd1")
    desk.drain_queue(desk.work_queue_url, "router")
    assert _acks(desk, conv) == []


def test_the_acknowledgement_comes_before_the_assignment_and_never_after_an_answer(desk):
    desk.routes_before_agents = False
    _turn_on(desk)
    online(desk, "alice")
    conv = customer_writes(desk, "+31640000005", "hello", "SMe1")
    desk.drain_queue(desk.work_queue_url, "router")
    messages = agent(desk, "GET", f"/agent/conversations/{conv}", "alice")[1]["messages"]
    kinds = [m["kind"] for m in messages]
    assert kinds.index("acknowledgement") < max(i for i, m in enumerate(messages) if m["direction"] == "system")
    # a second conversation an admin answered before the router got to it (no team's yet): no promise after the answer
    other = customer_writes(desk, "+31640000006", "hello", "SMe2")
    status, _ = agent(desk, "POST", f"/agent/conversations/{other}/replies", "root", {"text": "Hi, here now."},
                      groups="[admins]")
    assert status in (201, 202), status
    desk.drain_queue(desk.work_queue_url, "router")
    assert _acks(desk, other) == []


def test_an_urgent_message_is_promised_the_wait_of_the_queue_it_jumps_not_of_every_one_before_it(desk):
    admin_call(desk, "PUT", "/admin/sla-policies/standard", "[admins]", {
        "id": "standard", "name": "Standard",
        "targets": {"urgent": {"first_response": 900}, "high": {"first_response": 3600},
                    "normal": {"first_response": 4 * 3600}, "low": {"first_response": 8 * 3600}}})
    _turn_on(desk, average_handle_seconds=1800)
    at("2026-11-24T09:00:00+00:00")
    # Given twelve normal conversations waiting, nobody online to take them (an 18-hour queue at 30 minutes each)
    for n in range(12):
        customer_writes(desk, f"+3164100{n:04d}", "Where is my parcel?", f"SMq{n:02d}")
    desk.drain_queue(desk.work_queue_url, "router")
    late = customer_writes(desk, "+31641009999", "Where is my parcel?", "SMq98")
    desk.drain_queue(desk.work_queue_url, "router")
    [behind] = _acks(desk, late)
    assert "busier than usual" in behind["text"], behind["text"]     # normal: told the queue's wait
    # When an urgent one comes (the queue serves it first)
    urgent = customer_writes(desk, "+31641009998", "URGENT: my card was charged twice, please help now", "SMq99")
    desk.drain_queue(desk.work_queue_url, "router")
    assert agent(desk, "GET", f"/agent/conversations/{urgent}", "alice")[1]["priority"] == "urgent"
    # Then it is promised its own target, not the twelve normal ones' wait
    [ack] = _acks(desk, urgent)
    assert ack["text"].endswith("We will reply in about 15 minutes."), ack["text"]
    # The places it counts are the queue's own, read without the conversations: id, rank and waiting time, in order
    conversations = Conversations(Table(desk.table_name), 16)
    waiting, _ = conversations.list_queue("default", limit=100)
    assert waiting[0].id == urgent and len(waiting) == 14
    assert conversations.queue_places("default", limit=100) == [(w.id, w.priority.rank, w.waiting_since)
                                                                for w in waiting]
    assert conversations.queue_places("default", limit=5) == [(w.id, w.priority.rank, w.waiting_since)
                                                              for w in waiting[:5]]


# -- the same work processed again (a retry, the sweep's re-send, a redrive): one acknowledgement per message --------

def test_work_processed_again_after_the_burst_window_sends_no_second_acknowledgement(desk):
    _turn_on(desk)
    at("2026-11-23T14:00:00+00:00")
    # Given a customer's first message, acknowledged
    conv = customer_writes(desk, "+31640000201", "Where is my order?", "SMr1")
    [work] = route_records(desk)
    [ack] = _acks(desk, conv)
    assert outbound_sent(desk) == [ack["id"]]
    # When the same work is processed again at once, and again (a redrive after a fix) eleven minutes later
    redrive(desk, work, "again-1")
    route_records(desk)
    at("2026-11-23T14:11:40+00:00")
    redrive(desk, work, "again-2")
    route_records(desk)
    # Then the customer was promised an answer once, and nothing else went to the outbound queue but that promise
    assert [a["id"] for a in _acks(desk, conv)] == [ack["id"]]
    assert set(outbound_sent(desk)) <= {ack["id"]}


def _office(desk) -> None:
    """Opening hours: weekdays 9 to 5 in Berlin, a one-hour first-response target."""
    admin_call(desk, "PUT", "/admin/calendars/office", "[admins]", {"time_zone": "Europe/Berlin", "weekly": WEEKDAYS})
    admin_call(desk, "PUT", "/admin/sla-policies/standard", "[admins]", {
        "id": "standard", "name": "Standard", "calendar_id": "office",
        "targets": {p: {"first_response": 3600} for p in ("urgent", "high", "normal", "low")}})


def test_a_message_within_the_burst_is_not_acknowledged_when_its_work_comes_again_later(desk):
    _office(desk)
    _turn_on(desk)
    at("2026-11-27T20:00:00+00:00")                          # Friday 21:00 in Berlin: closed, every message counts
    # Given a first message acknowledged, and a second one two minutes later that the burst guard left alone
    conv = customer_writes(desk, "+31640000202", "Where is my order?", "SMr2a")
    route_records(desk)
    at("2026-11-27T20:02:00+00:00")
    customer_writes(desk, "+31640000202", "It was order 1001", "SMr2b")
    [second] = route_records(desk)
    assert len(_acks(desk, conv)) == 1
    # When the second message's work is redriven half an hour later
    at("2026-11-27T20:32:00+00:00")
    redrive(desk, second, "again-3")
    route_records(desk)
    # Then it is still the one acknowledgement: the message was written within the burst
    assert len(_acks(desk, conv)) == 1


def test_a_message_of_opening_hours_is_not_acknowledged_when_its_work_comes_again_after_closing(desk):
    _office(desk)
    _turn_on(desk)
    at("2026-11-27T10:00:00+00:00")                          # Friday 11:00 in Berlin: open
    conv = customer_writes(desk, "+31640000203", "Where is my order?", "SMr3a")
    route_records(desk)
    at("2026-11-27T12:00:00+00:00")
    customer_writes(desk, "+31640000203", "Any news?", "SMr3b")       # open, not the first: not acknowledged
    [later] = route_records(desk)
    assert len(_acks(desk, conv)) == 1
    # When that message's work is redriven in the evening, the shop closed
    at("2026-11-27T19:00:00+00:00")
    redrive(desk, later, "again-4")
    route_records(desk)
    # Then nothing more is promised: the message was written while the shop was open
    assert len(_acks(desk, conv)) == 1


def test_an_acknowledgement_whose_send_failed_goes_out_once_when_the_work_is_retried(desk, monkeypatch):
    from shopdesk.dal.queues import Queue
    desk.routes_before_agents = False
    _turn_on(desk)
    at("2026-11-23T14:00:00+00:00")
    conv = customer_writes(desk, "+31640000204", "Where is my order?", "SMr4")
    # Given the outbound queue refusing the acknowledgement's send once (the acknowledgement already stored)
    sends = Queue.send
    refused: list[str] = []

    def flaky(queue, body, **kwargs):
        if queue.url == desk.outbound_queue_url and not refused:
            refused.append(body["message_id"])
            raise RuntimeError("SQS is unavailable")
        return sends(queue, body, **kwargs)

    monkeypatch.setattr(Queue, "send", flaky)
    route_records(desk)
    [ack] = _acks(desk, conv)
    assert refused == [ack["id"]] and outbound_sent(desk) == []
    # When the queue delivers the work again, eleven minutes later (its retries, or a redrive)
    at("2026-11-23T14:11:00+00:00")
    route_records(desk)
    # Then that acknowledgement goes out, once, and no other is written
    assert [a["id"] for a in _acks(desk, conv)] == [ack["id"]]
    assert outbound_sent(desk) == [ack["id"]]


def test_a_message_redriven_after_a_person_answered_it_is_not_acknowledged(desk):
    _office(desk)
    _turn_on(desk)
    online(desk, "alice")
    at("2026-11-27T20:00:00+00:00")                          # Friday 21:00 in Berlin: closed, every message counts
    # Given a first message acknowledged and given to alice, and one an hour later whose work went to the dead-letter
    # queue (taken off the work queue unrouted)
    conv = customer_writes(desk, "+31640000205", "Where is my order?", "SMr5a")
    route_records(desk)
    assert len(_acks(desk, conv)) == 1
    at("2026-11-27T21:00:00+00:00")
    customer_writes(desk, "+31640000205", "It was order 1001, can you check?", "SMr5b")
    sqs = desk.client("sqs")
    [lost] = sqs.receive_message(QueueUrl=desk.work_queue_url, MaxNumberOfMessages=10)["Messages"]
    sqs.delete_message(QueueUrl=desk.work_queue_url, ReceiptHandle=lost["ReceiptHandle"])
    # and alice answered it five minutes later
    at("2026-11-27T21:05:00+00:00")
    assert agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "On its way!"})[0] == 202
    outbound_sent(desk)
    # When its work is redriven half an hour later
    at("2026-11-27T21:35:00+00:00")
    redrive(desk, lost["Body"], "again-5")
    route_records(desk)
    # Then the customer, who had their answer, is not told when to expect one
    assert len(_acks(desk, conv)) == 1 and outbound_sent(desk) == []
