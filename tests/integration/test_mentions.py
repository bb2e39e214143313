"""@name in a note: the mention items, the mentions view and its unread count, read access for another team's
agent, marking read, and the personal live notice."""

from __future__ import annotations

from tests.integration.helpers import agent, customer_writes, online
from tests.integration.test_admin_api import admin_call
from tests.integration.test_live import Stream, changes, connect, endpoint, fan_out, logged  # noqa: F401


def _counts(desk, who: str) -> dict[str, int]:
    status, body = agent(desk, "GET", "/agent/conversations/counts", who)
    assert status == 200, body
    return body["views"]


def _mentions(desk, who: str, query: str = "") -> list[dict]:
    status, body = agent(desk, "GET", "/agent/conversations", who, query="view=mentions" + query)
    assert status == 200, body
    return body["items"]


def _shop(desk) -> str:
    """alice (team default) holds a conversation; carol is in team billing; bob in default, named "Bob Stone"."""
    assert admin_call(desk, "PUT", "/admin/teams/billing", "[admins]", {"id": "billing", "name": "Billing"})[0] == 200
    online(desk, "alice", "bob", "carol")
    assert admin_call(desk, "PUT", "/admin/agents/carol", "[admins]",
                      {"name": "Carol Diaz", "capacity": 3, "teams": ["billing"]})[0] == 200
    assert admin_call(desk, "PUT", "/admin/agents/bob", "[admins]",
                      {"name": "Bob Stone", "capacity": 3, "teams": ["default"]})[0] == 200
    conv = customer_writes(desk, "+31650001001", "My refund never came", "SMmen1")
    desk.drain_queue(desk.work_queue_url, "router")
    return conv


def test_a_mention_of_another_teams_agent_lists_counts_and_gives_read_access(desk):
    conv = _shop(desk)
    # Given carol (team billing) cannot see alice's conversation
    assert agent(desk, "GET", f"/agent/conversations/{conv}", "carol")[0] == 404
    assert _counts(desk, "carol")["mentions"] == 0
    # When alice mentions her by display name in a note
    status, note = agent(desk, "POST", f"/agent/conversations/{conv}/notes", "alice",
                         {"text": "@carol diaz can you check the refund? thanks"})
    assert status == 201, note
    # Then carol has one unread mention, the conversation in her mentions view, and read access
    assert _counts(desk, "carol")["mentions"] == 1
    [item] = _mentions(desk, "carol")
    assert item["id"] == conv and item["mention"]["unread"] == 1 and item["mention"]["by"] == "alice"
    assert item["mention"]["message_id"] == note["id"]
    assert "carol" in desk.item(f"CONV#{conv}")["granted"]
    assert desk.item(f"CONV#{conv}", "GRANT#carol")["agent_id"] == "carol"
    # When she opens it, the mention is read: the badge goes to 0, the view keeps it, marked read
    status, opened = agent(desk, "GET", f"/agent/conversations/{conv}", "carol")
    assert status == 200 and opened["id"] == conv
    assert _counts(desk, "carol")["mentions"] == 0
    assert _mentions(desk, "carol")[0]["mention"]["unread"] == 0
    # And nobody else was notified (alice named no one else; bob has nothing)
    assert _mentions(desk, "bob") == [] and _mentions(desk, "alice") == []


def test_mentions_by_id_repeat_newest_first_and_an_explicit_read(desk):
    conv = _shop(desk)
    other = customer_writes(desk, "+31650001002", "Wrong size", "SMmen2")
    desk.drain_queue(desk.work_queue_url, "router")
    # Given bob mentioned twice in one conversation (by id, then by name) and once in another
    for text in ("@bob please look", "@Bob Stone again"):
        assert agent(desk, "POST", f"/agent/conversations/{conv}/notes", "alice", {"text": text})[0] == 201
    assert agent(desk, "POST", f"/agent/conversations/{other}/notes", "alice", {"text": "(@bob) here too"})[0] == 201
    # Then his view lists both conversations, newest mention first, with their counts
    items = _mentions(desk, "bob")
    assert [i["id"] for i in items] == [other, conv]
    assert [(i["mention"]["count"], i["mention"]["unread"]) for i in items] == [(1, 1), (2, 2)]
    assert _counts(desk, "bob")["mentions"] == 2
    # And paging goes through them one by one
    _, page = agent(desk, "GET", "/agent/conversations", "bob", query="view=mentions&limit=1")
    assert [i["id"] for i in page["items"]] == [other] and page["next_cursor"]
    _, page = agent(desk, "GET", "/agent/conversations", "bob",
                         query=f"view=mentions&limit=1&cursor={page['next_cursor']}")
    assert [i["id"] for i in page["items"]] == [conv]
    # When he marks one read explicitly
    assert agent(desk, "POST", f"/agent/conversations/{conv}/mentions/read", "bob")[0] == 204
    assert _counts(desk, "bob")["mentions"] == 1
    assert {i["id"]: i["mention"]["unread"] for i in _mentions(desk, "bob")} == {other: 1, conv: 0}


def test_addresses_unknown_names_and_oneself_notify_nobody(desk):
    conv = _shop(desk)
    text = "mail bob@example.com or @nobody; @alice is me"
    status, note = agent(desk, "POST", f"/agent/conversations/{conv}/notes", "alice", {"text": text})
    assert status == 201 and note["text"] == text
    assert _counts(desk, "bob")["mentions"] == 0 and _counts(desk, "alice")["mentions"] == 0
    assert desk.item(f"CONV#{conv}").get("mentions_unread") is None


