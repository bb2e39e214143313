"""Inbound email parsing: charsets, header encodings, structure, attachments, addresses, failures."""

from __future__ import annotations

import contextlib
import hashlib
import random
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import SMTP
from pathlib import Path

import pytest

from shopdesk.channels.email import ParsedEmail, ShopAddresses, decode_header_text, parse_email, ses_authentication
from shopdesk.errors import BadRequest

FIXTURES = Path(__file__).parent / "fixtures" / "email"
SHOP = ["support@shop.example"]


def parse(name: str, **kwargs: object) -> ParsedEmail:
    return parse_email((FIXTURES / name).read_bytes(), shop_addresses=kwargs.pop("shop_addresses", SHOP),
                       **kwargs)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------- charsets and encodings

def test_quoted_printable_latin1() -> None:
    message = parse("qp_latin1.eml").message
    assert message.text == ("Guten Tag,\n\nich möchte meine Bestellung ändern: statt Größe M bitte L.\n"
                            "Viele Grüße\nJürgen")
    assert message.email.subject == "Bestellung ändern"
    assert message.profile_name == "Jürgen Müller"
    assert message.customer_address == "juergen.mueller@example.de"      # lower-cased


def test_base64_utf8() -> None:
    message = parse("base64_utf8.eml").message
    assert message.text == "Здравствуйте! Где мой заказ? 注文 😀"
    assert message.email.subject == "Где мой заказ?"


def test_cp1252_8bit() -> None:
    assert parse("cp1252_8bit.eml").message.text == "“Is the price really 99 €?” \u2013 it says … on the page"


def test_latin1_label_decodes_windows_1252_bytes() -> None:
    assert parse("latin1_declared_cp1252.eml").message.text == "I paid 20 € for “express” shipping \u2013 café"


def test_iso_2022_jp_body_subject_and_name() -> None:
    message = parse("iso2022jp.eml").message
    assert message.text == "注文番号12345の配送状況を教えてください。\n山田"
    assert message.email.subject == "注文番号12345の配送状況"
    assert message.profile_name == "山田"


def test_encoded_words_b_and_q_mixed_with_text_and_split_characters() -> None:
    message = parse("encoded_words.eml").message
    assert message.email.subject == "Bestätigung für order 42 Grüße"
    assert message.profile_name == "José García"
    assert message.customer_address == "jose.garcia@example.com"


def test_broken_encoded_words_do_not_break_anything() -> None:
    message = parse("broken_encoded_words.eml").message
    # missing padding fixed, unknown charset guessed, spaces inside a Q word kept,
    # whitespace between adjacent words dropped (RFC 2047), an undecodable word left as written
    assert message.email.subject == "übercafétwo words =?utf-8?B?###?="
    assert message.profile_name == "Müller, Hans"                # a comma inside an encoded quoted name
    assert message.customer_address == "hans@example.de"
    assert message.text == "Grüße"                               # unknown body charset: UTF-8 guessed


def test_rfc6532_raw_utf8_headers() -> None:
    message = parse("rfc6532_utf8_headers.eml").message
    assert message.email.subject == "Frage zur Rücksendung ✓"
    assert message.profile_name == "Zoë Ünal"
    assert message.text == "Kann ich die Schuhe zurückschicken? ✓"
    assert message.shop_address == "support@shop.example"


@pytest.mark.parametrize(("value", "expected"), [
    ("=?utf-8?q?caf=C3=A9?=", "café"),
    ("=?UTF-8?B?Y2Fmw6k=?=", "café"),
    ("=?utf-8?B?Y2Fmw6k?=", "café"),                       # padding missing
    ("=?iso-8859-1?q?caf=E9?= =?utf-8?q?_bar?=", "café bar"),
    ("plain =?utf-8?q?caf=C3=A9?= text", "plain café text"),
    ("=?utf-8*en?q?hi?=", "hi"),                          # RFC 2231 language tag
    ("=?utf-8?q?a?=\r\n =?utf-8?q?b?=", "ab"),             # folded
    ("=?nonsense?q?x?=", "x"),
    ("no encoding at all", "no encoding at all"),
    ("", ""),
])
def test_decode_header_text(value: str, expected: str) -> None:
    assert decode_header_text(value) == expected


# ------------------------------------------------------------------------------- structure

