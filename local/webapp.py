"""The agent inbox (``web/``) on the local stack: built when its sources changed, served at ``/``.

``make run`` stays the one command: at start-up the stack compares a digest of the app's sources
(``web/src``, ``index.html``, the package and build configuration) with the digest written beside
the last build (``web/dist/.sources``) and runs ``npm ci`` (when ``node_modules`` is missing) and
``npm run build`` only when they differ. The gateway then serves ``web/dist`` for every GET that no
API route claims, with the single-page app's fallback (a path without a file answers
``index.html``), and ``GET /config.json`` from :func:`web_config`, the runtime configuration the
app reads first (the same document ``make deploy`` writes to the web bucket in AWS).

``WEB_BUILD=0`` skips the build (the stack then serves whatever ``web/dist`` holds).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import mimetypes
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scripts.web_deploy import inbox_policy, with_policy

if TYPE_CHECKING:
    from local.stack import Stack

log = logging.getLogger("webapp")

WEB = Path(__file__).resolve().parents[1] / "web"
SOURCES = ("src", "public", "index.html", "package.json", "package-lock.json", "tsconfig.json", "vite.config.ts",
           "vite.widget.config.ts")
STAMP = ".sources"
BUILD_TIMEOUT_SECONDS = 600


def web_config(stack: Stack) -> dict[str, Any]:
    """``GET /config.json``: where the app finds the APIs (same origin locally), the stack's WebSocket API
    (``null`` when the template has none: the app then polls) and how it signs in."""
    return {"apiUrl": "", "wsUrl": stack.websocket_url, "auth": {"mode": "local"}}


def header_policy(template: dict[str, Any]) -> str | None:
    """The Content-Security-Policy header CloudFront adds to the inbox (the template's ``WebHeadersPolicy``)."""
    config = (((template.get("Resources") or {}).get("WebHeadersPolicy") or {}).get("Properties") or {}).get(
        "ResponseHeadersPolicyConfig") or {}
    policy = ((config.get("SecurityHeadersConfig") or {}).get("ContentSecurityPolicy") or {}).get(
        "ContentSecurityPolicy")
    return policy if isinstance(policy, str) else None


def page_policy(stack: Stack) -> str:
    """The policy ``index.html`` carries here, made as ``make deploy`` makes it (scripts/web_deploy.py) with the
    stack's origins: the APIs and the sign-in are the page's own origin, the live socket and the media bucket's
    presigned links (the local AWS endpoint) are not."""
    return inbox_policy(api=None, socket=stack.websocket_url, sign_in=None,
                        media=[stack.aws.endpoint] if stack.aws.endpoint else [])


def local_agents(stack: Stack) -> list[dict[str, Any]]:
    """``GET /_local/agents``: the demo agents the sign-in page lists (id, name, Cognito groups)."""
    from local.settings import DEMO_GROUPS

    if stack.identity is None:
        return []
    names = stack.settings.agents
    return [{"id": agent, "name": names.get(agent) or agent, "groups": DEMO_GROUPS.get(agent, [])}
            for agent in sorted(stack.identity.agents)]


def sources_digest(root: Path = WEB) -> str:
    """A digest of every file the build reads (paths and contents), independent of modification times."""
    digest = hashlib.sha256()
    for name in SOURCES:
        path = root / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path] if path.exists() else []
        for file in files:
            digest.update(file.relative_to(root).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()


class BuildFailed(Exception):
    pass


def build(root: Path = WEB) -> bool:
    """Build the app when its sources changed since the last build; True when a build ran.

    Stacks started at once (tests) take turns: the first builds, the others find it up to date."""
    if not (root / "package.json").exists():
        return False
    (root / "dist").mkdir(exist_ok=True)
    with (root / "dist" / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _build(root)


def _build(root: Path) -> bool:
    digest = sources_digest(root)
    stamp = root / "dist" / STAMP
    if stamp.exists() and stamp.read_text().strip() == digest:
        log.info("web app up to date (web/dist)")
        return False
    npm = shutil.which("npm")
    if npm is None:
        raise BuildFailed("npm is not on PATH: install Node.js 20+ to build the web app")
    started = time.perf_counter()
    if not (root / "node_modules").is_dir():
        log.info("installing the web app's packages (npm ci)")
        _run([npm, "ci", "--no-audit", "--no-fund"], root)
    log.info("building the web app (sources changed)")
    _run([npm, "run", "build"], root)
    stamp.write_text(digest + "\n")
    log.info("web app built in %.1f s", time.perf_counter() - started)
    return True


def _run(command: list[str], cwd: Path) -> None:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=BUILD_TIMEOUT_SECONDS,
                            check=False, env={**os.environ, "CI": "1"})
    if result.returncode != 0:
        raise BuildFailed(f"{' '.join(command[1:])} failed:\n{result.stdout[-4000:]}{result.stderr[-4000:]}")


@dataclass
class StaticFile:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class WebApp:
    """Serves ``web/dist``: files as they are, anything else the app's ``index.html``."""

    def __init__(self, root: Path = WEB / "dist", policies: tuple[str, str] | None = None) -> None:
        self.root = root.resolve()
        self.policies = policies     # (header, page): its Content-Security-Policy (header_policy, page_policy)

    def file(self, path: str) -> StaticFile:
        relative = path.lstrip("/")
        candidate = (self.root / relative).resolve() if relative else self.root / "index.html"
        inside = candidate == self.root or self.root in candidate.parents
        if not inside or not candidate.is_file() or candidate.name in (STAMP, ".lock"):
            if "." in relative.rsplit("/", 1)[-1]:    # a missing file (asset, favicon): no app page for it
                return StaticFile(404, [("Content-Type", "text/plain")], b"Not Found")
            candidate = self.root / "index.html"
        if not candidate.is_file():
            return StaticFile(503, [("Content-Type", "text/plain")],
                              b"The web app is not built: run `make run` (or `npm run build` in web/)")
        kind = mimetypes.guess_type(candidate.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind in ("application/javascript", "application/json"):
            kind += "; charset=utf-8"
        # hashed assets never change; index.html must always be fresh
        cache = "public, max-age=31536000, immutable" if "/assets/" in candidate.as_posix() else "no-cache"
        headers, body = [("Content-Type", kind), ("Cache-Control", cache)], candidate.read_bytes()
        if self.policies and all(self.policies) and candidate.name == "index.html":   # as CloudFront and make deploy
            header, page = self.policies
            body = with_policy(body, page)
            headers += [("Content-Security-Policy", header), ("X-Content-Type-Options", "nosniff"),
                        ("X-Frame-Options", "DENY"), ("Referrer-Policy", "strict-origin-when-cross-origin")]
        return StaticFile(200, headers, body)

    @staticmethod
    def config(stack: Stack) -> StaticFile:
        body = json.dumps(web_config(stack)).encode()
        return StaticFile(200, [("Content-Type", "application/json"), ("Cache-Control", "no-cache")], body)


def main() -> int:
    """``python -m local.webapp``: build the web app if its sources changed (make test runs it first)."""
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    try:
        build()
    except BuildFailed as error:
        log.error("%s", error)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
