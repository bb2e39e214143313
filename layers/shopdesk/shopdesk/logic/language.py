"""Which language a customer writes in: a small, deterministic detector for the automatic acknowledgement.

``detect_language(text, hints)`` answers an ISO 639-1 code (``en``, ``es``, ``pt``, ``de``, ``tr``, ``id``,
``sk``) or None when it is unsure; the caller then falls back to the shop's default language.

1. **Hints first.** What a provider or browser says about the customer (a Messenger locale ``pt_BR``, a
   Telegram ``language_code`` ``de``, a widget's ``Accept-Language: tr-TR,tr;q=0.9,en;q=0.8``) wins over
   the text, in the order given; within an Accept-Language list the highest ``q`` wins. A hint naming a
   language we do not support is skipped, so ``fr-FR,en;q=0.5`` answers ``en``.
2. **Otherwise the text is scored.** URLs, e-mail addresses, @mentions, order numbers (anything with a
   digit) and emoji are removed; every remaining word adds evidence to the languages it belongs to:

   - a word from a language's list of frequent function, courtesy and shopping words adds 1, shared
     equally between the languages that list it (``de`` is Spanish, Portuguese, Turkish and Dutch: 1/4 each);
   - a listed word written without its accents (``dakujem``, ``tesekkurler``, ``nao``) counts 0.8 of that;
   - a word one typo away from a listed word of six letters or more (``grasias``, ``bestelung``) adds 0.5;
   - a characteristic letter (ñ ¿ ¡, ã õ, ß, ğ ş ı İ, č ď ľ ĺ ň ŕ š ť ž ý, and shared ones such as ä ö ü ç ô)
     adds 0.6, shared the same way;
   - a one-letter word (Spanish ``y``, Portuguese ``e``, Slovak ``v``) counts half;
   - a characteristic ending of an unlisted word (Turkish ``-iyor``, Indonesian ``-nya``) adds 0.3.

   The best language wins if it scored at least ``MIN_SCORE`` and at least ``MARGIN`` more than the
   runner-up; a tie or a close call answers None.
3. **Languages we recognise but do not answer in** (French, Italian, Dutch) compete in the scoring so
   that "Bonjour, où est ma commande ?" is not taken for Slovak (``ma``) or Spanish (``de``): when one
   of them wins, the answer is None, and their hints are skipped like any unsupported language.

Repeated letters (``holaaa``) are squeezed before matching.

The detector is extendable: ``register(LanguageProfile(...))`` adds or replaces a language.
Everything is pure and deterministic: no model, no network, no randomness.
"""

# ruff: noqa: RUF001, RUF002 - Turkish, Slovak and other customer text on purpose

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass, field
from functools import lru_cache

WORD = 1.0
FOLDED = 0.8
FUZZY = 0.5
CHAR = 0.6
SUFFIX = 0.3
SHORT = 0.5               # one-letter words (y, e, a, v): frequent but also initials and sizes
FUZZY_MIN = 6             # shorter words are too close to each other (veces/vocês) to forgive a typo
MIN_SCORE = 0.5
MARGIN = 0.25
MAX_CHARS = 4000          # a long e-mail says enough in its first few hundred words


def _normalise(word: str) -> str:
    word = unicodedata.normalize("NFC", word).replace("İ", "i").replace("’", "").replace("'", "")
    return word.lower()


