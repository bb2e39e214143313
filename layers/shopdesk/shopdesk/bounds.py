"""Bounding what providers send to what the code can walk and one DynamoDB item can hold.

Providers' payloads are stored (message payloads, raw copies of unsupported items) and read by
code that recurses; a signed but odd payload must neither crash either nor be refused by DynamoDB.
One function, ``bound``, copies a JSON-like value without recursion and applies the rules below;
every path that stores provider-supplied data goes through it (``dal/items.py``), and the webhook
parsers read request bodies through ``loads`` (the same walk with only the depth rule); the HTTP
APIs read theirs through ``decode`` (no walk: their models validate what they read).

Rules (DynamoDB: 32 levels of nesting, 400 KB per item, numbers of 38 digits within 1E-130..1E+126,
strings valid UTF-8; keys at most 2,048 bytes for the partition key and 1,024 for the sort key):

- Lone surrogates (``"\\ud800"`` is valid JSON, not valid UTF-8) become U+FFFD, in keys and values.
- A container deeper than ``max_depth`` becomes a string: ``TRUNCATED`` + the reason + the start
  of its JSON text.
- A string longer than ``max_string`` bytes (UTF-8) is cut, and ends with the marker.
- A list or map with more than ``max_items`` entries keeps the first ones; a list gets a last
  element, a map a ``"…truncated"`` key, saying how many were left out.
- Numbers DynamoDB cannot hold (NaN, infinities, more than 38 digits, out of range) become strings;
  other non-JSON values their ``str``.
- When the copy still serialises to more than ``max_bytes``, the string and item limits are
  tightened until it fits; as a last resort the value becomes ``{"…truncated": reason, "json": start}``.

Every cut says so in the stored value, and ``Bounded.truncated`` tells the caller, which records
the field's name on the item (``truncated``), so nothing is shortened silently.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from shopdesk.errors import BadRequest

TRUNCATED = "…[truncated"
TRUNCATED_KEY = "…truncated"
READ_DEPTH = 64              # levels a parser may see (deeper is cut when the body is read)
STORE_DEPTH = 24             # levels below a stored attribute: DynamoDB allows 32 in all, the item uses some
MAX_STRING = 32_000          # bytes of one string inside a stored payload
MAX_ITEMS = 500              # entries of one list or map inside a stored payload
PAYLOAD_BYTES = 200_000      # a message's payload (raw copies included)
TEXT_BYTES = 100_000         # a message's text: payload + text + the rest stay under 400 KB
KEY_PART_BYTES = 512         # a provider-supplied part of a key; longer parts are hashed
_SURROGATES = re.compile("[\ud800-\udfff]")
_PREVIEW_CHARS = 1_000


@dataclass(frozen=True)
class Bounded:
    value: Any
    truncated: bool


def clean_text(text: str) -> str:
    """``text`` with lone surrogates replaced by U+FFFD (valid pairs were joined by the JSON decoder)."""
    return text if text.isascii() else _SURROGATES.sub("\ufffd", text)


def bound_text(text: str | None, max_bytes: int = TEXT_BYTES) -> Bounded:
    """A text of at most ``max_bytes`` UTF-8 bytes; a longer one is cut and ends with the marker."""
    if text is None:
        return Bounded(None, False)
    text = clean_text(text)
    if len(text) * 4 <= max_bytes or len(encoded := text.encode("utf-8")) <= max_bytes:
        return Bounded(text, False)
    kept = encoded[:max(max_bytes - 64, 0)].decode("utf-8", "ignore")
    return Bounded(f"{kept}{TRUNCATED}: {len(encoded) - len(kept.encode('utf-8')):,} more bytes]", True)


def key_part(value: str) -> str:
    """A provider-supplied id as a part of a key: as it is when short, else a stable digest of it
    (the same id always gives the same key, so dedupe still works)."""
    value = clean_text(value)
    encoded = value.encode("utf-8")
    if len(encoded) <= KEY_PART_BYTES:
        return value
    return encoded[:64].decode("utf-8", "ignore") + "…sha256:" + hashlib.sha256(encoded).hexdigest()


def _json_start(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (RecursionError, ValueError):
        return ""
    return clean_text(text[:_PREVIEW_CHARS])


def _number(value: int | float | Decimal) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, int):
        return value if -(10 ** 38) < value < 10 ** 38 else str(value)
    magnitude = abs(value)
    if magnitude and not Decimal("1e-130") <= Decimal(str(magnitude)) < Decimal("1e126"):
        return str(value)
    return value


class _Walk:
    """One bounded copy, iterative: a work list of (source, destination, key, depth)."""

    def __init__(self, max_depth: int, max_string: int | None, max_items: int | None, *, store: bool = True) -> None:
        self.max_depth, self.max_string, self.max_items, self.store = max_depth, max_string, max_items, store
        self.truncated = False

    def scalar(self, value: Any) -> Any:
        if value is None or isinstance(value, bool | bytes | set | frozenset):
            return value                 # sets and bytes are our own values (string sets, binary), not a provider's
        if isinstance(value, str):
            if self.max_string is None:
                return clean_text(value)
            cut = bound_text(value, self.max_string)
            self.truncated |= cut.truncated
            return cut.value
        if isinstance(value, int | float | Decimal):
            return _number(value) if self.store else value
        return self.scalar(str(value)) if self.store else value

    def key(self, key: Any) -> str:
        text = clean_text(key) if isinstance(key, str) else str(key)
        return text or "(empty key)"

    def copy(self, value: Any) -> Any:
        root: list[Any] = [None]
        work: list[tuple[Any, Any, Any, int]] = [(value, root, 0, 0)]
        while work:
            source, into, slot, depth = work.pop()
            if not isinstance(source, dict | list | tuple):
                into[slot] = self.scalar(source)
                continue
            if depth >= self.max_depth:
                self.truncated = True
                into[slot] = f"{TRUNCATED}: nested deeper than {self.max_depth} levels] {_json_start(source)}"
                continue
            entries = list(source.items()) if isinstance(source, dict) else list(enumerate(source))
            left_out = 0
            if self.max_items is not None and len(entries) > self.max_items:
                left_out, entries = len(entries) - self.max_items, entries[:self.max_items]
                self.truncated = True
            if isinstance(source, dict):
                copied: Any = {}
                for k, v in entries:
                    name = self.key(k)
                    copied[name] = None
                    work.append((v, copied, name, depth + 1))
                if left_out:
                    copied[TRUNCATED_KEY] = f"{left_out:,} more keys]"
            else:
                copied = [None] * len(entries)
                for index, v in entries:
                    work.append((v, copied, index, depth + 1))
                if left_out:
                    copied.append(f"{TRUNCATED}: {left_out:,} more items]")
            into[slot] = copied
        return root[0]


def bound(value: Any, *, max_depth: int = STORE_DEPTH, max_string: int | None = MAX_STRING,
          max_items: int | None = MAX_ITEMS, max_bytes: int | None = PAYLOAD_BYTES) -> Bounded:
    """A copy of ``value`` within the limits (see the module's rules); never recurses on the input."""
    walk = _Walk(max_depth, max_string, max_items)
    copied = walk.copy(value)
    if max_bytes is None:
        return Bounded(copied, walk.truncated)
    size = _size(copied)
    strings, items = max_string or max_bytes, max_items or 10_000
    while size > max_bytes and (strings > 256 or items > 8):
        strings, items = max(strings // 4, 256), max(items // 4, 8)
        walk = _Walk(max_depth, strings, items)
        copied = walk.copy(value)
        size = _size(copied)
    if size > max_bytes:
        start = _json_start(copied)
        return Bounded({TRUNCATED_KEY: f"{size:,} bytes, more than {max_bytes:,}]", "json": start}, True)
    return Bounded(copied, walk.truncated)


def _size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, default=str).encode("utf-8"))


