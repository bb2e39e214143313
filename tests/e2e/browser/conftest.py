"""Browser fixtures: Debian's Chromium driven by Playwright against the local stack's web inbox.

The stack is the e2e ``stack`` fixture (tests/e2e/conftest.py); Chromium is the system's
(``/usr/bin/chromium``, installed by ``make test`` with apt when missing), never a downloaded one.
axe-core is injected from the web app's own node_modules for the accessibility scans.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

REPO = Path(__file__).resolve().parents[3]
CHROMIUM = Path("/usr/bin/chromium")
AXE = REPO / "web" / "node_modules" / "axe-core" / "axe.min.js"
# Flags that work headless as root on a machine without a network beyond loopback.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]
NAMES = {"alice": "Alice Example", "bob": "Bob Example"}

expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: `make test` installs it (apt-get install chromium)")
    if not AXE.exists():
        pytest.fail("web/node_modules is missing: `make test` runs npm ci in web/")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def open_inbox(stack: Any, browser: Browser) -> Iterator[Callable[..., Page]]:
    """``open_inbox("alice")``: a fresh browser context signed in through the sign-in page.

    ``page.frames`` collects the JSON frames the page receives on its WebSockets; ``before(context)``
    runs before the first navigation (to route the page's WebSocket, say). The app runs under the
    Content-Security-Policy the template gives it in CloudFront (the local stack serves the same with its own
    origins): anything it refuses (a script, a style, an image, a request to an origin the policy does not name)
    fails the test that caused it."""
    contexts = []
    refused: list[str] = []

    def open_as(agent: str, before: Callable[[BrowserContext], None] | None = None) -> Page:
        context = browser.new_context(viewport={"width": 1400, "height": 860}, locale="en-US",
                                      timezone_id="Europe/Lisbon")
        contexts.append(context)
        if before is not None:
            before(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: refused.append(message.text)
                if "Content Security Policy" in message.text else None)
        frames: list[dict[str, Any]] = []
        page.on("websocket", lambda socket: socket.on("framereceived", lambda payload: _keep(frames, payload)))
        page.frames_received = frames  # type: ignore[attr-defined]
        answer = page.goto(stack.url + "/")
        assert answer is not None and "frame-ancestors 'none'" in answer.headers.get("content-security-policy", "")
        page.get_by_role("button", name=f"Sign in as {NAMES[agent]}").click()
        expect(page.get_by_role("list", name="Conversations")).to_be_attached()
        page.errors = errors  # type: ignore[attr-defined]
        return page

    yield open_as
    for context in contexts:
        context.close()
    assert refused == [], f"the Content-Security-Policy refused: {refused}"


def _keep(frames: list[dict[str, Any]], payload: str | bytes) -> None:
    try:
        frame = json.loads(payload)
    except ValueError:
        return
    if isinstance(frame, dict):
        frames.append(frame)
