"""The admin API as a support lead uses it: roles from the token, agents, teams, routing settings."""

from __future__ import annotations

import json

from tests.integration.helpers import agent, customer_writes, online, teams
from tests.support import http_event


def admin_call(desk, method, path, groups, body=None, query=""):
    claims = {"cognito:username": "lead", "cognito:groups": groups}
    event = http_event(method, path, json.dumps(body) if body is not None else None,
                       {"content-type": "application/json"}, query=query, claims=claims)
    result = desk.invoke("admin_api", event)
    return result["statusCode"], json.loads(result["body"]) if result.get("body") else None


def reports_call(desk, path, who, groups, query=""):
    claims = {"cognito:username": who, "cognito:groups": groups, "token_use": "id"}
    result = desk.invoke("reports_api", http_event("GET", path, None, {}, query=query, claims=claims))
    return result["statusCode"], json.loads(result["body"]) if result.get("body") else None


def test_only_admins_configure_and_supervisors_read(desk):
    assert admin_call(desk, "GET", "/admin/agents", "[]")[0] == 403
    assert admin_call(desk, "GET", "/admin/agents", "[supervisors]")[0] == 200
    assert admin_call(desk, "PUT", "/admin/routing", "[supervisors]", {"sticky_days": 3})[0] == 403
    assert admin_call(desk, "PUT", "/admin/routing", "[admins]", {"sticky_days": 3})[0] == 200


def test_raising_capacity_takes_effect_without_a_deploy_and_refills_at_once(desk):
    online(desk, "alice")
    first = customer_writes(desk, "+31620000001", "one", "SMc1")
    desk.drain_queue(desk.work_queue_url, "router")
    status, body = admin_call(desk, "PUT", "/admin/agents/alice", "[admins]",
                              {"capacity": 1, "skills": ["returns"], "languages": ["en", "de"]})
    assert status == 200 and body["capacity"] == 1 and body["skills"] == ["returns"]
    waiting = customer_writes(desk, "+31620000002", "two", "SMc2")
    desk.drain_queue(desk.work_queue_url, "router")
    assert desk.item(f"CONV#{waiting}").get("assignee") is None         # alice is full at capacity 1
    admin_call(desk, "PUT", "/admin/agents/alice", "[admins]", {"capacity": 2})
    desk.drain_queue(desk.work_queue_url, "router")
    assert desk.item(f"CONV#{waiting}")["assignee"] == "alice"
    assert desk.item(f"CONV#{first}")["assignee"] == "alice"
    _, listing = admin_call(desk, "GET", "/admin/agents", "[admins]")
    [alice] = [a for a in listing["items"] if a["id"] == "alice"]
    assert alice["active"] == 2 and alice["capacity"] == 2 and alice["presence"] == "online"


def test_unknown_agent_and_invalid_settings_are_clear_4xx(desk):
    assert admin_call(desk, "PUT", "/admin/agents/nobody", "[admins]", {"capacity": 2})[0] == 404
    status, body = admin_call(desk, "PUT", "/admin/agents/nobody", "[admins]", {"capacity": -1})
    assert status == 422 and "capacity" in body["detail"]
    assert admin_call(desk, "PUT", "/admin/teams/Bad Id", "[admins]", {"id": "Bad Id", "name": "x"})[0] == 422


def test_team_edits_are_guarded_against_lost_updates(desk):
    status, team = admin_call(desk, "PUT", "/admin/teams/returns", "[admins]",
                              {"id": "returns", "name": "Returns"}, query="version=0")
    assert status == 200 and team["version"] == 1
    assert admin_call(desk, "PUT", "/admin/teams/returns", "[admins]",
                      {"id": "returns", "name": "Again"}, query="version=0")[0] == 409
    status, team = admin_call(desk, "PUT", "/admin/teams/returns", "[admins]",
                              {"id": "returns", "name": "Returns & exchanges"}, query="version=1")
    assert status == 200 and team["version"] == 2
    stale = admin_call(desk, "PUT", "/admin/teams/returns", "[admins]",
                       {"id": "returns", "name": "Stale"}, query="version=1")
    assert stale[0] == 409 and "changed meanwhile" in stale[1]["detail"]
    _, teams = admin_call(desk, "GET", "/admin/teams", "[supervisors]")
    assert [(t["id"], t["name"]) for t in teams["items"]] == [("returns", "Returns & exchanges")]


def test_routing_settings_have_defaults_and_keep_changes(desk):
    status, routing = admin_call(desk, "GET", "/admin/routing", "[admins]")
    assert status == 200 and routing["sticky_days"] == 7 and routing["version"] == 1   # the harness's seed
    admin_call(desk, "PUT", "/admin/routing", "[admins]", {"sticky_days": 14, "offline_grace_seconds": 60})
    _, routing = admin_call(desk, "GET", "/admin/routing", "[admins]")
    assert (routing["sticky_days"], routing["offline_grace_seconds"], routing["version"]) == (14, 60, 2)


