"""The SLA engine: which policy applies, the conversation's clocks, and the deadlines they put in the
due index. Clocks live on the conversation (a snapshot of targets, warning fraction and calendar),
so the sweep and every event need no policy reads; policies and calendars are cached for a minute,
so an admin's change takes effect without a deploy.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shopdesk.dal.config import ConfigStore
from shopdesk.dal.conversations import ClockConflict, ClockRead, Conversations
from shopdesk.dal.customers import Customers
from shopdesk.dal.table import Update
from shopdesk.logic.access import DEFAULT_TEAM
from shopdesk.logic.business_time import ConversationClocks
from shopdesk.models import Priority
from shopdesk.models.admin import RoutingSettings, Team
from shopdesk.models.sla import BusinessHours, SlaPolicy, Targets, choose_policy

CACHE_SECONDS = 60
ESCALATION = {Priority.LOW: Priority.NORMAL, Priority.NORMAL: Priority.HIGH, Priority.HIGH: Priority.URGENT,
              Priority.URGENT: Priority.URGENT}


def default_policy(first_response_targets: dict[Priority, int]) -> SlaPolicy:
    """The template's targets, around the clock, when no policy is configured."""
    return SlaPolicy(id="default", name="Default (template parameters)", rank=1_000_000,
                     targets={p: Targets(first_response=s) for p, s in first_response_targets.items()})


@dataclass
class PolicyBook:
    config: ConfigStore | None
    fallback: SlaPolicy
    _loaded_at: float = field(default=-1e9)
    _policies: list[SlaPolicy] = field(default_factory=list)
    _calendars: dict[str, BusinessHours] = field(default_factory=dict)
    _routing: RoutingSettings = field(default_factory=RoutingSettings)
    _teams: list[Team] | None = None

    def _load(self) -> None:
        if time.monotonic() - self._loaded_at < CACHE_SECONDS:
            return
        policies, calendars, routing = [], {}, RoutingSettings()
        if self.config is not None:
            policies = [SlaPolicy.model_validate(_strip(p)) for p in self.config.list("sla-policy")]
            calendars = {c["id"]: BusinessHours.model_validate(_strip(c, "id")) for c in self.config.list("calendar")}
            routing = RoutingSettings.model_validate(_strip(self.config.get("routing", "settings") or {}))
        self._policies, self._calendars, self._routing, self._teams = policies, calendars, routing, None
        self._loaded_at = time.monotonic()

    def routing(self) -> RoutingSettings:
        self._load()
        return self._routing

    def teams(self) -> set[str]:
        """Every team conversations can wait in: those created by a supervisor, those the routing
        settings send conversations to (by default, by channel, by label), and the default team, always (an
        agent is in it until an admin moves them, whatever team the routing settings now send to)."""
        return {team.id for team in self.named_teams()}

    def named_teams(self) -> list[Team]:
        """The teams of ``teams()`` by name: a supervisor's with the name they gave it, one only the routing
        settings name under its id as its name."""
        self._load()
        if self._teams is None:           # read on first use: only the sweep, routing changes and the teams list
            self._teams = [Team.model_validate(_strip(t)) for t in self.config.list("team")] \
                if self.config is not None else []
        routed = {DEFAULT_TEAM, self._routing.default_team, *self._routing.team_by_channel.values(),
                  *self._routing.team_by_label.values()} - {t.id for t in self._teams}
        return sorted([*self._teams, *(Team(id=team, name=team) for team in routed)],
                      key=lambda team: (team.name.casefold(), team.id))

    def clocks(self, channel: str | None, team: str | None, priority: Priority, tier: str | None = None
               ) -> ConversationClocks:
        self._load()
        policy = choose_policy([*self._policies, self.fallback], channel, tier, team, priority)
        hours = self._calendars.get(policy.calendar_id) if policy.calendar_id else None
        return ConversationClocks.for_policy(policy, priority, hours)

    def rebind(self, clocks: ConversationClocks, channel: str | None, team: str | None, priority: Priority, *,
               choose: bool = False, tier: str | None = None, at: datetime | None = None) -> None:
        """Rebind the clocks to ``priority`` under the conversation's own policy, or, with ``choose`` (its team or
        the customer's tier changed), under the policy that now applies to ``channel``, ``team`` and ``tier``;
        ``at``: the moment of the change, so time already used counts in the calendar it was used in. A policy
        that does not list ``priority`` gives way to the one that applies for it (``choose_policy``)."""
        self._load()
        policy = next((p for p in [*self._policies, self.fallback] if p.id == clocks.policy_id), None)
        if choose or policy is None or (policy.targets and priority not in policy.targets):
            policy = choose_policy([*self._policies, self.fallback], channel, tier, team, priority)
        hours = self._calendars.get(policy.calendar_id) if policy.calendar_id else None
        clocks.rebind(policy, priority, hours, at)


