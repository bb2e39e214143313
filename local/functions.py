"""The functions of the template, as SAM would deploy them: Globals merged, events read.

SAM merges ``Globals.Function`` into every function: maps merge key by key (so
Environment.Variables combine), lists concatenate (so a function's Layers come after the global
ones), and scalars from the function win. Events become HTTP routes, SQS event-source mappings,
schedules and S3 notifications; JWT authorizers come from the HttpApi's ``Auth``. What Lambda does
with asynchronous invocations (S3 notifications) comes from ``EventInvokeConfig``
(MaximumRetryAttempts, MaximumEventAgeInSeconds, DestinationConfig.OnFailure) and
``DeadLetterQueue``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.provision import Provisioner
from local.template import Resolver, TemplateError

log = logging.getLogger("functions")

IMPLICIT_HTTP_API = "ServerlessHttpApi"


@dataclass(frozen=True)
class JwtAuthorizer:
    name: str
    header: str
    issuer: str
    audience: tuple[str, ...]


@dataclass(frozen=True)
class Cors:
    """An HttpApi's ``CorsConfiguration``, as API Gateway applies it: it answers every preflight itself and
    sets these headers on every answer, replacing any CORS header the integration returned."""

    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_credentials: bool = False

    def allows(self, origin: str) -> bool:
        """Exact origins, ``*``, and ``https://*`` / ``http://*`` (any origin of that scheme): the only forms
        the HTTP API accepts (no subdomain wildcards)."""
        return any(rule == "*" or rule.lower() == origin.lower()
                   or (rule.endswith("://*") and origin.lower().startswith(rule[:-1].lower()))
                   for rule in self.allow_origins)


@dataclass(frozen=True)
class HttpApi:
    logical_id: str
    api_id: str
    default_authorizer: str | None
    authorizers: dict[str, JwtAuthorizer]
    cors: Cors | None = None


@dataclass(frozen=True)
class HttpRoute:
    function: str
    event: str
    api: str
    method: str
    path: str
    authorizer: str | None  # None = public
    scopes: tuple[str, ...] = ()

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class SqsSource:
    function: str
    event: str
    queue_arn: str
    queue_url: str
    batch_size: int
    report_failures: bool
    max_concurrency: int | None
    enabled: bool


@dataclass(frozen=True)
class StreamSource:
    """A SAM ``Type: DynamoDB`` event: an event-source mapping on a table's stream."""

    function: str
    event: str
    stream_arn: str
    batch_size: int
    starting_position: str  # LATEST, TRIM_HORIZON
    report_failures: bool
    max_retries: int  # -1: until the record expires
    bisect: bool
    on_failure_arn: str | None
    filters: tuple[Any, ...]  # parsed filter patterns: a record passes if one matches (or there are none)
    enabled: bool


@dataclass(frozen=True)
class Schedule:
    function: str
    event: str
    kind: str  # ScheduleV2 (EventBridge Scheduler) or Schedule (EventBridge rule)
    expression: str
    input: Any
    enabled: bool
    max_retries: int
    max_event_age: int
    dlq_url: str | None


@dataclass(frozen=True)
class S3Source:
    """A SAM ``Type: S3`` event: the bucket's notification configuration for this function."""

    function: str
    event: str
    bucket: str
    events: tuple[str, ...]  # s3:ObjectCreated:* ...
    filter_rules: tuple[tuple[str, str], ...]  # (prefix|suffix, value)

    def matches(self, event_name: str, key: str) -> bool:
        """S3's rule: the event is listed (or its ``:*`` family is) and the key has the prefix/suffix."""
        family = event_name.rsplit(":", 1)[0] + ":*"
        if event_name not in self.events and family not in self.events:
            return False
        rules = dict(self.filter_rules)
        return key.startswith(rules.get("prefix", "")) and key.endswith(rules.get("suffix", ""))

    def describe(self) -> str:
        rules = dict(self.filter_rules)
        pattern = f"{rules.get('prefix', '')}*{rules.get('suffix', '')}"
        return f"{self.event}: s3://{self.bucket}/{pattern} {','.join(self.events)}"


@dataclass(frozen=True)
class Destination:
    kind: str  # SQS, SNS, Lambda, EventBridge
    arn: str


@dataclass(frozen=True)
class AsyncConfig:
    """How Lambda retries an asynchronous invocation and where a failed event goes."""

    max_retries: int = 2
    max_event_age: int = 21600
    dead_letter: Destination | None = None
    on_failure: Destination | None = None


