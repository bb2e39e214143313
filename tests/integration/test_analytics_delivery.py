"""The reports count what reached the customer, not what was meant to (docs/metrics.md): a person's reply the
provider refused for good is no reply (the same reply sent again and taken is one), and a satisfaction survey it
refused was not asked. Played through the real handlers on moto, read through the table's stream, the writer, the
lake and the reports API (tests/integration/test_analytics.py); the bot's answers: test_bot_delivery.py."""

from __future__ import annotations

import pytest

from tests.integration.helpers import agent, customer_writes, online
from tests.integration.test_bot_delivery import REFUSED, dispatch, period, reports
from tests.integration.test_csat import _kinds, _settings
from tests.support import FakeTwilio


@pytest.fixture
def twilio():
    fake = FakeTwilio()
    yield fake
    fake.close()


def outbound(desk, conv: str, author: str) -> list[dict]:
    messages = agent(desk, "GET", f"/agent/conversations/{conv}", "root", groups="[admins]")[1]["messages"]
    return [m for m in messages if m["direction"] == "outbound" and m["author"] == author]


def test_a_reply_and_a_survey_the_provider_refused_count_as_neither(desk, twilio):
    _settings(desk)                                        # a survey after every resolve by a person
    online(desk, "alice")
    # Given alice's reply to one customer, refused by Twilio for good, then sent again and taken
    late = customer_writes(desk, "+31650000201", "My parcel is late", "SMref1")
    desk.drain_queue(desk.work_queue_url, "router")
    assert agent(desk, "POST", f"/agent/conversations/{late}/replies", "alice", {"text": "Sorry, checking."})[0] == 202
    twilio.script = [REFUSED]
    dispatch(desk, twilio)
    [failed] = outbound(desk, late, "alice")
    assert failed["status"] == "failed"
    status, _ = agent(desk, "POST", f"/agent/conversations/{late}/replies/{failed['id']}/retry", "alice")
    assert status == 202
    dispatch(desk, twilio)
    failed, again = outbound(desk, late, "alice")
    assert failed["status"] == "failed" and again["retry_of"] == failed["id"] and again["provider_id"]     # taken
    # and its survey, after she resolved it, refused too
    assert agent(desk, "POST", f"/agent/conversations/{late}/status", "alice", {"status": "resolved"})[0] == 200
    twilio.script = [REFUSED]
    dispatch(desk, twilio)
    assert [m["status"] for m in _kinds(desk, late, "csat_survey")] == ["failed"]
    # and her reply to another customer refused for good and never sent again; that one's survey taken
    lost = customer_writes(desk, "+31650000202", "Do you ship to Norway?", "SMref2")
    desk.drain_queue(desk.work_queue_url, "router")
    assert agent(desk, "POST", f"/agent/conversations/{lost}/replies", "alice", {"text": "We do."})[0] == 202
    twilio.script = [REFUSED]
    dispatch(desk, twilio)
    assert agent(desk, "POST", f"/agent/conversations/{lost}/status", "alice", {"status": "resolved"})[0] == 200
    dispatch(desk, twilio)
    [survey] = _kinds(desk, lost, "csat_survey")
    assert survey["status"] != "failed" and survey["provider_id"]
    # Then alice sent one reply that reached a customer, in one conversation, and one survey was asked
    lake = reports(desk)

    def items(metric: str, group: str) -> list[dict]:
        status, body = lake.report("/reports/metrics", f"metric={metric}&group_by={group}&{period()}")
        assert status == 200, body
        return body["items"]
    assert items("replies", "agent") == [{"key": "alice", "value": 1}]
    assert items("handled", "agent") == [{"key": "alice", "value": 1}]
    [csat] = items("csat", "channel")
    assert (csat["key"], csat["asked"], csat["responses"], csat["response_rate"]) == ("sms", 1, 0, 0.0)
