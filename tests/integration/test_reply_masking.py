"""What an agent types for the customer is masked before it is stored and so before it is sent: a card number pasted
into a reply, a WhatsApp template's parameter or a canned response never reaches the table, the provider or the
customer; the agent's answer says what was masked. An IBAN in a reply or a canned response's body is sent as typed
(the shop's, given to be paid), one in a note masked. Order and tracking numbers, and the canned response's
placeholders, are kept as typed.
Through the real agent API, dispatcher and a Twilio stand-in."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from shopdesk import clock
from tests.integration.helpers import agent, customer_writes, online
from tests.integration.test_outbound_channels import _only_conversation
from tests.integration.test_privacy import admin, scan
from tests.support import FakeHttp, FakeTwilio, http_event, sample

# a second Luhn-valid card with the same last four as CARD, its middle digits another: masked alike
OTHER_CARD = "4929 1234 5678 1111"
SHOP_IBAN = "NL91ABNA0417164300"          # the shop's own, in a payment instruction
CARD, CARD_MASKED = "4111 1111 1111 1111", "[card •••• 1111]"
IBAN, IBAN_MASKED = "DE89 3704 0044 0532 0130 00", "[IBAN •••• 3000]"
# an order number and a 16-digit tracking number that fails the Luhn check: no card, kept as typed
KEPT = "order #1001, tracking 9400111202555842"
IN_CLEAR = ("4111 1111", "4111111111111111", "DE89 3704", "0532 0130")


@pytest.fixture
def twilio():
    fake = FakeTwilio()
    yield fake
    fake.close()


@pytest.fixture
def graph():
    """WhatsApp Cloud's Graph API stand-in: every message accepted."""
    fake = FakeHttp(lambda path, body: (200, {"messaging_product": "whatsapp", "messages": [{"id": "wamid.OUT1"}]}))
    yield fake
    fake.close()


def _dispatch(desk: Any, twilio: FakeTwilio) -> None:
    desk.drain_queue(desk.outbound_queue_url, "dispatcher", TWILIO_API_BASE_URL=twilio.url)


def _conversation(desk: Any, phone: str, channel: str = "sms") -> str:
    online(desk, "alice")
    conv = customer_writes(desk, phone, "I was charged twice", "SMrm" + phone[-8:] * 4, channel=channel)
    desk.drain_queue(desk.work_queue_url, "router")
    return conv


def _stored(desk: Any, conv: str, message_id: str) -> dict[str, Any]:
    [item] = [i for i in scan(desk) if i["PK"] == f"CONV#{conv}" and i.get("id") == message_id]
    return item


def test_a_card_number_an_agent_pastes_into_a_reply_is_stored_and_sent_masked_and_the_answer_says_so(desk, twilio):
    # Given a conversation alice has
    conv = _conversation(desk, "+31612347001")
    # When she replies with the customer's card number pasted in, beside an order and a tracking number
    status, reply = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice",
                          {"text": f"Refunded to card {CARD} for {KEPT}"})
    _dispatch(desk, twilio)
    expected = f"Refunded to card {CARD_MASKED} for {KEPT}"
    # Then her answer shows the reply as stored, and says what was masked
    assert status == 202, reply
    assert (reply["text"], reply["masked"]) == (expected, ["card"]), reply
    # and the table holds it masked, as the timeline shows it
    assert _stored(desk, conv, reply["id"])["text"] == expected
    [shown] = [m for m in agent(desk, "GET", f"/agent/conversations/{conv}", "alice")[1]["messages"]
               if m["id"] == reply["id"]]
    assert (shown["text"], shown["masked"]) == (expected, ["card"])
    # and the customer gets only the last four digits
    [sent] = twilio.requests
    assert sent["form"]["Body"] == expected
    stored = json.dumps(scan(desk), default=str, ensure_ascii=False) + json.dumps(twilio.requests, default=repr)
    for secret in IN_CLEAR:
        assert secret not in stored, secret


def test_a_reply_with_an_order_and_a_tracking_number_only_is_sent_as_typed_and_says_nothing_was_masked(desk, twilio):
    conv = _conversation(desk, "+31612347002")
    status, reply = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice",
                          {"text": f"Your {KEPT} left today; 4111 1111 is not a card"})
    _dispatch(desk, twilio)
    assert status == 202, reply
    assert (reply["text"], reply["masked"]) == (f"Your {KEPT} left today; 4111 1111 is not a card", [])
    assert [r["form"]["Body"] for r in twilio.requests] == [reply["text"]]


