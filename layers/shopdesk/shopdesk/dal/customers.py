"""Customers: the record each identity points to (``CUSTOMER#<id>``), and the tier a shop gives them.

The record is created with the customer's first conversation (``Conversations.start_conversation``);
an identity (``IDENTITY#<kind>#<address>``) names its customer and their open conversation.
"""

from __future__ import annotations

from shopdesk.dal import items as it
from shopdesk.dal.table import ConditionFailed, Table, Update
from shopdesk.errors import NotFound
from shopdesk.models.customer import Customer


class Customers:
    def __init__(self, table: Table):
        self.table = table

    def get(self, customer_id: str) -> Customer | None:
        item = self.table.get(it.customer_pk(customer_id), it.META)
        return it.customer_from_item(item) if item else None

    def tier(self, customer_id: str) -> str | None:
        """The customer's tier now (one GetItem); None without one, or without a record."""
        customer = self.get(customer_id)
        return customer.tier if customer else None

    def find(self, kind: str, address: str) -> Customer | None:
        """The customer of an identity: one GetItem of the identity, one of the customer."""
        identity = self.table.get(it.identity_pk(kind, address), it.META)
        return self.get(identity["customer_id"]) if identity else None

    def set_tier(self, customer_id: str, tier: str | None) -> Customer:
        """Give the customer ``tier`` (None: take it away). NotFound for an unknown customer."""
        update = Update().set("tier", tier).when("attribute_exists(PK)")
        try:
            item = self.table.update(it.customer_pk(customer_id), it.META, update, return_new=True)
        except ConditionFailed as exc:
            raise NotFound(f"customer {customer_id} does not exist") from exc
        if item is None:           # UpdateItem with ALL_NEW always answers the item
            raise NotFound(f"customer {customer_id} does not exist")
        return it.customer_from_item(item)

    def open_conversations(self, customer: Customer) -> list[str]:
        """The conversations the customer's identities hold open (open, pending or snoozed): one GetItem
        per identity, which is one for every customer today."""
        found = (self.table.get(it.identity_pk(i.kind, i.address), it.META) for i in customer.identities)
        return list(dict.fromkeys(item["open_conversation_id"] for item in found
                                  if item and item.get("open_conversation_id")))
