"""X-Twilio-Signature: HMAC-SHA1 over the public URL plus the sorted POST parameters, base64.

The provider samples carry signatures computed outside this project (auth token ``12345`` over the
sidecar's ``signing.url``), so they check ``verify_signature`` against Twilio's own algorithm; the
constructed cases use ``sign()`` and one of them is recomputed here with hmac/hashlib directly.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import urlencode

import pytest

from shopdesk.channels.twilio import parse_form, sign, verify_body_hash, verify_signature
from tests.support import sample

TOKEN = "12345"
SAMPLES = ["sms_inbound_text", "sms_inbound_mms_image", "whatsapp_inbound_text", "sms_status_undelivered_30003",
           "whatsapp_status_delivered"]
URL = "https://desk.example.com/webhooks/twilio"


def _signed_sample(name: str) -> tuple[str, list[tuple[str, str]], str]:
    body, meta = sample("twilio", name)
    return meta["signing"]["url"], parse_form(body), meta["signing"]["expected_header"]["X-Twilio-Signature"]


def _hmac_sha1_b64(key: str, message: str) -> str:
    return base64.b64encode(hmac.new(key.encode(), message.encode("utf-8"), hashlib.sha1).digest()).decode()


# ------------------------------------------------------------------------------ provider samples

@pytest.mark.parametrize("name", SAMPLES)
def test_provider_sample_verifies_with_its_url_and_token(name):
    # Given a body exactly as Twilio sent it and the signature Twilio's algorithm gives for it
    url, params, signature = _signed_sample(name)
    # When it is verified against the URL Twilio called, with the account's auth token
    # Then it is accepted
    assert verify_signature(url, params, signature, TOKEN) is True


@pytest.mark.parametrize("name", SAMPLES)
def test_sign_reproduces_the_provider_sample_signature(name):
    url, params, signature = _signed_sample(name)
    assert sign(url, params, TOKEN) == signature


@pytest.mark.parametrize("name", SAMPLES)
def test_provider_sample_is_refused_with_another_auth_token(name):
    url, params, signature = _signed_sample(name)
    assert verify_signature(url, params, signature, "54321") is False


@pytest.mark.parametrize("name", SAMPLES)
def test_provider_sample_is_refused_when_a_value_was_changed(name):
    # Given the sample with one parameter's value altered in transit
    url, params, signature = _signed_sample(name)
    tampered = [(k, v + "x") if k == "MessageSid" else (k, v) for k, v in params]
    # Then the signature no longer holds
    assert tampered != params
    assert verify_signature(url, tampered, signature, TOKEN) is False


@pytest.mark.parametrize("name", SAMPLES)
def test_provider_sample_is_refused_when_a_param_was_added(name):
    url, params, signature = _signed_sample(name)
    assert verify_signature(url, [*params, ("Injected", "1")], signature, TOKEN) is False


@pytest.mark.parametrize("name", SAMPLES)
def test_provider_sample_is_refused_when_a_param_was_dropped(name):
    url, params, signature = _signed_sample(name)
    assert verify_signature(url, [p for p in params if p[0] != "AccountSid"], signature, TOKEN) is False


@pytest.mark.parametrize("name", ["sms_inbound_text", "sms_inbound_mms_image"])
def test_provider_sample_blank_params_are_part_of_the_signature(name):
    # Given a sample that carries blank values (ToCity=, ToZip=)
    url, params, signature = _signed_sample(name)
    assert [k for k, v in params if v == ""] == ["ToCity", "ToZip"]
    # When the blank-valued parameters are dropped (a parser that ignores blanks would do this)
    without_blanks = [(k, v) for k, v in params if v != ""]
    # Then the signature no longer holds: blank values are signed too
    assert verify_signature(url, without_blanks, signature, TOKEN) is False


@pytest.mark.parametrize("other_url", [
    "https://example.com/webhooks/twilio/messagin",       # path
    "https://example.com/webhooks/twilio/messaging/",     # trailing slash
    "https://example.com/webhooks/twilio/messaging?x=1",  # query added
    "http://example.com/webhooks/twilio/messaging",       # scheme
    "https://example.org/webhooks/twilio/messaging",      # host
    "https://example.com:8443/webhooks/twilio/messaging",  # non-default port
])
def test_provider_sample_is_refused_for_another_url(other_url):
    _url, params, signature = _signed_sample("sms_inbound_text")
    assert verify_signature(other_url, params, signature, TOKEN) is False


@pytest.mark.parametrize("missing", [None, ""])
def test_request_without_signature_header_is_refused(missing):
    url, params, _signature = _signed_sample("sms_inbound_text")
    assert verify_signature(url, params, missing, TOKEN) is False


def test_no_auth_token_configured_refuses_even_a_signature_made_with_an_empty_key():
    # Given a signature computed with an empty key (what an unconfigured secret would accept)
    url, params, _signature = _signed_sample("sms_inbound_text")
    forged = sign(url, params, "")
    # Then verification with no token configured still refuses it
    assert verify_signature(url, params, forged, "") is False


def test_query_string_is_part_of_the_signed_url():
    params = [("MessageSid", "SM1"), ("Body", "hi")]
    signature = sign(URL + "?tenant=a", params, TOKEN)
    assert verify_signature(URL + "?tenant=a", params, signature, TOKEN) is True
    assert verify_signature(URL + "?tenant=b", params, signature, TOKEN) is False
    assert verify_signature(URL, params, signature, TOKEN) is False


# ------------------------------------------------------------------------------ port quirk

@pytest.mark.parametrize(("signed_url", "called_url"), [
    ("https://desk.example.com:443/webhooks/twilio", "https://desk.example.com/webhooks/twilio"),
    ("https://desk.example.com/webhooks/twilio", "https://desk.example.com:443/webhooks/twilio"),
    ("http://desk.example.com:80/webhooks/twilio", "http://desk.example.com/webhooks/twilio"),
    ("http://desk.example.com/webhooks/twilio", "http://desk.example.com:80/webhooks/twilio"),
    ("https://desk.example.com:443/webhooks/twilio?a=1", "https://desk.example.com/webhooks/twilio?a=1"),
])
def test_signature_made_with_or_without_the_default_port_is_accepted(signed_url, called_url):
    # Given Twilio signed the URL with (or without) the scheme's default port
    params = [("MessageSid", "SM1"), ("Body", "hi")]
    signature = sign(signed_url, params, TOKEN)
    # When the function reconstructs the URL the other way round
    # Then the signature is still accepted
    assert verify_signature(called_url, params, signature, TOKEN) is True


def test_port_quirk_only_covers_the_default_port():
    # Given a signature over the URL with a non-default port
    params = [("MessageSid", "SM1")]
    signature = sign("https://desk.example.com:8443/webhooks/twilio", params, TOKEN)
    # Then it does not verify for the port-less URL, nor a https URL signed with :80
    assert verify_signature("https://desk.example.com/webhooks/twilio", params, signature, TOKEN) is False
    signed_80 = sign("https://desk.example.com:80/webhooks/twilio", params, TOKEN)
    assert verify_signature("https://desk.example.com/webhooks/twilio", params, signed_80, TOKEN) is False


# ------------------------------------------------------------------------------ parameter rules

def test_signature_is_hmac_sha1_of_url_and_sorted_params_computed_independently():
    # Given a body with unsorted names, a repeated name, an empty value and non-ASCII text
    body = urlencode([("To", "+14155550100"), ("MediaUrl", "https://m/b"), ("Body", "Grüße 👋"),
                      ("MediaUrl", "https://m/a"), ("From", "+31612345678"), ("ProfileName", "")])
    # When the signature is computed by hand: URL, then name+value for names in code-point order,
    # each distinct value of a repeated name in sorted order, the blank value included, UTF-8
    payload = (URL + "?v=1"
               + "BodyGrüße 👋" + "From+31612345678" + "MediaUrlhttps://m/a" + "MediaUrlhttps://m/b"
               + "ProfileName" + "To+14155550100")
    expected = _hmac_sha1_b64(TOKEN, payload)
    # Then sign() and verify_signature() agree with it
    assert sign(URL + "?v=1", parse_form(body), TOKEN) == expected
    assert verify_signature(URL + "?v=1", parse_form(body), expected, TOKEN) is True


def test_repeated_param_contributes_each_distinct_value_sorted():
    # Given a parameter sent three times, one value twice, out of order
    params = [("MediaUrl", "b"), ("MediaUrl", "a"), ("MediaUrl", "b")]
    # Then it signs like name+value for each distinct value in sorted order
    assert sign(URL, params, TOKEN) == _hmac_sha1_b64(TOKEN, URL + "MediaUrla" + "MediaUrlb")
    # and the order the values arrive in does not matter
    assert sign(URL, list(reversed(params)), TOKEN) == sign(URL, params, TOKEN)


def test_names_sort_by_code_point_not_case_insensitively():
    params = [("body", "x"), ("Body", "y"), ("To", "z")]
    # "B" (66) < "T" (84) < "b" (98)
    assert sign(URL, params, TOKEN) == _hmac_sha1_b64(TOKEN, URL + "Bodyy" + "Toz" + "bodyx")


def test_empty_body_value_is_signed():
    # Given a body with an empty Body= (a media-only message)
    body = "MessageSid=SM1&Body=&From=%2B31612345678"
    params = parse_form(body)
    signature = sign(URL, params, TOKEN)
    # Then the empty value counts ("Body" is part of the signed string) ...
    assert signature == _hmac_sha1_b64(TOKEN, URL + "Body" + "From+31612345678" + "MessageSidSM1")
    # ... so dropping the blank parameter breaks the signature
    assert verify_signature(URL, [p for p in params if p[0] != "Body"], signature, TOKEN) is False


def test_non_ascii_text_is_signed_as_url_decoded_utf8():
    # Given a body whose text is percent-encoded UTF-8
    body = "MessageSid=SM1&Body=Gr%C3%BC%C3%9Fe+%F0%9F%91%8B"
    params = parse_form(body)
    assert dict(params)["Body"] == "Grüße 👋"
    signature = _hmac_sha1_b64(TOKEN, URL + "BodyGrüße 👋" + "MessageSidSM1")
    # Then the signature over the decoded text verifies, and one over the raw encoding does not
    assert verify_signature(URL, params, signature, TOKEN) is True
    raw = [("MessageSid", "SM1"), ("Body", "Gr%C3%BC%C3%9Fe+%F0%9F%91%8B")]
    assert verify_signature(URL, raw, sign(URL, raw, TOKEN), TOKEN) is True
    assert verify_signature(URL, params, sign(URL, raw, TOKEN), TOKEN) is False


def test_whitespace_in_values_is_signed_untrimmed():
    params = [("Body", "  hi  ")]
    signature = sign(URL, params, TOKEN)
    assert verify_signature(URL, [("Body", "hi")], signature, TOKEN) is False


# ------------------------------------------------------------------------------ JSON bodies (bodySHA256)

JSON_BODY = b'{"MessageSid":"SM1","Body":"Gr\xc3\xbc\xc3\x9fe"}'


def _json_url(body: bytes = JSON_BODY) -> str:
    return f"{URL}?bodySHA256={hashlib.sha256(body).hexdigest()}"


def test_json_body_hash_matches_the_raw_body():
    assert verify_body_hash(_json_url(), JSON_BODY) is True


def test_json_body_hash_refuses_a_changed_body():
    assert verify_body_hash(_json_url(), JSON_BODY.replace(b"SM1", b"SM2")) is False


def test_body_hash_check_passes_when_the_url_has_no_body_hash():
    # Form-encoded webhooks carry no bodySHA256: their body is bound by the signature instead
    assert verify_body_hash(URL, b"MessageSid=SM1") is True


def test_json_body_signature_is_over_the_url_only():
    # Given Twilio signed the URL including bodySHA256, with no parameters appended
    url = _json_url()
    signature = _hmac_sha1_b64(TOKEN, url)
    # Then it verifies even when the caller hands over parameters (they are not signed)
    assert verify_signature(url, [], signature, TOKEN) is True
    assert verify_signature(url, [("MessageSid", "SM1")], signature, TOKEN) is True
    # and a signature that appended parameters does not
    assert verify_signature(url, [], _hmac_sha1_b64(TOKEN, url + "MessageSidSM1"), TOKEN) is False


def test_json_body_signature_binds_the_body_hash_in_the_url():
    # Given a signature for one body's hash, an attacker swaps in another body and its hash
    signature = _hmac_sha1_b64(TOKEN, _json_url())
    other = b'{"MessageSid":"SM666"}'
    # Then the body hash holds for the new URL, but the signature over that URL does not
    assert verify_body_hash(_json_url(other), other) is True
    assert verify_signature(_json_url(other), [], signature, TOKEN) is False
