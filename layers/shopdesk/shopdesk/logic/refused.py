"""A person's reply that never reached the customer is no response: the provider refused it for good (the
dispatcher marked it ``failed``: not retried, or out of attempts) or reported it ``failed`` or ``undelivered`` in a
receipt, which is final even after ``sent`` or ``delivered`` (Twilio reports ``undelivered`` after ``sent``). A
reply that failed but will be retried changes nothing until it fails for good.

When that reply was the conversation's first response (``sla.first_response_at`` is its time), the first response
is taken back, as the bot's lost answer is (``send_failed``):

- with no later reply of a person that went or is on its way, the customer still waits: the first-response clock
  runs again with the business time it had used, so its due time is the one it had (past it, the sweep flags the
  breach and announces it as for any conversation), ``sla.first_response_at`` is cleared and the customer waits
  since the cycle's start (``awaiting_since``), so the acknowledgement and the bot see a conversation nobody
  answered, and the next reply of a person is its first response;
  The timeline says so (``first_response_lost``), which is also the inbox's notice to show the target running;
- with one, that reply is the first response: the clock ends at its time, and ``sla.first_response_at`` is it.

Without one, a conversation set pending or snoozed after that reply, or resolved by a person, opens again
(``_reopens``), a resolved one taking its customer's open slot back on all their channels, as the inbox's reopen
does (``Customers.slot_keys``). A resolved one whose customer has another open conversation meanwhile, on any of
their channels, cannot (one open conversation a customer) and stays resolved, their request going on in that one;
so does one an identity of whose customer is gone (an erase removing them), which no reopen can take the slot back
on (a log line says so, ids only). Its first response is taken back all the same: ``sla.first_response_at``
cleared, the first-response clock stopped unmeasured at the resolve (no target met or missed), nobody waiting on it
and no timeline entry (the reply shows its failure).

The lake's ``first_human_reply`` and the first-response ``sla_met``/``sla_breached`` name the reply (``message_id``),
so the reports leave out the refused one with the ``message_refused`` filter they use for replies (docs/metrics.md).
A reply that was not the first response (one went before it) changes nothing here. Reported by the dispatcher and the
status webhooks on the work queue (``logic.work.enqueue_send_failed``); the router runs it, once in effect: a report
that comes again finds the first response moved and writes nothing. A status webhook whose report the work queue
refused (Twilio sends a status callback once) sets the conversation's ``reply_refused`` timer instead, due at once,
on the table that just stored the receipt; the sweep runs it (``timer_runner``): the first response, when its reply
failed, is taken back there.
"""

from __future__ import annotations

from collections.abc import Callable

from aws_lambda_powertools import Logger

from shopdesk import clock
from shopdesk.dal.conversations import ClockRead, Conversations
from shopdesk.dal.identities import split_key
from shopdesk.logic import sla_engine, timeline
from shopdesk.logic.business_time import ConversationClocks
from shopdesk.models import Conversation, ConversationStatus, Direction, Message

logger = Logger(child=True)

FAILED = frozenset({"failed", "undelivered"})         # the statuses of a reply that never reached the customer
REFUSED_TIMER = "reply_refused"        # the sweep takes back a refused first response the work queue did not take
NOT_PEOPLE = frozenset({None, "", "system", "customer", "router", "bot"})
SLOT_HELD, IDENTITY_GONE = "slot_held", "identity_gone"     # why a resolved conversation is not reopened
AUTOMATIC_KINDS = frozenset({"acknowledgement", "auto_reply", "bot", "bot_answer", "csat_survey", "csat_follow_up"})


def persons_reply(message: Message) -> bool:
    """A reply a person of the desk wrote (not the bot's, an acknowledgement or a survey)."""
    return message.direction is Direction.OUTBOUND and message.author not in NOT_PEOPLE \
        and (message.kind or "text") not in AUTOMATIC_KINDS


