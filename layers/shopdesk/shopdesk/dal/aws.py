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


_clients: dict[str, Any] = {}
_lock = threading.Lock()


def client(service: str) -> Any:
    """One client per service and process; threads (the sweep's pool) share it."""
    found = _clients.get(service)
    if found is None:
        with _lock:
            found = _clients.get(service)
            if found is None:
                config = _S3_CONFIG if service == "s3" else _CONFIG
                found = _clients[service] = boto3.session.Session().client(service, region_name=region(),
                                                                          config=config)
    return found
