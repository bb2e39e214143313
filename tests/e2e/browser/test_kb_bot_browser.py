"""The knowledge base and the bot's settings in the web inbox, in a real browser against the local stack, as an
admin would use them: a Spanish article written as a draft (tried as if published), published, tried in the
"Try the bot" box, edited (its versions listed), retired after a confirmation and no longer answered with; an
import file refused with its bad line named; the bot's settings changed and still there after a reload. Both
pages pass the axe scan."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from tests.e2e.browser.support import axe_violations

pytestmark = [pytest.mark.e2e]

QUESTION = "¿Plantáis un árbol por cada pedido?"


def settings_page(page: Page, name: str) -> None:
    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()


def try_bot(page: Page, question: str, as_if_published: str | None = None):
    box = page.get_by_role("region", name="Try the bot")
    box.get_by_label("A customer's message").fill(question)
    if as_if_published is not None:
        box.get_by_role("combobox", name="As if this article were published").select_option(as_if_published)
    box.get_by_role("button", name="Try", exact=True).click()
    result = box.get_by_role("status", name="What the bot would do")
    expect(result).to_contain_text("Intent")
    return result


def test_an_article_from_draft_to_retired_with_the_bot_tried_at_each_step(stack, open_inbox):
    page = open_inbox("alice")              # alice is an admin of the local stack
    settings_page(page, "Knowledge base")
    articles = page.get_by_role("table", name="Knowledge base")

    # Given a new Spanish article saved as a draft
    form = page.get_by_role("form", name="New article")
    form.get_by_role("textbox", name="Id", exact=True).fill("br_trees")
    form.get_by_role("textbox", name="Title", exact=True).fill("Un árbol por cada pedido")
    form.get_by_label("Body (the answer the bot sends)").fill(
        "Plantamos un árbol por cada pedido con nuestra ONG asociada y te enviamos el certificado por correo.")
    form.get_by_role("combobox", name="Language").select_option("es")
    form.get_by_label("Tags (comma separated)").fill("sostenibilidad, árboles")
    form.get_by_role("button", name="Save as draft").click()
    expect(page.get_by_role("status").filter(has_text="saved as a draft (version 1)")).to_be_visible()
    row = articles.get_by_role("row").filter(has_text="br_trees")
    expect(row).to_contain_text("Draft")
    expect(try_bot(page, QUESTION)).not_to_contain_text("(br_trees)")        # a draft is not answered with
    # ... but the admin can try it as if it were published, before publishing it
    expect(try_bot(page, QUESTION, as_if_published="br_trees")).to_contain_text("(br_trees)")

    # When it is published, the bot answers the Spanish question with it
    row.get_by_role("button", name="Publish: Un árbol por cada pedido").click()
    expect(row).to_contain_text("Published")
    result = try_bot(page, QUESTION)
    expect(result).to_contain_text("It would answer with “Un árbol por cada pedido” (br_trees)")
    expect(result).to_contain_text("es")
    assert axe_violations(page) == [], "knowledge base page with a tried question"

    # Edited: a new version, and the history lists every one
    row.get_by_role("button", name="Edit: Un árbol por cada pedido").click()
    edit = page.get_by_role("form", name="Edit “Un árbol por cada pedido”")
    edit.get_by_label("Body (the answer the bot sends)").fill(
        "Plantamos un árbol por cada pedido con nuestra ONG asociada; el certificado llega por correo en 7 días.")
    edit.get_by_role("button", name="Save and publish").click()
    expect(page.get_by_role("status").filter(has_text="saved and published (version 3)")).to_be_visible()
    row.get_by_role("button", name="History: Un árbol por cada pedido").click()
    history = page.get_by_role("list", name="Versions of “Un árbol por cada pedido”")
    expect(history.get_by_role("listitem")).to_have_count(3)
    expect(history.get_by_role("listitem").first).to_contain_text("Version 3 · Published")
    expect(history.get_by_role("listitem").last).to_contain_text("Version 1 · Draft")

    # Retired after a confirmation: the bot no longer answers with it
    row.get_by_role("button", name="Retire: Un árbol por cada pedido").click()
    dialog = page.get_by_role("dialog", name="Retire “Un árbol por cada pedido”?")
    expect(dialog).to_be_visible()
    assert axe_violations(page) == [], "the retire confirmation"
    dialog.get_by_role("button", name="Retire").click()
    expect(dialog).to_be_hidden()
    expect(row).to_contain_text("Retired")
    expect(history.get_by_role("listitem")).to_have_count(4)
    expect(try_bot(page, QUESTION)).not_to_contain_text("(br_trees)")

    # The filter keeps what matches; an import with a bad line is refused, the line named in words
    page.get_by_role("search", name="Filter articles").get_by_label("Text").fill("arbol")
    expect(articles.get_by_role("row")).to_have_count(2)             # the header and the article
    page.get_by_label("Files (.jsonl or .md)").set_input_files(files=[{
        "name": "faq.jsonl", "mimeType": "application/x-ndjson",
        "buffer": (b'{"id": "br_ok", "title": "Ok", "body": "Fine.", "language": "en"}\n'
                   b'{"id": "br_bad", "title": "Bad", "body": "No language."}\n')}])
    page.get_by_role("button", name="Import", exact=True).click()
    refused = page.get_by_role("list", name="Import results")
    expect(refused).to_contain_text("faq.jsonl: nothing imported")
    expect(refused).to_contain_text("Line 2 (br_bad): language: Field required")
    assert axe_violations(page) == [], "an import's refused lines"
    assert page.errors == []          # type: ignore[attr-defined]


def test_bot_settings_are_kept_after_a_reload_and_refusals_are_in_words(stack, open_inbox):
    token = stack.token("alice")
    before = stack.get("/admin/bot", token=token).json()
    try:
        page = open_inbox("alice")
        settings_page(page, "Bot")
        form = page.get_by_role("form", name="Bot")
        form.get_by_label("The bot answers customers").check()
        form.get_by_role("group", name="Channels").get_by_label("WhatsApp").check()
        form.get_by_label("Only outside business hours").check()
        form.get_by_label("Confidence threshold (%): answers less sure go to a person").fill("40")
        fallback = form.get_by_role("combobox", name="Without a translation in the customer's language")
        fallback.select_option("en")
        # four seconds is under the API's minute: refused in its words, nothing saved
        hours = form.get_by_label("Resolve an answered conversation after (hours without a reply)")
        hours.fill("0.001")
        form.get_by_role("button", name="Save").click()
        expect(form.get_by_role("alert")).to_contain_text("resolve_after_seconds")
        hours.fill("12")
        form.get_by_role("button", name="Save").click()
        expect(form.get_by_role("status")).to_have_text("Saved")
        assert axe_violations(page) == [], "bot settings"

        page.reload()
        form = page.get_by_role("form", name="Bot")
        expect(form.get_by_label("The bot answers customers")).to_be_checked()
        expect(form.get_by_role("group", name="Channels").get_by_label("WhatsApp")).to_be_checked()
        expect(form.get_by_role("group", name="Channels").get_by_label("SMS")).not_to_be_checked()
        expect(form.get_by_label("Only outside business hours")).to_be_checked()
        threshold = form.get_by_label("Confidence threshold (%): answers less sure go to a person")
        expect(threshold).to_have_value("40")
        expect(fallback).to_have_value("en")
        expect(hours).to_have_value("12")
        saved = stack.get("/admin/bot", token=token).json()
        assert saved["channels"] == ["whatsapp"] and saved["confidence_threshold"] == 0.4
        assert saved["resolve_after_seconds"] == 12 * 3600 and saved["when"] == "outside_business_hours"
    finally:                            # the other tests share the stack: the bot as it was
        current = stack.get("/admin/bot", token=token).json()
        restored = stack.put(f"/admin/bot?version={current['version']}", token=token,
                             json={k: v for k, v in before.items() if k != "version"})
        assert restored.status == 200, restored.text
