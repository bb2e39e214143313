"""Each report's SQL, written once in DuckDB's dialect; ``to_trino`` gives the form Athena runs.

A statement reads ``{events}`` (the events table: DuckDB's in-memory table, or the Glue table) through the
``ev`` view of one period: the day partitions that cover it, the instants inside it, one row per event id
(the writer delivers at least once), none of an erased customer (``{erased}``, the deletion list: ``NOT_ERASED``),
only the conversations of the caller's teams (``Scope``: a supervisor's; an admin's is the whole desk). The
statements that read the lake's whole history (backlog, concurrent load, agents online) read it through the same
``events`` filter, so no figure can leave either out.
Values put into a statement are never the caller's text: instants are
integers, days are dates we formatted, the time zone is one ``zoneinfo`` knows, group keys and metric
names come from the fixed tables below. Team and agent ids (our agent records', or the team an admin named,
which the API checks is a team id) are string literals with their quotes doubled (``literal``).

Trino has no exact percentile: ``to_trino`` turns ``quantile_cont`` into ``approx_percentile`` (Athena's
medians are estimates within about 1%; DuckDB's are exact). Both dialects are checked by the tests: every
statement runs on DuckDB and its Trino form parses as Trino.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlglot
from sqlglot import exp

from shopdesk import clock
from shopdesk.analytics.events import COLUMNS

GROUPS = ("agent", "team", "channel", "language", "day", "week", "hour")


@dataclass(frozen=True)
class Period:
    """[start, end) in UTC milliseconds, and the zone days and hours are told in."""

    start: datetime
    end: datetime
    tz: str

    @property
    def start_ms(self) -> int:
        return int(self.start.timestamp() * 1000)

    @property
    def end_ms(self) -> int:
        return int(self.end.timestamp() * 1000)

    @property
    def first_day(self) -> str:
        return self.start.astimezone(UTC).date().isoformat()

    @property
    def last_day(self) -> str:
        return (self.end - timedelta(milliseconds=1)).astimezone(UTC).date().isoformat()

    def check(self) -> None:
        """The zone goes into SQL as a literal: only a name the IANA database knows."""
        try:
            clock.zone(self.tz)
        except ValueError as exc:
            raise ValueError(f"not a time zone: {self.tz!r}") from exc
        if "'" in self.tz:
            raise ValueError(f"not a time zone: {self.tz!r}")


def _local(tz: str) -> str:
    return f"to_timestamp(at_ms / 1000) AT TIME ZONE '{tz}'"


def key_expression(group: str | None, tz: str, *, series: bool = False) -> str:
    """The SQL of a group key. ``hour`` is the hour of the day (00-23) in ``tz``, or with ``series`` the hour
    itself (``2026-12-03 14``), as a backlog over time needs."""
    if group is None:
        return "'all'"
    if group == "agent":
        return "agent_id"
    if group in ("team", "channel", "language"):
        return group
    if group == "day":
        return f"strftime({_local(tz)}, '%Y-%m-%d')"
    if group == "week":                 # the week's Monday (ISO weeks, as both engines truncate)
        return f"strftime(date_trunc('week', {_local(tz)}), '%Y-%m-%d')"
    if group == "hour":
        return f"strftime({_local(tz)}, '{'%Y-%m-%d %H' if series else '%H'}')"
    raise ValueError(f"unknown group {group!r}")


# Erased customers are out of every figure (#14): an event of an erased customer or of one of their conversations is
# not read. ``{erased}`` is the deletion list (``dal/lake.py``: one id per row, the customer's and their
# conversations'); its ids are never null (a NULL in NOT IN would hide every event), and an event without a
# customer or conversation is kept.
NOT_ERASED = ("coalesce(customer_id, '') NOT IN (SELECT id FROM {erased} WHERE id IS NOT NULL)\n"
              "    AND coalesce(conversation_id, '') NOT IN (SELECT id FROM {erased} WHERE id IS NOT NULL)")


def literal(value: str) -> str:
    """``value`` as a string literal both dialects read: its quotes doubled, and any ``{`` written ``chr(123)``, so
    no placeholder a statement is filled in by later (``{events}``, ``{key}``) can be found in it."""
    return ("'" + value.replace("'", "''") + "'").replace("{", "' || chr(123) || '")


@dataclass(frozen=True)
class Scope:
    """Whose figures a report is: the whole desk (``teams`` None, an admin's), or the conversations of some teams
    (a supervisor's; none at all for no teams). A conversation counts under its team as the lake last recorded it:
    the team of its latest event that carries one (docs/metrics.md, "Whose figures"); every event of a
    conversation in the scope is read, those without a team (messages) included. An event of no conversation (an
    agent's presence) is in the scope when its agent is one of ``agents`` (the members of the teams)."""

    teams: tuple[str, ...] | None = None
    agents: tuple[str, ...] = ()

    @classmethod
    def of(cls, teams: Iterable[str] | None, agents: Iterable[str] = ()) -> Scope:
        if teams is None:
            return WHOLE_DESK
        return cls(tuple(sorted(set(teams))), tuple(sorted(set(agents))))

    def condition(self) -> str:
        """The filter of ``events`` (over one event's columns, after an AND), or "" for the whole desk."""
        if self.teams is None:
            return ""
        either = []
        if self.teams:
            teams = ", ".join(literal(t) for t in self.teams)
            either.append("conversation_id IN (\n      SELECT conversation_id FROM {events}\n"  # noqa: S608 (literals)
                          "      WHERE conversation_id IS NOT NULL AND team IS NOT NULL\n"
                          f"      GROUP BY 1 HAVING arg_max(team, at_ms) IN ({teams}))")
        if self.agents:
            agents = ", ".join(literal(a) for a in self.agents)
            either.append(f"conversation_id IS NULL AND agent_id IN ({agents})")
        return "\n    AND " + ("(" + "\n      OR ".join(f"({c})" for c in either) + ")" if either else "FALSE")


WHOLE_DESK = Scope()


def events(where: str, scope: Scope) -> str:
    """The lake's events every statement reads: those ``where`` says (days and instants, which we wrote), none of
    an erased customer, only the scope's, one row per event id."""
    return f"""SELECT * FROM {{events}}
  WHERE {where}
    AND {NOT_ERASED}{scope.condition()}
  QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY at_ms) = 1"""  # noqa: S608


# An event that carries no team (a message's: a message item has none) grouped by team takes its conversation's
# team when it was written: that of the conversation's latest event at or before it that carries one, else (none
# before it in the period) of the first after it. The team a conversation is opened with is a placeholder when the
# router classifies it (as for `conversations`), so it is not taken then; at the same instant a team change comes
# before a message. An event of no conversation keeps its own.
_KNOWN_TEAM = """CASE WHEN type = 'conversation_opened' AND max(CASE WHEN type = 'conversation_classified'
        AND actor = 'router' THEN 1 ELSE 0 END) OVER (PARTITION BY conversation_id) = 1 THEN NULL ELSE team END"""
_AS_OF = "PARTITION BY conversation_id ORDER BY at_ms, CASE WHEN known_team IS NULL THEN 1 ELSE 0 END, event_id"
TEAM_AS_OF = f"""CASE WHEN conversation_id IS NULL OR team IS NOT NULL THEN team ELSE coalesce(
      last_value(known_team IGNORE NULLS) OVER ({_AS_OF} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
      first_value(known_team IGNORE NULLS) OVER ({_AS_OF} ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING))
    END AS team"""


# The same for the language, grouped by language: an event that carries none (a reply, a message status) counts under
# the language its conversation was in when it was written (the latest known at or before it, else the first after
# it in the period). Before, replies and conversations handled grouped by language fell under none.
_LANGUAGE_ORDER = "PARTITION BY conversation_id ORDER BY at_ms, CASE WHEN language IS NULL THEN 1 ELSE 0 END, event_id"
LANGUAGE_AS_OF = f"""CASE WHEN conversation_id IS NULL OR language IS NOT NULL THEN language ELSE coalesce(
      last_value(language IGNORE NULLS) OVER ({_LANGUAGE_ORDER} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
      first_value(language IGNORE NULLS) OVER ({_LANGUAGE_ORDER} ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING))
    END AS language"""


def _view(period: Period, scope: Scope, *, as_of: str | None = None) -> str:   # values: integers and dates we formatted
    """``ev``: the period's events; with ``as_of`` (``team``, ``language``), an event that carries none of it takes its
    conversation's at the time."""
    rows = events(f"day BETWEEN '{period.first_day}' AND '{period.last_day}'"
                  f" AND at_ms >= {period.start_ms} AND at_ms < {period.end_ms}", scope)
    if as_of == "language":
        columns = ", ".join(LANGUAGE_AS_OF if name == "language" else name for name, _, _ in COLUMNS)
        return f"ev AS (\n  SELECT {columns}\n  FROM (\n  {rows}\n  ) read\n)"  # noqa: S608
    if as_of != "team":
        return f"ev AS (\n  {rows}\n)"
    columns = ", ".join(TEAM_AS_OF if name == "team" else name for name, _, _ in COLUMNS)
    return (f"ev AS (\n  SELECT {columns}\n  FROM (\n  SELECT *, {_KNOWN_TEAM} AS known_team FROM (\n  {rows}\n"  # noqa: S608
            "  ) read\n  ) known\n)")


def _history(period: Period, scope: Scope) -> str:
    """The events from the lake's first to the end of ``period`` (what a cumulative figure reads)."""
    return events(f"day <= '{period.last_day}' AND at_ms < {period.end_ms}", scope)


# What a message of ours counted when it was written (a reply a person sent, the bot's answer, a survey asked) counts
# only if it reached the customer: a message the provider refused, or reported failed on the way, has a
# ``message_refused`` event dated as the message itself, so in the same period (and day, hour) as what it withdraws.
# Events without a message (a resolve) or of one never sent (a hand-over's note) are kept.
NOT_REFUSED = ("coalesce(message_id, '') NOT IN (\n"
               "  SELECT message_id FROM ev WHERE type = 'message_refused' AND message_id IS NOT NULL)")

_DURATION = """SELECT {key} AS key, count(*) AS count,
  quantile_cont(duration_s, 0.5) AS median_s, quantile_cont(duration_s, 0.9) AS p90_s,
  quantile_cont(business_s, 0.5) AS business_median_s, quantile_cont(business_s, 0.9) AS business_p90_s
FROM ev WHERE {where} GROUP BY 1 ORDER BY 1"""

# name -> (select over ``ev``, what the figure is). ``{key}`` is the group key's expression, ``{not_refused}``
# ``NOT_REFUSED``.
STATEMENTS: dict[str, tuple[str, str]] = {
    "conversations": ("""SELECT {key} AS key, count(DISTINCT conversation_id) AS value FROM (
  SELECT o.conversation_id, o.at_ms, o.channel, o.agent_id,
         coalesce(c.team, o.team) AS team, coalesce(c.language, o.language) AS language
  FROM ev o LEFT JOIN (
    SELECT conversation_id, arg_min(team, at_ms) FILTER (WHERE actor = 'router') AS team,
           arg_min(language, at_ms) FILTER (WHERE language IS NOT NULL) AS language
    FROM ev WHERE type = 'conversation_classified' GROUP BY 1
  ) c ON c.conversation_id = o.conversation_id
  WHERE o.type = 'conversation_opened'
) opened GROUP BY 1 ORDER BY 1""", "new conversations"),
    "messages_received": ("SELECT {key} AS key, count(*) AS value FROM ev WHERE type = 'message_received' "
                          "GROUP BY 1 ORDER BY 1", "customer messages"),
    # a reply the provider refused for good never reached the customer: not a reply (its retry, if it went, is)
    "replies": ("SELECT {key} AS key, count(*) AS value FROM ev "
                "WHERE type = 'message_sent' AND agent_id IS NOT NULL AND {not_refused} GROUP BY 1 ORDER BY 1",
                "replies people sent"),
    "handled": ("SELECT {key} AS key, count(DISTINCT conversation_id) AS value FROM ev "
                "WHERE type = 'message_sent' AND agent_id IS NOT NULL AND {not_refused} GROUP BY 1 ORDER BY 1",
                "conversations a person replied in"),
    # a first response the provider refused for good was none: the customer's first response is a later reply's
    "first_response": (_DURATION.replace("{where}", "type = 'first_human_reply' AND {not_refused}"),
                       "first response time"),
    "next_response": (_DURATION.replace("{where}", "type = 'next_human_reply'"), "next response time"),
    "resolution": (_DURATION.replace("{where}", "type = 'status_changed' AND to_value = 'resolved' "
                                                "AND duration_s IS NOT NULL"), "resolution time per cycle"),
    # a conversation merged into its customer's other one (reason 'merged') was not resolved by anyone
    "resolved": ("SELECT {key} AS key, count(DISTINCT conversation_id) AS value FROM ev "
                 "WHERE type = 'status_changed' AND to_value = 'resolved' AND coalesce(reason, '') <> 'merged' "
                 "GROUP BY 1 ORDER BY 1", "conversations resolved"),
    # nor was one given back by an unmerge (reason 'unmerged') reopened by anyone: it goes on with its cycle
    "reopens": ("""SELECT {key} AS key,
  count(DISTINCT CASE WHEN from_value = 'resolved' AND coalesce(reason, '') <> 'unmerged' THEN conversation_id END)
    AS reopened,
  count(DISTINCT CASE WHEN to_value = 'resolved' AND coalesce(reason, '') <> 'merged' THEN conversation_id END)
    AS resolved
FROM ev WHERE type = 'status_changed' GROUP BY 1 ORDER BY 1""", "conversations reopened and resolved"),
    # so is the first-response target that reply met or missed: its clock ran on and ended again (logic.refused)
    "sla": ("""SELECT {key} AS key, target,
  count(*) FILTER (WHERE type = 'sla_met') AS met, count(*) FILTER (WHERE type = 'sla_breached') AS breached
FROM ev WHERE type IN ('sla_met', 'sla_breached') AND {not_refused} GROUP BY 1, 2 ORDER BY 1, 2""",
            "SLA targets met and missed"),
    # an answer of the bot's the provider refused is no answer: the conversation went to a person (send_failed)
    "bot": ("""SELECT {key} AS key,
  count(DISTINCT CASE WHEN type = 'bot_answered' THEN conversation_id END) AS answered,
  count(DISTINCT CASE WHEN type = 'bot_handed_off' THEN conversation_id END) AS handed_off,
  count(DISTINCT CASE WHEN type = 'bot_resolved' THEN conversation_id END) AS resolved
FROM ev WHERE type IN ('bot_answered', 'bot_handed_off', 'bot_resolved') AND {not_refused}
GROUP BY 1 ORDER BY 1""", "the bot's conversations"),
    "handoff_reasons": ("SELECT coalesce(reason, 'unknown') AS key, count(DISTINCT conversation_id) AS value "
                        "FROM ev WHERE type = 'bot_handed_off' GROUP BY 1 ORDER BY 1", "hand-overs by reason"),
    # a survey the provider refused was not asked (it does not lower the response rate)
    "csat": ("""SELECT {key} AS key,
  count(*) FILTER (WHERE type = 'csat_asked') AS asked,
  count(*) FILTER (WHERE type = 'csat_answered' AND rating IS NOT NULL) AS responses,
  count(*) FILTER (WHERE type = 'csat_answered' AND rating >= 4) AS satisfied
FROM ev WHERE type IN ('csat_asked', 'csat_answered') AND {not_refused}
GROUP BY 1 ORDER BY 1""", "CSAT surveys and ratings"),
    "csat_comments": ("""SELECT type, occurred_at, at_ms, conversation_id, agent_id, team, channel, language, rating,
  detail
FROM ev WHERE type IN ('csat_answered', 'csat_commented') ORDER BY at_ms DESC, event_id LIMIT 5000""",
                      "CSAT ratings and comments, newest first"),
}

# Conversations opened per hour (``{channel_filter}``: all channels, or one we checked), the forecast's history.
HOURLY = """SELECT strftime(to_timestamp(at_ms / 1000) AT TIME ZONE '{tz}', '%Y-%m-%d %H') AS key,
  count(DISTINCT conversation_id) AS value
FROM ev WHERE type = 'conversation_opened'{channel_filter} GROUP BY 1 ORDER BY 1"""

# Backlog is cumulative from the lake's first event, so it reads every day up to the period's end. Every day (or
# hour) of the period has its row ({keys}: the period's keys, no change in them), the backlog it ends with, so a day
# without an opening or a resolve shows the backlog carried into it (and a period without any, the one it began with).
BACKLOG = """WITH changes AS (
  SELECT {key} AS key,
    sum(CASE WHEN type = 'conversation_opened' THEN 1
             WHEN type = 'status_changed' AND to_value = 'resolved' THEN -1
             WHEN type = 'status_changed' AND from_value = 'resolved' THEN 1 ELSE 0 END) AS delta
  FROM (
    {history}
  ) e
  WHERE type IN ('conversation_opened', 'status_changed')
  GROUP BY 1
  UNION ALL
  SELECT key, 0 AS delta FROM (VALUES {keys}) AS k (key)
), running AS (
  SELECT key, sum(delta) OVER (ORDER BY key ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS value
  FROM (SELECT key, sum(delta) AS delta FROM changes GROUP BY key) c
)
SELECT key, value FROM running WHERE key >= '{first_key}' ORDER BY key"""


# Contact reasons per week (docs/metrics.md, "Topics"): a conversation counts under a topic in a week when the
# topic was named in that week and its last change there was not a withdrawal. ``previous`` is the same
# topic's count the week before, ``change`` the difference; ``rising``: more than the week before.
TOPICS = """WITH {view}, marks AS (
  SELECT {key} AS key, conversation_id, topic, arg_max(type, at_ms) AS last_change
  FROM ev WHERE type IN ('topic_added', 'topic_removed') AND topic IS NOT NULL
  GROUP BY 1, 2, 3
), counts AS (
  SELECT key, topic, count(*) AS conversations FROM marks WHERE last_change = 'topic_added' GROUP BY 1, 2
)
SELECT c.key, c.topic, c.conversations,
  rank() OVER (PARTITION BY c.key ORDER BY c.conversations DESC) AS rank,
  coalesce(p.conversations, 0) AS previous, c.conversations - coalesce(p.conversations, 0) AS change,
  c.conversations > coalesce(p.conversations, 0) AS rising
FROM counts c LEFT JOIN counts p
  ON p.topic = c.topic AND p.key = strftime(CAST(c.key AS DATE) - INTERVAL 7 DAY, '%Y-%m-%d')
WHERE c.key >= '{first_key}'
ORDER BY c.key, c.conversations DESC, c.topic"""


# Concurrent load per agent (docs/metrics.md): the conversations an agent holds (assigned to them and open) over
# time, from the lake's first event (a conversation assigned before the period is held in it). Each
# conversation's state (assignee, status) after its changes at one instant holds until its next change; an
# agent's count steps +1/-1 at the ends of its spans; each bucket ({buckets}: key, start and end in epoch ms)
# gets the time-weighted mean of the count over the whole bucket and its maximum.
CONCURRENT_LOAD = """WITH changes AS (
  SELECT conversation_id, at_ms, event_id,
    CASE WHEN type IN ('assigned', 'transferred', 'unassigned') THEN coalesce(to_value, '') END AS who,
    CASE WHEN type IN ('conversation_opened', 'status_changed') THEN to_value END AS status
  FROM (
    {history}
  ) e
  WHERE type IN ('conversation_opened', 'status_changed', 'assigned', 'transferred', 'unassigned')
), states AS (
  SELECT conversation_id, at_ms,
    last_value(who IGNORE NULLS) OVER (PARTITION BY conversation_id ORDER BY at_ms, event_id
                                       ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS who,
    last_value(status IGNORE NULLS) OVER (PARTITION BY conversation_id ORDER BY at_ms, event_id
                                          ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS status,
    coalesce(lead(at_ms) OVER (PARTITION BY conversation_id ORDER BY at_ms, event_id), {end_ms}) AS until_ms
  FROM changes
), spans AS (
  SELECT who AS agent_id, at_ms AS start_ms, until_ms AS end_ms FROM states
  WHERE who <> '' AND coalesce(status, 'open') = 'open' AND until_ms > at_ms   -- opened before the lake: open
), steps AS (
  SELECT agent_id, t, sum(d) AS d FROM (
    SELECT agent_id, start_ms AS t, 1 AS d FROM spans UNION ALL SELECT agent_id, end_ms AS t, -1 AS d FROM spans
  ) x GROUP BY 1, 2
), segments AS (
  SELECT agent_id, t AS start_ms, lead(t) OVER (PARTITION BY agent_id ORDER BY t) AS end_ms,
    sum(d) OVER (PARTITION BY agent_id ORDER BY t ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS held
  FROM steps
), buckets (key, b_start, b_end) AS (VALUES {buckets})
SELECT b.key, s.agent_id AS agent,
  round(CAST(sum(s.held * (least(s.end_ms, b.b_end) - greatest(s.start_ms, b.b_start))) AS DOUBLE)
        / (b.b_end - b.b_start), 3) AS mean,
  max(s.held) AS max
FROM segments s JOIN buckets b ON s.start_ms < b.b_end AND s.end_ms > b.b_start
WHERE s.held > 0
GROUP BY b.key, s.agent_id, b.b_start, b.b_end
ORDER BY b.key, agent"""


# Agents online per hour: each presence_changed event starts a span of its agent's presence that lasts to their
# next change (or the period's end); an hour's value is the online agent-time in it over the hour's length, the
# time-weighted mean of agents online. Read from the lake's first day, so who was online when the period
# starts is known.
ONLINE = """WITH changes AS (
  SELECT agent_id, at_ms, event_id, to_value AS presence FROM (
    {history}
  ) e
  WHERE type = 'presence_changed' AND agent_id IS NOT NULL
), spans AS (
  SELECT agent_id, presence, at_ms AS start_ms,
    coalesce(lead(at_ms) OVER (PARTITION BY agent_id ORDER BY at_ms, event_id), {end_ms}) AS end_ms
  FROM changes
), buckets (key, b_start, b_end) AS (VALUES {buckets})
SELECT b.key,
  round(CAST(sum(least(s.end_ms, b.b_end) - greatest(s.start_ms, b.b_start)) AS DOUBLE)
        / (b.b_end - b.b_start), 3) AS value
FROM spans s JOIN buckets b ON s.start_ms < b.b_end AND s.end_ms > b.b_start
WHERE s.presence = 'online'
GROUP BY b.key, b.b_start, b.b_end
ORDER BY b.key"""


def buckets(period: Period, group: str) -> list[tuple[str, int, int]]:
    """The days or hours of ``period`` in its zone: (key, start ms, end ms), cut to the period."""
    zone = ZoneInfo(period.tz)
    out: list[tuple[str, int, int]] = []
    local = period.start.astimezone(zone)
    start = (datetime.combine(local.date(), datetime.min.time(), zone) if group == "day"
             else local.replace(minute=0, second=0, microsecond=0))
    while start < period.end:
        if group == "day":
            following = datetime.combine(start.date() + timedelta(days=1), datetime.min.time(), zone)
            key = start.strftime("%Y-%m-%d")
        else:       # whole hours in UTC are whole hours here too (zones off by 30 or 45 minutes aside)
            following = (start.astimezone(UTC) + timedelta(hours=1)).astimezone(zone)
            key = start.strftime("%Y-%m-%d %H")
        first, last = max(start, period.start), min(following, period.end)
        out.append((key, int(first.timestamp() * 1000), int(last.timestamp() * 1000)))
        start = following
    return out


def concurrent_load(period: Period, group: str, scope: Scope = WHOLE_DESK) -> str:
    """Conversations each agent held per day or hour of ``period`` (``CONCURRENT_LOAD``)."""
    period.check()
    if group not in ("day", "hour"):
        raise ValueError("concurrent load is over time: group it by day or hour")
    values = ", ".join(f"('{key}', {first}, {last})" for key, first, last in buckets(period, group))
    return (CONCURRENT_LOAD.replace("{buckets}", values).replace("{end_ms}", str(period.end_ms))
            .replace("{history}", _history(period, scope)))


def online(period: Period, scope: Scope = WHOLE_DESK) -> str:
    """Agents online per hour of ``period`` (``ONLINE``): key ``YYYY-MM-DD HH`` in ``tz``, value the mean."""
    period.check()
    values = ", ".join(f"('{key}', {first}, {last})" for key, first, last in buckets(period, "hour"))
    return (ONLINE.replace("{buckets}", values).replace("{end_ms}", str(period.end_ms))
            .replace("{history}", _history(period, scope)))


def week_start(moment: datetime, tz: str) -> datetime:
    """Monday 00:00 in ``tz`` of the week ``moment`` is in."""
    zone = ZoneInfo(tz)
    local = moment.astimezone(zone).date()
    return datetime.combine(local - timedelta(days=local.weekday()), datetime.min.time(), zone)


def topics(period: Period, scope: Scope = WHOLE_DESK) -> str:
    """Contact reasons per week of ``period``: whole weeks from the one ``period.start`` is in (Monday 00:00 in
    ``tz``) to ``period.end``, read from a week earlier so the first week has its ``previous``."""
    period.check()
    first = week_start(period.start, period.tz)
    previous = datetime.combine(first.date() - timedelta(days=7), first.time(), first.tzinfo)
    window = Period(previous, period.end, period.tz)
    return (TOPICS.replace("{key}", key_expression("week", period.tz))
            .replace("{first_key}", first.date().isoformat()).replace("{view}", _view(window, scope)))


def statement(metric: str, period: Period, group: str | None, scope: Scope = WHOLE_DESK) -> str:
    """The DuckDB statement of ``metric`` over ``period`` grouped by ``group`` (None: one row, key 'all'), of the
    conversations in ``scope``."""
    period.check()
    if metric == "backlog":
        if group not in ("day", "hour"):
            raise ValueError("backlog is over time: group it by day or hour")
        first_key = period.start.astimezone(ZoneInfo(period.tz)).strftime("%Y-%m-%d" if group == "day"
                                                                          else "%Y-%m-%d %H")
        keys = ", ".join(f"('{key}')" for key in dict.fromkeys(key for key, _, _ in buckets(period, group)))
        return (BACKLOG.replace("{key}", key_expression(group, period.tz, series=True)).replace("{keys}", keys)
                .replace("{first_key}", first_key).replace("{history}", _history(period, scope)))
    select, _ = STATEMENTS[metric]
    return (f"WITH {_view(period, scope, as_of=group if group in ('team', 'language') else None)}\n"
            + select.replace("{key}", key_expression(group, period.tz)).replace("{not_refused}", NOT_REFUSED))


def hourly(period: Period, channel: str | None, scope: Scope = WHOLE_DESK) -> str:
    """Conversations opened per hour of ``period`` (in ``tz``), of one channel or all."""
    period.check()
    if channel is not None and not channel.replace("_", "").isalnum():
        raise ValueError(f"not a channel: {channel!r}")
    where = f" AND channel = '{channel}'" if channel else ""
    return (f"WITH {_view(period, scope)}\n" + HOURLY.replace("{tz}", period.tz)
            .replace("{channel_filter}", where))


def customer_events(customer_ids: Iterable[str], conversation_ids: Iterable[str], first_day: date | None) -> str:
    """Every row of the lake about one customer, for their export: the events of their customer ids (theirs and
    those merged into them) and of their conversations, one row per event id, none on the deletion list, in the order
    they happened. ``first_day`` is the earliest UTC day a row of theirs can be in (``privacy.export.first_day``):
    the statement reads the ``day`` partitions from it on, so the engine prunes the days before it (Athena reads
    none of their objects); None reads from the lake's first day. No upper bound: the lake has no day after its
    latest event (the Glue table projects days up to now), and one could only leave out a row dated ahead of the
    caller's clock. The ids are ours (the table's), written as literals; the day is a date."""
    either = [f"{column} IN ({', '.join(literal(i) for i in sorted(set(ids)))})"
              for column, ids in (("customer_id", list(customer_ids)), ("conversation_id", list(conversation_ids)))
              if ids]
    if not either:
        raise ValueError("a customer's events need their customer or conversation ids")
    days = f"day >= '{first_day.strftime('%Y-%m-%d')}' AND " if first_day is not None else ""
    rows = events(days + "(" + " OR ".join(either) + ")", WHOLE_DESK)
    return f"SELECT * FROM (\n  {rows}\n) about ORDER BY at_ms, event_id"  # noqa: S608 (literals, a date)


def _approximate(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.PercentileCont | exp.Quantile):
        return exp.ApproxQuantile(this=node.this, quantile=node.expression)
    return node


def to_trino(sql: str) -> str:
    """The Trino (Athena engine 3) form of a DuckDB statement."""
    tree = sqlglot.parse_one(sql, read="duckdb").transform(_approximate)
    return tree.sql(dialect="trino")
