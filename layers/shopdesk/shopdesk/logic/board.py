"""The supervisor board's SLA trouble: the warnings and breaches the sweep recorded in a recent window."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import timedelta

from shopdesk import clock
from shopdesk.dal.sla_events import SlaEvent, SlaEvents
from shopdesk.logic.admin import READ, require


@dataclass
class Board:
    events: SlaEvents

    def sla_events(self, by: Iterable[str], hours: int, limit: int, team: str | None = None
                   ) -> tuple[list[SlaEvent], bool]:
        """Warnings and breaches of the last ``hours``, newest first (supervisors and admins): the records the
        sweep wrote as it flagged them (dal/sla_events.py), optionally of one team, each with its customer's name
        as the conversation has it now (none once the conversation is erased)."""
        require(by, *READ)
        found, more = self.events.recent(clock.now(), timedelta(hours=hours), limit)
        if team is not None:
            found = [e for e in found if e.team == team]
        names = self.events.customer_names([e.conversation_id for e in found]) if found else {}
        return [replace(e, customer_name=names.get(e.conversation_id)) for e in found], more
