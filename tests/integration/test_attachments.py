"""An agent's files go out with a reply, through the API and the dispatcher, on each channel's own API.

The file is uploaded the way the web inbox uploads it (a presigned POST to the media bucket), named in the reply,
checked as stored and against the channel's limits, then sent by the dispatcher to the fake provider.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from typing import Any

import pytest
from urllib3.filepost import encode_multipart_formdata

from tests.integration.helpers import agent, customer_writes, online
from tests.integration.test_email import _conversations, _deliver, _eml, _sent_mail
from tests.support import FakeHttp, FakeTwilio, http_event, presigned_seconds, sample

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(40)
PDF = b"%PDF-1.4\n%shopdesk test\n" + bytes(30)


def upload(desk: Any, name: str, content_type: str, data: bytes, conversation_id: str | None = None,
           who: str = "alice", groups: str | None = None) -> dict[str, Any]:
    """POST /agent/attachments, then the file to S3 with the presigned form, as the browser does."""
    body: dict[str, Any] = {"filename": name, "content_type": content_type, "size": len(data)}
    if conversation_id:
        body["conversation_id"] = conversation_id
    status, answer = agent(desk, "POST", "/agent/attachments", who, body, groups=groups)
    assert status == 201, answer
    form, boundary_type = encode_multipart_formdata({**answer["fields"], "file": (name, data, content_type)})
    request = urllib.request.Request(answer["url"], data=form, method="POST",
                                     headers={"Content-Type": boundary_type})
    with urllib.request.urlopen(request) as posted:
        assert posted.status in (200, 201, 204)
    return {k: answer[k] for k in ("key", "filename", "content_type", "size")}


def _outbound(desk: Any, conv: str) -> list[dict[str, Any]]:
    return [m for m in agent(desk, "GET", f"/agent/conversations/{conv}", "alice")[1]["messages"]
            if m["direction"] == "outbound"]


@pytest.fixture
def twilio():
    fake = FakeTwilio()
    yield fake
    fake.close()


@pytest.fixture
def graph():
    fake = FakeHttp(lambda path, body: (200, {"messaging_product": "whatsapp",
                                              "messages": [{"id": f"wamid.OUT{len(fake.requests)}"}]}))
    yield fake
    fake.close()


def _sms_conversation(desk: Any, phone: str = "+31612340001", channel: str = "sms") -> str:
    online(desk, "alice")
    conv = customer_writes(desk, phone, "Can you send the label?", "SM" + phone[-8:] * 4, channel=channel)
    desk.drain_queue(desk.work_queue_url, "router")
    return conv


def test_an_image_goes_out_by_mms_as_a_media_url_twilio_can_fetch_and_shows_on_the_timeline(desk, twilio):
    # Given an SMS conversation and a PNG the agent uploaded for it
    conv = _sms_conversation(desk)
    file = upload(desk, "label.png", "image/png", PNG, conv)
    assert file["key"].startswith(f"media/outbound/{conv}/alice/")
    # When the agent replies with text and the image
    status, reply = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice",
                          {"text": "Here is your return label", "attachments": [file]})
    assert status == 202 and reply["attachments"][0]["filename"] == "label.png"
    desk.drain_queue(desk.outbound_queue_url, "dispatcher", TWILIO_API_BASE_URL=twilio.url)
    # Then Twilio gets one message with the text and a MediaUrl that serves the file
    [request] = twilio.requests
    assert request["form"]["Body"] == "Here is your return label"
    [media_url] = [v for k, v in request["pairs"] if k == "MediaUrl"]
    with urllib.request.urlopen(media_url) as fetched:
        assert fetched.read() == PNG and fetched.headers["Content-Type"] == "image/png"
    assert presigned_seconds(media_url) == 3600       # a provider's fetch link: an hour (Twilio may fetch late)
    # and the timeline shows the outbound image with a short-lived link: five minutes
    [out] = _outbound(desk, conv)
    assert out["provider_id"].startswith("SM")
    [shown] = out["attachments"]
    assert shown["content_type"] == "image/png" and shown["size"] == len(PNG) and "X-Amz-Signature" in shown["url"]
    assert presigned_seconds(shown["url"]) == 300


def test_a_file_the_channel_cannot_carry_is_a_422_naming_channel_and_limit_and_nothing_is_queued(desk):
    conv = _sms_conversation(desk, "+31612340002")
    big = upload(desk, "invoice.pdf", "application/pdf", PDF + bytes(600_000), conv)
    status, problem = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice",
                            {"text": "Your invoice", "attachments": [big]})
    assert status == 422 and problem["type"] == "/problems/attachment-refused"
    assert problem["channel"] == "SMS (Twilio MMS)" and problem["limit"] == "500 KB"
    assert "invoice.pdf" in problem["detail"] and "500 KB" in problem["detail"]
    # a type the channel does not take (WhatsApp through Twilio has no plain text documents)
    wa = _sms_conversation(desk, "+31612340003", channel="whatsapp")
    notes = upload(desk, "notes.txt", "text/plain", b"size M, blue\n", wa)
    status, problem = agent(desk, "POST", f"/agent/conversations/{wa}/replies", "alice", {"attachments": [notes]})
    assert status == 422 and problem["channel"] == "WhatsApp (Twilio)" and "text/plain" in problem["detail"]
    assert _outbound(desk, conv) == [] and _outbound(desk, wa) == []
    assert desk.client("sqs").receive_message(QueueUrl=desk.outbound_queue_url).get("Messages") is None


def test_a_file_the_replys_channel_cannot_carry_is_refused_when_it_is_attached(desk):
    # Given an SMS conversation
    conv = _sms_conversation(desk, "+31612340004")
    file = {"filename": "invoice.pdf", "content_type": "application/pdf", "size": 700_000, "conversation_id": conv}
    # When the agent attaches a 700 KB PDF for a reply by SMS
    status, problem = agent(desk, "POST", "/agent/attachments", "alice", {**file, "channel": "sms"})
    # Then it is refused at once, naming the channel and its limit, as the reply would be
    assert status == 422 and problem["type"] == "/problems/attachment-refused", problem
    assert problem["channel"] == "SMS (Twilio MMS)" and problem["limit"] == "500 KB"
    # and without a channel (a canned response's file, an older client) the upload is given as before
    assert agent(desk, "POST", "/agent/attachments", "alice", file)[0] == 201
    # and a channel the conversation does not have is the reply's to refuse, not the upload's
    assert agent(desk, "POST", "/agent/attachments", "alice", {**file, "channel": "email"})[0] == 201


def test_what_landed_is_checked_not_what_the_client_says(desk):
    conv = _sms_conversation(desk, "+31612340004")
    # a "PNG" that is not one
    fake = upload(desk, "photo.png", "image/png", b"MZ\x90\x00 not an image at all", conv)
    status, problem = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"attachments": [fake]})
    assert status == 422 and "first bytes" in problem["detail"]
    # a key never uploaded, and a key issued to another agent or conversation
    ghost = {**fake, "key": f"media/outbound/{conv}/alice/0000/ghost.png"}
    status, problem = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"attachments": [ghost]})
    assert status == 422 and "was not uploaded" in problem["detail"]
    theirs = upload(desk, "label.png", "image/png", PNG, conv, who="bob", groups="[admins]")
    assert agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"attachments": [theirs]})[0] == 400
    # the size the client claims does not matter: the stored size is sent and shown
    real = upload(desk, "label.png", "image/png", PNG, conv)
    status, reply = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice",
                          {"attachments": [{**real, "size": 1}]})
    assert status == 202 and reply["attachments"][0]["size"] == len(PNG)
    # an upload of a type no channel takes is refused before any byte is sent
    status, problem = agent(desk, "POST", "/agent/attachments", "alice",
                            {"filename": "x.svg", "content_type": "image/svg+xml", "size": 10, "conversation_id": conv})
    assert status == 422 and problem["type"] == "/problems/attachment-refused"


def _whatsapp_cloud_conversation(desk: Any) -> str:
    body, sidecar = sample("meta_whatsapp", "text")
    desk.invoke("inbound_whatsapp", http_event("POST", "/webhooks/whatsapp", body, {
        "x-hub-signature-256": sidecar["http"]["headers"]["X-Hub-Signature-256"]}))
    [conv] = agent(desk, "GET", "/agent/conversations", "alice", query="view=all")[1]["items"]
    return conv["id"]


def test_whatsapp_sends_one_message_per_file_in_order_and_a_retry_resends_only_what_did_not_go(desk, graph):
    # Given a WhatsApp Cloud conversation and a reply with an image and a PDF
    conv = _whatsapp_cloud_conversation(desk)
    photo = upload(desk, "shoe.png", "image/png", PNG, conv)
    invoice = upload(desk, "invoice.pdf", "application/pdf", PDF, conv)
    # the second file fails for good (131053: media upload error)
    graph.script = [(200, {"messaging_product": "whatsapp", "messages": [{"id": "wamid.PART1"}]}),
                    (400, {"error": {"message": "(#131053) Media upload error", "type": "OAuthException",
                                     "code": 131053}})]
    status, _ = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice",
                      {"text": "Here they are", "attachments": [photo, invoice]})
    assert status == 202
    desk.drain_queue(desk.outbound_queue_url, "dispatcher", META_GRAPH_BASE_URL=graph.url)
    first, second = graph.requests
    assert first["json"]["type"] == "image" and first["json"]["image"]["caption"] == "Here they are"
    assert second["json"]["type"] == "document" and second["json"]["document"]["filename"] == "invoice.pdf"
    [failed] = _outbound(desk, conv)
    assert failed["status"] == "failed" and "1 of 2 parts" in failed["error"]["message"]
    # When the agent sends it again
    status, again = agent(desk, "POST", f"/agent/conversations/{conv}/replies/{failed['id']}/retry", "alice")
    assert status == 202 and [a["filename"] for a in again["attachments"]] == ["shoe.png", "invoice.pdf"]
    desk.drain_queue(desk.outbound_queue_url, "dispatcher", META_GRAPH_BASE_URL=graph.url)
    # Then only the document goes out again (the image reached the customer already), and the reply is sent
    assert len(graph.requests) == 3 and graph.requests[2]["json"]["type"] == "document"
    with urllib.request.urlopen(graph.requests[2]["json"]["document"]["link"]) as fetched:
        assert fetched.read() == PDF
    failed_now, resent = _outbound(desk, conv)
    assert failed_now["status"] == "failed" and resent["status"] == "accepted"
    assert resent["provider_id"] == "wamid.PART1"
    # and a reply that did not fail cannot be sent again
    assert agent(desk, "POST", f"/agent/conversations/{conv}/replies/{resent['id']}/retry", "alice")[0] == 409


def test_a_canned_response_with_a_file_sends_the_file_with_the_reply(desk, twilio):
    # Given an admin's canned response with a PDF (uploaded without a conversation)
    guide = upload(desk, "returns.pdf", "application/pdf", PDF, who="root", groups="[admins]")
    assert guide["key"].startswith("media/library/root/")
    canned = {"title": "Returns", "shortcode": "returns", "bodies": {"en": "Our returns guide is attached."},
              "attachments": [guide]}
    event = http_event("PUT", "/admin/canned-responses/returns", json.dumps(canned),
                       {"content-type": "application/json"}, claims={"cognito:username": "root",
                                                                      "cognito:groups": "[admins]"})
    result = desk.invoke("admin_api", event)
    assert result["statusCode"] == 200, result
    assert json.loads(result["body"])["attachments"][0]["filename"] == "returns.pdf"
    # When an agent answers with it
    conv = _sms_conversation(desk, "+31612340005")
    status, reply = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice",
                          {"canned_response_id": "returns"})
    assert status == 202 and [a["filename"] for a in reply["attachments"]] == ["returns.pdf"]
    desk.drain_queue(desk.outbound_queue_url, "dispatcher", TWILIO_API_BASE_URL=twilio.url)
    # Then the file goes with it
    [request] = twilio.requests
    assert request["form"]["Body"] == "Our returns guide is attached."
    [media_url] = [v for k, v in request["pairs"] if k == "MediaUrl"]
    with urllib.request.urlopen(media_url) as fetched:
        assert fetched.read() == PDF
    # a canned response may not name someone else's upload
    foreign = upload(desk, "x.pdf", "application/pdf", PDF, who="alice")
    other = {**canned, "shortcode": "other", "attachments": [foreign]}
    event = http_event("PUT", "/admin/canned-responses/other", json.dumps(other),
                       {"content-type": "application/json"}, claims={"cognito:username": "root",
                                                                      "cognito:groups": "[admins]"})
    assert desk.invoke("admin_api", event)["statusCode"] == 400


def test_email_reply_carries_the_file_as_a_mime_attachment_and_keeps_threading(desk):
    online(desk, "alice")
    _deliver(desk, _eml(), "att")
    [conv] = _conversations(desk)
    desk.drain_queue(desk.work_queue_url, "router")
    desk.client("ses").verify_email_identity(EmailAddress="support@shop.example")
    invoice = upload(desk, "invoice.pdf", "application/pdf", PDF, conv["id"])
    status, _ = agent(desk, "POST", f"/agent/conversations/{conv['id']}/replies", "alice",
                      {"text": "Your invoice is attached.", "attachments": [invoice]})
    assert status == 202
    desk.drain_queue(desk.outbound_queue_url, "dispatcher")
    [sent] = _sent_mail(conv["id"])
    assert sent["In-Reply-To"] == "<m1@customer.example>" and sent["Subject"] == "Re: Where is my order?"
    [attached] = list(sent.iter_attachments())
    assert attached.get_filename() == "invoice.pdf" and attached.get_content() == PDF
    assert attached.get_content_type() == "application/pdf"


def test_web_chat_visitor_downloads_the_agents_file_through_a_presigned_link(desk):
    from tests.integration.test_widget import _call, _session

    online(desk, "alice")
    session = _session(desk, "visitor-att")
    status, sent, _ = _call(desk, "POST", "/widget/messages", {"client_message_id": "w1", "text": "size chart?"},
                            session)
    assert status == 201
    conv = sent["conversation_id"]
    chart = upload(desk, "sizes.png", "image/png", PNG, conv)
    assert agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"attachments": [chart]})[0] == 202
    desk.drain_queue(desk.outbound_queue_url, "dispatcher")
    status, polled, _ = _call(desk, "GET", "/widget/messages", None, session)
    assert status == 200
    [theirs] = [m for m in polled["items"] if m["from"] == "agent"]
    [file] = theirs["attachments"]
    assert file["filename"] == "sizes.png" and presigned_seconds(file["url"]) == 300
    with urllib.request.urlopen(file["url"]) as fetched:
        assert fetched.read() == PNG
        # a picture browsers draw safely, shown in the page under its checked type
        assert fetched.headers["Content-Type"] == "image/png"
        assert fetched.headers["Content-Disposition"] == 'inline; filename="sizes.png"'


def test_a_reply_files_link_downloads_what_is_not_a_picture_for_agent_and_visitor(desk):
    from tests.integration.test_widget import _call, _session

    # Given a web-chat conversation and an agent's reply with a text file
    online(desk, "alice")
    session = _session(desk, "visitor-txt")
    status, sent, _ = _call(desk, "POST", "/widget/messages", {"client_message_id": "w1", "text": "sizes?"}, session)
    assert status == 201
    conv = sent["conversation_id"]
    notes = upload(desk, "sizes.txt", "text/plain", b"S 36, M 38, L 40", conv)
    assert agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"attachments": [notes]})[0] == 202
    desk.drain_queue(desk.outbound_queue_url, "dispatcher")
    # When the agent's timeline and the visitor's widget hand out its link
    [out] = _outbound(desk, conv)
    status, polled, _ = _call(desk, "GET", "/widget/messages", None, session)
    assert status == 200
    [theirs] = [m for m in polled["items"] if m["from"] == "agent"]
    # Then both links download it, as text
    for url in (out["attachments"][0]["url"], theirs["attachments"][0]["url"]):
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
        assert query["response-content-disposition"] == 'attachment; filename="sizes.txt"'
        assert query["response-content-type"] == "text/plain"
        with urllib.request.urlopen(url) as fetched:
            assert fetched.headers["Content-Disposition"] == 'attachment; filename="sizes.txt"'


def test_whatsapp_through_twilio_sends_one_media_per_message_with_the_text_first_when_it_cannot_be_a_caption(
        desk, twilio):
    # Given a WhatsApp conversation through Twilio and a reply with a PDF (no caption on documents) and an image
    conv = _sms_conversation(desk, "+31612340006", channel="whatsapp")
    invoice = upload(desk, "invoice.pdf", "application/pdf", PDF, conv)
    photo = upload(desk, "shoe.png", "image/png", PNG, conv)
    status, _ = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice",
                      {"text": "Invoice and photo", "attachments": [invoice, photo]})
    assert status == 202
    desk.drain_queue(desk.outbound_queue_url, "dispatcher", TWILIO_API_BASE_URL=twilio.url)
    # Then three messages leave in order: the text, the PDF, the image; each one MediaUrl at most
    text, first, second = twilio.requests
    assert text["form"]["Body"] == "Invoice and photo" and text["form"]["To"] == "whatsapp:+31612340006"
    assert "MediaUrl" not in text["form"] and "Body" not in first["form"] and "Body" not in second["form"]
    assert [[v for k, v in r["pairs"] if k == "MediaUrl"] for r in (first, second)] == [
        [first["form"]["MediaUrl"]], [second["form"]["MediaUrl"]]]
    assert "invoice.pdf" in first["form"]["MediaUrl"] and "shoe.png" in second["form"]["MediaUrl"]
    [out] = _outbound(desk, conv)
    assert out["provider_id"].startswith("SM") and out["status"] == "queued"


def test_a_personal_canned_response_takes_the_agents_own_uploads_only(desk):
    mine = upload(desk, "sizes.pdf", "application/pdf", PDF, who="alice")
    theirs = upload(desk, "other.pdf", "application/pdf", PDF, who="bob")
    canned = {"title": "Size chart", "shortcode": "sizes", "bodies": {"en": "Our size chart."}}
    status, saved = agent(desk, "PUT", "/agent/canned-responses/sizes", "alice", {**canned, "attachments": [mine]})
    assert status == 200 and saved["attachments"] == [mine]
    assert agent(desk, "PUT", "/agent/canned-responses/sizes", "alice",
                 {**canned, "attachments": [mine, theirs]})[0] == 400
    # saved again with its file (and the stored size, whatever the client says), it keeps it
    status, again = agent(desk, "PUT", "/agent/canned-responses/sizes", "alice",
                          {**canned, "attachments": [{**mine, "size": 1}]})
    assert status == 200 and again["attachments"] == [mine]
