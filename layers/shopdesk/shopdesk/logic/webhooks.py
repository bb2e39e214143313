"""Provider webhooks, from raw request to stored facts: verify authenticity, parse, then for every
item of the (possibly batched) request ingest the customer's message, apply the delivery receipt,
or put the event on the conversation's timeline (a customer's unsend or edit changes the message it names too:
``logic.amend``). Nothing is stored unless the request is authentic.
A receipt saying a message of the bot's failed (``failed``, ``undelivered``) is reported to the router, which hands
the conversation to a person (``logic.work.enqueue_bot_send_failed``); one saying a person's reply failed, even after
it was sent or delivered, is reported too: when it was the first response, the router takes that back
(``logic.refused``; when the work queue refuses that report, the sweep does, from a timer the receipt's function
sets: the status callback is answered 200, as it comes once).

A batch is answered 2xx only when every item is stored; if one fails the function fails, the
provider re-delivers the whole batch, and the items already stored are no-ops the second time.
A provider that never re-delivers (Twilio: one attempt, then its Fallback URL) is answered 2xx when its verified
request could not be stored (DynamoDB throttled or unavailable past the SDK's retries, a conflict that kept
changing, any failure of ours): the request is kept in the ingest-retry queue (``IngestRetry``: SQS, independent of
DynamoDB), the customer's words in it masked as ingest masks them, and the function replays it from there through
the same processing (``replay``), dated when it came, where a message already stored is a duplicate. Only when the
queue refuses it too is the answer a 5xx.
An item the parser cannot read (``UnsupportedItem``: no usable sender, wrong types) does not fail
the batch: it is logged with the provider's id, recorded with a bounded copy (``dal/unsupported.py``)
and shown on the customer's open conversation when the item names one.
"""

from __future__ import annotations

import base64
import hashlib
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from aws_lambda_powertools import Logger
from pydantic import BaseModel, Field

from shopdesk import clock, metrics
from shopdesk.channels import meta, telegram, twilio
from shopdesk.channels.base import item_or_unsupported, timeline_event
from shopdesk.dal.config import ConfigStore
from shopdesk.dal.conversations import Conversations
from shopdesk.dal.erased import ErasedAddresses, SenderErased
from shopdesk.dal.media import MediaStore
from shopdesk.dal.queues import Queue
from shopdesk.dal.unsupported import UnsupportedLog
from shopdesk.errors import BadRequest, InvalidSignature
from shopdesk.ids import new_id
from shopdesk.logic import amend, refused
from shopdesk.logic.ingest import IngestResult, ingest, masked_payload, masked_value
from shopdesk.logic.work import enqueue_send_failed
from shopdesk.models import (
    Direction,
    InboundMessage,
    Message,
    Priority,
    StatusUpdate,
    SystemEvent,
    TimelineEvent,
    UnsupportedItem,
    WebhookItem,
)
from shopdesk.phone import to_e164
from shopdesk.privacy.masking import mask, mask_name
from shopdesk.privacy.settings import PrivacyPolicies, PrivacyPolicy

logger = Logger(child=True)

ThreadFinder = Callable[[InboundMessage], str | None]
LOGGED_UNSUPPORTED = 20          # unsupported items of one request logged one by one; the rest in one line
FAILED = frozenset({"failed", "undelivered"})      # a receipt's statuses that say the customer does not have it


def public_url(base_url: str, domain: str, path: str, query: str) -> str:
    """The URL the provider called: the configured public base, else the host API Gateway saw."""
    base = base_url.rstrip("/") if base_url else f"https://{domain}"
    return base + path + (f"?{query}" if query else "")


