"""Shopify's shop/redact (sent 48 hours after the shop uninstalled the app) deletes everything the commerce cache holds
of the shop: orders, their pointers, the shop's customer records, lookup markers. The desk's own customers and
conversations, got through its own channels, stay. The request follows its job to done, and the audit trail says
what went."""

from __future__ import annotations

import json
from typing import Any

from shopdesk.commerce.webhooks import sign
from tests.commerce_support import SHOPIFY_TEST_SECRET
from tests.integration import test_commerce
from tests.integration.helpers import customer_writes
from tests.integration.test_commerce import _post, _privacy_requests, shopify_sample
from tests.integration.test_privacy import scan
from tests.support import FakeContext, http_event

sandbox, shop = test_commerce.sandbox, test_commerce.shop      # the commerce sandbox and its environment (fixtures)

SHOP_PREFIXES = ("ORDER#shopify#", "SHOPCUSTOMER#shopify#", "COMMERCE#shopify#")


def _shop_redact(desk: Any, shop: dict[str, str], delivery: str) -> tuple[int, Any]:
    body = json.dumps({"shop_id": 954889, "shop_domain": "example-shop.myshopify.com"}).encode()
    return _post(desk, shop, "inbound_shopify", "/webhooks/shopify", body, {
        "Content-Type": "application/json", "X-Shopify-Topic": "shop/redact", "X-Shopify-Webhook-Id": delivery,
        "X-Shopify-Shop-Domain": "example-shop.myshopify.com",
        "X-Shopify-Hmac-Sha256": sign(SHOPIFY_TEST_SECRET, body)})


def _admin(desk: Any, shop: dict[str, str], path: str, query: str = "") -> Any:
    event = http_event("GET", path, claims={"cognito:username": "root", "cognito:groups": "[admins]"})
    if query:
        event["rawQueryString"] = query
        event["queryStringParameters"] = dict(p.split("=", 1) for p in query.split("&"))
    return json.loads(desk.invoke("admin_api", event, **shop)["body"])


def test_shop_redact_deletes_the_shops_cache_and_keeps_the_desks_own_customers(desk: Any,
                                                                                shop: dict[str, str]) -> None:
    # Given the shop's orders and customers cached from its webhooks, and a customer who wrote to the desk by SMS
    for sample in ("orders_create", "customers_create_phone_only", "orders_fulfilled_multi_fulfillment"):
        assert shopify_sample(desk, shop, sample)[0] == 200
    conv = customer_writes(desk, "+31655501702", "Hello, where is my parcel?", "SMshopredact1")
    cached = [i for i in scan(desk) if i["PK"].startswith(SHOP_PREFIXES)]
    kinds = {i["PK"].split("#", 1)[0] for i in cached}
    assert kinds == {"ORDER", "SHOPCUSTOMER", "COMMERCE"}, kinds
    desk_items = {(i["PK"], i["SK"]) for i in scan(desk) if i["PK"].startswith(("CUSTOMER#", "IDENTITY#", "CONV#"))}
    assert desk_items
    # When Shopify sends shop/redact and the privacy function runs
    status, answer = _shop_redact(desk, shop, "shop-redact-1")
    assert (status, answer["status"]) == (200, "recorded")
    [running] = _privacy_requests(desk, shop)
    assert running["topic"] == "shop/redact" and running["status"] == "running" and running["job_id"]
    desk.drain_queue(desk.env["PRIVACY_QUEUE_URL"], "privacy")
    # Then nothing of the shop's cache is left, and the desk's own customer and conversation are
    assert [(i["PK"], i["SK"]) for i in scan(desk) if i["PK"].startswith(SHOP_PREFIXES)] == []
    after = {(i["PK"], i["SK"]) for i in scan(desk)}
    assert desk_items <= after and (f"CONV#{conv}", "META") in after
    # and the request is done, its job says what went, and so does the audit trail
    [request] = _privacy_requests(desk, shop)
    assert (request["status"], request["job_id"]) == ("done", running["job_id"])
    job = _admin(desk, shop, f"/admin/privacy/jobs/{request['job_id']}")
    counts = {"orders": sum(1 for i in cached if i["PK"].startswith("ORDER#")),
              "shop_customers": sum(1 for i in cached if i["PK"].startswith("SHOPCUSTOMER#")),
              "pointers": sum(1 for i in cached if i["PK"].startswith("COMMERCE#"))}
    assert (job["status"], job["kind"], job["counts"]) == ("done", "shop_redact", counts)
    [record] = [r for r in _admin(desk, shop, "/admin/audit", "actor=system:privacy")["items"]
                if r["action"] == "shop.redact.done"]
    assert record["details"] == {"job_id": request["job_id"], "requested_by": "system:shopify", **counts}
    # And a redelivery of the same request starts nothing again
    assert _shop_redact(desk, shop, "shop-redact-1")[1]["status"] == "duplicate"
    assert desk.drain_queue(desk.env["PRIVACY_QUEUE_URL"], "privacy") == 0


