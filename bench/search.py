"""Search figures: full-text query latency of the local engine (SQLite FTS5 with Snowball stems) on 10,000
conversations with 100,000 messages, what indexing costs, and what stemming adds over folding alone.

Messages are generated from a seeded vocabulary of the seven customer languages (en, es, pt, de, tr, id,
sk): each conversation has one language, each message 6 to 20 words of it, some with a product word, an order
number or a name. They are analysed as the indexer analyses them (``shopdesk.search.feed.document``: the
language detected from the text, stems, folded diacritics) and written in batches of 100 (a stream batch).
Queries are a seeded mix: a frequent word, a rare product word, two words, a word typed without its accents,
an inflected form; each is timed through the port (``SqliteIndex.query`` with the agent API's candidate
limit), analysis included. The agent API adds one BatchGetItem of the candidates to that.

Names (``names``): one customer per conversation, a seeded first and last name of the seven languages (with
their accents), indexed as the indexer indexes a customer's record (``name_terms``); queries as an agent types
them, timed through ``SqliteIndex.query_customers`` with the agent API's limit (five customers): a first name's
first three letters, a whole first name, a first name and a last name's start, a last name typed without its
accents. The agent API adds one BatchGetItem of the customers and a ``ByCustomer`` Query each.

Purge (``purge``): what ``SqliteIndex.purge`` costs the indexer after a batch that removed something, on an index of
3,000 conversations of ten messages (a desk's few months): a customer's five conversations of six messages and
their name are indexed, removed as the erase's stream records remove them, and the purge (FTS5 ``optimize`` of both
tables, then a ``TRUNCATE`` checkpoint) timed, five customers one after another; then five batches that re-indexed
a conversation's six messages with a number masked (the masking scan's writes), each followed by the purge, timed in
wall and CPU time; then every file of the index (database, ``-wal``, ``-shm``) is read for the customers' words and
the numbers masked.

    python -m bench.search [--conversations N] [--messages-per-conversation M] [--queries Q]
    writes the "search" key of bench/results.json
"""

# ruff: noqa: RUF001 - customer words in seven languages on purpose

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import median, quantiles
from typing import Any

from bench.harness import save_result

HERE = Path(__file__).resolve().parent

WORDS = {
    "en": "hello where is my order package parcel delivery shipped tracking number please help refund return size "
          "wrong broken missing arrived yesterday today week thanks address change cancel payment card invoice "
          "still waiting when will it arrive the a and to of for not yet received color exchange",
    "es": "hola dónde está mi pedido paquete envío seguimiento número por favor ayuda reembolso devolución talla "
          "equivocada roto falta llegó ayer hoy semana gracias dirección cambiar cancelar pago tarjeta factura "
          "todavía espero cuándo llegará el la y de para no aún recibido color cambio pedidos",
    "pt": "olá onde está minha encomenda pacote entrega rastreio número por favor ajuda reembolso devolução "
          "tamanho errado quebrado falta chegou ontem hoje semana obrigado endereço mudar cancelar pagamento "
          "cartão fatura ainda espero quando vai chegar o a e de para não recebido cor troca encomendas",
    "de": "hallo wo ist meine bestellung paket lieferung versendet sendungsnummer bitte hilfe erstattung rücksendung "
          "größe falsch kaputt fehlt angekommen gestern heute woche danke adresse ändern stornieren zahlung karte "
          "rechnung immer noch warte wann kommt der die und zu von für nicht erhalten farbe umtausch bestellungen",
    "tr": "merhaba siparişim nerede paket teslimat kargo takip numarası lütfen yardım iade değişim beden yanlış "
          "kırık eksik geldi dün bugün hafta teşekkürler adres değiştir iptal ödeme kart fatura hala bekliyorum "
          "ne zaman gelecek ve bir için değil henüz almadım renk siparişlerim siparişi",
    "id": "halo di mana pesanan saya paket pengiriman dikirim nomor resi tolong bantu pengembalian dana tukar "
          "ukuran salah rusak hilang sampai kemarin hari ini minggu terima kasih alamat ubah batal pembayaran "
          "kartu faktur masih menunggu kapan akan tiba dan untuk belum diterima warna pesanannya",
    "sk": "dobrý deň kde je moja objednávka balík doručenie odoslané sledovacie číslo prosím pomoc vrátenie peňazí "
          "výmena veľkosť zlá rozbitá chýba prišla včera dnes týždeň ďakujem adresa zmeniť zrušiť platba karta "
          "faktúra stále čakám kedy príde a v na pre nie ešte neprišla farba objednávky",
}
PRODUCTS = ["beanie", "trail", "shoes", "socks", "scarf", "umbrella", "jacket", "backpack", "lamp", "kettle",
            "headphones", "charger", "wallet", "sunglasses", "blanket", "mug", "notebook"]
