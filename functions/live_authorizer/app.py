"""The WebSocket API's $connect authorizer: the same Cognito ID token as the HTTP APIs, in ``?token=``.

A valid token: Allow, with the agent, their groups and when the token expires as the authorizer's context (the
connections function keeps them: the socket's roles hold until then). Anything else: ``Unauthorized``, which API
Gateway answers with 401.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import APIGatewayAuthorizerRequestEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from shopdesk.api.tokens import InvalidToken, TokenVerifier
from shopdesk.config import LiveAuthorizerSettings
from shopdesk.logs import logger_for

settings = LiveAuthorizerSettings.from_env()
logger = logger_for()
verifier = TokenVerifier(settings.token_issuer, settings.token_audience, settings.jwks_url)


@logger.inject_lambda_context
@event_source(data_class=APIGatewayAuthorizerRequestEvent)
def lambda_handler(event: APIGatewayAuthorizerRequestEvent, context: LambdaContext) -> dict:
    try:
        caller = verifier.verify((event.query_string_parameters or {}).get("token"))
    except InvalidToken as exc:
        logger.info("connection refused", extra={"reason": str(exc)})
        raise Exception("Unauthorized") from None   # the exact message API Gateway answers with 401
    # Powertools' response builder knows REST verbs only: a WebSocket policy names the $connect ARN itself
    return {
        "principalId": caller.agent_id,
        "policyDocument": {"Version": "2012-10-17", "Statement": [
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event.method_arn}]},
        "context": {"agent": caller.agent_id, "name": caller.name or "", "roles": " ".join(sorted(caller.roles)),
                    "expires": caller.expires},
    }
