"""The customer as agents see them: profile, identities, one history across channels, likely duplicates,
merge and unmerge, each behind the access rules of ``logic.access``.

Who may see a customer: an agent who may see at least one of the customer's conversations (their teams',
held or granted; supervisors and admins as ``Access.may_see`` says). A customer is nobody's secret from
the agents serving them, and nobody learns of one whose conversations they never could read: anything else
is a 404 with the same body as a customer that does not exist. The customer's history lists only the
conversations the caller may open. A merge and an unmerge need access to both customers (a merge the caller may
not see, or of another customer than the one named, answers as one that does not exist; while two are merged,
each is judged by the conversations that are theirs apart); the reason given is stored masked, as a note is
(``PrivacyPolicies.masked``). A customer merged into another answers with ``merged_into`` and is seen through the
survivor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from shopdesk import clock
from shopdesk.dal.config import ConfigStore
from shopdesk.dal.customers import Customers
from shopdesk.errors import BadRequest, NotFound
from shopdesk.logic.access import Access, Caller, agent_names, in_teams
from shopdesk.logic.fold import Folder
from shopdesk.logic.merge import Merger, customer_not_found, merge_not_found, parted
from shopdesk.models import Conversation, Identity
from shopdesk.models.customer import Customer, CustomerEvent, Evidence, MergeRecord
from shopdesk.privacy import audit
from shopdesk.privacy.settings import PrivacyPolicies

MAX_ACCESS_SCAN = 200        # conversations looked at to decide whether a caller may see a customer
# the likely duplicates a read's audit record is filed under too (a record each; all are named in it), within a
# search's bound (its 50 conversations' and 5 customers' records)
DUPLICATES_FILED = 50

OrdersOf = Callable[[list[Identity]], list[Any]]    # the orders of these addresses (the shop platform's)


@dataclass(frozen=True)
class CustomerView:
    customer: Customer
    conversations: list[Conversation]
    cursor: str | None
    timeline: list[CustomerEvent]
    orders: list[Any] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)


def profile(customer: Customer, conversations: list[Conversation], orders: list[Any]) -> dict[str, Any]:
    """What the desk knows of a customer at a glance, from what the view already read (no extra request):
    since when, in which language and on which channels they write, when last, and their recent orders
    (the order panel's, not the shop's whole history): how many, spent per currency (cancelled and
    refunded ones left out), the last one's date."""
    attributes: dict[str, Any] = {"channels": sorted({conv.channel for conv in conversations if conv.channel})}
    if customer.created_at:
        attributes["customer_since"] = clock.iso(customer.created_at)
    if customer.language:
        attributes["language"] = customer.language
    if conversations:
        attributes["last_contact_at"] = clock.iso(max(conv.updated_at for conv in conversations))
    orders = [getattr(o, "order", o) for o in orders]          # the order panel's finds carry their order
    if orders:
        spent: dict[str, Decimal] = {}
        for order in orders:
            if order.total and order.currency and not order.cancelled and order.financial_status != "refunded":
                spent[order.currency] = spent.get(order.currency, Decimal(0)) + Decimal(order.total)
        attributes["recent_orders"] = {"count": len(orders), "spent": {c: str(v) for c, v in sorted(spent.items())},
                                       "last_order_at": clock.iso(max(o.created_at for o in orders))}
    return attributes


@dataclass(frozen=True)
class Duplicate:
    customer: Customer
    evidence: list[tuple[str, Evidence]]        # (why, what was seen)


