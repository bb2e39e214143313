"""The web-chat widget's API: a visitor the shop vouches for starts a session, writes, uploads
files and polls for the agents' replies. Every call is origin-checked; writes are rate-limited.

Visitors see their own messages and the agents' replies, never notes or system events.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shopdesk import clock
from shopdesk.channels import webchat
from shopdesk.dal.aws import client
from shopdesk.dal.conversations import Conversations
from shopdesk.dal.identities import IdentityRecord
from shopdesk.dal.live import HELD_FROM_VISITORS, Connection, Connections, widget_audience
from shopdesk.dal.media import MediaStore, upload_key, visitor_uploads
from shopdesk.dal.ratelimits import RateLimits
from shopdesk.errors import BadRequest, InvalidSignature, NotFound, ShopdeskError
from shopdesk.logic.attachments import SNIFF_BYTES, sniff_agrees
from shopdesk.logic.language import from_language_header
from shopdesk.logic.webhooks import WebhookProcessor
from shopdesk.models import Attachment, Direction
from shopdesk.privacy.masking import mask_name
from shopdesk.web import is_web_address

SHOP_ADDRESS = "widget"
SEND_LIMIT = webchat.RateLimiter(rate_per_s=1.0, burst=5)        # per visitor
SESSION_LIMIT = webchat.RateLimiter(rate_per_s=0.2, burst=10)    # new sessions per visitor
SOCKET_LIMIT = webchat.RateLimiter(rate_per_s=0.1, burst=10)     # sockets per visitor (the widget's: a few an hour)
UPLOAD_SECONDS = 300


class RateLimited(ShopdeskError):
    """A bucket without a token. ``seconds``: the wait in whole seconds, rounded up and at least 1, the one figure both
    the words and the ``Retry-After`` header say (a retry made after it finds the token there, never "0 s")."""

    def __init__(self, retry_after: float):
        self.retry_after = retry_after
        self.seconds = max(1, math.ceil(retry_after))
        super().__init__(f"too many requests; retry in {self.seconds} s")


class OriginRefused(ShopdeskError):
    pass


def limit(limits: RateLimits, key: str, limiter: webchat.RateLimiter) -> None:
    """Take a token of the caller's bucket, or RateLimited with how long to wait."""
    now = clock.now().timestamp()
    allowed, retry_after = limits.take(key, lambda state: limiter.consume(state, now))
    if not allowed:
        raise RateLimited(retry_after)


def shown(identity: IdentityRecord | None, session: webchat.SessionClaims) -> str | None:
    """The conversation the widget shows: the visitor's open one, else the resolved one whose satisfaction
    survey waits for an answer, else the last one they had (resolved: its last reply and what they wrote after it
    stay in the chat until they write again, which starts the next), else the one their session was issued for."""
    if identity is None:
        return session.conversation_id
    waiting = (identity.csat or {}).get("conversation_id")
    return identity.open_conversation_id or waiting or identity.last_conversation_id or session.conversation_id


@dataclass
class VisitorSockets:
    """The widget's WebSocket API: a visitor's socket hears ``changed`` when their conversation moves
    (``logic.live``), so the widget reads it at once instead of on its next poll. ``$connect`` carries the
    session (``?session=``) and the shop's Origin, both checked as on every widget call; the socket is listed
    under the conversation the widget shows (a widget whose conversation changes connects again)."""

    conversations: Conversations
    connections: Connections
    limits: RateLimits
    allowed_origins: list[str]
    session_secret: str

    def connect(self, connection_id: str, origin: str | None, session_token: str | None) -> str:
        """The conversation the socket hears of. OriginRefused, InvalidSignature, RateLimited (a socket writes
        two items: a visitor opening them in a loop is held to a few a minute), or NotFound before the visitor
        has written (nothing to hear of yet)."""
        if not webchat.origin_allowed(origin, self.allowed_origins):
            raise OriginRefused(f"origin {origin!r} may not use this widget")
        if not session_token:
            raise InvalidSignature("a widget session token is required (?session=...)")
        session = webchat.verify_session(session_token, self.session_secret, now=clock.now())
        limit(self.limits, f"webchat-socket#{session.visitor_id}", SOCKET_LIMIT)
        conversation_id = shown(self.conversations.get_identity(webchat.IDENTITY_KIND, session.visitor_id), session)
        if conversation_id is None:
            raise NotFound("the visitor has no conversation yet: connect after the first message")
        self.connections.add(Connection(connection_id=connection_id, agent_id="", teams=(), roles=(),
                                        audiences=(widget_audience(conversation_id),), connected_at=clock.now_iso()))
        return conversation_id

    def disconnect(self, connection_id: str) -> None:
        connection = self.connections.get(connection_id)
        if connection is not None:
            self.connections.remove(connection)


