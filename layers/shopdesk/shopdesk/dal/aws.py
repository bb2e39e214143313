"""boto3 clients, created once per process on first use (cold start pays only for what it uses)."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from shopdesk.config import region

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10,
                 tcp_keepalive=True)


_S3_CONFIG = _CONFIG.merge(Config(signature_version="s3v4"))   # presigned URLs with SigV4, as S3 requires


@cache
def client(service: str) -> Any:
    config = _S3_CONFIG if service == "s3" else _CONFIG
    return boto3.session.Session().client(service, region_name=region(), config=config)
