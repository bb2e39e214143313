"""Evidence for agents: email addresses and phone numbers a customer writes in a message ("it's
anna@example.com on my order", a signature). Never a link by itself (anyone can type an address): it is
kept under the customer and under the address, so ``logic.customers.duplicates`` shows the customer whose
identity it is, with the message that gave it.

Runs in the router, never in ingest: ingest only flags a message that may hold an address
(``may_hold_addresses``, no request), and the router reads the message only then.
"""

from __future__ import annotations

import re

from shopdesk import clock
from shopdesk.dal.conversations import Conversations
from shopdesk.dal.customers import Customers
from shopdesk.models import Message
from shopdesk.models.customer import Evidence

_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9][\w.+-]{0,63}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+")
_DIGITS = re.compile(r"\d")
MAX_EMAILS = 5


def may_hold_addresses(text: str | None) -> bool:
    """Cheap test at ingest: an ``@`` or at least seven digits."""
    return bool(text) and ("@" in text or len(_DIGITS.findall(text[:10000])) >= 7)  # type: ignore[operator]


def addresses_in(text: str, region: str | None) -> list[tuple[str, str]]:
    """(kind, address) written in ``text``: emails lower-cased, phones in E.164."""
    # imported here: ingest imports this module, and needs no phone data
    from shopdesk.phone import find_phones
    emails = list(dict.fromkeys(m.group(0).lower().rstrip(".") for m in _EMAIL.finditer(text[:10000])))
    return [*(("email", e) for e in emails[:MAX_EMAILS]), *(("phone", p) for p in find_phones(text, region))]


def signed_email(message: Message) -> str | None:
    """The email a shop signed its web-chat visitor in with (``webchat_inbound`` keeps the token's), lower-cased."""
    email = (message.payload or {}).get("email") if message.channel == "webchat" else None
    return email.strip().lower() if isinstance(email, str) and "@" in email else None


def note_addresses(conversations: Conversations, customers: Customers, conversation_id: str, message_sk: str,
                   region: str | None) -> list[Evidence]:
    """Keep what the message gives that is not already the customer's own identity: the addresses written in it,
    and the email a shop signed its web-chat visitor in with (the shop's word: still an agent's to merge on, since
    a shop's sign-in may not have proved the address, and the one-time code is the visitor's own proof)."""
    message = conversations.get_message(conversation_id, message_sk)
    signed = signed_email(message) if message is not None else None
    if message is None or not (message.text or signed):
        return []
    conv = conversations.get_meta(conversation_id)
    customer = customers.get(conv.customer.id)
    own = {i.key for i in (customer.identities if customer else conv.customer.identities)}
    found = [("message", kind, address) for kind, address in addresses_in(message.text or "", region)]
    if signed and ("email", signed) not in {(k, a) for _, k, a in found}:
        found.insert(0, ("shop_sign_in", "email", signed))
    evidence = [Evidence(kind=kind, address=address, source=source, conversation_id=conversation_id,  # type: ignore[arg-type]
                         message_id=message.id, at=clock.now())
                for source, kind, address in found if f"{kind}#{address}" not in own]
    if evidence:
        customers.record_evidence(conv.customer.id, evidence)
    return evidence
