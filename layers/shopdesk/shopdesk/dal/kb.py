"""Knowledge-base articles in the table.

- ``KB#articles`` / ``ARTICLE#<id>``: the current version of every article (published or retired), with its
  passage vectors (float16 bytes) and the model that computed them. Listing the knowledge base, and loading
  the bot's index, is one Query of this partition (paged by 1 MB).
- ``KB#articles`` / ``REVISION``: a counter every write adds one to, in the same transaction: a container
  whose index was built at revision N rebuilds only when it reads another number (one GetItem).
- ``KB#article#<id>`` / ``V#<version, 6 digits>``: every version as it was written (text only), for history.

A published article's draft is kept in its item (``draft``, with its own vectors ``draft_vectors``/``draft_dim``/
``draft_model``) beside the live fields, which the index reads; ``head_version`` is the version an edit saves
over (the draft's when there is one) and what a write is conditional on.

A write is one TransactWriteItems: the current item (conditional on the version it replaces, or on none),
its version item, the revision.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from shopdesk import clock
from shopdesk.dal.table import Table, TransactionCancelled, Update, serialize
from shopdesk.errors import Conflict
from shopdesk.kb import Article

PK = "KB#articles"
PREFIX = "ARTICLE#"
REVISION = "REVISION"
_TEXT_FIELDS = ("id", "title", "body", "language", "tags", "url", "translation_of", "status", "version",
                "updated_at", "updated_by", "source_version", "source_digest")
_ITEM_FIELDS = (*_TEXT_FIELDS, "draft")
_LISTING_ONLY = {"outdated", "answering"}


@dataclass(frozen=True)
class StoredArticle:
    article: Article
    vectors: np.ndarray            # rows of float32 (empty when none were computed)
    model: str | None
    draft_vectors: np.ndarray | None = None     # the draft's, when the article has one
    draft_model: str | None = None


def _history_pk(article_id: str) -> str:
    return f"KB#article#{article_id}"


def _article(item: dict[str, Any]) -> Article:
    return Article.model_validate({k: item.get(k) for k in _ITEM_FIELDS if item.get(k) is not None})


def _stored(item: dict[str, Any]) -> StoredArticle:
    article = _article(item)
    if article.draft is None:
        return StoredArticle(article, _vectors(item), item.get("model"))
    return StoredArticle(article, _vectors(item), item.get("model"), _vectors(item, "draft_"), item.get("draft_model"))


def _vectors(item: dict[str, Any], prefix: str = "") -> np.ndarray:
    raw = item.get(f"{prefix}vectors")
    dim = int(item.get(f"{prefix}dim") or 0)
    if raw is None or not dim:
        return np.zeros((0, 0), dtype=np.float32)
    data = raw.value if hasattr(raw, "value") else bytes(raw)
    return np.frombuffer(data, dtype=np.float16).astype(np.float32).reshape(-1, dim)


class KnowledgeBase:
    def __init__(self, table: Table):
        self.table = table

    def get(self, article_id: str) -> StoredArticle | None:
        item = self.table.get(PK, PREFIX + article_id)
        return _stored(item) if item else None

    def list(self) -> list[StoredArticle]:
        """Every article, current versions, with vectors (one Query a page)."""
        items = self.table.query_all(index=None, key_condition="PK = :pk AND begins_with(SK, :a)", names={},
                                     values={":pk": PK, ":a": PREFIX}, consistent=True)
        return [_stored(i) for i in items]

    def revision(self, consistent: bool = False) -> int:
        item = self.table.get(PK, REVISION, consistent=consistent)
        return int(item.get("revision", 0)) if item else 0

    def history(self, article_id: str) -> list[Article]:
        items = self.table.query_all(index=None, key_condition="PK = :pk", names={},
                                     values={":pk": _history_pk(article_id)}, consistent=True)
        return [_article(i) for i in items]

    def put(self, article: Article, vectors: np.ndarray | None, model: str | None, expected_version: int | None,
            draft_vectors: np.ndarray | None = None, draft_model: str | None = None) -> None:
        """Write ``article`` (its head version, ``draft.version`` or ``version``, already the new one) over
        ``expected_version`` (the head it replaces; None: only if new); Conflict when someone else wrote it
        meanwhile. The version written (the draft, when the article has one) is added to its history."""
        item: dict[str, Any] = {"PK": PK, "SK": PREFIX + article.id, "type": "kb_article",
                                **article.model_dump(mode="json", exclude_none=True, exclude=_LISTING_ONLY),
                                "head_version": article.head}
        if vectors is not None and vectors.size:
            item.update(vectors=np.asarray(vectors, dtype=np.float16).tobytes(), dim=int(vectors.shape[1]),
                        model=model)
        if article.draft is not None and draft_vectors is not None and draft_vectors.size:
            item.update(draft_vectors=np.asarray(draft_vectors, dtype=np.float16).tobytes(),
                        draft_dim=int(draft_vectors.shape[1]), draft_model=draft_model)
        written = article if article.draft is None else Article(
            id=article.id, status="draft", **article.draft.model_dump())
        history = {"PK": _history_pk(article.id), "SK": f"V#{article.head:06d}", "type": "kb_version",
                   **written.model_dump(mode="json", exclude_none=True, exclude={*_LISTING_ONLY, "draft"})}
        # items written before drafts were kept beside the live version have no head_version: their version is it
        put = self.table.put_op(item, condition="attribute_not_exists(PK)" if expected_version is None
                                else "head_version = :v OR (attribute_not_exists(head_version) AND version = :v)")
        if expected_version is not None:
            put["Put"]["ExpressionAttributeValues"] = serialize({":v": expected_version})
        ops = [put,
               self.table.put_op(history, condition="attribute_not_exists(PK)"),
               self.table.update_op(PK, REVISION, Update().add("revision", 1).set("updated_at", clock.now_iso()))]
        try:
            self.table.transact(ops)
        except TransactionCancelled as exc:
            raise Conflict(f"article {article.id} changed meanwhile; reload it and write again") from exc
