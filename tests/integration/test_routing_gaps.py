"""A customer's message accepted is always routed: the send to the work queue lost after the ingest
transaction (an SQS error, a function stopped between the two) is made good by the sweep, which re-sends the work the
message's marker keeps, or sooner by a delivery of the same message again (a provider's retry after a function that
stopped); and the router's confirmation takes the work off the marker. A message stored is answered as stored on
every channel, and counted, whether its work went or not."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from shopdesk import clock
from shopdesk.dal.queues import Queue
from shopdesk.dal.table import deserialize
from tests.integration.helpers import agent, online, post_twilio
from tests.support import http_event, sample, twilio_form


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


def _routed(desk, conv_id: str) -> bool:
    """Whether the router has routed the conversation, as an admin reads it (no team's agent sees it before)."""
    _, body = agent(desk, "GET", f"/agent/conversations/{conv_id}", "root", groups="[admins]")
    return body["assignee"] is not None or body["sla"]["first_response_due_at"] is not None


def _conversation_of(desk, phone: str) -> str:
    return desk.item(f"IDENTITY#phone#{phone}")["open_conversation_id"]


def _sweep(desk) -> dict:
    return desk.invoke("sla_sweep", {})


def _figures(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{") and '"_aws"' in line]


def _received(out: str, channel: str) -> float:
    """How many messages of ``channel`` the handlers counted in ``MessagesReceived`` (EMF lines on stdout)."""
    found = [f["MessagesReceived"] for f in _figures(out) if "MessagesReceived" in f and f.get("channel") == channel]
    return sum(sum(v) if isinstance(v, list) else v for v in found)


def _twilio(desk) -> str:
    answer = post_twilio(desk, _sms("+31611100010", "SMgapch"))
    assert answer["statusCode"] == 200, answer
    assert json.loads(answer["headers"]["X-Shopdesk-Outcome"])["stored"] == 1     # stored, not kept for a replay
    assert json.loads(answer["headers"]["X-Shopdesk-Outcome"])["kept"] == 0
    return "sms"


def _meta(function: str, folder: str, channel: str):
    def post(desk) -> str:
        body, sidecar = sample(folder, "text")
        signature = sidecar["http"]["headers"]["X-Hub-Signature-256"]
        event = http_event("POST", f"/webhooks/{channel}", body, {"content-type": "application/json",
                                                                   "x-hub-signature-256": signature})
        assert desk.invoke(function, event)["statusCode"] == 200
        return channel
    return post


def _telegram(desk) -> str:
    body, _ = sample("telegram", "text_captured")
    event = http_event("POST", "/webhooks/telegram", body, {"content-type": "application/json",
                                                             "x-telegram-bot-api-secret-token": "test_secret_token-1"})
    answer = desk.invoke("inbound_telegram", event)
    assert answer["statusCode"] == 200 and json.loads(answer["body"])["stored"] == 1, answer
    return "telegram"


def _email(desk) -> str:
    from tests.integration.test_email import _deliver, _eml
    assert _deliver(desk, _eml(message_id="<gap@customer.example>"), "gap-mail") == {"stored": 1, "duplicates": 0}
    return "email"


def _webchat(desk) -> str:
    from tests.integration.test_widget import _call, _session
    status, sent, _ = _call(desk, "POST", "/widget/messages", {"client_message_id": "gap1", "text": "Hello?"},
                            _session(desk, "visitor-gap"))
    assert status == 201 and sent["status"] == "stored", sent
    return "webchat"


def _stored(desk) -> dict[str, list[str]]:
    """Every conversation (an admin's view: unrouted ones too) with the ids of its customer's messages."""
    _, listed = agent(desk, "GET", "/agent/conversations", "root", query="view=all", groups="[admins]")
    return {c["id"]: [m["id"] for m in agent(desk, "GET", f"/agent/conversations/{c['id']}", "root",
                                             groups="[admins]")[1]["messages"] if m["direction"] == "inbound"]
            for c in listed["items"]}


CHANNELS = {"twilio": _twilio, "whatsapp": _meta("inbound_whatsapp", "meta_whatsapp", "whatsapp"),
            "messenger": _meta("inbound_messenger", "meta_messenger", "messenger"),
            "instagram": _meta("inbound_instagram", "meta_instagram", "instagram"),
            "telegram": _telegram, "email": _email, "webchat": _webchat}


@pytest.mark.parametrize("post", CHANNELS.values(), ids=CHANNELS.keys())
def test_a_message_stored_whose_routing_work_the_queue_refused_is_answered_stored_counted_and_routed_by_the_sweep(
        desk, lost_sends, capsys, caplog, post):
    # Given the work queue refusing the routing work once the message is stored
    online(desk, "alice")
    desk.routes_before_agents = False
    lost_sends["left"] = 1
    capsys.readouterr()
    caplog.clear()
    # When a customer writes: the provider's call is answered as stored (asserted in ``post``)
    channel = post(desk)
    out = capsys.readouterr().out
    assert lost_sends["left"] == 0                              # the send was refused
    # Then the message is stored once and counted once, and the log says the sweep sends its work (a warning)
    [(conv, [_message])] = _stored(desk).items()
    assert _received(out, channel) == 1
    [warned] = [r for r in caplog.records if r.getMessage() == "routing work not sent: the sweep sends it"]
    assert warned.levelname == "WARNING" and warned.conversation_id == conv and warned.work == "inbound"
    assert [r.getMessage() for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")] == []
    assert desk.drain_queue(desk.env["INGEST_RETRY_QUEUE_URL"], "inbound_twilio") == 0    # nothing kept to replay
    desk.drain_queue(desk.work_queue_url, "router")
    assert not _routed(desk, conv)
    assert _sweep(desk)["rerouted"] == 0                      # within the grace: the router may be on it
    # And after the grace the sweep sends it, the router routes it, and the message is still there once
    clock.set_offset(clock.offset() + 180)
    assert _sweep(desk)["rerouted"] == 1
    desk.drain_queue(desk.work_queue_url, "router")
    assert _routed(desk, conv)
    assert [len(ids) for ids in _stored(desk).values()] == [1]
    clock.set_offset(clock.offset() + 600)
    assert _sweep(desk)["rerouted"] == 0


def test_a_delivery_again_sends_routing_work_not_confirmed(desk, lost_sends, capsys):
    # Given a message stored whose work was lost (answered 200: stored)
    online(desk, "alice")
    desk.routes_before_agents = False
    lost_sends["left"] = 1
    assert post_twilio(desk, _sms("+31611100001", "SMgap1"))["statusCode"] == 200
    conv = _conversation_of(desk, "+31611100001")
    desk.drain_queue(desk.work_queue_url, "router")
    assert not _routed(desk, conv)
    # When the same message is delivered again (Twilio's Fallback URL call, a provider's retry after a function
    # that stopped between the store and the send): a duplicate, and its work goes now
    answer = post_twilio(desk, _sms("+31611100001", "SMgap1"))
    assert answer["statusCode"] == 200 and json.loads(answer["headers"]["X-Shopdesk-Outcome"])["duplicates"] == 1
    desk.drain_queue(desk.work_queue_url, "router")
    assert _routed(desk, conv)
    _, body = agent(desk, "GET", f"/agent/conversations/{conv}", "alice")
    assert [m["provider_id"] for m in body["messages"] if m["direction"] == "inbound"] == ["SMgap1"]
    assert _received(capsys.readouterr().out, "sms") == 1         # counted once: the duplicate is not


def test_a_duplicate_whose_work_the_queue_refuses_again_is_answered_and_left_to_the_sweep(desk, lost_sends):
    online(desk, "alice")
    desk.routes_before_agents = False
    lost_sends["left"] = 2
    assert post_twilio(desk, _sms("+31611100006", "SMgap6"))["statusCode"] == 200
    answer = post_twilio(desk, _sms("+31611100006", "SMgap6"))
    assert answer["statusCode"] == 200 and json.loads(answer["headers"]["X-Shopdesk-Outcome"])["duplicates"] == 1
    assert lost_sends["left"] == 0
    conv = _conversation_of(desk, "+31611100006")
    clock.set_offset(clock.offset() + 180)
    assert _sweep(desk)["rerouted"] == 1
    desk.drain_queue(desk.work_queue_url, "router")
    assert _routed(desk, conv)


def test_a_rating_whose_work_the_queue_refused_is_stored_and_its_follow_up_sent_by_the_sweep(desk, monkeypatch):
    from shopdesk.dal.queues import Queue
    from tests.integration.test_csat import _kinds, _resolved_sms_conversation, _settings
    _settings(desk)
    conv = _resolved_sms_conversation(desk, "+31611100007", "SMgap7")
    refused: list[str] = []
    real = Queue.send

    def send(self, body, *args, **kwargs):
        if body.get("kind") == "csat" and not refused:
            refused.append(body["message_id"])
            raise ClientError({"Error": {"Code": "InternalFailure", "Message": "injected"}}, "SendMessage")
        return real(self, body, *args, **kwargs)

    monkeypatch.setattr(Queue, "send", send)
    answer = post_twilio(desk, _sms("+31611100007", "SMgap7a", "5"))
    assert answer["statusCode"] == 200 and json.loads(answer["headers"]["X-Shopdesk-Outcome"])["stored"] == 1
    [rating] = _kinds(desk, conv, "csat_answer")
    assert refused == [rating["id"]]
    desk.drain_queue(desk.work_queue_url, "router")
    assert _kinds(desk, conv, "csat_follow_up") == []
    clock.set_offset(clock.offset() + 180)
    assert _sweep(desk)["rerouted"] == 1
    desk.drain_queue(desk.work_queue_url, "router")
    assert len(_kinds(desk, conv, "csat_follow_up")) == 1


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


def test_a_sweep_short_of_time_leaves_the_routing_work_for_the_next_one(desk, lost_sends):
    # Given three customers' routing work lost (or the router far behind) past the grace
    from tests.integration.test_sla_sweep import Context
    online(desk, "alice")
    lost_sends["left"] = 3
    convs = []
    for n in range(3):
        assert post_twilio(desk, _sms(f"+3161110002{n}", f"SMgapt{n}"))["statusCode"] == 200
        convs.append(_conversation_of(desk, f"+3161110002{n}"))
    clock.set_offset(clock.offset() + 180)
    sweep = desk.handler("sla_sweep")
    # When a sweep has no time left for them, it sends none and ends within its limit
    assert sweep.lambda_handler({}, Context(seconds=9))["rerouted"] == 0
    # Then the next sweep sends them all, and the router routes them
    assert sweep.lambda_handler({}, Context(seconds=50))["rerouted"] == 3
    desk.drain_queue(desk.work_queue_url, "router")
    assert all(_routed(desk, c) for c in convs)
