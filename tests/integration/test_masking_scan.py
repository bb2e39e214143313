"""The masking scan beyond the commerce cache (``python -m scripts.backfill masking``, and the privacy job a save of
new masking patterns starts): customers' messages, notes, conversations' previews, customers' names and identities
stored before a shop pattern are masked with it, page by page, each field written only where masking changes it and
only while it holds what was read; the search index follows through the table's stream."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from scripts import backfill

from shopdesk.dal.table import serialize
from shopdesk.dal.texts import StoredTexts
from shopdesk.privacy import remask
from tests.integration.helpers import agent
from tests.integration.test_live import Stream
from tests.integration.test_privacy import admin, scan
from tests.integration.test_search import _telegram_from, ids, index, search
from tests.support import FakeContext

BSN = "BSN 123456782"                       # the shop's own pattern, added after these were stored; kept: 6782
MASKED = "[BSN •••• 6782]"
PATTERN = {"masking_patterns": [{"name": "BSN", "pattern": r"BSN:?\s?\d{9}"}]}


@pytest.fixture
def indexed_desk(desk, tmp_path: Path):
    """The desk with the SQLite search engine: the indexer and the agent API share one index file."""
    desk.env.update({"SEARCH_ENGINE": "sqlite", "SEARCH_INDEX_PATH": str(tmp_path / "search.sqlite3")})
    return desk


def _run(desk: Any, capsys: Any, *extra: str) -> str:
    assert backfill.main(["masking", "--table", desk.table_name, "--endpoint-url", desk.endpoint,
                          "--region", "us-east-1", *extra]) == 0
    return capsys.readouterr().out


def _stored_before_the_pattern(desk: Any, chat: int) -> str:
    """A Telegram customer named with a BSN who wrote one, and an agent's note quoting it, all stored and indexed
    before the shop's pattern existed; the conversation's id."""
    _telegram_from(desk, chat, "Ann", BSN, f"My {BSN} is on the form, where is my teapot?")
    [identity] = [i for i in scan(desk) if i["PK"] == f"IDENTITY#telegram#{chat}"]
    conv = identity["open_conversation_id"]
    assert agent(desk, "POST", f"/agent/conversations/{conv}/notes", "admin", {"text": f"Checked {BSN}"},
                 groups="[admins]")[0] == 201
    return conv


def _ours(desk: Any, conv: str, chat: int) -> dict[tuple[str, str], dict[str, Any]]:
    meta = desk.item(f"CONV#{conv}")
    customer = meta["customer"]["id"]
    return {(i["PK"], i["SK"]): i for i in scan(desk)
            if i["PK"] in (f"CONV#{conv}", f"CUSTOMER#{customer}", f"IDENTITY#telegram#{chat}")}


def _texts(items: dict[tuple[str, str], dict[str, Any]]) -> str:
    return repr(list(items.values()))


def test_messages_notes_previews_and_names_stored_before_a_pattern_are_masked_once_and_unfound(indexed_desk, capsys,
                                                                                                 monkeypatch):
    desk = indexed_desk
    stream = Stream(desk)
    # Given a customer's message, their name and an agent's note holding a BSN, stored and indexed before the shop
    # added its BSN pattern: search finds them by it
    conv = _stored_before_the_pattern(desk, 7392001)
    assert index(desk, stream.read()) == {"batchItemFailures": []}
    assert ids(search(desk, "admin", "123456782")[1]) == {conv}
    status, saved = admin(desk, "PUT", "/admin/privacy/settings", PATTERN)
    assert status == 200, saved
    before = _ours(desk, conv, 7392001)
    assert "123456782" in _texts(before)
    monkeypatch.setattr(remask, "PAGE", 3)           # the walk takes many pages: the table is never read at once

    # When an operator counts first (a dry run), nothing is written
    out = _run(desk, capsys, "--dry-run")
    assert "masking: messages: 1 read, would write 1 masked" in out, out
    assert "masking: notes: 1 read, would write 1 masked" in out
    assert _ours(desk, conv, 7392001) == before

    # When the scan runs
    out = _run(desk, capsys)
    # Then it says what it read and wrote, per kind
    for kind in ("messages", "notes", "conversations", "customers", "identities"):
        assert f"masking: {kind}: 1 read, wrote 1 masked" in out, out
    # and the customer's message, the note, the preview and every copy of the name hold the BSN masked, last four kept
    after = _ours(desk, conv, 7392001)
    assert "123456782" not in _texts(after)
    [message] = [i for i in after.values() if i.get("direction") == "inbound"]
    assert message["text"] == f"My {MASKED} is on the form, where is my teapot?" and message["masked"] == ["BSN"]
    assert message["payload"] == before[(message["PK"], message["SK"])]["payload"]     # ids kept as they were
    [note] = [i for i in after.values() if i.get("direction") == "note"]
    assert note["text"] == f"Checked {MASKED}" and note["masked"] == ["BSN"]
    meta = after[(f"CONV#{conv}", "META")]
    assert meta["last_message_preview"].startswith(f"My {MASKED} is on")
    assert meta["customer"]["name"] == f"Ann {MASKED}"
    assert after[(f"CUSTOMER#{meta['customer']['id']}", "META")]["name"] == f"Ann {MASKED}"
    assert after[("IDENTITY#telegram#7392001", "META")]["customer_name"] == f"Ann {MASKED}"
    # and only the masked fields changed (its place in lists, its status, its expiry as they were)
    assert {k: v for k, v in meta.items() if k not in ("last_message_preview", "customer")} == {
        k: v for k, v in before[(f"CONV#{conv}", "META")].items() if k not in ("last_message_preview", "customer")}

    # And the indexer, reading the scan's writes from the stream, drops the BSN: it finds the conversation by
    # its other words and the customer by their name, never by the number
    assert index(desk, stream.read()) == {"batchItemFailures": []}
    assert search(desk, "admin", "123456782")[1] == {"conversations": [], "customers": []}
    assert ids(search(desk, "admin", "teapot")[1]) == {conv}
    assert [c["name"] for c in search(desk, "admin", "ann")[1]["customers"]] == [f"Ann {MASKED}"]

    # When it runs again, it writes nothing
    out = _run(desk, capsys)
    for kind in remask.KINDS:
        assert "wrote 0 masked" in out.split(f"masking: {kind.replace('_', ' ')}: ")[1].splitlines()[0], out
    assert _ours(desk, conv, 7392001) == after


def test_a_write_made_while_the_scan_reads_wins_and_is_read_again_by_the_next_run(desk, capsys, monkeypatch):
    # Given a customer's message stored before the pattern
    conv = _stored_before_the_pattern(desk, 7392002)
    assert admin(desk, "PUT", "/admin/privacy/settings", PATTERN)[0] == 200
    [message] = [i for i in _ours(desk, conv, 7392002).values() if i.get("direction") == "inbound"]
    edited = f"Sorry, it is {BSN} on the new form"
    replace = StoredTexts.replace

    def edited_meanwhile(self: StoredTexts, item: Any, changes: Any, also: Any = None) -> None:
        if item["SK"] == message["SK"] and "text" in changes:     # the customer edits it after the scan read it
            desk.client("dynamodb").update_item(
                TableName=desk.table_name, Key={"PK": {"S": message["PK"]}, "SK": {"S": message["SK"]}},
                UpdateExpression="SET #t = :t", ExpressionAttributeNames={"#t": "text"},
                ExpressionAttributeValues={":t": {"S": edited}})
        replace(self, item, changes, also)

    monkeypatch.setattr(StoredTexts, "replace", edited_meanwhile)
    # When the scan runs
    out = _run(desk, capsys)
    # Then that write is not overwritten: the message holds the words it wrote, and the scan says it was left
    assert "masking: messages: 1 read, wrote 0 masked" in out and "1 changed meanwhile" in out, out
    assert desk.item(message["PK"], message["SK"])["text"] == edited
    # And the next run reads it again and masks what it holds now
    monkeypatch.setattr(StoredTexts, "replace", replace)
    assert "masking: messages: 1 read, wrote 1 masked" in _run(desk, capsys)
    assert desk.item(message["PK"], message["SK"])["text"] == f"Sorry, it is {MASKED} on the new form"


def test_a_save_that_adds_a_pattern_starts_the_masking_job_which_goes_on_until_done(desk, monkeypatch):
    # Given a customer's message and a note stored before the pattern
    conv = _stored_before_the_pattern(desk, 7392003)
    # When an admin adds the pattern, and the job's invocations each have time for one page of the Scan
    monkeypatch.setattr(remask, "PAGE", 5)
    monkeypatch.setattr(FakeContext, "get_remaining_time_in_millis", staticmethod(lambda: 0))
    status, saved = admin(desk, "PUT", "/admin/privacy/settings", PATTERN)
    # Then the answer names the job masking what is stored, which goes on over several invocations until done
    assert status == 200 and saved["masking_job_id"] and saved.get("retention_job_id") is None, saved
    job = saved["masking_job_id"]
    assert admin(desk, "GET", f"/admin/privacy/jobs/{job}")[1]["status"] == "running"
    assert desk.drain_queue(desk.env["PRIVACY_QUEUE_URL"], "privacy") >= 2
    done = admin(desk, "GET", f"/admin/privacy/jobs/{job}")[1]
    assert done["status"] == "done" and done["kind"] == "masking", done
    assert done["counts"]["messages_masked"] == 1 and done["counts"]["notes_masked"] == 1, done
    assert "123456782" not in _texts(_ours(desk, conv, 7392003))
    # and the audit trail says so; a second pass is due once writers holding the old patterns have read the new
    [applied] = [r for r in admin(desk, "GET", "/admin/audit", query="actor=system:privacy")[1]["items"]
                 if r["action"] == "masking.applied"]
    assert applied["details"]["requested_by"] == "root" and applied["details"]["patterns"] == ["BSN"]
    assert desk.item(f"PRIVACYJOB#{job}", "DEADLINE#masking_settle") is not None
    # And a save that only takes a pattern away, or keeps them as they are, starts none
    for body in (PATTERN, {"masking_patterns": []}):
        status, again = admin(desk, "PUT", "/admin/privacy/settings", body)
        assert status == 200 and again.get("masking_job_id") is None, again


def test_make_remask_reaches_the_local_stack_on_a_machine_without_aws_credentials(desk, capsys, monkeypatch):
    # Given the local stack's endpoint (GET /_local/aws) and a machine with no AWS credentials at all
    monkeypatch.setattr(backfill, "_local_aws", lambda: (desk.endpoint, "us-east-1"))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    # When make remask runs (--local), the scan reads the stack's table
    assert backfill.main(["masking", "--local", "--table", desk.table_name]) == 0
    assert "masking: messages: 0 read, wrote 0 masked" in capsys.readouterr().out


def test_what_writers_still_holding_the_old_patterns_store_after_the_save_is_masked_by_a_second_pass(desk):
    from shopdesk import clock

    # Given a customer who wrote before the pattern (the Telegram function holds the settings it read, for five
    # minutes), and the save's job done
    conv = _stored_before_the_pattern(desk, 7392004)
    status, saved = admin(desk, "PUT", "/admin/privacy/settings", PATTERN)
    assert status == 200 and saved["masking_job_id"]
    desk.drain_queue(desk.env["PRIVACY_QUEUE_URL"], "privacy")
    assert "123456782" not in _texts(_ours(desk, conv, 7392004))
    # When a function that still holds the patterns it read before the save stores the customer's next message
    # (as it was stored before the pattern: unmasked)
    from shopdesk.dal.table import serialize
    [first] = [i for i in _ours(desk, conv, 7392004).values() if i.get("direction") == "inbound"]
    late = {**first, "SK": first["SK"].replace(first["id"], "m_late"), "id": "m_late",
            "text": f"Also my partner's {BSN}", "masked": None}
    desk.client("dynamodb").put_item(TableName=desk.table_name,
                                     Item=serialize({k: v for k, v in late.items() if v is not None}))
    assert "123456782" in _texts(_ours(desk, conv, 7392004))
    # Then, once every writer has read the patterns again, the sweep starts a second pass that masks it too
    clock.set_offset(6 * 60)
    desk.invoke("sla_sweep", {})
    desk.drain_queue(desk.env["PRIVACY_QUEUE_URL"], "privacy")
    assert "123456782" not in _texts(_ours(desk, conv, 7392004))
    [second] = [r for r in admin(desk, "GET", "/admin/audit", query="actor=system:masking")[1]["items"]
                if r["action"] == "masking.applied" and r["details"].get("settles")]
    assert second["details"]["settles"] == saved["masking_job_id"]
    assert second["details"]["requested_by"] == "system:masking" and second["details"]["messages_masked"] == 1


def _mailed_before_the_pattern(desk: Any) -> str:
    """An email customer named with a BSN whose subject holds one, acknowledged and answered by an agent, all stored
    and indexed before the shop's pattern existed; the conversation's id."""
    from tests.integration.test_admin_api import admin_call
    from tests.integration.test_email import _deliver, _eml

    assert admin_call(desk, "PUT", "/admin/routing", "[admins]", {"acknowledgements": True})[0] == 200
    _deliver(desk, _eml(sender=f"Jan {BSN} <jan@customer.example>", subject=f"About {BSN}",
                        body="Where is my teapot?\n", message_id="<bsn1@customer.example>"), "bsn1")
    desk.drain_queue(desk.work_queue_url, "router")
    [conv] = {i["PK"].removeprefix("CONV#") for i in scan(desk) if i.get("type") == "conversation"}
    status, reply = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "admin",
                          {"text": "It left our warehouse today."}, groups="[admins]")
    assert status == 202 and reply["subject"] == f"Re: About {BSN}", reply
    return conv


def test_the_email_route_and_what_the_desk_wrote_from_the_customers_words_are_masked_once_and_unfound(
        indexed_desk, capsys):
    desk = indexed_desk
    stream = Stream(desk)
    client = desk.client("dynamodb")
    # Given an email conversation stored before the pattern: the route replies are threaded with keeps the mail's
    # subject (and, on an item written before routes were kept per channel, its copy in route), the automatic
    # acknowledgement greets the customer by name under that subject, and an agent's reply went under it
    conv = _mailed_before_the_pattern(desk)
    meta = desk.item(f"CONV#{conv}")
    assert meta["routes"]["email"]["context"]["subject"] == f"About {BSN}"
    client.update_item(TableName=desk.table_name, Key={"PK": {"S": f"CONV#{conv}"}, "SK": {"S": "META"}},
                       UpdateExpression="SET #r = :r, #b = :b", ExpressionAttributeNames={"#r": "route", "#b": "bot"},
                       ExpressionAttributeValues={":r": {"M": serialize(meta["routes"]["email"])},
                                                  ":b": {"M": serialize({"state": "answering",
                                                                         "question": f"Is {BSN} enough?"})}})
    [ack] = [i for i in scan(desk) if i.get("kind") == "acknowledgement"]
    assert ack["text"].startswith(f"Hi Jan {BSN}") and ack["subject"] == f"Re: About {BSN}", ack
    # the bot's answer and the survey's follow-up are written from the customer's words as the acknowledgement is
    for kind, text in (("bot", f"Your {BSN} is on file."), ("csat_follow_up", f"Thanks, Jan {BSN}!")):
        client.put_item(TableName=desk.table_name, Item=serialize({
            **ack, "SK": ack["SK"].replace(ack["id"], f"m_{kind}"), "id": f"m_{kind}", "kind": kind, "text": text}))
    # each of them sent (the scan leaves one still being sent to a later run)
    for item in scan(desk):
        if item["PK"] == f"CONV#{conv}" and item.get("direction") == "outbound":
            client.update_item(TableName=desk.table_name, Key={"PK": {"S": item["PK"]}, "SK": {"S": item["SK"]}},
                               UpdateExpression="SET provider_id = :p, #s = :s",
                               ExpressionAttributeNames={"#s": "status"},
                               ExpressionAttributeValues={":p": {"S": f"sent-{item['id']}"}, ":s": {"S": "sent"}})
    assert index(desk, stream.read()) == {"batchItemFailures": []}
    assert ids(search(desk, "admin", "123456782")[1]) == {conv}
    assert admin(desk, "PUT", "/admin/privacy/settings", PATTERN)[0] == 200

    # When the scan runs
    out = _run(desk, capsys)
    # Then nothing under the conversation holds the BSN: the route's subject (both copies), the bot's record of the
    # question, the acknowledgement's greeting and subject, the bot's and the survey's texts, the reply's subject
    assert "masking: conversations: 1 read, wrote 1 masked" in out, out
    after = {(i["PK"], i["SK"]): i for i in scan(desk) if i["PK"] == f"CONV#{conv}"}
    assert "123456782" not in repr(list(after.values())), [i for i in after.values() if "123456782" in repr(i)]
    meta = after[(f"CONV#{conv}", "META")]
    assert meta["routes"]["email"]["context"]["subject"] == f"About {MASKED}"
    assert meta["route"]["context"]["subject"] == f"About {MASKED}"
    assert meta["bot"]["question"] == f"Is {MASKED} enough?"
    # (what threads the answers stays: the mail's ids)
    assert meta["routes"]["email"]["context"]["message_id"] == "bsn1@customer.example"
    ack = after[(ack["PK"], ack["SK"])]
    assert ack["text"].startswith(f"Hi Jan {MASKED}") and ack["subject"] == f"Re: About {MASKED}"
    assert ack["masked"] == ["BSN"]
    by_kind = {i.get("kind"): i for i in after.values() if i.get("direction") == "outbound"}
    assert by_kind["bot"]["text"] == f"Your {MASKED} is on file."
    assert by_kind["csat_follow_up"]["text"] == f"Thanks, Jan {MASKED}!"
    # and the agent's reply keeps what the agent wrote (stored as sent); its subject, the customer's, is masked
    [reply] = [i for i in after.values() if i.get("author") == "admin"]
    assert reply["text"] == "It left our warehouse today." and reply["subject"] == f"Re: About {MASKED}"
    # And the indexer, reading the scan's writes, no longer finds the conversation by the BSN
    assert index(desk, stream.read()) == {"batchItemFailures": []}
    assert search(desk, "admin", "123456782")[1] == {"conversations": [], "customers": []}
    assert ids(search(desk, "admin", "teapot")[1]) == {conv}
    # And the next reply goes out under the masked subject
    status, later = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "admin", {"text": "Shipped."},
                          groups="[admins]")
    assert status == 202 and later["subject"] == f"Re: About {MASKED}", later

    # When it runs again, it writes nothing
    before = {(i["PK"], i["SK"]): i for i in scan(desk) if i["PK"] == f"CONV#{conv}"}
    out = _run(desk, capsys)
    for kind in remask.KINDS:
        assert "wrote 0 masked" in out.split(f"masking: {kind.replace('_', ' ')}: ")[1].splitlines()[0], out
    assert {(i["PK"], i["SK"]): i for i in scan(desk) if i["PK"] == f"CONV#{conv}"} == before
