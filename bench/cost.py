"""What 1,000 conversations cost on AWS: a scripted workload through the real handlers on moto, every AWS request
counted with botocore's event hooks, priced at on-demand list prices (bench/pricing.py).

The workload (per conversation, seeded): six customer messages and four agent replies, on one of four channels
(``CHANNEL_MIX``: of every ten conversations, in a seeded order, three by SMS and two by WhatsApp through Twilio,
three through the web-chat widget, two by email), the router on each customer message (understanding, the FAQ bot,
assignment), the automatic acknowledgement, the agent opening the conversation before each reply, every reply and
bot answer through the dispatcher (to a Twilio stand-in, to SES, or stored for the widget), the provider's
callbacks (Twilio: two delivery statuses per message, three on WhatsApp; SES: a delivery event over SNS), the
widget's session and its polling on controller.ts's cadence while the visitor's tab is visible (assumptions at
``TAB_OPEN_AFTER_LAST_REPLY``), the resolve, the table's stream through its consumers (live fan-out to three open
inboxes, the event-lake writer into Firehose, the label indexer), and the SLA sweep every simulated 15 minutes, which
closes each inbox's socket when its token expires (the inbox connects again with a fresh token: ``InboxSockets``; a
cost of agent-hours, measured apart and reported per agent a month with the fixed costs, as is the inbox's ping
every 5 minutes through its route, ``inbox_pings``). One conversation in ten gets its first reply after its
first-response target, so the sweep flags breaches. Each channel's own cost per 1,000 of its conversations is
reported beside the mixed figure.

Every handler runs in this process against moto in server mode; a hook on every botocore client created during
the run (``before-parameter-build`` / ``after-call``) records each request by function, service and operation, and
the sizes the bill depends on. DynamoDB capacity is computed from item sizes (moto's ConsumedCapacity is nominal):
the item before and after each write (and the page again without its filter or projection, for a query that has
one) are fetched by an uncounted client, and the time those look-ups take is taken off the invocation's measured
duration. The cost is measured on
``--conversations`` (20 by default) and scaled linearly to 1,000: the workload has no per-run fixed part in it
(the sweep's idle cost is measured apart and reported as a monthly fixed cost).

    python -m bench.cost [--conversations 20]
    writes the "cost" key of bench/results.json
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import logging
import math
import os
import random
import re
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from bench.pricing import (
    GB,
    KB,
    S3_PUT_TIER,
    Index,
    Usage,
    bill,
    chunks,
    index_write_units,
    item_size,
    lambda_gb_seconds,
    read_units,
    write_units,
)

TARGET_USD = 0.15
SHOP = "+14155550100"
PUBLIC_URL = "https://desk.example.com"         # the test desk's PUBLIC_BASE_URL
EMAIL_EVENTS_TOPIC = "arn:aws:sns:us-east-1:123456789012:shopdesk-email-events"  # EMAIL_EVENTS_TOPIC_ARN
AGENTS = ("alice", "bob", "carol")
SWEEP_EVERY = timedelta(minutes=15)
# The user pool's IdTokenValidity (template.yaml, 1 hour): the ID token an inbox connects with expires an hour after it
# is issued, and the desk closes the socket then (its expiry timer in the sweep's Due index)
TOKEN_VALIDITY = timedelta(hours=1)
# The hours an agent has the inbox open a month (8 a day, 22 days: the connection minutes' assumption, bench/README.md):
# one reconnect each, a fixed cost of the desk's agents, not of its conversations
AGENT_HOURS_MONTH = 8 * 22
RECONNECT = " (reconnect)"       # the labels an inbox's reconnect cycle is metered under (``agent_api (reconnect)``)
# The inbox's ping (web/src/live.ts: the frame it sends every ``pingMs``, 5 minutes, while its socket is open): 12 an
# hour an agent has the inbox open, whatever the traffic, a fixed cost of agent-hours as the reconnects are. Measured
# on an agent-hour's pings from each open inbox (``inbox_pings``), metered under the PING label
PING_FRAME = json.dumps({"type": "ping"}, separators=(",", ":"))
PING_EVERY = timedelta(minutes=5)
PINGS_PER_AGENT_HOUR = int(timedelta(hours=1) / PING_EVERY)
PING = " (ping)"
MONTH_MINUTES = 30 * 24 * 60
IDLE = "sla_sweep (idle)"
# START, END and REPORT lines Lambda writes per invocation at the INFO system log level (REPORT with an X-Ray
# segment id), bytes
PLATFORM_LOG_BYTES = 330
LOG_LEVEL = "INFO"


# ------------------------------------------------------------------------------ the template's figures

def _template() -> dict[str, Any]:
    from bench.harness import TEMPLATE
    return TEMPLATE


def memory_mb(function: str) -> int:
    """The function's memory; a label (``agent_api (inbox)``) is its function's."""
    from bench.harness import function_resource
    return int(function_resource(function.split(" (")[0])["Properties"].get("MemorySize")
               or _template()["Globals"]["Function"]["MemorySize"])


def _setting(value: Any) -> Any:
    """A template value for this run: a parameter reference (``!Ref``) takes the parameter's value."""
    from bench.harness import Tag, parameters
    return parameters()[value.value] if isinstance(value, Tag) and value.name == "Ref" else value


@functools.cache
def traced(function: str) -> bool:
    """Whether Lambda records X-Ray traces of ``function``: its ``Tracing``, else the Globals'."""
    from bench.harness import function_resource
    mode = function_resource(function)["Properties"].get("Tracing") or _template()["Globals"]["Function"].get("Tracing")
    return _setting(mode) == "Active"


@functools.cache
def platform_log_bytes(function: str) -> int:
    """Lambda's START, END and REPORT lines of one invocation: sent at the INFO system log level (the
    LoggingConfig's ``SystemLogLevel``, the function's or the Globals'), left out at WARN."""
    from bench.harness import function_resource
    config = {**(_template()["Globals"]["Function"].get("LoggingConfig") or {}),
              **(function_resource(function)["Properties"].get("LoggingConfig") or {})}
    return PLATFORM_LOG_BYTES if _setting(config.get("SystemLogLevel", "INFO")) in ("DEBUG", "INFO") else 0


