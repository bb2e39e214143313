"""The live path's pieces that need no network: Cognito ID tokens, and what the local stack emulates of
API Gateway WebSocket APIs (policies, route selection) and of Lambda's DynamoDB-stream event source
(filters, batch failures), checked against template.yaml itself."""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from local.functions import FunctionSpec, stream_source
from local.live import (
    WebSocketApi,
    WsRoute,
    mock_status_of,
    policy_allows,
    read_websocket_apis,
    rewrite_environment,
    select_route,
)
from local.runtime import Invocation
from local.streams import failed_position, lambda_record, passes
from local.template import Physical, Resolver, TemplateError, load_template
from shopdesk.api.tokens import InvalidToken, TokenVerifier

ROOT = Path(__file__).resolve().parents[2]
ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_pool"
CLIENT = "app-client-id"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


# ------------------------------------------------------------------------------ ID tokens

def verifier() -> TokenVerifier:
    checker = TokenVerifier(ISSUER, CLIENT, "https://cognito-idp.us-east-1.amazonaws.com/jwks.json")
    public = jwt.PyJWK.from_dict({**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key())),
                                  "kid": "k1", "alg": "RS256", "use": "sig"})

    def signing_key(kid: str) -> jwt.PyJWK:
        if kid != "k1":
            raise jwt.PyJWKClientError(f"no key {kid}")
        return public

    checker._jwks.get_signing_key = signing_key  # type: ignore[method-assign]   # no JWKS fetch in unit tests
    return checker


def token(key: Any = KEY, kid: str = "k1", algorithm: str = "RS256", **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": CLIENT, "token_use": "id", "cognito:username": "bob", "name": "Bob",
            "cognito:groups": ["supervisors"], "iat": now, "exp": now + 3600, **claims}
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode(body, key, algorithm=algorithm, headers={"kid": kid})


def test_a_valid_id_token_names_the_agent_and_their_groups():
    caller = verifier().verify(token())
    assert caller.agent_id == "bob" and caller.name == "Bob" and caller.roles == {"supervisors"}


@pytest.mark.parametrize("bad", [
    pytest.param(lambda: None, id="missing"),
    pytest.param(lambda: "not-a-jwt", id="malformed"),
    pytest.param(lambda: token(exp=int(time.time()) - 1), id="expired"),
    pytest.param(lambda: token(nbf=int(time.time()) + 600), id="not yet valid"),
    pytest.param(lambda: token(iat=None), id="no issued-at"),
    pytest.param(lambda: token(iss=None), id="no issuer"),
    pytest.param(lambda: token(aud="another-client"), id="another app client"),
    pytest.param(lambda: token(iss="https://cognito-idp.us-east-1.amazonaws.com/other"), id="another pool"),
    pytest.param(lambda: token(key=OTHER_KEY), id="forged signature"),
    pytest.param(lambda: token(kid="unknown"), id="unknown key"),
    pytest.param(lambda: token(token_use="access"), id="access token"),
    pytest.param(lambda: token(**{"cognito:username": None}), id="no agent"),
    pytest.param(lambda: jwt.encode({"iss": ISSUER, "aud": CLIENT, "exp": int(time.time()) + 60}, "secret-key-"
                                    "that-is-long-enough-for-hs256", algorithm="HS256"), id="HS256"),
])
def test_anything_but_a_valid_id_token_of_the_pool_is_refused(bad):
    with pytest.raises(InvalidToken):
        verifier().verify(bad())


# ------------------------------------------------------------------------------ WebSocket API emulation

ARN = "arn:aws:execute-api:us-east-1:123456789012:localws/dev/$connect"


def policy(effect: str, resource: str | list[str]) -> dict[str, Any]:
    return {"principalId": "bob", "policyDocument": {"Version": "2012-10-17", "Statement": [
        {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}]}}


