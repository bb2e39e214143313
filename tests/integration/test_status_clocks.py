"""A status change and the SLA clocks it pauses or ends are one write: a conversation marked pending never shows
a running deadline (a breach flagged on a paused conversation), and the change costs one transaction, not two."""

from __future__ import annotations

from shopdesk.dal.conversations import Conversations
from tests.integration.helpers import agent
from tests.integration.test_reply_clocks import _keys, _spy_transactions, _waiting


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
    real = Conversations.read_clocks
    raced = []

    def read_clocks(self, conversation_id):
        read = real(self, conversation_id)
        if not raced:          # another event moves the clocks between this read and the status write
            raced.append(True)
            desk.client("dynamodb").update_item(
                TableName=desk.table_name, Key={"PK": {"S": f"CONV#{conv}"}, "SK": {"S": "META"}},
                UpdateExpression="ADD clocks_version :one", ExpressionAttributeValues={":one": {"N": "1"}})
        return read

    monkeypatch.setattr(Conversations, "read_clocks", read_clocks)

    status, body = agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "pending"})

    assert status == 200, body
    assert len(seen) == 2          # the first lost to the change and wrote nothing; the second read again
    _, shown = agent(desk, "GET", f"/agent/conversations/{conv}", "alice")
    assert [m["text"] for m in shown["messages"] if m["text"].startswith("Marked")] == ["Marked pending by alice"]
    assert desk.item(f"CONV#{conv}", "DEADLINE#first_response") is None


def test_a_status_changed_by_someone_else_meanwhile_is_a_conflict_and_writes_nothing(desk, monkeypatch):
    conv = _waiting(desk, "+31612349204", "SMsc4")
    real = Conversations.read_clocks
    raced = []

    def read_clocks(self, conversation_id):
        read = real(self, conversation_id)
        if not raced:          # an admin resolves it between alice's read and her write
            raced.append(True)
            assert agent(desk, "POST", f"/agent/conversations/{conv}/status", "boss", {"status": "resolved"},
                         groups="[admins]")[0] == 200
        return read

    monkeypatch.setattr(Conversations, "read_clocks", read_clocks)

    status, body = agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "pending"})

    assert status == 409, body
    _, shown = agent(desk, "GET", f"/agent/conversations/{conv}", "boss", groups="[admins]")
    assert shown["status"] == "resolved"
    assert not [m for m in shown["messages"] if (m.get("text") or "").startswith("Marked pending")]
