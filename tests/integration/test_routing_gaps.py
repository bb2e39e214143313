"""A customer's message accepted is always routed: the send to the work queue lost after the ingest
transaction (an SQS error, a function stopped between the two) is made good by the sweep, which re-sends the work the
message's marker keeps, or sooner by a delivery of the same message again (a provider's retry after a function that
stopped); and the router's confirmation takes the work off the marker. A message stored is answered as stored on
every channel, and counted, whether its work went or not; a send the work queue refused is counted in
``RoutingWorkNotSent`` (which pages), and a sweep the queue refuses does the rest of its work and leaves the routing
work due for the next one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from shopdesk import clock
from shopdesk.dal.queues import Queue
from shopdesk.dal.table import deserialize
from tests.integration.helpers import agent, customer_writes, online, post_twilio
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


def _not_sent(out: str) -> list[tuple[str | None, int]]:
    """The ``RoutingWorkNotSent`` figures written: (the work's kind, or None for the figure in all; count)."""
    return sorted(((f.get("work"), int(sum(f["RoutingWorkNotSent"]))) for f in _figures(out)
                   if "RoutingWorkNotSent" in f), key=str)


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
    assert _not_sent(out) == [("inbound", 1), (None, 1)]      # by the work's kind and in all (the alarm's)
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


def test_a_routing_send_refused_is_counted_as_the_alarm_reads_it(desk, lost_sends, capsys, monkeypatch):
    from local.template import load_template
    # Powertools reads the service dimension from the environment when it writes the line: the whole of a Lambda
    # process has the template's (Globals), these tests' only while a handler is imported
    for name in ("POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE"):
        monkeypatch.setenv(name, desk.env[name])
    lost_sends["left"] = 1
    capsys.readouterr()
    assert post_twilio(desk, _sms("+31611100008", "SMgap8"))["statusCode"] == 200
    [line] = [f for f in _figures(capsys.readouterr().out) if "RoutingWorkNotSent" in f and "work" not in f]
    [emitted] = line["_aws"]["CloudWatchMetrics"]
    # the alarm reads the figure in all: its namespace, and the dimensions the line has, with their values
    resources = load_template(Path(__file__).resolve().parents[2] / "template.yaml")["Resources"]
    [alarm] = [r["Properties"] for r in resources.values()
               if r["Type"] == "AWS::CloudWatch::Alarm" and r["Properties"].get("MetricName") == "RoutingWorkNotSent"]
    assert alarm["Namespace"] == emitted["Namespace"]
    assert emitted["Dimensions"] == [[d["Name"] for d in alarm["Dimensions"]]]
    assert {d["Name"]: d["Value"] for d in alarm["Dimensions"]} == {d: line[d] for d in emitted["Dimensions"][0]}


def test_a_rating_whose_work_the_queue_refused_is_stored_and_its_follow_up_sent_by_the_sweep(desk, monkeypatch,
                                                                                           capsys):
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
    capsys.readouterr()
    answer = post_twilio(desk, _sms("+31611100007", "SMgap7a", "5"))
    assert answer["statusCode"] == 200 and json.loads(answer["headers"]["X-Shopdesk-Outcome"])["stored"] == 1
    assert _not_sent(capsys.readouterr().out) == [("csat", 1), (None, 1)]
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


def test_a_sweep_while_the_work_queue_refuses_does_the_rest_of_its_work_and_leaves_the_routing_work_due(
        desk, monkeypatch, capsys, caplog):
    from tests.integration.test_sla_rules import _alerts, at, berlin_office
    from tests.integration.test_snooze import status_of
    # Given a conversation whose first response falls due, and one snoozed until before then
    berlin_office(desk)
    topic, alerts = _alerts(desk)
    online(desk, "alice")
    at("2026-11-23T08:00:00+00:00")                            # Monday 09:00 Berlin
    late = customer_writes(desk, "+31611100030", "Where is my parcel?", "SMgapo0")
    snoozed = customer_writes(desk, "+31611100031", "Call me back", "SMgapo1")
    desk.drain_queue(desk.work_queue_url, "router")
    status, _ = agent(desk, "POST", f"/agent/conversations/{snoozed}/status", "alice",
                      {"status": "snoozed", "until": "2026-11-23T09:00:00+00:00"})
    assert status == 200
    # and the work queue refusing every send (an outage, a policy that shuts the functions out)
    down = {"on": True, "refused": 0}
    real = Queue.send

    def send(self, body, *args, **kwargs):
        if down["on"] and self.url == desk.work_queue_url:
            down["refused"] += 1
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "injected"}}, "SendMessage")
        return real(self, body, *args, **kwargs)

    monkeypatch.setattr(Queue, "send", send)
    unrouted = customer_writes(desk, "+31611100032", "Hello?", "SMgapo2")     # stored; its work refused
    due = desk.item("EXTMSG#twilio#SMgapo2")["DueSK"]
    at("2026-11-23T10:00:30+00:00")                            # the deadline passed, the snooze over
    capsys.readouterr()
    caplog.clear()
    # When the sweep runs while the queue refuses its re-send and its drains
    report = desk.invoke("sla_sweep", {}, SLA_ALERT_TOPIC_ARN=topic)
    # Then it announces the breach and wakes the snoozed conversation all the same
    assert (report["breached"], report["rerouted"]) == (1, 0)
    [alert] = alerts()
    assert (alert["kind"], alert["conversation_id"]) == ("breach", late)
    assert status_of(desk, snoozed)[0] == "open"
    # and counts what the queue refused (the alarm's figure), the routing work still due for the next sweep
    out = capsys.readouterr().out
    assert down["refused"] >= 2
    assert ("inbound", 1) in _not_sent(out) and ("drain", 1) in _not_sent(out)
    assert sum(n for work, n in _not_sent(out) if work is None) == down["refused"] - 1   # -1: the webhook's, earlier
    assert desk.item("EXTMSG#twilio#SMgapo2")["DueSK"] == due
    assert any(r.getMessage().startswith("routing work not re-sent") for r in caplog.records)
    assert [r.getMessage() for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")] == []
    # And once the queue takes sends again, the next sweep sends the work, and the router routes the message
    down["on"] = False
    at("2026-11-23T10:01:30+00:00")
    assert desk.invoke("sla_sweep", {}, SLA_ALERT_TOPIC_ARN=topic)["rerouted"] == 1
    desk.drain_queue(desk.work_queue_url, "router")
    assert _routed(desk, unrouted)
