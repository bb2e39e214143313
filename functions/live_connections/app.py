"""The WebSocket API's routes: $connect keeps the connection under the agent's teams (an agent an admin took off the
desk: refused, 403; teams that kept changing while it opened: 409, the inbox connects again),
$disconnect forgets it, $default answers pings."""

from __future__ import annotations

import json

from aws_lambda_powertools.utilities.typing import LambdaContext

from shopdesk import bounds
from shopdesk.config import LiveSettings
from shopdesk.dal.agents import Agents
from shopdesk.dal.live import ConnectionPoster, Connections
from shopdesk.dal.table import Table
from shopdesk.errors import BadRequest, Conflict, Deactivated
from shopdesk.logic.admin import roles
from shopdesk.logic.live import LiveConnections
from shopdesk.logs import logger_for

settings = LiveSettings.from_env()
logger = logger_for()
table = Table(settings.table_name)
live = LiveConnections(Connections(table, settings.due_shards), Agents(table))   # shards: the expiry timer's
poster = ConnectionPoster(settings.connections_endpoint)
PONG = json.dumps({"type": "pong"}).encode()


def expiry(value: object) -> int | None:
    """The token's ``exp`` the authorizer passed (API Gateway hands context values on as strings, or numbers)."""
    try:
        return int(str(value)) if value not in (None, "") else None
    except ValueError:
        return None


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    request = event.get("requestContext") or {}
    route, connection_id = request.get("routeKey"), str(request.get("connectionId"))
    if route == "$connect":
        authorizer = request.get("authorizer") or {}
        if not authorizer.get("agent"):
            return {"statusCode": 401, "body": "Unauthorized"}     # only reachable without the authorizer
        try:
            live.connect(connection_id, str(authorizer["agent"]), roles(authorizer.get("roles")),
                         token_expires=expiry(authorizer.get("expires")))
        except Deactivated as exc:
            logger.info("connection refused", extra={"reason": str(exc)})
            return {"statusCode": 403, "body": "Forbidden"}      # API Gateway refuses the socket's opening
        except Conflict as exc:          # the agent's teams kept changing: the inbox connects again
            logger.info("connection refused", extra={"reason": str(exc)})
            return {"statusCode": 409, "body": "Conflict"}
        return {"statusCode": 200}
    if route == "$disconnect":
        live.disconnect(connection_id)
        return {"statusCode": 200}
    try:        # an agent's frame, read as the APIs read bodies: one the decoder cannot read is ignored, not an error
        message = bounds.decode(event.get("body") or "", "the frame")
    except (TypeError, ValueError, BadRequest):
        message = None
    if isinstance(message, dict) and message.get("type") == "ping":
        poster.post(connection_id, PONG)
    return {"statusCode": 200}
