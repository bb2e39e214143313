"""Agents' outbound files: a presigned upload straight to the media bucket, then, before a reply or a canned
response names them, what actually landed is checked and held against the channel's limits.

1. ``upload``: the agent names the file (name, type, size); the answer is a presigned POST (this key, this
   Content-Type, 1 byte to the declared size) under ``media/outbound/<conversation>/<agent>/`` (a reply's
   file; the caller must be allowed to see the conversation) or ``media/library/<agent>/`` (a canned
   response's). The browser posts the file to S3 itself: no file passes through a Lambda.
2. ``confirm``: a reply or a canned response names the uploaded files. Each key must be one issued to the
   caller there; HeadObject gives the real size and type (S3 enforced the policy, but the object must exist),
   and the first bytes must agree with the type (``filetype`` reads the signature; text must be UTF-8).
3. ``check_channel``: the files against the channel's row of ``channels/limits.py``. A channel that cannot carry
   them is refused with ``AttachmentRefused`` (a 422 naming the channel and the limit) before anything is queued.
"""

from __future__ import annotations

import codecs
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import filetype

from shopdesk.channels import limits as channel_limits
from shopdesk.channels.base import OutboundFile
from shopdesk.channels.webchat import sanitize_filename
from shopdesk.dal.media import MediaStore, media_type
from shopdesk.errors import BadRequest, ShopdeskError
from shopdesk.models import Attachment

SNIFF_BYTES = 8192          # enough for filetype to tell office documents (zip entries) from plain zips
TEXT_TYPES = frozenset(("text/plain", "text/csv", "text/vcard"))
# Types whose signature ``filetype`` reads as a more general one: what it may say for each.
COMPATIBLE = {
    "audio/mp4": {"video/mp4", "audio/mp4", "audio/x-m4a", "audio/m4a"},
    "video/3gpp": {"video/3gpp", "video/mp4"},
    "audio/aac": {"audio/aac", "audio/x-aac"},
    "audio/wav": {"audio/x-wav", "audio/wav"},
    "audio/ogg": {"audio/ogg", "video/ogg"},
    "application/msword": {"application/x-ole-storage", "application/msword"},
    "application/vnd.ms-excel": {"application/x-ole-storage", "application/vnd.ms-excel"},
    "application/vnd.ms-powerpoint": {"application/x-ole-storage", "application/vnd.ms-powerpoint"},
}
_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "audio/mp3": "audio/mpeg",
            "audio/x-wav": "audio/wav", "text/x-vcard": "text/vcard"}


class AttachmentRefused(ShopdeskError):
    """A file the channel (or the shop) cannot carry: answered 422 with the channel and the limit named."""

    def __init__(self, detail: str, *, channel: str | None, limit: str, filename: str | None = None):
        super().__init__(detail)
        self.channel = channel
        self.limit = limit
        self.filename = filename


@dataclass(frozen=True)
class FileRef:
    """A file a request names: its key from the upload, with the name, type and size the client believes."""

    key: str
    filename: str
    content_type: str
    size: int


def outbound_prefix(conversation_id: str, agent_id: str) -> str:
    return f"media/outbound/{conversation_id}/{_segment(agent_id)}/"


def library_prefix(agent_id: str) -> str:
    return f"media/library/{_segment(agent_id)}/"


def _segment(value: str) -> str:
    return "".join(c if c.isalnum() or c in "._-@" else "_" for c in value)[:128] or "_"


def normalise_type(content_type: str | None) -> str:
    kind = media_type(content_type)
    return _ALIASES.get(kind, kind)


def sniff_agrees(content_type: str, head: bytes) -> bool:
    """Whether the first bytes of a file agree with its type: the signature ``filetype`` finds is the type (or
    one it reads that type as); text is UTF-8 without NUL bytes; a type with no signature it knows passes
    only when the bytes carry no signature of another type."""
    if content_type in TEXT_TYPES:
        try:
            codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        except UnicodeDecodeError:
            return False
        return b"\x00" not in head
    found = filetype.guess_mime(head)
    if found is None:
        return content_type not in _SIGNED
    found = _ALIASES.get(found, found)
    return found == content_type or found in COMPATIBLE.get(content_type, ())


# Types whose files always carry a signature ``filetype`` knows: bytes without one are not such a file.
_SIGNED = frozenset(("image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf", "application/zip",
                     "video/mp4", "video/quicktime", "video/webm", "audio/ogg", "audio/wav", "audio/amr",
                     *channel_limits.OFFICE))


# What a file reference's key may not hold (``shopdesk.api.attachments.Key``: ``media/[A-Za-z0-9._@/-]+``)
KEY_UNSAFE = re.compile(r"[^A-Za-z0-9._@-]")


