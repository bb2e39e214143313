"""Nothing fails silently: the template alarms on every dead-letter queue, on the age of the queues customers'
work waits in, on every function's errors and throttles, and on a sweep that stopped; the dashboard parses."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

import pytest

from local.template import load_template
from tests.support import template_refs

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]


_refs = template_refs


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


@pytest.mark.parametrize("queue", ["WorkQueue", "OutboundQueue", "IngestRetryQueue"])
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
    missing = functions - watched
    assert missing == set(), f"functions without an alarm on {metric}: {sorted(missing)}"


def test_an_alarm_on_a_function_behind_a_condition_has_that_condition():
    # deployed with the function (the search indexer's alarm with search on), never naming one that is not there
    conditional = {name for name, r in RESOURCES.items() if r.get("Type") == "AWS::Serverless::Function"
                   and r.get("Condition")}
    assert "SearchIndexerFunction" in conditional
    for name, alarm in _alarms().items():
        for function in _watched(alarm) & conditional:
            assert RESOURCES[name].get("Condition") == RESOURCES[function]["Condition"], (name, function)


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


# ------------------------------------------------------------------------------ who is paged

def _watched(alarm: dict[str, Any]) -> set[str]:
    """Logical ids an alarm's metrics name (its dimensions and its metric-math queries)."""
    return _refs(alarm.get("Dimensions")) | _refs(alarm.get("Metrics"))


def test_every_alarm_on_a_queue_or_a_function_pages_the_operations_topic():
    kinds = {"AWS::SQS::Queue", "AWS::Serverless::Function"}
    operational = {name: alarm for name, alarm in _alarms().items()
                   if any(RESOURCES.get(r, {}).get("Type") in kinds for r in _watched(alarm))
                   or alarm.get("Namespace") == "shopdesk"}
    assert {"LiveDeadLetterAlarm", "SearchDeadLetterAlarm", "RecordsFailedAlarm"} <= set(operational)
    wrong = {name for name, alarm in operational.items()
             if _refs(alarm.get("AlarmActions", [])) != {"OperationsAlertTopic"}}
    assert wrong == set(), f"alarms that do not page (only) the operations topic: {sorted(wrong)}"


# ------------------------------------------------------------------------------ metric math, as CloudWatch reads it

Values = list[float | None]


class _Series:
    """A time series of one value a minute (None: no data point), with metric math's element-wise operators."""

    def __init__(self, values: Values):
        self.values = values

    @staticmethod
    def _of(other: Any, n: int) -> Values:
        return other.values if isinstance(other, _Series) else [float(other)] * n

    def _zip(self, other: Any, op: Any) -> _Series:
        mine, theirs = self.values, self._of(other, len(self.values))
        return _Series([None if a is None or b is None else op(a, b) for a, b in zip(mine, theirs, strict=True)])

    def __add__(self, o: Any) -> _Series:
        return self._zip(o, lambda a, b: a + b)

    def __sub__(self, o: Any) -> _Series:
        return self._zip(o, lambda a, b: a - b)

    def __truediv__(self, o: Any) -> _Series:
        return self._zip(o, lambda a, b: a / b if b else None)

    def __ge__(self, o: Any) -> _Series:
        return self._zip(o, lambda a, b: float(a >= b))

    def __gt__(self, o: Any) -> _Series:
        return self._zip(o, lambda a, b: float(a > b))


_REPEAT = object()


def _fill(series: _Series, value: Any) -> _Series:
    if value is _REPEAT:           # the most recent real value before the gap; a leading gap stays one
        out, last = [], None
        for v in series.values:
            last = v if v is not None else last
            out.append(last)
        return _Series(out)
    return _Series([float(value) if v is None else v for v in series.values])


def _diff(series: _Series) -> _Series:
    v = series.values
    return _Series([None] + [None if a is None or b is None else b - a for a, b in itertools.pairwise(v)])


