"""The reports use case: a period in a time zone, the figures of docs/metrics.md from the lake.

Every figure is computed by one statement of ``analytics.sql`` on the lake (never the table); ratios are
made here from the counts the statements answer, so a ratio with nothing to divide is ``None``, not 0.
Every figure is of a ``Scope``: the whole desk for an admin, the conversations of their teams for a supervisor
(``Reports.scope``, from ``logic.access``); each statement filters its events by it.
The lake holds no customer's words: the CSAT comments list finds its ratings there and reads their words from
the survey records in the table (``SurveyComments``), where retention and an erase remove them.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from shopdesk import clock
from shopdesk.analytics import Lake
from shopdesk.analytics.sql import (
    GROUPS,
    STATEMENTS,
    WHOLE_DESK,
    Period,
    Scope,
    concurrent_load,
    hourly,
    online,
    statement,
    topics,
)
from shopdesk.errors import BadRequest, Conflict
from shopdesk.forecast import staffing
from shopdesk.forecast.staffing import StaffingInputs
from shopdesk.forecast.volume import WEEK, ModelSettings, forecast
from shopdesk.logic.access import Access, Caller
from shopdesk.privacy import audit

MAX_DAYS = 400
DURATIONS = ("first_response", "next_response", "resolution")
COUNTS = ("conversations", "messages_received", "replies", "handled", "resolved")
# The metrics GET /reports/metrics answers: the statements' own, and ratios made from them.
METRICS: dict[str, str] = {
    **{name: STATEMENTS[name][1] for name in (*COUNTS, *DURATIONS)},
    "reopen_rate": "share of the conversations resolved in the period that were reopened in it",
    "sla_compliance": "share of SLA target instances that ended in the period met, per target",
    "backlog": "conversations not resolved at the end of each day or hour (group_by=day|hour)",
    "bot": "conversations the bot answered, handed over, resolved; containment rate",
    "handoff_reasons": "the bot's hand-overs by reason",
    "csat": "CSAT surveys asked, answered, score (share of 4 and 5), response rate",
    "concurrent_load": "conversations each agent held (assigned to them and open) per day or hour "
                       "(group_by=day|hour): time-weighted mean and maximum",
    "topics": "contact reasons per week (group_by=week): conversations per topic, rank, the week before, "
              "change, rising",
    "csat_comments": "the comments customers gave with their CSAT ratings, newest first (no group_by)",
}
COMMENTS_LIMIT = 500
# Figures no agent is credited with (docs/metrics.md, "Attribution"), in words: by agent they would be one row of
# nobody's, the whole desk's, so group_by=agent is refused (as the backlog refuses what is not over time).
NO_AGENT = {"conversations": "a new conversation", "messages_received": "a customer's message",
            "bot": "the bot's work"}


class SurveyComments(Protocol):
    """The comments of survey records (``dal.csat.SurveyRecords``): (conversation id, cycle) -> the words."""

    def comments(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], str]: ...


def _ratio(part: Any, whole: Any) -> float | None:
    return round(part / whole, 4) if whole else None


def _round(value: Any) -> Any:
    return round(value, 3) if isinstance(value, float) else value


def _instant(text: str, zone: ZoneInfo, what: str) -> datetime:
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), zone)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadRequest(f"{what} is not a date (2026-11-30) or a time with its offset "
                         f"(2026-11-30T09:00:00+01:00): {text!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def period(start: str, end: str, tz: str = "UTC") -> Period:
    """``[start, end)``: dates are midnight in ``tz`` (``to=2026-12-07`` ends with the 6th), times keep their
    offset (or are read in ``tz``). At most ``MAX_DAYS`` days."""
    try:
        zone = clock.zone(tz)
    except ValueError as exc:
        raise BadRequest(f"tz is not a time zone of the IANA database (Europe/Amsterdam, UTC): {tz!r}") from exc
    first, last = _instant(start, zone, "from"), _instant(end, zone, "to")
    if not (first.year >= 2000 and last.year <= 2100):
        raise BadRequest("a report covers days between the years 2000 and 2100")
    if last <= first:
        raise BadRequest("to must be later than from")
    if last - first > timedelta(days=MAX_DAYS):
        raise BadRequest(f"a report covers at most {MAX_DAYS} days")
    return Period(first, last, tz)


class Reports:
    def __init__(self, lake: Lake, access: Access | None = None, surveys: SurveyComments | None = None):
        self.lake = lake
        self.access = access
        self.surveys = surveys

    def scope(self, caller: Caller, team: str | None = None, *, members: bool = False) -> Scope:
        """Whose figures ``caller`` reads (``Access.figures_of``: 403 for anyone but supervisors and admins, and for
        a supervisor who names another team), with the agents of those teams when ``members`` (agents online)."""
        if self.access is None:
            raise RuntimeError("the reports need the access rules to scope a caller's figures")
        teams = self.access.figures_of(caller, team)
        return Scope.of(teams, self.access.members(teams) if teams and members else ())

    def _rows(self, name: str, span: Period, group: str | None, scope: Scope) -> list[dict[str, Any]]:
        return [{k: _round(v) for k, v in row.items()}
                for row in self.lake.rows(statement(name, span, group, scope))]

    def metric(self, name: str, span: Period, group: str | None, scope: Scope = WHOLE_DESK
               ) -> list[dict[str, Any]]:
        """One row per group key (``key``), with the metric's figures, of the conversations in ``scope``."""
        if name not in METRICS:
            raise BadRequest(f"unknown metric {name!r}: one of {', '.join(sorted(METRICS))}")
        if group is not None and group not in GROUPS:
            raise BadRequest(f"group_by is one of {', '.join(GROUPS)}")
        if group == "agent" and name in NO_AGENT:
            raise BadRequest(f"{name} has no agent ({NO_AGENT[name]} is nobody's): group_by=team, channel, "
                             "language, day, week or hour")
        if name in ("concurrent_load", "backlog"):
            if group not in ("day", "hour"):
                raise BadRequest(f"{name.replace('_', ' ')} is over time: group_by=day or group_by=hour")
            past = _so_far(span)        # a day or hour still to come has no backlog or load yet: no row
            if past is None:
                return []
            if name == "backlog":
                return self._rows("backlog", past, group, scope)
            return [{k: _round(v) for k, v in row.items()}
                    for row in self.lake.rows(concurrent_load(past, group, scope))]
        if name == "topics":
            if group != "week":
                raise BadRequest("topics are per week: group_by=week")
            return [{k: _round(v) for k, v in row.items()} for row in self.lake.rows(topics(span, scope))]
        if name == "reopen_rate":
            return [{**row, "value": _ratio(row["reopened"], row["resolved"])}
                    for row in self._rows("reopens", span, group, scope)]
        if name == "sla_compliance":
            return [{**row, "value": _ratio(row["met"], row["met"] + row["breached"])}
                    for row in self._rows("sla", span, group, scope)]
        if name == "bot":
            return [{**row, "containment_rate": _ratio(row["resolved"], row["answered"])}
                    for row in self._rows("bot", span, group, scope)]
        if name == "csat_comments":
            if group is not None:
                raise BadRequest("csat_comments is a list of comments: leave out group_by")
            if self.surveys is None:
                raise RuntimeError("the comments list needs the survey records, where the comments are")
            listed = comments(self.lake.rows(statement("csat_comments", span, None, scope)), self.surveys)
            # customers' words, by conversation: audited (the period, whose, how many; not the ids, up to 500)
            audit.revealed(comments=len(listed), start=span.start.isoformat(), end=span.end.isoformat(),
                           teams=None if scope.teams is None else list(scope.teams))
            return listed
        if name == "csat":
            return [{**row, "score": _ratio(row["satisfied"], row["responses"]),
                     "response_rate": _ratio(row["responses"], row["asked"])}
                    for row in self._rows("csat", span, group, scope)]
        return self._rows(name, span, group, scope)

    def summary(self, span: Period, scope: Scope = WHOLE_DESK) -> dict[str, Any]:
        """The period's figures (``teams``: whose, None for the whole desk)."""
        def one(name: str) -> dict[str, Any]:
            rows = self.metric(name, span, None, scope)
            return rows[0] if rows else {}

        def duration(name: str) -> dict[str, Any]:
            row = one(name)
            return {"count": row.get("count", 0), **{k: row.get(k) for k in (
                "median_s", "p90_s", "business_median_s", "business_p90_s")}}

        reopens = one("reopen_rate")
        sla = self.metric("sla_compliance", span, None, scope)
        csat, bot = one("csat"), one("bot")
        return {
            "from": span.start.isoformat(), "to": span.end.isoformat(), "tz": span.tz,
            "teams": None if scope.teams is None else list(scope.teams),
            "conversations": one("conversations").get("value", 0),
            "first_response": duration("first_response"),
            "next_response": duration("next_response"),
            "resolution": {**duration("resolution"), "resolved": one("resolved").get("value", 0),
                           "reopened": reopens.get("reopened", 0), "reopen_rate": reopens.get("value")},
            "sla": {"compliance_by_target": {r["target"]: r["value"] for r in sla},
                    "met_by_target": {r["target"]: r["met"] for r in sla},
                    "breached_by_target": {r["target"]: r["breached"] for r in sla}},
            "csat": {"score": csat.get("score"), "responses": csat.get("responses", 0),
                     "response_rate": csat.get("response_rate")},
            "bot": {"answered": bot.get("answered", 0), "handed_off": bot.get("handed_off", 0),
                    "resolved": bot.get("resolved", 0), "containment_rate": bot.get("containment_rate"),
                    "handed_off_by_reason": {r["key"]: r["value"] for r in self.metric("handoff_reasons", span,
                                                                                          None, scope)}},
        }


