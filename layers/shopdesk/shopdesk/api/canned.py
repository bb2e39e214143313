"""Canned responses and personalised text over HTTP: models and the 422 answers of rendering."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from pydantic import BaseModel

from shopdesk.api import problems
from shopdesk.api.problems import FieldError, ValidationProblem
from shopdesk.clock import Instant
from shopdesk.logic.canned import chosen_body
from shopdesk.logic.render import VARIABLES, MissingVariables, TemplateInvalid
from shopdesk.models.canned import CannedFile, CannedResponse, Scope


class CannedOut(BaseModel):
    id: str
    scope: Scope
    title: str
    shortcode: str
    bodies: dict[str, str]
    attachments: list[CannedFile] = []  # sent with every reply that uses it
    uses: int                           # replies sent with it
    last_used_at: Instant | None = None
    updated_at: Instant | None = None
    updated_by: str | None = None
    version: int = 0                    # send it back as ?version=N to save only over this version
    language: str | None = None         # found for a conversation: the body a reply there uses (its key in bodies)

    @classmethod
    def of(cls, response: CannedResponse, languages: tuple[str | None, str] | None = None) -> CannedOut:
        """With ``languages`` (the customer's, the shop's default) the ``language`` a reply would use."""
        out = cls.model_validate(response.model_dump(include=set(cls.model_fields)))
        if languages is not None:
            out.language = chosen_body(response, *languages)[0]
        return out


class CannedList(BaseModel):
    items: list[CannedOut]

    @classmethod
    def of(cls, responses: list[CannedResponse], languages: tuple[str | None, str] | None = None) -> CannedList:
        return cls(items=[CannedOut.of(r, languages) for r in responses])


class TemplateProblem(ValidationProblem):
    """422: the text cannot be sent as it is: an RFC 9457 problem like every other 422 (``errors`` names the field),
    with ``code`` and, for variables with no value and no fallback, ``missing``."""

    message: str                         # the same words as detail (kept for clients reading message)
    code: str                            # "missing_variables" or "invalid_template"
    missing: list[str] = []
    variables: list[str] = list(VARIABLES)

    @classmethod
    def of(cls, exc: TemplateInvalid) -> TemplateProblem:
        code = "missing_variables" if isinstance(exc, MissingVariables) else "invalid_template"
        errors = [FieldError(loc=["body"], msg=str(exc), type=code)]
        if isinstance(exc, MissingVariables):
            return cls(type="/problems/missing-variables", title="Variables without a value", status=422,
                       detail=str(exc), errors=errors, message=str(exc), code=code, missing=exc.names)
        return cls(type="/problems/invalid-template", title="Not a valid template", status=422, detail=str(exc),
                   errors=errors, message=str(exc), code=code)


def documented(status: int, model: type[BaseModel] | None, description: str, *others: int,
               renders: bool = False) -> dict[int, Any]:
    """The route's answers for the OpenAPI document (``problems.responses``): its own status (its body the
    route's return annotation; none for ``model=None``), each of ``others`` as a problem, and 422, which for a
    route that renders text also names the template problems (``TemplateProblem``: a ValidationProblem too)."""
    answers = problems.responses(status, *(o for o in others if o != 422), description=description,
                                 ok_content=None if model else {})
    if renders:
        answers[422]["description"] = ("The request does not match the schema, or the text cannot be sent as it "
                                       "is: variables without a value (named in `missing`, `code` "
                                       "missing_variables), an unknown variable or filter, a syntax error "
                                       "(`code` invalid_template)")
    return answers


def install_render_errors(app: APIGatewayHttpResolver) -> None:
    """422 naming every missing variable (never a blank in front of the customer); 422 in words for a
    syntax error, an unknown variable or too long a text."""

    @app.exception_handler(TemplateInvalid)
    def _invalid(exc: TemplateInvalid) -> Response:
        return Response(422, problems.PROBLEM_JSON, TemplateProblem.of(exc).model_dump_json())
