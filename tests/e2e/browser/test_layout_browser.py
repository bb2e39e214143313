"""The inbox's layout holds at a 1280x800 window with what customers bring: a very long name and email address."""

from __future__ import annotations

import re
import uuid
from email.message import EmailMessage
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect
from tests.e2e.browser.support import axe_violations, send_sms

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_inboxes")]

LONG_NAME = "Maximiliana Alexandrina Wolfeschlegelsteinhausenbergerdorff"


def _listed(page: Page, text: str, size: tuple[int, int] | None = None) -> Locator:
    """The conversation whose preview says ``text``, in the agent's All view (alice's or bob's), in a window of
    ``size`` (width, height; else the context's)."""
    if size is not None:
        page.set_viewport_size({"width": size[0], "height": size[1]})
    page.get_by_role("group", name="Views").get_by_role("button", name="All").click()
    return page.get_by_role("list", name="Conversations").get_by_role("listitem").filter(has_text=text)


def test_a_long_name_and_address_stay_inside_the_list_and_the_customer_panel(stack, open_inbox):
    # Given a customer whose name and address are longer than the list and the panel are wide
    address = f"maximiliana.alexandrina.{uuid.uuid4().hex[:8]}@a-rather-long-mail-domain-of-customers.example"
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = f"{LONG_NAME} <{address}>", "support@shop.example", "Damaged parcel"
    mail["Message-ID"] = f"<{uuid.uuid4().hex}@example.com>"
    mail.set_content("My parcel arrived damaged")
    posted = stack.post("/_local/email?wait=1", data=bytes(mail), headers={"Content-Type": "message/rfc822"})
    assert posted.status == 202, posted.text

    # When an agent sees it in their list and opens it, in a 1280x800 window
    page = open_inbox("alice")
    item = _listed(page, "My parcel arrived", (1280, 800))
    expect(item).to_be_visible()

    # Then the item's time is in view beside the name, cut short, and nothing spills out of the list
    pane = page.locator(".list-pane").bounding_box()
    time_box = item.locator("time").bounding_box()
    assert pane and time_box
    assert time_box["width"] > 0 and time_box["x"] + time_box["width"] <= pane["x"] + pane["width"], (time_box, pane)
    assert page.locator(".list-pane").evaluate("e => e.scrollWidth <= e.clientWidth")
    item.get_by_role("button").click()
    panel = page.get_by_role("complementary", name="Customer")
    expect(panel.get_by_text(address)).to_be_visible()
    # and the customer's panel wraps the name and the address inside it
    overflowing = panel.locator(".card").evaluate_all(
        "cards => cards.filter(c => c.scrollWidth > c.clientWidth).map(c => c.textContent.slice(0, 40))")
    assert overflowing == []
    assert page.errors == []  # type: ignore[attr-defined]


def test_an_error_that_stays_on_screen_covers_neither_the_reply_nor_the_note(stack, open_inbox):
    # Given a conversation on SMS (its customer has no email address) open at 1280x800
    send_sms(stack, "+14155550177", "Can I get a copy of this chat?")
    page = open_inbox("alice")
    item = _listed(page, "a copy of this chat", (1280, 800))
    item.get_by_role("button").click()

    # When an action is refused (a transcript by email): the error stays until it is closed
    page.get_by_role("button", name="Email transcript").click()
    toast = page.locator(".toast-error")
    expect(toast).to_be_visible()

    # Then the reply box, Send, the note box and Add note stay in view and usable beside it
    def overlaps(a: dict, b: dict) -> bool:
        return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                    or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])

    shown = toast.bounding_box()
    assert shown
    for target in (page.get_by_role("textbox", name="Reply", exact=True), page.get_by_role("button", name="Send"),
                   page.get_by_role("textbox", name="Note", exact=True), page.get_by_role("button", name="Add note")):
        box = target.bounding_box()
        assert box and not overlaps(shown, box), (target, shown, box)


