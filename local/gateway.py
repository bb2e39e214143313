"""API Gateway HTTP API on one machine, plus the local-only routes and the provider sandbox.

Routes come from the functions' ``HttpApi`` events. Matching follows API Gateway: a full match of
path and method wins over a path with variables, which wins over a greedy ``{proxy+}``; an exact
method wins over ``ANY``. The integration receives a payload format 2.0 event and its result is
turned back into HTTP as API Gateway does: a dict with ``statusCode`` is a response description
(headers, multiValueHeaders, cookies -> Set-Cookie, isBase64Encoded), anything else is returned
as JSON with 200. No route: 404 ``{"message":"Not Found"}``, whatever the method (PATCH, OPTIONS,
TRACE, PROPFIND or any other token: every method is dispatched, none gets http.server's 501 page);
a failed invocation: 500 ``Internal Server Error``. An HTTP API with a ``CorsConfiguration`` is
emulated as API Gateway runs it: a preflight (OPTIONS with ``Origin`` and
``Access-Control-Request-Method``) is answered 204 by the gateway itself, with the configured headers
for an allowed origin, and every answer of that API carries the configured CORS headers in place of
the function's own. On an API without one, OPTIONS is a method like the others (the widget's API
declares its own OPTIONS route and answers its own CORS headers).

Request bodies reach the function as text only for textual content types (``text/*``, JSON, XML,
JavaScript); everything else, including ``application/x-www-form-urlencoded`` and a body without
a content type, is base64 with ``isBase64Encoded: true``, as the HTTP API does. A body over the HTTP API's payload
quota (10 MB, which AWS does not raise) is refused before any route, as API Gateway refuses it: ``413``,
``HTTP content length exceeded 10485760 bytes.`` (``PAYLOAD_LIMIT_BYTES``); the body is read and dropped as it comes
(never held), so the client, still sending, gets the answer rather than a reset connection. The local-only routes and
the sandboxes are not the HTTP API's and take any size. A ``Content-Length`` that is no length (not digits only:
``abc``, ``-1``, two values) is a ``400`` before any route, on any path, and the connection is closed, as HTTP/1.1
asks (RFC 9112, section 6.3): where its body ends is unknown. So is a body sent with a ``Transfer-Encoding``
(chunked), which the gateway does not read: a ``501`` (RFC 9112, section 6.1), never a route given no body while the
body's bytes wait on the connection to be read as the next request.

Local-only routes (``/_local/...``): ``GET health``, ``GET token?agent=``, ``GET agents``, ``GET|POST clock``,
``POST schedules/<function>/run``, ``GET|DELETE outbox``, ``GET|DELETE events``,
``GET|POST|DELETE sandbox/faults``, ``GET|POST|DELETE aws/faults`` (local.aws_faults),
``GET functions``, ``POST functions/<function>/invoke`` (Lambda's asynchronous invocation, the body its event: 202),
``POST email[?wait=1][&to=...]``,
``GET websocket`` (the WebSocket API's URL), ``GET aws`` (the emulated AWS endpoint and region), ``GET shop``
(the demo shop's site, local/shop.py) and the
WebSocket APIs' ``@connections`` (local.live).
Provider sandboxes: ``/_sandbox/twilio``, ``/_sandbox/meta``, ``/_sandbox/telegram``.
A GET under no API route's first path segment is the web app beside the template (``local/webapp.py``).

Who may call, as dev servers check it: a request whose ``Host`` is not one the stack serves (127.0.0.1, localhost or
[::1] with its port, or PUBLIC_BASE_URL's host) is a ``403`` problem on every route, before any route (DNS rebinding:
a hostile page's own name re-pointed at 127.0.0.1 would read ``/_local/token`` as same-origin); a POST, PUT, PATCH or
DELETE to the local-only routes or the sandboxes carrying an ``Origin`` other than the stack's own is a ``403`` too
(a cross-site page's forged write: the clock, faults, schedules). No ``Host`` or no ``Origin`` is no browser's: it
goes through (curl, boto3, the tests, the functions).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import secrets
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from local.authorizer import AuthResult
from local.functions import Cors, HttpRoute
from local.hosts import forbidden_problem, foreign_host, own_origins
from local.identity import UnknownAgent
from local.live import MANAGEMENT_PATH
from local.ses import UnknownRecipient, inbound_message_id, message_recipients
from local.settings import ACCOUNT_ID
from local.template import load_template
from local.webapp import WebApp, header_policy, local_agents, page_policy

if TYPE_CHECKING:
    from local.stack import Stack


class _Server(ThreadingHTTPServer):
    """API Gateway takes bursts: a deep listen backlog, so many simultaneous webhooks queue instead
    of being reset (the standard library's default backlog is 5)."""

    request_queue_size = 128
    daemon_threads = True

log = logging.getLogger("http")

_TEXT_TYPES = re.compile(r"^(text/.*|application/(json|xml|javascript|[\w.+-]+\+(json|xml)))$")
# The HTTP API's "Payload size" quota, 10 MB, not raisable (API Gateway's quotas for HTTP APIs), and how API Gateway
# answers a request past it: a 413 whose body is a line of text naming the limit in bytes, before any integration.
# AWS documents the quota, not the answer: its words and type are those of a captured answer of API Gateway's (a
# REST API's, at its edge); a client should go by the status.
PAYLOAD_LIMIT_BYTES = 10 * 1024 * 1024
_NOT_THE_HTTP_APIS = ("/_local/", "/_sandbox/")
_LENGTH = re.compile(r"[0-9]+")     # a Content-Length: digits, nothing else (not a sign, a list or an exponent)


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    target: str = ""  # what served the request, for the log line
    stream: Iterator[bytes] | None = None  # sent instead of body; headers then carry Content-Length

    @classmethod
    def json(cls, status: int, document: Any, target: str = "") -> Reply:
        return cls(status, [("Content-Type", "application/json")], json.dumps(document).encode(), target)


def bad_length() -> Reply:
    """A Content-Length that is no length (HTTP/1.1: ``1*DIGIT``, RFC 9112 section 6.3): a 400 before any route, and
    the connection closed, its body's end being unknown."""
    return Reply(400, [("Content-Type", "application/json"), ("Connection", "close")],
                 json.dumps({"message": "Bad Request"}).encode(), "bad content length")


def transfer_coded() -> Reply:
    """A body sent with a transfer coding (``Transfer-Encoding: chunked``), which the gateway does not read: a 501
    before any route, as RFC 9112 section 6.1 asks of a server that does not take the coding, and the connection
    closed (its body's end is unknown: its bytes must not be read as a request of their own, nor a route given no
    body)."""
    return Reply(501, [("Content-Type", "application/json"), ("Connection", "close")],
                 json.dumps({"message": "Not Implemented: send the body with a Content-Length"}).encode(),
                 "transfer coding")


_STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def forbidden(detail: str, target: str) -> Reply:
    """The stack's own refusal, a problem (RFC 9457) that says why."""
    return Reply(403, [("Content-Type", "application/problem+json")], forbidden_problem(detail), target)


def too_large() -> Reply:
    """API Gateway's answer to a body past the payload quota: its own line of text, not JSON."""
    return Reply(413, [("Content-Type", "text; charset=utf-8")],
                 f"HTTP content length exceeded {PAYLOAD_LIMIT_BYTES} bytes.".encode(), "payload limit")


def cors_headers(cors: Cors, origin: str) -> list[tuple[str, str]]:
    """The headers API Gateway sets for an allowed origin (the origin itself, or ``*`` when every origin is
    allowed without credentials)."""
    headers = [("Access-Control-Allow-Origin", "*" if "*" in cors.allow_origins and not cors.allow_credentials
                else origin)]
    if cors.allow_credentials:
        headers.append(("Access-Control-Allow-Credentials", "true"))
    if cors.expose_headers:
        headers.append(("Access-Control-Expose-Headers", ", ".join(cors.expose_headers)))
    return headers


def with_cors(cors: Cors | None, origin: str | None, reply: Reply) -> Reply:
    """An answer of an API with a ``CorsConfiguration``: the integration's own CORS headers are dropped and
    the configured ones set (only for an allowed origin), as API Gateway does."""
    if cors is None:
        return reply
    reply.headers = [(k, v) for k, v in reply.headers if not k.lower().startswith("access-control-")]
    if origin and cors.allows(origin):
        reply.headers += cors_headers(cors, origin)
    return reply


# ---------------------------------------------------------------- routing


@dataclass(frozen=True)
class CompiledRoute:
    route: HttpRoute
    pattern: re.Pattern[str]
    names: tuple[str, ...]
    rank: tuple[int, int, int]


def compile_route(route: HttpRoute) -> CompiledRoute:
    pattern, names, literals, greedy = "", [], 0, 0
    for segment in route.path.strip("/").split("/") if route.path.strip("/") else []:
        variable = re.fullmatch(r"\{([\w.-]+)(\+?)\}", segment)
        if variable is None:
            pattern += "/" + re.escape(segment)
            literals += 1
        elif variable.group(2):
            pattern += "/(.+)"
            greedy = 1
            names.append(variable.group(1))
        else:
            pattern += "/([^/]+)"
            names.append(variable.group(1))
    rank = (greedy, -literals, 1 if route.method == "ANY" else 0)
    return CompiledRoute(route, re.compile(f"^{pattern or '/'}$"), tuple(names), rank)


class Router:
    def __init__(self, routes: list[HttpRoute]) -> None:
        self.routes = sorted((compile_route(r) for r in routes if r.path != "$default"), key=lambda c: c.rank)
        self.default = next((r for r in routes if r.path == "$default"), None)

    def match(self, method: str, path: str) -> tuple[HttpRoute, dict[str, str]] | None:
        for compiled in self.routes:
            if compiled.route.method not in (method, "ANY"):
                continue
            found = compiled.pattern.match(path)
            if found:
                params = {
                    n: urllib.parse.unquote(v) for n, v in zip(compiled.names, found.groups(), strict=True)
                }
                return compiled.route, params
        if self.default is not None:
            return self.default, {}
        return None


# ---------------------------------------------------------------- payload format 2.0


def request_id() -> str:
    """API Gateway's short request ids look like ``JKJaXmPLvHcESHA=``."""
    return base64.b64encode(secrets.token_bytes(10)).decode()


def http_api_event(
    route: HttpRoute,
    api_id: str,
    request: Request,
    path_parameters: dict[str, str],
    auth: AuthResult | None,
    default_domain: str,
) -> dict[str, Any]:
    """The payload format 2.0 event API Gateway sends for ``request`` matched to ``route``."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.header_pairs:
        key = name.lower()
        if key == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    domain = headers.get("host") or default_domain
    headers.setdefault("x-forwarded-for", request.client_ip)
    headers.setdefault("x-forwarded-port", domain.rpartition(":")[2] if ":" in domain else "80")
    headers.setdefault("x-forwarded-proto", "http")
    headers.setdefault("x-amzn-trace-id", f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}")
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default" if route.path == "$default" else route.route_key,
        "rawPath": request.path,
        "rawQueryString": request.query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if request.query:
        query: dict[str, str] = {}
        for name, value in urllib.parse.parse_qsl(request.query, keep_blank_values=True):
            query[name] = f"{query[name]},{value}" if name in query else value
        event["queryStringParameters"] = query
    context: dict[str, Any] = {
        "accountId": ACCOUNT_ID,
        "apiId": api_id,
        "domainName": domain,
        "domainPrefix": domain.split(".", 1)[0],
        "http": {
            "method": request.method,
            "path": request.path,
            "protocol": "HTTP/1.1",
            "sourceIp": request.client_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": request.id,
        "routeKey": event["routeKey"],
        "stage": "$default",
        "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    if auth is not None:
        context["authorizer"] = {"jwt": {"claims": auth.claims, "scopes": auth.scopes}}
    event["requestContext"] = context
    if path_parameters:
        event["pathParameters"] = path_parameters
    if request.body:
        content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if _TEXT_TYPES.match(content_type):
            event["body"] = request.body.decode("utf-8", errors="replace")
            event["isBase64Encoded"] = False
        else:
            event["body"] = base64.b64encode(request.body).decode()
            event["isBase64Encoded"] = True
    else:
        event["isBase64Encoded"] = False
    return event


def http_response(result: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """The HTTP answer API Gateway makes of a payload 2.0 integration result."""
    if not (isinstance(result, dict) and "statusCode" in result):
        return 200, [("Content-Type", "application/json")], json.dumps(result).encode()
    status = int(result["statusCode"])
    headers = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((str(name), str(value)) for value in values)
    headers.extend(("Set-Cookie", str(cookie)) for cookie in result.get("cookies") or [])
    body = result.get("body")
    if body is None:
        payload = b""
    elif result.get("isBase64Encoded"):
        payload = base64.b64decode(body)
    else:
        payload = (body if isinstance(body, str) else json.dumps(body)).encode("utf-8")
    return status, headers, payload


# ---------------------------------------------------------------- the server


class Gateway:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        routes = [route for spec in stack.catalog.functions.values() for route in spec.routes]
        self.router = Router(routes)
        web = stack.settings.template.parent / "web"      # the web inbox beside the template, if there is one
        self.webapp = WebApp(web / "dist") if (web / "package.json").exists() else None
        self._api_prefixes = {r.path.strip("/").split("/")[0] for r in routes if r.path != "$default"}
        self.server = _Server(("127.0.0.1", stack.settings.port), self._handler_class())
        self.server.daemon_threads = True
        self._local: list[tuple[str, re.Pattern[str], Callable[[Request], Reply]]] = [
            ("GET", re.compile(r"^/_local/health$"), self._health),
            ("GET", re.compile(r"^/_local/token$"), self._token),
            ("GET", re.compile(r"^/_local/agents$"), self._agents),
            ("GET", re.compile(r"^/_local/clock$"), self._clock),
            ("POST", re.compile(r"^/_local/clock$"), self._advance_clock),
            ("POST", re.compile(r"^/_local/schedules/(?P<id>[^/]+)/run$"), self._run_schedule),
            ("GET", re.compile(r"^/_local/outbox$"), self._outbox),
            ("DELETE", re.compile(r"^/_local/outbox$"), self._clear_outbox),
            ("GET", re.compile(r"^/_local/events$"), self._events),
            ("DELETE", re.compile(r"^/_local/events$"), self._clear_events),
            ("GET", re.compile(r"^/_local/sandbox/faults$"), self._faults),
            ("POST", re.compile(r"^/_local/sandbox/faults$"), self._add_fault),
            ("DELETE", re.compile(r"^/_local/sandbox/faults$"), self._clear_faults),
            ("GET", re.compile(r"^/_local/aws/faults$"), self._aws_faults),
            ("POST", re.compile(r"^/_local/aws/faults$"), self._add_aws_fault),
            ("DELETE", re.compile(r"^/_local/aws/faults$"), self._clear_aws_faults),
            ("GET", re.compile(r"^/_local/functions$"), self._functions),
            ("POST", re.compile(r"^/_local/functions/(?P<id>[^/]+)/invoke$"), self._invoke_async),
            ("POST", re.compile(r"^/_local/email$"), self._email),
            ("POST", re.compile(r"^/_local/commerce/webhooks$"), self._commerce_webhook),
            ("GET", re.compile(r"^/_local/websocket$"), self._websocket),
            ("POST", re.compile(r"^/_local/analytics/flush$"), self._flush_analytics),
            ("GET", re.compile(r"^/_local/aws$"), self._aws),
            ("GET", re.compile(r"^/_local/shop$"), self._shop),
            *((method, MANAGEMENT_PATH, self._connections) for method in ("POST", "GET", "DELETE")),
        ]
        self._sandboxes: list[tuple[str, Callable[[Request], Reply]]] = [
            ("/_sandbox/twilio", self._twilio),
            ("/_sandbox/meta", lambda request: self._sandbox(request, "/_sandbox/meta", stack.meta.handle)),
            (
                "/_sandbox/telegram",
                lambda request: self._sandbox(request, "/_sandbox/telegram", stack.telegram.handle),
            ),
            ("/_sandbox/shopify", lambda request: self._sandbox(request, "/_sandbox/shopify",
                                                                 stack.commerce.shopify.handle)),
            ("/_sandbox/woocommerce", lambda request: self._sandbox(request, "/_sandbox/woocommerce",
                                                                     stack.commerce.woocommerce.handle)),
        ]

    def serve_forever(self) -> None:
        self.server.serve_forever(poll_interval=0.2)

    def shutdown(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "shopdesk-local"
            sys_version = ""

            def _serve(self) -> None:
                gateway.serve(self)

            def __getattr__(self, name: str) -> Any:
                # http.server looks up do_<METHOD> and answers 501 when it is missing; API Gateway
                # routes every method (to a route of it, to ANY, or to its 404)
                if name.startswith("do_"):
                    return self._serve
                raise AttributeError(name)

            def log_message(self, format: str, *args: Any) -> None:  # stdlib signature
                pass  # one line per request is logged by the gateway

        return Handler

    # -- per request

    def serve(self, handler: BaseHTTPRequestHandler) -> None:
        started = time.perf_counter()
        request = Request(handler, self.stack.settings.port)
        if request.bad_length:
            reply = bad_length()
            handler.close_connection = True
        elif request.transfer_coded:
            reply = transfer_coded()
            handler.close_connection = True
        elif (refused := self._refused(request, handler)) is not None:
            reply = refused
        elif request.too_large:
            reply = too_large()
        else:
            try:
                reply = self.dispatch(request)
            except Exception:  # the server must answer whatever happens
                log.exception("%s %s failed", request.method, request.path)
                reply = Reply.json(500, {"message": "Internal Server Error"})
        headers = [*reply.headers, ("apigw-requestid", request.id)]
        if reply.stream is None:
            headers.append(("Content-Length", str(len(reply.body))))
        handler.send_response(reply.status)
        for name, value in headers:
            handler.send_header(name, value)
        handler.end_headers()
        if request.method != "HEAD":
            try:
                for chunk in reply.stream if reply.stream is not None else (reply.body,):
                    handler.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                log.info("%s %s: the client went away", request.method, request.path)
        level = logging.DEBUG if request.path == "/_local/health" else logging.INFO
        log.log(
            level,
            "%s %s -> %d%s (%.0f ms)",
            request.method,
            request.path,       # like the HTTP API's access log ($context.path): no query (search terms, emails)
            reply.status,
            f" {reply.target}" if reply.target else "",
            (time.perf_counter() - started) * 1000,
        )

    def _refused(self, request: Request, handler: BaseHTTPRequestHandler) -> Reply | None:
        """A request not addressed to the stack by a name it serves (DNS rebinding: a hostile page's own name
        re-pointed at 127.0.0.1), on any route; and a write to the local-only routes or the sandboxes from another
        site's page (its ``Origin``: cross-site request forgery). A request without a ``Host`` or an ``Origin`` (curl,
        boto3, the tests, the functions) is no browser's and goes through."""
        server = getattr(handler, "server", None)
        port = int(server.server_address[1]) if server is not None else self.stack.settings.port
        public_base_url = self.stack.settings.public_base_url
        hosts = [value for name, value in request.header_pairs if name.lower() == "host"]
        refused = foreign_host(hosts, port, public_base_url)
        if refused is not None:
            log.warning("%s %s refused: Host %r is not the stack's", request.method, request.path,
                        request.header_dict.get("host"))
            return forbidden(refused, "foreign host")
        origin = request.header_dict.get("origin")
        if (origin is not None and request.method in _STATE_CHANGING and request.path.startswith(_NOT_THE_HTTP_APIS)
                and origin.strip().lower() not in own_origins(port, public_base_url)):
            log.warning("%s %s refused: Origin %r is not the stack's", request.method, request.path, origin)
            return forbidden(f"the local stack's own routes and sandboxes take no {request.method} from another "
                             f"site's page (Origin {origin!r})", "foreign origin")
        return None

    def dispatch(self, request: Request) -> Reply:
        for prefix, serve in self._sandboxes:
            if request.path == prefix or request.path.startswith(prefix + "/"):
                return serve(request)
        if request.path.startswith("/_local/"):
            for method, pattern, action in self._local:
                found = pattern.match(request.path)
                if found and method == request.method:
                    request.params = found.groupdict()
                    return action(request)
            return Reply.json(404, {"message": "Not Found"})
        static = self._web_app(request)
        if static is not None:
            return static
        return self._invoke_route(request)

    def _web_app(self, request: Request) -> Reply | None:
        """The inbox (web/dist) for a GET no API route claims: its files, config.json, else index.html.

        A path under an API's prefix is the API's (an unknown one answers the API's JSON 404), except a page the
        browser navigates to that no route serves: the app's own pages share first segments with the APIs
        (``/reports`` the page, ``/reports/summary`` the API), and a reload must give the app back, as a
        development server's history fallback does for requests that accept HTML. In AWS the app has its own
        origin (CloudFront), so nothing there overlaps."""
        if self.webapp is None or request.method not in ("GET", "HEAD") or self.router.default is not None:
            return None
        navigation = "text/html" in request.header_dict.get("accept", "")
        if request.path.strip("/").split("/")[0] in self._api_prefixes and not (
            navigation and self.router.match(request.method, request.path) is None
        ):
            return None
        if self.webapp.policies is None:     # the stack's origins are known once it serves: made at the first page
            header = header_policy(load_template(self.stack.settings.template))
            self.webapp.policies = (header, page_policy(self.stack)) if header else ("", "")
        served = self.webapp.config(self.stack) if request.path == "/config.json" else self.webapp.file(request.path)
        return Reply(served.status, served.headers, served.body, "web app")

    def _invoke_route(self, request: Request) -> Reply:
        origin = request.header_dict.get("origin")
        preflight = self._preflight(request, origin)
        if preflight is not None:
            return preflight
        matched = self.router.match(request.method, request.path)
        if matched is None:
            return Reply.json(404, {"message": "Not Found"})
        route, path_parameters = matched
        api = self.stack.catalog.apis[route.api]
        return with_cors(api.cors, origin, self._call_route(request, route, path_parameters))

    def _preflight(self, request: Request, origin: str | None) -> Reply | None:
        """API Gateway answers a CORS preflight itself for an HTTP API with a ``CorsConfiguration`` (whatever
        routes it has, an OPTIONS one included); without one the preflight is routed like any request."""
        wanted = request.header_dict.get("access-control-request-method")
        if request.method != "OPTIONS" or not origin or not wanted:
            return None
        matched = self.router.match(wanted.upper(), request.path)
        api = self.stack.catalog.apis[matched[0].api] if matched else None
        if api is None or api.cors is None:
            return None
        reply = Reply(204, [], b"", f"{api.logical_id} CORS")
        if api.cors.allows(origin):
            reply.headers += cors_headers(api.cors, origin)
            reply.headers += [(k, ", ".join(v)) for k, v in (("Access-Control-Allow-Methods", api.cors.allow_methods),
                                                               ("Access-Control-Allow-Headers", api.cors.allow_headers))
                              if v]
            if api.cors.max_age is not None:
                reply.headers.append(("Access-Control-Max-Age", str(api.cors.max_age)))
        return reply

    def _call_route(self, request: Request, route: HttpRoute, path_parameters: dict[str, str]) -> Reply:
        api = self.stack.catalog.apis[route.api]
        auth: AuthResult | None = None
        if route.authorizer is not None:
            auth = self.stack.verifier.check(
                api.authorizers.get(route.authorizer), request.header_dict, route.scopes
            )
            if not auth.ok:
                log.info(
                    "%s %s refused by %s: %s", request.method, request.path, route.authorizer, auth.reason
                )
                message = "Unauthorized" if auth.status == 401 else "Forbidden"
                reply = Reply.json(auth.status, {"message": message}, f"{route.authorizer} refused")
                if auth.status == 401:
                    reply.headers.append(("www-authenticate", 'Bearer scope="" error="invalid_token"'))
                return reply
        domain = f"127.0.0.1:{self.stack.settings.port}"
        event = http_api_event(route, api.api_id, request, path_parameters, auth, domain)
        invocation = self.stack.runtime.invoke(route.function, event)
        if not invocation.ok:
            log.warning("%s failed: %s", route.function, invocation.error_summary)
            return Reply.json(500, {"message": "Internal Server Error"}, route.function)
        try:
            status, headers, body = http_response(invocation.result)
        except (TypeError, ValueError, binascii.Error) as error:
            log.warning("%s returned a malformed response: %s", route.function, error)
            return Reply.json(500, {"message": "Internal Server Error"}, route.function)
        return Reply(status, headers, body, route.function)

    # -- provider sandboxes

    def _twilio(self, request: Request) -> Reply:
        status, headers, body = self.stack.twilio.handle(
            request.method,
            request.path.removeprefix("/_sandbox/twilio"),
            request.url,
            request.header_dict,
            request.body,
        )
        return Reply(status, list(headers.items()), body, "sandbox twilio")

    def _sandbox(self, request: Request, prefix: str, handle: Callable[..., Any]) -> Reply:
        status, headers, body = handle(
            request.method,
            request.path.removeprefix(prefix),
            request.query,
            request.url,
            request.header_dict,
            request.body,
        )
        target = "sandbox " + prefix.rsplit("/", 1)[-1]
        if isinstance(body, bytes):  # the server adds Content-Length itself
            pairs = [(k, v) for k, v in headers.items() if k.lower() != "content-length"]
            return Reply(status, pairs, body, target)
        return Reply(status, list(headers.items()), b"", target, stream=body)

    # -- /_local routes

    def _health(self, request: Request) -> Reply:
        status, document = self.stack.health()
        return Reply.json(status, document)

    def _token(self, request: Request) -> Reply:
        agent = (urllib.parse.parse_qs(request.query).get("agent") or [""])[0]
        if self.stack.identity is None:
            return Reply.json(404, {"message": "the template has no Cognito user pool"})
        try:
            return Reply.json(200, {"token": self.stack.identity.id_token(agent)})
        except UnknownAgent:
            return Reply.json(404, {"message": f"unknown agent {agent!r}"})

    def _shop(self, request: Request) -> Reply:
        """The demo shop's site, with the web-chat widget on its pages (local/shop.py), or null without one."""
        shop = getattr(self.stack, "shop", None)
        return Reply.json(200, {"url": shop.url if shop is not None else None})

    def _aws(self, request: Request) -> Reply:
        """Where the emulated AWS answers, so a person or a test can look inside with the CLI or boto3."""
        return Reply.json(200, {"endpoint": self.stack.aws.endpoint, "region": self.stack.aws.region})

    def _agents(self, request: Request) -> Reply:
        return Reply.json(200, {"items": local_agents(self.stack)})

    def _clock(self, request: Request) -> Reply:
        return Reply.json(200, self.stack.clock.describe())

    def _advance_clock(self, request: Request) -> Reply:
        document = request.json()
        seconds = document.get("advance_seconds") if isinstance(document, dict) else None
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            return Reply.json(400, {"message": "advance_seconds must be a number >= 0"})
        self.stack.clock.advance(float(seconds))
        described = self.stack.clock.describe()
        log.info(
            "clock advanced by %ss: offset %ss, now %s",
            seconds,
            described["offset_seconds"],
            described["now"],
        )
        return Reply.json(200, described)

    def _run_schedule(self, request: Request) -> Reply:
        logical_id = request.params["id"]
        schedules = self.stack.scheduler.for_function(logical_id)
        wanted = (urllib.parse.parse_qs(request.query).get("event") or [None])[0]
        schedules = [s for s in schedules if wanted is None or s.event == wanted]
        if not schedules:
            return Reply.json(404, {"message": f"no schedule for {logical_id!r}"})
        invocation = self.stack.scheduler.run_now(schedules[0])
        if not invocation.ok:
            return Reply.json(500, {"error": invocation.error}, logical_id)
        return Reply.json(200, {"result": invocation.result}, logical_id)

    def _flush_analytics(self, request: Request) -> Reply:
        """Make every event written so far queryable: the lake's writers (stream consumers that put to a
        Firehose stream, EVENTS_STREAM_NAME) have handled the stream up to now; moto's Firehose has no buffer,
        and the reports function reads new objects on every query."""
        writers = {spec.logical_id for spec in self.stack.catalog.functions.values()
                   if spec.streams and "EVENTS_STREAM_NAME" in spec.environment}
        if not self.stack.streams.drain(writers):
            return Reply.json(503, {"message": "the event writer did not catch up within 10 s"})
        return Reply.json(200, {"flushed": sorted(writers)})

    def _outbox(self, request: Request) -> Reply:
        return Reply.json(200, {"items": self.stack.outbox.items()})

    def _clear_outbox(self, request: Request) -> Reply:
        self.stack.outbox.clear()
        return Reply.json(200, {"items": []})

    def _events(self, request: Request) -> Reply:
        return Reply.json(200, {"items": self.stack.events.items()})

    def _clear_events(self, request: Request) -> Reply:
        self.stack.events.clear()
        return Reply.json(200, {"items": []})

    def _faults(self, request: Request) -> Reply:
        return Reply.json(200, {"pending": self.stack.faults.describe()})

    def _add_fault(self, request: Request) -> Reply:
        document = request.json()
        try:
            self.stack.faults.add(
                str(document["provider"]), int(document["status"]), int(document.get("times", 1))
            )
        except (KeyError, TypeError, ValueError) as error:
            return Reply.json(400, {"message": f"expected {{provider, status, times}}: {error}"})
        log.info(
            "sandbox fault: next %s %s send(s) answer %s",
            document.get("times", 1),
            document["provider"],
            document["status"],
        )
        return Reply.json(200, {"pending": self.stack.faults.describe()})

    def _clear_faults(self, request: Request) -> Reply:
        self.stack.faults.clear()
        return Reply.json(200, {"pending": {}})

    def _aws_faults(self, request: Request) -> Reply:
        return Reply.json(200, {"rules": self.stack.aws.faults.describe()})

    def _add_aws_fault(self, request: Request) -> Reply:
        document = request.json()
        try:
            rule = self.stack.aws.faults.add(str(document["operation"]), str(document["error"]),
                                             int(document.get("times", 1)), int(document.get("every", 1)))
        except (KeyError, TypeError, ValueError) as error:
            return Reply.json(400, {"message": f"expected {{operation, error, times?, every?}}: {error}"})
        log.warning("AWS fault injected: %s", rule.describe())
        return Reply.json(201, {"rules": self.stack.aws.faults.describe()})

    def _clear_aws_faults(self, request: Request) -> Reply:
        self.stack.aws.faults.clear()
        return Reply.json(200, {"rules": []})

    def _functions(self, request: Request) -> Reply:
        return Reply.json(200, {"functions": self.stack.describe_functions()})

    def _invoke_async(self, request: Request) -> Reply:
        """Lambda's asynchronous invocation (InvocationType Event) of a function, the body its event: 202 at once,
        then run as an S3 event is (retried, then its OnFailure destination and DeadLetterQueue: local.s3events).
        A redrive of an asynchronous invocation's dead-letter queue uses it (scripts/redrive.py, inbound-mail)."""
        logical_id = request.params["id"]
        if logical_id not in self.stack.catalog.functions:
            return Reply.json(404, {"message": f"no function {logical_id!r} (GET /_local/functions lists them)"})
        try:
            event = json.loads(request.body or b"")
        except ValueError:
            return Reply.json(400, {"message": "the body must be the event, as JSON"})
        self.stack.s3_notifications.invoker.submit(logical_id, event, "invoke (Event)", lambda attempt: None)
        return Reply.json(202, {"function": logical_id})

    def _websocket(self, request: Request) -> Reply:
        return Reply.json(200, {"url": self.stack.websocket_url})

    def _connections(self, request: Request) -> Reply:
        """The WebSocket APIs' @connections management API (PostToConnection, Get..., Delete...)."""
        params = request.params
        status, document = self.stack.live.manage(
            request.method, params["api"], params["stage"], params["id"], request.body
        )
        reply = Reply.json(status, document, "@connections") if document or status >= 400 else Reply(
            status, [], b"", "@connections"
        )
        if status == 410:
            reply.headers.append(("x-amzn-ErrorType", "GoneException"))
        return reply

    def _email(self, request: Request) -> Reply:
        """SES receiving a message: store it where the receipt rule's S3Action says (202)."""
        inbound = self.stack.inbound_mail
        if not inbound.rules:
            return Reply.json(
                404,
                {
                    "message": "the template has no AWS::SES::ReceiptRule with an S3Action, "
                    "so the stack does not know where SES would store inbound mail"
                },
            )
        if not request.body:
            return Reply.json(400, {"message": "the body must be a raw RFC 5322 message"})
        query = urllib.parse.parse_qs(request.query)
        recipients = query.get("to") or message_recipients(request.body)
        try:
            rule = inbound.rule_for(recipients)
        except UnknownRecipient as error:
            return Reply.json(404, {"message": str(error)})
        wait = (query.get("wait") or ["0"])[0].lower() not in ("", "0", "false", "no")
        notifications = self.stack.s3_notifications
        message_id = inbound_message_id()
        bucket, key = inbound.location(rule, message_id)
        # registered before the object exists, so its notification cannot be missed
        expectation = notifications.expect(bucket, key) if wait else None
        inbound.store(rule, request.body, message_id, recipients)
        document: dict[str, Any] = {
            "bucket": bucket,
            "key": key,
            "message_id": message_id,
            "rule": rule.logical_id,
            "recipients": inbound.envelope(rule, recipients),
        }
        if expectation is not None:
            default = notifications.timeout_for(bucket, key, self.stack.catalog.functions)
            try:
                timeout = float((query.get("timeout") or [default])[0])
            except ValueError:
                timeout = default
            finished = notifications.wait(bucket, key, expectation, timeout)
            document["invocations"] = [attempt.describe() for attempt in expectation.attempts]
            if not finished:
                document["timed_out"] = True
                document["pending"] = sorted(expectation.pending)
        return Reply.json(202, document, "ses inbound")

    def _commerce_webhook(self, request: Request) -> Reply:
        """The commerce sandbox sends a signed webhook like the platform would, and answers what the stack said."""
        document = request.json()
        if not isinstance(document, dict):
            return Reply.json(400, {"message": "the body must be a JSON object with platform and topic"})
        status, answer = self.stack.commerce.deliver(document)
        return Reply.json(status, answer, "commerce webhook")