def _strip(item: dict[str, Any], *extra: str) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in ("version", *extra)}


def apply(conversations: Conversations, conversation_id: str, change: Callable[[ConversationClocks], Any],
          book: PolicyBook, *, attempts: int = 4, extra: Callable[[], Update] | None = None,
          first: ClockRead | None = None) -> ConversationClocks | None:
    """Read the conversation's clocks, apply ``change``, write clocks and deadlines back, retrying
    when another event changed them meanwhile. Conversations from before the engine get clocks now.
    ``extra``: makes (once per attempt) a further change of the conversation written with the clocks. ``first``:
    a read the caller has (``with_clocks``)."""
    def write(read: ClockRead, clocks: ConversationClocks) -> None:
        if change(clocks) is not False:   # False: nothing to change (a repeated event)
            conversations.save_clocks(conversation_id, clocks, read.version, read=read,
                                      extra=extra() if extra is not None else None)
    return with_clocks(conversations, conversation_id, write, book, attempts=attempts, first=first)


def with_clocks(conversations: Conversations, conversation_id: str,
                write: Callable[[ClockRead, ConversationClocks], None], book: PolicyBook, *,
                attempts: int = 4, first: ClockRead | None = None) -> ConversationClocks | None:
    """Read the conversation with its clocks and version and run ``write`` (which saves them, with whatever
    else must change with them), again from a fresh read when it raises ClockConflict. None when every
    attempt lost to another event. ``first``: a read the caller already made, used for the first attempt (the
    write is conditioned on the version it holds, so a read another change made stale costs a refused write and a
    fresh read, never a wrong one)."""
    for attempt in range(attempts):
        read = first if first is not None and attempt == 0 else conversations.read_clocks(conversation_id)
        conv, clocks = read.conversation, read.clocks
        if clocks is None:
            clocks = book.clocks(conv.channel, conv.team, conv.priority, tier=conv.customer.tier)
        try:
            write(read, clocks)
            return clocks
        except ClockConflict:
            continue
    return None


def apply_tier(conversations: Conversations, customers: Customers, conversation_id: str, book: PolicyBook, *,
               at: datetime, then: Callable[[ConversationClocks], Any] | None = None,
               first: ClockRead | None = None) -> ConversationClocks | None:
    """Choose the conversation's clocks again with the customer's tier as their record has it now: rebind them
    to the policy for its channel, team and that tier, keeping the business time already used (counted in the
    calendar it was used in, up to ``at``), then apply ``then`` (the first message's clocks starting, a reopen).
    The clocks and the tier go on the conversation in one write, conditioned on the clocks version and on the
    customer's tier being still the one read, and done again from a fresh read when either changed.

    Without ``then`` (the tier changed) a conversation whose clocks have not started is left to the router,
    which reads the tier when it starts them, and one already on that tier is left as it is; ``then``
    answering False (a repeated event) writes nothing. None when every attempt lost to another event. ``first``: a
    read the caller has (``with_clocks``)."""
    def write(read: ClockRead, clocks: ConversationClocks) -> None:
        conv = read.conversation
        if then is None and read.clocks is None:
            return
        tier = customers.tier(conv.customer.id)
        if then is None and tier == conv.customer.tier:
            return
        book.rebind(clocks, conv.channel, conv.team, conv.priority, choose=True, tier=tier, at=at)
        if then is not None and then(clocks) is False:
            return
        conversations.save_clocks_with_tier(read, clocks, tier)
    return with_clocks(conversations, conversation_id, write, book, first=first)


def customer_wrote(moment: datetime) -> Callable[[ConversationClocks], bool]:
    def change(clocks: ConversationClocks) -> bool:
        if clocks.last_customer_message_at is not None and clocks.last_customer_message_at >= moment:
            return False              # this message (or a later one) is already on the clocks
        clocks.on_customer_message(moment)
        return True
    return change


def book_for(conversations: Conversations, first_response_targets: dict[Priority, int]) -> PolicyBook:
    return PolicyBook(ConfigStore(conversations.table), default_policy(first_response_targets))
