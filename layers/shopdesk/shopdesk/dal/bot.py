"""The bot's writes on a conversation (``shopdesk.bot.converse``), each conditional so the bot can never
speak over a person, nor over the customer:

- ``answer``: its reply (an outbound message, queued like any reply) and the conversation's ``bot`` state in
  one transaction, the conversation set ``pending`` (waiting for the customer: out of the queue, clocks
  paused). Refused when someone is assigned, when it handed over, when it already answered this message
  (a retried record), or when the customer wrote something that asks after it.
- ``hand_off``: the ``bot`` state ``handed_off`` with its reason and the system entry saying why, and
  ``handed_off_at``, where a person's part of the cycle starts (first response and resolution are measured
  from it, so the bot's time is not counted as the team's). Not conditioned on the customer's latest message: a
  hand-over written after their next one leaves both to a person.
- ``hand_back``: a hand-over of a conversation the bot set ``pending`` whose answer never reached the customer
  (``send_failed``): open again and waiting in its team's queue, with the hand-over, in one write conditioned on
  it being still pending, nobody's and the bot's. A person's part starts at the answer that was lost
  (``handed_off_at``), not when its failure was learnt: the customer has waited since then.
- ``thank``: its thanks for a confirmation (queued like any reply) and the message it answers (``replied_to``) in
  one transaction, before the resolve: refused when the bot no longer answers there or thanked for this message
  already (a retried record, which finds the thanks recorded and resolves), or when the customer wrote something
  that asks after the confirmation.
- ``resolved``: the ``bot`` state after the status change that resolved it.

``answer`` and ``thank`` keep the key of the bot's message (``sent``): a record that runs again sends that message
again (``Bot.step``), so a crash or a refused send between the write and the send never leaves it unsent.
``hand_off`` and ``hand_back`` keep the message whose work handed over (``handed_for``): a record that runs again
publishes the hand-over's event again, so a crash between the write and the publish never loses it.

The bot reads the conversation, then decides (an article, an order's state: a fraction of a second), then writes;
a customer who texts twice a moment apart has their second message stored in between. So ``answer`` and ``thank``
are conditioned on the conversation's ``last_inbound_at`` (the customer's last message that asks something) being
no later than the message they are for: once a newer one is stored, its work decides (``logic.work.superseded``),
and this write is refused.

``answer``, ``thank`` and ``hand_back`` are refused too while the customer's erase holds the conversation
(``NOT_ERASING``, dal/erased.py): no answer of the bot's is stored, or sent, after the erase's last read. A mark
whose erase holds no more (it failed, its release refused) is let go and the write made (``transact_unless_held``).
"""

from __future__ import annotations

from typing import Any

from shopdesk import clock
from shopdesk.dal import items as it
from shopdesk.dal.conversations import Conversations
from shopdesk.dal.erased import NOT_ERASING, transact_unless_held
from shopdesk.dal.retention import TimelineRetention
from shopdesk.dal.table import Table, TransactionCancelled, Update
from shopdesk.models import Conversation, ConversationStatus, Message
from shopdesk.models.conversation import ConversationBot


class BotRefused(Exception):
    """The conversation is no longer the bot's to answer (assigned, handed over, already answered), or the customer
    wrote something that asks after the message it answers (``Bot`` reads the conversation again to tell which)."""


def _latest(update: Update, asked: str) -> Update:
    """Only while the customer's message written at ``asked`` is their latest that asks something."""
    return update.when("attribute_not_exists(last_inbound_at) OR last_inbound_at <= :asked", asked=asked)


