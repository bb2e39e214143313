"""Search for the agent inbox: ``GET /agent/search?q=``, conversations and customers the caller may see.

The query is read first for exact keys (``parse``), each answered with one or two requests:

- a conversation id (``c_<ULID>``): one BatchGetItem of the conversation;
- an email address, a phone number (E.164, ``shopdesk.phone``; national ones in the shop's region), a
  handle (``@name`` or a provider id: Telegram, Messenger, Instagram, WhatsApp user ids, web-chat visitor
  ids): one BatchGetItem of every identity item the term may be, then one BatchGetItem of the customers and
  one ``ByCustomer`` Query per customer (at most ``MAX_CUSTOMERS``, ``PER_CUSTOMER`` conversations each);
- an order number (``#1001``, ``order 1001``, or a bare number of 3 to 12 digits): one Query of the
  commerce cache's number pointers and one BatchGetItem of the orders, whose email and phone are then
  looked up as identities (above);
- ``status:<status>`` narrows the answer to that status (labels will add ``label:`` the same way).

Words that are not a key (or a key that found nothing the caller may see: another team's customer answers as
nobody's) go to the search engine (``shopdesk.search``) when one is configured: first as a customer's name
(every word the start of a word of the name: ``ana r`` finds "Ana Ruiz"), at most ``MAX_CUSTOMERS`` customers,
read with one BatchGetItem and one ``ByCustomer`` Query each as above; then as full text, at most
``CANDIDATES`` conversations, read with one BatchGetItem. Every conversation found, by any path, is then kept
only if the caller may see it
(``shopdesk.logic.access``, one GetItem of the caller's agent record at most for the whole request); a
customer is shown when the caller may see one of their conversations found here (admins: every customer
found). A customer a key reached none of whose ``PER_CUSTOMER`` newest conversations the caller may see is
judged as their profile judges them (``logic.customers.visible_history``: their ``MAX_ACCESS_SCAN`` newest, one
``ByCustomer`` Query more for each such customer, at most ``MAX_CUSTOMERS``): found with the older conversations
that make them the caller's, or, with none, answered as nobody's, and then a conversation id, an email or a phone
that reached them is recorded as a refused attempt under that customer (``_refused_hidden``). A customer found by
name alone is not looked at further (a name is words, and a common one would cost a Query per other team's
customer it matches at every search). The answer holds at most
``limit`` conversations and ``MAX_CUSTOMERS`` customers, so a search costs a bounded number of reads whatever the
data: the engine's candidates and the keys' fixed fan-out.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shopdesk.commerce.models import Order
from shopdesk.commerce.numbers import order_numbers
from shopdesk.dal.agents import Agents
from shopdesk.dal.commerce import CommerceStore, still_pointing
from shopdesk.dal.search import SearchReads
from shopdesk.errors import BadRequest, NotFound, conversation_not_found
from shopdesk.logic.access import Access, Caller
from shopdesk.logic.customers import visible_history
from shopdesk.models import Conversation, ConversationStatus
from shopdesk.models.customer import Customer
from shopdesk.phone import to_e164
from shopdesk.privacy import audit
from shopdesk.search import SearchHit, SearchIndex
from shopdesk.search.text import words

CANDIDATES = 50            # conversations the engine may propose for one query
MAX_CUSTOMERS = 5
PER_CUSTOMER = 10          # a customer's newest conversations
HANDLE_KINDS = ("telegram", "messenger", "instagram", "whatsapp", "webchat")
EXACT_KEYS = ("conversation_id", "email", "phone")    # a person's identifier: reaching a hidden one is recorded
_CONVERSATION_ID = re.compile(r"^c_[0-9A-HJKMNP-TV-Z]{26}$", re.IGNORECASE)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_FILTER = re.compile(r"(?<!\S)(status|label):(\S*)", re.IGNORECASE)
_PHONE_CHARS = re.compile(r"^[+\d\s().\-/]{7,24}$")
_HANDLE = re.compile(r"^@?[\w.\-:]{2,128}$", re.UNICODE)
_ORDER_DIGITS = re.compile(r"^#?\d{3,12}$")


@dataclass(frozen=True)
class ParsedQuery:
    """What a search box text asks for."""

    text: str                                   # the words left for full-text search
    status: ConversationStatus | None = None
    conversation_id: str | None = None
    email: str | None = None
    phone: str | None = None
    handle: str | None = None
    order_numbers: tuple[str, ...] = ()


def parse_phone(raw: str, region: str | None = None) -> str | None:
    """E.164 for a number written with its country code (``+31 6 1234 5678``, ``0031…``), or, given the shop's
    region, a national one as agents and customers of that country write it (``(415) 555-0101`` in ``US``,
    ``06 1234 5678`` in ``NL``); else None (``shopdesk.phone``: libphonenumber)."""
    return to_e164(raw) or (to_e164(raw, region) if region else None)


def parse(q: str, region: str | None = None) -> ParsedQuery:
    """Split a search text into filters, the exact key it may be, and the words for full text. ``region``: the
    shop's country, for phone numbers written without their country code.

    BadRequest for an unknown filter or status, or a text with nothing to search for.
    """
    status: ConversationStatus | None = None
    for name, value in _FILTER.findall(q):
        if name.lower() == "label":
            raise BadRequest("labels are not available yet: search by status:<status> or text")
        try:
            status = ConversationStatus(value.lower())
        except ValueError:
            allowed = ", ".join(s.value for s in ConversationStatus)
            raise BadRequest(f"status:{value} is not a status ({allowed})") from None
    rest = " ".join(_FILTER.sub(" ", q).split())
    if not rest:
        raise BadRequest("say what to search for: a word, a phone, an email, an order number or an id")
    key: dict[str, Any] = {}
    if _CONVERSATION_ID.match(rest):
        key["conversation_id"] = "c_" + rest[2:].upper()
    elif _EMAIL.match(rest):
        key["email"] = rest.lower()
    else:
        numbers = order_numbers(rest)
        if _ORDER_DIGITS.match(rest):
            numbers = [rest.lstrip("#")]
        if numbers:
            key["order_numbers"] = tuple(numbers)
        if _PHONE_CHARS.match(rest) and (phone := parse_phone(rest, region)):
            key["phone"] = phone
        handle = rest.lstrip("@")
        if " " not in rest and _HANDLE.match(rest) and (not handle.isdigit() or len(handle) >= 5):
            key["handle"] = handle
    return ParsedQuery(text=rest, status=status, **key)


@dataclass
class Found:
    conversations: list[Conversation] = field(default_factory=list)
    customers: list[Customer] = field(default_factory=list)
    matched: dict[str, str] = field(default_factory=dict)     # conversation id -> how (email, text, ...)
    hits: dict[str, str] = field(default_factory=dict)        # conversation id -> best matching message id


def cached_orders(store: CommerceStore, per_number: int = 3) -> Callable[[str], list[Order]]:
    """Orders of the commerce cache by number: one Query of the pointers, one BatchGetItem of the orders
    (a pointer that outlived its order's number is skipped). The platform is not asked: search reads the
    cache that webhooks and order panels keep."""

    def lookup(number: str) -> list[Order]:
        refs = store.refs("number", number, limit=per_number)
        orders = {o.id: o for o in store.get_orders(refs.order_ids)}
        return still_pointing(refs, orders, "number", number)

    return lookup


class _MemoAgents:
    """The caller's (and assignees') agent records read once per search, however many conversations."""

    def __init__(self, agents: Agents) -> None:
        self.agents = agents
        self.seen: dict[str, Any] = {}

    def get(self, agent_id: str) -> Any:
        if agent_id not in self.seen:
            self.seen[agent_id] = self.agents.get(agent_id)
        return self.seen[agent_id]


@dataclass
class Search:
    reads: SearchReads
    agents: Agents
    index: SearchIndex | None
    orders_by_number: Callable[[str], list[Order]] | None = None     # commerce cache: number -> orders
    phone_region: str | None = None        # the shop's country: a national number typed in the box is its phone

    def search(self, caller: Caller, q: str, limit: int = 20) -> Found:
        query = parse(q, self.phone_region)
        found = Found()
        conversations: dict[str, Conversation] = {}
        customers: dict[str, Customer] = {}

        def keep(convs: list[Conversation], how: str) -> None:
            for conv in convs:
                if conv.id not in conversations:
                    conversations[conv.id] = conv
                    found.matched[conv.id] = how

        if query.conversation_id:
            keep(self.reads.conversations([query.conversation_id]), "id")
        identities: list[tuple[tuple[str, str], str]] = []
        if query.email:
            identities.append((("email", query.email), "email"))
        if query.phone:
            identities.append((("phone", query.phone), "phone"))
        if query.handle:
            identities.extend(((kind, query.handle), "handle") for kind in HANDLE_KINDS)
        order_identities: list[tuple[str, str]] = []
        for number in query.order_numbers[:3]:
            for order in self.orders_by_number(number) if self.orders_by_number else []:
                if order.email:
                    order_identities.append(("email", order.email.lower()))
                if order.phone:
                    order_identities.append(("phone", order.phone))
        reached = self._by_identities(identities, keep, customers)
        by_order = self._by_identities([(i, "order") for i in order_identities], keep, customers)

        access = Access(_MemoAgents(self.agents))  # type: ignore[arg-type]
        opened = self._older_history(caller, {**by_order, **reached}, customers, conversations, keep, access)
        # Full text when the keys found nothing the caller may see: a key that found only another team's
        # conversations must answer as one that found nothing (or the answer would tell them it exists).
        if self.index is not None and query.text and words(query.text) \
                and not any(access.may_see(caller, c) for c in conversations.values()):
            named = self.index.query_customers(query.text, limit=MAX_CUSTOMERS)
            for customer in self.reads.customers(named) if named else []:
                if customer.merged_into:           # the index has not caught up with a merge yet
                    continue
                customers.setdefault(customer.id, customer)
                keep(self.reads.conversations_of(customer.id, PER_CUSTOMER), "name")
            hits: list[SearchHit] = self.index.query(query.text, limit=CANDIDATES)
            found.hits = {h.conversation_id: h.message_id for h in hits}
            keep(self.reads.conversations([h.conversation_id for h in hits]), "text")

        visible = [c for c in conversations.values()
                   if access.may_see(caller, c) and (query.status is None or c.status == query.status)]
        found.conversations = visible[:limit]
        shown = {c.customer.id for c in visible}
        found.customers = [c for c in customers.values() if caller.admin or c.id in shown][:MAX_CUSTOMERS]
        found.matched = {c.id: found.matched[c.id] for c in found.conversations}
        found.hits = {cid: mid for cid, mid in found.hits.items() if cid in found.matched}
        self._refused_hidden(caller, query, conversations, reached, opened, access)
        self._audited(query, found)
        return found

    def _older_history(self, caller: Caller, reached: dict[str, str], customers: dict[str, Customer],
                       conversations: dict[str, Conversation], keep: Callable[[list[Conversation], str], None],
                       access: Access) -> set[str]:
        """The customers a key reached whom the caller may see. One none of whose ``PER_CUSTOMER`` newest
        conversations is the caller's is looked at as their profile looks at them (``visible_history``: their
        ``MAX_ACCESS_SCAN`` newest, one ``ByCustomer`` Query): an older conversation of the caller's team makes them
        the caller's, and search finds them with it (at most ``PER_CUSTOMER`` of those), as the profile route
        shows them; one with none stays hidden, as nobody's."""
        if caller.admin:
            return set(reached)
        sees = access.seer(caller)
        opened = {c.customer.id for c in conversations.values() if sees(c)}
        for customer_id, how in reached.items():
            if customer_id in opened:
                continue
            older = visible_history(caller, customers[customer_id], self.reads.records, access)
            if older:
                opened.add(customer_id)
                keep(older[:PER_CUSTOMER], how)
        return opened

    def _refused_hidden(self, caller: Caller, query: ParsedQuery, conversations: dict[str, Conversation],
                        reached: dict[str, str], opened: set[str], access: Access) -> None:
        """An exact identifier (``EXACT_KEYS``: a conversation id, an email address, a phone number) that reached
        what the caller may not see is a refused attempt (``not_visible``) under that customer, the answer as for
        an identifier nobody has: the conversation of that id, hidden from the caller; a customer of that address
        the caller may not see by the profile route's rule (not in ``opened``: ``_older_history``). The record
        says which kind of identifier it was (``details.query``), never the text. Words, handles and order numbers
        are no such reach (docs/security.md, section 9): what they match and the caller may not see is filtered, as
        any search's is."""
        if caller.admin:
            return
        hidden: dict[str, tuple[str, NotFound]] = {}        # customer -> (the key's kind, the refusal)
        conv = conversations.get(query.conversation_id or "")
        if conv is not None and not access.may_see(caller, conv):
            hidden[conv.customer.id] = ("conversation_id", conversation_not_found(
                conv.id, hidden_from_caller=True, customer_id=conv.customer.id))
        for customer_id, kind in reached.items():
            if kind in EXACT_KEYS and customer_id not in opened and customer_id not in hidden:
                hidden[customer_id] = (kind, NotFound(f"customer {customer_id} does not exist").concerning(
                    {"customer_id": customer_id}, hidden=True))
        for kind, refusal in hidden.values():
            audit.refused(refusal, answered=True, query=kind)

    @staticmethod
    def _audited(query: ParsedQuery, found: Found) -> None:
        """The search's audit record, under each customer the answer shows (their profile, or a conversation of
        theirs), so a customer's trail says who looked them up. It holds what the text was read as (``query``:
        email, phone, handle, order, conversation id, words), never the text: a phone number or an address typed
        is the person's data, and a hash of one is found again by trying every number."""
        shown = list(dict.fromkeys([*(c.id for c in found.customers),
                                    *(c.customer.id for c in found.conversations)]))
        kinds = [kind for kind, given in (("conversation_id", query.conversation_id), ("email", query.email),
                                          ("phone", query.phone), ("handle", query.handle),
                                          ("order", query.order_numbers)) if given] or ["words"]
        narrowed = {"status": query.status.value} if query.status else {}
        audit.note(customer_id=shown[0] if shown else None, also_customers=shown[1:], query=kinds, **narrowed,
                   found={"conversations": len(found.conversations), "customers": len(shown)})

    def _by_identities(self, identities: list[tuple[tuple[str, str], str]],
                       keep: Callable[[list[Conversation], str], None], customers: dict[str, Customer]
                       ) -> dict[str, str]:
        """The customers of ``identities`` with their conversations (``keep``); answers each customer's id with the
        key that found them (``email``, ``phone``, ...)."""
        if not identities:
            return {}
        how = {}
        for key, reason in identities:
            how.setdefault(key, reason)
        ids = self.reads.customer_ids_of(list(how))[:MAX_CUSTOMERS]
        reason_of = dict.fromkeys(ids, identities[0][1])
        reached: dict[str, str] = {}
        for customer in self.reads.customers(ids):
            customers.setdefault(customer.id, customer)
            matched = next((how[(i.kind, i.address)] for i in customer.identities
                            if (i.kind, i.address) in how), reason_of[customer.id])
            reached[customer.id] = matched
            keep(self.reads.conversations_of(customer.id, PER_CUSTOMER), matched)
        return reached