def test_html_only_becomes_readable_text() -> None:
    message = parse("html_only.eml").message
    assert message.text == (
        "Hello team,\n\nmy order arrived damaged.\nPhotos are attached & here:\n\n"
        "- Box crushed\n- Lid cracked\n\n1. First\n2. Second\n\n"
        "See my order (https://example.com/orders/42) or https://example.com/x.\n\n"
        "Café price: €5 <tag>\n\nItem Qty\nMug 2\n\nThanks\nKim"
    )
    assert "alert" not in message.text and "color" not in message.text and "Ignored title" not in message.text


def test_multipart_alternative_prefers_plain() -> None:
    assert parse("multipart_alternative.eml").message.text == "Plain version wins."


def test_mixed_with_pdf_and_inline_image() -> None:
    parsed = parse("mixed_attachments.eml")
    message = parsed.message
    assert message.text == "See the invoice and the photo of the damage."
    image, pdf = message.attachments
    assert (image.filename, image.content_type, image.size) == ("image-1.png", "image/png", 70)
    assert (pdf.filename, pdf.content_type) == ("Rechnung März.pdf", "application/pdf")     # RFC 2231 name
    assert [a for a, _ in parsed.files] == [image, pdf]
    assert parsed.files[0][1].startswith(b"\x89PNG")
    assert parsed.files[1][1].startswith(b"%PDF-1.4")
    assert pdf.size == len(parsed.files[1][1])
    assert message.kind == "text"


def test_storage_keys_and_notes_go_on_the_stored_files() -> None:
    parsed = parse("mixed_attachments.eml")
    stored = parsed.with_files([{"storage_key": "k/image"}, {"storage_key": "k/invoice"}])
    assert [a.storage_key for a in stored.attachments] == ["k/image", "k/invoice"]
    assert [a.storage_key for a in parsed.message.attachments] == [None, None]
    # a file not stored keeps its place with the note that says why
    noted = parsed.with_files([{"note": "files of type image/svg+xml are not accepted"},
                               {"storage_key": "k/invoice"}])
    assert [(a.storage_key, a.note) for a in noted.attachments] == [
        (None, "files of type image/svg+xml are not accepted"), ("k/invoice", None)]


def _with_attachment(size: int) -> bytes:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = "Big <big@example.com>"
    msg["To"] = "support@shop.example"
    msg["Subject"] = "Big file"
    msg["Message-ID"] = "<big-1@example.com>"
    msg.set_content("Here is the video.")
    msg.add_attachment(b"\0" * size, maintype="video", subtype="mp4", filename="unboxing.mp4")
    msg.add_attachment(b"small", maintype="text", subtype="plain", filename="notes.txt")
    return msg.as_bytes()


def test_oversized_attachment_is_noted_and_not_kept() -> None:
    parsed = parse_email(_with_attachment(1_000_001), shop_addresses=SHOP, max_attachment_bytes=1_000_000)
    video, notes = parsed.message.attachments
    assert video.note == "larger than 1 MB"
    assert video.size == 1_000_001 and video.filename == "unboxing.mp4"
    assert notes.note is None
    assert parsed.files == [(notes, b"small")]                 # a text file attached is a file, not body
    assert parsed.message.text == "Here is the video."


def test_default_limit_is_10_mb() -> None:
    parsed = parse_email(_with_attachment(2_000_000), shop_addresses=SHOP)
    assert [a.filename for a, _ in parsed.files] == ["unboxing.mp4", "notes.txt"]


def test_attachment_only_message_is_media() -> None:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = "a@example.com"
    msg["To"] = "support@shop.example"
    msg.add_attachment(b"%PDF", maintype="application", subtype="pdf", filename="../../etc/passwd.pdf")
    message = parse_email(msg.as_bytes()).message
    assert message.text is None and message.kind == "media"
    assert message.attachments[0].filename == "passwd.pdf"     # no path components


def test_dsn_bounce_is_auto_submitted_with_the_report() -> None:
    parsed = parse("dsn_bounce.eml")
    message = parsed.message
    assert message.email.auto_submitted is True
    assert message.text.startswith("This is the mail system at host mx.example.net.")
    report = message.payload["report"]
    assert report["status"] == "5.1.1" and report["action"] == "failed"
    assert report["final_recipient"] == "rfc822; nobody@example.org"
    assert "User unknown" in report["diagnostic_code"]
    assert parsed.files == []                                   # our own returned mail is not kept


def test_multipart_report_alone_marks_auto_submitted() -> None:
    raw = (FIXTURES / "dsn_bounce.eml").read_bytes()
    raw = raw.replace(b"Auto-Submitted: auto-replied\r\n", b"").replace(b"Return-Path: <>\r\n", b"")
    raw = raw.replace(b"MAILER-DAEMON@", b"bounces@")
    message = parse_email(raw).message
    assert message.email.auto_submitted is True
    assert message.raw["auto_submitted_reason"] == "delivery report"


