"""The bot's hand-over, answer and resolve events are published at least once: a router (or a sweep) killed between
the bot's write and the event's publish leaves the event to the record's retry (the timer's next run), which publishes
it (the same event: consumers dedupe on the conversation's id and ``at``), never lost uncounted (docs/architecture.md,
"Events on the bus")."""

from __future__ import annotations

import pytest

from shopdesk import clock
from tests.integration import test_bot
from tests.integration.helpers import customer_writes, online, route_records
from tests.integration.test_bot import (
    Killed,
    answers_counted,
    assert_waits_on_the_customer,
    bot_messages,
    conversation,
    published,
)
from tests.integration.test_bot_delivery import REFUSED, dispatch, twilio  # noqa: F401 (fixture)
from tests.integration.test_bot_metrics import _bot_figures

_router_run_by_the_tests = test_bot._router_run_by_the_tests
bot = test_bot.bot
__all__ = ["published"]     # a fixture


@pytest.fixture
def killed_at_publish(monkeypatch):
    """The router killed (as a timeout ends it) when it comes to publish the next event of ``kinds``: after the bot's
    write, before the bus is called. Returns the kinds it was killed at."""
    from shopdesk.bot import converse, resolve
    real, kills, kinds = converse.publish_or_count, [], set()

    def publish(bus, events, **context):
        kind = events[0][0]
        if kind in kinds and kind not in kills:
            kills.append(kind)
            raise Killed
        return real(bus, events, **context)

    monkeypatch.setattr(converse, "publish_or_count", publish)
    monkeypatch.setattr(resolve, "publish_or_count", publish)       # the resolve's (the router's and the sweep's)
    return kinds, kills


def test_a_hand_over_whose_router_was_killed_before_its_event_is_published_by_the_retry(bot, killed_at_publish,
                                                                                       published, capsys):
    kinds, kills = killed_at_publish
    kinds.add("BotHandedOff")
    online(bot, "alice")
    conv = customer_writes(bot, "+31650300001", "I want to talk to a human please", "SMbotev1")
    capsys.readouterr()
    # Given the router killed between the hand-over's write and its event
    with pytest.raises(Killed):
        route_records(bot)
    assert kills == ["BotHandedOff"] and published == []
    state = bot.item(f"CONV#{conv}")["bot"]
    assert state["state"] == "handed_off"
    # When the queue delivers the record again
    route_records(bot)
    # Then the retry publishes the hand-over's event, as the first run would have (its time the hand-over's)
    assert published == [("BotHandedOff", {"conversation_id": conv, "channel": "sms", "team": "default",
                                           "at": state["at"], "handoff_reason": "human_requested"})]
    # counted once (by the write), and routed as any hand-over: a person has it
    assert [f for f in _bot_figures(capsys) if f[0] == "BotHandoffs"] == [
        ("BotHandoffs", {"reason": "human_requested"}, 1.0), ("BotHandoffs", {}, 1.0)]
    assert conversation(bot, conv)["assignee"] == "alice"


@pytest.mark.usefixtures("bot")
def test_a_send_failed_hand_over_whose_router_was_killed_before_its_event_is_published_by_the_retry(
        desk, twilio, killed_at_publish, published):  # noqa: F811
    kinds, kills = killed_at_publish
    conv = customer_writes(desk, "+31650300002", "How long does standard delivery take?", "SMbotev2")
    route_records(desk)
    twilio.script = [REFUSED]
    dispatch(desk, twilio)
    published.clear()
    # Given the router killed between the send_failed hand-over's write and its event
    kinds.add("BotHandedOff")
    with pytest.raises(Killed):
        route_records(desk)
    assert kills == ["BotHandedOff"] and published == []
    state = desk.item(f"CONV#{conv}")["bot"]
    assert (state["state"], state["handoff_reason"]) == ("handed_off", "send_failed")
    # When the queue delivers the dispatcher's report again, the retry publishes the event
    route_records(desk)
    assert [(kind, d["conversation_id"], d["handoff_reason"], d["at"]) for kind, d in published] == [
        ("BotHandedOff", conv, "send_failed", state["at"])]
    assert conversation(desk, conv)["status"] == "open"


@pytest.mark.usefixtures("bot")
def test_a_send_failed_hand_over_whose_router_was_killed_before_its_clocks_ran_again_has_them_run_by_the_retry(
        desk, twilio, published, monkeypatch):  # noqa: F811
    from shopdesk.bot import converse
    from shopdesk.logic.business_time import ConversationClocks
    conv = customer_writes(desk, "+31650300004", "How long does standard delivery take?", "SMbotev4")
    route_records(desk)
    twilio.script = [REFUSED]
    dispatch(desk, twilio)
    # Given the router killed between the send_failed hand-back (open, in the queue) and its clocks' move
    real, kills = converse.sla_engine.apply, []

    def apply(*args, **kwargs):
        if not kills:
            kills.append(1)
            raise Killed
        return real(*args, **kwargs)

    monkeypatch.setattr(converse.sla_engine, "apply", apply)
    with pytest.raises(Killed):
        route_records(desk)
    item = desk.item(f"CONV#{conv}")
    assert item["status"] == "open" and item["bot"]["handoff_reason"] == "send_failed"
    assert ConversationClocks.model_validate_json(item["clocks_json"]).paused
    # When the queue delivers the dispatcher's report again
    route_records(desk)
    # Then the retry runs the clocks from the answer that never went, as the first run would have
    item = desk.item(f"CONV#{conv}")
    clocks = ConversationClocks.model_validate_json(item["clocks_json"])
    assert clocks.paused is False and item["sla"]["first_response_due_at"] > clock.iso(clock.now()), clocks
    assert [kind for kind, _ in published if kind == "BotHandedOff"] == ["BotHandedOff"]
    # and a third delivery moves nothing
    version = item["clocks_version"]
    route_records(desk)
    assert desk.item(f"CONV#{conv}")["clocks_version"] == version


