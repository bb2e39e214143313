"""A customer's unsend and edit through the real webhooks (Messenger, Instagram, Telegram Business): the message they
name changes, not only the timeline. An unsent message keeps no words or files (table, bucket, agent API, search
index), an edited one keeps its first words and shows its new ones; the timeline entries stay."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from shopdesk.channels import meta
from shopdesk.dal.conversations import Conversations
from shopdesk.dal.media import MediaStore
from shopdesk.dal.table import Table, deserialize
from shopdesk.logic.media import MediaCopier, url_fetcher
from tests.integration.helpers import agent
from tests.integration.test_live import Stream
from tests.support import LoopbackServer, http_event

WHO = {"sender": {"id": "5678"}, "recipient": {"id": "1234567890"}}
T0 = 1_767_225_600_000          # Messenger's timestamps are milliseconds
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PATHS = {"messenger": ("inbound_messenger", "/webhooks/messenger"),
         "instagram": ("inbound_instagram", "/webhooks/instagram")}
CHAT = {"id": 3527065, "first_name": "Nic", "type": "private"}


class Cdn(LoopbackServer):
    """Meta's CDN on loopback: every path is a small JPEG."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", str(len(JPEG)))
                self.end_headers()
                self.wfile.write(JPEG)

            def log_message(self, *args: Any) -> None:
                pass

        self.serve(Handler)


@pytest.fixture
def cdn():
    server = Cdn()
    yield server
    server.close()


@pytest.fixture
def search_desk(desk, tmp_path: Path):
    """The desk with the SQLite search engine: the indexer and the agent API share one index file."""
    desk.env.update({"SEARCH_ENGINE": "sqlite", "SEARCH_INDEX_PATH": str(tmp_path / "search.sqlite3")})
    return desk


def _meta(desk: Any, provider: str, *events: dict[str, Any]) -> dict[str, Any]:
    raw = json.dumps({"object": "instagram" if provider == "instagram" else "page",
                      "entry": [{"id": "1234567890", "time": 1, "messaging": list(events)}]}).encode()
    function, path = PATHS[provider]
    headers = {"content-type": "application/json", "x-hub-signature-256": meta.sign(raw, "test_app_secret")}
    answer = desk.invoke(function, http_event("POST", path, raw.decode(), headers))
    assert answer["statusCode"] == 200, answer
    return json.loads(answer["body"])


def _telegram(desk: Any, update: dict[str, Any]) -> None:
    headers = {"content-type": "application/json", "x-telegram-bot-api-secret-token": "test_secret_token-1"}
    assert desk.invoke("inbound_telegram", http_event("POST", "/webhooks/telegram", json.dumps(update),
                                                      headers))["statusCode"] == 200


def _partition(desk: Any, conv: str) -> list[dict[str, Any]]:
    ddb = desk.client("dynamodb")
    pages = ddb.get_paginator("query").paginate(TableName=desk.table_name, KeyConditionExpression="PK = :pk",
                                                ExpressionAttributeValues={":pk": {"S": f"CONV#{conv}"}},
                                                ConsistentRead=True)
    return [deserialize(i) for page in pages for i in page["Items"]]


def _by_provider_id(desk: Any, conv: str, provider_id: str) -> dict[str, Any]:
    [item] = [i for i in _partition(desk, conv) if i.get("provider_id") == provider_id]
    return item


def _timeline(desk: Any, conv: str) -> list[dict[str, Any]]:
    status, body = agent(desk, "GET", f"/agent/conversations/{conv}", "alice")
    assert status == 200, body
    return body["messages"]


def _search(desk: Any, words: str) -> set[str]:
    status, answer = agent(desk, "GET", "/agent/search", "alice", query=f"q={words}")
    assert status == 200, answer
    return {c["id"] for c in answer["conversations"]}


def _file_exists(desk: Any, key: str) -> bool:
    s3 = desk.client("s3")
    return s3.list_objects_v2(Bucket=desk.env["MEDIA_BUCKET"], Prefix=key).get("KeyCount", 0) > 0


