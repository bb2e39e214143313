"""Export (a data subject access request): everything about the customer as one zip archive — ``data.json``
(their records, identities, conversations with every message and their satisfaction survey records, evidence,
merges, cached orders, the platform's privacy requests about them, the audit records about them, and the event
lake's rows about them: ``events``) and ``files/`` (attachments, files uploaded but never sent, and raw mail) —
written to the export bucket, where a short-lived presigned link delivers it and a lifecycle rule deletes it after
a day.

The lake's rows are read through the engine the reports use (``analytics.lake_for``: DuckDB locally, Athena
deployed; ``analytics.sql.customer_events``): those of the customer's ids (theirs and those merged into them) and
of their conversations, none on the erase's deletion list, from the first day a row of theirs can be in
(``first_day``), so the query reads the days of the customer's life, not the whole retained lake.

What is the desk's and not theirs stays out: who may see a conversation, agents' unread marks, the SLA
engine's and the table's bookkeeping, delivery markers, and where the agents worked from (an audit record's
IP address, browser and request id). Internal notes are in it, marked ``note``: the link goes to the admin,
who reviews the archive before it goes to the customer (a note may name someone else, GDPR art. 15(4)).
"""

from __future__ import annotations

import contextlib
import io
import json
import zipfile
from collections import defaultdict
from datetime import UTC, date, timedelta
from typing import Any

from shopdesk import clock
from shopdesk.analytics import Lake
from shopdesk.analytics.sql import customer_events
from shopdesk.dal import items as it
from shopdesk.dal.privacy import Files
from shopdesk.privacy.audit import AuditTrail
from shopdesk.privacy.subject import Subject

HIDDEN = {"PK", "SK", "type", "AccessPK", "InboxPK", "InboxSK", "QueuePK", "QueueSK", "StatusPK", "StatusSK",
          "CustomerPK", "CustomerSK", "DuePK", "DueSK", "PoolPK", "PoolSK", "ttl",
          "granted",           # which agents were let see a conversation: the desk's access control, not theirs
          "mentions_unread",   # which agents have not read a note yet: the agents' state
          # the SLA engine's bookkeeping
          "clocks_json", "clocks_version", "sla_warned", "sla_warned_at", "sla_done", "sla_risk",
          "message_sk", "status_rank", "event_marker"}   # keys of the table's own
INTERNAL_TYPES = {"marker",     # a provider delivery's dedupe marker: its message is exported, the marker says no more
                  "event_marker",   # likewise of a provider's event: its timeline entry is exported
                  "connection",     # a visitor's open socket: where the desk's changes reach them
                  "export"}     # where an earlier export's archive is (for an erase to delete it)
STAFF = ("source_ip", "user_agent", "request_id")   # of an audit record: where the agent worked from is theirs
BY_TYPE = {"customer": "customers", "customer_event": "timeline", "seen": "evidence", "mention": "evidence",
           "merge": "merges", "identity": "identities", "order": "orders", "shop_customer": "shop_customers",
           "otp": "one_time_codes", "unsupported": "unreadable_webhooks"}


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    clean = {k: v for k, v in row.items() if k not in HIDDEN}
    if isinstance(clean.get("body"), str):
        with contextlib.suppress(ValueError):
            clean["body"] = json.loads(clean["body"])
    return clean


def _plain(value: Any) -> Any:
    """What JSON cannot hold as it is: a set (topics, labels) as a sorted list, anything else as text."""
    return sorted(value, key=str) if isinstance(value, set | frozenset) else str(value)


def file_name(key: str) -> str:
    """A file's name in the archive: raw mail (``raw/<id>``, no extension) as ``.eml``, which mail programs open."""
    return f"files/{key}.eml" if key.startswith("raw/") and "." not in key.rsplit("/", 1)[-1] else f"files/{key}"


def _event(row: dict[str, Any]) -> dict[str, Any]:
    """A lake row as JSON: its ``detail`` (JSON text) as an object."""
    event = dict(row)
    if isinstance(event.get("detail"), str):
        with contextlib.suppress(ValueError):
            event["detail"] = json.loads(event["detail"])
    return event


