"""Who may see and do what, route by route, over the real handlers.

Every route of the agent, admin and reports APIs has a row: the status for an agent of the conversation's team, a
supervisor of that team, an admin, and an agent of another team. The rows are checked against the routes
the apps declare, so a new route without a row fails here. For a conversation the caller may not see, every
conversation route answers 404 with the body of a conversation that does not exist; so does every customer route for
a customer. An agent or admin taken off
the desk gets 403 ``deactivated`` on every row's route but the public documents, and nothing is done.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.integration.helpers import customer_writes
from tests.support import http_event

ROLES = ("agent", "supervisor", "admin", "other")
CALLERS = {"agent": ("alice", "[]"), "supervisor": ("sam", "[supervisors]"), "admin": ("root", "[admins]"),
           "other": ("vera", "[]")}
MISSING = "c_01MISSING00000000000000000"
ARTICLE = {"title": "Delivery", "body": "Standard delivery takes 2-4 working days.", "language": "en"}
MACRO = {"name": "Triage", "actions": [{"type": "add_labels", "labels": ["shipping"]}]}
CANNED = {"title": "Welcome", "shortcode": "welcome",
          "bodies": {"en": "Hi {{customer.first_name | default: \"there\"}}"}}

# (method, route as the app declares it): (body, query, statuses for agent, supervisor, admin, other team)
AGENT_ROUTES: dict[tuple[str, str], tuple[Any, str, tuple[int, int, int, int]]] = {
    ("GET", "/agent/openapi.json"): (None, "", (200, 200, 200, 200)),
    ("GET", "/agent/swagger"): (None, "", (200, 200, 200, 200)),
    ("GET", "/agent/conversations"): (None, "view=all", (200, 200, 200, 200)),
    # counts only what the caller may see (test_lists_show_only_what_the_caller_may_see)
    ("GET", "/agent/conversations/counts"): (None, "", (200, 200, 200, 200)),
    ("GET", "/agent/conversations/<conversation_id>"): (None, "", (200, 200, 200, 404)),
    # the caller's own mentions (none here: nothing to mark, still 204); another team's conversation: 404
    ("POST", "/agent/conversations/<conversation_id>/mentions/read"): (None, "", (204, 204, 204, 404)),
    # a WhatsApp customer has no email: past the access check a 409 (tests/integration/test_transcripts.py sends)
    ("POST", "/agent/conversations/<conversation_id>/transcript"): (None, "", (409, 409, 409, 404)),
    ("POST", "/agent/conversations/<conversation_id>/replies"): ({"text": "On its way"}, "", (202, 202, 202, 404)),
    # past the access check, a reply that is not there (tests/integration/test_attachments.py sends one again)
    ("POST", "/agent/conversations/<conversation_id>/replies/<message_id>/retry"): (None, "", (404, 404, 404, 404)),
    # an upload for a reply in the conversation: only who may see it (an upload for a canned response: anyone)
    ("POST", "/agent/attachments"): ("UPLOAD", "", (201, 201, 201, 404)),
    ("POST", "/agent/conversations/<conversation_id>/notes"): ({"text": "VIP"}, "", (201, 201, 201, 404)),
    ("POST", "/agent/conversations/<conversation_id>/assignment"): ({"agent_id": "alice"}, "", (200, 200, 200, 404)),
    ("POST", "/agent/conversations/<conversation_id>/status"): ({"status": "open"}, "", (200, 200, 200, 404)),
    # each caller gives it skills of their own: a change that changes nothing is a 422 (test_routing_changes.py)
    ("PUT", "/agent/conversations/<conversation_id>/routing"): ("ROUTING", "", (200, 200, 200, 404)),
    ("GET", "/agent/templates"): (None, "", (200, 200, 200, 200)),
    ("POST", "/agent/conversations/<conversation_id>/templates"): ("TEMPLATE", "", (202, 202, 202, 404)),
    ("GET", "/agent/me"): (None, "", (200, 200, 200, 200)),
    ("PUT", "/agent/me/presence"): ({"presence": "online"}, "", (200, 200, 200, 200)),
    # whom to transfer to: any agent with room, of any team (as the assignment route allows)
    ("GET", "/agent/agents"): (None, "", (200, 200, 200, 200)),
    # the teams by name, for the routing card: every agent, as the routing route names any team (its access rule)
    ("GET", "/agent/teams"): (None, "", (200, 200, 200, 200)),
    ("GET", "/agent/customers/<customer_id>"): (None, "", (200, 200, 200, 404)),
    ("GET", "/agent/customers/<customer_id>/duplicates"): (None, "", (200, 200, 200, 404)),
    # merging the customer with themselves: past the access check it is a 400 (nothing merged), else a 404
    ("POST", "/agent/customers/<customer_id>/merge"): ("SELF_MERGE", "", (400, 400, 400, 404)),
    ("POST", "/agent/customers/<customer_id>/unmerge"): ({"merge_id": "mg_missing"}, "", (404, 404, 404, 404)),
    # notices are filtered by the same rule, not refused: tests/integration/test_live.py checks what each sees
    ("GET", "/agent/changes"): (None, "", (200, 200, 200, 200)),
    # no shop platform here: the panel is empty, and an action past the role check (ORDER_ACTION_GROUPS:
    # supervisors, admins) says so (409); tests/integration/test_commerce.py acts against the sandbox
    ("GET", "/agent/conversations/<conversation_id>/orders"): (None, "", (200, 200, 200, 404)),
    ("POST", "/agent/conversations/<conversation_id>/orders/<order_id>/cancel"): (
        {"confirm": True}, "", (403, 409, 409, 404)),
    ("POST", "/agent/conversations/<conversation_id>/orders/<order_id>/refund"): (
        {"confirm": True}, "", (403, 409, 409, 404)),
    # results are filtered, not refused: tests/integration/test_search.py checks what each finds
    ("GET", "/agent/search"): (None, "q=%2B31655500001", (200, 200, 200, 200)),
    ("POST", "/agent/conversations/<conversation_id>/preview"): (
        {"text": "Hi, {{agent.first_name}} here"}, "", (200, 200, 200, 404)),
    # personal canned responses: each caller writes and deletes their own (tests/integration/test_canned.py)
    ("PUT", "/agent/canned-responses/<response_id>"): (CANNED, "", (200, 200, 200, 200)),
    ("GET", "/agent/canned-responses"): (None, "q=wel", (200, 200, 200, 200)),
    ("DELETE", "/agent/canned-responses/<response_id>"): (None, "", (204, 204, 204, 204)),
    # agent assist reads only the knowledge base, which every agent may read; for a conversation, its access rule
    ("POST", "/agent/assist/answer"): ({"text": "How long does delivery take?"}, "", (200, 200, 200, 200)),
    ("GET", "/agent/conversations/<conversation_id>/assist"): (None, "", (200, 200, 200, 404)),
    # labels: everyone reads the catalogue; labels on a conversation as any change to it
    # (tests/integration/test_labels_macros.py)
    ("GET", "/agent/labels"): (None, "", (200, 200, 200, 200)),
    ("POST", "/agent/conversations/<conversation_id>/labels"): ({"add": ["shipping"]}, "", (200, 200, 200, 404)),
    # macros: personal ones are each caller's own; applying answers per conversation (the other team's: a 404
    # inside the result, as for a missing conversation)
    ("GET", "/agent/macros"): (None, "", (200, 200, 200, 200)),
    ("PUT", "/agent/macros/<macro_id>"): (MACRO, "", (200, 200, 200, 200)),
    ("POST", "/agent/macros/<macro_id>/apply"): ("APPLY", "", (200, 200, 200, 200)),
    ("DELETE", "/agent/macros/<macro_id>"): (None, "", (204, 204, 204, 204)),
}

READ, WRITE = (403, 200, 200, 403), (403, 403, 200, 403)
ADMIN_ROUTES: dict[tuple[str, str], tuple[Any, str, tuple[int, int, int, int]]] = {
    ("GET", "/admin/openapi.json"): (None, "", (200, 200, 200, 200)),
    ("GET", "/admin/swagger"): (None, "", (200, 200, 200, 200)),
    ("GET", "/admin/agents"): (None, "", READ),
    ("PUT", "/admin/agents/<agent_id>"): ({"capacity": 3, "teams": ["default"]}, "", WRITE),
    ("POST", "/admin/agents/<agent_id>/deactivate"): (None, "", WRITE),
    ("POST", "/admin/agents/<agent_id>/reactivate"): (None, "", WRITE),      # (back, offline)
    ("PUT", "/admin/agents/<agent_id>/max-role"): ({"max_role": "admin"}, "", WRITE),     # alice's token: no raise
    ("GET", "/admin/teams"): (None, "", READ),
    # a supervisor's board: their teams' conversations (test_figures_are_the_callers_teams_and_a_team_named_one_of_them)
    ("GET", "/admin/sla-events"): (None, "", READ),
    ("PUT", "/admin/teams/<team_id>"): ({"id": "vip", "name": "VIP"}, "", WRITE),
    # vera is in team vip: past the role check, 409 (tests/integration/test_team_calendar_delete.py deletes)
    ("DELETE", "/admin/teams/<team_id>"): (None, "", (403, 403, 409, 403)),
    ("GET", "/admin/calendars"): (None, "", READ),
    ("PUT", "/admin/calendars/<calendar_id>"): (
        {"time_zone": "UTC", "weekly": {"mon": [{"start": "09:00", "end": "17:00"}]}}, "", WRITE),
    ("DELETE", "/admin/calendars/<calendar_id>"): (None, "", (403, 403, 204, 403)),
    ("GET", "/admin/sla-policies"): (None, "", READ),
    ("PUT", "/admin/sla-policies/<policy_id>"): (
        {"id": "std", "name": "Standard", "targets": {"normal": {"first_response": 7200}}}, "", WRITE),
    ("DELETE", "/admin/sla-policies/<policy_id>"): (None, "", (403, 403, 204, 403)),
    ("GET", "/admin/routing"): (None, "", READ),
    ("PUT", "/admin/routing"): ({"acknowledgements": False}, "", WRITE),
    ("GET", "/admin/customers"): (None, "phone=%2B31655500001", READ),
    ("GET", "/admin/customers/<customer_id>"): (None, "", READ),
    ("PUT", "/admin/customers/<customer_id>"): ({"tier": None}, "", WRITE),
    ("GET", "/admin/privacy-requests"): (None, "", WRITE),        # admins only, as privacy work is
    ("PUT", "/admin/canned-responses/<response_id>"): (CANNED, "", WRITE),
    ("GET", "/admin/canned-responses/<response_id>"): (None, "", READ),
    ("GET", "/admin/canned-responses"): (None, "", READ),
    ("DELETE", "/admin/canned-responses/<response_id>"): (None, "", (403, 403, 204, 403)),
    ("PUT", "/admin/kb/articles/<article_id>"): (ARTICLE, "", WRITE),
    ("GET", "/admin/kb/articles"): (None, "", READ),
    ("GET", "/admin/kb/articles/<article_id>/versions"): (None, "", READ),
    ("DELETE", "/admin/kb/articles/<article_id>"): (None, "", WRITE),
    # the article the rows above wrote and retired, published again (drafts: tests/integration/test_bot.py)
    ("POST", "/admin/kb/articles/<article_id>/publish"): (None, "", WRITE),
    # that article has no draft to discard: past the role check, 404 (drafts: tests/integration/test_bot.py)
    ("DELETE", "/admin/kb/articles/<article_id>/draft"): (None, "", (403, 403, 404, 403)),
    # JSON is not an import format: past the role check, 415 (tests/integration/test_bot.py imports for real)
    ("POST", "/admin/kb/import"): ({"id": "x"}, "", (403, 403, 415, 403)),
    ("GET", "/admin/bot"): (None, "", READ),
    ("PUT", "/admin/bot"): ({"enabled": False}, "", WRITE),
    ("GET", "/admin/csat"): (None, "", READ),
    ("PUT", "/admin/csat"): ({"enabled": False}, "", WRITE),
    ("GET", "/admin/labels"): (None, "", READ),
    ("PUT", "/admin/labels/<label_id>"): ({"name": "Shipping", "color": "#2f80ed"}, "", WRITE),
    # (the macro MACRO, written by a row before it, adds it: retired anyway, tests/integration/test_labels_macros.py)
    ("POST", "/admin/labels/<label_id>/retire"): (None, "force=true", WRITE),
    ("POST", "/admin/labels/<label_id>/restore"): (None, "", WRITE),
    ("GET", "/admin/macros"): (None, "", READ),
    ("GET", "/admin/macros/<macro_id>"): (None, "", READ),
    ("PUT", "/admin/macros/<macro_id>"): (MACRO, "", WRITE),
    ("DELETE", "/admin/macros/<macro_id>"): (None, "", (403, 403, 204, 403)),
    # privacy: admins only (tests/integration/test_privacy.py runs the jobs and reads the trail)
    ("GET", "/admin/audit"): (None, "", WRITE),
    ("GET", "/admin/privacy/settings"): (None, "", WRITE),
    ("PUT", "/admin/privacy/settings"): ({"retention": {"audit_days": 400}}, "", WRITE),
    ("POST", "/admin/customers/<customer_id>/export"): (None, "", (403, 403, 202, 403)),
    ("POST", "/admin/customers/<customer_id>/erase"): (None, "", (403, 403, 202, 403)),
    ("GET", "/admin/privacy/jobs/<job_id>"): (None, "", (403, 403, 404, 403)),    # no such job
    ("POST", "/admin/privacy/erasures/preview"): ({"customers": ["nobody@customer.example"]}, "", (403, 403, 200, 403)),
    ("POST", "/admin/privacy/erasures"): ({"customers": ["nobody@customer.example"]}, "", (403, 403, 202, 403)),
}

PERIOD = "from=2026-11-30&to=2026-12-07&tz=Europe/Amsterdam"
REPORTS_ROUTES: dict[tuple[str, str], tuple[Any, str, tuple[int, int, int, int]]] = {
    ("GET", "/reports/openapi.json"): (None, "", (200, 200, 200, 200)),
    ("GET", "/reports/swagger"): (None, "", (200, 200, 200, 200)),
    # the desk's figures are for supervisors (of their teams' conversations) and admins (the whole desk's):
    # tests/integration/test_analytics.py checks them, and test_figures_are_the_callers_teams_... below the team=
    ("GET", "/reports/summary"): (None, PERIOD, READ),
    ("GET", "/reports/metrics"): (None, PERIOD + "&metric=first_response&group_by=agent", READ),
    ("GET", "/reports/metrics/catalog"): (None, "", READ),
    # an empty lake has no week of history: past the role check it is a 409
    ("GET", "/reports/forecast"): (None, "days=7", (403, 409, 409, 403)),
    ("GET", "/reports/staffing"): (None, "days=7&concurrency=3", (403, 409, 409, 403)),
}

def call(desk: Any, api: str, method: str, path: str, who: str, body: Any = None, query: str = "") -> tuple[int, Any]:
    """A request with the claims API Gateway passes for the role's ID token."""
    username, groups = CALLERS[who]
    claims = {"cognito:username": username, "name": username.title(), "cognito:groups": groups, "token_use": "id"}
    payload = json.dumps(body) if body is not None else None
    result = desk.invoke(api, http_event(method, path, payload, {"content-type": "application/json"}, query=query,
                                         claims=claims))
    text = result.get("body") or ""
    try:
        return result["statusCode"], json.loads(text) if text else None
    except json.JSONDecodeError:
        return result["statusCode"], text          # the Swagger page


