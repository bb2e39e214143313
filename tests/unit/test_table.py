"""The DynamoDB expression builder, (de)serialisation and paging cursors (no DynamoDB involved)."""

from __future__ import annotations

import base64
import re

import pytest

from shopdesk.dal.table import (
    INDEX_KEYS,
    KEY_SCHEMA,
    Query,
    Table,
    Update,
    decode_cursor,
    deserialize,
    encode_cursor,
    key,
    serialize,
)

# ------------------------------------------------------------------------------ Update.render

def test_set_uses_name_and_value_placeholders():
    rendered = Update().set("status", "open").set("message_count", 3).render()
    assert rendered["UpdateExpression"] == "SET #status = :v0, #message_count = :v1"
    assert rendered["ExpressionAttributeNames"] == {"#status": "status", "#message_count": "message_count"}
    assert rendered["ExpressionAttributeValues"] == {":v0": {"S": "open"}, ":v1": {"N": "3"}}
    assert "ConditionExpression" not in rendered


@pytest.mark.parametrize("reserved", ["status", "name", "ttl", "data", "count", "timestamp"])
def test_reserved_words_never_appear_bare(reserved):
    rendered = Update().set(reserved, 1).remove(reserved + "_x").render()
    words = rendered["UpdateExpression"].replace(",", " ").split()
    assert reserved not in words
    assert rendered["ExpressionAttributeNames"][f"#{reserved}"] == reserved


def test_dotted_path_gets_one_placeholder_per_segment():
    rendered = Update().set("sla.first_response_due_at", "2026-01-01T00:00:00.000Z").render()
    assert rendered["UpdateExpression"] == "SET #sla.#first_response_due_at = :v0"
    assert rendered["ExpressionAttributeNames"] == {"#sla": "sla", "#first_response_due_at": "first_response_due_at"}


def test_dashes_in_names_become_underscores_in_the_placeholder_only():
    rendered = Update().set("x-y", 1).render()
    assert rendered["UpdateExpression"] == "SET #x_y = :v0"
    assert rendered["ExpressionAttributeNames"] == {"#x_y": "x-y"}


def test_set_none_becomes_remove():
    rendered = Update().set("assignee", None).render()
    assert rendered["UpdateExpression"] == "REMOVE #assignee"
    assert "ExpressionAttributeValues" not in rendered


def test_set_remove_and_add_render_in_one_expression():
    rendered = (Update().set("status", "resolved").remove("QueuePK").remove("sla.first_response_at")
                .add("message_count", 1).add("sla_breaches", {"first_response"}).render())
    assert rendered["UpdateExpression"] == (
        "SET #status = :v0 REMOVE #QueuePK, #sla.#first_response_at ADD #message_count :v1, #sla_breaches :v2")
    assert rendered["ExpressionAttributeValues"] == {
        ":v0": {"S": "resolved"}, ":v1": {"N": "1"}, ":v2": {"SS": ["first_response"]}}


def test_add_negative_amount():
    rendered = Update().add("active", -1).render()
    assert rendered["UpdateExpression"] == "ADD #active :v0"
    assert rendered["ExpressionAttributeValues"] == {":v0": {"N": "-1"}}


def test_set_if_missing_uses_if_not_exists_on_the_same_path():
    rendered = Update().set_if_missing("sla.first_response_at", "2026-01-01T00:00:00.000Z").render()
    assert rendered["UpdateExpression"] == (
        "SET #sla.#first_response_at = if_not_exists(#sla.#first_response_at, :v0)")
    assert rendered["ExpressionAttributeValues"] == {":v0": {"S": "2026-01-01T00:00:00.000Z"}}


def test_append_extends_a_list_that_may_not_exist_yet():
    rendered = Update().append("history", ["a", "b"]).render()
    assert rendered["UpdateExpression"] == "SET #history = list_append(if_not_exists(#history, :v0), :v1)"
    assert rendered["ExpressionAttributeValues"] == {
        ":v0": {"L": []}, ":v1": {"L": [{"S": "a"}, {"S": "b"}]}}


def test_raw_set_clauses_follow_plain_sets_and_value_aliases_stay_unique():
    rendered = Update().set_if_missing("a", 1).set("b", 2).append("c", [3]).set("d", 4).render()
    assert rendered["UpdateExpression"] == (
        "SET #b = :v3, #d = :v4, #a = if_not_exists(#a, :v0), #c = list_append(if_not_exists(#c, :v1), :v2)")
    assert sorted(rendered["ExpressionAttributeValues"]) == [":v0", ":v1", ":v2", ":v3", ":v4"]