NAMES = ["ana", "lucas", "maria", "jonas", "elif", "budi", "zuzana", "sam", "noah", "lea"]
FIRST_NAMES = ["Ana", "Lucía", "José", "María", "João", "Conceição", "Jürgen", "Björn", "Elif", "Çağla", "Budi",
               "Siti", "Zuzana", "Ľubomír", "Samuel", "Noah", "Léa", "Chloé", "Oliver", "Grace", "Ahmet", "Dewi",
               "Tomáš", "Inês", "Matthias", "Sofía", "Emma", "Mehmet", "Ayşe", "Rui"]
LAST_NAMES = ["García", "Fernández", "Silva", "Gonçalves", "Müller", "Schäfer", "Yılmaz", "Öztürk", "Santoso",
              "Wijaya", "Novák", "Horváthová", "Smith", "Johnson", "Dubois", "Rivera", "Oosterhuis", "Pereira",
              "Kowalski", "Şahin", "Kurniawan", "Kováč", "Martins", "Weiß", "López", "Brown", "Costa", "Demir",
              "Hartono", "Rossi"]
# An inflected form a customer types and the form in a message: what stemming should join.
INFLECTIONS = {
    "en": [("orders", "order"), ("shipping", "shipped"), ("refunds", "refund"), ("arriving", "arrived"),
           ("payments", "payment")],
    "es": [("pedidos", "pedido"), ("devoluciones", "devolución"), ("llegar", "llegó"), ("rotos", "roto"),
           ("facturas", "factura")],
    "pt": [("encomendas", "encomenda"), ("chegar", "chegou"), ("pagamentos", "pagamento"), ("quebrada", "quebrado"),
           ("entregas", "entrega")],
    "de": [("bestellungen", "bestellung"), ("pakete", "paket"), ("lieferungen", "lieferung"),
           ("rechnungen", "rechnung"), ("karten", "karte")],
    "tr": [("siparişlerim", "siparişim"), ("paketler", "paket"), ("kargom", "kargo"), ("iadesi", "iade"),
           ("faturalar", "fatura")],
    "id": [("pesanannya", "pesanan"), ("pengirimannya", "pengiriman"), ("paketnya", "paket"),
           ("pembayarannya", "pembayaran"), ("alamatnya", "alamat")],
    "sk": [("objednávku", "objednávka"), ("balíky", "balík"), ("platby", "platba"), ("faktúry", "faktúra"),
           ("objednavka", "objednávka")],
}


def message_text(rng: random.Random, language: str) -> str:
    vocabulary = WORDS[language].split()
    words = [rng.choice(vocabulary) for _ in range(rng.randint(6, 20))]
    if rng.random() < 0.3:
        words.insert(rng.randrange(len(words)), rng.choice(PRODUCTS))
    if rng.random() < 0.2:
        words.append(f"#{rng.randint(1000, 99999)}")
    if rng.random() < 0.2:
        words.insert(0, rng.choice(NAMES).title())
    return " ".join(words)


