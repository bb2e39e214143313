"""One problem model for every HTTP API (agent, admin, widget): RFC 9457 problem details.

Every refusal answers ``application/problem+json`` with ``{"type", "title", "status", "detail"}``: ``type`` names
the kind of problem (a URI reference, one per kind below), ``title`` is its short fixed summary, ``detail`` says in
words what went wrong this time (the domain error's message, fit to show to a person). A 422 adds ``errors``: each
invalid field with where it is (``loc``), what is wrong (``msg``) and pydantic's error type.

The domain's errors become problems in one place (:func:`install`); routes declare what they can answer with
:func:`responses`, so the OpenAPI document and the answers cannot drift apart.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import OpenAPIRequestValidationMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType, RequestValidationError
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError
from pydantic import BaseModel, Field

from shopdesk import bounds
from shopdesk.dal.media import media_type
from shopdesk.errors import BadRequest, Busy, Conflict, InvalidFields, NotFound, ShopdeskError

logger = Logger(child=True)

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "/problems/"


@dataclass(frozen=True)
class Kind:
    """A kind of problem: its status, the last segment of its ``type`` and its ``title``."""

    status: int
    name: str
    title: str
    description: str      # what the OpenAPI document says the status means

    @property
    def type(self) -> str:
        return TYPE_PREFIX + self.name


BAD_REQUEST = Kind(400, "bad-request", "Bad request", "The request is well-formed but cannot be understood "
                                                        "(a cursor that is not ours, an identity in a wrong form...)")
UNAUTHORIZED = Kind(401, "unauthorized", "Unauthorized", "No valid token")
FORBIDDEN = Kind(403, "forbidden", "Forbidden", "The caller may not do this")
# what a 403 of a route behind the agents' token also means (shopdesk.api.admission)
TAKEN_OFF = "; or an admin took the caller off the desk (code `deactivated`, on every route)"
NOT_FOUND = Kind(404, "not-found", "Not found", "No such resource (or none the caller may see)")
CONFLICT = Kind(409, "conflict", "Conflict", "The current state forbids it (changed meanwhile, at capacity, "
                                             "window closed...): read again and retry, or change course")
UNSUPPORTED_MEDIA_TYPE = Kind(415, "unsupported-media-type", "Unsupported media type",
                              "The body is not JSON (send Content-Type: application/json)")
INVALID_REQUEST = Kind(422, "invalid-request", "Invalid request", "The request does not match the schema")
RATE_LIMITED = Kind(429, "rate-limited", "Too many requests", "Too many requests: retry after Retry-After seconds")
# The order actions' own kinds (shopdesk.api.commerce): same statuses, their own type and title.
CONFIRMATION_REQUIRED = Kind(409, "confirmation-required", "Confirmation required",
                             "Not done yet: the body's preview shows what would happen; send again with confirm")
PLATFORM_REFUSED = Kind(422, "platform-refused", "Refused by the shop platform",
                        "The shop platform refused the action, or names line items the order lacks")
INTERNAL_ERROR = Kind(500, "internal-error", "Internal error", "A fault of ours; never documented as an answer")
UNAVAILABLE = Kind(503, "unavailable", "Service unavailable", "Busy for a moment: nothing was changed, retry")

KINDS: dict[int, Kind] = {k.status: k for k in (BAD_REQUEST, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, CONFLICT,
                                                 UNSUPPORTED_MEDIA_TYPE, INVALID_REQUEST, RATE_LIMITED, UNAVAILABLE)}

# What AWS answers (after the SDK's own retries) when the store is throttled or unavailable for a moment: a read
# that met it is a 503 ``store_busy``, as the other "busy for a moment, retry" answers, not a function error.
STORE_BUSY = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
                        "ServiceUnavailable", "InternalServerError",
                        # the same two as AWS's shared front end names them on the wire
                        # (com.amazon.coral.availability#ServiceUnavailableException, coral.service#InternalFailure)
                        "ServiceUnavailableException", "InternalFailure"})
# DynamoDB's item operations: a ClientError names its operation, not its service, and no other service the desk
# calls (Bedrock, S3, SQS, ...) has one of these names, so their refusals with the same codes stay function errors.
STORE_OPERATIONS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems", "PutItem", "UpdateItem",
                              "DeleteItem", "BatchWriteItem", "TransactWriteItems", "ExecuteStatement",
                              "BatchExecuteStatement", "ExecuteTransaction"})

# The domain's errors and the status each one answers (a function may add its own with ``install(extra=...)``).
STATUS: dict[type[Exception], int] = {NotFound: 404, Conflict: 409, BadRequest: 400, PermissionError: 403,
                                      Busy: 503}


class Problem(BaseModel):
    """An RFC 9457 problem: what kind of problem (``type``, ``title``) and what went wrong this time (``detail``)."""

    type: Annotated[str, Field(description="the kind of problem, a URI reference: /problems/<kind>",
                               json_schema_extra={"format": "uri-reference"})]
    title: Annotated[str, Field(description="the kind's short summary; the same for every problem of that kind")]
    status: Annotated[int, Field(ge=400, le=599, description="the HTTP status of the answer")]
    detail: Annotated[str, Field(description="what went wrong, in words to show to a person")]
    code: Annotated[str | None, Field(description=(
        "for refusals people meet often, a stable name of this one (opted_out, whatsapp_window_closed, no_capacity, "
        "...), so a client can say it in its own words and language; params holds its values"))] = None
    params: Annotated[dict[str, str] | None, Field(description="the values the code's words need")] = None


class FieldError(BaseModel):
    loc: Annotated[list[str | int], Field(description="where: body, query, path or header, then the field's path")]
    msg: Annotated[str, Field(description="what is wrong, in words")]
    type: Annotated[str, Field(description="pydantic's error type (string_too_short, missing, ...)")]


class ValidationProblem(Problem):
    """A 422: the problem, and each field that is wrong."""

    errors: list[FieldError]


class GatewayMessage(BaseModel):
    """API Gateway's own answer (its JWT authorizer's 401 ``{"message": "Unauthorized"}``); not a problem."""

    message: str


def problem(kind: Kind, detail: str, **extra: Any) -> dict[str, Any]:
    return {"type": kind.type, "title": kind.title, "status": kind.status, "detail": detail, **extra}


def answer(kind: Kind, detail: str, headers: dict[str, str] | None = None, **extra: Any) -> Response:
    """A problem as an HTTP answer (serialised here: Powertools serialises only ``application/json`` bodies)."""
    return Response(kind.status, PROBLEM_JSON, json.dumps(problem(kind, detail, **extra)), headers=headers)


def validation_problem(errors: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A 422 body that says what is wrong in words, in ``detail`` and field by field in ``errors``."""
    fields = [{"loc": list(e.get("loc", ())), "msg": e.get("msg") or e.get("type", "invalid"),
               "type": e.get("type", "value_error")} for e in errors]
    summary = "; ".join(f"{'.'.join(str(p) for p in f['loc'])}: {f['msg']}" for f in fields)
    return problem(INVALID_REQUEST, f"invalid request: {summary}", errors=fields)


