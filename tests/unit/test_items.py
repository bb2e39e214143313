"""How conversations are laid out in the one table: which index keys an item carries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shopdesk.dal import items as it
from shopdesk.dal.table import deserialize, serialize
from shopdesk.models import (
    Conversation,
    ConversationStatus,
    CustomerRef,
    Identity,
    Priority,
    ReplyRoute,
    Sla,
)

T0 = datetime(2026, 5, 1, 9, 0, 0, 123000, tzinfo=UTC)


def _conv(**changes) -> Conversation:
    base = {
        "id": "c_01JTEST0000000000000000001", "status": ConversationStatus.OPEN, "priority": Priority.NORMAL,
        "team": "default", "assignee": None,
        "customer": CustomerRef(id="u_1", name="Zoë", identities=[Identity(kind="phone", address="+31612345678")]),
        "channel": "whatsapp",
        "route": ReplyRoute(channel="whatsapp", to="whatsapp:+31612345678", sender="whatsapp:+14155550100"),
        "sla": Sla(first_response_due_at=T0 + timedelta(hours=4)),
        "created_at": T0, "updated_at": T0 + timedelta(minutes=1), "waiting_since": T0,
        "last_message_preview": "where is my order", "message_count": 1,
    }
    return Conversation(**{**base, **changes})


# ------------------------------------------------------------------------------ index keys

def test_conversation_item_lives_under_its_conversation():
    item = it.conversation_item(_conv())
    assert (item["PK"], item["SK"], item["type"]) == ("CONV#c_01JTEST0000000000000000001", "META", "conversation")


def test_assigned_conversation_is_in_the_agents_inbox_and_not_the_queue():
    # Given a conversation assigned to alice (still waiting_since set, as a stale value would be)
    item = it.conversation_item(_conv(assignee="alice"))
    # Then it is on alice's inbox index, keyed by status then last activity, and not in the queue
    assert item["InboxPK"] == "INBOX#alice"
    assert item["InboxSK"] == "open#2026-05-01T09:01:00.123Z"
    assert "QueuePK" not in item and "QueueSK" not in item


def test_waiting_unassigned_open_conversation_is_queued_by_priority_then_age():
    item = it.conversation_item(_conv(priority=Priority.HIGH))
    assert item["QueuePK"] == "QUEUE#default"
    assert item["QueueSK"] == "1#2026-05-01T09:00:00.123Z#c_01JTEST0000000000000000001"
    assert "InboxPK" not in item


def test_queue_order_is_urgent_first_then_oldest_first():
    # Given waiting conversations of mixed priority and age
    convs = [
        _conv(id="c_normal_old", priority=Priority.NORMAL, waiting_since=T0),
        _conv(id="c_low_oldest", priority=Priority.LOW, waiting_since=T0 - timedelta(days=1)),
        _conv(id="c_urgent_new", priority=Priority.URGENT, waiting_since=T0 + timedelta(hours=1)),
        _conv(id="c_normal_new", priority=Priority.NORMAL, waiting_since=T0 + timedelta(milliseconds=1)),
        _conv(id="c_high", priority=Priority.HIGH, waiting_since=T0 + timedelta(hours=2)),
        _conv(id="c_urgent_old", priority=Priority.URGENT, waiting_since=T0),
    ]
    # When the Queue index sorts them by QueueSK (string order)
    ordered = sorted(convs, key=lambda c: it.conversation_item(c)["QueueSK"])
    # Then urgent comes before high before normal before low, older before newer within a priority
    assert [c.id for c in ordered] == ["c_urgent_old", "c_urgent_new", "c_high", "c_normal_old", "c_normal_new",
                                       "c_low_oldest"]


@pytest.mark.parametrize("status", [ConversationStatus.RESOLVED, ConversationStatus.PENDING,
                                    ConversationStatus.SNOOZED])
def test_unassigned_conversation_that_is_not_open_is_not_queued(status):
    item = it.conversation_item(_conv(status=status))
    assert "QueuePK" not in item and "InboxPK" not in item
    assert item["StatusPK"] == f"STATUS#{status.value}"


def test_open_unassigned_conversation_that_is_not_waiting_is_not_queued():
    assert "QueuePK" not in it.conversation_item(_conv(waiting_since=None))


def test_status_and_customer_indexes():
    item = it.conversation_item(_conv())
    assert item["StatusPK"] == "STATUS#open"
    assert item["StatusSK"] == "2026-05-01T09:01:00.123Z"
    assert item["CustomerPK"] == "CUSTOMER#u_1"
    assert item["CustomerSK"] == "2026-05-01T09:00:00.123Z"


def test_resolved_assigned_conversation_stays_in_the_inbox_under_resolved():
    item = it.conversation_item(_conv(status=ConversationStatus.RESOLVED, assignee="alice"))
    assert item["InboxPK"] == "INBOX#alice"
    assert item["InboxSK"].startswith("resolved#")


# ------------------------------------------------------------------------------ due shards

def test_due_pk_is_stable_and_within_the_shard_count():
    ids = [f"c_{i:05d}" for i in range(500)]
    for shards in (1, 4, 16, 256):
        keys = [it.due_pk(i, shards) for i in ids]
        assert keys == [it.due_pk(i, shards) for i in ids]              # same id, same shard
        numbers = {int(k.removeprefix("DUE#")) for k in keys}
        assert numbers <= set(range(shards))
        assert all(len(k) == len("DUE#000") for k in keys)
    assert len({it.due_pk(i, 16) for i in ids}) == 16                   # 500 ids reach every shard


def test_due_sk_sorts_by_due_time():
    early = it.due_sk("2026-05-01T09:00:00.000Z", "c_z", "first_response")
    late = it.due_sk("2026-05-01T10:00:00.000Z", "c_a", "first_response")
    assert early < late


# ------------------------------------------------------------------------------ round trips

def test_conversation_round_trips_through_its_item():
    # Given a conversation with SLA times, breaches and everything optional filled
    conv = _conv(assignee="alice", priority=Priority.URGENT,
                 sla=Sla(first_response_due_at=T0 + timedelta(minutes=15),
                         first_response_at=T0 + timedelta(minutes=20),
                         breaches=["first_response", "resolution"]))
    # When it is laid out as an item and read back
    back = it.conversation_from_item(it.conversation_item(conv))
    # Then it is the same conversation
    assert back == conv


def test_conversation_without_optional_values_round_trips():
    conv = _conv(sla=Sla(), waiting_since=None, last_message_preview=None, message_count=0)
    assert it.conversation_from_item(it.conversation_item(conv)) == conv


def test_conversation_round_trips_through_dynamodb_serialisation():
    conv = _conv(sla=Sla(first_response_due_at=T0, breaches=["first_response"]))
    assert it.conversation_from_item(deserialize(serialize(it.conversation_item(conv)))) == conv


def test_times_are_stored_to_the_millisecond():
    conv = _conv(created_at=T0.replace(microsecond=123456))
    assert it.conversation_item(conv)["created_at"] == "2026-05-01T09:00:00.123Z"


def test_no_breaches_are_not_stored_as_an_empty_set():
    # DynamoDB refuses empty sets: the attribute is left out instead
    item = it.conversation_item(_conv())
    assert item["sla_breaches"] is None
