"""The index as a container holds it: built from the table on first use, rebuilt only when the knowledge
base's revision moved (checked at most every ``refresh_seconds``, one GetItem), never per message.

``get(latest=True)`` checks the revision now (one strongly consistent GetItem): for an admin trying an article
they have just published (``POST /agent/assist/answer``), who should not wait for the next check;
``with_article(id)`` is that index as it would be with one more article published (a draft, or a retired one),
built for that one request, so an admin can try an article before publishing it."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np
from aws_lambda_powertools import Logger

from shopdesk.dal.kb import KnowledgeBase
from shopdesk.errors import NotFound
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
        stored = self.store.get(article_id)
        if stored is None:
            raise NotFound(f"article {article_id} does not exist")
        base = self.get(latest=True)
        article = stored.article.model_copy(update={"status": "published"})
        vectors = stored.vectors
        if stored.model != vector_space(self.embedder.model) or not vectors.size:
            vectors = self.embedder.passages(passages(article))
        # as publishing would leave it: one article per language in its group, this one
        kept = [e for e in base.entries if e.article.id != article.id
                and not (e.article.original == article.original and e.article.language == article.language)]
        entries = [*kept, Indexed(article, np.asarray(vectors, dtype=np.float32))]
        return KbIndex(entries, self.embedder, self.tuning, base.revision)

    def _build(self, revision: int) -> KbIndex:
        started = time.monotonic()
        entries = []
        for stored in self.store.list():
            if stored.article.status != "published":
                continue
            vectors = stored.vectors
            if stored.model != vector_space(self.embedder.model) or not vectors.size:
                # written under another embedder or passage scheme: embed it here, once per container, until it is
                # written again
                vectors = self.embedder.passages(passages(stored.article))
            entries.append(Indexed(stored.article, np.asarray(vectors, dtype=np.float32)))
        index = KbIndex(entries, self.embedder, self.tuning, revision)
        logger.info("knowledge base index built", extra={"revision": revision, "articles": len(entries),
                                                          "ms": round((time.monotonic() - started) * 1000)})
        return index
