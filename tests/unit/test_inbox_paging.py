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
    # Then every conversation comes exactly once, most recent activity first
    assert seen == ["c_f", "c_e", "c_d", "c_c", "c_b", "c_a"]


def test_all_view_with_a_cursor_that_names_an_unknown_status_is_a_bad_request():
    with pytest.raises(BadRequest):
        _inbox(FakeByStatus()).list(ADMIN_ALICE, "all", None, 10, encode_cursor({"deleted": None}))
