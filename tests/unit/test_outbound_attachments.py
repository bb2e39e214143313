"""Outbound files: each provider's limits (one table), how a reply is cut into provider messages, what the
first bytes must say, the request each sender makes with files, and a dispatch that resumes after the parts sent."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from shopdesk.channels import limits
from shopdesk.channels.base import OutboundFile, OutboundRequest, SendResult, Template
from shopdesk.channels.messenger import MessengerSender
from shopdesk.channels.meta import GraphClient
from shopdesk.channels.ses import SesSender
from shopdesk.channels.telegram import TelegramSender
from shopdesk.channels.twilio import Credentials, TwilioSender
from shopdesk.channels.whatsapp_cloud import WhatsAppSender
from shopdesk.errors import ProviderError
from shopdesk.logic.attachments import AttachmentRefused, check_channel, sniff_agrees
from shopdesk.logic.dispatch import OutboundWork, RetryLater, RetryPolicy, dispatch
from shopdesk.models import Attachment, Direction, Message, SendIntent
from tests.support import FakeHttp, FakeTwilio

PNG = b"\x89PNG\r\n\x1a\n" + bytes(40)
PDF = b"%PDF-1.7\n" + bytes(40)


def _file(name: str, content_type: str, size: int = 1000) -> OutboundFile:
    return OutboundFile(url=f"https://media.example/{name}?X-Amz-Signature=abc", content_type=content_type,
                        filename=name, size=size, key=f"media/outbound/c_1/alice/k/{name}")


# ------------------------------------------------------------------------------------------- the limits table

@pytest.mark.parametrize(("provider", "channel"), list(limits.LIMITS))
def test_every_channel_refuses_a_type_it_does_not_take_and_a_file_over_its_limit(provider, channel):
    row = limits.LIMITS[(provider, channel)]
    # a type no channel takes, and for each rule a file one byte over its own limit (the shop's cap first)
    refused = limits.refusal(row, channel, [_file("page.html", "text/html")])
    assert refused is not None and row.name in refused[0] and "text/html" in refused[0]
    for rule in row.rules:
        kind = sorted(rule.types)[0]
        assert limits.refusal(row, channel, [_file("ok", kind, min(rule.max_bytes, 1000))]) is None
        over = limits.refusal(row, channel, [_file("big", kind, rule.max_bytes + 1)])
        assert over is not None and over[1] == limits.megabytes(rule.max_bytes) and row.name in over[0]


def test_the_numbers_are_the_providers_documented_ones():
    mms, wa_twilio, wa_cloud = limits.TWILIO_MMS, limits.TWILIO_WHATSAPP, limits.WHATSAPP_CLOUD
    assert mms.rule("image/jpeg").max_bytes == 5_000_000 and mms.rule("application/pdf").max_bytes == 500_000
    assert mms.files_per_message == 10 and mms.max_message_bytes == 5_000_000
    assert wa_twilio.files_per_message == 1 and wa_twilio.rule("video/mp4").max_bytes == 16_000_000
    assert wa_cloud.rule("image/png").max_bytes == 5_000_000
    assert wa_cloud.rule("application/pdf").max_bytes == 100_000_000
    assert limits.INSTAGRAM.rule("image/png").max_bytes == 8_000_000 and limits.INSTAGRAM.rule("text/plain") is None
    assert limits.TELEGRAM.rule("image/jpeg").max_bytes == 5_000_000            # a photo by URL
    assert limits.TELEGRAM.rule("application/pdf").max_bytes == 20_000_000      # a document by URL
    assert limits.MESSENGER.rule("application/pdf").max_bytes == 25_000_000


def test_mms_files_together_over_five_megabytes_are_refused_though_each_fits():
    files = [_file(f"p{i}.jpg", "image/jpeg", 2_000_000) for i in range(3)]
    detail, limit = limits.refusal(limits.TWILIO_MMS, "sms", files) or ("", "")
    assert limit == "5 MB" and "6 MB" in detail


def test_a_channel_without_a_row_carries_no_files_and_says_so():
    with pytest.raises(AttachmentRefused) as refused:
        check_channel([Attachment(storage_key="k", filename="a.png", content_type="image/png", size=10)],
                      "carrier_pigeon", "pigeon")
    assert refused.value.channel == "pigeon" and refused.value.limit == "no attachments"


# ------------------------------------------------------------------------------------------- parts

def _reply(channel: str, text: str | None, *files: OutboundFile, **extra: Any) -> OutboundRequest:
    return OutboundRequest(channel=channel, to="+31612345678", sender="+14155550100", text=text, files=files,
                           reply_context="wamid.IN", **extra)


def test_one_file_per_message_with_the_text_as_the_first_files_caption_when_it_takes_one():
    photo, invoice = _file("a.png", "image/png"), _file("b.pdf", "application/pdf")
    parts = limits.parts(_reply("whatsapp", "Here you go", photo, invoice), limits.WHATSAPP_CLOUD)
    assert [(p.text, p.files, p.reply_context) for p in parts] == [
        ("Here you go", (photo,), "wamid.IN"), (None, (invoice,), None)]


def test_text_goes_first_on_its_own_when_the_first_file_takes_no_caption_or_it_is_too_long():
    voice = _file("v.ogg", "audio/ogg")
    assert [(p.text, p.files) for p in limits.parts(_reply("whatsapp", "Listen", voice), limits.WHATSAPP_CLOUD)] \
        == [("Listen", ()), (None, (voice,))]
    photo = _file("a.png", "image/png")
    long_text = "x" * 1025
    assert [p.text for p in limits.parts(_reply("whatsapp", long_text, photo), limits.WHATSAPP_CLOUD)] \
        == [long_text, None]
    assert [p.text for p in limits.parts(_reply("messenger", "Hi", photo), limits.MESSENGER)] == ["Hi", None]


def test_mms_takes_ten_files_a_message_and_email_all_of_them_in_one():
    photos = [_file(f"p{i}.png", "image/png", 10) for i in range(12)]
    mms = limits.parts(_reply("sms", "Photos", *photos), limits.TWILIO_MMS)
    assert [len(p.files) for p in mms] == [10, 2] and [p.text for p in mms] == ["Photos", None]
    assert len(limits.parts(_reply("email", "Photos", *photos[:10]), limits.EMAIL)) == 1


def test_a_template_or_a_reply_without_files_is_one_part():
    template = _reply("whatsapp", "x", _file("a.png", "image/png"), template=Template("order_update", "en_US"))
    assert limits.parts(template, limits.WHATSAPP_CLOUD) == [template]
    plain = _reply("sms", "Hi")
    assert limits.parts(plain, limits.TWILIO_MMS) == [plain]


# ------------------------------------------------------------------------------------------- first bytes

@pytest.mark.parametrize(("content_type", "head", "agrees"), [
    ("image/png", PNG, True),
    ("image/png", b"\xff\xd8\xff\xe0" + bytes(20), False),       # a JPEG named PNG
    ("image/jpeg", b"MZ\x90\x00", False),                         # an executable
    ("application/pdf", PDF, True),
    ("application/pdf", b"just text", False),
    ("text/plain", "größe M\n".encode(), True),
    ("text/plain", b"\x00\x01\x02", False),
    ("text/csv", b"\xff\xfe\x00", False),                         # not UTF-8
    ("audio/mpeg", b"ID3\x03\x00\x00\x00" + bytes(20), True),
])
def test_first_bytes_must_agree_with_the_type(content_type, head, agrees):
    assert sniff_agrees(content_type, head) is agrees


# ------------------------------------------------------------------------------------------- senders

@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio()
    yield fake
    fake.close()


@pytest.fixture
def http() -> Iterator[FakeHttp]:
    fake = FakeHttp(lambda path, body: (200, {"ok": True, "result": {"message_id": 7}} if "/bot" in path else
                                        {"messaging_product": "whatsapp", "messages": [{"id": "wamid.X"}],
                                         "recipient_id": "1", "message_id": "m_1"}))
    yield fake
    fake.close()


def test_twilio_sends_every_file_as_a_media_url_with_the_text_as_body(twilio):
    sender = TwilioSender(Credentials("AC" + "0" * 32, "token"), twilio.url)
    files = (_file("a.png", "image/png"), _file("b.pdf", "application/pdf"))
    sender.send(OutboundRequest(channel="sms", to="+31612345678", sender="+14155550100", text="Two files",
                                files=files))
    [request] = twilio.requests
    assert [v for k, v in request["pairs"] if k == "MediaUrl"] == [f.url for f in files]
    assert request["form"]["Body"] == "Two files"


def test_whatsapp_cloud_types_files_by_content_type_and_names_documents(http):
    sender = WhatsAppSender(GraphClient(http.url, "token", "v21.0"), "106540352242922")
    sender.send(_reply("whatsapp", None, _file("contract.docx", OFFICE_DOCX)))
    sender.send(_reply("whatsapp", "Look", _file("clip.mp4", "video/mp4")))
    document, video = (r["json"] for r in http.requests)
    assert document["type"] == "document" and document["document"] == {
        "link": _file("contract.docx", OFFICE_DOCX).url, "filename": "contract.docx"}
    assert video["type"] == "video" and video["video"]["caption"] == "Look"


OFFICE_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.mark.parametrize(("provider", "content_type", "kind"), [
    ("messenger", "image/png", "image"), ("messenger", "application/pdf", "file"),
    ("instagram", "video/mp4", "video"), ("instagram", "audio/aac", "audio")])
def test_messenger_and_instagram_send_an_attachment_payload_with_the_url(http, provider, content_type, kind):
    sender = MessengerSender(GraphClient(http.url, "token", "v21.0"), "me", provider)
    file = _file("f", content_type)
    sender.send(OutboundRequest(channel=provider, to="PSID1", sender="me", files=(file,)))
    [request] = http.requests
    assert request["json"]["message"] == {"attachment": {"type": kind, "payload": {"url": file.url,
                                                                                   "is_reusable": False}}}
    assert request["json"]["messaging_type"] == "RESPONSE"


def test_telegram_sends_photos_and_pdfs_by_url_and_uploads_other_documents(http):
    read: list[str] = []

    def read_file(file: OutboundFile) -> bytes:
        read.append(file.key or "")
        return b"PK\x03\x04 docx bytes"

    sender = TelegramSender(http.url, "123456:test-token", read_file=read_file)
    sender.send(_reply("telegram", "Your label", _file("label.png", "image/png")))
    sender.send(_reply("telegram", None, _file("invoice.pdf", "application/pdf")))
    sender.send(_reply("telegram", "Contract", _file("contract.docx", OFFICE_DOCX)))
    photo, pdf, upload = http.requests
    assert photo["path"].endswith("/sendPhoto") and photo["json"]["photo"] == _file("label.png", "image/png").url
    assert photo["json"]["caption"] == "Your label"
    assert pdf["path"].endswith("/sendDocument") and pdf["json"]["document"].startswith("https://media.example/")
    assert upload["path"].endswith("/sendDocument") and upload["content_type"].startswith("multipart/form-data")
    assert b'name="document"; filename="contract.docx"' in upload["raw"] and b"docx bytes" in upload["raw"]
    assert b'name="caption"' in upload["raw"] and read == ["media/outbound/c_1/alice/k/contract.docx"]


@dataclass
class RecordingSes:
    sent: list[dict[str, Any]] = field(default_factory=list)

    def send_email(self, **params: Any) -> dict[str, Any]:
        self.sent.append(params)
        return {"MessageId": "0100-ses-id"}


def test_email_attaches_the_files_bytes_and_keeps_threading():
    client = RecordingSes()
    sender = SesSender("Shop <support@shop.example>", client=client, read_file=lambda f: PDF)
    sender.send(OutboundRequest(channel="email", to="ada@customer.example", sender="support@shop.example",
                                text="Invoice attached", subject="Where is my order?",
                                in_reply_to="m1@customer.example",
                                files=(_file("invoice.pdf", "application/pdf"),)))
    [params] = client.sent
    mail = email.message_from_bytes(params["Content"]["Raw"]["Data"], policy=email.policy.default)
    assert mail["In-Reply-To"] == "<m1@customer.example>" and mail["Subject"] == "Re: Where is my order?"
    [attached] = list(mail.iter_attachments())
    assert attached.get_filename() == "invoice.pdf" and attached.get_content() == PDF
    assert "https://media.example" not in mail.as_string()        # attached, not linked


# ------------------------------------------------------------------------------------------- dispatch

@dataclass
class Parts:
    """The message store as dispatch sees it, recording parts and sends."""

    message: Message
    parts: list[tuple[int, str]] = field(default_factory=list)
    sends: list[dict[str, Any]] = field(default_factory=list)
    attempts: list[dict[str, Any]] = field(default_factory=list)

    def get_message(self, conversation_id: str, sk: str) -> Message:
        return self.message

    def record_part(self, conversation_id: str, sk: str, parts_sent: int, provider_id: str) -> None:
        self.parts.append((parts_sent, provider_id))
        self.message = self.message.model_copy(update={"parts_sent": parts_sent,
                                                       "part_ids": [*self.message.part_ids, provider_id]})

    def record_send(self, conversation_id: str, sk: str, **kwargs: Any) -> None:
        self.sends.append(kwargs)

    def record_intent(self, conversation_id: str, sk: str, *, part: int, attempt: int, reference: str,
                      possibly_duplicate: bool = False) -> bool:
        intent = SendIntent(part=part, attempt=attempt, since=datetime.now(UTC), reference=reference)
        self.message = self.message.model_copy(update={"sending": intent})
        return True

    def record_attempt(self, conversation_id: str, sk: str, **kwargs: Any) -> None:
        self.attempts.append(kwargs)
        if not kwargs.get("keep_intent"):
            self.message = self.message.model_copy(update={"sending": None})


@dataclass
class Flaky:
    fail_at: int | None = None          # the call (1-based) that raises a rate limit once
    calls: list[OutboundRequest] = field(default_factory=list)

    def send(self, request: OutboundRequest) -> SendResult:
        self.calls.append(request)
        if len(self.calls) == self.fail_at:
            raise ProviderError("rate limited", code="130429", retryable=True, http_status=429)
        return SendResult(provider_id=f"wamid.{len(self.calls)}")


def _message_with_files() -> Message:
    files = [Attachment(storage_key=f"media/outbound/c_1/alice/k/{n}", filename=n, content_type=t, size=100)
             for n, t in (("a.png", "image/png"), ("b.pdf", "application/pdf"), ("c.png", "image/png"))]
    return Message(id="m_1", conversation_id="c_1", direction=Direction.OUTBOUND, channel="whatsapp",
                   provider="whatsapp_cloud", text="Three files", status="queued", to="31612345678",
                   sender="106540352242922", created_at="2026-12-03T10:00:00.000Z", attachments=files)


def test_a_redelivery_after_a_rate_limit_resumes_after_the_parts_already_sent():
    store, sender = Parts(_message_with_files()), Flaky(fail_at=2)
    work = OutboundWork(conversation_id="c_1", message_id="m_1", message_sk="MSG#x")
    policy = RetryPolicy(max_attempts=5, base_seconds=1)

    def presigned(attachment: Attachment) -> str:
        return f"https://media.example/{attachment.storage_key}?X-Amz-Expires=3600"

    with pytest.raises(RetryLater):
        dispatch(work, 1, store, lambda provider: sender, policy, None, presigned)
    assert store.parts == [(1, "wamid.1")] and store.sends == []
    assert dispatch(work, 2, store, lambda provider: sender, policy, None, presigned) == "sent"
    # the first file went out once; the second was tried twice; the third once, in order
    sent = [c.files[0].filename for c in sender.calls]
    assert sent == ["a.png", "b.pdf", "b.pdf", "c.png"]
    assert sender.calls[0].text == "Three files" and sender.calls[0].files[0].url.endswith("X-Amz-Expires=3600")
    assert store.sends == [{"provider": "whatsapp_cloud", "provider_id": "wamid.1", "status": "accepted",
                            "attempts": 2, "other_ids": ["wamid.3", "wamid.4"]}]
