"""The local stack's own contract, checked over HTTP against a small throwaway system.

The throwaway template uses the same resource types and event kinds as the real one (FIFO queues
with a DLQ, a JWT-protected HttpApi on a Cognito pool, a secret, an event bus, a schedule, a
layer with ``shopdesk.clock``), with handlers that report what they received, so these tests pin
down the behaviour of the stack itself: API Gateway events and authorizer, SQS batch semantics,
schedules, the clock, the provider sandbox and the isolation of each function's environment.

A second throwaway system does the same for the channels' local services: S3 notifications (a
SAM S3 event with a DLQ), SES inbound through a receipt rule (``/_local/email``), mail sent with
SES in the outbox, the Meta Graph API and Telegram Bot API sandboxes, and the new secrets.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import jwt
import pytest
from conftest import REPO, StackClient
from jwt.algorithms import RSAAlgorithm
from moto.utilities.utils import load_resource

pytestmark = pytest.mark.e2e

TWILIO_SID = "AC11111111111111111111111111111111"
TWILIO_TOKEN = "e2e-twilio-token"
TWILIO_AUTH = "Basic " + base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
MESSAGES = f"/_sandbox/twilio/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"

TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: {Type: String, Default: e2e}
  PublicBaseUrl: {Type: String, Default: ""}
  TwilioApiBaseUrl: {Type: String, Default: https://api.twilio.com}
  DispatchBackoffBaseSeconds: {Type: Number, Default: 5}
  Greeting: {Type: String, Default: hello}
Conditions:
  HasPublicBaseUrl: !Not [!Equals [!Ref PublicBaseUrl, ""]]
  Never: !Equals [a, b]
Globals:
  Function:
    Runtime: python3.13
    Timeout: 10
    MemorySize: 256
    Layers: [!Ref SharedLayer]
    Environment:
      Variables:
        TABLE_NAME: !Ref DeskTable
        STAGE: !Ref Stage
        EVENT_BUS_NAME: !Ref DeskEventBus
Resources:
  SharedLayer:
    Type: AWS::Serverless::LayerVersion
    Properties: {LayerName: !Sub "e2e-${Stage}-shared", ContentUri: layers/shared/}
  DeskTable:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "e2e-${Stage}"
      BillingMode: PAY_PER_REQUEST
      TimeToLiveSpecification: {AttributeName: ttl, Enabled: true}
      StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES}
      AttributeDefinitions:
        - {AttributeName: PK, AttributeType: S}
        - {AttributeName: SK, AttributeType: S}
        - {AttributeName: GPK, AttributeType: S}
      KeySchema:
        - {AttributeName: PK, KeyType: HASH}
        - {AttributeName: SK, KeyType: RANGE}
      GlobalSecondaryIndexes:
        - IndexName: ByG
          KeySchema: [{AttributeName: GPK, KeyType: HASH}]
          Projection: {ProjectionType: KEYS_ONLY}
  Unused:
    Type: AWS::SQS::Queue
    Condition: Never
  TwilioSecret:
    Type: AWS::SecretsManager::Secret
    Properties:
      Name: !Sub "e2e/${Stage}/twilio"
      SecretString: '{"account_sid": "placeholder", "auth_token": "placeholder"}'
  WorkQueue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "e2e-${Stage}-work.fifo"
      FifoQueue: true
      VisibilityTimeout: 4      # longer than a loaded machine takes to run and delete a record
      RedrivePolicy: {deadLetterTargetArn: !GetAtt WorkDeadLetterQueue.Arn, maxReceiveCount: 2}
  WorkDeadLetterQueue:
    Type: AWS::SQS::Queue
    Properties: {QueueName: !Sub "e2e-${Stage}-work-dlq.fifo", FifoQueue: true}
  SweepDeadLetterQueue:
    Type: AWS::SQS::Queue
    Properties: {QueueName: !Sub "e2e-${Stage}-sweep-dlq"}
  DeskEventBus:
    Type: AWS::Events::EventBus
    Properties: {Name: !Sub "e2e-${Stage}"}
  AgentUserPool:
    Type: AWS::Cognito::UserPool
    Properties:
      UserPoolName: !Sub "e2e-${Stage}-agents"
      AdminCreateUserConfig: {AllowAdminCreateUserOnly: true}
      Policies:
        PasswordPolicy:
          {MinimumLength: 12, RequireLowercase: true, RequireUppercase: true, RequireNumbers: true}
  AgentUserPoolClient:
    Type: AWS::Cognito::UserPoolClient
    Properties: {UserPoolId: !Ref AgentUserPool, GenerateSecret: false}
  HttpApi:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        DefaultAuthorizer: AgentJwt
        Authorizers:
          AgentJwt:
            IdentitySource: $request.header.Authorization
            JwtConfiguration:
              issuer: !Sub "https://cognito-idp.${AWS::Region}.amazonaws.com/${AgentUserPool}"
              audience: [!Ref AgentUserPoolClient]
  AgentFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/agent/
      Handler: app.lambda_handler
      Environment: {Variables: {DEFAULT_CAPACITY: 3}}
      Events:
        Me: {Type: HttpApi, Properties: {ApiId: !Ref HttpApi, Path: /agent/me, Method: GET}}
        Presence: {Type: HttpApi, Properties: {ApiId: !Ref HttpApi, Path: /agent/me/presence, Method: PUT}}
  EchoFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/echo/
      Handler: app.lambda_handler
      Timeout: 2
      Environment:
        Variables:
          HAS_PUBLIC_URL: !If [HasPublicBaseUrl, "yes", "no"]
          SUBBED: !Sub "${AWS::Region}|${DeskTable.Arn}|${!Literal}|${Greeting}"
          JOINED: !Join ["-", [a, !Select [1, !Split [",", "x,y,z"]]]]
          QUEUE_URL: !GetAtt WorkQueue.QueueUrl
          TWILIO_API_BASE_URL: !Ref TwilioApiBaseUrl
          BACKOFF: !Ref DispatchBackoffBaseSeconds
      Events:
        Echo:
          Type: HttpApi
          Properties: {ApiId: !Ref HttpApi, Path: "/echo/{proxy+}", Method: ANY, Auth: {Authorizer: NONE}}
        Item:
          Type: HttpApi
          Properties: {ApiId: !Ref HttpApi, Path: "/items/{id}", Method: GET, Auth: {Authorizer: NONE}}
        ItemLiteral:
          Type: HttpApi
          Properties: {ApiId: !Ref HttpApi, Path: /items/special, Method: GET, Auth: {Authorizer: NONE}}
  WorkerFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/worker/
      Handler: app.lambda_handler
      Environment:
        Variables:
          TWILIO_SECRET_ARN: !Ref TwilioSecret
          TWILIO_API_BASE_URL: !Ref TwilioApiBaseUrl
          STATUS_CALLBACK_BASE_URL: !If [HasPublicBaseUrl, !Ref PublicBaseUrl, "https://example.invalid"]
      Events:
        Work:
          Type: SQS
          Properties:
            Queue: !GetAtt WorkQueue.Arn
            BatchSize: 10
            FunctionResponseTypes: [ReportBatchItemFailures]
  StatusFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/status/
      Handler: app.lambda_handler
      Environment:
        Variables:
          TWILIO_SECRET_ARN: !Ref TwilioSecret
          PUBLIC_BASE_URL: !Ref PublicBaseUrl
      Events:
        Status:
          Type: HttpApi
          Properties: {ApiId: !Ref HttpApi, Path: /webhooks/status, Method: POST, Auth: {Authorizer: NONE}}
  BrokenFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/broken/
      Handler: app.lambda_handler
      Events:
        Broken:
          Type: HttpApi
          Properties: {ApiId: !Ref HttpApi, Path: /broken, Method: GET, Auth: {Authorizer: NONE}}
  SweepFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/sweep/
      Handler: app.lambda_handler
      Events:
        EveryMinute:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: rate(1 minute)
            Input: '{"source": "schedule"}'
            RetryPolicy: {MaximumRetryAttempts: 2}
            DeadLetterConfig: {Arn: !GetAtt SweepDeadLetterQueue.Arn}
"""

