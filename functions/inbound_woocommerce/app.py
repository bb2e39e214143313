"""WooCommerce webhooks: order and customer topics (signed), and the unsigned ping sent when one is saved."""

from __future__ import annotations

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shopdesk.api.webhooks import commerce_webhook
from shopdesk.logs import logger_for

logger = logger_for()
app = commerce_webhook("woocommerce")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
