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

    def queue(self, team: str) -> int:
        """Conversations waiting in a team's queue."""
        return self.table.count(index="Queue", key_condition="QueuePK = :pk", values={":pk": it.queue_pk(team)})

    def by_status(self, status: str) -> int:
        """Every conversation of one status."""
        return self.table.count(index="ByStatus", key_condition="StatusPK = :pk",
                                values={":pk": it.status_pk(status)})
