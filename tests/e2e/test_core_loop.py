"""The core loop over HTTP, as Twilio and agents drive it: the README walkthrough, made to fail if it breaks."""

from __future__ import annotations

import json
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from tests.support import sample, twilio_form

from shopdesk.channels import twilio

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_inboxes")]

AUTH_TOKEN = "fake-twilio-auth-token"  # the local stack's documented default
REPO = Path(__file__).resolve().parents[2]


def send_sms(stack, body: str, path: str = "/webhooks/twilio"):
    signature = twilio.sign(stack.url + path, twilio.parse_form(body), AUTH_TOKEN)
    return stack.post(
        path,
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
    )


def replies(conv):
    """The agents' replies (not the automatic acknowledgement)."""
    return [m for m in conv["messages"] if m["direction"] == "outbound" and m["kind"] != "acknowledgement"]


def twilio_outbox(stack):
    return [r for r in stack.outbox() if r["provider"] == "twilio"]


def mine(stack, agent, status="open"):
    answer = stack.get(f"/agent/conversations?view=mine&status={status}", token=stack.token(agent))
    assert answer.status == 200, answer.text
    return answer.json()["items"]


def conversation(stack, conv_id, agent="alice"):
    answer = stack.get(f"/agent/conversations/{conv_id}", token=stack.token(agent))
    assert answer.status == 200, answer.text
    return answer.json()


def owner_of(stack, phone):
    """(agent, conversation) holding the open conversation of a phone number, or None."""
    for agent in ("alice", "bob"):
        for conv in mine(stack, agent):
            if {"kind": "phone", "address": phone} in conv["customer"]["identities"]:
                return agent, conv
    return None


def test_walkthrough_message_is_assigned_answered_and_delivered(stack):
    # A customer texts the shop
    body = twilio_form(
        MessageSid="SMe2e00000000000000000000000000001",
        From="+14155550101",
        To="+14155550199",
        Body="Hi! Where is order #1001?",
    )
    answer = send_sms(stack, body)
    assert answer.status == 200 and "<Response></Response>" in answer.text
    assert answer.headers["content-type"].startswith("text/xml")
    # It is assigned to an online agent with free capacity
    agent, conv = stack.wait_for(lambda: owner_of(stack, "+14155550101"))
    assert conv["channel"] == "sms" and conv["status"] == "open"
    # The agent answers; the reply leaves through Twilio's Messages API (the sandbox)
    token = stack.token(agent)
    reply = stack.post(
        f"/agent/conversations/{conv['id']}/replies", json={"text": "It ships today."}, token=token
    )
    assert reply.status == 202, reply.text
    sent = stack.wait_for(lambda: [r for r in twilio_outbox(stack) if r["form"].get("Body") == "It ships today."])
    assert sent[0]["provider"] == "twilio" and sent[0]["form"]["To"] == "+14155550101"
    assert sent[0]["form"]["From"] == "+14155550199"
    sid = sent[0]["response"]["body"]["sid"]

    # Twilio's status callbacks come back signed and move the reply to delivered
    def delivered():
        out = replies(conversation(stack, conv["id"], agent))
        return out if out and out[0]["status"] == "delivered" else None

    [out] = stack.wait_for(delivered)
    assert out["provider_id"] == sid
    assert conversation(stack, conv["id"], agent)["sla"]["first_response_at"]


def test_duplicate_delivery_is_a_no_op(stack):
    body = twilio_form(
        MessageSid="SMe2e00000000000000000000000000002",
        From="+14155550102",
        To="+14155550199",
        Body="only once please",
    )
    assert send_sms(stack, body).status == 200
    assert send_sms(stack, body).status == 200
    _, conv = stack.wait_for(lambda: owner_of(stack, "+14155550102"))
    inbound = [m for m in conversation(stack, conv["id"])["messages"] if m["direction"] == "inbound"]
    assert [m["text"] for m in inbound] == ["only once please"]


