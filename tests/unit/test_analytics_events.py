"""Events derived from item images (shopdesk.analytics.events): what each change of the table is, with
deterministic ids; the lake's columns are the Glue table's; every report statement runs on DuckDB and its
Trino form parses as Trino."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlglot
import yaml

from shopdesk.analytics.duckdb_lake import DuckDbLake
from shopdesk.analytics.events import COLUMNS, EventType, derive
from shopdesk.analytics.sql import GROUPS, STATEMENTS, WHOLE_DESK, Period, Scope, statement, to_trino
from tests.support import ROOT

CONV = {"PK": "CONV#c_1", "SK": "META"}


def meta(**fields):
    base = {"PK": "CONV#c_1", "SK": "META", "id": "c_1", "status": "open", "team": "default", "channel": "sms",
            "language": "en", "priority": "normal", "customer": {"id": "u_1"},
            "created_at": "2026-11-02T09:00:00.000Z", "updated_at": "2026-11-02T09:00:00.000Z",
            "cycle_started_at": "2026-11-02T09:00:00.000Z", "awaiting_since": "2026-11-02T09:00:00.000Z",
            "sla": {"first_response_at": None}}
    return {**base, **fields}


def types(events):
    return [e.type.value for e in events]


def test_a_new_conversation_is_opened_by_the_customer():
    events = derive("INSERT", CONV, meta(), None)
    assert types(events) == ["conversation_opened"]
    assert events[0].day == "2026-11-02" and events[0].at_ms == 1793610000000 and events[0].customer_id == "u_1"


def test_the_first_reply_of_a_cycle_carries_its_time_from_the_cycle_start_and_its_sender():
    old = meta(assignee="bob")
    new = meta(assignee="bob", updated_at="2026-11-02T10:30:00.000Z", last_outbound_at="2026-11-02T10:30:00.000Z",
               last_outbound_by="alice", awaiting_since=None, sla={"first_response_at": "2026-11-02T10:30:00.000Z"})
    (reply,) = derive("MODIFY", CONV, new, old)
    assert reply.type is EventType.FIRST_HUMAN_REPLY
    assert (reply.agent_id, reply.duration_s, reply.business_s) == ("alice", 5400.0, 5400.0)   # always open
    # the same record again: the same id
    assert derive("MODIFY", CONV, new, old)[0].event_id == reply.event_id


def test_a_later_reply_answers_the_customer_who_waited_since_their_first_unanswered_message():
    old = meta(sla={"first_response_at": "2026-11-02T09:10:00.000Z"}, awaiting_since="2026-11-02T11:00:00.000Z",
               last_outbound_at="2026-11-02T09:10:00.000Z")
    new = {**old, "awaiting_since": None, "last_outbound_at": "2026-11-02T11:20:00.000Z", "last_outbound_by": "bob",
           "updated_at": "2026-11-02T11:20:00.000Z"}
    (reply,) = derive("MODIFY", CONV, new, old)
    assert (reply.type, reply.agent_id, reply.duration_s) == (EventType.NEXT_HUMAN_REPLY, "bob", 1200.0)


def test_a_resolve_is_a_status_change_credited_to_who_resolved_with_the_cycles_resolution_time():
    old = meta(assignee="bob")
    new = meta(assignee="bob", status="resolved", changed_by="alice", resolved_at="2026-11-03T09:00:00.000Z",
               updated_at="2026-11-03T09:00:00.000Z")
    (change,) = derive("MODIFY", CONV, new, old)
    assert (change.type, change.from_value, change.to_value, change.agent_id) == (
        EventType.STATUS_CHANGED, "open", "resolved", "alice")
    assert change.duration_s == 86400.0
    # resolved by the system (no agent): the assignee is credited
    system = derive("MODIFY", CONV, {**new, "changed_by": "system"}, old)[0]
    assert system.agent_id == "bob"


def test_a_bot_resolution_without_a_hand_over_is_the_bots_and_has_no_human_resolution_time():
    new = meta(status="resolved", changed_by="bot", resolved_at="2026-11-02T09:05:00.000Z")
    events = derive("MODIFY", CONV, new, meta())
    assert types(events) == ["status_changed", "bot_resolved"]
    assert events[0].agent_id is None and events[0].duration_s is None


def test_a_hand_over_moves_the_start_of_the_persons_part():
    new = meta(handed_off_at="2026-11-02T09:20:00.000Z", updated_at="2026-11-02T09:30:00.000Z",
               last_outbound_by="alice", sla={"first_response_at": "2026-11-02T09:30:00.000Z"})
    (reply,) = derive("MODIFY", CONV, new, meta(handed_off_at="2026-11-02T09:20:00.000Z"))
    assert reply.duration_s == 600.0


@pytest.mark.parametrize(("before", "after", "kind", "reason"), [
    (None, "alice", "assigned", None), ("alice", "bob", "transferred", None), ("alice", None, "unassigned",
                                                                                 "released"),
])
def test_assignee_changes(before, after, kind, reason):
    new = meta(assignee=after, changed_by="router", updated_at="2026-11-02T09:01:00.000Z",
               assigned_at="2026-11-02T09:01:00.000Z")
    (event,) = derive("MODIFY", CONV, new, meta(assignee=before))
    assert (event.type.value, event.from_value, event.to_value, event.reason) == (kind, before, after, reason)


def test_language_and_team_set_by_the_router_classify_the_conversation():
    (event,) = derive("MODIFY", CONV, meta(language="es", team="returns"), meta(language=None))
    assert (event.type, event.language, event.team) == (EventType.CONVERSATION_CLASSIFIED, "es", "returns")


def test_messages_received_sent_delivered_and_failed():
    message = {"PK": "CONV#c_1", "SK": "MSG#2026-11-02T09:00:00.000Z#m_1", "id": "m_1", "conversation_id": "c_1",
               "channel": "sms", "created_at": "2026-11-02T09:00:00.000Z"}
    keys = {"PK": message["PK"], "SK": message["SK"]}
    assert types(derive("INSERT", keys, {**message, "direction": "inbound"}, None)) == ["message_received"]
    sent = {**message, "direction": "outbound", "author": "alice", "status": "queued"}
    (reply,) = derive("INSERT", keys, sent, None)
    assert (reply.type, reply.agent_id) == (EventType.MESSAGE_SENT, "alice")
    (ack,) = derive("INSERT", keys, {**sent, "author": None, "kind": "acknowledgement"}, None)
    assert ack.agent_id is None                              # not a person's answer
    at = datetime(2026, 11, 2, 9, 0, 5, tzinfo=UTC)
    (delivered,) = derive("MODIFY", keys, {**sent, "status": "delivered"}, {**sent, "status": "sent"}, at)
    assert (delivered.type, delivered.occurred_at) == (EventType.MESSAGE_DELIVERED, "2026-11-02T09:00:05.000Z")
    assert derive("MODIFY", keys, {**sent, "status": "read"}, {**sent, "status": "delivered"}, at) == []
    failed = {**sent, "status": "failed", "error": {"code": "30003"}}
    assert derive("MODIFY", keys, failed, sent, at)[0].reason == "30003"


def test_kinds_other_capabilities_write_become_their_events():
    keys = {"PK": "CONV#c_1", "SK": "MSG#x#m_2"}
    base = {"id": "m_2", "conversation_id": "c_1", "created_at": "2026-11-02T09:00:00.000Z"}
    (action,) = derive("INSERT", keys, {**base, "direction": "system", "kind": "order_action", "author": "alice",
                                        "payload": {"action": "refund", "order": "#1001", "done": True}}, None)
    assert (action.type, action.agent_id, action.reason) == (EventType.ORDER_ACTION, "alice", "refund")
    (rating,) = derive("INSERT", keys, {**base, "direction": "inbound", "kind": "csat_answer",
                                        "payload": {"rating": 5, "agent_id": "bob"}}, None)
    assert (rating.type, rating.rating, rating.agent_id) == (EventType.CSAT_ANSWERED, 5, "bob")
    (handoff,) = derive("INSERT", keys, {**base, "direction": "system", "kind": "bot_handoff", "author": "bot",
                                         "payload": {"reason": "asked_for_human"}}, None)
    assert (handoff.type, handoff.reason) == (EventType.BOT_HANDED_OFF, "asked_for_human")


def test_an_event_keeps_ids_and_machine_values_of_its_payload_never_the_customers_words():
    """A rating by email: its payload has the comment the customer wrote, the mail's headers and where its raw
    mail is. The event says there is a comment; the words stay on the survey record (retention and erase remove
    them), and nothing of the mail reaches the lake."""
    keys = {"PK": "CONV#c_1", "SK": "MSG#x#m_2"}
    payload = {"rating": 2, "rating_source": "digit", "agent_id": "bob", "team": "returns", "cycle": "2026-11-02",
               "comment": "Quokkavelvet was rude", "source": {"bucket": "mail", "key": "raw/abc"},
               "email": {"message_id": "<q1@customer.example>", "references": ["<q0@customer.example>"]}}
    (rating,) = derive("INSERT", keys, {"id": "m_2", "conversation_id": "c_1", "created_at": "2026-11-02T09:00:00Z",
                                        "direction": "inbound", "kind": "csat_answer", "payload": payload}, None)
    assert json.loads(rating.detail or "") == {"rating": 2, "rating_source": "digit", "agent_id": "bob",
                                               "team": "returns", "cycle": "2026-11-02", "commented": True}
    line = rating.model_dump_json()
    assert "Quokkavelvet" not in line and "raw/abc" not in line and "customer.example" not in line


def test_the_bots_own_messages_are_its_answers_and_hand_overs():
    """What shopdesk.bot.converse writes: replies of kind ``bot`` (an answer, or the closing words of a resolve)
    and a system note naming the hand-over's reason."""
    keys = {"PK": "CONV#c_1", "SK": "MSG#x#m_3"}
    base = {"id": "m_3", "conversation_id": "c_1", "created_at": "2026-11-02T09:00:00.000Z", "author": "bot"}
    sent, answered = derive("INSERT", keys, {**base, "direction": "outbound", "kind": "bot", "status": "queued",
                                             "payload": {"bot": {"action": "answer", "article_id": "faq"}}}, None)
    assert (sent.type, sent.agent_id) == (EventType.MESSAGE_SENT, None)
    assert (answered.type, answered.reason) == (EventType.BOT_ANSWERED, "answer")
    (closing,) = derive("INSERT", keys, {**base, "direction": "outbound", "kind": "bot", "status": "queued",
                                         "payload": {"bot": {"action": "resolve"}}}, None)
    assert closing.type == EventType.MESSAGE_SENT
    (handoff,) = derive("INSERT", keys, {**base, "direction": "system", "kind": "system",
                                         "payload": {"bot": {"handoff_reason": "not_helpful"}}}, None)
    assert (handoff.type, handoff.reason) == (EventType.BOT_HANDED_OFF, "not_helpful")


