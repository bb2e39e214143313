"""Labels and macros over the real agent and admin handlers on moto: the label catalogue, labels on
conversations (422 naming unknown or retired ones), views filtered through the ByLabel index (kept in step by
the label indexer from the stream), a label routed to a team; macros validated when written, applied per
conversation all or nothing (one transaction, the reply queued only after it), with per-conversation results."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.helpers import agent, customer_writes, online, route_records, teams
from tests.integration.test_live import STAGE, ConnectionsEndpoint, Stream, connect
from tests.support import http_event, sends_hang

ADMINS = "[admins]"


def admin(desk: Any, method: str, path: str, body: Any = None, groups: str = ADMINS) -> tuple[int, Any]:
    claims = {"cognito:username": "root", "name": "Root", "cognito:groups": groups}
    event = http_event(method, path, json.dumps(body) if body is not None else None,
                       {"content-type": "application/json"}, claims=claims)
    result = desk.invoke("admin_api", event)
    return result["statusCode"], json.loads(result["body"]) if result.get("body") else None


def labels_of(desk: Any, conv: str) -> list[str]:
    return desk.item(f"CONV#{conv}")["labels"] and sorted(desk.item(f"CONV#{conv}")["labels"])


def listed(desk: Any, who: str, query: str, groups: str | None = None) -> list[str]:
    status, body = agent(desk, "GET", "/agent/conversations", who, query=query, groups=groups)
    assert status == 200, body
    return [c["id"] for c in body["items"]]


def timeline(desk: Any, conv: str) -> list[dict[str, Any]]:
    _, body = agent(desk, "GET", f"/agent/conversations/{conv}", "root", groups=ADMINS)
    return body["messages"]


def queued(desk: Any) -> int:
    attributes = desk.client("sqs").get_queue_attributes(QueueUrl=desk.outbound_queue_url,
                                                         AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


@pytest.fixture
def catalogue(desk):
    """Three labels, one of them retired."""
    for label, name, color in (("shipping", "Shipping", "#2F80ED"), ("vip", "VIP", "#f2c94c"),
                               ("old", "Old", "#999999")):
        status, body = admin(desk, "PUT", f"/admin/labels/{label}", {"name": name, "color": color})
        assert status == 200, body
    assert admin(desk, "POST", "/admin/labels/old/retire")[0] == 200
    return desk


# ------------------------------------------------------------------------------ the catalogue

def test_admins_create_rename_recolour_retire_and_restore_labels(catalogue):
    desk = catalogue
    status, label = admin(desk, "PUT", "/admin/labels/shipping", {"name": "Shipping & delivery", "color": "#00AA00"})
    assert status == 200 and (label["name"], label["color"], label["retired"]) == ("Shipping & delivery", "#00aa00",
                                                                                     False)
    status, listing = admin(desk, "GET", "/admin/labels")
    assert status == 200
    assert [(item["id"], item["retired"]) for item in listing["items"]] == [("old", True), ("shipping", False),
                                                                            ("vip", False)]
    assert admin(desk, "POST", "/admin/labels/old/restore")[1]["retired"] is False
    # a renamed label keeps being retired or not as it was
    admin(desk, "POST", "/admin/labels/vip/retire")
    assert admin(desk, "PUT", "/admin/labels/vip", {"name": "Very important", "color": "#f2c94c"})[1]["retired"]
    assert admin(desk, "POST", "/admin/labels/nope/retire")[0] == 404
    status, problem = admin(desk, "PUT", "/admin/labels/bad", {"name": "Bad", "color": "red"})
    assert status == 422 and problem["errors"][0]["loc"][-1] == "color"
    # agents read the catalogue (names and colours for the inbox), retired ones marked
    status, seen = agent(desk, "GET", "/agent/labels", "alice")
    assert status == 200 and {i["id"] for i in seen["items"]} == {"old", "shipping", "vip"}


# ------------------------------------------------------------------------------ labels on conversations

def test_agents_add_and_remove_labels_and_the_timeline_says_so(catalogue):
    desk = catalogue
    conv = customer_writes(desk, "+31612340001", "where is my parcel?", "SM" + "a1" * 16)
    status, body = agent(desk, "POST", f"/agent/conversations/{conv}/labels", "alice",
                         {"add": ["shipping", "vip"]})
    assert status == 200 and body["labels"] == ["shipping", "vip"], body
    status, body = agent(desk, "POST", f"/agent/conversations/{conv}/labels", "alice",
                         {"add": [], "remove": ["vip"]})
    assert status == 200 and body["labels"] == ["shipping"]
    # the label items follow: one for shipping, none for vip
    assert desk.item(f"CONV#{conv}", "LABEL#shipping")["LabelPK"] == "LABEL#shipping"
    assert desk.item(f"CONV#{conv}", "LABEL#vip") is None
    entries = [m["text"] for m in timeline(desk, conv) if m["direction"] == "system"]
    assert "Labels changed by Alice: labels +shipping, +vip" in entries
    assert "Labels changed by Alice: labels -vip" in entries
    events = [m["event"] for m in timeline(desk, conv) if m["direction"] == "system"]
    assert {"kind": "labels_changed", "params": {"by": "alice", "changes": [
        {"change": "labels_added", "labels": ["shipping", "vip"]}]}} in events
    assert {"kind": "labels_changed", "params": {"by": "alice", "changes": [
        {"change": "labels_removed", "labels": ["vip"]}]}} in events
    # adding what is there and removing what is not changes nothing and writes nothing
    before = len(timeline(desk, conv))
    assert agent(desk, "POST", f"/agent/conversations/{conv}/labels", "alice",
                 {"add": ["shipping"], "remove": ["vip"]})[0] == 200
    assert len(timeline(desk, conv)) == before


def test_unknown_or_retired_labels_are_a_422_naming_them_and_nothing_changes(catalogue):
    desk = catalogue
    conv = customer_writes(desk, "+31612340002", "hello", "SM" + "a2" * 16)
    status, problem = agent(desk, "POST", f"/agent/conversations/{conv}/labels", "alice",
                            {"add": ["shipping", "old", "ghost"]})
    assert status == 422, problem
    assert "old" in problem["detail"] and "ghost" in problem["detail"] and "shipping" not in problem["detail"]
    assert problem["errors"][0]["loc"] == ["body", "add"]
    assert desk.item(f"CONV#{conv}").get("labels") is None
    assert desk.item(f"CONV#{conv}", "LABEL#shipping") is None
    # an agent of another team gets the 404 of a conversation that does not exist
    assert agent(desk, "PUT", "/agent/me/presence", "vera", {"presence": "online"})[0] == 200
    teams(desk, "billing")
    assert admin(desk, "PUT", "/admin/agents/vera", {"capacity": 3, "teams": ["billing"]})[0] == 200
    status, problem = agent(desk, "POST", f"/agent/conversations/{conv}/labels", "vera", {"add": ["vip"]})
    assert status == 404 and problem["detail"] == f"conversation {conv} does not exist"


def test_views_filter_by_label_and_the_indexer_keeps_the_index_in_step(catalogue):
    desk = catalogue
    stream = Stream(desk)
    tagged = customer_writes(desk, "+31612340003", "parcel lost", "SM" + "a3" * 16)
    other = customer_writes(desk, "+31612340004", "refund please", "SM" + "a4" * 16)
    assert agent(desk, "POST", f"/agent/conversations/{tagged}/labels", "alice", {"add": ["shipping"]})[0] == 200
    assert set(listed(desk, "root", "view=all", ADMINS)) >= {tagged, other}
    assert listed(desk, "root", "view=all&label=shipping", ADMINS) == [tagged]
    assert listed(desk, "alice", "view=all&label=shipping") == [tagged]          # alice: the default team
    assert listed(desk, "alice", "view=unassigned&label=shipping") == [tagged]
    assert listed(desk, "alice", "view=mine&label=shipping") == []
    assert listed(desk, "root", "view=all&label=vip", ADMINS) == []
    # When the conversation is set pending through the status route (which does not write label items)...
    assert agent(desk, "POST", f"/agent/conversations/{tagged}/status", "alice", {"status": "pending"})[0] == 200
    # ...the label's open partition no longer shows it (its item is still under open#: skipped)
    assert listed(desk, "root", "view=all&label=shipping&status=open", ADMINS) == []
    # and once the indexer has read the stream, the pending partition does
    assert desk.invoke("label_indexer", stream.read()) == {"batchItemFailures": []}
    assert desk.item(f"CONV#{tagged}", "LABEL#shipping")["LabelSK"].startswith("pending#")
    assert listed(desk, "root", "view=all&label=shipping&status=pending", ADMINS) == [tagged]
    assert listed(desk, "root", "view=all&label=shipping", ADMINS) == [tagged]
    # an older record read again never moves it back, nor re-creates a label taken off
    assert agent(desk, "POST", f"/agent/conversations/{tagged}/labels", "alice", {"remove": ["shipping"]})[0] == 200
    assert desk.invoke("label_indexer", stream.read()) == {"batchItemFailures": []}
    assert desk.item(f"CONV#{tagged}", "LABEL#shipping") is None
    assert listed(desk, "root", "view=all&label=shipping", ADMINS) == []



def test_label_items_expire_with_a_resolved_conversation_and_stop_expiring_when_it_reopens(catalogue):
    desk = catalogue
    stream = Stream(desk)
    # Given closed conversations kept 14 days, and a labelled conversation
    assert admin(desk, "PUT", "/admin/privacy/settings", {"retention": {"closed_conversations_days": 14}})[0] == 200
    conv = customer_writes(desk, "+31612340009", "parcel lost", "SM" + "a9" * 16)
    assert agent(desk, "POST", f"/agent/conversations/{conv}/labels", "alice", {"add": ["shipping", "vip"]})[0] == 200
    assert desk.invoke("label_indexer", stream.read()) == {"batchItemFailures": []}
    assert desk.item(f"CONV#{conv}", "LABEL#shipping").get("ttl") is None
    # When it is resolved and the indexer reads the stream
    assert agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "resolved"})[0] == 200
    assert desk.invoke("label_indexer", stream.read()) == {"batchItemFailures": []}
    # Then its label items expire when it does
    expires = desk.item(f"CONV#{conv}")["ttl"]
    assert expires
    assert [desk.item(f"CONV#{conv}", f"LABEL#{label}")["ttl"] for label in ("shipping", "vip")] == [expires] * 2
    # And when it reopens, neither it nor its label items expire
    assert agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "open"})[0] == 200
    assert desk.invoke("label_indexer", stream.read()) == {"batchItemFailures": []}
    assert desk.item(f"CONV#{conv}").get("ttl") is None
    assert [desk.item(f"CONV#{conv}", f"LABEL#{label}").get("ttl") for label in ("shipping", "vip")] == [None, None]

def test_a_label_routed_to_a_team_moves_the_conversation_there(catalogue):
    desk = catalogue
    assert admin(desk, "PUT", "/admin/teams/logistics", {"id": "logistics", "name": "Logistics"})[0] == 200
    status, routing = admin(desk, "GET", "/admin/routing")
    settings = {k: v for k, v in routing.items() if k != "version"}
    status, body = admin(desk, "PUT", "/admin/routing", {**settings, "team_by_label": {"shipping": "logistics"}})
    assert status == 200, body
    conv = customer_writes(desk, "+31612340005", "where is it", "SM" + "a5" * 16)
    status, body = agent(desk, "POST", f"/agent/conversations/{conv}/labels", "root", {"add": ["shipping"]},
                         groups=ADMINS)
    assert status == 200 and body["team"] == "logistics", body
    item = desk.item(f"CONV#{conv}")
    assert item["QueuePK"] == "QUEUE#logistics" and item["AccessPK"] == "TEAM#logistics"
    assert any("team default → logistics (label shipping)" in m["text"] for m in timeline(desk, conv)
               if m["direction"] == "system")


def route_labels(desk: Any, routes: dict[str, str]) -> None:
    """Team logistics, and the routing settings sending conversations labelled so to those teams."""
    assert admin(desk, "PUT", "/admin/teams/logistics", {"id": "logistics", "name": "Logistics"})[0] == 200
    routing = {k: v for k, v in admin(desk, "GET", "/admin/routing")[1].items() if k != "version"}
    status, body = admin(desk, "PUT", "/admin/routing", {**routing, "team_by_label": routes})
    assert status == 200, body


def holds_one(desk: Any, holder: str, phone: str, sid: str) -> str:
    """A conversation of team default that ``holder`` (an agent of it with room for one) holds."""
    assert agent(desk, "GET", "/agent/me", holder)[0] == 200
    assert admin(desk, "PUT", f"/admin/agents/{holder}", {"capacity": 1, "teams": ["default"]})[0] == 200
    online(desk, holder)
    conv = customer_writes(desk, phone, "where is my order?", sid)
    route_records(desk)
    assert desk.item(f"CONV#{conv}")["assignee"] == holder
    return conv


def test_a_label_that_would_move_a_conversation_is_refused_to_who_may_not_change_its_routing(catalogue):
    desk = catalogue
    # Given labels routed to logistics (shipping) and to default (vip), one routed nowhere (gift); a conversation
    # of team default bob holds, one waiting, and dave, a plain agent of default who holds neither
    route_labels(desk, {"shipping": "logistics", "vip": "default"})
    assert admin(desk, "PUT", "/admin/labels/gift", {"name": "Gift", "color": "#27ae60"})[0] == 200
    held = holds_one(desk, "bob", "+31612340601", "SM" + "f1" * 16)
    waiting = customer_writes(desk, "+31612340602", "and mine?", "SM" + "f2" * 16)
    route_records(desk)
    assert desk.item(f"CONV#{waiting}").get("assignee") is None
    assert agent(desk, "GET", "/agent/me", "dave")[0] == 200
    assert admin(desk, "PUT", "/admin/agents/dave", {"capacity": 3, "teams": ["default"]})[0] == 200
    assert agent(desk, "PUT", f"/agent/conversations/{waiting}/routing", "dave", {"team": "logistics"})[0] == 403
    before = {conv: (desk.item(f"CONV#{conv}"), timeline(desk, conv)) for conv in (held, waiting)}
    # When dave adds the label routed to logistics to each (with one routed nowhere)
    for conv in (held, waiting):
        status, body = agent(desk, "POST", f"/agent/conversations/{conv}/labels", "dave", {"add": ["gift", "shipping"]})
        # Then it is refused as his change of its team is, saying that the label moves it, and nothing changes
        assert (status, body["type"], body.get("code")) == (403, "/problems/forbidden", "label_moves_team"), body
        assert body["params"] == {"label": "Shipping", "team": "logistics"}
        assert "label Shipping moves the conversation to team logistics" in body["detail"]
        assert (desk.item(f"CONV#{conv}"), timeline(desk, conv)) == before[conv]
        assert desk.item(f"CONV#{conv}", "LABEL#gift") is None
    # and a label routed to the conversation's team already, or routed nowhere, is his to add
    status, body = agent(desk, "POST", f"/agent/conversations/{held}/labels", "dave", {"add": ["vip", "gift"]})
    assert status == 200 and (body["team"], body["assignee"], body["labels"]) == ("default", "bob", ["gift", "vip"])
    # while the assignee and a supervisor move them with it
    status, body = agent(desk, "POST", f"/agent/conversations/{held}/labels", "bob", {"add": ["shipping"]})
    assert status == 200 and body["team"] == "logistics", body
    status, body = agent(desk, "POST", f"/agent/conversations/{waiting}/labels", "sam", {"add": ["shipping"]},
                         groups="[supervisors]")
    assert status == 200 and body["team"] == "logistics", body


# ------------------------------------------------------------------------------ macros: writing them

CANNED = {"title": "Shipped", "shortcode": "shipped", "bodies": {"en": "Hi {{customer.name | default: \"there\"}}, "
                                                                      "it is on its way."}}


def five_actions(agent_id: str = "alice") -> list[dict[str, Any]]:
    return [{"type": "reply", "canned_response_id": "shipped"},
            {"type": "add_labels", "labels": ["shipping"]},
            {"type": "set_priority", "priority": "high"},
            {"type": "note", "text": "Told them it shipped"},
            {"type": "snooze", "duration": "PT4H"}]


def test_a_macro_naming_what_does_not_exist_is_a_422_naming_each(catalogue):
    desk = catalogue
    body = {"name": "Broken", "actions": [{"type": "reply", "canned_response_id": "nope"},
                                          {"type": "add_labels", "labels": ["old", "ghost"]},
                                          {"type": "assign", "agent_id": "nobody"},
                                          {"type": "set_team", "team": "nowhere"}]}
    status, problem = admin(desk, "PUT", "/admin/macros/broken", body)
    assert status == 422, problem
    where = {tuple(e["loc"]): e["msg"] for e in problem["errors"]}
    assert where[("body", "actions", 0, "canned_response_id")] == "shared canned response nope does not exist"
    assert "label old is retired" in problem["detail"] and "label ghost does not exist" in problem["detail"]
    assert where[("body", "actions", 2, "agent_id")] == "agent nobody does not exist"
    assert ("body", "actions", 3, "team") in where
    assert admin(desk, "GET", "/admin/macros/broken")[0] == 404
    # a type that does not exist, or two replies, are refused by the schema
    assert admin(desk, "PUT", "/admin/macros/x", {"name": "X", "actions": [{"type": "explode"}]})[0] == 422
    two = [{"type": "reply", "canned_response_id": "a"}, {"type": "reply", "canned_response_id": "b"}]
    assert admin(desk, "PUT", "/admin/macros/x", {"name": "X", "actions": two})[0] == 422


def test_macros_shared_and_personal_are_listed_and_deleted(catalogue):
    desk = catalogue
    assert admin(desk, "PUT", "/admin/canned-responses/shipped", CANNED)[0] == 200
    status, macro = admin(desk, "PUT", "/admin/macros/wismo", {"name": "Where is my order", "actions": five_actions()})
    assert status == 200 and macro["scope"] == "shared" and len(macro["actions"]) == 5, macro
    assert macro["actions"][4] == {"type": "snooze", "duration": "PT4H"}
    mine = {"name": "My triage", "actions": [{"type": "add_labels", "labels": ["vip"]},
                                             {"type": "assign", "agent_id": None}]}
    status, personal = agent(desk, "PUT", "/agent/macros/triage", "alice", mine)
    assert status == 200 and personal["scope"] == "personal", personal
    status, listing = agent(desk, "GET", "/agent/macros", "alice")
    assert [(m["id"], m["scope"]) for m in listing["items"]] == [("triage", "personal"), ("wismo", "shared")]
    assert [m["id"] for m in agent(desk, "GET", "/agent/macros", "bob")[1]["items"]] == ["wismo"]
    assert [m["id"] for m in admin(desk, "GET", "/admin/macros")[1]["items"]] == ["wismo"]
    assert agent(desk, "DELETE", "/agent/macros/triage", "bob")[0] == 404        # not bob's
    assert agent(desk, "DELETE", "/agent/macros/triage", "alice")[0] == 204
    assert admin(desk, "DELETE", "/admin/macros/wismo")[0] == 204
    assert admin(desk, "DELETE", "/admin/macros/wismo")[0] == 404


def test_a_canned_response_a_macro_replies_with_is_not_deleted_until_the_macro_lets_go(catalogue):
    desk = catalogue
    assert admin(desk, "PUT", "/admin/canned-responses/shipped", CANNED)[0] == 200
    assert admin(desk, "PUT", "/admin/macros/wismo", {"name": "Where is my order", "actions": five_actions()})[0] == 200
    # Deleting the shared response the shared macro replies with is refused, naming the macro
    status, problem = admin(desk, "DELETE", "/admin/canned-responses/shipped")
    assert status == 409 and "'Where is my order'" in problem["detail"], problem
    assert admin(desk, "GET", "/admin/canned-responses/shipped")[0] == 200
    # and so is an agent's own response their own macro replies with
    mine = {"title": "Mine", "shortcode": "mine", "bodies": {"en": "On its way."}}
    assert agent(desk, "PUT", "/agent/canned-responses/mine", "alice", mine)[0] == 200
    reply = {"name": "My reply", "actions": [{"type": "reply", "canned_response_id": "mine"}]}
    assert agent(desk, "PUT", "/agent/macros/myreply", "alice", reply)[0] == 200
    status, problem = agent(desk, "DELETE", "/agent/canned-responses/mine", "alice")
    assert status == 409 and "'My reply'" in problem["detail"], problem
    # Once the macros no longer reply with them, they are deleted
    assert admin(desk, "DELETE", "/admin/macros/wismo")[0] == 204
    assert admin(desk, "DELETE", "/admin/canned-responses/shipped")[0] == 204
    assert agent(desk, "DELETE", "/agent/macros/myreply", "alice")[0] == 204
    assert agent(desk, "DELETE", "/agent/canned-responses/mine", "alice")[0] == 204


def test_a_label_macros_add_is_retired_only_when_the_admin_insists_and_the_macros_then_skip_it(catalogue):
    desk = catalogue
    greet = {"name": "QA greet", "actions": [{"type": "add_labels", "labels": ["vip", "shipping"]},
                                             {"type": "set_priority", "priority": "high"},
                                             {"type": "note", "text": "Greeted"}]}
    assert admin(desk, "PUT", "/admin/macros/qa-greet", greet)[0] == 200
    mine = {"name": "My VIP", "actions": [{"type": "add_labels", "labels": ["vip"]}]}
    assert agent(desk, "PUT", "/agent/me/presence", "alice", {"presence": "online"})[0] == 200
    assert agent(desk, "PUT", "/agent/macros/myvip", "alice", mine)[0] == 200
    # Retiring a label macros add is refused, naming each of them (the shared one and alice's own)
    status, problem = admin(desk, "POST", "/admin/labels/vip/retire")
    assert status == 409, problem
    assert problem["code"] == "label_in_macros" and problem["params"]["label"] == "vip", problem
    assert "'QA greet'" in problem["detail"] and "'My VIP' (Alice)" in problem["detail"], problem
    assert problem["params"]["count"] == "2" and "?force=true" in problem["detail"]
    assert {label["id"]: label["retired"] for label in admin(desk, "GET", "/admin/labels")[1]["items"]}["vip"] is False
    # a label no macro adds is retired as before; so is one the admin insists on
    assert admin(desk, "POST", "/admin/labels/shipping/retire")[0] == 409      # QA greet adds it too
    event = http_event("POST", "/admin/labels/vip/retire", None, {}, query="force=true",
                       claims={"cognito:username": "root", "cognito:groups": ADMINS})
    result = desk.invoke("admin_api", event)
    assert result["statusCode"] == 200 and json.loads(result["body"])["retired"] is True, result
    # The macro pages mark what the macros add that is retired
    shared = admin(desk, "GET", "/admin/macros")[1]["items"]
    assert [(m["id"], m["retired_labels"]) for m in shared] == [("qa-greet", ["vip"])]
    assert admin(desk, "GET", "/admin/macros/qa-greet")[1]["retired_labels"] == ["vip"]
    listing = agent(desk, "GET", "/agent/macros", "alice")[1]["items"]
    assert [(m["id"], m["retired_labels"]) for m in listing] == [("myvip", ["vip"]), ("qa-greet", ["vip"])]
    # Applying it does everything else and says the retired label was skipped
    conv = customer_writes(desk, "+31612340201", "hello", "SM" + "c1" * 16)
    status, body = agent(desk, "POST", "/agent/macros/qa-greet/apply", "sam", {"conversation_ids": [conv]},
                         groups="[supervisors]")
    assert status == 200 and (body["applied"], body["refused"]) == (1, 0), body
    result = body["results"][0]
    assert result["result"] == "applied" and result["skipped_labels"] == ["vip"], result
    assert result["notes"] == ["label vip is retired: not added (the rest of the macro was applied)"]
    item = desk.item(f"CONV#{conv}")
    assert (sorted(item["labels"]), item["priority"]) == (["shipping"], "high")
    assert [m["text"] for m in timeline(desk, conv) if m["direction"] == "note"] == ["Greeted"]
    # a macro with nothing retired says nothing of the kind; restored, the label is added again
    assert admin(desk, "POST", "/admin/labels/vip/restore")[1]["retired"] is False
    assert admin(desk, "GET", "/admin/macros")[1]["items"][0]["retired_labels"] == []
    status, body = agent(desk, "POST", "/agent/macros/myvip/apply", "alice", {"conversation_ids": [conv]})
    assert status == 200 and body["results"][0]["skipped_labels"] == [] and body["results"][0]["notes"] == [], body
    assert sorted(desk.item(f"CONV#{conv}")["labels"]) == ["shipping", "vip"]
    # Once the macros no longer add it, it is retired without asking
    assert admin(desk, "DELETE", "/admin/macros/qa-greet")[0] == 204
    assert agent(desk, "DELETE", "/agent/macros/myvip", "alice")[0] == 204
    assert admin(desk, "POST", "/admin/labels/vip/retire")[0] == 200


def _query_admin(desk: Any, method: str, path: str, body: Any, query: str) -> tuple[int, Any]:
    event = http_event(method, path, json.dumps(body), {"content-type": "application/json"}, query=query,
                       claims={"cognito:username": "root", "cognito:groups": ADMINS})
    result = desk.invoke("admin_api", event)
    return result["statusCode"], json.loads(result["body"]) if result.get("body") else None


def test_of_two_admins_editing_one_canned_response_or_macro_the_later_save_is_refused(catalogue):
    desk = catalogue
    # Both read version 1 of the shared response and the shared macro
    status, first = _query_admin(desk, "PUT", "/admin/canned-responses/shipped", CANNED, "version=0")
    assert status == 200 and first["version"] == 1, first
    wismo = {"name": "Where is my order", "actions": five_actions()}
    status, macro = _query_admin(desk, "PUT", "/admin/macros/wismo", wismo, "version=0")
    assert status == 200 and macro["version"] == 1, macro
    # One saves over version 1; the other's save over version 1 is refused, naming the version now
    mine = {**CANNED, "title": "Shipped (mine)"}
    assert _query_admin(desk, "PUT", "/admin/canned-responses/shipped", mine, "version=1")[1]["version"] == 2
    theirs = {**CANNED, "title": "Shipped (theirs)"}
    status, problem = _query_admin(desk, "PUT", "/admin/canned-responses/shipped", theirs, "version=1")
    assert status == 409 and "now version 2" in problem["detail"], problem
    assert admin(desk, "GET", "/admin/canned-responses/shipped")[1]["title"] == "Shipped (mine)"
    assert _query_admin(desk, "PUT", "/admin/macros/wismo", {**wismo, "name": "WISMO"}, "version=1")[0] == 200
    status, problem = _query_admin(desk, "PUT", "/admin/macros/wismo", {**wismo, "name": "Theirs"}, "version=1")
    assert status == 409 and "now version 2" in problem["detail"], problem
    assert (problem["code"], problem["params"]) == ("changed_meanwhile", {"version": "2"}), problem  # said in words
    assert admin(desk, "GET", "/admin/macros/wismo")[1]["name"] == "WISMO"
    # "Only a new one" (version 0) does not replace an existing one made under the same id
    assert _query_admin(desk, "PUT", "/admin/canned-responses/shipped", theirs, "version=0")[0] == 409
    # and for a configuration item (a label) the refusal names the id taken, not a change meanwhile
    assert admin(desk, "PUT", "/admin/labels/vip", {"name": "VIP", "color": "#aa0000"})[0] == 200
    status, problem = _query_admin(desk, "PUT", "/admin/labels/vip", {"name": "Very", "color": "#00aa00"}, "version=0")
    assert status == 409 and problem["code"] == "exists" and problem["params"] == {"id": "vip"}, problem
    assert "exists already" in problem["detail"] and "meanwhile" not in problem["detail"]
    # A save without a version still replaces, as before; an agent's own are versioned the same way
    assert admin(desk, "PUT", "/admin/canned-responses/shipped", theirs)[1]["version"] == 3
    own = {"title": "Mine", "shortcode": "mine", "bodies": {"en": "On its way."}}
    assert agent(desk, "PUT", "/agent/canned-responses/mine", "alice", own)[1]["version"] == 1
    assert agent(desk, "PUT", "/agent/canned-responses/mine", "alice", own)[1]["version"] == 2


def test_of_two_admins_editing_one_label_the_later_save_is_refused(desk):
    status, label = _query_admin(desk, "PUT", "/admin/labels/vip", {"name": "VIP", "color": "#aa0000"}, "version=0")
    assert status == 200 and label["version"] == 1, label
    assert _query_admin(desk, "PUT", "/admin/labels/vip", {"name": "VIP (mine)", "color": "#aa0000"},
                        "version=1")[1]["version"] == 2
    status, problem = _query_admin(desk, "PUT", "/admin/labels/vip", {"name": "VIP (theirs)", "color": "#00aa00"},
                                   "version=1")
    assert status == 409 and "now version 2" in problem["detail"], problem
    # a new label under an id taken is refused, not overwritten; retiring moves the version too
    assert _query_admin(desk, "PUT", "/admin/labels/vip", {"name": "Other", "color": "#000000"}, "version=0")[0] == 409
    assert admin(desk, "POST", "/admin/labels/vip/retire")[1]["version"] == 3
    [vip] = admin(desk, "GET", "/admin/labels")[1]["items"]
    assert (vip["name"], vip["retired"], vip["version"]) == ("VIP (mine)", True, 3)


# ------------------------------------------------------------------------------ macros: applying them

@pytest.fixture
def wismo(catalogue):
    desk = catalogue
    assert admin(desk, "PUT", "/admin/canned-responses/shipped", CANNED)[0] == 200
    assert admin(desk, "PUT", "/admin/macros/wismo", {"name": "Where is my order", "actions": five_actions()})[0] == 200
    return desk


def test_a_five_action_macro_on_three_conversations_at_once(wismo):
    desk = wismo
    convs = [customer_writes(desk, f"+3161234010{i}", "where is my order?", "SM" + f"b{i}" * 16) for i in range(3)]
    before = queued(desk)
    # (a supervisor: changing the priority of a conversation one does not hold is a lead's call, as on its route)
    status, body = agent(desk, "POST", "/agent/macros/wismo/apply", "sam",
                         {"conversation_ids": [*convs, "c_01MISSING00000000000000000"]}, groups="[supervisors]")
    assert status == 200, body
    results = {r["conversation_id"]: r for r in body["results"]}
    assert [results[c]["result"] for c in convs] == ["applied"] * 3
    assert results["c_01MISSING00000000000000000"]["result"] == "refused"
    assert results["c_01MISSING00000000000000000"]["problem"]["status"] == 404
    assert (body["applied"], body["refused"]) == (3, 1)
    assert queued(desk) == before + 3
    for conv in convs:
        item = desk.item(f"CONV#{conv}")
        assert (sorted(item["labels"]), item["priority"], item["status"]) == (["shipping"], "high", "snoozed")
        assert desk.item(f"CONV#{conv}", "DEADLINE#snooze_wake") is not None
        assert desk.item(f"CONV#{conv}")["snoozed_until"] == desk.item(f"CONV#{conv}", "DEADLINE#snooze_wake")["due_at"]
        assert desk.item(f"CONV#{conv}", "LABEL#shipping")["LabelSK"].startswith("snoozed#")
        messages = timeline(desk, conv)
        entries = [m for m in messages if m["direction"] == "system" and "Macro" in (m["text"] or "")]
        assert len(entries) == 1 and entries[0]["text"].startswith("Macro “Where is my order” applied by Sam")
        event = entries[0]["event"]
        assert (event["kind"], event["params"]["macro"], event["params"]["macro_id"], event["params"]["by"]) == (
            "macro_applied", "Where is my order", "wismo", "sam")
        assert [c["change"] for c in event["params"]["changes"]] == [
            "reply", "labels_added", "priority", "note", "status"]
        # the reply step names the canned response by its title, as the agent knows it
        assert event["params"]["changes"][0] == {"change": "reply", "canned_response": "shipped", "title": "Shipped"}
        assert "reply with “Shipped”" in entries[0]["text"]
        assert [m["text"] for m in messages if m["direction"] == "note"] == ["Told them it shipped"]
        replies = [m for m in messages if m["direction"] == "outbound"]
        assert [r["text"] for r in replies] == ["Hi there, it is on its way."]
        assert results[conv]["reply_message_id"] == replies[0]["id"]
    # the canned response counts each use
    assert admin(desk, "GET", "/admin/canned-responses/shipped")[1]["uses"] == 3


def test_a_macro_whose_transaction_fails_leaves_nothing_and_queues_no_reply(wismo):
    desk = wismo
    # Given bob has no room at all, and a macro that replies, labels, notes and assigns to him
    agent(desk, "GET", "/agent/me", "bob")
    assert admin(desk, "PUT", "/admin/agents/bob", {"capacity": 0, "teams": ["default"]})[0] == 200
    actions = [*five_actions()[:4], {"type": "assign", "agent_id": "bob"}]
    assert admin(desk, "PUT", "/admin/macros/tobob", {"name": "To Bob", "actions": actions})[0] == 200
    conv = customer_writes(desk, "+31612340201", "hello?", "SM" + "c1" * 16)
    before_messages, before_queue = timeline(desk, conv), queued(desk)
    # When a supervisor applies it
    status, body = agent(desk, "POST", "/agent/macros/tobob/apply", "sam", {"conversation_ids": [conv]},
                         groups="[supervisors]")
    # Then the conversation is refused with the capacity problem, and nothing of the macro is there
    assert status == 200 and body["results"][0]["result"] == "refused", body
    assert body["results"][0]["problem"]["status"] == 409 and "bob" in body["results"][0]["problem"]["detail"]
    item = desk.item(f"CONV#{conv}")
    assert item.get("labels") is None and item["priority"] == "normal" and item.get("assignee") is None
    assert desk.item(f"CONV#{conv}", "LABEL#shipping") is None
    assert timeline(desk, conv) == before_messages
    assert queued(desk) == before_queue
    assert desk.item("AGENT#bob")["active"] == 0


def test_a_reply_that_cannot_be_rendered_refuses_the_conversation_before_anything_is_written(wismo):
    desk = wismo
    strict = {"title": "Strict", "shortcode": "strict", "bodies": {"en": "Hi {{customer.first_name}}"}}
    assert admin(desk, "PUT", "/admin/canned-responses/strict", strict)[0] == 200
    actions = [{"type": "add_labels", "labels": ["vip"]}, {"type": "reply", "canned_response_id": "strict"}]
    assert agent(desk, "PUT", "/agent/macros/strict", "alice", {"name": "Strict", "actions": actions})[0] == 200
    conv = customer_writes(desk, "+31612340301", "hi", "SM" + "d1" * 16)      # an SMS customer has no name
    before = queued(desk)
    status, body = agent(desk, "POST", "/agent/macros/strict/apply", "alice", {"conversation_ids": [conv]})
    assert status == 200 and body["results"][0]["result"] == "refused"
    assert body["results"][0]["problem"]["status"] == 422
    assert "customer.first_name" in body["results"][0]["problem"]["detail"]
    assert desk.item(f"CONV#{conv}").get("labels") is None and queued(desk) == before


def test_a_macro_applies_routing_rules_per_conversation(wismo):
    desk = wismo
    # a plain agent may not lower a priority: refused on that conversation (403), applied elsewhere
    lower = [{"type": "set_priority", "priority": "low"}, {"type": "add_labels", "labels": ["vip"]}]
    assert agent(desk, "PUT", "/agent/macros/lower", "alice", {"name": "Lower", "actions": lower})[0] == 200
    conv = customer_writes(desk, "+31612340401", "hi", "SM" + "e1" * 16)
    body = agent(desk, "POST", "/agent/macros/lower/apply", "alice", {"conversation_ids": [conv]})[1]
    assert body["results"][0]["problem"]["status"] == 403
    assert desk.item(f"CONV#{conv}").get("labels") is None
    # a resolve through a macro frees the customer's slot and the assignee's seat, like the status route
    online = agent(desk, "PUT", "/agent/me/presence", "alice", {"presence": "online"})
    assert online[0] == 200
    resolve = [{"type": "assign", "agent_id": "alice"}, {"type": "set_status", "status": "resolved"}]
    assert agent(desk, "PUT", "/agent/macros/done", "alice", {"name": "Done", "actions": resolve})[0] == 200
    body = agent(desk, "POST", "/agent/macros/done/apply", "alice", {"conversation_ids": [conv]})[1]
    assert body["results"][0]["result"] == "applied", body
    item = desk.item(f"CONV#{conv}")
    assert (item["status"], item["assignee"]) == ("resolved", "alice")
    assert desk.item("IDENTITY#phone#+31612340401").get("open_conversation_id") is None
    assert desk.item("AGENT#alice")["active"] == 0
    # and a resolved conversation refuses routing changes (409), as the routing route does
    body = agent(desk, "POST", "/agent/macros/wismo/apply", "alice", {"conversation_ids": [conv]})[1]
    assert body["results"][0]["problem"]["status"] == 409


def test_a_macro_adding_a_label_that_moves_a_conversation_is_refused_where_the_agent_may_not_change_its_routing(
        catalogue):
    desk = catalogue
    # Given a label routed to logistics, a conversation of team default dave holds and one waiting
    route_labels(desk, {"shipping": "logistics"})
    mine = holds_one(desk, "dave", "+31612340611", "SM" + "f3" * 16)
    waiting = customer_writes(desk, "+31612340612", "and mine?", "SM" + "f4" * 16)
    route_records(desk)
    assert desk.item(f"CONV#{waiting}").get("assignee") is None
    # When dave applies his macro that notes and adds that label to both
    actions = [{"type": "note", "text": "for logistics"}, {"type": "add_labels", "labels": ["shipping"]}]
    assert agent(desk, "PUT", "/agent/macros/move", "dave", {"name": "Move", "actions": actions})[0] == 200
    status, body = agent(desk, "POST", "/agent/macros/move/apply", "dave", {"conversation_ids": [waiting, mine]})
    assert status == 200, body
    results = {r["conversation_id"]: r for r in body["results"]}
    # Then the waiting one, whose team he may not change, is refused with the label route's problem, untouched
    assert results[waiting]["result"] == "refused" and results[waiting]["problem"]["status"] == 403, body
    assert "label Shipping moves the conversation to team logistics" in results[waiting]["problem"]["detail"]
    item = desk.item(f"CONV#{waiting}")
    assert (item["team"], item.get("labels")) == ("default", None)
    assert not [m for m in timeline(desk, waiting) if m["direction"] == "note" or "Macro" in (m["text"] or "")]
    # and his own goes to logistics with it
    assert results[mine]["result"] == "applied", body
    assert (desk.item(f"CONV#{mine}")["team"], labels_of(desk, mine)) == ("logistics", ["shipping"])


# ------------------------------------------------------------------------------ the version condition

def test_a_composed_change_is_conditioned_on_the_conversation_as_read_and_made_again_from_a_fresh_read(catalogue):
    from shopdesk.dal.conversations import ClockConflict, Edit
    from shopdesk.logic.access import Caller
    from shopdesk.logic.timeline import labels_changed

    desk = catalogue
    api = desk.handler("agent_api")
    conv = customer_writes(desk, "+31612340501", "hello", "SM" + "f1" * 16)
    desk.drain_queue(desk.work_queue_url, "router")          # its clocks start (nobody online: it waits)
    # A write from a stale read is refused whole: the status moved meanwhile
    stale = api.conversations.read_clocks(conv)
    assert agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "pending"})[0] == 200
    with pytest.raises(ClockConflict):
        api.conversations.edit(stale, stale.clocks, Edit(labels=["vip"]))
    assert desk.item(f"CONV#{conv}").get("labels") is None and desk.item(f"CONV#{conv}", "LABEL#vip") is None
    # The composer reads again and makes its plan again when another change wins between its read and its write
    attempts: list[str] = []

    def build(plan: Any) -> Any:
        attempts.append(plan.conv.status.value)
        if len(attempts) == 1:        # someone opens the conversation while this plan is being made
            assert agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "open"})[0] == 200
        api.composer.labels(plan, ["vip"], [], api.labels.known())
        return labels_changed(conv, "alice", plan.said, plan.names)

    result = api.composer.run(Caller("alice"), conv, build)
    assert attempts == ["pending", "open"]
    assert (result.status.value, result.labels) == ("open", ["vip"])
    assert desk.item(f"CONV#{conv}", "LABEL#vip")["LabelSK"].startswith("open#")


def test_a_selection_the_request_has_no_time_left_for_is_answered_503_and_left_alone(wismo):
    from shopdesk.logic.access import Caller

    desk = wismo
    api = desk.handler("agent_api")
    convs = [customer_writes(desk, f"+3161234060{i}", "hi", "SM" + f"g{i}" * 16) for i in range(2)]
    route_records(desk)              # a conversation is its team's once routed
    left = iter([28.0, 1.0])                 # time for the first conversation, not for the second
    macro, outcomes = api.macros.apply(Caller("sam", roles=frozenset({"supervisors"})), "wismo", convs,
                                       time_left=lambda: next(left))
    assert macro.id == "wismo"
    assert [(o.result, o.status) for o in outcomes] == [("applied", 200), ("refused", 503)]
    assert desk.item(f"CONV#{convs[0]}")["status"] == "snoozed"
    assert desk.item(f"CONV#{convs[1]}")["status"] == "open" and desk.item(f"CONV#{convs[1]}").get("labels") is None


def _agent_timeout() -> int:
    """The agent API function's Timeout, as template.yaml says."""
    from tests.integration.conftest import TEMPLATE

    return int(TEMPLATE["Resources"]["AgentApiFunction"]["Properties"]["Timeout"])