def test_bad_or_missing_signature_is_refused_and_nothing_stored(stack):
    body = twilio_form(
        MessageSid="SMe2e00000000000000000000000000003", From="+14155550103", To="+14155550199", Body="forged"
    )
    forged = stack.post(
        "/webhooks/twilio",
        data=body,
        headers={"X-Twilio-Signature": "AAAA", "Content-Type": "application/x-www-form-urlencoded"},
    )
    unsigned = stack.post("/webhooks/twilio", data=body)
    assert forged.status == unsigned.status == 403
    everything = stack.get("/agent/conversations?view=all", token=stack.token("alice")).json()["items"]
    assert not [
        c for c in everything if {"kind": "phone", "address": "+14155550103"} in c["customer"]["identities"]
    ]


def test_a_signed_sms_without_a_sender_is_acknowledged_and_kept_as_unsupported(stack):
    """Twilio would retry a 4xx/5xx for ever: the signed request is answered 200 and counted as unsupported."""
    answer = send_sms(stack, "MessageSid=SMx&Body=no+sender")
    assert answer.status == 200
    assert json.loads(answer.headers["x-shopdesk-outcome"])["unsupported"] == 1


def test_sms_and_whatsapp_from_one_number_are_one_conversation(stack):
    send_sms(
        stack,
        twilio_form(
            MessageSid="SMe2e00000000000000000000000000004",
            From="+14155550104",
            To="+14155550199",
            Body="by sms",
        ),
    )
    send_sms(
        stack,
        twilio_form(
            MessageSid="SMe2e00000000000000000000000000005",
            From="whatsapp:+14155550104",
            To="whatsapp:+14155550199",
            Body="by whatsapp",
        ),
    )
    agent, conv = stack.wait_for(lambda: owner_of(stack, "+14155550104"))
    detail = stack.wait_for(
        lambda: (d := conversation(stack, conv["id"], agent))
        and len([m for m in d["messages"] if m["direction"] == "inbound"]) == 2 and d
    )
    assert [(m["channel"], m["text"]) for m in detail["messages"] if m["direction"] == "inbound"] == [
        ("sms", "by sms"),
        ("whatsapp", "by whatsapp"),
    ]
    assert detail["channel"] == "whatsapp"
    stack.post(
        f"/agent/conversations/{conv['id']}/replies", json={"text": "on whatsapp"}, token=stack.token(agent)
    )
    sent = stack.wait_for(lambda: [r for r in twilio_outbox(stack) if r["form"].get("Body") == "on whatsapp"])
    assert sent[0]["form"]["To"] == "whatsapp:+14155550104"


def test_mms_media_is_kept_on_the_message(stack):
    body, _ = sample("twilio", "sms_inbound_mms_image")
    assert send_sms(stack, body).status == 200
    _, conv = stack.wait_for(lambda: owner_of(stack, "+12032572584"))
    [inbound] = [m for m in conversation(stack, conv["id"])["messages"] if m["direction"] == "inbound"]
    [attachment] = inbound["attachments"]
    assert attachment["content_type"] == "image/jpeg"
    assert attachment["url"] == urllib.parse.parse_qs(body)["MediaUrl0"][0]


def test_unanswered_conversation_is_flagged_once_and_announced(stack):
    send_sms(
        stack,
        twilio_form(
            MessageSid="SMe2e00000000000000000000000000006",
            From="+14155550106",
            To="+14155550199",
            Body="hello?",
        ),
    )
    _, conv = stack.wait_for(lambda: owner_of(stack, "+14155550106"))
    before = len([e for e in stack.events() if e["detail"].get("conversation_id") == conv["id"]])
    stack.advance(4 * 3600 + 5)  # past the normal-priority 4 h target
    stack.run_schedule("SlaSweepFunction")
    stack.run_schedule("SlaSweepFunction")  # a second sweep changes nothing
    detail = conversation(stack, conv["id"])
    assert detail["sla"]["breaches"] == ["first_response"]
    assert any(
        m["direction"] == "system" and "First response target missed" in m["text"] for m in detail["messages"]
    )
    events = stack.wait_for(
        lambda: [e for e in stack.events() if e["detail"].get("conversation_id") == conv["id"]]
    )
    assert len(events) - before == 1
    assert events[-1]["detail-type"] == "SlaBreached" and events[-1]["source"] == "shopdesk"


