"""Live fan-out: table changes become notices, logged once and posted to the sockets concerned.

The stream consumer calls ``LiveBatch.handle`` per record. A change worth a notice is:
- a conversation created, or changed in what an agent sees (status, assignee, priority, team,
  skills, labels, SLA warnings and breaches);
- a message created (kind ``message``: the lists' previews and order change, so every inbox that may see
  the conversation hears of it);
- a message's delivery status, error or attachments changed (kind ``message_update``): only the open
  conversation shows those, so only the agents who hold it (its assignee and the agents it was granted to)
  hear of it, and a conversation nobody holds gives no notice; others see it at their next refetch. A
  provider's receipt (delivered, read) carries the new status, which the app shows without a refetch;
- an agent mentioned in a note, or their mentions read: a personal notice (kind ``mention``) for that agent's
  connections only (``dal.live.personal``);
- a conversation removed (its customer erased, or its retention ran out): a ``conversation`` notice to everyone
  who could see it (the old image says who), so no inbox keeps showing it; the app's read of it answers 404.
A new conversation is no team's until the router routes it (``unrouted``: ingest reads no configuration, so its team
is a placeholder): its notices, and its messages', reach admins alone, and the routing (``unrouted`` gone, its team
set) is the notice its team hears, so no other team hears of a conversation routed elsewhere.
Changes of one conversation (or of one message) in the same batch are one notice (``coalesce``): the router
writes a conversation several times as it routes it, and the app refetches whatever a notice names, so one
notice says what several would; it reaches everyone who could see the conversation at any point between. A
timeline entry (a system message: assigned, resolved, snoozed...) written with a change of its conversation in the
batch gives no notice of its own (timeline entries): the conversation's notice makes the app refetch the list,
the counts and the open conversation, all the entry's would, and reaches everyone the entry's would (the
conversation as the batch left it, and whoever saw it before). Every other message keeps its notice, with its id.
The notices go to the change log first, all of the batch's in one put (``LiveBatch._log_from``: a write unit per KB,
not one per notice; a record Lambda delivers again after a failure is logged again under its new moment: a
repeated notice, which costs the app one refetch), then each to every open
connection that may see the conversation before or after the change: one Query per audience
(``team:<team>``, ``agent:<id>``, ``all`` for admins), cached for the batch. A connection API Gateway
reports gone is deleted, unless it is young enough to be still opening (``opening``).

A connection is listed under the audiences of the agent's teams and roles as they were when it connected. An agent
an admin takes off the desk is refused at ``$connect`` (``LiveConnections.connect``), and their open sockets are
closed at once (``LiveConnections.close``: API Gateway's DeleteConnection, then the connection's items, so the
fan-out never finds them again); an admin's change of an agent's teams closes their open sockets the same way, and
the inbox connects again (its catch-up closes the gap) under the teams the agent has now. Roles come from the
token (Cognito groups), as for every request: a change there counts from the agent's next token. shopdesk does not
see a group change, so a socket's roles hold only as long as the token it connected with: a connection whose token
has expired is sent nothing more, the first notice for it closes it instead (``LiveBatch._post``), and the inbox
connects again with a fresh token, its roles as they are now. A socket that hears nothing is closed all the same: its
expiry timer in the Due index comes due then, and the per-minute sweep closes it (``LiveConnections.expire``). A
socket whose authorizer passed no expiry (one of the release before, during a deploy) is bounded by a token's
lifetime from its connect (``dal.live.TOKEN_LIFETIME``), the same way.

Web-chat visitors have sockets too, on the widget's own WebSocket API (``VisitorSockets``): a change a visitor
would see (``dal.live.visitor_change``: a web-chat message listed or changed as listed, a reply let go, the
conversation closed or reopened; not a reply still queued or what the router understood of a message)
posts ``{"type": "changed"}`` to the sockets of ``widget:<conversation id>``, once per conversation per batch,
and the widget reads its conversation through its API as it would on a poll. The frame carries nothing else:
no customer data leaves through it, and it is not logged. A failed post is logged and not retried (the widget
still polls, slowly, while its socket is open).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from aws_lambda_powertools import Logger

from shopdesk import clock
from shopdesk.dal.agents import Agents
from shopdesk.dal.live import (
    ChangeLog,
    Connection,
    ConnectionPoster,
    Connections,
    LogEntry,
    TableChange,
    Visibility,
    closes_at,
    table_change,
    visitor_change,
    widget_audience,
)
from shopdesk.errors import Conflict, Deactivated
from shopdesk.logic.access import ADMIN, within
from shopdesk.logic.changes import Notice, Viewer, may_see_any

logger = Logger(child=True)

ALL = "all"
CHANGED = b'{"type":"changed"}'        # what a visitor's socket hears: look again
POSTS_IN_FLIGHT = 8           # a team's sockets are sent to side by side, not one after the other
OPENING = timedelta(seconds=30)   # API Gateway's $connect may take up to 29 s, and answers 410 until it returns
CONNECT_READS = 3             # $connect reads the agent's record again after keeping a connection, this often at most
_posting = ThreadPoolExecutor(max_workers=POSTS_IN_FLIGHT, thread_name_prefix="post")


class PostFailed(Exception):
    """Some connections could not be sent the notice (not because they are gone): retry the record."""


def is_notice(change: TableChange) -> bool:
    if change.event == "INSERT":
        return True
    if change.event == "REMOVE":
        # a conversation gone (its customer erased, or its retention ran out): the inboxes showing it drop it;
        # its messages go with it, and that one notice says so
        return change.kind == "conversation" and change.visible_before is not None
    if change.event != "MODIFY" or change.before is None or change.after is None:
        return False
    return change.before != change.after


def coalesce(first: TableChange, later: TableChange) -> TableChange:
    """Two changes of one conversation (or of one message) in the same batch as one notice: the app refetches
    what a notice names, so one says all both would. It stays at the first record (a failure retries from there,
    the later one with it), goes from the first's state to the later's, and reaches everyone who could see the
    conversation at any point between (an agent it was taken from in the middle hears of it too)."""
    between = [*first.visible_between, *(v for v in (first.visible_after, later.visible_before) if v is not None),
               *later.visible_between]
    return replace(first, after=later.after, visible_after=later.visible_after,
                   visible_between=tuple(dict.fromkeys(between)))


def audiences(visible: Iterable[Visibility]) -> set[str]:
    """The partitions of connections that may see a conversation: its team (none before it is routed), its
    assignee, the agents it was granted to, admins; a personal notice (no team) only its agent's."""
    keys = set()
    for v in visible:
        if not v.team:            # a personal notice (a mention, a message update): its agents' connections only
            keys.update(f"agent:{agent}" for agent in ({v.assignee} | v.granted) - {None})
            continue
        keys.add(ALL)
        if not v.unrouted:
            keys.add(f"team:{v.team}")
        keys.update(f"agent:{agent}" for agent in ({v.assignee} | v.granted) - {None})
    return keys


