"""Which replies are stuck in the outbound queue (shopdesk.logic.stuck): not sent, not failed, and nothing tried to
send them, or a reply ahead of them in their conversation's queue, for an hour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from shopdesk.logic.stuck import gave_up, stuck_replies
from shopdesk.models import Direction, Message, SendIntent

T0 = datetime(2026, 5, 1, 9, tzinfo=UTC)


def _reply(id: str, minute: int, conversation: str = "c_1", **changes: Any) -> Message:
    return Message(**{"id": id, "conversation_id": conversation, "direction": Direction.OUTBOUND, "status": "queued",
                      "created_at": T0 + timedelta(minutes=minute), **changes})


def _at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_a_reply_nothing_tried_for_an_hour_is_stuck_and_not_before():
    reply = _reply("m_1", 0, attempts=2, attempted_at=_at(5))
    assert stuck_replies([reply], _at(64)) == set()
    assert stuck_replies([reply], _at(65)) == {"m_1"}


def test_sent_failed_and_undelivered_replies_and_other_messages_are_never_stuck():
    messages = [_reply("sent", 0, provider_id="SM1"), _reply("failed", 0, status="failed"),
                _reply("undelivered", 0, status="undelivered", provider_id="SM2"),
                _reply("inbound", 0, direction=Direction.INBOUND, status="received"),
                _reply("note", 0, direction=Direction.NOTE, status=None)]
    assert stuck_replies(messages, _at(24 * 60)) == set()


def test_a_reply_waits_while_one_ahead_of_it_in_its_conversation_is_being_retried():
    # the first retried at 50 minutes; the second, written at 1 minute, waits behind it in the FIFO group
    first, second = _reply("m_1", 0, attempted_at=_at(50)), _reply("m_2", 1)
    assert stuck_replies([second, first], _at(100)) == set()
    assert stuck_replies([second, first], _at(110)) == {"m_1", "m_2"}
    # a reply written after it does not hold it back: it was queued behind it
    later = _reply("m_3", 30, attempted_at=_at(100))
    assert stuck_replies([first, later], _at(110)) == {"m_1"}
    # nor does another conversation's queue (a merged conversation's replies on the same timeline)
    other = _reply("m_4", 0, conversation="c_2", attempted_at=_at(100))
    assert stuck_replies([second, other], _at(70)) == {"m_2"}


def test_an_open_intent_counts_as_an_attempt_and_a_stale_one_is_said_when_given_up():
    intent = SendIntent(part=0, attempt=1, since=_at(20), reference="c_1-x-m_1-0")
    reply = _reply("m_1", 0, sending=intent)
    assert stuck_replies([reply], _at(79)) == set()
    assert stuck_replies([reply], _at(80)) == {"m_1"}
    assert gave_up(reply)["code"] == "stuck" and "may have it already" in gave_up(reply)["message"]
    assert "may have it" not in gave_up(_reply("m_2", 0))["message"]
