"""Media fetchers per provider, built on first use with credentials from Secrets Manager."""

from __future__ import annotations

from shopdesk.channels.base import Media
from shopdesk.config import RouterSettings
from shopdesk.dal.secrets import json_secret
from shopdesk.errors import ProviderError
from shopdesk.logic.media import Fetcher, twilio_fetcher, url_fetcher
from shopdesk.models import Attachment


def _lazy(build):  # type: ignore[no-untyped-def]
    built: list[Fetcher] = []

    def fetch(attachment: Attachment, max_bytes: int) -> Media:
        if not built:
            built.append(build())
        return built[0](attachment, max_bytes)
    return fetch


def fetchers(s: RouterSettings) -> dict[str, Fetcher]:
    def twilio() -> Fetcher:
        secret = json_secret(s.twilio_secret_arn)
        return twilio_fetcher(s.twilio_api_base_url, secret["account_sid"], secret["auth_token"])

    def whatsapp() -> Fetcher:
        from shopdesk.channels.meta import GraphClient
        graph = GraphClient(s.meta_graph_base_url, json_secret(s.meta_secret_arn)["access_token"],
                            s.meta_graph_version)

        def fetch(attachment: Attachment, max_bytes: int) -> Media:
            if not attachment.media_id:
                raise ProviderError("no media id", code="no_media_id", retryable=False)
            return graph.fetch_media(attachment.media_id, max_bytes=max_bytes, filename=attachment.filename)
        return fetch

    def telegram() -> Fetcher:
        from shopdesk.channels import telegram as tg
        token = json_secret(s.telegram_secret_arn)["bot_token"]

        def fetch(attachment: Attachment, max_bytes: int) -> Media:
            if not attachment.media_id:
                raise ProviderError("no file id", code="no_media_id", retryable=False)
            return tg.fetch_media(s.telegram_api_base_url, token, attachment.media_id, max_bytes)
        return fetch

    trusted = [h.strip() for h in s.media_trusted_hosts.split(",") if h.strip()]
    found: dict[str, Fetcher] = {"messenger": url_fetcher("Messenger", trusted),
                                 "instagram": url_fetcher("Instagram", trusted)}
    if s.twilio_secret_arn:
        found["twilio"] = _lazy(twilio)
    if s.meta_secret_arn:
        found["whatsapp_cloud"] = _lazy(whatsapp)
    if s.telegram_secret_arn:
        found["telegram"] = _lazy(telegram)
    return found