# ------------------------------------------------------------------------------- addresses and threading

def test_plus_addressed_conversation_token() -> None:
    message = parse("plus_token.eml").message
    assert message.email.conversation_token == "8f14e45f-ceea-467a-9575-6f5f6c1b2a3d"
    assert message.shop_address == "support@shop.example"       # the shop mailbox on that domain


@pytest.mark.parametrize("header", ["Cc", "Delivered-To"])
def test_token_from_cc_or_delivered_to(header: str) -> None:
    raw = (b"From: a@example.com\r\nTo: other@example.org\r\n" + header.encode()
           + b": reply+tok_1@shop.example\r\nSubject: x\r\n\r\nhi\r\n")
    assert parse_email(raw, shop_addresses=SHOP).message.email.conversation_token == "tok_1"


def test_token_on_a_foreign_domain_is_ignored() -> None:
    raw = b"From: a@example.com\r\nTo: support@shop.example\r\nCc: reply+stolen@evil.example\r\n\r\nhi\r\n"
    assert parse_email(raw, shop_addresses=SHOP).message.email.conversation_token is None
    assert parse_email(raw).message.email.conversation_token == "stolen"     # nothing configured: any domain


def _mail(to: str, cc: str = "", received: str = "") -> bytes:
    lines = [f"Received: {received}"] if received else []
    lines += ["From: Ada <ada@customer.example>", f"To: {to}"] + ([f"Cc: {cc}"] if cc else [])
    return "\r\n".join([*lines, "Subject: x", "", "hi", ""]).encode()


SES_RECEIVED = ("from mail-ed1.google.com (mail-ed1.google.com [209.85.208.1])\r\n by "
                "inbound-smtp.eu-west-1.amazonaws.com with SMTP id 3k2j4h5g6f7d8s9a\r\n for {};\r\n "
                "Sun, 22 Nov 2026 22:00:00 +0000 (UTC)")
SHOP_AND_DOMAIN = ["Shop Support <support@shop.example>", "shop.example", ".eu-shop.example"]


@pytest.mark.parametrize(("case", "raw", "envelope", "expected"), [
    ("Cc names us", _mail("friend@example.org", cc="Support@Shop.Example"), [], "support@shop.example"),
    ("Bcc: only the envelope names us", _mail("friend@example.org"), ["support@shop.example"],
     "support@shop.example"),
    ("Bcc to another mailbox of our domain", _mail("friend@example.org"), ["sales@shop.example"],
     "sales@shop.example"),
    ("forwarded: SES's Received header names us",
     _mail("ada.private@gmail.example", received=SES_RECEIVED.format("sales@shop.example")), [],
     "sales@shop.example"),
    ("alias on a domain we do not receive for", _mail("Info <info@brand.example>"), ["support@shop.example"],
     "support@shop.example"),
    ("To/Cc wins over the envelope when both are ours", _mail("friend@example.org", cc="sales@shop.example"),
     ["support@shop.example"], "sales@shop.example"),
    ("the envelope is not ours: the default mailbox", _mail("friend@example.org"), ["someone@elsewhere.example"],
     "support@shop.example"),
    ("nothing names us: the default mailbox, never a stranger", _mail("friend@example.org"), [],
     "support@shop.example"),
    ("plus tags are not kept", _mail("sales+orders@shop.example"), [], "sales@shop.example"),
    ("a subdomain rule", _mail("hilfe@de.eu-shop.example"), [], "hilfe@de.eu-shop.example"),
    ("a reply+ token is never the mailbox", _mail("reply+c_1@shop.example"), [], "support@shop.example"),
])
def test_shop_address_is_always_ours(case: str, raw: bytes, envelope: list[str], expected: str) -> None:
    message = parse_email(raw, shop_addresses=SHOP_AND_DOMAIN, envelope_recipients=envelope).message
    assert message.shop_address == expected, case
    assert message.customer_address == "ada@customer.example"


def test_shop_address_with_only_one_address_configured() -> None:
    assert parse_email(_mail("friend@example.org", cc="sales@shop.example"),
                       shop_addresses=SHOP).message.shop_address == "support@shop.example"
    assert parse_email(_mail("friend@example.org"), shop_addresses=SHOP,
                       envelope_recipients=["Support@Shop.Example"]).message.shop_address == "support@shop.example"


