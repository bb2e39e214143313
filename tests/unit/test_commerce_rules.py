"""Order numbers in messages, applying updates in order, and Shopify's cost-based throttling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shopdesk.commerce import CommerceUnavailable, ordering
from shopdesk.commerce.models import Fulfillment, LineItem, Order, Refund, RefundedLine, Tracking
from shopdesk.commerce.numbers import order_numbers
from shopdesk.commerce.shopify import GraphQL

T0 = datetime(2026, 3, 2, 15, 15, tzinfo=UTC)


@pytest.mark.parametrize(("text", "expected"), [
    ("Hi! Where is order #1001?", ["1001"]),
    ("#1001", ["1001"]),
    ("my order 1001 has not arrived", ["1001"]),
    ("Order no. 1001 and order number 1002", ["1001", "1002"]),
    ("¿Dónde está mi pedido 1001?", ["1001"]),
    ("Wo ist meine Bestellung 1001?", ["1001"]),
    ("Bestellnummer: 1005", ["1005"]),
    ("Siparişim nerede? sipariş 1001", ["1001"]),
    ("siparis no 1007", ["1007"]),
    ("Di mana pesanan 1001 saya?", ["1001"]),
    ("Kde je moje objednávka 1001?", ["1001"]),
    ("objednavka č. 1009", ["1009"]),
    ("encomenda 2002 e pedido #2003", ["2002", "2003"]),
    ("ORDER #1001 and #1001 again", ["1001"]),
])
def test_order_numbers_in_many_languages(text: str, expected: list[str]) -> None:
    assert order_numbers(text) == expected


@pytest.mark.parametrize("text", [
    "Call me on +1 415 555 0101", "It cost 1001 dollars", "I ordered 3 things on 12/01/2026",
    "issue#1001", "", None, "order 12",
])
def test_numbers_that_are_not_order_numbers(text: str | None) -> None:
    assert order_numbers(text) == []


def _order(updated: datetime, status: str = "paid", **changes: Any) -> Order:
    base = {"platform": "shopify", "id": "820982911946154508", "name": "#9999", "number": "9999",
            "created_at": T0, "updated_at": updated, "financial_status": status}
    return Order(**{**base, **changes})


def test_an_older_update_never_overwrites_a_newer_one() -> None:
    newer, older = _order(T0 + timedelta(minutes=1), "paid"), _order(T0, "pending")
    stored = ordering.merge(None, newer)
    assert ordering.merge(stored, older) is None        # arrives second, older: nothing changes
    assert ordering.merge(stored, newer) is None        # the same update again: nothing changes


def test_a_newer_update_replaces_the_order_fields() -> None:
    stored = _order(T0, "pending")
    merged = ordering.merge(stored, _order(T0 + timedelta(seconds=1), "paid"))
    assert merged is not None and merged.financial_status == "paid"


def test_fulfilments_merge_by_id_each_newest_wins_even_from_an_older_order_update() -> None:
    shipped = Fulfillment(id="1", status="success", updated_at=T0 + timedelta(hours=2),
                          tracking=[Tracking(number="1Z", company="UPS")])
    stale = Fulfillment(id="1", status="pending", updated_at=T0)
    stored = _order(T0 + timedelta(hours=3), fulfillments=[shipped])
    merged = ordering.merge(stored, _order(T0 + timedelta(hours=1), fulfillments=[stale, Fulfillment(id="2")]))
    assert merged is not None
    assert [(f.id, f.status) for f in merged.fulfillments] == [("1", "success"), ("2", None)]
    assert merged.updated_at == stored.updated_at


def test_a_fulfilment_before_its_order_makes_a_partial_order_the_order_completes() -> None:
    fulfillment = Fulfillment(id="5", status="success", updated_at=T0 + timedelta(days=1),
                              tracking=[Tracking(number="1Z9")])
    partial = ordering.partial_order("shopify", "820982911946154508", name="#9999.1", created_at=T0,
                                     fulfillment=fulfillment)
    assert partial.partial and partial.name == "#9999"
    merged = ordering.merge(ordering.merge(None, partial), _order(T0, "paid"))       # older than the fulfilment
    assert merged is not None and not merged.partial
    assert merged.financial_status == "paid" and [t.number for t in merged.tracking] == ["1Z9"]


def test_refunds_are_added_once() -> None:
    refund = Refund(id="r1", amount="10.00")
    stored = _order(T0)
    with_refund = ordering.merge(stored, ordering.partial_order("shopify", stored.id, name=None, created_at=None,
                                                                refund=refund))
    assert with_refund is not None and [r.id for r in with_refund.refunds] == ["r1"]
    again = ordering.partial_order("shopify", stored.id, name=None, created_at=None, refund=refund)
    assert ordering.merge(with_refund, again) is None


def test_a_refunds_line_items_are_kept_and_a_lines_refunded_count_never_goes_down() -> None:
    socks = [LineItem(id="11002", title="Wool socks", quantity=2, price="10.00")]
    known = Refund(id="r1", amount="20.00", line_items=[RefundedLine(line_item_id="11002", quantity=2)])
    stored = ordering.merge(None, _order(T0, "partially_refunded", line_items=socks, refunds=[known]))
    assert stored is not None and stored.line_items[0].refunded_quantity == 0     # as the platform said it
    read = ordering.merge(stored, _order(T0 + timedelta(minutes=1), line_items=socks, refunds=[known]))
    assert read is not None and read.line_items[0].refunded_quantity == 2 and read.line_items[0].left_to_refund == 0
    # a newer update that lists the refund without its lines (WooCommerce's order webhook) forgets nothing
    webhook = _order(T0 + timedelta(minutes=2), line_items=socks, refunds=[Refund(id="r1", amount="20.00")])
    after = ordering.merge(read, webhook)
    assert after is not None and after.refunds[0].line_items == known.line_items
    assert after.line_items[0].refunded_quantity == 2


def test_a_deleted_woocommerce_order_goes_to_the_bin_unless_newer() -> None:
    stored = _order(T0, platform="woocommerce")
    binned = ordering.deleted(stored, T0 + timedelta(minutes=5))
    assert binned is not None and binned.platform_status == "trash" and binned.cancelled
    assert ordering.deleted(stored, T0 - timedelta(minutes=5)) is None


# ------------------------------------------------------------------------------ throttling

class _Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds


def _cost(requested: float, available: float, *, actual: float | None = None) -> dict[str, Any]:
    return {"cost": {"requestedQueryCost": requested, "actualQueryCost": actual,
                     "throttleStatus": {"maximumAvailable": 1000.0, "currentlyAvailable": available,
                                        "restoreRate": 50.0}}}


THROTTLED = {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]}


def _client(answers: list[tuple[int, dict[str, Any]]], clock: _Clock, budget: float = 10.0) -> GraphQL:
    graphql = GraphQL("http://shop.invalid/graphql.json", lambda: "token", budget_seconds=budget,
                      sleep=clock.sleep, monotonic=lambda: clock.now)
    graphql._post = lambda query, variables: answers.pop(0)  # type: ignore[method-assign]
    return graphql


def test_throttled_answer_waits_requested_minus_available_over_restore_rate_then_retries() -> None:
    clock = _Clock()
    answers = [(200, {**THROTTLED, "extensions": _cost(300, 100)}),
               (200, {"data": {"ok": True}, "extensions": _cost(300, 700, actual=280)})]
    assert _client(answers, clock).execute("query { ok }", {}) == {"ok": True}
    assert clock.slept == [4.0]                         # (300 - 100) / 50


def test_a_query_the_bucket_cannot_pay_for_waits_before_it_is_sent() -> None:
    clock = _Clock()
    answers = [(200, {"data": {"a": 1}, "extensions": _cost(400, 100, actual=400)}),
               (200, {"data": {"a": 2}, "extensions": _cost(400, 0, actual=400)})]
    graphql = _client(answers, clock)
    graphql.execute("query { a }", {})
    graphql.execute("query { a }", {})
    assert clock.slept == [6.0]                         # 100 available, 400 needed, 50 a second


def test_throttling_past_the_budget_gives_up_with_a_clear_error() -> None:
    clock = _Clock()
    answers = [(200, {**THROTTLED, "extensions": _cost(1000, 0)}) for _ in range(5)]
    with pytest.raises(CommerceUnavailable, match="rate limit"):
        _client(answers, clock, budget=5.0).execute("query { a }", {})
    assert sum(clock.slept) <= 5.0


def test_http_429_counts_as_throttled() -> None:
    clock = _Clock()
    answers = [(429, {"errors": "Exceeded 2 calls per second"}), (200, {"data": {"a": 1}})]
    assert _client(answers, clock).execute("query { a }", {}) == {"a": 1}
    assert len(clock.slept) == 1


def test_graphql_errors_and_server_errors_are_unavailable_not_empty() -> None:
    for answer in [(200, {"errors": [{"message": "Field 'x' doesn't exist"}]}), (502, {})]:
        with pytest.raises(CommerceUnavailable):
            _client([answer], _Clock()).execute("query { a }", {})


# ------------------------------------------------------------------------------ what a conversation looks up

def _conversation() -> Any:
    from shopdesk.models import Conversation, CustomerRef, Direction, Identity, Message, ReplyRoute

    routes = {"sms": ReplyRoute(channel="sms", to="+14155550101", sender="+14155550199"),
              "whatsapp": ReplyRoute(channel="whatsapp", to="whatsapp:+14155550101", sender="whatsapp:+1415"),
              "email": ReplyRoute(channel="email", to="Dana.Rivera@Example.com", sender="support@shop.example",
                                  provider="ses")}
    messages = [Message(id=f"m{i}", conversation_id="c1", direction=direction, text=text, created_at=T0)
                for i, (direction, text) in enumerate([(Direction.INBOUND, "order #1001 please"),
                                                       (Direction.OUTBOUND, "Your order 2002 is mine"),
                                                       (Direction.INBOUND, "and pedido 1004, also #1001")])]
    return Conversation(id="c1", customer=CustomerRef(id="u1", identities=[Identity(kind="phone",
                                                                                      address="+14155550101")]),
                        channel="sms", route=routes["sms"], routes=routes, created_at=T0, updated_at=T0,
                        messages=messages)


def test_a_conversation_is_looked_up_by_its_phones_and_emails_once_each() -> None:
    from shopdesk.commerce.lookup import conversation_identities

    assert [(i.kind, i.address) for i in conversation_identities(_conversation())] == \
        [("phone", "+14155550101"), ("email", "dana.rivera@example.com")]


def test_only_the_customers_messages_name_orders_most_recent_first() -> None:
    from shopdesk.commerce.lookup import named_numbers

    assert named_numbers(_conversation()) == ["1004", "1001"]     # the agent's "2002" is not the customer's
