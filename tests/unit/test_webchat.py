"""Web-chat widget: visitor and session tokens, origins, rate limits, uploads, the inbound builder."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shopdesk.channels.webchat import (
    BucketState,
    RateLimiter,
    VisitorClaims,
    check_upload,
    consume,
    issue_session,
    origin_allowed,
    sanitize_filename,
    sign_visitor_token,
    verify_session,
    verify_visitor_token,
    webchat_inbound,
)
from shopdesk.errors import BadRequest, InvalidSignature
from shopdesk.logic.attachments import sniff_agrees
from shopdesk.models import Attachment

SHOP_SECRET = "shop-widget-secret-0123456789abcdef"
SERVER_SECRET = "server-session-secret-fedcba9876543210"
NOW = datetime(2026, 11, 22, 22, 0, 0, tzinfo=UTC)
IN_1H = int((NOW + timedelta(hours=1)).timestamp())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _token(claims: Any, secret: str = SHOP_SECRET) -> str:
    """A visitor token made exactly as the module docstring tells a shop to make one."""
    payload = _b64(json.dumps(claims).encode())
    return payload + "." + _b64(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest())


def _visitor(**claims: Any) -> VisitorClaims:
    return VisitorClaims(**{"visitor_id": "cust-42", "exp": IN_1H, **claims})


# ------------------------------------------------------------------------------ visitor tokens

def test_a_visitor_token_round_trips():
    token = sign_visitor_token({"visitor_id": "cust-42", "exp": IN_1H, "name": "Zoë Ñúñez",
                                "email": "zoe@example.com"}, SHOP_SECRET)
    visitor = verify_visitor_token(token, SHOP_SECRET, now=NOW)
    assert visitor == VisitorClaims(visitor_id="cust-42", exp=IN_1H, name="Zoë Ñúñez", email="zoe@example.com")


def test_a_token_signed_as_documented_in_another_language_verifies():
    token = _token({"visitor_id": "shop:cust@42", "exp": IN_1H, "iat": IN_1H - 3600, "locale": "nl"})
    visitor = verify_visitor_token(token, SHOP_SECRET, now=NOW)
    assert (visitor.visitor_id, visitor.name, visitor.email) == ("shop:cust@42", None, None)


def test_a_tampered_payload_is_rejected():
    token = sign_visitor_token(_visitor(), SHOP_SECRET)
    _, signature = token.split(".")
    forged = _b64(json.dumps({"visitor_id": "cust-1", "exp": IN_1H}).encode())
    with pytest.raises(InvalidSignature, match="signature does not match"):
        verify_visitor_token(f"{forged}.{signature}", SHOP_SECRET, now=NOW)


def test_a_tampered_signature_is_rejected():
    token = sign_visitor_token(_visitor(), SHOP_SECRET)
    payload, signature = token.split(".")
    flipped = _b64(bytes([base64.urlsafe_b64decode(signature + "=")[0] ^ 1]) +
                   base64.urlsafe_b64decode(signature + "=")[1:])
    with pytest.raises(InvalidSignature):
        verify_visitor_token(f"{payload}.{flipped}", SHOP_SECRET, now=NOW)


def test_a_token_signed_with_another_secret_is_rejected():
    token = sign_visitor_token(_visitor(), "another-shops-secret-0123456789")
    with pytest.raises(InvalidSignature, match="signature does not match"):
        verify_visitor_token(token, SHOP_SECRET, now=NOW)


def test_an_expired_token_is_rejected_beyond_the_leeway():
    expired = int((NOW - timedelta(seconds=31)).timestamp())
    with pytest.raises(InvalidSignature, match="expired"):
        verify_visitor_token(_token({"visitor_id": "v", "exp": expired}), SHOP_SECRET, now=NOW)


def test_a_token_just_expired_passes_within_the_leeway():
    just = int((NOW - timedelta(seconds=29)).timestamp())
    assert verify_visitor_token(_token({"visitor_id": "v", "exp": just}), SHOP_SECRET, now=NOW).visitor_id == "v"
    with pytest.raises(InvalidSignature):
        verify_visitor_token(_token({"visitor_id": "v", "exp": just}), SHOP_SECRET, now=NOW, leeway_s=0)


def test_a_token_living_longer_than_24_hours_is_rejected():
    too_far = int((NOW + timedelta(hours=25)).timestamp())
    with pytest.raises(InvalidSignature, match="24 hours"):
        verify_visitor_token(_token({"visitor_id": "v", "exp": too_far}), SHOP_SECRET, now=NOW)
    day = int((NOW + timedelta(hours=24)).timestamp())
    assert verify_visitor_token(_token({"visitor_id": "v", "exp": day}), SHOP_SECRET, now=NOW)


@pytest.mark.parametrize("token", [
    "", "abc", "a.b.c", ".", "abc.", ".abc", "a" * 5000 + ".b", "eyJ4IjoxfQ==.abc", "e30.!!!", 42, None,
    "eyJ4IjoxfQ.c2ln ",
])
def test_malformed_tokens_are_rejected(token):
    with pytest.raises(InvalidSignature):
        verify_visitor_token(token, SHOP_SECRET, now=NOW)


@pytest.mark.parametrize("claims", [
    [1, 2],
    {"exp": IN_1H},
    {"visitor_id": "v"},
    {"visitor_id": "v", "exp": str(IN_1H)},
    {"visitor_id": "v", "exp": IN_1H + 0.5},
    {"visitor_id": "v", "exp": True},
    {"visitor_id": "v", "exp": IN_1H, "email": "not-an-email"},
    {"visitor_id": "v", "exp": IN_1H, "name": "x" * 201},
])
def test_signed_tokens_with_invalid_claims_are_rejected(claims):
    with pytest.raises(InvalidSignature):
        verify_visitor_token(_token(claims), SHOP_SECRET, now=NOW)


@pytest.mark.parametrize("visitor_id", ["", "has space", "x" * 129, "a/b", 42, ".", "..", "...", "../x/.."])
def test_a_signed_token_whose_visitor_id_is_not_one_is_a_bad_request_naming_the_rule(visitor_id):
    # the shop signed it: not who the caller is (401) but what was sent (400), with the rule for the shop's developer
    with pytest.raises(BadRequest, match=r"visitor_id must be 1-128 characters .*, not only dots"):
        verify_visitor_token(_token({"visitor_id": visitor_id, "exp": IN_1H}), SHOP_SECRET, now=NOW)
    with pytest.raises(ValueError, match="visitor_id"):       # and the shop's signing in Python says so first
        sign_visitor_token({"visitor_id": visitor_id, "exp": IN_1H}, SHOP_SECRET)


@pytest.mark.parametrize("visitor_id", ["..a", "a..", ".x.", "v.1", "shop:cust@42", "_", "-"])
def test_a_visitor_id_with_dots_among_other_characters_is_one(visitor_id):
    assert verify_visitor_token(_token({"visitor_id": visitor_id, "exp": IN_1H}), SHOP_SECRET,
                                now=NOW).visitor_id == visitor_id


def test_a_session_for_a_visitor_id_of_dots_only_is_not_a_widget_session():
    forged = _b64(json.dumps({"typ": "session", "visitor_id": "..", "iat": int(NOW.timestamp()),
                              "exp": IN_1H}).encode())
    token = forged + "." + _b64(hmac.new(SERVER_SECRET.encode(), b"shopdesk-session." + forged.encode(),
                                         hashlib.sha256).digest())
    with pytest.raises(InvalidSignature, match="not a widget session"):
        verify_session(token, SERVER_SECRET, now=NOW)


def test_a_signed_payload_that_is_not_json_is_rejected():
    payload = _b64(b"not json")
    token = payload + "." + _b64(hmac.new(SHOP_SECRET.encode(), payload.encode(), hashlib.sha256).digest())
    with pytest.raises(InvalidSignature, match="not JSON"):
        verify_visitor_token(token, SHOP_SECRET, now=NOW)


def test_nothing_verifies_without_a_configured_secret():
    with pytest.raises(InvalidSignature, match="no secret"):
        verify_visitor_token(_token({"visitor_id": "v", "exp": IN_1H}, ""), "", now=NOW)


def test_signing_needs_a_real_secret_and_valid_claims():
    with pytest.raises(ValueError, match="secret"):
        sign_visitor_token(_visitor(), "short")
    with pytest.raises(ValueError, match="visitor_id"):
        sign_visitor_token({"visitor_id": "bad id", "exp": IN_1H}, SHOP_SECRET)


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="timezone"):
        verify_visitor_token(sign_visitor_token(_visitor(), SHOP_SECRET), SHOP_SECRET, now=NOW.replace(tzinfo=None))


def test_names_are_cleaned_and_blank_optional_claims_dropped():
    visitor = verify_visitor_token(_token({"visitor_id": "v", "exp": IN_1H, "name": "  Ann\x00\n Lee ", "email": ""}),
                                   SHOP_SECRET, now=NOW)
    assert (visitor.name, visitor.email) == ("Ann Lee", None)


# ------------------------------------------------------------------------------ sessions

def test_a_session_round_trips_with_its_conversation():
    token = issue_session(_visitor(name="Ann"), SERVER_SECRET, now=NOW, conversation_id="c_123", shop="shop-1")
    session = verify_session(token, SERVER_SECRET, now=NOW + timedelta(minutes=59), shop="shop-1")
    assert (session.visitor_id, session.conversation_id, session.shop, session.name) == \
        ("cust-42", "c_123", "shop-1", "Ann")
    assert session.exp - session.iat == 3600
    assert session.iat == int(NOW.timestamp())
    assert session.visitor.visitor_id == "cust-42"


def test_a_session_expires_after_an_hour():
    token = issue_session(_visitor(), SERVER_SECRET, now=NOW)
    with pytest.raises(InvalidSignature, match="expired"):
        verify_session(token, SERVER_SECRET, now=NOW + timedelta(hours=1, seconds=31))


def test_a_session_cannot_be_issued_for_longer_than_an_hour():
    with pytest.raises(ValueError):
        issue_session(_visitor(), SERVER_SECRET, now=NOW, ttl_s=7200)


def test_a_session_from_another_server_secret_or_shop_is_rejected():
    token = issue_session(_visitor(), SERVER_SECRET, now=NOW, shop="shop-1")
    with pytest.raises(InvalidSignature):
        verify_session(token, "some-other-server-secret-000000", now=NOW)
    with pytest.raises(InvalidSignature, match="another shop"):
        verify_session(token, SERVER_SECRET, now=NOW, shop="shop-2")


def test_a_session_issued_in_the_future_is_rejected():
    token = issue_session(_visitor(), SERVER_SECRET, now=NOW + timedelta(minutes=5))
    with pytest.raises(InvalidSignature):
        verify_session(token, SERVER_SECRET, now=NOW)


def test_visitor_and_session_tokens_never_pass_for_each_other():
    # Even when a shop secret and the server secret were the same string
    visitor_token = sign_visitor_token(_visitor(), SERVER_SECRET)
    session_token = issue_session(_visitor(), SERVER_SECRET, now=NOW)
    with pytest.raises(InvalidSignature):
        verify_session(visitor_token, SERVER_SECRET, now=NOW)
    with pytest.raises(InvalidSignature):
        verify_visitor_token(session_token, SERVER_SECRET, now=NOW)


def test_a_tampered_session_is_rejected():
    token = issue_session(_visitor(), SERVER_SECRET, now=NOW, conversation_id="c_1")
    payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["conversation_id"] = "c_someone_else"
    with pytest.raises(InvalidSignature):
        verify_session(_b64(json.dumps(claims).encode()) + "." + signature, SERVER_SECRET, now=NOW)


# ------------------------------------------------------------------------------ origins

ALLOWED = ["https://shop.example.com", "http://localhost:3000", "https://*.example.org", "www.example.net/"]


@pytest.mark.parametrize(("origin", "allowed"), [
    ("https://shop.example.com", True),
    ("https://SHOP.Example.COM", True),
    ("https://shop.example.com:443", True),
    ("https://shop.example.com/", True),
    ("http://localhost:3000", True),
    ("https://eu.example.org", True),
    ("https://a.b.example.org", True),
    ("https://www.example.net", True),                 # no scheme in the entry: https
    ("http://shop.example.com", False),                # scheme mismatch
    ("https://shop.example.com:8443", False),          # port mismatch
    ("http://localhost:3001", False),
    ("http://localhost", False),
    ("https://localhost:3000", False),
    ("https://example.org", False),                    # the wildcard is for subdomains only
    ("https://evilexample.org", False),
    ("https://example.org.evil.net", False),
    ("http://eu.example.org", False),
    ("http://www.example.net", False),
    ("https://other.example.com", False),
    ("null", False),
    ("NULL", False),
    (None, False),
    ("", False),
    ("https://user@shop.example.com", False),
    ("https://shop.example.com/path", False),
    ("https://shop.example.com:99999", False),
    ("file://", False),
    ("shop.example.com", False),
])
def test_origins(origin, allowed):
    assert origin_allowed(origin, ALLOWED) is allowed


def test_a_bare_star_or_a_single_label_wildcard_allows_nothing():
    assert not origin_allowed("https://anything.com", ["*"])
    assert not origin_allowed("https://anything.com", ["https://*.com"])
    assert not origin_allowed("https://shop.example.com", [])


def test_a_wildcard_with_a_port_needs_that_port():
    assert origin_allowed("https://a.example.com:8443", ["https://*.example.com:8443"])
    assert not origin_allowed("https://a.example.com", ["https://*.example.com:8443"])


# ------------------------------------------------------------------------------ rate limits

def test_a_new_bucket_allows_a_burst_then_refuses_with_the_wait():
    state = None
    for _ in range(5):
        allowed, state, retry_after = consume(state, 1000.0, rate_per_s=0.5, burst=5)
        assert allowed and retry_after == 0
    allowed, refused_state, retry_after = consume(state, 1000.0, rate_per_s=0.5, burst=5)
    assert not allowed
    assert retry_after == pytest.approx(2.0)
    assert refused_state.tokens == pytest.approx(0.0)


def test_the_bucket_refills_over_time_and_a_refusal_costs_nothing():
    _, state, _ = consume(BucketState(tokens=0.0, updated_at=1000.0), 1000.0, rate_per_s=1, burst=3)
    allowed, state, retry_after = consume(state, 1000.4, rate_per_s=1, burst=3)
    assert not allowed and retry_after == pytest.approx(0.6)
    allowed, state, _ = consume(state, 1000.4 + retry_after, rate_per_s=1, burst=3)
    assert allowed
    assert state.tokens == pytest.approx(0.0)


def test_refill_stops_at_the_burst():
    allowed, state, _ = consume(BucketState(tokens=0.0, updated_at=0.0), 10_000.0, rate_per_s=2, burst=4)
    assert allowed and state.tokens == 3.0


def test_a_request_can_cost_more_than_one():
    allowed, state, _ = consume(None, 0.0, rate_per_s=1, burst=10, cost=10)
    assert allowed and state.tokens == 0
    allowed, _, retry_after = consume(state, 0.0, rate_per_s=1, burst=10, cost=3)
    assert not allowed and retry_after == pytest.approx(3.0)


def test_a_clock_going_backwards_refills_nothing():
    state = BucketState(tokens=0.0, updated_at=500.0)
    allowed, after, retry_after = consume(state, 400.0, rate_per_s=1, burst=2)
    assert not allowed and after.updated_at == 500.0 and retry_after == pytest.approx(1.0)


@pytest.mark.parametrize(("rate", "burst", "cost"), [(0, 5, 1), (-1, 5, 1), (1, 0, 1), (1, 5, 6), (1, 5, 0)])
def test_impossible_limits_are_programming_errors(rate, burst, cost):
    with pytest.raises(ValueError):
        consume(None, 0.0, rate, burst, cost)


def test_the_rate_limiter_applies_its_own_limits():
    limiter = RateLimiter(rate_per_s=1, burst=1)
    allowed, state, _ = limiter.consume(None, 0.0)
    assert allowed
    allowed, _, retry_after = limiter.consume(state, 0.25)
    assert not allowed and math.isclose(retry_after, 0.75)


# ------------------------------------------------------------------------------ uploads

def test_an_allowed_upload_comes_back_normalized():
    upload = check_upload("Receipt March.JPG", "image/jpeg; charset=binary", 123_456)
    assert (upload.filename, upload.content_type, upload.size) == ("Receipt March.JPG", "image/jpeg", 123_456)
    assert check_upload("photo.jpg", "IMAGE/JPG", 10).content_type == "image/jpeg"


@pytest.mark.parametrize(("filename", "content_type"), [
    ("a.pdf", "application/pdf"), ("notes.txt", "text/plain"), ("x.png", "image/png"), ("x.gif", "image/gif"),
    ("x.webp", "image/webp"),
])
def test_the_default_types_are_images_pdf_and_plain_text(filename, content_type):
    assert check_upload(filename, content_type, 1).content_type == content_type


@pytest.mark.parametrize(("content_type", "reason"), [
    ("image/svg+xml", "cannot be sent here"), ("text/html", "cannot be sent here"),
    ("application/zip", "cannot be sent here"), ("", "missing"), (None, "missing"),
])
def test_other_types_are_refused_with_the_reason(content_type, reason):
    with pytest.raises(BadRequest, match=reason):
        check_upload("file", content_type, 10)


def test_size_limits():
    with pytest.raises(BadRequest, match="empty"):
        check_upload("a.png", "image/png", 0)
    with pytest.raises(BadRequest, match=r"12\.5 MB; the limit is 10 MB"):
        check_upload("a.png", "image/png", 12_500_000)
    assert check_upload("a.png", "image/png", 10_000_000).size == 10_000_000
    with pytest.raises(BadRequest, match="limit is 1 MB"):
        check_upload("a.png", "image/png", 1_000_001, max_bytes=1_000_000)


def test_an_extension_that_contradicts_the_type_is_refused():
    with pytest.raises(BadRequest, match="does not look like a image/png file"):
        check_upload("invoice.html", "image/png", 10)


def test_a_name_without_extension_gets_the_types_own():
    assert check_upload("scan", "application/pdf", 10).filename == "scan.pdf"
    assert check_upload(None, "image/png", 10).filename == "attachment.png"


def test_custom_allowed_types():
    assert check_upload("data.csv", "text/csv", 10, allowed_types=("text/csv",)).filename == "data.csv"
    with pytest.raises(BadRequest):
        check_upload("a.png", "image/png", 10, allowed_types=("text/csv",))


@pytest.mark.parametrize(("name", "clean"), [
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\ann\\photo.png", "photo.png"),
    ("invoice\u202efdp.exe", "invoicefdp.exe"),         # right-to-left override removed
    ("a\x00b\x1fc.txt", "abc.txt"),
    ('what?<is>"this"|*.txt', "what__is__this___.txt"),
    ("   ...hidden.txt  ", "hidden.txt"),
    ("CON.txt", "_CON.txt"),
    ("Ünïcödé naïve.pdf", "Ünïcödé naïve.pdf"),
    ("", "attachment"),
    ("....", "attachment"),
    (None, "attachment"),
])
def test_filenames_are_sanitized(name, clean):
    assert sanitize_filename(name) == clean


def test_long_filenames_keep_their_extension():
    cleaned = sanitize_filename("x" * 300 + ".pdf")
    assert len(cleaned) == 100 and cleaned.endswith(".pdf")


@pytest.mark.parametrize(("content_type", "head", "ok"), [
    ("image/png", b"\x89PNG\r\n\x1a\n....", True),
    ("image/png", b"<svg onload=alert(1)>", False),
    ("image/jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF", True),
    ("image/gif", b"GIF89a....", True),
    ("image/webp", b"RIFF\x00\x00\x00\x00WEBPVP8 ", True),
    ("image/webp", b"RIFF\x00\x00\x00\x00WAVEfmt ", False),
    ("application/pdf", b"%PDF-1.7\n", True),
    ("application/pdf", b"PK\x03\x04", False),
    ("text/plain", "héllo wörld".encode(), True),
    ("text/plain", "héllo".encode()[:2], True),       # cut inside a character is fine
    ("text/plain", b"MZ\x90\x00\x03", False),
    ("text/plain", b"\xff\xfe\x00\x00", False),
    ("text/csv", b"anything", True),
])
def test_an_uploaded_files_first_bytes_must_agree_with_its_declared_type(content_type, head, ok):
    # the check the widget runs on what landed before a message names the file (logic.widget), as for agents' files
    assert sniff_agrees(content_type, head) is ok


# ------------------------------------------------------------------------------ inbound

def test_a_widget_post_becomes_an_inbound_message():
    visitor = _visitor(name="Ann Lee", email="ann@example.com")
    message = webchat_inbound(visitor, "  Where is my order? 📦  ", "0f8fad5b-d9cb-469f-a165-70867728950e",
                              "shop.example.com", sent_at=NOW)
    assert (message.provider, message.channel, message.identity_kind) == ("webchat", "webchat", "webchat")
    assert message.customer_address == message.reply_to == "cust-42"
    assert message.shop_address == "shop.example.com"
    assert message.text == "Where is my order? 📦"
    assert message.kind == "text"
    assert message.profile_name == "Ann Lee"
    assert message.provider_id == "cust-42/0f8fad5b-d9cb-469f-a165-70867728950e"
    assert message.payload == {"client_message_id": "0f8fad5b-d9cb-469f-a165-70867728950e",
                               "email": "ann@example.com"}
    assert message.sent_at == NOW


def test_a_widget_retry_dedupes_but_two_visitors_never_collide():
    first = webchat_inbound(_visitor(), "hi", "m1", "shop")
    again = webchat_inbound(_visitor(), "hi", "m1", "shop")
    other = webchat_inbound(_visitor(visitor_id="cust-7"), "hi", "m1", "shop")
    assert first.provider_id == again.provider_id != other.provider_id


def test_text_length_is_checked_after_stripping():
    assert webchat_inbound(_visitor(), " " + "x" * 5000 + "\n", "m1", "shop").text == "x" * 5000
    with pytest.raises(BadRequest, match="5000"):
        webchat_inbound(_visitor(), "x" * 5001, "m1", "shop")


@pytest.mark.parametrize("text", ["", "   \n\t ", None, "\x00\x01"])
def test_an_empty_message_is_refused(text):
    with pytest.raises(BadRequest, match="empty"):
        webchat_inbound(_visitor(), text, "m1", "shop")


def test_attachments_may_come_without_text():
    files = [Attachment(storage_key="uploads/abc/receipt.pdf", content_type="application/pdf", filename="receipt.pdf",
                        size=1000)]
    message = webchat_inbound(_visitor(), "", "m2", "shop", attachments=files)
    assert (message.kind, message.text, message.attachments) == ("media", None, files)


def test_at_most_ten_attachments():
    files = [Attachment(storage_key=f"k{i}") for i in range(11)]
    with pytest.raises(BadRequest, match="10 attachments"):
        webchat_inbound(_visitor(), "x", "m3", "shop", attachments=files)


def test_control_characters_are_removed_and_line_breaks_kept():
    message = webchat_inbound(_visitor(), "line one\r\nline\x07 two\x00", "m4", "shop")
    assert message.text == "line one\nline two"


@pytest.mark.parametrize("client_id", ["", "a/b", "has space", "x" * 129, "ü", None])
def test_client_message_ids_are_validated(client_id):
    with pytest.raises(BadRequest, match="client_message_id"):
        webchat_inbound(_visitor(), "hi", client_id, "shop")
