"""Retention of inactive customers: when a customer's timer comes due, who is erased and who is not."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from shopdesk import clock
from shopdesk.dal.conversations import Later
from shopdesk.models import ConversationStatus
from shopdesk.privacy.inactive import ACTOR, InactiveCustomers


class Fakes:
    def __init__(self, days: int | None = 30) -> None:
        self.records: dict[str, Any] = {}
        self.open: dict[str, str | None] = {}
        self.convs: dict[str, list[Any]] = {}
        self.started: list[tuple[str, str, str]] = []
        self.audited: list[dict[str, Any]] = []
        self.days = days

    def customer(self, cid: str, merged_into: str | None = None, open_conv: str | None = None,
                 last: list[tuple[ConversationStatus, int]] = ()) -> None:
        self.records[cid] = SimpleNamespace(id=cid, merged_into=merged_into, identities=[("phone", cid)])
        self.open[cid] = open_conv
        self.convs[cid] = [SimpleNamespace(status=s, updated_at=clock.now() - timedelta(days=d), last_inbound_at=None)
                           for s, d in last]

    def desk(self) -> InactiveCustomers:
        fakes = self
        identities = SimpleNamespace(get_many=lambda ids: {
            f"{k}#{a}": SimpleNamespace(open_conversation_id=fakes.open.get(a)) for k, a in ids})
        customers = SimpleNamespace(get=lambda cid: fakes.records.get(cid), identities=identities,
                                    conversations=lambda cid, limit: (fakes.convs.get(cid, [])[:limit], None))
        jobs = SimpleNamespace(start=lambda kind, cid, by, noted: fakes.started.append((kind, cid, by)) or
                               {"job_id": f"j_{cid}"})
        retention = SimpleNamespace(inactive_customers_days=fakes.days)
        trail = SimpleNamespace(policies=SimpleNamespace(current=lambda: SimpleNamespace(retention=retention)),
                                record=lambda **record: fakes.audited.append(record))
        return InactiveCustomers(customers, jobs, trail)  # type: ignore[arg-type]


def test_a_customer_quiet_for_the_days_set_is_erased_by_the_system_on_the_audit_trail():
    fakes = Fakes()
    fakes.customer("u_a", last=[(ConversationStatus.RESOLVED, 31), (ConversationStatus.RESOLVED, 90)])
    assert fakes.desk().run("u_a") == "erased"
    assert fakes.started == [("erase", "u_a", ACTOR)]
    assert fakes.audited[0]["customer_id"] == "u_a" and fakes.audited[0]["details"]["reason"] == "inactive"


def test_one_whose_conversations_expired_already_is_erased_too():
    fakes = Fakes()
    fakes.customer("u_a", last=[])                  # closed conversations kept fewer days than customers
    assert fakes.desk().run("u_a") == "erased"


def test_an_open_conversation_or_one_not_resolved_keeps_the_customer_until_its_resolve_sets_the_timer_again():
    fakes = Fakes()
    fakes.customer("u_open", open_conv="c_1", last=[(ConversationStatus.RESOLVED, 40)])
    fakes.customer("u_pending", last=[(ConversationStatus.PENDING, 40)])
    assert [fakes.desk().run(c) for c in ("u_open", "u_pending")] == ["active"] * 2
    assert fakes.started == []


def test_a_conversation_that_moved_after_its_resolve_moves_the_timer_to_the_days_after_that():
    fakes = Fakes()                                 # a thank-you kept on it, a survey answered: 10 days ago
    fakes.customer("u_recent", last=[(ConversationStatus.RESOLVED, 10)])
    answer = fakes.desk().run("u_recent")
    assert isinstance(answer, Later) and fakes.started == []
    assert abs(clock.parse_iso(answer.due_at) - (clock.now() + timedelta(days=20))) < timedelta(seconds=5)


def test_a_merged_customer_is_judged_as_the_one_they_were_merged_into_and_a_gone_one_not_at_all():
    fakes = Fakes()
    fakes.customer("u_old", merged_into="u_new")
    fakes.customer("u_new", last=[(ConversationStatus.RESOLVED, 5)])
    assert isinstance(fakes.desk().run("u_old"), Later)    # the survivor wrote 5 days ago
    assert fakes.desk().run("u_gone") == "gone"
    assert fakes.started == []


def test_with_the_setting_taken_off_nothing_is_erased():
    fakes = Fakes(days=None)
    fakes.customer("u_a", last=[(ConversationStatus.RESOLVED, 400)])
    assert fakes.desk().run("u_a") == "off" and fakes.started == []


def test_a_customer_whose_last_conversation_moved_within_a_lengthened_period_is_looked_at_again_then():
    fakes = Fakes(days=60)                          # their timer was set under 30 days; the shop keeps 60 now
    fakes.customer("u_a", last=[(ConversationStatus.RESOLVED, 31), (ConversationStatus.RESOLVED, 90)])
    answer = fakes.desk().run("u_a")
    assert isinstance(answer, Later) and fakes.started == []
    assert abs(clock.parse_iso(answer.due_at) - (clock.now() + timedelta(days=29))) < timedelta(seconds=5)


def test_a_thank_you_kept_on_the_resolved_conversation_counts_as_the_customer_writing():
    fakes = Fakes()
    fakes.customer("u_a", last=[(ConversationStatus.RESOLVED, 31)])
    fakes.convs["u_a"][0].last_inbound_at = clock.now() - timedelta(days=3)
    answer = fakes.desk().run("u_a")
    assert isinstance(answer, Later) and fakes.started == []
    assert abs(clock.parse_iso(answer.due_at) - (clock.now() + timedelta(days=27))) < timedelta(seconds=5)