@dataclass
class Widget:
    conversations: Conversations
    processor: WebhookProcessor
    limits: RateLimits
    media: MediaStore
    allowed_origins: list[str]
    visitor_secret: str
    session_secret: str

    def check_origin(self, origin: str | None) -> str:
        if not webchat.origin_allowed(origin, self.allowed_origins):
            raise OriginRefused(f"origin {origin!r} may not use this widget")
        return origin or ""

    def _limit(self, key: str, limiter: webchat.RateLimiter) -> None:
        limit(self.limits, key, limiter)

    # ------------------------------------------------------------------ calls
    def start(self, visitor_token: str) -> dict[str, Any]:
        now = clock.now()
        visitor = webchat.verify_visitor_token(visitor_token, self.visitor_secret, now=now)
        self._limit(f"webchat-session#{visitor.visitor_id}", SESSION_LIMIT)
        identity = self.conversations.get_identity(webchat.IDENTITY_KIND, visitor.visitor_id)
        conversation_id = identity.open_conversation_id if identity else None
        token = webchat.issue_session(visitor, self.session_secret, now=now, conversation_id=conversation_id)
        return {"session": token, "visitor_id": visitor.visitor_id, "conversation_id": conversation_id,
                "expires_in": webchat.SESSION_TTL_S}

    def session(self, authorization: str | None) -> webchat.SessionClaims:
        token = (authorization or "").removeprefix("Bearer ").strip()
        if not token:
            raise InvalidSignature("a widget session token is required (Authorization: Bearer ...)")
        return webchat.verify_session(token, self.session_secret, now=clock.now())

    def send(self, session: webchat.SessionClaims, text: str | None, client_message_id: str,
             uploads: list[dict[str, Any]], choice: str | None = None,
             accept_language: str | None = None) -> dict[str, Any]:
        """Store the visitor's message. ``accept_language``: their browser's header on this post; the message keeps
        only the first language we answer that it names, as the understanding layer's hint."""
        self._limit(f"webchat-send#{session.visitor_id}", SEND_LIMIT)
        attachments = [self._uploaded(session.visitor_id, u) for u in uploads]
        inbound = webchat.webchat_inbound(session.visitor, text, client_message_id, SHOP_ADDRESS,
                                          attachments=attachments, sent_at=clock.now(), choice=choice,
                                          language=from_language_header(accept_language))
        outcome = self.processor.process([inbound])
        stored = outcome.stored[0] if outcome.stored else None
        return {"status": "stored" if stored else "duplicate", "message_id": stored.message_id if stored else None,
                "conversation_id": stored.conversation_id if stored else None}

    def _uploaded(self, visitor_id: str, upload: dict[str, Any]) -> Attachment:
        key = str(upload.get("key") or "")
        if not key.startswith(visitor_uploads(visitor_id)):
            raise BadRequest("attachment key was not issued to this visitor")
        # what landed, not what the browser says it sent: S3 held the upload to the presigned policy's type and
        # size, but the bytes are the visitor's own, and an agent opens them (the same check as agents' files)
        stored = self.media.head(key)
        if stored is None:
            raise BadRequest("the file was not uploaded (nothing is stored under its key); upload it again")
        checked = webchat.check_upload(upload.get("filename"), stored.content_type or upload.get("content_type"),
                                       stored.size)
        if not sniff_agrees(checked.content_type, self.media.first_bytes(key, SNIFF_BYTES)):
            raise BadRequest(f"the contents of {checked.filename} do not match its type ({checked.content_type}): "
                             "its first bytes say otherwise")
        return Attachment(storage_key=key, filename=checked.filename, content_type=checked.content_type,
                          size=checked.size)

    def upload(self, session: webchat.SessionClaims, filename: str | None, content_type: str | None,
               size: int) -> dict[str, Any]:
        """A presigned S3 POST for one file: the browser uploads straight to the bucket, within the
        checked type and size, then names the key in its next message. The file's name is masked first (as ingest
        masks it on the message): the key is named after it."""
        self._limit(f"webchat-send#{session.visitor_id}", SEND_LIMIT)
        if filename and self.processor.privacy is not None:
            filename = mask_name(filename, self.processor.privacy.current().patterns).text
        checked = webchat.check_upload(filename, content_type, size)
        key = upload_key(session.visitor_id, checked.filename, clock.now())
        post = client("s3").generate_presigned_post(
            Bucket=self.media.bucket, Key=key,
            Fields={"Content-Type": checked.content_type},
            Conditions=[{"Content-Type": checked.content_type}, ["content-length-range", 1, checked.size]],
            ExpiresIn=UPLOAD_SECONDS)
        return {"key": key, "url": post["url"], "fields": post["fields"], "filename": checked.filename,
                "content_type": checked.content_type, "size": checked.size}

    def poll(self, session: webchat.SessionClaims, after: datetime | None) -> dict[str, Any]:
        identity = self.conversations.get_identity(webchat.IDENTITY_KIND, session.visitor_id)
        conversation_id = shown(identity, session)
        if conversation_id is None:
            return {"conversation_id": None, "items": []}
        # shown as the visitor's last, resolved conversation (nothing open, no survey waiting)
        past = (identity is not None and conversation_id == identity.last_conversation_id
                and not identity.open_conversation_id and not (identity.csat or {}).get("conversation_id"))
        try:
            conv = self.conversations.get_with_messages(conversation_id)
        except NotFound:
            if past:              # erased since it was resolved: there is nothing left to show
                return {"conversation_id": None, "items": []}
            raise
        linked = identity is not None and conv.customer.id == identity.customer_id   # the visitor's customer's
        if not linked and not any(i.kind == webchat.IDENTITY_KIND and i.address == session.visitor_id
                                  for i in conv.customer.identities):
            if past:              # a merge undone since: that conversation went with the other customer
                return {"conversation_id": None, "items": []}
            raise InvalidSignature("this conversation is not the visitor's")
        items = []
        for m in conv.messages:
            if m.direction not in (Direction.INBOUND, Direction.OUTBOUND) or (after and m.created_at <= after):
                continue
            if m.direction is Direction.OUTBOUND and m.status in HELD_FROM_VISITORS:
                continue       # not sent yet (or never): the visitor sees it once the dispatcher let it go
            # (what is listed of a message is what dal.live.seen_by_visitor compares: a change of anything else
            # sends the visitor's socket no frame)
            items.append({"id": m.id, "from": "visitor" if m.direction is Direction.INBOUND else "agent",
                          "text": m.text, "created_at": clock.iso(m.created_at),
                          "attachments": [{"url": self.media.presign(a.storage_key, a.filename,
                                                                      content_type=a.content_type) if a.storage_key
                                           else web_address(a.url), "filename": a.filename,
                                           "content_type": a.content_type} for a in m.attachments],
                          "choices": [c for c in (m.payload or {}).get("choices") or [] if isinstance(c, dict)]})
        return {"conversation_id": conversation_id, "items": items}


def web_address(url: str | None) -> str | None:
    """A provider's link to a file as the visitor's page may follow it: https or http only (a ``javascript:`` or
    ``data:`` link in a webhook would run in the shop's page); None otherwise (the file is named, not linked)."""
    return url if is_web_address(url) else None