def table_model() -> tuple[tuple[str, ...], list[Index]]:
    props = next(r["Properties"] for r in _template()["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table")
    keys = tuple(k["AttributeName"] for k in props["KeySchema"])
    indexes = [Index(g["IndexName"], tuple(k["AttributeName"] for k in g["KeySchema"]),
                     g["Projection"]["ProjectionType"], tuple(g["Projection"].get("NonKeyAttributes", ())))
               for g in props["GlobalSecondaryIndexes"]]
    return keys, indexes


def stream_consumers() -> dict[str, tuple[int, list[Any]]]:
    """function -> (batch size, filter patterns) for every enabled table-stream consumer of the template."""
    from bench.harness import parameters

    search_on = parameters()["SearchEngine"] != "none"
    out = {}
    for resource in _template()["Resources"].values():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        if resource.get("Condition") == "SearchOn" and not search_on:
            continue
        for event in resource["Properties"].get("Events", {}).values():
            if event["Type"] == "DynamoDB":
                props = event["Properties"]
                patterns = [json.loads(f["Pattern"]) for f in props.get("FilterCriteria", {}).get("Filters", [])]
                out[resource["Properties"]["CodeUri"].rstrip("/").rsplit("/", 1)[1]] = (props["BatchSize"], patterns)
    return out


@functools.cache
def websocket_route(api: str, frame: str) -> tuple[str, str | None]:
    """The route a frame sent on the template's WebSocket API ``api`` (its logical id) takes, picked by the API's
    route selection expression as the local stack picks it (``local.live.select_route``), and the function its
    integration invokes: None for a MOCK integration (API Gateway takes the frame, nothing runs)."""
    from bench.harness import Tag
    from local.live import WebSocketApi, WsRoute, select_route

    resources = _template()["Resources"]

    def named(value: Any, pattern: str) -> str:     # the resource a !Sub names (integrations/${X}, ${X.Arn})
        text = value.value if isinstance(value, Tag) else str(value)
        return str(re.search(pattern, text).group(1))

    routes = {r["Properties"]["RouteKey"]: r["Properties"] for r in resources.values()
              if r["Type"] == "AWS::ApiGatewayV2::Route" and r["Properties"]["ApiId"].value == api}
    props = resources[api]["Properties"]
    chosen = select_route(WebSocketApi(api, api, "dev", str(props.get("RouteSelectionExpression")),
                                       {key: WsRoute(key, None, None) for key in routes}), frame)
    integration = resources[named(routes[chosen]["Target"], r"integrations/\$\{(\w+)\}")]["Properties"]
    if integration["IntegrationType"] == "MOCK":
        return chosen, None
    function = resources[named(integration["IntegrationUri"], r"\$\{(\w+)\.Arn\}")]["Properties"]["CodeUri"]
    return chosen, function.rstrip("/").rsplit("/", 1)[1]


# ------------------------------------------------------------------------------ the meter

@dataclass
class Meter:
    """Every AWS request made while a handler runs, attributed to that function, with what the bill needs."""

    table_keys: tuple[str, ...]
    indexes: list[Index]
    current: str | None = None
    requests: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    usage_by_function: dict[str, Usage] = field(default_factory=lambda: defaultdict(Usage))
    rru: Counter[str] = field(default_factory=Counter)
    wru: Counter[str] = field(default_factory=Counter)
    wru_index: Counter[str] = field(default_factory=Counter)
    wru_by_index: Counter[tuple[str, str]] = field(default_factory=Counter)                 # function, index
    wru_by_item: Counter[tuple[str, str, str]] = field(default_factory=Counter)   # function, operation, item kind
    invocations: Counter[str] = field(default_factory=Counter)
    billed_ms: Counter[str] = field(default_factory=Counter)
    unpriced: Counter[str] = field(default_factory=Counter)
    log_bytes: Counter[str] = field(default_factory=Counter)
    metrics: set[tuple[str, str, tuple[tuple[str, str], ...]]] = field(default_factory=set)   # EMF: distinct metrics
    # (function, service, operation, params) -> the label a request is metered under instead, or None (its function's)
    reroute: Callable[[str, str, str, dict[str, Any]], str | None] | None = None
    _overhead: dict[int, float] = field(default_factory=dict)     # thread -> seconds of the meter's own look-ups
    _quiet: Any = None
    _plain_s3: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -------------------------------------------------------------- hooking every client

    @contextmanager
    def installed(self) -> Iterator[Meter]:
        """Hook every botocore client created inside (the layer's cached clients are dropped first)."""
        import botocore.session

        from shopdesk.dal import aws

        self._quiet = _plain_client("dynamodb")
        self._plain_s3 = _plain_client("s3")
        original = botocore.session.Session.create_client
        meter = self

        def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
            client = original(session, *args, **kwargs)
            client.meta.events.register_last("before-parameter-build", meter._before)
            client.meta.events.register_last("after-call", meter._after)
            return client

        botocore.session.Session.create_client = create_client  # type: ignore[method-assign]
        aws._clients.clear()
        try:
            yield self
        finally:
            botocore.session.Session.create_client = original  # type: ignore[method-assign]
            aws._clients.clear()

    def invoke(self, handler: Any, function: str, event: dict[str, Any], label: str | None = None) -> Any:
        """One Lambda invocation: its requests attributed to it (or to ``label``), its duration measured (less the
        meter's own look-ups) and billed by the millisecond."""
        from bench.harness import FakeContext

        tracing, http, platform = traced(function), _through_http_api(event), platform_log_bytes(function)
        function = label or function
        self.current = function
        self._overhead = {}
        output = _CountingWriter()
        started = time.perf_counter()
        try:
            with redirect_stdout(output):          # what Lambda would send to CloudWatch Logs (EMF metrics, prints)
                return handler.lambda_handler(event, FakeContext())
        finally:
            elapsed = time.perf_counter() - started - self._overhead_s()
            self.current = None
            self.log_bytes[function] += output.bytes + platform
            self.metrics |= output.metrics
            self.usage_by_function[function].add("logs.ingested_gb", (output.bytes + platform) / GB)
            self.invocations[function] += 1
            self.billed_ms[function] += max(1, math.ceil(elapsed * 1000))
            usage = self.usage_by_function[function]
            usage.add("lambda.requests", 1)
            if tracing:
                usage.add("xray.traces_recorded", 1)
            if http:
                usage.add("apigateway.http_requests", chunks(len(json.dumps(event)), 512 * KB))
                usage.add("logs.ingested_gb", access_log_bytes("http") / GB)       # the API's access log line
            elif (event.get("requestContext") or {}).get("eventType") in ("CONNECT", "DISCONNECT", "MESSAGE"):
                usage.add("logs.ingested_gb", access_log_bytes("websocket") / GB)  # a WebSocket route's line

    def _overhead_s(self) -> float:
        """The meter's own look-ups, off the measured duration: all of the invoking thread's; of worker threads (the
        sweep's pool runs in parallel) their mean, as if they had overlapped evenly."""
        main = self._overhead.get(threading.get_ident(), 0.0)
        workers = [s for t, s in self._overhead.items() if t != threading.get_ident()]
        return main + (sum(workers) / len(workers) if workers else 0.0)

    def _spent(self, started: float) -> None:
        me = threading.get_ident()
        with self._lock:
            self._overhead[me] = self._overhead.get(me, 0.0) + time.perf_counter() - started

    # -------------------------------------------------------------- hooks

    def _before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if self.current is None:
            return
        context["cost_params"] = params
        if model.service_model.service_name == "dynamodb":
            writes = _writes(model.name, params, self.table_keys)
            if writes:
                started = time.perf_counter()
                context["cost_old"] = [self._get(table, key) for _, table, key, _ in writes]
                self._spent(started)

    def _after(self, http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any],
               **_: Any) -> None:
        if self.current is None or "cost_params" not in context:
            return
        function, service, operation = self.current, model.service_model.service_name, model.name
        params = context["cost_params"]
        if self.reroute is not None:
            function = self.reroute(function, service, operation, params) or function
        with self._lock:
            self.requests[(function, service, operation)] += 1
        usage = self.usage_by_function[function]
        started = time.perf_counter()
        try:
            self._price(function, usage, service, operation, params, parsed, context, int(http_response.status_code))
        finally:
            self._spent(started)

    def _price(self, function: str, usage: Usage, service: str, operation: str, params: dict[str, Any],
               parsed: dict[str, Any], context: dict[str, Any], status: int) -> None:
        if service == "dynamodb":
            self._dynamodb(function, operation, params, parsed, context, status)
        elif service == "sqs":
            key = "sqs.fifo_requests" if str(params.get("QueueUrl", "")).endswith(".fifo") else "sqs.standard_requests"
            if operation == "SendMessageBatch":
                size = sum(len(e["MessageBody"].encode()) for e in params["Entries"])
            else:
                size = len(str(params.get("MessageBody", "")).encode())
            usage.add(key, chunks(size, 64 * KB))
        elif service == "events" and operation == "PutEvents":
            usage.add("events.custom_events", sum(
                chunks(len((e.get("Detail") or "").encode()) + len(e.get("DetailType", "")) + len(e.get("Source", "")),
                       64 * KB) for e in params["Entries"]))
        elif service == "firehose":
            records = params["Records"] if operation == "PutRecordBatch" else [params["Record"]]
            sizes = [len(r["Data"]) for r in records]
            usage.add("firehose.ingested_gb", sum(chunks(s, 5 * KB) * 5 * KB for s in sizes) / 1024 ** 3)
            usage.add("firehose.format_conversion_gb", sum(sizes) / 1024 ** 3)
            usage.add("firehose.dynamic_partitioning_gb", sum(sizes) / 1024 ** 3)
        elif service == "apigatewaymanagementapi":
            if operation == "PostToConnection":
                usage.add("apigateway.websocket_messages", chunks(len(params.get("Data") or b""), 32 * KB))
        elif service == "s3":
            usage.add("s3.put_requests" if operation in S3_PUT_TIER else "s3.get_requests", 1)
        elif service == "secretsmanager":
            usage.add("secretsmanager.api_calls", 1)
        elif service == "sns" and operation == "Publish":
            usage.add("sns.publishes", chunks(len(str(params.get("Message", "")).encode()), 64 * KB))
        elif service in ("ses", "sesv2") and operation in ("SendEmail", "SendRawEmail"):
            to = params.get("Destination") or {}
            recipients = sum(len(to.get(k) or []) for k in ("ToAddresses", "CcAddresses", "BccAddresses"))
            usage.add("ses.outbound_emails", recipients or len(params.get("Destinations") or []) or 1)
        else:
            with self._lock:
                self.unpriced[f"{service}.{operation}"] += 1

    # -------------------------------------------------------------- DynamoDB capacity

    def _dynamodb(self, function: str, operation: str, params: dict[str, Any], parsed: dict[str, Any],
                  context: dict[str, Any], status: int) -> None:
        rru = 0.0
        wru = 0
        wru_index = 0
        if operation == "GetItem":
            rru = read_units(item_size(parsed.get("Item")), consistent=bool(params.get("ConsistentRead")))
        elif operation == "BatchGetItem":
            for table, request in params["RequestItems"].items():
                got = parsed.get("Responses", {}).get(table, [])
                consistent = bool(request.get("ConsistentRead"))
                rru += sum(read_units(item_size(i), consistent=consistent) for i in got)
                rru += read_units(0, consistent=consistent) * max(0, len(request["Keys"]) - len(got))
        elif operation == "TransactGetItems":
            rru = sum(read_units(item_size(r.get("Item")), consistent=True, transactional=True)
                      for r in parsed.get("Responses", []))
        elif operation in ("Query", "Scan"):
            reshaped = {"ProjectionExpression", "FilterExpression", "Select"} & set(params)
            size = (self._read_size(operation, params) if reshaped
                    else sum(item_size(i) for i in parsed.get("Items", [])))
            rru = read_units(size, consistent=bool(params.get("ConsistentRead")))
        writes = _writes(operation, params, self.table_keys)
        if writes:
            transactional = operation == "TransactWriteItems"
            refused = status >= 400             # a condition failed or the transaction was cancelled: billed alike,
            for (kind, table, key, put), old in zip(writes, context.get("cost_old", []), strict=True):
                if kind == "ConditionCheck":
                    wru += write_units(item_size(old), transactional=True)
                    continue
                new = old if refused else put if kind == "Put" else None if kind == "Delete" else self._get(table, key)
                units = write_units(max(item_size(old), item_size(put if kind == "Put" else new)),
                                    transactional=transactional)
                wru += units
                with self._lock:
                    self.wru_by_item[(function, operation, item_kind(key))] += units
                # ... but nothing changed, so no index was written
                for index in self.indexes:
                    units = index_write_units(index, self.table_keys, old, new)
                    wru_index += units
                    with self._lock:
                        self.wru_by_index[(function, index.name)] += units
        with self._lock:
            self.rru[function] += rru
            self.wru[function] += wru
            self.wru_index[function] += wru_index
        usage = self.usage_by_function[function]
        if rru:
            usage.add("dynamodb.read_request_units", rru)
        if wru + wru_index:
            usage.add("dynamodb.write_request_units", wru + wru_index)

    def _get(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        return self._quiet.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")

    def _read_size(self, operation: str, params: dict[str, Any]) -> int:
        """Bytes a Query or Scan reads: the same page again without projection, filter or Select, so that what a
        filter drops and what a projection leaves out are counted as DynamoDB counts them."""
        plain = {k: v for k, v in params.items()
                 if k not in ("ProjectionExpression", "FilterExpression", "Select", "ReturnConsumedCapacity")}
        used = " ".join(str(plain.get(k, "")) for k in ("KeyConditionExpression",))
        if "ExpressionAttributeNames" in plain:
            plain["ExpressionAttributeNames"] = {k: v for k, v in plain["ExpressionAttributeNames"].items()
                                                 if k in used}
            if not plain["ExpressionAttributeNames"]:
                del plain["ExpressionAttributeNames"]
        if "ExpressionAttributeValues" in plain:
            plain["ExpressionAttributeValues"] = {k: v for k, v in plain["ExpressionAttributeValues"].items()
                                                  if k in used}
            if not plain["ExpressionAttributeValues"]:
                del plain["ExpressionAttributeValues"]
        page = getattr(self._quiet, "query" if operation == "Query" else "scan")(**plain)
        return sum(item_size(i) for i in page.get("Items", []))


# What $context variables of an access-log format come to on a request of the workload: ids as API Gateway makes
# them, an IPv4 address, a path of the agent API, a status and a latency; an integration error is empty ("-").
_CONTEXT_SAMPLE = {"requestId": "Q2xWdhkSoAMEbVw=", "identity.sourceIp": "203.0.113.42", "httpMethod": "GET",
                   "path": "/agent/conversations/c_01KJ7ZQ8W4M2V6X9T3N5B1D8H0", "status": "200",
                   "responseLatency": "87", "integrationErrorMessage": "-", "routeKey": "$connect",
                   "eventType": "CONNECT", "connectionId": "LdPBNfUQoAMCJ7Q=", "authorizer.error": "-",
                   # the caller of the agents' API: an ID token's sub (the inbox's tokens have no ``username``)
                   "authorizer.claims.sub": "6a1f0c4e-93b2-4d7e-8c55-0f2e7b9d1a34", "authorizer.claims.username": "-"}


@functools.cache
def access_log_bytes(kind: str) -> int:
    """One access-log line (and its newline) of the template's HTTP APIs (``kind`` "http", the largest format) or
    WebSocket APIs ("websocket"), as CloudWatch Logs ingests it: what each request or route adds to the bill."""
    logged = {"http": "AWS::Serverless::HttpApi", "websocket": "AWS::ApiGatewayV2::Stage"}[kind]
    formats = [((r.get("Properties") or {}).get("AccessLogSettings") or {}).get("Format")
               for r in _template()["Resources"].values() if r["Type"] == logged]
    lines = [re.sub(r"\$context\.([\w.]+)", lambda m: _CONTEXT_SAMPLE.get(m[1], "-"), f) for f in formats if f]
    return max((len(line.encode()) + 1 for line in lines), default=0)


def _through_http_api(event: Mapping[str, Any]) -> bool:
    """An API Gateway HTTP API request (payload 2.0: its requestContext names the HTTP method), one billed request;
    not a WebSocket route, a queue, a stream, a schedule or an S3 notification."""
    return "http" in (event.get("requestContext") or {})


def _writes(operation: str, params: dict[str, Any], table_keys: tuple[str, ...]
            ) -> list[tuple[str, str, dict[str, Any], dict[str, Any] | None]]:
    """(kind, table, key, item put) for every item a write request touches."""
    def key_of(item: dict[str, Any]) -> dict[str, Any]:
        return {k: item[k] for k in table_keys}

    if operation == "PutItem":
        return [("Put", params["TableName"], key_of(params["Item"]), params["Item"])]
    if operation in ("UpdateItem", "DeleteItem"):
        return [(operation[:-4], params["TableName"], params["Key"], None)]
    if operation == "BatchWriteItem":
        out = []
        for table, requests in params["RequestItems"].items():
            for r in requests:
                if "PutRequest" in r:
                    out.append(("Put", table, key_of(r["PutRequest"]["Item"]), r["PutRequest"]["Item"]))
                else:
                    out.append(("Delete", table, r["DeleteRequest"]["Key"], None))
        return out
    if operation == "TransactWriteItems":
        out = []
        for entry in params["TransactItems"]:
            ((kind, body),) = entry.items()
            if kind == "Put":
                out.append(("Put", body["TableName"], key_of(body["Item"]), body["Item"]))
            else:
                out.append((kind, body["TableName"], body["Key"], None))
        return out
    return []


class _CountingWriter(io.TextIOBase):
    """Standard output of one invocation, counted in UTF-8 bytes and dropped; the custom metrics its EMF lines
    define are kept (``metrics``: namespace, name and dimensions, each one a metric CloudWatch bills a month)."""

    def __init__(self) -> None:
        self.bytes = 0
        self.metrics: set[tuple[str, str, tuple[tuple[str, str], ...]]] = set()
        self._line = ""

    def write(self, text: str) -> int:
        self.bytes += len(text.encode())
        *lines, self._line = (self._line + text).split("\n")
        for line in lines:
            if '"CloudWatchMetrics"' in line:
                self.metrics |= emf_metrics(line)
        return len(text)


def emf_metrics(line: str) -> set[tuple[str, str, tuple[tuple[str, str], ...]]]:
    """The custom metrics one embedded-metric-format log line defines: one per metric name and dimension set, the
    dimensions with the values the line gives them (CloudWatch keeps each combination as a metric of its own)."""
    try:
        record = json.loads(line)
        directives = record["_aws"]["CloudWatchMetrics"]
    except (ValueError, KeyError, TypeError):
        return set()
    found = set()
    for directive in directives:
        for dimensions in directive.get("Dimensions") or [[]]:
            values = tuple(sorted((name, str(record.get(name))) for name in dimensions))
            found |= {(directive["Namespace"], metric["Name"], values) for metric in directive.get("Metrics", [])}
    return found


class _CurrentStdout(io.TextIOBase):
    """Writes to whatever ``sys.stdout`` is now (a log handler keeps the stream it was given at import)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def _follow_stdout() -> None:
    """Point every log handler writing to the process's stdout at the current one, so that an invocation's log
    lines are counted with its output."""
    loggers = [logging.getLogger()] + [v for v in logging.root.manager.loggerDict.values()
                                       if isinstance(v, logging.Logger)]
    for each in loggers:
        for handler in each.handlers:
            if isinstance(handler, logging.StreamHandler) and handler.stream is sys.__stdout__:
                handler.setStream(_CurrentStdout())


def _plain_client(service: str) -> Any:
    """A client of the bench itself: made before the meter is installed, never hooked, never counted."""
    import boto3
    return boto3.session.Session().client(service, region_name="us-east-1")


# ------------------------------------------------------------------------------ a provider stand-in

class Provider:
    """Twilio's Messages API on loopback: answers 201 with a fresh sid and remembers which channel it went to."""

    def __init__(self) -> None:
        from tests.support import LoopbackServer

        self.sent: list[tuple[str, str]] = []        # (sid, To)
        self._lock = threading.Lock()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                form = dict(parse_qsl(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()))
                sid = f"SM{uuid.uuid4().hex}"
                with provider._lock:
                    provider.sent.append((sid, form.get("To", "")))
                data = json.dumps({"sid": sid, "status": "queued"}).encode()
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = LoopbackServer()
        self.server.serve(Handler, poll_interval=0.05)
        self.url = self.server.url

    def take(self) -> list[tuple[str, str]]:
        with self._lock:
            sent, self.sent = self.sent, []
        return sent

    def close(self) -> None:
        self.server.close()


# ------------------------------------------------------------------------------ the workload

@dataclass(frozen=True)
class Step:
    after: timedelta                  # since the previous step of the conversation
    kind: str                         # write, reply, resolve
    text: str = ""


QUESTIONS = ("How long does standard delivery take and what does it cost?",      # the FAQ bot knows these
             "How do I return an item?")
OTHER = ("Hi, my parcel has not arrived yet, order 10{n}.", "It was due on Monday.", "Thanks, any news?",
         "Can you check with the courier?", "Great, thank you!", "Received it, all good.")


def script(conversation: int, rng: random.Random) -> list[Step]:
    """Six customer messages and four replies; one conversation in ten answered after its first-response target."""
    opening = rng.choice(QUESTIONS) if conversation % 3 == 0 else OTHER[0].format(n=conversation)
    late = conversation % 10 == 9
    minutes = [0, 1, 300 if late else rng.randint(3, 30), 2, rng.randint(2, 20), 1, 1, rng.randint(2, 20), 3,
               rng.randint(1, 20), 2]
    kinds = ["write", "write", "reply", "write", "reply", "write", "write", "reply", "write", "reply", "resolve"]
    texts = [opening, *OTHER[1:]]
    steps, written = [], 0
    for kind, gap in zip(kinds, minutes, strict=True):
        text = texts[written] if kind == "write" else ""
        written += kind == "write"
        steps.append(Step(timedelta(minutes=gap), kind, text))
    return steps


class Frozen:
    """The one clock, stopped at the workload's simulated instant (shopdesk.clock reads time through it)."""

    def __init__(self, now: datetime) -> None:
        self.now = now.timestamp()

    def time(self) -> float:
        return self.now


INBOX = "agent_api (inbox)"      # the open inboxes' reads, billed as agent_api and shown apart
OPENING_PARTS = "customer,duplicates,orders,assist"    # web/src/api.ts OPENING_PARTS


@dataclass
class Inboxes:
    """The agents' open inboxes reading what the web app reads (web/src/store.ts and the conversation's side
    panels), so the bill has the reads that the live notices and the agents' own clicks cause, not only the
    notices themselves:

    - a burst of notices (what one pass of the stream posts to a connection) is one refetch of what it can
      have changed: the list with its counts (``GET /agent/conversations?counts=true``, one request) on a
      conversation or mention notice, the list on a new message of a conversation in it (or while it has
      pages not loaded), the agent's own load (``GET /agent/me``) when the count of theirs moved, and the
      open conversation when a notice is about it (not for a provider's receipt of a message it shows: the
      notice carries the status); when the customer's messages the assist panel answers changed, that panel
      loads again (``assist_question``: not for an acknowledgement or the bot's answer, and not at all once an
      agent has answered), and on a new customer message the orders panel (unless its answer said no shop is
      connected: ``source`` none);
    - opening a conversation is one read with its side panels (``?include=customer,duplicates,orders,assist``,
      as ``Api.openConversation`` asks; a part it leaves out is read through the part's own route, as the panel
      does, the assist panel only when there is a question); the agent's own action refetches nothing: the app
      shows what the API answered (the message
      written, the conversation changed) and the action's notices do the rest, as anyone else's change does
      (store.changed; it refetches only while it has no open socket, and these inboxes are live).
    - an open conversation that shows attachment links is read again (``GET /agent/conversations/{id}``) 30 s
      before its soonest link expires, every 270 s with five-minute links (store.renewLinks); this workload's
      messages carry no files, so it adds no request here.

    Each agent's list is the "mine" view, here holding only the conversations of the workload the agent has
    (a busier inbox lists more, and a list read costs more read units with it)."""

    run: Run
    seen: int = 0
    open: dict[str, str] = field(default_factory=dict)                # agent -> the conversation open
    shown: dict[str, tuple[str, int]] = field(default_factory=dict)   # agent -> (assist question, inbound) shown
    shopless: dict[str, bool] = field(default_factory=dict)           # agent -> the orders panel said no shop
    listed: dict[str, tuple[set[str], bool]] = field(default_factory=dict)   # agent -> (ids, more pages)
    mine: dict[str, int] = field(default_factory=dict)                      # agent -> the "mine" badge
    messages: dict[str, set[str]] = field(default_factory=dict)             # agent -> the open one's messages
    requests: Counter[str] = field(default_factory=Counter)

    def get(self, agent_id: str, path: str, route: str, query: str = "") -> dict[str, Any]:
        result = self.run.call("agent_api", _agent_event("GET", path, agent_id, query=query), label=INBOX)
        if result["statusCode"] != 200:
            raise RuntimeError(f"inbox GET {path}: {result['statusCode']} {result.get('body')}")
        self.requests[route] += 1
        return json.loads(result["body"])

    def list(self, agent_id: str, *, counts: bool = False) -> None:
        """The list; with ``counts``, the badges in the same request, and the agent's load when theirs moved."""
        page = self.get(agent_id, "/agent/conversations", "GET /agent/conversations",
                        "view=mine&limit=50" + ("&counts=true" if counts else ""))
        self.listed[agent_id] = ({c["id"] for c in page["items"]}, page.get("next_cursor") is not None)
        if counts:
            mine = page["counts"]["mine"]
            if self.mine.get(agent_id) != mine:
                self.get(agent_id, "/agent/me", "GET /agent/me")
            self.mine[agent_id] = mine

    def open_conversation(self, agent_id: str, conversation_id: str) -> None:
        """The agent opens the conversation (from another: an agent works many at once)."""
        self.open[agent_id] = conversation_id
        conversation = self._conversation(agent_id, include=OPENING_PARTS)
        customer = conversation["customer"]["id"]
        included = conversation.get("included") or {}
        left_out = {part for part in OPENING_PARTS.split(",") if included.get(part) is None}
        if "customer" in left_out:
            self.get(agent_id, f"/agent/customers/{customer}", "GET /agent/customers/{id}")
        if "duplicates" in left_out:
            self.get(agent_id, f"/agent/customers/{customer}/duplicates", "GET /agent/customers/{id}/duplicates")
        if "orders" in left_out:
            self._orders(agent_id)
        else:
            self.shopless[agent_id] = included["orders"].get("source") == "none"
        if "assist" in left_out and self.shown[agent_id][0]:
            self._assist(agent_id)

    def after_action(self, agent_id: str) -> None:
        """What the app refetches when the agent's own action returns (store.changed): nothing while live. The
        open conversation as shown has the message written, not yet its count (the notice's refetch has it)."""

    def react(self) -> None:
        """The notices posted since the last look, one burst per connection."""
        frames = self.run.connections.frames[self.seen:]
        self.seen += len(frames)
        bursts: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for connection, frame in frames:
            if connection.endswith("-inbox"):      # (the visitors' widgets hear theirs: Visitor.hear)
                bursts[inbox_agent(connection)].append(frame)
        for agent_id, notices in bursts.items():
            self.burst(agent_id, notices)

    def burst(self, agent_id: str, notices: list[dict[str, Any]]) -> None:
        """What the app refetches for notices heard together (the socket's, or a catch-up's page)."""
        if notices:
            kinds = {n["kind"] for n in notices}
            ids, more = self.listed.get(agent_id, (set(), True))
            moved = kinds & {"conversation", "mention"}
            if moved or any(n["kind"] == "message" and (more or n["conversation_id"] in ids) for n in notices):
                self.list(agent_id, counts=bool(moved))
            shown = self.messages.get(agent_id, set())
            if any(n["conversation_id"] == self.open.get(agent_id) and not (
                    n["kind"] == "message_update" and n.get("status") and n.get("message_id") in shown)
                   for n in notices):
                self.refresh_open(agent_id)      # a receipt of a message shown is shown from the notice itself

    def refresh_open(self, agent_id: str) -> None:
        before = self.shown.get(agent_id)
        self._conversation(agent_id)
        question, inbound = self.shown[agent_id]
        if before and question != before[0] and question:
            self._assist(agent_id)
        if before and inbound != before[1] and not self.shopless.get(agent_id):
            self._orders(agent_id)

    def _conversation(self, agent_id: str, include: str = "") -> dict[str, Any]:
        conversation = self._of_open(agent_id, include=include)
        messages = conversation.get("messages") or []
        self.messages[agent_id] = {m["id"] for m in messages}
        inbound = sum(m.get("direction") == "inbound" for m in messages)
        self.shown[agent_id] = (assist_question(messages), inbound)
        return conversation

    def _orders(self, agent_id: str) -> None:
        self.shopless[agent_id] = self._of_open(agent_id, "/orders").get("source") == "none"

    def _assist(self, agent_id: str) -> None:
        self._of_open(agent_id, "/assist")

    def _of_open(self, agent_id: str, part: str = "", include: str = "") -> dict[str, Any]:
        return self.get(agent_id, f"/agent/conversations/{self.open[agent_id]}{part}",
                        "GET /agent/conversations/{id}" + part + (f"?include={include}" if include else ""),
                        query=f"include={include}" if include else "")


def assist_question(messages: list[dict[str, Any]], latest: int = 3) -> str:
    """The customer's messages the assist panel answers, as web/src/kbAssist.ts ``assistQuestion`` (and the API,
    ``Assistant.for_conversation``) picks them: those with words since an agent last answered, the latest three;
    "" when none (the panel then asks nothing)."""
    ids: list[str] = []
    for message in reversed(messages):
        if message.get("direction") == "outbound" and message.get("author") not in (None, "bot"):
            break
        if message.get("direction") == "inbound" and message.get("text"):
            ids.insert(0, message["id"])
            if len(ids) == latest:
                break
    return ",".join(ids)


def inbox_agent(connection: str) -> str:
    """The agent of an inbox's connection id (``<agent>.<n>-inbox``)."""
    return connection.removesuffix("-inbox").split(".", 1)[0]


def _inbox_item(key: Mapping[str, Any]) -> bool:
    """An item of an inbox's connection: its ``CONN#<id>`` items (META, the expiry timer) or an audience's entry of it
    (``LIVE#<audience>``, ``CONN#<id>``)."""
    pk, sk = key["PK"]["S"], key["SK"]["S"]
    connection = pk if pk.startswith("CONN#") else sk if pk.startswith("LIVE#") and sk.startswith("CONN#") else ""
    return connection.endswith("-inbox")


def socket_close_label(function: str, service: str, operation: str, params: dict[str, Any]) -> str | None:
    """The label of a request that closes an inbox's socket from inside the conversations' functions: the sweep
    running the socket's expiry timer (``LiveConnections.expire``: the GetItem of the connection, DeleteConnection,
    the BatchWriteItem of its items, the timer's finish) or the fan-out closing an expired one it has a notice for.
    Those are the reconnect cycle's (``InboxSockets``), metered apart from the conversations' usage; None for any
    other request. A timer moved on (PutItem) is left where it is: a write AWS never makes, shown in the figure."""
    if function not in ("sla_sweep", "live_fanout"):
        return None
    if service == "apigatewaymanagementapi":
        closing = operation == "DeleteConnection" and str(params.get("ConnectionId", "")).endswith("-inbox")
    elif service != "dynamodb":
        closing = False
    elif operation == "GetItem":
        closing = _inbox_item(params["Key"])
    elif operation in ("DeleteItem", "BatchWriteItem"):
        writes = _writes(operation, params, ("PK", "SK"))
        closing = bool(writes) and all(kind == "Delete" and _inbox_item(key) for kind, _, key, _ in writes)
    else:
        closing = False
    return f"{function}{RECONNECT}" if closing else None


@dataclass
class InboxSockets:
    """The agents' inbox sockets as web/src/live.ts keeps them, on the agents' WebSocket API. The desk closes a socket
    when the ID token it connected with expires (its ``socket_expiry`` timer: the sweep's DeleteConnection, or the
    fan-out's at a notice after that moment); API Gateway then runs ``$disconnect``, and the inbox, about a second later
    (``backoffDelay(0)``), asks for a fresh token and connects again: the authorizer (the real ``live_authorizer``,
    with an ID token of a user pool in moto), ``$connect`` (``live_connections``: the connection's items and its
    timer), and on its opening the catch-up (``GET /agent/changes?since=`` the last cursor heard). Each connect and
    disconnect is a WebSocket message, as the widget's are. All of it, and the close (``socket_close_label``), is
    metered under the ``RECONNECT`` labels, apart from the conversations: an agent's inbox is open, and reconnects
    each hour, whatever its traffic (a fixed cost, as the sockets' connection minutes are: bench/README.md). The
    setup's first connects are not counted. The token's ``exp`` is set at the simulated moment it is issued
    (``TOKEN_VALIDITY`` after it), as Cognito's would be: moto issues its tokens on this machine's clock, which the
    authorizer checks them against."""

    run: Run
    frozen: Frozen
    pool: str = ""
    client: str = ""
    socket: dict[str, str] = field(default_factory=dict)          # agent -> the open connection
    since: dict[str, float] = field(default_factory=dict)         # connection -> when it opened
    authorized: dict[str, dict[str, Any]] = field(default_factory=dict)   # connection -> the authorizer's context
    cursor: dict[str, str | None] = field(default_factory=dict)   # agent -> the last cursor heard
    made: int = 0
    cognito: Any = None
    closes_seen: int = 0
    frames_seen: int = 0
    counted: bool = False
    stats: Counter[str] = field(default_factory=Counter)
    open_s: list[float] = field(default_factory=list)              # how long each closed socket was open
    password: str = field(default_factory=lambda: f"Bench-{uuid.uuid4().hex[:12]}-Aa1")   # the agents' (the run's)

    def start(self) -> None:
        """The user pool, its inbox app client and the agents' accounts (the bench's own, not counted)."""
        cognito = self.cognito = _plain_client("cognito-idp")
        self.pool = cognito.create_user_pool(PoolName=f"agents-{uuid.uuid4().hex[:6]}")["UserPool"]["Id"]
        self.client = cognito.create_user_pool_client(UserPoolId=self.pool, ClientName="inbox",
                                                      ReadAttributes=["name", "email"])["UserPoolClient"]["ClientId"]
        for agent_id in AGENTS:
            cognito.admin_create_user(UserPoolId=self.pool, Username=agent_id, MessageAction="SUPPRESS",
                                      UserAttributes=[{"Name": "name", "Value": agent_id.title()}])
            cognito.admin_set_user_password(UserPoolId=self.pool, Username=agent_id, Password=self.password,
                                            Permanent=True)

    def authorizer_env(self) -> dict[str, str]:
        """The authorizer's settings: the pool's issuer, the inbox's app client, the pool's keys (moto's JWKS)."""
        endpoint = self.run.desk.endpoint
        return {"TOKEN_ISSUER": f"https://cognito-idp.us-east-1.amazonaws.com/{self.pool}",
                "TOKEN_AUDIENCE": self.client, "JWKS_URL": f"{endpoint}/{self.pool}/.well-known/jwks.json"}

    def _token(self, agent_id: str) -> str:
        """A fresh ID token (the app's ``fetchAuthSession``; Cognito bills monthly active users, not requests)."""
        return self.cognito.admin_initiate_auth(
            UserPoolId=self.pool, ClientId=self.client, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": agent_id, "PASSWORD": self.password})["AuthenticationResult"]["IdToken"]

    def _invoke(self, function: str, event: dict[str, Any]) -> Any:
        if self.counted:          # the reconnect cycle's, metered apart from the conversations' (a fixed cost)
            return self.run.call(function, event, label=f"{function}{RECONNECT}")
        return self.run.handler(function).lambda_handler(event, _context())

    def _message(self) -> None:
        """A connect's or a disconnect's WebSocket message."""
        self.run.meter.usage_by_function[f"live_connections{RECONNECT}"].add("apigateway.websocket_messages", 1)

    def connect(self, agent_id: str) -> None:
        connection = f"{agent_id}.{self.made}-inbox"
        self.made += 1
        # the authorizer's event (no eventType: the $connect's access-log line is counted once, with live_connections)
        allowed = self._invoke("live_authorizer", {
            "type": "REQUEST", "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abc123/dev/$connect",
            "headers": {}, "queryStringParameters": {"token": self._token(agent_id)},
            "requestContext": {"routeKey": "$connect", "connectionId": connection, "stage": "dev", "apiId": "abc123"}})
        context = {**allowed["context"], "principalId": allowed["principalId"],
                   "expires": int(self.frozen.now + TOKEN_VALIDITY.total_seconds())}
        result = self._invoke("live_connections", {"requestContext": {
            "routeKey": "$connect", "eventType": "CONNECT", "connectionId": connection, "stage": "dev",
            "authorizer": context}, "isBase64Encoded": False})
        if result["statusCode"] != 200:
            raise RuntimeError(f"inbox socket: {result}")
        self.run.connections.open.add(connection)
        self.socket[agent_id], self.since[connection] = connection, self.frozen.now
        self.authorized[connection] = context
        if self.counted:
            self._message()
            self.stats["connects"] += 1
            self._catch_up(agent_id)
        else:           # the app's position before its first load (Live.start)
            self.cursor[agent_id] = self._changes(agent_id, None)["cursor"]

    def _changes(self, agent_id: str, since: str | None) -> dict[str, Any]:
        from urllib.parse import quote

        event = _agent_event("GET", "/agent/changes", agent_id, query=f"since={quote(since)}" if since else "")
        result = self._invoke("agent_api", event)
        if result["statusCode"] != 200:
            raise RuntimeError(f"inbox catch-up: {result['statusCode']} {result.get('body')}")
        return dict(json.loads(result["body"]))

    def _catch_up(self, agent_id: str) -> None:
        """On the socket's opening, what changed since the last cursor heard, page by page (Live.doCatchUp). What a
        page lists is refetched as a burst of notices heard on the socket would be: the inbox's reads, not the
        reconnect's (the socket would have heard those notices had it stayed open)."""
        self.stats["catch_ups"] += 1
        for _ in range(50):
            page = self._changes(agent_id, self.cursor.get(agent_id))
            if self.run.inboxes is not None:
                self.run.inboxes.burst(agent_id, page["items"])
            self.cursor[agent_id] = page.get("cursor") or self.cursor.get(agent_id)
            if not page.get("more"):
                return

    def after_pass(self) -> None:
        """The cursors the sockets heard, and the sockets the desk closed since the last look: each one's
        ``$disconnect``, then the inbox connects again."""
        frames = self.run.connections.frames[self.frames_seen:]
        self.frames_seen += len(frames)
        for connection, frame in frames:
            if connection.endswith("-inbox") and frame.get("cursor"):
                self.cursor[inbox_agent(connection)] = frame["cursor"]
        closed = self.run.connections.closed[self.closes_seen:]
        self.closes_seen += len(closed)
        for connection in closed:
            if not connection.endswith("-inbox"):
                continue
            agent_id = inbox_agent(connection)
            self.open_s.append(self.frozen.now - self.since.pop(connection))
            self.authorized.pop(connection, None)
            self.stats["closed"] += 1
            self._invoke("live_connections", {"requestContext": {
                "routeKey": "$disconnect", "eventType": "DISCONNECT", "connectionId": connection, "stage": "dev"},
                "isBase64Encoded": False})
            if self.counted:
                self._message()
            if self.socket.get(agent_id) == connection:
                self.connect(agent_id)

    def ping(self, agent_id: str, counted: bool = True) -> None:
        """The inbox's ping on its open socket (live.ts, every ``pingMs``): the frame, a WebSocket message, through
        the route the template gives it (``websocket_route``) and whatever that route runs, metered under the PING
        label (``live_connections (ping)``) when ``counted``. API Gateway's event for a frame carries the $connect's
        authorizer context."""
        connection = self.socket[agent_id]
        route, function = websocket_route("LiveApi", PING_FRAME)
        label = f"{function or 'LiveApi'}{PING}"
        usage = self.run.meter.usage_by_function[label] if counted else Usage()
        usage.add("apigateway.websocket_messages", chunks(len(PING_FRAME.encode()), 32 * KB))     # the frame
        if function is None:       # a MOCK integration takes it: nothing runs; the stage writes its access-log line
            usage.add("logs.ingested_gb", access_log_bytes("websocket") / GB)
            return
        event = {"requestContext": {"routeKey": route, "eventType": "MESSAGE", "connectionId": connection,
                                    "stage": "dev", "messageDirection": "IN", "messageId": uuid.uuid4().hex[:16],
                                    "authorizer": self.authorized.get(connection, {})},
                 "body": PING_FRAME, "isBase64Encoded": False}
        result = (self.run.call(function, event, label=label) if counted
                  else self.run.handler(function).lambda_handler(event, _context()))
        if (result or {}).get("statusCode") != 200:
            raise RuntimeError(f"inbox ping: {result}")

    def summary(self, cycle: dict[str, Any] | None = None, ping: dict[str, Any] | None = None) -> dict[str, Any]:
        moved = sum(n for (f, op, kind), n in self.run.meter.wru_by_item.items()
                    if f.split(" (")[0] == "sla_sweep" and op == "PutItem" and kind == "CONN DEADLINE")
        return {**{k: self.stats[k] for k in ("closed", "connects", "catch_ups")},
                "open_min": {"shortest": round(min(self.open_s, default=0) / 60, 1),
                             "longest": round(max(self.open_s, default=0) / 60, 1)},
                "expiry_timer_moves_write_units": moved, **({"per_reconnect": cycle} if cycle else {}),
                **({"per_ping": ping} if ping else {})}


@dataclass
class Run:
    """The desk, its handlers and the meter, and what the workload needs to drive them like AWS would."""

    desk: Any
    meter: Meter
    provider: Provider
    connections: Any
    stream: Any
    consumers: dict[str, tuple[int, list[Any]]]
    firehose: str
    handlers: dict[str, Any] = field(default_factory=dict)
    inboxes: Inboxes | None = None
    inbox_sockets: InboxSockets | None = None
    sweeps: int = 0
    esm_batches: Counter[str] = field(default_factory=Counter)
    channels: dict[str, ChannelShare] = field(default_factory=dict)
    widget_requests: Counter[str] = field(default_factory=Counter)
    polls: int = 0
    visible_s: float = 0.0                         # the visitors' tabs, visible
    visitor: Visitor | None = None                 # the web-chat conversation's visitor, while it runs
    sockets: Counter[str] = field(default_factory=Counter)   # the widget's socket: connects, frames heard, minutes
    mailer: Mailer | None = None                   # the conversation's customer, when they write by email
    ses_seen: int = 0                              # of moto's sent mail, what the delivery events went out for
    callbacks: Counter[str] = field(default_factory=Counter)
    signer: SnsSigner = field(default_factory=lambda: SnsSigner())
    _visitor_secret: str | None = None

    def visitor_secret(self) -> str:
        """What the shop signs its visitors' tokens with: the webchat function's secret (read by the bench, not
        counted)."""
        if self._visitor_secret is None:
            secret = _plain_client("secretsmanager").get_secret_value(SecretId=self.desk.env["WEBCHAT_SECRET_ARN"])
            self._visitor_secret = str(json.loads(secret["SecretString"])["visitor_secret"])
        return self._visitor_secret

    def handler(self, function: str) -> Any:
        if function not in self.handlers:
            overrides = {"dispatcher": {"TWILIO_API_BASE_URL": self.provider.url},
                         "analytics_writer": {"EVENTS_STREAM_NAME": self.firehose},
                         "live_fanout": {"LIVE_CONNECTIONS_ENDPOINT": self.connections.url + "/dev",
                                         "WIDGET_CONNECTIONS_ENDPOINT": self.connections.url + "/dev"},
                         "live_connections": {"LIVE_CONNECTIONS_ENDPOINT": self.connections.url + "/dev"},
                         # the sweep closes the inboxes' sockets at their tokens' expiry
                         "sla_sweep": {"LIVE_CONNECTIONS_ENDPOINT": self.connections.url + "/dev"},
                         "live_authorizer": self.inbox_sockets.authorizer_env() if self.inbox_sockets else {},
                         # the topic SES publishes its events to, as the template names it
                         "inbound_email": {"EMAIL_EVENTS_TOPIC_ARN": EMAIL_EVENTS_TOPIC},
                         }.get(function, {})
            # the template's log level (INFO), as deployed: what the functions log is part of the bill
            self.handlers[function] = self.desk.handler(function, **overrides, POWERTOOLS_LOG_LEVEL=LOG_LEVEL)
            if function == "inbound_email":        # SNS's certificate, as far as the function knows (not AWS's bill)
                self.handlers[function].receiver.fetch_certificate = lambda url: self.signer.pem
            _follow_stdout()
        return self.handlers[function]

    def call(self, function: str, event: dict[str, Any], label: str | None = None) -> Any:
        return self.meter.invoke(self.handler(function), function, event, label)

    # -------------------------------------------------------------- what AWS does between the functions

    def drain(self, queue_url: str, function: str) -> None:
        """Lambda's SQS event source: a ReceiveMessage that found messages, the invocation, a DeleteMessageBatch of
        what succeeded (both billed to the account as FIFO requests; empty polls are a monthly fixed cost)."""
        sqs = self.desk.client("sqs")
        arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        from tests.support import sqs_event
        for _ in range(50):
            received = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                           MessageSystemAttributeNames=["All"]).get("Messages", [])
            if not received:
                return
            result = self.call(function, sqs_event(received, arn))
            failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
            done = [m for m in received if m["MessageId"] not in failed]
            if done:
                sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
                    {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done)])
            usage = self.meter.usage_by_function[function]
            usage.add("sqs.fifo_requests", 2 if done else 1)
            self.meter.requests[(function, "sqs", "ReceiveMessage (event source)")] += 1
            if done:
                self.meter.requests[(function, "sqs", "DeleteMessageBatch (event source)")] += 1
            self.esm_batches[function] += 1
            if failed:
                raise RuntimeError(f"{function} failed {len(failed)} record(s): the workload must not fail")
        raise RuntimeError(f"{function}: the queue did not drain")

    def pump(self) -> None:
        """Lambda's stream event sources: what the table's stream holds now, filtered per consumer as the template
        says, in batches of its BatchSize (GetRecords by Lambda is free; filtered-out records are never billed)."""
        from local.streams import pattern_matches

        records = self.stream.read()["Records"]
        for function, (batch_size, patterns) in self.consumers.items():
            chosen = [r for r in records if not patterns or any(pattern_matches(p, r) for p in patterns)]
            for start in range(0, len(chosen), batch_size):
                result = self.call(function, {"Records": chosen[start:start + batch_size]})
                if result and result.get("batchItemFailures"):
                    raise RuntimeError(f"{function} failed records: {result['batchItemFailures']}")
        if self.visitor is not None:
            self.visitor.hear()
        if self.inboxes is not None:
            self.inboxes.react()
        if self.inbox_sockets is not None:
            self.inbox_sockets.after_pass()

    def sweep(self) -> None:
        from bench.harness import scheduled_event
        self.call("sla_sweep", scheduled_event())
        self.sweeps += 1
        self.pump()

    def dispatch(self) -> None:
        """The outbound queue through the dispatcher, then the provider's status callbacks for what it sent:
        Twilio's sent and delivered, and read on WhatsApp; SES's delivery event (the template's configuration set
        publishes it to an SNS topic, which POSTs it to ``inbound_email``). Web chat has none: sending is storing,
        and the widget's listing shows it."""
        self.drain(self.desk.outbound_queue_url, "dispatcher")
        self.pump()
        self._mail_delivered()
        for sid, to in self.provider.take():
            statuses = ("sent", "delivered", "read") if to.startswith("whatsapp:") else ("sent", "delivered")
            for status in statuses:
                from tests.support import twilio_form
                form = twilio_form(MessageSid=sid, MessageStatus=status, SmsStatus=status, To=to,
                                   From=("whatsapp:" if to.startswith("whatsapp:") else "") + SHOP)
                result = self.call("inbound_twilio", twilio_webhook("/webhooks/twilio/status", form))
                if result["statusCode"] != 200:
                    raise RuntimeError(f"status callback refused: {result}")
                self.callbacks["twilio"] += 1
                self.pump()

    def _mail_delivered(self) -> None:
        """For each mail SES accepted since the last look, its delivery event: SES publishes it to the topic (one
        SNS publish), SNS delivers it over HTTPS (one delivery) through the HTTP API to ``inbound_email``."""
        from tests.support import http_event

        sent = ses_sent()
        new, self.ses_seen = sent[self.ses_seen:], len(sent)
        for mail in new:
            if self.mailer is not None:
                self.mailer.answered(mail.id, _plain_text(str(getattr(mail, "raw_data", ""))))
            event = {"eventType": "Delivery",
                     "mail": {"timestamp": datetime.now(UTC).isoformat(), "messageId": mail.id, "source": SUPPORT,
                              "destination": list(getattr(mail, "destinations", []) or [])},
                     "delivery": {"timestamp": datetime.now(UTC).isoformat(), "processingTimeMillis": 900,
                                  "recipients": list(getattr(mail, "destinations", []) or []),
                                  "smtpResponse": "250 2.0.0 OK", "reportingMTA": "a8-70.smtp-out.amazonses.com"}}
            envelope = self.signer.sign({"Type": "Notification", "MessageId": str(uuid.uuid4()),
                                         "TopicArn": EMAIL_EVENTS_TOPIC,
                                         "Message": json.dumps(event),
                                         "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")})
            usage = self.meter.usage_by_function["inbound_email"]
            usage.add("sns.publishes", chunks(len(envelope["Message"].encode()), 64 * KB))
            usage.add("sns.http_deliveries", 1)
            self.meter.requests[("inbound_email", "sns", "Publish (SES event)")] += 1
            result = self.call("inbound_email", http_event("POST", "/webhooks/email/sns", json.dumps(envelope),
                                                           {"content-type": "text/plain; charset=UTF-8"}))
            if result["statusCode"] != 200:
                raise RuntimeError(f"SES delivery event refused: {result}")
            self.callbacks["ses"] += 1
            self.pump()


