"""The providers' webhooks send a stored message's routing work to the work queue while the provider waits for the
answer: a queue that hangs is a send given up on within the function's time (the client bounded for the webhooks,
``dal.aws``), the message stored and answered 2xx, its routing left to the sweep, not a timeout answered 5xx."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import ReadTimeoutError

from shopdesk.channels import meta
from shopdesk.dal.aws import client
from shopdesk.dal.queues import send_worst_seconds
from tests.integration import test_commerce, test_shop_redact
from tests.integration.conftest import TEMPLATE
from tests.integration.helpers import post_twilio
from tests.support import http_event, sample, twilio_form

# what a webhook needs at least besides one send at its worst: the signature, the table's reads and transaction, the
# answer (milliseconds each when DynamoDB answers)
ANSWER_MARGIN_SECONDS = 5


def _webhook_timeouts() -> dict[str, int]:
    """Each function a provider's webhook calls (an HTTP route under /webhooks/), and its Timeout in template.yaml."""
    default = int(TEMPLATE["Globals"]["Function"]["Timeout"])
    found = {}
    for name, resource in TEMPLATE["Resources"].items():
        properties = resource.get("Properties") or {}
        paths = [str((event.get("Properties") or {}).get("Path", "")) for event in (properties.get("Events") or {})
                 .values() if event.get("Type") == "HttpApi"]
        if any(path.startswith("/webhooks/") for path in paths):
            found[name] = int(properties.get("Timeout", default))
    return found


def test_the_webhooks_sends_take_at_worst_less_than_their_functions_time_with_room_to_answer(desk):
    timeouts = _webhook_timeouts()
    assert {"InboundTwilioFunction", "InboundWhatsAppFunction", "InboundTelegramFunction"} <= set(timeouts)
    # Given the client bounded for the webhooks: one attempt of 1 s to connect and 2 s to read, 3 s at worst
    bounded = client("sqs", webhook=True)
    assert send_worst_seconds(bounded) == 3
    # Then one send at its worst leaves every webhook's function time to answer (Timeouts of 10 s to 14 s)
    assert all(send_worst_seconds(bounded) + ANSWER_MARGIN_SECONDS <= t for t in timeouts.values()), timeouts
    # and the Twilio and Telegram functions send with it (the Meta ones: the hangs below), the Twilio one keeping a
    # request the table could not take with it too
    twilio, telegram = desk.handler("inbound_twilio"), desk.handler("inbound_telegram")
    assert twilio.processor.work.sqs is twilio.retry_queue.sqs is telegram.processor.work.sqs is bounded
    # and the email function (30 s, S3's and SNS's calls) with the agents' bounded client, 12 s at worst
    email = desk.handler("inbound_email").receiver.processor.work
    assert email.sqs is client("sqs", answering=True)
    assert email.send_worst_seconds() + ANSWER_MARGIN_SECONDS <= timeouts["InboundEmailFunction"]


@contextmanager
def _work_queue_hangs(desk: Any) -> Iterator[list[str]]:
    """Each send to the work queue answers nothing, until the client sending stops waiting (its read timeout) and
    drops the connection, as urllib3 does; whichever of the layer's SQS clients sends it. The sends met."""
    hung: list[str] = []
    hooked = []
    for sqs in {id(c): c for c in (client("sqs"), client("sqs", answering=True), client("sqs", webhook=True))}.values():
        def hang(request: Any, _sqs: Any = sqs, **kwargs: Any) -> None:
            body = request.body.decode() if isinstance(request.body, bytes) else str(request.body or "")
            if desk.work_queue_url in body:
                hung.append(body)
                time.sleep(_sqs.meta.config.read_timeout)
                raise ReadTimeoutError(endpoint_url=request.url)

        sqs.meta.events.register_first("before-send.sqs.SendMessage", hang)
        hooked.append((sqs, hang))
    try:
        yield hung
    finally:
        for sqs, hang in hooked:
            sqs.meta.events.unregister("before-send.sqs.SendMessage", hang)


def test_a_twilio_message_whose_routing_send_hangs_is_stored_and_answered_200_within_the_function_s_time(desk):
    timeout = _webhook_timeouts()["InboundTwilioFunction"]
    phone = "+31612349081"
    desk.handler("inbound_twilio")        # loaded before the clock starts, as a warm function is
    # Given the work queue hanging
    with _work_queue_hangs(desk) as hung:
        # When a customer's SMS comes
        began = time.monotonic()
        result = post_twilio(desk, twilio_form(MessageSid="SMhangs1", From=phone, To="+14155550100",
                                               Body="where is my order?"))
        took = time.monotonic() - began
    # Then it is answered 200 with the message stored (its routing, given up on after one try, is the sweep's), in
    # the function's time with room to spare
    assert result["statusCode"] == 200, result
    assert json.loads(result["headers"]["X-Shopdesk-Outcome"])["stored"] == 1
    assert len(hung) == 1 and took + ANSWER_MARGIN_SECONDS <= timeout, (len(hung), took)
    conversation = desk.item(f"IDENTITY#phone#{phone}")["open_conversation_id"]
    assert desk.item(f"CONV#{conversation}") is not None


