"""Typed settings, one model per function, read from the environment once per cold start.

Nothing else reads ``os.environ``: a handler builds its settings at import time and passes them on.
"""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shopdesk.channels.email import ShopAddresses
from shopdesk.models.conversation import Priority

DEFAULT_FIRST_RESPONSE = {"urgent": 900, "high": 3600, "normal": 14400, "low": 86400}


class _Settings(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Self:
        return cls.model_validate(dict(os.environ if env is None else env))


class CoreSettings(_Settings):
    table_name: Annotated[str, Field(alias="TABLE_NAME", min_length=1)]
    due_shards: Annotated[int, Field(alias="SLA_DUE_SHARDS", ge=1, le=256)] = 16
    # the country of national phone numbers (a shop's order, a signature): "06 12345678" in NL is +31612345678
    default_phone_region: Annotated[str, Field(alias="DEFAULT_PHONE_REGION", pattern=r"^[A-Z]{2}$")] = "US"
    first_response_targets: Annotated[dict[Priority, int], Field(alias="SLA_FIRST_RESPONSE_TARGETS")] = Field(
        default_factory=lambda: {Priority(k): v for k, v in DEFAULT_FIRST_RESPONSE.items()},
        alias="SLA_FIRST_RESPONSE_TARGETS",
    )

    @field_validator("first_response_targets", mode="before")
    @classmethod
    def _targets(cls, value: object) -> object:
        parsed = json.loads(value) if isinstance(value, str) else value
        if not isinstance(parsed, dict):
            raise ValueError("SLA_FIRST_RESPONSE_TARGETS must be a JSON object of priority -> seconds")
        missing = {p.value for p in Priority} - set(parsed)
        if missing:
            raise ValueError(f"SLA_FIRST_RESPONSE_TARGETS lacks {sorted(missing)}")
        if any(not isinstance(v, int) or isinstance(v, bool) or v <= 0 for v in parsed.values()):
            raise ValueError("SLA_FIRST_RESPONSE_TARGETS must give every priority a positive number of seconds")
        return parsed


class InboundSettings(CoreSettings):
    work_queue_url: Annotated[str, Field(alias="WORK_QUEUE_URL", min_length=1)]
    twilio_secret_arn: Annotated[str, Field(alias="TWILIO_SECRET_ARN", min_length=1)]
    public_base_url: Annotated[str, Field(alias="PUBLIC_BASE_URL")] = ""
    # where a verified request the table could not take is kept for a replay (Twilio never re-delivers); "": none
    ingest_retry_queue_url: Annotated[str, Field(alias="INGEST_RETRY_QUEUE_URL")] = ""
    # its hash_key keys the marks an erase leaves of a customer's numbers, which a replay reads (dal/erased.py)
    hash_key_secret_arn: Annotated[str, Field(alias="HASH_KEY_SECRET_ARN", min_length=1)]


class MetaInboundSettings(CoreSettings):
    work_queue_url: Annotated[str, Field(alias="WORK_QUEUE_URL", min_length=1)]
    meta_secret_arn: Annotated[str, Field(alias="META_SECRET_ARN", min_length=1)]
    media_bucket: Annotated[str, Field(alias="MEDIA_BUCKET")] = ""      # an unsent message's files deleted there


class TelegramInboundSettings(CoreSettings):
    work_queue_url: Annotated[str, Field(alias="WORK_QUEUE_URL", min_length=1)]
    telegram_secret_arn: Annotated[str, Field(alias="TELEGRAM_SECRET_ARN", min_length=1)]
    media_bucket: Annotated[str, Field(alias="MEDIA_BUCKET")] = ""      # a deleted business message's files


class WebchatSettings(CoreSettings):
    work_queue_url: Annotated[str, Field(alias="WORK_QUEUE_URL", min_length=1)]
    webchat_secret_arn: Annotated[str, Field(alias="WEBCHAT_SECRET_ARN", min_length=1)]
    # its hash_key names a one-time code's pointer from the address it was mailed to, as an erase names it
    # (dal/verifications.py)
    hash_key_secret_arn: Annotated[str, Field(alias="HASH_KEY_SECRET_ARN", min_length=1)]
    media_bucket: Annotated[str, Field(alias="MEDIA_BUCKET", min_length=1)]
    allowed_origins: Annotated[str, Field(alias="WIDGET_ALLOWED_ORIGINS")] = ""
    ses_from_address: Annotated[str, Field(alias="SES_FROM_ADDRESS")] = ""     # one-time codes leave from here
    shop_name: Annotated[str, Field(alias="SHOP_NAME")] = "Example Shop"
    live_url: Annotated[str, Field(alias="WIDGET_LIVE_URL")] = ""     # the widget's WebSocket API; "": it polls

    @property
    def origins(self) -> list[str]:
        return _origins(self.allowed_origins)


def _origins(value: str) -> list[str]:
    return [o.strip() for o in value.split(",") if o.strip()]


class WidgetLiveSettings(CoreSettings):
    """The widget's WebSocket API: visitors' sockets, checked like the widget's calls."""

    webchat_secret_arn: Annotated[str, Field(alias="WEBCHAT_SECRET_ARN", min_length=1)]
    allowed_origins: Annotated[str, Field(alias="WIDGET_ALLOWED_ORIGINS")] = ""

    @property
    def origins(self) -> list[str]:
        return _origins(self.allowed_origins)


class ShopMailSettings(_Settings):
    """The shop's mail: the address replies leave from by default, and what SES's receipt rule
    receives for (addresses and domains, comma-separated, as the rule's Recipients name them).

    ``contact_form_senders``: the shop's addresses its website's contact forms send From (the customer in
    Reply-To). Mail From one of them is read as a form's even when it fails SES's DMARC check, as a form's
    mail often does; mail From another address of ours that fails it is refused (anyone can write it).
    Each must be an address named in ``SES_FROM_ADDRESS`` or ``EMAIL_RECIPIENTS``, not just one at a domain."""

    ses_from_address: Annotated[str, Field(alias="SES_FROM_ADDRESS")] = ""
    email_recipients: Annotated[str, Field(alias="EMAIL_RECIPIENTS")] = ""
    contact_form_senders: Annotated[str, Field(alias="CONTACT_FORM_SENDERS")] = ""

    @property
    def shop_addresses(self) -> list[str]:
        """Our mail, the default mailbox first (see shopdesk.channels.email.ShopAddresses)."""
        entries = [self.ses_from_address, *self.email_recipients.split(",")]
        return [entry.strip() for entry in entries if entry.strip()]

    @property
    def contact_form_addresses(self) -> list[str]:
        return [entry.strip().lower() for entry in self.contact_form_senders.split(",") if entry.strip()]

    @model_validator(mode="after")
    def _senders_are_ours(self) -> Self:
        shops = ShopAddresses(self.shop_addresses)
        strangers = [a for a in self.contact_form_addresses if "@" not in a or not shops.is_configured(a)]
        if strangers:
            raise ValueError(f"CONTACT_FORM_SENDERS names {strangers}: each must be an address named in "
                             "SES_FROM_ADDRESS or EMAIL_RECIPIENTS")
        return self


class EmailInboundSettings(CoreSettings, ShopMailSettings):
    work_queue_url: Annotated[str, Field(alias="WORK_QUEUE_URL", min_length=1)]
    media_bucket: Annotated[str, Field(alias="MEDIA_BUCKET", min_length=1)]
    media_max_bytes: Annotated[int, Field(alias="MEDIA_MAX_BYTES", ge=1000)] = 20_000_000
    email_events_topic_arn: Annotated[str, Field(alias="EMAIL_EVENTS_TOPIC_ARN")] = ""


class ProviderSettings(CoreSettings):
    """Where the providers' APIs are and which secrets hold their credentials (senders, media fetchers)."""

    twilio_secret_arn: Annotated[str, Field(alias="TWILIO_SECRET_ARN")] = ""
    twilio_api_base_url: Annotated[str, Field(alias="TWILIO_API_BASE_URL")] = "https://api.twilio.com"
    meta_secret_arn: Annotated[str, Field(alias="META_SECRET_ARN")] = ""
    meta_graph_base_url: Annotated[str, Field(alias="META_GRAPH_BASE_URL")] = "https://graph.facebook.com"
    meta_graph_version: Annotated[str, Field(alias="META_GRAPH_VERSION")] = "v21.0"
    telegram_secret_arn: Annotated[str, Field(alias="TELEGRAM_SECRET_ARN")] = ""
    telegram_api_base_url: Annotated[str, Field(alias="TELEGRAM_API_BASE_URL")] = "https://api.telegram.org"


class KbSettings(_Settings):
    """The knowledge base's embedder: ``packaged`` (multilingual-e5-small inside the layer) or ``bedrock``."""

    kb_embedder: Annotated[Literal["packaged", "bedrock"], Field(alias="KB_EMBEDDER")] = "packaged"
    kb_refresh_seconds: Annotated[int, Field(alias="KB_REFRESH_SECONDS", ge=0, le=3600)] = 30


class RouterSettings(ProviderSettings, KbSettings):
    outbound_queue_url: Annotated[str, Field(alias="OUTBOUND_QUEUE_URL")] = ""
    event_bus_name: Annotated[str, Field(alias="EVENT_BUS_NAME")] = ""
    shop_name: Annotated[str, Field(alias="SHOP_NAME")] = "Example Shop"
    media_bucket: Annotated[str, Field(alias="MEDIA_BUCKET")] = ""
    media_max_bytes: Annotated[int, Field(alias="MEDIA_MAX_BYTES", ge=1000)] = 20_000_000
    media_trusted_hosts: Annotated[str, Field(alias="MEDIA_TRUSTED_HOSTS")] = "fbcdn.net,fbsbx.com,cdninstagram.com"
    # who judges a message's sentiment: the offline cue lists, or Amazon Comprehend where it knows the language
    sentiment_backend: Annotated[Literal["offline", "comprehend"], Field(alias="SENTIMENT_BACKEND")] = "offline"


class TemplateSpec(BaseModel):
    """An approved WhatsApp template: its body with {{1}}.. placeholders and the number of parameters."""

    name: Annotated[str, Field(min_length=1, max_length=512)]
    language: Annotated[str, Field(min_length=2, max_length=16)]
    body: str
    parameters: Annotated[int, Field(ge=0, le=20)] = 0
    twilio_content_sid: str | None = None      # the same template in Twilio's Content API

    def render(self, values: list[str]) -> str:
        text = self.body
        for i, value in enumerate(values, start=1):
            text = text.replace("{{" + str(i) + "}}", value)
        return text


class AgentApiSettings(CoreSettings, KbSettings):
    work_queue_url: Annotated[str, Field(alias="WORK_QUEUE_URL", min_length=1)]
    outbound_queue_url: Annotated[str, Field(alias="OUTBOUND_QUEUE_URL", min_length=1)]
    agent_default_capacity: Annotated[int, Field(alias="AGENT_DEFAULT_CAPACITY", ge=0, le=1000)] = 3
    whatsapp_templates: Annotated[list[TemplateSpec], Field(alias="WHATSAPP_TEMPLATES")] = Field(
        default_factory=list, alias="WHATSAPP_TEMPLATES")
    ses_from_address: Annotated[str, Field(alias="SES_FROM_ADDRESS")] = ""
    media_bucket: Annotated[str, Field(alias="MEDIA_BUCKET")] = ""
    shop_name: Annotated[str, Field(alias="SHOP_NAME")] = "Example Shop"     # {{shop.name}} in replies

    @field_validator("whatsapp_templates", mode="before")
    @classmethod
    def _templates(cls, value: object) -> object:
        return json.loads(value) if isinstance(value, str) else value


class AdminApiSettings(CoreSettings, KbSettings):
    work_queue_url: Annotated[str, Field(alias="WORK_QUEUE_URL", min_length=1)]
    # the agents' WebSocket API's @connections: an agent taken off the desk has their sockets closed
    connections_endpoint: Annotated[str, Field(alias="LIVE_CONNECTIONS_ENDPOINT", min_length=1)]
    media_bucket: Annotated[str, Field(alias="MEDIA_BUCKET")] = ""       # canned responses' files (HeadObject)
    # the messages' files expire with them (messages_days), else after the stack's MediaRetentionDays
    media_retention_days: Annotated[int, Field(alias="MEDIA_RETENTION_DAYS", ge=1)] = 730
    privacy_queue_url: Annotated[str, Field(alias="PRIVACY_QUEUE_URL")] = ""     # export and erase jobs
    export_bucket: Annotated[str, Field(alias="EXPORT_BUCKET")] = ""              # where exports are fetched
    events_bucket: Annotated[str, Field(alias="EVENTS_BUCKET")] = ""   # the lake: its lifecycle follows events_days
    events_prefix: Annotated[str, Field(alias="EVENTS_PREFIX")] = "events/"


class PrivacySettings(CoreSettings):
    """The privacy jobs' function: where the customer's files are and where exports go."""

    media_bucket: Annotated[str, Field(alias="MEDIA_BUCKET")] = ""
    mail_bucket: Annotated[str, Field(alias="MAIL_BUCKET")] = ""    # SES's raw mail: a message names only its key there
    export_bucket: Annotated[str, Field(alias="EXPORT_BUCKET", min_length=1)]
    events_bucket: Annotated[str, Field(alias="EVENTS_BUCKET")] = ""   # the lake: an erase's deletion list goes there
    privacy_queue_url: Annotated[str, Field(alias="PRIVACY_QUEUE_URL")] = ""   # a retention job's next slice
    # the privacy queue's maxReceiveCount: a job's last attempt, whose failure fails the job
    max_receives: Annotated[int, Field(alias="PRIVACY_MAX_RECEIVES", ge=1, le=1000)] = 5
    # its hash_key keys the marks an erase leaves of a customer's numbers (dal/erased.py)
    hash_key_secret_arn: Annotated[str, Field(alias="HASH_KEY_SECRET_ARN", min_length=1)]
    # the widget's WebSocket API's @connections: an erase closes the customer's visitors' sockets ("": none to close)
    widget_connections_endpoint: Annotated[str, Field(alias="WIDGET_CONNECTIONS_ENDPOINT")] = ""


class DispatcherSettings(ProviderSettings, ShopMailSettings):
    outbound_queue_url: Annotated[str, Field(alias="OUTBOUND_QUEUE_URL", min_length=1)]
    twilio_secret_arn: Annotated[str, Field(alias="TWILIO_SECRET_ARN", min_length=1)]
    status_callback_base_url: Annotated[str, Field(alias="STATUS_CALLBACK_BASE_URL")] = ""
    max_attempts: Annotated[int, Field(alias="DISPATCH_MAX_ATTEMPTS", ge=1, le=20)] = 6
    backoff_base_seconds: Annotated[int, Field(alias="DISPATCH_BACKOFF_BASE_SECONDS", ge=1, le=300)] = 5
    # how long a delivery waits for a receipt to confirm a send an earlier delivery left unrecorded (#14)
    reconcile_seconds: Annotated[int, Field(alias="DISPATCH_RECONCILE_SECONDS", ge=1, le=900)] = 120
    ses_configuration_set: Annotated[str, Field(alias="SES_CONFIGURATION_SET")] = ""
    media_bucket: Annotated[str, Field(alias="MEDIA_BUCKET")] = ""       # agents' attachments (presigned GETs)
    # where a failed message of the bot's is reported, for the router to hand the conversation to a person
    work_queue_url: Annotated[str, Field(alias="WORK_QUEUE_URL")] = ""


class SweepSettings(CoreSettings):
    event_bus_name: Annotated[str, Field(alias="EVENT_BUS_NAME", min_length=1)]
    work_queue_url: Annotated[str, Field(alias="WORK_QUEUE_URL", min_length=1)]
    alert_topic_arn: Annotated[str, Field(alias="SLA_ALERT_TOPIC_ARN")] = ""
    # a waiting conversation's breach risk from which a risk warning is raised (shopdesk.logic.breach_risk)
    breach_risk_threshold: Annotated[float, Field(alias="BREACH_RISK_THRESHOLD", gt=0, le=1)] = 0.5
    reply_after_assignment_seconds: Annotated[float, Field(alias="REPLY_AFTER_ASSIGNMENT_SECONDS", gt=0)] = 120.0
    # delayed satisfaction surveys (shopdesk.csat.survey): where they are queued, the template for a closed window
    outbound_queue_url: Annotated[str, Field(alias="OUTBOUND_QUEUE_URL")] = ""
    whatsapp_templates: Annotated[list[TemplateSpec], Field(alias="WHATSAPP_TEMPLATES")] = Field(
        default_factory=list, alias="WHATSAPP_TEMPLATES")
    # retention of inactive customers (shopdesk.privacy.inactive): where their erase jobs are queued
    privacy_queue_url: Annotated[str, Field(alias="PRIVACY_QUEUE_URL")] = ""
    # the agents' WebSocket API's @connections: a socket past its token's expiry is closed by its timer
    live_connections_endpoint: Annotated[str, Field(alias="LIVE_CONNECTIONS_ENDPOINT")] = ""

    @field_validator("whatsapp_templates", mode="before")
    @classmethod
    def _templates(cls, value: object) -> object:
        return json.loads(value) if isinstance(value, str) else value


class LiveSettings(CoreSettings):
    """The WebSocket connections function and the live fan-out."""

    connections_endpoint: Annotated[str, Field(alias="LIVE_CONNECTIONS_ENDPOINT", min_length=1)]
    widget_connections_endpoint: Annotated[str, Field(alias="WIDGET_CONNECTIONS_ENDPOINT")] = ""   # visitors'


class LiveAuthorizerSettings(_Settings):
    """The WebSocket API's $connect authorizer: the user pool whose ID tokens it accepts."""

    token_issuer: Annotated[str, Field(alias="TOKEN_ISSUER", min_length=1)]
    token_audience: Annotated[str, Field(alias="TOKEN_AUDIENCE", min_length=1)]
    jwks_url: Annotated[str, Field(alias="JWKS_URL", min_length=1)]


@cache
def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


class CommerceSettings(CoreSettings):
    """Which shop platform the desk talks to, where its API is, and how long its data is cached."""

    platform: Annotated[Literal["shopify", "woocommerce", "none"], Field(alias="COMMERCE_PLATFORM")] = "none"
    shopify_secret_arn: Annotated[str, Field(alias="SHOPIFY_SECRET_ARN")] = ""
    shopify_admin_base_url: Annotated[str, Field(alias="SHOPIFY_ADMIN_BASE_URL")] = ""
    shopify_shop_domain: Annotated[str, Field(alias="SHOPIFY_SHOP_DOMAIN")] = ""
    woocommerce_secret_arn: Annotated[str, Field(alias="WOOCOMMERCE_SECRET_ARN")] = ""
    woocommerce_base_url: Annotated[str, Field(alias="WOOCOMMERCE_BASE_URL")] = ""
    order_ttl_seconds: Annotated[int, Field(alias="COMMERCE_ORDER_TTL_SECONDS", ge=60)] = 30 * 24 * 3600
    lookup_ttl_seconds: Annotated[int, Field(alias="COMMERCE_LOOKUP_TTL_SECONDS", ge=0)] = 24 * 3600
    order_action_groups: Annotated[str, Field(alias="ORDER_ACTION_GROUPS")] = "supervisors,admins"
    privacy_queue_url: Annotated[str, Field(alias="PRIVACY_QUEUE_URL")] = ""     # the platform's privacy requests

    @property
    def action_groups(self) -> set[str]:
        return {g.strip() for g in self.order_action_groups.split(",") if g.strip()}

    @property
    def shopify_admin_url(self) -> str:
        """The shop's Admin API base: configured (the local sandbox), else https://<shop>.myshopify.com."""
        if self.shopify_admin_base_url:
            return self.shopify_admin_base_url
        return f"https://{self.shopify_shop_domain}" if self.shopify_shop_domain else ""


class SearchSettings(CoreSettings):
    """Full-text search: which engine (``none`` leaves only the exact-key lookups), and where it is."""

    engine: Annotated[Literal["none", "opensearch", "sqlite"], Field(alias="SEARCH_ENGINE")] = "none"
    endpoint: Annotated[str, Field(alias="SEARCH_ENDPOINT")] = ""          # the collection's, for opensearch
    index_name: Annotated[str, Field(alias="SEARCH_INDEX_NAME", min_length=1, max_length=64)] = "messages"
    index_path: Annotated[str, Field(alias="SEARCH_INDEX_PATH")] = ""      # the SQLite file, for sqlite

    @property
    def region(self) -> str:
        return region()

    @field_validator("engine", mode="before")
    @classmethod
    def _engine(cls, value: object) -> object:
        return str(value or "none").strip().lower()

    @model_validator(mode="after")
    def _where(self) -> Self:
        if self.engine == "opensearch" and not self.endpoint:
            raise ValueError("SEARCH_ENGINE=opensearch needs SEARCH_ENDPOINT (the collection endpoint)")
        if self.engine == "sqlite" and not self.index_path:
            raise ValueError("SEARCH_ENGINE=sqlite needs SEARCH_INDEX_PATH (a file path)")
        return self


class AnalyticsSettings(_Settings):
    """The event lake: the writer's Firehose stream, and where reports read the events from.

    ``duckdb`` (the local stack, tests, a small shop) reads the objects under ``EVENTS_BUCKET``/``EVENTS_PREFIX``
    with DuckDB; ``athena`` runs the same SQL, transpiled to Trino, in ``ATHENA_WORKGROUP`` on the Glue table
    ``ATHENA_DATABASE``.``ATHENA_TABLE``."""

    stream_name: Annotated[str, Field(alias="EVENTS_STREAM_NAME")] = ""
    engine: Annotated[Literal["duckdb", "athena"], Field(alias="ANALYTICS_ENGINE")] = "duckdb"
    bucket: Annotated[str, Field(alias="EVENTS_BUCKET")] = ""
    prefix: Annotated[str, Field(alias="EVENTS_PREFIX")] = "events/"
    athena_workgroup: Annotated[str, Field(alias="ATHENA_WORKGROUP")] = ""
    athena_database: Annotated[str, Field(alias="ATHENA_DATABASE")] = ""
    athena_table: Annotated[str, Field(alias="ATHENA_TABLE")] = "events"
    athena_erased_table: Annotated[str, Field(alias="ATHENA_ERASED_TABLE")] = "erased"   # the deletion list

    @model_validator(mode="after")
    def _where(self) -> Self:
        if self.engine == "athena" and not (self.athena_workgroup and self.athena_database):
            raise ValueError("ANALYTICS_ENGINE=athena needs ATHENA_WORKGROUP and ATHENA_DATABASE")
        return self


class ReportsSettings(CoreSettings, AnalyticsSettings):
    """The reports API: the table for the caller's teams (their agent record), the lake for the figures."""