def test_removed_items_and_other_items_are_no_facts():
    assert derive("REMOVE", CONV, None, meta()) == []
    assert derive("INSERT", {"PK": "CHANGES", "SK": "x"}, {"PK": "CHANGES"}, None) == []


# ------------------------------------------------------------------------------ the lake's shape and SQL

def test_the_glue_table_has_the_lakes_columns_in_order():
    class Loader(yaml.SafeLoader):
        pass
    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=Loader)  # noqa: S506 (safe loader subclass)
    table = template["Resources"]["EventsTable"]["Properties"]["TableInput"]
    columns = [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]]
    partitions = [(c["Name"], c["Type"]) for c in table["PartitionKeys"]]
    assert columns + partitions == [(name, hive) for name, _, hive in COLUMNS]


PERIOD = Period(datetime(2026, 11, 30, 23, tzinfo=UTC), datetime(2026, 12, 7, 23, tzinfo=UTC), "Europe/Amsterdam")
EVERY = [(name, group) for name in [*STATEMENTS, "backlog"] for group in (None, *GROUPS)
         if name != "backlog" or group in ("day", "hour")]


@pytest.fixture(scope="module")
def empty_lake():
    return DuckDbLake()


@pytest.mark.parametrize(("name", "group"), EVERY)
def test_every_report_statement_runs_on_duckdb_and_parses_as_trino(empty_lake, name, group):
    sql = statement(name, PERIOD, group)
    empty_lake.rows(sql)
    trino = to_trino(sql.replace("{events}", '"shopdesk_dev"."events"')
                     .replace("{erased}", '"shopdesk_dev"."erased"'))
    parsed = sqlglot.parse_one(trino, read="trino")
    assert parsed.find(sqlglot.exp.Table) is not None
    assert "quantile_cont" not in trino.lower() and "percentile_cont" not in trino.lower()   # Trino has neither


def test_statements_take_no_text_but_a_known_time_zone():
    with pytest.raises(ValueError):
        statement("replies", Period(PERIOD.start, PERIOD.end, "Europe/Amsterdam'; DROP TABLE x; --"), None)
    with pytest.raises(ValueError):
        statement("replies", PERIOD, "customer")


def test_json_lines_and_duplicates_read_once(tmp_path):
    lake = DuckDbLake()
    opened = meta(updated_at="2026-12-01T10:00:00.000Z", created_at="2026-12-01T10:00:00.000Z")
    (event,) = derive("INSERT", CONV, opened, None)
    path = tmp_path / "batch.jsonl"
    path.write_text((event.model_dump_json(exclude_none=True) + "\n") * 2)
    lake.load_files([path])
    assert lake.rows(statement("conversations", PERIOD, None)) == [{"key": "all", "value": 1}]
    assert json.loads(event.model_dump_json())["type"] == "conversation_opened"


def test_the_forecast_learns_the_hour_of_week_from_the_lakes_history():
    from datetime import timedelta

    from shopdesk.analytics.events import Event
    from shopdesk.analytics.reports import volume_forecast
    from shopdesk.errors import Conflict

    now = datetime(2026, 12, 7, 0, 30, tzinfo=UTC)               # a Monday
    lake = DuckDbLake()
    with pytest.raises(Conflict):
        volume_forecast(lake, now, "sms", 7, "UTC")
    # three weeks of SMS: two conversations every Monday 09:00 UTC, one every day at 15:00; WhatsApp besides
    events = []
    for day in range(21):
        moment = datetime(2026, 11, 16, tzinfo=UTC) + timedelta(days=day)
        starts = [moment.replace(hour=15)] + ([moment.replace(hour=9)] * 2 if moment.weekday() == 0 else [])
        for n, start in enumerate(starts):
            for channel in ("sms", "whatsapp"):
                opened = meta(id=f"c_{day}_{n}_{channel}", channel=channel, created_at=start.isoformat())
                events += derive("INSERT", {"PK": f"CONV#c_{day}_{n}_{channel}", "SK": "META"}, opened, None)
    lake.add(e for e in events if isinstance(e, Event))
    got = volume_forecast(lake, now, "sms", 7, "UTC")
    assert got["history_weeks"] == 2 and len(got["items"]) == 7 * 24      # whole weeks since the first hour
    by_hour = {item["hour"]: item["expected"] for item in got["items"]}
    assert by_hour["2026-12-07T09:00:00+00:00"] == pytest.approx(2.0)
    assert by_hour["2026-12-08T15:00:00+00:00"] == pytest.approx(1.0)
    assert by_hour["2026-12-08T09:00:00+00:00"] == pytest.approx(0.0)
    with pytest.raises(Exception, match="channel"):
        volume_forecast(lake, now, "sms' OR 1=1 --", 7, "UTC")
    # and the staffing plan beside it: no agent for a quiet hour, some for the Monday-morning peak
    from shopdesk.analytics.reports import staffing_plan
    from shopdesk.forecast.staffing import StaffingInputs
    plan = staffing_plan(got, StaffingInputs(slot_seconds=1800, first_response_target_seconds=600))
    needed = {item["hour"]: item["agents_needed"] for item in plan["items"]}
    assert needed["2026-12-08T09:00:00+00:00"] == 0 and needed["2026-12-07T09:00:00+00:00"] >= 1
    assert plan["inputs"]["concurrency"] == 3 and plan["items"][0]["limited_by"] in ("none", "service_level")


