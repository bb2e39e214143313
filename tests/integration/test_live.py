"""The live inbox on moto: connections kept by the WebSocket routes, the stream consumer's fan-out
(audience, idempotency, stale connections, partial batch failures) and GET /agent/changes."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from local.streams import lambda_record
from shopdesk import clock
from tests.integration.helpers import agent, customer_writes, online, route_records, teams
from tests.integration.test_admin_api import admin_call
from tests.support import LoopbackServer, http_event

STAGE = "dev"


class ConnectionsEndpoint(LoopbackServer):
    """API Gateway's @connections API on loopback: open connections get frames, others are gone; a DELETE closes
    one."""

    def __init__(self) -> None:
        self.open: set[str] = set()
        self.broken: set[str] = set()        # answer 403, as for a connection of another API
        self.frames: list[tuple[str, dict[str, Any]]] = []
        self.posted: list[str] = []          # every connection a post was made to, open or not
        self.closed: list[str] = []          # every connection a DeleteConnection closed
        self._lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_DELETE(self) -> None:
                connection = urllib.parse.unquote(self.path.rsplit("/", 1)[-1])
                with endpoint._lock:
                    gone = connection not in endpoint.open
                    endpoint.open.discard(connection)
                    if not gone:
                        endpoint.closed.append(connection)
                body = json.dumps({"message": "GoneException"}).encode() if gone else b""
                self.send_response(410 if gone else 204)
                if gone:
                    self.send_header("x-amzn-ErrorType", "GoneException")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                connection = urllib.parse.unquote(self.path.rsplit("/", 1)[-1])
                data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with endpoint._lock:
                    endpoint.posted.append(connection)
                    if connection in endpoint.broken:
                        status, error = 403, "ForbiddenException"
                    elif connection in endpoint.open:
                        status, error = 200, None
                        endpoint.frames.append((connection, json.loads(data)))
                    else:
                        status, error = 410, "GoneException"
                body = json.dumps({"message": error}).encode() if error else b""
                self.send_response(status)
                if error:
                    self.send_header("x-amzn-ErrorType", error)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.serve(Handler, poll_interval=0.05)

    def to(self, connection: str) -> list[dict[str, Any]]:
        return [frame for cid, frame in self.frames if cid == connection]


@pytest.fixture
def endpoint():
    server = ConnectionsEndpoint()
    yield server
    server.close()


class Stream:
    """The desk table's stream read like Lambda's event source: Records events in order."""

    def __init__(self, desk: Any):
        self.client = desk.client("dynamodbstreams")
        arn = desk.client("dynamodb").describe_table(TableName=desk.table_name)["Table"]["LatestStreamArn"]
        self.arn = arn
        shard = self.client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        self.iterator = self.client.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                                       ShardIteratorType="TRIM_HORIZON")["ShardIterator"]

    def read(self) -> dict[str, Any]:
        answer = self.client.get_records(ShardIterator=self.iterator)
        self.iterator = answer["NextShardIterator"]
        return {"Records": [lambda_record(r, self.arn) for r in answer["Records"]]}


def connect(desk: Any, endpoint: ConnectionsEndpoint, connection: str, agent_id: str, roles: str = "",
            expires: int | None = None) -> None:
    assert connecting(desk, endpoint, connection, agent_id, roles, expires) == {"statusCode": 200}
    endpoint.open.add(connection)


def connecting(desk: Any, endpoint: ConnectionsEndpoint, connection: str, agent_id: str, roles: str = "",
               expires: int | None = None) -> Any:
    """What $connect answers (API Gateway opens the socket on a 2xx only); ``expires``: the token's ``exp`` the
    authorizer passes on."""
    authorizer = {"agent": agent_id, "roles": roles, "principalId": agent_id,
                  **({"expires": expires} if expires is not None else {})}
    event = {"requestContext": {"routeKey": "$connect", "eventType": "CONNECT", "connectionId": connection,
                                "stage": STAGE, "authorizer": authorizer},
             "isBase64Encoded": False}
    return desk.invoke("live_connections", event, LIVE_CONNECTIONS_ENDPOINT=endpoint.url + "/" + STAGE)


def fan_out(desk: Any, endpoint: ConnectionsEndpoint, event: dict[str, Any]) -> dict[str, Any]:
    return desk.invoke("live_fanout", event, LIVE_CONNECTIONS_ENDPOINT=endpoint.url + "/" + STAGE)


def change_log(desk: Any) -> list[dict[str, Any]]:
    from shopdesk.dal.table import deserialize
    items = desk.client("dynamodb").query(TableName=desk.table_name, KeyConditionExpression="PK = :pk",
                                          ExpressionAttributeValues={":pk": {"S": "CHANGES"}})["Items"]
    return [deserialize(i) for i in items]


def logged(desk: Any) -> list[dict[str, Any]]:
    """Every change in the log, in order (an item holds a fan-out invocation's changes)."""
    return [change for item in change_log(desk) for change in item["changes"]]


def changes(desk: Any, agent_id: str, query: str = "", groups: str | None = None) -> tuple[int, Any]:
    return agent(desk, "GET", "/agent/changes", agent_id, query=query, groups=groups)


# ------------------------------------------------------------------------------ connections

def test_a_connection_is_kept_under_its_agent_and_teams_until_it_disconnects(desk, endpoint):
    # Given alice has signed in once (her agent item, team default)
    online(desk, "alice")
    # When her socket connects
    connect(desk, endpoint, "AbC=", "alice")
    # Then the table lists it for her and for her team, expiring after 2 h 10 min
    item = desk.item("CONN#AbC=")
    assert item["agent_id"] == "alice" and item["teams"] == ["default"]
    assert set(item["audiences"]) == {"agent:alice", "team:default"}
    assert desk.item("LIVE#team:default", "CONN#AbC=") and desk.item("LIVE#agent:alice", "CONN#AbC=")
    assert 7700 <= item["ttl"] - time.time() <= 7900
    # When it disconnects, every item of it goes
    event = {"requestContext": {"routeKey": "$disconnect", "eventType": "DISCONNECT", "connectionId": "AbC="}}
    desk.invoke("live_connections", event, LIVE_CONNECTIONS_ENDPOINT=endpoint.url)
    assert desk.item("CONN#AbC=") is None and desk.item("LIVE#team:default", "CONN#AbC=") is None


def test_a_ping_is_answered_with_a_pong(desk, endpoint):
    connect(desk, endpoint, "P1", "alice")
    event = {"requestContext": {"routeKey": "$default", "eventType": "MESSAGE", "connectionId": "P1"},
             "body": json.dumps({"type": "ping"})}
    desk.invoke("live_connections", event, LIVE_CONNECTIONS_ENDPOINT=endpoint.url + "/" + STAGE)
    assert endpoint.to("P1") == [{"type": "pong"}]


def test_a_frame_the_decoder_cannot_read_is_ignored_not_a_function_error(desk, endpoint):
    connect(desk, endpoint, "P2", "alice")
    for body in ("[" * 100_000 + "]" * 100_000, '{"type": ' + "9" * 5_000 + "}", '{"type": "ping"}'):
        event = {"requestContext": {"routeKey": "$default", "eventType": "MESSAGE", "connectionId": "P2"},
                 "body": body}
        answer = desk.invoke("live_connections", event, LIVE_CONNECTIONS_ENDPOINT=endpoint.url + "/" + STAGE)
        assert answer == {"statusCode": 200}
    assert endpoint.to("P2") == [{"type": "pong"}]           # the socket still answers what it reads


def deactivation(desk: Any, endpoint: ConnectionsEndpoint, agent_id: str, action: str = "deactivate") -> int:
    """An admin takes the agent off the desk (or puts them back), with the admin API pointed at the endpoint."""
    event = http_event("POST", f"/admin/agents/{agent_id}/{action}", None, {},
                       claims={"cognito:username": "lead", "cognito:groups": "[admins]"})
    return desk.invoke("admin_api", event, LIVE_CONNECTIONS_ENDPOINT=endpoint.url + "/" + STAGE)["statusCode"]


def test_an_agent_taken_off_the_desk_has_their_sockets_closed_hears_nothing_more_and_cannot_connect(desk, endpoint):
    # Given alice with two inboxes open (two sockets), bob and an admin connected
    online(desk, "alice", "bob")
    connect(desk, endpoint, "A1", "alice")
    connect(desk, endpoint, "A2", "alice")
    connect(desk, endpoint, "B", "bob")
    connect(desk, endpoint, "R", "root", roles="admins")
    stream = Stream(desk)
    # When an admin takes her off the desk
    assert deactivation(desk, endpoint, "alice") == 200
    # Then both her sockets are closed at once, and none of their items is left for the fan-out to find
    assert sorted(endpoint.closed) == ["A1", "A2"]
    for connection in ("A1", "A2"):
        assert desk.item(f"CONN#{connection}") is None
        assert desk.item("LIVE#agent:alice", f"CONN#{connection}") is None
        assert desk.item("LIVE#team:default", f"CONN#{connection}") is None
    # and a customer's message to her team reaches bob and the admin, no frame is even tried on her sockets
    conv = routed_writes(desk, "+31650000031", "hello?", "SMlive31")
    assert fan_out(desk, endpoint, stream.read()) == {"batchItemFailures": []}
    for connection in ("B", "R"):
        assert {f["conversation_id"] for f in endpoint.to(connection)} == {conv}, connection
    assert not {"A1", "A2"} & set(endpoint.posted)
    # And a new socket of hers is refused at $connect (the token she holds is still valid), nothing kept of it
    assert connecting(desk, endpoint, "A3", "alice")["statusCode"] == 403
    assert desk.item("CONN#A3") is None and desk.item("LIVE#agent:alice", "CONN#A3") is None
    # When an admin puts her back, she connects again
    assert deactivation(desk, endpoint, "alice", "reactivate") == 200
    connect(desk, endpoint, "A4", "alice")
    assert desk.item("CONN#A4") is not None


def test_a_deactivation_while_a_socket_opens_refuses_it(desk, endpoint, monkeypatch):
    # Given alice, signed in, whose socket is opening
    online(desk, "alice")
    live = desk.handler("live_connections", LIVE_CONNECTIONS_ENDPOINT=endpoint.url + "/" + STAGE).live
    read = live.agents.get
    raced: list[int] = []

    def read_then_deactivated(agent_id: str) -> Any:
        agent = read(agent_id)
        if not raced:           # an admin takes her off the desk right after $connect read her record
            raced.append(deactivation(desk, endpoint, "alice"))
        return agent

    monkeypatch.setattr(live.agents, "get", read_then_deactivated)
    # When $connect goes on with what it read (she was on the desk), the deactivation found no socket to close
    answer = connecting(desk, endpoint, "A", "alice")
    # Then it is refused all the same, and nothing is kept of it
    assert raced == [200] and endpoint.closed == []
    assert answer["statusCode"] == 403
    assert desk.item("CONN#A") is None and desk.item("LIVE#agent:alice", "CONN#A") is None
    assert desk.item("LIVE#team:default", "CONN#A") is None


def set_teams(desk: Any, endpoint: ConnectionsEndpoint, agent_id: str, *names: str, capacity: int = 3) -> int:
    """An admin sets the agent's teams (PUT /admin/agents/{id}), with the admin API pointed at the endpoint."""
    event = http_event("PUT", f"/admin/agents/{agent_id}", json.dumps({"capacity": capacity, "teams": list(names)}),
                       {"content-type": "application/json"},
                       claims={"cognito:username": "lead", "cognito:groups": "[admins]"})
    return desk.invoke("admin_api", event, LIVE_CONNECTIONS_ENDPOINT=endpoint.url + "/" + STAGE)["statusCode"]


def returns_desk(desk: Any) -> None:
    """A second team, ``returns``, that the routing settings send WhatsApp conversations to."""
    teams(desk, "returns")
    assert admin_call(desk, "PUT", "/admin/routing", "[admins]", {"team_by_channel": {"whatsapp": "returns"}})[0] == 200


def test_a_change_of_teams_closes_the_agents_sockets_and_the_next_one_hears_the_new_teams_only(desk, endpoint):
    # Given returns (WhatsApp) and default, a returns conversation dave holds; bob in both teams, connected; dave
    # and an admin connected
    returns_desk(desk)
    online(desk, "bob", "dave")
    assert set_teams(desk, endpoint, "dave", "returns") == 200
    stream = Stream(desk)
    conv = customer_writes(desk, "+31650000041", "I want to return a jacket", "SMlive41", channel="whatsapp")
    route_records(desk)
    assert desk.item(f"CONV#{conv}")["assignee"] == "dave"
    stream.read()               # what happened before the sockets opened
    assert set_teams(desk, endpoint, "bob", "default", "returns") == 200
    connect(desk, endpoint, "B1", "bob")
    connect(desk, endpoint, "D", "dave")
    connect(desk, endpoint, "R", "root", roles="admins")
    assert desk.item("LIVE#team:returns", "CONN#B1")
    # When an admin takes him out of returns
    assert set_teams(desk, endpoint, "bob", "default") == 200
    # Then his socket is closed at once, none of its items left for the fan-out to find
    assert endpoint.closed == ["B1"]
    assert desk.item("CONN#B1") is None and desk.item("LIVE#team:returns", "CONN#B1") is None
    assert desk.item("LIVE#agent:bob", "CONN#B1") is None and desk.item("LIVE#team:default", "CONN#B1") is None
    # and the socket his inbox opens again is listed under default alone
    connect(desk, endpoint, "B2", "bob")
    assert desk.item("CONN#B2")["teams"] == ["default"] and desk.item("LIVE#team:returns", "CONN#B2") is None
    # So a note on the returns conversation reaches dave and the admin, and nothing of it is even tried on bob's sockets
    assert agent(desk, "POST", f"/agent/conversations/{conv}/notes", "dave", {"text": "label sent"})[0] == 201
    assert fan_out(desk, endpoint, stream.read()) == {"batchItemFailures": []}
    for connection in ("D", "R"):
        assert {f["conversation_id"] for f in endpoint.to(connection)} == {conv}, connection
    assert not {"B1", "B2"} & set(endpoint.posted)
    # When an admin puts him back in returns, his socket is closed again and the next one hears returns
    assert set_teams(desk, endpoint, "bob", "default", "returns") == 200
    assert endpoint.closed == ["B1", "B2"]
    connect(desk, endpoint, "B3", "bob")
    assert desk.item("LIVE#team:returns", "CONN#B3")
    assert agent(desk, "POST", f"/agent/conversations/{conv}/notes", "dave", {"text": "parcel on its way back"})[0] \
        == 201
    assert fan_out(desk, endpoint, stream.read()) == {"batchItemFailures": []}
    assert {f["conversation_id"] for f in endpoint.to("B3")} == {conv}
    # And a change that leaves his teams as they are (his capacity) closes nothing
    assert set_teams(desk, endpoint, "bob", "returns", "default", capacity=5) == 200
    assert endpoint.closed == ["B1", "B2"] and desk.item("CONN#B3") is not None


def test_a_change_of_teams_while_a_socket_opens_lists_it_under_the_new_teams(desk, endpoint, monkeypatch):
    # Given bob in default and returns, whose socket is opening
    returns_desk(desk)
    online(desk, "bob")
    assert set_teams(desk, endpoint, "bob", "default", "returns") == 200
    live = desk.handler("live_connections", LIVE_CONNECTIONS_ENDPOINT=endpoint.url + "/" + STAGE).live
    read = live.agents.get
    raced: list[int] = []

    def read_then_changed(agent_id: str) -> Any:
        agent = read(agent_id)
        if not raced:           # an admin takes him out of returns right after $connect read his record
            raced.append(set_teams(desk, endpoint, "bob", "default"))
        return agent

    monkeypatch.setattr(live.agents, "get", read_then_changed)
    # When $connect goes on with what it read (default and returns), the change found no socket to close
    connect(desk, endpoint, "B", "bob")
    # Then the socket is listed under the teams he has now, and nothing under returns
    assert raced == [200] and endpoint.closed == []
    assert desk.item("CONN#B")["teams"] == ["default"]
    assert desk.item("LIVE#team:returns", "CONN#B") is None and desk.item("LIVE#team:default", "CONN#B")


def max_role(desk: Any, endpoint: ConnectionsEndpoint, agent_id: str, role: str) -> int:
    """An admin sets the highest role the agent may use (PUT /admin/agents/{id}/max-role), pointed at the endpoint."""
    event = http_event("PUT", f"/admin/agents/{agent_id}/max-role", json.dumps({"max_role": role}),
                       {"content-type": "application/json"},
                       claims={"cognito:username": "lead", "cognito:groups": "[admins]"})
    return desk.invoke("admin_api", event, LIVE_CONNECTIONS_ENDPOINT=endpoint.url + "/" + STAGE)["statusCode"]


def test_an_admin_made_an_agent_has_their_sockets_closed_and_the_next_one_with_the_same_token_hears_their_teams_only(
        desk, endpoint):
    # Given ada, an admin signed in (of the default team), her inbox's socket listed under everything
    assert agent(desk, "GET", "/agent/me", "ada", groups="[admins]")[0] == 200
    connect(desk, endpoint, "A1", "ada", roles="admins")
    assert desk.item("LIVE#all", "CONN#A1")
    # When another admin makes her an agent
    assert max_role(desk, endpoint, "ada", "agent") == 200
    # Then her socket is closed at once
    assert endpoint.closed == ["A1"] and desk.item("LIVE#all", "CONN#A1") is None
    # and the one her inbox opens again, with the token still carrying admins, is an agent's: her team and herself
    connect(desk, endpoint, "A2", "ada", roles="admins")
    assert not desk.item("CONN#A2").get("roles") and desk.item("LIVE#all", "CONN#A2") is None
    assert desk.item("LIVE#team:default", "CONN#A2") and desk.item("LIVE#agent:ada", "CONN#A2")
    # And making her an admin again closes that agent's socket too, at once (it would hear only her team until she
    # reconnected, up to an hour): her next socket, with the same token, is an admin's again
    assert max_role(desk, endpoint, "ada", "admin") == 200
    assert endpoint.closed == ["A1", "A2"] and desk.item("LIVE#agent:ada", "CONN#A2") is None
    connect(desk, endpoint, "A3", "ada", roles="admins")
    assert desk.item("LIVE#all", "CONN#A3")
    # and the same cap set again is no change: nothing closed
    assert max_role(desk, endpoint, "ada", "admin") == 200
    assert endpoint.closed == ["A1", "A2"] and desk.item("LIVE#all", "CONN#A3")

def test_a_socket_hears_nothing_past_its_tokens_expiry_and_is_closed_so_a_demoted_admin_reconnects_without_all(
        desk, endpoint, monkeypatch):
    # Given carol of billing, connected with an admin's token that expires in an hour, and root, an admin, whose
    # token expires in two
    import shopdesk.dal.live as dal_live
    assert admin_call(desk, "PUT", "/admin/teams/billing", "[admins]", {"id": "billing", "name": "Billing"})[0] == 200
    online(desk, "alice", "carol")
    assert admin_call(desk, "PUT", "/admin/agents/carol", "[admins]", {"capacity": 3, "team": "billing"})[0] == 200
    now = time.time()
    connect(desk, endpoint, "C1", "carol", roles="admins", expires=int(now) + 3600)
    connect(desk, endpoint, "R", "root", roles="admins", expires=int(now) + 7200)
    assert desk.item("CONN#C1")["token_expires"] == int(now) + 3600
    stream = Stream(desk)
    # While her token is valid, her socket hears the default team's conversations (an admin's, as the token says)
    first = routed_writes(desk, "+31650000051", "where is my parcel?", "SMlive51")
    assert fan_out(desk, endpoint, stream.read()) == {"batchItemFailures": []}
    assert {f["conversation_id"] for f in endpoint.to("C1")} == {first}
    # When she is taken out of the admins group (Cognito: shopdesk does not see it) and her token expires
    later = dal_live._real_now() + timedelta(seconds=3601)
    monkeypatch.setattr(dal_live, "_real_now", lambda: later)
    second = routed_writes(desk, "+31650000052", "still waiting", "SMlive52")
    tried = len(endpoint.posted)
    assert fan_out(desk, endpoint, stream.read()) == {"batchItemFailures": []}
    # Then no frame of it reaches her socket: it is closed and its items deleted; root's still hears it
    assert {f["conversation_id"] for f in endpoint.to("C1")} == {first}
    assert "C1" not in endpoint.posted[tried:] and endpoint.closed == ["C1"]
    assert desk.item("CONN#C1") is None and desk.item("LIVE#all", "CONN#C1") is None
    assert desk.item("LIVE#agent:carol", "CONN#C1") is None
    assert second in {f["conversation_id"] for f in endpoint.to("R")}
    # And the socket her inbox opens with a fresh token (no admins group) hears billing only
    connect(desk, endpoint, "C2", "carol", expires=int(later.timestamp()) + 3600)
    assert desk.item("LIVE#all", "CONN#C2") is None and desk.item("LIVE#team:billing", "CONN#C2")
    third = routed_writes(desk, "+31650000053", "hello?", "SMlive53")
    assert fan_out(desk, endpoint, stream.read()) == {"batchItemFailures": []}
    assert endpoint.to("C2") == [] and third in {f["conversation_id"] for f in endpoint.to("R")}


def sweep(desk: Any, endpoint: ConnectionsEndpoint) -> dict[str, Any]:
    return desk.invoke("sla_sweep", {}, LIVE_CONNECTIONS_ENDPOINT=endpoint.url + "/" + STAGE)


def later_by(monkeypatch: Any, seconds: float) -> None:
    """Real time and the desk's clock both ``seconds`` on: a socket's expiry is real time, the sweep's Due index is on
    the desk's clock (the same in AWS)."""
    import shopdesk.dal.live as dal_live
    moment = dal_live._real_now() + timedelta(seconds=seconds)
    monkeypatch.setattr(dal_live, "_real_now", lambda: moment)
    clock.set_offset(clock.offset() + seconds)


EXPIRY = "DEADLINE#socket_expiry"


def gone_entirely(desk: Any, connection: str, *audiences: str) -> bool:
    return (desk.item(f"CONN#{connection}") is None and desk.item(f"CONN#{connection}", EXPIRY) is None
            and all(desk.item(f"LIVE#{a}", f"CONN#{connection}") is None for a in audiences))


def test_a_socket_that_hears_nothing_is_closed_by_the_sweep_once_its_token_expires(desk, endpoint, monkeypatch):
    # Given alice's socket, connected with a token that expires in an hour, and root's, whose token expires in two
    online(desk, "alice")
    now = int(time.time())
    connect(desk, endpoint, "A", "alice", expires=now + 3600)
    connect(desk, endpoint, "R", "root", roles="admins", expires=now + 7200)
    # Then each has a timer in the sweep's Due index at its token's expiry
    timer = desk.item("CONN#A", EXPIRY)
    assert timer["type"] == "timer" and timer["target"] == "socket_expiry" and timer["DuePK"].startswith("DUE#")
    assert abs(clock.parse_iso(timer["due_at"]) - datetime.fromtimestamp(now + 3600, UTC)) < timedelta(seconds=1)
    # While her token is valid, the sweep leaves her socket open
    sweep(desk, endpoint)
    assert endpoint.closed == [] and desk.item("CONN#A") and desk.item("CONN#A", EXPIRY)
    # When her token expires and no notice comes for her socket
    later_by(monkeypatch, 3601)
    sweep(desk, endpoint)
    # Then the sweep closes it (DeleteConnection) and deletes its items and its timer; root's socket stays open
    assert endpoint.closed == ["A"]
    assert gone_entirely(desk, "A", "agent:alice", "team:default")
    assert desk.item("CONN#R") and desk.item("CONN#R", EXPIRY)
    # And the $disconnect API Gateway then runs finds nothing left; the next sweep closes nothing more
    event = {"requestContext": {"routeKey": "$disconnect", "eventType": "DISCONNECT", "connectionId": "A"}}
    assert desk.invoke("live_connections", event, LIVE_CONNECTIONS_ENDPOINT=endpoint.url) == {"statusCode": 200}
    sweep(desk, endpoint)
    assert endpoint.closed == ["A"]


def test_a_socket_whose_authorizer_passed_no_expiry_is_closed_a_token_lifetime_after_it_connects(
        desk, endpoint, monkeypatch):
    # Given two sockets of bob kept from an authorizer that passed no expiry (one of the release before, in a deploy)
    online(desk, "bob")
    before = time.time()
    connect(desk, endpoint, "B", "bob")
    connect(desk, endpoint, "P", "bob")
    # Then each is bounded all the same: closed a token's lifetime (an hour) after it connected
    item = desk.item("CONN#B")
    assert item.get("token_expires") is None and int(before) + 3600 <= item["closes_at"] <= time.time() + 3600
    due = clock.parse_iso(desk.item("CONN#P", EXPIRY)["due_at"])
    assert abs(due - datetime.fromtimestamp(desk.item("CONN#P")["closes_at"], UTC)) < timedelta(seconds=1)
    stream = Stream(desk)
    first = routed_writes(desk, "+31650000054", "hello", "SMlive54")
    assert fan_out(desk, endpoint, stream.read()) == {"batchItemFailures": []}
    assert {f["conversation_id"] for f in endpoint.to("B")} == {first}
    # When the hour has passed: a notice for them closes them instead of reaching them, and the sweep closes the
    # one no notice reached
    later_by(monkeypatch, 3601)
    routed_writes(desk, "+31650000055", "hello again", "SMlive55")
    tried = len(endpoint.posted)
    assert fan_out(desk, endpoint, stream.read()) == {"batchItemFailures": []}
    assert endpoint.posted[tried:] == [] and sorted(endpoint.closed) == ["B", "P"]
    assert gone_entirely(desk, "B", "agent:bob", "team:default") and gone_entirely(desk, "P", "agent:bob")
    connect(desk, endpoint, "Q", "bob")          # its hour starts now
    later_by(monkeypatch, 3601)
    sweep(desk, endpoint)
    assert sorted(endpoint.closed) == ["B", "P", "Q"] and gone_entirely(desk, "Q", "agent:bob", "team:default")


def test_the_sweep_on_a_socket_already_gone_is_harmless(desk, endpoint, monkeypatch, capsys):
    # Given three sockets of carol past their token's expiry: G's client went away without a $disconnect yet (API
    # Gateway answers gone), H's items are gone but not its timer (DynamoDB's TTL took the items first), and
    # D's $disconnect came
    online(desk, "carol")
    now = int(time.time())
    for connection in ("G", "H", "D"):
        connect(desk, endpoint, connection, "carol", expires=now + 60)
    endpoint.open.discard("G")
    desk.client("dynamodb").delete_item(TableName=desk.table_name, Key={"PK": {"S": "CONN#H"}, "SK": {"S": "META"}})
    event = {"requestContext": {"routeKey": "$disconnect", "eventType": "DISCONNECT", "connectionId": "D"}}
    desk.invoke("live_connections", event, LIVE_CONNECTIONS_ENDPOINT=endpoint.url)
    assert desk.item("CONN#D", EXPIRY) is None          # a $disconnect takes the timer with the items
    # When the sweep runs past their expiry
    later_by(monkeypatch, 61)
    capsys.readouterr()
    sweep(desk, endpoint)
    # Then nothing fails: G's items and timer are deleted (its DeleteConnection answered gone: no error logged), H's
    # timer is done
    assert endpoint.closed == [] and "socket not closed" not in capsys.readouterr().out
    assert gone_entirely(desk, "G", "agent:carol", "team:default") and desk.item("CONN#H", EXPIRY) is None
    assert gone_entirely(desk, "H") and gone_entirely(desk, "D", "agent:carol", "team:default")


def test_a_sockets_timer_run_early_by_a_desk_clock_moved_ahead_is_moved_on_not_closing_it(desk, endpoint):
    # Given alice's socket whose token expires in an hour, and the desk's clock (a local stack's) moved two hours on
    online(desk, "alice")
    connect(desk, endpoint, "A", "alice", expires=int(time.time()) + 3600)
    clock.set_offset(clock.offset() + 7200)
    # When the sweep runs its timer
    sweep(desk, endpoint)
    # Then the socket stays open, its timer moved on by the real time its token has left (about an hour)
    assert endpoint.closed == [] and desk.item("CONN#A")
    due = clock.parse_iso(desk.item("CONN#A", EXPIRY)["due_at"])
    assert timedelta(minutes=59) <= due - clock.now() <= timedelta(minutes=61)


def sweep_requests(desk: Any, endpoint: ConnectionsEndpoint, monkeypatch: Any) -> Counter[str]:
    """The AWS requests one run of the sweep makes, by operation."""
    from botocore.client import BaseClient
    made: Counter[str] = Counter()
    lock = threading.Lock()
    call = BaseClient._make_api_call

    def counted(self: Any, operation: str, params: Any) -> Any:
        with lock:
            made[operation] += 1
        return call(self, operation, params)

    with monkeypatch.context() as patch:
        patch.setattr(BaseClient, "_make_api_call", counted)
        sweep(desk, endpoint)
    return made


def test_open_sockets_cost_the_sweep_nothing_until_they_expire_then_four_requests_each(desk, endpoint, monkeypatch):
    # Given the sweep's requests on a desk with no socket open
    online(desk, "alice")
    sweep(desk, endpoint)
    quiet = sweep_requests(desk, endpoint, monkeypatch)
    # When 40 sockets are open whose tokens are valid for an hour, the sweep makes the same requests (the Due index
    # Query it makes anyway reads up to now only)
    now = int(time.time())
    for n in range(40):
        connect(desk, endpoint, f"S{n}", "alice", expires=now + 3600)
    assert sweep_requests(desk, endpoint, monkeypatch) == quiet
    # And once they have expired, each costs the one sweep that closes it four requests: its record read, the
    # DeleteConnection, its items deleted (one BatchWriteItem) and the timer's finish (one conditional delete)
    later_by(monkeypatch, 3601)
    closing = sweep_requests(desk, endpoint, monkeypatch)
    assert len(endpoint.closed) == 40
    extra = closing - quiet
    assert extra == Counter(GetItem=40, DeleteConnection=40, BatchWriteItem=40, DeleteItem=40), extra
    assert sweep_requests(desk, endpoint, monkeypatch) == quiet


def test_the_sweep_deletes_an_expired_socket_s_timer_once(desk, endpoint, monkeypatch):
    # Given a socket past its token's expiry
    from shopdesk.dal.table import Table
    online(desk, "alice")
    connect(desk, endpoint, "T", "alice", expires=int(time.time()) + 3600)
    later_by(monkeypatch, 3601)
    deleted: list[tuple[str, str]] = []
    batch_delete = Table.batch_delete
    monkeypatch.setattr(Table, "batch_delete", lambda self, keys: (deleted.extend(keys), batch_delete(self, keys))[1])
    # When the sweep closes it
    sweep(desk, endpoint)
    # Then the timer is deleted by the sweep's finish only (a second delete of it, in the connection's batch, made
    # the finish's condition fail: a write unit for nothing), and nothing of the socket is left
    assert endpoint.closed == ["T"]
    assert ("CONN#T", EXPIRY) not in deleted and ("CONN#T", "META") in deleted
    assert gone_entirely(desk, "T", "agent:alice", "team:default")


# ------------------------------------------------------------------------------ the fan-out

def test_a_customer_message_reaches_every_connection_that_may_see_it_and_no_other(desk, endpoint):
    # Given alice (team default), carol (team billing) and an admin connected
    assert admin_call(desk, "PUT", "/admin/teams/billing", "[admins]", {"id": "billing", "name": "Billing"})[0] == 200
    online(desk, "alice", "carol")
    assert admin_call(desk, "PUT", "/admin/agents/carol", "[admins]", {"capacity": 3, "team": "billing"})[0] == 200
    connect(desk, endpoint, "A", "alice")
    connect(desk, endpoint, "C", "carol")
    connect(desk, endpoint, "R", "root", roles="admins")
    stream = Stream(desk)
    # When a customer writes and the stream's records reach the consumer
    conv = routed_writes(desk, "+31650000001", "where is my parcel?", "SMlive1")
    result = fan_out(desk, endpoint, stream.read())
    # Then alice and the admin get a notice of the new conversation and of the customer's message (the router's
    # assignment entry, written with the conversation's assignment, has none of its own); carol nothing
    assert result == {"batchItemFailures": []}
    for connection in ("A", "R"):
        frames = endpoint.to(connection)
        assert {(f["kind"], f["conversation_id"]) for f in frames} == {("conversation", conv), ("message", conv)}
        assert all(f["type"] == "change" and f["cursor"] and f["at"] for f in frames)
    assert endpoint.to("C") == []
    # And the notices are in the change log, where alice's catch-up finds them and carol's does not
    assert len(logged(desk)) == 2 and len(change_log(desk)) == 1
    status, start = changes(desk, "alice")
    assert status == 200 and start["items"] == [] and start["more"] is False
    first_cursor = endpoint.to("A")[0]["cursor"]
    status, page = changes(desk, "alice", f"since={first_cursor}")
    assert status == 200 and {i["conversation_id"] for i in page["items"]} == {conv} and len(page["items"]) == 2
    assert changes(desk, "carol", f"since={first_cursor}")[1]["items"] == []


def test_live_frames_carry_ids_and_none_of_the_customer_s_name_number_or_words(desk, endpoint):
    import base64

    from tests.integration.helpers import post_twilio
    from tests.support import twilio_form
    # Given alice and an admin connected
    online(desk, "alice")
    connect(desk, endpoint, "A", "alice")
    connect(desk, endpoint, "R", "root", roles="admins")
    stream = Stream(desk)
    # When a customer with a name writes on WhatsApp, the router routes it, alice replies naming them and notes it
    name, phone, words = "Wilhelmina Vermeulen", "+31655509876", "my parcel to Keizersgracht 12 never came"
    result = post_twilio(desk, twilio_form(MessageSid="SMframes1", From=f"whatsapp:{phone}",
                                           To="whatsapp:+14155550100", Body=words, ProfileName=name))
    assert result["statusCode"] == 200, result
    conv = desk.item(f"IDENTITY#phone#{phone}")["open_conversation_id"]
    route_records(desk)
    assert agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice",
                 {"text": "Sorry Wilhelmina, a new parcel goes out today"})[0] == 202
    assert agent(desk, "POST", f"/agent/conversations/{conv}/notes", "alice",
                 {"text": "Keizersgracht 12: check with the courier @root"})[0] == 201
    assert fan_out(desk, endpoint, stream.read()) == {"batchItemFailures": []}
    # Then every frame is a notice of ids (its cursor too, decoded) and says nothing of the customer
    frames = [frame for _, frame in endpoint.frames]
    assert {f["kind"] for f in frames} >= {"conversation", "message"}
    assert all(set(f) <= {"type", "cursor", "conversation_id", "kind", "message_id", "at", "status"} for f in frames)
    said = json.dumps(frames) + "".join(
        base64.urlsafe_b64decode(f["cursor"] + "=" * (-len(f["cursor"]) % 4)).decode() for f in frames)
    for secret in (name, "Wilhelmina", "Vermeulen", phone, phone[1:], "655509876", "Keizersgracht", "parcel",
                   "courier"):
        assert secret not in said, secret


