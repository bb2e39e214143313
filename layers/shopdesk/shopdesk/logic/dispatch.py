"""Dispatch: send a queued reply through its provider, record what happened, retry what can be retried.

Order: the outbound queue is FIFO with one group per conversation, and a failed record blocks its
group until it is retried, so replies to one conversation leave in the order they were written.

Parts: a reply with files may be several provider messages (one per file where the provider takes one;
``channels/limits.py``). They are sent in order and each one that went out is recorded on the message
(``parts_sent``, ``part_ids``) before the next, so a retry (a redelivery after a rate limit, or an agent's
"send again") resumes after the last part sent and never repeats one to the customer.

No silent resend (#14): each part's intent is recorded before the provider is called, with a reference the
provider carries back where it can (Twilio's StatusCallback parameters, WhatsApp's ``biz_opaque_callback_data``,
an SES message tag). A delivery that finds an unrecorded intent reconciles first (``RECONCILE``); what is sent
again without confirmation is flagged ``possibly_duplicate`` for the agent, or failed for a person to decide.

A reply whose customer is being erased is not sent: the erase holds the replies it finds not sent yet (``erasing``,
``privacy.erase``) before it deletes them, and the record of a part's intent is refused on a held reply, as on one
gone (skipped, nothing sent). One whose part's intent was recorded before the hold is on its way already.

Failed for good: the reply is marked ``failed`` with the provider's error, for the agent to read and send again
(``failure_text``: whether it will be retried, or was not sent and can be sent again);
``on_failed`` hears of it (the dispatcher reports it to the router, ``logic.work.enqueue_send_failed``: a failed
message of the bot's hands the conversation to a person, a person's reply that was the first response is one no
longer, ``logic.refused``). A delivery that finds the reply failed already reports it again (an earlier one may have
stopped between the two), which the router takes once. A receipt that said ``failed`` or ``undelivered`` before the
send was recorded, without our reference, is kept on the provider id's marker; the record of the send applies it and
the dispatcher reports and counts it then (``Conversations.record_send``), so a reply the provider failed is reported
whichever of the two comes first.
"""

from __future__ import annotations

import math
import random
import socket
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

from aws_lambda_powertools import Logger
from pydantic import BaseModel

from shopdesk import clock, metrics
from shopdesk.channels.base import Lookup, OutboundFile, OutboundRequest, Sender, SendResult, Template
from shopdesk.channels.limits import limits_for, parts
from shopdesk.dal.conversations import FAILED, Conversations
from shopdesk.errors import ProviderError
from shopdesk.ids import send_reference
from shopdesk.models import Attachment, Direction, Message, SendIntent
from shopdesk.phone import to_e164

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
OnFailed = Callable[[Message], object]       # told of a reply that failed for good (the reply as it was read)


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
        auto_submitted=AUTO_SUBMITTED.get(message.kind or ""),
    )


# What shopdesk writes to a customer by itself, as RFC 3834 names it: an answer to their message (the
# acknowledgement, the bot) or a message of its own (the survey); a person's reply has no such header. A mail
# with it gets no out-of-office back, and a customer's mail program may file it as automatic.
AUTO_SUBMITTED = {"acknowledgement": "auto-replied", "bot": "auto-replied", "csat_survey": "auto-generated",
                  "csat_follow_up": "auto-replied"}


# What a delivery does with a part whose send was under way when an earlier delivery stopped (a crash or a timeout
# between the provider's answer and our record) and that no receipt carrying our reference has confirmed since.
# The guarantee per provider is in docs/architecture.md ("Sending exactly once, or saying so").
Reconcile = Literal["lookup", "wait_then_resend", "wait_then_fail", "resend_flagged", "resend"]
RECONCILE: dict[str, Reconcile] = {
    "twilio": "lookup",                   # the Messages list says whether Twilio has it: send only if not
    "whatsapp_cloud": "wait_then_resend",  # statuses carry biz_opaque_callback_data within seconds; none: send, flagged
    "email": "wait_then_fail",            # SES events carry our tag (when the configuration set publishes them);
                                          # none: failed for a person to send again (a second email is a letter)
    "telegram": "resend_flagged",         # no receipts, no lookup: send again at once, flagged
    "messenger": "wait_then_resend",      # the echo carries our metadata back (with the message_echoes field)
    "instagram": "resend_flagged",        # delivery receipts name only mids: send again at once, flagged
    "webchat": "resend",                  # sending is storing: nothing reached anyone twice
}
UNCONFIRMED = {"code": "unconfirmed", "message": "Sending this reply was interrupted and the provider never "
               "confirmed it: the customer may or may not have it. Send it again if they did not."}


