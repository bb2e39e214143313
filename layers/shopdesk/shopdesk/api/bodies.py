"""Request bodies that name only fields the route knows: ``body: KnownFields[RoutingSettings]``. A field the model
does not have, at the top or in any object inside (a retention, a masking pattern, a calendar's window), is a 422
naming it (pydantic's ``extra_forbidden``), so an admin's typo is refused rather than ignored while the answer says
the settings were saved. A number is a JSON number: an integer field takes a JSON integer only, a number field an
integer or a decimal; ``true``, ``"30"`` or (for an integer) ``30.5`` and ``30.0`` are a 422 naming the field
(``int_type``, ``float_type``), where pydantic's lax mode would read ``true`` as 1 and save it. A yes or no is a
JSON ``true`` or ``false``: ``1``, ``0``, ``"yes"``, ``"on"`` or ``"true"`` are a 422 naming the field (``bool_type``),
where lax mode would read them as true or false.

The models themselves stay as they are: many are also read from stored items, which may hold fields an older
version wrote and a later one removed, and must go on loading. The body is checked against a copy of its model
that forbids unknown fields (``forbidding``: every model inside replaced by its forbidding copy too), then
validated by the model itself, so the route gets the model's own instance as before."""

from __future__ import annotations

import operator
from copy import copy
from functools import reduce
from types import UnionType
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel, GetCoreSchemaHandler, Strict, create_model
from pydantic_core import core_schema

Model = TypeVar("Model")

_forbidding: dict[type[BaseModel], type[BaseModel]] = {}


def forbidding(model: type[BaseModel]) -> type[BaseModel]:
    """``model``'s copy (a subclass: its validators too) that refuses a field it does not know, with each model
    its fields hold replaced by its forbidding copy, each number it holds taking JSON numbers only and each bool JSON
    true or false only."""
    if model in _forbidding:
        return _forbidding[model]
    _forbidding[model] = model            # a model holding itself: checked as it is, not copied forever
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        annotation = _forbidding_type(info.annotation)
        if annotation is not info.annotation:
            field = copy(info)
            field.annotation = annotation
            fields[name] = (annotation, field)
    strict = create_model(model.__name__, __base__=model, __module__=model.__module__,
                          __cls_kwargs__={"extra": "forbid"}, **fields)
    _forbidding[model] = strict
    return strict


def _forbidding_type(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return forbidding(annotation)
    if annotation is int or annotation is float or annotation is bool:     # not str; float: an int too
        return Annotated[annotation, Strict()]
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is None or not args:
        return annotation
    changed = tuple(_forbidding_type(a) for a in args) if origin is not Annotated else \
        (_forbidding_type(args[0]), *args[1:])
    if all(new is old for new, old in zip(changed, args, strict=True)):
        return annotation
    if origin is Annotated:
        return Annotated[changed]
    if origin in (UnionType, Union):
        return reduce(operator.or_, changed) if origin is UnionType else Union[changed]  # noqa: UP007
    return origin[changed]


class _KnownFieldsOnly:
    """Marks a body: its model's forbidding copy checks it first (every unknown field named), then the model."""

    def __get_pydantic_core_schema__(self, source: type[BaseModel], handler: GetCoreSchemaHandler
                                     ) -> core_schema.CoreSchema:
        strict = forbidding(source)

        def check(value: Any) -> Any:
            if not isinstance(value, BaseModel):
                strict.model_validate(value)          # a ValidationError: the 422 the API answers
            return value

        return core_schema.no_info_before_validator_function(check, handler(source))


KnownFields = Annotated[Model, Body(), _KnownFieldsOnly()]
