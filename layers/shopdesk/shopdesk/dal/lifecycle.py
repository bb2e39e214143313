"""S3 lifecycle rules a privacy setting owns in a bucket the template also gives rules (the event lake's, the media
bucket's): saving the settings rewrites the rules it owns and keeps every other rule of the bucket."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError


def rules(s3: Any, bucket: str) -> list[dict[str, Any]]:
    try:
        return list(s3.get_bucket_lifecycle_configuration(Bucket=bucket).get("Rules") or [])
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchLifecycleConfiguration":
            return []
        raise


def expire(s3: Any, bucket: str, owned: Mapping[str, str], days: int) -> list[dict[str, Any]]:
    """The rules ``owned`` names (``{rule id: prefix}``) expire their prefix's objects ``days`` after they were
    written (GetBucketLifecycleConfiguration, PutBucketLifecycleConfiguration); the bucket's other rules stay."""
    kept = [_filtered(rule) for rule in rules(s3, bucket) if rule.get("ID") not in owned]
    mine = [{"ID": rule_id, "Status": "Enabled", "Filter": {"Prefix": prefix}, "Expiration": {"Days": days}}
            for rule_id, prefix in owned.items()]
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [*kept, *mine]})
    return [*kept, *mine]


def _filtered(rule: dict[str, Any]) -> dict[str, Any]:
    """A rule as S3 takes it back in one configuration with ours: a top-level ``Prefix`` (the old form, which
    CloudFormation's ``Prefix`` writes) becomes a ``Filter`` (S3 refuses a configuration that mixes them)."""
    rule = dict(rule)
    if "Prefix" in rule:
        rule["Filter"] = {"Prefix": rule.pop("Prefix")}
    return rule
