"""The event lake end to end on moto: a known history (tests/analytics_scenario.py) played through the real
handlers with the clock frozen at each step, the table's stream through the writer into Firehose (moto writes
S3 objects), and the reports API over them with DuckDB. Every figure must equal the script's own, to the second,
in calendar and business time."""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from local.streams import lambda_record, pattern_matches
from shopdesk import clock
from shopdesk.analytics.reports import METRICS
from tests import analytics_scenario as scenario
from tests.integration.conftest import TEMPLATE, Desk, make_desk
from tests.integration.helpers import agent, online, post_twilio, teams
from tests.integration.test_admin_api import admin_call
from tests.integration.test_bot import KB as BOT_KB
from tests.integration.test_bot import kb_import
from tests.support import http_event, sqs_event, twilio_form

# 150 conversations (about 700 steps, each one or two handler calls, the bot and the surveys included) keep the
# module near 3 minutes on a 2-core machine (150 s of CPU, 183 s wall; 40 took 40 s of CPU, 200 took 206 s):
# almost all of it is the handlers' own requests to moto (about 75 per conversation), not the play.
# ANALYTICS_SCENARIO_CONVERSATIONS=N plays another count (200 took 7 minutes on a machine loaded six-fold). The
# play is one module fixture, so the first test carries it: its timeout allows for load.
CONVERSATIONS = int(os.environ.get("ANALYTICS_SCENARIO_CONVERSATIONS") or 200)
pytestmark = pytest.mark.timeout(900)
TZ = "Europe/Amsterdam"


class Frozen:
    """The one clock stopped at an instant of the script (shopdesk.clock reads ``time.time`` through this)."""

    def __init__(self) -> None:
        self.now = 0.0

    def time(self) -> float:
        return self.now


def _filters() -> list[Any]:
    props = TEMPLATE["Resources"]["AnalyticsWriterFunction"]["Properties"]["Events"]["TableStream"]["Properties"]
    return [json.loads(f["Pattern"]) for f in props["FilterCriteria"]["Filters"]]


class Lake:
    """The writer fed like Lambda's event source (template filters, batches of 500) and the reports API."""

    def __init__(self, desk: Desk, bucket: str | None = None):
        self.desk = desk
        suffix = uuid.uuid4().hex[:8]
        self.bucket = bucket or f"lake-{suffix}"       # the desk's own events bucket, or one of its own
        if bucket is None:
            desk.client("s3").create_bucket(Bucket=self.bucket)
        self.stream = f"events-{suffix}"
        desk.client("firehose").create_delivery_stream(
            DeliveryStreamName=self.stream, DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration={"RoleARN": "arn:aws:iam::123456789012:role/firehose",
                                                "BucketARN": f"arn:aws:s3:::{self.bucket}", "Prefix": "events/"})
        ddb = desk.client("dynamodb")
        self.stream_arn = ddb.describe_table(TableName=desk.table_name)["Table"]["LatestStreamArn"]
        streams = desk.client("dynamodbstreams")
        shards = streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
        self.iterators = [streams.get_shard_iterator(StreamArn=self.stream_arn, ShardId=s["ShardId"],
                                                     ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
                          for s in shards]
        self.records: list[dict[str, Any]] = []
        self.filters = _filters()

    def pump(self) -> int:
        """Read what the stream has now and hand it to the writer; answers the records passed on."""
        streams = self.desk.client("dynamodbstreams")
        fresh: list[dict[str, Any]] = []
        for n, iterator in enumerate(self.iterators):
            while True:
                answer = streams.get_records(ShardIterator=iterator, Limit=1000)
                iterator = answer["NextShardIterator"]
                fresh.extend(lambda_record(r, self.stream_arn) for r in answer["Records"])
                if not answer["Records"]:
                    break
            self.iterators[n] = iterator
        fresh = [r for r in fresh if any(pattern_matches(p, r) for p in self.filters)]
        self.records.extend(fresh)
        self.write(fresh)
        return len(fresh)

    def write(self, records: list[dict[str, Any]]) -> None:
        for start in range(0, len(records), 500):
            result = self.desk.invoke("analytics_writer", {"Records": records[start:start + 500]},
                                      EVENTS_STREAM_NAME=self.stream)
            assert result == {"batchItemFailures": []}

    def report(self, path: str, query: str, groups: str = "[admins]", who: str = "lead") -> tuple[int, Any]:
        """A reports request; by default an admin's, whose figures are the whole desk's."""
        claims = {"cognito:username": who, "cognito:groups": groups}
        result = self.desk.invoke("reports_api", http_event("GET", path, query=query, claims=claims),
                                  ANALYTICS_ENGINE="duckdb", EVENTS_BUCKET=self.bucket)
        body = result.get("body") or ""
        if result["headers"].get("Content-Type", "").startswith("text/csv"):
            return result["statusCode"], body
        return result["statusCode"], json.loads(body) if body else None


class Router:
    """The router run on its queue like Lambda's event source (``Desk.drain_queue``), for a play of hundreds of
    steps: the queue's ARN read once, what the batch handled deleted in one request."""

    def __init__(self, desk: Desk):
        self.desk, self.sqs, self.url = desk, desk.client("sqs"), desk.work_queue_url
        self.arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"]

    def drain(self) -> None:
        for _ in range(500):
            received = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                                MessageSystemAttributeNames=["All"]).get("Messages", [])
            if not received:
                return
            result = self.desk.invoke("router", sqs_event(received, self.arn))
            assert result.get("batchItemFailures") in (None, []), result
            self.sqs.delete_message_batch(QueueUrl=self.url, Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(received)])
        raise AssertionError("the router's queue did not empty")


