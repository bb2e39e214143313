"""A write route's body naming a field the route does not know, at the top or inside, is a 422 naming each such
field; nothing is saved (no new version, no audit record). Settings stored by an older version with fields since
removed still load, and a save over them still works: only the body is held to the fields known."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shopdesk.dal.table import serialize
from tests.support import http_event

ADMIN = {"cognito:username": "root", "name": "Root", "cognito:groups": "[admins]", "token_use": "id"}
BSN = {"name": "BSN", "pattern": r"BSN:?\s?\d{9}"}
WINDOW = {"start": "09:00", "end": "17:00"}


def call(desk: Any, method: str, path: str, body: Any = None, function: str = "admin_api",
         claims: dict | None = None) -> tuple[int, Any]:
    event = http_event(method, path, json.dumps(body) if body is not None else None,
                       {"content-type": "application/json", "user-agent": "pytest"}, claims=claims or ADMIN)
    result = desk.invoke(function, event)
    return result["statusCode"], json.loads(result["body"]) if result.get("body") else None


def refused(answer: tuple[int, Any], *fields: tuple[str | int, ...]) -> None:
    """A 422 whose errors name each of ``fields`` (its path in the body) as an unknown field."""
    status, problem = answer
    assert status == 422, problem
    named = {tuple(e["loc"]) for e in problem["errors"] if e["type"] == "extra_forbidden"}
    for field in fields:
        assert any(loc[-len(field) - 1:] == ("body", *field)[-len(field) - 1:] and loc[-len(field):] == field
                   for loc in named), (field, problem)
    assert all(".".join(map(str, f)) in problem["detail"] for f in fields), problem


def audited(desk: Any, action: str) -> list[dict[str, Any]]:
    return [r for r in call(desk, "GET", "/admin/audit", claims=ADMIN)[1]["items"] if r["action"] == action]


def put_stored(desk: Any, kind: str, key: str, value: dict[str, Any]) -> None:
    desk.client("dynamodb").put_item(TableName=desk.table_name, Item=serialize(
        {"PK": f"CONFIG#{kind}", "SK": key, "type": "config", **value}))


def test_privacy_settings_with_an_unknown_field_at_the_top_or_inside_are_refused_and_nothing_is_saved(desk):
    # Given saved privacy settings
    status, saved = call(desk, "PUT", "/admin/privacy/settings",
                         {"retention": {"audit_days": 400}, "masking_patterns": [BSN]})
    assert status == 200, saved
    before = audited(desk, "PUT /admin/privacy/settings")
    # When an admin sends a field nobody knows, a typo inside the retention, or an unknown key in a pattern
    refused(call(desk, "PUT", "/admin/privacy/settings", {"text": "keep less"}), ("text",))
    refused(call(desk, "PUT", "/admin/privacy/settings", {"retention": {"audit_day": 30}}), ("retention", "audit_day"))
    refused(call(desk, "PUT", "/admin/privacy/settings",
                 {"masking_patterns": [BSN, {**BSN, "name": "Other", "flags": "i"}], "retension": {}}),
            ("masking_patterns", 1, "flags"), ("retension",))
    # Then nothing changed: the same version, the same retention, no audit record of a save
    status, now = call(desk, "GET", "/admin/privacy/settings")
    assert (now["version"], now["retention"], now["masking_patterns"]) == \
        (saved["version"], saved["retention"], saved["masking_patterns"])
    assert audited(desk, "PUT /admin/privacy/settings") == before


def test_privacy_settings_stored_with_a_field_since_removed_still_load_and_save(desk):
    # Given settings an older version stored, with a field this one does not have (at the top and inside)
    put_stored(desk, "privacy", "settings", {"retention": {"audit_days": 400, "drafts_days": 10},
                                             "masking_patterns": [{**BSN, "flags": "i"}], "legacy": True,
                                             "version": 3})
    # When an admin reads them and saves one field
    assert call(desk, "GET", "/admin/privacy/settings")[0] == 200
    status, saved = call(desk, "PUT", "/admin/privacy/settings", {"retention": {"messages_days": 90}})
    # Then the save is made over them, keeping what it did not name
    assert status == 200, saved
    assert saved["version"] == 4 and saved["retention"]["audit_days"] == 400
    assert [p["name"] for p in saved["masking_patterns"]] == ["BSN"]


def test_routing_settings_with_an_unknown_field_at_the_top_or_inside_are_refused_and_nothing_is_saved(desk):
    status, saved = call(desk, "PUT", "/admin/routing", {"sticky_days": 3})
    assert status == 200, saved
    before = audited(desk, "PUT /admin/routing")
    refused(call(desk, "PUT", "/admin/routing", {"text": "x"}), ("text",))
    refused(call(desk, "PUT", "/admin/routing", {"sticky_day": 30, "sticky_days": 5}), ("sticky_day",))
    status, now = call(desk, "GET", "/admin/routing")
    assert (now["version"], now["sticky_days"]) == (saved["version"], 3)
    assert audited(desk, "PUT /admin/routing") == before


def test_routing_settings_stored_with_a_field_since_removed_still_load_and_save(desk):
    put_stored(desk, "routing", "settings", {"sticky_days": 4, "acknowledgements": False, "round_robin": True,
                                             "version": 2})
    assert call(desk, "GET", "/admin/routing")[0] == 200
    status, saved = call(desk, "PUT", "/admin/routing", {"shop_name": "Acme"})
    assert status == 200, saved
    assert (saved["version"], saved["sticky_days"], saved["shop_name"]) == (3, 4, "Acme")


def test_an_sla_policy_with_an_unknown_field_at_the_top_or_inside_is_refused_and_nothing_is_saved(desk):
    policy = {"id": "vip", "name": "VIP", "targets": {"urgent": {"first_response": 600}},
              "business_hours": {"time_zone": "UTC", "weekly": {"mon": [WINDOW]}}}
    status, saved = call(desk, "PUT", "/admin/sla-policies/vip", policy)
    assert status == 200, saved
    before = audited(desk, "PUT /admin/sla-policies/{policy_id}") + audited(desk, "PUT /admin/sla-policies/vip")
    refused(call(desk, "PUT", "/admin/sla-policies/vip", {**policy, "version": saved["version"]}), ("version",))
    refused(call(desk, "PUT", "/admin/sla-policies/vip",
                 {**policy, "targets": {"urgent": {"first_respons": 60}}}), ("targets", "urgent", "first_respons"))
    refused(call(desk, "PUT", "/admin/sla-policies/vip", {**policy, "applies_to": {"tier": ["vip"]}}),
            ("applies_to", "tier"))
    refused(call(desk, "PUT", "/admin/sla-policies/vip", {**policy, "business_hours": {
        "time_zone": "UTC", "weekly": {"mon": [{**WINDOW, "note": "lunch"}]}}}),
        ("business_hours", "weekly", "mon", 0, "note"))
    items = call(desk, "GET", "/admin/sla-policies")[1]["items"]
    assert [(p["version"], p["targets"]) for p in items if p["id"] == "vip"] == \
        [(saved["version"], saved["targets"])]
    assert audited(desk, "PUT /admin/sla-policies/{policy_id}") + audited(desk, "PUT /admin/sla-policies/vip") \
        == before


def test_a_team_a_calendar_and_an_agent_with_an_unknown_field_are_refused_and_nothing_is_saved(desk):
    status, team = call(desk, "PUT", "/admin/teams/returns", {"id": "returns", "name": "Returns"})
    assert status == 200, team
    refused(call(desk, "PUT", "/admin/teams/returns", {"id": "returns", "name": "Back", "descripton": "x"}),
            ("descripton",))
    assert [t["name"] for t in call(desk, "GET", "/admin/teams")[1]["items"] if t["id"] == "returns"] == ["Returns"]

    status, calendar = call(desk, "PUT", "/admin/calendars/office", {"time_zone": "UTC", "weekly": {"mon": [WINDOW]}})
    assert status == 200, calendar
    refused(call(desk, "PUT", "/admin/calendars/office",
                 {"time_zone": "UTC", "weekly": {"mon": [{**WINDOW, "end_": "18:00"}]}, "zone": "UTC"}),
            ("weekly", "mon", 0, "end_"), ("zone",))
    offices = [c for c in call(desk, "GET", "/admin/calendars")[1]["items"] if c["id"] == "office"]
    assert [c["version"] for c in offices] == [calendar["version"]]

    refused(call(desk, "PUT", "/admin/agents/nobody", {"capacity": 2, "capacty": 5}), ("capacty",))


@pytest.mark.parametrize(("path", "function"), [("/admin/canned-responses/returns", "admin_api"),
                                                 ("/agent/canned-responses/returns", "agent_api")])
def test_a_canned_response_with_an_unknown_field_at_the_top_or_inside_is_refused_and_nothing_is_saved(
        desk, path, function):
    content = {"title": "Returns", "shortcode": "returns", "bodies": {"en": "Send it back within 30 days."}}
    refused(call(desk, "PUT", path, {**content, "body": "x"}, function), ("body",))
    refused(call(desk, "PUT", path, {**content, "attachments": [
        {"key": "media/x.pdf", "filename": "x.pdf", "content_type": "application/pdf", "size": 1, "url": "u"}]},
        function), ("attachments", 0, "url"))
    listed = call(desk, "GET", path.rsplit("/", 1)[0], function=function)
    assert listed[0] == 200 and listed[1]["items"] == []


@pytest.mark.parametrize(("kind", "path", "stored", "save"), [
    ("bot", "/admin/bot", {"enabled": True, "when": "always", "greeting": "Hi!"}, {"resolve_after_seconds": 600}),
    ("csat", "/admin/csat", {"enabled": True, "delay_s": 60, "ask_twice": False}, {"delay_s": 120})])
def test_bot_and_survey_settings_stored_with_a_field_since_removed_still_load_and_save(desk, kind, path, stored,
                                                                                      save):
    # Given settings an older version stored, with a field this one does not have
    put_stored(desk, kind, "settings", {**stored, "version": 2})
    # When an admin reads them and saves one field
    status, read = call(desk, "GET", path)
    assert status == 200 and read["enabled"] is True, read
    status, saved = call(desk, "PUT", path, save)
    # Then the save is made over them, keeping what it did not name
    assert status == 200, saved
    assert saved["version"] == 3 and saved["enabled"] is True and all(saved[k] == v for k, v in save.items())


@pytest.mark.parametrize(("path", "body", "field"), [("/admin/bot", {"enabled": True, "threshold": 0.5}, "threshold"),
                                                     ("/admin/csat", {"enabled": True, "delay": 60}, "delay")])
def test_bot_and_survey_settings_with_an_unknown_field_are_refused_and_nothing_is_saved(desk, path, body, field):
    refused(call(desk, "PUT", path, body), (field,))
    assert call(desk, "GET", path)[1]["version"] == 0

