"""API Gateway WebSocket APIs on one machine: the template's routes, authorizer and @connections API.

Read from template.yaml like the HTTP API: every ``AWS::ApiGatewayV2::Api`` with ``ProtocolType:
WEBSOCKET``, its ``AWS::ApiGatewayV2::Route``s (``Target: integrations/<id>``) and their
integrations (``AWS_PROXY``: a function; ``MOCK``: none), the ``REQUEST`` authorizer of ``$connect`` and the stage.
Served with the ``websockets`` library at ``ws://127.0.0.1:<WS_PORT>/<stage>`` (``WS_PORT``
defaults to PORT + 1), as API Gateway serves ``wss://<api>.execute-api.<region>.amazonaws.com/<stage>``; each
API has a host of its own in AWS, here a path: the first API of a stage at ``/<stage>``, any other at
``/<logical id>/<stage>`` (the widget's, ``/WidgetLiveApi/dev``). A function's environment that names an API's
``wss://`` URL gets its local ``ws://`` URL:

- the upgrade: every identity source of the authorizer must be present (else 401, the authorizer is
  not invoked); the authorizer gets the ``REQUEST`` event and must answer a policy allowing
  ``execute-api:Invoke`` on the ``methodArn`` (a Deny is 403, an ``Unauthorized`` error 401, any
  other failure 500); then ``$connect`` is invoked and the socket is accepted only if it answers 2xx;
- each frame is routed by the API's route selection expression (``$request.body.<field>``), else
  to ``$default`` (a frame that is not JSON, or that the decoder cannot read, too); the integration's
  answer is not sent back (no route responses, as in AWS); a route whose integration is ``MOCK`` takes
  the frame and invokes nothing (a keepalive);
- a close invokes ``$disconnect``; the authorizer's context reaches every route in
  ``requestContext.authorizer``;
- the @connections management API (PostToConnection, GetConnection, DeleteConnection) is served by
  the gateway at ``/_local/live/<api>/<stage>/@connections/<id>``; the functions reach it through
  boto3's ``apigatewaymanagementapi`` client because the stack rewrites the template's
  ``https://<api>.execute-api.<region>.amazonaws.com/<stage>`` in their environment to that URL. A
  connection that is not open answers 410 ``GoneException``: one whose ``$connect`` has not answered yet
  too, as in AWS; one ``$connect`` accepted is open from that moment (a post waits for the 101 to go out);
- the idle timeout: a socket with no message either way (a frame from the client, or a post to it) for
  ``idle_timeout`` seconds (``LIVE_IDLE_TIMEOUT_S``, 600 as in AWS; 0 turns it off) is closed by the gateway
  with 1001 "Going away", and ``$disconnect`` is invoked with that code, as API Gateway does. WebSocket
  control frames (the library's pings and pongs) are not messages and do not count.

Not emulated: the 2-hour limit, frame size limits, route responses.
"""

from __future__ import annotations

import asyncio
import base64
import fnmatch
import json
import logging
import re
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from local.functions import FunctionSpec
from local.hosts import foreign_host
from local.settings import ACCOUNT_ID
from local.template import Resolver, TemplateError

if TYPE_CHECKING:
    from local.provision import Provisioner
    from local.runtime import Invocation, Runtime

log = logging.getLogger("websocket")

MANAGEMENT_PATH = re.compile(r"^/_local/live/(?P<api>[^/]+)/(?P<stage>[^/]+)/@connections/(?P<id>[^/]+)$")
_EXECUTE_API = re.compile(r"https://(?P<api>[\w-]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com/(?P<stage>[\w-]+)")
_WSS_API = re.compile(r"wss://(?P<api>[\w-]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com/(?P<stage>[\w-]+)")
HANDSHAKE_SECONDS = 5.0  # how long a post waits for the 101 of a connection $connect accepted
# API Gateway's "Idle Connection Timeout" quota (10 minutes, not adjustable). What counts as activity: a message
# either way, so a post to the connection (@connections) resets the clock as a client's frame does. AWS's quota
# table gives only the name and the value; a service built on API Gateway WebSockets documents keeping sockets
# open with server-sent keepalives alone (one every 9.5 minutes, until the 2-hour limit closes them), which could
# not work if only the client's frames counted. The widget does not depend on it: it sends its own keepalive
# whatever it hears, so it stays open either way.
IDLE_TIMEOUT_SECONDS = 600.0
# How API Gateway closes an idle socket, as its $disconnect event reports it (requestContext.disconnectStatusCode
# and disconnectReason, about ten minutes after connectedAt).
IDLE_CLOSE = (1001, "Going away")
_JWKS = re.compile(r"https://cognito-idp\.[a-z0-9-]+\.amazonaws\.com/(?P<pool>[\w-]+)/\.well-known/jwks\.json")


