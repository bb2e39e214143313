"""SLA warnings and breaches as dated records: what the supervisor board lists for the last 24 hours.

Item layout (docs/data-model.md, #126-#127): ``SLAEVENT#<YYYY-MM-DD> / <at>#<conversation>#<target>#<kind>``
with kind (``warning``, ``breach``), conversation_id, target, due_at, at (when the sweep flagged it), the
conversation's team, assignee, priority (after any escalation) and channel as they were then (no personal data:
the customer's name is read from the conversation when the board asks, so erasing a customer leaves nothing
here), and ``ttl`` (two days after ``at``: the board reads one day; DynamoDB deletes expired items late, so the
reader bounds by key, never by ``ttl``). The sweep writes each one in the transaction that flags the
deadline, so a warning or breach is recorded exactly once, whatever retries.

One partition per UTC day: the last 24 hours are at most two Queries (today's and yesterday's partition,
each from the start of the window), newest first. A day's partition takes the sweep's writes, one per event
(a few thousand events a minute stay far below a partition's 1,000 writes a second).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shopdesk import clock
from shopdesk.dal.table import Table

RETENTION = timedelta(days=2)


def day_pk(day: str) -> str:
    return f"SLAEVENT#{day}"


@dataclass(frozen=True)
class SlaEvent:
    kind: str                     # warning, breach, risk (logic.breach_risk: likely to breach)
    conversation_id: str
    target: str
    due_at: str
    at: str
    team: str | None = None
    assignee: str | None = None
    priority: str | None = None
    channel: str | None = None
    customer_name: str | None = None       # not stored: the conversation's, when read (SlaEvents.now_of)


def event_item(event: SlaEvent) -> dict[str, Any]:
    """The record of one warning or breach (the sweep puts it in its flag transaction)."""
    return {"PK": day_pk(event.at[:10]), "SK": f"{event.at}#{event.conversation_id}#{event.target}#{event.kind}",
            "type": "sla_event", "kind": event.kind, "conversation_id": event.conversation_id,
            "target": event.target, "due_at": event.due_at, "at": event.at, "team": event.team,
            "assignee": event.assignee, "priority": event.priority, "channel": event.channel,
            "ttl": int((clock.parse_iso(event.at) + RETENTION).timestamp())}


def _event_from_item(item: dict[str, Any]) -> SlaEvent:
    return SlaEvent(kind=item["kind"], conversation_id=item["conversation_id"], target=item["target"],
                    due_at=item["due_at"], at=item["at"], team=item.get("team"), assignee=item.get("assignee"),
                    priority=item.get("priority"), channel=item.get("channel"))


class SlaEvents:
    def __init__(self, table: Table):
        self.table = table

    def recent(self, now: datetime, window: timedelta, limit: int) -> tuple[list[SlaEvent], bool]:
        """The events of the ``window`` before ``now``, newest first, at most ``limit``: one Query per day
        partition the window touches (two for 24 hours), each stopping at ``limit`` (#127). ``more`` says
        there were more than ``limit``."""
        since = clock.iso(now - window)
        days = []
        day = (now - window).date()
        while day <= now.date():
            days.append(day.isoformat())
            day += timedelta(days=1)
        found: list[SlaEvent] = []
        more = False
        for day_key in reversed(days):                  # newest partition first
            wanted = limit + 1 - len(found)
            if wanted <= 0:
                more = True
                break
            page = self.table.query(index=None, key_condition="PK = :pk AND SK >= :since", names={},
                                    values={":pk": day_pk(day_key), ":since": since}, limit=wanted, forward=False)
            found.extend(_event_from_item(i) for i in page.items)
        if len(found) > limit:
            found, more = found[:limit], True
        return found, more

    def now_of(self, conversation_ids: list[str]) -> dict[str, ConversationNow]:
        """Each conversation that still exists as it is now: its team, and its customer as the inbox names them (their
        name, else their first identity: a customer who only texted has their phone number, never nothing): one
        BatchGetItem per 100 (#127)."""
        found = self.table.batch_get([(f"CONV#{c}", "META") for c in dict.fromkeys(conversation_ids)])
        return {i["id"]: ConversationNow(i.get("team"), _named(i.get("customer") or {}),
                                         (i.get("customer") or {}).get("id"))
                for i in found if i.get("type") == "conversation"}


@dataclass(frozen=True)
class ConversationNow:
    team: str | None
    customer_name: str | None
    customer_id: str | None = None      # whom the board names (the audit record of the read names their ids)


def _named(customer: dict[str, Any]) -> str | None:
    """A customer's name, else the address of their first identity (what the inbox shows for them)."""
    identities = customer.get("identities") or []
    first = identities[0].get("address") if identities and isinstance(identities[0], dict) else None
    return customer.get("name") or first or None
