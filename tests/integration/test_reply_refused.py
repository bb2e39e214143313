"""A person's reply the provider refused for good never reached the customer, so it is no first response: the
first-response target runs again with the due time it had (a breach, by the sweep as usual, once that passed), the
customer still waits, and the reports' first response is the first reply that was not refused. A reply that failed
but will be retried undoes nothing until it fails for good; a failed or undelivered receipt after the reply went out
is final. Played through the real handlers on moto (the dispatcher, the status webhook, the router, the sweep), and
through the table's stream, the lake and the reports API (tests/integration/test_analytics.py)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

from shopdesk import clock
from shopdesk.logic import refused
from shopdesk.logic.business_time import ConversationClocks
from tests.integration.helpers import STATUS_URL, agent, customer_writes, online, post_twilio
from tests.integration.test_bot_delivery import REFUSED, dispatch, period, reports, summary, sweep
from tests.support import FakeTwilio, twilio_form

TARGET = 4 * 3600           # the template's first-response target of a normal conversation


@pytest.fixture
def twilio():
    fake = FakeTwilio()
    yield fake
    fake.close()


def waiting(desk, phone: str, sid: str) -> str:
    """A customer's message, routed to alice: the first-response clock runs."""
    online(desk, "alice")
    conv = customer_writes(desk, phone, "Where is my parcel?", sid)
    desk.drain_queue(desk.work_queue_url, "router")
    return conv


def reply(desk, conv: str, text: str) -> None:
    status, body = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": text})
    assert status == 202, body


def shown(desk, conv: str) -> dict:
    status, body = agent(desk, "GET", f"/agent/conversations/{conv}", "alice")
    assert status == 200, body
    return body


def first_clock(desk, conv: str) -> dict:
    stored = ConversationClocks.model_validate_json(desk.item(f"CONV#{conv}")["clocks_json"])
    return stored.first_response.model_dump(mode="json")


def resolved_without_first_response(desk, conv: str, seen: dict) -> None:
    """A refused reply's conversation kept resolved, its first response taken back: none recorded, the target
    stopped unmeasured, nothing due, and no "first response lost" entry (nobody to tell: it is not reopened)."""
    assert seen["status"] == "resolved", seen["status"]
    assert seen["sla"]["first_response_at"] is None and seen["sla"]["first_response_due_at"] is None, seen["sla"]
    assert first_clock(desk, conv)["state"] == "stopped"
    assert desk.item(f"CONV#{conv}", "DEADLINE#first_response") is None
    assert not [m for m in seen["messages"] if (m.get("event") or {}).get("kind") == "first_response_lost"]


def replies(desk, conv: str) -> list[dict]:
    return [m for m in shown(desk, conv)["messages"] if m["direction"] == "outbound" and m["author"] == "alice"]


def route(desk) -> None:
    desk.drain_queue(desk.work_queue_url, "router")


def accepted(twilio, sid: str) -> None:
    twilio.script = [(201, {"sid": sid, "status": "queued"})]


def receipt(desk, sid: str, status: str, phone: str, error: str | None = None) -> None:
    fields = {"MessageSid": sid, "MessageStatus": status, "To": phone, "From": "+14155550100"}
    body = twilio_form(**fields, **({"ErrorCode": error} if error else {}))
    assert post_twilio(desk, body, url=STATUS_URL)["statusCode"] == 200


def test_the_only_reply_refused_for_good_leaves_the_first_response_running_and_the_sweep_breaches_it(desk, twilio):
    # Given a customer waiting, and alice's reply ten minutes later: the first response, met
    conv = waiting(desk, "+31650000301", "SMfr1")
    due = shown(desk, conv)["sla"]["first_response_due_at"]
    assert due is not None
    clock.set_offset(600)
    reply(desk, conv, "Checking with the carrier.")
    assert first_clock(desk, conv)["state"] == "met" and shown(desk, conv)["sla"]["first_response_at"]
    # When Twilio refuses it for good
    twilio.script = [REFUSED]
    dispatch(desk, twilio)
    route(desk)
    # Then the customer still waits for a first response: the target runs again with the due time it had
    [failed] = replies(desk, conv)
    assert failed["status"] == "failed"
    sla = shown(desk, conv)["sla"]
    assert sla["first_response_at"] is None and sla["first_response_due_at"] == due, sla
    assert first_clock(desk, conv)["state"] == "running"
    assert desk.item(f"CONV#{conv}", "DEADLINE#first_response") is not None
    assert desk.item(f"CONV#{conv}")["awaiting_since"]
    # and the inbox is told, on the timeline
    assert {"kind": "first_response_lost", "params": {}} in [
        m["event"] for m in shown(desk, conv)["messages"] if m["direction"] == "system"]
    # and once that passes with no answer, the sweep flags the breach as for any conversation
    clock.set_offset(TARGET + 120)
    sweep(desk)
    assert first_clock(desk, conv)["state"] == "breached"
    assert shown(desk, conv)["sla"]["breaches"] == ["first_response"]


