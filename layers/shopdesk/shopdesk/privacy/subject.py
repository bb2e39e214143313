"""Everything shopdesk holds about one customer (the data subject), found by key: what an export writes out
and an erase removes. Customers merged into the one asked for are part of them (the merge moved their
conversations and identities; their records and timelines stay under their own ids); one merged apart again since
(the merge record ``unmerged``) is a person of their own, and is not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger

from shopdesk import clock
from shopdesk.dal import items as it
from shopdesk.dal.commerce import order_pk, shop_customer_pk
from shopdesk.dal.customers import mention_pk, seen_sk
from shopdesk.dal.privacy import Files, Key, SubjectData
from shopdesk.dal.unsupported import RETENTION_SECONDS as UNSUPPORTED_SECONDS
from shopdesk.phone import to_e164
from shopdesk.privacy.masking import MASK

logger = Logger(child=True)

MAX_CUSTOMERS = 50          # the customer and those merged into them, transitively
SHARED_FILES = "media/library/"   # a canned response's files, sent to many customers: the shop's, never erased


@dataclass
class Subject:
    customer_id: str
    customer_ids: list[str] = field(default_factory=list)
    items: dict[Key, dict[str, Any]] = field(default_factory=dict)     # every item about them, by key
    conversation_ids: list[str] = field(default_factory=list)
    files: list[tuple[str, str]] = field(default_factory=list)          # (bucket, key): attachments, raw mail
    markers: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)   # (provider, id): its marker
    addresses: set[tuple[str, str]] = field(default_factory=set)        # (kind, address) of their identities
    privacy_requests: list[dict[str, Any]] = field(default_factory=list)   # the platform's requests about them
    assigned: list[tuple[str, str]] = field(default_factory=list)       # (conversation, agent) holding a seat
    # the conversations of customers once merged with them (merged apart again since) they wrote into while merged:
    # each one's record (not theirs: it stays, without their route and name) and their messages there (in ``items``)
    elsewhere: list[dict[str, Any]] = field(default_factory=list)
    elsewhere_keys: list[Key] = field(default_factory=list)   # their messages there, and evidence their words gave

    def add(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self.items[(row["PK"], row["SK"])] = row

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [row for row in self.items.values() if row.get("type") == kind]

    def merged_with(self) -> list[str]:
        """The other customers of their merges (merged apart again since, or the merge record names them), found
        from their timeline entries and merge records."""
        ours = set(self.customer_ids)
        others = {row["event"].get("other_id") for row in self.of_type("customer_event")}
        others |= {row["merge"].get(side) for row in self.of_type("merge") for side in ("survivor_id", "merged_id")}
        return sorted(c for c in others if c and c not in ours)

    def identity_keys(self) -> set[str]:
        """Their identities as an inbound message names the one it came from (``kind#address``)."""
        return {f"{kind}#{address}" for kind, address in self.addresses}


def _bucket_files(message: dict[str, Any], media_bucket: str | None, mail_bucket: str | None
                  ) -> list[tuple[str, str]]:
    """A message's files and its raw mail: the raw mail in ``mail_bucket`` (the function's own setting) under the key
    the message names; the bucket the message names only when none is set, and unless masked. A message stored while
    masking still read the whole payload may name the bucket masked ("…-inbound-mail-[BSN •••• 6789]012"), which no
    S3 request takes."""
    files = [(media_bucket, a["storage_key"]) for a in message.get("attachments") or []
             if isinstance(a, dict) and a.get("storage_key") and media_bucket
             and not str(a["storage_key"]).startswith(SHARED_FILES)]
    files += _raw_mail((message.get("payload") or {}).get("source"), mail_bucket)
    return files


def _raw_mail(where: Any, mail_bucket: str | None) -> list[tuple[str, str]]:
    """The raw mail a ``{"bucket", "key"}`` names (a message's ``payload.source``, an unsupported mail's copy): in
    ``mail_bucket`` under its key; in the bucket it names only when none is set, and unless masked."""
    if not isinstance(where, dict) or not where.get("key"):
        return []
    stored = str(where.get("bucket") or "")
    bucket = mail_bucket or (stored if MASK not in stored else None)
    return [(bucket, str(where["key"]))] if bucket else []


def _unsupported_mail(records: list[dict[str, Any]], mail_bucket: str | None) -> list[tuple[str, str]]:
    """The raw mail of the unreadable mails among these unsupported records (``logic.email_inbound``: no From, a From
    that failed its checks, not MIME): each item's copy names where SES stored it, as a message's source does."""
    return [found for record in records if record.get("provider") == "email"
            for item in record.get("items") or [] if isinstance(item, dict)
            for found in _raw_mail(item.get("raw"), mail_bucket)]


# A stretch a masking pattern rewrote in a key (``privacy.masking._label``): the pattern's name, the mask, and the last
# four characters of what it hid when it was longer than eight
_MASKED = re.compile(rf"\[[^\]]*? {re.escape(MASK)}(?: (?P<tail>[^\]]{{4}}))?\]")


def _unmasked(files: Files, bucket: str, key: str) -> str | None:
    """The key a masking pattern rewrote in a message (``_MASKED``) as it is in the bucket: the keys under the part
    before the first masked stretch (ListObjectsV2) that have the masked key's shape (its other parts as they are, each
    stretch one or more characters ending in its last four). None when not one key alone has it (gone already, or
    several alike): nothing is guessed, so no one else's mail is deleted. Nor when the masked stretch starts the
    object's name (the part before it is only a folder, ``raw/``): that listing is the folder's every key, 90 days of
    everyone's mail, paged through on every read of an export or erase; logged, the file is left to its bucket's
    expiry."""
    parts = _MASKED.split(key)          # text, tail, text, tail, …, text
    if len(parts) < 3:
        return None
    if not parts[0].rpartition("/")[2]:
        logger.warning("a masked file key keeps nothing of its name before the mask: not looked for",
                       extra={"bucket": bucket, "prefix": parts[0]})
        return None
    shape = "".join(re.escape(part or "") if index % 2 == 0 else f".+?{re.escape(part or '')}"
                    for index, part in enumerate(parts))
    found = [k for k in files.keys(bucket, parts[0]) if re.fullmatch(shape, k, re.DOTALL)]
    return found[0] if len(found) == 1 else None


def _resolved(files: Files | None, found: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The files with each key a masking pattern rewrote read back from its bucket (``_unmasked``); one not found is
    left out (logged: its message's id is not said, only that one was), and expires with its bucket's lifecycle rule."""
    kept: list[tuple[str, str]] = []
    for bucket, key in found:
        if MASK not in key:
            kept.append((bucket, key))
        elif files is not None and (real := _unmasked(files, bucket, key)) is not None:
            kept.append((bucket, real))
        elif files is not None:
            logger.warning("a masked file key names no one object: left to its bucket's expiry",
                           extra={"bucket": bucket})
    return list(dict.fromkeys(kept))


def conversation_uploads(conversation_id: str) -> str:
    """Where agents' uploads for a reply in a conversation land (``logic.attachments.outbound_prefix``)."""
    return f"media/outbound/{conversation_id}/"


def _uploads(files: Files, media_bucket: str, subject: Subject) -> list[tuple[str, str]]:
    """The files uploaded for the customer that no message names: an agent's for a reply in one of their
    conversations (``media/outbound/<conversation>/<agent>/``, ``logic/attachments.py``) and their web-chat
    visitors' (``media/webchat/<visitor>/``, ``logic/widget.py``), sent or not, found by prefix (ListObjectsV2). A
    visitor id holds no ``/`` (``channels.webchat``), so no prefix reaches another visitor's files."""
    prefixes = [conversation_uploads(conversation_id) for conversation_id in subject.conversation_ids]
    prefixes += [f"media/webchat/{address}/" for kind, address in sorted(subject.addresses)
                 if kind == "webchat" and address and "/" not in address]
    known = set(subject.files)
    return [(media_bucket, key) for prefix in prefixes for key in files.keys(media_bucket, prefix)
            if (media_bucket, key) not in known]


def _pointers_of_records(data: SubjectData, subject: Subject) -> None:
    """The order cache's pointers to the subject's orders and shop customers under every value they carry: an
    order found by the customer's phone also points to it from its email and its number, which may be none of
    the customer's identities (a phone-only customer whose order carries their email). A value's lookup
    record (``SYNC``, when the platform was last asked about it) goes too once every pointer of that value is
    the subject's: it names only their address."""
    for kind_of_record, ref in (("order", "order_id"), ("shop_customer", "customer_id")):
        for record in subject.of_type(kind_of_record):
            platform, record_id = record["PK"].split("#")[1], str(record.get("id") or "")
            for kind in ("email", "phone", "number"):
                value = record.get(kind)
                if not value or not record_id:
                    continue
                rows = data.commerce_refs(platform, kind, str(value))
                subject.add([p for p in rows if str(p.get(ref) or "") == record_id])
                refs = [p for p in rows if p.get("order_id") or p.get("customer_id")]
                if all((p["PK"], p["SK"]) in subject.items for p in refs):
                    subject.add([p for p in rows if p.get("type") == "order_lookup"])


def shop_records(data: SubjectData, platform: str, customer_id: str | None, addresses: Iterable[tuple[str, str]],
                 order_ids: Iterable[str]) -> Subject:
    """What the order cache holds of someone the shop platform asks to redact, whether or not a customer of ours has
    their addresses: the platform's customer record of its id, the orders the request names, the orders and shop
    customers their emails and phones point to (with those pointers and lookup records), and every other pointer to
    those records (``_pointers_of_records``: an order's number, the other email it was placed with)."""
    subject = Subject(customer_id or "")
    keys = [(shop_customer_pk(platform, customer_id), it.META)] if customer_id else []
    subject.add(data.by_keys(keys + [(order_pk(platform, order_id), it.META) for order_id in order_ids]))
    found = [(kind, str(record.get(kind) or "")) for record in subject.of_type("shop_customer")
             for kind in ("email", "phone")]
    for kind, address in dict.fromkeys([*addresses, *found]):
        if address:
            subject.add(data.commerce(kind, address))
    _pointers_of_records(data, subject)
    return subject


def gather(data: SubjectData, customer_id: str, media_bucket: str | None, files: Files | None = None,
           mail_bucket: str | None = None) -> Subject | None:
    """The subject, or None when the customer does not exist (or was erased already). With ``files``, the files
    uploaded for them but never sent too (``_uploads``), and a raw mail's key a masking pattern rewrote read back
    (``_resolved``). ``mail_bucket``: where SES stores raw mail (the messages name only the key that counts)."""
    first = data.customer(customer_id)
    if not any(row["SK"] == it.META for row in first):
        return None
    subject = Subject(customer_id)
    pending, seen = [customer_id], set()
    partitions = {customer_id: first}
    while pending and len(seen) < MAX_CUSTOMERS:
        cid = pending.pop()
        if cid in seen:
            continue
        seen.add(cid)
        rows = partitions.pop(cid, None) or data.customer(cid)
        subject.customer_ids.append(cid)
        subject.add(rows)
        for row in rows:
            if row["SK"] == it.META:
                subject.addresses |= {(i["kind"], i["address"]) for i in row.get("identities") or []}
            event = row.get("event") or {}
            merge = data.merge(event["merge_id"]) if event.get("merge_id") else None
            subject.add([merge] if merge else [])
            if (event.get("kind") == "merged" and event.get("other_id") and merge is not None
                    and merge.get("status") == "merged"):
                pending.append(event["other_id"])          # a customer merged into this one (and not apart since)
            evidence = row.get("evidence") or {}
            if row["SK"].startswith("SEEN#") and evidence.get("kind") and evidence.get("address"):
                subject.add(data.by_keys([(mention_pk(evidence["kind"], evidence["address"]),
                                           it.customer_pk(cid))]))
        subject.conversation_ids += data.conversation_ids(cid)
    # and those their identities name (read consistently): one opened a moment ago may not be in the customer index
    # yet (an erase reads again after marking their numbers, to find what a kept message's replay stored meanwhile)
    subject.conversation_ids += [row[name] for row in data.identities(subject.addresses)
                                 if row.get("customer_id") in subject.customer_ids
                                 for name in ("open_conversation_id", "last_conversation_id",
                                              "reopenable_conversation_id") if row.get(name)]
    subject.conversation_ids = list(dict.fromkeys(subject.conversation_ids))

    provider_ids = []
    _written_elsewhere(data, subject, media_bucket, mail_bucket, provider_ids)
    event_markers: list[Key] = []
    for conversation_id in subject.conversation_ids:
        rows = data.conversation(conversation_id)
        subject.add(rows)
        subject.add(data.visitor_sockets(conversation_id))     # a visitor's page open on it: ids, until it closes
        for row in rows:
            if row.get("type") == "conversation":
                subject.addresses |= {(i["kind"], i["address"]) for i in (row.get("customer") or {}).get(
                    "identities") or []}
                subject.addresses |= route_addresses(row)
                if row.get("assignee") and row.get("status") in ("open", "pending", "snoozed"):
                    subject.assigned.append((conversation_id, row["assignee"]))
            elif row.get("type") == "message":
                subject.files += _bucket_files(row, media_bucket, mail_bucket)
                provider_ids += sent_ids(row)
                if row.get("event_marker"):
                    event_markers.append((str(row["event_marker"]), it.META))
    # the markers of the providers' events on their timelines (a reaction's, an edit's): an event's id may name them
    # (a Messenger reaction's holds their id); deleted with the rest, nothing left, as a replay finds no conversation
    subject.add(data.by_keys(event_markers))
    found = {row["PK"]: row for row in (data.markers(provider_ids) if provider_ids else [])}
    subject.markers = {(p, pid): found[it.marker_pk(p, pid)] for p, pid in provider_ids
                       if it.marker_pk(p, pid) in found}
    subject.add(list(subject.markers.values()))          # deleted with the rest; a hash of each id stays

    ours = set(subject.customer_ids)
    subject.add([row for row in data.identities(subject.addresses) if row.get("customer_id") in ours])
    for kind, address in sorted(subject.addresses):
        for mention in data.mentions(kind, address):       # anyone who wrote their address, and its evidence
            subject.add([mention])
            subject.add(data.by_keys([(mention["SK"], seen_sk(kind, address))]))
        if kind in ("email", "phone"):
            subject.add(data.commerce(kind, address))
        if kind == "webchat":
            subject.add(data.by_keys([(f"OTP#{address}", it.META)] + [
                (f"RATE#webchat-{bucket}#{address}", it.META)
                for bucket in ("otp", "otp-check", "session", "send", "socket")]))
    _pointers_of_records(data, subject)
    unreadable = _naming(data.unsupported(UNSUPPORTED_SECONDS // 86400), subject.addresses)
    subject.add(unreadable)
    subject.files += _unsupported_mail(unreadable, mail_bucket)
    subject.files = _resolved(files, subject.files)
    if files is not None and media_bucket:
        subject.files += _uploads(files, media_bucket, subject)

    values = {address for _, address in subject.addresses}
    for request in data.privacy_requests():        # naming an address of theirs, or covering them
        body = json.loads(request.get("body") or "{}")
        customer = body.get("customer") or {}
        if ({customer.get("email"), str(customer.get("email") or "").strip().lower(), customer.get("phone")} & values
                or set(request.get("jobs") or {}) & ours):
            subject.privacy_requests.append(request)
    return subject


def _written_elsewhere(data: SubjectData, subject: Subject, media_bucket: str | None, mail_bucket: str | None,
                       provider_ids: list[tuple[str, str]]) -> None:
    """What they wrote into a conversation of a customer once merged with them: while one customer, their identities
    held the shared open conversation, and the messages they wrote there stay in it after the unmerge. Each inbound
    message whose ``identity`` is one of theirs is theirs (its files and marker too), and so is the evidence its words
    gave the other customer (an address seen in it: ``SEEN#``, and its ``MENTION#``); the conversation's record is
    kept in ``elsewhere`` when it holds one of these, a route to an address of theirs or their name (the merge's, on
    one opened while they were one): the erase takes their route and name off it. An inbound message stored before
    messages named their identity names none: it is theirs when it came while they were merged on a channel only they
    had of the two (``_unnamed_theirs``)."""
    ours = subject.identity_keys()
    names = {row["name"] for row in subject.of_type("customer") if row.get("name")}
    for other in subject.merged_with():
        unnamed = _unnamed_theirs(subject, other)
        for conversation_id in data.conversation_ids(other):
            if conversation_id in subject.conversation_ids:
                continue
            rows = data.conversation(conversation_id)
            theirs = [row for row in rows if row.get("type") == "message" and row.get("direction") == "inbound"
                      and (row.get("identity") in ours or unnamed(row))]
            meta = next((row for row in rows if row["SK"] == it.META and row.get("type") == "conversation"), None)
            if meta is not None and (theirs or route_addresses(meta) & subject.addresses or _route_keys(meta) & ours
                                     or (meta.get("customer") or {}).get("name") in names):
                subject.elsewhere.append(meta)
            subject.add(theirs)
            subject.elsewhere_keys += [(row["PK"], row["SK"]) for row in theirs]
            said = {row["id"] for row in theirs}
            seen = [row for row in data.seen(other) if (row.get("evidence") or {}).get("message_id") in said] \
                if said else []
            for row in seen:
                evidence = row["evidence"]
                mention = (mention_pk(evidence["kind"], evidence["address"]), it.customer_pk(other))
                subject.add([row, *data.by_keys([mention])])
                subject.elsewhere_keys += [(row["PK"], row["SK"]), mention]
            for row in theirs:
                subject.files += _bucket_files(row, media_bucket, mail_bucket)
                provider_ids += sent_ids(row)


def _identity_kinds(channel: Any) -> set[str]:
    """The kinds of identity a channel's customers write from: SMS's the phone, WhatsApp's the phone or, for one
    without a number (WhatsApp Cloud's user id, ``channels.whatsapp_cloud``), ``whatsapp``; another's its name."""
    if channel == "sms":
        return {"phone"}
    if channel == "whatsapp":
        return {"phone", "whatsapp"}
    return {str(channel or "")}


def _unnamed_theirs(subject: Subject, other: str) -> Callable[[dict[str, Any]], bool]:
    """Whether an inbound message in a conversation of ``other`` that names no identity (stored before messages did) is
    the subject's: it came while a merge of theirs with ``other`` held (from its ``at`` to its ``unmerged_at``, their
    merge records), on a channel whose kinds of identity (``_identity_kinds``: a WhatsApp message's may be the phone or
    a WhatsApp user id) only the subject's side had at that merge (its ``survivor_identities`` and
    ``merged_identities``). One on a kind both had, or the other alone, cannot be told apart, and stays
    (docs/security.md, known limits)."""
    ours = set(subject.customer_ids)
    windows: list[tuple[datetime, datetime | None, set[str], set[str]]] = []
    for row in subject.of_type("merge"):
        merge = row.get("merge") or {}
        sides = {merge.get("survivor_id"): merge.get("survivor_identities") or [],
                 merge.get("merged_id"): merge.get("merged_identities") or []}
        if other not in sides or not ours & set(sides) or not merge.get("at"):
            continue
        kinds = {str(key).split("#", 1)[0] for side, keys in sides.items() if side in ours for key in keys}
        others = {str(key).split("#", 1)[0] for key in sides[other]}
        until = clock.parse_iso(str(merge["unmerged_at"])) if merge.get("unmerged_at") else None
        windows.append((clock.parse_iso(str(merge["at"])), until, kinds, others))

    def theirs(message: dict[str, Any]) -> bool:
        if message.get("identity") or not message.get("created_at") or not windows:
            return False
        at, kinds_of = clock.parse_iso(str(message["created_at"])), _identity_kinds(message.get("channel"))
        return any(start <= at and (until is None or at < until) and kinds_of & kinds and not kinds_of & others
                   for start, until, kinds, others in windows)
    return theirs


def sent_ids(message: dict[str, Any]) -> list[tuple[str, str]]:
    """Each provider id a message is known by, ``(provider, id)``: its ``provider_id`` and, for a reply sent as
    several provider messages, each part's (``part_ids``, the first of them the ``provider_id``); each has a marker.
    A reply whose send record reached the markers but not the reply knows its parts only from the receipts that
    carried our reference (``confirmed``: part -> id): those ids have markers too."""
    if not message.get("provider"):
        return []
    ids = (message.get("provider_id"), *(message.get("part_ids") or []), *(message.get("confirmed") or {}).values())
    return [(str(message["provider"]), str(pid)) for pid in dict.fromkeys(ids) if pid]


def _route_keys(conversation: dict[str, Any]) -> set[str]:
    """Each route's address as an identity of its channel names it (``<channel>#<to>``: Messenger, Telegram, the web
    chat; an email's and a phone's are ``route_addresses``)."""
    return {f"{channel}#{(route or {}).get('to')}" for channel, route in (conversation.get("routes") or {}).items()
            if (route or {}).get("to")}


def route_addresses(conversation: dict[str, Any]) -> set[tuple[str, str]]:
    """The addresses a conversation's routes answer to, as the orders panel looks them up
    (``commerce.lookup.conversation_identities``): an email route's address, an SMS or WhatsApp number, and the
    email a shop signed its web-chat visitor in with. The order cache keeps pointers under each."""
    found: set[tuple[str, str]] = set()
    routes = dict(conversation.get("routes") or {})
    if conversation.get("route"):
        routes.setdefault(str((conversation["route"] or {}).get("channel")), conversation["route"])
    for route in routes.values():
        channel, to = (route or {}).get("channel"), str((route or {}).get("to") or "")
        if channel == "email" and "@" in to:
            found.add(("email", to.strip().lower()))
        elif channel in ("sms", "whatsapp") and (phone := to_e164(to)):
            found.add(("phone", phone))
        elif channel == "webchat" and "@" in str(((route or {}).get("context") or {}).get("email") or ""):
            found.add(("email", str(route["context"]["email"]).strip().lower()))
    return found


def _naming(records: list[dict[str, Any]], addresses: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    """The records of webhooks that could not be stored (``dal.unsupported``) that name one of these addresses:
    as the customer an item came from, or anywhere in the bounded copy of what the provider sent, a phone number
    with or without its ``+`` (Meta writes ``31655501234``); a whole value, not part of a longer one (``+3165550``
    does not name ``+31655501234``)."""
    wanted = {address for _, address in addresses if address}
    wanted |= {address.removeprefix("+") for kind, address in addresses if kind == "phone" and len(address) > 4}
    if not wanted or not records:
        return []
    either = "|".join(re.escape(a) for a in sorted(wanted, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w+.@-])(?:{either})(?![\w.@-])", re.IGNORECASE)
    named = []
    for record in records:
        items = record.get("items") or []
        if (any(isinstance(i, dict) and i.get("customer_address") in wanted for i in items)
                or pattern.search(json.dumps(items, default=str, ensure_ascii=False))):
            named.append(record)
    return named
