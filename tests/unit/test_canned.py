"""Canned responses without a table: search ranking, the body for a customer's language, variables values."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from shopdesk.commerce.lookup import FoundOrder, OrderPanel
from shopdesk.commerce.models import Fulfillment, Order, Tracking
from shopdesk.dal.table import ConditionFailed
from shopdesk.logic.access import Caller
from shopdesk.logic.canned import CannedLibrary, body_for
from shopdesk.logic.render import TemplateInvalid
from shopdesk.logic.variables import order_values, relevant_order
from shopdesk.models.canned import CannedContent, CannedResponse
from shopdesk.privacy.settings import PrivacyPolicies


class FakeStore:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str | None, str], CannedResponse] = {}

    def put(self, scope, owner, response_id, content, by, expected_version=None):
        current = self.items.get((scope, owner, response_id))
        version = current.version if current else 0
        if expected_version is not None and expected_version != version:
            raise ConditionFailed("version")          # as the table's condition answers
        response = CannedResponse(id=response_id, scope=scope, owner=owner, updated_by=by, version=version + 1,
                                  **content.model_dump())
        self.items[(scope, owner, response_id)] = response
        return current, response

    def get(self, scope, owner, response_id):
        return self.items.get((scope, owner, response_id))

    def delete(self, scope, owner, response_id):
        return self.items.pop((scope, owner, response_id), None) is not None

    def list(self, scope, owner):
        return [r for (s, o, _), r in self.items.items() if s == scope and o == owner]


class NoSettings:
    """The configuration store with no privacy settings saved: cards and IBANs are masked, no pattern."""

    def get(self, kind, key):
        return None


ADMIN = Caller("root", "Root", frozenset({"admins"}))
ALICE, VERA = Caller("alice", "Alice"), Caller("vera", "Vera")


def content(title, shortcode, **bodies):
    return CannedContent(title=title, shortcode=shortcode, bodies=bodies)


@pytest.fixture
def library():
    library = CannedLibrary(FakeStore(), privacy=PrivacyPolicies(NoSettings()))   # type: ignore[arg-type]
    library.put_shared(ADMIN, "track", content("Where is my order (returns too)", "track", en="{{order.name}}"))
    library.put_shared(ADMIN, "returns", content("Returns", "returns", en="Free", es="Envío de devolución gratis"))
    library.put_personal(ALICE, "retoure", content("Retoure", "retoure", de="Kostenlos"))
    library.put_personal(ALICE, "hello", content("Greeting", "hi", en="Hello, I return your call"))
    return library


def test_shortcode_prefix_then_shortcode_then_title_then_body(library):
    found = [r.id for r in library.search(ALICE, "/ret")]
    assert found == ["retoure", "returns", "track", "hello"]
    assert [r.id for r in library.search(ALICE, "urns")] == ["returns", "track"]


def test_accents_and_case_are_ignored_in_any_language(library):
    assert [r.id for r in library.search(ALICE, "ENVIO")] == ["returns"]


def test_personal_ones_are_only_their_owners(library):
    assert [r.id for r in library.search(VERA, "")] == ["returns", "track"]
    with pytest.raises(Exception, match="canned response retoure does not exist"):
        library.for_reply(VERA, "retoure")
    assert library.for_reply(ALICE, "retoure").owner == "alice"


def test_only_admins_write_shared_ones_and_supervisors_read_them(library):
    with pytest.raises(PermissionError):
        library.put_shared(ALICE, "x", content("X", "x", en="x"))
    supervisor = Caller("sam", "Sam", frozenset({"supervisors"}))
    assert [r.id for r in library.list_shared(supervisor)] == ["returns", "track"]
    with pytest.raises(PermissionError):
        library.list_shared(ALICE)


def test_a_broken_body_is_refused_when_saved_naming_its_language(library):
    with pytest.raises(TemplateInvalid, match=r"bodies\.es: unknown variable customer\.phone"):
        library.put_personal(ALICE, "bad", content("Bad", "bad", en="ok", es="{{customer.phone}}"))


@pytest.mark.parametrize("language,default,expected", [
    ("es", "en", "es"), ("es-MX", "de", "es"), ("pt", "de", "de"), ("pt", "fr", "en"), (None, "fr", "en")])
def test_the_body_in_the_customers_language_else_the_shops_else_english(language, default, expected):
    response = CannedResponse(id="r", scope="shared", title="t", shortcode="t",
                              bodies={"de": "de", "en": "en", "es": "es"})
    assert body_for(response, language, default) == expected


def test_only_a_body_in_another_language_is_still_sent():
    response = CannedResponse(id="r", scope="shared", title="t", shortcode="t", bodies={"de": "Hallo"})
    assert body_for(response, "es", "en") == "Hallo"


def _order(number, created, tracking=None, shipment=None):
    at = datetime.fromisoformat(created).replace(tzinfo=UTC)
    fulfillments = [Fulfillment(id="f" + number, status="success", shipment_status=shipment,
                                tracking=[Tracking(number="T" + number, url=tracking)])] if tracking else []
    return Order(platform="shopify", id=number, name="#" + number, number=number, created_at=at, updated_at=at,
                 fulfillment_status="fulfilled" if tracking else "unfulfilled", fulfillments=fulfillments)


def test_the_named_order_wins_over_the_most_recent():
    old = _order("1001", "2026-11-20T10:00:00", "https://t/1", "in_transit")
    new = _order("1004", "2026-12-01T10:00:00")
    panel = OrderPanel([FoundOrder(new, ["phone"]), FoundOrder(old, ["email", "number"])], [], ["1001"], "cache")
    assert relevant_order(panel) is old
    assert order_values(old) == {"name": "#1001", "status": "in transit", "tracking_url": "https://t/1",
                                 "tracking_number": "T1001"}
    assert relevant_order(OrderPanel([FoundOrder(new, ["phone"]), FoundOrder(old, ["email"])], [], [], "cache")) is new
    # an order found only by the number the customer typed is not theirs: never filled in
    assert relevant_order(OrderPanel([FoundOrder(new, ["phone"]), FoundOrder(old, ["number"])], [], ["1001"],
                                     "cache")) is new
    assert relevant_order(OrderPanel([FoundOrder(old, ["number"])], [], ["1001"], "cache")) is None
    assert order_values(new) == {"name": "#1004", "status": "unfulfilled", "tracking_url": None,
                                 "tracking_number": None}
    assert relevant_order(OrderPanel([], [], ["1001"], "none")) is None


def test_the_order_status_is_said_in_a_canned_bodys_language_english_words_otherwise():
    shipped = _order("1001", "2026-11-20T10:00:00", "https://t/1", "in_transit")
    waiting = _order("1004", "2026-12-01T10:00:00")
    assert order_values(shipped, "es")["status"] == "en camino"
    assert order_values(shipped, "pt")["status"] == "em trânsito"
    assert order_values(waiting, "es")["status"] == "en preparación para el envío"
    # English, no language (the agent's own text) and a language without the words: the English words
    assert [order_values(shipped, lang)["status"] for lang in ("en", None, "fr")] == ["in transit"] * 3


@pytest.mark.parametrize(("typed", "stored"), [("WIS", "wis"), (" wis ", "wis"), ("/Wis", "wis"),
                                               ("refund-2", "refund-2")])
def test_a_shortcode_is_kept_as_it_is_typed_in_the_reply_box_whatever_case_or_slash_it_was_given_with(typed, stored):
    assert content("Where is my order", typed, en="On its way").shortcode == stored


@pytest.mark.parametrize("typed", ["wis it", "", "/", "wís"])
def test_a_shortcode_that_cannot_be_typed_after_a_slash_is_refused(typed):
    with pytest.raises(ValidationError):
        content("Where is my order", typed, en="On its way")
