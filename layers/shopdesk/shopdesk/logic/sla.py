"""SLA sweep: flag every passed deadline exactly once, announce it, and re-drive waiting work.

Reads only the sparse, sharded Due index, one key-range Query per shard: never a Scan.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from aws_lambda_powertools import Logger

from shopdesk import clock
from shopdesk.dal.conversations import Conversations, Deadline
from shopdesk.dal.events import EventBus
from shopdesk.dal.queues import Queue
from shopdesk.logic.timeline import system_message
from shopdesk.logic.work import enqueue_drain

logger = Logger(child=True)

BREACH_DETAIL_TYPE = "SlaBreached"
TARGET_NAMES = {"first_response": "First response"}


@dataclass(frozen=True)
class SweepReport:
    due: int
    breached: int
    events: int


def sweep(conversations: Conversations, bus: EventBus, work: Queue, shards: int, workers: int = 16) -> SweepReport:
    now = clock.now_iso()
    with ThreadPoolExecutor(max_workers=min(workers, shards)) as pool:
        due = [d for batch in pool.map(lambda s: conversations.due_deadlines(s, now), range(shards)) for d in batch]

    def flag(deadline: Deadline) -> bool:
        if deadline.state != "pending":
            return True               # flagged by an earlier sweep whose event did not go out
        name = TARGET_NAMES.get(deadline.target, deadline.target)
        note = system_message(deadline.conversation_id, f"{name} target missed (due {deadline.due_at})")
        return conversations.flag_breach(deadline, note)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        flagged = [d for d, ok in zip(due, pool.map(flag, due), strict=True) if ok]
    newly = sum(1 for d in flagged if d.state == "pending")
    bus.publish([(BREACH_DETAIL_TYPE, {"conversation_id": d.conversation_id, "target": d.target,
                                       "due_at": d.due_at, "detected_at": now}) for d in flagged])
    conversations.finish_deadlines(flagged)
    enqueue_drain(work, "default", "sweep")   # self-healing: waiting work is retried every minute
    if due:
        logger.info("sla sweep", extra={"due": len(due), "breached": newly, "events": len(flagged)})
    return SweepReport(due=len(due), breached=newly, events=len(flagged))
