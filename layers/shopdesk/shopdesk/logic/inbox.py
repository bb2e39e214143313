"""What agents do from the inbox: list, read, reply, note, assign, change status, set presence."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from shopdesk import clock
from shopdesk.dal import items as it
from shopdesk.dal.agents import Agents
from shopdesk.dal.conversations import Conversations
from shopdesk.dal.queues import Queue
from shopdesk.dal.table import decode_cursor, encode_cursor
from shopdesk.errors import BadRequest, Conflict, NotFound, ShopdeskError
from shopdesk.ids import new_id
from shopdesk.logic.timeline import system_message
from shopdesk.logic.work import enqueue_drain
from shopdesk.models import Agent, Conversation, ConversationStatus, Direction, Message, Presence, Priority

View = Literal["mine", "unassigned", "all"]


class QueueUnavailable(ShopdeskError):
    """The outbound queue refused the reply; it is marked failed so the agent can send it again."""


@dataclass
class Inbox:
    conversations: Conversations
    agents: Agents
    work: Queue
    outbound: Queue
    first_response_targets: dict[Priority, int]
    default_capacity: int

    # ------------------------------------------------------------------ reading
    def list(self, agent_id: str, view: View, status: ConversationStatus | None, limit: int,
             cursor: str | None) -> tuple[list[Conversation], str | None]:
        try:
            if view == "mine":
                return self.conversations.list_inbox(agent_id, status.value if status else None, limit, cursor)
            if view == "unassigned":
                if status not in (None, ConversationStatus.OPEN):
                    return [], None      # only open conversations wait for an agent
                return self.conversations.list_queue("default", limit, cursor)
            if status is not None:
                return self.conversations.list_by_status(status.value, limit, cursor)
            return self._list_all_statuses(limit, cursor)
        except ValueError as exc:       # a cursor that is not ours
            raise BadRequest(str(exc)) from exc

    def _list_all_statuses(self, limit: int, cursor: str | None) -> tuple[list[Conversation], str | None]:
        """Every status, newest activity first: one Query per status, merged.

        The cursor carries each status's own position, so paging never skips or repeats."""
        positions = decode_cursor(cursor) if cursor else {s.value: None for s in ConversationStatus}
        merged: list[tuple[str, Conversation]] = []
        ends: dict[str, str | None] = {}
        for status, position in positions.items():
            if status not in ConversationStatus.__members__.values():
                raise BadRequest("cursor is not valid")
            page, end = self.conversations.list_by_status(
                status, limit, encode_cursor(position) if isinstance(position, dict) else None)
            merged.extend((status, c) for c in page)
            ends[status] = end
        merged.sort(key=lambda pair: pair[1].updated_at, reverse=True)
        taken = merged[:limit]
        # Resume each status after the last item of it we returned; statuses we did not reach stay put.
        next_positions: dict[str, object] = {}
        for status, position in positions.items():
            returned = [c for s, c in taken if s == status]
            fetched = [c for s, c in merged if s == status]
            if len(returned) < len(fetched):
                last = returned[-1] if returned else None
                next_positions[status] = (_status_key(last) if last else position)
            elif ends[status]:
                next_positions[status] = decode_cursor(ends[status])
        return [c for _, c in taken], encode_cursor(next_positions) if next_positions else None

    def get(self, conversation_id: str) -> Conversation:
        return self.conversations.get_with_messages(conversation_id)

    # ------------------------------------------------------------------ writing
    def reply(self, conversation_id: str, agent_id: str, text: str) -> Message:
        conv = self.conversations.get_meta(conversation_id)
        message = Message(id=new_id("m_"), conversation_id=conv.id, direction=Direction.OUTBOUND,
                          channel=conv.route.channel, text=text, status="queued", created_at=clock.now(),
                          author=agent_id, to=conv.route.to, sender=conv.route.sender)
        self.conversations.add_outbound(conv, message)
        try:
            self.outbound.send({"conversation_id": conv.id, "message_id": message.id,
                                "message_sk": it.message_sk(message)}, group=conv.id, dedup_id=message.id)
        except Exception as exc:
            self.conversations.record_attempt(
                conv.id, it.message_sk(message), attempts=0, failed=True,
                error={"code": None, "message": "The reply could not be queued for sending; send it again"})
            raise QueueUnavailable("the reply could not be queued; it is marked failed") from exc
        return message

    def note(self, conversation_id: str, agent_id: str, text: str) -> Message:
        conv = self.conversations.get_meta(conversation_id)
        message = Message(id=new_id("m_"), conversation_id=conv.id, direction=Direction.NOTE, text=text,
                          created_at=clock.now(), author=agent_id)
        self.conversations.add_message(message)
        return message

    def assign(self, conversation_id: str, to_agent: str, by_agent: str) -> Conversation:
        conv = self.conversations.get_meta(conversation_id)
        if conv.assignee == to_agent:
            return conv
        if conv.status is ConversationStatus.RESOLVED:
            raise Conflict("a resolved conversation cannot be assigned; reopen it first")
        target = self.agents.get(to_agent)
        if target is None:
            raise NotFound(f"agent {to_agent} does not exist")
        previous = conv.assignee
        text = (f"Transferred from {previous} to {to_agent} by {by_agent}" if previous
                else f"Assigned to {to_agent} by {by_agent}")
        self.conversations.transfer(conv, to_agent, system_message(conv.id, text, author=by_agent))
        if previous:
            enqueue_drain(self.work, conv.team, "transfer")
        return self.conversations.get_meta(conversation_id)

    def set_status(self, conversation_id: str, status: ConversationStatus, by_agent: str) -> Conversation:
        conv = self.conversations.get_meta(conversation_id)
        if conv.status is status:
            return conv
        reopened_deadline = None
        if conv.status is ConversationStatus.RESOLVED:
            due = clock.now() + timedelta(seconds=self.first_response_targets[conv.priority])
            reopened_deadline = clock.iso(due)
        verb = "Reopened" if conv.status is ConversationStatus.RESOLVED else f"Marked {status.value}"
        self.conversations.set_status(conv, status, system_message(conv.id, f"{verb} by {by_agent}", by_agent),
                                      reopened_deadline)
        if (status is ConversationStatus.RESOLVED and conv.assignee) or status is ConversationStatus.OPEN:
            enqueue_drain(self.work, conv.team, f"status:{status.value}")
        return self.conversations.get_meta(conversation_id)

    def me(self, agent_id: str, name: str | None) -> Agent:
        agent = self.agents.get(agent_id)
        if agent is None:
            agent = Agent(id=agent_id, name=name, capacity=self.default_capacity)
            if not self.agents.create(agent):
                agent = self.agents.get(agent_id) or agent
        return agent

    def set_presence(self, agent_id: str, name: str | None, presence: Presence) -> Agent:
        agent = self.agents.set_presence(self.me(agent_id, name), presence)
        if presence is Presence.ONLINE:
            enqueue_drain(self.work, agent.team, "agent-online")
        return agent


def _status_key(conv: Conversation) -> dict[str, object]:
    """The ByStatus index position of a conversation, as DynamoDB's LastEvaluatedKey would name it."""
    updated = clock.iso(conv.updated_at)
    return {"PK": {"S": it.conv_pk(conv.id)}, "SK": {"S": it.META},
            "StatusPK": {"S": it.status_pk(conv.status.value)}, "StatusSK": {"S": updated}}

