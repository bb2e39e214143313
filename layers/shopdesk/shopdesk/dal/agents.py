"""Agents: presence, capacity and the count of conversations they hold."""

from __future__ import annotations

from shopdesk.dal import items as it
from shopdesk.dal.table import ConditionFailed, Table, Update
from shopdesk.errors import NotFound
from shopdesk.models import Agent, Presence


class Agents:
    def __init__(self, table: Table):
        self.table = table

    def get(self, agent_id: str) -> Agent | None:
        item = self.table.get(it.agent_pk(agent_id), it.META)
        return it.agent_from_item(item) if item else None

    def create(self, agent: Agent) -> bool:
        """Create an agent record; False when it already exists."""
        try:
            self.table.put(it.agent_item(agent), condition="attribute_not_exists(PK)")
            return True
        except ConditionFailed:
            return False

    def set_presence(self, agent: Agent, presence: Presence) -> Agent:
        item = self.table.update(
            it.agent_pk(agent.id), it.META,
            Update().set("presence", presence.value).set("PoolSK", f"{presence.value}#{agent.id}")
            .when("attribute_exists(PK)"),
            return_new=True)
        if item is None:
            raise NotFound(f"agent {agent.id} does not exist")
        return it.agent_from_item(item)

    def all(self) -> list[Agent]:
        """Every agent (admin listing): one Query per presence-prefixed Pool partition is not enough
        across teams, so agents are read from their own index of the table's agent items."""
        rows = self.table.query_all(index="ByStatus", key_condition="StatusPK = :pk", names={},
                                    values={":pk": "AGENTS"})
        return [it.agent_from_item(r) for r in rows]

    def online(self, team: str) -> list[Agent]:
        """Every online agent of a team (one Query of the Pool index)."""
        rows = self.table.query_all(index="Pool", key_condition="PoolPK = :pk AND begins_with(PoolSK, :online)",
                                    names={}, values={":pk": it.pool_pk(team), ":online": "online#"})
        return [it.agent_from_item(r) for r in rows]
