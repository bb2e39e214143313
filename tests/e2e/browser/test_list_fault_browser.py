"""The inbox's list when a read of it fails (DynamoDB refusing its queries for a moment): it says the list could not
be loaded, never "No conversations here." under a badge that counts some, and shows the list by itself once the
store answers again, with the socket open all along (nothing else would read it again)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from tests.e2e.browser.support import send_sms, set_presence

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_inboxes")]


def test_a_list_that_failed_to_load_says_so_and_shows_itself_once_the_store_answers(stack, open_inbox):
    # Given alice's inbox, live, with a conversation of hers (bob away, so the customer is hers)
    set_presence(stack, "bob", "away")
    send_sms(stack, "+14155550271", "Is my parcel lost?")
    page = open_inbox("alice")
    item = page.get_by_role("list", name="Conversations").get_by_role("listitem").filter(has_text="+14155550271")
    expect(item).to_be_visible()
    expect(page.get_by_role("status", name="Live updates: connected")).to_have_text("Live")
    page.get_by_role("button", name=re.compile("^All")).click()
    expect(item).to_be_visible()
    # When DynamoDB refuses every query for a while and she goes back to Mine
    assert stack.post("/_local/aws/faults", json={"operation": "dynamodb:Query", "error": "ServiceUnavailable",
                                                  "times": 1000}).status < 300
    try:
        page.get_by_role("button", name=re.compile("^Mine")).click()
        # Then the list says it could not be loaded (never that there are none), while the socket is still open
        alert = page.get_by_text("The conversations could not be loaded")
        expect(alert).to_be_visible()
        # said once, in one alert (the store's error toast), not in two at once that cut each other off
        expect(page.get_by_role("alert").filter(has_text=re.compile(r"\S"))).to_have_count(1)
        expect(page.get_by_text("No conversations here.")).to_have_count(0)
        expect(page.get_by_role("status", name="Live updates: connected")).to_have_text("Live")
    finally:
        stack.delete("/_local/aws/faults")
    # And once the store answers again, the list shows itself with no click, no reload and no new message
    expect(item).to_be_visible(timeout=20_000)
    expect(alert).to_have_count(0)
    expect(page.get_by_text("No conversations here.")).to_have_count(0)
    assert page.errors == []  # type: ignore[attr-defined]


def test_a_conversation_that_failed_to_load_says_so_and_shows_itself_once_the_store_answers(stack, open_inbox):
    # Given alice's inbox, live, listing a conversation of hers
    set_presence(stack, "bob", "away")
    send_sms(stack, "+14155550272", "Where is my refund?")
    page = open_inbox("alice")
    item = page.get_by_role("list", name="Conversations").get_by_role("listitem").filter(has_text="+14155550272")
    expect(item).to_be_visible()
    expect(page.get_by_role("status", name="Live updates: connected")).to_have_text("Live")
    # When DynamoDB refuses every query for a while and she opens it (/c/<id>)
    assert stack.post("/_local/aws/faults", json={"operation": "dynamodb:Query", "error": "ServiceUnavailable",
                                                  "times": 1000}).status < 300
    try:
        item.get_by_role("button").click()
        # Then it says the conversation could not be loaded (never "Loading…" for good), the socket still open
        alert = page.get_by_text("The conversation could not be loaded")
        expect(alert).to_be_visible()
        # said once, in one alert (the store's error toast), not in two at once that cut each other off
        expect(page.get_by_role("alert").filter(has_text=re.compile(r"\S"))).to_have_count(1)
        expect(page.get_by_text("Loading…")).to_have_count(0)
        expect(page.get_by_role("status", name="Live updates: connected")).to_have_text("Live")
    finally:
        stack.delete("/_local/aws/faults")
    # And once the store answers again, it shows itself with no click, no reload and no new message
    expect(page.get_by_role("heading", name="+14155550272")).to_be_visible(timeout=20_000)
    expect(alert).to_have_count(0)
    assert re.search(r"/c/[^/]+$", page.url), page.url
    assert page.errors == []  # type: ignore[attr-defined]