def test_a_note_with_a_card_number_is_stored_masked_and_its_answer_says_so(desk):
    conv = _conversation(desk, "+31612347003")
    status, note = agent(desk, "POST", f"/agent/conversations/{conv}/notes", "alice",
                         {"text": f"customer read out {CARD} and {IBAN} for {KEPT}"})
    assert status == 201, note
    assert (note["text"], note["masked"]) == (f"customer read out {CARD_MASKED} and {IBAN_MASKED} for {KEPT}",
                                              ["card", "IBAN"]), note
    assert _stored(desk, conv, note["id"])["text"] == note["text"]


def test_a_canned_response_saved_with_a_card_number_is_stored_masked_with_its_placeholders_kept(desk):
    # Given a canned response saved with a card number beside placeholders, an order and a tracking number
    body = "Hi {{customer.first_name}}, " + f"{KEPT}: refund to {CARD}" + " for order {{order.tracking_number}}"
    status, saved = admin(desk, "PUT", "/admin/canned-responses/refund",
                          {"title": f"Refund {CARD}", "shortcode": "refund", "bodies": {"en": body}})
    # Then it is stored masked, its placeholders and the other numbers as typed
    assert status == 200, saved
    assert saved["bodies"]["en"] == ("Hi {{customer.first_name}}, " + f"{KEPT}: refund to {CARD_MASKED}"
                                     + " for order {{order.tracking_number}}"), saved
    assert saved["title"] == f"Refund {CARD_MASKED}"
    for secret in IN_CLEAR:
        assert secret not in json.dumps(scan(desk), default=str, ensure_ascii=False), secret


def test_a_whatsapp_templates_parameter_with_a_card_number_is_stored_and_sent_masked(desk, graph):
    # Given a WhatsApp Cloud conversation past the 24 hours: a template is what goes
    body, sidecar = sample("meta_whatsapp", "text")
    desk.invoke("inbound_whatsapp", http_event("POST", "/webhooks/whatsapp", body, {
        "x-hub-signature-256": sidecar["http"]["headers"]["X-Hub-Signature-256"]}))
    conv = _only_conversation(desk)
    clock.set_offset(25 * 3600)
    # When alice sends one with the card number in a parameter
    status, sent = agent(desk, "POST", f"/agent/conversations/{conv}/templates", "alice",
                         {"name": "order_update", "language": "en_US", "parameters": ["#1001", f"refunded to {CARD}"]})
    desk.drain_queue(desk.outbound_queue_url, "dispatcher", META_GRAPH_BASE_URL=graph.url)
    # Then the parameter is masked in the answer, the table and the provider's request
    assert status == 202, sent
    assert sent["text"] == f"Hi! There is news about your order #1001: refunded to {CARD_MASKED}", sent
    assert sent["masked"] == ["card"], sent
    [request] = graph.requests
    assert [p["text"] for p in request["json"]["template"]["components"][0]["parameters"]] == [
        "#1001", f"refunded to {CARD_MASKED}"]
    assert _stored(desk, conv, sent["id"])["payload"]["template"]["parameters"] == ["#1001",
                                                                                     f"refunded to {CARD_MASKED}"]
    stored = json.dumps(scan(desk), default=str, ensure_ascii=False) + json.dumps(graph.requests, default=repr)
    for secret in IN_CLEAR:
        assert secret not in stored, secret


def test_send_again_of_a_failed_reply_stored_with_a_card_number_sends_it_masked(desk, twilio):
    # Given a reply the provider refused for good, whose text holds a card number (stored before replies were masked)
    conv = _conversation(desk, "+31612347005")
    _, reply = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "Refund is on its way"})
    twilio.script = [(400, {"code": 21211, "message": "The 'To' number is not a valid phone number.",
                            "status": 400})]
    _dispatch(desk, twilio)
    item = _stored(desk, conv, reply["id"])
    assert item["status"] == "failed"
    desk.client("dynamodb").update_item(
        TableName=desk.table_name, Key={"PK": {"S": item["PK"]}, "SK": {"S": item["SK"]}},
        UpdateExpression="SET #t = :t", ExpressionAttributeNames={"#t": "text"},
        ExpressionAttributeValues={":t": {"S": f"Refund to {CARD} is on its way"}})
    # When alice sends it again
    status, again = agent(desk, "POST", f"/agent/conversations/{conv}/replies/{reply['id']}/retry", "alice")
    _dispatch(desk, twilio)
    # Then the new reply is stored and sent masked, and says so
    assert status == 202, again
    assert (again["text"], again["masked"]) == (f"Refund to {CARD_MASKED} is on its way", ["card"]), again
    assert twilio.requests[-1]["form"]["Body"] == f"Refund to {CARD_MASKED} is on its way"


