"""The bot's figures for an operator (``shopdesk.metrics``): ``BotAnswers`` by channel and ``BotHandoffs`` by reason
(each in all too: the hand-overs alarm's), and ``BotResolved`` by why, each counted once, by the write that made the
change: a work item that runs again (a retry, the sweep's re-send, a redrive) finds the message answered or the
conversation handed over, and counts nothing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from shopdesk import clock
from tests.integration import test_bot
from tests.integration.helpers import customer_writes, online, redrive, route_records
from tests.integration.test_bot import Killed, conversation
from tests.integration.test_bot_delivery import REFUSED, dispatch, twilio  # noqa: F401 (fixture)

_router_run_by_the_tests = test_bot._router_run_by_the_tests
bot = test_bot.bot

BOT_FIGURES = ("BotAnswers", "BotHandoffs", "BotResolved")


def _bot_figures(capsys) -> list[tuple[str, dict[str, str], float]]:
    """The bot's EMF lines written since the last call: (metric, its dimensions but the service, value)."""
    found = []
    for line in capsys.readouterr().out.splitlines():
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        figure = json.loads(line)
        [directive] = figure["_aws"]["CloudWatchMetrics"]
        for metric in directive["Metrics"]:
            if metric["Name"] in BOT_FIGURES:
                assert directive["Namespace"] == "shopdesk"
                dimensions = {d: figure[d] for d in directive["Dimensions"][0] if d != "service"}
                value = figure[metric["Name"]]
                found.append((metric["Name"], dimensions, float(sum(value) if isinstance(value, list) else value)))
    return found


def _again(desk, bodies: list[str], dedup: str) -> None:
    """The work items a run took, delivered again (those of a conversation: a drain of a team is no bot's)."""
    mine = [body for body in bodies if "conversation_id" in json.loads(body)]
    assert mine
    for n, body in enumerate(mine):
        redrive(desk, body, f"{dedup}-{n}")
    route_records(desk)


def test_an_answer_is_counted_once_by_channel_and_its_work_run_again_counts_nothing(bot, capsys):
    conv = customer_writes(bot, "+31650200001", "How long does standard delivery take?", "SMmetbot1",
                           channel="whatsapp")
    capsys.readouterr()
    bodies = route_records(bot)
    assert conversation(bot, conv)["status"] == "pending"
    # by channel, and in all (the service's dimension alone), which the hand-overs alarm reads
    assert _bot_figures(capsys) == [("BotAnswers", {"channel": "whatsapp"}, 1.0), ("BotAnswers", {}, 1.0)]
    # When the same work runs again (a redrive): the message is answered, the answer is not counted twice
    _again(bot, bodies, "metbot1")
    assert _bot_figures(capsys) == []


def test_a_hand_over_is_counted_once_by_its_reason_and_its_work_run_again_counts_nothing(bot, capsys):
    online(bot, "alice")
    conv = customer_writes(bot, "+31650200002", "I want to talk to a human please", "SMmetbot2")
    capsys.readouterr()
    bodies = route_records(bot)
    assert conversation(bot, conv)["bot"]["handoff_reason"] == "human_requested"
    assert _bot_figures(capsys) == [("BotHandoffs", {"reason": "human_requested"}, 1.0), ("BotHandoffs", {}, 1.0)]
    _again(bot, bodies, "metbot2")
    assert _bot_figures(capsys) == []


@pytest.mark.usefixtures("bot")
def test_an_answer_the_provider_refused_is_a_send_failed_hand_over_counted_once(desk, twilio, capsys):  # noqa: F811
    conv = customer_writes(desk, "+31650200003", "How long does standard delivery take?", "SMmetbot3")
    route_records(desk)
    online(desk, "alice")
    twilio.script = [REFUSED]
    dispatch(desk, twilio)
    capsys.readouterr()
    bodies = route_records(desk)
    assert conversation(desk, conv)["bot"]["handoff_reason"] == "send_failed"
    assert _bot_figures(capsys) == [("BotHandoffs", {"reason": "send_failed"}, 1.0), ("BotHandoffs", {}, 1.0)]
    # the dispatcher's report delivered again finds the conversation handed over
    _again(desk, bodies, "metbot3")
    assert _bot_figures(capsys) == []


def test_a_confirmation_resolved_after_the_router_died_is_counted_once(bot, capsys, monkeypatch):
    from shopdesk.bot import converse
    conv = customer_writes(bot, "+31650200004", "How long does standard delivery take?", "SMmetbot4a")
    route_records(bot)
    clock.set_offset(120)
    customer_writes(bot, "+31650200004", "Yes, thanks!", "SMmetbot4b")
    # Given the router killed after it thanked the customer, before the resolve
    resolve = converse.resolve

    def killed(*_, **__):
        raise Killed

    monkeypatch.setattr(converse, "resolve", killed)
    capsys.readouterr()
    with pytest.raises(Killed):
        route_records(bot)
    assert _bot_figures(capsys) == []
    monkeypatch.setattr(converse, "resolve", resolve)
    # When the queue delivers the record again, it resolves: counted then, once
    bodies = route_records(bot)
    assert conversation(bot, conv)["status"] == "resolved"
    assert _bot_figures(capsys) == [("BotResolved", {"why": "confirmed"}, 1.0)]
    _again(bot, bodies, "metbot4")
    assert _bot_figures(capsys) == []


def test_a_silent_customer_resolved_by_the_sweep_is_counted_once(bot, capsys):
    conv = customer_writes(bot, "+31650200005", "How long does standard delivery take?", "SMmetbot5")
    route_records(bot)
    clock.set_offset(timedelta(hours=25).total_seconds())
    sweep = {"version": "0", "id": "e", "detail-type": "Scheduled Event", "source": "aws.scheduler",
             "account": "123456789012", "time": "2026-11-22T22:00:00Z", "region": "us-east-1", "resources": [],
             "detail": {}}
    capsys.readouterr()
    bot.invoke("sla_sweep", sweep)
    assert conversation(bot, conv)["status"] == "resolved"
    assert _bot_figures(capsys) == [("BotResolved", {"why": "no_reply"}, 1.0)]
    bot.invoke("sla_sweep", sweep)
    assert _bot_figures(capsys) == []
