"""The knowledge base and the bot over HTTP: response models, the import's 422, and agent assist's answer."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from pydantic import BaseModel, Field

from shopdesk.api import problems
from shopdesk.api.problems import FieldError, ValidationProblem
from shopdesk.bot import BotSettings
from shopdesk.bot.decide import Decision
from shopdesk.kb import Article, ArticleId
from shopdesk.kb.articles import ImportRefused, ImportReport

IMPORT_TYPES = ("application/x-ndjson", "application/jsonl", "application/json-lines", "text/markdown",
                "text/x-markdown")


class ArticleList(BaseModel):
    items: list[Article]


class ImportOut(BaseModel):
    created: list[str]
    updated: list[str]
    unchanged: list[str]

    @classmethod
    def of(cls, report: ImportReport) -> ImportOut:
        return cls(created=report.created, updated=report.updated, unchanged=report.unchanged)


class BotOut(BotSettings):
    version: Annotated[int, Field(ge=0, description="0 until first changed; send it back as ?version=N to change "
                                                    "the settings only if nobody changed them meanwhile")]


class AssistRequest(BaseModel):
    text: Annotated[str, Field(min_length=1, max_length=4000)]
    with_article: Annotated[ArticleId | None, Field(description="answer as if this article (a draft or a retired "
                                                    "one) were published: admins, to try it before publishing")] = None


class AssistArticle(BaseModel):
    article_id: str
    title: str
    text: str
    language: str
    confidence: float
    url: str | None = None


class AssistAnswer(BaseModel):
    """What the bot would do with this message (nothing is sent): ``answer`` is the article it would send, or
    null when it would hand over (``handoff_reason``). ``articles``: the best few, for an agent to insert."""

    language: str
    sentiment: str
    urgent: bool
    intent: str | None
    handoff_reason: str | None
    answer: AssistArticle | None
    articles: list[AssistArticle] = []

    @classmethod
    def of(cls, decision: Decision) -> AssistAnswer:
        u = decision.understanding
        answer = None
        if decision.action == "answer" and decision.article is not None and decision.hit is not None:
            answer = AssistArticle(article_id=decision.article.id, title=decision.article.title,
                                   text=decision.text or decision.article.body, language=decision.article.language,
                                   confidence=decision.hit.confidence, url=decision.article.url)
        articles = []
        for hit in decision.alternatives:
            shown = hit.in_language(decision.language) or hit.original
            articles.append(AssistArticle(article_id=shown.id, title=shown.title, text=shown.body,
                                          language=shown.language, confidence=hit.confidence, url=shown.url))
        reason = decision.handoff_reason if decision.action == "handoff" else None
        return cls(language=decision.language, sentiment=u.sentiment, urgent=u.urgent, intent=decision.intent,
                   handoff_reason=reason, answer=answer, articles=articles)


class AssistOut(BaseModel):
    """The suggestion for the conversation's latest customer messages; null when the customer has not written
    since the last answer."""

    suggestion: AssistAnswer | None


class ImportProblem(ValidationProblem):
    """422: lines that are not valid articles (``errors[].loc`` is ``["body", line number]``); nothing was written."""


def install_import_errors(app: APIGatewayHttpResolver) -> None:
    @app.exception_handler(ImportRefused)
    def _refused(exc: ImportRefused) -> Response:
        errors = [FieldError(loc=["body", p.line] + ([p.id] if p.id else []), msg=p.error, type="invalid_article")
                  for p in exc.problems]
        body = ImportProblem(type=problems.INVALID_REQUEST.type, title=problems.INVALID_REQUEST.title, status=422,
                             detail=str(exc), errors=errors)
        return Response(422, problems.PROBLEM_JSON, body.model_dump_json())