def play(desk: Desk, script: scenario.Script, frozen: Frozen) -> dict[int, str]:
    """Every step of the script through the handlers; answers the conversation ids by script index."""
    desk.routes_before_agents = False          # the play runs the router itself, before anyone acts (Router)
    frozen.now = (scenario.BASE - timedelta(days=1)).timestamp()
    online(desk, *(a for team in scenario.TEAMS.values() for a in team))
    teams(desk, "returns")
    for team, members in scenario.TEAMS.items():
        for member in members:
            assert admin_call(desk, "PUT", f"/admin/agents/{member}", "[admins]",
                              {"capacity": 100, "teams": [team]})[0] == 200
    assert admin_call(desk, "PUT", "/admin/routing", "[admins]", {
        "team_by_channel": {"whatsapp": "returns"}, "acknowledgements": False})[0] == 200
    assert admin_call(desk, "PUT", "/admin/calendars/amsterdam", "[admins]", scenario.CALENDAR)[0] == 200
    status, body = admin_call(desk, "PUT", "/admin/sla-policies/standard", "[admins]", {
        "id": "standard", "name": "Standard", "calendar_id": "amsterdam",
        "targets": {p: scenario.TARGETS for p in ("urgent", "high", "normal", "low")}})
    assert status == 200, body
    # the bot on WhatsApp with a small knowledge base (tests/integration/test_bot.py), the survey on SMS
    assert kb_import(desk, BOT_KB)[0] == 200
    assert admin_call(desk, "PUT", "/admin/bot", "[admins]", {
        "enabled": True, "channels": [scenario.BOT_CHANNEL], "fallback_language": "en",
        "confidence_threshold": 0.26})[0] == 200
    assert admin_call(desk, "PUT", "/admin/csat", "[admins]", {
        "enabled": True, "when": "channels", "channels": [scenario.CSAT_CHANNEL]})[0] == 200
    desk.handler("agent_api").surveys._settings = None          # the settings are cached half a minute
    ids: dict[int, str] = {}
    router = Router(desk)
    unrouted: set[int] = set()         # conversations with customer messages the router has not seen yet
    for n, step in enumerate(script.steps):
        frozen.now = step.at.timestamp()
        conv = script.conversations[step.conversation]
        if step.kind in ("write", "rate", "comment"):
            prefix = "whatsapp:" if conv.channel == "whatsapp" else ""
            result = post_twilio(desk, twilio_form(MessageSid=f"SM{n:032d}", From=prefix + conv.phone,
                                                   To=prefix + "+14155550100", Body=step.text or ""))
            assert result["statusCode"] == 200, result
            if step.conversation not in ids:
                ids[step.conversation] = desk.item(f"IDENTITY#phone#{conv.phone}")["open_conversation_id"]
            unrouted.add(step.conversation)
            if step.route:                  # the bot acts, and a survey's answer is read, at the message
                router.drain()
                unrouted.clear()
            continue
        if step.conversation in unrouted:   # the router classifies and starts the clocks before anyone acts
            router.drain()
            unrouted.clear()
        path = f"/agent/conversations/{ids[step.conversation]}"
        if step.kind == "reply":
            status, body = agent(desk, "POST", path + "/replies", step.agent, {"text": "We are on it."})
            assert status == 202, (step, body)
        else:
            wanted = {"pending": "pending", "resolve": "resolved", "reopen": "open"}[step.kind]
            status, body = agent(desk, "POST", path + "/status", step.agent, {"status": wanted})
            assert status == 200, (step, body)
    router.drain()
    return ids


