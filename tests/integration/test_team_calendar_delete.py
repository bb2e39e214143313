"""Deleting a team or a business-hours calendar: refused with a code while anything still uses it, else deleted,
audited, and its name free again."""

from __future__ import annotations

import json

from tests.integration.helpers import agent, customer_writes, teams
from tests.support import http_event

POLICY = {"id": "returns-sla", "name": "Returns SLA", "targets": {"normal": {"first_response": 3600}}}


def admin_call(desk, method, path, groups="[admins]", body=None, query=""):
    claims = {"cognito:username": "lead", "cognito:groups": groups}
    event = http_event(method, path, json.dumps(body) if body is not None else None,
                       {"content-type": "application/json"}, query=query, claims=claims)
    result = desk.invoke("admin_api", event)
    return result["statusCode"], json.loads(result["body"]) if result.get("body") else None


def refused(desk, path, code, **params):
    """The delete is a 409 with the code and params the inbox words, and nothing is deleted."""
    status, problem = admin_call(desk, "DELETE", path)
    assert status == 409, (path, status, problem)
    assert problem["code"] == code and {k: problem["params"].get(k) for k in params} == params, problem
    kind, key = path.removeprefix("/admin/").split("/")
    assert key in [item["id"] for item in admin_call(desk, "GET", f"/admin/{kind}")[1]["items"]]
    return problem


def test_a_team_is_deleted_only_once_nothing_uses_it_and_its_name_is_free_again(desk):
    teams(desk, "default", "returns")
    # Only admins delete, and only a team that exists
    assert admin_call(desk, "DELETE", "/admin/teams/returns", "[supervisors]")[0] == 403
    assert admin_call(desk, "DELETE", "/admin/teams/nosuch")[0] == 404
    # The routing settings' default team, or where they send a channel or a label
    assert admin_call(desk, "PUT", "/admin/routing", body={"default_team": "returns"})[0] == 200
    refused(desk, "/admin/teams/returns", "team_is_default", team="returns")
    assert admin_call(desk, "PUT", "/admin/routing", body={"default_team": "default",
                                                           "team_by_channel": {"whatsapp": "returns"}})[0] == 200
    refused(desk, "/admin/teams/returns", "team_routed_by_channel", channels="whatsapp")
    assert admin_call(desk, "PUT", "/admin/routing", body={"team_by_channel": {},
                                                           "team_by_label": {"refund": "returns"}})[0] == 200
    refused(desk, "/admin/teams/returns", "team_routed_by_label", labels="refund")
    assert admin_call(desk, "PUT", "/admin/routing", body={"team_by_label": {}})[0] == 200
    # An agent in it (her name, as the inbox shows it)
    assert agent(desk, "GET", "/agent/me", "alice")[0] == 200
    assert admin_call(desk, "PUT", "/admin/agents/alice", body={"teams": ["default", "returns"]})[0] == 200
    refused(desk, "/admin/teams/returns", "team_has_members", agents="Alice", count="1")
    assert admin_call(desk, "PUT", "/admin/agents/alice", body={"teams": ["default"]})[0] == 200
    # A conversation of it not resolved (one resolved stays as it is: its history names the team)
    conv = customer_writes(desk, "+31620000301", "my parcel came back", "SMdel1")
    assert agent(desk, "PUT", f"/agent/conversations/{conv}/routing", "lead", {"team": "returns"},
                 groups="[admins]")[0] == 200
    refused(desk, "/admin/teams/returns", "team_has_conversations", count="1")
    assert agent(desk, "POST", f"/agent/conversations/{conv}/status", "lead", {"status": "resolved"},
                 groups="[admins]")[0] == 200
    # An SLA policy for it (any case), the bot's and the survey's settings
    assert admin_call(desk, "PUT", "/admin/sla-policies/returns-sla",
                      body={**POLICY, "applies_to": {"teams": ["Returns"]}})[0] == 200
    refused(desk, "/admin/teams/returns", "team_in_policies", policies="'Returns SLA'")
    assert admin_call(desk, "DELETE", "/admin/sla-policies/returns-sla")[0] == 204
    assert admin_call(desk, "PUT", "/admin/bot", body={"teams": ["returns"]})[0] == 200
    refused(desk, "/admin/teams/returns", "team_in_bot")
    assert admin_call(desk, "PUT", "/admin/bot", body={"teams": None})[0] == 200
    assert admin_call(desk, "PUT", "/admin/csat", body={"enabled": True, "when": "teams",
                                                        "teams": ["returns"]})[0] == 200
    refused(desk, "/admin/teams/returns", "team_in_csat")
    assert admin_call(desk, "PUT", "/admin/csat", body={"when": "always", "teams": None})[0] == 200
    # A macro that moves conversations to it: a shared one, or an agent's own
    move = {"name": "To returns", "actions": [{"type": "set_team", "team": "returns"}]}
    assert admin_call(desk, "PUT", "/admin/macros/to-returns", body=move)[0] == 200
    refused(desk, "/admin/teams/returns", "team_in_macros", macros="'To returns'")
    assert admin_call(desk, "DELETE", "/admin/macros/to-returns")[0] == 204
    assert agent(desk, "PUT", "/agent/macros/mine", "alice", {**move, "name": "Mine"})[0] == 200
    refused(desk, "/admin/teams/returns", "team_in_macros", macros="'Mine' (Alice)")
    assert agent(desk, "DELETE", "/agent/macros/mine", "alice")[0] == 204
    # When nothing uses it any more, a delete over another version is refused as changed meanwhile
    version = next(t for t in admin_call(desk, "GET", "/admin/teams")[1]["items"] if t["id"] == "returns")["version"]
    stale = admin_call(desk, "DELETE", "/admin/teams/returns", query=f"version={version + 1}")
    assert stale[0] == 409 and "changed meanwhile" in stale[1]["detail"], stale
    # and one over the version shown deletes it
    assert admin_call(desk, "DELETE", "/admin/teams/returns", query=f"version={version}")[0] == 204
    assert [t["id"] for t in admin_call(desk, "GET", "/admin/teams")[1]["items"]] == ["default"]
    assert admin_call(desk, "DELETE", "/admin/teams/returns")[0] == 404
    # Then the audit trail has what it was
    records = admin_call(desk, "GET", "/admin/audit", query="actor=lead")[1]["items"]
    [deleted] = [r for r in records if r["action"] == "DELETE /admin/teams/<team_id>"
                 and r["target"] == "team_id=returns" and r["status"] == 204]
    assert deleted["before"]["name"] == "Returns" and deleted["after"] is None, deleted
    # and its name is another team's to take (its marker went with it)
    assert desk.item("NAME#team", "returns") is None
    assert admin_call(desk, "PUT", "/admin/teams/exchanges", body={"id": "exchanges", "name": "RETURNS"})[0] == 200