def test_an_agent_taken_off_the_desk_is_refused_at_once_by_every_api_and_let_in_again_when_put_back(desk):
    # Given alice (an agent holding a conversation), sam (a supervisor) and ada (an admin), all signed in
    online(desk, "alice")
    held = customer_writes(desk, "+31620000093", "where is my parcel?", "SMoff3")
    desk.drain_queue(desk.work_queue_url, "router")
    assert agent(desk, "GET", "/agent/me", "sam", groups="[supervisors]")[0] == 200
    assert agent(desk, "GET", "/agent/me", "ada", groups="[admins]")[0] == 200

    def calls() -> dict[str, int]:
        """One request of each to the agent, admin and reports APIs, with tokens issued before (still valid)."""
        return {
            "alice: her conversation": agent(desk, "GET", f"/agent/conversations/{held}", "alice")[0],
            "alice: the templates (reads nothing of hers)": agent(desk, "GET", "/agent/templates", "alice")[0],
            "alice: a note": agent(desk, "POST", f"/agent/conversations/{held}/notes", "alice", {"text": "hi"})[0],
            "sam: the agents": admin_call_as(desk, "sam", "[supervisors]", "GET", "/admin/agents")[0],
            "sam: the reports": reports_call(desk, "/reports/metrics/catalog", "sam", "[supervisors]")[0],
            "ada: the routing settings": admin_call_as(desk, "ada", "[admins]", "PUT", "/admin/routing",
                                                       {"sticky_days": 5})[0],
        }

    assert set(calls().values()) <= {200, 201}
    notes = len(_notes(desk, held))
    # When an admin takes each of them off the desk
    for who in ("alice", "sam", "ada"):
        assert admin_call(desk, "POST", f"/admin/agents/{who}/deactivate", "[admins]")[0] == 200
    # Then every request of theirs is refused at once, said so, before anything is done
    refused_calls = calls()
    assert refused_calls == dict.fromkeys(refused_calls, 403)
    status, refused = agent(desk, "GET", "/agent/me", "alice")
    assert status == 403 and refused["code"] == "deactivated" and "alice" in refused["detail"], refused
    assert reports_call(desk, "/reports/metrics/catalog", "sam", "[supervisors]")[1]["code"] == "deactivated"
    assert admin_call_as(desk, "ada", "[admins]", "GET", "/admin/agents")[1]["code"] == "deactivated"
    assert len(_notes(desk, held)) == notes
    _, routing = admin_call(desk, "GET", "/admin/routing", "[admins]")
    assert routing["sticky_days"] == 5 and routing["version"] == 2         # ada's second save never happened
    # and an admin may not take themselves off (nobody could put them back through the API)
    status, refused = admin_call(desk, "POST", "/admin/agents/lead/deactivate", "[admins]")
    assert status == 409 and refused["code"] == "deactivating_self", refused
    # while the public documents still answer, and an agent with no record yet signs in as before
    assert agent(desk, "GET", "/agent/openapi.json", "alice")[0] == 200
    assert agent(desk, "GET", "/agent/me", "newbie")[0] == 200
    # When an admin puts them back, they are let in again
    for who in ("alice", "sam", "ada"):
        assert admin_call(desk, "POST", f"/admin/agents/{who}/reactivate", "[admins]")[0] == 200
    assert set(calls().values()) <= {200, 201}


def _notes(desk, conversation_id):
    """The conversation's notes, as an admin on the desk reads them."""
    messages = agent(desk, "GET", f"/agent/conversations/{conversation_id}", "root", groups="[admins]")[1]["messages"]
    return [m for m in messages if m["direction"] == "note"]


def admin_call_as(desk, who, groups, method, path, body=None):
    claims = {"cognito:username": who, "cognito:groups": groups}
    event = http_event(method, path, json.dumps(body) if body is not None else None,
                       {"content-type": "application/json"}, claims=claims)
    result = desk.invoke("admin_api", event)
    return result["statusCode"], json.loads(result["body"]) if result.get("body") else None