FILES = {
    "layers/shared/shopdesk/__init__.py": "",
    "layers/shared/shopdesk/clock.py": """
_offset = 0.0

def set_offset(seconds):
    global _offset
    _offset = float(seconds)

def offset():
    return _offset
""",
    "layers/shared/shopdesk/bus.py": """
import json, os, boto3

_events = boto3.client("events")

def emit(detail_type, detail):
    _events.put_events(Entries=[{"Source": "e2e", "DetailType": detail_type, "Detail": json.dumps(detail),
                                 "EventBusName": os.environ["EVENT_BUS_NAME"]}])
""",
    "functions/agent/app.py": """
import json, os, boto3

table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])

def lambda_handler(event, context):
    claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
    agent = claims["cognito:username"]
    if event["routeKey"] == "PUT /agent/me/presence":
        presence = json.loads(event["body"])["presence"]
        table.put_item(Item={"PK": "AGENT#" + agent, "SK": "META", "presence": presence,
                             "capacity": int(os.environ["DEFAULT_CAPACITY"])})
        return {"statusCode": 200, "headers": {"content-type": "application/json"},
                "body": json.dumps({"agent": agent, "presence": presence})}
    item = table.get_item(Key={"PK": "AGENT#" + agent, "SK": "META"}).get("Item")
    return {"claims": claims, "scopes": event["requestContext"]["authorizer"]["jwt"]["scopes"], "agent": item}
""",
    "functions/echo/app.py": """
import json, os, sys, time
import boto3
from shopdesk import clock

COLD = {"count": 0}

def lambda_handler(event, context):
    COLD["count"] += 1
    path = event["rawPath"]
    if path == "/echo/fail":
        raise ValueError("asked to fail")
    if path == "/echo/slow":
        time.sleep(5)
    if path == "/echo/nap":
        started = time.time()
        time.sleep(1)
        return {"started": started, "ended": time.time(), "environment": f"{os.getpid()}-{id(COLD)}"}
    if path == "/echo/print":
        print("hello from echo")
        print("to stderr", file=sys.stderr)
    if path == "/echo/raw":
        return {"statusCode": 201, "headers": {"x-one": "1"}, "multiValueHeaders": {"x-many": ["a", "b"]},
                "cookies": ["a=1; Path=/", "b=2"], "body": "aGVsbG8=", "isBase64Encoded": True}
    if path == "/echo/plain":
        return ["not", "a", "response"]
    if path == "/echo/enqueue":
        body = json.loads(event["body"])
        sqs = boto3.client("sqs")
        for index, message in enumerate(body["messages"]):
            sqs.send_message(QueueUrl=os.environ["QUEUE_URL"], MessageBody=json.dumps(message),
                             MessageGroupId=message.get("group", "g"), MessageDeduplicationId=message["id"],
                             MessageAttributes={"kind": {"DataType": "String",
                                                         "StringValue": message["kind"]}})
        return {"queued": len(body["messages"])}
    return {
        "event": event,
        "env": dict(os.environ),
        "context": {"function_name": context.function_name, "memory": context.memory_limit_in_mb,
                    "arn": context.invoked_function_arn, "request_id": context.aws_request_id,
                    "remaining": context.get_remaining_time_in_millis()},
        "clock_offset": clock.offset(),
        "invocations_in_this_environment": COLD["count"],
        "sys_path": sys.path,
    }
""",
    "functions/worker/app.py": """
import json, os, urllib.parse, urllib.request, base64
import boto3
from shopdesk.bus import emit

secrets = boto3.client("secretsmanager")
secret = json.loads(secrets.get_secret_value(SecretId=os.environ["TWILIO_SECRET_ARN"])["SecretString"])

def send(message):
    sid, token = secret["account_sid"], secret["auth_token"]
    callback = os.environ["STATUS_CALLBACK_BASE_URL"] + "/webhooks/status"
    form = urllib.parse.urlencode({"To": message["to"], "From": "+15550000000", "Body": message["body"],
                                   "StatusCallback": callback})
    request = urllib.request.Request(
        f"{os.environ['TWILIO_API_BASE_URL']}/2010-04-01/Accounts/{sid}/Messages.json", data=form.encode(),
        headers={"Authorization": "Basic " + base64.b64encode(f"{sid}:{token}".encode()).decode()},
        method="POST")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)["sid"]

def lambda_handler(event, context):
    failures = []
    for record in event["Records"]:
        message = json.loads(record["body"])
        detail = {"id": message["id"], "kind": message["kind"], "record": record}
        if message["kind"] == "send":
            detail["sid"] = send(message)
        emit("work", detail)
        if message["kind"] == "fail":
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
""",
    "functions/status/app.py": """
import base64, hashlib, hmac, json, os, urllib.parse
import boto3
from shopdesk.bus import emit

secrets = boto3.client("secretsmanager")
secret = secrets.get_secret_value(SecretId=os.environ["TWILIO_SECRET_ARN"])["SecretString"]
token = json.loads(secret)["auth_token"]

def lambda_handler(event, context):
    body = base64.b64decode(event["body"]).decode() if event["isBase64Encoded"] else event["body"]
    params = urllib.parse.parse_qs(body, keep_blank_values=True)
    url = os.environ["PUBLIC_BASE_URL"] + event["rawPath"]
    payload = url + "".join(k + v for k in sorted(params) for v in sorted(params[k]))
    expected = base64.b64encode(hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()).decode()
    valid = hmac.compare_digest(expected, event["headers"].get("x-twilio-signature", ""))
    emit("status", {"sid": params["MessageSid"][0], "status": params["MessageStatus"][0], "valid": valid,
                    "base64": event["isBase64Encoded"]})
    return {"statusCode": 204 if valid else 403}
""",
    "functions/broken/app.py": """
raise RuntimeError("broken at import")
""",
    "functions/sweep/app.py": """
from shopdesk import clock

def lambda_handler(event, context):
    return {"event": event, "clock_offset": clock.offset()}
""",
}


@pytest.fixture(scope="module")
def fake(tmp_path_factory: pytest.TempPathFactory, stack_launcher: Callable[..., StackClient]) -> StackClient:
    root = tmp_path_factory.mktemp("throwaway-system")
    (root / "template.yaml").write_text(TEMPLATE)
    for relative, content in FILES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content.lstrip())
    return stack_launcher(
        root / "template.yaml",
        {
            "TWILIO_ACCOUNT_SID": TWILIO_SID,
            "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
            "PARAMETER_OVERRIDES": "Greeting='hi there'",
            "LOCAL_CONCURRENCY": "2",
            "CANARY_MUST_NOT_LEAK": "1",
        },
    )


def echo(stack: StackClient, path: str = "/echo/x", **kwargs: Any) -> dict[str, Any]:
    answer = stack.request(kwargs.pop("method", "GET"), path, **kwargs)
    assert answer.status == 200, answer.text
    return answer.json()


def forged_token(stack: StackClient, **changes: Any) -> str:
    """A token signed with moto's Cognito key, like the pool's own, with some claims changed."""
    claims = jwt.decode(stack.token("alice"), options={"verify_signature": False})
    claims.update(changes)
    key = RSAAlgorithm.from_jwk(json.dumps(load_resource("cognitoidp/resources/jwks-private.json")))
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "dummy"})  # type: ignore[arg-type]


# ---------------------------------------------------------------- health, tokens, authorizer


def test_health_is_ok_once_seeded(fake: StackClient) -> None:
    answer = fake.get("/_local/health")
    assert (answer.status, answer.json()) == (200, {"status": "ok", "knowledge_base": "none"})   # no KB route


def test_token_is_a_cognito_id_token_for_the_agent(fake: StackClient) -> None:
    claims = jwt.decode(fake.token("alice"), options={"verify_signature": False})
    assert claims["cognito:username"] == "alice"
    assert claims["token_use"] == "id"
    assert claims["name"] == "Alice Example"
    assert claims["iss"].startswith("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_")


def test_token_for_unknown_agent_is_404(fake: StackClient) -> None:
    assert fake.get("/_local/token?agent=mallory").status == 404


def test_seeding_went_through_the_agent_api(fake: StackClient) -> None:
    answer = fake.get("/agent/me", token=fake.token("bob"))
    assert answer.status == 200, answer.text
    assert answer.json()["agent"] == {"PK": "AGENT#bob", "SK": "META", "presence": "online", "capacity": 3}


def test_good_token_reaches_the_function_with_string_claims(fake: StackClient) -> None:
    answer = fake.get("/agent/me", token=fake.token("alice"))
    assert answer.status == 200, answer.text
    body = answer.json()
    assert body["claims"]["cognito:username"] == "alice"
    assert isinstance(body["claims"]["exp"], str) and body["claims"]["exp"].isdigit()
    assert body["scopes"] is None  # an ID token has no scope claim


def test_token_without_bearer_prefix_is_accepted(fake: StackClient) -> None:
    answer = fake.get("/agent/me", headers={"Authorization": fake.token("alice")})
    assert answer.status == 200


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer not-a-jwt", "Basic YWxpY2U6cGFzc3dvcmQ="],
    ids=["missing", "empty", "garbage", "basic"],
)
def test_agent_route_refuses_missing_or_garbage_token(fake: StackClient, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    answer = fake.get("/agent/me", headers=headers)
    assert (answer.status, answer.json()) == (401, {"message": "Unauthorized"})


def test_agent_route_refuses_expired_token(fake: StackClient) -> None:
    token = forged_token(fake, exp=int(time.time()) - 10, iat=int(time.time()) - 3600)
    assert fake.get("/agent/me", token=token).status == 401


def test_agent_route_refuses_wrong_audience(fake: StackClient) -> None:
    assert fake.get("/agent/me", token=forged_token(fake, aud="some-other-client")).status == 401


def test_agent_route_refuses_wrong_issuer(fake: StackClient) -> None:
    token = forged_token(fake, iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other")
    assert fake.get("/agent/me", token=token).status == 401


def test_agent_route_refuses_tampered_signature(fake: StackClient) -> None:
    header, payload, signature = fake.token("alice").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["cognito:username"] = "bob"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    assert fake.get("/agent/me", token=f"{header}.{forged}.{signature}").status == 401


def test_forged_token_with_the_right_claims_is_accepted(fake: StackClient) -> None:
    # guards the negative tests above: only the changed claim makes them fail
    assert fake.get("/agent/me", token=forged_token(fake)).status == 200


# ---------------------------------------------------------------- routing and payload format 2.0


def test_unknown_route_is_404(fake: StackClient) -> None:
    answer = fake.get("/nowhere")
    assert (answer.status, answer.json()) == (404, {"message": "Not Found"})
    assert fake.request("DELETE", "/agent/me").status == 404


@pytest.mark.parametrize("method", ["PATCH", "OPTIONS", "DELETE", "TRACE", "PROPFIND", "PURGE"])
def test_every_method_without_a_route_is_404_json_and_any_routes_take_every_method(fake: StackClient,
                                                                                    method: str) -> None:
    # GET /items/{id} only: another method on it has no route (no 501 page from the HTTP server)
    answer = fake.request(method, "/items/42", headers={"Origin": "http://localhost:5173",
                                                         "Access-Control-Request-Method": "GET"})
    assert (answer.status, answer.json()) == (404, {"message": "Not Found"})
    assert answer.headers["content-type"] == "application/json" and answer.headers["apigw-requestid"]
    assert fake.request(method, "/_local/health").status == 404
    # ANY /echo/{proxy+} takes whatever method comes
    event = fake.request(method, "/echo/any").json()["event"]
    assert (event["routeKey"], event["requestContext"]["http"]["method"]) == ("ANY /echo/{proxy+}", method)


def test_http_api_event_has_payload_format_2(fake: StackClient) -> None:
    body = echo(
        fake,
        "/echo/a/b%20c?x=1&x=2&empty=&y=%C3%A9",
        method="POST",
        json_body={"hello": "world"},
        headers={"Cookie": "c1=v1; c2=v2", "X-Custom": "Yes"},
    )
    event = body["event"]
    assert event["version"] == "2.0"
    assert event["routeKey"] == "ANY /echo/{proxy+}"
    assert event["rawPath"] == "/echo/a/b%20c"
    assert event["rawQueryString"] == "x=1&x=2&empty=&y=%C3%A9"
    assert event["queryStringParameters"] == {"x": "1,2", "empty": "", "y": "é"}
    assert event["pathParameters"] == {"proxy": "a/b c"}
    assert event["cookies"] == ["c1=v1", "c2=v2"]
    assert event["headers"]["x-custom"] == "Yes"
    assert "cookie" not in event["headers"]
    assert event["body"] == '{"hello": "world"}' and event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["http"]["method"] == "POST"
    assert context["http"]["path"] == "/echo/a/b%20c"
    assert context["http"]["sourceIp"] == "127.0.0.1"
    assert context["stage"] == "$default"
    assert context["routeKey"] == "ANY /echo/{proxy+}"
    assert context["apiId"] == "localapi"
    assert context["domainName"] == fake.url.removeprefix("http://")
    assert isinstance(context["timeEpoch"], int) and context["requestId"]
    assert "authorizer" not in context


def test_form_body_arrives_base64_encoded_like_http_api(fake: StackClient) -> None:
    event = echo(fake, "/echo/form", method="POST", data={"Body": "hi there", "To": "+1555"})["event"]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]).decode() == "Body=hi+there&To=%2B1555"


