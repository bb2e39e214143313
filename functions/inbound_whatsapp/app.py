"""WhatsApp Cloud API webhooks: verification handshake, messages, statuses (batched, signed)."""

from __future__ import annotations

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shopdesk.api.webhooks import meta_webhook
from shopdesk.channels import whatsapp_cloud
from shopdesk.logs import logger_for

logger = logger_for()
app = meta_webhook("/webhooks/whatsapp", whatsapp_cloud.parse)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
