"""Calls the integration tests make the way providers and agents make them."""

from __future__ import annotations

import json
from typing import Any

from tests.support import http_event, signed_twilio, twilio_form

TWILIO_URL = "https://desk.example.com/webhooks/twilio"
STATUS_URL = "https://desk.example.com/webhooks/twilio/status"


def post_twilio(desk: Any, body: str, *, url: str = TWILIO_URL, signature: str | None = None) -> dict[str, Any]:
    path = url.removeprefix("https://desk.example.com")
    headers = {"content-type": "application/x-www-form-urlencoded",
               "x-twilio-signature": signature if signature is not None else signed_twilio(url, body)}
    return desk.invoke("inbound_twilio", http_event("POST", path, body, headers))


def customer_writes(desk: Any, phone: str, text: str, sid: str, channel: str = "sms") -> str:
    """A customer message through the real webhook; returns the conversation id."""
    prefix = "whatsapp:" if channel == "whatsapp" else ""
    result = post_twilio(desk, twilio_form(MessageSid=sid, From=prefix + phone, To=prefix + "+14155550100",
                                           Body=text))
    assert result["statusCode"] == 200, result
    return desk.item(f"IDENTITY#phone#{phone}")["open_conversation_id"]


def agent(desk: Any, method: str, path: str, agent_id: str | None, body: Any = None, query: str = "",
          raw: str | None = None, groups: str | None = None) -> tuple[int, Any]:
    claims = {"cognito:username": agent_id, "name": agent_id.title()} if agent_id else {}
    if groups is not None:
        claims["cognito:groups"] = groups          # as API Gateway passes them: "[supervisors]"
    payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
    event = http_event(method, path, payload, {"content-type": "application/json"}, query=query, claims=claims)
    result = desk.invoke("agent_api", event)
    return result["statusCode"], json.loads(result["body"]) if result.get("body") else None


def online(desk: Any, *agents: str) -> None:
    for agent_id in agents:
        assert agent(desk, "PUT", "/agent/me/presence", agent_id, {"presence": "online"})[0] == 200


def teams(desk: Any, *ids: str) -> None:
    """Teams created as an admin does (PUT /admin/teams/{id}), named after their ids: routing may then name them."""
    claims = {"cognito:username": "lead", "cognito:groups": "[admins]"}
    for team in ids:
        event = http_event("PUT", f"/admin/teams/{team}", json.dumps({"id": team, "name": team.title()}),
                           {"content-type": "application/json"}, claims=claims)
        assert desk.invoke("admin_api", event)["statusCode"] == 200, team


def handed_over(desk: Any, phone: str, text: str, sid: str, note: str) -> tuple[str, str, str]:
    """A customer's conversation the router gave alice or bob, handed by its holder to the other with ``note``:
    (conversation id, holder, the other)."""
    online(desk, "alice", "bob")
    conv = customer_writes(desk, phone, text, sid)
    desk.drain_queue(desk.work_queue_url, "router")
    holder = agent(desk, "GET", f"/agent/conversations/{conv}", "alice")[1]["assignee"]
    other = "bob" if holder == "alice" else "alice"
    assert agent(desk, "POST", f"/agent/conversations/{conv}/assignment", holder,
                 {"agent_id": other, "note": note})[0] == 200
    return conv, holder, other


def route_records(desk: Any) -> list[str]:
    """Run the router on what waits on the work queue (``Desk.route_work``); the bodies it was given."""
    return desk.route_work()


def redrive(desk: Any, body: str, dedup: str) -> None:
    """A work item again, as ``scripts/redrive.py`` moves it: the same body, in its group, a fresh deduplication id."""
    desk.client("sqs").send_message(QueueUrl=desk.work_queue_url, MessageBody=body,
                                    MessageGroupId=json.loads(body)["conversation_id"], MessageDeduplicationId=dedup)


def outbound_sent(desk: Any) -> list[str]:
    """The ids of the messages the outbound queue was asked to send since the last call (taken off it)."""
    sqs, ids = desk.client("sqs"), []
    while received := sqs.receive_message(QueueUrl=desk.outbound_queue_url, MaxNumberOfMessages=10).get("Messages", []):
        for m in received:
            ids.append(json.loads(m["Body"])["message_id"])
            sqs.delete_message(QueueUrl=desk.outbound_queue_url, ReceiptHandle=m["ReceiptHandle"])
    return ids
