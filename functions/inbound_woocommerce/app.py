"""WooCommerce webhooks: order and customer topics (signed), and the unsigned ping sent when one is saved."""

from __future__ import annotations

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shopdesk import phone
from shopdesk.api.commerce import install_webhook_errors, webhook_answer
from shopdesk.commerce.platform import store_for
from shopdesk.commerce.webhooks import WebhookReceiver
from shopdesk.config import CommerceSettings
from shopdesk.dal.customers import Customers
from shopdesk.dal.secrets import json_secret
from shopdesk.dal.table import Table
from shopdesk.logic.merge import Merger
from shopdesk.logic.webhooks import raw_body

settings = CommerceSettings.from_env()
logger = Logger()
phone.use_shop_region(settings.default_phone_region)     # national numbers on the shop's orders
merger = Merger(Customers(Table(settings.table_name)))


def link_contact(email: str | None, phone_number: str | None, order: str | None) -> None:
    """An applied customer record or order links its email and phone by the identity rules (logic/merge.py)."""
    merger.link_shop_record(email, phone_number, order=order)


receiver = WebhookReceiver(store_for(settings, "woocommerce"), on_contact=link_contact)
app = APIGatewayHttpResolver()
install_webhook_errors(app)


@app.post("/webhooks/woocommerce")
def inbound() -> Response:
    secret = json_secret(settings.woocommerce_secret_arn)["webhook_secret"]
    return webhook_answer(receiver.woocommerce(raw_body(app.current_event.raw_event), app.current_event.headers,
                                               secret))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