def twilio_webhook(path: str, form: str) -> dict[str, Any]:
    """A Twilio webhook as API Gateway hands it over, signed for the desk's public URL with its token."""
    from tests.support import http_event, signed_twilio

    return http_event("POST", path, form, {"content-type": "application/x-www-form-urlencoded",
                                           "x-twilio-signature": signed_twilio(PUBLIC_URL + path, form)})


def _agent_event(method: str, path: str, agent_id: str, body: Any = None, query: str = "") -> dict[str, Any]:
    from tests.support import http_event
    return http_event(method, path, json.dumps(body) if body is not None else None,
                      {"content-type": "application/json"}, query=query,
                      claims={"cognito:username": agent_id, "name": agent_id.title()})


def _admin(run: Run, method: str, path: str, body: Any) -> None:
    from tests.support import http_event
    event = http_event(method, path, json.dumps(body), {"content-type": "application/json"},
                       claims={"cognito:username": "lead", "cognito:groups": "[admins]"})
    result = run.handler("admin_api").lambda_handler(event, _context())
    if result["statusCode"] != 200:
        raise RuntimeError(f"{method} {path}: {result['statusCode']} {result.get('body')}")


def _context() -> Any:
    from bench.harness import FakeContext
    return FakeContext()


def setup(run: Run, frozen: Frozen) -> None:
    """The desk as a shop runs it (not counted): agents online with room, the knowledge base and the bot on,
    acknowledgements on, three agents with the inbox open."""
    from tests.support import http_event

    kb = (Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "bot" / "kb_small.jsonl").read_text()
    event = http_event("POST", "/admin/kb/import", kb, {"content-type": "application/x-ndjson"},
                       claims={"cognito:username": "lead", "cognito:groups": "[admins]"})
    result = run.handler("admin_api").lambda_handler(event, _context())
    if result["statusCode"] != 200:
        raise RuntimeError(f"knowledge-base import: {result}")
    _admin(run, "PUT", "/admin/bot", {"enabled": True, "fallback_language": "en", "confidence_threshold": 0.26})
    _admin(run, "PUT", "/admin/routing", {"acknowledgements": True})
    for agent_id in AGENTS:
        answer = run.handler("agent_api").lambda_handler(
            _agent_event("PUT", "/agent/me/presence", agent_id, {"presence": "online"}), _context())
        if answer["statusCode"] != 200:
            raise RuntimeError(f"presence: {answer}")
        _admin(run, "PUT", f"/admin/agents/{agent_id}", {"capacity": 100, "teams": ["default"]})
    sockets = run.inbox_sockets = InboxSockets(run, frozen)
    sockets.start()
    for agent_id in AGENTS:
        sockets.connect(agent_id)
    sockets.counted = True         # from here on, a connect is the workload's
    run.stream.read()              # the setup's own changes are not the workload's