def test_a_name_two_agents_share_is_refused_and_nothing_is_stored(desk):
    conv = _shop(desk)
    online(desk, "dave")
    assert admin_call(desk, "PUT", "/admin/agents/dave", "[admins]",
                      {"name": "Bob Stone", "capacity": 3, "teams": ["default"]})[0] == 200
    before = len(agent(desk, "GET", f"/agent/conversations/{conv}", "alice")[1]["messages"])
    status, problem = agent(desk, "POST", f"/agent/conversations/{conv}/notes", "alice", {"text": "@Bob Stone hi"})
    assert status == 400 and "bob, dave" in problem["detail"], problem
    assert len(agent(desk, "GET", f"/agent/conversations/{conv}", "alice")[1]["messages"]) == before
    # the id settles it
    assert agent(desk, "POST", f"/agent/conversations/{conv}/notes", "alice", {"text": "@dave hi"})[0] == 201
    assert _counts(desk, "dave")["mentions"] == 1


def test_a_mention_newer_than_what_was_opened_stays_unread(desk):
    conv = _shop(desk)
    agent(desk, "POST", f"/agent/conversations/{conv}/notes", "alice", {"text": "@bob first"})
    _, shown = agent(desk, "GET", f"/agent/conversations/{conv}", "alice")        # alice's own view: no effect
    assert _counts(desk, "bob")["mentions"] == 1
    # Given the mention bob was shown is not the latest one (a newer came in between read and mark)
    from shopdesk.dal.mentions import Mentions
    from shopdesk.dal.table import Table
    mentions = Mentions(Table(desk.table_name))
    agent(desk, "POST", f"/agent/conversations/{conv}/notes", "alice", {"text": "@bob second"})
    first = next(m for m in shown["messages"] if m["text"] == "@bob first")["id"]
    # Then marking the first as seen changes nothing
    assert mentions.mark_read(conv, "bob", first) is False
    assert _counts(desk, "bob")["mentions"] == 1


def test_a_mention_is_a_notice_for_the_mentioned_agent_alone(desk, endpoint):  # noqa: F811
    conv = _shop(desk)
    connect(desk, endpoint, "A", "alice")
    connect(desk, endpoint, "C", "carol")
    connect(desk, endpoint, "R", "root", roles="admins")
    stream = Stream(desk)
    stream.read()                                   # what happened before
    # When alice mentions carol
    agent(desk, "POST", f"/agent/conversations/{conv}/notes", "alice", {"text": "@carol refund?"})
    assert fan_out(desk, endpoint, stream.read()) == {"batchItemFailures": []}
    # Then carol gets a mention notice and the note's message notice (she was granted the conversation)
    kinds = {f["kind"] for f in endpoint.to("C")}
    assert kinds == {"mention", "message"}, endpoint.to("C")
    # and alice and the admin the message notice, not the mention
    for connection in ("A", "R"):
        assert {f["kind"] for f in endpoint.to(connection)} == {"message"}
    # And the catch-up gives the mention to carol alone
    mention = next(f for f in endpoint.to("C") if f["kind"] == "mention")
    assert mention["conversation_id"] == conv
    cursor = endpoint.to("C")[0]["cursor"]
    assert "mention" in {i["kind"] for i in changes(desk, "carol", f"since={cursor}")[1]["items"]}
    assert "mention" not in {i["kind"] for i in changes(desk, "alice", f"since={cursor}")[1]["items"]}
    assert "mention" not in {i["kind"] for i in changes(desk, "root", f"since={cursor}", groups="[admins]")[1]["items"]}
    assert any(e["kind"] == "mention" and e["visible"] == [{"team": "", "assignee": "carol"}] for e in logged(desk))


def test_grants_and_mentions_expire_with_a_resolved_conversation_and_stop_expiring_when_it_reopens(desk):
    # Given closed conversations kept 14 days, and carol (another team) mentioned: a mention and a grant
    assert admin_call(desk, "PUT", "/admin/privacy/settings", "[admins]",
                      {"retention": {"closed_conversations_days": 14}})[0] == 200
    conv = _shop(desk)
    stream = Stream(desk)
    assert agent(desk, "POST", f"/agent/conversations/{conv}/notes", "alice", {"text": "@carol diaz refund?"})[0] == 201
    kept = ["MENTION#carol", "GRANT#carol"]
    assert desk.invoke("label_indexer", stream.read()) == {"batchItemFailures": []}
    assert [desk.item(f"CONV#{conv}", sk).get("ttl") for sk in kept] == [None, None]
    # When it is resolved and the stream is read
    assert agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "resolved"})[0] == 200
    assert desk.invoke("label_indexer", stream.read()) == {"batchItemFailures": []}
    # Then they expire when it does
    expires = desk.item(f"CONV#{conv}")["ttl"]
    assert expires and [desk.item(f"CONV#{conv}", sk)["ttl"] for sk in kept] == [expires, expires]
    # and a mention made after the resolve expires with it too
    online(desk, "dave")
    assert admin_call(desk, "PUT", "/admin/agents/dave", "[admins]",
                      {"name": "Dave Ode", "capacity": 3, "teams": ["billing"]})[0] == 200
    assert agent(desk, "POST", f"/agent/conversations/{conv}/notes", "alice", {"text": "@dave ode fyi"})[0] == 201
    assert desk.invoke("label_indexer", stream.read()) == {"batchItemFailures": []}
    assert desk.item(f"CONV#{conv}", "MENTION#dave")["ttl"] == desk.item(f"CONV#{conv}")["ttl"]
    # And when it reopens, none of them expires
    assert agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "open"})[0] == 200
    assert desk.invoke("label_indexer", stream.read()) == {"batchItemFailures": []}
    assert desk.item(f"CONV#{conv}").get("ttl") is None
    assert [desk.item(f"CONV#{conv}", sk).get("ttl") for sk in [*kept, "MENTION#dave", "GRANT#dave"]] == [None] * 4
