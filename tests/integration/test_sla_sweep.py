"""The SLA sweep under the conditions a busy shop meets: an event bus outage between flag and announcement,
a fresh clock started meanwhile, a time limit too short for everything due, and overlapping sweeps."""

from __future__ import annotations

import threading

import pytest

from shopdesk import clock
from tests.integration.helpers import agent, customer_writes, online
from tests.integration.test_sla_rules import _alerts, at, berlin_office

OUTAGE = r"refused|ResourceNotFound|does not exist"


@pytest.fixture
def office(desk):
    return berlin_office(desk)


class Context:
    """A Lambda context with ``seconds`` left."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.function_name = "sla_sweep"
        self.memory_limit_in_mb = 512
        self.invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:sla_sweep"
        self.aws_request_id = "req-sweep"

    def get_remaining_time_in_millis(self) -> int:
        return int(self.seconds * 1000)


def _notes(desk, conv_id: str, text: str) -> list[dict]:
    _, body = agent(desk, "GET", f"/agent/conversations/{conv_id}", "alice")
    return [m for m in body["messages"] if m["direction"] == "system" and text in (m["text"] or "")]


def _deadline_items(desk, conv_id: str) -> list[dict]:
    rows = desk.client("dynamodb").query(
        TableName=desk.table_name, KeyConditionExpression="PK = :pk AND begins_with(SK, :sk)",
        ExpressionAttributeValues={":pk": {"S": f"CONV#{conv_id}"}, ":sk": {"S": "DEADLINE#"}}, ConsistentRead=True)
    return [{k: next(iter(v.values())) for k, v in r.items()} for r in rows["Items"]]


def _all_past_due(desk, count: int, series: int) -> list[str]:
    """``count`` customers write on Monday 09:00 Berlin; the clock then stands 30 s past their
    two-hour first-response deadline. Returns the conversation ids."""
    at("2026-11-23T08:00:00+00:00")
    convs = [customer_writes(desk, f"+3161{series:03d}{i:04d}", "hi", f"SM{series}x{i}") for i in range(count)]
    desk.drain_queue(desk.work_queue_url, "router")
    at("2026-11-23T10:00:30+00:00")
    return convs


def test_a_breach_whose_events_did_not_go_out_is_announced_by_the_next_sweep_and_flagged_once(office):
    desk = office
    topic, alerts = _alerts(desk)
    at("2026-11-23T08:00:00+00:00")                            # Monday 09:00 Berlin
    conv = customer_writes(desk, "+31611000101", "Where is my parcel?", "SMa1")
    desk.drain_queue(desk.work_queue_url, "router")
    at("2026-11-23T10:00:30+00:00")                            # 2 business hours later: due
    # the bus is gone (an outage): the sweep fails after flagging, as Lambda would report it
    with pytest.raises(Exception, match=OUTAGE):
        desk.invoke("sla_sweep", {}, EVENT_BUS_NAME="no-such-bus", SLA_ALERT_TOPIC_ARN=topic)
    [flagged] = [r for r in _deadline_items(desk, conv) if "#BREACHED#" in r["SK"]]
    assert flagged["SK"].startswith("DEADLINE#first_response#BREACHED#2026-11-23T10:00:00")
    assert flagged["state"] == "breached"
    # the next sweep announces it without flagging it again, as the first would have (when it was detected, the
    # priority it was escalated to) and counts it then (the SlaBreaches metric: the failed sweep reported nothing)
    at("2026-11-23T10:01:30+00:00")
    report = desk.invoke("sla_sweep", {}, SLA_ALERT_TOPIC_ARN=topic)
    assert (report["breached"], report["events"]) == (1, 1)
    [alert] = alerts()
    assert (alert["kind"], alert["conversation_id"], alert["target"]) == ("breach", conv, "first_response")
    assert alert["escalated_to"] == "high" and alert["detected_at"].startswith("2026-11-23T10:00:30")
    assert [r["SK"] for r in _deadline_items(desk, conv)] == ["DEADLINE#resolution"]
    [missed] = _notes(desk, conv, "First response target missed")
    assert missed["event"]["kind"] == "sla_missed" and missed["event"]["params"]["target"] == "first_response"
    assert missed["event"]["params"]["due"].startswith("2026-11-23T10:00:00") and \
        missed["event"]["params"]["due"] in missed["text"]
    assert desk.item(f"CONV#{conv}")["priority"] == "high"             # escalated once
    assert desk.invoke("sla_sweep", {}, SLA_ALERT_TOPIC_ARN=topic)["events"] == 0


def test_a_warning_whose_events_did_not_go_out_is_announced_by_the_next_sweep_and_written_once(office):
    desk = office
    topic, alerts = _alerts(desk)
    at("2026-11-23T08:00:00+00:00")                            # Monday 09:00 Berlin: due at 11:00, warned at 10:00
    conv = customer_writes(desk, "+31611000103", "Where is my parcel?", "SMa3")
    desk.drain_queue(desk.work_queue_url, "router")
    at("2026-11-23T09:00:30+00:00")
    # the bus is gone (an outage): the sweep fails after writing the warning on the timeline
    with pytest.raises(Exception, match=OUTAGE):
        desk.invoke("sla_sweep", {}, EVENT_BUS_NAME="no-such-bus", SLA_ALERT_TOPIC_ARN=topic)
    assert len(_notes(desk, conv, "First response target close")) == 1
    assert alerts() == []
    # the next sweep announces it (bus and alert topic), as detected, and counts it; the one after has nothing
    at("2026-11-23T09:01:30+00:00")
    report = desk.invoke("sla_sweep", {}, SLA_ALERT_TOPIC_ARN=topic)
    assert (report["warned"], report["breached"], report["events"]) == (1, 0, 1)
    [alert] = alerts()
    assert (alert["kind"], alert["conversation_id"], alert["target"]) == ("warning", conv, "first_response")
    assert alert["due_at"].startswith("2026-11-23T10:00:00") and alert["detected_at"].startswith("2026-11-23T09:00:30")
    assert desk.invoke("sla_sweep", {}, SLA_ALERT_TOPIC_ARN=topic)["events"] == 0
    assert len(_notes(desk, conv, "First response target close")) == 1
    # and the deadline is still watched: it breaches in its turn
    at("2026-11-23T10:00:30+00:00")
    assert desk.invoke("sla_sweep", {}, SLA_ALERT_TOPIC_ARN=topic)["breached"] == 1


def test_a_clock_started_while_a_breach_awaits_its_announcement_keeps_its_deadline(office):
    desk = office
    online(desk, "alice")
    at("2026-11-23T08:00:00+00:00")
    conv = customer_writes(desk, "+31611000102", "hi", "SMb1")
    desk.drain_queue(desk.work_queue_url, "router")
    agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "Hello! Order number?"})
    customer_writes(desk, "+31611000102", "1001", "SMb2")
    desk.drain_queue(desk.work_queue_url, "router")            # next response due 09:00 UTC
    at("2026-11-23T09:00:30+00:00")
    with pytest.raises(Exception, match=OUTAGE):
        desk.invoke("sla_sweep", {}, EVENT_BUS_NAME="no-such-bus")
    # the agent answers late, the customer writes again: a fresh next-response clock
    agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "Found it"})
    customer_writes(desk, "+31611000102", "And when will it arrive?", "SMb3")
    desk.drain_queue(desk.work_queue_url, "router")
    assert desk.invoke("sla_sweep", {})["events"] == 1         # the owed announcement
    live = {r["SK"]: r for r in _deadline_items(desk, conv)}
    assert set(live) == {"DEADLINE#next_response", "DEADLINE#resolution"}
    assert live["DEADLINE#next_response"]["state"] == "pending"
    # and that fresh clock is still watched: it breaches in its turn (escalated targets: still one hour)
    at("2026-11-23T10:01:00+00:00")
    report = desk.invoke("sla_sweep", {})
    assert report["breached"] == 1
    assert len(_notes(desk, conv, "Next response target missed")) == 2


def test_a_sweep_short_of_time_leaves_the_rest_for_the_next_one(office):
    desk = office
    convs = _all_past_due(desk, 6, series=2)
    sweep = desk.handler("sla_sweep")
    short = sweep.lambda_handler({}, Context(seconds=9))       # under the reserve kept for announcing
    assert (short["due"], short["breached"], short["deferred"]) == (6, 0, 6)
    full = sweep.lambda_handler({}, Context(seconds=50))
    assert (full["breached"], full["deferred"], full["events"]) == (6, 0, 6)
    assert all(desk.item(f"CONV#{c}")["sla_breaches"] == {"first_response"} for c in convs)


def test_overlapping_sweeps_flag_every_deadline_exactly_once(office):
    desk = office
    convs = _all_past_due(desk, 24, series=3)
    sweep = desk.handler("sla_sweep")
    reports: list[dict] = []
    offset = clock.offset()

    def run() -> None:
        clock.set_offset(offset)
        reports.append(sweep.lambda_handler({}, Context(seconds=50)))
    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r["breached"] for r in reports) == 24
    for conv in convs:
        assert len(_notes(desk, conv, "First response target missed")) == 1
        assert desk.item(f"CONV#{conv}")["priority"] == "high"
    assert desk.invoke("sla_sweep", {})["due"] == 0


def test_a_flood_of_breaches_pages_people_with_a_summary_while_the_bus_gets_every_event(office, monkeypatch):
    from shopdesk.logic import sla
    monkeypatch.setattr(sla, "ALERTS_PER_SWEEP", 5)
    desk = office
    topic, alerts = _alerts(desk)
    convs = _all_past_due(desk, 8, series=4)
    report = desk.invoke("sla_sweep", {}, SLA_ALERT_TOPIC_ARN=topic)
    assert (report["breached"], report["events"]) == (8, 8)
    got = alerts() + alerts()
    single = [a for a in got if a["kind"] == "breach"]
    [summary] = [a for a in got if a["kind"] == "summary"]
    assert len(single) == 4
    assert summary["more"] == 4 and summary["by_kind_and_target"] == {"breach:first_response": 4}
    assert sorted(summary["conversation_ids"] + [a["conversation_id"] for a in single]) == sorted(convs)


def test_every_sweep_redrives_every_team_including_those_a_supervisor_created(desk):
    from tests.integration.test_admin_api import admin_call
    status, _ = admin_call(desk, "PUT", "/admin/teams/billing", "[admins]", {"id": "billing", "name": "Billing"})
    assert status == 200
    desk.invoke("sla_sweep", {})
    sqs = desk.client("sqs")
    got = sqs.receive_message(QueueUrl=desk.work_queue_url, MaxNumberOfMessages=10,
                              AttributeNames=["MessageGroupId"]).get("Messages", [])
    assert {m["Attributes"]["MessageGroupId"] for m in got} == {"drain#default", "drain#billing"}


def test_a_timer_nothing_runs_is_an_error_and_stays_due_until_its_runner_is_there(desk, capsys, caplog):
    import json

    from shopdesk.dal.conversations import Conversations
    from shopdesk.dal.events import EventBus
    from shopdesk.dal.queues import Queue
    from shopdesk.dal.table import Table
    from shopdesk.logic import sla

    # Given a timer whose runner this sweep was deployed without (as a function missing the setting that adds it)
    conversations = Conversations(Table(desk.table_name), 16)
    conversations.set_timer("CUSTOMER#c_norunner", "inactive_customer", clock.now_iso())
    bus, work = EventBus(desk.env["EVENT_BUS_NAME"]), Queue(desk.work_queue_url)
    capsys.readouterr()
    # When the sweep runs
    report = sla.sweep(conversations, bus, work, 16)
    # Then it is an error an operator is paged for (logged, counted), not a timer quietly deleted
    assert desk.item("CUSTOMER#c_norunner", "DEADLINE#inactive_customer")["state"] == "pending"
    assert any(r.getMessage() == "timer with no runner left due" and r.target == "inactive_customer"
               for r in caplog.records)
    figures = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert any("TimersWithoutRunner" in f for f in figures)
    assert report is not None
    # And once the sweep has its runner, the next run runs it and finishes it
    ran: list[str] = []
    sla.sweep(conversations, bus, work, 16, on_timer={"inactive_customer": ran.append})
    assert ran == ["c_norunner"]
    assert desk.item("CUSTOMER#c_norunner", "DEADLINE#inactive_customer") is None


def test_a_timer_whose_send_sqs_refuses_stays_due_is_counted_and_the_sweep_goes_on(office, monkeypatch, capsys,
                                                                                   caplog):
    import json
    from pathlib import Path

    from botocore.exceptions import ClientError

    from local.template import load_template
    from shopdesk.dal.queues import Queue
    from shopdesk.dal.table import Table
    from tests.integration.test_snooze import status_of

    desk = office
    for name in ("POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE"):   # as the template's functions write
        monkeypatch.setenv(name, desk.env[name])
    topic, alerts = _alerts(desk)
    online(desk, "alice")
    # Given a first response that falls due, a snooze that ends before, and an erase's last look at its uploads
    # (a timer whose runner sends to the privacy queue)
    at("2026-11-23T08:00:00+00:00")                            # Monday 09:00 Berlin
    late = customer_writes(desk, "+31611000901", "Where is my parcel?", "SMtf1")
    snoozed = customer_writes(desk, "+31611000902", "Call me back", "SMtf2")
    desk.drain_queue(desk.work_queue_url, "router")
    status, _ = agent(desk, "POST", f"/agent/conversations/{snoozed}/status", "alice",
                      {"status": "snoozed", "until": "2026-11-23T09:00:00+00:00"})
    assert status == 200
    Table(desk.table_name).put({"PK": "PRIVACYJOB#pj_tf", "SK": "META", "kind": "erase", "status": "done",
                                "customer_id": "c_tf", "finished_at": "2026-11-23T08:00:00+00:00"})
    sweep_module = desk.handler("sla_sweep", SLA_ALERT_TOPIC_ARN=topic)
    sweep_module.conversations.set_timer("PRIVACYJOB#pj_tf", "erase_uploads", "2026-11-23T09:30:00+00:00")
    # and the privacy queue refusing every send (an outage)
    down = {"on": True, "refused": 0}
    real = Queue.send

    def send(self, body, *args, **kwargs):
        if down["on"] and self.url == desk.env["PRIVACY_QUEUE_URL"]:
            down["refused"] += 1
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "injected"}}, "SendMessage")
        return real(self, body, *args, **kwargs)

    monkeypatch.setattr(Queue, "send", send)
    at("2026-11-23T10:00:30+00:00")
    capsys.readouterr()
    caplog.clear()
    # When the sweep runs
    report = desk.invoke("sla_sweep", {}, SLA_ALERT_TOPIC_ARN=topic)
    # Then it announces the breach and wakes the snoozed conversation all the same
    assert down["refused"] == 1
    assert report["breached"] == 1
    assert [(a["kind"], a["conversation_id"]) for a in alerts()] == [("breach", late)]
    assert status_of(desk, snoozed)[0] == "open"
    # and the refused timer stays due as it was, logged and counted as the alarm reads it
    assert desk.item("PRIVACYJOB#pj_tf", "DEADLINE#erase_uploads")["state"] == "pending"
    assert any(r.getMessage() == "timer failed: left due for the next sweep" and r.target == "erase_uploads"
               for r in caplog.records)
    figures = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    [line] = [f for f in figures if "TimersFailed" in f]
    [emitted] = line["_aws"]["CloudWatchMetrics"]
    resources = load_template(Path(__file__).resolve().parents[2] / "template.yaml")["Resources"]
    [alarm] = [r["Properties"] for r in resources.values()
               if r["Type"] == "AWS::CloudWatch::Alarm" and r["Properties"].get("MetricName") == "TimersFailed"]
    assert (line["TimersFailed"], alarm["Namespace"]) == ([1.0], emitted["Namespace"])
    assert emitted["Dimensions"] == [[d["Name"] for d in alarm["Dimensions"]]]
    assert {d["Name"]: d["Value"] for d in alarm["Dimensions"]} == {d: line[d] for d in emitted["Dimensions"][0]}
    assert resources[alarm["AlarmActions"][0]["Ref"]]["Type"] == "AWS::SNS::Topic"
    # And once the queue takes sends again, the next sweep runs the timer and finishes it
    down["on"] = False
    at("2026-11-23T10:01:30+00:00")
    desk.invoke("sla_sweep", {}, SLA_ALERT_TOPIC_ARN=topic)
    assert desk.item("PRIVACYJOB#pj_tf", "DEADLINE#erase_uploads") is None
    got = desk.client("sqs").receive_message(QueueUrl=desk.env["PRIVACY_QUEUE_URL"], MaxNumberOfMessages=10)
    assert [json.loads(m["Body"]) for m in got.get("Messages", [])] == [{"job_id": "pj_tf", "uploads": True}]


def test_a_timer_that_keeps_failing_runs_again_after_1_2_4_up_to_60_minutes_and_pages_at_each_failure(desk, capsys):
    import json
    from datetime import datetime, timedelta

    from shopdesk.dal.conversations import Conversations
    from shopdesk.dal.events import EventBus
    from shopdesk.dal.queues import Queue
    from shopdesk.dal.table import Table
    from shopdesk.logic import sla

    # Given a timer whose runner raises every time (a dependency down for hours)
    conversations = Conversations(Table(desk.table_name), 16)
    start = datetime.fromisoformat("2026-11-23T10:00:00+00:00")
    at(start.isoformat())
    conversations.set_timer("CUSTOMER#c_failing", "inactive_customer", clock.now_iso())
    bus, work = EventBus(desk.env["EVENT_BUS_NAME"]), Queue(desk.work_queue_url)
    runs: list[str] = []
    down = {"on": True}

    def runner(owner: str) -> None:
        runs.append(clock.now_iso())
        if down["on"]:
            raise ConnectionError("the dependency is down")

    capsys.readouterr()
    # When the sweep runs every minute for three hours and more
    for minute in range(184):
        at((start + timedelta(minutes=minute, seconds=5)).isoformat())
        sla.sweep(conversations, bus, work, 16, on_timer={"inactive_customer": runner})
    # Then the runner was called after 1, 2, 4, 8, 16, 32, 60 and 60 minutes: 9 calls, not 184
    assert [r[11:16] for r in runs] == ["10:00", "10:01", "10:03", "10:07", "10:15", "10:31", "11:03", "12:03",
                                        "13:03"]
    # and every failure was counted as the alarm reads it (the first paging at once)
    figures = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert sum(f["TimersFailed"][0] if isinstance(f["TimersFailed"], list) else f["TimersFailed"]
               for f in figures if "TimersFailed" in f) == 9
    # and the timer is still due, its failures counted on the item
    item = desk.item("CUSTOMER#c_failing", "DEADLINE#inactive_customer")
    assert (item["state"], int(item["failures"]), item["due_at"][:19]) == ("pending", 9, "2026-11-23T14:02:55")
    assert item["DueSK"] == f"{item['due_at']}#c_failing#inactive_customer"
    # And once the dependency is back, its next run finishes it
    down["on"] = False
    at("2026-11-23T14:03:05+00:00")
    sla.sweep(conversations, bus, work, 16, on_timer={"inactive_customer": runner})
    assert len(runs) == 10
    assert desk.item("CUSTOMER#c_failing", "DEADLINE#inactive_customer") is None


def test_a_timer_set_again_starts_from_no_failures_and_one_that_runs_writes_no_retry(desk, monkeypatch):
    from shopdesk.dal.conversations import Conversations
    from shopdesk.dal.events import EventBus
    from shopdesk.dal.queues import Queue
    from shopdesk.dal.table import Table
    from shopdesk.logic import sla

    conversations = Conversations(Table(desk.table_name), 16)
    at("2026-11-23T10:00:00+00:00")
    bus, work = EventBus(desk.env["EVENT_BUS_NAME"]), Queue(desk.work_queue_url)
    moved: list[str] = []
    real = Conversations.retry_timer
    monkeypatch.setattr(Conversations, "retry_timer", lambda self, t, due: (moved.append(due), real(self, t, due)))
    # Given a timer that failed once
    conversations.set_timer("CUSTOMER#c_again", "inactive_customer", clock.now_iso())
    sla.sweep(conversations, bus, work, 16, on_timer={"inactive_customer": lambda owner: 1 / 0})
    assert [m[:19] for m in moved] == ["2026-11-23T10:00:50"]
    assert int(desk.item("CUSTOMER#c_again", "DEADLINE#inactive_customer")["failures"]) == 1
    # When its owner sets it again
    conversations.set_timer("CUSTOMER#c_again", "inactive_customer", clock.now_iso())
    # Then it starts from no failures
    assert "failures" not in desk.item("CUSTOMER#c_again", "DEADLINE#inactive_customer")
    # And a run that succeeds moves nothing: the timer is only finished
    sla.sweep(conversations, bus, work, 16, on_timer={"inactive_customer": lambda owner: None})
    assert len(moved) == 1
    assert desk.item("CUSTOMER#c_again", "DEADLINE#inactive_customer") is None


def test_a_timer_whose_finish_dynamodb_refuses_stays_due_is_counted_runs_again_and_the_sweep_goes_on(
        office, monkeypatch, capsys, caplog):
    import json

    from botocore.exceptions import ClientError

    from shopdesk.dal.conversations import Conversations
    from shopdesk.dal.events import EventBus
    from shopdesk.dal.queues import Queue
    from shopdesk.dal.table import Table
    from shopdesk.logic import sla

    desk = office
    conversations = Conversations(Table(desk.table_name), 16)
    bus, work = EventBus(desk.env["EVENT_BUS_NAME"]), Queue(desk.work_queue_url)
    # Given a first response that falls due and two timers whose runs succeed
    at("2026-11-23T08:00:00+00:00")                            # Monday 09:00 Berlin
    customer_writes(desk, "+31611000921", "Where is my parcel?", "SMff1")
    desk.drain_queue(desk.work_queue_url, "router")
    conversations.set_timer("CUSTOMER#c_kept", "inactive_customer", "2026-11-23T09:30:00+00:00")
    conversations.set_timer("CUSTOMER#c_gone", "inactive_customer", "2026-11-23T09:30:00+00:00")
    runs: list[tuple[str, str]] = []
    # and DynamoDB refusing the write that finishes one of them, after its run
    down = {"on": True}
    real = Conversations.finish_timer

    def finish_timer(self, timer):
        if down["on"] and timer.conversation_id == "c_kept":
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "injected"}},
                              "DeleteItem")
        return real(self, timer)

    monkeypatch.setattr(Conversations, "finish_timer", finish_timer)
    at("2026-11-23T10:00:30+00:00")
    capsys.readouterr()
    caplog.clear()
    # When the sweep runs
    report = sla.sweep(conversations, bus, work, 16,
                       on_timer={"inactive_customer": lambda owner: runs.append((owner, clock.now_iso()[11:19]))})
    # Then it goes on: the breach announced, the other timer finished, the teams' queues drained
    assert sorted(runs) == [("c_gone", "10:00:30"), ("c_kept", "10:00:30")]
    assert report.breached == 1
    assert desk.item("CUSTOMER#c_gone", "DEADLINE#inactive_customer") is None
    got = desk.client("sqs").receive_message(QueueUrl=desk.work_queue_url, MaxNumberOfMessages=10)
    assert any(json.loads(m["Body"]).get("team") for m in got.get("Messages", []))
    # and the unfinished timer is logged, counted as a failed run and left due, a minute on
    assert any(r.getMessage() == "timer not finished: left due for the next sweep" and r.target == "inactive_customer"
               for r in caplog.records)
    figures = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert [f["TimersFailed"] for f in figures if "TimersFailed" in f] in ([1.0], [[1.0]])
    item = desk.item("CUSTOMER#c_kept", "DEADLINE#inactive_customer")
    assert (item["state"], int(item["failures"]), item["due_at"][:19]) == ("pending", 1, "2026-11-23T10:01:20")
    # And once DynamoDB takes the write again, the next sweep runs it again (its run harmless twice) and finishes it
    down["on"] = False
    at("2026-11-23T10:01:30+00:00")
    sla.sweep(conversations, bus, work, 16,
              on_timer={"inactive_customer": lambda owner: runs.append((owner, clock.now_iso()[11:19]))})
    assert sorted(runs)[-1] == ("c_kept", "10:01:30") and len(runs) == 3
    assert desk.item("CUSTOMER#c_kept", "DEADLINE#inactive_customer") is None
