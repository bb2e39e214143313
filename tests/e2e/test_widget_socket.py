"""The widget's socket over a local stack of the project's template whose sockets go idle in seconds
(``LIVE_IDLE_TIMEOUT_S``; 600 as in AWS otherwise): the widget's keepalive, to the MOCK ``$default`` route, keeps it
open and listed; a silent one is closed as API Gateway closes it, and ``$disconnect`` forgets it. The widget's 9
minutes against 10 are played as half a second against four: a loaded machine may stall the gateway a second or
two."""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Callable

import boto3
import pytest
from tests.e2e.conftest import REPO, StackClient
from tests.e2e.test_channels import FAKE_VISITOR_SECRET, WIDGET_ORIGIN
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from shopdesk.channels import webchat

pytestmark = pytest.mark.e2e

IDLE_S = 4.0
KEEPALIVE = json.dumps({"action": "keepalive"})       # what web/src/widget/controller.ts sends


@pytest.fixture(scope="module")
def idle_stack(stack_launcher: Callable[..., StackClient]) -> StackClient:
    return stack_launcher(REPO / "template.yaml", {"LIVE_IDLE_TIMEOUT_S": str(IDLE_S)})


def visitor_who_wrote(stack: StackClient, visitor: str) -> tuple[str, str]:
    """(the socket's URL with the session, the conversation): the widget connects once its visitor has written."""
    token = webchat.sign_visitor_token({"visitor_id": visitor, "name": "Ada", "exp": int(time.time()) + 600},
                                       FAKE_VISITOR_SECRET)
    started = stack.post("/widget/sessions", json={"visitor_token": token}, headers={"Origin": WIDGET_ORIGIN})
    assert started.status == 201, started.text
    session = started.json()["session"]
    sent = stack.post("/widget/messages", json={"client_message_id": "k1", "text": "still there?"},
                      headers={"Origin": WIDGET_ORIGIN, "Authorization": f"Bearer {session}"})
    assert sent.status == 201, sent.text
    return f"{started.json()['live_url']}?session={urllib.parse.quote(session)}", sent.json()["conversation_id"]


def listed(stack: StackClient, conversation_id: str) -> int:
    """How many sockets are listed under the conversation (``$connect`` lists one, ``$disconnect`` forgets it)."""
    where = stack.get("/_local/aws").json()
    dynamodb = boto3.Session(aws_access_key_id="local", aws_secret_access_key="local",
                             region_name=where["region"]).client("dynamodb", endpoint_url=where["endpoint"])
    [table] = [t for t in dynamodb.list_tables()["TableNames"] if t.startswith("shopdesk-")]
    return dynamodb.query(TableName=table, KeyConditionExpression="PK = :pk", Select="COUNT",
                          ExpressionAttributeValues={":pk": {"S": f"LIVE#widget:{conversation_id}"}})["Count"]


def heard(socket, seconds: float) -> list[tuple[float, dict]]:
    """(when, frame) of the frames that came within ``seconds`` (the fan-out's ``changed`` as the desk answers)."""
    frames, deadline = [], time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            frames.append((time.monotonic(), json.loads(socket.recv(timeout=left))))
        except TimeoutError:
            break
    return frames


def test_the_widgets_keepalive_keeps_its_socket_open_past_the_idle_timeout_and_a_silent_one_is_closed(idle_stack):
    url, conversation = visitor_who_wrote(idle_stack, "keepalive-visitor")
    with connect(url, origin=WIDGET_ORIGIN, open_timeout=30) as socket:
        assert listed(idle_stack, conversation) == 1
        started = time.monotonic()
        while time.monotonic() - started < 2.25 * IDLE_S:    # past the timeout; a keepalive each eighth of it
            socket.send(KEEPALIVE)
            last = time.monotonic()                          # the last message either way
            # taken by the MOCK integration: nothing answers it (what comes is the fan-out's notice, if anything)
            for when, frame in heard(socket, IDLE_S / 8):
                assert frame == {"type": "changed"}
                last = when                                  # a post to the socket is a message too
        assert listed(idle_stack, conversation) == 1         # still open, still listed
        # Then the widget falls silent (a tab that stopped sending): the gateway closes the socket
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                assert json.loads(socket.recv(timeout=4 * IDLE_S)) == {"type": "changed"}
                last = time.monotonic()
        assert time.monotonic() - last >= 0.9 * IDLE_S
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1001, "Going away")
    # ... and $disconnect ran: the socket is no longer listed under the conversation
    idle_stack.wait_for(lambda: listed(idle_stack, conversation) == 0, timeout=30)
