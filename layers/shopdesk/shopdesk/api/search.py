"""The search answer: conversations (how each matched) and customers, only what the caller may see."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from shopdesk.api.agent import ConversationOut
from shopdesk.logic.search import Found
from shopdesk.models import Identity

Matched = Literal["id", "email", "phone", "handle", "order", "name", "text"]


class FoundConversationOut(ConversationOut):
    matched: Matched                       # which key, or the text, found it
    message_id: str | None = None          # text: the best matching message


class FoundCustomerOut(BaseModel):
    id: str
    name: str | None = None
    identities: list[Identity] = Field(default_factory=list)
    tier: str | None = None


class SearchOut(BaseModel):
    conversations: list[FoundConversationOut]
    customers: list[FoundCustomerOut]

    @classmethod
    def of(cls, found: Found) -> SearchOut:
        conversations = []
        for conv in found.conversations:
            base = ConversationOut.of(conv).model_dump()
            conversations.append(FoundConversationOut(**base, matched=found.matched[conv.id],  # type: ignore[arg-type]
                                                      message_id=found.hits.get(conv.id)))
        return cls(conversations=conversations,
                   customers=[FoundCustomerOut.model_validate(c.model_dump(include=set(FoundCustomerOut.model_fields)))
                              for c in found.customers])
