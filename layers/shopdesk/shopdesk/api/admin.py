"""Response models of the admin API (the OpenAPI document is generated from these): what each route answers."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from shopdesk.csat import CsatSettings
from shopdesk.models import Agent
from shopdesk.models.admin import RoutingSettings, Slug, Team
from shopdesk.models.customer import Customer
from shopdesk.models.sla import BusinessHours, SlaPolicy

Version = Annotated[int, Field(ge=1, description="send it back as ?version=N to change this item only if nobody "
                                                 "changed it meanwhile")]


class AgentList(BaseModel):
    items: list[Agent]


class TeamOut(Team):
    version: Version


class TeamList(BaseModel):
    items: list[TeamOut]


class CalendarOut(BusinessHours):
    id: Slug | str
    version: Version


class CalendarList(BaseModel):
    items: list[CalendarOut]


class SlaPolicyOut(SlaPolicy):
    version: Version


class SlaPolicyList(BaseModel):
    items: list[SlaPolicyOut]


class RoutingOut(RoutingSettings):
    version: Annotated[int, Field(ge=0, description="0 until the settings are first changed; send it back as "
                                                    "?version=N to change them only if nobody changed them meanwhile")]


class CustomerList(BaseModel):
    """The customer of the identity looked up: one, or none if nobody wrote from it."""

    items: Annotated[list[Customer], Field(max_length=1)]


class CsatOut(CsatSettings):
    version: Annotated[int, Field(ge=0, description="0 until first changed; send it back as ?version=N to change "
                                                    "the settings only if nobody changed them meanwhile")]
