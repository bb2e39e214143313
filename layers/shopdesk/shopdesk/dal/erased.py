"""What an erase leaves of a customer's addresses: a mark per address a kept request can name, so a request kept
before the erase and replayed after it stores nothing of the customer again.

A Twilio request the table could not take waits in the ingest-retry queue (``logic.webhooks.IngestRetry``), and an
erase does not look there. So the erase writes, for each phone number of the customer's (E.164: an SMS's or a
WhatsApp message's ``From``), ``ERASEDADDR#hmac-sha256:<hex>`` / ``META`` with ``erased_at`` and a ``ttl``. The hash
is an HMAC over ``erased|<kind>|<address>`` keyed with the hash key (``HashKeySecret``'s ``hash_key``, generated at
deploy, read by the privacy and Twilio inbound functions only; not the web chat's session secret, which would let
them sign any visitor's session): without the key, nobody can tell which number it marks by hashing candidates, and
marks written with an earlier key are not matched. The replay of a kept message reads it (one GetItem, the
replay's alone) and drops the message when Twilio delivered it before the erase; one delivered after is a new
contact. The read alone would race an erase that marks the number after it: so the replay's store transaction also
checks the mark (``not_erased_since_op``), and an erase whose mark lands first cancels it (``SenderErased``).

A live message cannot wait for a mark like that (it is stored at once, and the erase has already read the customer):
so while an erase runs, the customer's identities and conversations carry ``erasing`` (the erase's job), written
before the erase's last read (``SubjectData.hold``), and every transaction that stores a customer's message is
conditioned on its absence there (``NOT_ERASING``, on the identity or conversation it already writes: no request
more). A message that lands before the mark is found by the erase's last read and erased with the rest; one after
it is refused, and its provider delivers it again (Twilio's, kept: ``logic.webhooks``) once the erase is over: then
the address is nobody's, and the message starts a new customer with no link to the erased one (a kept Twilio
message dated before the erase is dropped, as above).

What the desk writes on such a conversation's timeline (a person's reply or note, the router's acknowledgement, the
bot's answer or hand-over, a system entry) is held the same way: its transaction's update of the conversation (or,
for an entry written alone, a ConditionCheck of it in place of the PutItem: ``timeline_check_op``, still one request)
is conditioned on the mark's absence, so a reply is refused before it is queued for sending. The other writes
under the conversation that land between the erase's last read and its deletes (the router's clocks and deadlines,
the sweep's) come in a transaction that updates the conversation's item on a condition it must exist for; the erase
deletes that item, then reads the conversation once more and deletes what it finds (``Eraser.erase_landed``):
written before the item went, it is found; after, refused.

The mark lives as long as a kept request can wait: ``IngestRetryQueue``'s retention (SQS's default, 4 days: the
template sets none), then ``IngestRetryDeadLetterQueue``'s 14 days (a FIFO queue's dead letter starts its retention
again when it is moved there), and a day more.

An erase's hold counts only while its job is there and does not read failed (``holds``; ``reads_failed``, the one
rule every reader of a job's status follows: ``PrivacyJobs.status``): the release of a job the privacy queue refused
can be refused by the table too, and the customer's record then keeps ``erasing``. Once the job reads failed (an hour
on, no worker having received it) or is gone (its 30 days over), the export's check (``PrivacyJobStore.erased``)
holds it as let go, a merge, an unmerge and a link (``Customers.let_go_failed_hold``, through ``Merger``) let it go
before they rewrite the customer's record, the retention walk lets it go when it refused the customer's inactive
timer (``privacy.reapply``), the sweep drops the erase's last look at uploads (``uploads_runner``), and a new erase
takes it over. The same release refused leaves ``erasing`` on their identities and conversations: a message that
meets it there lets it go (``let_go``, through ``Conversations.let_go_failed_hold`` on the identity it comes from, and
``transact_unless_held`` on whatever its store's transaction was refused by: a sibling, the conversation) and is
stored; so does a write of the desk's on the conversation (a reply, a note, the router's acknowledgement, the bot's
answer, thanks or hand-back: ``transact_unless_held``, the one helper every such write goes through); and a new erase
holds them anew (``Eraser.hold``), so what comes while it runs is
refused as before.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shopdesk import clock
from shopdesk.dal.items import META, conv_pk
from shopdesk.dal.table import ConditionFailed, Table, TransactionCancelled, Update
from shopdesk.errors import Conflict

ERASING = "erasing"                   # on an identity or conversation while its customer's erase runs: the job
NOT_ERASING = f"attribute_not_exists({ERASING})"     # the condition of every store of a customer's message there
KINDS = frozenset({"phone"})            # the addresses a kept request names (Twilio's From)
RETRY_QUEUE_SECONDS = 4 * 86400         # IngestRetryQueue: SQS's default retention (template.yaml sets none)
DEAD_LETTER_SECONDS = 14 * 86400        # IngestRetryDeadLetterQueue's MessageRetentionPeriod
MARK_SECONDS = RETRY_QUEUE_SECONDS + DEAD_LETTER_SECONDS + 86400
# A walk's first message waits in its FIFO group at most behind the slices of walks started before it and their
# retries (five attempts, 360 s apart: about half an hour), an export's or erase's behind the jobs of its customer
# asked for before it; a running job no worker received this long after it started never will be
# (``never_received``): it reads failed, and an erase's hold on the customer counts no more.
UNRECEIVED_SECONDS = 3600
# A write refused by marks whose erases hold no more lets them go and is made again; each refusal shows the marks
# DynamoDB checked before it stopped, so a write meeting marks on several items may take a few tries.
LET_GO_ATTEMPTS = 3


def job_pk(job_id: str) -> str:
    """A privacy job's item (``PrivacyJobStore``)."""
    return f"PRIVACYJOB#{job_id}"


