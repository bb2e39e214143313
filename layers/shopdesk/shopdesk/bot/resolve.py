"""Resolving a conversation the bot answered: the customer confirmed (``converse``), or did not come back in time
(the ``bot_resolve`` timer, run by the per-minute sweep). Light on imports: the sweep loads no model."""

from __future__ import annotations

from aws_lambda_powertools import Logger

from shopdesk import clock, metrics
from shopdesk.dal.bot import BotStore
from shopdesk.dal.conversations import Conversations
from shopdesk.dal.customers import Customers
from shopdesk.dal.events import EventBus, publish_or_count
from shopdesk.logic import sla_engine, timeline
from shopdesk.logic.sla_engine import PolicyBook
from shopdesk.models import Conversation, ConversationStatus

logger = Logger(child=True)

BOT_RESOLVE_TIMER = "bot_resolve"
AUTHOR = "bot"


def resolve(conversations: Conversations, customers: Customers, store: BotStore, book: PolicyBook | None,
            conv: Conversation, why: timeline.BotResolved, asked: str | None = None, *,
            bus: EventBus | None = None, replied_to: str | None = None) -> None:
    """Resolve a conversation the bot answered: its open-conversation slot freed like any resolve, and remembered
    by the customer's identities, so their next message reopens this conversation (``ingest``). ``asked``: the time
    of the customer's confirmation, ``replied_to`` its message; Conflict once they wrote something that asks after it
    (nothing written). The ``bot`` state says resolved (its ``at``, ``why``, the confirmation) in the status change's
    own write, so the work that runs again after a run that stopped before ``BotResolved`` went finds it and publishes
    that event again (``resolved_again``): at least once, the same event (consumers dedupe on the conversation's id
    and ``at``)."""
    customer = customers.get(conv.customer.id)
    identities = customer.identities if customer else conv.customer.identities[:1]
    held = customers.identities.get_many(identities)
    slots = [key for key, record in held.items() if record.open_conversation_id == conv.id]
    note = timeline.bot_resolved(conv.id, AUTHOR, why)
    state = {"state": "resolved", "at": clock.now_iso(), "why": why, "replied_to": replied_to,
             "article_id": conv.bot.article_id if conv.bot else None}
    conversations.set_status(conv, ConversationStatus.RESOLVED, note, None, identities=slots, reopenable=True,
                             asked=asked, bot={k: v for k, v in state.items() if v})
    # the status change is conditioned on the status read: only one resolve of it gets here
    metrics.count("BotResolved", why=why)
    _settle(conversations, book, conv, str(state["at"]), why, state["article_id"], bus)


def resolved_again(conversations: Conversations, book: PolicyBook | None, conv: Conversation,
                   bus: EventBus | None) -> None:
    """The work of a resolve run again (the router's record of the confirmation, the sweep's ``bot_resolve`` timer):
    what followed the resolve's write is done again, as it was, its event published again with the resolve's ``at``
    (the run may have stopped before it went; a copy otherwise, which consumers drop)."""
    state = conv.bot
    assert state is not None and state.state == "resolved"
    logger.info("bot resolve's event published again by its retry", extra={"conversation_id": conv.id})
    _settle(conversations, book, conv, state.at or clock.now_iso(), "no_reply" if state.why == "no_reply"
            else "confirmed", state.article_id, bus)


def _settle(conversations: Conversations, book: PolicyBook | None, conv: Conversation, at: str,
            why: timeline.BotResolved, article_id: str | None, bus: EventBus | None) -> None:
    """After the resolve's write: ``BotResolved`` (a refusal of the bus counted, ``publish_or_count``), then the
    ``bot_resolve`` timer taken away (last: until then a sweep that runs it finds the resolve and comes here again)
    and the clocks stopped."""
    if bus is not None:
        publish_or_count(bus, [("BotResolved", {"conversation_id": conv.id, "channel": conv.channel, "team": conv.team,
                                                "at": at, "confirmed": why == "confirmed", "article_id": article_id})],
                         conversation_id=conv.id)
    conversations.set_conversation_timer(conv.id, BOT_RESOLVE_TIMER, None)
    if book is not None:
        now = clock.now()
        sla_engine.apply(conversations, conv.id, lambda clocks: clocks.on_status(ConversationStatus.RESOLVED, now),
                         book)


def resolve_silent(conversations: Conversations, customers: Customers, store: BotStore, book: PolicyBook | None,
                   conversation_id: str, bus: EventBus | None = None) -> bool:
    """The ``bot_resolve`` timer: the customer did not come back to the bot's answer in time. A run of it that stopped
    after the resolve (its timer still there) finds the conversation resolved by it and publishes the event again."""
    conv = conversations.get_meta(conversation_id)
    if conv.status is ConversationStatus.RESOLVED and conv.bot is not None and conv.bot.state == "resolved" \
            and conv.bot.why == "no_reply":
        resolved_again(conversations, book, conv, bus)
        return True
    if conv.status is not ConversationStatus.PENDING or conv.assignee or conv.bot is None \
            or conv.bot.state != "answering":
        return False
    resolve(conversations, customers, store, book, conv, "no_reply", bus=bus)
    return True