def test_provider_outage_is_retried_and_replies_stay_in_order(stack):
    send_sms(
        stack,
        twilio_form(
            MessageSid="SMe2e00000000000000000000000000007", From="+14155550107", To="+14155550199", Body="hi"
        ),
    )
    agent, conv = stack.wait_for(lambda: owner_of(stack, "+14155550107"))
    # the automatic acknowledgement goes first; let it through before the provider fails
    stack.wait_for(lambda: [r for r in twilio_outbox(stack) if r["form"].get("To") == "+14155550107"])
    assert (
        stack.post("/_local/sandbox/faults", json={"provider": "twilio", "status": 503, "times": 2}).status
        == 200
    )
    token = stack.token(agent)
    for text in ("first", "second"):
        stack.post(f"/agent/conversations/{conv['id']}/replies", json={"text": text}, token=token)

    def accepted():
        ok = [
            r["form"]["Body"]
            for r in stack.outbox()
            if r["provider"] == "twilio" and r["form"].get("Body") in ("first", "second")
            and r["response"]["status"] == 201
        ]
        return ok if len(ok) == 2 else None

    assert stack.wait_for(accepted, timeout=30) == ["first", "second"]
    attempts = [r["response"]["status"] for r in twilio_outbox(stack) if r["form"].get("Body") in ("first", "second")]
    assert attempts[:2] == [503, 503]


def test_permanently_refused_reply_is_failed_with_the_reason(stack):
    # Twilio's magic number +15005550001 is refused as an invalid 'To' (error 21211)
    send_sms(
        stack,
        twilio_form(
            MessageSid="SMe2e00000000000000000000000000008", From="+15005550001", To="+14155550199", Body="hi"
        ),
    )
    agent, conv = stack.wait_for(lambda: owner_of(stack, "+15005550001"))
    stack.post(f"/agent/conversations/{conv['id']}/replies", json={"text": "hello"}, token=stack.token(agent))

    def failed():
        out = replies(conversation(stack, conv["id"], agent))
        return out[0] if out and out[0]["status"] == "failed" else None

    out = stack.wait_for(failed)
    assert out["error"]["code"] == "21211" and "not a valid phone number" in out["error"]["message"]


def test_simultaneous_arrivals_never_exceed_capacity_and_waiters_get_the_freed_slot(stack):
    phones = [f"+1415556{i:04d}" for i in range(10)]
    bodies = [
        twilio_form(MessageSid=f"SMcap{i:029d}", From=p, To="+14155550199", Body="hi")
        for i, p in enumerate(phones)
    ]
    with ThreadPoolExecutor(max_workers=10) as pool:
        assert {a.status for a in pool.map(lambda b: send_sms(stack, b), bodies)} == {200}

    def settled():
        held = {a: mine(stack, a) for a in ("alice", "bob")}
        return held if sum(len(v) for v in held.values()) == 6 else None

    held = stack.wait_for(settled, timeout=30)
    assert {a: len(v) for a, v in held.items()} == {"alice": 3, "bob": 3}
    def queued():      # the last arrivals enter the queue once the router has classified them
        items = stack.get("/agent/conversations?view=unassigned", token=stack.token("alice")).json()["items"]
        return items if len(items) == 4 else None

    waiting = stack.wait_for(queued)
    oldest = min(waiting, key=lambda c: c["waiting_since"])
    me = stack.get("/agent/me", token=stack.token("alice")).json()
    assert me["active"] == 3 and me["capacity"] == 3
    # alice resolves one: the longest-waiting conversation is hers
    done = held["alice"][0]
    stack.post(
        f"/agent/conversations/{done['id']}/status", json={"status": "resolved"}, token=stack.token("alice")
    )
    stack.wait_for(lambda: any(c["id"] == oldest["id"] for c in mine(stack, "alice")))


def test_agent_api_refuses_requests_without_a_valid_token(stack):
    assert stack.get("/agent/conversations").status == 401
    assert stack.get("/agent/conversations", token="not.a.jwt").status == 401
    assert stack.get("/agent/openapi.json").status == 200