def _so_far(span: Period) -> Period | None:
    """The part of ``span`` up to now (None: it is all still to come)."""
    now = clock.now()
    if span.start >= now:
        return None
    return span if span.end <= now else Period(span.start, now, span.tz)


def comments(rows: list[dict[str, Any]], surveys: SurveyComments) -> list[dict[str, Any]]:
    """Each rating that has a comment (said with it, or written after it), newest first: when it was rated,
    the conversation, the agent credited, team, channel, language, the rating and the comment. The lake says which
    ratings have one; the words are the survey record's (a record gone with retention or an erase: not listed)."""
    def detail(row: dict[str, Any]) -> dict[str, Any]:
        try:
            found = json.loads(row.get("detail") or "{}")
        except ValueError:
            return {}
        return found if isinstance(found, dict) else {}

    def commented(info: dict[str, Any]) -> bool:
        return bool(info.get("commented") or info.get("comment"))      # ``comment``: events of before 2026-12-05

    later = {(row["conversation_id"], detail(row).get("cycle")) for row in rows if row["type"] == "csat_commented"}
    rated = []
    for row in rows:
        if row["type"] != "csat_answered":
            continue
        info = detail(row)
        key = (row["conversation_id"], info.get("cycle"))
        if isinstance(key[1], str) and (commented(info) or key in later):
            rated.append((key, row))
        if len(rated) == COMMENTS_LIMIT:
            break
    words = surveys.comments([key for key, _ in rated]) if rated else {}
    return [{"at": row["occurred_at"], "conversation_id": row["conversation_id"], "agent_id": row["agent_id"],
             "team": row["team"], "channel": row["channel"], "language": row["language"],
             "rating": row["rating"], "comment": words[key]}
            for key, row in rated if words.get(key)]


