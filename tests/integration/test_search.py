"""Search against moto: the indexer consumes the table's stream into the SQLite back-end, the agent API
finds conversations by word, phone, handle and id, and nobody finds what they may not see."""

from __future__ import annotations

import hashlib
import json
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from tests.integration.helpers import agent, customer_writes
from tests.integration.test_access import CALLERS, call
from tests.integration.test_live import Stream
from tests.support import http_event


@pytest.fixture
def search_desk(desk, tmp_path: Path):
    """The desk with the SQLite engine: the indexer and the agent API share one index file."""
    desk.env.update({"SEARCH_ENGINE": "sqlite", "SEARCH_INDEX_PATH": str(tmp_path / "search.sqlite3")})
    return desk


def index(desk: Any, event: dict[str, Any]) -> dict[str, Any]:
    return desk.invoke("search_indexer", event)


def search(desk: Any, who: str, q: str) -> tuple[int, Any]:
    return call(desk, "agent_api", "GET", "/agent/search", who, query="q=" + urllib.parse.quote(q))


def ids(answer: Any) -> set[str]:
    return {c["id"] for c in answer["conversations"]}


def test_the_indexer_makes_a_message_findable_and_a_redelivery_changes_nothing(search_desk):
    desk = search_desk
    stream = Stream(desk)
    # Given a customer's message in German, read from the stream by the indexer
    conv = customer_writes(desk, "+4915112345678", "Meine Bestellungen sind nicht angekommen", "SMs1")
    batch = stream.read()
    assert index(desk, batch) == {"batchItemFailures": []}
    # When an agent searches for a form of a word the customer wrote (another inflection, no umlaut)
    status, answer = search(desk, "admin", "bestellung")
    # Then the conversation is found by its text, with the matching message
    assert status == 200, answer
    assert ids(answer) == {conv}
    message = answer["conversations"][0]
    assert message["matched"] == "text" and message["message_id"].startswith("m_")
    # And the same batch delivered again leaves one hit
    assert index(desk, batch) == {"batchItemFailures": []}
    assert ids(search(desk, "admin", "angekommen")[1]) == {conv}
    assert search(desk, "admin", "paket")[1]["conversations"] == []


def test_a_bad_record_fails_alone_and_the_others_are_indexed(search_desk):
    desk = search_desk
    stream = Stream(desk)
    conv = customer_writes(desk, "+4915112345679", "Der Regenschirm ist kaputt", "SMs2")
    batch = stream.read()
    broken = {**batch["Records"][0], "eventID": "broken",
              "dynamodb": {"Keys": {"PK": {"S": "CONV#c_x"}, "SK": {"S": "MSG#2026#m_x"}},
                           "NewImage": {"text": {"S": "no id, no direction"}}, "SequenceNumber": "999"}}
    result = index(desk, {"Records": [broken, *batch["Records"]]})
    assert result == {"batchItemFailures": [{"itemIdentifier": "999"}]}
    assert ids(search(desk, "admin", "regenschirm")[1]) == {conv}


def test_exact_keys_phone_id_and_status_filter(search_desk):
    desk = search_desk
    conv = customer_writes(desk, "+31612340001", "hello", "SMs3")
    for q in ("+31 6 1234 0001", "0031612340001", conv, conv.lower()):
        status, answer = search(desk, "admin", q)
        assert status == 200 and ids(answer) == {conv}, (q, answer)
    status, answer = search(desk, "admin", "+31612340001")
    assert answer["conversations"][0]["matched"] == "phone"
    assert [c["identities"] for c in answer["customers"]] == [[{"kind": "phone", "address": "+31612340001"}]]
    assert ids(search(desk, "admin", "status:open +31612340001")[1]) == {conv}
    assert ids(search(desk, "admin", "status:resolved +31612340001")[1]) == set()
    for bad in ("status:lost +31612340001", "label:vip parcel", "status:open"):
        assert search(desk, "admin", bad)[0] == 400, bad


def test_a_phone_typed_without_its_country_code_is_found_in_the_shops_region(search_desk):
    desk = search_desk
    desk.env["DEFAULT_PHONE_REGION"] = "NL"
    conv = customer_writes(desk, "+31612340009", "hallo", "SMs9")
    for q in ("06 1234 0009", "06-12340009", "+31 6 1234 0009"):
        status, answer = search(desk, "admin", q)
        assert status == 200 and ids(answer) == {conv}, (q, answer)
        assert answer["conversations"][0]["matched"] == "phone"
    assert ids(search(desk, "admin", "06 1234 0008")[1]) == set()


