"""SNS message signatures (v1 SHA1withRSA, v2 SHA256withRSA) with a throwaway key and certificate,
URL checks before any fetch, the certificate cache, and the envelope."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from shopdesk.channels import sns
from shopdesk.errors import BadRequest
from tests.support import sample

CERT_URL = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem"
TOPIC = "arn:aws:sns:eu-west-1:123456789012:shopdesk-inbound"


def _certificate(key: Any, sign_with: Any) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30)).sign(sign_with, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def pem(key: rsa.RSAPrivateKey) -> bytes:
    return _certificate(key, key)


class Fetcher:
    def __init__(self, pem: bytes) -> None:
        self.pem = pem
        self.calls: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.calls.append(url)
        return self.pem


@pytest.fixture
def fetch(pem: bytes) -> Fetcher:
    return Fetcher(pem)


def signed(key: rsa.RSAPrivateKey, message: dict[str, Any], version: str = "1") -> dict[str, Any]:
    message = {**message, "SignatureVersion": version, "SigningCertURL": message.get("SigningCertURL", CERT_URL)}
    payload = sns.string_to_sign(message)
    assert payload is not None
    algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()  # noqa: S303 (SNS v1 is SHA1withRSA)
    signature = key.sign(payload.encode(), padding.PKCS1v15(), algorithm)
    return {**message, "Signature": base64.b64encode(signature).decode()}


def notification(**extra: Any) -> dict[str, Any]:
    return {
        "Type": "Notification",
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": TOPIC,
        "Subject": "Amazon SES Email Receipt Notification",
        "Message": json.dumps({"notificationType": "Received", "content": "Grüße ✓"}),
        "Timestamp": "2026-11-22T20:32:34.012Z",
        "UnsubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=x",
        **extra,
    }


def confirmation(kind: str = "SubscriptionConfirmation") -> dict[str, Any]:
    return {
        "Type": kind,
        "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
        "Token": "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad0",
        "TopicArn": TOPIC,
        "Message": "You have chosen to subscribe to the topic.\nTo confirm the subscription, visit the SubscribeURL.",
        "SubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=x&Token=y",
        "Timestamp": "2026-11-22T20:45:04.751Z",
    }


# ------------------------------------------------------------------------------- good signatures

@pytest.mark.parametrize("version", ["1", "2"])
def test_notification_signatures_verify(key: rsa.RSAPrivateKey, fetch: Fetcher, version: str) -> None:
    assert sns.verify_sns(signed(key, notification(), version), fetch_certificate=fetch) is True
    assert fetch.calls == [CERT_URL]


@pytest.mark.parametrize("version", ["1", "2"])
@pytest.mark.parametrize("kind", ["SubscriptionConfirmation", "UnsubscribeConfirmation"])
def test_confirmation_signatures_verify(key: rsa.RSAPrivateKey, fetch: Fetcher, version: str, kind: str) -> None:
    assert sns.verify_sns(signed(key, confirmation(kind), version), fetch_certificate=fetch) is True


def test_notification_without_subject(key: rsa.RSAPrivateKey, fetch: Fetcher) -> None:
    message = notification()
    del message["Subject"]
    assert "Subject" not in sns.string_to_sign(message)
    assert sns.verify_sns(signed(key, message), fetch_certificate=fetch) is True


def test_null_subject_counts_as_absent(key: rsa.RSAPrivateKey, fetch: Fetcher) -> None:
    message = notification()
    del message["Subject"]
    good = signed(key, message)
    assert sns.verify_sns({**good, "Subject": None}, fetch_certificate=fetch) is True


def test_string_to_sign_layout() -> None:
    message = notification(Subject="S", Message="M", MessageId="I", Timestamp="T", TopicArn="A")
    assert sns.string_to_sign(message) == "Message\nM\nMessageId\nI\nSubject\nS\nTimestamp\nT\nTopicArn\nA\nType\n" \
                                          "Notification\n"
    conf = {**confirmation(), "Message": "one line"}
    assert sns.string_to_sign(conf).split("\n")[::2] == ["Message", "MessageId", "SubscribeURL", "Timestamp",
                                                         "Token", "TopicArn", "Type", ""]


def test_expected_topic(key: rsa.RSAPrivateKey, fetch: Fetcher) -> None:
    message = signed(key, notification())
    assert sns.verify_sns(message, fetch_certificate=fetch, expected_topic_arns={TOPIC}) is True
    assert sns.verify_sns(message, fetch_certificate=fetch, expected_topic_arns={TOPIC + "-other"}) is False
    assert sns.verify_sns(message, fetch_certificate=fetch, expected_topic_arns=()) is False


# ------------------------------------------------------------------------------- tampering

@pytest.mark.parametrize("field", ["Message", "MessageId", "Subject", "Timestamp", "TopicArn"])
def test_tampered_fields_fail(key: rsa.RSAPrivateKey, fetch: Fetcher, field: str) -> None:
    message = signed(key, notification(), "2")
    assert sns.verify_sns({**message, field: message[field] + "x"}, fetch_certificate=fetch) is False


def test_removed_subject_fails(key: rsa.RSAPrivateKey, fetch: Fetcher) -> None:
    message = signed(key, notification())
    del message["Subject"]
    assert sns.verify_sns(message, fetch_certificate=fetch) is False


def test_tampered_type_fails(key: rsa.RSAPrivateKey, fetch: Fetcher) -> None:
    message = signed(key, confirmation("SubscriptionConfirmation"))
    assert sns.verify_sns({**message, "Type": "UnsubscribeConfirmation"}, fetch_certificate=fetch) is False


def test_tampered_subscribe_url_fails(key: rsa.RSAPrivateKey, fetch: Fetcher) -> None:
    message = signed(key, confirmation())
    evil = "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=evil"
    assert sns.verify_sns({**message, "SubscribeURL": evil}, fetch_certificate=fetch) is False


@pytest.mark.parametrize("version", ["3", "0", "", None, 1.5, True])
def test_wrong_signature_version_fails(key: rsa.RSAPrivateKey, fetch: Fetcher, version: Any) -> None:
    message = signed(key, notification())
    assert sns.verify_sns({**message, "SignatureVersion": version}, fetch_certificate=fetch) is False
    assert fetch.calls == []


def test_version_swap_fails(key: rsa.RSAPrivateKey, fetch: Fetcher) -> None:
    """A SHA1 signature presented as version 2 (and the other way round) does not verify."""
    v1, v2 = signed(key, notification(), "1"), signed(key, notification(), "2")
    assert sns.verify_sns({**v1, "SignatureVersion": "2"}, fetch_certificate=fetch) is False
    assert sns.verify_sns({**v2, "SignatureVersion": "1"}, fetch_certificate=fetch) is False


@pytest.mark.parametrize("signature", ["", "not base64!", "AAAA", base64.b64encode(b"x" * 256).decode()])
def test_bad_signatures_fail(key: rsa.RSAPrivateKey, fetch: Fetcher, signature: str) -> None:
    assert sns.verify_sns({**signed(key, notification()), "Signature": signature}, fetch_certificate=fetch) is False


def test_other_key_fails(fetch: Fetcher) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert sns.verify_sns(signed(other, notification()), fetch_certificate=fetch) is False


def test_non_rsa_certificate_fails(key: rsa.RSAPrivateKey) -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    fetch = Fetcher(_certificate(ec_key, ec_key))
    assert sns.verify_sns(signed(key, notification()), fetch_certificate=fetch) is False


def test_missing_required_key_fails(key: rsa.RSAPrivateKey, fetch: Fetcher) -> None:
    message = signed(key, notification())
    for field in ("Message", "MessageId", "Timestamp", "TopicArn", "Type", "Signature", "SigningCertURL"):
        broken = dict(message)
        del broken[field]
        assert sns.verify_sns(broken, fetch_certificate=fetch) is False


@pytest.mark.parametrize("message", [None, [], "text", {"Type": "Notification"}, {"Type": ["x"]}, {}])
def test_garbage_never_raises(fetch: Fetcher, message: Any) -> None:
    assert sns.verify_sns(message, fetch_certificate=fetch) is False


def test_fetch_failure_is_false(key: rsa.RSAPrivateKey) -> None:
    def broken(url: str) -> bytes:
        raise OSError("network down")

    assert sns.verify_sns(signed(key, notification()), fetch_certificate=broken) is False
    assert sns.verify_sns(signed(key, notification()), fetch_certificate=lambda url: b"not a pem") is False


# ------------------------------------------------------------------------------- certificate URL checks

BAD_CERT_URLS = [
    "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem",
    "https://sns.us-east-1.amazonaws.com.evil.com/SimpleNotificationService-x.pem",
    "https://evil.com/sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem",
    "https://evil.com/?sns.us-east-1.amazonaws.com/x.pem",
    "https://sns.us-east-1.amazonaws.com@evil.com/x.pem",
    "https://sns.us-east-1.amazonaws.com:8443/x.pem",
    "https://sns.us-east-1.amazonaws.com\\@evil.com/x.pem",
    "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.txt",
    "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem?x=1",
    "https://sns.us-east-1.amazonaws.com/",
    "https://sqs.us-east-1.amazonaws.com/x.pem",
    "https://sns.amazonaws.com/x.pem",
    "https://evilsns.us-east-1.amazonaws.com/x.pem",
    "https://sns.us-east-1.amazonaws.com.cn.evil.com/x.pem",
    "https://sns.us-east-1.amazonaws.co/x.pem",
    "https://sns..amazonaws.com/x.pem",
    "https://sns.us-east-1.amazonaws.com /x.pem",
    "ftp://sns.us-east-1.amazonaws.com/x.pem",
    "//sns.us-east-1.amazonaws.com/x.pem",
    "",
]


@pytest.mark.parametrize("url", BAD_CERT_URLS)
def test_untrusted_certificate_urls_are_never_fetched(key: rsa.RSAPrivateKey, fetch: Fetcher, url: str) -> None:
    message = signed(key, notification(SigningCertURL=url))
    assert sns.verify_sns(message, fetch_certificate=fetch) is False
    assert fetch.calls == []


def test_certificate_host_is_checked_before_the_signature(key: rsa.RSAPrivateKey, pem: bytes) -> None:
    fetch = Fetcher(pem)
    message = signed(key, notification())
    assert sns.verify_sns({**message, "SigningCertURL": "https://evil.com/x.pem"}, fetch_certificate=fetch) is False
    assert fetch.calls == []


@pytest.mark.parametrize("url", [
    "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
    "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-x.pem",
    "https://sns.us-gov-west-1.amazonaws.com/SimpleNotificationService-x.pem",
    "https://sns.ap-southeast-5.amazonaws.com:443/SimpleNotificationService-x.pem",
])
def test_trusted_certificate_urls(url: str) -> None:
    assert sns.is_trusted_certificate_url(url) is True


@pytest.mark.parametrize("url", [
    "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-west-2:1:T&Token=x",
    "https://sns.eu-central-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:eu-central-1:1:T:x",
])
def test_trusted_subscribe_urls(url: str) -> None:
    assert sns.is_trusted_sns_url(url) is True


@pytest.mark.parametrize("url", [u for u in BAD_CERT_URLS if ".txt" not in u and "?x=1" not in u
                                 and not u.endswith(".com/")] + [None, 42])
def test_untrusted_subscribe_urls(url: Any) -> None:
    assert sns.is_trusted_sns_url(url) is False


def test_real_samples_parse_and_their_urls_are_trusted(fetch: Fetcher) -> None:
    """The docs samples carry placeholder signatures ("EXAMPLE..."): they cannot verify offline without
    AWS's certificate, and must not verify with ours - but their structure and URLs are the real thing."""
    for name in ("sns_subscription_confirmation", "sns_ses_received_sns_action"):
        body, meta = sample("ses", name)
        message = sns.parse_sns_envelope(body.encode())
        assert message["Type"] == meta["http"]["headers"]["x-amz-sns-message-type"]
        assert message["MessageId"] == meta["http"]["headers"]["x-amz-sns-message-id"]
        assert sns.string_to_sign(message) is not None
        assert sns.is_trusted_certificate_url(message["SigningCertURL"]) is True
        for key in ("SubscribeURL", "UnsubscribeURL"):
            if key in message:
                assert sns.is_trusted_sns_url(message[key]) is True
        assert sns.verify_sns(message, fetch_certificate=fetch) is False


