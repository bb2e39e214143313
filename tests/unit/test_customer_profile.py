"""A customer's attributes at a glance, from what the customer view already read."""

from __future__ import annotations

from datetime import UTC, datetime

from shopdesk.commerce.models import Order
from shopdesk.logic.customers import profile
from shopdesk.models import Conversation, CustomerRef, ReplyRoute
from shopdesk.models.customer import Customer

T0 = datetime(2026, 11, 1, 9, tzinfo=UTC)


def _conv(channel: str, day: int) -> Conversation:
    at = datetime(2026, 11, day, 12, tzinfo=UTC)
    return Conversation(id=f"c_{day}", channel=channel, created_at=at, updated_at=at,
                        customer=CustomerRef(id="u_1", name="Ana", identities=[]),
                        route=ReplyRoute(channel=channel, to="x", sender="y"))


def _order(name: str, total: str, currency: str = "EUR", day: int = 3, **extra) -> Order:
    return Order(platform="shopify", id=name, name=name, number=name.lstrip("#"),
                 created_at=datetime(2026, 10, day, tzinfo=UTC), updated_at=datetime(2026, 10, day, tzinfo=UTC),
                 total=total, currency=currency, **extra)


def test_the_profile_says_since_when_where_and_what_they_bought():
    customer = Customer(id="u_1", name="Ana", identities=[], created_at=T0, language="es")
    attributes = profile(customer, [_conv("whatsapp", 20), _conv("email", 5)], [
        _order("#1001", "20.50"), _order("#1002", "9.50", day=9), _order("#1003", "30", "USD", day=2),
        _order("#1004", "99", cancelled_at=datetime(2026, 10, 4, tzinfo=UTC)),
        _order("#1005", "15", financial_status="refunded")])
    assert attributes == {
        "channels": ["email", "whatsapp"], "customer_since": "2026-11-01T09:00:00.000Z", "language": "es",
        "last_contact_at": "2026-11-20T12:00:00.000Z",
        "recent_orders": {"count": 5, "spent": {"EUR": "30.00", "USD": "30"},
                          "last_order_at": "2026-10-09T00:00:00.000Z"}}


def test_a_new_customer_has_little_to_show():
    assert profile(Customer(id="u_2", name=None, identities=[]), [], []) == {"channels": []}
