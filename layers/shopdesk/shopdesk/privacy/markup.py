"""Mask what a reader sees in a mail's HTML part, and leave the rest of its markup as it was.

A mail client writes the spaces a customer typed as ``&nbsp;``, and a card's groups may be split by character
references (``&#32;``) or by tags (``4000<span></span> 0566``). Masked as source text, such a number is not one; read
as a reader sees it, it is. So the part is split into markup and text (``html.parser``), the text's character
references are decoded, and the visible text is built with, for each of its characters, the range of the source it
comes from. A tag that breaks a line (any but the inline ones) reads as a line break between the texts around it, as
``channels.email.html_to_text`` reads it for the message. The visible text is masked with the caller's masking (the
same ``mask`` as a message's text), and each masked stretch's whole source range, the tags and references inside it
included, is written as its label. Attribute values (``title``, ``alt``, an ``href`` with ``tel:`` or a query) are
masked on their own, and so are comments and the text of scripts and styles, which a reader does not see but the mail
holds. When nothing is masked the part is returned as it was, byte for byte. ``HtmlNotMasked``: the part could not be
read or its masked text could not be mapped back: the caller removes the mail instead.
"""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Callable
from html.parser import HTMLParser

from shopdesk.privacy.masking import labels

# What html.unescape decodes, piece by piece (the standard library's own pattern): so each decoded character is known
# to come from one reference
_CHARREF = re.compile(r"&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)")
# Tags within a line: they join the texts around them ("4000<span></span> 0566" reads "4000 0566"). Any other tag
# reads as a line break.
_INLINE = frozenset({"a", "abbr", "b", "bdi", "bdo", "big", "cite", "code", "data", "del", "dfn", "em", "font", "i",
                     "ins", "kbd", "label", "mark", "nobr", "q", "s", "samp", "small", "span", "strike", "strong",
                     "sub", "sup", "time", "tt", "u", "var", "wbr"})
# A label in the masked text of a card or an IBAN: "[card •••• 4242]", "[IBAN •••• 4300]"; a shop's patterns add theirs
_LABELS = labels()


class HtmlNotMasked(ValueError):
    """The HTML could not be read, or its masked text could not be written back into it."""


class _Tokens(HTMLParser):
    """The part's tokens in order: (kind, start in the source, tag, attributes); a token ends where the next starts."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=False)
        self.lines = [0] + [m.end() for m in re.finditer("\n", source)]
        self.tokens: list[tuple[str, int, str, list[tuple[str, str | None]]]] = []

    def _add(self, kind: str, tag: str = "", attrs: list[tuple[str, str | None]] | None = None) -> None:
        line, column = self.getpos()
        self.tokens.append((kind, self.lines[line - 1] + column, tag, attrs or []))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._add("tag", tag, attrs)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._add("tag", tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        self._add("tag", tag)

    def handle_data(self, data: str) -> None:
        self._add("hidden" if self.cdata_elem else "text")       # a script's or style's text is not seen

    def handle_entityref(self, name: str) -> None:
        self._add("text")

    def handle_charref(self, name: str) -> None:
        self._add("text")

    def handle_comment(self, data: str) -> None:
        self._add("hidden")

    def handle_decl(self, decl: str) -> None:
        self._add("markup")

    def handle_pi(self, data: str) -> None:
        self._add("markup")

    def unknown_decl(self, data: str) -> None:
        self._add("hidden")


def _read(source: str) -> tuple[list[tuple[str, int, int, str, list[tuple[str, str | None]]]], str,
                                list[tuple[int, int]]]:
    """The tokens with their source ranges, the visible text, and each visible character's source range."""
    parser = _Tokens(source)
    try:
        parser.feed(source)
        parser.close()
    except Exception as exc:        # html.parser trips over some marked sections
        raise HtmlNotMasked(f"the HTML could not be read: {exc}") from exc
    starts = [start for _, start, _, _ in parser.tokens] + [len(source)]
    if starts[0] != 0 or any(a > b for a, b in itertools.pairwise(starts)):
        raise HtmlNotMasked("the HTML's tokens could not be placed in it")
    tokens = [(kind, start, end, tag, attrs)
              for (kind, start, tag, attrs), end in zip(parser.tokens, starts[1:], strict=True)]
    visible: list[str] = []
    where: list[tuple[int, int]] = []
    line_break: tuple[int, int] | None = None     # the tags between two texts that break the line
    for kind, start, end, tag, _ in tokens:
        if kind == "tag" and tag not in _INLINE:
            line_break = (line_break[0] if line_break else start, end)
        if kind != "text" or start == end:
            continue
        if line_break and visible:
            visible.append("\n")
            where.append(line_break)
        line_break = None
        text, at = source[start:end], 0
        for ref in [*_CHARREF.finditer(text), None]:
            plain_end = ref.start() if ref else len(text)
            for offset in range(at, plain_end):
                visible.append(text[offset])
                where.append((start + offset, start + offset + 1))
            if ref:
                for char in html.unescape(ref.group(0)):
                    visible.append(char)
                    where.append((start + ref.start(), start + ref.end()))
                at = ref.end()
    return tokens, "".join(visible), where


