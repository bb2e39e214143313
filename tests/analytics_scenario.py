"""A known history for the event lake's tests: a script of customers writing and agents answering, played
through the real handlers with the clock frozen at each step, and the figures the script implies, computed
here on their own (no shopdesk code: its own business-time arithmetic and percentile formula).

The script (seeded, so the same every run): conversations over two weeks from a Monday in Amsterdam, day and
night and weekend, on SMS (team ``default``) and WhatsApp (team ``returns``), in four languages; a first reply
from one of the team's agents (not always the assignee: credit goes to the sender), sometimes a second customer
message before it, follow-ups answered or not, pauses (pending until the customer writes again, or until the
resolve), resolves by an agent who may not have replied, and reopens that start a new cycle. Every span keeps
WhatsApp's 24-hour window open.

WhatsApp has the bot (a small knowledge base): every WhatsApp customer meets it. Some ask a frequent question; the
bot answers, and the customer says it helped (the bot resolves it: no person, no resolution time) or that it did
not (handed over, reason ``not_helpful``); others ask for a person at once (``human_requested``). After a
hand-over a person's part starts: first response and resolution are measured from the hand-over. SMS has the
satisfaction survey: every resolve by a person asks once, and after the conversation's last resolve some
customers answer with a digit, a word or an emoji, some with a comment (in the answer, or in the next message),
some not at all; the rating is credited to the resolver.
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
BOT_CHANNEL, CSAT_CHANNEL = "whatsapp", "sms"
QUESTION = "How long does standard delivery take?"           # the knowledge base answers it (faq_shipping)
ASK_PERSON = "I want to talk to a human please"
HELPED, NOT_HELPED = "Yes, thanks!", "No, that did not help"
# Survey answers and the rating each one means (the scale: 1 very bad ... 5 very good); a reply that says more
# than its rating is kept whole as its comment.
RATINGS: list[tuple[str, int, str | None]] = [
    ("5", 5, None), ("4", 4, None), ("2 - too slow", 2, "2 - too slow"), ("1", 1, None), ("excellent", 5, None),
    ("very good", 5, None), ("not good", 2, None), ("terrible", 1, None), ("👍", 4, None), ("😞", 2, None),
    ("3", 3, None)]
COMMENT = "The courier was late though"
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
    kind: str                 # write, reply, pending, resolve, reopen; rate, comment (a survey's answer)
    conversation: int
    agent: str | None = None
    text: str | None = None
    route: bool = False       # the router reads it at once (what the bot does happens at the customer's message)
    bot: str | None = None    # what the bot does with it: answer, resolve, handoff


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
    bot_answered: set[int] = field(default_factory=set)
    bot_resolved: list[tuple[int, datetime]] = field(default_factory=list)
    bot_clocks: list[Measured] = field(default_factory=list)   # the resolution clocks the bot's resolves ended
    handoffs: list[tuple[int, str, datetime]] = field(default_factory=list)      # conversation, reason, when
    surveys: list[tuple[int, str, datetime]] = field(default_factory=list)       # conversation, resolver, when
    ratings: list[tuple[int, str, int, str | None]] = field(default_factory=list)  # conv, resolver, rating, comment

    # ------------------------------------------------------------------ what the figures must be

    @staticmethod
    def durations(items: list[Measured]) -> dict[str, Any]:
        seconds, business = [m.seconds for m in items], [float(m.business) for m in items]
        return {"count": len(items), "median_s": quantile(seconds, 0.5), "p90_s": quantile(seconds, 0.9),
                "business_median_s": quantile(business, 0.5), "business_p90_s": quantile(business, 0.9)}

    def expected_sla(self) -> dict[str, tuple[int, int]]:
        out = {}
        for target, items in self.sla_instances().items():
            met = sum(1 for m in items if m.met(target))
            out[target] = (met, len(items) - met)
        return out

    def sla_instances(self) -> dict[str, list[Measured]]:
        """What each SLA target is measured on: a person's spans, and the resolution clock of a conversation the
        bot resolved (no resolution time, but its clock ends: paused while the bot waited for the customer)."""
        return {"first_response": self.first, "next_response": self.next,
                "resolution": self.resolutions + self.bot_clocks}

    def by(self, items: list[Measured], group: str) -> dict[str, list[Measured]]:
        grouped: dict[str, list[Measured]] = defaultdict(list)
        for m in items:
            key = {"agent": m.agent, "team": m.team, "channel": m.channel, "language": m.language,
                   "day": m.end.astimezone(ZONE).date().isoformat(),
                   "hour": f"{m.end.astimezone(ZONE).hour:02d}"}[group]
            grouped[str(key)].append(m)
        return grouped

    def expected_bot(self) -> dict[str, Any]:
        answered, resolved = len(self.bot_answered), len({i for i, _ in self.bot_resolved})
        reasons: dict[str, set[int]] = defaultdict(set)
        for i, reason, _ in self.handoffs:
            reasons[reason].add(i)
        return {"answered": answered, "handed_off": len({i for i, _, _ in self.handoffs}), "resolved": resolved,
                "containment_rate": round(resolved / answered, 4) if answered else None,
                "handed_off_by_reason": {r: len(c) for r, c in sorted(reasons.items())}}

    def expected_csat(self) -> dict[str, Any]:
        asked, responses = len(self.surveys), len(self.ratings)
        satisfied = sum(1 for _, _, rating, _ in self.ratings if rating >= 4)
        return {"score": round(satisfied / responses, 4) if responses else None, "responses": responses,
                "response_rate": round(responses / asked, 4) if asked else None}

    def csat_by_agent(self) -> dict[str, tuple[int, int, int]]:
        """Per agent credited (the resolver): surveys asked, ratings, ratings of 4 or 5."""
        out: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for _, agent, _ in self.surveys:
            out[agent][0] += 1
        for _, agent, rating, _ in self.ratings:
            out[agent][1] += 1
            out[agent][2] += rating >= 4
        return {a: (n[0], n[1], n[2]) for a, n in out.items()}

    def backlog_by_day(self, first: date, last: date) -> dict[str, int]:
        """Conversations not resolved at the end of each Amsterdam day from ``first`` to ``last`` (both included),
        a day without a change carrying the day before's."""
        changes: dict[str, int] = defaultdict(int)
        for c in self.conversations:
            changes[c.opened.astimezone(ZONE).date().isoformat()] += 1
        for end in [m.end for m in self.resolutions] + [at for _, at in self.bot_resolved]:
            changes[end.astimezone(ZONE).date().isoformat()] -= 1
        for _, at in self.reopens:
            changes[at.astimezone(ZONE).date().isoformat()] += 1
        out, day = {}, first
        while day <= last:
            out[day.isoformat()] = sum(delta for at, delta in changes.items() if at <= day.isoformat())
            day += timedelta(days=1)
        return out


