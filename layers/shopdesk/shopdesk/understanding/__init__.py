"""Understanding one customer message: its language, sentiment, emotion, urgency and intents.

    from shopdesk.understanding import understand
    u = understand("¿Dónde está mi pedido? Lo necesito mañana", hints=["es-ES"])
    u.language, u.sentiment, u.urgent, u.intents      # 'es', 'negative'|'neutral'|..., True, {'order_status'}

Everything runs offline in the function that calls it (no network, no model download at run time).
``hints`` are what a provider, browser or mail client says of the customer's language from its own settings (a
Telegram app's ``language_code``, a browser's ``Accept-Language``, an email's ``Content-Language``): the interface's
language, not the text's. The first naming a supported language decides only where the text does not (no language,
or one below the confidence a conversation takes a language at, ``language.SURE``) or agrees with it; a text sure of
another language keeps it.

Intents come from a fixed vocabulary (``INTENTS``); every language in ``LANGUAGES`` is recognised.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

Sentiment = Literal["negative", "neutral", "positive"]

LANGUAGES: tuple[str, ...] = ("en", "es", "pt", "de", "tr", "id", "sk")
INTENTS: frozenset[str] = frozenset({
    "human",            # asks for a person
    "order_status",     # where is my order
    "legal",            # lawyer, court, consumer authority, chargeback threats
    "safety",           # injury, fire, burns, choking, allergic reaction
    "payment_account",  # hacked account, unknown charge, card stolen, fraud
    "not_helpful",      # the answer did not help
    "yes",
    "no",
    "thanks",
})
URGENCY_REASONS: frozenset[str] = frozenset({"deadline", "safety", "money", "explicit"})


@dataclass(frozen=True)
class Understanding:
    """What shopdesk understood of one inbound message."""

    language: str | None = None                 # ISO 639-1; None when the text says too little
    language_confidence: float = 0.0            # 0..1; 1.0 when a hint decided or agreed with the text
    sentiment: Sentiment = "neutral"
    emotion: str | None = None                  # "anger", "frustration", or None
    urgent: bool = False
    urgency_reasons: list[str] = field(default_factory=list)    # subset of URGENCY_REASONS, sorted
    intents: frozenset[str] = frozenset()       # subset of INTENTS

    @property
    def negative(self) -> bool:
        return self.sentiment == "negative"


def understand(text: str, hints: Sequence[str | None] = ()) -> Understanding:
    """Language, sentiment, emotion, urgency and intents of one customer message."""
    from shopdesk.understanding.analyse import analyse

    return analyse(text, hints)


__all__ = ["INTENTS", "LANGUAGES", "URGENCY_REASONS", "Sentiment", "Understanding", "understand"]
