"""The trust and privacy pages in a real browser against the local stack: an admin exports a customer's data from
the Privacy page and gets the download link, then finds that export in the audit log filtered by customer and
actor; an agent who is not an admin gets neither the pages nor the controls. Both pages pass the axe scan."""

from __future__ import annotations

import re
import urllib.parse

import pytest
from playwright.sync_api import Page, expect
from tests.e2e.browser.support import axe_violations, send_sms

pytestmark = [pytest.mark.e2e]

PHONE = "+14155557614"


def settings_page(page: Page, name: str) -> None:
    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()


def customer_of(stack, phone: str) -> str:
    token = stack.token("alice")
    path = f"/admin/customers?phone={urllib.parse.quote(phone)}"
    return stack.wait_for(lambda: next(iter(c["id"] for c in stack.get(path, token=token).json()["items"]), None))


def test_an_admin_exports_a_customer_and_finds_it_in_the_audit_log_and_an_agent_sees_neither(stack, open_inbox):
    # Given a customer who wrote in
    send_sms(stack, PHONE, "Please send me a copy of everything you hold about me")
    customer = customer_of(stack, PHONE)
    page = open_inbox("alice")              # alice is an admin of the local stack

    # When she finds them on the Privacy page by the number they wrote from, and exports their data
    settings_page(page, "Privacy")
    page.get_by_role("textbox", name="Customer id, email address or phone number").fill(PHONE)
    page.get_by_role("button", name="Find", exact=True).click()
    page.get_by_role("button", name="Export data").click()

    # Then the job is followed until it is done, with its short-lived link
    jobs = page.get_by_role("list", name="Export and erase jobs")
    expect(jobs.get_by_role("status")).to_have_text(f"Export of {PHONE} ({customer}) · done")   # named as found
    link = jobs.get_by_role("link", name="Download the export")
    expect(link).to_have_attribute("href", re.compile(r"^https?://"))
    assert axe_violations(page) == [], "privacy page with a finished export"

    # And the audit log, filtered by the customer and by her, lists that export
    settings_page(page, "Audit log")
    page.get_by_role("combobox", name="Who (an agent's name or id, or system:…)").fill("alice")   # offers the agents
    page.get_by_role("textbox", name="Customer id").fill(customer)
    page.get_by_role("button", name="Filter", exact=True).click()
    rows = page.get_by_role("table", name="Audit log").get_by_role("row")
    export = rows.filter(has=page.locator("code", has_text=re.compile(r"^customer\.export( \(|$)")))
    expect(export).to_have_count(1)
    expect(export).to_contain_text("alice (admins)")
    # and the read that handed her the link to the archive (following the job while it ran wrote nothing)
    link_read = page.locator("code", has_text=re.compile(r"^customer\.export\.link( \(|$)"))
    expect(rows.filter(has=link_read)).to_have_count(1)
    assert axe_violations(page) == [], "audit log filtered"

    # An agent who is not an admin: no such pages, and none at their address either
    agent = open_inbox("bob")
    agent.get_by_role("link", name="Settings", exact=True).click()
    nav = agent.get_by_role("navigation", name="Settings")
    expect(nav.get_by_role("link", name="My canned responses")).to_be_visible()
    for name in ("Privacy", "Audit log", "Retention and masking"):
        expect(nav.get_by_role("link", name=name, exact=True)).to_have_count(0)
    agent.evaluate("path => { history.pushState(null, '', path); dispatchEvent(new PopStateEvent('popstate')); }",
                   f"/settings/privacy/{customer}")
    expect(agent.get_by_text("Your account may not see this page.")).to_be_visible()
    expect(agent.get_by_role("button", name="Export data")).to_have_count(0)
    assert page.errors == [] and agent.errors == []  # type: ignore[attr-defined]


def test_a_failed_action_is_marked_in_words_in_the_audit_log_and_the_admin_can_list_the_failed_ones(stack, open_inbox):
    # Given a reply the outbound queue refused: stored, marked failed, and recorded as failed (503)
    phone = "+14155557621"
    send_sms(stack, phone, "Has my parcel left yet?")
    customer = customer_of(stack, phone)
    token = stack.token("alice")

    def conversation() -> str | None:
        items = stack.get("/agent/conversations?view=all&limit=100", token=token).json()["items"]
        return next((c["id"] for c in items if c["customer"]["id"] == customer), None)

    conv = stack.wait_for(conversation)
    assert stack.post("/_local/aws/faults", json={"operation": "sqs:SendMessage", "error": "ServiceUnavailable",
                                                  "times": 30}).status == 201
    try:
        answer = stack.post(f"/agent/conversations/{conv}/replies", json={"text": "It left today"}, token=token)
    finally:
        stack.delete("/_local/aws/faults")
    assert answer.status == 503, answer.text
    page = open_inbox("alice")

    # When the admin opens the audit log and asks for the failed actions only
    settings_page(page, "Audit log")
    page.get_by_role("combobox", name="Outcome").select_option(label="Failed actions only")
    with page.expect_response(lambda r: "/admin/audit" in r.url and "outcome=failed" in r.url):
        page.get_by_role("button", name="Filter", exact=True).click()

    # Then the failed reply is listed, marked in words (not by colour alone) with what it means, and nothing else is
    # (every row marked, waited for: a count taken at once could be the unfiltered list's, still shown)
    rows = page.get_by_role("table", name="Audit log").locator("tbody tr")
    replies = re.compile(r"^POST /agent/conversations/<conversation_id>/replies")
    reply = rows.filter(has=page.locator("code", has_text=replies)).filter(has_text=f"conversation_id={conv}")
    expect(rows.filter(has_not=page.locator("strong", has_text=re.compile("^Failed$")))).to_have_count(0)
    expect(reply).to_have_count(1)
    expect(reply).to_contain_text("Failed allowed, changed data, then failed")
    expect(reply).to_contain_text("· 503")
    assert axe_violations(page) == [], "audit log of failed actions"
    assert page.errors == []  # type: ignore[attr-defined]