def _if(condition: _Series, yes: Any, no: Any) -> _Series:
    n = len(condition.values)
    yes_v, no_v = _Series._of(yes, n), _Series._of(no, n)
    return _Series([None if c is None else (y if c else f) for c, y, f in zip(condition.values, yes_v, no_v,
                                                                            strict=True)])


def _evaluate(alarm: dict[str, Any], data: dict[str, Values]) -> list[str]:
    """The alarm's state after each minute of ``data`` (metric id -> values): its returned expression evaluated
    over the evaluation range only (the last EvaluationPeriods minutes: nothing before it is assumed to be read),
    each point compared with the threshold, missing points as TreatMissingData says."""
    [returned] = [q for q in alarm["Metrics"] if q.get("ReturnData")]
    python = re.sub(r"\b(IF|FILL|DIFF)\(", lambda m: f"_{m.group(1).lower()}(", returned["Expression"])
    python = re.sub(r"\bREPEAT\b", "_REPEAT", python)
    assert re.fullmatch(r"[\w\s().,+\-*/>=]+", python), python
    n = len(next(iter(data.values())))
    states = []
    periods = alarm["EvaluationPeriods"]
    for minute in range(1, n + 1):
        names = {k: _Series(v[max(0, minute - periods):minute]) for k, v in data.items()}
        window = eval(python, {"__builtins__": {}, "_if": _if, "_fill": _fill, "_diff": _diff,   # noqa: S307
                               "_REPEAT": _REPEAT}, names).values
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        breaching = [v > alarm["Threshold"] for v in window if v is not None]
        if not breaching:
            states.append("ALARM" if alarm["TreatMissingData"] == "breaching" else "OK")
            continue
        states.append("ALARM" if sum(breaching) >= alarm.get("DatapointsToAlarm", periods) else "OK")
    return states


def _metric_ids(alarm: dict[str, Any], metric: str) -> str:
    [query] = [q["Id"] for q in alarm.get("Metrics", []) if q.get("MetricStat", {}).get("Metric", {}).get(
        "MetricName") == metric]
    return query


# ------------------------------------------------------------------------------ a new dead letter pages

def _arrival_alarms() -> dict[str, str]:
    """Dead-letter queue -> its alarm on what was added (a DIFF over the messages it holds)."""
    found: dict[str, str] = {}
    for name, alarm in _alarms().items():
        returned = [q for q in alarm.get("Metrics", []) if q.get("ReturnData")]
        if returned and "DIFF(" in returned[0].get("Expression", ""):
            for queue in _refs(alarm["Metrics"]):
                found[queue] = name
    return found


def test_every_dead_letter_queue_pages_on_each_new_dead_letter():
    missing = _dead_letter_queues() - set(_arrival_alarms())
    assert missing == set(), f"dead-letter queues whose new dead letters page nobody: {sorted(missing)}"


@pytest.mark.parametrize(("visible", "held", "states"), [
    # one dead letter nobody can fix waits (its visible > 0 alarm stays in ALARM); a second one arrives
    ([1, 1, 1, 2, 2, 2, 2], [0] * 7, ["OK", "OK", "OK", "ALARM", "OK", "OK", "OK"]),
    # and a third, minutes later: a second page
    ([1, 2, 2, 2, 2, 3, 3], [0] * 7, ["OK", "ALARM", "OK", "OK", "OK", "ALARM", "OK"]),
    # the first one into an empty queue
    ([0, 0, 1, 1], [0] * 4, ["OK", "OK", "ALARM", "OK"]),
    # nothing new: a queue that keeps its dead letters, or one being redriven, is quiet
    ([2, 2, 2, 2], [0] * 4, ["OK"] * 4),
    ([3, 3, 0, 0], [0, 0, 0, 0], ["OK"] * 4),
    # a --dry-run receives them (in flight) and puts them back: nothing was added
    ([2, 2, 0, 2, 2], [0, 0, 2, 0, 0], ["OK"] * 5),
    # SQS missed a minute's point: no change, not a new dead letter
    ([1, 1, None, 1, 1], [0, 0, None, 0, 0], ["OK"] * 5),
])
def test_a_new_dead_letter_pages_even_while_older_ones_wait(visible, held, states):
    alarms = _arrival_alarms()
    for queue in sorted(_dead_letter_queues()):
        alarm = _alarms()[alarms[queue]]
        data = {_metric_ids(alarm, "ApproximateNumberOfMessagesVisible"): [None if v is None else float(v)
                                                                          for v in visible],
                _metric_ids(alarm, "ApproximateNumberOfMessagesNotVisible"): [None if v is None else float(v)
                                                                             for v in held]}
        assert _evaluate(alarm, data) == states, queue
        assert _refs(alarm["AlarmActions"]) == {"OperationsAlertTopic"}
        assert RESOURCES[alarms[queue]].get("Condition") == RESOURCES[queue].get("Condition")