def test_provider_samples_replayed_byte_for_byte_with_their_own_signatures(samples_stack):
    """Twilio's real requests, signed for https://example.com with auth token 12345, replayed verbatim."""
    replay = samples_stack
    for name in ("sms_inbound_text", "whatsapp_inbound_text", "sms_inbound_mms_image",
                 "sms_status_undelivered_30003", "whatsapp_status_delivered"):
        body, meta = sample("twilio", name)
        path = urllib.parse.urlsplit(meta["signing"]["url"]).path
        headers = {"Content-Type": "application/x-www-form-urlencoded", **meta["http"]["headers"]}
        first = replay.post(path, data=body.encode(), headers=headers)
        again = replay.post(path, data=body.encode(), headers=headers)
        assert first.status == again.status == 200, (name, first.text)
        tampered = replay.post(path, data=body.replace("ApiVersion=2010-04-01", "ApiVersion=2010-04-02").encode(),
                               headers=headers)
        assert tampered.status == 403, name
    phones = {"+14133881111", "+31612345678", "+12032572584"}

    def twilio_conversations() -> list[dict] | None:
        # a conversation is in a team's list once the router has given it its team: wait for all three
        everything = replay.get("/agent/conversations?view=all&limit=100", token=replay.token("alice")).json()["items"]
        found = [c for c in everything if c["customer"]["identities"][0]["address"] in phones]
        return found if len(found) >= 3 else None

    twilio_convs = replay.wait_for(twilio_conversations)
    assert sorted(c["last_message_preview"] for c in twilio_convs) == sorted(["Msg", "test", "Test mms"])
    for conv in twilio_convs:
        detail = replay.get(f"/agent/conversations/{conv['id']}", token=replay.token("alice")).json()
        assert len([m for m in detail["messages"] if m["direction"] == "inbound"]) == 1


def test_a_method_the_api_has_no_route_for_is_404_json_as_api_gateway_answers(stack):
    token = stack.token("alice")
    for method in ("PATCH", "OPTIONS", "DELETE", "PUT", "TRACE", "PROPFIND"):
        for path in ("/agent/conversations", "/webhooks/twilio"):
            answer = stack.request(method, path, token=token, headers={"Origin": "http://localhost:5173"})
            assert (answer.status, answer.json()) == (404, {"message": "Not Found"}), (method, path)
            assert answer.headers["content-type"] == "application/json"
    assert stack.get("/agent/conversations", token=token).status == 200     # the routed method still answers


def test_the_apis_cors_is_api_gateways_for_the_inbox_and_the_widgets_own_for_the_shops_sites(stack):
    # The agent API's CorsConfiguration names the inbox's origin (the stack's own here): API Gateway answers
    # the preflight itself, and any other origin gets no CORS header, so its browser reads nothing
    inbox, elsewhere = stack.url, "http://localhost:5173"
    preflight = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}
    allowed = stack.request("OPTIONS", "/agent/conversations", headers={"Origin": inbox, **preflight})
    assert allowed.status == 204 and allowed.headers["access-control-allow-origin"] == inbox
    assert "authorization" in allowed.headers["access-control-allow-headers"]
    refused = stack.request("OPTIONS", "/agent/conversations", headers={"Origin": elsewhere, **preflight})
    assert refused.status == 204 and "access-control-allow-origin" not in refused.headers
    token = stack.token("alice")
    assert stack.get("/agent/me", token=token, headers={"Origin": inbox}).headers[
        "access-control-allow-origin"] == inbox
    assert "access-control-allow-origin" not in stack.get("/agent/me", token=token,
                                                          headers={"Origin": elsewhere}).headers
    # The widget's API has none: its function checks the shop's origins (subdomain wildcards included) itself
    shop = "http://localhost:8080"          # one of the local stack's WidgetAllowedOrigins
    widget = stack.request("OPTIONS", "/widget/sessions", headers={"Origin": shop,
                                                                   "Access-Control-Request-Method": "POST"})
    assert widget.status == 204 and widget.headers["access-control-allow-origin"] == shop
    assert stack.request("OPTIONS", "/widget/sessions", headers={"Origin": elsewhere,
                                                                 "Access-Control-Request-Method": "POST"}).status == 403