# ---------------------------------------------------------------------------------------------- reading

def read_json(body: str) -> Any:
    """A request's JSON body, decoded as the webhooks decode theirs (``bounds.decode``): one nested past what the
    decoder can read or holding an integer of more than 4,300 digits is a 400 problem, never a function error; text
    that is not JSON stays Powertools' 422 (``json_invalid``, with where). Nothing is changed: the route's model
    validates what was sent."""
    return bounds.decode(body, "the body")


def body_text(event: Any) -> str:
    """A request's body as text: what API Gateway handed over as text, or its base64 (a body without a text
    Content-Type, or none) read as UTF-8 (``bounds.text``: BadRequest, 400, for bytes that are not)."""
    body = event.body or ""
    return bounds.text(base64.b64decode(body)) if event.is_base64_encoded else body


def json_type(content_type: str | None) -> bool:
    """Whether a Content-Type names JSON: ``application/json`` or a ``+json`` structured syntax type
    (``application/merge-patch+json``), parameters allowed; not a type that merely starts so (``application/jsonx``)."""
    kind = media_type(content_type)
    return kind == "application/json" or ("/" in kind and kind.endswith("+json"))


class _JsonBodies(OpenAPIRequestValidationMiddleware):
    """Powertools' request validation, the body read one way: as JSON when its Content-Type says so (:func:`json_type`)
    or there is none (as Powertools does); any other type is a 415 (``install``). Powertools' own ``_get_body`` reads
    any type that starts with ``application/json`` as JSON and no ``+json`` type, and parses forms and multipart
    bodies, which no route takes (tests/integration/test_admin_api.py's 415 tests catch a change of it)."""

    def _get_body(self, app: Any) -> Any:
        content_type = app.current_event.headers.get("content-type", "")
        if not content_type.strip() or json_type(content_type):
            body_text(app.current_event)        # bytes that are not UTF-8 are no JSON: a 400 (Powertools: a crash)
            return self._parse_json_data(app)
        raise RequestUnsupportedContentType("Unsupported content type", errors=[
            {"type": "unsupported_content_type", "loc": ("body",), "msg": f"Unsupported content type: {content_type}"}])


