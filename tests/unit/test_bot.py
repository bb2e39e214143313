"""The bot's rules, its order answers and the knowledge base's import parsing, on fakes: no table, no model."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import numpy as np
import pytest

from shopdesk.bot import BotSettings, BotState
from shopdesk.bot.decide import Context, decide
from shopdesk.bot.orders import OrderAnswer, describe, state_of
from shopdesk.commerce.models import Fulfillment, Order, Tracking
from shopdesk.dal.kb import StoredArticle
from shopdesk.errors import BadRequest, NotFound
from shopdesk.kb import Article
from shopdesk.kb.articles import ImportProblem, parse_jsonl, parse_markdown
from shopdesk.kb.index import Hit, Indexed, KbIndex, Tuning, passages, vector_space
from shopdesk.kb.loader import IndexCache
from shopdesk.search.text import fold, words
from shopdesk.understanding import Understanding


class WordsEmbedder:
    """Bag of folded words hashed into 64 dimensions: texts sharing words are close, whatever else."""

    model = "test/words"

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(64, dtype=np.float32)
        for word in words(text):
            vector[int(hashlib.md5(fold(word).encode()).hexdigest(), 16) % 64] += 1   # noqa: S324 (not security)
        norm = np.linalg.norm(vector)
        return vector / norm if norm else vector

    def passages(self, texts):
        return np.vstack([self._vector(t) for t in texts]) if texts else np.zeros((0, 64), dtype=np.float32)

    def query(self, text):
        return self._vector(text)


ARTICLES = [
    Article(id="ship", title="Delivery times", body="Standard delivery takes 3 working days.", language="en",
            url="https://help.example.com/ship"),
    Article(id="ship_es", title="Plazos de entrega", body="La entrega estándar tarda 3 días laborables.",
            language="es", translation_of="ship", url="https://help.example.com/es/ship"),
    Article(id="pay", title="Paying by card", body="We take Visa and Mastercard cards.", language="en"),
]
EMBEDDER = WordsEmbedder()
INDEX = KbIndex([Indexed(a, EMBEDDER.passages(passages(a))) for a in ARTICLES], EMBEDDER)
ON = BotSettings(enabled=True, confidence_threshold=0.6)


def u(language="en", intents=(), sentiment="neutral", emotion=None, urgent=False):
    return Understanding(language=language, language_confidence=1.0, sentiment=sentiment, emotion=emotion,
                         urgent=urgent, intents=frozenset(intents))


def answering(question="delivery times", article="ship"):
    return BotState(state="answering", article_id=article, at="2026-11-23T10:00:00Z", question=question)


def test_a_confident_answer_is_the_article_in_the_customers_language_with_its_link():
    got = decide("plazos de entrega estándar", u("es"), INDEX, ON, "en")
    assert got.action == "answer" and got.article.id == "ship_es"
    assert "días laborables" in got.text and "https://help.example.com/es/ship" in got.text


def test_without_a_translation_the_fallback_language_or_a_handoff():
    question = "paying by card visa"
    assert decide(question, u("de"), INDEX, ON, "en").handoff_reason == "no_translation"
    fallback = BotSettings(enabled=True, confidence_threshold=0.6, fallback_language="en")
    assert decide(question, u("de"), INDEX, fallback, "en").article.id == "pay"


def test_below_the_threshold_it_hands_over():
    got = decide("is the sofa waterproof", u(), INDEX, ON, "en")
    assert got.action == "handoff" and got.handoff_reason == "low_confidence"
    assert got.hit is not None and got.confidence < ON.threshold        # the best it had, for the agent to see


@pytest.mark.parametrize("intent,reason", [("human", "human_requested"), ("legal", "legal"), ("safety", "safety"),
                                           ("payment_account", "payment_account"), ("not_helpful", "not_helpful")])
def test_these_intents_hand_over_at_once_even_with_an_answer_at_hand(intent, reason):
    got = decide("delivery times standard", u(intents={intent}), INDEX, ON, "en")
    assert (got.action, got.handoff_reason) == ("handoff", reason)


@pytest.mark.parametrize("text,article", [
    ("Someone told me standard delivery takes 3 working days, is that right?", "ship"),
    ("¿Plazos de entrega? El agente de DHL dijo que la entrega estándar tarda 3 días laborables", "ship_es")])
def test_a_question_that_mentions_someone_or_an_agent_is_answered_not_handed_over(text, article):
    from shopdesk.understanding import understand

    got = decide(text, understand(text), INDEX, ON, "en")
    assert got.action == "answer" and got.article.id == article, got


def test_a_request_for_a_person_still_hands_over_with_an_answer_at_hand():
    from shopdesk.understanding import understand

    text = "I want to speak to a person about standard delivery times"
    got = decide(text, understand(text), INDEX, ON, "en")
    assert (got.action, got.handoff_reason) == ("handoff", "human_requested")


def test_anger_or_upset_and_urgent_hands_over_but_plain_negative_does_not():
    assert decide("delivery times", u(sentiment="negative", emotion="anger"), INDEX, ON, "en").handoff_reason \
        == "negative_sentiment"
    assert decide("delivery times", u(sentiment="negative", urgent=True), INDEX, ON, "en").handoff_reason \
        == "negative_sentiment"
    assert decide("delivery times standard", u(sentiment="negative"), INDEX, ON, "en").action == "answer"


def test_a_vip_goes_to_a_person():
    got = decide("delivery times standard", u(), INDEX, ON, "en", Context(tier="vip"))
    assert got.handoff_reason == "vip"


def test_after_an_answer_yes_resolves_no_hands_over_and_the_same_question_again_hands_over():
    context = Context(state=answering())
    assert decide("yes thanks", u(intents={"yes", "thanks"}), INDEX, ON, "en", context).action == "resolve"
    assert decide("no", u(intents={"no"}), INDEX, ON, "en", context).handoff_reason == "not_helpful"
    assert decide("delivery times", u(), INDEX, ON, "en", context).handoff_reason == "repeated"
    assert decide("standard delivery takes how many working days", u(), INDEX, ON, "en",
                  context).handoff_reason == "repeated"          # the same article again


def test_a_thanks_with_more_in_it_does_not_end_the_conversation():
    context = Context(state=answering())
    # another matter beside the thanks: it is handled as that matter, not resolved
    charged = decide("Thanks, but I was charged twice", u(intents={"thanks", "payment_account"},
                                                          sentiment="negative"), INDEX, ON, "en", context)
    assert charged.action == "handoff" and charged.handoff_reason == "payment_account"
    # a further question: answered as a question (here the shipping article), not resolved
    further = decide("Thanks! And how long does standard delivery take?", u(intents={"thanks"}), INDEX, ON, "en",
                     Context(state=answering(question="returns", article="returns")))
    assert further.action != "resolve"
    # something negative with the thanks is not a "solved"
    assert decide("thanks, still annoyed though", u(intents={"thanks"}, sentiment="negative"), INDEX, ON, "en",
                  context).action != "resolve"
    # a plain thanks or yes still resolves
    assert decide("Thanks a lot!", u(intents={"thanks"}, sentiment="positive"), INDEX, ON, "en",
                  context).action == "resolve"


def test_an_order_mentioned_in_a_question_about_something_else_gets_the_article_not_the_orders_state():
    told = OrderAnswer("status", "Your order #1001: on its way.", "1001", "https://track.example/1")
    asked: list[str] = []

    def orders(text: str, language: str) -> OrderAnswer:
        asked.append(text)
        return told
    sure_of_paying = BotSettings(enabled=True, confidence_threshold=0.4)       # this small index's "sure"
    # the customer asks how to pay for their order: the paying article, and the orders are not even looked up
    got = decide("Can I pay my order by card? Visa or Mastercard?", u(intents={"order_status"}), INDEX,
                 sure_of_paying, "en", orders=orders)
    assert (got.action, got.article.id if got.article else None, asked) == ("answer", "pay", [])
    # where the order is, though, is the order's state
    assert decide("where is my order", u(intents={"order_status"}), INDEX, sure_of_paying, "en",
                  orders=orders).action == "order"


def test_after_a_handover_the_bot_says_nothing():
    handed = Context(state=BotState(state="handed_off", handoff_reason="human_requested"))
    assert decide("delivery times standard", u(), INDEX, ON, "en", handed).action == "silent"


def test_order_status_answers_from_the_orders_and_asks_for_proof_of_someone_elses_number():
    told = OrderAnswer("status", "Your order #1001: on its way.", "1001", "https://track.example/1")
    ask = OrderAnswer("verify", "please send the email address", "1002")
    got = decide("where is my order", u(intents={"order_status"}), INDEX, ON, "en", orders=lambda t, lang: told)
    assert (got.action, got.url, got.order_number) == ("order", "https://track.example/1", "1001")
    got = decide("where is order 1002", u(intents={"order_status"}), INDEX, ON, "en", orders=lambda t, lang: ask)
    assert got.action == "verify" and got.order_number == "1002"
    pending = Context(state=answering("where is order 1002", None), pending_order="1002")
    wrong = decide("me@else.example", u(), INDEX, ON, "en", pending,
                   prove=lambda n, t, lang: OrderAnswer("mismatch", order_number=n))
    assert wrong.handoff_reason == "order_unverified"
    right = decide("ann@shop.example", u(), INDEX, ON, "en", pending, prove=lambda n, t, lang: told)
    assert right.action == "order"


def _order(**changes):
    base = {"platform": "shopify", "id": "1", "name": "#1001", "number": "1001",
            "created_at": datetime(2026, 11, 20, tzinfo=UTC), "updated_at": datetime(2026, 11, 21, tzinfo=UTC)}
    return Order.model_validate({**base, **changes})


def test_an_orders_state_and_tracking_in_the_customers_words():
    shipped = _order(fulfillments=[Fulfillment(id="f", status="success", shipment_status="in_transit", tracking=[
        Tracking(number="JJD1", url="https://dhl.example/JJD1", company="DHL")])])
    assert state_of(shipped) == "in_transit"
    text, url = describe(shipped, "es")
    assert "en camino" in text and "https://dhl.example/JJD1" in text and url == "https://dhl.example/JJD1"
    assert state_of(_order()) == "processing" and "no tracking" in describe(_order(), "en")[0].lower()
    assert state_of(_order(cancelled_at=datetime(2026, 11, 22, tzinfo=UTC))) == "cancelled"


def test_jsonl_lines_are_checked_one_by_one():
    lines = parse_jsonl('{"id": "a", "title": "A", "body": "B", "language": "en"}\n\n{oops\n'
                        '{"id": "b", "title": "A", "body": "B", "language": "en", "colour": "red"}')
    assert [n for n, _ in lines] == [1, 3, 4]
    assert isinstance(lines[1][1], ImportProblem) and "not JSON" in lines[1][1].error
    assert isinstance(lines[2][1], ImportProblem) and lines[2][1].id == "b"
    with pytest.raises(BadRequest):
        parse_jsonl("\n\n")


def test_markdown_front_matter_makes_articles():
    [(_, first), (_, second)] = parse_markdown(
        "---\nid: a\ntitle: \"Returns\"\nlanguage: en\ntags: returns, labels\nurl: https://x.example/a\n---\n"
        "Send it back within 30 days.\n---\nid: a_de\ntitle: Rücksendung\nlanguage: de\ntranslation_of: a\n---\n"
        "Innerhalb von 30 Tagen.\n")
    assert (first.id, first.title, first.tags, first.url) == ("a", "Returns", ["returns", "labels"],
                                                               "https://x.example/a")
    assert first.body == "Send it back within 30 days." and second.translation_of == "a"


# ---------------------------------------------------------------- yes/no buttons on the channels that have them

def test_reply_buttons_become_each_channels_own_kind():
    from shopdesk.channels.base import OutboundRequest
    from shopdesk.channels.messenger import MessengerSender
    from shopdesk.channels.meta import GraphClient
    from shopdesk.channels.telegram import TelegramSender
    from shopdesk.channels.whatsapp_cloud import WhatsAppSender

    choices = (("bot_yes", "Yes, thanks"), ("bot_no", "No"))
    graph = GraphClient("http://127.0.0.1:9", "token", timeout=1)
    [whatsapp] = WhatsAppSender(graph, "1065").messages(
        OutboundRequest(channel="whatsapp", to="+31600000001", sender="1065", text="It takes 3 days.\n\nDid it help?",
                        choices=choices))
    assert whatsapp["type"] == "interactive"
    assert [b["reply"]["id"] for b in whatsapp["interactive"]["action"]["buttons"]] == ["bot_yes", "bot_no"]
    long_text = "x" * 1100 + "\n\nDid it help?"
    first, second = WhatsAppSender(graph, "1065").messages(
        OutboundRequest(channel="whatsapp", to="+31600000001", sender="1065", text=long_text, choices=choices))
    assert first["type"] == "text" and second["interactive"]["body"]["text"] == "Did it help?"
    [messenger] = MessengerSender(graph).messages(
        OutboundRequest(channel="messenger", to="psid", sender="page", text="Did it help?", choices=choices))
    assert [q["payload"] for q in messenger["message"]["quick_replies"]] == ["bot_yes", "bot_no"]
    [(method, body)] = TelegramSender("http://127.0.0.1:9", "123:abc")._calls(
        OutboundRequest(channel="telegram", to="42", sender="bot", text="Did it help?", choices=choices))
    assert method == "sendMessage"
    assert [b["callback_data"] for b in body["reply_markup"]["inline_keyboard"][0]] == ["bot_yes", "bot_no"]


def test_an_articles_passages_are_its_sentences_under_its_title_and_tags_never_the_title_alone():
    article = Article(id="a", title="Returns", body="Return within 30 days. Labels are free!", language="en")
    assert passages(article) == ["Returns: Return within 30 days.", "Returns: Labels are free!"]
    tagged = article.model_copy(update={"tags": ["returns", "return label"]})
    assert passages(tagged) == ["Returns (returns, return label): Return within 30 days.",
                                "Returns (returns, return label): Labels are free!"]


def test_a_groups_dense_score_adds_a_share_of_its_mean_passage_cosine_to_its_best():
    # Given the same index with and without the group's mean counted
    from dataclasses import replace

    plain = KbIndex([Indexed(e.article, e.vectors) for e in INDEX.entries], EMBEDDER,
                    replace(INDEX.tuning, context_weight=0.0))
    context = KbIndex([Indexed(e.article, e.vectors) for e in INDEX.entries], EMBEDDER,
                      replace(INDEX.tuning, context_weight=0.5))
    # When one question is searched in both
    [a, *_] = plain.search("how long does standard delivery take", "en")
    [b, *_] = context.search("how long does standard delivery take", "en")
    # Then the group is the same and its score is its best cosine plus half its passages' mean cosine
    assert a.group == b.group
    members = [i for i, e in enumerate(context.entries) if e.article.original == b.group]
    _best, total, count = context._cosines("how long does standard delivery take", "en")
    mean = sum(total[i] for i in members) / sum(count[i] for i in members)
    assert b.dense == pytest.approx(a.dense + 0.5 * mean, abs=1e-3)


def test_the_confidence_adds_a_share_of_the_lead_over_the_runner_up_group():
    tuning = Tuning(lead_weight=0.25, lexical_weight=0.0)
    assert tuning.confidence(0.30, 0.20, 5.0) == pytest.approx(0.35)
    assert tuning.confidence(0.30, 0.0, 5.0) < tuning.confidence(0.30, 0.2, 5.0)      # a near tie is less sure
    assert Tuning(lead_weight=0.0, lexical_weight=0.1, lexical_half=4.0).confidence(0.3, 0.0, 4.0) == \
        pytest.approx(0.35)
    [best, *_] = INDEX.search("how long does standard delivery take", "en")
    assert best.confidence == pytest.approx(INDEX.tuning.confidence(best.dense, best.lead, best.lexical), abs=1e-3)


class CountingEmbedder(WordsEmbedder):
    def __init__(self):
        self.embedded = 0

    def passages(self, texts):
        self.embedded += len(texts)
        return super().passages(texts)


class Stored:
    def __init__(self, stored):
        self.stored = stored

    def revision(self, consistent=False):
        return 1

    def list(self):
        return self.stored


def test_vectors_of_another_space_are_recomputed_never_compared():
    embedder = CountingEmbedder()
    article = ARTICLES[0]
    current = EMBEDDER.passages(passages(article))
    old_scheme = EMBEDDER.passages([article.title, *passages(article)])       # title first: scheme 1
    IndexCache(Stored([StoredArticle(article, current, vector_space(embedder.model))]), embedder).get()
    assert embedder.embedded == 0
    index = IndexCache(Stored([StoredArticle(article, old_scheme, embedder.model)]), embedder).get()
    assert embedder.embedded == len(passages(article)) and len(index._matrix) == len(passages(article))


# ---------------------------------------------------------------- trying an article before publishing it

class StoredArticles:
    """The knowledge base's reads as the index cache makes them (dal/kb.py), from a dict."""

    def __init__(self, articles):
        self.items = {a.id: StoredArticle(a, EMBEDDER.passages(passages(a)), vector_space(EMBEDDER.model))
                      for a in articles}
        self.reads = 0

    def get(self, article_id):
        return self.items.get(article_id)

    def list(self):
        self.reads += 1
        return list(self.items.values())

    def revision(self, consistent=False):
        return 7


