"""Request bodies of the web-chat widget API."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints


class StartIn(BaseModel):
    visitor_token: Annotated[str, StringConstraints(min_length=10, max_length=4096)]


class SendIn(BaseModel):
    client_message_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    text: Annotated[str, StringConstraints(max_length=5000)] | None = None
    attachments: list[dict[str, Any]] = Field(default_factory=list, max_length=10)


class UploadIn(BaseModel):
    filename: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    content_type: Annotated[str, StringConstraints(min_length=3, max_length=127)]
    size: Annotated[int, Field(ge=1)]


class VerifyEmailIn(BaseModel):
    email: Annotated[str, StringConstraints(min_length=3, max_length=254)]


class ConfirmEmailIn(BaseModel):
    code: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{6}$")]