class CustomerDesk:
    def __init__(self, customers: Customers, access: Access, orders_of: OrdersOf | None = None,
                 folder: Folder | None = None, privacy: PrivacyPolicies | None = None):
        self.customers = customers
        self.access = access
        self.merger = Merger(customers, folder)
        self.orders_of = orders_of
        self.privacy = privacy or PrivacyPolicies(ConfigStore(customers.table))    # masking of a merge's reason

    # ------------------------------------------------------------------ reading
    def get(self, caller: Caller, customer_id: str, limit: int = 20, cursor: str | None = None) -> CustomerView:
        customer = self.visible(caller, customer_id)
        history_of = customer.merged_into or customer.id
        try:
            conversations, next_cursor = self.customers.conversations(history_of, limit, cursor)
        except ValueError as exc:       # a cursor that is not ours
            raise BadRequest(str(exc)) from exc
        # the history lists what the caller may open: another team's conversations stay as invisible here as
        # anywhere (their previews, labels, holders); a page may hold fewer than ``limit``, the cursor goes on
        sees = self.access.seer(caller)
        conversations = [conv for conv in conversations if sees(conv)]
        orders = (self.orders_of(self.order_addresses(customer, self.customers.seen(customer.id)))
                  if self.orders_of and not customer.merged_into else [])
        return CustomerView(customer, conversations, next_cursor, self._named(customer), orders,
                            profile(customer, conversations, orders))

    def _named(self, customer: Customer) -> list[CustomerEvent]:
        """The customer's timeline, the other customer of a merge named while the two are one (merged into this
        one, or this one into them): someone merged apart again is named by id, as another customer the caller
        may not see would be."""
        events = self.customers.timeline(customer.id)
        names: dict[str, str | None] = {}
        for e in events:
            if e.other_id and e.other_id not in names:
                other = self.customers.get(e.other_id)
                one = other is not None and (other.merged_into == customer.id or customer.merged_into == other.id)
                names[e.other_id] = other.name if one and other is not None else None
        return [e.model_copy(update={"other_name": names.get(e.other_id or "")}) if e.other_id else e for e in events]

    def visible(self, caller: Caller, customer_id: str) -> Customer:
        """The customer, if the caller may see one of their conversations (a merged customer's are the
        survivor's); else the same NotFound as a missing customer."""
        customer = self.customers.get(customer_id)
        if customer is None:
            raise customer_not_found(customer_id)
        if not sees_customer(caller, customer, self.customers, self.access):
            raise customer_not_found(customer_id, hidden_from_caller=True)
        return customer

    # ------------------------------------------------------------------ duplicates
    def duplicates(self, caller: Caller, customer_id: str) -> list[Duplicate]:
        """Customers who are likely the same person, with the evidence: an address this customer wrote (in a
        message, a shop record) that is another customer's identity; one of this customer's addresses that
        another customer wrote; an email or phone on one of this customer's orders that is another customer's
        (noting when both have the same name). Only customers the caller may see are suggested."""
        customer = self.visible(caller, customer_id)
        found: dict[str, list[tuple[str, Evidence]]] = {}
        seen = self.customers.seen(customer.id)
        owners = self.customers.identities.get_many([(e.kind, e.address) for e in seen])
        for e in seen:
            owner = owners.get(f"{e.kind}#{e.address}")
            if owner and owner.customer_id != customer.id:
                found.setdefault(owner.customer_id, []).append(
                    (f"this customer's {_source(e)} gives the {e.kind} {e.address}, the other customer's", e))
        for identity in customer.identities:
            if identity.kind not in ("email", "phone"):
                continue
            for other_id, e in self.customers.mentioned_by(identity.kind, identity.address):
                if other_id != customer.id:
                    found.setdefault(other_id, []).append(
                        (f"the other customer's {_source(e)} gives this customer's {e.kind} {e.address}", e))
        for order, kind, address, owner_id in self._order_contacts(customer, seen):
            if owner_id != customer.id:
                found.setdefault(owner_id, []).append((
                    f"order {order.name} of this customer gives the {kind} {address}, the other customer's",
                    Evidence(kind=kind, address=address, source="order", order=order.name,  # type: ignore[arg-type]
                             at=order.created_at)))
        # the conversations of a customer the caller may open, read once a call: whether the other customer is
        # suggested at all (some of theirs), and whether a piece of evidence may name where it was seen
        may_see, openable = self.access.seer(caller), dict[str, set[str]]()

        def opened(holder: str) -> set[str]:
            if holder not in openable:
                conversations, _ = self.customers.conversations(holder, MAX_ACCESS_SCAN)
                openable[holder] = {c.id for c in conversations if may_see(c)}
            return openable[holder]
        duplicates = []
        for other_id, evidence in found.items():
            other = self.customers.get(other_id)
            if other is None or other.merged_into == customer.id or customer.merged_into == other_id:
                continue
            if other.merged_into:
                continue        # seen through the customer it was merged into
            if customer.name and other.name and customer.name.casefold() == other.name.casefold():
                evidence = [(f"{why}; both are named {other.name}", e) for why, e in evidence]
            if caller.admin or opened(other.id):
                duplicates.append(Duplicate(other, sorted(evidence, key=lambda x: x[1].at, reverse=True)))
        if not caller.admin and duplicates:
            visible = opened(customer.id).union(*(opened(d.customer.id) for d in duplicates))
            duplicates = [Duplicate(d.customer, [(why, _seen_where(e, visible)) for why, e in d.evidence])
                          for d in duplicates]
        duplicates.sort(key=lambda d: d.evidence[0][1].at, reverse=True)
        if duplicates:      # their names and addresses were shown: the read is on each one's trail too, as a search
            shown = [d.customer.id for d in duplicates]
            audit.note(also_shown=shown[:DUPLICATES_FILED], customers=shown)
        return duplicates

    @staticmethod
    def order_addresses(customer: Customer, seen: list[Evidence]) -> list[Identity]:
        """Where the customer's orders are found: their identities, and the emails the shop signed them in with in
        the web chat (the shop's word, as the conversation's order panel takes it: it finds orders, joins nobody)."""
        signed = [Identity(kind="email", address=e.address) for e in seen
                  if e.source == "shop_sign_in" and e.kind == "email"]
        return list({i.key: i for i in [*customer.identities, *signed]}.values())

    def _order_contacts(self, customer: Customer, seen: list[Evidence]) -> list[tuple[Any, str, str, str]]:
        """(order, kind, address, owner) for the emails and phones on the customer's orders that are a
        customer's identity: an order found by this customer's phone that carries another customer's email."""
        if self.orders_of is None:
            return []
        contacts = []
        for found in self.orders_of(self.order_addresses(customer, seen)):
            order = getattr(found, "order", found)
            for kind in ("email", "phone"):
                address = getattr(order, kind, None)
                if address:
                    contacts.append((order, kind, address))
        owners = self.customers.identities.get_many([(k, a) for _, k, a in contacts])
        return [(order, kind, address, owners[f"{kind}#{address}"].customer_id)
                for order, kind, address in contacts if f"{kind}#{address}" in owners]

    # ------------------------------------------------------------------ merging
    def merge(self, caller: Caller, customer_id: str, other_id: str, reason: str) -> MergeRecord:
        self.visible(caller, customer_id)
        self.visible(caller, other_id)
        record = self.merger.merge(customer_id, other_id, by=caller.id, reason=self.privacy.masked(reason)[0],
                                   names=agent_names(None, caller))
        _audited(record)
        return record

    def unmerge(self, caller: Caller, customer_id: str, merge_id: str, reason: str) -> MergeRecord:
        """Undo a merge of the customer. The caller must see both customers of the merge, as a merge needs: one of
        other customers, or of a customer the caller may not see (the other side of a merge undone since, another
        team's, or one merged into a customer they see), answers exactly as a merge that does not exist."""
        self.visible(caller, customer_id)
        record = self.customers.get_merge(merge_id)
        if record is not None:
            hidden = self._hidden_side(caller, record)
            if hidden is not None:
                side, exists = hidden
                raise merge_not_found(merge_id, customer_id, concerning=side, hidden_from_caller=exists)
        done = self.merger.unmerge(customer_id, merge_id, by=caller.id, reason=self.privacy.masked(reason)[0],
                                   names=agent_names(None, caller))
        _audited(done)
        return done

    def _hidden_side(self, caller: Caller, record: MergeRecord) -> tuple[str, bool] | None:
        """The customer of the merge the caller may not see (and whether it exists), None when they see both. While
        the merge holds, the survivor's history holds both customers' conversations, so each is judged by its own
        share of them, as the unmerge parts them (``merge.parted``): seeing one customer's conversation does not
        show the other's. A merge undone since is judged as two customers again."""
        if caller.admin:
            return None
        if record.status == "merged":
            holder = self.merger.survivor_of(record.survivor_id)
            shares = parted(record, self.customers.all_conversations(holder))
            for side, conversations in zip((record.survivor_id, record.merged_id), shares, strict=True):
                if not sees_one(caller, conversations, self.access):
                    return side, self.customers.get(side) is not None
            return None
        for side in (record.survivor_id, record.merged_id):
            try:
                self.visible(caller, side)
            except NotFound as exc:
                return side, exc.hidden
        return None


