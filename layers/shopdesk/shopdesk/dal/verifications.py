"""One-time codes a web-chat visitor asks for to prove an email address: ``OTP#<visitor_id>`` holds the
latest code's hash (never the code), the address it was sent to, its expiry (and a TTL to clean up) and the
wrong attempts so far. Asking again replaces it; using it leaves a used marker
until the TTL removes it."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from shopdesk.dal import items as it
from shopdesk.dal.table import ConditionFailed, Table, Update


@dataclass(frozen=True)
class PendingCode:
    visitor_id: str
    email: str
    code_hash: str
    expires_at: int             # Unix seconds
    attempts: int


def _pk(visitor_id: str) -> str:
    return f"OTP#{visitor_id}"


class Verifications:
    def __init__(self, table: Table):
        self.table = table

    def put(self, code: PendingCode) -> None:
        self.table.put({"PK": _pk(code.visitor_id), "SK": it.META, "type": "otp", "email": code.email,
                        "code_hash": code.code_hash, "expires_at": code.expires_at, "attempts": 0,
                        "ttl": code.expires_at + 3600})

    def get(self, visitor_id: str) -> PendingCode | None:
        item = self.table.get(_pk(visitor_id), it.META)
        if item is None or item.get("type") != "otp":       # none asked for, or used
            return None
        return PendingCode(visitor_id=visitor_id, email=item["email"], code_hash=item["code_hash"],
                           expires_at=int(item["expires_at"]), attempts=int(item.get("attempts", 0)))

    def wrong_attempt(self, code: PendingCode) -> None:
        """Count a wrong code against the one read (a code asked for since starts again at 0)."""
        with contextlib.suppress(ConditionFailed):
            self.table.update(_pk(code.visitor_id), it.META, Update().add("attempts", 1)
                              .when("#type = :otp AND code_hash = :h", otp="otp", h=code.code_hash))

    def use(self, code: PendingCode, max_attempts: int) -> bool:
        """Mark the code used (one conditional write) if it is still the one read and not used up; False when
        a concurrent confirmation used it first. Only a pending code (``otp``): the used marker keeps its hash (for
        ``restore``), and a wrong attempt read before the use may have counted on it since."""
        try:
            self.table.put({"PK": _pk(code.visitor_id), "SK": it.META, "type": "otp_used", "ttl": code.expires_at,
                            "code_hash": code.code_hash},
                           condition="#type = :otp AND code_hash = :h AND attempts < :max", names={"#type": "type"},
                           values={":otp": "otp", ":h": code.code_hash, ":max": max_attempts})
        except ConditionFailed:
            return False
        return True

    def restore(self, code: PendingCode) -> None:
        """Put a code used a moment ago back as it was read (its wrong attempts too): what it was used for could not
        be done then. Only over its own used marker: a code asked for since stays."""
        with contextlib.suppress(ConditionFailed):
            self.table.put({"PK": _pk(code.visitor_id), "SK": it.META, "type": "otp", "email": code.email,
                            "code_hash": code.code_hash, "expires_at": code.expires_at, "attempts": code.attempts,
                            "ttl": code.expires_at + 3600},
                           condition="#type = :used AND code_hash = :h", names={"#type": "type"},
                           values={":used": "otp_used", ":h": code.code_hash})
