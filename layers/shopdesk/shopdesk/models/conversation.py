from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, model_validator

from shopdesk.clock import Instant
from shopdesk.models.message import Message


class ConversationStatus(StrEnum):
    OPEN = "open"
    PENDING = "pending"
    SNOOZED = "snoozed"
    RESOLVED = "resolved"


class Priority(StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"

    @property
    def rank(self) -> int:
        return list(Priority).index(self)


class Identity(BaseModel):
    kind: str        # "phone", "email", ...
    address: str     # E.164 for phones

    @property
    def key(self) -> str:
        return f"{self.kind}#{self.address}"


class CustomerRef(BaseModel):
    id: str
    name: str | None = None
    identities: list[Identity] = Field(default_factory=list)
    tier: str | None = None      # on a conversation: the customer's tier its SLA clocks were chosen with


class ReplyRoute(BaseModel):
    """Where a reply goes: the channel the customer last wrote from, their address, our address."""

    channel: str
    to: str
    sender: str
    provider: str = "twilio"
    last_inbound_at: Instant | None = None   # opens the WhatsApp / Messenger 24-hour window
    context: dict[str, Any] | None = None     # what a reply needs to thread: email subject/Message-ID, ...
    opted_out: bool | None = None             # the customer unsubscribed here (SMS: replied STOP): nothing is sent


class SlaDeadline(BaseModel):
    due_at: Instant
    warn_at: Instant | None = None


class Sla(BaseModel):
    first_response_due_at: Instant | None = None
    first_response_at: Instant | None = None
    breaches: list[str] = Field(default_factory=list)
    deadlines: dict[str, SlaDeadline] | None = None    # running targets: first_response, next_response, resolution
    paused: bool = False                               # pending or snoozed: no clock runs


class ConversationBot(BaseModel):
    """The bot's part in a conversation (``shopdesk.bot``): ``answering`` (it answered and asked whether that
    solved it), ``handed_off`` (a person takes it from here, for ``handoff_reason``), ``resolved``."""

    state: str
    handoff_reason: str | None = None
    article_id: str | None = None
    at: str | None = None
    question: str | None = Field(default=None, exclude=True)        # internal: to notice a repeat
    pending_order: str | None = Field(default=None, exclude=True)   # internal: a number it asked proof for
    replied_to: str | None = Field(default=None, exclude=True)      # internal: the message it last answered
    sent: str | None = Field(default=None, exclude=True)            # internal: the key of its message answering it
    closing: bool = Field(default=False, exclude=True)             # internal: that message thanked a confirmation
    # internal: the message whose work handed over (the customer's, or the bot's that failed): its retry publishes the
    # hand-over's event again
    handed_for: str | None = Field(default=None, exclude=True)
    # internal, on a resolve: why (``confirmed``: ``replied_to`` is the confirmation; ``no_reply``), so the work that
    # runs again after one that stopped before the resolve's event publishes it again, with the same ``at``
    why: str | None = Field(default=None, exclude=True)


class Conversation(BaseModel):
    id: str
    status: ConversationStatus = ConversationStatus.OPEN
    priority: Priority = Priority.NORMAL
    team: str = "default"
    # False from ingest until the router routes it: ``team`` is a placeholder, no team hears of it (logic.live)
    routed: bool = Field(default=True, exclude=True)
    assignee: str | None = None
    language: str | None = None                    # detected from the customer's first message
    sentiment: str | None = None                   # of the customer's last message (shopdesk.understanding)
    urgent: bool = False                           # the customer's last message was urgent
    skills: list[str] = Field(default_factory=list)   # an agent needs all of them
    previous_agent: str | None = None              # who helped this customer last (sticky routing)
    previous_agent_at: Instant | None = None
    last_acknowledged_at: Instant | None = None   # the last automatic "when to expect an answer"
    passed_over: list[str] = Field(default_factory=list)   # agents it was taken from for silence
    granted: list[str] = Field(default_factory=list)   # agents who keep access outside its team (shopdesk.logic.access)
    mentions_unread: list[str] = Field(default_factory=list)   # agents with unread @mentions here (logic.mentions)
    snoozed_until: Instant | None = None          # the end of the last snooze (logic.snooze); stale once woken
    labels: list[str] = Field(default_factory=list)    # label ids (shopdesk.logic.labels), sorted
    breach_risk: float | None = None               # while waiting: the chance it breaches (logic.breach_risk)
    risk_raised: dict[str, str] = Field(default_factory=dict, exclude=True)   # target -> due time: risk warned
    sla_warned: dict[str, str] = Field(default_factory=dict, exclude=True)    # target -> due time: SLA warned
    last_inbound_at: Instant | None = Field(default=None, exclude=True)    # the customer's last message
    last_outbound_at: Instant | None = Field(default=None, exclude=True)   # a person's last reply
    replied_at: Instant | None = Field(default=None, exclude=True)   # when that reply was written (not stamped)
    assigned_at: Instant | None = Field(default=None, exclude=True)        # when its assignee got it
    handed_off_at: Instant | None = Field(default=None, exclude=True)      # the bot's hand-over (dal.bot)
    customer: CustomerRef
    channel: str                                   # the channel the customer last wrote from
    route: ReplyRoute                              # where a reply goes by default
    routes: dict[str, ReplyRoute] = Field(default_factory=dict)   # every channel of this conversation
    sla: Sla = Field(default_factory=Sla)
    created_at: Instant
    updated_at: Instant
    waiting_since: Instant | None = None
    last_message_preview: str | None = None
    message_count: int = 0
    messages: list[Message] = Field(default_factory=list)
    bot: ConversationBot | None = None             # what the bot did (shopdesk.bot): answering, handed_off, resolved
    folded: list[str] = Field(default_factory=list)   # merged into this one (logic.fold): theirs show here
    folded_into: str | None = None                 # merged into that one when its customer was merged (logic.fold)

    @model_validator(mode="after")
    def _default_route_is_a_route(self) -> Conversation:
        if self.channel not in self.routes:
            self.routes[self.channel] = self.route
        return self
