"""One customer across every channel, through the real handlers on moto: links on evidence the customer
controls, duplicates suggested with their evidence, merge with one action, unmerge that restores both sides
exactly, and the shared email that must not merge two people."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from shopdesk import clock
from shopdesk.channels import webchat
from shopdesk.dal.customers import Customers
from shopdesk.dal.queues import Queue
from shopdesk.dal.table import Table
from shopdesk.logic.merge import Merger
from tests.integration.helpers import agent, customer_writes, online, route_records, teams
from tests.integration.test_admin_api import admin_call
from tests.integration.test_email import _deliver, _eml
from tests.integration.test_widget import _call as _widget
from tests.integration.test_widget import _session
from tests.support import http_event, ses_recipients

PHONE, EMAIL, IGSID = "+31612345678", "anna@example.com", "17841400000000001"


def _instagram(desk, igsid: str, text: str, mid: str) -> str:
    body = json.dumps({"object": "instagram", "entry": [{"id": "1234567890", "time": 1764000000000, "messaging": [
        {"sender": {"id": igsid}, "recipient": {"id": "1234567890"}, "timestamp": 1764000000000,
         "message": {"mid": mid, "text": text}}]}]})
    signature = "sha256=" + hmac.new(b"test_app_secret", body.encode(), hashlib.sha256).hexdigest()
    result = desk.invoke("inbound_instagram", http_event("POST", "/webhooks/instagram", body, {
        "content-type": "application/json", "x-hub-signature-256": signature}))
    assert result["statusCode"] == 200, result
    return desk.item(f"IDENTITY#instagram#{igsid}")["open_conversation_id"]


def _email(desk, sender: str, body: str, key: str) -> None:
    result = _deliver(desk, _eml(sender=sender, body=body, message_id=f"<{key}@customer.example>"), key)
    assert not (result or {}).get("batchItemFailures"), result


def _customer_id(desk, kind: str, address: str) -> str:
    return desk.item(f"IDENTITY#{kind}#{address}")["customer_id"]


def _merger(desk) -> Merger:
    return Merger(Customers(Table(desk.table_name)))


def _get(desk, customer_id: str, who: str = "alice", groups: str | None = None) -> tuple[int, Any]:
    return agent(desk, "GET", f"/agent/customers/{customer_id}", who, groups=groups)


def _snapshot(desk, *customer_ids: str) -> dict[str, Any]:
    """Everything a merge touches: customers, their identities, their conversations' items."""
    found: dict[str, Any] = {}
    for customer_id in customer_ids:
        record = desk.item(f"CUSTOMER#{customer_id}")
        found[f"CUSTOMER#{customer_id}"] = record
        for ident in record["identities"]:
            key = f"IDENTITY#{ident['kind']}#{ident['address']}"
            found[key] = desk.item(key)
        rows = desk.client("dynamodb").query(
            TableName=desk.table_name, IndexName="ByCustomer", KeyConditionExpression="CustomerPK = :pk",
            ExpressionAttributeValues={":pk": {"S": f"CUSTOMER#{customer_id}"}})["Items"]
        for row in rows:
            pk = row["PK"]["S"]
            item = desk.item(pk)
            found[pk] = {k: v for k, v in item.items() if k not in ("updated_at", "StatusSK", "InboxSK")}
    return found


def test_sms_email_on_the_shop_record_and_instagram_after_a_merge_are_one_customer_and_unmerge_restores(desk):
    # Given a customer who writes by SMS
    sms_conv = customer_writes(desk, PHONE, "Hi, where is my parcel?", "SMid1")
    anna = _customer_id(desk, "phone", PHONE)
    # and whose shop record carries her email and her phone as she typed it at checkout (national format):
    # evidence for an agent, not a link (anyone can type anyone's phone at a checkout)
    from shopdesk.phone import to_e164
    outcome = _merger(desk).link_shop_record(EMAIL, to_e164("06 12345678", "NL"), order="#1001")
    assert outcome.outcome == "suggested" and outcome.customer_id == anna
    assert desk.item(f"IDENTITY#email#{EMAIL}") is None
    # When she writes by email from that address
    _email(desk, "Anna <Anna@Example.com>", "Any news on my order?", "e1")
    mail = _customer_id(desk, "email", EMAIL)
    email_conv = desk.item(f"IDENTITY#email#{EMAIL}")["open_conversation_id"]
    assert mail != anna and email_conv != sms_conv
    # Then an agent is shown the two as likely one person, the order as the evidence, and merges them
    [dup] = agent(desk, "GET", f"/agent/customers/{anna}/duplicates", "alice")[1]["items"]
    assert dup["customer"]["id"] == mail and dup["evidence"][0]["order"] == "#1001"
    status, merged = agent(desk, "POST", f"/agent/customers/{anna}/merge", "alice",
                           {"other_id": mail, "reason": "her order gives both"})
    assert status == 200, merged
    # When she writes on Instagram (a stranger to us), and an agent merges the two with one action
    ig_conv = _instagram(desk, IGSID, "hello from insta", "mid.1")
    stranger = _customer_id(desk, "instagram", IGSID)
    assert stranger != anna and ig_conv != sms_conv
    status, merge = agent(desk, "POST", f"/agent/customers/{anna}/merge", "alice",
                          {"other_id": stranger, "reason": "she said so on Instagram"})
    assert status == 200, merge
    assert merge["conversations_moved"] == [ig_conv] and merge["identities_moved"] == [f"instagram#{IGSID}"]
    # Then she is one customer with one history across SMS, email and Instagram
    status, body = _get(desk, anna)
    assert status == 200, body
    assert {(i["kind"], i["address"]) for i in body["identities"]} == {
        ("phone", PHONE), ("email", EMAIL), ("instagram", IGSID)}
    assert {c["id"] for c in body["conversations"]} == {sms_conv, email_conv, ig_conv}
    assert all(c["customer"]["id"] == anna for c in body["conversations"])
    assert [e["kind"] for e in body["timeline"]] == ["merged", "merged"]
    assert body["timeline"][0]["by"] == "alice" and body["timeline"][0]["reason"] == "she said so on Instagram"
    assert body["orders"] == []
    assert set(body["attributes"]["channels"]) >= {"instagram"} and body["attributes"]["customer_since"]
    status, conv = agent(desk, "GET", f"/agent/conversations/{ig_conv}", "alice")
    assert conv["customer"]["id"] == anna
    # and her next Instagram message lands in her one open conversation, and the reply goes back there
    assert _instagram(desk, IGSID, "still waiting", "mid.2") == sms_conv
    status, conv = agent(desk, "GET", f"/agent/conversations/{sms_conv}", "alice")
    # (the email's conversation, open when the first merge was made, went into it then: its channel too)
    assert conv["channel"] == "instagram" and conv["channels"] == ["email", "instagram", "sms"]
    # When the agent undoes the merge
    status, undone = agent(desk, "POST", f"/agent/customers/{anna}/unmerge", "alice",
                           {"merge_id": merge["id"], "reason": "not the same person"})
    assert status == 200 and undone["status"] == "unmerged", undone
    # Then each is on their own again, and both timelines say who did what and why
    assert _customer_id(desk, "instagram", IGSID) == stranger
    assert {c["id"] for c in _get(desk, anna)[1]["conversations"]} == {sms_conv, email_conv}
    other = _get(desk, stranger)[1]
    assert {c["id"] for c in other["conversations"]} == {ig_conv} and other["merged_into"] is None
    assert [e["kind"] for e in other["timeline"]] == ["unmerged", "merged_into"]
    assert other["timeline"][0]["reason"] == "not the same person"
    # and a second undo is refused
    assert agent(desk, "POST", f"/agent/customers/{anna}/unmerge", "alice", {"merge_id": merge["id"]})[0] == 409


def test_a_customers_timeline_names_the_other_customer_while_they_are_one(desk):
    # Given an SMS customer and Dana by email, merged
    customer_writes(desk, "+31666000444", "hi", "SMnm1")
    _email(desk, "Dana Rivera <dana.r@example.com>", "hello", "e-nm")
    a, b = _customer_id(desk, "phone", "+31666000444"), _customer_id(desk, "email", "dana.r@example.com")
    status, merged = agent(desk, "POST", f"/agent/customers/{a}/merge", "alice", {"other_id": b, "reason": "same"})
    assert status == 200, merged
    # Then the survivor's timeline names her, and hers names the survivor's (who now bears her name too)
    assert [(e["kind"], e["other_name"]) for e in _get(desk, a)[1]["timeline"]] == [("merged", "Dana Rivera")]
    assert [(e["kind"], e["other_name"]) for e in _get(desk, b)[1]["timeline"]] == [("merged_into", "Dana Rivera")]
    # When the merge is undone, they are two customers again: named by id, as any other customer is
    assert agent(desk, "POST", f"/agent/customers/{a}/unmerge", "alice", {"merge_id": merged["id"]})[0] == 200
    assert all(e.get("other_name") is None for e in _get(desk, a)[1]["timeline"])


