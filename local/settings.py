"""Configuration of the local stack: environment variables and every fake default, in one place."""

from __future__ import annotations

import os
import socket
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ACCOUNT_ID = "123456789012"
STACK_NAME = "shopdesk-local"
FAKE_ACCESS_KEY = "testing"
FAKE_SECRET_KEY = "testing"

# Secrets filled from the environment: secret logical id -> {JSON key: (env var, fake default)}.
# A new channel adds one line here.
SECRET_ENV: dict[str, dict[str, tuple[str, str]]] = {
    "TwilioSecret": {
        "account_sid": ("TWILIO_ACCOUNT_SID", "AC00000000000000000000000000000000"),
        "auth_token": ("TWILIO_AUTH_TOKEN", "fake-twilio-auth-token"),
    },
    "MetaSecret": {
        "app_secret": ("META_APP_SECRET", "fake-meta-app-secret"),
        "verify_token": ("META_VERIFY_TOKEN", "fake-meta-verify-token"),
        "access_token": ("META_ACCESS_TOKEN", "fake-meta-access-token"),
    },
    "TelegramSecret": {
        "bot_token": ("TELEGRAM_BOT_TOKEN", "123456789:fake-telegram-bot-token"),
        "secret_token": ("TELEGRAM_SECRET_TOKEN", "fake-telegram-secret-token"),
    },
    "ShopifySecret": {
        "access_token": ("SHOPIFY_ACCESS_TOKEN", "fake-shopify-access-token"),
        "client_secret": ("SHOPIFY_WEBHOOK_SECRET", "fake-shopify-webhook-secret"),
        "previous_client_secret": ("SHOPIFY_PREVIOUS_WEBHOOK_SECRET", ""),
    },
    "WooCommerceSecret": {
        "consumer_key": ("WOOCOMMERCE_CONSUMER_KEY", "ck_fake_local_consumer_key"),
        "consumer_secret": ("WOOCOMMERCE_CONSUMER_SECRET", "cs_fake_local_consumer_secret"),
        "webhook_secret": ("WOOCOMMERCE_WEBHOOK_SECRET", "fake-woocommerce-webhook-secret"),
    },
    "WebchatSecret": {
        "visitor_secret": ("WEBCHAT_VISITOR_SECRET", "fake-webchat-visitor-secret"),
        "session_secret": ("WEBCHAT_SESSION_SECRET", "fake-webchat-session-secret"),
    },
}
DEFAULT_SES_FROM_ADDRESS = "support@shop.example"

# Demo agents created in the Cognito user pool (username -> display name).
DEMO_AGENTS: dict[str, str] = {"alice": "Alice Example", "bob": "Bob Example"}
# Cognito groups of the demo agents (the template declares the groups): alice administers the desk.
DEMO_GROUPS: dict[str, list[str]] = {"alice": ["admins"]}
# Satisfies the template's password policy (12+ chars, upper, lower, digit); local only.
AGENT_PASSWORD = "Local-Passw0rd-2024"