@pytest.fixture(scope="module")
def played(moto_endpoint: str) -> Iterator[SimpleNamespace]:
    from shopdesk import clock as clock_module
    desk = make_desk(moto_endpoint)
    script = scenario.make(CONVERSATIONS)
    frozen, real = Frozen(), clock_module.time
    clock_module.time = frozen          # type: ignore[assignment]
    clock.set_offset(0)
    try:
        ids = play(desk, script, frozen)
    finally:
        clock_module.time = real        # type: ignore[assignment]
    lake = Lake(desk)
    lake.pump()
    first, last = scenario.period_of(script)
    yield SimpleNamespace(desk=desk, script=script, ids=ids, lake=lake, query=f"from={first}&to={last}&tz={TZ}")


def _approx(expected: dict[str, Any]) -> dict[str, Any]:
    return {k: pytest.approx(v, abs=1e-3) if isinstance(v, float) else v for k, v in expected.items()}


def _rows(played: SimpleNamespace, name: str, group: str) -> list[dict[str, Any]]:
    status, body = played.lake.report("/reports/metrics", f"metric={name}&{played.query}&group_by={group}")
    assert status == 200, body
    return body["items"]


def _metric(played: SimpleNamespace, name: str, group: str | None, query: str | None = None) -> dict[str, Any]:
    suffix = f"&group_by={group}" if group else ""
    status, body = played.lake.report("/reports/metrics", f"metric={name}&{query or played.query}{suffix}")
    assert status == 200, body
    return {row["key"]: row for row in body["items"]}


# ------------------------------------------------------------------------------ the summary

def test_the_summary_equals_the_scripts_own_figures_in_calendar_and_business_time(played):
    script = played.script
    status, summary = played.lake.report("/reports/summary", played.query)
    assert status == 200, summary
    assert summary["conversations"] == len(script.conversations) == CONVERSATIONS
    assert summary["first_response"] == _approx(script.durations(script.first))
    assert summary["next_response"] == _approx(script.durations(script.next))
    resolved = {m.conversation for m in script.resolutions} | {i for i, _ in script.bot_resolved}
    reopened = {i for i, _ in script.reopens}
    assert summary["resolution"] == _approx({**script.durations(script.resolutions), "resolved": len(resolved),
                                             "reopened": len(reopened),
                                             "reopen_rate": round(len(reopened) / len(resolved), 4)})
    expected_sla = script.expected_sla()
    assert summary["sla"]["met_by_target"] == {t: met for t, (met, _) in expected_sla.items()}
    assert summary["sla"]["breached_by_target"] == {t: missed for t, (_, missed) in expected_sla.items()}
    assert summary["sla"]["compliance_by_target"] == {
        t: pytest.approx(round(met / (met + missed), 4)) for t, (met, missed) in expected_sla.items()}
    # the script has met and missed targets, and business time differs from calendar time
    assert sum(met for met, _ in expected_sla.values()) and sum(missed for _, missed in expected_sla.values())
    assert summary["first_response"]["business_median_s"] != summary["first_response"]["median_s"]
    # the bot's figures and the surveys', with every outcome in the history
    expected_bot = script.expected_bot()
    assert summary["bot"] == {**expected_bot, "containment_rate": pytest.approx(expected_bot["containment_rate"])}
    assert expected_bot["resolved"] and set(expected_bot["handed_off_by_reason"]) == {"human_requested",
                                                                                     "not_helpful"}
    expected_csat = script.expected_csat()
    assert summary["csat"] == _approx(expected_csat)
    assert 0 < expected_csat["responses"] < len(script.surveys)


# ------------------------------------------------------------------------------ metrics by group

def test_first_response_is_credited_to_the_agent_who_sent_it(played):
    script = played.script
    rows = _metric(played, "first_response", "agent")
    expected = script.by(script.first, "agent")
    assert set(rows) == set(expected)
    for agent_id, items in expected.items():
        assert {k: v for k, v in rows[agent_id].items() if k != "key"} == _approx(script.durations(items))
    # the senders are not always the assignees the router chose: credit follows the sender
    assignees = {played.desk.item(f"CONV#{cid}").get("assignee") for cid in played.ids.values()} - {None}
    assert assignees and set(rows) == {a for team in scenario.TEAMS.values() for a in team}
    senders = {(m.conversation, m.agent) for m in script.first}
    assert any(played.desk.item(f"CONV#{played.ids[i]}").get("assignee") not in (None, a) for i, a in senders)


