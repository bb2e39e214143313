"""The masking in force applied to what was stored before it (#14): ``python -m scripts.backfill masking`` (all at
once: ``remask``), and the ``masking`` privacy job a save of new masking patterns starts (``privacy/jobs.py``, a
slice per invocation: ``remask_step``).

Everything is masked as it is written (``logic/ingest.py``, ``PrivacyPolicies.masked``, ``commerce/masking.py``), so
what was stored by an earlier version, or before a shop pattern was added, keeps its words as they came. This walks
the table page by page (a Scan, ``dal/texts.py``: these items are on no one index; ``PAGE`` items read a request,
never the table at once) and masks, with the write path's own functions (``mask`` and ``mask_name``, the shop's
patterns as saved):

- a customer's message: its text, subject and edited text, its payload as ingest masks it (every string but the
  mail's headers, the reply context and the machine fields: ids, keys, links, where the mail is; of the mail's part,
  its subject and quoted history), and ``masked`` lists what it masked; a note: its text. A message's files keep
  their names: their copy's key in the media bucket is made from it;
- an answer: what the desk writes itself from the customer's words (an acknowledgement greeting them by name, the
  bot's answer, a survey and its follow-up: ``DESK_WRITTEN``) and a person's reply (a reply, a template, a macro's, a
  Send again, which ``Inbox`` masks as it stores them: one stored before keeps what it said only until this runs),
  its text, subject (the customer's, with a reply prefix) and a template's parameters, and ``masked`` lists what it
  masked; a person's reply as ``Inbox`` masks it (``mask``'s ``ibans=False``: card numbers and the shop's patterns,
  an IBAN kept, the shop's, given to be paid). An answer whose delivery is not settled (no provider id recorded and
  not failed: queued, or its intent recorded and the send unconfirmed) is left for a later run (``unsettled``): the
  dispatcher's lookup of an unconfirmed send (``Sender.find``: Twilio's matches the body) would miss a text changed
  under it, and the reply would go twice. A system entry is not read;
- a canned response or a knowledge-base article is not read: its bodies (its body), text sent to customers, are
  masked as saved as a reply is (``PrivacyPolicies.masked_sent``, an IBAN kept), so no run masks the shop's IBAN in
  them back;
- a conversation: the last message's preview, the customer's name it shows, the mail's subject the answers go under
  (each route's ``context.subject``, and the one ``route`` of an item written before routes were kept per channel)
  and the bot's copy of the customer's question;
- a customer's record and each of their identities: the name;
- a satisfaction survey: the customer's comment;
- the commerce cache's orders and shop customers (``RecordMasking``).

Only the fields masking changes are written, each conditioned on the value read (``StoredTexts.replace``): a write
made meanwhile wins, and the item is read again at the next run (``changed_meanwhile``); an order or a shop customer
is read again at once, up to ``ATTEMPTS`` times, since a webhook's merge may have kept what it held. What is masked
already is not written, so a second run writes nothing, and a run stopped anywhere can be run again. The search
index follows: it is fed by the table's stream, and a message whose words changed, or a customer whose name did,
is indexed again from its new image by the indexer (``search/feed.py``), its old terms replaced.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from shopdesk.commerce.masking import RecordMasking
from shopdesk.commerce.models import Order, ShopCustomer
from shopdesk.dal.commerce import CACHED_KINDS, CachedRecord, CachedRecords, cached_record
from shopdesk.dal.config import ConfigStore
from shopdesk.dal.table import ConditionFailed, Table
from shopdesk.dal.texts import StoredTexts
from shopdesk.logic.ingest import masked_payload, masked_value
from shopdesk.privacy.masking import machine_field, mask, mask_name
from shopdesk.privacy.settings import PrivacyPolicies, PrivacyPolicy

PAGE = 200
ATTEMPTS = 4
RESERVE_SECONDS = 60.0      # a job's step stops between pages with this much time left
# what is read, by kind; each also counted as ``<kind>_masked`` when written (or, a dry run, to be written)
KINDS = ("messages", "answers", "notes", "conversations", "customers", "identities", "surveys", "orders",
         "shop_customers")
COUNTS = (*KINDS, *(f"{kind}_masked" for kind in KINDS), "changed_meanwhile", "unsettled")
PAYLOAD_KEPT = ("email", "reply_context")       # ingest masks the mail's subject and quoted history, not its headers
# answers the desk writes itself, from the customer's words (their name, their subject, their question): masked as
# the customer's are; a person's reply as ``Inbox`` masks it, an IBAN kept (the shop's, given to be paid)
DESK_WRITTEN = frozenset({"acknowledgement", "bot", "bot_answer", "csat_survey", "csat_follow_up"})
ROUTE_KEY = re.compile(r"[a-z_]+")     # a channel's name, as a route is kept under it (``routes.<channel>``)

Changes = dict[str, tuple[Any, Any]]


def remask(table: Table, *, masking: RecordMasking | None = None, dry_run: bool = False) -> dict[str, int]:
    """Counts of what was read, by kind, and of what was written (or, ``dry_run``, would be) masked: the whole table
    at once (``python -m scripts.backfill masking``); ``changed_meanwhile``: written by someone else after the read
    (an order or a shop customer: at every attempt), to be read again by the next run."""
    counts, _ = remask_step(table, masking=masking, dry_run=dry_run)
    return counts


def remask_step(table: Table, *, masking: RecordMasking | None = None, since: str | None = None,
                counts: Mapping[str, int] | None = None, time_left: Callable[[], float] | None = None,
                dry_run: bool = False) -> tuple[dict[str, int], str | None]:
    """As ``remask``, from the position ``since`` (None: the start) until done or ``time_left()`` runs low. Returns
    the counts (added to ``counts``) and where to go on from (None: done; else the Scan's opaque cursor)."""
    masking = masking or RecordMasking(PrivacyPolicies(ConfigStore(table)))
    policy = masking.privacy.current()
    texts, records = StoredTexts(table), CachedRecords(table)
    done = {name: int((counts or {}).get(name, 0)) for name in COUNTS}
    cursor, pages = since, 0
    while True:
        if pages and time_left is not None and time_left() < RESERVE_SECONDS:     # a page at least, each step
            return done, cursor
        pages += 1
        page, cursor = texts.page(cursor, PAGE)
        for item in page:
            if item["type"] in CACHED_KINDS:
                cached = cached_record(item)
                kind = "orders" if cached.kind == "order" else "shop_customers"
                done[kind] += 1
                if _mask_record(records, cached, masking, dry_run=dry_run, done=done):
                    done[f"{kind}_masked"] += 1
                continue
            if _unsettled(item):
                done["unsettled"] += 1        # on its way to the customer: the next run reads it again
                continue
            kind, changes, kinds = _changes(item, policy)
            if kind is None:
                continue
            done[kind] += 1
            if not changes:
                continue
            if dry_run:
                done[f"{kind}_masked"] += 1
                continue
            also = {"masked": list(dict.fromkeys([*(item.get("masked") or []), *kinds]))} if kinds else None
            try:
                texts.replace(item, changes, also)
            except ConditionFailed:
                done["changed_meanwhile"] += 1        # that write wins; the next run reads it again
                continue
            done[f"{kind}_masked"] += 1
        if not cursor:
            return done, None


def _unsettled(item: Mapping[str, Any]) -> bool:
    """An answer the dispatcher may still send (``logic.dispatch``): no provider id recorded (``record_send``) and not
    failed, so queued or with a part's intent recorded (``sending``) and unconfirmed. Its text is what the next
    delivery's lookup of an unconfirmed send matches (``Sender.find``): changed under it, the lookup misses and the
    part goes again. Read again by a later run, once sent or failed."""
    return (item["type"] == "message" and item.get("direction") == "outbound" and item.get("provider_id") is None
            and item.get("status") != "failed")


def _changes(item: Mapping[str, Any], policy: PrivacyPolicy) -> tuple[str | None, Changes, list[str]]:
    """The item's kind (None: one not read), its fields masking changes (as read, masked), and, for a message,
    what it masked."""
    changes: Changes = {}
    kinds: list[str] = []
    # a person's words to a customer as ``Inbox`` masks them (an IBAN kept); the rest as ingest masks a customer's
    said_by_person = {"ibans": False} if item.get("kind") not in DESK_WRITTEN else {}

    def text(path: str, value: Any, how: Callable[..., Any] = mask, **options: bool) -> None:
        if isinstance(value, str) and value:
            found = how(value, policy.patterns, **options)
            if found.text != value:
                changes[path] = (value, found.text)
                kinds.extend(found.kinds)

    match item["type"]:
        case "message" if item.get("direction") == "inbound":
            for field in ("text", "subject", "edited_text"):
                text(field, item.get(field))
            _payload(item.get("payload"), policy, changes, kinds)
            return "messages", changes, list(dict.fromkeys(kinds))
        case "message" if item.get("direction") == "outbound":
            text("text", item.get("text"), **said_by_person)
            text("subject", item.get("subject"))        # the customer's, with a reply prefix
            template = (item.get("payload") or {}).get("template")
            if isinstance(template, dict) and isinstance(template.get("parameters"), list):
                said = [mask(value, policy.patterns, **said_by_person) if isinstance(value, str) and value else None
                        for value in template["parameters"]]
                if any(found is not None and found.text != value
                       for found, value in zip(said, template["parameters"], strict=True)):
                    changes["payload.template.parameters"] = (template["parameters"], [
                        value if found is None else found.text
                        for found, value in zip(said, template["parameters"], strict=True)])
                    kinds.extend(kind for found in said if found is not None for kind in found.kinds)
            return "answers", changes, list(dict.fromkeys(kinds))
        case "message" if item.get("direction") == "note":
            text("text", item.get("text"))
            return "notes", changes, list(dict.fromkeys(kinds))
        case "conversation":
            text("last_message_preview", item.get("last_message_preview"))
            text("customer.name", (item.get("customer") or {}).get("name"), mask_name)
            # the mail's subject the answers are sent under, in each channel's route and in the one copy an item
            # written before routes were kept per channel holds (ingest masks it as the message's); the rest of a
            # route is addresses and ids
            routes = item.get("routes") if isinstance(item.get("routes"), dict) else {}
            paths = [(f"routes.{channel}", route) for channel, route in routes.items() if ROUTE_KEY.fullmatch(channel)]
            for path, route in [*paths, ("route", item.get("route"))]:
                if isinstance(route, dict) and isinstance(route.get("context"), dict):
                    text(f"{path}.context.subject", route["context"].get("subject"))
            if isinstance(item.get("bot"), dict):
                text("bot.question", item["bot"].get("question"))       # the bot's copy, to notice a repeat
            return "conversations", changes, []
        case "customer":
            text("name", item.get("name"), mask_name)
            return "customers", changes, []
        case "identity":
            text("customer_name", item.get("customer_name"), mask_name)
            return "identities", changes, []
        case "csat":
            text("comment", item.get("comment"))
            return "surveys", changes, []
    return None, changes, kinds


def _payload(payload: Any, policy: PrivacyPolicy, changes: Changes, kinds: list[str]) -> None:
    """A customer's message's payload masked as ingest masks it (``logic.ingest.masked``): every string of what the
    channel sent and of an unsupported item's raw copy but its ids, keys, links and the stored mail's place
    (``privacy.masking.machine_field``, which ingest keeps too); of the mail's part, its subject and quoted history."""
    if not isinstance(payload, dict) or not payload:
        return
    found: list[str] = []
    masked = {key: value if key in PAYLOAD_KEPT or machine_field(key) else masked_payload(value, policy, found)
              for key, value in payload.items()}
    mail = payload.get("email")
    if isinstance(mail, dict):
        masked["email"] = {**mail, **{key: masked_value(mail[key], policy, found)
                                      for key in ("subject", "quoted_text") if isinstance(mail.get(key), str)}}
    if masked != payload:
        changes["payload"] = (payload, masked)
        kinds.extend(found)


def _masked_record(cached: CachedRecord, masking: RecordMasking) -> Order | ShopCustomer:
    record = cached.record
    return masking.order(record) if isinstance(record, Order) else masking.customer(record)


def _mask_record(records: CachedRecords, cached: CachedRecord | None, masking: RecordMasking, *, dry_run: bool,
                 done: dict[str, int]) -> bool:
    """Whether the order or shop customer was (would be) written masked; nothing is written when masking changes
    nothing."""
    for _ in range(ATTEMPTS):
        if cached is None:
            return False                # expired or erased meanwhile
        masked = _masked_record(cached, masking)
        if masked == cached.record:
            return False
        if dry_run:
            return True
        try:
            records.replace(cached, masked)
        except ConditionFailed:
            cached = records.get(cached.pk)
            continue
        return True
    done["changed_meanwhile"] += 1
    return False
