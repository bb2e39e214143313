"""The README's screenshot of the web inbox (docs/inbox.png), taken on a running local stack (``make run``).

    .venv/bin/python -m scripts.inbox_screenshot [--url http://127.0.0.1:3000] [--out docs/inbox.png]

It plays the walkthrough's demo: three customers of the demo shop text in, an admin adds the shared canned
response "Where is my order", and alice opens Dana's conversation (orders and tracking beside it) and types
``/wis`` in the reply box. Debian's Chromium (``/usr/bin/chromium``) through Playwright, never a downloaded
browser. Run it on a fresh stack: the customers' messages are part of the picture.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from playwright.sync_api import expect, sync_playwright

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "layers" / "shopdesk"))

from local.settings import secret_values  # noqa: E402
from shopdesk.channels import twilio  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]
CUSTOMERS = [("+14155550101", "Hi! Where is order #1001? It said it would arrive yesterday."),
             ("+14155550102", "Hello, the beanie of order 1002 is missing from the parcel"),
             ("+14155550103", "Can I return my leather shoes? They are a size too small")]
WISMO = {"title": "Where is my order", "shortcode": "wismo", "bodies": {
    "en": 'Hi {{customer.first_name | default: "there"}}, {{order.name}} is {{order.status}}. You can follow it '
          "here: {{order.tracking_url}}",
    "es": 'Hola {{customer.first_name | default: ""}}, el pedido {{order.name}} está {{order.status}}: '
          "{{order.tracking_url}}"}}
_sids = itertools.count(int(time.time()))


def call(url: str, method: str, path: str, body: Any = None, token: str | None = None,
         form: str | None = None, headers: dict[str, str] | None = None) -> Any:
    sent = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        sent["Content-Type"] = "application/json"
    elif form is not None:
        data = form.encode()
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    if token:
        sent["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url + path, data=data, headers=sent, method=method)
    with urllib.request.urlopen(request, timeout=30) as answer:  # the local stack
        text = answer.read()
    return json.loads(text) if text and text.lstrip()[:1] in (b"{", b"[") else None


def text_in(url: str, phone: str, text: str) -> None:
    form = urllib.parse.urlencode({"MessageSid": f"SM{next(_sids):032d}", "From": phone, "To": "+14155550199",
                                   "Body": text, "NumMedia": "0"})
    token = (secret_values("TwilioSecret") or {})["auth_token"]
    signature = twilio.sign(url + "/webhooks/twilio", twilio.parse_form(form), token)
    call(url, "POST", "/webhooks/twilio", form=form, headers={"X-Twilio-Signature": signature})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.inbox_screenshot", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:3000")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "inbox.png")
    args = parser.parse_args(argv)
    url = args.url.rstrip("/")
    for phone, text in CUSTOMERS:
        text_in(url, phone, text)
    admin = call(url, "GET", "/_local/token?agent=alice")["token"]
    call(url, "PUT", "/admin/canned-responses/where-is-my-order", WISMO, token=admin)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1360, "height": 820}, locale="en-US")
        page.goto(url + "/")
        page.get_by_role("button", name="Sign in as Alice Example").click()
        expect(page.get_by_role("status", name="Live updates: connected")).to_be_visible(timeout=30_000)
        page.get_by_role("button", name="All", exact=False).first.click()     # the router may give it to bob
        item = page.get_by_role("list", name="Conversations").get_by_role("listitem").filter(has_text="order #1001")
        item.get_by_role("button").click(timeout=30_000)
        expect(page.get_by_role("link", name="Track 1Z999AA10123456784 (UPS)")).to_be_visible(timeout=30_000)
        page.get_by_role("textbox", name="Reply", exact=True).click()
        page.keyboard.type("/wis")
        expect(page.get_by_role("listbox", name="Canned responses")).to_be_visible(timeout=30_000)
        page.mouse.move(0, 0)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(args.out))
        browser.close()
    print(f"{args.out} ({args.out.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
