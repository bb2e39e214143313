"""Labels and macros in the web inbox, in a real browser against the local stack: a macro applied to three
conversations selected in the list, with each one's result; a label put on from the conversation's menu and
a label filter in the views; the Labels settings page and the menu pass the accessibility scan."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from tests.e2e.browser.support import axe_violations, send_sms, set_presence

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_inboxes")]


def conversation_item(page: Page, name: str):
    return page.get_by_role("list", name="Conversations").get_by_role("listitem").filter(has_text=name)


def held_by_alice(stack, phones: list[str]) -> bool:
    """Every one of these customers' conversations is alice's (the router has assigned them)."""
    mine = stack.get("/agent/conversations?view=mine&limit=100", token=stack.token("alice")).json()["items"]
    held = {i["address"] for c in mine for i in c["customer"]["identities"]}
    return set(phones) <= held


def admin_put(stack, path: str, body: dict) -> None:
    answer = stack.put(path, json=body, token=stack.token("alice"))        # alice is an admin of the local stack
    assert answer.status == 200, answer.text


def test_a_macro_on_three_conversations_at_once(stack, open_inbox):
    admin_put(stack, "/admin/labels/br-wismo", {"name": "Where is it", "color": "#f2c94c"})
    admin_put(stack, "/admin/canned-responses/br-shipped", {
        "title": "Shipped", "shortcode": "brshipped", "bodies": {"en": "Your parcel is on its way."}})
    admin_put(stack, "/admin/macros/br-wismo", {"name": "Browser WISMO", "actions": [
        {"type": "reply", "canned_response_id": "br-shipped"}, {"type": "add_labels", "labels": ["br-wismo"]},
        {"type": "set_priority", "priority": "high"}, {"type": "note", "text": "Macro from the browser"},
        {"type": "snooze", "duration": "PT4H"}]})
    set_presence(stack, "bob", "away")
    phones = ["+14155550231", "+14155550232", "+14155550233"]
    for phone in phones:
        send_sms(stack, phone, "Where is my parcel?")
    stack.wait_for(lambda: held_by_alice(stack, phones), timeout=60)
    page = open_inbox("alice")
    for phone in phones:
        expect(conversation_item(page, phone)).to_have_count(1)

    # Given three conversations selected: two with their checkboxes, one from the keyboard (j to it, x)
    conversation_item(page, phones[0]).get_by_role("checkbox", name=f"Select {phones[0]}").check()
    conversation_item(page, phones[1]).get_by_role("checkbox", name=f"Select {phones[1]}").check()
    conversation_item(page, phones[2]).get_by_role("button").focus()
    page.keyboard.press("x")
    bar = page.get_by_role("region", name="3 selected")
    expect(bar).to_be_visible()
    expect(conversation_item(page, phones[2]).get_by_role("checkbox")).to_be_checked()

    # When the macro is applied to the selection
    bar.get_by_label("Macro").select_option(label="Browser WISMO")
    bar.get_by_role("button", name="Apply macro").click()

    # Then each conversation says it was applied, carries the label's chip, and its reply left
    results = page.get_by_role("list", name="Macro results")
    for phone in phones:
        expect(results).to_contain_text(f"{phone}: applied")
        item = conversation_item(page, phone)
        expect(item).to_contain_text("Where is it")
        expect(item).to_contain_text("High")
    assert page.errors == []          # type: ignore[attr-defined]
    # every reply sent: waiting for the first one alone raced the other two
    delivered = stack.wait_for(lambda: len(sent := [r for r in stack.outbox() if r["provider"] == "twilio"
                                                    and r["form"].get("Body") == "Your parcel is on its way."
                                                    and r["form"].get("To") in phones]) >= len(phones) and sent)
    assert sorted(r["form"]["To"] for r in delivered) == phones


def test_a_label_from_the_conversation_menu_and_the_label_filter(stack, open_inbox):
    admin_put(stack, "/admin/labels/br-returns", {"name": "Returns", "color": "#1a1a6e"})
    set_presence(stack, "bob", "away")
    send_sms(stack, "+14155550241", "I want to return my shoes")
    send_sms(stack, "+14155550242", "Do you ship to Spain?")
    stack.wait_for(lambda: held_by_alice(stack, ["+14155550241", "+14155550242"]), timeout=60)
    page = open_inbox("alice")
    expect(conversation_item(page, "+14155550242")).to_have_count(1)

    # The agent opens the first conversation and ticks the label in its menu (keyboard: Space)
    conversation_item(page, "+14155550241").get_by_role("button").click()
    page.get_by_role("button", name="Labels…").click()
    menu = page.get_by_role("menu", name="Labels of this conversation")
    item = menu.get_by_role("menuitemcheckbox", name="Returns")
    expect(item).to_be_focused()
    assert axe_violations(page) == [], "the label menu"
    page.keyboard.press(" ")
    expect(item).to_have_attribute("aria-checked", "true")
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(page.locator(".conversation-head")).to_contain_text("Returns")
    # a click anywhere else closes the menu too
    page.get_by_role("button", name="Labels…").click()
    expect(item).to_be_focused()
    page.locator(".conversation-head h2").click()
    expect(menu).to_be_hidden()
    expect(conversation_item(page, "+14155550241")).to_contain_text("Returns")

    # The label filter keeps only that conversation
    page.get_by_text("Filters").click()
    label_filter = page.locator(".filters label.field", has=page.get_by_text("Label", exact=True)).locator("select")
    label_filter.select_option(label="Returns")
    expect(conversation_item(page, "+14155550242")).to_have_count(0)
    expect(conversation_item(page, "+14155550241")).to_have_count(1)
    label_filter.select_option(label="Any")
    expect(conversation_item(page, "+14155550242")).to_have_count(1)

    # The Labels settings page lists it, and passes the accessibility scan
    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Labels").click()
    expect(page.get_by_role("heading", level=1, name="Labels")).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text("Returns")
    assert axe_violations(page) == [], "labels settings"


def test_a_macro_applied_from_the_keyboard_leaves_the_keyboard_on_apply_macro(stack, open_inbox):
    # Given a macro, and alice's keyboard on Apply macro in an open conversation
    macro = {"name": "Keyboard check", "actions": [{"type": "note", "text": "seen"}]}
    admin_put(stack, "/admin/macros/keyboard", macro)
    set_presence(stack, "bob", "away")
    send_sms(stack, "+14155550321", "A macro from the keyboard, please")
    page = open_inbox("alice")
    conversation_item(page, "+14155550321").get_by_role("button").click()
    apply = page.get_by_role("button", name="Apply macro")
    expect(apply).to_be_visible()
    page.locator(".conversation-tools").get_by_label("Macro").select_option(label="Keyboard check")
    apply.focus()

    # When she presses Enter on it
    page.keyboard.press("Enter")

    # Then the macro is applied and the keyboard is still on Apply macro (not on the page, where the next Tab would
    # start again from the top bar)
    expect(page.get_by_role("status", name="Notifications")).to_contain_text("Keyboard check: applied to 1")
    expect(apply).to_be_focused()
    assert page.errors == []  # type: ignore[attr-defined]
