"""A macro applied with an Idempotency-Key sends its reply once, however many times its request comes (README
"Sending once"): one key for the whole request, each conversation's part answered from its own reply-key item."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from shopdesk.logic.inbox import macro_fingerprint
from tests.integration.helpers import agent, customer_writes, outbound_sent
from tests.integration.test_reply_idempotency import dynamodb_requests, stopped_before_queueing
from tests.support import http_event

ADMINS = "[admins]"
CANNED = {"title": "Shipped", "shortcode": "shipped", "bodies": {"en": "It is on its way."}}


def admin(desk: Any, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    event = http_event(method, path, json.dumps(body) if body is not None else None,
                       {"content-type": "application/json"},
                       claims={"cognito:username": "root", "name": "Root", "cognito:groups": ADMINS})
    result = desk.invoke("admin_api", event)
    return result["statusCode"], json.loads(result["body"]) if result.get("body") else None


def keyed_apply(desk: Any, macro: str, conversation_ids: list[str], key: str | None,
                agent_id: str = "alice") -> tuple[int, Any]:
    """POST /agent/macros/{id}/apply as the inbox sends it: with the applied macro's Idempotency-Key."""
    headers = {"content-type": "application/json", **({"Idempotency-Key": key} if key else {})}
    event = http_event("POST", f"/agent/macros/{macro}/apply", json.dumps({"conversation_ids": conversation_ids}),
                       headers, claims={"cognito:username": agent_id, "name": agent_id.title()})
    result = desk.invoke("agent_api", event)
    return result["statusCode"], json.loads(result["body"]) if result.get("body") else None


def messages_in(desk: Any, conv: str, direction: str) -> list[dict[str, Any]]:
    messages = agent(desk, "GET", f"/agent/conversations/{conv}", "alice")[1]["messages"]
    return [m for m in messages if m["direction"] == direction]


@pytest.fixture
def macros(desk):
    """A shared macro that replies with a canned response and adds a note; another that only notes."""
    assert admin(desk, "PUT", "/admin/canned-responses/shipped", CANNED)[0] == 200
    reply = [{"type": "reply", "canned_response_id": "shipped"}, {"type": "note", "text": "Told them it shipped"}]
    assert admin(desk, "PUT", "/admin/macros/wismo", {"name": "Where is my order", "actions": reply})[0] == 200
    note = [{"type": "note", "text": "Looked at it"}]
    assert admin(desk, "PUT", "/admin/macros/looked", {"name": "Looked", "actions": note})[0] == 200
    return desk


def conversation(desk: Any, n: int) -> str:
    conv = customer_writes(desk, f"+3161235{n:04d}", "where is my order?", f"SMmacrokey{n:04d}")
    outbound_sent(desk)
    return conv


def test_a_macro_applied_twice_with_one_key_replies_once_and_answers_the_same(macros):
    desk = macros
    conv = conversation(desk, 1)
    key = str(uuid.uuid4())

    first = keyed_apply(desk, "wismo", [conv], key)
    again = keyed_apply(desk, "wismo", [conv], key)     # the answer was lost: the inbox sends it again

    assert first[0] == again[0] == 200, (first, again)
    assert again[1]["results"] == first[1]["results"] and first[1]["results"][0]["result"] == "applied"
    [reply] = messages_in(desk, conv, "outbound")
    assert first[1]["results"][0]["reply_message_id"] == reply["id"]
    assert outbound_sent(desk) == [reply["id"]]                      # the customer gets it once
    assert [m["text"] for m in messages_in(desk, conv, "note")] == ["Told them it shipped"]   # and nothing else twice
    # without a key, each request is another apply, as before
    assert keyed_apply(desk, "wismo", [conv], None)[0] == 200
    assert len(outbound_sent(desk)) == 1 and len(messages_in(desk, conv, "outbound")) == 2


def test_the_same_key_with_another_macro_or_selection_is_a_422_and_nothing_is_applied(macros):
    desk = macros
    conv, other = conversation(desk, 2), conversation(desk, 3)
    key = str(uuid.uuid4())
    assert keyed_apply(desk, "wismo", [conv], key)[0] == 200
    outbound_sent(desk)

    for macro, selection in (("looked", [conv]), ("wismo", [conv, other]), ("wismo", [other, conv])):
        status, problem = keyed_apply(desk, macro, selection, key)
        assert status == 422 and problem["code"] == "idempotency_key_reused", (macro, selection, problem)

    assert outbound_sent(desk) == [] and messages_in(desk, other, "note") == []
    assert len(messages_in(desk, conv, "note")) == 1
    # the key refused on other was let go: the same key applies a macro there alone
    status, body = keyed_apply(desk, "looked", [other], key)
    assert status == 200 and body["results"][0]["result"] == "applied", body


