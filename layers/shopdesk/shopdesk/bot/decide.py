"""What the bot does with one customer message, in this order (the first rule that applies wins):

1. It already handed over: nothing, ever (a person owns the conversation now).
2. It is waiting for proof that a named order is the customer's: the proof tells the order's state; a wrong
   one hands over (``order_unverified``).
2b. A damaged, faulty or wrong item reported with a file attached (the photo), or a file sent after the bot answered
   such a report: a person takes the claim at once (``damage_claim``; a person asked for, a legal, safety or
   payment-account matter is named instead when there is one). The evidence is there, so the bot neither asks for
   the photo the customer just sent (the damaged-items article does) nor decides a replacement or refund: as the
   big helpdesks route damage claims with evidence, a person judges it. Without a file, the article answers.
3. It answered and asked whether that solved it: "yes" / "thanks" and nothing more resolves (a thanks with a
   further question, another matter or something negative goes on through the rules below); "no" / "that did
   not help" hands over (``not_helpful``).
4. Hand over at once when the customer asks for a person (``human_requested``); names a legal, safety or
   payment-account matter (``legal``, ``safety``, ``payment_account``); is angry, frustrated, or upset and
   urgent (``negative_sentiment``); is of a VIP tier (``vip``); or asks again what the bot just answered
   (``repeated``).
5. "Where is my order" with the customer's orders at hand: their order's state and tracking, or a request
   for the order's email or postcode when the number they named is not one of theirs. A status question
   (``cues.asks_order_status``: not a mere mention of "my order") is never answered with a neighbouring article:
   a number that is no order of the shop's hands over (``order_not_found``); else the knowledge base answers only
   with an article about order status (its title or tags are order-status words: the tracking article) found
   above the threshold; else, with orders to look in, the bot asks for the order's number and its email or
   postcode (``verify`` with no number: ``ANY_ORDER`` pending), and without them it hands over
   (``low_confidence``). A mere mention of "my order" in a question the knowledge base is sure is about something
   else ("Can I pay my order by card?") is that question: rule 6 answers it, the orders are not looked up.
6. The knowledge base: the best article group above the confidence threshold, in the customer's language
   (the translation), else in the fallback language when the shop set one, else hand over: ``not_published``
   when the group has an article in that language that is a draft or retired, else ``no_translation``; below the
   threshold, hand over (``low_confidence``).

Understanding (language, sentiment, intents) comes from ``shopdesk.understanding``; nothing here reads the
table or sends anything: ``POST /agent/assist/answer``, the bench and the router all call ``decide``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from shopdesk.bot import BotSettings, BotState
from shopdesk.bot.orders import OrderAnswer
from shopdesk.bot.phrases import phrase
from shopdesk.kb import Article
from shopdesk.kb.index import Hit, KbIndex
from shopdesk.search.text import fold, words
from shopdesk.understanding import Understanding, cues

Action = Literal["answer", "order", "verify", "handoff", "resolve", "silent"]
VIP_TIERS = frozenset({"vip"})
_ESCALATE = (("human", "human_requested"), ("legal", "legal"), ("safety", "safety"),
             ("payment_account", "payment_account"))
REPEAT_OVERLAP = 0.8              # share of shared words that makes a message the same question again


@dataclass(frozen=True)
class Context:
    """The conversation as the bot sees it (empty for agent assist and the bench)."""

    state: BotState | None = None
    tier: str | None = None
    pending_order: str | None = None       # a number it asked proof for
    attachments: int = 0                    # files on the customer's message (a damage claim's photo)


@dataclass(frozen=True)
class Decision:
    action: Action
    understanding: Understanding
    language: str                           # the language the bot speaks (the customer's, else the default)
    intent: str | None = None
    handoff_reason: str | None = None
    hit: Hit | None = None                  # the best article group (also when it was not sure enough)
    article: Article | None = None          # the article it answers with
    text: str | None = None                 # what it sends (before the "did this solve it" question)
    url: str | None = None
    order_number: str | None = None
    alternatives: list[Hit] = field(default_factory=list)

    @property
    def confidence(self) -> float:
        return self.hit.confidence if self.hit else 0.0


OrderFinder = Callable[[str, str], OrderAnswer]            # (text, language) -> what the orders say
OrderProver = Callable[[str, str, str], OrderAnswer]       # (number, text, language)


def only_acknowledges(u: Understanding, text: str) -> bool:
    """A yes or a thanks and nothing more: no other intent, nothing negative, no further question. "Thanks, but I
    was charged twice" or "Thanks! Do you ship to Norway?" is not the end of the conversation."""
    return bool(u.intents & {"yes", "thanks"}) and not u.intents - {"yes", "thanks"} and not u.negative \
        and not {"?", "¿"} & set(text)


def primary_intent(u: Understanding) -> str | None:
    for intent in ("human", "legal", "safety", "payment_account", "not_helpful", "order_status", "no", "yes",
                   "thanks"):
        if intent in u.intents:
            return intent
    return None


