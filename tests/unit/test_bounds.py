"""shopdesk.bounds: provider data bounded to what parsers can walk and one DynamoDB item can hold."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tests.mutations  # noqa: F401 (registers and loads the Hypothesis profiles)
from shopdesk import bounds
from shopdesk.dal.items import identity_pk, marker_pk, message_item
from shopdesk.dal.table import serialize
from shopdesk.errors import BadRequest
from shopdesk.models import Direction, Message

DYNAMODB_ITEM_BYTES = 400_000


def _depth(value: Any) -> int:
    depth, level = 0, [value]
    while level:
        depth += 1
        level = [v for item in level if isinstance(item, dict | list)
                 for v in (item.values() if isinstance(item, dict) else item)]
    return depth - 1


def _nested(levels: int, leaf: Any = "leaf") -> Any:
    for _ in range(levels):
        leaf = {"v": leaf}
    return leaf


def test_lone_surrogates_become_replacement_characters_in_keys_and_values():
    got = bounds.bound({"\ud800key": ["a\udfffb", "\U0001f600"]})
    assert got.value == {"\ufffdkey": ["a\ufffdb", "\U0001f600"]} and not got.truncated
    json.dumps(got.value, ensure_ascii=False).encode("utf-8")          # valid UTF-8 now


def test_a_container_deeper_than_the_limit_becomes_a_marked_string():
    got = bounds.bound(_nested(300))
    assert got.truncated and _depth(got.value) == bounds.STORE_DEPTH
    leaf = _nested(0)
    node = got.value
    while isinstance(node, dict):
        node = node["v"]
    assert node.startswith(bounds.TRUNCATED + ": nested deeper than 24 levels]") and '{"v": ' in node
    assert leaf == "leaf"


def test_long_strings_and_arrays_are_cut_with_a_marker_saying_how_much():
    got = bounds.bound({"s": "é" * 100_000, "l": list(range(2_000))})
    assert got.truncated
    assert got.value["s"].endswith("more bytes]") and len(got.value["s"].encode()) <= bounds.MAX_STRING
    assert got.value["l"][-1] == f"{bounds.TRUNCATED}: 1,500 more items]" and len(got.value["l"]) == 501


def test_numbers_dynamodb_cannot_hold_become_strings():
    got = bounds.bound([float("nan"), float("inf"), 10 ** 40, 1e-200, 1e300, 2.5, -7, True]).value
    assert got == ["nan", "inf", str(10 ** 40), "1e-200", "1e+300", 2.5, -7, True]
    serialize({"n": got})


def test_a_value_over_the_byte_budget_is_tightened_until_it_fits():
    value = {f"k{i}": "x" * 30_000 for i in range(400)}
    got = bounds.bound(value, max_bytes=150_000)
    assert got.truncated and len(json.dumps(got.value).encode()) <= 150_000


def test_short_text_is_untouched_and_long_text_ends_with_the_marker():
    assert bounds.bound_text("hello") == bounds.Bounded("hello", False)
    cut = bounds.bound_text("x" * 250_000)
    assert cut.truncated and cut.value.endswith("more bytes]") and len(cut.value.encode()) <= bounds.TEXT_BYTES


def test_long_key_parts_are_hashed_the_same_way_every_time():
    long_id = "wamid." + "x" * 5_000
    assert marker_pk("whatsapp_cloud", long_id) == marker_pk("whatsapp_cloud", long_id)
    assert len(marker_pk("whatsapp_cloud", long_id).encode()) < 1_024 != len(marker_pk("whatsapp_cloud", long_id + "y"))
    assert marker_pk("twilio", "SM1") == "EXTMSG#twilio#SM1" and identity_pk("phone", "+1555") == "IDENTITY#phone#+1555"
    assert marker_pk("whatsapp_cloud", long_id) != marker_pk("whatsapp_cloud", long_id + "y")


def test_loads_cuts_what_parsers_would_recurse_into_and_refuses_what_json_cannot_read():
    doc = bounds.loads(json.dumps({"a": _nested(200), "s": "\ud800"}))
    assert _depth(doc) == bounds.READ_DEPTH and doc["s"] == "\ufffd"
    with pytest.raises(BadRequest, match="nested too deeply"):
        bounds.loads("[" * 100_000 + "]" * 100_000)
    with pytest.raises(BadRequest, match="not JSON"):
        bounds.loads(b"\xff{")


def test_an_integer_too_long_to_convert_is_refused_and_decode_leaves_text_that_is_not_json_to_the_caller():
    with pytest.raises(BadRequest, match="holds a number too long to read"):
        bounds.loads('{"n": ' + "9" * 5_000 + "}")
    with pytest.raises(BadRequest, match="holds a number too long to read"):
        bounds.decode('{"n": ' + "9" * 5_000 + "}")
    with pytest.raises(BadRequest, match="nested too deeply"):
        bounds.decode("[" * 100_000)
    with pytest.raises(json.JSONDecodeError):          # the HTTP APIs' validation says where (422)
        bounds.decode('{"n": ')
    assert bounds.decode('{"": "\\ud800"}') == {"": "\ud800"}        # as sent: no walk, nothing replaced


def _message(**fields: Any) -> Message:
    return Message(id="m_1", conversation_id="c_1", direction=Direction.INBOUND,
                   created_at=datetime(2026, 12, 1, tzinfo=UTC), **fields)


def test_a_message_too_large_for_one_item_is_stored_truncated_and_says_which_fields():
    item = message_item(_message(text="t" * 500_000, subject="s" * 10_000,
                                 payload={"raw": _nested(100, "x" * 300_000), "list": list(range(50_000))}))
    assert item["truncated"] == ["text", "subject", "payload"]
    assert len(json.dumps(item).encode()) < DYNAMODB_ITEM_BYTES
    assert _depth(item["payload"]) <= bounds.STORE_DEPTH
    serialize(item)
    assert "truncated" not in {k for k, v in message_item(_message(text="fine")).items() if v is not None}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=5), inner, max_size=5),
    max_leaves=30)


@given(value=json_values, levels=st.integers(min_value=0, max_value=60))
def test_any_json_value_bounds_to_something_dynamodb_accepts(value, levels):
    got = bounds.bound(_nested(levels, value), max_bytes=50_000)
    serialize({"payload": got.value})
    assert _depth(got.value) <= bounds.STORE_DEPTH
    assert len(json.dumps(got.value, ensure_ascii=False).encode("utf-8")) <= 50_000
