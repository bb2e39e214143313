"""A reply sent with an Idempotency-Key is sent once, however many times its request comes (README "Sending once")."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from shopdesk import clock
from shopdesk.dal.canned import CannedResponses
from shopdesk.dal.conversations import Conversations
from shopdesk.dal.table import Table
from shopdesk.logic.inbox import Inbox
from shopdesk.logs import FunctionFailed
from tests.integration.helpers import agent, customer_writes, outbound_sent
from tests.support import FakeTwilio, http_event


def keyed_reply(desk: Any, conv: str, agent_id: str, body: dict[str, Any], key: str) -> tuple[int, Any]:
    """POST …/replies as the inbox sends it: with the composed reply's Idempotency-Key."""
    path = f"/agent/conversations/{conv}/replies"
    event = http_event("POST", path, json.dumps(body), {"content-type": "application/json", "Idempotency-Key": key},
                       claims={"cognito:username": agent_id, "name": agent_id.title()})
    result = desk.invoke("agent_api", event)
    return result["statusCode"], json.loads(result["body"]) if result.get("body") else None


def replies_in(desk: Any, conv: str) -> list[dict[str, Any]]:
    messages = agent(desk, "GET", f"/agent/conversations/{conv}", "alice")[1]["messages"]
    return [m for m in messages if m["direction"] == "outbound"]


def test_a_reply_sent_twice_with_one_key_is_one_message_one_send_and_the_same_answer(desk):
    conv = customer_writes(desk, "+31612349001", "where is my order?", "SMidem1")
    outbound_sent(desk)
    key = str(uuid.uuid4())

    first = keyed_reply(desk, conv, "alice", {"text": "It ships today"}, key)
    again = keyed_reply(desk, conv, "alice", {"text": "It ships today"}, key)   # the answer was lost: Send again

    assert first[0] == again[0] == 202
    assert again[1]["id"] == first[1]["id"]
    assert [m["id"] for m in replies_in(desk, conv)] == [first[1]["id"]]
    assert outbound_sent(desk) == [first[1]["id"]]
    # the key is the caller's in this conversation: another agent's reply with the same key is another reply
    other = keyed_reply(desk, conv, "bob", {"text": "It ships today"}, key)
    assert other[0] == 202 and other[1]["id"] != first[1]["id"]


def test_a_caller_whose_id_has_a_hash_never_shares_a_key_with_another_caller(desk):
    # a conversation's keys are one partition, each under <caller>#<key>: "a#b"'s key "c" is not "a"'s key "b#c"
    conversations = Conversations(Table(desk.table_name), 16)
    assert conversations.hold_reply_key("a#b", "c_hash", "c", "sha256:one", 86400, 120) is None
    assert conversations.hold_reply_key("a", "c_hash", "b#c", "sha256:two", 86400, 120) is None
    assert conversations.hold_reply_key("a#b", "c_hash", "c", "sha256:one", 86400, 120)["agent_id"] == "a#b"


def test_the_same_key_with_another_reply_is_a_422_and_nothing_is_queued(desk):
    conv = customer_writes(desk, "+31612349002", "where is my order?", "SMidem2")
    outbound_sent(desk)
    key = str(uuid.uuid4())
    assert keyed_reply(desk, conv, "alice", {"text": "It ships today"}, key)[0] == 202
    outbound_sent(desk)

    status, body = keyed_reply(desk, conv, "alice", {"text": "It ships tomorrow"}, key)

    assert status == 422
    assert body["errors"][0]["type"] == "idempotency_key_reused"
    assert len(replies_in(desk, conv)) == 1
    assert outbound_sent(desk) == []