@dataclass
class Outcome:
    stored: list[IngestResult] = field(default_factory=list)
    duplicates: int = 0
    receipts: dict[str, int] = field(default_factory=dict)
    events: int = 0
    unmatched_events: int = 0
    unsupported: int = 0
    kept: int = 0           # requests kept in the ingest-retry queue for a replay (the table could not take them)

    def counts(self) -> dict[str, int]:
        """The answer's summary: what the request left in the table, by kind (or that it was kept for a replay)."""
        return {"stored": len(self.stored), "duplicates": self.duplicates, "receipts": sum(self.receipts.values()),
                "events": self.events, "unmatched_events": self.unmatched_events, "unsupported": self.unsupported,
                "kept": self.kept}


@dataclass
class WebhookProcessor:
    """Applies parsed webhook items; one per function, built at cold start."""

    conversations: Conversations
    work: Queue
    first_response_targets: dict[Priority, int]
    find_thread: ThreadFinder | None = None
    privacy: PrivacyPolicies | None = None     # masking and retention; read once at cold start (prime)
    media: MediaStore | None = None            # where an unsent message's files are deleted (logic.amend)

    def __post_init__(self) -> None:
        if self.privacy is None:
            self.privacy = PrivacyPolicies(ConfigStore(self.conversations.table))
        self.conversations.retention.share(self.privacy)

    def prime(self) -> None:
        """Read the privacy settings now (cold start), so no message pays for it."""
        if self.privacy is not None:
            self.privacy.prime()

    def process(self, items: Iterable[WebhookItem], unless_erased: Mapping[str, Any] | None = None) -> Outcome:
        """Apply the items. ``unless_erased``: a replay's check of its sender's erase mark, in the transaction that
        stores its message (``logic.ingest.ingest``); refused, ``SenderErased`` is raised."""
        outcome = Outcome()
        unsupported: list[UnsupportedItem] = []
        received: dict[str, int] = {}
        work = self.work.for_request()      # a queue that hangs costs the batch one send at worst (the sweep sends)
        for item in items:
            if isinstance(item, UnsupportedItem):
                unsupported.append(item)
            elif isinstance(item, InboundMessage):
                thread = self.find_thread(item) if self.find_thread else None
                result = ingest(item, self.conversations, work, self.first_response_targets, thread=thread,
                                policy=self.privacy.current() if self.privacy else None, unless_erased=unless_erased)
                if result.outcome == "duplicate":
                    outcome.duplicates += 1
                else:
                    outcome.stored.append(result)
                    received[item.channel] = received.get(item.channel, 0) + 1
            elif isinstance(item, StatusUpdate):
                applied = self.conversations.apply_receipt(item.provider, item.provider_id, item.status,
                                                           item.error.model_dump() if item.error else None,
                                                           reference=item.reference)
                outcome.receipts[applied] = outcome.receipts.get(applied, 0) + 1
                if item.status in FAILED and applied == "applied":     # the reply failed now: counted once
                    metrics.count_failed_receipt(item.provider)
                # stale too: a retried request reports again; pending: the dispatcher's record of the send reports it
                if item.status in FAILED and applied != "pending":
                    self.report_failed(item, work)
            elif self.record_event(item):
                outcome.events += 1
            else:
                outcome.unmatched_events += 1
        if unsupported:
            self.record_unsupported(unsupported)
            outcome.unsupported = len(unsupported)
        for channel, n in received.items():
            metrics.count("MessagesReceived", n, channel=channel)
        logger.info("webhook processed", extra={"stored": len(outcome.stored), "duplicates": outcome.duplicates,
                                                "receipts": outcome.receipts, "events": outcome.events,
                                                "unsupported": outcome.unsupported})
        return outcome

    def report_failed(self, item: StatusUpdate, work: Queue | None = None) -> None:
        """A reply failed on the way (two reads, only for a failed receipt): one of the bot's that the conversation
        waits on goes to the router, which hands the conversation to a person; a person's reply goes there too,
        which takes back the first response it made. ``work``: the work queue as the request sends to it."""
        where = self.conversations.message_of(item.provider, item.provider_id, "outbound")
        message = self.conversations.get_message(*where) if where else None
        if message is None or message.status not in FAILED:
            return
        try:
            enqueue_send_failed(work or self.work, message)
        except Exception:
            if not refused.persons_reply(message):
                raise
            # the receipt is stored and will not come again: the sweep takes the first response back instead
            logger.exception("failed reply not reported: the sweep takes it", extra={
                "conversation_id": message.conversation_id, "message_id": message.id})
            refused.take_back_later(self.conversations, message.conversation_id)

    def record_unsupported(self, items: list[UnsupportedItem]) -> None:
        """Log each with the provider's id, keep them all (bounded) in one record per request, and
        show each on the customer's open conversation when the item names the customer."""
        kept = [self.masked_copy(item) for item in items]      # logged and kept masked
        for item in kept[:LOGGED_UNSUPPORTED]:
            logger.warning("unsupported webhook item", extra={"provider": item.provider, "item_id": item.item_id,
                                                              "reason": item.reason})
        if len(kept) > LOGGED_UNSUPPORTED:
            logger.warning("more unsupported webhook items", extra={"count": len(kept) - LOGGED_UNSUPPORTED,
                                                                    "item_ids": [i.item_id for i in kept][:1000]})
        for provider in dict.fromkeys(item.provider for item in kept):
            UnsupportedLog(self.conversations.table).record(provider, [i for i in kept if i.provider == provider])
        for item in items:      # the timeline's entry masks its own copy (and says what it masked)
            if item.identity_kind and item.customer_address and item.item_id:
                self.record_event(TimelineEvent(
                    provider=item.provider, event_id=f"unsupported:{item.item_id}", kind="unsupported",
                    identity_kind=item.identity_kind, customer_address=item.customer_address,
                    text=f"[The customer sent something this inbox cannot show: {item.reason}]",
                    event=timeline_event("unsupported", reason=item.code, detail=item.reason)), raw=item.raw)

    def masked_copy(self, item: UnsupportedItem) -> UnsupportedItem:
        """The item as it is kept: what people wrote in its copy (and its reason, which may quote a value) masked as a
        message's payload is, its ids, keys and where it is left as they are (``privacy.masking.mask_payload``)."""
        if self.privacy is None:
            return item
        policy = self.privacy.current()
        kinds: list[str] = []
        return item.model_copy(update={"raw": masked_payload(item.raw, policy, kinds),
                                       "reason": masked_value(item.reason, policy, kinds)})

    def record_event(self, event: TimelineEvent, raw: object = None) -> bool:
        """Show a non-message event on the conversation it concerns; False when there is none."""
        conversation_id = None
        if event.target_provider_id:
            conversation_id = self.conversations.conversation_of(event.provider, event.target_provider_id)
        if conversation_id is None and event.identity_kind and event.customer_address:
            identity = self.conversations.get_identity(event.identity_kind, event.customer_address)
            conversation_id = identity.open_conversation_id if identity else None
        if conversation_id is None:
            return False
        payload = {k: v for k, v in (("target", event.target_provider_id), ("raw", raw)) if v is not None}
        text, said, kinds = event.text, event.event, []
        if self.privacy is not None:      # an edit carries the customer's new text: masked like a message
            policy = self.privacy.current()
            text, kinds = masked_value(text, policy, kinds), kinds
            payload = masked_value(payload, policy, kinds)
            if said is not None:          # the same words in the event's params (an edit's text, an echo's)
                said = SystemEvent(kind=said.kind, params=masked_value(said.params, policy, kinds))
        note = Message(id=new_id("m_"), conversation_id=conversation_id, direction=Direction.SYSTEM,
                       text=text, created_at=clock.now(), provider=event.provider, kind=event.kind,
                       payload=payload or None, masked=list(dict.fromkeys(kinds)), event=said)
        if event.kind in amend.KINDS and event.target_provider_id:
            # the customer unsent or edited one of their messages: the message changes too
            return amend.record(self.conversations, event, note, self.media)
        return self.conversations.record_event(event.provider, event.event_id, note)