def test_without_configuration_the_envelope_beats_the_headers() -> None:
    raw = _mail("friend@example.org", cc="help@shop.example")
    assert parse_email(raw).message.shop_address == "friend@example.org"
    assert parse_email(raw, envelope_recipients=["help@shop.example"]).message.shop_address == "help@shop.example"
    assert parse_email(raw, envelope_recipients=["other@shop.example"]).message.shop_address == "other@shop.example"


@pytest.mark.parametrize(("received", "expected"), [
    (SES_RECEIVED.format("<sales@shop.example>"), ["sales@shop.example"]),
    ("from x by inbound-smtp.us-east-1.amazonaws.com with SMTP id abc for Sales@Shop.Example; Sun, 22 Nov 2026",
     ["sales@shop.example"]),
    ("from x by inbound-smtp.us-east-1.amazonaws.com with SMTP id abc; Sun, 22 Nov 2026", []),  # no for clause
    ("from x by mx.attacker.example with SMTP id abc for sales@shop.example; Sun, 22 Nov 2026", []),  # not SES
    ("from x by inbound-smtp.us-east-1.amazonaws.com with SMTP id abc for not-an-address; Sun", []),
])
def test_envelope_recipient_from_ses_received_header(received: str, expected: list[str]) -> None:
    message = parse_email(_mail("friend@example.org", received=received), shop_addresses=SHOP_AND_DOMAIN).message
    assert message.raw.get("envelope_to", []) == expected
    assert message.shop_address == (expected[0] if expected else "support@shop.example")


def test_only_the_topmost_received_header_is_ses_s() -> None:
    forged = SES_RECEIVED.format("victim@shop.example")
    raw = b"Received: from mx.example by mx.example.org; Sun, 22 Nov 2026\r\n" + _mail("friend@example.org",
                                                                                       received=forged)
    message = parse_email(raw, shop_addresses=SHOP_AND_DOMAIN).message
    assert "envelope_to" not in message.raw and message.shop_address == "support@shop.example"


def test_envelope_recipients_given_win_over_the_received_header() -> None:
    raw = _mail("friend@example.org", received=SES_RECEIVED.format("sales@shop.example"))
    message = parse_email(raw, shop_addresses=SHOP_AND_DOMAIN, envelope_recipients=["help@shop.example"]).message
    assert message.shop_address == "help@shop.example" and message.raw["envelope_to"] == ["help@shop.example"]


def test_shop_addresses_configuration() -> None:
    shops = ShopAddresses(["Shop <Support@Shop.Example>", " shop.example ", ".eu-shop.example", "", "not valid@x",
                           "@"])
    assert shops.default == "support@shop.example"
    assert shops.owns("support+tag@shop.example") and shops.owns("anyone@shop.example")
    assert shops.owns("x@de.eu-shop.example") and not shops.owns("x@eu-shop.example")
    assert not shops.owns("support@shop.example.evil.example") and not shops.owns("shop.example")
    assert shops.mailbox("reply+c_1@shop.example") is None and shops.mailbox("x@elsewhere.example") is None
    assert shops.mailbox("Sales+Orders@Shop.Example") == "sales@shop.example"
    assert not ShopAddresses([]) and ShopAddresses(["shop.example"]).default is None


def test_threading_headers() -> None:
    message = parse("reply_gmail.eml").message
    assert message.email.in_reply_to == ["0100018e2f-ses-1@email.amazonses.com"]
    assert message.email.references == ["first-1@example.com", "0100018e2f-ses-1@email.amazonses.com"]
    assert message.reply_context == "0100018e2f-ses-1@email.amazonses.com"
    assert message.email.message_id == "CAGmail-reply-1@mail.gmail.com"


def test_reply_to_changes_where_the_answer_goes_not_who_wrote() -> None:
    raw = b"From: Boss <boss@example.com>\r\nReply-To: Assistant <assistant@example.com>\r\n" \
          b"To: support@shop.example\r\n\r\nhi\r\n"
    message = parse_email(raw, shop_addresses=SHOP).message
    assert message.customer_address == "boss@example.com"
    assert message.reply_to == "assistant@example.com"
    assert message.profile_name == "Boss"


def test_contact_form_from_our_address_uses_reply_to_as_customer() -> None:
    message = parse("contact_form.eml").message
    assert message.customer_address == "ivy@example.com"
    assert message.reply_to == "ivy@example.com"
    assert message.profile_name == "Ivy Customer"
    assert message.email.auto_submitted is False
    assert message.email.contact_form is True        # the Reply-To is the form's claim, not a proven address


