"""Every minute: flag passed SLA deadlines (due index only), publish breach events, re-drive work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

from aws_lambda_powertools.utilities.typing import LambdaContext

from shopdesk import metrics
from shopdesk.config import SweepSettings
from shopdesk.csat.survey import SURVEY_TIMER, SurveyDesk
from shopdesk.dal.agents import Agents
from shopdesk.dal.alerts import AlertTopic
from shopdesk.dal.config import ConfigStore
from shopdesk.dal.conversations import Conversations, Later
from shopdesk.dal.csat import Surveys
from shopdesk.dal.events import EventBus
from shopdesk.dal.live import EXPIRY_TIMER, ConnectionPoster, Connections
from shopdesk.dal.queues import Queue
from shopdesk.dal.retention import INACTIVE_TIMER
from shopdesk.dal.table import Table
from shopdesk.logic import refused
from shopdesk.logic.breach_risk import RiskSettings
from shopdesk.logic.live import LiveConnections
from shopdesk.logic.sla import sweep
from shopdesk.logic.sla_engine import book_for
from shopdesk.logs import logger_for
from shopdesk.privacy.inactive import timer_runner
from shopdesk.privacy.jobs import MASKING_SETTLE_TIMER, SETTLE_TIMER, UPLOADS_TIMER, settle_runner, uploads_runner

settings = SweepSettings.from_env()
logger = logger_for()
conversations = Conversations(Table(settings.table_name), settings.due_shards)
bus = EventBus(settings.event_bus_name)
work = Queue(settings.work_queue_url)
outbound = Queue(settings.outbound_queue_url) if settings.outbound_queue_url else None   # replies never taken up
alerts = AlertTopic(settings.alert_topic_arn) if settings.alert_topic_arn else None
book = book_for(conversations, settings.first_response_targets)
agents = Agents(conversations.table)
risk = RiskSettings(threshold=settings.breach_risk_threshold,
                    reply_after_assignment_seconds=settings.reply_after_assignment_seconds)
surveys = (SurveyDesk(Surveys(conversations), ConfigStore(conversations.table), outbound,
                      settings.whatsapp_templates, default_language=lambda: book.routing().default_language)
           if outbound else None)
on_timer: dict[str, Callable[[str], object]] = {SURVEY_TIMER: surveys.send_scheduled} if surveys else {}  # surveys
# a first response refused for good whose report the work queue did not take (logic.refused)
on_timer[refused.REFUSED_TIMER] = refused.timer_runner(conversations, book)
if settings.privacy_queue_url:           # retention of inactive customers: erased when their timer comes due
    on_timer[INACTIVE_TIMER] = timer_runner(settings.table_name, settings.privacy_queue_url)
    # a retention save's second pass, once every writer has read the new settings
    on_timer[SETTLE_TIMER] = settle_runner(settings.table_name, settings.privacy_queue_url)
    # ... and a masking patterns save's (what writers holding the old patterns stored meanwhile, masked)
    on_timer[MASKING_SETTLE_TIMER] = settle_runner(settings.table_name, settings.privacy_queue_url, "masking")
    # an erase's last look at its conversations' uploads, once no upload link issued before it can be used
    on_timer[UPLOADS_TIMER] = uploads_runner(settings.table_name, settings.privacy_queue_url)
if settings.live_connections_endpoint:   # an agent socket past its token's expiry, heard from or not: closed
    sockets = LiveConnections(Connections(conversations.table, settings.due_shards), agents,
                              ConnectionPoster(settings.live_connections_endpoint))

    def close_expired(connection_id: str) -> Later | None:
        again = sockets.expire(connection_id)
        return Later(again) if again else None

    on_timer[EXPIRY_TIMER] = close_expired


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    report = sweep(conversations, bus, work, settings.due_shards, alerts=alerts, book=book, agents=agents,
                   time_left=lambda: context.get_remaining_time_in_millis() / 1000, risk=risk,
                   on_timer=on_timer, outbound=outbound)
    if report.breached:
        metrics.count("SlaBreaches", report.breached)
    if report.at_risk:
        metrics.count("SlaRiskWarnings", report.at_risk)
    if report.rerouted:
        metrics.count("RoutingResent", report.rerouted)
    if report.requeued:
        metrics.count("RepliesRequeued", report.requeued)
    return asdict(report)