# ------------------------------------------------------------------------------ the channels

# Of every ten conversations (a seeded shuffle of each ten): Twilio's SMS and WhatsApp, the web-chat widget, email.
CHANNEL_MIX = {"sms": 3, "whatsapp": 2, "webchat": 3, "email": 2}
# The first seed whose order puts every channel in the first five conversations (``--quick`` measures five) and the
# two late-answered conversations of the default 20 (the 10th and the 20th) on two channels.
CHANNEL_SEED = 6


def channel_plan(conversations: int, seed: int = CHANNEL_SEED) -> list[str]:
    """Each conversation's channel: every ten conversations have the mix exactly, in a seeded order."""
    rng = random.Random(seed)
    plan: list[str] = []
    while len(plan) < conversations:
        deck = [channel for channel, share in CHANNEL_MIX.items() for _ in range(share)]
        rng.shuffle(deck)
        plan += deck
    return plan[:conversations]


# The widget's polling (web/src/widget/controller.ts): every 3 s while the conversation moves (a message either way
# in the last minute), every 10 s while the widget is open and quiet, every 30 s while it is closed, and not at all
# while the tab is hidden.
ACTIVE_POLL_S, QUIET_POLL_S, CLOSED_POLL_S, ACTIVE_S = 3, 10, 30, 60
# With its socket open (the widget's WebSocket API, once the visitor has written) the widget lists the conversation
# when a frame says it changed, and every LIVE_POLL_S besides. API Gateway closes a socket after IDLE_CLOSE without a
# message; the widget sends a keepalive every KEEPALIVE_S while the socket is open (a WebSocket message, to the
# API's MOCK $default route: no function runs; its access-log line is written), so a visible widget's socket is
# never closed for idleness: it closes when the tab hides or closes.
LIVE_POLL_S = 60
KEEPALIVE_S = 540
IDLE_CLOSE = timedelta(minutes=10)
# Assumptions of how long the visitor's tab is open and visible, with the widget open: from their first message
# until TAB_OPEN_AFTER_LAST_REPLY after the agent's last reply; a wait with nothing new either way for longer than
# TAB_HIDDEN_AFTER_QUIET is spent with the tab hidden after that (no polls), and the visitor is back (a poll at
# once, as the widget does when the tab shows again) at the conversation's next step, a reply or their message.
TAB_OPEN_AFTER_LAST_REPLY = timedelta(minutes=5)
TAB_HIDDEN_AFTER_QUIET = timedelta(minutes=15)
WIDGET_ORIGIN = "https://shop.example"          # the test desk's WIDGET_ALLOWED_ORIGINS
POLLING = "webchat (polling)"                   # the widget's GET /widget/messages, billed as webchat, shown apart
MAIL_DOMAIN = "shop.example"                    # the test desk's EMAIL_RECIPIENTS and verified SES domain
SUPPORT = f"support@{MAIL_DOMAIN}"