def test_a_whatsapp_message_whose_routing_send_hangs_is_stored_and_answered_200_within_the_function_s_time(desk):
    timeout = _webhook_timeouts()["InboundWhatsAppFunction"]
    body, _ = sample("meta_whatsapp", "text")
    raw = body.encode()
    event = http_event("POST", "/webhooks/whatsapp", body, {
        "content-type": "application/json", "x-hub-signature-256": meta.sign(raw, "test_app_secret")})
    desk.handler("inbound_whatsapp")
    # Given the work queue hanging
    with _work_queue_hangs(desk) as hung:
        # When the customer's message comes
        began = time.monotonic()
        result = desk.invoke("inbound_whatsapp", event)
        took = time.monotonic() - began
    # Then it is answered 200 with the message stored, in the function's time with room to spare
    assert result["statusCode"] == 200, result
    assert json.loads(result["body"])["stored"] == 1
    assert len(hung) == 1 and took + ANSWER_MARGIN_SECONDS <= timeout, (len(hung), took)



def test_a_messenger_batch_whose_routing_sends_hang_waits_out_one_send_not_one_a_message(desk):
    timeout = _webhook_timeouts()["InboundMessengerFunction"]
    # Given a Messenger batch of four customers' messages
    entry = {"id": "1234567890", "time": 1, "messaging": [
        {"sender": {"id": f"56{n}"}, "recipient": {"id": "1234567890"}, "timestamp": n,
         "message": {"mid": f"m.hang{n}", "text": f"where is order {n}?"}} for n in range(4)]}
    raw = json.dumps({"object": "page", "entry": [entry]}).encode()
    event = http_event("POST", "/webhooks/messenger", raw.decode(), {
        "content-type": "application/json", "x-hub-signature-256": meta.sign(raw, "test_app_secret")})
    desk.handler("inbound_messenger")
    # and the work queue hanging
    with _work_queue_hangs(desk) as hung:
        # When the batch comes
        began = time.monotonic()
        result = desk.invoke("inbound_messenger", event)
        took = time.monotonic() - began
    # Then every message is stored and the batch answered 200, having waited out one send (the first), the others
    # not tried: their routing, as the first's, is the sweep's
    assert result["statusCode"] == 200, result
    assert json.loads(result["body"])["stored"] == 4
    assert len(hung) == 1 and took + ANSWER_MARGIN_SECONDS <= timeout, (len(hung), took)


sandbox, shop = test_commerce.sandbox, test_commerce.shop      # the commerce sandbox and its environment (fixtures)


def test_a_shopify_privacy_request_whose_send_hangs_is_answered_503_within_the_function_s_time(desk, shop):
    timeout = _webhook_timeouts()["InboundShopifyFunction"]
    queue = desk.env["PRIVACY_QUEUE_URL"]
    desk.handler("inbound_shopify", **shop)          # loaded before the clock starts, as a warm function is
    # Given the privacy queue hanging: each send to it answers nothing until its client stops waiting
    hung: list[str] = []
    hooked = []
    for sqs in {id(c): c for c in (client("sqs"), client("sqs", webhook=True))}.values():
        def hang(request: Any, _sqs: Any = sqs, **kwargs: Any) -> None:
            body = request.body.decode() if isinstance(request.body, bytes) else str(request.body or "")
            if queue in body:
                hung.append(body)
                time.sleep(_sqs.meta.config.read_timeout)
                raise ReadTimeoutError(endpoint_url=request.url)

        sqs.meta.events.register_first("before-send.sqs.SendMessage", hang)
        hooked.append((sqs, hang))
    try:
        # When Shopify sends a shop's redact
        began = time.monotonic()
        status, _ = test_shop_redact._shop_redact(desk, shop, "hang-1")
        took = time.monotonic() - began
    finally:
        for sqs, hang in hooked:
            sqs.meta.events.unregister("before-send.sqs.SendMessage", hang)
    # Then it is answered 503 (Shopify sends it again), within the function's time with room to spare
    assert status == 503, status
    assert len(hung) == 1 and took + ANSWER_MARGIN_SECONDS <= timeout, (len(hung), took)
