"""Mask what must never be stored: payment card numbers, IBANs and the shop's own patterns.

Runs at ingest, in the layer, before the message's transaction, so the table, the stream (and from it the
search index, the live notices, the event lake), the work queue and the logs only ever see the masked text.
Candidates are found with a loose regular expression and confirmed with python-stdnum: a card number must
pass the Luhn check (``stdnum.luhn``) and start like a card scheme's number (``CARD_PREFIXES``); an IBAN must
pass ``stdnum.iban`` (country format and the ISO 7064 mod 97 check). A card is looked for as people type one: on
one line, from the start of every group in a run of digits and separators to the end of a group, in groups of four
or more digits but the last, or in one group (``_card_spans``); so a card after an order number or a quantity ("order
1001 4111 1111 1111 1111", or on the line before) is found and the number before it kept, and numbers in a phone's or
an address's short groups are never read as one. A card split over lines (a hard wrap, blocks of HTML, the same in a
quoted mail) is found too, when its lines hold nothing else but, on the first, numbers before it, it is laid out as a
card is printed, and it is not in a list of numbers written alike (``_split_card_spans``). Order numbers, phone
numbers and dates do not pass those checks, so they are left alone. What is kept: the last four characters, so an
agent can still ask "the card ending 4242?". The message lists what was masked (``Message.masked``) and the agent
sees it.

Patterns an admin adds (``PrivacySettings.masking_patterns``) are regular expressions; a match is masked the
same way, keeping its last four characters when it is longer than eight. They run on the ``regex`` package, which
avoids most runaway backtracking and stops the rest: a pattern is refused when saved if it takes too long on text
made to make it backtrack (``too_slow``), and one that still takes longer than ``PATTERN_TIMEOUT_S`` on a message
withholds that text (``withheld``): nothing unmasked is stored, and ingest never waits on a pattern.

Mail is the one thing stored before shopdesk sees it (SES writes it to the inbound-mail bucket): ``mask_mail``
gives the same mail with its Subject and text parts masked, which the inbound function writes over it once the
message is stored, so an unmasked card number rests there for seconds instead of the bucket's 90 days.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email import policy as email_policy
from email import utils as email_utils
from email.errors import MessageError
from email.headerregistry import Address, Group
from email.message import EmailMessage
from email.parser import BytesParser
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from stdnum import iban, luhn, numdb

if TYPE_CHECKING:
    import regex

logger = Logger(child=True)

# How people group these numbers when they type or paste them, by Unicode category: any space (``\s``, which holds
# every space separator, Zs: no-break, figure, ideographic, and tabs and line breaks), any dash (dash punctuation,
# Pd: the hyphen-minus, the dashes, the full-width and small hyphen-minus an input method types) and the minus sign,
# the full stop in its forms (full-width, small, and the ideographic one and its half-width form, which a Japanese
# input method types for the period key in kana mode), the prolonged sound mark and its half-width form (what the
# same input method types for the hyphen key in kana mode: a letter to Unicode, a dash to who types it), and the
# invisible format characters (Cf: the soft hyphen,
# zero-width spaces and joiners, the word joiner, a byte order mark, bidi marks) that pasted text brings, alone or
# next to another. A few at a time ("4242 - 4242", "4242\u00ad 4242"): up to three in a row, visible or not, as one
# class repeated, which costs no more to scan than before. Digits are any script's (``\d`` is Unicode: a phone
# keyboard may type full-width or Arabic-Indic ones); they are read as ASCII digits for the checks. Python's ``re``
# has no Unicode categories, and the ``regex`` package is not imported at every function's cold start: Pd and Cf are
# written out here, and tests/unit/test_privacy_masking.py checks them against the ``regex`` package's ``\p{Pd}``
# and ``\p{Cf}``.
_DASHES = (r"\u002D\u058A\u05BE\u1400\u1806\u2010-\u2015\u2E17\u2E1A\u2E3A\u2E3B\u2E40\u2E5D\u301C\u3030\u30A0"
           r"\uFE31\uFE32\uFE58\uFE63\uFF0D\U00010D6E\U00010EAD\u2212")                   # Pd, and the minus sign
_DOTS = r"\u002E\uFF0E\uFE52\u3002\uFF61"
_KANA_HYPHEN = r"\u30FC\uFF70"         # KATAKANA-HIRAGANA PROLONGED SOUND MARK, and its half-width form
_INVISIBLE = (r"\u00AD\u0600-\u0605\u061C\u06DD\u070F\u0890\u0891\u08E2\u180E\u200B-\u200F\u202A-\u202E"
              r"\u2060-\u2064\u2066-\u206F\uFEFF\uFFF9-\uFFFB\U000110BD\U000110CD\U00013430-\U0001343F"
              r"\U0001BCA0-\U0001BCA3\U0001D173-\U0001D17A\U000E0001\U000E0020-\U000E007F")      # Cf
_SEP = rf"[\s{_DASHES}{_DOTS}{_KANA_HYPHEN}{_INVISIBLE}]"
SEPARATOR = re.compile(_SEP)
_SEPARATORS = re.compile(rf"({_SEP}+)")
_GROUP = rf"{_SEP}{{0,3}}"
# A card number is typed on one line, in groups of four or more digits but the last (4-4-4-4, 4-6-5, 4-6-4,
# 4-4-4-4-3) or in one group of 13-19; phone numbers and addresses have groups of 1-3, and an order number on the line
# before is a number of its own. So a run of digits and separators for cards (``_CARD_RUN``) does not cross a line
# break (a card split over lines is a run a line: ``_split_card_spans``), and in it a group is digits joined by
# nothing or by invisible characters only ("4111 11\u200b11 …", a soft hyphen between every digit); a visible
# separator (a space, a dash, a full stop) ends one. The look-behind and look-ahead keep a run's ends out of a number
# (a card's digits inside "94111111111111111100" are an id).
_LINE_BREAKS = r"\n\r\v\f\x1c-\x1e\x85\u2028\u2029"
_CARD_SEP = rf"(?:[^\S{_LINE_BREAKS}]|[{_DASHES}{_DOTS}{_KANA_HYPHEN}{_INVISIBLE}])"
_CARD_RUN = re.compile(rf"(?<!\d)\d(?:{_CARD_SEP}{{0,3}}\d)*(?!\d)")
_CARD_GROUP = re.compile(rf"\d(?:[{_INVISIBLE}]*\d)*")
CARD_GROUP_MIN = 4              # digits in each group of a grouped card number but the last
# A card split over lines (a mail client's hard wrap, blocks of HTML read as text: ``_split_card_spans``): the first
# line ends with some of its groups, each line after it that is not blank holds nothing but more of them, and the last
# starts with the rest; between them nothing but spaces, invisible characters, line breaks and, at the start of a
# line, the marks of a quoted mail ("> ", "> > ", ">>"), as many on each of its lines
_QUOTED_GAP = re.compile(rf"[\s>{_INVISIBLE}]*")         # what may be between two runs of a split card
_LINE_BREAK = re.compile(rf"[{_LINE_BREAKS}]")
_QUOTE_MARKS = re.compile(rf"(?:[^\S{_LINE_BREAKS}]|[>{_INVISIBLE}])*")     # at the start of a line
SPLIT_LINES_MAX = 5             # lines a split card is read over: one group of four a line, and one more
_EXPIRY = re.compile(r"/\d")                    # what follows a month in an expiry date ("12/27")
# An IBAN the same way, from any two letters and two digits: at the start of a group ("ref AB12 NL91 …" holds one
# after the reference) or glued to the word or number before it ("IBANDE89…", "ref123DE89…"). What starts inside a
# word is an IBAN only as one is: a country that has IBANs, its length ending at the end of a group (never inside one:
# an IBAN's start inside a longer id is an id), its format, and the check digits (mod 97, which one in 97 of what
# gets that far passes by chance). One also ends where another IBAN starts with nothing between them (``_iban_spans``)
_IBAN = re.compile(rf"[A-Za-z]{{2}}\d{{2}}(?:{_GROUP}[A-Za-z0-9]){{11,30}}(?![A-Za-z0-9])")
_IBAN_REACH = 4 + 30 * 4        # a candidate at most: two letters, two digits, 30 more with up to three separators each
_WORD_END = re.compile(r"[A-Za-z0-9]")      # what the candidate's look-ahead refuses to end before
_IBAN_START = re.compile(r"[A-Za-z]{2}\d{2}")
# Issuer identification ranges of the schemes a shop takes (Visa, Mastercard, Amex, Discover, JCB, Diners,
# UnionPay, Maestro): a Luhn-valid number that starts otherwise is more likely an id than a card.
CARD_PREFIXES = ("4", "51", "52", "53", "54", "55", "22", "23", "24", "25", "26", "27", "34", "37", "6", "35",
                 "30", "36", "38", "39", "50", "56", "57", "58")
MASK = "••••"
PATTERN_TIMEOUT_S = 0.1         # one admin pattern on one text, at ingest
PROBE_TIMEOUT_S = 0.05          # one admin pattern on one probe, when saved
# Text that makes a badly written pattern backtrack: long runs of what patterns repeat, then what ends no match
PROBES = tuple(run * (4000 // len(run)) + end for run in ("a", "1", " ", "a1", "1 ", "ab", "-1", "\n", "a.")
               for end in ("!", "\x00"))


@dataclass(frozen=True)
class Pattern:
    """A shop's own kind of secret: a name the agent sees and a regular expression."""

    name: str
    regex: regex.Pattern[str]


