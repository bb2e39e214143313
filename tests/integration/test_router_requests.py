"""How many AWS requests the router makes for one customer's message (bench/cost.py counts them per function over a
whole workload; this counts one message's work): what the work has read once, it does not read again. The desk is
the cost bench's: the FAQ bot on, acknowledgements on, agents online.

Settings the router keeps for a while per container (routing and SLA policies, privacy settings, the knowledge
base's revision) are left out of the counts: whether a message pays for their refresh depends on the clock."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from tests.integration.helpers import customer_writes, online
from tests.integration.test_admin_api import admin_call
from tests.integration.test_bot import KB, bot_messages, conversation, kb_import


@pytest.fixture
def bot(desk):
    """The cost bench's bot: the small test knowledge base, on (test_bot.py's). These tests run the router
    themselves, at the moments they count (``Desk.routes_before_agents``)."""
    desk.routes_before_agents = False
    assert kb_import(desk, KB)[0] == 200
    assert admin_call(desk, "PUT", "/admin/bot", "[admins]", {"enabled": True, "fallback_language": "en",
                                                              "confidence_threshold": 0.26})[0] == 200
    return desk


def _what(operation: str, params: dict[str, Any]) -> str:
    """``GetItem CONV META``, ``Query Pool``, ``TransactWriteItems``: an operation and the kind of item it reads."""
    key = params.get("Key") or {}
    if key:
        pk, sk = key["PK"]["S"], key["SK"]["S"]
        return f"{operation} {pk.split('#')[0] if pk.startswith(('CONV#', 'CUSTOMER#', 'EXTMSG#')) else pk} " \
               f"{sk.split('#')[0]}"
    if operation == "Query":
        pk = next(iter((params.get("ExpressionAttributeValues") or {}).values()), {}).get("S", "")
        return f"Query {params.get('IndexName') or (pk if pk.startswith(('CONFIG#', 'KB#')) else pk.split('#')[0])}"
    return operation


def _cached(what: str) -> bool:
    return (" KB" in what or " CONFIG#" in what) and "CONFIG#bot" not in what


def routed(desk) -> list[str]:
    """The router's requests (its own clients) while it takes what waits on the work queue, settings it keeps
    for a while left out."""
    from shopdesk.dal.aws import client

    seen: list[str] = []

    def before(params: dict[str, Any], model: Any, **_: Any) -> None:
        seen.append(f"{model.service_model.service_name}.{_what(model.name, params)}")

    clients = [client(service) for service in ("dynamodb", "sqs", "events", "s3", "secretsmanager")]
    for each in clients:
        each.meta.events.register("before-parameter-build", before)
    try:
        desk.drain_queue(desk.work_queue_url, "router")
    finally:
        for each in clients:
            each.meta.events.unregister("before-parameter-build", before)
    return [what for what in seen if not _cached(what)]


def test_a_new_conversations_first_message_and_its_follow_ups_read_nothing_twice(bot):
    assert admin_call(bot, "PUT", "/admin/routing", "[admins]", {"acknowledgements": True})[0] == 200
    online(bot, "alice", "bob")
    customer_writes(bot, "+31600000980", "How long does standard shipping take?", "SMreq0")
    routed(bot)                      # a warm container: the index built, the settings read
    # A new conversation's first message, which the bot answers
    conv = customer_writes(bot, "+31600000981", "How long does standard shipping take?", "SMreq1")
    first = routed(bot)
    assert len(bot_messages(bot, conv)) == 1
    counts = Counter(first)
    # the conversation read once (its clocks start from the classification's write, the answer moves them on
    # from that read), the message once (understood, then the bot's), the bot's settings once
    assert counts["dynamodb.GetItem CONV META"] == 1, first
    assert counts["dynamodb.GetItem CONV MSG"] == 1, first
    assert counts["dynamodb.GetItem CONFIG#bot settings"] == 1, first
    assert len(first) == 14, first                  # 17 before
    # Its follow-up a moment later, which the bot hands to a person: acknowledged and assigned
    customer_writes(bot, "+31600000981", "And to Germany?", "SMreq2")
    second = routed(bot)
    seen = conversation(bot, conv)
    assert seen["bot"]["state"] == "handed_off" and seen["assignee"] in ("alice", "bob"), seen
    assert [m["kind"] for m in seen["messages"] if m["direction"] == "outbound"][-1] == "acknowledgement"
    counts = Counter(second)
    # the team's online agents read once, for the acknowledgement's promise and the assignment
    assert counts["dynamodb.Query Pool"] == 1 and counts["dynamodb.BatchGetItem"] == 1, second
    assert counts["dynamodb.GetItem CONV MSG"] == 1, second
    assert len(second) == 20, second                # 23 before
    # And the next, in a conversation a person has: no bot settings, no second read for the acknowledgement
    customer_writes(bot, "+31600000981", "Are you there?", "SMreq3")
    third = routed(bot)
    counts = Counter(third)
    assert counts["dynamodb.GetItem CONFIG#bot settings"] == 0, third
    assert counts["dynamodb.GetItem CONV META"] == 2, third         # the clocks moved on, then admit's read
    assert len(third) == 7, third                   # 9 before


def test_the_bots_settings_are_read_once_a_batch_and_a_change_counts_from_the_next(bot):
    online(bot, "alice")
    customer_writes(bot, "+31600000982", "How long does standard shipping take?", "SMreq4")
    customer_writes(bot, "+31600000983", "How long does standard shipping take?", "SMreq5")
    # Two customers' first messages in one batch: the settings read once
    batch = routed(bot)
    assert batch.count("dynamodb.GetItem CONFIG#bot settings") == 1, batch
    # The bot turned off: the next batch reads it, and the question goes to a person
    assert admin_call(bot, "PUT", "/admin/bot", "[admins]", {"enabled": False})[0] == 200
    conv = customer_writes(bot, "+31600000984", "How long does standard shipping take?", "SMreq6")
    routed(bot)
    assert bot_messages(bot, conv) == [] and conversation(bot, conv)["assignee"] == "alice"
