"""Email in: mail SES stored in S3 (S3 event), and SES notifications over SNS (HTTP POST)."""

from __future__ import annotations

import urllib.parse

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from shopdesk.api.webhooks import map_errors
from shopdesk.config import EmailInboundSettings
from shopdesk.dal.conversations import Conversations
from shopdesk.dal.media import MediaStore
from shopdesk.dal.queues import Queue
from shopdesk.dal.table import Table
from shopdesk.logic.email_inbound import EmailReceiver, thread_finder
from shopdesk.logic.webhooks import WebhookProcessor, raw_body
from shopdesk.logs import logger_for

settings = EmailInboundSettings.from_env()
logger = logger_for()
conversations = Conversations(Table(settings.table_name), settings.due_shards)
receiver = EmailReceiver(
    WebhookProcessor(conversations, Queue(settings.work_queue_url, answering=True), settings.first_response_targets,
                     thread_finder(conversations)),
    MediaStore(settings.media_bucket), settings.shop_addresses, settings.media_max_bytes,
    [settings.email_events_topic_arn] if settings.email_events_topic_arn else [],
    contact_form_senders=settings.contact_form_addresses)
receiver.processor.prime()       # the privacy settings at cold start
app = APIGatewayHttpResolver()
map_errors(app)


@app.post("/webhooks/email/sns")
def sns_notification() -> Response:
    outcome = receiver.receive_sns(raw_body(app.current_event.raw_event))
    return Response(200, "application/json", f'{{"status": "{outcome}"}}')


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    if "Records" in event:          # S3: the receipt rule stored a message; a failure is retried by Lambda
        outcomes = [receiver.receive_stored(record["s3"]["bucket"]["name"],
                                            urllib.parse.unquote_plus(record["s3"]["object"]["key"]))
                    for record in event["Records"]]
        # a re-delivered message (its Message-ID already stored) is a duplicate, not a second message
        return {"stored": sum(len(o.stored) for o in outcomes), "duplicates": sum(o.duplicates for o in outcomes)}
    return app.resolve(event, context)