def declared(desk: Any, api: str) -> set[tuple[str, str]]:
    app = desk.handler(api).app
    return {(route.method, route.path) for route in app._static_routes + app._dynamic_routes}


@pytest.fixture
def shop(desk):
    """Team default (alice; sam its supervisor), team vip (vera), an admin (root); a WhatsApp conversation of
    team default that alice holds."""
    for who in ROLES:
        assert call(desk, "agent_api", "GET", "/agent/me", who)[0] == 200
    assert call(desk, "admin_api", "PUT", "/admin/teams/vip", "admin", {"id": "vip", "name": "VIP"})[0] == 200
    assert call(desk, "admin_api", "PUT", "/admin/agents/vera", "admin", {"capacity": 3, "teams": ["vip"]})[0] == 200
    assert call(desk, "agent_api", "PUT", "/agent/me/presence", "agent", {"presence": "online"})[0] == 200
    conv = customer_writes(desk, "+31655500001", "Where is my order?", "SMacc1", channel="whatsapp")
    desk.drain_queue(desk.work_queue_url, "router")
    assert desk.item(f"CONV#{conv}")["assignee"] == "alice"
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    _, templates = call(desk, "agent_api", "GET", "/agent/templates", "admin")
    template = templates["items"][0]
    desk.template_body = {"name": template["name"], "language": template["language"],
                          "parameters": ["x"] * template["parameters"]}
    # a label and a shared macro that uses it
    assert call(desk, "admin_api", "PUT", "/admin/labels/shipping", "admin",
                {"name": "Shipping", "color": "#2f80ed"})[0] == 200
    assert call(desk, "admin_api", "PUT", "/admin/macros/triage", "admin", MACRO)[0] == 200
    desk.path_values = {"conversation_id": conv, "agent_id": "alice", "team_id": "vip", "calendar_id": "office",
                        "policy_id": "std", "customer_id": customer, "order_id": "5500000001004",
                        "response_id": "welcome", "job_id": "j_01MISSING0000000000000000X",
                        "message_id": "m_01MISSING0000000000000000", "label_id": "shipping", "macro_id": "triage",
                        "article_id": "delivery"}
    return desk