def test_the_routers_classification_is_the_routers_even_after_the_language_came_first():
    understood = meta(language="es", changed_by="customer")                   # the router noted the language
    routed = {**understood, "team": "returns", "classified_at": "2026-11-02T09:00:01.000Z"}
    (event,) = derive("MODIFY", CONV, routed, understood)
    assert (event.type, event.actor, event.team) == (EventType.CONVERSATION_CLASSIFIED, "router", "returns")


def _opened(conversation_id: str, customer_id: str, at: str = "2026-12-01T10:00:00.000Z"):
    item = meta(PK=f"CONV#{conversation_id}", id=conversation_id, customer={"id": customer_id}, created_at=at,
                updated_at=at)
    return derive("INSERT", {"PK": f"CONV#{conversation_id}", "SK": "META"}, item, None)


@pytest.mark.parametrize("erased", [["u_gone"], ["c_gone"]])
def test_an_erased_customer_s_events_count_in_no_report(erased):
    # Given two customers' conversations in the lake, one of an erased customer (by customer or conversation id)
    lake = DuckDbLake()
    lake.add([*_opened("c_kept", "u_kept"), *_opened("c_gone", "u_gone")])
    before = {"all": 2}
    assert {r["key"]: r["value"] for r in lake.rows(statement("conversations", PERIOD, None))} == before
    # When the deletion list names them
    lake.erase(erased)
    # Then no figure counts them, the backlog included, and an event with no customer is kept
    assert lake.rows(statement("conversations", PERIOD, None)) == [{"key": "all", "value": 1}]
    backlog = lake.rows(statement("backlog", PERIOD, "day"))
    assert backlog and max(r["value"] for r in backlog) == 1
    lake.add(_opened("c_anon", None))         # type: ignore[arg-type]
    assert lake.rows(statement("conversations", PERIOD, None)) == [{"key": "all", "value": 2}]


@pytest.mark.parametrize(("group", "keys"), [
    ("day", ["2026-12-07", "2026-12-08", "2026-12-09"]),
    ("hour", [f"2026-12-07 {h:02d}" for h in range(24)] + [f"2026-12-08 {h:02d}" for h in range(24)]
     + [f"2026-12-09 {h:02d}" for h in range(24)]),
])
def test_the_backlog_has_every_day_or_hour_of_the_period_even_without_a_change_in_it(group, keys):
    # Given two conversations opened a week before the period and one resolved on its second day
    lake = DuckDbLake()
    lake.add([*_opened("c_a", "u_a", "2026-11-30T10:00:00.000Z"), *_opened("c_b", "u_b", "2026-11-30T11:00:00.000Z")])
    old = meta(PK="CONV#c_a", id="c_a", customer={"id": "u_a"})
    resolved = {**old, "status": "resolved", "changed_by": "alice", "updated_at": "2026-12-08T11:30:00.000Z"}
    lake.add(derive("MODIFY", {"PK": "CONV#c_a", "SK": "META"}, resolved, old))
    # When a supervisor reads the backlog of three days in Amsterdam
    period = Period(datetime(2026, 12, 6, 23, tzinfo=UTC), datetime(2026, 12, 9, 23, tzinfo=UTC), "Europe/Amsterdam")
    rows = {r["key"]: r["value"] for r in lake.rows(statement("backlog", period, group))}
    # Then each day (or hour) has a row: 2 open until the resolve, 1 after it
    assert list(rows) == keys
    resolve_key = "2026-12-08" if group == "day" else "2026-12-08 12"
    assert all(value == (2 if key < resolve_key else 1) for key, value in rows.items())


def test_the_deletion_list_reaches_athena_as_an_anti_join_on_its_glue_table():
    sql = statement("replies", PERIOD, "agent")
    trino = to_trino(sql.replace("{events}", '"shopdesk_dev"."events"').replace("{erased}", '"shopdesk_dev"."erased"'))
    anti_join = "NOT COALESCE({}, '') IN (SELECT id FROM \"shopdesk_dev\".\"erased\" WHERE NOT id IS NULL)"
    assert anti_join.format("customer_id") in trino and anti_join.format("conversation_id") in trino
    sqlglot.parse_one(trino, read="trino")


def test_every_report_statement_leaves_erased_customers_out():
    from shopdesk.analytics.sql import concurrent_load, hourly, topics

    built = [statement(name, PERIOD, group) for name, group in EVERY]
    built += [hourly(PERIOD, None), hourly(PERIOD, "sms"), concurrent_load(PERIOD, "day"), topics(PERIOD)]
    assert all("{erased}" in sql and sql.count("NOT IN (SELECT id FROM {erased}") >= 2 for sql in built)


def _presence(agent: str, changes: list[tuple[str, str]]):
    """The lake events of one agent's presence changes: (time, presence), the first one creating the agent."""
    out, before = [], None
    for at, presence in changes:
        new = {"PK": f"AGENT#{agent}", "SK": "META", "id": agent, "presence": presence, "active": 0,
               "presence_changed_at": at}
        out += derive("MODIFY" if before else "INSERT", {"PK": f"AGENT#{agent}", "SK": "META"}, new, before)
        before = new
    return out


def test_a_presence_change_is_an_event_and_a_load_change_is_none():
    (went,) = _presence("a_1", [("2026-11-30T09:00:00.000Z", "online")])
    assert (went.type, went.agent_id, went.from_value, went.to_value, went.occurred_at) == (
        EventType.PRESENCE_CHANGED, "a_1", None, "online", "2026-11-30T09:00:00.000Z")
    item = {"PK": "AGENT#a_1", "SK": "META", "id": "a_1", "presence": "online", "active": 0}
    assert derive("MODIFY", {"PK": "AGENT#a_1", "SK": "META"}, {**item, "active": 1}, item) == []
    assert _presence("a_2", [("2026-11-30T09:00:00.000Z", "offline")]) == []     # created offline: no change
    # an item written before presence_changed_at existed is dated by the stream record
    written = datetime(2026, 11, 30, 9, 5, tzinfo=UTC)
    (away,) = derive("MODIFY", {"PK": "AGENT#a_1", "SK": "META"}, {**item, "presence": "away"}, item, written)
    assert (away.from_value, away.to_value, away.at_ms) == ("online", "away", int(written.timestamp() * 1000))
    again = _presence("a_1", [("2026-11-30T09:00:00.000Z", "online")])
    assert again[0].event_id == went.event_id                      # a replayed record is the same fact


