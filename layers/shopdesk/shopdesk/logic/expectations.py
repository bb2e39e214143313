"""Telling the customer what to expect: when we will answer, in their language, never twice in a burst.

On a customer's first message (and on messages after hours) shopdesk acknowledges on the same channel.
This module is pure: the caller passes the clock, the SLA target, the queue and a business-time function,
and sends what comes back.

- ``expected_reply_at``: the promise. ``max(SLA due, queue estimate, now + 1 minute)`` where
  SLA due = ``add_business_seconds(now, first_response_seconds)`` and
  queue estimate = ``add_business_seconds(now, queue_ahead / max(agents_online, 1) * avg_handle_seconds)``:
  the conversations ahead shared among the agents online (one when nobody is), each taking the average
  handling time, counted in business time. We never promise sooner than the SLA lets us, and never
  sooner than the queue can deliver.
- ``situation``: ``after_hours`` when the shop is closed, else ``queue_busy`` when the promise is later
  than the SLA due time, else ``open_now``.
- ``format_eta``: the promise as a phrase in the customer's language, in the shop's time zone:
  under an hour away "in about 20 minutes" (minutes rounded up to the next 5, at least 5); else a clock
  time rounded up to the next 5 minutes: "today by 3:30 PM", "tomorrow by 9:30 AM", "on Monday by 9:30 AM"
  (two to six days away), "on January 12 by 9:30 AM" (a week or more away); the acknowledgement names the shop's
  time zone after it ("by 9:30 AM (CET)", "(UTC-03)" where the zone has no abbreviation): the customer may
  live in another. English uses the 12-hour
  clock (its readers in the US, Canada, the Philippines and India expect it; in the UK it is as
  common as 24-hour); every other language the 24-hour clock its readers expect (Indonesian with
  a dot: 09.30). A promise in the past is phrased from now.
- ``acknowledgement``: a template from ``templates/acknowledgements.json`` (merged with the shop's
  overrides by ``load_templates``) with ``{name}``, ``{eta}`` and ``{shop}`` filled in. A template may also
  use the personalisation variables of replies (``{{customer.first_name | default: "there"}}``,
  ``{{customer.name}}``, ``{{shop.name}}``; shopdesk.logic.render, same engine and rules), rendered first.
  Nobody can be asked to fix an acknowledgement, so one whose variable has no value and no fallback is
  replaced by the shipped template of the same language and situation (which uses only ``{name}``, and
  closes up the greeting without a name) rather than refused or sent with a blank.
- ``should_acknowledge``: no acknowledgement within ``burst_seconds`` of the previous one.

Grammar: every phrase carries its own preposition and article ("el lunes antes de las 09:30", "na
segunda-feira até as 09:30", "vo štvrtok do 09:30", "saat 09:30'a kadar" with Turkish vowel harmony
worked out from how the time is read), so templates only place ``{eta}`` where an adverbial of time
goes and never need to agree with it. Templates avoid putting case endings or articles on ``{shop}``
(a sign-off "Equipe {shop}", "{shop} Ekibi", "Tím {shop}" where the language would need them).

To add a language: its phrases in ``_PHRASES``, its templates in the JSON file, and a profile for the
detector (``shopdesk.logic.language.register``).
"""

# ruff: noqa: RUF001 - Turkish, Slovak and other customer text on purpose

from __future__ import annotations

import copy
import json
import math
import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from aws_lambda_powertools import Logger

from shopdesk import clock
from shopdesk.logic import render
from shopdesk.logic.language import normalise_code

OPEN_NOW = "open_now"
AFTER_HOURS = "after_hours"
QUEUE_BUSY = "queue_busy"
SITUATIONS = (OPEN_NOW, AFTER_HOURS, QUEUE_BUSY)
PLACEHOLDERS = frozenset({"name", "eta", "shop"})
logger = Logger(child=True)
VARIABLES = ("customer.first_name", "customer.name", "shop.name")   # no agent yet, no order lookup on ingest
# A template with a variable is a Liquid template; without one, "{{" stays the literal brace it always was.
_USES_VARIABLES = re.compile(r"\{\{\s*(customer|shop|agent|order)\.")
FALLBACK_LANGUAGE = "en"
MIN_PROMISE = timedelta(minutes=1)
ROUND_TO = 300                  # seconds: promises are rounded up to the next 5 minutes
MAX_TEMPLATE_CHARS = 640
MAX_NAME_CHARS = 60