def _path(route: str, values: dict[str, str]) -> str:
    return re.sub(r"<(\w+)>", lambda m: values[m.group(1)], route)


@pytest.mark.parametrize("api,table", [("agent_api", AGENT_ROUTES), ("admin_api", ADMIN_ROUTES),
                                       ("reports_api", REPORTS_ROUTES)])
def test_each_role_gets_what_its_row_says_on_every_route(shop, api, table):
    desk = shop
    # Given a row for every route the app declares
    assert declared(desk, api) == set(table), "a route without a row in this table (or a row without a route)"
    for (method, route), (body, query, expected) in table.items():
        body = desk.template_body if body == "TEMPLATE" else body
        if body == "APPLY":
            body = {"conversation_ids": [desk.path_values["conversation_id"]]}
        if body == "UPLOAD":
            body = {"filename": "label.png", "content_type": "image/png", "size": 2000,
                    "conversation_id": desk.path_values["conversation_id"]}
        if body == "SELF_MERGE":
            body = {"other_id": desk.path_values["customer_id"], "reason": "a row of the access table"}
        for who, status in zip(ROLES, expected, strict=True):
            # When each role calls it
            sent = {"skills": [who]} if body == "ROUTING" else body
            got, answer = call(desk, api, method, _path(route, desk.path_values), who, sent, query)
            # Then the status is the row's
            assert got == status, f"{method} {route} as {who}: {got} {answer}"


