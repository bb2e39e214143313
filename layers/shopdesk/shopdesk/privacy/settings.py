"""Privacy settings an admin changes without a deploy: retention per data class and masking patterns.

Stored as one configuration item (``CONFIG#privacy/settings``, versioned like the routing settings). The
functions that write data under these rules read it at most once per ``CACHE_SECONDS`` per container (the
inbound functions once at cold start, before the first message, so ingest keeps its budget of two DynamoDB
requests per message), so a change counts everywhere within five minutes.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any

from aws_lambda_powertools import Logger
from pydantic import BaseModel, Field, StringConstraints, field_validator

from shopdesk.dal.config import ConfigStore
from shopdesk.errors import InvalidFields
from shopdesk.privacy.masking import Pattern, compile_pattern, compile_patterns, mask, mask_name

logger = Logger(child=True)

CACHE_SECONDS = 300
KIND, KEY = "privacy", "settings"
# A value shaped like an id (a team's, a policy's, a label's): other settings and conversations name it as it is,
# so it cannot be masked; one that holds a card number, an IBAN or a pattern's match is refused instead
ID_SHAPED = re.compile(r"[a-z0-9][a-z0-9_-]{0,127}")
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
        canned response's title, a knowledge-base article's title (their bodies are sent: ``masked_sent``)."""
        found = mask(text, self.current().patterns)
        return found.text or text, found.kinds

    def masked_sent(self, text: str) -> tuple[str, tuple[str, ...]]:
        """Words a person of the desk sends a customer (a reply, a template's parameters, a canned response's bodies,
        a knowledge-base article's body: the bot's answer), as they are stored and sent: card numbers (a card number
        never travels over chat, SMS or email) and the admins' patterns masked, an IBAN kept: one an agent gives a
        customer is a payment address, the shop's, sent to be paid (docs/security.md, section 7). A note keeps masking
        IBANs (``masked``): it is never sent."""
        found = mask(text, self.current().patterns, ibans=False)
        return found.text or text, found.kinds

    def masked_name(self, text: str) -> str:
        """A name a person of the desk gave (a file's), as it is stored: masked as a customer's name is
        (``mask_name``)."""
        return mask_name(text, self.current().patterns).text or text

    def masked_settings(self, value: dict[str, Any], key: str) -> dict[str, Any]:
        """Settings an admin saves (a team, an SLA policy, a calendar, a label, the routing, bot and survey
        settings), as they are stored and audited: every text in them masked as a name is (``mask_name``: a team's
        name and description, a policy's name, the shop's name, the acknowledgements' texts). What names rather than
        says (the item's ``key``, an ``id`` or ``..._id`` field, a map's keys, a value shaped like an id: ``ID_SHAPED``)
        cannot be masked without breaking what names it: one that would be is refused (InvalidFields, 422), so
        nothing in clear is stored."""
        patterns = self.current().patterns
        refused: list[dict[str, Any]] = []

        def named(text: str, where: tuple[str | int, ...], part: str = "body") -> str:
            if mask_name(text, patterns).text != text:
                refused.append({"loc": (part, *where), "type": "value_error",
                                "msg": f"{'/'.join(map(str, where))} holds what looks like a card "
                                       "number, an IBAN or one of the privacy settings' patterns; it is an id, "
                                       "which is kept as given: choose another"})
            return text

        def walk(item: Any, where: tuple[str | int, ...]) -> Any:
            if isinstance(item, str):
                field = str(where[-1]) if where and isinstance(where[-1], str) else ""
                if field == "id" or field.endswith("_id") or ID_SHAPED.fullmatch(item):
                    return named(item, where)
                return mask_name(item, patterns).text or item
            if isinstance(item, dict):
                return {named(k, (*where, k)) if isinstance(k, str) else k: walk(v, (*where, k))
                        for k, v in item.items()}
            if isinstance(item, list | tuple):
                return [walk(v, (*where, i)) for i, v in enumerate(item)]
            return item

        named(key, ("id",), "path")
        masked = walk(value, ())
        if refused:
            raise InvalidFields(refused)
        return masked

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
