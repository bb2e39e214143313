"""A customer's message accepted is always routed: the send to the work queue lost after the ingest
transaction (an SQS error, a function stopped between the two) is made good by a delivery of the same message again
(the provider's retry, or for Twilio, which never retries, the replay of the request kept in the ingest-retry queue)
or, when nothing delivers it again, by the sweep; and the router's confirmation takes the work off the marker."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from shopdesk import clock
from shopdesk.dal.queues import Queue
from shopdesk.dal.table import deserialize
from shopdesk.logic.webhooks import IngestRetry
from tests.integration.helpers import agent, online, post_twilio
from tests.support import twilio_form


def _sms(phone: str, sid: str, text: str = "Where is my order?") -> str:
    return twilio_form(MessageSid=sid, From=phone, To="+14155550100", Body=text)


@pytest.fixture
def lost_sends(monkeypatch):
    """The work queue refuses the next ``n`` sends of routing work (after the ingest transaction committed)."""
    state = {"left": 0}
    real = Queue.send

    def send(self, body, *args, **kwargs):
        if body.get("kind") == "inbound" and state["left"] > 0:
            state["left"] -= 1
            raise ClientError({"Error": {"Code": "InternalFailure", "Message": "injected"}}, "SendMessage")
        return real(self, body, *args, **kwargs)

    monkeypatch.setattr(Queue, "send", send)
    return state


@pytest.fixture
def nothing_kept(monkeypatch):
    """The ingest-retry queue refuses the request too (SQS down): Twilio is answered 5xx, and with no Fallback URL
    set nothing delivers the message again."""
    def keep(self, request, group):
        raise ClientError({"Error": {"Code": "InternalFailure", "Message": "injected"}}, "SendMessage")

    monkeypatch.setattr(IngestRetry, "keep", keep)


def _routed(desk, conv_id: str) -> bool:
    """Whether the router has routed the conversation, as an admin reads it (no team's agent sees it before)."""
    _, body = agent(desk, "GET", f"/agent/conversations/{conv_id}", "root", groups="[admins]")
    return body["assignee"] is not None or body["sla"]["first_response_due_at"] is not None


def _conversation_of(desk, phone: str) -> str:
    return desk.item(f"IDENTITY#phone#{phone}")["open_conversation_id"]


def _sweep(desk) -> dict:
    return desk.invoke("sla_sweep", {})


def test_a_delivery_again_sends_the_lost_routing_work(desk, lost_sends):
    online(desk, "alice")
    lost_sends["left"] = 1
    answer = post_twilio(desk, _sms("+31611100001", "SMgap1"))  # stored, its work lost: the request is kept
    assert answer["statusCode"] == 200 and json.loads(answer["headers"]["X-Shopdesk-Outcome"])["kept"] == 1
    conv = _conversation_of(desk, "+31611100001")              # the message is stored already
    desk.drain_queue(desk.work_queue_url, "router")
    assert not _routed(desk, conv)
    # the kept request's replay (as a provider's retry would be): a duplicate, now with its work
    assert desk.drain_queue(desk.env["INGEST_RETRY_QUEUE_URL"], "inbound_twilio") == 1
    desk.drain_queue(desk.work_queue_url, "router")
    assert _routed(desk, conv)
    _, body = agent(desk, "GET", f"/agent/conversations/{conv}", "alice")
    assert [m["provider_id"] for m in body["messages"] if m["direction"] == "inbound"] == ["SMgap1"]


def test_without_a_retry_the_sweep_sends_it_after_the_grace(desk, lost_sends, nothing_kept):
    online(desk, "alice")
    lost_sends["left"] = 1
    with pytest.raises(ClientError):
        post_twilio(desk, _sms("+31611100002", "SMgap2"))
    conv = _conversation_of(desk, "+31611100002")
    assert _sweep(desk)["rerouted"] == 0                      # within the grace: the router may be on it
    clock.set_offset(clock.offset() + 180)
    assert _sweep(desk)["rerouted"] == 1
    desk.drain_queue(desk.work_queue_url, "router")
    assert _routed(desk, conv)
    clock.set_offset(clock.offset() + 600)
    assert _sweep(desk)["rerouted"] == 0                      # confirmed by the router: nothing left to send


def test_routed_messages_leave_nothing_for_the_sweep(desk, monkeypatch):
    online(desk, "alice")
    assert post_twilio(desk, _sms("+31611100003", "SMgap3"))["statusCode"] == 200
    desk.drain_queue(desk.work_queue_url, "router")
    marker = desk.item("EXTMSG#twilio#SMgap3")
    assert "DuePK" not in marker and "work" not in marker       # confirmed: out of the Due index
    clock.set_offset(clock.offset() + 600)
    assert _sweep(desk)["rerouted"] == 0
    # a provider's late duplicate of a routed message is refused and sends nothing again
    sent: list[dict] = []
    real = Queue.send
    monkeypatch.setattr(Queue, "send", lambda self, body, *a, **k: (sent.append(body), real(self, body, *a, **k)))
    assert post_twilio(desk, _sms("+31611100003", "SMgap3"))["statusCode"] == 200
    assert sent == []


def test_the_marker_holds_the_work_until_confirmed(desk):
    assert post_twilio(desk, _sms("+31611100004", "SMgap4"))["statusCode"] == 200
    item = desk.client("dynamodb").get_item(TableName=desk.table_name,
                                            Key={"PK": {"S": "EXTMSG#twilio#SMgap4"}, "SK": {"S": "META"}})["Item"]
    marker = deserialize(item)
    assert marker["DuePK"].startswith("DUE#") and marker["DueSK"].endswith("#routing")
    assert '"kind":"inbound"' in marker["work"] and "order" not in marker["work"]   # ids, never the text


def test_work_done_twice_changes_nothing_people_changed(desk):
    from shopdesk.logic.work import send_inbound
    online(desk, "alice")
    assert post_twilio(desk, _sms("+31611100005", "SMgap5"))["statusCode"] == 200
    work = json.loads(desk.item("EXTMSG#twilio#SMgap5")["work"])
    desk.drain_queue(desk.work_queue_url, "router")
    conv = _conversation_of(desk, "+31611100005")
    status, _ = agent(desk, "PUT", f"/agent/conversations/{conv}/routing", "alice",
                      {"priority": "urgent", "skills": ["returns"]}, groups="[supervisors]")
    assert status == 200
    send_inbound(Queue(desk.work_queue_url), {**work, "message_id": work["message_id"] + "-copy"})
    desk.drain_queue(desk.work_queue_url, "router")
    _, body = agent(desk, "GET", f"/agent/conversations/{conv}", "alice")
    assert body["priority"] == "urgent" and body["skills"] == ["returns"] and body["assignee"] == "alice"
    assert len([m for m in body["messages"] if m["kind"] == "acknowledgement"]) <= 1


def test_a_sweep_short_of_time_leaves_the_routing_work_for_the_next_one(desk, lost_sends, nothing_kept):
    # Given three customers' routing work lost (or the router far behind) past the grace
    from tests.integration.test_sla_sweep import Context
    online(desk, "alice")
    lost_sends["left"] = 3
    convs = []
    for n in range(3):
        with pytest.raises(ClientError):
            post_twilio(desk, _sms(f"+3161110002{n}", f"SMgapt{n}"))
        convs.append(_conversation_of(desk, f"+3161110002{n}"))
    clock.set_offset(clock.offset() + 180)
    sweep = desk.handler("sla_sweep")
    # When a sweep has no time left for them, it sends none and ends within its limit
    assert sweep.lambda_handler({}, Context(seconds=9))["rerouted"] == 0
    # Then the next sweep sends them all, and the router routes them
    assert sweep.lambda_handler({}, Context(seconds=50))["rerouted"] == 3
    desk.drain_queue(desk.work_queue_url, "router")
    assert all(_routed(desk, c) for c in convs)
