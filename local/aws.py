"""AWS on one machine: moto in server mode on a free loopback port, and clients that reach it.

Functions and the stack itself talk to moto over HTTP through ``AWS_ENDPOINT_URL``, so every
boto3 call takes the same code path (serialisation, retries, errors) as it does against AWS.
"""

from __future__ import annotations

import contextlib
import io
import logging
import selectors
import threading
from collections.abc import Callable
from typing import Any

import boto3
import werkzeug.serving
from botocore.config import Config
from botocore.exceptions import ClientError
from flask import Response
from moto.moto_api import recorder
from moto.server import DomainDispatcherApplication, MotoRequestHandler, ThreadedMotoServer, create_backend_app
from werkzeug.exceptions import BadRequestKeyError, HTTPException
from werkzeug.serving import make_server

from local import moto_patches
from local.aws_faults import AwsFaults
from local.hosts import forbidden_problem, foreign_host
from local.settings import ACCOUNT_ID, FAKE_ACCESS_KEY, FAKE_SECRET_KEY

log = logging.getLogger("moto")


class _UnreadableBody(Exception):
    """A request body the keep-alive handler could not read to its end."""


_read_whole = threading.local()     # the request this handler thread serves had its body read whole


class _NothingLeft:
    """The selector of werkzeug's read-dry pass for a request whose body was read whole: nothing is left to read."""

    def register(self, *_: Any) -> None:
        pass

    def select(self, timeout: float | None = None) -> list[Any]:
        return []

    def close(self) -> None:
        pass


class _Selectors:
    """``selectors`` as werkzeug's server sees it. After each response werkzeug reads the socket dry: it makes a
    selector, polls the socket for up to 10 ms and reads what came (an epoll made, registered and closed per
    request: about a twentieth of the stack process's busy samples under the load bench, py-spy). When the
    keep-alive handler read the body whole, that pass reads the empty buffer left in the socket's place, so it
    reads nothing whatever the selector says: the selector is left out then. Anything else gets the real one."""

    def __getattr__(self, name: str) -> Any:
        return getattr(selectors, name)

    @staticmethod
    def DefaultSelector() -> Any:
        return _NothingLeft() if getattr(_read_whole, "handler", None) is not None else selectors.DefaultSelector()


werkzeug.serving.selectors = _Selectors()  # type: ignore[attr-defined]


class _KeepAliveHandler(MotoRequestHandler):
    """moto's request handler with HTTP/1.1 keep-alive, so a client's pooled connection serves many requests.

    werkzeug's development server closes every connection after one response (``Connection: close``):
    it cannot tell where a request's body ends, so it reads the socket dry after each response. Every
    AWS call the functions and pollers made was a new TCP connection and a new server thread; measured
    on this stack, a third of the CPU a request costs client and server together. Here the body is read
    whole, by its ``Content-Length`` or its chunks, before moto sees the request, so the next request on
    the connection is left where it is; werkzeug's read-dry pass after the response then reads an empty
    buffer instead of the socket (and makes no selector for it: ``_Selectors``). A client that asks for
    ``Connection: close`` still gets it. A body that cannot be read (a ``Content-Length`` that is no number, a
    chunk size that is none, a client gone mid-body) is answered 400 and the connection closed, since where the
    next request starts is unknown; moto never sees it.
    """

    disable_nagle_algorithm = True      # the headers and the body are two writes; neither waits for an ACK

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        try:
            if environ.get("wsgi.input_terminated"):       # chunked: werkzeug's reader stops at the last chunk
                body = environ["wsgi.input"].read()
            else:
                length = int(environ.get("CONTENT_LENGTH") or 0)
                if length < 0:
                    raise ValueError(f"negative Content-Length {length}")
                body = self.rfile.read(length)
        except (ValueError, OSError) as exc:               # werkzeug's chunk reader raises OSError
            raise _UnreadableBody(str(exc)) from exc
        environ["wsgi.input"] = io.BytesIO(body)
        self._socket_input, self.rfile = self.rfile, io.BytesIO()
        _read_whole.handler = self
        return environ

    def run_wsgi(self) -> None:
        try:
            super().run_wsgi()
        except _UnreadableBody as exc:
            self.close_connection = True
            with contextlib.suppress(OSError):             # the client is gone already
                self.send_error(400, f"unreadable request body: {exc}"[:200])
        finally:
            _read_whole.handler = None
            self.rfile = getattr(self, "_socket_input", self.rfile)

    def send_header(self, keyword: str, value: str) -> None:
        if keyword.lower() == "connection" and value.lower() == "close":
            return                                          # werkzeug's: the connection stays open
        super().send_header(keyword, value)