def test_agents_usually_online_are_the_mean_over_the_weeks_of_each_hour_of_the_week():
    from shopdesk.analytics.reports import staffing_plan, usually_online
    from shopdesk.analytics.sql import online
    from shopdesk.forecast.staffing import StaffingInputs

    # Given two weeks of presence (Mondays 2026-11-23 and 2026-11-30), and c online since before those weeks
    lake = DuckDbLake()
    lake.add([*_presence("a", [("2026-11-23T09:00:00Z", "online"), ("2026-11-23T11:00:00Z", "offline"),
                               ("2026-11-30T09:30:00Z", "online"), ("2026-11-30T10:00:00Z", "offline")]),
              *_presence("b", [("2026-11-30T09:00:00Z", "online"), ("2026-11-30T10:15:00Z", "away")]),
              *_presence("c", [("2026-11-10T08:00:00Z", "online"), ("2026-11-23T09:30:00Z", "offline")])])
    now = datetime(2026, 12, 7, 0, 30, tzinfo=UTC)                   # a Monday
    # When the next 14 days are planned from the two weeks
    usual = usually_online(lake, now, "UTC", 2, 14 * 24)
    # Then each hour of the week is the mean of its two weeks, the agent-time online in it over an hour
    assert usual[0] == 0.5                         # Monday 00: c in the first week only
    assert usual[8] == 0.5                         # Monday 08
    assert usual[9] == 1.5                         # 09: (a 1 + c 0.5 + a 0.5 + b 1) / 2
    assert usual[10] == 0.625                      # 10: (a 1 + b 0.25) / 2
    assert usual[11] == 0.0 and usual[12] == 0.0
    assert usual[9 + 168] == 1.5 and len(usual) == 336
    assert sum(usual) == pytest.approx(2 * (0.5 * 9 + 1.5 + 0.625))   # no other hour has anyone, both weeks
    # and the SQL is the lake's: erased-list placeholder, Trino form parses
    sql = online(Period(datetime(2026, 11, 23, tzinfo=UTC), datetime(2026, 12, 7, tzinfo=UTC), "Europe/Amsterdam"))
    assert sql.count("NOT IN (SELECT id FROM {erased}") >= 2
    sqlglot.parse_one(to_trino(sql.replace("{events}", '"shopdesk_dev"."events"')
                               .replace("{erased}", '"shopdesk_dev"."erased"')), read="trino")
    # and the staffing plan sets them beside the agents needed, short where fewer are online
    volume = {"channel": None, "tz": "UTC", "days": 1, "history_weeks": 2,
              "items": [{"hour": f"2026-12-07T{h:02d}:00:00+00:00", "expected": {9: 3.0, 10: 4.0}.get(h, 0.0)}
                        for h in range(24)]}
    plan = staffing_plan(volume, StaffingInputs(slot_seconds=1800, first_response_target_seconds=600), usual[:24])
    rows = {int(i["hour"][11:13]): i for i in plan["items"]}
    assert (rows[9]["agents_needed"], rows[9]["usually_online"], rows[9]["short"]) == (1, 1.5, False)
    assert (rows[10]["agents_needed"], rows[10]["usually_online"], rows[10]["short"]) == (2, 0.625, True)
    assert (rows[11]["agents_needed"], rows[11]["short"]) == (0, False)


# ------------------------------------------------------------------------------ whose figures (#14)

SCOPES = [Scope.of(["returns"]), Scope.of(["returns", "vip"], ["dave"]), Scope.of([]), Scope.of(["o'b{events}"])]


@pytest.mark.parametrize("scope", SCOPES, ids=["one team", "teams and agents", "no team", "quoted"])
def test_every_report_statement_of_a_scope_runs_on_duckdb_and_parses_as_trino(empty_lake, scope):
    from shopdesk.analytics.sql import concurrent_load, hourly, online, topics

    built = [statement(name, PERIOD, group, scope) for name, group in EVERY]
    built += [hourly(PERIOD, "sms", scope), concurrent_load(PERIOD, "hour", scope), topics(PERIOD, scope),
              online(PERIOD, scope)]
    for sql in built:
        empty_lake.rows(sql)
        trino = to_trino(sql.replace("{events}", '"shopdesk_dev"."events"')
                         .replace("{erased}", '"shopdesk_dev"."erased"'))
        sqlglot.parse_one(trino, read="trino")
        # every one reads its events through the scope's filter: no statement can leave it out
        if scope.teams:
            assert "HAVING arg_max(team, at_ms) IN (" in sql and "HAVING MAX_BY(team, at_ms) IN (" in trino
        else:
            assert "\n    AND FALSE\n" in sql


def _message(conversation_id: str, message_id: str, at: str, direction: str = "inbound", author: str | None = None):
    item = {"PK": f"CONV#{conversation_id}", "SK": f"MSG#{at}#{message_id}", "id": message_id,
            "conversation_id": conversation_id, "channel": "sms", "created_at": at, "direction": direction,
            "author": author}
    return derive("INSERT", {"PK": item["PK"], "SK": item["SK"]}, item, None)


def _desk_of_three() -> DuckDbLake:
    """c_ret (returns), c_def (default), and c_moved: opened in returns, its messages (which carry no team) answered
    there, then moved to default; and alice (returns) and bob (default) online."""
    lake = DuckDbLake()
    events = []
    for conversation_id, team in (("c_ret", "returns"), ("c_def", "default"), ("c_moved", "returns")):
        opened = meta(PK=f"CONV#{conversation_id}", id=conversation_id, team=team, customer={"id": f"u_{team}"},
                      created_at="2026-12-01T10:00:00.000Z", updated_at="2026-12-01T10:00:00.000Z")
        events += derive("INSERT", {"PK": f"CONV#{conversation_id}", "SK": "META"}, opened, None)
        events += _message(conversation_id, f"m_{conversation_id}", "2026-12-01T10:00:00.000Z")
        events += _message(conversation_id, f"r_{conversation_id}", "2026-12-01T10:05:00.000Z", "outbound", "alice")
        if conversation_id == "c_moved":
            moved = {**opened, "team": "default", "updated_at": "2026-12-02T09:00:00.000Z", "changed_by": "alice"}
            events += derive("MODIFY", {"PK": "CONV#c_moved", "SK": "META"}, moved, opened)
    events += _presence("alice", [("2026-12-01T09:00:00Z", "online")])
    events += _presence("bob", [("2026-12-01T09:00:00Z", "online")])
    lake.add(events)
    return lake


def test_a_scope_keeps_the_conversations_whose_latest_team_is_one_of_its_teams_with_all_their_events():
    lake = _desk_of_three()

    def figure(name: str, scope: Scope) -> int:
        rows = lake.rows(statement(name, PERIOD, None, scope))
        return rows[0]["value"] if rows else 0
    # the whole desk: three conversations, three customer messages, three replies
    assert [figure(n, WHOLE_DESK) for n in ("conversations", "messages_received", "replies")] == [3, 3, 3]
    # returns: c_ret alone, its messages included though they carry no team (c_moved is default's now, the whole
    # of it: its messages and replies from before the move too)
    returns = Scope.of(["returns"])
    assert [figure(n, returns) for n in ("conversations", "messages_received", "replies")] == [1, 1, 1]
    default = Scope.of(["default"])
    assert [figure(n, default) for n in ("conversations", "messages_received", "replies")] == [2, 2, 2]
    assert [figure(n, Scope.of(["default", "returns"])) for n in ("conversations", "replies")] == [3, 3]
    # no team: no figure (not the whole desk's)
    assert [figure(n, Scope.of([])) for n in ("conversations", "messages_received", "replies")] == [0, 0, 0]
    # a team id is a literal, quotes and braces included
    assert figure("conversations", Scope.of(["o'b{events}"])) == 0
    # the agents online are the scope's agents
    from shopdesk.analytics.sql import online
    hours = Period(datetime(2026, 12, 1, 10, tzinfo=UTC), datetime(2026, 12, 1, 11, tzinfo=UTC), "UTC")
    assert lake.rows(online(hours, WHOLE_DESK)) == [{"key": "2026-12-01 10", "value": 2.0}]
    assert lake.rows(online(hours, Scope.of(["returns"], ["alice"]))) == [{"key": "2026-12-01 10", "value": 1.0}]
    assert lake.rows(online(hours, Scope.of(["returns"]))) == []


