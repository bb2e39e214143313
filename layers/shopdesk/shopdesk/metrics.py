"""Figures an operator watches, as CloudWatch embedded metrics (Powertools Metrics, EMF): one JSON log line
per figure, turned into a metric by CloudWatch Logs; no API call, nothing to flush. The namespace comes from
``POWERTOOLS_METRICS_NAMESPACE`` (``shopdesk`` in the template), the ``service`` dimension from the function.

What is counted, and where: ``MessagesReceived`` (channel) by the webhooks, ``RepliesSent`` and
``RepliesFailed`` (provider) by the dispatcher, ``RepliesFailed`` and ``RepliesUndelivered`` by the webhooks (a
receipt reporting an accepted reply failed or undelivered), ``SlaBreaches`` and ``RoutingResent`` by the sweep,
``AssignmentWaitSeconds`` by the router. The template's alarms read them (provider failure rate).
"""

from __future__ import annotations

import os

from aws_lambda_powertools.metrics import MetricUnit, single_metric

NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "shopdesk")


def count(name: str, value: float = 1, **dimensions: str) -> None:
    _emit(name, MetricUnit.Count, value, dimensions)


def seconds(name: str, value: float, **dimensions: str) -> None:
    _emit(name, MetricUnit.Seconds, value, dimensions)


def _emit(name: str, unit: MetricUnit, value: float, dimensions: dict[str, str]) -> None:
    if value < 0:
        return
    with single_metric(name=name, unit=unit, value=value, namespace=NAMESPACE) as metric:
        for key, dimension in dimensions.items():
            metric.add_dimension(name=key, value=str(dimension)[:250] or "none")
