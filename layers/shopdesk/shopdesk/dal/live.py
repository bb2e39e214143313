"""Live updates in the table: agents' WebSocket connections, the change log, the table's stream.

Item layouts (docs/data-model.md):
- ``CONN#<connection id> / META``: one per open socket; the agent, their teams and roles at connect,
  ``token_expires``, when the token it connected with expires (its roles hold until then), ``closes_at``, when
  the desk closes the socket (that expiry, or ``TOKEN_LIFETIME`` after connect when the authorizer passed none),
  and ``audiences``, the partitions the connection is listed in (so a disconnect finds them all).
- ``CONN#<connection id> / DEADLINE#socket_expiry``: an agent socket's timer in the Due index at ``closes_at``;
  the per-minute sweep closes the socket then, whether or not a notice came for it (``logic.live.LiveConnections
  .expire``).
- ``LIVE#<audience> / CONN#<connection id>``: the same connection, once per audience it hears:
  ``agent:<id>`` and ``team:<team>`` for agents, ``all`` for admins, ``widget:<conversation id>`` for a
  web-chat visitor's socket (the widget's own WebSocket API). The fan-out Queries only the audiences of a
  change (never a Scan).
- ``CHANGES / <at>#<first stream event id>.<n>``: the change log the catch-up reads (one partition, sorted by
  time, kept 24 hours with ``ttl``): one item per fan-out invocation holding its changes in order (``changes``),
  up to ``CHANGES_PER_ITEM`` an item (``n`` counts the items of one invocation). A change's position, the key a
  cursor holds, is its item's key and its place in the item: ``<item SK>#<index>``.

Connection items carry ``ttl`` 2 h 10 min after connect (API Gateway closes every socket after 2 h);
DynamoDB deletes expired items late, so readers skip what has expired themselves.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.exceptions import ClientError

from shopdesk import clock
from shopdesk.config import region
from shopdesk.dal.aws import _CONFIG
from shopdesk.dal.items import deadline_sk, due_pk, due_sk
from shopdesk.dal.table import Table, deserialize

CONNECTION_TTL = timedelta(hours=2, minutes=10)
# the user pool's IdTokenValidity: how long a socket whose authorizer passed no expiry (an authorizer of the
# release before, during a deploy) is kept, from its connect
TOKEN_LIFETIME = timedelta(hours=1)
EXPIRY_TIMER = "socket_expiry"          # the sweep's timer that closes an agent socket at its ``closes_at``
CHANGE_RETENTION = timedelta(hours=24)
CHANGES_PK = "CHANGES"
CHANGES_PER_ITEM = 100      # the fan-out's BatchSize: one item per invocation (a write unit per KB, ~150 B a change)

# What of an item an agent sees: a change elsewhere (updated_at, previews, clocks) is no notice.
CONVERSATION_FIELDS = ("status", "assignee", "priority", "team", "skills", "labels", "sla_breaches", "sla_warned",
                       "sla_done", "unrouted")     # unrouted gone: the router put it in its team, which now hears of it
MESSAGE_FIELDS = ("status", "error", "attachments")
MENTION_FIELDS = ("unread", "last_at")      # a new mention, or the mentions read


def conn_pk(connection_id: str) -> str:
    return f"CONN#{connection_id}"


def live_pk(audience: str) -> str:
    return f"LIVE#{audience}"


def _real_now() -> datetime:
    """A socket's life is real time: API Gateway closes it after 2 hours and DynamoDB's TTL deletes by the real
    clock, so a connection's ``ttl`` is never measured on the movable clock (a test that moves the local stack's
    clock hours ahead must not make the open inboxes look gone)."""
    return datetime.fromtimestamp(time.time(), UTC)


def _expires(now: datetime, after: timedelta) -> int:
    return int((now + after).timestamp())


# ------------------------------------------------------------------------------ the stream

@dataclass(frozen=True)
class Visibility:
    """Who may see a conversation: its team, its assignee and the agents it was granted to. A notice for one
    agent alone (a mention of them) has no team and that agent as its ``assignee``: see ``personal``. A
    conversation the router has not routed yet (``unrouted``: its team is a placeholder) is no team's: admins
    alone hear of it, and its team from the routing on."""

    team: str
    assignee: str | None
    granted: frozenset[str] = frozenset()
    unrouted: bool = False


@dataclass(frozen=True)
class TableChange:
    """One stream record about a conversation or a message, with what an agent sees of the item."""

    event_id: str
    event: str                      # INSERT, MODIFY, REMOVE
    kind: str                       # conversation, message
    conversation_id: str
    message_id: str | None
    before: dict[str, Any] | None   # the watched fields of the old image
    after: dict[str, Any] | None    # ... and of the new one
    visible_before: Visibility | None = None   # conversations only: the images' team and assignee
    visible_after: Visibility | None = None
    visible_between: tuple[Visibility, ...] = ()   # conversations: who could see it between (changes merged)
    entry: bool = False             # messages: a timeline entry (direction system)


def _watched(image: Mapping[str, Any] | None, fields: Iterable[str]) -> dict[str, Any] | None:
    if image is None:
        return None
    item = deserialize(image)
    watched = {name: item.get(name) for name in fields}
    for name, value in watched.items():
        if isinstance(value, set):
            watched[name] = sorted(value)
    return watched


def _visibility(image: Mapping[str, Any] | None) -> Visibility | None:
    if image is None:
        return None
    return _visibility_of(deserialize(image))


def _visibility_of(item: Mapping[str, Any]) -> Visibility:
    return Visibility(team=str(item.get("team") or "default"), assignee=item.get("assignee"),
                      granted=frozenset(item.get("granted") or ()), unrouted=bool(item.get("unrouted")))


def table_change(record: Mapping[str, Any]) -> TableChange | None:
    """A Lambda DynamoDB-stream record as a change of a conversation or message; None for other items."""
    data = record.get("dynamodb") or {}
    keys = data.get("Keys") or {}
    pk, sk = (keys.get("PK") or {}).get("S", ""), (keys.get("SK") or {}).get("S", "")
    if not pk.startswith("CONV#"):
        return None
    conversation_id = pk.removeprefix("CONV#")
    old, new = data.get("OldImage"), data.get("NewImage")
    common = {"event_id": str(record["eventID"]), "event": str(record.get("eventName", "")),
              "conversation_id": conversation_id}
    if sk == "META":
        return TableChange(kind="conversation", message_id=None, before=_watched(old, CONVERSATION_FIELDS),
                           after=_watched(new, CONVERSATION_FIELDS), visible_before=_visibility(old),
                           visible_after=_visibility(new), **common)
    if sk.startswith("MSG#"):
        return TableChange(kind="message", message_id=sk.rsplit("#", 1)[1], before=_watched(old, MESSAGE_FIELDS),
                           after=_watched(new, MESSAGE_FIELDS), entry=_text(new or old or {}, "direction") == "system",
                           **common)
    if sk.startswith("MENTION#"):       # the mentioned agent's notice, and theirs alone
        agent = personal(sk.removeprefix("MENTION#"))
        latest = deserialize(new).get("message_id") if new else None
        return TableChange(kind="mention", message_id=latest, before=_watched(old, MENTION_FIELDS),
                           after=_watched(new, MENTION_FIELDS), visible_before=agent, visible_after=agent, **common)
    return None


WEBCHAT = "webchat"
VISIBLE_TO_VISITORS = ("inbound", "outbound")     # never notes or system entries


def widget_audience(conversation_id: str) -> str:
    """Where a web-chat visitor's socket is listed: the conversation their widget shows."""
    return f"widget:{conversation_id}"