def routed_writes(desk: Any, phone: str, text: str, sid: str) -> str:
    """A customer message through the real webhook, then the router's routing of it (a new conversation is no
    team's until then); returns the conversation id."""
    conv = customer_writes(desk, phone, text, sid)
    route_records(desk)
    return conv


def listed(desk: Any, agent_id: str, groups: str | None = None) -> tuple[set[str], dict[str, Any]]:
    """What the agent's "all" view lists, and its badges."""
    status, page = agent(desk, "GET", "/agent/conversations", agent_id, query="view=all&counts=true", groups=groups)
    assert status == 200, page
    return {c["id"] for c in page["items"]}, page["counts"]


def test_a_new_conversation_routed_to_another_team_is_never_announced_to_the_default_team(desk, endpoint):
    # Given returns (WhatsApp) and default: bob in default, dave in returns and an admin connected, each with
    # the catch-up's starting cursor
    returns_desk(desk)
    online(desk, "bob", "dave")
    assert set_teams(desk, endpoint, "dave", "returns") == 200
    connect(desk, endpoint, "B", "bob")
    connect(desk, endpoint, "D", "dave")
    connect(desk, endpoint, "R", "root", roles="admins")
    start = {who: changes(desk, who)[1]["cursor"] for who in ("bob", "dave")}
    before = listed(desk, "bob")[1]
    stream = Stream(desk)
    # When a new WhatsApp customer writes (stored by ingest, then routed)
    conv = customer_writes(desk, "+31650000051", "I want to return a jacket", "SMlive51", channel="whatsapp")
    assert fan_out(desk, endpoint, stream.read()) == {"batchItemFailures": []}
    # Then until the router has routed it, only the admin hears of it
    assert {f["conversation_id"] for f in endpoint.to("R")} == {conv}
    assert endpoint.to("B") == [] and endpoint.to("D") == []
    # When the router puts it in returns
    route_records(desk)
    assert desk.item(f"CONV#{conv}")["team"] == "returns"
    assert fan_out(desk, endpoint, stream.read()) == {"batchItemFailures": []}
    # Then returns hears of it and lists it, and bob never heard of it: no frame, no catch-up entry, no list entry,
    # no badge
    assert conv in {f["conversation_id"] for f in endpoint.to("D")}
    assert conv in {i["conversation_id"] for i in changes(desk, "dave", f"since={start['dave']}")[1]["items"]}
    assert conv in listed(desk, "dave")[0]
    assert "B" not in endpoint.posted
    assert changes(desk, "bob", f"since={start['bob']}")[1]["items"] == []
    ids, counts = listed(desk, "bob")
    assert conv not in ids and counts == before
    assert agent(desk, "GET", f"/agent/conversations/{conv}", "bob")[0] == 404