def test_unmerge_restores_both_customers_exactly(desk):
    # Given two customers, each with an open conversation, one on two channels
    first = customer_writes(desk, "+31611000001", "one", "SMx1")
    a = _customer_id(desk, "phone", "+31611000001")
    _merger(desk).link_shop_record("one@example.com", "+31611000001")
    second = _instagram(desk, "17841400000000777", "two", "mid.x")
    b = _customer_id(desk, "instagram", "17841400000000777")
    route_records(desk)
    before = _snapshot(desk, a, b)
    # When they are merged, then unmerged
    status, merge = agent(desk, "POST", f"/agent/customers/{a}/merge", "alice", {"other_id": b, "reason": "test"})
    assert status == 200, merge
    merged = _snapshot(desk, a)
    assert merged[f"CONV#{second}"]["customer"]["id"] == a
    assert merged["IDENTITY#instagram#17841400000000777"]["open_conversation_id"] == first
    assert desk.item(f"CUSTOMER#{b}")["merged_into"] == a
    status, _ = agent(desk, "POST", f"/agent/customers/{a}/unmerge", "alice", {"merge_id": merge["id"]})
    assert status == 200
    # Then every identity, customer record and conversation is as it was; the one that went into the other at
    # the merge (both were open) is open again, waiting in its team's queue with fresh clocks, as a reopen is; the
    # survivor's clocks keep what they counted while its customer waited there for the other's answer
    after = _snapshot(desk, a, b)
    reopened = {"cycle_started_at", "QueuePK", "QueueSK", "waiting_since", "sla", "clocks_json", "clocks_version",
                "awaiting_since", "changed_by"}
    assert after[f"CONV#{second}"]["status"] == "open" and after[f"CONV#{second}"]["QueuePK"] == "QUEUE#default"
    for snapshot in (before, after):
        snapshot[f"CONV#{second}"] = {k: v for k, v in snapshot[f"CONV#{second}"].items() if k not in reopened}
        snapshot[f"CONV#{first}"] = {k: v for k, v in snapshot[f"CONV#{first}"].items()
                                     if k not in ("sla", "clocks_json", "clocks_version")}
    assert after == before


def test_an_unmerge_whose_drain_the_queue_refuses_is_done_and_its_conversation_waits_in_its_team_s_queue(
        desk, monkeypatch):
    # Given two customers, each with an open conversation, merged (the second's conversation went into the first's)
    first = customer_writes(desk, "+31611000011", "one", "SMu1")
    a = _customer_id(desk, "phone", "+31611000011")
    second = _instagram(desk, "17841400000000788", "two", "mid.u")
    b = _customer_id(desk, "instagram", "17841400000000788")
    route_records(desk)
    status, merge = agent(desk, "POST", f"/agent/customers/{a}/merge", "alice", {"other_id": b, "reason": "test"})
    assert status == 200, merge
    # When they are unmerged while the work queue refuses every send
    tried: list[dict[str, Any]] = []

    def refuse(self: Queue, body: Any, *, group: str, dedup_id: str) -> None:
        tried.append(dict(body))
        raise ClientError({"Error": {"Code": "InternalError", "Message": "SQS is down"}}, "SendMessage")

    monkeypatch.setattr(Queue, "send", refuse)
    status, undone = agent(desk, "POST", f"/agent/customers/{a}/unmerge", "alice", {"merge_id": merge["id"]})
    # Then the unmerge is done and answered so (its drain was tried, refused, and left to the sweep's drain of every
    # team), not a 5xx after it was stored; the conversation is open again in its team's queue for that drain
    assert status == 200 and undone["status"] == "unmerged", undone
    assert [w.get("reason") for w in tried] == ["unmerged"]
    conv = desk.item(f"CONV#{second}")
    assert conv["status"] == "open" and conv["QueuePK"] == "QUEUE#default"
    assert desk.item(f"CONV#{first}")["status"] == "open"


def test_a_shared_email_in_the_shop_records_is_suggested_never_merged(desk):
    # Given a customer known by phone and by the family email (an agent merged the two)
    customer_writes(desk, "+31622000001", "hi, it's Mum", "SMf1")
    mum = _customer_id(desk, "phone", "+31622000001")
    _email(desk, "Mum <family@example.com>", "it's Mum again", "e-mum")
    assert agent(desk, "POST", f"/agent/customers/{mum}/merge", "alice",
                 {"other_id": _customer_id(desk, "email", "family@example.com"), "reason": "she said so"})[0] == 200
    assert _merger(desk).link_shop_record("family@example.com", "+31622000001").outcome == "already"
    # and her son, who writes from his own phone
    customer_writes(desk, "+31622000002", "hi, it's Tom", "SMf2")
    son = _customer_id(desk, "phone", "+31622000002")
    # When the son's order carries the same family email with his own phone
    outcome = _merger(desk).link_shop_record("family@example.com", "+31622000002", order="#2002")
    # Then nothing is linked or merged: each keeps their own identities and history
    assert outcome.outcome == "suggested"
    assert _customer_id(desk, "phone", "+31622000002") == son
    assert _customer_id(desk, "email", "family@example.com") == mum
    assert desk.item(f"CUSTOMER#{son}").get("merged_into") is None
    # and an agent sees the suggestion with the order as its evidence, from either side
    status, body = agent(desk, "GET", f"/agent/customers/{mum}/duplicates", "alice")
    assert status == 200, body
    [dup] = body["items"]
    assert dup["customer"]["id"] == son
    assert dup["evidence"][0]["source"] == "order" and dup["evidence"][0]["order"] == "#2002"
    [dup] = agent(desk, "GET", f"/agent/customers/{son}/duplicates", "alice")[1]["items"]
    assert dup["customer"]["id"] == mum
    # and a phone the shop record gives for an unknown person is not linked to the email's customer either
    assert _merger(desk).link_shop_record("family@example.com", "+31622000003").outcome == "suggested"
    assert desk.item("IDENTITY#phone#+31622000003") is None


def test_an_address_written_in_a_message_is_evidence_for_agents_not_a_link(desk):
    # Given a customer known by email, and another who writes by SMS giving that address and a national number
    _email(desk, "Bo <bo@example.com>", "hello", "e-bo")
    bo = _customer_id(desk, "email", "bo@example.com")
    customer_writes(desk, "+31633000001", "It's me, Bo: bo@example.com, or call 06 3300 0002", "SMe1")
    desk.drain_queue(desk.work_queue_url, "router")
    sms = _customer_id(desk, "phone", "+31633000001")
    # Then nothing is linked
    assert sms != bo and _customer_id(desk, "email", "bo@example.com") == bo
    # and each sees the other as a likely duplicate, with the message as evidence
    [dup] = agent(desk, "GET", f"/agent/customers/{sms}/duplicates", "alice")[1]["items"]
    assert dup["customer"]["id"] == bo
    assert dup["evidence"][0]["source"] == "message" and dup["evidence"][0]["address"] == "bo@example.com"
    assert "bo@example.com" in dup["evidence"][0]["why"]
    [dup] = agent(desk, "GET", f"/agent/customers/{bo}/duplicates", "alice")[1]["items"]
    assert dup["customer"]["id"] == sms
    # and the national number was read as Dutch (DEFAULT_PHONE_REGION)
    assert desk.item(f"CUSTOMER#{sms}", "SEEN#phone#+31633000002") is not None


