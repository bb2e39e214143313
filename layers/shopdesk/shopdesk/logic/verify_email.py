"""A web-chat visitor proves an email address with a one-time code, so their chat and their mail are one
customer (``Merger.link_verified``): the one automatic link a visitor can cause, and only on proof.

- Asking: a 6-digit code from ``secrets``, mailed through SES; stored only as an HMAC (keyed with the widget's
  session secret) of visitor, address and code; valid 10 minutes; asking again replaces it. Rate-limited per
  visitor and per address (its buckets named by an HMAC of the address, not the address): a code every two minutes
  at most, and six a day and one each two hours since, whatever chats ask (a shop signs a visitor for every page
  view), so the widget cannot be used to mail-bomb anyone. The code's item holds the address; a pointer to it named by
  an HMAC of the address (keyed with the hash key) lets the erase of the address's customer find it.
- Confirming: rate-limited per visitor, and per address (its bucket named by an HMAC of the address too): the
  codes tried for one address, from every chat, at most 10 at once and one more an hour. A shop signs a visitor for
  every page view, so a guesser has as many chats, and codes mailed, as the address's limit on asking gives (a code
  every two minutes): five tries each would be 3,600 a day against the address's million codes. 5 wrong codes use
  the code up; the right one is used once (a conditional write), then the address is linked: a new identity of the
  visitor's customer, or, when the address is another customer's, that customer absorbs the visitor's (a merge
  recorded as the system's, with the proof as its reason, and undoable by an agent).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from shopdesk import clock
from shopdesk.channels import webchat
from shopdesk.dal.identities import Identities
from shopdesk.dal.ratelimits import RateLimits
from shopdesk.dal.verifications import PendingCode, Verifications, address_key
from shopdesk.errors import BadRequest, Conflict
from shopdesk.logic.merge import LinkOutcome, Merger
from shopdesk.models import Identity

CODE_SECONDS = 600
MAX_ATTEMPTS = 5
REQUEST_LIMIT = webchat.RateLimiter(rate_per_s=1 / 120, burst=3)     # codes asked per visitor and per address
ADDRESS_DAY_LIMIT = webchat.RateLimiter(rate_per_s=1 / 7200, burst=6)  # codes mailed to an address, every chat's
CONFIRM_LIMIT = webchat.RateLimiter(rate_per_s=1 / 10, burst=5)      # confirmations tried per visitor
ADDRESS_CONFIRM_LIMIT = webchat.RateLimiter(rate_per_s=1 / 3600, burst=10)    # codes tried per address, every chat's
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")

SendMail = Callable[[str, str, str], None]          # (to, subject, text)


def normalise_email(raw: str) -> str:
    """An email identity's address: trimmed, lower-cased (as the email channel keys them); BadRequest if it
    is not an address."""
    value = raw.strip().lower()
    if len(value) > 254 or not _EMAIL.match(value):
        raise BadRequest("email is not an email address")
    return value


@dataclass
class EmailVerification:
    verifications: Verifications
    limits: RateLimits
    merger: Merger
    identities: Identities
    send_mail: SendMail
    secret: str
    shop_name: str = "the shop"
    # names each code's pointer from its address (``address_key``), as the erase of the address's customer names it
    # to find the code (privacy/erase.py): the hash key, which signs nothing, so the erase needs no session secret
    hash_key: str | None = None

    def _hash(self, visitor_id: str, email: str, code: str) -> str:
        return hmac.new(self.secret.encode(), f"{visitor_id}|{email}|{code}".encode(), hashlib.sha256).hexdigest()

    def _address_bucket(self, email: str, what: str = "to") -> str:
        """A rate bucket of the codes mailed to one address (``to``, ``mailed``), or tried for it (``tried``), named by
        an HMAC of the address (keyed with the widget's session secret): it limits them without holding the address,
        which no erase could find when it is none of the customer's (a visitor who never confirmed it)."""
        return f"webchat-otp-{what}#{address_key(self.secret, email, 'rate' if what == 'to' else f'rate-{what}')}"

    def _limit(self, key: str, limiter: webchat.RateLimiter) -> None:
        from shopdesk.logic.widget import limit
        limit(self.limits, key, limiter)

    def request(self, visitor_id: str, raw_email: str) -> dict[str, object]:
        email = normalise_email(raw_email)
        self._limit(f"webchat-otp#{visitor_id}", REQUEST_LIMIT)
        self._limit(self._address_bucket(email), REQUEST_LIMIT)
        self._limit(self._address_bucket(email, "mailed"), ADDRESS_DAY_LIMIT)
        code = f"{secrets.randbelow(10**6):06d}"
        expires = int(clock.now().timestamp()) + CODE_SECONDS
        digest = self._hash(visitor_id, email, code)
        self.verifications.put(PendingCode(visitor_id=visitor_id, email=email, code_hash=digest, expires_at=expires,
                                           attempts=0), address_key(self.hash_key, email) if self.hash_key else None)
        self.send_mail(email, f"Your code for {self.shop_name}",
                       f"Your code is {code}. Enter it in the chat on our website to confirm this address.\n"
                       f"It is valid for {CODE_SECONDS // 60} minutes. If you did not ask for it, ignore this mail.")
        return {"email": email, "expires_in": CODE_SECONDS}

    def confirm(self, visitor_id: str, code: str) -> LinkOutcome:
        self._limit(f"webchat-otp-check#{visitor_id}", CONFIRM_LIMIT)
        pending = self.verifications.get(visitor_id)
        if pending is None or pending.expires_at <= clock.now().timestamp():
            raise BadRequest("no code is pending for this chat, or it expired: ask for a new one")
        if pending.attempts >= MAX_ATTEMPTS:
            raise BadRequest("too many wrong codes: ask for a new one")
        self._limit(self._address_bucket(pending.email, "tried"), ADDRESS_CONFIRM_LIMIT)     # before any comparing
        if not hmac.compare_digest(pending.code_hash, self._hash(visitor_id, pending.email, code.strip())):
            self.verifications.wrong_attempt(pending)
            raise BadRequest("the code is not right")
        if not self.verifications.use(pending, MAX_ATTEMPTS):
            raise BadRequest("the code was used already: ask for a new one")
        anchor = self.identities.get(webchat.IDENTITY_KIND, visitor_id)
        try:
            return self.merger.link_verified(
                anchor.customer_id if anchor else None, Identity(kind=webchat.IDENTITY_KIND, address=visitor_id),
                Identity(kind="email", address=pending.email),
                reason=f"the web-chat visitor proved {pending.email} with a one-time code")
        except Conflict:
            # Right, but not linkable this moment (the address's customer being erased, identities being written):
            # the widget answers 503 retry, so the same code must work when tried again.
            self.verifications.restore(pending)
            raise