def decide(text: str, u: Understanding, index: KbIndex | None, settings: BotSettings, default_language: str,
           context: Context = Context(), orders: OrderFinder | None = None, prove: OrderProver | None = None,
           ) -> Decision:
    language = u.language or default_language
    intent = primary_intent(u)

    def handoff(reason: str, hit: Hit | None = None) -> Decision:
        return Decision("handoff", u, language, intent, reason, hit)

    state = context.state
    if state is not None and state.state == "handed_off":
        return Decision("silent", u, language, intent, state.handoff_reason)
    if context.pending_order and prove is not None:
        proof = prove(context.pending_order, text, language)
        if proof.kind == "status":
            return Decision("order", u, language, "order_status", text=proof.text, url=proof.url,
                            order_number=proof.order_number)
        if proof.kind == "mismatch":
            return handoff("order_unverified")
        if proof.kind == "verify":                  # the number asked for came without its email or postcode
            return Decision("verify", u, language, "order_status", text=proof.text, order_number=proof.order_number)
    answering = state is not None and state.state == "answering"
    answered_damage = answering and state is not None and reports_damage(state.question or "", language)
    if context.attachments and (answered_damage or reports_damage(text, language)):
        return handoff(next((reason for wanted, reason in _ESCALATE if wanted in u.intents), "damage_claim"))
    if answering and u.intents & {"no", "not_helpful"}:
        return handoff("not_helpful")
    if answering and only_acknowledges(u, text):
        return Decision("resolve", u, language, intent)
    for wanted, reason in _ESCALATE:
        if wanted in u.intents:
            return handoff(reason)
    if u.emotion in ("anger", "frustration") or (u.negative and u.urgent):
        return handoff("negative_sentiment")
    if context.tier in VIP_TIERS:
        return handoff("vip")
    if "not_helpful" in u.intents:
        return handoff("not_helpful")
    if answering and state is not None and state.question and _same_question(text, state.question):
        return handoff("repeated")
    status_question = "order_status" in u.intents and asks_order_status(text, u.language)
    hits = index.search(text, u.language) if index is not None else []
    best = hits[0] if hits else None
    sure = best is not None and best.confidence >= settings.threshold
    # "my order" mentioned in a question the knowledge base is sure is about something else ("Can I cancel my
    # order?"): the article answers it, not the order's state
    about_else = not status_question and sure and best is not None and not about_order_status(best)
    if "order_status" in u.intents and orders is not None and not about_else:
        found = orders(text, language)
        if found.kind == "status":
            return Decision("order", u, language, "order_status", text=found.text, url=found.url,
                            order_number=found.order_number)
        if found.kind == "verify":
            return Decision("verify", u, language, "order_status", text=found.text, order_number=found.order_number)
        if status_question and found.order_number:
            return handoff("order_not_found")          # a number the shop has no order for: a person checks it
    if status_question and not (sure and best is not None and about_order_status(best)):
        if orders is not None:       # their orders were not found: the number and its proof will find it
            return Decision("verify", u, language, "order_status", hit=best,
                            text=phrase(language, "ask_order"), alternatives=hits)
        return Decision("handoff", u, language, intent, "low_confidence", best, alternatives=hits)
    if best is None or not sure:
        return Decision("handoff", u, language, intent, "low_confidence", best, alternatives=hits)
    if answering and state is not None and state.article_id and best.group == _group_of(state.article_id, best):
        return Decision("handoff", u, language, intent, "repeated", best, alternatives=hits)
    article = best.in_language(language)
    if article is None and settings.fallback_language:
        article = best.in_language(settings.fallback_language)
    if article is None:
        # an article in their language (or the fallback's) that is a draft or retired is not "no translation"
        unpublished = best.withheld_in(language) or (settings.fallback_language
                                                     and best.withheld_in(settings.fallback_language))
        return Decision("handoff", u, language, intent, "not_published" if unpublished else "no_translation", best,
                        alternatives=hits)
    return Decision("answer", u, language, intent or "faq", None, best, article,
                    article_answer(article.body, article.url, language), article.url, alternatives=hits)


def article_answer(body: str, url: str | None, language: str) -> str:
    """What the bot says with an article: its text, then the link to it (``bot.fit`` cuts the text to the
    channel's limit and keeps the link)."""
    return "\n\n".join([body, phrase(language, "source", url=url)] if url else [body])


def reports_damage(text: str, language: str | None) -> bool:
    """The message says an item arrived damaged, faulty or wrong (``cues`` "damage": the message's language and
    English, every language when it is not one of ours)."""
    languages = [language, "en"] if language in cues.CUES else list(cues.CUES)
    return bool(cues.found(cues.fold(text), languages, ("damage",)))


def asks_order_status(text: str, language: str | None) -> bool:
    """The message asks where an order is or what its state is (not only mentions "my order"): ``cues``
    "order_status" in the message's language and English, every language when it is not one of ours."""
    languages = [language, "en"] if language in cues.CUES else list(cues.CUES)
    return cues.asks_order_status(cues.fold(text), languages)


def about_order_status(hit: Hit) -> bool:
    """The article group answers where an order is: a member's title or a tag is an order-status cue of its
    language ("Tracking your parcel", "order status", "Sendungsverfolgung", "estado del pedido")."""
    for article in hit.articles:
        languages = [article.language, "en"] if article.language in cues.CUES else list(cues.CUES)
        if any(cues.found(cues.fold(name), languages, ("order_status",)) for name in (article.title, *article.tags)):
            return True
    return False


def _group_of(article_id: str, hit: Hit) -> str | None:
    return hit.group if any(a.id == article_id for a in hit.articles) else article_id


def _same_question(text: str, previous: str) -> bool:
    now, before = {fold(w) for w in words(text)}, {fold(w) for w in words(previous)}
    if not now or not before:
        return False
    return len(now & before) / max(len(now), len(before)) >= REPEAT_OVERLAP
