"""Nothing fails silently: the template alarms on every dead-letter queue, on the age of the queues customers'
work waits in, on every function's errors and throttles, and on a sweep that stopped; the dashboard parses."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from local.template import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]


def _refs(value: Any) -> set[str]:
    """Logical ids a value refers to (Ref, GetAtt, and ${Name} in Sub strings)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                found.add(inner[0] if isinstance(inner, list) else str(inner).split(".")[0])
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                found |= set(re.findall(r"\$\{([A-Za-z0-9]+)", text))
                found |= _refs(inner[1] if isinstance(inner, list) else {})
            else:
                found |= _refs(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= _refs(inner)
    return found


def _alarms() -> dict[str, dict[str, Any]]:
    return {name: r["Properties"] for name, r in RESOURCES.items() if r.get("Type") == "AWS::CloudWatch::Alarm"}


def _dead_letter_queues() -> set[str]:
    """Queues something sends its failures to: redrive policies, function DLQs and on-failure destinations,
    subscription and schedule dead-letter configs."""
    queues = {name for name, r in RESOURCES.items() if r.get("Type") == "AWS::SQS::Queue"}
    failures: set[str] = set()
    for resource in RESOURCES.values():
        text = json.dumps(resource.get("Properties", {}))
        for key in ("deadLetterTargetArn", "DeadLetterQueue", "DeadLetterConfig", "OnFailure", "RedrivePolicy"):
            if key in text:
                props = resource.get("Properties", {})
                failures |= {q for q in _refs(_pick(props, key)) if q in queues}
    return failures


def _pick(value: Any, key: str) -> Any:
    if isinstance(value, dict):
        return [v if k == key else _pick(v, key) for k, v in value.items()]
    if isinstance(value, list):
        return [_pick(v, key) for v in value]
    return None


def test_every_dead_letter_queue_has_an_alarm():
    dlqs = _dead_letter_queues()
    assert {"WorkDeadLetterQueue", "OutboundDeadLetterQueue", "InboundMailDeadLetterQueue"} <= dlqs
    watched = {q for a in _alarms().values() if a.get("MetricName") == "ApproximateNumberOfMessagesVisible"
               and a.get("Threshold") == 0 for q in _refs(a.get("Dimensions"))}
    assert dlqs - watched == set(), f"dead-letter queues without an alarm: {sorted(dlqs - watched)}"


@pytest.mark.parametrize("queue", ["WorkQueue", "OutboundQueue"])
def test_the_queues_customers_wait_in_alarm_on_their_oldest_message(queue):
    assert any(a.get("MetricName") == "ApproximateAgeOfOldestMessage" and queue in _refs(a.get("Dimensions"))
               for a in _alarms().values())


@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_every_function_is_in_an_alarm_on_its_errors_and_throttles(metric):
    functions = {name for name, r in RESOURCES.items() if r.get("Type") == "AWS::Serverless::Function"}
    watched: set[str] = set()
    for alarm in _alarms().values():
        for query in alarm.get("Metrics", []):
            stat = query.get("MetricStat", {}).get("Metric", {})
            if stat.get("MetricName") == metric:
                watched |= _refs(stat.get("Dimensions"))
        if alarm.get("MetricName") == metric:
            watched |= _refs(alarm.get("Dimensions"))
    # a function behind a condition has its dead-letter alarm instead (its group alarm would not deploy without it)
    conditional = {name for name in functions if RESOURCES[name].get("Condition")}
    missing = functions - conditional - watched
    assert missing == set(), f"functions without an alarm on {metric}: {sorted(missing)}"


def test_a_sweep_that_stopped_running_is_an_alarm():
    [alarm] = [a for a in _alarms().values() if a.get("MetricName") == "Invocations"]
    assert _refs(alarm["Dimensions"]) == {"SlaSweepFunction"}
    assert alarm["TreatMissingData"] == "breaching" and alarm["ComparisonOperator"] == "LessThanThreshold"


def test_every_alarm_pages_someone():
    topics = {name for name, r in RESOURCES.items() if r.get("Type") == "AWS::SNS::Topic"}
    for name, alarm in _alarms().items():
        assert _refs(alarm.get("AlarmActions", [])) & topics, f"{name} notifies nobody"


def test_the_dashboard_body_is_json():
    body = RESOURCES["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"][0]
    filled = re.sub(r"\$\{[^}]+\}", "x", body)
    widgets = json.loads(filled)["widgets"]
    assert {w["properties"]["title"] for w in widgets} >= {"Dead letters (should be 0)", "Oldest message waiting (s)"}


def test_a_provider_refusing_replies_is_an_alarm():
    [alarm] = [a for a in _alarms().values() if any(
        q.get("MetricStat", {}).get("Metric", {}).get("MetricName") == "RepliesFailed" for q in a.get("Metrics", []))]
    names = {q.get("MetricStat", {}).get("Metric", {}).get("MetricName") for q in alarm["Metrics"]}
    assert names >= {"RepliesFailed", "RepliesSent"} and alarm["Threshold"] == 0.2


def test_the_privacy_function_knows_which_attempt_is_its_queue_s_last():
    # a job's last attempt fails it for good (shopdesk.privacy.jobs); it must be the one before the DLQ
    variables = RESOURCES["PrivacyFunction"]["Properties"]["Environment"]["Variables"]
    receives = RESOURCES["PrivacyQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"]
    assert int(variables["PRIVACY_MAX_RECEIVES"]) == int(receives)
