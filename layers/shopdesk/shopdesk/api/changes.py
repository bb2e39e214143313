"""Response model of ``GET /agent/changes`` (the catch-up of the live inbox)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from shopdesk.logic.changes import ChangePage, Notice


class ChangeList(BaseModel):
    items: list[Notice]
    cursor: str = Field(description="the cursor to send as `since` next time")
    more: bool = Field(description="more changes are waiting: call again with `cursor` now")

    @classmethod
    def of(cls, page: ChangePage) -> ChangeList:
        return cls(items=page.items, cursor=page.cursor, more=page.more)
