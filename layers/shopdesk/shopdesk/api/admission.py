"""Who is let in: one middleware for the agent, admin and reports APIs, before any route runs.

API Gateway's JWT authorizer lets in any valid token of the pool, and a token lives up to an hour; an agent an admin
took off the desk (``POST /admin/agents/{id}/deactivate``) must be out at once. So every request but the public
documents (``openapi.documents``) reads the caller's agent record, once, and a deactivated caller gets 403 with the
problem code ``deactivated`` (the inbox signs them out, saying their access was removed); the record read is kept
for that request's own access checks (``shopdesk.logic.access.admitted``), never for the next one. A token that
names no agent is refused here too (403), as every route that names its caller did. It runs before Powertools'
request validation too, so a deactivated caller's malformed request is a 403 as well, not a 422.
Each such refusal is a denied audit record (reason ``deactivated``): shopdesk.privacy.audit wraps the admission.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from shopdesk.api.agent import caller
from shopdesk.dal.agents import Agents
from shopdesk.logic.access import admitted

if TYPE_CHECKING:          # the event handler is imported by the API functions only
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
    from aws_lambda_powertools.event_handler.middlewares import NextMiddleware


def install(app: APIGatewayHttpResolver, agents: Agents, public: Iterable[str]) -> None:
    """Admit each request of ``app`` before anything else runs; ``public``: the paths API Gateway routes with no
    authorizer, which have no caller to admit. Call it before the first request."""
    open_paths = frozenset(public)

    def admission(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response:
        event = app.current_event
        if event.path in open_paths:
            return next_middleware(app)
        with admitted(agents, caller(event).id):
            return next_middleware(app)

    validation = getattr(app, "_request_validation_middleware", None)
    if validation is None:                    # an app that validates nothing
        app.use(middlewares=[admission])
        return

    # Powertools puts its request validation in front of every middleware an app uses (``_build_middleware_stack``):
    # the admission goes in front of it, and hands on to it
    def admission_then_validation(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response:
        def validated(app: APIGatewayHttpResolver) -> Response:
            return validation(app, next_middleware)  # type: ignore[no-any-return]

        return admission(app, validated)

    app._request_validation_middleware = admission_then_validation