def test_a_reply_reported_undelivered_after_it_was_sent_is_no_first_response_either(desk, twilio):
    # Given alice's reply, which Twilio took and reported sent
    conv = waiting(desk, "+31650000302", "SMfr2")
    clock.set_offset(300)
    reply(desk, conv, "It left our warehouse today.")
    sid = "SM" + "1" * 32
    accepted(twilio, sid)
    dispatch(desk, twilio)
    receipt(desk, sid, "sent", "+31650000302")
    assert first_clock(desk, conv)["state"] == "met"
    # When the carrier reports it undelivered after all
    receipt(desk, sid, "undelivered", "+31650000302", "30007")
    route(desk)
    # Then the failure is final: the customer still waits, the first-response target runs again
    assert [m["status"] for m in replies(desk, conv)] == ["undelivered"]
    assert shown(desk, conv)["sla"]["first_response_at"] is None
    assert first_clock(desk, conv)["state"] == "running"


def test_a_reply_that_failed_but_will_be_retried_undoes_nothing(desk, twilio):
    # Given alice's reply, which Twilio answers with a passing fault: it will be retried
    conv = waiting(desk, "+31650000303", "SMfr3")
    reply(desk, conv, "On its way.")
    twilio.script = [(503, {"code": 20503, "message": "Service unavailable"})]
    desk.drain_queue(desk.outbound_queue_url, "dispatcher", rounds=1, TWILIO_API_BASE_URL=twilio.url)
    route(desk)
    # Then it still is the first response until it fails for good
    [queued] = replies(desk, conv)
    assert queued["status"] != "failed" and "retried" in queued["error"]["message"]
    assert shown(desk, conv)["sla"]["first_response_at"] is not None
    assert first_clock(desk, conv)["state"] == "met"


def test_a_second_reply_delivered_later_is_the_first_response_in_the_clocks_and_the_reports(desk, twilio):
    # Given alice's first reply, refused for good ten minutes after the customer wrote
    conv = waiting(desk, "+31650000304", "SMfr4")
    clock.set_offset(600)
    reply(desk, conv, "Checking.")
    twilio.script = [REFUSED]
    dispatch(desk, twilio)
    route(desk)
    # When she replies again half an hour after the customer wrote, and that one is delivered
    clock.set_offset(1800)
    reply(desk, conv, "It arrives tomorrow.")
    sid = "SM" + "2" * 32
    accepted(twilio, sid)
    dispatch(desk, twilio)
    receipt(desk, sid, "delivered", "+31650000304")
    # Then that reply is the first response: the clock met there, the customer answered
    assert [m["status"] for m in replies(desk, conv)] == ["failed", "delivered"]
    met = first_clock(desk, conv)
    assert met["state"] == "met" and 1800 <= met["consumed_seconds"] < 1830, met
    # and the reports count one first response, of half an hour, one target met and none twice
    figures = summary(reports(desk))
    first = figures["first_response"]
    assert first["count"] == 1 and 1800 <= first["median_s"] < 1830, first
    lake = reports(desk)
    status, body = lake.report("/reports/metrics", f"metric=sla_compliance&{period()}")
    assert status == 200, body
    [target] = [i for i in body["items"] if i["target"] == "first_response"]
    assert (target["met"], target["breached"]) == (1, 0), target


