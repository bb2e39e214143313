"""Inbound email: a raw RFC 5322 message (SES S3 object or SNS ``content``) as an InboundMessage.

Pure and defensive: malformed mail is what real senders produce, so nothing here raises except
``BadRequest`` when the message names no author (no usable From, or Sender, address) or SES found its From
forged (below). Decisions:

- Identity: ``customer_address`` is the From address (lower-cased). Reply-To does not change who
  wrote - it may be a list, a colleague or a no-reply alias - it only changes where the answer goes
  (``reply_to``). The exception is mail From one of our own shop addresses (a website contact form
  sending as the shop with the customer in Reply-To): then the first Reply-To address that is not
  ours is the customer. A message From us with no such Reply-To is a loop and marked
  ``auto_submitted``.
- ``shop_address`` (the mailbox the answer is sent from, so it must be one SES lets us send from):
  the first To/Cc/Delivered-To/X-Original-To address that is ours (``shop_addresses``: addresses,
  plus tags ignored, and domains as SES receipt rules name them), else the envelope recipient -
  mail that reached us by Bcc, a forwarding rule or an alias names someone else in To and Cc. The
  envelope recipients are SES's ``receipt.recipients`` when the caller has them (SNS), else the
  ``for`` clause of the Received header SES puts on top of the stored message (S3). Then the
  shop address on the domain of a ``reply+<token>@`` recipient, then the first configured address.
  Only when nothing is configured is it the first To (nothing can tell ours apart).
- ``conversation_token``: from a ``reply+<token>@`` recipient on one of our domains (any domain when
  no shop addresses are configured), so a customer cannot steer mail into a conversation by
  naming a token on someone else's domain.
- Body: text/plain is preferred; HTML-only mail is turned into readable text. Quoted history under
  a reply is cut from ``text`` and kept in ``email.quoted_text``; when the cut would leave nothing
  (a forward, a bottom-posted reply) the whole text stays.
- Language: the mail's ``Content-Language`` header (RFC 3282), else that of the first part the text is made of,
  as written, is ``ParsedEmail.content_language``; the receiver keeps the language it names as the understanding
  layer's weak hint (``logic.email_inbound``: the text decides where it is sure).
- Authenticity: mail that SES's own DMARC check failed (``ses_authentication``, which reads SES's header as RFC 8601
  clauses, so no text of the sender's quoted in it counts; one the sender broke reads ``unreadable``, refused the
  same way) is not a customer's message (``BadRequest``, kept as unsupported): its From address, which names the
  customer, may be forged, and its Reply-To would send the agents' answers about that customer's conversation to the
  forger. Mail From one of our own addresses fails it the same way (anyone can write it, naming any customer in
  Reply-To), except from an address the admin declared a contact form's sender (``contact_form_senders``; a form's
  mail is often not aligned): its customer is the Reply-To, who also gets the answers.
- A contact form's mail (From one of our addresses, the customer in Reply-To, whatever SES's verdict) is
  marked ``email.contact_form``: its customer's address is the form's claim, not proven by the mail.
- Loop guard (``email.auto_submitted``): RFC 3834 Auto-Submitted other than ``no``, X-Autoreply,
  X-Autorespond, Precedence bulk/junk/list/auto_reply, X-Auto-Response-Suppress All/OOF/AutoReply,
  out-of-office subjects in several languages, delivery reports (multipart/report), the null
  Return-Path ``<>`` and MAILER-DAEMON/postmaster senders, and mail From our own addresses.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import hashlib
import mimetypes
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from html import unescape
from html.parser import HTMLParser
from typing import Any

from shopdesk.errors import BadRequest
from shopdesk.models.message import Attachment, EmailMeta, InboundMessage

PROVIDER = "email"
MAX_TEXT_CHARS = 100_000          # what an agent can read; DynamoDB items stop at 400 KB
MAX_ATTACHMENTS = 100
MAX_DEPTH = 25                    # nesting of multiparts / attached messages
MAX_IDS = 100                     # References entries kept

# ------------------------------------------------------------------------------- charsets

# Labels senders use for one charset while meaning a superset, or that Python does not know
# (WHATWG encoding standard: latin-1 and ascii labels are decoded as windows-1252).
_CHARSET_CANDIDATES: dict[str, tuple[str, ...]] = {
    "us-ascii": ("utf-8", "cp1252"), "ascii": ("utf-8", "cp1252"), "ansi_x3.4-1968": ("utf-8", "cp1252"),
    "iso-8859-1": ("cp1252", "latin-1"), "iso8859-1": ("cp1252", "latin-1"), "latin1": ("cp1252", "latin-1"),
    "latin-1": ("cp1252", "latin-1"), "l1": ("cp1252", "latin-1"),
    "iso-8859-9": ("cp1254", "iso8859_9"), "latin5": ("cp1254", "iso8859_9"),
    "iso-8859-11": ("cp874",), "tis-620": ("cp874",), "windows-874": ("cp874",),
    "iso-2022-jp": ("iso2022_jp", "iso2022_jp_ext", "iso2022_jp_2", "iso2022_jp_3"),
    "shift_jis": ("cp932", "shift_jis"), "shift-jis": ("cp932", "shift_jis"), "sjis": ("cp932",),
    "x-sjis": ("cp932",), "windows-31j": ("cp932",),
    "gb2312": ("gb18030",), "gbk": ("gb18030",), "x-gbk": ("gb18030",), "euc-cn": ("gb18030",),
    "big5": ("big5hkscs", "cp950"), "ks_c_5601-1987": ("cp949",), "euc-kr": ("cp949",),
    "utf8": ("utf-8",), "unicode-1-1-utf-7": ("utf-7",), "unicode": ("utf-16",),
}
_NO_CHARSET = {"", "default", "unknown", "unknown-8bit", "x-unknown", "x-user-defined", "charset"}


def _codecs_for(charset: str | None) -> list[str]:
    label = (charset or "").strip().strip("\"'").lower().split("*", 1)[0]
    names: list[str] = []
    if label and label not in _NO_CHARSET:
        for name in (*_CHARSET_CANDIDATES.get(label, ()), label):
            try:
                info = codecs.lookup(name)
            except LookupError:
                continue
            if getattr(info, "_is_text_encoding", True) and info.name not in names:
                names.append(info.name)
    for fallback in ("utf-8", "cp1252"):
        if fallback not in names:
            names.append(fallback)
    return names


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Bytes in a declared (often wrong) charset as text: the declared charset, then UTF-8, then
    windows-1252, and finally latin-1, which decodes anything."""
    for name in _codecs_for(charset):
        try:
            return data.decode(name)
        except (UnicodeDecodeError, LookupError, ValueError):
            continue
    return data.decode("latin-1")


_SURROGATES = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean(text: str) -> str:
    """No lone surrogates (they cannot be stored as UTF-8) and no control characters."""
    return _CONTROL.sub("", _SURROGATES.sub("\ufffd", text))