def test_an_authorizer_policy_must_allow_the_connect_method_arn():
    assert policy_allows(policy("Allow", ARN), ARN)
    assert policy_allows(policy("Allow", "arn:aws:execute-api:us-east-1:123456789012:localws/*"), ARN)
    assert not policy_allows(policy("Allow", "arn:aws:execute-api:us-east-1:123456789012:localws/dev/*/*"), ARN)
    assert not policy_allows(policy("Deny", ARN), ARN)
    assert not policy_allows({"principalId": "bob"}, ARN)


def test_frames_are_routed_by_the_selection_expression_else_to_default():
    api = WebSocketApi("LiveApi", "localws", "dev", "$request.body.action",
                       {"$default": WsRoute("$default", "F", None), "subscribe": WsRoute("subscribe", "G", None)})
    assert select_route(api, json.dumps({"action": "subscribe"})) == "subscribe"
    assert select_route(api, json.dumps({"action": "other"})) == "$default"
    assert select_route(api, json.dumps({"type": "ping"})) == "$default"
    assert select_route(api, "not json") == "$default"
    # the connection's own routes are never a frame's
    api.routes["$connect"] = WsRoute("$connect", "F", None)
    api.routes["$disconnect"] = WsRoute("$disconnect", "F", None)
    assert select_route(api, json.dumps({"action": "$connect"})) == "$default"
    assert select_route(api, json.dumps({"action": "$disconnect"})) == "$default"


@pytest.mark.parametrize("frame", ["[" * 100_000, '{"action": ' + "[" * 100_000,
                                   '{"action": "subscribe", "n": ' + "9" * 5_000 + "}"])
def test_a_frame_the_decoder_cannot_read_goes_to_default_as_api_gateway_routes_it(frame):
    # API Gateway sends a frame whose selection expression it cannot evaluate to $default; the decoder gives up on
    # one nested a hundred thousand levels (RecursionError) or with an integer of 5,000 digits (ValueError)
    api = WebSocketApi("LiveApi", "localws", "dev", "$request.body.action",
                       {"$default": WsRoute("$default", "F", None), "subscribe": WsRoute("subscribe", "G", None)})
    assert select_route(api, frame) == "$default"


