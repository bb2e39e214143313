"""Property: no signed request, however odd, crashes a webhook.

Every real sample (tests/samples, events/, tests/unit/fixtures/email) is mutated (tests/mutations.py),
signed with the provider's own scheme and given to the real handler against moto. The answer must
be 2xx (processed, or acknowledged with the odd part recorded as unsupported) or 4xx (refused);
never an exception or a 5xx. What a 2xx accepted must be in the table: the answer's counts are
checked against the dedupe markers and the unsupported record of the request.

``make test`` runs a few derandomized examples per sample; ``make fuzz`` many more, and writes how
many were tried and how many crashed (FUZZ_STATS names the file the counts are added to).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from hypothesis import given
from hypothesis import strategies as st

from shopdesk import clock
from shopdesk.channels import email as mail
from shopdesk.channels import meta, sns, twilio
from shopdesk.commerce.webhooks import sign
from shopdesk.dal.items import marker_pk
from shopdesk.errors import BadRequest
from tests.commerce_support import SHOPIFY_TEST_SECRET, WC_TEST_SECRET, commerce_sample, sample_names
from tests.mutations import email_mutants, form_mutants, json_mutants
from tests.support import AUTH_TOKEN, EVENTS, ROOT, SAMPLES, FakeContext, http_event

APP_SECRET = "test_app_secret"                 # tests/integration/conftest.py's Meta secret
EVENTS_TOPIC = "arn:aws:sns:us-east-1:123456789012:shopdesk-dev-email-events"   # the function's EMAIL_EVENTS_TOPIC_ARN
TELEGRAM_SECRET = "test_secret_token-1"
BASE = "https://desk.example.com"
SLOW_SECONDS = 3.0
# pytest-timeout's 300 s is per test; `make fuzz` runs hundreds of examples in one test.
pytestmark = pytest.mark.timeout(3 * 3600 if os.environ.get("HYPOTHESIS_PROFILE") == "fuzz" else 300)


def _json_samples(folder: str) -> list[Path]:
    return sorted(p for p in (SAMPLES / folder).glob("*.json") if not p.name.endswith(".meta.json"))


META_SAMPLES = {"whatsapp": _json_samples("meta_whatsapp"), "messenger": _json_samples("meta_messenger"),
                "instagram": _json_samples("meta_instagram")}
TELEGRAM_SAMPLES = _json_samples("telegram")
TWILIO_SAMPLES = [*sorted((SAMPLES / "twilio").glob("*.form")),
                  *sorted(p for p in EVENTS.glob("apigw_twilio_*.json") if "bad_signature" not in p.name)]
SNS_SAMPLES = [p for p in _json_samples("ses") if json.loads(p.read_text()).get("Type")]
EMAIL_SAMPLES = [*sorted((SAMPLES / "ses").rglob("*.eml")),
                 *sorted((ROOT / "tests" / "unit" / "fixtures" / "email").glob("*.eml"))]


# ------------------------------------------------------------------------------ counting and checking

@pytest.fixture(scope="module")
def tally() -> Iterator[dict[str, int]]:
    counts = {"mutants": 0, "crashes": 0}
    yield counts
    path = os.environ.get("FUZZ_STATS")
    if path:
        stats = json.loads(Path(path).read_text()) if Path(path).exists() else {"mutants": 0, "crashes": 0}
        stats = {k: stats.get(k, 0) + counts[k] for k in counts}
        Path(path).write_text(json.dumps(stats))


def _answered(tally: dict[str, int], call: Callable[[], dict[str, Any]], what: list[str]) -> dict[str, Any]:
    """Call the handler once; a crash (exception or 5xx) is counted, then fails the example.

    moto answering slower than the clients' 10 s read timeout (two cores shared with other test runs)
    is a transient failure, which the handler rightly turns into a 5xx for the provider to retry: the
    request is then sent again, as the provider would, and only its second answer counts."""
    tally["mutants"] += 1
    started = time.perf_counter()
    try:
        try:
            result = call()
        except (ReadTimeoutError, ConnectTimeoutError):
            print(f"moto timed out, sent again: {what}")
            result = call()
    except Exception:
        tally["crashes"] += 1
        raise
    finally:
        if time.perf_counter() - started > SLOW_SECONDS:       # shown with -s: which mutants cost time
            print(f"slow ({time.perf_counter() - started:.1f} s): {what}")
    status = result.get("statusCode", 200)
    if not 200 <= status < 500:
        tally["crashes"] += 1
    assert 200 <= status < 500, (status, result.get("body"), what)
    return result


def _markers(desk: Any) -> int:
    """Dedupe markers of messages and events in the table: what accepted items leave behind."""
    return sum(1 for item in _scan(desk) if item["PK"].startswith(("EXTMSG#", "EXTEVT#")))


def _unsupported_since(desk: Any, since: str) -> int:
    """Unsupported records written (or written again: a repeated request) since ``since``."""
    return sum(1 for item in _scan(desk) if item["PK"].startswith("UNSUPPORTED#") and item["received_at"] >= since)


def _scan(desk: Any) -> list[dict[str, Any]]:
    pages = desk.client("dynamodb").get_paginator("scan").paginate(
        TableName=desk.table_name, ProjectionExpression="PK, received_at")
    return [{k: v["S"] for k, v in item.items()} for page in pages for item in page["Items"]]


def _accounted(desk: Any, answer: dict[str, Any], before: int, since: str) -> None:
    """Everything a 2xx answer says it stored or recorded as unsupported is in the table."""
    if answer.get("stored", 0) + answer.get("events", 0):
        assert _markers(desk) > before, answer
    if answer.get("unsupported"):
        assert _unsupported_since(desk, since) >= 1, answer


# ------------------------------------------------------------------------------ Meta

def _meta_case(channel: str) -> st.SearchStrategy[tuple[Any, list[str]]]:
    return st.sampled_from(META_SAMPLES[channel]).flatmap(lambda p: json_mutants(json.loads(p.read_text())))


def _json_body(doc: Any, ascii_only: bool) -> str:
    try:
        return json.dumps(doc, ensure_ascii=ascii_only).encode("utf-8").decode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(doc)             # lone surrogates travel escaped, as Meta sends them


def _post_meta(desk: Any, channel: str, body: str) -> dict[str, Any]:
    headers = {"content-type": "application/json", "x-hub-signature-256": meta.sign(body.encode(), APP_SECRET)}
    return desk.invoke(f"inbound_{channel}", http_event("POST", f"/webhooks/{channel}", body, headers))


@pytest.mark.parametrize("channel", ["whatsapp", "messenger", "instagram"])
@given(case=st.data())
def test_signed_meta_mutants_never_crash_and_what_is_accepted_is_kept(desk, tally, channel, case):
    doc, what = case.draw(_meta_case(channel))
    body = _json_body(doc, case.draw(st.booleans()))
    before, since = _markers(desk), clock.iso(clock.now())
    result = _answered(tally, lambda: _post_meta(desk, channel, body), what)
    if result["statusCode"] == 200:
        _accounted(desk, json.loads(result["body"]), before, since)


# ------------------------------------------------------------------------------ Telegram

@given(case=st.data())
def test_signed_telegram_mutants_never_crash_and_what_is_accepted_is_kept(desk, tally, case):
    doc, what = case.draw(st.sampled_from(TELEGRAM_SAMPLES).flatmap(lambda p: json_mutants(json.loads(p.read_text()))))
    body = _json_body(doc, case.draw(st.booleans()))
    headers = {"content-type": "application/json", "x-telegram-bot-api-secret-token": TELEGRAM_SECRET}
    before, since = _markers(desk), clock.iso(clock.now())
    result = _answered(tally, lambda: desk.invoke("inbound_telegram", http_event("POST", "/webhooks/telegram", body,
                                                                                  headers)), what)
    if result["statusCode"] == 200:
        answer = json.loads(result["body"] or "{}")
        if "method" not in answer:          # an answer riding on the 200 is a Bot API call, no counts
            _accounted(desk, answer, before, since)


# ------------------------------------------------------------------------------ Twilio

def _twilio_sample(path: Path) -> tuple[str, list[tuple[str, str]]]:
    if path.suffix == ".form":
        route = "/webhooks/twilio/status" if "status" in path.name else "/webhooks/twilio"
        body = path.read_text().strip()
    else:
        event = json.loads(path.read_text())
        route = event["rawPath"]
        body = base64.b64decode(event["body"]).decode() if event.get("isBase64Encoded") else event["body"]
    return route, urllib.parse.parse_qsl(body, keep_blank_values=True)


@given(case=st.data())
def test_signed_twilio_mutants_never_crash(desk, tally, case):
    route, pairs = _twilio_sample(case.draw(st.sampled_from(TWILIO_SAMPLES)))
    body, what = case.draw(form_mutants(pairs))
    url = BASE + route
    try:
        params = twilio.parse_form(body)
    except BadRequest:
        params = []             # not a form (invalid UTF-8): signed over nothing, refused before the signature
    headers = {"content-type": "application/x-www-form-urlencoded",
               "x-twilio-signature": twilio.sign(url, params, AUTH_TOKEN)}
    before, since = _markers(desk), clock.iso(clock.now())
    result = _answered(tally, lambda: desk.invoke("inbound_twilio", http_event("POST", route, body, headers)), what)
    if result["statusCode"] == 200 and route != "/webhooks/twilio/status":
        sid = dict(params).get("MessageSid") or dict(params).get("SmsMessageSid") or dict(params).get("SmsSid")
        # a new message, an unsupported record, or the MessageSid was stored by an earlier example
        assert (_markers(desk) > before or _unsupported_since(desk, since)
                or (sid and desk.item(marker_pk("twilio", sid)))), what


# ------------------------------------------------------------------------------ email: SNS and S3

@pytest.fixture(scope="module")
def sns_signer() -> tuple[Callable[[dict[str, Any]], dict[str, Any]], bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
            .sign(key, hashes.SHA256()))

    def sign(message: dict[str, Any]) -> dict[str, Any]:
        message = {**message, "SignatureVersion": "2",
                   "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem"}
        canonical = sns.string_to_sign(message) or ""       # none for an unknown Type: refused, unsigned
        signature = key.sign(canonical.encode("utf-8", "surrogatepass"), padding.PKCS1v15(), hashes.SHA256())
        return {**message, "Signature": base64.b64encode(signature).decode()}
    return sign, cert.public_bytes(serialization.Encoding.PEM)


def _sns_mutant(path: Path) -> st.SearchStrategy[tuple[dict[str, Any], list[str]]]:
    # each sample as SNS would send it for the desk's own topic, so mutants reach past the topic check
    envelope = {**json.loads(path.read_text()), "TopicArn": EVENTS_TOPIC}
    try:
        inner = json.loads(envelope.get("Message") or "")
    except ValueError:
        inner = None
    if not isinstance(inner, dict):
        return json_mutants(envelope)
    return json_mutants(inner).map(lambda m: ({**envelope, "Message": json.dumps(m[0])}, m[1]))


@given(case=st.data())
def test_signed_sns_mutants_never_crash(desk, tally, sns_signer, case):
    sign, pem = sns_signer
    envelope, what = case.draw(st.sampled_from(SNS_SAMPLES).flatmap(_sns_mutant))
    if not isinstance(envelope, dict):
        envelope = {"Type": "Notification", "Message": json.dumps(envelope)}
    signed = sign({k: v if isinstance(v, str) else json.dumps(v) for k, v in envelope.items()
                   if k not in ("Signature", "SignatureVersion", "SigningCertURL")})
    module = desk.handler("inbound_email", EMAIL_EVENTS_TOPIC_ARN=EVENTS_TOPIC)
    module.receiver.fetch_certificate = lambda url: pem
    module.receiver.confirm = lambda url: None          # no subscription is confirmed from a test
    body = _json_body(signed, case.draw(st.booleans()))
    _answered(tally, lambda: module.lambda_handler(
        http_event("POST", "/webhooks/email/sns", body, {"content-type": "text/plain; charset=UTF-8"}),
        FakeContext()), what)


@given(case=st.data())
def test_stored_mail_mutants_never_crash_and_are_kept(desk, tally, case):
    raw, what = case.draw(st.sampled_from(EMAIL_SAMPLES).flatmap(lambda p: email_mutants(p.read_bytes())))
    key = f"raw/{tally['mutants']}"
    desk.client("s3").put_object(Bucket=desk.env["MAIL_BUCKET"], Key=key, Body=raw)
    event = {"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                          "s3": {"bucket": {"name": desk.env["MAIL_BUCKET"]}, "object": {"key": key}}}]}
    before, since = _markers(desk), clock.iso(clock.now())
    _answered(tally, lambda: desk.invoke("inbound_email", event), what)
    if _markers(desk) == before and not _unsupported_since(desk, since):
        # nothing new: only right when the same mail was stored by an earlier example
        parsed = mail.parse_email(raw, shop_addresses=[desk.env["SES_FROM_ADDRESS"]])
        assert desk.item(marker_pk("email", parsed.message.provider_id)), what


# ------------------------------------------------------------------------------ commerce: Shopify, WooCommerce

COMMERCE = {"shopify": ("inbound_shopify", "X-Shopify-Hmac-Sha256", SHOPIFY_TEST_SECRET),
            "woocommerce": ("inbound_woocommerce", "X-WC-Webhook-Signature", WC_TEST_SECRET)}


@pytest.fixture
def commerce_env(desk: Any) -> dict[str, str]:
    """The commerce functions' secrets (no platform is called: webhooks only store)."""
    sm = desk.client("secretsmanager")
    shopify = sm.create_secret(Name=f"shopify-{desk.table_name}", SecretString=json.dumps(
        {"access_token": "test-token", "client_secret": SHOPIFY_TEST_SECRET, "previous_client_secret": ""}))["ARN"]
    woo = sm.create_secret(Name=f"woocommerce-{desk.table_name}", SecretString=json.dumps(
        {"consumer_key": "ck_test", "consumer_secret": "cs_test", "webhook_secret": WC_TEST_SECRET}))["ARN"]
    return {"SHOPIFY_SECRET_ARN": shopify, "WOOCOMMERCE_SECRET_ARN": woo, "COMMERCE_PLATFORM": "shopify"}