@dataclass(frozen=True)
class Masked:
    text: str | None
    kinds: tuple[str, ...]          # what was masked, in order of first appearance: card, iban, <pattern name>


def _compact(value: str) -> str:
    """``value`` without its grouping, every digit as its ASCII one (full-width "42 42" → "4242")."""
    compact = SEPARATOR.sub("", value)
    if compact.isascii():
        return compact
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in compact)


def is_card_number(candidate: str) -> bool:
    digits = _compact(candidate)
    return 13 <= len(digits) <= 19 and digits.isdigit() and digits.startswith(CARD_PREFIXES) and luhn.is_valid(digits)


_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)       # a digit doubled, the digits of the double added (Luhn)


def _card_lengths(digits: str) -> set[int]:
    """The lengths of the starts of compact ``digits`` that are card numbers (``is_card_number``), all in one pass:
    the start of length k doubles the digits at the positions (from 0) of k's parity, so two running sums, one for
    each parity, give every start's Luhn total. A start whose total passes is confirmed with ``stdnum.luhn``."""
    if not (digits.isdigit() and digits.startswith(CARD_PREFIXES)):
        return set()
    sums, found = [0, 0], set()          # sums[0]: the digits at even positions doubled; sums[1]: at odd ones
    for length, digit in enumerate(map(int, digits[:19]), 1):
        parity = (length - 1) % 2
        sums[parity] += _DOUBLED[digit]
        sums[1 - parity] += digit
        if length >= 13 and sums[length % 2] % 10 == 0 and luhn.is_valid(digits[:length]):
            found.add(length)
    return found


@functools.cache
def _iban_length(country: str) -> int:
    """How many characters an IBAN of ``country`` has (0: no IBANs by that code), from python-stdnum's register
    (the BBAN's structure, "4!a10!n", and the four of the country and check digits)."""
    [(code, facts), *_] = numdb.get("iban").info(f"{country}00")
    structure = facts.get("bban") if code == country else None
    return 4 + sum(int(count) for count in re.findall(r"(\d+)!", structure)) if structure else 0


def _iban_lengths(compact: str) -> set[int]:
    """The lengths of the starts of a compact value that are IBANs: only the one of its country's length can be."""
    length = _iban_length(compact[:2].upper())
    return {length} if length and iban.is_valid(compact[:length]) else set()


def _tail(value: str) -> str:
    compact = _compact(value)
    return compact[-4:] if len(compact) > 8 else ""