def sees_customer(caller: Caller, customer: Customer, customers: Customers, access: Access) -> bool:
    """Whether a customer is the caller's to see, the one rule of the profile route (``CustomerDesk.visible``) and of
    search's refused attempts (``logic.search``): admins see everyone; anyone else a customer one of whose
    ``MAX_ACCESS_SCAN`` newest conversations they may see (a merged customer's are the survivor's). One Query of
    ``ByCustomer`` (and a GetItem per merge hop)."""
    if caller.admin:
        return True
    return sees_one(caller, _history(customer, customers), access)


def visible_history(caller: Caller, customer: Customer, customers: Customers, access: Access) -> list[Conversation]:
    """The conversations the caller may see among the customer's ``MAX_ACCESS_SCAN`` newest, newest first: the
    history ``sees_customer`` judges by, for search to find a customer the profile route shows by the older
    conversation that makes them the caller's. One Query of ``ByCustomer`` (and a GetItem per merge hop)."""
    sees = access.seer(caller)
    return [c for c in _history(customer, customers) if sees(c)]


def _history(customer: Customer, customers: Customers) -> list[Conversation]:
    """A customer's ``MAX_ACCESS_SCAN`` newest conversations (a merged customer's are the survivor's)."""
    holder = Merger(customers).survivor_of(customer.id) if customer.merged_into else customer.id
    return customers.conversations(holder, MAX_ACCESS_SCAN)[0]


