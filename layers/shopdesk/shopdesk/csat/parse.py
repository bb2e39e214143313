"""A customer's answer to the satisfaction survey, understood as a score from 1 to 5 with an optional comment.

The scale: 1 very bad, 2 bad, 3 so-so, 4 good, 5 very good or excellent. What counts as an answer:

- a button's payload (``csat:4``), sent by the channels that have buttons;
- a digit 1–5 at the start (``4``, ``4/5``, ``4 out of 5``, ``4 stars``, ``nota 4``, ``4, thanks``); a digit
  followed by other words only when they are a rating or thanks word or a separator came first, so
  "2 items missing" is a message, not a rating;
- stars (``⭐⭐⭐``), counted;
- words in the seven customer languages (en, es, pt, de, tr, id, sk), matched after folding case and
  diacritics (customers type "vyborne" as often as "výborné"), longest phrase first, with intensifiers
  ("very good", "muy bueno", "çok iyi" → 5; "very bad" → 1) and negation ("not good", "nicht gut",
  "iyi değil", "tidak bagus", "kurang bagus" → 2; "not bad", "fena değil" → 3);
- an emoji face or hand.

A message with a question mark (unless it starts with a digit, stars or a button), or a long message
without a rating in its first words, is not an answer: the caller treats it as a new message. Anything
beyond the rating itself is kept as the comment.

Written here, not taken from a library: no maintained package rates short replies in these languages
(sentiment libraries score polarity, not a 1–5 answer, and mostly in English). The word lists were
written from the languages, not from the evaluation set (``tests/eval/csat_replies.jsonl``), which
``bench.csat`` measures them on.
"""

# ruff: noqa: RUF001, RUF002 - customer words and emoji in seven languages on purpose

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_WORDS = 8            # a rating word further in than this is part of a story, not an answer

# Phrases after folding (lower case, no diacritics, Turkish dotless i as i), with their score.
_WORDS: dict[int, str] = {
    1: """terrible awful horrible dreadful worst useless disgusting appalling
          pesimo fatal horroroso malisimo
          pessimo horrivel terrivel
          schrecklich katastrophal furchtbar grauenhaft miserabel unterirdisch
          berbat rezalet felaket
          parah buruk_sekali jelek_sekali mengecewakan
          hrozne hrozny strasne strasny katastrofa otrasne""",
    2: """bad poor disappointing disappointed unhappy unsatisfied dissatisfied
          malo mala mal decepcionante insatisfecho
          ruim mau fraco decepcionado insatisfeito
          schlecht enttauschend enttauscht unzufrieden mangelhaft
          kotu fena memnun_degilim yetersiz
          buruk jelek kecewa
          zle zly slabe sklamany nespokojny""",
    3: """ok okay fine average meh mediocre so_so alright acceptable
          regular normal mas_o_menos aceptable
          razoavel mais_ou_menos medio aceitavel
          mittelmassig geht_so naja durchschnittlich befriedigend
          orta idare_eder eh_iste vasat
          lumayan biasa biasa_saja cukup oke
          priemerne ujde_to v_poriadku da_sa""",
    4: """good nice satisfied happy pleased
          bueno buena bien satisfecho contento
          bom boa satisfeito contente gostei
          gut zufrieden prima
          iyi guzel memnun memnunum
          bagus baik puas
          dobre dobry spokojny pekne""",
    5: """excellent great perfect amazing awesome fantastic outstanding superb brilliant wonderful
          excelente genial perfecto estupendo increible maravilloso buenisimo
          otimo excelente perfeito maravilhoso incrivel sensacional
          ausgezeichnet hervorragend perfekt toll klasse exzellent wunderbar
          mukemmel harika super muthis
          mantap luar_biasa sempurna hebat keren memuaskan
          vyborne vyborny skvele skvely perfektne perfektny uzasne""",
}
_INTENSIFIERS = {"very", "really", "so", "extremely", "super", "muy", "muito", "sehr", "cok", "sangat", "amat",
                 "velmi", "bem", "realmente", "wirklich", "gercekten", "sekali"}
_NEGATORS = {"not", "no", "nicht", "nao", "tidak", "kurang", "nie", "ne", "nada", "kein", "keine", "gak", "nggak"}
_POSTPOSED_NEGATORS = {"degil", "degildi"}                    # Turkish: "iyi değil"
_THANKS = {"thanks", "thank", "thx", "gracias", "obrigado", "obrigada", "danke", "tesekkurler", "tesekkur",
           "sagol", "makasih", "terima", "dakujem", "vdaka", "merci", "cheers"}
_STAR_WORDS = {"star", "stars", "estrella", "estrellas", "estrela", "estrelas", "stern", "sterne", "sternen",
               "yildiz", "bintang", "hviezdicka", "hviezdicky", "hviezdiciek", "hviezdy", "points", "puan"}
_PREFIX_WORDS = {"nota", "rating", "puan", "score", "note", "nilai", "hodnotenie", "bewertung"}
_FILLERS = {"it", "was", "is", "its", "all", "everything", "the", "service", "es", "fue", "todo", "foi", "e",
            "tudo", "war", "alles", "hepsi", "semua", "bolo", "je", "vsetko"}