def test_an_admin_erases_several_customers_named_by_phone_after_seeing_whom_the_numbers_find(stack, open_inbox):
    # Given two customers who asked to be forgotten
    first, second = "+14155557615", "+14155557616"
    for phone in (first, second):
        send_sms(stack, phone, "Please delete everything you hold about me")
    customers = [customer_of(stack, phone) for phone in (first, second)]
    page = open_inbox("alice")

    # When she pastes their numbers (one twice, and one nobody has) and asks whom they find
    settings_page(page, "Privacy")
    several = page.get_by_role("region", name="Erase several customers")
    several.get_by_role("textbox", name="Customers to erase").fill(f"{first}\n{second}\n+14155557699\n{first}")
    several.get_by_role("button", name="Find them").click()
    found = several.get_by_role("list", name="Whom the names find").get_by_role("listitem")
    expect(found).to_have_count(3)
    expect(found.nth(2)).to_contain_text("no customer")
    assert axe_violations(page) == [], "privacy page, several customers found"

    # and confirms by typing how many
    several.get_by_role("button", name="Erase 2 customers").click()
    dialog = page.get_by_role("dialog", name="Erase 2 customers?")
    dialog.get_by_role("textbox").fill("2")
    dialog.get_by_role("button", name="Erase 2 customers").click()

    # Then both erases are followed until done, and neither customer is left
    for customer in customers:
        expect(found.filter(has_text=customer)).to_contain_text("done")
    token = stack.token("alice")
    for customer in customers:
        assert stack.get(f"/admin/customers/{customer}", token=token).status == 404
    assert page.errors == []  # type: ignore[attr-defined]


def test_a_retention_an_admin_saves_is_given_to_what_is_already_stored_and_she_sees_it_done(stack, open_inbox):
    # Given messages stored while they were kept until erased
    send_sms(stack, "+14155557617", "Do you ship to Iceland?")
    customer_of(stack, "+14155557617")
    page = open_inbox("alice")
    settings_page(page, "Retention and masking")
    messages = page.get_by_role("spinbutton", name="Messages and their files")
    try:
        # When she keeps messages for a year and saves
        messages.fill("365")
        page.get_by_role("button", name="Save", exact=True).click()
        # Then the page follows the job that gives the stored messages their expiry until it is done
        applied = page.get_by_role("status").filter(has_text="What was already stored has the new retention")
        expect(applied).to_contain_text(re.compile(r"\d+ conversations? read"), timeout=30_000)   # one, run alone
        assert axe_violations(page) == [], "retention saved and applied"
    finally:                                 # the stack is shared: messages kept until erased again
        messages.fill("")
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.get_by_role("status").filter(has_text="What was already stored")).to_be_visible(timeout=30_000)
    assert page.errors == []  # type: ignore[attr-defined]


def test_a_conversation_open_on_an_agent_s_screen_closes_when_an_admin_erases_its_customer(stack, open_inbox):
    # Given a customer's conversation open on alice's screen (an admin sees every conversation)
    phone = "+14155557619"
    send_sms(stack, phone, "Gisela here: please forget everything about me")
    customer = customer_of(stack, phone)
    token = stack.token("alice")

    def conversation() -> str | None:
        items = stack.get("/agent/conversations?view=all&limit=100", token=token).json()["items"]
        return next((c["id"] for c in items if c["customer"]["id"] == customer), None)

    conv = stack.wait_for(conversation)
    page = open_inbox("alice")
    page.goto(f"{stack.url}/c/{conv}")
    # in the timeline: the list beside it shows the same words as a preview when alice's view holds it
    expect(page.get_by_role("list", name="Timeline").get_by_text("Gisela here: please forget everything about me")
           ).to_be_visible()

    # When the customer is erased (a data subject's request, from another admin's screen)
    assert stack.post(f"/admin/customers/{customer}/erase", token=token).status == 202

    # Then her words leave alice's screen without a reload: the conversation closes, and the page says why
    expect(page.get_by_role("alert", name="Errors")).to_contain_text(
        "This conversation is no longer there: it was erased, or is no longer yours to see.", timeout=20_000)
    expect(page.get_by_text("Gisela here: please forget everything about me")).to_have_count(0)
    expect(page).to_have_url(f"{stack.url}/")
    assert page.errors == []  # type: ignore[attr-defined]
