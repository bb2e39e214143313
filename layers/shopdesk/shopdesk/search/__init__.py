"""The search port: full-text search over message text, one interface, two back-ends.

``SearchIndex`` is what the indexer writes to and the agent API reads from:

- ``index(doc)``: add or replace one message (its id is the key: indexing twice is a no-op);
- ``remove(conversation_id, message_id=None)``: one message, or every message of a conversation;
- ``query(text, filters, limit)``: the conversations whose messages match every word of ``text``, best first,
  at most ``limit``, each with its best matching message;
- ``index_customer(customer_id, terms)``, ``remove_customer(customer_id)``, ``query_customers(text, limit)``:
  customers by name, apart from the messages (``name_terms``: each word of the name and its prefixes, so a
  name is found as it is typed); a customer with no name, merged into another, or erased has no document;
- ``purge()``: what was removed or replaced leaves the engine's own storage too, not only its answers (the indexer
  calls it after a batch that removed something: an erase, an expiry, an unsent message; or indexed a document again
  over other words: the masking scan, an edit, a rename). SQLite: the deleted rows' bytes, FTS5's
  segments and the write-ahead log (``shopdesk.search.sqlite``). OpenSearch Serverless offers no operation for it
  (``shopdesk.search.opensearch``): removed documents stay in its segments, unsearchable, until it merges them.

The back-ends are ``shopdesk.search.opensearch`` (OpenSearch Serverless, in AWS) and
``shopdesk.search.sqlite`` (SQLite FTS5 in a file, for the local stack). Both index and query the terms
``shopdesk.search.text`` makes, so they answer the same cases the same way (``tests/unit/test_search_backends.py``
runs one set of cases on both). ``search_for(settings)`` chooses one from settings once per cold start;
handlers and use cases never import a back-end.

Who may see a hit is not the engine's business: the use case (``shopdesk.logic.search``) reads the
conversations of the hits and keeps only those the caller may see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from shopdesk.clock import Instant
from shopdesk.errors import ShopdeskError

if TYPE_CHECKING:
    from shopdesk.config import SearchSettings


@dataclass(frozen=True)
class SearchDoc:
    """One message as the index holds it: its analysed terms, not its text."""

    conversation_id: str
    message_id: str
    created_at: Instant
    terms: str                    # shopdesk.search.text.index_terms, space-separated
    language: str | None = None
    direction: str | None = None


@dataclass(frozen=True)
class SearchFilters:
    """Narrow a query: messages of these conversations only, or written since a time."""

    conversation_ids: tuple[str, ...] = ()
    since: Instant | None = None


@dataclass(frozen=True)
class SearchHit:
    conversation_id: str
    message_id: str               # the best matching message of the conversation
    score: float                  # higher is better; only the order means something


class SearchUnavailable(ShopdeskError):
    """The engine could not answer (down, throttled, misconfigured): the API answers 503."""


class SearchIndex(Protocol):
    def index(self, doc: SearchDoc) -> None: ...

    def remove(self, conversation_id: str, message_id: str | None = None) -> None: ...

    def query(self, text: str, filters: SearchFilters | None = None, limit: int = 20) -> list[SearchHit]: ...

    def index_customer(self, customer_id: str, terms: str) -> None: ...

    def remove_customer(self, customer_id: str) -> None: ...

    def query_customers(self, text: str, limit: int = 5) -> list[str]: ...

    def purge(self) -> None: ...


def search_for(settings: SearchSettings) -> SearchIndex | None:
    """The configured back-end, or None when full-text search is off (``SEARCH_ENGINE=none``)."""
    if settings.engine == "sqlite":
        from shopdesk.search.sqlite import SqliteIndex

        return SqliteIndex(settings.index_path)
    if settings.engine == "opensearch":
        from shopdesk.search.opensearch import OpenSearchIndex

        return OpenSearchIndex.connect(settings.endpoint, settings.index_name, settings.region)
    return None
