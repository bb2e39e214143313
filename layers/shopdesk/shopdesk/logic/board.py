"""The supervisor board's SLA trouble: the warnings and breaches the sweep recorded in a recent window."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
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
        sweep wrote as it flagged them (dal/sla_events.py), optionally of one team."""
        require(by, *READ)
        found, more = self.events.recent(clock.now(), timedelta(hours=hours), limit)
        if team is not None:
            found = [e for e in found if e.team == team]
        return found, more
