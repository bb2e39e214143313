"""The core loop with real handlers against moto: inbound -> routing -> reply -> dispatch -> SLA."""

from __future__ import annotations

import json

from shopdesk import clock
from tests.support import http_event, sample, signed_twilio, twilio_form

URL = "https://desk.example.com/webhooks/twilio"


def _inbound(desk, body: str, signature: str | None = None) -> dict:
    headers = {"content-type": "application/x-www-form-urlencoded"}
    headers["x-twilio-signature"] = signature if signature is not None else signed_twilio(URL, body)
    return desk.invoke("inbound_twilio", http_event("POST", "/webhooks/twilio", body, headers))


def _agent(desk, method: str, path: str, agent: str, body: dict | None = None, query: str = "") -> tuple[int, dict]:
    event = http_event(method, path, json.dumps(body) if body is not None else None,
                       {"content-type": "application/json"}, query=query,
                       claims={"cognito:username": agent, "name": agent.title()})
    result = desk.invoke("agent_api", event)
    return result["statusCode"], json.loads(result["body"]) if result.get("body") else {}


def test_signed_sms_is_stored_once_and_assigned(desk):
    # Given alice online
    assert _agent(desk, "PUT", "/agent/me/presence", "alice", {"presence": "online"})[0] == 200
    body, _ = sample("twilio", "sms_inbound_text")
    # When Twilio delivers the same message twice
    first, second = _inbound(desk, body), _inbound(desk, body)
    # Then both are answered with empty TwiML and one message is stored
    assert first["statusCode"] == second["statusCode"] == 200
    assert "<Response></Response>" in first["body"]
    desk.drain_queue(desk.work_queue_url, "router")
    status, listing = _agent(desk, "GET", "/agent/conversations", "alice", query="view=mine")
    assert status == 200 and len(listing["items"]) == 1
    conv = listing["items"][0]
    assert conv["assignee"] == "alice"
    status, detail = _agent(desk, "GET", f"/agent/conversations/{conv['id']}", "alice")
    inbound = [m for m in detail["messages"] if m["direction"] == "inbound"]
    assert [m["text"] for m in inbound] == ["Msg"]
    assert detail["customer"]["identities"] == [{"kind": "phone", "address": "+14133881111"}]


def test_bad_signature_is_refused_and_nothing_stored(desk):
    body, _ = sample("twilio", "sms_inbound_text")
    result = _inbound(desk, body, signature="bm90IGEgc2lnbmF0dXJl")
    assert result["statusCode"] == 403
    assert desk.item("IDENTITY#phone#+14133881111") is None


def test_sms_and_whatsapp_from_one_number_share_a_conversation(desk):
    _inbound(desk, twilio_form(MessageSid="SM1", From="+31612345678", To="+14155550100", Body="hi by sms"))
    _inbound(desk, twilio_form(MessageSid="SM2", From="whatsapp:+31612345678", To="whatsapp:+14155550100",
                               Body="hi by whatsapp"))
    identity = desk.item("IDENTITY#phone#+31612345678")
    conv = desk.item(f"CONV#{identity['open_conversation_id']}")
    assert conv["message_count"] == 2
    assert conv["channel"] == "whatsapp"
    route = {k: v for k, v in conv["routes"][conv["channel"]].items() if k != "last_inbound_at"}
    assert route == {"channel": "whatsapp", "to": "whatsapp:+31612345678", "sender": "whatsapp:+14155550100",
                     "provider": "twilio"}
    assert set(conv["routes"]) == {"sms", "whatsapp"}


def test_first_response_breach_is_flagged_once(desk):
    _inbound(desk, twilio_form(MessageSid="SM9", From="+31612345678", To="+14155550100", Body="where is my order"))
    conv_id = desk.item("IDENTITY#phone#+31612345678")["open_conversation_id"]
    desk.drain_queue(desk.work_queue_url, "router")           # the router starts the clocks
    assert desk.invoke("sla_sweep", {})["breached"] == 0
    clock.set_offset(4 * 3600 + 1)
    assert desk.invoke("sla_sweep", {})["breached"] == 1
    assert desk.invoke("sla_sweep", {})["breached"] == 0
    _status, detail = _agent(desk, "GET", f"/agent/conversations/{conv_id}", "alice")
    assert detail["sla"]["breaches"] == ["first_response"]
