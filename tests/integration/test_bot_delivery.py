"""The bot's messages reach the customer or a person takes over: an answer is held to what the channel takes in
one message (the article cut at a sentence with its link and question kept, or a hand-over when it cannot be cut
sensibly), and a message of the bot's that the provider refuses hands the conversation to a person at once
instead of leaving it pending until the bot's timer resolves it unanswered. The reports count what the customer
got: a refused answer is a hand-over (send_failed), not an answer, and a person's part is measured from it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shopdesk import clock
from shopdesk.logic.business_time import ConversationClocks
from tests.integration.helpers import STATUS_URL, agent, customer_writes, online, post_twilio
from tests.integration.test_admin_api import admin_call
from tests.integration.test_analytics import Lake
from tests.integration.test_bot import bot, bot_messages, conversation, route  # noqa: F401 (fixture)
from tests.integration.test_commerce import sandbox, shop  # noqa: F401 (fixtures)
from tests.integration.test_customers import _instagram
from tests.support import FakeTwilio, twilio_form

GIFT_URL = "https://help.example.com/en/gift-cards"
# About 1,600 characters: with its link and the closing question, more than SMS (1,600) or Instagram (1,000) take
GIFT_CARDS = (
    "Gift cards are sold in our online shop in amounts from 10 EUR to 250 EUR and are delivered by email within a "
    "few minutes of payment. Each gift card carries a sixteen-digit code and a four-digit PIN; keep both safe, "
    "because anyone who knows them can spend the balance. A gift card is valid for three years from the day it was "
    "bought, and its expiry date is printed on the email and shown in your account. You can spend a gift card on "
    "anything in the shop except other gift cards, and you can use up to five gift cards on one order. If the "
    "order costs more than the balance, pay the rest by card, PayPal or bank transfer at checkout. If it costs less, "
    "the balance stays on the gift card for your next order until it expires. To check the balance, open My "
    "account, choose Gift cards and enter the code and the PIN; the page also lists every order the card paid for. "
    "A gift card cannot be exchanged for cash, and we cannot refund it once its code was sent, except where the "
    "law of your country says otherwise. If you return an item you paid for with a gift card, the refund goes back "
    "to the same gift card, and its expiry date is extended by three months when fewer than three months are left. "
    "If your gift card email did not arrive, look in your spam folder first, then write to us with the order "
    "number and we send it again. A lost or stolen code can be blocked as long as its balance was not spent: tell "
    "us the order number and we move the remaining balance to a new code. Corporate orders of more than twenty "
    "gift cards get an invoice and a list of codes as a spreadsheet.")
QUESTION = "How long is a gift card valid and how do I check its balance?"


@pytest.fixture
def twilio():
    fake = FakeTwilio()
    yield fake
    fake.close()


def publish(desk, article_id: str, body: str, url: str | None) -> None:
    article = {"title": "Gift cards", "body": body, "language": "en", "tags": ["gift card", "balance"]}
    status, saved = admin_call(desk, "PUT", f"/admin/kb/articles/{article_id}", "[admins]",
                               {**article, "url": url} if url else article)
    assert status == 200, saved


def dispatch(desk, twilio):
    desk.drain_queue(desk.outbound_queue_url, "dispatcher", TWILIO_API_BASE_URL=twilio.url)


def sweep(desk):
    desk.invoke("sla_sweep", {"version": "0", "id": "e", "detail-type": "Scheduled Event",
                              "source": "aws.scheduler", "account": "123456789012", "time": "2026-11-22T22:00:00Z",
                              "region": "us-east-1", "resources": [], "detail": {}})


def notes(desk, conv):
    return [m["text"] for m in conversation(desk, conv)["messages"] if m["direction"] == "system"]


# ---------------------------------------------------------------- part 1: the answer fits the channel

@pytest.mark.usefixtures("bot")
def test_an_article_too_long_for_sms_is_cut_at_a_sentence_and_keeps_its_link_and_question(desk, twilio):
    # Given an article of about 1,600 characters, with its link
    assert len(GIFT_CARDS) > 1_550
    publish(desk, "gift_cards", GIFT_CARDS, GIFT_URL)
    # When an SMS customer asks the question it answers
    conv = customer_writes(desk, "+31650000101", QUESTION, "SMfit1")
    route(desk)
    # Then the bot's answer fits Twilio's 1,600 characters: the article cut after a whole sentence with an ellipsis,
    # then the link to the full article and the closing question, whole
    [answer] = bot_messages(desk, conv)
    text = answer["text"]
    assert len(text) <= 1_600, len(text)
    excerpt, link, closing = text.split("\n\n")
    assert GIFT_CARDS.startswith(excerpt.removesuffix(" …")) and excerpt.endswith(". …"), excerpt[-40:]
    assert len(excerpt) > 1_000            # most of the article, not a stub
    assert link == f"More: {GIFT_URL}"
    assert closing == "Did this answer your question? Reply SOLVED, or tell us what is still missing."
    # and Twilio takes it: the customer has the answer, the conversation waits for them
    dispatch(desk, twilio)
    [sent] = twilio.requests
    assert sent["form"]["Body"] == text
    seen = conversation(desk, conv)
    assert [m["status"] for m in bot_messages(desk, conv)] == ["queued"] and seen["status"] == "pending"
    assert seen["bot"]["state"] == "answering" and seen["bot"]["article_id"] == "gift_cards"


@pytest.mark.usefixtures("bot")
def test_on_instagram_the_answer_is_held_to_its_1000_characters(desk):
    publish(desk, "gift_cards", GIFT_CARDS, GIFT_URL)
    conv = _instagram(desk, "17841400000000101", QUESTION, "mid.fit1")
    route(desk)
    [answer] = bot_messages(desk, conv)
    assert len(answer["text"]) <= 1_000, len(answer["text"])
    assert answer["text"].endswith(f" …\n\nMore: {GIFT_URL}\n\nDid this answer your question?")   # buttons


@pytest.mark.usefixtures("bot")
def test_an_article_too_long_without_a_link_goes_to_a_person_saying_why(desk):
    # Given the same article without a link: cut, the customer could not read the rest
    admin_call(desk, "PUT", "/admin/routing", "[admins]", {"acknowledgements": True})
    online(desk, "alice")
    publish(desk, "gift_cards", GIFT_CARDS, None)
    conv = customer_writes(desk, "+31650000102", QUESTION, "SMfit2")
    route(desk)
    # Then the bot sends nothing and a person takes it, with the reason on the timeline
    seen = conversation(desk, conv)
    assert bot_messages(desk, conv) == []
    assert seen["bot"]["state"] == "handed_off" and seen["bot"]["handoff_reason"] == "too_long"
    assert seen["status"] == "open" and seen["assignee"] == "alice"
    assert any(n.startswith("Handed over by the bot: its answer is too long for the channel, even shortened")
               for n in notes(desk, conv))
    assert [m for m in seen["messages"] if m["kind"] == "acknowledgement"]       # a person will answer, and when


# ---------------------------------------------------------------- part 2: a refused message hands over

REFUSED = (400, {"code": 21408, "message": "Permission to send an SMS has not been enabled for the region "
                 "indicated by the 'To' number", "status": 400})


def assert_handed_over_at_once(desk, conv):
    """Open, given to alice from its team's queue, the bot's state and note saying why, the SLA clock running, no
    bot timer left; and a day later the sweep does not resolve it as the bot's."""
    seen = conversation(desk, conv)
    assert seen["status"] == "open" and seen["assignee"] == "alice", (seen["status"], seen["assignee"])
    assert seen["bot"]["state"] == "handed_off" and seen["bot"]["handoff_reason"] == "send_failed"
    assert "Handed over by the bot: its message could not be sent to the customer" in notes(desk, conv)
    assert {"kind": "bot_handoff", "params": {"reason": "send_failed"}} in [
        m["event"] for m in seen["messages"] if m["direction"] == "system"]
    assert seen["sla"]["first_response_due_at"] > clock.iso(clock.now())
    item = desk.item(f"CONV#{conv}")
    assert item["handed_off_at"] and ConversationClocks.model_validate_json(item["clocks_json"]).paused is False
    assert desk.item(f"CONV#{conv}", "DEADLINE#bot_resolve") is None
    clock.set_offset(timedelta(hours=25).total_seconds())
    sweep(desk)
    seen = conversation(desk, conv)
    assert seen["status"] == "open" and seen["bot"]["state"] == "handed_off"
    assert not any("Resolved by the bot" in n for n in notes(desk, conv))