def raw_body(event: Mapping[str, Any]) -> bytes:
    """The request body exactly as the provider sent it (signatures are over these bytes)."""
    body = event.get("body") or ""
    return base64.b64decode(body) if event.get("isBase64Encoded") else body.encode("utf-8")


# ------------------------------------------------------------------------------ Meta

def receive_meta(*, body: bytes, signature: str | None, app_secret: str,
                 parse: Callable[[dict[str, Any]], list[WebhookItem]], processor: WebhookProcessor) -> Outcome:
    """WhatsApp Cloud, Messenger, Instagram: X-Hub-Signature-256 over the raw bytes, then the batch."""
    if not meta.verify_signature(body, signature, app_secret):
        raise InvalidSignature("X-Hub-Signature-256 does not match")
    return processor.process(parse(meta.parse_json(body)))


# ------------------------------------------------------------------------------ Telegram

def receive_telegram(*, body: bytes, secret_header: str | None, secret: str,
                     processor: WebhookProcessor) -> dict[str, Any] | None:
    """A Telegram update; returns the webhook answer: a Bot API call riding on the 200, else what the
    update left in the table (``Outcome.counts``; Telegram ignores an answer without ``method``)."""
    if not telegram.verify_secret(secret_header, secret):
        raise InvalidSignature("X-Telegram-Bot-Api-Secret-Token does not match")
    update = meta.parse_json(body)
    outcome = processor.process(telegram.parse(update))
    return telegram.webhook_answer(update) or {"status": "ok", **outcome.counts()}


