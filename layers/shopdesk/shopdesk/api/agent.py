"""Request and response models of the agent API (the OpenAPI document is generated from these)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shopdesk import clock
from shopdesk.api.attachments import Files
from shopdesk.channels.limits import MAX_REPLY_CHARS, TEMPLATE_PARAMETER_CHARS
from shopdesk.clock import Instant
from shopdesk.logic.access import Caller, held_roles, roles
from shopdesk.logic.snooze import SnoozePreset
from shopdesk.logic.stuck import stuck_replies
from shopdesk.models import (
    Agent,
    Attachment,
    Conversation,
    ConversationStatus,
    CustomerRef,
    Direction,
    Message,
    MessageError,
    Presence,
    Priority,
    Sla,
    SystemEvent,
)
from shopdesk.models.admin import Slug, Team
from shopdesk.models.canned import CannedId
from shopdesk.models.conversation import ConversationBot
from shopdesk.web import is_web_address

# a reply's text: each channel takes less (SMS 1,600 characters, Instagram 1,000, an email 10,000), checked with
# the conversation's channel by the reply itself (shopdesk.channels.limits.text_refusal)
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_REPLY_CHARS)]
NoteText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10000)]
AgentId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]


Channel = Annotated[str, StringConstraints(pattern=r"^[a-z_]{2,20}$")]


class ReplyIn(BaseModel):
    """The text (it may use variables: ``{{customer.first_name}}``) or a canned response, not both; and/or files
    uploaded with ``POST /agent/attachments`` (a reply may be files alone)."""

    text: Text | None = None
    canned_response_id: CannedId | None = None
    channel: Channel | None = None       # another of the customer's channels; default: where they last wrote
    attachments: Files = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_source(self) -> ReplyIn:
        if self.text is not None and self.canned_response_id is not None:
            raise ValueError("give either text or canned_response_id, not both")
        if self.text is None and self.canned_response_id is None and not self.attachments:
            raise ValueError("give either text or canned_response_id, or attachments")
        return self


class PreviewIn(BaseModel):
    """What the reply would be: the text or a canned response, rendered for this conversation."""

    text: Text | None = None
    canned_response_id: CannedId | None = None

    @model_validator(mode="after")
    def _one_source(self) -> PreviewIn:
        if (self.text is None) == (self.canned_response_id is None):
            raise ValueError("give either text or canned_response_id")
        return self


class PreviewOut(BaseModel):
    text: str


class TemplateIn(BaseModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=512)]
    language: Annotated[str, StringConstraints(min_length=2, max_length=16)]
    parameters: list[Annotated[str, StringConstraints(min_length=1, max_length=TEMPLATE_PARAMETER_CHARS)]] = Field(
        default_factory=list)
    channel: Channel | None = None


class TemplateOut(BaseModel):
    name: str
    language: str
    body: str
    parameters: int


class TemplateList(BaseModel):
    items: list[TemplateOut]


class NoteIn(BaseModel):
    text: NoteText


class AssignmentIn(BaseModel):
    agent_id: AgentId
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None   # hand-off


class StatusIn(BaseModel):
    status: ConversationStatus
    until: Instant | None = Field(default=None, description="snoozed only: open again at this time (with a zone)")
    preset: SnoozePreset | None = Field(
        default=None, description="snoozed only, instead of until: later_today (3 h, no later than today's close), "
                                  "tomorrow_morning (the next business day's opening), next_week (the opening of "
                                  "next week's first business day), in the conversation's calendar")


class TranscriptOut(BaseModel):
    to: str = Field(description="the customer's email address it was sent to")
    language: str = Field(description="the language it was written in")
    messages: int = Field(description="messages in it (notes and system events are never included)")


class RoutingIn(BaseModel):
    """A correction of the router: any of priority, team and skills (the skills replace the current ones)."""

    model_config = ConfigDict(extra="forbid")

    priority: Priority | None = None
    team: Slug | None = None
    skills: list[Slug] | None = Field(default=None, max_length=50)
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None   # on the timeline

    @model_validator(mode="after")
    def _changes_something(self) -> RoutingIn:
        if self.priority is None and self.team is None and self.skills is None:
            raise ValueError("say what to change: priority, team or skills")
        return self


class PresenceIn(BaseModel):
    presence: Presence


class AttachmentOut(BaseModel):
    url: str | None = None               # a short-lived link to our copy, else the provider's URL
    content_type: str | None = None
    filename: str | None = None
    size: int | None = None
    note: str | None = None              # why the file was not kept (too large, type not accepted...)


class Presign(Protocol):
    """``MediaStore.presign``: a short-lived link to a stored file, served as its recorded type allows."""

    def __call__(self, key: str, filename: str | None = None, *, content_type: str | None = None) -> str: ...


class MessageOut(BaseModel):
    id: str
    direction: Direction
    channel: str | None
    kind: str | None = None
    text: str | None
    subject: str | None = None
    status: str | None
    attachments: list[AttachmentOut]
    created_at: Instant
    author: str | None = None
    provider_id: str | None = None
    error: MessageError | None = None
    attempts: int = 0
    possibly_duplicate: bool = Field(False, description="the reply went again after a send the desk could not "
                                                        "confirm: the customer may have it twice")
    stuck: bool = Field(False, description=(
        "a reply still `queued` that nothing has tried to send for an hour, nor a reply ahead of it in the "
        "conversation's queue: its place in the outbound queue was lost (or waits in the dead-letter queue) and it "
        "will not go by itself; send it again (POST …/replies/{message_id}/retry), after which its old copy sends "
        "nothing if it comes back. Only on a conversation's messages"))
    masked: list[str] = Field(default_factory=list, description="what was masked before the message was stored "
                                                                 "(card, IBAN, a shop's pattern): the text shows "
                                                                 "[card •••• 4242] in its place")
    # what the router understood of a customer's message (None until it did, and on the shop's own messages)
    language: str | None = None
    sentiment: Literal["negative", "neutral", "positive"] | None = None
    emotion: str | None = None
    urgent: bool | None = None
    rating: int | None = Field(default=None, ge=1, le=5, description="a satisfaction survey's answer (kind "
                                                                     "csat_answer): the customer's rating, 1 to 5")
    event: SystemEvent | None = Field(default=None, description=(
        "a system entry's structured form, beside its English `text`: a stable `kind` (assigned, snoozed, "
        "sla_missed, …) and its `params` (agent ids, ISO times, statuses, priorities, SLA targets, counts, and free "
        "text such as an agent's note as it is), for the inbox to say in its agent's language; absent on entries "
        "written before events existed, which only have `text`"))
    retry_of: str | None = Field(default=None, description=(
        "a reply sent again (POST …/replies/{message_id}/retry): the failed reply it sends again, which cannot be "
        "sent again a second time"))
    unsent_at: Instant | None = Field(default=None, description=(
        "a customer's message they took back (Messenger, Instagram: unsend; a Telegram Business chat: deleted): "
        "when; it has no text, subject or files any more, and the timeline has an entry saying so"))
    edited_at: Instant | None = Field(default=None, description=(
        "a customer's message they edited: when (the latest edit); `text` is what it said first"))
    edited_text: str | None = Field(default=None, description=(
        "what an edited message says now (masked like `text`); absent when the edit took a file's caption away"))
    sender_unproven: bool = Field(False, description=(
        "a customer's message that does not prove who sent it: mail a website's contact form sent From the shop's "
        "address with the customer's in Reply-To, which is only what the form was told (anyone can type anyone's "
        "address); answers go to that address, so the customer is whoever reads it, not necessarily who wrote"))

    @classmethod
    def of(cls, message: Message, presign: Presign | None = None, stuck: bool = False) -> MessageOut:
        data = message.model_dump(include=set(cls.model_fields) - {"attachments", "rating", "retry_of", "stuck"})
        rating = (message.payload or {}).get("rating") if message.kind == "csat_answer" else None
        return cls(**data, attachments=[_attachment(a, presign) for a in message.attachments],
                   rating=int(rating) if isinstance(rating, int | float) and 1 <= rating <= 5 else None,
                   retry_of=message.retry_of, stuck=stuck)


def _attachment(attachment: Attachment, presign: Presign | None) -> AttachmentOut:
    url, note = attachment.url, attachment.note
    if attachment.storage_key and presign is not None:
        url = presign(attachment.storage_key, attachment.filename, content_type=attachment.content_type)
    elif url is not None and not is_web_address(url):
        # the inbox makes a provider's link a download link: a javascript: or data: one would run in its page
        url, note = None, note or "the provider's link to this file is not a web address"
    return AttachmentOut(url=url, content_type=attachment.content_type, filename=attachment.filename,
                         size=attachment.size, note=note)


class MentionOut(BaseModel):
    """The caller's mentions in a conversation (the ``mentions`` view)."""

    by: str | None = Field(description="who mentioned the caller last")
    message_id: str | None = Field(description="the latest note that mentions the caller")
    at: Instant = Field(description="when the caller was last mentioned here")
    count: int = Field(description="mentions of the caller here in all")
    unread: int = Field(description="mentions since the caller last opened the conversation (0: read)")


