"""The reads of search's exact-key lookups: identities, customers and conversations by key, each one request
(identities through ``dal.identities``, a customer's history through ``dal.customers``).

- identities by (kind, address): one BatchGetItem (``IDENTITY#<kind>#<address>/META``) for every kind a
  term may be (a phone, a Telegram id, a Messenger or Instagram id...);
- customers by id: one BatchGetItem (``CUSTOMER#<id>/META``);
- a customer's conversations, newest first: one Query of ``ByCustomer`` per customer (``Limit`` bounded);
- conversations by id: one BatchGetItem (``CONV#<id>/META``).
"""

from __future__ import annotations

from collections.abc import Sequence

from shopdesk.dal import items as it
from shopdesk.dal.customers import Customers
from shopdesk.dal.identities import Identities
from shopdesk.dal.table import Table
from shopdesk.models import Conversation
from shopdesk.models.customer import Customer


class SearchReads:
    def __init__(self, table: Table) -> None:
        self.table = table
        self.identities = Identities(table)
        self.records = Customers(table)

    def customer_ids_of(self, identities: Sequence[tuple[str, str]]) -> list[str]:
        """The customers these identities name (those that exist), in the order asked."""
        if not identities:
            return []
        found = self.identities.get_many(identities)
        ids = (found.get(f"{kind}#{address}") for kind, address in identities)
        return list(dict.fromkeys(r.customer_id for r in ids if r))

    def customers(self, customer_ids: Sequence[str]) -> list[Customer]:
        if not customer_ids:
            return []
        items = {i["id"]: it.customer_from_item(i) for i in
                 self.table.batch_get([(it.customer_pk(c), it.META) for c in customer_ids])}
        return [items[c] for c in customer_ids if c in items]

    def conversations_of(self, customer_id: str, limit: int) -> list[Conversation]:
        """The customer's conversations, newest first (``ByCustomer`` projects the whole item)."""
        return self.records.conversations(customer_id, limit)[0]

    def conversations(self, conversation_ids: Sequence[str]) -> list[Conversation]:
        """Conversations by id, in the order asked; missing ones are absent."""
        if not conversation_ids:
            return []
        items = {i["id"]: i for i in self.table.batch_get([(it.conv_pk(c), it.META) for c in conversation_ids])
                 if i.get("type") == "conversation"}
        return [it.conversation_from_item(items[c]) for c in conversation_ids if c in items]
