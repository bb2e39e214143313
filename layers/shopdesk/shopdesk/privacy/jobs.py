"""Privacy jobs: an export or an erase of one customer, asked for by an admin (``POST
/admin/customers/{id}/export|erase``) or by the shop platform (Shopify's ``customers/data_request`` and
``customers/redact``), run asynchronously by ``PrivacyFunction`` from the privacy queue (FIFO, one group per
customer: an export asked before an erase runs first), polled with ``GET /admin/privacy/jobs/{job_id}``.

A job is ``running`` until it is ``done`` (an export with its archive's key) or ``failed`` (a customer who
does not exist any more, for an export). A job that crashed is retried by the queue (up to its DLQ), and
both operations can run again: an export writes the same archive, an erase finds only what is left.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from aws_lambda_powertools import Logger

from shopdesk import clock
from shopdesk.commerce.models import PrivacyRequest
from shopdesk.dal.customers import Customers
from shopdesk.dal.privacy import Files, PrivacyJobStore, SubjectData
from shopdesk.dal.queues import Queue
from shopdesk.errors import NotFound
from shopdesk.ids import new_id
from shopdesk.privacy import audit
from shopdesk.privacy.audit import AuditTrail
from shopdesk.privacy.erase import Eraser
from shopdesk.privacy.export import archive, audit_of
from shopdesk.privacy.settings import ttl_after
from shopdesk.privacy.subject import gather

logger = Logger(child=True)

Kind = Literal["export", "erase"]
DOWNLOAD_SECONDS = 900          # the export's link: fifteen minutes
PLATFORM_KINDS: dict[str, Kind] = {"customers/data_request": "export", "customers/redact": "erase"}


@dataclass
class PrivacyJobs:
    """Starting and reading jobs (admin API, the platform's webhook)."""

    store: PrivacyJobStore
    queue: Queue
    customers: Customers
    files: Files | None = None
    export_bucket: str = ""

    def start(self, kind: Kind, customer_id: str, by: str, *, noted: bool = True) -> dict[str, Any]:
        """Start a job on a customer who exists (NotFound). ``noted``: the request's audit record names it (one
        request, one customer); an erase of many writes a record per customer itself."""
        if self.customers.get(customer_id) is None:
            raise NotFound(f"customer {customer_id} does not exist")
        job = {"id": new_id("j_"), "kind": kind, "customer_id": customer_id, "status": "running",
               "requested_by": by, "created_at": clock.iso(clock.now())}
        self.store.create(job)
        self.queue.send({"job_id": job["id"]}, group=customer_id, dedup_id=job["id"])
        if noted:
            audit.note(customer_id=customer_id, after={"job_id": job["id"], "kind": kind})
        return {"job_id": job["id"]}

    def status(self, job_id: str) -> dict[str, Any]:
        job = self.store.get(job_id)
        if job is None:
            raise NotFound(f"privacy job {job_id} does not exist")
        audit.note(customer_id=job["customer_id"], details={"job_id": job_id, "kind": job["kind"]})
        answer = {k: job.get(k) for k in ("job_id", "kind", "customer_id", "status", "created_at", "finished_at",
                                          "error", "counts")}
        answer["job_id"] = job_id
        if job["status"] == "done" and job.get("export_key") and self.files is not None:
            answer["download_url"] = self.files.presign(self.export_bucket, job["export_key"], DOWNLOAD_SECONDS,
                                                        f"customer-{job['customer_id']}.zip")
        return {k: v for k, v in answer.items() if v is not None}

    def from_platform(self, request: PrivacyRequest) -> str | None:
        """The platform's request about a customer starts the same job (the customer found by their email or
        phone identity); None when shopdesk holds nothing about them."""
        kind = PLATFORM_KINDS.get(request.topic)
        contact = request.customer or {}
        if kind is None:
            return None
        for identity in (("email", (contact.get("email") or "").strip().lower()), ("phone", contact.get("phone"))):
            if identity[1]:
                found = self.customers.find(identity[0], identity[1])
                if found is not None:
                    return str(self.start(kind, found.id, f"system:{request.platform}")["job_id"])
        return None


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

    def run(self, job_id: str) -> str:
        job = self.store.get(job_id)
        if job is None or job["status"] != "running":
            return "skipped"                  # unknown, or done already (a redelivered message)
        subject = gather(self.data, job["customer_id"], self.media_bucket)
        if job["kind"] == "export":
            if subject is None:
                self.store.finish(job_id, "failed", error="the customer does not exist")
                return "failed"
            key = f"exports/{job_id}.zip"
            self.files.put(self.export_bucket, key,
                           archive(subject, audit_of(self.trail, subject.customer_ids), self.files), "application/zip")
            self.store.finish(job_id, "done", export_key=key,
                              counts={"conversations": len(subject.conversation_ids), "files": len(subject.files)})
            self.trail.record(actor="system:privacy", action="customer.export.done", customer_id=job["customer_id"],
                              details={"job_id": job_id, "requested_by": job["requested_by"]})
            return "done"
        counts: dict[str, int] = {"items": 0, "files": 0, "conversations": 0, "markers": 0}
        if subject is not None:
            lake_ttl = ttl_after(clock.now(), self.trail.policies.current().retention.events_days)
            erased = self.eraser.erase(subject, job_id, lake_ttl)
            counts = {"items": erased.items, "files": erased.files, "conversations": erased.conversations,
                      "markers": erased.markers}
        self.store.finish(job_id, "done", counts=counts)
        self.trail.record(actor="system:privacy", action="customer.erase.done", customer_id=job["customer_id"],
                          details={"job_id": job_id, "requested_by": job["requested_by"], **counts})
        logger.info("customer erased", extra={"job_id": job_id, **counts})
        return "done"
