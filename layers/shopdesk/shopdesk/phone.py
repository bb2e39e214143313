"""Phone numbers in E.164 (Google's libphonenumber, as the ``phonenumbers`` package), so the same person on
SMS, WhatsApp, a shop's order and an email signature is one customer.

A provider address is international already (``whatsapp:+31 6 1234 5678``, ``0031...``); a number a
customer typed in a shop's checkout or a message is often national (``06 12345678``) and resolves with
the shop's default region (``DEFAULT_PHONE_REGION``, an ISO 3166 code such as ``NL``).
"""

from __future__ import annotations

import re

import phonenumbers

_PREFIX = re.compile(r"^[a-z]+:", re.IGNORECASE)     # channel prefix: whatsapp:, sms:, tel:
_WRITTEN = re.compile(r"[+\d\s().\-/]+")               # digits and separators (no vanity letters, no extension)
MAX_INPUT = 64                                        # no phone number is longer; libphonenumber caps at 250
MAX_FOUND = 5                                         # numbers taken from one text

_shop_region: str | None = None


def use_shop_region(region: str | None) -> None:
    """The country of the shop's national numbers (settings' ``DEFAULT_PHONE_REGION``), set once per cold start
    by the functions that read the shop platform's records (``shop_phone``)."""
    global _shop_region
    _shop_region = region.upper() if region else None


def shop_phone(raw: str) -> str | None:
    """A phone number from the shop platform (an order, a customer record), national ones read in the shop's
    region: ``06 12345678`` on a Dutch shop's order is the ``+31612345678`` of the customer's WhatsApp."""
    return to_e164(raw, _shop_region)


def to_e164(raw: str, region: str | None = None) -> str | None:
    """Normalise ``raw`` to E.164, or None when it is not a possible phone number. Without ``region`` only
    an international number (``+`` or ``00``) is accepted; with it, a national one resolves in that region."""
    value = _PREFIX.sub("", raw.strip(), count=1).strip()
    if not value or len(value) > MAX_INPUT or not _WRITTEN.fullmatch(value):
        return None
    if value.startswith("00") and region is None:
        value = "+" + value[2:]
    try:
        number = phonenumbers.parse(value, region.upper() if region else None)
    except phonenumbers.NumberParseException:
        return None
    if not number.extension and not phonenumbers.is_possible_number(number):
        number = _without_mexicos_mobile_one(number)
    if number.extension or not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _without_mexicos_mobile_one(number: phonenumbers.PhoneNumber) -> phonenumbers.PhoneNumber:
    """A Mexican mobile as WhatsApp still writes it, ``+52 1`` and ten digits: the ``1`` Mexico dropped from dialling
    mobiles in 2019, which libphonenumber no longer takes, is left out (the same customer then on SMS and WhatsApp;
    replies go to the address the provider gave). Any other number as it was."""
    national = str(number.national_number)
    if number.country_code == 52 and len(national) == 11 and national.startswith("1"):
        return phonenumbers.PhoneNumber(country_code=52, national_number=int(national[1:]))
    return number


def find_phones(text: str, region: str | None) -> list[str]:
    """Valid phone numbers written in ``text`` (a signature, "call me on 06 1234 5678"), in E.164, at most
    ``MAX_FOUND``. Stricter than ``to_e164``: a number in prose must be a valid number, not a possible one."""
    found: list[str] = []
    for match in phonenumbers.PhoneNumberMatcher(text[:10000], region.upper() if region else None,
                                                 leniency=phonenumbers.Leniency.VALID, max_tries=50):
        e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        if e164 not in found:
            found.append(e164)
        if len(found) >= MAX_FOUND:
            break
    return found