def test_customers_follow_the_access_rules(desk):
    # Given a customer whose only conversation is in the default team, and an agent of another team
    customer_writes(desk, "+31644000001", "hello", "SMa1")
    customer = _customer_id(desk, "phone", "+31644000001")
    assert agent(desk, "GET", "/agent/me", "zoe")[0] == 200          # signs in
    teams(desk, "billing")
    status, body = admin_call(desk, "PUT", "/admin/agents/zoe", "[admins]", {"teams": ["billing"], "capacity": 3})
    assert status == 200, body
    # Then the other team's agent gets the same 404 as for a customer that does not exist
    missing = _get(desk, "u_missing", "zoe")
    hidden = _get(desk, customer, "zoe")
    assert hidden == (404, {"type": "/problems/not-found", "title": "Not found", "status": 404,
                            "detail": f"customer {customer} does not exist"}), hidden
    assert missing == (404, {**hidden[1], "detail": "customer u_missing does not exist"}), missing
    # and cannot merge it into anyone, while a default-team agent and an admin see it
    other = _instagram(desk, "17841400000000999", "hi", "mid.z")
    other_customer = desk.item(f"CONV#{other}")["customer"]["id"]
    assert agent(desk, "POST", f"/agent/customers/{other_customer}/merge", "zoe",
                 {"other_id": customer, "reason": "x"})[0] == 404
    assert _get(desk, customer, "alice")[0] == 200
    assert _get(desk, customer, "zoe", groups="[admins]")[0] == 200


def test_a_merge_the_caller_may_not_see_answers_like_a_missing_one_and_the_trail_says_it_was_hidden(desk):
    # Given zoe of billing with a customer of her own, and two customers of the default team an agent merged
    teams(desk, "billing")
    assert agent(desk, "GET", "/agent/me", "zoe")[0] == 200
    assert admin_call(desk, "PUT", "/admin/agents/zoe", "[admins]", {"teams": ["billing"], "capacity": 3})[0] == 200
    hers = customer_writes(desk, "+31644000201", "my invoice", "SMh1")
    assert agent(desk, "PUT", f"/agent/conversations/{hers}/routing", "root", {"team": "billing"},
                 groups="[admins]")[0] == 200
    own = _customer_id(desk, "phone", "+31644000201")
    customer_writes(desk, "+31644000202", "hello", "SMh2")
    _instagram(desk, "17841400000000202", "hi", "mid.h2")
    a, b = _customer_id(desk, "phone", "+31644000202"), _customer_id(desk, "instagram", "17841400000000202")
    status, theirs = agent(desk, "POST", f"/agent/customers/{a}/merge", "alice", {"other_id": b, "reason": "same"})
    assert status == 200, theirs
    # and a merge of her customer with one of the default team's, undone since
    other = customer_writes(desk, "+31644000203", "hello", "SMh3")
    c = _customer_id(desk, "phone", "+31644000203")
    status, undone = agent(desk, "POST", f"/agent/customers/{own}/merge", "root", {"other_id": c, "reason": "same"},
                           groups="[admins]")
    assert status == 200, undone
    assert agent(desk, "POST", f"/agent/customers/{own}/unmerge", "root", {"merge_id": undone["id"]},
                 groups="[admins]")[0] == 200
    assert agent(desk, "GET", f"/agent/conversations/{other}", "zoe")[0] == 404
    before = _snapshot(desk, own, a, b, c)
    # When zoe undoes each of them on her own customer, and a merge that does not exist
    missing = "mg_01MISSING0000000000000000"
    answers = {merge: agent(desk, "POST", f"/agent/customers/{own}/unmerge", "zoe", {"merge_id": merge})
               for merge in (theirs["id"], undone["id"], missing)}
    # Then each answers as the missing one, naming nobody she may not see
    for merge, (status, body) in answers.items():
        assert (status, json.dumps(body).replace(merge, "<id>")) == (
            404, json.dumps(answers[missing][1]).replace(missing, "<id>")), body
        assert body["detail"] == f"merge {merge} of customer {own} does not exist"
    assert _snapshot(desk, own, a, b, c) == before
    # and the trail has a denied record of each merge she may not see, filed under the customers hidden from her,
    # while the missing one is no access attempt (as a missing label is not)
    status, found = admin_call(desk, "GET", "/admin/audit", "[admins]", query="actor=zoe&outcome=denied")
    assert status == 200, found
    records = [r for r in found["items"] if r["action"] == "POST /agent/customers/<customer_id>/unmerge"]
    assert {(r["customer_id"], r["reason"], r["status"]) for r in records} == {
        (own, "not_visible", 404), (a, "not_visible", 404), (c, "not_visible", 404)} and len(records) == 4


def test_an_agent_may_not_undo_a_merge_that_joined_a_customer_of_another_team_they_may_not_see(desk):
    # Given a customer of the default team (SMS) and one of returns (WhatsApp) an admin merged into them: the
    # survivor's history holds the returns conversation now, which alice (default) still may not open
    teams(desk, "returns")
    ours = customer_writes(desk, "+31644000301", "hi, my whatsapp is +31644000302", "SMu1")
    theirs = customer_writes(desk, "+31644000302", "a private returns question", "SMu2", channel="whatsapp")
    assert agent(desk, "PUT", f"/agent/conversations/{theirs}/routing", "root", {"team": "returns"},
                 groups="[admins]")[0] == 200
    a, b = _customer_id(desk, "phone", "+31644000301"), _customer_id(desk, "phone", "+31644000302")
    assert a != b and _get(desk, b, "alice")[0] == 404
    status, merge = agent(desk, "POST", f"/agent/customers/{a}/merge", "root", {"other_id": b, "reason": "same"},
                          groups="[admins]")
    assert status == 200, merge
    assert agent(desk, "GET", f"/agent/conversations/{theirs}", "alice")[0] == 404
    assert agent(desk, "GET", f"/agent/conversations/{ours}", "alice")[0] == 200
    before = _snapshot(desk, a, b)
    # When alice undoes the merge on the survivor, and on the customer merged into it
    missing = "mg_01MISSING0000000000000000"
    answers = {(customer, m): agent(desk, "POST", f"/agent/customers/{customer}/unmerge", "alice",
                                    {"merge_id": m, "reason": "not the same"})
               for customer in (a, b) for m in (merge["id"], missing)}
    # Then each answers exactly as a merge that does not exist, naming neither the other customer nor their
    # conversation, and nothing changes
    for (customer, m), (status, body) in answers.items():
        assert (status, json.dumps(body).replace(m, "<id>")) == (
            404, json.dumps(answers[(customer, missing)][1]).replace(missing, "<id>")), body
        assert body["detail"] == f"merge {m} of customer {customer} does not exist"
        assert theirs not in json.dumps(body)
    assert _snapshot(desk, a, b) == before
    assert desk.item(f"MERGE#{merge['id']}")["status"] == "merged"
    # and the trail has a denied record of each attempt on the merge, filed under the customer hidden from her (and
    # the one the request named), while the missing one is no access attempt
    status, found = admin_call(desk, "GET", "/admin/audit", "[admins]", query="actor=alice&outcome=denied")
    assert status == 200, found
    records = [r for r in found["items"] if r["action"] == "POST /agent/customers/<customer_id>/unmerge"]
    assert sorted((r["customer_id"], r["reason"], r["status"]) for r in records) == sorted(
        [(a, "not_visible", 404), (b, "not_visible", 404), (b, "not_visible", 404)]), records
    # while an admin, who may see both, undoes it
    status, done = agent(desk, "POST", f"/agent/customers/{a}/unmerge", "root", {"merge_id": merge["id"]},
                         groups="[admins]")
    assert status == 200 and done["status"] == "unmerged", done


@pytest.mark.parametrize(("body", "status"), [
    ({"other_id": "", "reason": "x"}, 422),
    ({"other_id": "u_x"}, 422),
    ({"reason": "x"}, 422),
])
def test_bad_merge_requests_are_refused_and_change_nothing(desk, body, status):
    customer_writes(desk, "+31655000001", "hello", "SMb1")
    route_records(desk)
    customer = _customer_id(desk, "phone", "+31655000001")
    before = _snapshot(desk, customer)
    assert agent(desk, "POST", f"/agent/customers/{customer}/merge", "alice", body)[0] == status
    assert agent(desk, "POST", f"/agent/customers/{customer}/merge", "alice",
                 {"other_id": customer, "reason": "self"})[0] == 400
    assert agent(desk, "POST", f"/agent/customers/{customer}/merge", "alice",
                 {"other_id": "u_nobody", "reason": "x"})[0] == 404
    assert _snapshot(desk, customer) == before