def test_literal_route_wins_over_path_variable(fake: StackClient) -> None:
    assert echo(fake, "/items/special")["event"]["routeKey"] == "GET /items/special"
    other = echo(fake, "/items/42")["event"]
    assert other["routeKey"] == "GET /items/{id}" and other["pathParameters"] == {"id": "42"}


def test_response_description_is_turned_into_http(fake: StackClient) -> None:
    answer = fake.get("/echo/raw")
    assert answer.status == 201
    assert answer.body == b"hello"
    assert answer.headers["x-one"] == "1"
    assert answer.headers["apigw-requestid"]


def test_result_without_status_code_is_json_200(fake: StackClient) -> None:
    answer = fake.get("/echo/plain")
    assert answer.status == 200
    assert answer.json() == ["not", "a", "response"]
    assert answer.headers["content-type"] == "application/json"


def test_handler_error_is_500(fake: StackClient) -> None:
    answer = fake.get("/echo/fail")
    assert (answer.status, answer.json()) == (500, {"message": "Internal Server Error"})
    assert "ValueError: asked to fail" in fake.wait_for(
        lambda: "asked to fail" in fake.logs() and fake.logs()
    )


def test_timeout_kills_the_environment_and_the_next_call_works(fake: StackClient) -> None:
    started = time.monotonic()
    answer = fake.get("/echo/slow")
    assert answer.status == 500
    assert time.monotonic() - started < 4.5  # Timeout is 2 s; the handler sleeps 5 s
    assert echo(fake)["event"]["rawPath"] == "/echo/x"
    assert "Task timed out after 2.00 seconds" in fake.logs()


def test_init_failure_is_500_and_the_stack_stays_healthy(fake: StackClient) -> None:
    answer = fake.get("/broken")
    assert (answer.status, answer.json()) == (500, {"message": "Internal Server Error"})
    assert "BrokenFunction failed: RuntimeError: broken at import" in fake.logs()
    assert fake.get("/_local/health").status == 200


def test_function_output_is_logged_under_its_logical_id(fake: StackClient) -> None:
    echo(fake, "/echo/print")
    logs = fake.wait_for(lambda: "to stderr" in fake.logs() and fake.logs())
    lines = [line for line in logs.splitlines() if "hello from echo" in line or "to stderr" in line]
    assert len(lines) == 2 and all("EchoFunction" in line for line in lines)


def test_function_sees_only_its_own_environment(fake: StackClient) -> None:
    body = echo(fake)
    env = body["env"]
    assert "CANARY_MUST_NOT_LEAK" not in env and "TWILIO_AUTH_TOKEN" not in env
    assert env["TABLE_NAME"] == "e2e-e2e"  # from Globals
    assert env["HAS_PUBLIC_URL"] == "yes"  # PublicBaseUrl defaults to the local URL
    assert (
        env["SUBBED"] == "us-east-1|arn:aws:dynamodb:us-east-1:123456789012:table/e2e-e2e|${Literal}|hi there"
    )
    assert env["JOINED"] == "a-y"
    assert env["TWILIO_API_BASE_URL"] == f"{fake.url}/_sandbox/twilio"
    assert env["BACKOFF"] == "1"
    assert env["QUEUE_URL"].endswith("/123456789012/e2e-e2e-work.fifo")
    assert env["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert env["AWS_ACCESS_KEY_ID"] == "testing" and env["AWS_ACCOUNT_ID_ENDPOINT_MODE"] == "disabled"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "shopdesk-local-EchoFunction"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert "EVENT_BUS_NAME" in env and "TWILIO_SECRET_ARN" not in env
    paths = env["PYTHONPATH"].split(":")
    assert paths[0].endswith("functions/echo") and paths[1].endswith("layers/shared")
    context = body["context"]
    assert context["memory"] == 256 and context["function_name"] == "shopdesk-local-EchoFunction"
    assert context["arn"].endswith(":function:shopdesk-local-EchoFunction")
    assert 0 < context["remaining"] <= 2000


def test_concurrent_requests_run_in_parallel_environments(fake: StackClient) -> None:
    echo(fake, "/echo/nap")  # LOCAL_CONCURRENCY is 2: warm one environment first
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda _: fake.get("/echo/nap"), range(2)))
    assert [a.status for a in answers] == [200, 200]
    naps = [a.json() for a in answers]
    # two environments, and the two 1 s naps overlapped (one began before the other ended): side by side,
    # not one after the other, however long a loaded machine takes to start them
    assert naps[0]["environment"] != naps[1]["environment"]
    assert max(n["started"] for n in naps) < min(n["ended"] for n in naps)


def test_environments_are_reused_while_warm(fake: StackClient) -> None:
    counts = [echo(fake)["invocations_in_this_environment"] for _ in range(4)]
    assert max(counts) >= 2


# ---------------------------------------------------------------- clock and schedules


def test_clock_advances_and_reaches_workers_and_schedules(fake: StackClient) -> None:
    before = fake.get("/_local/clock").json()["offset_seconds"]
    moved = fake.advance(90.5)
    assert moved["offset_seconds"] == pytest.approx(before + 90.5)
    assert moved["now"].endswith("Z")
    assert echo(fake)["clock_offset"] == pytest.approx(before + 90.5)
    result = fake.run_schedule("SweepFunction")
    assert result == {"event": {"source": "schedule"}, "clock_offset": pytest.approx(before + 90.5)}


def test_clock_refuses_to_go_back(fake: StackClient) -> None:
    assert fake.post("/_local/clock", json={"advance_seconds": -1}).status == 400
    assert fake.post("/_local/clock", json={"advance_seconds": "soon"}).status == 400


def test_run_schedule_of_unknown_function_is_404(fake: StackClient) -> None:
    assert fake.post("/_local/schedules/NoSuchFunction/run").status == 404
    assert fake.post("/_local/schedules/EchoFunction/run").status == 404  # no schedule


def test_functions_are_listed(fake: StackClient) -> None:
    functions = fake.get("/_local/functions").json()["functions"]
    assert "PUT /agent/me/presence (AgentJwt)" in functions["AgentFunction"]["routes"]
    assert functions["SweepFunction"]["schedules"] == ["EveryMinute: rate(1 minute)"]
    assert functions["WorkerFunction"]["queues"][0].endswith("e2e-e2e-work.fifo")


def test_a_functions_environments_are_listed_with_their_process_and_one_killed_is_replaced(fake: StackClient) -> None:
    echo(fake)

    def environments() -> list[dict[str, Any]]:
        return fake.get("/_local/functions").json()["functions"]["EchoFunction"]["workers"]

    listed = environments()
    assert listed and all(isinstance(w["pid"], int) and w["busy"] is False for w in listed)
    for worker in listed:           # every warm environment of the function lost
        os.kill(worker["pid"], signal.SIGKILL)
    assert fake.wait_for(lambda: environments() == [] or None, timeout=10)
    assert echo(fake)["invocations_in_this_environment"] == 1          # a new environment: a cold start
    [fresh] = environments()
    assert fresh["pid"] not in {w["pid"] for w in listed}


# ---------------------------------------------------------------- SQS event source


def details(stack: StackClient, detail_type: str, **match: Any) -> list[dict[str, Any]]:
    """Details of the captured bus events of one type whose fields equal ``match``, oldest first."""
    found = [event["detail"] for event in stack.events() if event.get("detail-type") == detail_type]
    return [detail for detail in found if all(detail.get(k) == v for k, v in match.items())]


def test_sqs_batch_deletes_only_successes_and_failures_reach_the_dlq(fake: StackClient) -> None:
    messages = [
        {"id": "ok-1", "kind": "ok", "group": "g1"},
        {"id": "fail-1", "kind": "fail", "group": "g2"},
    ]
    assert fake.post("/echo/enqueue", json={"messages": messages}).status == 200
    # the failing record is received twice (maxReceiveCount 2), then moto moves it to the DLQ
    fake.wait_for(lambda: len(details(fake, "work", id="fail-1")) >= 2 and details(fake, "work", id="ok-1"))
    time.sleep(4.5)  # longer than the visibility timeout: a message not deleted would be back by now
    assert len(details(fake, "work", id="ok-1")) == 1
    fails = [detail["record"] for detail in details(fake, "work", id="fail-1")]
    assert [record["attributes"]["ApproximateReceiveCount"] for record in fails] == ["1", "2"]
    record = details(fake, "work", id="ok-1")[0]["record"]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"].endswith(":e2e-e2e-work.fifo")
    assert record["awsRegion"] == "us-east-1"
    assert record["attributes"]["MessageGroupId"] == "g1"
    assert {
        "SentTimestamp",
        "SenderId",
        "ApproximateFirstReceiveTimestamp",
        "MessageDeduplicationId",
        "SequenceNumber",
    } <= set(record["attributes"])
    assert record["messageAttributes"]["kind"]["dataType"] == "String"
    assert record["md5OfBody"]


