"""Helpers of the browser tests: a customer's SMS as Twilio sends it, presence, the accessibility scan."""

from __future__ import annotations

import itertools
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from shopdesk.channels import twilio

AXE = Path(__file__).resolve().parents[3] / "web" / "node_modules" / "axe-core" / "axe.min.js"
AUTH_TOKEN = "fake-twilio-auth-token"  # the local stack's documented default
_sids = itertools.count(int(time.time() * 1000))


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
        page.evaluate(AXE.read_text())       # through the debugger: the app's CSP refuses inline script tags
    results = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in results if v["impact"] in ("serious", "critical")]


def frame_seen(page: Page, wanted: Callable[[dict[str, Any]], bool], timeout_ms: int = 10_000) -> None:
    """Wait until the page received a WebSocket frame ``wanted`` accepts (Playwright hands frames to Python
    as it processes events, so the wait goes through Playwright, never a sleep)."""
    for _ in range(timeout_ms // 100):
        if any(wanted(f) for f in page.frames_received):  # type: ignore[attr-defined]
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"no such frame in {page.frames_received}")  # type: ignore[attr-defined]
