"""The web inbox in a real browser against the local stack: what an agent and a supervisor do all day."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from tests.e2e.browser.support import axe_violations, send_sms, set_presence

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_inboxes")]


def conversation_item(page: Page, name: str):
    return page.get_by_role("list", name="Conversations").get_by_role("listitem").filter(has_text=name)


def timeline(page: Page):
    return page.get_by_role("list", name="Timeline")


def test_an_sms_arrives_live_is_answered_delivered_and_noted(stack, open_inbox):
    # Given alice signed in with her inbox open (bob away, so the customer is hers)
    set_presence(stack, "bob", "away")
    page = open_inbox("alice")
    expect(page.get_by_role("button", name=re.compile("^Mine"))).to_have_attribute("aria-pressed", "true")

    # When a customer texts the shop, it appears without a reload
    send_sms(stack, "+14155550201", "Hi! Where is order #2001?")
    item = conversation_item(page, "+14155550201")
    expect(item).to_be_visible()
    expect(item).to_contain_text("Where is order #2001?")

    # And alice opens it, replies, and sees the reply delivered
    item.get_by_role("button").click()
    expect(page.get_by_role("heading", name="+14155550201")).to_be_visible()
    expect(timeline(page)).to_contain_text("Hi! Where is order #2001?")
    page.get_by_role("textbox", name="Reply", exact=True).fill("It ships today; tracking follows by SMS.")
    page.get_by_role("button", name="Send", exact=True).click()
    reply = timeline(page).get_by_role("listitem").filter(has_text="It ships today")
    expect(reply).to_contain_text("via SMS")
    expect(reply).to_contain_text("Delivered")
    sent = [r["form"] for r in stack.outbox() if r["provider"] == "twilio" and r.get("form")]
    assert {"To": "+14155550201", "Body": "It ships today; tracking follows by SMS."}.items() <= next(
        f for f in sent if f.get("Body", "").startswith("It ships today")).items()

    # And an internal note shows as internal, never sent
    page.get_by_role("textbox", name="Note", exact=True).fill("Customer is a repeat buyer")
    page.get_by_role("button", name="Add note").click()
    note = timeline(page).get_by_role("listitem").filter(has_text="Customer is a repeat buyer")
    expect(note).to_contain_text("Internal note")
    assert not any("repeat buyer" in str(r.get("form")) for r in stack.outbox())

    # And the page with a conversation open passes the accessibility scan
    assert axe_violations(page) == []
    assert page.errors == []  # type: ignore[attr-defined]


def test_transfer_to_bob_with_a_note_reaches_his_open_inbox(stack, open_inbox):
    set_presence(stack, "bob", "away")
    send_sms(stack, "+14155550202", "My parcel arrived damaged")
    alice, bob = open_inbox("alice"), open_inbox("bob")
    conversation_item(alice, "+14155550202").get_by_role("button").click()
    expect(alice.get_by_role("heading", name="+14155550202")).to_be_visible()

    alice.get_by_label("Transfer to").select_option("bob")
    alice.get_by_label("Hand-off note").fill("Bob handles damaged parcels")
    alice.get_by_role("button", name="Transfer", exact=True).click()
    expect(alice.get_by_text("Assigned to bob")).to_be_visible()

    # bob's inbox, open all along, shows it without a reload, with the hand-off note on the timeline
    item = conversation_item(bob, "+14155550202")
    expect(item).to_be_visible()
    item.get_by_role("button").click()
    expect(timeline(bob)).to_contain_text("Hand-off note: Bob handles damaged parcels")


def test_snooze_then_resolve(stack, open_inbox):
    set_presence(stack, "bob", "away")
    send_sms(stack, "+14155550203", "Can I change my address?")
    page = open_inbox("alice")
    conversation_item(page, "+14155550203").get_by_role("button").click()
    actions = page.get_by_role("group", name="Actions")

    actions.get_by_role("button", name="Snooze…").click()
    actions.get_by_label("Snooze until").fill("2030-01-02T09:00")     # the browser's zone is Lisbon: UTC in winter
    actions.get_by_role("button", name="Snooze", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Status: Snoozed")
    expect(page.locator(".conversation-head")).to_contain_text("Snoozed")
    expect(timeline(page)).to_contain_text("Marked snoozed by alice")
    expect(timeline(page)).to_contain_text("Snoozed until 2030-01-02T09:00:00.000Z by alice")

    actions.get_by_role("button", name="Resolve").click()
    expect(conversation_item(page, "+14155550203")).to_have_count(0)   # resolved: out of the working list
    state = stack.get("/agent/conversations?view=mine&status=resolved&limit=100", token=stack.token("alice")).json()
    assert any(c["customer"]["identities"][0]["address"] == "+14155550203" for c in state["items"])


def test_the_keyboard_path(stack, open_inbox):
    set_presence(stack, "bob", "away")
    send_sms(stack, "+14155550204", "First customer")
    send_sms(stack, "+14155550205", "Second customer")
    page = open_inbox("alice")
    expect(page.get_by_role("list", name="Conversations").get_by_role("listitem")).to_have_count(2)

    # j / k move through the list, Enter opens
    page.keyboard.press("j")
    page.keyboard.press("k")
    focused = page.evaluate("document.activeElement.textContent")
    page.keyboard.press("Enter")
    first = "+14155550204" if "+14155550204" in focused else "+14155550205"
    second = "+14155550205" if first == "+14155550204" else "+14155550204"
    expect(page.get_by_role("heading", name=first)).to_be_visible()

    # r writes a reply, Ctrl+Enter sends it; Escape leaves the box; n writes a note
    page.keyboard.press("r")
    expect(page.get_by_role("textbox", name="Reply", exact=True)).to_be_focused()
    page.keyboard.type("Answered from the keyboard")
    page.keyboard.press("Control+Enter")
    expect(timeline(page)).to_contain_text("Answered from the keyboard")
    page.keyboard.press("Escape")
    page.keyboard.press("n")
    expect(page.get_by_role("textbox", name="Note", exact=True)).to_be_focused()
    page.keyboard.press("Escape")

    # e resolves and opens the next conversation
    page.keyboard.press("e")
    expect(page.get_by_role("heading", name=second)).to_be_visible()
    expect(conversation_item(page, first)).to_have_count(0)

    # ? lists the shortcuts
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Resolve and go to the next conversation")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()


def test_a_supervisor_changes_a_calendar_and_sees_a_version_conflict(stack, open_inbox):
    page = open_inbox("alice")
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Calendars").click()
    form = page.get_by_role("form", name="Calendar")
    form.get_by_label("Id", exact=True).fill("browser-hours")
    form.get_by_label("Time zone", exact=True).fill("Europe/Lisbon")
    form.get_by_label("Monday", exact=True).fill("09:00-12:30, 13:30-17:00")
    form.get_by_label(re.compile("^Holidays")).fill("2026-12-24\n2026-12-31 09:00-12:00")
    form.get_by_role("button", name="Save").click()
    expect(form.get_by_role("status")).to_have_text("Saved")
    stored = {c["id"]: c for c in stack.get("/admin/calendars", token=stack.token("alice")).json()["items"]}
    assert stored["browser-hours"]["weekly"]["mon"] == [{"start": "09:00", "end": "12:30"},
                                                         {"start": "13:30", "end": "17:00"}]
    assert stored["browser-hours"]["holidays"][0] == "2026-12-24"

    # A bad window is refused in words before anything is sent
    page.get_by_role("button", name=re.compile("^browser-hours")).click()
    form.get_by_label("Tuesday", exact=True).fill("9-5")
    form.get_by_role("button", name="Save").click()
    expect(form.get_by_role("alert")).to_contain_text('"9-5" is not a window')

    # Someone else saves meanwhile: the save is refused as a conflict and the latest version loads
    version = stored["browser-hours"]["version"]
    other = {"time_zone": "Europe/Lisbon", "weekly": {"mon": [{"start": "08:00", "end": "16:00"}]}, "holidays": []}
    answer = stack.put(f"/admin/calendars/browser-hours?version={version}", json=other, token=stack.token("alice"))
    assert answer.status == 200, answer.text
    form.get_by_label("Tuesday", exact=True).fill("10:00-11:00")
    form.get_by_role("button", name="Save").click()
    expect(form.get_by_role("alert")).to_contain_text("Someone changed this meanwhile")
    expect(form.get_by_label("Monday", exact=True)).to_have_value("08:00-16:00")


def test_every_page_passes_the_accessibility_scan(stack, browser, open_inbox):
    # The sign-in page
    context = browser.new_context(locale="en-US")
    signin = context.new_page()
    signin.goto(stack.url + "/")
    expect(signin.get_by_role("button", name="Sign in as Alice Example")).to_be_visible()
    assert axe_violations(signin) == [], "sign-in page"
    context.close()

    # The inbox (empty), the supervisor board and every settings page
    page = open_inbox("alice")
    assert axe_violations(page) == [], "inbox"
    page.get_by_role("link", name="Supervisor board").click()
    expect(page.get_by_role("heading", name="Waiting per team")).to_be_visible()
    assert axe_violations(page) == [], "board"
    page.get_by_role("link", name="Settings").click()
    for section in ("Agents", "Teams", "Calendars", "SLA policies", "Routing", "Customers"):
        page.get_by_role("navigation", name="Settings").get_by_role("link", name=section).click()
        expect(page.get_by_role("heading", level=1, name=section)).to_be_visible()
        assert axe_violations(page) == [], section
