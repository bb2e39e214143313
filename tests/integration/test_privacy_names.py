"""Masking of what a customer's channel names rather than what they write: the display name a provider reports and
the names of the files they send. A card number or an IBAN in either is masked as one in a message's text is, before
it is stored: on the customer, the identity, the conversation, the message, the acknowledgement that greets them by
name, the key of the file's copy and the mail SES stored. Requests in the providers' own formats, through the real
handlers."""

from __future__ import annotations

import json
import time
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from typing import Any

import pytest

from shopdesk.channels import meta, webchat
from shopdesk.channels.base import Media
from shopdesk.dal.conversations import Conversations
from shopdesk.dal.media import MediaStore
from shopdesk.dal.table import Table
from shopdesk.logic.media import MediaCopier
from tests.integration.helpers import post_twilio
from tests.integration.test_admin_api import admin_call
from tests.integration.test_email import _deliver
from tests.integration.test_privacy import scan
from tests.support import http_event, sample, twilio_form

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _webchat(desk: Any) -> tuple[str, str]:
    token = webchat.sign_visitor_token({"visitor_id": "v-dana", "name": "Dana 5555555555554444",
                                        "exp": int(time.time()) + 600}, "test-visitor-secret")
    headers = {"content-type": "application/json", "origin": "https://shop.example"}
    started = desk.invoke("webchat", http_event("POST", "/widget/sessions", json.dumps({"visitor_token": token}),
                                                headers))
    session = json.loads(started["body"])["session"]
    sent = desk.invoke("webchat", http_event("POST", "/widget/messages", json.dumps(
        {"client_message_id": "w1", "text": "Where is my order?"}), {**headers, "authorization": f"Bearer {session}"}))
    assert sent["statusCode"] == 201, sent
    return "IDENTITY#webchat#v-dana", "4444"


