"""Every sample event in events/ fed to its real handler against moto, and its outcome checked.

A handler is chosen by the file name's source and prefix (``apigw_twilio_*`` -> inbound_twilio,
``apigw_agent_*`` -> agent_api, ``sqs_work_*`` -> router, ``sqs_outbound_*`` -> dispatcher,
``scheduler_*`` -> sla_sweep, ``apigw_authorizer_*`` -> live_authorizer, ``apigw_live_*`` ->
live_connections, ``dynamodb_live_*`` -> live_fanout). Events that name a conversation carry a placeholder id: the test
creates the conversation first (by posting an inbound event) and substitutes the real id.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import pytest

from shopdesk import clock
from shopdesk.dal.table import deserialize
from shopdesk.models import delivery_rank
from tests.integration.helpers import teams
from tests.integration.test_admin_api import admin_call
from tests.support import AUTH_TOKEN, EVENTS

_spec = importlib.util.spec_from_file_location("events_generate", EVENTS / "generate.py")
assert _spec and _spec.loader
generate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(generate)

HANDLERS = {"apigw_twilio_": "inbound_twilio", "apigw_agent_": "agent_api", "apigw_shopify_": "inbound_shopify",
            "apigw_woocommerce_": "inbound_woocommerce", "sqs_work_": "router",
            "sqs_outbound_": "dispatcher", "scheduler_": "sla_sweep", "apigw_authorizer_": "live_authorizer",
            "apigw_live_": "live_connections", "dynamodb_live_": "live_fanout",
            "dynamodb_lake_": "analytics_writer", "apigw_reports_": "reports_api"}
SMS_CUSTOMER = "+14133881111"
WHATSAPP_CUSTOMER = "+31612345678"
MMS_CUSTOMER = "+12032572584"
STATUS_SID = "SMdf55df64a2ff4920bb0748193cfbb640"     # the WhatsApp delivered-receipt sample's MessageSid


def _event(name: str, **replace: str) -> dict[str, Any]:
    """An event from events/, with placeholder values replaced (ids, and the md5 of SQS bodies)."""
    text = (EVENTS / name).read_text(encoding="utf-8")
    for old, new in replace.items():
        text = text.replace(old, new)
    event = json.loads(text)
    for record in event.get("Records", []):
        if "body" in record:            # SQS records: the md5 of the (substituted) body
            record["md5OfBody"] = hashlib.md5(record["body"].encode(), usedforsecurity=False).hexdigest()
    return event


def _handler(name: str) -> str:
    return next(function for prefix, function in HANDLERS.items() if name.startswith(prefix))


def _invoke(desk, name: str, event: dict[str, Any] | None = None, **overrides: str) -> Any:
    return desk.invoke(_handler(name), event if event is not None else _event(name), **overrides)


def _json(result: dict[str, Any]) -> dict[str, Any]:
    return json.loads(result["body"]) if result.get("body") else {}


def _messages(desk, conversation_id: str) -> list[dict[str, Any]]:
    rows = desk.client("dynamodb").query(
        TableName=desk.table_name, KeyConditionExpression="PK = :pk AND begins_with(SK, :msg)",
        ExpressionAttributeValues={":pk": {"S": f"CONV#{conversation_id}"}, ":msg": {"S": "MSG#"}},
        ConsistentRead=True)["Items"]
    return [deserialize(r) for r in rows]


def _queued(desk, queue_url: str) -> list[dict[str, Any]]:
    received = desk.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                                  MessageSystemAttributeNames=["All"]).get("Messages", [])
    return received


def _conversation_of(desk, phone: str) -> str:
    identity = desk.item(f"IDENTITY#phone#{phone}")
    assert identity is not None, f"no customer with {phone}"
    return identity["open_conversation_id"]


def _inbound_sms(desk, routed: bool = False) -> str:
    """Seed: the inbound SMS event, so there is a conversation (routed: classified and waiting in
    the queue, as the router leaves it); returns its id."""
    assert _invoke(desk, "apigw_twilio_inbound_sms.json")["statusCode"] == 200
    if routed:
        desk.drain_queue(desk.work_queue_url, "router")
    return _conversation_of(desk, SMS_CUSTOMER)


def _alice_online(desk) -> None:
    assert _invoke(desk, "apigw_agent_set_presence.json")["statusCode"] == 200


# ------------------------------------------------------------------------------ the set of events

SCENARIOS = {
    "apigw_twilio_inbound_sms.json", "apigw_twilio_inbound_whatsapp.json", "apigw_twilio_inbound_mms.json",
    "apigw_twilio_status_delivered.json", "apigw_twilio_status_undelivered.json", "apigw_twilio_bad_signature.json",
    "apigw_agent_list_mine.json", "apigw_agent_reply.json", "apigw_agent_reply_empty_text.json",
    "apigw_agent_set_presence.json", "sqs_work_inbound.json", "sqs_work_drain.json", "sqs_work_refill.json",
    "sqs_outbound_reply.json", "scheduler_sla_sweep.json", "apigw_agent_changes.json",
    "apigw_authorizer_connect.json", "apigw_live_connect.json", "apigw_live_ping.json",
    "apigw_live_disconnect.json", "dynamodb_live_new_conversation.json",
    "apigw_shopify_orders_updated.json", "apigw_woocommerce_order_created.json",
    "dynamodb_lake_new_conversation.json", "dynamodb_lake_agent_online.json", "apigw_reports_summary.json",
}


def test_every_event_file_has_a_handler_and_a_scenario_here():
    names = {p.name for p in EVENTS.glob("*.json")}
    assert names == SCENARIOS
    assert all(any(n.startswith(prefix) for prefix in HANDLERS) for n in names)


def test_event_files_are_what_the_generator_writes():
    # Given the generator (signatures are computed, not pasted)
    built = generate.build()
    # Then the files in events/ are exactly its output: re-run events/generate.py after changing it
    assert set(built) == SCENARIOS
    for name, event in built.items():
        assert (EVENTS / name).read_text(encoding="utf-8") == generate.render(event), f"events/{name} is stale"


def test_events_assume_the_same_public_url_and_auth_token_as_the_desk(desk):
    assert generate.AUTH_TOKEN == AUTH_TOKEN == "fake-twilio-auth-token"
    assert generate.PUBLIC_BASE_URL == desk.env["PUBLIC_BASE_URL"] == "https://desk.example.com"


# ------------------------------------------------------------------------------ Twilio webhooks

def test_inbound_sms_event_is_answered_with_twiml_and_stored_once(desk):
    # When the signed SMS webhook arrives, twice (Twilio re-delivers)
    first = _invoke(desk, "apigw_twilio_inbound_sms.json")
    second = _invoke(desk, "apigw_twilio_inbound_sms.json")
    # Then both get empty TwiML
    for result in (first, second):
        assert result["statusCode"] == 200
        assert result["headers"]["Content-Type"] == "text/xml"
        assert "<Response></Response>" in result["body"]
    # And the message is stored once, in a new conversation that waits for an agent once routed
    conversation_id = _conversation_of(desk, SMS_CUSTOMER)
    conversation = desk.item(f"CONV#{conversation_id}")
    assert conversation["message_count"] == 1
    assert conversation["channel"] == "sms"
    assert "QueuePK" not in conversation                      # the router classifies it first
    desk.drain_queue(desk.work_queue_url, "router")
    assert desk.item(f"CONV#{conversation_id}")["QueuePK"] == "QUEUE#default"
    [message] = _messages(desk, conversation_id)
    assert (message["direction"], message["text"], message["provider_id"]) == (
        "inbound", "Msg", "SMe287d7109a5a925f182f0e07fe5b223b")
    assert desk.item("EXTMSG#twilio#SMe287d7109a5a925f182f0e07fe5b223b")["conversation_id"] == conversation_id


def test_inbound_whatsapp_event_is_stored_with_a_whatsapp_reply_route(desk):
    result = _invoke(desk, "apigw_twilio_inbound_whatsapp.json")
    assert result["statusCode"] == 200 and "<Response></Response>" in result["body"]
    conversation = desk.item(f"CONV#{_conversation_of(desk, WHATSAPP_CUSTOMER)}")
    assert conversation["channel"] == "whatsapp"
    assert conversation["routes"][conversation["channel"]]["last_inbound_at"]
    assert {k: v for k, v in conversation["routes"][conversation["channel"]].items() if k != "last_inbound_at"} == {
        "channel": "whatsapp", "to": "whatsapp:+31612345678", "sender": "whatsapp:+14123456789",
        "provider": "twilio"}
    [message] = _messages(desk, conversation["id"])
    assert message["text"] == "test"


def test_inbound_mms_event_is_stored_with_its_image(desk):
    result = _invoke(desk, "apigw_twilio_inbound_mms.json")
    assert result["statusCode"] == 200
    [message] = _messages(desk, _conversation_of(desk, MMS_CUSTOMER))
    assert message["text"] == "Test mms"
    assert message["attachments"] == [{
        "url": "https://api.twilio.com/2010-04-01/Accounts/ACe2cdfdaa687e260e98c3f81f7896ce97/Messages/"
               "MM1c05a7205210e96eac11f4e1a484d3f2/Media/MEfb1d3ef549ca3899527125e69466bf8a",
        "content_type": "image/jpeg"}]


def test_inbound_event_verifies_without_public_base_url_too(desk):
    # The events' API Gateway domain is the public host, so the URL rebuilt from the event matches
    result = _invoke(desk, "apigw_twilio_inbound_sms.json", PUBLIC_BASE_URL="")
    assert result["statusCode"] == 200
    assert desk.item(f"IDENTITY#phone#{SMS_CUSTOMER}") is not None


def test_bad_signature_event_is_refused_and_nothing_is_stored(desk):
    # When the SMS webhook arrives with a signature made for another URL and auth token
    result = _invoke(desk, "apigw_twilio_bad_signature.json")
    # Then it is refused and leaves no trace: no customer, no dedupe marker, no routing work
    assert result["statusCode"] == 403
    assert _json(result) == {"message": "invalid signature"}
    assert desk.item(f"IDENTITY#phone#{SMS_CUSTOMER}") is None
    assert desk.item("EXTMSG#twilio#SMe287d7109a5a925f182f0e07fe5b223b") is None
    assert _queued(desk, desk.work_queue_url) == []


def test_status_event_for_a_message_not_sent_yet_is_kept_for_later(desk):
    # When a delivered receipt arrives before the send it belongs to was recorded
    result = _invoke(desk, "apigw_twilio_status_delivered.json")
    # Then it is acknowledged and kept on the dedupe marker, where the send will find it
    assert result["statusCode"] == 200 and "<Response></Response>" in result["body"]
    marker = desk.item(f"EXTMSG#twilio#{STATUS_SID}")
    assert (marker["status"], marker["status_rank"]) == ("delivered", delivery_rank("delivered"))
    assert "message_sk" not in marker


def test_undelivered_status_event_keeps_the_error_code_and_reason(desk):
    result = _invoke(desk, "apigw_twilio_status_undelivered.json")
    assert result["statusCode"] == 200
    marker = desk.item("EXTMSG#twilio#SM0cec4ed334e74bcbb64eb8b6684e9654")
    assert marker["status"] == "undelivered"
    assert marker["error"]["code"] == "30003"
    assert "unreachable" in marker["error"]["message"]


# ------------------------------------------------------------------------------ agent API

def test_set_presence_event_puts_the_agent_online_and_asks_for_a_refill(desk):
    result = _invoke(desk, "apigw_agent_set_presence.json")
    assert result["statusCode"] == 200
    body = _json(result)
    assert (body["id"], body["name"], body["presence"], body["capacity"]) == ("alice", "Alice Example", "online", 3)
    assert desk.item("AGENT#alice")["presence"] == "online"
    [work] = _queued(desk, desk.work_queue_url)
    assert json.loads(work["Body"]) == {"kind": "drain", "agent_id": "alice", "reason": "agent-online"}
    assert work["Attributes"]["MessageGroupId"] == "refill#alice"


def test_list_mine_event_lists_the_agents_open_conversations(desk):
    # Given alice online and an SMS routed to her
    _alice_online(desk)
    conversation_id = _inbound_sms(desk)
    desk.drain_queue(desk.work_queue_url, "router")
    # When she lists her open conversations
    result = _invoke(desk, "apigw_agent_list_mine.json")
    # Then she sees that one
    assert result["statusCode"] == 200
    listing = _json(result)
    assert [c["id"] for c in listing["items"]] == [conversation_id]
    assert listing["items"][0]["assignee"] == "alice"
    assert listing["next_cursor"] is None


def test_list_mine_event_without_conversations_lists_none(desk):
    result = _invoke(desk, "apigw_agent_list_mine.json")
    assert result["statusCode"] == 200
    assert _json(result) == {"items": [], "next_cursor": None, "counts": None}     # counts only when asked


def test_reply_event_queues_the_reply_for_dispatch(desk):
    # Given a conversation (the inbound SMS), named in the event's path
    conversation_id = _inbound_sms(desk)
    event = _event("apigw_agent_reply.json", **{generate.CONVERSATION_ID: conversation_id})
    # When alice replies
    result = _invoke(desk, "apigw_agent_reply.json", event)
    # Then the reply is accepted, stored as queued, and put on the outbound queue in the conversation's group
    assert result["statusCode"] == 202
    reply = _json(result)
    assert (reply["direction"], reply["status"], reply["author"]) == ("outbound", "queued", "alice")
    assert reply["text"] == "Hi! Your order left our warehouse today 📦"
    stored = [m for m in _messages(desk, conversation_id) if m["direction"] == "outbound"]
    assert [m["id"] for m in stored] == [reply["id"]]
    [work] = _queued(desk, desk.outbound_queue_url)
    assert json.loads(work["Body"]) == {"conversation_id": conversation_id, "message_id": reply["id"],
                                        "message_sk": stored[0]["SK"]}
    assert work["Attributes"]["MessageGroupId"] == conversation_id


def test_reply_event_for_an_unknown_conversation_is_not_found(desk):
    result = _invoke(desk, "apigw_agent_reply.json")
    assert result["statusCode"] == 404
    assert generate.CONVERSATION_ID in _json(result)["detail"]
    assert _queued(desk, desk.outbound_queue_url) == []


def test_reply_event_with_blank_text_is_refused_with_what_is_wrong(desk):
    result = _invoke(desk, "apigw_agent_reply_empty_text.json")
    assert result["statusCode"] == 422
    problem = _json(result)
    assert [d["loc"] for d in problem["errors"]] == [["body", "text"]]
    assert all(d["msg"] and d["type"] for d in problem["errors"])
    assert problem["detail"].startswith("invalid request: body.text")


# ------------------------------------------------------------------------------ work queue (router)

def test_work_inbound_event_assigns_the_new_conversation(desk):
    # Given alice online and a new conversation waiting
    _alice_online(desk)
    conversation_id = _inbound_sms(desk)
    message_id = _messages(desk, conversation_id)[0]["id"]
    event = _event("sqs_work_inbound.json", **{generate.CONVERSATION_ID: conversation_id,
                                               generate.INBOUND_MESSAGE_ID: message_id})
    # When the router gets the inbound work
    result = _invoke(desk, "sqs_work_inbound.json", event)
    # Then no record fails and the conversation is alice's
    assert result == {"batchItemFailures": []}
    conversation = desk.item(f"CONV#{conversation_id}")
    assert conversation["assignee"] == "alice"
    assert "QueuePK" not in conversation
    assert desk.item("AGENT#alice")["active"] == 1


def test_work_inbound_event_for_an_unknown_conversation_fails_that_record(desk):
    event = _event("sqs_work_inbound.json")
    result = _invoke(desk, "sqs_work_inbound.json", event)
    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}


def test_work_drain_event_assigns_waiting_conversations(desk):
    conversation_id = _inbound_sms(desk, routed=True)        # nobody online yet: it waits
    _alice_online(desk)
    result = _invoke(desk, "sqs_work_drain.json")
    assert result == {"batchItemFailures": []}
    assert desk.item(f"CONV#{conversation_id}")["assignee"] == "alice"


def test_work_drain_event_with_nobody_online_leaves_the_queue_as_it_is(desk):
    conversation_id = _inbound_sms(desk, routed=True)
    assert _invoke(desk, "sqs_work_drain.json") == {"batchItemFailures": []}
    assert desk.item(f"CONV#{conversation_id}")["QueuePK"] == "QUEUE#default"


def test_work_refill_event_drains_every_team_of_the_agent(desk):
    # Given SMS routed to the billing team, an SMS waiting there, and alice online in default and billing
    teams(desk, "billing")
    admin_call(desk, "PUT", "/admin/routing", "[admins]", {"team_by_channel": {"sms": "billing"}})
    conversation_id = _inbound_sms(desk, routed=True)
    _alice_online(desk)
    assert admin_call(desk, "PUT", "/admin/agents/alice", "[admins]", {"teams": ["default", "billing"]})[0] == 200
    # When the default team is drained, the billing conversation is not its business
    assert _invoke(desk, "sqs_work_drain.json") == {"batchItemFailures": []}
    assert desk.item(f"CONV#{conversation_id}")["QueuePK"] == "QUEUE#billing"
    # Then alice's refill drains both her teams
    assert _invoke(desk, "sqs_work_refill.json") == {"batchItemFailures": []}
    assert desk.item(f"CONV#{conversation_id}")["assignee"] == "alice"


# ------------------------------------------------------------------------------ outbound queue (dispatcher)

class _FakeTwilio(BaseHTTPRequestHandler):
    """Twilio's Messages API: records each request on the server, answers 201 with the receipt sample's sid."""

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.server.requests.append({"path": self.path, "form": dict(parse_qsl(self.rfile.read(length).decode())),
                                     "authorization": self.headers.get("Authorization")})
        body = json.dumps({"sid": STATUS_SID, "status": "queued", "error_code": None}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fake_twilio() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeTwilio)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_outbound_reply_event_sends_the_reply_and_its_receipt_applies(desk, fake_twilio):
    # Given a WhatsApp conversation that alice answered (the reply waits on the outbound queue)
    assert _invoke(desk, "apigw_twilio_inbound_whatsapp.json")["statusCode"] == 200
    conversation_id = _conversation_of(desk, WHATSAPP_CUSTOMER)
    reply = _json(_invoke(desk, "apigw_agent_reply.json",
                          _event("apigw_agent_reply.json", **{generate.CONVERSATION_ID: conversation_id})))
    [stored] = [m for m in _messages(desk, conversation_id) if m["direction"] == "outbound"]
    # (the sort key first: it contains the message id)
    event = _event("sqs_outbound_reply.json", **{generate.REPLY_MESSAGE_SK: stored["SK"],
                                                 generate.REPLY_MESSAGE_ID: reply["id"],
                                                 generate.CONVERSATION_ID: conversation_id})
    twilio_url = f"http://127.0.0.1:{fake_twilio.server_address[1]}"
    # When the dispatcher gets the outbound record
    result = _invoke(desk, "sqs_outbound_reply.json", event, TWILIO_API_BASE_URL=twilio_url)
    # Then nothing fails and Twilio was asked once to send the text to the customer's WhatsApp
    assert result == {"batchItemFailures": []}
    [request] = fake_twilio.requests
    assert request["path"] == "/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages.json"
    callback = request["form"].pop("StatusCallback")
    assert request["form"] == {"To": "whatsapp:+31612345678", "From": "whatsapp:+14123456789",
                               "Body": "Hi! Your order left our warehouse today 📦"}
    # (the status callback carries our reference to the reply's first part: a crash before we record the sid
    # is reconciled from it)
    assert callback.startswith("https://desk.example.com/webhooks/twilio/status?ref=")
    assert reply["id"] in callback and callback.endswith("-0")
    [sent] = [m for m in _messages(desk, conversation_id) if m["direction"] == "outbound"]
    assert (sent["status"], sent["provider_id"], sent["attempts"]) == ("queued", STATUS_SID, 1)
    # And when the delivered receipt event for that sid arrives, the reply is marked delivered
    assert _invoke(desk, "apigw_twilio_status_delivered.json")["statusCode"] == 200
    [delivered] = [m for m in _messages(desk, conversation_id) if m["direction"] == "outbound"]
    assert delivered["status"] == "delivered"


def test_outbound_reply_event_for_a_message_that_does_not_exist_is_skipped(desk, fake_twilio):
    twilio_url = f"http://127.0.0.1:{fake_twilio.server_address[1]}"
    result = _invoke(desk, "sqs_outbound_reply.json", TWILIO_API_BASE_URL=twilio_url)
    assert result == {"batchItemFailures": []}
    assert fake_twilio.requests == []


# ------------------------------------------------------------------------------ scheduler (SLA sweep)

def test_scheduler_event_with_nothing_due_reports_nothing(desk):
    nothing = {"due": 0, "breached": 0, "events": 0, "warned": 0, "released": 0, "deferred": 0, "rerouted": 0,
            "at_risk": 0, "requeued": 0}
    assert _invoke(desk, "scheduler_sla_sweep.json") == nothing


def test_scheduler_event_flags_a_missed_first_response_once(desk):
    # Given an SMS nobody answered, and the clock past its 4 h first-response target
    conversation_id = _inbound_sms(desk)
    clock.set_offset(4 * 3600 + 1)
    # When the schedule fires, twice
    desk.drain_queue(desk.work_queue_url, "router")         # the router starts the clocks
    first = _invoke(desk, "scheduler_sla_sweep.json")
    second = _invoke(desk, "scheduler_sla_sweep.json")
    # Then the breach is flagged and announced once
    assert first == {"due": 1, "breached": 1, "events": 1, "warned": 0, "released": 0, "deferred": 0, "rerouted": 0,
                     "at_risk": 0, "requeued": 0}
    assert second == {"due": 0, "breached": 0, "events": 0, "warned": 0, "released": 0, "deferred": 0, "rerouted": 0,
            "at_risk": 0, "requeued": 0}
    assert desk.item(f"CONV#{conversation_id}")["sla_breaches"] == {"first_response"}   # a string set in the table


# ------------------------------------------------------------------------------ commerce webhooks

@pytest.fixture
def commerce_secrets(desk) -> dict[str, str]:
    """The secrets the commerce events were signed with (the samples' test secrets)."""
    sm = desk.client("secretsmanager")
    shopify = sm.create_secret(Name=f"shopify-events-{desk.table_name}", SecretString=json.dumps(
        {"access_token": "unused", "client_secret": "test_shopify_client_secret"}))["ARN"]
    woo = sm.create_secret(Name=f"woo-events-{desk.table_name}", SecretString=json.dumps(
        {"consumer_key": "ck", "consumer_secret": "cs", "webhook_secret": "test_wc_webhook_secret"}))["ARN"]
    return {"SHOPIFY_SECRET_ARN": shopify, "WOOCOMMERCE_SECRET_ARN": woo}


def test_shopify_orders_updated_event_is_cached_once(desk, commerce_secrets):
    result = _invoke(desk, "apigw_shopify_orders_updated.json", **commerce_secrets)
    assert result["statusCode"] == 200 and _json(result)["status"] == "applied"
    order = desk.item("ORDER#shopify#820982911946154508")
    assert order is not None and json.loads(order["body"])["financial_status"] == "paid"
    assert _json(_invoke(desk, "apigw_shopify_orders_updated.json", **commerce_secrets))["status"] == "duplicate"


def test_woocommerce_order_created_event_is_cached(desk, commerce_secrets):
    result = _invoke(desk, "apigw_woocommerce_order_created.json", **commerce_secrets)
    assert result["statusCode"] == 200 and _json(result)["status"] == "applied"
    assert json.loads(desk.item("ORDER#woocommerce#727")["body"])["number"] == "727"


# ------------------------------------------------------------------------------ the live inbox

def test_changes_event_gives_the_current_cursor_and_no_items(desk):
    result = _invoke(desk, "apigw_agent_changes.json")
    assert result["statusCode"] == 200
    body = _json(result)
    assert body["items"] == [] and body["more"] is False and body["cursor"]


def test_authorizer_event_with_a_token_signed_by_nobody_is_unauthorized(desk):
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        _invoke(desk, "apigw_authorizer_connect.json")


def test_connect_event_keeps_alices_connection_and_disconnect_event_forgets_it(desk):
    _alice_online(desk)
    assert _invoke(desk, "apigw_live_connect.json") == {"statusCode": 200}
    connection = desk.item(f"CONN#{generate.CONNECTION_ID}")
    assert connection["agent_id"] == "alice" and set(connection["audiences"]) == {"agent:alice", "team:default"}
    assert _invoke(desk, "apigw_live_disconnect.json") == {"statusCode": 200}
    assert desk.item(f"CONN#{generate.CONNECTION_ID}") is None
    assert desk.item("LIVE#agent:alice", f"CONN#{generate.CONNECTION_ID}") is None


def test_ping_event_is_answered_with_a_pong_on_the_connection(desk):
    from tests.integration.test_live import ConnectionsEndpoint
    endpoint = ConnectionsEndpoint()
    try:
        endpoint.open.add(generate.CONNECTION_ID)
        result = _invoke(desk, "apigw_live_ping.json", LIVE_CONNECTIONS_ENDPOINT=f"{endpoint.url}/dev")
        assert result == {"statusCode": 200}
        assert endpoint.to(generate.CONNECTION_ID) == [{"type": "pong"}]
    finally:
        endpoint.close()


def test_stream_event_of_a_new_conversation_notifies_alices_connection_and_logs_two_changes(desk):
    from tests.integration.test_live import ConnectionsEndpoint, change_log, logged
    _alice_online(desk)
    assert _invoke(desk, "apigw_live_connect.json") == {"statusCode": 200}
    endpoint = ConnectionsEndpoint()
    try:
        endpoint.open.add(generate.CONNECTION_ID)
        result = _invoke(desk, "dynamodb_live_new_conversation.json", LIVE_CONNECTIONS_ENDPOINT=f"{endpoint.url}/dev")
        assert result == {"batchItemFailures": []}
        frames = endpoint.to(generate.CONNECTION_ID)
        assert [(f["kind"], f["conversation_id"], f["message_id"]) for f in frames] == [
            ("conversation", generate.CONVERSATION_ID, None),
            ("message", generate.CONVERSATION_ID, generate.INBOUND_MESSAGE_ID)]
        assert len(logged(desk)) == 2 and len(change_log(desk)) == 1       # one item for the invocation
    finally:
        endpoint.close()


# ------------------------------------------------------------------------------ the event lake and reports

def _lake(desk) -> tuple[str, str]:
    """An event lake's bucket and the Firehose stream that writes to it (its ``events/`` prefix)."""
    bucket, stream = f"lake-{desk.table_name}", f"events-{desk.table_name}"
    desk.client("s3").create_bucket(Bucket=bucket)
    desk.client("firehose").create_delivery_stream(
        DeliveryStreamName=stream, DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={"RoleARN": "arn:aws:iam::123456789012:role/firehose",
                                            "BucketARN": f"arn:aws:s3:::{bucket}", "Prefix": "events/"})
    return bucket, stream


def _lake_lines(desk, bucket: str) -> list[dict]:
    """The events of the one object in the lake (one PutRecordBatch)."""
    s3 = desk.client("s3")
    (key,) = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    return [json.loads(line) for line in s3.get_object(Bucket=bucket, Key=key)["Body"].read().splitlines()]


def test_lake_stream_event_puts_the_conversations_first_facts_to_firehose(desk):
    bucket, stream = _lake(desk)
    assert _invoke(desk, "dynamodb_lake_new_conversation.json", EVENTS_STREAM_NAME=stream) == {"batchItemFailures": []}
    lines = _lake_lines(desk, bucket)
    assert [(e["type"], e["conversation_id"]) for e in lines] == [
        ("conversation_opened", generate.CONVERSATION_ID), ("message_received", generate.CONVERSATION_ID)]
    assert {e["day"] for e in lines} == {"2026-05-01"}


def test_lake_stream_event_puts_an_agents_presence_change_and_not_their_load(desk):
    bucket, stream = _lake(desk)
    assert _invoke(desk, "dynamodb_lake_agent_online.json", EVENTS_STREAM_NAME=stream) == {"batchItemFailures": []}
    lines = _lake_lines(desk, bucket)
    assert [(e["type"], e["agent_id"], e["from_value"], e["to_value"], e["occurred_at"]) for e in lines] == [
        ("presence_changed", "alice", "offline", "online", "2026-05-01T08:30:00.000Z")]


def test_reports_summary_event_answers_a_supervisors_week(desk):
    result = _invoke(desk, "apigw_reports_summary.json")
    assert result["statusCode"] == 200, result
    body = _json(result)
    assert (body["from"], body["to"], body["tz"]) == ("2026-04-27T00:00:00+02:00", "2026-05-04T00:00:00+02:00",
                                                      "Europe/Amsterdam")
    assert body["conversations"] == 0 and body["first_response"]["median_s"] is None      # an empty lake
