"""A stored file's link never lets a browser run what the file holds (docs/security.md, section 6): a picture
browsers draw safely (png, jpeg, gif, webp) is shown inline, anything else is a download, always under the type the
message records made safe; and files are stored under such a type, so a link made elsewhere is safe too."""

from __future__ import annotations

import urllib.parse
from typing import Any

import pytest

from shopdesk.dal import media as media_module
from shopdesk.dal.media import PROVIDER_FETCH_SECONDS, MediaStore


class S3:
    """Presigns like S3 (the override parameters in the query) and records what is put."""

    def __init__(self) -> None:
        self.put: list[dict[str, Any]] = []

    def generate_presigned_url(self, operation: str, Params: dict[str, Any], ExpiresIn: int) -> str:
        query = {"response-content-type": Params.get("ResponseContentType"),
                 "response-content-disposition": Params.get("ResponseContentDisposition")}
        return f"https://bucket.example/{Params['Key']}?" + urllib.parse.urlencode(
            {k: v for k, v in query.items() if v is not None})

    def put_object(self, **params: Any) -> None:
        self.put.append(params)


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> S3:
    fake = S3()
    monkeypatch.setattr(media_module, "client", lambda service: fake)
    return fake


def served(url: str) -> tuple[str, str]:
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    return query["response-content-type"], query["response-content-disposition"]


@pytest.mark.parametrize("content_type", ["image/png", "image/jpeg", "image/gif", "image/webp", "IMAGE/PNG"])
def test_a_picture_browsers_draw_safely_is_shown_inline_under_its_type(s3, content_type):
    url = MediaStore("media").presign("media/c_1/m_1/0-shoe.png", "shoe.png", content_type=content_type)
    assert served(url) == (content_type.lower(), 'inline; filename="shoe.png"')


@pytest.mark.parametrize(("content_type", "expected"), [
    ("application/pdf", "application/pdf"), ("text/plain; charset=utf-8", "text/plain"), ("video/mp4", "video/mp4"),
    ("image/tiff", "image/tiff"), ("application/zip", "application/zip"),
    # a type a browser runs scripts in (a file stored before such files were refused) is served as bytes
    ("image/svg+xml", "application/octet-stream"), ("text/html", "application/octet-stream"),
    ("application/xhtml+xml", "application/octet-stream"), ("text/xml", "application/octet-stream"),
    ("application/javascript", "application/octet-stream"),
    # no type, or something that is not one
    (None, "application/octet-stream"), ("", "application/octet-stream"),
    ("text/html\r\nX-Injected: 1", "application/octet-stream"),
])
def test_anything_else_is_a_download_under_its_recorded_type_made_safe(s3, content_type, expected):
    url = MediaStore("media").presign("media/email/f/0-page.html", "page.html", content_type=content_type)
    assert served(url) == (expected, 'attachment; filename="page.html"')


def test_a_link_without_a_name_or_a_type_is_a_download_named_after_its_key(s3):
    url = MediaStore("media").presign("media/c_1/m_1/0-label.png")
    assert served(url) == ("application/octet-stream", 'attachment; filename="0-label.png"')


def test_a_providers_link_to_an_agents_picture_keeps_its_type(s3):
    # Twilio and Meta read the type of what they fetch
    url = MediaStore("media").presign("media/outbound/c_1/alice/x/label.png", "label.png", PROVIDER_FETCH_SECONDS,
                                      content_type="image/png")
    assert served(url) == ("image/png", 'inline; filename="label.png"')


@pytest.mark.parametrize(("content_type", "stored"), [
    ("image/png", "image/png"), ("application/pdf", "application/pdf"), ("text/html", "application/octet-stream"),
    ("image/svg+xml; charset=utf-8", "application/octet-stream"), (None, "application/octet-stream"),
])
def test_a_file_is_stored_under_a_type_no_browser_runs_scripts_in(s3, content_type, stored):
    MediaStore("media").put("media/c_1/m_1/0-x", b"data", content_type)
    [put] = s3.put
    assert put["ContentType"] == stored and put["ServerSideEncryption"] == "aws:kms"
