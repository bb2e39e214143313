"""Graph API I/O: the WhatsApp and Messenger/Instagram senders, media download and error mapping,
against a small Graph stand-in on 127.0.0.1 (real HTTP, no mocks of urllib)."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from shopdesk.channels.base import OutboundRequest, SendResult, Template
from shopdesk.channels.messenger import MessengerSender, attachment_type
from shopdesk.channels.meta import WINDOW_CLOSED_CODES, GraphClient, graph_error
from shopdesk.channels.whatsapp_cloud import WhatsAppSender, media_type
from shopdesk.errors import BadRequest, ProviderError

TOKEN = "EAAG-test-token"
PHONE_ID = "106540352242922"


class FakeGraph:
    """Records every request; answers from ``routes`` (path -> status, body, headers) or the script."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.routes: dict[str, tuple[int, Any, dict[str, str]]] = {}
        self.script: list[tuple[int, Any]] = []
        self.default: tuple[int, Any] = (200, {"messaging_product": "whatsapp", "messages": [{"id": "wamid.OUT"}]})
        self._lock = threading.Lock()
        self._count = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                split = urlsplit(self.path)
                with fake._lock:
                    fake.requests.append({"method": self.command, "path": split.path, "query": parse_qs(split.query),
                                          "auth": self.headers.get("Authorization"),
                                          "json": json.loads(raw) if raw else None})
                    if split.path in fake.routes:
                        status, body, headers = fake.routes[split.path]
                    elif fake.script:
                        (status, body), headers = fake.script.pop(0), {}
                    else:
                        fake._count += 1
                        status, body = fake.default
                        if isinstance(body, dict) and body.get("messages"):
                            body = {**body, "messages": [{"id": f"wamid.OUT{fake._count}"}]}
                        headers = {}
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    fake = FakeGraph()
    yield fake
    fake.close()


def _client(fake: FakeGraph, **kwargs: Any) -> GraphClient:
    return GraphClient(fake.url, TOKEN, **kwargs)


def _wa(fake: FakeGraph, **kwargs: Any) -> WhatsAppSender:
    return WhatsAppSender(_client(fake, **kwargs), PHONE_ID)


def _req(to: str = "16505551234", **kwargs: Any) -> OutboundRequest:
    return OutboundRequest(channel="whatsapp", to=to, sender=PHONE_ID, **kwargs)


def _error(code: int, message: str = "err", subcode: int | None = None, **extra: Any) -> dict[str, Any]:
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "Ax", **extra}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


def _closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


# ------------------------------------------------------------------------------ WhatsApp: request shape

def test_whatsapp_text(graph):
    result = _wa(graph).send(_req(text="Thanks, we are on it. Teşekkürler 🙏"))
    assert result == SendResult(provider_id="wamid.OUT1", status="accepted")
    [sent] = graph.requests
    assert (sent["method"], sent["path"], sent["auth"]) == ("POST", f"/v21.0/{PHONE_ID}/messages", f"Bearer {TOKEN}")
    assert sent["json"] == {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "16505551234",
                            "type": "text",
                            "text": {"preview_url": False, "body": "Thanks, we are on it. Teşekkürler 🙏"}}


def test_whatsapp_reply_context(graph):
    _wa(graph).send(_req(text="Yes, in blue", reply_context="wamid.INBOUND"))
    assert graph.requests[0]["json"]["context"] == {"message_id": "wamid.INBOUND"}


@pytest.mark.parametrize("to", ["+16505551234", "whatsapp:+16505551234", "16505551234"])
def test_whatsapp_recipient_is_digits(graph, to):
    _wa(graph).send(_req(to=to, text="hi"))
    assert graph.requests[0]["json"]["to"] == "16505551234"


def test_whatsapp_business_scoped_user_goes_in_recipient(graph):
    _wa(graph).send(_req(to="US.13491208655302741918", text="hi"))
    body = graph.requests[0]["json"]
    assert body["recipient"] == "US.13491208655302741918" and "to" not in body


@pytest.mark.parametrize(("url", "kind"), [
    ("https://cdn.example/p/shoe.JPG", "image"), ("https://cdn.example/p/shoe.png?v=2", "image"),
    ("https://cdn.example/v/clip.mp4", "video"), ("https://cdn.example/a/note.ogg", "audio"),
    ("https://cdn.example/a/note.mp3", "audio"), ("https://cdn.example/d/invoice.pdf", "document"),
    ("https://cdn.example/download?id=7", "document"), ("https://cdn.example/s/x.webp", "sticker"),
])
def test_whatsapp_media_type_from_extension(url, kind):
    assert media_type(url) == kind