def test_a_role_an_admin_takes_away_is_refused_at_the_next_request_with_the_same_token(desk, monkeypatch):
    # Given ada (an admin) and sam (a supervisor), signed in, their tokens still carrying their groups for an hour
    assert agent(desk, "GET", "/agent/me", "ada", groups="[admins]")[0] == 200
    assert agent(desk, "GET", "/agent/me", "sam", groups="[supervisors]")[0] == 200
    assert admin_call_as(desk, "ada", "[admins]", "PUT", "/admin/routing", {"sticky_days": 5})[0] == 200
    assert admin_call_as(desk, "sam", "[supervisors]", "GET", "/admin/agents")[0] == 200
    assert reports_call(desk, "/reports/metrics/catalog", "sam", "[supervisors]")[0] == 200
    # When another admin makes ada a supervisor and sam an agent
    status, ada = admin_call(desk, "PUT", "/admin/agents/ada/max-role", "[admins]", {"max_role": "supervisor"})
    assert status == 200 and ada["max_role"] == "supervisor", ada
    assert admin_call(desk, "PUT", "/admin/agents/sam/max-role", "[admins]", {"max_role": "agent"})[0] == 200
    # Then their next request with the same token has only what is left: ada reads as a supervisor, changes nothing
    status, refused = admin_call_as(desk, "ada", "[admins]", "PUT", "/admin/routing", {"sticky_days": 9})
    assert status == 403 and "admins" in refused["detail"], refused
    assert admin_call_as(desk, "ada", "[admins]", "GET", "/admin/agents")[0] == 200
    assert admin_call_as(desk, "sam", "[supervisors]", "GET", "/admin/agents")[0] == 403
    assert reports_call(desk, "/reports/metrics/catalog", "sam", "[supervisors]")[0] == 403
    status, me = agent(desk, "GET", "/agent/me", "sam", groups="[supervisors]")
    assert status == 200 and me["id"] == "sam"                    # still an agent of the desk
    _, routing = admin_call(desk, "GET", "/admin/routing", "[admins]")
    assert routing["sticky_days"] == 5                            # ada's refused save never happened
    [denied] = [r for r in admin_call(desk, "GET", "/admin/audit", "[admins]", query="actor=ada")[1]["items"]
                if r["status"] == 403]
    assert denied["roles"] == ["supervisors"], denied              # the trail names the roles she held
    # and the record never gives what the token lacks: admin on sam's record, a supervisor's token, a supervisor still
    assert admin_call(desk, "PUT", "/admin/agents/sam/max-role", "[admins]", {"max_role": "admin"})[0] == 200
    assert admin_call_as(desk, "sam", "[supervisors]", "PUT", "/admin/routing", {"sticky_days": 9})[0] == 403
    assert admin_call_as(desk, "sam", "[supervisors]", "GET", "/admin/agents")[0] == 200
    # and the one read of the caller's record the admission makes is all it costs
    module = desk.handler("admin_api")
    reads: list[str] = []
    get = module.table.get

    def counted(pk, sk, **kwargs):
        reads.append(pk)
        return get(pk, sk, **kwargs)

    monkeypatch.setattr(module.table, "get", counted)
    assert admin_call_as(desk, "ada", "[admins]", "GET", "/admin/agents")[0] == 200
    assert reads.count("AGENT#ada") == 1


def test_a_role_is_an_admins_to_lower_and_never_their_own(desk):
    assert agent(desk, "GET", "/agent/me", "ada", groups="[admins]")[0] == 200
    assert agent(desk, "GET", "/agent/me", "lead", groups="[admins]")[0] == 200
    assert admin_call(desk, "PUT", "/admin/agents/ada/max-role", "[supervisors]", {"max_role": "agent"})[0] == 403
    assert admin_call(desk, "PUT", "/admin/agents/nobody/max-role", "[admins]", {"max_role": "agent"})[0] == 404
    assert admin_call(desk, "PUT", "/admin/agents/ada/max-role", "[admins]", {"max_role": "owner"})[0] == 422
    # an admin lowering their own role could not raise it again through the API
    status, refused = admin_call(desk, "PUT", "/admin/agents/lead/max-role", "[admins]", {"max_role": "supervisor"})
    assert status == 409 and refused["code"] == "demoting_self", refused
    assert admin_call(desk, "PUT", "/admin/agents/lead/max-role", "[admins]", {"max_role": "admin"})[0] == 200
    # and the admins' listing says each one's, the audit trail who set it
    _, listing = admin_call(desk, "GET", "/admin/agents", "[admins]")
    assert {a["id"]: a["max_role"] for a in listing["items"]} == {"ada": None, "lead": "admin"}
    records = admin_call(desk, "GET", "/admin/audit", "[admins]", query="actor=lead")[1]["items"]
    assert [(r["before"], r["after"]) for r in records if r["after"] and "max_role" in r["after"]] == \
        [({}, {"max_role": "admin"})], records

