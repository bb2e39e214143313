"""SLA rules a support lead relies on, shown by moving the clock: business hours across a weekend and
a holiday, warning then breach, escalation and alerts, pause and resume, next response, reopen."""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime

import pytest

from shopdesk import clock
from tests.integration.helpers import agent, customer_writes, online
from tests.integration.test_admin_api import admin_call

WEEKDAYS = {d: [{"start": "09:00", "end": "17:00"}] for d in ("mon", "tue", "wed", "thu", "fri")}


def at(iso: str) -> None:
    """Move the clock every function sees to an absolute instant."""
    clock.set_offset(datetime.fromisoformat(iso).timestamp() - time.time())


@pytest.fixture
def office(desk):
    return berlin_office(desk)


def berlin_office(desk):
    """A Berlin calendar (weekdays 9-17, a holiday on 28 December) and a standard policy on it."""
    status, _ = admin_call(desk, "PUT", "/admin/calendars/berlin-office", "[admins]", {
        "time_zone": "Europe/Berlin", "weekly": WEEKDAYS, "holidays": ["2026-12-28"]})
    assert status == 200
    targets = {"first_response": 7200, "next_response": 3600, "resolution": 5 * 86400}
    status, body = admin_call(desk, "PUT", "/admin/sla-policies/standard", "[admins]", {
        "id": "standard", "name": "Standard", "calendar_id": "berlin-office", "warning_fraction": 0.5,
        "targets": {p: targets for p in ("urgent", "high", "normal", "low")}})
    assert status == 200, body
    return desk


def _conv(desk, conv_id):
    return agent(desk, "GET", f"/agent/conversations/{conv_id}", "alice")[1]


def _alerts(desk):
    """A topic and a queue of this test's own: moto's state outlives a test, and a shared queue would hand
    one test the alerts another left unread once their visibility timeout ran out."""
    sns, sqs = desk.client("sns"), desk.client("sqs")
    suffix = uuid.uuid4().hex[:8]
    topic = sns.create_topic(Name=f"sla-alerts-{suffix}")["TopicArn"]
    queue = sqs.create_queue(QueueName=f"sla-alerts-copy-{suffix}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})

    def read():
        got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in got]
    return topic, read


def test_first_response_deadline_skips_the_weekend_and_a_holiday_then_warns_breaches_and_escalates(office):
    desk = office
    topic, alerts = _alerts(desk)
    sweep = lambda: desk.invoke("sla_sweep", {}, SLA_ALERT_TOPIC_ARN=topic)  # noqa: E731
    # Friday 15:59 in Berlin: 61 business minutes left today; Monday the 28th is a holiday
    at("2026-12-25T14:59:00+00:00")
    conv = customer_writes(desk, "+31611000001", "Where is my parcel?", "SMs1")
    desk.drain_queue(desk.work_queue_url, "router")           # the router starts the clocks
    assert _conv(desk, conv)["sla"]["first_response_due_at"][:19] == "2026-12-29T08:59:00"     # Tue 09:59 Berlin
    # half of the 2-hour target is used at Friday 16:59 Berlin: the warning
    at("2026-12-25T15:58:00+00:00")
    assert sweep()["warned"] == 0
    at("2026-12-25T15:59:30+00:00")
    report = sweep()
    assert (report["warned"], report["breached"]) == (1, 0)
    assert sweep()["warned"] == 0                                                          # once
    # nothing over the weekend and the holiday
    at("2026-12-29T08:58:00+00:00")
    assert sweep() == {"due": 0, "breached": 0, "events": 0, "warned": 0, "released": 0, "deferred": 0, "rerouted": 0,
            "at_risk": 0, "requeued": 0}
    # Tuesday 09:59 Berlin: the breach, flagged once; the conversation is escalated
    at("2026-12-29T08:59:30+00:00")
    assert sweep()["breached"] == 1
    assert sweep()["breached"] == 0
    detail = _conv(desk, conv)
    assert detail["sla"]["breaches"] == ["first_response"] and detail["priority"] == "high"
    notes = [m["text"] for m in detail["messages"] if m["direction"] == "system"]
    assert any("target close" in n for n in notes) and any("target missed" in n for n in notes)
    kinds = sorted(a["kind"] for a in alerts())
    assert kinds == ["breach", "warning"]


def test_pending_pauses_the_clock_and_the_customers_reply_resumes_it(office):
    desk = office
    online(desk, "alice")
    at("2026-11-23T08:00:00+00:00")                          # Monday 09:00 Berlin
    conv = customer_writes(desk, "+31611000002", "hi", "SMp1")
    desk.drain_queue(desk.work_queue_url, "router")
    at("2026-11-23T08:10:00+00:00")
    agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "Hello! Order number?"})
    assert _conv(desk, conv)["sla"]["first_response_due_at"] is None                     # met
    at("2026-11-23T08:20:00+00:00")
    customer_writes(desk, "+31611000002", "It is 1001", "SMp2")
    desk.drain_queue(desk.work_queue_url, "router")
    deadlines = _conv(desk, conv)["sla"]["deadlines"]
    assert deadlines["next_response"]["due_at"][:19] == "2026-11-23T09:20:00"             # one business hour
    at("2026-11-23T08:30:00+00:00")
    agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "pending"})
    paused = _conv(desk, conv)["sla"]
    assert paused["paused"] and "next_response" not in (paused["deadlines"] or {})
    # a day later nothing has been breached while we waited on the customer
    at("2026-11-24T08:00:00+00:00")
    assert desk.invoke("sla_sweep", {})["breached"] == 0
    customer_writes(desk, "+31611000002", "Sorry, here is the photo", "SMp3")
    desk.drain_queue(desk.work_queue_url, "router")
    resumed = _conv(desk, conv)
    assert resumed["status"] == "open" and not resumed["sla"]["paused"]
    # 10 minutes were used before the pause: 50 remain from Tuesday 09:00 Berlin
    assert resumed["sla"]["deadlines"]["next_response"]["due_at"][:19] == "2026-11-24T08:50:00"


