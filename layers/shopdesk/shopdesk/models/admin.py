"""What supervisors and admins configure: agents, teams, routing settings, customers' tiers."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shopdesk.models.agent import Role
from shopdesk.models.conversation import Priority
from shopdesk.models.customer import Tier

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]
Channel = Annotated[str, StringConstraints(pattern=r"^[a-z_]{2,20}$")]
# The channels shopdesk has, and the languages it writes its own messages in (acknowledgements, the bot's phrases,
# surveys). Settings naming another are refused when saved (``logic.admin``); the models stay lenient, so settings
# stored before still load.
CHANNELS: tuple[str, ...] = ("sms", "whatsapp", "messenger", "instagram", "telegram", "email", "webchat")
CUSTOMER_LANGUAGES: tuple[str, ...] = ("en", "es", "pt", "de", "tr", "id", "sk")
# A key of a stored map: DynamoDB takes no empty attribute name, even inside a map.
Key = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class AgentSettings(BaseModel):
    """An agent as a supervisor sets them up (presence and load are the agent's own). ``capacity`` is
    one number across all the agent's teams. ``team`` (one team) is still accepted from callers
    written before agents had several teams; it means ``teams: [team]``."""

    name: Name | None = None
    capacity: Annotated[int, Field(ge=0, le=100)] = 3
    teams: Annotated[list[Slug], Field(min_length=1, max_length=20)] = Field(default_factory=lambda: ["default"])
    team: Annotated[Slug | None, Field(exclude=True, description="older form of teams: [team]",
                                       json_schema_extra={"deprecated": True})] = None
    skills: list[Slug] = Field(default_factory=list, max_length=50)
    languages: list[Language] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _one_list_of_teams(self) -> AgentSettings:
        if self.team is not None:
            if "teams" in self.model_fields_set:
                raise ValueError("give teams, or the older single team, not both")
            self.teams = [self.team]
        if len(set(self.teams)) != len(self.teams):
            raise ValueError("teams must not repeat")
        return self



class AgentMaxRole(BaseModel):
    """The highest role an agent may use, whatever their token's Cognito groups: ``agent``, ``supervisor`` or
    ``admin`` (as their token's, which it never raises)."""

    max_role: Role


class Team(BaseModel):
    id: Slug
    name: Name
    description: Annotated[str, StringConstraints(max_length=1000)] | None = None


class RoutingSettings(BaseModel):
    """Routing rules that change without a deploy."""

    sticky_days: Annotated[int, Field(ge=0, le=365)] = 7           # a returning customer's previous agent
    offline_grace_seconds: Annotated[int, Field(ge=0, le=86400)] = 300
    reassign_after_silence_seconds: Annotated[int, Field(ge=0, le=604800)] | None = None
    default_team: Slug = "default"
    team_by_channel: dict[Channel, Slug] = Field(default_factory=dict)   # "whatsapp": "whatsapp-team"
    team_by_label: dict[Slug, Slug] = Field(default_factory=dict)   # "returns": "returns-team" (shopdesk.logic.labels)
    reassign_on_breach: bool = False               # a breached conversation goes to the next agent
    acknowledgements: bool = True                    # tell customers when to expect an answer
    acknowledgement_burst_seconds: Annotated[int, Field(ge=0, le=86400)] = 600
    acknowledgement_templates: dict[Key, dict[Key, str]] = Field(default_factory=dict)   # overrides
    average_handle_seconds: Annotated[int, Field(ge=30, le=86400)] = 600
    default_language: Language = "en"
    transcript_on_resolve: bool = False           # email the customer the conversation when it is resolved
    shop_name: Annotated[str, StringConstraints(max_length=100)] = ""   # empty: the ShopName parameter
    skill_keywords: dict[Slug, list[Annotated[str, StringConstraints(min_length=2, max_length=60)]]] = Field(
        default_factory=dict)        # skill -> words that make a conversation need it ("returns": ["refund", ...])
    # What the customer's message raises the conversation's priority to (shopdesk.logic.understand); "off": nothing.
    # Only ever raised, never lowered; a conversation already at least that urgent keeps its priority.
    priority_on_negative: Priority | Literal["off"] = Priority.HIGH     # an angry or unhappy message
    priority_on_urgent: Priority | Literal["off"] = Priority.URGENT     # a deadline within hours, safety, money


class TierChange(BaseModel):
    """``{"tier": "vip"}`` gives a customer a tier, ``{"tier": null}`` takes it away. A tier is a short lower-case
    name (a letter, then letters, digits, ``-`` or ``_``; at most 32), as SLA policies name it in
    ``applies_to.tiers``."""

    model_config = ConfigDict(extra="forbid")

    tier: Tier | None