def test_replies_and_conversations_handled_per_agent(played):
    script = played.script
    replies = Counter(a for _, a, _ in script.replies)
    handled: dict[str, set[int]] = defaultdict(set)
    for i, a, _ in script.replies:
        handled[a].add(i)
    assert {k: r["value"] for k, r in _metric(played, "replies", "agent").items()} == dict(replies)
    assert {k: r["value"] for k, r in _metric(played, "handled", "agent").items()} == {
        a: len(c) for a, c in handled.items()}


@pytest.mark.parametrize("group", ["team", "channel", "language"])
def test_volume_by_team_channel_and_language(played, group):
    conversations = played.script.conversations
    expected = Counter(getattr(c, group) for c in conversations)
    assert {k: r["value"] for k, r in _metric(played, "conversations", group).items()} == dict(expected)


def test_volume_by_hour_of_day_and_resolution_by_day_in_the_reports_time_zone(played):
    script = played.script
    by_hour = Counter(f"{c.opened.astimezone(scenario.ZONE).hour:02d}" for c in script.conversations)
    assert {k: r["value"] for k, r in _metric(played, "conversations", "hour").items()} == dict(by_hour)
    rows = _metric(played, "resolution", "day")
    expected = script.by(script.resolutions, "day")
    assert set(rows) == set(expected)
    for day, items in expected.items():
        assert {k: v for k, v in rows[day].items() if k != "key"} == _approx(script.durations(items))


def test_next_response_and_sla_compliance_per_team(played):
    script = played.script
    rows = _metric(played, "next_response", "team")
    for team, items in script.by(script.next, "team").items():
        assert rows[team]["count"] == len(items)
        assert rows[team]["business_median_s"] == pytest.approx(script.durations(items)["business_median_s"])
    status, body = played.lake.report("/reports/metrics", f"metric=sla_compliance&{played.query}&group_by=team")
    assert status == 200
    got = {(r["key"], r["target"]): (r["met"], r["breached"]) for r in body["items"]}
    expected: dict[tuple[str, str], tuple[int, int]] = {}
    for target, items in script.sla_instances().items():
        for team, members in script.by(items, "team").items():
            met = sum(1 for m in members if m.met(target))
            expected[(team, target)] = (met, len(members) - met)
    assert got == expected


def test_backlog_at_the_end_of_each_day(played):
    script = played.script
    rows = _metric(played, "backlog", "day")
    first = scenario.BASE.date()
    expected = script.backlog_by_day(first, first + timedelta(days=scenario.DAYS))
    assert {k: r["value"] for k, r in rows.items()} == expected
    open_at_end = len(script.conversations) - len(script.resolutions) - len(script.bot_resolved) + len(script.reopens)
    assert rows[max(rows)]["value"] == open_at_end > 0


def test_a_period_that_runs_past_now_has_no_backlog_or_load_for_what_is_still_to_come(played):
    from zoneinfo import ZoneInfo
    today = clock.now().astimezone(ZoneInfo(TZ)).date()
    query = f"from={today - timedelta(days=2)}&to={today + timedelta(days=5)}&tz={TZ}&group_by=day"
    for metric in ("backlog", "concurrent_load"):
        status, body = played.lake.report("/reports/metrics", f"metric={metric}&{query}")
        assert status == 200, body
        days = {row["key"] for row in body["items"]}
        assert days and max(days) <= today.isoformat(), (metric, sorted(days))
    # a period all to come has none
    later = f"from={today + timedelta(days=2)}&to={today + timedelta(days=5)}&tz={TZ}&group_by=day"
    assert played.lake.report("/reports/metrics", f"metric=backlog&{later}")[1]["items"] == []


def test_a_shorter_period_counts_what_happened_in_it(played):
    script = played.script
    start = scenario.BASE + timedelta(days=3)
    end = scenario.BASE + timedelta(days=5)
    query = f"from={start.date().isoformat()}&to={end.date().isoformat()}&tz={TZ}"
    inside = [m for m in script.first if start <= m.end < end]
    rows = _metric(played, "first_response", None, query)
    assert rows["all"]["count"] == len(inside)
    assert rows["all"]["median_s"] == pytest.approx(scenario.quantile([m.seconds for m in inside], 0.5))
    opened = sum(1 for c in script.conversations if start <= c.opened < end)
    assert _metric(played, "conversations", None, query)["all"]["value"] == opened


