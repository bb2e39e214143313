"""The local stack's web app serving: what is served for which path, and when a rebuild is due."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from local.webapp import STAMP, WebApp, build, sources_digest, web_config


def dist(tmp_path: Path) -> Path:
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><head><title>inbox</title>")
    (root / "assets" / "index-abc.js").write_text("console.log(1)")
    (root / STAMP).write_text("digest")
    (tmp_path / "secret.txt").write_text("not for the web")
    return root


def test_files_are_served_with_their_type_and_app_paths_get_index_html(tmp_path):
    app = WebApp(dist(tmp_path))
    asset = app.file("/assets/index-abc.js")
    assert asset.status == 200 and asset.body == b"console.log(1)"
    assert dict(asset.headers)["Cache-Control"].endswith("immutable")
    assert "javascript" in dict(asset.headers)["Content-Type"]
    for path in ("/", "/c/c_123", "/settings/calendars"):
        page = app.file(path)
        assert (page.status, page.body) == (200, b"<!doctype html><head><title>inbox</title>"), path
        assert dict(page.headers)["Cache-Control"] == "no-cache"


def test_missing_files_outside_paths_and_the_build_stamp_are_not_served(tmp_path):
    app = WebApp(dist(tmp_path))
    assert app.file("/assets/gone-123.js").status == 404
    assert app.file("/favicon.ico").status == 404
    assert app.file("/../secret.txt").status == 404
    assert app.file(f"/{STAMP}").body != b"digest"


def test_an_unbuilt_app_says_how_to_build_it(tmp_path):
    answer = WebApp(tmp_path / "nothing").file("/")
    assert answer.status == 503 and b"npm run build" in answer.body


def test_the_digest_follows_the_sources_and_not_their_modification_times(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.tsx").write_text("a")
    (tmp_path / "package.json").write_text("{}")
    first = sources_digest(tmp_path)
    (tmp_path / "src" / "main.tsx").touch()
    assert sources_digest(tmp_path) == first
    (tmp_path / "src" / "main.tsx").write_text("b")
    assert sources_digest(tmp_path) != first
    (tmp_path / "src" / "main.tsx").write_text("a")
    (tmp_path / "src" / "new.ts").write_text("")
    assert sources_digest(tmp_path) != first


def test_an_up_to_date_build_is_not_rebuilt(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "package.json").write_text("{}")
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / STAMP).write_text(sources_digest(tmp_path) + "\n")
    assert build(tmp_path) is False          # npm is never called
    assert build(tmp_path / "no-app") is False


def test_config_is_same_origin_local_sign_in_and_the_stacks_websocket():
    config = json.loads(WebApp.config(SimpleNamespace(websocket_url="ws://127.0.0.1:3001/local")).body)
    assert config == {"apiUrl": "", "wsUrl": "ws://127.0.0.1:3001/local", "auth": {"mode": "local"}}
    # a template without a WebSocket API: null, and the app polls
    assert web_config(SimpleNamespace(websocket_url=None))["wsUrl"] is None


def test_the_local_inbox_carries_the_content_security_policy_of_aws_with_the_stacks_own_origins(tmp_path):
    from local.template import load_template
    from local.webapp import header_policy, page_policy
    from tests.support import ROOT

    stack = SimpleNamespace(websocket_url="ws://127.0.0.1:3001/dev", aws=SimpleNamespace(endpoint="http://127.0.0.1:5001"))
    header = header_policy(load_template(ROOT / "template.yaml"))
    page = page_policy(stack)  # type: ignore[arg-type]
    directives = {name: sources for name, *sources in (d.split() for d in page.split("; "))}
    # the APIs and the sign-in are the page's own origin here; the socket and the media bucket's links are not
    assert directives["connect-src"] == ["'self'", "ws://127.0.0.1:3001", "http://127.0.0.1:5001"]
    assert directives["img-src"] == ["'self'", "data:", "http://127.0.0.1:5001"]
    app = WebApp(dist(tmp_path), policies=(header, page))  # type: ignore[arg-type]
    served = app.file("/")
    assert dict(served.headers)["Content-Security-Policy"] == header and "frame-ancestors 'none'" in header
    assert served.body.startswith(b'<!doctype html><head>\n    <meta http-equiv="Content-Security-Policy" content="')
    assert "Content-Security-Policy" not in dict(app.file("/assets/index-abc.js").headers)