def test_in_half_a_full_hd_screen_the_conversation_header_keeps_its_controls_apart(stack, open_inbox):
    # Given a conversation with a macro to apply, open in a window as wide as half a 1920-pixel screen
    admin = stack.token("alice")
    assert stack.put("/admin/macros/narrow", json={"name": "Shipping question", "actions": [
        {"type": "note", "text": "checked"}]}, token=admin).status == 200
    send_sms(stack, "+14155550178", "Where is my parcel? It was due on Monday")
    page = open_inbox("alice")
    item = _listed(page, "due on Monday", (960, 900))
    item.get_by_role("button").click()
    expect(page.get_by_role("button", name="Apply macro")).to_be_visible()

    # Then no two of the header's controls and words lie over each other, and the timeline's names keep whole words
    overlapping = page.locator(".conversation-head").evaluate("""head => {
        const parts = [...head.querySelectorAll('h2, .nowrap, button, select, .chip')];
        const out = [];
        parts.forEach((a, i) => parts.slice(i + 1).forEach((b) => {
            if (a.contains(b) || b.contains(a)) return;
            const r = a.getBoundingClientRect(), s = b.getBoundingClientRect();
            if (r.width && s.width && r.left < s.right && s.left < r.right && r.top < s.bottom && s.top < r.bottom)
                out.push([a.textContent, b.textContent]);
        }));
        return out;
    }""")
    assert overlapping == []
    heading = page.locator(".msg-head strong").filter(has_text="Automatic acknowledgement").first
    assert heading.evaluate("""e => {
        const word = document.createElement('span');   // its longest word, unbroken, in its font
        word.style.cssText = 'white-space: nowrap; position: absolute; visibility: hidden';
        word.textContent = 'acknowledgement';
        e.appendChild(word);
        const wide = word.getBoundingClientRect().width;
        word.remove();
        return wide <= e.getBoundingClientRect().width + 0.1;
    }""")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.errors == []  # type: ignore[attr-defined]


def test_a_long_history_scrolls_from_the_keyboard_and_passes_the_accessibility_scan(stack, open_inbox):
    # Given a customer who wrote many times: a timeline taller than its pane, without a link or a button in it
    for n in range(14):
        send_sms(stack, "+14155550179", f"Another detail about my parcel, number {n}")
    page = open_inbox("alice")
    item = _listed(page, "number 13", (1280, 800))
    item.get_by_role("button").click()
    history = page.get_by_role("list", name="Timeline")
    expect(history).to_contain_text("number 13")
    assert history.evaluate("e => e.scrollHeight > e.clientHeight")

    # Then the scan finds no scrollable region a keyboard cannot reach, and the keyboard scrolls it back to the start
    assert axe_violations(page) == []
    history.focus()
    page.keyboard.press("Home")
    expect(page.get_by_text("Another detail about my parcel, number 0")).to_be_in_viewport()
    # (Chromium scrolls smoothly: the first message shows before the scroll has reached the very top)
    page.wait_for_function("e => e.scrollTop === 0", arg=history.element_handle(), timeout=5000)
    assert page.errors == []  # type: ignore[attr-defined]


def test_on_a_phone_the_list_and_the_conversation_take_turns_and_nothing_spills_sideways(stack, open_inbox):
    # Given a customer's conversation, and an agent on a phone-sized screen (390x844, held upright)
    send_sms(stack, "+14155559701", "Is my order on its way? I ordered on Monday")
    page = open_inbox("alice")
    item = _listed(page, "ordered on Monday", (390, 844))
    expect(item).to_be_visible()
    wide = "() => document.documentElement.scrollWidth > document.documentElement.clientWidth"
    assert not page.evaluate(wide)

    # When the agent opens it: the conversation takes the screen, with the reply box and the way back
    item.get_by_role("button").click()
    expect(page.get_by_role("heading", name="+14155559701")).to_be_visible()
    expect(page.locator(".list-pane")).to_be_hidden()
    expect(page.get_by_role("textbox", name="Reply", exact=True)).to_be_visible()
    back = page.get_by_role("button", name="Conversations")
    expect(back).to_be_visible()
    assert not page.evaluate(wide)
    # the customer's panel is below it, a scroll away
    panel = page.get_by_role("complementary", name="Customer")
    panel.scroll_into_view_if_needed()
    expect(panel).to_be_in_viewport()
    assert axe_violations(page) == []

    # Then the way back shows the list again
    back.click()
    expect(page.locator(".list-pane")).to_be_visible()
    expect(item).to_be_visible()
    assert page.errors == []  # type: ignore[attr-defined]


def test_in_a_wide_window_the_way_back_is_not_shown(stack, open_inbox):
    send_sms(stack, "+14155559702", "Do you ship to Canada")
    page = open_inbox("alice")
    item = _listed(page, "ship to Canada")
    item.get_by_role("button").click()
    expect(page.get_by_role("textbox", name="Reply", exact=True)).to_be_visible()
    expect(page.locator(".list-pane")).to_be_visible()
    expect(page.get_by_role("button", name="Conversations")).to_be_hidden()