def vera_in_team_vip(desk: Any) -> None:
    """Every caller known to the desk, and vera (``other``) moved to team vip: she sees nothing of team default."""
    for who in CALLERS:
        assert call(desk, "agent_api", "GET", "/agent/me", who)[0] == 200
    assert call(desk, "admin_api", "PUT", "/admin/teams/vip", "admin", {"id": "vip", "name": "VIP"})[0] == 200
    assert call(desk, "admin_api", "PUT", "/admin/agents/vera", "admin", {"capacity": 3, "teams": ["vip"]})[0] == 200


def _telegram_from(desk: Any, chat: int, first: str, last: str, text: str) -> None:
    update = {"update_id": chat, "message": {"message_id": 1, "date": 1764835200, "text": text,
                                             "from": {"id": chat, "first_name": first, "last_name": last},
                                             "chat": {"id": chat, "type": "private", "first_name": first,
                                                      "last_name": last}}}
    answer = desk.invoke("inbound_telegram", http_event("POST", "/webhooks/telegram", json.dumps(update), {
        "content-type": "application/json", "x-telegram-bot-api-secret-token": "test_secret_token-1"}))
    assert answer["statusCode"] == 200, answer


def test_a_customer_is_found_by_their_name_as_it_is_typed_and_only_by_who_may_see_them(search_desk):
    desk = search_desk
    stream = Stream(desk)
    vera_in_team_vip(desk)
    # Given a customer who wrote on Telegram with their name, and the indexer that read the table's stream
    _telegram_from(desk, 7391001, "Griselda", "Oosterhuis", "Is my teapot on its way?")
    assert index(desk, stream.read()) == {"batchItemFailures": []}
    [conv] = ids(search(desk, "admin", "teapot")[1])
    # When an agent types the start of the name, in any case, without its accents, words in any order
    for q in ("griselda", "Gris", "oosterhuis griselda", "GRISELDA OOST"):
        status, answer = search(desk, "agent", q)
        # Then the customer and their conversation are found, by name
        assert status == 200 and ids(answer) == {conv}, (q, answer)
        assert answer["conversations"][0]["matched"] == "name"
        assert [c["name"] for c in answer["customers"]] == ["Griselda Oosterhuis"]
    # And a word that is not the start of the name finds nothing; another team's agent finds nobody
    assert search(desk, "agent", "griseldas")[1] == {"conversations": [], "customers": []}
    assert search(desk, "other", "griselda")[1] == {"conversations": [], "customers": []}


def test_another_teams_conversation_never_appears(search_desk):
    desk = search_desk
    stream = Stream(desk)
    # Given vera in team vip, and a conversation of team default with a word in it
    vera_in_team_vip(desk)
    conv = customer_writes(desk, "+31612340002", "Mijn paraplu is kapot, umbrella broken", "SMs4")
    assert index(desk, stream.read()) == {"batchItemFailures": []}
    # When each caller searches by the word, the phone and the id
    for q in ("umbrella", "+31612340002", conv):
        # Then the team's agent, its supervisor and the admin find it; vera finds nothing, not even the customer
        for who in ("agent", "supervisor", "admin"):
            status, answer = search(desk, who, q)
            assert status == 200 and ids(answer) == {conv}, (who, q, answer)
        status, answer = search(desk, "other", q)
        assert status == 200 and answer == {"conversations": [], "customers": []}, (q, answer)


def test_search_without_an_engine_still_answers_exact_keys(desk):
    conv = customer_writes(desk, "+31612340003", "where is my scarf", "SMs5")
    status, answer = agent(desk, "GET", "/agent/search", "root", query="q=%2B31612340003", groups="[admins]")
    assert status == 200 and ids(answer) == {conv}
    status, answer = agent(desk, "GET", "/agent/search", "root", query="q=scarf", groups="[admins]")
    assert status == 200 and answer["conversations"] == []


