"""Web-chat widget API: signed visitor sessions, send, poll, upload, one-time email codes; origin-checked,
rate-limited."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shopdesk.api import openapi, problems
from shopdesk.api.webhooks import processor_for
from shopdesk.api.widget import (
    ConfirmEmailIn,
    ConfirmEmailOut,
    PastConversations,
    PollOut,
    SendIn,
    SendOut,
    SessionOut,
    StartIn,
    UploadIn,
    UploadOut,
    VerifyEmailIn,
    VerifyEmailOut,
)
from shopdesk.channels import webchat
from shopdesk.channels.ses import text_mailer
from shopdesk.clock import AwareInstant
from shopdesk.config import WebchatSettings
from shopdesk.dal.audit import AuditLog
from shopdesk.dal.config import ConfigStore
from shopdesk.dal.conversations import Conversations
from shopdesk.dal.customers import Customers
from shopdesk.dal.identities import Identities
from shopdesk.dal.media import MediaStore
from shopdesk.dal.queues import Queue
from shopdesk.dal.ratelimits import RateLimits
from shopdesk.dal.secrets import json_secret
from shopdesk.dal.table import Table
from shopdesk.dal.verifications import Verifications
from shopdesk.errors import Conflict, InvalidSignature
from shopdesk.logic.fold import Folder
from shopdesk.logic.merge import Merger
from shopdesk.logic.sla_engine import book_for
from shopdesk.logic.verify_email import EmailVerification
from shopdesk.logic.visitor_history import VisitorHistory
from shopdesk.logic.widget import OriginRefused, RateLimited, Widget
from shopdesk.logs import logger_for
from shopdesk.privacy.audit import AuditTrail
from shopdesk.privacy.settings import PrivacyPolicies

settings = WebchatSettings.from_env()
logger = logger_for()
table = Table(settings.table_name)
trail = AuditTrail(AuditLog(table), PrivacyPolicies(ConfigStore(table)))
app = problems.resolver()
SESSION = "widgetSession"
openapi.publish(app, "/widget", title="shopdesk web-chat widget API",
                description="What the widget on a shop's pages calls: start a session with the visitor token the shop "
                            "signed, send, upload, poll for the agents' replies, prove an email address with a "
                            "one-time code. Every call must come from an allowed Origin (403 otherwise); writes are "
                            "rate-limited per visitor (429 with Retry-After). Every refusal is an RFC 9457 problem "
                            "(application/problem+json).",
                security_schemes={SESSION: HTTPBearer(description="the session POST /widget/sessions answered")})
_widget: Widget | None = None
_verification: EmailVerification | None = None
history = VisitorHistory(Identities(table), Customers(table))

# Every widget call can be refused for its Origin (403) or its body (415, 422); calls with a session for the
# session (401); writes for their rate (429); and any call answers 503 while the table is busy (retry).
RETRY_AFTER = {429: {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer", "minimum": 1}}}}


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
        customers, conversations = Customers(table), Conversations(table, settings.due_shards)
        # the merge's routing sends with the client bounded for the webhooks (dal.aws): one that hangs gives up within
        # the 10 s, and the sweep does what it would have (logic.fold)
        folder = Folder(conversations, lambda: book_for(conversations, settings.first_response_targets),
                        Queue(settings.work_queue_url, webhook=True))
        _verification = EmailVerification(Verifications(table), RateLimits(table), Merger(customers, folder),
                                          Identities(table),
                                          text_mailer(settings.ses_from_address), secret["session_secret"],
                                          settings.shop_name,
                                          str(json_secret(settings.hash_key_secret_arn)["hash_key"]))
    return _verification


def _cors() -> dict[str, str]:
    """CORS headers for the calling origin, when it is one the widget may be used from (Retry-After readable by
    the widget's script, so a rate-limited visitor's message waits as long as asked)."""
    origin = app.current_event.headers.get("origin")
    if origin and webchat.origin_allowed(origin, settings.origins):
        return {"Access-Control-Allow-Origin": origin, "Access-Control-Expose-Headers": "Retry-After", "Vary": "Origin"}
    return {"Vary": "Origin"}


def _answer(status: int, body: object, **headers: str) -> Response:
    return Response(status, content_types.APPLICATION_JSON, body, headers={**_cors(), **headers})


def _origin() -> None:
    widget().check_origin(app.current_event.headers.get("origin"))


def _session() -> webchat.SessionClaims:
    return widget().session(app.current_event.headers.get("authorization"))


@app.route("/widget/<path>", method="OPTIONS", include_in_schema=False)
@app.route("/widget/<path>/<rest>", method="OPTIONS", include_in_schema=False)   # /email-verification/confirm
def preflight(path: str, rest: str | None = None):  # type: ignore[no-untyped-def]  # a bare Response has no schema
    _origin()
    return Response(204, None, "", headers={**_cors(), "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                                            "Access-Control-Allow-Headers": "Authorization, Content-Type",
                                            "Access-Control-Max-Age": "600"})


@app.post("/widget/sessions", summary="Start (or resume) the visitor's session from the token the shop signed",
          status_code=201, responses=problems.responses(201, 400, 401, 403, 415, 429, 503, description="Started",
                                                        gateway_auth=False, headers=RETRY_AFTER))
def start(body: StartIn) -> Response[SessionOut]:     # 400: a signed token whose visitor_id is not one
    _origin()
    return _answer(201, SessionOut.model_validate({**widget().start(body.visitor_token),
                                                   "live_url": settings.live_url or None}))


@app.post("/widget/messages", summary="Send a message (retry with the same client_message_id: stored once)",
          status_code=201, security=[{SESSION: []}],
          responses={**problems.responses(201, 400, 401, 403, 415, 429, 503, description="Stored",
                                          gateway_auth=False, headers=RETRY_AFTER),
                     200: {"description": "Already stored (a retry): nothing new"}})
def send(body: SendIn) -> Response[SendOut]:
    _origin()
    session = _session()
    result = widget().send(session, body.text, body.client_message_id, [a.model_dump() for a in body.attachments],
                           body.choice, accept_language=app.current_event.headers.get("accept-language"))
    return _answer(201 if result["status"] == "stored" else 200, SendOut.model_validate(result))


@app.get("/widget/messages", summary="The visitor's conversation: their messages and the agents' replies",
         security=[{SESSION: []}], responses=problems.responses(200, 401, 403, 503, gateway_auth=False))
def poll(after: Annotated[AwareInstant | None, Query(description="only what came after this time (ISO 8601, with "
                                                                 "its zone: Z or an offset)")] = None
         ) -> Response[PollOut]:
    _origin()
    return _answer(200, PollOut.model_validate(widget().poll(_session(), after)))


@app.post("/widget/attachments", summary="Permission to upload one file (a presigned POST within type and size)",
          status_code=201, security=[{SESSION: []}],
          responses=problems.responses(201, 400, 401, 403, 415, 429, 503, description="Upload here",
                                       gateway_auth=False, headers=RETRY_AFTER))
def upload(body: UploadIn) -> Response[UploadOut]:
    _origin()
    session = _session()
    return _answer(201, UploadOut.model_validate(widget().upload(session, body.filename, body.content_type,
                                                                  body.size)))


@app.post("/widget/email-verification", summary="Mail a one-time code to an address the visitor says is theirs",
          status_code=202, security=[{SESSION: []}],
          responses=problems.responses(202, 400, 401, 403, 415, 429, 503, description="Code mailed",
                                       gateway_auth=False, headers=RETRY_AFTER))
def request_code(body: VerifyEmailIn) -> Response[VerifyEmailOut]:
    _origin()
    session = _session()
    return _answer(202, VerifyEmailOut.model_validate(verification().request(session.visitor_id, body.email)))


@app.post("/widget/email-verification/confirm",
          summary="The code proves the address: the chat and the address's mail become one customer",
          security=[{SESSION: []}],
          responses=problems.responses(200, 400, 401, 403, 415, 429, 503, description="Verified",
                                       gateway_auth=False, headers=RETRY_AFTER))
def confirm_code(body: ConfirmEmailIn) -> Response[ConfirmEmailOut]:
    _origin()
    session = _session()
    outcome = verification().confirm(session.visitor_id, body.code)
    if outcome.outcome in ("linked", "merged"):        # a change no agent made: the system's, in the audit trail
        http = app.current_event.request_context.http
        action = {"linked": "customer.link", "merged": "customer.merge"}[outcome.outcome]
        trail.record(actor="system:webchat", action=action, customer_id=outcome.customer_id,
                     details={"merge_id": outcome.merge_id} if outcome.merge_id else {"proof": "one-time code"},
                     source_ip=http.source_ip, user_agent=http.user_agent,
                     request_id=app.current_event.request_context.request_id)
    return _answer(200, ConfirmEmailOut(verified=True, linked=outcome.outcome in ("linked", "merged", "already")))


@app.get("/widget/conversations",
         summary="The visitor's past conversations on every channel, once they proved an email address (none before: "
                 "email null)",
         security=[{SESSION: []}], responses=problems.responses(200, 400, 401, 403, 503, gateway_auth=False))
def past_conversations(limit: Annotated[int, Query(ge=1, le=50)] = 20,
                       cursor: Annotated[str | None, Query(max_length=4096)] = None) -> Response[PastConversations]:
    _origin()
    return _answer(200, PastConversations.model_validate(history.past(_session().visitor_id, limit, cursor)))


problems.install(app, {OriginRefused: 403, InvalidSignature: 401}, headers=_cors)


@app.exception_handler(RateLimited)
def _limited(exc: RateLimited) -> Response:
    return problems.answer(problems.RATE_LIMITED, str(exc),
                           {**_cors(), "Retry-After": str(exc.seconds)})


@app.exception_handler(Conflict)     # after install: here a Conflict is the table being busy, not the caller's fault
def _busy(exc: Conflict) -> Response:
    return problems.answer(problems.UNAVAILABLE, "busy, retry", _cors())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