def test_a_team_id_is_a_literal_whatever_it_holds():
    from shopdesk.analytics.sql import literal

    lake = DuckDbLake()
    odd = "o'b{events}); DROP TABLE events; --"
    opened = meta(team=odd, created_at="2026-12-01T10:00:00.000Z", updated_at="2026-12-01T10:00:00.000Z")
    lake.add(derive("INSERT", CONV, opened, None))
    assert lake.rows(statement("conversations", PERIOD, "team", Scope.of([odd]))) == [{"key": odd, "value": 1}]
    assert lake.rows(f"SELECT {literal(odd)} AS v") == [{"v": odd}]
    trino = to_trino(f"SELECT {literal(odd)} AS v")
    assert sqlglot.parse_one(trino, read="trino").find(sqlglot.exp.Drop) is None


def test_by_team_a_message_counts_under_its_conversations_team_when_it_was_written():
    # Given c_ret (returns), c_def (default) and c_moved, whose messages were answered in returns before the move
    lake = _desk_of_three()

    def by_team(name: str) -> dict[str | None, int]:
        return {r["key"]: r["value"] for r in lake.rows(statement(name, PERIOD, "team"))}
    # Then the messages and replies (events that carry no team) count under their conversation's team then: c_moved's
    # under returns, where they were written, not under no team at all
    assert by_team("messages_received") == {"returns": 2, "default": 1}
    assert by_team("replies") == {"returns": 2, "default": 1}
    assert by_team("handled") == {"returns": 2, "default": 1}
    # and grouped otherwise, nothing changes
    assert {r["key"]: r["value"] for r in lake.rows(statement("replies", PERIOD, "agent"))} == {"alice": 3}


def test_by_language_a_reply_counts_under_its_conversations_language_when_it_was_written():
    # Given a conversation in English and one in Spanish, each with a customer message and a reply (message items
    # carry no language; the conversation does)
    lake = DuckDbLake()
    events = []
    for conversation_id, language in (("c_en", "en"), ("c_es", "es")):
        opened = meta(PK=f"CONV#{conversation_id}", id=conversation_id, language=language,
                      customer={"id": f"u_{language}"}, created_at="2026-12-01T10:00:00.000Z",
                      updated_at="2026-12-01T10:00:00.000Z")
        events += derive("INSERT", {"PK": f"CONV#{conversation_id}", "SK": "META"}, opened, None)
        events += _message(conversation_id, f"m_{conversation_id}", "2026-12-01T10:01:00.000Z")
        events += _message(conversation_id, f"r_{conversation_id}", "2026-12-01T10:05:00.000Z", "outbound", "alice")
    lake.add(events)

    def by_language(name: str) -> dict[str | None, int]:
        return {r["key"]: r["value"] for r in lake.rows(statement(name, PERIOD, "language"))}
    # Then replies, conversations handled and customer messages count under their conversation's language, not
    # under none
    for name in ("replies", "handled", "messages_received", "conversations"):
        assert by_language(name) == {"en": 1, "es": 1}, name


def test_by_team_the_team_a_conversation_is_opened_with_gives_way_to_the_routers():
    # Given a conversation opened in the placeholder team, its first message at the same instant, then classified
    # into returns by the router
    lake = DuckDbLake()
    opened = meta(PK="CONV#c_new", id="c_new", team="default", customer={"id": "u_new"},
                  created_at="2026-12-01T10:00:00.000Z", updated_at="2026-12-01T10:00:00.000Z")
    events = derive("INSERT", {"PK": "CONV#c_new", "SK": "META"}, opened, None)
    events += _message("c_new", "m_new", "2026-12-01T10:00:00.000Z")
    routed = {**opened, "team": "returns", "language": "en", "updated_at": "2026-12-01T10:00:01.000Z",
              "classified_at": "2026-12-01T10:00:01.000Z"}
    events += derive("MODIFY", {"PK": "CONV#c_new", "SK": "META"}, routed, opened)
    lake.add(events)
    # Then its message counts where the conversation does: under returns
    assert {r["key"]: r["value"] for r in lake.rows(statement("conversations", PERIOD, "team"))} == {"returns": 1}
    assert {r["key"]: r["value"] for r in lake.rows(statement("messages_received", PERIOD, "team"))} == {"returns": 1}


# ------------------------------------------------------------------------------ merges, SLA credit, warnings

DEC = "2026-12-01T{}.000Z"


def _clocks_json(*, replied: str | None = None, folded: str | None = None) -> str:
    """A conversation's clocks (one-hour first response, four-hour resolution) since the customer wrote at 10:00."""
    from shopdesk.logic.business_time import ConversationClocks
    from shopdesk.models.sla import Targets

    clocks = ConversationClocks(targets=Targets(first_response=3600, resolution=4 * 3600))
    clocks.on_customer_message(datetime(2026, 12, 1, 10, tzinfo=UTC))
    if replied:
        clocks.on_agent_reply(datetime.fromisoformat(replied.replace("Z", "+00:00")))
    if folded:
        clocks.on_fold(datetime.fromisoformat(folded.replace("Z", "+00:00")))
    return clocks.stored_json()


def test_an_sla_outcome_is_credited_to_the_agent_who_held_the_conversation_when_its_clock_ended():
    # Given a conversation held by bob whose first response was met by a reply (alice's, a colleague's)
    old = meta(assignee="bob", created_at=DEC.format("10:00:00"), clocks_json=_clocks_json())
    new = {**old, "clocks_json": _clocks_json(replied=DEC.format("10:20:00")), "last_outbound_by": "alice"}
    (met,) = [e for e in derive("MODIFY", CONV, new, old) if e.type is EventType.SLA_MET]
    # Then the target met is the holder's
    assert (met.target, met.agent_id) == ("first_response", "bob")
    # and unassigned, nobody's: a row of no agent, beside bob's, in SLA compliance by agent
    (nobody,) = [e for e in derive("MODIFY", {"PK": "CONV#c_2", "SK": "META"},
                                   {**new, "PK": "CONV#c_2", "id": "c_2", "assignee": None},
                                   {**old, "PK": "CONV#c_2", "id": "c_2", "assignee": None})
                 if e.type is EventType.SLA_MET]
    assert nobody.agent_id is None
    lake = DuckDbLake()
    lake.add([met, nobody])
    assert lake.rows(statement("sla", PERIOD, "agent")) == [
        {"key": "bob", "target": "first_response", "met": 1, "breached": 0},
        {"key": None, "target": "first_response", "met": 1, "breached": 0}]


