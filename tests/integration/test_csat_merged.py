"""A satisfaction survey of a merged customer: asked on the channel the conversation answers on, and answered there,
whichever customer and identity it was sent to."""

from __future__ import annotations

from tests.integration.helpers import agent, customer_writes, online
from tests.integration.test_csat import _kinds, _settings
from tests.integration.test_widget import _call as widget
from tests.integration.test_widget import _session

PHONE = "+31612340777"


def _merged_sms_and_web_chat(desk, session: str) -> str:
    """An SMS customer and a web-chat visitor, both writing, merged by an agent (the visitor into the SMS customer):
    the SMS conversation takes the chat's in, and the visitor writes there last. Returns the conversation."""
    online(desk, "alice")
    conv = customer_writes(desk, PHONE, "Where is my parcel?", "SMmrg1")
    status, sent, _ = widget(desk, "POST", "/widget/messages", {"client_message_id": "w1", "text": "Hello?"}, session)
    assert status == 201, sent
    desk.drain_queue(desk.work_queue_url, "router")
    sms_customer = desk.item(f"IDENTITY#phone#{PHONE}")["customer_id"]
    web_customer = desk.item(f"CONV#{sent['conversation_id']}")["customer"]["id"]
    status, merged = agent(desk, "POST", f"/agent/customers/{sms_customer}/merge", "alice",
                           {"other_id": web_customer, "reason": "same person"})
    assert status == 200, merged
    status, sent, _ = widget(desk, "POST", "/widget/messages", {"client_message_id": "w2", "text": "Any news?"},
                             session)
    assert status == 201 and sent["conversation_id"] == conv, sent
    desk.drain_queue(desk.work_queue_url, "router")
    return conv


def test_a_merged_customer_answers_the_survey_in_the_web_chat_it_was_sent_in(desk):
    _settings(desk)
    session = _session(desk, "visitor-merged")
    conv = _merged_sms_and_web_chat(desk, session)
    # When the agent resolves it: the survey goes where the customer wrote last, the web chat
    assert agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "resolved"})[0] == 200
    [survey] = _kinds(desk, conv, "csat_survey")
    assert survey["channel"] == "webchat", survey
    desk.drain_queue(desk.outbound_queue_url, "dispatcher")
    # and the visitor answers "5" there
    status, answered, _ = widget(desk, "POST", "/widget/messages", {"client_message_id": "w3", "text": "5"}, session)
    # Then it is the survey's answer, on the resolved conversation, which stays resolved
    assert status == 201 and answered["conversation_id"] == conv, answered
    [answer] = _kinds(desk, conv, "csat_answer")
    assert answer["payload"]["rating"] == 5
    record = desk.item(f"CONV#{conv}", f"CSAT#{survey['payload']['cycle']}")
    assert record["state"] == "answered" and record["score"] == 5, record
    assert desk.item(f"CONV#{conv}")["status"] == "resolved"
