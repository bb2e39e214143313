"""Opening a conversation with its side panels (shopdesk.api.opened): what is asked is answered, a part that
fails is left out for the app to read through its own route, and the audit record names what revealed personal data."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest

from shopdesk.api.customers import DuplicateList
from shopdesk.api.kb import AssistOut
from shopdesk.api.opened import Opener, parts
from shopdesk.errors import BadRequest, NotFound, ProviderError
from shopdesk.privacy import audit

CONV: Any = SimpleNamespace(id="c_1", customer=SimpleNamespace(id="u_1"))    # all the opener reads of it


def test_parts_are_named_once_in_a_fixed_order_and_an_unknown_one_is_refused() -> None:
    assert parts(None) == parts("") == parts(" , ") == ()
    assert parts("orders, customer,orders") == ("customer", "orders")
    with pytest.raises(BadRequest, match="unknown part"):
        parts("customer,profile")


def test_the_parts_are_read_side_by_side_and_one_that_fails_is_left_out_and_not_audited() -> None:
    started = threading.Barrier(4, timeout=5)      # the four reads run at once, or this times out
    threads: set[str] = set()

    def read(answer: Any) -> Any:
        threads.add(threading.current_thread().name)
        started.wait()
        if isinstance(answer, Exception):
            raise answer
        return answer

    opener = Opener(customer=lambda who, customer_id: read(NotFound(f"customer {customer_id} does not exist")),
                    duplicates=lambda who, customer_id: read(DuplicateList(items=[])),
                    orders=lambda who, conv: read(ProviderError("the platform is down", code=None, retryable=True)),
                    assist=lambda who, conv: read(AssistOut(suggestion=None)))
    token = audit._notes.set({})          # as the audit middleware does for the request
    try:
        included = opener.include("alice", CONV, ("customer", "duplicates", "orders", "assist"))
        notes = audit._notes.get() or {}
    finally:
        audit._notes.reset(token)
    assert included is not None and len(threads) == 4
    assert included.duplicates == DuplicateList(items=[]) and included.assist == AssistOut(suggestion=None)
    assert included.customer is None and included.orders is None
    # and the request's record names what it revealed: the duplicates, not what it could not read
    assert notes["revealed"] is True and notes["customer_id"] == "u_1" and notes["conversation_id"] == "c_1"
    assert notes["details"] == {"included": ["duplicates"]}
    assert notes["repeat"] is False         # asked for by a person: recorded every time


def test_nothing_asked_reads_nothing_and_the_assist_panel_alone_is_a_read_the_inbox_repeats() -> None:
    def never(*_: Any) -> Any:
        raise AssertionError("not asked for")
    opener = Opener(customer=never, duplicates=never, orders=never, assist=lambda who, conv: AssistOut(suggestion=None))
    for wanted in ((), ("assist",)):
        token = audit._notes.set({})
        try:
            assert (opener.include("alice", CONV, wanted) is None) is (wanted == ())
            notes = audit._notes.get() or {}
        finally:
            audit._notes.reset(token)
        # the conversation revealed its customer: recorded, once a window (no panel that reveals more)
        assert (notes["revealed"], notes["repeat"], notes["read"]) == (True, True, "conversation:c_1")
        assert notes["customer_id"] == "u_1" and "details" not in notes
