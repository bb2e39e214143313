"""Every route an API function declares is one API Gateway sends it (an HttpApi event of its function in
template.yaml): a route the app has and the template lacks answers 404 in AWS (and on the local stack, which
routes by the template), whatever the app's own tests say."""

from __future__ import annotations

import re

import pytest

from local.template import load_template
from tests.support import ROOT

TEMPLATE = load_template(ROOT / "template.yaml")


def _shape(path: str) -> str:
    """A path with its parameters as ``{}``; a greedy one (``{proxy+}``) as ``{+}``."""
    return re.sub(r"<[^>]+>|\{[^}+]+\}", "{}", re.sub(r"\{[^}]+\+\}", "{+}", path.rstrip("/") or "/"))


def _sends(event: tuple[str, str], route: tuple[str, str]) -> bool:
    """Whether API Gateway sends ``route`` through ``event`` (its method or ANY; a greedy parameter takes the rest)."""
    (method, path), (wanted, shape) = event, route
    if method not in ("ANY", wanted):
        return False
    if path.endswith("/{+}"):
        return shape.startswith(path[:-3]) and len(shape) > len(path) - 3
    return path == shape


def _events() -> dict[str, set[tuple[str, str]]]:
    """functions/<name> -> (METHOD, path shape) of its HttpApi events."""
    found: dict[str, set[tuple[str, str]]] = {}
    for resource in TEMPLATE["Resources"].values():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        code = str((resource.get("Properties") or {}).get("CodeUri") or "").rstrip("/")
        for event in ((resource.get("Properties") or {}).get("Events") or {}).values():
            if event.get("Type") == "HttpApi":
                props = event.get("Properties") or {}
                found.setdefault(code.rsplit("/", 1)[-1], set()).add(
                    (str(props.get("Method", "ANY")).upper(), _shape(str(props.get("Path", "")))))
    return found


EVENTS = _events()


@pytest.mark.parametrize("function", sorted(EVENTS))
def test_every_route_the_app_declares_reaches_it_through_the_template(desk, function):
    app = getattr(desk.handler(function), "app", None)
    if app is None or not hasattr(app, "_static_routes"):
        pytest.skip(f"{function} has no HTTP resolver")
    declared = {(r.method.upper(), _shape(r.path)) for r in app._static_routes + app._dynamic_routes}
    events = EVENTS[function]
    missing = sorted(route for route in declared if not any(_sends(event, route) for event in events))
    assert missing == [], f"{function} declares routes API Gateway never sends it: {missing}"