# ------------------------------------------------------------------------------ kept for a replay

class KeptRequest(BaseModel):
    """A verified webhook request the table could not take: the ingest-retry queue's message. Only the webhook
    functions put one there, after the provider's signature was checked; the replay trusts it (its signature no
    longer matches once its text is masked)."""

    provider: Literal["twilio"]
    route: Literal["message", "status"]       # POST /webhooks/twilio (and /messaging), /webhooks/twilio/status
    url: str                                  # the URL it was signed for (a status callback's carries our reference)
    body: str                                 # the form as received, its text masked (``IngestRetry.keep``)
    received_at: str                          # when the webhook answered it (ISO): the replayed message's time
    masked: list[str] = Field(default_factory=list)     # what was masked in it: card, IBAN, a pattern's name


@dataclass
class IngestRetry:
    """The ingest-retry queue (FIFO): requests of providers that never re-deliver, kept while the table could not
    take them. One group per customer, named by a hash (a customer's messages are replayed in the order they came);
    the deduplication id is the hash of the request as received, so the same request kept twice within five minutes
    is one message whatever masking was in force, and a copy that differs (Twilio's Fallback URL call adds
    ``ErrorCode`` and ``ErrorUrl``) is a duplicate on replay.

    What the customer wrote is masked before it is kept, as ingest masks it, so the queue, its dead-letter queue and
    a redrive hold no card number, IBAN or match of the shop's patterns. The table is what failed, so the masking
    reads nothing: the privacy settings the function read last (at cold start, at most five minutes old while the
    table answered), else the masking every shop has (card numbers and IBANs)."""

    queue: Queue
    privacy: PrivacyPolicies | None = None

    def keep(self, request: KeptRequest, group: str) -> None:
        digest = hashlib.sha256(f"{request.route}\n{request.url}\n{request.body}".encode()).hexdigest()
        policy = (self.privacy.cached() if self.privacy is not None else None) or PrivacyPolicy()
        body, kinds = masked_form(request.body, policy)
        kept = request.model_copy(update={"body": body, "masked": kinds})
        self.queue.send(kept.model_dump(), group=f"{request.provider}#{group}", dedup_id=digest)


