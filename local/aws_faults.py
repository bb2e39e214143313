"""AWS failing the way it fails: errors injected in front of moto, for fault tests.

``POST /_local/aws/faults`` ``{"operation": "dynamodb:TransactWriteItems",
"error": "ProvisionedThroughputExceededException", "times": 5, "every": 2}`` makes every second call of
that operation fail, five times in all, with the error AWS gives (its status code and JSON ``__type``, so
botocore raises the same ClientError and retries as it would). ``GET`` lists the rules with what is left
of them, ``DELETE`` clears them.

Operations are named ``<service>:<Operation>`` for the JSON-protocol services the functions call (DynamoDB,
SQS, EventBridge, Firehose, Secrets Manager, SNS is query protocol and not covered); the operation is read
from the request's ``X-Amz-Target`` header, as AWS routes it. A rule applies to every caller of the
endpoint: the functions, and the local stack itself (its queue pollers use ReceiveMessage and
DeleteMessageBatch, which fault tests leave alone).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

# X-Amz-Target prefix -> the service's name in a rule
_SERVICES = {"DynamoDB_20120810": "dynamodb", "AmazonSQS": "sqs", "AWSEvents": "events",
             "Firehose_20150804": "firehose", "secretsmanager": "secretsmanager"}
# error -> (HTTP status, __type)
ERRORS: dict[str, tuple[int, str]] = {
    "ProvisionedThroughputExceededException":
        (400, "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"),
    "ThrottlingException": (400, "com.amazon.coral.availability#ThrottlingException"),
    "RequestLimitExceeded": (400, "com.amazonaws.dynamodb.v20120810#RequestLimitExceeded"),
    "InternalServerError": (500, "com.amazonaws.dynamodb.v20120810#InternalServerError"),
    "InternalFailure": (500, "com.amazon.coral.service#InternalFailure"),
    "ServiceUnavailable": (503, "com.amazon.coral.availability#ServiceUnavailableException"),
}


@dataclass
class Rule:
    operation: str
    error: str
    times: int
    every: int = 1
    calls: int = 0
    failed: int = 0

    def describe(self) -> dict[str, Any]:
        return {"operation": self.operation, "error": self.error, "every": self.every,
                "left": self.times - self.failed, "calls_seen": self.calls}


class AwsFaults:
    def __init__(self) -> None:
        self._rules: list[Rule] = []
        self._lock = threading.Lock()

    def add(self, operation: str, error: str, times: int = 1, every: int = 1) -> Rule:
        service, _, name = operation.partition(":")
        if service not in _SERVICES.values() or not name:
            raise ValueError(f"operation must be <service>:<Operation> with a service of {sorted(_SERVICES.values())}")
        if error not in ERRORS:
            raise ValueError(f"error must be one of {sorted(ERRORS)}")
        if times < 1 or every < 1:
            raise ValueError("times and every must be at least 1")
        rule = Rule(operation, error, times, every)
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.describe() for r in self._rules]

    def verdict(self, target: str | None) -> tuple[int, bytes] | None:
        """The error answer for a request with this X-Amz-Target, or None to let it through."""
        if not target or "." not in target:
            return None
        prefix, _, name = target.partition(".")
        operation = f"{_SERVICES.get(prefix, prefix)}:{name}"
        with self._lock:
            for rule in self._rules:
                if rule.operation != operation or rule.failed >= rule.times:
                    continue
                rule.calls += 1
                if rule.calls % rule.every:
                    return None
                rule.failed += 1
                status, kind = ERRORS[rule.error]
                body = json.dumps({"__type": kind, "message": f"injected by the local stack ({rule.error})"})
                return status, body.encode()
        return None

    def wrap(self, app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
        """A WSGI middleware: a request a rule matches gets the error, the rest reach moto."""
        def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            answer = self.verdict(environ.get("HTTP_X_AMZ_TARGET"))
            if answer is None:
                return app(environ, start_response)
            status, body = answer
            environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            reason = {400: "Bad Request", 500: "Internal Server Error", 503: "Service Unavailable"}[status]
            start_response(f"{status} {reason}", [("Content-Type", "application/x-amz-json-1.0"),
                                                  ("Content-Length", str(len(body))),
                                                  ("x-amzn-RequestId", "injected-fault")])
            return [body]
        return middleware