# ---------------------------------------------------------------- provider sandbox


def send(stack: StackClient, auth: str = TWILIO_AUTH, **form: Any) -> Any:
    fields = {"To": "+15551230000", "From": "+15550000000", "Body": "hello"}
    fields.update(form)
    return stack.post(
        MESSAGES, data={k: v for k, v in fields.items() if v is not None}, headers={"Authorization": auth}
    )


def test_sandbox_refuses_wrong_credentials(fake: StackClient) -> None:
    wrong = "Basic " + base64.b64encode(f"{TWILIO_SID}:nope".encode()).decode()
    answer = send(fake, auth=wrong)
    assert answer.status == 401
    assert answer.json() == {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({"To": None}, 21604),
        ({"Body": None}, 21602),
        ({"Body": "x" * 1601}, 21617),
        ({"From": None}, 21603),
        ({"To": "+15005550001"}, 21211),
        ({"To": "+15005550009"}, 21614),
        ({"To": "whatsapp:+15005550004"}, 21610),
    ],
)
def test_sandbox_validates_like_twilio(fake: StackClient, form: dict[str, Any], code: int) -> None:
    answer = send(fake, **form)
    assert answer.status == 400
    assert answer.json()["code"] == code


def test_sandbox_accepts_a_message_and_records_it(fake: StackClient) -> None:
    fake.delete("/_local/outbox")
    answer = send(fake, Body="hello ☃", MediaUrl=["https://x.test/1.png", "https://x.test/2.png"])
    assert answer.status == 201
    message = answer.json()
    assert message["sid"].startswith("SM") and len(message["sid"]) == 34
    assert message["status"] == "queued" and message["direction"] == "outbound-api"
    assert (message["num_media"], message["num_segments"]) == ("2", "1")
    assert message["error_code"] is None and message["api_version"] == "2010-04-01"
    assert message["date_created"].endswith("+0000")
    [item] = fake.outbox()
    assert item["provider"] == "twilio" and item["method"] == "POST"
    assert item["url"] == fake.url + MESSAGES
    assert item["headers"]["authorization"] == "[redacted]"
    assert item["form"]["MediaUrl"] == ["https://x.test/1.png", "https://x.test/2.png"]
    assert item["form"]["Body"] == "hello ☃"
    assert item["response"] == {"status": 201, "body": message}


def test_fault_injection_answers_the_next_sends(fake: StackClient) -> None:
    assert (
        fake.post("/_local/sandbox/faults", json={"provider": "twilio", "status": 503, "times": 2}).status
        == 200
    )
    assert [send(fake).status for _ in range(3)] == [503, 503, 201]
    fake.post("/_local/sandbox/faults", json={"provider": "twilio", "status": 429, "times": 1})
    limited = send(fake)
    assert (limited.status, limited.json()["code"], limited.headers["retry-after"]) == (429, 20429, "1")
    fake.post("/_local/sandbox/faults", json={"provider": "twilio", "status": 500, "times": 5})
    assert fake.delete("/_local/sandbox/faults").status == 200
    assert send(fake).status == 201
    assert fake.post("/_local/sandbox/faults", json={"provider": "pigeon", "status": 500}).status == 400


def test_send_from_a_function_gets_signed_status_callbacks(fake: StackClient) -> None:
    messages = [{"id": "send-1", "kind": "send", "to": "whatsapp:+15551239999", "body": "your order shipped"}]
    fake.post("/echo/enqueue", json={"messages": messages})
    [sent] = fake.wait_for(lambda: details(fake, "work", id="send-1"))
    statuses = fake.wait_for(
        lambda: (
            len(details(fake, "status", sid=sent["sid"])) >= 2 and details(fake, "status", sid=sent["sid"])
        )
    )
    assert [s["status"] for s in statuses] == ["sent", "delivered"]
    assert all(s["valid"] and s["base64"] for s in statuses)
    item = next(i for i in fake.outbox() if i["response"]["body"].get("sid") == sent["sid"])
    assert item["form"]["StatusCallback"] == fake.url + "/webhooks/status"


# ---------------------------------------------------------------- the project's own template


def test_project_template_comes_up_healthy(stack: StackClient) -> None:
    health = stack.get("/_local/health").json()
    assert health["status"] == "ok" and health["knowledge_base"] in ("seeding", "seeded"), health
    functions = stack.get("/_local/functions").json()["functions"]
    assert "PUT /agent/me/presence (AgentJwt)" in functions["AgentApiFunction"]["routes"]


def test_project_agent_api_sits_behind_the_jwt_authorizer(stack: StackClient) -> None:
    assert stack.get("/agent/me").status == 401
    assert stack.get("/agent/me", token=forged_token(stack, aud="someone-else")).status == 401
    assert stack.get("/agent/me", token=stack.token("alice")).status == 200
    assert stack.get("/_local/token?agent=mallory").status == 404


def test_project_sandbox_uses_the_default_fake_credentials(stack: StackClient) -> None:
    sid = "AC00000000000000000000000000000000"
    auth = "Basic " + base64.b64encode(f"{sid}:fake-twilio-auth-token".encode()).decode()
    answer = stack.post(
        f"/_sandbox/twilio/2010-04-01/Accounts/{sid}/Messages.json",
        data={"To": "+15551230000", "From": "+15550000000", "Body": "hi"},
        headers={"Authorization": auth},
    )
    assert answer.status == 201, answer.text


# ================================================================ the channels' local services
# A second throwaway system: an S3 bucket with a SAM S3 event (and a DLQ), an SES receipt rule
# storing mail in it, the Meta/Telegram/Webchat secrets, and webhook handlers that verify Meta's
# signature. Provider sandboxes are called directly, as the functions would call them.

META_TOKEN = "e2e-meta-access-token"
META_APP_SECRET = "e2e-meta-app-secret"
META_VERIFY = "e2e-meta-verify-token"
BOT_TOKEN = "987654321:e2e-telegram-bot-token"
BOT = f"/_sandbox/telegram/bot{BOT_TOKEN}"
GRAPH = "/_sandbox/meta/v21.0"
BEARER = {"Authorization": f"Bearer {META_TOKEN}"}
CHANNEL_ENV = {
    "META_APP_SECRET": META_APP_SECRET,
    "META_VERIFY_TOKEN": META_VERIFY,
    "META_ACCESS_TOKEN": META_TOKEN,
    "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
    "TELEGRAM_SECRET_TOKEN": "e2e-telegram-secret",
    "WEBCHAT_VISITOR_SECRET": "e2e-visitor-secret",
    "WEBCHAT_SESSION_SECRET": "e2e-session-secret",
    "SES_FROM_ADDRESS": "desk@e2e.example",
    "SEED_AGENTS": "",
    "LOCAL_CONCURRENCY": "2",
}

