"""Change notices and the catch-up after a dropped socket (``GET /agent/changes?since=``).

A notice says *that* a conversation (or one of its messages) changed, not *what*: the inbox
refetches what it shows through the agent API, which applies the access rules. So a notice carries
no customer data, a missed or repeated one costs one refetch, and frames stay small. One exception,
for the commonest notice: a provider's receipt (delivered, read) carries the message's new status,
no customer data, to the agents who hold the conversation, and the app shows it without a refetch.

Cursors are opaque to clients. Inside, a cursor is a position in the change log (its sort key, time
first) and a mode. The change log is written by several stream consumers at once, so an entry can
become visible a moment after a later one: a *settling* cursor (the one at the end of a page, and the
one in every frame) re-reads ``SETTLE`` before its position; an *exact* cursor (the one of a page that
has more) continues right after it, so paging always moves forward. Repeated notices are harmless.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, Field

from shopdesk import clock
from shopdesk.dal.agents import Agents
from shopdesk.dal.live import CHANGE_RETENTION, ChangeLog, LogEntry, Visibility
from shopdesk.errors import BadRequest
from shopdesk.logic.access import ADMIN, record_of

SETTLE = timedelta(seconds=2)
FUTURE_SKEW = timedelta(minutes=5)
_VERSION = "c1"


# ------------------------------------------------------------------------------ who may see what

@dataclass(frozen=True)
class Viewer:
    agent_id: str
    teams: frozenset[str]
    roles: frozenset[str]


def may_see(viewer: Viewer, conversation: Visibility) -> bool:
    """The rule for live notices and catch-up, the one of ``shopdesk.logic.access`` read from what a
    change carries: the conversation is in one of the viewer's teams, assigned or granted to them, or
    the viewer is an admin. (What a supervisor's agents hold in other teams is not announced: the
    notice would need a read of the holder's teams per change; the supervisor sees it on the next
    refetch of the list.) A personal notice (no team: a mention, a message update) is its agents' alone
    (the assignee, the agents granted), admins' neither. A conversation not routed yet is no team's (its
    team is a placeholder until the router sets it): the routing is the notice its team hears."""
    if not conversation.team:
        return viewer.agent_id == conversation.assignee or viewer.agent_id in conversation.granted
    return (ADMIN in viewer.roles or (conversation.team in viewer.teams and not conversation.unrouted)
            or conversation.assignee == viewer.agent_id or viewer.agent_id in conversation.granted)


def may_see_any(viewer: Viewer, visible: Iterable[Visibility]) -> bool:
    """A change concerns whoever could see the conversation before it or after it."""
    return any(may_see(viewer, v) for v in visible)


# ------------------------------------------------------------------------------ notices

class Notice(BaseModel):
    """The frame sent over the WebSocket and listed by ``GET /agent/changes`` (the web app's contract)."""

    type: Literal["change"] = "change"
    cursor: str
    conversation_id: str
    kind: Literal["conversation", "message", "message_update", "mention"]
    message_id: str | None
    at: str
    status: str | None = Field(default=None, description=(
        "message_update only, when a provider's receipt is all that changed: the message's new status "
        "(delivered, read), which the app shows without a refetch"))

    @classmethod
    def of(cls, entry: LogEntry) -> Notice:
        return cls(cursor=encode_cursor(entry.key, exact=False), conversation_id=entry.conversation_id,
                   kind=entry.kind, message_id=entry.message_id, at=entry.at,  # type: ignore[arg-type]
                   status=entry.status)


# ------------------------------------------------------------------------------ cursors

def encode_cursor(position: str, *, exact: bool) -> str:
    raw = f"{_VERSION}|{'e' if exact else 's'}|{position}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, bool]:
    """(position, exact); BadRequest when the cursor is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        version, mode, position = raw.split("|", 2)
        clock.parse_iso(position.split("#", 1)[0])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadRequest("since is not a cursor of this API: reload everything and start again") from None
    if version != _VERSION or mode not in ("e", "s"):
        raise BadRequest("since is not a cursor of this API: reload everything and start again")
    return position, mode == "e"


@dataclass(frozen=True)
class ChangePage:
    items: list[Notice]
    cursor: str
    more: bool


class ChangeFeed:
    """The change log as the caller may see it."""

    def __init__(self, log: ChangeLog, agents: Agents):
        self.log = log
        self.agents = agents

    def viewer(self, agent_id: str, roles: Iterable[str]) -> Viewer:
        agent = record_of(self.agents, agent_id)          # as the request admitted it: no second read
        teams = agent.teams if agent else []
        return Viewer(agent_id=agent_id, teams=frozenset(teams), roles=frozenset(roles))

    def page(self, agent_id: str, roles: Iterable[str], since: str | None, limit: int) -> ChangePage:
        now = clock.now()
        if since is None:       # where the caller starts: nothing to catch up on yet
            return ChangePage([], encode_cursor(clock.iso(now), exact=False), False)
        position, exact = decode_cursor(since)
        at = clock.parse_iso(position.split("#", 1)[0])
        if at < now - CHANGE_RETENTION:
            raise BadRequest("since is older than the 24 hours changes are kept: reload everything")
        if at > now + FUTURE_SKEW:
            raise BadRequest("since is not a cursor of this API: reload everything and start again")
        start = position if exact else clock.iso(at - SETTLE)
        viewer = self.viewer(agent_id, roles)
        log_page = self.log.after(start, limit)
        items = [Notice.of(e) for e in log_page.entries if may_see_any(viewer, e.visible)]
        if log_page.more and log_page.last_key:
            return ChangePage(items, encode_cursor(log_page.last_key, exact=True), True)
        end = max(clock.iso(now), log_page.last_key or "", position if not exact else "")
        return ChangePage(items, encode_cursor(end, exact=False), False)