def test_a_new_conversation_routed_to_the_default_team_is_announced_to_it_at_its_routing(desk, endpoint):
    online(desk, "bob")
    connect(desk, endpoint, "B", "bob")
    start = changes(desk, "bob")[1]["cursor"]
    stream = Stream(desk)
    conv = customer_writes(desk, "+31650000052", "where is my parcel?", "SMlive52")
    assert fan_out(desk, endpoint, stream.read()) == {"batchItemFailures": []}
    assert endpoint.to("B") == []
    route_records(desk)
    assert fan_out(desk, endpoint, stream.read()) == {"batchItemFailures": []}
    assert {f["conversation_id"] for f in endpoint.to("B")} == {conv}
    assert {i["conversation_id"] for i in changes(desk, "bob", f"since={start}")[1]["items"]} == {conv}
    assert conv in listed(desk, "bob")[0]


def test_a_conversation_whose_routing_never_comes_is_the_admins_and_the_sweep_sends_its_work_again(desk, endpoint):
    # Given bob (default) and an admin connected, and a new conversation whose routing work was lost (the work
    # queue emptied before the router ran)
    online(desk, "bob")
    connect(desk, endpoint, "B", "bob")
    connect(desk, endpoint, "R", "root", roles="admins")
    stream = Stream(desk)
    conv = customer_writes(desk, "+31650000053", "hello?", "SMlive53")
    desk.client("sqs").purge_queue(QueueUrl=desk.work_queue_url)
    assert fan_out(desk, endpoint, stream.read()) == {"batchItemFailures": []}
    # Then the admins hear of it, list it and open it; no team hears of it yet
    assert {f["conversation_id"] for f in endpoint.to("R")} == {conv} and endpoint.to("B") == []
    assert conv in listed(desk, "root", groups="[admins]")[0]
    assert agent(desk, "GET", f"/agent/conversations/{conv}", "root", groups="[admins]")[0] == 200
    # And after the routing grace the sweep sends its work again, and its routing is the notice its team hears
    clock.set_offset(clock.offset() + 180)
    assert desk.invoke("sla_sweep", {})["rerouted"] == 1
    route_records(desk)
    assert fan_out(desk, endpoint, stream.read()) == {"batchItemFailures": []}
    assert {f["conversation_id"] for f in endpoint.to("B")} == {conv}


