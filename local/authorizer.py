"""The HTTP API JWT authorizer, checked the way API Gateway checks it.

What API Gateway's JWT authorizer validates (its developer guide, "Control access to HTTP APIs with JWT
authorizers"), and so what this module does, no more and no less:

1. the token from the identity source, with or without ``Bearer ``;
2. the signature, with the key of the issuer's JWKS whose ``kid`` the token's header names (RS256);
3. ``iss``: equal to the authorizer's issuer;
4. ``aud`` or ``client_id``: one of the authorizer's audiences. ``client_id`` is looked at only when the
   token has no ``aud``: a Cognito ID token is checked on ``aud``, an access token on ``client_id``, and
   a token whose ``aud`` names another client is refused whatever its ``client_id`` says;
5. ``exp`` after the current time, ``nbf`` and ``iat`` (when present) not after it;
6. ``scope`` (or ``scp``): one of the route's authorization scopes, when the route names any.

API Gateway does not look at ``token_use``: its guide says there is no standard way to tell an access
token from an ID token, and accepts both when they pass the checks above. Neither does this module; the
agent API decides from ``token_use`` which claim names the agent (shopdesk.api.agent.caller).

Failure is 401 ``Unauthorized`` (403 ``Forbidden`` for missing scopes) and the function is not invoked.
On success the claims reach the function as strings under ``requestContext.authorizer.jwt``. Times are
checked against the real time, not the local stack's movable clock (tokens are real).

The Cognito issuer ``https://cognito-idp.<region>.amazonaws.com/<pool>`` is what moto writes into
``iss`` too, so the template's issuer is used unchanged; only the JWKS is fetched from the moto
server (``<endpoint>/<pool>/.well-known/jwks.json``) instead of the public Cognito host.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import jwt

from local.functions import JwtAuthorizer

log = logging.getLogger("authorizer")

_COGNITO_ISSUER = re.compile(r"^https://cognito-idp\.[a-z0-9-]+\.amazonaws\.com/(?P<pool>[\w-]+)$")


@dataclass
class AuthResult:
    status: int  # 200 when authorised
    claims: dict[str, str] = field(default_factory=dict)
    scopes: list[str] | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200


def claim_string(value: Any) -> str:
    """API Gateway hands claims to the integration as strings; arrays look like ``[a b]``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(claim_string(item) for item in value) + "]"
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def audience_matches(claims: dict[str, Any], audiences: tuple[str, ...]) -> bool:
    """``aud`` (a string or a list) names one of the audiences; ``client_id`` counts only without ``aud``."""
    if "aud" in claims:
        aud = claims["aud"]
        return any(str(value) in audiences for value in (aud if isinstance(aud, list) else [aud]))
    return claims.get("client_id") is not None and str(claims["client_id"]) in audiences


class JwtVerifier:
    def __init__(self, moto_endpoint: str) -> None:
        self.moto_endpoint = moto_endpoint
        self._jwks: dict[str, jwt.PyJWKSet] = {}
        self._lock = threading.Lock()

    def jwks_url(self, issuer: str) -> str | None:
        match = _COGNITO_ISSUER.match(issuer)
        if match is None:
            return None
        return f"{self.moto_endpoint}/{match.group('pool')}/.well-known/jwks.json"

    def _key(self, issuer: str, kid: str | None) -> Any:
        url = self.jwks_url(issuer)
        if url is None:
            raise jwt.InvalidTokenError(f"issuer {issuer} is not a Cognito user pool of this stack")
        with self._lock:
            for attempt in range(2):
                if issuer not in self._jwks or attempt == 1:
                    with urllib.request.urlopen(url, timeout=5) as response:  # moto on loopback
                        self._jwks[issuer] = jwt.PyJWKSet.from_dict(json.load(response))
                for key in self._jwks[issuer].keys:
                    if key.key_id == kid:
                        return key.key
        raise jwt.InvalidTokenError(f"no key {kid!r} in the issuer's JWKS")

    def check(
        self, authorizer: JwtAuthorizer | None, headers: dict[str, str], scopes: tuple[str, ...]
    ) -> AuthResult:
        if authorizer is None:
            return AuthResult(401, reason="the route's authorizer is not a JWT authorizer of the API")
        raw = headers.get(authorizer.header, "").strip()
        if raw[:7].lower() == "bearer ":
            raw = raw[7:].strip()
        if not raw:
            return AuthResult(401, reason=f"no token in the {authorizer.header} header")
        try:
            header = jwt.get_unverified_header(raw)
            if header.get("alg") != "RS256":
                raise jwt.InvalidAlgorithmError(f"alg {header.get('alg')} is not RS256")
            key = self._key(authorizer.issuer, header.get("kid"))
            claims = jwt.decode(
                raw,
                key,
                algorithms=["RS256"],
                issuer=authorizer.issuer,
                options={"verify_aud": False, "verify_exp": True, "verify_nbf": True, "verify_iat": True,
                         "require": ["exp", "iss"]},
            )
        except (jwt.PyJWTError, OSError, ValueError) as error:
            return AuthResult(401, reason=f"{type(error).__name__}: {error}")
        if not audience_matches(claims, authorizer.audience):
            return AuthResult(401, reason=f"{'aud' if 'aud' in claims else 'client_id'} is not one of "
                                          f"{list(authorizer.audience)}")
        token_scopes = str(claims.get("scope") or claims.get("scp") or "").split() or None
        if scopes and not set(scopes) & set(token_scopes or []):
            return AuthResult(403, reason=f"none of the route's scopes {list(scopes)} in the token")
        return AuthResult(200, claims={k: claim_string(v) for k, v in claims.items()}, scopes=token_scopes)
