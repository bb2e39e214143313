"""Meta webhooks (WhatsApp Cloud API, Messenger, Instagram): X-Hub-Signature-256, the subscription
handshake and body decoding.

The provider samples carry signatures computed outside this project (app secret ``test_app_secret``
over the exact bytes of the sample file), so they check ``verify_signature`` against Meta's own
algorithm; the constructed cases are signed here with hmac/hashlib directly.
"""

# ruff: noqa: RUF001 - Turkish and Arabic customer text on purpose

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from shopdesk.channels.meta import parse_json, provider_of, sign, verify_handshake, verify_signature
from shopdesk.errors import BadRequest
from tests.support import SAMPLES, sample

SECRET = "test_app_secret"
SIGNED = [
    ("meta_whatsapp", "text"), ("meta_whatsapp", "image"), ("meta_whatsapp", "interactive_button_reply"),
    ("meta_whatsapp", "status_delivered"), ("meta_whatsapp", "status_failed_131049"),
    ("meta_messenger", "text"), ("meta_messenger", "attachment_image"), ("meta_messenger", "delivery"),
    ("meta_instagram", "text"), ("meta_instagram", "attachment_image"),
]


def _wire(folder: str, name: str) -> tuple[bytes, str]:
    """The sample's bytes exactly as sent, and the X-Hub-Signature-256 Meta sent with them."""
    _, meta = sample(folder, name)
    raw = (SAMPLES / folder / meta["file"]).read_bytes()
    assert hashlib.sha256(raw).hexdigest() == meta["sha256_of_file"]
    return raw, meta["http"]["headers"]["X-Hub-Signature-256"]