def test_resolving_after_a_merge_frees_every_channel_and_the_next_message_opens_one_conversation(desk):
    # Given a merged customer (SMS + Instagram) with one open conversation
    conv = customer_writes(desk, "+31666000001", "hello", "SMr1")
    a = _customer_id(desk, "phone", "+31666000001")
    ig = _instagram(desk, "17841400000000555", "hi", "mid.r1")
    b = _customer_id(desk, "instagram", "17841400000000555")
    assert agent(desk, "POST", f"/agent/conversations/{ig}/status", "alice", {"status": "resolved"})[0] == 200
    assert agent(desk, "POST", f"/agent/customers/{a}/merge", "alice", {"other_id": b, "reason": "same"})[0] == 200
    # When the agent resolves the open conversation
    status, body = agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "resolved"})
    assert status == 200, body
    # Then no channel holds it any more, and the next message on either opens one new conversation for both
    assert "open_conversation_id" not in desk.item("IDENTITY#instagram#17841400000000555")
    new = _instagram(desk, "17841400000000555", "me again", "mid.r2")
    assert new not in (conv, ig)
    assert desk.item("IDENTITY#phone#+31666000001")["open_conversation_id"] == new
    assert customer_writes(desk, "+31666000001", "and by sms", "SMr2") == new
    # and reopening the old one is refused while the new one is open (one open conversation per customer)
    assert agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "open"})[0] == 409


def test_a_waiting_customer_merged_into_a_snoozed_conversation_wakes_it_and_the_merge_names_them(desk):
    online(desk, "alice")
    # Given an SMS customer whose conversation an agent snoozed, and an email from the same person, unanswered
    sms_conv = customer_writes(desk, "+31666000333", "my parcel?", "SMw1")
    desk.drain_queue(desk.work_queue_url, "router")
    until = clock.iso(clock.now() + timedelta(hours=4))
    status, snoozed = agent(desk, "POST", f"/agent/conversations/{sms_conv}/status", "alice",
                            {"status": "snoozed", "until": until})
    assert status == 200 and snoozed["status"] == "snoozed", snoozed
    _email(desk, "Dana Rivera <dana.rivera@example.com>", "Still nothing, where is it?", "e-wake")
    mail_conv = desk.item("IDENTITY#email#dana.rivera@example.com")["open_conversation_id"]
    desk.drain_queue(desk.work_queue_url, "router")
    a, b = _customer_id(desk, "phone", "+31666000333"), _customer_id(desk, "email", "dana.rivera@example.com")
    # When an agent merges the email customer into the SMS one
    status, merged = agent(desk, "POST", f"/agent/customers/{a}/merge", "alice", {"other_id": b, "reason": "same"})
    assert status == 200, merged
    # Then the snoozed conversation is open again, the customer's question is on its clocks, and it bears her name
    status, conv = agent(desk, "GET", f"/agent/conversations/{sms_conv}", "alice")
    assert conv["status"] == "open" and "Still nothing, where is it?" in [m["text"] for m in conv["messages"]]
    assert conv["customer"]["name"] == "Dana Rivera" and conv["sla"]["paused"] is False
    assert desk.item("IDENTITY#phone#+31666000333")["customer_name"] == "Dana Rivera"
    # and shows what was written in the email's conversation, not its system entries (its own assignment, clocks)
    its_system = {m["id"] for m in agent(desk, "GET", f"/agent/conversations/{mail_conv}", "alice")[1]["messages"]
                  if m["direction"] == "system"}
    assert its_system and not its_system & {m["id"] for m in conv["messages"]}
    # When the merge is undone, the name it gave goes with it
    status, _ = agent(desk, "POST", f"/agent/customers/{a}/unmerge", "alice", {"merge_id": merged["id"]})
    assert status == 200
    assert not agent(desk, "GET", f"/agent/conversations/{sms_conv}", "alice")[1]["customer"].get("name")
    assert "customer_name" not in desk.item("IDENTITY#phone#+31666000333")


def test_open_conversations_of_two_teams_stay_apart_when_their_customers_are_merged(desk):
    # Given two customers with an open conversation each, one moved to billing by a supervisor
    teams(desk, "billing")
    sms_conv = customer_writes(desk, "+31666000099", "my parcel?", "SMt1")
    ig_conv = _instagram(desk, "17841400000000999", "my invoice is wrong", "mid.t1")
    assert agent(desk, "PUT", f"/agent/conversations/{ig_conv}/routing", "lead", {"team": "billing"},
                 groups="[supervisors]")[0] == 200
    a, b = _customer_id(desk, "phone", "+31666000099"), _customer_id(desk, "instagram", "17841400000000999")
    # When an admin merges the customers
    status, merged = agent(desk, "POST", f"/agent/customers/{a}/merge", "root", {"other_id": b, "reason": "same"},
                           groups="[admins]")
    assert status == 200, merged
    # Then each conversation stays its team's: the default team's shows nothing of billing's, which stays open
    status, conv = agent(desk, "GET", f"/agent/conversations/{sms_conv}", "alice")
    assert "my invoice is wrong" not in [m["text"] for m in conv["messages"]] and conv["channels"] == ["sms"]
    assert desk.item(f"CONV#{ig_conv}")["status"] == "open" and "folded_into" not in desk.item(f"CONV#{ig_conv}")
    assert merged.get("folded") is None and desk.item(f"MERGE#{merged['id']}")["merge"].get("folded") is None


def test_a_merged_conversation_shows_its_messages_only_to_whom_may_open_it_and_the_audit_names_both(desk):
    # Given carol of billing, granted one default conversation by a mention, and another of the same team she
    # may not open, of a customer an agent merges into the first's
    teams(desk, "billing")
    online(desk, "carol")
    assert admin_call(desk, "PUT", "/admin/agents/carol", "[admins]", {"capacity": 3, "teams": ["billing"]})[0] == 200
    first = customer_writes(desk, "+31666000111", "my parcel?", "SMg1")
    second = _instagram(desk, "17841400000000111", "my card was charged twice", "mid.g1")
    note = {"text": "@carol can you look"}
    assert agent(desk, "POST", f"/agent/conversations/{first}/notes", "alice", note)[0] == 201
    assert agent(desk, "GET", f"/agent/conversations/{second}", "carol")[0] == 404
    a, b = _customer_id(desk, "phone", "+31666000111"), _customer_id(desk, "instagram", "17841400000000111")
    status, merged = agent(desk, "POST", f"/agent/customers/{a}/merge", "alice", {"other_id": b, "reason": "same"})
    assert status == 200, merged
    # Then alice (default) reads both in the one conversation, carol only the one she was granted
    texts = [m["text"] for m in agent(desk, "GET", f"/agent/conversations/{first}", "alice")[1]["messages"]]
    assert "my card was charged twice" in texts
    status, seen = agent(desk, "GET", f"/agent/conversations/{first}", "carol")
    assert status == 200 and "my parcel?" in [m["text"] for m in seen["messages"]]
    assert "my card was charged twice" not in [m["text"] for m in seen["messages"]]
    # and the audit trail finds the merge by either customer, naming both, the merge and the conversations (the
    # survivor's filter lists the records of the customer merged into them too: the one filed under each)
    for customer, filed in ((a, {a, b}), (b, {b})):
        status, found = admin_call(desk, "GET", "/admin/audit", "[admins]", query=f"customer_id={customer}")
        assert status == 200, found
        records = [r for r in found["items"] if r["action"].endswith("/merge")]
        assert {r["customer_id"] for r in records} == filed and len(records) == len(filed)
        for record in records:
            assert record["actor"] == "alice" and record["details"]["merge_id"] == merged["id"]
            assert record["details"]["merged_id"] == b and record["details"]["folded"] == {"conversation": second,
                                                                                            "into": first}


def test_a_visitor_merged_with_an_mms_customer_gets_no_link_that_is_not_a_web_address(desk):
    # Given an MMS whose provider link is a javascript: address, and a visitor (the same person) chatting
    from tests.integration.helpers import post_twilio
    from tests.support import twilio_form
    result = post_twilio(desk, twilio_form(MessageSid="MMj1", From="+31666000222", To="+14155550100", Body="photo",
                                           NumMedia="1", MediaUrl0="javascript:alert(document.domain)//",
                                           MediaContentType0="text/html"))
    assert result["statusCode"] == 200, result
    session = _session(desk, "visitor-mms")
    status, sent, _ = _widget(desk, "POST", "/widget/messages", {"client_message_id": "j1", "text": "hi"}, session)
    assert status == 201, sent
    a, b = _customer_id(desk, "phone", "+31666000222"), _customer_id(desk, "webchat", "visitor-mms")
    # When an agent merges them (both open, one team: one conversation, which the widget shows)
    assert agent(desk, "POST", f"/agent/customers/{a}/merge", "alice", {"other_id": b, "reason": "same"})[0] == 200
    # Then the widget names the file and gives no link to run on the shop's page
    status, polled, _ = _widget(desk, "GET", "/widget/messages", session=session)
    assert status == 200, polled
    [photo] = [m for m in polled["items"] if m["text"] == "photo"]
    assert [f["url"] for f in photo["attachments"]] == [None]


