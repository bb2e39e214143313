"""The providers' webhooks send a stored message's routing work to the work queue while the provider waits for the
answer: a queue that hangs is a send given up on within the function's time (the client bounded for the webhooks,
``dal.aws``), the message stored and answered 2xx, its routing left to the sweep, not a timeout answered 5xx."""

from __future__ import annotations

import json
import time
from contextlib import AbstractContextManager
from typing import Any

import pytest

from shopdesk.channels import meta
from shopdesk.dal.aws import client
from shopdesk.dal.queues import send_worst_seconds
from tests.integration import test_commerce, test_shop_redact
from tests.integration.conftest import TEMPLATE
from tests.integration.helpers import post_twilio
from tests.support import http_event, sample, sends_hang, twilio_form

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


def _work_queue_hangs(desk: Any) -> AbstractContextManager[list[str]]:
    """The work queue hangs, whichever of the layer's SQS clients sends to it (``sends_hang``). The sends met."""
    return sends_hang(desk.work_queue_url, client("sqs"), client("sqs", answering=True), client("sqs", webhook=True))


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


def _whatsapp_message() -> bytes:
    return sample("meta_whatsapp", "text")[0].encode()


def _messenger_batch_of_four() -> bytes:
    entry = {"id": "1234567890", "time": 1, "messaging": [
        {"sender": {"id": f"56{n}"}, "recipient": {"id": "1234567890"}, "timestamp": n,
         "message": {"mid": f"m.hang{n}", "text": f"where is order {n}?"}} for n in range(4)]}
    return json.dumps({"object": "page", "entry": [entry]}).encode()


@pytest.mark.parametrize(("channel", "function", "body", "stored"), [
    pytest.param("whatsapp", "InboundWhatsAppFunction", _whatsapp_message, 1, id="a WhatsApp message"),
    pytest.param("messenger", "InboundMessengerFunction", _messenger_batch_of_four, 4, id="a Messenger batch of four"),
])
def test_a_meta_batch_whose_routing_sends_hang_is_stored_and_answered_200_having_waited_out_one_send(
        desk, channel, function, body, stored):
    timeout = _webhook_timeouts()[function]
    # Given a Meta batch of customers' messages
    raw = body()
    event = http_event("POST", f"/webhooks/{channel}", raw.decode(), {
        "content-type": "application/json", "x-hub-signature-256": meta.sign(raw, "test_app_secret")})
    desk.handler(f"inbound_{channel}")        # loaded before the clock starts, as a warm function is
    # and the work queue hanging
    with _work_queue_hangs(desk) as hung:
        # When the batch comes
        began = time.monotonic()
        result = desk.invoke(f"inbound_{channel}", event)
        took = time.monotonic() - began
    # Then every message is stored and the batch answered 200, in the function's time with room to spare, having
    # waited out one send (the first), the others not tried: their routing, as the first's, is the sweep's
    assert result["statusCode"] == 200, result
    assert json.loads(result["body"])["stored"] == stored
    assert len(hung) == 1 and took + ANSWER_MARGIN_SECONDS <= timeout, (len(hung), took)


sandbox, shop = test_commerce.sandbox, test_commerce.shop      # the commerce sandbox and its environment (fixtures)


def test_a_shopify_privacy_request_whose_send_hangs_is_answered_503_within_the_function_s_time(desk, shop):
    timeout = _webhook_timeouts()["InboundShopifyFunction"]
    queue = desk.env["PRIVACY_QUEUE_URL"]
    desk.handler("inbound_shopify", **shop)          # loaded before the clock starts, as a warm function is
    # Given the privacy queue hanging: each send to it answers nothing until its client stops waiting
    with sends_hang(queue, client("sqs"), client("sqs", webhook=True)) as hung:
        # When Shopify sends a shop's redact
        began = time.monotonic()
        status, _ = test_shop_redact._shop_redact(desk, shop, "hang-1")
        took = time.monotonic() - began
    # Then it is answered 503 (Shopify sends it again), within the function's time with room to spare
    assert status == 503, status
    assert len(hung) == 1 and took + ANSWER_MARGIN_SECONDS <= timeout, (len(hung), took)
