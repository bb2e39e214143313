"""Requests per inbound message: the real Twilio webhook handler against moto, every request counted.

Design target (docs: logic/ingest.py): at most 2 DynamoDB requests (GetItem + TransactWriteItems)
and 1 SQS request (SendMessage) per inbound message.
"""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from statistics import mean
from typing import Any

from bench.harness import (
    SHOP_NUMBER,
    FakeContext,
    RequestCounter,
    count_layer_requests,
    create_stack,
    load_handler,
    signed_twilio_event,
    twilio_form,
)

PATH = "/webhooks/twilio"
TARGET = {"dynamodb": 2, "sqs": 1}
# Share of the deliveries per scenario (sums to 1).
MIX = {"new_customer": 0.20, "follow_up": 0.40, "whatsapp_same_number": 0.15, "duplicate": 0.15,
       "returning_customer": 0.10}


@dataclass(frozen=True)
class Delivery:
    scenario: str
    body: str


@dataclass
class Observed:
    """What one delivery cost."""

    scenario: str
    status: int
    requests: Counter[str] = field(default_factory=Counter)   # "dynamodb.GetItem" -> n

    def service(self, name: str) -> int:
        """Requests to one service, by botocore's service id ("dynamodb", "sqs", "secrets-manager")."""
        return sum(n for op, n in self.requests.items() if op.split(".", 1)[0] == name)


def _phone(customer: int) -> str:
    return f"+1202555{customer:04d}"


def _sms(customer: int, text: str) -> str:
    sid = "SM" + uuid.uuid4().hex
    return twilio_form(MessageSid=sid, SmsMessageSid=sid, SmsSid=sid, From=_phone(customer), To=SHOP_NUMBER,
                       Body=text, FromCountry="US", ToCountry="US")


def _whatsapp(customer: int, text: str) -> str:
    sid = "SM" + uuid.uuid4().hex
    return twilio_form(MessageSid=sid, SmsMessageSid=sid, SmsSid=sid, From=f"whatsapp:{_phone(customer)}",
                       To=f"whatsapp:{SHOP_NUMBER}", Body=text, ProfileName=f"Customer {customer}",
                       WaId=_phone(customer)[1:], MessageType="text")


def plan(messages: int, seed: int = 7) -> tuple[list[Delivery], list[int], list[Delivery]]:
    """Deliveries before the resolve step, customers to resolve, deliveries after it (returning customers)."""
    rng = random.Random(seed)
    sizes = {name: max(1, round(messages * share)) for name, share in MIX.items()}
    customers = list(range(sizes["new_customer"]))
    first = [Delivery("new_customer", _sms(c, "Hi, where is my order?")) for c in customers]
    middle: list[str] = (["follow_up"] * sizes["follow_up"] + ["whatsapp_same_number"] * sizes["whatsapp_same_number"]
                         + ["duplicate"] * sizes["duplicate"])
    rng.shuffle(middle)
    before = list(first)
    for scenario in middle:
        customer = rng.choice(customers)
        if scenario == "follow_up":
            before.append(Delivery(scenario, _sms(customer, "Any news?")))
        elif scenario == "whatsapp_same_number":
            before.append(Delivery(scenario, _whatsapp(customer, "Writing from WhatsApp now")))
        else:   # the provider re-delivers a message it already delivered (timeout, retry)
            before.append(Delivery(scenario, rng.choice([d for d in before if d.scenario != "duplicate"]).body))
    returning = rng.sample(customers, min(sizes["returning_customer"], len(customers)))
    after = [Delivery("returning_customer", _sms(c, "Hello again, new question")) for c in returning]
    return before, returning, after


def _resolve(env: dict[str, str], customers: list[int]) -> None:
    """An agent resolves these customers' conversations (through the layer, not counted per message)."""
    from shopdesk.dal.conversations import Conversations
    from shopdesk.dal.table import Table
    from shopdesk.logic.timeline import system_message
    from shopdesk.models import ConversationStatus

    conversations = Conversations(Table(env["TABLE_NAME"]), int(env["SLA_DUE_SHARDS"]))
    for customer in customers:
        identity = conversations.get_identity("phone", _phone(customer))
        if identity is None or identity.open_conversation_id is None:
            continue
        conv = conversations.get_meta(identity.open_conversation_id)
        conversations.set_status(conv, ConversationStatus.RESOLVED,
                                 system_message(conv.id, "Resolved by bench", "bench"), None)


def _deliver(handler: Any, counter: RequestCounter, delivery: Delivery) -> Observed:
    before = counter.snapshot()
    result = handler.lambda_handler(signed_twilio_event(PATH, delivery.body), FakeContext())
    return Observed(delivery.scenario, int(result["statusCode"]), counter.snapshot() - before)


def _summary(observed: list[Observed]) -> dict[str, Any]:
    operations = sorted({op for o in observed for op in o.requests})
    out: dict[str, Any] = {"messages": len(observed),
                           "non_200_responses": sum(1 for o in observed if o.status != 200)}
    for service in ("dynamodb", "sqs"):
        counts = [o.service(service) for o in observed]
        out[f"{service}_requests_per_message"] = round(float(mean(counts)), 3)
        out[f"{service}_requests_per_message_max"] = max(counts)
    out["requests_per_message_by_operation"] = {op: round(float(mean(o.requests[op] for o in observed)), 3)
                                                for op in operations}
    return out


def run(endpoint: str, messages: int) -> dict[str, Any]:
    env = create_stack(endpoint).env("inbound_twilio")
    handler = load_handler("inbound_twilio", env)
    before, returning, after = plan(messages)

    with count_layer_requests() as counter:
        started = time.perf_counter()
        observed = [_deliver(handler, counter, d) for d in before]
        paused = time.perf_counter()
        _resolve(env, returning)
        resumed = time.perf_counter()
        observed += [_deliver(handler, counter, d) for d in after]
        seconds = time.perf_counter() - resumed + paused - started

    cold, warm = observed[0], observed[1:]
    over = [(n, o) for n, o in enumerate(observed, start=1)
            if o.service("dynamodb") > TARGET["dynamodb"] or o.service("sqs") > TARGET["sqs"]]
    scenarios = list(MIX)
    overall = _summary(observed)
    result: dict[str, Any] = {
        "messages": len(observed),
        "dynamodb_requests_per_message": overall["dynamodb_requests_per_message"],
        "dynamodb_requests_per_message_max": overall["dynamodb_requests_per_message_max"],
        "sqs_requests_per_message": overall["sqs_requests_per_message"],
        "sqs_requests_per_message_max": overall["sqs_requests_per_message_max"],
        "cold_start_secrets_requests": cold.service("secrets-manager"),
        "secrets_requests_after_cold_start": sum(o.service("secrets-manager") for o in warm),
        "other_requests_after_cold_start": sum(sum(o.requests.values()) - o.service("dynamodb") - o.service("sqs")
                                               - o.service("secrets-manager") for o in warm),
        "non_200_responses": overall["non_200_responses"],
        "design_target": TARGET,
        "within_target": not over,
        "over_target": {"messages": len(over), "examples": [
            {"delivery": n, "scenario": o.scenario, "requests": dict(sorted(o.requests.items()))}
            for n, o in over[:5]]},
        "requests_per_message_by_operation": overall["requests_per_message_by_operation"],
        "by_scenario": {name: _summary([o for o in observed if o.scenario == name]) for name in scenarios
                        if any(o.scenario == name for o in observed)},
        "seconds_on_moto": round(seconds, 2),
        "messages_per_second_on_moto": round(len(observed) / seconds, 1),
    }
    return result