# ------------------------------------------------------------------------------- cache and envelope

def test_certificate_cache_fetches_each_url_once(key: rsa.RSAPrivateKey, fetch: Fetcher) -> None:
    cache = sns.CertificateCache(fetch)
    for version in ("1", "2", "1"):
        assert sns.verify_sns(signed(key, notification(), version), fetch_certificate=cache) is True
    assert fetch.calls == [CERT_URL]
    assert CERT_URL in cache
    cache.clear()
    assert CERT_URL not in cache


def test_certificate_cache_does_not_keep_failures(pem: bytes) -> None:
    answers: list[Callable[[], bytes]] = [lambda: (_ for _ in ()).throw(OSError("down")), lambda: pem]

    def flaky(url: str) -> bytes:
        return answers.pop(0)()

    cache = sns.CertificateCache(flaky)
    with pytest.raises(OSError):
        cache(CERT_URL)
    assert cache(CERT_URL) == pem


def test_certificate_cache_is_bounded(pem: bytes) -> None:
    cache = sns.CertificateCache(lambda url: pem, max_entries=2)
    for i in range(3):
        cache(f"https://sns.us-east-1.amazonaws.com/{i}.pem")
    assert "https://sns.us-east-1.amazonaws.com/0.pem" not in cache
    assert "https://sns.us-east-1.amazonaws.com/2.pem" in cache


def test_module_level_cache_exists() -> None:
    assert isinstance(sns.certificates, sns.CertificateCache)


def test_download_refuses_untrusted_urls() -> None:
    with pytest.raises(ValueError, match="not an SNS certificate URL"):
        sns.download_certificate("https://evil.com/x.pem")


@pytest.mark.parametrize("raw", [b"", b"not json", b"[1, 2]", b'{"Type": 3}', b'{"no": "type"}', b"\xff\xfe"])
def test_envelope_rejects_non_json(raw: bytes) -> None:
    with pytest.raises(BadRequest):
        sns.parse_sns_envelope(raw)


def test_envelope_keeps_unicode() -> None:
    body = json.dumps(notification(), ensure_ascii=False).encode()
    assert json.loads(sns.parse_sns_envelope(body)["Message"])["content"] == "Grüße ✓"
