"""The values a conversation's text may use (shopdesk.logic.render): replies, canned responses, acknowledgements.

``variables_for`` is the one place that says where each value comes from:

- ``customer.name``: the name the channel gave (the conversation's customer); ``customer.first_name`` its
  first word. (When customers are merged across channels, point this at the merged customer record.)
- ``agent.first_name``: the first word of the calling agent's name (the token's ``name`` claim).
- ``shop.name``: the routing settings' shop name, else the ``SHOP_NAME`` setting.
- ``order.*``: the conversation's most relevant order of the customer's own (found by their email or phone):
  the one the customer named by number (most recent message first), else their most recent order, from the
  order lookup (cache first); never one found only by a number they typed. Looked up only when
  the text uses ``order.*``. ``order.status`` in words: cancelled, refunded, the latest shipment's status
  ("in transit", "delivered"), else fulfilled / partially fulfilled / unfulfilled, else the payment status;
  in a canned response's body in another language, in that language as the bot says it to customers
  (``shopdesk.bot.phrases``: "en camino", "entregado"), so a Spanish body never says "está in transit".
  ``order.tracking_url`` and ``order.tracking_number``: the latest fulfilment's tracking.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from shopdesk.logic import render
from shopdesk.models import Conversation

if TYPE_CHECKING:      # the router acknowledges without importing the commerce package
    from shopdesk.commerce.lookup import OrderPanel
    from shopdesk.commerce.models import Order


def variables_for(conv: Conversation, agent_name: str | None, shop_name: str,
                  order: Callable[[], render.Order | None] | None = None) -> render.Variables:
    name = " ".join((conv.customer.name or "").split()) or None
    return render.Variables(customer={"name": name, "first_name": render.first_name(name)},
                            agent={"first_name": render.first_name(agent_name)},
                            shop={"name": shop_name}, order=order)


def relevant_order(panel: OrderPanel) -> Order | None:
    """Of the customer's own orders (found by their email or phone), the one named by number in the conversation
    (most recent mention first), else the most recent. An order found only by a number the customer typed may be
    someone else's (anyone can type the number on a parcel): its status and tracking are never filled in."""
    own = [found.order for found in panel.orders if found.customers_own]
    for number in panel.numbers:
        for order in own:
            if order.number == number.lstrip("#"):
                return order
    return own[0] if own else None


def order_values(order: Order | None, language: str | None = None) -> render.Order | None:
    """The order's values; ``language``: the one its status is said in (None or English: the words below)."""
    if order is None:
        return None
    tracking = order.tracking[-1] if order.tracking else None
    return {"name": order.name, "status": status_in(order, language),
            "tracking_url": tracking.url if tracking else None,
            "tracking_number": tracking.number if tracking else None}


def status_in(order: Order, language: str | None) -> str | None:
    """``order_status``, or in a language the bot speaks to customers its words for the order's state there."""
    # imported only by a reply that names an order's status
    from shopdesk.bot.orders import state_of
    from shopdesk.bot.phrases import ORDER_STATES, order_state

    words = order_status(order)
    if words is None or not language or language == "en" or language not in ORDER_STATES:
        return words
    return order_state(language, state_of(order))


def order_status(order: Order) -> str | None:
    if order.cancelled:
        return "cancelled"
    if order.financial_status in ("refunded",):
        return "refunded"
    shipped = [f for f in order.fulfillments if f.status not in ("cancelled", "failure", "error")]
    latest = shipped[-1] if shipped else None
    if latest and latest.shipment_status:
        return latest.shipment_status.replace("_", " ").lower()
    if order.fulfillment_status:
        return order.fulfillment_status.replace("_", " ").lower()
    if order.platform_status:
        return order.platform_status.replace("_", " ").lower()
    return order.financial_status.replace("_", " ").lower() if order.financial_status else None
