"""The retention in force applied to what was written before it (#14): the ``retention`` privacy job a save of the
settings starts (``privacy/jobs.py``, a slice per invocation: ``reapply_step``) or ``python -m scripts.backfill
retention`` (all at once: ``reapply``); and
the S3 lifecycle rules the settings own (``bucket_rules``: every save, and ``python -m scripts.backfill lifecycle``
after each ``make deploy``, since a stack update that changes a bucket's rules puts the template's back).

Writers stamp an item's expiry as they write it (``dal/retention.py``), so a retention an admin sets or shortens
counts for what is written from then on. This walks every conversation (the ByStatus index, page by page) and
gives what was written before the setting the expiry it would have got:

- each message (every timeline entry) ``created_at`` + ``messages_days``;
- each resolved conversation ``updated_at`` (its resolve) + ``closed_conversations_days``, and the same to its
  satisfaction survey records and label items (``WITH_IT``; its grants and mentions follow it through the stream);
- each resolved conversation's customer an ``inactive_customer`` timer at its resolve + ``inactive_customers_days``,
  unless a later one is set (the sweep then judges them as it judges anyone: ``privacy/inactive.py``), and only
  while their record is there and no erase holds it (an erased customer is given none after the walk read them).

One Query reads each conversation's items. A class set to none (kept until erased) takes away the expiry that class
gave: messages and resolved conversations (with their survey records and label items) stop expiring (an admin who
tried 30 days and went back to keeping everything does not lose what was stamped meanwhile); a satisfaction
survey message and the note of one skipped keep theirs, which is their conversation's at the time they were written
(``csat.survey``), and customers' timers stay (the sweep finds the setting off and erases nobody). Items whose
expiry is already the one due are not written: a second run writes nothing, and a run stopped anywhere can be run
again. A shorter period can make items due at once: DynamoDB deletes
them within days, and the sweep erases customers whose time is past at its next run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from shopdesk import clock
from shopdesk.dal import items as it
from shopdesk.dal.conversations import Conversations
from shopdesk.dal.erased import NOT_ERASING
from shopdesk.dal.retention import INACTIVE_TIMER
from shopdesk.dal.table import ConditionFailed, TransactionCancelled, Update
from shopdesk.models import ConversationStatus
from shopdesk.privacy.settings import Retention, ttl_after

if TYPE_CHECKING:
    from shopdesk.dal.lake import LakeBucket
    from shopdesk.dal.media import MediaStore

PAGE = 200


def bucket_rules(retention: Retention, lake: LakeBucket | None, media: MediaStore | None,
                 media_days: int) -> dict[str, list[dict[str, Any]]]:
    """The lifecycle rules the privacy settings own, as they say: the event lake's objects expire after
    ``events_days``, the messages' files after ``messages_days`` (else the stack's ``MediaRetentionDays``,
    ``media_days``); each bucket's other rules stay. Returns each bucket's rules as written."""
    written: dict[str, list[dict[str, Any]]] = {}
    if lake is not None:
        written[lake.bucket] = lake.apply_retention(retention.events_days)
    if media is not None:            # a message's files go with it ("Messages and their files")
        written[media.bucket] = media.apply_retention(retention.messages_days or media_days)
    return written


COUNTS = ("conversations", "messages", "closed_conversations", "surveys", "label_items", "inactive_timers")
RESERVE_SECONDS = 60.0      # a step stops between pages with this much time left (a page of 200: about 15 s)


def reapply(conversations: Conversations, *, dry_run: bool = False) -> dict[str, int]:
    """Counts of what was read (``conversations``) and of what was (or, ``dry_run``, would be) written: the whole
    table at once (``python -m scripts.backfill retention``)."""
    counts, _ = reapply_step(conversations, conversations.retention.policies.current().retention, dry_run=dry_run)
    return counts


def reapply_step(conversations: Conversations, retention: Retention, *, since: str | None = None,
                 counts: dict[str, int] | None = None, time_left: Callable[[], float] | None = None,
                 dry_run: bool = False) -> tuple[dict[str, int], str | None]:
    """As ``reapply``, from the position ``since`` (None: the start) until done or ``time_left()`` runs low. Returns
    the counts (added to ``counts``) and where to go on from (None: done); the position is opaque (JSON: the status
    walked and its ByStatus page), so a privacy job can run the walk over as many invocations as it takes."""
    table = conversations.table
    done = {name: int((counts or {}).get(name, 0)) for name in COUNTS}
    statuses = [status.value for status in ConversationStatus]
    at = json.loads(since) if since else {"status": statuses[0], "cursor": None}
    pages = 0
    for status in statuses[statuses.index(at["status"]):]:
        cursor = at["cursor"] if status == at["status"] else None
        while True:
            if pages and time_left is not None and time_left() < RESERVE_SECONDS:     # a page at least, each step
                return done, json.dumps({"status": status, "cursor": cursor})
            pages += 1
            page = table.query_items(index="ByStatus", key_condition="StatusPK = :pk",
                                     values={":pk": it.status_pk(status)}, limit=PAGE, cursor=cursor)
            for item in page.items:
                done["conversations"] += 1
                rows = conversations.table.query_all(index=None, key_condition="PK = :pk", names={},
                                                     values={":pk": it.conv_pk(str(item["id"]))}, consistent=True)
                _messages(conversations, rows, retention.messages_days, dry_run, done)
                if status == ConversationStatus.RESOLVED.value:
                    resolved_at = clock.parse_iso(str(item["updated_at"]))
                    _closed(conversations, item, resolved_at, retention.closed_conversations_days, dry_run, done)
                    _with_it(conversations, rows, ttl_after(resolved_at, retention.closed_conversations_days),
                             dry_run, done)
                    _inactive(conversations, item, resolved_at, retention.inactive_customers_days, dry_run, done)
            cursor = page.cursor
            if not cursor:
                break
    return done, None


def _messages(conversations: Conversations, rows: list[dict[str, Any]], days: int | None, dry_run: bool,
              done: dict[str, int]) -> None:
    for row in rows:
        if not str(row["SK"]).startswith("MSG#"):
            continue
        due = ttl_after(clock.parse_iso(str(row["created_at"])), days)
        if (int(row["ttl"]) if row.get("ttl") is not None else None) == due:
            continue
        if due is None and _expires_with_its_conversation(row):
            continue
        done["messages"] += 1
        if not dry_run:
            _expire(conversations, str(row["PK"]), str(row["SK"]), due)


def _expires_with_its_conversation(row: dict[str, Any]) -> bool:
    """A satisfaction survey, or the note of one skipped: given its resolved conversation's expiry when it was sent."""
    return row.get("kind") == "csat_survey" or "csat" in (row.get("payload") or {})