def sees_one(caller: Caller, conversations: list[Conversation], access: Access) -> bool:
    """Whether the caller may see one of these conversations (``Access.may_see``, the caller's teams read once)."""
    teams = set(access.teams(caller))
    if any(in_teams(c, teams) or c.assignee == caller.id or caller.id in c.granted for c in conversations):
        return True
    return caller.supervisor and any(access.may_see(caller, c) for c in conversations if c.assignee)


def _audited(record: MergeRecord) -> None:
    """The audit record of a merge or unmerge names both customers (found by either's id), the merge, and the
    conversations it moved and made one (ids only)."""
    folded = record.folded
    audit.note(customer_id=record.survivor_id, also_customers=[record.merged_id], merge_id=record.id,
               survivor_id=record.survivor_id, merged_id=record.merged_id,
               conversations_moved=record.conversations_moved or None,
               folded={"conversation": folded.conversation, "into": folded.into} if folded else None,
               after={"status": record.status})


def _seen_where(e: Evidence, visible: set[str]) -> Evidence:
    """The evidence naming the conversation and message where it was seen only when the caller may open that
    conversation: the address and why stay (they are what the agent decides on), another team's ids go."""
    if e.conversation_id is None or e.conversation_id in visible:
        return e
    return e.model_copy(update={"conversation_id": None, "message_id": None})


def _source(e: Evidence) -> str:
    return {"message": "message", "order": "order", "shop_customer": "shop record",
            "shop_sign_in": "sign-in on the shop's site"}[e.source]

