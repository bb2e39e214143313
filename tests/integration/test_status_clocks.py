"""A status change and the SLA clocks it pauses or ends are one write: a conversation marked pending never shows
a running deadline (a breach flagged on a paused conversation), and the change costs one transaction, not two."""

from __future__ import annotations

from tests.integration.helpers import agent
from tests.integration.test_reply_clocks import (
    _after_first_clock_read,
    _bump_clocks,
    _keys,
    _spy_transactions,
    _waiting,
)


def _deadlines(desk, conv: str) -> list[str]:
    found = desk.client("dynamodb").query(
        TableName=desk.table_name, KeyConditionExpression="PK = :pk AND begins_with(SK, :d)", ConsistentRead=True,
        ExpressionAttributeValues={":pk": {"S": f"CONV#{conv}"}, ":d": {"S": "DEADLINE#"}})["Items"]
    return [i["SK"]["S"] for i in found]


def test_marking_pending_pauses_the_clock_in_the_same_transaction_as_the_status(desk, monkeypatch):
    conv = _waiting(desk, "+31612349201", "SMsc1")
    seen = _spy_transactions(monkeypatch)

    status, body = agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "pending"})

    assert status == 200, body
    assert body["status"] == "pending" and body["sla"]["paused"] is True
    assert len(seen) == 1, seen
    assert {("CONV#" + conv, "MSG"), ("CONV#" + conv, "META"), ("CONV#" + conv, "DEADLINE")} <= _keys(seen[0])
    assert desk.item(f"CONV#{conv}", "DEADLINE#first_response") is None      # paused: no deadline runs


def test_resolving_ends_the_clocks_and_frees_the_seat_in_one_transaction(desk, monkeypatch):
    conv = _waiting(desk, "+31612349202", "SMsc2")
    assert agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "Found it"})[0] == 202
    seen = _spy_transactions(monkeypatch)

    status, body = agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "resolved"})

    assert status == 200, body
    assert len(seen) == 1, seen
    assert ("AGENT#alice", "META") in _keys(seen[0]) and ("CONV#" + conv, "META") in _keys(seen[0])
    assert _deadlines(desk, conv) == []
    _, me = agent(desk, "GET", "/agent/me", "alice")
    assert me["active"] == 0


def test_a_clock_change_meanwhile_makes_the_status_change_read_again_and_land_once(desk, monkeypatch):
    conv = _waiting(desk, "+31612349203", "SMsc3")
    seen = _spy_transactions(monkeypatch)
    # another event moves the clocks between this read and the status write
    _after_first_clock_read(monkeypatch, lambda: _bump_clocks(desk, conv))

    status, body = agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "pending"})

    assert status == 200, body
    assert len(seen) == 2          # the first lost to the change and wrote nothing; the second read again
    _, shown = agent(desk, "GET", f"/agent/conversations/{conv}", "alice")
    assert [m["text"] for m in shown["messages"] if m["text"].startswith("Marked")] == ["Marked pending by Alice"]
    assert desk.item(f"CONV#{conv}", "DEADLINE#first_response") is None


def test_a_status_changed_by_someone_else_meanwhile_is_a_conflict_and_writes_nothing(desk, monkeypatch):
    conv = _waiting(desk, "+31612349204", "SMsc4")

    def admin_resolves() -> None:          # between alice's read and her write
        assert agent(desk, "POST", f"/agent/conversations/{conv}/status", "boss", {"status": "resolved"},
                     groups="[admins]")[0] == 200

    _after_first_clock_read(monkeypatch, admin_resolves)

    status, body = agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "pending"})

    assert status == 409, body
    _, shown = agent(desk, "GET", f"/agent/conversations/{conv}", "boss", groups="[admins]")
    assert shown["status"] == "resolved"
    assert not [m for m in shown["messages"] if (m.get("text") or "").startswith("Marked pending")]