@pytest.mark.parametrize("size", [(800, 600), (1024, 768)])
def test_in_a_narrow_window_the_history_has_the_room_and_the_customer_panel_is_below(stack, open_inbox, size):
    # Given a conversation, and an agent in a narrow window: 800x600, or a 1024-wide laptop
    phone = f"+1415555{size[0]:04d}"
    for n in range(3):
        send_sms(stack, phone, f"Where is my parcel, asking again {n}")
    page = open_inbox("alice")
    item = _listed(page, "asking again 2", size)

    # When the agent opens it
    item.get_by_role("button").click()
    history = page.get_by_role("list", name="Timeline")
    expect(history).to_contain_text("asking again 2")

    # Then the history is most of the window wide and a good part of it high (the customer's panel beside it left it
    # 504 pixels of 1024, and at 800x600 the header and the reply boxes left it 89 pixels high)
    box = history.bounding_box()
    assert box and box["width"] >= 0.6 * size[0] and box["height"] >= 0.4 * size[1], box
    # and the reply box and the customer's panel are a scroll away below it, with nothing spilling sideways
    reply = page.get_by_role("textbox", name="Reply", exact=True)
    reply.scroll_into_view_if_needed()
    expect(reply).to_be_in_viewport()
    panel = page.get_by_role("complementary", name="Customer")
    panel.scroll_into_view_if_needed()
    expect(panel).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert axe_violations(page) == []
    assert page.errors == []  # type: ignore[attr-defined]


def test_on_a_1024_wide_laptop_the_customer_and_orders_are_one_key_or_one_click_away(stack, open_inbox):
    # Given a customer asking about an order, in a conversation open at 1024x768 (the customer's panel below it)
    send_sms(stack, "+14155550179", "Where is my order #1001? It was due on Monday")
    page = open_inbox("alice")
    item = _listed(page, "order #1001", (1024, 768))
    item.get_by_role("button").click()
    expect(page.get_by_role("list", name="Timeline")).to_contain_text("#1001")
    panel = page.get_by_role("complementary", name="Customer")
    orders = panel.get_by_role("heading", name="Orders")
    expect(panel.get_by_text("Trail running shoes")).to_be_attached()  # the order #1001 the customer names, loaded
    expect(orders).not_to_be_in_viewport()

    # When the agent presses c from the conversation
    page.get_by_role("list", name="Timeline").focus()
    page.keyboard.press("c")

    # Then the keyboard is on the customer's panel and their orders are in view
    assert page.evaluate("document.activeElement.closest('aside')?.getAttribute('aria-label')") == "Customer"
    expect(orders).to_be_in_viewport()

    # and with a mouse, after scrolling back up, the header's "Customer and orders" does the same in one click
    page.locator(".conversation").evaluate("e => e.scrollTo(0, 0)")
    expect(orders).not_to_be_in_viewport()
    page.get_by_role("button", name="Customer and orders").click()
    expect(orders).to_be_in_viewport()
    assert page.evaluate("document.activeElement.id") == "customer-panel"
    assert axe_violations(page) == []
    assert page.errors == []  # type: ignore[attr-defined]


@pytest.mark.parametrize("language", ["en", "es"])
def test_on_a_1024_wide_laptop_the_top_bar_is_one_row_with_nothing_cut(stack, open_inbox, language):
    # Given an admin (the bar's every link: Inbox, Board, Reports, Settings) in English or Spanish, in a 1024x768 window
    page = open_inbox("alice")
    page.get_by_role("combobox", name="Language", exact=True).select_option(language)
    page.set_viewport_size({"width": 1024, "height": 768})
    bar = page.get_by_role("banner")
    account = bar.get_by_role("button", name=re.compile("^Alice Example: .* · "))    # her presence read: all shown
    expect(account).to_be_visible()

    # Then the bar is one row: its parts side by side, none below another, and it is no taller than one of them
    rows = bar.evaluate("""bar => {
        const parts = [...bar.children].map((e) => e.getBoundingClientRect()).filter((r) => r.width && r.height);
        const tallest = Math.max(...parts.map((r) => r.height));
        const style = getComputedStyle(bar);
        const inside = bar.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
        return {below: parts.filter((r) => r.top >= parts[0].bottom).length, inside, tallest};
    }""")
    assert rows["below"] == 0 and rows["inside"] <= rows["tallest"] + 1, rows
    # and nothing in it spills out of it, or out of the window, or has its words cut
    cut = """box => {
        const edge = box.getBoundingClientRect();
        const out = [];
        for (const e of box.querySelectorAll('*')) {
            const r = e.getBoundingClientRect(), s = getComputedStyle(e);
            if (!r.width || !r.height || s.clip === 'rect(0px, 0px, 0px, 0px)') continue;  // (words for screen readers)
            if (r.left < edge.left - 0.5 || r.right > edge.right + 0.5 || r.top < edge.top - 0.5
                || r.bottom > edge.bottom + 0.5 || r.left < 0 || r.right > window.innerWidth
                || (e.tagName !== 'SELECT' && e.scrollWidth > e.clientWidth + 1 && s.overflowX !== 'visible'))
                out.push(e.tagName + ' ' + (e.getAttribute('aria-label') || e.textContent || '').trim().slice(0, 30));
        }
        return out;
    }"""
    assert bar.evaluate(cut) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert axe_violations(page) == []

    # When the agent opens her own things (presence, load, language, sign out) from the keyboard
    account.focus()
    page.keyboard.press("Enter")
    menu = page.locator("#account-menu")
    expect(account).to_have_attribute("aria-expanded", "true")
    presence = menu.get_by_role("combobox").first
    expect(presence).to_be_visible()

    # Then each is named, in the window, and the keyboard goes through them: presence, language, sign out
    page.keyboard.press("Tab")
    expect(presence).to_be_focused()
    page.keyboard.press("Tab")
    expect(menu.get_by_role("combobox").nth(1)).to_be_focused()
    page.keyboard.press("Tab")
    expect(menu.get_by_role("button", name="Sign out" if language == "en" else "Cerrar sesión")).to_be_focused()
    assert menu.evaluate(cut) == []
    assert axe_violations(page) == []
    # and Escape closes them, the keyboard back on the button that opened them (not taken to the list)
    page.keyboard.press("Escape")
    expect(menu.get_by_role("combobox").first).to_be_hidden()
    expect(account).to_be_focused()
    expect(account).to_have_attribute("aria-expanded", "false")

    # and on a phone held upright, where the bar takes more than one row, the button opens them inside the window too
    page.set_viewport_size({"width": 390, "height": 844})
    account.click()
    expect(menu.get_by_role("combobox").first).to_be_visible()
    assert menu.evaluate(cut) == []
    box = menu.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    assert page.errors == []  # type: ignore[attr-defined]