RECEIPTS = ("delivered", "read")     # what a provider reports of a message it accepted
SENT = ("sent", "delivered")


def receipt(change: TableChange) -> str | None:
    """A message's new status when a provider's receipt of a sent message is all that changed (sent to
    delivered, delivered to read): the notice carries it and the app shows it without a refetch. Anything else
    (the send itself, which also records the provider's id and attempts; an error; attachments) has none, and
    the app refetches the conversation."""
    before, after = change.before or {}, change.after or {}
    changed = {name for name in after if after.get(name) != before.get(name)}
    if changed == {"status"} and after.get("status") in RECEIPTS and before.get("status") in SENT:
        return str(after["status"])
    return None


def holders(v: Visibility) -> Visibility:
    """Who holds a conversation (its assignee, the agents it was granted to) as a notice for them alone."""
    return Visibility(team="", assignee=v.assignee, granted=v.granted)


def connection_audiences(agent_id: str, teams: Iterable[str], roles: Iterable[str]) -> tuple[str, ...]:
    """Where a connection is listed: admins hear everything (and what is for them alone), others their teams
    and themselves."""
    if ADMIN in set(roles):
        return (ALL, f"agent:{agent_id}")
    return (f"agent:{agent_id}", *(f"team:{t}" for t in dict.fromkeys(teams)))


def opening(connection: Connection) -> bool:
    """A connection younger than ``OPENING`` that API Gateway calls gone may be one whose $connect has not
    returned yet (its item is written inside $connect): it is kept, or its socket would open deaf to every
    notice until it reconnects. The notice it missed is in the change log, which the app reads as its socket
    opens; a connection really gone is removed by its $disconnect, or by the first post once it is older."""
    try:
        return clock.now() - clock.parse_iso(connection.connected_at) < OPENING
    except ValueError:
        return False