def masked_form(body: str, policy: PrivacyPolicy) -> tuple[str, list[str]]:
    """A Twilio form with the text of every field that may hold some (``twilio.is_text``) masked, a name
    (``twilio.NAMES``) as ingest masks a name (``mask_name``: a number joined to a word by a hyphen too), and what was
    masked; the form as it came when there was nothing to mask."""
    params, kinds = [], []
    for name, value in twilio.parse_form(body):
        how = mask_name if name in twilio.NAMES else mask
        found = how(value, policy.patterns) if twilio.is_text(name) else None
        params.append((name, (found.text or "") if found is not None else value))
        kinds.extend(found.kinds if found is not None else ())
    return (urllib.parse.urlencode(params), list(dict.fromkeys(kinds))) if kinds else (body, [])


def _stored_or_kept(retry: IngestRetry | None, request: KeptRequest, group: str,
                    process: Callable[[], Outcome]) -> Outcome:
    """``process()`` the verified request; when it fails on our side, keep the request for a replay and answer as
    if stored (2xx). A malformed request stays a 400 (a replay would refuse it again). When the queue refuses it too,
    the first failure is raised: a 5xx, and Twilio calls the Fallback URL."""
    try:
        return process()
    except BadRequest:
        raise
    except Exception as failure:
        if retry is None:
            raise
        logger.exception("webhook not stored: kept for a replay", extra={"provider": request.provider,
                                                                         "route": request.route})
        try:
            retry.keep(request, group)
        except Exception:
            logger.exception("webhook not kept either: the provider is answered 5xx",
                             extra={"provider": request.provider, "route": request.route})
            raise failure from None
        metrics.count("WebhooksKept", provider=request.provider)
        return Outcome(kept=1)


REPLAY_FIRST_DELAY_SECONDS = 5
REPLAY_MAX_DELAY_SECONDS = 900


def replay_delay(receive_count: int) -> int:
    """How long a kept request whose replay failed waits for the next: 5 s, doubled per receive, at most 15 minutes.
    With the queue's 24 receives (``IngestRetryQueue``), about four hours of replays before the dead-letter queue."""
    return min(REPLAY_FIRST_DELAY_SECONDS * 2 ** max(receive_count - 1, 0), REPLAY_MAX_DELAY_SECONDS)


def replay(request: KeptRequest, processor: WebhookProcessor, erased: ErasedAddresses | None = None) -> Outcome:
    """A kept request, processed as its webhook would have (the ingest-retry queue's consumer): its message dated
    when it came (``received_at``: its place on the timeline, the start of its clocks), with what was masked before
    it was kept. A message stored meanwhile (an earlier replay, the Fallback URL's call) is a duplicate; a failure
    raises, and the queue delivers it again after its backoff, then to its dead-letter queue.
    A message whose sender was erased after Twilio delivered it (``erased``: the mark of their number, one GetItem)
    is dropped: nothing stored, and the queue deletes it; one delivered after the erase is a new contact. The read
    alone would race an erase marking the number after it, so the transaction that stores the message checks the
    mark too (``ErasedAddresses.not_erased_since_op``): an erase whose mark lands between the two cancels the store,
    and the message is dropped the same way (no routing work, so no acknowledgement or answer is sent)."""
    params = twilio.parse_form(request.body)
    if request.route != "message":
        return processor.process(_twilio_status_items(params, request.url))
    came = clock.parse_iso(request.received_at)
    phone = to_e164(dict(params).get("From") or "") if erased is not None else None
    unless_erased = None
    if erased is not None and phone:
        at = erased.erased_at("phone", phone)
        if at is not None and came < at:
            return _dropped(request, at)
        unless_erased = erased.not_erased_since_op("phone", phone, came)
    items = [item.model_copy(update={"received_at": came, "masked": request.masked})
             if isinstance(item, InboundMessage) else item for item in _twilio_item(params, twilio.parse_inbound)]
    try:
        return processor.process(items, unless_erased)
    except SenderErased:       # the mark landed after the read: the store's check refused it
        return _dropped(request, None)