def _unescape_raw(value: str) -> str:
    """A raw header as the parser left it (8-bit bytes as surrogate escapes): RFC 6532 UTF-8, or
    a legacy 8-bit charset, decoded to text."""
    if not _SURROGATES.search(value):
        return value
    try:
        data = value.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        return _SURROGATES.sub("\ufffd", value)
    return decode_bytes(data, "utf-8")


def _unfolded(raw: str) -> str:
    """A raw header decoded (``_unescape_raw``) and unfolded: a line break before a space or tab removed."""
    return re.sub(r"\r?\n(?=[ \t])", "", _unescape_raw(raw))


# ------------------------------------------------------------------------------- headers

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?(.*?)\?=")
_QP_BYTE = re.compile(rb"=([0-9A-Fa-f]{2})")


def _word_bytes(kind: str, text: str) -> bytes | None:
    try:
        raw = text.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "replace")
    if kind.lower() == "q":
        return _QP_BYTE.sub(lambda m: bytes([int(m.group(1), 16)]), raw.replace(b"_", b" "))
    compact = re.sub(rb"[^A-Za-z0-9+/]", b"", raw)
    if len(compact) % 4 == 1:
        compact = compact[:-1]                  # a stray character: no decoder accepts 4n+1
    if not compact:
        return None
    compact += b"=" * (-len(compact) % 4)
    try:
        return base64.b64decode(compact)
    except (binascii.Error, ValueError):
        return None


def decode_header_text(value: str | None) -> str:
    """An unstructured header value as text: unfolded, RFC 2047 encoded-words decoded (including
    broken ones: bad padding, unknown charsets, words split inside a character, spaces inside Q
    words), raw UTF-8 (RFC 6532) or 8-bit legacy bytes decoded."""
    if not value:
        return ""
    text = _unfolded(str(value))
    text = re.sub(r"[\r\n]", " ", text)
    pieces: list[tuple[str | None, Any]] = []      # (charset, bytes) for words, (None, str) for text
    position = 0
    for match in _ENCODED_WORD.finditer(text):
        between = text[position:match.start()]
        data = _word_bytes(match.group(2), match.group(3))
        if data is None:
            pieces.append((None, between + match.group(0)))
        else:
            if between and not (between.isspace() and pieces and pieces[-1][0] is not None):
                pieces.append((None, between))
            charset = match.group(1).split("*", 1)[0].lower()
            if pieces and pieces[-1][0] == charset:
                pieces[-1] = (charset, pieces[-1][1] + data)   # a character may straddle two words
            else:
                pieces.append((charset, data))
        position = match.end()
    pieces.append((None, text[position:]))
    out = "".join(decode_bytes(part, charset) if charset is not None else part for charset, part in pieces)
    return _clean(re.sub(r"[ \t]+", " ", out).strip())


def _raw_headers(msg: Message, name: str) -> list[str]:
    wanted = name.lower()
    try:
        return [str(value) for key, value in msg.raw_items() if key.lower() == wanted]
    except Exception:
        return []


SES_AUTHSERV_ID = "amazonses.com"
_READ_METHODS = ("spf", "dkim", "dmarc")
UNREADABLE = "unreadable"         # the verdict of each method when SES's header cannot be read
_KEYWORD = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"                    # RFC 8601 Keyword (Let-dig [Ldh-str])
_QUOTED = r'"(?:[^"\\]|\\.)*"'
_METHODSPEC = re.compile(rf"\s*({_KEYWORD})\s*(?:/\s*[0-9]+\s*)?=\s*({_KEYWORD})(?=\s|$)")
_REASONSPEC = re.compile(rf"\s+reason\s*=\s*(?:{_QUOTED}|[^\s\"()<>@,;:\\/\[\]?=]+)(?=\s|$)", re.IGNORECASE)
# ptype.property=value; or key=value, as SES follows its spf result with Received-SPF's (RFC 7208 section 9.1)
_PROPSPEC = re.compile(rf"\s+{_KEYWORD}(?:\s*\.\s*{_KEYWORD})?\s*=\s*(?:{_QUOTED}|[^\s\"])+(?=\s|$)")
_CLAUSE_METHOD = re.compile(rf"\s*({_KEYWORD})\s*[/=]")


class _Unreadable(ValueError):
    """SES's Authentication-Results does not split into clauses (see ``_resinfo_clauses``)."""


def _resinfo_clauses(value: str) -> list[str]:
    """An Authentication-Results value split at each ";" outside comments and quoted strings, comments dropped
    (RFC 8601 section 2.2). A comment or quoted string left open, or one holding a ";", is ``_Unreadable``: SES's
    own comments never hold one, so such text is the sender's (an envelope sender or HELO name SES quotes) and could
    hide SES's clauses after it."""
    clauses: list[str] = []
    current: list[str] = []
    depth = 0                       # comments nest
    quoted = False
    index = 0
    while index < len(value):
        char = value[index]
        if char == "\\" and (depth or quoted):
            if index + 1 < len(value) and value[index + 1] == ";":
                raise _Unreadable("a ';' inside a comment or quoted string")
            if quoted:
                current.append(value[index:index + 2])
            index += 2
            continue
        if quoted:
            if char == ";":
                raise _Unreadable("a ';' inside a quoted string")
            current.append(char)
            quoted = char != '"'
        elif depth:
            if char == ";":
                raise _Unreadable("a ';' inside a comment")
            depth += {"(": 1, ")": -1}.get(char, 0)
            if not depth:
                current.append(" ")
        elif char == "(":
            depth = 1
        elif char == ")":
            raise _Unreadable("a comment closed that was never opened")
        elif char == ";":
            clauses.append("".join(current))
            current = []
        else:
            current.append(char)
            quoted = char == '"'
        index += 1
    if depth or quoted:
        raise _Unreadable("a comment or quoted string left open")
    clauses.append("".join(current))
    return clauses


def _method_result(clause: str) -> tuple[str, str] | None:
    """The method and its result when ``clause`` is an RFC 8601 resinfo: ``method[/version]=result``, then an
    optional ``reason=value`` and properties ``ptype.property=value``, each after white space (SES follows its spf
    result with ``client-ip=<ip>``, a Received-SPF key, which is read as a property too). Property values and
    reasons are never results, whatever they hold (``smtp.mailfrom=dmarc=pass@...``). None for a clause of another
    shape (SES writes Received-SPF's ``envelope-from=`` and ``helo=`` as clauses of their own)."""
    match = _METHODSPEC.match(clause)
    if not match:
        return None
    position = match.end()
    reason = _REASONSPEC.match(clause, position)
    position = reason.end() if reason else position
    while prop := _PROPSPEC.match(clause, position):
        position = prop.end()
    if clause[position:].strip():
        return None
    return match.group(1).lower(), match.group(2).lower()


