"""Commerce context: the shop's orders beside the conversation, kept fresh from the platform's webhooks.

The port (``Commerce``) is what the use cases call; ``shopify`` and ``woocommerce`` implement it, and
``platform.commerce_for(settings)`` chooses one once per cold start. Use cases: ``lookup`` (the orders of a
customer's identities and of numbers named in messages: cache first, the platform on a miss),
``actions`` (cancel, refund, with a confirmation step), ``webhooks`` (verify, dedupe, apply in order).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from shopdesk.commerce.models import ActionResult, Order, Platform, RefundLine
from shopdesk.errors import ShopdeskError
from shopdesk.models import Identity


class CommerceUnavailable(ShopdeskError):
    """The platform could not be reached, failed, or stayed throttled past our patience."""


class CommerceRefused(ShopdeskError):
    """The platform refused an action; ``reasons`` are its own words (shown to the agent)."""

    def __init__(self, message: str, reasons: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.reasons = list(reasons) or [message]


class Commerce(Protocol):
    """One shop platform. Identities are the customer's (``email`` lower-cased, ``phone`` in E.164);
    kinds a platform cannot search by are ignored."""

    platform: Platform

    def orders_for(self, identity: Identity, limit: int = 5) -> list[Order]:
        """The most recent orders of the customer the identity names (newest first)."""
        ...

    def order_by_number(self, number: str) -> Order | None:
        """The order the customer knows as ``number`` ("1001"), or None."""
        ...

    def get_order(self, order_id: str) -> Order | None:
        ...

    def cancel(self, order: Order, *, reason: str, restock: bool, notify_customer: bool,
               staff_note: str | None) -> ActionResult:
        """Cancel (with a refund of what was paid); raises CommerceRefused in the platform's words."""
        ...

    def refund(self, order: Order, lines: Sequence[RefundLine] | None, *, note: str | None,
               notify_customer: bool, idempotency_key: str | None = None) -> ActionResult:
        """Refund the chosen line items (None: everything refundable). ``idempotency_key`` names the refund
        meant, for a platform that deduplicates by it (Shopify); others ignore it."""
        ...


__all__ = ["ActionResult", "Commerce", "CommerceRefused", "CommerceUnavailable", "Order", "RefundLine"]
