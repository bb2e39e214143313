"""Shopify webhooks: orders, fulfilments, refunds, customers, and the mandatory privacy topics (signed)."""

from __future__ import annotations

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shopdesk.api.webhooks import commerce_webhook
from shopdesk.dal.audit import AuditLog
from shopdesk.dal.config import ConfigStore
from shopdesk.logs import logger_for
from shopdesk.privacy.audit import AuditTrail
from shopdesk.privacy.settings import PrivacyPolicies

logger = logger_for()
# a privacy request's arrival, and one about nobody held, are on the audit trail (system:shopify)
app = commerce_webhook("shopify", trail=lambda table: AuditTrail(AuditLog(table), PrivacyPolicies(ConfigStore(table))))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