@dataclass
class FunctionSpec:
    logical_id: str
    name: str
    arn: str
    handler: str
    code_dir: Path
    layer_dirs: list[Path]
    environment: dict[str, str]
    timeout: int
    memory: int
    routes: list[HttpRoute] = field(default_factory=list)
    sqs: list[SqsSource] = field(default_factory=list)
    schedules: list[Schedule] = field(default_factory=list)
    s3: list[S3Source] = field(default_factory=list)
    streams: list[StreamSource] = field(default_factory=list)
    async_config: AsyncConfig = field(default_factory=AsyncConfig)


def merge_globals(global_value: Any, local_value: Any) -> Any:
    """SAM's Globals rule: maps merge, lists concatenate, the resource's scalar wins."""
    if isinstance(global_value, dict) and isinstance(local_value, dict):
        merged = dict(global_value)
        for key, value in local_value.items():
            merged[key] = merge_globals(global_value[key], value) if key in global_value else value
        return merged
    if isinstance(global_value, list) and isinstance(local_value, list):
        return global_value + local_value
    return local_value


def _env_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


class FunctionCatalog:
    """Reads the functions, their events and the HTTP APIs from the template."""

    def __init__(
        self, template: dict[str, Any], template_dir: Path, resolver: Resolver, provisioner: Provisioner
    ):
        self.template = template
        self.template_dir = template_dir
        self.resolver = resolver
        self.provisioner = provisioner
        self.apis: dict[str, HttpApi] = {}
        self.functions: dict[str, FunctionSpec] = {}

    def load(self) -> None:
        for logical_id in self.provisioner.of_type("AWS::Serverless::HttpApi"):
            if self.resolver.resource_enabled(logical_id):
                self.apis[logical_id] = self._http_api(logical_id, self.template["Resources"][logical_id])
        for logical_id in self.provisioner.of_type("AWS::Serverless::Function"):
            if self.resolver.resource_enabled(logical_id):
                self.functions[logical_id] = self._function(logical_id)

    # ------------------------------------------------------------ HTTP APIs

    def _http_api(self, logical_id: str, resource: dict[str, Any]) -> HttpApi:
        globals_api = (self.template.get("Globals") or {}).get("HttpApi") or {}
        props = merge_globals(globals_api, resource.get("Properties") or {})
        api_id = (
            self.provisioner.lookup(logical_id).ref
            if logical_id in self.template["Resources"]
            else "localapi"
        )
        cors = _cors(self.resolver.resolve(props.get("CorsConfiguration") or {}))
        auth = self.resolver.resolve(props.get("Auth") or {})
        authorizers: dict[str, JwtAuthorizer] = {}
        for name, spec in (auth.get("Authorizers") or {}).items():
            jwt = spec.get("JwtConfiguration")
            if not jwt:
                log.warning(
                    "%s: authorizer %s is not a JWT authorizer; its routes will refuse every call",
                    logical_id,
                    name,
                )
                continue
            source = str(spec.get("IdentitySource", "$request.header.Authorization"))
            header = source.removeprefix("$request.header.").lower()
            audience = jwt.get("audience") or jwt.get("Audience") or []
            authorizers[name] = JwtAuthorizer(
                name=name,
                header=header,
                issuer=str(jwt.get("issuer") or jwt.get("Issuer")),
                audience=tuple(str(a) for a in audience),
            )
        default = auth.get("DefaultAuthorizer")
        return HttpApi(logical_id, api_id, default if default and default != "NONE" else None, authorizers, cors)

    # ------------------------------------------------------------ functions

    def _function(self, logical_id: str) -> FunctionSpec:
        resource = self.template["Resources"][logical_id]
        globals_fn = (self.template.get("Globals") or {}).get("Function") or {}
        raw = merge_globals(globals_fn, resource.get("Properties") or {})
        props = self.resolver.resolve({k: v for k, v in raw.items() if k not in ("Events", "Policies")})
        physical = self.provisioner.lookup(logical_id)
        code_uri = props.get("CodeUri")
        if not isinstance(code_uri, str):
            raise TemplateError(f"{logical_id}: the local stack needs CodeUri as a local directory")
        layer_dirs: list[Path] = []
        for arn in props.get("Layers") or []:
            layer = self.provisioner.layers.get(str(arn))
            if layer is None:
                log.warning("%s: layer %s is not in the template; skipped", logical_id, arn)
            else:
                layer_dirs.append(layer.content_dir)
        variables = (props.get("Environment") or {}).get("Variables") or {}
        spec = FunctionSpec(
            logical_id=logical_id,
            name=physical.ref,
            arn=physical.attrs["Arn"],
            handler=str(props.get("Handler", "app.lambda_handler")),
            code_dir=(self.template_dir / code_uri).resolve(),
            layer_dirs=layer_dirs,
            environment={str(k): _env_string(v) for k, v in variables.items()},
            timeout=int(props.get("Timeout", 3)),
            memory=int(props.get("MemorySize", 128)),
            async_config=_async_config(props),
        )
        for event_name, event in (raw.get("Events") or {}).items():
            self._event(spec, event_name, event)
        return spec

    def _event(self, spec: FunctionSpec, name: str, event: dict[str, Any]) -> None:
        kind = event.get("Type")
        raw_props = event.get("Properties") or {}
        if kind == "HttpApi":
            spec.routes.append(self._route(spec.logical_id, name, raw_props))
        elif kind == "SQS":
            spec.sqs.append(self._sqs(spec.logical_id, name, self.resolver.resolve(raw_props)))
        elif kind in ("ScheduleV2", "Schedule"):
            spec.schedules.append(
                self._schedule(spec.logical_id, name, kind, self.resolver.resolve(raw_props))
            )
        elif kind == "S3":
            spec.s3.append(s3_source(spec.logical_id, name, self.resolver.resolve(raw_props)))
        elif kind == "DynamoDB":
            spec.streams.append(stream_source(spec.logical_id, name, self.resolver.resolve(raw_props)))
        else:
            log.warning("%s: event %s of type %s is not run by the local stack", spec.logical_id, name, kind)

    def _route(self, function: str, name: str, raw: dict[str, Any]) -> HttpRoute:
        api_ref = raw.get("ApiId")
        if isinstance(api_ref, dict) and "Ref" in api_ref:
            api_logical = str(api_ref["Ref"])
        elif api_ref is None:
            api_logical = IMPLICIT_HTTP_API
            if api_logical not in self.apis:
                self.apis[api_logical] = self._http_api(api_logical, {"Properties": {}})
        else:
            raise TemplateError(f"{function}.{name}: ApiId must be a !Ref to an HttpApi of the template")
        api = self.apis[api_logical]
        props = self.resolver.resolve(raw)
        auth = props.get("Auth") or {}
        authorizer = auth.get("Authorizer", api.default_authorizer)
        if authorizer == "NONE":
            authorizer = None
        if authorizer is not None and authorizer not in api.authorizers:
            log.warning(
                "%s.%s: authorizer %s unknown; the route will refuse every call", function, name, authorizer
            )
        method = str(props.get("Method", "ANY")).upper()
        method = "ANY" if method in ("ANY", "X-AMAZON-APIGATEWAY-ANY-METHOD") else method
        return HttpRoute(
            function=function,
            event=name,
            api=api_logical,
            method=method,
            path=str(props.get("Path", "$default")),
            authorizer=authorizer,
            scopes=tuple(auth.get("AuthorizationScopes") or ()),
        )

    def _sqs(self, function: str, name: str, props: dict[str, Any]) -> SqsSource:
        arn = str(props["Queue"])
        url = self.provisioner.queues.get(arn)
        if url is None:
            raise TemplateError(f"{function}.{name}: queue {arn} is not a queue of the template")
        scaling = props.get("ScalingConfig") or {}
        return SqsSource(
            function=function,
            event=name,
            queue_arn=arn,
            queue_url=url,
            batch_size=int(props.get("BatchSize", 10)),
            report_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
            max_concurrency=int(scaling["MaximumConcurrency"]) if "MaximumConcurrency" in scaling else None,
            enabled=_enabled(props),
        )

    def _schedule(self, function: str, name: str, kind: str, props: dict[str, Any]) -> Schedule:
        expression = str(props.get("ScheduleExpression") or props.get("Schedule") or "")
        retry = props.get("RetryPolicy") or {}
        dlq_arn = (props.get("DeadLetterConfig") or {}).get("Arn")
        dlq_url = self.provisioner.queues.get(str(dlq_arn)) if dlq_arn else None
        if dlq_arn and dlq_url is None:
            log.warning("%s.%s: dead-letter queue %s is not a queue of the template", function, name, dlq_arn)
        raw_input = props.get("Input")
        return Schedule(
            function=function,
            event=name,
            kind=kind,
            expression=expression,
            input=json.loads(raw_input) if isinstance(raw_input, str) and raw_input else raw_input,
            enabled=_enabled(props),
            # EventBridge Scheduler's defaults: 185 retries, events up to 24 hours old
            max_retries=int(retry.get("MaximumRetryAttempts", 185)),
            max_event_age=int(retry.get("MaximumEventAgeInSeconds", 86400)),
            dlq_url=dlq_url,
        )


