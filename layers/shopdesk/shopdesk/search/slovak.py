"""A light Slovak stemmer: inflectional endings stripped, nothing else.

Snowball (PyStemmer) has no Slovak stemmer, and no maintained package on PyPI offers one. This follows the
"light" stemmers of Dolamic & Savoy for Czech (the nearest language, the one Lucene ships): remove the case
endings of nouns and adjectives, the common verb endings, and the endings of verbal nouns (``vrátenie`` →
``vrát``, as ``vrátiť``), keeping at least three letters; no consonant alternations, no derivation beyond that.
Measured against cutting every word to its first five letters (``bench/bot.py --tune``): see the README.

It works on lower-case words with their accents (``words``); the caller folds the result like every other term.
"""

from __future__ import annotations

MIN_STEM = 3

# Longest first; the first that leaves MIN_STEM letters wins (two endings of one length never both match).
_ENDINGS = tuple(sorted({
    # verbal nouns and infinitives
    "ovanie", "ovania", "ovaní", "enie", "enia", "ení", "anie", "ania", "aní", "ovať", "ieť", "iť", "ať", "úť",
    # present tense and past participles
    "ujem", "uješ", "ujeme", "ujete", "ujú", "uje", "íme", "íte", "ime", "ite", "em", "eš", "eme", "ete", "ia",
    "ím", "íš", "la", "lo", "li",
    # adjectives
    "ejšieho", "ejšiemu", "ejších", "ejšími", "ejší", "ého", "ému", "ých", "ým", "ými", "ej", "ou", "ý", "é", "á",
    "í", "ú", "ie",
    # nouns
    "iach", "ami", "ách", "och", "ovi", "ov", "om", "ám", "iam", "iu", "ii", "a", "e", "i", "o", "u", "y",
}, key=len, reverse=True))


def stem(word: str) -> str:
    """``objednávky`` → ``objednávk``; ``doručenie`` → ``doruč``; ``zmeniť`` → ``zmen``."""
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= MIN_STEM:
            return word[: -len(ending)]
    return word
