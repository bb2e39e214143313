"""SLA sweep: warn at the configured fraction of every target, flag each passed deadline exactly once,
escalate, announce, and re-drive waiting work.

Reads only the sparse, sharded Due index, one key-range Query per shard: never a Scan. A deadline
is in the index under the time of its next action (warning, then due), so every item read is due.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from aws_lambda_powertools import Logger

from shopdesk import clock
from shopdesk.dal.agents import Agents
from shopdesk.dal.alerts import AlertTopic
from shopdesk.dal.aws import client
from shopdesk.dal.conversations import ClockConflict, Conversations, Deadline
from shopdesk.dal.events import EventBus
from shopdesk.dal.queues import Queue
from shopdesk.dal.table import Update
from shopdesk.logic.sla_engine import ESCALATION, PolicyBook
from shopdesk.logic.timeline import system_message
from shopdesk.logic.work import enqueue_drain

logger = Logger(child=True)

BREACH_DETAIL_TYPE = "SlaBreached"
WARNING_DETAIL_TYPE = "SlaWarning"
TARGET_NAMES = {"first_response": "First response", "next_response": "Next response", "resolution": "Resolution"}


@dataclass(frozen=True)
class SweepReport:
    due: int
    breached: int
    events: int
    warned: int = 0
    released: int = 0          # conversations taken back by routing timers


def sweep(conversations: Conversations, bus: EventBus, work: Queue, shards: int, *,
          alerts: AlertTopic | None = None, book: PolicyBook | None = None, agents: Agents | None = None,
          workers: int = 16) -> SweepReport:
    now = clock.now_iso()
    client("dynamodb")                 # one client for every thread below
    with ThreadPoolExecutor(max_workers=min(workers, shards)) as pool:
        found = [d for batch in pool.map(lambda s: conversations.due_deadlines(s, now), range(shards)) for d in batch]
    timers = [d for d in found if d.kind == "timer"]
    due = [d for d in found if d.kind != "timer"]
    released = _run_timers(conversations, agents, timers) if timers else 0

    def act(d: Deadline) -> str | None:
        name = TARGET_NAMES.get(d.target, d.target)
        if d.state == "breached":
            return "breached-before"      # flagged by an earlier sweep whose announcement did not go out
        if d.due_at <= now:
            note = system_message(d.conversation_id, f"{name} target missed (due {d.due_at})")
            return "breached" if conversations.flag_breach(d, note) else None
        if d.state == "pending" and d.warn_at and d.warn_at <= now:
            note = system_message(d.conversation_id, f"{name} target close: due {d.due_at}")
            return "warned" if conversations.flag_warning(d, note) else None
        return None

    with ThreadPoolExecutor(max_workers=workers) as pool:
        outcomes = list(zip(due, pool.map(act, due), strict=True))
    breached = [d for d, o in outcomes if o == "breached"]
    announced = [d for d, o in outcomes if o in ("breached", "breached-before")]
    warned = [d for d, o in outcomes if o == "warned"]
    escalated = {d.conversation_id: _escalate(conversations, d, book) for d in breached} if book else {}

    def detail(d: Deadline, kind: str) -> dict[str, object]:
        return {"kind": kind, "conversation_id": d.conversation_id, "target": d.target, "due_at": d.due_at,
                "detected_at": now, **({"escalated_to": escalated[d.conversation_id]}
                                       if escalated.get(d.conversation_id) else {})}

    events = [(BREACH_DETAIL_TYPE, detail(d, "breach")) for d in announced] + \
             [(WARNING_DETAIL_TYPE, detail(d, "warning")) for d in warned]
    bus.publish(events)
    if alerts is not None and events:
        alerts.publish([(f"SLA {'breach' if t == BREACH_DETAIL_TYPE else 'warning'}: "
                         f"{TARGET_NAMES.get(str(e['target']), e['target'])} of {e['conversation_id']}", e)
                        for t, e in events])
    conversations.finish_deadlines(announced + timers)
    routing = book.routing() if book else None
    teams = {routing.default_team, *routing.team_by_channel.values()} if routing else {"default"}
    for team in sorted(teams):
        enqueue_drain(work, team, "sweep")    # self-healing, and conversations released by timers
    if due:
        logger.info("sla sweep", extra={"due": len(due), "breached": len(breached), "warned": len(warned)})
    return SweepReport(due=len(due), breached=len(breached), events=len(events), warned=len(warned),
                       released=released)


def _run_timers(conversations: Conversations, agents: Agents | None, timers: list[Deadline]) -> int:
    """Routing timers: an assignee silent too long loses the conversation to the next agent; an
    agent offline past the grace period gives their open conversations back to the queue."""
    released = 0
    for timer in timers:
        if timer.target == "assignee_silence" and timer.agent_id:
            conv = conversations.get_meta(timer.conversation_id)
            if conv.assignee == timer.agent_id:
                note = system_message(conv.id, f"No reply from {timer.agent_id} in time: "
                                               "back in the queue for the next agent")
                released += conversations.release(conv, timer.agent_id, note, pass_over=True)
        elif timer.target == "agent_offline" and agents is not None:
            agent_id = timer.conversation_id
            agent = agents.get(agent_id)
            if agent is None or agent.presence.value != "offline":
                continue
            held, _ = conversations.list_inbox(agent_id, "open", 100, None)
            for conv in held:
                note = system_message(conv.id, f"{agent.name or agent_id} went offline: back in the queue")
                released += conversations.release(conv, agent_id, note, pass_over=False)
    return released


def _escalate(conversations: Conversations, deadline: Deadline, book: PolicyBook) -> str | None:
    """A breach raises the conversation's priority one level (its clocks take the stricter targets)
    and moves it up the queue if it is waiting. Returns the new priority."""
    for _ in range(4):
        conv, clocks, version = conversations.get_clocks(deadline.conversation_id)
        if clocks is None:
            return None
        clocks.on_breach(deadline.target, clock.now())    # type: ignore[arg-type]
        raised = ESCALATION[conv.priority]
        extra = Update()
        if raised is not conv.priority:
            book.rebind(clocks, conv.channel, conv.team, raised)
            extra.set("priority", raised.value)
            if conv.assignee is None and conv.waiting_since is not None:
                extra.set("QueueSK", f"{raised.rank}#{clock.iso(conv.waiting_since)}#{conv.id}")
        try:
            conversations.save_clocks(conv.id, clocks, version, extra=extra)
        except ClockConflict:
            continue
        if conv.assignee and book.routing().reassign_on_breach:
            note = system_message(conv.id, f"{TARGET_NAMES.get(deadline.target, deadline.target)} target missed: "
                                           f"taken from {conv.assignee} for the next agent")
            conversations.release(conv, conv.assignee, note, pass_over=True)
        return raised.value if raised is not conv.priority else None
    return None