def ses_authentication(msg: Message) -> dict[str, str]:
    """SES's own verdicts on a mail it received (``spf``, ``dkim``, ``dmarc``: pass, fail, none...): the topmost
    Authentication-Results, when SES wrote it (authserv-id ``amazonses.com``). SES puts its headers above the
    mail's own, so one a sender wrote (claiming a pass) comes below and is never read; without SES's, nothing.

    The header is read as RFC 8601 defines it, clause by clause: only a clause's ``method=result`` counts, never
    text the sender chose that SES quotes in it (the envelope sender, the HELO name, a From domain), in a property,
    a comment, a quoted string or a reason. A method judged in several clauses (DKIM, one per signature) reads
    ``fail`` when any says so, else its first result. When the header cannot be read (a comment or quoted string
    left open or holding a ";", or a clause naming spf, dkim or dmarc that is no RFC 8601 result), every method
    reads ``unreadable``: the sender broke it, and what SES said cannot be told. ``authres`` on PyPI was not used:
    it refuses SES's headers whole (their ``envelope-from=`` clauses and final ";" are not RFC 8601)."""
    values = _raw_headers(msg, "Authentication-Results")
    if not values:
        return {}
    top = _unfolded(values[0])
    try:
        clauses = _resinfo_clauses(top)
    except _Unreadable:
        return dict.fromkeys(_READ_METHODS, UNREADABLE) if _is_ses(top) else {}
    authserv = clauses[0].split()
    if not authserv or authserv[0].lower() != SES_AUTHSERV_ID or len(authserv) > 2 or (
            len(authserv) == 2 and not authserv[1].isdigit()):
        return {}
    results: dict[str, str] = {}
    for clause in clauses[1:]:
        parsed = _method_result(clause)
        if parsed is None:
            named = _CLAUSE_METHOD.match(clause)
            if named and named.group(1).lower() in _READ_METHODS:
                return dict.fromkeys(_READ_METHODS, UNREADABLE)
            continue
        method, result = parsed
        if method in _READ_METHODS and results.get(method) != "fail":
            results[method] = "fail" if result == "fail" else results.get(method, result)
    return results


def _is_ses(value: str) -> bool:
    """Whether an Authentication-Results value that cannot be split names SES as its authserv-id."""
    return re.match(rf"\s*{re.escape(SES_AUTHSERV_ID)}\s*(?:[0-9]+\s*)?;", value, re.IGNORECASE) is not None


def _header(msg: Message, name: str) -> str:
    values = _raw_headers(msg, name)
    return decode_header_text(values[0]) if values else ""


_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+$")
_ADDRESS_SEPARATORS = re.compile(r"[\s<>()\[\],;:\"']+")


@dataclass(frozen=True)
class _Address:
    name: str
    address: str


def _addresses(msg: Message, *names: str) -> list[_Address]:
    """Mailboxes of address headers in order, lower-cased; groups and garbage skipped."""
    found: list[_Address] = []
    for name in names:
        for raw in _raw_headers(msg, name):
            value = _unfolded(raw)
            try:
                pairs = getaddresses([value])
            except Exception:
                pairs = []
            if not any(_ADDRESS.match(addr.strip()) for _, addr in pairs):
                # getaddresses gave up: fall back to the tokens shaped like an address (split, not a
                # findall of "x+@x+", which is quadratic on a long run without "@": 47 s for 60 KB)
                pairs = [("", token) for token in _ADDRESS_SEPARATORS.split(value) if "@" in token]
            for display, addr in pairs:
                addr = addr.strip().strip("<>").strip()
                if "=?" in addr:
                    addr = decode_header_text(addr)
                if not _ADDRESS.match(addr):
                    continue
                found.append(_Address(decode_header_text(display).strip("\"' ") if display else "",
                                      _clean(addr.lower())))
    return found


def _message_ids(value: str | None) -> list[str]:
    """Message-IDs of In-Reply-To / References / Message-ID, without brackets."""
    if not value:
        return []
    text = _clean(_unescape_raw(value))
    ids = [re.sub(r"\s+", "", m) for m in re.findall(r"<([^<>]+)>", text)]
    if not ids:
        ids = [token.strip("<>") for token in re.split(r"[\s,]+", text) if "@" in token]
    out: list[str] = []
    for ident in ids:
        if ident and len(ident) <= 998 and ident not in out:
            out.append(ident)
    return out


def _date(value: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


# ------------------------------------------------------------------------------- HTML to text

_WHITESPACE = re.compile(r"\s+")
_BLOCK = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "table", "section", "article", "header", "footer",
          "address", "center", "form", "fieldset", "figure", "main", "nav", "aside", "dl", "hr", "pre"}
_PARAGRAPH = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "hr", "pre", "dl", "figure"}
_LINE = {"tr", "dt", "dd", "li", "caption"}
_SKIP = {"script", "style", "title", "template", "svg", "object", "iframe"}
_VOID = {"br", "img", "hr", "meta", "link", "input", "area", "base", "col", "embed", "source", "wbr", "param"}


