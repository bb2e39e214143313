"""Labels and macros without the network: what their models accept, the label indexer's stream filter (checked
against template.yaml itself) and its rule for moving label items."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from shopdesk.logic.labels import follow
from shopdesk.models.labels import LabelChange, LabelContent
from shopdesk.models.macros import ApplyRequest, MacroContent


def test_a_colour_is_six_hex_digits_kept_in_lower_case():
    assert LabelContent(name=" Shipping ", color="#2F80ED").model_dump() == {"name": "Shipping", "color": "#2f80ed"}
    for bad in ("red", "#fff", "#12345g", "2f80ed"):
        with pytest.raises(ValidationError):
            LabelContent(name="x", color=bad)
    with pytest.raises(ValidationError):
        LabelChange.model_validate({"add": ["Not A Slug"]})


def test_a_macro_is_an_ordered_list_of_known_actions_with_at_most_one_reply():
    macro = MacroContent.model_validate({"name": "Where is my order", "actions": [
        {"type": "reply", "canned_response_id": "shipped"}, {"type": "add_labels", "labels": ["shipping"]},
        {"type": "set_priority", "priority": "high"}, {"type": "note", "text": "told them"},
        {"type": "snooze", "duration": "PT4H"}, {"type": "assign"}, {"type": "set_status", "status": "pending"}]})
    assert [a.type for a in macro.actions] == ["reply", "add_labels", "set_priority", "note", "snooze", "assign",
                                               "set_status"]
    assert macro.actions[4].duration == timedelta(hours=4)          # type: ignore[union-attr]
    assert macro.actions[5].agent_id is None                         # type: ignore[union-attr]
    refused = [
        [{"type": "explode"}],
        [{"type": "reply", "canned_response_id": "a"}, {"type": "reply", "canned_response_id": "b"}],
        [{"type": "snooze", "duration": "PT10S"}],                   # under a minute
        [{"type": "snooze", "duration": "P100D"}],                   # over 90 days
        [{"type": "set_status", "status": "snoozed"}],               # snoozing takes a duration: its own action
        [{"type": "add_labels", "labels": []}],
        [{"type": "note", "text": "x", "extra": 1}],
        [],
    ]
    for actions in refused:
        with pytest.raises(ValidationError):
            MacroContent.model_validate({"name": "X", "actions": actions})
    with pytest.raises(ValidationError):
        ApplyRequest.model_validate({"conversation_ids": [f"c_{i}" for i in range(51)]})


def test_the_indexers_stream_filter_passes_labelled_conversations_only():
    from local.functions import stream_source
    from local.streams import lambda_record, passes
    from local.template import load_template
    from tests.support import ROOT

    props = dict(load_template(ROOT / "template.yaml")["Resources"]["LabelIndexerFunction"]["Properties"]
                 ["Events"]["TableStream"]["Properties"])
    props["Stream"] = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026"
    props["DestinationConfig"] = {"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:123456789012:q"}}
    source = stream_source("LabelIndexerFunction", "TableStream", props)
    assert source.report_failures and source.bisect and source.on_failure_arn

    def record(pk: str, sk: str, labels: list[str] | None) -> dict:
        image: dict[str, Any] = {"PK": {"S": pk}, "SK": {"S": sk}}
        if labels:
            image["labels"] = {"SS": labels}
        return lambda_record({"eventID": "e1", "eventName": "MODIFY", "dynamodb": {
            "Keys": {"PK": {"S": pk}, "SK": {"S": sk}}, "NewImage": image, "SequenceNumber": "1"}},
            source.stream_arn)

    assert passes(source, record("CONV#c_1", "META", ["vip"]))
    assert not passes(source, record("CONV#c_1", "META", None))
    assert not passes(source, record("CONV#c_1", "LABEL#vip", ["vip"]))
    assert not passes(source, record("CONV#c_1", "MSG#2026#m_1", None))


class FakeConversations:
    def __init__(self) -> None:
        self.moved: list[tuple[str, list[str], str, str, int | None]] = []

    def refresh_labels(self, conversation_id: str, labels: list[str], status: str, updated_at: str,
                       expires: int | None = None) -> int:
        self.moved.append((conversation_id, labels, status, updated_at, expires))
        return len(labels)


def test_the_indexer_moves_label_items_only_when_status_or_activity_moved():
    conversations = FakeConversations()
    new = {"SK": "META", "id": "c_1", "labels": {"vip", "shipping"}, "status": "pending",
           "updated_at": "2026-12-03T10:00:00.000Z"}
    assert follow(conversations, new, {**new, "status": "open"}) == "moved"       # type: ignore[arg-type]
    assert conversations.moved == [("c_1", ["shipping", "vip"], "pending", "2026-12-03T10:00:00.000Z", None)]
    assert follow(conversations, new, dict(new)) == "unchanged"                     # type: ignore[arg-type]
    assert follow(conversations, {**new, "labels": set()}, None) == "skipped"       # type: ignore[arg-type]
    assert follow(conversations, None, new) == "skipped"                            # type: ignore[arg-type]
    assert len(conversations.moved) == 1
    # a resolve under retention: the items take the conversation's expiry
    resolved = {**new, "status": "resolved", "ttl": 1_800_000_000}
    assert follow(conversations, resolved, new) == "moved"                          # type: ignore[arg-type]
    assert conversations.moved[-1][-1] == 1_800_000_000