def build(path: Path, conversations: int, per_conversation: int, seed: int) -> dict[str, Any]:
    from shopdesk.models import Direction, Message
    from shopdesk.search.feed import document
    from shopdesk.search.sqlite import SqliteIndex

    rng = random.Random(seed)
    index = SqliteIndex(path)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    languages = list(WORDS)
    batch, analysed_s, written_s, detected = [], 0.0, 0.0, 0
    total = conversations * per_conversation
    for n in range(total):
        conv = n % conversations
        language = languages[conv % len(languages)]
        message = Message(id=f"m_{n:08d}", conversation_id=f"c_{conv:06d}", created_at=start + timedelta(seconds=n),
                          direction=Direction.INBOUND if n % 3 else Direction.OUTBOUND,
                          text=message_text(rng, language))
        t0 = time.perf_counter()
        doc = document(message)
        analysed_s += time.perf_counter() - t0
        if doc is None:
            continue
        detected += doc.language == language
        batch.append(doc)
        if len(batch) == 100 or n == total - 1:
            t0 = time.perf_counter()
            index.index_many(batch)
            written_s += time.perf_counter() - t0
            batch = []
    return {"index": index, "messages": total, "analyse_us_per_message": round(analysed_s / total * 1e6, 1),
            "write_us_per_message": round(written_s / total * 1e6, 1),
            "language_detected_right": round(detected / total, 3), "file_mb": round(path.stat().st_size / 1e6, 1)}


def queries(rng: random.Random, count: int) -> list[tuple[str, str]]:
    from shopdesk.search.text import fold

    mix: list[tuple[str, str]] = []
    languages = list(WORDS)
    for i in range(count):
        language = languages[i % len(languages)]
        vocabulary = WORDS[language].split()
        kind = ("frequent word", "product word", "two words", "without accents", "inflected")[i % 5]
        if kind == "frequent word":
            q = rng.choice(vocabulary)
        elif kind == "product word":
            q = rng.choice(PRODUCTS)
        elif kind == "two words":
            q = f"{rng.choice(vocabulary)} {rng.choice(PRODUCTS)}"
        elif kind == "without accents":
            q = fold(rng.choice([w for w in vocabulary if fold(w) != w] or vocabulary))
        else:
            q = rng.choice(INFLECTIONS[language])[0]
        mix.append((kind, q))
    return mix


def names(index: Any, customers: int, query_count: int, seed: int) -> dict[str, Any]:
    """Customers' names indexed, then found as typed: latency and whether the right customers come back."""
    from shopdesk.logic.search import MAX_CUSTOMERS
    from shopdesk.search.text import fold, joined, name_terms

    rng = random.Random(seed)
    people = [(rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)) for _ in range(customers)]
    t0 = time.perf_counter()
    for n, (first, last) in enumerate(people):
        index.index_customer(f"u_{n:06d}", joined(name_terms(f"{first} {last}")))
    indexed_s = time.perf_counter() - t0
    timings: dict[str, list[float]] = {}
    right = 0
    for i in range(query_count):
        n = rng.randrange(customers)
        first, last = people[n]
        kind = ("first name's start", "first name", "first name and last name's start", "last name unaccented")[i % 4]
        q = {"first name's start": first[:3], "first name": first, "first name and last name's start":
             f"{first} {last[:2]}", "last name unaccented": fold(last)}[kind]
        t1 = time.perf_counter()
        found = index.query_customers(q, limit=MAX_CUSTOMERS)
        timings.setdefault(kind, []).append((time.perf_counter() - t1) * 1000)
        # every one found must be a right answer: each query word the start of a word of their name
        right += all(all(any(fold(part).startswith(fold(w)) for part in f"{people[int(c[2:])][0]} "
                                                                       f"{people[int(c[2:])][1]}".split())
                         for w in q.split()) for c in found) and bool(found)
    every = sorted(t for values in timings.values() for t in values)
    return {"customers": customers, "queries": len(every), "limit": MAX_CUSTOMERS,
            "p50_ms": round(median(every), 3), "p95_ms": round(quantiles(every, n=20)[18], 3),
            "max_ms": round(max(every), 3),
            "by_kind_p50_ms": {k: round(median(v), 3) for k, v in timings.items()},
            "queries_answered_right": round(right / len(every), 3),
            "index_us_per_customer": round(indexed_s / customers * 1e6, 1)}


PURGE_CONVERSATIONS = 3_000


