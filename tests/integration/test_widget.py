"""The web-chat widget API the way a shop's page uses it: the shop vouches for the visitor, the
widget starts a session, writes, uploads, and polls for the agent's replies."""

from __future__ import annotations

import json
import time

from shopdesk.channels import webchat
from tests.integration.helpers import agent, online
from tests.support import http_event

ORIGIN = "https://shop.example"


def _call(desk, method, path, body=None, session=None, origin=ORIGIN, query=""):
    headers = {"content-type": "application/json"}
    if origin:
        headers["origin"] = origin
    if session:
        headers["authorization"] = f"Bearer {session}"
    result = desk.invoke("webchat", http_event(method, path, json.dumps(body) if body is not None else None,
                                               headers, query=query))
    return result["statusCode"], json.loads(result["body"]) if result.get("body") else None, result


def _visitor_token(visitor_id="cust-42", secret="test-visitor-secret"):
    return webchat.sign_visitor_token({"visitor_id": visitor_id, "name": "Ada", "exp": int(time.time()) + 600},
                                      secret)


def _session(desk, visitor_id="cust-42"):
    status, body, _ = _call(desk, "POST", "/widget/sessions", {"visitor_token": _visitor_token(visitor_id)})
    assert status == 201, body
    return body["session"]


def test_visitor_writes_agent_answers_visitor_sees_the_answer_but_not_notes(desk):
    online(desk, "alice")
    session = _session(desk)
    status, sent, result = _call(desk, "POST", "/widget/messages",
                                 {"client_message_id": "w1", "text": "Do you ship to Bratislava?"}, session)
    assert status == 201 and sent["status"] == "stored"
    assert result["headers"]["Access-Control-Allow-Origin"] == ORIGIN
    # the widget retries the same post: no second message
    status, again, _ = _call(desk, "POST", "/widget/messages", {"client_message_id": "w1", "text": "x"}, session)
    assert status == 200 and again["status"] == "duplicate"
    conv = sent["conversation_id"]
    desk.drain_queue(desk.work_queue_url, "router")
    agent(desk, "POST", f"/agent/conversations/{conv}/notes", "alice", {"text": "internal: VIP"})
    assert agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "Yes, in 2 days."})[0] == 202
    desk.drain_queue(desk.outbound_queue_url, "dispatcher")
    status, polled, _ = _call(desk, "GET", "/widget/messages", session=session)
    assert status == 200
    assert [(m["from"], m["text"]) for m in polled["items"]] == [("visitor", "Do you ship to Bratislava?"),
                                                                ("agent", "Yes, in 2 days.")]
    after = polled["items"][0]["created_at"]
    _, newer, _ = _call(desk, "GET", "/widget/messages", session=session, query=f"after={after}")
    assert [m["text"] for m in newer["items"]] == ["Yes, in 2 days."]


def test_a_resolved_chat_stays_in_the_widget_until_the_visitor_writes_again(desk):
    # Given a visitor who wrote before their session named any conversation, and an agent who answered
    online(desk, "alice")
    session = _session(desk, "visitor-resolved")
    _, sent, _ = _call(desk, "POST", "/widget/messages", {"client_message_id": "r1", "text": "Is the mug blue?"},
                       session)
    conv = sent["conversation_id"]
    desk.drain_queue(desk.work_queue_url, "router")
    assert agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "Yes, navy blue."})[0] == 202
    desk.drain_queue(desk.outbound_queue_url, "dispatcher")
    # When the agent resolves the conversation
    assert agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "resolved"})[0] == 200
    # Then the chat still shows it, the agent's last reply included, in this session and in a new one (a reload)
    for held in (session, _session(desk, "visitor-resolved")):
        status, polled, _ = _call(desk, "GET", "/widget/messages", session=held)
        assert status == 200 and polled["conversation_id"] == conv, polled
        assert [m["text"] for m in polled["items"]] == ["Is the mug blue?", "Yes, navy blue."]
    # And what the visitor writes next starts the next conversation, which the chat shows from then on
    _, again, _ = _call(desk, "POST", "/widget/messages", {"client_message_id": "r2", "text": "And the cup?"}, session)
    assert again["conversation_id"] != conv
    _, polled, _ = _call(desk, "GET", "/widget/messages", session=session)
    assert polled["conversation_id"] == again["conversation_id"]
    assert [m["text"] for m in polled["items"]] == ["And the cup?"]