PUBLIC = {"/agent/openapi.json", "/agent/swagger", "/admin/openapi.json", "/admin/swagger", "/reports/openapi.json",
          "/reports/swagger"}


@pytest.mark.parametrize("who", ["agent", "admin"])
def test_a_caller_taken_off_the_desk_is_refused_on_every_route_and_nothing_is_done(shop, who):
    desk = shop
    conv = desk.path_values["conversation_id"]
    before = desk.item(f"CONV#{conv}")
    # Given the caller (alice holding the conversation, or root, an admin) taken off the desk by another admin
    lead = {"cognito:username": "lead", "cognito:groups": "[admins]", "token_use": "id"}
    deactivate = http_event("POST", f"/admin/agents/{CALLERS[who][0]}/deactivate", None, {}, claims=lead)
    assert desk.invoke("admin_api", deactivate)["statusCode"] == 200
    for api, table in (("agent_api", AGENT_ROUTES), ("admin_api", ADMIN_ROUTES), ("reports_api", REPORTS_ROUTES)):
        for (method, route), (body, query, _) in table.items():
            body = {"text": "x"} if body in ("TEMPLATE", "APPLY", "UPLOAD", "SELF_MERGE", "ROUTING") else body
            # When they call each route with the token they still hold
            got, answer = call(desk, api, method, _path(route, desk.path_values), who, body, query)
            # Then it is refused, saying why (the public documents aside), whatever the route would do
            if route in PUBLIC:
                assert got == 200, (method, route)
            else:
                assert (got, answer["code"]) == (403, "deactivated"), f"{method} {route} as {who}: {got} {answer}"
    # and nothing was done to the conversation
    after = desk.item(f"CONV#{conv}")
    assert {k: after.get(k) for k in ("assignee", "status", "priority", "labels", "message_count")} == \
        {k: before.get(k) for k in ("assignee", "status", "priority", "labels", "message_count")}