def dispatch(work: OutboundWork, attempt: int, conversations: Conversations, sender_for: Callable[[str], Sender],
             policy: RetryPolicy, status_callback: str | None, file_url: FileUrl | None = None,
             reconcile_seconds: int = 120, on_failed: OnFailed | None = None) -> Outcome:
    """Send one reply, part by part from the first not sent yet. ``attempt`` is the queue's receive count.

    Before each part goes to the provider its intent is recorded on the reply (``sending``: part, attempt, since,
    our reference). A delivery that finds an intent for a part with no provider id recorded does not send it
    blindly: the part is taken as sent when a receipt with our reference confirmed it, or the provider's lookup
    finds it; otherwise the provider's rule in ``RECONCILE`` decides (wait ``reconcile_seconds`` for a receipt,
    then send again flagged ``possibly_duplicate``, or fail it for a person). ``on_failed``: told of a reply that
    failed for good, here or in an earlier delivery of this record."""
    message = conversations.get_message(work.conversation_id, work.message_sk)
    if message is None or message.direction is not Direction.OUTBOUND:
        logger.warning("outbound work for a message that does not exist", extra=work.model_dump())
        return "skipped"
    if message.provider_id or message.status == "failed":
        if message.status in FAILED and on_failed is not None:
            on_failed(message)    # an earlier delivery (or its record of a receipt that came first) may have stopped
        return "skipped"          # before it told; sent (or failed) by an earlier delivery of this record
    provider = message.provider or "twilio"
    ids = list(message.part_ids)
    result: SendResult | None = None
    try:
        pieces = parts(outbound_request(message, status_callback, file_url),
                       limits_for(provider, message.channel or "sms"))
        sender = sender_for(provider)
        start = min(message.parts_sent, len(pieces))
        flagged: int | None = None           # the part that goes again unconfirmed
        intent = message.sending
        if intent is not None and start <= intent.part < len(pieces):
            found = _reconciled(message, intent, sender, pieces[intent.part])
            if found is not None:
                logger.info("an unrecorded send was found", extra={"conversation_id": work.conversation_id,
                                                                   "provider": provider, "part": intent.part})
                metrics.count("SendsReconciled", provider=provider)
                result = found
                ids.append(found.provider_id)
                start = intent.part + 1
                if start < len(pieces):
                    conversations.record_part(work.conversation_id, work.message_sk, start, found.provider_id)
            else:
                rule = RECONCILE.get(provider, "resend_flagged")
                waited = (clock.now() - intent.since).total_seconds()
                if rule in ("wait_then_resend", "wait_then_fail") and waited < reconcile_seconds:
                    raise RetryLater(max(1, math.ceil(reconcile_seconds - waited)),
                                     "waiting for the provider to confirm an unrecorded send")
                if rule == "wait_then_fail":
                    conversations.record_attempt(work.conversation_id, work.message_sk, attempts=attempt,
                                                 error=UNCONFIRMED, failed=True)
                    metrics.count("RepliesUnconfirmed", provider=provider)
                    if on_failed is not None:
                        on_failed(message)
                    return "failed"
                if rule in ("wait_then_resend", "resend_flagged"):
                    flagged = intent.part
                    metrics.count("RepliesUnconfirmed", provider=provider)
                logger.warning("sending again a part an earlier delivery left unrecorded", extra={
                    "conversation_id": work.conversation_id, "provider": provider, "part": intent.part,
                    "flagged": flagged is not None})
        for index in range(start, len(pieces)):
            reference = send_reference(work.conversation_id, work.message_sk, index)
            if not conversations.record_intent(work.conversation_id, work.message_sk, part=index, attempt=attempt,
                                               reference=reference, possibly_duplicate=index == flagged):
                return "skipped"      # another delivery recorded the reply meanwhile, or its customer's erase runs
            try:
                result = sender.send(replace(pieces[index], reference=reference))
            except ProviderError as exc:
                if index:
                    exc.message = (f"{index} of {len(pieces)} parts of the reply went out; the rest failed: "
                                   f"{exc.message}")
                raise
            ids.append(result.provider_id)
            if index + 1 < len(pieces):
                conversations.record_part(work.conversation_id, work.message_sk, index + 1, result.provider_id)
    except ProviderError as exc:
        unknown = may_have_reached(exc)      # the intent stays open: the next delivery reconciles first
        retrying = exc.retryable and attempt < policy.max_attempts
        error = {"code": exc.code, "message": failure_text(exc, retrying, attempt)}
        if retrying:
            conversations.record_attempt(work.conversation_id, work.message_sk, attempts=attempt, error=error,
                                         failed=False, keep_intent=unknown)
            raise RetryLater(policy.delay(attempt, exc.retry_after), exc.message) from exc
        conversations.record_attempt(work.conversation_id, work.message_sk, attempts=attempt, error=error,
                                     failed=True, keep_intent=unknown)
        if exc.code in UNSUBSCRIBED.get(provider, ()):
            _remember_opt_out(conversations, work.conversation_id, message)
        # provider_code, not code: "code" is a scrubbed key (one-time codes); the provider's error code is what
        # tells the on-call why replies fail
        logger.warning("reply failed", extra={"conversation_id": work.conversation_id, "provider": provider,
                                              "provider_code": exc.code, "http_status": exc.http_status,
                                              "attempts": attempt, "retryable": exc.retryable})
        metrics.count("RepliesFailed", provider=provider)
        metrics.count("RepliesFailed")              # all providers: the failure-rate alarm reads this one
        if on_failed is not None:
            on_failed(message)
        return "failed"
    failure = conversations.record_send(work.conversation_id, work.message_sk, provider=provider,
                                        provider_id=ids[0] if ids else "",
                                        status=result.status if result else "accepted", attempts=attempt,
                                        other_ids=ids[1:])
    metrics.count("RepliesSent", provider=provider)
    metrics.count("RepliesSent")
    if failure:
        # the provider's receipt came before this record and could not be told to anyone: told now, counted as the
        # webhook counts one (sent, then failed), reported as the webhook reports one
        logger.warning("reply failed on the way, before its send was recorded", extra={
            "conversation_id": work.conversation_id, "provider": provider, "status": failure})
        metrics.count_failed_receipt(provider)
        if on_failed is not None:
            on_failed(message)
    return "sent"