def test_foreign_origin_forged_token_and_missing_session_are_refused(desk):
    start = {"visitor_token": _visitor_token()}
    assert _call(desk, "POST", "/widget/sessions", start, origin="https://evil.example")[0] == 403
    assert _call(desk, "POST", "/widget/sessions", start, origin=None)[0] == 403
    forged = {"visitor_token": _visitor_token(secret="wrong-secret-123")}
    assert _call(desk, "POST", "/widget/sessions", forged)[0] == 401
    assert _call(desk, "POST", "/widget/messages", {"client_message_id": "w1", "text": "hi"})[0] == 401
    assert _call(desk, "POST", "/widget/messages", {"client_message_id": "w1", "text": "hi"}, session="a.b")[0] == 401


def test_preflight_answers_only_allowed_origins(desk):
    status, _, result = _call(desk, "OPTIONS", "/widget/messages")
    assert status == 204 and "Authorization" in result["headers"]["Access-Control-Allow-Headers"]
    assert _call(desk, "OPTIONS", "/widget/messages", origin="https://evil.example")[0] == 403
    # every route the widget calls, two segments deep too (its email code's confirmation)
    for path in ("/widget/sessions", "/widget/attachments", "/widget/email-verification",
                 "/widget/email-verification/confirm", "/widget/conversations"):
        status, _, result = _call(desk, "OPTIONS", path)
        assert status == 204 and result["headers"]["Access-Control-Allow-Origin"] == ORIGIN, path


def test_bursts_are_rate_limited_with_retry_after(desk):
    session = _session(desk, "burst-1")
    codes = [_call(desk, "POST", "/widget/messages", {"client_message_id": f"b{i}", "text": "spam"}, session)[0]
             for i in range(8)]
    assert codes[:5] == [201] * 5 and 429 in codes[5:]
    _, body, result = _call(desk, "POST", "/widget/messages", {"client_message_id": "b99", "text": "x"}, session)
    assert int(result["headers"]["Retry-After"]) >= 1 and "too many" in body["detail"]
    # and the widget's script on the shop's page may read it (a cross-origin answer's header, exposed)
    assert result["headers"]["Access-Control-Expose-Headers"] == "Retry-After"


def test_an_empty_message_is_400_and_a_malformed_one_422_both_problems_the_widget_may_read(desk):
    session = _session(desk, "bad-1")
    status, empty, result = _call(desk, "POST", "/widget/messages", {"client_message_id": "e1", "text": "   "}, session)
    assert (status, empty["title"], empty["detail"]) == (400, "Bad request", "The message is empty")
    assert result["headers"]["Content-Type"] == "application/problem+json"
    assert result["headers"]["Access-Control-Allow-Origin"] == ORIGIN
    status, malformed, result = _call(desk, "POST", "/widget/messages", {"text": "no id"}, session)
    assert status == 422 and [e["loc"] for e in malformed["errors"]] == [["body", "client_message_id"]]
    assert result["headers"]["Access-Control-Allow-Origin"] == ORIGIN
    # an attachment must be the file an upload answered: a bare string is refused, never a crash
    status, _, _ = _call(desk, "POST", "/widget/messages", {"client_message_id": "e2", "attachments": ["x"]}, session)
    assert status == 422


def test_a_foreign_origin_reads_no_problem_of_the_widget(desk):
    status, refused, result = _call(desk, "POST", "/widget/sessions", {"visitor_token": "x" * 20},
                                    origin="https://evil.example")
    assert status == 403 and refused["type"] == "/problems/forbidden" and "evil.example" in refused["detail"]
    assert "Access-Control-Allow-Origin" not in result["headers"]