def _label(kind: str, value: str) -> str:
    tail = _tail(value)
    return f"[{kind} {MASK} {tail}]" if tail else f"[{kind} {MASK}]"


_WITHHELD = ": the text could not be checked in time and is withheld"


def labels(names: Iterable[str] = ()) -> re.Pattern[str]:
    """What masking writes over a stretch (``_label``, ``withheld``) for a card, an IBAN and the patterns ``names``:
    the kind as it is, whatever it holds (brackets too), then the mask and the last four characters (any four, a
    bracket too) or the reason it was withheld. A label of another kind quoted in a text is text."""
    kinds = "|".join(map(re.escape, sorted({"card", "IBAN", *names}, key=len, reverse=True)))
    return re.compile(rf"\[(?:{kinds}) {MASK}(?: .{{4}}|{re.escape(_WITHHELD)})?\]")


def compile_pattern(text: str) -> regex.Pattern[str]:
    """A regular expression (Python's syntax); ValueError when it is not one."""
    import regex  # only where a shop has patterns of its own: not at every inbound function's cold start

    try:
        return regex.compile(text)
    except regex.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from exc


def compile_patterns(patterns: Iterable[tuple[str, str]]) -> list[Pattern]:
    """(name, regex) pairs; a regex that does not compile is a ValueError naming it."""
    compiled = []
    for name, text in patterns:
        try:
            compiled.append(Pattern(name, compile_pattern(text)))
        except ValueError as exc:
            raise ValueError(f"masking pattern {name!r}: {exc}") from exc
    return compiled


# What customers write with nothing in it to mask: a pattern that masks most of it would mask everything
PLAIN = ("Hello, where is my order? It was due on Monday and has not arrived yet.",
         "Thanks a lot for your help, have a nice day!",
         "Can I return the blue shoes in size 42 if they do not fit?")
BROAD_SHARE = 0.5               # of a plain sentence's characters
# The fewest characters a pattern may match: a shorter match is an ordinary number or word (a size, a quantity, a
# day, "XL"), not a secret, and a save masks what is already stored with the pattern, for good
MIN_MATCH = 4
# Short words and numbers as customers write them: what a pattern is also tried on, a match shorter than MIN_MATCH
# found there refusing it whatever its parse says
SHORT = "Order 2 of 3: size XL, 42 EUR, €5 off, ok? I got 1-2 days, #7 Ja/Nee, ABC 123, x."


def too_broad(text: str) -> str | None:
    """Why a pattern would mask what is not a secret (None: it would not): it matches an empty string (``\\d*``,
    ``\\b``: a mark between every character of every message), or it masks more than ``BROAD_SHARE`` of a
    plain sentence (``.``, ``\\w+``: every message would be masked away), or its shortest match is under
    ``MIN_MATCH`` characters (``\\d+``, ``\\b\\d{3}\\b``: every size, quantity and price). Masking is written over
    the text the customer sent, and over what is already stored when a pattern is saved, and what it takes is never
    kept: such a pattern would lose every message."""
    pattern = compile_pattern(text)
    for sentence in PLAIN:
        try:
            matches = list(pattern.finditer(sentence, timeout=PROBE_TIMEOUT_S))
        except TimeoutError:
            continue                                        # too_slow says so
        if any(m.end() == m.start() for m in matches):
            return "matches an empty text (as \\d* or \\b do): it would mark every message between its letters"
        if sum(m.end() - m.start() for m in matches) > BROAD_SHARE * len(sentence):
            return (f"masks most of an ordinary message ({sentence!r}): it would mask every message, not a "
                    "secret in it")
    shortest = shortest_match(text, pattern)
    if isinstance(shortest, str):
        return (f"{shortest} (a pattern is refused unless its shortest match is known to be at least {MIN_MATCH} "
                "characters)")
    if shortest == 0:
        return "matches an empty text (as \\d* or \\b do): it would mark every message between its letters"
    if shortest < MIN_MATCH:
        return (f"matches a text as short as {shortest} character{'s' if shortest > 1 else ''} (as \\d+ matches "
                f"the 42 of a size): it would mask ordinary numbers and words in every message, and in what is "
                f"already stored for good; write what sets the secret apart (ORD-\\d{{6}}, \\d{{9}}), at least "
                f"{MIN_MATCH} characters")
    return None


def engine_width(text: str) -> int | str:
    """The fewest characters ``text`` matches as the ``regex`` package, which masks with it, reads it (what a
    lookaround asks of the text around is not counted), or why that cannot be told. Python's own parser reads some of
    the package's syntax otherwise (``[[:digit:]]`` is a POSIX class to the package, a set of ":digt[" then a "]" to
    ``re``), so the package's parser is asked. It has no public way to ask either: its private ``_regex_core`` is read
    here only, and what cannot be measured from it (``_width``), or a package whose parser has changed, refuses the
    pattern rather than let a guess through. A backreference reads the width of its group's one definition; one to a
    group defined more than once (a branch reset, ``(?|(\\d)|(\\d{9}))\\1``, or a name given twice) is refused: which
    definition it reads is known only when matching (an earlier turn of a repeat may have set the narrow one)."""
    try:
        import regex
        from regex import _regex_core as core

        core.DEFAULT_VERSION = regex.DEFAULT_VERSION
        flags = 0
        while True:                                     # as regex.compile: a global flag met later parses it again
            source = core.Source(text)
            info = core.Info(flags, source.char_type, {})
            source.ignore_space = bool(info.flags & regex.VERBOSE)
            try:
                parsed = core._parse_pattern(source, info)
                break
            except core._UnscopedFlagSet:
                flags = info.global_flags
        groups = _Groups()
        width = _width(core, info, parsed, groups)
        if twice := sorted(n for n in groups.referred if groups.defined[n] > 1):
            raise _Unmeasured(f"a backreference to group {twice[0]}, which is defined more than once (a branch reset "
                              "(?|...|...) or a name given twice), cannot be measured: it may read the shortest of "
                              "them, give each its own group")
    except _Unmeasured as exc:
        return str(exc)
    except Exception:       # whatever a changed private parser raises: not measured, so refused
        logger.exception("the regex package's parser could not be read")
        return "cannot be measured with this version of the regex package"
    return math.ceil(width)


