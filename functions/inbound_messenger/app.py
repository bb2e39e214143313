"""Messenger webhooks: verification handshake, messages, receipts and events (batched, signed)."""

from __future__ import annotations

from functools import partial

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shopdesk.api.webhooks import meta_webhook
from shopdesk.channels import messenger
from shopdesk.logs import logger_for

logger = logger_for()
app = meta_webhook("/webhooks/messenger", partial(messenger.parse, provider="messenger"))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