class _Frame:
    """Text being built for the document or one blockquote."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.newlines = 2           # as if after a paragraph: no leading blank lines
        self.space = True

    def text(self, data: str, pre: bool = False) -> None:
        if not pre:
            data = _WHITESPACE.sub(" ", data)
            if self.space:
                data = data.lstrip(" ")
            if not data:
                return
            self.space = data.endswith(" ")
            self.newlines = 0
        else:
            if not data:
                return
            stripped = data.rstrip("\n")
            self.newlines = (len(data) - len(stripped)) if stripped else self.newlines + len(data)
            self.space = data.endswith((" ", "\n"))
        self.parts.append(data)

    def _trim(self) -> None:
        if self.parts and self.parts[-1].endswith(" "):
            self.parts[-1] = self.parts[-1].rstrip(" ")

    def brk(self, count: int) -> None:
        if self.newlines >= count:
            return
        self._trim()
        self.parts.append("\n" * (count - self.newlines))
        self.newlines, self.space = count, True

    def line_break(self) -> None:
        self._trim()
        self.parts.append("\n")
        self.newlines += 1
        self.space = True

    def value(self) -> str:
        return "".join(self.parts)


class _HtmlToText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.frames = [_Frame()]
        self.skip: list[str] = []
        self.pre = 0
        self.lists: list[list[Any]] = []               # [tag, counter]
        self.links: list[tuple[str | None, int, int]] = []   # (href, frame depth, part index)

    @property
    def frame(self) -> _Frame:
        return self.frames[-1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self.skip.clear()                          # whatever the head left unclosed
            return
        if tag in _SKIP:
            if tag not in _VOID:
                self.skip.append(tag)
            return
        if self.skip:
            return
        attributes = {k: (v or "") for k, v in attrs}
        if tag == "br":
            self.frame.line_break()
        elif tag == "blockquote":
            self.frame.brk(1)
            self.frames.append(_Frame())
        elif tag in ("ul", "ol"):
            self.frame.brk(1 if self.lists else 2)
            self.lists.append([tag, 0])
        elif tag == "li":
            self.frame.brk(1)
            depth = max(len(self.lists), 1)
            if self.lists and self.lists[-1][0] == "ol":
                self.lists[-1][1] += 1
                bullet = f"{self.lists[-1][1]}. "
            else:
                bullet = "- "
            self.frame.text("  " * (depth - 1) + bullet, pre=True)
            self.frame.space = True
        elif tag in ("td", "th"):
            if not self.frame.space:
                self.frame.text(" ")
        elif tag == "a":
            self.links.append((attributes.get("href"), len(self.frames), len(self.frame.parts)))
        elif tag == "img":
            alt = _WHITESPACE.sub(" ", attributes.get("alt", "")).strip()
            if alt:
                self.frame.text(f" {alt} ")
        elif tag in _PARAGRAPH:
            self.frame.brk(2)
            if tag == "pre":
                self.pre += 1
        elif tag in _BLOCK or tag in _LINE:
            self.frame.brk(1)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID and tag not in _SKIP:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.skip:
            if tag == self.skip[-1]:
                self.skip.pop()
            elif tag in self.skip:
                del self.skip[self.skip.index(tag):]
            return
        if tag == "blockquote" and len(self.frames) > 1:
            self._close_quote()
        elif tag in ("ul", "ol"):
            if self.lists:
                self.lists.pop()
            self.frame.brk(1 if self.lists else 2)
        elif tag == "a" and self.links:
            href, depth, start = self.links.pop()
            if depth == len(self.frames):
                self._link(href, start)
        elif tag in _PARAGRAPH:
            if tag == "pre" and self.pre:
                self.pre -= 1
            self.frame.brk(2)
        elif tag in _BLOCK or tag in _LINE:
            self.frame.brk(1)

    def _link(self, href: str | None, start: int) -> None:
        url = (href or "").strip()
        if not url or url.startswith(("#", "javascript:", "cid:", "data:")):
            return
        if url.lower().startswith("mailto:"):
            url = url[7:].split("?", 1)[0]
        label = _WHITESPACE.sub(" ", "".join(self.frame.parts[start:])).strip()
        if not label:
            self.frame.text(url)
        elif url.rstrip("/") not in label and label.rstrip("/") != url.rstrip("/"):
            self.frame._trim()
            self.frame.text(f" ({url}) ")

    def _close_quote(self) -> None:
        inner = self.frames.pop().value().strip("\n")
        self.frame.brk(1)
        if inner.strip():
            quoted = "\n".join(("> " + line) if line.strip() else ">" for line in inner.split("\n"))
            self.frame.text(quoted, pre=True)
        self.frame.brk(1)

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.frame.text(data, pre=self.pre > 0)

    def result(self) -> str:
        while len(self.frames) > 1:
            self._close_quote()
        return self.frame.value()


def html_to_text(markup: str) -> str:
    """Readable text of an HTML email: paragraphs and line breaks kept, lists as "- " items, links
    as "text (url)", blockquotes as "> " lines, scripts and styles dropped, entities decoded."""
    try:
        parser = _HtmlToText()
        parser.feed(markup)
        parser.close()
        text = parser.result()
    except Exception:       # html.parser still trips over some marked sections: degrade, never fail
        text = unescape(re.sub(r"(?is)<(script|style)\b.*?</\1\s*>|<[^>]*>", " ", markup))
    return _tidy(text.replace("\xa0", " "))


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n").strip()


# ------------------------------------------------------------------------------- plain text

def _unflow(text: str, delsp: bool) -> str:
    """RFC 3676 format=flowed: soft line breaks (a trailing space) joined again."""
    out: list[str] = []
    current: str | None = None
    current_depth = -1
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        body = line[depth:]
        if body.startswith(" "):
            body = body[1:]                                   # space-stuffing
        if current is not None and depth == current_depth:
            current += body
        else:
            if current is not None:
                out.append(">" * current_depth + (" " if current_depth else "") + current)
            current, current_depth = body, depth
        if current.endswith(" ") and current != "-- ":
            if delsp:
                current = current[:-1]
            continue
        out.append(">" * current_depth + (" " if current_depth and current else "") + current)
        current, current_depth = None, -1
    if current is not None:
        out.append(">" * current_depth + (" " if current_depth and current else "") + current)
    return "\n".join(out)


# ------------------------------------------------------------------------------- quoted history

_ATTRIBUTION = re.compile(
    r"""^\s*(?:
        On\b.{0,300}\bwrote\s*:                                   # en: On <date>, <name> wrote:
      | Am\b.{0,300}\bschrieb\b.{0,300}:                          # de: Am <date> schrieb <name>:
      | El\b.{0,300}\bescribi[óo]\s*:                             # es: El <date>, <name> escribió:
      | Em\b.{0,300}\bescreveu\s*:                                # pt: Em <date>, <name> escreveu:
      | Le\b.{0,300}\ba\s+[ée]crit\s*:                            # fr: Le <date>, <name> a écrit :
      | .{0,300}\btarihinde\b.{0,300}\byazd[\u0131i]\s*:               # tr: <name>, <date> tarihinde şunu yazd\u0131:
      | Op\b.{0,300}\bschreef\b.{0,300}:                          # nl
      | Il\b.{0,300}\bha\s+scritto\s*:                            # it
      | .{1,300}\b(?:wrote|schrieb|escribió|escreveu|a\s+écrit|yazd\u0131|ha\s+scritto)\s*:   # any order
    )\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
