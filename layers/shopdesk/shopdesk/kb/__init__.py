"""The knowledge base: articles with translations linked, versions, published or retired, and the hybrid
index the bot and agent assist search (``index.py``: BM25 over stemmed, folded terms + multilingual
sentence embeddings from the ``embedder.py`` port). ``articles.py`` writes them (admin API, bulk import),
computing each article's vector when it changes, never per request."""

from __future__ import annotations

import hashlib
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shopdesk.clock import Instant

ArticleId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="letters, digits, _ and -")]
LanguageCode = Annotated[str, Field(pattern=r"^[a-z]{2}$", description="ISO 639-1, e.g. en, es, pt, de, tr, id, sk")]
Status = Literal["draft", "published", "retired"]   # only published articles are answered with
CONTENT_FIELDS = ("title", "body", "language", "tags", "url", "translation_of")   # what an author writes


class ArticleContent(BaseModel):
    """What an author writes: the body is the answer the bot sends, so it should read as one."""

    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, Field(min_length=1, max_length=200)]
    body: Annotated[str, Field(min_length=1, max_length=10_000)]
    language: LanguageCode
    tags: Annotated[list[Annotated[str, Field(min_length=1, max_length=60)]], Field(max_length=20)] = []
    url: Annotated[str | None, Field(pattern=r"^https?://\S+$", max_length=2000)] = None
    translation_of: ArticleId | None = None     # the original this one translates (one level: no chains)

    @field_validator("title", "body")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()            # (pydantic refuses lone surrogates itself: 422 string_unicode)


class ImportLine(ArticleContent):
    """One line of a JSON Lines import: an article with its id."""

    id: ArticleId


class ArticleDraft(ArticleContent):
    """The draft a published article's editors work on, kept beside the live version until it is published (it
    replaces the live one) or discarded: the bot, agent assist and the index never read it."""

    model_config = ConfigDict(extra="ignore")

    version: Annotated[int, Field(ge=1)]
    updated_at: Instant | None = None
    updated_by: str | None = None
    source_version: int | None = None
    source_digest: str | None = None


class Article(ArticleContent):
    model_config = ConfigDict(extra="ignore")

    id: ArticleId
    status: Status = "published"
    version: Annotated[int, Field(ge=1)] = 1
    updated_at: Instant | None = None
    updated_by: str | None = None
    draft: Annotated[ArticleDraft | None, Field(description="a published article's draft, not answered with until "
                                                "it is published; edit and save over its version")] = None
    source_version: Annotated[int | None, Field(description="a translation: the original's version when it was "
                                                "written")] = None
    source_digest: Annotated[str | None, Field(description="a translation: what the original said (title and "
                                               "body, hashed) when it was written")] = None
    outdated: Annotated[bool, Field(description="a translation whose original's live title or body changed after "
                                    "it was written (listings only; it is still answered with)")] = False
    answering: Annotated[bool, Field(description="the bot and agent assist use it: published, and so is its "
                                     "original (listings only)")] = False

    @property
    def original(self) -> str:
        """The id its translations share: the original's."""
        return self.translation_of or self.id

    @property
    def head(self) -> int:
        """The version an edit saves over: the draft's when it has one."""
        return self.draft.version if self.draft is not None else self.version


def content_digest(article: ArticleContent) -> str:
    """What a translation translates (the original's title and body), hashed: a translation written from other
    words than the original's live ones is out of date."""
    return hashlib.sha256(f"{article.title}\n{article.body}".encode()).hexdigest()[:16]