def hours_of(rows: list[dict[str, Any]], first: datetime, count: int, zone: ZoneInfo) -> list[float]:
    """Hourly counts from ``first`` (an hour in ``zone``) for ``count`` hours, 0 where no row names the hour."""
    found = {row["key"]: float(row["value"]) for row in rows}
    out = []
    for i in range(count):
        local = (first + timedelta(hours=i)).astimezone(zone)
        out.append(found.get(local.strftime("%Y-%m-%d %H"), 0.0))
    return out


MODEL = ModelSettings()


def volume_forecast(lake: Lake, now: datetime, channel: str | None, days: int, tz: str,
                    settings: ModelSettings = MODEL, scope: Scope = WHOLE_DESK) -> dict[str, Any]:
    """Conversations expected per hour for ``days`` from the next hour: ``forecast.volume`` on the lake's
    history of the last ``settings.weeks`` weeks (of the conversations in ``scope``), cut to the whole weeks since
    the first hour with a conversation (hours before the desk had any are not zeros to learn from)."""
    try:
        zone = clock.zone(tz)
    except ValueError as exc:
        raise BadRequest(f"tz is not a time zone of the IANA database: {tz!r}") from exc
    end = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(hours=WEEK * settings.weeks)
    try:
        sql = hourly(Period(start, end, tz), channel, scope)
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc
    history = hours_of(lake.rows(sql), start, WEEK * settings.weeks, zone)
    first = next((i for i, v in enumerate(history) if v), len(history))
    weeks = (len(history) - first) // WEEK
    if weeks < 1:
        raise Conflict("a forecast needs a week of history in the lake; it has less")
    expected = forecast(history[-weeks * WEEK:], days * 24, settings)
    return {"channel": channel, "tz": tz, "days": days, "history_weeks": weeks,
            "items": [{"hour": (end + timedelta(hours=i)).astimezone(zone).isoformat(), "expected": round(v, 3)}
                      for i, v in enumerate(expected)]}


