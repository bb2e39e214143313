"""The hybrid index over published articles: what the bot and agent assist search. A translation is searched only
while its original is published too (``answering``); the others of a group (drafts, retired articles) are kept
aside so the bot can say a language's article exists but is not published (``Hit.withheld``).

A message is scored against every article *group* (an original and its translations: they answer the same
question), and the best group's scores are blended into one confidence:

- **Dense**: the multilingual embeddings (``embedder.py``) of the message and of each article's sentences
  (``passages``: every sentence under its article's title), so a short question meets the one sentence that
  answers it, and a Slovak question finds an English article or its Slovak translation. Embeddings of a
  language sit close together whatever they say, so a question would otherwise prefer any article of its own
  language: every vector has its language's mean (over the knowledge base's passages) taken away before the
  cosine. The message's language is the one understanding detected, else the language whose mean is nearest.
  A group's dense score is the best cosine over the passages of all its members, so every translation's
  embeddings count, plus a share (``Tuning.context_weight``) of the mean cosine over all those passages: one
  sentence that happens to share a word with the question ("the money goes back" for "what's your return
  policy?") counts for less when the rest of its article is about something else. The title alone is not a
  passage: a few words, it matched any question that shared one of them (a Portuguese "artigo errado" met
  "Devolver um artigo") with the highest confidence of all; each passage is a sentence under its title and
  tags, which say what the article is about.
- **Lexical (BM25)** over the terms of ``shopdesk.search.text``: each article's words stemmed with its own
  language's stemmer (Snowball; Slovak: ``search/slovak.py``) and folded; each message word as the set of its
  forms in every stemming language, scoring by the best of them. Hand-written (30 lines) because a message
  word has several forms and must count once; bm25s scores a flat token list and pulls in scipy.

Groups are ranked by their dense score (on the tuning split, adding the lexical score to the ranking lost
more right answers than it won; adding the group's mean passage cosine, with the tags in each passage, won:
top-1 0.772 -> 0.877). The confidence is the best group's dense score, plus a share of its lead over the
runner-up group (a question that fits two groups almost equally is not one to answer; the grid gives it 0 now),
plus a share of its lexical evidence. The weights and the threshold were chosen by a grid search on the tuning
split (``tests/bot_eval/tuning.jsonl``, ``python -m bench.bot --tune``), never on the evaluation set.

Built from the stored articles and their stored vectors (computed when an article is written), in
milliseconds for a few hundred articles: a container builds it once, and again only when the knowledge
base's revision changes.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from shopdesk.kb import Article
from shopdesk.kb.embedder import Embedder
from shopdesk.search import text as analysis

K1 = 1.2
B = 0.75
SHRINK = 10                 # passages' worth of global mean in each language's mean
MAX_PASSAGES = 40           # an article longer than this is found by its first 40 sentences and its words
PASSAGE_SCHEME = "sentences-3"    # what a vector row is (see passages); stored with the vectors


def vector_space(model: str) -> str:
    """The name stored with an article's vectors: the embedder's model and the passage scheme. Vectors of another
    space (another model, the title-first rows of scheme 1, the tagless sentences of scheme 2) are recomputed,
    never compared."""
    return f"{model}|{PASSAGE_SCHEME}"


@dataclass(frozen=True)
class Tuning:
    """The confidence's weights; the defaults are what ``python -m bench.bot --tune`` chose on the tuning split
    (with the group's mean in the dense score, the lead over the runner-up added no coverage at the goals'
    precision there, and a little lexical evidence did)."""

    lead_weight: float = 0.0      # share of the best group's lead over the runner-up (dense) added
    lexical_weight: float = 0.1   # share of the lexical evidence, s/(s+lexical_half), added
    lexical_half: float = 4.0     # the BM25 score that counts as half the lexical evidence
    context_weight: float = 0.75  # share of the group's mean passage cosine added to its best (ranks groups too)

    def confidence(self, dense: float, lead: float, lexical: float) -> float:
        """The best group's dense score, plus shares of its lead over the runner-up and of its lexical evidence."""
        value = (max(0.0, dense) + self.lead_weight * max(0.0, lead)
                 + self.lexical_weight * lexical / (lexical + self.lexical_half))
        return round(min(1.0, value), 4)