@dataclass
class Attachments:
    media: MediaStore

    def upload(self, prefix: str, filename: str, content_type: str, size: int) -> dict[str, object]:
        """A presigned POST for one file under ``prefix`` (the caller's place, chosen by the use case). The key ends in
        the name with every character a reply's or a canned response's file reference does not take (``KEY_UNSAFE``:
        a space, a masked number's ``[card •••• 4242]``) written ``_``, so the file can be sent; the answer's
        ``filename`` is the name as given."""
        kind = normalise_type(content_type)
        name = sanitize_filename(filename)
        if kind not in channel_limits.UPLOAD_TYPES:
            raise AttachmentRefused(f"files of type {kind or '(none)'} cannot be sent; allowed: "
                                    f"{', '.join(sorted(channel_limits.UPLOAD_TYPES))}", channel=None,
                                    limit="types: " + ", ".join(sorted(channel_limits.UPLOAD_TYPES)), filename=name)
        if size > channel_limits.MAX_FILE_BYTES:
            limit = channel_limits.megabytes(channel_limits.MAX_FILE_BYTES)
            raise AttachmentRefused(f"{name} is {channel_limits.megabytes(size)}; files of at most {limit} can be sent",
                                    channel=None, limit=limit, filename=name)
        key = f"{prefix}{uuid.uuid4().hex}/{KEY_UNSAFE.sub('_', name)}"
        post = self.media.presign_upload(key, kind, size)
        return {"key": key, "url": post["url"], "fields": post["fields"], "filename": name,
                "content_type": kind, "size": size}

    def confirm(self, refs: Sequence[FileRef], prefixes: Sequence[str],
                known: Sequence[Attachment] = ()) -> list[Attachment]:
        """The files as stored, in the request's order. A key under one of ``prefixes`` is checked in the
        bucket; a key of ``known`` (already checked: a canned response's own files) is taken as it is."""
        if len(refs) > channel_limits.MAX_FILES_PER_REPLY:
            raise AttachmentRefused(f"at most {channel_limits.MAX_FILES_PER_REPLY} files can be sent at once",
                                    channel=None, limit=f"{channel_limits.MAX_FILES_PER_REPLY} files")
        kept = {a.storage_key: a for a in known if a.storage_key}
        result: list[Attachment] = []
        for ref in refs:
            if ref.key in kept:
                result.append(kept[ref.key])
                continue
            if ".." in ref.key or not any(ref.key.startswith(p) for p in prefixes):
                raise BadRequest(f"attachment {ref.filename!r} was not uploaded for this (its key was issued "
                                 "elsewhere); upload it again")
            result.append(self._checked(ref))
        return result

    def _checked(self, ref: FileRef) -> Attachment:
        name = sanitize_filename(ref.filename)
        stored = self.media.head(ref.key)
        if stored is None:
            raise AttachmentRefused(f"{name} was not uploaded (nothing is stored under its key); upload it again",
                                    channel=None, limit="uploaded first", filename=name)
        kind = normalise_type(stored.content_type or ref.content_type)
        if kind not in channel_limits.UPLOAD_TYPES:
            raise AttachmentRefused(f"files of type {kind} cannot be sent", channel=None,
                                    limit="types: " + ", ".join(sorted(channel_limits.UPLOAD_TYPES)), filename=name)
        if stored.size > channel_limits.MAX_FILE_BYTES:
            limit = channel_limits.megabytes(channel_limits.MAX_FILE_BYTES)
            raise AttachmentRefused(f"{name} is {channel_limits.megabytes(stored.size)}; files of at most {limit} "
                                    "can be sent", channel=None, limit=limit, filename=name)
        if not sniff_agrees(kind, self.media.first_bytes(ref.key, SNIFF_BYTES)):
            raise AttachmentRefused(f"{name} does not contain what a {kind} file does (its first bytes say "
                                    "otherwise)", channel=None, limit=f"a real {kind} file", filename=name)
        return Attachment(storage_key=ref.key, filename=name, content_type=kind, size=stored.size)


def check_channel(attachments: Sequence[Attachment], provider: str | None, channel: str) -> None:
    """Refuse (422) files the reply's channel cannot carry, naming the channel and its limit."""
    files = [OutboundFile(url="", content_type=a.content_type, filename=a.filename, size=a.size, key=a.storage_key)
             for a in attachments]
    limits = channel_limits.limits_for(provider, channel)
    refused = channel_limits.refusal(limits, channel, files)
    if refused is not None:
        detail, limit = refused
        name = limits.name if limits else channel
        raise AttachmentRefused(detail, channel=name, limit=limit)
