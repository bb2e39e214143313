"""The web inbox in a real browser against the local stack: what an agent and a supervisor do all day."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page, WebSocketRoute, expect
from tests.e2e.browser.support import axe_violations, frame_seen, send_sms, set_presence

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_inboxes")]


def expect_live(page: Page) -> None:
    """The top bar's status says the WebSocket is open."""
    status = page.get_by_role("status", name="Live updates: connected")
    expect(status).to_be_visible()
    expect(status).to_have_text("Live")


def conversation_of(stack, agent: str, phone: str) -> dict:
    """The agent's conversation with the customer of that phone, with its messages (from the agent API)."""
    token = stack.token(agent)
    for conv in stack.get("/agent/conversations?view=all&limit=100", token=token).json()["items"]:
        if any(i["address"] == phone for i in conv["customer"]["identities"]):
            return stack.get(f"/agent/conversations/{conv['id']}", token=token).json()
    raise AssertionError(f"no conversation with {phone}")


def conversation_item(page: Page, name: str):
    return page.get_by_role("list", name="Conversations").get_by_role("listitem").filter(has_text=name)


def timeline(page: Page):
    return page.get_by_role("list", name="Timeline")


def test_an_sms_arrives_live_is_answered_delivered_and_noted(stack, open_inbox):
    # Given alice signed in with her inbox open (bob away, so the customer is hers)
    set_presence(stack, "bob", "away")
    page = open_inbox("alice")
    expect(page.get_by_role("button", name=re.compile("^Mine"))).to_have_attribute("aria-pressed", "true")

    # and the inbox live on the stack's WebSocket (no polling while it is open)
    expect_live(page)

    # When a customer texts the shop, it appears without a reload, told by a notice on the socket
    send_sms(stack, "+14155550201", "Hi! Where is order #2001?")
    item = conversation_item(page, "+14155550201")
    expect(item).to_be_visible()
    expect(item).to_contain_text("Where is order #2001?")
    conv = conversation_of(stack, "alice", "+14155550201")
    inbound = next(m["id"] for m in conv["messages"] if m["direction"] == "inbound")
    # (the notice may come after the list showed the message: the socket's first catch-up, or a refetch, can
    # read the change log before the notice is posted)
    frame_seen(page, lambda f: f.get("type") == "change" and f["conversation_id"] == conv["id"]
               and f.get("message_id") == inbound)
    expect_live(page)

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
        f for f in sent if f.get("To") == "+14155550201" and f.get("Body", "").startswith("It ships today")).items()

    # And an internal note shows as internal, never sent
    page.get_by_role("textbox", name="Note", exact=True).fill("Customer is a repeat buyer")
    page.get_by_role("button", name="Add note").click()
    note = timeline(page).get_by_role("listitem").filter(has_text="Customer is a repeat buyer")
    expect(note).to_contain_text("Internal note")
    assert not any("repeat buyer" in str(r.get("form")) for r in stack.outbox())

    # And the page with a conversation open passes the accessibility scan
    assert axe_violations(page) == []
    assert page.errors == []  # type: ignore[attr-defined]


class SocketSwitch:
    """The page's WebSockets routed through Playwright to the stack: ``drop()`` closes them as a network
    failure would and refuses new ones until ``restore()``."""

    def __init__(self) -> None:
        self.open: list[tuple[WebSocketRoute, WebSocketRoute]] = []
        self.refused = 0
        self.refusing = False

    def route(self, context: BrowserContext) -> None:
        context.route_web_socket(re.compile(r"^wss?://"), self._handle)

    def _handle(self, socket: WebSocketRoute) -> None:
        if self.refusing:
            self.refused += 1
            socket.close(code=1011, reason="refused by the test")
            return
        self.open.append((socket, socket.connect_to_server()))

    def drop(self) -> None:
        self.refusing = True
        while self.open:
            page_side, server_side = self.open.pop()
            server_side.close()
            page_side.close(code=1011, reason="dropped by the test")

    def restore(self) -> None:
        self.refusing = False


