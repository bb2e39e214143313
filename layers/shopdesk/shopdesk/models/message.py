"""Messages: what customers write, what agents answer, notes and system events on the timeline."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    NOTE = "note"
    SYSTEM = "system"


# Delivery states in the order they happen. A status update only ever moves a message forward;
# terminal failures rank with "delivered" so a late "sent" cannot undo them, and "read" wins last.
_RANK = {
    "queued": 0, "accepted": 1, "scheduled": 1, "sending": 2, "sent": 3,
    "delivered": 4, "undelivered": 4, "failed": 4, "read": 5, "received": 5,
}


def delivery_rank(status: str) -> int:
    return _RANK.get(status, 0)


class Attachment(BaseModel):
    model_config = ConfigDict(frozen=True)

    url: Annotated[str, Field(min_length=1, max_length=2048)]
    content_type: str | None = None


class MessageError(BaseModel):
    code: str | None = None
    message: str


class Message(BaseModel):
    id: str
    conversation_id: str
    direction: Direction
    channel: str | None = None
    text: str | None = None
    status: str | None = None
    attachments: list[Attachment] = Field(default_factory=list)
    created_at: datetime
    author: str | None = None               # agent id for outbound replies and notes
    provider_id: str | None = None          # Twilio MessageSid, wamid, ...
    error: MessageError | None = None       # why a send failed, in the provider's words
    attempts: int = 0
    to: str | None = None                   # outbound: customer address the reply goes to
    sender: str | None = None               # outbound: shop address it leaves from


class InboundMessage(BaseModel):
    """A customer message as a channel parser hands it to ingest, provider-neutral."""

    provider: str                           # "twilio"
    provider_id: Annotated[str, Field(min_length=1, max_length=200)]
    channel: str                            # "sms" | "whatsapp"
    identity_kind: str                      # "phone" — the key SMS and WhatsApp share
    customer_address: str                   # E.164, "+14133881111"
    shop_address: str                       # the number the customer wrote to, as the provider names it
    reply_to: str                           # the address a reply is sent to ("whatsapp:+31...")
    text: str | None = None
    attachments: list[Attachment] = Field(default_factory=list)
    profile_name: str | None = None
    raw: dict[str, Any] = Field(default_factory=dict)


class StatusUpdate(BaseModel):
    """A delivery receipt for one of our outbound messages."""

    provider: str
    provider_id: str
    status: str
    error: MessageError | None = None
