"""Hypothesis strategies that turn a provider's real request into an odd one of the same shape.

A mutant starts from a real sample (JSON document, Twilio form, raw email) and changes one to three
places in it: a value of another type, null, a removed key, a huge string, a huge array, a value
buried hundreds of levels deep, odd unicode (lone surrogates, right-to-left marks, NUL). A huge or
deep change ends the mutant (changing inside a 20,000-item array only costs time).

Profiles (``HYPOTHESIS_PROFILE``): ``ci`` (default) is derandomized with few examples, so
``make test`` is repeatable and fast; ``fuzz`` (``make fuzz``) tries many more, randomly.
"""

from __future__ import annotations

import copy
import os
import random
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                                        HealthCheck.data_too_large], "print_blob": True}
settings.register_profile("ci", max_examples=int(os.environ.get("FUZZ_EXAMPLES", "6")), derandomize=True,
                          database=None, **_COMMON)
settings.register_profile("fuzz", max_examples=int(os.environ.get("FUZZ_EXAMPLES", "350")), database=None, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ODD_TEXT = ("\ud800", "\udfff", "a\ud83d", "\u202eevil\u202c", "\u200f\u05e9\u05dc\u05d5\u05dd", "\x00",
            "nul\x00inside", "\ufeff", "\u0000\u0001\u001f", "e\u0301\u0301\u0301", "\U0001f600" * 3, "")
HUGE_STRING_CHARS = (70_000, 450_000)
HUGE_ARRAY_ITEMS = (2_000, 20_000)
DEEP_LEVELS = (40, 300, 900)

scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(10 ** 40), max_value=10 ** 40),
                    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(ODD_TEXT),
                    st.text(max_size=20))
small_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                             st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                            max_leaves=6)


def paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON document, the root first."""
    found = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            found += paths(value, (*prefix, index))
    return found


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        doc = doc[step]
    return doc


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    _get(doc, path[:-1])[path[-1]] = value
    return doc


def _deep(value: Any, levels: int, as_list: bool) -> Any:
    for _ in range(levels):
        value = [value] if as_list else {"v": value}
    return value


@st.composite
def json_mutants(draw: st.DrawFn, doc: Any) -> tuple[Any, list[str]]:
    """(mutated copy of ``doc``, what was done). Keeps the root an object most of the time."""
    doc = copy.deepcopy(doc)
    done: list[str] = []
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(paths(doc)[1:] or [()]))
        current = _get(doc, path)
        op = draw(st.sampled_from(("type", "null", "delete", "unicode", "huge_string", "huge_array", "deep")))
        done.append(f"{op} at {'/'.join(map(str, path))}")
        if op == "type":
            doc = _set(doc, path, draw(small_values))
        elif op == "null":
            doc = _set(doc, path, None)
        elif op == "delete":
            if path:
                del _get(doc, path[:-1])[path[-1]]
            else:
                doc = {}            # only the root was left (an emptied object, or a scalar): an empty body
        elif op == "unicode":
            odd = draw(st.sampled_from(ODD_TEXT))
            doc = _set(doc, path, (current + odd if isinstance(current, str) else odd) if draw(st.booleans())
                       else odd + str(current))
        elif op == "huge_string":
            size = draw(st.sampled_from(HUGE_STRING_CHARS))
            doc = _set(doc, path, (str(current) + draw(st.sampled_from(("x", "é", "\U0001f600")))) * (size // 4))
            break
        elif op == "huge_array":
            count = draw(st.sampled_from(HUGE_ARRAY_ITEMS))
            fill = draw(st.sampled_from(("copies", "numbers", "mixed")))
            doc = _set(doc, path, [current if fill == "copies" or (fill == "mixed" and i % 2) else i
                                   for i in range(count)])
            break
        else:
            doc = _set(doc, path, _deep(current, draw(st.sampled_from(DEEP_LEVELS)), draw(st.booleans())))
            break
    return doc, done


# ------------------------------------------------------------------------------ Twilio forms

FORM_ODD_VALUES = ("", "null", "true", "-1", "1e309", "NaN", "99999999999999999999", "{\"a\": [1]}",
                   "[" * 300 + "]" * 300, "whatsapp:", "whatsapp:+", "+", "not a number", "http://",
                   "\u202e+14155550100", "\x00")


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@st.composite
def form_mutants(draw: st.DrawFn, pairs: list[tuple[str, str]]) -> tuple[str, list[str]]:
    """(mutated url-encoded body, what was done) from a Twilio form's (name, value) pairs."""
    pairs = list(pairs)
    done: list[str] = []
    raw_extra: list[str] = []
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        if not pairs:
            break
        index = draw(st.integers(min_value=0, max_value=len(pairs) - 1))
        name, value = pairs[index]
        op = draw(st.sampled_from(("odd", "delete", "unicode", "huge_string", "huge_array", "surrogate_bytes")))
        done.append(f"{op} at {name}")
        if op == "odd":
            pairs[index] = (name, draw(st.sampled_from(FORM_ODD_VALUES) | st.text(max_size=30)))
        elif op == "delete":
            del pairs[index]
        elif op == "unicode":
            pairs[index] = (name, value + draw(st.sampled_from([t for t in ODD_TEXT if _utf8(t)])))
        elif op == "huge_string":
            pairs[index] = (name, value * (draw(st.sampled_from(HUGE_STRING_CHARS)) // max(len(value), 1)))
            break
        elif op == "huge_array":
            pairs += [(name, value)] * draw(st.sampled_from((100, 2_000)))
            break
        else:       # CESU-8 encoded lone surrogate: invalid UTF-8 bytes, as a broken client would send
            raw_extra.append(f"{quote(name)}={quote(value)}%ED%A0%80")
            del pairs[index]
    body = "&".join([*(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs), *raw_extra])
    return body, done


# ------------------------------------------------------------------------------ raw email

def _nested_multipart(levels: int) -> bytes:
    head, tail = [], []
    for level in range(levels):
        head.append(f'Content-Type: multipart/mixed; boundary="b{level}"\r\n\r\n--b{level}\r\n')
        tail.insert(0, f"\r\n--b{level}--\r\n")
    return ("".join(head) + "Content-Type: text/plain\r\n\r\ndeep inside\r\n" + "".join(tail)).encode()


@st.composite
def email_mutants(draw: st.DrawFn, raw: bytes) -> tuple[bytes, list[str]]:
    """(mutated raw MIME, what was done): headers changed or dropped, huge or deep bodies, bad bytes."""
    head, sep, body = raw.partition(b"\r\n\r\n") if b"\r\n\r\n" in raw else raw.partition(b"\n\n")
    newline = b"\r\n" if sep == b"\r\n\r\n" else b"\n"
    lines = head.split(newline)
    done: list[str] = []
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        op = draw(st.sampled_from(("header_odd", "header_delete", "header_huge", "body_huge", "body_deep",
                                   "body_bytes", "headers_many")))
        index = draw(st.integers(min_value=0, max_value=max(len(lines) - 1, 0)))
        done.append(f"{op} at header {index}")
        name = lines[index].split(b":", 1)[0] if lines else b"X-Test"
        if op == "header_odd":
            odd = draw(st.sampled_from(ODD_TEXT))
            value = odd.encode("utf-8", "surrogatepass") + draw(st.sampled_from((b"", b"=?utf-8?b?AAAA?=", b"<>",
                                                                                b"\xff\xfe", b"@@")))
            lines[index] = name + b": " + value
        elif op == "header_delete" and lines:
            del lines[index]
        elif op == "header_huge":
            lines[index] = name + b": " + b"x" * draw(st.sampled_from((2_000, 450_000)))
        elif op == "headers_many":
            lines += [b"Received: from relay.example by mx.example"] * 3_000
        elif op == "body_huge":
            body = body * max(1, 450_000 // max(len(body), 1))
            break
        elif op == "body_deep":
            lines = [line for line in lines if not line.lower().startswith((b"content-type", b"mime-version"))]
            lines.append(b"MIME-Version: 1.0")
            deep = _nested_multipart(draw(st.sampled_from((50, 300))))
            deep_head, _, body = deep.partition(b"\r\n\r\n")
            lines.append(deep_head)
            break
        else:
            body = bytes(random.Random(draw(st.integers(0, 1000))).randrange(256) for _ in range(2_000)) + body
    return newline.join(lines) + sep + body, done
