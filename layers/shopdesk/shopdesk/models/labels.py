"""Labels: a name and a colour that admins keep, agents put on conversations, views filter by."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shopdesk.clock import Instant

LabelId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
LabelName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
Color = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^#[0-9a-fA-F]{6}$")]
MAX_LABELS = 20          # on one conversation: its label items stay far inside a transaction's 100 operations


class LabelContent(BaseModel):
    """What an admin writes: ``{"name": "Shipping", "color": "#2f80ed"}``."""

    model_config = ConfigDict(extra="forbid")

    name: LabelName
    color: Color


class Label(LabelContent):
    id: LabelId
    retired: bool = False               # kept on the conversations that have it; cannot be added any more
    updated_at: Instant | None = None
    updated_by: str | None = None
    version: int = 0                    # moved by every change: ?version=N saves only over version N


class LabelChange(BaseModel):
    """``POST /agent/conversations/{id}/labels``: ``{"add": [...], "remove": [...]}``."""

    model_config = ConfigDict(extra="forbid")

    add: Annotated[list[LabelId], Field(max_length=MAX_LABELS)] = Field(default_factory=list)
    remove: Annotated[list[LabelId], Field(max_length=MAX_LABELS)] = Field(default_factory=list)
