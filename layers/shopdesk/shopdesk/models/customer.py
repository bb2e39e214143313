"""A customer as the shop knows them: their identities on every channel and their tier (``vip``, ``gold``),
which chooses the SLA policy of their conversations; merges of two customers and the evidence that suggests
them."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from shopdesk.clock import Instant
from shopdesk.models.conversation import CustomerRef

TIER_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")      # a shop's own names: "vip", "gold"
Tier = Annotated[str, StringConstraints(pattern=TIER_PATTERN.pattern)]


class Customer(CustomerRef):
    """The customer record (``CUSTOMER#<id>``): ``tier`` is None until the shop gives them one;
    ``merged_into`` names the customer they were merged into (until an unmerge)."""

    created_at: Instant | None = None
    language: str | None = None              # the language they last wrote in, when sure (shopdesk.understanding)
    merged_into: str | None = None
    merge_id: str | None = None


class Evidence(BaseModel):
    """An address seen where the customer controls nothing: in a message body or in an order. It suggests a
    duplicate to an agent; it never links by itself."""

    kind: Literal["email", "phone"]
    address: str
    source: Literal["message", "order", "shop_customer", "shop_sign_in"]   # shop_sign_in: the widget's visitor token
    conversation_id: str | None = None
    message_id: str | None = None
    order: str | None = None                 # the order's name ("#1001")
    at: Instant


class CustomerEvent(BaseModel):
    """A line of the customer's own timeline: who merged, unmerged or linked what, when and why. Once the other
    customer of a merge is erased, why is blank (an agent's words about them) and ``other_erased`` says so."""

    id: str
    kind: Literal["merged", "merged_into", "unmerged", "linked"]
    at: Instant
    by: str                                  # an agent id, or "system" for a link on the customer's evidence
    reason: str
    other_id: str | None = None              # the other customer of a merge
    other_name: str | None = None            # their name, while they are one customer (not stored: read when shown)
    merge_id: str | None = None
    identity: str | None = None              # a linked identity, "kind#address"
    other_erased: bool | None = None         # the other customer was erased: their id stays, ``reason`` is blank


class IdentityBefore(BaseModel):
    """An identity as a merge found it (what an unmerge puts back)."""

    customer_id: str
    open_conversation_id: str | None = None
    siblings: list[str] = Field(default_factory=list)
    customer_name: str | None = None          # the name it gave new conversations


class Folded(BaseModel):
    """Both customers of a merge had an open conversation: the merged one's went into the survivor's (logic.fold)."""

    conversation: str                         # the merged customer's, resolved as merged
    into: str                                 # the survivor's, which shows its messages
    channels: list[str] = Field(default_factory=list)   # the routes it took from it (an unmerge gives them back)


class MergeRecord(BaseModel):
    """``MERGE#<id>``: everything a merge moved, so an unmerge can put each piece back."""

    id: str
    survivor_id: str                          # the customer that remains
    merged_id: str                            # the customer merged into it
    by: str
    reason: str
    at: Instant
    status: Literal["merged", "unmerged"] = "merged"
    survivor_name: str | None = None          # the survivor's name before
    survivor_identities: list[str]            # "kind#address", the survivor's before
    merged_identities: list[str]              # the merged customer's
    identities_before: dict[str, IdentityBefore]
    conversations_moved: list[str]            # the merged customer's conversations, now the survivor's
    folded: Folded | None = None              # both had one open: the merged one's went into the survivor's
    gave_name: str | None = None              # the name the merge gave the identities and open conversation without
    named_conversation: str | None = None     # the open conversation it gave it to
    unmerged_by: str | None = None
    unmerged_at: Instant | None = None
    unmerge_reason: str | None = None
