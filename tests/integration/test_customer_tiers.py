"""Customer tiers as a support lead uses them: a shop marks a customer VIP and the VIP policy's targets apply to
their conversations, new, running, reopened or moved to another team."""

from __future__ import annotations

import pytest

from tests.integration.helpers import agent, customer_writes, online, route_records
from tests.integration.test_admin_api import admin_call
from tests.integration.test_sla_rules import at

HOURS_4, MINUTES_30 = 4 * 3600, 30 * 60


@pytest.fixture
def tiers(desk):
    """A default policy with a 4-hour first response, and a VIP one with 30 minutes, both around the clock."""
    for policy, seconds, applies_to in (("standard", HOURS_4, {}), ("vip", MINUTES_30, {"tiers": ["vip"]})):
        status, body = admin_call(desk, "PUT", f"/admin/sla-policies/{policy}", "[admins]", {
            "id": policy, "name": policy.title(), "applies_to": applies_to,
            "targets": {p: {"first_response": seconds} for p in ("urgent", "high", "normal", "low")}})
        assert status == 200, body
    return desk


def _sla(desk, conv_id):
    status, body = agent(desk, "GET", f"/agent/conversations/{conv_id}", "alice")
    assert status == 200, body
    return body["sla"]


def _customer_of(desk, phone, groups="[supervisors]"):
    status, body = admin_call(desk, "GET", "/admin/customers", groups, query=f"phone={phone}")
    assert status == 200, body
    [customer] = body["items"]
    return customer


def _set_tier(desk, customer_id, tier, groups="[admins]"):
    return admin_call(desk, "PUT", f"/admin/customers/{customer_id}", groups, {"tier": tier})


def _resolve(desk, conv_id):
    status, body = agent(desk, "POST", f"/agent/conversations/{conv_id}/status", "alice", {"status": "resolved"},
                         groups="[supervisors]")
    assert status == 200, body


def test_a_vip_customers_new_conversation_gets_the_vip_target_and_a_normal_customers_the_default(tiers):
    desk = tiers
    # Given a customer the shop marked VIP after an earlier conversation, and a customer without a tier
    at("2026-11-23T08:00:00+00:00")
    earlier = customer_writes(desk, "+31630000001", "hello", "SMt1")
    desk.drain_queue(desk.work_queue_url, "router")
    _resolve(desk, earlier)
    status, body = _set_tier(desk, _customer_of(desk, "+31630000001")["id"], "vip")
    assert status == 200 and body["tier"] == "vip"
    # When each writes a new message at 10:00
    at("2026-11-23T10:00:00+00:00")
    vip = customer_writes(desk, "+31630000001", "Where is my order?", "SMt2")
    normal = customer_writes(desk, "+31630000002", "Where is my order?", "SMt3")
    desk.drain_queue(desk.work_queue_url, "router")           # the router starts the clocks
    # Then the VIP has 30 minutes, the other customer 4 hours
    assert _sla(desk, vip)["first_response_due_at"][:19] == "2026-11-23T10:30:00"
    assert _sla(desk, normal)["first_response_due_at"][:19] == "2026-11-23T14:00:00"
    # and agents see the tier on the conversation
    assert agent(desk, "GET", f"/agent/conversations/{vip}", "alice")[1]["customer"]["tier"] == "vip"
    assert agent(desk, "GET", f"/agent/conversations/{normal}", "alice")[1]["customer"].get("tier") is None


def test_a_customer_marked_vip_before_the_router_starts_the_clocks_gets_the_vip_target(tiers):
    desk = tiers
    at("2026-11-23T08:00:00+00:00")
    desk.routes_before_agents = False
    conv = customer_writes(desk, "+31630000011", "hi", "SMt11")          # stored, not routed yet: an admin's
    assert _set_tier(desk, _customer_of(desk, "+31630000011", "[admins]")["id"], "vip")[0] == 200
    desk.drain_queue(desk.work_queue_url, "router")
    assert _sla(desk, conv)["first_response_due_at"][:19] == "2026-11-23T08:30:00"


