"""The timeline's system entries: each kind's English text as it always was, and the same said structured (kind and
params: ids and machine values, never English made for people)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from shopdesk.dal import items as it
from shopdesk.dal.table import deserialize, serialize
from shopdesk.logic import timeline
from shopdesk.logic.timeline import change
from shopdesk.models import ConversationStatus, Direction, Message, Priority

AT = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def said(entry: Message) -> tuple[str | None, str, dict]:
    assert entry.direction is Direction.SYSTEM and entry.event is not None
    return entry.text, entry.event.kind, entry.event.params


# ------------------------------------------------------------------------------ assignment

NAMES = {"alice": "Alice Example", "bob": "Bob", "carol": "Carol"}


def test_assignments_name_agents_by_id_in_the_event_whatever_the_text_says():
    assert said(timeline.assigned("c_1", "alice", "Alice Example")) == (
        "Assigned to Alice Example", "assigned", {"agent": "alice"})
    by = timeline.assigned_by("c_1", "bob", "alice", None, None, NAMES)
    assert said(by) == ("Assigned to Bob by Alice Example", "assigned_by", {"agent": "bob", "by": "alice"})
    assert by.author == "alice"
    assert said(timeline.assigned_by("c_1", "bob", "alice", "carol", "VIP, call back", NAMES)) == (
        "Transferred from Carol to Bob by Alice Example. Hand-off note: VIP, call back", "transferred",
        {"from": "carol", "to": "bob", "by": "alice", "note": "VIP, call back"})
    assert said(timeline.assignee_silent("c_1", "bob", NAMES)) == (
        "No reply from Bob in time: back in the queue for the next agent", "assignee_silent",
        {"agent": "bob"})
    assert said(timeline.agent_offline("c_1", "bob", "Bob Example")) == (
        "Bob Example went offline: back in the queue", "agent_offline", {"agent": "bob"})


def test_an_agent_with_no_name_is_said_as_an_agent_never_by_their_email_nor_their_id():
    # the stored text is the customer's too (their export): an agent's work email is never in it
    assert timeline.agent_said("  ") == "an agent"
    assert timeline.agent_said(None) == "an agent"
    assert timeline.agent_said(" Ana ") == "Ana"
    assert said(timeline.assigned("c_1", "u_7f3a", None)) == ("Assigned to an agent", "assigned", {"agent": "u_7f3a"})
    assert said(timeline.assigned_by("c_1", "u_9c1d", "u_7f3a", None, None, {"u_7f3a": "Ana"}))[0] == (
        "Assigned to an agent by Ana")
    assert said(timeline.agent_offline("c_1", "u_7f3a", None))[0] == "An agent went offline: back in the queue"


def test_every_text_that_names_an_agent_says_them_by_name_else_an_agent_never_by_id():
    # Given u_7f3a named Ana, and u_0b2e with no name (not in the names: "an agent")
    names = {"u_7f3a": timeline.agent_said("Ana")}
    ana, nobody = "u_7f3a", "u_0b2e"
    until = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
    moved = [change("team", to="billing", **{"from": "default"}),
             change("not_in_team", agent=nobody, team="billing", queued=True)]
    # When each entry that names an agent is made
    texts = [timeline.status_changed("c_1", ConversationStatus.OPEN, ConversationStatus.PENDING, ana, names).text,
             timeline.status_changed("c_1", ConversationStatus.RESOLVED, ConversationStatus.OPEN, nobody, names).text,
             timeline.snoozed("c_1", until, ana, names).text,
             timeline.assignee_silent("c_1", nobody, names).text,
             timeline.sla_missed_reassigned("c_1", "first_response", ana, names).text,
             timeline.routing_changed("c_1", ana, moved, None, names).text,
             timeline.labels_changed("c_1", nobody, [change("labels_added", labels=["vip"])], names).text,
             timeline.macro_applied("c_1", "mc_1", "Hand on", ana, [change("assigned", agent=nobody),
                                                                    change("not_in_team", agent=ana, team="billing",
                                                                           queued=False)], names).text,
             timeline.order_cancelled("c_1", "#1001", ana, "customer", names).text,
             timeline.order_refunded("c_1", "#1001", nobody, "Refunded 5.00 EUR on #1001", "5.00", "EUR", None,
                                     names).text,
             timeline.order_action_failed("c_1", "cancel", "#1001", nobody, "too late", names).text,
             timeline.folded("c_1", "c_2", "sms", 1, ana, names).text,
             timeline.folded_into("c_2", "c_1", nobody, names).text,
             timeline.unfolded("c_1", "c_2", ana, names).text,
             timeline.transcript_sent("c_1", "ada@customer.example", "en", 2, nobody, names).text]
    # Then each says them by name, else "an agent" ("An agent" opening a sentence); the ids are the events' only
    assert texts == [
        "Marked pending by Ana",
        "Reopened by an agent",
        "Snoozed until 2026-12-04T08:00:00.000Z by Ana",
        "No reply from an agent in time: back in the queue for the next agent",
        "First response target missed: taken from Ana for the next agent",
        "Routing changed by Ana: team from default to billing. An agent is not in billing: back in the "
        "queue",
        "Labels changed by an agent: labels +vip",
        "Macro “Hand on” applied by Ana: assigned to an agent; Ana is not in billing: "
        "unassigned",
        "Order #1001 cancelled by Ana (reason: customer)",
        "Refunded 5.00 EUR on #1001 by an agent (everything not yet refunded)",
        "An agent tried to cancel order #1001: too late",
        "Conversation c_2 (SMS, 1 message) merged into this one with its customer by Ana: its messages "
        "show here",
        "Merged into conversation c_1 with its customer by an agent: it goes on there",
        "Conversation c_2 taken apart from this one: its customers were unmerged by Ana",
        "Transcript sent to ada@customer.example (en, 2 messages) by an agent",
    ]
    assert not any(ana in text or nobody in text for text in texts)


# ------------------------------------------------------------------------------ status

def test_status_entries_carry_the_status_and_iso_times():
    assert said(timeline.status_changed("c_1", ConversationStatus.OPEN, ConversationStatus.RESOLVED, "alice",
                                        NAMES)) == (
        "Marked resolved by Alice Example", "status_changed", {"status": "resolved", "by": "alice"})
    assert said(timeline.status_changed("c_1", ConversationStatus.RESOLVED, ConversationStatus.OPEN, "alice",
                                        NAMES)) == ("Reopened by Alice Example", "reopened", {"by": "alice"})
    reopened = timeline.reopened_by_customer("c_1", AT)
    assert said(reopened) == ("Reopened by the customer's message", "reopened_by_customer", {})
    assert reopened.created_at == AT - timedelta(milliseconds=1)
    kept = timeline.thanks_kept("c_1", AT)
    assert said(kept) == ("The customer's thanks, kept here: the conversation stays resolved", "thanks_kept", {})
    assert kept.created_at == AT + timedelta(milliseconds=1)
    kept = timeline.kept_resolved("c_1", "opt_out", "sms", AT)
    assert said(kept) == ("The customer unsubscribed from SMS (they replied STOP): kept here, the conversation stays "
                          "resolved", "kept_resolved", {"why": "opt_out", "channel": "sms"})
    assert kept.created_at == AT + timedelta(milliseconds=1)
    assert said(timeline.nothing_to_answer("c_1", "auto_reply", "email")) == (
        "An automatic reply (out of office): nothing to answer, resolved", "nothing_to_answer",
        {"why": "auto_reply", "channel": "email"})
    assert said(timeline.clocks_resumed_subscribed("c_1", "whatsapp")) == (
        "The customer subscribed again on WhatsApp (they replied START): the SLA clocks run again",
        "clocks_resumed_subscribed", {"channel": "whatsapp"})
    until = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
    assert said(timeline.snoozed("c_1", until, "alice", NAMES)) == (
        "Snoozed until 2026-12-04T08:00:00.000Z by Alice Example", "snoozed",
        {"until": "2026-12-04T08:00:00.000Z", "by": "alice"})
    assert said(timeline.snooze_ended("c_1")) == ("Snooze ended: open again", "snooze_ended", {})


# ------------------------------------------------------------------------------ SLA

def test_sla_entries_name_the_target_by_its_key_and_the_due_time_as_iso():
    due = "2026-12-03T13:00:00.000Z"
    assert said(timeline.sla_missed("c_1", "first_response", due)) == (
        f"First response target missed (due {due})", "sla_missed", {"target": "first_response", "due": due})
    assert said(timeline.sla_warning("c_1", "resolution", due)) == (
        f"Resolution target close: due {due}", "sla_warning", {"target": "resolution", "due": due})
    assert said(timeline.sla_missed_reassigned("c_1", "next_response", "bob", NAMES)) == (
        "Next response target missed: taken from Bob for the next agent", "sla_missed_reassigned",
        {"target": "next_response", "agent": "bob"})


# ------------------------------------------------------------------------------ routing

def test_a_raised_priority_lists_its_causes_as_values():
    causes = [timeline.urgent_cause(["deadline", "money"]), timeline.negative_cause("anger")]
    assert said(timeline.priority_raised("c_1", Priority.NORMAL, Priority.URGENT, causes)) == (
        "Priority raised from normal to urgent: urgent message (deadline, money); negative message (anger)",
        "priority_raised", {"from": "normal", "to": "urgent", "causes": [
            {"cause": "urgent", "reasons": ["deadline", "money"]}, {"cause": "negative", "emotion": "anger"}]})
    assert said(timeline.priority_raised("c_1", Priority.LOW, Priority.HIGH, [timeline.negative_cause(None)]))[0] \
        == "Priority raised from low to high: negative message"


def test_label_and_macro_entries_list_their_changes_structured():
    changes = [change("labels_added", labels=["vip", "returns"]), change("labels_removed", labels=["spam"]),
               change("team", to="billing", label="returns", **{"from": "default"}),
               change("not_in_team", agent="bob", team="billing", queued=False),
               change("priority", to="high", **{"from": "normal"}),
               change("status", status="snoozed", until="2026-12-04T08:00:00.000Z"),
               change("assigned", agent="carol"), change("queued"), change("note"),
               change("reply", canned_response="where_is_my_order")]
    entry = timeline.macro_applied("c_1", "mc_1", "Escalate", "alice", changes, NAMES)
    assert said(entry) == (
        "Macro “Escalate” applied by Alice Example: labels +vip, +returns; labels -spam; team default → billing "
        "(label returns); Bob is not in billing: unassigned; priority normal → high; status snoozed "
        "until 2026-12-04T08:00:00.000Z; assigned to Carol; back to the queue; a note; reply with where_is_my_order",
        "macro_applied", {"macro": "Escalate", "macro_id": "mc_1", "by": "alice", "changes": changes})
    assert entry.author == "alice"
    assert changes[2] == {"change": "team", "from": "default", "to": "billing", "label": "returns"}
    titled = change("reply", canned_response="where_is_my_order", title="Where is my order?")
    assert timeline.macro_applied("c_1", "mc_1", "Reply", "alice", [titled], NAMES).text == \
        "Macro “Reply” applied by Alice Example: reply with “Where is my order?”"
    assert timeline.macro_applied("c_1", "mc_1", "Noop", "alice", [], NAMES).text == \
        "Macro “Noop” applied by Alice Example: nothing to change"
    assert said(timeline.labels_changed("c_1", "alice", changes[:1], NAMES)) == (
        "Labels changed by Alice Example: labels +vip, +returns", "labels_changed",
        {"by": "alice", "changes": changes[:1]})


# ------------------------------------------------------------------------------ the bot

def test_the_bots_entries_carry_its_reason_key_and_best_article():
    assert said(timeline.bot_handoff("c_1", "bot", "legal")) == (
        "Handed over by the bot: a legal matter", "bot_handoff", {"reason": "legal"})
    assert said(timeline.bot_handoff("c_1", "bot", "low_confidence", "returns-policy", 0.41237)) == (
        "Handed over by the bot: no answer the bot is sure of (best article returns-policy, confidence 0.41)",
        "bot_handoff", {"reason": "low_confidence", "article": "returns-policy", "confidence": 0.4124})
    assert said(timeline.bot_handoff("c_1", "bot", "brand_new"))[0] == "Handed over by the bot: brand_new"
    assert said(timeline.bot_resolved("c_1", "bot", "no_reply")) == (
        "Resolved by the bot: no reply from the customer", "bot_resolved", {"why": "no_reply"})
    assert timeline.bot_resolved("c_1", "bot", "confirmed").text == \
        "Resolved by the bot: the customer confirmed the answer"


# ------------------------------------------------------------------------------ orders

def test_order_actions_carry_the_order_amounts_and_lines_and_a_refusal_in_the_platforms_words():
    assert said(timeline.order_cancelled("c_1", "#1001", "alice", "inventory", NAMES)) == (
        "Order #1001 cancelled by Alice Example (reason: inventory)", "order_cancelled",
        {"order": "#1001", "by": "alice", "reason": "inventory"})
    lines = [{"title": "Blue shoes", "quantity": 2}]
    assert said(timeline.order_refunded("c_1", "#1001", "alice", "Refunded 24.00 EUR on #1001", "24.00", "EUR",
                                        lines, NAMES)) == (
        "Refunded 24.00 EUR on #1001 by Alice Example (2 x Blue shoes)", "order_refunded",
        {"order": "#1001", "by": "alice", "amount": "24.00", "currency": "EUR", "items": lines})
    everything = timeline.order_refunded("c_1", "#1001", "alice", "Refunded 30.00 EUR on #1001", "30.00", "EUR", None,
                                        NAMES)
    assert everything.text.endswith("(everything not yet refunded)") and "items" not in everything.event.params
    assert said(timeline.order_action_failed("c_1", "refund", "#1001", "alice", "Shopify refused: too late",
                                             NAMES)) == (
        "Alice Example tried to refund order #1001: Shopify refused: too late", "order_refund_failed",
        {"order": "#1001", "by": "alice", "error": "Shopify refused: too late"})


# ------------------------------------------------------------------------------ transcripts

def test_transcript_entries_say_who_sent_it_or_that_it_went_on_resolve():
    assert said(timeline.transcript_sent("c_1", "ana@example.com", "es", 4, "alice", NAMES)) == (
        "Transcript sent to ana@example.com (es, 4 messages) by Alice Example", "transcript_sent",
        {"to": "ana@example.com", "language": "es", "messages": 4, "by": "alice"})
    automatic = timeline.transcript_sent("c_1", "ana@example.com", "en", 1, None, {})
    assert automatic.text.endswith("by system") and automatic.author is None and "by" not in automatic.event.params
    assert said(timeline.transcript_not_sent("c_1", "the customer has no email address")) == (
        "No transcript sent on resolve: the customer has no email address", "transcript_not_sent",
        {"reason": "no_email"})


# ------------------------------------------------------------------------------ stored

def test_an_event_round_trips_through_the_message_item_and_dynamodb():
    entry = timeline.bot_handoff("c_1", "bot", "low_confidence", "returns-policy", 0.41)
    item = deserialize(serialize(it.message_item(entry)))
    assert item["event"] == {"kind": "bot_handoff", "params": {"reason": "low_confidence",
                                                                "article": "returns-policy", "confidence": 0.41}}
    assert it.message_from_item(item).event == entry.event
    assert it.message_from_item({**item, "event": None}).event is None      # an entry from before events


def test_an_event_is_bounded_and_says_so():
    long_note = "n" * 50_000
    entry = timeline.assigned_by("c_1", "bob", "alice", None, long_note, NAMES)
    item = it.message_item(entry)
    assert "event" in item["truncated"]
    assert len(item["event"]["params"]["note"].encode()) <= it.EVENT_STRING
    assert it.message_from_item(item).event.params["agent"] == "bob"
    many = timeline.labels_changed("c_1", "alice", [change("labels_added", labels=[f"l{i}" * 400 for i in range(60)])
                                                    for _ in range(20)], NAMES)
    stored = it.message_item(many)
    assert "event" in stored["truncated"] and len(json.dumps(stored["event"]).encode()) <= it.EVENT_BYTES
    assert stored["event"]["params"]["changes"][0]["change"] == "labels_added"     # the shape is kept
