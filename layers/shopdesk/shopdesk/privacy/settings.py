"""Privacy settings an admin changes without a deploy: retention per data class and masking patterns.

Stored as one configuration item (``CONFIG#privacy/settings``, versioned like the routing settings). The
functions that write data under these rules read it at most once per ``CACHE_SECONDS`` per container (the
inbound functions once at cold start, before the first message, so ingest keeps its budget of two DynamoDB
requests per message), so a change counts everywhere within five minutes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any

from aws_lambda_powertools import Logger
from pydantic import BaseModel, Field, StringConstraints, field_validator

from shopdesk.dal.config import ConfigStore
from shopdesk.privacy.masking import Pattern, compile_pattern, compile_patterns, mask

logger = Logger(child=True)

CACHE_SECONDS = 300
KIND, KEY = "privacy", "settings"
Days = Annotated[int, Field(ge=1, le=3650)]


class Retention(BaseModel):
    """How long each class of data is kept, in days (DynamoDB TTL on the items, S3 lifecycle on the files;
    docs/data-model.md, "Retention"). ``None``: kept until erased."""

    messages_days: Days | None = Field(None, description="messages (and the files they carry): days after written")
    closed_conversations_days: Days | None = Field(
        None, description="a resolved conversation's record: days after it was resolved (a reopen keeps it)")
    inactive_customers_days: Annotated[int, Field(ge=30, le=3650)] | None = Field(
        None, description="a customer with nothing open and nothing resolved for N days is erased, everything about "
                          "them (their last resolve starts the count, counted from resolves after the setting; a "
                          "message from them stops it); none: kept until erased")
    events_days: Days = Field(400, description="rows of the event lake (applied by the lake's own lifecycle)")
    audit_days: Days = Field(730, description="audit records: days after written")
    dedupe_markers_days: Annotated[int, Field(ge=8, le=3650)] = Field(
        90, description="provider message markers: providers re-deliver for up to 7 days")


class MaskingPattern(BaseModel):
    name: Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9 _-]{0,31}$")]
    pattern: Annotated[str, StringConstraints(min_length=1, max_length=300)]

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        compile_pattern(value)          # ValueError: "not a valid regular expression: ..."
        return value


class PrivacySettings(BaseModel):
    retention: Retention = Field(default_factory=Retention)
    masking_patterns: list[MaskingPattern] = Field(default_factory=list, max_length=20)


def ttl_after(at: datetime, days: int | None) -> int | None:
    """The DynamoDB TTL (epoch seconds) ``days`` after ``at``; None when kept."""
    return int((at + timedelta(days=days)).timestamp()) if days else None


@dataclass
class PrivacyPolicy:
    """The settings in force, compiled: what ingest and the writers of audit records apply."""

    settings: PrivacySettings = field(default_factory=PrivacySettings)
    patterns: list[Pattern] = field(default_factory=list)

    @classmethod
    def of(cls, settings: PrivacySettings) -> PrivacyPolicy:
        return cls(settings, compile_patterns((p.name, p.pattern) for p in settings.masking_patterns))

    @property
    def retention(self) -> Retention:
        return self.settings.retention


@dataclass
class PrivacyPolicies:
    """The policy in force, read from the table at most once per ``CACHE_SECONDS`` per container."""

    config: ConfigStore
    _policy: PrivacyPolicy | None = None
    _read_at: float = 0.0

    def read(self) -> dict[str, Any]:
        stored = self.config.get(KIND, KEY) or {}
        return {**PrivacySettings.model_validate({k: v for k, v in stored.items() if k != "version"}).model_dump(),
                "version": stored.get("version", 0)}

    def write(self, settings: PrivacySettings, expected_version: int | None) -> dict[str, Any]:
        version = self.config.put(KIND, KEY, settings.model_dump(), expected_version)
        self._policy = PrivacyPolicy.of(settings)
        self._read_at = time.monotonic()
        return {**settings.model_dump(), "version": version}

    def current(self) -> PrivacyPolicy:
        if self._policy is None or time.monotonic() - self._read_at > CACHE_SECONDS:
            stored = self.read()
            stored.pop("version", None)
            self._policy = PrivacyPolicy.of(PrivacySettings.model_validate(stored))
            self._read_at = time.monotonic()
        return self._policy

    def cached(self) -> PrivacyPolicy | None:
        """The policy last read, however old, without reading (None before the first read): for what must mask when
        the table is what failed (``logic.webhooks.IngestRetry``)."""
        return self._policy

    def masked(self, text: str) -> tuple[str, tuple[str, ...]]:
        """Words a person of the desk wrote, as they are stored: card numbers, IBANs and the admins' patterns masked
        (as ingest masks a customer's), with what was masked. The one path for every such text the table keeps: a
        note, a hand-off note, a routing change's note, a merge's or unmerge's reason, a macro's name and its notes, a
        canned response's title and bodies, a knowledge-base article's title and body."""
        found = mask(text, self.current().patterns)
        return found.text or text, found.kinds

    def fresh(self) -> PrivacyPolicy:
        """The policy as stored now (a job acting on a change an admin just saved: the cache may predate it)."""
        self._policy = None
        return self.current()

    def prime(self) -> None:
        """Read now (at cold start), so the first request pays nothing; a failure is retried at first use."""
        try:
            self.current()
        except Exception:
            logger.warning("privacy settings not read at start; reading at first use")
