"""Text analysis shared by every search back-end: words, stems in the message's language, diacritics folded.

Both back-ends index and query the *analysed* terms this module makes, so a word found by one is found by
the other, and neither depends on an engine's own language analysers (OpenSearch has no Slovak one, SQLite
FTS5 only Porter for English).

- A word is a run of letters and digits (``\\w+``); case is folded (Turkish dotted/dotless i included).
- Stemming uses the Snowball stemmers of PyStemmer for en, es, pt, de, tr and id. Slovak has no Snowball
  stemmer: a light suffix stripper of its own (``slovak.py``, why and how measured there) takes its place.
- Every term is folded last: accents and other marks removed (``objednávka`` → ``objednavka``,
  ``teşekkürler`` → ``tesekkurler``), ``ß`` → ``ss``, so a customer who types without accents finds a
  message written with them and the other way round.
- A message is analysed in its own language (detected from its text, ``logic/language.py``); a word of a
  message whose language is unknown is indexed folded but not stemmed.
- A customer's name is not stemmed (names are not words of a language): each of its words is indexed folded
  with every prefix (``name_terms``), so the inbox's search box finds "Griselda
  Oosterhuis" by ``gris``, ``oosterhuis gri`` or ``Gríselda``; a query matches a name when every query word
  (folded) is one of its terms (``name_query``).
- A query is short and its language is rarely certain, so each query word becomes the set of its forms: the
  folded word and its stem in every stemming language. A query matches a message when every query word
  has one of its forms in the message. ``pedidos`` → {``pedidos``, ``pedid``, ``pedido``}: it finds "pedido"
  in a Spanish message and "pedidos" in a message of unknown language.
"""

# ruff: noqa: RUF001 - Turkish, Slovak and German letters on purpose

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache

import Stemmer

from shopdesk.search import slovak

STEMMERS = {"en": "english", "es": "spanish", "pt": "portuguese", "de": "german", "tr": "turkish",
            "id": "indonesian"}
LANGUAGES = ("en", "es", "pt", "de", "tr", "id", "sk")     # the customer languages
STEMMING = (*STEMMERS, "sk")                                # sk: the light stemmer of slovak.py
MAX_WORD = 40               # longer runs are ids, hashes or noise: kept whole, not stemmed
MIN_PREFIX = 1              # a name word is found by its prefixes from this length on ("Ana R")
_WORD = re.compile(r"\w+", re.UNICODE)
_SPECIAL = str.maketrans({"ß": "ss", "ı": "i", "İ": "i", "ø": "o", "Ø": "o", "đ": "d", "Đ": "d", "ł": "l",
                          "Ł": "l", "æ": "ae", "œ": "oe", "_": " "})


def fold(text: str) -> str:
    """Lower case without diacritics: ``Çok teşekkürler`` → ``cok tesekkurler``."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_SPECIAL))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


@cache
def _stemmer(language: str) -> Stemmer.Stemmer | None:
    name = STEMMERS.get(language)
    return Stemmer.Stemmer(name) if name else None


def words(text: str) -> list[str]:
    """The words of ``text``, lower case with their accents (the stemmers need them)."""
    return _WORD.findall(unicodedata.normalize("NFC", text.lower().replace("_", " ")))


def stem(word: str, language: str | None) -> str:
    """One word's term: its stem in ``language`` (when it has a stemmer), folded."""
    if language is None or len(word) > MAX_WORD or word.isdigit():
        return fold(word)
    if language == "sk":
        return fold(slovak.stem(word))
    stemmer = _stemmer(language)
    return fold(stemmer.stemWord(word) if stemmer is not None else word)


def index_terms(text: str, language: str | None) -> list[str]:
    """The terms a message is indexed under, in order (duplicates kept: they weigh in ranking)."""
    return [t for t in (stem(w, language) for w in words(text)) if t]


def query_forms(word: str) -> list[str]:
    """Every term a query word may have been indexed under: folded, and stemmed in each stemming language."""
    forms = [fold(word)] + [stem(word, language) for language in STEMMING]
    return [f for f in dict.fromkeys(forms) if f]


def query_terms(text: str) -> list[list[str]]:
    """A query's words, each as the list of its forms (a match needs one form of every word)."""
    seen: dict[str, list[str]] = {}
    for word in words(text):
        seen.setdefault(word, query_forms(word))
    return list(seen.values())


def joined(terms: Iterable[str]) -> str:
    """Terms as the space-separated text the engines' whitespace tokenisers read back."""
    return " ".join(terms)


def name_terms(name: str) -> list[str]:
    """The terms a customer's name is indexed under: each word folded, with its prefixes of ``MIN_PREFIX``
    letters or more (``Ana Ruiz`` → a, an, ana, r, ru, rui, ruiz)."""
    terms: dict[str, None] = {}
    for word in words(name):
        folded = fold(word)[:MAX_WORD]
        for end in range(MIN_PREFIX, len(folded) + 1):
            terms[folded[:end]] = None
    return [t for t in terms if t]


def name_query(text: str) -> list[str]:
    """A name query's words, folded: a name matches when it has every one of them among its terms."""
    return list(dict.fromkeys(t for t in (fold(w)[:MAX_WORD] for w in words(text)) if t))
