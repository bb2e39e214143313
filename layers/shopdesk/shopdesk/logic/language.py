"""Which language a customer writes in: the text, with what a provider, browser or mail client says as a hint.

``detect_language(text, hints)`` answers an ISO 639-1 code (``en``, ``es``, ``pt``, ``de``, ``tr``, ``id``,
``sk``) or None when it is unsure; the caller then falls back to the shop's default language.

1. **The text**, read with fastText's language identification model restricted to the shop's languages
   (``shopdesk.understanding.language``, which says how). A message in a language we recognise but do not
   answer in (French, Italian, Dutch...) answers None, like a text with no words.
2. **A hint** (what a provider, browser or mail client says from its own settings: a Telegram ``language_code``
   ``de``, a widget's ``Accept-Language: tr-TR,tr;q=0.9,en;q=0.8``, an email's ``Content-Language``; the first
   naming a supported language, within an Accept-Language list the highest ``q``; ``fr-FR,en;q=0.5`` names
   ``en``) is the interface's language, not the text's, so every hint is weak: it decides only where the text
   does not (no language, or one the detector reads below ``SURE``, 0.7, the confidence from which a conversation
   takes a language) or agrees with it; a text sure of another language keeps its own (German from an
   English-language browser, Telegram app or Outlook is German).

``supported()`` lists the languages answered; ``register(code, aliases)`` adds one (its acknowledgement
templates go in shopdesk.logic.expectations). Everything is deterministic: the model is a file in the
deployment package, read once per process; nothing is downloaded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

_ALIASES: dict[str, frozenset[str]] = {
    "en": frozenset({"eng", "english"}),
    "es": frozenset({"spa", "spanish", "español", "espanol", "castellano"}),
    "pt": frozenset({"por", "portuguese", "português", "portugues"}),
    "de": frozenset({"deu", "ger", "german", "deutsch"}),
    "tr": frozenset({"tur", "turkish", "türkçe", "turkce"}),
    "id": frozenset({"in", "ind", "indonesian", "bahasa indonesia", "indonesia"}),
    "sk": frozenset({"slk", "slo", "slovak", "slovenčina", "slovencina"}),
}
_index: dict[str, str] = {}


def register(code: str, aliases: Iterable[str] = ()) -> None:
    """Answer one more language (or more names for one): ``register("nl", ["dutch", "nederlands"])``."""
    _ALIASES[code] = frozenset(a.strip().lower() for a in aliases if a.strip()) | _ALIASES.get(code, frozenset())
    _rebuild()


def unregister(code: str) -> None:
    _ALIASES.pop(code, None)
    _rebuild()


def supported() -> tuple[str, ...]:
    """The language codes the detector can answer, in registration order."""
    return tuple(_ALIASES)


def _rebuild() -> None:
    _index.clear()
    for code, aliases in _ALIASES.items():
        _index[code] = code
        for alias in aliases:
            _index[alias] = code


# -- hints ----------------------------------------------------------------------------------------------------

def language_from_hints(hints: Iterable[str | None] | str | None) -> str | None:
    """The first supported language the hints name: locales (``pt_BR``), language tags (``de-DE``),
    Accept-Language lists (``tr-TR,tr;q=0.9,en;q=0.8``, best ``q`` first) or names (``Deutsch``)."""
    if hints is None:
        return None
    if isinstance(hints, str):
        hints = (hints,)
    for hint in hints:
        if not isinstance(hint, str) or not hint.strip():
            continue
        for tag in _ranked_tags(hint):
            code = normalise_code(tag)
            if code is not None:
                return code
    return None


MAX_LANGUAGE_HEADER = 1024       # characters of a header listing languages read; a longer one is no client's


def from_language_header(header: str | None) -> str | None:
    """The first supported language a header listing language tags names, as its code: a browser's
    ``Accept-Language`` (``pt-BR,pt;q=0.9,en;q=0.8`` -> ``pt``: the highest ``q`` first, equals in their order, ``*``
    and ``q=0`` skipped) or a mail's ``Content-Language`` (RFC 3282, ``fr, de-DE`` -> ``de``: no ``q``, so in its
    order). None when it names none we answer, or is no header (not text, longer than ``MAX_LANGUAGE_HEADER``, tags
    that are not tags): never an error."""
    if not isinstance(header, str) or len(header) > MAX_LANGUAGE_HEADER:
        return None
    return language_from_hints(header)


def from_content_language(header: str | None) -> str | None:
    """The first supported language a mail's ``Content-Language`` names (RFC 3282), its comments taken out first
    (``de (German)`` -> ``de``: RFC 5322's CFWS, nested, ``\\)`` escaped; one left open runs to the end), then
    read as ``from_language_header`` reads it, within its bound."""
    if not isinstance(header, str) or len(header) > MAX_LANGUAGE_HEADER:
        return None
    return from_language_header(_without_comments(header))


def _without_comments(value: str) -> str:
    kept: list[str] = []
    depth = 0
    escaped = False
    for char in value:
        if depth:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
            continue
        if char == "(":
            depth = 1
            kept.append(" ")
        else:
            kept.append(char)
    return "".join(kept)


def normalise_code(tag: str | None) -> str | None:
    """A supported language code for a tag or name (``pt-BR`` -> ``pt``, ``in`` -> ``id``), or None."""
    if not tag:
        return None
    cleaned = tag.strip().lower().replace("_", "-")
    if cleaned in _index:
        return _index[cleaned]
    primary = cleaned.split("-")[0].strip()
    return _index.get(primary)


# RFC 9110's qvalue: 0 to 1 with at most three decimals ("2", "nan", "inf", "1e0" are none)
_QVALUE = re.compile(r"0(\.[0-9]{0,3})?|1(\.0{0,3})?")


def _ranked_tags(hint: str) -> list[str]:
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(hint.split(",")):
        tag, _, params = part.partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                value = value.strip()
                quality = float(value) if _QVALUE.fullmatch(value) else 0.0    # not a qvalue: the tag is skipped
        tag = tag.strip()
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(ranked)]


# -- text -----------------------------------------------------------------------------------------------------

def detect_language(text: str | None, hints: Sequence[str | None] = ()) -> str | None:
    """The customer's language (``en``, ``es``, ``pt``, ``de``, ``tr``, ``id``, ``sk``, ...) or None if unsure.
    ``hints`` decide only where the text is not ``SURE`` of another language."""
    from shopdesk.understanding import cues
    from shopdesk.understanding.language import detect, with_weak_hint

    detected = detect(text, supported(), cue_languages=cues.languages_with)
    found = with_weak_hint(detected, language_from_hints(hints)).language
    return found if found in _index.values() else None


_rebuild()