@pytest.mark.usefixtures("bot")
def test_an_answer_the_provider_refuses_hands_the_conversation_to_a_person_at_once(desk, twilio):
    # Given the bot answered an SMS customer: the conversation waits for them, out of the queue
    admin_call(desk, "PUT", "/admin/routing", "[admins]", {"acknowledgements": True})
    conv = customer_writes(desk, "+31650000103", "How long does standard delivery take?", "SMfail1")
    route(desk)
    assert conversation(desk, conv)["status"] == "pending"
    online(desk, "alice")
    # When Twilio refuses the answer for good
    twilio.script = [REFUSED]
    dispatch(desk, twilio)
    [failed] = bot_messages(desk, conv)
    assert failed["status"] == "failed" and failed["error"]["code"] == "21408"
    route(desk)
    # Then a person has it at once, and the customer is told one will answer
    assert_handed_over_at_once(desk, conv)
    acknowledgements = [m for m in conversation(desk, conv)["messages"] if m["kind"] == "acknowledgement"]
    assert len(acknowledgements) == 1


@pytest.mark.usefixtures("bot")
def test_the_bots_question_for_an_orders_proof_refused_hands_over_too(desk, shop, twilio):  # noqa: F811
    # Given the bot asked a customer for their order's email (the order named is found by number only)
    conv = customer_writes(desk, "+31650000104", "Hi, where is my order #1002?", "SMfail2")
    desk.drain_queue(desk.work_queue_url, "router", **shop)
    [ask] = bot_messages(desk, conv)
    assert "email" in ask["text"] and conversation(desk, conv)["status"] == "pending"
    online(desk, "alice")
    # When Twilio refuses it for good, a person takes the conversation at once
    twilio.script = [REFUSED]
    dispatch(desk, twilio)
    desk.drain_queue(desk.work_queue_url, "router", **shop)
    assert_handed_over_at_once(desk, conv)


