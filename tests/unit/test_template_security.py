"""What template.yaml promises about data at rest and the audit trail (docs/security.md points here)."""

from __future__ import annotations

from typing import Any

from local.template import load_template
from tests.support import ROOT

RESOURCES = load_template(ROOT / "template.yaml")["Resources"]


def _of(kind: str) -> dict[str, dict[str, Any]]:
    return {name: r.get("Properties") or {} for name, r in RESOURCES.items() if r["Type"] == kind}


def _names(value: Any) -> str:
    return repr(value)


def test_every_bucket_is_encrypted_private_and_reached_over_tls_only():
    policies = _of("AWS::S3::BucketPolicy")
    for name, bucket in _of("AWS::S3::Bucket").items():
        assert bucket.get("BucketEncryption"), f"{name} is not encrypted"
        block = bucket.get("PublicAccessBlockConfiguration") or {}
        assert all(block.get(k) is True for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls",
                                                  "RestrictPublicBuckets")), f"{name} may become public"
        [policy] = [p for p in policies.values() if f"'{name}'" in _names(p["Bucket"])]
        assert any(s["Effect"] == "Deny" and "aws:SecureTransport" in _names(s.get("Condition"))
                   for s in policy["PolicyDocument"]["Statement"]), f"{name} takes plain HTTP"


def test_exports_and_attachments_expire():
    rules = {name: [r.get("ExpirationInDays") for r in (b.get("LifecycleConfiguration") or {}).get("Rules", [])]
             for name, b in _of("AWS::S3::Bucket").items()}
    assert rules["ExportBucket"] == [1]
    assert rules["MediaBucket"] and rules["InboundMailBucket"]
    # every message's files expire (inbound copies, email, agents' and visitors' uploads), the shared library not
    prefixes = {r.get("Prefix") for r in _of("AWS::S3::Bucket")["MediaBucket"]["LifecycleConfiguration"]["Rules"]}
    assert prefixes == {"media/c_", "media/email/", "media/outbound/", "media/webchat/"}


def test_the_functions_that_write_audit_records_may_never_change_or_delete_them():
    for name in ("AgentApiFunction", "AdminApiFunction", "PrivacyFunction"):
        statements = [s for policy in RESOURCES[name]["Properties"]["Policies"] if isinstance(policy, dict)
                      for s in policy.get("Statement", [])]
        [deny] = [s for s in statements if s.get("Sid") == "AuditTrailIsAppendOnly"]
        assert deny["Effect"] == "Deny"
        assert set(deny["Action"]) == {"dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
        assert deny["Condition"] == {"ForAnyValue:StringLike": {"dynamodb:LeadingKeys": ["AUDIT#*"]}}


def test_every_queue_has_a_dead_letter_queue_and_the_privacy_one_an_alarm():
    queues = _of("AWS::SQS::Queue")
    dlqs = {n for n, r in RESOURCES.items() if r["Type"] == "AWS::SQS::Queue"
            and "ES6000" in _names(r.get("Metadata"))}
    for name, queue in queues.items():
        assert name in dlqs or queue.get("RedrivePolicy"), f"{name} has no dead-letter queue"
    assert "PrivacyDeadLetterQueue" in dlqs
    alarmed = " ".join(_names(a.get("Dimensions")) for a in _of("AWS::CloudWatch::Alarm").values())
    assert "PrivacyDeadLetterQueue" in alarmed