def test_two_admins_lowering_each_other_at_the_same_moment_never_both_succeed(desk, monkeypatch):
    # Given ada and bob, the desk's two admins, both signed in
    assert agent(desk, "GET", "/agent/me", "ada", groups="[admins]")[0] == 200
    assert agent(desk, "GET", "/agent/me", "bob", groups="[admins]")[0] == 200
    module = desk.handler("admin_api")
    get = module.table.get
    crossed: list[str] = []

    def bob_lowers_ada_meanwhile(pk, sk, **kwargs):
        """Bob's lowering of ada lands after ada's request was admitted as an admin's, before hers is written."""
        if pk == "AGENT#bob" and not crossed:
            crossed.append(pk)
            desk.client("dynamodb").update_item(
                TableName=desk.table_name, Key={"PK": {"S": "AGENT#ada"}, "SK": {"S": "META"}},
                UpdateExpression="SET max_role = :r", ExpressionAttributeValues={":r": {"S": "supervisor"}})
        return get(pk, sk, **kwargs)

    monkeypatch.setattr(module.table, "get", bob_lowers_ada_meanwhile)
    # When ada lowers bob at that moment
    status, refused = admin_call_as(desk, "ada", "[admins]", "PUT", "/admin/agents/bob/max-role",
                                    {"max_role": "supervisor"})
    # Then hers is refused, said so, and bob is left an admin: the desk keeps one
    assert crossed and status == 409 and refused["code"] == "last_admin", refused
    assert desk.item("AGENT#bob").get("max_role") is None
    monkeypatch.setattr(module.table, "get", get)
    assert admin_call_as(desk, "bob", "[admins]", "PUT", "/admin/routing", {"sticky_days": 4})[0] == 200
    # and an admin whose record holds no cap (admin, or none, or no record yet) lowers another as before
    assert admin_call_as(desk, "bob", "[admins]", "PUT", "/admin/agents/ada/max-role", {"max_role": "admin"})[0] == 200
    assert admin_call_as(desk, "ada", "[admins]", "PUT", "/admin/agents/bob/max-role",
                         {"max_role": "agent"})[0] == 200
    assert admin_call_as(desk, "newcomer", "[admins]", "PUT", "/admin/agents/bob/max-role",
                         {"max_role": "admin"})[0] == 200


def test_a_max_role_the_desk_does_not_know_is_read_as_the_lowest_and_breaks_no_one(desk, caplog):
    # Given ada, an admin, and alice, an agent online, each item's max_role edited by hand to a value no role has
    assert agent(desk, "GET", "/agent/me", "ada", groups="[admins]")[0] == 200
    online(desk, "alice")
    for who in ("ada", "alice"):
        desk.client("dynamodb").update_item(
            TableName=desk.table_name, Key={"PK": {"S": f"AGENT#{who}"}, "SK": {"S": "META"}},
            UpdateExpression="SET max_role = :r", ExpressionAttributeValues={":r": {"S": "Admin"}})
    # Then ada is capped to an agent, never refused outright: her own requests answer, an admin's write is refused
    status, me = agent(desk, "GET", "/agent/me", "ada", groups="[admins]")
    assert status == 200 and me["id"] == "ada", me
    assert admin_call_as(desk, "ada", "[admins]", "PUT", "/admin/routing", {"sticky_days": 9})[0] == 403
    assert admin_call_as(desk, "ada", "[admins]", "GET", "/admin/agents")[0] == 403
    # and another admin's listing still answers, saying the cap as read
    status, listing = admin_call(desk, "GET", "/admin/agents", "[admins]")
    assert status == 200, listing
    assert {a["id"]: a["max_role"] for a in listing["items"]} == {"ada": "agent", "alice": "agent"}
    # and routing still reads the online agents: a customer's message goes to alice
    conversation = customer_writes(desk, "+31620000071", "where is my parcel?", "SMcap1")
    desk.drain_queue(desk.work_queue_url, "router")
    assert desk.item(f"CONV#{conversation}").get("assignee") == "alice"
    # and the logs say so, with the agent's id and the role read, not the value stored
    logged = [r for r in caplog.records if "max_role" in r.getMessage()]
    assert logged and {(r.levelname, r.read_as) for r in logged} == {("WARNING", "agent")}, logged
    assert {r.agent_id for r in logged} == {"ada", "alice"}
    assert not any("Admin" in r.getMessage() or "Admin" in str(vars(r)) for r in logged), logged


def test_agent_api_is_unchanged_for_agents_without_roles(desk):
    assert agent(desk, "GET", "/agent/me", "carol")[0] == 200


def test_a_routing_map_with_an_empty_key_is_refused_and_the_settings_stay_readable(desk):
    # Found by schemathesis: DynamoDB takes no empty attribute name inside a map, and once stored such a map
    # made every later read of the routing settings fail.
    for bad in ({"team_by_channel": {"": "returns"}}, {"acknowledgement_templates": {"en": {"": "x"}}},
                {"acknowledgement_templates": {"": {}}}):
        status, problem = admin_call(desk, "PUT", "/admin/routing", "[admins]", bad)
        assert status == 422 and problem["errors"], (bad, problem)
    status, settings = admin_call(desk, "GET", "/admin/routing", "[admins]")
    assert status == 200 and settings["team_by_channel"] == {}