def test_the_functions_are_pointed_at_the_local_connections_api_and_moto_jwks():
    spec = FunctionSpec("F", "f", "arn:f", "app.lambda_handler", ROOT, [], {
        "LIVE_CONNECTIONS_ENDPOINT": "https://localws.execute-api.us-east-1.amazonaws.com/dev",
        "OTHER": "https://elsewhere.execute-api.us-east-1.amazonaws.com/dev",
        "JWKS_URL": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc/.well-known/jwks.json"}, 3, 128)
    api = WebSocketApi("LiveApi", "localws", "dev", "$request.body.action")
    rewrite_environment({"F": spec}, [api], "http://127.0.0.1:3000", "http://127.0.0.1:5000")
    assert spec.environment == {
        "LIVE_CONNECTIONS_ENDPOINT": "http://127.0.0.1:3000/_local/live/localws/dev",
        "OTHER": "https://elsewhere.execute-api.us-east-1.amazonaws.com/dev",
        "JWKS_URL": "http://127.0.0.1:5000/us-east-1_abc/.well-known/jwks.json"}


def test_a_second_websocket_api_of_the_stage_gets_a_path_of_its_own_and_its_wss_url_the_local_one():
    spec = FunctionSpec("F", "f", "arn:f", "app.lambda_handler", ROOT, [], {
        "WIDGET_LIVE_URL": "wss://localws2.execute-api.us-east-1.amazonaws.com/dev",
        "WIDGET_CONNECTIONS_ENDPOINT": "https://localws2.execute-api.us-east-1.amazonaws.com/dev",
        "OTHER": "wss://elsewhere.execute-api.us-east-1.amazonaws.com/dev"}, 3, 128)
    live = WebSocketApi("LiveApi", "localws", "dev", "$request.body.action")
    widget = WebSocketApi("WidgetLiveApi", "localws2", "dev", "$request.body.action", path="/WidgetLiveApi/dev")
    rewrite_environment({"F": spec}, [live, widget], "http://127.0.0.1:3000", "http://127.0.0.1:5000",
                        "ws://127.0.0.1:3001")
    assert spec.environment == {
        "WIDGET_LIVE_URL": "ws://127.0.0.1:3001/WidgetLiveApi/dev",
        "WIDGET_CONNECTIONS_ENDPOINT": "http://127.0.0.1:3000/_local/live/localws2/dev",
        "OTHER": "wss://elsewhere.execute-api.us-east-1.amazonaws.com/dev"}
    assert live.path == "/dev"


def widget_socket_api() -> WebSocketApi:
    """The widget's WebSocket API as the local stack reads it from template.yaml (its resources only)."""
    template = load_template(ROOT / "template.yaml")
    arn = "arn:aws:lambda:us-east-1:123456789012:function:shopdesk-dev-WidgetLiveFunction"
    physical = {lid: Physical(f"id-{lid}", {"Arn": arn}) for lid in template["Resources"]}
    resolver = Resolver(template, {"Stage": "dev"}, "us-east-1", physical.__getitem__)
    provisioner = SimpleNamespace(lookup=physical.__getitem__, of_type=lambda kind: [
        lid for lid, r in template["Resources"].items() if r["Type"] == kind and lid.startswith("WidgetLive")])
    spec = FunctionSpec("WidgetLiveFunction", "f", arn, "app.lambda_handler", ROOT, [], {}, 3, 128)
    [api] = read_websocket_apis(template, resolver, provisioner, {"WidgetLiveFunction": spec})  # type: ignore[arg-type]
    return api


def test_the_widgets_keepalive_reaches_a_mock_default_route_that_invokes_nothing():
    api = widget_socket_api()
    assert {key: (r.function, r.mock) for key, r in api.routes.items()} == {
        "$connect": ("WidgetLiveFunction", False), "$disconnect": ("WidgetLiveFunction", False),
        "$default": (None, True)}
    assert api.routes["$default"].mock_status == 200
    # the widget's frame names an action no route has: $default takes it
    assert select_route(api, json.dumps({"action": "keepalive"})) == "$default"


def test_a_mock_integration_answers_the_status_its_request_template_names():
    assert mock_status_of("R", {"TemplateSelectionExpression": "\\$default",
                                "RequestTemplates": {"$default": '{"statusCode": 200}'}}) == 200
    assert mock_status_of("R", {"RequestTemplates": {"application/json": '{ "statusCode" : 403 }'}}) == 403
    for unusable in ({}, {"RequestTemplates": {}}, {"RequestTemplates": {"$default": '{"status": 200}'}}):
        with pytest.raises(TemplateError):
            mock_status_of("R", unusable)


def test_sockets_idle_for_ten_minutes_are_closed_unless_the_environment_says_otherwise(monkeypatch, tmp_path):
    from local.live import IDLE_TIMEOUT_SECONDS, LiveApis
    from local.settings import Settings

    monkeypatch.setenv("LOCAL_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("LIVE_IDLE_TIMEOUT_S", raising=False)
    assert Settings.from_env().live_idle_timeout_s == IDLE_TIMEOUT_SECONDS == 600      # API Gateway's quota
    assert LiveApis([], None, 0, "us-east-1").idle_timeout == 600                      # type: ignore[arg-type]
    monkeypatch.setenv("LIVE_IDLE_TIMEOUT_S", "2.5")
    assert Settings.from_env().live_idle_timeout_s == 2.5
    monkeypatch.setenv("LIVE_IDLE_TIMEOUT_S", "0")                                     # never
    assert Settings.from_env().live_idle_timeout_s == 0


# ------------------------------------------------------------------------------ DynamoDB stream event source

def template_stream_source() -> Any:
    template = load_template(ROOT / "template.yaml")
    props = dict(template["Resources"]["LiveFanoutFunction"]["Properties"]["Events"]["TableStream"]["Properties"])
    props["Stream"] = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026"
    props["DestinationConfig"] = {"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:123456789012:q"}}
    return stream_source("LiveFanoutFunction", "TableStream", props)


def raw(pk: str, sk: str, seq: str) -> dict[str, Any]:
    return {"eventID": f"e{seq}", "eventName": "INSERT", "awsRegion": "us-east-1", "dynamodb": {
        "Keys": {"PK": {"S": pk}, "SK": {"S": sk}}, "SequenceNumber": seq, "StreamViewType": "NEW_AND_OLD_IMAGES",
        "NewImage": {"PK": {"S": pk}, "SK": {"S": sk}, "blob": {"B": b"\x00\x01"}}}}


def test_the_templates_filter_passes_conversations_messages_and_mentions_only():
    source = template_stream_source()
    assert source.report_failures and source.bisect and source.max_retries == 5 and source.batch_size == 100
    arn = source.stream_arn
    assert passes(source, lambda_record(raw("CONV#c_1", "META", "1"), arn))
    assert passes(source, lambda_record(raw("CONV#c_1", "MSG#2026#m_1", "2"), arn))
    assert passes(source, lambda_record(raw("CONV#c_1", "MENTION#bob", "4"), arn))
    for pk, sk in [("CONV#c_1", "DEADLINE#first_response"), ("CONV#c_1", "GRANT#bob"),
                   ("SLAEVENT#2026-12-03", "x"), ("CONN#x", "META"), ("CHANGES", "2026#e"),
                   ("LIVE#team:default", "CONN#x"), ("AGENT#bob", "META")]:
        assert not passes(source, lambda_record(raw(pk, sk, "3"), arn)), (pk, sk)


def test_stream_records_take_the_lambda_event_shape():
    record = lambda_record(raw("CONV#c_1", "META", "7"), "arn:stream")
    assert record["eventSourceARN"] == "arn:stream" and record["eventSource"] == "aws:dynamodb"
    assert record["dynamodb"]["NewImage"]["blob"] == {"B": "AAE="}


def test_batch_failures_checkpoint_before_the_first_failed_record():
    batch = [lambda_record(raw("CONV#c", "META", str(n)), "arn") for n in (10, 11, 12)]
    ok = Invocation(True, {"batchItemFailures": []})
    assert failed_position(ok, batch, True) == 3
    assert failed_position(Invocation(True, {"batchItemFailures": [{"itemIdentifier": "12"},
                                                                    {"itemIdentifier": "11"}]}), batch, True) == 1
    assert failed_position(Invocation(True, {"batchItemFailures": [{"itemIdentifier": "99"}]}), batch, True) is None
    assert failed_position(Invocation(False, error={"errorMessage": "boom"}), batch, True) is None
    assert failed_position(Invocation(True, {"batchItemFailures": [{"itemIdentifier": "11"}]}), batch, False) == 3


def test_a_drain_waits_for_a_read_that_started_after_it_and_found_nothing():
    import threading
    from types import SimpleNamespace

    from local.streams import StreamPollers

    pollers = StreamPollers([], aws=None, runtime=None, queues={})  # type: ignore[arg-type]
    writer = SimpleNamespace(source=SimpleNamespace(function="AnalyticsWriterFunction"), caught_up_at=time.monotonic())
    other = SimpleNamespace(source=SimpleNamespace(function="LiveFanoutFunction"), caught_up_at=0.0)
    pollers.pollers = [writer, other]  # type: ignore[list-item]
    # a read that finished before the drain was asked does not count
    assert pollers.drain({"AnalyticsWriterFunction"}, timeout=0.3) is False
    # one that starts afterwards and finds the stream empty does; other functions' pollers are not waited for
    threading.Timer(0.1, lambda: setattr(writer, "caught_up_at", time.monotonic())).start()
    assert pollers.drain({"AnalyticsWriterFunction"}, timeout=10) is True
