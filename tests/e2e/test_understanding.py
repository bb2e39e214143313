"""Message understanding on the local stack: an angry, urgent Spanish SMS is stored with its language and mood,
and its conversation is raised to urgent with the reason on the timeline."""

from __future__ import annotations

import pytest
from tests.e2e.test_core_loop import conversation, owner_of, send_sms
from tests.support import twilio_form

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_inboxes")]


def test_an_angry_urgent_message_is_understood_and_raised(stack):
    body = twilio_form(MessageSid="SMe2eunderstand0000000000000000001", From="+14155550171", To="+14155550199",
                       Body="¡Es una vergüenza! Mi pedido no ha llegado y lo necesito mañana para una boda")
    assert send_sms(stack, body).status == 200

    def raised():
        found = owner_of(stack, "+14155550171")
        if not found:
            return None
        conv = conversation(stack, found[1]["id"], found[0])
        return conv if conv["priority"] == "urgent" else None

    conv = stack.wait_for(raised)
    assert (conv["language"], conv["sentiment"], conv["urgent"]) == ("es", "negative", True)
    [inbound] = [m for m in conv["messages"] if m["direction"] == "inbound"]
    assert (inbound["language"], inbound["sentiment"], inbound["urgent"]) == ("es", "negative", True)
    assert inbound["emotion"] == "anger"
    notes = [m["text"] for m in conv["messages"] if m["direction"] == "system"]
    assert any(n.startswith("Priority raised from normal to urgent: urgent message (deadline)") for n in notes)
    # the automatic acknowledgement went out in the customer's language
    acks = [m for m in conv["messages"] if m.get("kind") == "acknowledgement"]
    assert not acks or all(m["text"] for m in acks)
