"""The event lake on the local stack: a customer's message and an agent's reply go from the table's stream
through the writer into moto's Firehose (real S3 objects), and the reports API answers them with DuckDB after
POST /_local/analytics/flush."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from tests.e2e.test_core_loop import send_sms
from tests.support import twilio_form

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_inboxes")]


def test_a_conversation_and_its_first_reply_reach_the_reports_after_a_flush(stack):
    admin, agent = stack.token("alice"), stack.token("bob")
    now = datetime.fromisoformat(stack.get("/_local/clock").json()["now"].replace("Z", "+00:00"))
    period = f"from={(now - timedelta(days=1)).date().isoformat()}&to={(now + timedelta(days=2)).date().isoformat()}"
    assert stack.post("/_local/analytics/flush").status == 200
    before = stack.get(f"/reports/summary?{period}", token=admin).json()
    phone = f"+3162{uuid.uuid4().int % 10**7:07d}"
    assert send_sms(stack, twilio_form(MessageSid=f"SM{uuid.uuid4().hex}", From=phone, To="+14155550199",
                                       Body="Hello, where is my order?")).status == 200
    conv = stack.wait_for(lambda: next((c for c in stack.get("/agent/conversations?view=all&status=open",
                                                             token=admin).json()["items"]
                                        if c["customer"]["identities"][0]["address"] == phone), None))
    assert stack.post(f"/agent/conversations/{conv['id']}/replies", json={"text": "On its way."},
                      token=admin).status == 202
    flushed = stack.post("/_local/analytics/flush")
    assert flushed.status == 200 and flushed.json()["flushed"] == ["AnalyticsWriterFunction"]
    after = stack.get(f"/reports/summary?{period}", token=admin).json()
    assert after["conversations"] == before["conversations"] + 1
    assert after["first_response"]["count"] == before["first_response"]["count"] + 1
    replies = stack.get(f"/reports/metrics?metric=replies&group_by=agent&{period}", token=admin).json()["items"]
    assert any(row["key"] == "alice" and row["value"] >= 1 for row in replies)
    # figures are for supervisors and admins
    assert stack.get(f"/reports/summary?{period}", token=agent).status == 403
    assert stack.get("/reports/openapi.json").json()["info"]["title"] == "shopdesk reports API"
