"""Live notices: which table changes are notices, who hears them, cursors and the catch-up page."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from shopdesk import clock
from shopdesk.dal.live import Connection, LogEntry, LogPage, Visibility, table_change, visitor_change, widget_audience
from shopdesk.dal.table import serialize
from shopdesk.errors import BadRequest
from shopdesk.logic.changes import ChangeFeed, Viewer, decode_cursor, encode_cursor, may_see, may_see_any
from shopdesk.logic.live import LiveBatch, PostFailed, audiences, connection_audiences, is_notice


def conv_image(**fields: Any) -> dict[str, Any]:
    item = {"PK": "CONV#c_1", "SK": "META", "type": "conversation", "id": "c_1", "status": "open",
            "priority": "normal", "team": "sales", "updated_at": "2026-12-03T08:00:00.000Z"}
    item.update(fields)
    return serialize(item)


def msg_image(**fields: Any) -> dict[str, Any]:
    item = {"PK": "CONV#c_1", "SK": "MSG#2026-12-03T08:00:00.000Z#m_1", "type": "message", "id": "m_1",
            "conversation_id": "c_1", "direction": "outbound", "status": "sent"}
    item.update(fields)
    return serialize(item)


def record(event: str, old: dict[str, Any] | None, new: dict[str, Any] | None, event_id: str = "e1",
           seq: str = "100") -> dict[str, Any]:
    image = new or old or {}
    data: dict[str, Any] = {"Keys": {"PK": image["PK"], "SK": image["SK"]}, "SequenceNumber": seq,
                            "StreamViewType": "NEW_AND_OLD_IMAGES"}
    if old is not None:
        data["OldImage"] = old
    if new is not None:
        data["NewImage"] = new
    return {"eventID": event_id, "eventName": event, "eventSource": "aws:dynamodb", "dynamodb": data}


# ------------------------------------------------------------------------------ which changes are notices

def test_a_new_conversation_is_a_notice_visible_to_its_team():
    change = table_change(record("INSERT", None, conv_image()))
    assert change is not None and change.kind == "conversation" and is_notice(change)
    assert change.visible_after == Visibility(team="sales", assignee=None)


def test_a_conversation_touched_only_in_what_agents_do_not_see_is_no_notice():
    change = table_change(record("MODIFY", conv_image(), conv_image(updated_at="2026-12-03T08:01:00.000Z",
                                                                     last_message_preview="hi")))
    assert change is not None and not is_notice(change)


@pytest.mark.parametrize("field_name,value", [("status", "resolved"), ("assignee", "alice"), ("priority", "high"),
                                              ("team", "billing"), ("sla_breaches", {"first_response"})])
def test_a_conversation_change_an_agent_sees_is_a_notice(field_name, value):
    change = table_change(record("MODIFY", conv_image(), conv_image(**{field_name: value})))
    assert change is not None and is_notice(change)


def test_a_transfer_concerns_the_old_and_the_new_assignee():
    change = table_change(record("MODIFY", conv_image(assignee="alice"), conv_image(assignee="bob")))
    assert change is not None
    assert audiences([change.visible_before, change.visible_after]) == {
        "all", "team:sales", "agent:alice", "agent:bob"}


def test_a_message_insert_and_a_delivery_receipt_are_notices_other_message_writes_are_not():
    inserted = table_change(record("INSERT", None, msg_image()))
    delivered = table_change(record("MODIFY", msg_image(), msg_image(status="delivered", status_rank=3)))
    ranked_only = table_change(record("MODIFY", msg_image(), msg_image(status_rank=2)))
    assert inserted is not None and inserted.kind == "message" and inserted.message_id == "m_1"
    assert is_notice(inserted) and delivered is not None and is_notice(delivered)
    assert ranked_only is not None and not is_notice(ranked_only)


def test_other_items_are_not_changes():
    agent = serialize({"PK": "AGENT#alice", "SK": "META", "presence": "online"})
    deadline = serialize({"PK": "CONV#c_1", "SK": "DEADLINE#first_response", "due_at": "x"})
    assert table_change(record("MODIFY", agent, agent)) is None
    assert table_change(record("INSERT", None, deadline)) is None


def test_a_removed_conversation_is_a_notice_to_who_could_see_it_and_its_removed_messages_are_not():
    # erased with its customer, or expired under retention: the inboxes showing it must drop it
    change = table_change(record("REMOVE", conv_image(), None))
    assert change is not None and is_notice(change) and change.visible_before is not None
    message = table_change(record("REMOVE", msg_image(), None))
    assert message is not None and not is_notice(message)


# ------------------------------------------------------------------------------ who may see

def viewer(agent_id: str = "alice", teams: tuple[str, ...] = ("sales",), roles: tuple[str, ...] = ()) -> Viewer:
    return Viewer(agent_id=agent_id, teams=frozenset(teams), roles=frozenset(roles))


def test_an_agent_sees_their_teams_and_their_own_conversations_admins_see_all():
    assert may_see(viewer(), Visibility("sales", None))
    assert may_see(viewer(teams=("billing",)), Visibility("sales", "alice"))
    assert not may_see(viewer(teams=("billing",)), Visibility("sales", "bob"))
    assert not may_see(viewer(teams=("billing",), roles=("supervisors",)), Visibility("sales", None))
    assert may_see(viewer(teams=("billing",), roles=("admins",)), Visibility("sales", None))


def test_an_agent_a_conversation_was_granted_to_hears_of_it_outside_their_teams():
    handed_on = Visibility("sales", "bob", granted=frozenset({"alice", "bob"}))
    assert may_see(viewer(teams=("billing",)), handed_on)
    assert not may_see(viewer("carol", teams=("billing",)), handed_on)
    assert audiences([handed_on]) == {"all", "team:sales", "agent:alice", "agent:bob"}


def test_a_conversation_not_routed_yet_is_the_admins_alone_and_its_routing_is_its_teams_notice():
    # ingest stores it with a placeholder team (default) and ``unrouted``
    created = table_change(record("INSERT", None, conv_image(team="default", unrouted=True)))
    assert created is not None and created.visible_after == Visibility("default", None, unrouted=True)
    assert audiences([created.visible_after]) == {"all"}
    assert not may_see(viewer(teams=("default",)), created.visible_after)
    assert not may_see(viewer(teams=("default",), roles=("supervisors",)), created.visible_after)
    assert may_see(viewer(teams=("default",), roles=("admins",)), created.visible_after)
    # the router sets its team: a notice that reaches that team, and still not the placeholder's
    routed = table_change(record("MODIFY", conv_image(team="default", unrouted=True), conv_image(team="sales")))
    assert routed is not None and is_notice(routed)
    visible = (routed.visible_before, routed.visible_after)
    assert audiences(visible) == {"all", "team:sales"}
    assert may_see_any(viewer(teams=("sales",)), visible)
    assert not may_see_any(viewer(teams=("default",)), visible)
    # routed to the placeholder's own team: the routing alone (``unrouted`` gone) is the notice
    kept = table_change(record("MODIFY", conv_image(team="default", unrouted=True), conv_image(team="default")))
    assert kept is not None and is_notice(kept) and may_see(viewer(teams=("default",)), kept.visible_after)


def test_connections_are_listed_under_the_agent_and_each_team_admins_under_all():
    assert connection_audiences("alice", ["sales", "billing"], []) == ("agent:alice", "team:sales", "team:billing")
    assert connection_audiences("root", ["sales"], ["admins"]) == ("all", "agent:root")


# ------------------------------------------------------------------------------ cursors

def test_cursors_are_opaque_and_round_trip():
    cursor = encode_cursor("2026-12-03T08:00:00.000Z#e1", exact=True)
    assert "2026" not in cursor and "#" not in cursor
    assert decode_cursor(cursor) == ("2026-12-03T08:00:00.000Z#e1", True)


@pytest.mark.parametrize("cursor", ["nonsense", "", "Yzl8c3wyMDI2", encode_cursor("yesterday", exact=False)])
def test_a_cursor_not_ours_is_a_bad_request(cursor):
    with pytest.raises(BadRequest):
        decode_cursor(cursor)


@dataclass
class FakeLog:
    entries: list[LogEntry] = field(default_factory=list)
    reads: list[str] = field(default_factory=list)

    def after(self, key: str, limit: int) -> LogPage:
        self.reads.append(key)
        found = sorted((e for e in self.entries if e.key > key), key=lambda e: e.key)
        page = found[:limit]
        return LogPage(page, page[-1].key if page else None, len(found) > limit)


class FakeAgents:
    def get(self, agent_id: str) -> Any:
        return type("A", (), {"teams": ["sales"]})()


def entry(at: str, event_id: str, team: str = "sales", assignee: str | None = None) -> LogEntry:
    return LogEntry(key=f"{at}#{event_id}", event_id=event_id, conversation_id=f"c_{event_id}", kind="conversation",
                    message_id=None, at=at, visible=(Visibility(team, assignee),))


def test_without_since_the_feed_gives_no_items_and_a_cursor_to_start_from():
    page = ChangeFeed(FakeLog([entry(clock.now_iso(), "e1")]), FakeAgents()).page("alice", [], None, 200)
    assert page.items == [] and not page.more and decode_cursor(page.cursor)[1] is False


def test_the_feed_lists_only_what_the_caller_may_see_and_re_reads_the_settling_window():
    now = clock.now()
    earlier = clock.iso(now - timedelta(seconds=30))
    log = FakeLog([entry(clock.iso(now - timedelta(seconds=20)), "e1"),
                   entry(clock.iso(now - timedelta(seconds=10)), "e2", team="billing"),
                   entry(clock.iso(now - timedelta(seconds=5)), "e3", team="billing", assignee="alice")])
    page = ChangeFeed(log, FakeAgents()).page("alice", [], encode_cursor(earlier, exact=False), 200)
    assert [n.conversation_id for n in page.items] == ["c_e1", "c_e3"]
    assert log.reads == [clock.iso(now - timedelta(seconds=32))]
    assert not page.more and decode_cursor(page.cursor)[0] >= clock.iso(now)


def test_a_full_page_continues_exactly_after_its_last_entry():
    now = clock.now()
    log = FakeLog([entry(clock.iso(now - timedelta(seconds=1)), f"e{i}") for i in range(5)])
    feed = ChangeFeed(log, FakeAgents())
    first = feed.page("alice", [], encode_cursor(clock.iso(now - timedelta(minutes=1)), exact=False), 3)
    assert first.more and len(first.items) == 3
    second = feed.page("alice", [], first.cursor, 3)
    assert [n.conversation_id for n in second.items] == ["c_e3", "c_e4"] and not second.more


def test_a_cursor_older_than_the_retention_is_a_bad_request():
    old = encode_cursor(clock.iso(clock.now() - timedelta(hours=25)), exact=False)
    with pytest.raises(BadRequest, match="24 hours"):
        ChangeFeed(FakeLog(), FakeAgents()).page("alice", [], old, 200)


# ------------------------------------------------------------------------------ the fan-out batch

@dataclass
class FakeConnections:
    by_audience: dict[str, list[Connection]]
    removed: list[str] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)

    def of_audience(self, audience: str) -> list[Connection]:
        self.queries.append(audience)
        return [c for c in self.by_audience.get(audience, []) if c.connection_id not in self.removed]

    def remove(self, connection: Connection) -> None:
        self.removed.append(connection.connection_id)


@dataclass
class FakePoster:
    gone: set[str] = field(default_factory=set)
    broken: set[str] = field(default_factory=set)
    frames: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def post(self, connection_id: str, data: bytes) -> bool:
        if connection_id in self.broken:
            raise RuntimeError("throttled")
        if connection_id in self.gone:
            return False
        self.frames.append((connection_id, json.loads(data)))
        return True


@dataclass
class MemoryLog:
    stored: dict[str, LogEntry] = field(default_factory=dict)      # by event id: its latest entry
    entries: list[LogEntry] = field(default_factory=list)
    writes: list[list[str]] = field(default_factory=list)          # the event ids of each write
    broken: int = 0                                                # this many writes fail first

    def append(self, entries: list[LogEntry], at: str) -> list[LogEntry]:
        if self.broken:
            self.broken -= 1
            raise RuntimeError("throttled")
        logged = [replace(e, key=f"{at}#{entries[0].event_id}.00#{n:03d}", at=at) for n, e in enumerate(entries)]
        self.writes.append([e.event_id for e in logged])
        for e in logged:
            self.stored[e.event_id] = e
            self.entries.append(e)
        return logged


def conn(cid: str, agent_id: str, teams: tuple[str, ...] = ("sales",), roles: tuple[str, ...] = ()) -> Connection:
    return Connection(cid, agent_id, teams, roles, connection_audiences(agent_id, teams, roles), "t")


def test_a_batch_posts_each_notice_to_who_may_see_it_and_queries_each_audience_once():
    alice, bob, root = conn("A", "alice"), conn("B", "bob", ("billing",)), conn("R", "root", roles=("admins",))
    connections = FakeConnections({"team:sales": [alice], "agent:alice": [alice], "team:billing": [bob],
                                   "all": [root]})
    poster = FakePoster()
    records = [record("INSERT", None, conv_image(), "e1", "1"), record("INSERT", None, msg_image(), "e2", "2")]
    batch = LiveBatch.of(records, MemoryLog(), connections, poster, lookup=lambda ids: pytest.fail("no lookup"))
    notices = [batch.handle(r) for r in records]
    assert [n.kind for n in notices if n] == ["conversation", "message"]
    assert sorted(cid for cid, _ in poster.frames) == ["A", "A", "R", "R"]
    assert poster.frames[0][1]["type"] == "change" and poster.frames[0][1]["conversation_id"] == "c_1"
    assert sorted(connections.queries) == ["all", "team:sales"]


def test_a_gone_connection_is_removed_and_a_failed_post_fails_the_record():
    alice, other = conn("A", "alice"), conn("O", "olga")
    connections = FakeConnections({"team:sales": [alice, other]})
    poster = FakePoster(gone={"O"})
    rec = record("INSERT", None, conv_image(), "e1")
    LiveBatch.of([rec], MemoryLog(), connections, poster, lookup=dict).handle(rec)
    assert connections.removed == ["O"] and [cid for cid, _ in poster.frames] == ["A"]
    log = MemoryLog()
    with pytest.raises(PostFailed):
        LiveBatch.of([rec], log, connections, FakePoster(broken={"A"}), lookup=dict).handle(rec)
    assert list(log.stored) == ["e1"]       # logged before posting: the catch-up has it though the post failed


def test_a_young_connection_reported_gone_is_kept_as_one_still_opening_and_an_older_one_removed():
    # (API Gateway answers 410 until $connect returns, and $connect writes the connection's item)
    now = clock.now()
    opening = Connection("N", "nina", ("sales",), (), connection_audiences("nina", ("sales",), ()),
                         clock.iso(now - timedelta(seconds=5)))
    stale = Connection("S", "sam", ("sales",), (), connection_audiences("sam", ("sales",), ()),
                       clock.iso(now - timedelta(seconds=31)))
    connections = FakeConnections({"team:sales": [opening, stale]})
    rec = record("INSERT", None, conv_image(), "e1")
    batch = LiveBatch.of([rec], MemoryLog(), connections, FakePoster(gone={"N", "S"}), lookup=dict)
    batch.handle(rec)
    assert connections.removed == ["S"] and batch.gone == {"N", "S"}


def test_a_redelivered_record_is_logged_and_posted_again_under_its_new_moment(monkeypatch):
    log, poster = MemoryLog(), FakePoster()
    rec = record("INSERT", None, conv_image(), "e1")
    connections = FakeConnections({"team:sales": [conn("A", "alice")]})
    monkeypatch.setattr(clock, "time", SimpleNamespace(time=lambda: 1796371200.0))
    first = LiveBatch.of([rec], log, connections, poster, lookup=dict).handle(rec)
    monkeypatch.setattr(clock, "time", SimpleNamespace(time=lambda: 1796371260.0))   # retried a minute later
    again = LiveBatch.of([rec], log, connections, poster, lookup=dict).handle(rec)
    assert first is not None and again is not None and first.cursor != again.cursor
    assert [e.event_id for e in log.entries] == ["e1", "e1"] and len(poster.frames) == 2


def test_a_message_of_a_conversation_not_in_the_batch_is_looked_up_once_for_the_batch():
    calls: list[list[str]] = []

    def lookup(ids: list[str]) -> dict[str, Visibility]:
        calls.append(ids)
        return {"c_1": Visibility("sales", "alice")}

    other = {"SK": "MSG#2026-12-03T08:01:00.000Z#m_2", "id": "m_2"}
    records = [record("INSERT", None, msg_image(), "e1"),
               record("MODIFY", msg_image(**other), msg_image(status="delivered", **other), "e2")]
    batch = LiveBatch.of(records, MemoryLog(), FakeConnections({}), FakePoster(), lookup)
    assert all(batch.handle(r) for r in records) and calls == [["c_1"]]


def test_changes_of_one_conversation_in_a_batch_are_one_notice_at_the_first_for_everyone_between():
    # Given a batch where the router classifies a conversation, hands it to bob, then bob's transfer gives it
    # to carol (three records of its item), with a message of it in the middle
    alice, bob, carol = (conn(c, name, ("billing",)) for c, name in (("A", "alice"), ("B", "bob"), ("C", "carol")))
    connections = FakeConnections({"agent:alice": [alice], "agent:bob": [bob], "agent:carol": [carol]})
    poster, log = FakePoster(), MemoryLog()
    records = [record("MODIFY", conv_image(), conv_image(priority="high"), "e1", "1"),
               record("MODIFY", conv_image(priority="high"), conv_image(priority="high", assignee="bob"), "e2", "2"),
               record("INSERT", None, msg_image(), "e3", "3"),
               record("MODIFY", conv_image(priority="high", assignee="bob"),
                      conv_image(priority="high", assignee="carol"), "e4", "4")]
    batch = LiveBatch.of(records, log, connections, poster, lookup=lambda ids: pytest.fail("no lookup"))
    # When the batch is handled
    notices = [batch.handle(r) for r in records]
    # Then the conversation's three changes are one notice, at the first record, then the message's
    assert [(n.kind, n.cursor is not None) if n else None for n in notices] == [
        ("conversation", True), None, ("message", True), None]
    assert [e.event_id for e in log.entries] == ["e1", "e3"]
    # and bob, who held it only in between, hears of it with carol; alice (same team, never held it) does not
    # (no team connection is listed here)
    assert sorted(cid for cid, f in poster.frames if f["kind"] == "conversation") == ["B", "C"]


def test_a_batchs_notices_are_logged_in_one_write_before_the_first_is_posted_in_order():
    # Given a batch with a new conversation, its message and a second conversation
    log = MemoryLog()

    @dataclass
    class WatchingPoster(FakePoster):
        writes_at_post: list[int] = field(default_factory=list)

        def post(self, connection_id: str, data: bytes) -> bool:
            self.writes_at_post.append(len(log.writes))
            return super().post(connection_id, data)

    poster = WatchingPoster()
    records = [record("INSERT", None, conv_image(), "e1", "1"), record("INSERT", None, msg_image(), "e2", "2"),
               record("INSERT", None, conv_image(PK="CONV#c_2", id="c_2"), "e3", "3")]
    batch = LiveBatch.of(records, log, FakeConnections({"team:sales": [conn("A", "alice")]}), poster,
                         lookup=lambda ids: pytest.fail("no lookup"))
    # When it is handled
    notices = [batch.handle(r) for r in records]
    # Then the three are one write, made before any post, and their cursors follow the records' order
    assert log.writes == [["e1", "e2", "e3"]] and poster.writes_at_post == [1, 1, 1]
    positions = [decode_cursor(n.cursor)[0] for n in notices if n]
    assert len(positions) == 3 and positions == sorted(positions) and len(set(positions)) == 3


def test_a_change_whose_conversation_cannot_be_read_is_left_to_its_own_record_which_fails_alone():
    def lookup(ids: list[str]) -> dict[str, Visibility]:
        if "c_2" in ids:
            raise RuntimeError("throttled")
        return {"c_1": Visibility("sales", None)}

    log, poster = MemoryLog(), FakePoster()
    other = {"PK": "CONV#c_2", "conversation_id": "c_2"}
    records = [record("INSERT", None, conv_image(), "e1", "1"), record("INSERT", None, msg_image(**other), "e2", "2"),
               record("INSERT", None, msg_image(), "e3", "3")]
    batch = LiveBatch.of(records, log, FakeConnections({"team:sales": [conn("A", "alice")]}), poster, lookup)
    assert batch.handle(records[0]) is not None and log.writes == [["e1", "e3"]]
    with pytest.raises(RuntimeError):
        batch.handle(records[1])
    assert batch.handle(records[2]) is not None and log.writes == [["e1", "e3"]] and len(poster.frames) == 2


def test_a_failed_log_write_fails_its_record_unposted_and_the_next_record_logs_the_rest():
    log, poster = MemoryLog(broken=1), FakePoster()
    records = [record("INSERT", None, conv_image(), "e1", "1"), record("INSERT", None, msg_image(), "e2", "2"),
               record("INSERT", None, conv_image(PK="CONV#c_2", id="c_2"), "e3", "3")]
    batch = LiveBatch.of(records, log, FakeConnections({"team:sales": [conn("A", "alice")]}), poster,
                         lookup=lambda ids: pytest.fail("no lookup"))
    with pytest.raises(RuntimeError):
        batch.handle(records[0])
    assert poster.frames == []
    assert batch.handle(records[1]) is not None and batch.handle(records[2]) is not None
    assert log.writes == [["e2", "e3"]] and [f["conversation_id"] for _, f in poster.frames] == ["c_1", "c_2"]


def test_a_timeline_entry_written_with_its_conversations_change_gives_no_notice_of_its_own():
    # (the conversation's notice makes the app refetch all the entry's would, for everyone the entry's would reach)
    alice, bob = conn("A", "alice"), conn("B", "bob", ("billing",))
    connections = FakeConnections({"team:sales": [alice], "agent:bob": [bob]})
    poster, log = FakePoster(), MemoryLog()
    entry = {"SK": "MSG#2026-12-03T08:02:00.000Z#m_2", "id": "m_2", "direction": "system"}
    c2 = {"PK": "CONV#c_2", "conversation_id": "c_2"}
    records = [
        # c_1: taken from bob and given back to the team, with its timeline entry, and the customer's new message
        record("MODIFY", conv_image(assignee="bob"), conv_image(), "e1", "1"),
        record("INSERT", None, msg_image(**entry), "e2", "2"),
        record("INSERT", None, msg_image(direction="inbound", id="m_3", SK="MSG#2026-12-03T08:03:00.000Z#m_3"),
               "e3", "3"),
        # c_2: a timeline entry alone in the batch (its conversation's record in another): its own notice
        record("INSERT", None, msg_image(**entry, **c2), "e4", "4"),
    ]
    batch = LiveBatch.of(records, log, connections, poster, lookup=lambda ids: {"c_2": Visibility("sales", None)})
    notices = [batch.handle(r) for r in records]
    assert [(n.kind, n.conversation_id, n.message_id) if n else None for n in notices] == [
        ("conversation", "c_1", None), None, ("message", "c_1", "m_3"), ("message", "c_2", "m_2")]
    assert [e.event_id for e in log.entries] == ["e1", "e3", "e4"]
    # bob, who held c_1, hears of the change; the customer's message and c_2's entry reach the team
    assert sorted((cid, f["conversation_id"], f["kind"]) for cid, f in poster.frames) == [
        ("A", "c_1", "conversation"), ("A", "c_1", "message"), ("A", "c_2", "message"), ("B", "c_1", "conversation")]


def test_a_message_sent_then_receipted_in_one_batch_is_one_update_without_a_status():
    # A reply recorded as sent and its receipt in the same batch: one notice, and as more than the status
    # changed the app refetches the conversation rather than trusting a status alone
    alice = conn("A", "alice")
    sending = msg_image(status="queued")
    records = [record("MODIFY", sending, msg_image(status="sent", provider_id="SM1"), "e1", "1"),
               record("MODIFY", msg_image(status="sent", provider_id="SM1"),
                      msg_image(status="delivered", provider_id="SM1"), "e2", "2")]
    poster = FakePoster()
    batch = LiveBatch.of(records, MemoryLog(), FakeConnections({"agent:alice": [alice]}), poster,
                         lookup=lambda ids: {"c_1": Visibility("sales", "alice")})
    notices = [batch.handle(r) for r in records]
    assert notices[1] is None and notices[0] is not None
    assert notices[0].kind == "message_update" and notices[0].status is None
    assert [cid for cid, _ in poster.frames] == ["A"]


def test_a_message_update_goes_to_the_agents_holding_the_conversation_alone():
    # Given alice holds the conversation, bob was granted it, carol shares its team, root is an admin
    alice, bob, carol = conn("A", "alice"), conn("B", "bob", ("billing",)), conn("C", "carol")
    root = conn("R", "root", roles=("admins",))
    connections = FakeConnections({"team:sales": [alice, carol], "agent:alice": [alice], "agent:bob": [bob],
                                   "all": [root]})
    held = Visibility("sales", "alice", granted=frozenset({"bob"}))
    poster, log = FakePoster(), MemoryLog()
    inserted = record("INSERT", None, msg_image(), "e1", "1")
    delivered = record("MODIFY", msg_image(), msg_image(status="delivered"), "e2", "2")
    # When a new message and then (in a later batch) its delivery receipt reach the fan-out
    new = LiveBatch.of([inserted], log, connections, poster, lambda ids: {"c_1": held}).handle(inserted)
    update = LiveBatch.of([delivered], log, connections, poster, lambda ids: {"c_1": held}).handle(delivered)
    # Then everyone who may see the conversation hears of the message, only alice and bob of the receipt
    assert new is not None and update is not None and update.kind == "message_update"
    assert sorted(cid for cid, f in poster.frames if f["kind"] == "message") == ["A", "B", "C", "R"]
    assert sorted(cid for cid, f in poster.frames if f["kind"] == "message_update") == ["A", "B"]
    # and the log keeps who may read the update again in a catch-up
    assert log.stored["e2"].visible == (Visibility("", "alice", frozenset({"bob"})),)
    assert may_see_any(viewer("bob", ("billing",)), log.stored["e2"].visible)
    assert not may_see_any(viewer("carol"), log.stored["e2"].visible)
    assert not may_see_any(viewer("root", roles=("admins",)), log.stored["e2"].visible)


def test_a_message_update_of_a_conversation_nobody_holds_is_no_notice():
    poster, log = FakePoster(), MemoryLog()
    delivered = record("MODIFY", msg_image(), msg_image(status="delivered"), "e2")
    batch = LiveBatch.of([delivered], log, FakeConnections({"team:sales": [conn("C", "carol")]}), poster,
                         lambda ids: {"c_1": Visibility("sales", None)})
    assert batch.handle(delivered) is None and poster.frames == [] and log.stored == {}


def test_an_admin_hears_once_of_what_they_hold_and_of_their_own_mentions():
    root = conn("R", "root", roles=("admins",))
    assert root.audiences == ("all", "agent:root")
    connections = FakeConnections({"all": [root], "agent:root": [root]})
    poster = FakePoster()
    records = [record("INSERT", None, msg_image(), "e1", "1"),
               record("MODIFY", msg_image(), msg_image(status="delivered"), "e2", "2")]
    for rec in records:         # one batch each: in one they would be one notice
        batch = LiveBatch.of([rec], MemoryLog(), connections, poster, lambda ids: {"c_1": Visibility("sales", "root")})
        assert batch.handle(rec)
    assert [(cid, f["kind"]) for cid, f in poster.frames] == [("R", "message"), ("R", "message_update")]


@pytest.mark.parametrize("before,after,expected", [
    ({"status": "sent"}, {"status": "delivered"}, "delivered"),
    ({"status": "delivered"}, {"status": "read"}, "read"),
    ({"status": "sent"}, {"status": "read"}, "read"),
    ({"status": "queued"}, {"status": "sent"}, None),               # the send: its provider id and attempts too
    ({"status": "sent"}, {"status": "failed", "error": {"code": "30003"}}, None),
    ({"status": "sent"}, {"status": "delivered", "attachments": [{"storage_key": "k"}]}, None),
])
def test_a_providers_receipt_and_nothing_else_is_carried_by_the_notice(before, after, expected):
    from shopdesk.logic.live import receipt
    change = table_change(record("MODIFY", msg_image(**before), msg_image(**after)))
    assert change is not None and receipt(change) == expected


def test_a_receipt_reaches_the_holder_with_its_status_and_stays_in_the_log():
    alice = conn("A", "alice")
    poster, log = FakePoster(), MemoryLog()
    delivered = record("MODIFY", msg_image(), msg_image(status="delivered"), "e2")
    batch = LiveBatch.of([delivered], log, FakeConnections({"agent:alice": [alice]}), poster,
                         lambda ids: {"c_1": Visibility("sales", "alice")})
    notice = batch.handle(delivered)
    assert notice is not None and notice.status == "delivered" and log.stored["e2"].status == "delivered"
    assert poster.frames[0][1]["status"] == "delivered" and poster.frames[0][1]["kind"] == "message_update"


# ------------------------------------------------------------------------------ web-chat visitors' sockets

def visitor(cid: str, conversation: str = "c_1") -> Connection:
    return Connection(cid, "", (), (), (widget_audience(conversation),), clock.now_iso())


@pytest.mark.parametrize(("event", "old", "new", "moved"), [
    ("INSERT", None, msg_image(channel="webchat", direction="inbound"), True),             # the visitor's, elsewhere
    ("INSERT", None, msg_image(channel="webchat", direction="outbound", status="sent"), True),
    ("MODIFY", msg_image(channel="webchat", status="queued"), msg_image(channel="webchat", status="sent"), True),
    # what the widget does not list, or lists the same after it: nothing to look again for
    ("INSERT", None, msg_image(channel="webchat", direction="outbound", status="queued"), False),  # not let go yet
    ("MODIFY", msg_image(channel="webchat", status="queued"), msg_image(channel="webchat", status="failed"), False),
    ("MODIFY", msg_image(channel="webchat", direction="inbound", text="hi"),                      # understood
     msg_image(channel="webchat", direction="inbound", text="hi", language="en", sentiment="neutral"), False),
    ("MODIFY", msg_image(channel="webchat", status="sent", text="hi"),
     msg_image(channel="webchat", status="read", text="hi", provider_id="p_1"), False),
    # ... and what it lists changed: its text (an erase's anonymising), its files, its choices
    ("MODIFY", msg_image(channel="webchat", direction="inbound", text="hi"),
     msg_image(channel="webchat", direction="inbound", text="[erased]"), True),
    ("MODIFY", msg_image(channel="webchat", text="hi"),
     msg_image(channel="webchat", text="hi", attachments=[{"url": "https://x.example/a.png"}]), True),
    ("MODIFY", msg_image(channel="webchat", text="hi", payload={"choices": []}),
     msg_image(channel="webchat", text="hi", payload={"choices": [{"id": "yes"}]}), True),
    ("MODIFY", msg_image(channel="webchat", text="hi", payload={"bot": {"article": "a"}}),
     msg_image(channel="webchat", text="hi", payload={"bot": {"article": "b"}}), False),
    ("INSERT", None, msg_image(channel="webchat", direction="note"), False),                # never notes
    ("INSERT", None, msg_image(channel="webchat", direction="system"), False),
    ("INSERT", None, msg_image(channel="sms", direction="outbound"), False),                # not the widget's
    ("REMOVE", msg_image(channel="webchat"), None, False),
    ("MODIFY", conv_image(routes={"webchat": {}}), conv_image(routes={"webchat": {}}, status="resolved"), True),
    ("MODIFY", conv_image(routes={"webchat": {}}), conv_image(routes={"webchat": {}}, assignee="bob"), False),
    ("MODIFY", conv_image(routes={"sms": {}}), conv_image(routes={"sms": {}}, status="resolved"), False),
])
def test_what_a_web_chat_visitor_hears_of(event, old, new, moved):
    assert visitor_change(record(event, old, new)) == ("c_1" if moved else None)


def test_a_visitor_hears_changed_once_per_conversation_per_batch_and_nothing_else():
    alice, widget = conn("A", "alice"), visitor("V")
    connections = FakeConnections({"team:sales": [alice], "widget:c_1": [widget]})
    agents, visitors = FakePoster(), FakePoster()
    reply = {"SK": "MSG#2026-12-03T08:01:00.000Z#m_2", "id": "m_2", "channel": "webchat"}
    records = [record("INSERT", None, msg_image(channel="webchat", direction="inbound"), "e1", "1"),
               record("INSERT", None, msg_image(direction="outbound", **reply), "e2", "2"),
               record("INSERT", None, msg_image(direction="note", id="m_3", SK="MSG#3#m_3", channel="webchat"),
                      "e3", "3")]
    batch = LiveBatch.of(records, MemoryLog(), connections, agents, lambda ids: {"c_1": Visibility("sales", None)},
                         visitors)
    for rec in records:
        batch.handle(rec)
    assert visitors.frames == [("V", {"type": "changed"})] and batch.visitor_frames == 1
    assert [cid for cid, _ in agents.frames] == ["A", "A", "A"]       # the agents' notices as before
    assert all(cid != "V" for cid, _ in agents.frames)
    assert connections.queries.count("widget:c_1") == 1


def test_a_visitor_post_that_fails_fails_nothing_and_a_gone_visitor_socket_is_removed():
    connections = FakeConnections({"widget:c_1": [visitor("V"), visitor("G")]})
    # a socket reported gone long after it opened is removed; a throttled post is logged, and the record still done
    old = Connection("G", "", (), (), ("widget:c_1",), clock.iso(clock.now() - timedelta(minutes=5)))
    connections.by_audience["widget:c_1"][1] = old
    rec = record("INSERT", None, msg_image(channel="webchat", direction="outbound"), "e1")
    batch = LiveBatch.of([rec], MemoryLog(), connections, FakePoster(), lambda ids: {}, FakePoster(gone={"G"}))
    batch.handle(rec)
    assert connections.removed == ["G"] and batch.visitor_frames == 1
    broken = LiveBatch.of([rec], MemoryLog(), connections, FakePoster(), lambda ids: {}, FakePoster(broken={"V"}))
    assert broken.handle(rec) is None and broken.visitor_frames == 0      # no agent may see c_1: no notice either


def test_without_the_widget_api_no_visitor_is_looked_for():
    connections = FakeConnections({})
    rec = record("INSERT", None, msg_image(channel="webchat", direction="inbound"), "e1")
    LiveBatch.of([rec], MemoryLog(), connections, FakePoster(), lambda ids: {}).handle(rec)
    assert connections.queries == []