def document(subject: Subject, audit: list[dict[str, Any]], events: list[dict[str, Any]]) -> dict[str, Any]:
    conversations: dict[str, dict[str, Any]] = defaultdict(lambda: {"conversation": None, "messages": [],
                                                                   "csat": []})
    sections: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for (pk, _sk), row in sorted(subject.items.items()):
        kind = row.get("type")
        if pk.startswith("CONV#"):
            if kind == "conversation":
                conversations[pk[5:]]["conversation"] = _clean(row)
            elif kind == "message":
                conversations[pk[5:]]["messages"].append(_clean(row))
            elif kind == "csat":        # a resolution's survey: score, state, the agent credited, the comment
                conversations[pk[5:]]["csat"].append(_clean(row))
            continue
        if pk.startswith("COMMERCE#") or pk.startswith("RATE#") or kind in INTERNAL_TYPES:
            continue                                    # pointers and counters: nothing the orders do not say
        sections[BY_TYPE.get(str(kind), "other")].append(_clean(row))
    return {"customer_id": subject.customer_id, "exported_at": clock.iso(clock.now()),
            "customer_ids": subject.customer_ids, **sections,
            # and their messages in the conversations of a customer once merged with them, without that conversation
            "conversations": [conversations[c] for c in [*subject.conversation_ids, *sorted(
                set(conversations) - set(subject.conversation_ids))] if c in conversations],
            "privacy_requests": [_clean(r) for r in subject.privacy_requests],
            "audit": [{k: v for k, v in r.items() if k not in STAFF} for r in audit],
            "events": [_event(row) for row in events],
            "files": [file_name(key) for _, key in subject.files]}


def archive(subject: Subject, audit: list[dict[str, Any]], files: Files, events: list[dict[str, Any]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("data.json", json.dumps(document(subject, audit, events), indent=2, default=_plain,
                                                ensure_ascii=False))
        for bucket, key in subject.files:
            content = files.get(bucket, key)
            if content is not None:
                zipped.writestr(file_name(key), content)
    return buffer.getvalue()


def audit_of(trail: AuditTrail, customer_ids: list[str]) -> list[dict[str, Any]]:
    """Every audit record about the customers (their index, all pages)."""
    records: list[dict[str, Any]] = []
    for customer_id in customer_ids:
        cursor = None
        while True:
            page, cursor = trail.log.by_customer(customer_id, "0", "9", 500, cursor)
            records += page
            if not cursor:
                break
    return records


# A customer's message kept while the table could not take it (``logic.webhooks.IngestRetry``) is dated when it came
# and stored when it is replayed: within about four hours, or once an operator redrives it from the dead-letter queue,
# which keeps it 14 days (``IngestRetryDeadLetterQueue``). So it, and a conversation it opens, can be dated before
# the first record its customer had when it was stored (their first message kept, the next one stored at once), and
# once retention has removed those records, nothing the export reads says so. The lake is read from this many days
# before the earliest record.
KEPT_DAYS = 15
DATED = ("customer", "conversation", "message")     # the records whose creation the subject's events follow


def first_day(subject: Subject) -> date | None:
    """The earliest UTC day a lake row about the subject can be in: ``KEPT_DAYS`` before the earliest creation
    (``created_at``) of their records, each customer's (theirs and those merged into them, whose rows keep the id
    and the date they were written with), each conversation's and each message's. An event is partitioned by its own
    UTC day (``analytics.events``: the fact's time, not when it reached the lake), and every event about them is
    dated at or after one of these: a conversation's at its opening or later (a reply, an assignment, a receipt, a
    status), a message's at its creation or later, a merge's when it was made. None (the whole lake is read) when a
    customer of theirs has no record, or a date cannot be read: nothing then says when their rows begin."""
    dated = [row.get("created_at") for row in subject.items.values() if row.get("type") in DATED]
    recorded = {row["PK"] for row in subject.of_type("customer") if row["SK"] == it.META and row.get("created_at")}
    if not dated or not {it.customer_pk(c) for c in subject.customer_ids} <= recorded:
        return None
    try:
        moments = [clock.parse_iso(str(value)) for value in dated if value]
    except ValueError:
        return None
    earliest = min(m if m.tzinfo else m.replace(tzinfo=UTC) for m in moments)
    return earliest.astimezone(UTC).date() - timedelta(days=KEPT_DAYS)


def events_of(lake: Lake, subject: Subject) -> list[dict[str, Any]]:
    """The event lake's rows about the customer (``analytics.sql.customer_events``), from ``first_day``.
    LakeUnavailable when the engine cannot answer now: the job fails and the queue runs it again, rather than hand
    out an archive without them."""
    return lake.rows(customer_events(subject.customer_ids, subject.conversation_ids, first_day(subject)))
