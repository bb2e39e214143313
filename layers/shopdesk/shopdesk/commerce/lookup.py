"""The order panel: the orders of a conversation's customer and of the numbers named in its messages.

Cache first: an email, phone or number the platform was asked about within the lookup TTL (its
``SYNC`` marker) is answered from the table, kept fresh by webhooks. Otherwise the platform is asked
(read-through) and what it says is cached, masked (``commerce.masking``), and shown as cached. When the platform
cannot be reached the panel shows what the cache holds and says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from aws_lambda_powertools import Logger

from shopdesk.commerce import Commerce, CommerceUnavailable, ordering
from shopdesk.commerce.models import Order
from shopdesk.commerce.numbers import order_numbers
from shopdesk.dal.commerce import CommerceStore, still_pointing
from shopdesk.errors import ShopdeskError
from shopdesk.models import Conversation, Direction, Identity
from shopdesk.phone import to_e164

logger = Logger(child=True)


class NotCached(ShopdeskError):
    """The panel needs the platform, and the caller asked for the cache alone."""

Source = Literal["cache", "platform", "none"]


@dataclass
class FoundOrder:
    order: Order
    matched_by: list[str] = field(default_factory=list)    # "email", "phone", "number"

    @property
    def customers_own(self) -> bool:
        """Found by the customer's email or phone, not only by a number they typed (which may be someone else's
        order: anyone can type the number printed on a parcel)."""
        return bool(set(self.matched_by) & {"email", "phone"})


@dataclass
class OrderPanel:
    orders: list[FoundOrder]
    identities: list[Identity]
    numbers: list[str]
    source: Source                          # "platform" when anything had to be read through
    warnings: list[str] = field(default_factory=list)

    def find(self, order_id: str) -> FoundOrder | None:
        return next((f for f in self.orders if f.order.id == order_id), None)


def conversation_identities(conv: Conversation) -> list[Identity]:
    """The customer's emails and phones: their identities, and the addresses of the conversation's routes (a
    web-chat visitor's is the email the shop signed them in with: the shop's own word, in its visitor token)."""
    found: list[Identity] = []
    for identity in conv.customer.identities:
        if identity.kind == "email":
            found.append(Identity(kind="email", address=identity.address.strip().lower()))
        elif identity.kind == "phone":
            found.append(identity)
    for route in conv.routes.values():
        if route.channel == "email" and "@" in route.to:
            found.append(Identity(kind="email", address=route.to.strip().lower()))
        elif route.channel in ("sms", "whatsapp"):
            phone = to_e164(route.to)
            if phone:
                found.append(Identity(kind="phone", address=phone))
        elif route.channel == "webchat" and "@" in str((route.context or {}).get("email") or ""):
            found.append(Identity(kind="email", address=str(route.context["email"]).strip().lower()))
    return list({i.key: i for i in found}.values())


def named_numbers(conv: Conversation, limit: int = 5) -> list[str]:
    """Order numbers the customer wrote, most recent message first."""
    numbers: list[str] = []
    for message in reversed(conv.messages):
        if message.direction is Direction.INBOUND:
            for number in order_numbers(message.text):
                if number not in numbers:
                    numbers.append(number)
    return numbers[:limit]


@dataclass
class OrderLookup:
    store: CommerceStore
    commerce: Commerce | None
    limit: int = 10              # orders in the panel
    per_lookup: int = 5          # recent orders asked of the platform per email or phone (Shopify query cost)

    def panel(self, conv: Conversation, *, cached_only: bool = False) -> OrderPanel:
        return self.find(conversation_identities(conv), named_numbers(conv), cached_only=cached_only)

    def find(self, identities: Sequence[Identity], numbers: Sequence[str] = (), *,
             cached_only: bool = False) -> OrderPanel:
        """Orders of these identities and numbers (the port's callers: the conversation panel, and a
        customer's page once customers are linked across channels). ``cached_only``: NotCached rather than
        asking the platform (a conversation opening with its panels does not wait for the shop)."""
        if self.commerce is None and self.store.platform == "none":
            return OrderPanel([], list(identities), list(numbers), "none")
        found: dict[str, FoundOrder] = {}
        source: Source = "none" if self.commerce is None else "cache"
        warnings: list[str] = []
        wanted = [(i.kind, i.address) for i in identities if i.kind in ("email", "phone")]
        wanted += [("number", n) for n in numbers]
        # one Query per value, then one BatchGetItem for every order they name
        refs = {(kind, value): self.store.refs(kind, value, self._limit(kind)) for kind, value in wanted}
        cached = {o.id: o for o in self.store.get_orders(list(dict.fromkeys(
            i for r in refs.values() for i in r.order_ids)))}
        for (kind, value), ref in refs.items():
            orders = still_pointing(ref, cached, kind, value)
            if not (ref.complete and len(orders) == len(ref.order_ids)) and self.commerce is not None:
                if cached_only:
                    raise NotCached(f"orders of a {kind} are not all cached")
                orders, asked = self._ask(kind, value, orders, warnings)
                source = "platform" if asked else source
            for order in orders:
                entry = found.setdefault(order.id, FoundOrder(order))
                if kind not in entry.matched_by:
                    entry.matched_by.append(kind)
        ordered = sorted(found.values(), key=lambda f: f.order.created_at, reverse=True)[:self.limit]
        return OrderPanel(ordered, list(identities), list(numbers), source, _unique(warnings))

    def _limit(self, kind: str) -> int:
        return 1 if kind == "number" else self.per_lookup

    def _ask(self, kind: str, value: str, cached: list[Order], warnings: list[str]) -> tuple[list[Order], bool]:
        """A miss: read through the platform and cache what it says (the cache's own orders if it fails)."""
        assert self.commerce is not None
        try:
            if kind == "number":
                order = self.commerce.order_by_number(value)
                fetched = [order] if order else []
            else:
                fetched = self.commerce.orders_for(Identity(kind=kind, address=value), self.per_lookup)
        except CommerceUnavailable as exc:
            logger.warning("platform lookup failed", extra={"kind": kind, "reason": str(exc)})
            warnings.append(f"{self.store.platform} could not be asked ({exc}); showing what was cached")
            return cached, False
        return self.store.cache_orders(fetched, ordering.merge, looked_up=(kind, value)), True

    def fresh(self, order: Order) -> Order:
        """The order as the platform has it now (cached on the way, and masked as cached), else as cached."""
        if self.commerce is None:
            return order
        current = self.commerce.get_order(order.id)
        if current is None:
            return order
        return self.store.cache_orders([current], ordering.merge)[0]


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
