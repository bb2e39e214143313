"""Opening a conversation in one request: ``GET /agent/conversations/{id}?include=customer,duplicates,orders,assist``.

The inbox shows a conversation with its side panels: the customer's profile, likely duplicates, the orders
panel and the assist panel. Each has its own route, and the app used to read them one by one as the
conversation opened: five requests, five invocations, three audit records. With ``include`` the conversation's
own request answers them too (sideloading, as Zendesk's ``include=`` does), read side by side in the function,
each through exactly the use case its own route calls, with the caller's access applied by that use case.

A part that cannot be answered at once (the customer is not the caller's; orders not all cached, which the
panel's own route reads through the shop platform: the conversation never waits for the shop) is left out and
its reason logged; the app reads a part it did not get through the part's own route, which answers the error as
it always did. Every answer reveals the conversation's customer (their name, address and words): the request is
one audit record, ``conversation.opened`` (``audit.revealed``), naming in ``included`` which of the panels that
reveal more (profile, duplicates, orders) it answered. A read without them is what the inbox makes again on its
own after each change notice: recorded once per actor and conversation in the audit's window (``repeat``); an
opening with them is recorded every time and starts that window.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from pydantic import BaseModel, Field

from shopdesk.api.agent import ConversationOut
from shopdesk.api.commerce import OrderPanelOut
from shopdesk.api.customers import CustomerOut, DuplicateList
from shopdesk.api.kb import AssistOut
from shopdesk.errors import BadRequest, ShopdeskError
from shopdesk.models import Conversation
from shopdesk.privacy import audit

logger = Logger(child=True)

PARTS = ("customer", "duplicates", "orders", "assist")
REVEALING = ("customer", "duplicates", "orders")       # personal data: the request is audited when it has one
_reading = ThreadPoolExecutor(max_workers=len(PARTS), thread_name_prefix="include")


class Included(BaseModel):
    """What ``include`` asked for and could be answered; a part left out is read through its own route."""

    customer: CustomerOut | None = Field(default=None, description="as GET /agent/customers/{id} (first page)")
    duplicates: DuplicateList | None = Field(default=None, description="as GET /agent/customers/{id}/duplicates")
    orders: OrderPanelOut | None = Field(default=None, description="as GET /agent/conversations/{id}/orders")
    assist: AssistOut | None = Field(default=None, description="as GET /agent/conversations/{id}/assist")


class OpenedConversationOut(ConversationOut):
    included: Included | None = Field(default=None, description="with include=: the side panels asked for")


def parts(include: str | None) -> tuple[str, ...]:
    """The parts ``include`` names (comma-separated, each once), in a fixed order; 400 on one we do not know."""
    names = [p.strip() for p in (include or "").split(",") if p.strip()]
    unknown = sorted(set(names) - set(PARTS))
    if unknown:
        raise BadRequest(f"include: unknown part(s) {', '.join(unknown)}; known: {', '.join(PARTS)}")
    return tuple(p for p in PARTS if p in names)


@dataclass
class Opener:
    """The side panels' use cases, each called as its own route calls it."""

    customer: Callable[[Any, str], Any]          # (caller, customer id) -> CustomerOut
    duplicates: Callable[[Any, str], Any]        # (caller, customer id) -> DuplicateList
    orders: Callable[[Any, Conversation], Any]   # (caller, conversation) -> OrderPanelOut
    assist: Callable[[Any, Conversation], Any]   # (caller, conversation) -> AssistOut

    def include(self, who: Any, conv: Conversation, wanted: tuple[str, ...]) -> Included | None:
        if not wanted:
            self.opened(conv, [])
            return None
        readers: dict[str, Callable[[], Any]] = {
            "customer": lambda: self.customer(who, conv.customer.id),
            "duplicates": lambda: self.duplicates(who, conv.customer.id),
            "orders": lambda: self.orders(who, conv),
            "assist": lambda: self.assist(who, conv),
        }
        # each in a copy of this request's context, so that what a use case notes reaches its audit record
        running = {p: _reading.submit(contextvars.copy_context().run, readers[p]) for p in wanted}
        answered: dict[str, Any] = {}
        for part, future in running.items():
            try:
                answered[part] = future.result()
            except ShopdeskError as exc:         # left out: the app asks the part's own route, which answers it
                logger.info("include left out", extra={"part": part, "reason": type(exc).__name__})
        self.opened(conv, [p for p in REVEALING if p in answered])
        return Included(**answered)

    @staticmethod
    def opened(conv: Conversation, revealed: list[str]) -> None:
        """The request's audit record: the conversation's customer, and the panels that revealed more."""
        audit.revealed(customer_id=conv.customer.id, conversation_id=conv.id, read=f"conversation:{conv.id}",
                       repeat=not revealed, **({"included": revealed} if revealed else {}))
