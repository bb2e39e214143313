"""Identity rules that need no table: what counts as an address, where evidence comes from, and how a new
conversation claims the one open slot of every linked identity."""

from __future__ import annotations

import pytest

from shopdesk.dal.identities import Identities, IdentityRecord
from shopdesk.dal.table import Table
from shopdesk.errors import BadRequest
from shopdesk.logic.evidence import addresses_in, may_hold_addresses
from shopdesk.logic.verify_email import normalise_email


@pytest.mark.parametrize(("text", "expected"), [
    (None, False), ("", False), ("where is my order 1001?", False), ("order #1001, 2 items", False),
    ("mail me at a@b.example", True), ("call 06 1234 5678", True),
])
def test_ingest_flags_only_messages_that_may_hold_an_address(text, expected):
    assert may_hold_addresses(text) is expected


def test_addresses_in_a_message_are_normalised_and_deduplicated():
    text = ("It's Anna.Smit@Example.COM (or anna.smit@example.com), tel 06 1234 5678 / +31 6 1234 5678.\n"
            "Order #1001 of 12-10-2026, 3 items for 49.95")
    assert addresses_in(text, "NL") == [("email", "anna.smit@example.com"), ("phone", "+31612345678")]


def test_a_national_number_in_a_message_needs_the_shops_region():
    assert addresses_in("call 020 7946 0958", "GB") == [("phone", "+442079460958")]
    assert addresses_in("call 020 7946 0958", "NL") != [("phone", "+442079460958")]


@pytest.mark.parametrize(("raw", "expected"), [
    ("Anna@Example.com", "anna@example.com"), ("  bo+shop@mail.example.org ", "bo+shop@mail.example.org")])
def test_emails_are_trimmed_and_lower_cased(raw, expected):
    assert normalise_email(raw) == expected


@pytest.mark.parametrize("raw", ["", "anna", "anna@", "@example.com", "anna@example", "a b@example.com",
                                 "anna@exa_mple.com", "x" * 65 + "@example.com", "a@" + "b" * 250 + ".com"])
def test_what_is_not_an_email_is_refused(raw):
    with pytest.raises(BadRequest):
        normalise_email(raw)


def test_a_new_conversation_claims_the_slot_of_every_linked_identity_in_its_one_transaction():
    # Given an identity linked to two others
    record = IdentityRecord(kind="phone", address="+31612345678", customer_id="u_1", customer_name="Anna",
                            open_conversation_id=None, siblings=("email#anna@example.com", "instagram#178"))
    # When a new conversation starts from it
    ops = Identities(Table("desk")).open_ops(record, "c_new", "Anna", expected_open=None)
    # Then each of the three identities is claimed, each on condition that it holds no open conversation
    keys = [op["Update"]["Key"]["PK"]["S"] for op in ops]
    assert keys == ["IDENTITY#phone#+31612345678", "IDENTITY#email#anna@example.com", "IDENTITY#instagram#178"]
    assert all("attribute_not_exists(open_conversation_id)" in op["Update"]["ConditionExpression"] for op in ops)
    # and a stale slot (a conversation resolved meanwhile) may be replaced, on every one of them
    stale = Identities(Table("desk")).open_ops(record, "c_new", None, expected_open="c_old")
    assert all(op["Update"]["ExpressionAttributeValues"][":expected"] == {"S": "c_old"} for op in stale)


class _RecordingTable:
    """Records transactions; cancels the ones whose first operation is named in ``cancel``."""

    def __init__(self, cancel: set[str] = frozenset()):
        self.calls: list[list[dict]] = []
        self.cancel = cancel

    def transact(self, ops):
        from shopdesk.dal.table import TransactionCancelled
        self.calls.append(list(ops))
        if ops[0].get("name") in self.cancel:
            raise TransactionCancelled([0], [])


def test_a_merge_too_big_for_one_transaction_moves_the_rest_after_and_skips_what_moved_meanwhile():
    from shopdesk.dal.customers import Customers
    table = _RecordingTable(cancel={"move-4"})     # moved meanwhile: its condition fails
    customers = Customers(table)  # type: ignore[arg-type]
    core = [{"name": f"core-{i}"} for i in range(97)]
    moves = [{"name": f"move-{i}"} for i in range(6)]
    # When a merge's core and moves are written
    customers.write(core, moves)
    # Then the first transaction holds the core and as many moves as fit in 100 operations
    assert [len(c) for c in table.calls] == [100, 1, 1, 1]
    assert [c[0]["name"] for c in table.calls[1:]] == ["move-3", "move-4", "move-5"]


def test_a_merge_whose_core_changed_meanwhile_is_a_conflict_and_moves_nothing():
    from shopdesk.dal.customers import Customers
    from shopdesk.errors import Conflict
    table = _RecordingTable(cancel={"core-0"})
    with pytest.raises(Conflict):
        Customers(table).write([{"name": "core-0"}], [{"name": "move-0"}])  # type: ignore[arg-type]
    assert len(table.calls) == 1