def test_whatsapp_image_carries_the_text_as_caption(graph):
    _wa(graph).send(_req(text="Here it is", media_urls=("https://cdn.example/shoe.jpg",), reply_context="wamid.IN"))
    [sent] = graph.requests
    assert sent["json"] == {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "16505551234",
                            "context": {"message_id": "wamid.IN"}, "type": "image",
                            "image": {"link": "https://cdn.example/shoe.jpg", "caption": "Here it is"}}


def test_whatsapp_document_has_its_filename(graph):
    _wa(graph).send(_req(media_urls=("https://cdn.example/d/fatura%20123.pdf",)))
    assert graph.requests[0]["json"]["document"] == {"link": "https://cdn.example/d/fatura%20123.pdf",
                                                     "filename": "fatura 123.pdf"}


def test_whatsapp_audio_cannot_take_a_caption_so_text_goes_first(graph):
    result = _wa(graph).send(_req(text="Listen", media_urls=("https://cdn.example/a.mp3", "https://cdn.example/b.jpg")))
    kinds = [r["json"]["type"] for r in graph.requests]
    assert kinds == ["text", "audio", "image"]
    assert "caption" not in graph.requests[2]["json"]["image"]
    assert result.provider_id == "wamid.OUT1"


def test_whatsapp_template_with_body_parameters(graph):
    _wa(graph).send(_req(template=Template("order_update", "en_US", ["#123", "Tuesday"])))
    assert graph.requests[0]["json"] == {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": "16505551234", "type": "template",
        "template": {"name": "order_update", "language": {"code": "en_US"},
                     "components": [{"type": "body", "parameters": [{"type": "text", "text": "#123"},
                                                                    {"type": "text", "text": "Tuesday"}]}]}}


def test_whatsapp_template_without_parameters_has_no_components(graph):
    _wa(graph).send(_req(template=Template("hello_world", "en_US")))
    assert graph.requests[0]["json"]["template"] == {"name": "hello_world", "language": {"code": "en_US"}}


def test_whatsapp_empty_reply_is_refused_before_any_request(graph):
    with pytest.raises(BadRequest):
        _wa(graph).send(_req())
    assert graph.requests == []