def test_an_article_is_tried_as_if_published_without_changing_the_containers_index():
    draft = Article(id="ship_es2", title="Envíos", body="Enviamos en 2 días laborables.", language="es",
                    translation_of="ship", status="draft")
    retired = Article(id="gift", title="Gift wrap", body="We gift-wrap for 3 EUR.", language="en", status="retired")
    store = StoredArticles([*ARTICLES, draft, retired])
    cache = IndexCache(store, EMBEDDER)

    tried = cache.with_article("ship_es2")
    # the draft stands in for its group's Spanish article, as publishing it would leave the group
    assert sorted(e.article.id for e in tried.entries) == ["pay", "ship", "ship_es2"]
    assert all(e.article.status == "published" for e in tried.entries)
    assert sorted(e.article.id for e in cache.get().entries) == ["pay", "ship", "ship_es"]      # the cache's own
    assert "gift" in [e.article.id for e in cache.with_article("gift").entries]
    assert store.reads == 1                                       # the revision did not move: built once
    with pytest.raises(NotFound):
        cache.with_article("nothing")


def test_a_message_listing_many_postcodes_or_addresses_proves_no_order():
    # A proof is the one postcode or email the customer knows; a message that lists thousands (an email can be
    # megabytes) would otherwise prove every order, one conversation at a time.
    from shopdesk.bot.orders import OrderStatus
    from shopdesk.commerce.lookup import FoundOrder, OrderPanel
    from shopdesk.commerce.models import Address, Order

    order = Order(platform="shopify", id="5", name="#1002", number="1002", created_at="2026-11-01T10:00:00Z",
                  updated_at="2026-11-01T10:00:00Z", email="dana@example.com",
                  shipping_address=Address(zip="94105"))

    class Lookup:
        def find(self, identities, numbers=(), *, cached_only=False):
            return OrderPanel([FoundOrder(order, ["number"])], [], list(numbers), "cache")

    status = OrderStatus(Lookup())  # type: ignore[arg-type]
    conv = None  # verify reads the order by its number alone
    assert status.verify(conv, "1002", "It's 94105", "en").kind == "status"
    assert status.verify(conv, "1002", "dana@example.com", "en").kind == "status"
    every_zip = " ".join(f"{n:05d}" for n in range(90000, 99999))
    assert status.verify(conv, "1002", every_zip, "en").kind == "mismatch"
    every_address = " ".join(f"{name}@example.com" for name in ("ann", "bob", "dana", "eve", "zoe"))
    assert status.verify(conv, "1002", every_address, "en").kind == "mismatch"


