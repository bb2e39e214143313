"""An agent's reply and the SLA clocks it stops are one write: the timeline never shows a reply whose clocks
still run (a breach flagged on an answered conversation), and a reply costs one transaction, not two."""

from __future__ import annotations

from shopdesk.dal.conversations import Conversations
from shopdesk.dal.table import Table
from tests.integration.helpers import agent, customer_writes, online


def _waiting(desk, phone: str, sid: str) -> str:
    online(desk, "alice")
    conv = customer_writes(desk, phone, "Is my parcel lost?", sid)
    desk.drain_queue(desk.work_queue_url, "router")
    assert desk.item(f"CONV#{conv}", "DEADLINE#first_response") is not None
    return conv


def _spy_transactions(monkeypatch) -> list[list[dict]]:
    seen: list[list[dict]] = []
    real = Table.transact

    def transact(self, operations, **options):
        ops = list(operations)
        seen.append(ops)
        return real(self, ops, **options)

    monkeypatch.setattr(Table, "transact", transact)
    return seen


def _after_first_clock_read(monkeypatch, meanwhile) -> None:
    """Run ``meanwhile()`` right after the first ``read_clocks``: another change lands between a read and its write."""
    real = Conversations.read_clocks
    raced = []

    def read_clocks(self, conversation_id):
        read = real(self, conversation_id)
        if not raced:
            raced.append(True)
            meanwhile()
        return read

    monkeypatch.setattr(Conversations, "read_clocks", read_clocks)


def _bump_clocks(desk, conv: str) -> None:
    """Another event moves the conversation's clocks (their version)."""
    desk.client("dynamodb").update_item(
        TableName=desk.table_name, Key={"PK": {"S": f"CONV#{conv}"}, "SK": {"S": "META"}},
        UpdateExpression="ADD clocks_version :one", ExpressionAttributeValues={":one": {"N": "1"}})


def _keys(ops: list[dict]) -> set[tuple[str, str]]:
    keys = set()
    for op in ops:
        body = next(iter(op.values()))
        key = body.get("Key") or {k: body["Item"][k] for k in ("PK", "SK")}
        keys.add((key["PK"]["S"], key["SK"]["S"].split("#")[0]))
    return keys


def test_a_reply_stops_the_clock_in_the_same_transaction_as_the_message(desk, monkeypatch):
    conv = _waiting(desk, "+31612349101", "SMrc1")
    seen = _spy_transactions(monkeypatch)

    status, body = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "Found it"})

    assert status == 202, body
    assert len(seen) == 1, seen
    assert {("CONV#" + conv, "MSG"), ("CONV#" + conv, "META"), ("CONV#" + conv, "DEADLINE")} <= _keys(seen[0])
    assert desk.item(f"CONV#{conv}", "DEADLINE#first_response") is None      # the clock stopped
    _, shown = agent(desk, "GET", f"/agent/conversations/{conv}", "alice")
    assert shown["sla"]["first_response_at"] is not None and shown["sla"]["first_response_due_at"] is None


def test_a_clock_change_meanwhile_makes_the_reply_read_again_and_land_once(desk, monkeypatch):
    conv = _waiting(desk, "+31612349102", "SMrc2")
    seen = _spy_transactions(monkeypatch)
    # another event moves the clocks between this read and the reply's write
    _after_first_clock_read(monkeypatch, lambda: _bump_clocks(desk, conv))

    status, body = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "On its way"})

    assert status == 202, body
    assert len(seen) == 2          # the first lost to the change and wrote nothing; the second read again
    _, shown = agent(desk, "GET", f"/agent/conversations/{conv}", "alice")
    assert [m["text"] for m in shown["messages"] if m["direction"] == "outbound"] == ["On its way"]
    assert desk.item(f"CONV#{conv}", "DEADLINE#first_response") is None
