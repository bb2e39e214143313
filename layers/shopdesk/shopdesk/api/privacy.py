"""Request and response models of the admin API's privacy routes (audit trail, settings, jobs)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

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


class AuditList(BaseModel):
    items: list[AuditRecordOut]
    next_cursor: str | None = None


class PrivacySettingsOut(BaseModel):
    retention: Retention
    masking_patterns: list[MaskingPattern]
    version: int


class JobStarted(BaseModel):
    job_id: str


class JobOut(BaseModel):
    job_id: str
    kind: Literal["export", "erase"]
    customer_id: str
    status: Literal["running", "done", "failed"]
    created_at: str | None = None
    finished_at: str | None = None
    error: str | None = None
    counts: dict[str, int] | None = None
    download_url: str | None = Field(None, description="an export's archive (zip), for 15 minutes")