def test_a_key_refused_reply_used_can_be_sent_again_and_replies_without_a_key_go_as_before(desk):
    conv = customer_writes(desk, "+31612349003", "where is my order?", "SMidem3")
    outbound_sent(desk)
    key = str(uuid.uuid4())
    assert keyed_reply(desk, conv, "alice", {"text": "x" * 1601}, key)[0] == 422     # too long for SMS: nothing queued
    assert keyed_reply(desk, conv, "alice", {"text": "y" * 1600}, key)[0] == 202     # the key was let go

    plain = [agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "thanks"})
             for _ in range(2)]

    assert [status for status, _ in plain] == [202, 202]
    assert plain[0][1]["id"] != plain[1][1]["id"]
    assert len(outbound_sent(desk)) == 3


def test_a_keyed_reply_the_queue_refused_is_answered_failed_by_its_repeat_and_never_stored_twice(desk, monkeypatch):
    conv = customer_writes(desk, "+31612349006", "where is my order?", "SMidem6")
    outbound_sent(desk)
    key = str(uuid.uuid4())
    outbound = desk.handler("agent_api").inbox.outbound
    monkeypatch.setattr(outbound, "url", outbound.url + "-gone")      # SQS: the queue does not exist
    status, problem = keyed_reply(desk, conv, "alice", {"text": "It ships today"}, key)
    assert status == 503 and "marked failed" in problem["detail"], problem
    [failed] = replies_in(desk, conv)
    assert failed["status"] == "failed"
    monkeypatch.undo()

    again = keyed_reply(desk, conv, "alice", {"text": "It ships today"}, key)   # the inbox's Send again, same key

    # the repeat answers the stored reply, failed: one reply in the timeline, nothing queued beside it; the agent
    # sends it again from the timeline (its own claim): one send
    assert again[0] == 202 and again[1]["id"] == failed["id"] and again[1]["status"] == "failed", again
    assert [m["id"] for m in replies_in(desk, conv)] == [failed["id"]]
    assert outbound_sent(desk) == []
    retried = agent(desk, "POST", f"/agent/conversations/{conv}/replies/{failed['id']}/retry", "alice")
    assert retried[0] == 202, retried
    assert len(outbound_sent(desk)) == 1


def test_the_openapi_document_names_the_idempotency_key_header(desk):
    doc = agent(desk, "GET", "/agent/openapi.json", None)[1]
    parameters = doc["paths"]["/agent/conversations/{conversation_id}/replies"]["post"]["parameters"]
    header = next(p for p in parameters if p["in"] == "header")
    assert header["name"].lower() == "idempotency-key" and not header.get("required")


def test_a_keyed_reply_queued_before_a_later_step_failed_is_not_sent_again_by_its_repeat(desk, monkeypatch):
    conv = customer_writes(desk, "+31612349004", "where is my order?", "SMidem4")
    outbound_sent(desk)
    canned = {"title": "Ships", "shortcode": "ships", "bodies": {"en": "It ships today"}}
    assert agent(desk, "PUT", "/agent/canned-responses/ships", "alice", canned)[0] == 200
    key = str(uuid.uuid4())
    count_use = CannedResponses.count_use

    def throttled(self: Any, *args: Any) -> None:     # the reply is queued; counting its canned response fails
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}},
                          "UpdateItem")

    monkeypatch.setattr(CannedResponses, "count_use", throttled)
    with pytest.raises(FunctionFailed) as failed:     # the function fails: the inbox gets a 502 or no answer
        keyed_reply(desk, conv, "alice", {"canned_response_id": "ships"}, key)
    assert isinstance(failed.value.__context__, ClientError)
    monkeypatch.setattr(CannedResponses, "count_use", count_use)
    again = keyed_reply(desk, conv, "alice", {"canned_response_id": "ships"}, key)   # the inbox sends it again

    queued = replies_in(desk, conv)
    assert again[0] == 202 and [m["id"] for m in queued] == [again[1]["id"]]
    assert outbound_sent(desk) == [again[1]["id"]]