def test_a_customer_known_by_sms_is_named_by_whatsapps_profile_name_and_a_name_is_never_overwritten(desk):
    # Given a customer who wrote by SMS (no name comes with an SMS)
    conv = customer_writes(desk, "+31666000088", "is my order on its way?", "SMn1")
    customer = _customer_id(desk, "phone", "+31666000088")
    assert not desk.item(f"CUSTOMER#{customer}").get("name")
    # When they write from the same number on WhatsApp, whose profile gives a name
    from tests.integration.test_canned import whatsapp_from
    assert whatsapp_from(desk, "+31666000088", "Noor Bakker", "here on WhatsApp too", "SMn2") == conv
    # Then the customer is named: their record, their conversation, their next conversations
    assert desk.item(f"CUSTOMER#{customer}")["name"] == "Noor Bakker"
    assert agent(desk, "GET", f"/agent/conversations/{conv}", "alice")[1]["customer"]["name"] == "Noor Bakker"
    assert desk.item("IDENTITY#phone#+31666000088")["customer_name"] == "Noor Bakker"
    # and another profile name later changes nothing (an agent or the first name given stays)
    whatsapp_from(desk, "+31666000088", "N.", "one more", "SMn3")
    assert desk.item(f"CUSTOMER#{customer}")["name"] == "Noor Bakker"
    assert agent(desk, "GET", f"/agent/conversations/{conv}", "alice")[1]["customer"]["name"] == "Noor Bakker"


def test_a_mexican_whatsapp_number_with_the_old_1_is_the_customer_who_texts_from_it(desk):
    # Given a Mexican customer who texted from their mobile
    online(desk, "alice")
    sms_conv = customer_writes(desk, "+525512345678", "hola, ¿dónde está mi pedido?", "SMmx1")
    desk.drain_queue(desk.work_queue_url, "router")
    # When they write on WhatsApp, whose address carries the 1 Mexico no longer dials
    from tests.integration.helpers import post_twilio
    from tests.support import twilio_form
    result = post_twilio(desk, twilio_form(MessageSid="SMmx2", From="whatsapp:+5215512345678",
                                           To="whatsapp:+14155550100", Body="también por WhatsApp"))
    assert result["statusCode"] == 200, result
    # Then it is the same customer's conversation, and a reply on WhatsApp goes to the address WhatsApp gave
    status, conv = agent(desk, "GET", f"/agent/conversations/{sms_conv}", "alice")
    assert status == 200 and "también por WhatsApp" in [m["text"] for m in conv["messages"]]
    assert "whatsapp" in conv["channels"]
    assert desk.item(f"CONV#{sms_conv}")["routes"]["whatsapp"]["to"] == "whatsapp:+5215512345678"


# ------------------------------------------------------------------ a web-chat visitor proves an email

def _code_mailed_to(address: str) -> str:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    bodies = [getattr(m, "body", None) or getattr(m, "raw_data", "")
              for m in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages if address in ses_recipients(m)]
    assert bodies, f"no mail to {address}"
    return re.search(r"\b(\d{6})\b", bodies[-1]).group(1)


def test_a_visitor_who_proves_an_email_with_a_code_joins_that_customer(desk):
    desk.client("ses").verify_email_identity(EmailAddress="support@shop.example")
    # Given a customer known by email, and a web-chat visitor who writes as a stranger
    _email(desk, "Cleo <cleo@example.com>", "hello by mail", "e-cleo")
    cleo = _customer_id(desk, "email", "cleo@example.com")
    session = _session(desk, "visitor-cleo")
    status, sent, _ = _widget(desk, "POST", "/widget/messages", {"client_message_id": "w1", "text": "hi"}, session)
    assert status == 201, sent
    assert _customer_id(desk, "webchat", "visitor-cleo") != cleo
    # When the visitor asks for a code for an address (any case) and types a wrong one
    status, body, _ = _widget(desk, "POST", "/widget/email-verification", {"email": "Cleo@Example.com"}, session)
    assert status == 202 and body == {"email": "cleo@example.com", "expires_in": 600}, body
    code = _code_mailed_to("cleo@example.com")
    assert desk.item("OTP#visitor-cleo")["code_hash"] != code and code not in json.dumps(desk.item("OTP#visitor-cleo"))
    wrong = "000000" if code != "000000" else "111111"
    assert _widget(desk, "POST", "/widget/email-verification/confirm", {"code": wrong}, session)[0] == 400
    # Then nothing is linked on a claim alone
    assert _customer_id(desk, "webchat", "visitor-cleo") != cleo
    # When the right code comes
    status, body, _ = _widget(desk, "POST", "/widget/email-verification/confirm", {"code": code}, session)
    assert status == 200 and body == {"verified": True, "linked": True}, body
    # Then the visitor is the mail customer, with one history, the merge on the timeline as the system's
    assert _customer_id(desk, "webchat", "visitor-cleo") == cleo
    profile = _get(desk, cleo)[1]
    assert ("webchat", "visitor-cleo") in {(i["kind"], i["address"]) for i in profile["identities"]}
    assert profile["timeline"][0]["by"] == "system" and "one-time code" in profile["timeline"][0]["reason"]
    # and in the audit trail as the system's, without the address
    from shopdesk.dal.audit import AuditLog
    from shopdesk.dal.table import Table
    [record] = AuditLog(Table(desk.table_name)).by_actor("system:webchat", "0", "9", 10, None)[0]
    assert record["action"] in ("customer.merge", "customer.link") and record["customer_id"] == cleo
    assert "cleo@example.com" not in json.dumps(record)
    # and the code cannot be used twice
    assert _widget(desk, "POST", "/widget/email-verification/confirm", {"code": code}, session)[0] == 400


def test_a_visitor_who_proves_an_email_while_both_conversations_wait_gets_one_conversation(desk):
    desk.client("ses").verify_email_identity(EmailAddress="support@shop.example")
    online(desk, "alice")
    # Given a customer whose email waits for an answer, and a chat the same person opened, given to an agent
    _email(desk, "Dana <dana@example.com>", "Where is my order?", "e-dana")
    mail_conv = desk.item("IDENTITY#email#dana@example.com")["open_conversation_id"]
    desk.drain_queue(desk.work_queue_url, "router")
    session = _session(desk, "visitor-dana")
    status, sent, _ = _widget(desk, "POST", "/widget/messages",
                              {"client_message_id": "d1", "text": "hello from the chat"}, session)
    assert status == 201, sent
    chat_conv = sent["conversation_id"]
    desk.drain_queue(desk.work_queue_url, "router")
    assert chat_conv != mail_conv
    assert desk.item(f"CONV#{chat_conv}")["assignee"] == "alice"
    seats = desk.item("AGENT#alice")["active"]
    # When the visitor proves the email with the mailed code
    assert _widget(desk, "POST", "/widget/email-verification", {"email": "dana@example.com"}, session)[0] == 202
    code = _code_mailed_to("dana@example.com")
    status, body, _ = _widget(desk, "POST", "/widget/email-verification/confirm", {"code": code}, session)
    assert status == 200 and body["linked"], body
    # Then the chat went into the email's conversation: the chat's messages show there in time order, and the
    # agent can answer on the web chat from it
    status, conv = agent(desk, "GET", f"/agent/conversations/{mail_conv}", "alice")
    assert status == 200, conv
    assert [m["text"] for m in conv["messages"] if m["direction"] == "inbound"] == [
        "Where is my order?", "hello from the chat"]
    assert set(conv["channels"]) == {"email", "webchat"} and conv["status"] != "resolved"
    assert conv["channel"] == "webchat"        # replies go where the customer wrote last: the chat
    folded_note = [m for m in conv["messages"] if (m.get("event") or {}).get("kind") == "folded"]
    assert folded_note and folded_note[0]["event"]["params"]["conversation"] == chat_conv
    assert "folded_into" not in [(m.get("event") or {}).get("kind") for m in conv["messages"]]   # the chat's own entry
    # and the chat's own conversation is resolved as merged, naming it, its seat freed
    status, chat = agent(desk, "GET", f"/agent/conversations/{chat_conv}", "alice")
    assert chat["status"] == "resolved" and chat["merged_into"] == mail_conv, chat
    assert desk.item("AGENT#alice")["active"] == seats - 1
    # When the agent answers in the one conversation on the web chat
    status, sent_reply = agent(desk, "POST", f"/agent/conversations/{mail_conv}/replies", "alice",
                               {"text": "It ships today.", "channel": "webchat"})
    assert status == 202, sent_reply
    desk.drain_queue(desk.outbound_queue_url, "dispatcher")
    # Then the visitor sees their chat and the answer in the widget
    status, polled, _ = _widget(desk, "GET", "/widget/messages", session=session)
    assert status == 200 and polled["conversation_id"] == mail_conv, polled
    shown = [(m["from"], m["text"]) for m in polled["items"]]
    assert ("visitor", "hello from the chat") in shown and shown[-1] == ("agent", "It ships today."), shown
    # and what they write next joins it
    status, more, _ = _widget(desk, "POST", "/widget/messages", {"client_message_id": "d2", "text": "thanks!"}, session)
    assert status == 201 and more["conversation_id"] == mail_conv, more


