"""The cost model of ``bench/cost.py``: published on-demand list prices and the arithmetic that turns counted AWS
requests into dollars. Pure: no AWS, no moto; ``tests/unit/test_cost_model.py`` prices a known mix with it.

Prices are us-east-1 (samconfig.toml's region), on-demand, without the free tier, as published on each
service's pricing page (read 2026-12; bench/README.md lists them with their units). Where a service meters in
increments (API Gateway 512 KB, WebSocket 32 KB, SQS and EventBridge 64 KB, Firehose 5 KB records, SES's
incoming mail in 256 KB chunks, DynamoDB 1 KB writes and 4 KB reads), the rounding is done here, from sizes the
bench measured.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

KB = 1024
GB = 1024 ** 3


@dataclass(frozen=True)
class Price:
    usd: Decimal          # dollars per ``per`` units
    per: int
    unit: str
    service: str          # the breakdown line it belongs to

    def of(self, quantity: float) -> Decimal:
        return self.usd * Decimal(str(quantity)) / self.per


# key -> price; the keys are what the meter counts (bench/README.md has the same table)
PRICES: dict[str, Price] = {
    "lambda.requests": Price(Decimal("0.20"), 1_000_000, "requests", "lambda"),
    "lambda.gb_seconds_arm64": Price(Decimal("0.0000133334"), 1, "GB-seconds (arm64)", "lambda"),
    "apigateway.http_requests": Price(Decimal("1.00"), 1_000_000, "HTTP API requests (512 KB each)", "apigateway"),
    "apigateway.websocket_messages": Price(Decimal("1.00"), 1_000_000, "WebSocket messages (32 KB each)",
                                           "apigateway"),
    "apigateway.websocket_connection_minutes": Price(Decimal("0.25"), 1_000_000, "WebSocket connection minutes",
                                                     "apigateway"),
    "dynamodb.write_request_units": Price(Decimal("0.625"), 1_000_000, "write request units (1 KB)", "dynamodb"),
    "dynamodb.read_request_units": Price(Decimal("0.125"), 1_000_000, "read request units (4 KB)", "dynamodb"),
    "sqs.fifo_requests": Price(Decimal("0.50"), 1_000_000, "FIFO requests (64 KB each)", "sqs"),
    "sqs.standard_requests": Price(Decimal("0.40"), 1_000_000, "standard requests (64 KB each)", "sqs"),
    "events.custom_events": Price(Decimal("1.00"), 1_000_000, "custom events published (64 KB each)", "eventbridge"),
    "scheduler.invocations": Price(Decimal("1.00"), 1_000_000, "EventBridge Scheduler invocations", "eventbridge"),
    "firehose.ingested_gb": Price(Decimal("0.029"), 1, "GB ingested, Direct PUT (records rounded up to 5 KB)",
                                  "firehose"),
    "firehose.format_conversion_gb": Price(Decimal("0.018"), 1, "GB converted to Parquet", "firehose"),
    "firehose.dynamic_partitioning_gb": Price(Decimal("0.020"), 1, "GB through dynamic partitioning", "firehose"),
    "s3.put_requests": Price(Decimal("0.005"), 1_000, "PUT, COPY, POST, LIST requests", "s3"),
    "s3.get_requests": Price(Decimal("0.0004"), 1_000, "GET and other requests", "s3"),
    "secretsmanager.api_calls": Price(Decimal("0.05"), 10_000, "API calls", "secretsmanager"),
    "secretsmanager.secret_months": Price(Decimal("0.40"), 1, "secrets stored per month", "secretsmanager"),
    "sns.publishes": Price(Decimal("0.50"), 1_000_000, "publishes (64 KB each)", "sns"),
    "sns.http_deliveries": Price(Decimal("0.60"), 1_000_000, "HTTP/S notifications delivered", "sns"),
    "ses.outbound_emails": Price(Decimal("0.10"), 1_000, "emails sent (each recipient one)", "ses"),
    "ses.inbound_emails": Price(Decimal("0.10"), 1_000, "emails received", "ses"),
    "ses.inbound_chunks": Price(Decimal("0.09"), 1_000, "incoming mail chunks (256 KB each)", "ses"),
    "xray.traces_recorded": Price(Decimal("5.00"), 1_000_000, "traces recorded", "xray"),
    "logs.ingested_gb": Price(Decimal("0.50"), 1, "GB of logs ingested (standard class)", "cloudwatch_logs"),
    "cloudwatch.custom_metric_months": Price(Decimal("0.30"), 1, "custom metrics a month (first 10,000; EMF)",
                                             "cloudwatch"),
    "cloudwatch.alarm_metric_months": Price(Decimal("0.10"), 1, "standard-resolution alarm metrics a month",
                                            "cloudwatch"),
    "cloudwatch.dashboard_months": Price(Decimal("3.00"), 1, "dashboards a month", "cloudwatch"),
    "kms.key_months": Price(Decimal("1.00"), 1, "customer-managed keys a month (and each of a key's first two "
                            "rotations, a year apart, adds one)", "kms"),
    "kms.requests": Price(Decimal("0.03"), 10_000, "requests (symmetric keys)", "kms"),
}

# S3 operations priced as PUT (the "PUT, COPY, POST, LIST" tier); every other S3 operation is a GET-tier request.
S3_PUT_TIER = {"PutObject", "CopyObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload",
               "ListObjects", "ListObjectsV2", "ListObjectVersions", "ListBuckets", "ListMultipartUploads"}


def chunks(size: int, unit: int) -> int:
    """Metered increments of ``unit`` bytes: a request is at least one."""
    return max(1, math.ceil(size / unit))


# ------------------------------------------------------------------------------ DynamoDB item sizes

def number_size(text: str) -> int:
    """A number: 1 byte per two significant digits plus 1 (leading and trailing zeros trimmed)."""
    digits = text.lstrip("-+").split("e")[0].split("E")[0].replace(".", "").strip("0")
    return math.ceil(len(digits) / 2) + 1 if digits else 1


def value_size(value: Mapping[str, Any]) -> int:
    """One AttributeValue (the low-level wire form), by DynamoDB's documented rules."""
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        return number_size(inner)
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in inner)
    if kind == "NS":
        return sum(number_size(n) for n in inner)
    if kind == "BS":
        return sum(len(b) for b in inner)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(v) for k, v in inner.items())
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: Mapping[str, Any] | None) -> int:
    """Attribute names (UTF-8) plus values; 0 for no item."""
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def read_units(size: int, *, consistent: bool, transactional: bool = False) -> float:
    """Read request units for ``size`` bytes read at once: 4 KB each, at least one; half for eventually consistent
    reads, double in a transaction."""
    units = chunks(size, 4 * KB)
    if transactional:
        return 2.0 * units
    return float(units) if consistent else units / 2