def test_the_callers_record_is_read_once_per_request_and_never_kept_for_the_next(shop, monkeypatch):
    desk = shop
    module = desk.handler("agent_api")
    reads: list[str] = []
    get = module.table.get

    def counted(pk, sk, **kwargs):
        if (pk, sk) == ("AGENT#vera", "META"):
            reads.append(pk)
        return get(pk, sk, **kwargs)

    monkeypatch.setattr(module.table, "get", counted)
    # When vera (an agent of team vip) lists every conversation with the views' badges (the admission, her teams
    # for the list and again for each badge)
    status, _ = call(desk, "agent_api", "GET", "/agent/conversations", "other", query="view=all&counts=true")
    # Then her record was read once
    assert status == 200 and len(reads) == 1
    # and read again by the next request, which sees a deactivation at once
    lead = {"cognito:username": "lead", "cognito:groups": "[admins]", "token_use": "id"}
    assert desk.invoke("admin_api", http_event("POST", "/admin/agents/vera/deactivate", None, {},
                                               claims=lead))["statusCode"] == 200
    assert call(desk, "agent_api", "GET", "/agent/conversations", "other", query="view=all")[0] == 403
    assert len(reads) == 2


def test_another_teams_conversation_answers_like_a_missing_one_on_every_route(shop):
    desk = shop
    conv = desk.path_values["conversation_id"]
    for (method, route), (body, query, _) in AGENT_ROUTES.items():
        if "<conversation_id>" not in route:
            continue
        body = desk.template_body if body == "TEMPLATE" else {"skills": ["other"]} if body == "ROUTING" else body
        hidden = call(desk, "agent_api", method, _path(route, {**desk.path_values, "conversation_id": conv}),
                      "other", body, query)
        missing = call(desk, "agent_api", method, _path(route, {**desk.path_values, "conversation_id": MISSING}),
                       "other", body, query)
        assert hidden[0] == missing[0] == 404, (route, hidden, missing)
        assert json.dumps(hidden[1]).replace(conv, "<id>") == json.dumps(missing[1]).replace(MISSING, "<id>")
    # and nothing was done to it
    messages = call(desk, "agent_api", "GET", f"/agent/conversations/{conv}", "agent")[1]["messages"]
    assert [m for m in messages if m["author"] == "vera"] == []
    assert desk.item(f"CONV#{conv}")["assignee"] == "alice"


