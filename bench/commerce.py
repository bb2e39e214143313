"""Commerce figures: the order panel's latency on a cache hit and a miss, DynamoDB requests per webhook
delivery, and the ingest budget (which commerce must leave unchanged).

The real handlers (agent_api, inbound_shopify, inbound_twilio) run against moto in server mode; the
platform is the local stack's Shopify sandbox (GraphQL parsed and validated, query costs metered) on
loopback, seeded with as many customers as the run needs. Requests are counted the way
bench/harness.py counts them (every HTTP request of the layer's clients, retries included).

    python -m bench.commerce [--customers N]    writes the "commerce" key of bench/results.json
"""

from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import hmac
import json
import os
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from statistics import mean, quantiles
from typing import Any

from bench import ingest
from bench.harness import (
    SHOP_NUMBER,
    FakeContext,
    boto_client,
    count_layer_requests,
    create_stack,
    http_event,
    load_handler,
    moto_server,
    save_result,
    signed_twilio_event,
    twilio_form,
    use_layer,
)

HERE = Path(__file__).resolve().parent
TOKEN = "bench-shopify-access-token"          # noqa: S105 (fake, stored in moto)
CLIENT_SECRET = "bench-shopify-client-secret"  # noqa: S105
ADMIN_CLAIMS = {"cognito:username": "alice", "name": "Alice", "cognito:groups": "[admins]"}


