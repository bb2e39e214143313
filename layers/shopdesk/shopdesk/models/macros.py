"""Macros: a named, ordered list of actions applied to conversations in one step; shared (admins) or personal."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from shopdesk.clock import Instant
from shopdesk.models.admin import Slug
from shopdesk.models.canned import CannedId, Scope
from shopdesk.models.conversation import ConversationStatus, Priority
from shopdesk.models.labels import MAX_LABELS, LabelId

MacroId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
MacroName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
NoteText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
AgentId = Annotated[str, StringConstraints(min_length=1, max_length=128)]
MAX_ACTIONS = 20
MAX_TARGETS = 50         # conversations in one apply


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReplyAction(_Action):
    """Reply with a canned response, rendered for each conversation as a reply is (queued after the rest)."""
    type: Literal["reply"]
    canned_response_id: CannedId


class NoteAction(_Action):
    type: Literal["note"]
    text: NoteText


class AddLabelsAction(_Action):
    type: Literal["add_labels"]
    labels: Annotated[list[LabelId], Field(min_length=1, max_length=MAX_LABELS)]


class RemoveLabelsAction(_Action):
    type: Literal["remove_labels"]
    labels: Annotated[list[LabelId], Field(min_length=1, max_length=MAX_LABELS)]


class SetPriorityAction(_Action):
    type: Literal["set_priority"]
    priority: Priority


class SetTeamAction(_Action):
    type: Literal["set_team"]
    team: Slug


class SetStatusAction(_Action):
    """open, pending or resolved (snoozing has its own action, with a duration)."""
    type: Literal["set_status"]
    status: Literal[ConversationStatus.OPEN, ConversationStatus.PENDING, ConversationStatus.RESOLVED]


class SnoozeAction(_Action):
    """Snooze for a duration from the moment it is applied: ISO 8601 (``PT4H``, ``P1D``) or seconds."""
    type: Literal["snooze"]
    duration: timedelta

    @field_validator("duration")
    @classmethod
    def _reasonable(cls, value: timedelta) -> timedelta:
        if not timedelta(minutes=1) <= value <= timedelta(days=90):
            raise ValueError("a snooze lasts from one minute to 90 days")
        return value


class AssignAction(_Action):
    """To an agent, or (``agent_id`` null or absent) back to the queue."""
    type: Literal["assign"]
    agent_id: AgentId | None = None


Action = Annotated[ReplyAction | NoteAction | AddLabelsAction | RemoveLabelsAction | SetPriorityAction
                   | SetTeamAction | SetStatusAction | SnoozeAction | AssignAction, Field(discriminator="type")]


class MacroContent(BaseModel):
    """What an admin (shared) or an agent (personal) writes: ``{"name": ..., "actions": [...]}``, in order;
    at most one reply."""

    model_config = ConfigDict(extra="forbid")

    name: MacroName
    actions: Annotated[list[Action], Field(min_length=1, max_length=MAX_ACTIONS)]

    @field_validator("actions")
    @classmethod
    def _one_reply(cls, actions: list[Action]) -> list[Action]:
        if sum(1 for a in actions if a.type == "reply") > 1:
            raise ValueError("a macro sends at most one reply")
        return actions


class Macro(MacroContent):
    id: MacroId
    scope: Scope
    owner: str | None = None
    updated_at: Instant | None = None
    updated_by: str | None = None
    version: int = 0                  # moved by every save: ?version=N saves only over version N


class ApplyRequest(BaseModel):
    """``POST /agent/macros/{id}/apply``: ``{"conversation_ids": [...]}`` (one or a selection)."""

    model_config = ConfigDict(extra="forbid")

    conversation_ids: Annotated[list[Annotated[str, StringConstraints(min_length=1, max_length=64)]],
                                Field(min_length=1, max_length=MAX_TARGETS)]
