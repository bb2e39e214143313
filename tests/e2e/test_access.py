"""Teams over HTTP: with real Cognito tokens through the local JWT authorizer, an agent of another team gets
the 404 of a conversation that does not exist."""

from __future__ import annotations

import pytest
from tests.e2e.test_core_loop import owner_of, send_sms
from tests.support import twilio_form

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_inboxes")]


def test_an_agent_of_another_team_gets_404_for_the_conversation(stack):
    admin = stack.token("alice")                       # alice is an admin of the local stack
    assert stack.put("/admin/teams/vip", json={"id": "vip", "name": "VIP"}, token=admin).status == 200
    assert stack.put("/admin/agents/bob", json={"capacity": 3, "teams": ["vip"]}, token=admin).status == 200
    try:
        # Given a customer's conversation of team default, held by alice (bob is only in vip now)
        sent = send_sms(stack, twilio_form(MessageSid="SMe2eaccess0000000000000000000001", From="+14155550177",
                                           To="+14155550199", Body="Where is my parcel?"))
        assert sent.status == 200
        holder, conv = stack.wait_for(lambda: owner_of(stack, "+14155550177"))
        assert holder == "alice"
        bob = stack.token("bob")
        # When bob reads it, answers it, or takes it; Then each is the 404 of a conversation that does not exist
        missing = stack.get("/agent/conversations/c_01NOSUCHCONVERSATION000000", token=bob)
        assert missing.status == 404
        hidden = stack.get(f"/agent/conversations/{conv['id']}", token=bob)
        assert hidden.status == 404
        assert hidden.text.replace(conv["id"], "<id>") == missing.text.replace("c_01NOSUCHCONVERSATION000000", "<id>")
        assert stack.post(f"/agent/conversations/{conv['id']}/replies", json={"text": "hi"}, token=bob).status == 404
        assert stack.post(f"/agent/conversations/{conv['id']}/assignment", json={"agent_id": "bob"},
                          token=bob).status == 404
        # nor does he see the customer's orders or act on them (the local stack has a shop platform)
        assert stack.get(f"/agent/conversations/{conv['id']}/orders", token=bob).status == 404
        assert stack.post(f"/agent/conversations/{conv['id']}/orders/5500000001004/cancel", json={"confirm": True},
                          token=bob).status == 404
        listed = stack.get("/agent/conversations?view=all&limit=100", token=bob).json()["items"]
        assert conv["id"] not in [c["id"] for c in listed]
        # while alice, of its team, works on it
        assert stack.get(f"/agent/conversations/{conv['id']}", token=stack.token("alice")).status == 200
    finally:
        assert stack.put("/admin/agents/bob", json={"capacity": 3, "teams": ["default"]}, token=admin).status == 200
