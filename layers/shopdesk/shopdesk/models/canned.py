"""Canned responses: a title, a shortcode and a body per language, shared (admins) or personal (one agent)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from shopdesk.models.admin import Language

CannedId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Shortcode = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[a-z0-9_-]{1,32}$")]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Body = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1600)]
Scope = Literal["shared", "personal"]


class CannedContent(BaseModel):
    """What an admin or agent writes: ``bodies`` per language code (``{"en": "...", "es": "..."}``)."""

    title: Title
    shortcode: Shortcode
    bodies: Annotated[dict[Language, Body], Field(min_length=1, max_length=20)]


class CannedResponse(CannedContent):
    id: CannedId
    scope: Scope
    owner: str | None = None          # the agent of a personal one
    uses: int = 0                     # replies sent with it
    last_used_at: datetime | None = None
    updated_at: datetime | None = None
    updated_by: str | None = None