class Sandbox:
    """The local stack's Shopify sandbox on a loopback port, with ``customers`` demo customers."""

    def __init__(self, customers: int) -> None:
        from local.commerce import ShopifySandbox
        from local.sandbox import Outbox

        self.shopify = ShopifySandbox(TOKEN, Outbox(), lambda: datetime.now(UTC))
        self.shopify.set_bucket(20_000.0, 1_000.0)     # a Plus shop: the run measures latency, not waiting
        shop = self.shopify.shop
        template = next(iter(shop.orders.values()))
        for n in range(customers):
            customer_id = 100_000 + n
            shop.customers[customer_id] = {"id": customer_id, "first_name": "Bench", "last_name": f"Customer {n}",
                                           "email": f"bench{n}@example.com", "phone": phone(n)}
            for k in range(2):
                order = copy.deepcopy(template)
                order.update(number=20_000 + n * 2 + k, customer=customer_id,
                             created_at=f"2026-11-{10 + k:02d}T10:00:00Z", updated_at=f"2026-11-{11 + k:02d}T10:00:00Z")
                shop.orders[order["number"]] = order
        sandbox = self.shopify

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                path, _, query = self.path.partition("?")
                status, headers, answer = sandbox.handle("POST", path, query, self.path, dict(self.headers), body)
                self.send_response(status)
                for name, value in {**headers, "Content-Length": str(len(answer))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def phone(n: int) -> str:
    return f"+1303555{n:04d}"


def _percentiles(samples: list[float]) -> dict[str, float]:
    cuts = quantiles(samples, n=100, method="inclusive")
    return {"p50": round(cuts[49], 1), "p95": round(cuts[94], 1), "max": round(max(samples), 1),
            "samples": len(samples)}


def _requests(delta: Counter[str], service: str) -> int:
    return sum(n for op, n in delta.items() if op.split(".", 1)[0] == service)


def lookup(endpoint: str, customers: int) -> dict[str, Any]:
    """GET /agent/conversations/{id}/orders: the first call per conversation misses (the platform is asked
    for the customer's phone and the order number in the message), the second hits the cache."""
    stack = create_stack(endpoint)
    sandbox = Sandbox(customers)
    try:
        secret = stack.names["ShopifySecret"]
        boto_client("secretsmanager", endpoint).put_secret_value(SecretId=secret, SecretString=json.dumps(
            {"access_token": TOKEN, "client_secret": CLIENT_SECRET, "previous_client_secret": ""}))
        env = {**stack.env("agent_api"), "COMMERCE_PLATFORM": "shopify", "SHOPIFY_ADMIN_BASE_URL": sandbox.url,
               "SHOPIFY_SECRET_ARN": secret}
        inbound = load_handler("inbound_twilio", stack.env("inbound_twilio"))
        agent_api = load_handler("agent_api", env)
        conversations = []
        for n in range(customers):
            sid = "SM" + uuid.uuid4().hex
            body = twilio_form(MessageSid=sid, From=phone(n), To=SHOP_NUMBER,
                               Body=f"Hi, where is my order #{20_000 + n * 2}?")
            assert inbound.lambda_handler(signed_twilio_event("/webhooks/twilio", body), FakeContext())["statusCode"] \
                == 200
        use_layer()
        from shopdesk.dal.conversations import Conversations
        from shopdesk.dal.table import Table

        store = Conversations(Table(stack.table_name), 16)
        for n in range(customers):
            identity = store.get_identity("phone", phone(n))
            assert identity is not None and identity.open_conversation_id
            conversations.append(identity.open_conversation_id)

        timings: dict[str, list[float]] = {"miss": [], "hit": []}
        requests: dict[str, list[Counter[str]]] = {"miss": [], "hit": []}
        sources: Counter[str] = Counter()
        with count_layer_requests() as counter:
            for conv, kind in ((c, k) for c in conversations for k in ("miss", "hit")):   # side by side in time
                path = f"/agent/conversations/{conv}/orders"
                before = counter.snapshot()
                started = time.perf_counter()
                result = agent_api.lambda_handler(http_event("GET", path, claims=ADMIN_CLAIMS), FakeContext())
                timings[kind].append((time.perf_counter() - started) * 1000)
                requests[kind].append(counter.snapshot() - before)
                assert result["statusCode"] == 200, result
                panel = json.loads(result["body"])
                sources[f"{kind}:{panel['source']}"] += 1
                assert len(panel["items"]) == 2, panel
        return {
            "conversations": customers,
            "lookup_ms": {kind: _percentiles(values[1:] if kind == "miss" else values)   # the first miss warms up
                          for kind, values in timings.items()},
            "dynamodb_requests_per_panel": {kind: round(mean(_requests(d, "dynamodb") for d in deltas), 2)
                                            for kind, deltas in requests.items()},
            "dynamodb_requests_per_panel_by_operation": {
                kind: {op: round(mean(d[op] for d in deltas), 2) for op in sorted({o for d in deltas for o in d})
                       if op.startswith("dynamodb.")} for kind, deltas in requests.items()},
            "sources": dict(sources),
            "platform": "shopify sandbox (graphql-core, loopback)",
        }
    finally:
        sandbox.close()


def _sign(body: bytes) -> str:
    return base64.b64encode(hmac.new(CLIENT_SECRET.encode(), body, hashlib.sha256).digest()).decode()


def webhooks(endpoint: str, orders: int) -> dict[str, Any]:
    """Deliveries as Shopify makes them: new orders, newer updates, older updates arriving late, re-deliveries,
    fulfilments, refunds, customers and privacy requests; DynamoDB requests counted per delivery."""
    from local.commerce import Shop, shopify_rest_order, shopify_wire

    stack = create_stack(endpoint)
    secret = stack.names["ShopifySecret"]
    boto_client("secretsmanager", endpoint).put_secret_value(SecretId=secret, SecretString=json.dumps(
        {"access_token": TOKEN, "client_secret": CLIENT_SECRET, "previous_client_secret": ""}))
    handler = load_handler("inbound_shopify", stack.env("inbound_shopify"))
    domain = stack.env("inbound_shopify")["SHOPIFY_SHOP_DOMAIN"]     # the desk's shop: another shop's are ignored
    shop = Shop(lambda: datetime.now(UTC))
    template = next(iter(shop.orders.values()))
    deliveries: list[tuple[str, str, bytes, str]] = []       # scenario, topic, body, webhook id
    for n in range(orders):
        order = copy.deepcopy(template)
        order.update(number=30_000 + n, updated_at="2026-11-20T10:00:00Z")
        created = shopify_wire(shopify_rest_order(shop, order))
        newer = copy.deepcopy(order)
        newer.update(updated_at="2026-11-21T10:00:00Z", financial="PARTIALLY_REFUNDED")
        updated = shopify_wire(shopify_rest_order(shop, newer))
        rest = shopify_rest_order(shop, newer)
        fulfillment = dict(rest["fulfillments"][0], id=70_000 + n, updated_at="2026-11-21T11:00:00Z")
        refund = {"id": 60_000 + n, "order_id": rest["id"], "created_at": "2026-11-21T12:00:00Z", "note": "bench",
                  "transactions": [{"amount": "5.00", "kind": "refund", "status": "success"}]}
        first_id = str(uuid.uuid4())
        deliveries += [("new_order", "orders/create", created, first_id),
                       ("newer_update", "orders/updated", updated, str(uuid.uuid4())),
                       ("older_update_late", "orders/updated", created, str(uuid.uuid4())),
                       ("duplicate", "orders/create", created, first_id),
                       ("fulfillment", "fulfillments/create", shopify_wire(fulfillment), str(uuid.uuid4())),
                       ("refund", "refunds/create", shopify_wire(refund), str(uuid.uuid4())),
                       ("customer", "customers/update", shopify_wire({
                           "id": 80_000 + n, "email": f"w{n}@example.com", "phone": "+13035550000",
                           "updated_at": "2026-11-21T10:00:00Z"}), str(uuid.uuid4()))]
    deliveries += [("privacy", "customers/redact", shopify_wire({
        "shop_id": 1, "shop_domain": domain, "customer": {"id": n, "email": f"p{n}@example.com"},
        "orders_to_redact": [n]}), str(uuid.uuid4())) for n in range(max(1, orders // 5))]

    observed: list[tuple[str, int, Counter[str], str]] = []
    with count_layer_requests() as counter:
        for scenario, topic, body, webhook_id in deliveries:
            event = http_event("POST", "/webhooks/shopify", body.decode(), {
                "content-type": "application/json", "x-shopify-topic": topic, "x-shopify-webhook-id": webhook_id,
                "x-shopify-hmac-sha256": _sign(body), "x-shopify-shop-domain": domain})
            before = counter.snapshot()
            result = handler.lambda_handler(event, FakeContext())
            answer = json.loads(result["body"])
            observed.append((scenario, int(result["statusCode"]), counter.snapshot() - before, answer.get("status")))
    warm = observed[1:]                                    # the first delivery also reads the secret
    by_scenario: dict[str, Any] = {}
    for scenario in dict.fromkeys(s for s, *_ in observed):
        rows = [o for o in warm if o[0] == scenario]
        by_scenario[scenario] = {
            "deliveries": len(rows), "outcomes": dict(Counter(o[3] for o in rows)),
            "dynamodb_requests_per_delivery": round(mean(_requests(o[2], "dynamodb") for o in rows), 2),
            "dynamodb_requests_per_delivery_max": max(_requests(o[2], "dynamodb") for o in rows),
            "by_operation": {op: round(mean(o[2][op] for o in rows), 2)
                             for op in sorted({op for o in rows for op in o[2]})}}
    return {
        "deliveries": len(observed),
        "non_200_responses": sum(1 for o in observed if o[1] != 200),
        "dynamodb_requests_per_delivery": round(mean(_requests(o[2], "dynamodb") for o in warm), 2),
        "dynamodb_requests_per_delivery_max": max(_requests(o[2], "dynamodb") for o in warm),
        "by_scenario": by_scenario,
    }


def run(endpoint: str, customers: int, orders: int, ingest_messages: int) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    budget = ingest.run(endpoint, ingest_messages)
    panel = lookup(endpoint, customers)
    hooks = webhooks(endpoint, orders)
    return {
        "lookup_ms": panel.pop("lookup_ms"),
        "lookup": panel,
        "webhook": hooks,
        "ingest_budget": {
            "messages": budget["messages"], "design_target": budget["design_target"],
            "within_target": budget["within_target"],
            "dynamodb_requests_per_message": budget["dynamodb_requests_per_message"],
            "dynamodb_requests_per_message_max": budget["dynamodb_requests_per_message_max"],
            "sqs_requests_per_message": budget["sqs_requests_per_message"],
            "sqs_requests_per_message_max": budget["sqs_requests_per_message_max"]},
        # latencies on a shared machine move with its load: the 1-minute load average before and after
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def report(result: dict[str, Any]) -> str:
    lines = ["COMMERCE - order panel and webhooks (real handlers, moto, Shopify sandbox)"]
    for kind, figures in result["lookup_ms"].items():
        lines.append(f"  order panel, cache {kind:<4}  p50 {figures['p50']:>7} ms  p95 {figures['p95']:>7} ms  "
                     f"({figures['samples']} conversations, "
                     f"{result['lookup']['dynamodb_requests_per_panel'][kind]} DynamoDB requests each)")
    hooks = result["webhook"]
    lines.append(f"  webhook: {hooks['dynamodb_requests_per_delivery']} DynamoDB requests per delivery "
                 f"(max {hooks['dynamodb_requests_per_delivery_max']}, {hooks['deliveries']} deliveries)")
    for scenario, figures in hooks["by_scenario"].items():
        lines.append(f"    {scenario:<18} {figures['dynamodb_requests_per_delivery']:>5}  {figures['outcomes']}")
    budget = result["ingest_budget"]
    lines.append(f"  ingest budget: {budget['dynamodb_requests_per_message_max']} DynamoDB / "
                 f"{budget['sqs_requests_per_message_max']} SQS requests per message at most "
                 f"({'within' if budget['within_target'] else 'OVER'} the target {budget['design_target']})")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.commerce", description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=60, help="conversations whose order panel is read")
    parser.add_argument("--orders", type=int, default=40, help="orders whose webhooks are delivered")
    parser.add_argument("--ingest-messages", type=int, default=200)
    args = parser.parse_args()
    with moto_server() as endpoint:
        result = run(endpoint, args.customers, args.orders, args.ingest_messages)
    print(report(result))
    save_result("commerce", result)


if __name__ == "__main__":
    main()