def test_condition_declares_its_names_and_values():
    rendered = (Update().set("status", "open")
                .when("attribute_exists(PK) AND #status <> :resolved", resolved="resolved").render())
    assert rendered["ConditionExpression"] == "attribute_exists(PK) AND #status <> :resolved"
    assert rendered["ExpressionAttributeNames"] == {"#status": "status"}
    assert rendered["ExpressionAttributeValues"][":resolved"] == {"S": "resolved"}


def test_condition_names_inside_functions_and_dotted_paths_are_declared():
    rendered = (Update().set("x", 1)
                .when("attribute_not_exists(#sla.#first_response_at) AND #active < #capacity").render())
    assert rendered["ExpressionAttributeNames"] == {
        "#x": "x", "#sla": "sla", "#first_response_at": "first_response_at", "#active": "active",
        "#capacity": "capacity"}


def test_conditions_combine_with_and():
    rendered = Update().set("x", 1).when("#a = :one", one=1).when("#b > :two", two=2).render()
    assert rendered["ConditionExpression"] == "(#a = :one) AND (#b > :two)"
    assert rendered["ExpressionAttributeValues"][":one"] == {"N": "1"}
    assert rendered["ExpressionAttributeValues"][":two"] == {"N": "2"}


def test_condition_values_never_collide_with_generated_aliases():
    rendered = Update().when("#status = :open", open="open").set("a", 1).set_if_missing("b", 2).render()
    values = rendered["ExpressionAttributeValues"]
    assert len(values) == 3
    assert values[":open"] == {"S": "open"}


def test_update_with_values_of_every_kind_serialises_them():
    rendered = Update().set("route", {"channel": "sms", "to": "+1", "none": None}).set("score", 0.5).render()
    assert rendered["ExpressionAttributeValues"][":v0"] == {"M": {"channel": {"S": "sms"}, "to": {"S": "+1"}}}
    assert rendered["ExpressionAttributeValues"][":v1"] == {"N": "0.5"}


def test_rendering_twice_gives_the_same_request():
    update = Update().set("status", "open")
    assert update.render() == update.render()


# ------------------------------------------------------------------------------ serialize / deserialize

def test_serialize_round_trips_plain_values():
    item = {"PK": "CONV#c_1", "count": 3, "ratio": 0.25, "big": 10**20, "neg": -7, "flag": True,
            "route": {"channel": "sms", "nested": {"deep": [1, "two", {"three": 3.5}]}},
            "list": ["a", 1, 2.5], "empty_map": {}}
    assert deserialize(serialize(item)) == item


def test_numbers_come_back_as_int_or_float_never_decimal():
    back = deserialize(serialize({"i": 3, "f": 0.1, "n": {"x": [7]}}))
    assert type(back["i"]) is int and type(back["f"]) is float and type(back["n"]["x"][0]) is int
    assert back["f"] == 0.1


def test_none_values_are_dropped_at_every_level():
    wire = serialize({"a": None, "b": {"c": None, "d": 1}, "e": 2})
    assert wire == {"b": {"M": {"d": {"N": "1"}}}, "e": {"N": "2"}}


def test_string_set_is_written_as_a_string_set():
    assert serialize({"s": {"b", "a"}})["s"]["SS"] in (["a", "b"], ["b", "a"])


def test_string_set_reads_back_with_the_same_members():
    back = deserialize(serialize({"breaches": {"first_response", "resolution"}}))
    assert sorted(back["breaches"]) == ["first_response", "resolution"]


def test_string_set_survives_a_read_and_write_back():
    wire = serialize({"breaches": {"first_response"}})
    assert serialize(deserialize(wire)) == wire


def test_key_is_typed_pk_and_sk():
    assert key("CONV#1", "META") == {"PK": {"S": "CONV#1"}, "SK": {"S": "META"}}


# ------------------------------------------------------------------------------ cursors

def test_cursor_round_trips_a_last_evaluated_key():
    last = {"PK": {"S": "CONV#c_1"}, "SK": {"S": "META"}, "StatusPK": {"S": "STATUS#open"},
            "StatusSK": {"S": "2026-01-01T00:00:00.000Z"}}
    cursor = encode_cursor(last)
    assert re.fullmatch(r"[A-Za-z0-9_-]+=*", cursor)        # safe in a query string as it is
    assert decode_cursor(cursor) == last


@pytest.mark.parametrize("empty", [None, {}])
def test_no_last_key_means_no_cursor(empty):
    assert encode_cursor(empty) is None


@pytest.mark.parametrize("empty", [None, ""])
def test_no_cursor_means_start_from_the_beginning(empty):
    assert decode_cursor(empty) is None


