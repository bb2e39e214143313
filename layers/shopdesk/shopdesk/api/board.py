"""The supervisor board's answers (admin API)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from shopdesk.clock import Instant
from shopdesk.dal.sla_events import SlaEvent


class SlaEventOut(BaseModel):
    kind: Literal["warning", "breach", "risk"]
    conversation_id: str
    target: str = Field(description="first_response, next_response or resolution")
    due_at: Instant
    at: Instant = Field(description="when the sweep flagged it")
    team: str | None = None
    assignee: str | None = None
    priority: str | None = Field(default=None, description="after the escalation a breach brings")
    channel: str | None = None
    customer_name: str | None = Field(default=None, description="the customer as the inbox names them: their name, "
                                      "else their first identity's address; none once the conversation is erased")

    @classmethod
    def of(cls, event: SlaEvent) -> SlaEventOut:
        return cls.model_validate(event.__dict__)


class SlaEventList(BaseModel):
    items: list[SlaEventOut]
    more: bool = Field(description="more events in the window than the limit")

    @classmethod
    def of(cls, events: list[SlaEvent], more: bool) -> SlaEventList:
        return cls(items=[SlaEventOut.of(e) for e in events], more=more)
