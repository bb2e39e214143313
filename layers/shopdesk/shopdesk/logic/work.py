"""Messages on the work queue: what the router is asked to do."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from shopdesk.dal.items import message_sk
from shopdesk.dal.queues import Queue
from shopdesk.ids import new_id
from shopdesk.models import Message


class InboundWork(BaseModel):
    kind: Literal["inbound"] = "inbound"
    conversation_id: str
    message_id: str
    message_sk: str | None = None      # to fetch the message (its attachments) without a Query
    has_media: bool = False
    new_conversation: bool = False     # its clocks were started with it
    auto_reply: bool = False           # starts and resumes no clock
    team: str = "default"


class DrainWork(BaseModel):
    """Capacity may have freed (resolve, agent online, periodic re-drive): assign waiting conversations."""

    kind: Literal["drain"] = "drain"
    team: str = "default"
    reason: str = "capacity"


class WorkItem(BaseModel):
    item: Annotated[InboundWork | DrainWork, Field(discriminator="kind")]


def enqueue_inbound(queue: Queue, conversation_id: str, message: Message, team: str = "default", *,
                    new_conversation: bool = False) -> None:
    work = InboundWork(conversation_id=conversation_id, message_id=message.id, message_sk=message_sk(message),
                       has_media=any(a.storage_key is None and a.note is None for a in message.attachments),
                       new_conversation=new_conversation, auto_reply=message.kind == "auto_reply", team=team)
    queue.send(work.model_dump(exclude_defaults=False), group=conversation_id, dedup_id=message.id)


def enqueue_drain(queue: Queue, team: str, reason: str) -> None:
    # One group per team: drains of a team run one at a time, in order, never racing each other.
    queue.send(DrainWork(team=team, reason=reason).model_dump(), group=f"drain#{team}", dedup_id=new_id("d_"))
