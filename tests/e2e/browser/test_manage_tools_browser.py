"""Managing canned responses and macros from the inbox's Settings, in a real browser against the local stack:
an admin writes a shared canned response in English and Spanish with a file, then `/` offers it in the reply box; an
agent writes a personal macro of two actions (the API's 422 naming the bad action shown in words first) and
applies it from the conversation's macro picker; both pages pass the accessibility scan."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from tests.e2e.browser.support import axe_violations, send_sms, set_presence

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_inboxes")]


def conversation_item(page: Page, text: str):
    return page.get_by_role("list", name="Conversations").get_by_role("listitem").filter(has_text=text)


def settings_section(page: Page, name: str) -> None:
    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()


def held_by(stack, agent: str, phone: str) -> str | None:
    """The id of ``phone``'s conversation once the router has given it to ``agent``."""
    mine = stack.get("/agent/conversations?view=mine&limit=100", token=stack.token(agent)).json()["items"]
    return next((c["id"] for c in mine if any(i["address"] == phone for i in c["customer"]["identities"])), None)


def test_an_admin_writes_a_shared_canned_response_in_two_languages(stack, open_inbox):
    set_presence(stack, "bob", "away")
    page = open_inbox("alice")                           # alice is an admin of the local stack
    settings_section(page, "Shared canned responses")
    form = page.get_by_role("form", name="Shared canned responses")

    # When she writes a title, a shortcode, an English body, adds a language (Spanish offered next) and saves
    form.get_by_label("Id", exact=True).fill("mt-returns")
    form.get_by_label("Title", exact=True).fill("Returns policy")
    form.get_by_label("Shortcode (typed after /)").fill("mtreturns")
    form.get_by_label("Language 1 (code such as en, es, pt)").fill("en")
    form.get_by_label("Body (en)").fill("You can return anything within 30 days.")
    form.get_by_role("button", name="Add a language").click()
    expect(form.get_by_label("Language 2 (code such as en, es, pt)")).to_have_value("es")
    form.get_by_label("Body (es)").fill("Puede devolver cualquier cosa en 30 días.")
    # ... and attaches the returns form (uploaded straight to the bucket)
    form.get_by_label("Attach files").set_input_files(
        files=[{"name": "returns.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 returns form"}])
    expect(form.get_by_role("button", name="Remove returns.pdf")).to_be_visible()
    form.get_by_role("button", name="Save").click()

    # Then the list shows it with both languages and no use yet, and the API has both bodies
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Returns policy")
    expect(row).to_contain_text("/mtreturns")
    expect(row).to_contain_text("en, es")
    expect(row.get_by_role("cell").nth(3)).to_have_text("0")
    expect(row.get_by_role("cell").nth(4)).to_have_text("returns.pdf")
    assert axe_violations(page) == [], "shared canned responses"
    shared = stack.get("/admin/canned-responses", token=stack.token("alice")).json()["items"]
    saved = next(c for c in shared if c["id"] == "mt-returns")
    assert saved["scope"] == "shared" and saved["shortcode"] == "mtreturns"
    assert saved["bodies"] == {"en": "You can return anything within 30 days.",
                               "es": "Puede devolver cualquier cosa en 30 días."}
    assert [(a["filename"], a["content_type"]) for a in saved["attachments"]] == [("returns.pdf", "application/pdf")]

    # And `/` in a conversation's reply box offers it
    send_sms(stack, "+14155550261", "Can I send these shoes back?")
    stack.wait_for(lambda: held_by(stack, "alice", "+14155550261"), timeout=30)
    page.get_by_role("link", name="Inbox").click()
    conversation_item(page, "+14155550261").get_by_role("button").click()
    page.get_by_role("textbox", name="Reply", exact=True).click()
    page.keyboard.type("/mtret")
    options = page.get_by_role("listbox", name="Canned responses").get_by_role("option")
    expect(options.filter(has_text="/mtreturns")).to_have_count(1)
    assert page.errors == []  # type: ignore[attr-defined]