def test_a_reopened_conversation_gets_fresh_clocks(office):
    desk = office
    online(desk, "alice")
    at("2026-11-23T08:00:00+00:00")
    conv = customer_writes(desk, "+31611000003", "hi", "SMr1")
    desk.drain_queue(desk.work_queue_url, "router")
    agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "Done."})
    agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "resolved"})
    assert _conv(desk, conv)["sla"]["deadlines"] is None
    at("2026-11-25T12:00:00+00:00")                          # Wednesday 13:00 Berlin
    agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "open"})
    sla = _conv(desk, conv)["sla"]
    assert sla["first_response_due_at"][:19] == "2026-11-25T14:00:00"
    assert sla["deadlines"]["resolution"]["due_at"]


def test_default_policy_applies_without_configuration(desk):
    at("2026-11-23T08:00:00+00:00")
    conv = customer_writes(desk, "+31611000004", "hi", "SMd1")
    desk.drain_queue(desk.work_queue_url, "router")
    assert _conv(desk, conv)["sla"]["first_response_due_at"][:19] == "2026-11-23T12:00:00"   # 4 h, around the clock


def test_a_deleted_policy_no_longer_sets_new_deadlines_and_its_deletion_is_audited(office):
    desk = office
    at("2026-12-25T14:59:00+00:00")
    before = customer_writes(desk, "+31611000091", "Where is my parcel?", "SMdel1")
    desk.drain_queue(desk.work_queue_url, "router")
    assert _conv(desk, before)["sla"]["first_response_due_at"][:19] == "2026-12-29T08:59:00"   # Berlin's hours
    # A supervisor may not delete it; an admin naming an old version is told it changed
    assert admin_call(desk, "DELETE", "/admin/sla-policies/standard", "[supervisors]")[0] == 403
    status, problem = admin_call(desk, "DELETE", "/admin/sla-policies/standard", "[admins]", query="version=7")
    assert status == 409 and "changed meanwhile" in problem["detail"]
    # When an admin deletes it at its current version
    [policy] = [p for p in admin_call(desk, "GET", "/admin/sla-policies", "[admins]")[1]["items"]
                if p["id"] == "standard"]
    status, _ = admin_call(desk, "DELETE", "/admin/sla-policies/standard", "[admins]",
                           query=f"version={policy['version']}")
    assert status == 204
    # Then it is gone, a second delete is a 404, and a new conversation's deadline is no longer Berlin's
    assert "standard" not in [p["id"] for p in admin_call(desk, "GET", "/admin/sla-policies", "[admins]")[1]["items"]]
    assert admin_call(desk, "DELETE", "/admin/sla-policies/standard", "[admins]")[0] == 404
    desk.handler("router").book._loaded_at = -1e9         # policies are cached a minute
    after = customer_writes(desk, "+31611000092", "Where is my parcel?", "SMdel2")
    desk.drain_queue(desk.work_queue_url, "router")
    assert (_conv(desk, after)["sla"]["first_response_due_at"] or "")[:19] != "2026-12-29T08:59:00"
    # and the audit trail holds what it was
    records = admin_call(desk, "GET", "/admin/audit", "[admins]")[1]["items"]
    [deleted] = [r for r in records if r["action"] == "DELETE /admin/sla-policies/<policy_id>"
                 and r["target"] == "policy_id=standard" and r["status"] == 204]
    assert deleted["before"]["calendar_id"] == "berlin-office" and not deleted.get("after")


def test_the_first_clocks_delete_no_deadline_that_cannot_be_there(desk, monkeypatch):
    # A conversation has no next-response or resolution deadline before its first clocks: the router's write of
    # them deletes neither (each a transactional delete of nothing, two write units), and puts the first response's
    from tests.integration.test_routing_rules import _transact_ops_of
    conv = customer_writes(desk, "+31630000091", "where is my order?", "SMsl1")
    assert "clocks_json" not in desk.item(f"CONV#{conv}")
    ops = _transact_ops_of(monkeypatch, lambda: desk.drain_queue(desk.work_queue_url, "router"))
    deadlines = [(kind, key["SK"]) for kind, key in ops
                 if key["PK"] == f"CONV#{conv}" and key["SK"].startswith("DEADLINE#")]
    assert deadlines == [("Put", "DEADLINE#first_response")], deadlines
    assert desk.item(f"CONV#{conv}", "DEADLINE#first_response")["state"] == "pending"
    assert "clocks_json" in desk.item(f"CONV#{conv}")
