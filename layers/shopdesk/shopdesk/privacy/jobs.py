"""Privacy jobs: an export or an erase of one customer, asked for by an admin (``POST
/admin/customers/{id}/export|erase``) or by the shop platform (Shopify's ``customers/data_request`` and
``customers/redact``), run asynchronously by ``PrivacyFunction`` from the privacy queue (FIFO, one group per
customer: an export asked before an erase runs first), polled with ``GET /admin/privacy/jobs/{job_id}``.

A ``retention`` job (no customer) gives what is already stored the retention an admin just saved
(``privacy/reapply.py``): it walks every conversation, a slice per invocation, keeping its position on the job and
sending itself on (group ``retention``: one walk at a time, the later save's after the earlier one's) until done.
A continuation sent twice (a crash after its send) walks the rest twice: harmless, the walk writes only what
differs, and the job is finished once. The functions that write items read the settings at most every
``CACHE_SECONDS`` (privacy/settings.py), so for five minutes after a save some still write with the old retention,
and the walk, done in seconds, has passed what they write. Before it is done the job leaves a ``retention_settle``
timer in the due index at ``SETTLE_SECONDS`` after the save; the sweep runs it (``settle_runner``), starting a
second retention job (``system:retention``, ``settles``: the first) that walks again once every cache has expired,
and that one leaves no timer.

A ``shop_redact`` job (no customer) answers Shopify's ``shop/redact``, sent 48 hours after the shop uninstalled the
app: it deletes everything the commerce cache holds of the shop (orders, their pointers, the shop's customer
records, lookup markers: ``dal.commerce.ShopCache``), a page of the table's Scan at a time (group ``shop_redact``),
its position on the job, then marks the request ``done`` and writes ``shop.redact.done``. The desk's own customers,
conversations and audit trail are the merchant's records, got through the desk's own channels, not the shop
platform's: they stay, under the retention settings and the admins' erase.

A ``masking`` job (no customer) masks what is already stored with the masking patterns an admin just added or changed
(``privacy/remask.py``: messages, notes, previews, names, survey comments, the commerce cache), the same way: a
slice per invocation over the table's Scan (group ``masking``), its position on the job, and a second pass
(``masking_settle``) once writers that still held the old patterns have read the new ones.

A job is ``running`` until it is ``done`` (an export with its archive's key) or ``failed`` (a customer who
does not exist any more, for an export). A job that crashed is retried by the queue (up to its DLQ), and
both operations can run again: an export writes the same archive, an erase finds only what is left.

An export's archive never outlives an erase of a customer it holds. The queue runs one customer's jobs in order
(an export asked before the erase first; one asked after finds the customer gone: ``failed``), and an erase
deletes every archive holding them, whatever became of its job (``privacy/erase.py``). Jobs of customers merged
into one another, and a queue that delivers out of order, can still overlap: the erase marks the customer's record
``erasing`` before it reads anything, and an export checks, after writing its archive, that none of the customers in
it is gone or being erased, else it deletes the archive itself and fails (``the customer was erased``). A done export
whose archive is gone hands out no link and says why: ``archive_deleted`` is ``customer_erased`` or ``expired`` (the
export bucket deletes archives after ``ARCHIVE_DAYS``).

A job never shows ``running`` after it stopped for good. The queue's last attempt (``max_receives``) notes itself
on the job, and an error on it finishes the job ``failed`` (``dead_lettered``: the message goes on to the DLQ,
whose alarm tells the operator; an audit record names the job, not the error's text), and a last attempt that is
killed (its time ran out) leaves ``gives_up_at``, the moment its invocation ends, after
which ``status`` answers ``failed`` as well. A redrive after a fix runs the job again from where it was: a
dead-lettered job is ``running`` again, and a first attempt takes ``gives_up_at`` away. A job whose message the
queue refused is failed at once (``JobNotQueued``, ``WalkNotQueued``); should the table refuse that mark too, the job,
which no worker received (the worker notes ``received_at`` on every job it gets), reads ``failed`` once
``UNRECEIVED_SECONDS`` have passed since its start (``dal.erased.never_received``).

An erase is not over when its job is ``done``: its last look at the conversations' uploads comes ten minutes later
(``erase_uploads``). The job says where that is in ``last_look`` (``pending``, then ``done`` with how many files it
deleted, or ``failed`` once the queue's last attempt failed: the message goes on to the DLQ and its alarm, an audit
record says so, and a redrive that then succeeds makes it ``done``; a look delivered again once it is ``done`` keeps
the first one's result and writes no second record); ``status`` keeps its three values.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Literal

from aws_lambda_powertools import Logger

from shopdesk import clock
from shopdesk.analytics import Lake
from shopdesk.commerce.masking import RecordMasking
from shopdesk.commerce.models import PrivacyRequest, request_status
from shopdesk.dal.commerce import CommerceStore, ShopCache, privacy_request_key
from shopdesk.dal.conversations import Conversations, Later
from shopdesk.dal.customers import Customers
from shopdesk.dal.erased import gave_up, never_received, reads_failed
from shopdesk.dal.media import UPLOAD_SECONDS, conversation_files, upload_issued, visitor_uploads
from shopdesk.dal.privacy import Files, PrivacyJobStore, SubjectData, job_pk
from shopdesk.dal.queues import Queue
from shopdesk.dal.table import Table
from shopdesk.errors import Conflict, NotFound, ShopdeskError
from shopdesk.ids import new_id
from shopdesk.models.customer import Customer
from shopdesk.phone import shop_phone
from shopdesk.privacy import audit
from shopdesk.privacy.audit import AuditTrail
from shopdesk.privacy.erase import Eraser
from shopdesk.privacy.export import archive, audit_of, events_of
from shopdesk.privacy.reapply import reapply_step
from shopdesk.privacy.remask import remask_step
from shopdesk.privacy.settings import CACHE_SECONDS, ttl_after
from shopdesk.privacy.subject import MAX_CUSTOMERS, Subject, conversation_uploads, gather, shop_records

logger = Logger(child=True)

Kind = Literal["export", "erase"]
RETENTION_GROUP = "retention"     # the retention jobs' message group: one walk at a time
MASKING_GROUP = "masking"         # the masking jobs': one scan at a time
SHOP_GROUP = "shop_redact"       # a shop/redact's deletion of the commerce cache
WALKS = {"retention": RETENTION_GROUP, "masking": MASKING_GROUP,     # the jobs that walk the table, no customer
         "shop_redact": SHOP_GROUP}
SHOP_COUNTS = {"ORDER": "orders", "SHOPCUSTOMER": "shop_customers", "COMMERCE": "pointers"}   # by the key's prefix
SHOP_PAGE = 200                 # items of the table read a page of a shop/redact's Scan
SHOP_RESERVE_SECONDS = 20       # a shop/redact's slice stops with this much of the invocation left
DOWNLOAD_SECONDS = 900          # the export's link: fifteen minutes
ARCHIVE_DAYS = 1                # the export bucket's lifecycle (template.yaml, ExportBucket) deletes archives after it
ERASED_MEANWHILE = "the customer was erased while their export ran: its archive was deleted"
GAVE_UP = ("stopped after {attempts} attempts ({reason}); the operator is alerted by the privacy dead-letter "
           "queue's alarm and can run it again after a fix")
PLATFORM_KINDS: dict[str, Kind] = {"customers/data_request": "export", "customers/redact": "erase"}
HOLD_READS = 3                  # an erase reads its subject again after holding it, until nothing new is found
CLAIM_ATTEMPTS = 3              # an erase's start marks the customer's record: read again when it changed meanwhile
MERGES_FOLLOWED = 5             # a chain of merges followed to its survivor, to name them
MERGED_MEANWHILE = ("the customer was merged into {survivor} after the job was asked for: nothing was {done}; "
                    "{kind} {survivor}, or unmerge first")


class WalkNotQueued(ShopdeskError):
    """A walk of the table (retention, masking, a shop's deletion) whose message the privacy queue refused: its job is
    failed with the reason, and the request that asked for it answered 503 (code ``walk_not_queued``)."""


class JobNotQueued(ShopdeskError):
    """An export or erase whose message the privacy queue refused: its job is failed (nothing done, an erase's hold on
    the customer let go), and the request that asked for it answered 503 (code ``job_not_queued``); asked again, a new
    job starts."""


@dataclass
class PrivacyJobs:
    """Starting and reading jobs (admin API, the platform's webhook)."""

    store: PrivacyJobStore
    queue: Queue
    customers: Customers
    files: Files | None = None
    export_bucket: str = ""
    shop: CommerceStore | None = None     # the order cache: the platform's customer records (``named``)
    trail: AuditTrail | None = None       # a platform's request arriving, and one about nobody held (``from_platform``)
    timers: Conversations | None = None   # a save's walk the queue refused: its second pass set (``start_walk``)

    def start(self, kind: Kind, customer_id: str, by: str, *, noted: bool = True,
              request: tuple[str, str] | None = None) -> dict[str, Any]:
        """Start a job on a customer who exists (NotFound) and holds their data: one merged into another is a
        Conflict (``merged``, naming the survivor). An erase asked for while one of the customer runs is that one
        (its ``job_id``, ``running``: True; a platform's request gets a job of its own, which finds what is left),
        and one of a customer an erase removed is a Conflict (``already_erased``, naming its job; NotFound for a
        platform's request). ``noted``: the request's audit record names it (one request, one customer); an erase
        of many writes a record per customer itself. ``request``: the shop platform's privacy request it answers
        (its key), which follows the job (running, then done or failed)."""
        for _ in range(CLAIM_ATTEMPTS):
            customer = self.customers.get(customer_id)
            if customer is None:         # (a platform's request is told as before: nothing of theirs is held)
                raise self.gone(customer_id, kind) if request is None else NotFound(
                    f"customer {customer_id} does not exist")
            if customer.merged_into:
                raise self.merged(customer)
            holder = None
            if kind == "erase" and request is None:
                holder, running = self.erase_holder(customer_id)
                if running:
                    if noted:
                        audit.note(customer_id=customer_id, after={"job_id": holder, "kind": kind, "running": True})
                    return {"job_id": holder, "running": True}
            job = {"id": new_id("j_"), "kind": kind, "customer_id": customer_id, "status": "running",
                   "requested_by": by, "created_at": clock.iso(clock.now())}
            if request is not None:
                job["request"] = list(request)
            self.store.create(job)        # before the record names it: an erase asked for at once finds it running
            # an erase holds the record from now on (a holder whose job failed or is gone is taken over; a platform's
            # request takes it whatever holds it); merged or erased meanwhile, or held by another: read again
            if kind != "erase" or self.store.claim_erase(customer_id, job["id"], over=holder,
                                                         force=request is not None):
                break
            self.store.delete(job["id"])
        else:
            raise Conflict(f"customer {customer_id} changed while their {kind} was asked for; ask again")
        if request is not None:       # before the job can run: its end is written after this
            self.store.mark_request(request, "running", job["id"])
        try:
            self.queue.send({"job_id": job["id"]}, group=customer_id, dedup_id=job["id"])
        except Exception as exc:    # never running with nothing to run it: failed, the customer's record let go
            try:
                self.store.finish(job["id"], "failed", error="the job could not be queued; ask again")
                if request is not None:
                    self.store.mark_request(request, "failed", job["id"])
            except Exception:       # the job reads failed all the same once UNRECEIVED_SECONDS have passed
                logger.exception("privacy job not queued, its failed mark not written", extra={"job_id": job["id"]})
            try:
                self.store.not_erasing(customer_id, job["id"])
            except Exception:       # the hold of a job that reads failed is taken over by the next erase asked for
                logger.exception("privacy job not queued, its hold not let go", extra={"job_id": job["id"]})
            logger.warning("privacy job not queued: it failed", extra={
                "job_id": job["id"], "kind": kind, "error_type": type(exc).__name__})
            raise JobNotQueued(f"the {kind} of customer {customer_id} could not be queued (job {job['id']} failed, "
                               "nothing was done): ask again").with_code(
                "job_not_queued", job_id=job["id"], kind=kind) from exc
        if noted:
            audit.note(customer_id=customer_id, after={"job_id": job["id"], "kind": kind})
        return {"job_id": job["id"]}

    def erase_holder(self, customer_id: str) -> tuple[str | None, bool]:
        """The erase job the customer's record names (None), and whether it runs: an erase asked for then is that
        one (``start``, and an erase of many before a send it has no time for)."""
        holder, _ = self.store.erase_of(customer_id)
        return holder, bool(holder) and self.current(holder) == "running"

    def gone(self, customer_id: str, kind: Kind = "erase") -> Exception:
        """A customer who is not there: a Conflict naming the erase that removed them (``already_erased``: its
        ``job_id``, ``erased_at``; ``with``: the customer erased, when they had been merged into them), else NotFound
        (never a customer, or erased so long ago that the deletion list's retention is over)."""
        _, erased = self.store.erase_of(customer_id)
        if erased is None:
            return NotFound(f"customer {customer_id} does not exist")
        # the time is the erase's: said before whom they had been merged into, so it does not read as the merge's
        merged = f" with {erased['with']}, who they had been merged into" if erased.get("with") else ""
        return Conflict(f"customer {customer_id} was erased on {erased['erased_at']}{merged} (job {erased['job_id']}); "
                        f"nothing of theirs is left to {kind}").with_code("already_erased", **erased)

    def merged(self, customer: Customer) -> Conflict:
        """A customer merged into another: their conversations, identities and files are the survivor's now, so an
        export or erase of their id would find nothing of theirs. Code ``merged``: the survivor (the last of a chain
        of merges), the merge and when it was made."""
        survivor, seen = customer, {customer.id}
        while survivor.merged_into and survivor.merged_into not in seen and len(seen) <= MERGES_FOLLOWED:
            seen.add(survivor.merged_into)
            survivor = self.customers.get(survivor.merged_into) or survivor
        merge = self.customers.get_merge(customer.merge_id) if customer.merge_id else None
        at = clock.iso(merge.at) if merge is not None else None
        return Conflict(f"customer {customer.id} was merged into {survivor.id}{f' on {at}' if at else ''}: their "
                        f"conversations, identities and files are {survivor.id}'s now. Erase or export "
                        f"{survivor.id}, or unmerge first").with_code(
            "merged", survivor_id=survivor.id, merged_into=customer.merged_into, merge_id=customer.merge_id or "",
            merged_at=at or "")

    def start_retention(self, by: str, *, settles: str | None = None) -> dict[str, Any]:
        """Give what is already stored the retention just saved (a ``retention`` job, no customer); ``settles``: the
        job of a save this one walks again for, once every writer has read that save's settings."""
        return self.start_walk("retention", by, settles=settles)

    def start_masking(self, by: str, *, settles: str | None = None) -> dict[str, Any]:
        """Mask what is already stored with the masking patterns just saved (a ``masking`` job, no customer);
        ``settles`` as for a retention job."""
        return self.start_walk("masking", by, settles=settles)

    def start_walk(self, kind: str, by: str, *, settles: str | None = None, request: tuple[str, str] | None = None,
                   platform: str | None = None) -> dict[str, Any]:
        """``request``: the shop platform's privacy request it answers (a ``shop_redact``: ``platform``'s), which
        names the job and says ``running`` before it can run. A send the privacy queue refuses never leaves the job
        ``running`` with nothing to run it: the job is failed with the reason and ``WalkNotQueued`` raised (503). The
        first walk of a settings save (no ``settles``) is not lost with it: its second pass, the sweep's settle timer
        the walk would have set, is set on the failed job (``timers``), and walks the whole table at its time
        (``SETTLE_SECONDS`` after the save), retried by the sweep while the queue still refuses."""
        job = {"id": new_id("j_"), "kind": kind, "status": "running", "requested_by": by,
               "created_at": clock.iso(clock.now())}
        if settles:
            job["settles"] = settles
        if request is not None:
            job.update(request=list(request), platform=platform)
        self.store.create(job)
        if request is not None:
            self.store.request_job(request, job["id"], "running")
        try:
            self.queue.send({"job_id": job["id"]}, group=WALKS[kind], dedup_id=job["id"])
        except Exception as exc:    # never running with nothing to run it: failed, and the caller told
            again = self._walk_later(job) if kind in SETTLE_TIMERS and not settles else None
            reason = (f"the walk could not be queued; the sweep walks the table at {again} (a second pass settling "
                      "this job)" if again else "the job could not be queued; ask again")
            try:
                self.store.finish(job["id"], "failed", error=reason)
                if request is not None:
                    self.store.request_job(request, job["id"], "failed")
            except Exception:       # the job reads failed all the same once UNRECEIVED_SECONDS have passed
                logger.exception("privacy walk not queued, its failed mark not written", extra={"job_id": job["id"]})
            logger.warning("privacy walk not queued: its job failed", extra={
                "job_id": job["id"], "kind": kind, "error_type": type(exc).__name__, "walks_at": again})
            raise WalkNotQueued(f"the {kind} job {job['id']} could not be queued: {reason}").with_code(
                "walk_not_queued", job_id=job["id"], walks_at=again or "") from exc
        return {"job_id": job["id"]}

    def _walk_later(self, job: dict[str, Any]) -> str | None:
        """The settle timer a walk sets when done (``PrivacyWorker._walked``), set now on a walk that could not be
        queued: the sweep's second pass walks everything then. None when it could not be set either."""
        if self.timers is None:
            return None
        due = clock.iso(max(clock.parse_iso(job["created_at"]) + timedelta(seconds=SETTLE_SECONDS), clock.now()))
        try:
            self.timers.set_timer(job_pk(job["id"]), SETTLE_TIMERS[job["kind"]], due)
        except Exception:
            logger.warning("privacy walk's second pass not set", exc_info=True, extra={"job_id": job["id"]})
            return None
        return due

    def status(self, job_id: str) -> dict[str, Any]:
        job = self.store.get(job_id)
        if job is None:
            raise NotFound(f"privacy job {job_id} does not exist")
        answer = {k: job.get(k) for k in ("job_id", "kind", "customer_id", "status", "created_at", "finished_at",
                                          "error", "counts")}
        answer["job_id"] = job_id
        if job["status"] == "done" and isinstance(job.get("last_look"), dict):    # an erase's look at its uploads
            look = dict(job["last_look"])
            if look.get("status") == "pending" and job.get("finished_at"):
                due = clock.parse_iso(job["finished_at"]) + timedelta(seconds=UPLOADS_SECONDS)
                look["due_at"] = clock.iso(due)
                if clock.now() > due + timedelta(seconds=LOOK_OVERDUE_SECONDS):
                    look["status"] = "overdue"      # its last attempt killed before it could say so, or never queued
            answer["last_look"] = look
        if gave_up(job):              # its last attempt was killed before it could say so (it ran out of time)
            answer.update(status="failed", finished_at=job["gives_up_at"],
                          error=GAVE_UP.format(attempts=job["attempt"], reason="out of time"))
        elif never_received(job):     # never queued, its failed mark refused too: no worker will ever run it
            answer.update(status="failed", error=NEVER_RECEIVED if job.get("kind") in WALKS else NEVER_RECEIVED_JOB)
        if job["status"] == "done" and job.get("export_key") and self.files is not None:
            gone = self._archive_gone(job)
            if gone:
                answer["archive_deleted"] = gone
            else:
                answer["download_url"] = self.files.presign(self.export_bucket, job["export_key"], DOWNLOAD_SECONDS,
                                                            f"customer-{job['customer_id']}.zip")
                # the link to everything about the customer is what a read reveals (a job's progress does not)
                audit.revealed(customer_id=job["customer_id"], job_id=job_id, kind=job["kind"])
        return {k: v for k, v in answer.items() if v is not None}

    def _archive_gone(self, job: dict[str, Any]) -> str | None:
        """Why a done export's archive is no more (None: it is there): an erase of a customer it holds deleted it
        (the job says so; or the customer is gone, or being erased: an export older than its archive's name), or the
        bucket's lifecycle did."""
        if job.get("archive_deleted"):
            return str(job["archive_deleted"])
        if self.store.erased([job["customer_id"]]):
            return "customer_erased"
        finished = job.get("finished_at")
        if finished and clock.parse_iso(finished) + timedelta(days=ARCHIVE_DAYS) < clock.now():
            return "expired"
        return None

    def current(self, job_id: str) -> str | None:
        """A job's status as ``status`` answers it (None: gone, its 30 days over)."""
        job = self.store.get(job_id)
        return None if job is None else "failed" if reads_failed(job) else str(job["status"])

    def from_platform(self, request: PrivacyRequest) -> list[str]:
        """The platform's request about a customer starts the same job for every customer of ours it names
        (``named``); none when shopdesk holds nothing about them (the request says so: ``nothing_held``), or it is
        not about a customer (``shop/redact``: the shop's part of the commerce cache deleted, ``redact_shop``). Every
        customer is written on the request before any job starts, so the request is done only when each of their
        jobs is; a redact's erases start before the shop's records of them are deleted (``redact_shop_records``). A
        data request gets one export, and so one archive, per customer. An error (the table or the queue refusing)
        goes to the caller: the webhook answers 503 and Shopify sends the request again, which starts no job that
        runs or ran (the request's ``jobs``). The trail records the request's arrival and a request about nobody held
        (``system:<platform>``, the topic and the request's id, no identifier)."""
        self._noted(request, "privacy.request.received")
        if request.topic == "shop/redact":
            return self.redact_shop(request)
        kind = PLATFORM_KINDS.get(request.topic)
        if kind is None:
            return []
        key = privacy_request_key(request)
        # a retry of a delivery that failed after its jobs started (the shop's records not deleted): those jobs
        # stand, and their customers count as named even once an erase removed them; a job that could not be queued
        # (failed) starts again, and so does one marked running that reads failed (``current``: its failed mark was
        # refused too, and no worker received it within the hour)
        held = self.store.request_jobs(key)
        named = list(dict.fromkeys([*held, *self.named(request)]))
        if not named:
            if kind == "erase":     # the shop's own records of them
                self.redact_shop_records(request)
            self.store.mark_request(key, "nothing_held")
            self._noted(request, "privacy.request.nothing_held")
            return []
        running = {c: str(e["job_id"]) for c, e in held.items() if e.get("job_id") and (
            e.get("status") == "done" or (e.get("status") == "running" and self.current(str(e["job_id"])) != "failed"))}
        fresh = [c for c in named if c not in running]
        if fresh:
            self.store.request_customers(key, fresh)
        started = list(running.values())
        for customer_id in fresh:
            try:
                started.append(str(self.start(kind, customer_id, f"system:{request.platform}", request=key)["job_id"]))
            except NotFound:        # erased since it was found: nothing of theirs is held
                self.store.request_customers(key, [customer_id], "nothing_held")
            except Conflict:        # merged since it was found: left open, for an admin (the others start)
                logger.warning("privacy request's job not started", extra={"customer_id": customer_id})
        if kind == "erase":
            # the shop's own records of them, after their erases started: a failure here (the table refusing, time
            # running out with many orders) fails the delivery, and Shopify's retry deletes them, no job started twice
            self.redact_shop_records(request)
        return started

    def replay_refused(self, request: PrivacyRequest) -> None:
        """A platform's privacy request whose signed body came before under another delivery id, refused
        (``commerce.webhooks``): on the trail as ``privacy.request.replay_refused``, the id it came with and the topic,
        no identifier."""
        self._noted(request, "privacy.request.replay_refused")

    def _noted(self, request: PrivacyRequest, action: str) -> None:
        if self.trail is not None:
            self.trail.record(actor=f"system:{request.platform}", action=action, target=request.id,
                              details={"topic": request.topic})

    def redact_shop_records(self, request: PrivacyRequest) -> int:
        """A redact's part in the order cache (``subject.shop_records``): the platform's customer record of its id,
        every order it names (``orders_to_redact``) and the orders and shop customers of the email and phone it names,
        with their pointers. How many items went. An error goes to the caller (the webhook answers 503, Shopify sends
        the request again: its retry deletes them, the erases it started stand)."""
        if self.shop is None:
            return 0
        raw_phone = str((request.customer or {}).get("phone") or "").strip()
        raw_email = str((request.customer or {}).get("email") or "").strip()
        addresses = [("email", request.email() or ""), ("email", raw_email), ("phone", request.phone() or ""),
                     ("phone", raw_phone)]
        data = SubjectData(self.shop.table)
        records = shop_records(data, request.platform, request.platform_customer_id(), addresses, request.orders)
        deleted = data.delete(records.items)
        logger.info("privacy request's shop records deleted", extra={"delivery": request.id, "items": deleted})
        return deleted

    def redact_shop(self, request: PrivacyRequest) -> list[str]:
        """Shopify's ``shop/redact`` (48 hours after the shop uninstalled the app): a ``shop_redact`` job deletes
        what the commerce cache holds of the shop; the request follows it (``running``, then ``done``)."""
        job = self.start_walk("shop_redact", f"system:{request.platform}", request=privacy_request_key(request),
                              platform=request.platform)
        return [str(job["job_id"])]

    def named(self, request: PrivacyRequest) -> list[str]:
        """Every customer of ours an identifier of the request finds: its email, its phone (E.164, a national number
        in the shop's region), and the email and phone of the platform's customer record of its id, kept in the order
        cache (``customers/create|update``). A customer merged into another is that one; each customer once."""
        addresses = [("email", request.email()), ("phone", request.phone())]
        record = (self.shop.get_customer(request.platform_customer_id() or "")
                  if self.shop is not None and request.platform_customer_id() else None)
        if record is not None:
            addresses += [("email", (record.email or "").strip().lower() or None),
                          ("phone", shop_phone(record.phone) if record.phone else None)]
        found: list[str] = []
        for kind, address in dict.fromkeys(addresses):
            customer = self.customers.find(kind, address) if address else None
            for _ in range(MAX_CUSTOMERS):          # merged: the customer they were merged into
                if customer is None or not customer.merged_into:
                    break
                customer = self.customers.get(customer.merged_into)
            if customer is not None and customer.id not in found:
                found.append(customer.id)
        return found

    def as_now(self, request: PrivacyRequest) -> PrivacyRequest:
        """The request as its jobs' ``status`` answers them now (a last attempt killed reads failed)."""
        if not request.jobs:
            if request.status == "running" and request.job_id:
                return request.model_copy(update={"status": self.current(request.job_id) or request.status})
            return request
        jobs = [job.model_copy(update={"status": self.current(job.job_id) or job.status})
                if job.status == "running" and job.job_id else job for job in request.jobs]
        return request.model_copy(update={"jobs": jobs, "status": request_status(jobs)})


@dataclass
class PrivacyWorker:
    """Runs a job (``PrivacyFunction``)."""

    store: PrivacyJobStore
    data: SubjectData
    files: Files
    eraser: Eraser
    trail: AuditTrail
    media_bucket: str | None
    export_bucket: str
    conversations: Conversations | None = None    # a retention job's walk
    queue: Queue | None = None                    # ... and its next slice
    max_receives: int = 5                         # the privacy queue's maxReceiveCount: the last attempt
    lake: Callable[[], Lake] | None = None        # the event lake an export reads the customer's rows from
    mail_bucket: str | None = None                # where SES stores raw mail (a message names its key there)

    def run(self, job_id: str, time_left: Callable[[], float] | None = None, attempt: int = 1) -> str:
        """Run a job (``attempt``: the message's receive count); an error on the last attempt fails it."""
        job = self.store.get(job_id)
        if job is None:
            return "skipped"
        if job["status"] == "failed" and job.get("dead_lettered"):
            job = {**job, "status": "running"}    # redriven after a fix: it runs again from where it was
            self.store.progress(job_id, status="running", error=None, finished_at=None, dead_lettered=None)
            if job.get("request"):
                self.store.mark_request(job["request"], "running", job_id)
        if job["status"] != "running":
            return "skipped"                  # done already (a redelivered message)
        if not job.get("received_at"):        # it was queued: never read as not received
            self.store.progress(job_id, received_at=clock.iso(clock.now()))
        last = attempt >= self.max_receives
        if last or job.get("gives_up_at"):     # the last attempt notes its end; a redriven one takes it away
            ends = clock.now() + timedelta(seconds=time_left()) if last and time_left is not None else None
            self.store.progress(job_id, attempt=attempt, gives_up_at=clock.iso(ends) if ends else None)
        try:
            return self._run(job_id, job, time_left)
        except Exception as error:
            if last:
                self._give_up(job_id, job, attempt, error)
            raise

    def _finish(self, job_id: str, job: dict[str, Any], status: str, **fields: Any) -> None:
        """The job's end, and the shop platform's request it answers, if any."""
        self.store.finish(job_id, status, **fields)
        if job.get("request"):
            self.store.mark_request(job["request"], status, job_id)

    def _give_up(self, job_id: str, job: dict[str, Any], attempt: int, error: Exception) -> None:
        """The last attempt failed: the job says so (the message goes on to the DLQ, and its alarm)."""
        reason = type(error).__name__         # not its text: it may quote what the job was handling
        self._finish(job_id, job, "failed", dead_lettered=True, error=GAVE_UP.format(attempts=attempt, reason=reason))
        if job["kind"] == "erase":            # a merge or another erase may take them on (a redrive marks them again)
            self.store.not_erasing(job["customer_id"], job_id)
            self._release(job_id, job["customer_id"])
        action = f"{job['kind']}.failed" if job["kind"] in WALKS else f"customer.{job['kind']}.failed"
        self.trail.record(actor="system:privacy", action=action, customer_id=job.get("customer_id"),
                          details={"job_id": job_id, "requested_by": job["requested_by"], "attempts": attempt,
                                   "error": reason})
        logger.error("privacy job failed", extra={"job_id": job_id, "kind": job["kind"], "error": reason})

    def _run(self, job_id: str, job: dict[str, Any], time_left: Callable[[], float] | None) -> str:
        if job["kind"] == "retention":
            return self._retention(job_id, job, time_left)
        if job["kind"] == "masking":
            return self._masking(job_id, job, time_left)
        if job["kind"] == "shop_redact":
            return self._shop_redact(job_id, job, time_left)
        merged_into = self.store.merged_into(job["customer_id"])
        if merged_into:                     # since the job was asked for: what it would find is the survivor's now
            return self._merged_meanwhile(job_id, job, merged_into)
        if job["kind"] == "erase":          # before anything is read: an export finishing meanwhile deletes its archive
            self.store.erasing(job["customer_id"], job_id)
        subject = gather(self.data, job["customer_id"], self.media_bucket, self.files, self.mail_bucket)
        if job["kind"] == "erase" and subject is not None:
            subject = self._hold(job_id, job["customer_id"], subject)
        if job["kind"] == "export":
            if subject is None:         # (erased: an archive an earlier attempt of this job left is deleted)
                self.eraser.erase_exports([job["customer_id"]], [])
                self._finish(job_id, job, "failed", error="the customer does not exist")
                return "failed"
            key = f"exports/{job_id}.zip"
            # named under each customer it holds before it is written: an erase of any of them finds it
            named = self.data.record_export(subject.customer_ids, job_id, self.export_bucket, key,
                                            int((clock.now() + timedelta(days=ARCHIVE_DAYS + 1)).timestamp()))
            events = events_of(self.lake(), subject) if self.lake is not None else []
            self.files.put(self.export_bucket, key,
                           archive(subject, audit_of(self.trail, subject.customer_ids), self.files, events),
                           "application/zip")
            if self.store.erased(subject.customer_ids):      # an erase of one of them ran meanwhile
                self.eraser.erase_exports([], named)
                self._finish(job_id, job, "failed", error=ERASED_MEANWHILE)
                self.trail.record(actor="system:privacy", action="customer.export.failed",
                                  customer_id=job["customer_id"],
                                  details={"job_id": job_id, "requested_by": job["requested_by"],
                                           "error": "customer_erased"})
                return "failed"
            self._finish(job_id, job, "done", export_key=key,
                         counts={"conversations": len(subject.conversation_ids), "files": len(subject.files)})
            self.trail.record(actor="system:privacy", action="customer.export.done", customer_id=job["customer_id"],
                              details={"job_id": job_id, "requested_by": job["requested_by"]})
            return "done"
        counts: dict[str, int] = {"items": 0, "files": 0, "conversations": 0, "markers": 0, "exports": 0}
        if subject is not None:
            subject = self._found_before(job_id, job, subject)
            self._erase_uploads_later(job_id, job, subject)
            lake_ttl = ttl_after(clock.now(), self.trail.policies.current().retention.events_days)
            erased = self.eraser.erase(subject, job_id, lake_ttl)
            counts = {"items": erased.items, "files": erased.files, "conversations": erased.conversations,
                      "markers": erased.markers, "exports": erased.exports}
        else:                             # erased already: an archive an export wrote since is deleted all the same
            counts["exports"] = self.eraser.erase_exports([job["customer_id"]], [])
        self._finish(job_id, job, "done", counts=counts)
        self.trail.record(actor="system:privacy", action="customer.erase.done", customer_id=job["customer_id"],
                          details={"job_id": job_id, "requested_by": job["requested_by"], **counts})
        logger.info("customer erased", extra={"job_id": job_id, **counts})
        return "done"

    def _found_before(self, job_id: str, job: dict[str, Any], subject: Subject) -> Subject:
        """The subject with the customers and conversations an earlier attempt of the job found, kept on the job
        (``erased_customers``, ``erased_conversations``) before anything is deleted, never fewer. An attempt that fails
        after deleting items (a file S3 kept, an archive, its time ran out) leaves the next one a customer whose
        conversations, and the customers merged into them, it no longer finds (their items, the identities and merge
        records naming them are gone), and the deletion list, the read of what landed under their conversations and
        the last look at their uploads need them all: the event lake's message rows name their conversation only."""
        customers = list(dict.fromkeys([*subject.customer_ids, *(job.get("erased_customers") or [])]))
        conversations = list(dict.fromkeys([*(job.get("erased_conversations") or []), *subject.conversation_ids]))
        if customers != job.get("erased_customers") or conversations != job.get("erased_conversations"):
            self.store.progress(job_id, erased_customers=customers, erased_conversations=conversations)
        return replace(subject, customer_ids=customers, conversation_ids=conversations)

    def _erase_uploads_later(self, job_id: str, job: dict[str, Any], subject: Subject) -> None:
        """The erase's last look at its conversations' files (``uploads_runner``), set before it deletes anything (a
        retried job sets it again): an agent's upload link issued before a conversation went can still put a file
        there until the link expires, after the erase has listed them, and the router's copy of an inbound file whose
        message it read before the erase can store the file after the erase's last read (its record of it landing
        before the erase deletes the message, or never: its invocation stopped); so can a web-chat visitor's link
        issued before the erase. The visitors' ids are kept on the job beside the conversations' (``_found_before``),
        those of an earlier attempt too."""
        visitors = erased_visitors(subject)
        if not (subject.conversation_ids or visitors) or not self.media_bucket or self.conversations is None:
            return
        visitors = list(dict.fromkeys([*(job.get("erased_visitors") or []), *visitors]))
        self.store.progress(job_id, erased_visitors=visitors, last_look={"status": "pending"})
        self.conversations.set_timer(job_pk(job_id), UPLOADS_TIMER,
                                     clock.iso(clock.now() + timedelta(seconds=UPLOADS_SECONDS)))

    def erase_uploads(self, job_id: str, attempt: int = 1) -> str:
        """A done erase's last look at its conversations' files, queued by ``uploads_runner`` once no upload link
        issued before the conversations went can be used and no copy of the router's that read one of their messages
        before can be running: what landed since the erase read them is deleted, agents' uploads
        (``media/outbound/<conversation>/``) and the router's copies (``media/<conversation>/``): two ListObjectsV2
        per conversation; and each web-chat visitor's files posted with a link issued before the erase was done
        (``media/webchat/<visitor>/``, one ListObjectsV2 a visitor), but those the visitor sent since, as the new
        customer they are after the erase (``_sent_since``). The job's ``last_look`` says how it went: ``done``, or
        ``failed`` when the queue's last attempt (``attempt``: the message's receive count) fails too."""
        job = self.store.get(job_id)
        if job is None or job.get("kind") != "erase" or job["status"] != "done" or not self.media_bucket:
            return "skipped"
        try:
            files = self._look_again(job_id, job)
        except Exception as error:
            if attempt >= self.max_receives:
                self._look_failed(job_id, job, attempt, error)
            raise
        # the web-chat visitors' ids, an online identifier of the erased, are kept only until this last look
        forget = {"erased_visitors": []} if job.get("erased_visitors") else {}
        if not self.store.look_done(job_id, {"status": "done", "finished_at": clock.iso(clock.now()), "files": files},
                                    **forget):
            return "skipped"        # a run delivered again after one that was done: its result and record stand
        self.trail.record(actor="system:privacy", action="customer.erase.last_look", customer_id=job["customer_id"],
                          details={"job_id": job_id, "files": files})
        return "uploads_erased"

    def _look_failed(self, job_id: str, job: dict[str, Any], attempt: int, error: Exception) -> None:
        """The last look's last attempt failed: the job says so (``last_look`` ``failed``: the erase is not complete),
        the audit trail too, and the message goes on to the DLQ (its alarm); a redrive looks again."""
        reason = type(error).__name__         # not its text: it may quote what it was deleting
        self.store.progress(job_id, last_look={"status": "failed", "finished_at": clock.iso(clock.now()),
                                               "error": GAVE_UP.format(attempts=attempt, reason=reason)})
        self.trail.record(actor="system:privacy", action="customer.erase.last_look.failed",
                          customer_id=job["customer_id"], details={"job_id": job_id, "attempts": attempt,
                                                                   "error": reason})
        logger.error("erase's last look at uploads failed", extra={"job_id": job_id, "error": reason})

    def _look_again(self, job_id: str, job: dict[str, Any]) -> int:
        """``erase_uploads``'s listing and delete: how many files it deleted."""
        keys = [key for conversation_id in job.get("erased_conversations") or []
                for prefix in (conversation_uploads(conversation_id), conversation_files(conversation_id))
                for key in self.files.keys(self.media_bucket, prefix)]
        finished = clock.parse_iso(str(job["finished_at"]))
        for visitor in job.get("erased_visitors") or []:
            before = [key for key in self.files.keys(self.media_bucket, visitor_uploads(visitor))
                      if (issued := upload_issued(key)) is not None and issued <= finished]
            if before:
                sent = self._sent_since(visitor)
                keys += [key for key in before if key not in sent]
        self.files.delete(self.media_bucket, keys)
        logger.info("erased uploads", extra={"job_id": job_id, "files": len(keys)})
        return len(keys)

    def _sent_since(self, visitor: str) -> set[str]:
        """The files a web-chat visitor's messages name now: after their erase, what they sent as a new customer (a
        file posted with a link issued before the erase may be among them: theirs to send again). Their identity
        (consistent), then their customer's conversations and those it names (one Query each)."""
        conversation_ids: list[str] = []
        for identity in self.data.identities([(VISITOR, visitor)]):
            if identity.get("customer_id"):
                conversation_ids += self.data.conversation_ids(str(identity["customer_id"]))
            conversation_ids += [str(identity[name]) for name in ("open_conversation_id", "last_conversation_id",
                                                                  "reopenable_conversation_id") if identity.get(name)]
        return {str(a["storage_key"]) for conversation_id in dict.fromkeys(conversation_ids)
                for row in self.data.conversation(conversation_id) for a in row.get("attachments") or []
                if isinstance(a, dict) and a.get("storage_key")}

    def _hold(self, job_id: str, customer_id: str, subject: Subject) -> Subject | None:
        """Nothing more of the customer is stored from here on, and what was stored until then is read: their numbers
        marked (a kept message's replay: ``Eraser.mark``), their identities and conversations held (a live message's
        store: ``Eraser.hold``, dal/erased.py), then the subject read again, which finds what a message stored before
        the hold. A conversation opened between the first read and the hold is found by that read, unheld: it is held
        and read again (after the identities are held, none opens). The subject as read last, after every part of it
        was held."""
        self.eraser.mark(subject)
        for _ in range(HOLD_READS):
            if not self.eraser.hold(subject, job_id):
                return subject
            subject = gather(self.data, customer_id, self.media_bucket, self.files, self.mail_bucket)
            if subject is None:
                return None
        raise Conflict("the customer's conversations kept changing while their erase held them; the job runs again")

    def _release(self, job_id: str, customer_id: str) -> None:
        """A failed erase holds the customer's identities and conversations no more: they can write again."""
        try:
            subject = gather(self.data, customer_id, None)
            if subject is not None:
                self.eraser.release(subject, job_id)
        except Exception:           # the operator is alerted by the dead-letter queue: a redrive holds them again
            logger.exception("failed erase's hold not taken away", extra={"job_id": job_id})

    def _merged_meanwhile(self, job_id: str, job: dict[str, Any], survivor: str) -> str:
        """The customer was merged into another after the job was asked for (a merge refuses a customer being
        erased, not one being exported; or a job older than that): the job fails, naming the survivor, and neither
        erases nor exports a record whose data is another's now; the merge stays, and can be undone."""
        kind = job["kind"]
        self._finish(job_id, job, "failed", error=MERGED_MEANWHILE.format(
            survivor=survivor, done="erased" if kind == "erase" else "exported", kind=kind))
        if kind == "erase":
            self.store.not_erasing(job["customer_id"], job_id)
        self.trail.record(actor="system:privacy", action=f"customer.{kind}.failed", customer_id=job["customer_id"],
                          details={"job_id": job_id, "requested_by": job["requested_by"], "error": "merged",
                                   "merged_into": survivor})
        return "failed"

    def _retention(self, job_id: str, job: dict[str, Any], time_left: Callable[[], float] | None) -> str:
        """One slice of the walk: from the job's position until done or the invocation's time runs low."""
        if self.conversations is None or self.queue is None:
            raise RuntimeError("a retention job needs the table's conversations and the privacy queue")
        retention = self.trail.policies.fresh().retention       # as saved now, whatever this container cached
        counts, position = reapply_step(self.conversations, retention, since=job.get("position"),
                                        counts=job.get("counts"), time_left=time_left)
        return self._walked(job_id, job, counts, position, "retention",
                            {k: v for k, v in retention.model_dump().items() if v is not None})

    def _masking(self, job_id: str, job: dict[str, Any], time_left: Callable[[], float] | None) -> str:
        """One slice of the masking scan: from the job's position until done or the invocation's time runs low;
        then, as a retention job does, a second pass once every writer has read the patterns saved."""
        if self.conversations is None or self.queue is None:
            raise RuntimeError("a masking job needs the table and the privacy queue")
        self.trail.policies.fresh()                 # the patterns as saved now, whatever this container cached
        counts, position = remask_step(self.conversations.table, masking=RecordMasking(self.trail.policies),
                                       since=job.get("position"), counts=job.get("counts"), time_left=time_left)
        return self._walked(job_id, job, counts, position, "masking",
                            {"patterns": [p.name for p in self.trail.policies.current().patterns]})

    def _shop_redact(self, job_id: str, job: dict[str, Any], time_left: Callable[[], float] | None) -> str:
        """One slice of a ``shop/redact``'s deletion: pages of the table's Scan from the job's position, each page's
        items of the shop's cache deleted, until done or the invocation's time runs low (the next slice queued). Done:
        the request ``done``, and ``shop.redact.done`` with how many orders, shop customers and pointers went."""
        if self.conversations is None or self.queue is None:
            raise RuntimeError("a shop_redact job needs the table and the privacy queue")
        cache = ShopCache(self.conversations.table, str(job["platform"]))
        counts = {name: int((job.get("counts") or {}).get(name, 0)) for name in SHOP_COUNTS.values()}
        position, pages = job.get("position"), 0
        while not pages or (position and (time_left is None or time_left() >= SHOP_RESERVE_SECONDS)):
            pages += 1
            keys, position = cache.page(position, SHOP_PAGE)
            cache.delete(keys)
            for pk, _ in keys:
                counts[SHOP_COUNTS[pk.split("#", 1)[0]]] += 1
        if position:
            self.store.progress(job_id, position=position, counts=counts)
            self.queue.send({"job_id": job_id}, group=SHOP_GROUP,
                            dedup_id=f"{job_id}-{hashlib.sha256(position.encode()).hexdigest()[:32]}")
            return "continued"
        self.store.finish(job_id, "done", counts=counts)
        self.store.request_job(job["request"], job_id, "done")
        self.trail.record(actor="system:privacy", action="shop.redact.done",
                          details={"job_id": job_id, "requested_by": job["requested_by"], **counts})
        logger.info("shop redacted", extra={"job_id": job_id, **counts})
        return "done"

    def _walked(self, job_id: str, job: dict[str, Any], counts: dict[str, int], position: str | None, kind: str,
                applied: dict[str, Any]) -> str:
        """After a slice of a walk of the table (``kind``: retention or masking): the next slice queued from
        ``position``, or the job done, with the walk's second pass set for what writers still holding the settings
        read before the save write meanwhile (walked again once their caches have expired; set before the job is
        done: a crash in between runs the last slice again) and ``<kind>.applied`` on the audit trail."""
        assert self.conversations is not None and self.queue is not None
        if position is not None:
            self.store.progress(job_id, position=position, counts=counts)
            self.queue.send({"job_id": job_id}, group=WALKS[kind],
                            dedup_id=f"{job_id}-{hashlib.sha256(position.encode()).hexdigest()[:32]}")
            return "continued"
        if not job.get("settles"):
            due = max(clock.parse_iso(job["created_at"]) + timedelta(seconds=SETTLE_SECONDS), clock.now())
            self.conversations.set_timer(job_pk(job_id), SETTLE_TIMERS[kind], clock.iso(due))
        self.store.finish(job_id, "done", counts=counts)
        settles = {"settles": job["settles"]} if job.get("settles") else {}
        # a second pass is its own actor's (system:retention, system:masking: ``SETTLERS``), as the inactive
        # customers' erases are system:retention's, so ``GET /admin/audit?actor=system:retention`` finds it
        self.trail.record(actor=job["requested_by"] if settles else "system:privacy", action=f"{kind}.applied",
                          details={"job_id": job_id, "requested_by": job["requested_by"], **settles, **counts,
                                   **applied})
        logger.info(f"{kind} applied", extra={"job_id": job_id, **settles, **counts})
        return "done"


# A retention job's second pass (``settle_runner``). Writers read the privacy settings at most every
# ``CACHE_SECONDS`` per container: one that read them just before a save writes with the old retention until then,
# and a write it began may land up to a minute later (the longest timeout of a function that writes items).
SETTLE_TIMER = "retention_settle"
MASKING_SETTLE_TIMER = "masking_settle"          # a masking job's, the same for the masking patterns
SETTLE_TIMERS = {"retention": SETTLE_TIMER, "masking": MASKING_SETTLE_TIMER}   # each walk's second pass
SETTLE_SECONDS = CACHE_SECONDS + 60
SETTLER = "system:retention"
SETTLERS = {"retention": SETTLER, "masking": "system:masking"}


# An erase's last look at its conversations' files (``uploads_runner``): an agent's upload link (a presigned POST,
# ``dal.media.UPLOAD_SECONDS``) issued before the erase deleted a conversation may put a file under it until the link
# expires; five minutes more for an upload that started just before. The router's copy of an inbound file (its
# function's Timeout, 60 s: template.yaml) that read the message before the erase deleted it ends well within.
UPLOADS_TIMER = "erase_uploads"
UPLOADS_SECONDS = UPLOAD_SECONDS + 300
# A last look still pending this long after it was due did not come and will not by itself: the sweep queues it at
# ``due_at`` (a refused send is run again 1, 2, 4 ... minutes on) and the privacy queue's five attempts, 360 s apart
# (template.yaml), end within about half an hour; a last attempt killed (out of time) before it could say ``failed``,
# or a look never queued, leaves it pending. The job's answer says ``overdue`` then (``PrivacyJobs.status``).
LOOK_OVERDUE_SECONDS = 3600
NEVER_RECEIVED = ("the walk was never received by the privacy worker within an hour of its start: its message was "
                  "not queued (or was lost); a settings save's second pass walks the table when it was set, else an "
                  "operator runs it with scripts.backfill")
NEVER_RECEIVED_JOB = ("the job was never received by the privacy worker within an hour of its start: its message was "
                      "not queued (or was lost), and nothing was done; ask again, which starts a new job")
VISITOR = "webchat"         # a web-chat visitor's identity kind (``channels.webchat.IDENTITY_KIND``)


def erased_visitors(subject: Subject) -> list[str]:
    """The erased customer's web-chat visitors whose uploads the erase looks at again (an id holds no ``/``, so no
    prefix reaches another visitor's files)."""
    return [address for kind, address in sorted(subject.addresses)
            if kind == VISITOR and address and "/" not in address]


def uploads_runner(table_name: str, privacy_queue_url: str) -> Callable[[str], object]:
    """The sweep's runner of ``erase_uploads`` timers (its ``on_timer``), given the erase's job: once the job is done
    and ``UPLOADS_SECONDS`` have passed since, its uploads' last look is queued (``PrivacyWorker.erase_uploads``, in
    the customer's group); a job still running moves the timer on, and one that failed erased nothing (its files
    stay), one no worker received within the hour as well (``dal.erased.reads_failed``, as its status reads). Built
    at the first one."""
    made: list[tuple[PrivacyJobStore, Queue]] = []

    def run(job_id: str) -> object:
        if not made:
            made.append((PrivacyJobStore(Table(table_name)), Queue(privacy_queue_url)))
        store, queue = made[0]
        job = store.get(job_id)
        if job is None or job.get("kind") != "erase" or reads_failed(job):     # as its status reads (dal.erased)
            return "gone"
        if job["status"] != "done":
            return Later(clock.iso(clock.now() + timedelta(seconds=UPLOADS_SECONDS)))
        ready = clock.parse_iso(job["finished_at"]) + timedelta(seconds=UPLOADS_SECONDS)
        if clock.now() < ready:
            return Later(clock.iso(ready))
        queue.send({"job_id": job_id, "uploads": True}, group=str(job["customer_id"]), dedup_id=f"{job_id}-uploads")
        return "queued"

    return run


def settle_runner(table_name: str, privacy_queue_url: str, kind: str = "retention") -> Callable[[str], object]:
    """The sweep's runner of ``retention_settle`` (``masking_settle``: ``kind`` masking) timers (its ``on_timer``),
    given the job whose save they follow: a job of its own walks again. Built at the first one, so a sweep with none
    builds nothing."""
    made: list[PrivacyJobs] = []

    def run(job_id: str) -> object:
        if not made:
            table = Table(table_name)
            made.append(PrivacyJobs(PrivacyJobStore(table), Queue(privacy_queue_url), Customers(table)))
        return made[0].start_walk(kind, SETTLERS[kind], settles=job_id)

    return run
