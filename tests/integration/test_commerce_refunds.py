"""Refunds that cannot be made twice: what is left of each line (from the platform's refunds) bounds a refund,
and the same refund sent twice at once, or again just after, reaches the platform once. Shopify and WooCommerce,
against the commerce sandbox (which refuses and reports refunds as each platform does)."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from shopdesk import clock
from shopdesk.commerce.actions import RefundRequest
from shopdesk.commerce.models import RefundLine
from shopdesk.errors import Conflict
from shopdesk.logic.access import Caller
from tests.commerce_support import CommerceSandboxServer
from tests.integration.helpers import customer_writes
from tests.integration.test_commerce import agent_call, sandbox, shop  # noqa: F401 (the commerce tests' fixtures)

ORDER = {"shopify": "5500000001001", "woocommerce": "1001"}
SOCKS = "11002"


def _refunds_sent(sandbox: CommerceSandboxServer, platform: str) -> int:  # noqa: F811 (fixtures)
    """Refund requests that reached the platform (Shopify's refundCreate, WooCommerce's POST .../refunds)."""
    if platform == "shopify":
        return sum(1 for i in sandbox.outbox.items() if i["provider"] == "shopify" and "refundCreate" in i["body"])
    return sum(1 for i in sandbox.outbox.items() if i["provider"] == "woocommerce" and i["method"] == "POST"
               and i["url"].split("?")[0].endswith("/refunds"))


def _conversation(desk: Any, shop: dict[str, str], platform: str, sid: str) -> tuple[dict[str, str], str]:  # noqa: F811 (fixtures)
    env = {**shop, "COMMERCE_PLATFORM": platform}
    conv = customer_writes(desk, "+14155550101", "the socks were torn, both pairs", sid)
    status, panel = agent_call(desk, env, "GET", f"/agent/conversations/{conv}/orders")
    assert status == 200 and any(o["id"] == ORDER[platform] for o in panel["items"]), panel
    return env, conv


@pytest.mark.parametrize("platform", ["shopify", "woocommerce"])
def test_the_same_refund_twice_at_once_reaches_the_platform_once_and_a_third_is_refused_in_words(
        desk: Any, shop: dict[str, str], sandbox: CommerceSandboxServer, platform: str) -> None:  # noqa: F811 (fixtures)
    env, conv = _conversation(desk, shop, platform, "SM" + ("d1" if platform == "shopify" else "d2") * 16)
    handler = desk.handler("agent_api", **env)
    store = handler.order_actions.lookup.store
    # both requests read the order and pass every check before either holds the guard: only the guard decides
    barrier, hold = threading.Barrier(2, timeout=20), store.guard_refund

    def guard_after_both_checked(*args: Any, **kwargs: Any) -> Any:
        barrier.wait()
        return hold(*args, **kwargs)

    store.guard_refund = guard_after_both_checked
    who = Caller(id="alice", name="Alice", roles=frozenset({"admins"}))
    request = RefundRequest(line_items=[RefundLine(line_item_id=SOCKS, quantity=2)], confirm=True)

    def refund(_: int) -> Any:
        try:
            return handler.order_actions.refund(handler.inbox.get(who, conv), ORDER[platform], who, request)
        except Conflict as exc:
            return exc

    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            outcomes = list(pool.map(refund, range(2)))
    finally:
        store.guard_refund = hold
    done = [o for o in outcomes if not isinstance(o, Exception)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(done) == 1 and len(refused) == 1, outcomes
    assert done[0].message == "Refunded 20.00 USD on #1001"
    assert "by alice" in str(refused[0]) and str(refused[0]).endswith("check the order before refunding again")
    assert refused[0].code in ("refund_in_progress", "refund_just_made")
    assert _refunds_sent(sandbox, platform) == 1
    # once more, later: nothing is left of the socks, said in words, and nothing is sent
    path = f"/agent/conversations/{conv}/orders/{ORDER[platform]}/refund"
    body = {"line_items": [{"line_item_id": SOCKS, "quantity": 2}], "confirm": True}
    status, again = agent_call(desk, env, "POST", path, body=body)
    assert status == 422 and again["code"] == "already_refunded", again
    assert again["detail"].startswith("2 x Wool socks were refunded already on ")
    assert again["detail"].endswith("; 0 left to refund, not 2")
    assert _refunds_sent(sandbox, platform) == 1
    # the panel (the API's order) says what was refunded of each line
    panel = agent_call(desk, env, "GET", f"/agent/conversations/{conv}/orders")[1]
    order = next(o for o in panel["items"] if o["id"] == ORDER[platform])
    socks = next(li for li in order["line_items"] if li["id"] == SOCKS)
    assert (socks["quantity"], socks["refunded_quantity"]) == (2, 2)


@pytest.mark.parametrize("platform", ["shopify", "woocommerce"])
def test_a_partial_refund_then_the_rest_both_succeed_and_a_repeat_just_after_is_refused(
        desk: Any, shop: dict[str, str], sandbox: CommerceSandboxServer, platform: str) -> None:  # noqa: F811 (fixtures)
    env, conv = _conversation(desk, shop, platform, "SM" + ("d3" if platform == "shopify" else "d4") * 16)
    path = f"/agent/conversations/{conv}/orders/{ORDER[platform]}/refund"
    one = {"line_items": [{"line_item_id": SOCKS, "quantity": 1}]}
    status, done = agent_call(desk, env, "POST", path, body={**one, "confirm": True})
    assert status == 200 and done["message"] == "Refunded 10.00 USD on #1001", done
    assert next(li for li in done["order"]["line_items"] if li["id"] == SOCKS)["refunded_quantity"] == 1
    # the same refund sent again just after (a second tab, a retry): refused in words, nothing sent
    status, repeat = agent_call(desk, env, "POST", path, agent_id="bob", body={**one, "confirm": True})
    assert status == 409 and repeat["code"] == "refund_just_made", repeat
    assert repeat["detail"].startswith("this refund was just made by alice at ")
    assert _refunds_sent(sandbox, platform) == 1
    # more than is left: 422, nothing sent
    status, over = agent_call(desk, env, "POST", path, body={"line_items": [{"line_item_id": SOCKS, "quantity": 2}],
                                                             "confirm": True})
    assert status == 422 and over["detail"].startswith("1 x Wool socks was refunded already on "), over
    assert over["detail"].endswith("; 1 left to refund, not 2")
    # the preview says what is left
    status, preview = agent_call(desk, env, "POST", path, body=one)
    assert status == 409 and preview["code"] == "confirmation_required"
    assert "refunded already: 1 x Wool socks" in preview["preview"]["summary"]
    line = preview["preview"]["line_items"][0]
    assert (line["quantity"], line["refunded_quantity"], line["left_to_refund"]) == (1, 1, 1)
    # once the guard's short while is over, the rest goes through
    clock.set_offset(clock.offset() + 600)
    try:
        status, rest = agent_call(desk, env, "POST", path, body={**one, "confirm": True})
    finally:
        clock.set_offset(clock.offset() - 600)
    assert status == 200 and rest["message"] == "Refunded 10.00 USD on #1001", rest
    assert _refunds_sent(sandbox, platform) == 2
    socks = next(li for li in rest["order"]["line_items"] if li["id"] == SOCKS)
    assert (socks["refunded_quantity"], socks.get("refundable_quantity")) in ((2, 0), (2, None))


def test_a_refund_the_platform_refuses_may_be_tried_again_at_once(
        desk: Any, shop: dict[str, str], sandbox: CommerceSandboxServer) -> None:  # noqa: F811 (fixtures)
    env, conv = _conversation(desk, shop, "shopify", "SM" + "d5" * 16)
    path = f"/agent/conversations/{conv}/orders/{ORDER['shopify']}/refund"
    body = {"line_items": [{"line_item_id": SOCKS, "quantity": 1}], "confirm": True}
    sandbox.shopify.refusals.append("The payment gateway declined the refund")
    assert agent_call(desk, env, "POST", path, body=body)[0] == 422
    status, done = agent_call(desk, env, "POST", path, body=body)
    assert status == 200, done


def test_a_refund_of_everything_on_shopify_refunds_every_line_left_and_the_shipping(
        desk: Any, shop: dict[str, str], sandbox: CommerceSandboxServer) -> None:  # noqa: F811 (fixtures)
    # Given #1001 (shoes 99.00, two socks at 10.00, total 119.00: 0.00 shipping here) with one sock refunded
    env, conv = _conversation(desk, shop, "shopify", "SM" + "d5" * 16)
    path = f"/agent/conversations/{conv}/orders/{ORDER['shopify']}/refund"
    status, done = agent_call(desk, env, "POST", path, body={"line_items": [{"line_item_id": SOCKS, "quantity": 1}],
                                                             "confirm": True})
    assert status == 200, done
    # When an agent refunds everything (no lines), once the guard's short while is over
    clock.set_offset(clock.offset() + 600)
    try:
        status, rest = agent_call(desk, env, "POST", path, body={"confirm": True})
    finally:
        clock.set_offset(clock.offset() - 600)
    # Then the money left is refunded, and every line left counts as refunded on the order (Shopify is asked for
    # a full refund's suggestion, and its lines are the refund's: given no lines it suggests the shipping alone)
    assert status == 200 and rest["message"] == "Refunded 109.00 USD on #1001", rest
    assert {li["id"]: li["refunded_quantity"] for li in rest["order"]["line_items"]} == {"11001": 1, SOCKS: 2}
    [create] = [json.loads(i["body"])["variables"]["input"] for i in sandbox.outbox.items()
                if i["provider"] == "shopify" and "refundCreate" in i["body"] and "11001" in i["body"]]
    assert create["shipping"] == {"fullRefund": True}
    assert sorted((x["lineItemId"].rsplit("/", 1)[-1], x["quantity"]) for x in create["refundLineItems"]) == [
        ("11001", 1), (SOCKS, 1)]