def test_a_reply_and_a_templates_parameter_stored_before_a_pattern_are_masked_once_by_the_scan(desk, graph, twilio,
                                                                                              capsys):
    from tests.integration.test_masking_scan import BSN, MASKED, PATTERN, _run
    # Given a reply and a WhatsApp template holding a BSN, stored before the shop added its BSN pattern
    conv = _conversation(desk, "+31612347006")
    _, reply = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": f"Noted your {BSN}"})
    body, sidecar = sample("meta_whatsapp", "text")
    desk.invoke("inbound_whatsapp", http_event("POST", "/webhooks/whatsapp", body, {
        "x-hub-signature-256": sidecar["http"]["headers"]["X-Hub-Signature-256"]}))
    [whatsapp] = [c["id"] for c in agent(desk, "GET", "/agent/conversations", "alice", query="view=all")[1]["items"]
                  if c["id"] != conv]
    clock.set_offset(25 * 3600)
    _, template = agent(desk, "POST", f"/agent/conversations/{whatsapp}/templates", "alice",
                        {"name": "order_update", "language": "en_US", "parameters": ["#1001", f"checked {BSN}"]})
    # both sent (a reply on its way is left to a later run)
    desk.drain_queue(desk.outbound_queue_url, "dispatcher", TWILIO_API_BASE_URL=twilio.url,
                     META_GRAPH_BASE_URL=graph.url)
    assert _stored(desk, conv, reply["id"])["text"] == f"Noted your {BSN}"
    assert admin(desk, "PUT", "/admin/privacy/settings", PATTERN)[0] == 200
    # When the scan runs
    out = _run(desk, capsys)
    # Then both are masked, and say so; the template's number kept
    stored = _stored(desk, conv, reply["id"])
    assert (stored["text"], stored.get("masked")) == (f"Noted your {MASKED}", ["BSN"]), stored
    sent = _stored(desk, whatsapp, template["id"])
    assert sent["payload"]["template"]["parameters"] == ["#1001", f"checked {MASKED}"], sent["payload"]
    assert MASKED in sent["text"] and sent.get("masked") == ["BSN"], sent
    assert "123456782" not in json.dumps(scan(desk), default=str, ensure_ascii=False)
    assert "answers: " in out and "wrote 0 masked" not in out.split("masking: answers: ")[1].splitlines()[0], out
    # and a second run writes nothing
    again = _run(desk, capsys)
    assert "wrote 0 masked" in again.split("masking: answers: ")[1].splitlines()[0], again


# a 13-digit card (Luhn-valid) is masked to 16 characters, "[card •••• 2222]": its reply grows by 3
SHORT_CARD, SHORT_CARD_MASKED = "4222222222222", "[card •••• 2222]"


def _outbound(desk: Any, conv: str) -> list[dict[str, Any]]:
    return [i for i in scan(desk) if i["PK"] == f"CONV#{conv}" and i.get("direction") == "outbound"]


def test_a_reply_at_its_channels_limit_as_typed_and_over_it_masked_is_refused_with_the_limits_problem(desk, twilio):
    # Given an SMS conversation (Twilio takes 1,600 characters), its acknowledgements sent
    conv = _conversation(desk, "+31612347006")
    _dispatch(desk, twilio)
    sent_before, stored_before = len(twilio.requests), _outbound(desk, conv)
    # When alice replies with exactly 1,600 characters, a 13-digit card among them: 1,603 once masked
    typed = f"Refund to card {SHORT_CARD}: "
    typed += "x" * (1600 - len(typed))
    status, body = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": typed})
    # Then she is told at once, as for a reply typed too long: what is sent is what counts
    assert status == 422, body
    [error] = body["errors"]
    assert (error["loc"], error["type"]) == (["body", "text"], "string_too_long"), error
    assert error["msg"] == "the reply is 1,603 characters; SMS (Twilio MMS) takes at most 1,600 in one message: " \
                           "shorten it"
    # and nothing is stored or sent
    _dispatch(desk, twilio)
    assert (len(twilio.requests), _outbound(desk, conv)) == (sent_before, stored_before)
    # while one that fits once masked goes out, masked
    fits = typed[:1597]
    status, reply = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": fits})
    _dispatch(desk, twilio)
    assert status == 202, reply
    assert twilio.requests[-1]["form"]["Body"] == fits.replace(SHORT_CARD, SHORT_CARD_MASKED)
    assert len(twilio.requests[-1]["form"]["Body"]) == 1600


