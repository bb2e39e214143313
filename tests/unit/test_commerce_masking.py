"""An order's and a shop customer's texts are masked before they are cached; what names them is kept as sent."""

from __future__ import annotations

from datetime import UTC, datetime

from shopdesk.commerce.masking import masked_customer, masked_order
from shopdesk.commerce.models import (
    Address,
    Fulfillment,
    LineItem,
    Order,
    Refund,
    RefundedLine,
    ShopCustomer,
    Tracking,
)
from shopdesk.privacy.masking import compile_patterns

CARD = "4111111111111111"
AT = datetime(2026, 12, 1, tzinfo=UTC)


def _order() -> Order:
    return Order(
        platform="shopify", id=CARD, name=f"#{CARD}", number=CARD, created_at=AT, updated_at=AT,
        email=f"{CARD}@example.com", phone="+4111111111111111", customer_id=CARD,
        line_items=[LineItem(id=CARD, title=f"Mug, printed {CARD}", sku=f"MUG-{CARD}", variant_title=f"Red {CARD}")],
        shipping_address=Address(name=f"Ann {CARD}", company="BSN 123456782", address1=f"Main St {CARD}",
                                 zip="94105"),
        fulfillments=[Fulfillment(id=CARD, tracking=[Tracking(number=CARD, company=f"Carrier {CARD}",
                                                              url=f"https://track.example/?n={CARD}")])],
        refunds=[Refund(id=CARD, note=f"refund to NL91 ABNA 0417 1643 00, not {CARD}",
                        line_items=[RefundedLine(line_item_id=CARD, quantity=1)])])


def test_an_orders_texts_are_masked_and_what_names_it_is_kept_as_sent() -> None:
    masked = masked_order(_order(), compile_patterns([("BSN", r"BSN:?\s?\d{9}")]))
    line, address, refund = masked.line_items[0], masked.shipping_address, masked.refunds[0]
    tracking = masked.fulfillments[0].tracking[0]
    assert (line.title, line.sku, line.variant_title) == ("Mug, printed [card •••• 1111]", "MUG-[card •••• 1111]",
                                                          "Red [card •••• 1111]")
    assert address is not None
    assert (address.name, address.company, address.address1, address.zip) == (
        "Ann [card •••• 1111]", "[BSN •••• 6782]", "Main St [card •••• 1111]", "94105")
    assert tracking.company == "Carrier [card •••• 1111]"
    assert refund.note == "refund to [IBAN •••• 4300], not [card •••• 1111]"
    # the ids, the name and number, the email and phone, the tracking number and link: as the platform sent them
    assert (masked.id, masked.name, masked.number, masked.email, masked.phone, masked.customer_id) == (
        CARD, f"#{CARD}", CARD, f"{CARD}@example.com", "+4111111111111111", CARD)
    assert (line.id, masked.fulfillments[0].id, refund.id, refund.line_items) == (
        CARD, CARD, CARD, [RefundedLine(line_item_id=CARD, quantity=1)])
    assert (tracking.number, tracking.url) == (CARD, f"https://track.example/?n={CARD}")


def test_a_shop_customers_names_are_masked_and_its_email_and_phone_kept() -> None:
    customer = ShopCustomer(platform="woocommerce", id="25", email=f"{CARD}@example.com", phone="+4111111111111111",
                            first_name=f"Jo {CARD}", last_name="Doe NL91 ABNA 0417 1643 00", updated_at=AT)
    masked = masked_customer(customer)
    assert (masked.first_name, masked.last_name) == ("Jo [card •••• 1111]", "Doe [IBAN •••• 4300]")
    assert (masked.id, masked.email, masked.phone) == ("25", f"{CARD}@example.com", "+4111111111111111")