def viewer_of(connection: Connection) -> Viewer:
    return Viewer(agent_id=connection.agent_id, teams=frozenset(connection.teams), roles=frozenset(connection.roles))


# ------------------------------------------------------------------------------ connect / disconnect

class LiveConnections:
    def __init__(self, connections: Connections, agents: Agents, gateway: ConnectionPoster | None = None):
        self.connections = connections
        self.agents = agents
        self.gateway = gateway            # the @connections API, to close sockets (``close``)

    def connect(self, connection_id: str, agent_id: str, roles: Iterable[str],
                token_expires: int | None = None) -> Connection:
        """Keep the connection with the agent's teams and roles now, and when the token it connected with
        expires (``token_expires``, its ``exp``: the roles hold until then, ``LiveBatch._post``), with the timer that
        closes it then (``expire``; without an ``exp``, a token's lifetime from now). A change of teams
        closes the agent's open sockets (``close``, from ``Admin.set_agent``): the inbox connects again, under the new
        teams. Its roles are the token's, never above the highest role the agent's record lets them use
        (``access.within``); changing it closes their sockets too (``Admin.set_max_role``). An agent an admin took off
        the desk is refused (Deactivated). Either may happen while the connection
        is being kept, and then found no items to close: their record is read again once its items are written, and
        a deactivation removes them (refused), a change of teams lists them again under the teams read (a change
        after that read finds the items and closes the socket)."""
        agent = self.agents.get(agent_id)
        connected_at = clock.now_iso()
        closes = closes_at(token_expires)
        connection: Connection | None = None
        for _ in range(CONNECT_READS):
            if agent is not None and agent.deactivated_at:
                if connection is not None:
                    self.connections.remove(connection)
                raise Deactivated(agent_id)
            teams = tuple(agent.teams) if agent else ("default",)
            role_list = tuple(sorted(within(roles, agent.max_role if agent else None)))   # no more than the record's
            if connection is not None and (connection.teams, tuple(connection.roles)) == (teams, role_list):
                return connection
            kept = Connection(connection_id=connection_id, agent_id=agent_id, teams=teams, roles=role_list,
                              audiences=connection_audiences(agent_id, teams, role_list), connected_at=connected_at,
                              token_expires=token_expires, closes_at=closes)
            if connection is not None:
                self.connections.remove(connection)
            self.connections.add(kept)
            connection = kept
            agent = self.agents.get(agent_id)
        if connection is not None:
            self.connections.remove(connection)
        raise Conflict(f"the teams of {agent_id} kept changing while their socket opened: connect again")

    def close(self, agent_id: str) -> int:
        """Close every open socket of the agent (an admin took them off the desk, or changed their teams: a socket is
        listed under the teams it connected with): DeleteConnection, then the
        connection's items, so no fan-out finds it again (a post racing this finds the socket gone). Returns the
        sockets closed (one API Gateway calls gone already is not counted). A socket the gateway will not close (an
        error other than gone) loses its items all the same, so no notice reaches it, and is logged."""
        assert self.gateway is not None, "closing sockets needs the @connections API"
        closed = 0
        for connection in self.connections.of_agent(agent_id):
            try:
                closed += self.gateway.delete(connection.connection_id)
            except Exception:
                logger.error("socket not closed", extra={"connection_id": connection.connection_id,
                                                          "agent_id": agent_id}, exc_info=True)
            self.connections.remove(connection)
        return closed

    def expire(self, connection_id: str) -> str | None:
        """The sweep's run of a socket's expiry timer: a socket past ``closes_at`` is closed (DeleteConnection; one
        API Gateway calls gone already is fine) and its items deleted, whether or not a notice came for it, so an
        idle socket keeps its token's roles no longer than a busy one. A connection already gone (disconnected,
        closed by the fan-out or an admin) is nothing to do. The timer runs on the desk's clock: one that runs before
        ``closes_at`` in real time (a local stack's clock moved ahead) answers when to run it again, the real time
        left from now on that clock (the sweep's ``Later``); None when done. A socket the gateway will not close loses
        its items all the same, and is logged."""
        assert self.gateway is not None, "closing sockets needs the @connections API"
        connection = self.connections.get(connection_id)
        if connection is None:
            return None
        if connection.closes_at is not None and not connection.expired():
            return clock.iso(clock.now() + timedelta(seconds=connection.seconds_left()))
        try:
            self.gateway.delete(connection_id)
        except Exception:
            logger.error("socket not closed", extra={"connection_id": connection_id,
                                                      "agent_id": connection.agent_id}, exc_info=True)
        # the timer being run is the sweep's to delete (its finish, conditioned on it not set again): deleted here
        # too, the finish's condition failed, a write unit spent for nothing
        self.connections.remove(connection, timer=False)
        logger.info("connection past its expiry closed", extra={"connection_id": connection_id})
        return None

    def disconnect(self, connection_id: str) -> bool:
        connection = self.connections.get(connection_id)
        if connection is None:
            return False
        self.connections.remove(connection)
        return True


