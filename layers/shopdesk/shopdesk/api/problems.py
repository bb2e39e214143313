"""Domain errors as HTTP answers, in one place for the agent and admin APIs."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from shopdesk.api.agent import validation_problem
from shopdesk.errors import BadRequest, Conflict, NotFound, ShopdeskError

STATUS: dict[type[Exception], int] = {NotFound: 404, Conflict: 409, BadRequest: 400, PermissionError: 403}


def install(app: APIGatewayHttpResolver, extra: dict[type[ShopdeskError], int] | None = None) -> None:
    """422 with what is wrong for invalid requests; the domain's errors with their status and message."""

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response:
        return Response(422, content_types.APPLICATION_JSON, validation_problem(exc.errors()))

    for error, status in {**STATUS, **(extra or {})}.items():
        app.exception_handler(error)(_answer(status))


def _answer(status: int):  # type: ignore[no-untyped-def]
    def handle(exc: Exception) -> Response:
        return Response(status, content_types.APPLICATION_JSON, {"message": str(exc)})
    return handle
