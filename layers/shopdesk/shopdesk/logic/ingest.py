"""Ingest: a verified, parsed customer message becomes part of the customer's one open conversation.

Budget per message: one GetItem (the identity tells where it belongs), one TransactWriteItems
(dedupe marker + message + conversation, or a whole new conversation), one SQS SendMessage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from shopdesk import clock
from shopdesk.dal.conversations import Conversations, IdentityRace, StaleConversation
from shopdesk.dal.queues import Queue
from shopdesk.errors import Conflict, DuplicateDelivery
from shopdesk.ids import new_id
from shopdesk.logic.timeline import preview
from shopdesk.logic.work import enqueue_inbound
from shopdesk.models import (
    Conversation,
    CustomerRef,
    Direction,
    Identity,
    InboundMessage,
    Message,
    Priority,
    ReplyRoute,
    Sla,
)


@dataclass(frozen=True)
class IngestResult:
    outcome: Literal["stored", "duplicate"]
    conversation_id: str | None = None
    message_id: str | None = None
    new_conversation: bool = False


def _message(inbound: InboundMessage, conversation_id: str) -> Message:
    return Message(id=new_id("m_"), conversation_id=conversation_id, direction=Direction.INBOUND,
                   channel=inbound.channel, text=inbound.text, status="received",
                   attachments=inbound.attachments, created_at=clock.now(), provider_id=inbound.provider_id)


def ingest(inbound: InboundMessage, conversations: Conversations, work: Queue,
           first_response_targets: dict[Priority, int]) -> IngestResult:
    route = ReplyRoute(channel=inbound.channel, to=inbound.reply_to, sender=inbound.shop_address,
                       provider=inbound.provider, last_inbound_at=clock.now())
    for _ in range(3):
        identity = conversations.get_identity(inbound.identity_kind, inbound.customer_address)
        expected_open = identity.open_conversation_id if identity else None
        if expected_open:
            message = _message(inbound, expected_open)
            try:
                conversations.append_inbound(
                    provider=inbound.provider, provider_id=inbound.provider_id, message=message,
                    channel=inbound.channel, route=route.model_dump(mode="json"),
                    preview=preview(inbound.text, len(inbound.attachments)))
            except DuplicateDelivery:
                return IngestResult("duplicate")
            except StaleConversation:
                pass      # resolved a moment ago: this message starts the next conversation
            else:
                enqueue_inbound(work, expected_open, message.id, "default")
                return IngestResult("stored", expected_open, message.id)

        now = clock.now()
        priority = Priority.NORMAL
        conversation = Conversation(
            id=new_id("c_"), priority=priority,
            customer=CustomerRef(
                id=identity.customer_id if identity else new_id("u_"),
                name=(identity.customer_name if identity else None) or inbound.profile_name,
                identities=[Identity(kind=inbound.identity_kind, address=inbound.customer_address)]),
            channel=inbound.channel, route=route, routes={inbound.channel: route},
            sla=Sla(first_response_due_at=now + timedelta(seconds=first_response_targets[priority])),
            created_at=now, updated_at=now, waiting_since=now,
            last_message_preview=preview(inbound.text, len(inbound.attachments)), message_count=1,
        )
        message = _message(inbound, conversation.id)
        try:
            conversations.start_conversation(provider=inbound.provider, provider_id=inbound.provider_id,
                                             conversation=conversation, message=message, identity=identity,
                                             expected_open=expected_open)
        except DuplicateDelivery:
            return IngestResult("duplicate")
        except IdentityRace:
            continue      # another message of this customer opened the conversation first: join it
        enqueue_inbound(work, conversation.id, message.id, conversation.team)
        return IngestResult("stored", conversation.id, message.id, new_conversation=True)
    raise Conflict("the customer's conversation kept changing; the provider will retry")
