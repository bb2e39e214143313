"""A reply sent with an Idempotency-Key is sent once, however many times its request comes (README "Sending once")."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from shopdesk import clock
from shopdesk.dal.canned import CannedResponses
from shopdesk.dal.conversations import Conversations
from shopdesk.dal.table import Table
from shopdesk.logic.inbox import Inbox
from tests.integration.helpers import agent, customer_writes, outbound_sent
from tests.support import http_event


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
    with pytest.raises(ClientError):                  # the function fails: the inbox gets a 502 or no answer
        keyed_reply(desk, conv, "alice", {"canned_response_id": "ships"}, key)
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
    [queued] = outbound_sent(desk)
    clock.set_offset(5 * 60)                            # the key is no longer held: a repeat may take it again

    status, again = keyed_reply(desk, conv, "alice", {"text": "It ships today"}, key)   # the inbox sends it again

    assert status == 202 and again["id"] == queued, again
    assert [m["id"] for m in replies_in(desk, conv)] == [queued]
    assert outbound_sent(desk) == []


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
    [queued] = outbound_sent(desk)
    clock.set_offset(25 * 3600 + 5 * 60)

    status, again = keyed_template(desk, conv, "alice", ORDER_UPDATE, key)

    assert status == 202 and again["id"] == queued, again
    assert [m["id"] for m in replies_in(desk, conv)] == [queued]
    assert outbound_sent(desk) == []


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
