"""Acknowledgements: the promise (SLA vs queue, business time), its phrasing in every language, the
templates and their overrides, and the burst rule."""

# ruff: noqa: RUF001, RUF003 - Turkish and Slovak text on purpose

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shopdesk.logic import expectations
from shopdesk.logic.expectations import (
    AFTER_HOURS,
    OPEN_NOW,
    QUEUE_BUSY,
    SITUATIONS,
    TemplateError,
    acknowledgement,
    default_templates,
    expected_reply_at,
    format_eta,
    languages,
    load_templates,
    resolve_language,
    should_acknowledge,
    situation,
)
from shopdesk.logic.language import supported

MADRID = ZoneInfo("Europe/Madrid")
LANGUAGES = ("en", "es", "pt", "de", "tr", "id", "sk")


def at(*args: int, tz: ZoneInfo = MADRID) -> datetime:
    return datetime(*args, tzinfo=tz)


def office_hours(start: int = 9, end: int = 17, tz: ZoneInfo = MADRID):
    """A stand-in for the calendar: Monday to Friday, ``start`` to ``end`` local time, no holidays."""

    def add_business_seconds(moment: datetime, seconds: float) -> datetime:
        local = moment.astimezone(tz)
        remaining = timedelta(seconds=seconds)
        while True:
            opens = local.replace(hour=start, minute=0, second=0, microsecond=0)
            closes = local.replace(hour=end, minute=0, second=0, microsecond=0)
            if local.weekday() >= 5 or local >= closes:
                local = (local + timedelta(days=1)).replace(hour=start, minute=0, second=0, microsecond=0)
                continue
            local = max(local, opens)
            if local + remaining <= closes:
                return local + remaining
            remaining -= closes - local
            local = (local + timedelta(days=1)).replace(hour=start, minute=0, second=0, microsecond=0)

    return add_business_seconds


# -- the promise ----------------------------------------------------------------------------------------------

def test_empty_queue_the_sla_wins():
    now = at(2025, 6, 2, 10, 0)                                   # Monday
    eta = expected_reply_at(now, 4 * 3600, queue_ahead=0, agents_online=3, avg_handle_seconds=600,
                            add_business_seconds=office_hours())
    assert eta == at(2025, 6, 2, 14, 0)


def test_long_queue_the_queue_wins():
    now = at(2025, 6, 2, 10, 0)
    eta = expected_reply_at(now, 3600, queue_ahead=30, agents_online=2, avg_handle_seconds=600,
                            add_business_seconds=office_hours())
    assert eta == at(2025, 6, 2, 12, 30)                           # 30 / 2 * 10 minutes = 2 h 30


def test_no_agent_online_counts_as_one():
    now = at(2025, 6, 2, 10, 0)
    eta = expected_reply_at(now, 1800, queue_ahead=3, agents_online=0, avg_handle_seconds=1200,
                            add_business_seconds=office_hours())
    assert eta == at(2025, 6, 2, 11, 0)                            # 3 * 20 minutes, one agent
    assert expected_reply_at(now, 1800, 0, 0, 1200, office_hours()) == at(2025, 6, 2, 10, 30)


def test_both_estimates_are_in_business_time():
    friday = at(2025, 6, 6, 15, 0)
    assert expected_reply_at(friday, 4 * 3600, 0, 1, 600, office_hours()) == at(2025, 6, 9, 11, 0)
    assert expected_reply_at(friday, 600, 24, 1, 600, office_hours()) == at(2025, 6, 9, 11, 0)
    saturday = at(2025, 6, 7, 12, 0)
    assert expected_reply_at(saturday, 900, 0, 1, 600, office_hours()) == at(2025, 6, 9, 9, 15)


def test_never_sooner_than_a_minute():
    now = at(2025, 6, 2, 10, 0)

    def instant(moment: datetime, seconds: float) -> datetime:
        return moment + timedelta(seconds=seconds)

    assert expected_reply_at(now, 0, 0, 5, 600, instant) == now + timedelta(minutes=1)
    assert expected_reply_at(now, -50, -3, -1, -600, instant) == now + timedelta(minutes=1)
    assert expected_reply_at(now, float("nan"), 4, 1, float("inf"), instant) == now + timedelta(minutes=1)


