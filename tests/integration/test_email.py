"""Email through the real handlers: mail SES stored in S3, replies threaded back, bounces over SNS."""

from __future__ import annotations

import base64
import datetime as dt
import json
import urllib.parse
import urllib.request
from email import policy
from email.message import EmailMessage
from email.parser import Parser
from uuid import uuid4

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from shopdesk import clock
from shopdesk.channels import sns
from tests.integration.helpers import agent, online
from tests.integration.test_admin_api import admin_call
from tests.integration.test_bot import KB, conversation, kb_import
from tests.integration.test_commerce import sandbox, shop  # noqa: F401 (fixtures)
from tests.support import SAMPLES, FakeContext, http_event


def _eml(sender="Ada Lovelace <ada@customer.example>", to="support@shop.example", subject="Where is my order?",
         body="Hello,\nwhere is order #1001?\n", message_id="<m1@customer.example>", **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Message-ID"] = sender, to, subject, message_id
    msg["Date"] = "Sun, 22 Nov 2026 22:00:00 +0000"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return bytes(msg)


def _deliver(desk, raw: bytes, key: str, **env: str):
    s3 = desk.client("s3")
    s3.put_object(Bucket=desk.env["MAIL_BUCKET"], Key=f"raw/{key}", Body=raw)
    event = {"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                          "s3": {"bucket": {"name": desk.env["MAIL_BUCKET"]}, "object": {"key": f"raw/{key}"}}}]}
    return desk.invoke("inbound_email", event, **env)


def _conversations(desk):
    return agent(desk, "GET", "/agent/conversations", "alice", query="view=all")[1]["items"]


def _messages(desk, conv_id):
    return agent(desk, "GET", f"/agent/conversations/{conv_id}", "alice")[1]["messages"]


@pytest.mark.parametrize(("name", "subject"), [("eml/plain_text_apple_mail", "Testing 123"),
                                               ("eml/multipart_alternative_qp_latin1",
                                                "Nicolas Fouché has accepted your invitation to Gmail"),
                                               ("s3_object_docs_example", "Example subject")])
def test_sample_mail_becomes_one_customer_message_and_a_redelivery_is_a_no_op(desk, name, subject):
    raw = (SAMPLES / "ses" / f"{name}.eml").read_bytes()
    assert _deliver(desk, raw, "a") == {"stored": 1, "duplicates": 0}
    assert _deliver(desk, raw, "b") == {"stored": 0, "duplicates": 1}      # SES delivered it twice
    [conv] = _conversations(desk)
    inbound = [m for m in _messages(desk, conv["id"]) if m["direction"] == "inbound"]
    assert len(inbound) == 1 and inbound[0]["channel"] == "email" and inbound[0]["subject"] == subject
    assert inbound[0]["text"]


def test_reply_by_email_threads_back_by_reply_address_and_by_references(desk):
    online(desk, "alice")
    _deliver(desk, _eml(), "1")
    [conv] = _conversations(desk)
    desk.drain_queue(desk.work_queue_url, "router")
    desk.client("ses").verify_email_identity(EmailAddress="support@shop.example")
    status, reply = agent(desk, "POST", f"/agent/conversations/{conv['id']}/replies", "alice",
                          {"text": "It left our warehouse today."})
    assert status == 202 and reply["subject"] == "Re: Where is my order?"
    desk.drain_queue(desk.outbound_queue_url, "dispatcher")
    [out] = [m for m in _messages(desk, conv["id"]) if m["direction"] == "outbound"]
    ses_id = out["provider_id"]
    assert ses_id and out["status"] == "accepted", out
    # the customer answers quoting our mail (SES's Message-ID), from a client that drops the reply+ address
    answer = _eml(subject="Re: Where is my order?", message_id="<m2@customer.example>",
                  body="Thanks!\n\nOn Sun, Nov 22, 2026 Shop wrote:\n> It left our warehouse today.\n",
                  In_Reply_To=f"<{ses_id}@email.amazonses.com>",
                  References=f"<m1@customer.example> <{ses_id}@email.amazonses.com>")
    _deliver(desk, answer, "2")
    # and writes once more to the reply+ address only, as a new thread
    token_mail = _eml(subject="One more thing", message_id="<m3@customer.example>", body="Gift wrap please.",
                      to=f"support+{conv['id']}@shop.example".replace("support+", "reply+"))
    _deliver(desk, token_mail, "3")
    assert len(_conversations(desk)) == 1
    inbound = [m["text"] for m in _messages(desk, conv["id"]) if m["direction"] == "inbound"]
    assert inbound == ["Hello,\nwhere is order #1001?", "Thanks!", "Gift wrap please."]


def test_after_30_mails_the_conversation_item_is_under_2_kb_and_our_reply_still_threads(desk):
    from bench.pricing import item_size, write_units
    # Given a customer whose mail client keeps every id of the thread in References (none trimmed), and an agent
    # who answers each of their 15 mails: 30 mails in all, each id as long as real ones (SES's are 80 characters)
    online(desk, "alice")
    desk.client("ses").verify_email_identity(EmailAddress="support@shop.example")
    thread: list[str] = []
    conv_id = None
    for n in range(15):
        mine = f"<{uuid4().hex}.{n}@mail.customer.example>"
        raw = _eml(subject=("Re: " if thread else "") + "Where is my order?", message_id=mine, body=f"Question {n}\n")
        _deliver(desk, _threaded(raw, thread), f"long-{n}")
        thread.append(mine)
        desk.drain_queue(desk.work_queue_url, "router")
        [conv] = _conversations(desk)                   # every mail found the one conversation
        conv_id = conv["id"]
        ours = _answer_and_send_latest(desk, conv_id, f"Answer {n}")
        thread.append(f"<{ours}@email.amazonses.com>")
    # Then the conversation's item, as DynamoDB sizes it, is under 2 KB: 2 write units a write, not 3
    item = desk.client("dynamodb").get_item(TableName=desk.table_name, ConsistentRead=True,
                                            Key={"PK": {"S": f"CONV#{conv_id}"}, "SK": {"S": "META"}})["Item"]
    assert item_size(item) < 2 * 1024 and write_units(item_size(item)) == 2, item_size(item)
    # And our last reply still answers their latest mail in their thread: In-Reply-To the latest, References the
    # thread's first id then the latest ones (RFC 5537's first and last three), ending with the latest
    last = _sent_mail(conv_id)[-1]
    assert last["In-Reply-To"] == thread[-2]
    references = str(last["References"]).split()
    assert references == [thread[0], *thread[-4:-1]], references
    assert last["Subject"] == "Re: Where is my order?"


def _threaded(raw: bytes, thread: list[str]) -> bytes:
    """``raw`` answering the last mail of ``thread``, its References every id, folded between ids as a mail client
    writes it (the standard library would encode an id longer than a line's word, as SES's are)."""
    if not thread:
        return raw
    folded = "\n ".join(thread)
    return f"In-Reply-To: {thread[-1]}\nReferences: {folded}\n".encode() + raw


def _answer_and_send_latest(desk, conv_id: str, text: str) -> str:
    """An agent's answer, sent: SES's id of it."""
    status, reply = agent(desk, "POST", f"/agent/conversations/{conv_id}/replies", "alice", {"text": text})
    assert status == 202, reply
    desk.drain_queue(desk.outbound_queue_url, "dispatcher")
    [out] = [m for m in _messages(desk, conv_id) if m["id"] == reply["id"]]
    assert out["status"] == "accepted", out
    return out["provider_id"]


def test_a_thank_you_by_email_in_the_thread_of_a_resolved_conversation_stays_on_it(desk):
    online(desk, "alice")
    _deliver(desk, _eml(), "t1")
    [conv] = _conversations(desk)
    desk.drain_queue(desk.work_queue_url, "router")
    assert agent(desk, "POST", f"/agent/conversations/{conv['id']}/status", "alice", {"status": "resolved"})[0] == 200
    desk.drain_queue(desk.work_queue_url, "router")
    thanks = _eml(subject="Re: Where is my order?", message_id="<t2@customer.example>",
                  to=f"reply+{conv['id']}@shop.example",
                  body="Thank you so much!\n\nOn Sun, Nov 22, 2026 Shop wrote:\n> It left our warehouse today.\n")
    assert _deliver(desk, thanks, "t2") == {"stored": 1, "duplicates": 0}
    assert [c["id"] for c in _conversations(desk)] == [conv["id"]]                      # nothing new to work on
    assert [m["text"] for m in _messages(desk, conv["id"]) if m["direction"] == "inbound"][-1] == "Thank you so much!"
    assert agent(desk, "GET", f"/agent/conversations/{conv['id']}", "alice")[1]["status"] == "resolved"


def _ses_received(recipient: str) -> str:
    """The Received header SES puts on top of a message it stores, naming the envelope recipient."""
    return ("from mail-wm1-f41.google.example (mail-wm1-f41.google.example [209.85.128.41]) by "
            f"inbound-smtp.us-east-1.amazonaws.com with SMTP id 7hq2o1v5r8t9 for {recipient}; "
            "Sun, 22 Nov 2026 22:00:01 +0000 (UTC)")


def _with_ses_headers(raw: bytes, recipient: str) -> bytes:
    return f"Return-Path: <ada@customer.example>\r\nReceived: {_ses_received(recipient)}\r\n".encode() + raw


def _sent_mail(conv_id: str) -> list:
    """What moto's SES accepted for this conversation (its Reply-To carries the conversation id)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    parsed = [Parser(policy=policy.default).parsestr(m.raw_data)
              for m in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages if hasattr(m, "raw_data")]
    return [m for m in parsed if conv_id in str(m["Reply-To"] or "")]


def _answer_and_send(desk, conv_id: str) -> dict:
    status, _ = agent(desk, "POST", f"/agent/conversations/{conv_id}/replies", "alice",
                      {"text": "It left our warehouse today."})
    assert status == 202
    desk.drain_queue(desk.outbound_queue_url, "dispatcher")
    [out] = [m for m in _messages(desk, conv_id) if m["direction"] == "outbound"]
    return out


def test_an_email_reply_may_be_as_long_as_an_email_is(desk):
    # an answer by email is often long (steps, a policy quoted): SMS's 1,600 characters are not its limit
    _deliver(desk, _eml(message_id="<long1@customer.example>"), "long1")
    [conv] = _conversations(desk)
    text = "Here is how a return works, step by step.\n" + "\n".join(f"{i:03}. " + "y" * 60 for i in range(150))
    assert len(text) == 9_941
    status, body = agent(desk, "POST", f"/agent/conversations/{conv['id']}/replies", "alice", {"text": text})
    assert status == 202 and body["text"] == text, body
    [out] = [m for m in _messages(desk, conv["id"]) if m["direction"] == "outbound"]
    assert out["status"] == "queued" and out["text"] == text


@pytest.mark.parametrize(("case", "to", "envelope", "mailbox"), [
    ("Bcc", "Friend <friend@example.org>", "support@shop.example", "support@shop.example"),
    ("a forwarding rule", "ada.private@mail.example", "sales@shop.example", "sales@shop.example"),
    ("an alias on another domain", "Info <info@brand.example>", "support@shop.example", "support@shop.example"),
])
def test_mail_that_reached_us_only_through_the_envelope_is_answered_from_our_address(desk, case, to, envelope,
                                                                                      mailbox):
    # Given SES lets us send only from our own verified mailboxes, and mail whose To names someone else
    ses = desk.client("ses")
    for address in ("support@shop.example", "sales@shop.example"):
        ses.verify_email_identity(EmailAddress=address)
    online(desk, "alice")
    raw = _with_ses_headers(_eml(to=to, message_id=f"<{uuid4().hex}@customer.example>"), envelope)
    assert _deliver(desk, raw, "env") == {"stored": 1, "duplicates": 0}
    [conv] = _conversations(desk)
    desk.drain_queue(desk.work_queue_url, "router")
    # When an agent answers, Then SES accepts the reply from the mailbox the mail was received at
    out = _answer_and_send(desk, conv["id"])
    assert out["status"] == "accepted", (case, out)
    [sent] = _sent_mail(conv["id"])
    assert sent["From"].addresses[0].addr_spec == mailbox
    assert sent["To"].addresses[0].addr_spec == "ada@customer.example"
    assert sent["Reply-To"].addresses[0].addr_spec == f"reply+{conv['id']}@shop.example"     # threading kept


def test_out_of_office_reply_starts_no_sla_clock(desk):
    _deliver(desk, _eml(subject="Automatic reply: Where is my order?", Auto_Submitted="auto-replied",
                        body="I am out of office until Monday."), "oof")
    [conv] = _conversations(desk)
    assert conv["sla"]["first_response_due_at"] is None
    [message] = [m for m in _messages(desk, conv["id"]) if m["direction"] == "inbound"]
    assert message["kind"] == "auto_reply"


def test_an_out_of_office_asks_nothing_alone_it_is_resolved_after_a_resolve_it_stays_there(desk):
    online(desk, "alice")
    # Given an out-of-office as someone's first mail (an answer to the shop's own mail)
    _deliver(desk, _eml(subject="Automatic reply: Your order", Auto_Submitted="auto-replied",
                        body="I am out of office until Monday."), "oof1")
    desk.drain_queue(desk.work_queue_url, "router")
    # Then there is nothing to answer: resolved by the system, nobody's capacity taken
    [first] = _conversations(desk)
    assert (first["status"], first["assignee"]) == ("resolved", None)
    assert desk.item("AGENT#alice")["active"] == 0
    # And after a real question is answered and resolved, an out-of-office to the answer stays on it
    _deliver(desk, _eml(message_id="<m2@customer.example>"), "ask")
    desk.drain_queue(desk.work_queue_url, "router")
    [asked] = [c for c in _conversations(desk) if c["id"] != first["id"]]
    assert agent(desk, "POST", f"/agent/conversations/{asked['id']}/status", "alice", {"status": "resolved"})[0] == 200
    _deliver(desk, _eml(subject="Automatic reply: Re: Where is my order?", Auto_Submitted="auto-replied",
                        message_id="<m3@customer.example>", body="I am out of office until Monday."), "oof2")
    desk.drain_queue(desk.work_queue_url, "router")
    assert sorted(c["id"] for c in _conversations(desk)) == sorted([first["id"], asked["id"]])
    seen = conversation(desk, asked["id"])
    assert seen["status"] == "resolved" and seen["messages"][-2]["kind"] == "auto_reply"
    assert seen["messages"][-1]["event"] == {"kind": "kept_resolved", "params": {"why": "auto_reply",
                                                                                "channel": "email"}}


def test_two_out_of_offices_before_the_router_ran_are_resolved_with_nothing_to_answer(desk):
    online(desk, "alice")
    # Given two automatic replies from someone with no conversation, both stored before the router looked
    for n in (1, 2):
        _deliver(desk, _eml(subject="Automatic reply: Your order", Auto_Submitted="auto-replied",
                            message_id=f"<oof-twice-{n}@customer.example>", body="I am out of office."), f"oofx{n}")
    desk.drain_queue(desk.work_queue_url, "router")
    # Then nothing asks anything: resolved, never queued, nobody's seat taken
    [conv] = _conversations(desk)
    assert (conv["status"], conv["assignee"]) == ("resolved", None)
    assert desk.item("AGENT#alice")["active"] == 0
    # And a real question afterwards is routed as any is
    _deliver(desk, _eml(message_id="<after-oof@customer.example>"), "askx")
    desk.drain_queue(desk.work_queue_url, "router")
    assert [c["status"] for c in _conversations(desk) if c["id"] != conv["id"]] == ["open"]


def test_attachments_are_stored_and_served_through_presigned_links(desk):
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Message-ID"] = ("ada@customer.example", "support@shop.example",
                                                                 "Invoice", "<att@customer.example>")
    msg.set_content("Invoice attached.")
    msg.add_attachment(b"%PDF-1.4 invoice", maintype="application", subtype="pdf", filename="Rechnung März.pdf")
    _deliver(desk, bytes(msg), "att")
    [conv] = _conversations(desk)
    [message] = [m for m in _messages(desk, conv["id"]) if m["direction"] == "inbound"]
    [attachment] = message["attachments"]
    assert attachment["filename"] == "Rechnung März.pdf" and "X-Amz-Signature" in attachment["url"]


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
SCRIPT_PAGE = b"<html><body><script>alert(document.domain)</script></body></html>"
SCRIPT_SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def _mail_with_files(files: list[tuple[bytes, str, str]], message_id: str) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Message-ID"] = ("tess@customer.example", "support@shop.example",
                                                                 "Photos", message_id)
    msg.set_content("See the files.")
    for data, content_type, name in files:
        maintype, subtype = content_type.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return bytes(msg)


def _stored_files(desk) -> list[dict]:
    listed = desk.client("s3").list_objects_v2(Bucket=desk.env["MEDIA_BUCKET"], Prefix="media/email/")
    return listed.get("Contents", [])


def test_an_email_attachment_agents_should_not_open_becomes_a_placeholder_note_and_no_file(desk):
    # Given a customer's mail with an SVG, an HTML page (one named .html, one named .png but declared text/html)
    # and a picture
    raw = _mail_with_files([(SCRIPT_SVG, "image/svg+xml", "logo.svg"), (SCRIPT_PAGE, "text/html", "page.html"),
                            (SCRIPT_PAGE, "text/html", "photo.png"), (SCRIPT_PAGE, "image/png", "page.htm"),
                            (PNG, "image/png", "shoe.png")], "<files@customer.example>")
    # When it arrives
    _deliver(desk, raw, "files")
    # Then the picture is stored and the others are placeholder notes on the message, with no file behind them
    [conv] = _conversations(desk)
    [message] = [m for m in _messages(desk, conv["id"]) if m["direction"] == "inbound"]
    shown = {a["filename"]: a for a in message["attachments"]}
    assert set(shown) == {"logo.svg", "page.html", "photo.png", "page.htm", "shoe.png"}
    for name in ("logo.svg", "page.html", "photo.png", "page.htm"):
        assert shown[name]["url"] is None and "not accepted" in shown[name]["note"], shown[name]
    assert shown["shoe.png"]["url"] and shown["shoe.png"]["note"] is None
    assert [o["Key"].rsplit("/", 1)[-1] for o in _stored_files(desk)] == ["4-shoe.png"]


def test_an_email_attachments_link_downloads_what_is_not_a_safe_picture_under_its_stored_type(desk):
    # Given a customer's mail with a PDF and a picture
    raw = _mail_with_files([(b"%PDF-1.4 invoice", "application/pdf", "invoice.pdf"), (PNG, "image/png", "shoe.png")],
                           "<links@customer.example>")
    _deliver(desk, raw, "links")
    [conv] = _conversations(desk)
    [message] = [m for m in _messages(desk, conv["id"]) if m["direction"] == "inbound"]
    pdf, png = message["attachments"]
    # When the agent follows their links
    # Then the PDF's says download it as a PDF, the picture's show it as a PNG, and S3 answers so
    for shown, kind, disposition in ((pdf, "application/pdf", 'attachment; filename="invoice.pdf"'),
                                     (png, "image/png", 'inline; filename="shoe.png"')):
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(shown["url"]).query))
        assert (query["response-content-type"], query["response-content-disposition"]) == (kind, disposition)
        with urllib.request.urlopen(shown["url"]) as fetched:
            assert (fetched.headers["Content-Type"], fetched.headers["Content-Disposition"]) == (kind, disposition)


# ------------------------------------------------------------------------------ SNS

@pytest.fixture
def signer():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM)

    def sign(message: dict) -> dict:
        message = {**message, "SignatureVersion": "2",
                   "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem"}
        signature = key.sign(sns.string_to_sign(message).encode(), padding.PKCS1v15(), hashes.SHA256())
        return {**message, "Signature": base64.b64encode(signature).decode()}
    return sign, pem


# the desk's email events topic, which the template names to the function (EMAIL_EVENTS_TOPIC_ARN)
EVENTS_TOPIC = "arn:aws:sns:us-east-1:123456789012:shopdesk-dev-email-events"


def _sns_function(desk, pem: bytes, **env: str):
    """The email function as SNS reaches it, and the subscriptions it confirms (SubscribeURLs)."""
    module = desk.handler("inbound_email", **env)
    module.receiver.fetch_certificate = lambda url: pem      # AWS's certificate, as far as this test knows
    confirmed: list[str] = []
    module.receiver.confirm = confirmed.append
    return module, confirmed


def _sns_answer(module, message: dict) -> dict:
    return module.lambda_handler(http_event("POST", "/webhooks/email/sns", json.dumps(message),
                                            {"content-type": "text/plain; charset=UTF-8"}), FakeContext())


def _post_sns(desk, body: dict, pem: bytes):
    module, _ = _sns_function(desk, pem, EMAIL_EVENTS_TOPIC_ARN=EVENTS_TOPIC)
    return _sns_answer(module, body)


def _received(raw: bytes, message_id: str, *, destination: str = "support@shop.example",
              topic: str = EVENTS_TOPIC) -> dict:
    """SES's notification of a mail it received for the shop, the mail inside (a receipt rule's SNS action)."""
    return {"notificationType": "Received", "content": raw.decode(),
            "mail": {"messageId": message_id, "destination": [destination], "source": "ada@customer.example"},
            "receipt": {"recipients": ["support@shop.example"],
                        "action": {"type": "SNS", "encoding": "UTF8", "topicArn": topic}}}


def test_bounce_over_sns_marks_the_reply_failed_and_forgeries_are_refused(desk, signer):
    sign, pem = signer
    online(desk, "alice")
    _deliver(desk, _eml(), "1")
    [conv] = _conversations(desk)
    desk.client("ses").verify_email_identity(EmailAddress="support@shop.example")
    agent(desk, "POST", f"/agent/conversations/{conv['id']}/replies", "alice", {"text": "On its way"})
    desk.drain_queue(desk.outbound_queue_url, "dispatcher")
    [out] = [m for m in _messages(desk, conv["id"]) if m["direction"] == "outbound"]
    assert out["provider_id"], out
    bounce = {"notificationType": "Bounce", "mail": {"messageId": out["provider_id"]},
              "bounce": {"bounceType": "Permanent", "bounceSubType": "NoEmail",
                         "bouncedRecipients": [{"emailAddress": "ada@customer.example",
                                                "diagnosticCode": "smtp; 550 5.1.1 user unknown"}]}}
    envelope = sign({"Type": "Notification", "MessageId": "n-1", "TopicArn": EVENTS_TOPIC,
                     "Message": json.dumps(bounce), "Timestamp": "2026-11-22T22:00:00.000Z"})
    forged = {**envelope, "Message": json.dumps({**bounce, "bounce": {"bounceType": "Transient"}})}
    assert _post_sns(desk, forged, pem)["statusCode"] == 403
    assert _post_sns(desk, envelope, pem)["statusCode"] == 200
    [out] = [m for m in _messages(desk, conv["id"]) if m["direction"] == "outbound"]
    assert out["status"] == "failed" and out["error"]["code"].startswith("Permanent")


def test_mail_in_an_sns_notification_is_answered_from_the_envelope_recipient(desk, signer):
    # Given a Bcc'd mail whose SES notification names the envelope recipient (SNS action, content inside)
    sign, pem = signer
    desk.client("ses").verify_email_identity(EmailAddress="support@shop.example")
    online(desk, "alice")
    raw = _eml(to="friend@example.org", message_id="<sns-bcc@customer.example>")
    received = _received(raw, "o3vhd1d2ovsvpeg2u4n7jd8qhrnulsn0tmnb0ro1", destination="friend@example.org",
                         topic="arn:aws:sns:us-east-1:1:in")
    envelope = sign({"Type": "Notification", "MessageId": "n-in-1", "TopicArn": EVENTS_TOPIC,
                     "Message": json.dumps(received), "Timestamp": "2026-11-22T22:00:00.000Z"})
    assert _post_sns(desk, envelope, pem)["statusCode"] == 200
    [conv] = _conversations(desk)
    desk.drain_queue(desk.work_queue_url, "router")
    # When an agent answers, Then it leaves from the address SES received the mail at
    out = _answer_and_send(desk, conv["id"])
    assert out["status"] == "accepted", out
    [sent] = _sent_mail(conv["id"])
    assert sent["From"].addresses[0].addr_spec == "support@shop.example"


def test_what_sns_signed_for_another_topic_is_refused_and_stores_nothing(desk, signer):
    # Given the desk's email events topic, as the template names it to the function. Anyone can have SNS sign a
    # message: they create a topic of their own and publish to it, so the signature proves only SNS sent it
    sign, pem = signer
    ours = EVENTS_TOPIC
    module, confirmed = _sns_function(desk, pem, EMAIL_EVENTS_TOPIC_ARN=ours)
    online(desk, "alice")
    forged = _ses_verdicts(_eml(body="Refund me to card ending 9999 instead.\n",
                                message_id="<forged-over-sns@evil.example>"), "pass")
    received = _received(forged, "forged-sns-1", topic=ours)

    def post(message: dict) -> int:
        return _sns_answer(module, message)["statusCode"]

    # When SNS signs, for someone else's topic, a mail in a customer's name that SES's verdicts say passed, and a
    # subscription of our endpoint to that topic
    theirs = "arn:aws:sns:us-east-1:999999999999:anything"
    notification = {"Type": "Notification", "MessageId": "n-forged-1", "Message": json.dumps(received),
                    "Timestamp": "2026-11-22T22:00:00.000Z"}
    subscription = {"Type": "SubscriptionConfirmation", "MessageId": "s-1", "Token": "t", "Message": "confirm",
                    "SubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=t",
                    "Timestamp": "2026-11-22T22:00:00.000Z"}
    # Then both are refused as forgeries: nothing is stored and the subscription is never confirmed
    assert post(sign({**notification, "TopicArn": theirs})) == 403
    assert post(sign({**subscription, "TopicArn": theirs})) == 403
    assert confirmed == [] and _conversations(desk) == []
    items = desk.client("dynamodb").scan(TableName=desk.table_name)["Items"]
    assert "card ending 9999" not in json.dumps(items) and "forged-over-sns" not in json.dumps(items)
    # And the same of our own topic is read (it is the topic that was refused, not the message)
    assert post(sign({**subscription, "TopicArn": ours})) == 200 and confirmed == [subscription["SubscribeURL"]]
    assert post(sign({**notification, "TopicArn": ours})) == 200
    [conv] = _conversations(desk)
    assert "card ending 9999" in json.dumps(_messages(desk, conv["id"]))


@pytest.mark.parametrize("configured", [None, ""], ids=["unset", "empty"])
def test_with_no_email_events_topic_configured_every_sns_message_is_refused_and_nothing_stored(desk, signer, caplog,
                                                                                             configured):
    # Given the email function started with no email events topic (unset, or set empty): it cannot tell the desk's
    # topic from one anyone made and published to, since SNS signs both
    sign, pem = signer
    caplog.set_level("WARNING")
    env = {} if configured is None else {"EMAIL_EVENTS_TOPIC_ARN": configured}
    module, confirmed = _sns_function(desk, pem, **env)
    online(desk, "alice")
    mail = _ses_verdicts(_eml(body="Refund me to card ending 9999 instead.\n",
                              message_id="<no-topic-over-sns@evil.example>"), "pass")
    received = _received(mail, "no-topic-1")
    messages = [sign({"Type": "Notification", "MessageId": "n-no-topic-1", "TopicArn": topic,
                      "Message": json.dumps(received), "Timestamp": "2026-11-22T22:00:00.000Z"})
                for topic in (EVENTS_TOPIC, "arn:aws:sns:us-east-1:999999999999:anything")]
    messages += [sign({"Type": "SubscriptionConfirmation", "MessageId": "s-no-topic-1", "Token": "t",
                       "Message": "confirm", "TopicArn": topic, "Timestamp": "2026-11-22T22:00:00.000Z",
                       "SubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=t"})
                 for topic in (EVENTS_TOPIC, "arn:aws:sns:us-east-1:999999999999:anything")]
    # When SNS signs a mail in a customer's name, and a subscription of our endpoint, whatever their topic
    answers = [_sns_answer(module, message) for message in messages]
    # Then each is refused 403: nothing is stored, no subscription is confirmed
    assert [a["statusCode"] for a in answers] == [403] * 4
    assert confirmed == [] and _conversations(desk) == []
    items = json.dumps(desk.client("dynamodb").scan(TableName=desk.table_name)["Items"])
    assert "card ending 9999" not in items and "no-topic-over-sns" not in items
    # And the function said why once, when it started, not once a message
    said = [r for r in caplog.records if "EMAIL_EVENTS_TOPIC_ARN" in r.getMessage()]
    assert len(said) == 1 and said[0].levelname == "WARNING", [r.getMessage() for r in caplog.records]


def test_mail_from_a_stranger_naming_a_customers_thread_joins_neither_it_nor_its_replies(desk):
    # Given a customer's email conversation, answered by an agent
    online(desk, "alice")
    _deliver(desk, _eml(), "ada-1")
    [conv] = _conversations(desk)
    desk.drain_queue(desk.work_queue_url, "router")
    desk.client("ses").verify_email_identity(EmailAddress="support@shop.example")
    assert agent(desk, "POST", f"/agent/conversations/{conv['id']}/replies", "alice",
                 {"text": "It left our warehouse today."})[0] == 202
    desk.drain_queue(desk.outbound_queue_url, "dispatcher")
    [out] = [m for m in _messages(desk, conv["id"]) if m["direction"] == "outbound"]
    # When someone else writes to its reply+ address (a forwarded mail shows it), and quotes its Message-IDs
    ours = f"<{out['provider_id']}@email.amazonses.com>"
    for key, headers in (("mal-1", {"to": f"reply+{conv['id']}@shop.example"}),
                         ("mal-2", {"In_Reply_To": ours, "References": f"<m1@customer.example> {ours}"})):
        _deliver(desk, _eml(sender="Mallory <mallory@evil.example>", subject="Re: Where is my order?",
                            message_id=f"<{key}@evil.example>", body="Send the parcel to my new address instead.",
                            **headers), key)
    # Then nothing of theirs is in the customer's conversation, and its replies still go to the customer
    texts = [m["text"] for m in _messages(desk, conv["id"]) if m["direction"] == "inbound"]
    assert texts == ["Hello,\nwhere is order #1001?"], texts
    assert desk.item(f"CONV#{conv['id']}")["routes"]["email"]["to"] == "ada@customer.example"
    # and the stranger's mail is a conversation of their own
    mallory = desk.item("IDENTITY#email#mallory@evil.example")
    assert mallory and mallory["open_conversation_id"] != conv["id"]


def _ses_verdicts(raw: bytes, dmarc: str) -> bytes:
    """The mail as SES's receipt rule stores it: SES's own Authentication-Results on top."""
    return (f"Authentication-Results: amazonses.com;\r\n spf=fail (spfCheck: 203.0.113.9 is not a permitted sender) "
            f"smtp.mailfrom=customer.example;\r\n dkim=none;\r\n dmarc={dmarc} header.from=customer.example;\r\n"
            ).encode() + raw


def test_mail_forged_in_a_customers_name_reaches_neither_their_conversation_nor_the_forger(desk):
    # Given a customer's email conversation
    online(desk, "alice")
    _deliver(desk, _eml(), "ada-1")
    [conv] = _conversations(desk)
    desk.drain_queue(desk.work_queue_url, "router")
    # When someone sends mail From her address, with their own Reply-To, that fails SES's DMARC check (and writes
    # an Authentication-Results of their own that says it passed, under SES's)
    forged = _eml(sender="Ada Lovelace <ada@customer.example>", message_id="<forged@evil.example>",
                  subject="Change of address", body="Please ship to 1 Evil Road instead.",
                  Reply_To="mallory@evil.example",
                  Authentication_Results="amazonses.com; spf=pass; dkim=pass; dmarc=pass header.from=customer.example")
    result = _deliver(desk, _ses_verdicts(forged, "fail"), "forged-1")
    assert not (result or {}).get("batchItemFailures"), result
    # Then nothing of it is in her conversation, and its replies still go to her
    texts = [m["text"] for m in _messages(desk, conv["id"]) if m["direction"] == "inbound"]
    assert texts == ["Hello,\nwhere is order #1001?"], texts
    assert desk.item(f"CONV#{conv['id']}")["routes"]["email"]["to"] == "ada@customer.example"
    # while her own mail, which passes, joins it as ever
    real = _eml(message_id="<m2@customer.example>", subject="Re: Where is my order?", body="Any news?")
    _deliver(desk, _ses_verdicts(real, "pass"), "ada-2")
    texts = [m["text"] for m in _messages(desk, conv["id"]) if m["direction"] == "inbound"]
    assert texts == ["Hello,\nwhere is order #1001?", "Any news?"], texts


def test_mail_forged_from_our_own_address_never_writes_in_a_customers_conversation(desk):
    # Given a customer's email conversation
    online(desk, "alice")
    _deliver(desk, _eml(), "ada-form-1")
    [conv] = _conversations(desk)
    desk.drain_queue(desk.work_queue_url, "router")
    # When someone sends mail From our own address with her as its Reply-To (as a contact form does), naming her
    # thread, and it fails SES's DMARC check
    forged = _eml(sender="Shop <support@shop.example>", message_id="<form-forged@evil.example>",
                  to=f"reply+{conv['id']}@shop.example", subject="Re: Where is my order?",
                  body="Please refund me to card 5555 instead.", Reply_To="Ada Lovelace <ada@customer.example>",
                  References="<m1@customer.example>")
    result = _deliver(desk, _ses_verdicts(forged, "fail"), "form-forged-1")
    assert not (result or {}).get("batchItemFailures"), result
    # Then its words are in no conversation of hers: no contact form is declared to send from that address
    assert [c["id"] for c in _conversations(desk)] == [conv["id"]]
    texts = [m["text"] for m in _messages(desk, conv["id"]) if m["direction"] == "inbound"]
    assert texts == ["Hello,\nwhere is order #1001?"], texts


def test_a_pass_written_in_the_envelope_sender_ses_quotes_never_lets_forged_mail_in(desk):
    # Given a customer's email conversation
    online(desk, "alice")
    _deliver(desk, _ses_verdicts(_eml(), "pass"), "ada-env-1")
    [conv] = _conversations(desk)
    desk.drain_queue(desk.work_queue_url, "router")
    # When mail that fails SES's DMARC check, From her (the forger's Reply-To) or From us (she in Reply-To), comes
    # from an envelope sender "dmarc=pass@evil.example", which SES quotes in its header before its own dmarc=fail
    for key, sender, reply_to in (("env-forged-1", "Ada Lovelace <ada@customer.example>", "mallory@evil.example"),
                                  ("env-forged-2", "Shop <support@shop.example>", "ada@customer.example")):
        forged = _eml(sender=sender, message_id=f"<{key}@evil.example>", subject="Re: Where is my order?",
                      body="Please refund me to card 5555 instead.", Reply_To=reply_to)
        header = ("Authentication-Results: amazonses.com;\r\n spf=pass (spfCheck: domain of evil.example designates"
                  " 203.0.113.9 as permitted sender) client-ip=203.0.113.9; envelope-from=dmarc=pass@evil.example;"
                  " helo=dmarc=pass.evil.example;\r\n dkim=none smtp.mailfrom=dkim=pass@evil.example;\r\n"
                  " dmarc=fail header.from=customer.example;\r\n")
        result = _deliver(desk, header.encode() + forged, key)
        assert not (result or {}).get("batchItemFailures"), result
    # Then neither is in her conversation, nor any other, and her replies still go to her
    assert [c["id"] for c in _conversations(desk)] == [conv["id"]]
    texts = [m["text"] for m in _messages(desk, conv["id"]) if m["direction"] == "inbound"]
    assert texts == ["Hello,\nwhere is order #1001?"], texts
    assert desk.item(f"CONV#{conv['id']}")["routes"]["email"]["to"] == "ada@customer.example"


def test_a_declared_contact_forms_mail_is_read_and_the_agent_told_its_senders_address_is_not_proven(desk):
    # Given the shop declared support@ a contact form's sender, and a customer who wrote herself
    form_env = {"CONTACT_FORM_SENDERS": "support@shop.example"}
    _deliver(desk, _ses_verdicts(_eml(), "pass"), "ada-own", **form_env)
    # When its form sends for her (From us, she in Reply-To) and the mail fails SES's DMARC check
    form = _eml(sender="Shop Website <support@shop.example>", message_id="<form-2@shop.example>",
                subject="Contact form: question", body="Do you ship to Norway?",
                Reply_To="Ada Lovelace <ada@customer.example>")
    assert not (_deliver(desk, _ses_verdicts(form, "fail"), "form-2", **form_env) or {}).get("batchItemFailures")
    # Then it is her message, and the agent API says its address is only the form's claim (her own mail is not)
    [conv] = _conversations(desk)
    inbound = {m["text"]: m for m in _messages(desk, conv["id"]) if m["direction"] == "inbound"}
    assert inbound["Do you ship to Norway?"]["sender_unproven"] is True
    assert inbound["Hello,\nwhere is order #1001?"]["sender_unproven"] is False


def test_the_bot_tells_a_contact_forms_order_question_only_to_the_address_the_form_was_given(desk, shop):  # noqa: F811
    # Given the bot is on, a shop with Dana's orders, and its contact form declared
    assert kb_import(desk, KB)[0] == 200
    assert admin_call(desk, "PUT", "/admin/bot", "[admins]", {"enabled": True, "fallback_language": "en",
                                                               "confidence_threshold": 0.26})[0] == 200
    desk.client("ses").verify_email_identity(EmailAddress="support@shop.example")
    # When someone types Dana's address in the form and asks where her order is (the form's mail fails DMARC)
    form = _eml(sender="Shop Website <support@shop.example>", message_id="<form-3@shop.example>",
                subject="Contact form", body="Where is my order?", Reply_To="dana.rivera@example.com")
    _deliver(desk, _ses_verdicts(form, "fail"), "form-3", CONTACT_FORM_SENDERS="support@shop.example")
    desk.drain_queue(desk.work_queue_url, "router", **shop)
    desk.drain_queue(desk.outbound_queue_url, "dispatcher")
    # Then the bot tells her order's state by mail to that address and nowhere else: whoever typed it learns nothing
    [conv] = _conversations(desk)
    [told] = [m for m in _messages(desk, conv["id"]) if m["author"] == "bot" and m["direction"] == "outbound"]
    assert "#1004" in told["text"], told["text"]
    [sent] = _sent_mail(conv["id"])
    assert [a.addr_spec for a in sent["To"].addresses] == ["dana.rivera@example.com"]


def _in_the_thread(sent, conv_id: str) -> None:
    """A mail we sent that a mail client shows in the customer's thread: their subject, their Message-ID."""
    assert sent["Subject"] == "Re: Where is my order?"
    assert sent["In-Reply-To"] == "<m1@customer.example>"
    assert "<m1@customer.example>" in sent["References"]
    assert sent["Reply-To"].addresses[0].addr_spec == f"reply+{conv_id}@shop.example"


def test_the_acknowledgement_mail_stays_in_the_customers_thread(desk):
    # Given acknowledgements are on and a customer writes by email
    assert admin_call(desk, "PUT", "/admin/routing", "[admins]", {"acknowledgements": True})[0] == 200
    desk.client("ses").verify_email_identity(EmailAddress="support@shop.example")
    _deliver(desk, _eml(), "ack-1")
    [conv] = _conversations(desk)
    # When the router acknowledges and the dispatcher sends it
    desk.drain_queue(desk.work_queue_url, "router")
    desk.drain_queue(desk.outbound_queue_url, "dispatcher")
    [ack] = [m for m in _messages(desk, conv["id"]) if m["kind"] == "acknowledgement"]
    assert ack["status"] == "accepted", ack
    # Then the customer gets it as an answer to their mail, not as a new mail without a subject
    [sent] = _sent_mail(conv["id"])
    _in_the_thread(sent, conv["id"])


def _bot_answers_by_mail(desk) -> str:
    """A customer who asked the bot a frequent question by email and got its answer: the conversation's id."""
    assert kb_import(desk, KB)[0] == 200
    assert admin_call(desk, "PUT", "/admin/bot", "[admins]", {"enabled": True, "fallback_language": "en",
                                                               "confidence_threshold": 0.26})[0] == 200
    desk.client("ses").verify_email_identity(EmailAddress="support@shop.example")
    _deliver(desk, _eml(body="How long does standard delivery take?\n"), "bot-1")
    [conv] = _conversations(desk)
    desk.drain_queue(desk.work_queue_url, "router")
    desk.drain_queue(desk.outbound_queue_url, "dispatcher")
    [answer] = [m for m in _messages(desk, conv["id"]) if m["author"] == "bot" and m["direction"] == "outbound"]
    assert "2-4 working days" in answer["text"] and answer["status"] == "accepted", answer
    return conv["id"]


def test_the_bots_answer_by_mail_stays_in_the_customers_thread(desk):
    # Given the bot is on, When it answers a customer's mail
    conv = _bot_answers_by_mail(desk)
    # Then the answer arrives in the customer's thread
    [sent] = _sent_mail(conv)
    _in_the_thread(sent, conv)


def test_yes_thanks_by_mail_resolves_what_the_bot_answered(desk):
    # Given the bot answered a mail whose subject asks where the order is
    conv = _bot_answers_by_mail(desk)
    clock.set_offset(120)
    # When the customer answers in the thread "Yes, thanks!" (the subject still "Re: Where is my order?")
    _deliver(desk, _eml(subject="Re: Where is my order?", message_id="<m2@customer.example>", body="Yes, thanks!\n",
                        In_Reply_To="<m1@customer.example>", References="<m1@customer.example>"), "bot-2")
    desk.drain_queue(desk.work_queue_url, "router")
    desk.drain_queue(desk.outbound_queue_url, "dispatcher")
    # Then the bot resolves it, as it does on every other channel, and its thanks arrive in the thread,
    # instead of a hand-over to a person and a promise that one will answer
    seen = conversation(desk, conv)
    assert seen["status"] == "resolved" and seen["bot"]["state"] == "resolved", seen["bot"]
    assert [m for m in seen["messages"] if m["kind"] == "acknowledgement"] == []
    thanks = _sent_mail(conv)[-1]
    assert thanks["Subject"] == "Re: Where is my order?" and thanks["In-Reply-To"] == "<m2@customer.example>"
