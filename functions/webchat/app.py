"""Web-chat widget API: signed visitor sessions, send, poll, upload; origin-checked, rate-limited."""

from __future__ import annotations

import json
from datetime import datetime

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from shopdesk.api.webhooks import processor_for
from shopdesk.api.widget import ConfirmEmailIn, SendIn, StartIn, UploadIn, VerifyEmailIn
from shopdesk.channels.ses import text_mailer
from shopdesk.config import WebchatSettings
from shopdesk.dal.conversations import Conversations
from shopdesk.dal.customers import Customers
from shopdesk.dal.identities import Identities
from shopdesk.dal.media import MediaStore
from shopdesk.dal.ratelimits import RateLimits
from shopdesk.dal.secrets import json_secret
from shopdesk.dal.table import Table
from shopdesk.dal.verifications import Verifications
from shopdesk.errors import BadRequest, Conflict, InvalidSignature
from shopdesk.logic.merge import Merger
from shopdesk.logic.verify_email import EmailVerification
from shopdesk.logic.widget import OriginRefused, RateLimited, Widget

settings = WebchatSettings.from_env()
logger = Logger()
table = Table(settings.table_name)
app = APIGatewayHttpResolver()
_widget: Widget | None = None
_verification: EmailVerification | None = None


def widget() -> Widget:
    global _widget
    if _widget is None:
        secret = json_secret(settings.webchat_secret_arn)
        _widget = Widget(Conversations(table, settings.due_shards), processor_for(settings), RateLimits(table),
                         MediaStore(settings.media_bucket), settings.origins, secret["visitor_secret"],
                         secret["session_secret"])
    return _widget


def verification() -> EmailVerification:
    global _verification
    if _verification is None:
        secret = json_secret(settings.webchat_secret_arn)
        customers = Customers(table)
        _verification = EmailVerification(Verifications(table), RateLimits(table), Merger(customers), Identities(table),
                                          text_mailer(settings.ses_from_address), secret["session_secret"],
                                          settings.shop_name)
    return _verification


def _answer(status: int, body: dict, origin: str | None = None, **headers: str) -> Response:
    cors = {"Access-Control-Allow-Origin": origin, "Vary": "Origin"} if origin else {"Vary": "Origin"}
    return Response(status, "application/json", json.dumps(body), headers={**cors, **headers})


def _origin() -> str:
    return widget().check_origin(app.current_event.headers.get("origin"))


def _body(model):  # type: ignore[no-untyped-def]
    try:
        return model.model_validate(app.current_event.json_body or {})
    except (ValidationError, json.JSONDecodeError, TypeError) as exc:
        raise BadRequest(f"invalid request body: {exc}") from exc


@app.route("/widget/<path>", method="OPTIONS")
def preflight(path: str) -> Response:
    return _answer(204, {}, _origin(), **{"Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                                          "Access-Control-Allow-Headers": "Authorization, Content-Type",
                                          "Access-Control-Max-Age": "600"})


@app.post("/widget/sessions")
def start() -> Response:
    origin = _origin()
    return _answer(201, widget().start(_body(StartIn).visitor_token), origin)


@app.post("/widget/messages")
def send() -> Response:
    origin = _origin()
    session = widget().session(app.current_event.headers.get("authorization"))
    body = _body(SendIn)
    result = widget().send(session, body.text, body.client_message_id, body.attachments)
    return _answer(201 if result["status"] == "stored" else 200, result, origin)


@app.get("/widget/messages")
def poll() -> Response:
    origin = _origin()
    session = widget().session(app.current_event.headers.get("authorization"))
    after = app.current_event.get_query_string_value("after")
    try:
        since = datetime.fromisoformat(after.replace("Z", "+00:00")) if after else None
    except ValueError as exc:
        raise BadRequest("after must be an ISO 8601 time") from exc
    return _answer(200, widget().poll(session, since), origin)


@app.post("/widget/attachments")
def upload() -> Response:
    origin = _origin()
    session = widget().session(app.current_event.headers.get("authorization"))
    body = _body(UploadIn)
    return _answer(201, widget().upload(session, body.filename, body.content_type, body.size), origin)


@app.post("/widget/email-verification")
def request_code() -> Response:
    """Mail a one-time code to an address the visitor says is theirs."""
    origin = _origin()
    session = widget().session(app.current_event.headers.get("authorization"))
    return _answer(202, verification().request(session.visitor_id, _body(VerifyEmailIn).email), origin)


@app.post("/widget/email-verification/confirm")
def confirm_code() -> Response:
    """The code proves the address: the chat and the address's mail become one customer."""
    origin = _origin()
    session = widget().session(app.current_event.headers.get("authorization"))
    outcome = verification().confirm(session.visitor_id, _body(ConfirmEmailIn).code)
    return _answer(200, {"verified": True, "linked": outcome.outcome in ("linked", "merged", "already")}, origin)


@app.exception_handler(OriginRefused)
def _origin_refused(exc: OriginRefused) -> Response:
    return _answer(403, {"message": str(exc)})


@app.exception_handler(InvalidSignature)
def _unauthorized(exc: InvalidSignature) -> Response:
    return _answer(401, {"message": str(exc)}, app.current_event.headers.get("origin"))


@app.exception_handler(BadRequest)
def _bad_request(exc: BadRequest) -> Response:
    return _answer(400, {"message": str(exc)}, app.current_event.headers.get("origin"))


@app.exception_handler(RateLimited)
def _limited(exc: RateLimited) -> Response:
    return _answer(429, {"message": str(exc)}, app.current_event.headers.get("origin"),
                   **{"Retry-After": str(max(1, round(exc.retry_after)))})


@app.exception_handler(Conflict)
def _busy(exc: Conflict) -> Response:
    return _answer(503, {"message": "busy, retry"}, app.current_event.headers.get("origin"))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