def test_a_damaged_item_with_its_photo_goes_to_a_person_instead_of_an_article_asking_for_the_photo():
    damaged = Article(id="dmg", title="Damaged items", body="Sorry it arrived broken. Send us a photo of the damaged "
                      "item and we will replace it.", language="en")
    index = KbIndex([Indexed(a, EMBEDDER.passages(passages(a))) for a in [*ARTICLES, damaged]], EMBEDDER)
    caption = "the mug arrived broken"
    low = BotSettings(enabled=True, confidence_threshold=0.1)      # the word-bag embedder scores a caption low
    # without a file the article answers (it asks for the photo)
    assert decide(caption, u(), index, low, "en").article.id == "dmg"
    # with the photo attached, a person takes the claim at once, with the reason that is true
    got = decide(caption, u(), index, low, "en", Context(attachments=1))
    assert (got.action, got.handoff_reason) == ("handoff", "damage_claim")
    assert decide("la taza llegó rota", u("es"), index, low, "en", Context(attachments=1)).handoff_reason \
        == "damage_claim"
    # a stronger reason is named when there is one
    assert decide("the lamp is broken and caught fire", u(intents={"safety"}), index, low, "en",
                  Context(attachments=1)).handoff_reason == "safety"
    # the photo sent after the bot answered a damage report is the claim's evidence: not a "thanks" that resolves
    after = Context(state=answering("the mug arrived broken", "dmg"), attachments=1)
    assert decide("Thanks, here is the photo", u(intents={"thanks"}), index, low, "en", after).handoff_reason \
        == "damage_claim"
    # a file about anything else is no claim
    assert decide("delivery times standard", u(), index, low, "en", Context(attachments=1)).action == "answer"