class _Unmeasured(ValueError):
    """Why a pattern's shortest match cannot be told from its parse."""


@dataclass
class _Groups:
    """What ``_width`` reads of the groups: each one's width (the smallest, for one defined more than once), how many
    times each is defined (in lookarounds too) and the groups a backreference reads."""

    widths: dict[int, Fraction] = field(default_factory=dict)
    defined: Counter[int] = field(default_factory=Counter)
    referred: set[int] = field(default_factory=set)


def _width(core: Any, info: Any, node: Any, groups: _Groups) -> Fraction:
    """The fewest characters ``node`` (of the regex package's parse) matches; ``groups``: the groups read so far, for
    a reference to one (a group in a lookaround is read too: a reference after it consumes what it captured). A
    character matched with full case-folding (``(?fi)``, and ``(?i)`` in the package's version 1) counts a third:
    "ss" matches "ß" so, and a character folds to three at most."""
    def char(case_flags: int) -> Fraction:
        return Fraction(1, 3) if case_flags & core.FULLIGNORECASE == core.FULLIGNORECASE else Fraction(1)

    kind = type(node)
    if isinstance(node, core.StringSet):
        raise _Unmeasured("a named list (\\L<name>) cannot be measured: write its words out")
    if kind is core.Sequence:
        return sum((_width(core, info, item, groups) for item in node.items), Fraction(0))
    if kind is core.Branch:
        return min((_width(core, info, branch, groups) for branch in node.branches), default=Fraction(0))
    if kind is core.Group:
        width = _width(core, info, node.subpattern, groups)
        groups.defined[node.group] += 1
        groups.widths[node.group] = min(width, groups.widths.get(node.group, width))
        return width
    if kind is core.Atomic:
        return _width(core, info, node.subpattern, groups)
    if kind in (core.GreedyRepeat, core.LazyRepeat, core.PossessiveRepeat):
        return node.min_count * _width(core, info, node.subpattern, groups)
    if kind in (core.Conditional, core.LookAroundConditional):
        if kind is core.LookAroundConditional:
            _width(core, info, node.subpattern, groups)     # its groups; what it asks of the text is not counted
        return min(_width(core, info, node.yes_item, groups), _width(core, info, node.no_item, groups))
    if kind is core.LookAround:
        _width(core, info, node.subpattern, groups)
        return Fraction(0)
    if kind in (core.Character, core.Property, core.Range) or isinstance(node, core.SetBase):
        return Fraction(0) if node.zerowidth else char(node.case_flags)
    if kind in (core.String, core.Literal):
        return len(node.characters) * char(node.case_flags)
    if kind in (core.Any, core.AnyAll, core.AnyU, core.Grapheme):
        return Fraction(1)
    if kind is core.RefGroup:
        group = int(node.group if isinstance(node.group, int) else info.group_index.get(node.group, node.group))
        groups.referred.add(group)
        return groups.widths.get(group, Fraction(0)) * char(node.case_flags)
    if kind is core.Keep:
        raise _Unmeasured("\\K starts the match later than the pattern does, so its shortest match cannot be "
                          "measured: write what comes before it as a lookbehind, (?<=...)")
    if kind is core.Fuzzy:
        raise _Unmeasured("fuzzy matching ({e<=1} and the like) matches texts shorter than it is written, so its "
                          "shortest match cannot be measured: write the pattern without it")
    if kind in (core.CallGroup, core.CallRef):
        raise _Unmeasured("a recursive pattern ((?R), (?1)) cannot be measured: write it out")
    if isinstance(node, core.ZeroWidthBase):
        return Fraction(0)                      # anchors, boundaries (\b, \m, \M), (*FAIL), (*SKIP), (*PRUNE)
    raise _Unmeasured(f"its shortest match cannot be measured ({kind.__name__})")


def shortest_match(text: str, pattern: regex.Pattern[str]) -> int | str:
    """The fewest characters ``text`` matches (``engine_width``), or why that cannot be told. A match it has in
    ``SHORT`` (ordinary words and numbers) that is shorter is the shortest known. Why the width cannot be told is
    final: a match in ``SHORT`` says how short one match is, never that none is shorter (``(?:Order|ZZ){e<=1}``
    matches "Order" there, and " Z" in a message)."""
    width = engine_width(text)
    if isinstance(width, str):
        return width
    try:
        lengths = [m.end() - m.start() for m in pattern.finditer(SHORT, timeout=PROBE_TIMEOUT_S)]
    except TimeoutError:
        return width                                        # too_slow says so
    if lengths and min(lengths) < width:
        return min(lengths)
    return width


def too_slow(text: str) -> bool:
    """Whether a pattern takes longer than ``PROBE_TIMEOUT_S`` on one of the ``PROBES`` (nested repeats such as
    ``(a|aa)+$`` backtrack without end on a long run with no match)."""
    pattern = compile_pattern(text)
    for probe in PROBES:
        try:
            pattern.search(probe, timeout=PROBE_TIMEOUT_S)
        except TimeoutError:
            return True
    return False


def withheld(name: str) -> str:
    """What is stored instead of a text a pattern could not be applied to in time."""
    return f"[{name} {MASK}{_WITHHELD}]"


def _valid_prefix(value: str, lengths: Callable[[str], set[int]]) -> int:
    """The length of the longest start of ``value``, ending at a group boundary, that passes (0: none): ``lengths``
    gives the lengths of the starts of ``value``'s compact value that do. A loose match may run on into the next word
    or number ("NL91 ABNA 0417 1643 00 thanks", "4242 4242 4242 4242 12/29"); people group these numbers with spaces
    or dashes. Each character that is not a separator is one of the compact value's."""
    passing = lengths(_compact(value))
    if not passing:
        return 0
    pieces = _SEPARATORS.split(value)                  # groups and the separators between them, in turn
    ends = list(itertools.accumulate(map(len, pieces)))[::2]
    sizes = list(itertools.accumulate(map(len, pieces[::2])))
    for end, size in zip(reversed(ends), reversed(sizes), strict=True):
        if size in passing:
            return end
    return 0


