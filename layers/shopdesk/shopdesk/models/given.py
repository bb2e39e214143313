"""A settings save that gives some fields: the fields given over the stored ones, the way every singleton settings
route saves (routing, the bot, surveys, privacy): a field the body leaves out keeps its value, and a nested
settings object given in part keeps its other fields too (``{"retention": {"audit_days": 365}}`` changes the
audit trail's retention alone)."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

Settings = TypeVar("Settings", bound=BaseModel)


def given_over(stored: BaseModel, given: BaseModel) -> dict[str, Any]:
    """``given``'s fields over ``stored``'s, as a dict for the model to validate again (so what the two make
    together is checked as a whole body is)."""
    merged = stored.model_dump()
    for name in given.model_fields_set:
        value, before = getattr(given, name), getattr(stored, name)
        if isinstance(value, BaseModel) and type(value) is type(before):
            merged[name] = given_over(before, value)
        else:
            merged[name] = given.model_dump(include={name})[name]
    return merged