def test_another_teams_customer_answers_like_a_missing_one_on_every_route(shop):
    # Given the customer of team default's conversation, and a customer id of the same shape that nobody has
    desk = shop
    customer = desk.path_values["customer_id"]
    missing = customer[:-6] + "ZZZZZZ"
    assert desk.item(f"CUSTOMER#{missing}") is None
    routes = [(m, r, b, q) for (m, r), (b, q, _) in AGENT_ROUTES.items() if "<customer_id>" in r]
    assert len(routes) >= 4
    before = desk.item(f"CUSTOMER#{customer}")
    assert before is not None
    for method, route, body, query in routes:
        sent = {"other_id": customer, "reason": "a row of the access table"} if body == "SELF_MERGE" else body
        # When an agent of another team calls it with each
        hidden = call(desk, "agent_api", method, _path(route, {**desk.path_values, "customer_id": customer}),
                      "other", sent, query)
        sent = {"other_id": missing, "reason": "a row of the access table"} if body == "SELF_MERGE" else body
        absent = call(desk, "agent_api", method, _path(route, {**desk.path_values, "customer_id": missing}),
                      "other", sent, query)
        # Then the answers are the same, but for the id asked for: nothing tells the customer exists
        assert hidden[0] == absent[0] == 404, (route, hidden, absent)
        assert json.dumps(hidden[1]).replace(customer, "<id>") == json.dumps(absent[1]).replace(missing, "<id>"), \
            (route, hidden, absent)
    # And nothing was done to them
    assert desk.item(f"CUSTOMER#{customer}") == before

def _listed(desk, who, query):
    status, body = call(desk, "agent_api", "GET", "/agent/conversations", who, query=query)
    assert status == 200
    return [c["id"] for c in body["items"]]


def test_lists_show_only_what_the_caller_may_see(shop):
    desk = shop
    desk.routes_before_agents = False
    conv = desk.path_values["conversation_id"]
    waiting = customer_writes(desk, "+31655500002", "Hello?", "SMacc2")      # nobody online in time: it waits
    call(desk, "agent_api", "PUT", "/agent/me/presence", "agent", {"presence": "away"})
    desk.drain_queue(desk.work_queue_url, "router")
    for who in ("agent", "supervisor", "admin"):
        assert {conv, waiting} <= set(_listed(desk, who, "view=all"))
        assert set(_listed(desk, who, "view=all&status=open")) >= {conv, waiting}
    # the agent of another team sees neither, in any view, and may not name the other team's queue
    for query in ("view=all", "view=all&status=open", "view=mine", "view=unassigned"):
        assert _listed(desk, "other", query) == [], query
    assert call(desk, "agent_api", "GET", "/agent/conversations", "other",
                query="view=unassigned&team=default")[0] == 403
    assert _listed(desk, "supervisor", "view=unassigned&team=default") == [waiting]
    # and the badges count what the lists show, nothing more
    for who in ROLES:
        status, body = call(desk, "agent_api", "GET", "/agent/conversations/counts", who)
        assert status == 200
        assert body["views"] == {"mine": len(_listed(desk, who, "view=mine")),
                                 "unassigned": len(_listed(desk, who, "view=unassigned")),
                                 "all": len(_listed(desk, who, "view=all")),
                                 "mentions": len(_listed(desk, who, "view=mentions"))}, who
    assert call(desk, "agent_api", "GET", "/agent/conversations/counts", "other")[1]["views"] == \
        {"mine": 0, "unassigned": 0, "all": 0, "mentions": 0}


@pytest.mark.parametrize(("api", "path", "query"), [
    ("reports_api", "/reports/summary", PERIOD), ("reports_api", "/reports/metrics", PERIOD + "&metric=replies"),
    ("reports_api", "/reports/forecast", "days=7"), ("reports_api", "/reports/staffing", "days=7"),
    ("admin_api", "/admin/sla-events", "")])
