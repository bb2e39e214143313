"""Answers of the reports API (``GET /reports/...``): their OpenAPI document comes from these models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Durations(BaseModel):
    count: int = Field(description="measurements in the period")
    median_s: float | None = Field(description="calendar seconds")
    p90_s: float | None
    business_median_s: float | None = Field(description="seconds of open time in the conversation's calendar")
    business_p90_s: float | None


class Resolution(Durations):
    resolved: int = Field(description="conversations resolved (each counted once)")
    reopened: int = Field(description="conversations reopened")
    reopen_rate: float | None = Field(description="reopened / resolved")


class Sla(BaseModel):
    compliance_by_target: dict[str, float | None] = Field(description="met / (met + breached), per target")
    met_by_target: dict[str, int]
    breached_by_target: dict[str, int]


class Csat(BaseModel):
    score: float | None = Field(description="share of ratings 4 and 5")
    responses: int
    response_rate: float | None = Field(description="responses / surveys asked")


class Bot(BaseModel):
    answered: int
    handed_off: int
    resolved: int
    containment_rate: float | None = Field(description="resolved by the bot alone / answered")
    handed_off_by_reason: dict[str, int]


class Summary(BaseModel):
    from_: str = Field(alias="from")
    to: str
    tz: str
    teams: list[str] | None = Field(description=(
        "whose figures: the conversations of these teams (a supervisor's, or the one `team` named); null: the whole "
        "desk (docs/metrics.md, \"Whose figures\")"))
    conversations: int = Field(description="new conversations")
    first_response: Durations
    next_response: Durations
    resolution: Resolution
    sla: Sla
    csat: Csat
    bot: Bot


class MetricRows(BaseModel):
    metric: str
    group_by: str | None
    from_: str = Field(alias="from")
    to: str
    tz: str
    teams: list[str] | None = Field(description="whose figures (as the summary's `teams`): null is the whole desk")
    items: list[dict[str, Any]] = Field(description="one row per group key (`key`) with the metric's figures")


class MetricInfo(BaseModel):
    name: str
    description: str


class MetricList(BaseModel):
    items: list[MetricInfo]


class ForecastHour(BaseModel):
    hour: str = Field(description="the hour's start, in `tz`")
    expected: float = Field(description="conversations expected to start in that hour")


class Forecast(BaseModel):
    channel: str | None
    tz: str
    days: int
    history_weeks: int = Field(description="whole weeks of history the model learned from (at most 6)")
    items: list[ForecastHour]


class StaffingHour(ForecastHour):
    agents_needed: int = Field(description="the fewest agents that meet the goal in that hour (0: no arrivals)")
    service_level: float = Field(description="share answered within the target with that many agents")
    occupancy: float = Field(description="share of those agents' hour spent working")
    limited_by: str = Field(description="service_level, occupancy (the agents' own working time) or none")
    usually_online: float = Field(description=(
        "agents usually online in that hour of the week: the time-weighted mean of agents online in it, "
        "averaged over the history's weeks (docs/metrics.md)"))
    short: bool = Field(description="fewer agents usually online than needed")


class Staffing(BaseModel):
    channel: str | None
    tz: str
    days: int
    history_weeks: int
    inputs: dict[str, float]
    items: list[StaffingHour]
