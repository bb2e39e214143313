"""The event bus down (PutEvents failing past the SDK's retries) while the desk works: what each publisher's
events become (docs/architecture.md, "Events on the bus"). The bot's events are at most once: the bot's work goes on
(answer, hand-over, resolve) and each lost event is logged and counted in ``EventsNotPublished`` by detail type,
which pages. A low rating's ``CsatNegative`` is at least once: its work fails and the queue's retry publishes it."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

from shopdesk import clock
from shopdesk.dal.aws import client
from tests.integration import test_bot, test_csat
from tests.integration.helpers import customer_writes, online, route_records
from tests.integration.test_bot import bot_messages, conversation, route
from tests.integration.test_csat import _kinds, _resolved_sms_conversation, _settings, _sms

# the fixtures shared with the bot's and the CSAT tests (the router run by the tests themselves, as there)
_router_run_by_the_tests = test_bot._router_run_by_the_tests
bot = test_bot.bot
alerts = test_csat.alerts


class BusDown:
    """PutEvents fails as EventBridge fails when it is down, until ``up()``."""

    def __init__(self) -> None:
        self.down, self.calls = True, 0

    def __call__(self, **_: object) -> None:
        if self.down:
            self.calls += 1
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "the bus is down"}}, "PutEvents")

    def up(self) -> None:
        self.down = False


@pytest.fixture
def bus_down(desk):
    events = client("events").meta.events
    fault = BusDown()
    events.register("before-call.events.PutEvents", fault, unique_id="bus-down")
    yield fault
    events.unregister("before-call.events.PutEvents", unique_id="bus-down")


def _not_published(capsys) -> list[tuple[str | None, int]]:
    """The ``EventsNotPublished`` figures written since the last call: (detail type or None for all, count)."""
    figures = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    return [(f.get("detail_type"), int(sum(f["EventsNotPublished"]))) for f in figures if "EventsNotPublished" in f]


def test_a_bot_answer_while_the_bus_is_down_goes_out_and_its_lost_event_is_counted(bot, bus_down, capsys, caplog):
    online(bot, "alice")
    conv = customer_writes(bot, "+31650100001", "How long does standard delivery take?", "SMbus1",
                           channel="whatsapp")
    capsys.readouterr()
    # When the router's bot answers while the bus is down
    route(bot)
    # Then the customer has the answer and the conversation waits on them, as with the bus up
    [answer] = bot_messages(bot, conv)
    assert "2-4 working days" in answer["text"]
    seen = conversation(bot, conv)
    assert seen["status"] == "pending" and seen["bot"]["state"] == "answering" and seen["assignee"] is None
    # and the event the bus could not take is counted, by detail type and in all (the alarm's), and logged
    assert bus_down.calls >= 1
    assert sorted(_not_published(capsys), key=str) == [("BotAnswered", 1), (None, 1)]
    assert any(r.getMessage() == "event not published" and r.types == ["BotAnswered"]
               and r.conversation_id == conv for r in caplog.records)


def test_a_bot_hand_over_while_the_bus_is_down_reaches_a_person_and_its_lost_event_is_counted(bot, bus_down,
                                                                                             capsys):
    online(bot, "alice")
    conv = customer_writes(bot, "+31650100002", "I want to talk to a human please", "SMbus2")
    capsys.readouterr()
    route(bot)
    seen = conversation(bot, conv)
    assert seen["bot"]["handoff_reason"] == "human_requested" and seen["assignee"] == "alice"
    assert sorted(_not_published(capsys), key=str) == [("BotHandedOff", 1), (None, 1)]


def test_an_answer_whose_send_failed_while_the_bus_was_down_has_its_lost_event_counted_once(bot, bus_down, capsys,
                                                                                          monkeypatch):
    from shopdesk.dal.queues import Queue
    # Given the outbound queue refusing the bot's answer once, while the bus is down
    sends, refused = Queue.send, []

    def flaky(queue, body, **kwargs):
        if queue.url == bot.outbound_queue_url and not refused:
            refused.append(body["message_id"])
            raise RuntimeError("SQS is unavailable")
        return sends(queue, body, **kwargs)

    monkeypatch.setattr(Queue, "send", flaky)
    conv = customer_writes(bot, "+31650100005", "How long does standard delivery take?", "SMbus5")
    capsys.readouterr()
    route_records(bot)
    assert len(refused) == 1
    # When the record runs again, the bus up by then
    bus_down.up()
    route_records(bot)
    # Then the answer's event the bus refused is counted once, by the run that answered (its retry publishes
    # nothing more: the event is at most once, never lost silently)
    [answer] = bot_messages(bot, conv)
    assert answer["id"] == refused[0] and conversation(bot, conv)["status"] == "pending"
    assert sorted(_not_published(capsys), key=str) == [("BotAnswered", 1), (None, 1)]


def test_the_sweeps_silent_resolve_while_the_bus_is_down_resolves_and_its_lost_event_is_counted(bot, capsys):
    conv = customer_writes(bot, "+31650100003", "How long does standard delivery take?", "SMbus3")
    route(bot)
    assert conversation(bot, conv)["status"] == "pending"
    clock.set_offset(timedelta(hours=25).total_seconds())
    events = client("events").meta.events
    fault = BusDown()
    events.register("before-call.events.PutEvents", fault, unique_id="bus-down-sweep")
    capsys.readouterr()
    try:
        # When the sweep runs the bot's timer while the bus is down
        bot.invoke("sla_sweep", {"version": "0", "id": "e", "detail-type": "Scheduled Event",
                                 "source": "aws.scheduler", "account": "123456789012",
                                 "time": "2026-11-22T22:00:00Z", "region": "us-east-1", "resources": [],
                                 "detail": {}})
    finally:
        events.unregister("before-call.events.PutEvents", unique_id="bus-down-sweep")
    # Then the conversation is resolved, and its lost BotResolved counted
    assert conversation(bot, conv)["status"] == "resolved"
    assert ("BotResolved", 1) in _not_published(capsys)


def test_a_low_ratings_alert_while_the_bus_is_down_is_published_by_the_works_retry_once(desk, bus_down, alerts,
                                                                                       capsys):
    _settings(desk, comment_prompt=False)
    conv = _resolved_sms_conversation(desk, "+31612340290", "SMbus4")
    # When the customer rates 1 while the bus is down
    _sms(desk, "+31612340290", "1", "SMbus4a")
    route_records(desk)
    # Then the rating's work failed (it waits for the queue's retry), the follow-up is recorded once, nothing on the
    # bus yet, and nothing counted as lost
    assert bus_down.calls >= 1 and alerts(1, deadline_s=0.5) == []
    assert len(_kinds(desk, conv, "csat_follow_up")) == 1
    assert _not_published(capsys) == []
    # When the bus is back and the queue delivers the work again
    bus_down.up()
    route_records(desk)
    # Then the alert is published, once, and no second follow-up written
    [event] = alerts(1)
    assert event["detail-type"] == "CsatNegative" and event["detail"]["conversation_id"] == conv
    assert event["detail"]["score"] == 1
    route_records(desk)
    assert alerts(1, deadline_s=0.5) == []
    assert len(_kinds(desk, conv, "csat_follow_up")) == 1
