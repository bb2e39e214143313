"""Transcripts: the customer gets a copy of the conversation by email.

- What: the messages the customer and the shop exchanged, oldest first (inbound, and outbound that did not
  fail: agents' replies, templates, acknowledgements); never internal notes or system events.
- Files: listed by name, not linked. A presigned S3 link signed with a Lambda role's temporary credentials
  stops working when that session ends (hours, not the week a transcript is kept), and a transcript is
  often forwarded; so the email says the files are available on request (a reply to it reaches the shop).
- Language: the conversation's language when it is one of ``LANGUAGES``, else the shop's default language
  (routing settings), else English. The words live in ``templates/transcript/strings.json``; the layout in
  ``transcript.html`` and ``transcript.txt``, rendered with python-liquid (the HTML with autoescape: a
  customer's ``<b>`` is text, not markup). Times are in the conversation's calendar's zone.
- To: the customer's email identity (their record's, else the conversation's); none is a 409.
- How: SES ``SendEmail`` from the shop's address (``SES_FROM_ADDRESS``), HTML and text parts. Recorded on
  the timeline as a system event naming the address, the language and who asked (``system`` on resolve).
- Automatically on resolve when the routing settings say ``transcript_on_resolve``: best effort, so a
  resolve never fails for it; a customer without email gets a timeline note instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC
from functools import cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from aws_lambda_powertools import Logger

from shopdesk.dal.conversations import Conversations
from shopdesk.dal.customers import Customers
from shopdesk.errors import Conflict
from shopdesk.logic import timeline
from shopdesk.logic.access import Access, Caller, agent_names
from shopdesk.models import Conversation, Direction, Message
from shopdesk.models.admin import RoutingSettings
from shopdesk.privacy import audit

logger = Logger(child=True)

LANGUAGES = ("en", "es", "pt", "de", "tr", "id", "sk")
UTC_ZONE = ZoneInfo("UTC")
SendMail = Callable[[str, str, str, str], str]      # (to, subject, text, html) -> the provider's message id


class NoEmail(Conflict):
    """The customer has no email address to send the transcript to."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class TranscriptSent:
    to: str
    language: str
    messages: int
    provider_id: str


@cache
def _templates() -> tuple[dict[str, dict[str, str]], Any, Any, Any]:
    """The words per language and the compiled layouts (built on first use: the engine costs ~100 ms)."""
    from liquid import Environment

    folder = resources.files("shopdesk").joinpath("templates/transcript")
    words = {k: v for k, v in json.loads(folder.joinpath("strings.json").read_text(encoding="utf-8")).items()
             if not k.startswith("_")}
    text_env, html_env = Environment(autoescape=False), Environment(autoescape=True)
    return (words, text_env,
            text_env.from_string(folder.joinpath("transcript.txt").read_text(encoding="utf-8")),
            html_env.from_string(folder.joinpath("transcript.html").read_text(encoding="utf-8")))


def customer_messages(conv: Conversation) -> list[Message]:
    """What the customer saw: their messages and ours that did not fail, oldest first."""
    return [m for m in sorted(conv.messages, key=lambda m: m.created_at)
            if m.direction is Direction.INBOUND
            or (m.direction is Direction.OUTBOUND and m.status not in ("failed", "undelivered"))]


def language_for(conv: Conversation, default: str | None) -> str:
    for candidate in (conv.language, default):
        if candidate and candidate.lower()[:2] in LANGUAGES:
            return candidate.lower()[:2]
    return "en"


def render(conv: Conversation, language: str, shop: str, zone: ZoneInfo = UTC_ZONE) -> Rendered:
    """The transcript email of a conversation in a language: subject, text part, HTML part."""
    words_by_language, text_env, text_layout, html_layout = _templates()

    def when(moment: Any) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
    context = {"shop": shop, "started": when(conv.created_at), "id": conv.id}
    words = {k: text_env.from_string(v).render(**context) for k, v in words_by_language[language].items()}
    messages = [{"who": (conv.customer.name or words["you"]) if m.direction is Direction.INBOUND else shop,
                 "customer": m.direction is Direction.INBOUND, "at": when(m.created_at), "text": m.text or "",
                 "files": [a.filename or a.content_type or "file" for a in m.attachments]}
                for m in customer_messages(conv)]
    values = {"words": words, "messages": messages, "has_files": any(m["files"] for m in messages),
              "language": language}
    return Rendered(subject=words["subject"], text=text_layout.render(**values), html=html_layout.render(**values))


