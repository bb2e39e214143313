"""boto3 clients, created once per process on first use (cold start pays only for what it uses)."""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

from shopdesk.config import region

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10,
                 max_pool_connections=16,          # the sweep runs 8 threads on one client, plus the shard queries
                 tcp_keepalive=True)


_S3_CONFIG = _CONFIG.merge(Config(signature_version="s3v4"))   # presigned URLs with SigV4, as S3 requires

# A function answering a request must answer within its Timeout (API Gateway waits 30 s at most) even when a service
# hangs, and still have time to record the failure: its sends (``client(..., answering=True)``) try twice, with 1 s
# to connect and 2 s to read (SQS's SendMessage answers in tens of milliseconds), so one send takes 12 s at worst
# (``dal.queues.send_worst_seconds``) where the layer's configuration may take 74 s
_ANSWERING_CONFIG = _CONFIG.merge(Config(retries={"mode": "standard", "total_max_attempts": 2}, connect_timeout=1,
                                         read_timeout=2))

# DynamoDB answers in milliseconds (a Query's 1 MB page, a transaction of 100 items: well under a second), but one
# that hangs holds the layer's client 74 s. A function answering a request reads and writes with
# ``client("dynamodb", answering=True)``: 2 attempts, 1 s to connect and 5 s to read, 18 s at worst
# (``dal.queues.send_worst_seconds`` of it), time left in the APIs' 29 s and 30 s to answer a 503 (api.problems)
_ANSWERING_DYNAMODB_CONFIG = _ANSWERING_CONFIG.merge(Config(read_timeout=5))

# A provider's webhook answers within its function's Timeout of 10 s (14 s for Twilio's), where two attempts would
# take 12 s with botocore's wait before the retry: its sends (``client(..., webhook=True)``) try once, 1 s to connect
# and 2 s to read, 3 s at worst; a request's routing sends (``Queue.for_request``) try a quick refusal again while
# the request's time allows (``dal.queues.REQUEST_SEND_SECONDS``), a hang never. What they send after the message is
# stored (its routing work) the sweep sends when they give up (``logic.work.send_kept``), and the provider is
# answered 2xx as for any message stored
_WEBHOOK_CONFIG = _ANSWERING_CONFIG.merge(Config(retries={"mode": "standard", "total_max_attempts": 1}))


_clients: dict[str, Any] = {}
_lock = threading.Lock()


def client(service: str, *, answering: bool = False, webhook: bool = False) -> Any:
    """One client per service and process; threads (the sweep's pool) share it. ``answering``: the bounded one, for
    calls made while a request waits for its answer (``_ANSWERING_CONFIG``); ``webhook``: the one bounded for a
    provider's webhook, whose function has less time (``_WEBHOOK_CONFIG``)."""
    key = f"{service}/webhook" if webhook else f"{service}/answering" if answering else service
    found = _clients.get(key)
    if found is None:
        with _lock:
            found = _clients.get(key)
            if found is None:
                config = (_WEBHOOK_CONFIG if webhook
                          else (_ANSWERING_DYNAMODB_CONFIG if service == "dynamodb" else _ANSWERING_CONFIG)
                          if answering else _S3_CONFIG if service == "s3" else _CONFIG)
                found = _clients[key] = boto3.session.Session().client(service, region_name=region(), config=config)
    return found
