"""Email subjects: whether one is a reply's, and the reply's to one. Kept apart from the mail parser and the SES
sender so that the router, which reads subjects, does not load them."""

from __future__ import annotations

import re

_REPLY_PREFIX = re.compile(r"^\s*(?:re|aw|antw|sv|vs|r|ref|rif|res|odp|ynt|yan[\u0131i]t|回复|答复|回覆)\s*:",
                           re.IGNORECASE)


def is_reply_subject(subject: str | None) -> bool:
    """Whether a subject is a reply's (``Re:``, ``AW:``, ``SV:``... then the thread's subject)."""
    return bool(_REPLY_PREFIX.match(subject or ""))


def reply_subject(subject: str | None) -> str:
    """``Re: <subject>``, not doubled when it already starts with a reply prefix (Re:, AW:, SV:...)."""
    text = re.sub(r"\s+", " ", subject or "").strip()
    if not text:
        return "Re:"
    return text if _REPLY_PREFIX.match(text) else f"Re: {text}"