def test_the_inbox_reconnects_after_its_socket_drops_and_shows_what_it_missed(stack, open_inbox):
    # Given alice's inbox live, with a customer's conversation open (bob away: the customer is hers)
    set_presence(stack, "bob", "away")
    switch = SocketSwitch()
    page = open_inbox("alice", before=switch.route)
    expect_live(page)
    send_sms(stack, "+14155550210", "Is my order on its way?")
    conversation_item(page, "+14155550210").get_by_role("button").click()
    expect(timeline(page)).to_contain_text("Is my order on its way?")
    frame_seen(page, lambda f: f.get("type") == "change")  # a notice reached the page

    # When its socket drops and the stack is out of reach for a moment
    catch_ups: list[Any] = []
    page.on("response", lambda r: catch_ups.append(r) if "/agent/changes?since=" in r.url else None)
    switch.drop()
    expect(page.get_by_role("status", name=re.compile("^Live updates: connection lost"))).to_be_visible()
    # and the customer writes twice meanwhile (their notices go to no socket of hers)
    send_sms(stack, "+14155550210", "Hello? Anyone there?")
    send_sms(stack, "+14155550210", "It was order #2010")
    conv = conversation_of(stack, "alice", "+14155550210")
    missed = {m["id"] for m in conv["messages"] if m["direction"] == "inbound" and "order on its way" not in m["text"]}
    assert len(missed) == 2
    # and it tries again (with backoff) and is refused
    for _ in range(100):
        if switch.refused:
            break
        page.wait_for_timeout(100)       # lets Playwright run the route handler meanwhile
    assert switch.refused >= 1
    expect(page.get_by_role("status", name=re.compile("^Live updates: connection lost"))).to_be_visible()

    # Then, once it may connect again, it is live and catches up from a notice it saw (not from scratch)
    switch.restore()
    expect_live(page)
    received = {f["cursor"] for f in page.frames_received if f.get("type") == "change"}  # type: ignore[attr-defined]
    caught_up: set[str] = set()
    for _ in range(450):
        if missed <= caught_up:
            break
        page.wait_for_timeout(100)
        caught_up = {i["message_id"] for r in list(catch_ups) if r.ok
                     for i in r.json()["items"] if i["kind"] == "message"}
    assert missed <= caught_up, (missed, [r.url for r in catch_ups])
    # (any cursor it received will do, by notice or by an earlier page of the catch-up: notices may reach
    # the page in any order, and applying a change twice is harmless)
    received |= {r.json()["cursor"] for r in list(catch_ups) if r.ok}
    assert all(parse_qs(urlsplit(r.url).query)["since"][0] in received for r in catch_ups)
    # and shows what it missed in the open conversation and the list
    expect(timeline(page)).to_contain_text("Hello? Anyone there?")
    expect(timeline(page)).to_contain_text("It was order #2010")
    expect(conversation_item(page, "+14155550210")).to_contain_text("It was order #2010")
    assert page.errors == []  # type: ignore[attr-defined]


def test_transfer_to_bob_with_a_note_reaches_his_open_inbox(stack, open_inbox):
    set_presence(stack, "bob", "away")
    send_sms(stack, "+14155550202", "My parcel arrived damaged")
    alice, bob = open_inbox("alice"), open_inbox("bob")
    # (alice, an admin, in All: it still lists the conversation once it is bob's, so she stays on it)
    alice.get_by_role("group", name="Views").get_by_role("button", name="All").click()
    conversation_item(alice, "+14155550202").get_by_role("button").click()
    expect(alice.get_by_role("heading", name="+14155550202")).to_be_visible()

    alice.get_by_label("Transfer to").select_option("bob")
    alice.get_by_label("Hand-off note").fill("Bob handles damaged parcels")
    alice.get_by_role("button", name="Transfer", exact=True).click()
    expect(alice.get_by_text("Assigned to Bob Example")).to_be_visible()
    expect(alice.get_by_role("heading", name="+14155550202")).to_be_visible()

    # bob's inbox, open all along, shows it without a reload, with the hand-off note on the timeline
    item = conversation_item(bob, "+14155550202")
    expect(item).to_be_visible()
    item.get_by_role("button").click()
    expect(timeline(bob)).to_contain_text("Hand-off note: Bob handles damaged parcels")