@pytest.mark.usefixtures("bot")
def test_an_answer_reported_undelivered_by_the_carrier_hands_over_too(desk, twilio):
    # Given Twilio accepted the bot's answer
    conv = customer_writes(desk, "+31650000105", "How long does standard delivery take?", "SMfail3")
    route(desk)
    sid = "SM" + "f" * 32
    twilio.script = [(201, {"sid": sid, "status": "queued"})]
    dispatch(desk, twilio)
    online(desk, "alice")
    # When the carrier refuses it (a status callback: undelivered, 30007)
    body = twilio_form(MessageSid=sid, MessageStatus="undelivered", ErrorCode="30007", To="+31650000105",
                       From="+14155550100")
    assert post_twilio(desk, body, url=STATUS_URL)["statusCode"] == 200
    route(desk)
    # Then a person takes it, as when the send itself was refused
    assert_handed_over_at_once(desk, conv)


@pytest.mark.usefixtures("bot")
def test_a_refused_closing_message_after_the_customer_confirmed_reopens_nothing(desk, twilio):
    # Given the customer confirmed the bot's answer: the bot resolved the conversation with its closing words
    conv = customer_writes(desk, "+31650000106", "How long does standard delivery take?", "SMfail4")
    route(desk)
    dispatch(desk, twilio)
    clock.set_offset(120)
    customer_writes(desk, "+31650000106", "Yes, thanks!", "SMfail4b")
    route(desk)
    # When Twilio refuses the closing words
    twilio.script = [REFUSED]
    dispatch(desk, twilio)
    route(desk)
    # Then the conversation stays resolved: the customer had their answer
    assert bot_messages(desk, conv)[-1]["status"] == "failed"
    seen = conversation(desk, conv)
    assert seen["status"] == "resolved" and seen["bot"]["state"] == "resolved"
    assert agent(desk, "GET", f"/agent/conversations/{conv}", "root", groups="[admins]")[0] == 200


# ---------------------------------------------------------------- part 3: what the reports count

def period() -> str:
    today = clock.now().date()
    return f"from={today - timedelta(days=1)}&to={today + timedelta(days=2)}"


