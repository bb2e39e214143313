"""Labels and macros over HTTP, as the contract says others drive them: an admin keeps labels and a shared
macro; an agent labels a conversation and finds it by label in the views (also after its status moved: the
label indexer reads the table's stream); a macro on several conversations answers per conversation, and its
reply reaches the provider rendered."""

from __future__ import annotations

import pytest
from tests.e2e.test_core_loop import owner_of, send_sms
from tests.support import twilio_form

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_inboxes")]


def conversation_of(stack, phone: str, sid: str) -> str:
    sent = send_sms(stack, twilio_form(MessageSid=sid, From=phone, To="+14155550199", Body="Where is my parcel?"))
    assert sent.status == 200, sent.text
    return stack.wait_for(lambda: owner_of(stack, phone))[1]["id"]


def ids(stack, query: str, token: str) -> list[str]:
    answer = stack.get(f"/agent/conversations?{query}", token=token)
    assert answer.status == 200, answer.text
    return [c["id"] for c in answer.json()["items"]]


def test_a_label_filters_the_views_and_follows_the_conversations_status(stack):
    admin = stack.token("alice")                       # alice is an admin of the local stack
    label = stack.put("/admin/labels/e2e-shipping", json={"name": "Shipping", "color": "#2F80ED"}, token=admin)
    assert label.status == 200 and label.json()["color"] == "#2f80ed", label.text
    conv = conversation_of(stack, "+14155550181", "SMe2elabels000000000000000000001")
    other = conversation_of(stack, "+14155550182", "SMe2elabels000000000000000000002")
    changed = stack.post(f"/agent/conversations/{conv}/labels", json={"add": ["e2e-shipping"], "remove": []},
                         token=admin)
    assert changed.status == 200 and changed.json()["labels"] == ["e2e-shipping"], changed.text
    assert ids(stack, "view=all&label=e2e-shipping", admin) == [conv]
    assert other not in ids(stack, "view=all&label=e2e-shipping", admin)
    refused = stack.post(f"/agent/conversations/{other}/labels", json={"add": ["e2e-nope"]}, token=admin)
    assert refused.status == 422 and "e2e-nope" in refused.json()["detail"], refused.text
    # its status moves through the status route; the label indexer moves its label item after it
    assert stack.post(f"/agent/conversations/{conv}/status", json={"status": "pending"}, token=admin).status == 200
    assert stack.wait_for(lambda: ids(stack, "view=all&status=pending&label=e2e-shipping", admin) == [conv])
    assert ids(stack, "view=all&status=open&label=e2e-shipping", admin) == []


def test_a_shared_macro_on_several_conversations_answers_per_conversation(stack):
    admin = stack.token("alice")
    assert stack.put("/admin/labels/e2e-wismo", json={"name": "WISMO", "color": "#f2994a"}, token=admin).status == 200
    canned = {"title": "On its way", "shortcode": "e2eway", "bodies": {"en": "It is on its way, {{agent.first_name}}"
                                                                               " here."}}
    assert stack.put("/admin/canned-responses/e2e-way", json=canned, token=admin).status == 200
    macro = {"name": "Where is my order", "actions": [
        {"type": "reply", "canned_response_id": "e2e-way"}, {"type": "add_labels", "labels": ["e2e-wismo"]},
        {"type": "set_priority", "priority": "high"}, {"type": "note", "text": "Sent the tracking"},
        {"type": "snooze", "duration": "P1D"}]}
    saved = stack.put("/admin/macros/e2e-wismo", json=macro, token=admin)
    assert saved.status == 200, saved.text
    bad = stack.put("/admin/macros/e2e-bad", json={"name": "Bad", "actions": [
        {"type": "assign", "agent_id": "e2e-nobody"}]}, token=admin)
    assert bad.status == 422 and bad.json()["errors"][0]["loc"] == ["body", "actions", 0, "agent_id"], bad.text
    convs = [conversation_of(stack, f"+1415555019{i}", f"SMe2emacro0000000000000000000000{i}") for i in range(3)]
    applied = stack.post("/agent/macros/e2e-wismo/apply", json={"conversation_ids": [*convs, "c_e2e_missing"]},
                         token=admin)
    assert applied.status == 200, applied.text
    results = {r["conversation_id"]: r for r in applied.json()["results"]}
    assert [results[c]["result"] for c in convs] == ["applied"] * 3
    assert results["c_e2e_missing"]["result"] == "refused" and results["c_e2e_missing"]["problem"]["status"] == 404
    for conv in convs:
        got = stack.get(f"/agent/conversations/{conv}", token=admin).json()
        assert (got["status"], got["priority"], got["labels"]) == ("snoozed", "high", ["e2e-wismo"])
        assert [m["text"] for m in got["messages"] if m["direction"] == "note"] == ["Sent the tracking"]
    delivered = stack.wait_for(lambda: [r for r in stack.outbox() if r["provider"] == "twilio"
                                        and r["form"].get("Body") == "It is on its way, Alice here."])
    assert len(delivered) == 3