# a valid call of each widget route (the email code's confirmation: a wrong code, a 400)
_WIDGET_CALLS = {
    ("POST", "/widget/sessions"): {"visitor_token": None},
    ("POST", "/widget/messages"): {"client_message_id": "o1", "text": "Hello from a foreign page"},
    ("GET", "/widget/messages"): None,
    ("POST", "/widget/attachments"): {"filename": "receipt.pdf", "content_type": "application/pdf", "size": 9},
    ("POST", "/widget/email-verification"): {"email": "ada@customer.example"},
    ("POST", "/widget/email-verification/confirm"): {"code": "000000"},
    ("GET", "/widget/conversations"): None,
}


def test_every_widget_route_refuses_a_page_of_another_origin_with_a_valid_session_and_does_nothing(desk):
    # Given every route the template gives the widget's API but its documents and preflights (a new one fails here
    # until it is added), and a visitor's valid session
    from local.template import load_template
    from tests.support import ROOT

    template = load_template(ROOT / "template.yaml")["Resources"]["WebchatFunction"]["Properties"]["Events"]
    routes = {(e["Properties"]["Method"], e["Properties"]["Path"]) for e in template.values()
              if e["Type"] == "HttpApi" and e["Properties"]["Method"] != "OPTIONS"
              and not e["Properties"]["Path"].endswith(("/openapi.json", "/swagger"))}
    assert routes == set(_WIDGET_CALLS)
    session = _session(desk, "origin-1")
    desk.client("ses").verify_email_identity(EmailAddress="support@shop.example")
    for (method, path), body in _WIDGET_CALLS.items():
        if body and "visitor_token" in body:
            body = {"visitor_token": _visitor_token("origin-1")}
        # When it is called from a page of another origin, or with no Origin at all
        for origin in ("https://evil.example", "https://shop.example.evil.example", None):
            status, refused, result = _call(desk, method, path, body, session, origin=origin)
            # Then it is refused before anything is done, and the browser is let read nothing of it
            assert status == 403 and refused["type"] == "/problems/forbidden", (method, path, origin)
            assert "Access-Control-Allow-Origin" not in result["headers"], (method, path)
    items = json.dumps(desk.client("dynamodb").scan(TableName=desk.table_name)["Items"])
    assert "Hello from a foreign page" not in items and "ada@customer.example" not in items
    # And the same calls from the shop's page are answered (the refusal was the origin's)
    for (method, path), body in _WIDGET_CALLS.items():
        if body and "visitor_token" in body:
            body = {"visitor_token": _visitor_token("origin-1")}
        assert _call(desk, method, path, body, session)[0] not in (401, 403), (method, path)

def test_upload_is_a_presigned_post_within_type_and_size_and_the_file_reaches_the_agent(desk):
    import urllib.request

    session = _session(desk, "files-1")
    status, upload, _ = _call(desk, "POST", "/widget/attachments",
                              {"filename": "receipt.pdf", "content_type": "application/pdf", "size": 9}, session)
    assert status == 201 and upload["key"].startswith("media/webchat/files-1/")
    assert _call(desk, "POST", "/widget/attachments",
                 {"filename": "x.svg", "content_type": "image/svg+xml", "size": 9}, session)[0] == 400
    boundary = "----shopdesk"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
             for k, v in upload["fields"].items()]
    body = ("".join(parts) + f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="receipt.pdf"'
            f'\r\nContent-Type: application/pdf\r\n\r\n').encode() + b"%PDF-1.4\n" + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(upload["url"], data=body, method="POST",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request) as answer:
        assert answer.status in (200, 204)
    status, sent, _ = _call(desk, "POST", "/widget/messages", {
        "client_message_id": "f1", "text": "my receipt",
        "attachments": [{"key": upload["key"], "filename": "receipt.pdf", "content_type": "application/pdf",
                         "size": 9}]}, session)
    assert status == 201
    detail = agent(desk, "GET", f"/agent/conversations/{sent['conversation_id']}", "alice")[1]
    [attachment] = detail["messages"][0]["attachments"]
    assert attachment["filename"] == "receipt.pdf" and "X-Amz-Signature" in attachment["url"]
    with urllib.request.urlopen(attachment["url"]) as answer:
        assert answer.read() == b"%PDF-1.4\n"
    foreign = {"key": "media/webchat/someone-else/x.pdf", "filename": "x.pdf", "content_type": "application/pdf",
               "size": 9}
    assert _call(desk, "POST", "/widget/messages", {"client_message_id": "f2", "attachments": [foreign]},
                 session)[0] == 400