def test_a_selection_s_next_conversation_starts_only_while_one_send_at_its_worst_and_the_table_s_work_are_left(wismo):
    from shopdesk.logic.access import Caller
    from shopdesk.logic.macros import TABLE_WORK_SECONDS

    desk = wismo
    api = desk.handler("agent_api")
    # Given one send's worst with the agent API's queues' client (12 s), and its function's Timeout in template.yaml
    worst = api.inbox.outbound.send_worst_seconds()
    assert worst == api.inbox.work.send_worst_seconds() == 12
    # Then a macro keeps for one more conversation that send and the table's work, and the function's time holds it
    reserve = api.macros.reserve_seconds()
    assert reserve == worst + TABLE_WORK_SECONDS and reserve < _agent_timeout()
    # When a macro is applied to two conversations, the second met with more time left than 3 s but less than that
    convs = [customer_writes(desk, f"+3161234061{i}", "hi", "SM" + f"k{i}" * 16) for i in range(2)]
    route_records(desk)
    left = iter([_agent_timeout() - 1.0, reserve - 0.5])
    _, outcomes = api.macros.apply(Caller("sam", roles=frozenset({"supervisors"})), "wismo", convs,
                                   time_left=lambda: next(left))
    # Then the second is not started: a 503 to apply again, untouched
    assert [(o.result, o.status) for o in outcomes] == [("applied", 200), ("refused", 503)]
    assert desk.item(f"CONV#{convs[1]}")["status"] == "open" and desk.item(f"CONV#{convs[1]}").get("labels") is None


