"""Email in: raw mail that SES's receipt rule stored in S3, and SES notifications over SNS.

Threading: a reply joins its conversation through the reply+<conversation>@ address we sent from,
else through In-Reply-To/References naming one of our sent mails (SES's Message-ID is
<ses-message-id@…amazonses.com>) or an earlier mail of the thread; else the customer's open
conversation. Attachments are stored before the message, so the agent sees them at once; one of a type agents
should not open (``logic/media.py`` ``refused``) is a placeholder note instead, as on the other channels.
The first language we answer that its Content-Language names (the mail's, else its text part's; comments taken out)
is kept as ``payload["content_language"]``: a weak hint to the understanding layer (mail clients write it from their
own locale, not from the text, so the text decides where it is sure), never a refusal.
"""

from __future__ import annotations

import hashlib
import urllib.request
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger

from shopdesk.channels import email as mail
from shopdesk.channels import ses, sns
from shopdesk.channels.base import unsupported
from shopdesk.dal.conversations import Conversations
from shopdesk.dal.media import MediaStore, RawMail, media_key
from shopdesk.errors import BadRequest, InvalidSignature, NotFound
from shopdesk.logic.ingest import masked_name
from shopdesk.logic.language import from_content_language
from shopdesk.logic.media import refused
from shopdesk.logic.webhooks import Outcome, WebhookProcessor
from shopdesk.models import InboundMessage
from shopdesk.privacy.masking import MailNotRewritten, mask_mail

logger = Logger(child=True)
RAW_START_BYTES = 4_000       # of a raw email kept as unsupported (the whole mail stays in the mail bucket)


def reference_ids(ids: list[str]) -> list[str]:
    """Message-IDs as our markers name them: SES's own id for mails SES sent for us."""
    out: list[str] = []
    for value in ids:
        out.append(value)
        local, _, domain = value.partition("@")
        if domain.lower().endswith("amazonses.com"):
            out.append(local)
    return out


def thread_finder(conversations: Conversations) -> Callable[[InboundMessage], str | None]:
    """The conversation a mail says it answers (its reply+ address, else its References), when the sender is
    that conversation's customer. A reply+ address and a Message-ID are in every mail of the thread, so anyone
    it was forwarded or copied to knows them: their mail is their own conversation, never a message in the
    customer's (where it would also have made the agents' next replies go to them)."""
    def find(message: InboundMessage) -> str | None:
        if message.email is None:
            return None
        if message.email.conversation_token:
            candidate: str | None = message.email.conversation_token
        else:
            refs = reference_ids([*message.email.references, *message.email.in_reply_to])
            candidate = conversations.conversation_of_any("email", refs) if refs else None
        return candidate if candidate and _customers_own(conversations, message, candidate) else None
    return find


def _customers_own(conversations: Conversations, message: InboundMessage, conversation_id: str) -> bool:
    """Whether the sender is one of the customer's identities (one GetItem each: the identity, the conversation)."""
    identity = conversations.get_identity(message.identity_kind, message.customer_address)
    if identity is None:
        return False
    try:
        return conversations.get_meta(conversation_id).customer.id == identity.customer_id
    except NotFound:
        return False


