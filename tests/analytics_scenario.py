"""A known history for the event lake's tests: a script of customers writing and agents answering, played
through the real handlers with the clock frozen at each step, and the figures the script implies, computed
here on their own (no shopdesk code: its own business-time arithmetic and percentile formula).

The script (seeded, so the same every run): conversations over two weeks from a Monday in Amsterdam, day and
night and weekend, on SMS (team ``default``) and WhatsApp (team ``returns``), in four languages; a first reply
from one of the team's agents (not always the assignee: credit goes to the sender), sometimes a second customer
message before it, follow-ups answered or not, pauses (pending until the customer writes again, or until the
resolve), resolves by an agent who may not have replied, and reopens that start a new cycle. Every span keeps
WhatsApp's 24-hour window open.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("Europe/Amsterdam")
BASE = datetime(2026, 11, 2, tzinfo=ZONE)          # a Monday, midnight in Amsterdam (no DST change until March)
DAYS = 14
TEAMS = {"default": ["alice", "bob", "carol"], "returns": ["dave", "erin"]}
CHANNEL_TEAM = {"sms": "default", "whatsapp": "returns"}
TEXTS = {
    "en": "Hello, where is my order? It has not arrived yet and I am worried.",
    "es": "Hola, ¿dónde está mi pedido? Todavía no ha llegado y estoy preocupada.",
    "pt": "Olá, onde está a minha encomenda? Ainda não chegou e estou preocupada.",
    "de": "Hallo, wo ist meine Bestellung? Sie ist noch nicht angekommen.",
}
FOLLOW_UP = "Any news about it? Thank you."
# The SLA policy the scenario configures: business seconds in the calendar below.
TARGETS = {"first_response": 3600, "next_response": 1800, "resolution": 4 * 3600}
OPEN = (time(9), time(17))                          # Monday to Friday, Europe/Amsterdam
CALENDAR = {"time_zone": "Europe/Amsterdam",
            "weekly": {d: [{"start": "09:00", "end": "17:00"}] for d in ("mon", "tue", "wed", "thu", "fri")}}


def business_seconds(start: datetime, end: datetime) -> int:
    """Open seconds between two instants: Monday to Friday, 09:00-17:00 in Amsterdam."""
    total = 0
    day = start.astimezone(ZONE).date() - timedelta(days=1)
    while day <= end.astimezone(ZONE).date():
        if day.weekday() < 5:
            opens = datetime.combine(day, OPEN[0], ZONE)
            closes = datetime.combine(day, OPEN[1], ZONE)
            total += max(0, int((min(closes, end) - max(opens, start)).total_seconds()))
        day += timedelta(days=1)
    return total


def quantile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (what quantile_cont computes)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class Step:
    at: datetime
    kind: str                 # write, reply, pending, resolve, reopen
    conversation: int
    agent: str | None = None
    text: str | None = None


@dataclass
class Measured:
    conversation: int
    start: datetime
    end: datetime
    agent: str | None
    team: str
    channel: str
    language: str
    pauses: list[tuple[datetime, datetime]] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    @property
    def business(self) -> float:
        return business_seconds(self.start, self.end)

    def met(self, target: str) -> bool:
        used = self.business - sum(business_seconds(a, b) for a, b in self.pauses)
        return used <= TARGETS[target]


@dataclass
class Conversation:
    index: int
    phone: str
    channel: str
    team: str
    language: str
    opened: datetime


@dataclass
class Script:
    conversations: list[Conversation] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    first: list[Measured] = field(default_factory=list)
    next: list[Measured] = field(default_factory=list)
    resolutions: list[Measured] = field(default_factory=list)
    replies: list[tuple[int, str, datetime]] = field(default_factory=list)   # conversation, agent, when
    reopens: list[tuple[int, datetime]] = field(default_factory=list)

    # ------------------------------------------------------------------ what the figures must be

    @staticmethod
    def durations(items: list[Measured]) -> dict[str, Any]:
        seconds, business = [m.seconds for m in items], [float(m.business) for m in items]
        return {"count": len(items), "median_s": quantile(seconds, 0.5), "p90_s": quantile(seconds, 0.9),
                "business_median_s": quantile(business, 0.5), "business_p90_s": quantile(business, 0.9)}

    def expected_sla(self) -> dict[str, tuple[int, int]]:
        out = {}
        for target, items in (("first_response", self.first), ("next_response", self.next),
                              ("resolution", self.resolutions)):
            met = sum(1 for m in items if m.met(target))
            out[target] = (met, len(items) - met)
        return out

    def by(self, items: list[Measured], group: str) -> dict[str, list[Measured]]:
        grouped: dict[str, list[Measured]] = defaultdict(list)
        for m in items:
            key = {"agent": m.agent, "team": m.team, "channel": m.channel, "language": m.language,
                   "day": m.end.astimezone(ZONE).date().isoformat(),
                   "hour": f"{m.end.astimezone(ZONE).hour:02d}"}[group]
            grouped[str(key)].append(m)
        return grouped

    def backlog_by_day(self, first: date, last: date) -> dict[str, int]:
        """Conversations not resolved at the end of each Amsterdam day with a change."""
        changes: dict[str, int] = defaultdict(int)
        for c in self.conversations:
            changes[c.opened.astimezone(ZONE).date().isoformat()] += 1
        for m in self.resolutions:
            changes[m.end.astimezone(ZONE).date().isoformat()] -= 1
        for _, at in self.reopens:
            changes[at.astimezone(ZONE).date().isoformat()] += 1
        running, out = 0, {}
        for day in sorted(changes):
            running += changes[day]
            if first.isoformat() <= day <= last.isoformat():
                out[day] = running
        return out


def make(conversations: int, seed: int = 13) -> Script:
    rng = random.Random(seed)
    script = Script()
    for i in range(conversations):
        channel = "whatsapp" if rng.random() < 0.35 else "sms"
        team = CHANNEL_TEAM[channel]
        language = rng.choice(sorted(TEXTS))
        day = BASE + timedelta(days=rng.randrange(0, DAYS - 1))
        if rng.random() < 0.7:            # most customers write in the day, some at night
            t = day + timedelta(seconds=rng.randrange(8 * 3600, 18 * 3600))
        else:
            t = day + timedelta(seconds=rng.randrange(0, 86400))
        conv = Conversation(i, f"+3161{i:07d}", channel, team, language, t)
        script.conversations.append(conv)
        script.steps.append(Step(t, "write", i, text=TEXTS[language]))
        cycle_start = t

        def measure(start: datetime, end: datetime, agent: str | None, pauses: list[Any] | None = None
                    ) -> Measured:
            return Measured(i, start, end, agent, team, channel, language, list(pauses or []))  # noqa: B023

        if rng.random() < 0.2:            # writes again before anyone answers
            t += timedelta(seconds=rng.randint(60, 1800))
            script.steps.append(Step(t, "write", i, text=FOLLOW_UP))
        pauses: list[tuple[datetime, datetime]] = []
        pending_since: datetime | None = None
        if rng.random() < 0.9:
            t += timedelta(seconds=rng.randint(120, 20000))
            replier = rng.choice(TEAMS[team])
            script.steps.append(Step(t, "reply", i, agent=replier))
            script.replies.append((i, replier, t))
            script.first.append(measure(cycle_start, t, replier))
            if rng.random() < 0.3:
                t += timedelta(seconds=rng.randint(60, 3600))
                script.steps.append(Step(t, "pending", i, agent=replier))
                pending_since = t
            if rng.random() < 0.6:
                t += timedelta(seconds=rng.randint(60, 7200))
                script.steps.append(Step(t, "write", i, text=FOLLOW_UP))
                if pending_since is not None:
                    pauses.append((pending_since, t))
                    pending_since = None
                waiting = t
                if rng.random() < 0.8:
                    t += timedelta(seconds=rng.randint(60, 10000))
                    agent = rng.choice(TEAMS[team])
                    script.steps.append(Step(t, "reply", i, agent=agent))
                    script.replies.append((i, agent, t))
                    script.next.append(measure(waiting, t, agent))
        if rng.random() < 0.85:
            t += timedelta(seconds=rng.randint(60, 5000))
            resolver = rng.choice(TEAMS[team])
            if pending_since is not None:
                pauses.append((pending_since, t))
            script.steps.append(Step(t, "resolve", i, agent=resolver))
            script.resolutions.append(measure(cycle_start, t, resolver, pauses))
            if rng.random() < 0.2:
                t += timedelta(seconds=rng.randint(300, 7200))
                script.steps.append(Step(t, "reopen", i, agent=rng.choice(TEAMS[team])))
                script.reopens.append((i, t))
                cycle_start = t
                t += timedelta(seconds=rng.randint(60, 5000))
                replier = rng.choice(TEAMS[team])
                script.steps.append(Step(t, "reply", i, agent=replier))
                script.replies.append((i, replier, t))
                script.first.append(measure(cycle_start, t, replier))
                t += timedelta(seconds=rng.randint(60, 5000))
                resolver = rng.choice(TEAMS[team])
                script.steps.append(Step(t, "resolve", i, agent=resolver))
                script.resolutions.append(measure(cycle_start, t, resolver))
    script.steps.sort(key=lambda s: (s.at, s.conversation))
    return script


def held_spans(script: Script, end: datetime) -> list[tuple[int, datetime, datetime]]:
    """When each conversation was held by an agent (assigned and open), as the play makes it happen: the play
    runs the router (which assigns at once: every agent has room) before the first action of a step whose
    conversation has customer messages the router has not seen, and once more after the last step; a
    conversation waits for it from its first message, and again from a reopen (which takes it from its
    agent). Waiting for the customer (pending) and resolved are not held; the customer writing ends pending.
    Spans still running at the end run to ``end``."""
    status: dict[int, str] = {}
    held_since: dict[int, datetime | None] = {}
    assigned: dict[int, bool] = {}
    spans: list[tuple[int, datetime, datetime]] = []
    unrouted: set[int] = set()

    def settle(n: int, at: datetime) -> None:        # a span starts or ends with the state
        holding = assigned.get(n, False) and status.get(n) == "open"
        since = held_since.get(n)
        if holding and since is None:
            held_since[n] = at
        elif not holding and since is not None:
            if at > since:
                spans.append((n, since, at))
            held_since[n] = None

    def route(at: datetime) -> None:
        for n in status:
            if status[n] == "open" and not assigned.get(n):
                assigned[n] = True
                settle(n, at)
        unrouted.clear()

    for step in script.steps:
        n = step.conversation
        if step.kind == "write":
            if n not in status or status[n] == "pending":
                status[n] = "open"
            unrouted.add(n)
            settle(n, step.at)
            continue
        if n in unrouted:
            route(step.at)
        if step.kind == "pending":
            status[n] = "pending"
        elif step.kind == "resolve":
            status[n] = "resolved"
        elif step.kind == "reopen":
            status[n], assigned[n] = "open", False
        settle(n, step.at)
    route(script.steps[-1].at)
    for n, since in held_since.items():
        if since is not None and end > since:
            spans.append((n, since, end))
    return spans


def held_per_day(script: Script, first: date, last: date) -> dict[str, float]:
    """Conversations held on each Amsterdam day from ``first`` to ``last`` (exclusive), time-weighted over
    the day: the sum of every agent's mean concurrent load."""
    end = datetime.combine(last, time(), ZONE)
    spans = held_spans(script, end)
    out = {}
    day = first
    while day < last:
        start, stop = datetime.combine(day, time(), ZONE), datetime.combine(day + timedelta(days=1), time(), ZONE)
        seconds = sum(max(0.0, (min(b, stop) - max(a, start)).total_seconds()) for _, a, b in spans)
        if seconds:
            out[day.isoformat()] = seconds / (stop - start).total_seconds()
        day += timedelta(days=1)
    return out


def period_of(script: Script) -> tuple[str, str]:
    """The whole scenario as [from, to) dates in Amsterdam."""
    return BASE.date().isoformat(), (BASE + timedelta(days=DAYS + 1)).date().isoformat()


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
