"""Publish an API's OpenAPI document (``<prefix>/openapi.json``) and its Swagger page (``<prefix>/swagger``)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

VERSION = "1"

AGENT_JWT = "agentJwt"
AGENT_JWT_SCHEME = HTTPBearer(bearerFormat="JWT", description="A Cognito ID or access token of an agent; API "
                              "Gateway's JWT authorizer checks it before the function runs (401 if it fails).")


def documents(prefix: str) -> tuple[str, str]:
    """The paths of an API's OpenAPI document and Swagger page: public, the only routes without a caller."""
    return f"{prefix}/openapi.json", f"{prefix}/swagger"


def publish(app: APIGatewayHttpResolver, prefix: str, *, title: str, description: str,
            security_schemes: dict[str, Any] | None = None, security: list[dict[str, list[str]]] | None = None
            ) -> None:
    """Serve the document and a Swagger page (both public: API Gateway routes them with no authorizer)."""
    settings: dict[str, Any] = {"title": title, "version": VERSION, "description": description,
                                "security_schemes": security_schemes, "security": security}
    document, swagger = documents(prefix)
    app.enable_swagger(path=swagger, **settings)

    @app.get(document, include_in_schema=False)
    def openapi():  # type: ignore[no-untyped-def]  # no return annotation: a bare Response has no schema
        return Response(200, content_types.APPLICATION_JSON, app.get_openapi_json_schema(**settings))
