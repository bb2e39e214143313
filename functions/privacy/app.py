"""Privacy queue consumer: runs a customer's export or erase, or a slice of a retention job
(shopdesk.privacy.jobs.PrivacyWorker). The event lake an export reads is opened at the first export."""

from __future__ import annotations

from functools import cache

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shopdesk.analytics import lake_for
from shopdesk.batch import fifo_processor
from shopdesk.config import AnalyticsSettings, PrivacySettings
from shopdesk.dal.agents import Agents
from shopdesk.dal.audit import AuditLog
from shopdesk.dal.config import ConfigStore
from shopdesk.dal.conversations import Conversations
from shopdesk.dal.erased import ErasedAddresses
from shopdesk.dal.lake import LakeBucket
from shopdesk.dal.live import ConnectionPoster
from shopdesk.dal.privacy import Files, PrivacyJobStore, SubjectData
from shopdesk.dal.queues import Queue
from shopdesk.dal.secrets import json_secret
from shopdesk.dal.table import Table
from shopdesk.dal.verifications import CodeNames, Verifications
from shopdesk.logs import logger_for
from shopdesk.privacy.audit import AuditTrail
from shopdesk.privacy.erase import Eraser
from shopdesk.privacy.jobs import PrivacyWorker
from shopdesk.privacy.settings import PrivacyPolicies

settings = PrivacySettings.from_env()
analytics = AnalyticsSettings.from_env()       # the lake an export reads, through the reports' engine
logger = logger_for()
table = Table(settings.table_name)
files = Files()
data = SubjectData(table)
lake = LakeBucket(settings.events_bucket) if settings.events_bucket else None
jobs = PrivacyJobStore(table)
# an erase marks the customer's numbers, keyed with the hash key (HashKeySecret, read at the first erase)
erased = ErasedAddresses(table, lambda: str(json_secret(settings.hash_key_secret_arn)["hash_key"]))
# and finds the web-chat codes asked for their addresses by the same key, as the web chat names their pointers
codes = CodeNames(Verifications(table), lambda: str(json_secret(settings.hash_key_secret_arn)["hash_key"]))
# and closes their web-chat visitors' open sockets
sockets = ConnectionPoster(settings.widget_connections_endpoint) if settings.widget_connections_endpoint else None
worker = PrivacyWorker(jobs, data, files, Eraser(data, files, Agents(table), lake, jobs, erased, codes, sockets),
                       AuditTrail(AuditLog(table), PrivacyPolicies(ConfigStore(table))), settings.media_bucket or None,
                       settings.export_bucket, Conversations(table, settings.due_shards),
                       Queue(settings.privacy_queue_url) if settings.privacy_queue_url else None,
                       settings.max_receives,
                       cache(lambda: lake_for(analytics)) if analytics.bucket or analytics.engine == "athena" else None,
                       mail_bucket=settings.mail_bucket or None)
processor = fifo_processor(logger)      # a failed record is logged with its cause and counted (shopdesk.batch)


def handle(record: SQSRecord, lambda_context: LambdaContext) -> None:
    if record.json_body.get("uploads"):       # a done erase's last look at its conversations' uploads (the sweep's)
        outcome = worker.erase_uploads(str(record.json_body["job_id"]),
                                       int(record.attributes.approximate_receive_count))
    else:
        outcome = worker.run(str(record.json_body["job_id"]),
                             lambda: lambda_context.get_remaining_time_in_millis() / 1000,
                             int(record.attributes.approximate_receive_count))
    logger.info("privacy job", extra={"job_id": record.json_body["job_id"], "outcome": outcome})


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=handle, processor=processor, context=context)