class BotStore:
    def __init__(self, table: Table):
        self.table = table
        self.retention = TimelineRetention(table)     # the messages' expiry for what is written without one

    def answer(self, conv: Conversation, reply: Message, state: ConversationBot, replied_to: str, asked: str,
               topics: set[str] | None = None) -> None:
        """``replied_to``: the id of the customer's message it answers, written at ``asked``. ``topics``: the
        contact reasons of the article it answers with (shopdesk.logic.topics), added to the conversation's set in
        the same write."""
        now = clock.iso(reply.created_at)
        bot = state.model_dump(exclude_none=True) | {
            k: v for k, v in (("question", state.question), ("pending_order", state.pending_order),
                              ("replied_to", replied_to), ("sent", it.message_sk(reply))) if v}
        update = (Update().set("bot", bot).set("status", ConversationStatus.PENDING.value)
                  .set("StatusPK", it.status_pk(ConversationStatus.PENDING.value)).set("StatusSK", now)
                  .set("InboxSK", f"{ConversationStatus.PENDING.value}#{now}").set("updated_at", now)
                  .set("last_message_preview", (reply.text or "")[:140] or None)
                  .remove("QueuePK").remove("QueueSK").remove("waiting_since").add("message_count", 1)
                  .when(f"attribute_exists(PK) AND {NOT_ERASING} AND attribute_not_exists(assignee) "
                        "AND #status = :open AND (attribute_not_exists(#bot) OR (#bot.#state <> :handed AND "
                        "(attribute_not_exists(#bot.#replied_to) OR #bot.#replied_to <> :mid)))",
                        open=ConversationStatus.OPEN.value, handed="handed_off", mid=replied_to))
        _latest(update, asked)
        if topics:
            update.add("topics", set(topics))
        try:
            transact_unless_held(self.table, [self.table.put_op(it.message_item(self.retention.stamp(reply))),
                                              self.table.update_op(it.conv_pk(conv.id), it.META, update,
                                                                   old_on_failure=True)])
        except TransactionCancelled as exc:
            raise BotRefused(conv.id) from exc

    def thank(self, conv: Conversation, thanks: Message, replied_to: str, asked: str) -> None:
        """The bot's thanks for the customer's confirmation (message ``replied_to``, written at ``asked``), recorded
        with it on the ``bot`` state before the resolve. BotRefused when the bot no longer answers there, thanked for
        it already, or the customer wrote again."""
        update = (Update().set("bot.replied_to", replied_to).set("bot.sent", it.message_sk(thanks))
                  .set("bot.closing", True)
                  .when(f"attribute_exists(PK) AND {NOT_ERASING} AND #bot.#state = :answering AND "
                        "(attribute_not_exists(#bot.#replied_to) OR #bot.#replied_to <> :mid)",
                        answering="answering", mid=replied_to))
        _latest(update, asked)
        try:
            transact_unless_held(self.table, [self.table.put_op(it.message_item(self.retention.stamp(thanks))),
                                              self.table.update_op(it.conv_pk(conv.id), it.META, update,
                                                                   old_on_failure=True)])
        except TransactionCancelled as exc:
            raise BotRefused(conv.id) from exc

    def hand_off(self, conv: Conversation, reason: str, note: Message, handed_for: str | None = None) -> str:
        """The hand-over's state, with the message whose work handed over (``handed_for``); its time."""
        now = clock.now_iso()
        state: dict[str, Any] = {"state": "handed_off", "handoff_reason": reason, "at": now,
                                 **({"handed_for": handed_for} if handed_for else {})}
        self.table.transact([
            self.table.put_op(it.message_item(self.retention.stamp(note))),
            self.table.update_op(it.conv_pk(conv.id), it.META, Update().set("bot", state)
                                 .set("handed_off_at", now).when("attribute_exists(PK)")),
        ])
        return now

    def hand_back(self, conv: Conversation, reason: str, note: Message, since: str,
                  handed_for: str | None = None) -> str:
        """Hand over a conversation the bot set pending: open again, in its team's queue from ``since`` (the answer
        that never reached the customer), which is also where a person's part of the cycle starts
        (``handed_off_at``: first response and resolution are measured from it), with the hand-over's state and
        note, in one transaction. BotRefused when it is no longer pending, someone has it, or the bot is no longer
        answering there (the customer wrote, a person took it, it was resolved). Its time, as ``hand_off``."""
        now = clock.now_iso()
        open_ = ConversationStatus.OPEN.value
        update = (Update().set("bot", {"state": "handed_off", "handoff_reason": reason, "at": now,
                                       **({"handed_for": handed_for} if handed_for else {})})
                  .set("handed_off_at", since).set("status", open_).set("StatusPK", it.status_pk(open_))
                  .set("StatusSK", now).set("InboxSK", f"{open_}#{now}").set("updated_at", now)
                  .set("changed_by", note.author or "bot")
                  .when(f"attribute_exists(PK) AND {NOT_ERASING} AND #status = :pending "
                        "AND attribute_not_exists(assignee) AND #bot.#state = :answering",
                        pending=ConversationStatus.PENDING.value, answering="answering"))
        Conversations.wait_in_queue(update, conv.id, conv.team, conv.priority, since)
        try:
            transact_unless_held(self.table, [self.table.put_op(it.message_item(self.retention.stamp(note))),
                                              self.table.update_op(it.conv_pk(conv.id), it.META, update,
                                                                   old_on_failure=True)])
        except TransactionCancelled as exc:
            raise BotRefused(conv.id) from exc
        return now