def test_a_macro_whose_reply_s_send_hangs_starts_no_conversation_it_cannot_finish_in_its_time(wismo):
    import time

    from shopdesk.logic.access import Caller

    desk = wismo
    api = desk.handler("agent_api")
    convs = [customer_writes(desk, f"+3161234062{i}", "where is my order?", "SM" + f"m{i}" * 16) for i in range(2)]
    route_records(desk)
    # Given the outbound queue hanging: each send answers nothing until the client stops waiting (its read timeout)
    outbound = api.inbox.outbound
    # and a request with just the reserve left, and a little more
    budget = api.macros.reserve_seconds() + 0.5
    with sends_hang(outbound.url, outbound.sqs) as hung:
        # When a macro replying is applied to two conversations
        began = time.monotonic()
        _, outcomes = api.macros.apply(Caller("sam", roles=frozenset({"supervisors"})), "wismo", convs,
                                       time_left=lambda: budget - (time.monotonic() - began))
        took = time.monotonic() - began
    # Then the first is applied, its reply not sent (two attempts), and the second not started: the time its send
    # took leaves less than another conversation may take
    assert [(o.result, o.status) for o in outcomes] == [("applied", 200), ("refused", 503)], outcomes
    assert "the reply was not sent" in (outcomes[0].detail or "") and len(hung) == 2
    # and the request ended within its time
    assert took <= budget, took


