"""A demo shop's website on its own origin, with the web-chat widget on its pages, as a shop would embed it.

``make run`` serves it at ``http://localhost:<SHOP_PORT>/`` (3002 by default; ``SHOP_PORT=0`` picks a free port,
``GET /_local/shop`` says which). It plays the two parts a real shop's site plays:

- its pages carry the widget's script tag, loaded from the inbox's origin (the stack), calling the widget API
  cross-origin, so the browser's CORS checks run as they will between a shop's site and AWS, under a strict
  Content-Security-Policy (Trusted Types required) as a careful shop sends;
- ``GET /visitor-token`` is the shop's server signing a visitor token for the page's visitor with the widget
  secret (``WebchatSecret.visitor_secret``), the recipe in ``shopdesk/channels/webchat.py``. The visitor is a
  random id kept in a cookie (a guest), or, after "Sign in" on the page, a customer with a name and an email.

Nothing here is part of shopdesk in AWS: a shop's own site and server do this.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import logging
import re
import secrets
import threading
import urllib.parse
from collections.abc import Callable
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from local.hosts import forbidden_problem, foreign_host

log = logging.getLogger("shop")

TOKEN_SECONDS = 3600
COOKIE = "demo_shop_visitor"
_VISITOR = re.compile(r"^[A-Za-z0-9_.:@-]{1,128}$")

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo shop</title>
<style nonce="{nonce}">
  body {{ font-family: system-ui, sans-serif; margin: 0; color: #1b1b1b; }}
  header {{ padding: 16px 24px; background: #f3efe6; display: flex; justify-content: space-between;
            align-items: center; }}
  main {{ padding: 24px; max-width: 760px; }}
  form {{ display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }}
  label {{ font-size: 14px; }}
</style>
</head>
<body>
<header><strong>Demo shop</strong><span>{who}</span></header>
<main>
  <h1>Ceramic mugs, made to order</h1>
  <p>A page of a shop's own site, with shopdesk's web-chat widget on it (the round button in the corner).</p>
  <form method="post" action="/sign-in">
    <label>Name <input name="name" autocomplete="name" value=""></label>
    <label>Email <input name="email" type="email" autocomplete="email" value=""></label>
    <button type="submit">Sign in</button>
    <button type="submit" formaction="/sign-out">Sign out</button>
  </form>
</main>
<script src="{stack}/widget.js" data-api="{stack}" data-token-url="/visitor-token" data-title="Demo shop"
        async></script>
</body>
</html>
"""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def visitor_token(secret: str, claims: dict[str, Any]) -> str:
    """What a shop's server does: B64(payload) "." B64(HMAC-SHA256(secret, B64(payload))) (the documented recipe,
    written here as a shop would, in a few lines of its own)."""
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    return payload + "." + _b64(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest())


