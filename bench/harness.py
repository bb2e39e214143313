"""Shared helpers of the benchmarks: moto in server mode, resources made from template.yaml,
handlers imported with only their own environment, signed provider events, and request counting.

Nothing here imports the test suites: the benchmarks stand on their own.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import platform
import re
import subprocess
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

import yaml

from local import moto_patches

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "layers" / "shopdesk"
FUNCTIONS = sorted(p.parent.name for p in (ROOT / "functions").glob("*/app.py"))
REGION = "us-east-1"
ACCOUNT = "123456789012"
AUTH_TOKEN = "bench-twilio-auth-token"     # noqa: S105 (a fake secret stored in moto)
PUBLIC_BASE_URL = "https://desk.example.com"
SHOP_NUMBER = "+14155550100"

# No network and no host configuration may leak into a measurement.
FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION, "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
# Template parameters the benchmarks set: a public URL to sign webhooks for, no real Twilio, and quiet
# logs (a log line per message would bury the table).
PARAMETERS = {"Stage": "bench", "PublicBaseUrl": PUBLIC_BASE_URL, "TwilioApiBaseUrl": "http://127.0.0.1:9"}
BENCH_LOG_LEVEL = "WARNING"     # the benches time the code, not its INFO lines (the cost bench logs at INFO)


def use_layer() -> None:
    """Make the shared layer importable, as Lambda does with /opt/python."""
    if str(LAYER) not in sys.path:
        sys.path.insert(0, str(LAYER))


# ------------------------------------------------------------------------------ template

@dataclass(frozen=True)
class Tag:
    """A CloudFormation intrinsic (!Ref, !GetAtt, ...) kept as data."""

    name: str
    value: Any


class _CfnLoader(yaml.SafeLoader):
    pass


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Tag:
    if isinstance(node, yaml.ScalarNode):
        return Tag(suffix, loader.construct_scalar(node))
    if isinstance(node, yaml.SequenceNode):
        return Tag(suffix, loader.construct_sequence(node, deep=True))
    return Tag(suffix, loader.construct_mapping(node, deep=True))  # type: ignore[arg-type]


_CfnLoader.add_multi_constructor("!", _construct_tag)
TEMPLATE: dict[str, Any] = yaml.load((ROOT / "template.yaml").read_text(), Loader=_CfnLoader)  # noqa: S506


def parameters() -> dict[str, str]:
    defaults = {name: str(p.get("Default", "")) for name, p in TEMPLATE["Parameters"].items()}
    return {**defaults, **PARAMETERS}


def function_resource(function: str) -> dict[str, Any]:
    """The AWS::Serverless::Function whose CodeUri is functions/<function>/."""
    for resource in TEMPLATE["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function" and \
                resource["Properties"]["CodeUri"].rstrip("/") == f"functions/{function}":
            return resource
    raise KeyError(f"no function in template.yaml has CodeUri functions/{function}/")


# ------------------------------------------------------------------------------ moto

@contextmanager
def moto_server() -> Iterator[str]:
    """moto in server mode on a free port: boto3 talks HTTP to it, as it talks to AWS."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)    # one access-log line per request otherwise
    moto_patches.apply()               # the local stack's own: thread safety, per-item transaction backups
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        with _pointed_at(f"http://{host}:{port}") as endpoint:
            yield endpoint
    finally:
        server.stop()


