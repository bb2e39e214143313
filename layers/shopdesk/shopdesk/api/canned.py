"""Canned responses and personalised text over HTTP: models and the 422 answers of rendering."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from pydantic import BaseModel

from shopdesk.logic.render import VARIABLES, MissingVariables, TemplateInvalid
from shopdesk.models.canned import CannedResponse, Scope


class CannedOut(BaseModel):
    id: str
    scope: Scope
    title: str
    shortcode: str
    bodies: dict[str, str]
    uses: int                           # replies sent with it
    last_used_at: datetime | None = None
    updated_at: datetime | None = None
    updated_by: str | None = None

    @classmethod
    def of(cls, response: CannedResponse) -> CannedOut:
        return cls.model_validate(response.model_dump(include=set(cls.model_fields)))


class CannedList(BaseModel):
    items: list[CannedOut]

    @classmethod
    def of(cls, responses: list[CannedResponse]) -> CannedList:
        return cls(items=[CannedOut.of(r) for r in responses])


class TemplateProblem(BaseModel):
    """422: the text cannot be sent as it is. ``missing`` names the variables with no value and no fallback.
    Shaped as an RFC 9457 problem (``type``, ``title``, ``status``, ``detail``) besides ``message`` and ``code``."""

    type: str                            # /problems/missing-variables or /problems/invalid-template
    title: str
    status: int = 422
    detail: str
    message: str                         # the same words as detail, as the other answers of this API say them
    code: str                            # "missing_variables" or "invalid_template"
    missing: list[str] = []
    variables: list[str] = list(VARIABLES)

    @classmethod
    def of(cls, exc: TemplateInvalid) -> TemplateProblem:
        if isinstance(exc, MissingVariables):
            return cls(type="/problems/missing-variables", title="Variables without a value", detail=str(exc),
                       message=str(exc), code="missing_variables", missing=exc.names)
        return cls(type="/problems/invalid-template", title="Not a valid template", detail=str(exc),
                   message=str(exc), code="invalid_template")


def documented(status: int, model: type[BaseModel] | None, description: str, *others: int,
               renders: bool = False) -> dict[int, Any]:
    """The route's answers for the OpenAPI document: its own status (with ``model``), 422 with the template
    problem when it renders text, and the other statuses it may answer."""
    answers: dict[int, Any] = {status: {"description": description,
                                        "content": {"application/json": {"model": model}} if model else {}}}
    if renders:
        answers[422] = {"description": "The text cannot be sent as it is: variables without a value (named in "
                                       "`missing`), an unknown variable or filter, a syntax error; or the "
                                       "request does not match the schema",
                        "content": {"application/json": {"model": TemplateProblem}}}
    for other in others:
        answers.setdefault(other, {"description": _WORDS[other], "content": {"application/json": {"model": Refusal}}})
    return answers


class Refusal(BaseModel):
    """A refusal in words (403, 404; 422 for a request that does not match the schema also has ``detail``)."""

    message: str


_WORDS = {400: "Not understood", 403: "The caller may not do this",
          404: "No such conversation or canned response (or none the caller may see)",
          422: "The request does not match the schema"}


def install_render_errors(app: APIGatewayHttpResolver) -> None:
    """422 naming every missing variable (never a blank in front of the customer); 422 in words for a
    syntax error, an unknown variable or too long a text."""

    @app.exception_handler(TemplateInvalid)
    def _invalid(exc: TemplateInvalid) -> Response:
        return Response(422, content_types.APPLICATION_JSON, TemplateProblem.of(exc).model_dump())
