"""The customer's answer to a survey, and what follows it.

``take`` runs inside ingest, with the identity ingest reads anyway (no extra request): while a survey waits
on the customer's identity (its ``csat`` map, written when the survey was sent) and the customer has no open
conversation, a message is

- a rating when it is one: a button's payload (``csat:4``, on every channel that has buttons) or a reply
  ``parse`` understands (digits, words in the seven languages, emoji, stars). It is stored on the *resolved*
  conversation as kind ``csat_answer`` with the score, the agent credited (who resolved it, kept on the survey)
  and the team; the conversation stays resolved and nothing is routed. Words beyond the rating ("4, quick and
  kind") are its comment.
- after a rating, the comment: the next message with text within ``comment_window_s``, kind ``csat_comment``,
  unless it asks something (a question mark): a question is a new request and opens the next conversation.
- anything else: an ordinary message, ingested as always (it opens the customer's next conversation, and the
  survey stops waiting).

Each is one transaction with the delivery's marker: a provider's retry stores nothing twice, and the record's
condition counts one rating and one comment per survey. A rating sends ``CsatWork`` to the router, which sends
the follow-up (the comment question, or a thank-you) and, for 1 or 2, publishes ``CsatNegative`` on the bus
naming the team and the agent (``follow_up``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger

from shopdesk import clock
from shopdesk.csat import ALERT_DETAIL_TYPE, NEGATIVE, texts
from shopdesk.csat.parse import Rating, parse_rating
from shopdesk.dal import items as it
from shopdesk.dal.csat import Pending, SurveyClosed, Surveys
from shopdesk.dal.events import EventBus
from shopdesk.dal.identities import IdentityRecord
from shopdesk.dal.queues import Queue
from shopdesk.dal.table import TransactionCancelled, Update
from shopdesk.ids import new_id
from shopdesk.logic.email_thread import email_thread
from shopdesk.logic.work import CsatWork, send_kept, send_outbound
from shopdesk.models import Direction, Message

logger = Logger(child=True)

_BUTTON = re.compile(r"^csat:([1-5])$")


def pressed(payload: Any) -> int | None:
    """The score of a survey button the customer pressed (its id comes back somewhere in the payload)."""
    for value in _values(payload):
        if isinstance(value, str) and (found := _BUTTON.match(value.strip())):
            return int(found.group(1))
    return None


def _values(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _values(v)
    elif isinstance(value, list):
        for v in value:
            yield from _values(v)
    else:
        yield value


def is_comment(text: str | None) -> bool:
    """Whether a message after a rating reads as its comment: some text that asks for nothing (a question or a
    request, "and where is my other order?", "my other order hasn't arrived either", is a new request, which must
    reach a person, not sit on the resolved conversation; ``understanding.closing.asks``)."""
    from shopdesk.understanding.closing import asks  # its cue patterns, only once a rating waits for a comment

    return bool((text or "").strip()) and not asks(text)


def rating_of(message: Message) -> Rating | None:
    score = pressed(message.payload)
    if score is not None:
        return Rating(score, None, "button")
    return parse_rating(message.text or "")


@dataclass(frozen=True)
class Taken:
    conversation_id: str
    message: Message


def take(identity: IdentityRecord | None, message: Message, *, provider: str, provider_id: str,
         surveys: Surveys, work: Queue, unless_erased: Mapping[str, Any] | None = None) -> Taken | None:
    """``message`` (built for the customer's next conversation, not stored yet) as the answer to the survey
    waiting on ``identity``, or None: an ordinary message (the survey closed meanwhile too). Raises DuplicateDelivery
    for a delivery we have, SenderErased when ``unless_erased`` (a replay's check of its sender's erase mark) refuses
    it, and CustomerErasing when an erase's mark that landed on the identity after ingest read it still holds (one
    whose erase holds no more is let go and the answer stored: ``dal.erased.transact_unless_held``)."""
    if identity is None or identity.open_conversation_id or not identity.csat:
        return None
    pending = Pending.of(identity.csat)
    if pending is None:
        return None
    now = clock.now()
    if not pending.open_at(clock.iso(now)):
        surveys.forget(identity.key, pending)
        return None
    # the survey's own: the lake's rating and comment rows carry its team and language (analytics.events._special)
    base = {"agent_id": pending.agent_id, "team": pending.team, "language": pending.language, "cycle": pending.cycle}
    if pending.state == "asked":
        rating = rating_of(message)
        if rating is None:
            return None
        payload = {**(message.payload or {}), **base, "rating": rating.score, "rating_source": rating.source}
        if rating.comment:
            payload["comment"] = rating.comment
        answer = message.model_copy(update={"conversation_id": pending.conversation_id, "kind": "csat_answer",
                                            "payload": payload})
        comment_s = int(pending.comment_s or 0)
        waiting = None
        if comment_s and not rating.comment:
            waiting = Pending(**{**pending.__dict__, "state": "answered",
                                 "until": clock.iso(now + timedelta(seconds=comment_s))})
        marker = it.marker_pk(provider, provider_id)
        task = CsatWork(conversation_id=pending.conversation_id, message_id=answer.id, cycle=pending.cycle,
                        score=rating.score, marker=marker, channel=message.channel).model_dump()
        try:
            surveys.answer(provider=provider, provider_id=provider_id, message=answer, pending=pending,
                           identity=identity.key, score=rating.score, comment=rating.comment, next_pending=waiting,
                           work=task, unless_erased=unless_erased)
        except SurveyClosed:
            return None
        send_kept(work, task)             # refused, the sweep sends it: the rating is stored
        logger.info("csat answered", extra={"conversation_id": pending.conversation_id, "score": rating.score,
                                            "source": rating.source})
        return Taken(pending.conversation_id, answer)
    if pending.state == "answered" and is_comment(message.text) and pressed(message.payload) is None:
        comment = message.model_copy(update={"conversation_id": pending.conversation_id, "kind": "csat_comment",
                                             "payload": {**(message.payload or {}), **base,
                                                         "comment": message.text}})
        try:
            surveys.comment(provider=provider, provider_id=provider_id, message=comment, pending=pending,
                            identity=identity.key, unless_erased=unless_erased)
        except SurveyClosed:
            return None
        return Taken(pending.conversation_id, comment)
    return None


@dataclass
class FollowUp:
    """The router's part of an answer (``CsatWork``): the follow-up message once (recorded on the survey with its
    key, ``followed_up_sk``: work that runs again sends that one again, never a second, and a send the queue refused
    fails the work, ``logic.work.Unsent``), the alert for a low rating."""

    surveys: Surveys
    outbound: Queue
    bus: EventBus | None = None

    def handle(self, work: CsatWork) -> None:
        record = self.surveys.record(work.conversation_id, work.cycle) or {}
        if record.get("followed_up_sk"):
            # followed up by an earlier delivery of this work: that message again, in case its send never happened
            # (the queue drops a copy within five minutes, the dispatcher sends a message once)
            send_outbound(self.outbound, work.conversation_id, str(record["followed_up_sk"]))
        elif record.get("state") in ("answered", "commented") and not record.get("followed_up"):
            self._follow_up(work, record)
        if work.score <= NEGATIVE and self.bus is not None:
            # at least once (a retried record publishes again): consumers dedupe on message_id
            self.bus.publish([(ALERT_DETAIL_TYPE, {
                "conversation_id": work.conversation_id, "message_id": work.message_id, "score": work.score,
                "agent_id": record.get("agent_id"), "team": record.get("team"), "channel": record.get("channel"),
                "comment": record.get("comment"), "at": clock.now_iso()})])

    def _follow_up(self, work: CsatWork, record: dict[str, Any]) -> None:
        conv = self.surveys.conversations.get_meta(work.conversation_id)
        language = str(record.get("language") or "en")
        asks = bool(record.get("comment_s")) and not record.get("comment")
        route = conv.routes.get(work.channel or "") or conv.route     # where the customer answered, if we have it
        subject, threading = email_thread(route)
        message = Message(id=new_id("m_"), conversation_id=conv.id, direction=Direction.OUTBOUND,
                          channel=route.channel, text=texts.text(language, "comment" if asks else "thanks"),
                          status="queued", created_at=clock.now(), author="system", to=route.to,
                          sender=route.sender, provider=route.provider, kind="csat_follow_up",
                          payload={"cycle": work.cycle, **threading}, language=language, subject=subject,
                          expires_at=datetime.fromtimestamp(int(record["ttl"]), UTC) if record.get("ttl") else None)
        table = self.surveys.table
        try:
            table.transact([
                table.update_op(it.conv_pk(conv.id), f"CSAT#{work.cycle}",
                                Update().set("followed_up", message.id).set("followed_up_sk", it.message_sk(message))
                                .when("attribute_exists(PK) AND attribute_not_exists(followed_up)")),
                table.put_op(it.message_item(message))])
        except TransactionCancelled:      # followed up by another delivery of this work meanwhile: it sends it
            return
        send_outbound(self.outbound, conv.id, it.message_sk(message))