class _StraightToHandler:
    """DynamoDB's and SQS's JSON requests handed straight to moto's handler, past the host dispatcher and Flask.

    moto's server finds a request's service by its signature's credential scope (``DomainDispatcherApplication``),
    then its Flask app pushes a request and an app context, matches the URL, runs the view (moto's
    ``convert_to_flask_response``), builds a Flask response and adds flask-cors's header: about a twentieth of the
    stack process's busy time under the load bench (py-spy), for requests whose route is always the same. A request
    this stack's clients make to those two services (POST to ``/``, signed for ``dynamodb`` or ``sqs`` with SigV4,
    ``X-Amz-Target`` of DynamoDB's 2012 API or SQS's JSON protocol, no ``Origin``) goes to the same handler moto's app
    would route it to, with the same request class, and is answered as that app answers: moto's status, headers and
    body in a Flask response, then ``Access-Control-Allow-Origin: *``, which flask-cors sends to a request without an
    ``Origin``; an ``HTTPException`` the handler lets out is the response Flask makes of it, and any other error
    reaches werkzeug as it does through Flask. Everything else (other services, the query protocol, a browser's
    request, unsigned or oddly signed ones) goes the usual way. A test compares the two ways' answers byte for byte.
    Measured: 300 rounds of PutItem, UpdateItem, GetItem, Query, SendMessage, ReceiveMessage and DeleteMessage cost the
    server 5.0-5.1 s of CPU instead of 6.0-6.7 s (twice each way, on this shared machine).
    """

    def __init__(self, app: Callable[..., Any]) -> None:
        from moto.dynamodb.responses import DynamoHandler
        from moto.moto_server.werkzeug_app import BackendRequest
        from moto.settings import DISABLE_GLOBAL_CORS
        from moto.sqs.responses import SQSResponse

        self.app = app
        self._request = BackendRequest
        self._handlers = {("dynamodb", "DynamoDB_20120810"): DynamoHandler.dispatch,
                          ("sqs", "AmazonSQS"): SQSResponse.dispatch}
        self._cors = not DISABLE_GLOBAL_CORS

    def handler(self, environ: dict[str, Any]) -> Callable[..., Any] | None:
        """moto's handler for a request that takes the straight way, or None."""
        if (environ.get("REQUEST_METHOD") != "POST" or environ.get("PATH_INFO") != "/"
                or "HTTP_ORIGIN" in environ):
            return None
        prefix, dot, _ = (environ.get("HTTP_X_AMZ_TARGET") or "").partition(".")
        authorization = environ.get("HTTP_AUTHORIZATION") or ""
        if not dot or not authorization.startswith("AWS4-HMAC-SHA256 Credential="):
            return None
        scope = authorization.split(",")[0].split()[1].split("/")      # as the dispatcher reads it
        if len(scope) != 5:
            return None
        return self._handlers.get((scope[3], prefix))

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        handler = self.handler(environ)
        if handler is None:
            return self.app(environ, start_response)
        request = self._request(environ)
        try:
            try:                                      # moto's convert_to_flask_response, without Flask's context
                recorder._record_request(request)
                result = handler(request, request.raw_url, dict(request.headers))
            except ClientError as exc:
                result = 400, {}, exc.response["Error"]["Message"]
            status, headers, content = result if len(result) == 3 else (200, {}, result)
            response = Response(response=content, status=status, headers=headers)
        except BadRequestKeyError:                    # Flask in moto's debug mode lets these through to werkzeug
            raise
        except HTTPException as error:                # Flask answers with the exception itself
            response = Response.force_type(error, environ)  # type: ignore[arg-type]
        if self._cors and not response.headers.get("Access-Control-Allow-Origin"):
            response.headers.add("Access-Control-Allow-Origin", "*")
        return response(environ, start_response)