def test_an_answer_whose_router_was_killed_before_its_event_is_published_by_the_retry(bot, killed_at_publish,
                                                                                    published, capsys):
    kinds, kills = killed_at_publish
    kinds.add("BotAnswered")
    conv = customer_writes(bot, "+31650300003", "How long does standard delivery take?", "SMbotev3")
    capsys.readouterr()
    # Given the router killed between the answer's write (its clocks standing still) and its event
    with pytest.raises(Killed):
        route_records(bot)
    assert kills == ["BotAnswered"] and published == []
    [answer] = bot_messages(bot, conv)
    # When the queue delivers the record again
    route_records(bot)
    # Then the retry publishes the answer's event (its time the answer's), sends the answer once, and leaves the
    # conversation as an answer sent at once would; the answer counted once
    state = assert_waits_on_the_customer(bot, conv)
    assert [(kind, d["conversation_id"], d["action"], d["article_id"], d["language"], d["at"])
            for kind, d in published] == [("BotAnswered", conv, "answer", state["article_id"], "en", state["at"])]
    assert [m["id"] for m in bot_messages(bot, conv)] == [answer["id"]]
    assert answers_counted(capsys) == 1
    assert clock.parse_iso(state["at"]) == clock.parse_iso(answer["created_at"])


def _resolved(desk, conv: str, why: str) -> dict:
    """The conversation resolved by the bot (``why``), as stored: its ``bot`` state."""
    item = desk.item(f"CONV#{conv}")
    assert item["status"] == "resolved" and item["bot"]["state"] == "resolved" and item["bot"]["why"] == why, item
    return item["bot"]


def _resolved_notes(desk, conv: str) -> list[dict]:
    """The timeline's bot_resolved entries: what the event lake's bot_resolved row comes from (the table's stream)."""
    return [m for m in conversation(desk, conv)["messages"] if (m.get("event") or {}).get("kind") == "bot_resolved"]


def test_a_confirmation_whose_router_was_killed_before_its_resolved_event_is_published_by_the_retry(
        bot, killed_at_publish, published, capsys):
    from tests.integration.test_bot_delivery import reports, summary
    kinds, kills = killed_at_publish
    conv = customer_writes(bot, "+31650300005", "How long does standard delivery take?", "SMbotev5a")
    route_records(bot)
    clock.set_offset(120)
    customer_writes(bot, "+31650300005", "Yes, thanks!", "SMbotev5b")
    published.clear()
    capsys.readouterr()
    # Given the router killed between the resolve's write and its event
    kinds.add("BotResolved")
    with pytest.raises(Killed):
        route_records(bot)
    assert kills == ["BotResolved"] and published == []
    state = _resolved(bot, conv, "confirmed")
    # When the queue delivers the confirmation's record again
    clock.set_offset(150)
    route_records(bot)
    # Then the retry publishes the resolve's event, as the first run would have (its time the resolve's)
    assert published == [("BotResolved", {"conversation_id": conv, "channel": "sms", "team": "default",
                                           "at": state["at"], "confirmed": True, "article_id": state["article_id"]})]
    # counted once (by the write), with one timeline entry, and the bot_resolve timer gone
    assert [f for f in _bot_figures(capsys) if f[0] == "BotResolved"] == [("BotResolved", {"why": "confirmed"}, 1.0)]
    assert len(_resolved_notes(bot, conv)) == 1
    assert bot.item(f"CONV#{conv}", "DEADLINE#bot_resolve") is None
    # And the event lake's reports count the resolution once
    assert summary(reports(bot))["bot"]["resolved"] == 1


def test_a_silent_resolve_whose_sweep_was_killed_before_its_event_is_published_by_the_next_sweep(
        bot, killed_at_publish, published):
    from datetime import timedelta
    sweep = {"version": "0", "id": "e", "detail-type": "Scheduled Event", "source": "aws.scheduler",
             "account": "123456789012", "time": "2026-11-22T22:00:00Z", "region": "us-east-1", "resources": [],
             "detail": {}}
    kinds, kills = killed_at_publish
    conv = customer_writes(bot, "+31650300006", "How long does standard delivery take?", "SMbotev6")
    route_records(bot)
    published.clear()
    # Given the sweep killed between the silent resolve's write and its event
    kinds.add("BotResolved")
    clock.set_offset(timedelta(hours=25).total_seconds())
    with pytest.raises(Killed):
        bot.invoke("sla_sweep", sweep)
    assert kills == ["BotResolved"] and published == []
    state = _resolved(bot, conv, "no_reply")
    # When the next sweep runs
    clock.set_offset(timedelta(hours=25, minutes=1).total_seconds())
    bot.invoke("sla_sweep", sweep)
    # Then it publishes the resolve's event (its time the resolve's), and the timer is finished
    assert published == [("BotResolved", {"conversation_id": conv, "channel": "sms", "team": "default",
                                           "at": state["at"], "confirmed": False, "article_id": state["article_id"]})]
    assert bot.item(f"CONV#{conv}", "DEADLINE#bot_resolve") is None
    assert len(_resolved_notes(bot, conv)) == 1
    # and a later sweep publishes nothing more
    clock.set_offset(timedelta(hours=25, minutes=2).total_seconds())
    bot.invoke("sla_sweep", sweep)
    assert [kind for kind, _ in published] == ["BotResolved"]