def test_a_templates_parameter_at_its_limit_as_typed_and_over_it_masked_is_refused_as_one_typed_too_long(desk,
                                                                                                        graph):
    body, sidecar = sample("meta_whatsapp", "text")
    desk.invoke("inbound_whatsapp", http_event("POST", "/webhooks/whatsapp", body, {
        "x-hub-signature-256": sidecar["http"]["headers"]["X-Hub-Signature-256"]}))
    conv = _only_conversation(desk)
    clock.set_offset(25 * 3600)
    stored_before = _outbound(desk, conv)
    path = f"/agent/conversations/{conv}/templates"
    # a parameter typed at 1,025 characters: the model's refusal
    _, typed_over = agent(desk, "POST", path, "alice", {"name": "order_update", "language": "en_US",
                                                       "parameters": ["#1001", "y" * 1025]})
    # When alice sends one of exactly 1,024 characters, a 13-digit card among them: 1,027 once masked
    parameter = f"refunded to {SHORT_CARD} " + "y" * (1024 - len(f"refunded to {SHORT_CARD} "))
    status, refused = agent(desk, "POST", path, "alice", {"name": "order_update", "language": "en_US",
                                                          "parameters": ["#1001", parameter]})
    # Then it is refused with the same problem as the parameter typed too long, nothing stored or sent
    assert status == 422, refused
    assert refused["errors"] == typed_over["errors"], (refused, typed_over)
    assert [(e["loc"], e["type"]) for e in refused["errors"]] == [(["body", "parameters", 1], "string_too_long")]
    desk.drain_queue(desk.outbound_queue_url, "dispatcher", META_GRAPH_BASE_URL=graph.url)
    assert (graph.requests, _outbound(desk, conv)) == ([], stored_before)
    # while one that fits once masked goes out, masked
    fits = parameter[:1021]
    status, sent = agent(desk, "POST", path, "alice", {"name": "order_update", "language": "en_US",
                                                       "parameters": ["#1001", fits]})
    desk.drain_queue(desk.outbound_queue_url, "dispatcher", META_GRAPH_BASE_URL=graph.url)
    assert status == 202, sent
    [request] = graph.requests
    assert request["json"]["template"]["components"][0]["parameters"][1]["text"] == fits.replace(
        SHORT_CARD, SHORT_CARD_MASKED)


def _keyed_reply(desk: Any, conv: str, key: str, text: str) -> tuple[int, Any]:
    """POST a reply as the inbox sends it: with its Idempotency-Key."""
    event = http_event("POST", f"/agent/conversations/{conv}/replies", json.dumps({"text": text}),
                       {"content-type": "application/json", "Idempotency-Key": key},
                       claims={"cognito:username": "alice", "name": "Alice"})
    result = desk.invoke("agent_api", event)
    return result["statusCode"], json.loads(result["body"])