def test_a_team_shows_by_its_name_and_the_routing_card_chooses_one_by_name(stack, open_inbox):
    # Given a team an admin made, and a customer's SMS held by alice in the default team (named by no one)
    admin = stack.token("alice")
    made = stack.put("/admin/teams/returns", json={"id": "returns", "name": "Returns & exchanges"}, token=admin)
    assert made.status == 200, made.text
    set_presence(stack, "bob", "away")
    send_sms(stack, "+14155550204", "I would like to return my shoes")
    page = open_inbox("alice")
    # (a label around a select takes its options' words too: "Team" is the start of its name, not all of it)
    head, team = page.locator(".conversation-head"), page.get_by_role("complementary", name="Customer").get_by_label(
        "Team")
    # (the agent API reads the teams with the routing settings, cached a minute: a team made that moment can take
    # that long to be offered, so the inbox is read again until it is)
    deadline = time.monotonic() + 75
    while True:
        # (in All, which still lists the conversation once it is no one's: an admin stays on it)
        page.get_by_role("group", name="Views").get_by_role("button", name="All").click()
        conversation_item(page, "+14155550204").get_by_role("button").click()
        expect(head).to_contain_text("default · Assigned to Alice Example")
        if team.locator("option", has_text="Returns & exchanges").count():
            break
        assert time.monotonic() < deadline, "the new team was not offered within the agent API's minute"
        page.wait_for_timeout(2_000)
        page.reload()
    expect(team).to_have_value("default")           # the conversation's team, though no one named it

    # When alice sends it to that team, chosen by its name
    team.select_option(label="Returns & exchanges")
    page.get_by_role("complementary", name="Customer").get_by_role("button", name="Save", exact=True).click()

    # Then the header shows the team by its name (alice is not in it: back in its queue), and so does the API
    expect(head).to_contain_text("Returns & exchanges · Unassigned")
    expect(team).to_have_value("returns")
    conv = conversation_of(stack, "alice", "+14155550204")
    assert conv["team"] == "returns"
    assert page.errors == []  # type: ignore[attr-defined]
    resolved = stack.post(f"/agent/conversations/{conv['id']}/status", json={"status": "resolved"}, token=admin)
    assert resolved.status == 200, resolved.text          # nothing left waiting in a queue no one works


def test_an_agent_who_sends_a_conversation_to_a_team_they_are_not_in_goes_on_to_the_next_one(stack, open_inbox):
    # Given a team bob is not in, and two customers' SMS the router gave bob (alice away)
    admin = stack.token("alice")
    made = stack.put("/admin/teams/returns", json={"id": "returns", "name": "Returns & exchanges"}, token=admin)
    assert made.status == 200, made.text
    set_presence(stack, "alice", "away")
    send_sms(stack, "+14155550241", "I would like to return these boots")
    send_sms(stack, "+14155550242", "Where is my parcel")
    page = open_inbox("bob")
    expect(conversation_item(page, "+14155550242")).to_be_visible()
    routing = page.get_by_role("complementary", name="Customer")
    team = routing.get_by_label("Team")
    # (the team is offered within the agent API's minute of cached routing settings: read again until it is)
    deadline = time.monotonic() + 75
    while True:
        conversation_item(page, "+14155550241").get_by_role("button").click()
        expect(page.get_by_role("heading", name="+14155550241")).to_be_visible()
        expect(team).to_have_value("default")
        if team.locator("option", has_text="Returns & exchanges").count():
            break
        assert time.monotonic() < deadline, "the new team was not offered within the agent API's minute"
        page.wait_for_timeout(2_000)
        page.reload()

    # When he sends the boots to Returns & exchanges from the keyboard: it is no longer his, nor in his list
    team.select_option(label="Returns & exchanges")
    routing.get_by_role("button", name="Save", exact=True).focus()
    page.keyboard.press("Enter")

    # Then the polite status says where it went, the next conversation is open, and the keyboard is on its item in the
    # list (as after Resolve), not on the page
    expect(page.get_by_role("status", name="Notifications")).to_have_text("Transferred to Returns & exchanges")
    expect(page.get_by_role("heading", name="+14155550242")).to_be_visible()
    expect(conversation_item(page, "+14155550242").get_by_role("button")).to_be_focused()
    conv = conversation_of(stack, "alice", "+14155550241")
    assert conv["team"] == "returns" and conv.get("assignee") is None, conv
    assert page.errors == []  # type: ignore[attr-defined]
    resolved = stack.post(f"/agent/conversations/{conv['id']}/status", json={"status": "resolved"}, token=admin)
    assert resolved.status == 200, resolved.text          # nothing left waiting in a queue no one works