def gave_up(job: dict[str, Any]) -> bool:
    """A running job whose last attempt's invocation is over: it was killed (out of time) before it could fail."""
    return (job["status"] == "running" and bool(job.get("gives_up_at"))
            and clock.parse_iso(job["gives_up_at"]) < clock.now())


def never_received(job: dict[str, Any]) -> bool:
    """A running job (a walk of the table, an export, an erase) that no worker has received ``UNRECEIVED_SECONDS``
    after it was started: its message was never queued (the queue refused it and the table refused the job's failed
    mark too) or is lost. Read, not stored, as an erase's overdue last look is."""
    return (job["status"] == "running" and not job.get("received_at")
            and clock.parse_iso(job["created_at"]) + timedelta(seconds=UNRECEIVED_SECONDS) < clock.now())


def reads_failed(job: dict[str, Any]) -> bool:
    """A job that stopped for good, as its status is read: marked failed, or running with nothing left to run it."""
    return job["status"] == "failed" or gave_up(job) or never_received(job)


def holds(table: Table, job_ids: Iterable[str]) -> set[str]:
    """Which of these erases' holds count: those whose job is there and does not read failed (one consistent
    BatchGetItem). A job no longer there (its 30 days over) is no erase in progress: an erase's job is written before
    the customer's record names it (``PrivacyJobs.start``), and goes only by its expiry."""
    wanted = list(dict.fromkeys(job_ids))
    if not wanted:
        return set()
    jobs = {row["PK"]: row for row in table.batch_get([(job_pk(j), META) for j in wanted])}
    return {j for j in wanted if job_pk(j) in jobs and not reads_failed(jobs[job_pk(j)])}


def let_go(table: Table, keys: Iterable[tuple[str, str]], job_id: str) -> None:
    """``erasing`` taken off these items while it names this job: one UpdateItem each. One let go already, gone, or
    held by another erase meanwhile (a new erase that took the customer over) is left alone."""
    for pk, sk in dict.fromkeys(keys):
        with contextlib.suppress(ConditionFailed):
            table.update(pk, sk, Update().remove(ERASING).when(f"{ERASING} = :job", job=job_id))


def marks_met(exc: TransactionCancelled) -> dict[tuple[str, str], str]:
    """The items whose ``erasing`` refused a transaction, with the job each names: those among its failed parts that
    asked for the item that stopped them (``old_on_failure``) and say ``erasing``. Read from the refusal: no request."""
    return {(str(old["PK"]), str(old["SK"])): str(old[ERASING])
            for old in (exc.old(i) for i in exc.failed) if old and old.get(ERASING)}


