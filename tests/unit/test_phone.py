"""Phone numbers to E.164, so the same person on SMS and WhatsApp is one customer."""

from __future__ import annotations

import pytest

from shopdesk.phone import to_e164


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
    ("+1234567", "+1234567"),                    # shortest: country digit + 6
    ("+123456789012345", "+123456789012345"),    # longest: 15 digits
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
