"""Dispatch: send a queued reply through its provider, record what happened, retry what can be retried.

Order: the outbound queue is FIFO with one group per conversation, and a failed record blocks its
group until it is retried, so replies to one conversation leave in the order they were written.

Parts: a reply with files may be several provider messages (one per file where the provider takes one;
``channels/limits.py``). They are sent in order and each one that went out is recorded on the message
(``parts_sent``, ``part_ids``) before the next, so a retry (a redelivery after a rate limit, or an agent's
"send again") resumes after the last part sent and never repeats one to the customer.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from aws_lambda_powertools import Logger
from pydantic import BaseModel

from shopdesk import metrics
from shopdesk.channels.base import OutboundFile, OutboundRequest, Sender, SendResult, Template
from shopdesk.channels.limits import limits_for, parts
from shopdesk.dal.conversations import Conversations
from shopdesk.errors import ProviderError
from shopdesk.models import Attachment, Direction, Message

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


FileUrl = Callable[[Attachment], str]


def outbound_request(message: Message, status_callback: str | None, file_url: FileUrl | None = None
                     ) -> OutboundRequest:
    """What the provider is asked to send, from the stored reply and what it carries. Files in our bucket go
    as ``files`` with a presigned link the provider can fetch (``file_url``); other files as their links."""
    payload = message.payload or {}
    template = payload.get("template")
    email = payload.get("email") or {}
    stored = [a for a in message.attachments if a.storage_key]
    if stored and file_url is None:
        raise ProviderError("the reply has files but the dispatcher has no media bucket", code="not_configured",
                            retryable=False)
    files = tuple(OutboundFile(url=file_url(a), content_type=a.content_type, filename=a.filename, size=a.size,
                               key=a.storage_key) for a in stored) if file_url else ()
    return OutboundRequest(
        channel=message.channel or "sms", to=message.to or "", sender=message.sender or "", text=message.text,
        files=files, media_urls=tuple(a.url for a in message.attachments if a.url and not a.storage_key),
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
             policy: RetryPolicy, status_callback: str | None, file_url: FileUrl | None = None) -> Outcome:
    """Send one reply, part by part from the first not sent yet. ``attempt`` is the queue's receive count."""
    message = conversations.get_message(work.conversation_id, work.message_sk)
    if message is None or message.direction is not Direction.OUTBOUND:
        logger.warning("outbound work for a message that does not exist", extra=work.model_dump())
        return "skipped"
    if message.status != "queued":
        return "skipped"          # sent (or failed) by an earlier delivery of this record
    provider = message.provider or "twilio"
    ids = list(message.part_ids)
    result: SendResult | None = None
    try:
        pieces = parts(outbound_request(message, status_callback, file_url),
                       limits_for(provider, message.channel or "sms"))
        sender = sender_for(provider)
        for index in range(min(message.parts_sent, len(pieces)), len(pieces)):
            try:
                result = sender.send(pieces[index])
            except ProviderError as exc:
                if index:
                    exc.message = (f"{index} of {len(pieces)} parts of the reply went out; the rest failed: "
                                   f"{exc.message}")
                raise
            ids.append(result.provider_id)
            if index + 1 < len(pieces):
                conversations.record_part(work.conversation_id, work.message_sk, index + 1, result.provider_id)
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
        metrics.count("RepliesFailed", provider=provider)
        metrics.count("RepliesFailed")              # all providers: the failure-rate alarm reads this one
        return "failed"
    conversations.record_send(work.conversation_id, work.message_sk, provider=provider,
                              provider_id=ids[0] if ids else "", status=result.status if result else "accepted",
                              attempts=attempt, other_ids=ids[1:])
    metrics.count("RepliesSent", provider=provider)
    metrics.count("RepliesSent")
    return "sent"
