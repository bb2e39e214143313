"""The inbox shows what the router understood: an angry, time-critical message is badged in the list and on
the timeline, with words (not colour alone), and the page stays accessible."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from tests.e2e.browser.support import axe_violations, send_sms, set_presence
from tests.e2e.browser.test_inbox_browser import conversation_item, expect_live, timeline

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_inboxes")]


def test_an_angry_urgent_message_is_badged_in_the_list_and_on_the_timeline(stack, open_inbox):
    set_presence(stack, "bob", "away")              # so the customer is alice's, in her Mine view
    page = open_inbox("alice")
    expect_live(page)
    send_sms(stack, "+14155550231", "This is unacceptable!! I need the shoes TOMORROW for my wedding")
    item = conversation_item(page, "+14155550231")
    expect(item).to_contain_text("Negative")
    expect(item).to_contain_text("Time-critical")
    expect(item).to_contain_text("Urgent")                      # the priority the message raised it to
    item.get_by_role("button").click()
    message = timeline(page).get_by_role("listitem").filter(has_text="I need the shoes")
    expect(message.get_by_label("Customer's tone: Angry")).to_have_text("Angry")
    expect(message).to_contain_text("Time-critical")
    expect(timeline(page)).to_contain_text(re.compile(r"Priority raised from normal to urgent"))
    assert axe_violations(page) == []