def resolver() -> APIGatewayHttpResolver:
    """The resolver of every HTTP API (agent, admin, reports, widget): requests validated against the document,
    bodies read as JSON by :func:`read_json` when their Content-Type says JSON (:func:`json_type`)."""
    app = APIGatewayHttpResolver(enable_validation=True, json_body_deserializer=read_json)
    app._request_validation_middleware = _JsonBodies()
    return app


# ---------------------------------------------------------------------------------------------- answering

def install(app: APIGatewayHttpResolver, extra: dict[type[ShopdeskError], int] | None = None,
            headers: Callable[[], dict[str, str]] | None = None, *, answering: bool = False) -> None:
    """422 with what is wrong for invalid requests, 415 for a body that is not JSON, and the domain's errors as
    problems with their status and message. ``headers`` adds headers to every problem (the widget's CORS).
    ``answering``: the app reads its table with the bounded client (``dal.aws``) on every route (the agent and admin
    APIs: ``api.admission`` reads the caller's record first), so every route's document lists the 503
    ``not_answered``."""

    def _headers() -> dict[str, str] | None:
        return headers() if headers else None

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response:
        errors = exc.errors()
        if errors and all(tuple(e.get("loc", ()))[:1] == ("response",) for e in errors):
            # Powertools raises the same error when a route's answer does not match its documented model: that is
            # our fault, not the caller's, so it is a 500 (and a log line), never a 422.
            logger.error("answer does not match its documented model", extra={"errors": errors})
            return Response(500, PROBLEM_JSON, json.dumps(problem(INTERNAL_ERROR, INTERNAL_ERROR.title)),
                            headers=_headers())
        return Response(422, PROBLEM_JSON, json.dumps(validation_problem(errors)), headers=_headers())

    @app.exception_handler(InvalidFields)
    def _refused(exc: InvalidFields) -> Response:
        named = {"code": exc.code, "params": exc.params or {}} if exc.code else {}    # a refusal the inbox words
        body = {**validation_problem(exc.errors), "detail": str(exc), **named}
        return Response(422, PROBLEM_JSON, json.dumps(body), headers=_headers())

    @app.exception_handler(RequestUnsupportedContentType)
    def _not_json(exc: RequestUnsupportedContentType) -> Response:
        content_type = app.current_event.headers.get("content-type", "")
        return answer(UNSUPPORTED_MEDIA_TYPE, f"the body must be JSON (application/json), not {content_type!r}",
                      _headers())

    @app.exception_handler(ClientError)
    def _store_busy(exc: ClientError) -> Response:
        # only a read (GET): it changed nothing, so sending it again is safe; a write that met it may have done part
        # of its work, and stays a function error (a 500 and the function's error alarm)
        # and only DynamoDB's: Bedrock's or S3's throttling on a GET is not the store's, and stays a function error
        code = exc.response.get("Error", {}).get("Code")
        if (code not in STORE_BUSY or app.current_event.http_method not in ("GET", "HEAD")
                or exc.operation_name not in STORE_OPERATIONS):
            raise exc
        logger.warning("a read met the store busy", extra={"code": code, "operation": exc.operation_name})
        return answer(UNAVAILABLE, "busy for a moment: nothing was read; try again", _headers(), code="store_busy")

    def _not_answered(exc: Exception) -> Response:
        # a service (the table with the APIs' bounded client, dal.aws) that did not answer within its client's
        # timeouts and tries: a 503 within the function's time, not its timeout (a bare 5xx from API Gateway). A read
        # changed nothing; a write may have been done or not, as after any answer lost on the way
        reading = app.current_event.http_method in ("GET", "HEAD")
        logger.warning("a service did not answer in time", extra={"error": type(exc).__name__})
        detail = ("a service did not answer in time: nothing was read; try again" if reading else
                  "a service did not answer in time: what was asked may be done or not; look before sending it again")
        return answer(UNAVAILABLE, detail, _headers(), code="not_answered")

    for timed_out in (ConnectTimeoutError, ReadTimeoutError, EndpointConnectionError):
        app.exception_handler(timed_out)(_not_answered)
    for error, status in {**STATUS, **(extra or {})}.items():
        app.exception_handler(error)(_answer(KINDS[status], _headers))
    _document_store_busy(app)
    if answering:
        _document_not_answered(app)