def _whatsapp_cloud(desk: Any) -> tuple[str, str]:
    body = json.loads(sample("meta_whatsapp", "image")[0])
    value = body["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["profile"]["name"] = "Kees 4012888888881881"
    message = value["messages"][0]
    message.update({"type": "document", "document": {"filename": "invoice-4000056655665556.pdf", "id": "2003",
                                                     "mime_type": "application/pdf", "caption": "my invoice"}})
    del message["image"]
    raw = json.dumps(body).encode()
    headers = {"content-type": "application/json", "x-hub-signature-256": meta.sign(raw, "test_app_secret")}
    assert desk.invoke("inbound_whatsapp", http_event("POST", "/webhooks/whatsapp", raw.decode(),
                                                      headers))["statusCode"] == 200
    return "IDENTITY#phone#+16505551234", "1881"


def _twilio_whatsapp(desk: Any) -> tuple[str, str]:
    form = twilio_form(MessageSid="SMname1", From="whatsapp:+31655501234", To="whatsapp:+14155550100",
                       Body="Where is my order?", ProfileName="Jan 378282246310005")
    assert post_twilio(desk, form)["statusCode"] == 200
    return "IDENTITY#phone#+31655501234", "0005"


def _telegram(desk: Any) -> tuple[str, str]:
    body = json.loads(sample("telegram", "photo_with_caption")[0])
    message = body["message"]
    for who in (message["from"], message["chat"]):
        who.update({"first_name": "Tom 4012888888881881", "last_name": "DE89370400440532013000"})
    del message["photo"]
    message["document"] = {"file_id": "BQACAgQAAxkBAAIB", "file_unique_id": "AgADBQ", "mime_type": "application/pdf",
                           "file_name": "statement-DE89370400440532013000.pdf", "file_size": len(PDF)}
    headers = {"content-type": "application/json", "x-telegram-bot-api-secret-token": "test_secret_token-1"}
    assert desk.invoke("inbound_telegram", http_event("POST", "/webhooks/telegram", json.dumps(body),
                                                      headers))["statusCode"] == 200
    return "IDENTITY#telegram#3527065", "1881"


def _email(desk: Any) -> tuple[str, str]:
    mail = EmailMessage()
    mail["From"], mail["To"] = '"Piet 4000056655665556" <piet@customer.example>', "support@shop.example"
    mail["Subject"], mail["Message-ID"] = "My receipt", "<name1@customer.example>"
    mail["Date"] = "Sun, 22 Nov 2026 22:00:00 +0000"
    mail.set_content("Hello,\nthe receipt is attached.\n")
    mail.add_attachment(PDF, maintype="application", subtype="pdf", filename="receipt-card-4012888888881881.pdf")
    assert _deliver(desk, bytes(mail), "name1") == {"stored": 1, "duplicates": 0}
    return "IDENTITY#email#piet@customer.example", "5556"


SECRETS = ("5555555555554444", "4012888888881881", "4000056655665556", "378282246310005", "DE89370400440532013000")


@pytest.mark.parametrize("writes", [_webchat, _whatsapp_cloud, _twilio_whatsapp, _telegram, _email],
                         ids=["webchat", "whatsapp_cloud", "twilio_whatsapp", "telegram", "email"])
def test_a_card_number_or_iban_in_a_customers_name_or_file_name_is_masked_wherever_it_is_stored(desk, writes):
    # Given acknowledgements, which greet the customer by the name their channel gives
    assert admin_call(desk, "PUT", "/admin/routing", "[admins]", {"acknowledgements": True})[0] == 200
    # When a customer whose name (and file's name) holds a card number or an IBAN writes
    identity_key, last_four = writes(desk)
    desk.drain_queue(desk.work_queue_url, "router")
    identity = desk.item(identity_key)
    conv = identity["open_conversation_id"]
    # and the router copies their file (the provider's download stood in for)
    message = next(i for i in scan(desk) if i["PK"] == f"CONV#{conv}" and i.get("direction") == "inbound")
    copier = MediaCopier(Conversations(Table(desk.table_name), 16), MediaStore(desk.env["MEDIA_BUCKET"]),
                         {message["provider"]: lambda attachment, limit: Media(PDF, "application/pdf")}, 1_000_000)
    copier.copy(conv, message["SK"])
    # Then no item of the table, no key of the media bucket and no mail SES stored holds them in clear
    s3 = desk.client("s3")
    keys = [o["Key"] for b in ("MEDIA_BUCKET", "MAIL_BUCKET")
            for o in s3.list_objects_v2(Bucket=desk.env[b]).get("Contents", [])]
    mails = [s3.get_object(Bucket=desk.env["MAIL_BUCKET"], Key=k)["Body"].read() for k in keys if k.startswith("raw/")]
    everything = json.dumps(scan(desk), default=str) + json.dumps(keys) + b"".join(mails).decode("utf-8", "replace")
    for secret in SECRETS:
        assert secret not in everything, secret
    # And the name keeps the last four, on the customer, the identity and the conversation
    customer = desk.item(f"CUSTOMER#{identity['customer_id']}", "META")
    conversation = desk.item(f"CONV#{conv}")
    for name in (customer["name"], identity["customer_name"], conversation["customer"]["name"]):
        assert f"•••• {last_four}]" in name, name
    # and the message says what was masked, as it does for its text
    message = desk.item(f"CONV#{conv}", message["SK"])
    assert message["masked"], message
    # and the acknowledgement greets them by the masked name
    [ack] = [i for i in scan(desk) if i["PK"] == f"CONV#{conv}" and i.get("kind") == "acknowledgement"]
    assert f"•••• {last_four}]" in ack["text"], ack["text"]
    # and a file's name keeps its last four too, on the message and in its copy's key
    for attachment in message.get("attachments") or []:
        assert "••••" in attachment["filename"] and "_" in attachment["storage_key"], attachment


def test_the_mail_ses_stored_is_written_again_with_the_senders_name_and_the_file_names_masked(desk):
    # Given a mail whose sender's name and attachment's name hold a card number
    _email(desk)
    # Then the mail SES stored is written again with both masked, the sender's address and the file as they were
    stored = desk.client("s3").get_object(Bucket=desk.env["MAIL_BUCKET"], Key="raw/name1")["Body"].read()
    mail = BytesParser(policy=default_policy).parsebytes(stored)
    [sender] = mail["From"].addresses
    assert sender.display_name == "Piet [card •••• 5556]" and sender.addr_spec == "piet@customer.example"
    [file] = list(mail.iter_attachments())
    assert file.get_filename() == "receipt-card-[card •••• 1881].pdf" and file.get_content() == PDF


def test_a_web_chat_upload_is_stored_under_its_name_masked(desk):
    # Given a visitor's session
    token = webchat.sign_visitor_token({"visitor_id": "v-files", "name": "Ada", "exp": int(time.time()) + 600},
                                       "test-visitor-secret")
    headers = {"content-type": "application/json", "origin": "https://shop.example"}
    started = desk.invoke("webchat", http_event("POST", "/widget/sessions", json.dumps({"visitor_token": token}),
                                                headers))
    headers["authorization"] = f"Bearer {json.loads(started['body'])['session']}"
    # When they ask to upload a file named after their card
    asked = desk.invoke("webchat", http_event("POST", "/widget/attachments", json.dumps(
        {"filename": "card-4111111111111111.pdf", "content_type": "application/pdf", "size": len(PDF)}), headers))
    # Then the key it is to be stored under, and the name it is given, keep only the last four
    assert asked["statusCode"] == 201, asked
    upload = json.loads(asked["body"])
    assert "4111111111111111" not in upload["key"] and upload["key"].endswith("-card-[card •••• 1111].pdf")
    assert upload["filename"] == "card-[card •••• 1111].pdf"


SETTINGS_SECRETS = "card 5500 0000 0000 0004, iban DE89 3704 0044 0532 0130 00, BSN 123456782"
SETTINGS_IN_CLEAR = ("5500 0000 0000 0004", "5500000000000004", "DE89 3704", "0532 0130", "123456782")
SETTINGS_MASKED = "card [card •••• 0004], iban [IBAN •••• 3000], [BSN •••• 6782]"
# text sent to customers (a canned response's bodies, an article's body) keeps the IBAN: the shop's, given to be paid
SENT_MASKED = "card [card •••• 0004], iban DE89 3704 0044 0532 0130 00, [BSN •••• 6782]"


def test_what_the_desk_writes_in_macro_notes_canned_responses_and_articles_is_stored_masked(desk):
    from tests.integration.helpers import agent
    from tests.integration.test_privacy import admin

    # Given an admin's own pattern
    assert admin(desk, "PUT", "/admin/privacy/settings",
                 {"masking_patterns": [{"name": "BSN", "pattern": r"BSN:?\s?\d{9}"}]})[0] == 200
    # When a macro's note, a canned response's title and bodies and an article hold a card number, an IBAN and the
    # pattern, shared and personal, an article saved, saved as a draft and imported (a title masks all three; a
    # canned response's bodies and an article's body, sent to customers, keep the IBAN)
    note = {"type": "note", "text": f"refund to {SETTINGS_SECRETS}"}
    assert admin(desk, "PUT", "/admin/macros/refund", {"name": "Refund", "actions": [note]})[0] == 200
    assert agent(desk, "PUT", "/agent/macros/mine", "alice", {"name": "Mine", "actions": [note]})[0] == 200
    canned = {"title": f"Paid {SETTINGS_SECRETS}", "shortcode": "paid",
              "bodies": {"en": f"We have {SETTINGS_SECRETS} on file", "es": f"Tenemos {SETTINGS_SECRETS}"}}
    status, saved = admin(desk, "PUT", "/admin/canned-responses/paid", canned)
    assert status == 200 and saved["bodies"]["en"] == f"We have {SENT_MASKED} on file", saved
    assert saved["title"] == f"Paid {SETTINGS_MASKED}", saved
    assert agent(desk, "PUT", "/agent/canned-responses/paid", "alice", canned)[0] == 200
    article = {"title": "Paying by transfer", "body": f"Transfer to {SETTINGS_SECRETS}.", "language": "en"}
    status, saved = admin(desk, "PUT", "/admin/kb/articles/transfer", article)
    assert status == 200 and saved["body"] == f"Transfer to {SENT_MASKED}.", saved
    assert admin(desk, "PUT", "/admin/kb/articles/transfer", {**article, "title": f"Draft {SETTINGS_SECRETS}"},
                 query="draft=true")[0] == 200
    line = json.dumps({"id": "imported", "title": "Imported", "body": f"Pay {SETTINGS_SECRETS}", "language": "en"})
    imported = desk.invoke("admin_api", http_event("POST", "/admin/kb/import", line, {"content-type":
                                                   "application/x-ndjson"}, claims=ADMIN_CLAIMS))
    assert imported["statusCode"] == 200, imported["body"]
    # Then no item of the table holds the card or the pattern's match in clear, and each keeps the last four; the
    # IBAN is in clear only in the text sent to customers (canned responses' bodies, articles' bodies and drafts)
    items = scan(desk)
    stored = json.dumps(items, default=repr, ensure_ascii=False)      # (vectors are binary)
    for secret in ("5500 0000 0000 0004", "5500000000000004", "123456782"):
        assert secret not in stored, secret
    unsent = json.dumps([_unsent(item) for item in items], default=repr, ensure_ascii=False)
    for secret in SETTINGS_IN_CLEAR:
        assert secret not in unsent, secret
    assert unsent.count(SETTINGS_MASKED) >= 6, unsent.count(SETTINGS_MASKED)
    assert stored.count(SENT_MASKED) >= 6, stored.count(SENT_MASKED)
    # and an import of the same file again finds the article unchanged (its words as stored)
    again = desk.invoke("admin_api", http_event("POST", "/admin/kb/import", line, {"content-type":
                                                "application/x-ndjson"}, claims=ADMIN_CLAIMS))
    assert json.loads(again["body"])["unchanged"] == ["imported"], again["body"]


def _unsent(item: dict[str, Any]) -> dict[str, Any]:
    """A canned response or an article without its text sent to customers (bodies, body, a draft's body)."""
    if not str(item["PK"]).startswith(("CANNED#", "KB#")):
        return item
    kept = {key: value for key, value in item.items() if key not in ("bodies", "body")}
    if isinstance(kept.get("draft"), dict):
        kept["draft"] = {key: value for key, value in kept["draft"].items() if key != "body"}
    return kept


ADMIN_CLAIMS = {"cognito:username": "root", "name": "Root", "cognito:groups": "[admins]", "token_use": "id"}


CARD, CARD_MASKED = "5500 0000 0000 0004", "[card •••• 0004]"
IBAN, IBAN_MASKED = "DE89 3704 0044 0532 0130 00", "[IBAN •••• 3000]"
POLICY_TARGETS = {"normal": {"first_response": 7200}}


@pytest.mark.parametrize("path, body, field", [
    ("/admin/labels/refunds", {"name": f"Refund {CARD}", "color": "#2f80ed"}, ("name",)),
    ("/admin/teams/vip", {"id": "vip", "name": f"VIP {CARD}"}, ("name",)),
    ("/admin/teams/vip", {"id": "vip", "name": "VIP", "description": f"Cards like {CARD}, {IBAN}"}, ("description",)),
    ("/admin/sla-policies/std", {"id": "std", "name": f"Standard {CARD}", "targets": POLICY_TARGETS}, ("name",)),
    ("/admin/routing", {"shop_name": f"Shop {CARD}"}, ("shop_name",)),
    ("/admin/routing", {"acknowledgement_templates": {"en": {"open_now": f"Pay to {IBAN}. Card {CARD}: by {{eta}}."}}},
     ("acknowledgement_templates", "en", "open_now")),
], ids=["label_name", "team_name", "team_description", "sla_policy_name", "shop_name", "acknowledgement_template"])
def test_a_card_number_or_iban_in_settings_admins_write_is_stored_and_audited_masked(desk, path, body, field):
    from tests.integration.test_audit_trail import trail
    from tests.integration.test_privacy import admin

    # When an admin saves a setting whose text holds a card number (and an IBAN)
    status, saved = admin(desk, "PUT", path, body)
    # Then the answer holds it masked, as it is stored
    assert status == 200, saved
    value = saved
    for key in field:
        value = value[key]
    assert CARD_MASKED in value and CARD not in value, value
    # and no item of the table holds it in clear: the setting, its name's marker, the audit record
    stored = json.dumps(scan(desk), default=repr, ensure_ascii=False)
    for secret in (CARD, CARD.replace(" ", ""), "DE89 3704", "0532 0130"):
        assert secret not in stored, secret
    # and the audit record's after is the setting as stored
    [record] = [r for r in trail(desk, "") if CARD_MASKED in json.dumps(r.get("after"), ensure_ascii=False)]
    assert CARD not in json.dumps(record, ensure_ascii=False)


def test_the_acknowledgement_names_the_shop_as_stored_masked(desk):
    from tests.integration.test_privacy import admin

    # Given a shop name an admin wrote with a card number in it
    assert admin(desk, "PUT", "/admin/routing", {"acknowledgements": True, "shop_name": f"Shop {CARD}"})[0] == 200
    # When a customer writes, and is acknowledged
    identity_key, _ = _twilio_whatsapp(desk)
    desk.drain_queue(desk.work_queue_url, "router")
    conv = desk.item(identity_key)["open_conversation_id"]
    # Then the acknowledgement names the shop as stored, masked
    [ack] = [i for i in scan(desk) if i["PK"] == f"CONV#{conv}" and i.get("kind") == "acknowledgement"]
    assert f"Shop {CARD_MASKED}" in ack["text"], ack["text"]


@pytest.mark.parametrize("path, body, where", [
    ("/admin/teams/5500000000000004", {"id": "5500000000000004", "name": "Cards"}, ["path", "id"]),
    ("/admin/calendars/cal-5500000000000004", {"weekly": {"mon": [{"start": "09:00", "end": "17:00"}]}},
     ["path", "id"]),
    ("/admin/routing", {"skill_keywords": {"card-5500000000000004": ["refund"]}},
     ["body", "skill_keywords", "card-5500000000000004"]),
], ids=["team_id", "calendar_id", "skill_key"])
def test_an_id_holding_a_card_number_is_refused_rather_than_masked(desk, path, body, where):
    from tests.integration.test_privacy import admin

    # When an admin saves a setting whose id (or a map's key, which settings name as they are) holds a card number
    status, refused = admin(desk, "PUT", path, body)
    # Then it is refused, naming where, and nothing holds the number
    assert status == 422, refused
    assert where in [e["loc"] for e in refused["errors"]], refused
    assert "5500000000000004" not in json.dumps(scan(desk), default=repr)


def test_an_agents_upload_and_a_canned_responses_file_are_stored_under_their_names_masked(desk):
    from tests.integration.helpers import agent
    from tests.integration.test_attachments import _sms_conversation, upload

    # When an agent uploads a file named after a card number for a reply, and one for a canned response
    conv = _sms_conversation(desk)
    for_reply = upload(desk, "scan-4539463767000096.png", "image/png", b"\x89PNG\r\n\x1a\n" + bytes(40), conv)
    for_canned = upload(desk, "att-4111 1111 1111 1111.pdf", "application/pdf", PDF)
    # Then the keys they are stored under, and the names they are given, keep only the last four
    assert for_reply["key"].startswith(f"media/outbound/{conv}/alice/"), for_reply
    assert for_reply["filename"] == "scan-[card •••• 0096].png" and for_canned["filename"] == "att-[card •••• 1111].pdf"
    assert for_reply["key"].endswith("/scan-_card______0096_.png") and "4539" not in for_reply["key"], for_reply
    assert for_canned["key"].endswith("/att-_card______1111_.pdf"), for_canned
    # and a canned response saved with a file named so (as a client may send it) stores the name masked
    canned = {"title": "Receipt", "shortcode": "receipt", "bodies": {"en": "Your receipt."},
              "attachments": [{**for_canned, "filename": "att-4111 1111 1111 1111.pdf"}]}
    status, saved = agent(desk, "PUT", "/agent/canned-responses/receipt", "alice", canned)
    assert status == 200 and saved["attachments"][0]["filename"] == "att-[card •••• 1111].pdf", saved
    keys = [o["Key"] for o in desk.client("s3").list_objects_v2(Bucket=desk.env["MEDIA_BUCKET"]).get("Contents", [])]
    everything = json.dumps(scan(desk), default=str, ensure_ascii=False) + json.dumps(keys)
    for secret in ("4539463767000096", "4111 1111 1111 1111"):
        assert secret not in everything, secret