def usually_online(lake: Lake, now: datetime, tz: str, weeks: int, hours: int, scope: Scope = WHOLE_DESK
                   ) -> list[float]:
    """Agents the desk usually has online in each of ``hours`` hours from the next one: for each, the mean over
    the lake's last ``weeks`` whole weeks of the time-weighted mean of agents online in the same hour of the
    week (``analytics.sql.ONLINE``, from presence changes; of the agents in ``scope``, the members of its teams).
    The same weeks the forecast learned from."""
    zone = ZoneInfo(tz)
    end = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(hours=WEEK * weeks)
    history = hours_of(lake.rows(online(Period(start, end, tz), scope)), start, WEEK * weeks, zone)
    return [round(sum(history[w * WEEK + i % WEEK] for w in range(weeks)) / weeks, 3) for i in range(hours)]


def staffing_plan(volume: dict[str, Any], inputs: StaffingInputs, online_: list[float] | None = None
                  ) -> dict[str, Any]:
    """The agents each forecast hour needs (``forecast.staffing``: Erlang C over agents' slots) beside it, and
    beside those the agents usually online then (``usually_online``; 0 where not given) and whether they fall
    short."""
    hours = [dict(item) for item in volume["items"]]
    usual = online_ if online_ is not None else [0.0] * len(hours)
    for item, plan, there in zip(hours, staffing.plan([h["expected"] for h in hours], inputs), usual, strict=True):
        item.update(agents_needed=plan.agents, service_level=round(plan.service_level, 3),
                    occupancy=round(plan.occupancy, 3), limited_by=plan.limited_by,
                    usually_online=there, short=there < plan.agents)
    return {**volume, "items": hours, "inputs": {
        "slot_seconds": inputs.slot_seconds, "first_response_target_seconds": inputs.first_response_target_seconds,
        "reply_after_assignment_seconds": inputs.reply_after_assignment_seconds,
        "effort_seconds": inputs.effort_seconds, "concurrency": inputs.concurrency, "goal": inputs.goal,
        "max_occupancy": inputs.max_occupancy}}


# What makes a spreadsheet read a cell as a formula (OWASP, "CSV injection"; ASVS adds NUL): such text gets a
# leading quote. A spreadsheet skips spacing before a formula, so the formula's own characters are looked for past any
# whitespace (spaces, no-break and ideographic spaces, tabs, line breaks) and invisible characters (zero-width ones,
# a byte order mark, NUL); a tab, carriage return or NUL first is quoted whatever follows.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\x00")
_SPACING = re.compile(r"^[\s\x00\u200b\u200c\u200d\u2060\ufeff]+")


def formula_like(text: str) -> bool:
    """Whether a spreadsheet could read ``text`` as a formula: it starts with one of ``FORMULA_STARTS``, or does so
    past its leading spacing ("  =HYPERLINK(...)", a no-break space then "=1+1"). A text "-5" is one (a number is
    written as a number, never through this)."""
    return text.startswith(FORMULA_STARTS) or _SPACING.sub("", text, count=1).startswith(FORMULA_STARTS)


def _cell(value: Any) -> Any:
    """A text cell a spreadsheet shows as text: a customer's CSAT comment "=HYPERLINK(...)" must not run when a
    supervisor opens the file. Numbers stay numbers."""
    return "'" + value if isinstance(value, str) and formula_like(value) else value


def as_csv(rows: list[dict[str, Any]]) -> str:
    """Rows as CSV with a header (the union of the rows' columns, in first-seen order); text that a spreadsheet
    would run as a formula starts with a quote."""
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns or ["key"], lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)
    return out.getvalue()
