"""CSAT on the local stack, as a customer meets it: a WhatsApp conversation is resolved, the survey with its five
choices reaches the provider sandbox as a list message, the customer answers with an emoji (delivered twice by the
provider), and the reports count exactly one response with its score after a flush. CSAT is on for this module
only."""

# ruff: noqa: RUF001 - a customer's emoji and Turkish words on purpose

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timedelta

import pytest

from shopdesk.channels import meta

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_inboxes")]

FAKE_META_SECRET = "fake-meta-app-secret"            # the local stack's documented default


@pytest.fixture(scope="module")
def csat_on(stack):
    admin = stack.token("alice")                             # alice is the demo admin
    answer = stack.put("/admin/csat", json={"enabled": True, "when": "channels", "channels": ["whatsapp"]},
                       token=admin)
    assert answer.status == 200, answer.text
    yield stack
    stack.put("/admin/csat", json={"enabled": False}, token=admin)


def _whatsapp(stack, wa_id: str, wamid: str, text: str) -> None:
    payload = {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550783881",
                                                      "phone_number_id": "106540352242922"},
        "contacts": [{"profile": {"name": "Ayşe Yılmaz"}, "wa_id": wa_id}],
        "messages": [{"from": wa_id, "id": wamid, "timestamp": str(int(time.time())), "type": "text",
                      "text": {"body": text}}]}}]}]}
    raw = json.dumps(payload, ensure_ascii=False).encode()
    answer = stack.post("/webhooks/whatsapp", data=raw, headers={
        "Content-Type": "application/json", "X-Hub-Signature-256": meta.sign(raw, FAKE_META_SECRET)})
    assert answer.status == 200, answer.text


def _conversation(stack, phone: str) -> dict | None:
    for status in ("open", "resolved"):
        items = stack.get(f"/agent/conversations?view=all&status={status}&limit=100",
                          token=stack.token("alice")).json()["items"]
        found = next((c for c in items if {"kind": "phone", "address": phone} in c["customer"]["identities"]), None)
        if found:
            return found
    return None


def test_a_resolved_whatsapp_conversation_gets_a_survey_and_an_emoji_answer_is_counted_once(csat_on):
    stack = csat_on
    admin = stack.token("alice")
    now = datetime.fromisoformat(stack.get("/_local/clock").json()["now"].replace("Z", "+00:00"))
    period = f"from={(now - timedelta(days=1)).date().isoformat()}&to={(now + timedelta(days=2)).date().isoformat()}"
    assert stack.post("/_local/analytics/flush").status == 200
    before = stack.get(f"/reports/summary?{period}", token=admin).json()["csat"]
    before_whatsapp = _whatsapp_row(stack, period)
    wa_id = f"90532{uuid.uuid4().int % 10**7:07d}"
    # Given a Turkish customer's WhatsApp conversation, resolved by alice
    _whatsapp(stack, wa_id, f"wamid.csat-{wa_id}-1", "Merhaba, siparişim nerede?")
    conv = stack.wait_for(lambda: _conversation(stack, "+" + wa_id), timeout=60)
    stack.wait_for(lambda: stack.get(f"/agent/conversations/{conv['id']}", token=admin).json().get("language"),
                   timeout=30)                                  # the router classified it (its language)
    resolved = stack.post(f"/agent/conversations/{conv['id']}/status", json={"status": "resolved"}, token=admin)
    assert resolved.status == 200, resolved.text
    # Then the survey reaches WhatsApp as a list of five choices, in Turkish
    sent = stack.wait_for(lambda: [_body(r) for r in stack.outbox() if r["provider"] == "whatsapp_cloud"
                                   and "csat:5" in str(r.get("body")) and wa_id in str(r.get("body"))], timeout=60)
    interactive = sent[0]["interactive"]
    assert interactive["type"] == "list" and interactive["body"]["text"].startswith("Aldığınız yardımı")
    assert [row["id"] for row in interactive["action"]["sections"][0]["rows"]] == [f"csat:{n}" for n in range(1, 6)]
    # When the customer answers with an emoji, and Meta delivers it twice
    _whatsapp(stack, wa_id, f"wamid.csat-{wa_id}-2", "😍")
    _whatsapp(stack, wa_id, f"wamid.csat-{wa_id}-2", "😍")

    def answered():
        messages = stack.get(f"/agent/conversations/{conv['id']}", token=admin).json()["messages"]
        return [m for m in messages if m["kind"] == "csat_answer"]
    [answer] = stack.wait_for(answered, timeout=30)
    assert answer["direction"] == "inbound"
    # Then the conversation stays resolved, and the reports count one response of 5 for alice
    assert stack.get(f"/agent/conversations/{conv['id']}", token=admin).json()["status"] == "resolved"
    assert stack.post("/_local/analytics/flush").status == 200
    after = stack.get(f"/reports/summary?{period}", token=admin).json()["csat"]
    assert after["responses"] == before["responses"] + 1
    whatsapp = _whatsapp_row(stack, period)
    assert (whatsapp["asked"], whatsapp["responses"], whatsapp["satisfied"]) == (
        before_whatsapp["asked"] + 1, before_whatsapp["responses"] + 1, before_whatsapp["satisfied"] + 1)


def _body(request: dict) -> dict:
    body = request.get("body")
    return json.loads(body) if isinstance(body, str) else body


def _whatsapp_row(stack, period: str) -> dict:
    rows = stack.get(f"/reports/metrics?metric=csat&group_by=channel&{period}", token=stack.token("alice")).json()
    return next((r for r in rows["items"] if r["key"] == "whatsapp"), {"asked": 0, "responses": 0, "satisfied": 0})