def test_a_selection_repeated_with_its_key_answers_each_conversation_from_its_own_record(macros):
    desk = macros
    convs = [conversation(desk, n) for n in (4, 5)]
    key = str(uuid.uuid4())
    missing = "c_01MISSING00000000000000000"

    first = keyed_apply(desk, "wismo", [*convs, missing], key)
    again = keyed_apply(desk, "wismo", [*convs, missing], key)

    assert first[0] == again[0] == 200, (first, again)
    assert again[1]["results"] == first[1]["results"]
    assert [r["result"] for r in first[1]["results"]] == ["applied", "applied", "refused"]
    assert sorted(outbound_sent(desk)) == sorted(r["reply_message_id"] for r in first[1]["results"][:2])
    for conv in convs:
        assert len(messages_in(desk, conv, "outbound")) == 1 and len(messages_in(desk, conv, "note")) == 1


def test_a_macro_without_a_reply_repeated_with_its_key_is_applied_once(macros):
    desk = macros
    conv = conversation(desk, 6)
    key = str(uuid.uuid4())

    first = keyed_apply(desk, "looked", [conv], key)
    again = keyed_apply(desk, "looked", [conv], key)

    assert first[0] == again[0] == 200 and again[1]["results"] == first[1]["results"], (first, again)
    assert [m["text"] for m in messages_in(desk, conv, "note")] == ["Looked at it"]


def test_a_keyed_macro_whose_reply_was_stored_but_never_queued_is_queued_by_its_repeat(macros, monkeypatch):
    desk = macros
    conv = conversation(desk, 7)
    key = str(uuid.uuid4())
    monkeypatch.setattr(desk.handler("agent_api").inbox.outbound, "send", stopped_before_queueing)
    with pytest.raises(KeyboardInterrupt):
        keyed_apply(desk, "wismo", [conv], key)
    monkeypatch.undo()
    [stored] = messages_in(desk, conv, "outbound")
    assert stored["status"] == "queued" and outbound_sent(desk) == []

    status, body = keyed_apply(desk, "wismo", [conv], key)

    assert status == 200 and body["results"][0]["reply_message_id"] == stored["id"], body
    assert outbound_sent(desk) == [stored["id"]]
    assert len(messages_in(desk, conv, "outbound")) == 1 and len(messages_in(desk, conv, "note")) == 1


def test_a_repeat_while_the_first_is_still_applying_is_a_409(macros):
    desk = macros
    conv = conversation(desk, 8)
    key = str(uuid.uuid4())
    conversations = desk.handler("agent_api").inbox.conversations
    # the first request took the key and is still at work
    assert conversations.hold_reply_key("alice", conv, key, macro_fingerprint("wismo", [conv]), 86400, 120) is None

    status, problem = keyed_apply(desk, "wismo", [conv], key)

    assert status == 409 and problem["code"] == "reply_key_in_flight", problem
    assert outbound_sent(desk) == [] and messages_in(desk, conv, "note") == []


def test_the_openapi_document_names_the_apply_routes_idempotency_key_header(desk):
    doc = agent(desk, "GET", "/agent/openapi.json", None)[1]
    route = doc["paths"]["/agent/macros/{macro_id}/apply"]["post"]
    header = next(p for p in route["parameters"] if p["in"] == "header")
    assert header["name"].lower() == "idempotency-key" and not header.get("required")


# an apply of a macro that replies and notes, to one conversation: the caller, the macro (personal, then shared), the
# labels, the conversation with its clocks, the customer and the canned response to render the reply, the changes'
# transaction; the conversation and its clocks again, the reply's transaction, the canned response's use, the audit
# record. With a key: the key taken before the changes, one PutItem more (marked in the reply's transaction); its
# repeat: the same first reads, the key refused, the key's item and the reply read, the audit record
UNKEYED = ["GetItem", "GetItem", "GetItem", "Query", "GetItem", "GetItem", "GetItem", "TransactWriteItems",
           "GetItem", "GetItem", "TransactWriteItems", "UpdateItem", "PutItem"]
KEYED = [*UNKEYED[:4], "PutItem", *UNKEYED[4:]]
REPEAT = [*UNKEYED[:4], "PutItem", "GetItem", "GetItem", "PutItem"]


def test_a_keyed_apply_costs_one_request_more_and_its_repeat_writes_nothing(macros):
    desk = macros
    convs = [conversation(desk, n) for n in (9, 10, 11)]
    keyed_apply(desk, "wismo", [convs[0]], str(uuid.uuid4()))          # warm: the caller's record, cached
    key = str(uuid.uuid4())

    unkeyed = dynamodb_requests(desk, lambda: keyed_apply(desk, "wismo", [convs[1]], None))
    first = dynamodb_requests(desk, lambda: keyed_apply(desk, "wismo", [convs[2]], key))
    again = dynamodb_requests(desk, lambda: keyed_apply(desk, "wismo", [convs[2]], key))

    assert unkeyed == UNKEYED, unkeyed
    assert first == KEYED, first
    assert again == REPEAT, again
