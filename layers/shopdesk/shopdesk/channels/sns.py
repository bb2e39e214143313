"""Amazon SNS HTTPS subscriptions: message signatures, trusted URLs, the JSON envelope.

Rules from the SNS developer guide ("Verifying the signatures of Amazon SNS messages"):

- the string to sign is ``Key\\nValue\\n`` for a fixed list of keys per message Type, in byte order,
  with the JSON-decoded values (``Subject`` only when present);
- ``SignatureVersion`` 1 is SHA1withRSA, 2 is SHA256withRSA (RSA PKCS#1 v1.5); anything else is rejected;
- the certificate is fetched only from ``https://sns.<region>.amazonaws.com[.cn]/...pem`` - checked
  before anything is fetched - and cached by URL;
- ``SubscribeURL`` / ``UnsubscribeURL`` must pass the same host check before anyone GETs them.

``verify_sns`` never raises: anything wrong (missing key, bad base64, fetch failure, a certificate
that is not RSA) is False.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature as CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from shopdesk.bounds import loads
from shopdesk.errors import BadRequest

# Keys of the string to sign, per message Type (already in byte order).
SIGNED_KEYS: dict[str, tuple[str, ...]] = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
    "UnsubscribeConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
}
OPTIONAL_KEYS = {"Subject"}
HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}

_SNS_HOST = re.compile(r"^sns\.[a-z0-9]+(?:-[a-z0-9]+)*\.amazonaws\.com(?:\.cn)?$")
MAX_CERTIFICATE_BYTES = 64 * 1024


def is_trusted_sns_url(url: Any) -> bool:
    """True for an ``https://sns.<region>.amazonaws.com[.cn]/...`` URL (SigningCertURL, SubscribeURL,
    UnsubscribeURL): no user info, no port other than 443, nothing a URL parser could read two ways."""
    if not isinstance(url, str) or not url or len(url) > 4096:
        return False
    if any(c.isspace() or ord(c) < 0x21 or ord(c) == 0x7F for c in url) or "\\" in url:
        return False
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    if parts.scheme != "https" or "@" in parts.netloc or port not in (None, 443):
        return False
    return bool(parts.hostname and _SNS_HOST.match(parts.hostname))


def is_trusted_certificate_url(url: Any) -> bool:
    """A SigningCertURL we may fetch: a trusted SNS URL whose path ends in ``.pem``."""
    if not is_trusted_sns_url(url):
        return False
    parts = urllib.parse.urlsplit(url)
    return parts.path.endswith(".pem") and not parts.query and not parts.fragment


def string_to_sign(message: Mapping[str, Any]) -> str | None:
    """The canonical string SNS signed, or None when the Type is unknown or a required key is missing."""
    keys = SIGNED_KEYS.get(message.get("Type")) if isinstance(message.get("Type"), str) else None
    if keys is None:
        return None
    out: list[str] = []
    for key in keys:
        value = message.get(key)
        if value is None:
            if key in OPTIONAL_KEYS:
                continue
            return None
        if not isinstance(value, str):
            return None
        out.append(f"{key}\n{value}\n")
    return "".join(out)


def download_certificate(url: str, timeout: float = 5.0) -> bytes:
    """GET a signing certificate (the caller has checked the URL)."""
    if not is_trusted_certificate_url(url):
        raise ValueError("not an SNS certificate URL")
    request = urllib.request.Request(url, headers={"User-Agent": "shopdesk"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        data = response.read(MAX_CERTIFICATE_BYTES + 1)
    if len(data) > MAX_CERTIFICATE_BYTES:
        raise ValueError("certificate too large")
    return data


class CertificateCache:
    """Certificates by URL around a fetch function: SNS signs with a handful of certificates, so a
    warm Lambda fetches each once. Failures are not cached. Thread-safe; bounded (least recently used
    evicted)."""

    def __init__(self, fetch: Callable[[str], bytes], max_entries: int = 32) -> None:
        self._fetch = fetch
        self._max = max_entries
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, url: str) -> bytes:
        with self._lock:
            if url in self._items:
                self._items.move_to_end(url)
                return self._items[url]
        data = self._fetch(url)
        with self._lock:
            self._items[url] = data
            self._items.move_to_end(url)
            while len(self._items) > self._max:
                self._items.popitem(last=False)
        return data

    def __contains__(self, url: object) -> bool:
        with self._lock:
            return url in self._items

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


certificates = CertificateCache(download_certificate)


def verify_sns(message: Mapping[str, Any], *, fetch_certificate: Callable[[str], bytes] = certificates,
               expected_topic_arns: Collection[str] | None = None) -> bool:
    """True when the message is signed by SNS (and, when given, comes from one of the expected topics)."""
    try:
        return _verify(message, fetch_certificate, expected_topic_arns)
    except Exception:
        return False


def _verify(message: Mapping[str, Any], fetch_certificate: Callable[[str], bytes],
            expected_topic_arns: Collection[str] | None) -> bool:
    if not isinstance(message, Mapping):
        return False
    algorithm = HASHES.get(str(message.get("SignatureVersion")))
    if algorithm is None or isinstance(message.get("SignatureVersion"), bool):
        return False
    if expected_topic_arns is not None and message.get("TopicArn") not in expected_topic_arns:
        return False
    payload = string_to_sign(message)
    cert_url = message.get("SigningCertURL")
    signature_b64 = message.get("Signature")
    if payload is None or not isinstance(signature_b64, str) or not is_trusted_certificate_url(cert_url):
        return False
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError):
        return False
    if not signature:
        return False
    certificate = x509.load_pem_x509_certificate(fetch_certificate(cert_url))
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        return False
    try:
        key.verify(signature, payload.encode("utf-8"), padding.PKCS1v15(), algorithm())
    except CryptoInvalidSignature:
        return False
    return True


def parse_sns_envelope(raw: bytes | str) -> dict[str, Any]:
    """The JSON body SNS POSTs (sent as ``text/plain; charset=UTF-8``). BadRequest unless it is a JSON
    object with a string ``Type``."""
    body = loads(raw, "the SNS message")
    if not isinstance(body, dict) or not isinstance(body.get("Type"), str):
        raise BadRequest("the SNS message is not a JSON object with a Type")
    return body