class ConversationOut(BaseModel):
    id: str
    status: ConversationStatus
    priority: Priority
    team: str
    skills: list[str] = Field(default_factory=list)       # an agent needs every one to be given it
    labels: list[str] = Field(default_factory=list)       # label ids (GET /agent/labels names and colours them)
    assignee: str | None
    customer: CustomerRef
    channel: str
    channels: list[str] = Field(default_factory=list)     # the customer's channels in this conversation
    opted_out: list[str] = Field(default_factory=list, description=(
        "of those, the ones the customer unsubscribed from (SMS: replied STOP): nothing can be sent there"))
    sla: Sla
    created_at: Instant
    updated_at: Instant
    waiting_since: Instant | None = None
    last_message_preview: str | None = None
    message_count: int = 0
    language: str | None = None                           # the customer's language (their messages, hints)
    sentiment: Literal["negative", "neutral", "positive"] | None = None   # of the customer's last message
    urgent: bool = False                                  # the customer's last message was urgent
    breach_risk: float | None = Field(default=None, ge=0, le=1, description=(
        "while it waits in a queue: the chance it misses its next SLA target (the sweep's estimate, each minute)"))
    messages: list[MessageOut] = Field(default_factory=list)
    snoozed_until: Instant | None = None                 # snoozed: when it opens again by itself
    mention: MentionOut | None = None                     # the mentions view only
    bot: ConversationBot | None = None      # what the bot did: answering, handed_off (with the reason), resolved
    merged_into: str | None = Field(default=None, description=(
        "the customer's other open conversation this one went into when their customers were merged: it goes on "
        "there (this one is resolved; its messages show there too)"))

    @classmethod
    def of(cls, conv: Conversation, presign: Presign | None = None) -> ConversationOut:
        data = conv.model_dump(include=set(cls.model_fields) - {"messages", "channels", "opted_out", "mention",
                                                                 "merged_into"})
        if conv.status is not ConversationStatus.SNOOZED:
            data["snoozed_until"] = None           # woken, or opened by the customer meanwhile
        held = stuck_replies(conv.messages, clock.now()) if conv.messages else set()
        return cls(**data, merged_into=conv.folded_into, channels=sorted(conv.routes),
                   opted_out=sorted(c for c, r in conv.routes.items() if r.opted_out),
                   messages=[MessageOut.of(m, presign, m.id in held) for m in conv.messages])