def test_a_label_change_reaches_the_open_inboxes_live(catalogue):
    # Given alice connected to the live API, and her team's conversation read from the stream once
    desk = catalogue
    endpoint = ConnectionsEndpoint()
    try:
        assert agent(desk, "PUT", "/agent/me/presence", "alice", {"presence": "online"})[0] == 200
        connect(desk, endpoint, "A", "alice")
        conv = customer_writes(desk, "+31612340701", "hello", "SM" + "h1" * 16)
        route_records(desk)          # a conversation is its team's once routed
        stream = Stream(desk)
        stream.read()
        # When a label is added
        assert agent(desk, "POST", f"/agent/conversations/{conv}/labels", "alice", {"add": ["vip"]})[0] == 200
        fanned = desk.invoke("live_fanout", stream.read(), LIVE_CONNECTIONS_ENDPOINT=endpoint.url + "/" + STAGE)
        # Then her socket hears of the conversation's change (its timeline entry, written with it, says nothing more)
        assert fanned == {"batchItemFailures": []}
        assert {(f["kind"], f["conversation_id"]) for f in endpoint.to("A")} == {("conversation", conv)}
    finally:
        endpoint.close()


def test_a_label_filter_pages_with_its_cursor_without_repeating_or_skipping(catalogue):
    desk = catalogue
    convs = [customer_writes(desk, f"+3161234080{i}", "hi", "SM" + f"k{i}" * 16) for i in range(3)]
    for conv in convs:
        assert agent(desk, "POST", f"/agent/conversations/{conv}/labels", "root", {"add": ["vip"]},
                     groups=ADMINS)[0] == 200
    status, first = agent(desk, "GET", "/agent/conversations", "root", query="view=all&label=vip&limit=2",
                          groups=ADMINS)
    assert status == 200 and len(first["items"]) == 2 and first["next_cursor"]
    status, second = agent(desk, "GET", "/agent/conversations", "root", groups=ADMINS,
                           query=f"view=all&label=vip&limit=2&cursor={first['next_cursor']}")
    assert status == 200, second
    seen = [c["id"] for c in first["items"]] + [c["id"] for c in second["items"]]
    assert sorted(seen) == sorted(convs)
    assert seen == sorted(seen, reverse=True)      # newest activity first: labelled last, listed first


def test_a_macros_note_is_masked_like_any_note(catalogue):
    desk = catalogue
    actions = [{"type": "note", "text": "Customer read out card 4111 1111 1111 1111"}]
    assert agent(desk, "PUT", "/agent/macros/card", "alice", {"name": "Card", "actions": actions})[0] == 200
    conv = customer_writes(desk, "+31612340901", "hi", "SM" + "m1" * 16)
    body = agent(desk, "POST", "/agent/macros/card/apply", "alice", {"conversation_ids": [conv]})[1]
    assert body["results"][0]["result"] == "applied", body
    notes = [m["text"] for m in timeline(desk, conv) if m["direction"] == "note"]
    assert len(notes) == 1 and "4111 1111" not in notes[0] and "[card •••• 1111]" in notes[0]
