"""Transcripts: an agent emails the customer the conversation (or the shop has it sent on resolve)."""

from __future__ import annotations

from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from tests.integration.helpers import agent, customer_writes, online
from tests.integration.test_admin_api import admin_call
from tests.integration.test_customers import _email
from tests.support import ses_recipients


def _mails_to(address: str) -> list:
    return [m for m in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages if address in ses_recipients(m)]


def _email_conversation(desk, sender: str, key: str) -> str:
    desk.client("ses").verify_email_identity(EmailAddress="support@shop.example")
    online(desk, "alice")
    _email(desk, sender, "Hello, my parcel <b>never</b> came", key)
    desk.drain_queue(desk.work_queue_url, "router")
    address = sender.split("<")[-1].rstrip(">")
    return desk.item(f"IDENTITY#email#{address}")["open_conversation_id"]


def test_an_agent_sends_the_transcript_with_messages_and_without_notes(desk):
    conv = _email_conversation(desk, "Ada <ada.t@customer.example>", "tr-1")
    assert agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "It ships today"})[0] == 202
    assert agent(desk, "POST", f"/agent/conversations/{conv}/notes", "alice", {"text": "SECRET internal"})[0] == 201
    before = len(_mails_to("ada.t@customer.example"))
    # When alice asks for the transcript
    status, body = agent(desk, "POST", f"/agent/conversations/{conv}/transcript", "alice")
    # Then SES got one mail to the customer's address, with the messages and no note
    assert status == 202, body
    assert body["to"] == "ada.t@customer.example" and body["language"] == "en"
    mails = _mails_to("ada.t@customer.example")[before:]
    assert len(mails) == 1
    mail = mails[0]
    assert mail.subject == "Your conversation with Example Shop"
    content = mail.body
    assert "It ships today" in content and "never" in content
    assert "SECRET" not in content and "Assigned" not in content
    # And it is on the timeline, as a system event naming the address
    _, conv_body = agent(desk, "GET", f"/agent/conversations/{conv}", "alice")
    events = [m["text"] for m in conv_body["messages"] if m["direction"] == "system"]
    assert any(t.startswith("Transcript sent to ada.t@customer.example (en,") and t.endswith("by Alice")
               for t in events), events
    [sent] = [m["event"] for m in conv_body["messages"] if (m["event"] or {}).get("kind") == "transcript_sent"]
    assert sent["params"] == {"to": "ada.t@customer.example", "language": "en", "messages": body["messages"],
                              "by": "alice"}


def test_a_customer_without_email_is_a_409_and_nothing_is_sent(desk):
    online(desk, "alice")
    conv = customer_writes(desk, "+31612349001", "hi by sms", "SMtr1")
    desk.drain_queue(desk.work_queue_url, "router")
    sent = len(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)
    status, problem = agent(desk, "POST", f"/agent/conversations/{conv}/transcript", "alice")
    assert status == 409 and "no email address" in problem["detail"] and problem["code"] == "no_email", problem
    assert problem["type"] == "/problems/conflict"
    assert len(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages) == sent


def test_the_shop_can_have_a_transcript_sent_on_every_resolve(desk):
    conv = _email_conversation(desk, "Bo <bo.t@customer.example>", "tr-2")
    assert admin_call(desk, "PUT", "/admin/routing", "[admins]", {"transcript_on_resolve": True})[0] == 200
    desk.handler("agent_api").book._loaded_at = -1e9         # the settings are cached a minute
    # When alice resolves the conversation
    status, body = agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "resolved"})
    assert status == 200, body
    # Then the customer got the transcript, once, and the timeline says so
    assert len(_mails_to("bo.t@customer.example")) == 1
    agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "resolved"})   # no change
    assert len(_mails_to("bo.t@customer.example")) == 1
    _, conv_body = agent(desk, "GET", f"/agent/conversations/{conv}", "alice")
    assert any((m["text"] or "").startswith("Transcript sent to bo.t@customer.example") and m["text"].endswith(
        "by system") for m in conv_body["messages"])
    [sent] = [m["event"] for m in conv_body["messages"] if (m["event"] or {}).get("kind") == "transcript_sent"]
    assert "by" not in sent["params"] and sent["params"]["to"] == "bo.t@customer.example"


def test_on_resolve_a_customer_without_email_gets_a_timeline_note_and_the_resolve_stands(desk):
    online(desk, "alice")
    conv = customer_writes(desk, "+31612349002", "sms only", "SMtr2")
    desk.drain_queue(desk.work_queue_url, "router")
    assert admin_call(desk, "PUT", "/admin/routing", "[admins]", {"transcript_on_resolve": True})[0] == 200
    desk.handler("agent_api").book._loaded_at = -1e9
    status, body = agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "resolved"})
    assert status == 200 and body["status"] == "resolved"
    _, conv_body = agent(desk, "GET", f"/agent/conversations/{conv}", "alice")
    assert any((m["text"] or "").startswith("No transcript sent on resolve") for m in conv_body["messages"])
    assert {"kind": "transcript_not_sent", "params": {"reason": "no_email"}} in [
        m["event"] for m in conv_body["messages"]]


def test_a_visitor_sees_their_past_conversations_once_they_proved_their_email(desk):
    from tests.integration.test_customers import _code_mailed_to
    from tests.integration.test_widget import _call as widget
    from tests.integration.test_widget import _session

    # Given a customer who wrote by email before, and a web-chat visitor
    conv = _email_conversation(desk, "Cy <cy.t@customer.example>", "tr-3")
    agent(desk, "POST", f"/agent/conversations/{conv}/notes", "alice", {"text": "internal only"})
    session = _session(desk, "visitor-cy")
    status, sent, _ = widget(desk, "POST", "/widget/messages", {"client_message_id": "h1", "text": "hi"}, session)
    assert status == 201, sent
    # Then before any proof the history lists nothing, no address proven (no error in the shop's page console)
    status, none, _ = widget(desk, "GET", "/widget/conversations", session=session)
    assert status == 200 and none == {"email": None, "items": [], "next_cursor": None}, none
    assert widget(desk, "GET", "/widget/conversations")[0] == 401
    # When the visitor proves the address
    widget(desk, "POST", "/widget/email-verification", {"email": "cy.t@customer.example"}, session)
    code = _code_mailed_to("cy.t@customer.example")
    assert widget(desk, "POST", "/widget/email-verification/confirm", {"code": code}, session)[0] == 200
    # Then they see both conversations, the chat and the earlier email, newest first, and no notes
    status, body, result = widget(desk, "GET", "/widget/conversations", session=session)
    assert status == 200, body
    assert body["email"] == "cy.t@customer.example"
    assert [c["id"] for c in body["items"]] == [sent["conversation_id"], conv]
    # (both were open: the email's conversation took the chat in, and the customer wrote there last on the chat)
    assert [c["channel"] for c in body["items"]] == ["webchat", "webchat"]
    assert "internal" not in str(body)
    assert result["headers"]["Access-Control-Allow-Origin"]
    # and paging works
    status, first, _ = widget(desk, "GET", "/widget/conversations", session=session, query="limit=1")
    assert [c["id"] for c in first["items"]] == [sent["conversation_id"]] and first["next_cursor"]
    assert widget(desk, "GET", "/widget/conversations", session=session, query="cursor=nonsense")[0] == 400
