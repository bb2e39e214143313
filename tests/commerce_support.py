"""Commerce samples (copied byte for byte into tests/fixtures/commerce) and the commerce sandbox on loopback."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from local.commerce import ShopifySandbox, WooCommerceSandbox
from local.sandbox import Outbox
from tests.support import LoopbackServer

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "commerce"
SHOPIFY_TEST_SECRET = "test_shopify_client_secret"
WC_TEST_SECRET = "test_wc_webhook_secret"
SHOPIFY_TOKEN = "test-shopify-access-token"
WC_KEY, WC_SECRET = "ck_test_key", "cs_test_secret"


def commerce_sample(platform: str, name: str) -> tuple[bytes, dict[str, Any]]:
    """The raw body bytes and the sidecar (headers, signature) of a sample."""
    meta = json.loads((FIXTURES / platform / f"{name}.meta.json").read_text())
    return (FIXTURES / platform / meta.get("file", f"{name}.json")).read_bytes(), meta


def sample_names(platform: str) -> list[str]:
    return sorted(p.name.removesuffix(".meta.json") for p in (FIXTURES / platform).glob("*.meta.json"))


class CommerceSandboxServer(LoopbackServer):
    """Both commerce sandboxes of the local stack, served on loopback: /shopify and /woocommerce."""

    def __init__(self) -> None:
        self.outbox = Outbox()
        self.shopify = ShopifySandbox(SHOPIFY_TOKEN, self.outbox, lambda: datetime.now(UTC))
        self.woocommerce = WooCommerceSandbox(WC_KEY, WC_SECRET, self.outbox, lambda: datetime.now(UTC))
        sandboxes = {"/shopify": self.shopify, "/woocommerce": self.woocommerce}

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                path, _, query = self.path.partition("?")
                prefix = "/" + path.split("/")[1]
                status, headers, answer = sandboxes[prefix].handle(self.command, path.removeprefix(prefix), query,
                                                                   self.path, dict(self.headers), body)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST = do_PUT = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.serve(Handler, poll_interval=0.1)

    @property
    def shopify_url(self) -> str:
        return self.url + "/shopify"

    @property
    def woocommerce_url(self) -> str:
        return self.url + "/woocommerce"

    def calls(self, provider: str) -> int:
        return sum(1 for item in self.outbox.items() if item["provider"] == provider)