def test_records_that_fail_in_the_consumers_page_before_their_dead_letter_queue_fills():
    [alarm] = [a for a in _alarms().values() if a.get("MetricName") == "RecordsFailed"]
    assert alarm["Namespace"] == "shopdesk" and alarm["Dimensions"] == [{"Name": "service", "Value": "shopdesk"}]
    assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"], alarm["Threshold"]) == ("Sum", 60, 1, 0)
    assert _refs(alarm["AlarmActions"]) == {"OperationsAlertTopic"}


def test_an_event_the_bus_lost_pages_and_is_on_the_dashboard_by_detail_type():
    from shopdesk.dal.events import NOT_PUBLISHED_METRIC

    # the figure publish_or_count writes, in all (the dimensions it has besides detail_type)
    [alarm] = [a for a in _alarms().values() if a.get("MetricName") == NOT_PUBLISHED_METRIC]
    assert alarm["Namespace"] == "shopdesk" and alarm["Dimensions"] == [{"Name": "service", "Value": "shopdesk"}]
    assert (alarm["Statistic"], alarm["Threshold"], alarm["ComparisonOperator"]) == ("Sum", 0, "GreaterThanThreshold")
    assert alarm["TreatMissingData"] == "notBreaching"
    assert _refs(alarm["AlarmActions"]) == {"OperationsAlertTopic"}
    body = RESOURCES["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"][0]
    widgets = json.loads(re.sub(r"\$\{[^}]+\}", "x", body))["widgets"]
    [lost] = [w for w in widgets if NOT_PUBLISHED_METRIC in json.dumps(w)]
    assert "detail_type" in lost["properties"]["metrics"][0][0]["expression"]


