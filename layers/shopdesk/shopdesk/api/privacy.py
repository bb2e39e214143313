"""Request and response models of the admin API's privacy routes (audit trail, settings, jobs)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from shopdesk.privacy.settings import MaskingPattern, Retention


class AuditRecordOut(BaseModel):
    id: str
    at: str
    actor: str = Field(description="an agent id, or system:<what> (privacy jobs, the shop platform)")
    roles: list[str] = Field(default_factory=list)
    action: str = Field(description="<METHOD> <route> for a change, or a name (customer.read, "
                                    "customer.erase.done, ...)")
    target: str | None = Field(None, description="the route's path parameters")
    customer_id: str | None = None
    conversation_id: str | None = None
    before: Any = None
    after: Any = None
    details: dict[str, Any] | None = None
    source_ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None
    status: int | None = None
    outcome: Literal["allowed", "denied", "failed"] = Field("allowed", description=(
        "denied: a refused access attempt (status 403 or 404, ``reason`` says which; action <METHOD> <route>); "
        "failed: an allowed action that changed data, then failed (status the error answered: a reply stored, then "
        "refused by the outbound queue, 503; ``details`` names what it stored); allowed: every other record"))
    reason: Literal["forbidden", "deactivated", "not_visible", "not_found"] | None = Field(None, description=(
        "why a denied attempt was refused: forbidden (403: the caller's role or scope), deactivated (403: an admin "
        "took the caller off the desk, whatever their token), not_visible (404: it "
        "exists, but the caller may not see it), not_found (404: no conversation or customer of that id); the "
        "caller got the same answer for both 404s"))


class AuditList(BaseModel):
    items: list[AuditRecordOut]
    next_cursor: str | None = None


class PatternWarning(BaseModel):
    loc: list[str | int] = Field(description='["body", "masking_patterns", <index>, "pattern"]')
    msg: str


class PrivacySettingsOut(BaseModel):
    retention: Retention
    masking_patterns: list[MaskingPattern]
    version: int
    retention_job_id: str | None = Field(None, description="a save that changed the retention of messages, resolved "
                                         "conversations or inactive customers: the job giving what is already "
                                         "stored the new one (GET /admin/privacy/jobs/{job_id})")
    masking_job_id: str | None = Field(None, description="a save that added a masking pattern or changed one: the "
                                       "job masking what is already stored with it (messages, notes, previews, "
                                       "names, survey comments, cached orders; GET /admin/privacy/jobs/{job_id})")
    masking_warnings: list[PatternWarning] = Field(default_factory=list, description=(
        "stored patterns that would be refused if added or changed now (saved before that check came): a save keeps "
        "them as they are; each at its place in masking_patterns, and why; an empty list when none"))


class JobStarted(BaseModel):
    job_id: str
    running: bool | None = Field(None, description=(
        "true: an erase of this customer was running already, and this is its job (an erase asked for twice is one)"))


class LastLook(BaseModel):
    status: Literal["pending", "done", "failed", "overdue"] = Field(description=(
        "pending: the erase's last look at its conversations' uploads is still to come (due_at); done: it came "
        "(files: how many it deleted); failed: its last attempt failed (error), the operator is alerted and can "
        "redrive it: until then the erase is not complete; overdue: still not come an hour past due_at (its last "
        "attempt killed before it could say failed, or never queued): not complete, the operator is alerted (the "
        "privacy dead-letter queue's or the sweep's alarm) and can redrive it"))
    due_at: str | None = Field(None, description=(
        "pending or overdue: when it comes or came due (ten minutes after the erase was done)"))
    finished_at: str | None = None
    files: int | None = None
    error: str | None = None


class JobOut(BaseModel):
    job_id: str
    kind: Literal["export", "erase", "retention", "masking", "shop_redact"]
    customer_id: str | None = None
    status: Literal["running", "done", "failed"]
    created_at: str | None = None
    finished_at: str | None = None
    error: str | None = None
    counts: dict[str, int] | None = None
    download_url: str | None = Field(None, description="an export's archive (zip), for 15 minutes")
    archive_deleted: Literal["customer_erased", "expired"] | None = Field(None, description=(
        "a done export without a download_url says why: its archive was deleted when the customer (or one merged "
        "into them) was erased, or the export bucket deleted it after a day"))
    last_look: LastLook | None = Field(None, description=(
        "a done erase's last look at the files uploaded to its conversations after it (status stays done whatever "
        "becomes of it)"))


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=320)]


class EraseSeveral(BaseModel):
    customers: list[Name] = Field(min_length=1, max_length=100, description=(
        "each a customer id (u_...), an email address or a phone number (international, or national in the shop's "
        "region); at most 100 (send more in turns)"))


class EraseRow(BaseModel):
    input: str = Field(description="the name as given")
    outcome: Literal["found", "started", "same_customer", "merged", "already_erased", "not_found",
                     "unrecognised", "not_queued"] = Field(description=(
        "found (preview: the customer it names), started (their erase job, or the one of theirs running already), "
        "same_customer (named already above), merged (an id merged into another customer, merged_into: their "
        "conversations and identities are that customer's now; erase that one, or unmerge first: nothing is "
        "started), already_erased (an id an erase removed: job_id is that erase), not_found, unrecognised (neither "
        "an id, an email address nor a phone number), not_queued (the privacy queue refused their erase: job_id, "
        "failed, did nothing; without job_id, not tried: the queue refused one before it in the request, and too "
        "little of the request's time was left for another send: nothing was done, the customer is not held, and it "
        "is on the audit trail as failed; send those again)"))
    customer_id: str | None = None
    name: str | None = Field(None, description="the customer's name, to check before erasing")
    merged_into: str | None = Field(None, description="merged: the customer holding their data now")
    job_id: str | None = Field(None, description="GET /admin/privacy/jobs/{job_id} follows it")


class EraseRows(BaseModel):
    items: list[EraseRow]
