"""How many conversations each inbox view holds: COUNT queries of the indexes the views list from."""

from __future__ import annotations

from shopdesk.dal import items as it
from shopdesk.dal.table import Table


class Counts:
    def __init__(self, table: Table):
        self.table = table

    def inbox(self, agent_id: str, status: str) -> int:
        """An agent's conversations of one status (the Inbox index, ``<status>#...`` sort keys)."""
        return self.table.count(index="Inbox", key_condition="InboxPK = :pk AND begins_with(InboxSK, :status)",
                                values={":pk": it.inbox_pk(agent_id), ":status": f"{status}#"})

    def inbox_outside(self, agent_id: str, status: str, teams: list[str]) -> int:
        """An agent's conversations of one status whose team is none of ``teams`` (what they hold elsewhere), or
        that the router has not routed yet (no team's: ``team``)."""
        if not teams:
            return self.inbox(agent_id, status)
        values: dict[str, object] = {":pk": it.inbox_pk(agent_id), ":status": f"{status}#"}
        values.update({f":t{n}": team for n, team in enumerate(teams)})
        return self.table.count(index="Inbox", key_condition="InboxPK = :pk AND begins_with(InboxSK, :status)",
                                filter=f"NOT #team IN ({', '.join(f':t{n}' for n in range(len(teams)))}) "
                                       "OR attribute_exists(unrouted)",
                                names={"#team": "team"}, values=values)

    def team(self, team: str, status: str) -> int:
        """A team's conversations of one status (the Access index, ``<status>#...`` sort keys)."""
        return self.table.count(index="Access", key_condition="AccessPK = :pk AND begins_with(InboxSK, :status)",
                                values={":pk": it.access_team(team), ":status": f"{status}#"})

    def queue(self, team: str) -> int:
        """Conversations waiting in a team's queue."""
        return self.table.count(index="Queue", key_condition="QueuePK = :pk", values={":pk": it.queue_pk(team)})

    def by_status(self, status: str) -> int:
        """Every conversation of one status."""
        return self.table.count(index="ByStatus", key_condition="StatusPK = :pk",
                                values={":pk": it.status_pk(status)})
