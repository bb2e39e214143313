"""One set of cases for both search back-ends: SQLite FTS5 (local) and OpenSearch (AWS).

The OpenSearch back-end talks, through opensearch-py and SigV4 signing, to ``local.opensearch.FakeOpenSearch``:
a small fake of the HTTP API it uses (the real service is not reachable here). Both back-ends index the
terms ``shopdesk.search.text`` makes, so every case must answer the same on both.
"""



from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from local.opensearch import FakeOpenSearch
from shopdesk.search import SearchDoc, SearchFilters, SearchIndex
from shopdesk.search.opensearch import OpenSearchIndex
from shopdesk.search.sqlite import SqliteIndex
from shopdesk.search.text import index_terms, joined, name_terms

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
_names = itertools.count()


@pytest.fixture(scope="module")
def fake_opensearch() -> Iterator[FakeOpenSearch]:
    fake = FakeOpenSearch().start()
    yield fake
    fake.close()


@pytest.fixture(params=["sqlite", "opensearch"])
def engine(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SearchIndex:
    if request.param == "sqlite":
        return SqliteIndex(tmp_path / "search.sqlite3")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    fake = request.getfixturevalue("fake_opensearch")
    return OpenSearchIndex.connect(fake.endpoint, f"messages-{next(_names)}", "us-east-1")


def doc(conversation: str, message: str, text: str, language: str | None, minutes: int = 0) -> SearchDoc:
    return SearchDoc(conversation_id=conversation, message_id=message, created_at=T0 + timedelta(minutes=minutes),
                     terms=joined(index_terms(text, language)), language=language, direction="inbound")


CORPUS = [
    doc("c_en", "m_en1", "Where is my order? It was shipped last week", "en"),
    doc("c_es", "m_es1", "¿Dónde está mi pedido? Lo pedí el lunes", "es", 1),
    doc("c_pt", "m_pt1", "Onde está a minha encomenda? Já paguei", "pt", 2),
    doc("c_de", "m_de1", "Wo bleibt meine Bestellung? Die Lieferung ist verspätet", "de", 3),
    doc("c_tr", "m_tr1", "Siparişim nerede? Kargo gelmedi", "tr", 4),
    doc("c_id", "m_id1", "Di mana pesanan saya? Pengiriman terlambat", "id", 5),
    doc("c_sk", "m_sk1", "Kde je moja objednávka? Ďakujem", "sk", 6),
    doc("c_xx", "m_xx1", "Tracking 1Z999AA10123456784 please", None, 7),
]


def found(engine: SearchIndex, text: str, **filters: object) -> set[str]:
    return {h.conversation_id for h in engine.query(text, SearchFilters(**filters) if filters else None)}  # type: ignore[arg-type]


@pytest.mark.parametrize(("query", "expected"), [
    ("shipping", {"c_en"}),                    # en stem: shipped / shipping
    ("orders", {"c_en"}),
    ("pedidos", {"c_es"}),                     # es stem
    ("encomendas", {"c_pt"}),                  # pt stem
    ("Bestellungen", {"c_de"}),                # de stem
    ("verspatet", {"c_de"}),                   # umlaut folded
    ("siparişlerim", {"c_tr"}),                # tr stem with suffixes
    ("siparisim", {"c_tr"}),                   # typed without Turkish letters
    ("pesanannya", {"c_id"}),                  # id stem
    ("objednavka", {"c_sk"}),                  # sk: diacritics folded (and its light stemmer)
    ("ĎAKUJEM", {"c_sk"}),
    ("1z999aa10123456784", {"c_xx"}),          # a tracking number, whole
    ("order shipped", {"c_en"}),               # every word must match
    ("order pedido", set()),
    ("", set()),
    ("¿?!", set()),
])
def test_a_word_finds_its_conversation_in_every_language(engine: SearchIndex, query: str, expected: set[str]) -> None:
    for d in CORPUS:
        engine.index(d)
    assert found(engine, query) == expected


def test_indexing_a_message_twice_keeps_one_copy_and_the_newest_text(engine: SearchIndex) -> None:
    engine.index(doc("c_1", "m_1", "parcel damaged", "en"))
    engine.index(doc("c_1", "m_1", "parcel damaged", "en"))
    engine.index(doc("c_1", "m_1", "parcel arrived", "en"))
    hits = engine.query("parcel")
    assert [(h.conversation_id, h.message_id) for h in hits] == [("c_1", "m_1")]
    assert engine.query("damaged") == []


def test_a_conversation_is_one_hit_with_its_best_message(engine: SearchIndex) -> None:
    engine.index(doc("c_1", "m_1", "refund please", "en"))
    engine.index(doc("c_1", "m_2", "refund refund refund now", "en", 1))
    engine.index(doc("c_2", "m_3", "the refund arrived, thanks a lot for all the help today", "en", 2))
    hits = engine.query("refund")
    assert sorted(h.conversation_id for h in hits) == ["c_1", "c_2"]
    assert hits[0].conversation_id == "c_1" and hits[0].message_id == "m_2"


def test_removing_a_message_or_a_conversation(engine: SearchIndex) -> None:
    engine.index(doc("c_1", "m_1", "blue scarf", "en"))
    engine.index(doc("c_1", "m_2", "blue hat", "en", 1))
    engine.index(doc("c_2", "m_3", "blue shoes", "en", 2))
    engine.remove("c_1", "m_2")
    assert found(engine, "hat") == set()
    assert found(engine, "blue") == {"c_1", "c_2"}
    engine.remove("c_1")
    assert found(engine, "blue") == {"c_2"}
    engine.remove("c_1")                       # again: nothing left, no error
    engine.remove("c_9", "m_9")


def test_filters_and_limit(engine: SearchIndex) -> None:
    for i in range(6):
        engine.index(doc(f"c_{i}", f"m_{i}", "invoice missing", "en", i))
    assert len(engine.query("invoice", limit=4)) == 4
    assert found(engine, "invoice", conversation_ids=("c_1", "c_3")) == {"c_1", "c_3"}
    assert found(engine, "invoice", since=T0 + timedelta(minutes=4)) == {"c_4", "c_5"}


def name(customer: str, engine: SearchIndex, full_name: str) -> None:
    engine.index_customer(customer, joined(name_terms(full_name)))


def test_a_customer_is_found_by_the_start_of_each_word_of_their_name(engine: SearchIndex) -> None:
    name("u_ana", engine, "Ana Ruiz")
    name("u_anabel", engine, "Anabel Ortiz")
    name("u_jose", engine, "José-María de la Cruz")
    assert set(engine.query_customers("ana")) == {"u_ana", "u_anabel"}
    assert engine.query_customers("ana r") == ["u_ana"]                    # every word must match
    assert engine.query_customers("RUIZ ANA") == ["u_ana"]                 # in any order, any case
    assert engine.query_customers("jose maria") == ["u_jose"]              # accents folded
    assert engine.query_customers("cruz") == ["u_jose"]
    assert engine.query_customers("anas") == [] and engine.query_customers("!!") == []
    assert len(engine.query_customers("a", limit=1)) == 1


def test_a_renamed_customer_is_found_by_the_new_name_only_and_a_removed_one_not_at_all(engine: SearchIndex) -> None:
    name("u_1", engine, "Griselda Oosterhuis")
    assert engine.query_customers("gris") == ["u_1"]
    name("u_1", engine, "Grace Hopper")                                    # indexing again replaces the name
    assert engine.query_customers("gris") == [] and engine.query_customers("hopper") == ["u_1"]
    engine.remove_customer("u_1")
    engine.remove_customer("u_1")                                          # removing twice is a no-op
    assert engine.query_customers("grace") == []
    # customers' names and messages are apart: a name is no message, a message no name
    engine.index(doc("c_1", "m_1", "Grace asked about her parcel", "en"))
    name("u_2", engine, "Parcel Person")
    assert found(engine, "person") == set() and engine.query_customers("asked") == []


def test_a_purge_leaves_what_was_not_removed_findable(engine: SearchIndex) -> None:
    engine.index(doc("c_1", "m_1", "blue scarf", "en"))
    engine.index(doc("c_2", "m_2", "blue shoes", "en", 1))
    name("u_1", engine, "Griselda Oosterhuis")
    name("u_2", engine, "Grace Hopper")
    engine.remove("c_1")
    engine.remove_customer("u_1")
    engine.purge()
    engine.purge()                             # again: nothing more to do, no error
    assert found(engine, "blue") == {"c_2"} and found(engine, "scarf") == set()
    assert engine.query_customers("gr") == ["u_2"]


def test_a_purge_that_a_reader_holds_back_fails_rather_than_keep_the_log_silently(tmp_path: Path) -> None:
    import sqlite3

    from shopdesk.search import SearchUnavailable

    path = tmp_path / "search.sqlite3"
    engine = SqliteIndex(path)
    engine.index(doc("c_1", "m_1", "blue scarf", "en"))
    # Given a reader (the agent API's connection) that holds a snapshot from before the removal
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM docs").fetchone() == (1,)
    engine.remove("c_1")
    engine._db.execute("PRAGMA busy_timeout = 50")
    # When the indexer purges: the log cannot be truncated under the reader, and it says so
    with pytest.raises(SearchUnavailable, match="write-ahead log"):
        engine.purge()
    # Then, the reader done, the batch's retry purges, and the log is empty
    reader.execute("COMMIT")
    engine.purge()
    assert (tmp_path / "search.sqlite3-wal").stat().st_size == 0
    reader.close()
