"""Messages on the work queue: what the router is asked to do."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from shopdesk.dal.queues import Queue
from shopdesk.ids import new_id


class InboundWork(BaseModel):
    kind: Literal["inbound"] = "inbound"
    conversation_id: str
    message_id: str
    team: str = "default"


class DrainWork(BaseModel):
    """Capacity may have freed (resolve, agent online, periodic re-drive): assign waiting conversations."""

    kind: Literal["drain"] = "drain"
    team: str = "default"
    reason: str = "capacity"


class WorkItem(BaseModel):
    item: Annotated[InboundWork | DrainWork, Field(discriminator="kind")]


def enqueue_inbound(queue: Queue, conversation_id: str, message_id: str, team: str) -> None:
    work = InboundWork(conversation_id=conversation_id, message_id=message_id, team=team)
    queue.send(work.model_dump(), group=conversation_id, dedup_id=message_id)


def enqueue_drain(queue: Queue, team: str, reason: str) -> None:
    # One group per team: drains of a team run one at a time, in order, never racing each other.
    queue.send(DrainWork(team=team, reason=reason).model_dump(), group=f"drain#{team}", dedup_id=new_id("d_"))