_EMOJI: dict[str, int] = {}
for _score, _chars in {1: "😡🤬😠💩", 2: "😞😟☹🙁👎😒😕😢😭", 3: "😐😶🤷😑",
                       4: "🙂👍😊👌☺", 5: "😀😃😄😁😍🥰🤩❤💯🥳💖👏"}.items():
    for _char in _chars:
        _EMOJI[_char] = _score
_STARS = "⭐★🌟"
_PRESENTATION = re.compile("[\ufe0e\ufe0f\u200d]")      # emoji variation selectors and joiners
_BUTTON = re.compile(r"^csat:([1-5])$")
_LEADING_DIGIT = re.compile(r"^\s*(?:(?P<prefix>[^\W\d]+)\s*[:=]?\s*)?(?P<digit>[1-5])(?![\d.,]\d)"
                            r"(?P<scale>\s*(?:/|von|de|dari|z|out\s+of|of)\s*5)?(?P<rest>.*)$", re.DOTALL)


def _phrases() -> dict[tuple[str, ...], int]:
    table: dict[tuple[str, ...], int] = {}
    for score, words in _WORDS.items():
        for word in words.split():
            table.setdefault(tuple(word.split("_")), score)
    return table


_PHRASES = _phrases()
_LONGEST = max(len(p) for p in _PHRASES)


@dataclass(frozen=True)
class Rating:
    score: int
    comment: str | None
    source: str              # "button", "digit", "stars", "word" or "emoji"


def fold(text: str) -> str:
    text = text.replace("ı", "i").replace("İ", "i")
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _words(folded: str) -> list[str]:
    return re.findall(r"[^\W\d_]+", folded)


def parse_rating(text: str) -> Rating | None:
    raw = _PRESENTATION.sub("", text or "").strip()
    if not raw:
        return None
    if button := _BUTTON.match(raw):
        return Rating(int(button.group(1)), None, "button")
    folded = fold(raw)
    for find in (_from_stars, _from_digit, _from_words, _from_emoji):
        if found := find(raw, folded):
            return found
    return None


def _says_more(text: str, used: set[str]) -> bool:
    """Whether the reply says more than its rating: words other than those of the rating itself."""
    return any(w not in used and w not in _INTENSIFIERS and w not in _STAR_WORDS and w not in _FILLERS
               and w not in _PREFIX_WORDS for w in _words(fold(text)))


def _from_stars(raw: str, folded: str) -> Rating | None:
    stripped = raw.lstrip()
    count = 0
    while count < len(stripped) and stripped[count] in _STARS:
        count += 1
    if not 1 <= count <= 5 or (count < len(stripped) and stripped[count] in _STARS):
        return None
    return Rating(count, raw if _says_more(stripped[count:], set()) else None, "stars")


def _from_digit(raw: str, folded: str) -> Rating | None:
    match = _LEADING_DIGIT.match(folded)
    if not match or (match.group("prefix") and match.group("prefix") not in _PREFIX_WORDS):
        return None
    rest = match.group("rest")
    after = _words(rest)
    words_follow = not match.group("scale") and rest.lstrip()[:1].isalnum()
    if words_follow and not (after and (after[0] in _STAR_WORDS or after[0] in _THANKS or _phrase_at(after, 0))):
        return None                                     # "2 items missing": a count, not a rating
    return Rating(int(match.group("digit")), raw if _says_more(rest, set()) else None, "digit")


def _phrase_at(words: list[str], i: int) -> tuple[int, int] | None:
    """(score, length) of the longest phrase starting at ``words[i]``."""
    for length in range(min(_LONGEST, len(words) - i), 0, -1):
        score = _PHRASES.get(tuple(words[i:i + length]))
        if score is not None:
            return score, length
    return None


def _from_words(raw: str, folded: str) -> Rating | None:
    if "?" in folded:                                    # "is it good quality?" asks, it does not rate
        return None
    words = _words(folded)
    for i in range(min(len(words), MAX_WORDS)):
        found = _phrase_at(words, i)
        if found is None:
            continue
        score, length = found
        used = set(words[i:i + length])
        before = words[i - 1] if i else None
        after = words[i + length] if i + length < len(words) else None
        if before in _NEGATORS or after in _POSTPOSED_NEGATORS or (
                i >= 2 and words[i - 2] in _NEGATORS and before in _INTENSIFIERS):
            score = 2 if score >= 4 else 3 if score <= 2 else 2
            used |= {w for w in (before, after, words[i - 2] if i >= 2 else None) if w}
        elif before in _INTENSIFIERS:
            score = 5 if score == 4 else 1 if score == 2 else score
            used.add(before)
        elif after in _INTENSIFIERS and after == "sekali":          # Indonesian: "bagus sekali"
            score = 5 if score == 4 else 1 if score == 2 else score
            used.add(after)
        return Rating(score, raw if _says_more(raw, used) else None, "word")
    return None


def _from_emoji(raw: str, folded: str) -> Rating | None:
    for char in raw[:40]:
        if char in _EMOJI:
            if "?" in raw:
                return None
            return Rating(_EMOJI[char], raw if _says_more(raw, set()) else None, "emoji")
    return None
