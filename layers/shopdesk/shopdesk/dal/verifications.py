"""One-time codes a web-chat visitor asks for to prove an email address: ``OTP#<visitor_id>`` holds the
latest code's hash (never the code), the address it was sent to, its expiry (and a TTL to clean up) and the
wrong attempts so far. Asking again replaces it; using it leaves a used marker
until the TTL removes it.

Beside it, ``OTPFOR#<key of the address>`` / ``OTP#<visitor_id>`` (``type`` ``otp_address``, the same TTL): the code
item's pointer from the address it names, under an HMAC of the address keyed with the widget's session secret
(``address_key``), never the address. The erase of the customer owning the address finds by it every code another
chat asked for it (one Query an address) and deletes them (``privacy/erase.py``)."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
from collections.abc import Callable
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


def address_key(secret: str, email: str, purpose: str = "otp") -> str:
    """An address as the items about its codes are named: an HMAC of it keyed with the widget's session secret, so
    they never hold it, and only one holding the secret can name them from it (the erase of its customer). ``purpose``
    keeps each kind of item's names apart: ``otp`` the codes' pointers, ``rate`` and ``rate-<what>`` the rate
    buckets (``logic.verify_email``)."""
    return hmac.new(secret.encode(), f"{purpose}|{email}".encode(), hashlib.sha256).hexdigest()


def _address_pk(key: str) -> str:
    return f"OTPFOR#{key}"


class Verifications:
    def __init__(self, table: Table):
        self.table = table

    def put(self, code: PendingCode, key: str | None = None) -> None:
        """The code, and first its pointer under ``key`` (``address_key`` of its address) when given: a pointer whose
        code was never written names nothing and expires."""
        if key is not None:
            self.table.put({"PK": _address_pk(key), "SK": _pk(code.visitor_id), "type": "otp_address",
                            "ttl": code.expires_at + 3600})
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

    def naming(self, key: str, email: str) -> list[tuple[str, str]]:
        """The keys of every code asked for ``email`` (its ``address_key``), whichever chat asked, that still names it,
        and of their pointers: one Query, and a BatchGetItem when there are any. A chat that has asked for another
        address since keeps its code (its pointer goes)."""
        pointers = self.table.query_all(index=None, key_condition="PK = :pk", names={},
                                        values={":pk": _address_pk(key)}, consistent=True)
        if not pointers:
            return []
        codes = self.table.batch_get([(str(row["SK"]), it.META) for row in pointers])
        return [(str(row["PK"]), str(row["SK"])) for row in pointers] + [
            (str(row["PK"]), str(row["SK"])) for row in codes if row.get("email") == email]


@dataclass
class CodeNames:
    """The codes' items an erase deletes, named from addresses with the hash key (read when first needed)."""

    verifications: Verifications
    hash_key: Callable[[], str]

    def naming(self, email: str) -> list[tuple[str, str]]:
        """Every code asked for ``email``, whichever chat asked, and their pointers (``Verifications.naming``)."""
        return self.verifications.naming(address_key(self.hash_key(), email), email)

    def pointer(self, visitor_id: str, email: str) -> tuple[str, str]:
        """The pointer a chat's code asked for ``email`` has (the code's item names the address it was asked for)."""
        return _address_pk(address_key(self.hash_key(), email)), _pk(visitor_id)