def test_a_first_response_the_provider_refused_is_withdrawn_with_the_target_it_met_and_the_next_one_counts():
    from shopdesk.logic.business_time import ConversationClocks

    # Given a first response at 10:20 (alice's reply r_1), which met the one-hour target
    old = meta(assignee="alice", created_at=DEC.format("10:00:00"), cycle_started_at=DEC.format("10:00:00"),
               clocks_json=_clocks_json())
    replied = {**old, "clocks_json": _clocks_json(replied=DEC.format("10:20:00")), "last_outbound_by": "alice",
               "sla": {"first_response_at": DEC.format("10:20:00"), "first_response_id": "r_1"}}
    first = derive("MODIFY", CONV, replied, old)
    assert {(e.type.value, e.message_id) for e in first} == {("first_human_reply", "r_1"), ("sla_met", "r_1")}
    # When the provider refuses it for good: its clock runs again (logic.refused), and alice's reply r_2 at 10:40
    # goes, the first response now
    clocks = ConversationClocks.model_validate_json(replied["clocks_json"])
    clocks.on_reply_refused(datetime(2026, 12, 1, 10, 20, tzinfo=UTC), None, datetime(2026, 12, 1, 10, 21, tzinfo=UTC))
    waiting = {**replied, "clocks_json": clocks.stored_json(), "sla": {}}
    clocks.on_agent_reply(datetime(2026, 12, 1, 10, 40, tzinfo=UTC))
    again = {**waiting, "clocks_json": clocks.stored_json(),
             "sla": {"first_response_at": DEC.format("10:40:00"), "first_response_id": "r_2"}}
    second = derive("MODIFY", CONV, waiting, replied) + derive("MODIFY", CONV, again, waiting)
    assert {(e.type.value, e.message_id) for e in second} == {("first_human_reply", "r_2"), ("sla_met", "r_2")}
    refused = derive("MODIFY", {"PK": "CONV#c_1", "SK": "MSG#2026-12-01T10:20:00.000Z#r_1"},
                     {"id": "r_1", "conversation_id": "c_1", "direction": "outbound", "author": "alice",
                      "created_at": DEC.format("10:20:00"), "status": "failed", "error": {"code": "21408"}},
                     {"id": "r_1", "conversation_id": "c_1", "direction": "outbound", "author": "alice",
                      "created_at": DEC.format("10:20:00"), "status": "queued"})
    # Then the reports count one first response, of 40 minutes, and one target met, once
    lake = DuckDbLake()
    lake.add([*first, *second, *refused])
    [response] = lake.rows(statement("first_response", PERIOD, None))
    assert (response["count"], response["median_s"]) == (1, 2400.0)
    assert lake.rows(statement("sla", PERIOD, None)) == [
        {"key": "all", "target": "first_response", "met": 1, "breached": 0}]


def test_a_conversation_merged_into_another_ends_no_sla_target():
    # Given a conversation waiting for its first response, merged into its customer's other one (logic.fold): its
    # resolve as merged, then its clocks stopped by the fold
    waiting = meta(created_at=DEC.format("10:00:00"), clocks_json=_clocks_json())
    resolved = {**waiting, "status": "resolved", "folded_into": "c_9", "resolved_at": DEC.format("10:05:00")}
    stopped = {**resolved, "clocks_json": _clocks_json(folded=DEC.format("10:05:00"))}
    events = derive("MODIFY", CONV, resolved, waiting) + derive("MODIFY", CONV, stopped, resolved)
    # Then neither the first response nor the resolution counts as met or breached
    assert [(e.type.value, e.reason) for e in events] == [("status_changed", "merged")]


def test_an_unmerge_giving_a_conversation_back_is_no_reopen():
    # Given a conversation merged into another (resolved, naming it) with its assignee's seat freed
    folded = meta(status="resolved", folded_into="c_9", assignee="bob", created_at=DEC.format("10:00:00"),
                  resolved_at=DEC.format("10:05:00"), updated_at=DEC.format("10:05:00"))
    # When the unmerge opens it again, no longer naming it, in one write
    back = {**meta(created_at=DEC.format("10:00:00"), updated_at=DEC.format("10:08:00")), "changed_by": "alice"}
    events = derive("MODIFY", CONV, back, folded)
    # Then the status change says why, and credits no agent with a reopen
    change = next(e for e in events if e.type is EventType.STATUS_CHANGED)
    assert (change.from_value, change.to_value, change.reason, change.agent_id) == ("resolved", "open", "unmerged",
                                                                                     None)
    assert next(e for e in events if e.type is EventType.UNASSIGNED).reason == "unmerged"
    # and beside a real reopen (c_2: resolved by alice, then the customer wrote again) no reopen figure counts it
    other = {"PK": "CONV#c_2", "SK": "META"}
    open_ = meta(PK="CONV#c_2", id="c_2", created_at=DEC.format("09:00:00"), updated_at=DEC.format("09:00:00"))
    closed = {**open_, "status": "resolved", "changed_by": "alice", "resolved_at": DEC.format("09:30:00"),
              "updated_at": DEC.format("09:30:00")}
    reopened = {**closed, "status": "open", "changed_by": "customer", "updated_at": DEC.format("11:00:00")}
    lake = DuckDbLake()
    lake.add([*events, *derive("MODIFY", other, closed, open_), *derive("MODIFY", other, reopened, closed)])
    assert lake.rows(statement("reopens", PERIOD, None)) == [{"key": "all", "reopened": 1, "resolved": 1}]


def test_an_sla_warning_is_dated_when_the_sweep_raised_it():
    # Given a conversation last changed at 10:00 whose first-response warning the sweep raised at 10:45 (its write
    # leaves updated_at alone)
    old = meta(updated_at=DEC.format("10:00:00"), sla_warned={})
    new = {**old, "sla_warned": {"first_response": DEC.format("11:00:00")}, "sla_warned_at": DEC.format("10:45:00")}
    record_written = datetime(2026, 12, 1, 10, 45, 1, tzinfo=UTC)
    (warned,) = derive("MODIFY", CONV, new, old, record_written)
    # Then the warning is of 10:45, not of the conversation's last change
    assert (warned.type, warned.occurred_at) == (EventType.SLA_WARNED, DEC.format("10:45:00"))
    assert json.loads(warned.detail or "{}") == {"due_at": DEC.format("11:00:00")}
    # A second target warned later in the same conversation has its own instant, not the first one's
    later = {**new, "sla_warned": {**new["sla_warned"], "resolution": DEC.format("14:00:00")},
             "sla_warned_at": DEC.format("13:12:00")}
    (second,) = derive("MODIFY", CONV, later, new, record_written)
    assert (second.target, second.occurred_at) == ("resolution", DEC.format("13:12:00"))
    # A record written before the warning's instant was kept: dated by the record's time
    (legacy,) = derive("MODIFY", CONV, {**new, "sla_warned_at": None}, old, record_written)
    assert legacy.occurred_at == "2026-12-01T10:45:01.000Z"


def test_by_agent_figures_no_agent_is_credited_with_are_refused():
    from shopdesk.analytics.reports import Reports
    from shopdesk.errors import BadRequest

    reports = Reports(DuckDbLake())
    for name in ("conversations", "messages_received", "bot"):
        with pytest.raises(BadRequest, match="group_by=team"):
            reports.metric(name, PERIOD, "agent")
        assert reports.metric(name, PERIOD, "team") == []
    for name in ("sla_compliance", "first_response", "resolved", "reopen_rate", "csat", "replies"):
        assert reports.metric(name, PERIOD, "agent") == []


# ---------------------------------------------------------------- what never reached the customer

def _sent(conversation_id: str, message_id: str, at: str, author: str, kind: str, **payload):
    """An outbound message of ours as written (queued), its stream key, and the events its insert made."""
    item = {"PK": f"CONV#{conversation_id}", "SK": f"MSG#{at}#{message_id}", "id": message_id,
            "conversation_id": conversation_id, "channel": "sms", "created_at": at, "direction": "outbound",
            "author": author, "kind": kind, "status": "queued", "payload": payload or None}
    return item, {"PK": item["PK"], "SK": item["SK"]}, derive("INSERT", {"PK": item["PK"], "SK": item["SK"]}, item,
                                                             None)