def _live_words() -> dict[str, dict[str, str]]:
    """Each language's short words for each live status (liveShort.<status>), read from the inbox's catalogues."""
    catalogues = Path(__file__).resolve().parents[3] / "web" / "src" / "i18n"
    return {language: dict(re.findall(r'"liveShort\.(\w+)": "([^"]+)"', (catalogues / f"{language}.ts").read_text()))
            for language in ("en", "es", "pt")}


def test_the_top_bar_is_one_row_at_1280_and_1024_in_every_language_whatever_the_live_status_says(stack, open_inbox):
    # Given an admin (the bar's every link) whose inbox is live, and every language's words for every live status
    words = _live_words()
    assert all(set(w) == {"live", "connecting", "offline", "polling"} for w in words.values()), words
    page = open_inbox("alice")
    bar = page.get_by_role("banner")
    status = bar.get_by_role("status")
    # (the account's box lays nothing out where it is wide: its parts are the bar's then)
    below = """bar => {
        const shown = (e) => getComputedStyle(e).display === 'contents' ? [...e.children].flatMap(shown) : [e];
        const parts = [...bar.children].flatMap(shown).map((e) => [e, e.getBoundingClientRect()])
            .filter(([, r]) => r.width && r.height);
        const tallest = Math.max(...parts.map(([, r]) => r.height));
        const style = getComputedStyle(bar);
        const inside = bar.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
        const out = parts.filter(([, r]) => r.top >= parts[0][1].bottom)
            .map(([e]) => e.className + ' ' + (e.textContent || '').trim().slice(0, 30));
        if (inside > tallest + 1) out.push(`${inside} px high, its tallest part ${tallest}`);
        if (document.documentElement.scrollWidth > window.innerWidth) out.push('wider than the window');
        const status = bar.querySelector('[role=status]'), text = status.lastElementChild;
        const wide = status.getBoundingClientRect().width;
        if (text.scrollWidth > text.clientWidth && wide < 60) out.push(`the status cut to ${wide} px`);  // a word or so
        return out;
    }"""
    wrapped = []
    for language, said in words.items():
        # When she reads the inbox in that language (chosen in the bar where it is wide), at 1280 and at 1024 px
        page.set_viewport_size({"width": 1400, "height": 860})
        page.locator('header select:has(option[value="pt"])').select_option(language)
        expect(status).to_have_text(said["live"])
        for width in (1280, 1024):
            page.set_viewport_size({"width": width, "height": 800})
            # and the status says each of its states (its words put in as the inbox writes them)
            for state, text in said.items():
                status.evaluate("(e, text) => { (e.lastChild.firstChild ?? e.lastChild).data = text; }", text)
                # Then the bar is one row, nothing in it spilling out of the window, the status still readable
                if out := bar.evaluate(below):
                    wrapped.append((language, width, state, out))
    assert wrapped == [], wrapped
    # and the status keeps its whole words for a pointer and a screen reader, whatever the row shows of them
    assert status.get_attribute("title") and status.get_attribute("aria-label") == status.get_attribute("title")
    assert page.errors == []  # type: ignore[attr-defined]