def _fold(word: str) -> str:
    """The word without accents, the way people type on a phone without the right keyboard."""
    word = word.replace("ı", "i").replace("ß", "ss")
    decomposed = unicodedata.normalize("NFD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass(frozen=True)
class LanguageProfile:
    """What identifies one language: its code, the words and letters typical of it, and hint aliases."""

    code: str
    words: frozenset[str]
    chars: frozenset[str] = frozenset()
    suffixes: tuple[str, ...] = ()
    aliases: frozenset[str] = frozenset()        # other names of the language in hints: "in", "slk", "deutsch"
    answer: bool = True                          # False: recognised only so it is not mistaken for another

    @classmethod
    def build(cls, code: str, words: str, chars: str = "", suffixes: str = "", aliases: str = "",
              answer: bool = True) -> LanguageProfile:
        """A profile from whitespace-separated lists (aliases comma-separated); words are normalised like text."""
        return cls(code=code, words=frozenset(_normalise(w) for w in words.split()),
                   chars=frozenset(chars.replace(" ", "")), suffixes=tuple(suffixes.split()),
                   aliases=frozenset(a.strip().lower() for a in aliases.split(",") if a.strip()), answer=answer)


# ~40 function words per language, then the courtesy and shopping words customers write most.
_PROFILES = [
    LanguageProfile.build(
        "en",
        """the a an and or but is are was were be been am i me my mine you your it its this that these those
        to of for with on in at from by about not no do does did dont didnt doesnt cant wont isnt wasnt
        havent im ive have has had can could would will should what when where why how which who there
        here just still yet any some get got need want please thanks thank thx hi hello hey dear morning
        evening yes received ordered package delivery help pls plz asap sorry arrived anyone soon today tomorrow""",
        aliases="eng, english",
        suffixes="ing",
    ),
    LanguageProfile.build(
        "es",
        """a el la los las un una unos unas de del que y en es son por para con no mi mis tu su sus me te se
        lo le les pero muy ya está esta estoy están este esto cuando cuándo donde dónde qué como cómo
        porque hay sí usted ustedes hola gracias muchas buenas buenos días tardes noches pedido envío
        compra quiero necesito puedo tengo todavía aún llegó llega recibí favor ayuda ahora hoy mañana nada
        también sigue nadie saludos vale nunca hace dos vez veces fui fue perdón disculpe disculpa""",
        chars="ñ ¿ ¡ á é í ó ú",
        suffixes="ción ciones mente",
        aliases="spa, spanish, español, espanol, castellano",
    ),
    LanguageProfile.build(
        "pt",
        """o a os as um uma de do da dos das que e é em no na nos nas não por para pra com meu minha meus
        seu sua você vocês ele ela isso esse essa isto ainda já quando onde como olá oi obrigado obrigada
        obg bom boa dia tarde noite pedido encomenda compra entrega quero preciso posso tenho chegou
        está estou estão favor ajuda recebi hoje amanhã também porque mas muito tudo nada vc vcs tá
        gostaria produto rastreio troca nenhum alguém me duas vez vezes fui foi desculpa desculpe""",
        chars="ã õ ç á é í ó ú â ê ô à",
        suffixes="ção ções ão nho nha",
        aliases="por, portuguese, português, portugues",
    ),
    LanguageProfile.build(
        "de",
        """der die das den dem des ein eine einen einem und ist sind war ich mich mir mein meine meinen sie
        ihr ihre wir uns nicht kein keine noch schon auch aber oder mit von für auf bei zu wann wo wie was
        warum hallo danke bitte guten tag morgen bestellung paket lieferung habe hat haben wurde bis heute
        jetzt leider kann können möchte moin servus grüße gruß vielen dank sehr geehrte geehrter nur
        nein angekommen bestellt es in im am um gibt""",
        chars="ä ö ü ß",
        suffixes="ung ungen lich chen keit",
        aliases="deu, ger, german, deutsch",
    ),
    LanguageProfile.build(
        "tr",
        """ve bir bu şu o ne mi mı mu mü da de ile için ama çok daha gibi var yok ben sen siz bana size benim
        sizin neden nasıl nerede zaman kadar hala hâlâ henüz merhaba selam selamlar teşekkürler teşekkür
        ederim ederiz sağol sağolun iyi günler akşamlar sipariş siparişim siparişimi kargo kargom kargoya
        ürün ürünü iade gelmedi geldi lütfen rica abi hocam acaba bey hanım değil olur oldu bugün yarın
        hayır evet özür kusura""",
        chars="ğ ş ı İ ç ö ü â",
        suffixes="iyor ıyor uyor üyor iyorum ıyorum madı medi mıyor miyor lar ler",
        aliases="tur, turkish, türkçe, turkce",
    ),
    LanguageProfile.build(
        "id",
        """yang dan di ke dari ini itu saya aku anda kamu kak kakak gan min sis tidak tdk gak nggak ga
        enggak belum blm sudah udah sdh ada apa kapan mana dimana bagaimana gimana kenapa kok dengan untuk
        utk buat juga bisa mau akan sampai sampe halo hai terima kasih makasih trims selamat pagi siang sore
        malam pesanan paket barang kirim dikirim pengiriman resi tolong mohon dong nih sih deh lagi masih
        atau tapi karena ya nya maaf berapa banyak hari""",
        suffixes="nya kan",
        aliases="in, ind, indonesian, bahasa indonesia, indonesia",
    ),
    LanguageProfile.build(
        "sk",
        """a aj je som sme ste sú nie ne na v vo z zo do od po pri so s k ku o že ale alebo ako kedy kde
        prečo čo sa si moja moje môj mi ma mňa vás vám vy ďakujem ďakujeme vďaka prosím dobrý dobrá deň ahoj
        čau objednávka objednávku objednávky balík balíček zásielka zásielku ešte už dnes zajtra prišla
        prišiel neprišla dostal dostala chcem potrebujem môžete bude bola bol nebola nebol tovar reklamácia vrátenie
        pekne pozdravom prepáčte prepáč boli mám máte mne veľmi len tak ani keď lebo tu tam ten to kto""",
        chars="č ď ľ ĺ ň ŕ š ť ž ý ô ä á é í ó ú",
        suffixes="ých ovať",
        aliases="slk, slo, slovak, slovenčina, slovencina",
    ),
    # Recognised, not answered: common in European shops and close enough to confuse the others.
    LanguageProfile.build(
        "fr",
        """le la les un une des du et est sont je tu il elle nous vous mon ma mes votre vos pas ne qui quoi où
        quand comment pourquoi pour avec sur dans bonjour bonsoir merci beaucoup svp plaît commande colis
        livraison reçu toujours encore rien été suis voudrais""",
        chars="è ê à ç ù œ",
        answer=False,
    ),
    LanguageProfile.build(
        "it",
        """il lo gli un una di del della che è sono non per con mio mia miei tuo suo ciao buongiorno
        buonasera grazie mille prego ordine pacco spedizione consegna ancora dove come perché vorrei ho ha
        hanno sapere arrivato""",
        chars="è à ò ù",
        answer=False,
    ),
    LanguageProfile.build(
        "nl",
        """de het een en van ik je jij niet is dat op te zijn met voor mijn bestelling pakket bedankt dank
        hallo hoi goedemorgen waar wanneer hoe waarom nog geen al ook maar wel kan kunnen graag alstublieft
        levering ontvangen heb heeft""",
        answer=False,
    ),
]


@dataclass
class _Index:
    words: dict[str, set[str]] = field(default_factory=dict)
    folded: dict[str, set[str]] = field(default_factory=dict)
    chars: dict[str, set[str]] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    long_folded: dict[int, list[str]] = field(default_factory=dict)   # length -> folded words of FUZZY_MIN+


_profiles: dict[str, LanguageProfile] = {}
_index = _Index()


def register(profile: LanguageProfile) -> None:
    """Add a language to the detector (or replace one with the same code)."""
    _profiles[profile.code] = profile
    _rebuild()


def supported() -> tuple[str, ...]:
    """The language codes the detector can answer, in registration order."""
    return tuple(code for code, profile in _profiles.items() if profile.answer)


def _rebuild() -> None:
    global _index
    index = _Index()
    for code, profile in _profiles.items():
        if profile.answer:
            index.aliases[code] = code
            for alias in profile.aliases:
                index.aliases[alias] = code
        for word in profile.words:
            index.words.setdefault(word, set()).add(code)
            index.folded.setdefault(_fold(word), set()).add(code)
        for char in profile.chars:
            index.chars.setdefault(char, set()).add(code)
    for word in index.folded:
        if len(word) >= FUZZY_MIN:
            index.long_folded.setdefault(len(word), []).append(word)
    _index = index
    _near.cache_clear()


# -- hints ----------------------------------------------------------------------------------------------------

def language_from_hints(hints: Iterable[str | None] | str | None) -> str | None:
    """The first supported language the hints name: locales (``pt_BR``), language tags (``de-DE``),
    Accept-Language lists (``tr-TR,tr;q=0.9,en;q=0.8``, best ``q`` first) or names (``Deutsch``)."""
    if hints is None:
        return None
    if isinstance(hints, str):
        hints = (hints,)
    for hint in hints:
        if not isinstance(hint, str) or not hint.strip():
            continue
        for tag in _ranked_tags(hint):
            code = normalise_code(tag)
            if code is not None:
                return code
    return None


def normalise_code(tag: str | None) -> str | None:
    """A supported language code for a tag or name (``pt-BR`` -> ``pt``, ``in`` -> ``id``), or None."""
    if not tag:
        return None
    cleaned = tag.strip().lower().replace("_", "-")
    if cleaned in _index.aliases:
        return _index.aliases[cleaned]
    primary = cleaned.split("-")[0].strip()
    return _index.aliases.get(primary)


def _ranked_tags(hint: str) -> list[str]:
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(hint.split(",")):
        tag, _, params = part.partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        tag = tag.strip()
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(ranked)]