def _spans(text: str, candidate: re.Pattern[str], lengths: Callable[[str], set[int]]) -> list[tuple[int, int]]:
    """Where in ``text`` what passes (``lengths``) is, in order. ``candidate`` is tried at every start it allows (an
    IBAN's: any two letters before two digits), and from each the longest window that ends at a group boundary and
    passes is taken: a run that fails as a whole ("order 1001 4111 1111 1111 1111") still gives the card inside it,
    and what is before it stays. Windows that overlap are one span: a window that passes by chance (a phone number
    and the card's first groups) must not leave the rest of a card showing. The cost is bounded: at most one
    candidate per character, each at most 34 characters (an IBAN's most) and the separators between them."""
    spans: list[tuple[int, int]] = []
    pos = 0
    while (match := candidate.search(text, pos)) is not None:
        pos = match.start() + 1
        length = _valid_prefix(match.group(0), lengths)
        if not length:
            continue
        _join(spans, match.start(), match.start() + length)
    return spans


def _join(spans: list[tuple[int, int]], start: int, end: int) -> None:
    """Add ``start``-``end`` to ``spans`` (in order of their starts): one overlapping the last is one with it."""
    if spans and start < spans[-1][1]:
        spans[-1] = (spans[-1][0], max(spans[-1][1], end))
    else:
        spans.append((start, end))


def _iban_before(text: str, end: int) -> int | None:
    """The start of an IBAN (``_spans``) that ends at ``end``, glued to what comes after it (None: none)."""
    before = text[max(0, end - _IBAN_REACH):end]
    found = _spans(before, _IBAN, _iban_lengths)
    return end - len(before) + found[-1][0] if found and found[-1][1] == len(before) else None


@functools.cache
def _iban_of_length(length: int) -> re.Pattern[str]:
    """An IBAN of ``length`` characters, grouped as ``_IBAN`` allows, whatever comes after it."""
    return re.compile(rf"[A-Za-z]{{2}}\d{{2}}(?:{_GROUP}[A-Za-z0-9]){{{length - 4}}}")


def _iban_before_word(text: str, start: int) -> int:
    """The end of the IBAN at ``start`` when its last character is a digit with a letter right after it (0: none): its
    country's length, counted from ``start`` over the separators, ends it there, and ``stdnum.iban`` checks it."""
    if not (length := _iban_length(text[start:start + 2].upper())):
        return 0
    if (match := _iban_of_length(length).match(text, start)) is None:
        return 0
    end = match.end()
    if not (text[end - 1] in "0123456789" and end < len(text) and text[end].isascii() and text[end].isalpha()):
        return 0
    return end if iban.is_valid(_compact(match.group(0))) else 0


def _iban_spans(text: str) -> list[tuple[int, int]]:
    """Where in ``text`` IBANs are, in order (``_spans``), and those written back to back with nothing between them
    ("DE89…3000GB82…5432"): an IBAN that ends where one found starts ends there, not inside a word, so it is looked
    for in what comes just before, and from there the one before it, and so on. An IBAN whose last digit runs into a
    word ("DE89…3000thanks", a chain's last: "DE89…3000GB82…5432thanks") ends there too when what is before it is not
    a letter or a digit, or is an IBAN (``_iban_before_word``): its country's length, format and check digits decide
    where it ends, as the start of a group or the IBAN before it decide where it starts. Inside a word on both sides (a
    link's token, "xDE89…3000abc"), ending in a letter before more letters, or in a digit before more digits, it ends
    inside a word: where it would end is a guess, and an id that starts like one is as likely, so it is left alone."""
    spans = _spans(text, _IBAN, _iban_lengths)
    for candidate in _IBAN_START.finditer(text):
        start = candidate.start()
        if (end := _iban_before_word(text, start)) and (
                not start or not _WORD_END.match(text, start - 1) or _iban_before(text, start) is not None):
            spans.append((start, end))
    spans.sort()
    glued = []
    for start, _ in spans:
        while start and _WORD_END.match(text, start - 1) and (before := _iban_before(text, start)) is not None:
            glued.append((before, start))
            start = before
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans + glued):
        _join(merged, start, end)
    return merged


def _groups(value: str) -> list[tuple[int, int, int]]:
    """The groups of a run of digits and separators (``_CARD_RUN``): where each starts and ends, and its digits."""
    return [(g.start(), g.end(), len(g.group(0)) if g.group(0).isdecimal() else len(_compact(g.group(0))))
            for g in _CARD_GROUP.finditer(value)]


def _card_spans(text: str) -> list[tuple[int, int]]:
    """Where in ``text`` card numbers are, in order. In each run (``_CARD_RUN``) a window is whole groups: it starts at
    a group's first digit and ends at a group's last, every group in it but the last has ``CARD_GROUP_MIN`` digits or
    more, and it holds 13-19 digits. From each group the longest window that passes is taken (``_card_lengths``), so
    "order 1001 4111 1111 1111 1111" gives the card and keeps the order number. Windows that overlap are one span: a
    window that passes by chance (a number and the card's first groups) must not leave the rest of a card showing.
    Then the cards split over lines (``_split_card_spans``), where no digit is in a card of one line.
    The cost is linear: a window holds at most 19 digits, so at most five groups."""
    spans: list[tuple[int, int]] = []
    runs = list(_CARD_RUN.finditer(text))
    for run in runs:
        value, offset = run.group(0), run.start()
        if len(value) < 13:                     # too short to hold 13 digits
            continue
        groups = _groups(value)
        for first, (start, _, _) in enumerate(groups):
            ends, size = {}, 0
            for _, end, digits in groups[first:first + 5]:      # four groups of four or more make 16 digits
                size += digits
                if size > 19:
                    break
                ends[size] = end
                if digits < CARD_GROUP_MIN:             # only the last group of a window may be shorter
                    break
            if max(ends, default=0) < 13:
                continue
            passing = _card_lengths(_compact(value[start:ends[max(ends)]]))
            if not (found := [ends[size] for size in sorted(passing, reverse=True) if size in ends]):
                continue
            _join(spans, offset + start, offset + found[0])
    split = _split_card_spans(text, runs, spans)
    if not split:
        return spans
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans + split):
        _join(merged, start, end)
    return merged


