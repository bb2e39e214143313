"""Paging the "all" view: one ByStatus query per status, merged newest first, resumed per status.

The repository is replaced by a fake that pages like DynamoDB's ByStatus index: items in descending
StatusSK order, resumed strictly after the StatusSK named by the cursor. ``StatusSK`` is the
conversation's last activity as the index knows it; every writer keeps it equal to ``updated_at``
(tests/integration/test_agent_api.py checks a breach keeps it so).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from shopdesk import clock
from shopdesk.dal import items as it
from shopdesk.dal.table import decode_cursor, encode_cursor
from shopdesk.errors import BadRequest
from shopdesk.logic.access import ADMIN, Caller
from shopdesk.logic.inbox import Inbox
from shopdesk.models import Conversation, ConversationStatus, CustomerRef, ReplyRoute

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
ADMIN_ALICE = Caller(id="alice", roles=frozenset({ADMIN}))      # an admin's "all" is every conversation


def _conv(conv_id: str, status: ConversationStatus, updated: datetime) -> Conversation:
    return Conversation(id=conv_id, status=status, customer=CustomerRef(id=f"u_{conv_id}"), channel="sms",
                        route=ReplyRoute(channel="sms", to="+31600000000", sender="+14155550100"),
                        created_at=T0, updated_at=updated)


@dataclass
class FakeByStatus:
    """list_by_status as the ByStatus index answers it (descending StatusSK, Limit, LastEvaluatedKey)."""

    rows: list[tuple[str, Conversation]] = field(default_factory=list)     # (StatusSK, conversation)

    def add(self, conv: Conversation, status_sk: datetime | None = None) -> None:
        self.rows.append((clock.iso(status_sk or conv.updated_at), conv))

    def list_by_status(self, status: str, limit: int, cursor: str | None) -> tuple[list[Conversation], str | None]:
        ordered = sorted(((sk, c) for sk, c in self.rows if c.status.value == status),
                         key=lambda row: (row[0], row[1].id), reverse=True)
        start = decode_cursor(cursor)
        if start:
            after = (start["StatusSK"]["S"], start["PK"]["S"].removeprefix("CONV#"))
            ordered = [row for row in ordered if (row[0], row[1].id) < after]
        page = ordered[:limit]
        if len(page) < limit:
            return [c for _, c in page], None
        sk, last = page[-1]
        return [c for _, c in page], encode_cursor({"PK": {"S": it.conv_pk(last.id)}, "SK": {"S": it.META},
                                                    "StatusPK": {"S": it.status_pk(status)}, "StatusSK": {"S": sk}})


def _inbox(fake: FakeByStatus) -> Inbox:
    return Inbox(conversations=fake, agents=None, work=None, outbound=None,  # type: ignore[arg-type]
                 first_response_targets={}, default_capacity=3)


def _page_through(inbox: Inbox, limit: int) -> list[str]:
    seen: list[str] = []
    cursor = None
    for _ in range(20):
        items, cursor = inbox.list(ADMIN_ALICE, "all", None, limit, cursor)
        seen += [c.id for c in items]
        if cursor is None:
            return seen
    raise AssertionError(f"paging did not end: {seen}")


@pytest.mark.parametrize("limit", [1, 2, 3, 10])
def test_all_view_pages_through_every_status_once_newest_first(limit):
    # Given conversations of several statuses whose index position is their last activity
    fake = FakeByStatus()
    statuses = {"c_a": ConversationStatus.OPEN, "c_b": ConversationStatus.PENDING, "c_c": ConversationStatus.OPEN,
                "c_d": ConversationStatus.RESOLVED, "c_e": ConversationStatus.SNOOZED, "c_f": ConversationStatus.OPEN}
    for minutes, (conv_id, status) in enumerate(statuses.items()):
        fake.add(_conv(conv_id, status, T0 + timedelta(minutes=minutes)))
    # When an agent pages through "all"
    seen = _page_through(_inbox(fake), limit)
    # Then every conversation comes exactly once: those still being worked most recent activity first, then the
    # resolved one (history, even when its activity is newer)
    assert seen == ["c_f", "c_e", "c_c", "c_b", "c_a", "c_d"]


def test_all_view_with_a_cursor_that_names_an_unknown_status_is_a_bad_request():
    with pytest.raises(BadRequest):
        _inbox(FakeByStatus()).list(ADMIN_ALICE, "all", None, 10, encode_cursor({"deleted": None}))


# ------------------------------------------------------------------------------ an agent's "all" view

@dataclass
class FakeVisibleIndexes:
    """list_team and list_inbox as the Access and Inbox indexes answer them: <status>#<updated_at> descending
    within a partition, resumed strictly after the key named by the cursor."""

    rows: list[Conversation] = field(default_factory=list)

    def _page(self, rows: list[Conversation], status: str, limit: int, cursor: str | None, partition: dict[str, object]
              ) -> tuple[list[Conversation], str | None]:
        def sort_key(c: Conversation) -> tuple[str, str]:
            return f"{c.status.value}#{clock.iso(c.updated_at)}", c.id
        ordered = sorted((c for c in rows if c.status.value == status), key=sort_key, reverse=True)
        start = decode_cursor(cursor)
        if start:
            after = (start["InboxSK"]["S"], start["PK"]["S"].removeprefix("CONV#"))
            ordered = [c for c in ordered if sort_key(c) < after]
        page = ordered[:limit]
        if len(page) < limit:
            return page, None
        sk, last = sort_key(page[-1])
        return page, encode_cursor({"PK": {"S": it.conv_pk(last)}, "SK": {"S": it.META}, "InboxSK": {"S": sk},
                                    **partition})

    def list_team(self, team: str, status: str, limit: int, cursor: str | None):
        return self._page([c for c in self.rows if c.team == team], status, limit, cursor,
                          {"AccessPK": {"S": it.access_team(team)}})

    def list_inbox(self, agent_id: str, status: str | None, limit: int, cursor: str | None):
        assert status is not None
        return self._page([c for c in self.rows if c.assignee == agent_id], status, limit, cursor,
                          {"InboxPK": {"S": it.inbox_pk(agent_id)}})


@dataclass
class FakeAgents:
    teams: dict[str, list[str]]

    def get(self, agent_id: str):
        from shopdesk.models import Agent
        return Agent(id=agent_id, teams=self.teams[agent_id]) if agent_id in self.teams else None


@pytest.mark.parametrize("limit", [1, 2, 3, 10])
def test_an_agents_all_view_pages_through_their_teams_and_what_they_hold_once_each(limit):
    # Given alice in teams default and returns, holding conversations of those teams and one of vip
    fake = FakeVisibleIndexes()
    S = ConversationStatus
    layout = [("c_a", "default", None, S.OPEN), ("c_b", "default", "alice", S.OPEN),
              ("c_c", "vip", "alice", S.PENDING), ("c_d", "vip", None, S.OPEN),
              ("c_e", "returns", "bob", S.RESOLVED), ("c_f", "billing", "bob", S.OPEN),
              ("c_g", "returns", "alice", S.OPEN), ("c_h", "default", None, S.SNOOZED)]
    for minutes, (conv_id, team, assignee, status) in enumerate(layout):
        conv = _conv(conv_id, status, T0 + timedelta(minutes=minutes))
        fake.rows.append(conv.model_copy(update={"team": team, "assignee": assignee}))
    inbox = Inbox(conversations=fake, agents=FakeAgents({"alice": ["default", "returns"]}),  # type: ignore[arg-type]
                  work=None, outbound=None, first_response_targets={}, default_capacity=3)  # type: ignore[arg-type]
    # When she pages through "all"
    seen: list[str] = []
    cursor = None
    for _ in range(30):
        items, cursor = inbox.list(Caller(id="alice"), "all", None, limit, cursor)
        seen += [c.id for c in items]
        if cursor is None:
            break
    # Then each conversation she may see comes once, the worked ones newest activity first, then the resolved
    # one; vip's waiting one and billing's never
    assert seen == ["c_h", "c_g", "c_c", "c_b", "c_a", "c_e"]


@pytest.mark.parametrize("limit", [1, 2, 3, 50])
def test_mine_without_a_status_lists_what_is_being_worked_before_a_day_of_resolved_ones(limit):
    # Given alice holding two open conversations and a snoozed one from the morning, and then resolving sixty
    # newer ones (the Inbox index alone, sorted by "<status>#<activity>", puts every resolved one first)
    fake = FakeVisibleIndexes()
    S = ConversationStatus
    held = [("c_open1", S.OPEN, 0), ("c_snoozed", S.SNOOZED, 1), ("c_open2", S.OPEN, 2), ("c_pending", S.PENDING, 3)]
    held += [(f"c_done{n:02}", S.RESOLVED, 10 + n) for n in range(60)]
    for conv_id, status, minutes in held:
        conv = _conv(conv_id, status, T0 + timedelta(minutes=minutes))
        fake.rows.append(conv.model_copy(update={"assignee": "alice"}))
    inbox = Inbox(conversations=fake, agents=FakeAgents({"alice": ["default"]}),  # type: ignore[arg-type]
                  work=None, outbound=None, first_response_targets={}, default_capacity=3)  # type: ignore[arg-type]
    # When she pages through her inbox without naming a status
    first, cursor = inbox.list(Caller(id="alice"), "mine", None, limit, None)
    seen = [c.id for c in first]
    for _ in range(100):
        if cursor is None:
            break
        items, cursor = inbox.list(Caller(id="alice"), "mine", None, limit, cursor)
        seen += [c.id for c in items]
    # Then the worked ones come first, newest activity first, then every resolved one once, newest first
    expected = ["c_pending", "c_open2", "c_snoozed", "c_open1"] + [f"c_done{n:02}" for n in reversed(range(60))]
    assert [c.id for c in first] == expected[:limit]
    assert seen == expected
