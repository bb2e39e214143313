"""Amazon Comprehend as the sentiment back-end, where a deployment configures it (``SENTIMENT_BACKEND=comprehend``).

Comprehend's ``DetectSentiment`` knows English, Spanish, Portuguese, German, French, Italian, Arabic, Hindi,
Japanese, Korean and Chinese: of the shop's seven languages it covers en, es, pt, de, not tr, id or sk. For
those, and whenever Comprehend is unreachable, throttled or answers ``MIXED``, this answers None and the
offline cue lists keep their answer (shopdesk.understanding.analyse.use_sentiment): Comprehend is never the
only path. The offline emotion, urgency and intents are kept in every case.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from shopdesk.understanding import Sentiment

logger = Logger(child=True)

LANGUAGES = frozenset({"en", "es", "pt", "de", "fr", "it", "ar", "hi", "ja", "ko", "zh", "zh-TW"})
MAX_BYTES = 5000           # DetectSentiment's limit on the UTF-8 text
_MAPPING: dict[str, Sentiment] = {"POSITIVE": "positive", "NEGATIVE": "negative", "NEUTRAL": "neutral"}


class ComprehendSentiment:
    """``fn(text, language) -> Sentiment | None`` over Comprehend's ``DetectSentiment``."""

    def __init__(self, client: Any = None) -> None:
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:                 # created on first use: no cost on a cold start without messages
            import boto3

            self._client = boto3.client("comprehend")
        return self._client

    def __call__(self, text: str, language: str | None) -> Sentiment | None:
        if language not in LANGUAGES or not text.strip():
            return None
        clipped = text.encode("utf-8")[:MAX_BYTES].decode("utf-8", errors="ignore")
        try:
            answer = self.client.detect_sentiment(Text=clipped, LanguageCode=language)
        except Exception:                        # throttled, unreachable, not allowed: the offline answer stands
            logger.warning("Comprehend sentiment unavailable; the offline answer is kept", exc_info=True)
            return None
        return _MAPPING.get(str(answer.get("Sentiment")))


def configure(backend: str) -> None:
    """Choose the sentiment back-end once per cold start: ``offline`` (default) or ``comprehend``."""
    from shopdesk.understanding import analyse

    if backend == "comprehend":
        analyse.use_sentiment(ComprehendSentiment())
    elif backend == "offline":
        analyse.use_sentiment(None)
    else:
        raise ValueError(f"SENTIMENT_BACKEND must be offline or comprehend, not {backend!r}")
