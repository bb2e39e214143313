from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, Field

Role = Literal["agent", "supervisor", "admin"]     # lowest to highest: an admin may do all a supervisor may


class Presence(StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


class Agent(BaseModel):
    id: Annotated[str, Field(min_length=1, max_length=128)]
    name: str | None = None
    email: str | None = None       # their work email, from their sign-in's token: how the desk says one with no name
    presence: Presence = Presence.OFFLINE
    capacity: Annotated[int, Field(ge=0, le=1000)] = 3        # one number across all the agent's teams
    active: Annotated[int, Field(ge=0)] = 0
    teams: Annotated[list[str], Field(min_length=1)] = Field(default_factory=lambda: ["default"])
    skills: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    last_assigned_at: str | None = None
    settings_version: int = 0      # moved by every change of the settings an admin sets (not by presence or load)
    deactivated_at: str | None = None   # an admin took the agent off the desk (left the shop): offline, no work
    deactivated_by: str | None = None
    # the highest role the desk lets them use, whatever their token's Cognito groups (an admin's PUT
    # /admin/agents/{id}/max-role: a demotion counts from their next request); None: their token's groups
    max_role: Role | None = None

    @property
    def free(self) -> int:
        return max(self.capacity - self.active, 0)
