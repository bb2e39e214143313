"""Twilio webhooks (SMS, MMS, WhatsApp): inbound messages and delivery status callbacks."""

from __future__ import annotations

import json

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shopdesk.api.webhooks import map_errors
from shopdesk.channels.twilio import EMPTY_TWIML
from shopdesk.config import InboundSettings
from shopdesk.dal.conversations import Conversations
from shopdesk.dal.queues import Queue
from shopdesk.dal.secrets import json_secret
from shopdesk.dal.table import Table
from shopdesk.logic.webhooks import (
    Outcome,
    WebhookProcessor,
    public_url,
    receive_twilio_message,
    receive_twilio_status,
)
from shopdesk.logs import logger_for

settings = InboundSettings.from_env()
logger = logger_for()
processor = WebhookProcessor(Conversations(Table(settings.table_name), settings.due_shards),
                             Queue(settings.work_queue_url), settings.first_response_targets)
processor.prime()       # the privacy settings (masking, retention) at cold start: ingest keeps its budget
app = APIGatewayHttpResolver()
map_errors(app)     # refused 403, malformed 400, busy 503 (nothing half-stored: Twilio may retry)


def _request() -> dict:
    event = app.current_event
    url = public_url(settings.public_base_url, event.request_context.domain_name, event.raw_path,
                     event.raw_query_string)
    return {"url": url, "body": event.decoded_body or "", "signature": event.headers.get("x-twilio-signature"),
            "auth_token": json_secret(settings.twilio_secret_arn)["auth_token"]}


def _twiml(outcome: Outcome) -> Response:
    # Twilio reads TwiML only; what the request left in the table rides in a header for people and tools.
    return Response(200, "text/xml", EMPTY_TWIML, headers={"X-Shopdesk-Outcome": json.dumps(outcome.counts())})


@app.post("/webhooks/twilio")
@app.post("/webhooks/twilio/messaging")
def inbound() -> Response:
    return _twiml(receive_twilio_message(**_request(), processor=processor))


@app.post("/webhooks/twilio/status")
def status() -> Response:
    return _twiml(receive_twilio_status(**_request(), processor=processor))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