def test_an_agent_writes_a_personal_macro_and_applies_it(stack, open_inbox):
    set_presence(stack, "alice", "away")
    phone = "+14155550262"
    send_sms(stack, phone, "Is my order late?")
    conversation_id = stack.wait_for(lambda: held_by(stack, "bob", phone), timeout=30)
    page = open_inbox("bob")                             # bob is an agent: his own tools only
    page.get_by_role("link", name="Settings", exact=True).click()
    nav = page.get_by_role("navigation", name="Settings")
    expect(nav.get_by_role("link")).to_have_count(2)
    nav.get_by_role("link", name="My macros").click()
    form = page.get_by_role("form", name="My macros")

    # When he writes a note and a label that does not exist, the 422 is shown on that action in words
    form.get_by_label("Id", exact=True).fill("mt-late")
    form.get_by_label("Name", exact=True).fill("Late order")
    form.get_by_label("Action 1: Add a note").fill("Checked with the carrier")
    form.get_by_role("button", name="Add an action").click()
    form.get_by_label("Action 2", exact=True).select_option(label="Add labels")
    form.get_by_label("Action 2: Add labels").fill("mt-no-such-label")
    form.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert").filter(has_text="mt-no-such-label does not exist")).to_be_visible()
    expect(form).to_contain_text("Action 2: label mt-no-such-label does not exist")

    # ... then he makes it a priority, moves it first and saves
    form.get_by_label("Action 2", exact=True).select_option(label="Set the priority")
    # (the priorities in words, as the inbox says them)
    expect(form.get_by_label("Action 2: Set the priority").locator("option")).to_have_text(
        ["Urgent", "High", "Normal", "Low"])
    form.get_by_label("Action 2: Set the priority").select_option("high")
    form.get_by_role("button", name="Move action 2 up").click()
    expect(form.get_by_label("Action 1", exact=True)).to_have_value("set_priority")
    form.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Late order")).to_contain_text("Set the priority → Add a note")
    assert axe_violations(page) == [], "my macros"
    mine = stack.get("/agent/macros", token=stack.token("bob")).json()["items"]
    assert next(m for m in mine if m["id"] == "mt-late")["actions"] == [
        {"type": "set_priority", "priority": "high"}, {"type": "note", "text": "Checked with the carrier"}]

    # Then applied from the conversation's macro picker, it sets the priority and writes the note
    page.get_by_role("link", name="Inbox").click()
    conversation_item(page, phone).get_by_role("button").click()
    picker = page.locator("#macro-one")
    picker.select_option(label="Late order")
    page.locator("form.macro-form", has=picker).get_by_role("button", name="Apply macro").click()
    expect(page.get_by_role("status", name="Notifications")).to_contain_text("Late order: applied to 1, refused 0")
    expect(page.get_by_role("list", name="Timeline")).to_contain_text("Checked with the carrier")
    token = stack.token("bob")
    assert stack.wait_for(lambda: stack.get(f"/agent/conversations/{conversation_id}",
                                            token=token).json()["priority"] == "high")
    assert page.errors == []  # type: ignore[attr-defined]


def test_an_admin_chooses_teams_by_name_for_an_agent_and_an_sla_policy(stack, open_inbox):
    # Given alice, an admin, in Settings
    page = open_inbox("alice")
    # When she edits bob: his teams are boxes by name, the one he is in ticked (no ids to type)
    settings_section(page, "Agents")
    page.get_by_role("button", name="Edit: bob").click()
    bob = page.get_by_role("form", name="bob").get_by_role("group", name="Teams")
    expect(bob.get_by_role("checkbox", name="default")).to_be_checked()
    # And she caps his role at Agent (he signs in as one: nothing he may do changes), which the list shows, then
    # lifts it (no limit: his sign-in's roles)
    form = page.get_by_role("form", name="bob")
    expect(form).to_contain_text("takes effect on the agent's next request")
    row = page.get_by_role("row").filter(has=page.get_by_role("button", name="Edit: bob"))
    expect(row).to_contain_text("No limit (the sign-in's roles)")
    form.get_by_label("Role at most").select_option(label="Agent")
    form.get_by_role("button", name="Set role").click()
    expect(row).to_contain_text("Agent")
    assert stack.wait_for(lambda: next(a for a in stack.get("/admin/agents", token=stack.token("alice")).json()["items"]
                                       if a["id"] == "bob")["max_role"] == "agent")
    form.get_by_label("Role at most").select_option(label="No limit (the sign-in's roles)")
    form.get_by_role("button", name="Set role").click()
    expect(row).to_contain_text("No limit (the sign-in's roles)")
    assert axe_violations(page) == [], "an agent's form"
    # And she writes an SLA policy for the default team, ticking it by name (and for a tier no customer has, so
    # that it changes no other test's targets on this shared stack)
    settings_section(page, "SLA policies")
    form = page.get_by_role("form", name="SLA policies")
    form.get_by_label("Id").fill("default-team-sla")
    form.get_by_label("Name").fill("Default team")
    form.get_by_label("Customer tiers").fill("no-such-tier")
    form.get_by_role("group", name="Teams").get_by_role("checkbox", name="default").check()
    form.get_by_role("button", name="Save").click()
    # Then the policy applies to that team, as the admin API shows it
    expect(page.get_by_role("button", name="Default team (default-team-sla)")).to_be_visible()
    policies = stack.get("/admin/sla-policies", token=stack.token("alice")).json()["items"]
    saved = next(x for x in policies if x["id"] == "default-team-sla")
    assert saved["applies_to"]["teams"] == ["default"] and saved["applies_to"]["tiers"] == ["no-such-tier"]
    assert axe_violations(page) == []
    assert page.errors == []  # type: ignore[attr-defined]