def test_a_keyed_replys_fingerprint_holds_nothing_derivable_from_the_card_number_typed(desk, twilio):
    from shopdesk.logic.inbox import reply_fingerprint
    conv = _conversation(desk, "+31612347010")
    typed = f"Refunded to card {CARD} for {KEPT}"
    # When alice sends a keyed reply with a card number in it
    status, reply = _keyed_reply(desk, conv, "k-card-1", typed)
    assert status == 202, reply
    # Then the key's item keeps the digest of the text as stored and sent, masked: never of the typed digits
    [held] = [i for i in scan(desk) if i["PK"] == f"REPLYKEY#{conv}"]
    raw = json.dumps({"attachments": [], "canned_response_id": None, "channel": None, "text": typed}, sort_keys=True)
    assert held["fingerprint"] != "sha256:" + hashlib.sha256(raw.encode("utf-8")).hexdigest()
    assert held["fingerprint"] == reply_fingerprint(typed.replace(CARD, CARD_MASKED), None, None, [])
    # and a card whose middle digits differ gives the same digest: it is the same request, answered as the first was
    again, answer = _keyed_reply(desk, conv, "k-card-1", typed.replace(CARD, OTHER_CARD))
    assert (again, answer["id"]) == (202, reply["id"]), answer
    [still] = [i for i in scan(desk) if i["PK"] == f"REPLYKEY#{conv}"]
    assert still["fingerprint"] == held["fingerprint"]
    # while another text with the same key is another request (422), and a repeat of the first answers it once
    other, refused = _keyed_reply(desk, conv, "k-card-1", f"Refunded to card {CARD} for order #1002")
    assert (other, refused["code"]) == (422, "idempotency_key_reused"), refused
    _dispatch(desk, twilio)
    assert [r["form"]["Body"] for r in twilio.requests].count(reply["text"]) == 1


def test_a_keyed_templates_fingerprint_is_of_its_parameters_as_sent(desk, graph):
    from shopdesk.logic.inbox import template_fingerprint
    body, sidecar = sample("meta_whatsapp", "text")
    desk.invoke("inbound_whatsapp", http_event("POST", "/webhooks/whatsapp", body, {
        "x-hub-signature-256": sidecar["http"]["headers"]["X-Hub-Signature-256"]}))
    conv = _only_conversation(desk)
    clock.set_offset(25 * 3600)
    event = http_event("POST", f"/agent/conversations/{conv}/templates", json.dumps(
        {"name": "order_update", "language": "en_US", "parameters": ["#1001", f"refunded to {CARD}"]}),
        {"content-type": "application/json", "Idempotency-Key": "k-template"},
        claims={"cognito:username": "alice", "name": "Alice"})
    assert desk.invoke("agent_api", event)["statusCode"] == 202
    [held] = [i for i in scan(desk) if i["PK"] == f"REPLYKEY#{conv}"]
    assert held["fingerprint"] == template_fingerprint("order_update", "en_US", ["#1001", f"refunded to {CARD_MASKED}"],
                                                       None)


def test_an_iban_an_agent_gives_in_a_reply_is_sent_as_typed_and_one_in_a_note_is_masked(desk, twilio, capsys):
    from tests.integration.test_masking_scan import _run
    conv = _conversation(desk, "+31612347011")
    # When alice tells the customer where to pay, a card number beside it
    status, reply = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice",
                          {"text": f"Please transfer to {SHOP_IBAN}, not to card {CARD}"})
    _dispatch(desk, twilio)
    # Then the IBAN goes as typed, the card masked, and the answer says only the card was
    expected = f"Please transfer to {SHOP_IBAN}, not to card {CARD_MASKED}"
    assert status == 202, reply
    assert (reply["text"], reply["masked"]) == (expected, ["card"]), reply
    assert twilio.requests[-1]["form"]["Body"] == expected
    # while her note quoting it masks it, as before
    _, note = agent(desk, "POST", f"/agent/conversations/{conv}/notes", "alice", {"text": f"told them {SHOP_IBAN}"})
    assert (note["text"], note["masked"]) == ("told them [IBAN •••• 4300]", ["IBAN"]), note
    # and the masking scan leaves the reply as it was sent
    _run(desk, capsys)
    assert _stored(desk, conv, reply["id"])["text"] == expected


def test_a_preview_shows_the_reply_masked_as_it_will_be_sent(desk):
    conv = _conversation(desk, "+31612347012")
    status, preview = agent(desk, "POST", f"/agent/conversations/{conv}/preview", "alice",
                            {"text": f"Refund to {CARD}; pay to {SHOP_IBAN}"})
    assert status == 200, preview
    assert preview == {"text": f"Refund to {CARD_MASKED}; pay to {SHOP_IBAN}"}


