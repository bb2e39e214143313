"""Table stream consumer, one concern: keep a conversation's own small items in step with it: its label items
in the ByLabel index, and the expiry of its grants and mentions.

A labelled conversation's status and latest activity change on many paths (a customer's message, a reply, a
status change, the sweep); rather than make each of them write the label items (ingest would need a read it
does not make), this function moves them when the conversation item changes (shopdesk.logic.labels.follow).
Label changes themselves write the items in their own transaction, so a filter finds a label at once. A
conversation resolved under retention expires (``ttl``); its grants and mentions take the same expiry, and lose
it when it reopens (shopdesk.logic.labels.follow_expiry), so nothing of it outlives it.

A record that fails fails alone (``batchItemFailures``); after the retries the batch's details go to the
on-failure queue (its alarm rings), and the next change of the conversation puts its items right again.
"""

from __future__ import annotations

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shopdesk.batch import stream_processor
from shopdesk.config import CoreSettings
from shopdesk.dal.conversations import Conversations
from shopdesk.dal.table import Table
from shopdesk.logic.labels import follow, follow_expiry
from shopdesk.logs import logger_for

settings = CoreSettings.from_env()
logger = logger_for()
metrics = Metrics()
conversations = Conversations(Table(settings.table_name), settings.due_shards)
processor = stream_processor(logger)    # a failed record is logged with its cause and counted (shopdesk.batch)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    done: dict[str, int] = {}

    def handle(record: DynamoDBRecord) -> None:
        data = record.dynamodb
        if data is None:
            raise ValueError(f"stream record {record.event_id} carries no dynamodb section")
        outcome = follow(conversations, data.new_image, data.old_image)
        done[outcome] = done.get(outcome, 0) + 1
        done["expiry"] = done.get("expiry", 0) + follow_expiry(conversations, data.new_image, data.old_image)

    response = process_partial_response(event=event, record_handler=handle, processor=processor, context=context)
    metrics.add_metric(name="LabelItemsMoved", unit=MetricUnit.Count, value=done.get("moved", 0))
    logger.info("label index followed", extra={"outcomes": done})
    return response
