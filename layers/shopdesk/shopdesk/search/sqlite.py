"""The embedded back-end: SQLite FTS5 in one file (the local stack's state directory).

Two tables: ``docs`` (one row per message: its id, conversation and time; the key that makes indexing
idempotent) and ``fts``, an FTS5 table whose rowid is the doc's; customers' names the same way in ``customers``
and ``customer_fts``. FTS5's ``unicode61`` tokenizer with
``remove_diacritics 2`` reads the analysed terms (already folded by ``shopdesk.search.text``, so the
tokenizer's folding is a second guard for text that was not). Ranking is FTS5's BM25; a conversation ranks
by its best message. The file is opened in WAL mode, so the indexer writes while the agent API reads.

What is removed or replaced leaves the files only with ``purge``: SQLite keeps a deleted row's bytes in its page and
in the write-ahead log, and FTS5 answers a delete by writing the row's terms again, as a delete marker in a new
segment, until segments are merged (a document indexed again is a delete and an insert: its old terms stay the same
way). Every connection has ``secure_delete`` on (a deleted row and a freed page are written over with zeros);
``purge`` merges each FTS5 table into one segment (``optimize``: the removed rows' terms and their markers are not
carried over) and then checkpoints the log into the database and truncates it (``TRUNCATE``), so no page as it was
before is left in ``-wal``.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from shopdesk import clock
from shopdesk.search import SearchDoc, SearchFilters, SearchHit, SearchUnavailable
from shopdesk.search.text import name_query, query_terms

SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    id INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL UNIQUE,
    conversation_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    language TEXT,
    direction TEXT
);
CREATE INDEX IF NOT EXISTS docs_conversation ON docs (conversation_id);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(terms, tokenize = 'unicode61 remove_diacritics 2');
CREATE TABLE IF NOT EXISTS customers (id INTEGER PRIMARY KEY, customer_id TEXT NOT NULL UNIQUE);
CREATE VIRTUAL TABLE IF NOT EXISTS customer_fts USING fts5(terms, tokenize = 'unicode61 remove_diacritics 2');
"""


def match_expression(text: str) -> str | None:
    """FTS5 query: every word (AND), each as any of its forms (OR). None for a text without words."""
    groups = query_terms(text)
    if not groups:
        return None
    return " AND ".join("(" + " OR ".join(f'"{form}"' for form in forms) + ")" for forms in groups)


