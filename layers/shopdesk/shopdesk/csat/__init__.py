"""Customer satisfaction: one survey after a person resolves a conversation, and its answer.

- ``survey.py``: after a resolve, whether this conversation gets a survey (the settings below), and sending it
  once per resolution cycle on the conversation's channel, in the customer's language, with buttons where the
  channel has them; the WhatsApp and Messenger windows respected.
- ``answer.py``: the customer's next messages while a survey waits: a rating (``parse``) and an optional
  comment, stored on the resolved conversation without reopening or routing it; a low rating alerts the team.
- ``texts.py``: the survey's words in the seven languages (``templates/csat.json``).
- ``parse.py``: a reply as a score from 1 to 5.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shopdesk.models.admin import Channel, Slug

__all__ = ["ALERT_DETAIL_TYPE", "NEGATIVE", "CsatSettings"]

ALERT_DETAIL_TYPE = "CsatNegative"     # the bus event a rating of 1 or 2 publishes
NEGATIVE = 2                           # ratings up to this one alert the team


class CsatSettings(BaseModel):
    """``PUT /admin/csat``: whether and after which resolves the customer is asked to rate the help they got."""

    model_config = ConfigDict(extra="ignore")     # stored settings may hold a field a later version removed;
                                                  # a body naming one is refused (api.bodies.KnownFields)

    enabled: bool = False
    when: Literal["always", "channels", "teams"] = Field(
        "always", description="always: after every resolve by a person; channels: only on the channels listed; "
                              "teams: only for conversations of the teams listed")
    channels: Annotated[list[Channel] | None, Field(max_length=20, description="with when=channels: the channels "
                                                    "that get a survey")] = None
    teams: Annotated[list[Slug] | None, Field(max_length=50, description="with when=teams: the teams whose "
                                              "conversations get a survey")] = None
    template: Annotated[str | None, Field(min_length=1, max_length=512, description="the approved WhatsApp "
                                          "template (WHATSAPP_TEMPLATES) sent when the 24-hour window is closed; "
                                          "null: no survey then")] = None
    delay_s: Annotated[int, Field(ge=0, le=86400, description="wait this long after the resolve before asking "
                                  "(sent by the per-minute sweep: up to a minute later); 0: at once")] = 0
    comment_prompt: bool = Field(True, description="after a rating, ask for an optional comment (else: thank)")
    answer_window_s: Annotated[int, Field(ge=3600, le=30 * 86400, description="how long after the survey a "
                                          "reply counts as its answer")] = 7 * 86400
    comment_window_s: Annotated[int, Field(ge=60, le=86400, description="how long after a rating the "
                                           "customer's next message counts as its comment")] = 600

    @model_validator(mode="after")
    def _lists_match_when(self) -> CsatSettings:
        if self.when == "channels" and not self.channels:
            raise ValueError("when=channels needs the list of channels")
        if self.when == "teams" and not self.teams:
            raise ValueError("when=teams needs the list of teams")
        return self
