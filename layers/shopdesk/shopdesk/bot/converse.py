"""The bot in a conversation: the router's step between admitting a customer's message and assigning it.

``Bot.step`` answers one of three ways:

- ``REPLIED``: it answered (an article in the customer's language with its link, or an order's state with its
  tracking link) and asked whether that solved it, or it resolved the conversation the customer confirmed.
  The conversation waits for the customer (``pending``), out of the queue: the router neither acknowledges
  nor assigns it.
- ``HANDED_OFF``: a person takes it from here. A system entry on the timeline says why, an event is
  published, and the router acknowledges (the customer is told a person will answer, and when) and assigns
  as it always did.
- ``SKIPPED``: not the bot's conversation (off, another channel or team, business hours, someone assigned,
  a person already answered, handed over before), or the desk wrote to the customer after this message: routing as
  if there were no bot.
- ``SUPERSEDED``: the bot's conversation, but the customer wrote again after this message: the bot answers only the
  conversation's latest customer message, so that message's work decides (answer, hand over, or route), and the
  router does nothing more for this one (no acknowledgement, no assignment). Several messages in quick succession
  get one answer, to the last; a message's work that runs late (the sweep's re-send, a redrive from the dead-letter
  queue hours later) never answers an old question after the conversation moved on. The customer's next message
  may also be stored while the bot works on this one (read, decide, write: two texts a moment apart): the bot's
  write is then refused, and the outcome is the same.

The reply and the ``bot`` state are one conditional transaction (``dal.bot``): refused when a person was
assigned meanwhile, when it handed over, when this message was answered already (a retried record), or when the
customer wrote something that asks after it (``SUPERSEDED``); its thanks for a confirmation is refused in that
last case too, so a "thanks" never closes the conversation over a question stored after it. A hand-over is not:
one written after the customer's next message leaves both to a person (that message's work finds the bot handed
over and routes as if there were no bot). A record
that runs again (a retry, the sweep's re-send, a redrive) finds the message answered: the bot's message goes to the
outbound queue again (sent once: a send that failed after the write is not lost, and the error fails the record,
``logic.work.Unsent``), an answer's clocks, ``bot_resolve`` timer and event (done before its send) are done then if
the run before stopped ahead of its timer, and a confirmation it thanked for is resolved if the resolve had not
happened. A
customer who writes again within ``BURST_SECONDS`` of an answer gets a person, never a second bot answer, and the
hand-over says so (``follow_up``; the same question again is ``repeated``, decided before). The one exception is
the reply the bot asked for: after it asked for an order's email or postcode (``pending_order``), or for the
number and its proof of an order it could not find (``ANY_ORDER``), the customer's next message is that proof,
however soon it comes, and the order's state is told.
An answered conversation the customer does not come back to is resolved by the ``bot_resolve`` timer
(``resolve_after_seconds``, run by the per-minute sweep); the customer's next message reopens that conversation
(``logic.ingest``), and the bot reads it afresh.

An answer is held to what the channel takes in one message (``bot.fit``: the article cut with an ellipsis, its link
and the question kept); one that cannot fit sensibly is handed over (``too_long``). An answer the provider refuses
(``send_failed``: the dispatcher, or a failed receipt, reports it on the work queue) hands the conversation over at
once: open again in its team's queue, clocks running, instead of pending until the timer resolved it unanswered.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, NoReturn

from aws_lambda_powertools import Logger

from shopdesk import clock, metrics
from shopdesk.bot import HANDOFF_REASONS, BotSettings, BotState, waited_on
from shopdesk.bot.decide import Context, Decision, decide, reports_damage
from shopdesk.bot.fit import fit_answer
from shopdesk.bot.orders import ANY_ORDER, OrderStatus
from shopdesk.bot.phrases import phrase
from shopdesk.bot.resolve import AUTHOR, BOT_RESOLVE_TIMER, resolve, resolved_again
from shopdesk.channels import limits as channel_limits
from shopdesk.dal import items as it
from shopdesk.dal.bot import BotRefused, BotStore
from shopdesk.dal.config import ConfigStore
from shopdesk.dal.conversations import ClockRead, Conversations
from shopdesk.dal.customers import Customers
from shopdesk.dal.events import EventBus, publish_or_count
from shopdesk.dal.queues import Queue
from shopdesk.errors import Conflict
from shopdesk.ids import new_id
from shopdesk.kb.loader import IndexCache
from shopdesk.logic import sla_engine, timeline, topics
from shopdesk.logic.business_time import ConversationClocks, is_open
from shopdesk.logic.email_thread import email_thread, reply_address_for
from shopdesk.logic.sla_engine import PolicyBook
from shopdesk.logic.understand import hints_of
from shopdesk.logic.work import NOT_WRITTEN, Unsent, answered_since, send_outbound, superseded, written_at
from shopdesk.models import Conversation, ConversationStatus, Direction, Message
from shopdesk.understanding import Understanding, understand

logger = Logger(child=True)

BURST_SECONDS = 60
BUTTON_CHANNELS = frozenset({"whatsapp", "messenger", "instagram", "telegram"})     # the widget: words and choices
BUTTON_PROVIDERS = frozenset({"whatsapp_cloud", "messenger", "instagram", "telegram"})
YES, NO = "bot_yes", "bot_no"


class Outcome(Enum):
    REPLIED = "replied"
    HANDED_OFF = "handed_off"
    SKIPPED = "skipped"
    SUPERSEDED = "superseded"     # the customer wrote again since: that message's work decides, this one does nothing


@dataclass
class Bot:
    conversations: Conversations
    store: BotStore
    config: ConfigStore
    index: IndexCache
    outbound: Queue
    book: PolicyBook
    customers: Customers
    orders: OrderStatus | None = None
    bus: EventBus | None = None
    understand: Callable[..., Understanding] = understand
    # read with every message the bot may take (one GetItem), or once a batch (``new_batch``: the router's): an
    # admin's "off" counts from the next message, or the next batch
    settings_ttl: float = 0.0
    _settings: BotSettings | None = None
    _settings_at: float = field(default=-1e9)

    def settings(self) -> BotSettings:
        if self._settings is None or time.monotonic() - self._settings_at > self.settings_ttl:
            stored = self.config.get("bot", "settings") or {}
            self._settings = BotSettings.model_validate({k: v for k, v in stored.items() if k != "version"})
            self._settings_at = time.monotonic()
        return self._settings

    def new_batch(self) -> None:
        """The settings are read again at the batch's first message the bot may take, and kept for the rest of
        it (with ``settings_ttl`` infinite): the records of a batch are one delivery, taken before any change made
        while they run, and the next batch reads the change."""
        self._settings = None

    @staticmethod
    def may_apply(conv: Conversation) -> bool:
        """What no setting changes: the bot never takes a conversation that is not open, that someone holds, that
        it handed over, or where a person has answered (the settings are not read for it)."""
        if conv.status is not ConversationStatus.OPEN or conv.assignee:
            return False
        if conv.bot is not None and conv.bot.state == "handed_off":
            return False
        return conv.sla.first_response_at is None   # a person has answered here: the conversation is theirs now

    def applies(self, settings: BotSettings, conv: Conversation) -> bool:
        if not settings.enabled or not self.may_apply(conv):
            return False
        if settings.channels is not None and conv.channel not in settings.channels:
            return False
        if conv.route.opted_out:
            return False              # unsubscribed (STOP): no answer could reach them; a person decides
        if settings.teams is not None and conv.team not in settings.teams:
            return False
        if settings.when == "outside_business_hours":
            _, clocks, _ = self.conversations.get_clocks(conv.id)
            if clocks is not None and is_open(clock.now(), clocks.hours):
                return False
        return True

    def step(self, conversation_id: str, message_sk: str | None, conv: Conversation | None = None, *,
             message: Message | None = None, read: ClockRead | None = None) -> Outcome:
        """The bot's part in a customer's message's work. ``message``: the message as the work read it already
        (``logic.assign.Admitted``), else read here; ``read``: the conversation's clocks as the work read them
        (``conv`` is their conversation), from which an answer moves them on (its write conditioned on their
        version: a change meanwhile makes it read them again)."""
        conv = conv or self.conversations.get_meta(conversation_id)
        if message_sk and conv.bot is not None and conv.bot.replied_to == message_sk.rsplit("#", 1)[-1]:
            # a record sent again (a retry, the sweep's re-drive): answered already
            return self._again(conv, conv.bot, message_sk,
                               read if read is not None and read.conversation.id == conv.id else None)
        if message_sk and self._handed_over_for(conv, message_sk):
            return Outcome.SKIPPED           # routed as if there were no bot, as the hand-over's own run went on
        if not message_sk or not self.may_apply(conv):
            return Outcome.SKIPPED
        settings = self.settings()
        if not self.applies(settings, conv):
            return Outcome.SKIPPED
        if superseded(conv, message_sk):
            return Outcome.SUPERSEDED        # never an answer to an old message after a newer one
        if answered_since(conv, message_sk):
            return Outcome.SKIPPED           # the desk wrote after it: no answer out of order
        if message is None or message.id != message_sk.rsplit("#", 1)[-1]:
            message = self.conversations.get_message(conv.id, message_sk)
        if message is None or message.direction is not Direction.INBOUND:
            return Outcome.SKIPPED
        text = (message.text or "").strip()
        if not text:
            if conv.bot is not None and conv.bot.state == "answering":
                # a photo alone after the bot answered a damage report: the claim's evidence, for a person
                claim = message.attachments and reports_damage(conv.bot.question or "", conv.language)
                return self._hand_off(conv, "damage_claim" if claim else "low_confidence", None, message.id)
            return Outcome.SKIPPED
        u = _understood(message) or self.understand(text, hints_of(message))
        pressed = _pressed(message)
        if pressed:
            u = Understanding(**{**u.__dict__, "intents": frozenset(u.intents | {pressed})})
        state = conv.bot
        context = Context(state=state, tier=conv.customer.tier, pending_order=state.pending_order if state else None,
                          attachments=len(message.attachments))
        finder = prover = None
        if self.orders is not None:
            orders = self.orders
            finder = lambda words, language: orders.answer(conv, words, language)  # noqa: E731
            prover = orders.verify_for(conv)
        # the language of a message too short to tell (an email address, a postcode) is the conversation's
        decision = decide(text, u, self.index.get(), settings, conv.language or self.book.routing().default_language,
                          context, finder, prover)
        if decision.action in ("answer", "order", "verify") and _in_burst(state) and not _awaited(state):
            return self._hand_off(conv, "follow_up", decision, message.id)
        if decision.action == "handoff":
            return self._hand_off(conv, decision.handoff_reason or "low_confidence", decision, message.id)
        if decision.action == "resolve":
            if self._asked_since_answer(conv, message_sk):
                # "thanks" right after a question of theirs whose work stood aside for it (SUPERSEDED): no
                # confirmation of the answer that would close the conversation over the question, a person reads both
                return self._hand_off(conv, "follow_up", decision, message.id)
            return self._resolve(conv, decision, message.id, message_sk)
        if decision.action == "silent":
            return Outcome.SKIPPED
        return self._answer(conv, message, message_sk, text, decision, settings,
                            read if read is not None and read.conversation.id == conv.id else None)

    def _handed_over_for(self, conv: Conversation, message_sk: str,
                         finish: Callable[[Conversation], None] | None = None) -> bool:
        """The work of the message ``message_sk`` handed this conversation over already (its record runs again: a
        retry after the router died, a redrive): ``finish`` does again what that run did after its write (it may
        have died before), then the hand-over's event is published again, as it was (its time the hand-over's),
        since the run that wrote it may have died before its publish. At least once: consumers dedupe on the
        conversation's id and ``at``."""
        state = conv.bot
        if state is None or state.state != "handed_off" or state.handed_for != message_sk.rsplit("#", 1)[-1]:
            return False
        if finish is not None:
            finish(conv)
        logger.info("bot hand-over's event published again by its retry", extra={"conversation_id": conv.id})
        self._publish("BotHandedOff", conv, handoff_reason=state.handoff_reason, at=state.at)
        return True

    def _asked_since_answer(self, conv: Conversation, message_sk: str) -> bool:
        """The customer wrote something that asks (not an out-of-office, a STOP or a START) between the bot's answer
        and this message: one Query, read only when the message would confirm the answer."""
        state = conv.bot
        if state is None or not state.at:
            return False
        between = self.conversations.inbound_between(conv.id, state.at, message_sk)
        # the message it answered is not one written since, even when stored in the same instant as the answer
        return any(m.kind not in NOT_WRITTEN and m.id != state.replied_to for m in between)

    def _again(self, conv: Conversation, state: BotState, message_sk: str, read: ClockRead | None = None) -> Outcome:
        """The bot answered this message already: its message goes to the outbound queue again (the queue drops a
        copy within five minutes, the dispatcher sends a message once), in case its send never happened; an answer
        whose work stopped before its ``bot_resolve`` timer was set has that work done first (``_settle``, from the
        answer's time); a confirmation it thanked for is resolved, in case the resolve never happened, and one it
        resolved has that resolve's event published again (``resolved_again``: the run may have stopped before it
        went)."""
        if state.state == "resolved":
            if conv.status is ConversationStatus.RESOLVED:
                resolved_again(self.conversations, self.book, conv, self.bus)
            return Outcome.REPLIED
        if state.sent:
            if state.state == "answering" and not state.closing and conv.status is ConversationStatus.PENDING \
                    and not conv.assignee and self.conversations.conversation_timer(conv.id, BOT_RESOLVE_TIMER) is None:
                self._settle_again(conv, state, read)
            send_outbound(self.outbound, conv.id, state.sent)
        if state.closing and state.state == "answering" and conv.status is not ConversationStatus.RESOLVED:
            return self._close(conv, message_sk)
        return Outcome.REPLIED

    # ------------------------------------------------------------------ the three things it does
    def _answer(self, conv: Conversation, question: Message, message_sk: str, text: str, decision: Decision,
                settings: BotSettings, read: ClockRead | None = None) -> Outcome:
        now = clock.now()
        language = decision.language
        closing = ""
        asks = decision.action != "verify"
        payload: dict[str, Any] = {"bot": {"action": decision.action, "confidence": decision.confidence,
                                           "article_id": decision.article.id if decision.article else None,
                                           "order_number": decision.order_number, "language": language}}
        if asks:
            closing = "\n\n" + phrase(language, "solved")
            choices = [{"id": YES, "title": phrase(language, "yes")}, {"id": NO, "title": phrase(language, "no")}]
            if conv.route.channel in BUTTON_CHANNELS and (conv.route.provider or "") in BUTTON_PROVIDERS:
                payload["choices"] = choices
            else:
                closing += " " + phrase(language, "words")
                if conv.route.channel == "webchat":
                    payload["choices"] = choices      # the widget API lists them; a widget may show buttons
        # what the channel takes in one message, as for an agent's reply: the provider would refuse more (21617)
        most = channel_limits.text_chars(channel_limits.limits_for(conv.route.provider, conv.route.channel))
        fitted = fit_answer(decision, closing, most)
        if fitted is None:
            logger.info("bot answer too long for the channel", extra={
                "conversation_id": conv.id, "chars": len((decision.text or "") + closing), "most": most})
            return self._hand_off(conv, "too_long", decision, question.id)
        body, cut = fitted
        if cut:
            payload["bot"]["shortened"] = True
        subject, threading = _email_thread(conv)
        payload.update(threading)
        reply = Message(id=new_id("m_"), conversation_id=conv.id, direction=Direction.OUTBOUND,
                        channel=conv.route.channel, text=body, status="queued", created_at=now, author=AUTHOR,
                        to=conv.route.to, sender=conv.route.sender, provider=conv.route.provider, kind="bot",
                        payload=payload, subject=subject)
        proved = decision.action == "order" and conv.bot is not None and bool(conv.bot.pending_order)
        # the question answered: after a proof, the customer's question (not their email), so asking it again is
        # ``repeated`` and not a new request for proof
        asked = conv.bot.question if proved and conv.bot is not None and conv.bot.question else text
        state = BotState(state="answering", article_id=decision.article.id if decision.article else None,
                         at=clock.iso(now), question=asked[:500],
                         pending_order=(decision.order_number or ANY_ORDER) if decision.action == "verify" else None)
        try:
            article = decision.article
            self.store.answer(conv, reply, state, question.id, _asked(message_sk), topics=topics.from_article(
                article.id, article.tags, article.translation_of) if article else None)
        except BotRefused:
            return self._stood_back(conv, message_sk)
        # counted by the write that answered: a record that runs again finds the message answered (``_again``); in
        # all too, which the hand-overs alarm reads (template.yaml, ``BotHandoffsAlarm``)
        metrics.count("BotAnswers", channel=conv.channel)
        metrics.count("BotAnswers")
        self._settle(conv, now, settings, read, action=decision.action, article_id=state.article_id,
                     confidence=decision.confidence, language=language, at=state.at)
        logger.info("bot answered", extra={"conversation_id": conv.id, "action": decision.action,
                                            "article_id": state.article_id, "confidence": decision.confidence})
        # last: a send the queue refuses fails the work, whose retry finds the rest done and only sends (``_again``)
        send_outbound(self.outbound, conv.id, it.message_sk(reply))
        return Outcome.REPLIED

    def _settle(self, conv: Conversation, answered: datetime, settings: BotSettings, read: ClockRead | None,
                **detail: Any) -> None:
        """What follows the answer's write (made at ``answered``), before its send: the clocks stand still from the
        answer (the customer's turn), ``BotAnswered`` is published (``detail``, its ``at`` the answer's), and the
        ``bot_resolve`` timer resolves the conversation ``resolve_after_seconds`` after it. The timer is written last:
        the work that runs again finds no timer and does it all (``_again``), so a run that died or failed anywhere
        between the answer's write and the timer's publishes the event again (at least once, the same event:
        consumers dedupe on the conversation's id and ``at``), and one that set the timer had published it (or
        counted it, when the bus refused). The clocks or the timer not written fails the work (``Unsent``: the answer
        is recorded, not sent)."""
        try:
            # the answer's write changed the conversation, not its clocks: they move on from the work's read of them
            if sla_engine.apply(self.conversations, conv.id, lambda clocks: _stand_still(clocks, answered), self.book,
                                first=read) is None:
                raise RuntimeError("the clocks changed at every attempt")
        except Exception as exc:
            self._unsettled(conv, exc)
        self._publish("BotAnswered", conv, **detail)
        try:
            self.conversations.set_conversation_timer(
                conv.id, BOT_RESOLVE_TIMER, clock.iso(answered + timedelta(seconds=settings.resolve_after_seconds)))
        except Exception as exc:
            self._unsettled(conv, exc)

    @staticmethod
    def _unsettled(conv: Conversation, exc: Exception) -> NoReturn:
        logger.warning("bot answer recorded, its clocks or timer not written: the retry writes them",
                       extra={"conversation_id": conv.id, "error": type(exc).__name__})
        raise Unsent(conv.id) from exc

    def _settle_again(self, conv: Conversation, state: BotState, read: ClockRead | None) -> None:
        """The work of an answer whose first run stopped before its timer was set (``_settle``), done as that run
        would have done it: from the answer's time, with the event it would have published (the answer's
        ``payload.bot`` holds what the event says; the conversation's language for an answer stored before it held
        its own)."""
        reply = self.conversations.get_message(conv.id, state.sent) if state.sent else None
        said = dict(((reply.payload or {}) if reply else {}).get("bot") or {})
        answered = clock.parse_iso(state.at) if state.at else reply.created_at if reply else clock.now()
        logger.info("bot answer's work finished by its retry", extra={"conversation_id": conv.id})
        self._settle(conv, answered, self.settings(), read, action=said.get("action"), article_id=state.article_id,
                     confidence=said.get("confidence"), language=said.get("language") or conv.language,
                     at=clock.iso(answered))

    def send_failed(self, conversation_id: str, message_sk: str) -> Conversation | None:
        """A message of the bot's that the conversation waits on (``bot.waited_on``) never reached the customer:
        the provider refused it, or it failed on the way (the dispatcher or a receipt marked it failed). While the
        bot still has the conversation (answering, nobody assigned, pending or open), a person takes it at once
        (``send_failed``): it goes back to its team's queue with its clocks running. The conversation handed over,
        for the router to acknowledge and assign; None when there is nothing to do (a retried report included)."""
        message = self.conversations.get_message(conversation_id, message_sk)
        if message is None or not waited_on(message) or message.status not in ("failed", "undelivered"):
            return None
        conv = self.conversations.get_meta(conversation_id)
        if self._handed_over_for(conv, message_sk, finish=self._clocks_run_again):
            return None
        if conv.bot is None or conv.bot.state != "answering" or conv.assignee \
                or conv.status not in (ConversationStatus.PENDING, ConversationStatus.OPEN):
            return None
        if self._hand_off(conv, "send_failed", None, message.id) is not Outcome.HANDED_OFF:
            return None
        return conv

    def _clocks_run_again(self, conv: Conversation) -> None:
        """A ``send_failed`` hand-back's clocks move, for its retry: a run that died between the hand-back and the
        clocks' write (``_hand_off``) left the conversation open in its queue with its clocks paused, no deadline to
        answer it by, for good. They run from ``handed_off_at`` (the answer that never went), as that run would have
        had them; nothing is written when they run already."""
        if conv.status is not ConversationStatus.OPEN or not conv.handed_off_at:
            return
        answered = conv.handed_off_at
        sla_engine.apply(self.conversations, conv.id, lambda clocks: _run_again(clocks, answered), self.book)

    def _hand_off(self, conv: Conversation, reason: str, decision: Decision | None, handed_for: str) -> Outcome:
        """A person takes the conversation, for ``reason``; ``handed_for``: the message whose work hands over (the
        customer's, or the bot's that failed), kept on the hand-over so that work's retry publishes its event again
        (``_handed_over_for``)."""
        best = (decision.hit if decision is not None
                and reason in ("low_confidence", "no_translation", "not_published", "too_long") else None)
        note = timeline.bot_handoff(conv.id, AUTHOR, reason, best.group if best else None,
                                    best.confidence if best else None)
        note.payload = {"bot": {"handoff_reason": reason}}
        note.channel = conv.route.channel         # the lake's hand-over counts per channel (docs/metrics.md)
        if conv.status is ConversationStatus.PENDING:
            # it waited on the bot's answer, out of the queue with its clocks paused, but that answer never reached
            # the customer (send_failed): they have waited since it was written. Back in the queue from the answer
            # (a moment after the customer wrote), a person's part measured from it, and the clocks running as if
            # they had never stood still: the time they stood is the customer's wait too
            since = conv.bot.at if conv.bot and conv.bot.at else clock.now_iso()
            try:
                at = self.store.hand_back(conv, reason, note, since, handed_for)
            except BotRefused:
                logger.info("bot hand-over refused: the conversation changed", extra={"conversation_id": conv.id})
                return Outcome.SKIPPED
            answered = clock.parse_iso(since)
            sla_engine.apply(self.conversations, conv.id,
                             lambda clocks: clocks.on_status(ConversationStatus.OPEN, answered), self.book)
        else:
            at = self.store.hand_off(conv, reason, note, handed_for)
        # once: the work that runs again finds it handed over (``may_apply``, ``send_failed``). The reasons are a
        # fixed set; each value is a metric of its own, so nothing else ever becomes one. In all too, for the alarm on
        # hand-overs per answer (template.yaml, ``BotHandoffsAlarm``)
        metrics.count("BotHandoffs", reason=metrics.one_of(reason, HANDOFF_REASONS))
        metrics.count("BotHandoffs")
        self.conversations.set_conversation_timer(conv.id, BOT_RESOLVE_TIMER, None)
        self._publish("BotHandedOff", conv, handoff_reason=reason, at=at)
        logger.info("bot handed over", extra={"conversation_id": conv.id, "reason": reason})
        return Outcome.HANDED_OFF

    def _resolve(self, conv: Conversation, decision: Decision, replied_to: str, message_sk: str) -> Outcome:
        """The customer confirmed (their message ``replied_to``, key ``message_sk``): thanked, the thanks recorded
        with the message it answers so that a record that runs again resolves without thanking twice, then
        resolved."""
        subject, threading = _email_thread(conv)
        thanks = Message(id=new_id("m_"), conversation_id=conv.id, direction=Direction.OUTBOUND,
                         channel=conv.route.channel, text=phrase(decision.language, "glad"), status="queued",
                         created_at=clock.now(), author=AUTHOR, to=conv.route.to, sender=conv.route.sender,
                         provider=conv.route.provider, kind="bot", subject=subject,
                         payload={"bot": {"action": "resolve"}, **threading})
        try:
            self.store.thank(conv, thanks, replied_to, _asked(message_sk))
        except BotRefused:
            return self._stood_back(conv, message_sk)
        send_outbound(self.outbound, conv.id, it.message_sk(thanks))
        return self._close(conv, message_sk)

    def _stood_back(self, conv: Conversation, message_sk: str) -> Outcome:
        """The bot's write for the customer's message ``message_sk`` was refused. Read again (one GetItem, only
        then): the customer wrote something that asks since the bot read the conversation (two texts a moment
        apart), so that message's work decides (``SUPERSEDED``: this one neither acknowledges nor assigns); or a
        person took it, it was handed over, or the message was answered already (``SKIPPED``)."""
        superseding = superseded(self.conversations.get_meta(conv.id), message_sk)
        logger.info("bot stood back", extra={"conversation_id": conv.id, "superseded": superseding})
        return Outcome.SUPERSEDED if superseding else Outcome.SKIPPED

    def _close(self, conv: Conversation, message_sk: str) -> Outcome:
        """Resolve the conversation whose customer confirmed the answer (their message ``message_sk``), unless they
        wrote something that asks since, or it changed otherwise: it is then left as it is (the thanks sent)."""
        try:
            resolve(self.conversations, self.customers, self.store, self.book, conv, "confirmed",
                    _asked(message_sk), bus=self.bus, replied_to=message_sk.rsplit("#", 1)[-1])
        except Conflict:
            return self._stood_back(conv, message_sk)
        return Outcome.REPLIED

    def _publish(self, detail_type: str, conv: Conversation, **detail: Any) -> None:
        """The event of what the bot did (the conversation's state and timeline already say it). An answer's and a
        hand-over's are published again by the work that runs again after a run that stopped before they went
        (``_settle``, ``_handed_over_for``): at least once, as a resolve's (``shopdesk.bot.resolve``, which publishes
        it). One the bus refuses is logged and
        counted (``EventsNotPublished``), which pages, and not published again: failing the work for it would hold
        the answer's send or the hand-over's routing behind the bus."""
        if self.bus is None:
            return
        publish_or_count(self.bus, [(detail_type, {"conversation_id": conv.id, "channel": conv.channel,
                                                   "team": conv.team, "at": clock.now_iso(), **detail})],
                         conversation_id=conv.id)