# ---------------------------------------------------------------- what answers: published, with a published original

def _index(articles):
    return KbIndex([Indexed(a, EMBEDDER.passages(passages(a))) for a in articles], EMBEDDER)


def test_a_translation_answers_only_while_its_original_is_published():
    retired = ARTICLES[0].model_copy(update={"status": "retired"})
    index = _index([retired, *ARTICLES[1:]])
    assert sorted(e.article.id for e in index.entries) == ["pay"]
    got = decide("plazos de entrega estándar", u("es"), index, ON, "en")
    assert got.action == "handoff" and (got.article is None)
    draft_original = ARTICLES[0].model_copy(update={"status": "draft"})
    assert "ship_es" not in [e.article.id for e in _index([draft_original, *ARTICLES[1:]]).entries]


def test_an_article_in_the_customers_language_that_is_not_published_hands_over_saying_so():
    retired_es = ARTICLES[1].model_copy(update={"status": "retired"})
    index = _index([ARTICLES[0], retired_es, ARTICLES[2]])
    assert decide("standard delivery times", u("es"), index, ON, "en").handoff_reason \
        == "not_published"
    assert decide("delivery times standard", u("de"), index, ON, "en").handoff_reason == "no_translation"


def test_a_published_articles_draft_is_tried_in_its_place_and_the_index_keeps_the_live_one():
    from shopdesk.kb import ArticleDraft

    live = ARTICLES[2]
    draft = ArticleDraft(title="Paying by card", body="We take Visa, Mastercard and Amex cards.", language="en",
                         version=2)
    store = StoredArticles([*ARTICLES[:2], live.model_copy(update={"draft": draft})])
    item = store.items["pay"]
    store.items["pay"] = StoredArticle(item.article, item.vectors, item.model,
                                       EMBEDDER.passages(passages(Article(id="pay", **draft.model_dump()))),
                                       vector_space(EMBEDDER.model))
    cache = IndexCache(store, EMBEDDER)
    assert next(e for e in cache.get().entries if e.article.id == "pay").article.body == live.body
    tried = next(e for e in cache.with_article("pay").entries if e.article.id == "pay").article
    assert (tried.body, tried.draft, tried.status) == (draft.body, None, "published")


