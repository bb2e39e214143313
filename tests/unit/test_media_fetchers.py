"""Media fetchers (logic/media.py): Twilio's Basic auth goes only to Twilio's API host, a Messenger or Instagram
link is fetched only from a trusted host, and a redirect never carries the credentials elsewhere."""

from __future__ import annotations

import base64
import io
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import shopdesk.logic.media as media_logic
from shopdesk.channels.base import Media, _Redirects, http_bytes
from shopdesk.errors import ProviderError
from shopdesk.logic.media import twilio_fetcher, url_fetcher
from shopdesk.models import Attachment

SID, TOKEN = "AC0123456789abcdef0123456789abcdef", "twilio-auth-token"
BASIC = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
MEDIA = "/2010-04-01/Accounts/AC0123/Messages/MM1/Media/ME1"


class Server:
    """A loopback HTTP server: a path answers a file or redirects; every request is recorded with its auth."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.requests: list[dict[str, Any]] = []
        self.redirects: dict[str, str] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append({"path": self.path, "auth": self.headers.get("Authorization"),
                                        "cookie": self.headers.get("Cookie")})
                if self.path in server.redirects:
                    self.send_response(307)
                    self.send_header("Location", server.redirects[self.path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", "4")
                self.end_headers()
                self.wfile.write(b"\x89PNG")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://{host}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def twilio() -> Iterator[Server]:
    server = Server()
    yield server
    server.close()


@pytest.fixture
def elsewhere() -> Iterator[Server]:
    server = Server("localhost")        # another host than 127.0.0.1, on another port
    yield server
    server.close()


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, str]]]:
    """Every download the fetchers start, instead of the network: (url, headers)."""
    seen: list[tuple[str, dict[str, str]]] = []

    def fake(url: str, *, headers: dict[str, str] | None = None, **_: Any) -> Media:
        seen.append((url, dict(headers or {})))
        return Media(b"\x89PNG", "image/png")
    monkeypatch.setattr(media_logic, "http_bytes", fake)
    return seen


def _attachment(url: str) -> Attachment:
    return Attachment(url=url, content_type="image/png")


def test_a_twilio_media_url_on_twilio_s_api_host_is_fetched_with_the_account_s_basic_auth(downloads: list) -> None:
    fetch = twilio_fetcher("https://api.twilio.com", SID, TOKEN)
    fetch(_attachment(f"https://api.twilio.com{MEDIA}"), 1_000_000)
    assert downloads == [(f"https://api.twilio.com{MEDIA}", {"Authorization": BASIC})]


@pytest.mark.parametrize("url", [
    f"https://api.twilio.com.evil.example{MEDIA}",        # a lookalike: Twilio's host as a subdomain
    f"https://evilapi.twilio.com.example{MEDIA}",
    f"https://api-twilio.com{MEDIA}",
    f"https://api.twilio.co{MEDIA}",
    f"https://evil.example/api.twilio.com{MEDIA}",
    f"https://api.twilio.com@evil.example{MEDIA}",         # userinfo: the host is evil.example
    f"https://api.twilio.com:443@evil.example{MEDIA}",
    f"https://user:pass@api.twilio.com{MEDIA}",            # a user part, even on Twilio's host
    f"http://api.twilio.com{MEDIA}",                       # plain http: the auth would travel in clear
    f"https://api.twilio.com:8443{MEDIA}",                 # another port
    f"https://api.twilio.com:x{MEDIA}",
    f"https://169.254.169.254/latest/meta-data{MEDIA}",    # IP literals: the instance metadata, loopback
    f"https://127.0.0.1{MEDIA}",
    f"https://[::1]{MEDIA}",
    f"ftp://api.twilio.com{MEDIA}",
    f"//api.twilio.com{MEDIA}",
    "",
])
def test_a_media_url_not_on_twilio_s_api_host_is_never_fetched(url: str, downloads: list) -> None:
    fetch = twilio_fetcher("https://api.twilio.com", SID, TOKEN)
    with pytest.raises(ProviderError) as raised:
        fetch(_attachment(url), 1_000_000)
    assert raised.value.code == "foreign_url" and not raised.value.retryable
    assert downloads == []


def test_twilio_s_redirect_to_another_host_is_followed_without_the_auth(twilio: Server, elsewhere: Server) -> None:
    # Twilio answers a media URL with a redirect to a short-lived link on another host
    twilio.redirects[MEDIA] = f"{elsewhere.url}/file.png?Signature=x"
    fetch = twilio_fetcher(twilio.url, SID, TOKEN)
    media = fetch(_attachment(f"{twilio.url}{MEDIA}"), 1_000_000)
    assert media.content == b"\x89PNG"
    assert [r["auth"] for r in twilio.requests] == [BASIC]
    assert elsewhere.requests == [{"path": "/file.png?Signature=x", "auth": None, "cookie": None}]


def test_twilio_s_redirect_on_its_own_host_keeps_the_auth(twilio: Server) -> None:
    twilio.redirects[MEDIA] = f"{twilio.url}/moved{MEDIA}"
    twilio_fetcher(twilio.url, SID, TOKEN)(_attachment(f"{twilio.url}{MEDIA}"), 1_000_000)
    assert [(r["path"], r["auth"]) for r in twilio.requests] == [(MEDIA, BASIC), (f"/moved{MEDIA}", BASIC)]


@pytest.mark.parametrize("url", [
    "https://scontent.xx.fbcdn.net/v/photo.jpg",
    "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1",
    "https://fbcdn.net/photo.jpg",
])
def test_a_meta_cdn_link_is_fetched_without_credentials(url: str, downloads: list) -> None:
    url_fetcher("Messenger", ["fbcdn.net", "fbsbx.com"])(_attachment(url), 1_000_000)
    assert downloads == [(url, {})]


@pytest.mark.parametrize("url", [
    "https://fbcdn.net.evil.example/photo.jpg",
    "https://evilfbcdn.net/photo.jpg",
    "https://fbcdn.net@evil.example/photo.jpg",
    "https://169.254.169.254/latest/meta-data/",
    "http://169.254.169.254/latest/meta-data/",
    "https://127.0.0.1/photo.jpg",
    "ftp://scontent.fbcdn.net/photo.jpg",
    "file:///etc/passwd",
    "",
])
def test_a_messenger_link_off_the_trusted_hosts_is_never_fetched(url: str, downloads: list) -> None:
    with pytest.raises(ProviderError) as raised:
        url_fetcher("Messenger", ["fbcdn.net", "fbsbx.com"])(_attachment(url), 1_000_000)
    assert raised.value.code == "foreign_url" and not raised.value.retryable
    assert downloads == []


def test_a_trusted_link_redirected_off_the_trusted_hosts_is_not_followed(twilio: Server, elsewhere: Server) -> None:
    # the trusted host (127.0.0.1 here) redirects to one that is not (localhost)
    twilio.redirects["/photo.jpg"] = f"{elsewhere.url}/latest/meta-data/"
    with pytest.raises(ProviderError) as raised:
        url_fetcher("Messenger", ["127.0.0.1"])(_attachment(f"{twilio.url}/photo.jpg"), 1_000_000)
    assert raised.value.code == "foreign_url" and not raised.value.retryable
    assert len(twilio.requests) == 1 and elsewhere.requests == []


def test_a_trusted_link_redirected_to_a_trusted_host_is_followed(twilio: Server) -> None:
    twilio.redirects["/photo.jpg"] = f"{twilio.url}/cdn/photo.jpg"
    media = url_fetcher("Messenger", ["127.0.0.1"])(_attachment(f"{twilio.url}/photo.jpg"), 1_000_000)
    assert media.content == b"\x89PNG" and [r["path"] for r in twilio.requests] == ["/photo.jpg", "/cdn/photo.jpg"]


def test_a_download_s_credentials_never_follow_a_redirect_to_another_origin(twilio: Server, elsewhere: Server) -> None:
    # WhatsApp's download sends the Bearer token to the URL Meta's Graph API gave; a redirect elsewhere loses it
    twilio.redirects["/media"] = f"{elsewhere.url}/file"
    http_bytes(f"{twilio.url}/media", headers={"Authorization": "Bearer meta-token", "Cookie": "c=1"},
               max_bytes=1_000_000, provider="WhatsApp")
    assert (twilio.requests[0]["auth"], twilio.requests[0]["cookie"]) == ("Bearer meta-token", "c=1")
    assert elsewhere.requests == [{"path": "/file", "auth": None, "cookie": None}]


def test_an_https_download_is_never_redirected_to_plain_http() -> None:
    request = urllib.request.Request("https://lookaside.fbsbx.com/media", headers={"Authorization": "Bearer t"})
    with pytest.raises(ProviderError) as raised:
        _Redirects("WhatsApp", None).redirect_request(request, io.BytesIO(), 302, "Found", {},
                                                      "http://lookaside.fbsbx.com/media")
    assert raised.value.code == "foreign_url"