def test_the_calendar_is_only_called_through_the_callable():
    calls = []

    def recording(moment: datetime, seconds: float) -> datetime:
        calls.append(seconds)
        return moment + timedelta(seconds=seconds)

    now = at(2025, 6, 2, 10, 0)
    expected_reply_at(now, 3600, 10, 4, 300, recording)
    assert sorted(calls) == [750.0, 3600.0]


def test_situation():
    now = at(2025, 6, 2, 10, 0)
    due = now + timedelta(hours=1)
    assert situation(now, False, due, due) == AFTER_HOURS
    assert situation(now, False, due + timedelta(hours=5), due) == AFTER_HOURS      # closed says it all
    assert situation(now, True, due, due) == OPEN_NOW
    assert situation(now, True, due - timedelta(minutes=10), due) == OPEN_NOW
    assert situation(now, True, due + timedelta(minutes=1), due) == QUEUE_BUSY
    assert situation(now, True, now + timedelta(minutes=1), now) == OPEN_NOW            # only the 1-minute floor


# -- the burst rule -------------------------------------------------------------------------------------------

def test_should_acknowledge_once_per_burst():
    now = at(2025, 6, 2, 10, 0)
    assert should_acknowledge(None, now)
    assert not should_acknowledge(now, now)
    assert not should_acknowledge(now - timedelta(seconds=30), now)
    assert not should_acknowledge(now - timedelta(seconds=599), now)
    assert should_acknowledge(now - timedelta(seconds=600), now)
    assert should_acknowledge(now - timedelta(hours=3), now)
    assert not should_acknowledge(now + timedelta(seconds=5), now)                   # a clock a little ahead
    assert not should_acknowledge(now - timedelta(minutes=20), now, burst_seconds=3600)
    assert should_acknowledge(now - timedelta(seconds=1), now, burst_seconds=0)
    with pytest.raises(ValueError):
        should_acknowledge(None, now, burst_seconds=-1)


def test_a_burst_of_messages_gets_one_acknowledgement():
    start = at(2025, 6, 2, 10, 0)
    last_ack = None
    sent = []
    for seconds in (0, 5, 12, 40, 90, 300, 599, 700, 705):
        now = start + timedelta(seconds=seconds)
        if should_acknowledge(last_ack, now):
            last_ack = now
            sent.append(seconds)
    assert sent == [0, 700]


# -- phrasing -------------------------------------------------------------------------------------------------

NOW = datetime(2025, 6, 2, 8, 2, tzinfo=UTC)          # Monday 10:02 in Madrid

