"""The FAQ bot on the local stack, as a customer meets it: a WhatsApp question answered with the article's link,
"where is my order" answered with tracking, "I want a human" handed over at once with the reason visible, the
bot silent once an agent has the conversation, and a later message reopening what the bot resolved; and the
reports, as a supervisor reads them, counting an answer Twilio refused as a hand-over, not an answer. The demo
knowledge base is seeded by the stack; the bot is turned on for this module only."""

from __future__ import annotations

from datetime import datetime, timedelta

import boto3
import pytest
from tests.support import twilio_form

from shopdesk.channels import twilio

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_inboxes")]

AUTH_TOKEN = "fake-twilio-auth-token"  # the local stack's documented default
SEEDED = 35                              # local/seeds/kb.jsonl


@pytest.fixture(scope="module")
def bot_on(stack):
    admin = stack.token("alice")                             # alice is the demo admin
    stack.wait_for(lambda: stack.get("/_local/health").json().get("knowledge_base") == "seeded",
                   timeout=240, interval=2)
    # seeded: every demo article is there (earlier tests on the same stack may have written more)
    assert len(stack.get("/admin/kb/articles", token=admin).json()["items"]) >= SEEDED
    answer = stack.put("/admin/bot", json={"enabled": True, "fallback_language": "en"}, token=admin)
    assert answer.status == 200, answer.text
    yield stack
    stack.put("/admin/bot", json={"enabled": False}, token=admin)


def write(stack, phone: str, body: str, sid: str, whatsapp: bool = False) -> None:
    prefix = "whatsapp:" if whatsapp else ""
    form = twilio_form(MessageSid=sid, From=prefix + phone, To=prefix + "+14155550199", Body=body)
    signature = twilio.sign(stack.url + "/webhooks/twilio", twilio.parse_form(form), AUTH_TOKEN)
    answer = stack.post("/webhooks/twilio", data=form, headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})
    assert answer.status == 200, answer.text


def conversation_of(stack, phone: str) -> dict:
    def found():
        for status in ("open", "pending"):
            items = stack.get(f"/agent/conversations?view=all&status={status}&limit=100",
                              token=stack.token("alice")).json()["items"]
            for c in items:
                if {"kind": "phone", "address": phone} in c["customer"]["identities"] and c.get("bot"):
                    return c
        return None
    return stack.wait_for(found, timeout=60)


def sent_to(stack, phone: str, contains: str) -> dict:
    return stack.wait_for(lambda: next((m for m in stack.outbox() if phone in str(m.get("to", "")) + str(m)
                                        and contains in str(m)), None), timeout=60)


def test_a_whatsapp_question_is_answered_with_the_articles_link(bot_on):
    stack = bot_on
    write(stack, "+31660000001", "How long does delivery to Germany take?", "SM" + "b1" * 16, whatsapp=True)
    conv = conversation_of(stack, "+31660000001")
    assert conv["bot"]["state"] == "answering" and conv["bot"]["article_id"] == "kb_shipping"
    sent = sent_to(stack, "+31660000001", "https://help.example.com/en/shipping")
    assert "working days" in str(sent)


def test_where_is_my_order_is_answered_with_tracking(bot_on):
    stack = bot_on
    write(stack, "+14155550102", "Hi, where is my order?", "SM" + "b2" * 16)      # the demo shop's Sam Lee
    conv = conversation_of(stack, "+14155550102")
    assert conv["bot"]["state"] == "answering"
    sent = sent_to(stack, "+14155550102", "#1002")
    assert "dhl.com" in str(sent)


def test_asking_for_a_human_hands_over_at_once_with_the_reason(bot_on):
    stack = bot_on
    write(stack, "+31660000003", "I want a human", "SM" + "b3" * 16)
    conv = conversation_of(stack, "+31660000003")
    assert conv["bot"]["state"] == "handed_off" and conv["bot"]["handoff_reason"] == "human_requested"
    full = stack.get(f"/agent/conversations/{conv['id']}", token=stack.token("alice")).json()
    assert any(m["direction"] == "system" and "Handed over by the bot" in (m["text"] or "")
               for m in full["messages"])
    assert stack.wait_for(lambda: stack.get(f"/agent/conversations/{conv['id']}",
                                            token=stack.token("alice")).json()["assignee"], timeout=30)


def test_while_the_event_bus_is_down_the_bot_answers_and_its_lost_event_is_counted(bot_on):
    stack = bot_on
    seen = len(stack.logs())
    # Given the bus down: every PutEvents fails past the SDK's retries (every caller's, the sweep's too)
    assert stack.post("/_local/aws/faults", json={"operation": "events:PutEvents", "error": "InternalFailure",
                                                  "times": 100_000}).status == 201
    try:
        # When a customer asks what the bot answers
        write(stack, "+31660000071", "How long does delivery to Germany take?", "SM" + "b9" * 16, whatsapp=True)
        # Then they have the answer as always
        conv = conversation_of(stack, "+31660000071")
        assert conv["bot"]["state"] == "answering"
        sent_to(stack, "+31660000071", "https://help.example.com/en/shipping")
        # and its BotAnswered, lost, is counted (the figure EventsNotPublishedAlarm reads) and logged
        counted = stack.wait_for(lambda: [line for line in stack.logs()[seen:].splitlines()
                                          if '"EventsNotPublished"' in line and '"BotAnswered"' in line], timeout=30)
        assert counted
        assert conv["id"] in stack.logs()[seen:]              # the "event not published" line names it
    finally:
        stack.delete("/_local/aws/faults")
    assert not [e for e in stack.events() if e["detail"].get("conversation_id") == conv["id"]]


