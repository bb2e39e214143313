"""What the inbox shows around the conversations: how many each view holds, and the colleagues to hand one to."""

from __future__ import annotations

from dataclasses import dataclass

from shopdesk.dal.agents import Agents
from shopdesk.dal.counts import Counts
from shopdesk.models import Agent, ConversationStatus

# The statuses an agent still works on; resolved conversations are history, not work.
WORKING = (ConversationStatus.OPEN, ConversationStatus.PENDING, ConversationStatus.SNOOZED)


@dataclass
class Overview:
    counts: Counts
    agents: Agents

    def view_counts(self, agent_id: str) -> dict[str, int]:
        """The badge of each view: ``mine`` (the caller's open, pending and snoozed), ``unassigned`` (waiting in
        the caller's teams' queues) and ``all`` (every open, pending and snoozed conversation)."""
        agent = self.agents.get(agent_id)
        teams = agent.teams if agent is not None else ["default"]
        return {
            "mine": sum(self.counts.inbox(agent_id, s.value) for s in WORKING),
            "unassigned": sum(self.counts.queue(team) for team in dict.fromkeys(teams)),
            "all": sum(self.counts.by_status(s.value) for s in WORKING),
        }

    def colleagues(self) -> list[Agent]:
        """Every agent with presence, capacity and load, online first, then by name: whom to transfer to."""
        order = {"online": 0, "away": 1, "offline": 2}
        return sorted(self.agents.all(), key=lambda a: (order.get(a.presence.value, 3), (a.name or a.id).lower()))
