"""SLA sweep: warn at the configured fraction of every target, flag each passed deadline exactly once,
escalate, announce, and re-drive waiting work.

Each warning and breach is flagged with an announcement item of its own in the Due index (an outbox), which holds
its events as that sweep made them (when it was detected, the priority a breach escalated to). The events go to
the bus and the alert topic first, then the items are deleted: a sweep that fails between leaves them for the next
one, which announces them as they were and counts them (the report's ``breached`` and ``warned`` count what was
announced, once it was): at least once, and consumers dedupe on conversation id + target + due time.

Reads only the sparse, sharded Due index, one key-range Query per shard: never a Scan. A deadline
is in the index under the time of its next action (warning, then due), so every item read is due.
Conversations with something due are read 25 to a BatchGetItem and written as many to a
TransactWriteItems as its 100 operations allow, in parallel; events and alerts go out ten per
request. Work the time limit does not allow stays in the index and is the first the next sweep sees.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import TypeVar

from aws_lambda_powertools import Logger

from shopdesk import clock, metrics
from shopdesk.dal.agents import Agents
from shopdesk.dal.alerts import AlertTopic
from shopdesk.dal.aws import client
from shopdesk.dal.conversations import ClockRead, Conversations, Deadline, Later, SlaFlag
from shopdesk.dal.events import EventBus
from shopdesk.dal.queues import Queue
from shopdesk.errors import NotFound
from shopdesk.logic import timeline
from shopdesk.logic.access import agent_names
from shopdesk.logic.breach_risk import RiskSettings, refresh
from shopdesk.logic.breach_risk import announce as announce_risks
from shopdesk.logic.sla_engine import ESCALATION, PolicyBook
from shopdesk.logic.snooze import SNOOZE_TIMER, wake
from shopdesk.logic.stuck import STUCK_AFTER, never_taken_up
from shopdesk.logic.work import Unsent, count_not_sent, enqueue_drain, send_inbound, send_outbound
from shopdesk.models import Conversation

logger = Logger(child=True)

BREACH_DETAIL_TYPE = "SlaBreached"
WARNING_DETAIL_TYPE = "SlaWarning"
T = TypeVar("T")


@dataclass(frozen=True)
class SweepReport:
    due: int
    breached: int              # breaches announced (flagged by this sweep, or owed by one that failed to announce)
    events: int
    warned: int = 0            # warnings announced, likewise
    released: int = 0          # conversations taken back by routing timers
    deferred: int = 0          # conversations left for the next sweep (time budget, or busy meanwhile)
    rerouted: int = 0          # customers' messages whose routing work was lost and is sent again
    at_risk: int = 0           # risk warnings announced (raised now, or owed by a sweep that failed to announce)
    requeued: int = 0          # replies stored but never taken up, queued again for the dispatcher


@dataclass(frozen=True)
class _Flagged:
    """What the sweep did to one conversation."""
    breached: list[Deadline] = field(default_factory=list)       # flagged now: announce, then finish
    warned: list[Deadline] = field(default_factory=list)
    again: list[Deadline] = field(default_factory=list)          # flagged earlier, announcement still owed
    deferred: bool = False


RESERVE_SECONDS = 10.0         # kept back from the time limit to announce what was flagged
WORKERS = 8                    # chunks in flight: enough to overlap DynamoDB's latency; more only adds GIL churn
ALERTS_PER_SWEEP = 50          # SNS alerts for people per sweep; the rest in one summary (events carry all)
READ_BATCH = 25                # conversations read with one BatchGetItem and written together
REROUTE_AFTER_SECONDS = 300    # a re-sent routing work is looked at again after this, until the router confirms it
# a reply queued again is looked at again after this, until a delivery takes it up: the outbound queue's deduplication
# window, so a copy the queue keeps is one a delivery has had five minutes to take
REQUEUE_AFTER_SECONDS = 300


def sweep(conversations: Conversations, bus: EventBus, work: Queue, shards: int, *,
          alerts: AlertTopic | None = None, book: PolicyBook | None = None, agents: Agents | None = None,
          workers: int = WORKERS, time_left: Callable[[], float] | None = None,
          risk: RiskSettings | None = None,
          on_timer: Mapping[str, Callable[[str], object]] | None = None,
          outbound: Queue | None = None) -> SweepReport:
    """One pass over everything due, in parallel chunks of 25 conversations; when ``time_left()``
    (seconds) runs low the rest stays in the index for the next sweep. ``outbound``: the outbound queue, where
    replies stored but never taken up are queued again (``requeue_replies``); without it they stay due."""
    now = clock.now()
    now_iso = clock.iso(now)
    client("dynamodb")                 # one client for every thread below
    with ThreadPoolExecutor(max_workers=min(workers, shards)) as pool:
        found = [d for batch in pool.map(lambda s: conversations.due_deadlines(s, now_iso), range(shards))
                 for d in batch]
    timers = [d for d in found if d.kind == "timer"]
    unrouted = [d for d in found if d.kind == "marker"]
    rerouted = resend_unrouted(conversations, work, unrouted, workers=workers, time_left=time_left) if unrouted else 0
    replies = [d for d in found if d.kind == "reply"]
    requeued = (requeue_replies(conversations, outbound, replies, workers=workers, time_left=time_left)
                if replies and outbound is not None else 0)
    risks = [d for d in found if d.announce == "risk"]      # risk warnings a sweep recorded but could not announce
    by_conversation: dict[str, list[Deadline]] = defaultdict(list)
    for d in sorted((d for d in found if d.kind not in ("timer", "marker", "reply") and d.announce != "risk"),
                    key=lambda d: d.due_sk):  # oldest first
        by_conversation[d.conversation_id].append(d)
    released, timers_run, late = _run_timers(conversations, agents, timers, workers, book, bus, on_timer,
                                             time_left, now) if timers else (0, [], 0)

    def step(chunk: list[list[Deadline]]) -> list[_Flagged]:
        if time_left is not None and time_left() < RESERVE_SECONDS:
            return [_Flagged(deferred=True) for _ in chunk]
        return _flag_chunk(conversations, book, chunk, now)

    groups = list(by_conversation.values())
    chunks = [groups[i:i + READ_BATCH] for i in range(0, len(groups), READ_BATCH)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        flagged = [f for done in pool.map(step, chunks) for f in done]
    owed = [d for f in flagged for d in (*f.breached, *f.warned, *f.again)]
    breached = [d for d in owed if d.announce == "breach"]
    warned = [d for d in owed if d.announce == "warning"]

    def detail(d: Deadline, kind: str) -> dict[str, object]:
        return {"kind": kind, "conversation_id": d.conversation_id, "target": d.target, "due_at": d.due_at,
                "detected_at": d.detected_at or now_iso,
                **({"escalated_to": d.escalated_to} if kind == "breach" and d.escalated_to else {})}

    events = [(BREACH_DETAIL_TYPE, detail(d, "breach")) for d in breached] + \
             [(WARNING_DETAIL_TYPE, detail(d, "warning")) for d in warned]
    _announce(bus, alerts, events, workers)
    _in_parallel(conversations.finish_deadlines, breached + warned, 25, workers)

    unfinished: list[Deadline] = []

    def finish(run: list[Deadline]) -> None:
        for timer in run:
            try:
                conversations.finish_timer(timer)
            except Exception as exc:        # as a run that raised: due again later, counted; the sweep goes on
                _left_due(conversations, timer, exc, now, "timer not finished: left due for the next sweep")
                unfinished.append(timer)

    _in_parallel(finish, timers_run, 5, workers)
    if unfinished:
        metrics.count(FAILED_METRIC, len(unfinished))
    teams = sorted(book.teams() if book else {"default"})
    _drain(work, teams)
    at_risk = announce_risks(conversations, bus, risks) if risks else 0     # counted once they went out
    if risk is not None and agents is not None and (time_left is None or time_left() >= RESERVE_SECONDS):
        at_risk += sum(len(r.raised) for r in refresh(conversations, agents, book, bus, teams, risk))
    report = SweepReport(due=len(found) - len(timers) - len(unrouted) - len(risks) - len(replies),
                         breached=len(breached), events=len(events),
                         warned=len(warned), released=released, deferred=sum(f.deferred for f in flagged) + late,
                         rerouted=rerouted, at_risk=at_risk, requeued=requeued)
    if found:
        logger.info("sla sweep", extra=asdict(report))
    return report


def resend_unrouted(conversations: Conversations, work: Queue, markers: list[Deadline], *, workers: int = WORKERS,
                    time_left: Callable[[], float] | None = None) -> int:
    """Customers' messages stored but never confirmed by the router (the send to the work queue was lost
    after the ingest transaction, or the router is far behind): their work goes to the queue again, and the
    marker is looked at again in five minutes, until the router confirms it. In parallel chunks, like the
    flagging; when ``time_left()`` runs low the rest stays due for the next sweep (a backlog of hundreds, the
    router behind under a burst, must not take the sweep past its time limit). Each marker on its own: one the
    queue refuses stays due as it was, for the next sweep, and is counted (``count_not_sent``, which pages), and
    the sweep goes on with the rest and with its other work (an SQS outage must not stop the breaches and the
    timers). Returns how many went."""
    again = clock.iso(clock.now() + timedelta(seconds=REROUTE_AFTER_SECONDS))

    def resend(chunk: list[Deadline]) -> tuple[list[Deadline], list[tuple[Deadline, Exception]]] | None:
        """The markers whose work went again, and those the queue refused; None when there was no time for
        the chunk."""
        if time_left is not None and time_left() < RESERVE_SECONDS:
            return None
        sent, refused = [], []
        for marker in (m for m in chunk if m.work):
            try:
                send_inbound(work, json.loads(marker.work or ""))
            except Exception as exc:
                refused.append((marker, exc))
                continue
            conversations.reschedule_routing(marker, again)
            sent.append(marker)
        return sent, refused

    chunks = [markers[i:i + READ_BATCH] for i in range(0, len(markers), READ_BATCH)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        done = list(pool.map(resend, chunks))
    sent = [m for chunk in done if chunk for m in chunk[0]]
    refused = [r for chunk in done if chunk for r in chunk[1]]
    if sent:
        logger.warning("routing work re-sent", extra={"messages": len(sent),
                                                       "conversations": sorted({m.conversation_id for m in sent})})
    if refused:
        kinds = Counter(str(json.loads(m.work or "{}").get("kind")) for m, _ in refused)
        error = refused[0][1]
        logger.warning("routing work not re-sent: left due for the next sweep", extra={
            "messages": len(refused), "conversations": sorted({m.conversation_id for m, _ in refused})[:100],
            "error_type": type(error).__name__, "error": str(error)})
        for kind, n in sorted(kinds.items()):
            count_not_sent(kind, n)
    if None in done:
        logger.warning("routing work left for the next sweep",
                       extra={"messages": sum(len(c) for c, d in zip(chunks, done, strict=True) if d is None)})
    return len(sent)


def requeue_replies(conversations: Conversations, outbound: Queue, rows: list[Deadline], *, workers: int = WORKERS,
                    time_left: Callable[[], float] | None = None) -> int:
    """Replies (a person's, a template, a macro's, a Send again) stored with the Due index's keys
    (``Conversations._unqueued``) that no delivery took up ``REPLY_GRACE_SECONDS`` after: their function may have
    stopped between the transaction that stores them and their send to the outbound queue. Each is read again (one
    GetItem: the index lags) and, still never taken up (``never_taken_up``), queued as its first request queued it
    (``send_outbound``: the same deduplication id, so the queue drops a copy within five minutes), then looked at again
    in ``REQUEUE_AFTER_SECONDS``. One queued already and waiting (a backlog, its conversation's queue held behind a
    reply being retried) is sent once all the same: the queue is FIFO per conversation, so the copy is delivered after
    the first record is done, and the dispatcher skips a reply sent or failed and records its intent before every
    send. One taken up meanwhile, held by its customer's erase (the erase deletes it; one that fails for good leaves it
    for a person to send again, as the dispatcher does), or older than ``STUCK_AFTER`` (the inbox says it is stuck,
    for a person to send again), leaves the index. One the queue refuses stays due as it was, for the next sweep, and
    is counted (``count_not_sent``, which pages). In parallel chunks; when ``time_left()`` runs low the rest stays due
    for the next sweep. Returns how many went."""
    now = clock.now()
    again = clock.iso(now + timedelta(seconds=REQUEUE_AFTER_SECONDS))

    def requeue(chunk: list[Deadline]) -> tuple[list[Deadline], list[tuple[Deadline, Exception]]] | None:
        if time_left is not None and time_left() < RESERVE_SECONDS:
            return None
        sent, refused = [], []
        for row in chunk:
            found = conversations.reply_to_requeue(row)
            if found is None:
                continue                 # gone (erased): its keys went with it
            message, held = found
            if held or not never_taken_up(message) or now - message.created_at >= STUCK_AFTER:
                conversations.leave_requeue(row)
                continue
            try:
                send_outbound(outbound, row.conversation_id, row.sk)
            except Unsent as exc:
                refused.append((row, exc))
                continue
            conversations.requeue_later(row, again)
            sent.append(row)
        return sent, refused

    chunks = [rows[i:i + READ_BATCH] for i in range(0, len(rows), READ_BATCH)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        done = list(pool.map(requeue, chunks))
    sent = [r for chunk in done if chunk for r in chunk[0]]
    refused = [r for chunk in done if chunk for r in chunk[1]]
    if sent:
        logger.warning("replies never taken up queued again", extra={
            "messages": len(sent), "conversations": sorted({r.conversation_id for r in sent})[:100]})
    if refused:
        error = refused[0][1].__cause__ or refused[0][1]
        logger.warning("replies not queued again: left due for the next sweep", extra={
            "messages": len(refused), "conversations": sorted({r.conversation_id for r, _ in refused})[:100],
            "error_type": type(error).__name__, "error": str(error)})
        count_not_sent("reply", len(refused))
    if None in done:
        logger.warning("replies left for the next sweep",
                       extra={"messages": sum(len(c) for c, d in zip(chunks, done, strict=True) if d is None)})
    return len(sent)


def _drain(work: Queue, teams: list[str]) -> None:
    """Every team's waiting conversations assigned (self-healing, and those timers released). A drain the queue
    refuses is counted (``count_not_sent``, which pages) and the sweep goes on: the next one sends every team's
    drain again."""
    refused: list[str] = []
    for team in teams:
        try:
            enqueue_drain(work, team, "sweep")
        except Exception:
            logger.warning("drain not sent: the next sweep sends it", exc_info=not refused, extra={"team": team})
            refused.append(team)
    if refused:
        count_not_sent("drain", len(refused))


@dataclass(frozen=True)
class _Plan:
    flag: SlaFlag
    rows: list[Deadline]
    again: list[Deadline]


def _flag_chunk(conversations: Conversations, book: PolicyBook | None, chunk: list[list[Deadline]],
                now: datetime) -> list[_Flagged]:
    """Up to 25 conversations: one BatchGetItem, then their flags in as few transactions as fit; a
    conversation that changed meanwhile is done again on its own."""
    reads = conversations.read_clocks_many([rows[0].conversation_id for rows in chunk])
    planned = [_plan(conversations, book, rows, reads.get(rows[0].conversation_id), now) for rows in chunk]
    written = conversations.flag_deadlines([p.flag for p in planned if isinstance(p, _Plan)])
    outcomes = []
    for p in planned:
        if isinstance(p, _Flagged):
            outcomes.append(p)                                          # nothing to write
        elif (announced := written.get(p.flag.read.conversation.id)) is None:
            outcomes.append(_flag_conversation(conversations, book, p.rows, now))   # changed meanwhile
        else:
            outcomes.append(_flagged(conversations, book, p, announced))
    return outcomes


def _flag_conversation(conversations: Conversations, book: PolicyBook | None, rows: list[Deadline],
                       now: datetime) -> _Flagged:
    """One conversation on its own, reading it again while other events keep changing it."""
    for _ in range(4):
        try:
            read = conversations.read_clocks(rows[0].conversation_id)
        except NotFound:
            read = None
        plan = _plan(conversations, book, rows, read, now)
        if isinstance(plan, _Flagged):
            return plan
        announced = conversations.flag_deadlines([plan.flag]).get(plan.flag.read.conversation.id)
        if announced is not None:
            return _flagged(conversations, book, plan, announced)
    return _Flagged(again=[d for d in rows if d.announce], deferred=True)   # the next sweep tries again


def _plan(conversations: Conversations, book: PolicyBook | None, rows: list[Deadline], read: ClockRead | None,
          now: datetime) -> _Plan | _Flagged:
    """What is due on one conversation, judged from its clocks (the index row only says "look here"):
    warnings, breaches, and the escalation a breach brings (priority one level up, stricter targets)."""
    again = [d for d in rows if d.announce]     # flagged earlier; the announcement did not go out
    if len(again) == len(rows) or read is None:
        return _Flagged(again=again)
    if read.clocks is None:
        return _flag_without_clocks(conversations, [d for d in rows if not d.announce], now, again)
    conv, clocks = read.conversation, read.clocks
    breached: dict[str, str] = {}
    warned: dict[str, str] = {}
    for d in clocks.deadlines():
        due = clock.iso(d.due_at)
        if d.due_at <= now:
            if read.done.get(d.target) != due:
                breached[d.target] = due
        elif d.warn_at is not None and d.warn_at <= now and read.warned.get(d.target) != due:
            warned[d.target] = due
    if not breached and not warned:
        return _Flagged(again=again)      # answered, paused or moved since the index row was written
    for target in breached:
        clocks.on_breach(target, now)
    raised = None
    if breached and book is not None and ESCALATION[conv.priority] is not conv.priority:
        raised = ESCALATION[conv.priority]
        book.rebind(clocks, conv.channel, conv.team, raised)
    notes = [timeline.sla_missed(conv.id, t, due) for t, due in breached.items()] + \
            [timeline.sla_warning(conv.id, t, due) for t, due in warned.items()]
    return _Plan(SlaFlag(read, clocks, breached, warned, notes, raised), rows, again)


def _flagged(conversations: Conversations, book: PolicyBook | None, plan: _Plan,
             announced: list[Deadline]) -> _Flagged:
    """After the write: the optional reassignment on breach, and what to announce (the announcements written)."""
    flag, conv = plan.flag, plan.flag.read.conversation
    if flag.breached and conv.assignee and book is not None and book.routing().reassign_on_breach:
        names = agent_names(Agents(conversations.table), None, conv.assignee)     # the one it is taken from: GetItem
        note = timeline.sla_missed_reassigned(conv.id, next(iter(flag.breached)), conv.assignee, names)
        conversations.release(conv, conv.assignee, note, pass_over=True)
    return _Flagged(breached=[a for a in announced if a.announce == "breach"],
                    warned=[a for a in announced if a.announce == "warning"], again=plan.again)


def _flag_without_clocks(conversations: Conversations, rows: list[Deadline], now: datetime,
                         again: list[Deadline]) -> _Flagged:
    """Conversations from before the SLA engine: a first-response deadline with nothing to escalate."""
    now_iso = clock.iso(now)
    breached, warned = [], []
    for d in rows:
        if d.due_at <= now_iso:
            if conversations.flag_breach(d, timeline.sla_missed(d.conversation_id, d.target, d.due_at)):
                breached.append(replace(d, announce="breach", detected_at=now_iso))    # the row is its announcement
        elif d.state == "pending" and d.warn_at and d.warn_at <= now_iso:
            note = timeline.sla_warning(d.conversation_id, d.target, d.due_at)
            if (announcement := conversations.flag_warning(d, note)) is not None:
                warned.append(announcement)
    return _Flagged(breached=breached, warned=warned, again=again)


def _announce(bus: EventBus, alerts: AlertTopic | None, events: list[tuple[str, dict[str, object]]],
              workers: int) -> None:
    """Every event on the bus; alerts for people on the topic, one per event up to ``ALERTS_PER_SWEEP``
    and then one summary of the rest (a pager gets 50 messages, not 10,000). Ten per request, requests
    in parallel."""
    _in_parallel(bus.publish, events, 10, workers)
    if alerts is None or not events:
        return
    single = events if len(events) <= ALERTS_PER_SWEEP else events[:ALERTS_PER_SWEEP - 1]
    messages = [(f"SLA {'breach' if t == BREACH_DETAIL_TYPE else 'warning'}: "
                 f"{timeline.target_name(str(e['target']))} of {e['conversation_id']}", e) for t, e in single]
    rest = events[len(single):]
    if rest:
        counts = Counter(f"{e['kind']}:{e['target']}" for _, e in rest)
        breaches = sum(n for key, n in counts.items() if key.startswith("breach:"))
        messages.append((f"SLA: {breaches} more breaches and {len(rest) - breaches} more warnings",
                         {"kind": "summary", "detected_at": rest[0][1]["detected_at"], "more": len(rest),
                          "by_kind_and_target": dict(sorted(counts.items())),
                          "conversation_ids": sorted({str(e["conversation_id"]) for _, e in rest})[:500]}))
    _in_parallel(alerts.publish, messages, 10, workers)


def _in_parallel(action: Callable[[list[T]], None], items: list[T], size: int, workers: int) -> None:
    chunks = [items[i:i + size] for i in range(0, len(items), size)]
    if len(chunks) <= 1:
        for chunk in chunks:
            action(chunk)
        return
    with ThreadPoolExecutor(max_workers=min(workers, len(chunks))) as pool:
        list(pool.map(action, chunks))      # list(): the first failure is raised here


# the timers this module runs itself; any other needs its runner in ``on_timer``
BUILT_IN_TIMERS = frozenset({"assignee_silence", "agent_offline", SNOOZE_TIMER, "bot_resolve"})
NO_RUNNER = -1                          # a timer nothing here runs: left due, counted in NO_RUNNER_METRIC
NO_RUNNER_METRIC = "TimersWithoutRunner"
FAILED = -2                             # a timer whose run raised: due again later, counted in FAILED_METRIC
FAILED_METRIC = "TimersFailed"
RETRY_MAX_MINUTES = 60                  # a failing timer runs again after 1, 2, 4 ... minutes, never more than this
RETRY_EARLY = timedelta(seconds=10)     # counted from the sweep's start, less this: the sweep that many minutes
                                        # later finds it due even when it starts a little early


def retry_delay(failures: int) -> timedelta:
    """How long a timer whose run raised for the ``failures``-th time in a row waits before its next run: 1, 2, 4,
    8, 16, 32 minutes, then 60 for as long as it keeps failing."""
    return timedelta(minutes=min(2 ** min(max(failures, 1) - 1, 6), RETRY_MAX_MINUTES))


def _left_due(conversations: Conversations, timer: Deadline, exc: Exception, started: datetime, message: str) -> None:
    """A timer whose run raised, or whose finish after its run did (``message`` says which): logged, and due again
    ``retry_delay`` after the sweep's ``started`` (less ``RETRY_EARLY``) with its failures counted on the item
    (``Conversations.retry_timer``); the caller counts it in ``FAILED_METRIC``. DynamoDB refusing that write too
    leaves it due as it was, for the next sweep."""
    again = clock.iso(started + retry_delay(timer.failures + 1) - RETRY_EARLY)
    logger.warning(message, exc_info=True, extra={
        "target": timer.target, "conversation_id": timer.conversation_id, "error_type": type(exc).__name__,
        "failures": timer.failures + 1, "due_again_at": again})
    try:
        conversations.retry_timer(timer, again)
    except Exception:
        logger.warning("failed timer not moved", exc_info=True, extra={
            "target": timer.target, "conversation_id": timer.conversation_id})


def answered_since_assigned(conv: Conversation) -> bool:
    """A reply was written since the conversation was last assigned: its assignee's silence timer releases nothing.
    A reply leaves the timer in place (one write fewer a reply); the release is conditioned on the same. The reply's
    write time (``replied_at``) counts, not its ``created_at``: a reply stamped before the router's assignment and
    written after it answers that assignment. Items written before it have ``last_outbound_at`` only."""
    replied = conv.replied_at or conv.last_outbound_at
    return replied is not None and conv.assigned_at is not None and replied >= conv.assigned_at


def _run_timers(conversations: Conversations, agents: Agents | None, timers: list[Deadline], workers: int,
                book: PolicyBook | None = None, bus: EventBus | None = None,
                on_timer: Mapping[str, Callable[[str], object]] | None = None,
                time_left: Callable[[], float] | None = None,
                started: datetime | None = None) -> tuple[int, list[Deadline], int]:
    """Routing timers: an assignee silent too long loses the conversation to the next agent; an
    agent offline past the grace period gives their open conversations back to the queue; a snooze
    that ends opens its conversation again (logic.snooze); a bot answer the customer did not come back
    to resolves its conversation (shopdesk.bot.converse); ``on_timer`` runs the timers other capabilities set,
    by name, with the conversation's id (a delayed satisfaction survey: ``shopdesk.csat.survey``); one that answers
    ``Later`` is moved to then. A run timer is finished only if it was not set again while it ran.
    Each timer on its own: one whose run raises (SQS or the bus refusing a runner's send in an outage, DynamoDB
    past its retries) is logged and counted at every failure (``TimersFailed``, which pages: template.yaml,
    ``TimersFailedAlarm``) and stays due, moved back by ``retry_delay`` (1, 2, 4 ... up to 60 minutes from the
    sweep's ``started``, less ``RETRY_EARLY``) with its failures counted on the item in that one write
    (``Conversations.retry_timer``), so a timer that keeps failing does not call a failing dependency every minute;
    a run that succeeds writes nothing more than the finish (``sweep``; a finish the table refuses is a failed run too:
    ``_left_due``, and the timer runs again, which every runner takes harmlessly). The other timers, the breaches and
    the drains go on.
    Returns the conversations released, the timers run (to be finished) and how many were left due for the next
    sweep because ``time_left()`` ran low."""
    def run(timer: Deadline) -> int | None:
        if time_left is not None and time_left() < RESERVE_SECONDS:
            return None                     # still due: the next sweep runs it
        try:
            return run_one(timer)
        except Exception as exc:
            _left_due(conversations, timer, exc, started or clock.now(), "timer failed: left due for the next sweep")
            return FAILED

    def run_one(timer: Deadline) -> int:
        released = 0
        if timer.target == "assignee_silence" and timer.agent_id:
            conv = conversations.get_meta(timer.conversation_id)
            if conv.assignee == timer.agent_id and not answered_since_assigned(conv):
                names = agent_names(agents, None, timer.agent_id)     # the silent assignee: one GetItem
                note = timeline.assignee_silent(conv.id, timer.agent_id, names)
                released += conversations.release(conv, timer.agent_id, note, pass_over=True)
        elif timer.target == "agent_offline" and agents is not None:
            agent_id = timer.conversation_id
            agent = agents.get(agent_id)
            if agent is None or agent.presence.value != "offline":
                return 0
            held, _ = conversations.list_inbox(agent_id, "open", 100, None)
            for conv in held:
                note = timeline.agent_offline(conv.id, agent_id, agent.name)
                released += conversations.release(conv, agent_id, note, pass_over=False)
        elif timer.target == SNOOZE_TIMER:
            wake(conversations, book, timer.conversation_id)
        elif timer.target == "bot_resolve":
            from shopdesk.bot.resolve import resolve_silent  # only a sweep with bot timers loads the bot
            from shopdesk.dal.bot import BotStore
            from shopdesk.dal.customers import Customers

            resolve_silent(conversations, Customers(conversations.table), BotStore(conversations.table), book,
                           timer.conversation_id, bus)
        elif on_timer and timer.target in on_timer:
            answer = on_timer[timer.target](timer.conversation_id)
            if isinstance(answer, Later):
                conversations.move_timer(timer, answer.due_at)
        elif timer.target not in BUILT_IN_TIMERS:
            # nothing here runs it (a function deployed without the setting that adds its runner): an error an
            # operator is paged for, and the timer stays due, so it runs once the runner is there
            logger.error("timer with no runner left due", extra={"target": timer.target,
                                                                 "conversation_id": timer.conversation_id})
            metrics.count(NO_RUNNER_METRIC)
            return NO_RUNNER
        return released

    with ThreadPoolExecutor(max_workers=min(workers, len(timers))) as pool:
        results = list(pool.map(run, timers))
    ran = [t for t, r in zip(timers, results, strict=True) if r is not None and r >= 0]
    late = sum(1 for r in results if r is None)
    if failed := sum(1 for r in results if r == FAILED):
        metrics.count(FAILED_METRIC, failed)
    return sum(r for r in results if r is not None and r >= 0), ran, late
