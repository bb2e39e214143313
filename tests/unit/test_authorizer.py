"""The local JWT authorizer checks what API Gateway's JWT authorizer checks: signature by kid, iss, aud (or
client_id only when there is no aud), exp, nbf, iat, the route's scopes; and not token_use."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from local.authorizer import JwtVerifier
from local.functions import JwtAuthorizer

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool"
CLIENT = "client-of-this-api"
AUTHORIZER = JwtAuthorizer(name="AgentJwt", header="authorization", issuer=ISSUER, audience=(CLIENT,))
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


class _Verifier(JwtVerifier):
    """The verifier with the pool's JWKS replaced by one key, ``kid`` "k1"."""

    def _key(self, issuer: str, kid: str | None) -> Any:
        if issuer != ISSUER or kid != "k1":
            raise jwt.InvalidTokenError("no such key")
        return KEY.public_key()


def _token(key: Any = KEY, kid: str = "k1", **changes: Any) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {"iss": ISSUER, "aud": CLIENT, "token_use": "id", "cognito:username": "alice",
                              "iat": now - 5, "exp": now + 3600}
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def _check(token: str, scopes: tuple[str, ...] = ()) -> int:
    return _Verifier("http://moto").check(AUTHORIZER, {"authorization": f"Bearer {token}"}, scopes).status


def test_an_id_token_of_the_pool_for_this_client_passes_with_its_claims_as_strings():
    result = _Verifier("http://moto").check(AUTHORIZER, {"authorization": _token()}, ())   # no "Bearer " is fine
    assert result.ok and result.claims["cognito:username"] == "alice" and result.claims["exp"].isdigit()


def test_an_access_token_passes_on_its_client_id():
    assert _check(_token(aud=None, client_id=CLIENT, token_use="access", username="alice")) == 200


@pytest.mark.parametrize("changes", [
    {"aud": "another-client"},                                   # another app's ID token
    {"aud": "another-client", "client_id": CLIENT},              # client_id counts only when there is no aud
    {"aud": None, "client_id": "another-client"},
    {"aud": None},                                               # neither
    {"aud": ["another-client"]},
], ids=["aud", "aud-wins-over-client_id", "client_id", "no-audience", "aud-list"])
def test_a_token_for_another_client_is_refused(changes):
    assert _check(_token(**changes)) == 401


def test_a_list_aud_naming_this_client_passes():
    assert _check(_token(aud=["another-client", CLIENT])) == 200


@pytest.mark.parametrize("changes", [
    lambda: {"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"},
    lambda: {"exp": int(time.time()) - 1},
    lambda: {"exp": None},
    lambda: {"nbf": int(time.time()) + 600},
    lambda: {"iat": int(time.time()) + 600},
], ids=["issuer", "expired", "no-exp", "not-before", "issued-in-the-future"])
def test_issuer_and_times_are_checked(changes):
    # the times are taken when the test runs, not when the suite was collected (a long run outlives 600 s)
    assert _check(_token(**changes())) == 401


def test_signature_and_key_id_are_checked():
    assert _check(_token(key=OTHER_KEY)) == 401
    assert _check(_token(kid="k2")) == 401
    header, _payload, signature = _token().split(".")
    assert _check(f"{header}.{_token(username='mallory').split('.')[1]}.{signature}") == 401


def test_token_use_is_not_checked_as_api_gateway_does_not():
    # an ID token whose token_use says something else passes: the function decides what it names
    assert _check(_token(token_use="refresh")) == 200


def test_a_route_with_scopes_needs_one_of_them():
    assert _check(_token(), scopes=("agent/read",)) == 403
    assert _check(_token(scope="openid agent/read"), scopes=("agent/read", "agent/write")) == 200
