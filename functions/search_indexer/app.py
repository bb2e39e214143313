"""Table stream consumer, one concern: keep the full-text search index in step with the messages.

A record that fails (the engine refused or was unreachable) fails alone (``batchItemFailures``); Lambda
retries from it, and after the retries the batch's details go to the on-failure queue (its alarm rings).
A batch that removed something (an erase, an expiry, an unsent message) or indexed a message or a name again over
other words (the masking scan, an edit, a rename) ends with ``index.purge()``, so what it removed or replaced leaves the
engine's files too; if that fails the whole batch is retried (every operation is idempotent).
"""

from __future__ import annotations

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shopdesk.batch import stream_processor
from shopdesk.config import SearchSettings
from shopdesk.logs import logger_for
from shopdesk.search import search_for
from shopdesk.search.feed import PURGES, apply

settings = SearchSettings.from_env()
logger = logger_for()
metrics = Metrics()
index = search_for(settings)
processor = stream_processor(logger)    # a failed record is logged with its cause and counted (shopdesk.batch)
if index is None:
    raise RuntimeError("the search indexer needs SEARCH_ENGINE=opensearch or sqlite")


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    done: dict[str, int] = {}

    def handle(record: DynamoDBRecord) -> None:
        data = record.dynamodb
        if data is None:
            raise ValueError(f"stream record {record.event_id} carries no dynamodb section")
        outcome = apply(index, record.raw_event["eventName"], data.keys or {}, data.new_image, data.old_image)
        done[outcome] = done.get(outcome, 0) + 1

    response = process_partial_response(event=event, record_handler=handle, processor=processor, context=context)
    if PURGES & done.keys():
        index.purge()
    metrics.add_metric(name="SearchDocumentsIndexed", unit=MetricUnit.Count,
                       value=done.get("indexed", 0) + done.get("replaced", 0))
    logger.info("search index updated", extra={"outcomes": done})
    return response