def test_settings_naming_a_channel_or_language_shopdesk_does_not_have_are_refused_and_nothing_is_saved(desk):
    # a misspelt channel would silently never match; a language without texts would get English
    teams(desk, "returns")
    for path, body, field, known in [
            ("/admin/routing", {"team_by_channel": {"whatsap": "returns"}}, "team_by_channel", "whatsapp"),
            ("/admin/routing", {"default_language": "fr"}, "default_language", "es, pt"),
            ("/admin/bot", {"enabled": True, "channels": ["webchat", "smss"]}, "channels", "whatsapp"),
            ("/admin/csat", {"enabled": True, "when": "channels", "channels": ["mail"]}, "channels", "whatsapp")]:
        before = admin_call(desk, "GET", path, "[admins]")[1]
        status, problem = admin_call(desk, "PUT", path, "[admins]", body)
        assert status == 422, (path, status, problem)
        [error] = problem["errors"]
        assert error["loc"] == ["body", field] and known in error["msg"], error
        assert admin_call(desk, "GET", path, "[admins]")[1] == before
    policy = {"id": "p9", "name": "Fax", "applies_to": {"channels": ["fax"]},
              "targets": {"normal": {"first_response": 3600}}}
    status, problem = admin_call(desk, "PUT", "/admin/sla-policies/p9", "[admins]", policy)
    assert status == 422 and problem["errors"][0]["loc"] == ["body", "applies_to", "channels"]
    assert "'fax'" in problem["detail"]
    assert admin_call(desk, "GET", "/admin/sla-policies/p9", "[admins]")[0] == 404
    # the channels and languages it has; a policy compares channels case-insensitively
    assert admin_call(desk, "PUT", "/admin/routing", "[admins]", {"team_by_channel": {"whatsapp": "returns"},
                                                                  "default_language": "pt"})[0] == 200
    assert admin_call(desk, "PUT", "/admin/sla-policies/p9", "[admins]",
                      {**policy, "applies_to": {"channels": ["SMS"]}})[0] == 200


def test_a_policy_whose_first_response_outlasts_its_resolution_is_refused_at_that_priority(desk):
    policy = {"id": "p8", "name": "Typo", "targets": {"normal": {"first_response": 7200, "resolution": 60},
                                                      "high": {"first_response": 600, "resolution": 3600}}}
    status, problem = admin_call(desk, "PUT", "/admin/sla-policies/p8", "[admins]", policy)
    assert status == 422, problem
    [error] = problem["errors"]
    assert error["loc"] == ["body", "targets", "normal", "first_response"], error
    assert "longer than their resolution target (60 s)" in error["msg"]
    assert admin_call(desk, "GET", "/admin/sla-policies/p8", "[admins]")[0] == 404
    policy["targets"]["normal"]["resolution"] = 7200              # as long as the first response: taken
    assert admin_call(desk, "PUT", "/admin/sla-policies/p8", "[admins]", policy)[0] == 200


def test_routing_to_a_team_the_desk_does_not_have_is_refused_at_its_row_and_nothing_is_saved(desk):
    # a misspelt team would be a queue no agent is in: that channel's customers would wait until they breach
    teams(desk, "returns")
    before = admin_call(desk, "GET", "/admin/routing", "[admins]")[1]
    status, problem = admin_call(desk, "PUT", "/admin/routing", "[admins]", {
        "default_team": "defualt", "team_by_channel": {"telegram": "ghost", "sms": "returns"},
        "team_by_label": {"damaged": "claims"}})
    assert status == 422, problem
    assert {tuple(e["loc"]) for e in problem["errors"]} == {
        ("body", "default_team"), ("body", "team_by_channel", "telegram"), ("body", "team_by_label", "damaged")}
    assert all("is not a team of this desk" in e["msg"] and "default, returns" in e["msg"] for e in problem["errors"])
    assert admin_call(desk, "GET", "/admin/routing", "[admins]")[1] == before
    # the desk's own teams are taken: the built-in default and those created
    status, saved = admin_call(desk, "PUT", "/admin/routing", "[admins]", {"team_by_channel": {"telegram": "returns"}})
    assert status == 200 and saved["team_by_channel"] == {"telegram": "returns"}, saved


def test_the_default_team_stays_a_team_of_the_desk_when_routing_sends_conversations_elsewhere(desk):
    # Given the routing settings' default team moved to returns (no team item named default was ever created)
    teams(desk, "returns")
    assert agent(desk, "GET", "/agent/me", "alice")[0] == 200              # alice is in the default team
    assert admin_call(desk, "PUT", "/admin/routing", "[admins]", {"default_team": "returns"})[0] == 200
    # Then default is still a team a setting may name: an agent kept in it, a policy, and the routing settings
    # set back to it
    status, body = admin_call(desk, "PUT", "/admin/agents/alice", "[admins]", {"teams": ["default"], "capacity": 2})
    assert status == 200 and body["teams"] == ["default"], body
    policy = {"id": "p-default", "name": "Default team", "targets": {"normal": {"first_response": 600}},
              "applies_to": {"teams": ["default"]}}
    assert admin_call(desk, "PUT", "/admin/sla-policies/p-default", "[admins]", policy)[0] == 200
    status, body = admin_call(desk, "PUT", "/admin/routing", "[admins]", {"default_team": "default"})
    assert status == 200 and body["default_team"] == "default", body


