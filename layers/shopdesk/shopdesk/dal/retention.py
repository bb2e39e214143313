"""The retention classes of what is written without one (#14): messages, and resolved conversations.

Ingest and the agent API give the messages they write their expiry from the privacy settings; everything else
that writes to a conversation's timeline (system entries such as "Assigned to alice" or "target missed", the
bot's answers, acknowledgements, transcript notes) used to write without one and was kept forever. Every
writer of a message item in ``dal/`` passes it through ``TimelineRetention.stamp``: a message other than a
customer's (ingest always decides those) with no expiry gets ``messages_days`` after it was written. The
settings are read at most once per ``privacy.settings.CACHE_SECONDS`` per container, and only by a writer of
such a message.

A resolve writes the conversation's expiry (``closed_conversations_days``) the same way, whoever resolves: an
agent, a macro, the bot (its confirmed or silent resolves were kept forever before), the system; and, when admins
erase inactive customers (``inactive_customers_days``), it moves the customer's ``inactive_customer`` timer in the
due index to N days later (``shopdesk.privacy.inactive`` runs it).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from shopdesk import clock
from shopdesk.models import Direction, Message

INACTIVE_TIMER = "inactive_customer"     # a customer's timer in the due index: erased then if still inactive

if TYPE_CHECKING:
    from shopdesk.dal.table import Table
    from shopdesk.privacy.settings import PrivacyPolicies


class TimelineRetention:
    def __init__(self, table: Table, policies: PrivacyPolicies | None = None):
        self.table = table
        self._policies = policies

    def share(self, policies: PrivacyPolicies | None) -> None:
        """Use the settings a function already reads (ingest, the agent API): no second read."""
        if policies is not None:
            self._policies = policies

    @property
    def policies(self) -> PrivacyPolicies:
        if self._policies is None:
            from shopdesk.dal.config import ConfigStore
            from shopdesk.privacy.settings import PrivacyPolicies
            self._policies = PrivacyPolicies(ConfigStore(self.table))
        return self._policies

    def stamp(self, message: Message) -> Message:
        """The message with the messages' expiry when it has none (a customer's message is left as ingest wrote it)."""
        if message.expires_at is not None or message.direction is Direction.INBOUND:
            return message
        days = self.policies.current().retention.messages_days
        return message.model_copy(update={"expires_at": message.created_at + timedelta(days=days)}) if days else message

    def closed_ttl(self, at: datetime) -> int | None:
        """A conversation resolved at ``at``: when its record expires (retention of closed conversations), if it
        does (DynamoDB TTL, epoch seconds)."""
        from shopdesk.privacy.settings import ttl_after
        return ttl_after(at, self.policies.current().retention.closed_conversations_days)

    def inactive_due(self, at: datetime) -> str | None:
        """When a customer whose conversation is resolved at ``at`` is erased if nothing happens meanwhile (retention
        of inactive customers), if they are (ISO instant)."""
        days = self.policies.current().retention.inactive_customers_days
        return clock.iso(at + timedelta(days=days)) if days else None
