"""Dispatch: send a queued reply through its provider, record what happened, retry what can be retried.

Order: the outbound queue is FIFO with one group per conversation, and a failed record blocks its
group until it is retried, so replies to one conversation leave in the order they were written.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from aws_lambda_powertools import Logger
from pydantic import BaseModel

from shopdesk.channels.base import OutboundRequest, Sender, Template
from shopdesk.dal.conversations import Conversations
from shopdesk.errors import ProviderError
from shopdesk.models import Direction, Message

logger = Logger(child=True)

MAX_DELAY_SECONDS = 900


class OutboundWork(BaseModel):
    conversation_id: str
    message_id: str
    message_sk: str


class RetryLater(Exception):
    def __init__(self, delay_seconds: int, reason: str):
        super().__init__(f"retry in {delay_seconds}s: {reason}")
        self.delay_seconds = delay_seconds


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_seconds: int

    def delay(self, attempt: int, retry_after: float | None = None) -> int:
        """Exponential backoff with jitter, capped, never shorter than what the provider asked for."""
        backoff = self.base_seconds * 2 ** (attempt - 1) * random.uniform(0.8, 1.2)
        return max(math.ceil(min(backoff, MAX_DELAY_SECONDS)), math.ceil(retry_after or 0), 1)


Outcome = Literal["sent", "failed", "skipped"]


def outbound_request(message: Message, status_callback: str | None) -> OutboundRequest:
    """What the provider is asked to send, from the stored reply and what it carries."""
    payload = message.payload or {}
    template = payload.get("template")
    email = payload.get("email") or {}
    return OutboundRequest(
        channel=message.channel or "sms", to=message.to or "", sender=message.sender or "", text=message.text,
        media_urls=tuple(a.url for a in message.attachments if a.url),
        template=Template(template["name"], template["language"], list(template.get("parameters", [])),
                          template.get("provider_ref")) if template else None,
        reply_context=payload.get("reply_context"), tag=payload.get("tag"),
        status_callback=status_callback if message.provider in (None, "twilio") else None,
        subject=message.subject, in_reply_to=email.get("in_reply_to"),
        references=tuple(email.get("references", ())), reply_address=email.get("reply_address"),
        choices=tuple((str(c["id"]), str(c["title"])) for c in payload.get("choices") or []
                      if isinstance(c, dict) and c.get("id") and c.get("title")),
    )


def dispatch(work: OutboundWork, attempt: int, conversations: Conversations, sender_for: Callable[[str], Sender],
             policy: RetryPolicy, status_callback: str | None) -> Outcome:
    """Send one reply. ``attempt`` is the queue's receive count (1 on the first try)."""
    message = conversations.get_message(work.conversation_id, work.message_sk)
    if message is None or message.direction is not Direction.OUTBOUND:
        logger.warning("outbound work for a message that does not exist", extra=work.model_dump())
        return "skipped"
    if message.status != "queued":
        return "skipped"          # sent (or failed) by an earlier delivery of this record
    provider = message.provider or "twilio"
    try:
        result = sender_for(provider).send(outbound_request(message, status_callback))
    except ProviderError as exc:
        error = {"code": exc.code, "message": exc.message}
        if exc.retryable and attempt < policy.max_attempts:
            conversations.record_attempt(work.conversation_id, work.message_sk, attempts=attempt, error=error,
                                         failed=False)
            raise RetryLater(policy.delay(attempt, exc.retry_after), exc.message) from exc
        conversations.record_attempt(work.conversation_id, work.message_sk, attempts=attempt, error=error,
                                     failed=True)
        logger.warning("reply failed", extra={"conversation_id": work.conversation_id, "provider": provider,
                                              "code": exc.code, "attempts": attempt, "retryable": exc.retryable})
        return "failed"
    conversations.record_send(work.conversation_id, work.message_sk, provider=provider,
                              provider_id=result.provider_id, status=result.status, attempts=attempt)
    return "sent"