# ---------------------------------------------------------------- the template's WebSocket APIs


@dataclass(frozen=True)
class WsAuthorizer:
    name: str
    function: str  # logical id
    identity_sources: tuple[str, ...]  # route.request.querystring.token, route.request.header.X


@dataclass(frozen=True)
class WsRoute:
    key: str
    function: str | None  # logical id of the AWS_PROXY integration's function
    authorizer: WsAuthorizer | None
    mock: bool = False    # a MOCK integration: the frame is taken, nothing is invoked or answered
    mock_status: int = 200  # what a MOCK integration's request template answers ({"statusCode": 200})


@dataclass
class WebSocketApi:
    logical_id: str
    api_id: str
    stage: str
    selection_expression: str
    routes: dict[str, WsRoute] = field(default_factory=dict)
    path: str = ""          # where it is served: "/<stage>", or "/<logical id>/<stage>" after the first of a stage

    def __post_init__(self) -> None:
        self.path = self.path or f"/{self.stage}"


def _function_of(uri: Any, functions: dict[str, FunctionSpec]) -> str:
    for spec in functions.values():
        if spec.arn in str(uri):
            return spec.logical_id
    raise TemplateError(f"{uri} does not name a function of the template")


def read_websocket_apis(
    template: dict[str, Any], resolver: Resolver, provisioner: Provisioner, functions: dict[str, FunctionSpec]
) -> list[WebSocketApi]:
    resources = template["Resources"]

    def of_type(kind: str) -> list[tuple[str, dict[str, Any]]]:
        return [
            (lid, resolver.resolve(resources[lid].get("Properties") or {}))
            for lid in provisioner.of_type(kind)
            if resolver.resource_enabled(lid)
        ]

    apis: list[WebSocketApi] = []
    for logical_id, props in of_type("AWS::ApiGatewayV2::Api"):
        if str(props.get("ProtocolType", "")).upper() != "WEBSOCKET":
            continue
        api_id = provisioner.lookup(logical_id).ref
        stages = [p for _, p in of_type("AWS::ApiGatewayV2::Stage") if p.get("ApiId") == api_id]
        if not stages:
            log.warning("%s: no AWS::ApiGatewayV2::Stage; served at /$default", logical_id)
        stage = str(stages[0]["StageName"]) if stages else "$default"
        api = WebSocketApi(
            logical_id,
            api_id,
            stage,
            str(props.get("RouteSelectionExpression") or "$request.body.action"),
            path=f"/{logical_id}/{stage}" if any(a.stage == stage for a in apis) else f"/{stage}",
        )
        integrations = {
            provisioner.lookup(lid).ref: p
            for lid, p in of_type("AWS::ApiGatewayV2::Integration")
            if p.get("ApiId") == api_id
        }
        authorizers = {
            provisioner.lookup(lid).ref: p
            for lid, p in of_type("AWS::ApiGatewayV2::Authorizer")
            if p.get("ApiId") == api_id
        }
        for route_id, route in of_type("AWS::ApiGatewayV2::Route"):
            if route.get("ApiId") != api_id:
                continue
            function, mock, mock_status = None, False, 200
            target = str(route.get("Target") or "")
            if target:
                integration = integrations.get(target.removeprefix("integrations/"))
                if integration is None:
                    raise TemplateError(f"{route_id}: Target {target} is not an integration of {logical_id}")
                kind = str(integration.get("IntegrationType", "")).upper()
                if kind == "MOCK":
                    mock, mock_status = True, mock_status_of(route_id, integration)
                elif kind == "AWS_PROXY":
                    function = _function_of(integration.get("IntegrationUri"), functions)
                else:
                    raise TemplateError(f"{route_id}: the local stack runs AWS_PROXY and MOCK integrations only")
            authorizer = None
            if str(route.get("AuthorizationType", "NONE")).upper() == "CUSTOM":
                spec = authorizers.get(str(route.get("AuthorizerId")))
                if spec is None or str(spec.get("AuthorizerType", "")).upper() != "REQUEST":
                    raise TemplateError(f"{route_id}: AuthorizerId must name a REQUEST authorizer of {logical_id}")
                authorizer = WsAuthorizer(
                    name=str(spec.get("Name") or route.get("AuthorizerId")),
                    function=_function_of(spec.get("AuthorizerUri"), functions),
                    identity_sources=tuple(str(s) for s in spec.get("IdentitySource") or ()),
                )
            key = str(route["RouteKey"])
            api.routes[key] = WsRoute(key, function, authorizer, mock, mock_status)
        apis.append(api)
    return apis


