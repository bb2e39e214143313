"""Figures an operator watches, as CloudWatch embedded metrics (Powertools Metrics, EMF): one JSON log line
per figure, turned into a metric by CloudWatch Logs; no API call, nothing to flush. The namespace comes from
``POWERTOOLS_METRICS_NAMESPACE`` (``shopdesk`` in the template), the ``service`` dimension from the function.

What is counted, and where: ``MessagesReceived`` (channel) by the webhooks, ``RepliesSent`` and
``RepliesFailed`` (provider) by the dispatcher, ``RepliesFailed`` and ``RepliesUndelivered`` by the webhooks (a
receipt reporting an accepted reply failed or undelivered; by the dispatcher when that receipt came before it recorded
the send: ``count_failed_receipt``), ``SlaBreaches``, ``RoutingResent``, ``RepliesRequeued`` (replies stored and
never taken up, queued again: ``logic.sla.requeue_replies``), ``TimersWithoutRunner`` (a due timer
it has no runner for: left due) and ``TimersFailed`` (a timer whose run raised: left due) by the sweep,
``AssignmentWaitSeconds`` by the router, ``EventsNotPublished`` (detail_type; an event published at most once that
the bus refused: ``dal.events.publish_or_count``) by the router and the sweep, ``BotAnswers`` (channel, and in all)
and ``BotHandoffs`` (reason: one of the fixed ``bot.HANDOFF_REASONS``, ``one_of``; and in all) by the router's bot,
``BotResolved`` (why: ``confirmed`` by the router, ``no_reply`` by the sweep's timer), each by the write that made the
change, so a work item that runs again counts nothing; ``RoutingWorkNotSent`` (work: ``inbound``, ``csat``,
``drain``, ``survey`` or ``reply``, and in all; ``logic.work.count_not_sent``) by the webhooks, a message's or a
rating's work the work queue refused after it was stored, and by the sweep, its re-sends, drains and replies queued
again refused (all left for the sweep);
``PrivacyRequestsNotStarted`` by the Shopify webhook, a privacy request whose work could not start (its delivery a 503
for Shopify to retry: ``commerce.webhooks``). The template's alarms read some of them (provider failure rate, timers
without a runner or failed, events lost, routing work not sent, privacy requests not started, the bot's hand-overs per
answer); the dashboard shows the bot's and the routing work refused and
re-sent.

A dimension's values are few and fixed (channels, providers, reasons, functions): each distinct one is a custom
metric of its own, billed monthly, so none comes from text or ids.
"""

from __future__ import annotations

import os
from collections.abc import Collection

from aws_lambda_powertools.metrics import MetricUnit, single_metric

NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "shopdesk")


def count(name: str, value: float = 1, **dimensions: str) -> None:
    _emit(name, MetricUnit.Count, value, dimensions)


def count_failed_receipt(provider: str) -> None:
    """A receipt made a reply ``failed`` or ``undelivered``: it failed for good (``RepliesFailed``, by provider and
    in all, as the dispatcher counts one the provider refused). The provider had accepted it, so the dispatcher
    counted it in ``RepliesSent`` too: ``RepliesUndelivered`` says how many of those failed, which the failure-rate
    alarm takes out of the sent (template.yaml, ``ProviderFailureRateAlarm``). Only the write that changed the
    reply's status counts: the receipt's webhook, or the dispatcher's record of the send when the receipt came
    first; a receipt sent again, or for another part of the reply, is stale."""
    count("RepliesFailed", provider=provider)
    count("RepliesFailed")
    count("RepliesUndelivered")


def one_of(value: str, allowed: Collection[str]) -> str:
    """A dimension's value from a fixed set, or ``other``: every distinct value is a custom metric of its own, billed
    each month, so a value never comes from what varies without bound."""
    return value if value in allowed else "other"


def seconds(name: str, value: float, **dimensions: str) -> None:
    _emit(name, MetricUnit.Seconds, value, dimensions)


def _emit(name: str, unit: MetricUnit, value: float, dimensions: dict[str, str]) -> None:
    if value < 0:
        return
    with single_metric(name=name, unit=unit, value=value, namespace=NAMESPACE) as metric:
        for key, dimension in dimensions.items():
            metric.add_dimension(name=key, value=str(dimension)[:250] or "none")