def _card_layout(sizes: list[int]) -> bool:
    """Whether groups of these many digits are laid out as a card is printed: in fours, the last of three or four
    (4-4-4-4, 4-4-4-3, 4-4-4-4-3), or 4-6-5 and 4-6-4 (American Express, Diners Club)."""
    if len(sizes) == 3 and sizes[:2] == [4, 6]:
        return sizes[2] in (4, 5)
    return all(size == 4 for size in sizes[:-1]) and sizes[-1] in (3, 4)


def _split_card_spans(text: str, runs: list[re.Match[str]], taken: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Where in ``text`` card numbers split over lines are, in order: a mail client's hard wrap ("My card is 4111
    1111 1111⏎1111, expiry 12/27"), a narrow one ("4111⏎1111⏎1111⏎1111"), blocks of HTML read as text ("4111
    1111⏎⏎1111 1111"), the same quoted in a reply ("> 4111 1111⏎> 1111 1111"). A card is split where its groups are:
    a run (``runs``) that ends a line, the runs that are each a whole line after it (``SPLIT_LINES_MAX`` lines in
    all), and the run that starts the last line may hold one, and then the card is the last run whole (but a month
    right before "/": "1111 1111 12/27"), the middle runs whole, and the first run from one of its groups on ("Order
    1001 4111 1111⏎1111 1111" keeps its order number). Lines that are not blank between them hold only those runs and
    the marks of a quote, as many on each line (a reply's line after a quoted one is another person's). Numbers on
    lines one after the other are a list far more often than a card, so more than the checks a card on one line passes
    is asked of one: its groups laid out as a card is printed (``_card_layout``: a phone's, a date's, a price's, a
    tracking number's and an order number written without separators are not); neither the whole line before nor the
    line after it another run of groups laid out as one of its runs (a list of numbers written alike: "6750 0138⏎6962
    4330⏎6587 0517", five order numbers of four digits); when it starts after another number on its first line, that
    line not laid out as another of its lines (two rows of a table: "4235 6864 4244⏎6908 2980 8118"); and the fewest
    lines that pass from where it starts (a security code on the line after it is kept). One that holds a digit of a
    card found on one line (``taken``) is not one: "Order 4198⏎4111 1111 1111 1111" keeps its order number. The cost
    is linear: each run is read once, and from each at most ``SPLIT_LINES_MAX`` lines and five groups are tried."""
    found: list[tuple[int, int]] = []
    groups: dict[int, list[tuple[int, int, int]]] = {}
    layouts: dict[int, list[int]] = {}
    digits: dict[int, list[str]] = {}
    gaps: dict[int, int | None] = {}
    breaks: list[int] = []

    def sizes(k: int) -> list[int]:
        if k not in layouts:
            groups[k] = _groups(runs[k].group(0))
            layouts[k] = [size for _, _, size in groups[k]]
        return layouts[k]

    def numbers(k: int) -> list[str]:
        if k not in digits:
            value = runs[k].group(0)
            digits[k] = [_compact(value[start:end]) for start, end, _ in groups[k]]
        return digits[k]

    def line_breaks() -> list[int]:
        if not breaks:
            breaks.extend(m.start() for m in _LINE_BREAK.finditer(text))
            breaks.append(len(text))
        return breaks

    def gap(k: int) -> int | None:
        """The quote marks on the line run k + 1 starts, when run k ends a line and k + 1 starts the next line that is
        not blank (None: they are not so)."""
        if k not in gaps:
            gaps[k] = None
            end, start = runs[k].end(), runs[k + 1].start()
            if _QUOTED_GAP.fullmatch(text, end, start) is not None:
                first = bisect.bisect_left(line_breaks(), end)
                last = bisect.bisect_left(breaks, start) - 1
                if first <= last and text.find(">", end, breaks[first]) < 0:      # quote marks start a line
                    gaps[k] = text.count(">", breaks[last] + 1, start)
        return gaps[k]

    def line_start(k: int) -> tuple[int, bool]:
        """The quote marks on run k's line, and whether nothing else is before it there."""
        before = bisect.bisect_left(line_breaks(), runs[k].start())
        begin = breaks[before - 1] + 1 if before else 0
        marks = _QUOTE_MARKS.match(text, begin, runs[k].start())
        return marks.group(0).count(">"), marks.end() == runs[k].start()

    for k in range(len(runs) - 1):
        if sizes(k)[-1] not in (4, 6) or gap(k) is None:
            continue                            # run k does not end a line before more groups, or ends no card's group
        depth, head, done = line_start(k)[0], sizes(k), set()
        listed = k and gap(k - 1) is not None and line_start(k - 1)[1]     # the line before: a number alone
        lines, middle = [head], []              # the layouts of the card's lines; the groups of its middle lines
        for last in range(k + 1, min(k + SPLIT_LINES_MAX, len(runs))):
            if gap(last - 1) != depth or sum(middle) >= 19 or any(size not in (4, 6) for size in middle):
                break                           # another person's line, or no card's groups any more
            tail = sizes(last)
            cut = len(tail)
            if cut > 1 and tail[-1] <= 2 and _EXPIRY.match(text, runs[last].end()):
                cut -= 1                        # a month and the expiry's year after it ("1111 1111 12/27")
            lines.append(tail)
            before = listed and sizes(k - 1) in lines
            after = last + 1 < len(runs) and gap(last) is not None and sizes(last + 1) in lines
            for first in range(max(0, len(head) - 5), len(head)):
                card = head[first:] + middle + tail[:cut]
                if first in done or before or after or not (13 <= sum(card) <= 19 and _card_layout(card)):
                    continue
                if first and head in lines[1:]:
                    continue                    # rows of a table: the first line laid out as another
                start = runs[k].start() + groups[k][first][0]
                end = runs[last].start() + groups[last][cut - 1][1]
                taken_before = bisect.bisect_left(taken, (end,)) - 1    # the last card of one line starting before
                if taken_before >= 0 and taken[taken_before][1] > start:
                    continue
                number = "".join(numbers(k)[first:] + [d for m in range(k + 1, last) for d in numbers(m)]
                                 + numbers(last)[:cut])
                if is_card_number(number):
                    done.add(first)
                    found.append((start, end))
            middle += tail
    merged: list[tuple[int, int]] = []
    for start, end in sorted(found):
        _join(merged, start, end)
    return merged


@functools.cache
def _written(names: tuple[str, ...]) -> re.Pattern[str]:
    """The labels masking has written (``_label``, ``withheld``), of any kind: of a card, an IBAN and the patterns
    ``names`` (``labels``), and of a pattern the shop has since taken away or renamed, whose name holds no digit (a
    pattern's name is letters, digits, spaces, "_" and "-": a name with digits is taken for a label only when it is
    one of the shop's, so no number is kept from masking by being written in a label's form)."""
    kinds = "|".join(map(re.escape, sorted({"card", "IBAN", *names}, key=len, reverse=True)))
    return re.compile(rf"\[(?:{kinds}|[A-Za-z][A-Za-z _-]{{0,31}}) {MASK}(?: .{{4}}|{re.escape(_WITHHELD)})?\]")


def _unlabelled(text: str, written: re.Pattern[str]) -> list[tuple[int, int]]:
    """The stretches of ``text`` between the labels masking has written there (``_written``), in order."""
    stretches, last = [], 0
    for label in written.finditer(text):
        if label.start() > last:
            stretches.append((last, label.start()))
        last = label.end()
    return [*stretches, (last, len(text))] if last < len(text) else stretches


def _outside(stretches: list[tuple[int, int]], taken: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The parts of ``stretches`` outside the spans ``taken`` (both in order, neither overlapping itself)."""
    parts: list[tuple[int, int]] = []
    for begin, stop in stretches:
        for start, end in taken[max(0, bisect.bisect_left(taken, (begin,)) - 1):]:
            if start >= stop:
                break
            if end <= begin:
                continue
            if start > begin:
                parts.append((begin, start))
            begin = max(begin, end)
        if begin < stop:
            parts.append((begin, stop))
    return parts


def mask(text: str | None, patterns: Iterable[Pattern] = (), *, ibans: bool = True) -> Masked:
    """``text`` with card numbers, IBANs (unless ``ibans`` is False: what the desk sends a customer, whose IBAN in it
    is the shop's, to be paid) and the patterns' matches masked, and what was masked. What masking has
    written already (``_written``: the labels of a card, an IBAN or a pattern, whatever their kind) is never masked
    again, by a later pattern nor by the card and IBAN rules: a card's label keeps its last four digits from a
    pattern of four digits ("[card •••• 1111]", not "[card •••• [PIN ••••]]"), and masking a masked text again changes
    nothing. Each is looked for between the labels only, and each pattern's labels are kept from the next. IBANs are
    found first, and a card number only outside them, whether they are masked or kept: an IBAN whose account part is
    all digits, written in groups of four ("DE67 4391 5000 8063 6083 77"), holds a run the card rule alone takes for a
    card, and is masked as an IBAN, or kept whole, never as a card. The shop's patterns are looked for in a kept IBAN
    too."""
    if not text:
        return Masked(text, ())
    patterns = list(patterns)
    written = _written(tuple(p.name for p in patterns))
    kinds: list[str] = []

    def spans(text: str, find: Callable[[str], list[tuple[int, int]]],
              taken: list[tuple[int, int]] | None = None) -> list[tuple[int, int]]:
        """What ``find`` finds between the labels, and outside the spans ``taken``."""
        return [(start + begin, end + begin) for begin, stop in _outside(_unlabelled(text, written), taken or [])
                for start, end in find(text[begin:stop])]

    def checked(text: str, *found: tuple[str, list[tuple[int, int]]]) -> str:
        """``text`` with the spans of each kind labelled (spans of different kinds never overlap)."""
        labelled = sorted((start, end, kind) for kind, spans in found for start, end in spans)
        if not labelled:
            return text
        kinds.extend(kind for kind, spans in found if spans)
        parts, last = [], 0
        for start, end, kind in labelled:
            parts += [text[last:start], _label(kind, text[start:end])]
            last = end
        return "".join(parts) + text[last:]

    def matched(text: str, pattern: Pattern) -> list[tuple[int, int]]:
        """Where the pattern matches between the labels (an empty match masks nothing: too_broad refuses such
        patterns); TimeoutError past PATTERN_TIMEOUT_S on the whole text."""
        deadline, found = time.monotonic() + PATTERN_TIMEOUT_S, []
        for begin, stop in _unlabelled(text, written):
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("masking pattern timed out")
            found += [m.span() for m in pattern.regex.finditer(text, begin, stop, timeout=left) if m.end() > m.start()]
        return found

    accounts = spans(text, _iban_spans)       # first: a card is never looked for inside an IBAN, masked or kept
    text = checked(text, ("card", spans(text, _card_spans, accounts)), ("IBAN", accounts if ibans else []))
    for pattern in patterns:
        try:
            text = checked(text, (pattern.name, matched(text, pattern)))
        except TimeoutError:
            logger.warning("a masking pattern took too long: the text is withheld",
                           extra={"pattern": pattern.name, "length": len(text)})
            kinds.append(pattern.name)
            text = withheld(pattern.name)
    return Masked(text, tuple(dict.fromkeys(kinds)))


def mask_name(text: str | None, patterns: Iterable[Pattern] = ()) -> Masked:
    """A name (a customer's display name, a file's) masked as a text is: a number joined to the word before it by a
    hyphen or dash ("invoice-4111111111111111.pdf") is found as in a text, where a number starts after any dash."""
    return mask(text, patterns)


# What masking never reads in what a channel sent with a message (``mask_payload``), at any depth: the desk's and the
# providers' own references, never words a person wrote. The place of the mail SES stored (``source``: the inbound-mail
# bucket, whose name ends in the account's twelve digits, and SES's object key), a file's key, links, and ids (a
# message's, a chat's, a button's, a sticker's, an ad's, a visitor's). Masked, a shop's pattern of nine to twelve
# digits rewrote every mail's bucket name, and the export and the erase could no longer name the mail.
MACHINE_KEYS = frozenset({"source", "bucket", "key", "storage_key", "url", "id", "mid"})
MACHINE_SUFFIXES = ("_id", "_ids", "_url", "_key")


def machine_field(key: object) -> bool:
    """Whether a payload's field holds a reference (``MACHINE_KEYS``, ``MACHINE_SUFFIXES``) rather than words."""
    name = str(key).lower()
    return name in MACHINE_KEYS or name.endswith(MACHINE_SUFFIXES)


def mask_payload(value: Any, patterns: Iterable[Pattern], kinds: list[str]) -> Any:
    """What a channel sent with a message (a contact card, a button's title, a shared link's title, an unsupported
    item's raw copy) with every string masked as a text is, but the values of its machine fields (``machine_field``),
    kept as they are whatever they hold; what was masked is added to ``kinds``."""
    if isinstance(value, str):
        result = mask(value, patterns)
        kinds.extend(result.kinds)
        return result.text
    if isinstance(value, dict):
        return {k: v if machine_field(k) else mask_payload(v, patterns, kinds) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_payload(v, patterns, kinds) for v in value]
    return value


class MailNotRewritten(ValueError):
    """Something in the mail is to be masked, and the mail could not be written again with it masked."""


# Headers whose display names are written by the sender (the customer's name is From's, or Reply-To's)
ADDRESS_HEADERS = ("From", "Sender", "Reply-To", "To", "Cc")


def _mask_names(message: EmailMessage, header: str, masked: Callable[[str], str]) -> None:
    """The display names of an address header masked (a group's too); the addresses stay as they are."""
    groups = getattr(message.get(header), "groups", None) or ()
    names = [(masked(g.display_name) if g.display_name else None,
              [masked(a.display_name) if a.display_name else "" for a in g.addresses]) for g in groups]
    if names == [(g.display_name or None, [a.display_name or "" for a in g.addresses]) for g in groups]:
        return                                  # nothing in them to mask: the header stays as it is
    new = [Group(name, [Address(shown, addr_spec=a.addr_spec) for shown, a in zip(shown_names, g.addresses,
                                                                                  strict=True)])
           for (name, shown_names), g in zip(names, groups, strict=True)]
    message.replace_header(header, new if any(g.display_name for g in new) else [a for g in new
                                                                                 for a in g.addresses])


def _mask_filename(part: EmailMessage, masked: Callable[[str], str]) -> None:
    """A part's file name masked where the mail gives it: Content-Disposition's filename, Content-Type's name."""
    for header, param in (("Content-Disposition", "filename"), ("Content-Type", "name")):
        value = part.get_param(param, header=header)
        if value is None:
            continue
        text = email_utils.collapse_rfc2231_value(value)
        if (new := masked(text)) != text:
            part.set_param(param, new, header=header, charset="utf-8" if not new.isascii() else None)


def mask_mail(raw: bytes, patterns: Iterable[Pattern] = ()) -> tuple[bytes, tuple[str, ...]] | None:
    """``raw`` (a MIME message) with its Subject, the display names of its address headers (``ADDRESS_HEADERS``),
    its files' names and every text part that is not an attachment masked as a message's text is (an HTML part as a
    reader sees it: ``privacy.markup.mask_html``), and what was masked; None when nothing is (the mail is left
    exactly as it is). The files' contents are left as they are (as the message's files are), and so are the
    addresses. MailNotRewritten: something is to be masked and the mail cannot be written again (a part in a charset
    Python cannot write, an HTML part that cannot be read or mapped): the caller removes the mail instead."""
    patterns = list(patterns)
    kinds: list[str] = []

    def masked(text: str, how: Callable[[str, list[Pattern]], Masked] = mask) -> str:
        result = how(text, patterns)
        kinds.extend(result.kinds)
        return result.text or ""

    def named(text: str) -> str:
        return masked(text, mask_name)

    def masked_html(text: str) -> str:
        from shopdesk.privacy.markup import HtmlNotMasked, mask_html  # it reads labels from here

        try:
            return mask_html(text, masked, labels(p.name for p in patterns))
        except HtmlNotMasked as exc:    # what it holds is unknown: the mail is removed rather than kept as it is
            raise MailNotRewritten(str(exc)) from exc

    try:
        message = BytesParser(policy=email_policy.default).parsebytes(raw)
        subject = message.get("Subject")
        if subject is not None and (new_subject := masked(str(subject))) != str(subject):
            message.replace_header("Subject", new_subject)
        for name in ADDRESS_HEADERS:
            _mask_names(message, name, named)
        for part in message.walk():
            _mask_filename(part, named)
            if part.is_multipart() or part.get_content_maintype() != "text" or part.is_attachment():
                continue
            text = part.get_content()
            if not isinstance(text, str):
                continue
            new = masked_html(text) if part.get_content_subtype() == "html" else masked(text)
            if new != text:
                part.set_content(new, subtype=part.get_content_subtype(), charset="utf-8")
        if not kinds:
            return None
        return message.as_bytes(), tuple(dict.fromkeys(kinds))
    except MailNotRewritten:
        raise
    except (LookupError, MessageError, UnicodeError, ValueError, TypeError, AttributeError) as exc:
        if kinds:
            raise MailNotRewritten(str(exc)) from exc
        return None
