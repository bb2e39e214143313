"""Attachments in S3: stored once under media/<conversation>/<message>/, read through presigned URLs.

Agents' uploads land under ``media/outbound/<conversation>/<agent>/`` (a reply's files) or
``media/library/<agent>/`` (a canned response's), by presigned POST; ``head`` and ``first_bytes`` tell what
actually landed before a reply names them."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from shopdesk.dal import lifecycle
from shopdesk.dal.aws import client

PRESIGNED_SECONDS = 300            # an agent's or visitor's link
PROVIDER_FETCH_SECONDS = 3600      # a link a provider fetches an outbound file from (Twilio, Meta, Telegram)
UPLOAD_SECONDS = 300               # a presigned POST


# Types a browser runs a page's scripts in when it opens the file (HTML, SVG, XML and its dialects, JavaScript):
# never stored or served under their own type (``served_type``), whatever a sender or an object claims.
SCRIPT_TYPES = frozenset((
    "text/html", "application/xhtml+xml", "application/vnd.wap.xhtml+xml", "image/svg+xml", "text/xml",
    "application/xml", "text/xsl", "application/xslt+xml", "application/rdf+xml", "application/mathml+xml",
    "text/javascript", "application/javascript", "application/x-javascript", "text/x-javascript",
    "application/ecmascript", "text/ecmascript", "text/x-server-parsed-html", "multipart/x-mixed-replace",
))
# Pictures browsers draw without running anything: the only files a link shows in the browser (SVG is not one).
INLINE_TYPES = frozenset(("image/png", "image/jpeg", "image/gif", "image/webp"))
SAFE_FALLBACK = "application/octet-stream"
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")


def media_type(content_type: str | None) -> str:
    """A Content-Type's media type, lower case, without its parameters (``""`` for none)."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def script_capable(content_type: str | None) -> bool:
    """Whether a browser may run scripts in a file of this type (any XML dialect counts)."""
    kind = media_type(content_type)
    return kind in SCRIPT_TYPES or kind.endswith(("+xml", "/xml"))


def served_type(content_type: str | None) -> str:
    """The type a file is stored and served under: its own, without parameters, unless it is none, not a media
    type, or one a browser runs scripts in; then ``application/octet-stream`` (a download)."""
    kind = media_type(content_type)
    if not _MEDIA_TYPE.fullmatch(kind) or script_capable(kind):
        return SAFE_FALLBACK
    return kind


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    content_type: str | None
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def media_key(conversation_id: str, message_id: str, index: int, filename: str | None) -> str:
    name = _UNSAFE.sub("_", filename or "file").strip("._")[:100] or "file"
    return f"{message_files(conversation_id, message_id)}{index}-{name}"


def message_files(conversation_id: str, message_id: str) -> str:
    """Where the files the router copied for one inbound message are (``media_key``)."""
    return f"{conversation_files(conversation_id)}{message_id}/"


def conversation_files(conversation_id: str) -> str:
    """Where the files the router copied for a conversation's inbound messages are (a conversation id starts
    ``c_``: none of the bucket's other prefixes)."""
    return f"media/{conversation_id}/"


def visitor_uploads(visitor_id: str) -> str:
    """Where a web-chat visitor's uploads land (``upload_key``; a visitor id holds no ``/``, ``channels.webchat``)."""
    return f"media/webchat/{visitor_id}/"


_ISSUED = re.compile(r"(\d{13})-[0-9a-f]{32}-")


def upload_key(visitor_id: str, filename: str, issued: datetime) -> str:
    """A visitor's upload: named after the time its link was issued (milliseconds), so an erase of the visitor tells
    a file posted with a link issued before it from one the visitor's next self uploaded (``upload_issued``)."""
    return f"{visitor_uploads(visitor_id)}{int(issued.timestamp() * 1000):013d}-{uuid.uuid4().hex}-{filename}"


def upload_issued(key: str) -> datetime | None:
    """When the link that put a visitor's file at ``key`` was issued; None for a key named otherwise (one issued
    before keys said so)."""
    found = _ISSUED.match(key.rsplit("/", 1)[-1])
    return datetime.fromtimestamp(int(found.group(1)) / 1000, UTC) if found else None


# The lifecycle rules of the messages' files (template.yaml's MediaBucket): they expire with the messages
# (``messages_days``), else after the stack's MediaRetentionDays. The shared library (media/library/) is the shop's.
MESSAGE_FILES = {"expire-inbound-attachments": "media/c_", "expire-email-attachments": "media/email/",
                 "expire-outbound-attachments": "media/outbound/", "expire-webchat-uploads": "media/webchat/"}


