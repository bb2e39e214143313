"""What the shop's platform says of an order or a customer, masked before the commerce cache stores it.

Customers type into a shop's checkout as freely as into a message: a card number in the name or an address line, an
IBAN in a gift message that becomes a line item's title. Every text of an order or a shop customer is masked as
ingest masks a message (``privacy.masking``: card numbers, IBANs and the shop's own patterns, the last four kept):
names, titles and address parts as a name is (``mask_name``), a refund's note as a text is (``mask``).

What names rather than says is kept exactly as the platform sent it, since lookups and the platform's own API use it:
the order's, line items', fulfilments' and refunds' ids, the order's name and number (the number pointers and the
customer's proof), the email and phone (the email and phone pointers, and the evidence the identity rules read), the
statuses, amounts and currency, and a shipment's tracking number and link (the carrier's, which the inbox links and
the bot sends to the customer). Nothing else of the platform's record is stored: an order's note, its note
attributes, tags and line items' properties are not read at all (``shopify``, ``woocommerce``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shopdesk.commerce.models import Address, Fulfillment, LineItem, Order, Refund, ShopCustomer, Tracking
from shopdesk.privacy.masking import Pattern, mask, mask_name
from shopdesk.privacy.settings import PrivacyPolicies


def _name(value: str | None, patterns: Sequence[Pattern]) -> str | None:
    return mask_name(value, patterns).text if value else value


def _text(value: str | None, patterns: Sequence[Pattern]) -> str | None:
    return mask(value, patterns).text if value else value


def _line(line: LineItem, patterns: Sequence[Pattern]) -> LineItem:
    return line.model_copy(update={"title": _name(line.title, patterns) or "",
                                   "sku": _name(line.sku, patterns),
                                   "variant_title": _name(line.variant_title, patterns)})


def _address(address: Address | None, patterns: Sequence[Pattern]) -> Address | None:
    if address is None:
        return None
    return address.model_copy(update={field: _name(getattr(address, field), patterns) for field in (
        "name", "company", "address1", "address2", "city", "zip", "province")})


def _tracking(tracking: Tracking, patterns: Sequence[Pattern]) -> Tracking:
    return tracking.model_copy(update={"company": _name(tracking.company, patterns)})


def _fulfillment(fulfillment: Fulfillment, patterns: Sequence[Pattern]) -> Fulfillment:
    return fulfillment.model_copy(update={"tracking": [_tracking(t, patterns) for t in fulfillment.tracking]})


def _refund(refund: Refund, patterns: Sequence[Pattern]) -> Refund:
    return refund.model_copy(update={"note": _text(refund.note, patterns)})


def masked_order(order: Order, patterns: Sequence[Pattern] = ()) -> Order:
    """The order with every text masked (line items' titles, SKUs and variants, the shipping address, the carriers'
    names, the refunds' notes); its ids, name, number, email, phone, tracking numbers and links as they were."""
    return order.model_copy(update={
        "line_items": [_line(li, patterns) for li in order.line_items],
        "shipping_address": _address(order.shipping_address, patterns),
        "fulfillments": [_fulfillment(f, patterns) for f in order.fulfillments],
        "refunds": [_refund(r, patterns) for r in order.refunds]})


def masked_customer(customer: ShopCustomer, patterns: Sequence[Pattern] = ()) -> ShopCustomer:
    """The shop's customer record with the first and last name masked; its id, email and phone as they were."""
    return customer.model_copy(update={"first_name": _name(customer.first_name, patterns),
                                       "last_name": _name(customer.last_name, patterns)})


@dataclass
class RecordMasking:
    """The masking the commerce cache applies to what it is about to store, with the shop's patterns in force (read
    at most every five minutes, as the inbound functions read them: ``PrivacyPolicies``)."""

    privacy: PrivacyPolicies

    def order(self, order: Order) -> Order:
        return masked_order(order, self.privacy.current().patterns)

    def customer(self, customer: ShopCustomer) -> ShopCustomer:
        return masked_customer(customer, self.privacy.current().patterns)

    def prime(self) -> None:
        """Read the patterns now (cold start), so no webhook pays for it."""
        self.privacy.prime()