def test_a_key_that_is_another_teams_customer_answers_as_one_nobody_has(search_desk):
    from tests.integration.test_email import _deliver, _eml
    desk = search_desk
    stream = Stream(desk)
    vera_in_team_vip(desk)
    # Given a conversation of vera's team in which a customer gave an address
    mine = customer_writes(desk, "+31612340021", "Please copy my sister, griselda@example.com", "SMs21")
    assert call(desk, "agent_api", "PUT", f"/agent/conversations/{mine}/routing", "admin", {"team": "vip"})[0] == 200
    assert index(desk, stream.read()) == {"batchItemFailures": []}
    before = search(desk, "other", "griselda@example.com")
    assert before[0] == 200 and ids(before[1]) == {mine}, before
    # When that address becomes a customer of another team (she writes by email)
    _deliver(desk, _eml(sender="Griselda <griselda@example.com>", message_id="<g1@example.com>"), "g-1")
    assert desk.item("IDENTITY#email#griselda@example.com") is not None
    assert index(desk, stream.read()) == {"batchItemFailures": []}
    # Then vera's search answers exactly as before: nothing tells her someone else has that customer
    assert search(desk, "other", "griselda@example.com") == before


def test_an_exact_key_that_reaches_another_teams_customer_is_a_denied_record_without_the_key_and_words_are_not(
        search_desk):
    from tests.integration.test_email import _deliver, _eml
    from tests.integration.test_privacy import admin, scan
    desk = search_desk
    stream = Stream(desk)
    vera_in_team_vip(desk)
    # Given two customers of team default, one who wrote by SMS and one by email, and a conversation of vera's team
    # (vip) in which its customer gave the second one's address
    theirs = customer_writes(desk, "+31612340041", "Mijn paraplu is kapot", "SMs41")
    mine = customer_writes(desk, "+31612340042", "Please copy my sister, hermione@example.com", "SMs42")
    assert call(desk, "agent_api", "PUT", f"/agent/conversations/{mine}/routing", "admin", {"team": "vip"})[0] == 200
    _deliver(desk, _eml(sender="Hermione <hermione@example.com>", message_id="<h1@example.com>"), "h-1")
    assert index(desk, stream.read()) == {"batchItemFailures": []}
    by_sms, by_email, her_own = (desk.item(f"CONV#{c}")["customer"]["id"] for c in (
        theirs, desk.item("IDENTITY#email#hermione@example.com")["open_conversation_id"], mine))
    # When vera searches by the SMS customer's phone and conversation id, by the address, by words of the SMS, and by
    # a phone number nobody has
    keys = ("+31612340041", theirs, "hermione@example.com", "paraplu kapot", "+31612349999")
    answers = {q: search(desk, "other", q) for q in keys}
    # Then her answers are those of keys nobody has: nothing of team default, the address only in her team's text
    nothing = (200, {"conversations": [], "customers": []})
    assert [answers[q] for q in keys if q != "hermione@example.com"] == [nothing] * 4
    assert ids(answers["hermione@example.com"][1]) == {mine}
    # and each exact key that reached team default's customer is a denied record under them (not_visible, status
    # 200 as answered) saying which kind of key it was; the conversation id's names the conversation too
    records = admin(desk, "GET", "/admin/audit", query="actor=vera")[1]["items"]
    refused = [r for r in records if r["outcome"] == "denied"]
    assert sorted((r["details"]["query"], r["customer_id"], r.get("conversation_id") or "") for r in refused) == [
        ("conversation_id", by_sms, theirs), ("email", by_email, ""), ("phone", by_sms, "")]
    assert {(r["action"], r["reason"], r["status"]) for r in refused} == {("GET /agent/search", "not_visible", 200)}
    # and the searches' own records are as before: none for a key that reached only the hidden customer, the words
    # (whose team default match was filtered, no attempt) and the phone nobody has under nobody, the address under
    # the customer of her team it showed
    searches = [r for r in records if r["action"] == "search"]
    assert sorted((r["details"]["query"], r.get("customer_id") or "") for r in searches) == [
        (["email"], her_own), (["phone"], ""), (["words"], "")]
    # and no record holds the keys typed, in clear or hashed
    stored = json.dumps([i for i in scan(desk) if i["PK"].startswith("AUDIT#")], default=str)
    for typed in ("+31612340041", "31612340041", "hermione@example.com", "paraplu",
                  hashlib.sha256(b"+31612340041").hexdigest(), hashlib.sha256(b"hermione@example.com").hexdigest()):
        assert typed not in stored
    # and the team's own agent finds the customer by the same keys, with no refusal recorded
    assert ids(search(desk, "agent", "+31612340041")[1]) == ids(search(desk, "agent", theirs)[1]) == {theirs}
    assert [r for r in admin(desk, "GET", "/admin/audit", query="actor=alice&outcome=denied")[1]["items"]] == []


