"""Customer tiers: the tier a shop may give, how a lookup names an identity, the customer item, and the
policy book choosing by tier."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from shopdesk import phone
from shopdesk.dal import items as it
from shopdesk.dal.table import deserialize, serialize
from shopdesk.errors import BadRequest
from shopdesk.logic.admin import identity_of
from shopdesk.logic.sla_engine import PolicyBook, default_policy
from shopdesk.models import Conversation, CustomerRef, Priority, ReplyRoute
from shopdesk.models.admin import TierChange
from shopdesk.models.sla import SlaPolicy, Targets

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


# ------------------------------------------------------------------------------ the tier a shop gives

@pytest.mark.parametrize("tier", ["vip", "gold", "tier-2", "b2b_key", None])
def test_a_short_lower_case_name_or_none_is_a_tier(tier):
    assert TierChange.model_validate({"tier": tier}).tier == tier


@pytest.mark.parametrize("body", [{"tier": "VIP"}, {"tier": "very important"}, {"tier": ""}, {"tier": "2nd"},
                                  {"tier": "x" * 33}, {"tier": 7}, {}, {"tier": "vip", "until": "2027-01-01"}])
def test_anything_else_is_refused(body):
    with pytest.raises(ValidationError):
        TierChange.model_validate(body)


# ------------------------------------------------------------------------------ lookups

@pytest.mark.parametrize("given", ["+31612345678", " 31612345678", "31612345678", "0031 6 1234 5678",
                                   "+31 (6) 12-34-56-78"])
def test_a_phone_lookup_names_the_number_in_e164_however_the_plus_arrived(given):
    assert identity_of(given, None) == ("phone", "+31612345678")


@pytest.mark.parametrize("given", ["(415) 555-0102", "415-555-0102", "+1 415 555 0102", "14155550102"])
def test_a_national_number_is_read_in_the_shops_country_as_the_inbox_search_reads_it(given):
    phone.use_shop_region("US")
    try:
        assert identity_of(given, None) == ("phone", "+14155550102")
    finally:
        phone.use_shop_region(None)


def test_an_email_lookup_names_the_address_lower_cased():
    assert identity_of(None, " Ann@Example.COM ") == ("email", "ann@example.com")


@pytest.mark.parametrize(("phone", "email", "message"), [
    (None, None, "one identity"), ("+31612345678", "ann@example.com", "one identity"),
    ("12", None, "not a phone number"), ("0612345678", None, "not a phone number"),
    (None, "ann", "not an email address"), (None, "@example.com", "not an email address"),
])
def test_a_lookup_that_names_no_single_identity_is_a_bad_request(phone, email, message):
    with pytest.raises(BadRequest, match=message):
        identity_of(phone, email)


# ------------------------------------------------------------------------------ the customer item

def test_a_customer_item_reads_back_with_its_tier_or_none():
    item: dict[str, Any] = {"PK": "CUSTOMER#u_1", "SK": "META", "type": "customer", "id": "u_1", "name": "Zoë",
                            "identities": [{"kind": "phone", "address": "+31612345678"}],
                            "created_at": "2026-11-23T08:00:00.000Z"}
    plain = it.customer_from_item(item)
    assert (plain.id, plain.name, plain.tier, plain.identities[0].address) == ("u_1", "Zoë", None, "+31612345678")
    assert it.customer_from_item({**item, "tier": "vip"}).tier == "vip"


@pytest.mark.parametrize("tier", ["vip", None])
def test_a_conversation_item_carries_the_tier_its_clocks_were_chosen_with(tier):
    conv = Conversation(id="c_1", customer=CustomerRef(id="u_1", tier=tier), channel="sms",
                        route=ReplyRoute(channel="sms", to="+31612345678", sender="+14155550100"),
                        created_at=T0, updated_at=T0)
    stored = deserialize(serialize(it.conversation_item(conv)))
    assert stored["customer"].get("tier") == tier
    assert it.conversation_from_item(stored).customer.tier == tier


# ------------------------------------------------------------------------------ choosing by tier

class FakeConfig:
    """ConfigStore as the policy book reads it: a standard policy, and a VIP one."""

    def __init__(self, policies: list[SlaPolicy]):
        self.policies = [p.model_dump(mode="json") for p in policies]

    def list(self, kind: str) -> list[dict[str, Any]]:
        return self.policies if kind == "sla-policy" else []

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        return None


def _book() -> PolicyBook:
    def policy(policy_id: str, seconds: int, **applies_to: list[str]) -> SlaPolicy:
        return SlaPolicy(id=policy_id, name=policy_id, applies_to=applies_to,
                         targets={p: Targets(first_response=seconds) for p in Priority})
    config = FakeConfig([policy("standard", 4 * 3600), policy("vip", 1800, tiers=["vip"])])
    return PolicyBook(config, default_policy({Priority.NORMAL: 14400}))  # type: ignore[arg-type]


def _first_due(clocks) -> datetime:
    [deadline] = [d for d in clocks.deadlines() if d.target == "first_response"]
    return deadline.due_at


def test_given_a_vip_policy_when_clocks_start_for_a_vip_then_its_targets_apply_and_others_get_the_default():
    book = _book()
    vip = book.clocks("sms", "default", Priority.NORMAL, tier="vip")
    plain = book.clocks("sms", "default", Priority.NORMAL)
    gold = book.clocks("sms", "default", Priority.NORMAL, tier="gold")     # a tier no policy names
    for clocks in (vip, plain, gold):
        clocks.on_customer_message(T0)
    assert (vip.policy_id, _first_due(vip)) == ("vip", T0 + timedelta(minutes=30))
    assert (plain.policy_id, _first_due(plain)) == ("standard", T0 + timedelta(hours=4))
    assert gold.policy_id == "standard"


def test_given_running_clocks_when_rebound_to_a_new_tier_then_its_policy_applies_keeping_the_time_used():
    book = _book()
    clocks = book.clocks("sms", "default", Priority.NORMAL)
    clocks.on_customer_message(T0)
    book.rebind(clocks, "sms", "default", Priority.NORMAL, choose=True, tier="vip", at=T0 + timedelta(minutes=10))
    assert (clocks.policy_id, _first_due(clocks)) == ("vip", T0 + timedelta(minutes=30))
    book.rebind(clocks, "sms", "default", Priority.NORMAL, choose=True, tier=None, at=T0 + timedelta(minutes=20))
    assert (clocks.policy_id, _first_due(clocks)) == ("standard", T0 + timedelta(hours=4))


def test_given_a_vip_conversation_when_only_its_priority_changes_then_it_keeps_the_vip_policy():
    book = _book()
    clocks = book.clocks("sms", "default", Priority.NORMAL, tier="vip")
    clocks.on_customer_message(T0)
    book.rebind(clocks, "sms", "default", Priority.HIGH)             # escalation: the conversation's own policy
    assert clocks.policy_id == "vip"


def test_given_a_vip_policy_of_one_priority_when_a_vip_conversation_escalates_then_the_default_s_targets_go_on():
    # A VIP policy with targets for normal only: a VIP's escalated (high) or low conversation is measured by the
    # policy that lists that priority, not left without any target (it could never breach again)
    standard = SlaPolicy(id="standard", name="standard", targets={
        Priority.NORMAL: Targets(first_response=4 * 3600, resolution=24 * 3600),
        Priority.HIGH: Targets(first_response=3600, resolution=8 * 3600),
        Priority.LOW: Targets()})                                    # listed with no targets: measures nothing
    vip = SlaPolicy(id="vip", name="vip", applies_to={"tiers": ["vip"]},
                    targets={Priority.NORMAL: Targets(first_response=1800, resolution=4 * 3600)})
    book = PolicyBook(FakeConfig([standard, vip]), default_policy({Priority.NORMAL: 14400}))  # type: ignore[arg-type]
    clocks = book.clocks("sms", "default", Priority.NORMAL, tier="vip")
    clocks.on_customer_message(T0)
    assert (clocks.policy_id, _first_due(clocks)) == ("vip", T0 + timedelta(minutes=30))
    # When the sweep escalates it to high, ten minutes in
    book.rebind(clocks, "sms", "default", Priority.HIGH, at=T0 + timedelta(minutes=10))
    # Then the standard policy's high targets apply to what is left, and a resolution target still runs
    assert clocks.policy_id == "standard"
    assert _first_due(clocks) == T0 + timedelta(hours=1)
    assert {d.target for d in clocks.deadlines()} >= {"first_response", "resolution"}
    # And a VIP's low conversation takes the standard policy's low: listed with no targets, nothing is measured
    low = book.clocks("sms", "default", Priority.LOW, tier="vip")
    low.on_customer_message(T0)
    assert low.policy_id == "standard" and low.deadlines() == []
    # And a policy with no targets at all is an admin's "no SLA for these": it applies to every priority
    quiet = SlaPolicy(id="quiet", name="quiet", applies_to={"channels": ["email"]})
    book = PolicyBook(FakeConfig([standard, quiet]), default_policy({Priority.NORMAL: 14400}))  # type: ignore[arg-type]
    for priority in (Priority.NORMAL, Priority.HIGH):
        email = book.clocks("email", "default", priority)
        email.on_customer_message(T0)
        assert email.policy_id == "quiet" and email.deadlines() == []
