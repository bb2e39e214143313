"""Order actions from the inbox: cancel an unfulfilled order, refund all or chosen line items.

Two steps. A request without ``confirm: true`` changes nothing: it is answered with a preview of what
would happen (``ConfirmationRequired``, a 409). The same request with ``confirm: true`` goes to the
platform. Only agents in an allowed group may act (``ORDER_ACTION_GROUPS``), only on a conversation
they may see (shopdesk.logic.access: any other answers 404, as a missing one) and only on an order the
conversation's panel shows by the customer's own email or phone: one found only by a number the customer
typed may be someone else's (a 409 in words), as the bot treats it. Each confirmed action, done or refused
by the platform, is written on the conversation's timeline with who did it; a refusal is answered in the
platform's words.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from shopdesk.commerce import Commerce, CommerceRefused
from shopdesk.commerce.lookup import OrderLookup
from shopdesk.commerce.models import ActionResult, Order, RefundLine
from shopdesk.errors import Conflict, NotFound, ShopdeskError
from shopdesk.logic import timeline
from shopdesk.logic.access import Caller
from shopdesk.models import Conversation, Message

Action = Literal["cancel", "refund"]


class CommerceNotConfigured(Conflict):
    """No shop platform is connected (COMMERCE_PLATFORM=none)."""


class OrderActionInvalid(ShopdeskError):
    """The request names line items or quantities the order does not have."""


class ConfirmationRequired(ShopdeskError):
    """The first step: nothing was done; ``preview`` says what the confirmed call would do."""

    def __init__(self, preview: dict[str, Any]) -> None:
        super().__init__(preview["summary"] + '. Send the same request with "confirm": true to do it.')
        self.preview = preview


@dataclass(frozen=True)
class CancelRequest:
    reason: str = "customer"
    restock: bool = True
    notify_customer: bool = True
    staff_note: str | None = None
    confirm: bool = False


@dataclass(frozen=True)
class RefundRequest:
    line_items: Sequence[RefundLine] | None = None     # None: everything not yet refunded
    note: str | None = None
    notify_customer: bool = True
    confirm: bool = False


@dataclass(frozen=True)
class ActionDone:
    action: Action
    message: str
    order: Order
    result: ActionResult
    timeline: Message


def may_act(who: Caller, allowed: set[str]) -> bool:
    return bool(who.roles & allowed)


@dataclass
class OrderActions:
    lookup: OrderLookup
    commerce: Commerce | None
    allowed_groups: set[str]
    add_message: Callable[[Message], None]

    def allowed(self, who: Caller) -> bool:
        """Whether ``who`` may act on orders at all: a platform is connected and they are in an allowed group."""
        return self.commerce is not None and may_act(who, self.allowed_groups)

    def _prepare(self, conv: Conversation, order_id: str, who: Caller) -> tuple[Commerce, Order]:
        if not may_act(who, self.allowed_groups):      # first: whoever may never act hears so, platform or not
            raise PermissionError(f"order actions need one of the groups {', '.join(sorted(self.allowed_groups))}")
        if self.commerce is None:
            raise CommerceNotConfigured("no shop platform is connected (COMMERCE_PLATFORM is none)")
        found = self.lookup.panel(conv).find(order_id)
        if found is None:
            raise NotFound(f"order {order_id} is not among this conversation's orders")
        if not found.customers_own:
            raise Conflict(f"order {found.order.name} was found only by the number the customer wrote, so it may be "
                           "someone else's (order numbers are short and printed on every parcel): act on it once the "
                           "customer's email or phone is the order's (merge the customer who has it)")
        return self.commerce, self.lookup.fresh(found.order)

    def cancel(self, conv: Conversation, order_id: str, who: Caller, request: CancelRequest) -> ActionDone:
        """``conv`` is one the caller may see (``Inbox.get``); ``who`` needs an allowed group."""
        commerce, order = self._prepare(conv, order_id, who)
        agent_id = who.id
        if order.cancelled:
            raise Conflict(f"order {order.name} is already cancelled")
        if order.fulfilled_any:
            raise Conflict(f"order {order.name} has been fulfilled (in part); only an unfulfilled order can be "
                           f"cancelled: refund it instead")
        preview = {
            "action": "cancel", "order_id": order.id, "order_name": order.name,
            "summary": f"Cancel order {order.name} ({order.total or '?'} {order.currency or ''}".rstrip()
                       + f"), refund what was paid{', restock the items' if request.restock else ''}"
                       + (", and tell the customer" if request.notify_customer else ""),
            "refund_amount": _remaining(order), "currency": order.currency,
            "line_items": [{"id": li.id, "title": li.title, "quantity": li.quantity} for li in order.line_items],
            "restock": request.restock, "notify_customer": request.notify_customer, "reason": request.reason,
        }
        if not request.confirm:
            raise ConfirmationRequired(preview)
        try:
            result = commerce.cancel(order, reason=request.reason, restock=request.restock,
                                     notify_customer=request.notify_customer, staff_note=request.staff_note)
        except CommerceRefused as exc:
            self._record(timeline.order_action_failed(conv.id, "cancel", order.name, agent_id, str(exc)), "cancel",
                         order, False)
            raise
        after = result.order or self.lookup.fresh(order)
        note = self._record(timeline.order_cancelled(conv.id, order.name, agent_id, request.reason), "cancel", order,
                            True)
        return ActionDone("cancel", result.message, after, result, note)

    def refund(self, conv: Conversation, order_id: str, who: Caller, request: RefundRequest) -> ActionDone:
        """``conv`` is one the caller may see (``Inbox.get``); ``who`` needs an allowed group."""
        commerce, order = self._prepare(conv, order_id, who)
        agent_id = who.id
        if order.financial_status in ("refunded", "voided") or order.platform_status == "trash":
            raise Conflict(f"order {order.name} has nothing left to refund ({order.financial_status})")
        lines = _check_lines(order, request.line_items)
        by_id = {li.id: li for li in order.line_items}
        amount = _remaining(order) if lines is None else \
            f"{sum((Decimal(by_id[x.line_item_id].price or '0') * x.quantity for x in lines), Decimal('0')):.2f}"
        chosen = None if lines is None else [{"title": by_id[x.line_item_id].title, "quantity": x.quantity}
                                             for x in lines]
        preview = {
            "action": "refund", "order_id": order.id, "order_name": order.name,
            "summary": f"Refund {timeline.refunded_items(chosen)} on order {order.name}: about {amount} "
                       f"{order.currency or ''}".rstrip()
                       + (", and tell the customer" if request.notify_customer else ""),
            "refund_amount": amount, "currency": order.currency,
            "line_items": [{"id": x.line_item_id, "title": by_id[x.line_item_id].title, "quantity": x.quantity}
                           for x in lines] if lines is not None else
                          [{"id": li.id, "title": li.title, "quantity": li.quantity} for li in order.line_items],
            "notify_customer": request.notify_customer,
        }
        if not request.confirm:
            raise ConfirmationRequired(preview)
        try:
            result = commerce.refund(order, lines, note=request.note, notify_customer=request.notify_customer)
        except CommerceRefused as exc:
            self._record(timeline.order_action_failed(conv.id, "refund", order.name, agent_id, str(exc)), "refund",
                         order, False)
            raise
        after = result.order or self.lookup.fresh(order)
        note = self._record(timeline.order_refunded(conv.id, order.name, agent_id, result.message, result.amount,
                                                    result.currency, chosen), "refund", order, True)
        return ActionDone("refund", result.message, after, result, note)

    def _record(self, note: Message, action: Action, order: Order, done: bool) -> Message:
        """The timeline note of an action, typed so the event lake counts it (``order_action``)."""
        message = note.model_copy(update={
            "kind": "order_action", "payload": {"action": action, "order": order.name, "done": done}})
        self.add_message(message)
        return message


def _remaining(order: Order) -> str | None:
    if order.total is None:
        return None
    refunded = sum((Decimal(r.amount or "0") for r in order.refunds), Decimal("0"))
    return f"{max(Decimal(order.total) - refunded, Decimal('0')):.2f}"


def _check_lines(order: Order, lines: Sequence[RefundLine] | None) -> list[RefundLine] | None:
    if lines is None:
        return None
    if not lines:
        raise OrderActionInvalid("line_items is empty: leave it out to refund everything")
    by_id = {li.id: li for li in order.line_items if li.id}
    wanted: dict[str, int] = {}
    for line in lines:
        if line.line_item_id not in by_id:
            raise OrderActionInvalid(f"order {order.name} has no line item {line.line_item_id}; its line items are "
                                     f"{', '.join(sorted(by_id)) or 'none'}")
        wanted[line.line_item_id] = wanted.get(line.line_item_id, 0) + line.quantity
    for item_id, quantity in wanted.items():
        if quantity > by_id[item_id].quantity:
            raise OrderActionInvalid(f"line item {item_id} ({by_id[item_id].title}) has quantity "
                                     f"{by_id[item_id].quantity}, not {quantity}")
    return [RefundLine(line_item_id=i, quantity=q) for i, q in wanted.items()]