class _OwnNamesOnly:
    """moto's server answers only requests addressed to it by a name it serves (local.hosts): 127.0.0.1, localhost
    or [::1] with its own port, or PUBLIC_BASE_URL's host. A page whose own name an attacker re-points at 127.0.0.1
    (DNS rebinding) would otherwise read moto's answers as same-origin, ``/moto-api/data.json`` (every table's every
    item) included; it is a ``403`` problem before the faults, the straight way or moto see it. boto3 and every other
    client the stack has name the endpoint as ``GET /_local/aws`` gives it (``Host: 127.0.0.1:<port>``)."""

    def __init__(self, app: Callable[..., Any], public_base_url: str) -> None:
        self.app = app
        self.public_base_url = public_base_url

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        hosts = [environ["HTTP_HOST"]] if "HTTP_HOST" in environ else []     # werkzeug joins a repeated one with ","
        refused = foreign_host(hosts, int(environ["SERVER_PORT"]), self.public_base_url)
        if refused is None:
            return self.app(environ, start_response)
        log.warning("%s %s refused: Host %r is not the stack's", environ.get("REQUEST_METHOD"),
                    environ.get("PATH_INFO"), environ.get("HTTP_HOST"))
        body = forbidden_problem(refused)
        start_response("403 Forbidden", [("Content-Type", "application/problem+json"),
                                         ("Content-Length", str(len(body)))])
        return [body]


class _MotoServer(ThreadedMotoServer):
    """moto's threaded server with the fault injector in front of its WSGI app (local.aws_faults), and the Host
    check in front of both."""

    def __init__(self, faults: AwsFaults, public_base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._faults = faults
        self._public_base_url = public_base_url

    def _server_entry(self) -> None:      # as moto's, with the app wrapped
        app = _OwnNamesOnly(self._faults.wrap(_StraightToHandler(DomainDispatcherApplication(create_backend_app))),
                            self._public_base_url)
        self._server = make_server(self._ip_address, self._port, app, True, request_handler=_KeepAliveHandler)
        self._server_ready_event.set()
        self._server.serve_forever()


class Aws:
    """The moto server and a cache of thread-safe boto3 clients pointed at it."""

    def __init__(self, region: str, public_base_url: str = "") -> None:
        self.region = region
        self.account_id = ACCOUNT_ID
        moto_patches.apply()  # concurrent clients (parallel function workers) need it
        self.faults = AwsFaults()
        self._server = _MotoServer(self.faults, public_base_url, ip_address="127.0.0.1", port=0, verbose=False)
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.endpoint = ""

    def start(self) -> None:
        # werkzeug logs every request moto serves; the stack logs what matters itself
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        self._session = boto3.session.Session(
            aws_access_key_id=FAKE_ACCESS_KEY,
            aws_secret_access_key=FAKE_SECRET_KEY,
            region_name=self.region,
        )
        log.info("moto server listening on %s", self.endpoint)

    def stop(self) -> None:
        try:
            self._server.stop()
        except Exception:  # shutting down anyway
            log.debug("moto server stop failed", exc_info=True)

    def client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                config = Config(
                    retries={"max_attempts": 2, "mode": "standard"},
                    account_id_endpoint_mode="disabled",
                    max_pool_connections=32,
                )
                self._clients[service] = self._session.client(
                    service, endpoint_url=self.endpoint, config=config
                )
            return self._clients[service]

    def drain(self, url: str, stop: threading.Event, label: str, handle: Callable[[str], None]) -> None:
        """Long-poll a queue until ``stop`` is set: hand each message body to ``handle``, then delete the batch.
        A failed receive is logged and tried again a second later."""
        sqs = self.client("sqs")
        while not stop.is_set():
            try:
                messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
                    "Messages", []
                )
            except Exception as error:  # keep draining
                if not stop.is_set():
                    log.warning("%s: receive failed: %s", label, error)
                    stop.wait(1)
                continue
            for message in messages:
                handle(message["Body"])
            if messages:
                entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
                sqs.delete_message_batch(QueueUrl=url, Entries=entries)

    def environment(self) -> dict[str, str]:
        """What a process needs to reach this moto as if it were AWS."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": FAKE_SECRET_KEY,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        }

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account_id}:{resource}"
