"""The names the local stack answers to, one check for every listener it opens.

A page open in the developer's browser reaches loopback, and one whose own name an attacker re-points at 127.0.0.1
(DNS rebinding) is same-origin with whatever listens there: it reads the answers. A browser sends the name it
resolved as ``Host``, so each listener (the gateway, the emulated AWS, the WebSocket API's server, the demo shop)
answers only requests addressed to 127.0.0.1, localhost or [::1] at its own port, or to PUBLIC_BASE_URL's host (what
a tunnel forwards), as dev servers check it (Vite's and webpack-dev-server's allowed hosts). A request without a
``Host`` (an HTTP/1.0 client) is no browser's and is served.
"""

from __future__ import annotations

import json
import urllib.parse

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def _public_address(public_base_url: str) -> tuple[str, str, int, int] | None:
    """PUBLIC_BASE_URL's scheme, host (an IPv6 one in brackets), port and its scheme's default port, if one is set."""
    split = urllib.parse.urlsplit(public_base_url)
    if not public_base_url or not split.hostname:
        return None
    name = f"[{split.hostname}]" if ":" in split.hostname else split.hostname
    default = 443 if split.scheme == "https" else 80
    return split.scheme, name, split.port or default, default


def served_hosts(port: int, public_base_url: str) -> frozenset[str]:
    """The ``Host`` values of requests meant for the listener at ``port``: the loopback names with that port, and
    PUBLIC_BASE_URL's host (what a tunnel forwards). A browser sends the name it resolved, so a page whose own name an
    attacker re-points at 127.0.0.1 (DNS rebinding) sends its own name here and is refused."""
    hosts = {f"{name}:{port}" for name in LOOPBACK_NAMES} | (set(LOOPBACK_NAMES) if port == 80 else set())
    public = _public_address(public_base_url)
    if public is not None:
        _, name, public_port, default = public
        hosts |= {f"{name}:{public_port}"} | ({name} if public_port == default else set())
    return frozenset(hosts)


def own_origins(port: int, public_base_url: str) -> frozenset[str]:
    """The origins of the stack's own pages (the inbox it serves, by each loopback name, and PUBLIC_BASE_URL's)."""
    origins = {f"http://{name}:{port}" for name in LOOPBACK_NAMES}
    public = _public_address(public_base_url)
    if public is not None:
        scheme, name, public_port, default = public
        origins.add(f"{scheme}://{name}" if public_port == default else f"{scheme}://{name}:{public_port}")
    return frozenset(origins)


def foreign_host(hosts: list[str], port: int, public_base_url: str) -> str | None:
    """Why a request with these ``Host`` header values is not served by the listener at ``port``, or None when it is
    (no ``Host`` at all, or one of its names). Two values are one the listener does not serve."""
    if not hosts:
        return None
    host = ",".join(hosts)
    if host.strip().lower() in served_hosts(port, public_base_url):
        return None
    return (f"the local stack answers only requests addressed to it (127.0.0.1, localhost or [::1] at port {port}, "
            f"or PUBLIC_BASE_URL's host), not to {host!r}")


def forbidden_problem(detail: str) -> bytes:
    """The body of a listener's refusal: a problem (RFC 9457) that says why."""
    return json.dumps({"type": "about:blank", "title": "Forbidden", "status": 403, "detail": detail}).encode()
