"""A web-chat visitor's past conversations, once they proved an email address (logic/verify_email.py).

Proving an address links the visitor's chat identity to the customer who has that address (a new identity of
theirs, or a merge into the customer who had it). From then on the visitor is that customer, on every channel,
so their history is the customer's conversations (the ByCustomer index, newest first), shown as the visitor
may see them: status, channel, times and the latest message's preview, never notes or who handled them. A
visitor whose customer has no email address (never proved one) is refused (403) and learns nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shopdesk import clock
from shopdesk.channels import webchat
from shopdesk.dal.customers import Customers
from shopdesk.dal.identities import Identities
from shopdesk.errors import BadRequest


@dataclass
class VisitorHistory:
    identities: Identities
    customers: Customers

    def past(self, visitor_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
        identity = self.identities.get(webchat.IDENTITY_KIND, visitor_id)
        customer = self.customers.get(identity.customer_id) if identity else None
        emails = [i.address for i in (customer.identities if customer else []) if i.kind == "email"]
        if customer is None or not emails:      # nothing until an address is proven: the widget offers to prove one
            return {"email": None, "next_cursor": None, "items": []}
        try:
            page, next_cursor = self.customers.conversations(customer.id, limit, cursor)
        except ValueError as exc:          # a cursor that is not ours
            raise BadRequest(str(exc)) from exc
        return {"email": emails[0], "next_cursor": next_cursor,
                "items": [{"id": c.id, "status": c.status.value, "channel": c.channel,
                           "created_at": clock.iso(c.created_at), "updated_at": clock.iso(c.updated_at),
                           "last_message_preview": c.last_message_preview, "message_count": c.message_count}
                          for c in page]}
