"""The web-chat widget on a shop's page, as its visitors use it: the local stack's demo shop (its own origin, so the
browser's CORS checks run as between a shop's site and AWS) loads ``widget.js`` from the stack, its server signs
the visitor's token, and the widget talks to the widget API; the agent answers through the agent API."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, Route, expect
from tests.e2e.browser.support import axe_violations

STARTED: list[str] = []       # the conversations a test made, resolved after it


@pytest.fixture(autouse=True)
def resolve_what_the_test_started(stack: Any) -> Iterator[None]:
    """The session's stack is shared: a visitor's conversation left open would hold an agent's seat (or wait in
    the queue for one) in the tests after these."""
    yield
    token = stack.token("alice")                  # an admin: sees every conversation
    while STARTED:
        stack.post(f"/agent/conversations/{STARTED.pop()}/status", json={"status": "resolved"}, token=token)


@pytest.fixture
def visitor(stack: Any, browser: Browser) -> Iterator[Any]:
    """``visitor(locale)``: a new browser (a new visitor of the shop) on the demo shop's home page, under the shop's
    strict Content-Security-Policy (Trusted Types too), every violation of it an error of the page."""
    shop = stack.get("/_local/shop").json()["url"]
    contexts: list[BrowserContext] = []

    def visit(locale: str = "en-US", scan: bool = False) -> Page:
        # scan: the accessibility scan injects its script, which the shop's policy (rightly) refuses: those tests
        # run without it (bypass_csp); the others run under it
        context = browser.new_context(viewport={"width": 1280, "height": 800}, locale=locale, bypass_csp=scan)
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        # the demo shop sends a strict Content-Security-Policy (Trusted Types too): the widget must break none of it
        page.on("console", lambda message: errors.append(message.text)
                if re.search(r"Content Security Policy|Trusted Type", message.text) else None)
        page.errors = errors  # type: ignore[attr-defined]
        refused: list[str] = []                         # the widget API's answers of 4xx, by URL
        page.on("response", lambda answer: refused.append(f"{answer.status} {answer.url}")
                if "/widget/" in answer.url and 400 <= answer.status < 500 else None)
        page.refused = refused  # type: ignore[attr-defined]
        sockets: list[str] = []                         # the widget's WebSocket connections, by URL
        page.on("websocket", lambda socket: sockets.append(socket.url))
        page.sockets = sockets  # type: ignore[attr-defined]
        page.goto(shop + "/")
        return page

    yield visit
    for context in contexts:
        context.close()


def chat_log(page: Page) -> Locator:
    return page.get_by_role("log")


def conversation_with(stack: Any, text: str, timeout_s: float = 15, channel: str = "webchat") -> dict[str, Any]:
    """The web-chat conversation (or another channel's) whose customer wrote ``text``, as the agent API shows it."""
    token = stack.token("alice")
    deadline = time.monotonic() + timeout_s
    while True:
        for item in stack.get("/agent/conversations?view=all&limit=100", token=token).json()["items"]:
            if item["channel"] == channel and text in (item.get("last_message_preview") or ""):
                STARTED.append(item["id"])
                return stack.get(f"/agent/conversations/{item['id']}", token=token).json()
        if time.monotonic() > deadline:
            raise AssertionError(f"no web-chat conversation with {text!r}")
        time.sleep(0.3)


def inbound(conversation: dict[str, Any], text: str) -> list[dict[str, Any]]:
    return [m for m in conversation["messages"] if m["direction"] == "inbound" and text in (m.get("text") or "")]


def reply(stack: Any, conversation_id: str, text: str) -> None:
    answer = stack.post(f"/agent/conversations/{conversation_id}/replies", json={"text": text},
                        token=stack.token("alice"))
    assert answer.status == 202, answer.text


def writes(stack: Any, page: Page, words: str) -> str:
    """The visitor opens the chat (English) and sends ``words`` with a unique tail; the text, once it reached the
    inbox as a conversation."""
    text = f"{words} {uuid.uuid4().hex[:6]}"
    page.get_by_role("button", name=re.compile("^Chat with us")).click()
    page.get_by_role("textbox", name="Message").fill(text)
    page.get_by_role("button", name="Send").click()
    conversation_with(stack, text)
    return text


def test_a_visitor_writes_from_the_shops_page_and_reads_the_reply_in_their_language(stack, visitor):
    # Given a visitor on the shop's site, their browser in Spanish
    page = visitor("es-ES", scan=True)
    launcher = page.get_by_role("button", name=re.compile("^Chatea con nosotros"))

    # When they open the chat and write (Enter sends)
    launcher.click()
    question = f"Hola, ¿tienen la taza azul? {uuid.uuid4().hex[:6]}"
    page.get_by_role("textbox", name="Mensaje").fill(question)
    page.keyboard.press("Enter")

    # Then it reaches the inbox as a web-chat conversation, once
    expect(chat_log(page)).to_contain_text(question)
    conversation = conversation_with(stack, question)
    assert len(inbound(conversation, question)) == 1

    # And the agent's reply shows in the chat, a link in it a link
    reply(stack, conversation["id"], "¡Sí! Quedan tres: https://shop.example/taza-azul")
    expect(chat_log(page)).to_contain_text("¡Sí! Quedan tres")
    expect(chat_log(page).get_by_role("link", name="https://shop.example/taza-azul")).to_have_attribute(
        "target", "_blank")
    assert axe_violations(page) == []

    # And with the chat closed, a new reply is counted on the launcher, until the visitor opens it
    page.get_by_role("button", name="Cerrar el chat").click()
    expect(page.get_by_role("log")).to_be_hidden()
    reply(stack, conversation["id"], "Las enviamos hoy mismo.")
    # (heard on the widget's socket, which stays open while the chat is closed: polling alone takes up to a minute)
    expect(launcher).to_have_accessible_name(re.compile(r"\(1 mensaje nuevo\)"), timeout=10_000)
    assert [url for url in page.sockets if "/WidgetLiveApi/" in url]  # type: ignore[attr-defined]
    launcher.click()
    expect(chat_log(page)).to_contain_text("Las enviamos hoy mismo.")
    expect(launcher).to_have_accessible_name("Chatea con nosotros")

    # And a reload of the page keeps the conversation
    page.reload()
    page.get_by_role("button", name=re.compile("^Chatea con nosotros")).click()
    expect(chat_log(page)).to_contain_text(question)
    expect(chat_log(page)).to_contain_text("Las enviamos hoy mismo.")
    assert page.errors == []  # type: ignore[attr-defined]
    # and a guest who proved no email was refused nothing (a 4xx shows in the shop's page console)
    assert page.refused == []  # type: ignore[attr-defined]


def test_the_last_reply_stays_in_the_chat_when_the_agent_resolves(stack, visitor):
    # Given a visitor whose question an agent answered
    page = visitor()
    question = writes(stack, page, "Do you gift-wrap?")
    conversation = conversation_with(stack, question)
    reply(stack, conversation["id"], "Yes, for 3 EUR: tick Gift wrap at checkout.")
    expect(chat_log(page)).to_contain_text("tick Gift wrap at checkout")

    # When the agent resolves the conversation (heard on the widget's socket), and the visitor comes back later
    answer = stack.post(f"/agent/conversations/{conversation['id']}/status", json={"status": "resolved"},
                        token=stack.token("alice"))
    assert answer.status == 200, answer.text
    page.wait_for_timeout(2_000)
    expect(chat_log(page)).to_contain_text("tick Gift wrap at checkout")
    page.reload()
    page.get_by_role("button", name=re.compile("^Chat with us")).click()

    # Then the conversation and its answer are still there, not an empty chat
    expect(chat_log(page)).to_contain_text(question)
    expect(chat_log(page)).to_contain_text("tick Gift wrap at checkout")
    assert page.errors == []  # type: ignore[attr-defined]


def test_a_message_written_while_the_chat_is_unreachable_is_sent_once_when_it_is_back(stack, visitor):
    # Given a visitor whose chat has started
    page = visitor()
    first = writes(stack, page, "First question")

    # When the widget API stops answering their messages (the network drops them)
    def drop(route: Route) -> None:
        if route.request.method == "POST":
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.route(re.compile(r"/widget/messages$"), drop)
    second = f"Second question {uuid.uuid4().hex[:6]}"
    page.get_by_role("textbox", name="Message").fill(second)
    page.get_by_role("button", name="Send").click()

    # Then the message waits in the chat, saying so, and the visitor is told
    waiting = chat_log(page).get_by_role("listitem").filter(has_text=second)
    expect(waiting).to_contain_text("Sending…")
    expect(page.get_by_role("status").filter(has_text="can't reach the chat")).to_be_visible()
    page.wait_for_timeout(2_500)                      # a retry or two, dropped as well
    assert inbound(conversation_with(stack, first), second) == []

    # And once the API answers again it goes out by itself, and is stored once
    page.unroute(re.compile(r"/widget/messages$"))
    expect(waiting).not_to_contain_text("Sending…", timeout=20_000)
    page.reload()                                      # a reload sends nothing twice
    page.get_by_role("button", name=re.compile("^Chat with us")).click()
    expect(chat_log(page)).to_contain_text(second)
    page.wait_for_timeout(1_000)
    assert len(inbound(conversation_with(stack, second), second)) == 1
    assert page.errors == []  # type: ignore[attr-defined]


def test_a_signed_in_customer_is_named_in_the_inbox_and_sends_a_photo(stack, visitor, tmp_path):
    # Given a customer signed in on the shop's site (its server vouches for their name and email)
    page = visitor()
    email = f"philippa.{uuid.uuid4().hex[:6]}@example.com"
    page.get_by_label("Name").fill("Philippa Widgetson")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Signed in as Philippa Widgetson")).to_be_visible()

    # When they write and send a photo from the chat
    question = writes(stack, page, "Is this crack covered?")
    expect(chat_log(page)).to_contain_text(question)
    conversation = conversation_with(stack, question)
    photo = tmp_path / "mug.png"
    photo.write_bytes(bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                                    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201f4a3c1e80000000049454e44ae426082"))
    page.locator("[data-shopdesk-widget] input[type=file]").set_input_files(str(photo))

    # Then the agent sees the customer by name, and the photo beside the question
    expect(chat_log(page).get_by_role("img", name="Attachment: mug.png")).to_be_visible(timeout=20_000)
    assert conversation["customer"]["name"] == "Philippa Widgetson"
    deadline = time.monotonic() + 15
    while not any(a.get("filename") == "mug.png" for m in conversation["messages"] for a in m.get("attachments") or []):
        assert time.monotonic() < deadline, "the photo did not reach the conversation"
        time.sleep(0.5)
        conversation = stack.get(f"/agent/conversations/{conversation['id']}", token=stack.token("alice")).json()

    # And the agent's answer shows, heard on the widget's socket, which the shop's policy allows
    reply(stack, conversation["id"], "Yes, the crack is covered.")
    expect(chat_log(page)).to_contain_text("Yes, the crack is covered.", timeout=5_000)
    assert [url for url in page.sockets if "/WidgetLiveApi/" in url]  # type: ignore[attr-defined]
    assert page.errors == []  # type: ignore[attr-defined]


def test_a_guest_proves_their_email_with_the_mailed_code_and_sees_their_history(stack, visitor):
    # Given a customer who wrote to the shop by email before
    address = f"nadia.{uuid.uuid4().hex[:6]}@example.com"
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = f"Nadia <{address}>", "support@shop.example", "Gift wrap"
    mail["Message-ID"] = f"<{uuid.uuid4().hex}@example.com>"
    mail.set_content("Can you gift-wrap my order?")
    posted = stack.post("/_local/email?wait=1", data=bytes(mail), headers={"Content-Type": "message/rfc822"})
    assert posted.status == 202, posted.text
    conversation_with(stack, "Can you gift-wrap my order?", channel="email")

    # When she chats as a guest and adds her email to keep her conversations together
    page = visitor(scan=True)
    writes(stack, page, "It's me again")
    page.get_by_role("button", name="Add your email to keep all your conversations with us together").click()
    page.get_by_label("Your email address").fill(address.upper())
    page.get_by_role("button", name="Send me a code").click()
    expect(page.get_by_text(f"We sent a 6-digit code to {address}")).to_be_visible()

    # Then a wrong code is refused, saying so, and the code the shop mailed proves the address
    page.get_by_label("Code from the email").fill("000000")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("alert")).to_be_visible()

    def mailed_code() -> str | None:
        mails = [m for m in stack.outbox() if m["provider"] == "ses" and address in str(m["body"])
                 and "Your code is" in str(m["body"])]
        found = re.search(r"Your code is (\d{6})", str(mails[-1]["body"])) if mails else None
        return found.group(1) if found else None

    page.get_by_label("Code from the email").fill(stack.wait_for(mailed_code))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text(f"Your conversations are kept with {address}.")).to_be_visible()
    # And her conversations on every channel are hers to see: the mail one among them
    page.get_by_text(re.compile(r"Your conversations with us \(\d+\)")).click()
    expect(page.locator("[data-shopdesk-widget] details")).to_contain_text("Can you gift-wrap my order?")
    assert axe_violations(page) == []
    assert page.errors == []  # type: ignore[attr-defined]