def test_in_the_reports_a_refused_only_reply_is_no_first_response(desk, twilio):
    # Given alice's only reply, refused for good
    conv = waiting(desk, "+31650000305", "SMfr5")
    clock.set_offset(600)
    reply(desk, conv, "Checking.")
    twilio.script = [REFUSED]
    dispatch(desk, twilio)
    route(desk)
    # Then the reports have no first response, and no first-response target met
    lake = reports(desk)
    status, body = lake.report("/reports/metrics", f"metric=first_response&{period()}")
    assert status == 200, body
    assert body["items"] == [] or body["items"][0]["count"] == 0, body
    status, body = lake.report("/reports/metrics", f"metric=sla_compliance&{period()}")
    assert status == 200, body
    assert not [i for i in body["items"] if i["target"] == "first_response" and i["met"]], body


def test_a_reply_still_on_its_way_when_the_first_is_reported_undelivered_becomes_the_first_response(desk, twilio):
    # Given two replies of alice's, ten and twenty minutes after the customer wrote, both taken by Twilio
    conv = waiting(desk, "+31650000306", "SMfr6")
    clock.set_offset(600)
    reply(desk, conv, "Checking.")
    first_sid, second_sid = "SM" + "3" * 32, "SM" + "4" * 32
    accepted(twilio, first_sid)
    dispatch(desk, twilio)
    clock.set_offset(1200)
    reply(desk, conv, "It arrives tomorrow.")
    accepted(twilio, second_sid)
    dispatch(desk, twilio)
    # When the carrier reports the first undelivered
    clock.set_offset(1500)
    receipt(desk, first_sid, "undelivered", "+31650000306", "30007")
    route(desk)
    # Then the second, still on its way, is the first response: its time, the clock met there
    second = replies(desk, conv)[1]
    assert shown(desk, conv)["sla"]["first_response_at"] == second["created_at"]
    met = first_clock(desk, conv)
    assert met["state"] == "met" and 1200 <= met["consumed_seconds"] < 1230, met
    first = summary(reports(desk))["first_response"]
    assert first["count"] == 1 and 1200 <= first["median_s"] < 1230, first


def test_a_refused_reply_after_the_first_response_undoes_nothing(desk, twilio):
    # Given alice's first reply, delivered, then a second one refused for good
    conv = waiting(desk, "+31650000307", "SMfr7")
    clock.set_offset(600)
    reply(desk, conv, "Checking.")
    sid = "SM" + "5" * 32
    accepted(twilio, sid)
    dispatch(desk, twilio)
    receipt(desk, sid, "delivered", "+31650000307")
    clock.set_offset(900)
    reply(desk, conv, "More news soon.")
    twilio.script = [REFUSED]
    dispatch(desk, twilio)
    route(desk)
    # Then the first response stays the first reply's
    assert shown(desk, conv)["sla"]["first_response_at"] == replies(desk, conv)[0]["created_at"]
    assert first_clock(desk, conv)["state"] == "met"
    assert timedelta(seconds=first_clock(desk, conv)["consumed_seconds"]) < timedelta(seconds=630)


def _figures(out: str, name: str) -> list[dict]:
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{") and '"_aws"' in line]
    return [f for f in lines if name in f]


def test_a_reply_reported_undelivered_counts_once_as_failed_and_as_sent_then_undelivered(desk, twilio, capsys):
    # Given alice's reply, which Twilio took
    conv = waiting(desk, "+31650000308", "SMfr8")
    reply(desk, conv, "It left our warehouse today.")
    sid = "SM" + "6" * 32
    accepted(twilio, sid)
    capsys.readouterr()
    dispatch(desk, twilio)
    assert {f.get("provider") for f in _figures(capsys.readouterr().out, "RepliesSent")} == {"twilio", None}
    # When the carrier reports it undelivered, and the same receipt comes again
    receipt(desk, sid, "undelivered", "+31650000308", "30007")
    receipt(desk, sid, "undelivered", "+31650000308", "30007")
    # Then it counts once among the replies that failed, by provider and in all, and once as sent then undelivered
    out = capsys.readouterr().out
    assert sorted(str(f.get("provider")) for f in _figures(out, "RepliesFailed")) == ["None", "twilio"]
    assert len(_figures(out, "RepliesUndelivered")) == 1


def test_a_failed_receipt_whose_report_the_work_queue_refused_is_taken_back_by_the_sweep(desk, twilio, monkeypatch):
    # Given alice's only reply, which Twilio took: the first response
    conv = waiting(desk, "+31650000309", "SMfr9")
    clock.set_offset(600)
    reply(desk, conv, "It ships today.")
    sid = "SM" + "7" * 32
    accepted(twilio, sid)
    dispatch(desk, twilio)
    assert shown(desk, conv)["sla"]["first_response_at"]
    # When SQS refuses every message (the work queue and the ingest-retry queue) as its undelivered receipt comes
    app = desk.handler("inbound_twilio")

    def unavailable(*args, **kwargs):
        raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "try later"}}, "SendMessage")

    with monkeypatch.context() as patch:
        patch.setattr(app.processor.work, "send", unavailable)
        if app.retry_queue is not None:
            patch.setattr(app.retry_queue, "send", unavailable)
        receipt(desk, sid, "undelivered", "+31650000309", "30003")     # answered 200: nothing is lost
    route(desk)
    assert [m["status"] for m in replies(desk, conv)] == ["undelivered"]
    # Then the sweep's next run takes the first response back, though Twilio never sends that receipt again
    sweep(desk)
    sla = shown(desk, conv)["sla"]
    assert sla["first_response_at"] is None and sla["first_response_due_at"], sla
    assert first_clock(desk, conv)["state"] == "running"
    assert [m for m in shown(desk, conv)["messages"] if (m.get("event") or {}).get("kind") == "first_response_lost"]


