"""Mentions, snooze presets, transcripts, a visitor's history and the board's SLA events, driven over HTTP on the
local stack exactly as the contract says."""

from __future__ import annotations

import pytest
from tests.e2e.test_channels import _email, _owner

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_inboxes")]


def _email_conversation(stack, address: str, key: str) -> tuple[str, dict]:
    raw = _email(f"Cy <{address}>", "support@shop.example", "Broken lamp", "It arrived broken.",
                 f"<{key}@customer.example>")
    assert stack.post("/_local/email?wait=1", data=raw, headers={"Content-Type": "message/rfc822"}).status == 202
    return stack.wait_for(lambda: _owner(stack, address))


def test_a_mention_a_snooze_preset_and_a_transcript(stack):
    agent, conv = _email_conversation(stack, "cy.e2e@customer.example", "e2e-tools-1")
    other = "bob" if agent == "alice" else "alice"
    token, other_token = stack.token(agent), stack.token(other)
    # a mention: the other agent's mentions view and badge, read by an explicit call (the shared stack may
    # hold other tests' mentions: counted from what was there before)
    def unread() -> int:
        return stack.get("/agent/conversations/counts", token=other_token).json()["views"]["mentions"]

    before = unread()
    answer = stack.post(f"/agent/conversations/{conv['id']}/notes", json={"text": f"@{other} please look"},
                        token=token)
    assert answer.status == 201, answer.text
    assert unread() == before + 1
    items = stack.get("/agent/conversations?view=mentions", token=other_token).json()["items"]
    [item] = [i for i in items if i["id"] == conv["id"]]
    assert item["mention"]["unread"] == 1 and item["mention"]["by"] == agent
    assert stack.post(f"/agent/conversations/{conv['id']}/mentions/read", token=other_token).status == 204
    assert unread() == before
    # a snooze preset: the answer says until when
    answer = stack.post(f"/agent/conversations/{conv['id']}/status",
                        json={"status": "snoozed", "preset": "tomorrow_morning"}, token=token)
    assert answer.status == 200, answer.text
    assert answer.json()["status"] == "snoozed" and answer.json()["snoozed_until"]
    # a transcript: SES gets it, with the customer's message and no note
    answer = stack.post(f"/agent/conversations/{conv['id']}/transcript", token=token)
    assert answer.status == 202, answer.text
    assert answer.json()["to"] == "cy.e2e@customer.example"
    [mail] = stack.wait_for(lambda: [r for r in stack.outbox() if r["provider"] == "ses"
                                     and "cy.e2e@customer.example" in ((r.get("form") or {}).get("To") or "")
                                     and "Your conversation with" in ((r.get("form") or {}).get("Subject") or "")])
    assert "It arrived broken." in mail["body"] and "please look" not in mail["body"]


def test_refusals_are_problems(stack):
    token = stack.token("bob")
    missing = "c_01MISSING00000000000000000"
    for path in (f"/agent/conversations/{missing}/transcript", f"/agent/conversations/{missing}/mentions/read"):
        answer = stack.post(path, token=token)
        assert answer.status == 404 and answer.headers["content-type"].startswith("application/problem+json")
    answer = stack.post(f"/agent/conversations/{missing}/status", json={"status": "snoozed", "preset": "soon"},
                        token=token)
    assert answer.status == 422
    # the board's events: supervisors and admins (alice is an admin on the stack), not other agents
    assert stack.get("/admin/sla-events?hours=24", token=stack.token("alice")).status == 200
    assert stack.get("/admin/sla-events", token=token).status == 403
    # a visitor without a proven email sees no history
    assert stack.get("/widget/conversations", headers={"Origin": "http://127.0.0.1"}).status in (401, 403)
