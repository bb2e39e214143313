"""The local stack's own contract, checked over HTTP against a small throwaway system.

The throwaway template uses the same resource types and event kinds as the real one (FIFO queues
with a DLQ, a JWT-protected HttpApi on a Cognito pool, a secret, an event bus, a schedule, a
layer with ``shopdesk.clock``), with handlers that report what they received, so these tests pin
down the behaviour of the stack itself: API Gateway events and authorizer, SQS batch semantics,
schedules, the clock, the provider sandbox and the isolation of each function's environment.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jwt
import pytest
from conftest import StackClient
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
      VisibilityTimeout: 1
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
        time.sleep(1)
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
    assert (answer.status, answer.json()) == (200, {"status": "ok"})


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
        started = time.monotonic()
        answers = list(pool.map(lambda _: fake.get("/echo/nap"), range(2)))
        elapsed = time.monotonic() - started
    assert [a.status for a in answers] == [200, 200]
    assert elapsed < 1.9  # two 1 s naps side by side (plus at most one cold start), not one after the other


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
    time.sleep(2.5)  # longer than the visibility timeout: a message not deleted would be back by now
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
    assert stack.get("/_local/health").json() == {"status": "ok"}
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
