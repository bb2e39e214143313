"""Writing the knowledge base: create or change an article (a new version each time), as a draft or published;
publish a draft, retire an article, import many.

Admins write; supervisors and admins read (``shopdesk.logic.access``). An article's vectors are computed
here, when it is written, from its title and sentences (``index.passages``) with the configured embedder:
never per request. A translation names its original in ``translation_of``; an original has no
``translation_of``, a translation is never the original of another (one level), and a group has at most one
published article per language, so the bot always knows which one to send.

Import (``POST /admin/kb/import``): JSON Lines of ``{id, title, body, language, tags?, url?, translation_of?}``,
or Markdown files with YAML-like front matter (``---`` / ``key: value`` lines / ``---``, then the body). Every
line is checked before anything is written; a file with any bad line is refused whole, naming each one.
Originals are written before their translations; an article whose content did not change keeps its version.

A draft (``PUT ...?draft=true``) is stored, versioned and embedded like any article but neither the bot nor agent
assist use it until it is published (``POST .../publish``: a new version, same content, vectors kept). A published
article saved as a draft stays live as it was: the draft is kept beside it (``draft``, with its own version and
vectors), the editor shows and saves the draft, publishing makes it the live version, and ``DELETE .../draft``
discards it (a new version, the live content: versions only grow). Every write names the version it edits
(``head``: the draft's when there is one) and is refused when another was saved since.

A translation remembers the original's version and words (hashed) it was written from; the list marks it
``outdated`` once the original's live title or body changed since. The bot still answers with it (a translation
slightly behind its original is usually still right, and better than an answer in another language or a wait
for a person); the page shows it so an admin updates it, or retires it when a fact in it is now wrong. A
translation answers only while its original is published: retiring an original (or an original never
published) takes its whole group out of the answers, which ``answering`` says in the list.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from pydantic import ValidationError

from shopdesk import bounds, clock
from shopdesk.dal.config import ConfigStore
from shopdesk.dal.kb import KnowledgeBase, StoredArticle
from shopdesk.errors import BadRequest, Conflict, NotFound, version_conflict
from shopdesk.kb import CONTENT_FIELDS, Article, ArticleContent, ArticleDraft, ImportLine, Status, content_digest
from shopdesk.kb.embedder import Embedder
from shopdesk.kb.index import passages, vector_space
from shopdesk.logic.access import ADMIN, SUPERVISOR, Caller, require
from shopdesk.models.admin import CUSTOMER_LANGUAGES
from shopdesk.privacy import audit
from shopdesk.privacy.settings import PrivacyPolicies

MAX_IMPORT_LINES = 50          # each article is embedded as it is written: an import fits one API call
_CONTENT = CONTENT_FIELDS


@dataclass
class ImportProblem:
    line: int
    id: str | None
    error: str


class ImportRefused(BadRequest):
    def __init__(self, problems: list[ImportProblem]):
        super().__init__(f"{len(problems)} line(s) of the import are not valid articles; nothing was written")
        self.problems = problems


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


@dataclass
class ArticleLibrary:
    store: KnowledgeBase
    embedder: Callable[[], Embedder]        # resolved on first write: reading the list loads no model
    privacy: PrivacyPolicies | None = None  # masking of title and body (without: read from the table)

    def __post_init__(self) -> None:
        if self.privacy is None:
            self.privacy = PrivacyPolicies(ConfigStore(self.store.table))

    def _masked(self, content: ArticleContent) -> ArticleContent:
        """The title and body as they are stored. The body is a public answer (the bot answers customers with it), so
        it is masked as a reply is (``PrivacyPolicies.masked_sent``: card numbers and the shop's patterns, an IBAN
        kept: an article on paying by bank transfer gives the shop's); the title, which agents read, as a note is
        (``PrivacyPolicies.masked``)."""
        if self.privacy is None:
            return content
        return content.model_copy(update={"title": self.privacy.masked(content.title)[0],
                                          "body": self.privacy.masked_sent(content.body)[0]})

    def list(self, caller: Caller, include_retired: bool = True) -> list[Article]:
        require(caller.roles, ADMIN, SUPERVISOR)
        found = [s.article for s in self.store.list()]
        by_id = {a.id: a for a in found}
        listed = []
        for a in found:
            original = by_id.get(a.translation_of) if a.translation_of else None
            outdated = bool(original is not None and a.source_digest is not None
                            and a.source_digest != content_digest(original))
            answering = a.status == "published" and (a.translation_of is None or (
                original is not None and original.status == "published"))
            listed.append(a.model_copy(update={"outdated": outdated, "answering": answering}))
        return sorted((a for a in listed if include_retired or a.status == "published"),
                      key=lambda a: (a.translation_of or a.id, a.translation_of is not None, a.language, a.id))

    def history(self, caller: Caller, article_id: str) -> list[Article]:
        require(caller.roles, ADMIN, SUPERVISOR)
        versions = self.store.history(article_id)
        if not versions:
            raise NotFound(f"article {article_id} does not exist")
        return versions

    def put(self, caller: Caller, article_id: str, content: ArticleContent, draft: bool = False,
            expected_version: int | None = None) -> Article:
        """A new version of the article; with ``expected_version`` (the version the admin edited: the draft's when
        it has one, 0 for a new article) only over that version: Conflict when someone else saved it since. A
        draft of a published article is kept beside its live version, which goes on answering."""
        require(caller.roles, ADMIN)
        content = self._masked(content)
        current = self.store.get(article_id)
        self._guard(article_id, current, expected_version)
        known = {s.article.id: s.article for s in self.store.list()}
        self._check_links(article_id, content, known)
        if draft and current is not None and current.article.status == "published":
            return _noted(current, self._write_draft(caller, content, current, known))
        return _noted(current, self._write(caller, article_id, content, current, "draft" if draft else "published",
                                           known))

    def publish(self, caller: Caller, article_id: str, expected_version: int | None = None) -> Article:
        """Put a draft (or a retired article) back into the answers, or make a published article's draft its live
        version: a new version with that content."""
        require(caller.roles, ADMIN)
        current = self.store.get(article_id)
        if current is None:
            raise NotFound(f"article {article_id} does not exist")
        self._guard(article_id, current, expected_version)
        draft = current.article.draft
        if current.article.status == "published" and draft is None:
            return current.article
        source = current.article if draft is None else draft
        content = ArticleContent.model_validate(source.model_dump(include=set(_CONTENT)))
        self._check_links(article_id, content, {s.article.id: s.article for s in self.store.list()})
        stamp = {"source_version": source.source_version, "source_digest": source.source_digest}
        before = current
        if draft is not None and current.draft_vectors is not None:
            current = StoredArticle(current.article, current.draft_vectors, current.draft_model)
        return _noted(before, self._write(caller, article_id, content, current, stamp=stamp))

    def discard_draft(self, caller: Caller, article_id: str, expected_version: int | None = None) -> Article:
        """Drop a published article's draft; the live version stays as it is (a new version with its content, so
        that versions only grow; the draft stays in the history)."""
        require(caller.roles, ADMIN)
        current = self.store.get(article_id)
        if current is None:
            raise NotFound(f"article {article_id} does not exist")
        if current.article.draft is None:
            raise NotFound(f"article {article_id} has no draft")
        self._guard(article_id, current, expected_version)
        return _noted(current, self._replace(caller, current, "published"))

    def retire(self, caller: Caller, article_id: str) -> Article:
        """Take an article out of the bot's and agents' answers (and, for an original, its translations with it);
        it stays listed, with its history. A draft it had is dropped with it (it stays in the history)."""
        require(caller.roles, ADMIN)
        current = self.store.get(article_id)
        if current is None:
            raise NotFound(f"article {article_id} does not exist")
        if current.article.status == "retired":
            return current.article
        return _noted(current, self._replace(caller, current, "retired"))

    def import_text(self, caller: Caller, text: str, content_type: str) -> ImportReport:
        require(caller.roles, ADMIN)
        lines = (parse_markdown(text) if "markdown" in content_type else parse_jsonl(text))
        existing = {s.article.id: s for s in self.store.list()}
        known = {i: s.article for i, s in existing.items()}
        problems: list[ImportProblem] = []
        for _, line in lines:
            if isinstance(line, ImportProblem):
                problems.append(line)
                continue
            known[line.id] = Article(id=line.id, **line.model_dump(include=set(_CONTENT)))
        for number, line in lines:
            if isinstance(line, ImportLine):
                try:
                    self._check_links(line.id, line, known)
                except BadRequest as exc:
                    problems.append(ImportProblem(number, line.id, str(exc)))
        ids = [line.id for _, line in lines if isinstance(line, ImportLine)]
        problems += [ImportProblem(n, line.id, "the id appears more than once in the file")
                     for n, line in lines if isinstance(line, ImportLine) and ids.count(line.id) > 1]
        if problems:
            raise ImportRefused(sorted(problems, key=lambda p: p.line))
        report = ImportReport()
        before: dict[str, object] = {}
        after: dict[str, object] = {}
        ordered = sorted((line for _, line in lines if isinstance(line, ImportLine)),
                         key=lambda line: line.translation_of is not None)
        for line in ordered:
            current = existing.get(line.id)
            content = self._masked(ArticleContent.model_validate(line.model_dump(include=set(_CONTENT))))
            if current is not None and _same(current.article, content) and current.article.status == "published":
                report.unchanged.append(line.id)
                known[line.id] = current.article
                continue
            known[line.id] = self._write(caller, line.id, content, current, known=known)
            before[line.id], after[line.id] = _audited(current.article if current else None), _audited(known[line.id])
            (report.updated if current else report.created).append(line.id)
        audit.note(before=before or None, after=after or None)      # by article id: what the import changed
        return report

    # ------------------------------------------------------------------ internals
    @staticmethod
    def _guard(article_id: str, current: StoredArticle | None, expected_version: int | None) -> None:
        now = current.article.head if current is not None else 0
        if expected_version is not None and expected_version != now:
            raise version_conflict("article", article_id, expected_version, now)

    def _replace(self, caller: Caller, current: StoredArticle, status: Status) -> Article:
        """The live content again as a new version with ``status``, without its draft."""
        article = current.article.model_copy(update={"status": status, "version": current.article.head + 1,
                                                     "draft": None, "updated_at": clock.now(),
                                                     "updated_by": caller.id})
        self.store.put(article, current.vectors, current.model, current.article.head)
        return article

    def _vectors(self, content: ArticleContent, reusable: list[tuple[ArticleContent, np.ndarray | None, str | None]]
                 ) -> tuple[np.ndarray, str]:
        """The passages' vectors of ``content``: those already computed for the same words, else computed now."""
        embedder = self.embedder()
        space = vector_space(embedder.model)
        for written, vectors, model in reusable:
            if _same(written, content) and vectors is not None and vectors.size and model == space:
                return vectors, model
        article = Article(id="x", **content.model_dump())
        return embedder.passages(passages(article)), space

    def _stamp(self, content: ArticleContent, known: dict[str, Article]) -> dict[str, object]:
        """A translation's source: the original's live version and words it is written from."""
        original = known.get(content.translation_of) if content.translation_of else None
        if original is None:
            return {"source_version": None, "source_digest": None}
        return {"source_version": original.version, "source_digest": content_digest(original)}

    def _write(self, caller: Caller, article_id: str, content: ArticleContent, current: StoredArticle | None,
               status: Status = "published", known: dict[str, Article] | None = None,
               stamp: dict[str, object] | None = None) -> Article:
        version = current.article.head + 1 if current else 1
        if stamp is None:
            stamp = self._stamp(content, known or {})
        article = Article(id=article_id, **content.model_dump(), status=status, version=version,
                          updated_at=clock.now(), updated_by=caller.id, **stamp)
        reusable = [] if current is None else [(current.article, current.vectors, current.model)]
        vectors, model = self._vectors(content, reusable)
        self.store.put(article, vectors, model, current.article.head if current else None)
        return article

    def _write_draft(self, caller: Caller, content: ArticleContent, current: StoredArticle,
                     known: dict[str, Article]) -> Article:
        """A draft beside a published article's live version, which is left as it is."""
        live = current.article
        draft = ArticleDraft(**content.model_dump(), version=live.head + 1, updated_at=clock.now(),
                             updated_by=caller.id, **self._stamp(content, known))
        reusable = [(live, current.vectors, current.model)]
        if live.draft is not None:
            reusable.insert(0, (live.draft, current.draft_vectors, current.draft_model))
        vectors, model = self._vectors(content, reusable)
        article = live.model_copy(update={"draft": draft})
        self.store.put(article, current.vectors, current.model, live.head, vectors, model)
        return article

    @staticmethod
    def _check_links(article_id: str, content: ArticleContent, known: dict[str, Article]) -> None:
        if content.language not in CUSTOMER_LANGUAGES:     # the bot answers only in a language it detects
            raise BadRequest(f"language {content.language!r} is not one the bot answers in: one of "
                             f"{', '.join(CUSTOMER_LANGUAGES)}")
        original_id = content.translation_of
        if original_id is None:
            clash = [a for a in known.values() if a.translation_of == article_id and a.language == content.language
                     and a.status == "published"]
            if clash:
                raise BadRequest(f"translation {clash[0].id} of {article_id} is already in {content.language}")
            return
        if original_id == article_id:
            raise BadRequest("an article cannot be a translation of itself")
        original = known.get(original_id)
        if original is None:
            raise BadRequest(f"translation_of names {original_id}, which does not exist")
        if original.translation_of is not None:
            raise BadRequest(f"{original_id} is itself a translation (of {original.translation_of}): name the original")
        if any(a.translation_of == article_id for a in known.values()):
            raise BadRequest(f"{article_id} has translations of its own: it cannot become a translation")
        same_language = [a.id for a in known.values() if a.id != article_id and a.status == "published"
                         and a.original == original_id and a.language == content.language]
        if same_language:
            raise Conflict(f"{original_id} already has a {content.language} version ({same_language[0]}); "
                           "change that one, or retire it first")


