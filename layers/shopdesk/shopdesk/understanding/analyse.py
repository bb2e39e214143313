"""One message understood: language first, then the cues of that language (shopdesk.understanding.cues).

- **Intents**: a category's cue found in the message (``yes`` and ``no`` only at its start).
- **Emotion**: ``anger`` when an anger cue is found, or the message shouts (two words in capitals, or one of
  five letters or more, or ``!!``) about something negative: one short word in capitals is a carrier or a
  code (``DHL``, ``UPS``, ``PDF``), not a raised voice; else ``frustration`` when a frustration cue is found in
  a negative message; else None.
- **Sentiment**: negative evidence (negative cues; the legal, safety, payment-account and not-helpful
  intents; an emotion) against positive evidence (positive cues, thanks). More negative than positive is
  negative; more positive is positive; neither is neutral. A bare ``yes``/``no`` is neutral.
- **Urgency**: ``explicit`` (urgent, asap, dringend, acil...), ``deadline`` (today, tomorrow, by Friday, a
  wedding or a flight), ``safety`` (the safety intent) and ``money`` (an account or card misused now: the
  payment-account intent with a theft or intrusion, not a double charge waiting for its refund). Any reason
  makes the message urgent, except a deadline in a message that only thanks (``thanks, see you tomorrow``).

Amazon Comprehend can replace the sentiment (``shopdesk.understanding.comprehend``) where configured, for
the languages it supports; everything else stays as here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from shopdesk.understanding import INTENTS, LANGUAGES, Sentiment, Understanding
from shopdesk.understanding import cues as cue_lists
from shopdesk.understanding import language as lid

INTENT_NEGATIVE = ("legal", "safety", "not_helpful")
_CAPS_WORD = re.compile(r"\b[^\W\d_]*[A-ZÁÉÍÓÚÄÖÜÇĞŞİČŠŽŤĎĽŇÔ]{3,}[^\W\d_]*\b")
_THEFT = ("stolen", "steal", "hack", "logged", "fraud", "scam", "unauthori", "phishing", "robaron", "robo",
          "robada", "hackea", "entrado", "entro", "fraude", "estafa", "roubaram", "roubado", "invadi", "clonad",
          "golpe", "gestohlen", "gehackt", "eingeloggt", "betrug", "calindi", "calinti", "hesabima", "hackl",
          "dolandiric", "dicuri", "dibobol", "masuk ke akun", "diretas", "penipuan", "ukradli", "ukradnut",
          "hacknut", "prihlasil", "podvod", "sahtekar", "tanpa sepengetahuan")

# The sentiment back-end: the offline cues by default; shopdesk.understanding.comprehend can replace it.
SentimentFn = Callable[[str, str | None], Sentiment | None]
_sentiment_override: SentimentFn | None = None


def use_sentiment(fn: SentimentFn | None) -> None:
    """Use ``fn(text, language)`` for sentiment where it answers (None: keep the offline answer)."""
    global _sentiment_override
    _sentiment_override = fn


def _languages_for(language: str | None, confidence: float) -> list[str]:
    """Whose cues to read: the message's language's; every language's too when the detector is unsure of it
    (a short message in a language it mistook) or the language is not one of ours."""
    if language in cue_lists.CUES and confidence >= lid.CONFIDENT:
        return [language]
    return [language, *(code for code in LANGUAGES if code != language)] if language in cue_lists.CUES \
        else list(LANGUAGES)


def analyse(text: str, hints: Sequence[str | None] = ()) -> Understanding:
    from shopdesk.logic.language import language_from_hints

    text = text or ""
    folded = cue_lists.fold(text[:lid.MAX_CHARS])
    detected = lid.with_weak_hint(lid.detect(text, LANGUAGES, cue_languages=cue_lists.languages_with),
                                  language_from_hints(hints))
    language, confidence = detected.language, detected.confidence
    languages = _languages_for(language, confidence)
    found = cue_lists.found(folded, languages)
    if language != "en":              # English courtesy words in any language: "thx", "ok thanks"
        for category, hits in cue_lists.found(folded, ["en"], ("thanks", "positive")).items():
            found.setdefault(category, []).extend(hits)
    intents = frozenset(c for c in found if c in INTENTS)
    if intents & {"yes", "no"} == {"yes", "no"}:
        intents -= {"yes"}              # "no, not yet" read by two lists: the first word decides

    negative = len(found.get("negative", ())) + sum(1 for i in INTENT_NEGATIVE if i in intents)
    negative += 1 if "payment_account" in intents else 0
    positive = len(found.get("positive", ())) + (1 if "thanks" in intents else 0)
    capitals = _CAPS_WORD.findall(text)
    shouting = (len(text) > 12 and (len(capitals) >= 2 or any(len(w) >= 5 for w in capitals))) or "!!" in text
    emotion = None
    if found.get("anger") or (shouting and negative):
        emotion = "anger"
    elif found.get("frustration") and negative:
        emotion = "frustration"
    if emotion is not None:
        negative += 1
    sentiment: Sentiment = "neutral"
    if negative > positive:
        sentiment = "negative"
    elif positive > negative:
        sentiment = "positive"
    if _sentiment_override is not None:
        sentiment = _sentiment_override(text, language) or sentiment

    reasons = set()
    if found.get("urgent"):
        reasons.add("explicit")
    if found.get("deadline") and not (intents <= {"thanks", "yes", "no"} and positive > 0 and negative == 0):
        reasons.add("deadline")
    if "safety" in intents:
        reasons.add("safety")
    if "payment_account" in intents and any(t in folded for t in _THEFT):
        reasons.add("money")
    return Understanding(language=language, language_confidence=confidence, sentiment=sentiment,
                         emotion=emotion, urgent=bool(reasons), urgency_reasons=sorted(reasons),
                         intents=intents)