def test_a_redelivered_batch_is_posted_again_and_the_catch_up_lists_each_change_once(desk, endpoint):
    online(desk, "alice")
    connect(desk, endpoint, "A", "alice")
    stream = Stream(desk)
    start = changes(desk, "alice")[1]["cursor"]
    routed_writes(desk, "+31650000002", "hello", "SMlive2")
    event = stream.read()
    fan_out(desk, endpoint, event)
    first = endpoint.to("A")
    # When Lambda delivers the same records again (a retry after a timeout, say)
    assert fan_out(desk, endpoint, event) == {"batchItemFailures": []}
    # Then the same notices are posted again (the app refetches twice, harmlessly), each logged again,
    again = endpoint.to("A")[len(first):]
    assert len(first) == 2 and [(f["kind"], f["message_id"]) for f in again] == [(f["kind"], f["message_id"])
                                                                                 for f in first]
    assert len(logged(desk)) == 4 and len(change_log(desk)) == 2     # one item per invocation
    # and the catch-up lists each change once
    status, page = changes(desk, "alice", f"since={start}")
    assert status == 200 and sorted(i["kind"] for i in page["items"]) == ["conversation", "message"]


def test_a_connection_api_gateway_reports_gone_is_deleted_and_the_others_still_served(desk, endpoint):
    online(desk, "alice", "bob")
    connect(desk, endpoint, "A", "alice")
    connect(desk, endpoint, "B", "bob")
    endpoint.open.discard("B")            # bob's laptop lid closed: no $disconnect yet
    stream = Stream(desk)
    # While B is young enough to be a connection whose $connect has not returned, a 410 does not forget it
    routed_writes(desk, "+31650000002", "hello?", "SMlive2")
    assert fan_out(desk, endpoint, stream.read()) == {"batchItemFailures": []}
    assert len(endpoint.to("A")) == 2 and desk.item("CONN#B") is not None
    # A minute later it is gone for good
    from shopdesk import clock
    clock.set_offset(clock.offset() + 60)
    routed_writes(desk, "+31650000003", "anyone there?", "SMlive3")
    assert fan_out(desk, endpoint, stream.read()) == {"batchItemFailures": []}
    assert len(endpoint.to("A")) == 4
    assert desk.item("CONN#B") is None and desk.item("LIVE#agent:bob", "CONN#B") is None
    assert desk.item("LIVE#team:default", "CONN#B") is None and desk.item("CONN#A") is not None


