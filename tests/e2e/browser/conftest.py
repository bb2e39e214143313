"""Browser fixtures: Debian's Chromium driven by Playwright against the local stack's web inbox.

The stack is the e2e ``stack`` fixture (tests/e2e/conftest.py); Chromium is the system's
(``/usr/bin/chromium``, installed by ``make test`` with apt when missing), never a downloaded one.
axe-core is injected from the web app's own node_modules for the accessibility scans.
"""

from __future__ import annotations

import itertools
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from shopdesk.channels import twilio

REPO = Path(__file__).resolve().parents[3]
CHROMIUM = Path("/usr/bin/chromium")
AXE = REPO / "web" / "node_modules" / "axe-core" / "axe.min.js"
AUTH_TOKEN = "fake-twilio-auth-token"  # the local stack's documented default
# Flags that work headless as root on a machine without a network beyond loopback.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]
NAMES = {"alice": "Alice Example", "bob": "Bob Example"}
_sids = itertools.count(int(time.time() * 1000))

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
def open_inbox(stack: Any, browser: Browser) -> Iterator[Callable[[str], Page]]:
    """``open_inbox("alice")``: a fresh browser context signed in through the sign-in page."""
    contexts = []

    def open_as(agent: str) -> Page:
        context = browser.new_context(viewport={"width": 1400, "height": 860}, locale="en-US",
                                      timezone_id="Europe/Lisbon")
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(stack.url + "/")
        page.get_by_role("button", name=f"Sign in as {NAMES[agent]}").click()
        expect(page.get_by_role("list", name="Conversations")).to_be_attached()
        page.errors = errors  # type: ignore[attr-defined]
        return page

    yield open_as
    for context in contexts:
        context.close()


def send_sms(stack: Any, phone: str, text: str) -> None:
    """A customer's SMS, signed as Twilio signs its webhooks."""
    body = urllib.parse.urlencode({"MessageSid": f"SM{next(_sids):032d}", "From": phone, "To": "+14155550199",
                                   "Body": text, "NumMedia": "0"})
    signature = twilio.sign(stack.url + "/webhooks/twilio", twilio.parse_form(body), AUTH_TOKEN)
    answer = stack.post("/webhooks/twilio", data=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})
    assert answer.status == 200, answer.text


def set_presence(stack: Any, agent: str, presence: str) -> None:
    answer = stack.put("/agent/me/presence", json={"presence": presence}, token=stack.token(agent))
    assert answer.status == 200, answer.text


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Serious and critical accessibility violations axe-core finds on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    results = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in results if v["impact"] in ("serious", "critical")]
