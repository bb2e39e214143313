"""Every minute: flag passed SLA deadlines (due index only), publish breach events, re-drive work."""

from __future__ import annotations

from dataclasses import asdict

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from shopdesk.config import SweepSettings
from shopdesk.dal.conversations import Conversations
from shopdesk.dal.events import EventBus
from shopdesk.dal.queues import Queue
from shopdesk.dal.table import Table
from shopdesk.logic.sla import sweep

settings = SweepSettings.from_env()
logger = Logger()
conversations = Conversations(Table(settings.table_name), settings.due_shards)
bus = EventBus(settings.event_bus_name)
work = Queue(settings.work_queue_url)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return asdict(sweep(conversations, bus, work, settings.due_shards))