def work_queue_empty(stack) -> bool:
    """Every work item handled (the router deletes a record once it is done with it)."""
    url = stack.get("/_local/functions").json()["functions"]["RouterFunction"]["queues"][0]
    endpoint = "/".join(url.split("/")[:3])
    attributes = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                              aws_secret_access_key="testing").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
    return all(v == "0" for v in attributes["Attributes"].values())


def test_the_bot_is_silent_after_an_agent_takes_over(bot_on):
    stack = bot_on
    write(stack, "+31660000004", "I need to speak to a person", "SM" + "b4" * 16)
    conv = conversation_of(stack, "+31660000004")
    assignee = stack.wait_for(lambda: stack.get(f"/agent/conversations/{conv['id']}",
                                                token=stack.token("alice")).json()["assignee"], timeout=30)
    write(stack, "+31660000004", "How long does delivery to Germany take?", "SM" + "b5" * 16)

    def second_handled():
        full = stack.get(f"/agent/conversations/{conv['id']}", token=stack.token(assignee)).json()
        inbound = [m for m in full["messages"] if m["direction"] == "inbound"]
        return full if len(inbound) == 2 and work_queue_empty(stack) else None

    stack.wait_for(second_handled, timeout=60)
    full = stack.get(f"/agent/conversations/{conv['id']}", token=stack.token(assignee)).json()
    assert [m for m in full["messages"] if m["author"] == "bot" and m["direction"] == "outbound"] == []
    assert full["assignee"] == assignee and full["bot"]["state"] == "handed_off"


def test_a_later_message_reopens_the_conversation_the_bot_resolved(bot_on):
    stack, phone = bot_on, "+31660000005"
    write(stack, phone, "Which payment methods do you accept?", "SM" + "c5" * 16)
    conv = conversation_of(stack, phone)
    sent_to(stack, phone, "PayPal")
    stack.advance(120)                                        # past the burst
    write(stack, phone, "Yes, thanks!", "SM" + "c6" * 16)
    path = f"/agent/conversations/{conv['id']}"
    stack.wait_for(lambda: stack.get(path, token=stack.token("alice")).json()["status"] == "resolved", timeout=60)
    write(stack, phone, "Can I change my password?", "SM" + "c7" * 16)

    def reopened():
        full = stack.get(path, token=stack.token("alice")).json()
        notes = [m["text"] for m in full["messages"] if m["direction"] == "system"]
        return full if full["status"] != "resolved" and "Reopened by the customer's message" in notes else None
    stack.wait_for(reopened, timeout=60)
    sent_to(stack, phone, "Forgot password")                  # the bot answered the new question
    bot = stack.get(path, token=stack.token("alice")).json()["bot"]
    assert bot["state"] == "answering" and bot["article_id"] == "kb_account"     # in the same conversation


def bot_figures(stack, period: str) -> dict:
    """The bot's figures as the reports read them, once the lake has every event written so far."""
    assert stack.post("/_local/analytics/flush").status == 200
    answer = stack.get(f"/reports/summary?{period}", token=stack.token("alice"))
    assert answer.status == 200, answer.text
    return answer.json()["bot"]


def test_in_the_reports_an_answer_twilio_refused_is_a_send_failed_hand_over_and_a_delivered_one_an_answer(bot_on):
    stack = bot_on
    now = datetime.fromisoformat(stack.get("/_local/clock").json()["now"].replace("Z", "+00:00"))
    period = f"from={(now - timedelta(days=1)).date()}&to={(now + timedelta(days=2)).date()}"
    before = bot_figures(stack, period)
    # Given a customer whose number Twilio refuses to send to (its test number +15005550009: 21614, not a mobile)
    write(stack, "+15005550009", "How long does delivery to Germany take?", "SM" + "d1" * 16)

    def handed_over():
        conv = conversation_of(stack, "+15005550009")
        return conv if conv["bot"]["state"] == "handed_off" else None
    lost = stack.wait_for(handed_over, timeout=60)
    assert lost["bot"]["handoff_reason"] == "send_failed"
    # and one whose answer Twilio takes and delivers (the sandbox's status callbacks)
    write(stack, "+31660000021", "How long does delivery to Germany take?", "SM" + "d2" * 16)
    got = conversation_of(stack, "+31660000021")

    def delivered():
        messages = stack.get(f"/agent/conversations/{got['id']}", token=stack.token("alice")).json()["messages"]
        return [m for m in messages if m["author"] == "bot" and m["status"] == "delivered"]
    stack.wait_for(delivered, timeout=60)
    # Then the reports count one more answer (the delivered one) and one more hand-over, for send_failed
    after = bot_figures(stack, period)
    assert after["answered"] == before["answered"] + 1
    assert after["handed_off"] == before["handed_off"] + 1
    reasons = ("send_failed", "human_requested")
    assert [after["handed_off_by_reason"].get(r, 0) for r in reasons] == [
        before["handed_off_by_reason"].get(r, 0) + (r == "send_failed") for r in reasons]