def _closed(conversations: Conversations, item: dict[str, Any], resolved_at: datetime, days: int | None,
            dry_run: bool, done: dict[str, int]) -> None:
    due = ttl_after(resolved_at, days)
    if (int(item["ttl"]) if item.get("ttl") is not None else None) == due:
        return
    done["closed_conversations"] += 1
    if not dry_run:     # only while still resolved: a reopen meanwhile took its expiry away
        with suppress(ConditionFailed):
            conversations.table.update(str(item["PK"]), it.META, Update().expires(due).when(
                "attribute_exists(PK) AND #status = :resolved", resolved="resolved"))


# What goes with a resolved conversation (its item's ``ttl``), by sort key prefix: its satisfaction survey records
# (score, comment: ``csat.survey`` gives a new one the conversation's expiry) and its label items (the label indexer
# moves them with a status change, not with an expiry the walk writes). Its grants and mentions follow the walk's
# write of the conversation through the stream (``logic/labels.follow_expiry``).
WITH_IT = {"CSAT#": "surveys", "LABEL#": "label_items"}


def _with_it(conversations: Conversations, rows: list[dict[str, Any]], due: int | None, dry_run: bool,
             done: dict[str, int]) -> None:
    """A resolved conversation's survey records and label items take the expiry it is due (none: they stop
    expiring with it)."""
    for row in rows:
        count = next((name for prefix, name in WITH_IT.items() if str(row["SK"]).startswith(prefix)), None)
        if count is None or (int(row["ttl"]) if row.get("ttl") is not None else None) == due:
            continue
        done[count] += 1
        if not dry_run:
            _expire(conversations, str(row["PK"]), str(row["SK"]), due)


def _inactive(conversations: Conversations, item: dict[str, Any], resolved_at: datetime, days: int | None,
              dry_run: bool, done: dict[str, int]) -> None:
    customer_id = (item.get("customer") or {}).get("id")
    if not days or not customer_id:
        return
    due = clock.iso(resolved_at + timedelta(days=days))
    timer = conversations.table.get(it.customer_pk(customer_id), it.deadline_sk(INACTIVE_TIMER))
    if timer is not None and str(timer.get("due_at", "")) >= due:
        return              # a later resolve's timer, or this one's already
    done["inactive_timers"] += 1
    if not dry_run:
        # only while the customer's record is there and no erase holds it (checked in the same request): an erase
        # deletes what is under the record before the record, so a timer landing after its last read would stay
        ops = [conversations.table.put_op(conversations.timer_item(it.customer_pk(customer_id), INACTIVE_TIMER, due),
                                          "attribute_not_exists(PK) OR due_at < :due", values={":due": due}),
               conversations.table.condition_op(it.customer_pk(customer_id), it.META,
                                                f"attribute_exists(PK) AND {NOT_ERASING}")]
        try:
            conversations.table.transact(ops, retry_conflicts=True)
        except TransactionCancelled as refused:    # a resolve set a later one meanwhile, or the customer is gone or
            # held: by an erase that holds them no more (failed for good, its release refused too), let go, once more
            if 1 in refused.failed and conversations.customers.let_go_failed_hold(customer_id):
                with suppress(TransactionCancelled):
                    conversations.table.transact(ops, retry_conflicts=True)


def _expire(conversations: Conversations, pk: str, sk: str, due: int | None) -> None:
    with suppress(ConditionFailed):          # deleted meanwhile (its own expiry, an erase)
        conversations.table.update(pk, sk, Update().expires(due).when("attribute_exists(PK)"))