class SqliteIndex:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=10, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA secure_delete=ON")      # per connection; some builds have it on already
        self._db.executescript(SCHEMA)

    def index(self, doc: SearchDoc) -> None:
        self.index_many([doc])

    def index_many(self, docs: list[SearchDoc]) -> None:
        """Several messages in one transaction (a stream batch, the bench's load)."""
        with self._lock, self._transaction():
            for doc in docs:
                self._put(doc)

    def _put(self, doc: SearchDoc) -> None:
        row = self._db.execute("SELECT id FROM docs WHERE message_id = ?", (doc.message_id,)).fetchone()
        if row is not None:
            self._db.execute("DELETE FROM fts WHERE rowid = ?", (row[0],))
            self._db.execute("UPDATE docs SET conversation_id = ?, created_at = ?, language = ?, direction = ? "
                             "WHERE id = ?", (doc.conversation_id, clock.iso(doc.created_at), doc.language,
                                              doc.direction, row[0]))
            rowid = row[0]
        else:
            rowid = self._db.execute(
                "INSERT INTO docs (message_id, conversation_id, created_at, language, direction) "
                "VALUES (?, ?, ?, ?, ?)",
                (doc.message_id, doc.conversation_id, clock.iso(doc.created_at), doc.language,
                 doc.direction)).lastrowid
        self._db.execute("INSERT INTO fts (rowid, terms) VALUES (?, ?)", (rowid, doc.terms))

    def remove(self, conversation_id: str, message_id: str | None = None) -> None:
        where, args = ("message_id = ?", (message_id,)) if message_id else ("conversation_id = ?",
                                                                            (conversation_id,))
        with self._lock, self._transaction():
            self._db.execute(f"DELETE FROM fts WHERE rowid IN (SELECT id FROM docs WHERE {where})", args)  # noqa: S608
            self._db.execute(f"DELETE FROM docs WHERE {where}", args)  # noqa: S608

    def query(self, text: str, filters: SearchFilters | None = None, limit: int = 20) -> list[SearchHit]:
        expression = match_expression(text)
        if expression is None or limit < 1:
            return []
        filters = filters or SearchFilters()
        conditions: list[str] = []
        args: list[object] = [expression]
        if filters.conversation_ids:
            conditions.append(f"d.conversation_id IN ({','.join('?' * len(filters.conversation_ids))})")
            args.extend(filters.conversation_ids)
        if filters.since is not None:
            conditions.append("d.created_at >= ?")
            args.append(clock.iso(filters.since))
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        # only placeholders are interpolated: every value is a bound parameter
        sql = ("WITH m AS MATERIALIZED (SELECT rowid AS id, bm25(fts) AS rank FROM fts WHERE fts MATCH ?) "  # noqa: S608
               "SELECT d.conversation_id AS cid, d.message_id, MIN(m.rank) AS best "
               f"FROM m JOIN docs d ON d.id = m.id {where} GROUP BY cid ORDER BY best, cid DESC LIMIT ?")
        try:
            with self._lock:
                rows = self._db.execute(sql, [*args, limit]).fetchall()
        except sqlite3.Error as exc:
            raise SearchUnavailable(f"the local search index could not answer: {exc}") from exc
        return [SearchHit(conversation_id=c, message_id=m, score=-float(r)) for c, m, r in rows]

    def index_customer(self, customer_id: str, terms: str) -> None:
        with self._lock, self._transaction():
            row = self._db.execute("SELECT id FROM customers WHERE customer_id = ?", (customer_id,)).fetchone()
            if row is None:
                rowid = self._db.execute("INSERT INTO customers (customer_id) VALUES (?)", (customer_id,)).lastrowid
            else:
                rowid = row[0]
                self._db.execute("DELETE FROM customer_fts WHERE rowid = ?", (rowid,))
            self._db.execute("INSERT INTO customer_fts (rowid, terms) VALUES (?, ?)", (rowid, terms))

    def remove_customer(self, customer_id: str) -> None:
        with self._lock, self._transaction():
            self._db.execute("DELETE FROM customer_fts WHERE rowid IN (SELECT id FROM customers WHERE customer_id = ?)",
                             (customer_id,))
            self._db.execute("DELETE FROM customers WHERE customer_id = ?", (customer_id,))

    def purge(self) -> None:
        """No byte of what was removed left in the files (the module's docstring). Costs a rewrite of the FTS5
        tables, about 17 ms of CPU for 3,000 conversations of ten messages (``python -m bench.search``, ``purge``);
        the indexer calls it after a batch that removed something or indexed a document again over other words
        (``search.feed.PURGES``), never for one that only indexed new ones. A reader
        holding an older snapshot past the busy timeout keeps the log: SearchUnavailable, the batch is retried."""
        with self._lock:
            with self._transaction():
                self._db.execute("INSERT INTO fts (fts) VALUES ('optimize')")
                self._db.execute("INSERT INTO customer_fts (customer_fts) VALUES ('optimize')")
            busy, _, _ = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy:
            raise SearchUnavailable("the local search index could not truncate its write-ahead log: a reader held it")

    def query_customers(self, text: str, limit: int = 5) -> list[str]:
        terms = name_query(text)
        if not terms or limit < 1:
            return []
        sql = ("SELECT c.customer_id FROM customer_fts f JOIN customers c ON c.id = f.rowid "
               "WHERE customer_fts MATCH ? ORDER BY bm25(customer_fts), c.customer_id LIMIT ?")
        try:
            with self._lock:
                rows = self._db.execute(sql, (" AND ".join(f'"{t}"' for t in terms), limit)).fetchall()
        except sqlite3.Error as exc:
            raise SearchUnavailable(f"the local search index could not answer: {exc}") from exc
        return [r[0] for r in rows]

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, value: object, traceback: object) -> None:
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")
