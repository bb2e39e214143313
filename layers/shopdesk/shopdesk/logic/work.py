"""Messages on the work queue: what the router is asked to do."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger
from pydantic import BaseModel, Field

from shopdesk import clock, metrics
from shopdesk.bot import waited_on
from shopdesk.dal.items import message_sk
from shopdesk.dal.queues import Queue
from shopdesk.ids import new_id
from shopdesk.logic.evidence import may_hold_addresses, signed_email
from shopdesk.logic.refused import persons_reply
from shopdesk.models import Conversation, Message

logger = Logger(child=True)

NOT_WRITTEN = frozenset({"auto_reply", "opt_out", "opt_in"})    # kinds of inbound message that ask nothing
NOT_SENT_METRIC = "RoutingWorkNotSent"    # work the queue refused that the sweep sends (again): count_not_sent


class InboundWork(BaseModel):
    kind: Literal["inbound"] = "inbound"
    conversation_id: str
    message_id: str
    message_sk: str | None = None      # to fetch the message (its attachments) without a Query
    has_media: bool = False
    new_conversation: bool = False     # its clocks were started with it
    # an auto-reply, or a consent keyword (STOP, START): starts and resumes no clock, neither the bot nor the
    # acknowledgement answers it
    auto_reply: bool = False
    quiet: Literal["opt_out", "opt_in", "auto_reply"] | None = None    # which of those (logic.consent)
    addresses: bool = False            # the text may give an email or phone (duplicate evidence, logic.evidence)
    team: str = "default"
    marker: str | None = None          # the delivery's marker, which keeps this work until the router confirms it


class DrainWork(BaseModel):
    """Assign waiting conversations while capacity lasts: those of a team (new work, the sweep's
    re-drive), or those of every team of an agent who freed capacity (resolve, online, more capacity,
    transfer away), most urgent then longest waiting across all of them. The agent's teams are read
    when the drain runs, so a change of teams counts from the next assignment."""

    kind: Literal["drain"] = "drain"
    team: str | None = None
    agent_id: str | None = None
    reason: str = "capacity"


class CsatWork(BaseModel):
    """A customer rated the help they got (``shopdesk.csat.answer``): the follow-up (the comment question or a
    thank-you) goes out, and a low rating alerts the team. Kept on the answer's marker until done."""

    kind: Literal["csat"] = "csat"
    conversation_id: str
    message_id: str
    cycle: str
    score: int = Field(ge=1, le=5)
    marker: str | None = None
    channel: str | None = None       # the channel the customer answered on: the follow-up goes there


class BotSendFailedWork(BaseModel):
    """A message of the bot's that the conversation waits on never reached the customer (the provider refused it:
    the dispatcher, or a failed receipt): the router hands the conversation to a person (``Bot.send_failed``),
    acknowledges and assigns it. Sent again harmlessly: the hand-over happens once."""

    kind: Literal["bot_send_failed"] = "bot_send_failed"
    conversation_id: str
    message_id: str
    message_sk: str


class ReplyFailedWork(BaseModel):
    """A person's reply never reached the customer (the provider refused it for good: the dispatcher, or a failed or
    undelivered receipt): when it was the conversation's first response, the router takes that back
    (``logic.refused``). Sent again harmlessly: a first response is taken back once."""

    kind: Literal["reply_failed"] = "reply_failed"
    conversation_id: str
    message_id: str
    message_sk: str


class WorkItem(BaseModel):
    item: Annotated[InboundWork | DrainWork | CsatWork | BotSendFailedWork | ReplyFailedWork,
                    Field(discriminator="kind")]


def inbound_work(conversation_id: str, message: Message, team: str = "default", *, new_conversation: bool = False,
                 marker: str | None = None) -> dict[str, Any]:
    """What the router is asked to do with a customer's message, as sent (and kept on its marker)."""
    return InboundWork(conversation_id=conversation_id, message_id=message.id, message_sk=message_sk(message),
                       has_media=any(a.storage_key is None and a.note is None for a in message.attachments),
                       new_conversation=new_conversation, auto_reply=message.kind in NOT_WRITTEN,
                       quiet=message.kind if message.kind in NOT_WRITTEN else None, team=team,
                       addresses=may_hold_addresses(message.text) or bool(signed_email(message)),
                       marker=marker).model_dump(exclude_defaults=False)


def written_at(message_sk: str) -> datetime:
    """When a message was stored: the time in its key (``MSG#<time>#<id>``)."""
    return clock.parse_iso(message_sk.split("#")[1])


def superseded(conv: Conversation, message_sk: str) -> bool:
    """The customer wrote again after this message (the conversation's ``last_inbound_at``, which a message that asks
    nothing, ``NOT_WRITTEN``, leaves as it was): the later message's work is the one to answer them. Work that runs
    late (a retry, the sweep's re-send, a redrive hours later) must not answer an old message after the conversation
    moved on."""
    return conv.last_inbound_at is not None and conv.last_inbound_at > written_at(message_sk)


def answered_since(conv: Conversation, message_sk: str) -> bool:
    """The desk wrote to the customer after this message: a person's reply (``last_outbound_at``) or the bot's answer
    (its ``at`` while it answers). A hand-over sends the customer nothing but the acknowledgement, which has its own
    record (``last_acknowledged_at``)."""
    written = written_at(message_sk)
    if conv.last_outbound_at is not None and conv.last_outbound_at > written:
        return True
    bot = conv.bot
    return bot is not None and bot.state == "answering" and bool(bot.at) and clock.parse_iso(bot.at or "") > written


