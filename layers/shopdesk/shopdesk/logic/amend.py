"""A customer's unsend or edit of a message they sent: the message itself changed, beside the timeline entry.

- **Unsend** (Messenger's and Instagram's ``is_deleted``, a deletion in a Telegram Business chat): the message keeps
  no words or files. Its text, subject, edited text and content (a location, a contact card, a share: the payload
  but for the ids that place the message) go, its attachments go, and the files the router stored for it are deleted
  from the media bucket (when the function has one: else they stay until the bucket's lifecycle expires them); it is
  marked ``unsent_at``. The edit entries that quoted it lose the words, and so does the conversation's preview when
  it still showed them. The search index follows the stream: a message without text is removed from it. Meta's
  platform expects a business to honour a user's unsend; the timeline entry stays, so agents know it happened.
- **Edit**: the message is marked ``edited_at`` (the provider's time of the edit) and keeps the new words as
  ``edited_text``, masked like any text (``text`` keeps what it said first); an older edit delivered after a newer
  one changes nothing, and an unsent message takes no edit (the entry then says so without the words).

The change is written in the transaction that puts the entry on the timeline (``Conversations.record_event``), so a
provider's retry finds it done and changes nothing; the deletions before it are harmless to repeat. A message we do
not have (never stored, its marker expired, erased, someone else's) still gets the entry, as before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from aws_lambda_powertools import Logger

from shopdesk import clock
from shopdesk.bounds import bound_text
from shopdesk.channels import telegram
from shopdesk.dal.conversations import ChangeRefused, Conversations
from shopdesk.dal.media import MediaStore, message_files
from shopdesk.dal.table import Update
from shopdesk.logic.timeline import preview
from shopdesk.models import Direction, Message, SystemEvent, TimelineEvent

logger = Logger(child=True)

KINDS = frozenset({"unsend", "edit"})
ATTEMPTS = 3            # reads of a message that changed meanwhile (its files stored by the router, another edit)
# what an unsent message keeps of its payload: the ids that place it (Telegram's message and chat, the message it
# answered), never what it said or showed
PLACING = ("message_id", "chat_id", "business_connection_id", "media_group_id", "reply_context", "standby")
# an edit entry once its message is unsent: the English text and the event, without the words
EDIT_OF_UNSENT = "Edited a message the customer unsent since"


def edit_of_unsent() -> SystemEvent:
    return SystemEvent(kind="edit", params={"unsent": True})


@dataclass(frozen=True)
class Original:
    """The customer's message an unsend or edit names, with its sort key."""

    sk: str
    message: Message


def original(conversations: Conversations, event: TimelineEvent, conversation_id: str) -> Original | None:
    """The inbound message ``event`` names in the conversation its entry goes to; None when we do not have it."""
    target = event.target_provider_id
    if not target:
        return None
    where = conversations.message_of(event.provider, target, "inbound")
    if where is not None:
        if where[0] != conversation_id:
            return None
        message = conversations.get_message(*where)
        return Original(where[1], message) if message is not None else None
    if event.provider == telegram.PROVIDER:
        # the inbound marker is the update's id; the message is found by its own (payload) in the chat's conversation
        found = conversations.find_message(conversation_id, _telegram_message(target))
        return Original(*found) if found else None
    return None


def _telegram_message(ref: str) -> Callable[[Message], bool]:
    chat, _, message_id = ref.rpartition(":")

    def matches(m: Message) -> bool:
        payload = m.payload or {}
        return (m.direction is Direction.INBOUND and m.provider == telegram.PROVIDER
                and str(payload.get("message_id")) == message_id and str(payload.get("chat_id")) == chat)
    return matches


def record(conversations: Conversations, event: TimelineEvent, entry: Message, media: MediaStore | None) -> bool:
    """Put ``entry`` (the event's timeline entry, masked) on its conversation once, with the change of the message
    the event names; False when the provider repeated the event."""
    for attempt in range(ATTEMPTS):
        found = original(conversations, event, entry.conversation_id)
        if found is None:
            break
        at = event.at or clock.now()
        if event.kind == "unsend":
            change = _unsend(conversations, event, found, at, media, strict=attempt < ATTEMPTS - 1)
        else:
            change = _edit(found, entry, at)
            if found.message.unsent_at is not None:
                entry = entry.model_copy(update={"text": EDIT_OF_UNSENT, "event": edit_of_unsent(),
                                                 "payload": {"target": event.target_provider_id}, "masked": []})
        try:
            recorded = conversations.record_event(event.provider, event.event_id, entry, change)
        except ChangeRefused:
            continue          # the message changed between the read and the write: read it again
        if event.kind == "edit" and change is not None:
            shown = found.message.edited_text or found.message.text
            conversations.replace_preview(entry.conversation_id, preview(shown, len(found.message.attachments)),
                                          preview(_edited_text(entry), len(found.message.attachments)))
        return recorded
    else:
        logger.warning("a message kept changing while an unsend or edit was applied", extra={
            "provider": event.provider, "kind": event.kind})
    return conversations.record_event(event.provider, event.event_id, entry)