def test_a_key_left_in_flight_by_a_stopped_function_is_taken_again_once_no_request_can_hold_it(desk, monkeypatch):
    conv = customer_writes(desk, "+31612349005", "where is my order?", "SMidem5")
    outbound_sent(desk)
    key = str(uuid.uuid4())
    prepare = Inbox.prepare_reply

    def stopped(*args: Any, **kwargs: Any) -> Any:      # the function times out before it queued the reply
        raise KeyboardInterrupt

    monkeypatch.setattr(Inbox, "prepare_reply", stopped)
    with pytest.raises(KeyboardInterrupt):
        keyed_reply(desk, conv, "alice", {"text": "It ships today"}, key)
    monkeypatch.setattr(Inbox, "prepare_reply", prepare)

    status, body = keyed_reply(desk, conv, "alice", {"text": "It ships today"}, key)   # at once: still held
    assert status == 409 and body["code"] == "reply_key_in_flight"
    clock.set_offset(5 * 60)                                                         # no request lives this long
    status, sent = keyed_reply(desk, conv, "alice", {"text": "It ships today"}, key)

    assert status == 202
    assert [m["id"] for m in replies_in(desk, conv)] == [sent["id"]]
    assert outbound_sent(desk) == [sent["id"]]


def test_a_keyed_reply_queued_by_a_function_stopped_before_it_marked_the_key_is_answered_not_sent_again(desk,
                                                                                                        monkeypatch):
    conv = customer_writes(desk, "+31612349007", "where is my order?", "SMidem7")
    outbound_sent(desk)
    key = str(uuid.uuid4())
    outbound = desk.handler("agent_api").inbox.outbound
    send = outbound.send

    def stopped(*args: Any, **kwargs: Any) -> None:     # the reply is queued; the function is stopped right after
        send(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(outbound, "send", stopped)
    with pytest.raises(KeyboardInterrupt):
        keyed_reply(desk, conv, "alice", {"text": "It ships today"}, key)
    monkeypatch.undo()
    [queued] = [m["id"] for m in replies_in(desk, conv)]

    status, again = keyed_reply(desk, conv, "alice", {"text": "It ships today"}, key)   # the inbox sends it again

    # the repeat cannot tell a reply waiting in the queue from one never queued: it queues it again under the first
    # send's deduplication id, and the queue keeps one (the dispatcher would send a later copy once all the same)
    assert status == 202 and again["id"] == queued, again
    assert [m["id"] for m in replies_in(desk, conv)] == [queued]
    assert outbound_sent(desk) == [queued]


def stopped_before_queueing(*args: Any, **kwargs: Any) -> None:
    """The reply and its key are stored in one transaction; the function is stopped right after it, before the
    outbound queue was asked to send anything (a timeout, a kill)."""
    raise KeyboardInterrupt


@pytest.fixture
def twilio():
    fake = FakeTwilio()
    yield fake
    fake.close()


def dispatched(desk: Any, twilio: FakeTwilio) -> None:
    """The dispatcher takes what waits on the outbound queue and sends it through the Twilio stand-in."""
    desk.drain_queue(desk.outbound_queue_url, "dispatcher", TWILIO_API_BASE_URL=twilio.url)


def test_a_keyed_reply_stored_by_a_function_stopped_before_it_queued_it_is_queued_by_its_repeat_and_sent_once(
        desk, monkeypatch, twilio):
    conv = customer_writes(desk, "+31612349008", "where is my order?", "SMidem8")
    outbound_sent(desk)
    key = str(uuid.uuid4())
    monkeypatch.setattr(desk.handler("agent_api").inbox.outbound, "send", stopped_before_queueing)
    with pytest.raises(KeyboardInterrupt):
        keyed_reply(desk, conv, "alice", {"text": "It ships today"}, key)
    monkeypatch.undo()
    [stored] = replies_in(desk, conv)
    assert stored["status"] == "queued" and outbound_sent(desk) == []        # stored, its key done, never queued

    first = keyed_reply(desk, conv, "alice", {"text": "It ships today"}, key)    # the inbox got no answer: again
    again = keyed_reply(desk, conv, "alice", {"text": "It ships today"}, key)    # and once more, before it went
    dispatched(desk, twilio)

    assert first[0] == again[0] == 202 and first[1]["id"] == again[1]["id"] == stored["id"], (first, again)
    assert [m["id"] for m in replies_in(desk, conv)] == [stored["id"]]
    assert [r["form"]["Body"] for r in twilio.requests] == ["It ships today"]     # the customer gets it once
    [sent] = replies_in(desk, conv)
    assert sent["provider_id"] == twilio.created[0]["sid"]
    assert keyed_reply(desk, conv, "alice", {"text": "It ships today"}, key)[1]["provider_id"] == sent["provider_id"]
    dispatched(desk, twilio)
    assert len(twilio.requests) == 1


def test_a_keyed_reply_that_went_is_answered_by_its_repeat_and_never_sent_twice(desk, twilio):
    conv = customer_writes(desk, "+31612349009", "where is my order?", "SMidem9")
    outbound_sent(desk)
    key = str(uuid.uuid4())
    first = keyed_reply(desk, conv, "alice", {"text": "It ships today"}, key)
    again = keyed_reply(desk, conv, "alice", {"text": "It ships today"}, key)   # before the dispatcher took it
    dispatched(desk, twilio)
    late = keyed_reply(desk, conv, "alice", {"text": "It ships today"}, key)    # after it went
    dispatched(desk, twilio)

    assert first[0] == again[0] == late[0] == 202
    assert first[1]["id"] == again[1]["id"] == late[1]["id"]
    assert late[1]["provider_id"] == twilio.created[0]["sid"] and len(twilio.requests) == 1
    assert outbound_sent(desk) == []


def test_a_repeats_copy_the_queue_keeps_beside_the_first_record_is_sent_once(desk, monkeypatch, twilio):
    conv = customer_writes(desk, "+31612349018", "where is my order?", "SMidem18")
    outbound_sent(desk)
    key = str(uuid.uuid4())
    first = keyed_reply(desk, conv, "alice", {"text": "It ships today"}, key)
    # a repeat more than five minutes on, the first record still waiting: the queue keeps the copy too (the local
    # stack's queue would drop it against the record still on it, so the copy goes under another deduplication id)
    outbound = desk.handler("agent_api").inbox.outbound
    send = outbound.send
    monkeypatch.setattr(outbound, "send", lambda body, *, group, dedup_id: send(body, group=group,
                                                                                dedup_id=dedup_id + "+5min"))
    again = keyed_reply(desk, conv, "alice", {"text": "It ships today"}, key)
    monkeypatch.undo()
    waiting = desk.client("sqs").get_queue_attributes(QueueUrl=desk.outbound_queue_url,
                                                      AttributeNames=["ApproximateNumberOfMessages"])
    assert waiting["Attributes"]["ApproximateNumberOfMessages"] == "2"

    dispatched(desk, twilio)

    assert first[0] == again[0] == 202 and first[1]["id"] == again[1]["id"]
    assert len(twilio.requests) == 1 and outbound_sent(desk) == []
    [sent] = replies_in(desk, conv)
    assert sent["provider_id"] == twilio.created[0]["sid"] and sent["possibly_duplicate"] is False


def test_a_repeat_whose_queue_send_is_refused_is_a_503_and_the_next_repeat_sends_the_reply_once(desk, monkeypatch,
                                                                                              twilio):
    conv = customer_writes(desk, "+31612349010", "where is my order?", "SMidem10")
    outbound_sent(desk)
    key = str(uuid.uuid4())
    outbound = desk.handler("agent_api").inbox.outbound
    monkeypatch.setattr(outbound, "send", stopped_before_queueing)
    with pytest.raises(KeyboardInterrupt):
        keyed_reply(desk, conv, "alice", {"text": "It ships today"}, key)
    monkeypatch.undo()
    monkeypatch.setattr(outbound, "url", outbound.url + "-gone")      # SQS: the queue does not exist

    status, problem = keyed_reply(desk, conv, "alice", {"text": "It ships today"}, key)

    assert status == 503, problem
    [stored] = replies_in(desk, conv)
    assert stored["status"] == "queued"                  # nothing lost: still the key's, to be queued by a repeat
    monkeypatch.undo()
    status, again = keyed_reply(desk, conv, "alice", {"text": "It ships today"}, key)
    dispatched(desk, twilio)
    assert status == 202 and again["id"] == stored["id"]
    assert len(twilio.requests) == 1


def dynamodb_requests(desk: Any, call: Callable[[], Any]) -> list[str]:
    """The agent API's DynamoDB requests (operation names) while ``call`` runs."""
    from shopdesk.dal.aws import client

    seen: list[str] = []

    def before(model: Any, **_: Any) -> None:
        seen.append(model.name)

    dynamodb = client("dynamodb", answering=True)         # the agent API's (dal.aws: bounded)
    dynamodb.meta.events.register("before-parameter-build.dynamodb", before)
    try:
        call()
    finally:
        dynamodb.meta.events.unregister("before-parameter-build.dynamodb", before)
    return seen


# a keyed reply: two reads (the caller, the conversation with its clocks), the key taken, the reply stored with its key
# done, the request's audit record; its repeat: the same two reads, the key refused, the key and the reply read
FIRST_REQUESTS = ["GetItem", "GetItem", "PutItem", "TransactWriteItems", "PutItem"]
REPEAT_REQUESTS = ["GetItem", "GetItem", "PutItem", "GetItem", "GetItem", "PutItem"]


def test_a_keyed_reply_costs_what_it_did_and_its_repeat_reads_no_more_than_the_reply(desk):
    conv = customer_writes(desk, "+31612349014", "where is my order?", "SMidem14")
    outbound_sent(desk)
    key = str(uuid.uuid4())
    desk.handler("agent_api")
    keyed_reply(desk, conv, "alice", {"text": "warm up"}, str(uuid.uuid4()))     # the caller's agent record, cached

    first = dynamodb_requests(desk, lambda: keyed_reply(desk, conv, "alice", {"text": "It ships today"}, key))
    again = dynamodb_requests(desk, lambda: keyed_reply(desk, conv, "alice", {"text": "It ships today"}, key))

    assert first == FIRST_REQUESTS, first
    assert again == REPEAT_REQUESTS, again


# ------------------------------------------------------------------------------ a WhatsApp template, same contract
ORDER_UPDATE = {"name": "order_update", "language": "en_US", "parameters": ["#1001", "shipped"]}


def keyed_template(desk: Any, conv: str, agent_id: str, body: dict[str, Any], key: str) -> tuple[int, Any]:
    """POST …/templates as the inbox sends it: with the composed template's Idempotency-Key."""
    event = http_event("POST", f"/agent/conversations/{conv}/templates", json.dumps(body),
                       {"content-type": "application/json", "Idempotency-Key": key},
                       claims={"cognito:username": agent_id, "name": agent_id.title()})
    result = desk.invoke("agent_api", event)
    return result["statusCode"], json.loads(result["body"]) if result.get("body") else None


def whatsapp_past_the_window(desk: Any, phone: str, sid: str) -> str:
    conv = customer_writes(desk, phone, "is my order on its way?", sid, channel="whatsapp")
    outbound_sent(desk)
    clock.set_offset(25 * 3600)                       # free text is closed: a template is what goes
    return conv


def test_a_template_sent_twice_with_one_key_is_one_message_one_send_and_the_same_answer(desk):
    conv = whatsapp_past_the_window(desk, "+31612349011", "SMidemt1")
    key = str(uuid.uuid4())

    first = keyed_template(desk, conv, "alice", ORDER_UPDATE, key)
    again = keyed_template(desk, conv, "alice", ORDER_UPDATE, key)      # the answer was lost: Send template again

    assert first[0] == again[0] == 202, (first, again)
    assert again[1]["id"] == first[1]["id"] and again[1]["kind"] == "template"
    assert [m["id"] for m in replies_in(desk, conv)] == [first[1]["id"]]
    assert outbound_sent(desk) == [first[1]["id"]]
    # the same key with other parameters is refused, nothing queued; a reply's key and a template's are one kind
    status, problem = keyed_template(desk, conv, "alice", {**ORDER_UPDATE, "parameters": ["#1002", "shipped"]}, key)
    assert status == 422 and problem["errors"][0]["type"] == "idempotency_key_reused"
    assert keyed_reply(desk, conv, "alice", {"text": "It ships today"}, key)[0] == 422
    assert outbound_sent(desk) == []


def test_a_keyed_template_queued_by_a_function_stopped_before_it_answered_is_answered_not_sent_again(desk,
                                                                                                     monkeypatch):
    conv = whatsapp_past_the_window(desk, "+31612349012", "SMidemt2")
    key = str(uuid.uuid4())
    outbound = desk.handler("agent_api").inbox.outbound
    send = outbound.send

    def stopped(*args: Any, **kwargs: Any) -> None:     # the template is queued; the function is stopped right after
        send(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(outbound, "send", stopped)
    with pytest.raises(KeyboardInterrupt):
        keyed_template(desk, conv, "alice", ORDER_UPDATE, key)
    monkeypatch.setattr(outbound, "send", send)
    [queued] = [m["id"] for m in replies_in(desk, conv)]

    status, again = keyed_template(desk, conv, "alice", ORDER_UPDATE, key)

    assert status == 202 and again["id"] == queued, again
    assert [m["id"] for m in replies_in(desk, conv)] == [queued]
    assert outbound_sent(desk) == [queued]              # the queue kept one: the copy had the first's deduplication id


def test_a_keyed_template_stored_by_a_function_stopped_before_it_queued_it_is_queued_by_its_repeat(desk,
                                                                                                   monkeypatch):
    conv = whatsapp_past_the_window(desk, "+31612349015", "SMidemt4")
    key = str(uuid.uuid4())
    monkeypatch.setattr(desk.handler("agent_api").inbox.outbound, "send", stopped_before_queueing)
    with pytest.raises(KeyboardInterrupt):
        keyed_template(desk, conv, "alice", ORDER_UPDATE, key)
    monkeypatch.undo()
    [stored] = replies_in(desk, conv)
    assert stored["kind"] == "template" and outbound_sent(desk) == []

    first = keyed_template(desk, conv, "alice", ORDER_UPDATE, key)
    again = keyed_template(desk, conv, "alice", ORDER_UPDATE, key)

    assert first[0] == again[0] == 202 and first[1]["id"] == again[1]["id"] == stored["id"], (first, again)
    assert outbound_sent(desk) == [stored["id"]]


def test_a_template_refused_lets_its_key_go_and_the_openapi_document_names_the_header(desk):
    conv = whatsapp_past_the_window(desk, "+31612349013", "SMidemt3")
    key = str(uuid.uuid4())
    assert keyed_template(desk, conv, "alice", {**ORDER_UPDATE, "parameters": ["#1001"]}, key)[0] == 400
    status, sent = keyed_template(desk, conv, "alice", ORDER_UPDATE, key)          # the key was let go
    assert status == 202 and outbound_sent(desk) == [sent["id"]]
    doc = agent(desk, "GET", "/agent/openapi.json", None)[1]
    parameters = doc["paths"]["/agent/conversations/{conversation_id}/templates"]["post"]["parameters"]
    header = next(p for p in parameters if p["in"] == "header")
    assert header["name"].lower() == "idempotency-key" and not header.get("required")


# ------------------------------------------------------------------------------ Send again, same contract
def keyed_retry(desk: Any, conv: str, agent_id: str, message_id: str, key: str | None) -> tuple[int, Any]:
    """POST …/replies/{id}/retry as the inbox's Send again sends it: with the failed reply's Idempotency-Key."""
    event = http_event("POST", f"/agent/conversations/{conv}/replies/{message_id}/retry", None,
                       {"Idempotency-Key": key} if key else {},
                       claims={"cognito:username": agent_id, "name": agent_id.title()})
    result = desk.invoke("agent_api", event)
    return result["statusCode"], json.loads(result["body"]) if result.get("body") else None


def failed_reply(desk: Any, monkeypatch: Any, phone: str, sid: str) -> tuple[str, str]:
    """A conversation with a reply the outbound queue refused (stored, marked failed): (conversation, reply)."""
    conv = customer_writes(desk, phone, "where is my order?", sid)
    outbound_sent(desk)
    outbound = desk.handler("agent_api").inbox.outbound
    monkeypatch.setattr(outbound, "url", outbound.url + "-gone")      # SQS: the queue does not exist
    assert agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "It ships today"})[0] == 503
    monkeypatch.undo()
    [failed] = replies_in(desk, conv)
    assert failed["status"] == "failed"
    return conv, failed["id"]