ERASED_WORDS = ("quargenstein", "wilhelmina", "flumbergast", "zwiebelgasse", "plinkerton")


def _pieces(word: str) -> tuple[str, ...]:
    """What of a word the index files could hold: its start (a stem, a name's prefix), its middle and its end (FTS5
    writes a term after the letters it shares with the one before it)."""
    return word[:6], word[2:8], word[-6:]


def _index_bytes(folder: Path) -> dict[str, bytes]:
    """Every file of the local index (the database, its -wal and -shm), as raw bytes, lower-cased."""
    files = {path.name: path.read_bytes().lower() for path in sorted(folder.glob("search.sqlite3*"))}
    assert "search.sqlite3" in files, files.keys()
    return files


def _traces(files: dict[str, bytes], words: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(name, piece) for name, data in files.items() for word in words for piece in _pieces(word)
            if piece.encode() in data]


def test_an_erased_customer_leaves_no_byte_of_their_words_or_name_in_the_index_files(search_desk, tmp_path,
                                                                                    monkeypatch):
    from tests.integration.test_privacy import _job
    desk = search_desk
    stream = Stream(desk)
    engine = desk.handler("search_indexer").index
    purges: list[int] = []
    real_purge = engine.purge
    monkeypatch.setattr(engine, "purge", lambda: (purges.append(1), real_purge())[1])
    # Given a customer who wrote three messages on Telegram under their name, an agent's note about them, and another
    # customer whose words stay
    for n, text in enumerate(("Wilhelmina here, flumbergast order not shipped",
                              "I live at 77 Zwiebelgasse, phone +14155558823",
                              "plinkerton the courier was lovely")):
        update = {"update_id": 8823000 + n, "message": {
            "message_id": n + 1, "date": 1764835200 + n, "text": text,
            "from": {"id": 8823, "first_name": "Wilhelmina", "last_name": "Quargenstein"},
            "chat": {"id": 8823, "type": "private", "first_name": "Wilhelmina", "last_name": "Quargenstein"}}}
        answer = desk.invoke("inbound_telegram", http_event("POST", "/webhooks/telegram", json.dumps(update), {
            "content-type": "application/json", "x-telegram-bot-api-secret-token": "test_secret_token-1"}))
        assert answer["statusCode"] == 200, answer
    conv = desk.item("IDENTITY#telegram#8823")["open_conversation_id"]
    assert call(desk, "agent_api", "POST", f"/agent/conversations/{conv}/notes", "admin",
                {"text": "Quargenstein called about the flumbergast"})[0] == 201
    kept = customer_writes(desk, "+31612340031", "Der Regenschirm ist kaputt", "SMs31")
    assert index(desk, stream.read()) == {"batchItemFailures": []}
    assert purges == []                        # (a batch that only indexed rewrites nothing)
    assert ids(search(desk, "admin", "flumbergast")[1]) == {conv}
    assert [c["id"] for c in search(desk, "admin", "quargenstein")[1]["customers"]]
    before = _index_bytes(tmp_path)
    assert {piece for _, piece in _traces(before, ERASED_WORDS)} >= {"quarge", "flumbe", "plinke"}   # (found before)
    # When an admin erases the customer and the indexer reads the erase from the stream
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    _job(desk, "erase", customer)
    assert index(desk, stream.read()) == {"batchItemFailures": []}
    assert purges == [1]
    # Then the search finds nothing of them, and the other customer still
    for word in ERASED_WORDS:
        assert search(desk, "admin", word)[1] == {"conversations": [], "customers": []}, word
    assert ids(search(desk, "admin", "regenschirm")[1]) == {kept}
    # and no file of the index holds a byte of their words or name: not the database (deleted rows and FTS5's
    # segments), not its write-ahead log (the pages as they were), not the shared-memory index
    after = _index_bytes(tmp_path)
    assert _traces(after, ERASED_WORDS) == []
    assert _traces(after, ("regenschirm",))      # (the other customer's words are read from the same files)