def _upload(desk, session, filename, content_type, data: bytes):
    import urllib.request

    status, upload, _ = _call(desk, "POST", "/widget/attachments",
                              {"filename": filename, "content_type": content_type, "size": len(data)}, session)
    assert status == 201, upload
    boundary = "----shopdesk"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
             for k, v in upload["fields"].items()]
    body = ("".join(parts) + f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"'
            f'\r\nContent-Type: {content_type}\r\n\r\n').encode() + data + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(upload["url"], data=body, method="POST",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request) as answer:
        assert answer.status in (200, 204)
    return upload["key"]


def test_a_visitors_file_is_what_landed_not_what_the_browser_says(desk):
    session = _session(desk, "files-2")
    # Given a "receipt.pdf" whose bytes are a web page (S3's policy held the type header and the size, not the bytes)
    page = _upload(desk, session, "receipt.pdf", "application/pdf", b"<html><script>steal()</script></html>")
    status, refused, _ = _call(desk, "POST", "/widget/messages", {
        "client_message_id": "g1", "text": "my receipt",
        "attachments": [{"key": page, "filename": "receipt.pdf", "content_type": "application/pdf", "size": 9}]},
        session)
    # Then the message naming it is refused in words, and nothing reaches the agents
    assert status == 400 and "do not match its type (application/pdf)" in refused["detail"]
    # And a key issued but never uploaded is refused too, whatever size the browser claims
    status, upload, _ = _call(desk, "POST", "/widget/attachments",
                              {"filename": "late.pdf", "content_type": "application/pdf", "size": 9}, session)
    assert status == 201
    status, refused, _ = _call(desk, "POST", "/widget/messages", {
        "client_message_id": "g2", "attachments": [{"key": upload["key"], "filename": "late.pdf",
                                                     "content_type": "application/pdf", "size": 9}]}, session)
    assert status == 400 and "was not uploaded" in refused["detail"]
    # While a real PDF goes through with the size S3 holds, not the one the browser claimed (another visitor:
    # this one has used the burst its rate limit allows)
    session = _session(desk, "files-3")
    real = _upload(desk, session, "real.pdf", "application/pdf", b"%PDF-1.7\n%%EOF\n")
    status, sent, _ = _call(desk, "POST", "/widget/messages", {
        "client_message_id": "g3", "attachments": [{"key": real, "filename": "real.pdf",
                                                     "content_type": "application/pdf", "size": 1}]}, session)
    assert status == 201, sent
    detail = agent(desk, "GET", f"/agent/conversations/{sent['conversation_id']}", "alice")[1]
    assert [a["filename"] for m in detail["messages"] for a in m["attachments"]] == ["real.pdf"]

# ------------------------------------------------------------------------------ the widget's socket

def _socket(desk, route, connection, session=None, origin=ORIGIN):
    event = {"requestContext": {"routeKey": route, "eventType": route.strip("$").upper(), "connectionId": connection,
                                "stage": "dev"},
             "headers": {"Origin": origin} if origin else {}, "isBase64Encoded": False}
    if session is not None:
        event["queryStringParameters"] = {"session": session}
    return desk.invoke("widget_live", event)["statusCode"]