# ------------------------------------------------------------------------------ fan-out

@dataclass
class LiveBatch:
    """One invocation's records: connections and conversations are read once per batch."""

    log: ChangeLog
    connections: Connections
    poster: ConnectionPoster
    lookup: Any                                   # (conversation ids) -> {id: Visibility}
    changes: dict[str, TableChange] = field(default_factory=dict)
    logged: dict[str, LogEntry | None] = field(default_factory=dict)   # by event id; None: no notice
    visible: dict[str, Visibility] = field(default_factory=dict)
    listeners: dict[str, list[Connection]] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)
    sent: int = 0
    visitors: ConnectionPoster | None = None      # the widget's WebSocket API; None: no visitor sockets
    for_visitors: dict[str, str] = field(default_factory=dict)   # first record -> the web-chat conversation
    visitor_frames: int = 0

    @classmethod
    def of(cls, records: Sequence[dict[str, Any]], log: ChangeLog, connections: Connections,
           poster: ConnectionPoster, lookup: Any, visitors: ConnectionPoster | None = None) -> LiveBatch:
        batch = cls(log, connections, poster, lookup, visitors=visitors)
        first: dict[tuple[str, str, str | None], str] = {}      # what the change is about -> its first record
        if visitors is not None:
            moved: dict[str, str] = {}
            for record in records:
                conversation_id = visitor_change(record)
                if conversation_id is not None and conversation_id not in moved:
                    moved[conversation_id] = str(record.get("eventID"))
            batch.for_visitors = {event_id: conversation_id for conversation_id, event_id in moved.items()}
        for record in records:
            change = table_change(record)
            if change is None or not is_notice(change):
                continue
            about = (change.kind, change.conversation_id, change.message_id if change.kind == "message" else None)
            if change.kind in ("conversation", "message") and about in first:
                batch.changes[first[about]] = coalesce(batch.changes[first[about]], change)
                continue
            first[about] = change.event_id
            batch.changes[change.event_id] = change
        moved = {c.conversation_id for c in batch.changes.values() if c.kind == "conversation"}
        for event_id in [e for e, c in batch.changes.items()
                         if c.entry and c.event == "INSERT" and c.conversation_id in moved]:
            del batch.changes[event_id]               # the conversation's own notice says as much (timeline entries)
        wanted = {c.conversation_id for c in batch.changes.values() if c.kind == "message"}
        wanted -= {c.conversation_id for c in batch.changes.values()
                   if c.kind == "conversation" and c.visible_after is not None}
        if wanted:
            try:
                batch.visible.update(lookup(sorted(wanted)))
            except Exception:           # read again per record; a failing one then fails alone
                logger.warning("conversation lookup failed for the batch", exc_info=True)
        for change in batch.changes.values():
            if change.kind == "conversation" and change.visible_after is not None:
                batch.visible[change.conversation_id] = change.visible_after
        return batch

    def handle(self, record: dict[str, Any]) -> Notice | None:
        event_id = str(record.get("eventID"))
        if (conversation_id := self.for_visitors.pop(event_id, None)) is not None:
            self._tell_visitors(conversation_id)
        if event_id not in self.changes:
            return None
        if event_id not in self.logged:
            self._log_from(event_id)
        entry = self.logged[event_id]
        if entry is None:
            return None
        notice = Notice.of(entry)
        self._post(notice, entry.visible)
        return notice

    def _log_from(self, event_id: str) -> None:
        """Log this record's change and every later one of the batch not logged yet, in one write (``ChangeLog
        .append``), before any of them is posted. A later change whose conversation cannot be read now is left for
        its own record, which then fails alone; this record's raises, as does the write (the record fails, and the
        next one writes what is left)."""
        pending = list(self.changes)[list(self.changes).index(event_id):]
        entries: dict[str, LogEntry | None] = {}
        for later in (e for e in pending if e not in self.logged):
            try:
                entries[later] = self._entry(self.changes[later])
            except Exception:
                if later == event_id:
                    raise
                logger.warning("change left for its own record", extra={"event_id": later}, exc_info=True)
        wanted = [e for e in entries.values() if e is not None]
        logged = {e.event_id: e for e in self.log.append(wanted, clock.now_iso())}
        self.logged.update({e: logged[e] if entry is not None else None for e, entry in entries.items()})

    def _entry(self, change: TableChange) -> LogEntry | None:
        """What the log keeps of a change, or None when it is no one's notice."""
        visible = self._visible(change)
        if not visible:
            logger.warning("message of an unknown conversation", extra={"conversation_id": change.conversation_id})
            return None
        kind = change.kind
        if kind == "message" and change.event == "MODIFY":
            kind = "message_update"
            visible = tuple(dict.fromkeys(holders(v) for v in visible if v.assignee or v.granted))
            if not visible:
                return None             # nobody holds the conversation: the next refetch shows it
        return LogEntry(event_id=change.event_id, conversation_id=change.conversation_id, kind=kind,
                        message_id=change.message_id, visible=visible,
                        status=receipt(change) if kind == "message_update" else None)

    def _visible(self, change: TableChange) -> tuple[Visibility, ...]:
        if change.kind in ("conversation", "mention"):       # the images say who may see it
            found = [v for v in (change.visible_before, *change.visible_between, change.visible_after)
                     if v is not None]
        else:
            if change.conversation_id not in self.visible:
                self.visible.update(self.lookup([change.conversation_id]))
            found = [self.visible[change.conversation_id]] if change.conversation_id in self.visible else []
        return tuple(dict.fromkeys(found))

    def _tell_visitors(self, conversation_id: str) -> None:
        """``changed`` to the widget sockets showing the conversation; never raises (they still poll)."""
        assert self.visitors is not None
        try:
            for connection in self.connections.of_audience(widget_audience(conversation_id)):
                if self.visitors.post(connection.connection_id, CHANGED):
                    self.visitor_frames += 1
                elif not opening(connection):
                    self.connections.remove(connection)
        except Exception:
            logger.warning("visitor notice failed", extra={"conversation_id": conversation_id}, exc_info=True)

    def _listeners(self, audience: str) -> list[Connection]:
        if audience not in self.listeners:
            self.listeners[audience] = self.connections.of_audience(audience)
        return self.listeners[audience]

    def _post(self, notice: Notice, visible: tuple[Visibility, ...]) -> None:
        targets: dict[str, Connection] = {}
        for audience in sorted(audiences(visible)):
            for connection in self._listeners(audience):
                if connection.connection_id in self.gone:
                    continue
                if connection.expired():
                    self._close(connection)
                elif may_see_any(viewer_of(connection), visible):
                    targets[connection.connection_id] = connection
        frame = notice.model_dump_json().encode()

        def send(connection: Connection) -> bool | None:
            try:
                return self.poster.post(connection.connection_id, frame)
            except Exception:
                logger.warning("post failed", extra={"connection_id": connection.connection_id}, exc_info=True)
                return None

        connections = list(targets.values())
        outcomes = list(_posting.map(send, connections)) if len(connections) > 1 else [send(c) for c in connections]
        failed = 0
        for connection, delivered in zip(connections, outcomes, strict=True):
            if delivered is None:
                failed += 1
            elif delivered:
                self.sent += 1
            else:
                self.gone.add(connection.connection_id)
                if opening(connection):
                    logger.info("connection still opening: not sent", extra={"connection_id": connection.connection_id})
                else:
                    self.connections.remove(connection)
                    logger.info("stale connection removed", extra={"connection_id": connection.connection_id})
        if failed:
            raise PostFailed(f"{failed} of {len(targets)} connections not sent {notice.cursor}")

    def _close(self, connection: Connection) -> None:
        """A socket whose token has expired hears nothing more: its roles are the token's, and a change of the
        agent's Cognito groups since is not seen. It is closed (DeleteConnection) and its items deleted, so the
        inbox connects again with a fresh token and catches up; the notice is in the change log. A socket the
        gateway will not close loses its items all the same, and is logged."""
        self.gone.add(connection.connection_id)
        try:
            self.poster.delete(connection.connection_id)
        except Exception:
            logger.error("socket not closed", extra={"connection_id": connection.connection_id,
                                                      "agent_id": connection.agent_id}, exc_info=True)
        self.connections.remove(connection)
        logger.info("connection of an expired token closed", extra={"connection_id": connection.connection_id})
