"""Personalised text: replies, canned responses and acknowledgements with ``{{customer.first_name}}``-style
variables, rendered by one sandboxed Liquid engine (python-liquid) under one set of rules.

- The variables are exactly ``VARIABLES``; anything else (``{{customer.email}}``, ``{{ x.__class__ }}``,
  a whole object like ``{{customer}}``) is refused before rendering, so no template reaches further
  than the documented values. Liquid itself has no attribute access to Python objects: the context holds
  plain strings in plain mappings.
- Fallbacks are Liquid's own filter: ``{{customer.first_name | default: "there"}}``.
- A variable with no value (absent, or empty) and no fallback is never rendered as a blank: the whole
  render fails with ``MissingVariables`` naming every such variable (the API answers 422).
- Syntax errors, unknown filters and unknown variables are ``TemplateInvalid`` (422) in words.
- The output is bounded (``MAX_OUTPUT`` characters; loops and nesting are bounded by the engine's limits).
- Text channels get the text as it is (no escaping: a customer called "O'Brien & Co" is not
  "O&#39;Brien &amp; Co" in an SMS); ``html=True`` escapes every value, for an HTML part.
- The order is looked up only when the text uses ``order.*`` (``Variables.order`` is a callable).

Which values a conversation gives is ``variables_for`` (the one place to change when customers are
merged across channels and the customer record carries more).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from shopdesk.errors import ShopdeskError

VARIABLES: tuple[str, ...] = (
    "customer.first_name", "customer.name",
    "order.name", "order.status", "order.tracking_url", "order.tracking_number",
    "agent.first_name", "shop.name",
)
MAX_OUTPUT = 10_000          # characters of rendered text (a reply's own limit applies after this)
MAX_TEMPLATE = 10_000        # characters of template text

_missing: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("render_missing", default=None)


class TemplateInvalid(ShopdeskError):
    """The text cannot be rendered: a syntax error, an unknown variable or filter, or too long an output."""


class MissingVariables(TemplateInvalid):
    """Variables with no value and no fallback: the send is refused rather than show a blank."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        example = f'{{{{{names[0]} | default: "..."}}}}'
        super().__init__(f"no value for {', '.join(names)}: give a fallback like {example} or write the text "
                         f"without {'it' if len(names) == 1 else 'them'}")


@dataclass(frozen=True)
class _Engine:
    text: Any
    html: Any
    undefined: type
    error: type[Exception]


@cache
def _engine() -> _Engine:
    """The Liquid environments, built on first use: importing the engine costs about 100 ms, which a
    function that never renders (most router invocations, most agent API calls) does not pay."""
    from liquid import Environment, Undefined
    from liquid.exceptions import LiquidError

    class RecordingUndefined(Undefined):
        """A value that is not there. Written out, it is recorded (and the render then refused); only tested
        (``{% if order.tracking_url %}``) or given a ``default``, it is fine. The context holds one, named
        with the variable's full path, for each of ``VARIABLES`` without a value; the engine makes others
        (named by their root only) for anything else a template reaches for, e.g. through ``assign``."""

        def __str__(self) -> str:
            found = _missing.get()
            name = self.name if self.name in VARIABLES else f"?{self.name}"
            if found is not None and name not in found:
                found.append(name)
            return ""

    class Bounded(Environment):
        output_stream_limit = MAX_OUTPUT * 4      # bytes, as the engine counts; checked in characters after
        loop_iteration_limit = 1_000
        context_depth_limit = 10
        local_namespace_limit = 10_000

    return _Engine(text=Bounded(undefined=RecordingUndefined, autoescape=False),
                   html=Bounded(undefined=RecordingUndefined, autoescape=True),
                   undefined=RecordingUndefined, error=LiquidError)


Order = Mapping[str, str | None]


@dataclass
class Variables:
    """The values one render may use. ``order`` is asked for only when the text uses ``order.*``."""

    customer: dict[str, str | None] = field(default_factory=dict)
    agent: dict[str, str | None] = field(default_factory=dict)
    shop: dict[str, str | None] = field(default_factory=dict)
    order: Callable[[], Order | None] | None = None

    def context(self, needs_order: bool) -> dict[str, Any]:
        order = self.order() if needs_order and self.order is not None else None
        scopes = {"customer": self.customer, "agent": self.agent, "shop": self.shop, "order": order or {}}
        context: dict[str, Any] = {}
        for scope, values in scopes.items():
            context[scope] = {}
            for name in (v.split(".", 1)[1] for v in VARIABLES if v.startswith(scope + ".")):
                value = values.get(name)
                # an empty value counts as none: it would be a blank in front of the customer
                context[scope][name] = (value if isinstance(value, str) and value.strip()
                                        else _engine().undefined(f"{scope}.{name}"))
        return context


def first_name(name: str | None) -> str | None:
    """The first word of a full name ("María José López" → "María"); None without a name."""
    words = (name or "").split()
    return words[0] if words else None


def check(text: str) -> set[str]:
    """The variables the text uses; TemplateInvalid for a syntax error or a variable that is not ours."""
    return _used(_parse(text, _engine().text))


def render(text: str, variables: Variables, *, html: bool = False, limit: int = MAX_OUTPUT) -> str:
    """The text with its variables filled in. MissingVariables (every missing name) or TemplateInvalid."""
    engine = _engine()
    template = _parse(text, engine.html if html else engine.text)
    used = _used(template)
    context = variables.context(needs_order=any(name.startswith("order.") for name in used))
    token = _missing.set([])
    try:
        output = template.render(**context)
        missing = list(_missing.get() or [])
    except engine.error as exc:
        raise TemplateInvalid(_words(exc)) from exc
    finally:
        _missing.reset(token)
    strays = [name[1:] for name in missing if name.startswith("?")]
    if strays:
        raise TemplateInvalid(f"the text writes out {', '.join(strays)}, which has no value; "
                              f"use only {', '.join(VARIABLES)}")
    if missing:
        raise MissingVariables(sorted(missing, key=VARIABLES.index))
    if len(output) > limit:
        raise TemplateInvalid(f"the rendered text is {len(output)} characters; at most {limit}")
    return str(output)


def _parse(text: str, env: Any) -> Any:
    if len(text) > MAX_TEMPLATE:
        raise TemplateInvalid(f"the text is longer than {MAX_TEMPLATE} characters")
    try:
        return env.from_string(text)
    except _engine().error as exc:
        raise TemplateInvalid(_words(exc)) from exc


def _used(template: Any) -> set[str]:
    try:
        paths = set(template.global_variable_paths())
        filters = sorted(set(template.filter_names()) - set(template.env.filters))
    except _engine().error as exc:
        raise TemplateInvalid(_words(exc)) from exc
    if filters:
        raise TemplateInvalid(f"the text is not a valid template: unknown filter {', '.join(map(repr, filters))}")
    unknown = sorted(p for p in paths if p not in VARIABLES)
    if unknown:
        raise TemplateInvalid(f"unknown variable{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
                              f"the variables are {', '.join(VARIABLES)}")
    return paths


def _words(exc: Exception) -> str:
    """The engine's message without its source excerpt: "expected '}}', found end of file"."""
    message = str(exc).splitlines()[0].strip() if str(exc) else type(exc).__name__
    return f"the text is not a valid template: {message}"