def test_a_number_masked_after_it_was_indexed_leaves_no_byte_of_it_in_the_index_files(search_desk, tmp_path,
                                                                                       monkeypatch):
    from tests.integration.test_masking_scan import PATTERN
    from tests.integration.test_privacy import admin, run_jobs
    desk = search_desk
    stream = Stream(desk)
    engine = desk.handler("search_indexer").index
    purges: list[int] = []
    real_purge = engine.purge
    monkeypatch.setattr(engine, "purge", lambda: (purges.append(1), real_purge())[1])
    # Given a customer named with their BSN who wrote it on Telegram, indexed before the shop had a pattern for it
    _telegram_from(desk, 7393001, "Ann", "BSN 123456782", "My BSN 123456782 is on the form, where is my teapot?")
    assert index(desk, stream.read()) == {"batchItemFailures": []}
    assert purges == []
    [conv] = ids(search(desk, "admin", "123456782")[1])
    engine._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")     # its pages in the database, as a checkpoint puts them
    assert {name for name, _ in _traces(_index_bytes(tmp_path), ("123456782",))} == {"search.sqlite3"}
    # When an admin adds the pattern, its masking job masks the message and the name, and the indexer reads the
    # job's writes from the stream: each document indexed again over the one holding the number
    assert admin(desk, "PUT", "/admin/privacy/settings", PATTERN)[0] == 200
    run_jobs(desk)
    assert desk.item(f"CUSTOMER#{desk.item(f'CONV#{conv}')['customer']['id']}")["name"] == "Ann [BSN •••• 6782]"
    assert index(desk, stream.read()) == {"batchItemFailures": []}
    assert purges == [1]
    # Then search finds the conversation by its other words and never by the number
    assert search(desk, "admin", "123456782")[1] == {"conversations": [], "customers": []}
    assert ids(search(desk, "admin", "teapot")[1]) == {conv}
    # and no file of the index holds a byte of it: not FTS5's segments (the replaced row's terms), not the log
    after = _index_bytes(tmp_path)
    assert _traces(after, ("123456782",)) == []
    assert _traces(after, ("teapot",))


def test_a_customer_the_profile_shows_is_found_with_her_older_conversation_when_their_newest_ten_are_hidden(
        search_desk):
    from tests.integration.test_privacy import admin
    desk = search_desk
    vera_in_team_vip(desk)
    phone = "+31612340051"
    # Given a customer whose first conversation went to vera's team (vip), and whose ten since are team default's
    first = customer_writes(desk, phone, "Waar blijft mijn bestelling?", "SMs51-0")
    assert call(desk, "agent_api", "PUT", f"/agent/conversations/{first}/routing", "admin", {"team": "vip"})[0] == 200
    convs = [first]
    for i in range(11):
        assert call(desk, "agent_api", "POST", f"/agent/conversations/{convs[-1]}/status", "admin",
                    {"status": "resolved"})[0] == 200
        if i < 10:
            convs.append(customer_writes(desk, phone, f"Nog een vraag, nummer {i + 1}", f"SMs51-{i + 1}"))
    assert len(set(convs)) == 11
    customer = desk.item(f"CONV#{first}")["customer"]["id"]
    # and the customer's profile, which judges by their history, is vera's to read (her team's conversation is in it)
    assert call(desk, "agent_api", "GET", f"/agent/customers/{customer}", "other")[0] == 200
    # When vera searches by the customer's phone (their ten newest conversations are none of hers)
    status, answer = search(desk, "other", phone)
    # Then she finds the customer the profile route shows her, with the older conversation that makes them hers
    assert status == 200
    assert [c["id"] for c in answer["customers"]] == [customer]
    assert [(c["id"], c["matched"]) for c in answer["conversations"]] == [(first, "phone")]
    # and no refused attempt is recorded under them: both judge by the same rule
    records = admin(desk, "GET", "/admin/audit", query="actor=vera")[1]["items"]
    assert [(r["action"], r["reason"]) for r in records if r["outcome"] == "denied"] == []
    # and a customer she may not see at all is still one (the rule is the profile's, not "never")
    hidden = customer_writes(desk, "+31612340052", "Mijn paraplu is kapot", "SMs52")
    assert search(desk, "other", "+31612340052") == (200, {"conversations": [], "customers": []})
    records = admin(desk, "GET", "/admin/audit", query="actor=vera")[1]["items"]
    refused = [r for r in records if r["outcome"] == "denied"]
    assert [(r["customer_id"], r["details"]["query"]) for r in refused] == [
        (desk.item(f"CONV#{hidden}")["customer"]["id"], "phone")]