def _tag(source: str, tag: str, attrs: list[tuple[str, str | None]]) -> str:
    """A start tag written again from its name and attributes."""
    written = "".join(f" {name}" if value is None else f' {name}="{html.escape(value)}"' for name, value in attrs)
    return f"<{tag}{written}{' /' if source.rstrip().endswith('/>') else ''}>"


def _regions(visible: str, masked: str, label: re.Pattern[str]) -> list[tuple[int, int, int, int]]:
    """The stretches of ``visible`` that masking wrote over, as (start, end) in it and (start, end) in ``masked``, in
    one pass: masking writes labels (``label``) over stretches and keeps the text between them, so each text between
    two labels of ``masked`` is found in ``visible`` after the stretch before it (the first place it fits).
    HtmlNotMasked when the texts do not line up so."""
    regions: list[tuple[int, int, int, int]] = []
    spans = [m.span() for m in label.finditer(masked)]
    at, kept = 0, 0                 # in visible, and in masked: the end of the last stretch
    for index, (start, end) in enumerate(spans):
        before = masked[kept:start]
        if not visible.startswith(before, at):
            raise HtmlNotMasked("the masked text does not line up with the HTML's text")
        at += len(before)
        after = masked[end:spans[index + 1][0] if index + 1 < len(spans) else len(masked)]
        if index + 1 == len(spans):
            found = len(visible) - len(after)
            if not visible.endswith(after) or found <= at:
                raise HtmlNotMasked("the masked text does not line up with the HTML's text")
        elif (found := visible.find(after, at + 1)) < 0:
            raise HtmlNotMasked("the masked text does not line up with the HTML's text")
        regions.append((at, found, start, end))
        at, kept = found, end
    if masked[kept:] != visible[at:]:
        raise HtmlNotMasked("the masked text does not line up with the HTML's text")
    return [region for region in regions if visible[region[0]:region[1]] != masked[region[2]:region[3]]]


def mask_html(source: str, masked: Callable[[str], str], label: re.Pattern[str] = _LABELS) -> str:
    """``source`` (an HTML document or fragment) with what ``masked`` masks in its visible text, its attribute values,
    comments and scripts masked; ``source`` itself when nothing is. ``label``: the labels ``masked`` writes
    (``masking.labels`` of the shop's patterns' names). HtmlNotMasked when it cannot be done."""
    tokens, visible, where = _read(source)
    edits: list[tuple[int, int, str]] = []
    new_visible = masked(visible)
    if new_visible != visible:
        for i1, i2, j1, j2 in _regions(visible, new_visible, label):
            start = where[i1][0] if i1 < len(where) else len(source) if not where else where[-1][1]
            end = where[i2 - 1][1] if i2 > i1 else start
            edits.append((start, end, html.escape(new_visible[j1:j2], quote=False)))
    for kind, start, end, tag, attrs in tokens:
        if kind == "hidden" and (new := masked(source[start:end])) != source[start:end]:
            edits.append((start, end, new))
        elif kind == "tag" and attrs:
            new_attrs = [(name, masked(value) if value else value) for name, value in attrs]
            if new_attrs != attrs:
                edits.append((start, end, _tag(source[start:end], tag, new_attrs)))
    if not edits:
        return source
    parts, last = [], 0
    for start, end, text in sorted(edits, key=lambda edit: (edit[0], edit[1])):
        if start < last:
            if end <= last:         # a tag inside a stretch written over: it is gone with it
                continue
            raise HtmlNotMasked("masked stretches of the HTML overlap")
        parts += [source[last:start], text]
        last = end
    result = "".join(parts) + source[last:]
    if _read(result)[1] != new_visible:
        raise HtmlNotMasked("the masked HTML does not read as the masked text")
    return result
