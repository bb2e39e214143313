"""The reply keys (``REPLYKEY#<conversation>`` / ``<caller>#<key>``, an Idempotency-Key's item: a digest of the reply's
body, which a short reply's words can be guessed back from) of an erased customer's conversations go with the erase,
whoever took them, a reply stored or none (the function that took it was stopped)."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from shopdesk.dal.conversations import Conversations
from shopdesk.dal.privacy import SubjectData
from shopdesk.dal.table import Table
from tests.integration.helpers import customer_writes, online
from tests.integration.test_privacy import admin, run_jobs, scan
from tests.support import http_event


def _keyed_reply(desk: Any, conv: str, agent_id: str, text: str) -> int:
    event = http_event("POST", f"/agent/conversations/{conv}/replies", json.dumps({"text": text}),
                       {"content-type": "application/json", "Idempotency-Key": str(uuid.uuid4())},
                       claims={"cognito:username": agent_id, "name": agent_id.title()})
    return desk.invoke("agent_api", event)["statusCode"]


def _reply_keys(desk: Any) -> list[str]:
    """The conversation of each reply key in the table."""
    return sorted(str(i["conversation_id"]) for i in scan(desk) if i.get("type") == "reply_key")


def test_an_erase_deletes_the_reply_keys_of_the_customer_s_conversations_and_leaves_the_others(desk, monkeypatch):
    # Given a customer's conversation answered with keyed replies by an agent of the desk and by a caller with no
    # agent item, and a key a stopped function of a caller with no agent item took and never used (no reply stored, no
    # author names them)
    conv = customer_writes(desk, "+31655507781", "Is it in stock?", "SMrk1")
    other = customer_writes(desk, "+31655507782", "Where is my parcel?", "SMrk2")
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    online(desk, "alice", "bob", "carol")
    assert _keyed_reply(desk, conv, "alice", "Yes") == 202
    assert _keyed_reply(desk, conv, "zed", "No") == 202
    assert _keyed_reply(desk, other, "alice", "Today") == 202
    digest = "sha256:" + hashlib.sha256(b'{"text": "Maybe"}').hexdigest()
    table = Table(desk.table_name)
    Conversations(table, 16).hold_reply_key("ghost", conv, "stopped-1", digest, 86400, 120)
    assert _reply_keys(desk) == sorted([conv, conv, conv, other])
    queried: list[str] = []
    partition = SubjectData._partition

    def counted(self: SubjectData, pk: str, prefix: str | None = None) -> list[dict[str, Any]]:
        queried.append(pk)
        return partition(self, pk, prefix)

    monkeypatch.setattr(SubjectData, "_partition", counted)
    # When an admin erases the customer
    status, started = admin(desk, "POST", f"/admin/customers/{customer}/erase")
    assert status == 202, started
    run_jobs(desk)
    assert admin(desk, "GET", f"/admin/privacy/jobs/{started['job_id']}")[1]["status"] == "done"
    # Then no reply key of their conversation is left (a digest of "Yes" is guessed in one try); the other's stays
    assert _reply_keys(desk) == [other]
    # read with one Query of the conversation, every caller's keys, not one per agent of the desk
    assert [pk for pk in queried if pk.startswith("REPLYKEY#")] == [f"REPLYKEY#{conv}"]