def _hmac(secret: str, raw: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


# ------------------------------------------------------------------------------ provider samples

@pytest.mark.parametrize(("folder", "name"), SIGNED)
def test_provider_sample_verifies_with_the_app_secret(folder, name):
    raw, header = _wire(folder, name)
    assert verify_signature(raw, header, SECRET) is True


@pytest.mark.parametrize(("folder", "name"), SIGNED)
def test_sign_reproduces_the_provider_sample_signature(folder, name):
    raw, header = _wire(folder, name)
    assert sign(raw, SECRET) == header


@pytest.mark.parametrize(("folder", "name"), SIGNED)
def test_provider_sample_is_refused_with_another_secret(folder, name):
    raw, header = _wire(folder, name)
    assert verify_signature(raw, header, "another_app_secret") is False


@pytest.mark.parametrize(("folder", "name"), SIGNED)
@pytest.mark.parametrize("position", [0, "middle", -2])
def test_provider_sample_is_refused_when_one_byte_changed(folder, name, position):
    # Given the sample with a single byte altered in transit (start, middle, end)
    raw, header = _wire(folder, name)
    index = len(raw) // 2 if position == "middle" else position
    tampered = bytearray(raw)
    tampered[index] ^= 0x01
    # Then the signature no longer holds
    assert verify_signature(bytes(tampered), header, SECRET) is False


@pytest.mark.parametrize(("folder", "name"), SIGNED)
def test_provider_sample_is_refused_when_reserialised(folder, name):
    # A handler that decodes and re-encodes the JSON before hashing hashes other bytes
    raw, header = _wire(folder, name)
    for rendering in (json.dumps(json.loads(raw)), json.dumps(json.loads(raw), separators=(",", ":"))):
        assert rendering.encode() != raw
        assert verify_signature(rendering.encode(), header, SECRET) is False


@pytest.mark.parametrize(("folder", "name"), SIGNED)
def test_provider_sample_verifies_with_uppercase_hex_and_surrounding_space(folder, name):
    raw, header = _wire(folder, name)
    assert verify_signature(raw, " sha256=" + header.removeprefix("sha256=").upper() + " ", SECRET) is True


# ------------------------------------------------------------------------------ wire bytes, not JSON values

def test_escaped_unicode_body_verifies_only_as_received():
    # Meta signs an escaped-unicode rendering: "äöå" travels as \u00e4\u00f6\u00e5
    value = {"object": "page", "entry": [{"id": "1", "messaging": [{"message": {"mid": "m1", "text": "äöå 🙂"}}]}]}
    escaped = json.dumps(value, ensure_ascii=True, separators=(",", ":")).encode()
    assert b"\\u00e4\\u00f6\\u00e5" in escaped
    header = _hmac(SECRET, escaped)
    assert verify_signature(escaped, header, SECRET) is True
    # The same JSON value rendered with raw UTF-8 (what json.dumps(ensure_ascii=False) gives) is other bytes
    raw_utf8 = json.dumps(json.loads(escaped), ensure_ascii=False, separators=(",", ":")).encode()
    assert json.loads(raw_utf8) == json.loads(escaped)
    assert verify_signature(raw_utf8, header, SECRET) is False


def test_raw_utf8_body_verifies_only_as_received():
    # Turkish, Arabic and emoji sent as raw UTF-8 bytes: re-escaping them breaks the signature
    raw = '{"object":"whatsapp_business_account","entry":[{"text":"Şişli’de mağaza var mı? مرحبا 👋"}]}'.encode()
    header = _hmac(SECRET, raw)
    assert verify_signature(raw, header, SECRET) is True
    escaped = json.dumps(json.loads(raw), separators=(",", ":")).encode()
    assert verify_signature(escaped, header, SECRET) is False


def test_body_differing_only_in_whitespace_is_refused():
    raw = b'{"object":"page","entry":[]}'
    header = _hmac(SECRET, raw)
    assert verify_signature(raw + b"\n", header, SECRET) is False
    assert verify_signature(b'{"object": "page", "entry": []}', header, SECRET) is False


# ------------------------------------------------------------------------------ malformed input

@pytest.mark.parametrize("header", [
    None, "", "sha256=", "sha256", "=abc", "sha1=" + "0" * 40, "md5=" + "0" * 32,
    "sha256=" + "g" * 64, "sha256=" + "0" * 63, "sha256=" + "0" * 65, "sha256 " + "0" * 64,
])
def test_missing_or_malformed_header_is_refused(header):
    raw = b'{"object":"page","entry":[]}'
    assert verify_signature(raw, header, SECRET) is False


def test_legacy_sha1_header_is_not_accepted_even_when_correct():
    raw = b'{"object":"page","entry":[]}'
    sha1 = "sha1=" + hmac.new(SECRET.encode(), raw, hashlib.sha1).hexdigest()
    assert verify_signature(raw, sha1, SECRET) is False


def test_empty_secret_refuses_everything():
    raw = b'{"object":"page","entry":[]}'
    assert verify_signature(raw, _hmac("", raw), "") is False


def test_signature_of_an_empty_body_still_needs_the_secret():
    assert verify_signature(b"", _hmac(SECRET, b""), SECRET) is True
    assert verify_signature(b"", _hmac("x", b""), SECRET) is False


def test_non_bytes_body_is_refused_not_raised():
    assert verify_signature("{}", _hmac(SECRET, b"{}"), SECRET) is False  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ handshake

def _handshake(folder: str) -> tuple[dict[str, str], str]:
    _, meta = sample(folder, "verify_handshake")
    return dict(meta["http"]["query"]), meta["expected_response"]["body"]


@pytest.mark.parametrize("folder", ["meta_whatsapp", "meta_messenger"])
def test_handshake_answers_the_challenge_with_the_right_token(folder):
    query, expected = _handshake(folder)
    assert verify_handshake(query, "meatyhamhock") == expected == "1158201444"


def test_handshake_sample_request_line_carries_the_documented_query():
    from urllib.parse import parse_qsl, urlsplit

    raw = (SAMPLES / "meta_whatsapp" / "verify_handshake.http").read_text()
    target = raw.split("\n", 1)[0].split(" ")[1]
    query = dict(parse_qsl(urlsplit(target).query))
    assert verify_handshake(query, "meatyhamhock") == "1158201444"


@pytest.mark.parametrize("token", ["wrong", "meatyhamhoc", "meatyhamhockk", "MEATYHAMHOCK", ""])
def test_handshake_refuses_another_token(token):
    query, _ = _handshake("meta_whatsapp")
    assert verify_handshake(query, token) is None


@pytest.mark.parametrize("mode", ["unsubscribe", "Subscribe", "", None])
def test_handshake_refuses_another_mode(mode):
    query, _ = _handshake("meta_whatsapp")
    if mode is None:
        del query["hub.mode"]
    else:
        query["hub.mode"] = mode
    assert verify_handshake(query, "meatyhamhock") is None


def test_handshake_refuses_a_missing_token_or_challenge():
    query, _ = _handshake("meta_whatsapp")
    assert verify_handshake({k: v for k, v in query.items() if k != "hub.verify_token"}, "meatyhamhock") is None
    assert verify_handshake({k: v for k, v in query.items() if k != "hub.challenge"}, "meatyhamhock") is None
    assert verify_handshake({}, "meatyhamhock") is None


def test_handshake_accepts_php_style_names():
    query = {"hub_mode": "subscribe", "hub_challenge": "42", "hub_verify_token": "meatyhamhock"}
    assert verify_handshake(query, "meatyhamhock") == "42"
    assert verify_handshake({**query, "hub_verify_token": "nope"}, "meatyhamhock") is None


def test_handshake_with_no_configured_token_is_refused():
    assert verify_handshake({"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": ""}, "") is None


def test_handshake_returns_the_challenge_unchanged():
    challenge = "CHALLENGE_STRING_12345"
    query = {"hub.mode": "subscribe", "hub.challenge": challenge, "hub.verify_token": "t0k€n"}
    assert verify_handshake(query, "t0k€n") == challenge


# ------------------------------------------------------------------------------ body decoding

def test_parse_json_reads_every_sample():
    for folder, name in SIGNED:
        raw, _ = _wire(folder, name)
        assert parse_json(raw)["entry"]


@pytest.mark.parametrize("raw", [b"", b"not json", b"[1, 2]", b'"text"', b"42", b"null", b'{"a":', b"\xff\xfe\x00"])
def test_parse_json_refuses_what_is_not_a_json_object(raw):
    with pytest.raises(BadRequest):
        parse_json(raw)


def test_parse_json_keeps_non_ascii_text():
    raw = json.dumps({"t": "Şişli مرحبا 👍"}, ensure_ascii=True).encode()
    assert parse_json(raw) == {"t": "Şişli مرحبا 👍"}


@pytest.mark.parametrize(("obj", "provider"), [
    ("whatsapp_business_account", "whatsapp_cloud"), ("page", "messenger"), ("instagram", "instagram"),
    ("user", None), (None, None),
])
def test_provider_of_names_the_product_of_a_shared_endpoint(obj, provider):
    assert provider_of({"object": obj, "entry": []}) == provider