def _unsend(conversations: Conversations, event: TimelineEvent, found: Original, at: datetime,
            media: MediaStore | None, *, strict: bool) -> tuple[str, Update] | None:
    """What an unsend changes, after removing what lives outside the message (its files, the words quoted in the
    edit entries about it and in the conversation's preview: each harmless to repeat); None when it is unsent
    already. ``strict``: the write holds only if the files are still those read (the router may be storing one)."""
    message, conversation_id = found.message, found.message.conversation_id
    if message.unsent_at is not None or message.direction is not Direction.INBOUND:
        return None
    _delete_files(message, media)
    for words in dict.fromkeys((message.edited_text, message.text)):      # what the preview may show of it
        conversations.replace_preview(conversation_id, preview(words, len(message.attachments)), None)
    _scrub_edit_entries(conversations, event, found)
    kept = {k: v for k, v in (message.payload or {}).items() if k in PLACING}
    update = (Update().set("unsent_at", clock.iso(at)).remove("text").remove("subject").remove("attachments")
              .remove("edited_text").remove("masked").remove("truncated").set("payload", kept or None)
              .when("attribute_exists(PK) AND attribute_not_exists(unsent_at)"))
    if strict and message.attachments:
        update.when("#attachments = :files",
                    files=[a.model_dump(mode="json", exclude_none=True) for a in message.attachments])
    elif strict:
        update.when("attribute_not_exists(#attachments)")
    return found.sk, update


def _delete_files(message: Message, media: MediaStore | None) -> None:
    keys = [a.storage_key for a in message.attachments if a.storage_key]
    ours = [k for k in keys if k.startswith(message_files(message.conversation_id, message.id))]
    if media is not None:
        for key in ours:
            media.delete(key)
    if len(ours) < len(keys) or (ours and media is None):
        # no bucket for this function, or files stored elsewhere: the message no longer names them, and the bucket's
        # lifecycle (the messages' retention) expires them
        logger.warning("files of an unsent message left to expire", extra={
            "message_id": message.id, "files": len(keys) - (len(ours) if media is not None else 0)})


def _scrub_edit_entries(conversations: Conversations, event: TimelineEvent, found: Original) -> None:
    """The edit entries about the message (after it, in its conversation) say it was edited, not what it said."""
    target = event.target_provider_id

    def about_it(m: Message) -> bool:
        return m.direction is Direction.SYSTEM and m.kind == "edit" and (m.payload or {}).get("target") == target \
            and m.event != edit_of_unsent()
    for sk, _ in conversations.find_messages(found.message.conversation_id, about_it, after=found.sk):
        conversations.update_message(found.message.conversation_id, sk, (
            Update().set("text", EDIT_OF_UNSENT).set("event", edit_of_unsent().model_dump(mode="json"))
            .set("payload", {"target": target}).remove("masked").remove("truncated")
            .when("attribute_exists(PK)")))


def _edited_text(entry: Message) -> str | None:
    """The new words, as the entry's event holds them (masked): None for a file whose caption was taken away."""
    text = entry.event.params.get("text") if entry.event is not None and entry.event.kind == "edit" else None
    return text if isinstance(text, str) and text else None


def _edit(found: Original, entry: Message, at: datetime) -> tuple[str, Update] | None:
    """What an edit changes; None when the message is unsent or a later edit is there already."""
    message = found.message
    if message.unsent_at is not None or message.direction is not Direction.INBOUND:
        return None
    if message.edited_at is not None and message.edited_at > at:
        return None
    masked = list(dict.fromkeys([*message.masked, *entry.masked]))
    update = (Update().set("edited_at", clock.iso(at)).set("edited_text", bound_text(_edited_text(entry)).value)
              .set("masked", masked or None)
              .when("attribute_exists(PK) AND attribute_not_exists(unsent_at) AND "
                    "(attribute_not_exists(edited_at) OR edited_at <= :at)", at=clock.iso(at)))
    return found.sk, update