def test_whatsapp_mark_read(graph):
    _wa(graph).mark_read("wamid.IN")
    assert graph.requests[0]["json"] == {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN"}


def test_appsecret_proof_is_added_when_configured(graph):
    _wa(graph, app_secret="test_app_secret").send(_req(text="hi"))
    proof = hmac.new(b"test_app_secret", TOKEN.encode(), hashlib.sha256).hexdigest()
    assert graph.requests[0]["query"] == {"appsecret_proof": [proof]}


def test_other_graph_version(graph):
    _wa(graph, version="v23.0").send(_req(text="hi"))
    assert graph.requests[0]["path"] == f"/v23.0/{PHONE_ID}/messages"


# ------------------------------------------------------------------------------ WhatsApp: errors

@pytest.mark.parametrize(("status", "body", "code", "reason", "retryable"), [
    (400, _error(131047, "(#131047) Re-engagement message"), "131047",
     "The 24-hour window is closed: send an approved template", False),
    (400, _error(131026, "Message Undeliverable"), "131026", "not on WhatsApp", False),
    (400, _error(131049), "131049", "24 hours", False),
    (400, _error(131050), "131050", "stopped marketing", False),
    (400, _error(131051), "131051", "does not support", False),
    (400, _error(131052), "131052", "download", False),
    (400, _error(131053), "131053", "upload", False),
    (400, _error(131048), "131048", "spam", False),
    (400, _error(132000), "132000", "parameters", False),
    (400, _error(132001), "132001", "template does not exist", False),
    (401, _error(190, "Error validating access token"), "190", "access token", False),
    (429, _error(130429, "Rate limit hit"), "130429", "throughput", True),
    (400, _error(131056), "131056", "short time", True),
    (400, _error(80007), "80007", "rate limit", True),
    (400, _error(4, "Application request limit reached"), "4", "rate limit", True),
    (500, _error(1, "An unknown error occurred"), "1", "An unknown error occurred", True),
    (400, _error(131000, "Something went wrong", is_transient=True), "131000", "unknown reason", True),
    (400, _error(100, "Invalid parameter", error_user_msg="The phone number is invalid"), "100",
     "parameter", False),
    (400, _error(999, "(#999) Brand new error", error_data={"details": "Specific details"}), "999",
     "Specific details", False),
])
def test_whatsapp_error_answers(graph, status, body, code, reason, retryable):
    graph.script.append((status, body))
    with pytest.raises(ProviderError) as caught:
        _wa(graph).send(_req(text="hi"))
    error = caught.value
    assert (error.code, error.retryable, error.http_status) == (code, retryable, status)
    assert reason in error.message


def test_error_without_error_object_uses_the_http_status(graph):
    graph.script.append((503, {"unexpected": True}))
    with pytest.raises(ProviderError) as caught:
        _wa(graph).send(_req(text="hi"))
    assert caught.value.retryable is True and caught.value.code is None and "503" in caught.value.message


def test_error_body_that_is_not_json(graph):
    graph.script.append((502, b"<html>Bad gateway</html>"))
    with pytest.raises(ProviderError) as caught:
        _wa(graph).send(_req(text="hi"))
    assert caught.value.retryable is True


def test_retry_after_header_is_kept(graph):
    graph.routes[f"/v21.0/{PHONE_ID}/messages"] = (429, _error(130429), {"Retry-After": "30"})
    with pytest.raises(ProviderError) as caught:
        _wa(graph).send(_req(text="hi"))
    assert caught.value.retry_after == 30.0


def test_network_failure_is_retryable():
    sender = WhatsAppSender(GraphClient(_closed_port(), TOKEN, timeout=2), PHONE_ID)
    with pytest.raises(ProviderError) as caught:
        sender.send(_req(text="hi"))
    assert caught.value.retryable is True and caught.value.code is None


def test_success_without_message_id_is_not_retried(graph):
    graph.script.append((200, {"messaging_product": "whatsapp", "messages": []}))
    with pytest.raises(ProviderError) as caught:
        _wa(graph).send(_req(text="hi"))
    assert caught.value.retryable is False


def test_failure_after_a_first_part_was_sent_is_not_retried(graph):
    graph.script += [(200, {"messages": [{"id": "wamid.first"}]}), (429, _error(130429))]
    with pytest.raises(ProviderError) as caught:
        _wa(graph).send(_req(text="Listen", media_urls=("https://cdn.example/a.mp3",)))
    assert caught.value.retryable is False and caught.value.message.startswith("Only part of the reply was sent")
    assert caught.value.code == "130429"


def test_error_with_http_200_is_still_an_error(graph):
    graph.script.append((200, _error(131047)))
    with pytest.raises(ProviderError) as caught:
        _wa(graph).send(_req(text="hi"))
    assert caught.value.code == "131047"


# ------------------------------------------------------------------------------ Messenger / Instagram

def _ms(fake: FakeGraph, page_id: str = "me", provider: str = "messenger", **kwargs: Any) -> MessengerSender:
    fake.default = (200, {"recipient_id": "5678", "message_id": "m_OUT"})
    return MessengerSender(_client(fake, **kwargs), page_id, provider)


def test_messenger_text(graph):
    result = _ms(graph).send(OutboundRequest(channel="messenger", to="5678", sender="me", text="hello, world! 👋"))
    assert result == SendResult(provider_id="m_OUT", status="accepted")
    [sent] = graph.requests
    assert (sent["path"], sent["auth"]) == ("/v21.0/me/messages", f"Bearer {TOKEN}")
    assert sent["json"] == {"recipient": {"id": "5678"}, "messaging_type": "RESPONSE",
                            "message": {"text": "hello, world! 👋"}}


def test_messenger_access_token_in_the_query_as_documented(graph):
    _ms(graph, token_in_query=True).send(OutboundRequest(channel="messenger", to="5678", sender="me", text="hi"))
    [sent] = graph.requests
    assert sent["query"] == {"access_token": [TOKEN]} and sent["auth"] is None


def test_messenger_human_agent_tag(graph):
    _ms(graph).send(OutboundRequest(channel="messenger", to="5678", sender="me", text="Sorry for the wait",
                                    tag="HUMAN_AGENT"))
    assert graph.requests[0]["json"] == {"recipient": {"id": "5678"}, "messaging_type": "MESSAGE_TAG",
                                         "tag": "HUMAN_AGENT", "message": {"text": "Sorry for the wait"}}


def test_messenger_page_id_path_and_attachments(graph):
    _ms(graph, page_id="1234567890").send(OutboundRequest(
        channel="messenger", to="5678", sender="1234567890", text="Photos:",
        media_urls=("https://cdn.example/a.jpg", "https://cdn.example/manual.pdf")))
    assert [r["path"] for r in graph.requests] == ["/v21.0/1234567890/messages"] * 3
    assert [r["json"]["message"] for r in graph.requests] == [
        {"text": "Photos:"},
        {"attachment": {"type": "image", "payload": {"url": "https://cdn.example/a.jpg", "is_reusable": False}}},
        {"attachment": {"type": "file", "payload": {"url": "https://cdn.example/manual.pdf", "is_reusable": False}}},
    ]


@pytest.mark.parametrize(("url", "kind"), [("https://x/a.gif", "image"), ("https://x/a.mp4", "video"),
                                           ("https://x/a.mp3", "audio"), ("https://x/a.docx", "file")])
def test_messenger_attachment_type(url, kind):
    assert attachment_type(url) == kind


def test_instagram_uses_the_same_send_api(graph):
    sender = _ms(graph, page_id="17841400000000000", provider="instagram")
    result = sender.send(OutboundRequest(channel="instagram", to="IGSID1", sender="17841400000000000", text="Merhaba"))
    assert result.provider_id == "m_OUT"
    assert graph.requests[0]["path"] == "/v21.0/17841400000000000/messages"
    assert graph.requests[0]["json"]["recipient"] == {"id": "IGSID1"}


@pytest.mark.parametrize(("status", "body", "code", "reason", "retryable"), [
    (400, _error(10, "(#10) This message is sent outside of allowed window.", 2018278), "10/2018278",
     "24-hour window is closed", False),
    (400, _error(10, "(#10) Application does not have permission"), "10", "permission", False),
    (400, _error(551, "This person isn't available right now.", 1545041), "551",
     "This person isn't available right now", False),
    (400, _error(613, "Calls to this api have exceeded the rate limit."), "613", "rate limit", True),
    (400, _error(4), "4", "rate limit", True),
    (400, _error(190, "Invalid OAuth access token."), "190", "access token", False),
    (400, _error(100, "No matching user found", 2018001), "100/2018001", "No matching user found", False),
])
def test_messenger_error_answers(graph, status, body, code, reason, retryable):
    sender = _ms(graph)
    graph.script.append((status, body))
    with pytest.raises(ProviderError) as caught:
        sender.send(OutboundRequest(channel="messenger", to="5678", sender="me", text="hi"))
    assert (caught.value.code, caught.value.retryable) == (code, retryable)
    assert reason in caught.value.message


def test_messenger_network_failure_is_retryable():
    sender = MessengerSender(GraphClient(_closed_port(), TOKEN, timeout=2))
    with pytest.raises(ProviderError) as caught:
        sender.send(OutboundRequest(channel="messenger", to="5678", sender="me", text="hi"))
    assert caught.value.retryable is True


def test_messenger_empty_reply_is_refused(graph):
    with pytest.raises(BadRequest):
        _ms(graph).send(OutboundRequest(channel="messenger", to="5678", sender="me"))


def test_messenger_success_without_message_id_is_not_retried(graph):
    sender = _ms(graph)
    graph.script.append((200, {"recipient_id": "5678"}))
    with pytest.raises(ProviderError) as caught:
        sender.send(OutboundRequest(channel="messenger", to="5678", sender="me", text="hi"))
    assert caught.value.retryable is False


def test_messenger_sender_rejects_an_unknown_provider(graph):
    with pytest.raises(ValueError):
        MessengerSender(_client(graph), "me", "whatsapp_cloud")


# ------------------------------------------------------------------------------ fetch_media

def _media_routes(fake: FakeGraph, content: bytes, *, declared: int | None = None, mime: str = "image/jpeg") -> None:
    info: dict[str, Any] = {"messaging_product": "whatsapp", "url": f"{fake.url}/lookaside/whatsapp/abc?ext=1",
                            "mime_type": mime, "sha256": hashlib.sha256(content).hexdigest(), "id": "1003383421387256"}
    if declared is not None:
        info["file_size"] = declared
    fake.routes["/v21.0/1003383421387256"] = (200, info, {})
    fake.routes["/lookaside/whatsapp/abc"] = (200, content, {"Content-Type": "application/octet-stream"})


def test_fetch_media_is_a_two_step_download_with_the_bearer_token(graph):
    content = b"\xff\xd8\xff" + b"jpeg" * 100
    _media_routes(graph, content, declared=len(content))
    media = _client(graph).fetch_media("1003383421387256", filename="photo.jpg")
    assert (media.content, media.content_type, media.filename) == (content, "image/jpeg", "photo.jpg")
    first, second = graph.requests
    assert (first["method"], first["path"], first["auth"]) == ("GET", "/v21.0/1003383421387256", f"Bearer {TOKEN}")
    assert (second["method"], second["path"], second["auth"]) == ("GET", "/lookaside/whatsapp/abc", f"Bearer {TOKEN}")
    assert second["query"] == {"ext": ["1"]}


def test_fetch_media_refuses_a_declared_size_over_the_limit_without_downloading(graph):
    _media_routes(graph, b"x" * 10, declared=50_000_000)
    with pytest.raises(ProviderError) as caught:
        _client(graph).fetch_media("1003383421387256", max_bytes=20_000_000)
    assert (caught.value.code, caught.value.retryable) == ("too_large", False)
    assert len(graph.requests) == 1


def test_fetch_media_refuses_content_over_the_limit(graph):
    _media_routes(graph, b"x" * 5000, declared=None)
    with pytest.raises(ProviderError) as caught:
        _client(graph).fetch_media("1003383421387256", max_bytes=1000)
    assert (caught.value.code, caught.value.retryable) == ("too_large", False)


def test_fetch_media_of_an_unknown_id_is_a_provider_error(graph):
    graph.script.append((400, _error(100, "Unsupported get request.", 33)))
    with pytest.raises(ProviderError) as caught:
        _client(graph).fetch_media("000")
    assert caught.value.code == "100" and caught.value.retryable is False


@pytest.mark.parametrize(("status", "retryable"), [(404, False), (403, False), (500, True)])
def test_fetch_media_download_failures(graph, status, retryable):
    _media_routes(graph, b"x")
    graph.routes["/lookaside/whatsapp/abc"] = (status, b"no", {})
    with pytest.raises(ProviderError) as caught:
        _client(graph).fetch_media("1003383421387256")
    assert caught.value.retryable is retryable


def test_fetch_media_without_a_url_is_refused(graph):
    graph.script.append((200, {"id": "1", "mime_type": "image/jpeg"}))
    with pytest.raises(ProviderError):
        _client(graph).fetch_media("1")


@pytest.mark.parametrize("media_id", ["", "../me", "1?fields=x"])
def test_fetch_media_refuses_what_is_not_a_media_id(graph, media_id):
    with pytest.raises(BadRequest):
        _client(graph).fetch_media(media_id)
    assert graph.requests == []


# ------------------------------------------------------------------------------ graph_error on its own

@pytest.mark.parametrize(("code", "subcode", "key"), [(131047, None, "131047"), (10, 2018278, "10/2018278"),
                                                      (131047, 2494010, "131047"), ("190", None, "190")])
def test_error_codes_keep_the_subcode_only_where_it_has_a_meaning(code, subcode, key):
    assert graph_error(400, _error(code, subcode=subcode)).code == key


def test_window_closed_codes():
    assert {"131047", "10/2018278"} == WINDOW_CLOSED_CODES
    assert graph_error(400, _error(10, subcode=2018278)).code in WINDOW_CLOSED_CODES


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retryable_whatever_the_code(status):
    assert graph_error(status, _error(131047)).retryable is True


def test_missing_body_is_handled():
    error = graph_error(400, None)
    assert error.code is None and error.retryable is False and "400" in error.message


@pytest.mark.parametrize(("provider", "carried"), [("messenger", True), ("instagram", False)])
def test_a_messenger_reply_carries_our_reference_as_metadata_for_its_echo(graph, provider, carried):
    reference = "c_1-20260501090000000-m_1-0"
    _ms(graph, provider=provider).send(OutboundRequest(channel=provider, to="5678", sender="me", text="Shipped",
                                                       media_urls=("https://cdn.example/a.jpg",), reference=reference))
    assert [r["json"]["message"].get("metadata") for r in graph.requests] == [reference if carried else None] * 2