def test_a_record_whose_post_fails_fails_alone_and_its_retry_is_caught_up_once(desk, endpoint):
    # Given alice (default) and carol (billing) connected, carol's connection failing for now
    assert admin_call(desk, "PUT", "/admin/teams/billing", "[admins]", {"id": "billing", "name": "Billing"})[0] == 200
    online(desk, "alice", "carol")
    assert admin_call(desk, "PUT", "/admin/agents/carol", "[admins]", {"capacity": 3, "team": "billing"})[0] == 200
    connect(desk, endpoint, "A", "alice")
    connect(desk, endpoint, "C", "carol")
    endpoint.broken.add("C")
    quiet = routed_writes(desk, "+31650000004", "stays in default", "SMlive4")
    moved = routed_writes(desk, "+31650000005", "about my invoice", "SMlive5")
    stream = Stream(desk)
    fan_out(desk, endpoint, stream.read())      # the creations: default team only, nothing for carol
    # When a supervisor moves one conversation to billing (a change carol's connection should hear)
    status, _ = agent(desk, "PUT", f"/agent/conversations/{moved}/routing", "lead", {"team": "billing"},
                      groups="[supervisors]")
    assert status == 200
    event = stream.read()
    result = fan_out(desk, endpoint, event)
    # Then only the records that had to reach carol are reported failed
    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    conv_records = {r["dynamodb"]["SequenceNumber"]: r["dynamodb"]["Keys"]["PK"]["S"] for r in event["Records"]}
    assert failed and {conv_records[seq] for seq in failed} == {f"CONV#{moved}"}
    assert f"CONV#{quiet}" not in {conv_records[seq] for seq in failed}
    before = len(logged(desk))
    # When carol's connection works again and Lambda retries from the first failed record
    endpoint.broken.clear()
    first = min(failed, key=int)
    retry = {"Records": [r for r in event["Records"] if int(r["dynamodb"]["SequenceNumber"]) >= int(first)]}
    assert fan_out(desk, endpoint, retry) == {"batchItemFailures": []}
    # Then carol has her notice (the team change; its system note, written with it, has none of its own), and her
    # catch-up lists it once
    assert {(f["kind"], f["conversation_id"]) for f in endpoint.to("C")} == {("conversation", moved)}
    assert before < len(logged(desk)) <= before + len(retry["Records"])      # the retried notices again
    caught_up = changes(desk, "carol", f"since={endpoint.to('C')[0]['cursor']}")[1]["items"]
    assert sorted(i["kind"] for i in caught_up) == ["conversation"]