SES_DMARC_FAIL = b"Authentication-Results: amazonses.com;\r\n spf=fail smtp.mailfrom=example.com;\r\n dkim=none;\r\n" \
                 b" dmarc=fail header.from=example.com;\r\n"


def test_mail_that_fails_sess_dmarc_check_is_not_a_customers() -> None:
    forged = b"From: Boss <boss@example.com>\r\nReply-To: x@evil.example\r\nTo: support@shop.example\r\n\r\nhi\r\n"
    with pytest.raises(BadRequest, match="DMARC"):
        parse_email(SES_DMARC_FAIL + forged, shop_addresses=SHOP)
    # a sender's own claim of a pass, under SES's header, is never read; and without SES's header nothing is judged
    claimed = b"Authentication-Results: amazonses.com; dmarc=pass header.from=example.com\r\n" + forged
    with pytest.raises(BadRequest, match="DMARC"):
        parse_email(SES_DMARC_FAIL + claimed, shop_addresses=SHOP)
    assert parse_email(forged, shop_addresses=SHOP).message.customer_address == "boss@example.com"


SHOP_AND_FORM = ["support@shop.example", "forms@shop.example"]
FORM = b"From: support@shop.example\r\nReply-To: Ivy <ivy@example.com>\r\nTo: support@shop.example\r\n\r\nhi\r\n"


def test_mail_from_our_address_that_fails_dmarc_is_refused_unless_the_admin_declared_it_a_contact_forms() -> None:
    # Given mail From our own address, with someone else's Reply-To, that fails SES's DMARC check: anyone can write it
    # When no contact form is declared to send from that address, or another address is
    # Then it is refused like a forged customer's From (its Reply-To would be read as the customer)
    with pytest.raises(BadRequest, match="DMARC"):
        parse_email(SES_DMARC_FAIL + FORM, shop_addresses=SHOP)
    with pytest.raises(BadRequest, match="DMARC"):
        parse_email(SES_DMARC_FAIL + FORM, shop_addresses=SHOP_AND_FORM, contact_form_senders=["forms@shop.example"])
    without_reply_to = b"From: support@shop.example\r\nTo: support@shop.example\r\n\r\nhi\r\n"
    with pytest.raises(BadRequest, match="DMARC"):
        parse_email(SES_DMARC_FAIL + without_reply_to, shop_addresses=SHOP)
    # When the admin declared it a contact form's sender (spelt as they like)
    message = parse_email(SES_DMARC_FAIL + FORM, shop_addresses=SHOP_AND_FORM,
                          contact_form_senders=["Support@Shop.example"]).message
    # Then it is read as the form's: its customer is the Reply-To, whose address is not proven
    assert (message.customer_address, message.reply_to) == ("ivy@example.com", "ivy@example.com")
    assert message.email.contact_form is True


def test_contact_form_mail_that_passes_dmarc_is_read_as_before_and_flagged_unproven() -> None:
    passed = b"Authentication-Results: amazonses.com;\r\n spf=pass smtp.mailfrom=shop.example;\r\n dkim=pass;\r\n" \
             b" dmarc=pass header.from=shop.example;\r\n"
    for raw in (passed + FORM, FORM):            # SES's pass, or no verdict at all: nothing judged
        message = parse_email(raw, shop_addresses=SHOP).message
        assert (message.customer_address, message.reply_to) == ("ivy@example.com", "ivy@example.com")
        assert message.email.contact_form is True
    # a customer's own mail is not a form's
    own = parse_email(b"From: ivy@example.com\r\nTo: support@shop.example\r\n\r\nhi\r\n", shop_addresses=SHOP)
    assert own.message.email.contact_form is False


# SES's Authentication-Results as SES writes it on mail it receives: its SPF check's client-ip, envelope-from and
# helo as clauses of their own after the spf result, then dkim and dmarc, each clause ended by ";"
SES_REAL_SHAPE = ("amazonses.com;\r\n spf=pass (spfCheck: domain of customer.example designates 209.85.128.51 as"
                  " permitted sender) client-ip=209.85.128.51; envelope-from=ada@customer.example;"
                  " helo=mail-wm1-f51.google.com;\r\n dkim=pass header.i=@customer.example;\r\n"
                  " dmarc=pass header.from=customer.example;")


def _with_results(*values: str) -> Message:
    raw = "".join(f"Authentication-Results: {value}\r\n" for value in values) + "From: a@example.com\r\n\r\nhi\r\n"
    return _headers(raw.encode())