def visitor_change(record: Mapping[str, Any]) -> str | None:
    """The web-chat conversation whose visitor should look again after this stream record, or None: a change of
    what the widget's listing shows (``logic.widget.Widget.poll``) of a web-chat message of theirs or an
    agent's (``seen_by_visitor``: a new one, a reply the dispatcher lets go, a text or its files changed), or the
    conversation's status (closed, reopened). Notes and system entries move nothing a visitor sees, and neither do a
    reply still queued, what the router understood of a message, a provider's id or a delivery state after the one
    that showed it: the widget would list the same."""
    data = record.get("dynamodb") or {}
    keys = data.get("Keys") or {}
    pk, sk = (keys.get("PK") or {}).get("S", ""), (keys.get("SK") or {}).get("S", "")
    new = data.get("NewImage")
    if not pk.startswith("CONV#") or new is None or record.get("eventName") not in ("INSERT", "MODIFY"):
        return None
    # the few attributes it needs, read from the stream's typed images (every record passes here: no whole item
    # deserialised a second time)
    old = data.get("OldImage") or {}
    if sk.startswith("MSG#"):
        moved = (_text(new, "channel") == WEBCHAT and _text(new, "direction") in VISIBLE_TO_VISITORS
                 and seen_by_visitor(new) != seen_by_visitor(old))
    elif sk == "META":
        moved = WEBCHAT in ((new.get("routes") or {}).get("M") or {}) and _text(new, "status") != _text(old, "status")
    else:
        moved = False
    return pk.removeprefix("CONV#") if moved else None


