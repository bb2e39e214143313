"""A settings save that gives some fields: the fields given over the stored ones, the way every singleton settings
route saves (routing, the bot, surveys, privacy): a field the body leaves out keeps its value, and a nested
settings object given in part keeps its other fields too (``{"retention": {"audit_days": 365}}`` changes the
audit trail's retention alone)."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from shopdesk.errors import InvalidFields

Settings = TypeVar("Settings", bound=BaseModel)


def saved_over(stored: Settings, given: Settings) -> Settings:
    """The settings a save makes: ``given_over`` validated as a whole body is, a refusal (the fields given, with
    the stored ones, make no settings) a 422 naming the fields as the body's."""
    try:
        return type(given).model_validate(given_over(stored, given))
    except ValidationError as exc:
        raise InvalidFields([{"loc": ("body", *e["loc"]), "type": e["type"], "msg": e["msg"]}
                             for e in exc.errors()]) from exc


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
