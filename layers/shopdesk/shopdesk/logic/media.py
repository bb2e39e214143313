"""Inbound files: copied from the provider (with its credentials) into our bucket, once.

Providers keep files briefly and behind their own auth, so the router copies each new attachment
before routing. A file over the size limit or of a type agents should not open becomes a
placeholder note on the message instead of a failure; a provider outage retries the work item.
A message the customer unsent before its files were stored keeps none: what was copied meanwhile is deleted.
"""

from __future__ import annotations

import base64
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

from aws_lambda_powertools import Logger

from shopdesk.channels.base import Media, http_bytes
from shopdesk.dal.conversations import Conversations
from shopdesk.dal.media import SCRIPT_TYPES, MediaStore, media_key, media_type, message_files, script_capable
from shopdesk.dal.table import ConditionFailed
from shopdesk.errors import ProviderError
from shopdesk.models import Attachment

logger = Logger(child=True)

ACCEPTED_PREFIXES = ("image/", "audio/", "video/")
ACCEPTED_TYPES = {
    "application/pdf", "text/plain", "text/csv", "text/vcard",
    "application/msword", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# Files agents should not open, whatever the channel (an email's too): pages and pictures that carry scripts
# (``SCRIPT_TYPES``: HTML, XHTML, SVG, XML, JavaScript) and programs, known by their type or by their name's ending
# (a sender may declare any type). They become a placeholder note on the message, never a stored file.
REFUSED_TYPES = SCRIPT_TYPES | {
    "application/x-msdownload", "application/x-msdos-program", "application/vnd.microsoft.portable-executable",
    "application/x-dosexec", "application/x-executable", "application/x-elf", "application/x-mach-binary",
    "application/x-msi", "application/x-ms-installer", "application/x-sh", "application/x-csh",
    "application/x-bat", "application/x-shellscript", "application/x-httpd-php", "application/hta",
    "application/java-archive", "application/x-java-archive", "application/x-shockwave-flash",
    "application/vnd.ms-htmlhelp", "application/x-ms-shortcut", "application/x-apple-diskimage",
}
REFUSED_ENDINGS = (
    ".html", ".htm", ".shtml", ".xhtml", ".xht", ".mht", ".mhtml", ".svg", ".svgz", ".xml", ".xsl", ".xslt",
    ".js", ".mjs", ".jse", ".vbs", ".vbe", ".wsf", ".wsh", ".hta", ".ps1", ".psm1", ".bat", ".cmd", ".com",
    ".exe", ".scr", ".pif", ".cpl", ".msi", ".msp", ".dll", ".jar", ".sh", ".lnk", ".chm", ".swf", ".php",
    ".app", ".dmg", ".apk",
)


def refused(content_type: str | None, filename: str | None = None) -> str | None:
    """Why a customer's file is not kept (the placeholder note's words, which the inbox puts after the file's name
    and "not kept"), or None when its type and name are not on the refused lists."""
    kind = media_type(content_type)
    if kind in REFUSED_TYPES or script_capable(kind):
        return f"files of type {kind} are not accepted"
    name = (filename or "").strip().lower().rstrip(". ")
    ending = next((e for e in REFUSED_ENDINGS if name.endswith(e)), None)
    if ending:
        return f"files named *{ending} are not accepted"
    return None


def accepted(content_type: str | None, filename: str | None = None) -> bool:
    kind = media_type(content_type)
    return refused(kind, filename) is None and (kind.startswith(ACCEPTED_PREFIXES) or kind in ACCEPTED_TYPES)


Fetcher = Callable[[Attachment, int], Media]


@dataclass
class MediaCopier:
    conversations: Conversations
    store: MediaStore
    fetchers: dict[str, Fetcher]
    max_bytes: int

    def copy(self, conversation_id: str, message_sk: str) -> int:
        """Copy the message's new attachments; returns how many changed."""
        message = self.conversations.get_message(conversation_id, message_sk)
        if message is None or message.unsent_at is not None:
            return 0
        changed, result = 0, []
        for index, attachment in enumerate(message.attachments):
            if attachment.storage_key or attachment.note:
                result.append(attachment)
                continue
            result.append(self._copy_one(message.provider or "", conversation_id, message.id, index, attachment))
            changed += 1
        if changed:
            try:
                self.conversations.update_attachments(
                    conversation_id, message_sk, [a.model_dump(mode="json", exclude_none=True) for a in result])
            except ConditionFailed:
                # the customer unsent it while the files were on their way (or it is gone): nothing of it is kept
                for attachment in result:
                    if attachment.storage_key and attachment.storage_key.startswith(
                            message_files(conversation_id, message.id)):
                        self.store.delete(attachment.storage_key)
                return 0
        return changed

    def _copy_one(self, provider: str, conversation_id: str, message_id: str, index: int,
                  attachment: Attachment) -> Attachment:
        fetch = self.fetchers.get(provider)
        if fetch is None:
            return attachment.model_copy(update={"note": "kept at the provider (no download for this channel)"})
        try:
            media = fetch(attachment, self.max_bytes)
        except ProviderError as exc:
            if exc.retryable:
                raise
            note = (f"larger than {self.max_bytes // 1_000_000} MB" if exc.code == "too_large"
                    else exc.message)
            return attachment.model_copy(update={"note": note})
        content_type = media.content_type if media.content_type not in (None, "application/octet-stream") \
            else attachment.content_type
        name = attachment.filename or media.filename
        if not accepted(content_type, name):
            note = refused(content_type, name) or f"files of type {content_type} are not accepted"
            return attachment.model_copy(update={"note": note, "content_type": content_type})
        key = media_key(conversation_id, message_id, index, name)
        self.store.put(key, media.content, content_type)
        return attachment.model_copy(update={"storage_key": key, "content_type": content_type,
                                             "size": len(media.content)})


def twilio_fetcher(api_base_url: str, account_sid: str, auth_token: str) -> Fetcher:
    """Twilio media URLs need the account's Basic auth; it is only ever sent to Twilio's API host, over the
    API's own scheme and port (https in production), to a URL without a user part. Twilio redirects the file
    to a short-lived link elsewhere, which is followed without the auth (``http_bytes``)."""
    base = urllib.parse.urlsplit(api_base_url)
    origin = (base.scheme, base.hostname, base.port)
    auth = "Basic " + base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()

    def fetch(attachment: Attachment, max_bytes: int) -> Media:
        url = urllib.parse.urlsplit(attachment.url or "")
        try:
            same = (url.scheme, url.hostname, url.port) == origin and "@" not in url.netloc
        except ValueError:          # a port that is not a number
            same = False
        if not attachment.url or not same:
            raise ProviderError("the media URL is not on Twilio's API host", code="foreign_url", retryable=False)
        return http_bytes(attachment.url, headers={"Authorization": auth}, max_bytes=max_bytes, provider="Twilio")
    return fetch


def url_fetcher(provider: str, trusted_hosts: list[str]) -> Fetcher:
    """Messenger/Instagram CDN links: public and short-lived. Only hosts on the trusted list (Meta's
    CDNs by default) are fetched, and a redirect is followed only to one, so a link can never make us call
    anywhere else."""
    def trusted(url: str) -> str | None:
        split = urllib.parse.urlsplit(url)
        host = split.hostname or ""
        if split.scheme in ("https", "http") and any(host == t or host.endswith("." + t) for t in trusted_hosts):
            return None
        return host or "?"

    def fetch(attachment: Attachment, max_bytes: int) -> Media:
        refused = trusted(attachment.url or "")
        if refused is not None:
            raise ProviderError(f"media host {refused} is not on the trusted list", code="foreign_url",
                                retryable=False)
        return http_bytes(attachment.url or "", max_bytes=max_bytes, provider=provider,
                          follow=lambda url: trusted(url) is None)
    return fetch