def s3_source(function: str, name: str, props: dict[str, Any]) -> S3Source:
    """A SAM S3 event (``Bucket``, ``Events``, ``Filter.S3Key.Rules``) or a bucket's
    LambdaConfiguration (``Event``, ``Filter``), which have the same filter shape."""
    bucket = props.get("Bucket")
    if not isinstance(bucket, str) or not bucket:
        raise TemplateError(f"{function}.{name}: Bucket must be a !Ref to a bucket of the template")
    events = props.get("Events", props.get("Event", "s3:ObjectCreated:*"))
    events = [events] if isinstance(events, str) else list(events)
    rules = ((props.get("Filter") or {}).get("S3Key") or {}).get("Rules") or []
    return S3Source(
        function=function,
        event=name,
        bucket=bucket,
        events=tuple(str(e) for e in events),
        # S3 takes the rule names in any case; moto compares them lower-case
        filter_rules=tuple((str(rule["Name"]).lower(), str(rule["Value"])) for rule in rules),
    )


def stream_source(function: str, name: str, props: dict[str, Any]) -> StreamSource:
    """A SAM DynamoDB event (the properties of Lambda's event-source mapping, with its defaults)."""
    stream = props.get("Stream")
    if not isinstance(stream, str) or ":dynamodb:" not in stream or "/stream/" not in stream:
        raise TemplateError(f"{function}.{name}: Stream must be a table's StreamArn (!GetAtt Table.StreamArn)")
    on_failure = ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
    patterns = []
    for entry in (props.get("FilterCriteria") or {}).get("Filters") or []:
        pattern = entry.get("Pattern")
        patterns.append(json.loads(pattern) if isinstance(pattern, str) else pattern)
    return StreamSource(
        function=function,
        event=name,
        stream_arn=stream,
        batch_size=int(props.get("BatchSize", 100)),
        starting_position=str(props.get("StartingPosition", "LATEST")).upper(),
        report_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
        max_retries=int(props.get("MaximumRetryAttempts", -1)),
        bisect=str(props.get("BisectBatchOnFunctionError", False)).lower() == "true",
        on_failure_arn=str(on_failure) if on_failure else None,
        filters=tuple(patterns),
        enabled=_enabled(props),
    )


