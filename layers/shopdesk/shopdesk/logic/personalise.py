"""The values a conversation's reply may use, and the reply text rendered with them (shopdesk.logic.render).

``variables_for`` is the one place that says where each value comes from:

- ``customer.name``: the name the channel gave (the conversation's customer); ``customer.first_name`` its
  first word. (When customers are merged across channels, point this at the merged customer record.)
- ``agent.first_name``: the first word of the calling agent's name (the token's ``name`` claim).
- ``shop.name``: the routing settings' shop name, else the ``SHOP_NAME`` setting.
- ``order.*``: the conversation's most relevant order: the one the customer named by number (most recent
  message first), else their most recent order, from the order lookup (cache first). Looked up only when
  the text uses ``order.*``. ``order.status`` in words: cancelled, refunded, the latest shipment's status
  ("in transit", "delivered"), else fulfilled / partially fulfilled / unfulfilled, else the payment status.
  ``order.tracking_url`` and ``order.tracking_number``: the latest fulfilment's tracking.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from shopdesk.commerce.lookup import OrderLookup, OrderPanel
from shopdesk.commerce.models import Order
from shopdesk.dal.conversations import Conversations
from shopdesk.errors import BadRequest
from shopdesk.logic import render
from shopdesk.logic.access import Caller
from shopdesk.logic.canned import CannedLibrary, body_for
from shopdesk.models import Conversation
from shopdesk.models.admin import RoutingSettings
from shopdesk.models.canned import CannedResponse

DEFAULT_SHOP_NAME = "Example Shop"      # as the SHOP_NAME setting's default
REPLY_LIMIT = 1600           # the rendered reply, as long as an agent may type one


def variables_for(conv: Conversation, agent_name: str | None, shop_name: str,
                  order: Callable[[], render.Order | None] | None = None) -> render.Variables:
    name = " ".join((conv.customer.name or "").split()) or None
    return render.Variables(customer={"name": name, "first_name": render.first_name(name)},
                            agent={"first_name": render.first_name(agent_name)},
                            shop={"name": shop_name}, order=order)


def relevant_order(panel: OrderPanel) -> Order | None:
    """The order named by number in the conversation (most recent mention first), else the most recent."""
    for number in panel.numbers:
        for found in panel.orders:
            if found.order.number == number.lstrip("#"):
                return found.order
    return panel.orders[0].order if panel.orders else None


def order_values(order: Order | None) -> render.Order | None:
    if order is None:
        return None
    tracking = order.tracking[-1] if order.tracking else None
    return {"name": order.name, "status": order_status(order),
            "tracking_url": tracking.url if tracking else None,
            "tracking_number": tracking.number if tracking else None}


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


@dataclass
class Rendered:
    text: str
    canned: CannedResponse | None = None


@dataclass
class Personaliser:
    conversations: Conversations
    routing: Callable[[], RoutingSettings]
    shop_name: str
    canned: CannedLibrary
    order_lookup: OrderLookup | None = None

    def render(self, caller: Caller, conv: Conversation, text: str | None,
               canned_response_id: str | None) -> Rendered:
        """The reply text (or the canned response's body in the customer's language), rendered for this
        conversation: MissingVariables / TemplateInvalid (422) rather than a blank."""
        if (text is None) == (canned_response_id is None):
            raise BadRequest("give either text or canned_response_id")
        routing = self.routing()
        response = None
        if canned_response_id is not None:
            response = self.canned.for_reply(caller, canned_response_id)
            text = body_for(response, conv.language, routing.default_language)
        assert text is not None
        variables = variables_for(conv, caller.name, routing.shop_name or self.shop_name, self._order(conv))
        return Rendered(render.render(text, variables, limit=REPLY_LIMIT), response)

    def _order(self, conv: Conversation) -> Callable[[], render.Order | None] | None:
        lookup = self.order_lookup
        if lookup is None:
            return None

        def load() -> render.Order | None:
            # the panel needs the messages (the order numbers the customer wrote)
            full = conv if conv.messages else self.conversations.get_with_messages(conv.id)
            return order_values(relevant_order(lookup.panel(full)))
        return load