def test_a_tier_set_between_the_routers_read_and_its_write_is_read_again(tiers, monkeypatch):
    # Given a new conversation the router is about to start clocks for, having read "no tier"
    desk = tiers
    desk.routes_before_agents = False
    at("2026-11-23T08:00:00+00:00")
    conv = customer_writes(desk, "+31630000015", "hi", "SMt15")
    customer = _customer_of(desk, "+31630000015", "[admins]")["id"]
    customers = desk.handler("router").customers
    real, reads = customers.tier, []

    def marked_vip_meanwhile(customer_id):
        reads.append(real(customer_id))
        if len(reads) == 1:                                     # between the router's read and its write
            assert _set_tier(desk, customer, "vip")[0] == 200
        return reads[-1]

    monkeypatch.setattr(customers, "tier", marked_vip_meanwhile)
    # When the router writes the clocks it chose without a tier
    desk.drain_queue(desk.work_queue_url, "router")
    # Then that write is refused and the clocks are chosen again under the VIP policy
    assert reads == [None, "vip"]
    assert _sla(desk, conv)["first_response_due_at"][:19] == "2026-11-23T08:30:00"
    assert desk.item(f"CONV#{conv}")["customer"]["tier"] == "vip"


def test_marking_a_customer_vip_mid_conversation_shortens_the_running_deadline_keeping_the_time_used(tiers):
    desk = tiers
    at("2026-11-23T08:00:00+00:00")
    conv = customer_writes(desk, "+31630000021", "My parcel is late", "SMt21")
    desk.drain_queue(desk.work_queue_url, "router")
    assert _sla(desk, conv)["first_response_due_at"][:19] == "2026-11-23T12:00:00"
    customer = _customer_of(desk, "+31630000021")["id"]
    # 10 minutes in, the shop's platform marks the customer VIP: 20 of the VIP's 30 minutes are left
    at("2026-11-23T08:10:00+00:00")
    assert _set_tier(desk, customer, "vip")[0] == 200
    assert _sla(desk, conv)["first_response_due_at"][:19] == "2026-11-23T08:30:00"
    assert desk.item(f"CONV#{conv}", "DEADLINE#first_response")["due_at"][:19] == "2026-11-23T08:30:00"
    # setting it again changes nothing; taking the tier away gives the default target back
    assert _set_tier(desk, customer, "vip")[0] == 200
    assert _set_tier(desk, customer, None)[0] == 200
    detail = agent(desk, "GET", f"/agent/conversations/{conv}", "alice")[1]
    assert detail["sla"]["first_response_due_at"][:19] == "2026-11-23T12:00:00"
    assert detail["customer"].get("tier") is None
    # the sweep at 08:31 flags nothing: the deadline is the default's again
    at("2026-11-23T08:31:00+00:00")
    assert desk.invoke("sla_sweep", {})["breached"] == 0


def test_a_reopened_conversation_follows_the_tier_the_customer_has_now(tiers):
    desk = tiers
    online(desk, "alice")
    at("2026-11-23T08:00:00+00:00")
    conv = customer_writes(desk, "+31630000031", "hi", "SMt31")
    desk.drain_queue(desk.work_queue_url, "router")
    _resolve(desk, conv)
    # marked VIP while nothing is open: only the customer record changes
    assert _set_tier(desk, _customer_of(desk, "+31630000031")["id"], "vip")[0] == 200
    assert desk.item(f"CONV#{conv}")["customer"].get("tier") is None
    at("2026-11-24T09:00:00+00:00")
    status, _ = agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "open"})
    assert status == 200
    assert _sla(desk, conv)["first_response_due_at"][:19] == "2026-11-24T09:30:00"