def keepalives_sent(open_s: float) -> int:
    """The keepalives a socket open for ``open_s`` seconds sent: one at each KEEPALIVE_S it was still open
    (controller.ts ``keepAlive``, from the socket's opening, whatever it hears)."""
    return max(0, math.ceil(open_s / KEEPALIVE_S) - 1)


def poll_every(now: float, moved_at: float, widget_open: bool = True, socket_open: bool = False) -> int:
    """Seconds to the widget's next listing (controller.ts ``schedulePoll``)."""
    if socket_open:
        return LIVE_POLL_S
    if not widget_open:
        return CLOSED_POLL_S
    return ACTIVE_POLL_S if now - moved_at < ACTIVE_S else QUIET_POLL_S


@dataclass
class Visitor:
    """One visitor's widget (web/src/widget/controller.ts and client.ts) against the real webchat handler: a session
    from the token the shop signed (again when it runs out, a minute early), the listing and the visitor's history
    on opening, each message sent and the conversation listed at once, then the listing on the widget's cadence while
    the tab is visible (the assumptions above)."""

    run: Run
    frozen: Frozen
    visitor_id: str
    session: str | None = None
    session_until: float = 0.0
    known: set[str] = field(default_factory=set)
    moved_at: float = 0.0
    next_poll: float | None = None
    open_until: float = math.inf
    conversation_id: str | None = None
    preflighted: dict[str, float] = field(default_factory=dict)     # path -> until when the browser keeps it
    opened_at: float | None = None
    hidden_from: float | None = None
    hidden_s: float = 0.0
    socket: str | None = None                      # the open socket's connection id
    socket_since: float = 0.0
    sockets_made: int = 0
    seen: int = 0                                  # of the endpoint's frames, those looked at

    def _invoke(self, method: str, path: str, body: Any = None, label: str | None = None) -> tuple[int, Any]:
        from tests.support import http_event

        self._preflight(path)
        headers = {"content-type": "application/json", "origin": WIDGET_ORIGIN}
        if self.session and path != "/widget/sessions":
            headers["authorization"] = f"Bearer {self.session}"
        result = self.run.call("webchat", http_event(method, path, json.dumps(body) if body is not None else None,
                                                     headers, domain="widget.example.com"), label=label)
        self.run.widget_requests[f"{method} {path}"] += 1
        return result["statusCode"], json.loads(result["body"]) if result.get("body") else None

    def _preflight(self, path: str) -> None:
        """The browser's CORS preflight: every widget call is cross-origin with a JSON body or an Authorization
        header, so a path is asked about (``OPTIONS``, through the function) once per the Access-Control-Max-Age
        it answered; one answer covers its GET and POST."""
        from tests.support import http_event

        now = self.frozen.now
        if now < self.preflighted.get(path, -math.inf):
            return
        result = self.run.call("webchat", http_event("OPTIONS", path, None, {
            "origin": WIDGET_ORIGIN, "access-control-request-method": "GET",
            "access-control-request-headers": "authorization"}, domain="widget.example.com"))
        if result["statusCode"] != 204:
            raise RuntimeError(f"widget preflight: {result}")
        self.run.widget_requests[f"OPTIONS {path}"] += 1
        self.preflighted[path] = now + int(result["headers"]["Access-Control-Max-Age"])

    def call(self, method: str, path: str, body: Any = None, label: str | None = None) -> tuple[int, Any]:
        from shopdesk.channels import webchat

        now = self.frozen.now
        if self.session is None or now >= self.session_until:
            token = webchat.sign_visitor_token({"visitor_id": self.visitor_id, "name": "Visitor",
                                                "exp": int(now) + 600}, self.run.visitor_secret())
            status, started = self._invoke("POST", "/widget/sessions", {"visitor_token": token})
            if status != 201:
                raise RuntimeError(f"widget session: {status} {started}")
            self.session = started["session"]
            self.session_until = now + max(0, started["expires_in"] - 60)
        return self._invoke(method, path, body, label)

    def open(self) -> None:
        """The visitor opens the widget to write: the listing, and their history (empty: no email proven)."""
        self.opened_at = self.frozen.now
        self.poll()
        status, history = self.call("GET", "/widget/conversations")
        if status != 200 or history.get("email") is not None:
            raise RuntimeError(f"widget history: {status} {history}")

    def write(self, text: str) -> None:
        if self.session is None:
            self.open()
        self.moved_at = self.frozen.now
        status, sent = self.call("POST", "/widget/messages", {"client_message_id": uuid.uuid4().hex, "text": text})
        if status != 201:
            raise RuntimeError(f"widget send: {status} {sent}")
        self.conversation_id = sent["conversation_id"]
        self.poll()                  # the line is sent: the widget lists the conversation at once

    def poll(self) -> None:
        status, answer = self.call("GET", "/widget/messages", label=POLLING)
        if status != 200:
            raise RuntimeError(f"widget poll: {status} {answer}")
        ids = {item["id"] for item in answer["items"]}
        if ids - self.known:
            self.moved_at = self.frozen.now
        self.known = ids
        self.run.polls += 1
        if self.socket is None and answer.get("conversation_id"):
            self.connect()                   # controller.ts ``listen``: the conversation shown, a socket for it
            self.poll()                      # ... and on its opening, a listing of what moved while it opened
            return
        at = self.frozen.now + poll_every(self.frozen.now, self.moved_at, socket_open=self.socket is not None)
        quiet_until = self.moved_at + TAB_HIDDEN_AFTER_QUIET.total_seconds()
        self.next_poll = at if at <= min(self.open_until, quiet_until) else None     # else the tab is hidden
        if self.next_poll is None:
            self.hidden_from = quiet_until if quiet_until < self.open_until else None
            self.hang_up(min(quiet_until, self.open_until))        # hidden or closed: the widget hangs up

    # -- the widget's socket (functions/widget_live; web/src/widget/controller.ts ``listen``)

    def _socket_event(self, route: str) -> dict[str, Any]:
        return {"requestContext": {"routeKey": route, "eventType": route.strip("$").upper(),
                                   "connectionId": self.socket, "stage": "dev"},
                "headers": {"Origin": WIDGET_ORIGIN}, "queryStringParameters": {"session": self.session},
                "isBase64Encoded": False}

    def connect(self) -> None:
        self.socket = f"{self.visitor_id}-widget-{self.sockets_made}"
        self.sockets_made += 1
        result = self.run.call("widget_live", self._socket_event("$connect"))
        if result["statusCode"] != 200:
            raise RuntimeError(f"widget socket: {result}")
        self.run.connections.open.add(self.socket)
        self.run.meter.usage_by_function["widget_live"].add("apigateway.websocket_messages", 1)   # the upgrade
        self.socket_since = self.frozen.now
        self.run.sockets["connects"] += 1
        self.seen = len(self.run.connections.frames)

    def hang_up(self, at: float) -> None:
        """The socket closes at ``at`` (the widget hangs up: the tab hides or closes): the keepalives it sent while
        open, $disconnect, and the connection's minutes, billed per started minute as API Gateway meters them."""
        if self.socket is None:
            return
        usage = self.run.meter.usage_by_function["widget_live"]
        keepalives = keepalives_sent(at - self.socket_since)
        usage.add("apigateway.websocket_messages", keepalives)        # a few bytes each: one message
        usage.add("logs.ingested_gb", keepalives * access_log_bytes("websocket") / GB)   # the $default route's line
        self.run.sockets["keepalives"] += keepalives
        self.run.connections.open.discard(self.socket)
        self.run.call("widget_live", self._socket_event("$disconnect"))
        usage.add("apigateway.websocket_messages", 1)
        minutes = math.ceil(max(0.0, at - self.socket_since) / 60)
        usage.add("apigateway.websocket_connection_minutes", minutes)
        self.run.sockets["minutes"] += minutes
        self.socket = None

    def hear(self) -> None:
        """The frames the fan-out posted to the socket since the last look: one listing for the burst."""
        if self.socket is None:
            return
        frames = [f for c, f in self.run.connections.frames[self.seen:] if c == self.socket]
        self.seen = len(self.run.connections.frames)
        if frames and self.next_poll is not None:       # (a hidden tab has no socket)
            self.run.sockets["frames"] += len(frames)
            self.poll()

    def back(self) -> None:
        """The conversation's next step: a visitor whose tab was hidden is back (the widget lists at once)."""
        if self.next_poll is None and self.frozen.now <= self.open_until:
            if self.hidden_from is not None:
                self.hidden_s += max(0.0, self.frozen.now - self.hidden_from)
                self.hidden_from = None
            self.poll()

    def visible_s(self) -> float:
        """How long the tab was visible, from opening the widget to closing the tab."""
        return self.open_until - (self.opened_at or self.open_until) - self.hidden_s