def test_an_unmerge_takes_merged_conversations_apart_again(desk):
    # Given two customers, each with an open conversation, merged by an agent
    sms_conv = customer_writes(desk, "+31666000077", "my parcel?", "SMf1")
    ig_conv = _instagram(desk, "17841400000000777", "hello on instagram", "mid.f1")
    a, b = _customer_id(desk, "phone", "+31666000077"), _customer_id(desk, "instagram", "17841400000000777")
    status, merged = agent(desk, "POST", f"/agent/customers/{a}/merge", "alice", {"other_id": b, "reason": "same"})
    assert status == 200, merged
    status, conv = agent(desk, "GET", f"/agent/conversations/{sms_conv}", "alice")
    assert "hello on instagram" in [m["text"] for m in conv["messages"]] and "instagram" in conv["channels"]
    assert conv["channel"] == "instagram"      # written there last: replies go there
    # the reports count the merged one as merged, not as resolved by anyone
    from shopdesk.analytics.events import derive
    before, after = desk.item(f"CONV#{ig_conv}"), None
    assert before["status"] == "resolved" and before["folded_into"] == sms_conv
    after = dict(before, status="open")
    [change] = [e for e in derive("MODIFY", {"PK": f"CONV#{ig_conv}", "SK": "META"}, before, after)
                if e.type == "status_changed"]
    assert change.reason == "merged" and change.agent_id is None
    # When the agent undoes the merge
    status, undone = agent(desk, "POST", f"/agent/customers/{a}/unmerge", "alice",
                           {"merge_id": merged["id"], "reason": "not the same"})
    assert status == 200, undone
    # Then the survivor's conversation no longer shows the other's messages nor answers on its channel
    status, conv = agent(desk, "GET", f"/agent/conversations/{sms_conv}", "alice")
    assert "hello on instagram" not in [m["text"] for m in conv["messages"]]
    assert conv["channels"] == ["sms"] and conv["channel"] == "sms"
    assert [m["event"]["kind"] for m in conv["messages"] if m.get("event")][-1] == "unfolded"
    # and the other conversation is its customer's again, open as it was, no longer naming it, their slot again
    status, other = agent(desk, "GET", f"/agent/conversations/{ig_conv}", "alice")
    assert other["customer"]["id"] == b and other["status"] == "open" and other["merged_into"] is None, other
    assert desk.item("IDENTITY#instagram#17841400000000777")["open_conversation_id"] == ig_conv
    assert desk.item("IDENTITY#phone#+31666000077")["open_conversation_id"] == sms_conv
    assert _instagram(desk, "17841400000000777", "still there?", "mid.f2") == ig_conv


def test_codes_are_rate_limited_expire_and_bad_input_is_refused(desk):
    desk.client("ses").verify_email_identity(EmailAddress="support@shop.example")
    session = _session(desk, "visitor-rl")
    status, body, _ = _widget(desk, "POST", "/widget/email-verification", {"email": "not an address"}, session)
    assert status == 400 and body["type"] == "/problems/bad-request" and "not an email" in body["detail"], body
    status, body, _ = _widget(desk, "POST", "/widget/email-verification/confirm", {"code": "12"}, session)
    assert status == 422 and [e["loc"] for e in body["errors"]] == [["body", "code"]], body
    assert _widget(desk, "POST", "/widget/email-verification/confirm", {"code": "123456"}, session)[0] == 400
    assert _widget(desk, "POST", "/widget/email-verification", {"email": "x@example.com"}, None)[0] == 401
    statuses = [_widget(desk, "POST", "/widget/email-verification", {"email": "rl@example.com"}, session)[0]
                for _ in range(4)]
    assert statuses == [202, 202, 202, 429]
    # a code past its 10 minutes is refused
    code = _code_mailed_to("rl@example.com")
    clock.set_offset(11 * 60)
    assert _widget(desk, "POST", "/widget/email-verification/confirm", {"code": code}, session)[0] == 400


def test_five_wrong_codes_use_the_code_up(desk):
    desk.client("ses").verify_email_identity(EmailAddress="support@shop.example")
    session = _session(desk, "visitor-guess")
    assert _widget(desk, "POST", "/widget/email-verification", {"email": "g@example.com"}, session)[0] == 202
    code = _code_mailed_to("g@example.com")
    wrong = [c for c in ("000000", "111111", "222222", "333333", "444444", "555555") if c != code][:5]
    assert [_widget(desk, "POST", "/widget/email-verification/confirm", {"code": c}, session)[0]
            for c in wrong] == [400] * 5
    clock.set_offset(120)                   # past the confirmation rate limit: the refusal is the code's own
    status, body, _ = _widget(desk, "POST", "/widget/email-verification/confirm", {"code": code}, session)
    assert status == 400 and "too many wrong codes" in body["detail"], body
    assert desk.item("IDENTITY#email#g@example.com") is None


# ------------------------------------------------------------------ the shop platform's records (commerce)

@pytest.fixture
def shop(desk):
    """The commerce sandbox on loopback and the environment the commerce functions get (as test_commerce)."""
    from tests.commerce_support import SHOPIFY_TEST_SECRET, SHOPIFY_TOKEN, CommerceSandboxServer

    server = CommerceSandboxServer()
    secret = desk.client("secretsmanager").create_secret(Name=f"shopify-{desk.table_name}", SecretString=json.dumps(
        {"access_token": SHOPIFY_TOKEN, "client_secret": SHOPIFY_TEST_SECRET, "previous_client_secret": ""}))["ARN"]
    yield {"SHOPIFY_SECRET_ARN": secret, "COMMERCE_PLATFORM": "shopify", "SHOPIFY_ADMIN_BASE_URL": server.shopify_url}
    server.close()


def _shopify_webhook(desk, shop, topic: str, payload: dict, delivery: str):
    from shopdesk.commerce.webhooks import sign
    from tests.commerce_support import SHOPIFY_TEST_SECRET
    from tests.integration.test_commerce import _post

    body = json.dumps(payload).encode()
    status, answer = _post(desk, shop, "inbound_shopify", "/webhooks/shopify", body, {
        "Content-Type": "application/json", "X-Shopify-Topic": topic, "X-Shopify-Webhook-Id": delivery,
        "X-Shopify-Hmac-Sha256": sign(SHOPIFY_TEST_SECRET, body), "X-Shopify-Shop-Domain": "example.myshopify.com"})
    assert status == 200, answer
    return answer


def _shop_customer(customer_id: int, email: str, phone: str) -> dict:
    return {"id": customer_id, "email": email, "phone": phone, "first_name": "A", "last_name": "B",
            "created_at": "2026-11-01T10:00:00Z", "updated_at": "2026-11-01T10:00:00Z"}


