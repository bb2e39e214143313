"""The index as a container holds it: built from the table on first use, rebuilt only when the knowledge
base's revision moved (checked at most every ``refresh_seconds``, one GetItem), never per message.

``get(latest=True)`` checks the revision now (one strongly consistent GetItem): for an admin trying an article
they have just published (``POST /agent/assist/answer``), who should not wait for the next check;
``with_article(id)`` is that index as it would be with one more article published (a draft, a published article's
draft, or a retired one), built from the articles the index was built from for that one request, so an admin can
try an article before publishing it."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np
from aws_lambda_powertools import Logger

from shopdesk.dal.kb import KnowledgeBase, StoredArticle
from shopdesk.errors import NotFound
from shopdesk.kb import CONTENT_FIELDS, Article
from shopdesk.kb.embedder import Embedder
from shopdesk.kb.index import DEFAULT_TUNING, Indexed, KbIndex, Tuning, passages, vector_space

logger = Logger(child=True)


@dataclass
class IndexCache:
    store: KnowledgeBase
    embedder: Embedder
    tuning: Tuning = DEFAULT_TUNING
    refresh_seconds: float = 30.0
    _index: KbIndex | None = None
    _stored: list[StoredArticle] = field(default_factory=list)     # what the index was built from
    _checked: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, latest: bool = False) -> KbIndex:
        now = time.monotonic()
        if self._index is not None and now - self._checked < self.refresh_seconds and not latest:
            return self._index
        with self._lock:
            revision = self.store.revision(consistent=latest)
            self._checked = time.monotonic()
            if self._index is None or self._index.revision != revision:
                self._index = self._build(revision)
            return self._index

    def with_article(self, article_id: str) -> KbIndex:
        """The index as publishing ``article_id`` would leave it: its draft (or itself, a draft or a retired one)
        live, one article per language in its group, and, for an original, its translations answering again."""
        chosen = self.store.get(article_id)
        if chosen is None:
            raise NotFound(f"article {article_id} does not exist")
        base = self.get(latest=True)
        stored = self._stored
        article, vectors, model = chosen.article, chosen.vectors, chosen.model
        if article.draft is not None:
            article = Article(id=article.id, **article.draft.model_dump(include=set(CONTENT_FIELDS)))
            vectors, model = chosen.draft_vectors if chosen.draft_vectors is not None else vectors, chosen.draft_model
        article = article.model_copy(update={"status": "published", "draft": None})
        kept = [s for s in stored if s.article.id != article.id
                and not (s.article.original == article.original and s.article.language == article.language
                         and s.article.status == "published")]
        entries = [*self._entries(kept), Indexed(article, self._vectors(article, vectors, model))]
        return KbIndex(entries, self.embedder, self.tuning, base.revision)

    def _vectors(self, article: Article, vectors: np.ndarray, model: str | None) -> np.ndarray:
        if model != vector_space(self.embedder.model) or not vectors.size:
            # written under another embedder or passage scheme: embed it here, once per container, until it is
            # written again
            vectors = self.embedder.passages(passages(article))
        return np.asarray(vectors, dtype=np.float32)

    def _entries(self, stored: list[StoredArticle]) -> list[Indexed]:
        """Published articles with their vectors, the others (a reason to give) without: the index keeps only
        those that answer (``index.answering``)."""
        empty = np.zeros((0, 0), dtype=np.float32)
        return [Indexed(s.article, self._vectors(s.article, s.vectors, s.model) if s.article.status == "published"
                        else empty) for s in stored]

    def _build(self, revision: int) -> KbIndex:
        started = time.monotonic()
        self._stored = self.store.list()
        entries = self._entries(self._stored)
        index = KbIndex(entries, self.embedder, self.tuning, revision)
        logger.info("knowledge base index built", extra={"revision": revision, "articles": len(index),
                                                          "ms": round((time.monotonic() - started) * 1000)})
        return index
