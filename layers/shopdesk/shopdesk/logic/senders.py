"""Which sender carries a reply, by provider, built on first use with credentials from Secrets Manager.

A provider whose credentials or settings are missing fails the send with a clear, permanent
error (the reply shows why) instead of failing the whole batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from shopdesk.channels.base import OutboundFile, OutboundRequest, Sender, SendResult
from shopdesk.config import DispatcherSettings
from shopdesk.dal.secrets import json_secret
from shopdesk.errors import ProviderError


class WebchatSender:
    """The widget polls for replies: sending is storing, so a reply is 'sent' at once."""

    def send(self, request: OutboundRequest) -> SendResult:
        return SendResult(provider_id=f"webchat:{request.to}:{request.reply_context or ''}", status="sent")


@dataclass
class _PerRequest:
    """A sender whose shop-side address (WhatsApp phone number id, Page id) comes with each request."""

    build: Callable[[str], Sender]

    def send(self, request: OutboundRequest) -> SendResult:
        return self.build(request.sender).send(request)


class Senders:
    def __init__(self, settings: DispatcherSettings, read_file: Callable[[OutboundFile], bytes] | None = None):
        self.settings = settings
        self.read_file = read_file        # an agent's file from the media bucket (email, Telegram uploads)
        self._built: dict[str, Sender] = {}

    def __call__(self, provider: str) -> Sender:
        if provider not in self._built:
            self._built[provider] = self._build(provider)
        return self._built[provider]

    def _secret(self, arn: str, provider: str) -> dict[str, str]:
        if not arn:
            raise ProviderError(f"{provider} is not configured for this deployment", code="not_configured",
                                retryable=False)
        return json_secret(arn)

    def _build(self, provider: str) -> Sender:
        s = self.settings
        if provider == "twilio":
            from shopdesk.channels.twilio import Credentials, TwilioSender
            secret = self._secret(s.twilio_secret_arn, provider)
            return TwilioSender(Credentials(secret["account_sid"], secret["auth_token"]), s.twilio_api_base_url)
        if provider == "whatsapp_cloud":
            from shopdesk.channels.meta import GraphClient
            from shopdesk.channels.whatsapp_cloud import WhatsAppSender
            graph = GraphClient(s.meta_graph_base_url, self._secret(s.meta_secret_arn, provider)["access_token"],
                                s.meta_graph_version)
            return _PerRequest(lambda phone_number_id: WhatsAppSender(graph, phone_number_id))
        if provider in ("messenger", "instagram"):
            from shopdesk.channels.messenger import MessengerSender
            from shopdesk.channels.meta import GraphClient
            graph = GraphClient(s.meta_graph_base_url, self._secret(s.meta_secret_arn, provider)["access_token"],
                                s.meta_graph_version)
            return _PerRequest(lambda page_id: MessengerSender(graph, page_id, provider))
        if provider == "telegram":
            from shopdesk.channels.telegram import TelegramSender
            return TelegramSender(s.telegram_api_base_url, self._secret(s.telegram_secret_arn, provider)["bot_token"],
                                  read_file=self.read_file)
        if provider == "email":
            from shopdesk.channels.ses import SesSender
            if not s.ses_from_address:
                raise ProviderError("email is not configured (SES_FROM_ADDRESS)", code="not_configured",
                                    retryable=False)
            return SesSender(s.ses_from_address, s.ses_configuration_set or None, shop_addresses=s.shop_addresses,
                             read_file=self.read_file)
        if provider == "webchat":
            return WebchatSender()
        raise ProviderError(f"no sender for provider {provider!r}", code="not_configured", retryable=False)