Templates = dict[str, dict[str, str]]


class TemplateError(ValueError):
    """A template set that cannot be used: the message names the language, situation and problem."""


# -- the promise ----------------------------------------------------------------------------------------------

def expected_reply_at(now: datetime, first_response_seconds: float, queue_ahead: int, agents_online: int,
                      avg_handle_seconds: float,
                      add_business_seconds: Callable[[datetime, float], datetime]) -> datetime:
    """When we promise an answer: the later of the SLA due time and the queue estimate, both in business
    time, and never earlier than one minute from now (see the module docstring for the formula)."""
    _require_aware(now, "now")
    sla_due = add_business_seconds(now, _seconds(first_response_seconds))
    queue_seconds = max(int(queue_ahead), 0) / max(int(agents_online), 1) * _seconds(avg_handle_seconds)
    queue_due = add_business_seconds(now, queue_seconds)
    return max(sla_due, queue_due, now + MIN_PROMISE)


def _seconds(value: float) -> float:
    """A duration as given, or 0 for a negative, NaN or infinite one (bad statistics must not break a reply)."""
    value = float(value)
    return value if math.isfinite(value) and value > 0 else 0.0


def situation(now: datetime, is_open_now: bool, eta: datetime, now_plus_target: datetime) -> str:
    """Which template fits: closed -> ``after_hours``; the queue pushes the promise past the SLA due time
    (``now_plus_target``: the first-response target added in business time, the ``sla_due`` of
    ``expected_reply_at``; the one-minute floor is not the queue's doing) -> ``queue_busy``; otherwise
    ``open_now``."""
    if not is_open_now:
        return AFTER_HOURS
    if eta > max(now_plus_target, now + MIN_PROMISE):
        return QUEUE_BUSY
    return OPEN_NOW


def should_acknowledge(last_ack_at: datetime | None, now: datetime, burst_seconds: int = 600) -> bool:
    """True unless an acknowledgement went out less than ``burst_seconds`` before ``now`` (or after it): a
    customer who writes five lines in a row hears from us once. The router's ``now`` is when the customer wrote
    (``logic.acknowledge``), so work processed again later is judged as it was the first time."""
    if burst_seconds < 0:
        raise ValueError("burst_seconds must not be negative")
    if last_ack_at is None:
        return True
    return (now - last_ack_at).total_seconds() >= burst_seconds


# -- phrasing the promise -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Phrases:
    minutes: str                        # {n}: a multiple of 5 between 5 and 55
    today: str                          # {by}: the language's "by <time>"
    tomorrow: str
    weekday: str                        # {weekday}: from ``weekdays`` (Monday first)
    date: str                           # {day}, {month}: from ``months`` (January first)
    weekdays: tuple[str, ...]
    months: tuple[str, ...]
    by: Callable[[time], str]


def _hhmm(at: time, sep: str = ":") -> str:
    return f"{at.hour:02d}{sep}{at.minute:02d}"


def _en_by(at: time) -> str:
    hour = at.hour % 12 or 12
    return f"by {hour}:{at.minute:02d} {'AM' if at.hour < 12 else 'PM'}"


def _es_by(at: time) -> str:
    return f"antes de {'la' if at.hour == 1 else 'las'} {_hhmm(at)}"      # "la una", "las dos"...


def _pt_by(at: time) -> str:
    return f"até {'a' if at.hour in (0, 1) else 'as'} {_hhmm(at)}"       # "a zero hora", "a uma", "as duas"


# Turkish dative after a time follows the last word read aloud: 09:30 "dokuz otuz" -> 'a, 09:00 "dokuz" -> 'a,
# 15:00 "on beş" -> 'e, 20:20 "yirmi yirmi" -> 'ye. Units by their own word; round tens by theirs.
_TR_UNITS = {0: "a", 1: "e", 2: "ye", 3: "e", 4: "e", 5: "e", 6: "ya", 7: "ye", 8: "e", 9: "a"}
_TR_TENS = {10: "a", 20: "ye", 30: "a", 40: "a", 50: "ye"}


def _tr_dative(number: int) -> str:
    if number % 10 or number == 0:
        return _TR_UNITS[number % 10]
    return _TR_TENS[number]


def _tr_by(at: time) -> str:
    spoken_last = at.minute if at.minute else at.hour
    return f"saat {_hhmm(at)}'{_tr_dative(spoken_last)} kadar"


