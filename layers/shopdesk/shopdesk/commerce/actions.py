"""Order actions from the inbox: cancel an unfulfilled order, refund all or chosen line items.

Two steps. A request without ``confirm: true`` changes nothing: it is answered with a preview of what
would happen (``ConfirmationRequired``, a 409). The same request with ``confirm: true`` goes to the
platform. Only agents in an allowed group may act (``ORDER_ACTION_GROUPS``), only on a conversation
they may see (shopdesk.logic.access: any other answers 404, as a missing one) and only on an order the
conversation's panel shows by the customer's own email or phone: one found only by a number the customer
typed may be someone else's (a 409 in words), as the bot treats it. Each confirmed action, done or refused
by the platform, is written on the conversation's timeline with who did it; a refusal is answered in the
platform's words.

A refund never asks for more of a line item than is left to refund (purchased minus what the platform's
refunds refunded, read from the platform just before: a 422 in words, nothing sent; WooCommerce itself checks
only the amount). Two identical refunds sent at once, or again within a short while (a second tab, a retry),
reach the platform once: the refund holds a guard in the table while the platform is asked and for
``REFUND_JUST_MADE_SECONDS`` after (``CommerceStore.guard_refund``), and the other is answered 409 in words
(who made it, when). Shopify also gets the guard's id as refundCreate's idempotency key.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal
from typing import Any, Literal

from shopdesk.commerce import Commerce, CommerceRefused
from shopdesk.commerce.lookup import OrderLookup
from shopdesk.commerce.models import ActionResult, LineItem, Order, RefundLine
from shopdesk.dal.commerce import RefundGuard, RefundGuarded, refund_lines_key
from shopdesk.errors import Conflict, NotFound, ShopdeskError
from shopdesk.logic import timeline
from shopdesk.logic.access import Caller, agent_names
from shopdesk.models import Conversation, Message
from shopdesk.privacy import audit

Action = Literal["cancel", "refund"]


class CommerceNotConfigured(Conflict):
    """No shop platform is connected (COMMERCE_PLATFORM=none)."""


class OrderActionInvalid(ShopdeskError):
    """The request names line items or quantities the order does not have, or more than is left to refund."""


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
            self._record(timeline.order_action_failed(conv.id, "cancel", order.name, agent_id, str(exc),
                                                      agent_names(None, who)), "cancel",
                         order, False)
            raise
        after = self._after(order, result)
        note = self._record(timeline.order_cancelled(conv.id, order.name, agent_id, request.reason,
                                                                     agent_names(None, who)), "cancel", order,
                            True)
        _audited(order, after, result, reason=request.reason, restock=request.restock,
                 notify_customer=request.notify_customer, staff_note=request.staff_note)
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
        before = [li for li in order.line_items if li.refunded_quantity]
        preview = {
            "action": "refund", "order_id": order.id, "order_name": order.name,
            "summary": f"Refund {timeline.refunded_items(chosen)} on order {order.name}: about {amount} "
                       f"{order.currency or ''}".rstrip()
                       + (", and tell the customer" if request.notify_customer else "")
                       + (f" (refunded already: {_items(before, refunded=True)}; left to refund before this: "
                          f"{_items(order.line_items, refunded=False) or 'nothing'})" if before else ""),
            "refund_amount": amount, "currency": order.currency,
            "line_items": [_preview_line(by_id[x.line_item_id], x.quantity) for x in lines] if lines is not None else
                          [_preview_line(li, li.left_to_refund) for li in order.line_items if li.left_to_refund],
            "notify_customer": request.notify_customer,
        }
        if not request.confirm:
            raise ConfirmationRequired(preview)
        guard = self._guard(conv, order, lines, who)
        try:
            result = commerce.refund(order, lines, note=request.note, notify_customer=request.notify_customer,
                                     idempotency_key=guard.key)
        except CommerceRefused as exc:
            self.lookup.store.release_refund(guard)           # nothing was made: the same refund may be tried again
            self._record(timeline.order_action_failed(conv.id, "refund", order.name, agent_id, str(exc),
                                                      agent_names(None, who)), "refund",
                         order, False)
            raise
        # unreachable or failed midway: the refund may have been made, so the guard stays until it expires
        self.lookup.store.refund_made(guard)
        after = self._after(order, result)
        note = self._record(timeline.order_refunded(conv.id, order.name, agent_id, result.message, result.amount,
                                                    result.currency, chosen, agent_names(None, who)), "refund",
                            order, True)
        _audited(order, after, result, line_items=None if lines is None else [
            {"id": x.line_item_id, "quantity": x.quantity} for x in lines], note=request.note,
            notify_customer=request.notify_customer)
        return ActionDone("refund", result.message, after, result, note)

    def _after(self, order: Order, result: ActionResult) -> Order:
        """The order after the action: as the platform's answer gave it (WooCommerce's), masked as the cache would
        store it, else read again through the platform (and cached)."""
        if result.order is not None:
            return self.lookup.store.masking.order(result.order)
        return self.lookup.fresh(order)

    def _guard(self, conv: Conversation, order: Order, lines: Sequence[RefundLine] | None,
               who: Caller) -> RefundGuard:
        try:
            return self.lookup.store.guard_refund(order.id, lines, by=who.id, conversation_id=conv.id)
        except RefundGuarded as exc:
            held = exc.guard
            at = held.at.astimezone(UTC).strftime("%H:%M:%S UTC")
            what = "this refund" if held.lines == refund_lines_key(lines) else "another refund of this order"
            if held.state == "made":
                said = f"{what} was just made by {held.by} at {at}"
            else:
                said = f"{what} is being made by {held.by} (started at {at})"
            raise Conflict(f"{said} on order {order.name}; check the order before refunding again").with_code(
                "refund_just_made" if held.state == "made" else "refund_in_progress", by=held.by,
                at=held.at.isoformat(), order=order.name) from None

    def _record(self, note: Message, action: Action, order: Order, done: bool) -> Message:
        """The timeline note of an action, typed so the event lake counts it (``order_action``)."""
        message = note.model_copy(update={
            "kind": "order_action", "payload": {"action": action, "order": order.name, "done": done}})
        self.add_message(message)
        return message


def _audited(before: Order, after: Order, result: ActionResult, **asked: Any) -> None:
    """The action's audit record: the order as it was and is (status, amounts refunded, items refunded: no address
    or name of the customer), what was asked (the words written, a staff note or a refund's note, as a fingerprint)
    and what the platform answered (its reference, the amount)."""
    request = {k: audit.fingerprint(v) if k in ("note", "staff_note") and v else v for k, v in asked.items()
               if v is not None}
    outcome = {k: v for k, v in {"reference": result.reference, "amount": result.amount,
                                 "currency": result.currency}.items() if v is not None}
    audit.note(before=_order_state(before), after=_order_state(after), order=before.id, request=request,
               outcome=outcome)


def _order_state(order: Order) -> dict[str, Any]:
    return {"name": order.name, "cancelled": order.cancelled, "financial_status": order.financial_status,
            "fulfillment_status": order.fulfillment_status, "total": order.total, "refunded": _refunded(order),
            "refunded_items": {li.id: li.refunded_quantity for li in order.line_items
                               if li.id and li.refunded_quantity}}


def _refunded(order: Order) -> str:
    return f"{sum((Decimal(r.amount or '0') for r in order.refunds), Decimal('0')):.2f}"


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
        item = by_id[item_id]
        if quantity > item.quantity:
            raise OrderActionInvalid(f"line item {item_id} ({item.title}) has quantity {item.quantity}, not {quantity}")
        if quantity > item.left_to_refund:
            raise OrderActionInvalid(_over_refund(order, item, quantity)).with_code(
                "already_refunded", item=item.title, refunded=item.refunded_quantity, left=item.left_to_refund)
    return [RefundLine(line_item_id=i, quantity=q) for i, q in wanted.items()]


def _over_refund(order: Order, item: LineItem, quantity: int) -> str:
    """'2 x Wool socks were refunded already on 3 Dec 2026 at 14:02 UTC; 0 left to refund' (not the 2 asked)."""
    left = f"{item.left_to_refund} left to refund, not {quantity}"
    if not item.refunded_quantity:
        return f"{item.title}: {left} (the shop says the rest may not be refunded)"
    days = sorted({r.created_at for r in order.refunds if r.created_at and any(
        x.line_item_id == item.id for x in r.line_items or [])})
    on = " and ".join(f"{d.astimezone(UTC).day} {d.astimezone(UTC):%b %Y at %H:%M} UTC" for d in days)
    verb = "was" if item.refunded_quantity == 1 else "were"
    return f"{item.refunded_quantity} x {item.title} {verb} refunded already{' on ' + on if on else ''}; {left}"


def _items(lines: Sequence[LineItem], *, refunded: bool) -> str:
    counts = [(li.refunded_quantity if refunded else li.left_to_refund, li.title) for li in lines]
    return ", ".join(f"{n} x {title}" for n, title in counts if n)


def _preview_line(item: LineItem, quantity: int) -> dict[str, Any]:
    return {"id": item.id, "title": item.title, "quantity": quantity, "refunded_quantity": item.refunded_quantity,
            "left_to_refund": item.left_to_refund}