# ------------------------------------------------------------------------------ GET /agent/changes

def test_changes_with_a_cursor_not_ours_or_out_of_range_are_400_and_limit_is_checked(desk):
    online(desk, "alice")
    assert changes(desk, "alice", "since=not-a-cursor")[0] == 400
    assert changes(desk, "alice", "limit=0")[0] == 422
    assert changes(desk, "alice", "limit=501")[0] == 422
    status, body = changes(desk, "alice", "limit=500")
    assert status == 200 and body["items"] == [] and body["cursor"]


def test_changes_page_through_a_backlog_without_losing_or_looping(desk, endpoint):
    online(desk, "alice")
    stream = Stream(desk)
    start = changes(desk, "alice")[1]["cursor"]
    for n in range(3):
        routed_writes(desk, f"+3165000010{n}", f"message {n}", f"SMpage{n}")
    fan_out(desk, endpoint, stream.read())          # nobody connected: the log still gets all six
    seen: list[str] = []
    cursor, pages = start, 0
    while True:
        status, page = changes(desk, "alice", f"since={cursor}&limit=4")
        assert status == 200
        seen += [f"{i['kind']}:{i['conversation_id']}:{i['message_id']}" for i in page["items"]]
        cursor, pages = page["cursor"], pages + 1
        if not page["more"]:
            break
    assert len(set(seen)) == 6 and pages == 2       # each conversation and its message (its assignment entry: none)