class FixedIndex:
    """An index whose best answer is the given article group, at the given confidence."""

    def __init__(self, confidence: float, *articles: Article):
        self.hits = [Hit(articles[0].id, tuple(articles), confidence, confidence, 0.1, 1.0)]

    def search(self, text, language):
        return self.hits


CANCEL = Article(id="cancel", title="Changing or cancelling an order", body="Cancel within one hour.", language="en",
                 tags=["cancel", "change order", "address"])
TRACKING = Article(id="tracking", title="Tracking your parcel", body="We email you a tracking link.", language="en",
                   tags=["tracking", "order status"])
NOTHING = OrderAnswer("none")


def test_an_order_status_question_with_no_orders_found_asks_for_the_number_never_a_neighbouring_article():
    # Given a customer whose orders cannot be found and a confident article next to the question (change or cancel)
    got = decide("Where is my order?", u(intents={"order_status"}), FixedIndex(0.9, CANCEL), ON, "en",
                 orders=lambda t, lang: NOTHING)
    # Then the bot asks for the order's number and its email or postcode, and waits for it (no order number yet)
    assert (got.action, got.order_number) == ("verify", None) and got.article is None
    assert "order number" in got.text and "postcode" in got.text
    # in Portuguese too, for the number-named question the cues now read
    got = decide("Cadê o pedido?", u("pt", intents={"order_status"}), FixedIndex(0.9, CANCEL), ON, "pt",
                 orders=lambda t, lang: NOTHING)
    assert got.action == "verify" and "número do pedido" in got.text
    # the tracking article found with confidence answers it; found without confidence, the bot asks
    got = decide("I have not received my package yet", u(intents={"order_status"}), FixedIndex(0.9, TRACKING), ON,
                 "en", orders=lambda t, lang: NOTHING)
    assert (got.action, got.article) == ("answer", TRACKING)
    got = decide("When will my order arrive?", u(intents={"order_status"}), FixedIndex(0.44, TRACKING),
                 BotSettings(enabled=True, confidence_threshold=0.6), "en", orders=lambda t, lang: NOTHING)
    assert got.action == "verify"


