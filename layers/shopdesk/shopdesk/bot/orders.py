""""Where is my order": answered from the customer's own orders, never from someone else's.

- Orders found by the customer's identities (the conversation's emails and phones, as the order panel finds
  them: ``commerce.lookup``) are theirs: the bot tells the newest one's state, carrier and tracking link, or
  the one they named.
- An order number that is not among them (found by number only) may be anybody's: the bot asks for the
  order's email address or postcode and tells nothing until the next message gives one that matches the
  order; one that does not match hands the conversation over (``order_unverified``), and so does a message
  that lists more than a couple of addresses or a handful of numbers (guesses, not a proof).
- No order of theirs found and no number named (a new phone number, a guest checkout): the bot asks for the
  order's number with its email or postcode (``ANY_ORDER`` pending). The reply's first number that is an order
  of the shop's ("#1002", "order 1002", or a bare "1002") is checked like a named one; a number alone, without
  an email or another number to be its postcode, is asked its proof first.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from shopdesk.bot.phrases import order_state, phrase
from shopdesk.commerce.lookup import FoundOrder, OrderLookup, conversation_identities
from shopdesk.commerce.models import Order
from shopdesk.commerce.numbers import order_numbers
from shopdesk.models import Conversation

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A proof names the one email or postcode the customer knows (a signature may add a phone, a house number): a
# message with more is a list of guesses (an email can hold every postcode of a country) and proves nothing.
MAX_PROOF_EMAILS = 2
MAX_PROOF_NUMBERS = 6
_WORD = re.compile(r"[\w-]+")
ANY_ORDER = "*"                    # pending: the bot asked for an order's number and its proof, no number known yet
MAX_ASKED_NUMBERS = 3              # numbers of a reply to ANY_ORDER looked up as order numbers
_BARE_NUMBER = re.compile(r"(?<![\w@.-])#?(\d{3,12})(?![\w@-])")


@dataclass(frozen=True)
class OrderAnswer:
    kind: str                      # "status" (told), "verify" (asked to prove it), "mismatch", "none"
    text: str | None = None
    order_number: str | None = None
    url: str | None = None


def state_of(order: Order) -> str:
    if order.cancelled_at is not None:
        return "cancelled"
    if (order.financial_status or "") == "refunded":
        return "refunded"
    latest = max(order.fulfillments, key=lambda f: f.updated_at or f.created_at or order.created_at, default=None)
    if latest is not None and latest.status != "cancelled":
        shipment = (latest.shipment_status or "").lower()
        if shipment in ("delivered", "in_transit", "out_for_delivery"):
            return shipment
        return "shipped"
    if (order.fulfillment_status or "") == "fulfilled":
        return "shipped"
    return "processing"


def describe(order: Order, language: str | None) -> tuple[str, str | None]:
    """The order's state in the customer's words, with its carrier's tracking link when it has one."""
    lines = [phrase(language, "order", name=order.name, status=order_state(language, state_of(order)))]
    tracking = next((t for f in reversed(order.fulfillments) for t in f.tracking if t.url or t.number), None)
    url = tracking.url if tracking else None
    if tracking is not None and url:
        lines.append(phrase(language, "tracking", carrier=tracking.company or "", url=url).strip())
    elif state_of(order) not in ("cancelled", "refunded", "delivered"):
        lines.append(phrase(language, "no_tracking"))
    return "\n".join(lines), url


@dataclass
class OrderStatus:
    lookup: OrderLookup

    def answer(self, conv: Conversation, text: str, language: str | None) -> OrderAnswer:
        numbers = order_numbers(text)
        panel = self.lookup.find(conversation_identities(conv), numbers)
        own = [f for f in panel.orders if f.customers_own]
        if numbers:
            wanted = numbers[0]
            mine = next((f for f in own if f.order.number == wanted), None)
            if mine is not None:
                told, url = describe(mine.order, language)
                return OrderAnswer("status", told, wanted, url)
            if any(f.order.number == wanted for f in panel.orders):
                return OrderAnswer("verify", phrase(language, "verify", number=wanted), wanted)
            return OrderAnswer("none", order_number=wanted)
        if not own:
            return OrderAnswer("none")
        newest: FoundOrder = own[0]                       # the panel lists newest first
        told, url = describe(newest.order, language)
        return OrderAnswer("status", told, newest.order.number, url)

    def verify_for(self, conv: Conversation) -> Callable[[str, str, str], OrderAnswer]:
        return lambda number, text, language: self.verify(conv, number, text, language)

    def verify(self, conv: Conversation, number: str, text: str, language: str | None) -> OrderAnswer:
        """The customer's proof for an order they named: its email address or its postcode."""
        if number == ANY_ORDER:
            return self._named_with_proof(conv, text, language)
        panel = self.lookup.find([], [number])
        found = next((f.order for f in panel.orders if f.order.number == number), None)
        if found is None:
            return OrderAnswer("none", order_number=number)
        return _proved(found, number, text, language)

    def _named_with_proof(self, conv: Conversation, text: str, language: str | None) -> OrderAnswer:
        """The reply to "send the order's number and its email or postcode": the first number in it that is an
        order of the shop's, with its proof (a number alone is asked its proof; no order: ``none``)."""
        candidates = order_numbers(text)
        candidates += [n for n in _BARE_NUMBER.findall(text) if n not in candidates]
        if not candidates:
            return OrderAnswer("none")
        candidates = candidates[:MAX_ASKED_NUMBERS]
        panel = self.lookup.find([], candidates)
        named = next(((n, f.order) for n in candidates for f in panel.orders if f.order.number == n), None)
        if named is None:
            return OrderAnswer("none")
        number, found = named
        others = [w for w in _WORD.findall(text) if any(c.isdigit() for c in w) and _squash(w) != number]
        if not _EMAIL.search(text) and not others:
            return OrderAnswer("verify", phrase(language, "verify", number=number), number)
        return _proved(found, number, text, language)


def _proved(found: Order, number: str, text: str, language: str | None) -> OrderAnswer:
    """The order's state when ``text`` gives its email address or postcode, else ``mismatch``."""
    emails = {e.lower() for e in _EMAIL.findall(text)}
    postcode = _squash(found.shipping_address.zip if found.shipping_address else None)
    words = {_squash(w) for w in _WORD.findall(text)} | {_squash(text)}
    if len(emails) > MAX_PROOF_EMAILS or len({w for w in words if any(c.isdigit() for c in w)}) > MAX_PROOF_NUMBERS:
        return OrderAnswer("mismatch", order_number=number)      # a list of guesses is no proof
    if (found.email and found.email.lower() in emails) or (postcode and postcode in words - {number}):
        told, url = describe(found, language)
        return OrderAnswer("status", told, number, url)
    return OrderAnswer("mismatch", order_number=number)


def _squash(value: str | None) -> str:
    return re.sub(r"[\s-]", "", value or "").lower()