def test_a_fan_out_batchs_notices_are_one_log_item_of_two_write_units_not_nine(desk, endpoint):
    from bench.pricing import item_size, write_units
    online(desk, "alice")
    stream = Stream(desk)
    for n in range(3):
        routed_writes(desk, f"+3165000020{n}", f"message {n}", f"SMunit{n}")
    fan_out(desk, endpoint, stream.read())          # six notices: three conversations and their messages
    items = desk.client("dynamodb").query(TableName=desk.table_name, KeyConditionExpression="PK = :pk",
                                          ExpressionAttributeValues={":pk": {"S": "CHANGES"}})["Items"]
    assert len(items) == 1 and len(logged(desk)) == 6
    change = logged(desk)[0]
    assert set(change) <= {"event_id", "conversation_id", "kind", "message_id", "visible", "status"}
    assert write_units(item_size(items[0])) <= 2, item_size(items[0])


def test_changes_one_at_a_time_inside_one_item_each_once_and_in_order(desk, endpoint):
    online(desk, "alice")
    stream = Stream(desk)
    start = changes(desk, "alice")[1]["cursor"]
    for n in range(3):
        routed_writes(desk, f"+3165000030{n}", f"message {n}", f"SMone{n}")
    fan_out(desk, endpoint, stream.read())
    whole = changes(desk, "alice", f"since={start}&limit=500")[1]["items"]
    seen, cursor = [], start
    for _ in range(12):
        status, page = changes(desk, "alice", f"since={cursor}&limit=1")
        assert status == 200 and len(page["items"]) <= 1
        seen += page["items"]
        cursor = page["cursor"]
        if not page["more"]:
            break
    key = [(i["kind"], i["conversation_id"], i["message_id"]) for i in whole]
    assert len(whole) == 6 and [(i["kind"], i["conversation_id"], i["message_id"]) for i in seen] == key


def test_a_position_at_the_end_of_an_item_reads_on_into_the_next_item(desk):
    from datetime import timedelta

    from shopdesk import clock
    from shopdesk.dal.live import ChangeLog, LogEntry, Visibility
    from shopdesk.dal.table import Table

    log = ChangeLog(Table(desk.table_name))

    def batch(prefix: str, at: str) -> list[LogEntry]:
        return log.append([LogEntry(event_id=f"{prefix}{n}", conversation_id=f"c_{prefix}", kind="conversation",
                                    message_id=None, visible=(Visibility("default", None),)) for n in range(2)], at)

    first, second = batch("a", clock.now_iso()), batch("b", clock.iso(clock.now() + timedelta(seconds=1)))
    page = log.after(first[-1].key, 1)
    assert [e.event_id for e in page.entries] == ["b0"] and page.more and page.last_key == second[0].key
    page = log.after(first[0].key, 5)
    assert [e.event_id for e in page.entries] == ["a1", "b0", "b1"] and not page.more


