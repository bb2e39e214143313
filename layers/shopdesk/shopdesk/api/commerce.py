"""Request and response models of the commerce routes, and how their errors are answered."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from pydantic import BaseModel, Field, StringConstraints

from shopdesk.api import problems
from shopdesk.clock import Instant
from shopdesk.commerce import CommerceRefused, CommerceUnavailable
from shopdesk.commerce.actions import ActionDone, ConfirmationRequired, OrderActionInvalid
from shopdesk.commerce.lookup import FoundOrder, OrderPanel
from shopdesk.commerce.models import Address, Fulfillment, LineItem, PrivacyRequest, Refund, RefundLine, Tracking
from shopdesk.commerce.webhooks import Outcome, PrivacyNotStarted
from shopdesk.errors import BadRequest, InvalidSignature
from shopdesk.models import Identity

logger = Logger(child=True)
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]


class OrderOut(BaseModel):
    id: str
    platform: str
    name: str                                 # "#1001"
    number: str
    created_at: Instant
    updated_at: Instant
    cancelled_at: Instant | None = None
    financial_status: str | None = None
    fulfillment_status: str | None = None
    platform_status: str | None = None
    total: str | None = None
    currency: str | None = None
    line_items: list[LineItem] = Field(default_factory=list)
    shipping_address: Address | None = None
    fulfillments: list[Fulfillment] = Field(default_factory=list)
    tracking: list[Tracking] = Field(default_factory=list)    # every fulfilment's, flattened
    refunds: list[Refund] = Field(default_factory=list)
    matched_by: list[str] = Field(default_factory=list)       # email, phone, number (named in a message)
    partial: bool = False

    @classmethod
    def of(cls, found: FoundOrder | Any) -> OrderOut:
        order = found.order if isinstance(found, FoundOrder) else found
        data = order.model_dump(include=set(cls.model_fields) - {"tracking", "matched_by"})
        return cls(**data, tracking=order.tracking,
                   matched_by=found.matched_by if isinstance(found, FoundOrder) else [])


class OrderPanelOut(BaseModel):
    items: list[OrderOut]
    identities: list[Identity]                # what the orders were looked up by
    numbers: list[str]                        # order numbers named in the customer's messages
    source: str                               # cache, platform (something was read through) or none
    warnings: list[str] = Field(default_factory=list)
    # whether the caller may cancel and refund these orders (a platform is connected and the caller is in one
    # of ORDER_ACTION_GROUPS): the inbox shows the actions only then; the action routes check it again
    actions_allowed: bool = False

    @classmethod
    def of(cls, panel: OrderPanel, actions_allowed: bool = False) -> OrderPanelOut:
        return cls(items=[OrderOut.of(f) for f in panel.orders], identities=panel.identities, numbers=panel.numbers,
                   source=panel.source, warnings=panel.warnings, actions_allowed=actions_allowed)


class CancelIn(BaseModel):
    confirm: bool = False
    reason: Annotated[str, StringConstraints(pattern=r"^(customer|declined|fraud|inventory|staff|other)$")] = "customer"
    restock: bool = True
    notify_customer: bool = True
    staff_note: Note | None = None


class RefundIn(BaseModel):
    confirm: bool = False
    line_items: list[RefundLine] | None = Field(default=None, max_length=100)   # leave out: refund everything
    note: Note | None = None
    notify_customer: bool = True


class ActionOut(BaseModel):
    action: str
    message: str
    reference: str | None = None
    order: OrderOut
    timeline_message_id: str

    @classmethod
    def of(cls, done: ActionDone) -> ActionOut:
        return cls(action=done.action, message=done.message, reference=done.result.reference,
                   order=OrderOut.of(done.order), timeline_message_id=done.timeline.id)


class PrivacyRequestList(BaseModel):
    items: list[PrivacyRequest]
    next_cursor: str | None = None


def install_action_errors(app: APIGatewayHttpResolver) -> None:
    """The two-step confirmation (409 with the preview), a platform's refusal (422 in its words), a line item
    the order lacks or more of it than is left to refund (422), and a platform that cannot be reached (503):
    problems like every other refusal, with ``code`` (and ``preview`` or ``reasons``) as extension members."""

    @app.exception_handler(ConfirmationRequired)
    def _confirm(exc: ConfirmationRequired) -> Response:
        return problems.answer(problems.CONFIRMATION_REQUIRED, str(exc), code="confirmation_required",
                               preview=exc.preview)

    @app.exception_handler(CommerceRefused)
    def _refused(exc: CommerceRefused) -> Response:
        errors = [{"loc": ["body"], "msg": reason, "type": "platform_refused"} for reason in exc.reasons]
        return problems.answer(problems.PLATFORM_REFUSED, str(exc), code="platform_refused", reasons=exc.reasons,
                               errors=errors)

    @app.exception_handler(OrderActionInvalid)
    def _invalid(exc: OrderActionInvalid) -> Response:
        # already_refunded (more of a line than is left to refund, with params item, refunded, left), else
        # invalid_line_items (a line or a quantity the order lacks)
        code = exc.code or "invalid_line_items"
        return problems.answer(problems.PLATFORM_REFUSED, str(exc), code=code, params=exc.params,
                               errors=[{"loc": ["body", "line_items"], "msg": str(exc), "type": code}])

    @app.exception_handler(CommerceUnavailable)
    def _unavailable(exc: CommerceUnavailable) -> Response:
        return problems.answer(problems.UNAVAILABLE, str(exc), code="platform_unavailable")


def install_webhook_errors(app: APIGatewayHttpResolver) -> None:
    """401 for a bad signature (Shopify's rule, nothing stored), 400 for a signed body that is malformed, 503 for a
    privacy request whose work could not start (Shopify sends it again; counted where it failed)."""

    @app.exception_handler(InvalidSignature)
    def _unauthorized(exc: InvalidSignature) -> Response:
        logger.warning("refused commerce webhook", extra={"reason": str(exc)})
        return Response(401, content_types.APPLICATION_JSON, {"message": "invalid signature"})

    @app.exception_handler(BadRequest)
    def _bad_request(exc: BadRequest) -> Response:
        logger.warning("malformed commerce webhook", extra={"reason": str(exc)})
        return Response(400, content_types.APPLICATION_JSON, {"message": str(exc)})

    @app.exception_handler(PrivacyNotStarted)
    def _not_started(exc: PrivacyNotStarted) -> Response:
        return Response(503, content_types.APPLICATION_JSON, {"message": str(exc)})


def webhook_answer(outcome: Outcome) -> Response:
    return Response(200, content_types.APPLICATION_JSON,
                    {"status": outcome.result, "topic": outcome.topic, "delivery_id": outcome.delivery_id})