def test_done_when_sms_then_email_from_the_shop_record_then_instagram_merged_with_orders(desk, shop):
    from tests.integration.test_commerce import agent_call
    # Given Dana, who texts the shop, and whose Shopify customer record carries her email and phone
    sms = customer_writes(desk, "+14155550101", "Where is my order?", "SMdana1")
    dana = _customer_id(desk, "phone", "+14155550101")
    _shopify_webhook(desk, shop, "customers/update",
                     _shop_customer(7001, "dana.rivera@example.com", "+1 415-555-0101"), "wh-dana-1")
    # When she writes by email from the address on that record, then on Instagram
    _email(desk, "Dana <dana.rivera@example.com>", "Any news?", "e-dana")
    mail = desk.item("IDENTITY#email#dana.rivera@example.com")
    assert mail["customer_id"] != dana and mail["open_conversation_id"] != sms     # the record links nothing
    # and an agent merges her mail on the shop record's evidence (one action)
    [dup] = agent_call(desk, shop, "GET", f"/agent/customers/{dana}/duplicates")[1]["items"]
    assert dup["customer"]["id"] == mail["customer_id"] and dup["evidence"][0]["source"] == "shop_customer"
    assert agent_call(desk, shop, "POST", f"/agent/customers/{dana}/merge",
                      body={"other_id": mail["customer_id"], "reason": "her shop record gives both"})[0] == 200
    ig = _instagram(desk, "17841400000000101", "hello?", "mid.dana")
    stranger = _customer_id(desk, "instagram", "17841400000000101")
    status, merge = agent_call(desk, shop, "POST", f"/agent/customers/{dana}/merge",
                               body={"other_id": stranger, "reason": "she wrote her order number on Instagram"})
    assert status == 200, merge
    # Then she is one customer with one history, and the agent sees her orders with their tracking
    status, body = agent_call(desk, shop, "GET", f"/agent/customers/{dana}")
    assert status == 200, body
    assert {c["id"] for c in body["conversations"]} == {sms, mail["open_conversation_id"], ig}
    assert {o["name"] for o in body["orders"]} == {"#1001", "#1004"}
    [shipped] = [o for o in body["orders"] if o["name"] == "#1001"]
    assert shipped["tracking"][0]["number"] == "1Z999AA10123456784" and shipped["financial_status"]
    # and unmerge restores both
    status, _ = agent_call(desk, shop, "POST", f"/agent/customers/{dana}/unmerge", body={"merge_id": merge["id"]})
    assert status == 200
    assert {c["id"] for c in agent_call(desk, shop, "GET", f"/agent/customers/{stranger}")[1]["conversations"]} \
        == {ig}


def test_a_shared_email_on_a_shop_record_stays_apart_and_a_national_number_is_hers(desk, shop):
    # Given a customer known by SMS whose own record gives the family email (evidence on her, not a link)
    customer_writes(desk, "+31677000001", "hi", "SMfam1")
    mum = _customer_id(desk, "phone", "+31677000001")
    _shopify_webhook(desk, shop, "customers/update", _shop_customer(8001, "home@example.com", "06 7700 0001"),
                     "wh-fam-1")          # a national number, read in DEFAULT_PHONE_REGION (NL)
    assert desk.item(f"CUSTOMER#{mum}", "SEEN#email#home@example.com") is not None
    assert desk.item("IDENTITY#email#home@example.com") is None
    # and an agent merged her mail on it
    _email(desk, "Mum <home@example.com>", "it's me", "e-fam")
    assert agent(desk, "POST", f"/agent/customers/{mum}/merge", "alice",
                 {"other_id": _customer_id(desk, "email", "home@example.com"), "reason": "her record"})[0] == 200
    assert _customer_id(desk, "email", "home@example.com") == mum
    # When her son, known by his own SMS, orders with the same email and his phone
    customer_writes(desk, "+31677000002", "hi, Tom here", "SMfam2")
    son = _customer_id(desk, "phone", "+31677000002")
    order = {"id": 990001, "name": "#3003", "created_at": "2026-11-02T10:00:00Z", "updated_at": "2026-11-02T10:00:00Z",
             "email": "home@example.com", "phone": "+31677000002", "currency": "EUR", "total_price": "10.00",
             "financial_status": "paid", "fulfillment_status": None, "line_items": [], "customer": {"id": 8002}}
    _shopify_webhook(desk, shop, "orders/create", order, "wh-fam-2")
    # Then nobody is merged: each keeps their identities and history, and agents see the suggestion
    assert _customer_id(desk, "phone", "+31677000002") == son
    assert _customer_id(desk, "email", "home@example.com") == mum
    [dup] = agent(desk, "GET", f"/agent/customers/{mum}/duplicates", "alice")[1]["items"]
    assert dup["customer"]["id"] == son and dup["evidence"][0]["order"] == "#3003"


def test_an_order_found_by_one_customers_phone_that_carries_anothers_email_is_a_duplicate(desk, shop):
    from tests.integration.test_commerce import agent_call
    # Given Sam by SMS, and Sam Lee by email, both unlinked (no shop webhook arrived)
    customer_writes(desk, "+14155550102", "where is it?", "SMsam1")
    by_phone = _customer_id(desk, "phone", "+14155550102")
    _email(desk, "Sam Lee <sam.lee@example.com>", "hello", "e-sam")
    by_mail = _customer_id(desk, "email", "sam.lee@example.com")
    # When an agent asks for the SMS customer's duplicates
    status, body = agent_call(desk, shop, "GET", f"/agent/customers/{by_phone}/duplicates")
    # Then the email customer is suggested, with the order (found by the phone) that carries the email
    assert status == 200, body
    [dup] = body["items"]
    assert dup["customer"]["id"] == by_mail
    assert any(e["source"] == "order" and e["order"] == "#1002" and e["address"] == "sam.lee@example.com"
               for e in dup["evidence"]), dup
    assert _customer_id(desk, "phone", "+14155550102") == by_phone          # and nothing was linked


def test_an_order_found_by_a_visitors_sign_in_email_that_carries_anothers_phone_is_a_duplicate(desk, shop):
    from tests.integration.test_commerce import agent_call
    # Given Sam by SMS, and a web-chat visitor the shop signed in with the email of Sam's order #1002
    customer_writes(desk, "+14155550102", "where is it?", "SMsam2")
    by_phone = _customer_id(desk, "phone", "+14155550102")
    token = webchat.sign_visitor_token({"visitor_id": "customer:sam", "email": "sam.lee@example.com",
                                        "exp": int(time.time()) + 600}, "test-visitor-secret")
    status, body, _ = _widget(desk, "POST", "/widget/sessions", {"visitor_token": token})
    assert status == 201, body
    assert _widget(desk, "POST", "/widget/messages", {"client_message_id": "sam1", "text": "Hi!"},
                   body["session"])[0] == 201
    desk.drain_queue(desk.work_queue_url, "router")
    chat = _customer_id(desk, "webchat", "customer:sam")
    # When an agent opens the visitor's customer page and asks for their duplicates
    status, page = agent_call(desk, shop, "GET", f"/agent/customers/{chat}")
    assert status == 200, page
    status, dups = agent_call(desk, shop, "GET", f"/agent/customers/{chat}/duplicates")
    assert status == 200, dups
    # Then the order the sign-in email finds is theirs on the page, and Sam by SMS is offered with it as evidence
    assert "#1002" in [o["name"] for o in page["orders"]]
    [dup] = dups["items"]
    assert dup["customer"]["id"] == by_phone
    assert any(e["source"] == "order" and e["order"] == "#1002" and e["address"] == "+14155550102"
               for e in dup["evidence"]), dup
    assert _customer_id(desk, "webchat", "customer:sam") == chat             # and nothing was linked


def test_a_customers_page_lists_only_the_conversations_the_caller_may_see(desk):
    # Given a customer whose first conversation went to team legal (and was resolved there), and who wrote again
    first = customer_writes(desk, "+31644000101", "About the settlement with my ex-husband", "SMv1")
    assert admin_call(desk, "PUT", "/admin/teams/legal", "[admins]", {"id": "legal", "name": "Legal"})[0] == 200
    moved = agent(desk, "PUT", f"/agent/conversations/{first}/routing", "root", {"team": "legal"}, groups="[admins]")
    assert moved[0] == 200, moved
    assert agent(desk, "POST", f"/agent/conversations/{first}/status", "root", {"status": "resolved"},
                 groups="[admins]")[0] == 200
    second = customer_writes(desk, "+31644000101", "Where is my parcel?", "SMv2")
    assert second != first
    customer = _customer_id(desk, "phone", "+31644000101")
    # When an agent of the default team, who may open the second but not the first, reads the customer
    assert agent(desk, "GET", f"/agent/conversations/{first}", "alice")[0] == 404
    status, body = _get(desk, customer, "alice")
    # Then the page lists the conversation they may open, and nothing of the other team's
    assert status == 200, body
    assert [c["id"] for c in body["conversations"]] == [second]
    assert first not in json.dumps(body) and "settlement" not in json.dumps(body)
    # while an admin sees both
    status, body = _get(desk, customer, "root", groups="[admins]")
    assert {c["id"] for c in body["conversations"]} == {first, second}