def write_units(size: int, *, transactional: bool = False) -> int:
    """Write request units for one item of ``size`` bytes: 1 KB each, at least one; double in a transaction."""
    return chunks(size, KB) * (2 if transactional else 1)


@dataclass(frozen=True)
class Index:
    name: str
    keys: tuple[str, ...]            # its partition (and sort) key attributes
    projection: str                  # ALL, KEYS_ONLY, INCLUDE
    include: tuple[str, ...] = ()


def projected(index: Index, table_keys: tuple[str, ...], item: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The index entry of an item, or None when the item is not in the (sparse) index."""
    if not item or any(k not in item for k in index.keys):
        return None
    if index.projection == "ALL":
        return dict(item)
    kept = set(table_keys) | set(index.keys) | set(index.include if index.projection == "INCLUDE" else ())
    return {k: v for k, v in item.items() if k in kept}


def index_write_units(index: Index, table_keys: tuple[str, ...], old: Mapping[str, Any] | None,
                      new: Mapping[str, Any] | None) -> int:
    """Write units one base-table write costs in one GSI: a put when the item enters it, a delete when it leaves,
    both when an index key changes, an update (the larger entry) when only projected attributes change, nothing
    when its entry is unchanged. Index writes are not doubled by transactions."""
    before, after = projected(index, table_keys, old), projected(index, table_keys, new)
    if before is None and after is None:
        return 0
    if before is None:
        return write_units(item_size(after))
    if after is None:
        return write_units(item_size(before))
    if any(before[k] != after[k] for k in index.keys):
        return write_units(item_size(before)) + write_units(item_size(after))
    if before == after:
        return 0
    return write_units(max(item_size(before), item_size(after)))


# ------------------------------------------------------------------------------ the bill

@dataclass
class Usage:
    """Billable quantities, keyed like PRICES; Lambda GB-seconds come per function."""

    quantities: dict[str, float] = field(default_factory=dict)
    lambda_gb_seconds: dict[str, float] = field(default_factory=dict)

    def add(self, key: str, quantity: float) -> None:
        if key not in PRICES:
            raise KeyError(f"no price for {key}")
        self.quantities[key] = self.quantities.get(key, 0.0) + quantity


def lambda_gb_seconds(billed_ms: float, memory_mb: int) -> float:
    """GB-seconds of one function's billed milliseconds at its configured memory."""
    return billed_ms / 1000 * memory_mb / 1024


def bill(usage: Usage) -> dict[str, Any]:
    """Dollars per priced quantity and per service, and the total (Decimal arithmetic, rounded at the end)."""
    lines: dict[str, Decimal] = {}
    for key, quantity in usage.quantities.items():
        lines[key] = PRICES[key].of(quantity)
    gb_seconds = sum(usage.lambda_gb_seconds.values())
    if gb_seconds:
        lines["lambda.gb_seconds_arm64"] = PRICES["lambda.gb_seconds_arm64"].of(gb_seconds)
    by_service: dict[str, Decimal] = {}
    for key, usd in lines.items():
        service = PRICES[key].service
        by_service[service] = by_service.get(service, Decimal(0)) + usd
    total = sum(lines.values(), Decimal(0))
    return {"total": total, "by_service": by_service, "by_line": lines}
