"""Helpers for messages the system writes on a conversation's timeline."""

from __future__ import annotations

from shopdesk import clock
from shopdesk.bounds import clean_text
from shopdesk.ids import new_id
from shopdesk.models import Direction, Message


def system_message(conversation_id: str, text: str, author: str | None = None) -> Message:
    return Message(id=new_id("m_"), conversation_id=conversation_id, direction=Direction.SYSTEM, text=text,
                   created_at=clock.now(), author=author)


def preview(text: str | None, attachments: int = 0) -> str | None:
    if text:
        return clean_text(text[:140])
    if attachments:
        return f"[{attachments} attachment{'s' if attachments > 1 else ''}]"
    return None
