"""The breach-risk assessment of a team's queue (shopdesk.logic.breach_risk): risk grows with the queue ahead,
a conversation whose clocks are paused has none, and the deadline it is about is the one due first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shopdesk.logic.breach_risk import RiskSettings, assess, next_deadline
from shopdesk.models import Conversation

NOW = datetime(2026, 11, 23, 8, tzinfo=UTC)


def _conv(n: int, minutes_left: int, paused: bool = False) -> Conversation:
    due = NOW + timedelta(minutes=minutes_left)
    return Conversation.model_validate({
        "id": f"c_{n}", "customer": {"id": "u_1", "identities": []}, "channel": "sms",
        "route": {"channel": "sms", "provider": "twilio", "to": "+1", "sender": "+2"},
        "created_at": NOW, "updated_at": NOW, "waiting_since": NOW,
        "sla": {"paused": paused, "deadlines": {"resolution": {"due_at": due + timedelta(days=1)},
                                                "first_response": {"due_at": due}}}})


def test_the_deadline_due_first_is_the_one_at_risk_and_a_paused_conversation_has_none():
    assert next_deadline(_conv(1, 30)) == ("first_response", NOW + timedelta(minutes=30))
    assert next_deadline(_conv(1, 30, paused=True)) is None


def test_risk_grows_with_the_queue_ahead_and_with_less_time_left():
    queue = [_conv(n, 120) for n in range(4)] + [_conv(9, 120, paused=True)]
    got = assess(queue, free=0, busy=2, slot_seconds=3600, settings=RiskSettings(), now=NOW)
    risks = [risk for _, risk, _ in got]
    assert risks[-1] is None and got[-1][2] is None
    assert risks[:4] == sorted(risks[:4]) and risks[0] < risks[3]
    sooner = assess([_conv(0, 20)], free=0, busy=2, slot_seconds=3600, settings=RiskSettings(), now=NOW)
    assert sooner[0][1] > risks[0]
    free = assess([_conv(0, 120)], free=1, busy=2, slot_seconds=3600, settings=RiskSettings(), now=NOW)
    assert free[0][1] < 0.01          # assigned at once: only the reply delay remains