CHANNEL_TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  PublicBaseUrl: {Type: String, Default: ""}
  MetaGraphBaseUrl: {Type: String, Default: https://graph.facebook.com}
  TelegramApiBaseUrl: {Type: String, Default: https://api.telegram.org}
  SesFromAddress: {Type: String, Default: nobody@example.invalid}
Globals:
  Function:
    Runtime: python3.13
    Timeout: 10
    Layers: [!Ref SharedLayer]
    Environment:
      Variables:
        EVENT_BUS_NAME: !Ref ChannelBus
Resources:
  SharedLayer:
    Type: AWS::Serverless::LayerVersion
    Properties: {LayerName: e2e-channels-shared, ContentUri: layers/shared/}
  ChannelBus:
    Type: AWS::Events::EventBus
    Properties: {Name: e2e-channels}
  MetaSecret:
    Type: AWS::SecretsManager::Secret
    Properties:
      SecretString: '{"app_secret": "placeholder", "verify_token": "placeholder", "access_token": "placeholder"}'
  TelegramSecret:
    Type: AWS::SecretsManager::Secret
    Properties: {SecretString: '{"bot_token": "placeholder", "secret_token": "placeholder"}'}
  WebchatSecret:
    Type: AWS::SecretsManager::Secret
    Properties: {SecretString: '{"visitor_secret": "placeholder", "session_secret": "placeholder"}'}
  MediaBucket:
    Type: AWS::S3::Bucket
  InboundMailBucket:
    Type: AWS::S3::Bucket
  InboundRuleSet:
    Type: AWS::SES::ReceiptRuleSet
  InboundRule:
    Type: AWS::SES::ReceiptRule
    Properties:
      RuleSetName: !Ref InboundRuleSet
      Rule:
        Name: e2e-inbound
        Enabled: true
        ScanEnabled: true
        Recipients: [support.e2e.example]
        Actions:
          - S3Action: {BucketName: !Ref InboundMailBucket, ObjectKeyPrefix: raw/}
  EmailEventsTopic:
    Type: AWS::SNS::Topic
  MailDeadLetterQueue:
    Type: AWS::SQS::Queue
  MediaFailureQueue:
    Type: AWS::SQS::Queue
  MediaFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/inbound/
      Handler: app.lambda_handler
      EventInvokeConfig:
        MaximumRetryAttempts: 0
        DestinationConfig: {OnFailure: {Type: SQS, Destination: !GetAtt MediaFailureQueue.Arn}}
      Events:
        Uploads:
          Type: S3
          Properties:
            Bucket: !Ref MediaBucket
            Events: [s3:ObjectCreated:Put]
            Filter: {S3Key: {Rules: [{Name: Prefix, Value: uploads/}, {Name: Suffix, Value: .jpg}]}}
  InboundEmailFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/inbound/
      Handler: app.lambda_handler
      Timeout: 5
      DeadLetterQueue: {Type: SQS, TargetArn: !GetAtt MailDeadLetterQueue.Arn}
      Events:
        RawMail:
          Type: S3
          Properties:
            Bucket: !Ref InboundMailBucket
            Events: s3:ObjectCreated:*
            Filter: {S3Key: {Rules: [{Name: prefix, Value: raw/}]}}
  ToolsFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/tools/
      Handler: app.lambda_handler
      Environment:
        Variables:
          INBOUND_BUCKET: !Ref InboundMailBucket
          MEDIA_BUCKET: !Ref MediaBucket
          DLQ_URL: !Ref MailDeadLetterQueue
          FAILURE_URL: !Ref MediaFailureQueue
          META_SECRET_ARN: !Ref MetaSecret
          TELEGRAM_SECRET_ARN: !Ref TelegramSecret
          WEBCHAT_SECRET_ARN: !Ref WebchatSecret
          SES_FROM: !Ref SesFromAddress
          META_GRAPH: !Ref MetaGraphBaseUrl
          TELEGRAM_API: !Ref TelegramApiBaseUrl
          TOPIC_ARN: !Ref EmailEventsTopic
      Events:
        Tools: {Type: HttpApi, Properties: {Path: "/tools/{op}", Method: ANY}}
  WebhookFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/webhook/
      Handler: app.lambda_handler
      Environment: {Variables: {META_SECRET_ARN: !Ref MetaSecret}}
      Events:
        WhatsappVerify: {Type: HttpApi, Properties: {Path: /webhooks/whatsapp, Method: GET}}
        Whatsapp: {Type: HttpApi, Properties: {Path: /webhooks/whatsapp, Method: POST}}
        Messenger: {Type: HttpApi, Properties: {Path: /webhooks/messenger, Method: POST}}
        Sns: {Type: HttpApi, Properties: {Path: /webhooks/email/sns, Method: POST}}
"""

CHANNEL_FILES = {
    "layers/shared/shopdesk/__init__.py": "",
    "layers/shared/shopdesk/bus.py": FILES["layers/shared/shopdesk/bus.py"],
    "functions/inbound/app.py": """
import base64, hashlib, urllib.parse
import boto3
from shopdesk.bus import emit

s3 = boto3.client("s3")

def lambda_handler(event, context):
    [record] = event["Records"]
    key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
    body = s3.get_object(Bucket=record["s3"]["bucket"]["name"], Key=key)["Body"].read()
    emit("s3", {"key": key, "record": record, "request_id": context.aws_request_id})
    if "fail" in key:
        raise RuntimeError("asked to fail: " + key)
    return {"key": key, "record": record, "body_b64": base64.b64encode(body).decode(),
            "sha256": hashlib.sha256(body).hexdigest()}
""",
    "functions/tools/app.py": """
import json, os
import boto3

def secret(name):
    value = boto3.client("secretsmanager").get_secret_value(SecretId=os.environ[name])["SecretString"]
    return json.loads(value)

def lambda_handler(event, context):
    op = event["pathParameters"]["op"]
    body = json.loads(event.get("body") or "{}")
    if op == "put":
        bucket = os.environ["INBOUND_BUCKET" if body.get("bucket", "inbound") == "inbound" else "MEDIA_BUCKET"]
        boto3.client("s3").put_object(Bucket=bucket, Key=body["key"], Body=body.get("text", "x").encode())
        return {"bucket": bucket, "key": body["key"]}
    if op in ("dlq", "failures"):
        sqs, url = boto3.client("sqs"), os.environ["DLQ_URL" if op == "dlq" else "FAILURE_URL"]
        found = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                    MessageAttributeNames=["All"]).get("Messages", [])
        for message in found:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return [{"body": json.loads(m["Body"]),
                 "attributes": {k: v.get("StringValue") for k, v in m.get("MessageAttributes", {}).items()}}
                for m in found]
    if op == "ses-raw":
        raw = "\\r\\n".join([
            f"From: Shop Desk <{body.get('from', os.environ['SES_FROM'])}>", f"To: {body['to']}",
            "Subject: =?utf-8?q?Re:_Your_order_caf=C3=A9?=", f"In-Reply-To: {body['in_reply_to']}",
            f"References: {body['references']}", "Reply-To: reply+c1@e2e.example",
            "Message-ID: <ignored-by-ses@e2e.example>", "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8", "", "Thanks, it ships today.", ""])
        try:
            answer = boto3.client("sesv2").send_email(Content={"Raw": {"Data": raw.encode()}})
        except Exception as error:
            return {"error": type(error).__name__, "message": str(error)}
        return {"MessageId": answer["MessageId"]}
    if op == "ses-simple":
        answer = boto3.client("ses").send_email(
            Source=os.environ["SES_FROM"], Destination={"ToAddresses": [body["to"]]},
            Message={"Subject": {"Data": "Hello"}, "Body": {"Text": {"Data": "Plain hello"}}})
        return {"MessageId": answer["MessageId"]}
    if op == "secrets":
        return {name: secret(name.upper() + "_SECRET_ARN") for name in ("meta", "telegram", "webchat")}
    if op == "env":
        return {k: os.environ[k] for k in ("SES_FROM", "META_GRAPH", "TELEGRAM_API", "TOPIC_ARN")}
    return {"statusCode": 404}
""",
    "functions/webhook/app.py": """
import base64, hashlib, hmac, json, os
import boto3
from shopdesk.bus import emit

secret = json.loads(boto3.client("secretsmanager").get_secret_value(
    SecretId=os.environ["META_SECRET_ARN"])["SecretString"])

def lambda_handler(event, context):
    if event["rawPath"] == "/webhooks/email/sns":
        return {"body": event.get("body"), "isBase64Encoded": event["isBase64Encoded"],
                "contentType": event["headers"].get("content-type")}
    if event["requestContext"]["http"]["method"] == "GET":
        query = event.get("queryStringParameters") or {}
        if query.get("hub.mode") == "subscribe" and query.get("hub.verify_token") == secret["verify_token"]:
            return {"statusCode": 200, "headers": {"content-type": "text/plain"}, "body": query["hub.challenge"]}
        return {"statusCode": 403, "body": ""}
    raw = base64.b64decode(event["body"]) if event["isBase64Encoded"] else event["body"].encode()
    expected = "sha256=" + hmac.new(secret["app_secret"].encode(), raw, hashlib.sha256).hexdigest()
    valid = hmac.compare_digest(expected, event["headers"].get("x-hub-signature-256", ""))
    emit("meta-webhook", {"path": event["rawPath"], "valid": valid, "payload": json.loads(raw),
                          "user_agent": event["headers"].get("user-agent")})
    return {"statusCode": 200 if valid else 403}
""",
}


@pytest.fixture(scope="module")
def chan(tmp_path_factory: pytest.TempPathFactory, stack_launcher: Callable[..., StackClient]) -> StackClient:
    root = tmp_path_factory.mktemp("throwaway-channels")
    (root / "template.yaml").write_text(CHANNEL_TEMPLATE)
    for relative, content in CHANNEL_FILES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content.lstrip())
    return stack_launcher(root / "template.yaml", CHANNEL_ENV)


def tool(stack: StackClient, op: str, **body: Any) -> Any:
    answer = stack.post(f"/tools/{op}", json=body)
    assert answer.status == 200, answer.text
    return answer.json()


def webhooks(stack: StackClient, path: str) -> list[dict[str, Any]]:
    return details(stack, "meta-webhook", path=path)


# ---------------------------------------------------------------- parameters and secrets


def test_channel_secrets_come_from_the_environment(chan: StackClient) -> None:
    assert tool(chan, "secrets") == {
        "meta": {"app_secret": META_APP_SECRET, "verify_token": META_VERIFY, "access_token": META_TOKEN},
        "telegram": {"bot_token": BOT_TOKEN, "secret_token": "e2e-telegram-secret"},
        "webchat": {"visitor_secret": "e2e-visitor-secret", "session_secret": "e2e-session-secret"},
    }


def test_provider_base_urls_and_sender_default_to_the_local_stack(chan: StackClient) -> None:
    env = tool(chan, "env")
    assert env["META_GRAPH"] == chan.url + "/_sandbox/meta"
    assert env["TELEGRAM_API"] == chan.url + "/_sandbox/telegram"
    assert env["SES_FROM"] == "desk@e2e.example"
    assert env["TOPIC_ARN"].startswith("arn:aws:sns:us-east-1:123456789012:")


def test_functions_list_their_s3_sources(chan: StackClient) -> None:
    functions = chan.get("/_local/functions").json()["functions"]
    [source] = functions["InboundEmailFunction"]["s3"]
    assert source.startswith("RawMail: s3://") and source.endswith("/raw/* s3:ObjectCreated:*")
    assert functions["ToolsFunction"]["s3"] == []
    [media] = functions["MediaFunction"]["s3"]
    assert media.endswith("/uploads/*.jpg s3:ObjectCreated:Put")


# ---------------------------------------------------------------- API Gateway passes webhook requests as is


def test_meta_verification_query_reaches_the_function(chan: StackClient) -> None:
    query = f"hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token={META_VERIFY}"
    answer = chan.get(f"/webhooks/whatsapp?{query}")
    assert (answer.status, answer.body) == (200, b"1158201444")
    assert chan.get("/webhooks/whatsapp?hub.mode=subscribe&hub.challenge=1&hub.verify_token=no").status == 403


def test_sns_text_plain_body_arrives_as_text_and_binary_as_base64(chan: StackClient) -> None:
    document = '{"Type":"Notification","Message":"{\\"a\\":\\"\\u00e9\\"}"}'
    text = chan.post(
        "/webhooks/email/sns", data=document, headers={"Content-Type": "text/plain; charset=UTF-8"}
    ).json()
    assert text == {"body": document, "isBase64Encoded": False, "contentType": "text/plain; charset=UTF-8"}
    raw = bytes(range(256))
    binary = chan.post(
        "/webhooks/email/sns", data=raw, headers={"Content-Type": "application/octet-stream"}
    ).json()
    assert binary["isBase64Encoded"] is True and base64.b64decode(binary["body"]) == raw


# ---------------------------------------------------------------- S3 notifications and SES inbound

RAW_MAIL = (
    b"From: Customer <customer@buyer.example>\r\n"
    b"To: Support <help@support.e2e.example>\r\n"
    b"Subject: =?iso-8859-1?q?Caf=E9?=\r\n"
    b"Message-ID: <61967230-7A45-4A9D-BEC9-87CBCF2211C9@buyer.example>\r\n"
    b"Content-Type: text/plain; charset=iso-8859-1\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n"
    b"\r\n"
    b"Where is my caf\xe9 order?\r\n.\r\n\r\n"
)


def test_email_is_stored_byte_exact_under_ses_received_header_and_delivered(chan: StackClient) -> None:
    answer = chan.post("/_local/email?wait=1", data=RAW_MAIL, headers={"Content-Type": "message/rfc822"})
    assert answer.status == 202, answer.text
    document = answer.json()
    assert document["key"] == "raw/" + document["message_id"]
    assert len(document["message_id"]) == 40 and document["message_id"].isalnum()
    assert document["bucket"].startswith("shopdesk-local-inboundmailbucket-")
    assert document["recipients"] == ["help@support.e2e.example"]
    [invocation] = document["invocations"]
    assert invocation["function"] == "InboundEmailFunction" and invocation["ok"] is True
    result = invocation["result"]
    stored = base64.b64decode(result["body_b64"])
    # as SES does: its Received header on top (naming the envelope recipient), then the bytes as posted
    assert stored.endswith(RAW_MAIL)
    assert re.fullmatch(
        rb"Received: from localhost \(localhost \[127\.0\.0\.1\]\)\r\n by inbound-smtp\.us-east-1\.amazonaws\.com "
        rb"with SMTP id " + document["message_id"].encode() + rb"\r\n for help@support\.e2e\.example;\r\n "
        rb"\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000 \(UTC\)\r\n",
        stored[: -len(RAW_MAIL)],
    )
    record = result["record"]
    assert record["eventVersion"] == "2.1" and record["eventSource"] == "aws:s3"
    assert record["eventName"] == "ObjectCreated:Put" and record["awsRegion"] == "us-east-1"
    assert record["eventTime"].endswith("Z")
    assert record["s3"]["bucket"] == {
        "name": document["bucket"],
        "ownerIdentity": {"principalId": record["s3"]["bucket"]["ownerIdentity"]["principalId"]},
        "arn": f"arn:aws:s3:::{document['bucket']}",
    }
    obj = record["s3"]["object"]
    assert obj["key"] == document["key"] and obj["size"] == len(stored)
    assert obj["eTag"] == hashlib.md5(stored).hexdigest()  # noqa: S324 - S3's ETag
    assert re.fullmatch(r"[0-9A-F]{18}", obj["sequencer"])
    assert set(record) >= {"userIdentity", "requestParameters", "responseElements"}


def test_email_without_wait_answers_at_once_and_is_delivered(chan: StackClient) -> None:
    answer = chan.post("/_local/email", data=RAW_MAIL)
    assert answer.status == 202 and "invocations" not in answer.json()
    key = answer.json()["key"]
    [event] = chan.wait_for(lambda: details(chan, "s3", key=key))
    assert event["record"]["s3"]["object"]["size"] > len(RAW_MAIL)      # SES's Received header on top


def test_email_recipient_must_match_a_receipt_rule(chan: StackClient) -> None:
    other = RAW_MAIL.replace(b"help@support.e2e.example", b"someone@elsewhere.example")
    refused = chan.post("/_local/email", data=other)
    assert refused.status == 404 and "InboundRule" in refused.json()["message"]
    accepted = chan.post("/_local/email?to=sales@support.e2e.example", data=other)
    assert accepted.status == 202 and accepted.json()["recipients"] == ["sales@support.e2e.example"]
    assert chan.post("/_local/email", data=b"").status == 400


def test_email_envelope_is_the_recipients_the_rule_matched(chan: StackClient) -> None:
    query = "to=A@support.e2e.example&to=b@elsewhere.example&to=c@support.e2e.example"
    several = chan.post(f"/_local/email?wait=1&{query}", data=RAW_MAIL)
    assert several.status == 202
    assert several.json()["recipients"] == ["a@support.e2e.example", "c@support.e2e.example"]
    stored = base64.b64decode(several.json()["invocations"][0]["result"]["body_b64"])
    received = stored[: -len(RAW_MAIL)]
    assert received.startswith(b"Received: ") and b" for " not in received     # SMTP's Received names one recipient


def test_email_without_a_receipt_rule_is_404(fake: StackClient) -> None:
    answer = fake.post("/_local/email", data=RAW_MAIL)
    assert answer.status == 404 and "AWS::SES::ReceiptRule" in answer.json()["message"]


def test_s3_notification_once_per_object_with_key_encoding_and_filter(chan: StackClient) -> None:
    tool(chan, "put", key="raw/a b+c=d.eml", text="one")
    tool(chan, "put", key="other/skip.eml", text="two")
    tool(chan, "put", bucket="media", key="raw/not-this-bucket", text="three")
    [event] = chan.wait_for(lambda: details(chan, "s3", key="raw/a b+c=d.eml"))
    assert event["record"]["s3"]["object"]["key"] == "raw/a+b%2Bc%3Dd.eml"
    time.sleep(1.5)  # several drain periods: a duplicate or a filtered event would have arrived
    assert len(details(chan, "s3", key="raw/a b+c=d.eml")) == 1
    assert details(chan, "s3", key="other/skip.eml") == []
    assert details(chan, "s3", key="raw/not-this-bucket") == []
    tool(chan, "put", key="raw/a b+c=d.eml", text="overwritten")  # a new PUT is a new event
    chan.wait_for(lambda: len(details(chan, "s3", key="raw/a b+c=d.eml")) == 2)


def test_s3_failure_is_retried_twice_then_dead_lettered(chan: StackClient) -> None:
    started = time.monotonic()
    tool(chan, "put", key="raw/fail-1.eml")
    attempts = chan.wait_for(
        lambda: (
            len(details(chan, "s3", key="raw/fail-1.eml")) >= 3 and details(chan, "s3", key="raw/fail-1.eml")
        )
    )
    assert time.monotonic() - started >= 3  # retried after 1 s, then 2 s
    letters = chan.wait_for(lambda: tool(chan, "dlq"))
    [letter] = letters
    assert letter["body"]["Records"][0]["s3"]["object"]["key"] == "raw/fail-1.eml"
    assert letter["attributes"]["ErrorCode"] == "200"
    assert "asked to fail: raw/fail-1.eml" in letter["attributes"]["ErrorMessage"]
    assert letter["attributes"]["RequestID"] == attempts[-1]["request_id"]
    time.sleep(1)
    assert len(details(chan, "s3", key="raw/fail-1.eml")) == 3


def test_s3_suffix_filter_and_on_failure_destination(chan: StackClient) -> None:
    tool(chan, "put", bucket="media", key="uploads/photo.png")
    tool(chan, "put", bucket="media", key="uploads/fail-photo.jpg")
    [attempt] = chan.wait_for(lambda: details(chan, "s3", key="uploads/fail-photo.jpg"))
    [failure] = chan.wait_for(lambda: tool(chan, "failures"))
    record = failure["body"]
    assert record["version"] == "1.0" and record["timestamp"].endswith("Z")
    assert record["requestContext"]["requestId"] == attempt["request_id"]
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 1  # MaximumRetryAttempts: 0
    assert record["requestContext"]["functionArn"].endswith(":function:shopdesk-local-MediaFunction:$LATEST")
    assert record["requestPayload"]["Records"][0]["s3"]["object"]["key"] == "uploads/fail-photo.jpg"
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorType"] == "RuntimeError"
    assert details(chan, "s3", key="uploads/photo.png") == []


# ---------------------------------------------------------------- SES sends in the outbox


def test_ses_sends_are_listed_in_the_outbox_in_order(chan: StackClient) -> None:
    chan.delete("/_local/outbox")
    assert chan.post(f"{BOT}/sendMessage", json={"chat_id": 1, "text": "first"}).status == 200
    raw = tool(
        chan,
        "ses-raw",
        to="customer@buyer.example",
        in_reply_to="<m1@buyer.example>",
        references="<m0@buyer.example> <m1@buyer.example>",
    )
    simple = tool(chan, "ses-simple", to="other@buyer.example")
    assert chan.post(f"{BOT}/sendMessage", json={"chat_id": 1, "text": "last"}).status == 200
    items = chan.outbox()
    assert [i["provider"] for i in items] == ["telegram", "ses", "ses", "telegram"]
    mail = items[1]
    assert mail["method"] == "SendEmail" and mail["url"] == "ses://us-east-1"
    assert mail["response"] == {"status": 200, "body": {"MessageId": raw["MessageId"]}}
    assert mail["form"] == {
        "From": "Shop Desk <desk@e2e.example>",
        "To": "customer@buyer.example",
        "Cc": None,
        "Subject": "Re: Your order café",
        "In-Reply-To": "<m1@buyer.example>",
        "References": "<m0@buyer.example> <m1@buyer.example>",
        "Reply-To": "reply+c1@e2e.example",
        "Message-ID": f"<{raw['MessageId']}@email.amazonses.com>",
    }
    assert "Thanks, it ships today." in mail["body"] and mail["body"].startswith("From: Shop Desk")
    assert mail["received_at"] <= items[2]["received_at"] <= items[3]["received_at"]
    plain = items[2]
    assert plain["response"]["body"]["MessageId"] == simple["MessageId"]
    assert (plain["form"]["From"], plain["form"]["To"], plain["form"]["Subject"]) == (
        "desk@e2e.example",
        "other@buyer.example",
        "Hello",
    )
    assert "Plain hello" in plain["body"]
    assert chan.delete("/_local/outbox").status == 200
    assert chan.outbox() == []


def test_ses_refuses_an_unverified_sender(chan: StackClient) -> None:
    refused = tool(
        chan,
        "ses-raw",
        to="c@buyer.example",
        in_reply_to="<x@y>",
        references="<x@y>",
        **{"from": "someone@unverified.example"},
    )
    assert refused["error"] == "MessageRejected"


# ---------------------------------------------------------------- Meta Graph API: WhatsApp Cloud


def whatsapp(stack: StackClient, headers: dict[str, str] | None = None, **fields: Any) -> Any:
    message: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "to": "16505551234",
        "type": "text",
        "text": {"body": "Thanks, we are on it."},
    }
    message.update(fields)
    body = {k: v for k, v in message.items() if v is not None}
    return stack.post(
        f"{GRAPH}/1122334455667/messages", json=body, headers=BEARER if headers is None else headers
    )


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}], ids=["missing", "wrong"])
def test_whatsapp_refuses_a_bad_token(chan: StackClient, headers: dict[str, str]) -> None:
    answer = whatsapp(chan, headers=headers)
    assert answer.status == 401
    error = answer.json()["error"]
    assert (error["type"], error["code"]) == ("OAuthException", 190) and error["fbtrace_id"]


@pytest.mark.parametrize(
    "fields",
    [
        {"messaging_product": None},
        {"messaging_product": "sms"},
        {"to": None},
        {"type": "carrier_pigeon"},
        {"text": {"body": "x" * 4097}},
        {"text": {}},
        {"type": "template", "template": {"language": {"code": "en_US"}}},
        {"type": "template", "template": {"name": "order_update"}},
        {"type": "image", "image": {"caption": "no link or id"}},
        {"type": "document"},
    ],
    ids=[
        "no-product",
        "wrong-product",
        "no-to",
        "bad-type",
        "long-text",
        "no-body",
        "no-template-name",
        "no-language",
        "no-media",
        "no-document-object",
    ],
)
def test_whatsapp_validates_like_graph(chan: StackClient, fields: dict[str, Any]) -> None:
    answer = whatsapp(chan, **fields)
    assert answer.status == 400, answer.text
    error = answer.json()["error"]
    assert (error["code"], error["type"]) == (100, "OAuthException")
    assert error["message"].startswith("(#100)")


def test_whatsapp_accepts_a_message_and_records_it(chan: StackClient) -> None:
    chan.delete("/_local/outbox")
    answer = whatsapp(chan, to="+16505551234", text={"body": "x" * 4096})
    assert answer.status == 200, answer.text
    document = answer.json()
    assert document["messaging_product"] == "whatsapp"
    assert document["contacts"] == [{"input": "+16505551234", "wa_id": "16505551234"}]
    [message] = document["messages"]
    assert message["id"].startswith("wamid.") and message["message_status"] == "accepted"
    for kind, content in [
        ("template", {"name": "order_update", "language": {"code": "en_US"}}),
        ("image", {"link": "https://cdn.example/p.jpg"}),
        ("document", {"id": "1234567890", "filename": "invoice.pdf"}),
    ]:
        assert whatsapp(chan, type=kind, text=None, **{kind: content}).status == 200
    read = chan.post(
        f"{GRAPH}/1122334455667/messages",
        json={"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.in"},
        headers=BEARER,
    )
    assert read.json() == {"success": True}
    item = chan.outbox()[0]
    assert item["provider"] == "whatsapp_cloud" and item["method"] == "POST"
    assert item["url"] == chan.url + f"{GRAPH}/1122334455667/messages"
    assert item["headers"]["authorization"] == "[redacted]"
    assert item["json"]["to"] == "+16505551234"
    assert item["response"] == {"status": 200, "body": document}


@pytest.mark.parametrize(("to", "code"), [("15550001047", 131047), ("+15550001026", 131026)])
def test_whatsapp_magic_recipients(chan: StackClient, to: str, code: int) -> None:
    answer = whatsapp(chan, to=to)
    assert answer.status == 400
    error = answer.json()["error"]
    assert error["code"] == code and error["message"].startswith(f"(#{code})")
    assert error["error_data"]["messaging_product"] == "whatsapp"


def test_whatsapp_faults(chan: StackClient) -> None:
    chan.post("/_local/sandbox/faults", json={"provider": "whatsapp_cloud", "status": 503, "times": 2})
    failed = [whatsapp(chan) for _ in range(3)]
    assert [a.status for a in failed] == [503, 503, 200]
    assert failed[0].json()["error"]["is_transient"] is True
    chan.post("/_local/sandbox/faults", json={"provider": "whatsapp_cloud", "status": 429})
    limited = whatsapp(chan)
    assert (limited.status, limited.json()["error"]["code"]) == (429, 80007)
    assert chan.post("/_local/sandbox/faults", json={"provider": "messenger", "status": 500}).status == 200
    assert whatsapp(chan).status == 200  # another provider's fault
    chan.delete("/_local/sandbox/faults")


def test_whatsapp_status_webhooks_are_signed_with_the_app_secret(chan: StackClient) -> None:
    wamid = whatsapp(chan, to="16505550000").json()["messages"][0]["id"]

    def statuses() -> list[dict[str, Any]]:
        found = []
        for hook in webhooks(chan, "/webhooks/whatsapp"):
            for entry in hook["payload"]["entry"]:
                for change in entry["changes"]:
                    for status in change["value"].get("statuses", []):
                        if status["id"] == wamid:
                            found.append(
                                {
                                    **status,
                                    "valid": hook["valid"],
                                    "agent": hook["user_agent"],
                                    "metadata": change["value"]["metadata"],
                                }
                            )
        return found

    found = chan.wait_for(lambda: len(statuses()) >= 2 and statuses())
    assert [s["status"] for s in found] == ["sent", "delivered"]
    assert all(s["valid"] and s["recipient_id"] == "16505550000" for s in found)
    assert found[0]["metadata"]["phone_number_id"] == "1122334455667"
    assert found[0]["agent"] == "facebookexternalua"
    assert found[0]["pricing"]["billable"] is True and found[0]["timestamp"].isdigit()


# ---------------------------------------------------------------- Meta Graph API: Messenger and Instagram


def send_api(stack: StackClient, path: str = "me", token: str | None = META_TOKEN, **fields: Any) -> Any:
    request: dict[str, Any] = {
        "recipient": {"id": "24870000000001"},
        "messaging_type": "RESPONSE",
        "message": {"text": "hello, world!"},
    }
    request.update(fields)
    query = f"?access_token={token}" if token else ""
    body = {k: v for k, v in request.items() if v is not None}
    return stack.post(f"{GRAPH}/{path}/messages{query}", json=body)


def test_send_api_accepts_and_records_messenger_and_instagram(chan: StackClient) -> None:
    chan.delete("/_local/outbox")
    answer = send_api(chan)
    assert answer.status == 200, answer.text
    assert answer.json()["recipient_id"] == "24870000000001"
    assert re.fullmatch(r"m_[\w-]{40,}", answer.json()["message_id"])
    tagged = send_api(
        chan,
        "17841400000000000",
        messaging_type="MESSAGE_TAG",
        tag="HUMAN_AGENT",
        message={"attachment": {"type": "image", "payload": {"url": "https://cdn.example/p.jpg"}}},
    )
    assert tagged.status == 200, tagged.text
    bearer = chan.post(
        f"{GRAPH}/me/messages", json={"recipient": {"id": "1"}, "sender_action": "typing_on"}, headers=BEARER
    )
    assert bearer.json() == {"recipient_id": "1"}
    items = chan.outbox()
    assert [i["provider"] for i in items] == ["messenger", "instagram", "messenger"]
    assert "access_token=[redacted]" in items[0]["url"] and META_TOKEN not in items[0]["url"]


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"token": None}, 190),
        ({"token": "wrong"}, 190),
        ({"recipient": None}, 100),
        ({"messaging_type": None}, 100),
        ({"messaging_type": "MESSAGE_TAG"}, 100),
        ({"messaging_type": "MESSAGE_TAG", "tag": "NOT_A_TAG"}, 100),
        ({"message": {}}, 100),
        ({"message": {"text": "x" * 2001}}, 100),
        ({"message": {"attachment": {"type": "image", "payload": {}}}}, 100),
        ({"recipient": {"id": "5550002018278"}}, 10),
        ({"recipient": {"id": "5550000000551"}}, 551),
    ],
    ids=[
        "no-token",
        "wrong-token",
        "no-recipient",
        "no-type",
        "tag-missing",
        "bad-tag",
        "empty",
        "long",
        "no-url",
        "outside-window",
        "unavailable",
    ],
)
def test_send_api_validates_like_graph(chan: StackClient, fields: dict[str, Any], code: int) -> None:
    answer = send_api(chan, **fields)
    assert answer.status == (401 if code == 190 else 400), answer.text
    error = answer.json()["error"]
    assert error["code"] == code
    if code == 10:
        assert error["error_subcode"] == 2018278


def test_send_api_takes_form_fields_as_graph_does(chan: StackClient) -> None:
    form = {
        "recipient": json.dumps({"id": "24870000000002"}),
        "messaging_type": "UPDATE",
        "message": json.dumps({"text": "hello from a form"}),
        "access_token": META_TOKEN,
    }
    answer = chan.post(f"{GRAPH}/me/messages", data=form)
    assert answer.status == 200, answer.text
    assert answer.json()["recipient_id"] == "24870000000002"


def test_send_api_faults_and_instagram_text_limit(chan: StackClient) -> None:
    chan.post("/_local/sandbox/faults", json={"provider": "messenger", "status": 429})
    limited = send_api(chan)
    assert (limited.status, limited.json()["error"]["code"]) == (429, 4)
    assert send_api(chan, "17841400000000000", message={"text": "x" * 1001}).status == 400
    assert send_api(chan, "1234567890", message={"text": "x" * 1001}).status == 200


def test_messenger_delivery_webhook_is_signed(chan: StackClient) -> None:
    mid = send_api(chan, "1029384756").json()["message_id"]

    def deliveries() -> list[dict[str, Any]]:
        return [
            {"valid": hook["valid"], **event}
            for hook in webhooks(chan, "/webhooks/messenger")
            for entry in hook["payload"]["entry"]
            for event in entry["messaging"]
            if mid in event.get("delivery", {}).get("mids", [])
        ]

    [delivery] = chan.wait_for(deliveries)
    assert delivery["valid"] and delivery["recipient"] == {"id": "1029384756"}
    assert delivery["sender"] == {"id": "24870000000001"}


# ---------------------------------------------------------------- Meta Graph API: media


def test_media_is_fetched_in_two_steps_with_the_bearer_token(chan: StackClient) -> None:
    info = chan.get(f"{GRAPH}/1013859600285441", headers=BEARER)
    assert info.status == 200, info.text
    media = info.json()
    assert media["url"] == chan.url + "/_sandbox/meta/media/1013859600285441"
    assert (media["mime_type"], media["id"], media["messaging_product"]) == (
        "image/jpeg",
        "1013859600285441",
        "whatsapp",
    )
    assert chan.get("/_sandbox/meta/media/1013859600285441").status == 401
    download = chan.get("/_sandbox/meta/media/1013859600285441", headers=BEARER)
    assert download.status == 200 and download.headers["content-type"] == "image/jpeg"
    assert download.body[:3] == b"\xff\xd8\xff" and download.body[-2:] == b"\xff\xd9"
    assert len(download.body) == media["file_size"]
    assert hashlib.sha256(download.body).hexdigest() == media["sha256"]
    other = chan.get("/_sandbox/meta/media/2", headers=BEARER).body
    assert other != download.body and other == chan.get("/_sandbox/meta/media/2", headers=BEARER).body
    assert chan.get(f"{GRAPH}/1013859600285441").status == 401


def test_big_media_is_streamed(chan: StackClient) -> None:
    media = chan.get(f"{GRAPH}/big-video?access_token={META_TOKEN}").json()
    assert media["file_size"] > 25 * 1024 * 1024
    status, size, digest = chan.download("/_sandbox/meta/media/big-video", headers=BEARER)
    assert (status, size, digest) == (200, media["file_size"], media["sha256"])


# ---------------------------------------------------------------- Telegram Bot API


def test_telegram_refuses_a_wrong_token(chan: StackClient) -> None:
    answer = chan.post("/_sandbox/telegram/bot1:nope/sendMessage", json={"chat_id": 1, "text": "hi"})
    assert (answer.status, answer.json()) == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    assert chan.post(f"{BOT}/noSuchMethod", json={}).json()["error_code"] == 404


def test_telegram_send_message_and_outbox(chan: StackClient) -> None:
    chan.delete("/_local/outbox")
    answer = chan.post(
        f"{BOT}/sendMessage",
        json={"chat_id": 3527065, "text": "Hello ☃", "reply_parameters": {"message_id": 41}},
    )
    assert answer.status == 200, answer.text
    document = answer.json()
    assert document["ok"] is True
    message = document["result"]
    assert message["chat"] == {"id": 3527065, "type": "private"} and message["text"] == "Hello ☃"
    assert message["from"]["is_bot"] is True and message["from"]["id"] == 987654321
    assert isinstance(message["date"], int) and message["reply_to_message"]["message_id"] == 41
    form = chan.post(f"{BOT}/sendmessage", data={"chat_id": "3527065", "text": "again"}).json()["result"]
    assert form["message_id"] == message["message_id"] + 1 and form["chat"]["id"] == 3527065
    [first, second] = chan.outbox()
    assert first["provider"] == "telegram" and BOT_TOKEN not in first["url"]
    assert first["url"] == chan.url + "/_sandbox/telegram/bot[redacted]/sendMessage"
    assert first["params"]["text"] == "Hello ☃" and second["params"] == {
        "chat_id": "3527065",
        "text": "again",
    }
    assert first["response"] == {"status": 200, "body": document}


@pytest.mark.parametrize(
    ("params", "status", "description"),
    [
        ({"text": "hi"}, 400, "Bad Request: chat_id is empty"),
        ({"chat_id": 1}, 400, "Bad Request: message text is empty"),
        ({"chat_id": 1, "text": "x" * 4097}, 400, "Bad Request: message is too long"),
        ({"chat_id": 403403, "text": "hi"}, 403, "Forbidden: bot was blocked by the user"),
        ({"chat_id": 400400, "text": "hi"}, 400, "Bad Request: chat not found"),
    ],
)
def test_telegram_send_message_errors(
    chan: StackClient, params: dict[str, Any], status: int, description: str
) -> None:
    answer = chan.post(f"{BOT}/sendMessage", json=params)
    assert (answer.status, answer.json()) == (
        status,
        {"ok": False, "error_code": status, "description": description},
    )


def test_telegram_faults(chan: StackClient) -> None:
    chan.post("/_local/sandbox/faults", json={"provider": "telegram", "status": 429, "times": 1})
    limited = chan.post(f"{BOT}/sendMessage", json={"chat_id": 1, "text": "hi"})
    assert limited.status == 429
    assert limited.json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }
    assert chan.post(f"{BOT}/sendMessage", json={"chat_id": 1, "text": "hi"}).status == 200


def test_telegram_photo_document_and_files(chan: StackClient) -> None:
    photo = chan.post(
        f"{BOT}/sendPhoto",
        json={"chat_id": 1, "photo": "https://cdn.example/p.jpg", "caption": "your parcel"},
    ).json()["result"]
    assert photo["caption"] == "your parcel" and len(photo["photo"]) == 3
    assert chan.post(f"{BOT}/sendPhoto", json={"chat_id": 1}).json()["description"] == (
        "Bad Request: there is no photo in the request"
    )
    document = chan.post(
        f"{BOT}/sendDocument", json={"chat_id": 1, "document": "https://cdn.example/inv.pdf"}
    )
    assert document.json()["result"]["document"]["file_name"] == "inv.pdf"
    file_id = photo["photo"][-1]["file_id"]
    found = chan.get(f"{BOT}/getFile?file_id={file_id}").json()["result"]
    assert found["file_id"] == file_id and re.fullmatch(r"photos/file_\d+\.jpg", found["file_path"])
    assert chan.get(f"{BOT}/getFile?file_id={file_id}").json()["result"] == found
    content = chan.get(f"/_sandbox/telegram/file/bot{BOT_TOKEN}/{found['file_path']}")
    assert content.status == 200 and content.body[:3] == b"\xff\xd8\xff"
    assert len(content.body) == found["file_size"]
    assert chan.get(f"/_sandbox/telegram/file/bot1:nope/{found['file_path']}").status == 404
    assert chan.get(f"/_sandbox/telegram/file/bot{BOT_TOKEN}/photos/never.jpg").status == 404
    big = chan.post(f"{BOT}/getFile", json={"file_id": "big-1"}).json()
    assert big == {"ok": False, "error_code": 400, "description": "Bad Request: file is too big"}


def test_telegram_takes_multipart_uploads(chan: StackClient) -> None:
    boundary = "e2e-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="chat_id"\r\n\r\n42\r\n'.encode(),
        f'--{boundary}\r\nContent-Disposition: form-data; name="document"; filename="invoice.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n".encode()
        + b"%PDF-1.4 fake\r\n",
        f"--{boundary}--\r\n".encode(),
    ]
    answer = chan.post(
        f"{BOT}/sendDocument",
        data=b"".join(parts),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert answer.status == 200, answer.text
    document = answer.json()["result"]["document"]
    assert (document["file_name"], document["mime_type"], document["file_size"]) == (
        "invoice.pdf",
        "application/pdf",
        13,
    )
    assert answer.json()["result"]["chat"]["id"] == 42


# ---------------------------------------------------------------- signing by hand


def test_sign_cli_signs_meta_bodies_and_prints_the_telegram_token(tmp_path: Path) -> None:
    body = tmp_path / "body.json"
    body.write_bytes(b'{"object":"page","entry":[]}')
    env = {**os.environ, "META_APP_SECRET": "s3cret", "TELEGRAM_SECRET_TOKEN": "tg-token"}
    run = functools.partial(subprocess.run, capture_output=True, text=True, check=True, cwd=REPO, env=env)
    meta = run([sys.executable, "-m", "local.sign", "meta", f"@{body}"]).stdout.strip()
    assert meta == "sha256=" + hmac.new(b"s3cret", body.read_bytes(), hashlib.sha256).hexdigest()
    assert run([sys.executable, "-m", "local.sign", "telegram"]).stdout.strip() == "tg-token"


# ---------------------------------------------------------------- the project's template: new sandboxes


def test_project_new_sandboxes_use_the_default_fake_credentials(stack: StackClient) -> None:
    whatsapp_send = stack.post(
        "/_sandbox/meta/v21.0/1/messages",
        json={"messaging_product": "whatsapp", "to": "1555", "type": "text", "text": {"body": "hi"}},
        headers={"Authorization": "Bearer fake-meta-access-token"},
    )
    assert whatsapp_send.status == 200, whatsapp_send.text
    telegram_send = stack.post(
        "/_sandbox/telegram/bot123456789:fake-telegram-bot-token/sendMessage",
        json={"chat_id": 1, "text": "hi"},
    )
    assert telegram_send.status == 200, telegram_send.text
