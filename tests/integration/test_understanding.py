"""Each customer message understood by the router: language, sentiment and urgency stored, the priority raised
by the routing settings with the reason on the timeline, and the agent API showing it."""

# ruff: noqa: RUF001 - Turkish, Slovak and other customer text on purpose

from __future__ import annotations

from tests.integration.helpers import agent, customer_writes, online
from tests.integration.test_admin_api import admin_call


def _messages(desk, conv):
    from shopdesk.dal.table import deserialize

    got = desk.client("dynamodb").query(
        TableName=desk.table_name, KeyConditionExpression="PK = :pk AND begins_with(SK, :msg)",
        ExpressionAttributeValues={":pk": {"S": f"CONV#{conv}"}, ":msg": {"S": "MSG#"}}, ConsistentRead=True)
    return [deserialize(i) for i in got["Items"]]


def _notes(desk, conv):
    return [m["text"] for m in _messages(desk, conv) if m["direction"] == "system"]


def test_an_angry_urgent_message_is_raised_to_urgent_with_the_reason_on_the_timeline(desk):
    # Given a customer whose message is furious and time-critical
    conv = customer_writes(desk, "+31650000001",
                           "This is ridiculous!! My order still hasn't arrived and I need it TOMORROW for a wedding",
                           "SMu1")
    # When the router takes it
    desk.drain_queue(desk.work_queue_url, "router")
    # Then the message carries what was understood
    inbound = next(m for m in _messages(desk, conv) if m["direction"] == "inbound")
    assert (inbound["language"], inbound["sentiment"], inbound["emotion"], inbound["urgent"]) == (
        "en", "negative", "anger", True)
    assert "order_status" in inbound["intents"]
    assert desk.item(f"CONV#{conv}")["topics"] == {"intent:order_status"}      # a contact reason (logic.topics)
    # and the conversation is urgent, says why, and waits ahead of the queue
    item = desk.item(f"CONV#{conv}")
    assert (item["priority"], item["sentiment"], item["urgent"], item["language"]) == (
        "urgent", "negative", True, "en")
    assert item["QueueSK"].startswith("0#")
    assert "Priority raised from normal to urgent: urgent message (deadline); negative message (anger)" in _notes(
        desk, conv)
    assert {"kind": "priority_raised", "params": {"from": "normal", "to": "urgent", "causes": [
        {"cause": "urgent", "reasons": ["deadline"]}, {"cause": "negative", "emotion": "anger"}]}} in [
        m["event"] for m in _messages(desk, conv) if m["direction"] == "system"]
    status, body = agent(desk, "GET", f"/agent/conversations/{conv}", "alice")
    assert status == 200 and body["priority"] == "urgent" and body["sentiment"] == "negative" and body["urgent"]
    shown = next(m for m in body["messages"] if m["direction"] == "inbound")
    assert (shown["language"], shown["sentiment"], shown["emotion"], shown["urgent"]) == (
        "en", "negative", "anger", True)


def test_a_negative_message_raises_to_high_and_a_calm_one_changes_nothing(desk):
    unhappy = customer_writes(desk, "+31650000002", "Die Vase kam kaputt an, ich bin sehr enttäuscht", "SMu2")
    calm = customer_writes(desk, "+31650000003", "Hola, ¿hacéis envíos a Canarias?", "SMu3")
    desk.drain_queue(desk.work_queue_url, "router")
    assert desk.item(f"CONV#{unhappy}")["priority"] == "high"
    assert desk.item(f"CONV#{unhappy}")["language"] == "de"
    assert any(n.startswith("Priority raised from normal to high: negative message") for n in _notes(desk, unhappy))
    calm_item = desk.item(f"CONV#{calm}")
    assert (calm_item["priority"], calm_item["language"], calm_item["sentiment"]) == ("normal", "es", "neutral")
    assert "urgent" not in calm_item
    assert not any(n.startswith("Priority raised") for n in _notes(desk, calm))


