"""Phone numbers in E.164, so the same person on SMS and WhatsApp is one customer."""

from __future__ import annotations

import re

_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_SEPARATORS = re.compile(r"[\s().\-/]")


def to_e164(raw: str) -> str | None:
    """Normalise a provider address (``whatsapp:+31 6 1234 5678``, ``0031...``) to E.164, or None."""
    value = raw.strip()
    if ":" in value:                       # channel prefix: whatsapp:, sms:, tel:
        value = value.split(":", 1)[1]
    value = _SEPARATORS.sub("", value)
    if value.startswith("00"):
        value = "+" + value[2:]
    return value if _E164.match(value) else None
