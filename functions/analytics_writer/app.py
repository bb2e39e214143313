"""Table stream consumer, one concern: the event lake. Each record's events (shopdesk.analytics.events) go to
the Firehose stream in one PutRecordBatch per batch.

A record whose events cannot be derived fails alone (``batchItemFailures``); a sink that keeps refusing
fails the batch, which Lambda retries (bisected) and finally describes on the on-failure queue. Events carry
deterministic ids, so what a retry sends twice is counted once.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shopdesk.analytics.events import Event, derive
from shopdesk.analytics.firehose import FirehoseSink
from shopdesk.batch import stream_processor
from shopdesk.config import AnalyticsSettings
from shopdesk.dal.table import deserialize
from shopdesk.logs import logger_for

settings = AnalyticsSettings.from_env()
logger = logger_for()
metrics = Metrics()
sink = FirehoseSink(settings.stream_name)
processor = stream_processor(logger)    # a failed record is logged with its cause and counted (shopdesk.batch)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    found: list[Event] = []

    def handle(record: DynamoDBRecord) -> None:
        data = record.raw_event.get("dynamodb") or {}
        written = data.get("ApproximateCreationDateTime")
        found.extend(derive(record.raw_event["eventName"], deserialize(data.get("Keys") or {}),
                            deserialize(data["NewImage"]) if "NewImage" in data else None,
                            deserialize(data["OldImage"]) if "OldImage" in data else None,
                            datetime.fromtimestamp(float(written), UTC) if written is not None else None))

    response = process_partial_response(event=event, record_handler=handle, processor=processor, context=context)
    if found:
        sink.put(found)
    metrics.add_metric(name="LakeEventsWritten", unit=MetricUnit.Count, value=len(found))
    return response