def test_the_routing_settings_decide_and_priority_is_never_lowered(desk):
    # Given a shop that raises nothing for a negative message, and urgent ones only to high
    admin_call(desk, "PUT", "/admin/routing", "[admins]", {"priority_on_negative": "off", "priority_on_urgent": "high"})
    conv = customer_writes(desk, "+31650000004", "Kargo hala gelmedi, rezalet!", "SMu4")
    desk.drain_queue(desk.work_queue_url, "router")
    assert desk.item(f"CONV#{conv}")["priority"] == "normal"
    assert desk.item(f"CONV#{conv}")["sentiment"] == "negative"
    # When the customer then writes something urgent
    customer_writes(desk, "+31650000004", "ACİL: yarın sabah uçağım var", "SMu5")
    desk.drain_queue(desk.work_queue_url, "router")
    assert desk.item(f"CONV#{conv}")["priority"] == "high"
    assert desk.item(f"CONV#{conv}")["urgent"] is True
    # and a later calm message neither lowers it nor clears what was noted on the earlier messages
    customer_writes(desk, "+31650000004", "teşekkürler", "SMu6")
    desk.drain_queue(desk.work_queue_url, "router")
    item = desk.item(f"CONV#{conv}")
    assert item["priority"] == "high" and item["sentiment"] == "positive" and "urgent" not in item
    assert [n for n in _notes(desk, conv) if n.startswith("Priority raised")] == [
        "Priority raised from normal to high: urgent message (deadline, explicit)"]


def test_the_customer_keeps_the_language_they_write_in(desk):
    conv = customer_writes(desk, "+31650000005", "Dobrý deň, kde je moja objednávka? Ďakujem", "SMu7")
    desk.drain_queue(desk.work_queue_url, "router")
    customer_id = desk.item(f"CONV#{conv}")["customer"]["id"]
    assert desk.item(f"CUSTOMER#{customer_id}")["language"] == "sk"
    assert desk.item(f"CONV#{conv}")["language"] == "sk"


def test_an_assigned_conversation_is_raised_and_stays_with_its_agent(desk):
    online(desk, "alice")
    conv = customer_writes(desk, "+31650000006", "hi, a question about sizes", "SMu8")
    desk.drain_queue(desk.work_queue_url, "router")
    assert desk.item(f"CONV#{conv}")["assignee"] == "alice"
    customer_writes(desk, "+31650000006", "my child swallowed a part of the toy, is it toxic??", "SMu9")
    desk.drain_queue(desk.work_queue_url, "router")
    item = desk.item(f"CONV#{conv}")
    assert (item["priority"], item["assignee"]) == ("urgent", "alice")
    assert any("urgent message (safety)" in n for n in _notes(desk, conv))


def test_a_later_message_moves_mood_and_clocks_in_one_write_and_a_repeat_keeps_both(desk, monkeypatch):
    from shopdesk.dal.table import Table

    # Given a conversation routed, and the customer writing again, unhappy now
    conv = customer_writes(desk, "+31650000031", "Hi, can I change my delivery address?", "SMmood1")
    desk.drain_queue(desk.work_queue_url, "router")
    assert desk.item(f"CONV#{conv}")["sentiment"] == "neutral"
    alone: list[str] = []
    real = Table.update

    def update(self, pk, sk, change, **kwargs):
        if sk == "META" and "sentiment" in change.render()["UpdateExpression"]:
            alone.append(pk)
        return real(self, pk, sk, change, **kwargs)

    monkeypatch.setattr(Table, "update", update)
    version = desk.item(f"CONV#{conv}")["clocks_version"]
    customer_writes(desk, "+31650000031", "This is useless, still no answer and I am really disappointed",
                    "SMmood2")
    # When the router takes it
    desk.drain_queue(desk.work_queue_url, "router")
    # Then the mood moved with the clocks, in their write, not in an update of its own
    item = desk.item(f"CONV#{conv}")
    assert item["sentiment"] == "negative" and item["clocks_version"] > version
    assert alone == []
    # And a repeated delivery of the same routing work (the clocks already hold the message) writes the mood alone,
    # changing nothing
    from shopdesk import clock
    from shopdesk.dal.conversations import Conversations
    from shopdesk.logic import understand
    from shopdesk.logic.assign import _move_clocks
    from shopdesk.logic.sla_engine import book_for

    conversations = Conversations(Table(desk.table_name), 16)
    sk = next(m["SK"] for m in _messages(desk, conv) if m.get("text", "").startswith("This is useless"))
    understood = understand.read(conversations, conv, sk)
    before = desk.item(f"CONV#{conv}")["clocks_version"]
    _move_clocks(conversations, conv, clock.parse_iso(sk.split("#")[1]), book_for(conversations, {}), understood)
    assert desk.item(f"CONV#{conv}")["clocks_version"] == before and alone == [f"CONV#{conv}"]
    assert desk.item(f"CONV#{conv}")["sentiment"] == "negative"
