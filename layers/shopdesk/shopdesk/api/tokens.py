"""Cognito ID tokens checked the way the HTTP API's JWT authorizer checks them, for the WebSocket API
(whose authorizers are Lambda functions: API Gateway has no JWT authorizer for WebSockets).

RS256 only, the key found by ``kid`` in the user pool's JWKS (cached; fetched again for an unknown
``kid`` after a key rotation), ``iss`` equal to the pool's issuer, ``aud`` equal to the app client,
``token_use`` ``id``, ``exp`` in the future (``iat``/``nbf`` not in the future).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jwt

from shopdesk.logic.admin import roles


class InvalidToken(Exception):
    pass


@dataclass(frozen=True)
class TokenCaller:
    agent_id: str
    name: str | None
    roles: frozenset[str]
    expires: int        # the token's ``exp``, epoch seconds: its groups are the roles until then


class TokenVerifier:
    def __init__(self, issuer: str, audience: str, jwks_url: str):
        self.issuer = issuer
        self.audience = audience
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=3600, timeout=5)

    def verify(self, token: str | None) -> TokenCaller:
        if not token:
            raise InvalidToken("no token")
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") != "RS256":
                raise InvalidToken(f"alg {header.get('alg')!r} is not RS256")
            key = self._jwks.get_signing_key(str(header.get("kid") or ""))
            claims: dict[str, Any] = jwt.decode(
                token, key.key, algorithms=["RS256"], issuer=self.issuer, audience=self.audience,
                options={"require": ["exp", "iss", "aud", "iat"]})
        except InvalidToken:
            raise
        except (jwt.PyJWTError, OSError, ValueError) as exc:
            raise InvalidToken(f"{type(exc).__name__}: {exc}") from exc
        if claims.get("token_use", "id") != "id":
            raise InvalidToken("not an ID token")
        agent_id = claims.get("cognito:username") or claims.get("username")
        if not agent_id:
            raise InvalidToken("the token names no agent")
        return TokenCaller(agent_id=str(agent_id), name=claims.get("name"),
                           roles=frozenset(roles(claims.get("cognito:groups"))), expires=int(claims["exp"]))