def test_a_visitor_socket_hears_changed_when_their_conversation_moves_and_nothing_of_notes(desk):
    from tests.integration.test_live import ConnectionsEndpoint, Stream
    endpoint = ConnectionsEndpoint()
    try:
        online(desk, "alice")
        session = _session(desk, "cust-live")
        # Given a visitor with no conversation yet: nothing to listen to
        assert _socket(desk, "$connect", "V0", session) == 404
        status, sent, _ = _call(desk, "POST", "/widget/messages", {"client_message_id": "l1", "text": "Hi?"}, session)
        assert status == 201
        conv = sent["conversation_id"]
        desk.drain_queue(desk.work_queue_url, "router")
        # A foreign page or a forged session may not listen
        assert _socket(desk, "$connect", "VX", session, origin="https://evil.example") == 403
        assert _socket(desk, "$connect", "VX", "forged") == 401
        assert _socket(desk, "$connect", "VX", None) == 401
        assert desk.item("CONN#VX") is None
        # When the widget connects with its session, the socket is listed under the conversation it shows
        assert _socket(desk, "$connect", "V1", session) == 200
        endpoint.open.add("V1")
        assert desk.item(f"LIVE#widget:{conv}", "CONN#V1") is not None
        stream = Stream(desk)
        stream.read()          # (read from the stream's start: what came before is not this test's)

        def fan_out():
            return desk.invoke("live_fanout", stream.read(), LIVE_CONNECTIONS_ENDPOINT=endpoint.url + "/dev",
                               WIDGET_CONNECTIONS_ENDPOINT=endpoint.url + "/dev")

        # Then an agent's note moves nothing the visitor sees
        agent(desk, "POST", f"/agent/conversations/{conv}/notes", "alice", {"text": "internal: VIP"})
        assert fan_out() == {"batchItemFailures": []} and endpoint.to("V1") == []
        # And a reply does once the dispatcher lets it go (queued, the widget lists nothing of it): one bare frame
        assert agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "Yes!"})[0] == 202
        assert fan_out() == {"batchItemFailures": []} and endpoint.to("V1") == []
        desk.drain_queue(desk.outbound_queue_url, "dispatcher")
        assert fan_out() == {"batchItemFailures": []}
        assert endpoint.to("V1") == [{"type": "changed"}]
        # When it disconnects, every item of it goes
        assert _socket(desk, "$disconnect", "V1") == 200
        assert desk.item("CONN#V1") is None and desk.item(f"LIVE#widget:{conv}", "CONN#V1") is None
    finally:
        endpoint.close()


def test_the_session_names_the_widgets_socket_api(desk):
    status, body, _ = _call(desk, "POST", "/widget/sessions", {"visitor_token": _visitor_token("cust-url")})
    assert status == 201 and body["live_url"].startswith("wss://") and body["live_url"].endswith("/dev")


def test_a_visitor_opening_sockets_in_a_loop_is_held_to_a_few_a_minute(desk):
    session = _session(desk, "cust-loop")
    status, _, _ = _call(desk, "POST", "/widget/messages", {"client_message_id": "s1", "text": "Hello"}, session)
    assert status == 201
    # each socket writes its items: ten at once are let through, the eleventh waits (429 refuses the upgrade)
    answers = [_socket(desk, "$connect", f"L{n}", session) for n in range(11)]
    assert answers == [200] * 10 + [429]
    assert desk.item("CONN#L10") is None


