"""Telling the customer what to expect: on their first message, and on messages after hours, an
automatic acknowledgement on the same channel says when an answer will come, computed from the SLA
policy, the business-hours calendar and the current queue, in the customer's language, from
editable templates; never twice in a burst, never to an auto-reply, and it is not a first response.

"First" is the conversation's state, not which message's work runs: during opening hours a message is acknowledged
while the desk has told the customer nothing in the conversation yet (no acknowledgement, no person's reply, no word
of the bot's: ``_first``). The conversation's first message's work may stand aside for a later one's (the customer
wrote again before it ran: ``Outcome.SUPERSEDED``), and that later message's work then gives the first
acknowledgement when the bot leaves it to a person.

At most one per customer message, however often and however late its work is processed (a retry of a record
that failed after the acknowledgement, the sweep's re-sends while the router is down, a redrive): whether a
message is acknowledged is decided from the moment it was written, not the moment its work runs (after hours
then? an acknowledgement within the burst before it, or any after it?), and the acknowledgement is recorded on
the message (``acknowledgement``) in the transaction that stores it. Nothing is promised for a message the desk
wrote to the customer after (a person's reply, the bot's answer: ``logic.work.answered_since``), as when its work is
redriven hours later. Work that finds one sends it again (the
outbound queue drops a copy within five minutes, the dispatcher sends a message once), so a crash or an SQS
error between the record and its send can neither send it twice nor leave it unsent: an error sending it fails
the record (``logic.work.Unsent``), and the retry sends it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from aws_lambda_powertools import Logger

from shopdesk import clock
from shopdesk.dal import items as it
from shopdesk.dal.agents import Agents
from shopdesk.dal.conversations import ClockRead, Conversations
from shopdesk.dal.queues import Queue
from shopdesk.ids import new_id
from shopdesk.logic import expectations
from shopdesk.logic.business_time import add_business_seconds, is_open
from shopdesk.logic.email_thread import email_thread, reply_address_for
from shopdesk.logic.sla_engine import PolicyBook
from shopdesk.logic.variables import variables_for
from shopdesk.logic.windows import WindowClosed, check_consent, free_text_allowed
from shopdesk.logic.work import answered_since, send_outbound
from shopdesk.models import Conversation, ConversationStatus, Direction, Message
from shopdesk.models.sla import BusinessHours

logger = Logger(child=True)


@dataclass
class Acknowledger:
    conversations: Conversations
    agents: Agents
    outbound: Queue
    book: PolicyBook
    shop_name: str = "Example Shop"

    def maybe_acknowledge(self, conversation_id: str, *, handoff: bool = False,
                          message_sk: str | None = None, agents: Agents | None = None,
                          seen: ClockRead | None = None) -> Message | None:
        """``handoff``: the bot just handed the conversation to a person: the customer is told when one will
        answer whatever the hour (the burst guard still holds). ``message_sk``: the customer's message this
        answers, acknowledged once (see the module); None (a hand-over after the bot's answer failed): judged
        from now. ``agents``: the work's own (``logic.assign.OnlineOnce``: the drain after it reads the team's
        online agents no more). ``seen``: the conversation and its clocks as the work read them a moment ago
        (``logic.assign.Admitted``); when they show nothing is owed for this message (``_owes_nothing``) the
        conversation is not read again, else it is, fresh, for what is sent."""
        routing = self.book.routing()
        if not routing.acknowledgements:
            return None
        if seen is not None and not handoff and message_sk and _owes_nothing(seen, message_sk):
            return None
        conv, clocks, _ = self.conversations.get_clocks(conversation_id)
        if clocks is None or clocks.targets.first_response is None:
            return None
        if conv.status is ConversationStatus.RESOLVED:
            return None                       # closed since the customer wrote: nothing left to promise
        now = clock.now()
        written = clock.parse_iso(message_sk.split("#")[1]) if message_sk else now
        last = conv.last_acknowledged_at
        if message_sk and last is not None and last >= written:
            # acknowledged after the customer wrote: this message's work ran before (its own acknowledgement goes
            # again, in case its send never happened), or another message's acknowledgement came after it
            self._send_again(conv.id, message_sk)
            return None
        if message_sk and answered_since(conv, message_sk):
            return None                       # a person or the bot wrote to them after it: nothing left to promise
        open_now = is_open(now, clocks.hours)
        if not _first(conv) and is_open(written, clocks.hours) and not handoff:
            return None                       # during opening hours only the first message is acknowledged
        if not expectations.should_acknowledge(last, written, routing.acknowledgement_burst_seconds):
            return None
        try:
            check_consent(conv.route.channel, conv.route.opted_out)      # unsubscribed (STOP): nothing automatic
            free_text_allowed(conv.route.channel, conv.route.last_inbound_at, now)
        except WindowClosed:
            return None
        add = partial(_add, hours=clocks.hours)
        # ahead of it: those the queue serves first, the more urgent first and then the longer waiting (QueueSK's
        # order): an urgent message is not promised the wait of every normal one before it
        waiting = self.conversations.queue_places(conv.team, limit=100)
        place = (conv.priority.rank, conv.waiting_since or now)
        ahead = sum(1 for id_, rank, since in waiting if id_ != conv.id and (rank, since or now) <= place)
        online = len((agents or self.agents).online(conv.team))
        eta = expectations.expected_reply_at(now, clocks.targets.first_response, ahead, online,
                                             routing.average_handle_seconds, add)
        due = add(now, clocks.targets.first_response)
        kind = expectations.situation(now, open_now, eta, due)
        language = conv.language or routing.default_language
        phrase = expectations.format_eta(eta, now, language, clocks.hours.time_zone,
                                           name_zone=True)
        try:
            templates = expectations.load_templates(routing.acknowledgement_templates or None)
        except expectations.TemplateError as exc:        # saved before it was checked: the shipped ones
            logger.warning("acknowledgement templates unusable", extra={"reason": str(exc)})
            templates = expectations.default_templates()
        shop = routing.shop_name or self.shop_name
        text = expectations.acknowledgement(language, kind, conv.customer.name, phrase, shop, templates,
                                            variables_for(conv, None, shop))
        subject, threading = email_thread(conv.route, reply_address_for(conv.id, conv.route.sender))
        message = Message(id=new_id("m_"), conversation_id=conv.id, direction=Direction.OUTBOUND,
                          channel=conv.route.channel, text=text, status="queued", created_at=now, author=None,
                          to=conv.route.to, sender=conv.route.sender, provider=conv.route.provider,
                          kind="acknowledgement", subject=subject,
                          payload={"situation": kind, "eta": clock.iso(eta), **threading})
        if not self.conversations.add_acknowledgement(conv, message, message_sk):
            return None                       # acknowledged by another delivery of this work meanwhile
        send_outbound(self.outbound, conv.id, it.message_sk(message))
        logger.info("acknowledged", extra={"conversation_id": conv.id, "situation": kind, "language": language})
        return message

    def _send_again(self, conversation_id: str, message_sk: str) -> None:
        sent = self.conversations.acknowledgement_of(conversation_id, message_sk)
        if sent is not None:
            send_outbound(self.outbound, conversation_id, sent)


def _owes_nothing(seen: ClockRead, message_sk: str) -> bool:
    """The work's own read of the conversation (admit's, and the work wrote nothing since but its place in the
    queue) already shows this message is owed nothing: the conversation is past its first message (an
    acknowledgement, a person's reply or the bot's word: none is ever taken back, so a fresh read says so too), the
    message was written during opening hours by the clocks' calendar, and no acknowledgement came after it (then a
    retried record's own is sent again: the full check)."""
    conv, clocks = seen.conversation, seen.clocks
    if clocks is None or _first(conv):
        return False
    written = clock.parse_iso(message_sk.split("#")[1])
    last = conv.last_acknowledged_at
    return (last is None or last < written) and is_open(written, clocks.hours)


def _first(conv: Conversation) -> bool:
    """The desk has told the customer nothing in this conversation yet: no acknowledgement, no person's reply, no word
    of the bot's (an answer, a hand-over; a conversation the bot resolved and the customer reopened keeps its
    ``bot``, so it is not a first message again). Whichever message's work finds it so owes the first
    acknowledgement."""
    return (conv.last_acknowledged_at is None and conv.sla.first_response_at is None
            and conv.last_outbound_at is None and conv.bot is None)


def _add(moment: datetime, seconds: float, *, hours: BusinessHours) -> datetime:
    return add_business_seconds(moment, seconds, hours)
