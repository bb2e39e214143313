"""Search's text analysis and query parsing: stems per language, folded diacritics, exact-key detection."""



from __future__ import annotations

import pytest

from shopdesk.errors import BadRequest
from shopdesk.logic.search import parse, parse_phone
from shopdesk.models import ConversationStatus
from shopdesk.search.feed import document
from shopdesk.search.sqlite import match_expression
from shopdesk.search.text import fold, index_terms, name_query, name_terms, query_forms, query_terms


@pytest.mark.parametrize(("language", "indexed", "queried"), [
    ("en", "The parcels were delivered", "parcel delivering"),
    ("es", "Mis pedidos llegaron tarde", "pedido llegar"),
    ("pt", "As encomendas chegaram atrasadas", "encomenda atrasada"),
    ("de", "Die Bestellungen wurden verschickt", "bestellung verschickt"),
    ("tr", "Siparişlerim gelmedi", "siparis"),
    ("id", "Pesanannya belum sampai", "pesanan sampai"),
    ("sk", "Objednávka nedorazila", "objednavka NEDORAZILA"),
    ("sk", "Objednávky ešte nedorazili", "objednávka nedorazila"),
    ("sk", "Vrátenie tovaru", "vrátiť tovar"),
])
def test_every_query_word_has_a_form_the_message_was_indexed_under(language, indexed, queried):
    terms = set(index_terms(indexed, language))
    assert all(set(forms) & terms for forms in query_terms(queried)), (terms, query_terms(queried))


def test_slovak_endings_are_stripped_and_a_message_of_unknown_language_is_not_stemmed():
    assert index_terms("Ďakujem za objednávky", "sk") == ["dak", "za", "objednavk"]
    assert index_terms("doručenie zmeniť adresu", "sk") == ["doruc", "zmen", "adres"]
    assert index_terms("shipped orders", None) == ["shipped", "orders"]
    assert "shipped" in query_forms("shipped") and "ship" in query_forms("shipped")


def test_folding_removes_marks_and_special_letters():
    assert fold("Çok teşekkürler, Straße, ÁÉÍÓÚ ñ ã İstanbul") == "cok tesekkurler, strasse, aeiou n a istanbul"


def test_a_query_without_words_matches_nothing_and_quotes_cannot_break_out():
    assert match_expression("¿?! --") is None
    assert match_expression('a" OR "b') == '("a") AND ("or") AND ("b")'


def test_a_system_message_or_an_empty_one_is_not_indexed_and_the_language_is_detected():
    from datetime import UTC, datetime

    from shopdesk.models import Direction, Message
    now = datetime(2026, 12, 1, tzinfo=UTC)
    system = Message(id="m_1", conversation_id="c_1", direction=Direction.SYSTEM, text="assigned", created_at=now)
    empty = Message(id="m_2", conversation_id="c_1", direction=Direction.INBOUND, text="  ", created_at=now)
    spanish = Message(id="m_3", conversation_id="c_1", direction=Direction.INBOUND, created_at=now,
                      text="Hola, ¿dónde está mi pedido? Gracias")
    assert document(system) is None and document(empty) is None
    doc = document(spanish)
    assert doc is not None and doc.language == "es" and "ped" in doc.terms.split()


@pytest.mark.parametrize(("q", "expected"), [
    ("c_01JXYZ0000000000000000000A", {"conversation_id": "c_01JXYZ0000000000000000000A"}),
    ("c_01jxyz0000000000000000000a", {"conversation_id": "c_01JXYZ0000000000000000000A"}),
    ("Ana.Ruiz@Example.com", {"email": "ana.ruiz@example.com"}),
    ("+31 6 1234 5678", {"phone": "+31612345678"}),
    ("(+1) 415-555-0102", {"phone": "+14155550102"}),
    ("#1001", {"order_numbers": ("1001",)}),
    ("pedido 1001", {"order_numbers": ("1001",)}),
    ("1001", {"order_numbers": ("1001",)}),
    ("@ana_ruiz", {"handle": "ana_ruiz"}),
    ("5512345678", {"handle": "5512345678", "order_numbers": ("5512345678",)}),
    ("where is my parcel", {}),
])
def test_exact_keys_are_recognised(q, expected):
    parsed = parse(q)
    found = {k: getattr(parsed, k) for k in ("conversation_id", "email", "phone", "handle", "order_numbers")
             if getattr(parsed, k)}
    assert found == expected
    assert parsed.text == q.strip()


def test_status_terms_filter_and_the_rest_is_searched():
    parsed = parse("status:Pending  refund please")
    assert parsed.status is ConversationStatus.PENDING and parsed.text == "refund please"


@pytest.mark.parametrize("q", ["status:closed refund", "label:vip refund", "status:open", "   "])
def test_a_query_with_an_unknown_filter_or_nothing_to_find_is_refused(q):
    with pytest.raises(BadRequest):
        parse(q)


def test_a_phone_without_its_country_code_is_not_a_phone_without_the_shops_region():
    assert parse_phone("06 1234 5678") is None
    assert parse_phone("0031 6 1234 5678") == "+31612345678"


