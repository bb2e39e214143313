"""Table stream consumer, one concern: live notices to the agents' open WebSocket connections (and a bare
``changed`` to the web-chat visitors' sockets on the widget's WebSocket API).

A record that fails (its log write or a post) fails alone (``batchItemFailures``); Lambda retries
from it, and after the retries the batch's details go to the on-failure queue.
"""

from __future__ import annotations

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shopdesk.batch import stream_processor
from shopdesk.config import LiveSettings
from shopdesk.dal.live import ChangeLog, ConnectionPoster, Connections, visibilities
from shopdesk.dal.table import Table
from shopdesk.logic.live import LiveBatch
from shopdesk.logs import logger_for

settings = LiveSettings.from_env()
logger = logger_for()
metrics = Metrics()
table = Table(settings.table_name)
log, connections = ChangeLog(table), Connections(table)
poster = ConnectionPoster(settings.connections_endpoint)
visitors = ConnectionPoster(settings.widget_connections_endpoint) if settings.widget_connections_endpoint else None
processor = stream_processor(logger)    # a failed record is logged with its cause and counted (shopdesk.batch)


def lookup(conversation_ids: list[str]) -> dict:
    return visibilities(table, conversation_ids)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    batch = LiveBatch.of(event.get("Records") or [], log, connections, poster, lookup, visitors)

    def handle(record: DynamoDBRecord) -> None:
        batch.handle(record.raw_event)

    response = process_partial_response(event=event, record_handler=handle, processor=processor, context=context)
    metrics.add_metric(name="LiveNoticesSent", unit=MetricUnit.Count, value=batch.sent)
    metrics.add_metric(name="LiveStaleConnections", unit=MetricUnit.Count, value=len(batch.gone))
    metrics.add_metric(name="LiveVisitorNotices", unit=MetricUnit.Count, value=batch.visitor_frames)
    return response