def purge(folder: Path, per_conversation: int, seed: int, customers: int = 5) -> dict[str, Any]:
    """The purge after an erase, timed on an index of PURGE_CONVERSATIONS conversations (module docstring)."""
    from shopdesk.models import Direction, Message
    from shopdesk.search.feed import document
    from shopdesk.search.text import joined, name_terms

    path = folder / "purge.sqlite3"
    index = build(path, PURGE_CONVERSATIONS, per_conversation, seed)["index"]
    start = datetime(2026, 12, 1, tzinfo=UTC)
    timings, cpu, words = [], [], []
    for c in range(customers):
        word = f"quargenstein{c}x"
        words.append(word)
        for k in range(5):
            index.index_many([doc for j in range(6) if (doc := document(Message(
                id=f"m_erased{c}{k}{j}", conversation_id=f"c_erased{c}{k}", created_at=start,
                direction=Direction.INBOUND, text=f"{word} lives at 77 Zwiebelgasse, order {k}{j} not here")))])
        index.index_customer(f"u_erased{c}", joined(name_terms(f"Wilhelmina {word}")))
        index._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")     # their pages in the database, as days later
        for k in range(5):
            index.remove(f"c_erased{c}{k}")
        index.remove_customer(f"u_erased{c}")
        t0, c0 = time.perf_counter(), time.process_time()
        index.purge()
        timings.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    # a batch that re-indexed documents in place of others (the masking scan's writes): six messages of a
    # conversation holding a number, indexed and checkpointed, then indexed again masked, and the purge after it
    replaced, replaced_cpu, indexed_cpu, numbers = [], [], [], []
    for c in range(customers):
        number = f"{912345670 + c * 1111}"
        numbers.append(number)
        messages = [Message(id=f"m_masked{c}{j}", conversation_id=f"c_masked{c}", created_at=start,
                            direction=Direction.INBOUND, text=f"my BSN {number} is on the form, parcel {j}")
                    for j in range(6)]
        index.index_many([doc for m in messages if (doc := document(m))])
        index._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        masked = [doc for m in messages if (doc := document(m.model_copy(update={
            "text": (m.text or "").replace(number, f"[BSN •••• {number[-4:]}]")})))]
        c0 = time.process_time()
        index.index_many(masked)
        indexed_cpu.append((time.process_time() - c0) * 1000)
        t0, c0 = time.perf_counter(), time.process_time()
        index.purge()
        replaced.append((time.perf_counter() - t0) * 1000)
        replaced_cpu.append((time.process_time() - c0) * 1000)
    files = [p for p in sorted(folder.iterdir()) if p.name.startswith(path.name)]
    left = sorted({w for p in files for w in words if w[:10].encode() in p.read_bytes()})
    numbers_left = sorted({n for p in files for n in numbers if n.encode() in p.read_bytes()})
    return {"conversations": PURGE_CONVERSATIONS, "messages": PURGE_CONVERSATIONS * per_conversation,
            "file_mb": round(path.stat().st_size / 1e6, 1), "purges": len(timings),
            "p50_ms": round(median(timings), 1), "max_ms": round(max(timings), 1), "cpu_p50_ms": round(median(cpu), 1),
            "files_read": [p.name for p in files], "erased_words_left": left,
            "replaced": {"purges": len(replaced), "p50_ms": round(median(replaced), 1),
                         "max_ms": round(max(replaced), 1), "cpu_p50_ms": round(median(replaced_cpu), 1),
                         "batch_index_cpu_p50_ms": round(median(indexed_cpu), 2), "masked_numbers_left": numbers_left}}


def inflection_recall() -> dict[str, Any]:
    """Per language: of the inflection pairs, how many a query finds with stems, and with folding alone."""
    from shopdesk.search.text import fold, index_terms, query_terms

    result = {}
    for language, pairs in INFLECTIONS.items():
        stemmed = sum(all(set(forms) & set(index_terms(written, language)) for forms in query_terms(typed))
                      for typed, written in pairs)
        folded = sum(fold(typed) == fold(written) for typed, written in pairs)
        result[language] = {"pairs": len(pairs), "found_with_stems": stemmed, "found_folded_only": folded}
    return result


