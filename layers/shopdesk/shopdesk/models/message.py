"""Messages: what customers write, what agents answer, notes and system events on the timeline."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shopdesk.clock import Instant


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    NOTE = "note"
    SYSTEM = "system"


# Delivery states in the order they happen. A status update only ever moves a message forward;
# terminal failures rank with "delivered" so a late "sent" cannot undo them, and "read" wins last.
_RANK = {
    "queued": 0, "accepted": 10, "scheduled": 10, "sending": 20, "sent": 30,
    "delivered": 40, "undelivered": 45, "failed": 45, "read": 50, "received": 50,
}
# A failure outranks "delivered": an email can bounce after the receiving server accepted it
# (SES reports Delivery, then Bounce). Providers never report "delivered" after a failure.


def delivery_rank(status: str) -> int:
    return _RANK.get(status, 0)


class Attachment(BaseModel):
    """A file on a message. Inbound files start as the provider's reference (``url`` or ``media_id``)
    and are copied to our bucket (``storage_key``); a file over the limits keeps a placeholder
    ``note`` instead, so nothing fails and the agent knows why."""

    model_config = ConfigDict(frozen=True)

    url: Annotated[str, Field(max_length=4096)] | None = None
    content_type: str | None = None
    media_id: str | None = None          # provider's reference: Graph media id, Telegram file_id
    filename: str | None = None
    size: int | None = None
    storage_key: str | None = None       # S3 key once downloaded
    note: str | None = None              # why it was not kept ("larger than 20 MB", ...)


class MessageError(BaseModel):
    code: str | None = None
    message: str


class SendIntent(BaseModel):
    """A send under way (#14): recorded on the reply before the provider is called, so a delivery of the
    outbound record that finds it without a recorded provider id knows the provider may have the part already
    and reconciles before sending again (``logic/dispatch.py``)."""

    part: int                               # which part of the reply (0 for a reply sent as one message)
    attempt: int                            # the queue's receive count of the delivery that sent it
    since: Instant                         # when the provider was called
    reference: str                          # ours, carried back by the provider's callbacks where it can


class SystemEvent(BaseModel):
    """What a system entry on the timeline says, structured (``shopdesk.logic.timeline`` makes both): a stable
    ``kind`` and its ``params`` (ids, ISO times, statuses, priorities, SLA target names, counts; free text only
    where it is free, such as an agent's note), which an inbox words in its agent's language."""

    model_config = ConfigDict(frozen=True)

    kind: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    params: dict[str, Any] = Field(default_factory=dict)


class Message(BaseModel):
    id: str
    conversation_id: str
    direction: Direction
    channel: str | None = None
    text: str | None = None
    status: str | None = None
    attachments: list[Attachment] = Field(default_factory=list)
    created_at: Instant
    author: str | None = None               # agent id for outbound replies and notes
    provider_id: str | None = None          # Twilio MessageSid, wamid, ...
    error: MessageError | None = None       # why a send failed, in the provider's words
    attempts: int = 0
    to: str | None = None                   # outbound: customer address the reply goes to
    sender: str | None = None               # outbound: shop address it leaves from
    provider: str | None = None             # who carries it: twilio, whatsapp_cloud, messenger, ...
    kind: str | None = None                 # text, media, location, contacts, interactive, postback,
                                            # unsupported, template, reaction, edit, unsend, echo, ...
    subject: str | None = None              # email
    payload: dict[str, Any] | None = None   # structured content: location, template, email headers...
    masked: list[str] = Field(default_factory=list)   # what was masked before storing: card, IBAN, <pattern>
    expires_at: Instant | None = None      # retention: the item's TTL (shopdesk.privacy.settings.Retention)
    # What shopdesk understood of an inbound message (shopdesk.understanding), set by the router:
    language: str | None = None             # ISO 639-1 (en, es, ... or another code the model found)
    sentiment: str | None = None            # negative | neutral | positive
    emotion: str | None = None              # anger | frustration
    urgent: bool | None = None
    intents: list[str] = Field(default_factory=list)
    # outbound, sent as several provider messages (one per file where the provider takes one): how many went
    # out and their provider ids, so a retry resumes after them instead of repeating them
    parts_sent: int = 0
    part_ids: list[str] = Field(default_factory=list)
    # outbound, the last send under way (#14), the provider ids callbacks carrying our reference confirmed (part
    # number as text -> id), and whether the reply went again after a send nobody could confirm (the customer may
    # have it twice: the agent sees it)
    sending: SendIntent | None = None
    confirmed: dict[str, str] = Field(default_factory=dict)
    possibly_duplicate: bool = False
    # outbound: when a delivery of its queue record last tried to send it (a part's intent, or a failed attempt):
    # a reply not sent that nothing tried for long is stuck (``logic.stuck``)
    attempted_at: Instant | None = None
    # a system entry: what ``text`` says in English, structured (None on entries written before it existed)
    event: SystemEvent | None = None
    # an inbound message the customer took back (Messenger/Instagram unsend, a deletion in a Telegram Business chat):
    # when; its text, subject, files and content are gone (``logic.amend``)
    unsent_at: Instant | None = None
    # an inbound message the customer edited: when (the provider's time of the latest edit), and the words it reads
    # now, masked like any text; ``text`` keeps what it said first
    edited_at: Instant | None = None
    edited_text: str | None = None
    # an inbound message whose customer's address it does not prove: a contact form's mail (From the shop, the
    # customer in Reply-To: what the form was told)
    sender_unproven: bool = False
    # inbound: the identity it came from ("kind#address"): after an unmerge, the messages one customer wrote into the
    # other's conversation while they were one are theirs, and go with their erase (privacy.subject)
    identity: str | None = None

    @property
    def retry_of(self) -> str | None:
        """A reply an agent sent again (``Inbox.retry``): the id of the failed reply it sends again."""
        value = (self.payload or {}).get("retry_of")
        return value if isinstance(value, str) else None


class EmailMeta(BaseModel):
    """What threading and loop protection need from an email's headers."""

    message_id: str | None = None           # without angle brackets
    in_reply_to: list[str] = Field(default_factory=list)
    references: list[str] = Field(default_factory=list)
    subject: str | None = None
    auto_submitted: bool = False            # auto-reply, out-of-office, bulk: no SLA clock, no auto answer
    conversation_token: str | None = None   # from a reply+<token>@ address
    quoted_text: str | None = None          # the quoted history under the reply, hidden from the view
    # From one of our addresses with the customer in Reply-To (a website's contact form): the customer's address is
    # what the form was told, not proven by the mail
    contact_form: bool = False


class InboundMessage(BaseModel):
    """A customer message as a channel parser hands it to ingest, provider-neutral."""

    provider: str                           # twilio, whatsapp_cloud, messenger, instagram, telegram, email, webchat
    provider_id: Annotated[str, Field(min_length=1, max_length=998)]
    channel: str                            # sms, whatsapp, messenger, instagram, telegram, email, webchat
    identity_kind: str                      # phone (SMS and WhatsApp share it), messenger, instagram, telegram, ...
    # E.164 for phones; PSID, IGSID, chat id, email address, visitor id. It names the customer in keys and
    # on every conversation: longer than any address a provider uses is not one (the item is unsupported).
    customer_address: Annotated[str, Field(min_length=1, max_length=320)]
    shop_address: Annotated[str, Field(max_length=1024)]   # the address the customer wrote to, as the provider names it
    reply_to: Annotated[str, Field(max_length=1024)]       # where a reply goes ("whatsapp:+31...", chat id, ...)
    text: str | None = None
    attachments: list[Attachment] = Field(default_factory=list)
    profile_name: str | None = None
    kind: str = "text"                      # text, media, location, contacts, interactive, postback, unsupported
    payload: dict[str, Any] | None = None   # the structured content of a location, contact card, button...
    reply_context: str | None = None        # provider id of the message this one answers
    sent_at: Instant | None = None         # provider's timestamp
    email: EmailMeta | None = None
    raw: dict[str, Any] = Field(default_factory=dict)
    # the whole message is a consent keyword the provider acts on (Twilio: STOP unsubscribes the number, START
    # subscribes it again; ``channels.twilio.consent``)
    consent: Literal["stop", "start"] | None = None
    # when we received it, where that was before ingest: a request kept in the ingest-retry queue is stored when it is
    # replayed, dated when it came (``logic.webhooks.replay``); None: ingest's own time
    received_at: Instant | None = None
    # what was masked before ingest (a kept request's text is masked before it is kept): listed with what ingest masks
    masked: list[str] = Field(default_factory=list)


class TimelineEvent(BaseModel):
    """Something a provider reports that is not a new customer message (reaction, edit, unsend,
    echo of our own send, referral, unknown event): acknowledged, and shown on the conversation's
    timeline where an agent would want to see it, never counted as the customer writing."""

    provider: str
    event_id: str                           # dedupe key of the event itself
    kind: str                               # reaction, edit, unsend, echo, referral, read, unknown
    identity_kind: str | None = None
    customer_address: str | None = None
    target_provider_id: str | None = None   # the message it is about, when it names one
    text: str                               # what the agent reads: 'Reacted 👍 to "..."'
    raw: dict[str, Any] = Field(default_factory=dict)
    # what ``text`` says, structured, for an inbox to word in its agent's language (``channels.base.timeline_event``
    # lists the kinds); the customer's words in it are masked like ``text`` when the entry is stored
    event: SystemEvent | None = None
    at: Instant | None = None               # when it happened, by the provider's clock (orders a message's edits)


class StatusUpdate(BaseModel):
    """A delivery receipt for one of our outbound messages."""

    provider: str
    provider_id: str
    status: str
    error: MessageError | None = None
    reference: str | None = None            # ours, when the provider carried it back (dal.items.send_reference)


class UnsupportedItem(BaseModel):
    """One item of a signed webhook that cannot be stored as a message, receipt or event (no usable
    sender, an id no key can hold, a value of the wrong type...). It is acknowledged, never dropped:
    the webhook records it with a bounded copy of ``raw`` and logs a warning with ``item_id``."""

    provider: str
    reason: str                             # why, for the log and the record ("no usable sender")
    # the same as a stable key for an inbox to word: ``invalid`` (a value the models refuse: wrong type, too long),
    # ``unreadable`` (not what the provider documents)
    code: str = "unreadable"
    item_id: str | None = None              # the provider's id for the item, when it has one
    identity_kind: str | None = None        # the customer it came from, when that much is known
    customer_address: str | None = None
    raw: Any = None                         # the item as the provider sent it (bounded when stored)


WebhookItem = InboundMessage | StatusUpdate | TimelineEvent | UnsupportedItem