def _audited(article: Article | None) -> dict[str, object] | None:
    """What the audit trail keeps of an article: its settings and status, its body (and its draft's) as a
    fingerprint only (the words stay out of the trail, docs/security.md)."""
    if article is None:
        return None
    draft = article.draft
    return {"title": article.title, "language": article.language, "status": article.status,
            "version": article.version, "tags": list(article.tags), "url": article.url,
            "translation_of": article.translation_of, "body": audit.fingerprint(article.body),
            "draft": None if draft is None else {"version": draft.version, "title": draft.title,
                                                 "body": audit.fingerprint(draft.body)}}


def _noted(before: StoredArticle | None, after: Article) -> Article:
    """``after`` as written, its before and after noted for the audit record of the request."""
    audit.note(before=_audited(before.article if before else None), after=_audited(after))
    return after


def _same(article: Article, content: ArticleContent) -> bool:
    return article.model_dump(include=set(_CONTENT)) == content.model_dump(include=set(_CONTENT))


def parse_jsonl(text: str) -> list[tuple[int, ImportLine | ImportProblem]]:
    lines: list[tuple[int, ImportLine | ImportProblem]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        if len(lines) >= MAX_IMPORT_LINES:
            raise BadRequest(f"at most {MAX_IMPORT_LINES} articles per import")
        try:
            data = bounds.decode(raw, "the line")
        except json.JSONDecodeError as exc:
            lines.append((number, ImportProblem(number, None, f"not JSON: {exc.msg}")))
            continue
        except BadRequest as exc:       # nested too deeply, or a number too long, for the decoder to read
            lines.append((number, ImportProblem(number, None, str(exc))))
            continue
        lines.append((number, _line(number, data)))
    if not lines:
        raise BadRequest("the import holds no article")
    return lines


def parse_markdown(text: str) -> list[tuple[int, ImportLine | ImportProblem]]:
    """Markdown articles, each opened by front matter between ``---`` lines (``id``, ``title``, ``language``,
    ``tags`` as ``[a, b]`` or ``a, b``, ``url``, ``translation_of``); the text up to the next front matter is
    the body."""
    lines = text.splitlines()
    found: list[tuple[int, ImportLine | ImportProblem]] = []
    i = 0
    while i < len(lines):
        if lines[i].strip() != "---":
            i += 1
            continue
        start, meta = i + 1, {}
        i += 1
        while i < len(lines) and lines[i].strip() != "---":
            key, sep, value = lines[i].partition(":")
            if sep and key.strip():
                meta[key.strip()] = value.strip().strip('"').strip("'")
            i += 1
        i += 1
        body_start = i
        while i < len(lines) and not (lines[i].strip() == "---" and i + 1 < len(lines) and ":" in lines[i + 1]):
            i += 1
        tags = meta.get("tags", "").strip("[]")
        data = {**meta, "tags": [t.strip().strip('"') for t in tags.split(",") if t.strip()],
                "body": "\n".join(lines[body_start:i]).strip()}
        for optional in ("url", "translation_of"):
            if not data.get(optional):
                data.pop(optional, None)
        found.append((start, _line(start, data)))
    if not found:
        raise BadRequest("the import holds no article (each starts with front matter between --- lines)")
    return found


def _line(number: int, data: object) -> ImportLine | ImportProblem:
    try:
        return ImportLine.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "line"
        ident = data.get("id") if isinstance(data, dict) and isinstance(data.get("id"), str) else None
        return ImportProblem(number, ident, f"{where}: {first['msg']}")