# -- text -----------------------------------------------------------------------------------------------------

_NOISE = re.compile(
    r"(?:https?://|www\.)\S+"          # links
    r"|\S+@\S+\.\S+"                   # e-mail addresses
    r"|[@#]\w+"                        # mentions, hashtags, "#12345"
    r"|[\w-]*\d[\w-]*",                # order numbers (SO-99812), tracking codes, amounts, times
    re.UNICODE,
)
_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*", re.UNICODE)
_REPEAT = re.compile(r"(.)\1{2,}")


def detect_language(text: str | None, hints: Sequence[str | None] = ()) -> str | None:
    """The customer's language (``en``, ``es``, ``pt``, ``de``, ``tr``, ``id``, ``sk``, ...) or None if unsure."""
    hinted = language_from_hints(hints)
    if hinted is not None:
        return hinted
    scores = score_text(text or "")
    if not scores:
        return None
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    best_code, best = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    if best < MIN_SCORE or best - runner_up < MARGIN or not _profiles[best_code].answer:
        return None
    return best_code


def score_text(text: str) -> dict[str, float]:
    """Evidence per language for ``text`` (languages without evidence are left out)."""
    cleaned = _NOISE.sub(" ", unicodedata.normalize("NFC", text[:MAX_CHARS]))
    scores: dict[str, float] = {}

    def add(codes: Set[str] | None, weight: float) -> None:
        if codes:
            share = weight / len(codes)
            for code in codes:
                scores[code] = scores.get(code, 0.0) + share

    for char in cleaned:
        add(_index.chars.get(char) or _index.chars.get(char.lower()), CHAR)
    for raw in _TOKEN.findall(cleaned):
        token = _REPEAT.sub(r"\1", _normalise(raw))
        folded = _fold(token)
        exact = _index.words.get(token, set())
        loose = _index.folded.get(folded, set()) - exact
        if exact or loose:
            # "den" is German as written and Slovak without its accent (deň): both share the word.
            share = (WORD if len(token) > 1 else SHORT) / len(exact | loose)
            for code in exact:
                scores[code] = scores.get(code, 0.0) + share
            for code in loose:
                scores[code] = scores.get(code, 0.0) + share * FOLDED
            continue
        if len(folded) >= FUZZY_MIN:
            add(_near(folded), FUZZY)
        if len(token) >= 5:
            for code, profile in _profiles.items():
                if any(token.endswith(suffix) for suffix in profile.suffixes):
                    scores[code] = scores.get(code, 0.0) + SUFFIX
    return scores


@lru_cache(maxsize=4096)
def _near(word: str) -> frozenset[str] | None:
    """Languages of listed words (``FUZZY_MIN`` letters or more) one edit away from ``word``."""
    codes: set[str] = set()
    for length in (len(word) - 1, len(word), len(word) + 1):
        for candidate in _index.long_folded.get(length, ()):
            if _one_edit(word, candidate):
                codes |= _index.folded[candidate]
    return frozenset(codes) or None


def _one_edit(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by exactly one substitution, insertion, deletion or swap."""
    if a == b:
        return False
    if len(a) == len(b):
        diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diffs) == 1:
            return True
        return len(diffs) == 2 and diffs[1] == diffs[0] + 1 and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[
            diffs[0]]
    if len(a) > len(b):
        a, b = b, a
    if len(b) - len(a) != 1:
        return False
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1:]


for _profile in _PROFILES:
    _profiles[_profile.code] = _profile
_rebuild()