EXPECTED_PHRASES = {
    # language: (+17 min, +5 h 25 -> 15:27 local, tomorrow 09:28, Thursday 09:28, the Wednesday after next)
    "en": ("in about 20 minutes", "today by 3:30 PM", "tomorrow by 9:30 AM", "on Thursday by 9:30 AM",
           "on June 11 by 9:30 AM"),
    "es": ("en unos 20 minutos", "hoy antes de las 15:30", "mañana antes de las 09:30",
           "el jueves antes de las 09:30", "el 11 de junio antes de las 09:30"),
    "pt": ("em cerca de 20 minutos", "hoje até as 15:30", "amanhã até as 09:30", "na quinta-feira até as 09:30",
           "no dia 11 de junho até as 09:30"),
    "de": ("in etwa 20 Minuten", "heute bis 15:30 Uhr", "morgen bis 09:30 Uhr", "am Donnerstag bis 09:30 Uhr",
           "am 11. Juni bis 09:30 Uhr"),
    "tr": ("yaklaşık 20 dakika içinde", "bugün saat 15:30'a kadar", "yarın saat 09:30'a kadar",
           "perşembe saat 09:30'a kadar", "11 Haziran saat 09:30'a kadar"),
    "id": ("dalam sekitar 20 menit", "paling lambat hari ini pukul 15.30", "paling lambat besok pukul 09.30",
           "paling lambat hari Kamis pukul 09.30", "paling lambat tanggal 11 Juni pukul 09.30"),
    "sk": ("približne o 20 minút", "dnes do 15:30", "zajtra do 09:30", "vo štvrtok do 09:30",
           "11. júna do 09:30"),
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_format_eta_in_every_language(language):
    etas = (
        NOW + timedelta(minutes=17),
        NOW + timedelta(hours=5, minutes=25),
        at(2025, 6, 3, 9, 28),
        at(2025, 6, 5, 9, 28),
        at(2025, 6, 11, 9, 28),
    )
    assert tuple(format_eta(eta, NOW, language, "Europe/Madrid") for eta in etas) == EXPECTED_PHRASES[language]


@pytest.mark.parametrize(("minutes", "expected"), [
    (0.2, "in about 5 minutes"),
    (3, "in about 5 minutes"),
    (5, "in about 5 minutes"),
    (5.1, "in about 10 minutes"),
    (17, "in about 20 minutes"),
    (55, "in about 55 minutes"),
    (56, "today by 11:00 AM"),           # an hour or more away: a clock time, rounded up to 5 minutes
    (60, "today by 11:05 AM"),
    (-30, "in about 5 minutes"),          # a promise in the past is phrased from now
])
def test_minutes_are_rounded_up_to_five(minutes, expected):
    assert format_eta(NOW + timedelta(minutes=minutes), NOW, "en", "Europe/Madrid") == expected


def test_clock_times_are_rounded_up_to_five_minutes():
    now = at(2025, 6, 2, 9, 0)
    assert format_eta(at(2025, 6, 2, 15, 26, 1), now, "de", "Europe/Madrid") == "heute bis 15:30 Uhr"
    assert format_eta(at(2025, 6, 2, 15, 30), now, "de", "Europe/Madrid") == "heute bis 15:30 Uhr"
    assert format_eta(at(2025, 6, 2, 15, 30, 0, 1), now, "de", "Europe/Madrid") == "heute bis 15:35 Uhr"
    assert format_eta(at(2025, 6, 2, 23, 58), now, "de", "Europe/Madrid") == "morgen bis 00:00 Uhr"


def test_english_uses_the_twelve_hour_clock():
    now = at(2025, 6, 1, 20, 0)
    assert format_eta(at(2025, 6, 2, 0, 5), now, "en", "Europe/Madrid") == "tomorrow by 12:05 AM"
    assert format_eta(at(2025, 6, 2, 12, 0), now, "en", "Europe/Madrid") == "tomorrow by 12:00 PM"
    assert format_eta(at(2025, 6, 2, 13, 0), now, "en", "Europe/Madrid") == "tomorrow by 1:00 PM"


def test_one_oclock_takes_the_singular_article():
    now = at(2025, 6, 1, 20, 0)
    assert format_eta(at(2025, 6, 2, 1, 30), now, "es", "Europe/Madrid") == "mañana antes de la 01:30"
    assert format_eta(at(2025, 6, 2, 13, 30), now, "es", "Europe/Madrid") == "mañana antes de las 13:30"
    assert format_eta(at(2025, 6, 2, 1, 30), now, "pt", "Europe/Madrid") == "amanhã até a 01:30"
    assert format_eta(at(2025, 6, 2, 0, 30), now, "pt", "Europe/Madrid") == "amanhã até a 00:30"
    assert format_eta(at(2025, 6, 2, 2, 0), now, "pt", "Europe/Madrid") == "amanhã até as 02:00"


@pytest.mark.parametrize(("hour", "minute", "suffix"), [
    (9, 0, "a"),      # dokuz
    (9, 30, "a"),     # otuz
    (15, 0, "e"),     # on beş
    (10, 5, "e"),     # beş
    (10, 10, "a"),    # on
    (12, 0, "ye"),    # on iki
    (6, 0, "ya"),     # altı
    (7, 20, "ye"),    # yirmi
    (16, 45, "e"),    # kırk beş
    (13, 40, "a"),    # kırk
    (13, 50, "ye"),   # elli
    (20, 0, "ye"),    # yirmi
    (10, 0, "a"),     # on
    (0, 0, "a"),      # sıfır
    (18, 0, "e"),     # on sekiz
    (19, 0, "a"),     # on dokuz
    (23, 0, "e"),     # yirmi üç
])
def test_turkish_suffix_follows_vowel_harmony(hour, minute, suffix):
    now = at(2025, 6, 1, 20, 0)
    phrase = format_eta(at(2025, 6, 2, hour, minute), now, "tr", "Europe/Madrid")
    assert phrase.startswith("yarın saat "), phrase
    assert phrase.endswith(f"{hour:02d}:{minute:02d}'{suffix} kadar"), phrase


def test_every_weekday_in_every_language():
    now = at(2025, 6, 1, 12, 0)                                   # Sunday
    for language in LANGUAGES:
        phrases = {format_eta(at(2025, 6, 1 + days, 10, 0), now, language, "Europe/Madrid") for days in range(2, 9)}
        assert len(phrases) == 7, (language, phrases)                # Tuesday..Sunday: six weekdays, then a date


def test_dst_spring_forward():
    berlin = "Europe/Berlin"                                     # 30 March 2025, 02:00 CET -> 03:00 CEST
    saturday_evening = datetime(2025, 3, 29, 17, 0, tzinfo=UTC)   # 18:00 CET
    monday = datetime(2025, 3, 31, 7, 30, tzinfo=UTC)             # 09:30 CEST, not 08:30
    assert format_eta(monday, saturday_evening, "de", berlin) == "am Montag bis 09:30 Uhr"
    late_saturday = datetime(2025, 3, 29, 22, 30, tzinfo=UTC)     # 23:30 CET
    sunday = datetime(2025, 3, 30, 7, 30, tzinfo=UTC)             # 09:30 CEST
    assert format_eta(sunday, late_saturday, "en", berlin) == "tomorrow by 9:30 AM"
    across = datetime(2025, 3, 30, 0, 30, tzinfo=UTC)             # 01:30 CET; an hour later it is 03:30 CEST
    assert format_eta(across + timedelta(minutes=50), across, "de", berlin) == "in etwa 50 Minuten"
    assert format_eta(across + timedelta(hours=1), across, "de", berlin) == "heute bis 03:30 Uhr"


def test_dst_fall_back():
    new_york = "America/New_York"                                # 2 November 2025, 02:00 EDT -> 01:00 EST
    now = datetime(2025, 11, 1, 22, 0, tzinfo=UTC)                # 18:00 EDT Saturday
    assert format_eta(datetime(2025, 11, 2, 14, 30, tzinfo=UTC), now, "en", new_york) == "tomorrow by 9:30 AM"
    assert format_eta(datetime(2025, 11, 3, 14, 30, tzinfo=UTC), now, "es", new_york) == \
        "el lunes antes de las 09:30"


def test_times_are_in_the_shops_time_zone():
    now = datetime(2025, 6, 1, 20, 0, tzinfo=UTC)
    eta = datetime(2025, 6, 2, 2, 0, tzinfo=UTC)
    assert format_eta(eta, now, "pt", "America/Sao_Paulo") == "hoje até as 23:00"
    assert format_eta(eta, now, "id", "Asia/Jakarta") == "paling lambat hari ini pukul 09.00"
    assert format_eta(eta, now, "tr", "Europe/Istanbul") == "yarın saat 05:00'e kadar"
    assert format_eta(eta, now, "en", "Asia/Kathmandu") == "today by 7:45 AM"           # UTC+05:45
    assert format_eta(eta, now, "sk", "Europe/Bratislava") == "zajtra do 04:00"
    # the same instants given in another offset phrase the same
    assert format_eta(eta.astimezone(MADRID), now.astimezone(ZoneInfo("Asia/Tokyo")), "pt",
                      "America/Sao_Paulo") == "hoje até as 23:00"


def test_format_eta_refuses_naive_times_and_unknown_zones():
    with pytest.raises(ValueError, match="timezone-aware"):
        format_eta(datetime(2025, 6, 2, 10, 0), NOW, "en", "Europe/Madrid")
    with pytest.raises(ValueError, match="timezone-aware"):
        format_eta(NOW, datetime(2025, 6, 2, 10, 0), "en", "Europe/Madrid")
    with pytest.raises(ValueError, match="unknown time zone"):
        format_eta(NOW, NOW, "en", "Mars/Olympus_Mons")
    with pytest.raises(ValueError, match="unknown time zone"):
        format_eta(NOW, NOW, "en", "")


def test_languages_resolve_and_fall_back_to_english():
    assert resolve_language("pt-BR") == "pt"
    assert resolve_language("de_AT") == "de"
    assert resolve_language("in") == "id"
    assert resolve_language("fr") == "en"
    assert resolve_language(None) == "en"
    assert format_eta(NOW + timedelta(minutes=20), NOW, "fr", "Europe/Madrid") == "in about 20 minutes"
    assert format_eta(NOW + timedelta(minutes=20), NOW, "es-MX", "Europe/Madrid") == "en unos 20 minutos"


def test_every_detected_language_can_be_phrased():
    assert set(supported()) <= set(languages())
    assert set(LANGUAGES) <= set(languages())


# -- templates ------------------------------------------------------------------------------------------------

BRACES = re.compile(r"[{}]")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("case", SITUATIONS)
def test_every_language_and_situation_renders(language, case):
    templates = load_templates()
    for eta in (NOW + timedelta(minutes=20), at(2025, 6, 3, 9, 30), at(2025, 6, 5, 9, 30)):
        phrase = format_eta(eta, NOW, language, "Europe/Madrid")
        for name in ("Ana", "", None, "  María José  "):
            text = acknowledgement(language, case, name, phrase, "Acme Shoes", templates)
            assert not BRACES.search(text), text
            assert phrase in text and "Acme Shoes" in text, text
            assert "  " not in text and " ," not in text and ",," not in text and " ." not in text, text
            assert text == text.strip()
            if name and name.strip():
                assert name.strip() in text
            assert len(text) <= 320, text                             # short: one or two sentences


@pytest.mark.parametrize(("language", "greeting"), [
    ("en", "Hi, thanks"), ("es", "Hola, gracias"), ("pt", "Olá! Recebemos"), ("de", "Hallo, vielen"),
    ("tr", "Merhaba, mesajınız"), ("id", "Halo, terima"), ("sk", "Dobrý deň, ďakujeme"),
])
def test_without_a_name_the_greeting_closes_up(language, greeting):
    text = acknowledgement(language, OPEN_NOW, None, "x", "Acme")
    assert text.startswith(greeting), text


def test_default_templates_cover_every_language_and_situation():
    templates = default_templates()
    for language in LANGUAGES:
        assert set(templates[language]) == set(SITUATIONS)
        assert len({templates[language][s] for s in SITUATIONS}) == 3       # each situation says something else
    raw = json.loads(
        (expectations.resources.files("shopdesk") / "templates" / "acknowledgements.json").read_text("utf-8"))
    assert set(raw) - {"_comment"} == set(LANGUAGES)


def test_overrides_merge_over_the_defaults():
    defaults = default_templates()
    merged = load_templates({"es": {"open_now": "¡Hola {name}! {shop} le contestará {eta}."},
                             "pt-BR": {"queue_busy": "Oi {name}! Estamos com muitas mensagens; respondemos {eta}."}})
    assert merged["es"]["open_now"] == "¡Hola {name}! {shop} le contestará {eta}."
    assert merged["es"]["after_hours"] == defaults["es"]["after_hours"]
    assert merged["pt"]["queue_busy"].startswith("Oi {name}!")
    assert merged["pt"]["open_now"] == defaults["pt"]["open_now"]
    assert merged["en"] == defaults["en"]
    assert default_templates() == defaults                                  # the defaults are not touched
    text = acknowledgement("es", OPEN_NOW, "Ana", "en unos 20 minutos", "Acme", merged)
    assert text == "¡Hola Ana! Acme le contestará en unos 20 minutos."


def test_overrides_as_json_and_literal_braces():
    merged = load_templates(json.dumps({"en": {"after_hours": "We're closed {{weekend}}; back {eta}."}}))
    assert acknowledgement("en", AFTER_HOURS, "", "on Monday by 9:00 AM", "Acme", merged) == \
        "We're closed {weekend}; back on Monday by 9:00 AM."


def test_an_eta_starting_a_sentence_is_capitalised():
    merged = load_templates({"en": {"open_now": "Thanks, {name}! {eta} someone from {shop} will answer."},
                             "de": {"open_now": "{eta} antworten wir Ihnen."}})
    assert acknowledgement("en", OPEN_NOW, "Ana", "in about 20 minutes", "Acme", merged) == \
        "Thanks, Ana! In about 20 minutes someone from Acme will answer."
    assert acknowledgement("de", OPEN_NOW, "Ana", "morgen bis 09:30 Uhr", "Acme", merged) == \
        "Morgen bis 09:30 Uhr antworten wir Ihnen."


@pytest.mark.parametrize(("overrides", "message"), [
    ({"es": {"open_now": "Hola {nombre}, le responderemos {eta}."}}, r"es/open_now: unknown placeholder \{nombre\}"),
    ({"en": {"open_now": "Hi {name}, we reply {eta} {}."}}, r"unknown placeholder \{\}"),
    ({"en": {"open_now": "Hi {0}, we reply {eta}."}}, r"unknown placeholder \{0\}"),
    ({"en": {"open_now": "Hi {name.upper}, we reply {eta}."}}, r"unknown placeholder \{name.upper\}"),
    ({"en": {"open_now": "Hi {customer[name]} {eta}"}}, r"unknown placeholder"),
    ({"en": {"open_now": "We reply {eta:>20}."}}, r"without a format"),
    ({"en": {"open_now": "We reply {eta!r}."}}, r"without a format"),
    ({"en": {"open_now": "Hi {name}, we will get back to you."}}, r"add \{eta\}"),
    ({"en": {"open_now": "We reply {eta"}}, r"en/open_now"),
    ({"en": {"open_now": "We reply } {eta}"}}, r"literal braces"),
    ({"en": {"open_now": ""}}, r"non-empty string"),
    ({"en": {"open_now": 42}}, r"non-empty string"),
    ({"en": {"open_now": "x {eta} " * 100}}, r"longer than"),
    ({"en": {"opening": "Hi {eta}"}}, r"unknown situation"),
    ({"fr": {"open_now": "Bonjour {name}, réponse {eta}."}}, r"unknown language 'fr'"),
    ({"en": "Hi {eta}"}, r"situation -> template"),
    (["en"], r"language -> situation -> template"),
    ("{not json", r"not valid JSON"),
])
def test_invalid_overrides_are_refused_at_load_time(overrides, message):
    with pytest.raises(TemplateError, match=message):
        load_templates(overrides)


def test_acknowledgement_inputs():
    with pytest.raises(ValueError, match="unknown situation"):
        acknowledgement("en", "closed", "Ana", "soon", "Acme")
    assert acknowledgement("fr", OPEN_NOW, "Ana", "in about 20 minutes", "Acme").startswith("Hi Ana,")
    text = acknowledgement("en", OPEN_NOW, "Ana\n\x00Evil", "in about 20 minutes", "Acme")
    assert text.startswith("Hi Ana Evil,")
    long_name = acknowledgement("en", OPEN_NOW, "A" * 500, "in about 20 minutes", "Acme")
    assert "A" * 60 in long_name and "A" * 61 not in long_name
    braces = acknowledgement("en", OPEN_NOW, "{eta}", "in about 20 minutes", "{shop}")
    assert braces.startswith("Hi {eta}, thanks for contacting {shop}!")      # values are never re-read


def test_end_to_end_after_hours_in_slovak():
    friday_evening = at(2025, 6, 6, 19, 40)
    add = office_hours()
    target = 3600
    eta = expected_reply_at(friday_evening, target, queue_ahead=2, agents_online=1, avg_handle_seconds=300,
                            add_business_seconds=add)
    case = situation(friday_evening, False, eta, add(friday_evening, target))
    phrase = format_eta(eta, friday_evening, "sk", "Europe/Madrid")
    text = acknowledgement("sk", case, "Peter", phrase, "Obchod", load_templates())
    assert (case, phrase) == (AFTER_HOURS, "v pondelok do 10:00")
    assert text == ("Dobrý deň, Peter, ďakujeme za Vašu správu. Momentálne sme mimo pracovného času; "
                    "odpovieme Vám v pondelok do 10:00.\nTím Obchod")


# -- personalisation variables in acknowledgements (shopdesk.logic.render) ---------------------------------------

def test_an_acknowledgement_may_use_the_reply_variables():
    merged = load_templates({"en": {"open_now": 'Hi {{customer.first_name | default: "there"}}, '
                                                "{{shop.name}} will answer {eta}."}})
    assert acknowledgement("en", OPEN_NOW, "Dana Rivera", "in about 20 minutes", "Acme", merged) == \
        "Hi Dana, Acme will answer in about 20 minutes."
    assert acknowledgement("en", OPEN_NOW, None, "in about 20 minutes", "Acme", merged) == \
        "Hi there, Acme will answer in about 20 minutes."


def test_a_customer_name_with_braces_is_text_not_a_placeholder():
    merged = load_templates({"en": {"open_now": "Hi {{customer.first_name}}, we answer {eta}."}})
    assert acknowledgement("en", OPEN_NOW, "{eta}{{x}} Smith", "soon", "Acme", merged) == \
        "Hi {eta}{{x}}, we answer soon."


def test_an_acknowledgement_with_a_missing_value_falls_back_to_the_shipped_template():
    # Nobody can be asked to fix it: the shipped template of the language and situation is sent instead
    merged = load_templates({"es": {"open_now": "Hola {{customer.first_name}}, {shop} responde {eta}."}})
    text = acknowledgement("es", OPEN_NOW, None, "en unos 20 minutos", "Acme", merged)
    assert text == "Hola, gracias por escribir a Acme. Te responderemos en unos 20 minutos."
    assert "{{" not in text


@pytest.mark.parametrize(("template", "words"), [
    ("Hi {{customer.first_name}}, your {{order.tracking_url}} {eta}", "cannot use order.tracking_url"),
    ("Hi {{customer.email}} {eta}", "unknown variable customer.email"),
    ("Hi {{customer.name | nope}} {eta}", "unknown filter"),
])
def test_an_acknowledgement_variable_the_router_cannot_fill_is_refused_when_saved(template, words):
    with pytest.raises(TemplateError, match=words):
        load_templates({"en": {"open_now": template}})


def test_the_shipped_templates_use_no_variable_that_could_be_missing():
    for language, entries in default_templates().items():
        for name, template in entries.items():
            assert not expectations._USES_VARIABLES.search(template), (language, name)


def test_an_acknowledgements_clock_time_names_the_shops_time_zone():
    # the customer may live in another zone: an abbreviation where the zone has one, else the offset from UTC
    now = datetime(2025, 6, 1, 20, 0, tzinfo=UTC)
    eta = datetime(2025, 6, 2, 2, 0, tzinfo=UTC)
    assert format_eta(eta, now, "en", "Europe/Madrid", name_zone=True) == "tomorrow by 4:00 AM (CEST)"
    assert format_eta(eta, now, "es", "America/New_York", name_zone=True) == "hoy antes de las 22:00 (EDT)"
    assert format_eta(eta, now, "pt", "America/Sao_Paulo", name_zone=True) == "hoje até as 23:00 (UTC-03)"
    assert format_eta(eta, now, "en", "Asia/Kathmandu", name_zone=True) == "today by 7:45 AM (UTC+05:45)"
    assert format_eta(eta, now, "de", "UTC", name_zone=True) == "morgen bis 02:00 Uhr (UTC)"
    winter = datetime(2025, 12, 1, 20, 0, tzinfo=UTC)
    assert format_eta(winter + timedelta(hours=13), winter, "en", "Europe/Berlin", name_zone=True) == \
        "tomorrow by 10:00 AM (CET)"
    # "in about 20 minutes" needs no zone
    assert format_eta(now + timedelta(minutes=20), now, "en", "Europe/Madrid", name_zone=True) == "in about 20 minutes"