def _headers(raw: bytes) -> Message:
    return BytesParser(policy=policy.default).parsebytes(raw)


@pytest.mark.parametrize(("value", "expected"), [
    (SES_REAL_SHAPE, {"spf": "pass", "dkim": "pass", "dmarc": "pass"}),
    # an older one, before SES judged DMARC: no dmarc verdict, nothing refused
    ("amazonses.com; spf=pass (spfCheck: domain of shop.example designates 207.171.184.29 as permitted sender)"
     " client-ip=207.171.184.29; envelope-from=prvs=093bd89e2=ada@shop.example; helo=smtp-fw-9102.shop.example;"
     " dkim=pass header.i=@shop.example;", {"spf": "pass", "dkim": "pass"}),
    ("amazonses.com; spf=pass (spfCheck: domain of x designates 198.51.100.101 as permitted sender)"
     " client-ip=198.51.100.101; envelope-from=signer@corp.example; helo=NAM12-SN1-obe.outbound.protection.outlook.com;"
     " dkim=none header.i=unknown; dmarc=none header.from=corp.example;",
     {"spf": "pass", "dkim": "none", "dmarc": "none"}),
    # the shapes the tests write
    (SES_DMARC_FAIL.decode().partition(": ")[2].strip(), {"spf": "fail", "dkim": "none", "dmarc": "fail"}),
    ("amazonses.com; spf=fail (spfCheck: 203.0.113.9 is not a permitted sender) smtp.mailfrom=customer.example;\r\n"
     " dkim=none;\r\n dmarc=pass header.from=customer.example;", {"spf": "fail", "dkim": "none", "dmarc": "pass"}),
    ("amazonses.com; dmarc=pass header.from=example.com", {"dmarc": "pass"}),
    # not SES's: nothing read
    ("mx.google.com; spf=neutral (google.com: 203.12.160.161 is neither permitted nor denied by domain of"
     " test@lindsaar.net) smtp.mail=test@lindsaar.net", {}),
    ("amazonses.com.evil.example; dmarc=pass", {}),
])
def test_sess_verdicts_are_read_as_they_were_from_the_headers_it_writes(value: str, expected: dict[str, str]) -> None:
    assert ses_authentication(_with_results(value)) == expected


def test_the_shared_samples_carry_no_verdict_of_sess() -> None:
    # the SES samples have no Authentication-Results of SES's (one has Google's): nothing is judged on them
    samples = Path(__file__).parents[1] / "samples" / "ses"
    for path in sorted(samples.rglob("*.eml")):
        assert ses_authentication(_headers(path.read_bytes())) == {}, path.name


# Mail SES found failing DMARC, whose sender put a pass where SES quotes them: the envelope sender (smtp.mailfrom, or
# SES's own envelope-from), the HELO name, a header.from, a comment, a quoted string, a reason
FORGED_VERDICTS = {
    "smtp.mailfrom": "amazonses.com; spf=fail smtp.mailfrom=dmarc=pass@evil.example; dkim=none;"
                     " dmarc=fail header.from=example.com;",
    "envelope-from": "amazonses.com; spf=fail (spfCheck: 203.0.113.9 is not a permitted sender)"
                     " client-ip=203.0.113.9; envelope-from=dmarc=pass@evil.example;"
                     " helo=dmarc=pass.evil.example; dkim=none; dmarc=fail header.from=example.com;",
    "header.from": "amazonses.com; spf=fail header.from=dmarc=pass header.i=dkim=pass; dkim=fail;"
                   " dmarc=fail header.from=example.com;",
    "comment": "amazonses.com; spf=fail (dmarc=pass spf=pass (dkim=pass)) smtp.mailfrom=evil.example; dkim=fail;"
               " dmarc=fail header.from=example.com;",
    "quoted": 'amazonses.com; spf=fail smtp.mailfrom="dmarc=pass spf=pass dkim=pass"@evil.example; dkim=fail;'
              " dmarc=fail header.from=example.com;",
    "reason": 'amazonses.com; spf=fail reason="dmarc=pass"; dkim=fail reason="spf=pass dkim=pass";'
              " dmarc=fail header.from=example.com;",
}