def _stand_still(clocks: ConversationClocks, at: datetime) -> bool | None:
    """The clocks paused from ``at``, as the conversation waits on the customer; False (nothing to write) when they
    stand still already: the answer's work run again."""
    if clocks.paused:
        return False
    clocks.on_status(ConversationStatus.PENDING, at)
    return None


def _run_again(clocks: ConversationClocks, at: datetime) -> bool | None:
    """The clocks running from ``at``, as the conversation waits on a person; False (nothing to write) when they run
    already: the hand-over's work run again after its clocks' write."""
    if not clocks.paused:
        return False
    clocks.on_status(ConversationStatus.OPEN, at)
    return None


def _asked(message_sk: str) -> str:
    """The time a customer's message was written, as the conversation's ``last_inbound_at`` holds it."""
    return clock.iso(written_at(message_sk))


def _email_thread(conv: Conversation) -> tuple[str | None, dict[str, Any]]:
    """On email, the subject and headers that keep the bot's answer in the customer's thread."""
    return email_thread(conv.route, reply_address_for(conv.id, conv.route.sender))


def _awaited(state: BotState | None) -> bool:
    """The bot asked this customer something and waits for the answer (an order's email or postcode): their
    next message is that answer, not a second question in a burst."""
    return state is not None and state.state == "answering" and bool(state.pending_order)


def _in_burst(state: BotState | None) -> bool:
    if state is None or state.state != "answering" or not state.at:
        return False
    return (clock.now() - clock.parse_iso(state.at)).total_seconds() < BURST_SECONDS


def _pressed(message: Message) -> str | None:
    """A yes/no button the customer pressed (its id comes back in the payload on every channel)."""
    payload = message.payload or {}
    values = {str(v) for v in _flatten(payload)}
    if YES in values:
        return "yes"
    if NO in values:
        return "no"
    return None


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [x for v in value.values() for x in _flatten(v)]
    if isinstance(value, list):
        return [x for v in value for x in _flatten(v)]
    return [value]


def _understood(message: Message) -> Understanding | None:
    """What the router already understood of this message (``logic.understand`` wrote it on the message)."""
    if message.sentiment is None:
        return None
    return Understanding(language=message.language, language_confidence=1.0 if message.language else 0.0,
                         sentiment=message.sentiment, emotion=message.emotion,  # type: ignore[arg-type]
                         urgent=bool(message.urgent), intents=frozenset(message.intents))