# How a read's document says it: alone, or after the route's own 503.
STORE_BUSY_DESCRIPTION = ("code store_busy: the store was throttled or unavailable for a moment; nothing was read, "
                          "send it again")
# How a route's document says the 503 not_answered (``install``'s ``answering``), as the answer's detail says it.
NOT_ANSWERED_DESCRIPTION = "code not_answered: a service did not answer in time; "
NOT_ANSWERED_READ = "nothing was read, send it again"
NOT_ANSWERED_WRITE = "what was asked may be done or not, look before sending it again"


def _document_store_busy(app: APIGatewayHttpResolver) -> None:
    """Every read (GET, HEAD) documented so far lists the 503 ``store_busy`` that ``install`` answers on any read:
    each route's document says every status it answers (a route that lists a 503 of its own keeps it, the words
    of both in its description). Called by ``install``, after the app's routes."""
    for route in (*app._static_routes, *app._dynamic_routes):
        if route.method not in ("GET", "HEAD") or not route.include_in_schema or route.responses is None:
            continue
        own = route.responses.get(503)
        description = f"{own['description']}; or {STORE_BUSY_DESCRIPTION}" if own else \
            f"Busy for a moment ({STORE_BUSY_DESCRIPTION})"
        route.responses = {**route.responses, 503: {**(own or {}), "description": description,
                                                    "content": {PROBLEM_JSON: {"model": Problem}}}}


def _document_not_answered(app: APIGatewayHttpResolver) -> None:
    """Every route documented so far lists the 503 ``not_answered`` that ``install`` answers when a service did not
    answer within its client's bounds: a route that lists a 503 already (its own, or a read's ``store_busy``) keeps
    it, the words of both in its description. Called by ``install``, after ``_document_store_busy``."""
    for route in (*app._static_routes, *app._dynamic_routes):
        if not route.include_in_schema or route.responses is None:
            continue
        said = NOT_ANSWERED_DESCRIPTION + (NOT_ANSWERED_READ if route.method in ("GET", "HEAD") else NOT_ANSWERED_WRITE)
        own = route.responses.get(503)
        description = f"{own['description']}; or {said}" if own else f"Not answered in time ({said})"
        route.responses = {**route.responses, 503: {**(own or {}), "description": description,
                                                    "content": {PROBLEM_JSON: {"model": Problem}}}}


def _answer(kind: Kind, headers: Callable[[], dict[str, str] | None]) -> Callable[[Exception], Response]:
    def handle(exc: Exception) -> Response:
        code = getattr(exc, "code", None)
        named = {"code": code, "params": getattr(exc, "params", None) or {}} if code else {}
        return answer(kind, str(exc) or kind.title, headers(), **named)
    return handle


# ---------------------------------------------------------------------------------------------- documenting

def responses(ok: int = 200, *statuses: int, description: str = "OK", gateway_auth: bool = True,
              ok_content: dict[str, Any] | None = None,
              headers: dict[int, dict[str, Any]] | None = None) -> dict[int, OpenAPIResponse]:
    """What a route answers, for its decorator's ``responses=``: the success status (its body is the route's return
    annotation unless ``ok_content`` says otherwise), each of ``statuses`` as a problem, 422 (the apps validate every
    request), and, when ``gateway_auth``, 401 from API Gateway's JWT authorizer and 403 (a caller an admin took off
    the desk, ``shopdesk.api.admission``)."""
    documented: dict[int, OpenAPIResponse] = {ok: {"description": description}}
    if ok_content is not None:
        documented[ok]["content"] = ok_content
    for status in sorted({*statuses, 422, *((403,) if gateway_auth else ())}):
        kind = KINDS[status]
        model = ValidationProblem if status == 422 else Problem
        documented[status] = {"description": kind.description, "content": {PROBLEM_JSON: {"model": model}}}
    if gateway_auth:
        documented[403]["description"] += TAKEN_OFF
        documented[401] = {"description": "No valid token: API Gateway's JWT authorizer answers, not the function",
                           "content": {"application/json": {"model": GatewayMessage}}}
    for status, extra in (headers or {}).items():
        documented[status]["headers"] = extra
    return documented