@pytest.mark.parametrize("where", sorted(FORGED_VERDICTS))
def test_a_pass_the_sender_wrote_inside_sess_header_is_never_read_as_a_verdict(where: str) -> None:
    # Given SES's header with its real verdicts fail, and a sender's "dmarc=pass" (spf, dkim) where SES quotes them
    value = FORGED_VERDICTS[where]
    # When it is read, Then only SES's own clauses count: a property, comment, quoted string or reason is no result
    verdicts = ses_authentication(_with_results(value))
    assert verdicts["dmarc"] == "fail" and verdicts["spf"] == "fail", verdicts
    assert verdicts["dkim"] in {"none", "fail"}, verdicts
    # and the mail, From a customer with the forger's Reply-To, or From our address naming one, is refused
    forged = b"From: Boss <boss@example.com>\r\nReply-To: x@evil.example\r\nTo: support@shop.example\r\n\r\nhi\r\n"
    for mail in (forged, FORM):
        with pytest.raises(BadRequest, match="DMARC"):
            parse_email(f"Authentication-Results: {value}\r\n".encode() + mail, shop_addresses=SHOP)


@pytest.mark.parametrize("value", [
    # a comment or quoted string left open swallows the rest, SES's dmarc=fail with it
    "amazonses.com; spf=fail smtp.mailfrom=a(b@evil.example; dkim=none; dmarc=fail header.from=example.com;",
    'amazonses.com; spf=fail smtp.mailfrom=a"b@evil.example; dkim=none; dmarc=fail header.from=example.com;',
    # one closed further on hides SES's clauses between (SES's own comments never span a ";")
    "amazonses.com; spf=fail smtp.mailfrom=a(b@evil.example; dkim=none; dmarc=fail header.from=x)y;",
    'amazonses.com; spf=fail smtp.mailfrom="a@evil.example; dmarc=fail header.from="x;',
    # a comment or quoted string spanning a ";", even closed within the sender's own value
    "amazonses.com; spf=fail smtp.helo=x(;dmarc=pass) smtp.mailfrom=evil.example; dmarc=fail header.from=x;",
    'amazonses.com; spf=fail smtp.mailfrom="a;dmarc=pass"@evil.example; dmarc=fail header.from=x;',
    # a clause of a method we read that is no RFC 8601 result
    "amazonses.com; spf=fail smtp.mailfrom= dmarc = pass@evil.example; dkim=none; dmarc=fail header.from=x;",
    "amazonses.com; spf=fail smtp.mailfrom=evil.example; dmarc=pass@evil.example; dmarc=fail header.from=x;",
])
def test_sess_header_the_sender_broke_cannot_be_read_and_the_mail_is_refused(value: str) -> None:
    assert ses_authentication(_with_results(value))["dmarc"] == "unreadable"
    forged = b"From: Boss <boss@example.com>\r\nReply-To: x@evil.example\r\nTo: support@shop.example\r\n\r\nhi\r\n"
    with pytest.raises(BadRequest, match="DMARC"):
        parse_email(f"Authentication-Results: {value}\r\n".encode() + forged, shop_addresses=SHOP)


def test_a_method_ses_judged_twice_reads_fail_when_either_says_fail() -> None:
    # an unquoted ";" in a HELO name SES quotes would add a clause of the sender's: their pass never hides SES's fail
    value = "amazonses.com; spf=fail smtp.helo=x; dmarc=pass; dkim=none; dmarc=fail header.from=example.com;"
    assert ses_authentication(_with_results(value))["dmarc"] == "fail"
    value = "amazonses.com; spf=fail; dkim=pass header.d=a.example; dkim=fail header.d=b.example; dmarc=pass"
    assert ses_authentication(_with_results(value)) == {"spf": "fail", "dkim": "fail", "dmarc": "pass"}


def test_only_the_topmost_authentication_results_is_read() -> None:
    # SES's on top; the sender's below it (claiming a pass) is never read, nor one of someone else's on top
    assert ses_authentication(_with_results(SES_DMARC_FAIL.decode().partition(": ")[2].strip(),
                                            "amazonses.com; dmarc=pass"))["dmarc"] == "fail"
    assert ses_authentication(_with_results("mx.example; dmarc=pass", "amazonses.com; dmarc=fail")) == {}


def test_mail_from_our_own_address_is_a_loop() -> None:
    raw = b"From: support@shop.example\r\nTo: support@shop.example\r\nSubject: hi\r\n\r\nhi\r\n"
    message = parse_email(raw, shop_addresses=SHOP).message
    assert message.email.auto_submitted is True
    assert message.raw["auto_submitted_reason"] == "sent from our own address"


def test_reply_to_pointing_at_us_is_ignored() -> None:
    raw = b"From: a@example.com\r\nReply-To: support@shop.example\r\nTo: support@shop.example\r\n\r\nhi\r\n"
    assert parse_email(raw, shop_addresses=SHOP).message.reply_to == "a@example.com"


