"""After a resolve: the satisfaction survey, once per resolution cycle.

Who gets one: a conversation a person resolved (an agent's status change, a macro, a bulk action), when the
settings are on and its channel or team is one they name. A conversation the bot resolved on its own
(``resolved_by`` is the bot) gets none: nobody's work would be rated, and the bot's own question already asked.

How it is sent, in the conversation's language (else the shop's default, else English; ``texts``):

- WhatsApp (Cloud API), Messenger, Instagram, Telegram, web chat: the question with five buttons
  (``csat:1`` .. ``csat:5``). WhatsApp's reply buttons stop at three, so the Cloud API sender shows five choices
  as an interactive *list* (one tap opens it, one tap answers); Messenger has quick replies, Telegram an inline
  keyboard; the widget API lists the choices for the widget to show. WhatsApp through Twilio sends the words.
- SMS and email: the question and "reply with a number from 1 to 5".
- WhatsApp with its 24-hour window closed: the approved template the settings name (``template``), if there is
  one in the customer's language (else in English); without one, no survey and a note on the timeline says why.
  Messenger and Instagram allow nothing but a person's own reply after 24 hours: no survey, a note.

Once: the cycle's record (``CONV#<id>``/``CSAT#<cycle>``) is created with the survey in one conditional
transaction, so a retried resolve, a double click or a second delivery of the same request sends nothing twice;
a reopen starts a new cycle, whose resolve may ask again. With ``delay_s`` the record is created ``scheduled``
with a timer in the due index; the per-minute sweep sends it then (``send_scheduled``), unless the conversation
was reopened meanwhile. The survey goes out through the outbound queue like
any reply (ordering per conversation, retries, the dead-letter queue). The rating is credited to the agent who
resolved the conversation, written on the survey when it is sent (``agent_id``), not to whoever holds the
conversation when the answer comes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from aws_lambda_powertools import Logger

from shopdesk import clock
from shopdesk.config import TemplateSpec
from shopdesk.csat import CsatSettings, texts
from shopdesk.dal import items as it
from shopdesk.dal.config import ConfigStore
from shopdesk.dal.csat import AlreadyAsked, Pending, Resolution, Surveys
from shopdesk.dal.queues import Queue
from shopdesk.ids import new_id
from shopdesk.logic.email_thread import email_thread
from shopdesk.logic.timeline import event, system_message
from shopdesk.logic.windows import unsubscribed
from shopdesk.logic.work import count_not_sent
from shopdesk.models import ConversationStatus, Direction, Message, SystemEvent

logger = Logger(child=True)

AUTHOR = "system"
NOT_PEOPLE = frozenset({None, "", "system", "bot", "router", "customer"})
BUTTON_PROVIDERS = frozenset({"whatsapp_cloud", "messenger", "instagram", "telegram", "webchat"})
WINDOW = timedelta(hours=24)

SURVEY_TIMER = "csat_survey"       # a delayed survey's timer in the due index (run by the per-minute sweep)

Outcome = Literal["sent", "template", "skipped", "not_asked", "already", "scheduled"]


class SurveyUnsent(Exception):
    """A scheduled survey recorded as asked whose send the outbound queue refused: the sweep leaves its timer due
    (counted, ``TimersFailed``), and the timer's next run sends that survey (``SurveyDesk.send_scheduled``)."""


@dataclass(frozen=True)
class Plan:
    """What one resolution gets: a survey (text, choices, template) or a note saying why none was sent (its text,
    and the same structured: ``skipped``, a ``csat_skipped`` event)."""

    kind: Literal["survey", "skip"]
    language: str
    text: str
    choices: list[dict[str, str]] = field(default_factory=list)
    template: dict[str, Any] | None = None
    skipped: SystemEvent | None = None


def applies(settings: CsatSettings, resolution: Resolution) -> bool:
    """Whether this resolve is one the settings survey (no record is written when not)."""
    conv = resolution.conversation
    if not settings.enabled or conv.status is not ConversationStatus.RESOLVED:
        return False
    if resolution.resolved_by in NOT_PEOPLE:
        return False              # the bot (or the system) resolved it: no person's work to rate
    if settings.when == "channels":
        return conv.route.channel in (settings.channels or [])
    if settings.when == "teams":
        return conv.team in (settings.teams or [])
    return True


