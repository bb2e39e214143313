"""Resolving a conversation the bot answered: the customer confirmed (``converse``), or did not come back in time
(the ``bot_resolve`` timer, run by the per-minute sweep). Light on imports: the sweep loads no model."""

from __future__ import annotations

from shopdesk import clock, metrics
from shopdesk.dal.bot import BotStore
from shopdesk.dal.conversations import Conversations
from shopdesk.dal.customers import Customers
from shopdesk.dal.events import EventBus, publish_or_count
from shopdesk.logic import sla_engine, timeline
from shopdesk.logic.sla_engine import PolicyBook
from shopdesk.models import Conversation, ConversationStatus

BOT_RESOLVE_TIMER = "bot_resolve"
AUTHOR = "bot"


def resolve(conversations: Conversations, customers: Customers, store: BotStore, book: PolicyBook | None,
            conv: Conversation, why: timeline.BotResolved, asked: str | None = None) -> None:
    """Resolve a conversation the bot answered: its open-conversation slot freed like any resolve, and remembered
    by the customer's identities, so their next message reopens this conversation (``ingest``). ``asked``: the time
    of the customer's confirmation; Conflict once they wrote something that asks after it (nothing written)."""
    customer = customers.get(conv.customer.id)
    identities = customer.identities if customer else conv.customer.identities[:1]
    held = customers.identities.get_many(identities)
    slots = [key for key, record in held.items() if record.open_conversation_id == conv.id]
    note = timeline.bot_resolved(conv.id, AUTHOR, why)
    conversations.set_status(conv, ConversationStatus.RESOLVED, note, None, identities=slots, reopenable=True,
                             asked=asked)
    # the status change is conditioned on the status read: only one resolve of it gets here
    metrics.count("BotResolved", why=why)
    store.mark_resolved(conv.id, conv.bot.article_id if conv.bot else None)
    conversations.set_conversation_timer(conv.id, BOT_RESOLVE_TIMER, None)
    if book is not None:
        now = clock.now()
        sla_engine.apply(conversations, conv.id, lambda clocks: clocks.on_status(ConversationStatus.RESOLVED, now),
                         book)


def resolve_silent(conversations: Conversations, customers: Customers, store: BotStore, book: PolicyBook | None,
                   conversation_id: str, bus: EventBus | None = None) -> bool:
    """The ``bot_resolve`` timer: the customer did not come back to the bot's answer in time."""
    conv = conversations.get_meta(conversation_id)
    if conv.status is not ConversationStatus.PENDING or conv.assignee or conv.bot is None \
            or conv.bot.state != "answering":
        return False
    resolve(conversations, customers, store, book, conv, "no_reply")
    if bus is not None:       # at most once (``Bot._publish``); a loss to the bus is counted
        publish_or_count(bus, [("BotResolved", {"conversation_id": conv.id, "channel": conv.channel, "team": conv.team,
                                                "at": clock.now_iso(), "confirmed": False,
                                                "article_id": conv.bot.article_id})], conversation_id=conv.id)
    return True
