"""Order numbers customers write in messages: "#1001", "order 1001", "pedido 1001", "Bestellung 1001".

One small extractor for the languages the desk serves (en, es, pt, de, tr, id, sk/cs). A bare number
without a keyword is not an order number (phone numbers, amounts and dates are numbers too).
"""

from __future__ import annotations

import re

# The word for "order" in each language, and the words "number" / "no." that may follow it.
_KEYWORDS = (
    r"order|orders|pedido|encomenda|bestellung|bestellnummer|auftrag|sipari[şs]|pesanan|objedn[áa]vka|"
    r"objedn[áa]vky|objedn[áa]vku|n[áa]kup"
)
_NUMBER_WORDS = r"(?:number|no\.?|nr\.?|n[º°o]\.?|num\.?|n[úu]mero|nummer|numaras[\u0131i]|nomor|[čc](?:[íi]slo|\.)|#)"
_PATTERN = re.compile(
    rf"(?:(?<![\w#])#\s?(?P<hash>\d{{3,12}})\b)"
    rf"|(?:\b(?:{_KEYWORDS})\b\s*(?:{_NUMBER_WORDS}\s*)?[:#]?\s*(?P<word>\d{{3,12}})\b)",
    re.IGNORECASE | re.UNICODE,
)


def order_numbers(text: str | None, limit: int = 5) -> list[str]:
    """Order numbers named in ``text``, in order of appearance, without duplicates, digits only."""
    if not text:
        return []
    found: list[str] = []
    for match in _PATTERN.finditer(text):
        raw = match.group("hash") or match.group("word")
        digits = re.sub(r"\D", "", raw)
        if digits and digits not in found:
            found.append(digits)
        if len(found) >= limit:
            break
    return found
