"""Every number of the admin settings bodies takes a JSON number only: an integer field a JSON integer (not true,
not "30", not 30.5), a number field an integer or a decimal (not true, not "0.5"). Pydantic's lax mode read ``true``
as 1 and ``"30"`` as 30, so a retention of ``true`` was saved as 1 day and the retention job expired everything
stored. Each is a 422 naming the field, and nothing is saved; the same field with a number saves. A yes or no takes
a JSON true or false only (not 1, not "yes"), the same way."""

from __future__ import annotations

from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import pytest
from pydantic import BaseModel

from shopdesk.bot import BotSettings
from shopdesk.csat import CsatSettings
from shopdesk.models.admin import AgentSettings, RoutingSettings
from shopdesk.models.sla import SlaPolicy
from shopdesk.privacy.settings import PrivacySettings
from tests.integration.test_unknown_fields import ADMIN, call

POLICY = {"id": "vip", "name": "VIP", "targets": {"urgent": {"first_response": 600}}}

# route: its body's model and the body a field is set in
ROUTES: dict[str, tuple[type[BaseModel], dict[str, Any]]] = {
    "/admin/privacy/settings": (PrivacySettings, {}),
    "/admin/routing": (RoutingSettings, {}),
    "/admin/bot": (BotSettings, {}),
    "/admin/csat": (CsatSettings, {}),
    "/admin/sla-policies/vip": (SlaPolicy, POLICY),
    "/admin/agents/ana": (AgentSettings, {}),
}
# route, the field (its path in the model; a map's member ``*``, "urgent" in the body), a number it takes
FIELDS: list[tuple[str, tuple[str, ...], int | float]] = [
    ("/admin/privacy/settings", ("retention", "messages_days"), 30),
    ("/admin/privacy/settings", ("retention", "closed_conversations_days"), 30),
    ("/admin/privacy/settings", ("retention", "inactive_customers_days"), 60),
    ("/admin/privacy/settings", ("retention", "events_days"), 400),
    ("/admin/privacy/settings", ("retention", "audit_days"), 800),
    ("/admin/privacy/settings", ("retention", "dedupe_markers_days"), 30),
    ("/admin/routing", ("sticky_days",), 3),
    ("/admin/routing", ("offline_grace_seconds",), 60),
    ("/admin/routing", ("reassign_after_silence_seconds",), 3600),
    ("/admin/routing", ("acknowledgement_burst_seconds",), 60),
    ("/admin/routing", ("average_handle_seconds",), 300),
    ("/admin/bot", ("confidence_threshold",), 0.75),
    ("/admin/bot", ("resolve_after_seconds",), 600),
    ("/admin/csat", ("delay_s",), 60),
    ("/admin/csat", ("answer_window_s",), 7200),
    ("/admin/csat", ("comment_window_s",), 600),
    ("/admin/sla-policies/vip", ("targets", "*", "first_response"), 900),
    ("/admin/sla-policies/vip", ("targets", "*", "next_response"), 900.5),
    ("/admin/sla-policies/vip", ("targets", "*", "resolution"), 86400),
    ("/admin/sla-policies/vip", ("warning_fraction",), 0.5),
    ("/admin/sla-policies/vip", ("rank",), 2),
    ("/admin/agents/ana", ("capacity",), 2),
]


def numbers(model: Any, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], type]:
    """Every int and float field ``model`` holds, by its path (a map's or list's member as ``*``)."""
    if isinstance(model, type) and issubclass(model, BaseModel):
        return {found: kind for name, info in model.model_fields.items()
                for found, kind in numbers(info.annotation, (*path, name)).items()}
    if model is int or model is float:
        return {path: model}
    origin, args = get_origin(model), get_args(model)
    if origin is Annotated:
        return numbers(args[0], path)
    if origin in (UnionType, Union):
        return {found: kind for a in args for found, kind in numbers(a, path).items()}
    if origin is dict:
        return numbers(args[1], (*path, "*"))
    if origin in (list, tuple, set, frozenset):
        return {found: kind for a in args for found, kind in numbers(a, (*path, "*")).items()}
    return {}


def in_body(field: tuple[str, ...]) -> tuple[str, ...]:
    return tuple("urgent" if name == "*" else name for name in field)


def body_with(route: str, field: tuple[str, ...], value: Any) -> dict[str, Any]:
    body, field = _copy(ROUTES[route][1]), in_body(field)
    inner = body
    for name in field[:-1]:
        inner = inner.setdefault(name, {})
    inner[field[-1]] = value
    return body


def _copy(value: Any) -> Any:
    return {k: _copy(v) for k, v in value.items()} if isinstance(value, dict) else value


def kind_of(route: str, field: tuple[str, ...]) -> type:
    return numbers(ROUTES[route][0])[field]


def test_the_table_names_every_number_of_every_settings_body():
    assert {(route, field) for route, field, _ in FIELDS} == \
        {(route, field) for route, (model, _) in ROUTES.items() for field in numbers(model)}


def bad_values(route: str, field: tuple[str, ...], good: int | float) -> list[Any]:
    whole = int(good)
    if kind_of(route, field) is int:
        return [True, str(whole), whole + 0.5, float(whole)]
    return [True, str(good)]