@dataclass
class EmailReceiver:
    processor: WebhookProcessor
    store: MediaStore
    shop_addresses: list[str]
    max_attachment_bytes: int
    topic_arns: Collection[str]
    fetch_certificate: Callable[[str], bytes] = sns.certificates
    confirm: Callable[[str], None] = lambda url: urllib.request.urlopen(url, timeout=5).close()
    raw_mail: RawMail = field(default_factory=RawMail)
    contact_form_senders: Collection[str] = ()     # shop addresses its contact forms send From (see parse_email)

    def __post_init__(self) -> None:
        if not self.topic_arns:     # said once, at cold start: each refusal after it is a 403 and nothing more
            logger.warning("no email events topic is configured (EMAIL_EVENTS_TOPIC_ARN): every SNS message is "
                           "refused, since SNS signs what anyone publishes to a topic of their own")

    def receive_raw(self, raw: bytes, recipients: tuple[str, ...] = (), where: dict[str, str] | None = None
                    ) -> Outcome:
        """Store one raw email. Mail that is not a readable customer message (no From, not MIME) is
        kept as unsupported: where it is, its size and its first bytes, and a warning in the log; the mail SES
        stored is written again masked, as a message's is."""
        try:
            parsed = mail.parse_email(raw, shop_addresses=self.shop_addresses,
                                      max_attachment_bytes=self.max_attachment_bytes, envelope_recipients=recipients,
                                      contact_form_senders=self.contact_form_senders)
        except (BadRequest, ValueError) as exc:
            copy = {**(where or {}), "bytes": len(raw), "start": raw[:RAW_START_BYTES].decode("utf-8", "replace")}
            kept = self.processor.process([unsupported("email", str(exc), copy, (where or {}).get("key"))])
            if where and where.get("bucket") and where.get("key"):
                self._mask_stored(raw, where["bucket"], where["key"])
            return kept
        parsed, stored_already = self._own_message_id(parsed)
        folder = hashlib.sha256(parsed.message.provider_id.encode()).hexdigest()[:32]
        policy = self.processor.privacy.current() if self.processor.privacy else None
        changes: list[dict[str, str]] = []
        # a mail whose message is stored already is a duplicate: its files are not written over that message's
        for index, (attachment, content) in enumerate(() if stored_already else parsed.files):
            # a file agents should not open (a page, an SVG, a program) is a placeholder note, as on other channels
            note = refused(attachment.content_type, attachment.filename)
            if note is not None:
                changes.append({"note": note})
                continue
            # the key is named after the file as the message will name it: masked (ingest masks the message's copy)
            name = masked_name(attachment.filename, policy, []) if policy else attachment.filename
            key = media_key("email", folder, index, name)
            self.store.put(key, content, attachment.content_type)
            changes.append({"storage_key": key})
        message = parsed.with_files(changes)
        added: dict[str, Any] = {}
        # the first language we answer that its Content-Language names: a weak hint, the text decides where it is sure
        language = from_content_language(parsed.content_language)
        if language is not None:
            added["content_language"] = language
        if where and where.get("bucket") and where.get("key"):      # the raw mail: exported and erased with it
            added["source"] = {"bucket": where["bucket"], "key": where["key"]}
        if added:
            message = message.model_copy(update={"payload": {**(message.payload or {}), **added}})
        outcome = self.processor.process([message])
        if where and where.get("bucket") and where.get("key"):
            self._mask_stored(raw, where["bucket"], where["key"])
        return outcome

    def _own_message_id(self, parsed: mail.ParsedEmail) -> tuple[mail.ParsedEmail, bool]:
        """The mail under its own id, and whether a message is stored under that id already.

        A Message-ID is the sender's word, not a provider's: another sender's mail already stored under this one
        (a contact form or mailer that reuses a fixed id, or someone copying it from a thread) makes this mail's id
        the Message-ID and a digest of its sender, so it is stored as a message of its own, its files in a folder
        of their own, and its own delivery again is still a duplicate. One GetItem (the marker); a second only when
        the Message-ID is known already. Threading still reads the Message-ID itself (``reference_ids``). A mail whose
        id is stored already is a duplicate whatever it holds (the same sender's mail delivered again, or one
        written From their address under their Message-ID): the caller writes none of its files."""
        message = parsed.message
        conversations = self.processor.conversations
        where = conversations.message_of(mail.PROVIDER, message.provider_id, "inbound")
        stored = conversations.get_message(*where) if where else None
        sender = f"{message.identity_kind}#{message.customer_address}"
        if stored is None or stored.identity in (None, sender):
            return parsed, where is not None
        digest = hashlib.sha256(sender.encode()).hexdigest()[:32]
        own = parsed.with_provider_id(f"{message.provider_id}#sender:{digest}")
        return own, conversations.message_of(mail.PROVIDER, own.message.provider_id, "inbound") is not None

    def receive_stored(self, bucket: str, key: str, recipients: tuple[str, ...] = ()) -> Outcome:
        """A mail SES stored in the mail bucket (an S3 event, or an SNS notification naming the bucket and key): its
        message names where it is (``payload.source``; an unsupported item's copy: ``bucket``, ``key``), so the
        customer's export and erase find it."""
        stored = self.raw_mail.get(bucket, key)
        if stored is None:      # erased since SES stored it: nothing left to read (the message was stored, or is gone)
            logger.warning("stored mail is gone", extra={"bucket": bucket, "key": key})
            return Outcome()
        if stored.masked:       # our own rewrite's notice, or a late one of SES's: its message was stored before it
            return Outcome()
        return self.receive_raw(stored.body, recipients, where={"bucket": bucket, "key": key})

    def _mask_stored(self, raw: bytes, bucket: str, key: str) -> None:
        """The mail SES stored, written again with what the message masked masked (after the message is stored:
        a failure here retries the delivery, which finds the message a duplicate and comes back here); removed
        when it cannot be written again. Its rewrite notifies this function once more, which reads the mark and
        stops (a mail without a Message-ID is known by a digest of its bytes: read again, it would be a new one)."""
        policy = self.processor.privacy.current() if self.processor.privacy else None
        try:
            found = mask_mail(raw, policy.patterns if policy else ())
        except MailNotRewritten as exc:
            logger.warning("stored mail removed: it holds what is masked and cannot be written again",
                           extra={"bucket": bucket, "key": key, "reason": str(exc)[:200]})
            self.raw_mail.delete(bucket, key)
            return
        if found is not None:
            self.raw_mail.replace(bucket, key, found[0])
            logger.info("stored mail masked", extra={"bucket": bucket, "key": key, "masked": list(found[1])})

    def receive_sns(self, body: bytes) -> str:
        """One SNS message, taken only from the desk's own topics: with none configured, none is (fails closed)."""
        if not self.topic_arns:
            raise InvalidSignature("no email events topic is configured: no SNS message is taken")
        envelope = sns.parse_sns_envelope(body)
        if not sns.verify_sns(envelope, fetch_certificate=self.fetch_certificate,
                              expected_topic_arns=self.topic_arns):
            raise InvalidSignature("the SNS message signature does not verify")
        kind = envelope.get("Type")
        if kind == "SubscriptionConfirmation":
            url = envelope.get("SubscribeURL")
            if not sns.is_trusted_sns_url(url):
                raise BadRequest("SubscribeURL is not an SNS URL")
            self.confirm(url)
            return "subscription confirmed"
        if kind != "Notification":
            return f"{kind} acknowledged"
        try:
            notification = ses.parse_ses_notification(envelope.get("Message") or "")
        except (BadRequest, ValueError) as exc:       # signed by SNS, but not an SES notification we can read
            self.processor.process([unsupported("ses", str(exc), envelope, envelope.get("MessageId"))])
            return "unsupported"
        if isinstance(notification, ses.ReceivedEmail):
            if notification.content is not None:
                self.receive_raw(notification.content, notification.recipients)
            elif notification.s3 is not None:     # the receipt rule's S3 action, told over SNS: as an S3 event's
                self.receive_stored(notification.s3.bucket, notification.s3.key, notification.recipients)
            return "received"
        if notification is not None:
            self.processor.process([notification])
            return f"receipt {notification.status}"
        return "ignored"