def test_a_routing_save_changes_the_fields_it_gives_and_keeps_the_others(desk):
    # Given routing settings with a shop name, acknowledgement templates and skill keywords
    status, first = admin_call(desk, "PUT", "/admin/routing", "[admins]", {
        "shop_name": "Example Shop", "skill_keywords": {"returns": ["refund"]}, "sticky_days": 3,
        "acknowledgement_templates": {"en": {"open_now": "Thanks! We answer by {eta}."}}})
    assert status == 200, first
    # When an admin (or a script) saves one field, without a version
    status, saved = admin_call(desk, "PUT", "/admin/routing", "[admins]", {"sticky_days": 10})
    # Then that field changes and every other keeps its value (not its default)
    assert status == 200, saved
    assert saved["sticky_days"] == 10 and saved["shop_name"] == "Example Shop"
    assert saved["skill_keywords"] == {"returns": ["refund"]}
    assert saved["acknowledgement_templates"] == {"en": {"open_now": "Thanks! We answer by {eta}."}}
    assert saved["version"] == first["version"] + 1
    assert admin_call(desk, "GET", "/admin/routing", "[admins]")[1] == saved
    # And a field given as empty is emptied; a save over an older version is still refused
    assert admin_call(desk, "PUT", "/admin/routing", "[admins]", {"shop_name": ""})[1]["shop_name"] == ""
    assert admin_call(desk, "PUT", "/admin/routing", "[admins]", {"sticky_days": 1},
                      query=f"version={first['version']}")[0] == 409
    # The bot's and the surveys' settings are saved the same way
    assert admin_call(desk, "PUT", "/admin/csat", "[admins]", {"enabled": True, "when": "channels",
                                                                "channels": ["sms"], "delay_s": 300})[0] == 200
    status, csat = admin_call(desk, "PUT", "/admin/csat", "[admins]", {"enabled": False})
    assert status == 200 and csat["enabled"] is False and (csat["delay_s"], csat["channels"]) == (300, ["sms"]), csat
    # (and what the fields given make of the stored ones is checked as a whole body is: a 422, nothing saved)
    status, problem = admin_call(desk, "PUT", "/admin/csat", "[admins]", {"channels": None})
    assert status == 422 and "when=channels needs the list of channels" in problem["detail"], problem
    assert admin_call(desk, "GET", "/admin/csat", "[admins]")[1] == csat


def test_of_two_admins_editing_one_agent_the_later_save_is_refused_and_presence_moves_no_version(desk):
    assert agent(desk, "GET", "/agent/me", "carol")[0] == 200            # signed in once: the agent exists
    settings = {"capacity": 4, "teams": ["default"], "skills": [], "languages": ["en"]}
    status, first = admin_call(desk, "PUT", "/admin/agents/carol", "[admins]", settings, query="version=0")
    assert status == 200 and first["settings_version"] == 1, first
    # carol going online changes her item, not her settings' version
    assert agent(desk, "PUT", "/agent/me/presence", "carol", {"presence": "online"})[0] == 200
    assert admin_call(desk, "PUT", "/admin/agents/carol", "[admins]", {**settings, "capacity": 5},
                      query="version=1")[1]["settings_version"] == 2
    status, problem = admin_call(desk, "PUT", "/admin/agents/carol", "[admins]", {**settings, "capacity": 9},
                                 query="version=1")
    assert status == 409 and "now version 2" in problem["detail"], problem
    [carol] = [a for a in admin_call(desk, "GET", "/admin/agents", "[admins]")[1]["items"] if a["id"] == "carol"]
    assert (carol["capacity"], carol["presence"], carol["settings_version"]) == (5, "online", 2)
    # a save without a version still applies, as before
    assert admin_call(desk, "PUT", "/admin/agents/carol", "[admins]", settings)[1]["settings_version"] == 3


