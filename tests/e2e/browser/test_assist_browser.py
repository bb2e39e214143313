"""Agent assist in a real browser: the best articles for the customer's message beside the conversation, and one
click puts an article's text and link into the reply."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from tests.e2e.browser.support import axe_violations, send_sms, set_presence

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_inboxes")]

SEEDED = 35            # local/seeds/kb.jsonl, seeded by the stack after it reports ready


def test_a_suggested_article_goes_into_the_reply_with_one_click(stack, open_inbox):
    admin = stack.token("alice")
    stack.wait_for(lambda: len(stack.get("/admin/kb/articles", token=admin).json()["items"]) >= SEEDED,
                   timeout=240, interval=2)
    set_presence(stack, "bob", "away")
    page = open_inbox("alice")
    send_sms(stack, "+14155550231", "How do I send back a jacket I don't want?")

    def landed():
        for status in ("open", "pending"):       # pending: a bot another test left on for a moment answered it
            items = stack.get(f"/agent/conversations?view=all&status={status}&limit=100", token=admin).json()["items"]
            found = next((c["id"] for c in items if {"kind": "phone", "address": "+14155550231"}
                          in c["customer"]["identities"]), None)
            if found:
                return found
        return None

    page.goto(f"{stack.url}/c/{stack.wait_for(landed)}")
    expect(page.get_by_role("heading", name="+14155550231")).to_be_visible()
    panel = page.get_by_role("region", name="Suggested articles")
    insert = panel.get_by_role("button", name=re.compile("^Insert “Returning an item”"))
    expect(insert).to_be_visible()
    reply = page.get_by_role("textbox", name="Reply", exact=True)
    reply.fill("Hi!")
    insert.click()
    expect(reply).to_have_value(re.compile(
        r"^Hi!\n\nYou can return items within 30 days.*\n\nhttps://help\.example\.com/en/returns$", re.S))
    # the panel's own controls pass axe's serious and critical rules (the rest of the page is scanned elsewhere)
    assert [v for v in axe_violations(page) if any("assist" in str(node) for node in v["nodes"])] == []
