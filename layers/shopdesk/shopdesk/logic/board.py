"""The supervisor board's SLA trouble: the warnings and breaches the sweep recorded in a recent window.

Whose: an admin's board is the whole desk's, a supervisor's that of their teams' conversations (``Access.figures_of``,
as the reports): an event counts under its conversation's team now (the record's team, as the sweep flagged it, once
the conversation is gone), the rule the reports follow (docs/metrics.md, "Whose figures").
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from shopdesk import clock
from shopdesk.dal.sla_events import SlaEvent, SlaEvents
from shopdesk.logic.access import Access, Caller
from shopdesk.privacy import audit

MOST = 1000          # what one board read looks at when it keeps only some teams' events (the route's largest limit)


@dataclass
class Board:
    events: SlaEvents
    access: Access

    def sla_events(self, caller: Caller, hours: int, limit: int, team: str | None = None
                   ) -> tuple[list[SlaEvent], bool]:
        """Warnings and breaches of the last ``hours``, newest first, of the conversations the caller reads the
        figures of (403 for anyone but supervisors and admins, and for a supervisor naming another team): the
        records the sweep wrote as it flagged them (dal/sla_events.py), each with its customer's name as the
        conversation has it now (none once the conversation is erased). Keeping some teams' events, the board
        looks at the window's newest ``MOST`` and keeps ``limit`` of those. The board names customers: one audit
        record of the read names their ids (``audit.listed``; the board reloading the same, once a window)."""
        teams = self.access.figures_of(caller, team)
        found, more = self.events.recent(clock.now(), timedelta(hours=hours), limit if teams is None else MOST)
        now = self.events.now_of([e.conversation_id for e in found]) if found else {}
        if teams is not None:
            kept = [e for e in found if (now[e.conversation_id].team if e.conversation_id in now else e.team)
                    in teams]
            found, more = kept[:limit], more or len(kept) > limit
        shown = [now[e.conversation_id].customer_id for e in found if e.conversation_id in now]
        audit.listed([c for c in shown if c], repeat=True, hours=hours, events=len(found),
                     **({"team": team} if team else {}))
        return [replace(e, customer_name=now[e.conversation_id].customer_name if e.conversation_id in now else None)
                for e in found], more