def text(raw: bytes, what: str = "the body") -> str:
    """Bytes a caller sent read as the UTF-8 text JSON and forms are (RFC 8259); BadRequest for bytes that are not
    (anyone can post them: a 400, never a function error)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"{what} is not UTF-8 text (byte {exc.start} is not)") from exc


def decode(raw: bytes | str, what: str = "body", *, parse_float: Callable[[str], Any] | None = None) -> Any:
    """JSON as the decoder reads it, nothing changed. BadRequest for JSON it cannot read: nested a
    thousand levels or more (a RecursionError), or an integer of more digits than Python converts
    (4,300, a ValueError). Text that is not JSON raises the decoder's own ``json.JSONDecodeError``
    (which the HTTP APIs' validation answers with where: 422), bytes that are not UTF-8
    ``UnicodeDecodeError``. ``parse_float`` as ``json.loads``'s (``Decimal``)."""
    try:
        return json.loads(raw, parse_float=parse_float)
    except RecursionError as exc:
        raise BadRequest(f"{what} is nested too deeply to read") from exc
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise
    except ValueError as exc:
        raise BadRequest(f"{what} holds a number too long to read (more than "
                         f"{sys.get_int_max_str_digits():,} digits)") from exc


def loads(raw: bytes | str, what: str = "body", *, parse_float: Callable[[str], Any] | None = None) -> Any:
    """A request body as JSON (``decode``), depth-bounded (``READ_DEPTH``) and with lone surrogates
    replaced, so parsers can walk it. BadRequest for anything that is not JSON, or that the decoder
    cannot read."""
    try:
        parsed = decode(raw, what, parse_float=parse_float)
    except ValueError as exc:           # not JSON (UnicodeDecodeError is one too)
        raise BadRequest(f"{what} is not JSON: {exc}") from exc
    return _Walk(READ_DEPTH, None, None, store=False).copy(parsed)
