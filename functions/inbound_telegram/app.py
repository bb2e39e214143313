"""Telegram bot webhook: messages, edits, reactions, button presses (secret-token checked)."""

from __future__ import annotations

import json

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shopdesk.api.webhooks import map_errors, processor_for
from shopdesk.config import TelegramInboundSettings
from shopdesk.dal.secrets import json_secret
from shopdesk.logic.webhooks import raw_body, receive_telegram
from shopdesk.logs import logger_for

settings = TelegramInboundSettings.from_env()
logger = logger_for()
processor = processor_for(settings)
app = APIGatewayHttpResolver()
map_errors(app)


@app.post("/webhooks/telegram")
def inbound() -> Response:
    answer = receive_telegram(body=raw_body(app.current_event.raw_event),
                              secret_header=app.current_event.headers.get("x-telegram-bot-api-secret-token"),
                              secret=json_secret(settings.telegram_secret_arn)["secret_token"], processor=processor)
    return Response(200, "application/json", json.dumps(answer) if answer else "{}")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
