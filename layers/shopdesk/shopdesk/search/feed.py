"""What the indexer does with one table-stream record: keep the search index in step with the messages.

- A message inserted, or changed in its text, subject or edited text (a customer's edit, ``logic.amend``: the words
  it said first and the words it says now are both found; the masking scan, ``privacy.remask``; a delivery receipt
  changes none and is skipped), is indexed under its terms, analysed in the message's language (detected from its text).
- A message removed, or whose text became empty (a customer unsent it), is removed; a conversation item removed
  (expiry, erasure) removes all its messages.
- System messages (assignments, SLA notes) are not indexed: customers' and agents' words are.
- A customer's record (``CUSTOMER#<id>/META``) inserted, or changed in its name or in being merged into
  another, indexes the name (``name_terms``); a record without a name, merged into another, or removed (an
  erasure) has its document removed, so an erased customer is not found by name.

Every operation is idempotent (the message id is the document's key), so a retried batch is harmless. After a
batch with one of the ``PURGES`` the indexer purges the index (``SearchIndex.purge``): a removal, and a document
indexed again in place of one that held other words (``REPLACEMENTS``: a re-mask, an edit, a rename), since the
engine keeps the terms it replaced in its files as it keeps those it removed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shopdesk.dal.items import message_from_item
from shopdesk.logic.language import detect_language
from shopdesk.models import Direction, Message
from shopdesk.search import SearchDoc, SearchIndex
from shopdesk.search.text import LANGUAGES, index_terms, joined, name_terms

INDEXED = {Direction.INBOUND, Direction.OUTBOUND, Direction.NOTE}
REMOVALS = frozenset({"removed", "conversation removed", "customer removed"})
REPLACEMENTS = frozenset({"replaced", "customer replaced"})      # a document indexed again over other words
PURGES = REMOVALS | REPLACEMENTS                                 # outcomes after which the indexer purges
MAX_TEXT = 20_000           # characters of one message that are indexed (a long e-mail says enough before)


def searchable_text(message: Message) -> str:
    return " ".join(part for part in (message.subject, message.text, message.edited_text) if part)[:MAX_TEXT].strip()


def document(message: Message) -> SearchDoc | None:
    """The message's search document, or None when it has nothing to index."""
    if message.direction not in INDEXED:
        return None
    text = searchable_text(message)
    if not text:
        return None
    language = detect_language(text)
    language = language if language in LANGUAGES else None
    terms = index_terms(text, language)
    if not terms:
        return None
    return SearchDoc(conversation_id=message.conversation_id, message_id=message.id, created_at=message.created_at,
                     terms=joined(terms), language=language, direction=message.direction.value)


def _text_of(image: Mapping[str, Any] | None) -> tuple[Any, Any, Any]:
    return (image or {}).get("text"), (image or {}).get("subject"), (image or {}).get("edited_text")


def apply(index: SearchIndex, event_name: str, keys: Mapping[str, Any], new: Mapping[str, Any] | None,
          old: Mapping[str, Any] | None) -> str:
    """Apply one stream record (deserialised images) to the index; answers what it did."""
    pk, sk = str(keys.get("PK", "")), str(keys.get("SK", ""))
    if pk.startswith("CUSTOMER#") and sk == "META":
        return apply_customer(index, event_name, pk.removeprefix("CUSTOMER#"), new, old)
    if not pk.startswith("CONV#"):
        return "ignored"
    conversation_id = pk.removeprefix("CONV#")
    if sk == "META":
        if event_name == "REMOVE":
            index.remove(conversation_id)
            return "conversation removed"
        return "ignored"
    if not sk.startswith("MSG#"):
        return "ignored"
    message_id = sk.rsplit("#", 1)[-1]
    if event_name == "REMOVE" or not new:
        index.remove(conversation_id, message_id)
        return "removed"
    if event_name == "MODIFY" and _text_of(new) == _text_of(old):
        return "unchanged"
    doc = document(message_from_item(dict(new)))
    if doc is None:
        if event_name == "MODIFY":
            index.remove(conversation_id, message_id)
            return "removed"
        return "skipped"
    index.index(doc)
    return "replaced" if event_name == "MODIFY" and any(_text_of(old)) else "indexed"


def _named(image: Mapping[str, Any] | None) -> str | None:
    """The name a customer's record is found by: none once merged into another customer."""
    if not image or image.get("merged_into"):
        return None
    name = image.get("name")
    return str(name) if name else None


def apply_customer(index: SearchIndex, event_name: str, customer_id: str, new: Mapping[str, Any] | None,
                   old: Mapping[str, Any] | None) -> str:
    """One change of a customer's record (``INSERT`` for a record read as it is: ``scripts/backfill.py names``)."""
    name = None if event_name == "REMOVE" else _named(new)
    if event_name == "MODIFY" and name == _named(old):
        return "unchanged"
    terms = name_terms(name) if name else []
    if not terms:
        if event_name == "INSERT":
            return "skipped"
        index.remove_customer(customer_id)
        return "customer removed"
    index.index_customer(customer_id, joined(terms))
    return "customer replaced" if event_name == "MODIFY" and _named(old) else "customer indexed"
