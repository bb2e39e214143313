"""Applying updates in the right order: platforms deliver webhooks in any order and more than once.

An order's own fields follow the newest ``updated_at`` (an older update never overwrites a newer one);
fulfilments are merged by id, each newest-wins on its own ``updated_at``; refunds are merged by id
(they are created once; a copy that names its line items wins over one that does not, and each line's refunded
count never goes down). A fulfilment or refund that arrives before its order makes a *partial* order
that the order itself then completes, whatever its ``updated_at``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from shopdesk.commerce.models import Fulfillment, Order, Platform, Refund, count_refunded

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _newer(a: datetime | None, b: datetime | None) -> bool:
    return (a or EPOCH) > (b or EPOCH)


def merge(stored: Order | None, incoming: Order) -> Order | None:
    """The order after ``incoming`` is applied to ``stored``; None when that changes nothing."""
    if stored is None:
        return incoming
    if incoming.partial:
        base = stored
    elif stored.partial or _newer(incoming.updated_at, stored.updated_at):
        base = incoming
    else:
        base = stored
    fulfillments: dict[str, Fulfillment] = {f.id: f for f in stored.fulfillments}
    for f in incoming.fulfillments:
        current = fulfillments.get(f.id)
        if current is None or _newer(f.updated_at, current.updated_at) or \
                (base is incoming and not _newer(current.updated_at, f.updated_at)):
            fulfillments[f.id] = f
    refunds: dict[str, Refund] = {r.id: r for r in stored.refunds}
    for r in incoming.refunds:
        known = refunds.get(r.id)
        if known is None or (known.line_items is None and r.line_items is not None):
            refunds[r.id] = r.model_copy(update={"created_at": r.created_at or (known.created_at if known else None)})
    result = count_refunded(base.model_copy(update={
        "fulfillments": sorted(fulfillments.values(), key=lambda f: (f.created_at or EPOCH, f.id)),
        "refunds": sorted(refunds.values(), key=lambda r: (r.created_at or EPOCH, r.id)),
        "partial": stored.partial and incoming.partial,
    }), at_least=stored)
    return None if result == stored else result


def partial_order(platform: Platform, order_id: str, *, name: str | None, created_at: datetime | None,
                  fulfillment: Fulfillment | None = None, refund: Refund | None = None) -> Order:
    """What a fulfilment or refund tells of an order nobody has seen yet."""
    base = (name or "").split(".")[0] or f"#{order_id}"
    return Order(platform=platform, id=order_id, name=base, number=base.lstrip("#"), created_at=created_at or EPOCH,
                 updated_at=EPOCH, fulfillments=[fulfillment] if fulfillment else [],
                 refunds=[refund] if refund else [], partial=True)


def deleted(stored: Order, at: datetime) -> Order | None:
    """A WooCommerce order moved to the bin (order.deleted carries only its id)."""
    if not _newer(at, stored.updated_at) or stored.platform_status == "trash":
        return None
    return stored.model_copy(update={"platform_status": "trash", "cancelled_at": stored.cancelled_at or at,
                                     "financial_status": stored.financial_status, "updated_at": at})