def plan(settings: CsatSettings, resolution: Resolution, language: str, templates: Sequence[TemplateSpec],
         at: datetime | None = None) -> Plan:
    """The survey this resolution gets on its channel now (pure: the channel's rules and windows)."""
    conv = resolution.conversation
    route = conv.route
    now = at or clock.now()
    question = texts.text(language, "question")
    words = question + " " + texts.text(language, "words")
    buttons = texts.choices(language)
    window_open = route.last_inbound_at is not None and now - route.last_inbound_at <= WINDOW
    if route.opted_out:
        return Plan("skip", language, f"No satisfaction survey sent: {unsubscribed(route.channel)}.",
                    skipped=event("csat_skipped", reason="opted_out", channel=route.channel))
    if route.channel == "whatsapp" and not window_open:
        chosen = _template(settings.template, language, templates)
        if chosen is None:
            why = (f"no approved template named {settings.template!r}" if settings.template
                   else "no survey template is configured (PUT /admin/csat template)")
            return Plan("skip", language, "No satisfaction survey sent: WhatsApp's 24-hour window is closed "
                                          f"and there is {why}.",
                        skipped=event("csat_skipped", reason="no_template", template=settings.template)
                        if settings.template else event("csat_skipped", reason="no_template_configured"))
        values = [conv.customer.name or ""] * chosen.parameters
        return Plan("survey", chosen.language, chosen.render(values),
                    template={"name": chosen.name, "language": chosen.language, "parameters": values,
                              "provider_ref": chosen.twilio_content_sid})
    if route.channel in ("messenger", "instagram") and not window_open:
        return Plan("skip", language, f"No satisfaction survey sent: {route.channel.title()} allows only a "
                                      "person's own reply more than 24 hours after the customer's last message.",
                    skipped=event("csat_skipped", reason="window_closed", channel=route.channel))
    if route.provider in BUTTON_PROVIDERS:
        if route.channel == "webchat":           # the widget shows the buttons; the words serve one that does not
            return Plan("survey", language, words, buttons)
        return Plan("survey", language, question, buttons)
    return Plan("survey", language, words)


def _template(name: str | None, language: str, templates: Sequence[TemplateSpec]) -> TemplateSpec | None:
    if not name:
        return None
    named = [t for t in templates if t.name == name]
    return next((t for t in named if t.language.split("_")[0] == language), None) or \
        next((t for t in named if t.language.split("_")[0] == "en"), None) or (named[0] if named else None)