def mock_status_of(route_id: str, integration: dict[str, Any]) -> int:
    """The status a MOCK integration answers: its request template's ``statusCode`` (API Gateway's mock
    integration answers what the template selected for the request says). The template selection expression
    is not evaluated: the one template, or the one named by it, or ``$default``'s."""
    templates = integration.get("RequestTemplates") or {}
    if not isinstance(templates, dict) or not templates:
        raise TemplateError(f"{route_id}: a MOCK integration needs a request template such as {{\"statusCode\": 200}}")
    selected = str(integration.get("TemplateSelectionExpression") or "").replace("\\", "")
    template = templates.get(selected) or templates.get("$default") or next(iter(templates.values()))
    found = re.search(r'"statusCode"\s*:\s*(\d{3})', str(template))
    if found is None:
        raise TemplateError(f"{route_id}: the MOCK integration's request template names no statusCode")
    return int(found[1])


def rewrite_environment(
    functions: dict[str, FunctionSpec],
    apis: list[WebSocketApi],
    base_url: str,
    moto_endpoint: str,
    websocket_base_url: str = "",
) -> None:
    """Point the functions at this machine: a WebSocket API's execute-api URL becomes the local
    @connections endpoint, its wss:// URL the local ws:// one; a Cognito user pool's JWKS URL becomes moto's."""
    ours = {api.api_id: api for api in apis}

    def local(value: str) -> str:
        value = _EXECUTE_API.sub(
            lambda m: f"{base_url}/_local/live/{m['api']}/{m['stage']}" if m["api"] in ours else m[0], value
        )
        if websocket_base_url:
            value = _WSS_API.sub(
                lambda m: f"{websocket_base_url}{ours[m['api']].path}" if m["api"] in ours else m[0], value
            )
        return _JWKS.sub(lambda m: f"{moto_endpoint}/{m['pool']}/.well-known/jwks.json", value)

    for spec in functions.values():
        for name, value in list(spec.environment.items()):
            rewritten = local(value)
            if rewritten != value:
                log.debug("%s: %s=%s", spec.logical_id, name, rewritten)
                spec.environment[name] = rewritten


# ---------------------------------------------------------------- API Gateway's event shapes


def connection_id() -> str:
    """API Gateway's connection ids look like ``L0SM9cOFvHcCIhw=``."""
    return base64.b64encode(secrets.token_bytes(10)).decode()


@dataclass
class Socket:
    """One open connection and what API Gateway knows of it."""

    id: str
    api: WebSocketApi
    connection: ServerConnection | None
    headers: dict[str, str]
    query: dict[str, str]
    source_ip: str
    connected_at: int  # ms
    region: str = "us-east-1"
    authorizer: dict[str, Any] = field(default_factory=dict)
    last_active_at: int = 0
    attached: threading.Event = field(default_factory=threading.Event)  # the handshake is done: frames can go
    last_message: float = field(default_factory=time.monotonic)  # a message either way: the idle clock
    closed_by_gateway: tuple[int, str] | None = None  # (code, reason) when the gateway closed it (idle)