def test_send_again_repeated_with_its_key_answers_the_first_new_reply_and_sends_it_once(desk, monkeypatch, twilio):
    conv, failed = failed_reply(desk, monkeypatch, "+31612349016", "SMidemr1")
    key = str(uuid.uuid4())

    first = keyed_retry(desk, conv, "alice", failed, key)
    again = keyed_retry(desk, conv, "alice", failed, key)         # the answer was lost: the inbox presses it again

    assert first[0] == again[0] == 202, (first, again)
    assert again[1]["id"] == first[1]["id"] and again[1]["retry_of"] == failed
    # another key, or none, is another press: the reply was sent again already
    for other in (str(uuid.uuid4()), None):
        status, problem = keyed_retry(desk, conv, "alice", failed, other)
        assert status == 409 and problem["code"] == "sent_again_already", problem
    dispatched(desk, twilio)
    assert [m["id"] for m in replies_in(desk, conv)] == [failed, first[1]["id"]]
    assert len(twilio.requests) == 1
    # the same key with another body (a reply) is refused, nothing sent
    assert keyed_reply(desk, conv, "alice", {"text": "It ships today"}, key)[0] == 422


def test_send_again_stored_by_a_function_stopped_before_it_queued_it_is_queued_by_its_repeat_and_sent_once(
        desk, monkeypatch, twilio):
    conv, failed = failed_reply(desk, monkeypatch, "+31612349017", "SMidemr2")
    key = str(uuid.uuid4())
    monkeypatch.setattr(desk.handler("agent_api").inbox.outbound, "send", stopped_before_queueing)
    with pytest.raises(KeyboardInterrupt):
        keyed_retry(desk, conv, "alice", failed, key)
    monkeypatch.undo()
    [_, stored] = replies_in(desk, conv)
    assert stored["retry_of"] == failed and stored["status"] == "queued" and outbound_sent(desk) == []

    status, again = keyed_retry(desk, conv, "alice", failed, key)
    dispatched(desk, twilio)

    assert status == 202 and again["id"] == stored["id"], again
    assert len(replies_in(desk, conv)) == 2 and len(twilio.requests) == 1


def test_the_openapi_document_names_send_agains_idempotency_key_header(desk):
    doc = agent(desk, "GET", "/agent/openapi.json", None)[1]
    route = doc["paths"]["/agent/conversations/{conversation_id}/replies/{message_id}/retry"]["post"]
    header = next(p for p in route["parameters"] if p["in"] == "header")
    assert header["name"].lower() == "idempotency-key" and not header.get("required")
