"""Breach risk of waiting conversations, kept fresh by the per-minute SLA sweep (docs/architecture.md, "Breach risk").

For each team, once a minute: the team's whole queue in the router's order (one Query of the Queue index), its
online agents (their free and held slots: one Query of the Pool index and one BatchGetItem), and the team's
handling speed. Each waiting conversation's chance of missing its next deadline is then
``forecast.risk.breach_probability`` with

- ``ahead``: the conversations before it in the queue (the router serves them first),
- ``free_slots`` / ``busy_slots``: capacity left and held among the team's online agents (an agent of several
  teams counts in each: the router may give a freed slot to either),
- ``slot_seconds``: the routing settings' average handling time (``average_handle_seconds``),
- ``reply_after_assignment_seconds``: from the settings (``RiskSettings``),
- the time left: calendar seconds to the earliest running deadline (the sweep's own view of its clocks).

The risk is stored on the conversation (``breach_risk``, 3 decimals) only when it moved by at least
``min_change`` (a quiet queue costs no writes), and read back by the agent API (``sort=breach_risk``). When it
reaches ``threshold`` before the target's SLA warning went out, a ``SlaRisk`` event goes on the bus and a
``risk`` record on the supervisor board, once per conversation and target (deadline): a conditional write of
``sla_risk`` in the same transaction as the board's record and an announcement item in the due index (an outbox,
as for SLA warnings and breaches: ``logic.sla``). The announcement is taken out once its event is published; when
the bus refused it, the next sweep finds it due and publishes the event as it was detected (``announce``): at least
once, and consumers dedupe on conversation id + target + due time. A paused conversation (its clocks stopped) has
no risk.

Why the sweep and not the list API: the risk of one conversation depends on every conversation ahead of it,
which a page of the list does not see; the sweep reads each queue whole once a minute anyway, so the list
stays one Query and its sort costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aws_lambda_powertools import Logger

from shopdesk import clock
from shopdesk.dal.agents import Agents
from shopdesk.dal.conversations import Conversations, Deadline
from shopdesk.dal.events import EventBus
from shopdesk.forecast.risk import QueueState, breach_probability
from shopdesk.logic.sla_engine import PolicyBook
from shopdesk.models import Conversation

logger = Logger(child=True)

RISK_DETAIL_TYPE = "SlaRisk"


@dataclass(frozen=True)
class RiskSettings:
    threshold: float = 0.5                     # from this chance on, a risk warning is raised (once)
    reply_after_assignment_seconds: float = 120.0
    min_change: float = 0.01                   # a smaller move is not written


@dataclass(frozen=True)
class TeamRisk:
    team: str
    waiting: int
    written: int
    raised: list[Deadline]          # the risk warnings recorded now: their announcements


def next_deadline(conv: Conversation) -> tuple[str, datetime] | None:
    """The running target due first, or None when no clock runs (paused, or none)."""
    if conv.sla.paused or not conv.sla.deadlines:
        return None
    target, deadline = min(conv.sla.deadlines.items(), key=lambda pair: pair[1].due_at)
    return target, deadline.due_at


def assess(waiting: list[Conversation], free: int, busy: int, slot_seconds: float, settings: RiskSettings,
           now: datetime) -> list[tuple[Conversation, float | None, tuple[str, datetime] | None]]:
    """Each waiting conversation (in the router's order) with its risk and the deadline it is about."""
    out = []
    for ahead, conv in enumerate(waiting):
        deadline = next_deadline(conv)
        if deadline is None:
            out.append((conv, None, None))
            continue
        state = QueueState(ahead=ahead, free_slots=free, busy_slots=busy, slot_seconds=slot_seconds,
                           reply_after_assignment_seconds=settings.reply_after_assignment_seconds)
        risk = breach_probability(state, (deadline[1] - now).total_seconds())
        out.append((conv, round(risk, 3), deadline))
    return out


def refresh(conversations: Conversations, agents: Agents, book: PolicyBook | None, bus: EventBus | None,
            teams: list[str], settings: RiskSettings = RiskSettings()) -> list[TeamRisk]:
    """Every team's queue assessed and written (see the module); the risk warnings published."""
    now = clock.now()
    slot_seconds = float(book.routing().average_handle_seconds) if book is not None else 600.0
    reports = []
    for team in teams:
        waiting = conversations.waiting(team)
        if not waiting:
            continue
        online = agents.online(team)
        free = sum(a.free for a in online)
        busy = sum(min(a.active, a.capacity) for a in online)
        written, raised = 0, []
        for conv, risk, deadline in assess(waiting, free, busy, slot_seconds, settings, now):
            if risk is None or deadline is None:
                continue
            due = clock.iso(deadline[1])
            # over the threshold, still ahead (a passed one is the sweep's), and neither this warning nor the SLA
            # warning went out for this deadline yet (the write checks both again)
            owed = (risk >= settings.threshold and deadline[1] > now
                    and due not in (conv.risk_raised.get(deadline[0]), conv.sla_warned.get(deadline[0])))
            before = conv.breach_risk
            if not owed and before is not None and abs(before - risk) < settings.min_change:
                continue                              # no news
            if (announcement := conversations.note_breach_risk(conv, risk, (deadline[0], due) if owed else None)):
                raised.append(announcement)
            written += 1
        reports.append(TeamRisk(team, len(waiting), written, raised))
    if bus is not None:
        announce(conversations, bus, [d for report in reports for d in report.raised])
    if reports:
        logger.info("breach risk", extra={"teams": {r.team: {"waiting": r.waiting, "written": r.written,
                                                            "raised": len(r.raised)} for r in reports}})
    return reports


def announce(conversations: Conversations, bus: EventBus, owed: list[Deadline]) -> int:
    """Risk warnings' ``SlaRisk`` events on the bus, ten per request, each request's announcements taken out of the
    due index once it went out; a refusal raises and leaves the rest for the next sweep. How many went out."""
    for start in range(0, len(owed), 10):
        chunk = owed[start:start + 10]
        bus.publish([(RISK_DETAIL_TYPE, event(d)) for d in chunk])
        conversations.finish_deadlines(chunk)
    return len(owed)


def event(announcement: Deadline) -> dict[str, object]:
    """A risk warning's event, as its announcement recorded it when it was detected."""
    return {"kind": "risk", "conversation_id": announcement.conversation_id, "target": announcement.target,
            "due_at": announcement.due_at, "risk": announcement.risk, "team": announcement.team,
            "detected_at": announcement.detected_at}
