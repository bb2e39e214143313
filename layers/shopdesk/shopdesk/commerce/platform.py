"""The commerce adapter and cache of a function, chosen from its settings once per cold start."""

from __future__ import annotations

from shopdesk.commerce import Commerce
from shopdesk.commerce.shopify import ShopifyCommerce
from shopdesk.commerce.woocommerce import WooCommerce
from shopdesk.config import CommerceSettings
from shopdesk.dal.commerce import CommerceStore
from shopdesk.dal.secrets import json_secret
from shopdesk.dal.table import Table


def commerce_for(settings: CommerceSettings) -> Commerce | None:
    """The configured platform's adapter (credentials read on first use, from Secrets Manager); None for
    ``COMMERCE_PLATFORM=none``."""
    if settings.platform == "shopify":
        if not settings.shopify_admin_url or not settings.shopify_secret_arn:
            raise ValueError("COMMERCE_PLATFORM=shopify needs SHOPIFY_SHOP_DOMAIN (or SHOPIFY_ADMIN_BASE_URL) "
                             "and SHOPIFY_SECRET_ARN")
        arn = settings.shopify_secret_arn
        return ShopifyCommerce(settings.shopify_admin_url, lambda: str(json_secret(arn)["access_token"]))
    if settings.platform == "woocommerce":
        if not settings.woocommerce_base_url or not settings.woocommerce_secret_arn:
            raise ValueError("COMMERCE_PLATFORM=woocommerce needs WOOCOMMERCE_BASE_URL and WOOCOMMERCE_SECRET_ARN")
        arn = settings.woocommerce_secret_arn

        def credentials() -> tuple[str, str]:
            secret = json_secret(arn)
            return str(secret["consumer_key"]), str(secret["consumer_secret"])

        return WooCommerce(settings.woocommerce_base_url, credentials)
    return None


def store_for(settings: CommerceSettings, platform: str | None = None, *, answering: bool = False) -> CommerceStore:
    """``answering``: the table with the bounded DynamoDB client (``dal.table.Table``), for the APIs."""
    return CommerceStore(Table(settings.table_name, answering=answering), platform or settings.platform,
                         order_ttl_seconds=settings.order_ttl_seconds, lookup_ttl_seconds=settings.lookup_ttl_seconds)