@pytest.mark.parametrize("provider", ["messenger", "instagram"])
def test_an_unsent_message_keeps_no_words_or_files_and_the_timeline_still_says_it_was_unsent(desk, cdn, provider):
    # Given a customer who wrote their address, then a photo of their card with a caption, stored by the router
    _meta(desk, provider,
          {**WHO, "timestamp": T0, "message": {"mid": "m_words", "text": "oops my address is 12 Baker Street"}},
          {**WHO, "timestamp": T0 + 1, "message": {"mid": "m_photo", "text": "here is my Visa card", "attachments": [
              {"type": "image", "payload": {"url": f"{cdn.url}/card.jpg"}}]}})
    desk.drain_queue(desk.work_queue_url, "router")
    conv = desk.item(f"IDENTITY#{provider}#5678")["open_conversation_id"]
    [stored] = _by_provider_id(desk, conv, "m_photo")["attachments"]
    assert stored["storage_key"].startswith(f"media/{conv}/") and _file_exists(desk, stored["storage_key"])
    assert desk.item(f"CONV#{conv}")["last_message_preview"] == "here is my Visa card"

    # When the customer unsends both
    answer = _meta(desk, provider, {**WHO, "timestamp": T0 + 2, "message": {"mid": "m_words", "is_deleted": True}},
                   {**WHO, "timestamp": T0 + 3, "message": {"mid": "m_photo", "is_deleted": True}})
    assert answer["events"] == 2

    # Then neither message keeps words, content or files in the table, and both are marked unsent
    for mid in ("m_words", "m_photo"):
        item = _by_provider_id(desk, conv, mid)
        assert item["unsent_at"] and item["direction"] == "inbound"
        assert not {"text", "subject", "attachments", "edited_text"} & set(item), item
    everything = json.dumps(_partition(desk, conv), default=str)
    assert "Baker" not in everything and "Visa" not in everything
    assert "last_message_preview" not in desk.item(f"CONV#{conv}")
    # and the file is gone from the bucket
    assert not _file_exists(desk, stored["storage_key"])
    # and the agent API shows them unsent, without text or files, with the timeline's entries after them
    messages = _timeline(desk, conv)
    inbound = [m for m in messages if m["direction"] == "inbound"]
    assert [(m["text"], m["attachments"], bool(m["unsent_at"])) for m in inbound] == [(None, [], True)] * 2
    entries = [m for m in messages if m["kind"] == "unsend"]
    assert [(m["text"], m["event"]) for m in entries] == [
        ("The customer unsent a message", {"kind": "unsend", "params": {"channel": provider}})] * 2

    # When the same unsend comes again
    before = _partition(desk, conv)
    again = _meta(desk, provider, {**WHO, "timestamp": T0 + 2, "message": {"mid": "m_words", "is_deleted": True}})
    # Then nothing changes
    assert again["events"] == 0 and _partition(desk, conv) == before


def test_a_photo_unsent_before_the_router_copied_it_is_never_stored(desk, cdn):
    # Given a photo the router has not copied yet, unsent at once
    _meta(desk, "messenger", {**WHO, "timestamp": T0, "message": {"mid": "m_fast", "attachments": [
        {"type": "image", "payload": {"url": f"{cdn.url}/card.jpg"}}]}})
    _meta(desk, "messenger", {**WHO, "timestamp": T0 + 1, "message": {"mid": "m_fast", "is_deleted": True}})
    conv = desk.item("IDENTITY#messenger#5678")["open_conversation_id"]
    # When the router gets to it
    desk.drain_queue(desk.work_queue_url, "router")
    # Then nothing was copied to the bucket and the message names no file
    assert not _file_exists(desk, f"media/{conv}/")
    item = _by_provider_id(desk, conv, "m_fast")
    assert item["unsent_at"] and "attachments" not in item


def test_a_file_copied_while_its_message_was_unsent_is_deleted_again(desk, cdn):
    # Given a photo whose file the router is copying
    _meta(desk, "messenger", {**WHO, "timestamp": T0, "message": {"mid": "m_race", "attachments": [
        {"type": "image", "payload": {"url": f"{cdn.url}/card.jpg"}}]}})
    conv = desk.item("IDENTITY#messenger#5678")["open_conversation_id"]
    sk = _by_provider_id(desk, conv, "m_race")["SK"]
    # (the router's copier, with the fetch it makes)
    copier = MediaCopier(Conversations(Table(desk.table_name), 16), MediaStore(desk.env["MEDIA_BUCKET"]),
                         {"messenger": url_fetcher("messenger", ["127.0.0.1"])}, 1_000_000)
    fetch = copier.fetchers["messenger"]

    def fetch_while_unsent(attachment, max_bytes):
        # When the customer unsends it while the file is on its way
        _meta(desk, "messenger", {**WHO, "timestamp": T0 + 1, "message": {"mid": "m_race", "is_deleted": True}})
        return fetch(attachment, max_bytes)
    copier.fetchers["messenger"] = fetch_while_unsent
    assert copier.copy(conv, sk) == 0
    # Then the copy is deleted again and the message names no file
    assert not _file_exists(desk, f"media/{conv}/")
    assert "attachments" not in _by_provider_id(desk, conv, "m_race")


def test_an_unsend_naming_a_message_we_do_not_have_is_only_an_entry(desk):
    _meta(desk, "messenger", {**WHO, "timestamp": T0, "message": {"mid": "m_kept", "text": "Where is my parcel?"}})
    conv = desk.item("IDENTITY#messenger#5678")["open_conversation_id"]
    _meta(desk, "messenger", {**WHO, "timestamp": T0 + 1, "message": {"mid": "m_never_seen", "is_deleted": True}})
    messages = _timeline(desk, conv)
    assert [(m["text"], m.get("unsent_at")) for m in messages if m["direction"] == "inbound"] == [
        ("Where is my parcel?", None)]
    assert [m["text"] for m in messages if m["kind"] == "unsend"] == ["The customer unsent a message"]


