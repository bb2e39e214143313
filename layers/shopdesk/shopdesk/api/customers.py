"""Request and response models of the agent API's customer routes."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from shopdesk.api.agent import ConversationOut
from shopdesk.api.commerce import OrderOut
from shopdesk.clock import Instant
from shopdesk.logic.customers import CustomerView, Duplicate
from shopdesk.models import Identity
from shopdesk.models.customer import CustomerEvent, MergeRecord

CustomerId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class MergeIn(BaseModel):
    other_id: CustomerId            # merged into the customer of the path, which remains
    reason: Reason


class UnmergeIn(BaseModel):
    merge_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    reason: Reason = "merge undone"


class CustomerOut(BaseModel):
    id: str
    name: str | None
    identities: list[Identity]
    attributes: dict[str, Any] = Field(default_factory=dict)
    tier: str | None = None
    merged_into: str | None = None        # seen through this customer since a merge
    conversations: list[ConversationOut]  # every channel, newest first; next page with ?cursor=
    next_cursor: str | None = None
    orders: list[OrderOut] = Field(default_factory=list)    # of every email and phone, newest first
    timeline: list[CustomerEvent] = Field(default_factory=list)   # merges, unmerges, links: who, when, why

    @classmethod
    def of(cls, view: CustomerView) -> CustomerOut:
        c = view.customer
        return cls(id=c.id, name=c.name, identities=c.identities, attributes=view.attributes, tier=c.tier,
                   merged_into=c.merged_into,
                   conversations=[ConversationOut.of(conv) for conv in view.conversations],
                   next_cursor=view.cursor, orders=[OrderOut.of(o) for o in view.orders],
                   timeline=view.timeline)


class EvidenceOut(BaseModel):
    why: str
    kind: str
    address: str
    source: str                       # message, order, shop_customer, shop_sign_in
    conversation_id: str | None = None
    message_id: str | None = None
    order: str | None = None
    at: Instant


class CustomerBrief(BaseModel):
    id: str
    name: str | None
    identities: list[Identity]


class DuplicateOut(BaseModel):
    customer: CustomerBrief
    evidence: list[EvidenceOut]


class DuplicateList(BaseModel):
    items: list[DuplicateOut]

    @classmethod
    def of(cls, duplicates: list[Duplicate]) -> DuplicateList:
        return cls(items=[DuplicateOut(
            customer=CustomerBrief(id=d.customer.id, name=d.customer.name, identities=d.customer.identities),
            evidence=[EvidenceOut(why=why, **e.model_dump()) for why, e in d.evidence]) for d in duplicates])


class MergeOut(BaseModel):
    id: str
    survivor_id: str
    merged_id: str
    status: str
    by: str
    reason: str
    at: Instant
    identities_moved: list[str]
    conversations_moved: list[str]
    unmerged_by: str | None = None
    unmerged_at: Instant | None = None
    unmerge_reason: str | None = None

    @classmethod
    def of(cls, record: MergeRecord) -> MergeOut:
        return cls(**record.model_dump(include=set(cls.model_fields)), identities_moved=record.merged_identities)
