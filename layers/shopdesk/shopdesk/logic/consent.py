"""Customers' messages that ask nothing, as the router meets them: a STOP, a START, an out-of-office (#14).

Ingest stores them (``logic.work.NOT_WRITTEN``: no clock starts, no bot, no acknowledgement) and keeps them on the
customer's resolved conversation when there is one (``logic.ingest._kept``). What is left to the router:

- A conversation whose only messages ask nothing (someone with no conversation before texts STOP, or answers
  the shop's first email with an out-of-office, or two of them before the router ran): there is nothing to
  answer. The system resolves it, with an entry saying why; it never waits in a queue or takes an agent's
  capacity. Refused, and left to route as usual, once the customer wrote again meanwhile.
- A STOP on an open conversation whose every channel is now unsubscribed: nothing can be sent, so no response can
  be late. Its SLA clocks pause, with an entry; a START on an open conversation lets them run again (a pending or
  snoozed one stays paused, as its status says). An agent still sees it, can resolve it, and is told in the
  composer why nothing can be sent. What the customer writes while still unsubscribed from every channel of the
  conversation (Twilio still delivers it) is for a person to read, and starts no late response either: the clocks
  the message moved stay paused (``still_unreachable``).
"""

from __future__ import annotations

from aws_lambda_powertools import Logger

from shopdesk import clock
from shopdesk.dal.conversations import Conversations
from shopdesk.errors import Conflict
from shopdesk.logic import sla_engine, timeline
from shopdesk.logic.business_time import ConversationClocks
from shopdesk.logic.sla_engine import PolicyBook
from shopdesk.logic.work import NOT_WRITTEN, InboundWork
from shopdesk.models import Conversation, ConversationStatus
from shopdesk.models.message import Direction

logger = Logger(child=True)


def settle(work: InboundWork, conv: Conversation, conversations: Conversations, book: PolicyBook | None
           ) -> Conversation:
    """The conversation after a message that asks nothing: resolved when that message is all it holds, its
    clocks paused or running again on a STOP or START; as it was otherwise."""
    if work.quiet is None or conv.status is ConversationStatus.RESOLVED:
        return conv
    held = _all_quiet(work, conv, conversations) if conv.assignee is None else None
    if held is not None:
        note = timeline.nothing_to_answer(conv.id, work.quiet, conv.channel)
        try:
            conversations.set_status(conv, ConversationStatus.RESOLVED, note, None, messages=held)
        except Conflict:         # the customer wrote again meanwhile: routed as any conversation
            return conv
        logger.info("nothing to answer: resolved", extra={"conversation_id": conv.id, "why": work.quiet})
        return conversations.get_meta(conv.id)
    if book is None or work.quiet == "auto_reply":
        return conv
    if work.quiet == "opt_out" and conv.routes and all(r.opted_out for r in conv.routes.values()):
        change, entry = ConversationClocks.on_unreachable, timeline.clocks_paused_unsubscribed
    elif work.quiet == "opt_in" and conv.status is ConversationStatus.OPEN:
        change, entry = ConversationClocks.on_reachable, timeline.clocks_resumed_subscribed
    else:
        return conv
    moved: list[bool] = []

    def move(clocks: ConversationClocks) -> bool:
        moved[:] = [change(clocks, clock.now())]
        return moved[0]             # False (nothing to move: a repeated delivery) writes nothing

    if sla_engine.apply(conversations, conv.id, move, book) is not None and moved == [True]:
        message = conversations.get_message(conv.id, work.message_sk) if work.message_sk else None
        conversations.add_message(entry(conv.id, (message.channel if message else None) or conv.channel))
    return conv


def _all_quiet(work: InboundWork, conv: Conversation, conversations: Conversations) -> int | None:
    """How many messages the conversation holds when every one asks nothing (None: one asks something). A new
    conversation of one such message needs no read; two out-of-offices (or bounces) before the router ran need
    one: the second found the first's conversation, and neither alone was all it held."""
    if work.new_conversation and conv.message_count == 1:
        return 1
    held = conversations.get_with_messages(conv.id)
    written = [m for m in held.messages if m.direction is not Direction.SYSTEM]
    if held.assignee is not None or held.status is ConversationStatus.RESOLVED or not written:
        return None
    if all(m.direction is Direction.INBOUND and m.kind in NOT_WRITTEN for m in written):
        return held.message_count
    return None


def still_unreachable(conv: Conversation, conversations: Conversations, book: PolicyBook | None) -> None:
    """A customer's message on an open conversation whose every channel is unsubscribed: the clocks it started or
    resumed pause again (no entry: the STOP's says why)."""
    if book is None or conv.status is not ConversationStatus.OPEN or not conv.routes:
        return
    if not all(r.opted_out for r in conv.routes.values()):
        return
    sla_engine.apply(conversations, conv.id, lambda clocks: clocks.on_unreachable(clock.now()), book)
