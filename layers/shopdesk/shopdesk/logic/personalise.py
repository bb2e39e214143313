"""The reply text rendered for a conversation: its variables (shopdesk.logic.variables) or a canned response's
body in the customer's language, through shopdesk.logic.render.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from shopdesk.channels.limits import MAX_REPLY_CHARS
from shopdesk.commerce.lookup import OrderLookup
from shopdesk.dal.conversations import Conversations
from shopdesk.errors import BadRequest
from shopdesk.logic import render
from shopdesk.logic.access import Caller
from shopdesk.logic.canned import CannedLibrary, chosen_body
from shopdesk.logic.variables import order_values, relevant_order, variables_for
from shopdesk.models import Conversation
from shopdesk.models.admin import RoutingSettings
from shopdesk.models.canned import CannedResponse

DEFAULT_SHOP_NAME = "Example Shop"      # as the SHOP_NAME setting's default
REPLY_LIMIT = MAX_REPLY_CHARS    # the rendered reply, as long as an agent may type one (its channel's is checked after)


@dataclass
class Rendered:
    text: str
    canned: CannedResponse | None = None
    order: str | None = None        # the order whose values it filled in (its id): what the render read of it


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
        language = None         # a canned body's: its order status is said in it (the agent's text: in English)
        if canned_response_id is not None:
            response = self.canned.for_reply(caller, canned_response_id)
            language, text = chosen_body(response, conv.language, routing.default_language)
        assert text is not None
        read: list[str] = []
        variables = variables_for(conv, caller.name, routing.shop_name or self.shop_name,
                                  self._order(conv, language, read))
        return Rendered(render.render(text, variables, limit=REPLY_LIMIT), response, read[0] if read else None)

    def _order(self, conv: Conversation, language: str | None, read: list[str]
               ) -> Callable[[], render.Order | None] | None:
        """The values of the customer's relevant order, looked up only when the text names one (``read``: its id)."""
        lookup = self.order_lookup
        if lookup is None:
            return None

        def load() -> render.Order | None:
            # the panel needs the messages (the order numbers the customer wrote)
            full = conv if conv.messages else self.conversations.get_with_messages(conv.id)
            order = relevant_order(lookup.panel(full))
            if order is not None:
                read.append(order.id)
            return order_values(order, language)
        return load