_SEPARATOR = re.compile(
    r"^\s*-{2,}\s*(?:Original Message|Ursprüngliche Nachricht|Originalnachricht|Mensaje original|"
    r"Mensagem original|Message d'origine|Messaggio originale|Oorspronkelijk bericht|Orijinal İleti|"
    r"Özgün İleti|Orijinal Mesaj|Original meddelelse|Ursprungligt meddelande)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_RULE = re.compile(r"^\s*_{10,}\s*$")
_FROM_LINE = re.compile(r"^\s*\*?(?:From|Von|De|Kimden|Gönderen|Da|Van|Från|Fra|Od)\s*\*?\s*:", re.IGNORECASE)
_HEADER_LINE = re.compile(
    r"^\s*\*?(?:Sent|Date|Gesendet|Datum|Enviado|Enviada|Fecha|Envoyé|Gönderildi|Tarih|Inviato|Data|Verzonden|"
    r"Skickat|Sendt|To|An|Para|À|A|Kime|Al\u0131c\u0131|Aan|Till|Til|Cc|Subject|Betreff|Asunto|Assunto|Objet|Konu|"
    r"Oggetto|Onderwerp|Ämne|Emne)\s*\*?\s*:",
    re.IGNORECASE,
)


_FORWARD_MARKER = re.compile(
    r"^\s*(?:-{2,}\s*(?:Forwarded message|Forwarded Message|Weitergeleitete Nachricht|Mensaje reenviado|"
    r"Mensagem encaminhada|Message transf[ée]r[ée]|[\u0130I]letilen [\u0130i]leti|Messaggio inoltrato|"
    r"Doorgestuurd bericht)\s*-{2,}|(?:Begin forwarded message|Anfang der weitergeleiteten Nachricht|"
    r"Inicio del mensaje reenviado|In[íi]cio da mensagem reencaminhada|"
    r"D[ée]but du message r[ée]exp[ée]di[ée])\s*:)\s*$",
    re.IGNORECASE,
)
_FORWARD_SUBJECT = re.compile(r"^\s*(?:fwd?|wg|rv|tr|enc|ilt|[\u0130i]lt|vs|doorst)\s*:", re.IGNORECASE)


def _is_quote(line: str) -> bool:
    return line.lstrip().startswith(">")


def _header_block(lines: list[str], index: int) -> bool:
    """An Outlook-style header block starts here: From: then Sent/To/Subject lines."""
    if not _FROM_LINE.match(lines[index]):
        return False
    following = [line for line in lines[index + 1:index + 8] if line.strip()][:5]
    return sum(1 for line in following if _HEADER_LINE.match(line)) >= 2


def _quote_start(lines: list[str]) -> int | None:
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        if _SEPARATOR.match(line):
            return i
        if _RULE.match(line) and i + 1 < len(lines) and any(
                _header_block(lines, j) for j in range(i + 1, min(i + 3, len(lines)))):
            return i
        if _header_block(lines, i):
            return i
        if len(line) <= 400:
            for extra in range(3):                 # attribution lines wrap in plain-text mail
                if i + extra >= len(lines) or (extra and not lines[i + extra].strip()):
                    break
                if not lines[i + extra].rstrip().endswith(":"):
                    continue                       # every attribution ends with a colon
                joined = " ".join(part.strip() for part in lines[i:i + extra + 1])
                if _ATTRIBUTION.match(joined) and _quoted_follows(lines, i + extra + 1):
                    return i
    # a trailing block of "> " lines, with the line introducing it
    last_text = max((i for i, line in enumerate(lines) if line.strip() and not _is_quote(line)), default=-1)
    if last_text + 1 < len(lines) and any(_is_quote(line) for line in lines[last_text + 1:]):
        start = last_text + 1
        if last_text >= 0 and lines[last_text].rstrip().endswith(":") and len(lines[last_text]) < 300:
            start = last_text
        return start
    return None


def _quoted_follows(lines: list[str], index: int) -> bool:
    """An attribution is only one when something follows it (quoted or not: Outlook does not quote)."""
    return any(line.strip() for line in lines[index:])


def split_quoted(text: str, *, forwarded: bool = False) -> tuple[str, str | None]:
    """(new text, quoted history) of a reply; the history is None when nothing is quoted, when
    cutting it would leave no text, and for forwards (``forwarded``, or a forward marker before the
    cut): what a customer forwards is what they want us to read."""
    lines = text[:MAX_TEXT_CHARS * 2].split("\n")     # what could be shown at all
    start = _quote_start(lines)
    if start is None:
        return text, None
    if forwarded or any(_FORWARD_MARKER.match(line) for line in lines[:start + 1]):
        return text, None
    head = "\n".join(lines[:start]).rstrip()
    tail = "\n".join(lines[start:]).strip("\n")
    if not head.strip() or not tail.strip():
        return text, None
    return head, tail


# ------------------------------------------------------------------------------- loop guard

# Unambiguous at the start of a subject, and phrases that need a colon or brackets to count.
_OOF_STRONG = (
    r"automatic reply|automatische antwort|abwesenheitsnotiz|out of (?:the )?office|out-of-office|autoreply|"
    r"auto-reply|auto reply|respuesta autom[áa]tica|resposta autom[áa]tica|otomatik yan[\u0131i]t|"
    r"r[ée]ponse automatique|risposta automatica|automatisch antwoord|afwezigheidsbericht|autosvar|"
    r"automaattinen vastaus|odpowied[źz] automatyczna|自動返信|自动回复|自動回覆"
)
_OOF_WEAK = (
    r"auto|ooo|fuera de la oficina|aus[êe]ncia tempor[áa]ria|fora do escrit[óo]rio|ofis d[\u0131i][şs][\u0131i]nda|"
    r"absence du bureau|absent du bureau|fuori ufficio|vacation reply|away from (?:the )?office"
)
_OOF_SUBJECT = re.compile(rf"^\s*(?:\[\s*)?(?:(?:{_OOF_STRONG})(?!\w)|(?:{_OOF_WEAK})\s*[:\]])", re.IGNORECASE)


def _auto_submitted(msg: Message, subject: str, sender: str | None) -> str | None:
    """Why this message is automatic (a reason for the log), or None for a human message."""
    auto = _header(msg, "Auto-Submitted").split(";", 1)[0].strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Autogenerated"):
        if _raw_headers(msg, name):
            value = _header(msg, name).lower()
            if value not in ("no", "false", "0"):
                return name
    precedence = _header(msg, "Precedence").strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply", "auto-reply"):
        return f"Precedence: {precedence}"
    suppress = {token.strip().lower() for token in _header(msg, "X-Auto-Response-Suppress").split(",")}
    if suppress & {"all", "oof", "autoreply"}:
        return "X-Auto-Response-Suppress"
    try:
        content_type = msg.get_content_type()
    except Exception:
        content_type = ""
    if content_type == "multipart/report":
        return "delivery report"
    if any(value.strip() == "<>" for value in _raw_headers(msg, "Return-Path")):
        return "null Return-Path"
    if sender and sender.split("@", 1)[0] in ("mailer-daemon", "postmaster"):
        return "mailer daemon"
    if _OOF_SUBJECT.match(subject or ""):
        return "out-of-office subject"
    return None


# ------------------------------------------------------------------------------- body and files

@dataclass
class _Body:
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    plain_languages: list[str | None] = field(default_factory=list)     # each plain part's Content-Language
    html_languages: list[str | None] = field(default_factory=list)      # each HTML part's
    files: list[tuple[Attachment, bytes | None]] = field(default_factory=list)
    report: dict[str, str] = field(default_factory=dict)
    dropped: int = 0
    encrypted: bool = False


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:
        return "text/plain"


def _param(part: Message, name: str) -> str | None:
    try:
        value = part.get_param(name)
    except Exception:
        return None
    if isinstance(value, tuple):           # RFC 2231 (charset, language, value)
        try:
            return str(value[2])
        except IndexError:
            return None
    return str(value) if value is not None else None


def _disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:
        return None


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if not name:
        name = _param(part, "name")
    if not name:
        return None
    name = decode_header_text(name) if ("=?" in name or _SURROGATES.search(name)) else _clean(name)
    name = re.split(r"[\\/]", name)[-1].strip().strip(".")
    return name[:255] or None


def _payload(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    try:
        raw = part.get_payload()
    except Exception:
        return b""
    return raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""


def _part_text(part: Message) -> str:
    data = _payload(part)
    text = decode_bytes(data, _param(part, "charset")).replace("\r\n", "\n").replace("\r", "\n")
    if (_param(part, "format") or "").lower() == "flowed" and _content_type(part) == "text/plain":
        text = _unflow(text, (_param(part, "delsp") or "").lower() == "yes")
    return _clean(text)


def _size_label(limit: int) -> str:
    if limit >= 1_000_000:
        mb = limit / 1_000_000
        return f"{mb:g} MB"
    return f"{max(limit // 1000, 1)} KB"


def _add_file(body: _Body, part: Message, data: bytes, filename: str | None, content_type: str,
              max_bytes: int) -> None:
    if len(body.files) >= MAX_ATTACHMENTS:
        body.dropped += 1
        return
    if not filename:
        extension = mimetypes.guess_extension(content_type) or ".bin"
        stem = "image" if content_type.startswith("image/") else "attachment"
        filename = f"{stem}-{len(body.files) + 1}{extension}"
    if content_type in ("application/octet-stream", "") and filename:
        content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    if len(data) > max_bytes:
        body.files.append((Attachment(filename=filename, content_type=content_type, size=len(data),
                                      note=f"larger than {_size_label(max_bytes)}"), None))
    else:
        body.files.append((Attachment(filename=filename, content_type=content_type, size=len(data)), data))


def _attached_message(part: Message) -> tuple[bytes, str]:
    try:
        inner = part.get_payload(0) if part.is_multipart() else None
    except Exception:
        inner = None
    if isinstance(inner, Message):
        subject = _header(inner, "Subject")
        try:
            data = inner.as_bytes(policy=policy.compat32)
        except Exception:
            try:
                data = inner.as_string(policy=policy.compat32).encode("utf-8", "surrogateescape")
            except Exception:
                data = b""
        return data, subject
    return _payload(part), ""


def _delivery_status(part: Message, body: _Body) -> None:
    text = ""
    try:
        payload = part.get_payload()
        if isinstance(payload, list):
            text = "\n".join(str(block) for block in payload)
        else:
            text = decode_bytes(_payload(part), "utf-8")
    except Exception:
        text = decode_bytes(_payload(part), "utf-8")
    for key, label in (("final-recipient", "final_recipient"), ("action", "action"), ("status", "status"),
                       ("diagnostic-code", "diagnostic_code"), ("reporting-mta", "reporting_mta")):
        match = re.search(rf"(?im)^{key}\s*:\s*(.+(?:\n[ \t].+)*)", text)
        if match and label not in body.report:
            body.report[label] = _clean(_WHITESPACE.sub(" ", match.group(1)).strip())[:1000]


def _walk(part: Message, body: _Body, max_bytes: int, *, files_only: bool = False, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        return
    content_type = _content_type(part)
    if content_type == "message/rfc822" or (content_type.startswith("message/") and content_type not in (
            "message/delivery-status", "message/disposition-notification")):
        data, subject = _attached_message(part)
        name = _filename(part) or (re.sub(r"[\\/:*?\"<>|]+", " ", subject).strip()[:120] or "message") + ".eml"
        _add_file(body, part, data, name, "message/rfc822", max_bytes)
        return
    if content_type in ("message/delivery-status", "message/disposition-notification"):
        _delivery_status(part, body)
        return
    children: Any = None
    if part.is_multipart():
        try:
            children = part.get_payload()
        except Exception:
            children = None
    if isinstance(children, list):
        children = [child for child in children if isinstance(child, Message)]
        if not children:
            return
        if files_only:
            for child in children:
                _walk(child, body, max_bytes, files_only=True, depth=depth + 1)
        elif content_type == "multipart/alternative":
            chosen = _choose_alternative(children)
            for child in children:
                _walk(child, body, max_bytes, files_only=child is not chosen, depth=depth + 1)
        elif content_type == "multipart/related":
            start = _param(part, "start")
            first = next((c for c in children if start and start.strip() in
                          [value.strip() for value in _raw_headers(c, "Content-ID")]), children[0])
            for child in children:
                _walk(child, body, max_bytes, files_only=child is not first, depth=depth + 1)
        elif content_type == "multipart/report":
            _walk(children[0], body, max_bytes, depth=depth + 1)
            for child in children[1:]:
                if _content_type(child) in ("message/delivery-status", "message/disposition-notification"):
                    _walk(child, body, max_bytes, depth=depth + 1)
            # the returned original (message/rfc822, text/rfc822-headers) is our own mail: not kept
        elif content_type == "multipart/signed":
            _walk(children[0], body, max_bytes, depth=depth + 1)
        elif content_type == "multipart/encrypted":
            body.encrypted = True
        else:                                   # mixed, digest, parallel and anything unknown
            for child in children:
                _walk(child, body, max_bytes, depth=depth + 1)
        return
    disposition = _disposition(part)
    filename = _filename(part)
    is_body_text = content_type in ("text/plain", "text/html", "text/enriched") and disposition != "attachment" \
        and not filename
    if is_body_text:
        if files_only:
            return
        text = _part_text(part)
        (body.html if content_type == "text/html" else body.plain).append(text)
        (body.html_languages if content_type == "text/html" else body.plain_languages).append(
            _content_language(part))
        return
    if content_type in ("application/pkcs7-signature", "application/x-pkcs7-signature",
                        "application/pgp-signature") and not files_only:
        return
    data = _payload(part)
    if not data and not filename:
        return
    _add_file(body, part, data, filename, content_type, max_bytes)


def _choose_alternative(children: list[Message]) -> Message:
    """text/plain wins, then a multipart (related HTML with its images), then HTML, then the last."""
    def has_text(child: Message) -> bool:
        return bool(_part_text(child).strip())

    for child in children:
        if _content_type(child) == "text/plain" and _disposition(child) != "attachment" and has_text(child):
            return child
    for child in reversed(children):
        if child.is_multipart() and _content_type(child) != "message/rfc822":
            return child
    for child in reversed(children):
        if _content_type(child) == "text/html":
            return child
    return children[-1]


def _body_text(body: _Body) -> tuple[str, str | None]:
    """The text shown (the plain parts, else the HTML ones) and the Content-Language of its first part."""
    plain = [(_tidy(text), language) for text, language in zip(body.plain, body.plain_languages, strict=True)]
    plain = [(text, language) for text, language in plain if text]
    if plain:
        return "\n\n".join(text for text, _ in plain), plain[0][1]
    html = [(html_to_text(text), language) for text, language in zip(body.html, body.html_languages, strict=True)]
    html = [(text, language) for text, language in html if text]
    return "\n\n".join(text for text, _ in html), (html[0][1] if html else None)


def _content_language(part: Message) -> str | None:
    """A part's (or the mail's) ``Content-Language`` as written (RFC 3282: language tags, ``de-DE, en``), the first
    such header; None when it has none. What it names is read by the caller (``logic.language``), never here."""
    values = _raw_headers(part, "Content-Language")
    return values[0] if values else None


def _truncate(text: str | None, limit: int = MAX_TEXT_CHARS) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[:limit].rstrip() + "\n[... message shortened]"


# ------------------------------------------------------------------------------- the message

@dataclass(frozen=True)
class ParsedEmail:
    """The message and the attachment bytes to store. ``files[i][0]`` is the very Attachment object
    found in ``message.attachments``; files over the size limit are in ``message.attachments``
    with a ``note`` and are not in ``files``."""

    message: InboundMessage
    files: list[tuple[Attachment, bytes]]
    content_language: str | None = None     # the mail's Content-Language, else its text part's, as written

    def with_files(self, changes: Sequence[dict[str, Any] | None]) -> InboundMessage:
        """The message with the i-th file's Attachment changed by ``changes[i]``: its ``storage_key`` once stored,
        or the ``note`` saying why it was not."""
        by_id = {id(attachment): change for (attachment, _), change in zip(self.files, changes, strict=False)
                 if change}
        attachments = [a.model_copy(update=by_id[id(a)]) if id(a) in by_id else a
                       for a in self.message.attachments]
        return self.message.model_copy(update={"attachments": attachments})

    def with_provider_id(self, provider_id: str) -> ParsedEmail:
        """The same mail known by another id (its attachments the very objects ``files`` names)."""
        return ParsedEmail(self.message.model_copy(update={"provider_id": provider_id}), self.files,
                           self.content_language)


def _shop_key(address: str) -> str:
    local, _, domain = address.lower().partition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def _is_token_address(address: str) -> bool:
    return address.lower().startswith("reply+")


class ShopAddresses:
    """The mail that is the shop's, as configured: addresses (``support@shop.example``, plus tags
    ignored, display names allowed) and domains as SES receipt rules name them (``shop.example``:
    every address at that domain; ``.shop.example``: every address at its subdomains). The first
    address configured is the default mailbox. Empty entries and garbage are skipped."""

    def __init__(self, entries: Iterable[str] = ()) -> None:
        self.addresses: dict[str, str] = {}          # _shop_key -> the address as configured (lower case)
        self.domains: set[str] = set()
        self.parent_domains: set[str] = set()        # from ".domain" entries
        for entry in entries:
            value = parseaddr(entry.strip())[1] if "<" in (entry or "") else (entry or "").strip()
            value = value.strip().lower()
            if not value or re.search(r"[\s<>,;]", value):
                continue
            if "@" in value:
                local, _, domain = value.rpartition("@")
                if local and domain:
                    self.addresses.setdefault(_shop_key(value), value)
            elif value.startswith("."):
                self.parent_domains.add(value[1:])
            else:
                self.domains.add(value)

    def __bool__(self) -> bool:
        return bool(self.addresses or self.domains or self.parent_domains)

    @property
    def default(self) -> str | None:
        """The first configured address: the mailbox replies leave from when nothing else is known."""
        return next(iter(self.addresses.values()), None)

    def owns_domain(self, domain: str) -> bool:
        domain = domain.lower()
        return (domain in self.domains or any(a.endswith("@" + domain) for a in self.addresses)
                or any(domain.endswith("." + parent) for parent in self.parent_domains))

    def is_configured(self, address: str) -> bool:
        return _shop_key(address) in self.addresses

    def owns(self, address: str) -> bool:
        """A configured mailbox, any mailbox at a configured domain, or a reply+<token>@ address of ours."""
        local, _, domain = address.lower().rpartition("@")
        if not local or not domain:
            return False
        if _shop_key(address) in self.addresses:
            return True
        if domain in self.domains or any(domain.endswith("." + parent) for parent in self.parent_domains):
            return True
        return _is_token_address(address) and self.owns_domain(domain)

    def mailbox(self, address: str) -> str | None:
        """The mailbox a reply may leave from for a recipient of ours: the configured spelling of a
        configured address, the address without its plus tag at a configured domain; None for
        addresses not ours and for reply+<token>@ addresses (a reply never leaves from a token)."""
        if _is_token_address(address) or not self.owns(address):
            return None
        return self.addresses.get(_shop_key(address), _shop_key(address))

    def on_domain(self, domain: str) -> str | None:
        """The configured address on ``domain`` (the mailbox behind its reply+<token>@ addresses)."""
        return next((a for a in self.addresses.values() if a.endswith("@" + domain.lower())), None)


_SES_RECEIVED = re.compile(r"\bby\s+inbound-smtp\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?\b", re.IGNORECASE)
_RECEIVED_FOR = re.compile(r"\bfor\s+<?([^\s<>;@]+@[^\s<>;@]+?)>?\s*(?:;|$)", re.IGNORECASE)


def ses_received_for(msg: Message) -> list[str]:
    """The envelope recipient SES names in the Received header it puts on top of a message it
    stores (``... by inbound-smtp.<region>.amazonaws.com with SMTP id ... for support@shop.example;
    <date>``). Only the topmost Received header counts: the ones under it came with the message
    and anyone can write them."""
    received = _raw_headers(msg, "Received")
    if not received:
        return []
    text = re.sub(r"\s+", " ", _unescape_raw(received[0][:4000]))       # SES's is a few hundred characters
    if not _SES_RECEIVED.search(text):
        return []
    match = _RECEIVED_FOR.search(text)
    address = match.group(1).lower() if match else ""
    return [address] if _ADDRESS.match(address) else []


def _token(addresses: Iterable[str], shops: ShopAddresses) -> str | None:
    for address in addresses:
        match = re.match(r"^reply\+([A-Za-z0-9][A-Za-z0-9._=-]{0,127})@(.+)$", address, re.IGNORECASE)
        if match and (not shops or shops.owns_domain(match.group(2))):
            return match.group(1)
    return None


MAX_HEADER_BYTES = 8_000          # one header field (RFC 5322 allows 998 characters a line)
MAX_THREAD_HEADER_BYTES = 64_000  # References / In-Reply-To of long threads (read by our own linear code)
_THREAD_HEADERS = (b"references:", b"in-reply-to:")
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_FIELD_START = re.compile(rb"\r?\n(?![ \t])")


def _bounded_headers(raw: bytes) -> bytes:
    """``raw`` with each top-level header field cut to ``MAX_HEADER_BYTES`` (marked ``[truncated]``;
    References and In-Reply-To to ``MAX_THREAD_HEADER_BYTES``). The standard library's header parsers
    are quadratic on long values (a 60 KB Content-Type takes 10-20 s, 16 KB about 4 s), so a field no
    mail client writes is cut before parsing rather than let the function time out."""
    end = _HEADER_END.search(raw)
    head, rest = (raw[:end.start()], raw[end.start():]) if end else (raw, b"")
    if len(head) <= MAX_HEADER_BYTES:
        return raw

    def limit(field: bytes) -> int:
        return MAX_THREAD_HEADER_BYTES if field[:12].lower().startswith(_THREAD_HEADERS) else MAX_HEADER_BYTES

    fields, start = [], 0
    for match in _FIELD_START.finditer(head):
        fields.append((head[start:match.start()], match.group()))
        start = match.end()
    fields.append((head[start:], b""))
    cut = b"".join((field[:limit(field)] + b" [truncated]" if len(field) > limit(field) else field) + newline
                   for field, newline in fields)
    return cut + rest


def _shop_address(msg: Message, shops: ShopAddresses, written_to: list[str], envelope: list[str]) -> str:
    """The shop mailbox the customer wrote to, which the answer leaves from (see the module doc)."""
    if not shops:
        # nothing tells ours apart: what SES received for wins over what the headers say
        mailbox = next((a for a in written_to if a in envelope and not _is_token_address(a)), None)
        mailbox = mailbox or next((a for a in envelope if not _is_token_address(a)), None)
        to = _addresses(msg, "To")
        return mailbox or (to[0].address if to else (written_to[0] if written_to else ""))
    for address in (*written_to, *envelope):
        mailbox = shops.mailbox(address)
        if mailbox:
            return mailbox
    for address in (*written_to, *envelope):
        if _is_token_address(address) and shops.owns(address):
            # only our reply+<token>@ address was written to: the shop address on that domain
            mailbox = shops.on_domain(address.rpartition("@")[2])
            if mailbox:
                return mailbox
    return shops.default or ""


def parse_email(raw: bytes, *, shop_addresses: Collection[str] | ShopAddresses = (),
                max_attachment_bytes: int = 10_000_000, envelope_recipients: Sequence[str] = (),
                contact_form_senders: Collection[str] = ()) -> ParsedEmail:
    """A raw message as an InboundMessage plus the attachment bytes to store.

    ``shop_addresses`` are our addresses and domains (see ``ShopAddresses``); ``envelope_recipients``
    the SMTP recipients SES reports (``receipt.recipients``): a shop address in Bcc, or behind a
    forwarding rule or an alias, only appears there (or in SES's Received header, when not given).
    ``contact_form_senders``: the shop addresses the admin declared its contact forms send From, whose
    mail is read as a form's even when it fails SES's DMARC check (see the module doc)."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    if not isinstance(raw, bytes | bytearray) or not raw.strip():
        raise BadRequest("the email is empty")
    raw = _bounded_headers(bytes(raw))
    try:
        msg = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception as exc:
        raise BadRequest(f"the email cannot be parsed: {exc}") from exc

    shops = shop_addresses if isinstance(shop_addresses, ShopAddresses) else ShopAddresses(shop_addresses)

    def is_shop(address: str) -> bool:
        """One of our configured mailboxes, or one of our reply+<token>@ addresses. Not any address
        at our domains: a colleague writing from one is a person, not a mail loop."""
        return shops.is_configured(address) or (_is_token_address(address) and shops.owns(address))

    # Sender stands in for a missing From; Reply-To and Return-Path (a bounce or VERP address
    # more often than a person) do not: without an author there is no customer.
    senders = _addresses(msg, "From") or _addresses(msg, "Sender")
    if not senders:
        raise BadRequest("the email has no From address")
    reply_tos = _addresses(msg, "Reply-To")
    author = senders[0]
    forms = {_shop_key(address) for address in contact_form_senders}
    dmarc = ses_authentication(msg).get("dmarc")
    if dmarc in ("fail", UNREADABLE) and not (is_shop(author.address) and _shop_key(author.address) in forms):
        # a contact form sending as the shop often fails alignment: read as the form's only when the admin declared
        # that address a form's sender; from any other address of ours anyone could name a customer in Reply-To
        failed = "failed SES's DMARC check" if dmarc == "fail" else "has SES's DMARC verdict in a header it broke"
        raise BadRequest(f"the mail {failed}: its From address may be forged, so it is not the customer's "
                         "(kept as unsupported)")
    answer_to = next((a for a in reply_tos if not is_shop(a.address)), None)
    loop = contact_form = False
    customer = author
    if is_shop(author.address):
        if answer_to is not None:
            customer = answer_to              # a contact form sending as the shop for the customer: their claim
            contact_form = True
        else:
            loop = True
    reply_address = (answer_to or customer).address

    written_to = [a.address for a in _addresses(msg, "To", "Cc", "Delivered-To", "X-Original-To")]
    envelope = [_clean(a.strip().lower()) for a in envelope_recipients if isinstance(a, str) and "@" in a]
    envelope = envelope or ses_received_for(msg)
    recipients = written_to + envelope
    shop_address = _shop_address(msg, shops, written_to, envelope)

    message_ids = _message_ids(next(iter(_raw_headers(msg, "Message-ID")), ""))
    message_id = message_ids[0] if message_ids else None
    provider_id = message_id or "sha256:" + hashlib.sha256(raw).hexdigest()
    in_reply_to = _message_ids(" ".join(_raw_headers(msg, "In-Reply-To")))[:MAX_IDS]
    references = _message_ids(" ".join(_raw_headers(msg, "References")))
    if len(references) > MAX_IDS:
        references = references[:1] + references[-(MAX_IDS - 1):]
    subject = _header(msg, "Subject")

    body = _Body()
    _walk(msg, body, max_attachment_bytes)
    full_text, text_language = _body_text(body)
    if not full_text and body.encrypted:
        full_text = "[encrypted message: it cannot be shown]"
    forwarded = bool(_FORWARD_SUBJECT.match(subject))
    text, quoted = split_quoted(full_text, forwarded=forwarded) if full_text else ("", None)

    reason = "sent from our own address" if loop else _auto_submitted(msg, subject, author.address)
    attachments = [attachment for attachment, _ in body.files]
    files = [(attachment, data) for attachment, data in body.files if data is not None]
    headers = {name: _header(msg, name) for name in ("Auto-Submitted", "Precedence", "X-Autoreply",
                                                        "X-Auto-Response-Suppress", "List-Id", "Return-Path")
               if _raw_headers(msg, name)}
    raw_info: dict[str, Any] = {
        "message_id": message_id, "from": author.address, "reply_to": [a.address for a in reply_tos],
        "to": [a.address for a in _addresses(msg, "To")], "cc": [a.address for a in _addresses(msg, "Cc")],
        "subject": subject, "date": _header(msg, "Date") or None, "size": len(raw), "headers": headers,
    }
    if envelope:
        raw_info["envelope_to"] = envelope[:MAX_IDS]
    if reason:
        raw_info["auto_submitted_reason"] = reason
    if body.report:
        raw_info["report"] = body.report
    if body.dropped:
        raw_info["attachments_dropped"] = body.dropped

    text_out = _truncate(text) or None
    message = InboundMessage(
        provider=PROVIDER,
        provider_id=provider_id,
        channel="email",
        identity_kind="email",
        customer_address=customer.address,
        shop_address=shop_address,
        reply_to=reply_address,
        text=text_out,
        attachments=attachments,
        profile_name=customer.name or None,
        kind="media" if not text_out and attachments else "text",
        payload={"report": body.report} if body.report else None,
        reply_context=in_reply_to[0] if in_reply_to else (references[-1] if references else None),
        sent_at=_date(_header(msg, "Date")),
        email=EmailMeta(
            message_id=message_id,
            in_reply_to=in_reply_to,
            references=references,
            subject=subject or None,
            auto_submitted=reason is not None,
            conversation_token=_token(recipients, shops),
            quoted_text=_truncate(quoted),
            contact_form=contact_form,
        ),
        raw=raw_info,
    )
    top_language = _content_language(msg)
    return ParsedEmail(message=message, files=files,
                       content_language=top_language if top_language is not None else text_language)
