"""Request and response models of the agent API (the OpenAPI document is generated from these)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from shopdesk.models import (
    Agent,
    Attachment,
    Conversation,
    ConversationStatus,
    CustomerRef,
    Direction,
    Message,
    MessageError,
    Presence,
    Priority,
    Sla,
)

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1600)]
NoteText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10000)]
AgentId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]


class ReplyIn(BaseModel):
    text: Text


class NoteIn(BaseModel):
    text: NoteText


class AssignmentIn(BaseModel):
    agent_id: AgentId


class StatusIn(BaseModel):
    status: ConversationStatus


class PresenceIn(BaseModel):
    presence: Presence


class MessageOut(BaseModel):
    id: str
    direction: Direction
    channel: str | None
    text: str | None
    status: str | None
    attachments: list[Attachment]
    created_at: datetime
    author: str | None = None
    provider_id: str | None = None
    error: MessageError | None = None
    attempts: int = 0

    @classmethod
    def of(cls, message: Message) -> MessageOut:
        return cls.model_validate(message.model_dump(include=set(cls.model_fields)))


class ConversationOut(BaseModel):
    id: str
    status: ConversationStatus
    priority: Priority
    team: str
    assignee: str | None
    customer: CustomerRef
    channel: str
    sla: Sla
    created_at: datetime
    updated_at: datetime
    waiting_since: datetime | None = None
    last_message_preview: str | None = None
    message_count: int = 0
    messages: list[MessageOut] = Field(default_factory=list)

    @classmethod
    def of(cls, conv: Conversation) -> ConversationOut:
        data = conv.model_dump(include=set(cls.model_fields) - {"messages"})
        return cls(**data, messages=[MessageOut.of(m) for m in conv.messages])


class ConversationList(BaseModel):
    items: list[ConversationOut]
    next_cursor: str | None = None

    @classmethod
    def of(cls, conversations: Sequence[Conversation], cursor: str | None) -> ConversationList:
        return cls(items=[ConversationOut.of(c) for c in conversations], next_cursor=cursor)


class AgentOut(BaseModel):
    id: str
    name: str | None
    presence: Presence
    capacity: int
    active: int
    team: str

    @classmethod
    def of(cls, agent: Agent) -> AgentOut:
        return cls.model_validate(agent.model_dump(include=set(cls.model_fields)))


def caller(event: Any) -> tuple[str, str | None]:
    """The agent calling, from the JWT claims API Gateway verified (Cognito ID or access token)."""
    claims = event.request_context.authorizer.jwt_claim or {}
    agent_id = claims.get("cognito:username") or claims.get("username")
    if not agent_id:
        raise PermissionError("the token names no agent")
    return agent_id, claims.get("name")


def validation_problem(errors: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A 422 body that says what is wrong in words and matches Powertools' documented schema."""
    detail = [{"loc": list(e.get("loc", ())), "msg": e.get("msg") or e.get("type", "invalid"),
               "type": e.get("type", "value_error")} for e in errors]
    summary = "; ".join(f"{'.'.join(str(p) for p in d['loc'])}: {d['msg']}" for d in detail)
    return {"statusCode": 422, "message": f"invalid request: {summary}", "detail": detail}