def run(conversations: int, per_conversation: int, query_count: int, seed: int = 11) -> dict[str, Any]:
    from shopdesk.logic.search import CANDIDATES

    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="bench-search-") as folder:
        t0 = time.perf_counter()
        built = build(Path(folder) / "search.sqlite3", conversations, per_conversation, seed)
        index = built.pop("index")
        build_s = time.perf_counter() - t0
        for _, q in queries(random.Random(seed + 1), 20):       # warm the page cache, as a running stack is
            index.query(q, limit=CANDIDATES)
        timings: dict[str, list[float]] = {}
        hits: list[int] = []
        for kind, q in queries(rng, query_count):
            t1 = time.perf_counter()
            found = index.query(q, limit=CANDIDATES)
            timings.setdefault(kind, []).append((time.perf_counter() - t1) * 1000)
            hits.append(len(found))
        named = names(index, conversations, query_count, seed)
        purged = purge(Path(folder), per_conversation, seed)
    every = sorted(t for values in timings.values() for t in values)

    def figures(values: list[float]) -> dict[str, float]:
        return {"p50": round(median(values), 2), "p95": round(quantiles(values, n=20)[18], 2),
                "max": round(max(values), 2), "samples": len(values)}

    return {"engine": "sqlite-fts5", "conversations": conversations, "messages": conversations * per_conversation,
            "candidate_limit": CANDIDATES, "p50_ms": figures(every)["p50"], "p95_ms": figures(every)["p95"],
            "max_ms": figures(every)["max"], "queries": len(every),
            "by_kind_ms": {kind: figures(values) for kind, values in timings.items()},
            "queries_with_hits": round(sum(1 for h in hits if h) / len(hits), 3),
            "build_seconds": round(build_s, 1), **built, "inflections": inflection_recall(), "names": named,
            "purge": purged,
            "date": datetime.now(UTC).isoformat(timespec="seconds")}


def report(result: dict[str, Any]) -> str:
    lines = [f"SEARCH - local engine (SQLite FTS5 + Snowball stems), {result['conversations']:,} conversations, "
             f"{result['messages']:,} messages",
             f"  query  p50 {result['p50_ms']} ms  p95 {result['p95_ms']} ms  max {result['max_ms']} ms  "
             f"({result['queries']} queries, {result['queries_with_hits']:.0%} with hits, "
             f"up to {result['candidate_limit']} conversations each)"]
    for kind, figures in result["by_kind_ms"].items():
        lines.append(f"    {kind:<16} p50 {figures['p50']:>6} ms  p95 {figures['p95']:>6} ms")
    lines.append(f"  index  {result['analyse_us_per_message']} us analysis + {result['write_us_per_message']} us "
                 f"write per message; {result['file_mb']} MB; language detected right "
                 f"{result['language_detected_right']:.0%}")
    found = ", ".join(f"{lang} {v['found_with_stems']}/{v['pairs']} (folded only {v['found_folded_only']})"
                      for lang, v in result["inflections"].items())
    lines.append(f"  inflected query forms found: {found}")
    n = result["names"]
    lines.append(f"  names  {n['customers']:,} customers: query p50 {n['p50_ms']} ms  p95 {n['p95_ms']} ms  "
                 f"max {n['max_ms']} ms ({n['queries']} queries, {n['queries_answered_right']:.0%} answered with "
                 f"only right customers, up to {n['limit']}); index {n['index_us_per_customer']} us a customer")
    p = result["purge"]
    lines.append(f"  purge  {p['conversations']:,} conversations ({p['file_mb']} MB): p50 {p['p50_ms']} ms  max "
                 f"{p['max_ms']} ms, CPU p50 {p.get('cpu_p50_ms')} ms ({p['purges']} erased customers); their words "
                 "left in "
                 f"{', '.join(p['files_read'])}: {', '.join(p['erased_words_left']) or 'none'}")
    r = p["replaced"]
    lines.append(f"         after a re-mask: p50 {r['p50_ms']} ms  max {r['max_ms']} ms, CPU p50 {r['cpu_p50_ms']} ms "
                 f"(the batch's own indexing {r['batch_index_cpu_p50_ms']} ms; {r['purges']} batches); masked "
                 f"numbers left: {', '.join(r['masked_numbers_left']) or 'none'}")
    return "\n".join(lines)


def main() -> None:
    from bench.harness import use_layer

    parser = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--messages-per-conversation", type=int, default=10)
    parser.add_argument("--queries", type=int, default=500)
    args = parser.parse_args()
    use_layer()
    result = run(args.conversations, args.messages_per_conversation, args.queries)
    print(report(result))
    save_result("search", result, dated=False)


if __name__ == "__main__":
    main()
