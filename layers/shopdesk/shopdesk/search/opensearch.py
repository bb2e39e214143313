"""The AWS back-end: an OpenSearch Serverless collection (type SEARCH), signed with SigV4 (service ``aoss``).

One index (``SEARCH_INDEX_NAME``, default ``messages``) with one document per message, its id the message id
(indexing twice replaces it). The analysed terms go to a ``text`` field with the ``whitespace`` analyzer:
stemming and folding are done in Python (``shopdesk.search.text``), the same as the SQLite back-end, so the
two answer the same cases and no engine-side language analyser is needed (OpenSearch has none for Slovak).

A query is a ``bool`` whose ``must`` holds, per query word, a ``terms`` query on its forms; the hits (at most
``FETCH_FACTOR`` times ``limit``, ≤ 200) are collapsed to conversations in Python, best score first. The client is
built once per cold start; the index is created on first use when missing.

Customers' names are a second index (``<index>-customers``, one document per customer, its id the customer's),
their terms in the same ``whitespace`` field; a name query is a ``bool`` whose ``must`` holds one ``terms`` query
per word (``name_query``).

A removed document is marked deleted in its Lucene segment and no query finds it, but its ``_source`` (the analysed
terms, ids, time, language) stays in the segment's files until a merge rewrites them. OpenSearch's
``POST <index>/_forcemerge?only_expunge_deletes=true`` would ask for that merge (it blocks until done, rewrites
only segments more than 10% deleted, and keeps what the soft-deletes retention lease still holds, 12 hours by
default); OpenSearch Serverless lists no
force merge among the operations a data access policy can grant, and merges on its own schedule, so ``purge``
asks nothing of it (docs/security.md, "Known limits").
"""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import urlsplit

from shopdesk import clock
from shopdesk.search import SearchDoc, SearchFilters, SearchHit, SearchUnavailable
from shopdesk.search.text import name_query, query_terms

FETCH_FACTOR = 5
MAX_FETCH = 200
CUSTOMER_MAPPINGS = {"properties": {"terms": {"type": "text", "analyzer": "whitespace"},
                                     "customer_id": {"type": "keyword"}}}
MAPPINGS = {
    "properties": {
        "terms": {"type": "text", "analyzer": "whitespace"},
        "conversation_id": {"type": "keyword"},
        "message_id": {"type": "keyword"},
        "created_at": {"type": "date"},
        "language": {"type": "keyword"},
        "direction": {"type": "keyword"},
    }
}


def search_body(text: str, filters: SearchFilters | None, size: int) -> dict[str, Any] | None:
    """The query DSL for ``text``; None for a text without words."""
    groups = query_terms(text)
    if not groups:
        return None
    filters = filters or SearchFilters()
    clauses: list[dict[str, Any]] = []
    if filters.conversation_ids:
        clauses.append({"terms": {"conversation_id": list(filters.conversation_ids)}})
    if filters.since is not None:
        clauses.append({"range": {"created_at": {"gte": clock.iso(filters.since)}}})
    return {
        "size": size,
        "_source": ["conversation_id", "message_id"],
        "query": {"bool": {"must": [{"terms": {"terms": forms}} for forms in groups], "filter": clauses}},
    }