def test_csv_has_a_header_and_a_row_per_group(played):
    status, text = played.lake.report("/reports/metrics", f"metric=replies&{played.query}&group_by=agent&format=csv")
    assert status == 200
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["key"]: int(r["value"]) for r in rows} == dict(Counter(a for _, a, _ in played.script.replies))
    # and it is a file named by what it holds, for the browser and curl -OJ alike
    claims = {"cognito:username": "lead", "cognito:groups": "[admins]"}
    query = f"metric=replies&{played.query}&group_by=agent&format=csv&team=returns"
    result = played.desk.invoke("reports_api", http_event("GET", "/reports/metrics", query=query, claims=claims),
                                ANALYTICS_ENGINE="duckdb", EVENTS_BUCKET=played.lake.bucket)
    start, end = (dict(p.split("=", 1) for p in played.query.split("&"))[k][:10] for k in ("from", "to"))
    assert result["headers"]["Content-Disposition"] == (
        f'attachment; filename="shopdesk-replies-by-agent-{start}-to-{end}-returns.csv"')


def test_top_contact_reasons_per_week_count_each_conversation_once(played):
    """Every scripted customer who does not meet the bot asks where their order is: the router names the
    ``order_status`` topic once per conversation (a follow-up asking again adds nothing), in the week it read the
    message. The bot's customers ask about delivery (the article's tags) or for a person (not a reason)."""
    status, body = played.lake.report("/reports/metrics", f"metric=topics&{played.query}&group_by=week")
    assert status == 200, body
    rows = [r for r in body["items"] if r["topic"] == "order_status"]
    asking = [c for c in played.script.conversations if c.channel != scenario.BOT_CHANNEL]
    assert sum(r["conversations"] for r in rows) == len(asking)
    answered = len(played.script.bot_answered)
    assert {r["topic"] for r in body["items"]} == ({"order_status", "shipping", "delivery"} if answered
                                                   else {"order_status"})
    for topic in ("shipping", "delivery"):
        assert sum(r["conversations"] for r in body["items"] if r["topic"] == topic) == answered
    weeks = [r["key"] for r in rows]
    assert weeks == sorted(weeks) and weeks[0] == scenario.BASE.date().isoformat()
    for before, after in itertools.pairwise(rows):      # the week before, and whether it rose
        assert after["previous"] == before["conversations"]
        assert after["change"] == after["conversations"] - before["conversations"]
        assert after["rising"] is (after["change"] > 0)
    assert rows[0]["previous"] == 0 and rows[0]["rank"] == 1      # most customers ask where their order is
    status, text = played.lake.report("/reports/metrics",
                                      f"metric=topics&{played.query}&group_by=week&format=csv")
    assert status == 200 and text.splitlines()[0] == "key,topic,conversations,rank,previous,change,rising"


def test_concurrent_load_per_agent_and_day_adds_up_to_the_conversations_the_script_held(played):
    """Each agent's time-weighted load per day; together they are the conversations held (assigned and open)
    that day, as the script has them (scenario.held_per_day, computed from the steps alone)."""
    rows = list(_rows(played, "concurrent_load", "day"))
    first, last = (date.fromisoformat(d) for d in scenario.period_of(played.script))
    expected = scenario.held_per_day(played.script, first, last)
    team_of = {a: team for team, members in scenario.TEAMS.items() for a in members}
    assert {r["agent"] for r in rows} <= set(team_of)
    totals: dict[str, float] = defaultdict(float)
    for row in rows:
        totals[row["key"]] += row["mean"]
        assert row["max"] >= 1 and row["mean"] <= row["max"]
    assert len(expected) >= 10 and totals.keys() == expected.keys()
    for day, value in expected.items():       # each agent's figure is rounded to 3 places
        assert totals[day] == pytest.approx(value, abs=0.0005 * len(team_of)), day