def failure_text(exc: ProviderError, retrying: bool, attempts: int) -> str:
    """What the agent reads on a reply whose send failed: the provider's reason (the channel modules say what the
    provider answered, never what happens next), then what happens next. A reply that will be retried says so;
    one a passing fault (a rate limit, an outage) failed for good says it was not sent and can be sent again; a
    refusal another attempt cannot fix is the reason alone."""
    reason = exc.message.rstrip(". ") or "The provider refused the reply"
    if retrying:
        return f"{reason}; the reply will be retried"
    if exc.retryable:
        tries = "attempt" if attempts == 1 else f"{attempts} attempts"
        return f"{reason}; the reply was not sent after {tries}: send it again"
    return exc.message


# The provider's codes for "the customer unsubscribed from this sender" (they replied STOP).
UNSUBSCRIBED: dict[str, frozenset[str]] = {"twilio": frozenset({"21610"})}


def _remember_opt_out(conversations: Conversations, conversation_id: str, message: Message) -> None:
    """A send refused because the customer unsubscribed (a STOP we did not see, or one that came after the reply
    was queued): remembered, so nothing automatic is tried there again and agents are told before writing."""
    phone = to_e164(message.to or "")
    if phone is None or message.channel is None:
        return
    try:
        conversations.note_opted_out(conversation_id, message.channel, "phone", phone)
    except Exception:       # the failure is recorded already: this is a courtesy for the next send
        logger.exception("an opt-out was not remembered", extra={"conversation_id": conversation_id})


def may_have_reached(exc: ProviderError) -> bool:
    """Whether the provider may have the part although the call failed: no HTTP answer came back (a timeout, a
    connection dropped after the request went out) or it answered without an id. A refused connection, a name
    that did not resolve, an HTTP error answer and our own checks before the call are clear: nothing went."""
    if exc.http_status is not None or not exc.retryable:
        return False
    cause = exc.__cause__
    reason = getattr(cause, "reason", cause)          # urllib's URLError wraps the socket's error
    return not isinstance(reason, ConnectionRefusedError | socket.gaierror)


def _reconciled(message: Message, intent: SendIntent, sender: Sender, request: OutboundRequest) -> SendResult | None:
    """The part an earlier delivery sent, when a receipt confirmed it or the provider's lookup finds it."""
    confirmed = message.confirmed.get(str(intent.part))
    if confirmed:
        return SendResult(provider_id=confirmed, status="accepted")
    if RECONCILE.get(message.provider or "twilio") == "lookup" and isinstance(sender, Lookup):
        try:
            return sender.find(request, intent.since)
        except ProviderError as exc:
            # the question went unanswered, not the send: retried with the intent kept (may_have_reached)
            raise ProviderError(f"The provider could not say whether it has the reply: {exc.message}", code=exc.code,
                                retryable=True) from None
    return None