def _mail(sender: str, subject: str, text: str, message_id: str, references: list[str],
          quoted: str | None) -> bytes:
    """A customer's mail as a mail client writes it: plain text and HTML, the message answered quoted below; its
    headers as they are written, message ids whole (the default policy's 78-character lines would encode SES's
    longer ids as RFC 2047 words, which no reader takes for ids: the thread's References would be lost)."""
    from email import policy
    from email.message import EmailMessage
    from email.utils import format_datetime

    from shopdesk import clock

    mail = EmailMessage(policy=policy.SMTP.clone(max_line_length=998))
    mail["From"], mail["To"], mail["Subject"] = f"Customer <{sender}>", SUPPORT, subject
    mail["Message-ID"], mail["Date"] = message_id, format_datetime(clock.now())
    if references:
        mail["In-Reply-To"], mail["References"] = references[-1], " ".join(references)
    quote = ("\n\nOn " + format_datetime(clock.now()) + f", {SUPPORT} wrote:\n"
             + "".join(f"> {line}\n" for line in quoted.splitlines())) if quoted else ""
    mail.set_content(f"{text}{quote}\n--\nSent from my phone\n")
    html_quote = f"<blockquote>{quoted}</blockquote>" if quoted else ""
    mail.add_alternative(f"<html><body><div>{text}</div>{html_quote}<div>--<br>Sent from my phone</div>"
                         "</body></html>", subtype="html")
    return b"Received: from mail.customer.example by inbound-smtp.us-east-1.amazonaws.com with SMTP id " + \
        uuid.uuid4().hex.encode() + b" for " + SUPPORT.encode() + b"; " + format_datetime(clock.now()).encode() + \
        b"\r\n" + bytes(mail)


@dataclass
class Mailer:
    """A customer writing by email, as SES's receipt rule delivers it: the raw mail stored in the mail bucket (an S3
    PUT by SES, billed to the account, with SES's price per mail received and per 256 KB chunk), the bucket's
    notification invoking ``inbound_email``. Each mail answers the last one the desk sent (In-Reply-To and
    References, quoting it), as a mail client does."""

    run: Run
    address: str
    subject: str = "Where is my parcel?"
    references: list[str] = field(default_factory=list)
    last_reply: str | None = None

    def write(self, text: str) -> None:
        bucket = self.run.desk.env["MAIL_BUCKET"]
        key = f"raw/{uuid.uuid4().hex}"
        raw = _mail(self.address, ("Re: " if self.references else "") + self.subject, text,
                    f"<{uuid.uuid4().hex}@customer.example>", self.references, self.last_reply)
        self.references.append(email_message_id(raw))
        self.run.meter._plain_s3.put_object(Bucket=bucket, Key=key, Body=raw)       # what SES does
        usage = self.run.meter.usage_by_function["inbound_email"]
        usage.add("ses.inbound_emails", 1)
        usage.add("ses.inbound_chunks", chunks(len(raw), 256 * KB))
        usage.add("s3.put_requests", 1)
        self.run.meter.requests[("inbound_email", "s3", "PutObject (SES receipt rule)")] += 1
        event = {"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                              "s3": {"bucket": {"name": bucket}, "object": {"key": key, "size": len(raw)}}}]}
        result = self.run.call("inbound_email", event)
        if result.get("stored") != 1:
            raise RuntimeError(f"inbound mail not stored: {result}")

    def answered(self, ses_id: str, text: str) -> None:
        self.references.append(f"<{ses_id}@email.amazonses.com>")
        self.last_reply = text


def email_message_id(raw: bytes) -> str:
    from email.parser import BytesHeaderParser
    return str(BytesHeaderParser().parsebytes(raw)["Message-ID"])


class SnsSigner:
    """SNS's signature on the notifications it delivers (a certificate of its own, handed to the function as AWS's:
    fetching it is not an AWS request)."""

    def __init__(self) -> None:
        import datetime as dt

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
        now = dt.datetime.now(UTC)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(self.key.public_key())
                .serial_number(1).not_valid_before(now - dt.timedelta(days=400))
                .not_valid_after(now + dt.timedelta(days=400)).sign(self.key, hashes.SHA256()))
        self.pem = cert.public_bytes(serialization.Encoding.PEM)

    def sign(self, message: dict[str, Any]) -> dict[str, Any]:
        import base64

        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        from shopdesk.channels import sns

        message = {**message, "SignatureVersion": "2",
                   "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-bench.pem"}
        signature = self.key.sign(sns.string_to_sign(message).encode(), padding.PKCS1v15(), hashes.SHA256())
        return {**message, "Signature": base64.b64encode(signature).decode()}


def _plain_text(raw: str) -> str:
    """The text of a mail the desk sent (what the customer's client quotes)."""
    from email import policy
    from email.parser import Parser

    body = Parser(policy=policy.default).parsestr(raw).get_body(("plain",))
    return body.get_content().strip() if body is not None else ""


def ses_sent() -> list[Any]:
    """What moto's SES accepted so far (moto runs in this process)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends
    return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)


# ------------------------------------------------------------------------------ per channel

def _snapshot(meter: Meter) -> tuple[dict[str, dict[str, float]], Counter[str]]:
    return ({f: dict(u.quantities) for f, u in meter.usage_by_function.items()}, Counter(meter.billed_ms))


@dataclass
class ChannelShare:
    """What one channel's conversations cost: their usage while they ran (sweeps and inbox reads included)."""

    conversations: int = 0
    late: int = 0
    sweeps: int = 0
    quantities: dict[str, dict[str, float]] = field(default_factory=lambda: defaultdict(dict))
    billed_ms: Counter[str] = field(default_factory=Counter)

    def add(self, before: tuple[dict[str, dict[str, float]], Counter[str]], meter: Meter) -> None:
        quantities, billed = _snapshot(meter)
        for function, now in quantities.items():
            if function.endswith(RECONNECT):         # the inboxes' reconnects: a cost of agent-hours (fixed)
                continue
            then = before[0].get(function, {})
            for key, quantity in now.items():
                delta = quantity - then.get(key, 0.0)
                if delta:
                    self.quantities[function][key] = self.quantities[function].get(key, 0.0) + delta
        for function, ms in billed.items():
            if not function.endswith(RECONNECT):
                self.billed_ms[function] += ms - before[1].get(function, 0)


def play(run: Run, conversations: int, frozen: Frozen, seed: int = 11) -> dict[str, Any]:
    from tests.support import twilio_form

    from shopdesk.dal.items import key_part

    rng = random.Random(seed)
    inboxes = run.inboxes = Inboxes(run, seen=len(run.connections.frames))
    next_sweep = frozen.now + SWEEP_EVERY.total_seconds()
    outcome: Counter[str] = Counter()
    visitor: Visitor | None = None

    def advance(to: float) -> None:
        """The sweeps (the schedule fires every minute; here every 15) and the widget's listings due up to ``to``, in
        the order of their times."""
        nonlocal next_sweep
        while True:
            poll_at = visitor.next_poll if visitor is not None else None
            if poll_at is not None and poll_at <= to and poll_at < next_sweep:
                frozen.now = poll_at
                visitor.poll()
            elif next_sweep <= to:
                frozen.now = next_sweep
                run.sweep()
                next_sweep += SWEEP_EVERY.total_seconds()
            else:
                break
        frozen.now = to

    plan = channel_plan(conversations)
    for n, channel in enumerate(plan):
        before, sweeps_before = _snapshot(run.meter), run.sweeps
        share = run.channels.setdefault(channel, ChannelShare())
        phone = f"+1202555{n:04d}"
        prefix = "whatsapp:" if channel == "whatsapp" else ""
        visitor = Visitor(run, frozen, f"visitor-{n:04d}") if channel == "webchat" else None
        run.visitor = visitor
        mailer = Mailer(run, f"customer{n:04d}@mail.example") if channel == "email" else None
        run.mailer = mailer
        conversation_id: str | None = None
        replier = AGENTS[n % len(AGENTS)]
        steps = script(n, rng)
        last_reply = max(k for k, step in enumerate(steps) if step.kind == "reply")
        for k, step in enumerate(steps):
            advance(frozen.now + step.after.total_seconds())
            if visitor is not None and step.kind != "write":
                visitor.back()
            if step.kind == "write":
                if visitor is not None:
                    visitor.write(step.text)
                elif mailer is not None:
                    mailer.write(step.text)
                else:
                    form = twilio_form(MessageSid=f"SM{n:06d}{k:02d}{uuid.uuid4().hex[:24]}", From=prefix + phone,
                                       To=prefix + SHOP, Body=step.text)
                    result = run.call("inbound_twilio", twilio_webhook("/webhooks/twilio", form))
                    if result["statusCode"] != 200:
                        raise RuntimeError(f"webhook refused: {result}")
                run.pump()
                run.drain(run.desk.work_queue_url, "router")
                run.pump()
                run.dispatch()          # acknowledgements and bot answers
                if conversation_id is None:
                    identity = (f"IDENTITY#webchat#{key_part(visitor.visitor_id)}" if visitor is not None
                                else f"IDENTITY#email#{key_part(mailer.address)}" if mailer is not None
                                else f"IDENTITY#phone#{phone}")
                    conversation_id = run.desk.item(identity)["open_conversation_id"]
                outcome["customer_messages"] += 1
                continue
            path = f"/agent/conversations/{conversation_id}"
            if step.kind == "reply":
                inboxes.open_conversation(replier, conversation_id)
                answer = run.call("agent_api", _agent_event("POST", path + "/replies", replier,
                                                            {"text": "Thanks for waiting, we are on it."}))
                if answer["statusCode"] != 202:
                    raise RuntimeError(f"reply: {answer}")
                inboxes.after_action(replier)
                run.pump()
                run.dispatch()
                outcome["agent_replies"] += 1
                if visitor is not None and k == last_reply:
                    visitor.open_until = frozen.now + TAB_OPEN_AFTER_LAST_REPLY.total_seconds()
            else:
                answer = run.call("agent_api", _agent_event("POST", path + "/status", replier, {"status": "resolved"}))
                if answer["statusCode"] != 200:
                    raise RuntimeError(f"resolve: {answer}")
                inboxes.after_action(replier)
                run.pump()
                outcome["resolved"] += 1
        if visitor is not None:                  # the widget lists until the visitor's tab closes
            advance(max(frozen.now, visitor.open_until))
            visitor.next_poll = None
            visitor.hang_up(visitor.open_until)
            run.visible_s += visitor.visible_s()
        outcome[f"conversations_{channel}"] += 1
        share.conversations += 1
        share.late += n % 10 == 9
        share.sweeps += run.sweeps - sweeps_before
        share.add(before, run.meter)
        if (n + 1) % 5 == 0:
            print(f"  {n + 1}/{conversations} conversations", file=sys.stderr, flush=True)
    visitor = run.visitor = None
    return dict(outcome)


# ------------------------------------------------------------------------------ the run

def run(conversations: int = 20) -> dict[str, Any]:
    from bench.harness import moto_server, use_layer

    use_layer()
    from tests.integration.conftest import make_desk
    from tests.integration.test_live import ConnectionsEndpoint, Stream

    from shopdesk import clock
    from shopdesk.dal import live as dal_live

    table_keys, indexes = table_model()
    started_wall = time.perf_counter()
    with moto_server() as endpoint:
        desk = make_desk(endpoint)
        bucket = f"lake-{uuid.uuid4().hex[:8]}"
        desk.client("s3").create_bucket(Bucket=bucket)
        firehose = f"events-{uuid.uuid4().hex[:8]}"
        desk.client("firehose").create_delivery_stream(
            DeliveryStreamName=firehose, DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration={"RoleARN": "arn:aws:iam::123456789012:role/firehose",
                                                "BucketARN": f"arn:aws:s3:::{bucket}", "Prefix": "events/"})
        meter = Meter(table_keys, indexes, reroute=socket_close_label)
        provider, connections = Provider(), ConnectionsEndpoint()
        desk.client("ses").verify_domain_identity(Domain=MAIL_DOMAIN)      # replies leave from support@
        desk.client("ses").verify_email_identity(EmailAddress=SUPPORT)
        frozen, real = Frozen(datetime(2026, 11, 2, 8, tzinfo=UTC)), clock.time
        clock.time = frozen            # type: ignore[assignment]
        # Real time is the simulated time too. A socket's life is measured in real time (dal.live ``_real_now``: its
        # token's ``exp``, its ``ttl``) and its expiry timer is on the desk's clock; in AWS the two are one. Left on
        # this machine's clock, a socket never expired within a run while its timer came due an hour of simulated
        # time in, and every sweep moved the timer on: writes AWS never makes, and the closes and reconnects it does
        # make missing. So a socket lives its token's hour of simulated time, and the sweep closes it then.
        real_now = dal_live._real_now
        dal_live._real_now = lambda: datetime.fromtimestamp(frozen.now, UTC)
        try:
            with meter.installed():
                bench_run = Run(desk, meter, provider, connections, Stream(desk), stream_consumers(), firehose)
                setup(bench_run, frozen)
                idle = _idle_sweep(bench_run)
                ping = inbox_pings(bench_run)
                outcome = play(bench_run, conversations, frozen)
                # what is still due fires in the sweeps after the last step
                for _ in range(int(timedelta(hours=6) / SWEEP_EVERY)):
                    frozen.now += SWEEP_EVERY.total_seconds()
                    bench_run.sweep()
                sizes = item_sizes(meter._quiet, desk.table_name)
        finally:
            clock.time = real          # type: ignore[assignment]
            dal_live._real_now = real_now
            provider.close()
            connections.close()
    result = summarise(bench_run, conversations, outcome, idle, time.perf_counter() - started_wall, ping)
    result["item_bytes"] = sizes
    return result


def item_kind(key: Mapping[str, Any]) -> str:
    """An item's kind by the letters its keys start with (``CONV META``, ``CONV MSG``, ``CHANGES <time>``)."""
    return " ".join(re.match(r"[A-Za-z_]*", key[k]["S"]).group() or "<time>" for k in ("PK", "SK"))


def item_sizes(client: Any, table: str) -> dict[str, dict[str, float]]:
    """Mean and max size of the table's items by kind (the key prefixes), after the workload."""
    sizes: dict[str, list[int]] = defaultdict(list)
    scan: dict[str, Any] = {}
    while True:
        page = client.scan(TableName=table, **scan)
        for item in page["Items"]:
            sizes[item_kind(item)].append(item_size(item))
        if "LastEvaluatedKey" not in page:
            break
        scan = {"ExclusiveStartKey": page["LastEvaluatedKey"]}
    return {kind: {"items": len(v), "mean": round(sum(v) / len(v)), "max": max(v)}
            for kind, v in sorted(sizes.items(), key=lambda kv: -sum(kv[1]))}