class MediaStore:
    def __init__(self, bucket: str):
        self.bucket = bucket

    def apply_retention(self, days: int) -> list[dict[str, Any]]:
        """The messages' files expire ``days`` after they were stored; the bucket's other rules stay."""
        return lifecycle.expire(client("s3"), self.bucket, MESSAGE_FILES, days)

    def put(self, key: str, content: bytes, content_type: str | None) -> None:
        """Store a file under a type a browser runs no script in (``served_type``), so that any link to it is safe."""
        client("s3").put_object(Bucket=self.bucket, Key=key, Body=content, ContentType=served_type(content_type),
                                ServerSideEncryption="aws:kms")

    def get(self, bucket: str, key: str) -> bytes:
        return client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()

    def presign(self, key: str, filename: str | None = None, expires: int = PRESIGNED_SECONDS, *,
                content_type: str | None = None) -> str:
        """A GET link that says how the browser takes the file, whatever the object says: under ``content_type``
        (the type the message records) made safe (``served_type``), shown in the page only when it is a picture of
        ``INLINE_TYPES``, else downloaded (``attachment``); without a type, a download of bytes."""
        kind = served_type(content_type)
        name = _UNSAFE.sub("_", filename or key.rsplit("/", 1)[-1]).strip("._") or "file"
        disposition = "inline" if kind in INLINE_TYPES else "attachment"
        params = {"Bucket": self.bucket, "Key": key, "ResponseContentType": kind,
                  "ResponseContentDisposition": f'{disposition}; filename="{name}"'}
        return client("s3").generate_presigned_url("get_object", Params=params, ExpiresIn=expires)

    def presign_upload(self, key: str, content_type: str, max_bytes: int) -> dict[str, Any]:
        """A presigned POST for one file: this key, this Content-Type, 1 byte to ``max_bytes``; S3 refuses
        anything else. Returns ``{"url", "fields"}``."""
        post: dict[str, Any] = client("s3").generate_presigned_post(
            Bucket=self.bucket, Key=key, Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
            ExpiresIn=UPLOAD_SECONDS)
        return post

    def head(self, key: str) -> StoredObject | None:
        """What S3 holds at ``key`` (HeadObject): its real size and type; None when nothing is there."""
        try:
            answer = client("s3").head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            # S3 answers 403 rather than 404 for a missing key to a role without s3:ListBucket (ours have none)
            if exc.response.get("Error", {}).get("Code") in ("404", "403", "NoSuchKey", "NotFound", "Forbidden"):
                return None
            raise
        return StoredObject(key, int(answer["ContentLength"]), answer.get("ContentType"))

    def first_bytes(self, key: str, count: int) -> bytes:
        """The start of an object (a ranged GetObject): enough to tell its type by its signature."""
        body: bytes = client("s3").get_object(Bucket=self.bucket, Key=key, Range=f"bytes=0-{count - 1}")["Body"].read()
        return body

    def read(self, key: str) -> bytes:
        return self.get(self.bucket, key)

    def delete(self, key: str) -> None:
        """The object gone (S3 answers the same when there was none: a retry is harmless)."""
        client("s3").delete_object(Bucket=self.bucket, Key=key)


MASKED_METADATA = "shopdesk-masked"     # on a mail we wrote again masked (SES's own objects never carry it)


@dataclass(frozen=True)
class StoredMail:
    body: bytes
    masked: bool          # written again by us, masked: its message was stored before


class RawMail:
    """The mail SES stored in the inbound-mail bucket (``raw/``): read once for ingest, written again masked
    (``privacy.masking.mask_mail``), or removed when it cannot be. The bucket's own encryption (SSE-S3) applies."""

    def get(self, bucket: str, key: str) -> StoredMail | None:
        """The mail; None when it is gone (an erase removed it before a late redelivery of its notice)."""
        try:
            found = client("s3").get_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        return StoredMail(found["Body"].read(), MASKED_METADATA in (found.get("Metadata") or {}))

    def replace(self, bucket: str, key: str, body: bytes) -> None:
        """Write the mail again masked, marked so (its own notice then finds nothing to do)."""
        client("s3").put_object(Bucket=bucket, Key=key, Body=body, ContentType="message/rfc822",
                                Metadata={MASKED_METADATA: "1"})

    def delete(self, bucket: str, key: str) -> None:
        client("s3").delete_object(Bucket=bucket, Key=key)
