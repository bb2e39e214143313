"""Each inbound customer message understood by the router, off the ingest path (shopdesk.understanding).

``read`` (when the router admits a customer's message): the message is read once, understood (language,
sentiment, emotion, urgency, intents) and the result written on the message; the conversation's part (its
latest ``sentiment`` and ``urgent``, and its ``language`` when the detector is sure: ``SURE``; ``Understood.mood``)
goes with the router's next write of the conversation (its classification, or the clocks the message moves); the
customer's ``language`` follows (``remember_language``). A new conversation's classification reuses the same
reading.

``escalate`` (once the conversation's clocks run): a negative message raises the conversation's priority to
the routing settings' ``priority_on_negative`` (default high), an urgent one to ``priority_on_urgent``
(default urgent); only ever up, never on a resolved conversation, and with a timeline entry saying why
(``Priority raised from normal to urgent: urgent message (deadline); negative (anger)``). It is the same
change a supervisor makes (Conversations.reroute): the SLA clocks rebound to the new priority's targets,
the conversation's place in its team's queue moved up, in one transaction.

Nothing here sends anything: the ingest budget (2 DynamoDB + 1 SQS requests) is untouched, and the router
adds no SQS message. A failure to understand is logged and routing goes on (``read`` answers None).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from shopdesk.channels.subjects import is_reply_subject
from shopdesk.dal.conversations import ClockRead, Conversations
from shopdesk.dal.customers import Customers
from shopdesk.dal.table import Update
from shopdesk.logic import sla_engine, timeline, topics
from shopdesk.logic.business_time import ConversationClocks
from shopdesk.logic.language import supported
from shopdesk.logic.sla_engine import PolicyBook
from shopdesk.models import Conversation, ConversationStatus, Direction, Message, Priority
from shopdesk.models.admin import RoutingSettings
from shopdesk.understanding import Understanding, understand
from shopdesk.understanding.language import SURE

logger = Logger(child=True)

# SURE (0.7): the language confidence from which the conversation and the customer take it
# what a provider, browser or mail client said from its own settings (Telegram's language_code, a browser's
# Accept-Language, an email's Content-Language; emails stored before content_language kept it as accept_language)
HINT_KEYS = ("locale", "language_code", "accept_language", "content_language", "language")


@dataclass(frozen=True)
class Understood:
    sure_language: str | None           # a language we answer in, detected with at least SURE confidence
    message: Message
    understanding: Understanding

    def mood(self, *, language: bool = True) -> Update:
        """The conversation's part (Conversations.mood); ``language=False`` when the caller sets the language."""
        found = self.understanding
        return Conversations.mood(found.sentiment, found.urgent, self.sure_language if language else None,
                                  topics.from_intents(found.intents))


def remember_language(customers: Customers, customer_id: str, understood: Understood) -> None:
    """The customer's ``language`` becomes the one they just wrote in, when the detector is sure of it."""
    if understood.sure_language:
        customers.set_language(customer_id, understood.sure_language)


def hints_of(message: Message) -> list[str]:
    """What a provider, browser or mail client said of the customer's language from its own settings, as the
    message's payload kept it: a hint, which the text decides over when the detector is ``SURE`` of another
    language (``understanding.language.with_weak_hint``)."""
    payload = message.payload or {}
    return [str(payload[key]) for key in HINT_KEYS if isinstance(payload.get(key), str)]


def text_of(message: Message) -> str:
    """The words to understand: an email's subject and its text. A reply's subject ("Re: Where is my order?") is
    the thread's, understood with the mail that started it; read again with every answer it would put its
    intents and mood on words that do not carry them ("Yes, thanks!" would still ask where the order is)."""
    subject = None if is_reply_subject(message.subject) else message.subject
    return " ".join(part for part in (subject, message.text) if part).strip()


def read(conversations: Conversations, conversation_id: str, message_sk: str) -> Understood | None:
    """Read one inbound message, understand it, store what was understood on the message (the caller writes
    the conversation's part, ``Understood.mood``, with its next change of the conversation). None for a message
    that is gone, not the customer's, or without words."""
    message = conversations.get_message(conversation_id, message_sk)
    if message is None or message.direction is not Direction.INBOUND or not text_of(message):
        return None
    try:
        understood = understand(text_of(message), hints_of(message))
    except Exception:               # a broken model must not stop routing: the message stays un-understood
        logger.exception("message not understood", extra={"conversation_id": conversation_id})
        return None
    sure = understood.language if (understood.language in supported()
                                   and understood.language_confidence >= SURE) else None
    result = Understood(sure, message.model_copy(update={
        "language": understood.language, "sentiment": understood.sentiment, "emotion": understood.emotion,
        "urgent": understood.urgent, "intents": sorted(understood.intents)}), understood)
    conversations.note_understanding(
        conversation_id, message_sk, language=understood.language, sentiment=understood.sentiment,
        emotion=understood.emotion, urgent=understood.urgent, intents=sorted(understood.intents))
    logger.info("message understood", extra={
        "conversation_id": conversation_id, "language": understood.language, "sentiment": understood.sentiment,
        "emotion": understood.emotion, "urgent": understood.urgent, "reasons": understood.urgency_reasons})
    return result


def asked_priority(understood: Understanding, routing: RoutingSettings
                   ) -> tuple[Priority | None, list[dict[str, Any]]]:
    """The priority the message asks for under the routing settings (None: none, or both "off"), and why (the
    causes the timeline entry names: ``timeline.urgent_cause``, ``timeline.negative_cause``)."""
    asked: list[tuple[Priority, dict[str, Any]]] = []
    if understood.urgent and routing.priority_on_urgent != "off":
        asked.append((Priority(routing.priority_on_urgent), timeline.urgent_cause(understood.urgency_reasons)))
    if understood.sentiment == "negative" and routing.priority_on_negative != "off":
        asked.append((Priority(routing.priority_on_negative), timeline.negative_cause(understood.emotion)))
    if not asked:
        return None, []
    return min((p for p, _ in asked), key=lambda p: p.rank), [why for _, why in asked]


def escalate(conversations: Conversations, book: PolicyBook, conversation_id: str,
             understood: Understanding) -> Conversation | None:
    """Raise the conversation's priority as the routing settings say for this message (see the module)."""
    target, causes = asked_priority(understood, book.routing())
    if target is None:
        return None
    raised: list[Conversation] = []

    def write(read: ClockRead, clocks: ConversationClocks) -> None:
        conv = read.conversation
        if conv.status is ConversationStatus.RESOLVED or target.rank >= conv.priority.rank:
            return                                  # already at least as urgent, or closed meanwhile
        book.rebind(clocks, conv.channel, conv.team, target)
        note = timeline.priority_raised(conv.id, conv.priority, target, causes)
        conversations.reroute(read, clocks, priority=target, team=conv.team, skills=sorted(conv.skills),
                              release=False, note=note)
        raised.append(conv)

    if sla_engine.with_clocks(conversations, conversation_id, write, book) is None:
        logger.warning("priority not raised: the conversation kept changing",
                       extra={"conversation_id": conversation_id})
        return None
    if not raised:
        return None
    logger.info("priority raised", extra={"conversation_id": conversation_id, "priority": target.value,
                                          "reasons": [timeline.cause_text(c) for c in causes]})
    return conversations.get_meta(conversation_id)
