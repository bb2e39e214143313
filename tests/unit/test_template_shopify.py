"""The template's Shopify parameters: a deployment that names its shop by ``ShopifyAdminBaseUrl`` and leaves
``ShopifyShopDomain`` at its default still hears its own shop's webhooks (the other-shop check is off, never on
against a placeholder that names no real shop)."""

from __future__ import annotations

from typing import Any

from local.template import load_template
from shopdesk.commerce.webhooks import WebhookReceiver
from tests.commerce_support import commerce_sample
from tests.support import ROOT

TEMPLATE = load_template(ROOT / "template.yaml")
SAMPLE_SECRET = "test_shopify_client_secret"        # what the shared samples are signed with


class _Recorded:
    """The cache, as far as an order delivery reaches it: what was applied."""

    def __init__(self) -> None:
        self.orders: list[str] = []

    def apply_order(self, incoming: Any, merge: Any, delivery_id: str, topic: str) -> Any:
        self.orders.append(incoming.id)
        return incoming

    def record_delivery(self, delivery: str, topic: str) -> None:
        pass


def test_the_default_shop_domain_ignores_no_real_shops_delivery():
    default = TEMPLATE["Parameters"]["ShopifyShopDomain"]["Default"]
    store = _Recorded()
    receiver = WebhookReceiver(store, shop_domain=default)      # as SHOPIFY_SHOP_DOMAIN reaches the function
    body, meta = commerce_sample("shopify", "orders_create")    # a real shop's delivery, signed
    outcome = receiver.shopify(body, meta["http"]["headers"], [SAMPLE_SECRET])
    assert outcome.result == "applied" and len(store.orders) == 1, outcome


def test_every_function_given_the_shop_domain_takes_it_from_the_parameter():
    given = {name: fn["Properties"]["Environment"]["Variables"]["SHOPIFY_SHOP_DOMAIN"]
             for name, fn in TEMPLATE["Resources"].items() if fn["Type"] == "AWS::Serverless::Function"
             and "SHOPIFY_SHOP_DOMAIN" in fn["Properties"].get("Environment", {}).get("Variables", {})}
    assert "InboundShopifyFunction" in given
    assert all(value == {"Ref": "ShopifyShopDomain"} for value in given.values()), given