@pytest.mark.parametrize("status", ["resolved", "pending"])
def test_a_conversation_set_aside_after_its_only_reply_is_open_again_when_that_reply_is_undelivered(desk, twilio,
                                                                                                   status):
    # Given alice's only reply, which Twilio took, and the conversation she then resolved (or set pending)
    conv = waiting(desk, "+31650000310", f"SMfr10{status}")
    due = shown(desk, conv)["sla"]["first_response_due_at"]
    clock.set_offset(600)
    reply(desk, conv, "It ships today.")
    sid = "SM" + ("8" if status == "resolved" else "9") * 32
    accepted(twilio, sid)
    dispatch(desk, twilio)
    status_code, body = agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": status})
    assert status_code == 200, body
    # When the carrier reports that reply undelivered
    clock.set_offset(900)
    receipt(desk, sid, "undelivered", "+31650000310", "30003")
    route(desk)
    # Then the customer, who got nothing, is waited on again: the conversation is open, the first response due as it was
    seen = shown(desk, conv)
    assert seen["status"] == "open", seen["status"]
    assert seen["sla"]["first_response_at"] is None and seen["sla"]["first_response_due_at"] == due, seen["sla"]
    assert first_clock(desk, conv)["state"] == "running"
    assert desk.item(f"CONV#{conv}", "DEADLINE#first_response") is not None
    assert {"kind": "first_response_lost", "params": {"reopened": status}} in [
        m["event"] for m in seen["messages"] if m["direction"] == "system"]
    # and someone works on it: alice still holds it, or, resolved, it waits in the team's queue, whose next drain
    # (the sweep's, each minute) assigns it
    if status == "resolved":
        assert desk.item(f"CONV#{conv}").get("QueuePK"), "not in the team's queue"
        sweep(desk)
        route(desk)
    assert shown(desk, conv)["assignee"] == "alice"
    # and once the due time passes unanswered, the sweep flags the breach
    clock.set_offset(TARGET + 120)
    sweep(desk)
    assert shown(desk, conv)["sla"]["breaches"] == ["first_response"]