def test_requests_at_once_each_take_their_own_token(desk):
    # Given a bucket of five tokens that does not refill within the test, and twenty requests at the same moment
    from concurrent.futures import ThreadPoolExecutor

    from shopdesk.dal.ratelimits import RateLimits
    from shopdesk.dal.table import Table
    from shopdesk.logic.widget import RateLimited, limit
    limits, limiter = RateLimits(Table(desk.table_name)), webchat.RateLimiter(rate_per_s=0.0001, burst=5)

    def request(_: int) -> bool:
        try:
            limit(limits, "webchat-send#visitor-burst", limiter)
            return True
        except RateLimited:
            return False

    # When they all ask for a token at once
    with ThreadPoolExecutor(max_workers=20) as pool:
        allowed = list(pool.map(request, range(20)))
    # Then five are allowed, not one more (a read-then-write let each spend the token they all read)
    assert sum(allowed) == 5, allowed


def _signed_as_a_shop_would(claims: dict, secret: str = "test-visitor-secret") -> str:
    """A visitor token made by hand as the widget's docs tell a shop to (``sign_visitor_token`` refuses what these
    tests send)."""
    import base64
    import hashlib
    import hmac

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    payload = b64(json.dumps(claims).encode())
    return payload + "." + b64(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest())


def test_a_visitor_id_that_is_a_path_segment_is_a_400_and_no_session_and_no_upload_key(desk):
    # Given a shop that signs tokens for visitors whose ids are only dots (".." names the folder above in a path)
    for visitor_id in (".", "..", "..."):
        token = _signed_as_a_shop_would({"visitor_id": visitor_id, "exp": int(time.time()) + 600})
        # When the widget starts a session with one
        status, refused, _ = _call(desk, "POST", "/widget/sessions", {"visitor_token": token})
        # Then it is a 400 problem naming the claim and its rule, and no session is issued
        assert status == 400, (visitor_id, refused)
        assert "visitor_id" in refused["detail"] and "dots" in refused["detail"], refused
    # and a session a server once issued for such an id is refused (401) before any upload key is made of it
    forged = webchat._seal({"typ": "session", "visitor_id": "..", "iat": int(time.time()),
                            "exp": int(time.time()) + 600}, "test-session-secret", webchat._SESSION_CONTEXT)
    status, answer, _ = _call(desk, "POST", "/widget/attachments",
                              {"filename": "a.png", "content_type": "image/png", "size": 9}, forged)
    assert status == 401, answer


def test_a_rate_limited_visitor_is_told_whole_seconds_at_least_one_and_retrying_then_succeeds(desk, monkeypatch):
    from datetime import UTC, datetime

    from shopdesk import clock
    # Given a clock that stands still unless the test moves it
    moment = [time.time()]
    monkeypatch.setattr(clock, "now", lambda: datetime.fromtimestamp(moment[0], UTC))
    session = _session(desk, "seconds-1")
    for i in range(5):                                     # the send bucket's burst
        assert _call(desk, "POST", "/widget/messages", {"client_message_id": f"s{i}", "text": "hi"}, session)[0] == 201
    # When the visitor sends again 0.6 s later (0.4 s short of the next token)
    moment[0] += 0.6
    status, body, result = _call(desk, "POST", "/widget/messages", {"client_message_id": "s5", "text": "hi"}, session)
    # Then the wait is said in whole seconds, never "0 s": the header and the words agree
    assert (status, result["headers"]["Retry-After"]) == (429, "1"), body
    assert body["detail"] == "too many requests; retry in 1 s"
    # Given the session bucket spent (its ten starts: 0.12 of a token left), when the visitor starts again 1.2 s later
    # (0.36 of a token: 3.2 s short at 0.2 a second)
    for _ in range(9):
        _session(desk, "seconds-1")
    moment[0] += 1.2
    start = {"visitor_token": _visitor_token("seconds-1")}
    status, body, result = _call(desk, "POST", "/widget/sessions", start)
    # Then the wait is rounded up, not to the nearest second: asked again after 3 s it would still be refused
    assert (status, result["headers"]["Retry-After"], body["detail"]) == (429, "4", "too many requests; retry in 4 s")
    moment[0] += 3
    assert _call(desk, "POST", "/widget/sessions", start)[0] == 429
    moment[0] += 1
    assert _call(desk, "POST", "/widget/sessions", start)[0] == 201