def test_routing_work_the_queue_refused_pages_and_is_on_the_dashboard_by_work():
    from shopdesk.logic.work import NOT_SENT_METRIC

    # the figure in all that logic.work.count_not_sent writes (tests/integration/test_routing_gaps.py checks the
    # line's namespace and dimensions against this alarm); one refused send pages: a refusal that lasts routes
    # every message minutes late, and at a quiet desk's pace it may come once in a while only
    [alarm] = [a for a in _alarms().values() if a.get("MetricName") == NOT_SENT_METRIC]
    assert alarm["Namespace"] == "shopdesk" and alarm["Dimensions"] == [{"Name": "service", "Value": "shopdesk"}]
    assert (alarm["Statistic"], alarm["EvaluationPeriods"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
        "Sum", 1, 0, "GreaterThanThreshold")
    assert alarm["TreatMissingData"] == "notBreaching"
    assert _refs(alarm["AlarmActions"]) == {"OperationsAlertTopic"}
    body = RESOURCES["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"][0]
    widgets = json.loads(re.sub(r"\$\{[^}]+\}", "x", body))["widgets"]
    [refused] = [w for w in widgets if NOT_SENT_METRIC in json.dumps(w)]
    [expression] = [m[0]["expression"] for m in refused["properties"]["metrics"] if isinstance(m[0], dict)]
    schema = re.match(r"SEARCH\('\{([^}]*)\}", expression).group(1).split(",")
    assert sorted(schema) == sorted(["shopdesk", "work", "service"])
    assert "RoutingResent" in json.dumps(refused)          # and what the sweep sent again


def test_a_timer_the_sweep_failed_to_run_pages_and_is_on_the_dashboard():
    from shopdesk.logic.sla import FAILED_METRIC

    # the figure in all that logic.sla._run_timers writes (tests/integration/test_sla_sweep.py checks the line's
    # namespace and dimensions against this alarm); the first pages: a timer left due is a survey, a wake or an
    # erase's last look that did not happen
    [alarm] = [a for a in _alarms().values() if a.get("MetricName") == FAILED_METRIC]
    assert alarm["Namespace"] == "shopdesk" and alarm["Dimensions"] == [{"Name": "service", "Value": "shopdesk"}]
    assert (alarm["Statistic"], alarm["EvaluationPeriods"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
        "Sum", 1, 0, "GreaterThanThreshold")
    assert alarm["TreatMissingData"] == "notBreaching"
    assert _refs(alarm["AlarmActions"]) == {"OperationsAlertTopic"}
    body = RESOURCES["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"][0]
    widgets = json.loads(re.sub(r"\$\{[^}]+\}", "x", body))["widgets"]
    [graphed] = [m for w in widgets for m in w["properties"].get("metrics", []) if FAILED_METRIC in m]
    assert graphed[:4] == ["shopdesk", FAILED_METRIC, "service", "shopdesk"]


def test_a_privacy_request_whose_work_did_not_start_pages():
    from shopdesk.commerce.webhooks import NOT_STARTED_METRIC

    # the figure the Shopify webhook writes when a privacy request's work failed to start (tests/integration/
    # test_commerce.py checks the line's namespace and dimensions against this alarm); the first pages: Shopify
    # retries the delivery, and someone must know why it keeps failing before its retries run out
    [alarm] = [a for a in _alarms().values() if a.get("MetricName") == NOT_STARTED_METRIC]
    assert alarm["Namespace"] == "shopdesk" and alarm["Dimensions"] == [{"Name": "service", "Value": "shopdesk"}]
    assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"], alarm["Threshold"],
            alarm["ComparisonOperator"]) == ("Sum", 300, 1, 0, "GreaterThanThreshold")
    assert alarm["TreatMissingData"] == "notBreaching"
    assert _refs(alarm["AlarmActions"]) == {"OperationsAlertTopic"}

def _provider_alarm() -> dict[str, Any]:
    [alarm] = [a for a in _alarms().values() if any(
        q.get("MetricStat", {}).get("Metric", {}).get("MetricName") == "RepliesFailed" for q in a.get("Metrics", []))]
    return alarm


@pytest.mark.parametrize(("failed", "sent", "late", "state"), [
    (6, None, None, "ALARM"),      # a total outage: nothing sent, so RepliesSent has no data point at all
    (6, 100, None, "OK"),
    (30, 70, None, "ALARM"),
    (3, None, None, "OK"),         # too few to judge
    (None, 40, None, "OK"),
    (None, None, None, "OK"),      # no replies at all
    (20, 100, 20, "OK"),           # 20 of 100 accepted, then undelivered: a fifth, not more
    (21, 100, 21, "ALARM"),
    (100, 100, 100, "ALARM"),      # a carrier filtering every reply it accepted
    (6, None, 6, "ALARM"),         # receipts of replies sent in an earlier quarter hour
    (6, 200, 6, "OK"),
])
def test_the_provider_failure_rate_fires_in_a_total_outage(failed, sent, late, state):
    alarm = _provider_alarm()
    data = {_metric_ids(alarm, "RepliesFailed"): [None if failed is None else float(failed)],
            _metric_ids(alarm, "RepliesSent"): [None if sent is None else float(sent)],
            _metric_ids(alarm, "RepliesUndelivered"): [None if late is None else float(late)]}
    assert _evaluate(alarm, data) == [state]


# ------------------------------------------------------------------------------ a surge of the bot's hand-overs

def _handoffs_alarm() -> dict[str, Any]:
    [alarm] = [a for a in _alarms().values() if any(
        q.get("MetricStat", {}).get("Metric", {}).get("MetricName") == "BotHandoffs" for q in a.get("Metrics", []))]
    return alarm


def test_a_surge_of_the_bots_hand_overs_pages_with_a_threshold_the_admin_sets():
    alarm = _handoffs_alarm()
    # the figures in all that shopdesk.bot.converse writes beside those by reason and channel
    # (tests/integration/test_bot_metrics.py checks the lines' dimensions)
    for metric in ("BotHandoffs", "BotAnswers"):
        [query] = [q for q in alarm["Metrics"] if q.get("MetricStat", {}).get("Metric", {}).get("MetricName") == metric]
        assert query["MetricStat"]["Metric"]["Namespace"] == "shopdesk"
        assert query["MetricStat"]["Metric"]["Dimensions"] == [{"Name": "service", "Value": "shopdesk"}]
        assert (query["MetricStat"]["Stat"], query["MetricStat"]["Period"]) == ("Sum", 900)
    assert alarm["Threshold"] == {"Ref": "BotHandoffsPerAnswerAlarm"}
    assert TEMPLATE["Parameters"]["BotHandoffsPerAnswerAlarm"]["Type"] == "Number"
    assert _refs(alarm["AlarmActions"]) == {"OperationsAlertTopic"}
    # the dashboard's hand-overs widget draws the alarm's figure from the same two metrics
    body = RESOURCES["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"][0]
    widgets = json.loads(re.sub(r"\$\{[^}]+\}", "x", body))["widgets"]
    [widget] = [w for w in widgets if "hand-overs" in w["properties"]["title"]]
    lines = widget["properties"]["metrics"]
    drawn = {m[1]: m[4]["id"] for m in lines if isinstance(m[0], str)}
    [figure] = [m[0]["expression"] for m in lines if isinstance(m[0], dict) and "IF(" in m[0]["expression"]]
    [returned] = [q["Expression"] for q in alarm["Metrics"] if q.get("ReturnData")]
    named = {_metric_ids(alarm, metric): drawn[metric] for metric in ("BotHandoffs", "BotAnswers")}
    assert figure == re.sub(r"\b(" + "|".join(named) + r")\b", lambda m: named[m.group(1)], returned)


@pytest.mark.parametrize(("handoffs", "answers", "state"), [
    (20, 40, "OK"),          # a desk's usual quarter hour: the bot answers most and hands some over
    (40, 30, "ALARM"),       # a carrier filtering the bot's answers: each comes back as a send_failed hand-over
    (12, None, "ALARM"),     # a broken knowledge base: hand-overs and no answer at all
    (8, None, "OK"),         # too few to judge
    (None, 30, "OK"),        # answers and no hand-over
    (None, None, "OK"),      # the bot off, or a quiet night
    (30, 30, "OK"),          # as many as answers: not more
])
def test_the_hand_overs_alarm_fires_on_more_hand_overs_than_answers_by_default(handoffs, answers, state):
    alarm = dict(_handoffs_alarm(), Threshold=float(TEMPLATE["Parameters"]["BotHandoffsPerAnswerAlarm"]["Default"]))
    data = {_metric_ids(alarm, "BotHandoffs"): [None if handoffs is None else float(handoffs)],
            _metric_ids(alarm, "BotAnswers"): [None if answers is None else float(answers)]}
    assert _evaluate(alarm, data) == [state]


# ------------------------------------------------------------------------------ the dashboard shows what alarms name

def _dashboard() -> dict[str, set[str]]:
    """Widget title -> the logical ids its metrics name (through the Sub's variables)."""
    body, variables = RESOURCES["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    widgets = json.loads(re.sub(r"\$\{[^}]+\}", lambda m: m.group(0).replace('"', ""), body))["widgets"]
    named: dict[str, set[str]] = {}
    for widget in widgets:
        text = json.dumps(widget["properties"].get("metrics", []))
        ids: set[str] = set()
        for name in re.findall(r"\$\{([A-Za-z0-9]+)\}", text):
            ids |= _refs(variables[name]) if name in variables else {name}
        named[widget["properties"]["title"]] = ids
    return named


def test_the_dashboard_shows_every_dead_letter_queue_and_every_function():
    dashboard = _dashboard()
    functions = {name for name, r in RESOURCES.items() if r.get("Type") == "AWS::Serverless::Function"}
    assert functions - dashboard["Function errors"] == set()
    assert functions - dashboard["Throttles and the sweep's runs"] == set()
    assert _dead_letter_queues() - dashboard["Dead letters (should be 0)"] == set()


def test_the_dashboard_graphs_failed_records_by_consumer_and_failed_replies_by_provider():
    dashboard = _dashboard()
    consumers = {name for name, r in RESOURCES.items() if r.get("Type") == "AWS::Serverless::Function"
                 and any(e.get("Type") in ("SQS", "DynamoDB") for e in r["Properties"].get("Events", {}).values())}
    assert {"RouterFunction", "DispatcherFunction", "SearchIndexerFunction"} <= consumers
    assert consumers - dashboard["Records failed, by function"] == set()
    body = RESOURCES["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"][0]
    assert re.search(r"SEARCH\('\{shopdesk,provider,service\} MetricName=\\\"RepliesFailed\\\"'", body)
    assert "RepliesFailed by provider" in _provider_alarm()["AlarmDescription"]


def test_every_dead_letter_queue_is_dealt_with_by_the_redrive_tool_as_its_alarm_says():
    from scripts import redrive
    by_queue = {dlq: (name, kind) for name, (dlq, _, kind) in redrive.QUEUES.items()}
    assert _dead_letter_queues() - set(by_queue) == set(), "a dead-letter queue scripts/redrive.py cannot open"
    for alarm_name, alarm in _alarms().items():
        if alarm.get("MetricName") != "ApproximateNumberOfMessagesVisible":
            continue
        [queue] = _refs(alarm["Dimensions"])
        name, kind = by_queue[queue]
        text = " ".join(alarm["AlarmDescription"].split())
        if "nothing to redrive" in text or "purge" in text:
            assert kind == redrive.NOTHING, f"{alarm_name} says purge; --queue {name} redrives"
        elif "redrive" in text:
            assert kind != redrive.NOTHING, f"{alarm_name} says redrive; --queue {name} has nothing to redrive"


@pytest.mark.parametrize(("metric", "dimension"), [("BotAnswers", "channel"), ("BotHandoffs", "reason"),
                                                   ("BotResolved", "why")])
def test_the_dashboard_graphs_the_bots_figures_by_the_dimension_they_are_counted_by(metric, dimension):
    # shopdesk.bot.converse and .resolve count them with that one dimension (and the service's)
    body = RESOURCES["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"][0]
    widgets = json.loads(re.sub(r"\$\{[^}]+\}", "x", body))["widgets"]
    expressions = [m[0]["expression"] for w in widgets for m in w["properties"].get("metrics", [])
                   if isinstance(m[0], dict) and f'MetricName="{metric}"' in m[0].get("expression", "")]
    assert len(expressions) == 1, metric
    schema = re.match(r"SEARCH\('\{([^}]*)\}", expressions[0]).group(1).split(",")
    assert sorted(schema) == sorted(["shopdesk", dimension, "service"])