def test_a_resolved_conversation_whose_customer_wrote_again_stays_resolved_without_the_lost_first_response(
        desk, twilio):
    # Given alice's only reply, which Twilio took, on a conversation she then resolved
    conv = waiting(desk, "+31650000313", "SMfr13")
    clock.set_offset(600)
    reply(desk, conv, "It ships today.")
    sid = "SM" + "b" * 32
    accepted(twilio, sid)
    dispatch(desk, twilio)
    assert agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "resolved"})[0] == 200
    # and the customer, who wrote again, now in a new conversation that holds their open slot
    clock.set_offset(1200)
    other = customer_writes(desk, "+31650000313", "Any news about my parcel?", "SMfr13b")
    route(desk)
    assert other != conv
    # When the carrier reports alice's reply undelivered
    clock.set_offset(1500)
    receipt(desk, sid, "undelivered", "+31650000313", "30003")
    route(desk)
    # Then the conversation stays resolved (its customer's request goes on in the open one), and that reply is no
    # first response of it: none recorded, the first-response target stopped unmeasured, nothing due
    seen = shown(desk, conv)
    resolved_without_first_response(desk, conv, seen)
    assert not desk.item(f"CONV#{conv}").get("awaiting_since")
    # and the open one is untouched: it keeps the slot
    assert shown(desk, other)["status"] == "open"
    assert desk.item("IDENTITY#phone#+31650000313")["open_conversation_id"] == other
    # and the reports count no first response and no first-response target met
    lake = reports(desk)
    assert summary(lake)["first_response"]["count"] == 0
    status, body = lake.report("/reports/metrics", f"metric=sla_compliance&{period()}")
    assert status == 200, body
    assert not [i for i in body["items"] if i["target"] == "first_response" and i["met"]], body


def test_a_resolved_conversation_whose_customer_has_one_open_on_another_channel_stays_resolved_too(desk, twilio):
    # Given one customer (two numbers, merged) with a conversation on each channel, SMS and WhatsApp, which alice
    # answered once and resolved (Twilio took each reply)
    sms, whatsapp = "+31650000314", "+31650000315"
    sids = {}
    for phone, channel, sid in ((sms, "sms", "SM" + "c" * 32), (whatsapp, "whatsapp", "SM" + "d" * 32)):
        online(desk, "alice")
        conv = customer_writes(desk, phone, "Where is my parcel?", f"SMfr14{channel}", channel=channel)
        route(desk)
        reply(desk, conv, "It ships today.")
        accepted(twilio, sid)
        dispatch(desk, twilio)
        assert agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "resolved"})[0] == 200
        sids[channel] = (conv, sid)
    (conv, sid), (other, other_sid) = sids["sms"], sids["whatsapp"]
    customer = desk.item(f"IDENTITY#phone#{sms}")["customer_id"]
    status, body = agent(desk, "POST", f"/agent/customers/{customer}/merge", "alice",
                         {"other_id": desk.item(f"IDENTITY#phone#{whatsapp}")["customer_id"], "reason": "same person"})
    assert status == 200, body
    # and the WhatsApp reply reported undelivered: that conversation is open again, the customer's one open one,
    # on all their channels
    clock.set_offset(900)
    receipt(desk, other_sid, "undelivered", "whatsapp:" + whatsapp, "30003")
    route(desk)
    assert shown(desk, other)["status"] == "open"
    # When the SMS reply is reported undelivered too
    clock.set_offset(1200)
    receipt(desk, sid, "undelivered", sms, "30003")
    route(desk)
    # Then the SMS conversation stays resolved, as when the open one is on its own channel, without that first
    # response: none recorded, the target stopped unmeasured, nothing due
    seen = shown(desk, conv)
    resolved_without_first_response(desk, conv, seen)
    # and the customer keeps one open conversation, the WhatsApp one, on both numbers
    assert shown(desk, other)["status"] == "open"
    for phone in (sms, whatsapp):
        assert desk.item(f"IDENTITY#phone#{phone}")["open_conversation_id"] == other, phone


def test_a_conversation_the_bot_resolved_stays_resolved_and_claims_no_first_response_due(desk, twilio):
    # Given alice's only reply, which Twilio took, on a conversation then resolved by the bot (its resolve, as stored)
    conv = waiting(desk, "+31650000311", "SMfr11")
    reply(desk, conv, "It ships today.")
    sid = "SM" + "a" * 32
    accepted(twilio, sid)
    dispatch(desk, twilio)
    assert agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "resolved"})[0] == 200
    desk.client("dynamodb").update_item(TableName=desk.table_name, Key={"PK": {"S": f"CONV#{conv}"},
                                        "SK": {"S": "META"}}, UpdateExpression="SET resolved_by = :bot",
                                        ExpressionAttributeValues={":bot": {"S": "bot"}})
    # When that reply is reported undelivered
    receipt(desk, sid, "undelivered", "+31650000311", "30003")
    route(desk)
    # Then it stays resolved, and nothing says a first response is due: nothing would run
    seen = shown(desk, conv)
    assert seen["status"] == "resolved"
    assert not [m for m in seen["messages"] if (m.get("event") or {}).get("kind") == "first_response_lost"]