@dataclass
class SurveyDesk:
    """``on_resolve``: called after a person's resolve (the agent API's status change, macros and bulk actions)."""

    surveys: Surveys
    config: ConfigStore
    outbound: Queue
    templates: Sequence[TemplateSpec] = ()
    default_language: Callable[[], str] = lambda: "en"      # the shop's (routing settings), read when asking
    settings_ttl: float = 0.0        # read with every resolve (one GetItem): an admin's change counts at once
    _settings: CsatSettings | None = None
    _settings_at: float = -1e9

    def settings(self) -> CsatSettings:
        if self._settings is None or time.monotonic() - self._settings_at > self.settings_ttl:
            stored = self.config.get("csat", "settings") or {}
            self._settings = CsatSettings.model_validate({k: v for k, v in stored.items() if k != "version"})
            self._settings_at = time.monotonic()
        return self._settings

    def on_resolve(self, conversation_id: str) -> Outcome:
        """Survey this resolution if the settings say so; never raises (the resolve happened whatever comes)."""
        try:
            return self._survey(conversation_id)
        except Exception:
            logger.exception("csat survey not sent", extra={"conversation_id": conversation_id})
            return "not_asked"

    def _survey(self, conversation_id: str) -> Outcome:
        settings = self.settings()
        if not settings.enabled:
            return "not_asked"
        resolution = self.surveys.resolution(conversation_id)
        if not applies(settings, resolution):
            return "not_asked"
        if settings.delay_s:
            return self._schedule(settings, resolution)
        return self._ask(settings, resolution)

    def send_scheduled(self, conversation_id: str) -> Outcome:
        """The sweep's ``csat_survey`` timer: ask now, unless the conversation was reopened meanwhile (its cycle's
        record is then not the scheduled one) or the survey went out already. A survey recorded by an earlier run
        whose send the outbound queue refused (still ``queued``) is sent now. Any failure raises: ``SurveyUnsent``
        (the survey recorded, its send refused) or the error itself (a read or write the table refused, the
        settings, the survey's words), so the sweep leaves the timer due, counts it (``TimersFailed``, which pages)
        and runs it again later: a survey is never left ``scheduled`` or ``queued`` with its timer finished. Only a
        conversation that is gone (its customer erased, retention) ends the timer with nothing asked."""
        try:
            resolution = self.surveys.resolution(conversation_id)
        except KeyError:
            return "not_asked"
        record = self.surveys.record(conversation_id, resolution.cycle) or {}
        if record.get("state") == "asked" and record.get("message_id") and record.get("asked_at"):
            return self._unsent(resolution, record)
        if resolution.conversation.status is not ConversationStatus.RESOLVED or record.get("state") != "scheduled":
            return "already"
        return self._ask(self.settings(), resolution, scheduled=True)

    def _schedule(self, settings: CsatSettings, resolution: Resolution) -> Outcome:
        conv = resolution.conversation
        due = clock.iso(clock.now() + timedelta(seconds=settings.delay_s))
        record = {"state": "scheduled", "scheduled_for": due, "ttl": resolution.ttl,
                  "agent_id": resolution.resolved_by, "team": conv.team, "channel": conv.route.channel}
        conversations = self.surveys.conversations
        timer = conversations.timer_item(it.conv_pk(conv.id), SURVEY_TIMER, due)
        try:
            if not self.surveys.schedule(conv, resolution.cycle, record, timer):
                return "not_asked"      # the conversation went (its customer erased) after it was read
        except AlreadyAsked:
            return "already"
        return "scheduled"

    def _unsent(self, resolution: Resolution, record: dict[str, Any]) -> Outcome:
        """The survey of a run of the timer whose send the queue refused (``SurveyUnsent``), found by the timer's next
        run: still ``queued``, it goes to the outbound queue (deduplicated on its id, so one that went after all is
        sent once); the conversation reopened meanwhile, it is marked failed as an immediate survey's refused send is.
        Anything else went already."""
        conv = resolution.conversation
        sk = f"MSG#{record['asked_at']}#{record['message_id']}"       # the survey's key (``items.message_sk``)
        survey = self.surveys.conversations.get_message(conv.id, sk)
        if survey is None or survey.status != "queued":
            return "already"
        if conv.status is not ConversationStatus.RESOLVED:
            self.surveys.conversations.record_attempt(conv.id, sk, attempts=0, failed=True, error={
                "code": None, "message": "The survey could not be queued for sending"})
            return "already"
        self._queue(conv.id, survey.id, sk, scheduled=True)
        logger.info("csat survey queued by the timer's next run", extra={"conversation_id": conv.id})
        return "sent"

    def _queue(self, conversation_id: str, message_id: str, sk: str, *, scheduled: bool) -> bool:
        """The survey recorded (``sk``) to the outbound queue; False when the queue refused one asked at the resolve.
        Refused, a refusal being transient: a scheduled one raises ``SurveyUnsent`` and stays ``queued`` for the
        timer's next run; one asked at the resolve stays ``queued`` too, counted (``RoutingWorkNotSent``, work
        ``survey``, which pages), with the survey's timer set due now, so the sweep's next run sends it
        (``send_scheduled``, then as a scheduled one). Only when that timer cannot be written either (the table
        refusing too) is it marked failed, and the error raised."""
        try:
            self.outbound.send({"conversation_id": conversation_id, "message_id": message_id, "message_sk": sk},
                               group=conversation_id, dedup_id=message_id)
            return True
        except Exception as exc:
            if scheduled:
                logger.warning("scheduled csat survey recorded, its send refused: the sweep's next run sends it",
                               extra={"conversation_id": conversation_id, "error_type": type(exc).__name__})
                raise SurveyUnsent(conversation_id) from exc
            conversations = self.surveys.conversations
            try:
                conversations.set_conversation_timer(conversation_id, SURVEY_TIMER, clock.now_iso())
            except Exception:
                logger.exception("csat survey's send refused and its timer not set: marked failed",
                                 extra={"conversation_id": conversation_id})
                conversations.record_attempt(conversation_id, sk, attempts=0, failed=True, error={
                    "code": None, "message": "The survey could not be queued for sending"})
                raise exc from None
            count_not_sent("survey")
            logger.warning("csat survey recorded, its send refused: the sweep's next run sends it",
                           extra={"conversation_id": conversation_id, "error_type": type(exc).__name__})
            return False

    def _ask(self, settings: CsatSettings, resolution: Resolution, *, scheduled: bool = False) -> Outcome:
        conv = resolution.conversation
        language = texts.language_of(conv.language, self.default_language())
        chosen = plan(settings, resolution, language, self.templates)
        now = clock.now()
        # the survey and its record go when the resolved conversation does (retention of closed conversations)
        expires = datetime.fromtimestamp(resolution.ttl, UTC) if resolution.ttl else None
        record: dict[str, Any] = {"state": "asked" if chosen.kind == "survey" else "skipped", "ttl": resolution.ttl,
                                  "asked_at": clock.iso(now), "agent_id": resolution.resolved_by, "team": conv.team,
                                  "channel": conv.route.channel, "language": chosen.language,
                                  "comment_s": settings.comment_window_s if settings.comment_prompt else 0}
        if chosen.kind == "skip":
            note = system_message(conv.id, chosen.text, event=chosen.skipped)
            note.payload = {"csat": {"skipped": True}}
            note.expires_at = expires
            try:
                self.surveys.ask(conv, resolution.cycle, note, {**record, "reason": chosen.text}, None, [])
            except AlreadyAsked:
                return "already"
            logger.info("csat survey skipped", extra={"conversation_id": conv.id, "reason": chosen.text})
            return "skipped"
        route = conv.route
        payload: dict[str, Any] = {"agent_id": resolution.resolved_by, "team": conv.team, "cycle": resolution.cycle,
                                   "language": chosen.language}
        if chosen.choices:
            payload["choices"] = chosen.choices
        if chosen.template:
            payload["template"] = chosen.template
        subject, threading = email_thread(route)
        payload.update(threading)
        survey = Message(id=new_id("m_"), conversation_id=conv.id, direction=Direction.OUTBOUND,
                         channel=route.channel, text=chosen.text, status="queued", created_at=now, author=AUTHOR,
                         to=route.to, sender=route.sender, provider=route.provider, kind="csat_survey",
                         payload=payload, language=chosen.language, expires_at=expires, subject=subject)
        pending = Pending(conversation_id=conv.id, cycle=resolution.cycle, state="asked",
                          until=clock.iso(now + timedelta(seconds=settings.answer_window_s)),
                          agent_id=resolution.resolved_by, team=conv.team, channel=route.channel,
                          language=chosen.language, comment_s=record["comment_s"])
        identities = self.surveys.waiting_identities(conv)
        try:
            self.surveys.ask(conv, resolution.cycle, survey, {**record, "message_id": survey.id}, pending, identities)
        except AlreadyAsked:
            return "already"
        sk = it.message_sk(survey)
        if not self._queue(conv.id, survey.id, sk, scheduled=scheduled):
            return "scheduled"          # recorded; the sweep sends it
        logger.info("csat survey queued", extra={"conversation_id": conv.id, "channel": route.channel,
                                                 "language": chosen.language, "template": bool(chosen.template)})
        return "template" if chosen.template else "sent"