class DemoShop:
    """The demo shop's server on its own port: ``start()``, ``url``, ``close()``."""

    def __init__(self, port: int, stack_url: str, secret: str, now: Callable[[], float], media_url: str = "",
                 live_url: str = "", public_base_url: str = "") -> None:
        self.stack_url = stack_url
        self.public_base_url = public_base_url   # its host is served too (local.hosts)
        self.media_url = media_url        # where presigned uploads and pictures go (the emulated S3)
        self.live_url = live_url          # the widget's WebSocket API
        self.secret = secret
        self.now = now                    # the stack's clock: a token's expiry is checked against it
        self.cookie_key = secrets.token_bytes(32)   # the shop's own key for its cookies (a new one each start)
        shop = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "demo-shop"

            def do_GET(self) -> None:
                if not shop.refused(self):
                    shop.get(self)

            def do_POST(self) -> None:
                if not shop.refused(self):
                    shop.post(self)

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("%s %s", self.command, self.path.split("?")[0])

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True, name="shop")

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def refused(self, request: BaseHTTPRequestHandler) -> bool:
        """A request not addressed to the shop by a name it serves (local.hosts), answered 403 before any page: a
        page whose own name an attacker re-points at 127.0.0.1 (DNS rebinding) would otherwise read the shop's
        visitor tokens as same-origin."""
        refused = foreign_host(request.headers.get_all("Host") or [], self.port, self.public_base_url)
        if refused is None:
            return False
        log.warning("%s %s refused: Host %r is not the shop's", request.command, request.path.split("?")[0],
                    ",".join(request.headers.get_all("Host") or []))
        request.close_connection = True     # a POST's body is left unread
        self._send(request, 403, "application/problem+json", forbidden_problem(refused))
        return True

    # ---------------------------------------------------------------- pages

    def get(self, request: BaseHTTPRequestHandler) -> None:
        path = urllib.parse.urlsplit(request.path).path
        visitor, cookie = self._visitor(request)
        if path == "/":
            who = f"Signed in as {html.escape(visitor['name'])}" if visitor.get("name") else "Guest"
            nonce = secrets.token_urlsafe(16)
            body = PAGE.format(stack=html.escape(self.stack_url, quote=True), who=who, nonce=nonce).encode()
            self._send(request, 200, "text/html; charset=utf-8", body, cookie,
                       {"Content-Security-Policy": self.policy(nonce)})
        elif path == "/visitor-token":
            claims = {"visitor_id": visitor["visitor_id"], "exp": int(self.now()) + TOKEN_SECONDS,
                      **{k: visitor[k] for k in ("name", "email") if visitor.get(k)}}
            body = json.dumps({"visitor_token": visitor_token(self.secret, claims)}).encode()
            self._send(request, 200, "application/json", body, cookie, {"Cache-Control": "no-store"})
        elif path == "/favicon.ico":
            self._send(request, 204, "image/x-icon", b"")
        else:
            self._send(request, 404, "text/plain; charset=utf-8", b"Not Found")

    def policy(self, nonce: str) -> str:
        """A strict Content-Security-Policy, as a careful shop sends: the widget needs its script's origin, the
        widget API, its WebSocket API and the media bucket, and nothing inline (no style element, no markup parsed:
        Trusted Types)."""
        media = f" {self.media_url}" if self.media_url else ""
        live = f" {self.live_url}" if self.live_url else ""
        return (f"default-src 'none'; script-src {self.stack_url}; style-src 'nonce-{nonce}'; "
                f"connect-src 'self' {self.stack_url}{live}{media}; img-src 'self' data:{media}; form-action 'self'; "
                "base-uri 'none'; frame-ancestors 'none'; require-trusted-types-for 'script'")

    def post(self, request: BaseHTTPRequestHandler) -> None:
        path = urllib.parse.urlsplit(request.path).path
        length = min(int(request.headers.get("Content-Length") or 0), 4096)
        form = urllib.parse.parse_qs(request.rfile.read(length).decode("utf-8", "replace"))
        if path == "/sign-in":
            email = (form.get("email") or [""])[0].strip().lower()
            name = (form.get("name") or [""])[0].strip()[:200]
            if not _VISITOR.match(email or "-") or "@" not in email:
                self._send(request, 400, "text/plain; charset=utf-8", b"An email address is needed to sign in")
                return
            visitor = {"visitor_id": f"customer:{email}", "name": name or email, "email": email}
        elif path == "/sign-out":
            visitor = {"visitor_id": f"guest:{secrets.token_hex(8)}"}
        else:
            self._send(request, 404, "text/plain; charset=utf-8", b"Not Found")
            return
        self._send(request, 303, "text/plain; charset=utf-8", b"", self._cookie(visitor), {"Location": "/"})

    # ---------------------------------------------------------------- the visitor, in a cookie

    def _visitor(self, request: BaseHTTPRequestHandler) -> tuple[dict[str, str], str | None]:
        """The page's visitor: the cookie's (signed by the shop, so a visitor cannot name another), else a new
        guest with a new cookie."""
        jar = SimpleCookie(request.headers.get("Cookie") or "")
        morsel = jar.get(COOKIE)
        if morsel is not None:
            payload, _, signature = morsel.value.partition(".")
            if hmac.compare_digest(signature, self._signed(payload)):
                try:
                    visitor = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
                    if isinstance(visitor, dict) and _VISITOR.match(str(visitor.get("visitor_id", ""))):
                        return visitor, None
                except ValueError:
                    pass
        visitor = {"visitor_id": f"guest:{secrets.token_hex(8)}"}
        return visitor, self._cookie(visitor)

    def _cookie(self, visitor: dict[str, str]) -> str:
        payload = _b64(json.dumps(visitor, separators=(",", ":")).encode())
        return f"{COOKIE}={payload}.{self._signed(payload)}; Path=/; HttpOnly; SameSite=Lax"

    def _signed(self, payload: str) -> str:
        """The shop's signature of its cookie's payload, so a visitor cannot name another."""
        return _b64(hmac.new(self.cookie_key, payload.encode(), hashlib.sha256).digest())

    @staticmethod
    def _send(request: BaseHTTPRequestHandler, status: int, kind: str, body: bytes, cookie: str | None = None,
              headers: dict[str, str] | None = None) -> None:
        request.send_response(status)
        request.send_header("Content-Type", kind)
        request.send_header("Content-Length", str(len(body)))
        if cookie:
            request.send_header("Set-Cookie", cookie)
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(body)