def test_every_answer_is_what_the_document_says(desk):
    # the answers go through their documented response models: version included, nothing dropped
    _, team = admin_call(desk, "PUT", "/admin/teams/returns", "[admins]", {"id": "returns", "name": "Returns"})
    assert team == {"id": "returns", "name": "Returns", "description": None, "version": 1}
    _, teams = admin_call(desk, "GET", "/admin/teams", "[supervisors]")
    assert teams == {"items": [team]}
    document = json.loads(desk.invoke("admin_api", http_event("GET", "/admin/openapi.json"))["body"])
    ok = document["paths"]["/admin/teams/{team_id}"]["put"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/TeamOut"}
    assert set(document["components"]["schemas"]["TeamOut"]["properties"]) == {"id", "name", "description", "version"}


def test_a_body_that_is_not_json_is_a_415_problem_even_multipart_without_a_boundary(desk):
    claims = {"cognito:username": "lead", "cognito:groups": "[admins]"}
    for content_type in ("multipart/form-data", "text/plain", "application/x-www-form-urlencoded"):
        event = http_event("PUT", "/admin/teams/returns", "id=returns", {"content-type": content_type}, claims=claims)
        result = desk.invoke("admin_api", event)
        assert result["statusCode"] == 415, (content_type, result)
        assert result["headers"]["Content-Type"] == "application/problem+json"
        assert content_type in json.loads(result["body"])["detail"]


def test_a_json_body_is_application_json_or_a_json_suffix_type_not_any_type_that_starts_so(desk):
    claims = {"cognito:username": "lead", "cognito:groups": "[admins]"}
    body = json.dumps({"id": "returns", "name": "Returns"})
    # Given types that merely start with application/json: not JSON, a 415
    for content_type in ("application/jsonx", "application/json-seq", "application/jsonp; charset=utf-8"):
        event = http_event("PUT", "/admin/teams/returns", body, {"content-type": content_type}, claims=claims)
        result = desk.invoke("admin_api", event)
        assert result["statusCode"] == 415, (content_type, result)
        assert content_type in json.loads(result["body"])["detail"]
    # JSON itself, with parameters or in another case, and the +json structured syntax types are read as JSON
    for content_type in ("application/json", "application/json; charset=utf-8", "Application/JSON",
                         "application/merge-patch+json", "application/problem+json; charset=utf-8"):
        event = http_event("PUT", "/admin/teams/returns", body, {"content-type": content_type}, claims=claims)
        result = desk.invoke("admin_api", event)
        assert result["statusCode"] == 200, (content_type, result)


def test_numbers_dynamodb_cannot_hold_are_refused_not_a_500(desk):
    # Found by schemathesis: 2.2e-308 passed "greater than 0" and then failed to serialise for DynamoDB.
    for bad in ({"warning_fraction": 2.2250738585072014e-308}, {"rank": 10**40},
                {"targets": {"normal": {"first_response": 1e300}}}):
        policy = {"id": "p1", "name": "P", **bad}
        status, problem = admin_call(desk, "PUT", "/admin/sla-policies/p1", "[admins]", policy)
        assert status == 422 and problem["errors"], (bad, problem)
    assert admin_call(desk, "PUT", "/admin/teams/t1", "[admins]", {"id": "t1", "name": "T"},
                      query=f"version={10**40}")[0] == 422


def test_settings_naming_a_team_nobody_created_or_a_language_or_tier_that_cannot_match_are_refused(desk):
    # Given the desk's teams: returns (created) and default (where routing sends conversations)
    teams(desk, "returns")
    agent(desk, "GET", "/agent/me", "alice")
    policy = {"id": "p7", "name": "Returns", "targets": {"normal": {"first_response": 3600}}}
    for path, read, body, loc, value in [
            ("/admin/agents/alice", "/admin/agents", {"teams": ["returns", "vpi"]}, ["body", "teams"], "'vpi'"),
            ("/admin/agents/alice", "/admin/agents", {"languages": ["en", "xx"]}, ["body", "languages"], "'xx'"),
            ("/admin/sla-policies/p7", "/admin/sla-policies", {**policy, "applies_to": {"teams": ["retruns"]}},
             ["body", "applies_to", "teams"], "'retruns'"),
            ("/admin/sla-policies/p7", "/admin/sla-policies", {**policy, "applies_to": {"tiers": ["gold plus"]}},
             ["body", "applies_to", "tiers"], "'gold plus'"),
            ("/admin/bot", "/admin/bot", {"teams": ["nosuchteam"]}, ["body", "teams"], "'nosuchteam'"),
            ("/admin/bot", "/admin/bot", {"fallback_language": "xx"}, ["body", "fallback_language"], "'xx'")]:
        before = admin_call(desk, "GET", read, "[admins]")[1]
        # When an admin saves it
        status, problem = admin_call(desk, "PUT", path, "[admins]", body)
        # Then the field and the value are named, and nothing changed
        assert status == 422, (path, body, problem)
        [error] = problem["errors"]
        assert error["loc"] == loc and value in error["msg"], error
        assert admin_call(desk, "GET", read, "[admins]")[1] == before
    # The names that can match are taken: the desk's teams (a policy's in any case), its languages, any tier
    status, body = admin_call(desk, "PUT", "/admin/agents/alice", "[admins]",
                              {"teams": ["returns", "default"], "languages": ["es"]})
    assert status == 200 and body["teams"] == ["returns", "default"], body
    assert admin_call(desk, "PUT", "/admin/sla-policies/p7", "[admins]",
                      {**policy, "applies_to": {"teams": ["Returns"], "tiers": ["VIP", "gold_plus"]}})[0] == 200
    bot = {"teams": ["returns"], "fallback_language": "es"}
    assert admin_call(desk, "PUT", "/admin/bot", "[admins]", bot)[0] == 200


def test_a_second_team_or_label_with_a_name_taken_is_a_409_naming_the_one_that_has_it(desk):
    # Given a team "Returns" and a label "Refund"
    teams(desk, "returns")
    assert admin_call(desk, "PUT", "/admin/labels/refund", "[admins]", {"name": "Refund", "color": "#2f80ed"})[0] == 200
    for path, body, name, holder in [
            ("/admin/teams/returns-eu", {"id": "returns-eu", "name": " returns "}, "returns", "returns"),
            ("/admin/teams/support", {"id": "support", "name": "DEFAULT"}, "DEFAULT", "default"),  # routing's
            ("/admin/labels/refund-2", {"name": "REFUND", "color": "#000000"}, "REFUND", "refund")]:
        # When another is saved with the same name, case and spacing aside
        status, problem = admin_call(desk, "PUT", path, "[admins]", body)
        # Then it is refused naming the name and the one that has it, and nothing is saved
        assert status == 409, (path, problem)
        assert (problem["code"], problem["params"]) == ("name_taken", {"name": name, "id": holder}), problem
    assert [t["id"] for t in admin_call(desk, "GET", "/admin/teams", "[admins]")[1]["items"]] == ["returns"]
    assert [label["id"] for label in admin_call(desk, "GET", "/admin/labels", "[admins]")[1]["items"]] == ["refund"]
    # A retired label keeps its name (conversations still show it)
    assert admin_call(desk, "POST", "/admin/labels/refund/retire", "[admins]")[0] == 200
    again = admin_call(desk, "PUT", "/admin/labels/refund-2", "[admins]", {"name": "Refund", "color": "#000000"})
    assert again[0] == 409 and again[1]["params"] == {"name": "Refund", "id": "refund"}
    # while each saves again under its own name, in another case too
    assert admin_call(desk, "PUT", "/admin/teams/returns", "[admins]", {"id": "returns", "name": "RETURNS"})[0] == 200
    assert admin_call(desk, "PUT", "/admin/labels/refund", "[admins]", {"name": "refund", "color": "#2f80ed"})[0] == 200


def test_an_agent_taken_off_the_desk_gets_no_work_cannot_go_online_and_what_they_hold_goes_back(desk):
    online(desk, "alice")
    held = customer_writes(desk, "+31620000091", "where is my parcel?", "SMoff1")
    desk.drain_queue(desk.work_queue_url, "router")
    assert desk.item(f"CONV#{held}")["assignee"] == "alice"
    # Only an admin takes an agent off the desk
    assert admin_call(desk, "POST", "/admin/agents/alice/deactivate", "[supervisors]")[0] == 403
    assert admin_call(desk, "POST", "/admin/agents/nobody/deactivate", "[admins]")[0] == 404
    # When an admin does (alice left the shop)
    status, body = admin_call(desk, "POST", "/admin/agents/alice/deactivate", "[admins]")
    assert status == 200 and body["presence"] == "offline" and body["deactivated_by"] == "lead", body
    assert admin_call(desk, "POST", "/admin/agents/alice/deactivate", "[admins]")[1]["deactivated_at"] == \
        body["deactivated_at"]                                          # again: nothing changes
    # Then she cannot go online again, said so (nor do anything else: the next test)
    status, refused = agent(desk, "PUT", "/agent/me/presence", "alice", {"presence": "online"})
    assert status == 403 and refused["code"] == "deactivated", refused
    assert desk.item("AGENT#alice")["presence"] == "offline"
    # nobody can transfer a conversation to her
    online(desk, "bob")
    other = customer_writes(desk, "+31620000092", "and mine?", "SMoff2")
    desk.drain_queue(desk.work_queue_url, "router")
    assert desk.item(f"CONV#{other}")["assignee"] == "bob"
    status, _ = agent(desk, "POST", f"/agent/conversations/{other}/assignment", "bob", {"agent_id": "alice"})
    assert status == 409
    # and what she held goes back to the queue at the sweep's next run, to whoever is online
    desk.invoke("sla_sweep", {})
    desk.drain_queue(desk.work_queue_url, "router")
    assert desk.item(f"CONV#{held}")["assignee"] == "bob"
    assert desk.item("AGENT#alice")["active"] == 0
    # and the audit trail says who did it
    records = admin_call(desk, "GET", "/admin/audit", "[admins]", query="actor=lead")[1]["items"]
    assert any(r["after"] and r["after"].get("deactivated_at") for r in records), records
    # When an admin puts her back, she may go online again
    status, back = admin_call(desk, "POST", "/admin/agents/alice/reactivate", "[admins]")
    assert status == 200 and back["deactivated_at"] is None and back["presence"] == "offline"
    assert agent(desk, "PUT", "/agent/me/presence", "alice", {"presence": "online"})[0] == 200
