"""The inbox's and the widget's API types (web/src/api-types/) are what openapi-typescript makes of the APIs'
OpenAPI documents as the handlers serve them now: a route's new answer or field reaches the web app's types, or
this test says which file to generate again (`cd web && npm run types` against a running stack)."""

from __future__ import annotations

import difflib
import subprocess
from pathlib import Path

import pytest

from tests.support import ROOT, http_event

WEB = ROOT / "web"
GENERATOR = WEB / "node_modules" / ".bin" / "openapi-typescript"
# each generated file, from the document of the function that serves it (package.json's "types" script)
GENERATED = {
    "agent.ts": ("agent_api", "/agent/openapi.json"),
    "admin-openapi.ts": ("admin_api", "/admin/openapi.json"),
    "widget.ts": ("webchat", "/widget/openapi.json"),
}


def generated(document: str, tmp_path: Path) -> str:
    """What openapi-typescript makes of a document (the same version as `npm run types`: web's lockfile)."""
    source, target = tmp_path / "openapi.json", tmp_path / "types.ts"
    source.write_text(document)
    subprocess.run(
        [str(GENERATOR), str(source), "-o", str(target)], cwd=WEB, check=True, capture_output=True, timeout=120
    )
    return target.read_text()


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_the_web_app_s_api_types_are_generated_from_the_documents_served_now(desk, tmp_path, name):
    # Given the document the API's handler serves now
    function, path = GENERATED[name]
    served = desk.invoke(function, http_event("GET", path))
    assert served["statusCode"] == 200, served
    # When openapi-typescript makes its types
    made = generated(served["body"], tmp_path)
    # Then they are the committed file, to the character
    committed = (WEB / "src" / "api-types" / name).read_text()
    diff = "".join(
        difflib.unified_diff(
            committed.splitlines(keepends=True),
            made.splitlines(keepends=True),
            f"web/src/api-types/{name}",
            "generated now",
            n=1,
        )
    )
    assert made == committed, f"generate it again (cd web && npm run types):\n{diff[:4000]}"