def reports(desk) -> Lake:
    """The lake as the reports read it: the table's stream through the writer into Firehose (moto's S3), then the
    reports API on DuckDB (tests/integration/test_analytics.py)."""
    lake = Lake(desk)
    lake.pump()
    return lake


def summary(lake: Lake) -> dict:
    status, body = lake.report("/reports/summary", period())
    assert status == 200, body
    return body


@pytest.mark.usefixtures("bot")
def test_in_the_reports_an_answer_the_provider_refused_is_a_send_failed_hand_over_and_a_delivered_one_an_answer(
        desk, twilio):
    # Given two SMS customers the bot answered: Twilio refuses the first answer for good (a person has it since)
    online(desk, "alice")
    lost = customer_writes(desk, "+31650000111", "How long does standard delivery take?", "SMfig1")
    route(desk)
    twilio.script = [REFUSED]
    dispatch(desk, twilio)
    route(desk)
    assert conversation(desk, lost)["bot"]["handoff_reason"] == "send_failed"
    # and takes the second, which the carrier delivers, and whose customer says it solved their question
    got = customer_writes(desk, "+31650000112", "How long does standard delivery take?", "SMfig2")
    route(desk)
    sid = "SM" + "d" * 32
    twilio.script = [(201, {"sid": sid, "status": "queued"})]
    dispatch(desk, twilio)
    receipt = twilio_form(MessageSid=sid, MessageStatus="delivered", To="+31650000112", From="+14155550100")
    assert post_twilio(desk, receipt, url=STATUS_URL)["statusCode"] == 200
    assert [m["status"] for m in bot_messages(desk, got)] == ["delivered"]
    clock.set_offset(120)
    customer_writes(desk, "+31650000112", "Yes, thanks!", "SMfig2b")
    route(desk)
    assert conversation(desk, got)["status"] == "resolved"
    # Then the reports count one answer, the one the customer got, resolved by the bot, and the refused one as a
    # hand-over for send_failed: the bot contained every conversation it answered
    lake = reports(desk)
    assert summary(lake)["bot"] == {"answered": 1, "handed_off": 1, "resolved": 1, "containment_rate": 1.0,
                                    "handed_off_by_reason": {"send_failed": 1}}
    status, body = lake.report("/reports/metrics", f"metric=bot&group_by=channel&{period()}")
    assert status == 200 and body["items"] == [{"key": "sms", "answered": 1, "handed_off": 1, "resolved": 1,
                                                "containment_rate": 1.0}]


@pytest.mark.usefixtures("bot")
def test_after_an_answer_reported_undelivered_the_customer_s_wait_counts_from_the_answer(desk, twilio):
    # Given Twilio took the bot's answer
    conv = customer_writes(desk, "+31650000113", "How long does standard delivery take?", "SMfig3")
    route(desk)
    sid = "SM" + "e" * 32
    twilio.script = [(201, {"sid": sid, "status": "queued"})]
    dispatch(desk, twilio)
    online(desk, "alice")
    # When the carrier reports it undelivered 20 minutes later, and alice answers 5 minutes after she got it
    clock.set_offset(20 * 60)
    body = twilio_form(MessageSid=sid, MessageStatus="undelivered", ErrorCode="30007", To="+31650000113",
                       From="+14155550100")
    assert post_twilio(desk, body, url=STATUS_URL)["statusCode"] == 200
    route(desk)
    assert conversation(desk, conv)["assignee"] == "alice"
    clock.set_offset(25 * 60)
    assert agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "Two days."})[0] == 202
    # Then the customer waited 25 minutes for an answer they got: the SLA clock counted them all (it stood still
    # while the lost answer seemed to wait for the customer) and so does the first response time
    clocks = ConversationClocks.model_validate_json(desk.item(f"CONV#{conv}")["clocks_json"])
    assert 25 * 60 <= clocks.first_response.consumed_seconds < 25 * 60 + 30, clocks.first_response
    figures = summary(reports(desk))
    assert figures["bot"] == {"answered": 0, "handed_off": 1, "resolved": 0, "containment_rate": None,
                              "handed_off_by_reason": {"send_failed": 1}}
    first = figures["first_response"]
    assert first["count"] == 1 and 25 * 60 <= first["median_s"] < 25 * 60 + 30, first
