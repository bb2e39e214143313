"""Customers' files agents should not open (README "Channels", docs/security.md section 6): pages, SVGs, XML,
scripts and programs, by their type or their name's ending, become a placeholder note on every channel
(``logic/media.py`` ``refused``; the email path is in tests/integration/test_email.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from shopdesk.channels.base import Media
from shopdesk.logic.media import MediaCopier, accepted, refused
from shopdesk.models import Attachment


@pytest.mark.parametrize(("content_type", "filename"), [
    ("image/svg+xml", "logo.svg"), ("text/html; charset=utf-8", "page.html"), ("application/xhtml+xml", "a.xhtml"),
    ("text/xml", "feed.xml"), ("application/rss+xml", "feed.rss"), ("application/javascript", "run.js"),
    ("text/javascript", "run.js"), ("application/x-msdownload", "setup.exe"),
    ("application/java-archive", "app.jar"),
    # a harmless type declared for a name a browser or the system would run
    ("image/png", "photo.html"), ("application/octet-stream", "invoice.pdf.exe"), ("image/jpeg", "logo.SVG"),
    ("text/plain", "notes.hta"), ("application/pdf", "x.htm. "),
])
def test_pages_scripts_and_programs_are_refused_by_type_or_name(content_type, filename):
    assert refused(content_type, filename) is not None
    assert not accepted(content_type, filename)


@pytest.mark.parametrize(("content_type", "filename"), [
    ("image/png", "shoe.png"), ("image/jpeg", None), ("application/pdf", "Rechnung März.pdf"),
    ("text/plain", "notes.txt"), ("application/zip", "photos.zip"), ("message/rfc822", "order.eml"),
    ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "stock.xlsx"),
])
def test_other_files_are_not_refused(content_type, filename):
    assert refused(content_type, filename) is None


@dataclass
class _Conversations:
    message: Any
    saved: list[dict[str, Any]] = field(default_factory=list)

    def get_message(self, conversation_id: str, message_sk: str) -> Any:
        return self.message

    def update_attachments(self, conversation_id: str, message_sk: str, attachments: list[dict[str, Any]]) -> None:
        self.saved = attachments


@dataclass
class _Store:
    put_keys: list[str] = field(default_factory=list)

    def put(self, key: str, content: bytes, content_type: str | None) -> None:
        self.put_keys.append(key)


@dataclass
class _Message:
    attachments: list[Attachment]
    id: str = "m_1"
    provider: str = "messenger"
    unsent_at: None = None


def test_a_chat_channels_file_declared_a_picture_but_named_a_page_is_a_placeholder_note():
    # Given a Messenger message with a "picture" named page.html and a real picture
    message = _Message([Attachment(url="https://cdn.example/1", filename="page.html"),
                        Attachment(url="https://cdn.example/2", filename="shoe.png")])
    conversations, store = _Conversations(message), _Store()
    fetch = {"messenger": lambda attachment, max_bytes: Media(b"\x89PNG", "image/png", attachment.filename)}
    # When the router copies its files
    MediaCopier(conversations, store, fetch, 1_000_000).copy("c_1", "MSG#1")  # type: ignore[arg-type]
    # Then only the picture is stored; the page is a note
    assert store.put_keys == ["media/c_1/m_1/1-shoe.png"]
    page, shoe = conversations.saved
    assert "storage_key" not in page and page["note"] == "files named *.html are not accepted"
    assert shoe["storage_key"] == "media/c_1/m_1/1-shoe.png"