def test_the_scan_leaves_a_reply_whose_send_is_unconfirmed_until_it_is_settled(desk, twilio, capsys):
    from tests.integration.test_masking_scan import BSN, MASKED, PATTERN, _run
    # Given a reply holding a BSN, stored before the shop's pattern, whose send's intent is recorded and unconfirmed
    # (the dispatcher stopped after Twilio took it: the next delivery looks it up by its body)
    conv = _conversation(desk, "+31612347013")
    _, reply = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": f"Noted your {BSN}"})
    item = _stored(desk, conv, reply["id"])
    key = {"PK": {"S": item["PK"]}, "SK": {"S": item["SK"]}}
    desk.client("dynamodb").update_item(
        TableName=desk.table_name, Key=key, UpdateExpression="SET sending = :s",
        ExpressionAttributeValues={":s": {"M": {"part": {"N": "0"}, "attempt": {"N": "1"},
                                                "since": {"S": clock.now_iso()}, "reference": {"S": "r"}}}})
    assert admin(desk, "PUT", "/admin/privacy/settings", PATTERN)[0] == 200
    # When the scan runs
    out = _run(desk, capsys)
    # Then it leaves that reply as it is, for a later run, and says so
    assert _stored(desk, conv, reply["id"])["text"] == f"Noted your {BSN}"
    assert "1 replies still being sent" in out, out
    # and once the send is recorded, the next run masks it
    desk.client("dynamodb").update_item(
        TableName=desk.table_name, Key=key, UpdateExpression="SET provider_id = :p REMOVE sending",
        ExpressionAttributeValues={":p": {"S": "SM" + "0" * 32}})
    _run(desk, capsys)
    assert _stored(desk, conv, reply["id"])["text"] == f"Noted your {MASKED}"


def test_the_shops_iban_in_a_canned_response_is_kept_as_saved_and_sent_with_its_card_masked(desk, twilio, capsys):
    from tests.integration.test_masking_scan import _run
    # Given a canned response with the shop's IBAN and a card number in its body and title, and a macro replying with it
    hello = 'Hi {{customer.first_name | default: "there"}}, please transfer to '
    body = hello + f"{SHOP_IBAN}, not to card {CARD}"
    status, saved = admin(desk, "PUT", "/admin/canned-responses/transfer",
                          {"title": f"Transfer {SHOP_IBAN} {CARD}", "shortcode": "transfer", "bodies": {"en": body}})
    # Then its body is stored with the IBAN as typed (a text sent to customers) and the card masked, its placeholder
    # kept; its title, which only agents read, masks both as a note does
    sent = hello + f"{SHOP_IBAN}, not to card {CARD_MASKED}"
    assert status == 200, saved
    assert (saved["bodies"]["en"], saved["title"]) == (sent, f"Transfer [IBAN •••• 4300] {CARD_MASKED}"), saved
    [stored] = [i for i in scan(desk) if i["SK"] == "RESPONSE#transfer"]
    assert stored["bodies"]["en"] == sent
    macro = {"name": "Transfer", "actions": [{"type": "reply", "canned_response_id": "transfer"}]}
    assert admin(desk, "PUT", "/admin/macros/transfer", macro)[0] == 200
    # When alice replies with it, and then applies the macro
    conv = _conversation(desk, "+31612347014")
    status, reply = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice",
                          {"canned_response_id": "transfer"})
    _dispatch(desk, twilio)
    status_macro, applied = agent(desk, "POST", "/agent/macros/transfer/apply", "alice", {"conversation_ids": [conv]})
    _dispatch(desk, twilio)
    # Then both go with the IBAN as saved and the card masked
    assert status == 202, reply
    assert status_macro == 200 and applied["results"][0]["result"] == "applied", applied
    assert reply["text"].endswith(f"please transfer to {SHOP_IBAN}, not to card {CARD_MASKED}"), reply
    bodies = [r["form"]["Body"] for r in twilio.requests]
    assert len(bodies) == 2 and all(b.endswith(f"transfer to {SHOP_IBAN}, not to card {CARD_MASKED}")
                                    for b in bodies), bodies
    # and the masking scan leaves the response and both replies as they were sent
    _run(desk, capsys)
    [stored] = [i for i in scan(desk) if i["SK"] == "RESPONSE#transfer"]
    assert stored["bodies"]["en"] == sent
    replies = sorted(i["text"] for i in scan(desk) if i["PK"] == f"CONV#{conv}" and i.get("direction") == "outbound")
    assert replies == sorted(bodies), replies
    for secret in ("4111 1111", "4111111111111111"):
        assert secret not in json.dumps(scan(desk), default=str, ensure_ascii=False), secret
