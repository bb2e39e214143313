"""Twilio webhooks (SMS, MMS, WhatsApp): inbound messages and delivery status callbacks; and the ingest-retry
queue, where a verified request the table could not take waits to be replayed (Twilio never re-delivers)."""

from __future__ import annotations

import json

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shopdesk import bounds
from shopdesk.api.webhooks import map_errors
from shopdesk.batch import fifo_processor
from shopdesk.channels.twilio import EMPTY_TWIML
from shopdesk.config import InboundSettings
from shopdesk.dal.conversations import Conversations
from shopdesk.dal.erased import ErasedAddresses
from shopdesk.dal.queues import Queue
from shopdesk.dal.secrets import json_secret
from shopdesk.dal.table import Table
from shopdesk.logic.webhooks import (
    IngestRetry,
    KeptRequest,
    Outcome,
    WebhookProcessor,
    public_url,
    raw_body,
    receive_twilio_message,
    receive_twilio_status,
    replay,
    replay_delay,
)
from shopdesk.logs import logger_for

settings = InboundSettings.from_env()
logger = logger_for()
processor = WebhookProcessor(Conversations(Table(settings.table_name), settings.due_shards),
                             Queue(settings.work_queue_url, webhook=True), settings.first_response_targets)
processor.prime()       # the privacy settings (masking, retention) at cold start: ingest keeps its budget
# both queues with the client bounded for the webhooks (dal.aws): a send that hangs gives up within the 14 s
retry_queue = Queue(settings.ingest_retry_queue_url, webhook=True) if settings.ingest_retry_queue_url else None
retry = IngestRetry(retry_queue, processor.privacy) if retry_queue else None     # masks with what prime read
# the marks an erase leaves of a customer's numbers: a replay drops a message kept before its sender was erased
erased = ErasedAddresses(processor.conversations.table,
                         lambda: str(json_secret(settings.hash_key_secret_arn)["hash_key"]))
app = APIGatewayHttpResolver()
map_errors(app)     # refused 403, malformed 400; what the table could not take is kept for a replay (200)
# a customer's kept messages replayed in order; a failed replay is logged with its cause and counted (shopdesk.batch)
replays = fifo_processor(logger)


def _request() -> dict:
    event = app.current_event
    url = public_url(settings.public_base_url, event.request_context.domain_name, event.raw_path,
                     event.raw_query_string)
    # a form is UTF-8 text: bytes that are not are a 400 (malformed), from anyone, before any signature is checked
    body = bounds.text(raw_body(event.raw_event))
    return {"url": url, "body": body, "signature": event.headers.get("x-twilio-signature"),
            "auth_token": json_secret(settings.twilio_secret_arn)["auth_token"]}


def _twiml(outcome: Outcome) -> Response:
    # Twilio reads TwiML only; what the request left in the table rides in a header for people and tools.
    return Response(200, "text/xml", EMPTY_TWIML, headers={"X-Shopdesk-Outcome": json.dumps(outcome.counts())})


@app.post("/webhooks/twilio")
@app.post("/webhooks/twilio/messaging")
def inbound() -> Response:
    return _twiml(receive_twilio_message(**_request(), processor=processor, retry=retry))


@app.post("/webhooks/twilio/status")
def status() -> Response:
    return _twiml(receive_twilio_status(**_request(), processor=processor, retry=retry))


def replay_kept(record: SQSRecord) -> None:
    replay(KeptRequest.model_validate(record.json_body), processor, erased)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    if "Records" not in event:
        return app.resolve(event, context)
    # the ingest-retry queue: kept requests replayed; a failed one waits out its backoff, then the dead-letter queue
    result = process_partial_response(event=event, record_handler=replay_kept, processor=replays, context=context)
    failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
    receipts = {r["receiptHandle"]: replay_delay(int(r["attributes"].get("ApproximateReceiveCount") or 1))
                for r in event["Records"] if r["messageId"] in failed}
    if receipts and retry_queue is not None:
        retry_queue.delay_retries(receipts)
    return result