@pytest.mark.parametrize("order", ["receipt_first", "send_first"])
def test_an_undelivered_reply_is_failed_counted_once_and_no_first_response_whichever_order_the_two_arrive_in(
        desk, twilio, capsys, order):
    # Given alice's only reply, the first response, which Twilio takes
    conv = waiting(desk, "+31650000312", f"SMfr12{order}")
    clock.set_offset(600)
    reply(desk, conv, "It ships today.")
    sid = "SM" + ("8" if order == "receipt_first" else "9") * 32
    accepted(twilio, sid)
    capsys.readouterr()
    # When the carrier's undelivered callback (without our reference: a number's or a Messaging Service's own
    # callback) comes before the dispatcher recorded the send, or after; and comes again
    if order == "receipt_first":
        receipt(desk, sid, "undelivered", "+31650000312", "30007")
        receipt(desk, sid, "undelivered", "+31650000312", "30007")
        dispatch(desk, twilio)
    else:
        dispatch(desk, twilio)
        receipt(desk, sid, "undelivered", "+31650000312", "30007")
        receipt(desk, sid, "undelivered", "+31650000312", "30007")
    route(desk)
    # Then the agent sees it undelivered, with the carrier's error
    [undelivered] = replies(desk, conv)
    assert undelivered["status"] == "undelivered" and undelivered["error"]["code"] == "30007"
    # and it counts once as sent, once as failed (by provider and in all) and once as sent then undelivered
    out = capsys.readouterr().out
    assert sorted(str(f.get("provider")) for f in _figures(out, "RepliesSent")) == ["None", "twilio"]
    assert sorted(str(f.get("provider")) for f in _figures(out, "RepliesFailed")) == ["None", "twilio"]
    assert len(_figures(out, "RepliesUndelivered")) == 1
    # and it is no first response: the customer still waits, the target runs again
    sla = shown(desk, conv)["sla"]
    assert sla["first_response_at"] is None and sla["first_response_due_at"], sla
    assert first_clock(desk, conv)["state"] == "running"


def test_a_resolved_conversation_whose_customer_s_identity_is_gone_stays_resolved_without_retrying(desk, twilio,
                                                                                                   monkeypatch):
    # Given alice's only reply, which Twilio took, on a conversation she then resolved
    phone = "+31650000316"
    conv = waiting(desk, phone, "SMfr16")
    clock.set_offset(600)
    reply(desk, conv, "It ships today.")
    sid = "SM" + "e" * 32
    accepted(twilio, sid)
    dispatch(desk, twilio)
    assert agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "resolved"})[0] == 200
    # and the customer's identity removed (an erase of them running: it deletes their items one batch at a time)
    desk.client("dynamodb").delete_item(TableName=desk.table_name,
                                        Key={"PK": {"S": f"IDENTITY#phone#{phone}"}, "SK": {"S": "META"}})
    said: list[tuple[str, str, dict]] = []
    for level in ("info", "warning"):
        monkeypatch.setattr(refused.logger, level,
                            lambda message, *, extra=None, level=level: said.append((level, message, extra or {})))
    # When the carrier reports alice's reply undelivered
    clock.set_offset(900)
    receipt(desk, sid, "undelivered", phone, "30003")
    route(desk)
    # Then the conversation stays resolved (no slot to take back), and that reply is no first response of it: none
    # recorded, the first-response target stopped unmeasured, nothing due, nobody waiting
    item = desk.item(f"CONV#{conv}")
    assert item["status"] == "resolved", item["status"]
    assert not (item.get("sla") or {}).get("first_response_at"), item.get("sla")
    assert first_clock(desk, conv)["state"] == "stopped"
    assert desk.item(f"CONV#{conv}", "DEADLINE#first_response") is None
    assert not item.get("awaiting_since")
    # and at once, not retrying a condition that cannot hold: no "clocks kept changing", a line saying why, ids only
    assert not [s for s in said if "clocks kept changing" in s[1]], said
    gone = [s for s in said if "an identity of its customer is gone" in s[1]]
    assert [(level, extra["conversation_id"]) for level, _, extra in gone] == [("info", conv)], said
    assert phone.removeprefix("+") not in json.dumps(said)