def test_a_change_logged_in_the_layout_before_one_per_item_is_still_caught_up(desk):
    from shopdesk import clock
    from shopdesk.dal.table import Table

    online(desk, "alice")
    start = changes(desk, "alice")[1]["cursor"]
    now = clock.now_iso()
    Table(desk.table_name).put({"PK": "CHANGES", "SK": f"{now}#ev-old", "type": "change", "event_id": "ev-old",
                                "conversation_id": "c_old", "kind": "conversation", "message_id": None, "at": now,
                                "visible": [{"team": "default", "assignee": None}], "ttl": 4102444800})
    status, page = changes(desk, "alice", f"since={start}")
    assert status == 200 and [(i["kind"], i["conversation_id"]) for i in page["items"]] == [("conversation", "c_old")]


def test_the_changes_route_and_its_notices_are_in_the_openapi_document(desk):
    result = desk.invoke("agent_api", http_event("GET", "/agent/openapi.json"))
    doc = json.loads(result["body"])
    operation = doc["paths"]["/agent/changes"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"since", "limit"}
    schemas = doc["components"]["schemas"]
    assert set(schemas["Notice"]["properties"]) == {"type", "cursor", "conversation_id", "kind", "message_id", "at",
                                                    "status"}
    assert set(schemas["ChangeList"]["properties"]) == {"items", "cursor", "more"}


# ------------------------------------------------------------------------------ the $connect authorizer

def test_the_authorizer_allows_an_id_token_of_the_pool_and_refuses_others(desk):
    # Given a user pool and app client in moto, and bob, a supervisor, in it
    cognito = desk.client("cognito-idp")
    pool = cognito.create_user_pool(PoolName=f"agents-{uuid.uuid4().hex[:6]}")["UserPool"]["Id"]
    client = cognito.create_user_pool_client(UserPoolId=pool, ClientName="inbox",
                                             ReadAttributes=["name", "email"])["UserPoolClient"]["ClientId"]
    other = cognito.create_user_pool_client(UserPoolId=pool, ClientName="other")["UserPoolClient"]["ClientId"]
    cognito.admin_create_user(UserPoolId=pool, Username="bob", MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "name", "Value": "Bob"}])
    cognito.admin_set_user_password(UserPoolId=pool, Username="bob", Password="Local-Passw0rd-2024", Permanent=True)
    cognito.create_group(UserPoolId=pool, GroupName="supervisors")
    cognito.admin_add_user_to_group(UserPoolId=pool, Username="bob", GroupName="supervisors")

    def id_token(client_id: str) -> str:
        return cognito.admin_initiate_auth(UserPoolId=pool, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                           AuthParameters={"USERNAME": "bob", "PASSWORD": "Local-Passw0rd-2024"}
                                           )["AuthenticationResult"]["IdToken"]

    env = {"TOKEN_ISSUER": f"https://cognito-idp.us-east-1.amazonaws.com/{pool}", "TOKEN_AUDIENCE": client,
           "JWKS_URL": f"{desk.endpoint}/{pool}/.well-known/jwks.json"}
    arn = "arn:aws:execute-api:us-east-1:123456789012:abc123/dev/$connect"

    def authorize(token: str | None) -> Any:
        event = {"type": "REQUEST", "methodArn": arn, "headers": {},
                 "queryStringParameters": {"token": token} if token is not None else {},
                 "requestContext": {"routeKey": "$connect", "eventType": "CONNECT", "connectionId": "X=",
                                    "stage": STAGE, "apiId": "abc123"}}
        return desk.invoke("live_authorizer", event, **env)

    # When bob connects with his ID token of the inbox's app client, the $connect ARN is allowed, and the socket is
    # told when the token expires
    import jwt
    token = id_token(client)
    answer = authorize(token)
    assert answer["principalId"] == "bob"
    assert answer["policyDocument"]["Statement"] == [{"Action": "execute-api:Invoke", "Effect": "Allow",
                                                      "Resource": arn}]
    assert answer["context"] == {"agent": "bob", "name": "Bob", "roles": "supervisors",
                                 "expires": jwt.decode(token, options={"verify_signature": False})["exp"]}
    # And a token of another app client, a tampered one, garbage or none are Unauthorized (API Gateway: 401)
    good = id_token(client)
    tampered = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    for token in (id_token(other), tampered, "garbage", None):
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            authorize(token)


def test_a_receipt_notice_keeps_its_status_in_the_catch_up(desk):
    from shopdesk import clock
    from shopdesk.dal.live import ChangeLog, LogEntry, Visibility
    from shopdesk.dal.table import Table

    online(desk, "alice")
    start = changes(desk, "alice")[1]["cursor"]
    now = clock.now_iso()
    ChangeLog(Table(desk.table_name)).append([LogEntry(
        event_id="ev-receipt", conversation_id="c_1", kind="message_update", message_id="m_1",
        visible=(Visibility("", "alice"),), status="read")], now)
    status, page = changes(desk, "alice", f"since={start}")
    assert status == 200 and [(i["kind"], i["message_id"], i["status"]) for i in page["items"]] == [
        ("message_update", "m_1", "read")]
    assert changes(desk, "bob", f"since={start}")[1]["items"] == []      # the holder's alone


def test_a_conversation_erased_with_its_customer_is_a_notice_to_the_inboxes_that_showed_it(desk, endpoint):
    from tests.integration.test_privacy import run_jobs
    # Given a customer's conversation with alice, whose inbox is open, and carol's of another team
    assert admin_call(desk, "PUT", "/admin/teams/billing", "[admins]", {"id": "billing", "name": "Billing"})[0] == 200
    online(desk, "alice", "carol")
    assert admin_call(desk, "PUT", "/admin/agents/carol", "[admins]", {"capacity": 3, "team": "billing"})[0] == 200
    conv = customer_writes(desk, "+31650000077", "please forget me", "SMlive77")
    desk.drain_queue(desk.work_queue_url, "router")
    assert desk.item(f"CONV#{conv}")["assignee"] == "alice"
    connect(desk, endpoint, "A", "alice")
    connect(desk, endpoint, "C", "carol")
    stream = Stream(desk)
    fan_out(desk, endpoint, stream.read())             # what happened before: told already
    endpoint.frames.clear()
    start = changes(desk, "alice")[1]["cursor"]
    # When an admin erases the customer and the erase's records reach the fan-out
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    assert admin_call(desk, "POST", f"/admin/customers/{customer}/erase", "[admins]")[0] == 202
    run_jobs(desk)
    assert desk.item(f"CONV#{conv}") is None
    assert fan_out(desk, endpoint, stream.read()) == {"batchItemFailures": []}
    # Then alice's inbox hears that the conversation changed (one notice, not one per message), carol's nothing
    assert [(f["kind"], f["conversation_id"]) for f in endpoint.to("A")] == [("conversation", conv)]
    assert endpoint.to("C") == []
    # and a catch-up after a reconnect finds it too
    status, page = changes(desk, "alice", f"since={start}")
    erased = endpoint.to("A")[0]["cursor"]
    assert status == 200 and erased in {i["cursor"] for i in page["items"]}
    assert erased not in {i["cursor"] for i in changes(desk, "carol", f"since={start}")[1]["items"]}