DEFAULT_TUNING = Tuning()


@dataclass(frozen=True)
class Indexed:
    article: Article
    vectors: np.ndarray           # one row per passage (title, then each sentence), unit length


@dataclass(frozen=True)
class Hit:
    group: str                    # the original's id
    articles: tuple[Article, ...]  # the group's published members
    confidence: float
    dense: float                  # the group's best (language-centred) cosine, plus a share of its mean
    lead: float                   # over the runner-up group
    lexical: float                # the group's best BM25 score
    withheld: tuple[Article, ...] = ()   # the group's articles the bot does not use (drafts, retired ones)

    def in_language(self, language: str | None) -> Article | None:
        return next((a for a in self.articles if a.language == language), None)

    def withheld_in(self, language: str | None) -> Article | None:
        """The group's article in ``language`` that exists but is not published."""
        return next((a for a in self.withheld if a.language == language), None)

    @property
    def original(self) -> Article:
        return next((a for a in self.articles if a.id == self.group), self.articles[0])


class KbIndex:
    def __init__(self, entries: Sequence[Indexed], embedder: Embedder, tuning: Tuning = DEFAULT_TUNING,
                 revision: int = 0):
        dims = {e.vectors.shape[1] for e in entries if e.vectors.size}
        dim = max(dims) if dims else 0
        # vectors of another model (or none yet) cannot be compared: such an article is found by its words only
        self.entries = answering(entries)
        kept = {id(e) for e in self.entries}
        self._withheld: dict[str, list[Article]] = {}
        for e in entries:             # the groups' other members: to say why there is no answer in a language
            if id(e) not in kept:
                self._withheld.setdefault(e.article.original, []).append(e.article)
        self.embedder = embedder
        self.tuning = tuning
        self.revision = revision
        self._terms = [Counter(_article_terms(e.article)) for e in self.entries]
        self._lengths = np.array([sum(t.values()) for t in self._terms], dtype=np.float32)
        self._avg = float(self._lengths.mean()) if len(self.entries) else 1.0
        self._df: Counter[str] = Counter()
        for terms in self._terms:
            self._df.update(terms.keys())
        rows, owners = [], []
        for i, entry in enumerate(self.entries):
            if entry.vectors.size and entry.vectors.shape[1] == dim:
                rows.append(entry.vectors)
                owners.extend([i] * entry.vectors.shape[0])
        self._owners = np.array(owners, dtype=np.int32)
        self._passage_counts = np.bincount(self._owners, minlength=len(self.entries)).astype(np.float32)
        raw = np.vstack(rows).astype(np.float32) if rows else np.zeros((0, dim), dtype=np.float32)
        languages = [self.entries[i].article.language for i in owners]
        self._global = raw.mean(axis=0) if len(raw) else np.zeros(dim, dtype=np.float32)
        # a language with few passages has a mean that is mostly what those few say: shrink it to the global mean
        self._means = {}
        for lang in sorted(set(languages)):
            rows_of = raw[[k for k, lg in enumerate(languages) if lg == lang]]
            n = len(rows_of)
            self._means[lang] = (rows_of.sum(axis=0) + SHRINK * self._global) / (n + SHRINK)
        self._matrix = _unit_rows(np.vstack([raw[k] - self._means[languages[k]] for k in range(len(raw))])
                                  if len(raw) else raw)
        names = sorted(self._means)
        self._language_names = names
        self._language_matrix = _unit_rows(np.vstack([self._means[n] for n in names])) if names else raw
        self._groups: dict[str, list[int]] = {}
        for i, entry in enumerate(self.entries):
            self._groups.setdefault(entry.article.original, []).append(i)

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def languages(self) -> list[str]:
        return sorted({e.article.language for e in self.entries})

    def _idf(self, term: str) -> float:
        n = self._df.get(term, 0)
        return math.log(1 + (len(self.entries) - n + 0.5) / (n + 0.5)) if n else 0.0

    def lexical(self, text: str) -> np.ndarray:
        """BM25 of the message against every article: each message word once, by its best form."""
        scores = np.zeros(len(self.entries), dtype=np.float32)
        norms = K1 * (1 - B + B * self._lengths / self._avg)
        for forms in analysis.query_terms(text):
            best = np.zeros(len(self.entries), dtype=np.float32)
            for form in forms:
                idf = self._idf(form)
                if not idf:
                    continue
                tf = np.array([t.get(form, 0) for t in self._terms], dtype=np.float32)
                best = np.maximum(best, idf * tf * (K1 + 1) / (tf + norms))
            scores += best
        return scores

    def _cosines(self, text: str, language: str | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per article, with the message (language means taken away): the best passage cosine, the sum of its
        passages' cosines and their number."""
        best = np.full(len(self.entries), -1.0, dtype=np.float32)
        total = np.zeros(len(self.entries), dtype=np.float32)
        count = self._passage_counts
        if not len(self._matrix):
            return best, total, count
        query = self.embedder.query(text)
        if query.shape[0] != self._matrix.shape[1]:
            return best, total, count
        mean = self._means.get(language or "")
        if mean is None:          # not said, or a language the knowledge base has no article in
            nearest = self._language_names[int(np.argmax(self._language_matrix @ query))]
            mean = self._means.get(nearest, self._global) if language is None else self._global
        centred = query - mean
        norm = float(np.linalg.norm(centred))
        cosines = self._matrix @ (centred / norm if norm else centred)
        np.maximum.at(best, self._owners, cosines)
        np.add.at(total, self._owners, cosines)
        return best, total, count

    def search(self, text: str, language: str | None = None, limit: int = 3) -> list[Hit]:
        """The best article groups for a message, most confident first."""
        if not self.entries or not text.strip():
            return []
        (best, total, count), lexical = self._cosines(text, language), self.lexical(text)
        t = self.tuning
        scored = []
        for group, members in self._groups.items():
            passages_of = float(sum(count[i] for i in members))
            mean = float(sum(total[i] for i in members)) / passages_of if passages_of else 0.0
            dense = float(max(best[i] for i in members)) + t.context_weight * mean
            scored.append((dense, float(max(lexical[i] for i in members)), group))
        scored.sort(key=lambda s: (-s[0], s[2]))
        hits = []
        for rank, (d, lx, group) in enumerate(scored[:limit]):
            others = scored[:rank] + scored[rank + 1:]
            lead = d - max((o[0] for o in others), default=0.0)
            hits.append(Hit(group=group, articles=tuple(self.entries[i].article for i in self._groups[group]),
                            confidence=t.confidence(d, lead, lx), dense=round(d, 4), lead=round(lead, 4),
                            lexical=round(lx, 4), withheld=tuple(self._withheld.get(group, ()))))
        return hits


def answering(entries: Sequence[Indexed]) -> list[Indexed]:
    """The entries the bot answers with: published, and for a translation, its original published too (retiring an
    original, or never publishing it, takes its translations out of the answers with it)."""
    published = {e.article.id for e in entries if e.article.status == "published"}
    return [e for e in entries if e.article.id in published
            and (e.article.translation_of is None or e.article.translation_of in published)]


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    if not len(matrix):
        return matrix
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)


def _article_terms(article: Article) -> list[str]:
    """Title and tags weigh twice: they say what the article is about."""
    head = " ".join([article.title, *article.tags])
    return (analysis.index_terms(head, article.language) * 2) + analysis.index_terms(article.body, article.language)


_SENTENCE = re.compile(r"(?<=[.!?;])\s+")


def passages(article: Article) -> list[str]:
    """What an article's vectors are computed from: each sentence under its title and tags (``PASSAGE_SCHEME``)."""
    head = f"{article.title} ({', '.join(article.tags)})" if article.tags else article.title
    sentences = [s.strip() for s in _SENTENCE.split(article.body) if s.strip()]
    return [f"{head}: {s}" for s in sentences][:MAX_PASSAGES] or [head]