@pytest.mark.parametrize(("q", "region", "phone"), [
    ("06 1234 5678", "NL", "+31612345678"),
    ("(415) 555-0101", "US", "+14155550101"),
    ("415 555 0101", "US", "+14155550101"),
    ("1-415-555-0101", "US", "+14155550101"),
    ("+31 6 1234 5678", "US", "+31612345678"),      # written with its country code: that country, whatever the shop's
    ("0031 6 1234 5678", "US", "+31612345678"),
    ("011 31 6 1234 5678", "US", "+31612345678"),  # the US way to dial abroad
    ("(415) 555-0101", None, None),                 # no region, no national numbers
    ("1001", "US", None),                           # an order number is not a possible phone
])
def test_a_national_number_is_the_shops_region_phone(q, region, phone):
    assert parse(q, region).phone == phone


def test_a_national_number_is_still_an_order_number_and_a_handle_too():
    parsed = parse("5512345678", "US")
    assert parsed.phone == "+15512345678"
    assert parsed.order_numbers == ("5512345678",) and parsed.handle == "5512345678"


def test_the_indexers_stream_filter_passes_messages_removed_conversations_and_customers_only():
    from local.functions import stream_source
    from local.streams import lambda_record, passes
    from local.template import load_template
    from tests.support import ROOT

    props = dict(load_template(ROOT / "template.yaml")["Resources"]["SearchIndexerFunction"]["Properties"]
                 ["Events"]["TableStream"]["Properties"])
    props["Stream"] = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026"
    props["DestinationConfig"] = {"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:123456789012:q"}}
    source = stream_source("SearchIndexerFunction", "TableStream", props)
    assert source.report_failures and source.bisect and source.on_failure_arn

    def record(event: str, pk: str, sk: str) -> dict:
        return lambda_record({"eventID": "e1", "eventName": event, "dynamodb": {
            "Keys": {"PK": {"S": pk}, "SK": {"S": sk}}, "SequenceNumber": "1"}}, source.stream_arn)

    for event in ("INSERT", "MODIFY", "REMOVE"):
        assert passes(source, record(event, "CONV#c_1", "MSG#2026#m_1"))
    assert passes(source, record("REMOVE", "CONV#c_1", "META"))
    for event in ("INSERT", "MODIFY", "REMOVE"):
        assert passes(source, record(event, "CUSTOMER#u_1", "META"))
    for event, pk, sk in [("INSERT", "CONV#c_1", "META"), ("MODIFY", "CONV#c_1", "META"),
                          ("INSERT", "CONV#c_1", "DEADLINE#first_response"), ("INSERT", "CHANGES", "2026#e"),
                          ("INSERT", "IDENTITY#phone#+31", "META"), ("INSERT", "CUSTOMER#u_1", "EVENT#2026#e"),
                          ("INSERT", "CUSTOMER#u_1", "SEEN#phone#+31")]:
        assert not passes(source, record(event, pk, sk)), (event, pk, sk)


def test_a_name_is_indexed_folded_with_its_prefixes_and_queried_folded():
    assert name_terms("Ana Ruiz") == ["a", "an", "ana", "r", "ru", "rui", "ruiz"]
    assert name_terms("José-María") == ["j", "jo", "jos", "jose", "m", "ma", "mar", "mari", "maria"]
    assert name_terms("") == [] and name_terms("  -- ") == []
    assert name_query("  Jose  MARÍA jose") == ["jose", "maria"]


class _Names:
    """What the indexer asks of the engine for customers' records."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def index_customer(self, customer_id: str, terms: str) -> None:
        self.calls.append(("index", customer_id, terms))

    def remove_customer(self, customer_id: str) -> None:
        self.calls.append(("remove", customer_id))


@pytest.mark.parametrize(("event", "new", "old", "outcome", "calls"), [
    ("INSERT", {"name": "Ana Ruiz"}, None, "customer indexed", [("index", "u_1", "a an ana r ru rui ruiz")]),
    ("INSERT", {"name": None}, None, "skipped", []),                        # a phone number, no name yet
    ("MODIFY", {"name": "Ana Ruiz", "tier": "vip"}, {"name": "Ana Ruiz"}, "unchanged", []),
    ("MODIFY", {"name": "Ana"}, {"name": "Ana Ruiz"}, "customer replaced",    # the old name's terms purged after
     [("index", "u_1", "a an ana")]),
    ("MODIFY", {"name": "Ana Ruiz", "merged_into": "u_2"}, {"name": "Ana Ruiz"}, "customer removed",
     [("remove", "u_1")]),                                                  # merged: found through the survivor
    ("MODIFY", {"name": "Ana Ruiz"}, {"name": "Ana Ruiz", "merged_into": "u_2"}, "customer indexed",
     [("index", "u_1", "a an ana r ru rui ruiz")]),                         # the merge undone
    ("REMOVE", None, {"name": "Ana Ruiz"}, "customer removed", [("remove", "u_1")]),   # erased
])
def test_a_customers_record_keeps_their_name_in_the_index(event, new, old, outcome, calls):
    from shopdesk.search.feed import apply

    names = _Names()
    keys = {"PK": "CUSTOMER#u_1", "SK": "META"}
    assert apply(names, event, keys, new, old) == outcome  # type: ignore[arg-type]
    assert names.calls == calls
    assert apply(names, "INSERT", {"PK": "CUSTOMER#u_1", "SK": "EVENT#2026#e1"}, {"name": "x"}, None) == "ignored"  # type: ignore[arg-type]