def _idle_sweep(run: Run, samples: int = 5) -> dict[str, Any]:
    """The sweep on a desk where nothing is due: the part of every per-minute run that no conversation causes
    (counted under its own label, never the workload's)."""
    from bench.harness import scheduled_event

    for _ in range(samples):
        run.call("sla_sweep", scheduled_event(), label=IDLE)
    usage = run.meter.usage_by_function.pop(IDLE)
    return {"billed_ms": run.meter.billed_ms.pop(IDLE) / samples,
            "quantities": {k: v / samples for k, v in usage.quantities.items()},
            "requests": {f"{s}.{o}": n / samples for (f, s, o), n in run.meter.requests.items() if f == IDLE}}


def inbox_pings(run: Run, per_socket: int = PINGS_PER_AGENT_HOUR) -> dict[str, Any]:
    """What one ping of an inbox costs (``InboxSockets.ping``: the frame, the route's function and what it does,
    a pong), the mean of an agent-hour's pings from each open inbox, metered under the PING label and then taken
    out of the meter (a fixed cost of agent-hours, as the reconnects are). The function's first pong makes its
    @connections client, which a warm container has: that one is sent first and not counted, as the setup's
    connects are not. Simulated time does not move: a ping changes nothing the desk keeps."""
    sockets = run.inbox_sockets
    if sockets is None or not sockets.socket:
        return {}
    agents = sorted(sockets.socket)
    sockets.ping(agents[0], counted=False)
    for _ in range(per_socket):
        for agent_id in agents:
            sockets.ping(agent_id)
    meter, pings = run.meter, per_socket * len(agents)
    labels = {f for f in (*meter.usage_by_function, *meter.invocations, *(f for f, _, _ in meter.requests))
              if f.endswith(PING)}
    route, function = websocket_route("LiveApi", PING_FRAME)
    figure = priced_apart(meter, labels, pings)
    return {**figure, "route": route, "function": function, "pings_measured": pings} if figure else {}


def reconnect_cycle(run: Run) -> dict[str, Any]:
    """What one reconnect of an inbox costs (``InboxSockets``: the sweep's or the fan-out's close, the $disconnect, the
    authorizer, the $connect and the catch-up, metered under the ``RECONNECT`` labels), the mean over the run's; its
    usage is then taken out of the meter, so that no figure of the conversations holds any of it."""
    meter = run.meter
    labels = {f for f in (*meter.usage_by_function, *meter.invocations, *(f for f, _, _ in meter.requests))
              if f.endswith(RECONNECT)}
    reconnects = run.inbox_sockets.stats["connects"] if run.inbox_sockets else 0
    figure = priced_apart(meter, labels, reconnects)
    return {**figure, "reconnects_measured": reconnects} if figure else {}


def priced_apart(meter: Meter, labels: set[str], count: int) -> dict[str, Any]:
    """What ``count`` events metered under ``labels`` cost each (a reconnect, a ping: fixed costs of agent-hours),
    with the requests, invocations, capacity and WebSocket messages each makes; their usage is taken out of the
    meter, so that no figure of the conversations holds any of it. Nothing when ``count`` is 0."""
    usage = Usage()
    for label in labels:
        for key, quantity in meter.usage_by_function.pop(label, Usage()).quantities.items():
            usage.add(key, quantity)
        if meter.billed_ms[label]:           # (a label of no function, a MOCK route's, has none)
            usage.lambda_gb_seconds[label] = lambda_gb_seconds(meter.billed_ms[label], memory_mb(label))
    requests: Counter[str] = Counter()
    for (f, service, operation), n in meter.requests.items():
        if f in labels:
            requests[f"{service}.{operation}"] += n
    invocations = {f.split(" (")[0]: meter.invocations[f] for f in sorted(labels) if meter.invocations[f]}
    read_units = sum(meter.rru[f] for f in labels)
    write_units = sum(meter.wru[f] + meter.wru_index[f] for f in labels)
    for counter in (meter.requests, meter.wru_by_item, meter.wru_by_index):
        for key in [k for k in counter if k[0] in labels]:
            del counter[key]
    for counter in (meter.invocations, meter.billed_ms, meter.rru, meter.wru, meter.wru_index, meter.log_bytes):
        for label in labels:
            counter.pop(label, None)
    if not count:
        return {}
    billed = bill(usage)
    return {"usd": float(round(billed["total"] / count, 8)),
            "by_service": {service: float(round(v / count, 8)) for service, v in
                           sorted(billed["by_service"].items(), key=lambda kv: -kv[1]) if v},
            "invocations": {f: round(n / count, 2) for f, n in invocations.items()},
            "requests": {op: round(n / count, 2) for op, n in sorted(requests.items())},
            "read_units": round(read_units / count, 2), "write_units": round(write_units / count, 2),
            "websocket_messages": round(usage.quantities.get("apigateway.websocket_messages", 0.0) / count, 2)}


def summarise(run: Run, conversations: int, outcome: dict[str, Any], idle: dict[str, Any],
              wall_s: float, ping: dict[str, Any] | None = None) -> dict[str, Any]:
    meter = run.meter
    for counter in (meter.requests, meter.invocations, meter.billed_ms, meter.rru, meter.wru, meter.wru_index):
        for key in [k for k in counter if IDLE in k]:
            del counter[key]
    # the inboxes' reconnects come once an hour an agent has the inbox open, whatever the traffic: a fixed cost
    cycle = reconnect_cycle(run)
    scale = 1000 / conversations
    usage = Usage()
    for function, u in meter.usage_by_function.items():
        for key, quantity in u.quantities.items():
            usage.add(key, quantity)
        usage.lambda_gb_seconds[function] = lambda_gb_seconds(meter.billed_ms[function], memory_mb(function))
    # the sweeps' idle part is the schedule's fixed cost, not the conversations'
    sweeps = run.sweeps
    for key, quantity in idle["quantities"].items():
        usage.quantities[key] = max(0.0, usage.quantities.get(key, 0.0) - quantity * sweeps)
    usage.lambda_gb_seconds["sla_sweep"] = max(0.0, usage.lambda_gb_seconds.get("sla_sweep", 0.0) - lambda_gb_seconds(
        idle["billed_ms"] * sweeps, memory_mb("sla_sweep")))
    measured = bill(usage)
    total = measured["total"] * Decimal(scale)
    without_xray = total - measured["by_service"].get("xray", Decimal(0)) * Decimal(scale)
    # TracingMode=Active: about one trace per invocation at a desk's volumes (bench/README.md)
    all_traced = Usage()
    all_traced.add("xray.traces_recorded", sum(meter.invocations.values()))
    with_tracing = without_xray + bill(all_traced)["total"] * Decimal(scale)

    def usd(value: Decimal) -> float:
        return float(round(value, 5))

    per_conversation_requests: Counter[str] = Counter()
    for (_, service, operation), n in meter.requests.items():
        per_conversation_requests[f"{service}.{operation}"] += n
    functions = sorted(meter.invocations)
    fixed = fixed_monthly(idle, Decimal(str(cycle["usd"])) if cycle else None,
                          Decimal(str(ping["usd"])) if ping else None, custom_metrics=len(meter.metrics))
    fixed["monitoring"]["metrics_by_name"] = dict(sorted(Counter(name for _, name, _ in meter.metrics).items()))
    by_index: Counter[str] = Counter()
    for (_, index), n in meter.wru_by_index.items():
        by_index[index] += n
    return {
        "per_1000_conversations_usd": usd(total),
        "per_1000_conversations_usd_without_xray": usd(without_xray),
        "per_1000_conversations_usd_with_tracing": usd(with_tracing),
        "target_usd": TARGET_USD,
        "within_target": total < Decimal(str(TARGET_USD)),
        "breakdown": {service: usd(v * Decimal(scale)) for service, v in
                      sorted(measured["by_service"].items(), key=lambda kv: -kv[1])},
        "breakdown_by_line": {line: usd(v * Decimal(scale)) for line, v in
                              sorted(measured["by_line"].items(), key=lambda kv: -kv[1])},
        "per_conversation": {
            "requests": {op: round(n / conversations, 2) for op, n in sorted(per_conversation_requests.items())
                         if n},
            "requests_by_function": {f: round(sum(n for (g, _, _), n in meter.requests.items() if g == f)
                                              / conversations, 2) for f in functions},
            "lambda_invocations": {f: round(meter.invocations[f] / conversations, 2) for f in functions},
            "lambda_ms": {f: round(meter.billed_ms[f] / max(1, meter.invocations[f]), 1) for f in functions},
            "dynamodb_read_units": round(sum(meter.rru.values()) / conversations, 2),
            "dynamodb_write_units_table": round(sum(meter.wru.values()) / conversations, 2),
            "dynamodb_write_units_indexes": round(sum(meter.wru_index.values()) / conversations, 2),
            "dynamodb_write_units_by_index": {i: round(n / conversations, 2) for i, n in
                                              sorted(by_index.items(), key=lambda kv: -kv[1]) if n},
            "dynamodb_write_units_by_item": {f"{f} {op} {kind}": round(n / conversations, 2) for (f, op, kind), n in
                                             sorted(meter.wru_by_item.items(), key=lambda kv: -kv[1])[:25]},
            "dynamodb_write_units_by_function": {f: round((meter.wru[f] + meter.wru_index[f]) / conversations, 2)
                                                 for f in functions if meter.wru[f] + meter.wru_index[f]},
            "quantities": {k: round(v / conversations, 6) for k, v in sorted(usage.quantities.items())},
        },
        "lambda_memory_mb": {f: memory_mb(f) for f in functions},
        "workload": {"conversations_measured": conversations, "scaled_to": 1000, **outcome,
                     "sweeps": sweeps, "esm_batches": dict(run.esm_batches),
                     "inbox_sockets": run.inbox_sockets.summary(cycle, ping) if run.inbox_sockets else {},
                     "inbox_requests_per_conversation": {
                         route: round(n / conversations, 2) for route, n in sorted(
                             (run.inboxes.requests if run.inboxes else Counter()).items(), key=lambda kv: -kv[1])}},
        "inboxes_usd": usd(_bill_of(meter, INBOX) * Decimal(scale)),
        "channel_mix": {channel: share / sum(CHANNEL_MIX.values()) for channel, share in CHANNEL_MIX.items()},
        "per_channel": per_channel(run, idle),
        "webchat_polling": polling(run, conversations),
        "fixed_monthly_usd": fixed,
        "unpriced_requests": dict(meter.unpriced),
        "environment": "real handlers in this process on moto (server mode, loopback), 2 shared CPUs; durations "
                       "are moto's and this machine's, not AWS's",
        "load_average_1min": _load(),
        "runtime_s": round(wall_s, 1),
    }


def per_channel(run: Run, idle: dict[str, Any]) -> dict[str, Any]:
    """Per 1,000 conversations of each channel: the usage while its conversations ran (their sweeps' idle part taken
    out as for the total; the open inboxes' reads of them included)."""
    out = {}
    for channel, share in sorted(run.channels.items(), key=lambda kv: list(CHANNEL_MIX).index(kv[0])):
        usage = Usage()
        for quantities in share.quantities.values():
            for key, quantity in quantities.items():
                usage.add(key, quantity)
        usage.lambda_gb_seconds = {f: lambda_gb_seconds(ms, memory_mb(f)) for f, ms in share.billed_ms.items() if ms}
        for key, quantity in idle["quantities"].items():
            usage.quantities[key] = max(0.0, usage.quantities.get(key, 0.0) - quantity * share.sweeps)
        usage.lambda_gb_seconds["sla_sweep"] = max(0.0, usage.lambda_gb_seconds.get("sla_sweep", 0.0)
                                                   - lambda_gb_seconds(idle["billed_ms"] * share.sweeps,
                                                                       memory_mb("sla_sweep")))
        billed = bill(usage)
        scale = Decimal(1000) / share.conversations
        out[channel] = {
            "conversations": share.conversations, "late_first_reply": share.late,
            "per_1000_conversations_usd": float(round(billed["total"] * scale, 5)),
            "breakdown": {service: float(round(v * scale, 5)) for service, v in
                          sorted(billed["by_service"].items(), key=lambda kv: -kv[1]) if v},
            "lambda_invocations_per_conversation": round(sum(share.quantities[f].get("lambda.requests", 0.0)
                                                             for f in share.quantities) / share.conversations, 1)}
    return out


def polling(run: Run, conversations: int) -> dict[str, Any]:
    """The widget's listings (``GET /widget/messages`` on its cadence) and their cost, per web-chat conversation."""
    webchat = run.channels.get("webchat")
    if webchat is None:
        return {}
    usd = _bill_of(run.meter, POLLING)
    usage = Usage()
    for key, quantity in run.meter.usage_by_function[POLLING].quantities.items():
        usage.add(key, quantity)
    usage.lambda_gb_seconds[POLLING] = lambda_gb_seconds(run.meter.billed_ms[POLLING], memory_mb(POLLING))
    per_million = {line: float(round(v * 1_000_000 / run.polls, 3)) for line, v in
                   sorted(bill(usage)["by_line"].items(), key=lambda kv: -kv[1])}
    return {"assumptions": {"tab_open_after_last_reply_min": TAB_OPEN_AFTER_LAST_REPLY.total_seconds() / 60,
                            "tab_hidden_after_quiet_min": TAB_HIDDEN_AFTER_QUIET.total_seconds() / 60,
                            "poll_every_s": {"socket_open": LIVE_POLL_S, "moving": ACTIVE_POLL_S,
                                             "quiet": QUIET_POLL_S, "closed": CLOSED_POLL_S},
                            "moving_for_s": ACTIVE_S, "socket_idle_close_min": IDLE_CLOSE.total_seconds() / 60,
                            "socket_keepalive_every_s": KEEPALIVE_S},
            "polls_per_webchat_conversation": round(run.polls / webchat.conversations, 1),
            "tab_visible_min_per_webchat_conversation": round(run.visible_s / 60 / webchat.conversations, 1),
            "socket_per_webchat_conversation": {what: round(n / webchat.conversations, 1)
                                                for what, n in sorted(run.sockets.items())},
            "socket_per_1000_webchat_conversations_usd": float(round(
                _bill_of(run.meter, "widget_live") * 1000 / webchat.conversations, 5)),
            "per_million_polls_usd": per_million,
            "widget_requests_per_webchat_conversation": {
                route: round(n / webchat.conversations, 2)
                for route, n in sorted(run.widget_requests.items(), key=lambda kv: -kv[1])},
            "per_1000_webchat_conversations_usd": float(round(usd * 1000 / webchat.conversations, 5)),
            "per_1000_conversations_usd": float(round(usd * 1000 / conversations, 5))}