def version_of(desk: Any, route: str) -> Any:
    if route.startswith("/admin/sla-policies/"):
        return [p["version"] for p in call(desk, "GET", "/admin/sla-policies")[1]["items"] if p["id"] == "vip"]
    if route.startswith("/admin/agents/"):
        return [(a.get("version"), a.get("capacity")) for a in call(desk, "GET", "/admin/agents")[1]["items"]
                if a["id"] == "ana"]
    return call(desk, "GET", route)[1]["version"]


@pytest.mark.parametrize(("route", "field", "good"), FIELDS, ids=[f"{r}:{'.'.join(f)}" for r, f, _ in FIELDS])
def test_a_settings_number_given_as_true_a_string_or_a_decimal_is_a_422_naming_it_and_nothing_is_saved(
        desk, route, field, good):
    # Given the settings saved once, so a version is there to compare
    if route.startswith("/admin/agents/"):      # an agent is known once signed in
        call(desk, "GET", "/agent/me", function="agent_api", claims={
            "cognito:username": "ana", "name": "Ana", "cognito:groups": "[agents]", "token_use": "id"})
    status, saved = call(desk, "PUT", route, ROUTES[route][1] or body_with(route, field, good))
    assert status == 200, saved
    before = version_of(desk, route)
    for value in bad_values(route, field, good):
        # When an admin sends the field as true, as a string or (an integer field) as a decimal
        status, problem = call(desk, "PUT", route, body_with(route, field, value), claims=ADMIN)
        # Then a 422 names the field as not a number of its kind, and nothing is saved
        assert status == 422, (value, problem)
        expected = "int_type" if kind_of(route, field) is int else "float_type"
        named = in_body(field)
        assert [e["type"] for e in problem["errors"] if tuple(e["loc"]) == ("body", *named)] == [expected], \
            (value, problem)
        assert ".".join(named) in problem["detail"], problem
        assert version_of(desk, route) == before, value
    # And the same field given as a number saves
    status, saved = call(desk, "PUT", route, body_with(route, field, good))
    assert status == 200, saved
    value = saved
    for name in in_body(field):
        value = value[name]
    assert value == good


# A yes or no is a JSON true or false only: pydantic's lax mode read 1, "yes", "on" and "true" as true (and 0, "no",
# "off" as false) and saved them. Route, the field (its path in the model), a value it takes.
BOOLEANS: list[tuple[str, tuple[str, ...], bool]] = [
    ("/admin/routing", ("reassign_on_breach",), True),
    ("/admin/routing", ("acknowledgements",), False),
    ("/admin/routing", ("transcript_on_resolve",), True),
    ("/admin/bot", ("enabled",), True),
    ("/admin/csat", ("enabled",), True),
    ("/admin/csat", ("comment_prompt",), False),
]


def booleans(model: Any, path: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """Every bool field ``model`` holds, by its path (a map's or list's member as ``*``)."""
    if isinstance(model, type) and issubclass(model, BaseModel):
        return {found for name, info in model.model_fields.items()
                for found in booleans(info.annotation, (*path, name))}
    if model is bool:
        return {path}
    origin, args = get_origin(model), get_args(model)
    if origin is Annotated:
        return booleans(args[0], path)
    if origin in (UnionType, Union, list, tuple, set, frozenset):
        return {found for a in args for found in booleans(a, path if origin in (UnionType, Union) else (*path, "*"))}
    if origin is dict:
        return booleans(args[1], (*path, "*"))
    return set()


def test_the_table_names_every_yes_or_no_of_every_settings_body():
    assert {(route, field) for route, field, _ in BOOLEANS} == \
        {(route, field) for route, (model, _) in ROUTES.items() for field in booleans(model)}


@pytest.mark.parametrize(("route", "field", "good"), BOOLEANS, ids=[f"{r}:{'.'.join(f)}" for r, f, _ in BOOLEANS])
def test_a_settings_yes_or_no_given_as_a_number_or_a_string_is_a_422_naming_it_and_nothing_is_saved(
        desk, route, field, good):
    # Given the settings saved once, so a version is there to compare
    status, saved = call(desk, "PUT", route, ROUTES[route][1] or body_with(route, field, good))
    assert status == 200, saved
    before = version_of(desk, route)
    for value in [1, 0, "yes", "true", "on", "false", 1.0]:
        # When an admin sends the field as a number or a string that pydantic's lax mode reads as true or false
        status, problem = call(desk, "PUT", route, body_with(route, field, value), claims=ADMIN)
        # Then a 422 names the field as not a JSON true or false, and nothing is saved
        assert status == 422, (value, problem)
        named = in_body(field)
        assert [e["type"] for e in problem["errors"] if tuple(e["loc"]) == ("body", *named)] == ["bool_type"], \
            (value, problem)
        assert ".".join(named) in problem["detail"], problem
        assert version_of(desk, route) == before, value
    # And the same field given as true or false saves, each way
    for value in (good, not good):
        status, saved = call(desk, "PUT", route, body_with(route, field, value))
        assert status == 200, saved
        assert saved[field[-1]] is value
