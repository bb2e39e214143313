"""The live inbox over the local stack: the template's WebSocket API, fed by the table's stream."""

from __future__ import annotations

import json
import time
import urllib.parse
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from tests.e2e.test_core_loop import send_sms
from tests.support import twilio_form
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_inboxes")]


def sms(stack, phone: str, text: str) -> None:
    body = twilio_form(MessageSid="SM" + uuid.uuid4().hex, From=phone, To="+14155550100", Body=text)
    assert send_sms(stack, body).status == 200


def frames_until(socket, predicate, timeout: float = 10.0) -> list[dict]:
    """Frames received until one satisfies ``predicate`` (fails after ``timeout``)."""
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            frame = json.loads(socket.recv(timeout=max(0.01, deadline - time.monotonic())))
        except TimeoutError:
            break
        seen.append(frame)
        if predicate(frame):
            return seen
    raise AssertionError(f"no matching frame within {timeout} s; got {seen}")


def drain(socket, quiet: float = 1.0) -> None:
    """Read frames until none has come for ``quiet`` seconds (the router's notes of a new conversation)."""
    while True:
        try:
            socket.recv(timeout=quiet)
        except TimeoutError:
            return


def conversation_of(stack, token: str, phone: str) -> dict:
    for view in ("all",):
        answer = stack.get(f"/agent/conversations?view={view}&status=open&limit=100", token=token)
        for conv in answer.json()["items"]:
            if conv["customer"]["identities"] and phone in json.dumps(conv["customer"]):
                return stack.get(f"/agent/conversations/{conv['id']}", token=token).json()
    raise AssertionError(f"no open conversation of {phone}")


def test_the_websocket_refuses_a_missing_a_malformed_or_a_forged_token(stack):
    url = stack.websocket_url
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode({"cognito:username": "bob", "exp": int(time.time()) + 600, "iat": int(time.time()),
                         "token_use": "id"}, key, algorithm="RS256", headers={"kid": "not-ours"})
    for query in ("", "?token=", "?token=not.a.jwt", f"?token={forged}"):
        with pytest.raises(InvalidStatus) as refused:
            connect(url + query, open_timeout=30).close()
        assert refused.value.response.status_code == 401, query


def test_a_customer_sms_appears_on_an_open_socket_within_two_seconds(stack):
    token = stack.token("bob")
    with connect(f"{stack.websocket_url}?token={urllib.parse.quote(token)}", open_timeout=30) as socket:
        socket.send(json.dumps({"type": "ping"}))
        # answered; a notice of another test's conversation (bob's team) may come first: the socket is live
        assert frames_until(socket, lambda f: f.get("type") == "pong", timeout=15)[-1] == {"type": "pong"}
        sms(stack, "+15550107001", "is my order on its way?")     # warms the path up
        frames_until(socket, lambda f: f["kind"] == "message", timeout=15)
        drain(socket)
        known = {m["id"] for m in conversation_of(stack, token, "+15550107001")["messages"]}
        sent = time.monotonic()
        sms(stack, "+15550107001", "the parcel number is 42")
        frames = frames_until(socket, lambda f: f["kind"] == "message" and f["message_id"] not in known, timeout=10)
        elapsed = time.monotonic() - sent
    conv = conversation_of(stack, token, "+15550107001")
    newest = [m for m in conv["messages"] if m["direction"] == "inbound"][-1]
    assert frames[-1]["conversation_id"] == conv["id"] and frames[-1]["message_id"] == newest["id"]
    assert frames[-1]["type"] == "change" and frames[-1]["cursor"] and frames[-1]["at"]
    assert elapsed < 5, f"the notice took {elapsed:.2f} s"    # the 2 s target is measured in bench/live.py


def test_a_dropped_socket_catches_up_with_the_since_cursor(stack):
    token = stack.token("bob")
    url = f"{stack.websocket_url}?token={urllib.parse.quote(token)}"
    with connect(url, open_timeout=30) as socket:
        sms(stack, "+15550107002", "first, while connected")
        cursor = frames_until(socket, lambda f: f["kind"] == "message", timeout=15)[-1]["cursor"]
    # While the socket is down, two more messages arrive
    sms(stack, "+15550107002", "second, while away")
    sms(stack, "+15550107002", "third, while away")
    conv = conversation_of(stack, token, "+15550107002")
    missed = {m["id"] for m in conv["messages"] if m["direction"] == "inbound" and "while away" in (m["text"] or "")}
    assert len(missed) == 2
    # The app reconnects, then asks what it missed since the last cursor it saw
    with connect(url, open_timeout=30):
        def caught_up():
            answer = stack.get(f"/agent/changes?since={cursor}", token=token)
            assert answer.status == 200, answer.text
            found = {i["message_id"] for i in answer.json()["items"] if i["kind"] == "message"}
            return answer.json() if missed <= found else None

        page = stack.wait_for(caught_up, timeout=10)
    assert all(i["conversation_id"] == conv["id"] for i in page["items"] if i["message_id"] in missed)
    assert page["more"] is False and page["cursor"] != cursor
    # A cursor that is not ours is refused; the app then reloads everything
    assert stack.get("/agent/changes?since=bogus", token=token).status == 400