def _bill_of(meter: Meter, function: str) -> Decimal:
    """What one function (or label) costs of the measured run."""
    usage = Usage()
    for key, quantity in meter.usage_by_function.get(function, Usage()).quantities.items():
        usage.add(key, quantity)
    usage.lambda_gb_seconds[function] = lambda_gb_seconds(meter.billed_ms[function], memory_mb(function))
    return Decimal(bill(usage)["total"])


def alarm_metrics(conditional: bool = False) -> int:
    """The metrics the template's alarms watch, as CloudWatch bills them: one for an alarm on one metric, one per
    metric a metric-math alarm reads (its expressions are free). Those a default deploy has; with ``conditional``,
    those only a parameter's condition deploys (search's, with ``SearchEngine`` other than ``none``) instead."""
    alarms = [r["Properties"] for r in _template()["Resources"].values()
              if r["Type"] == "AWS::CloudWatch::Alarm" and ("Condition" in r) is conditional]
    return sum(sum(1 for m in alarm["Metrics"] if "MetricStat" in m) if "Metrics" in alarm else 1 for alarm in alarms)


def monitoring_monthly(custom_metrics: int) -> dict[str, Any]:
    """The operator's side a month: the template's alarms a default deploy has (by the metrics they read; search's
    add ``alarm_metrics_with_search`` at $0.10 each when it is on) and dashboards, and the custom
    metrics the functions' EMF lines define (``custom_metrics``: those the workload's invocations wrote, each billed
    for a month it receives data; failures it has none of, such as ``RepliesFailed``, add theirs when they happen)."""
    dashboards = sum(1 for r in _template()["Resources"].values() if r["Type"] == "AWS::CloudWatch::Dashboard")
    usage = Usage()
    usage.add("cloudwatch.alarm_metric_months", alarm_metrics())
    usage.add("cloudwatch.dashboard_months", dashboards)
    usage.add("cloudwatch.custom_metric_months", custom_metrics)
    lines = bill(usage)["by_line"]
    return {"usd": float(round(sum(lines.values()), 2)), "alarm_metrics": alarm_metrics(), "dashboards": dashboards,
            "custom_metrics": custom_metrics, "by_line": {k: float(round(v, 2)) for k, v in lines.items()},
            "alarm_metrics_with_search": alarm_metrics(conditional=True)}


# SNS asks KMS for a data key (GenerateDataKey, then Decrypt) for each principal publishing to a topic a key encrypts,
# and reuses it up to 5 minutes: the SNS guide's R = B / D * (2 * P) a topic
SNS_DATA_KEY_REUSE_SECONDS = 300


def _topic_publishers() -> dict[str, list[str]]:
    """The topics a customer-managed key of the template encrypts, and who publishes to each: CloudWatch for an
    alarm's action, SES for the configuration set's events, a function by its name when its policy lets it
    ``sns:Publish`` there (through its role: its requests count as its own principal's)."""
    resources = _template()["Resources"]
    keys = {name for name, r in resources.items() if r["Type"] in ("AWS::KMS::Key", "AWS::KMS::Alias")}
    topics = {name for name, r in resources.items() if r["Type"] == "AWS::SNS::Topic"
              and _refs_to(r["Properties"].get("KmsMasterKeyId")) & keys}
    publishers: dict[str, set[str]] = {topic: set() for topic in topics}
    for name, r in resources.items():
        props = r.get("Properties") or {}
        if r["Type"] == "AWS::CloudWatch::Alarm":
            named = _refs_to([props.get(k) for k in ("AlarmActions", "OKActions", "InsufficientDataActions")])
            for topic in named & topics:
                publishers[topic].add("cloudwatch.amazonaws.com")
        elif r["Type"] == "AWS::SES::ConfigurationSetEventDestination":
            for topic in _refs_to(props["EventDestination"].get("SnsDestination")) & topics:
                publishers[topic].add("ses.amazonaws.com")
        elif r["Type"] == "AWS::Serverless::Function":
            for policy in props.get("Policies") or []:
                for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
                    if "sns:Publish" in statement.get("Action", []):
                        for topic in _refs_to(statement.get("Resource")) & topics:
                            publishers[topic].add(name)
    return {topic: sorted(found) for topic, found in publishers.items()}


def _refs_to(value: Any) -> set[str]:
    """The logical ids a value of the template names with !Ref or !GetAtt."""
    from bench.harness import Tag
    if isinstance(value, Tag):
        if value.name in ("Ref", "GetAtt") and isinstance(value.value, str):
            return {value.value.split(".")[0]}
        return _refs_to(value.value)
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return set().union(*(_refs_to(v) for v in value))
    return set()


def keys_monthly() -> dict[str, Any]:
    """The template's customer-managed keys a month ($1 each; with rotation on, each of a key's first two rotations,
    a year apart, adds $1: ``usd_from_third_year``) and the most requests SNS makes of them, two for each publisher
    of each topic they encrypt every 5 minutes, reached when it publishes at least that often (alarms seldom do;
    SES's delivery events on a busy desk may). KMS's free 20,000 requests a month are not taken off."""
    keys = sum(1 for r in _template()["Resources"].values() if r["Type"] == "AWS::KMS::Key")
    publishers = _topic_publishers()
    periods = MONTH_MINUTES * 60 // SNS_DATA_KEY_REUSE_SECONDS
    requests = sum(2 * periods * len(found) for found in publishers.values())
    usage = Usage()
    usage.add("kms.key_months", keys)
    usage.add("kms.requests", requests)
    lines = bill(usage)["by_line"]
    rotated = Usage()
    rotated.add("kms.key_months", keys * 3)
    return {"usd": float(round(sum(lines.values()), 2)), "keys": keys, "publishers": publishers,
            "requests_at_most": requests, "by_line": {k: float(round(v, 2)) for k, v in lines.items()},
            "usd_from_third_year": float(round(bill(rotated)["total"] + lines["kms.requests"], 2))}


def fixed_monthly(idle: dict[str, Any], reconnect_usd: Decimal | None = None,
                  ping_usd: Decimal | None = None, custom_metrics: int | None = None) -> dict[str, Any]:
    """What the desk costs a month whatever its traffic: the sweep every minute, the stored secrets, the topics'
    key (``keys_monthly``), the alarms,
    dashboard and custom metrics (``monitoring_monthly``, when ``custom_metrics`` is known), and per agent the
    inbox's socket: its connection minutes (``AGENT_HOURS_MONTH`` hours open), its reconnects (one each of those
    hours, at ``reconnect_usd`` each) and its pings (``PINGS_PER_AGENT_HOUR`` each hour, at ``ping_usd`` each)."""
    schedule = Usage()
    schedule.add("scheduler.invocations", MONTH_MINUTES)
    schedule.add("lambda.requests", MONTH_MINUTES)
    if traced("sla_sweep"):
        schedule.add("xray.traces_recorded", MONTH_MINUTES)
    for key, quantity in idle["quantities"].items():
        if key not in ("lambda.requests", "xray.traces_recorded"):
            schedule.add(key, quantity * MONTH_MINUTES)
    schedule.lambda_gb_seconds["sla_sweep"] = lambda_gb_seconds(idle["billed_ms"] * MONTH_MINUTES,
                                                                memory_mb("sla_sweep"))
    secrets = sum(1 for r in _template()["Resources"].values() if r["Type"] == "AWS::SecretsManager::Secret")
    stored = Usage()
    stored.add("secretsmanager.secret_months", secrets)
    sweep_bill, secrets_bill = bill(schedule), bill(stored)
    minutes = Usage()
    minutes.add("apigateway.websocket_connection_minutes", AGENT_HOURS_MONTH * 60)
    return {"sla_sweep_schedule": float(round(sweep_bill["total"], 2)),
            "sla_sweep_idle_ms": round(idle["billed_ms"], 1),
            "secrets_stored": float(round(secrets_bill["total"], 2)), "secrets": secrets,
            "keys": keys_monthly(),
            **({"monitoring": monitoring_monthly(custom_metrics)} if custom_metrics is not None else {}),
            "inbox_connection_minutes": float(round(bill(minutes)["total"], 5)),
            "inbox_connection_minutes_per_agent_month": AGENT_HOURS_MONTH * 60,
            **({"inbox_reconnects": float(round(reconnect_usd * AGENT_HOURS_MONTH, 5)),
                "inbox_reconnect_usd": float(reconnect_usd), "inbox_reconnects_per_agent_month": AGENT_HOURS_MONTH}
               if reconnect_usd is not None else {}),
            **({"inbox_pings": float(round(ping_usd * PINGS_PER_AGENT_HOUR * AGENT_HOURS_MONTH, 5)),
                "inbox_ping_usd": float(ping_usd),
                "inbox_pings_per_agent_month": PINGS_PER_AGENT_HOUR * AGENT_HOURS_MONTH}
               if ping_usd is not None else {})}


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()[:2]]


def report(result: dict[str, Any]) -> str:
    lines = [f"cost.per_1000_conversations_usd  {result['per_1000_conversations_usd']} "
             f"(target < {result['target_usd']}; with TracingMode=Active "
             f"{result['per_1000_conversations_usd_with_tracing']}; "
             f"measured on {result['workload']['conversations_measured']} conversations, scaled linearly)"]
    lines += [f"  {service:<16} {usd:>9.5f}" for service, usd in result["breakdown"].items()]
    per = result["per_conversation"]
    lines.append(f"  per conversation: {sum(per['lambda_invocations'].values()):.1f} invocations, "
                 f"{per['dynamodb_read_units']} RRU, {per['dynamodb_write_units_table']} WRU on the table + "
                 f"{per['dynamodb_write_units_indexes']} on its indexes")
    lines.append(f"  of which the open inboxes' reads: ${result['inboxes_usd']} "
                 f"({sum(result['workload']['inbox_requests_per_conversation'].values()):.1f} requests a conversation)")
    sockets = result["workload"].get("inbox_sockets") or {}
    if sockets:
        shortest, longest = sockets["open_min"]["shortest"], sockets["open_min"]["longest"]
        lines.append(f"  the inboxes' sockets: {sockets['closed']} closed at their tokens' expiry (open {shortest} to "
                     f"{longest} min), {sockets['connects']} connected again with a fresh token and caught up")
    mix = ", ".join(f"{share:.0%} {channel}" for channel, share in result["channel_mix"].items())
    lines.append(f"  per 1,000 conversations of each channel (mix {mix}):")
    for channel, figure in result["per_channel"].items():
        top = ", ".join(f"{service} {usd:.3f}" for service, usd in list(figure["breakdown"].items())[:3])
        lines.append(f"    {channel:<9} {figure['per_1000_conversations_usd']:>8.5f}  "
                     f"({figure['conversations']} measured, {figure['late_first_reply']} answered late; {top})")
    polled = result.get("webchat_polling") or {}
    if polled:
        assumed = polled["assumptions"]
        lines.append(f"  web chat's polling: {polled['polls_per_webchat_conversation']} GET /widget/messages a "
                     f"conversation, ${polled['per_1000_webchat_conversations_usd']} per 1,000 web-chat "
                     f"conversations (${polled['per_1000_conversations_usd']} of the mixed figure); tab visible "
                     f"from the first message to {assumed['tab_open_after_last_reply_min']:g} min after the last "
                     f"reply, hidden after {assumed['tab_hidden_after_quiet_min']:g} min with nothing new")
        sockets = polled["socket_per_webchat_conversation"]
        lines.append(f"  web chat's socket: {sockets.get('connects', 0)} connects, {sockets.get('frames', 0)} frames "
                     f"heard, {sockets.get('keepalives', 0)} keepalives sent, {sockets.get('minutes', 0)} connection "
                     f"minutes a conversation "
                     f"(${polled['socket_per_1000_webchat_conversations_usd']} per 1,000 web-chat conversations); "
                     f"listed every {assumed['poll_every_s']['socket_open']} s besides while it is open")
    fixed = result["fixed_monthly_usd"]
    lines.append(f"  fixed per month: sweep schedule ${fixed['sla_sweep_schedule']}, "
                 f"{fixed['secrets']} secrets ${fixed['secrets_stored']}, the topics' key ${fixed['keys']['usd']} "
                 f"(at most {fixed['keys']['requests_at_most']:,} requests; "
                 f"${fixed['keys']['usd_from_third_year']} once rotated twice)")
    if "monitoring" in fixed:
        watch = fixed["monitoring"]
        lines.append(f"  and monitoring ${watch['usd']}: {watch['alarm_metrics']} alarm metrics, {watch['dashboards']} "
                     f"dashboard, {watch['custom_metrics']} custom metrics the workload wrote ({watch['by_line']}); "
                     f"{watch['alarm_metrics_with_search']} alarm metrics more with search on")
    lines.append(f"  and per agent: the inbox socket's connection minutes ${fixed['inbox_connection_minutes']} "
                 f"({fixed['inbox_connection_minutes_per_agent_month']} a month)")
    if "inbox_reconnects" in fixed:
        lines.append(f"  and per agent: the inbox's reconnects ${fixed['inbox_reconnects']} "
                     f"({fixed['inbox_reconnects_per_agent_month']} agent-hours, one reconnect each at "
                     f"${fixed['inbox_reconnect_usd']:.8f}: the sweep's close, $disconnect, authorizer, $connect, "
                     f"catch-up)")
    if "inbox_pings" in fixed:
        lines.append(f"  and per agent: the inbox's pings ${fixed['inbox_pings']} "
                     f"({fixed['inbox_pings_per_agent_month']}, one every {PING_EVERY.total_seconds() / 60:g} min of "
                     f"those hours, at ${fixed['inbox_ping_usd']:.8f}: the frame, its route's function, the pong)")
    if result["unpriced_requests"]:
        lines.append(f"  unpriced requests: {result['unpriced_requests']}")
    return "\n".join(lines)


def main() -> None:
    from bench.harness import save_result

    parser = argparse.ArgumentParser(prog="python -m bench.cost", description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=20)
    args = parser.parse_args()
    result = run(args.conversations)
    print(report(result))
    save_result("cost", result)


if __name__ == "__main__":
    main()
