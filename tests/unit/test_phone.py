"""Phone numbers to E.164 (libphonenumber), so the same person on SMS, WhatsApp, a shop's order and an email
signature is one customer."""

from __future__ import annotations

import pytest

from shopdesk.phone import find_phones, to_e164


@pytest.mark.parametrize(("raw", "expected"), [
    ("+31612345678", "+31612345678"),
    ("whatsapp:+31612345678", "+31612345678"),
    ("WhatsApp:+31612345678", "+31612345678"),
    ("sms:+14155550100", "+14155550100"),
    ("tel:+14155550100", "+14155550100"),
    ("+31 6 1234 5678", "+31612345678"),
    ("whatsapp:+31 6 1234 5678", "+31612345678"),
    ("+1 (415) 555-0100", "+14155550100"),
    ("+1.415.555.0100", "+14155550100"),
    ("+44 20/7946 0958", "+442079460958"),
    ("0031612345678", "+31612345678"),
    ("0031 6 12 34 56 78", "+31612345678"),
    ("  +31612345678\n", "+31612345678"),
    ("+49 30 901820", "+4930901820"),            # lengths are the country's own (Germany: short numbers)
    ("tel:+44-20-7946-0958", "+442079460958"),
])
def test_provider_addresses_normalise_to_e164(raw, expected):
    assert to_e164(raw) == expected


@pytest.mark.parametrize("raw", [
    "",
    "+",
    "whatsapp:",
    "31612345678",           # no international prefix: the country is unknown
    "0612345678",            # national format
    "+0612345678",           # country codes never start with 0
    "+123456",               # too short
    "+1234567",              # E.164's shape, but no possible number of country 1
    "+999 1234 5678",        # no such country code
    "+1234567890123456",     # 16 digits: too long
    "+31 6 CALL ME",
    "+1 415 555 0100 ext 5",
    "+31612345678#",
    "messenger:1234567890",
    "alice@example.com",
])
def test_what_is_not_a_phone_number_gives_none(raw):
    assert to_e164(raw) is None


@pytest.mark.parametrize("raw", [
    "+3\u0661\u0666\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668",   # Arabic-Indic digits
    "+3\uff11\uff16\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18",   # fullwidth digits
])
def test_non_ascii_digits_never_pass_as_e164(raw):
    # Given a number whose digits after the first are not ASCII
    result = to_e164(raw)
    # Then the result is either refused or real E.164 (ASCII digits only): never a key that looks
    # like a phone number but can match no other channel's address
    assert result is None or (result.isascii() and result == "+31612345678")


@pytest.mark.parametrize(("raw", "region", "expected"), [
    ("06 12345678", "NL", "+31612345678"),          # a national number on a Dutch shop's order
    ("(06) 1234-5678", "nl", "+31612345678"),
    ("020 7946 0958", "GB", "+442079460958"),
    ("+31 6 1234 5678", "GB", "+31612345678"),      # an international number ignores the region
    ("0031 6 1234 5678", "DE", "+31612345678"),     # so does one dialled with an international prefix
    ("(415) 555-0100", "US", "+14155550100"),
])
def test_national_numbers_resolve_in_the_default_region(raw, region, expected):
    assert to_e164(raw, region) == expected


def test_a_national_number_without_a_region_is_refused():
    assert to_e164("06 12345678") is None


def test_numbers_written_in_a_message_are_found_in_e164():
    # Given an email signature with a national and an international number, and digits that are not phones
    text = "Thanks!\nAnna\nMobile: 06 1234 5678 | Office +44 20 7946 0958\nOrder #1001, 2 items, 12-10-2026"
    # Then both phone numbers are found, each once, and nothing else
    assert find_phones(text + "\nCall 06-12345678", "NL") == ["+31612345678", "+442079460958"]


def test_found_numbers_are_capped():
    text = " ".join(f"+31 6 1234 56{n:02d}" for n in range(20))
    assert len(find_phones(text, None)) == 5


@pytest.mark.parametrize(("raw", "expected"), [
    ("whatsapp:+5215512345678", "+525512345678"),   # Mexico City mobile as WhatsApp writes it (wa_id 5215512345678)
    ("+52 1 33 1234 5678", "+523312345678"),        # Guadalajara, spaced
    ("+525512345678", "+525512345678"),             # as Mexico dials it since 2019: unchanged
    ("+5491123456789", "+5491123456789"),           # Argentina's mobile 9 is part of the number: unchanged
])
def test_a_mexican_mobile_with_the_old_1_is_the_number_without_it(raw, expected):
    assert to_e164(raw) == expected
