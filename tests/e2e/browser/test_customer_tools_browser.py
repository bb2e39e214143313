"""The inbox's customer tools in a real browser against the local stack: canned responses on `/` with the
rendered preview, the order panel with tracking, search by order number, a word, a national phone and a name,
merge and unmerge."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from tests.e2e.browser.support import axe_violations, send_sms, set_presence
from tests.e2e.browser.test_inbox_browser import conversation_item, conversation_of, expect_live, timeline
from tests.e2e.test_channels import FAKE_TELEGRAM_SECRET

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_inboxes")]

WISMO = 'Hi {{customer.first_name | default: "there"}}, {{order.name}} is {{order.status}}: {{order.tracking_url}}'
DHL = "https://www.dhl.com/en/express/tracking.html?AWB=1234567890"


def open_conversation(page: Page, text: str) -> None:
    """Open the conversation whose last message says ``text`` (its customer may have a name from the shop)."""
    conversation_item(page, text).get_by_role("button").click()
    expect(timeline(page)).to_contain_text(text)


def reply_box(page: Page):
    return page.get_by_role("textbox", name="Reply", exact=True)


def canned_uses(stack, shortcode: str) -> int:
    items = stack.get(f"/agent/canned-responses?q={shortcode}", token=stack.token("alice")).json()["items"]
    return next(c["uses"] for c in items if c["shortcode"] == shortcode)


def test_slash_inserts_a_canned_response_rendered_for_the_customer_and_sends_it(stack, open_inbox):
    # Given alice's canned response with variables, and a customer of the demo shop asking about #1002
    answer = stack.put("/agent/canned-responses/wismo-browser", json={
        "title": "Where is my order", "shortcode": "wismob", "bodies": {"en": WISMO}}, token=stack.token("alice"))
    assert answer.status == 200, answer.text
    uses = canned_uses(stack, "wismob")
    set_presence(stack, "bob", "away")
    page = open_inbox("alice")
    expect_live(page)                       # so the customer's message arrives as a notice
    send_sms(stack, "+14155550102", "Where is order 1002? The beanie is missing")
    open_conversation(page, "The beanie is missing")

    # When she types a variable the customer has no value for, the preview says which, and Send waits
    reply_box(page).click()
    page.keyboard.type("Hello {{customer.first_name}}")
    expect(page.get_by_role("status").filter(has_text="Cannot be sent as written")).to_contain_text(
        "no value for customer.first_name")
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_disabled()
    # ... with a fallback, the preview shows what the customer will read
    reply_box(page).fill("")
    page.keyboard.type('Hello {{customer.first_name | default: "friend"}}')
    expect(page.get_by_role("status").filter(has_text="The customer will read")).to_contain_text("Hello friend")

    # When she clears it and types `/` and a few letters, a listbox offers the canned response
    reply_box(page).fill("")
    page.keyboard.type("/wism")
    listbox = page.get_by_role("listbox", name="Canned responses")
    option = listbox.get_by_role("option").filter(has_text="/wismob")
    expect(option).to_have_attribute("aria-selected", "true")
    assert axe_violations(page) == []       # the reply box with its listbox open

    # And Enter inserts it rendered for this customer, for her to read before sending
    page.keyboard.press("Enter")
    expect(listbox).to_have_count(0)
    expect(reply_box(page)).to_have_value(re.compile(r"^Hi there, #1002 is .+: " + re.escape(DHL) + "$"))
    page.get_by_role("button", name="Send", exact=True).click()

    # Then the customer gets the rendered text, the timeline shows it, and the response's use is counted
    sent = timeline(page).get_by_role("listitem").filter(has_text="Hi there, #1002 is")
    expect(sent).to_contain_text("via SMS")
    expect(reply_box(page)).to_have_value("")
    bodies = stack.wait_for(lambda: [r["form"]["Body"] for r in stack.outbox()
                                     if r.get("form", {}).get("To") == "+14155550102"
                                     and r["form"].get("Body", "").startswith("Hi there, #1002 is")])
    assert bodies[-1].endswith(DHL) and "{{" not in bodies[-1]
    assert stack.wait_for(lambda: canned_uses(stack, "wismob") == uses + 1)
    assert page.errors == []  # type: ignore[attr-defined]


def test_the_order_panel_shows_tracking_and_previews_a_refund_before_confirming(stack, open_inbox):
    # Given a demo customer who asks about their order #1001 (shipped with UPS)
    set_presence(stack, "bob", "away")
    page = open_inbox("alice")
    expect_live(page)                       # so the customer's message arrives as a notice
    send_sms(stack, "+14155550101", "Hi! Has order #1001 left the warehouse yet?")
    open_conversation(page, "left the warehouse yet")

    # Then the panel beside the conversation shows the order with its items, address and tracking link
    order = page.get_by_role("complementary", name="Customer").get_by_role("article", name="Order #1001")
    expect(order).to_contain_text("$119.00")
    expect(order).to_contain_text("fulfilled")
    expect(order).to_contain_text("Trail running shoes")
    expect(order).to_contain_text("1 Market St")
    link = order.get_by_role("link", name="Track 1Z999AA10123456784 (UPS)")
    expect(link).to_have_attribute("href", "https://www.ups.com/track?tracknum=1Z999AA10123456784")

    # And an admin's refund is a preview first: nothing is done until she confirms
    order.get_by_text("Actions").click()
    order.get_by_role("button", name="Refund #1001").click()
    confirm = order.get_by_role("group", name="Confirm")
    expect(confirm).to_contain_text("Refund")
    expect(confirm).to_contain_text("#1001")
    assert axe_violations(page) == []       # the order panel with a confirmation open
    confirm.get_by_role("button", name="Cancel").click()
    expect(confirm).to_have_count(0)
    conv = conversation_of(stack, "alice", "+14155550101")
    assert not any("refund" in (m.get("text") or "").lower() for m in conv["messages"])
    assert page.errors == []  # type: ignore[attr-defined]


def test_search_finds_a_conversation_by_order_number_a_word_a_national_phone_and_a_name(stack, open_inbox):
    # Given two customers: one of the demo shop (order #1002, seen by the order panel) and one who used a rare word
    set_presence(stack, "bob", "away")
    page = open_inbox("alice")
    expect_live(page)                       # so the customer's message arrives as a notice
    send_sms(stack, "+14155550102", "Hello, a question about my jacket size")
    send_sms(stack, "+14155550226", "The parcel smells of bergamot, is that normal?")
    open_conversation(page, "my jacket size")
    expect(page.get_by_role("article", name="Order #1002")).to_be_visible()
    page.goto(stack.url + "/")                  # back to the list: the search is what opens it again
    expect(page.get_by_role("list", name="Timeline")).to_have_count(0)

    # When she searches the order number, the customer's conversation is found by it, and a click opens it
    search = page.get_by_role("combobox", name="Search")
    search.fill("#1002")
    results = page.get_by_role("listbox", name="Search results")
    results.get_by_role("option").filter(has_text="by order number").filter(has_text="my jacket size").click()
    expect(timeline(page)).to_contain_text("my jacket size")
    expect(results).to_have_count(0)

    # And a word of a message, with the keyboard only: type, arrow down, Enter
    search.fill("bergamot")
    expect(results.get_by_role("option")).to_have_count(1)
    expect(results.get_by_role("option")).to_contain_text("in a message")
    assert axe_violations(page) == []       # the search box with its results open
    search.press("ArrowDown")
    expect(search).to_have_attribute("aria-activedescendant", "search-option-0")
    search.press("Enter")
    expect(timeline(page)).to_contain_text("smells of bergamot")

    # And the phone as the shop's country writes it (the demo shop is in the US), and a name as it is typed (not
    # the erase test's customer: the session's stack is shared, and that test finds its customer's name nowhere)
    search.fill("(415) 555-0226")
    expect(results.get_by_role("option").filter(has_text="by phone")).to_contain_text("smells of bergamot")
    update = {"update_id": 7392226, "message": {
        "message_id": 1, "date": 1764860000, "text": "Is my teapot on its way?",
        "from": {"id": 7392226, "first_name": "Philippa", "last_name": "Vandersteen"},
        "chat": {"id": 7392226, "type": "private", "first_name": "Philippa", "last_name": "Vandersteen"}}}
    sent = stack.post("/webhooks/telegram", json=update,
                      headers={"X-Telegram-Bot-Api-Secret-Token": FAKE_TELEGRAM_SECRET})
    assert sent.status == 200, sent.text

    def found_by_name() -> bool:          # the indexer follows the table's stream
        search.fill("")
        search.fill("phil vand")
        try:
            expect(results.get_by_role("option").filter(has_text="by name")).to_have_count(1, timeout=1_000)
        except AssertionError:
            return False
        return True

    stack.wait_for(found_by_name, timeout=20, interval=0.2)
    results.get_by_role("option").filter(has_text="by name").click()
    expect(page.get_by_role("heading", name="Philippa Vandersteen")).to_be_visible()
    assert page.errors == []  # type: ignore[attr-defined]


def test_a_suggested_duplicate_is_merged_with_a_reason_then_the_merge_is_undone(stack, open_inbox):
    # Given a customer who wrote their other phone, and a conversation from that phone
    set_presence(stack, "bob", "away")
    page = open_inbox("alice")
    expect_live(page)                       # so the customer's message arrives as a notice
    send_sms(stack, "+14155550224", "Please also text my other phone +1 415 555 0225")
    send_sms(stack, "+14155550225", "Hello from my second phone")
    open_conversation(page, "my other phone")
    panel = page.get_by_role("complementary", name="Customer")

    # Then the other customer is suggested with the evidence
    suggestion = panel.get_by_role("article", name="+14155550225")
    expect(suggestion).to_contain_text("this customer's message gives the phone +14155550225")
    assert axe_violations(page) == []       # the customer panel: orders, history, duplicates

    first, second = (conversation_of(stack, "alice", phone)["id"] for phone in ("+14155550224", "+14155550225"))

    def conversation(conversation_id: str) -> dict:
        return stack.get(f"/agent/conversations/{conversation_id}", token=stack.token("alice")).json()

    # When alice merges it with a reason
    suggestion.get_by_role("textbox", name="Reason for the merge").fill("Same person, two phones")
    suggestion.get_by_role("button", name="Merge +14155550225 into this customer").click()

    # Then the customer has both phones, one history with the other conversation, and the merge on its timeline
    identities = panel.locator("section.card").first
    expect(identities).to_contain_text("+14155550225")
    expect(panel.get_by_role("region", name="History on every channel")).to_contain_text("Hello from my second phone")
    events = panel.get_by_role("region", name="Merges and links")
    expect(events).to_contain_text("Alice Example merged")
    expect(events).to_contain_text("Same person, two phones")
    merged = conversation_of(stack, "alice", "+14155550224")["customer"]["id"]
    assert conversation_of(stack, "alice", "+14155550225")["customer"]["id"] == merged
    # and, both conversations having been open, the other one's messages show in this one, with the entry saying so
    expect(timeline(page)).to_contain_text("Hello from my second phone")
    expect(timeline(page)).to_contain_text("merged into this one with them by Alice Example")
    # and the other conversation says where it goes on
    assert conversation(second)["status"] == "resolved" and conversation(second)["merged_into"] == first
    page.goto(f"{stack.url}/c/{second}")
    expect(page.get_by_text("when their records were merged: it goes on there")).to_be_visible()
    page.get_by_role("link", name="Open it").click()
    expect(page).to_have_url(re.compile(f"/c/{first}$"))
    expect(timeline(page)).to_contain_text("Please also text my other phone")

    # When she undoes it from the customer's merge record, saying why
    events.get_by_role("button", name="Undo this merge").click()
    events.get_by_role("textbox", name="Why the merge is undone").fill("Two people after all")
    events.get_by_role("button", name="Undo the merge").click()

    # Then both customers are as they were, and the undo is on the timeline too
    expect(events).to_contain_text("Alice Example undid the merge")
    expect(events).to_contain_text("Two people after all")
    expect(events.get_by_role("button", name="Undo this merge")).to_have_count(0)
    expect(identities).not_to_contain_text("+14155550225")
    assert stack.wait_for(lambda: conversation_of(stack, "alice", "+14155550225")["customer"]["id"] != merged)
    # and the other conversation's messages leave this one, which says they were taken apart; that one is open again
    expect(timeline(page)).not_to_contain_text("Hello from my second phone")
    expect(timeline(page)).to_contain_text("taken apart again: Alice Example undid the customers' merge")
    assert conversation(second)["status"] == "open" and conversation(second)["merged_into"] is None
    assert page.errors == []  # type: ignore[attr-defined]


def test_a_customer_no_evidence_links_is_found_by_phone_and_merged_with_a_reason(stack, open_inbox):
    # Given two customers nothing links (no address of the other written anywhere)
    set_presence(stack, "bob", "away")
    page = open_inbox("alice")
    expect_live(page)
    send_sms(stack, "+14155550271", "Hi, it's Noor, my order number is in my other phone")
    send_sms(stack, "+14155550272", "Noor again, from my work phone")
    open_conversation(page, "it's Noor")
    panel = page.get_by_role("complementary", name="Customer")
    card = panel.get_by_role("region", name="Merge another customer")

    # When alice finds the other by their phone and merges them with a reason
    card.get_by_role("textbox", name="A phone, an email, a handle or a name").fill("+1 415 555 0272")
    card.get_by_role("button", name="Find").click()
    card.get_by_role("radio", name=re.compile(r"\+14155550272")).check()
    card.get_by_role("textbox", name="Reason for the merge").fill("Noor said both phones are hers")
    card.get_by_role("button", name=re.compile("^Merge .* into this customer$")).click()

    # Then the customer has both phones, and the merge is on their timeline with its reason
    expect(panel.locator("section.card").first).to_contain_text("+14155550272")
    events = panel.get_by_role("region", name="Merges and links")
    expect(events).to_contain_text("Noor said both phones are hers")
    assert axe_violations(page) == []
    assert page.errors == []  # type: ignore[attr-defined]

