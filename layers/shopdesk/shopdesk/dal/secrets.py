"""Provider credentials from Secrets Manager, cached per process for a few minutes (rotation-friendly)."""

from __future__ import annotations

import json
import time
from typing import Any

from shopdesk.dal.aws import client

_TTL_SECONDS = 300
_cache: dict[str, tuple[float, dict[str, Any]]] = {}


def json_secret(arn: str) -> dict[str, Any]:
    cached = _cache.get(arn)
    if cached and time.monotonic() - cached[0] < _TTL_SECONDS:
        return cached[1]
    value = json.loads(client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"])
    _cache[arn] = (time.monotonic(), value)
    return value