@pytest.mark.parametrize("garbage", [
    "not a cursor!",
    "%%%",
    "abc",                                                           # bad padding
    base64.urlsafe_b64encode(b"\xff\xfe\x00").decode(),              # not UTF-8
    base64.urlsafe_b64encode(b"{not json").decode(),
    base64.urlsafe_b64encode(b"[1, 2]").decode(),                    # JSON, but not an object
    base64.urlsafe_b64encode(b'"PK"').decode(),
])
def test_garbage_cursor_is_a_value_error(garbage):
    with pytest.raises(ValueError, match="cursor"):
        decode_cursor(garbage)


# ------------------------------------------------------------------------------ batch reads

class _FakeDynamo:
    def __init__(self) -> None:
        self.requests: list[list[str]] = []

    def batch_get_item(self, RequestItems):      # boto3 names it so
        [(table, request)] = RequestItems.items()
        keys = request["Keys"]
        self.requests.append([k["PK"]["S"] for k in keys])
        later = keys[90:]                              # DynamoDB may leave keys unprocessed
        found = [{**k, "id": {"S": k["PK"]["S"]}} for k in keys[:90]]
        return {"Responses": {table: found},
                "UnprocessedKeys": {table: {**request, "Keys": later}} if later else {}}


def test_batch_get_reads_any_number_of_keys_100_a_request_and_retries_unprocessed_ones():
    from shopdesk.dal.table import Table

    fake = _FakeDynamo()

    class FakeTable(Table):
        _client = fake          # type: ignore[assignment]

    keys = [(f"AGENT#{i:03d}", "META") for i in range(250)] + [("AGENT#000", "META")]
    found = FakeTable("desk").batch_get(keys)
    assert sorted(r["id"] for r in found) == sorted({pk for pk, _ in keys})
    assert all(len(r) <= 100 for r in fake.requests)
    assert [len(r) for r in fake.requests] == [100, 10, 100, 10, 50]


# ------------------------------------------------------------------------------ query_items

class _StaleIndex(Table):
    """An index that lags its table: the Query answers ``rows``, the items are ``items``."""

    def __init__(self, rows: list[dict], items: list[dict]):
        super().__init__("desk")
        self.rows, self.items, self.asked = rows, items, []

    def query(self, **kwargs):
        return Query(self.rows, "next-page")

    def batch_get(self, keys):
        self.asked.append(keys)
        return [i for i in self.items if (i["PK"], i["SK"]) in keys]


def _row(conv: str, sk: str) -> dict:
    return {"PK": f"CONV#{conv}", "SK": "META", "InboxPK": "INBOX#alice", "InboxSK": sk}


def test_query_items_reads_the_items_in_index_order_and_skips_entries_the_index_has_not_caught_up_with():
    rows = [_row("a", "open#3"), _row("b", "open#2"), _row("c", "open#1"), _row("gone", "open#0")]
    items = [{**_row("c", "open#1"), "last_message_preview": "c"},
             {**_row("b", "resolved#4"), "last_message_preview": "b"},     # moved on: listed at its new place
             {**_row("a", "open#3"), "last_message_preview": "a"}]
    table = _StaleIndex(rows, items)
    page = table.query_items(index="Inbox", key_condition="InboxPK = :pk", values={":pk": "INBOX#alice"})
    assert [i["last_message_preview"] for i in page.items] == ["a", "c"]
    assert page.cursor == "next-page"                      # the page resumes after the last entry read
    assert len(table.asked) == 1                           # one BatchGetItem for the page


def test_every_index_read_through_query_items_projects_only_keys_type_id_and_team():
    from local.template import load_template
    from tests.support import ROOT

    template = load_template(ROOT / "template.yaml")
    table = next(r for r in template["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table")
    indexes = {g["IndexName"]: g for g in table["Properties"]["GlobalSecondaryIndexes"]}
    for name, keys in INDEX_KEYS.items():
        assert tuple(k["AttributeName"] for k in indexes[name]["KeySchema"]) == keys
        assert indexes[name]["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["type", "id", "team"]}


def test_the_keys_a_cursor_may_name_are_the_table_s_and_its_indexes_as_the_template_declares_them_all_strings():
    # a cursor's start key is checked against these (``start_key``): an index added or changed in the template and
    # not here would have its lists' every second page refused
    from local.template import load_template
    from tests.support import ROOT

    template = load_template(ROOT / "template.yaml")
    table = next(r for r in template["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table")["Properties"]
    declared = {None: tuple(k["AttributeName"] for k in table["KeySchema"])} | {
        g["IndexName"]: tuple(k["AttributeName"] for k in g["KeySchema"]) for g in table["GlobalSecondaryIndexes"]}
    assert declared == KEY_SCHEMA
    assert {d["AttributeType"] for d in table["AttributeDefinitions"]} == {"S"}