def make(conversations: int, seed: int = 13) -> Script:
    rng = random.Random(seed)
    script = Script()
    for i in range(conversations):
        channel = "whatsapp" if rng.random() < 0.35 else "sms"
        team = CHANNEL_TEAM[channel]
        language = rng.choice(sorted(TEXTS))
        meets_bot = rng.choice(("helped", "helped", "not_helped", "person")) if channel == BOT_CHANNEL else None
        if meets_bot:
            language = "en"
        day = BASE + timedelta(days=rng.randrange(0, DAYS - 1))
        if rng.random() < 0.7:            # most customers write in the day, some at night
            t = day + timedelta(seconds=rng.randrange(8 * 3600, 18 * 3600))
        else:
            t = day + timedelta(seconds=rng.randrange(0, 86400))
        conv = Conversation(i, f"+3161{i:07d}", channel, team, language, t)
        script.conversations.append(conv)
        if meets_bot is None:
            script.steps.append(Step(t, "write", i, text=TEXTS[language]))
        elif meets_bot == "person":          # handed over at once
            script.steps.append(Step(t, "write", i, text=ASK_PERSON, route=True, bot="handoff"))
            script.handoffs.append((i, "human_requested", t))
        else:                                # the bot answers; the customer says whether it helped
            script.steps.append(Step(t, "write", i, text=QUESTION, route=True, bot="answer"))
            script.bot_answered.add(i)
            t += timedelta(seconds=rng.randint(120, 3600))
            if meets_bot == "helped":
                script.steps.append(Step(t, "write", i, text=HELPED, route=True, bot="resolve"))
                script.bot_resolved.append((i, t))
                script.bot_clocks.append(Measured(i, conv.opened, t, None, team, channel, language,
                                                  [(conv.opened, t)]))
                continue
            script.steps.append(Step(t, "write", i, text=NOT_HELPED, route=True, bot="handoff"))
            script.handoffs.append((i, "not_helpful", t))
        cycle_start = t                      # a person's part starts at the first message or the hand-over

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
        resolver = None
        if rng.random() < 0.85:
            t += timedelta(seconds=rng.randint(60, 5000))
            resolver = rng.choice(TEAMS[team])
            if pending_since is not None:
                pauses.append((pending_since, t))
            script.steps.append(Step(t, "resolve", i, agent=resolver))
            script.resolutions.append(measure(cycle_start, t, resolver, pauses))
            if channel == CSAT_CHANNEL:
                script.surveys.append((i, resolver, t))
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
                if channel == CSAT_CHANNEL:
                    script.surveys.append((i, resolver, t))
        if resolver is not None and channel == CSAT_CHANNEL and rng.random() < 0.6:    # the last survey's answer
            text, rating, said = rng.choice(RATINGS)
            t += timedelta(seconds=rng.randint(60, 6 * 3600))
            script.steps.append(Step(t, "rate", i, text=text, route=True))
            if said is None and rng.random() < 0.35:
                t += timedelta(seconds=rng.randint(30, 500))                  # inside the comment window
                script.steps.append(Step(t, "comment", i, text=COMMENT, route=True))
                said = COMMENT
            script.ratings.append((i, resolver, rating, said))
    script.steps.sort(key=lambda s: (s.at, s.conversation))
    return script


def held_spans(script: Script, end: datetime) -> list[tuple[int, datetime, datetime]]:
    """When each conversation was held by an agent (assigned and open), as the play makes it happen: the play
    runs the router (which assigns at once: every agent has room) before the first action of a step whose
    conversation has customer messages the router has not seen, right after a customer message marked
    ``route`` (what the bot does, and a survey's answer), and once more after the last step; a
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
        if step.kind in ("write", "rate", "comment"):       # a survey's answer leaves the resolved as it is
            if step.kind == "write" and (n not in status or status[n] == "pending"):
                status[n] = "open"
            unrouted.add(n)
            if step.route:                  # the router reads it at once: the bot answers (waiting for the
                if step.bot == "answer":    # customer), resolves, or hands over to the router's choice
                    status[n] = "pending"
                elif step.bot == "resolve":
                    status[n] = "resolved"
                settle(n, step.at)
                route(step.at)
                continue
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