def _destination(spec: Any, type_key: str, arn_key: str) -> Destination | None:
    if not isinstance(spec, dict) or not spec.get(arn_key):
        return None
    return Destination(kind=str(spec.get(type_key) or _kind_of(str(spec[arn_key]))), arn=str(spec[arn_key]))


def _kind_of(arn: str) -> str:
    service = arn.split(":")[2] if arn.count(":") >= 5 else ""
    return {"sqs": "SQS", "sns": "SNS", "lambda": "Lambda", "events": "EventBridge"}.get(service, service)


def _async_config(props: dict[str, Any]) -> AsyncConfig:
    invoke = props.get("EventInvokeConfig") or {}
    on_failure = ((invoke.get("DestinationConfig") or {}).get("OnFailure")) or None
    return AsyncConfig(
        max_retries=int(invoke.get("MaximumRetryAttempts", 2)),
        max_event_age=int(invoke.get("MaximumEventAgeInSeconds", 21600)),
        dead_letter=_destination(props.get("DeadLetterQueue"), "Type", "TargetArn"),
        on_failure=_destination(on_failure, "Type", "Destination"),
    )


def _enabled(props: dict[str, Any]) -> bool:
    if "Enabled" in props:
        return str(props["Enabled"]).lower() != "false"
    return str(props.get("State", "ENABLED")).upper() != "DISABLED"


def _cors(config: dict[str, Any] | bool) -> Cors | None:
    """``CorsConfiguration``: ``true`` is SAM's shorthand for every origin, method and header."""
    if config is True:
        return Cors(allow_origins=("*",), allow_methods=("*",), allow_headers=("*",))
    if not config:
        return None

    def strings(key: str) -> tuple[str, ...]:
        return tuple(str(v) for v in config.get(key) or ())

    age = config.get("MaxAge")
    return Cors(allow_origins=strings("AllowOrigins"), allow_methods=strings("AllowMethods"),
                allow_headers=strings("AllowHeaders"), expose_headers=strings("ExposeHeaders"),
                max_age=int(age) if age is not None else None,
                allow_credentials=bool(config.get("AllowCredentials")))