@contextmanager
def moto_process() -> Iterator[str]:
    """moto (with the local stack's patches) in a process of its own, so that this process's CPU time is
    the code under test's alone: the sweep benchmark reports the CPU a Lambda would spend."""
    process = subprocess.Popen([sys.executable, "-m", "bench.moto_host"], cwd=ROOT, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    try:
        endpoint = process.stdout.readline().strip() if process.stdout else ""
        if not endpoint.startswith("http://"):
            raise RuntimeError("moto did not start")
        with _pointed_at(endpoint):
            yield endpoint
    finally:
        if process.stdin:
            process.stdin.close()           # moto_host stops when its stdin closes
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def _pointed_at(endpoint: str) -> Iterator[str]:
    """Every client made inside talks to ``endpoint`` with fake credentials; the environment is put back after."""
    patient_layer_clients()
    saved = dict(os.environ)
    os.environ.update({**FAKE_AWS_ENV, "AWS_ENDPOINT_URL": endpoint})
    try:
        yield endpoint
    finally:
        os.environ.clear()
        os.environ.update(saved)


def patient_layer_clients(read_timeout: int = 300) -> None:
    """Give the layer's clients (in this process only) a long read timeout.

    moto answers a Query on a GSI by walking the whole table, so at 100,000 conversations 16 parallel
    shard queries outlast the layer's 10 s timeout. A timeout would be retried and counted as an extra
    request: the benchmarks must count what the code asks for, not how slow moto is.
    """
    use_layer()
    from botocore.config import Config

    from shopdesk.dal import aws

    aws._CONFIG = aws._CONFIG.merge(Config(read_timeout=read_timeout))
    aws._clients.clear()


def boto_client(service: str, endpoint: str) -> Any:
    """A client of the benchmark itself (seeding, setup): never counted, never the layer's."""
    import boto3
    return boto3.session.Session().client(service, region_name=REGION, endpoint_url=endpoint)


@dataclass(frozen=True)
class Stack:
    """One isolated set of resources made from template.yaml's own properties.

    ``names`` maps "Logical" (what !Ref gives) and "Logical.Attribute" (what !GetAtt gives) to values.
    The table, queues, event bus, secrets, buckets and topics exist in moto; anything else a function's
    environment names gets a plausible fake, enough to import it.
    """

    endpoint: str
    suffix: str
    names: Mapping[str, str]

    @property
    def table_name(self) -> str:
        return self.names[_logical_of("AWS::DynamoDB::Table")]

    def env(self, function: str) -> dict[str, str]:
        """The environment template.yaml gives this function (Globals plus its own variables)."""
        variables = {**TEMPLATE["Globals"]["Function"]["Environment"]["Variables"],
                     **function_resource(function)["Properties"].get("Environment", {}).get("Variables", {})}
        return {name: str(self.resolve(value)) for name, value in variables.items()} | {
            "POWERTOOLS_LOG_LEVEL": BENCH_LOG_LEVEL}

    def resolve(self, value: Any) -> Any:
        """Evaluate the intrinsics environments use: Ref, GetAtt, Sub, Join, If, Not, Equals."""
        if not isinstance(value, Tag):
            return value
        if value.name in ("Ref", "GetAtt"):
            return self._lookup(value.value if isinstance(value.value, str) else ".".join(value.value))
        if value.name == "Sub":
            return re.sub(r"\$\{([^}]+)\}", lambda m: str(self._lookup(m.group(1))), value.value)
        if value.name == "Join":
            separator, parts = value.value
            return separator.join(str(self.resolve(part)) for part in self.resolve(parts))
        if value.name == "Equals":
            left, right = (self.resolve(v) for v in value.value)
            return left == right
        if value.name == "Not":
            return not self.resolve(value.value[0])
        if value.name == "If":
            condition, yes, no = value.value
            return self.resolve(yes if self.resolve(TEMPLATE["Conditions"][condition]) else no)
        raise ValueError(f"intrinsic !{value.name} is not supported here")

    def _lookup(self, name: str) -> Any:
        pseudo = {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::URLSuffix": "amazonaws.com",
                  "AWS::Partition": "aws", "AWS::StackName": f"shopdesk-bench-{self.suffix}"}
        params = TEMPLATE["Parameters"]
        if name in pseudo:
            return pseudo[name]
        if name in params:
            value = parameters()[name]
            return value.split(",") if params[name]["Type"] == "CommaDelimitedList" else value
        if name in self.names:
            return self.names[name]
        logical, _, attribute = name.partition(".")
        fake = f"shopdesk-bench-{logical.lower()}-{self.suffix}"
        return f"arn:aws:bench:{REGION}:{ACCOUNT}:{fake}" if attribute.endswith("Arn") else fake



def _logical_of(resource_type: str) -> str:
    return next(name for name, r in TEMPLATE["Resources"].items() if r["Type"] == resource_type)


def _of_type(resource_type: str) -> dict[str, dict[str, Any]]:
    return {name: r.get("Properties", {}) for name, r in TEMPLATE["Resources"].items() if r["Type"] == resource_type}


def create_stack(endpoint: str) -> Stack:
    """The table, every queue, the event bus, every secret, bucket and topic, as template.yaml declares them."""
    suffix = uuid.uuid4().hex[:8]
    names: dict[str, str] = {}
    for logical, props in _of_type("AWS::DynamoDB::Table").items():
        names[logical] = f"shopdesk-bench-{suffix}"
        boto_client("dynamodb", endpoint).create_table(
            TableName=names[logical], BillingMode=props["BillingMode"], KeySchema=props["KeySchema"],
            AttributeDefinitions=props["AttributeDefinitions"], GlobalSecondaryIndexes=props["GlobalSecondaryIndexes"])
        names[f"{logical}.Arn"] = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{names[logical]}"

    sqs = boto_client("sqs", endpoint)
    queues = _of_type("AWS::SQS::Queue")
    for logical, props in queues.items():
        fifo = bool(props.get("FifoQueue"))
        attributes = {"FifoQueue": "true"} if fifo else {}
        if "VisibilityTimeout" in props:
            attributes["VisibilityTimeout"] = str(props["VisibilityTimeout"])
        url = sqs.create_queue(QueueName=f"{logical}-{suffix}" + (".fifo" if fifo else ""),
                               Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        names.update({logical: url, f"{logical}.QueueUrl": url, f"{logical}.Arn": arn,
                      f"{logical}.QueueName": url.rsplit("/", 1)[1]})
    stack = Stack(endpoint, suffix, names)
    for logical, props in queues.items():          # dead-letter queues exist now
        if "RedrivePolicy" in props:
            redrive = {k: stack.resolve(v) for k, v in props["RedrivePolicy"].items()}
            sqs.set_queue_attributes(QueueUrl=names[logical], Attributes={"RedrivePolicy": json.dumps(redrive)})

    for logical in _of_type("AWS::Events::EventBus"):
        names[logical] = f"shopdesk-bench-{suffix}"
        names[f"{logical}.Arn"] = boto_client("events", endpoint).create_event_bus(Name=names[logical])["EventBusArn"]
    for logical, props in _of_type("AWS::SecretsManager::Secret").items():
        value = json.loads(props.get("SecretString") or props.get("GenerateSecretString", {}).get(
            "SecretStringTemplate") or "{}")
        if "auth_token" in value:                   # Twilio's: the benchmarks sign requests with this token
            value["auth_token"] = AUTH_TOKEN
        names[logical] = boto_client("secretsmanager", endpoint).create_secret(
            Name=f"shopdesk/bench-{suffix}/{logical}", SecretString=json.dumps(value))["ARN"]
    for logical in _of_type("AWS::S3::Bucket"):
        names[logical] = f"shopdesk-bench-{logical.lower()}-{suffix}"
        boto_client("s3", endpoint).create_bucket(Bucket=names[logical])
        names[f"{logical}.Arn"] = f"arn:aws:s3:::{names[logical]}"
    for logical in _of_type("AWS::SNS::Topic"):
        names[logical] = boto_client("sns", endpoint).create_topic(Name=f"{logical}-{suffix}")["TopicArn"]
    return stack


def load_handler(function: str, env: Mapping[str, str]) -> ModuleType:
    """Import functions/<function>/app.py afresh with its environment (settings are read at import)."""
    use_layer()
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        spec = importlib.util.spec_from_file_location(f"bench_{function}_{uuid.uuid4().hex}",
                                                      ROOT / "functions" / function / "app.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return module


class FakeContext:
    function_name = "bench"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "bench-request"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "bench"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


# ------------------------------------------------------------------------------ counting

class RequestCounter:
    """Counts HTTP requests (``before-send``, so retries count too) per service and operation, and
    sums Count/ScannedCount of DynamoDB Query responses. Thread-safe: the sweep queries in parallel."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[str] = Counter()       # "<service id>.<operation>" -> n, e.g. "dynamodb.GetItem"
        self.query_items: Counter[str] = Counter()    # "Count" / "ScannedCount" -> n
        self.items_got: Counter[str] = Counter()      # items read by key: "GetItem" / "BatchGetItem" -> n

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-send", self._on_send)
        client.meta.events.register("after-call.dynamodb.Query", self._on_query)
        client.meta.events.register("after-call.dynamodb.GetItem", self._on_get)
        client.meta.events.register("after-call.dynamodb.BatchGetItem", self._on_batch_get)

    def detach(self, client: Any) -> None:
        client.meta.events.unregister("before-send", self._on_send)
        client.meta.events.unregister("after-call.dynamodb.Query", self._on_query)
        client.meta.events.unregister("after-call.dynamodb.GetItem", self._on_get)
        client.meta.events.unregister("after-call.dynamodb.BatchGetItem", self._on_batch_get)

    def _on_send(self, event_name: str, **_: Any) -> None:
        _, service, operation = event_name.split(".", 2)
        with self._lock:
            self.requests[f"{service}.{operation}"] += 1
        # returning None lets botocore send the request

    def _on_query(self, parsed: Mapping[str, Any], **_: Any) -> None:
        with self._lock:
            self.query_items["Count"] += int(parsed.get("Count", 0))
            self.query_items["ScannedCount"] += int(parsed.get("ScannedCount", 0))

    def _on_get(self, parsed: Mapping[str, Any], **_: Any) -> None:
        with self._lock:
            self.items_got["GetItem"] += 1 if parsed.get("Item") else 0

    def _on_batch_get(self, parsed: Mapping[str, Any], **_: Any) -> None:
        with self._lock:
            self.items_got["BatchGetItem"] += sum(len(v) for v in parsed.get("Responses", {}).values())

    def snapshot(self) -> Counter[str]:
        with self._lock:
            return Counter(self.requests)


@contextmanager
def count_layer_requests(services: tuple[str, ...] = ("dynamodb", "sqs", "secretsmanager", "events", "s3")
                         ) -> Iterator[RequestCounter]:
    """Count the requests of the layer's own clients (``shopdesk.dal.aws.client`` caches one per
    service and process, so hooking them sees every request a handler makes) while inside."""
    use_layer()
    from shopdesk.dal.aws import client

    counter = RequestCounter()
    clients = [client(service) for service in services]
    for each in clients:
        counter.attach(each)
    try:
        yield counter
    finally:
        for each in clients:
            counter.detach(each)


# ------------------------------------------------------------------------------ events

def twilio_form(**fields: str) -> str:
    base = {"ApiVersion": "2010-04-01", "AccountSid": "AC00000000000000000000000000000000", "NumMedia": "0",
            "NumSegments": "1", "SmsStatus": "received"}
    return urlencode({**base, **fields})


def signed_twilio_event(path: str, body: str, token: str = AUTH_TOKEN) -> dict[str, Any]:
    """A Twilio webhook POST as API Gateway (HTTP API, payload 2.0) hands it to Lambda."""
    use_layer()
    from shopdesk.channels import twilio

    signature = twilio.sign(PUBLIC_BASE_URL + path, twilio.parse_form(body), token)
    return http_event("POST", path, body, {"content-type": "application/x-www-form-urlencoded",
                                           "x-twilio-signature": signature, "user-agent": "TwilioProxy/1.1"})


def http_event(method: str, path: str, body: str | None = None, headers: Mapping[str, str] | None = None,
               claims: Mapping[str, str] | None = None) -> dict[str, Any]:
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0", "routeKey": f"{method} {path}", "rawPath": path, "rawQueryString": "",
        "headers": {k.lower(): v for k, v in (headers or {}).items()},
        "requestContext": {
            "accountId": ACCOUNT, "apiId": "bench", "domainName": PUBLIC_BASE_URL.split("//", 1)[1],
            "domainPrefix": "desk", "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                                             "sourceIp": "203.0.113.9", "userAgent": "bench"},
            "requestId": uuid.uuid4().hex, "routeKey": f"{method} {path}", "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"), "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if body is not None:
        event["body"] = body
    if claims is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": dict(claims), "scopes": None}}
    return event


def scheduled_event() -> dict[str, Any]:
    """What EventBridge Scheduler hands the sweep every minute."""
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.scheduler",
            "account": ACCOUNT, "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "region": REGION,
            "resources": [], "detail": {}}


def sqs_event(bodies: list[dict[str, Any]], group: str, queue: str = "bench.fifo") -> dict[str, Any]:
    """A Lambda SQS (FIFO) event carrying these JSON bodies."""
    records = [{
        "messageId": str(uuid.uuid4()), "receiptHandle": uuid.uuid4().hex, "body": json.dumps(body),
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0", "SequenceNumber": str(i + 1),
                       "MessageGroupId": group, "SenderId": "bench", "MessageDeduplicationId": uuid.uuid4().hex,
                       "ApproximateFirstReceiveTimestamp": "0"},
        "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue}", "awsRegion": REGION,
    } for i, body in enumerate(bodies)]
    return {"Records": records}


# ------------------------------------------------------------------------------ reporting

def machine() -> dict[str, Any]:
    from importlib.metadata import version

    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(), "implementation": platform.python_implementation(),
        "platform": platform.platform(), "machine": platform.machine(), "cpu_count": os.cpu_count(),
        "versions": {name: version(name) for name in ("boto3", "botocore", "moto", "pydantic",
                                                      "aws-lambda-powertools")},
    }


# ------------------------------------------------------------------------------ results

RESULTS = ROOT / "bench" / "results.json"


def save_result(key: str, result: dict[str, Any], path: Path = RESULTS, *, dated: bool = True) -> None:
    """Write one benchmark's figures under ``key`` of bench/results.json: read, change that key, write back,
    so every other benchmark's figures stay as they were."""
    if dated:
        result = {**result, "date": datetime.now(UTC).isoformat(timespec="seconds")}
    results = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    results[key] = result
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten: bench/{path.name} ({key})")