def test_the_default_team_is_never_deleted(desk):
    # Given the routing settings' default team created as a team of its own
    teams(desk, "default")
    # Then it cannot be deleted, whatever else uses it
    problem = refused(desk, "/admin/teams/default", "team_is_default", team="default")
    assert "default team" in problem["detail"]


def test_a_calendar_is_deleted_only_once_no_policy_measures_in_it(desk):
    hours = {"time_zone": "Europe/Amsterdam", "weekly": {"mon": [{"start": "09:00", "end": "17:00"}]}}
    assert admin_call(desk, "PUT", "/admin/calendars/office", body=hours)[0] == 200
    in_office = {**POLICY, "calendar_id": "office"}
    assert admin_call(desk, "PUT", "/admin/sla-policies/returns-sla", body=in_office)[0] == 200
    assert admin_call(desk, "DELETE", "/admin/calendars/office", "[supervisors]")[0] == 403
    assert admin_call(desk, "DELETE", "/admin/calendars/nosuch")[0] == 404
    # While a policy measures in it: refused, naming the policy
    refused(desk, "/admin/calendars/office", "calendar_in_policies", calendar="office", policies="'Returns SLA'")
    # Once the policy measures around the clock, it is deleted and audited
    assert admin_call(desk, "PUT", "/admin/sla-policies/returns-sla", body=POLICY)[0] == 200
    assert admin_call(desk, "DELETE", "/admin/calendars/office", query="version=1")[0] == 204
    assert admin_call(desk, "GET", "/admin/calendars")[1]["items"] == []
    records = admin_call(desk, "GET", "/admin/audit", query="actor=lead")[1]["items"]
    [deleted] = [r for r in records if r["action"] == "DELETE /admin/calendars/<calendar_id>" and r["status"] == 204]
    assert deleted["before"]["time_zone"] == "Europe/Amsterdam", deleted


def _meanwhile(desk, method, path, body=None):
    """A request served by another container of the admin API while the one under test is between two steps."""
    claims = {"cognito:username": "other-lead", "cognito:groups": "[admins]"}
    event = http_event(method, path, json.dumps(body) if body is not None else None,
                       {"content-type": "application/json"}, claims=claims)
    return desk.invoke("admin_api", event, ANOTHER_CONTAINER="1")["statusCode"]


HOURS = {"time_zone": "Europe/Amsterdam", "weekly": {"mon": [{"start": "09:00", "end": "17:00"}]}}


def test_a_policy_saved_while_its_calendar_is_deleted_is_seen_by_the_delete(desk, monkeypatch):
    assert admin_call(desk, "PUT", "/admin/calendars/office", body=HOURS)[0] == 200
    config = desk.handler("admin_api").admin.config
    # Given another admin saves a policy in the calendar after the delete looked for policies, before it deleted
    real_list, saved = config.list, []

    def policy_saved_after_the_look(kind):
        found = real_list(kind)
        if kind == "sla-policy" and not saved:
            saved.append(_meanwhile(desk, "PUT", "/admin/sla-policies/returns-sla",
                                    {**POLICY, "calendar_id": "office"}))
        return found

    monkeypatch.setattr(config, "list", policy_saved_after_the_look)
    # Then the delete looks again, finds the policy and is refused: the policy keeps its calendar
    refused(desk, "/admin/calendars/office", "calendar_in_policies", calendar="office", policies="'Returns SLA'")
    assert saved == [200]


