"""What a message after the end of a conversation is: one that only thanks or closes ("thanks!", "Perfecto,
gracias", "👍"), sent after the conversation was resolved, is kept on it instead of opening another for an agent
(``shopdesk.logic.ingest``); one that asks for something (``asks``) must reach a person, never sit on a resolved
conversation as a survey's comment (``shopdesk.csat.answer``).

Conservative on purpose: a request kept unseen on a resolved conversation costs a customer their answer, a
thank-you that opens a conversation costs an agent one click. So a message only thanks when it

- has a thanks cue (``shopdesk.understanding.cues``, in any of the seven languages) or is only closing emojis;
- asks nothing (no question mark), has no cue of a complaint, an emotion, a request for a person, an order
  question, a legal, safety or payment matter, or a "no", and no unhappy emoji;
- is short (``MAX_WORDS``), and once its thanks, positive and "yes" cues are taken out, every word left is one of
  the small words of politeness below (pronouns, articles, intensifiers, greetings and sign-offs), never a word
  about an order, a product or a problem.

Why written here and not a library: the cue lists are ours (cues.py says why); this is their use for one
question. Measured on ``tests/eval/thanks_after_resolve.jsonl`` (written before this module) by
``python -m bench.thanks``.
"""

from __future__ import annotations

import re

from shopdesk.understanding import cues

MAX_WORDS = 12
_QUESTION = re.compile(r"[?¿]")
_UNHAPPY = frozenset("😡🤬😠💩😞😟☹🙁👎😒😕😢😭😤😩")
_CLOSING = frozenset("🙏👍👌🙂😊😀😃😄😁😍🥰🤩❤💯🥳💖👏✅🤗😘")
_EMOJI_NOISE = re.compile("[\ufe0e\ufe0f\u200d\U0001f3fb-\U0001f3ff]")      # variation selectors, skin tones
_REQUESTS = ("human", "order_status", "legal", "safety", "payment_account", "urgent")     # what asks for a person
_STOPPERS = (*_REQUESTS, "not_helpful", "no", "negative", "anger", "frustration")      # what is more than thanks
_TAKEN_OUT = ("thanks", "positive", "yes")
# the small words of politeness left around a thank-you, folded (lower case, no accents), per language
_POLITE_WORDS = """
    you u ya yall so much very really a lot lots the your for all of and it that guys team everyone everybody help
    ok okay k kk alright oh ah well now got received noted understood have nice good day evening weekend one
    bye goodbye regards best kind hi hello hey again
    muchas muchisimas mil por la el tu su todo toda todos vale bueno ok un una saludo saludos buen buenas dia
    tarde noche chao adios hola igualmente recibido entendido de nuevo ayuda
    muito muita muitos pela pelo por a o e tudo ta beleza blz bom boa dia tarde noite abraco abracos ola oi
    recebido entendido tchau ajuda
    sehr vielen vielmals fur die der das ihre ihr deine dein alles klar gut ok schon schonen tag abend gruss
    grusse lg viele hallo tschuss erhalten verstanden nochmals hilfe
    cok cokcok ederim ederiz size sana iyi gunler aksamlar tamam selam merhaba hersey icin yardim yardiminiz
    banyak kak ka mas mbak gan sis ya oke ok sama sama selamat pagi siang sore malam salam baik atas bantuannya
    bantuan nya
    pekne velmi vam ti za vsetko dobre ok dakujeme pozdrav pozdravujem dobry den vecer ahoj super pomoc
"""
_POLITE = frozenset(_POLITE_WORDS.split())
# "again" is a frustration cue ("broke again"): after a thanks it is politeness only when nothing else is left
_TAKEN_WITH_THANKS = frozenset({"again"})


def _has(folded: str, categories: tuple[str, ...]) -> bool:
    """Whether a cue of ``categories`` of any language is in ``folded``."""
    return bool(cues.found(folded, cues.CUES, categories))


def only_thanks(text: str | None) -> bool:
    """Whether ``text`` only thanks or closes (module docstring)."""
    if not text or _QUESTION.search(text):
        return False
    text = _EMOJI_NOISE.sub("", text)
    if any(c in _UNHAPPY for c in text):
        return False
    words = re.findall(r"\w+", text)
    if len(words) > MAX_WORDS:
        return False
    if not words:                      # emojis alone: only closing ones
        symbols = [c for c in text if not c.isspace() and c not in ".,!;:-~…"]
        return bool(symbols) and all(c in _CLOSING for c in symbols)
    folded = cues.fold(text)
    if not _has(folded, ("thanks",)):
        return False
    rest = folded
    for language in cues.CUES:
        for category in _TAKEN_OUT:
            if (pattern := cues.compiled(language, category)) is not None:
                rest = pattern.sub(" ", rest)
    if any(w not in _POLITE for w in re.findall(r"\w+", rest)):
        return False
    return not _has(" ".join(w for w in re.findall(r"\w+", folded) if w not in _TAKEN_WITH_THANKS), _STOPPERS)


def asks(text: str | None) -> bool:
    """Whether ``text`` asks for something a person must see: a question, or a cue (in any of the seven languages)
    of an order question, a request for a person, a legal, safety or payment matter, or urgency ("my other order
    hasn't arrived", "I need to speak to someone"). A remark about the help ("the courier was late though") does
    not."""
    if not text or not text.strip():
        return False
    if _QUESTION.search(text):
        return True
    return _has(cues.fold(text), _REQUESTS)
