"""Outbound queue consumer: sends replies through the provider, in order, with backoff retries; a message that failed
for good is reported to the router: the bot's hands the conversation to a person, a person's reply that was the
first response is one no longer (logic.refused)."""

from __future__ import annotations

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shopdesk.batch import fifo_processor
from shopdesk.config import DispatcherSettings
from shopdesk.dal.conversations import Conversations
from shopdesk.dal.media import PROVIDER_FETCH_SECONDS, MediaStore
from shopdesk.dal.queues import Queue
from shopdesk.dal.table import Table
from shopdesk.logic.dispatch import OutboundWork, RetryLater, RetryPolicy, dispatch
from shopdesk.logic.senders import Senders
from shopdesk.logic.work import enqueue_send_failed
from shopdesk.logs import logger_for
from shopdesk.models import Message

settings = DispatcherSettings.from_env()
logger = logger_for()
conversations = Conversations(Table(settings.table_name), settings.due_shards)
outbound = Queue(settings.outbound_queue_url)
policy = RetryPolicy(settings.max_attempts, settings.backoff_base_seconds)
work_queue = Queue(settings.work_queue_url) if settings.work_queue_url else None     # messages failed for good
status_callback = (settings.status_callback_base_url.rstrip("/") + "/webhooks/twilio/status"
                   if settings.status_callback_base_url else None)
# A failed record is logged with its cause and counted (shopdesk.batch); a provider's backoff is a retry, not a failure.
processor = fifo_processor(logger, retry=(RetryLater,))
_delays: dict[str, int] = {}     # message group -> backoff chosen for its failed record, this batch


media = MediaStore(settings.media_bucket) if settings.media_bucket else None
# Providers fetch an agent's file from a presigned link (an hour: they fetch at once, and a retry gets a new one);
# email and Telegram uploads read the bytes themselves.
file_url = ((lambda a: media.presign(a.storage_key or "", a.filename, PROVIDER_FETCH_SECONDS,
                                     content_type=a.content_type)) if media else None)
senders = Senders(settings, read_file=(lambda f: media.read(f.key or "")) if media else None)


def on_failed(message: Message) -> None:
    """A reply failed for good: one of the bot's that the conversation waits on (a person takes it) or a person's
    (its first response taken back) goes to the router."""
    if work_queue is not None:
        enqueue_send_failed(work_queue, message)


def handle(record: SQSRecord) -> str:
    work = OutboundWork.model_validate(record.json_body)
    try:
        return dispatch(work, int(record.attributes.approximate_receive_count), conversations, senders, policy,
                        status_callback, file_url, settings.reconcile_seconds, on_failed)
    except RetryLater as retry:
        _delays[record.attributes.message_group_id or ""] = retry.delay_seconds
        raise


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    _delays.clear()
    result = process_partial_response(event=event, record_handler=handle, processor=processor, context=context)
    failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
    # Failed records (and the later ones of their group, skipped to keep order) wait out the backoff.
    receipts = {r["receiptHandle"]: _delays.get(r["attributes"].get("MessageGroupId", ""), policy.base_seconds)
                for r in event["Records"] if r["messageId"] in failed}
    if receipts:
        outbound.delay_retries(receipts)
    return result
