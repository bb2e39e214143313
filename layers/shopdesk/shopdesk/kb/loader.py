"""The index as a container holds it: built from the table on first use, rebuilt only when the knowledge
base's revision moved (checked at most every ``refresh_seconds``, one GetItem), never per message."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np
from aws_lambda_powertools import Logger

from shopdesk.dal.kb import KnowledgeBase
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

    def get(self) -> KbIndex:
        now = time.monotonic()
        if self._index is not None and now - self._checked < self.refresh_seconds:
            return self._index
        with self._lock:
            revision = self.store.revision()
            self._checked = time.monotonic()
            if self._index is None or self._index.revision != revision:
                self._index = self._build(revision)
            return self._index

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
