"""What the inbox shows around the conversations: how many each view holds, and the colleagues to hand one to."""

from __future__ import annotations

from dataclasses import dataclass, field

from shopdesk.dal.agents import Agents
from shopdesk.dal.counts import Counts
from shopdesk.dal.mentions import Mentions
from shopdesk.logic.access import Access, Caller
from shopdesk.models import Agent, ConversationStatus

# The statuses an agent still works on; resolved conversations are history, not work.
WORKING = (ConversationStatus.OPEN, ConversationStatus.PENDING, ConversationStatus.SNOOZED)


@dataclass
class Overview:
    counts: Counts
    agents: Agents
    mentions: Mentions | None = None
    access: Access = field(init=False)

    def __post_init__(self) -> None:
        self.access = Access(self.agents)

    def view_counts(self, caller: Caller) -> dict[str, int]:
        """The badge of each view, counting only what the caller may see there (shopdesk.logic.access):
        ``mine`` (the caller's open, pending and snoozed), ``unassigned`` (waiting in the caller's teams'
        queues) and ``all`` (open, pending and snoozed: every one for an admin; for anyone else, as the
        "all" list shows them, their teams' plus the ones they hold in other teams, each once)."""
        teams = list(dict.fromkeys(self.access.teams(caller)))
        if caller.admin:
            every = sum(self.counts.by_status(s.value) for s in WORKING)
        else:
            every = sum(self.counts.team(team, s.value) for team in teams for s in WORKING) + sum(
                self.counts.inbox_outside(caller.id, s.value, teams) for s in WORKING)
        views = {
            "mine": sum(self.counts.inbox(caller.id, s.value) for s in WORKING),
            "unassigned": sum(self.counts.queue(team) for team in teams),
            "all": every,
        }
        if self.mentions is not None:       # conversations with mentions of the caller not read yet
            views["mentions"] = self.mentions.unread_count(caller.id)
        return views

    def colleagues(self) -> list[Agent]:
        """Every agent with presence, capacity and load, online first, then by name: whom to transfer to."""
        order = {"online": 0, "away": 1, "offline": 2}
        return sorted(self.agents.all(), key=lambda a: (order.get(a.presence.value, 3), (a.name or a.id).lower()))
