"""``python -m scripts.backfill masking``: orders and shop customers the commerce cache stored before it masked them
are masked with the masking it writes with now, page by page; what is masked already is not written again, so a
second run writes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from scripts import backfill

from shopdesk.commerce.lookup import OrderLookup
from shopdesk.commerce.models import Address, LineItem, Order, Refund, ShopCustomer
from shopdesk.dal.commerce import CommerceStore
from shopdesk.dal.table import Table
from shopdesk.models import Identity
from shopdesk.privacy import remask
from tests.integration.test_privacy import admin

CARD = "4111 1111 1111 1111"                # kept: 1111
IBAN = "NL91 ABNA 0417 1643 00"             # kept: 4300
BSN = "BSN 123456782"                       # the shop's own pattern; kept: 6782
AT = datetime(2026, 11, 20, tzinfo=UTC)


class _AsSent:
    """The cache as it was before it masked: what the platform sent, stored as it is."""

    def order(self, order: Order) -> Order:
        return order

    def customer(self, customer: ShopCustomer) -> ShopCustomer:
        return customer


def _store(desk: Any, platform: str, masking: Any = None) -> CommerceStore:
    return CommerceStore(Table(desk.table_name), platform, order_ttl_seconds=30 * 86400, lookup_ttl_seconds=86400,
                         masking=masking)


def _order(platform: str, order_id: str, number: str, email: str) -> Order:
    return Order(platform=platform, id=order_id, name=f"#{number}", number=number, created_at=AT, updated_at=AT,
                 email=email, line_items=[LineItem(id=f"{order_id}1", title=f"Mug, engraved {CARD}")],
                 shipping_address=Address(name=f"Ann {CARD}", address1=f"Main St 1 {IBAN}", company=BSN),
                 refunds=[Refund(id=f"{order_id}9", note=f"refund to {IBAN}, not {CARD}")])


def _cache(desk: Any, store: CommerceStore, order: Order) -> None:
    store.upsert_order(order.id, lambda stored: order, delivery_id=None, topic="read")


def _body(desk: Any, pk: str) -> dict[str, Any]:
    item = desk.item(pk)
    assert item is not None
    return json.loads(item["body"])


def _run(desk: Any, capsys: Any, *extra: str) -> str:
    assert backfill.main(["masking", "--table", desk.table_name, "--endpoint-url", desk.endpoint,
                          "--region", "us-east-1", *extra]) == 0
    return capsys.readouterr().out


def test_orders_and_shop_customers_cached_before_masking_are_masked_once_by_the_scan(desk, capsys, monkeypatch):
    # Given the shop's own pattern, and two orders and a shop customer cached unmasked by an earlier version (one
    # order from each platform), beside an order cached since, masked as it was written
    status, saved = admin(desk, "PUT", "/admin/privacy/settings",
                          {"masking_patterns": [{"name": "BSN", "pattern": r"BSN:?\s?\d{9}"}]})
    assert status == 200, saved
    _cache(desk, _store(desk, "shopify", _AsSent()), _order("shopify", "7001", "1001", "ann@example.com"))
    _cache(desk, _store(desk, "woocommerce", _AsSent()), _order("woocommerce", "88", "88", "ann@example.com"))
    _store(desk, "shopify", _AsSent()).apply_customer(
        ShopCustomer(platform="shopify", id="501", email="ann@example.com", first_name=f"Ann {CARD}",
                     last_name=f"Lee {IBAN}", updated_at=AT), "w-remask-customer", "customers/create")
    fresh = _store(desk, "shopify")
    fresh.cache_orders([_order("shopify", "7002", "1002", "bo@example.com")], lambda stored, new: new)
    before = {pk: desk.item(pk) for pk in ("ORDER#shopify#7001", "ORDER#woocommerce#88", "ORDER#shopify#7002")}
    assert CARD in before["ORDER#shopify#7001"]["body"] and CARD not in before["ORDER#shopify#7002"]["body"]
    monkeypatch.setattr(remask, "PAGE", 3)           # the walk takes many pages: the table is never read at once

    # When an operator counts first (a dry run), nothing is written
    out = _run(desk, capsys, "--dry-run")
    assert "masking: orders: 3 read, would write 2 masked" in out and "shop customers: 1 read, would write 1" in out
    assert desk.item("ORDER#shopify#7001") == before["ORDER#shopify#7001"]

    # When the scan runs
    out = _run(desk, capsys)
    assert "masking: orders: 3 read, wrote 2 masked" in out and "masking: shop customers: 1 read, wrote 1 masked" in out

    # Then the orders cached unmasked hold their texts masked as the cache masks them now, the last four kept
    for pk in ("ORDER#shopify#7001", "ORDER#woocommerce#88"):
        order = _body(desk, pk)
        assert order["line_items"][0]["title"] == "Mug, engraved [card •••• 1111]"
        assert order["shipping_address"]["name"] == "Ann [card •••• 1111]"
        assert order["shipping_address"]["address1"] == "Main St 1 [IBAN •••• 4300]"
        assert order["shipping_address"]["company"] == "[BSN •••• 6782]"
        assert order["refunds"][0]["note"] == "refund to [IBAN •••• 4300], not [card •••• 1111]"
        item = desk.item(pk)
        # its version moved on (a webhook that read it before merges again), its expiry and lookups' fields did not
        assert item["version"] == before[pk]["version"] + 1 and item["ttl"] == before[pk]["ttl"]
        assert (item["number"], item["email"], item["updated_at"]) == (
            before[pk]["number"], before[pk]["email"], before[pk]["updated_at"])
    customer = _body(desk, "SHOPCUSTOMER#shopify#501")
    assert (customer["first_name"], customer["last_name"]) == ("Ann [card •••• 1111]", "Lee [IBAN •••• 4300]")
    # the one cached masked was not written
    assert desk.item("ORDER#shopify#7002") == before["ORDER#shopify#7002"]
    # and the panel finds the orders by their email and number as before, masked
    panel = OrderLookup(fresh, None).find([Identity(kind="email", address="ann@example.com")], ["1001"])
    assert [(f.order.id, sorted(f.matched_by)) for f in panel.orders] == [("7001", ["email", "number"])]
    assert panel.orders[0].order.shipping_address.name == "Ann [card •••• 1111]"

    # When it runs again, it writes nothing
    after = {pk: desk.item(pk) for pk in (*before, "SHOPCUSTOMER#shopify#501")}
    out = _run(desk, capsys)
    assert "masking: orders: 3 read, wrote 0 masked" in out and "masking: shop customers: 1 read, wrote 0 masked" in out
    assert {pk: desk.item(pk) for pk in after} == after
