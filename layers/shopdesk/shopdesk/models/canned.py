"""Canned responses: a title, a shortcode and a body per language, shared (admins) or personal (one agent)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field, StringConstraints

from shopdesk.clock import Instant
from shopdesk.models.admin import Language
from shopdesk.models.message import Attachment

CannedId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
# as people type it ("WIS ", "/wis"): lower-cased, trimmed and its slash dropped before the pattern is checked
# (StringConstraints checks its pattern against the text as given)
Shortcode = Annotated[str, BeforeValidator(lambda v: v.strip().lstrip("/").lower() if isinstance(v, str) else v),
                      StringConstraints(pattern=r"^[a-z0-9_-]{1,32}$")]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
# a body is a reply's text: its channel's limit is checked when it is sent (shopdesk.channels.limits.text_refusal)
Body = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]
Scope = Literal["shared", "personal"]


class CannedFile(BaseModel):
    """A file sent with every reply that uses the canned response: uploaded first (``POST /agent/attachments``
    without a conversation), then named here by its key."""

    key: Annotated[str, StringConstraints(min_length=1, max_length=1024, pattern=r"^media/[A-Za-z0-9._@/-]+$")]
    filename: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    content_type: Annotated[str, StringConstraints(min_length=3, max_length=127)]
    size: Annotated[int, Field(ge=1)]

    def attachment(self) -> Attachment:
        return Attachment(storage_key=self.key, filename=self.filename, content_type=self.content_type, size=self.size)

    @classmethod
    def of(cls, attachment: Attachment) -> CannedFile:
        return cls(key=attachment.storage_key or "", filename=attachment.filename or "file",
                   content_type=attachment.content_type or "application/octet-stream", size=attachment.size or 1)


class CannedContent(BaseModel):
    """What an admin or agent writes: ``bodies`` per language code (``{"en": "...", "es": "..."}``) and,
    optionally, files sent with it."""

    title: Title
    shortcode: Shortcode
    bodies: Annotated[dict[Language, Body], Field(min_length=1, max_length=20)]
    attachments: Annotated[list[CannedFile], Field(max_length=10)] = Field(default_factory=list)


class CannedResponse(CannedContent):
    id: CannedId
    scope: Scope
    owner: str | None = None          # the agent of a personal one
    uses: int = 0                     # replies sent with it
    last_used_at: Instant | None = None
    updated_at: Instant | None = None
    updated_by: str | None = None
    version: int = 0                  # moved by every save: ?version=N saves only over version N