def _dropped(request: KeptRequest, erased_at: datetime | None) -> Outcome:
    """A kept message whose customer was erased after it came: nothing stored, logged (times, never the number) and
    counted (``WebhooksKeptErased``). ``erased_at``: the mark's time the replay's read found; None when the mark
    landed after that read and the store's check refused the message (the mark is not read again only for the log)."""
    logger.warning("kept message dropped: its customer was erased after it came", extra={
        "provider": request.provider, "received_at": request.received_at,
        "erased_at": clock.iso(erased_at) if erased_at else None, "refused_by": "read" if erased_at else "store"})
    metrics.count("WebhooksKeptErased", provider=request.provider)
    return Outcome()


# ------------------------------------------------------------------------------ Twilio

def _verified_twilio_params(url: str, body: str, signature: str | None, auth_token: str) -> list[tuple[str, str]]:
    params = twilio.parse_form(body)
    if not twilio.verify_signature(url, params, signature, auth_token) or \
            not twilio.verify_body_hash(url, body.encode()):
        raise InvalidSignature("X-Twilio-Signature does not match")
    return params


def _twilio_group(params: list[tuple[str, str]], route: str) -> str:
    """A kept request's queue group: the customer (From of their message, To of our reply's receipt), else its id."""
    form = dict(params)
    who = form.get("From") if route == "message" else form.get("To")
    return hashlib.sha256((who or form.get("MessageSid") or form.get("SmsSid") or "-").encode()).hexdigest()[:32]


def _twilio_item(params: list[tuple[str, str]], parse: Callable[[list[tuple[str, str]]], WebhookItem]
                 ) -> list[WebhookItem]:
    """The request's one item; a signed form Twilio would not send (no sender, an id no key can hold)
    is kept as unsupported, with the MessageSid in the log."""
    form = dict(params)
    sid = form.get("MessageSid") or form.get("SmsMessageSid") or form.get("SmsSid")
    phone = to_e164(form.get("From") or "") if parse is twilio.parse_inbound else None     # the customer
    return item_or_unsupported(twilio.PROVIDER, form, lambda: [parse(params)], sid, ("phone", phone) if phone else None)


def receive_twilio_message(*, url: str, body: str, signature: str | None, auth_token: str,
                           processor: WebhookProcessor, retry: IngestRetry | None = None) -> Outcome:
    """A customer's message. Twilio makes one attempt (then calls the Fallback URL, if one is set): a verified
    message the table could not take is kept for a replay (``retry``) and answered 200."""
    params = _verified_twilio_params(url, body, signature, auth_token)
    kept = KeptRequest(provider="twilio", route="message", url=url, body=body, received_at=clock.now_iso())
    return _stored_or_kept(retry, kept, _twilio_group(params, "message"),
                           lambda: processor.process(_twilio_item(params, twilio.parse_inbound)))


def receive_twilio_status(*, url: str, body: str, signature: str | None, auth_token: str,
                          processor: WebhookProcessor, retry: IngestRetry | None = None) -> Outcome:
    """A delivery receipt of one of our sends; kept for a replay like a message (Twilio does not send it again)."""
    params = _verified_twilio_params(url, body, signature, auth_token)
    kept = KeptRequest(provider="twilio", route="status", url=url, body=body, received_at=clock.now_iso())
    return _stored_or_kept(retry, kept, _twilio_group(params, "status"),
                           lambda: processor.process(_twilio_status_items(params, url)))


def _twilio_status_items(params: list[tuple[str, str]], url: str) -> list[WebhookItem]:
    items = _twilio_item(params, twilio.parse_status)
    reference = twilio.callback_reference(url)        # the StatusCallback our send gave (signed with the URL)
    return [i.model_copy(update={"reference": reference}) if isinstance(i, StatusUpdate) else i for i in items]
