"""A web-chat visitor who proves an email address with a one-time code may merge into the address's customer, and the
merge sends routing work (the freed seat's refill, a reopened conversation's drain) while the widget waits for the
answer: a work queue that hangs is a send given up on within the web chat function's time (the client bounded for
the webhooks, ``dal.aws``), and the merge stored is answered as verified, its routing left to the sweep's drain
(``logic.fold``), not a timeout, nor a 503 for a code already used."""

from __future__ import annotations

import time
from datetime import timedelta

from shopdesk import clock
from shopdesk.dal.audit import AuditLog
from shopdesk.dal.aws import client
from shopdesk.dal.queues import send_worst_seconds
from shopdesk.dal.table import Table
from tests.integration.conftest import TEMPLATE
from tests.integration.helpers import agent, online
from tests.integration.test_customers import _code_mailed_to, _email
from tests.integration.test_widget import _call as _widget
from tests.integration.test_widget import _session
from tests.support import service_hangs

# what the confirmation needs at least besides one send at its worst: the code's, the merge's and the fold's reads and
# writes, the audit record, the answer (milliseconds each when DynamoDB answers)
ANSWER_MARGIN_SECONDS = 5


def _webchat_timeout() -> int:
    properties = TEMPLATE["Resources"]["WebchatFunction"]["Properties"]
    return int(properties.get("Timeout", TEMPLATE["Globals"]["Function"]["Timeout"]))


def test_a_visitor_s_proof_whose_merge_s_routing_send_hangs_is_verified_within_the_function_s_time(desk, monkeypatch):
    timeout = _webchat_timeout()
    desk.client("ses").verify_email_identity(EmailAddress="support@shop.example")
    online(desk, "alice")
    # Given a customer whose email waits, and a chat the same person opened, given to alice (a seat of hers)
    _email(desk, "Ines <ines@example.com>", "Where is my order?", "e-ines")
    mail_conv = desk.item("IDENTITY#email#ines@example.com")["open_conversation_id"]
    desk.drain_queue(desk.work_queue_url, "router")
    session = _session(desk, "visitor-ines")
    status, sent, _ = _widget(desk, "POST", "/widget/messages",
                              {"client_message_id": "i1", "text": "hello from the chat"}, session)
    assert status == 201, sent
    chat_conv = sent["conversation_id"]
    desk.drain_queue(desk.work_queue_url, "router")
    assert desk.item(f"CONV#{chat_conv}")["assignee"] == "alice"
    seats = desk.item("AGENT#alice")["active"]
    assert _widget(desk, "POST", "/widget/email-verification", {"email": "ines@example.com"}, session)[0] == 202
    code = _code_mailed_to("ines@example.com")
    # and the web chat's merges sending with the webhooks' bounded client, whose worst leaves it time to answer
    folder = desk.handler("webchat").verification().merger.folder
    assert folder.work.sqs is client("sqs", webhook=True)
    assert send_worst_seconds(folder.work.sqs) + ANSWER_MARGIN_SECONDS <= timeout
    # When the work queue hangs and the visitor confirms the code (the merge frees alice's seat: a refill to send)
    with service_hangs(monkeypatch, client("sqs"), client("sqs", webhook=True)) as held:
        began = time.monotonic()
        status, body, _ = _widget(desk, "POST", "/widget/email-verification/confirm", {"code": code}, session)
        took = time.monotonic() - began
    # Then the visitor is answered verified and linked, within the function's time with room to spare, the refill
    # given up on after one attempt (the sweep's drain of alice's team fills the seat)
    assert status == 200 and body == {"verified": True, "linked": True}, (status, body)
    assert len(held) == 1 and took + ANSWER_MARGIN_SECONDS <= timeout, (len(held), took)
    # and the merge is whole: the chat went into the email's conversation, its seat freed, on the audit trail
    assert desk.item("IDENTITY#webchat#visitor-ines")["customer_id"] == desk.item(
        "IDENTITY#email#ines@example.com")["customer_id"]
    chat = desk.item(f"CONV#{chat_conv}")
    assert chat["status"] == "resolved" and chat["folded_into"] == mail_conv, chat
    assert desk.item("AGENT#alice")["active"] == seats - 1
    [record] = AuditLog(Table(desk.table_name)).by_actor("system:webchat", "0", "9", 10, None)[0]
    assert record["action"] == "customer.merge", record


def test_a_merge_with_two_routing_sends_waits_out_one_of_them_when_the_queue_hangs(desk, monkeypatch):
    timeout = _webchat_timeout()
    desk.client("ses").verify_email_identity(EmailAddress="support@shop.example")
    # Given a customer's email that nobody holds, snoozed (the merge wakes it: a drain of its team to send)
    _email(desk, "Jon <jon@example.com>", "Where is my order?", "e-jon")
    mail_conv = desk.item("IDENTITY#email#jon@example.com")["open_conversation_id"]
    desk.drain_queue(desk.work_queue_url, "router")
    until = clock.iso(clock.now() + timedelta(hours=4))
    assert agent(desk, "POST", f"/agent/conversations/{mail_conv}/status", "alice",
                 {"status": "snoozed", "until": until})[0] == 200
    assert "assignee" not in desk.item(f"CONV#{mail_conv}")
    # and a chat the same person opened, given to alice (the merge frees her seat: a refill to send)
    online(desk, "alice")
    session = _session(desk, "visitor-jon")
    status, sent, _ = _widget(desk, "POST", "/widget/messages",
                              {"client_message_id": "j1", "text": "hello from the chat"}, session)
    assert status == 201, sent
    desk.drain_queue(desk.work_queue_url, "router")
    assert desk.item(f"CONV#{sent['conversation_id']}")["assignee"] == "alice"
    assert _widget(desk, "POST", "/widget/email-verification", {"email": "jon@example.com"}, session)[0] == 202
    code = _code_mailed_to("jon@example.com")
    # When the work queue hangs and the visitor confirms the code
    with service_hangs(monkeypatch, client("sqs"), client("sqs", webhook=True)) as held:
        began = time.monotonic()
        status, body, _ = _widget(desk, "POST", "/widget/email-verification/confirm", {"code": code}, session)
        took = time.monotonic() - began
    # Then the visitor is answered verified, having waited out one send (the refill), the drain not tried: both the
    # sweep's, the email's conversation open again all the same
    assert status == 200 and body == {"verified": True, "linked": True}, (status, body)
    assert len(held) == 1 and took + ANSWER_MARGIN_SECONDS <= timeout, (len(held), took)
    assert desk.item(f"CONV#{mail_conv}")["status"] == "open"