def test_an_agent_taken_off_the_desk_loses_their_open_socket_and_every_request_at_once(stack):
    bob, alice = stack.token("bob"), stack.token("alice")          # alice administers the desk
    url = f"{stack.websocket_url}?token={urllib.parse.quote(bob)}"
    # Given bob's inbox open: its socket live, his token valid for the next hour
    with connect(url, open_timeout=30) as socket:
        socket.send(json.dumps({"type": "ping"}))
        frames_until(socket, lambda f: f.get("type") == "pong", timeout=15)
        try:
            # When alice takes him off the desk
            assert stack.post("/admin/agents/bob/deactivate", token=alice).status == 200
            # Then the gateway closes his socket at once (DeleteConnection)
            with pytest.raises(ConnectionClosed):
                while True:
                    socket.recv(timeout=10)
            # every request of his is refused, said so, on the agent, admin and reports APIs
            for path in ("/agent/me", "/agent/conversations?view=all", "/admin/agents", "/reports/metrics/catalog"):
                answer = stack.get(path, token=bob)
                assert answer.status == 403 and answer.json()["code"] == "deactivated", (path, answer.text)
            # and a new socket with the same token is refused at $connect
            with pytest.raises(InvalidStatus) as refused:
                connect(url, open_timeout=30).close()
            assert refused.value.response.status_code == 403
        finally:
            # When she puts him back, he is let in again
            assert stack.post("/admin/agents/bob/reactivate", token=alice).status == 200
    assert stack.get("/agent/me", token=bob).status == 200
    with connect(url, open_timeout=30) as socket:
        socket.send(json.dumps({"type": "ping"}))
        assert frames_until(socket, lambda f: f.get("type") == "pong", timeout=15)[-1] == {"type": "pong"}


def test_an_idle_socket_past_its_tokens_expiry_is_closed_by_the_sweep(stack):
    import boto3
    from boto3.dynamodb.types import TypeDeserializer
    where = stack.get("/_local/aws").json()
    dynamodb = boto3.Session(aws_access_key_id="local", aws_secret_access_key="local",
                             region_name=where["region"]).client("dynamodb", endpoint_url=where["endpoint"])
    table = next(t for t in dynamodb.list_tables()["TableNames"] if "Desk" in t or "desk" in t)
    plain = TypeDeserializer()

    def item(pk: str, sk: str) -> dict | None:
        got = dynamodb.get_item(TableName=table, Key={"PK": {"S": pk}, "SK": {"S": sk}}, ConsistentRead=True)
        return {k: plain.deserialize(v) for k, v in got["Item"].items()} if "Item" in got else None

    def bobs() -> set[str]:
        found = dynamodb.query(TableName=table, KeyConditionExpression="PK = :pk",
                               ExpressionAttributeValues={":pk": {"S": "LIVE#agent:bob"}}, ConsistentRead=True)
        return {i["SK"]["S"].removeprefix("CONN#") for i in found["Items"]}

    token = stack.token("bob")
    before = bobs()
    # Given bob's socket open, hearing nothing
    with connect(f"{stack.websocket_url}?token={urllib.parse.quote(token)}", open_timeout=30) as socket:
        socket.send(json.dumps({"type": "ping"}))
        frames_until(socket, lambda f: f.get("type") == "pong", timeout=15)
        (connection,) = bobs() - before
        # Then its timer waits in the sweep's Due index at its token's expiry
        expires = jwt.decode(token, options={"verify_signature": False})["exp"]
        assert item(f"CONN#{connection}", "META")["closes_at"] == expires
        assert item(f"CONN#{connection}", "DEADLINE#socket_expiry")["type"] == "timer"
        # When its token has expired (its record and timer dated a second ago on the desk's clock)
        due = stack.advance(0)["now"][:19] + ".000Z"      # the desk clock, a second or less ago
        dynamodb.update_item(TableName=table, Key={"PK": {"S": f"CONN#{connection}"}, "SK": {"S": "META"}},
                             UpdateExpression="SET closes_at = :past",
                             ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 1)}})
        dynamodb.update_item(TableName=table, Key={"PK": {"S": f"CONN#{connection}"},
                                                   "SK": {"S": "DEADLINE#socket_expiry"}},
                             UpdateExpression="SET due_at = :due, DueSK = :sk",
                             ExpressionAttributeValues={":due": {"S": due},
                                                        ":sk": {"S": f"{due}#{connection}#socket_expiry"}})
        time.sleep(1.1)
        stack.run_schedule("SlaSweepFunction")
        # Then the sweep closes the socket through the @connections API, and its items and timer are gone
        with pytest.raises(ConnectionClosed):
            while True:
                socket.recv(timeout=10)
    assert item(f"CONN#{connection}", "META") is None and item(f"CONN#{connection}", "DEADLINE#socket_expiry") is None
    assert connection not in bobs()
