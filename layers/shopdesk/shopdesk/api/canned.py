"""Canned responses and personalised text over HTTP: models and the 422 answers of rendering."""

from __future__ import annotations

from datetime import datetime

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
    """422: the text cannot be sent as it is. ``missing`` names the variables with no value and no fallback."""

    message: str
    code: str                            # "missing_variables" or "invalid_template"
    missing: list[str] = []
    variables: list[str] = list(VARIABLES)


def install_render_errors(app: APIGatewayHttpResolver) -> None:
    """422 naming every missing variable (never a blank in front of the customer); 422 in words for a
    syntax error, an unknown variable or too long a text."""

    @app.exception_handler(MissingVariables)
    def _missing(exc: MissingVariables) -> Response:
        body = TemplateProblem(message=str(exc), code="missing_variables", missing=exc.names)
        return Response(422, content_types.APPLICATION_JSON, body.model_dump())

    @app.exception_handler(TemplateInvalid)
    def _invalid(exc: TemplateInvalid) -> Response:
        return Response(422, content_types.APPLICATION_JSON,
                        TemplateProblem(message=str(exc), code="invalid_template").model_dump())