def test_moving_a_vip_conversation_to_another_team_keeps_the_vip_policy(tiers):
    desk = tiers
    assert admin_call(desk, "PUT", "/admin/teams/returns", "[admins]", {"id": "returns", "name": "Returns"})[0] \
        == 200
    at("2026-11-23T08:00:00+00:00")
    conv = customer_writes(desk, "+31630000041", "I want to return my shoes", "SMt41")
    desk.drain_queue(desk.work_queue_url, "router")
    assert _set_tier(desk, _customer_of(desk, "+31630000041")["id"], "vip")[0] == 200
    at("2026-11-23T08:05:00+00:00")
    status, body = agent(desk, "PUT", f"/agent/conversations/{conv}/routing", "lead", {"team": "returns"},
                         groups="[supervisors]")
    assert status == 200, body
    assert body["team"] == "returns" and body["sla"]["first_response_due_at"][:19] == "2026-11-23T08:30:00"


def test_customer_lookup_by_phone_and_by_id(tiers):
    desk = tiers
    conv = customer_writes(desk, "+31630000051", "hi", "SMt51")
    route_records(desk)              # a supervisor finds the customers of their teams' conversations, once routed
    # the "+" of a phone number may come encoded, unencoded (a space) or be left out
    by_phone = [admin_call(desk, "GET", "/admin/customers", "[admins]", query=f"phone={p}")[1]["items"]
                for p in ("%2B31630000051", "+31630000051", "31630000051")]
    assert by_phone[0] == by_phone[1] == by_phone[2] and len(by_phone[0]) == 1
    customer = by_phone[0][0]
    assert customer["identities"] == [{"kind": "phone", "address": "+31630000051"}]
    assert customer["id"] == desk.item(f"CONV#{conv}")["customer"]["id"] and customer["tier"] is None
    status, same = admin_call(desk, "GET", f"/admin/customers/{customer['id']}", "[supervisors]")
    assert status == 200 and same == customer
    # nobody with that identity: an empty answer
    assert admin_call(desk, "GET", "/admin/customers", "[admins]", query="phone=%2B31699999999")[1] == {"items": []}
    assert admin_call(desk, "GET", "/admin/customers", "[admins]", query="email=nobody@example.com")[1] == \
        {"items": []}


def test_customer_routes_need_a_lead_a_known_customer_and_a_valid_tier(tiers):
    desk = tiers
    customer_writes(desk, "+31630000061", "hi", "SMt61")
    route_records(desk)              # a supervisor finds the customers of their teams' conversations, once routed
    customer = _customer_of(desk, "+31630000061")["id"]
    # plain agents may neither look nor set
    assert admin_call(desk, "GET", f"/admin/customers/{customer}", "[]")[0] == 403
    assert admin_call(desk, "GET", "/admin/customers", "[]", query="phone=%2B31630000061")[0] == 403
    assert _set_tier(desk, customer, "vip", groups="[]")[0] == 403
    assert _set_tier(desk, customer, "vip", groups="[supervisors]")[0] == 403     # supervisors only read
    assert _set_tier(desk, customer, "vip", groups="[admins]")[0] == 200
    # an unknown customer
    assert admin_call(desk, "GET", "/admin/customers/u_nobody", "[admins]")[0] == 404
    assert _set_tier(desk, "u_nobody", "vip")[0] == 404
    assert desk.item("CUSTOMER#u_nobody") is None
    # a tier that is not a short lower-case name, or no tier at all
    for bad in ("VIP", "very important", "", "x" * 33, 7):
        status, body = _set_tier(desk, customer, bad)
        assert status == 422 and "tier" in body["detail"], (bad, body)
    assert admin_call(desk, "PUT", f"/admin/customers/{customer}", "[admins]", {})[0] == 422
    assert _customer_of(desk, "+31630000061")["tier"] == "vip"
    # a lookup names one identity, and a real one
    assert admin_call(desk, "GET", "/admin/customers", "[admins]")[0] == 400
    assert admin_call(desk, "GET", "/admin/customers", "[admins]", query="phone=12")[0] == 400
    assert admin_call(desk, "GET", "/admin/customers", "[admins]",
                      query="phone=%2B31630000061&email=a@example.com")[0] == 400