class OpenSearchIndex:
    def __init__(self, client: Any, index_name: str) -> None:
        self.client = client
        self.index_name = index_name
        self.customer_index = f"{index_name}-customers"
        self._ready: set[str] = set()

    @classmethod
    def connect(cls, endpoint: str, index_name: str, region: str) -> OpenSearchIndex:
        """A SigV4-signed client for the collection endpoint (``https://<id>.<region>.aoss.amazonaws.com``)."""
        import boto3
        from opensearchpy import AWSV4SignerAuth, OpenSearch, RequestsHttpConnection

        url = urlsplit(endpoint)
        secure = url.scheme != "http"
        client = OpenSearch(
            hosts=[{"host": url.hostname, "port": url.port or (443 if secure else 80)}],
            http_auth=AWSV4SignerAuth(boto3.Session().get_credentials(), region, "aoss"),
            use_ssl=secure, verify_certs=secure, connection_class=RequestsHttpConnection,
            timeout=5, max_retries=2, retry_on_timeout=True,
        )
        return cls(client, index_name)

    def _ensure_index(self, name: str | None = None) -> None:
        name = name or self.index_name
        if name in self._ready:
            return
        from opensearchpy.exceptions import RequestError

        mappings = CUSTOMER_MAPPINGS if name == self.customer_index else MAPPINGS
        try:
            if not self.client.indices.exists(index=name):
                self.client.indices.create(index=name, body={"mappings": mappings})
        except RequestError as exc:          # created meanwhile by another instance
            if "resource_already_exists" not in str(exc):
                raise
        self._ready.add(name)

    def index(self, doc: SearchDoc) -> None:
        self._call(self._index, doc)

    def _index(self, doc: SearchDoc) -> None:
        self._ensure_index()
        self.client.index(index=self.index_name, id=doc.message_id, body={
            "terms": doc.terms, "conversation_id": doc.conversation_id, "message_id": doc.message_id,
            "created_at": clock.iso(doc.created_at), "language": doc.language, "direction": doc.direction})

    def remove(self, conversation_id: str, message_id: str | None = None) -> None:
        self._call(self._remove, conversation_id, message_id)

    def _remove(self, conversation_id: str, message_id: str | None) -> None:
        from opensearchpy.exceptions import NotFoundError

        self._ensure_index()
        try:
            if message_id:
                self.client.delete(index=self.index_name, id=message_id)
            else:
                self.client.delete_by_query(index=self.index_name,
                                            body={"query": {"term": {"conversation_id": conversation_id}}})
        except NotFoundError:
            pass                              # already gone: removing is idempotent

    def query(self, text: str, filters: SearchFilters | None = None, limit: int = 20) -> list[SearchHit]:
        body = search_body(text, filters, min(MAX_FETCH, max(1, limit) * FETCH_FACTOR))
        if body is None or limit < 1:
            return []
        answer = self._call(self._search, body)
        best: dict[str, SearchHit] = {}
        for hit in answer["hits"]["hits"]:
            source, score = hit["_source"], float(hit.get("_score") or 0.0)
            conversation = source["conversation_id"]
            if conversation not in best or score > best[conversation].score:
                best[conversation] = SearchHit(conversation, source["message_id"], score)
        ranked = sorted(best.values(), key=lambda h: (h.score, h.conversation_id), reverse=True)   # ties: newest
        return ranked[:limit]

    def _search(self, body: dict[str, Any]) -> dict[str, Any]:
        self._ensure_index()
        return self.client.search(index=self.index_name, body=body)

    def index_customer(self, customer_id: str, terms: str) -> None:
        self._call(self._index_customer, customer_id, terms)

    def _index_customer(self, customer_id: str, terms: str) -> None:
        self._ensure_index(self.customer_index)
        self.client.index(index=self.customer_index, id=customer_id, body={"terms": terms, "customer_id": customer_id})

    def remove_customer(self, customer_id: str) -> None:
        self._call(self._remove_customer, customer_id)

    def _remove_customer(self, customer_id: str) -> None:
        from opensearchpy.exceptions import NotFoundError

        self._ensure_index(self.customer_index)
        with contextlib.suppress(NotFoundError):          # already gone: removing is idempotent
            self.client.delete(index=self.customer_index, id=customer_id)

    def purge(self) -> None:
        """Nothing to ask: the collection merges its segments itself (the module's docstring)."""

    def query_customers(self, text: str, limit: int = 5) -> list[str]:
        terms = name_query(text)
        if not terms or limit < 1:
            return []
        body = {"size": limit, "_source": ["customer_id"],
                "query": {"bool": {"must": [{"terms": {"terms": [t]}} for t in terms], "filter": []}}}
        answer = self._call(self._search_customers, body)
        hits = sorted(answer["hits"]["hits"],
                      key=lambda h: (-float(h.get("_score") or 0.0), h["_source"]["customer_id"]))
        return [h["_source"]["customer_id"] for h in hits][:limit]

    def _search_customers(self, body: dict[str, Any]) -> dict[str, Any]:
        self._ensure_index(self.customer_index)
        return self.client.search(index=self.customer_index, body=body)

    def _call(self, operation: Any, *args: Any) -> Any:
        from opensearchpy.exceptions import OpenSearchException

        try:
            return operation(*args)
        except OpenSearchException as exc:
            raise SearchUnavailable(f"the search collection could not answer: {exc}") from exc
