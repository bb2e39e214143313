"""Assignment: waiting conversations go to online agents with free capacity, least loaded first.

The capacity invariant (active < capacity) is held by DynamoDB conditions, not by this code, so
any number of routers may run at once. This module only decides the order in which to try.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_lambda_powertools import Logger

from shopdesk import clock
from shopdesk.dal.agents import Agents
from shopdesk.dal.conversations import AgentUnavailable, Conversations, NotWaiting
from shopdesk.logic import sla_engine
from shopdesk.logic.sla_engine import PolicyBook
from shopdesk.logic.timeline import system_message
from shopdesk.logic.work import DrainWork, InboundWork
from shopdesk.models import Agent, ConversationStatus

logger = Logger(child=True)

MAX_PER_DRAIN = 100


@dataclass(frozen=True)
class Assignment:
    conversation_id: str
    agent_id: str


def _next_agent(pool: list[Agent]) -> Agent:
    """Least loaded; among equals the one who waited longest for a conversation (round robin)."""
    return min(pool, key=lambda a: (a.active, a.last_assigned_at or "", a.id))


def drain(team: str, conversations: Conversations, agents: Agents) -> list[Assignment]:
    """Assign waiting conversations of a team, most urgent then oldest first, while capacity lasts."""
    pool = [a for a in agents.online(team) if a.free > 0]
    if not pool:
        return []
    waiting, _ = conversations.list_queue(team, limit=min(sum(a.free for a in pool), MAX_PER_DRAIN))
    done: list[Assignment] = []
    for conv in waiting:
        while pool:
            agent = _next_agent(pool)
            note = system_message(conv.id, f"Assigned to {agent.name or agent.id}")
            try:
                conversations.assign(conv, agent, note)
            except AgentUnavailable:
                pool.remove(agent)            # full or gone offline since we looked
                continue
            except NotWaiting:
                break                         # someone else took it, or it was closed
            agent.active += 1
            agent.last_assigned_at = note.created_at.isoformat()
            if agent.free == 0:
                pool.remove(agent)
            done.append(Assignment(conv.id, agent.id))
            break
        if not pool:
            break
    if done:
        logger.info("assigned waiting conversations", extra={"team": team, "assigned": len(done)})
    return done


def route(work: InboundWork | DrainWork, conversations: Conversations, agents: Agents,
          book: PolicyBook | None = None) -> list[Assignment]:
    if isinstance(work, InboundWork):
        if book is not None and not work.new_conversation and not work.auto_reply and work.message_sk:
            # the customer wrote again: first response / next response / resolution clocks move on
            written = clock.parse_iso(work.message_sk.split("#")[1])
            sla_engine.apply(conversations, work.conversation_id, sla_engine.customer_wrote(written), book)
        conv = conversations.get_meta(work.conversation_id)
        if conv.status is ConversationStatus.OPEN and conv.assignee is None and conv.waiting_since is None:
            conversations.ensure_queued(conv)   # e.g. a pending conversation the customer answered
    return drain(work.team, conversations, agents)