def test_first_response_and_resolution_after_a_hand_over_start_at_the_hand_over(played):
    """On the bot's channel a person's part starts when the bot hands over: the customer's question and the bot's
    answer are not the team's time, in calendar and business time."""
    script = played.script
    handed = {i: at for i, _, at in script.handoffs}
    bot_first = [m for m in script.first if m.channel == scenario.BOT_CHANNEL]
    assert any(m.start > script.conversations[m.conversation].opened for m in bot_first)    # not_helpful
    assert all(m.start >= handed[m.conversation] for m in bot_first)
    for name, items in (("first_response", script.first), ("resolution", script.resolutions)):
        rows = _metric(played, name, "channel")
        for channel, members in script.by(items, "channel").items():
            assert {k: v for k, v in rows[channel].items() if k != "key"} == _approx(script.durations(members))


def test_bot_figures_per_channel_and_hand_overs_by_reason(played):
    script = played.script
    status, body = played.lake.report("/reports/metrics", f"metric=bot&{played.query}&group_by=channel")
    assert status == 200, body
    rows = {r["key"]: r for r in body["items"]}
    expected = script.expected_bot()
    assert set(rows) == {scenario.BOT_CHANNEL}
    row = rows[scenario.BOT_CHANNEL]
    assert (row["answered"], row["handed_off"], row["resolved"]) == (
        expected["answered"], expected["handed_off"], expected["resolved"])


def test_csat_per_agent_is_credited_to_the_resolver(played):
    script = played.script
    rows = {r["key"]: r for r in _rows(played, "csat", "agent")}
    assert {k: (r["asked"], r["responses"], r["satisfied"]) for k, r in rows.items()} == script.csat_by_agent()
    status, listed = played.lake.report("/reports/metrics", f"metric=csat_comments&{played.query}")
    assert status == 200, listed
    ids = {cid: i for i, cid in played.ids.items()}
    got = sorted((ids[r["conversation_id"]], r["agent_id"], r["rating"], r["comment"]) for r in listed["items"])
    expected = sorted((i, a, rating, comment) for i, a, rating, comment in script.ratings if comment)
    assert got == expected and any(c == scenario.COMMENT for *_, c in expected)