class ConversationList(BaseModel):
    items: list[ConversationOut]
    next_cursor: str | None = None
    counts: dict[str, int] | None = Field(
        default=None, description="with counts=true: each view's badge, as GET /agent/conversations/counts "
                                  "answers (one request where a change notice needs both)")

    @classmethod
    def of(cls, conversations: Sequence[Conversation], cursor: str | None) -> ConversationList:
        return cls(items=[ConversationOut.of(c) for c in conversations], next_cursor=cursor)


class AgentOut(BaseModel):
    """An agent as their colleagues see them: whom to transfer to. ``email`` is their work email (from their sign-in;
    none until they signed in once with a token that has one): how the inbox names a colleague with no name."""

    id: str
    name: str | None
    email: str | None = None
    presence: Presence
    capacity: int          # across all the agent's teams
    active: int
    teams: list[str]

    @classmethod
    def of(cls, agent: Agent) -> AgentOut:
        return cls.model_validate(agent.model_dump(include=set(cls.model_fields)))


class AgentList(BaseModel):
    items: list[AgentOut]


class TeamOut(BaseModel):
    """A team as agents see it: its id and name. Its description and version are the admins' (GET /admin/teams)."""

    id: str
    name: str


class TeamList(BaseModel):
    items: list[TeamOut]

    @classmethod
    def of(cls, teams: Sequence[Team]) -> TeamList:
        return cls(items=[TeamOut(id=team.id, name=team.name) for team in teams])


class ViewCounts(BaseModel):
    """Conversations per view: ``mine`` and ``all`` count open, pending and snoozed; ``unassigned`` those waiting;
    ``mentions`` those with mentions of the caller not read yet."""

    views: dict[str, int]


USERNAME_CLAIM = {"id": "cognito:username", "access": "username"}    # by the token's token_use


def caller(event: Any) -> Caller:
    """The agent calling, from the JWT claims API Gateway verified: a Cognito ID token names the agent in
    ``cognito:username``, an access token in ``username``. API Gateway's JWT authorizer does not look at
    ``token_use`` (local/authorizer.py); here it picks the claim, and a token of another use is refused."""
    claims = event.request_context.authorizer.jwt_claim or {}
    use = claims.get("token_use")
    if use is not None and use not in USERNAME_CLAIM:
        raise PermissionError(f"a token with token_use {use!r} does not name an agent")
    agent_id = claims.get(USERNAME_CLAIM[use]) if use else claims.get("cognito:username") or claims.get("username")
    if not agent_id:
        raise PermissionError("the token names no agent")
    held = held_roles(agent_id, roles(claims.get("cognito:groups")))    # no more than their record lets them use
    return Caller(id=agent_id, name=claims.get("name"), roles=held, email=verified_email(claims))


def verified_email(claims: dict[str, Any]) -> str | None:
    """The token's work email when Cognito verified it (``email_verified``: the string "true" as API Gateway hands
    claims on, a JSON true in the token itself), else None: the agent record keeps the one it holds. A user may
    change their own standard attributes, and an email they set is unverified until they prove it, so an unverified
    one (a colleague's, typed to be shown as them) is never taken."""
    email, verified = claims.get("email"), claims.get("email_verified")
    if not isinstance(email, str) or not (verified is True or str(verified).strip().lower() == "true"):
        return None
    return email.strip() or None


def caller_roles(event: Any) -> frozenset[str]:
    """The caller's roles: the Cognito groups in the token (``admins``, ``supervisors``), no more than their agent
    record, as the request admitted it, lets them use (``shopdesk.logic.access.held_roles``)."""
    return caller(event).roles