def test_a_policy_saved_in_a_calendar_deleted_meanwhile_is_refused(desk, monkeypatch):
    assert admin_call(desk, "PUT", "/admin/calendars/office", body=HOURS)[0] == 200
    config = desk.handler("admin_api").admin.config
    # Given another admin deletes the calendar after a policy's save found it, before the policy was written
    real_get, deleted = config.get, []

    def calendar_deleted_after_the_look(kind, key):
        found = real_get(kind, key)
        if kind == "calendar" and not deleted:
            deleted.append(_meanwhile(desk, "DELETE", "/admin/calendars/office"))
        return found

    monkeypatch.setattr(config, "get", calendar_deleted_after_the_look)
    status, problem = admin_call(desk, "PUT", "/admin/sla-policies/returns-sla",
                                 body={**POLICY, "calendar_id": "office"})
    # Then the save is refused as naming a calendar that does not exist, and no policy names a deleted calendar
    assert deleted == [204]
    assert status == 404 and "calendar office does not exist" in problem["detail"], problem
    assert admin_call(desk, "GET", "/admin/sla-policies")[1]["items"] == []


def _after_the_last_look(desk, monkeypatch, request):
    """``request`` made by another admin once the team delete under test has looked at everything that may use
    the team (the macros, its last look) and before it deletes."""
    macros, done = desk.handler("admin_api").admin.macros, []
    real = macros.list

    def listed_then_request(scope, owner=None):
        found = real(scope, owner)
        if not done:
            done.append(request())
        return found

    monkeypatch.setattr(macros, "list", listed_then_request)
    return done


def test_an_agent_put_in_a_team_while_it_is_deleted_is_seen_by_the_delete(desk, monkeypatch):
    teams(desk, "default", "returns")
    assert agent(desk, "GET", "/agent/me", "alice")[0] == 200
    done = _after_the_last_look(desk, monkeypatch, lambda: _meanwhile(
        desk, "PUT", "/admin/agents/alice", {"teams": ["default", "returns"]}))
    # When another admin puts alice in returns after the delete looked for its members
    # Then the delete looks again, finds her and is refused: alice is in a team that exists
    refused(desk, "/admin/teams/returns", "team_has_members", agents="Alice", count="1")
    assert done == [200]


def test_a_routing_rule_saved_while_its_team_is_deleted_is_seen_by_the_delete(desk, monkeypatch):
    teams(desk, "default", "returns")
    done = _after_the_last_look(desk, monkeypatch, lambda: _meanwhile(
        desk, "PUT", "/admin/routing", {"team_by_channel": {"whatsapp": "returns"}}))
    refused(desk, "/admin/teams/returns", "team_routed_by_channel", channels="whatsapp")
    assert done == [200]


def _team_deleted_once_listed(desk, monkeypatch):
    """Team returns deleted by another admin just after the request under test listed the teams (to check the
    ones it names)."""
    config, done = desk.handler("admin_api").admin.config, []
    real = config.list

    def listed_then_deleted(kind):
        found = real(kind)
        if kind == "team" and not done:
            done.append(_meanwhile(desk, "DELETE", "/admin/teams/returns"))
        return found

    monkeypatch.setattr(config, "list", listed_then_deleted)
    return done


def test_an_agent_put_in_a_team_deleted_meanwhile_is_refused(desk, monkeypatch):
    teams(desk, "default", "returns")
    assert agent(desk, "GET", "/agent/me", "alice")[0] == 200
    done = _team_deleted_once_listed(desk, monkeypatch)
    status, problem = admin_call(desk, "PUT", "/admin/agents/alice", body={"teams": ["default", "returns"]})
    assert done == [204]
    assert status == 422 and "'returns' is not a team of this desk" in problem["detail"], problem
    assert problem["errors"][0]["loc"] == ["body", "teams"], problem
    assert desk.item("AGENT#alice")["teams"] == ["default"]


def test_a_routing_rule_naming_a_team_deleted_meanwhile_is_refused(desk, monkeypatch):
    teams(desk, "default", "returns")
    done = _team_deleted_once_listed(desk, monkeypatch)
    status, problem = admin_call(desk, "PUT", "/admin/routing", body={"team_by_channel": {"whatsapp": "returns"}})
    assert done == [204]
    assert status == 422 and "'returns' is not a team of this desk" in problem["detail"], problem
    assert admin_call(desk, "GET", "/admin/routing")[1]["team_by_channel"] == {}
