"""Sample Lambda events, one per function and scenario, named ``<source>_<scenario>.json``.

Run from the repository root to rewrite them (deterministic: same input, same bytes)::

    .venv/bin/python events/generate.py          # write events/*.json
    .venv/bin/python events/generate.py --check  # exit 1 if a file is stale

Feed one to a handler with ``sam local invoke <Function> -e events/<name>.json`` or through the
integration tests (tests/integration/test_events.py runs every one of them against moto).

What the events assume, so their signatures hold:
* the inbound function's ``PUBLIC_BASE_URL`` is ``https://desk.example.com`` (the events' API
  Gateway domain is that host too, so they also verify with no ``PUBLIC_BASE_URL`` set);
* the Twilio auth token in the secret is ``fake-twilio-auth-token``;
* the Shopify client secret and the WooCommerce webhook secret are the samples' test secrets
  (``test_shopify_client_secret``, ``test_wc_webhook_secret``): those bodies and signatures are the
  commerce samples' (tests/fixtures/commerce) byte for byte.

Twilio bodies are the provider samples byte for byte. API Gateway HTTP APIs hand a
``application/x-www-form-urlencoded`` body to Lambda base64-encoded (``isBase64Encoded: true``);
JSON bodies arrive as text. IDs in the agent and queue events (``c_01KQHC8AM06YTZRSTM6Y7VRFVH``...)
are placeholders: a test that needs a real conversation creates one first and substitutes its id.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, ROOT / "layers" / "shopdesk"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from tests.commerce_support import commerce_sample  # noqa: E402
from tests.support import AUTH_TOKEN, sample  # noqa: E402  (AUTH_TOKEN: the secret the test desk holds)

from shopdesk.channels import twilio  # noqa: E402
from shopdesk.dal.table import serialize  # noqa: E402
from shopdesk.logic.dispatch import OutboundWork  # noqa: E402
from shopdesk.logic.work import DrainWork, InboundWork  # noqa: E402

EVENTS = Path(__file__).resolve().parent
PUBLIC_BASE_URL = "https://desk.example.com"
DOMAIN = "desk.example.com"

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
API_ID = "a1b2c3d4e5"
STAGE = "dev"
USER_POOL = f"{REGION}_EXAMPLE01"
APP_CLIENT = "4jb2example0client0id0abcd"

# 2026-05-01T09:00:00Z and ids minted at that moment
EPOCH = 1777626000
HTTP_TIME = "01/May/2026:09:00:00 +0000"
CONVERSATION_ID = "c_01KQHC8AM06YTZRSTM6Y7VRFVH"
INBOUND_MESSAGE_ID = "m_01KQHC8AM0D0YEH53F47VKVEXZ"
REPLY_MESSAGE_ID = "m_01KQHC8AM04791NT2WVBTJ71W1"
REPLY_MESSAGE_SK = f"MSG#2026-05-01T09:00:00.000Z#{REPLY_MESSAGE_ID}"
DRAIN_DEDUP_ID = "d_01KQHC8AM07QWHJEFJDQ3CET68"
REFILL_DEDUP_ID = "d_01KQHC8AM0K3V7Q2M9W4X6Y8Z1"

AGENT = "alice"
AGENT_CLAIMS = {
    "sub": "5f1b7a1e-8c2d-4e3f-9a4b-6c7d8e9f0a1b",
    "cognito:username": AGENT,
    "name": "Alice Example",
    "email": "alice@example.com",
    "email_verified": "true",
    "aud": APP_CLIENT,
    "iss": f"https://cognito-idp.{REGION}.amazonaws.com/{USER_POOL}",
    "token_use": "id",
    "auth_time": str(EPOCH - 600),
    "iat": str(EPOCH - 600),
    "exp": str(EPOCH + 3000),
    "event_id": "0d4f6a8e-2b1c-4d3e-8f7a-9b0c1d2e3f4a",
    "jti": "7e6d5c4b-3a29-4180-9f8e-7d6c5b4a3928",
    "origin_jti": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
}
# Shaped like a JWT but signed by nobody: API Gateway verified the real one and passes only the claims.
AUTHORIZATION = "Bearer eyJraWQiOiJleGFtcGxlIiwiYWxnIjoiUlMyNTYifQ.eyJzdWIiOiJleGFtcGxlIn0.ZXhhbXBsZQ"


# ------------------------------------------------------------------------------ API Gateway HTTP API (2.0)

def _http(method: str, path: str, route: str, *, request_id: str, headers: dict[str, str],
          body: str | None = None, base64_body: bool = False, query: dict[str, str] | None = None,
          path_parameters: dict[str, str] | None = None, claims: dict[str, str] | None = None,
          source_ip: str = "198.51.100.23", user_agent: str = "Mozilla/5.0") -> dict[str, Any]:
    raw_query = "&".join(f"{k}={v}" for k, v in (query or {}).items())
    all_headers = {
        "accept": "*/*",
        "host": DOMAIN,
        "user-agent": user_agent,
        "x-amzn-trace-id": f"Root=1-{EPOCH:08x}-{hashlib.sha256(request_id.encode()).hexdigest()[:24]}",
        "x-forwarded-for": source_ip,
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
        **headers,
    }
    if body is not None:
        all_headers["content-length"] = str(len(body.encode("utf-8")))
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} {route}",
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": dict(sorted(all_headers.items())),
    }
    if query:
        event["queryStringParameters"] = query
    context: dict[str, Any] = {
        "accountId": ACCOUNT_ID,
        "apiId": API_ID,
        "domainName": DOMAIN,
        "domainPrefix": DOMAIN.split(".")[0],
        "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": source_ip,
                 "userAgent": user_agent},
        "requestId": request_id,
        "routeKey": f"{method} {route}",
        "stage": "$default",
        "time": HTTP_TIME,
        "timeEpoch": EPOCH * 1000,
    }
    if claims is not None:
        context["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    event["requestContext"] = context
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body is not None:
        event["body"] = base64.b64encode(body.encode("utf-8")).decode() if base64_body else body
    event["isBase64Encoded"] = bool(body is not None and base64_body)
    return event


def _twilio(path: str, sample_name: str, request_id: str, *, signature: str | None = None) -> dict[str, Any]:
    """A Twilio webhook POST carrying a provider sample, signed for PUBLIC_BASE_URL + path."""
    body, _meta = sample("twilio", sample_name)
    url = PUBLIC_BASE_URL + path
    if signature is None:
        signature = twilio.sign(url, twilio.parse_form(body), AUTH_TOKEN)
    headers = {
        "content-type": "application/x-www-form-urlencoded",
        "i-twilio-idempotency-token": hashlib.sha256(f"{sample_name}{request_id}".encode()).hexdigest()[:36],
        "x-home-region": "us1",
        "x-twilio-signature": signature,
    }
    return _http("POST", path, path, request_id=request_id, headers=headers, body=body, base64_body=True,
                 source_ip="203.0.113.40", user_agent="TwilioProxy/1.1")


def _commerce(platform: str, sample_name: str, request_id: str) -> dict[str, Any]:
    """A Shopify or WooCommerce webhook POST carrying a sample with its own headers and signature."""
    body, meta = commerce_sample(platform, sample_name)
    headers = {k.lower(): v for k, v in meta["http"]["headers"].items() if k.lower() != "content-length"}
    path = f"/webhooks/{platform}"
    return _http("POST", path, path, request_id=request_id, headers=headers, body=body.decode("utf-8"),
                 source_ip="203.0.113.60", user_agent=headers.pop("user-agent", "Shopify-Captain-Hook"))


def _agent(method: str, path: str, route: str, request_id: str, *, body: dict[str, Any] | None = None,
           query: dict[str, str] | None = None, path_parameters: dict[str, str] | None = None) -> dict[str, Any]:
    headers = {"authorization": AUTHORIZATION, "origin": "https://inbox.example.com"}
    text = None
    if body is not None:
        headers["content-type"] = "application/json"
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return _http(method, path, route, request_id=request_id, headers=headers, body=text, query=query,
                 path_parameters=path_parameters, claims=AGENT_CLAIMS)


# ------------------------------------------------------------------------------ API Gateway WebSocket API

WS_API_ID = "w9x8y7z6v5"
WS_DOMAIN = f"{WS_API_ID}.execute-api.{REGION}.amazonaws.com"
CONNECTION_ID = "L0SM9cOFvHcCIhw="
WS_HEADERS = {
    "Host": WS_DOMAIN,
    "Origin": "https://inbox.example.com",
    "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version": "13",
    "User-Agent": "Mozilla/5.0",
    "X-Amzn-Trace-Id": f"Root=1-{EPOCH:08x}-0123456789abcdef01234567",
    "X-Forwarded-For": "198.51.100.23",
    "X-Forwarded-Port": "443",
    "X-Forwarded-Proto": "https",
}
# The ID token rides in the query string (browsers cannot set headers on a WebSocket). Shaped like a JWT,
# signed by nobody: the authorizer refuses it, as it would any token not signed by the user pool.
WS_TOKEN = AUTHORIZATION.removeprefix("Bearer ")
WS_AUTHORIZER_CONTEXT = {"agent": AGENT, "name": AGENT_CLAIMS["name"], "roles": "", "principalId": AGENT,
                         "integrationLatency": 212}


def _ws_context(route: str, event_type: str, request_id: str, *, authorizer: bool = True) -> dict[str, Any]:
    context: dict[str, Any] = {
        "routeKey": route,
        "eventType": event_type,
        "extendedRequestId": request_id,
        "requestTime": HTTP_TIME,
        "messageDirection": "IN",
        "stage": STAGE,
        "connectedAt": EPOCH * 1000,
        "requestTimeEpoch": EPOCH * 1000 + (0 if route == "$connect" else 5000),
        "identity": {"sourceIp": "198.51.100.23", "userAgent": "Mozilla/5.0"},
        "requestId": request_id,
        "domainName": WS_DOMAIN,
        "connectionId": CONNECTION_ID,
        "apiId": WS_API_ID,
    }
    if authorizer:
        context["authorizer"] = dict(WS_AUTHORIZER_CONTEXT)
    return context


def _ws_authorizer(request_id: str) -> dict[str, Any]:
    query = {"token": WS_TOKEN}
    return {
        "type": "REQUEST",
        "methodArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{WS_API_ID}/{STAGE}/$connect",
        "headers": WS_HEADERS,
        "multiValueHeaders": {k: [v] for k, v in WS_HEADERS.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()},
        "stageVariables": {},
        "requestContext": _ws_context("$connect", "CONNECT", request_id, authorizer=False),
    }


def _ws_connect(request_id: str) -> dict[str, Any]:
    query = {"token": WS_TOKEN}
    return {
        "headers": WS_HEADERS,
        "multiValueHeaders": {k: [v] for k, v in WS_HEADERS.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()},
        "requestContext": _ws_context("$connect", "CONNECT", request_id),
        "isBase64Encoded": False,
    }


def _ws_message(request_id: str, body: dict[str, Any]) -> dict[str, Any]:
    context = _ws_context("$default", "MESSAGE", request_id)
    context["messageId"] = request_id[:-1] + "M"
    return {"requestContext": context, "body": json.dumps(body), "isBase64Encoded": False}


def _ws_disconnect(request_id: str) -> dict[str, Any]:
    context = _ws_context("$disconnect", "DISCONNECT", request_id)
    context.update({"disconnectStatusCode": 1001, "disconnectReason": "Going away"})
    headers = {"Host": WS_DOMAIN, "x-api-key": "", "X-Forwarded-For": "", "x-restapi": ""}
    return {"headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "requestContext": context, "isBase64Encoded": False}


# ------------------------------------------------------------------------------ DynamoDB stream (Lambda event source)

STREAM_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/shopdesk-{STAGE}/stream/2026-05-01T00:00:00.000"


def _stream_insert(item: dict[str, Any], event_id: str, sequence: str) -> dict[str, Any]:
    image = serialize(item)
    return {
        "eventID": event_id,
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": REGION,
        "dynamodb": {
            "ApproximateCreationDateTime": EPOCH,
            "Keys": {"PK": image["PK"], "SK": image["SK"]},
            "NewImage": image,
            "SequenceNumber": sequence,
            "SizeBytes": len(json.dumps(image)),
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": STREAM_ARN,
    }


def _new_conversation_records() -> dict[str, Any]:
    """What ingest's transaction writes for a new customer's SMS, as the stream shows it (abridged items)."""
    at = "2026-05-01T09:00:00.000Z"
    conversation = {
        "PK": f"CONV#{CONVERSATION_ID}", "SK": "META", "type": "conversation", "id": CONVERSATION_ID,
        "status": "open", "priority": "normal", "team": "default", "channel": "sms",
        "customer": {"id": "u_01KQHC8AM0CUSTOMER00000001", "name": None, "identities": []},
        "created_at": at, "updated_at": at, "waiting_since": at, "message_count": 1,
        "last_message_preview": "Where is my order?", "QueuePK": "QUEUE#default",
        "QueueSK": f"2#{at}#{CONVERSATION_ID}", "StatusPK": "STATUS#open", "StatusSK": at,
    }
    message = {
        "PK": f"CONV#{CONVERSATION_ID}", "SK": f"MSG#{at}#{INBOUND_MESSAGE_ID}", "type": "message",
        "id": INBOUND_MESSAGE_ID, "conversation_id": CONVERSATION_ID, "direction": "inbound", "channel": "sms",
        "text": "Where is my order?", "status": "received", "created_at": at, "provider": "twilio",
    }
    return {"Records": [_stream_insert(conversation, "2f0e4b1c9d8a7e6f5a4b3c2d1e0f9a8b", "118894621593421056100"),
                        _stream_insert(message, "7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d", "118894621593421056101")]}


def _stream_modify(old: dict[str, Any], new: dict[str, Any], event_id: str, sequence: str) -> dict[str, Any]:
    record = _stream_insert(new, event_id, sequence)
    record["eventName"] = "MODIFY"
    record["dynamodb"]["OldImage"] = serialize(old)
    record["dynamodb"]["SizeBytes"] += len(json.dumps(record["dynamodb"]["OldImage"]))
    return record


def _agent_online_records() -> dict[str, Any]:
    """An agent going online, then taking a conversation (its load only), as the stream shows them."""
    offline = {"PK": "AGENT#alice", "SK": "META", "type": "agent", "id": "alice", "name": "Alice",
               "presence": "offline", "capacity": 3, "active": 0, "teams": ["default"], "membership_version": 1,
               "presence_changed_at": "2026-04-30T17:00:00.000Z"}
    online = {**offline, "presence": "online", "membership_version": 2,
              "presence_changed_at": "2026-05-01T08:30:00.000Z"}
    busy = {**online, "active": 1}
    return {"Records": [_stream_modify(offline, online, "4c3b2a19f8e7d6c5b4a3928170f6e5d4", "118894621593421056200"),
                        _stream_modify(online, busy, "5d4c3b2a19f8e7d6c5b4a3928170f6e5", "118894621593421056201")]}


# ------------------------------------------------------------------------------ SQS FIFO (Lambda event source)

def _sqs(queue: str, message_id: str, body: dict[str, Any], *, group: str, dedup_id: str,
         sequence: str, sender: str) -> dict[str, Any]:
    text = json.dumps(body, separators=(",", ":"))           # as shopdesk.dal.queues.Queue.send writes it
    return {"Records": [{
        "messageId": message_id,
        "receiptHandle": base64.b64encode(f"{queue}:{message_id}:receipt".encode()).decode(),
        "body": text,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": str(EPOCH * 1000),
            "SequenceNumber": sequence,
            "MessageGroupId": group,
            "SenderId": f"AROAEXAMPLEROLEID0001:{sender}",
            "MessageDeduplicationId": dedup_id,
            "ApproximateFirstReceiveTimestamp": str(EPOCH * 1000 + 12),
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(text.encode(), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{queue}",
        "awsRegion": REGION,
    }]}


def build() -> dict[str, dict[str, Any]]:
    """Every sample event by file name."""
    conversation_path = f"/agent/conversations/{CONVERSATION_ID}"
    inbound = InboundWork(conversation_id=CONVERSATION_ID, message_id=INBOUND_MESSAGE_ID, team="default")
    drain = DrainWork(team="default", reason="sweep")
    refill = DrainWork(agent_id="alice", reason="agent-online")
    reply = OutboundWork(conversation_id=CONVERSATION_ID, message_id=REPLY_MESSAGE_ID, message_sk=REPLY_MESSAGE_SK)
    _body, text_meta = sample("twilio", "sms_inbound_text")
    return {
        # Twilio webhooks (InboundTwilioFunction)
        "apigw_twilio_inbound_sms.json": _twilio("/webhooks/twilio", "sms_inbound_text", "Tw1SmsInbound0001="),
        "apigw_twilio_inbound_whatsapp.json": _twilio("/webhooks/twilio", "whatsapp_inbound_text",
                                                      "Tw2WaInbound00002="),
        "apigw_twilio_inbound_mms.json": _twilio("/webhooks/twilio", "sms_inbound_mms_image", "Tw3MmsInbound0003="),
        "apigw_twilio_status_delivered.json": _twilio("/webhooks/twilio/status", "whatsapp_status_delivered",
                                                      "Tw4StatusDeliv004="),
        "apigw_twilio_status_undelivered.json": _twilio("/webhooks/twilio/status", "sms_status_undelivered_30003",
                                                        "Tw5StatusUndel005="),
        # signed by Twilio's algorithm, but for another URL and account (the sample's own header)
        "apigw_twilio_bad_signature.json": _twilio(
            "/webhooks/twilio", "sms_inbound_text", "Tw6BadSignature06=",
            signature=text_meta["signing"]["expected_header"]["X-Twilio-Signature"]),
        # Commerce webhooks (InboundShopifyFunction, InboundWooCommerceFunction)
        "apigw_shopify_orders_updated.json": _commerce("shopify", "orders_updated_arrives_first", "Sh1OrdersUpd0001="),
        "apigw_woocommerce_order_created.json": _commerce("woocommerce", "order_created", "Wc1OrderCreated1="),
        # Agent API (AgentApiFunction), behind the Cognito JWT authorizer
        "apigw_agent_list_mine.json": _agent("GET", "/agent/conversations", "/agent/conversations",
                                             "Ag1ListMine000001=", query={"view": "mine", "status": "open",
                                                                          "limit": "20"}),
        "apigw_agent_reply.json": _agent("POST", f"{conversation_path}/replies", "/agent/conversations/{id}/replies",
                                         "Ag2Reply000000002=", path_parameters={"id": CONVERSATION_ID},
                                         body={"text": "Hi! Your order left our warehouse today 📦"}),
        "apigw_agent_reply_empty_text.json": _agent("POST", f"{conversation_path}/replies",
                                                    "/agent/conversations/{id}/replies", "Ag3ReplyEmpty0003=",
                                                    path_parameters={"id": CONVERSATION_ID}, body={"text": "   "}),
        "apigw_agent_set_presence.json": _agent("PUT", "/agent/me/presence", "/agent/me/presence",
                                                "Ag4Presence000004=", body={"presence": "online"}),
        # the live inbox's first call: no since, the current cursor
        "apigw_agent_changes.json": _agent("GET", "/agent/changes", "/agent/changes", "Ag5Changes0000005="),
        # WebSocket API: the $connect authorizer (LiveAuthorizerFunction), the routes (LiveConnectionsFunction)
        "apigw_authorizer_connect.json": _ws_authorizer("Ws1Authorize00001="),
        "apigw_live_connect.json": _ws_connect("Ws2Connect0000002="),
        "apigw_live_ping.json": _ws_message("Ws3Ping000000003=", {"type": "ping"}),
        "apigw_live_disconnect.json": _ws_disconnect("Ws4Disconnect0004="),
        # the table's stream (LiveFanoutFunction): a new customer's first message
        "dynamodb_live_new_conversation.json": _new_conversation_records(),
        # the same records as the event lake's writer gets them (AnalyticsWriterFunction)
        "dynamodb_lake_new_conversation.json": _new_conversation_records(),
        "dynamodb_lake_agent_online.json": _agent_online_records(),
        # Reports API (ReportsApiFunction): a supervisor's week
        "apigw_reports_summary.json": _http("GET", "/reports/summary", "/reports/summary",
                                            request_id="Rp1Summary0000001=", headers={"authorization": AUTHORIZATION},
                                            query={"from": "2026-04-27", "to": "2026-05-04",
                                                   "tz": "Europe/Amsterdam"},
                                            claims={**AGENT_CLAIMS, "cognito:groups": "[supervisors]"}),
        # Work queue (RouterFunction)
        "sqs_work_inbound.json": _sqs(f"shopdesk-{STAGE}-work.fifo", "3f1c9a52-7b8e-4d6a-a1f0-5e2d8c7b6a01",
                                      inbound.model_dump(), group=CONVERSATION_ID, dedup_id=INBOUND_MESSAGE_ID,
                                      sequence="18894621593421056000",
                                      sender=f"shopdesk-{STAGE}-InboundTwilioFunction"),
        "sqs_work_drain.json": _sqs(f"shopdesk-{STAGE}-work.fifo", "8a2d4e6f-1b3c-4d5e-9f70-81a2b3c4d502",
                                    drain.model_dump(exclude_none=True), group="drain#default",
                                    dedup_id=DRAIN_DEDUP_ID, sequence="18894621593421056001",
                                    sender=f"shopdesk-{STAGE}-SlaSweepFunction"),
        # an agent freed capacity (here: came online): every team of theirs is drained at once
        "sqs_work_refill.json": _sqs(f"shopdesk-{STAGE}-work.fifo", "5d7e9f1a-2c4b-4e6d-8a0f-93b5c7d9e104",
                                     refill.model_dump(exclude_none=True), group="refill#alice",
                                     dedup_id=REFILL_DEDUP_ID, sequence="18894621593421056003",
                                     sender=f"shopdesk-{STAGE}-AgentApiFunction"),
        # Outbound queue (DispatcherFunction): the body Inbox.reply enqueues
        "sqs_outbound_reply.json": _sqs(f"shopdesk-{STAGE}-outbound.fifo", "c4b3a291-8e7d-4c6b-a5f4-e3d2c1b0a903",
                                        reply.model_dump(), group=CONVERSATION_ID, dedup_id=REPLY_MESSAGE_ID,
                                        sequence="18894621593421056002",
                                        sender=f"shopdesk-{STAGE}-AgentApiFunction"),
        # EventBridge Scheduler (SlaSweepFunction): a ScheduleV2 target with no Input gets an empty object
        "scheduler_sla_sweep.json": {},
    }


def render(event: dict[str, Any]) -> str:
    return json.dumps(event, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    events = build()
    stale = [name for name, event in events.items()
             if not (EVENTS / name).exists() or (EVENTS / name).read_text(encoding="utf-8") != render(event)]
    if "--check" in argv:
        for name in stale:
            print(f"stale: events/{name}")
        return 1 if stale else 0
    for name in stale:
        (EVENTS / name).write_text(render(events[name]), encoding="utf-8")
        print(f"wrote events/{name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