def secret_values(logical_id: str) -> dict[str, str] | None:
    """The secret's JSON from the environment (or its fake defaults), if the table knows it."""
    keys = SECRET_ENV.get(logical_id)
    if keys is None:
        return None
    return {key: os.environ.get(env, default) for key, (env, default) in keys.items()}


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() not in {"0", "false", "no", "off"}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Settings:
    """Everything the stack reads from its environment."""

    template: Path
    port: int = 3000
    websocket_port: int = 3001
    shop_port: int = 3002               # the demo shop's site, with the widget on its pages (local/shop.py)
    region: str = "us-east-1"
    public_base_url: str = ""
    parameter_overrides: str = ""
    concurrency: int = 4
    seed_agents: tuple[str, ...] = ("alice", "bob")
    status_callbacks: bool = True
    log_level: str = "INFO"
    twilio: dict[str, str] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)
    telegram: dict[str, str] = field(default_factory=dict)
    webchat: dict[str, str] = field(default_factory=dict)
    ses_from_address: str = DEFAULT_SES_FROM_ADDRESS
    build_web: bool = True              # WEB_BUILD=0: serve web/dist as it is
    commerce_platform: str = "shopify"
    shopify: dict[str, str] = field(default_factory=dict)
    woocommerce: dict[str, str] = field(default_factory=dict)
    state_dir: Path | None = None   # files the stack keeps while it runs (the search index)
    live_idle_timeout_s: float = 600.0  # a WebSocket with no message either way this long is closed, as in AWS

    @property
    def commerce(self) -> dict[str, str]:
        """What the commerce sandboxes check and sign with (the same values the secrets hold)."""
        return {"shopify_access_token": self.shopify.get("access_token", ""),
                "shopify_client_secret": self.shopify.get("client_secret", ""),
                "woocommerce_consumer_key": self.woocommerce.get("consumer_key", ""),
                "woocommerce_consumer_secret": self.woocommerce.get("consumer_secret", ""),
                "woocommerce_webhook_secret": self.woocommerce.get("webhook_secret", "")}

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def websocket_base_url(self) -> str:
        return f"ws://127.0.0.1:{self.websocket_port}"

    @property
    def webhook_base_url(self) -> str:
        """Where providers' webhooks go: the public URL if there is one, else the stack itself."""
        return self.public_base_url or self.base_url

    @property
    def agents(self) -> dict[str, str]:
        """Cognito users to create: the demo agents plus anyone named in SEED_AGENTS."""
        names = dict(DEMO_AGENTS)
        for agent in self.seed_agents:
            names.setdefault(agent, f"{agent.capitalize()} Example")
        return names

    def local_parameter_defaults(self) -> dict[str, str]:
        """Template parameters the local stack sets (those the template declares) unless
        PARAMETER_OVERRIDES says otherwise."""
        return {
            "PublicBaseUrl": self.webhook_base_url,
            "TwilioApiBaseUrl": f"{self.base_url}/_sandbox/twilio",
            "MetaGraphBaseUrl": f"{self.base_url}/_sandbox/meta",
            "TelegramApiBaseUrl": f"{self.base_url}/_sandbox/telegram",
            "SesFromAddress": self.ses_from_address,
            "CommercePlatform": self.commerce_platform,
            "ShopifyAdminBaseUrl": f"{self.base_url}/_sandbox/shopify",
            "ShopifyShopDomain": "shopdesk-demo.myshopify.com",     # the sandbox's shop (local/commerce.py SHOP_DOMAIN)
            "WooCommerceBaseUrl": f"{self.base_url}/_sandbox/woocommerce",
            "DispatchBackoffBaseSeconds": "1",
            "AnalyticsEngine": "duckdb",        # reports read the lake's objects in moto's S3 with DuckDB
            **({"SearchEngine": "sqlite", "SearchIndexPath": str(self.state_dir / "search.sqlite3")}
               if self.state_dir else {}),
            "InboxUrl": self.base_url,          # the gateway serves the web inbox itself
            # the demo shop's site (both its names), and the origin the tests call from (samconfig's dev one; the
            # template has no default)
            "WidgetAllowedOrigins": f"http://localhost:8080,http://localhost:{self.shop_port},"
                                    f"http://127.0.0.1:{self.shop_port}",
        }

    @classmethod
    def from_env(cls, template: str | None = None) -> Settings:
        env = os.environ
        seed = env.get("SEED_AGENTS", "alice,bob")
        port = int(env.get("PORT") or 3000)
        websocket_port = int(env.get("WS_PORT") or port + 1)
        shop_port = int(env.get("SHOP_PORT") or port + 2)
        return cls(
            template=Path(template or env.get("TEMPLATE") or "template.yaml").resolve(),
            port=port,
            websocket_port=websocket_port or _free_port(),
            shop_port=shop_port or _free_port(),
            region=env.get("REGION") or "us-east-1",
            public_base_url=(env.get("PUBLIC_BASE_URL") or "").rstrip("/"),
            parameter_overrides=env.get("PARAMETER_OVERRIDES", ""),
            concurrency=max(1, int(env.get("LOCAL_CONCURRENCY") or 4)),
            seed_agents=tuple(a.strip() for a in seed.split(",") if a.strip()),
            status_callbacks=_flag("SANDBOX_STATUS_CALLBACKS", True),
            log_level=(env.get("LOCAL_LOG_LEVEL") or "INFO").upper(),
            twilio=secret_values("TwilioSecret") or {},
            meta=secret_values("MetaSecret") or {},
            telegram=secret_values("TelegramSecret") or {},
            webchat=secret_values("WebchatSecret") or {},
            ses_from_address=env.get("SES_FROM_ADDRESS") or DEFAULT_SES_FROM_ADDRESS,
            build_web=_flag("WEB_BUILD", True),
            commerce_platform=env.get("COMMERCE_PLATFORM") or "shopify",
            shopify=secret_values("ShopifySecret") or {},
            woocommerce=secret_values("WooCommerceSecret") or {},
            state_dir=Path(env.get("LOCAL_STATE_DIR") or tempfile.mkdtemp(prefix="shopdesk-local-")).resolve(),
            live_idle_timeout_s=max(0.0, float(env.get("LIVE_IDLE_TIMEOUT_S") or 600)),
        )
