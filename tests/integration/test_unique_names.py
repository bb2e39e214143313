"""Names people pick a setting by stay one of a kind when two admins save at once: the name's marker is written in
the setting's own transaction (shopdesk.dal.names), moved on a rename and removed on a delete."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from shopdesk.errors import Conflict
from shopdesk.logic import admin as admin_logic
from shopdesk.logic import canned as canned_logic
from shopdesk.logic import labels as labels_logic
from shopdesk.logic import macros as macros_logic
from shopdesk.logic.access import Caller
from shopdesk.models.admin import Team
from shopdesk.models.canned import CannedContent
from shopdesk.models.labels import LabelContent
from shopdesk.models.macros import MacroContent
from shopdesk.models.sla import SlaPolicy
from tests.support import http_event

ROOT = Caller(id="root", name="Root", roles=frozenset({"admins"}))
ALICE = Caller(id="alice", name="Alice")


def admin_call(desk, method, path, body=None, query=""):
    claims = {"cognito:username": "lead", "cognito:groups": "[admins]"}
    event = http_event(method, path, json.dumps(body) if body is not None else None,
                       {"content-type": "application/json"}, query=query, claims=claims)
    result = desk.invoke("admin_api", event)
    return result["statusCode"], json.loads(result["body"]) if result.get("body") else None


# kind: (the marker's partition, the refusal's code, a save of (id, name) as the use case makes it)
Save = Callable[[Any, Any, str, str], Any]
KINDS: dict[str, tuple[str, str, Save]] = {
    "team": ("NAME#team", "name_taken", lambda admin, agent, ident, name: admin.admin.put_team(
        {"admins"}, ident, Team(id=ident, name=name), None)),
    "sla policy": ("NAME#sla-policy", "name_taken", lambda admin, agent, ident, name: admin.admin.put_policy(
        {"admins"}, ident, SlaPolicy(id=ident, name=name, targets={"normal": {"first_response": 3600}}), None)),
    "label": ("NAME#label", "name_taken", lambda admin, agent, ident, name: admin.labels.put(
        ROOT, ident, LabelContent(name=name, color="#2f80ed"))),
    "shared canned response": ("NAME#canned#shared", "shortcode_taken",
                               lambda admin, agent, ident, name: admin.canned.put_shared(
                                   ROOT, ident, CannedContent(title=ident, shortcode=name, bodies={"en": "Hi"}))),
    "personal canned response": ("NAME#canned#agent#alice", "shortcode_taken",
                                 lambda admin, agent, ident, name: agent.canned.put_personal(
                                     ALICE, ident, CannedContent(title=ident, shortcode=name, bodies={"en": "Hi"}))),
    "shared macro": ("NAME#macro#shared", "name_taken", lambda admin, agent, ident, name: admin.macros.put_shared(
        ROOT, ident, MacroContent(name=name, actions=[{"type": "set_priority", "priority": "high"}]))),
    "personal macro": ("NAME#macro#agent#alice", "name_taken",
                       lambda admin, agent, ident, name: agent.macros.put_personal(
                           ALICE, ident, MacroContent(name=name, actions=[{"type": "set_priority",
                                                                           "priority": "high"}]))),
}


def race(desk: Any, monkeypatch: pytest.MonkeyPatch, saves: list[Callable[[], Any]]) -> list[Any]:
    """The saves at once, each past the use case's own read of the other names before any of them writes: what
    each answered (a Conflict, or what it saved)."""
    barrier, checked = threading.Barrier(len(saves), timeout=20), []
    for module in (admin_logic, labels_logic, canned_logic, macros_logic):
        read = module.refuse_taken

        def then_wait(*args: Any, _read: Callable[..., None] = read, **kwargs: Any) -> None:
            _read(*args, **kwargs)          # nobody has the name yet, as each of them reads it
            checked.append(args[1])
            barrier.wait()

        monkeypatch.setattr(module, "refuse_taken", then_wait)

    def run(save: Callable[[], Any]) -> Any:
        try:
            return save()
        except Conflict as exc:
            return exc

    with ThreadPoolExecutor(max_workers=len(saves)) as pool:
        outcomes = list(pool.map(run, saves))
    assert len(checked) == len(saves), "every save read the names before any wrote"
    return outcomes


@pytest.mark.parametrize("kind", KINDS)
def test_two_saves_of_one_name_at_once_one_wins_and_the_other_is_told_who_has_it(desk, monkeypatch, kind):
    marker_pk, code, save = KINDS[kind]
    admin, agent = desk.handler("admin_api"), desk.handler("agent_api")
    # When two admins save a new one each, the same name in another case, at the same moment
    one, other, key = (("late-orders", "/LATE-ORDERS", "late-orders") if code == "shortcode_taken"
                       else ("Late orders", "late  ORDERS", "late orders"))
    outcomes = race(desk, monkeypatch, [lambda: save(admin, agent, "first", one),
                                        lambda: save(admin, agent, "second", other)])
    # Then exactly one is saved and the other refused, naming the one that has the name
    won = [o for o in outcomes if not isinstance(o, Exception)]
    lost = [o for o in outcomes if isinstance(o, Exception)]
    assert len(won) == 1 and len(lost) == 1, outcomes
    winner = lost[0].params["id"]
    assert lost[0].code == code and winner in ("first", "second"), lost[0]
    # and the name's marker names the one saved; the other was not written at all
    assert desk.item(marker_pk, key)["holder"] == winner
    assert desk.item(*_item_of(kind, winner)) is not None
    assert desk.item(*_item_of(kind, "second" if winner == "first" else "first")) is None


def _item_of(kind: str, ident: str) -> tuple[str, str]:
    return {"team": ("CONFIG#team", ident), "sla policy": ("CONFIG#sla-policy", ident),
            "label": ("CONFIG#label", ident), "shared canned response": ("CANNED#shared", f"RESPONSE#{ident}"),
            "personal canned response": ("CANNED#agent#alice", f"RESPONSE#{ident}"),
            "shared macro": ("MACRO#shared", f"MACRO#{ident}"),
            "personal macro": ("MACRO#agent#alice", f"MACRO#{ident}")}[kind]


def test_a_rename_racing_a_new_one_for_the_same_name_lets_one_through(desk, monkeypatch):
    admin = desk.handler("admin_api")
    assert admin_call(desk, "PUT", "/admin/teams/returns", {"id": "returns", "name": "Returns"})[0] == 200
    # When one admin renames returns to "Exchanges" as another creates a team "Exchanges"
    outcomes = race(desk, monkeypatch, [
        lambda: admin.admin.put_team({"admins"}, "returns", Team(id="returns", name="Exchanges"), None),
        lambda: admin.admin.put_team({"admins"}, "exchanges", Team(id="exchanges", name="Exchanges"), None)])
    # Then one of them has it
    assert sum(not isinstance(o, Exception) for o in outcomes) == 1, outcomes
    names = [t["name"] for t in admin_call(desk, "GET", "/admin/teams")[1]["items"]]
    assert names.count("Exchanges") == 1, names


def test_a_rename_frees_the_old_name_and_a_delete_the_name_it_had(desk):
    # Given a team, a label, a shared canned response and a shared macro
    for path, body in (("/admin/teams/returns", {"id": "returns", "name": "Returns"}),
                       ("/admin/labels/refund", {"name": "Refund", "color": "#2f80ed"}),
                       ("/admin/canned-responses/wis", {"title": "Where is it", "shortcode": "wis",
                                                        "bodies": {"en": "On its way"}}),
                       ("/admin/macros/close", {"name": "Close", "actions": [{"type": "set_status",
                                                                              "status": "resolved"}]})):
        assert admin_call(desk, "PUT", path, body)[0] == 200, path
    # When each is renamed
    for path, body in (("/admin/teams/returns", {"id": "returns", "name": "Returns EU"}),
                       ("/admin/labels/refund", {"name": "Refunded", "color": "#2f80ed"}),
                       ("/admin/canned-responses/wis", {"title": "Where is it", "shortcode": "where",
                                                        "bodies": {"en": "On its way"}}),
                       ("/admin/macros/close", {"name": "Close it", "actions": [{"type": "set_status",
                                                                                 "status": "resolved"}]})):
        assert admin_call(desk, "PUT", path, body)[0] == 200, path
    # Then its old name is another's to take, and its new one is not
    assert desk.item("NAME#team", "returns") is None and desk.item("NAME#team", "returns eu")["holder"] == "returns"
    for path, body, status in (("/admin/teams/other", {"id": "other", "name": "returns"}, 200),
                               ("/admin/teams/third", {"id": "third", "name": "RETURNS EU"}, 409),
                               ("/admin/labels/other", {"name": "refund", "color": "#000000"}, 200),
                               ("/admin/labels/third", {"name": "refunded", "color": "#000000"}, 409),
                               ("/admin/canned-responses/other", {"title": "x", "shortcode": "wis",
                                                                  "bodies": {"en": "x"}}, 200),
                               ("/admin/canned-responses/third", {"title": "x", "shortcode": "where",
                                                                  "bodies": {"en": "x"}}, 409),
                               ("/admin/macros/other", {"name": "close", "actions": [{"type": "set_status",
                                                                                      "status": "open"}]}, 200),
                               ("/admin/macros/third", {"name": "close it", "actions": [{"type": "set_status",
                                                                                         "status": "open"}]}, 409)):
        assert admin_call(desk, "PUT", path, body)[0] == status, (path, body)
    # When they are deleted, their names are free
    for path in ("/admin/teams/returns", "/admin/canned-responses/wis", "/admin/macros/close"):
        assert admin_call(desk, "DELETE", path)[0] == 204, path
    assert desk.item("NAME#team", "returns eu") is None
    assert desk.item("NAME#canned#shared", "where") is None and desk.item("NAME#macro#shared", "close it") is None
    for path, body in (("/admin/teams/third", {"id": "third", "name": "RETURNS EU"}),
                       ("/admin/canned-responses/third", {"title": "x", "shortcode": "where", "bodies": {"en": "x"}}),
                       ("/admin/macros/third", {"name": "close it", "actions": [{"type": "set_status",
                                                                                 "status": "open"}]})):
        assert admin_call(desk, "PUT", path, body)[0] == 200, path


def test_a_marker_its_holder_no_longer_bears_is_taken_over(desk):
    # Given a marker left behind (its team deleted by hand, not through shopdesk)
    desk.client("dynamodb").put_item(TableName=desk.table_name, Item={
        "PK": {"S": "NAME#team"}, "SK": {"S": "returns"}, "type": {"S": "name"}, "holder": {"S": "gone"},
        "name": {"S": "Returns"}, "scope": {"S": "team"}})
    # When an admin names a team so
    status, team = admin_call(desk, "PUT", "/admin/teams/returns", {"id": "returns", "name": "Returns"})
    # Then it is saved, and the marker is its
    assert status == 200, team
    assert desk.item("NAME#team", "returns")["holder"] == "returns"
    assert admin_call(desk, "PUT", "/admin/teams/other", {"id": "other", "name": "returns"})[0] == 409