@dataclass
class Transcripts:
    conversations: Conversations
    customers: Customers
    access: Access
    send_mail: SendMail | None                 # None: no sending address configured
    routing: Callable[[], RoutingSettings]
    shop_name: str

    def send(self, caller: Caller, conversation_id: str) -> TranscriptSent:
        """An agent asks for it (anyone who may see the conversation)."""
        conv = self.access.check(caller, self.conversations.get_with_messages(conversation_id))
        return self._send(conv, caller.id, agent_names(None, caller))

    def on_resolve(self, conversation_id: str) -> TranscriptSent | None:
        """After a resolve: the automatic transcript, when the shop turned it on. Never raises."""
        try:
            if not self.routing().transcript_on_resolve:
                return None
            conv = self.conversations.get_with_messages(conversation_id)
            try:
                return self._send(conv, "system", {})
            except NoEmail as exc:
                self.conversations.add_message(timeline.transcript_not_sent(conv.id, str(exc)))
        except Exception:            # the resolve happened; a transcript that could not go is logged, not raised
            logger.exception("transcript on resolve failed", extra={"conversation_id": conversation_id})
        return None

    def email_of(self, conv: Conversation) -> str:
        customer = self.customers.get(conv.customer.id)
        identities = [*(customer.identities if customer else []), *conv.customer.identities]
        email = next((i.address for i in identities if i.kind == "email"), None)
        if email is None:
            raise NoEmail("the customer has no email address (they have not written by email nor verified one "
                          "in the chat)").with_code("no_email")
        return email

    def _zone(self, conv: Conversation) -> ZoneInfo:
        read = self.conversations.read_clocks(conv.id)
        return read.clocks.hours.zone if read.clocks is not None else UTC_ZONE

    def _send(self, conv: Conversation, by: str, names: Mapping[str, str]) -> TranscriptSent:
        """``by``: the agent who asked for it (``names`` says them, ``access.agent_names``), or "system" on resolve."""
        to = self.email_of(conv)
        if self.send_mail is None:
            raise Conflict("transcripts are not set up: the shop has no sending address (SES_FROM_ADDRESS)")
        routing = self.routing()
        language = language_for(conv, routing.default_language)
        shop = routing.shop_name or self.shop_name
        rendered = render(conv, language, shop, self._zone(conv))
        provider_id = self.send_mail(to, rendered.subject, rendered.text, rendered.html)
        count = len(customer_messages(conv))
        note = timeline.transcript_sent(conv.id, to, language, count, None if by == "system" else by, names)
        note = note.model_copy(update={"payload": {"transcript": {"to": to, "language": language, "messages": count,
                                                                  "provider_id": provider_id,
                                                                  "at": note.created_at.astimezone(UTC).isoformat()}}})
        # the request's audit record (an agent's, or the resolve's that sent it) says how it went (by email; the
        # timeline's entry, ``message``, names the address until the customer's erase), and how much it held:
        # nothing derived from the address, which a hash would keep for anyone guessing it after the erase. The
        # entry is named only when it was written: a conversation gone, or held by its customer's erase, takes none
        # (the email went all the same)
        added = self.conversations.add_message(note)
        if not added:
            logger.warning("transcript sent, its timeline entry not written (the conversation is gone or being "
                           "erased)", extra={"conversation_id": conv.id})
        audit.note(transcript={"channel": "email", **({"message": note.id} if added else {}), "language": language,
                               "messages": count, "provider_id": provider_id})
        return TranscriptSent(to=to, language=language, messages=count, provider_id=provider_id)