def test_missing_message_id_uses_a_hash_of_the_message() -> None:
    raw = (FIXTURES / "missing_message_id.eml").read_bytes()
    message = parse_email(raw).message
    assert message.provider_id == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert message.email.message_id is None


def test_unparseable_date_is_none() -> None:
    raw = b"From: a@example.com\r\nDate: yesterday-ish\r\n\r\nhi\r\n"
    assert parse_email(raw).message.sent_at is None


def test_naive_date_is_utc() -> None:
    raw = b"From: a@example.com\r\nDate: Mon, 11 Mar 2024 10:00:00 -0000\r\n\r\nhi\r\n"
    assert parse_email(raw).message.sent_at.utcoffset().total_seconds() == 0


# ------------------------------------------------------------------------------- failures

def test_no_from_is_bad_request() -> None:
    with pytest.raises(BadRequest):
        parse("no_from.eml")


@pytest.mark.parametrize("raw", [b"", b"   \r\n", b"\x00\xff\xfe garbage \x80\x81", b"{\"json\": true}"])
def test_garbage_is_bad_request(raw: bytes) -> None:
    with pytest.raises(BadRequest):
        parse_email(raw)


def test_random_garbage_never_raises_anything_but_bad_request() -> None:
    rng = random.Random(1234)
    for _ in range(300):
        raw = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
        with contextlib.suppress(BadRequest):
            parse_email(raw)


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.eml")))
def test_mutilated_fixtures_never_raise_anything_but_bad_request(name: str) -> None:
    raw = (FIXTURES / name).read_bytes()
    rng = random.Random(name)
    cases = [raw[:cut] for cut in range(0, len(raw), max(len(raw) // 25, 1))]
    for _ in range(40):
        data = bytearray(raw)
        for _ in range(rng.randrange(1, 12)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        cases.append(bytes(data))
    for case in cases:
        try:
            parsed = parse_email(case, shop_addresses=SHOP)
        except BadRequest:
            continue
        parsed.message.model_dump_json()           # storable: no lone surrogates anywhere
        assert parsed.message.provider_id


def test_truncated_multipart_still_parses() -> None:
    raw = (FIXTURES / "mixed_attachments.eml").read_bytes()
    message = parse_email(raw[: len(raw) // 2]).message
    assert message.text == "See the invoice and the photo of the damage."


def test_sender_stands_in_for_a_missing_from_but_reply_to_does_not() -> None:
    raw = b"Sender: Desk <desk@example.com>\r\nTo: support@shop.example\r\n\r\nhi\r\n"
    assert parse_email(raw).message.customer_address == "desk@example.com"
    with pytest.raises(BadRequest):
        parse_email(b"Reply-To: r@example.com\r\nReturn-Path: <bounce@example.com>\r\n\r\nhi\r\n")
    with pytest.raises(BadRequest):
        parse_email(b"From: undisclosed sender\r\nTo: support@shop.example\r\n\r\nhi\r\n")


def test_a_header_longer_than_any_client_writes_is_cut_before_parsing_and_the_mail_still_arrives():
    from shopdesk.channels.email import MAX_HEADER_BYTES
    raw = (b"From: Ada <ada@customer.example>\r\nTo: support@shop.example\r\nSubject: Hi\r\n"
           b"Content-Type: text/plain; " + b"a b" * 150_000 + b"\r\n"
           b"References: " + b"<r@x> " * 2_000 + b"\r\n\r\nWhere is my order?\r\n")
    parsed = parse_email(raw, shop_addresses=["support@shop.example"])     # uncut: minutes in the header parser
    assert parsed.message.text == "Where is my order?" and parsed.message.customer_address == "ada@customer.example"
    assert len(b"<r@x> " * 2_000) > MAX_HEADER_BYTES and parsed.message.email.references  # kept: threading


def test_a_colleague_at_our_domain_is_a_person_not_a_loop() -> None:
    raw = b"From: Bea <bea@shop.example>\r\nTo: support@shop.example\r\nSubject: Fwd: order 7\r\n\r\nsee below\r\n"
    message = parse_email(raw, shop_addresses=SHOP_AND_DOMAIN).message
    assert message.customer_address == "bea@shop.example" and message.email.auto_submitted is False
    looped = raw.replace(b"bea@shop.example", b"support@shop.example")
    assert parse_email(looped, shop_addresses=SHOP_AND_DOMAIN).message.email.auto_submitted is True