def test_a_shop_redact_with_little_time_per_invocation_goes_on_slice_by_slice_until_the_cache_is_gone(
        desk: Any, shop: dict[str, str], monkeypatch: Any) -> None:
    # Given the shop's orders cached, and invocations with time for no more than the one page a slice reads at least
    for sample in ("orders_create", "customers_create_phone_only", "orders_fulfilled_multi_fulfillment"):
        assert shopify_sample(desk, shop, sample)[0] == 200
    table = scan(desk)
    cached = [i for i in table if i["PK"].startswith(SHOP_PREFIXES)]
    monkeypatch.setattr("shopdesk.privacy.jobs.SHOP_PAGE", 3)
    monkeypatch.setattr(FakeContext, "get_remaining_time_in_millis", staticmethod(lambda: 0))
    # When Shopify sends shop/redact
    assert _shop_redact(desk, shop, "shop-redact-2")[1]["status"] == "recorded"
    slices = desk.drain_queue(desk.env["PRIVACY_QUEUE_URL"], "privacy")
    # Then the job went on over several invocations, a page each, and deleted all of it once
    assert slices >= len(table) // 3
    assert [i for i in scan(desk) if i["PK"].startswith(SHOP_PREFIXES)] == []
    [request] = _privacy_requests(desk, shop)
    job = _admin(desk, shop, f"/admin/privacy/jobs/{request['job_id']}")
    assert (request["status"], job["status"]) == ("done", "done")
    assert sum(job["counts"].values()) == len(cached)


def test_a_shop_redact_whose_continuation_the_queue_refuses_is_dead_lettered_and_a_redrive_finishes_it(
        desk: Any, shop: dict[str, str], monkeypatch: Any) -> None:
    from botocore.exceptions import ClientError
    from scripts import redrive

    from shopdesk.dal.queues import Queue
    from tests.integration.test_privacy_retry import _attempt, run_jobs_all

    # Given the shop's orders cached, invocations with time for one page a slice, and Shopify's shop/redact queued
    for sample in ("orders_create", "customers_create_phone_only", "orders_fulfilled_multi_fulfillment"):
        assert shopify_sample(desk, shop, sample)[0] == 200
    cached = [i for i in scan(desk) if i["PK"].startswith(SHOP_PREFIXES)]
    monkeypatch.setattr("shopdesk.privacy.jobs.SHOP_PAGE", 1)
    monkeypatch.setattr(FakeContext, "get_remaining_time_in_millis", staticmethod(lambda: 0))
    assert _shop_redact(desk, shop, "shop-redact-dlq")[1]["status"] == "recorded"
    # When the privacy queue then refuses every send, so each slice's continuation fails its message, five times
    real = Queue.send

    def send(self: Any, body: Any, *args: Any, **kwargs: Any) -> Any:
        if self.url == desk.env["PRIVACY_QUEUE_URL"]:
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "injected"}}, "SendMessage")
        return real(self, body, *args, **kwargs)

    monkeypatch.setattr(Queue, "send", send)
    for _ in range(5):
        assert _attempt(desk), "the slice's continuation was refused: its message failed"
    # Then the job and the request say failed, and the message is in the dead-letter queue
    [request] = _privacy_requests(desk, shop)
    assert (request["status"], _admin(desk, shop, f"/admin/privacy/jobs/{request['job_id']}")["status"]) == (
        "failed", "failed")
    sqs, queue = desk.client("sqs"), desk.env["PRIVACY_QUEUE_URL"]
    dlq_arn = json.loads(sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["RedrivePolicy"])[
        "Attributes"]["RedrivePolicy"])["deadLetterTargetArn"]
    dlq = sqs.get_queue_url(QueueName=dlq_arn.rsplit(":", 1)[1])["QueueUrl"]
    assert sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []) == []
    # And once the queue takes sends again, the operator's redrive resumes the deletion where it was, to done
    monkeypatch.setattr(Queue, "send", real)
    assert redrive.move(sqs, dlq, queue).moved == 1
    run_jobs_all(desk)
    assert [i for i in scan(desk) if i["PK"].startswith(SHOP_PREFIXES)] == []
    [request] = _privacy_requests(desk, shop)
    job = _admin(desk, shop, f"/admin/privacy/jobs/{request['job_id']}")
    assert (request["status"], job["status"]) == ("done", "done")
    assert sum(job["counts"].values()) == len(cached)
