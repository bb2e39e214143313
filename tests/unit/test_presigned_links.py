"""How long each presigned link lives (docs/security.md, section 6): an agent's or a visitor's link and upload five
minutes, an export's fifteen, the link a provider fetches an outbound file from an hour. That the functions hand
out these links is in the integration tests (``presigned_seconds``): test_attachments.py (an agent's, a visitor's, a
provider's), test_privacy.py (an export's)."""

from __future__ import annotations

from typing import Any

import pytest

from shopdesk.dal import media as media_module
from shopdesk.dal import privacy as privacy_module
from shopdesk.dal.media import PRESIGNED_SECONDS, PROVIDER_FETCH_SECONDS, UPLOAD_SECONDS, MediaStore
from shopdesk.dal.privacy import Files
from shopdesk.privacy.jobs import DOWNLOAD_SECONDS


class SigningS3:
    """Records the expiry each presigned GET and POST was asked for (signing needs no network, only this)."""

    def __init__(self) -> None:
        self.expiries: list[int] = []

    def generate_presigned_url(self, operation: str, Params: dict[str, Any], ExpiresIn: int) -> str:
        self.expiries.append(ExpiresIn)
        return f"https://bucket.example/{Params['Key']}?X-Amz-Expires={ExpiresIn}"

    def generate_presigned_post(self, ExpiresIn: int, **_: Any) -> dict[str, Any]:
        self.expiries.append(ExpiresIn)
        return {"url": "https://bucket.example/", "fields": {}}


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> SigningS3:
    fake = SigningS3()
    monkeypatch.setattr(media_module, "client", lambda service: fake)
    monkeypatch.setattr(privacy_module, "client", lambda service: fake)
    return fake


def test_agents_and_visitors_links_and_uploads_last_five_minutes(s3):
    # the agent API's and the widget's links are MediaStore.presign's default
    MediaStore("media").presign("media/c_1/m_1/0-label.png", "label.png")
    MediaStore("media").presign_upload("media/outbound/c_1/alice/label.png", "image/png", 1000)
    assert s3.expiries == [PRESIGNED_SECONDS, UPLOAD_SECONDS] == [300, 300]


def test_an_export_s_link_lasts_fifteen_minutes(s3):
    Files().presign("exports", "exports/c_1.zip", DOWNLOAD_SECONDS, "customer-c_1.zip")
    assert s3.expiries == [DOWNLOAD_SECONDS] == [900]


def test_a_provider_s_link_to_an_outbound_file_lasts_an_hour(s3):
    # Twilio and Meta fetch the file when they send the message, which they may queue for a while: a five-minute
    # link could be gone by then
    MediaStore("media").presign("media/outbound/c_1/alice/label.png", "label.png", PROVIDER_FETCH_SECONDS)
    assert s3.expiries == [PROVIDER_FETCH_SECONDS] == [3600]


def test_an_upload_s_policy_holds_its_one_key_its_checked_type_and_its_declared_size(monkeypatch):
    # S3 refuses a POST its policy does not allow; the local stack's S3 checks none of it, so the policy is read here,
    # as boto3 signs it for S3 (signing needs credentials, no network)
    import base64
    import json

    import boto3

    from shopdesk.logic.attachments import Attachments

    real = boto3.client("s3", region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE",
                        aws_secret_access_key="example-secret")
    monkeypatch.setattr(media_module, "client", lambda service: real)
    upload = Attachments(MediaStore("media")).upload("media/webchat/v1/", "receipt.pdf", "Application/PDF", 9)
    policy = json.loads(base64.b64decode(upload["fields"]["policy"]))
    conditions = policy["conditions"]
    assert {"bucket": "media"} in conditions and {"key": upload["key"]} in conditions
    assert upload["key"].startswith("media/webchat/v1/") and upload["key"].endswith("/receipt.pdf")
    assert {"Content-Type": "application/pdf"} in conditions and upload["fields"]["Content-Type"] == "application/pdf"
    assert ["content-length-range", 1, 9] in conditions
    # nothing lets the file land elsewhere or as another type: no starts-with condition
    assert not [c for c in conditions if isinstance(c, list) and c[0] == "starts-with"]