def _commerce_case(platform: str) -> st.SearchStrategy[tuple[Any, list[str], dict[str, str]]]:
    def mutate(name: str) -> st.SearchStrategy[tuple[Any, list[str], dict[str, str]]]:
        body, sidecar = commerce_sample(platform, name)
        return json_mutants(json.loads(body)).map(lambda m: (m[0], [name, *m[1]], sidecar["http"]["headers"]))
    # every JSON sample (WooCommerce's ping is a form, and unsigned)
    return st.sampled_from([n for n in sample_names(platform) if commerce_sample(platform, n)[0].startswith(b"{")]
                           ).flatmap(mutate)


@pytest.mark.parametrize("platform", ["shopify", "woocommerce"])
@given(case=st.data())
def test_signed_commerce_mutants_never_crash(desk, tally, commerce_env, platform, case):
    function, signature_header, secret = COMMERCE[platform]
    doc, what, headers = case.draw(_commerce_case(platform))
    body = _json_body(doc, case.draw(st.booleans())).encode("utf-8", "surrogatepass")
    headers = {**{k: v for k, v in headers.items() if k.lower() != signature_header.lower()},
               signature_header: sign(secret, body)}
    event = http_event("POST", f"/webhooks/{platform}", base64.b64encode(body).decode(), headers)
    event["isBase64Encoded"] = True
    _answered(tally, lambda: desk.invoke(function, event, **commerce_env), what)
