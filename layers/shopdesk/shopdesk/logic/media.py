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
from shopdesk.dal.media import MediaStore, media_key, message_files
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
REFUSED_TYPES = {"image/svg+xml"}     # can carry scripts


def accepted(content_type: str | None) -> bool:
    kind = (content_type or "").split(";")[0].strip().lower()
    return kind not in REFUSED_TYPES and (kind.startswith(ACCEPTED_PREFIXES) or kind in ACCEPTED_TYPES)


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
            note = (f"not kept: larger than {self.max_bytes // 1_000_000} MB" if exc.code == "too_large"
                    else f"not kept: {exc.message}")
            return attachment.model_copy(update={"note": note})
        content_type = media.content_type if media.content_type not in (None, "application/octet-stream") \
            else attachment.content_type
        if not accepted(content_type):
            return attachment.model_copy(update={"note": f"not kept: files of type {content_type} are not accepted",
                                                 "content_type": content_type})
        key = media_key(conversation_id, message_id, index, attachment.filename or media.filename)
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