def test_figures_are_the_callers_teams_and_a_team_named_one_of_them(shop, api, path, query):
    """The reports and the SLA board: a supervisor of team default may name it, not team vip (403, as a team's
    queue); an admin may name any. (An empty lake has no week for a forecast: 409 past the check.)"""
    desk = shop
    past_the_check = 409 if "forecast" in path or "staffing" in path else 200
    sep = "&" if query else ""
    assert call(desk, api, "GET", path, "supervisor", query=query + sep + "team=default")[0] == past_the_check
    status, body = call(desk, api, "GET", path, "supervisor", query=query + sep + "team=vip")
    assert status == 403 and "vip" in body["detail"], body
    assert call(desk, api, "GET", path, "admin", query=query + sep + "team=vip")[0] == past_the_check
    assert call(desk, api, "GET", path, "other", query=query + sep + "team=vip")[0] == 403
    if api == "reports_api":        # a team the reports' SQL is given is a team id (and a quoted literal)
        assert call(desk, api, "GET", path, "admin", query=query + sep + "team=vip%27%20OR%20%271")[0] == 422


def test_a_transfer_grants_access_that_outlasts_it(shop):
    desk = shop
    conv = desk.path_values["conversation_id"]
    # Given vic, a supervisor of team vip (signed in)
    CALLERS["vic"] = ("vic", "[supervisors]")
    try:
        assert call(desk, "agent_api", "GET", "/agent/me", "vic")[0] == 200
        assert call(desk, "admin_api", "PUT", "/admin/agents/vic", "admin", {"teams": ["vip"]})[0] == 200
        assert call(desk, "agent_api", "GET", f"/agent/conversations/{conv}", "vic")[0] == 404
        # When alice transfers her conversation to vera, of team vip (any agent with room may take one)
        status, body = call(desk, "agent_api", "POST", f"/agent/conversations/{conv}/assignment", "agent",
                            {"agent_id": "vera", "note": "She asked for the VIP desk"})
        assert status == 200 and body["assignee"] == "vera"
        # Then vera works on it, sees it in her views, and her supervisor sees what she holds
        assert call(desk, "agent_api", "POST", f"/agent/conversations/{conv}/notes", "other", {"text": "mine"})[0] \
            == 201
        assert conv in _listed(desk, "other", "view=mine") and conv in _listed(desk, "other", "view=all")
        assert call(desk, "agent_api", "GET", f"/agent/conversations/{conv}", "vic")[0] == 200
        # When vera hands it back
        assert call(desk, "agent_api", "POST", f"/agent/conversations/{conv}/assignment", "other",
                    {"agent_id": "alice"})[0] == 200
        # Then she keeps access (she was granted it), her supervisor no longer has it
        assert call(desk, "agent_api", "GET", f"/agent/conversations/{conv}", "other")[0] == 200
        assert call(desk, "agent_api", "GET", f"/agent/conversations/{conv}", "vic")[0] == 404
        assert set(desk.item(f"CONV#{conv}")["granted"]) == {"alice", "vera"}
        # and lists it among the conversations granted to her (not in "all": it is neither her team's nor hers)
        assert _listed(desk, "other", "view=granted") == [conv]
        assert _listed(desk, "other", "view=granted&status=resolved") == []
        assert conv not in _listed(desk, "other", "view=all")
        assert _listed(desk, "vic", "view=granted") == [] and conv not in _listed(desk, "vic", "view=all")
    finally:
        CALLERS.pop("vic")


@pytest.fixture
def vip_shop(shop):
    """The shop with the routing settings sending WhatsApp to team vip."""
    assert call(shop, "admin_api", "PUT", "/admin/routing", "admin", {"team_by_channel": {"whatsapp": "vip"}})[0] \
        == 200
    shop.handler("router").book._loaded_at = -1e9         # the settings are cached a minute
    shop.routes_before_agents = False                     # the tests read before the router runs
    return shop