class Request:
    """What the gateway needs of one HTTP request."""

    def __init__(self, handler: BaseHTTPRequestHandler, port: int) -> None:
        self.id = request_id()
        self.method = handler.command.upper()
        self.target = handler.path
        split = urllib.parse.urlsplit(handler.path)
        self.path = split.path or "/"
        self.query = split.query
        self.header_pairs: list[tuple[str, str]] = list(handler.headers.items())
        self.header_dict: dict[str, str] = {}
        for name, value in self.header_pairs:
            key = name.lower()
            self.header_dict[key] = f"{self.header_dict[key]},{value}" if key in self.header_dict else value
        given = (self.header_dict.get("content-length") or "0").strip()
        self.bad_length = not _LENGTH.fullmatch(given)      # no body is read: where it ends is unknown
        self.transfer_coded = "transfer-encoding" in self.header_dict      # nor here (it wins over a Content-Length)
        length = 0 if self.bad_length or self.transfer_coded else int(given)
        # past the HTTP API's quota API Gateway refuses the request before any route: its body is read and dropped
        self.too_large = length > PAYLOAD_LIMIT_BYTES and not self.path.startswith(_NOT_THE_HTTP_APIS)
        self.body = handler.rfile.read(length) if length > 0 and not self.too_large else b""
        while self.too_large and length > 0 and (chunk := handler.rfile.read(min(length, 1 << 16))):
            length -= len(chunk)
        self.client_ip = handler.client_address[0]
        host = self.header_dict.get("host") or f"127.0.0.1:{port}"
        self.url = f"http://{host}{handler.path}"
        self.params: dict[str, str] = {}

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"{}")
        except json.JSONDecodeError:
            return None