def test_without_orders_to_look_in_an_order_status_question_gets_the_tracking_article_or_a_person():
    got = decide("Where is my order?", u(intents={"order_status"}), FixedIndex(0.9, CANCEL), ON, "en")
    assert (got.action, got.handoff_reason) == ("handoff", "low_confidence")
    assert got.hit is not None and got.hit.group == "cancel"          # the agent still sees what it found
    got = decide("Where is my order?", u(intents={"order_status"}), FixedIndex(0.9, TRACKING), ON, "en")
    assert (got.action, got.article) == ("answer", TRACKING)


def test_a_mention_of_my_order_in_another_question_keeps_its_article_and_an_unknown_number_goes_to_a_person():
    # "¿Puedo cancelar mi pedido?" has the intent (a mention of the order) but asks to cancel: the article answers
    got = decide("¿Puedo cancelar mi pedido?", u("es", intents={"order_status"}), FixedIndex(0.9, CANCEL),
                 BotSettings(enabled=True, confidence_threshold=0.6, fallback_language="en"), "es",
                 orders=lambda t, lang: NOTHING)
    assert (got.action, got.article) == ("answer", CANCEL)
    # a number the shop has no order for: a person checks it, rather than the bot guessing an article
    got = decide("Where is order #9999?", u(intents={"order_status"}), FixedIndex(0.9, TRACKING), ON, "en",
                 orders=lambda t, lang: OrderAnswer("none", order_number="9999"))
    assert (got.action, got.handoff_reason) == ("handoff", "order_not_found")