def test_an_edit_keeps_the_first_words_shows_the_new_ones_masked_and_an_unsend_takes_both(search_desk):
    desk = search_desk
    stream = Stream(desk)

    def indexed() -> None:
        assert desk.invoke("search_indexer", stream.read()) == {"batchItemFailures": []}

    # Given a customer's question
    _meta(desk, "messenger", {**WHO, "timestamp": T0, "message": {"mid": "m_q", "text": "Can I pay on delivery?"}})
    conv = desk.item("IDENTITY#messenger#5678")["open_conversation_id"]
    # When they edit it twice (the second time to give their card number), and the first edit is delivered again
    # late
    first = {**WHO, "timestamp": T0 + 10, "message_edit": {"mid": "m_q", "num_edit": 1, "text": "Can I pay by cheque?"}}
    _meta(desk, "messenger", first)
    _meta(desk, "messenger", {**WHO, "timestamp": T0 + 20, "message_edit": {
        "mid": "m_q", "num_edit": 2, "text": "Can I pay by wire? card 4111 1111 1111 1111"}})
    _meta(desk, "messenger", {**first, "timestamp": T0 + 11})
    indexed()
    # Then the message keeps what it said first and says the latest edit's words, masked
    item = _by_provider_id(desk, conv, "m_q")
    assert item["text"] == "Can I pay on delivery?"
    assert item["edited_text"] == "Can I pay by wire? card [card •••• 1111]" and item["masked"] == ["card"]
    assert item["edited_at"] == "2026-01-01T00:00:00.020Z"
    [question] = [m for m in _timeline(desk, conv) if m["direction"] == "inbound"]
    assert (question["text"], question["edited_text"]) == ("Can I pay on delivery?",
                                                           "Can I pay by wire? card [card •••• 1111]")
    assert question["edited_at"].startswith("2026-01-01T00:00:00.02") and question["masked"] == ["card"]
    assert desk.item(f"CONV#{conv}")["last_message_preview"] == "Can I pay by wire? card [card •••• 1111]"
    # and both the first words and the new ones find the conversation
    assert _search(desk, "delivery") == {conv} and _search(desk, "wire") == {conv}

    # When the customer unsends the edited message
    _meta(desk, "messenger", {**WHO, "timestamp": T0 + 30, "message": {"mid": "m_q", "is_deleted": True}})
    indexed()
    # Then no words of it are left: not in the message, not in the edit entries, not in the index
    everything = json.dumps(_partition(desk, conv), default=str)
    for words in ("delivery", "cheque", "wire", "1111"):
        assert words not in everything, words
        assert _search(desk, words) == set()
    entries = [m for m in _timeline(desk, conv) if m["direction"] == "system"]
    assert [m["kind"] for m in entries] == ["edit", "edit", "edit", "unsend"]
    assert {(m["text"], json.dumps(m["event"])) for m in entries if m["kind"] == "edit"} == {
        ("Edited a message the customer unsent since", '{"kind": "edit", "params": {"unsent": true}}')}


def test_a_telegram_business_message_deleted_or_edited_changes_the_message_it_names(desk):
    # Given two messages of a Telegram Business customer
    for update_id, message_id, text in ((900, 7, "my passcode is 4417"), (901, 8, "See you at 5")):
        _telegram(desk, {"update_id": update_id, "business_message": {
            "business_connection_id": "bc1", "message_id": message_id, "from": {"id": 3527065, "first_name": "Nic"},
            "chat": CHAT, "date": 1767225600, "text": text}})
    conv = desk.item("IDENTITY#telegram#3527065")["open_conversation_id"]
    # When the first is deleted and the second edited
    _telegram(desk, {"update_id": 902, "deleted_business_messages": {
        "business_connection_id": "bc1", "chat": CHAT, "message_ids": [7]}})
    _telegram(desk, {"update_id": 903, "edited_business_message": {
        "business_connection_id": "bc1", "message_id": 8, "from": {"id": 3527065, "first_name": "Nic"},
        "chat": CHAT, "date": 1767225600, "edit_date": 1767225700, "text": "See you at 6"}})
    # Then the deleted one keeps no words and the edited one shows its new words beside the first
    messages = _timeline(desk, conv)
    inbound = [(m["text"], m["edited_text"], bool(m["unsent_at"]), m["edited_at"]) for m in messages
               if m["direction"] == "inbound"]
    assert inbound == [(None, None, True, None), ("See you at 5", "See you at 6", False, "2026-01-01T00:01:40.000000Z")]
    assert "4417" not in json.dumps(_partition(desk, conv), default=str)
    assert [m["kind"] for m in messages if m["direction"] == "system"] == ["unsend", "edit"]