def take_back_first_response(conversations: Conversations, book: sla_engine.PolicyBook, conversation_id: str,
                             message_sk: str) -> bool:
    """The reply at ``message_sk`` failed for good: when it was a person's and the conversation's first response, take
    that back (the module's docstring). False when there was nothing to take back."""
    refused = conversations.get_message(conversation_id, message_sk)
    if refused is None or not persons_reply(refused) or refused.status not in FAILED:
        return False
    sent_at = clock.iso(refused.created_at)
    done: list[bool] = []
    kept_why: list[str] = []        # why a resolved conversation stayed so (the last attempt's reading)

    def write(read: ClockRead, clocks: ConversationClocks) -> None:
        conv = read.conversation
        first = conv.sla.first_response_at
        if first is None or clock.iso(first) != sent_at:
            return                      # not the first response (or taken back already by an earlier report)
        instead = _next_reply(conversations, conversation_id, message_sk)
        reopen = instead is None and _reopens(conversations, conv)
        slots = conversations.customers.slot_keys(conv) if reopen and conv.status is ConversationStatus.RESOLVED \
            else None
        why = _slot_unavailable(conversations, slots) if slots is not None else None
        kept = why is not None
        kept_why[:] = [why] if why else []
        if instead is None and conv.status is ConversationStatus.RESOLVED and not reopen:
            return                      # resolved by the bot, the system or a merge: stays so, nothing runs again
        if kept:                        # its customer's request goes on in their open conversation
            clocks.on_reply_refused_kept_resolved(refused.created_at)
        else:
            clocks.on_reply_refused(refused.created_at, instead.created_at if instead else None, clock.now(),
                                    reopen=reopen)
        started = clocks.first_response.started_at if clocks.first_response is not None else None
        note = None if instead or kept else timeline.first_response_lost(
            conversation_id, reopened=conv.status.value if reopen else None)
        conversations.take_back_first_response(read, clocks, refused, instead, started or conv.created_at, note,
                                               reopen=reopen and not kept, slots=slots)
        done.append(True)

    if sla_engine.with_clocks(conversations, conversation_id, write, book) is None:
        logger.warning("first response not taken back: the clocks kept changing",
                       extra={"conversation_id": conversation_id, "message_id": refused.id})
        return False
    if done:
        logger.info("first response taken back: the reply never reached the customer",
                    extra={"conversation_id": conversation_id, "message_id": refused.id})
    if done and kept_why == [IDENTITY_GONE]:
        logger.info("conversation left resolved: an identity of its customer is gone (erased)",
                    extra={"conversation_id": conversation_id, "message_id": refused.id})
    return bool(done)


def _reopens(conversations: Conversations, conv: Conversation) -> bool:
    """Whether the conversation opens again for the lost reply: set pending or snoozed after it (nobody waits on a
    customer who never got it), or resolved by a person (the work is not done); not one the bot or the system
    resolved, nor one merged into another (its work goes on there)."""
    if conv.status in (ConversationStatus.PENDING, ConversationStatus.SNOOZED):
        return True
    if conv.status is not ConversationStatus.RESOLVED or conv.folded_into:
        return False
    return conversations.resolved_by(conv.id) not in NOT_PEOPLE


def _slot_unavailable(conversations: Conversations, slots: list[str]) -> str | None:
    """Why the conversation cannot take its customer's open slot back on the identities a reopen takes it on
    (``Customers.slot_keys``: all their channels, as the inbox's reopen), None when it can. ``SLOT_HELD``: the
    customer holds another open conversation on one of them, their request goes on there. ``IDENTITY_GONE``: one of
    them is no more (an erase removing the customer): the reopen's condition on it would fail on every
    attempt (the inbox's reopen answers 409 for it), so the conversation stays resolved."""
    held = conversations.identities.get_many(split_key(key) for key in slots)
    if any(record.open_conversation_id is not None for record in held.values()):
        return SLOT_HELD
    return IDENTITY_GONE if set(held) != set(slots) else None


def _next_reply(conversations: Conversations, conversation_id: str, after: str) -> Message | None:
    """The earliest reply of a person written after the key ``after`` that was not refused: delivered, or on its way."""
    later = conversations.find_messages(conversation_id, lambda m: persons_reply(m) and m.status not in FAILED,
                                        after=after)
    return later[-1][1] if later else None


def take_back_later(conversations: Conversations, conversation_id: str) -> None:
    """The work queue refused the report of a failed reply: the sweep's next run takes the first response back."""
    conversations.set_conversation_timer(conversation_id, REFUSED_TIMER, clock.now_iso())


def timer_runner(conversations: Conversations, book: sla_engine.PolicyBook) -> Callable[[str], object]:
    """The sweep's runner of ``reply_refused``: the conversation's first response is taken back when its reply
    failed (nothing when it did not, or was taken back already)."""
    def run(conversation_id: str) -> object:
        key = conversations.first_response_key(conversation_id)
        return take_back_first_response(conversations, book, conversation_id, key) if key else False
    return run
