"""Request and response models of the web-chat widget API (the OpenAPI document is generated from these)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shopdesk.clock import Instant


class StartIn(BaseModel):
    visitor_token: Annotated[str, StringConstraints(min_length=10, max_length=4096)]


class UploadedFile(BaseModel):
    """A file the visitor uploaded with a presigned POST from ``POST /widget/attachments``, named in a message."""

    key: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    filename: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    content_type: Annotated[str, StringConstraints(min_length=3, max_length=127)]
    size: Annotated[int, Field(ge=1)]


class SendIn(BaseModel):
    client_message_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    text: Annotated[str, StringConstraints(max_length=5000)] | None = None
    attachments: list[UploadedFile] = Field(default_factory=list, max_length=10)
    choice: Annotated[str | None, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$",
                                        description="the id of a button the visitor pressed (one of a reply's "
                                                    "choices); send its title as the text")] = None


class UploadIn(BaseModel):
    filename: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    content_type: Annotated[str, StringConstraints(min_length=3, max_length=127)]
    size: Annotated[int, Field(ge=1)]


class SessionOut(BaseModel):
    session: str = Field(description="send it as Authorization: Bearer <session> on the other calls")
    visitor_id: str
    conversation_id: str | None = Field(description="the visitor's open conversation, if any")
    expires_in: int = Field(description="seconds the session lasts")
    live_url: str | None = Field(None, description="the widget's WebSocket API: connect with ?session=<session> once "
                                                   "there is a conversation, and read it again on each "
                                                   "{\"type\": \"changed\"}; absent: poll")


class SendOut(BaseModel):
    status: Literal["stored", "duplicate"] = Field(description="duplicate: this client_message_id was already stored")
    message_id: str | None
    conversation_id: str | None


class UploadOut(BaseModel):
    """Where to POST the file (multipart form: ``fields`` first, then the file), and its key for the message."""

    key: str
    url: str
    fields: dict[str, str]
    filename: str
    content_type: str
    size: int


class WidgetAttachment(BaseModel):
    url: str | None
    filename: str | None
    content_type: str | None


class WidgetChoice(BaseModel):
    """A reply button (the bot's "did this answer your question?"): show ``title``; sending it as the visitor's
    text answers (the words are understood in the seven languages)."""

    id: str
    title: str


class WidgetMessage(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str
    sender: Literal["visitor", "agent"] = Field(alias="from")
    text: str | None
    created_at: Instant
    attachments: list[WidgetAttachment]
    choices: list[WidgetChoice] = []


class PollOut(BaseModel):
    conversation_id: str | None
    items: list[WidgetMessage]


class VerifyEmailIn(BaseModel):
    email: Annotated[str, StringConstraints(min_length=3, max_length=254)]


class VerifyEmailOut(BaseModel):
    email: str = Field(description="the address the code was mailed to, as it will be linked (trimmed, lower-case)")
    expires_in: int = Field(description="seconds the code is valid")


class ConfirmEmailIn(BaseModel):
    code: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{6}$")]


class ConfirmEmailOut(BaseModel):
    verified: Literal[True]
    linked: bool = Field(description="the address is now one of the visitor's customer's identities")


class PastConversation(BaseModel):
    id: str
    status: Literal["open", "pending", "snoozed", "resolved"]
    channel: str = Field(description="where the customer last wrote in it (webchat, email, whatsapp...)")
    created_at: Instant
    updated_at: Instant
    last_message_preview: str | None
    message_count: int


class PastConversations(BaseModel):
    email: str | None = Field(description="the proven address these conversations are found by; null: none is "
                                          "proven yet (POST /widget/email-verification), and nothing is listed")
    items: list[PastConversation] = Field(description="newest first")
    next_cursor: str | None = None
