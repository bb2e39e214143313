"""Snoozing until a chosen time: the conversation waits as ``snoozed`` (its SLA clocks paused) and opens
again by itself when the time comes, or earlier when the customer writes or an agent opens it.

The wake-up is a timer in the due index (like the routing timers), run by the per-minute SLA sweep,
so a snooze ends at most a minute late. Any other status change removes the timer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from shopdesk import clock
from shopdesk.dal import conversations as conversations_dal
from shopdesk.dal.conversations import Conversations
from shopdesk.errors import BadRequest, NotFound
from shopdesk.logic import sla_engine
from shopdesk.logic.access import Caller
from shopdesk.logic.sla_engine import PolicyBook
from shopdesk.logic.timeline import system_message
from shopdesk.models import Conversation, ConversationStatus

SNOOZE_TIMER = conversations_dal.SNOOZE_TIMER          # the timer item that ends a snooze


@dataclass
class Snoozer:
    """Status changes with an optional end to a snooze, around the inbox's own status change."""

    conversations: Conversations
    change_status: Callable[[Caller, str, ConversationStatus], Conversation]

    def set_status(self, caller: Caller, conversation_id: str, status: ConversationStatus,
                   until: datetime | None = None) -> Conversation:
        if until is not None:
            if status is not ConversationStatus.SNOOZED:
                raise BadRequest("until goes only with status snoozed")
            if until.tzinfo is None:
                raise BadRequest("until needs a time zone (e.g. 2026-12-04T09:00:00Z)")
            if until <= clock.now():
                raise BadRequest("until must be in the future")
        conv = self.change_status(caller, conversation_id, status)
        by_agent = caller.id
        if status is ConversationStatus.SNOOZED and until is not None:
            self.conversations.set_conversation_timer(conv.id, SNOOZE_TIMER, clock.iso(until))
            self.conversations.add_message(system_message(conv.id, f"Snoozed until {clock.iso(until)} by {by_agent}",
                                                          author=by_agent))
        else:
            self.conversations.set_conversation_timer(conv.id, SNOOZE_TIMER, None)
        return conv


def wake(conversations: Conversations, book: PolicyBook | None, conversation_id: str) -> bool:
    """The snooze is over: open the conversation again with its clocks running (unless something
    else changed its status meanwhile). Its assignee keeps it; an unassigned one waits in its team's
    queue, which the sweep drains right after its timers."""
    try:
        conv = conversations.get_meta(conversation_id)
    except NotFound:
        return False
    if conv.status is not ConversationStatus.SNOOZED:
        return False
    note = system_message(conv.id, "Snooze ended: open again")
    conversations.set_status(conv, ConversationStatus.OPEN, note, None)
    if book is not None:
        now = clock.now()
        sla_engine.apply(conversations, conv.id, lambda clocks: clocks.on_status(ConversationStatus.OPEN, now), book)
    return True
