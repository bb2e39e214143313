"""The WebSocket API's $connect authorizer: the same Cognito ID token as the HTTP APIs, in ``?token=``.

A valid token: Allow, with the agent and their groups as the authorizer's context (the connections
function reads them). Anything else: ``Unauthorized``, which API Gateway answers with 401.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponse,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from shopdesk.api.tokens import InvalidToken, TokenVerifier
from shopdesk.config import LiveAuthorizerSettings

settings = LiveAuthorizerSettings.from_env()
logger = Logger()
verifier = TokenVerifier(settings.token_issuer, settings.token_audience, settings.jwks_url)


@logger.inject_lambda_context
@event_source(data_class=APIGatewayAuthorizerRequestEvent)
def lambda_handler(event: APIGatewayAuthorizerRequestEvent, context: LambdaContext) -> dict:
    try:
        caller = verifier.verify((event.query_string_parameters or {}).get("token"))
    except InvalidToken as exc:
        logger.info("connection refused", extra={"reason": str(exc)})
        raise Exception("Unauthorized") from None   # the exact message API Gateway answers with 401
    arn = event.parsed_arn
    response = APIGatewayAuthorizerResponse(
        principal_id=caller.agent_id, region=arn.region, aws_account_id=arn.aws_account_id, api_id=arn.api_id,
        stage=arn.stage, context={"agent": caller.agent_id, "name": caller.name or "",
                                  "roles": " ".join(sorted(caller.roles))})
    response.allow_all_routes()
    return response.asdict()