def test_the_reply_with_a_number_and_its_proof_tells_the_order_and_a_number_alone_is_asked_its_proof():
    from shopdesk.bot.orders import ANY_ORDER, OrderStatus
    from shopdesk.commerce.lookup import FoundOrder, OrderPanel
    from shopdesk.commerce.models import Address

    order = Order(platform="shopify", id="5", name="#1002", number="1002", created_at="2026-11-01T10:00:00Z",
                  updated_at="2026-11-01T10:00:00Z", email="sam@example.com", shipping_address=Address(zip="94607"))
    asked: list[list[str]] = []

    class Lookup:
        def find(self, identities, numbers=(), *, cached_only=False):
            asked.append(list(numbers))
            return OrderPanel([FoundOrder(order, ["number"])] if "1002" in numbers else [], [], list(numbers), "cache")

    status = OrderStatus(Lookup())  # type: ignore[arg-type]
    assert status.verify(None, ANY_ORDER, "1002 sam@example.com", "en").kind == "status"   # type: ignore[arg-type]
    assert status.verify(None, ANY_ORDER, "order #1002, postcode 94607", "en").kind == "status"  # type: ignore[arg-type]
    assert status.verify(None, ANY_ORDER, "#1002 12345", "en").kind == "mismatch"     # type: ignore[arg-type]
    alone = status.verify(None, ANY_ORDER, "it's 1002", "en")                            # type: ignore[arg-type]
    assert (alone.kind, alone.order_number) == ("verify", "1002") and "postcode" in (alone.text or "")
    assert status.verify(None, ANY_ORDER, "4711 ann@example.com", "en").kind == "none"   # type: ignore[arg-type]
    assert status.verify(None, ANY_ORDER, "I don't know it", "en").kind == "none"        # type: ignore[arg-type]
    assert max(len(n) for n in asked) <= 3                  # a few numbers of a reply are looked up, not a list
    # decide: the number alone asks its proof and waits for that order's
    pending = Context(state=answering("where is my order", None), pending_order=ANY_ORDER)
    got = decide("1002", u(), INDEX, ON, "en", pending, prove=lambda n, t, lang: alone)
    assert (got.action, got.order_number) == ("verify", "1002")