def _text(image: Mapping[str, Any], name: str) -> str | None:
    return (image.get(name) or {}).get("S")


HELD_FROM_VISITORS = ("queued", "failed")     # a reply the widget does not list: not let go yet (or never)


def seen_by_visitor(image: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """What the widget's listing shows of a message's stream image (its text, files and choices, in their typed
    form), or None when it lists nothing of it (no image, a reply not let go); its id and time never change."""
    if not image or (_text(image, "direction") == "outbound" and _text(image, "status") in HELD_FROM_VISITORS):
        return None
    choices = ((image.get("payload") or {}).get("M") or {}).get("choices")
    return image.get("text"), image.get("attachments"), choices


def personal(agent_id: str) -> Visibility:
    """The visibility of a notice for one agent only: no team, no admin audience (logic.live.audiences)."""
    return Visibility(team="", assignee=agent_id)


def visibilities(table: Table, conversation_ids: Iterable[str]) -> dict[str, Visibility]:
    """Team, assignee and grants of conversations, one BatchGetItem per 100 (messages do not carry them)."""
    found = table.batch_get([(f"CONV#{cid}", "META") for cid in dict.fromkeys(conversation_ids)])
    return {item["id"]: _visibility_of(item) for item in found if item.get("type") == "conversation"}


# ------------------------------------------------------------------------------ connections

@dataclass(frozen=True)
class Connection:
    connection_id: str
    agent_id: str
    teams: tuple[str, ...]
    roles: tuple[str, ...]
    audiences: tuple[str, ...]
    connected_at: str
    token_expires: int | None = None    # the token's ``exp`` (epoch seconds): its roles are the token's until then
    closes_at: int | None = None        # when the desk closes it (epoch seconds); None: a visitor's socket

    def expired(self) -> bool:
        """The socket is past ``closes_at`` (real time, as the token's ``exp``): the token it connected with has
        expired, so its roles may be out of date (a Cognito group change unseen), or, for a socket that came with no
        expiry, it has been open as long as a token is valid."""
        return self.closes_at is not None and self.seconds_left() <= 0

    def seconds_left(self) -> float:
        """Real seconds until ``closes_at`` (none past it: 0 or less)."""
        return float("inf") if self.closes_at is None else self.closes_at - _real_now().timestamp()


def closes_at(token_expires: int | None) -> int:
    """When the desk closes an agent socket that connects now: its token's ``exp``, or ``TOKEN_LIFETIME`` from now
    when the authorizer passed none."""
    return token_expires if token_expires is not None else _expires(_real_now(), TOKEN_LIFETIME)


def _connection_from_item(item: dict[str, Any]) -> Connection:
    expires, closes = item.get("token_expires"), item.get("closes_at")
    if closes is None and item.get("agent_id"):     # kept before ``closes_at`` was: bounded the same way
        closes = expires if expires is not None else (
            int(item.get("ttl") or 0) - CONNECTION_TTL.total_seconds() + TOKEN_LIFETIME.total_seconds())
    return Connection(connection_id=item["connection_id"], agent_id=item["agent_id"],
                      teams=tuple(item.get("teams") or ()), roles=tuple(item.get("roles") or ()),
                      audiences=tuple(item.get("audiences") or ()), connected_at=item.get("connected_at", ""),
                      token_expires=int(expires) if expires is not None else None,
                      closes_at=int(closes) if closes is not None else None)


class Connections:
    """Open WebSocket connections, findable by audience. ``due_shards``: the sweep's Due index shards, where an
    agent socket's expiry timer goes (needed by whoever adds agent sockets)."""

    def __init__(self, table: Table, due_shards: int | None = None):
        self.table = table
        self.due_shards = due_shards

    def add(self, connection: Connection) -> None:
        """The connection's items, and for a socket with ``closes_at`` its expiry timer: one BatchWriteItem."""
        now = _real_now()
        body = {"type": "connection", "connection_id": connection.connection_id, "agent_id": connection.agent_id,
                "teams": list(connection.teams), "roles": list(connection.roles) or None,
                "audiences": list(connection.audiences), "connected_at": connection.connected_at,
                "token_expires": connection.token_expires, "closes_at": connection.closes_at,
                "ttl": _expires(now, CONNECTION_TTL)}
        items = [{"PK": conn_pk(connection.connection_id), "SK": "META", **body}]
        items += [{"PK": live_pk(audience), "SK": conn_pk(connection.connection_id), **body}
                  for audience in connection.audiences]
        if connection.closes_at is not None:
            items.append(self._expiry_timer(connection.connection_id, connection.closes_at, body["ttl"]))
        self.table.batch_put(items)

    def _expiry_timer(self, connection_id: str, closes_at: int, ttl: int) -> dict[str, Any]:
        """The socket's timer in the sweep's Due index (the layout of ``Conversations.timer_item``). Its due time is
        on the desk's clock, which is real time in AWS (a local stack's clock moved ahead runs it early: the runner
        checks real time, ``LiveConnections.expire``). The connection's ``ttl`` too, so a timer no sweep ran is
        not kept for ever."""
        assert self.due_shards, "an agent socket's expiry timer needs the Due index's shards"
        due_at = clock.iso(clock.now() + timedelta(seconds=closes_at - _real_now().timestamp()))
        return {"PK": conn_pk(connection_id), "SK": deadline_sk(EXPIRY_TIMER), "type": "timer",
                "target": EXPIRY_TIMER, "due_at": due_at, "state": "pending", "conversation_id": connection_id,
                "DuePK": due_pk(connection_id, self.due_shards), "DueSK": due_sk(due_at, connection_id, EXPIRY_TIMER),
                "ttl": ttl}

    def get(self, connection_id: str) -> Connection | None:
        item = self.table.get(conn_pk(connection_id), "META")
        return _connection_from_item(item) if item else None

    def remove(self, connection: Connection, *, timer: bool = True) -> None:
        """Every item of the connection (its META, one per audience, and an agent socket's expiry timer unless
        ``timer`` is False: the sweep running that timer deletes it itself)."""
        keys = [(conn_pk(connection.connection_id), "META")]
        keys += [(live_pk(audience), conn_pk(connection.connection_id)) for audience in connection.audiences]
        if connection.closes_at is not None and timer:
            keys.append((conn_pk(connection.connection_id), deadline_sk(EXPIRY_TIMER)))
        self.table.batch_delete(keys)

    def of_agent(self, agent_id: str) -> list[Connection]:
        """Every connection of one agent (each is listed under ``agent:<id>``, admins' too), expired or not: one
        consistent Query, so a connection written before it is never missed."""
        items = self.table.query_all(index=None, key_condition="#pk = :pk AND begins_with(#sk, :conn)",
                                     names={"#pk": "PK", "#sk": "SK"},
                                     values={":pk": live_pk(f"agent:{agent_id}"), ":conn": "CONN#"}, consistent=True)
        return [_connection_from_item(item) for item in items]

    def of_audience(self, audience: str) -> list[Connection]:
        """The open connections of one audience: one Query (pages only past 1 MB); expired ones skipped."""
        now = int(_real_now().timestamp())
        items = self.table.query_all(index=None, key_condition="#pk = :pk AND begins_with(#sk, :conn)",
                                     names={"#pk": "PK", "#sk": "SK"},
                                     values={":pk": live_pk(audience), ":conn": "CONN#"})
        return [_connection_from_item(item) for item in items if int(item.get("ttl") or 0) > now]


# ------------------------------------------------------------------------------ the change log

@dataclass(frozen=True)
class LogEntry:
    event_id: str
    conversation_id: str
    kind: str
    message_id: str | None
    visible: tuple[Visibility, ...]  # before and after the change (the same one twice is kept once)
    status: str | None = None        # a provider's receipt: the message's new status (logic.live.receipt)
    key: str = ""                    # its position: <item SK>#<index>, time-ordered (set by ``ChangeLog.append``)
    at: str = ""                     # when it was logged (its item's moment)


def _visible_from(values: list[dict[str, Any]] | None) -> tuple[Visibility, ...]:
    return tuple(_visibility_of(v) if v.get("team") != "" else                   # team "": a personal notice
                 Visibility(team="", assignee=v.get("assignee"), granted=frozenset(v.get("granted") or ()))
                 for v in values or [])


def _entries_from_item(item: dict[str, Any]) -> list[LogEntry]:
    """The changes of one log item, in order. An item of the layout before (one change an item, its SK the
    position) is read as one entry, for the 24 hours such items are kept after a deploy."""
    if "changes" not in item:
        return [LogEntry(key=item["SK"], event_id=item["event_id"], conversation_id=item["conversation_id"],
                         kind=item["kind"], message_id=item.get("message_id"), at=item["at"],
                         visible=_visible_from(item.get("visible")), status=item.get("status"))]
    return [LogEntry(key=f"{item['SK']}#{index:03d}", event_id=c["event_id"], conversation_id=c["conversation_id"],
                     kind=c["kind"], message_id=c.get("message_id"), at=item["at"],
                     visible=_visible_from(c.get("visible")), status=c.get("status"))
            for index, c in enumerate(item["changes"])]


def _stored_change(entry: LogEntry) -> dict[str, Any]:
    """What the catch-up reads of a change: its ids, its kind, who may see it, a receipt's status."""
    return {"event_id": entry.event_id, "conversation_id": entry.conversation_id, "kind": entry.kind,
            **({"message_id": entry.message_id} if entry.message_id else {}),
            "visible": [{"team": v.team, "assignee": v.assignee,
                         **({"granted": sorted(v.granted)} if v.granted else {}),
                         **({"unrouted": True} if v.unrouted else {})} for v in entry.visible],
            **({"status": entry.status} if entry.status else {})}


def _item_of(position: str) -> str | None:
    """The item a position inside one names (``<at>#<event id>.<n>#<index>``); None for a time, or a position
    of the layout before (``<at>#<event id>``), which an item's key is."""
    parts = position.split("#")
    return "#".join(parts[:2]) if len(parts) == 3 else None


@dataclass(frozen=True)
class LogPage:
    entries: list[LogEntry]
    last_key: str | None    # the last position read (visible to the caller or not)
    more: bool


class ChangeLog:
    def __init__(self, table: Table):
        self.table = table

    def append(self, entries: Sequence[LogEntry], at: str) -> list[LogEntry]:
        """Log the changes of one fan-out invocation at ``at``, in their order: one plain put per
        ``CHANGES_PER_ITEM`` (one for a batch of the template's size), a write unit per KB of it instead of one per
        change. Returns them with their positions. A record Lambda delivers again (only after a failure: a post
        that failed, a timeout) is written again under its new moment, and the catch-up lists it twice at most, a
        repeated notice the app refetches for; keeping each event once would take a second write (a marker)
        for every change. ``after`` drops the repeat within a page."""
        if not entries:
            return []
        ttl = _expires(clock.parse_iso(at), CHANGE_RETENTION + timedelta(hours=1))
        logged: list[LogEntry] = []
        for n, start in enumerate(range(0, len(entries), CHANGES_PER_ITEM)):
            chunk = entries[start:start + CHANGES_PER_ITEM]
            sk = f"{at}#{entries[0].event_id}.{n:02d}"
            self.table.put({"PK": CHANGES_PK, "SK": sk, "type": "changes", "at": at,
                            "changes": [_stored_change(e) for e in chunk], "ttl": ttl})
            logged += [replace(e, key=f"{sk}#{index:03d}", at=at) for index, e in enumerate(chunk)]
        return logged

    def after(self, position: str, limit: int) -> LogPage:
        """At most ``limit`` changes past ``position``, oldest first: one consistent Query. A position inside an
        item reads that item again (its changes after the position), and one item more than ``limit`` so that a
        page that has more always moves on."""
        item = _item_of(position)
        page = self.table.query(index=None, key_condition=f"#pk = :pk AND #sk {'>=' if item else '>'} :from",
                                names={"#pk": "PK", "#sk": "SK"}, values={":pk": CHANGES_PK, ":from": item or position},
                                limit=limit + 1 if item else limit, consistent=True)
        entries = [e for found in page.items for e in _entries_from_item(found) if e.key > position]
        taken = entries[:limit]
        last = taken[-1].key if taken else None
        seen: set[str] = set()
        once = [e for e in taken if not (e.event_id in seen or seen.add(e.event_id))]   # an event's first entry
        return LogPage(once, last, len(entries) > limit or page.cursor is not None)


# ------------------------------------------------------------------------------ API Gateway @connections

class ConnectionPoster:
    """PostToConnection / DeleteConnection of the WebSocket API's management endpoint."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint
        self._client: Any = None
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        """One client, made on first use (the fan-out's posting threads share it)."""
        with self._lock:
            if self._client is None:
                self._client = boto3.session.Session().client(
                    "apigatewaymanagementapi", endpoint_url=self.endpoint, region_name=region(), config=_CONFIG)
            return self._client

    def post(self, connection_id: str, data: bytes) -> bool:
        """Send one frame; False when the connection is gone (closed without a $disconnect yet)."""
        try:
            self.client.post_to_connection(ConnectionId=connection_id, Data=data)
            return True
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("GoneException", "410"):
                return False
            raise

    def delete(self, connection_id: str) -> bool:
        """Close the connection (API Gateway then runs its $disconnect); False when it was gone already."""
        try:
            self.client.delete_connection(ConnectionId=connection_id)
            return True
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("GoneException", "410"):
                return False
            raise