def _then(item, keys, status: str, at: datetime, code: str | None = None):
    """The events of the message's status moving on, written at ``at``."""
    return derive("MODIFY", keys, {**item, "status": status, "error": {"code": code} if code else None}, item, at)


def test_a_refused_message_is_withdrawn_as_of_when_it_was_written():
    # Given a person's reply written at 23:59:59 that Twilio's receipt says was never delivered, seconds after midnight
    item, keys, _ = _sent("c_1", "m_1", "2026-12-01T23:59:59.000Z", "alice", "text")
    learnt = datetime(2026, 12, 2, 0, 0, 10, tzinfo=UTC)
    failed, refused = _then(item, keys, "undelivered", learnt, "30007")
    # Then the failure is an event of when it was learnt, and the refusal one of the reply's own instant (its day and
    # period), naming the reply and who sent it
    assert (failed.type, failed.occurred_at) == (EventType.MESSAGE_FAILED, "2026-12-02T00:00:10.000Z")
    assert (refused.type, refused.occurred_at, refused.day) == (EventType.MESSAGE_REFUSED,
                                                                "2026-12-01T23:59:59.000Z", "2026-12-01")
    assert (refused.message_id, refused.agent_id, refused.to_value, refused.reason) == ("m_1", "alice", "undelivered",
                                                                                       "30007")
    assert json.loads(refused.detail or "{}") == {"kind": "text", "failed_at": "2026-12-02T00:00:10.000Z"}
    # a bounce after the mail server took it (delivered, then failed) is one too; a second failure status is not
    bounced = {**item, "status": "delivered"}
    assert types(_then(bounced, keys, "failed", learnt, "bounce")) == ["message_failed", "message_refused"]
    assert _then({**item, "status": "failed"}, keys, "undelivered", learnt) == []
    # and the bot's answer says it is one (no agent is credited)
    bot, bot_keys, _ = _sent("c_1", "m_2", "2026-12-01T10:00:00.000Z", "bot", "bot", bot={"action": "answer"})
    refused_answer = _then(bot, bot_keys, "failed", learnt, "21614")[1]
    assert refused_answer.agent_id is None and json.loads(refused_answer.detail or "{}")["action"] == "answer"


def test_what_a_refused_message_counted_is_left_out_of_every_figure():
    # Given two conversations the bot answered: c_lost's answer refused by Twilio, then handed over (send_failed);
    # c_got's answer delivered
    day = "2026-12-01T{}.000Z"
    learnt = datetime(2026, 12, 1, 10, 0, 30, tzinfo=UTC)
    events = []
    for conversation_id, fate in (("c_lost", "failed"), ("c_got", "delivered")):
        opened = meta(PK=f"CONV#{conversation_id}", id=conversation_id, customer={"id": f"u_{conversation_id}"},
                      created_at=day.format("09:59:50"), updated_at=day.format("09:59:50"))
        events += derive("INSERT", {"PK": f"CONV#{conversation_id}", "SK": "META"}, opened, None)
        item, keys, inserted = _sent(conversation_id, f"b_{conversation_id}", day.format("10:00:00"), "bot", "bot",
                                     bot={"action": "answer", "article_id": "kb_shipping"})
        events += inserted + _then(item, keys, fate, learnt, "21614" if fate == "failed" else None)
    note = {"PK": "CONV#c_lost", "SK": "MSG#x#n_1", "id": "n_1", "conversation_id": "c_lost", "channel": "sms",
            "created_at": day.format("10:00:31"), "direction": "system", "author": "bot", "kind": "system",
            "payload": {"bot": {"handoff_reason": "send_failed"}}}
    events += derive("INSERT", {"PK": note["PK"], "SK": note["SK"]}, note, None)
    # and in c_lost alice's reply refused, then the same reply sent again and taken; her reply in c_got refused alone;
    # a survey refused in c_got and one asked in c_lost
    for message_id, conversation_id, at, fate in (("r_1", "c_lost", "10:05:00", "failed"),
                                                   ("r_2", "c_lost", "10:06:00", "sent"),
                                                   ("r_3", "c_got", "10:07:00", "undelivered")):
        item, keys, inserted = _sent(conversation_id, message_id, day.format(at), "alice", "text")
        events += inserted + _then(item, keys, fate, learnt + timedelta(minutes=10))
    for message_id, conversation_id, fate in (("s_1", "c_got", "failed"), ("s_2", "c_lost", "delivered")):
        item, keys, inserted = _sent(conversation_id, message_id, day.format("11:00:00"), "system", "csat_survey")
        events += inserted + _then(item, keys, fate, learnt + timedelta(hours=1))
    lake = DuckDbLake()
    lake.add(events)

    def one(name: str, span: Period = PERIOD, group: str | None = None) -> list[dict]:
        return lake.rows(statement(name, span, group))
    # Then the bot answered one conversation (the one that got its answer) and handed one over, as send_failed
    assert one("bot") == [{"key": "all", "answered": 1, "handed_off": 1, "resolved": 0}]
    assert one("handoff_reasons") == [{"key": "send_failed", "value": 1}]
    assert one("bot", group="channel") == [{"key": "sms", "answered": 1, "handed_off": 1, "resolved": 0}]
    # alice sent one reply that reached a customer, in one conversation
    assert one("replies", group="agent") == [{"key": "alice", "value": 1}]
    assert one("handled", group="team") == [{"key": "default", "value": 1}]
    # one survey was asked
    assert one("csat") == [{"key": "all", "asked": 1, "responses": 0, "satisfied": 0}]
    # and a period that ends before the failures were learnt counts no refused answer either
    morning = Period(datetime(2026, 12, 1, 9, tzinfo=UTC), datetime(2026, 12, 1, 10, 0, 10, tzinfo=UTC), "UTC")
    assert one("bot", morning) == [{"key": "all", "answered": 1, "handed_off": 0, "resolved": 0}]


# ------------------------------------------------------------------------------ no free text of people in the lake

WORDS = "Wilhelmina Quargenstein +14155558823"       # what a customer or an agent wrote, planted everywhere below