def _request_context(socket: Socket, route: str, event_type: str, domain: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    context: dict[str, Any] = {
        "routeKey": route,
        "eventType": event_type,
        "extendedRequestId": base64.b64encode(secrets.token_bytes(10)).decode(),
        "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "messageDirection": "IN",
        "stage": socket.api.stage,
        "connectedAt": socket.connected_at,
        "requestTimeEpoch": int(now.timestamp() * 1000),
        "identity": {"sourceIp": socket.source_ip, "userAgent": socket.headers.get("user-agent", "")},
        "requestId": base64.b64encode(secrets.token_bytes(10)).decode(),
        "domainName": domain,
        "connectionId": socket.id,
        "apiId": socket.api.api_id,
    }
    if socket.authorizer:
        context["authorizer"] = dict(socket.authorizer)
    return context


def _multi(values: dict[str, str]) -> dict[str, list[str]]:
    return {k: v.split(",") for k, v in values.items()}


def authorizer_event(socket: Socket, domain: str) -> dict[str, Any]:
    arn = f"arn:aws:execute-api:{socket.region}:{ACCOUNT_ID}:{socket.api.api_id}/{socket.api.stage}/$connect"
    return {
        "type": "REQUEST",
        "methodArn": arn,
        "headers": dict(socket.headers),
        "multiValueHeaders": _multi(socket.headers),
        "queryStringParameters": dict(socket.query),
        "multiValueQueryStringParameters": _multi(socket.query),
        "stageVariables": {},
        "requestContext": _request_context(socket, "$connect", "CONNECT", domain),
    }


def connect_event(socket: Socket, domain: str) -> dict[str, Any]:
    event: dict[str, Any] = {
        "headers": dict(socket.headers),
        "multiValueHeaders": _multi(socket.headers),
        "requestContext": _request_context(socket, "$connect", "CONNECT", domain),
        "isBase64Encoded": False,
    }
    if socket.query:
        event["queryStringParameters"] = dict(socket.query)
        event["multiValueQueryStringParameters"] = _multi(socket.query)
    return event


def message_event(socket: Socket, route: str, body: str, domain: str) -> dict[str, Any]:
    context = _request_context(socket, route, "MESSAGE", domain)
    context["messageId"] = base64.b64encode(secrets.token_bytes(10)).decode()
    return {"requestContext": context, "body": body, "isBase64Encoded": False}


def disconnect_event(socket: Socket, code: int | None, reason: str, domain: str) -> dict[str, Any]:
    context = _request_context(socket, "$disconnect", "DISCONNECT", domain)
    context["disconnectStatusCode"] = code if code is not None else 1006
    context["disconnectReason"] = reason
    return {
        "headers": dict(socket.headers),
        "multiValueHeaders": _multi(socket.headers),
        "requestContext": context,
        "isBase64Encoded": False,
    }


def policy_allows(result: Any, method_arn: str) -> bool:
    """An authorizer's IAM policy allows ``execute-api:Invoke`` on the method ARN (explicit Deny wins)."""
    statements = ((result or {}).get("policyDocument") or {}).get("Statement") or []
    allowed = False
    for statement in statements if isinstance(statements, list) else [statements]:
        actions = statement.get("Action") or []
        resources = statement.get("Resource") or []
        actions = [actions] if isinstance(actions, str) else actions
        resources = [resources] if isinstance(resources, str) else resources
        if not any(fnmatch.fnmatchcase("execute-api:Invoke", a) for a in actions):
            continue
        if not any(fnmatch.fnmatchcase(method_arn, r) for r in resources):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def select_route(api: WebSocketApi, body: str) -> str:
    """The route key the selection expression picks for a frame, else ``$default``. ``$connect`` and
    ``$disconnect`` are the connection's, never a frame's: a frame naming them goes to ``$default`` too. A frame
    the expression cannot be evaluated on goes to ``$default``, as in API Gateway: one that is not JSON, and one
    the decoder gives up on (nested too deeply, a RecursionError; an integer too long, a ValueError)."""
    expression = api.selection_expression
    if expression.startswith("$request.body."):
        try:
            value: Any = json.loads(body)
            for part in expression.removeprefix("$request.body.").split("."):
                value = value.get(part) if isinstance(value, dict) else None
        except (ValueError, RecursionError):
            value = None
        if isinstance(value, str) and value in api.routes and value not in ("$connect", "$disconnect"):
            return value
    return "$default"


# ---------------------------------------------------------------- the server


class LiveApis:
    """Serves the template's WebSocket APIs (one port, one path per stage) and their @connections API."""

    def __init__(self, apis: list[WebSocketApi], runtime: Runtime, port: int, region: str,
                 idle_timeout: float = IDLE_TIMEOUT_SECONDS, public_base_url: str = "") -> None:
        self.apis = apis
        self.region = region
        self.runtime = runtime
        self.port = port
        self.public_base_url = public_base_url   # its host is served too (local.hosts)
        self.idle_timeout = idle_timeout   # seconds without a message either way before the socket is closed; 0: never
        self.sockets: dict[str, Socket] = {}
        self._lock = threading.Lock()
        self._watching: set[asyncio.Task[None]] = set()   # the handshakes watched (_unless_opened)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._problem: BaseException | None = None

    @property
    def url(self) -> str | None:
        """The first API's URL (what the web app's config.json calls wsUrl)."""
        return self.url_of(self.apis[0]) if self.apis else None

    def url_of_logical(self, logical_id: str) -> str | None:
        """The URL of the API the template names so, or None without it."""
        return next((self.url_of(a) for a in self.apis if a.logical_id == logical_id), None)

    def url_of(self, api: WebSocketApi) -> str:
        return f"ws://127.0.0.1:{self.port}{api.path}"

    @property
    def domain(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        if not self.apis:
            return
        self._thread = threading.Thread(target=self._run, daemon=True, name="websocket")
        self._thread.start()
        if not self._ready.wait(10) or self._problem is not None:
            raise RuntimeError(f"the WebSocket server did not start on port {self.port}: {self._problem}")
        for api in self.apis:
            for route in api.routes.values():
                access = f"authorizer {route.authorizer.name}" if route.authorizer else "open"
                target = "MOCK" if route.mock else route.function
                log.info("route %-12s %s -> %s (%s)", route.key, self.url_of(api), target, access)
        if self.idle_timeout:
            log.info("sockets idle for %g s are closed, as API Gateway closes them after 10 minutes", self.idle_timeout)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:  # reported to start()
            self._problem = error
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        async with serve(self._handle, "127.0.0.1", self.port, process_request=self._upgrade):
            self._ready.set()
            await self._stopped.wait()

    def close(self) -> None:
        if self._loop is not None and self._stopped is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _invoke(self, function: str, event: dict[str, Any]) -> Invocation:
        return self.runtime.invoke(function, event)

    # -- the upgrade: authorizer, then $connect

    async def _upgrade(self, connection: ServerConnection, request: Request) -> Response | None:
        # a page whose own name an attacker re-points at 127.0.0.1 (DNS rebinding) sends that name: refused before
        # the authorizer or $connect run (local.hosts)
        refused = foreign_host(request.headers.get_all("Host"), self.port, self.public_base_url)
        if refused is not None:
            log.warning("upgrade to %s refused: Host %r is not the stack's", request.path.split("?")[0],
                        ",".join(request.headers.get_all("Host")))
            return connection.respond(HTTPStatus.FORBIDDEN, refused + "\n")
        split = urllib.parse.urlsplit(request.path)
        api = next((a for a in self.apis if split.path.rstrip("/") == a.path), None)
        if api is None:
            return connection.respond(HTTPStatus.NOT_FOUND, "Not Found\n")
        headers: dict[str, str] = {}
        for name, value in request.headers.raw_items():
            key = name.lower()
            headers[key] = f"{headers[key]},{value}" if key in headers else value
        query: dict[str, str] = {}
        for name, value in urllib.parse.parse_qsl(split.query, keep_blank_values=True):
            query[name] = f"{query[name]},{value}" if name in query else value
        remote = connection.remote_address
        socket = Socket(
            id=connection_id(),
            api=api,
            connection=None,
            headers=headers,
            query=query,
            source_ip=str(remote[0]) if remote else "127.0.0.1",
            connected_at=int(time.time() * 1000),
            region=self.region,
        )
        route = api.routes.get("$connect")
        if route is not None and route.authorizer is not None:
            refused = await asyncio.to_thread(self._authorize, socket, route.authorizer)
            if refused is not None:
                status, message = refused
                return connection.respond(status, message + "\n")
        status = await asyncio.to_thread(self._connect, socket, route)
        if not 200 <= status < 300:
            log.info("%s: $connect answered %d; refused", socket.id, status)
            return connection.respond(HTTPStatus(status), HTTPStatus(status).phrase + "\n")
        connection.local_socket_id = socket.id  # type: ignore[attr-defined]
        watch = asyncio.get_running_loop().create_task(self._unless_opened(socket, connection))
        self._watching.add(watch)
        watch.add_done_callback(self._watching.discard)
        return None

    async def _unless_opened(self, socket: Socket, connection: ServerConnection) -> None:
        """A client that left between $connect's answer and the 101 (a page closed while its socket was still
        opening, as a slow $connect makes likely): API Gateway runs $disconnect for it and answers a post 410 at
        once. Here too; before, every post to it waited ``HANDSHAKE_SECONDS`` first, and the fan-out's whole batch
        (the other agents' notices after it) with it."""
        await connection.wait_closed()
        if socket.attached.is_set():
            return                  # it opened: _handle saw it close, and ran $disconnect
        self._forget(socket)
        route = socket.api.routes.get("$disconnect")
        if route is not None and route.function is not None:
            event = disconnect_event(socket, 1006, "the client left before the handshake finished", self.domain)
            await asyncio.to_thread(self._invoke, route.function, event)

    def _connect(self, socket: Socket, route: WsRoute | None) -> int:
        """$connect's status; a connection it accepts can be posted to from the moment it answers, as in API
        Gateway: it is listed here at once, in the same thread, not when the event loop gets round to it (a
        post in between would be answered 410 and the fan-out would forget a connection that is opening)."""
        if route is not None and route.function is not None:
            status = _status_of(self._invoke(route.function, connect_event(socket, self.domain)))
            if not 200 <= status < 300:
                return status
        elif route is not None and route.mock and not 200 <= route.mock_status < 300:
            return route.mock_status
        socket.last_active_at = int(time.time() * 1000)
        with self._lock:
            self.sockets[socket.id] = socket
        return 200

    def _authorize(self, socket: Socket, authorizer: WsAuthorizer) -> tuple[HTTPStatus, str] | None:
        for source in authorizer.identity_sources:
            if source.startswith("route.request.querystring."):
                present = bool(socket.query.get(source.removeprefix("route.request.querystring.")))
            elif source.startswith("route.request.header."):
                present = bool(socket.headers.get(source.removeprefix("route.request.header.").lower()))
            else:
                present = True  # stage variables and context: not emulated
            if not present:
                log.info("%s refused: no %s", socket.id, source)
                return HTTPStatus.UNAUTHORIZED, "Unauthorized"
        event = authorizer_event(socket, self.domain)
        invocation = self._invoke(authorizer.function, event)
        if not invocation.ok:
            if (invocation.error or {}).get("errorMessage") == "Unauthorized":
                log.info("%s refused by %s", socket.id, authorizer.name)
                return HTTPStatus.UNAUTHORIZED, "Unauthorized"
            log.warning("authorizer %s failed: %s", authorizer.name, invocation.error_summary)
            return HTTPStatus.INTERNAL_SERVER_ERROR, "Internal Server Error"
        if not policy_allows(invocation.result, event["methodArn"]):
            log.info("%s denied by %s", socket.id, authorizer.name)
            return HTTPStatus.FORBIDDEN, "Forbidden"
        result = invocation.result or {}
        context = {k: v for k, v in (result.get("context") or {}).items() if isinstance(v, str | int | float | bool)}
        socket.authorizer = {**context, "principalId": str(result.get("principalId", ""))}
        return None

    # -- frames and the close

    async def _handle(self, connection: ServerConnection) -> None:
        socket_id = getattr(connection, "local_socket_id", None)
        socket = self.sockets.get(socket_id or "")
        if socket is None:
            await connection.close(1011, "unknown connection")
            return
        socket.connection = connection
        socket.last_message = time.monotonic()
        socket.attached.set()
        log.info("%s connected to %s (%s)", socket.id, socket.api.logical_id, socket.authorizer.get("principalId"))
        idle = asyncio.create_task(self._close_when_idle(socket, connection)) if self.idle_timeout else None
        try:
            async for frame in connection:
                socket.last_active_at = int(time.time() * 1000)
                socket.last_message = time.monotonic()
                body = frame if isinstance(frame, str) else frame.decode("utf-8", errors="replace")
                route = socket.api.routes.get(select_route(socket.api, body))
                if route is not None and route.mock:
                    log.debug("%s %s: MOCK, nothing invoked", socket.id, route.key)
                    continue
                if route is None or route.function is None:
                    await connection.send(json.dumps({"message": "Forbidden", "connectionId": socket.id}))
                    continue
                event = message_event(socket, route.key, body, self.domain)
                invocation = await asyncio.to_thread(self._invoke, route.function, event)
                if not invocation.ok:
                    log.warning("%s %s failed: %s", socket.id, route.key, invocation.error_summary)
        except ConnectionClosed:
            pass
        finally:
            if idle is not None and socket.closed_by_gateway is None:
                idle.cancel()                    # (one that closed the socket finishes its closing handshake)
            with self._lock:
                self.sockets.pop(socket.id, None)
            code, reason = socket.closed_by_gateway or (connection.close_code, connection.close_reason or "")
            route = socket.api.routes.get("$disconnect")
            if route is not None and route.function is not None:
                event = disconnect_event(socket, code, reason, self.domain)
                await asyncio.to_thread(self._invoke, route.function, event)
            log.info("%s disconnected (%s)", socket.id, code)

    async def _close_when_idle(self, socket: Socket, connection: ServerConnection) -> None:
        """API Gateway's idle timeout: closed once no message went either way for ``idle_timeout`` seconds."""
        while True:
            left = socket.last_message + self.idle_timeout - time.monotonic()
            if left > 0:
                await asyncio.sleep(left)
                continue
            await asyncio.sleep(0.05)   # a frame read while this loop was busy may not have reached _handle yet
            if socket.last_message + self.idle_timeout <= time.monotonic():
                break
        log.info("%s idle for %g s: closed", socket.id, self.idle_timeout)
        socket.closed_by_gateway = IDLE_CLOSE
        await connection.close(*IDLE_CLOSE)

    # -- @connections

    def _forget(self, socket: Socket) -> None:
        """A socket $connect accepted whose handshake never finished (the client went away meanwhile)."""
        with self._lock:
            self.sockets.pop(socket.id, None)
        log.info("%s never opened", socket.id)

    def manage(self, method: str, api_id: str, stage: str, connection: str, body: bytes) -> tuple[int, dict[str, Any]]:
        """PostToConnection (POST), GetConnection (GET), DeleteConnection (DELETE)."""
        socket = self.sockets.get(urllib.parse.unquote(connection))
        if socket is not None and not socket.attached.wait(HANDSHAKE_SECONDS):   # accepted, 101 on its way
            self._forget(socket)                                                 # the client left meanwhile
        if socket is None or socket.api.api_id != api_id or socket.api.stage != stage or socket.connection is None:
            return 410, {"message": f"connection {urllib.parse.unquote(connection)} is gone"}
        if method == "GET":
            return 200, {
                "connectedAt": datetime.fromtimestamp(socket.connected_at / 1000, UTC).isoformat(),
                "identity": {"sourceIp": socket.source_ip, "userAgent": socket.headers.get("user-agent", "")},
                "lastActiveAt": datetime.fromtimestamp(socket.last_active_at / 1000, UTC).isoformat(),
            }
        assert self._loop is not None
        if method == "DELETE":
            asyncio.run_coroutine_threadsafe(socket.connection.close(1000, "DeleteConnection"), self._loop)
            return 204, {}
        if method != "POST":
            return 405, {"message": "Method Not Allowed"}
        try:
            text: str | bytes = body.decode("utf-8")
        except UnicodeDecodeError:
            text = body
        try:
            asyncio.run_coroutine_threadsafe(socket.connection.send(text), self._loop).result(timeout=5)
        except (ConnectionClosed, TimeoutError):
            return 410, {"message": f"connection {socket.id} is gone"}
        socket.last_message = time.monotonic()      # a message to the client is activity too (IDLE_TIMEOUT_SECONDS)
        return 200, {}


def _status_of(invocation: Invocation) -> int:
    if not invocation.ok:
        return 500
    result = invocation.result
    if isinstance(result, dict) and "statusCode" in result:
        try:
            return int(result["statusCode"])
        except (TypeError, ValueError):
            return 500
    return 200