_PHRASES: dict[str, _Phrases] = {
    "en": _Phrases(
        minutes="in about {n} minutes", today="today {by}", tomorrow="tomorrow {by}",
        weekday="on {weekday} {by}", date="on {month} {day} {by}",
        weekdays=("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        months=("January", "February", "March", "April", "May", "June", "July", "August", "September",
                "October", "November", "December"),
        by=_en_by),
    "es": _Phrases(
        minutes="en unos {n} minutos", today="hoy {by}", tomorrow="mañana {by}",
        weekday="el {weekday} {by}", date="el {day} de {month} {by}",
        weekdays=("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
        months=("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
                "octubre", "noviembre", "diciembre"),
        by=_es_by),
    "pt": _Phrases(
        minutes="em cerca de {n} minutos", today="hoje {by}", tomorrow="amanhã {by}",
        weekday="{weekday} {by}", date="no dia {day} de {month} {by}",
        weekdays=("na segunda-feira", "na terça-feira", "na quarta-feira", "na quinta-feira", "na sexta-feira",
                  "no sábado", "no domingo"),
        months=("janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro",
                "outubro", "novembro", "dezembro"),
        by=_pt_by),
    "de": _Phrases(
        minutes="in etwa {n} Minuten", today="heute {by}", tomorrow="morgen {by}",
        weekday="am {weekday} {by}", date="am {day}. {month} {by}",
        weekdays=("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
        months=("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
                "November", "Dezember"),
        by=lambda at: f"bis {_hhmm(at)} Uhr"),
    "tr": _Phrases(
        minutes="yaklaşık {n} dakika içinde", today="bugün {by}", tomorrow="yarın {by}",
        weekday="{weekday} {by}", date="{day} {month} {by}",
        weekdays=("pazartesi", "salı", "çarşamba", "perşembe", "cuma", "cumartesi", "pazar"),
        months=("Ocak", "Şubat", "Mart", "Nisan", "Mayıs", "Haziran", "Temmuz", "Ağustos", "Eylül", "Ekim",
                "Kasım", "Aralık"),
        by=_tr_by),
    "id": _Phrases(
        minutes="dalam sekitar {n} menit", today="paling lambat hari ini {by}", tomorrow="paling lambat besok {by}",
        weekday="paling lambat hari {weekday} {by}", date="paling lambat tanggal {day} {month} {by}",
        weekdays=("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"),
        months=("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
                "November", "Desember"),
        by=lambda at: f"pukul {_hhmm(at, '.')}"),
    "sk": _Phrases(
        minutes="približne o {n} minút", today="dnes {by}", tomorrow="zajtra {by}",
        weekday="{weekday} {by}", date="{day}. {month} {by}",
        weekdays=("v pondelok", "v utorok", "v stredu", "vo štvrtok", "v piatok", "v sobotu", "v nedeľu"),
        months=("januára", "februára", "marca", "apríla", "mája", "júna", "júla", "augusta", "septembra",
                "októbra", "novembra", "decembra"),
        by=lambda at: f"do {_hhmm(at)}"),
}


def languages() -> tuple[str, ...]:
    """The languages acknowledgements can be written in."""
    return tuple(_PHRASES)


def resolve_language(language: str | None) -> str:
    """The language to write in: ``pt-BR`` -> ``pt``; anything we cannot phrase -> English."""
    return _known_language(language) or FALLBACK_LANGUAGE


def _known_language(key: object) -> str | None:
    if not isinstance(key, str):
        return None
    code = normalise_code(key) or key.strip().lower().replace("_", "-").split("-")[0]
    return code if code in _PHRASES else None


def format_eta(eta: datetime, now: datetime, language: str, time_zone: str, *, name_zone: bool = False) -> str:
    """The promise as the customer reads it, in ``language`` and the shop's ``time_zone``; with ``zone``, a clock
    time names that zone (``zone_label``): the customer may live in another."""
    _require_aware(eta, "eta")
    _require_aware(now, "now")
    zone = _zone(time_zone)
    phrases = _PHRASES[resolve_language(language)]
    eta = max(eta, now)
    minutes = max(5, math.ceil((eta - now).total_seconds() / ROUND_TO - 1e-9) * 5)
    if minutes < 60:
        return phrases.minutes.format(n=minutes)
    local = _round_up(eta).astimezone(zone)
    by = phrases.by(local.time()) + (f" ({zone_label(local)})" if name_zone else "")
    days = (local.date() - now.astimezone(zone).date()).days
    if days <= 0:
        return phrases.today.format(by=by)
    if days == 1:
        return phrases.tomorrow.format(by=by)
    if days < 7:
        return phrases.weekday.format(weekday=phrases.weekdays[local.weekday()], by=by)
    return phrases.date.format(day=local.day, month=phrases.months[local.month - 1], by=by)


def zone_label(local: datetime) -> str:
    """The time zone of ``local`` as a customer reads it: its abbreviation where it has one (CET, CEST, EST),
    else its offset from UTC (America/Sao_Paulo: UTC-03, Asia/Kathmandu: UTC+05:45)."""
    name = local.tzname() or ""
    if name.isalpha():
        return name
    minutes = int((local.utcoffset() or timedelta(0)).total_seconds() // 60)
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{'-' if minutes < 0 else '+'}{hours:02d}" + (f":{rest:02d}" if rest else "")


def _round_up(moment: datetime) -> datetime:
    """Up to the next 5 minutes (on the UTC clock: every time zone in use is offset by whole 15 minutes)."""
    seconds = moment.timestamp()
    rounded = math.ceil(seconds / ROUND_TO - 1e-9) * ROUND_TO
    return datetime.fromtimestamp(rounded, UTC)


def _zone(time_zone: str) -> ZoneInfo:
    try:
        return clock.zone(time_zone)
    except ValueError as exc:
        raise ValueError(f"unknown time zone {time_zone!r} (use an IANA name such as 'Europe/Madrid')") from exc


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


# -- templates ------------------------------------------------------------------------------------------------

def default_templates() -> Templates:
    """The shipped templates (``templates/acknowledgements.json``), validated; a fresh copy each call."""
    return copy.deepcopy(_defaults())


@cache
def _defaults() -> Templates:
    text = resources.files("shopdesk").joinpath("templates/acknowledgements.json").read_text(encoding="utf-8")
    templates = _merge({}, json.loads(text), source="default templates")
    for code in _PHRASES:
        missing = [s for s in SITUATIONS if s not in templates.get(code, {})]
        if missing:
            raise TemplateError(f"default templates: {code} lacks {', '.join(missing)}")
    return templates


def load_templates(overrides: Mapping[str, Any] | str | None = None) -> Templates:
    """The default templates with a shop's ``overrides`` merged over them.

    ``overrides`` is ``{language: {situation: template}}`` (or the same as a JSON string); any subset.
    Raises TemplateError for an unknown language or situation, a placeholder other than {name}, {eta}
    and {shop}, a missing {eta}, a format spec, unbalanced braces or an over-long template.
    """
    if overrides is None:
        return default_templates()
    if isinstance(overrides, str):
        try:
            overrides = json.loads(overrides)
        except json.JSONDecodeError as exc:
            raise TemplateError(f"template overrides are not valid JSON: {exc}") from exc
    return _merge(default_templates(), overrides, source="template overrides")


def _merge(base: Templates, overrides: object, *, source: str) -> Templates:
    if not isinstance(overrides, Mapping):
        raise TemplateError(f"{source} must be an object of language -> situation -> template")
    for key, entries in overrides.items():
        if isinstance(key, str) and key.startswith("_"):
            continue                                    # "_comment" and the like
        code = _known_language(key)
        if code is None:
            raise TemplateError(f"{source}: unknown language {key!r}; supported: {', '.join(_PHRASES)}")
        if not isinstance(entries, Mapping):
            raise TemplateError(f"{source}: {key} must be an object of situation -> template")
        for name, template in entries.items():
            if name not in SITUATIONS:
                raise TemplateError(f"{source}: {key}/{name}: unknown situation; use {', '.join(SITUATIONS)}")
            _validate(template, f"{source}: {key}/{name}")
            base.setdefault(code, {})[name] = template
    return base


def _validate(template: object, where: str) -> None:
    if not isinstance(template, str) or not template.strip():
        raise TemplateError(f"{where}: a template must be a non-empty string")
    if len(template) > MAX_TEMPLATE_CHARS:
        raise TemplateError(f"{where}: longer than {MAX_TEMPLATE_CHARS} characters")
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise TemplateError(f"{where}: {exc} (write {{{{ and }}}} for literal braces)") from exc
    allowed = ", ".join(f"{{{p}}}" for p in sorted(PLACEHOLDERS))
    seen = set()
    for _, field, spec, conversion in fields:
        if field is None:
            continue
        if field not in PLACEHOLDERS:
            shown = f"{{{field}}}" if field else "{}"
            raise TemplateError(f"{where}: unknown placeholder {shown}; allowed: {allowed}")
        if spec or conversion:
            raise TemplateError(f"{where}: write {{{field}}} without a format or conversion")
        seen.add(field)
    if "eta" not in seen:
        raise TemplateError(f"{where}: the template must say when we will answer: add {{eta}}")
    if _USES_VARIABLES.search(template):
        try:
            used = render.check(template)
        except render.TemplateInvalid as exc:
            raise TemplateError(f"{where}: {exc}") from exc
        others = sorted(used - set(VARIABLES))
        if others:
            raise TemplateError(f"{where}: an acknowledgement cannot use {', '.join(others)}; "
                                f"it can use {', '.join(VARIABLES)}")


# -- the message ----------------------------------------------------------------------------------------------

_SPACE_BEFORE_PUNCT = re.compile(r"[ \t]+([,.!?;:])")
_DANGLING_COMMA = re.compile(r",\s*([,.!?;:])")
_SPACES = re.compile(r"[ \t]{2,}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_SENTENCE_END = re.compile(r"(^|[.!?]\s+|\n\s*)$")


def acknowledgement(language: str | None, situation: str, name: str | None, eta_phrase: str, shop: str,
                    templates: Mapping[str, Mapping[str, str]] | None = None,
                    variables: render.Variables | None = None) -> str:
    """The acknowledgement text. ``eta_phrase`` comes from ``format_eta`` in the same language;
    ``templates`` from ``load_templates`` (the defaults when omitted); ``variables`` for ``{{...}}``
    (from ``name`` and ``shop`` when omitted). Without a name the greeting closes up ("Hola, gracias ...");
    an ``{eta}`` that starts a sentence is capitalised."""
    if situation not in SITUATIONS:
        raise ValueError(f"unknown situation {situation!r}; use {', '.join(SITUATIONS)}")
    templates = default_templates() if templates is None else templates
    code = resolve_language(language)
    if situation not in templates.get(code, {}):
        code = FALLBACK_LANGUAGE
    variables = variables or render.Variables(customer={"name": name, "first_name": render.first_name(name)},
                                              shop={"name": shop})
    template = _personalised(templates[code][situation], code, situation, variables)
    values = {"name": _clean(name)[:MAX_NAME_CHARS].strip(), "eta": _clean(eta_phrase), "shop": _clean(shop)}
    parts: list[str] = []
    for literal, field, _, _ in string.Formatter().parse(template):
        parts.append(literal)
        if field is None:
            continue
        value = values[field]
        if field == "eta" and value and _SENTENCE_END.search("".join(parts)):
            first = "İ" if code == "tr" and value[0] == "i" else value[0].upper()
            value = first + value[1:]
        parts.append(value)
    text = "".join(parts)
    if not values["name"]:
        text = _DANGLING_COMMA.sub(r"\1", _SPACE_BEFORE_PUNCT.sub(r"\1", text))
    return "\n".join(_SPACES.sub(" ", line).strip() for line in text.splitlines()).strip()


def _personalised(template: str, code: str, situation: str, variables: render.Variables) -> str:
    """The ``{{...}}`` variables filled in (their values with braces doubled, so that the ``{name}`` step
    after this reads them as text); the shipped template instead when a value is missing."""
    if not _USES_VARIABLES.search(template):
        return template
    braced = render.Variables(customer=_braced(variables.customer), shop=_braced(variables.shop))
    try:
        return render.render(template, braced)
    except render.TemplateInvalid as exc:
        logger.warning("acknowledgement template falls back to the shipped one",
                       extra={"language": code, "situation": situation, "reason": str(exc)})
        shipped = _defaults()
        return shipped.get(code, shipped[FALLBACK_LANGUAGE])[situation]


def _braced(values: Mapping[str, str | None]) -> dict[str, str | None]:
    return {k: _clean(v).replace("{", "{{").replace("}", "}}") if v else v for k, v in values.items()}


def _clean(value: str | None) -> str:
    return " ".join(_CONTROL.sub(" ", value or "").split())