def _every_kind_of_record():
    """Stream records that give every event type, each with people's free text wherever its item can hold some:
    the customer's name and the last message's preview on the conversation, the bot's question, a message's text,
    subject and file name, a provider's error message, a CSAT comment and the channel's own payload fields, an
    order action's note, a merge's and an unmerge's reason."""
    conv = meta(customer={"id": "u_1", "name": WORDS}, last_message_preview=WORDS, subject=WORDS,
                bot={"state": "answering", "question": WORDS}, labels={"vip"})
    yield "INSERT", CONV, conv, None
    routed = {**conv, "classified_at": DEC.format("09:01:00"), "team": "returns", "assignee": "bob",
              "assigned_at": "2026-11-02T09:02:00.000Z", "changed_by": "router",
              "topics": {"intent:order_status"}, "updated_at": "2026-11-02T09:02:00.000Z"}
    yield "MODIFY", CONV, routed, conv
    yield "MODIFY", CONV, {**routed, "assignee": "carol", "labels": set()}, routed
    replied = {**routed, "updated_at": "2026-11-02T10:30:00.000Z", "last_outbound_at": "2026-11-02T10:30:00.000Z",
               "last_outbound_by": "bob", "awaiting_since": None,
               "sla": {"first_response_at": "2026-11-02T10:30:00.000Z", "first_response_id": "m_9"}}
    yield "MODIFY", CONV, replied, routed
    waiting = {**replied, "awaiting_since": "2026-11-02T11:00:00.000Z"}
    yield "MODIFY", CONV, {**waiting, "awaiting_since": None, "last_outbound_at": "2026-11-02T11:20:00.000Z",
                           "updated_at": "2026-11-02T11:20:00.000Z"}, waiting
    resolved = {**replied, "status": "resolved", "assignee": None, "resolved_at": "2026-11-02T12:00:00.000Z",
                "changed_by": "bob", "sla_warned": {"resolution": "2026-11-02T13:00:00.000Z"},
                "sla_warned_at": "2026-11-02T12:00:00.000Z", "updated_at": "2026-11-02T12:00:00.000Z"}
    yield "MODIFY", CONV, resolved, replied
    yield "MODIFY", CONV, {**conv, "status": "resolved", "changed_by": "bot", "resolved_at": "2026-11-02T09:30:00.000Z",
                           "updated_at": "2026-11-02T09:30:00.000Z"}, {**conv, "status": "pending"}
    clocked = meta(customer={"id": "u_1", "name": WORDS}, clocks_json=_clocks_json())
    yield "MODIFY", CONV, {**clocked, "clocks_json": _clocks_json(replied=DEC.format("10:20:00"))}, clocked
    yield "MODIFY", CONV, {**clocked, "clocks_json": _clocks_json(replied=DEC.format("11:30:00"))}, clocked

    keys = {"PK": "CONV#c_1", "SK": "MSG#x#m_2"}
    base = {"id": "m_2", "conversation_id": "c_1", "channel": "email", "created_at": "2026-11-02T09:00:00.000Z",
            "text": WORDS, "subject": WORDS, "attachments": [{"filename": WORDS}]}
    channel = {"reason": WORDS, "action": WORDS, "order": WORDS, "done": WORDS, "note": WORDS,
               "email": {"from": WORDS}}          # what a channel's own payload can hold, copied onto a rating
    yield "INSERT", keys, {**base, "direction": "inbound", "kind": "text", "author": "customer",
                           "payload": channel}, None
    sent = {**base, "direction": "outbound", "kind": "text", "author": "bob", "status": "sent", "payload": {}}
    yield "INSERT", keys, sent, None
    yield "MODIFY", keys, {**sent, "status": "delivered"}, sent
    yield "MODIFY", keys, {**sent, "status": "failed", "error": {"code": "30003", "message": WORDS}}, sent
    yield "INSERT", keys, {**base, "direction": "outbound", "kind": "bot", "author": "bot", "status": "queued",
                           "payload": {"bot": {"action": "answer", "article_id": "faq", "question": WORDS}}}, None
    yield "INSERT", keys, {**base, "direction": "system", "kind": "system", "author": "bot",
                           "payload": {"bot": {"handoff_reason": "not_helpful", "question": WORDS}}}, None
    yield "INSERT", keys, {**base, "direction": "system", "kind": "order_action", "author": "alice",
                           "payload": {"action": "refund", "order": "#1001", "done": True, "note": WORDS}}, None
    yield "INSERT", keys, {**base, "direction": "outbound", "kind": "csat_survey", "author": "system",
                           "payload": {"agent_id": "bob", "team": "returns", "cycle": "c1"}}, None
    yield "INSERT", keys, {**base, "direction": "inbound", "kind": "csat_answer", "author": "customer",
                           "payload": {**channel, "rating": 2, "rating_source": "digit", "agent_id": "bob",
                                       "team": "returns", "cycle": "c1", "comment": WORDS}}, None
    yield "INSERT", keys, {**base, "direction": "inbound", "kind": "csat_comment", "author": "customer",
                           "payload": {**channel, "cycle": "c1", "comment": WORDS}}, None

    for side, other, kind in (("u_1", "u_2", "merged"), ("u_2", "u_1", "merged_into"), ("u_1", "u_2", "unmerged"),
                              ("u_2", "u_1", "unmerged")):
        event = {"id": f"ev_{side}_{kind}", "kind": kind, "at": "2026-11-02T09:00:00.000Z", "by": "alice",
                 "reason": WORDS, "other_id": other, "merge_id": "mg_1"}
        item = {"PK": f"CUSTOMER#{side}", "SK": f"EVENT#2026-11-02T09:00:00.000Z#{event['id']}", "event": event}
        yield "INSERT", {"PK": item["PK"], "SK": item["SK"]}, item, None
    yield "INSERT", {"PK": "AGENT#bob", "SK": "META"}, {"PK": "AGENT#bob", "SK": "META", "id": "bob",
                                                         "name": WORDS, "presence": "online",
                                                         "presence_changed_at": "2026-11-02T09:00:00.000Z"}, None


def test_no_event_of_any_kind_keeps_free_text_people_wrote():
    """docs/data-model.md: events carry ids and figures, never names, addresses or message text. An agent's merge
    reason named the customer; the lake kept it after their erase (the audit trail and the merge record keep it,
    which the erase handles). Every field of every event type is checked against the words planted in its item."""
    events = [e for name, keys, new, old in _every_kind_of_record()
              for e in derive(name, keys, new, old, datetime(2026, 11, 2, 9, 5, tzinfo=UTC))]
    assert {e.type for e in events} == set(EventType)          # every kind the lake has was made here
    for word in ("Wilhelmina", "Quargenstein", "14155558823"):
        kept = [(e.type.value, name) for e in events for name, value in e.model_dump(mode="json").items()
                if word in str(value)]
        assert kept == [], f"{word!r} reached the lake: {kept}"


def test_every_customer_event_names_the_customers_it_concerns_so_their_erase_covers_it():
    """A merge's and an unmerge's rows hold the customer whose timeline they are on (the deletion list hides a row by
    its ``customer_id``) and the other customer in ``detail``; each side of an unmerge is its own customer's row."""
    def side(customer, other, kind):
        return {"PK": f"CUSTOMER#{customer}", "SK": f"EVENT#2026-11-02T09:00:00.000Z#ev_{customer}",
                "event": {"id": f"ev_{customer}", "kind": kind, "at": "2026-11-02T09:00:00.000Z", "by": "alice",
                          "merge_id": "mg_1", "other_id": other, "reason": "same person"}}

    def rows(customer, other, kind):
        item = side(customer, other, kind)
        return derive("INSERT", {"PK": item["PK"], "SK": item["SK"]}, item, None)

    (merged,) = rows("u_1", "u_2", "merged")
    assert (merged.type, merged.customer_id, merged.agent_id) == (EventType.CUSTOMER_MERGED, "u_1", "alice")
    assert json.loads(merged.detail or "") == {"merge_id": "mg_1", "other_id": "u_2", "side": "survivor"}
    (merged_into,) = rows("u_2", "u_1", "merged_into")
    assert (merged_into.type, merged_into.customer_id) == (EventType.CUSTOMER_MERGED, "u_2")
    assert json.loads(merged_into.detail or "") == {"merge_id": "mg_1", "other_id": "u_1", "side": "merged"}
    (one,), (two,) = rows("u_1", "u_2", "unmerged"), rows("u_2", "u_1", "unmerged")
    assert (one.type, one.customer_id, two.customer_id) == (EventType.CUSTOMER_UNMERGED, "u_1", "u_2")
    assert json.loads(two.detail or "") == {"merge_id": "mg_1", "other_id": "u_1"}
    ids = {merged.event_id, merged_into.event_id, one.event_id, two.event_id}
    assert len(ids) == 4                                        # four rows, each its customer's
    assert rows("u_2", "u_1", "unmerged")[0].event_id == two.event_id     # a replay is the same row
    assert all(e.reason is None for e in (merged, merged_into, one, two))