def test_events_written_twice_are_counted_once(played):
    before = played.lake.report("/reports/summary", played.query)[1]
    played.lake.write(played.lake.records[: len(played.lake.records) // 2])     # a redelivered stretch
    assert played.lake.report("/reports/summary", played.query)[1] == before


# ------------------------------------------------------------------------------ refusals

@pytest.mark.parametrize(("query", "status", "says"), [
    ("metric=replies&from=2026-11-02&to=2026-11-09&tz=Mars/Olympus", 400, "time zone"),
    ("metric=replies&from=2026-11-09&to=2026-11-02", 400, "later"),
    ("metric=replies&from=2026-11-02&to=2028-11-02", 400, "at most"),
    ("metric=replies&from=yesterday-x&to=2026-11-02", 400, "not a date"),
    ("metric=sparkles&from=2026-11-02&to=2026-11-09", 400, "unknown metric"),
    ("metric=backlog&from=2026-11-02&to=2026-11-09&group_by=agent", 400, "group_by=day"),
    ("metric=topics&from=2026-11-02&to=2026-11-09&group_by=day", 400, "group_by=week"),
    ("metric=replies&from=2026-11-02&to=2026-11-09&group_by=planet", 422, "group_by"),
    ("metric=replies&to=2026-11-09", 422, "from"),
])
def test_bad_input_is_a_problem_that_says_what_is_wrong(played, query, status, says):
    got, body = played.lake.report("/reports/metrics", query)
    assert got == status, body
    assert body["status"] == status and body["type"].startswith("/problems/")
    assert says in json.dumps(body)


def test_reports_are_for_supervisors_and_admins(played):
    assert played.lake.report("/reports/summary", played.query, groups="[]")[0] == 403
    assert played.lake.report("/reports/summary", played.query, groups="[supervisors]")[0] == 200
    assert played.lake.report("/reports/summary", played.query, groups="[admins]")[0] == 200


def test_the_writer_derives_nothing_twice_from_one_record(played):
    ids = []
    for record in played.lake.records[:400]:
        from shopdesk.analytics.events import derive
        from shopdesk.dal.table import deserialize
        data = record["dynamodb"]
        ids += [e.event_id for e in derive(record["eventName"], deserialize(data["Keys"]),
                                           deserialize(data["NewImage"]) if "NewImage" in data else None,
                                           deserialize(data["OldImage"]) if "OldImage" in data else None,
                                           datetime.fromtimestamp(data["ApproximateCreationDateTime"]))]
    assert ids and len(ids) == len(set(ids))


def test_the_staffing_plan_sets_the_agents_usually_online_beside_the_agents_needed(played):
    from shopdesk.forecast.staffing import StaffingInputs, plan

    # Given the script's two weeks, during which its five agents stayed online (they went online the day before)
    after = scenario.BASE + timedelta(days=scenario.DAYS, minutes=30)
    clock.set_offset(after.timestamp() - clock.now().timestamp() + clock.offset())
    try:
        # When a supervisor asks for the next week's plan
        status, forecast = played.lake.report("/reports/forecast", f"days=7&tz={TZ}")
        assert status == 200, forecast
        status, body = played.lake.report("/reports/staffing", f"days=7&tz={TZ}&handle_seconds=1800&concurrency=2")
    finally:
        clock.set_offset(0)
    assert status == 200, body
    # Then every hour has the five online (the time-weighted mean over the forecast's weeks of history) beside
    # the agents its forecast needs, short where five are fewer
    agents = sum(len(team) for team in scenario.TEAMS.values())
    assert forecast["history_weeks"] == body["history_weeks"] >= 1 and len(body["items"]) == 7 * 24
    assert [i["expected"] for i in body["items"]] == [i["expected"] for i in forecast["items"]]
    needed = plan([i["expected"] for i in body["items"]], StaffingInputs(
        slot_seconds=1800, first_response_target_seconds=3600, reply_after_assignment_seconds=120, concurrency=2))
    assert [i["agents_needed"] for i in body["items"]] == [p.agents for p in needed]
    assert {i["usually_online"] for i in body["items"]} == {float(agents)}
    assert [i["short"] for i in body["items"]] == [p.agents > agents for p in needed]
    assert body["inputs"]["concurrency"] == 2
    # and the document says so
    status, document = played.lake.report("/reports/openapi.json", "")
    hour = document["components"]["schemas"]["StaffingHour"]
    assert status == 200 and {"usually_online", "short"} <= set(hour["required"])


# ------------------------------------------------------------------------------ whose figures (#14)

# A supervisor of each of the script's teams: an agent of the team whose record names it (the play set them).
SUPERVISORS = {"default": "alice", "returns": "dave"}
EVERY_METRIC = [(name, group) for name in METRICS
                for group in (None, "agent", "team", "channel", "language", "day", "week", "hour")]


@pytest.fixture(scope="module")
def team_lakes(played: SimpleNamespace) -> dict[str, Lake]:
    """For each team, a lake of a desk that had only that team's conversations: the played stream's records of
    its conversations (by the script's own team of each, not by anything the lake says) and the presence of its
    agents, through the writer into a bucket of its own. Its admin's figures are what the team's supervisor must
    read from the whole lake."""
    team_of = {cid: played.script.conversations[i].team for i, cid in played.ids.items()}
    agent_team = {a: team for team, members in scenario.TEAMS.items() for a in members}
    lakes = {}
    for team in scenario.TEAMS:
        def theirs(record: dict[str, Any], team: str = team) -> bool:
            pk = record["dynamodb"]["Keys"]["PK"]["S"]
            if pk.startswith("CONV#"):
                return team_of[pk.removeprefix("CONV#")] == team
            return pk.startswith("AGENT#") and agent_team.get(pk.removeprefix("AGENT#")) == team
        lakes[team] = Lake(played.desk)
        lakes[team].write([r for r in played.lake.records if theirs(r)])
    return lakes


def _as_supervisor(played: SimpleNamespace, team: str, path: str, query: str) -> tuple[int, Any]:
    return played.lake.report(path, query, groups="[supervisors]", who=SUPERVISORS[team])


def _whose(body: Any) -> Any:
    """An answer without the field that says whose figures it holds (compared on its own)."""
    return {k: v for k, v in body.items() if k != "teams"} if isinstance(body, dict) else body


@pytest.mark.parametrize("team", sorted(scenario.TEAMS))
def test_a_supervisor_s_summary_is_the_desk_s_of_their_team_s_conversations_alone(played, team_lakes, team):
    script = played.script
    # Given the whole desk's lake, and a lake of a desk that had only this team's conversations
    mine = [c for c in script.conversations if c.team == team]
    assert 0 < len(mine) < len(script.conversations)
    # When the team's supervisor asks for the summary
    status, summary = _as_supervisor(played, team, "/reports/summary", played.query)
    assert status == 200, summary
    # Then it holds only their team's conversations, and says whose figures they are
    assert summary["conversations"] == len(mine) and summary["teams"] == [team]
    assert _whose(summary) == _whose(team_lakes[team].report("/reports/summary", played.query)[1])
    # and an admin's is the whole desk's, or the team's when they name it
    status, desk = played.lake.report("/reports/summary", played.query)
    assert desk["conversations"] == len(script.conversations) and desk["teams"] is None
    status, named = played.lake.report("/reports/summary", played.query + f"&team={team}")
    assert status == 200 and named == summary


@pytest.mark.parametrize("team", sorted(scenario.TEAMS))
def test_a_supervisor_s_every_metric_by_every_group_is_their_team_s_alone(played, team_lakes, team):
    """Every metric of the catalog and the comments, by every group (and none), in JSON and CSV: what the team's
    supervisor reads is what the desk of their team alone answers its admin, refusals included."""
    compared = 0
    for name, group in EVERY_METRIC:
        query = f"metric={name}&{played.query}" + (f"&group_by={group}" if group else "")
        for suffix in ("", "&format=csv"):
            got = _as_supervisor(played, team, "/reports/metrics", query + suffix)
            expected = team_lakes[team].report("/reports/metrics", query + suffix)
            assert (got[0], _whose(got[1])) == (expected[0], _whose(expected[1])), (name, group, suffix)
            if got[0] == 200 and not suffix:
                assert got[1]["teams"] == [team]
                compared += bool(got[1]["items"])
    assert compared > 50            # most of them have figures: the comparison is not of empty answers


def test_a_supervisor_reads_no_comment_of_another_team_s_conversation(played):
    """The comments name conversations: the surveys are on SMS (the default team), so the returns supervisor has
    none, the default team's supervisor has every one, and each comment's conversation is one of their team."""
    team_of = {cid: played.script.conversations[i].team for i, cid in played.ids.items()}
    query = f"metric=csat_comments&{played.query}"
    everyone = played.lake.report("/reports/metrics", query)[1]["items"]
    assert everyone and {team_of[c["conversation_id"]] for c in everyone} == {"default"}
    assert _as_supervisor(played, "returns", "/reports/metrics", query)[1]["items"] == []
    assert _as_supervisor(played, "default", "/reports/metrics", query)[1]["items"] == everyone
    status, text = _as_supervisor(played, "returns", "/reports/metrics", query + "&format=csv")
    assert status == 200 and not any(c["conversation_id"] in text for c in everyone)


def test_a_supervisor_names_only_a_team_of_theirs_and_an_admin_any(played):
    query = f"metric=replies&{played.query}&group_by=agent"
    for path, asked in (("/reports/summary", played.query), ("/reports/metrics", query),
                        ("/reports/forecast", "days=7"), ("/reports/staffing", "days=7")):
        status, body = _as_supervisor(played, "returns", path, asked + "&team=default")
        assert status == 403 and body["status"] == 403 and "default" in body["detail"], (path, body)
    assert _as_supervisor(played, "returns", "/reports/metrics", query + "&team=returns")[0] == 200
    status, body = played.lake.report("/reports/metrics", query + "&team=returns")
    assert status == 200 and {r["key"] for r in body["items"]} == set(scenario.TEAMS["returns"])


@pytest.mark.parametrize("team", sorted(scenario.TEAMS))
def test_a_supervisor_s_forecast_and_staffing_learn_from_their_team_s_conversations_and_agents(played, team_lakes,
                                                                                                 team):
    # Given the script's two weeks behind
    after = scenario.BASE + timedelta(days=scenario.DAYS, minutes=30)
    clock.set_offset(after.timestamp() - clock.now().timestamp() + clock.offset())
    try:
        answers = {}
        for path, query in (("/reports/forecast", f"days=7&tz={TZ}"),
                            ("/reports/staffing", f"days=7&tz={TZ}&handle_seconds=1800&concurrency=2")):
            # When the team's supervisor asks for the forecast and the staffing plan
            got = _as_supervisor(played, team, path, query)
            # Then they are the ones of the desk of their team alone: its conversations, its agents online
            assert got == team_lakes[team].report(path, query), path
            answers[path] = got[1]
            desk = played.lake.report(path, query)[1]
            assert got[1]["items"] != desk["items"], path
    finally:
        clock.set_offset(0)
    online = {i["usually_online"] for i in answers["/reports/staffing"]["items"]}
    assert online == {float(len(scenario.TEAMS[team]))}
    assert sum(i["expected"] for i in answers["/reports/forecast"]["items"]) > 0