def let_go_unless_held(table: Table, marks: Mapping[tuple[str, str], str]) -> bool:
    """Marks a write met (``marks_met``): True when none of their erases holds any more (``holds``: one BatchGetItem
    of their jobs), each then let go while it still names its job (``let_go``: one UpdateItem an item), so the write
    may be made again; False when one still holds (nothing let go), and the write stays refused."""
    jobs = set(marks.values())
    if not jobs or holds(table, jobs):
        return False
    for job in sorted(jobs):
        let_go(table, [key for key, named in marks.items() if named == job], job)
    return True


def transact_unless_held(table: Table, ops: list[dict[str, Any]], *, retry_conflicts: bool = False) -> None:
    """A write an erase's mark may refuse (its parts conditioned on ``NOT_ERASING`` asking for the item on a failed
    condition: ``old_on_failure``), through the one rule: the transaction as it is (``Table.transact``); refused by
    marks whose erase holds no more (``marks_met``, ``let_go_unless_held``: one BatchGetItem of their jobs, only
    then), they are let go and the transaction sent again, ``LET_GO_ATTEMPTS`` in all. Refused by a mark that holds,
    or for any other reason, the ``TransactionCancelled`` it was, for the caller to answer as it did. The normal path
    costs what ``Table.transact`` does."""
    for attempt in range(LET_GO_ATTEMPTS):
        try:
            table.transact(ops, retry_conflicts=retry_conflicts)
            return
        except TransactionCancelled as exc:
            marks = marks_met(exc)
            if attempt == LET_GO_ATTEMPTS - 1 or not marks or not let_go_unless_held(table, marks):
                raise


def erased_address_pk(key: str, kind: str, address: str) -> str:
    """A customer's address once they are erased: an HMAC of it, never the address."""
    digest = hmac.new(key.encode(), f"erased|{kind}|{address}".encode(), hashlib.sha256).hexdigest()
    return f"ERASEDADDR#hmac-sha256:{digest}"


class SenderErased(Exception):
    """A replay's store was refused: its sender's number was marked erased after the message came."""


def timeline_check_op(table: Table, conversation_id: str) -> dict[str, Any]:
    """The part of a transaction that writes an entry on a conversation's timeline without updating the conversation:
    it is there, and its customer's erase does not hold it (nothing written otherwise; refused, it returns the
    conversation's item, so ``transact_unless_held`` can tell a mark whose erase holds no more)."""
    return table.condition_op(conv_pk(conversation_id), META, f"attribute_exists(PK) AND {NOT_ERASING}",
                              old_on_failure=True)


class CustomerErasing(Conflict):
    """A customer's message came while their erase runs (their identity says ``erasing``): nothing is stored, and
    the provider delivers it again (Twilio's: kept for a replay) once the erase is over."""

    def __init__(self) -> None:
        super().__init__("the customer is being erased; the provider will deliver the message again")


@dataclass
class ErasedAddresses:
    table: Table
    key: Callable[[], str]      # HashKeySecret's hash_key, read when first needed (Secrets Manager, cached)

    def marks(self, addresses: Iterable[tuple[str, str]], at: datetime) -> list[dict[str, Any]]:
        """The items an erase at ``at`` writes for these (kind, address) pairs: those a kept request can name."""
        wanted = sorted({(kind, address) for kind, address in addresses if kind in KINDS and address})
        if not wanted:
            return []
        key, ttl = self.key(), int(at.timestamp()) + MARK_SECONDS
        return [{"PK": erased_address_pk(key, kind, address), "SK": META, "type": "erased_address",
                 "erased_at": clock.iso(at), "ttl": ttl} for kind, address in wanted]

    def erased_at(self, kind: str, address: str) -> datetime | None:
        """When a customer holding this address was last erased (None: not within ``MARK_SECONDS``)."""
        item = self.table.get(erased_address_pk(self.key(), kind, address), META)
        return clock.parse_iso(item["erased_at"]) if item else None

    def not_erased_since_op(self, kind: str, address: str, at: datetime) -> dict[str, Any]:
        """A transaction part that writes nothing: the transaction happens only if no erase of a customer holding
        this address came after ``at`` (no mark, or one dated ``at`` or earlier). A replay's store carries it, so an
        erase that marks the number between the replay's read and its write cancels the store."""
        return self.table.condition_op(erased_address_pk(self.key(), kind, address), META,
                                       "attribute_not_exists(PK) OR erased_at <= :at", values={":at": clock.iso(at)})