class Unsent(Exception):
    """A message to the customer is recorded (an acknowledgement, the bot's answer, a rating's follow-up) but its send
    to the outbound queue failed, or for the bot's answer the work it does before the send (its clocks and timer,
    ``bot.converse``): the work fails, and its retry finds the record, does what is left and sends that message (never
    a second one)."""


def send_outbound(queue: Queue, conversation_id: str, message_sk: str) -> None:
    """A recorded message to the customer (its key) to the outbound queue, deduplicated on its id: sent again by
    work that runs again, the queue drops a copy within five minutes and the dispatcher sends a message once.
    Unsent when the queue refused it."""
    message_id = message_sk.rsplit("#", 1)[-1]
    try:
        queue.send({"conversation_id": conversation_id, "message_id": message_id, "message_sk": message_sk},
                   group=conversation_id, dedup_id=message_id)
    except Exception as exc:
        raise Unsent(conversation_id) from exc


def send_inbound(queue: Queue, work: dict[str, Any]) -> None:
    """Send (or send again: the same deduplication id, so a copy within five minutes is dropped) a message's work."""
    queue.send(work, group=work["conversation_id"], dedup_id=work["message_id"])


def send_kept(queue: Queue, work: dict[str, Any]) -> bool:
    """Send the work of a customer's message just stored, which its marker keeps until the router confirms it
    (``Conversations._marker_op``). The queue refusing it fails nothing: the message is stored, and the sweep sends
    the work after the grace (``logic.sla.resend_unrouted``), so the provider is answered as for any message stored
    and nothing is delivered again for it. False when it did not go (a warning, and ``count_not_sent``: a refusal
    that lasts would route every message minutes late, and pages)."""
    try:
        send_inbound(queue, work)
    except Exception:
        logger.warning("routing work not sent: the sweep sends it", exc_info=True, extra={
            "conversation_id": work.get("conversation_id"), "message_id": work.get("message_id"),
            "work": work.get("kind")})
        count_not_sent(str(work.get("kind")))
        return False
    return True


# what count_not_sent's dimension names: a customer's message, a rating, the sweep's drains, a survey asked at a
# resolve and a reply the sweep queues again (the outbound queue's: the sweep sends them); anything else is "other"
NOT_SENT_WORK = frozenset({"inbound", "csat", "drain", "survey", "reply"})


def count_not_sent(kind: str, value: int = 1) -> None:
    """Work the work queue refused, which the sweep sends (again) later: ``RoutingWorkNotSent`` by ``work`` (its
    kind) and in all, which pages (template.yaml, ``RoutingWorkNotSentAlarm``). Counted where the refusal leaves it
    to the sweep: ``send_kept`` (the webhooks, a rating), a merge's routing (``logic.fold``) and the sweep itself
    (``logic.sla``)."""
    metrics.count(NOT_SENT_METRIC, value, work=metrics.one_of(kind, NOT_SENT_WORK))
    metrics.count(NOT_SENT_METRIC, value)


def enqueue_inbound(queue: Queue, conversation_id: str, message: Message, team: str = "default", *,
                    new_conversation: bool = False) -> None:
    send_inbound(queue, inbound_work(conversation_id, message, team, new_conversation=new_conversation))


def enqueue_bot_send_failed(queue: Queue, message: Message) -> bool:
    """Report a failed message to the router when it is one of the bot's the conversation waits on
    (``shopdesk.bot.waited_on``); in the conversation's group, after its messages' work. False when it is not."""
    if not waited_on(message):
        return False
    _report_failed(queue, BotSendFailedWork, message, "send_failed")
    return True


def _report_failed(queue: Queue, kind: type[BotSendFailedWork] | type[ReplyFailedWork], message: Message,
                   name: str) -> None:
    work = kind(conversation_id=message.conversation_id, message_id=message.id, message_sk=message_sk(message))
    queue.send(work.model_dump(), group=message.conversation_id, dedup_id=f"{name}#{message.id}")


def enqueue_send_failed(queue: Queue, message: Message) -> bool:
    """Report a message that failed for good to the router, when the conversation must hear of it: one of the bot's
    it waits on (``enqueue_bot_send_failed``) or a person's reply (``ReplyFailedWork``), in the conversation's group,
    after its messages' work. False when it is neither."""
    if enqueue_bot_send_failed(queue, message):
        return True
    if not persons_reply(message):
        return False
    _report_failed(queue, ReplyFailedWork, message, "reply_failed")
    return True


def enqueue_drain(queue: Queue, team: str, reason: str) -> None:
    # One group per team: drains of a team run one at a time, in order, never racing each other.
    queue.send(DrainWork(team=team, reason=reason).model_dump(exclude_none=True), group=f"drain#{team}",
               dedup_id=new_id("d_"))


def enqueue_refill(queue: Queue, agent_id: str, reason: str) -> None:
    # One group per agent. A refill may run beside a drain of one of its teams: the database
    # conditions, not the order, keep every agent within capacity.
    queue.send(DrainWork(agent_id=agent_id, reason=reason).model_dump(exclude_none=True),
               group=f"refill#{agent_id}"[:128], dedup_id=new_id("d_"))
