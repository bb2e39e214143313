from shopdesk.models.agent import Agent, Presence
from shopdesk.models.conversation import (
    Conversation,
    ConversationStatus,
    CustomerRef,
    Identity,
    Priority,
    ReplyRoute,
    Sla,
)
from shopdesk.models.message import (
    Attachment,
    Direction,
    EmailMeta,
    InboundMessage,
    Message,
    MessageError,
    StatusUpdate,
    TimelineEvent,
    WebhookItem,
    delivery_rank,
)

__all__ = [
    "Agent",
    "Attachment",
    "Conversation",
    "ConversationStatus",
    "CustomerRef",
    "Direction",
    "EmailMeta",
    "Identity",
    "InboundMessage",
    "Message",
    "MessageError",
    "Presence",
    "Priority",
    "ReplyRoute",
    "Sla",
    "StatusUpdate",
    "TimelineEvent",
    "WebhookItem",
    "delivery_rank",
]