def test_an_agent_who_transfers_a_conversation_out_of_mine_goes_on_to_the_next_one(stack, open_inbox):
    # Given two customers' SMS the router gave bob (alice away), bob's inbox on Mine with the first open
    set_presence(stack, "alice", "away")
    send_sms(stack, "+14155550243", "My order never came")
    send_sms(stack, "+14155550244", "Can I change my address")
    page = open_inbox("bob")
    expect(page.get_by_role("list", name="Conversations").get_by_role("listitem")).to_have_count(2)
    conversation_item(page, "+14155550243").get_by_role("button").click()
    expect(page.get_by_role("heading", name="+14155550243")).to_be_visible()

    # When he transfers it to alice from the Transfer card, from the keyboard: it is no longer his, nor in Mine
    page.get_by_label("Transfer to").select_option("alice")
    page.get_by_role("button", name="Transfer", exact=True).focus()
    page.keyboard.press("Enter")

    # Then the polite status says where it went, the next conversation is open, and the keyboard is on its item in the
    # list (as after Resolve), not on the page
    expect(page.get_by_role("status", name="Notifications")).to_have_text("Transferred to Alice Example")
    expect(page.get_by_role("heading", name="+14155550244")).to_be_visible()
    expect(conversation_item(page, "+14155550244").get_by_role("button")).to_be_focused()
    expect(conversation_item(page, "+14155550243")).to_have_count(0)
    assert conversation_of(stack, "alice", "+14155550243")["assignee"] == "alice"
    assert page.errors == []  # type: ignore[attr-defined]


def test_in_spanish_the_timeline_says_its_system_entries_with_the_agents_names(stack, open_inbox):
    # Given alice with the conversation the router gave her open
    set_presence(stack, "bob", "away")
    send_sms(stack, "+14155550231", "¿Dónde está mi pedido?")
    page = open_inbox("alice")
    conversation_item(page, "+14155550231").get_by_role("button").click()
    expect(timeline(page)).to_contain_text("Assigned to Alice Example")
    # When she switches the inbox to Spanish
    page.get_by_role("combobox", name="Language", exact=True).select_option("es")
    # Then the router's entry is said in Spanish, with her name
    history = page.get_by_role("list", name="Historial")        # the timeline, in Spanish
    expect(history).to_contain_text("Asignada a Alice Example")
    # And an entry whose text names her by id ("Marked pending by alice") names her too
    conv = conversation_of(stack, "alice", "+14155550231")
    answer = stack.post(f"/agent/conversations/{conv['id']}/status", json={"status": "pending"},
                        token=stack.token("alice"))
    assert answer.status == 200, answer.text
    expect(history).to_contain_text("Marcada como pendiente por Alice Example")
    expect(history).not_to_contain_text("Marked pending")
    assert page.errors == []  # type: ignore[attr-defined]


def test_snooze_then_resolve(stack, open_inbox):
    set_presence(stack, "bob", "away")
    send_sms(stack, "+14155550203", "Can I change my address?")
    page = open_inbox("alice")
    conversation_item(page, "+14155550203").get_by_role("button").click()
    actions = page.get_by_role("group", name="Actions")

    actions.get_by_role("button", name="Snooze…").click()
    actions.get_by_label("Snooze until").fill("2030-01-02T09:00")     # the browser's zone is Lisbon: UTC in winter
    actions.get_by_role("button", name="Snooze", exact=True).click()
    expect(page.get_by_role("status", name="Notifications")).to_contain_text("Status: Snoozed")
    expect(page.locator(".conversation-head")).to_contain_text("Snoozed")
    # (the timeline says it in the inbox's words: agents by name, the time as the inbox writes times, in her zone)
    expect(timeline(page)).to_contain_text(re.compile(r"Snoozed until Jan 2, 2030, 9:00\sAM by Alice Example"))
    expect(timeline(page)).not_to_contain_text("Marked snoozed")        # one entry for the snooze

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

    # e resolves and opens the next conversation, the keyboard on its item in the list (j, k, x carry on from there)
    page.keyboard.press("e")
    expect(page.get_by_role("heading", name=second)).to_be_visible()
    expect(conversation_item(page, first)).to_have_count(0)
    expect(conversation_item(page, second).get_by_role("button")).to_be_focused()

    # ? lists the shortcuts
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Resolve and go to the next conversation")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()


def test_resolve_pressed_from_the_keyboard_leaves_the_keyboard_on_the_next_conversations_item(stack, open_inbox):
    # Given two conversations of alice's, the first open, and her keyboard on its Resolve button
    set_presence(stack, "bob", "away")
    send_sms(stack, "+14155550206", "First to resolve")
    send_sms(stack, "+14155550207", "Next to answer")
    page = open_inbox("alice")
    expect(page.get_by_role("list", name="Conversations").get_by_role("listitem")).to_have_count(2)
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    first = "+14155550206" if "+14155550206" in page.evaluate("document.activeElement.textContent") else "+14155550207"
    second = "+14155550207" if first == "+14155550206" else "+14155550206"
    expect(page.get_by_role("heading", name=first)).to_be_visible()
    page.get_by_role("group", name="Actions").get_by_role("button", name="Resolve").focus()

    # When she presses Enter on it
    page.keyboard.press("Enter")

    # Then the next conversation opens and the keyboard is on its item in the list, as after e (not on the page,
    # where the next Tab would start again from the top bar)
    expect(page.get_by_role("heading", name=second)).to_be_visible()
    expect(conversation_item(page, second).get_by_role("button")).to_be_focused()
    assert page.errors == []  # type: ignore[attr-defined]


