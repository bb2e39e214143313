"""The web inbox with mentions and snooze presets: a mention lights up the other agent's open inbox live; a
snooze ends at its time on the stack's moved clock and the conversation comes back to its agent live."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from playwright.sync_api import expect
from tests.e2e.browser.support import frame_seen, send_sms, set_presence
from tests.e2e.browser.test_inbox_browser import conversation_item, conversation_of, expect_live, timeline

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_inboxes")]


def test_a_mention_lights_up_the_other_agents_inbox_live(stack, open_inbox):
    # Given alice holds a customer's conversation and bob has his inbox open, with no unread mention
    set_presence(stack, "bob", "away")
    send_sms(stack, "+14155550301", "The parcel arrived broken")
    conv = stack.wait_for(lambda: conversation_of(stack, "alice", "+14155550301"))
    set_presence(stack, "bob", "online")
    for item in stack.get("/agent/conversations?view=mentions&limit=100", token=stack.token("bob")).json()["items"]:
        if item["mention"]["unread"]:            # what earlier tests left unread
            stack.post(f"/agent/conversations/{item['id']}/mentions/read", token=stack.token("bob"))
    bob = open_inbox("bob")
    expect_live(bob)
    mentions = bob.get_by_role("button", name=re.compile("^Mentions"))
    expect(mentions).to_be_visible()
    expect(mentions.locator(".count")).to_have_count(0)
    # When alice mentions him in a note
    answer = stack.post(f"/agent/conversations/{conv['id']}/notes", json={"text": "@bob can you check the photos?"},
                        token=stack.token("alice"))
    assert answer.status == 201, answer.text
    # Then his Mentions view shows one unread, without a reload, told by a mention notice on his socket
    expect(mentions.locator(".count")).to_have_text("1")
    frame_seen(bob, lambda f: f.get("kind") == "mention" and f["conversation_id"] == conv["id"])
    # And the view lists the conversation as mentioned; opening it reads the mention and the badge goes out
    mentions.click()
    item = conversation_item(bob, "+14155550301")
    expect(item).to_contain_text("Mentioned")
    item.get_by_role("button").click()
    expect(timeline(bob)).to_contain_text("@bob can you check the photos?")
    expect(mentions.locator(".count")).to_have_count(0)
    assert bob.errors == []  # type: ignore[attr-defined]


def test_a_snooze_preset_wakes_at_its_time_on_the_moved_clock(stack, open_inbox):
    set_presence(stack, "bob", "away")
    send_sms(stack, "+14155550302", "Call me back this afternoon")
    page = open_inbox("alice")
    expect_live(page)
    item = conversation_item(page, "+14155550302")
    item.get_by_role("button").click()
    actions = page.get_by_role("group", name="Actions")
    # When alice snoozes it for later today with the preset
    actions.get_by_role("button", name="Snooze…").click()
    actions.get_by_role("group", name="Quick choices").get_by_role("button", name="Later today").click()
    expect(page.get_by_role("status", name="Notifications")).to_contain_text("Snoozed until")
    expect(page.locator(".conversation-head")).to_contain_text("Snoozed until")
    conv = conversation_of(stack, "alice", "+14155550302")
    assert conv["status"] == "snoozed" and conv["snoozed_until"]
    # And the stack's clock moves to a minute past that time, and the per-minute sweep runs
    now = datetime.fromisoformat(stack.get("/_local/clock").json()["now"].replace("Z", "+00:00"))
    until = datetime.fromisoformat(conv["snoozed_until"].replace("Z", "+00:00"))
    stack.advance((until - now).total_seconds() + 60)
    stack.run_schedule("SlaSweepFunction")
    # Then the open conversation is open again, still alice's, without a reload
    expect(page.locator(".conversation-head")).to_contain_text("Open")
    expect(timeline(page)).to_contain_text("Snooze ended: open again")
    assert conversation_of(stack, "alice", "+14155550302")["assignee"] == "alice"
    assert page.errors == []  # type: ignore[attr-defined]