def test_a_conversation_not_routed_yet_is_no_teams_until_the_router_puts_it_in_its_team(vip_shop):
    """A new conversation's team is a placeholder (``default``) until the router routes it: no agent of ``default``
    opens, lists, counts or finds one the router is about to put in team vip, as no notice tells them of it."""
    desk = vip_shop
    # Given a new WhatsApp customer's conversation that ingest stored and the router has not routed yet (the
    # routing settings send WhatsApp to team vip)
    conv = customer_writes(desk, "+31655500003", "I am a VIP, where is my order?", "SMacc3", channel="whatsapp")
    item = desk.item(f"CONV#{conv}")
    assert item["team"] == "default" and item["unrouted"] is True
    assert "AccessPK" not in item         # in no partition of the Access index: the routing's write puts it in one
    customer = item["customer"]["id"]
    values = {**desk.path_values, "conversation_id": conv, "customer_id": customer}
    badges = {who: call(desk, "agent_api", "GET", "/agent/conversations/counts", who)[1]["views"]
              for who in ("agent", "supervisor")}
    for who in ("agent", "supervisor", "other"):
        # Then to the agents of default (and of vip) every route of it answers as for a conversation that does
        # not exist, and nothing is done to it
        for (method, route), (body, query, _) in AGENT_ROUTES.items():
            if "<conversation_id>" not in route and "<customer_id>" not in route:
                continue
            sent = desk.template_body if body == "TEMPLATE" else {"skills": [who]} if body == "ROUTING" else body
            if body == "SELF_MERGE":
                sent = {"other_id": customer, "reason": "a row of the access table"}
            got, answer = call(desk, "agent_api", method, _path(route, values), who, sent, query)
            assert got == 404, f"{method} {route} as {who}: {got} {answer}"
        # no list, search or badge shows it
        for query in ("view=all", "view=all&status=open", "view=unassigned", "view=mine"):
            assert conv not in _listed(desk, who, query), (who, query)
        status, found = call(desk, "agent_api", "GET", "/agent/search", who, query="q=%2B31655500003")
        assert status == 200 and found["conversations"] == [] and found["customers"] == [], (who, found)
    assert {who: call(desk, "agent_api", "GET", "/agent/conversations/counts", who)[1]["views"]
            for who in ("agent", "supervisor")} == badges
    assert desk.item(f"CONV#{conv}")["message_count"] == 1 and "assignee" not in desk.item(f"CONV#{conv}")
    # while an admin opens, lists and finds it
    assert call(desk, "agent_api", "GET", f"/agent/conversations/{conv}", "admin")[0] == 200
    assert call(desk, "agent_api", "GET", f"/agent/customers/{customer}", "admin")[0] == 200
    assert conv in _listed(desk, "admin", "view=all")
    assert conv in {c["id"] for c in call(desk, "agent_api", "GET", "/agent/search", "admin",
                                          query="q=%2B31655500003")[1]["conversations"]}
    # When the router routes it to vip
    desk.drain_queue(desk.work_queue_url, "router")
    item = desk.item(f"CONV#{conv}")
    assert item["team"] == "vip" and "unrouted" not in item and item["AccessPK"] == "TEAM#vip"
    # Then vera (vip) opens, lists and finds it, and the agents of default still do not
    assert call(desk, "agent_api", "GET", f"/agent/conversations/{conv}", "other")[0] == 200
    assert call(desk, "agent_api", "GET", f"/agent/customers/{customer}", "other")[0] == 200
    assert conv in _listed(desk, "other", "view=all")
    assert conv in {c["id"] for c in call(desk, "agent_api", "GET", "/agent/search", "other",
                                          query="q=%2B31655500003")[1]["conversations"]}
    for who in ("agent", "supervisor"):
        assert call(desk, "agent_api", "GET", f"/agent/conversations/{conv}", who)[0] == 404
        assert call(desk, "agent_api", "POST", f"/agent/conversations/{conv}/replies", who,
                    {"text": "On its way"})[0] == 404
        assert conv not in _listed(desk, who, "view=all")


def test_a_conversation_the_router_puts_in_default_is_its_agents_from_the_routing(shop):
    desk = shop
    desk.routes_before_agents = False
    # Given a new SMS conversation not routed yet (its routing sends it to default)
    conv = customer_writes(desk, "+31655500004", "Hello?", "SMacc4")
    call(desk, "agent_api", "PUT", "/agent/me/presence", "agent", {"presence": "away"})
    # Then alice (default) does not see it yet
    assert call(desk, "agent_api", "GET", f"/agent/conversations/{conv}", "agent")[0] == 404
    assert conv not in _listed(desk, "agent", "view=all")
    # When the router routes it
    desk.drain_queue(desk.work_queue_url, "router")
    # Then the agents of default open, list and count it, and vera (vip) does not
    assert call(desk, "agent_api", "GET", f"/agent/conversations/{conv}", "agent")[0] == 200
    assert conv in _listed(desk, "agent", "view=all") and conv in _listed(desk, "supervisor", "view=unassigned")
    assert call(desk, "agent_api", "GET", "/agent/conversations/counts", "agent")[1]["views"]["all"] == \
        len(_listed(desk, "agent", "view=all"))
    assert call(desk, "agent_api", "GET", f"/agent/conversations/{conv}", "other")[0] == 404
