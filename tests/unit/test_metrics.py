"""Operator figures leave as CloudWatch embedded-metric lines (EMF) with their dimensions."""

from __future__ import annotations

import json

from shopdesk import metrics


def _lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{") and "_aws" in line]


def test_a_count_is_one_emf_line_with_its_dimensions(capsys):
    metrics.count("RepliesFailed", provider="twilio")
    [line] = _lines(capsys.readouterr().out)
    [directive] = line["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "shopdesk"
    assert directive["Metrics"] == [{"Name": "RepliesFailed", "Unit": "Count"}]
    assert "provider" in directive["Dimensions"][0] and line["provider"] == "twilio"
    assert line["RepliesFailed"] == [1.0] or line["RepliesFailed"] == 1.0


def test_seconds_and_no_negative_values(capsys):
    metrics.seconds("AssignmentWaitSeconds", 12.5, team="default")
    metrics.count("Nothing", -1)
    [line] = _lines(capsys.readouterr().out)
    assert line["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [{"Name": "AssignmentWaitSeconds", "Unit": "Seconds"}]


def test_a_dimension_from_a_fixed_set_is_one_of_it_or_other():
    from shopdesk.bot import HANDOFF_REASONS

    assert metrics.one_of("send_failed", HANDOFF_REASONS) == "send_failed"
    assert metrics.one_of("the customer wrote: call me on +31 6 1234 5678", HANDOFF_REASONS) == "other"