def test_a_supervisor_changes_a_calendar_and_sees_a_version_conflict(stack, open_inbox):
    page = open_inbox("alice")
    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_role("link", name="Calendars").click()
    form = page.get_by_role("form", name="Calendar")
    form.get_by_label("Id", exact=True).fill("browser-hours")
    form.get_by_label("Time zone", exact=True).fill("Europe/Lisbon")
    form.get_by_label("Monday", exact=True).fill("09:00-12:30, 13:30-17:00")
    form.get_by_label(re.compile("^Holidays")).fill("2026-12-24\n2026-12-31 09:00-12:00")
    form.get_by_role("button", name="Save").click()
    expect(form.get_by_role("status")).to_have_text("Saved")
    # the form goes on editing what it saved: the list's reload does not wipe it
    expect(form.get_by_label("Id", exact=True)).to_have_value("browser-hours")
    expect(form.get_by_label("Monday", exact=True)).to_have_value("09:00-12:30, 13:30-17:00")
    stored = {c["id"]: c for c in stack.get("/admin/calendars", token=stack.token("alice")).json()["items"]}
    assert stored["browser-hours"]["weekly"]["mon"] == [{"start": "09:00", "end": "12:30"},
                                                         {"start": "13:30", "end": "17:00"}]
    assert stored["browser-hours"]["holidays"][0] == "2026-12-24"

    # A bad window is refused in words before anything is sent
    page.get_by_role("button", name=re.compile("^browser-hours")).click()
    # (the form takes the calendar after the click's render: wait for it, or a fill could land before and be
    # replaced)
    expect(form.get_by_label("Monday", exact=True)).to_have_value("09:00-12:30, 13:30-17:00")
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
    page.get_by_role("link", name="Settings", exact=True).click()
    for section in ("Agents", "Teams", "Calendars", "SLA policies", "Routing", "Customers"):
        page.get_by_role("navigation", name="Settings").get_by_role("link", name=section).click()
        expect(page.get_by_role("heading", level=1, name=section)).to_be_visible()
        assert axe_violations(page) == [], section


# A real 2x2 PNG (so the browser can draw it inline)
PNG_2X2 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000002000000020802000000fdd49a730000001049444154789c63f8cfc0"
    "00440c100a001fee03fd8b5f14d40000000049454e44ae426082")


def test_an_image_attached_to_a_reply_goes_out_and_shows_in_the_timeline(stack, open_inbox, tmp_path):
    # Given alice with a customer's SMS open
    set_presence(stack, "bob", "away")
    page = open_inbox("alice")
    send_sms(stack, "+14155550220", "Can you send me the return label?")
    conversation_item(page, "+14155550220").get_by_role("button").click()
    expect(page.get_by_role("heading", name="+14155550220")).to_be_visible()
    label = tmp_path / "label.png"
    label.write_bytes(PNG_2X2)

    # When she attaches a small image with the button and sends it with a few words
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Attach files").click()
    chooser.value.set_files(str(label))
    chip = page.get_by_role("list", name="Files for this reply").get_by_role("listitem")
    expect(chip).to_contain_text("label.png")
    expect(chip).to_contain_text("Ready")
    page.get_by_role("textbox", name="Reply", exact=True).fill("Here is your label")
    page.get_by_role("button", name="Send", exact=True).click()

    # Then the reply shows the image inline on the timeline, drawn from its link, and goes out as MMS
    reply = timeline(page).get_by_role("listitem").filter(has_text="Here is your label")
    image = reply.get_by_role("img", name="Image sent to the customer: label.png")
    expect(image).to_be_visible()
    expect(reply).to_contain_text("Delivered")
    # (the image loads from its presigned link: wait for the browser to have decoded it, then check its size)
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert image.evaluate("img => img.naturalWidth") == 2
    sent = [r["form"] for r in stack.outbox() if r["provider"] == "twilio" and r.get("form")]
    form = next(f for f in sent if f.get("Body") == "Here is your label")
    assert "label.png" in form["MediaUrl"] and "X-Amz-Signature" in form["MediaUrl"]
    assert page.errors == []  # type: ignore[attr-defined]
