"""The widget's WebSocket API: $connect lists a visitor's socket under their conversation, $disconnect forgets it.

A refused $connect answers 401 (no or a bad session), 403 (an Origin the widget may not be used from), 404 (no
conversation yet) or 429 (too many sockets of the visitor); API Gateway then refuses the upgrade with that status.
No frame reaches this function: the widget's only one, its keepalive, goes to the API's $default route, a MOCK
integration that API Gateway answers itself (template.yaml), and nothing is sent back on it.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.typing import LambdaContext

from shopdesk.config import WidgetLiveSettings
from shopdesk.dal.conversations import Conversations
from shopdesk.dal.live import Connections
from shopdesk.dal.ratelimits import RateLimits
from shopdesk.dal.secrets import json_secret
from shopdesk.dal.table import Table
from shopdesk.errors import InvalidSignature, NotFound
from shopdesk.logic.widget import OriginRefused, RateLimited, VisitorSockets
from shopdesk.logs import logger_for

settings = WidgetLiveSettings.from_env()
logger = logger_for()
table = Table(settings.table_name)
_sockets: VisitorSockets | None = None


def sockets() -> VisitorSockets:
    global _sockets
    if _sockets is None:
        secret = json_secret(settings.webchat_secret_arn)
        _sockets = VisitorSockets(Conversations(table, settings.due_shards), Connections(table), RateLimits(table),
                                  settings.origins, secret["session_secret"])
    return _sockets


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    request = event.get("requestContext") or {}
    route, connection_id = request.get("routeKey"), str(request.get("connectionId"))
    if route == "$connect":
        headers = {str(k).lower(): v for k, v in (event.get("headers") or {}).items()}
        query = event.get("queryStringParameters") or {}
        try:
            sockets().connect(connection_id, headers.get("origin"), query.get("session"))
        except OriginRefused as exc:
            logger.info("visitor socket refused", extra={"reason": str(exc)})
            return {"statusCode": 403, "body": "Forbidden"}
        except InvalidSignature as exc:
            logger.info("visitor socket refused", extra={"reason": str(exc)})
            return {"statusCode": 401, "body": "Unauthorized"}
        except RateLimited:
            return {"statusCode": 429, "body": "Too Many Requests"}
        except NotFound:
            return {"statusCode": 404, "body": "Not Found"}
        return {"statusCode": 200}
    if route == "$disconnect":
        sockets().disconnect(connection_id)
    return {"statusCode": 200}