def test_duplicate_evidence_names_only_conversations_the_caller_may_open(desk):
    # Given Bo known by email, and an SMS customer whose first message (moved to team legal, resolved there) gave
    # Bo's address, and who then wrote again to the default team
    _email(desk, "Bo <bo.evidence@example.com>", "hello", "e-bo-ev")
    bo = _customer_id(desk, "email", "bo.evidence@example.com")
    first = customer_writes(desk, "+31633000101", "Private matter; reach me at bo.evidence@example.com", "SMev1")
    desk.drain_queue(desk.work_queue_url, "router")
    assert admin_call(desk, "PUT", "/admin/teams/legal", "[admins]", {"id": "legal", "name": "Legal"})[0] == 200
    assert agent(desk, "PUT", f"/agent/conversations/{first}/routing", "root", {"team": "legal"},
                 groups="[admins]")[0] == 200
    assert agent(desk, "POST", f"/agent/conversations/{first}/status", "root", {"status": "resolved"},
                 groups="[admins]")[0] == 200
    second = customer_writes(desk, "+31633000101", "Where is my parcel?", "SMev2")
    assert second != first
    sms = _customer_id(desk, "phone", "+31633000101")
    # When an agent of the default team, who may open the second conversation but not the first, asks for Bo's
    # likely duplicates
    status, body = agent(desk, "GET", f"/agent/customers/{bo}/duplicates", "alice")
    # Then the SMS customer is suggested with the address as evidence, but not where (another team's conversation)
    assert status == 200, body
    [dup] = body["items"]
    assert dup["customer"]["id"] == sms
    [seen] = [e for e in dup["evidence"] if e["source"] == "message"]
    assert seen["address"] == "bo.evidence@example.com"
    assert seen["conversation_id"] is None and seen["message_id"] is None and first not in json.dumps(body)
    # while an admin is told where
    [dup] = agent(desk, "GET", f"/agent/customers/{bo}/duplicates", "root", groups="[admins]")[1]["items"]
    [seen] = [e for e in dup["evidence"] if e["source"] == "message"]
    assert seen["conversation_id"] == first and seen["message_id"]


def test_a_visitor_the_shop_signed_in_with_an_email_is_offered_as_that_email_customer_and_their_orders_found(desk):
    # Given a customer who wrote by email before
    _email(desk, "Dana Rivera <dana.rivera@example.com>", "Where is my parcel?", "signed1")
    mail = _customer_id(desk, "email", "dana.rivera@example.com")
    # When she writes in the widget, signed in on the shop's site (its visitor token carries her email)
    token = webchat.sign_visitor_token({"visitor_id": "customer:dana", "name": "Dana Rivera",
                                        "email": "Dana.Rivera@example.com", "exp": int(time.time()) + 600},
                                       "test-visitor-secret")
    status, body, _ = _widget(desk, "POST", "/widget/sessions", {"visitor_token": token})
    assert status == 201, body
    status, sent, _ = _widget(desk, "POST", "/widget/messages", {"client_message_id": "s1", "text": "Hi!"},
                              body["session"])
    assert status == 201, sent
    desk.drain_queue(desk.work_queue_url, "router")
    chat = _customer_id(desk, "webchat", "customer:dana")
    assert chat != mail                           # not merged: an agent's call, as for any other evidence
    # Then the agent is offered her email customer, with the sign-in as the evidence
    [dup] = agent(desk, "GET", f"/agent/customers/{chat}/duplicates", "alice")[1]["items"]
    assert dup["customer"]["id"] == mail
    assert [(e["source"], e["address"]) for e in dup["evidence"]] == [("shop_sign_in", "dana.rivera@example.com")]
    assert "sign-in on the shop's site gives the email dana.rivera@example.com" in dup["evidence"][0]["why"]
    # And her orders are looked up by that email, as her email conversation's are
    from shopdesk.commerce.lookup import conversation_identities
    from shopdesk.dal.conversations import Conversations
    conv = Conversations(Table(desk.table_name), 1).get_meta(sent["conversation_id"])
    assert ("email", "dana.rivera@example.com") in [(i.kind, i.address) for i in conversation_identities(conv)]


def test_a_supervisor_finds_in_settings_only_the_customers_of_their_teams(desk):
    # Given a customer of the default team, a supervisor of returns (rita) and one of the default team (alice)
    customer_writes(desk, "+31644000201", "Where is my parcel?", "SMsv1")
    customer = _customer_id(desk, "phone", "+31644000201")
    assert admin_call(desk, "PUT", "/admin/teams/returns", "[admins]", {"id": "returns", "name": "Returns"})[0] == 200
    for who in ("rita", "alice"):
        assert agent(desk, "GET", "/agent/me", who)[0] == 200             # signed in once: the agent exists
    assert admin_call(desk, "PUT", "/admin/agents/rita", "[admins]", {"teams": ["returns"], "capacity": 3})[0] == 200

    def as_supervisor(who: str, path: str, query: str = "") -> tuple[int, Any]:
        claims = {"cognito:username": who, "cognito:groups": "[supervisors]"}
        result = desk.invoke("admin_api", http_event("GET", path, None, {}, query=query, claims=claims))
        return result["statusCode"], json.loads(result["body"])

    # When each looks the customer up in Settings → Customers, by phone and by id
    # Then rita finds nobody, as in the inbox's search; alice finds them; an admin always does
    assert as_supervisor("rita", "/admin/customers", "phone=%2B31644000201") == (200, {"items": []})
    assert as_supervisor("rita", f"/admin/customers/{customer}")[0] == 404
    assert as_supervisor("alice", "/admin/customers", "phone=%2B31644000201")[1]["items"][0]["id"] == customer
    assert as_supervisor("alice", f"/admin/customers/{customer}")[0] == 200
    assert admin_call(desk, "GET", f"/admin/customers/{customer}", "[admins]")[0] == 200


def test_a_visitor_merged_into_a_named_customer_takes_that_name_and_an_unmerge_gives_theirs_back(desk):
    # Given a customer named by their email, and a web-chat visitor whose token names them otherwise
    online(desk, "alice")
    _email(desk, "Dana Rivera <dana.rivera@example.com>", "Where is my order?", "e-dana")
    dana = _customer_id(desk, "email", "dana.rivera@example.com")
    session = _session(desk, "visitor-dana")
    status, sent, _ = _widget(desk, "POST", "/widget/messages", {"client_message_id": "d1", "text": "Hello?"}, session)
    assert status == 201, sent
    desk.drain_queue(desk.work_queue_url, "router")
    visitor = _customer_id(desk, "webchat", "visitor-dana")
    for conv in {desk.item("IDENTITY#email#dana.rivera@example.com")["open_conversation_id"], sent["conversation_id"]}:
        assert agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "resolved"})[0] == 200
    # When an agent merges the visitor into her
    status, merge = agent(desk, "POST", f"/agent/customers/{dana}/merge", "alice",
                          {"other_id": visitor, "reason": "same person"})
    assert status == 200, merge
    # Then her next conversation in the chat bears her name (the one its acknowledgement greets her by), not the
    # name the visitor's token gave
    status, sent, _ = _widget(desk, "POST", "/widget/messages", {"client_message_id": "d2", "text": "Any news?"},
                              session)
    assert status == 201, sent
    conv = desk.item(f"CONV#{sent['conversation_id']}")
    assert conv["customer"]["name"] == "Dana Rivera", conv["customer"]
    # And when the merge is undone, the visitor's identity has the name it had again
    assert agent(desk, "POST", f"/agent/customers/{dana}/unmerge", "alice", {"merge_id": merge["id"]})[0] == 200
    assert desk.item("IDENTITY#webchat#visitor-dana")["customer_name"] == "Ada"
    assert desk.item("IDENTITY#email#dana.rivera@example.com")["customer_name"] == "Dana Rivera"
