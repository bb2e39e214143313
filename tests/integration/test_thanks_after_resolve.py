"""A customer who only says thanks after their conversation was resolved: the thank-you is kept on it (the agent can
read it there) and nobody gets a new conversation to close; anything more than thanks opens one as before."""

from __future__ import annotations

from tests.integration.helpers import agent, customer_writes, online, post_twilio
from tests.integration.test_admin_api import admin_call
from tests.integration.test_sla_rules import at
from tests.support import twilio_form

PHONE = "+31640000951"


def _conversation(desk, conv):
    return agent(desk, "GET", f"/agent/conversations/{conv}", "root", groups="[admins]")[1]


def _route(desk):
    return desk.drain_queue(desk.work_queue_url, "router")


def _resolved(desk, phone=PHONE, sid="SMthx1"):
    """A conversation alice answered and resolved."""
    online(desk, "alice")
    conv = customer_writes(desk, phone, "Where is my order?", sid)
    _route(desk)
    assert agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "It arrives today."})[0] == 202
    assert agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "resolved"})[0] == 200
    _route(desk)                          # the capacity the resolve freed
    return conv


def _writes(desk, text, sid, phone=PHONE):
    body = twilio_form(MessageSid=sid, From=phone, To="+14155550100", Body=text)
    assert post_twilio(desk, body)["statusCode"] == 200


def test_a_thank_you_stays_on_the_resolved_conversation_without_work_for_anyone(desk):
    assert admin_call(desk, "PUT", "/admin/routing", "[admins]", {"acknowledgements": True})[0] == 200
    conv = _resolved(desk)
    active = agent(desk, "GET", "/agent/me", "alice")[1]["active"]
    _writes(desk, "Perfect, thanks a lot! 🙏", "SMthx2")
    identity = desk.item(f"IDENTITY#phone#{PHONE}")
    assert "open_conversation_id" not in identity and identity["last_conversation_id"] == conv
    assert _route(desk) == 0                                          # nothing to route, nothing to acknowledge
    seen = _conversation(desk, conv)
    assert seen["status"] == "resolved"
    thanks, kept = seen["messages"][-2:]
    assert (thanks["direction"], thanks["text"]) == ("inbound", "Perfect, thanks a lot! 🙏")
    assert kept["event"] == {"kind": "thanks_kept", "params": {}}
    assert [m["kind"] for m in seen["messages"]].count("acknowledgement") == 1     # the first message's only
    assert agent(desk, "GET", "/agent/me", "alice")[1]["active"] == active
    # the provider's retry of the same delivery is stored once
    _writes(desk, "Perfect, thanks a lot! 🙏", "SMthx2")
    assert [m["text"] for m in _conversation(desk, conv)["messages"]].count("Perfect, thanks a lot! 🙏") == 1


def test_thanks_with_a_request_opens_a_conversation_as_before(desk):
    conv = _resolved(desk)
    _writes(desk, "Thanks, but the package still hasn't arrived", "SMthx3")
    other = desk.item(f"IDENTITY#phone#{PHONE}")["open_conversation_id"]
    assert other != conv
    _route(desk)
    assert _conversation(desk, other)["status"] == "open"
    assert _conversation(desk, conv)["status"] == "resolved"


def test_a_thank_you_long_after_the_resolve_opens_a_conversation(desk):
    at("2026-11-20T10:00:00+00:00")
    conv = _resolved(desk)
    at("2026-11-28T10:00:00+00:00")                                   # eight days later
    _writes(desk, "thanks!", "SMthx4")
    assert desk.item(f"IDENTITY#phone#{PHONE}")["open_conversation_id"] != conv


def test_a_thank_you_after_the_bot_resolved_does_not_reopen_it(desk):
    from tests.integration.test_bot import KB, kb_import
    assert kb_import(desk, KB)[0] == 200
    assert admin_call(desk, "PUT", "/admin/bot", "[admins]", {"enabled": True, "fallback_language": "en",
                                                               "confidence_threshold": 0.26})[0] == 200
    conv = customer_writes(desk, PHONE, "How long does standard delivery take?", "SMthx5", channel="whatsapp")
    _route(desk)
    customer_writes(desk, PHONE, "yes", "SMthx6", channel="whatsapp")   # "did that answer it?": resolved by the bot
    _route(desk)
    assert _conversation(desk, conv)["status"] == "resolved"
    post_twilio(desk, twilio_form(MessageSid="SMthx7", From=f"whatsapp:{PHONE}", To="whatsapp:+14155550100",
                                  Body="great, thank you!"))
    _route(desk)
    seen = _conversation(desk, conv)
    assert seen["status"] == "resolved" and seen["messages"][-1]["event"]["kind"] == "thanks_kept"
    assert "open_conversation_id" not in desk.item(f"IDENTITY#phone#{PHONE}")
