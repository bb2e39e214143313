"""The web inbox: how much it ships, how fast it opens, how soon a customer's message shows.

    python -m bench.inbox [--samples 5]      (make bench runs it after the other benchmarks)

- ``bundle_kb_gzip``: every JS and CSS file ``web/dist/index.html`` loads, gzip-compressed (level 6,
  what CloudFront's and most servers' compression gives), summed, in KB (goal: at most 150).
- ``first_load_ms``: a signed-in agent opening the inbox in a fresh browser context (cold cache), from
  navigation start to the first page of conversations in the list (the app's ``shopdesk:list``
  performance mark), in Debian's Chromium against the local stack; p50 and max of the samples.
- ``live_update_ms``: from the webhook of a customer's SMS answered (200) to its conversation showing
  in the open inbox, measured by the test driver's clock; p50 and p95. Until the stack serves the
  WebSocket API the inbox refreshes by polling every 4 s, which is most of this figure.

Writes the ``inbox`` key of bench/results.json (read, changed, written back: the other keys stay).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import time
import urllib.parse
from pathlib import Path
from typing import Any

from bench.assignment import LOCAL_TWILIO_AUTH_TOKEN, LocalStack, local_stack, percentile
from bench.harness import use_layer
from local import webapp

HERE = Path(__file__).resolve().parent
DIST = HERE.parent / "web" / "dist"
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]


def bundle_kb_gzip(dist: Path = DIST) -> dict[str, Any]:
    """The first load's JS and CSS (what index.html references), raw and gzip, in KB."""
    html = (dist / "index.html").read_text()
    files = sorted(set(re.findall(r'(?:src|href)="/?(assets/[^"]+\.(?:js|css))"', html)))
    raw = sum((dist / f).stat().st_size for f in files)
    compressed = sum(len(gzip.compress((dist / f).read_bytes(), compresslevel=6)) for f in files)
    return {"files": files, "raw_kb": round(raw / 1024, 1), "gzip_kb": round(compressed / 1024, 1), "goal_kb": 150}


def _send_sms(stack: LocalStack, phone: str, text: str, sid: str) -> None:
    from shopdesk.channels import twilio

    body = urllib.parse.urlencode({"MessageSid": sid, "From": phone, "To": "+14155550199", "Body": text,
                                   "NumMedia": "0"})
    signature = twilio.sign(stack.url + "/webhooks/twilio", twilio.parse_form(body), LOCAL_TWILIO_AUTH_TOKEN)
    answer = stack.request("POST", "/webhooks/twilio", form=body, headers={"X-Twilio-Signature": signature})
    if answer.status != 200:
        raise RuntimeError(f"webhook: {answer.status} {answer.text[:200]}")


def _resolve_all(stack: LocalStack, agent: str) -> None:
    token = stack.token(agent)
    for conv in stack.ok(stack.get("/agent/conversations?view=mine&status=open&limit=100", token), "list")["items"]:
        stack.post(f"/agent/conversations/{conv['id']}/status", {"status": "resolved"}, token=token)


def browser_figures(stack: LocalStack, samples: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    session = json.dumps({"idToken": stack.token("alice"), "expiresAt": int(time.time() * 1000) + 3_000_000,
                          "agent": "alice"})
    loads: list[float] = []
    live: list[float] = []
    stamp = int(time.time())
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            for _ in range(samples):            # cold: a new context has an empty cache
                context = browser.new_context(viewport={"width": 1400, "height": 860}, locale="en-US")
                context.add_init_script(f"sessionStorage.setItem('shopdesk.session', {json.dumps(session)})")
                page = context.new_page()
                page.goto(stack.url + "/")
                page.wait_for_function("performance.getEntriesByName('shopdesk:list').length > 0")
                loads.append(page.evaluate("performance.getEntriesByName('shopdesk:list')[0].startTime"))
                context.close()
            context = browser.new_context(locale="en-US")
            context.add_init_script(f"sessionStorage.setItem('shopdesk.session', {json.dumps(session)})")
            page = context.new_page()
            page.goto(stack.url + "/")
            page.wait_for_selector("ul.conversations")
            for i in range(samples):
                phone = f"+1415556{stamp % 1000:03d}{i}"
                _send_sms(stack, phone, f"live update {i}", f"SM{stamp:022d}{i:010d}")
                sent = time.perf_counter()
                page.wait_for_selector(f"ul.conversations li:has-text('{phone}')", timeout=30_000)
                live.append((time.perf_counter() - sent) * 1000)
                _resolve_all(stack, "alice")          # keep a seat free for the next sample (capacity 3)
            context.close()
        finally:
            browser.close()
    return {
        "first_load_ms": {"p50": round(percentile(loads, 50) or 0), "max": round(max(loads)), "samples": len(loads)},
        "live_update_ms": {"p50": round(percentile(live, 50) or 0), "p95": round(percentile(live, 95) or 0),
                           "samples": len(live), "transport": "polling every 4 s (no WebSocket URL in config.json)"},
    }


def run(samples: int = 5) -> dict[str, Any]:
    use_layer()
    webapp.build()
    figures: dict[str, Any] = {"bundle_kb_gzip": bundle_kb_gzip()}
    with local_stack({"WEB_BUILD": "0"}) as stack:
        # bob away: every message goes to alice, whose inbox is open
        stack.request("PUT", "/agent/me/presence", {"presence": "away"}, token=stack.token("bob"))
        stack.request("PUT", "/agent/me/presence", {"presence": "online"}, token=stack.token("alice"))
        figures.update(browser_figures(stack, samples))
    figures["environment"] = "local stack on this machine; Debian Chromium headless; Playwright"
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.inbox", description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--results", type=Path, default=HERE / "results.json")
    args = parser.parse_args()
    figures = run(args.samples)
    print(json.dumps(figures, indent=2))
    results = json.loads(args.results.read_text()) if args.results.exists() else {}
    results["inbox"] = figures
    args.results.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
